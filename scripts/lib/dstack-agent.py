#!/usr/bin/env python3
"""A stand-in for the dstack guest agent (the service behind /var/run/dstack.sock), for tests.

It speaks the agent's RPC API as the official SDKs call it: HTTP/1.1 POST of a JSON body to
/Info, /GetKey and /Version (GET with query parameters is accepted too, as the real agent does),
answering 200 with `Content-Type: application/json`, 400 with {"error": ...} for a bad request
and 404 for an unknown path. Connections are kept alive unless the client asks to close.

Key derivation (deterministic, documented so tests can predict every key; NOT the real KMS's):

    app_key = SHA-256("dstack-vpn stand-in app " + app_id)      app_id: lowercase hex, no 0x
    key     = HMAC-SHA256(app_key, path)                        path: the request's UTF-8 bytes

`key` is 32 bytes, like the real agent's secp256k1 (and ed25519) keys; as there, it depends only
on the app and the path, never on `purpose`, `algorithm` or the instance. `signature_chain` holds
two 65-byte hex strings shaped like the real chain (signature + recovery id, then the app key's
signature by the KMS) but they are HMACs, not verifiable signatures.

Usage:
  dstack-agent.py [serve] (--socket PATH | --listen 127.0.0.1:PORT) --app-id HEX --instance-id HEX
                  [--app-name NAME] [--mode MODE]
  dstack-agent.py derive --app-id HEX --path PATH            the GetKey key, hex
  dstack-agent.py wg-private-key --app-id HEX --node NAME    base64 of the first 32 bytes of
                                                             GetKey(dstack-vpn/wireguard/NAME)
  dstack-agent.py wg-public-key --app-id HEX --node NAME     its WireGuard (X25519) public key

MODE: ok (default); chunked (the same answers, Transfer-Encoding: chunked, written in several
small pieces); http-500 (every RPC answers 500 {"error": ...}); garbage (200, a body that is
not JSON); not-http (bytes that are not an HTTP response, then close); short-key (GetKey's key
is 16 bytes); bad-key (GetKey's key is not hex); hang (reads the request, never answers).

Once listening it prints `ready SOCKET` or `ready 127.0.0.1:PORT` on stdout (PORT 0 picks a free
port). It logs one line per request on stderr: `METHOD PATH [path=...]`. It serves until killed.
"""

import argparse
import base64
import hashlib
import hmac
import ipaddress
import json
import os
import socket
import socketserver
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

MODES = ("ok", "chunked", "http-500", "garbage", "not-http", "short-key", "bad-key", "hang")
WIREGUARD_PATH_PREFIX = "dstack-vpn/wireguard/"
MAX_BODY = 64 * 1024
# The event type dstack gives its runtime events in RTMR3's event log.
DSTACK_RUNTIME_EVENT_TYPE = 0x08000001


# --- derivation -------------------------------------------------------------------------------

def normalize_hex(value, name, size=None):
    text = value.lower()
    if text.startswith("0x"):
        text = text[2:]
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise SystemExit(f"dstack-agent: {name} must be hex: {value!r}")
    if not raw or (size is not None and len(raw) != size):
        raise SystemExit(f"dstack-agent: {name} must be {size or 'some'} bytes of hex: {value!r}")
    return text


def app_key(app_id):
    return hashlib.sha256(b"dstack-vpn stand-in app " + app_id.encode()).digest()


def derive(app_id, path):
    """The 32-byte key GetKey returns for this app and path."""
    return hmac.new(app_key(app_id), path.encode(), hashlib.sha256).digest()


def signature_chain(app_id, path, purpose):
    """Two 65-byte strings shaped like the real chain; HMACs, not signatures."""
    key = app_key(app_id)
    first = hmac.new(key, f"sig:{purpose}:{path}".encode(), hashlib.sha512).digest()[:65]
    first += hmac.new(key, b"pad:" + first, hashlib.sha256).digest()[:65 - len(first)]
    second = hashlib.sha512(b"kms:" + key).digest() + b"\x1b"
    return [first.hex(), second.hex()]


# --- X25519 (RFC 7748), for WireGuard public keys -------------------------------------------------

_P = 2**255 - 19


def x25519(scalar, u_bytes):
    k = bytearray(scalar)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    k = int.from_bytes(k, "little")
    u = int.from_bytes(u_bytes, "little") & ((1 << 255) - 1)
    x1, x2, z2, x3, z3, swap = u, 1, 0, u, 1, 0
    for t in reversed(range(255)):
        bit = (k >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = x2 + z2, x2 - z2
        aa, bb = a * a % _P, b * b % _P
        e = (aa - bb) % _P
        c, d = x3 + z3, x3 - z3
        da, cb = d * a % _P, c * b % _P
        x3 = (da + cb) ** 2 % _P
        z3 = x1 * (da - cb) ** 2 % _P
        x2 = aa * bb % _P
        z2 = e * (aa + 121665 * e) % _P
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, _P - 2, _P) % _P).to_bytes(32, "little")


def wg_private_key(app_id, node):
    return derive(app_id, WIREGUARD_PATH_PREFIX + node)[:32]


