#!/bin/bash
# Regenerates the WireGuard generic netlink fixtures in this directory. The development host's
# kernel has no WireGuard, so this boots Debian's kernel under QEMU with virtme-ng (the VM sees
# the host file system read-only) and runs `wg` there under strace; the VM prints each fixture
# between "=== FILE name" and "=== END" lines, which this script writes here.
# Needs: pip install virtme-ng; apt-get install qemu-system-x86 linux-image-amd64 busybox-static.
# Usage: capture-vm.sh [/boot/vmlinuz-VERSION]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ "${1:-}" != --inside ]; then
    kernel="${1:-$(ls /boot/vmlinuz-* | head -n1)}"
    out=$(mktemp)
    trap 'rm -f "$out"' EXIT
    vng --run "$kernel" --disable-kvm --user root -- "bash $here/capture-vm.sh --inside" > "$out" 2>&1 || true
    grep -v '^=== \|^# \|^[0-9a-f][0-9a-f] ' "$out" || true
    python3 - "$out" "$here" <<'PY'
import sys
name, lines = None, []
for line in open(sys.argv[1], errors="replace").read().splitlines():
    line = line.rstrip("\r")
    if line.startswith("=== FILE "):
        name, lines = line[9:].strip(), []
    elif line == "=== END" and name:
        open(f"{sys.argv[2]}/{name}.txt", "w").write("\n".join(lines) + "\n")
        print("wrote", name)
        name = None
    elif name:
        lines.append(line)
PY
    exit 0
fi

# Inside the VM, as root.
set +e
convert="$here/../strace-to-fixture.py"
work=$(mktemp -d)
cd "$work"
modprobe wireguard
# Test keys, used nowhere else.
KEY_A=8PjE2CtESbxf7od0hDwZp3YBywA4kzVmRERMPoRUFH4=   # public AqiQXiXIZSVHvQ0x2GuJ3HzIMcRS5yzMtV7OuHfTLH4=
KEY_B=yF2wFI5mp9kgLmvnfjkODQJTDCzLeKhX7VxOw4/Wb3E=   # public iO2ja47NyA7xIBpFsmOs8TCXuInZ/hU8gKSXRCru3EI=
KEY_C=yDsjUSUuDfUzrj3BN3+pEGWwLAn/W2kktFOdsmjX53Y=   # public eqDrrDgtSommGI1RwtWpiVzM7GhmVK8hfv28xJ+eWGI=
PUB_A=AqiQXiXIZSVHvQ0x2GuJ3HzIMcRS5yzMtV7OuHfTLH4=
PUB_B=iO2ja47NyA7xIBpFsmOs8TCXuInZ/hU8gKSXRCru3EI=
PUB_D=9V3fB75qvCVGrRXHTSy2c+nR9xa8YOA7pSipT0wytzM=
PUB_E=NjYL3B8by+3DhmfHeYJutb+ZqFKAC9VuuDFdKzHfdys=
PSK=vVvuWCKtmfIWPmTIwsB2DQVD+/ejayzALAr3U2g8tDM=
echo "$KEY_A" > key_a; echo "$KEY_B" > key_b; echo "$KEY_C" > key_c; echo "$PSK" > psk

# Two namespaces joined by a veth: wga in a, wgb in b, so wga can shake hands with a real peer.
ip netns add a; ip netns add b
ip link add va netns a type veth peer name vb netns b
ip -n a addr add 192.0.2.1/24 dev va; ip -n a link set va up; ip -n a link set lo up
ip -n b addr add 192.0.2.2/24 dev vb; ip -n b link set vb up; ip -n b link set lo up
ip -n a link add wga type wireguard; ip -n b link add wgb type wireguard
ip -n a link add wgc type wireguard

set -x
# trace NAMESPACE COMMAND...: its strace output, every netlink byte sent and received on fds 3-9.
trace() { local ns="$1"; shift; ip netns exec "$ns" strace -f -e trace=sendto,sendmsg,recvmsg,recvfrom -e write=3,4,5,6,7,8,9 -e read=3,4,5,6,7,8,9 -xx -s 65536 "$@" 2>&1 >/dev/null; }

