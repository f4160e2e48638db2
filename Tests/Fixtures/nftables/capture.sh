#!/bin/bash
# Regenerates the nf_tables fixtures in this directory from the real nft tool, run as root on the
# development host: each rules file is loaded with `nft -f` under strace in a throwaway network
# namespace, and the batch it sends (or the kernel's replies to it) is written to NAME.txt,
# headed by the command and the rules file. Sequence numbers are made relative to the batch's
# first message and port ids zeroed (see batch-to-fixture.py).
set -euo pipefail
cd "$(dirname "$0")"
ns="nftfixture$$"
rules=$(mktemp)
trap 'ip netns del "$ns" 2>/dev/null || true; rm -f "$rules"' EXIT

# capture NAME MODE [SETUP]: the rules file comes on stdin; SETUP (nft commands) runs first in
# the fresh namespace, e.g. to create the table a delete removes.
capture() {
    local name="$1" mode="$2" setup="${3:-}"
    cat >"$rules"
    ip netns add "$ns"
    [ -z "$setup" ] || ip netns exec "$ns" nft "$setup"
    {
        echo "# nft -f rules.nft"
        [ -z "$setup" ] || echo "# after: nft '$setup'"
        echo "# rules.nft:"
        sed 's/^/#   /' "$rules"
        echo "# strace -f -e trace=sendmsg,sendto,recvmsg -e write=3 -e read=3 -xx -s 65536, fresh namespace,"
        echo "# $(nft --version), kernel $(uname -r): $mode"
        # Some files fail on purpose: the kernel's error replies are the point.
        { ip netns exec "$ns" strace -f -e trace=sendmsg,sendto,recvmsg -e write=3 -e read=3 -xx -s 65536 \
            nft -f "$rules" 2>&1 >/dev/null || true; } | ./batch-to-fixture.py "$mode"
    } >"$name.txt"
    ip netns del "$ns"
    echo "$name"
}

# replace_table IFACE: the lines that replace vpn-init's table for IFACE in one transaction, up
# to the table's opening brace; postrouting_head: the head of its postrouting chain.
replace_table() { printf 'add table inet vpn_init_%s\ndelete table inet vpn_init_%s\ntable inet vpn_init_%s {' "$1" "$1" "$1"; }
postrouting_head() { printf '\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;'; }

# forward_chain IFACE: the forward chain vpn-init writes for IFACE: the MSS of forwarded TCP SYNs
# in and out of the tunnel clamped to the route MTU, then that traffic accepted.
forward_chain() {
    printf '\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n'
    printf '\t\t%sname "%s" tcp flags syn / syn,rst tcp option maxseg size set rt mtu\n' iif "$1" oif "$1"
    printf '\t\t%sname "%s" accept\n' iif "$1" oif "$1"
    printf '\t}'
}

# The table vpn-init installs for wg0 with WG_FORWARD=true, WG_ADDRESS=10.0.0.1/24 and
# WG_MASQUERADE=eth0, replacing any table of that name in the same transaction. The forward
# chain clamps the MSS of forwarded TCP SYNs in and out of the tunnel to the route MTU, then
# accepts that traffic.
capture replace_forward_masquerade batch <<RULES
$(replace_table wg0)
$(forward_chain wg0)
$(postrouting_head)
		ip saddr 10.0.0.0/24 oifname "eth0" masquerade
	}
}
RULES

# WG_INTERFACE=wg1, WG_ADDRESS=10.8.1.1/20,10.9.0.7/32,fd00::1/64,fd00:1::1/50,
# WG_MASQUERADE=eth0,lan0: prefixes on and off byte boundaries, both families.
capture replace_dual_stack batch <<RULES
$(replace_table wg1)
$(forward_chain wg1)
$(postrouting_head)
		ip saddr 10.8.0.0/20 oifname "eth0" masquerade
		ip saddr 10.8.0.0/20 oifname "lan0" masquerade
		ip saddr 10.9.0.7/32 oifname "eth0" masquerade
		ip saddr 10.9.0.7/32 oifname "lan0" masquerade
		ip6 saddr fd00::/64 oifname "eth0" masquerade
		ip6 saddr fd00::/64 oifname "lan0" masquerade
		ip6 saddr fd00:1::/50 oifname "eth0" masquerade
		ip6 saddr fd00:1::/50 oifname "lan0" masquerade
	}
}
RULES

# WG_FORWARD=false, WG_ADDRESS=10.0.0.1/24, WG_MASQUERADE=eth1: masquerade only.
capture replace_masquerade_only batch <<RULES
$(replace_table wg0)
$(postrouting_head)
		ip saddr 10.0.0.0/24 oifname "eth1" masquerade
	}
}
RULES

# WG_FORWARD=true, WG_MASQUERADE=off.
capture replace_forward_only batch <<RULES
$(replace_table wg0)
$(forward_chain wg0)
}
RULES

# WG_FORWARD=false, WG_MASQUERADE=off: an empty table (still replacing a stale one).
capture replace_empty batch <<RULES
$(replace_table wg0)
}
RULES

# Shutdown: the table and everything in it go.
capture delete_table batch 'add table inet vpn_init_wg0' <<'RULES'
delete table inet vpn_init_wg0
RULES

# Deleting a table that is not there: the kernel answers the DELTABLE message with ENOENT.
capture delete_table_missing_replies replies <<'RULES'
delete table inet vpn_init_wg0
RULES

# A rule the kernel rejects (masquerade outside a nat chain): the batch, and the kernel's
# EOPNOTSUPP for message 4, the second NEWRULE, echoing the whole request (nft's socket does not
# set NETLINK_CAP_ACK).
rejected='table inet vpn_init_wg0 {
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "wg0" accept
		oifname "eth0" masquerade
	}
}'
capture rule_rejected batch <<<"$rejected"
capture rule_rejected_replies replies <<<"$rejected"

# The kernel's answers to route dumps (for finding the default-route interface), from a
# namespace with a veth pair, an IPv4 and an IPv6 address, and no default route; iproute2's
# `ip route show` (see ../netlink/capture.sh and ../strace-to-fixture.py).
# capture_routes NAME COMMAND...
capture_routes() {
    local name="$1"; shift
    ip netns add "$ns"
    ip -n "$ns" link add v0 type veth peer name v1
    ip -n "$ns" addr add 192.168.77.1/24 dev v0
    ip -n "$ns" addr add fd77::1/64 dev v0 nodad
    ip -n "$ns" link set v0 up
    ip -n "$ns" link set v1 up
    {
        echo "# $*"
        echo "# in a fresh namespace: veth v0 (192.168.77.1/24, fd77::1/64, up) and v1 (up), no default route"
        echo "# strace -f -e trace=sendto,sendmsg,recvmsg -e write=3,4 -e read=3,4 -xx -s 65536,"
        echo "# iproute2 $(ip -V | sed 's/.*iproute2-//'), kernel $(uname -r): all-received"
        ip netns exec "$ns" strace -f -e trace=sendto,sendmsg,recvmsg -e write=3,4 -e read=3,4 -xx -s 65536 "$@" 2>&1 >/dev/null \
            | ../strace-to-fixture.py all-received
    } >"$name.txt"
    ip netns del "$ns"
    echo "$name"
}
capture_routes rtm_getroute_v4_replies ip -4 route show table all
capture_routes rtm_getroute_v6_replies ip -6 route show table all
