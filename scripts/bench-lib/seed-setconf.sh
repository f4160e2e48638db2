#!/bin/sh
# The reference for the peers benchmark: what a wg-quick-style entrypoint does with a WireGuard
# configuration file on the userspace path: wireguard-go creates the TUN device (and daemonises
# once its UAPI socket is listening), `wg setconf` applies the whole file, `ip address` and
# `ip link` bring the interface up. No firewall, as vpn-init is run with WG_FORWARD=false
# WG_MASQUERADE=off beside it. Prints the `msg=ready` line vpn-init prints; deletes wg0 on
# SIGTERM.
# Environment: WG_CONF (a wg(8) configuration: [Interface] PrivateKey, ListenPort, [Peer]...),
# WG_ADDRESS (CIDR), PEERS (the number of peers, for the ready line), optional WG_MTU (1420).
set -e
iface=wg0
wireguard-go "$iface" 2>/dev/null
wg setconf "$iface" "$WG_CONF"
ip address add "$WG_ADDRESS" dev "$iface"
ip link set mtu "${WG_MTU:-1420}" up dev "$iface"
down() {
  ip link delete "$iface"
  exit 0
}
trap down TERM INT
echo "level=info msg=ready interface=$iface address=$WG_ADDRESS peers=$PEERS" >&2
# Idle until a signal; `wait` returns as soon as one arrives.
sleep 2147483647 &
wait $!