# fixture NAME MODE COMMENT... < strace output: the generic netlink socket's messages.
fixture() {
    local name="$1" mode="$2"; shift 2
    echo "=== FILE $name"
    printf '# %s\n' "$@"
    echo "# kernel $(uname -r), wireguard-tools $(dpkg-query -W -f '${Version}' wireguard-tools): $mode"
    "$convert" "$mode" nlctrl
    echo "=== END"
}

set_cmd=(wg set wga private-key key_a listen-port 51820 fwmark 0x1234
    peer "$PUB_B" preshared-key psk endpoint 192.0.2.2:51821 persistent-keepalive 25 allowed-ips 10.9.0.2/32,fd09::2/128
    peer "$PUB_D" endpoint '[fd00::3]:51822' allowed-ips 10.9.3.0/24
    peer "$PUB_E" remove)
out=$(trace a "${set_cmd[@]}")
fixture genl_ctrl_getfamily_wireguard first-sent "${set_cmd[*]}" "(the family lookup it starts with)" <<< "$out"
fixture wg_set_device all-sent "${set_cmd[*]}" "(the first block is the family lookup)" <<< "$out"
out=$(trace a wg set wga listen-port 51820)
fixture genl_ctrl_getfamily_wireguard_reply all-received "wg set wga listen-port 51820" "(the family lookup's reply, then the ACK of the set)" <<< "$out"

ip netns exec b wg set wgb private-key key_b listen-port 51821 peer "$PUB_A" preshared-key psk endpoint 192.0.2.1:51820 allowed-ips 10.9.0.1/32,fd09::1/128
ip -n a addr add 10.9.0.1/24 dev wga; ip -n a link set wga up
ip -n b addr add 10.9.0.2/24 dev wgb; ip -n b link set wgb up
# No ping here: one UDP datagram each way starts the handshake and counts some bytes.
ip netns exec a bash -c 'echo hello > /dev/udp/10.9.0.2/9'
sleep 3
ip netns exec b bash -c 'echo hello > /dev/udp/10.9.0.1/9'
sleep 1

out=$(trace a wg show wga dump)
text=$(ip netns exec a wg show wga dump)
fixture wg_get_device_request last-sent "wg show wga dump" <<< "$out"
mapfile -t lines <<< "wg show wga dump printed (tab-separated):
$text"
fixture wg_get_device_replies all-received "${lines[@]}" <<< "$out"

# A config big enough that wg splits it over several SET messages and the kernel splits its
# dump: three peers with 300, 2 and 200 allowed IPs.
{
    echo "[Interface]"; echo "PrivateKey = $KEY_C"; echo "ListenPort = 51830"
    echo "[Peer]"; echo "PublicKey = $PUB_A"; echo "Endpoint = 192.0.2.9:51820"
    for i in $(seq 0 299); do echo "AllowedIPs = 10.100.$((i / 250)).$((i % 250))/32"; done
    echo "[Peer]"; echo "PublicKey = $PUB_B"; echo "PersistentKeepalive = 10"; echo "AllowedIPs = 10.101.0.0/16, fd10::/64"
    echo "[Peer]"; echo "PublicKey = $PUB_D"
    for i in $(seq 0 199); do printf 'AllowedIPs = fd20::%x/128\n' "$i"; done
} > big.conf
out=$(trace a wg setconf wgc big.conf)
mapfile -t lines <<< "wg setconf wgc big.conf, where big.conf is:
$(sed 's/^PrivateKey.*/PrivateKey = (KEY_C in capture-vm.sh)/' big.conf)"
fixture wg_setconf_split all-sent "${lines[@]}" "(the first block is the family lookup)" <<< "$out"
out=$(trace a wg show wgc dump)
text=$(ip netns exec a wg show wgc dump | awk -F'\t' 'NF > 5 { n = split($4, ips, ","); $4 = n " allowed IPs, first " ips[1] ", last " ips[n] } { print }' OFS='\t')
mapfile -t lines <<< "wg show wgc dump printed (allowed IPs summarised):
$text"
fixture wg_get_device_split_replies all-received "${lines[@]}" <<< "$out"
echo "capture done" >&2
