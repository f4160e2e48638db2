#!/bin/sh
# The reference for the boot and shutdown benchmarks: the usual shell entrypoint of a WireGuard
# container (the entrypoint.sh of the plan this project grew from, which vpn-init replaces),
# doing the same work as vpn-init on the userspace path: key from the data volume (generated on
# first boot), wireguard-go, `wg set` with the peer, `ip addr/link`, forwarding on, and the
# template's PostUp iptables rules (FORWARD accept both ways, MASQUERADE out of the uplink).
# It prints the same `msg=ready` line vpn-init prints, and undoes PostDown on SIGTERM.
# Environment: DATA_DIR, WG_ADDRESS (CIDR), PEER_PUBLIC_KEY, PEER_ALLOWED_IPS, PEER_ENDPOINT,
# UPLINK (the MASQUERADE interface), optional WG_MTU (1420), WG_LISTEN_PORT (51820).
set -e
iface=wg0
mtu=${WG_MTU:-1420}
port=${WG_LISTEN_PORT:-51820}

if [ ! -s "$DATA_DIR/privatekey" ]; then
  umask 077
  mkdir -p "$DATA_DIR"
  wg genkey >"$DATA_DIR/privatekey"
  wg pubkey <"$DATA_DIR/privatekey" >"$DATA_DIR/publickey"
fi

# wireguard-go daemonises once its UAPI socket is listening.
wireguard-go "$iface" 2>/dev/null
wg set "$iface" private-key "$DATA_DIR/privatekey" listen-port "$port" \
  peer "$PEER_PUBLIC_KEY" allowed-ips "$PEER_ALLOWED_IPS" endpoint "$PEER_ENDPOINT" persistent-keepalive 25
ip address add "$WG_ADDRESS" dev "$iface"
ip link set mtu "$mtu" up dev "$iface"
echo 1 >/proc/sys/net/ipv4/ip_forward
iptables -A FORWARD -i "$iface" -j ACCEPT
iptables -A FORWARD -o "$iface" -j ACCEPT
iptables -t nat -A POSTROUTING -o "$UPLINK" -j MASQUERADE

down() {
  iptables -D FORWARD -i "$iface" -j ACCEPT
  iptables -D FORWARD -o "$iface" -j ACCEPT
  iptables -t nat -D POSTROUTING -o "$UPLINK" -j MASQUERADE
  ip link delete "$iface"
  exit 0
}
trap down TERM INT
echo "level=info msg=ready interface=$iface address=$WG_ADDRESS public_key=$(cat "$DATA_DIR/publickey") peers=1" >&2
# Idle until a signal; `wait` returns as soon as one arrives.
sleep 2147483647 &
wait $!