def wg_public_key(app_id, node):
    return base64.b64encode(x25519(wg_private_key(app_id, node), (9).to_bytes(32, "little"))).decode()


# --- what the agent reports -------------------------------------------------------------------------

def h(label, size, *parts):
    """Deterministic stand-in measurement bytes."""
    digest = hashlib.sha512(("|".join([label, *parts])).encode()).digest()
    while len(digest) < size:
        digest += hashlib.sha512(digest).digest()
    return digest[:size]


def replay(digests):
    mr = bytes(48)
    for digest in digests:
        mr = hashlib.sha384(mr + digest.ljust(48, b"\0")).digest()
    return mr


def info(app_id, instance_id, app_name):
    app_compose = json.dumps({
        "manifest_version": 2, "name": app_name, "runner": "docker-compose",
        "docker_compose_file": "services:\n  vpn:\n    image: dstack-vpn:latest\n",
        "kms_enabled": True, "gateway_enabled": True, "public_logs": False, "public_sysinfo": True,
        "public_tcbinfo": True, "local_key_provider_enabled": False, "no_instance_id": False,
        "secure_time": False,
    }, indent=2)
    compose_hash = hashlib.sha256(app_compose.encode()).digest()
    device_id = h("device", 32, instance_id)
    os_image_hash = h("os-image", 32)
    key_provider = json.dumps({"name": "kms", "id": h("kms", 32).hex()})
    events = []
    for imr in range(3):
        for n in range(3):
            digest = h("boot", 48, str(imr), str(n))
            events.append({"imr": imr, "event_type": 0x80000001 + n, "digest": digest.hex(), "event": "",
                           "event_payload": h("payload", 16, str(imr), str(n)).hex()})
    for name, payload in (("system-preparing", b""), ("app-id", bytes.fromhex(app_id)),
                          ("compose-hash", compose_hash), ("instance-id", bytes.fromhex(instance_id)),
                          ("boot-mr-done", b""), ("key-provider", key_provider.encode()),
                          ("system-ready", b"")):
        digest = hashlib.sha384(DSTACK_RUNTIME_EVENT_TYPE.to_bytes(4, "little") + b":" + name.encode()
                                + b":" + payload).digest()
        events.append({"imr": 3, "event_type": DSTACK_RUNTIME_EVENT_TYPE, "digest": digest.hex(),
                       "event": name, "event_payload": payload.hex()})
    rtmrs = {i: replay([bytes.fromhex(e["digest"]) for e in events if e["imr"] == i]) for i in range(4)}
    mrtd = h("mrtd", 48)
    mr_aggregated = hashlib.sha256(mrtd + b"".join(rtmrs[i] for i in range(4))).digest()
    vm_config = json.dumps({"spec_version": 1, "os_image_hash": os_image_hash.hex(), "cpu_count": 2,
                            "memory_size": 2147483648, "qemu_single_pass_add_pages": False,
                            "pic": False, "pci_hole64_size": 0, "hugepages": False, "num_gpus": 0,
                            "num_nvswitches": 0, "hotplug_off": False})
    tcb_info = json.dumps({
        "mrtd": mrtd.hex(), "rtmr0": rtmrs[0].hex(), "rtmr1": rtmrs[1].hex(), "rtmr2": rtmrs[2].hex(),
        "rtmr3": rtmrs[3].hex(), "mr_aggregated": mr_aggregated.hex(), "os_image_hash": os_image_hash.hex(),
        "compose_hash": compose_hash.hex(), "device_id": device_id.hex(), "event_log": events,
        "app_compose": app_compose,
    }, indent=2)
    return {
        "app_id": app_id,
        "instance_id": instance_id,
        # The real agent answers "" until the KMS has issued its demo certificate.
        "app_cert": "",
        "tcb_info": tcb_info,
        "app_name": app_name,
        "device_id": device_id.hex(),
        "mr_aggregated": mr_aggregated.hex(),
        "os_image_hash": os_image_hash.hex(),
        "key_provider_info": key_provider,
        "compose_hash": compose_hash.hex(),
        "vm_config": vm_config,
        "cloud_vendor": "QEMU",
        "cloud_product": "Standard PC (Q35 + ICH9, 2009)",
    }


