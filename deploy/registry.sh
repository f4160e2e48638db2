#!/bin/sh
# The registry sidecar of docker-compose.registry.yml (runs on busybox): keeps each member's
# peers file (its WG_PEERS_FILE) in step with the public keys the members export.
#
# MEMBERS lists the members as NAME=VPN-ADDRESS, e.g. "a=10.88.0.1 b=10.88.0.2". Member NAME
# ([a-z0-9]+) is the service node-NAME: it exports its public key to /keys/node-NAME.pub
# (WG_PUBLIC_KEY_EXPORT) and reads its peers from /peers/node-NAME (WG_PEERS_FILE). Every second
# each member's file is rendered anew: one peer for every other member whose key is in /keys,
# so a member that has not booted yet is left out until its key appears. A file whose content
# differs is written whole to a temporary name in the same directory and renamed over the old
# one (a node never reads half a file); a file that would not change is left alone, so the nodes
# reload only on a real change. A member leaves when its key is deleted from /keys (docker exec
# registry rm /keys/node-c.pub).
set -u
trap 'exit 0' TERM INT

# peers_of MEMBER: the peers file of MEMBER.
peers_of() {
  local member name peer
  echo "# the peers of node-$1, written by the registry"
  for member in $MEMBERS; do
    name=${member%%=*}
    [ "$name" != "$1" ] && [ -s "/keys/node-$name.pub" ] || continue
    peer=$(echo "$name" | tr a-z A-Z)
    echo "WG_PEER_${peer}_PUBLIC_KEY=$(cat "/keys/node-$name.pub")"
    echo "WG_PEER_${peer}_ALLOWED_IPS=${member#*=}/32"
    echo "WG_PEER_${peer}_ENDPOINT=node-$name:51820"
    echo "WG_PEER_${peer}_PERSISTENT_KEEPALIVE=25"
  done
}

while :; do
  for member in $MEMBERS; do
    name=${member%%=*}
    file=/peers/node-$name
    peers_of "$name" >"/peers/.node-$name.new"
    if cmp -s "/peers/.node-$name.new" "$file"; then
      rm -f "/peers/.node-$name.new"
    else
      mv -f "/peers/.node-$name.new" "$file" &&
        echo "registry: wrote $file peers=$(grep -c _PUBLIC_KEY= "$file")"
    fi
  done
  sleep 1
done
