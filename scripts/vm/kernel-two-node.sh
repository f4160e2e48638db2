#!/usr/bin/env bash
# Runs INSIDE a virtme-ng VM booting Debian's kernel (which has WireGuard): the two-node
# scenario with WG_IMPLEMENTATION=kernel. Prints `ok - ...` lines and `N passed, N failed`.
# Usage (in the VM): kernel-two-node.sh REPO BINDIR
set -uo pipefail
cd "$1"
. scripts/lib/checks.sh
bin=$2/vpn-init
work=$(mktemp -d)
. scripts/lib/nodes.sh
trap 'nodes_destroy; rm -rf "$work"' EXIT
echo "# kernel $(uname -r)"
modprobe wireguard 2>/dev/null
nodes_create || { echo "not ok - namespaces"; echo "0 passed, 1 failed"; exit 1; }

node_start a WG_IMPLEMENTATION=kernel
node_start b WG_IMPLEMENTATION=kernel
check "node a is ready on the kernel path" wait_for "$work/a.log" 'implementation=kernel' 120
check "node b is ready on the kernel path" wait_for "$work/b.log" 'implementation=kernel' 120
check "wg0 is a real wireguard link" sh -c "ip -n '$ns_a' -d link show wg0 | grep -q 'wireguard'"
check "no wireguard-go runs" sh -c "! pgrep -x wireguard-go >/dev/null"
ping_eventually() {
  local i
  for i in $(seq 60); do ip netns exec "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0; sleep 0.5; done
  return 1
}
check "a pings b over kernel WireGuard" ping_eventually "$ns_a" 10.0.0.2
check "b pings a over kernel WireGuard" ping_eventually "$ns_b" 10.0.0.1
check "wg show reports a handshake" sh -c "ip netns exec '$ns_a' wg show wg0 latest-handshakes | awk '{exit !(\$2 > 0)}'"
check "wg show lists the configured peer and port" sh -c "ip netns exec '$ns_a' wg show wg0 dump | head -n 1 | grep -q 51820 && ip netns exec '$ns_a' wg show wg0 peers | grep -qF \"\$(cat '$work/shared/b.pub')\""
check "status --json reads the kernel device" sh -c "nsenter -t \$(cat '$work/a.pid') -n -m -p -- '$bin' status --json | grep -q '\"implementation\":\"kernel\"'"
check "health passes with a recent handshake" node_exec a "$bin" health --max-handshake-age 120
check "SIGTERM exits 0" sh -c "kill -TERM \$(cat '$work/a.pid')"
check "node a stops" node_wait_exit a 20
check "exit status 0" sh -c "[ \"\$(cat '$work/a.status')\" = 0 ]"
check "SIGTERM deleted the kernel link" sh -c "! ip -n '$ns_a' link show wg0 >/dev/null 2>&1"
: >"$work/a.log"
node_start a WG_IMPLEMENTATION=kernel
check "restart over a leftover-free namespace is ready" wait_for "$work/a.log" 'implementation=kernel' 120
check "the tunnel returns after restart" ping_eventually "$ns_a" 10.0.0.2
node_kill a KILL; node_wait_exit a 20
check "after SIGKILL the link is left behind" sh -c "ip -n '$ns_a' link show wg0 >/dev/null 2>&1"
: >"$work/a.log"
node_start a WG_IMPLEMENTATION=kernel
check "a new start replaces the leftover link (no 'exists' failure)" wait_for "$work/a.log" 'implementation=kernel' 120
check "the tunnel returns after the crash" ping_eventually "$ns_a" 10.0.0.2
finish
