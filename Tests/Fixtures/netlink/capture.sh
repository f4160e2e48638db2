#!/bin/bash
# Regenerates the rtnetlink fixtures in this directory from the real `ip` tool (iproute2), run
# as root: each command runs under strace in a throwaway network namespace and the bytes of the
# last netlink message it sends are written to NAME.txt, headed by the command.
# nlmsg_seq (bytes 8-11) is normalised to 1; nlmsg_pid is already 0 in requests.
set -euo pipefail
cd "$(dirname "$0")"
ns="nlfixture$$"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
ip netns add "$ns"
# A veth pair stands in for the WireGuard link (no wireguard or dummy module here): d1 gets
# ifindex 2 and d0 ifindex 3 in the fresh namespace.
ip netns exec "$ns" ip link add d0 type veth peer name d1

# capture NAME [first] COMMAND...: "first" takes the first sendmsg instead of the last message.
capture() {
    local name="$1"; shift
    local pick=last
    if [ "$1" = first ]; then pick=first; shift; fi
    local trace
    trace=$(ip netns exec "$ns" strace -f -e trace=sendto,sendmsg -e write=3,4 -xx -s 4096 "$@" 2>&1 >/dev/null || true)
    {
        echo "# $*"
        echo "# strace -f -e trace=sendto,sendmsg -e write=3,4 -xx in a fresh namespace (iproute2 $(ip -V | sed 's/.*iproute2-//'));"
        echo "# $pick netlink message sent, nlmsg_seq normalised to 1"
        python3 - "$pick" "$trace" <<'PY'
import sys
dumps, current = [], None
for line in sys.argv[2].splitlines():
    if line.startswith(("sendto(", "sendmsg(")):
        current = []
        if line.startswith("sendmsg(") or sys.argv[1] == "last":
            dumps.append(current)
    elif line.startswith(" | ") and current is not None:
        current.extend(int(x, 16) for x in line[10:58].split())
data = bytearray(dumps[0] if sys.argv[1] == "first" else dumps[-1])
data[8:12] = (1).to_bytes(4, "little")
for i in range(0, len(data), 16):
    print(" ".join(f"{b:02x}" for b in data[i:i + 16]))
PY
    } > "$name.txt"
    echo "$name: $*"
}

capture rtm_newlink_wireguard ip link add wg0 type wireguard
capture rtm_getlink first ip link show dev d0
capture rtm_setlink_mtu ip link set dev d0 mtu 1420
capture rtm_setlink_up ip link set dev d0 up
capture rtm_newaddr_v4 ip addr add 10.0.0.1/24 dev d0
capture rtm_newaddr_v6 ip addr add fd00::1/64 dev d0
capture rtm_newaddr_v4_replace ip addr replace 10.0.0.1/24 dev d0
capture rtm_newroute_v4 ip route add 10.1.0.0/16 dev d0
capture rtm_newroute_v6_replace ip route replace fd01::/48 dev d0
capture rtm_dellink ip link del dev d0