# --- HTTP ---------------------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "dstack-agent-stand-in"
    sys_version = ""
    # A client that stops mid-request does not hold a thread forever.
    timeout = 60

    def log_message(self, fmt, *args):  # requests are logged by log_request below
        pass

    def log_request(self, code="-", size="-"):
        pass

    def note(self, text):
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def do_GET(self):
        self.rpc(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)))

    def do_POST(self):
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self.read_chunked()
            if body is None:
                return self.send_json(400, {"error": "bad chunked body"})
        else:
            try:
                length = int(length or 0)
            except ValueError:
                return self.send_json(400, {"error": "bad Content-Length"})
            if length < 0 or length > MAX_BODY:
                self.close_connection = True
                return self.send_json(413, {"error": "body too large"})
            body = self.rfile.read(length)
        if not body.strip():
            args = {}
        else:
            try:
                args = json.loads(body)
            except ValueError:
                args = None
            if not isinstance(args, dict):
                self.note(f"{self.command} {self.path} (body is not a JSON object)")
                return self.send_json(400, {"error": "the body is not a JSON object"})
        self.rpc(args)

    def read_chunked(self):
        body = b""
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                return None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return body
            body += self.rfile.read(size)
            self.rfile.readline(1024)
            if len(body) > MAX_BODY:
                return None

    def rpc(self, args):
        method = urllib.parse.urlsplit(self.path).path
        path_arg = args.get("path") if isinstance(args.get("path"), str) else None
        self.note(f"{self.command} {method}" + (f" path={path_arg}" if path_arg is not None else ""))
        if method not in ("/Info", "/GetKey", "/Version"):
            return self.send_json(404, {"error": f"no such method: {method}"})
        mode = self.server.mode
        if mode == "hang":
            self.close_connection = True
            while not self.server.stopping.wait(3600):
                pass
            return
        if mode == "not-http":
            self.close_connection = True
            self.wfile.write(b"\x16\x03\x01 this is not an HTTP response\r\n\r\n")
            self.wfile.flush()
            return
        if mode == "http-500":
            return self.send_json(500, {"error": "stand-in: internal error (http-500 mode)"})
        if mode == "garbage":
            return self.send_body(200, b"{\"app_id\": <<garbage>> \x00\xff not json")
        if method == "/Version":
            return self.send_json(200, {"version": "0.5.7", "rev": "stand-in"})
        if method == "/Info":
            return self.send_json(200, info(self.server.app_id, self.server.instance_id, self.server.app_name))
        algorithm = args.get("algorithm", "secp256k1") or "secp256k1"
        if algorithm not in ("secp256k1", "k256", "ed25519"):
            return self.send_json(400, {"error": "Unsupported algorithm"})
        path = path_arg or ""
        purpose = args.get("purpose") if isinstance(args.get("purpose"), str) else ""
        key = derive(self.server.app_id, path).hex()
        if mode == "short-key":
            key = key[:32]
        elif mode == "bad-key":
            key = "zz" + key[2:]
        self.send_json(200, {"key": key, "signature_chain": signature_chain(self.server.app_id, path, purpose)})

    def send_json(self, status, value):
        self.send_body(status, json.dumps(value).encode())

    def send_body(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if self.server.mode == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            # Several small writes with pauses, so the client sees the body arrive in pieces.
            for start in range(0, len(body), 97):
                piece = body[start:start + 97]
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                self.wfile.flush()
                time.sleep(0.002)
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        self.wfile.flush()


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        connection, _ = super().get_request()
        return connection, ("unix", 0)


class TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(options):
    mode = options.mode
    if options.socket:
        try:
            os.unlink(options.socket)
        except FileNotFoundError:
            pass
        server = UnixServer(options.socket, Handler)
        where = options.socket
    else:
        host, _, port = options.listen.rpartition(":")
        if not ipaddress.ip_address(host).is_loopback:
            raise SystemExit("dstack-agent: --listen takes a loopback address only")
        server = TCPServer((host, int(port)), Handler)
        where = "%s:%d" % server.server_address[:2]
    server.mode = mode
    server.app_id = options.app_id
    server.instance_id = options.instance_id
    server.app_name = options.app_name
    server.stopping = threading.Event()
    print(f"ready {where}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.stopping.set()
        if options.socket:
            try:
                os.unlink(options.socket)
            except OSError:
                pass


def main(argv):
    commands = ("serve", "derive", "wg-private-key", "wg-public-key")
    if not argv or argv[0] not in commands + ("-h", "--help"):
        argv = ["serve"] + argv
    parser = argparse.ArgumentParser(prog="dstack-agent.py", description="A dstack guest agent stand-in.")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve")
    where = s.add_mutually_exclusive_group(required=True)
    where.add_argument("--socket")
    where.add_argument("--listen")
    s.add_argument("--app-id", required=True)
    s.add_argument("--instance-id", required=True)
    s.add_argument("--app-name", default="dstack-vpn")
    s.add_argument("--mode", choices=MODES, default="ok")
    d = sub.add_parser("derive")
    d.add_argument("--app-id", required=True)
    d.add_argument("--path", required=True)
    for name in ("wg-private-key", "wg-public-key"):
        w = sub.add_parser(name)
        w.add_argument("--app-id", required=True)
        w.add_argument("--node", required=True)
    options = parser.parse_args(argv)
    options.app_id = normalize_hex(options.app_id, "--app-id")
    if options.command == "serve":
        options.instance_id = normalize_hex(options.instance_id, "--instance-id")
        try:
            serve(options)
        except KeyboardInterrupt:
            pass
    elif options.command == "derive":
        print(derive(options.app_id, options.path).hex())
    elif options.command == "wg-private-key":
        print(base64.b64encode(wg_private_key(options.app_id, options.node)).decode())
    else:
        print(wg_public_key(options.app_id, options.node))


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    main(sys.argv[1:])
