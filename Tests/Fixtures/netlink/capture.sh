#!/bin/bash
# Regenerates the rtnetlink fixtures in this directory from the real `ip` tool (iproute2), run
# as root on the development host: each command runs under strace in a throwaway network
# namespace and the netlink bytes it sends (or receives) are written to NAME.txt, headed by the
# command. nlmsg_seq is normalised to 1 and nlmsg_pid to 0 (see ../strace-to-fixture.py).
set -euo pipefail
cd "$(dirname "$0")"
ns="nlfixture$$"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
ip netns add "$ns"
# A veth pair stands in for the WireGuard link (this kernel has no wireguard or dummy module):
# in the fresh namespace d1 gets ifindex 2 and d0 ifindex 3.
ip netns exec "$ns" ip link add d0 type veth peer name d1

# capture NAME MODE COMMAND...: MODE as in strace-to-fixture.py.
capture() {
    local name="$1" mode="$2"; shift 2
    {
        echo "# $*"
        echo "# strace -f -e trace=sendto,sendmsg,recvmsg -e write=3,4 -e read=3,4 -xx, fresh namespace,"
        echo "# iproute2 $(ip -V | sed 's/.*iproute2-//'), kernel $(uname -r): $mode"
        # Some commands fail on purpose (no wireguard module here): their bytes are the point.
        { ip netns exec "$ns" strace -f -e trace=sendto,sendmsg,recvmsg -e write=3,4 -e read=3,4 -xx -s 65536 "$@" 2>&1 >/dev/null || true; } \
            | ../strace-to-fixture.py "$mode"
    } > "$name.txt"
    echo "$name: $*"
}

capture rtm_newlink_wireguard last-sent ip link add wg0 type wireguard
capture rtm_newlink_wireguard_reply all-received ip link add wg0 type wireguard
capture rtm_getlink first-sent ip link show dev d0
capture rtm_setlink_mtu last-sent ip link set dev d0 mtu 1420
capture rtm_setlink_up last-sent ip link set dev d0 up
capture rtm_newaddr_v4 last-sent ip addr add 10.0.0.1/24 dev d0
capture rtm_newaddr_v6 last-sent ip addr add fd00::1/64 dev d0
capture rtm_newaddr_v4_replace last-sent ip addr replace 10.0.0.1/24 dev d0
capture rtm_newaddr_v4_replace_reply all-received ip addr replace 10.0.0.1/24 dev d0
capture rtm_newroute_v4 last-sent ip route add 10.1.0.0/16 dev d0
capture rtm_newroute_v6_replace last-sent ip route replace fd01::/48 dev d0
capture rtm_dellink last-sent ip link del dev d0
capture rtm_dellink_missing_reply all-received ip link del dev d0
