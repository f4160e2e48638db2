#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into Fuzz/corpus/TARGET/ (committed; small files).

Seeds come from the seed configuration (node-a / node-b), README.md's environment table, the
wg-quick format vpn-init renders, the netlink captures in Tests/Fixtures, and wireguard-go's
UAPI responses. The keys below are throwaway test keys, used nowhere else.
Usage: Fuzz/make-corpus.py   (rewrites the seed files; files found by fuzzing are kept)
"""
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "Fuzz", "corpus")

PRIVATE_A = "iMaGXo0sK9cMUqw6Oc8lV7gESYFKLa3ZLfVo3QiK4l8="
PUBLIC_A = "qKNxSoANVFm3YblEC+2Rik39oUxCrlM7ZRzxHe0ATCY="
PUBLIC_B = "0c8Ifdw0oCTDZ2U54bl7whGUyOO9/mjwB9oBIiveLHM="
PUBLIC_C = "JFQvEwGM8ObZkyl/O8S5p8OVIN6ZAm6XcekfMT7kHHk="
PRESHARED = "3yWqK0dSQ8/ABZoNUq7FeyQ7jMuQZJ39chULl94K1tk="


def write(target, name, data):
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(directory, "seed-" + name), "wb") as f:
        f.write(data)


def environment_seeds():
    node_a = {
        "WG_ADDRESS": "10.0.0.1/24",
        "WG_PEER_B_PUBLIC_KEY": PUBLIC_B,
        "WG_PEER_B_ALLOWED_IPS": "10.0.0.2/32",
        "WG_PEER_B_ENDPOINT": "node-b:51820",
        "WG_PEER_B_PERSISTENT_KEEPALIVE": "25",
    }
    every_setting = dict(node_a, **{
        "VPN_DATA_DIR": "/data",
        "WG_INTERFACE": "wg0",
        "WG_LISTEN_PORT": "51820",
        "WG_PRIVATE_KEY_FILE": "/data/privatekey",
        "WG_PUBLIC_KEY_EXPORT": "/shared/a.pub",
        "WG_MTU": "1420",
        "WG_FWMARK": "0x1234",
        "WG_FORWARD": "true",
        "WG_MASQUERADE": "eth0,eth1",
        "WG_IMPLEMENTATION": "userspace",
        "WG_USERSPACE_BIN": "/usr/bin/wireguard-go",
        "WG_TCP_LISTEN": "0.0.0.0:443",
        "WG_PEER_KEY_WAIT": "60",
        "VPN_SHUTDOWN_GRACE": "8.5",
        "LOG_LEVEL": "debug",
    })
    seeds = {
        "node-a": node_a,
        "node-b": {
            "WG_ADDRESS": "10.0.0.2/24", "WG_PUBLIC_KEY_EXPORT": "/shared/b.pub",
            "WG_PEER_A_PUBLIC_KEY_FILE": "/shared/a.pub", "WG_PEER_A_ALLOWED_IPS": "10.0.0.1/32",
            "WG_PEER_A_ENDPOINT": "172.31.0.1:51820", "WG_PEER_A_PRESHARED_KEY_FILE": "/run/secrets/psk",
        },
        "every-setting": every_setting,
        "inline-key-v6": {
            "WG_ADDRESS": "10.0.0.1/24, fd00::1/64", "WG_PRIVATE_KEY": PRIVATE_A, "WG_MTU": "1280",
            "WG_PEER_PUBLIC_KEY": PUBLIC_B, "WG_PEER_ALLOWED_IPS": "10.0.0.0/24,fd00::/64",
            "WG_PEER_ENDPOINT": "[fd00::2]:51820",
        },
        "tcp-tls": {
            "WG_ADDRESS": "10.0.0.1/24", "WG_PEER_HUB_PUBLIC_KEY": PUBLIC_B, "WG_PEER_HUB_ALLOWED_IPS": "10.0.0.0/24",
            "WG_PEER_HUB_TCP_ENDPOINT": "gateway.example:443", "WG_PEER_HUB_TLS_SNI": "app-443.gateway.example",
            "WG_PEER_HUB_TLS_CA_FILE": "/etc/ssl/ca.pem", "WG_PEER_C2_PUBLIC_KEY": PUBLIC_C,
            "WG_PEER_C2_ALLOWED_IPS": "10.1.0.0/16", "WG_MASQUERADE": "off", "WG_FORWARD": "no",
        },
        "hub-no-peers": {"WG_ADDRESS": "10.0.0.1/24", "WG_IMPLEMENTATION": "kernel", "WG_FWMARK": "51820"},
        "typos": dict(node_a, WG_ADRESS="10.0.0.1/24", WG_PEER_b_ENDPOINT="x:1", WG_PEER_B_PRESHARED_KEY=PRESHARED),
        "bad-values": dict(node_a, WG_LISTEN_PORT="70000", WG_MTU="+1420", WG_PEER_B_ENDPOINT="[fd00::2",
                           WG_PEER_B_PERSISTENT_KEEPALIVE="-1", WG_INTERFACE="wg 0", LOG_LEVEL=""),
    }
    for name, environment in seeds.items():
        write("environment", name, "".join(f"{k}={v}\n" for k, v in environment.items()))


def wg_quick_seeds():
    interface = f"[Interface]\nAddress = 10.0.0.1/24\nListenPort = 51820\nMTU = 1420\nPrivateKey = {PRIVATE_A}\n"
    peer_b = (f"\n[Peer]\n# Name = B\nPublicKey = {PUBLIC_B}\nAllowedIPs = 10.0.0.2/32\n"
              "Endpoint = node-b:51820\nPersistentKeepalive = 25\n")
    seeds = {
        "node-a": interface + peer_b,
        "psk-v6": (f"[interface]\nprivatekey={PRIVATE_A}\naddress = fd00::1/64\naddress = 10.0.0.1/24\nFwMark = 0x1234\n"
                   f"[peer]\npublickey = {PUBLIC_B}\npresharedkey = {PRESHARED}\nallowedips = fd00::/64, 10.0.0.0/24\n"
                   "endpoint = [fd00::2]:51820\npersistentkeepalive = off\r\n"),
        "two-peers": interface + peer_b + f"\n[Peer]\nPublicKey = {PUBLIC_C}\nAllowedIPs = 10.1.0.0/16\n",
        "errors": "[Interface]\nDNS = 1.1.1.1\nPrivateKey = short\nMTU = 100\n[Peer]\nEndpoint = x\n[Bogus]\n",
    }
    for name, text in seeds.items():
        write("wg-quick", name, text)


def fixture_datagrams(path):
    datagrams, current = [], bytearray()
    for line in open(path):
        line = line.strip()
        if line.startswith("#"):
            continue
        if not line:
            if current:
                datagrams.append(bytes(current))
                current = bytearray()
            continue
        current += bytes(int(pair, 16) for pair in line.split())
    if current:
        datagrams.append(bytes(current))
    return datagrams


def netlink_seeds():
    fixtures = os.path.join(ROOT, "Tests", "Fixtures")
    for folder in ("netlink", "wireguard"):
        for name in sorted(os.listdir(os.path.join(fixtures, folder))):
            if not name.endswith(".txt"):
                continue
            datagrams = fixture_datagrams(os.path.join(fixtures, folder, name))
            body = b"".join(struct.pack("<H", len(d)) + d for d in datagrams)
            stem = name[:-4]
            write("netlink", f"{stem}-decode", bytes([0]) + body)
            if "reply" in stem or "replies" in stem:
                # The same replies read by each request, with sequence numbers rewritten.
                for mode in (0x81, 0x82, 0x83):
                    write("netlink", f"{stem}-request{mode & 3}", bytes([mode]) + body)


def uapi_seeds():
    private = "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a"
    peer = "b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33"
    other = "58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376"
    psk = "188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52"
    seeds = {
        "get": (f"private_key={private}\nlisten_port=51820\nfwmark=4660\npublic_key={peer}\npreshared_key={psk}\n"
                "protocol_version=1\nendpoint=[fd00::3]:51822\nlast_handshake_time_sec=1700000000\n"
                "last_handshake_time_nsec=123\ntx_bytes=448\nrx_bytes=324\npersistent_keepalive_interval=25\n"
                f"allowed_ip=10.9.0.2/32\nallowed_ip=fd09::/64\npublic_key={other}\npreshared_key={'0' * 64}\n"
                "endpoint=192.0.2.1:51820\nlast_handshake_time_sec=0\nerrno=0\n\n"),
        "empty": "errno=0\n\n",
        "set-error": "errno=-22\n\n",
        "set-ok": "errno=0\n\n",
    }
    for name, text in seeds.items():
        write("uapi", name, text)


def metrics_request_seeds():
    requests = {
        "scrape": b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9586\r\nUser-Agent: Prometheus/2.42.0\r\n"
                  b"Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n\r\n",
        "healthz": b"GET /healthz?max_handshake_age=120 HTTP/1.0\r\n\r\n",
        "head": b"HEAD / HTTP/1.1\r\n\r\n",
        "post-body": b"POST /metrics HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd",
        "partial": b"GET /metrics HTTP/1.1\r\nHost: x\r\n",
        "h2-preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    }
    for name, data in requests.items():
        write("metrics-request", name, data)


def main():
    metrics_request_seeds()
    environment_seeds()
    wg_quick_seeds()
    netlink_seeds()
    uapi_seeds()
    for target in sorted(os.listdir(CORPUS)):
        print(f"{target}: {len(os.listdir(os.path.join(CORPUS, target)))} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
