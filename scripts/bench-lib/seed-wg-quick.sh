#!/bin/sh
# The reference for the kernel-path boot benchmark: the seed plan's entrypoint on a kernel with
# WireGuard renders wg0.conf from its template (the plan's PostUp/PostDown iptables rules) and
# runs `wg-quick up`. Prints the `msg=ready` line vpn-init prints; `wg-quick down` on SIGTERM.
# Environment: as seed-entrypoint.sh (DATA_DIR, WG_ADDRESS, PEER_PUBLIC_KEY, PEER_ALLOWED_IPS,
# PEER_ENDPOINT, UPLINK).
set -e
umask 077
if [ ! -s "$DATA_DIR/privatekey" ]; then
  mkdir -p "$DATA_DIR"
  wg genkey >"$DATA_DIR/privatekey"
  wg pubkey <"$DATA_DIR/privatekey" >"$DATA_DIR/publickey"
fi
mkdir -p /run/wireguard-conf
config=/run/wireguard-conf/wg0.conf
cat >"$config" <<CONF
[Interface]
PrivateKey = $(cat "$DATA_DIR/privatekey")
Address = $WG_ADDRESS
ListenPort = 51820
PostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -A FORWARD -o %i -j ACCEPT; iptables -t nat -A POSTROUTING -o $UPLINK -j MASQUERADE
PostDown = iptables -D FORWARD -i %i -j ACCEPT; iptables -D FORWARD -o %i -j ACCEPT; iptables -t nat -D POSTROUTING -o $UPLINK -j MASQUERADE

[Peer]
PublicKey = $PEER_PUBLIC_KEY
AllowedIPs = $PEER_ALLOWED_IPS
Endpoint = $PEER_ENDPOINT
PersistentKeepalive = 25
CONF
echo 1 >/proc/sys/net/ipv4/ip_forward
wg-quick up "$config" 2>/dev/null
down() {
  wg-quick down "$config" 2>/dev/null
  exit 0
}
trap down TERM INT
echo "level=info msg=ready interface=wg0 address=$WG_ADDRESS public_key=$(cat "$DATA_DIR/publickey") peers=1" >&2
sleep 2147483647 &
wait $!
