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

# Live peers on the kernel path: node a takes b from WG_PEERS_FILE; a peer c is added by a
# rewrite of the file (no signal), then removed with `vpn-init reload`; the kernel's own view
# (wg, ip route) follows, and b's session is untouched.
node_kill a TERM; node_wait_exit a 20
: >"$work/a.log"
{
  echo "# node a's peers"
  echo "WG_PEER_B_PUBLIC_KEY_FILE=$work/shared/b.pub"
  echo "WG_PEER_B_ALLOWED_IPS=10.0.0.2/32"
  echo "WG_PEER_B_ENDPOINT=172.31.0.2:51820"
  echo "WG_PEER_B_PERSISTENT_KEEPALIVE=25"
} >"$work/peers-a"
node_start a WG_IMPLEMENTATION=kernel WG_PEERS_FILE="$work/peers-a" unset:WG_PEER_B_PUBLIC_KEY_FILE \
  unset:WG_PEER_B_ALLOWED_IPS unset:WG_PEER_B_ENDPOINT unset:WG_PEER_B_PERSISTENT_KEEPALIVE
check "live peers: node a boots with b from its peers file" wait_for "$work/a.log" 'implementation=kernel' 120
check "live peers: a pings b" ping_eventually "$ns_a" 10.0.0.2
peer_c=$(wg genkey | wg pubkey)
# b's handshake time and received bytes as the kernel reports them.
b_session() { ip netns exec "$ns_a" wg show wg0 dump | awk -v key="$(cat "$work/shared/b.pub")" '$1 == key { print $5, $6 }'; }
before=$(b_session)
{ cat "$work/peers-a"; echo "WG_PEER_C_PUBLIC_KEY=$peer_c"; echo "WG_PEER_C_ALLOWED_IPS=10.0.0.3/32,10.66.0.0/16"
  echo "WG_PEER_C_ENDPOINT=172.31.0.9:51820"; } >"$work/peers-a.new" && mv "$work/peers-a.new" "$work/peers-a"
check "live peers: the rewritten file is applied (added=c)" wait_for "$work/a.log" 'msg="peers reloaded"' 30
check "live peers: the log names c added and b unchanged" sh -c "grep -F 'msg=\"peers reloaded\"' '$work/a.log' | grep -q 'added=c .*unchanged=1'"
check "live peers: the kernel lists c with its allowed IPs" sh -c "ip netns exec '$ns_a' wg show wg0 allowed-ips | grep -F '$peer_c' | grep -q '10.66.0.0/16'"
check "live peers: the route to 10.66.0.0/16 is on wg0" sh -c "ip -n '$ns_a' route show dev wg0 | grep -q '^10.66.0.0/16'"
b_untouched() {
  local after
  after=$(b_session)
  # Same handshake time; the byte count only grows (the tunnel stayed in use).
  [ -n "$before" ] && [ "${after% *}" = "${before% *}" ] && [ "${after#* }" -ge "${before#* }" ] ||
    { echo "  b before: $before, after: $after" >&2; return 1; }
}
check "live peers: b's session is untouched by the reload (kernel handshake time kept)" b_untouched
grep -v '^WG_PEER_C_' "$work/peers-a" >"$work/peers-a.new" && cat "$work/peers-a.new" >"$work/peers-a"
removed_c() {
  node_exec a "$bin" reload >"$work/reload.out" 2>&1 && { grep -q 'removed c' "$work/reload.out" || grep -q '^unchanged' "$work/reload.out"; } ||
    { sed 's/^/  | /' "$work/reload.out" >&2; return 1; }
}
check "live peers: vpn-init reload exits 0 once c is dropped (removed c, or already applied by the file watch)" removed_c
check "live peers: the kernel no longer lists c" sh -c "! ip netns exec '$ns_a' wg show wg0 peers | grep -qF '$peer_c'"
check "live peers: the route to 10.66.0.0/16 is gone" sh -c "! ip -n '$ns_a' route show dev wg0 | grep -q '^10.66.0.0/16'"
check "live peers: a still pings b" ping_eventually "$ns_a" 10.0.0.2
finish
