# Two simulated containers in network namespaces: each node runs vpn-init as PID 1 of its own
# pid+mount namespace with a private /run, inside a network namespace of its own. The namespaces
# are joined by a veth pair on 172.31.0.0/24 and have no default route, so nothing they send can
# leave the machine.
# Source after scripts/lib/checks.sh; set $bin (vpn-init) and $work (a temp dir) first.
# A suite with another topology builds its own namespaces instead of nodes_create, sets $ns_a
# and $ns_b to them, and defines its own node_env after sourcing this file: node_start,
# node_kill, node_exec and nodes_destroy work the same. A suite with other nodes than a and b
# also defines node_ns (and destroys its own namespaces).

NS_PREFIX=${NS_PREFIX:-vt$$}
ns_a=${NS_PREFIX}a
ns_b=${NS_PREFIX}b

nodes_create() {
  ip netns add "$ns_a" && ip netns add "$ns_b" || return 1
  ip link add "${NS_PREFIX}va" netns "$ns_a" type veth peer name "${NS_PREFIX}vb" netns "$ns_b" || return 1
  ip -n "$ns_a" addr add 172.31.0.1/24 dev "${NS_PREFIX}va"
  ip -n "$ns_b" addr add 172.31.0.2/24 dev "${NS_PREFIX}vb"
  for ns in "$ns_a" "$ns_b"; do
    ip -n "$ns" link set lo up
  done
  ip -n "$ns_a" link set "${NS_PREFIX}va" up
  ip -n "$ns_b" link set "${NS_PREFIX}vb" up
  mkdir -p "$work/shared"
}

nodes_destroy() {
  local node
  for node in a b; do node_kill "$node" KILL; done
  ip netns del "$ns_a" 2>/dev/null
  ip netns del "$ns_b" 2>/dev/null
  return 0
}

# node_ns NODE: the network namespace of node a or b.
node_ns() { if [ "$1" = a ]; then echo "$ns_a"; else echo "$ns_b"; fi; }

# node_env NODE: the environment of node a (10.0.0.1) or b (10.0.0.2); extra VAR=VALUE may follow.
node_env() {
  local me=$1 peer peer_upper address peer_address peer_underlay
  if [ "$me" = a ]; then peer=b; address=10.0.0.1; peer_address=10.0.0.2; peer_underlay=172.31.0.2
  else peer=a; address=10.0.0.2; peer_address=10.0.0.1; peer_underlay=172.31.0.1; fi
  peer_upper=$(echo "$peer" | tr a-z A-Z)
  echo "VPN_DATA_DIR=$work/data-$me WG_ADDRESS=$address/24 WG_PUBLIC_KEY_EXPORT=$work/shared/$me.pub" \
    "WG_PEER_${peer_upper}_PUBLIC_KEY_FILE=$work/shared/$peer.pub WG_PEER_${peer_upper}_ALLOWED_IPS=$peer_address/32" \
    "WG_PEER_${peer_upper}_ENDPOINT=$peer_underlay:51820 WG_PEER_${peer_upper}_PERSISTENT_KEEPALIVE=25 WG_PEER_KEY_WAIT=20"
}

# node_start NODE [VAR=VALUE...] [-- CMD...]: starts vpn-init for the node in the background;
# its log goes to $work/NODE.log and its host PID to $work/NODE.pid. `unset:NAME` drops NAME
# from the node's default environment. When $work/hosts-NODE
# exists it is the node's /etc/hosts (bind-mounted, so lines appended later are seen).
node_start() {
  local node=$1 ns vars=() cmd=()
  shift
  ns=$(node_ns "$node")
  local base=() unset=" " word
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    case "$1" in unset:*) unset+="${1#unset:} " ;; *) vars+=("$1") ;; esac
    shift
  done
  [ "${1:-}" = -- ] && { shift; cmd=(-- "$@"); }
  for word in $(node_env "$node"); do
    [[ "$unset" == *" ${word%%=*} "* ]] || base+=("$word")
  done
  NODE_HOSTS="$work/hosts-$node" ip netns exec "$ns" unshare --pid --fork --mount --kill-child \
    sh -c 'mount --make-rprivate / && mount -t proc proc /proc && mount -t tmpfs tmpfs /run &&
      if [ -f "$NODE_HOSTS" ]; then mount --bind "$NODE_HOSTS" /etc/hosts; fi && exec "$@"' sh \
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${base[@]}" "${vars[@]}" \
    "$bin" "${cmd[@]}" >>"$work/$node.log" 2>&1 &
  echo $! >"$work/$node.unshare"
  local i pid=""
  # The node's PID is unshare's child once it has become vpn-init (before that it is a shell).
  for i in $(seq 200); do
    pid=$(pgrep -P "$(cat "$work/$node.unshare")" -x vpn-init | head -n 1)
    [ -n "$pid" ] && break
    kill -0 "$(cat "$work/$node.unshare")" 2>/dev/null || break  # it already ended (a failed boot)
    sleep 0.05
  done
  echo "$pid" >"$work/$node.pid"
}

node_pid() { cat "$work/$1.pid" 2>/dev/null; }

# node_kill NODE [SIGNAL]: signals the node's vpn-init (default TERM).
node_kill() {
  local pid
  pid=$(node_pid "$1")
  [ -n "$pid" ] && kill -"${2:-TERM}" "$pid" 2>/dev/null
  return 0
}

# node_wait_exit NODE SECONDS: waits for the node's unshare to end; its status in $work/NODE.status.
node_wait_exit() {
  local unshare i
  unshare=$(cat "$work/$1.unshare")
  for i in $(seq $(($2 * 20))); do
    kill -0 "$unshare" 2>/dev/null || { wait "$unshare"; echo $? >"$work/$1.status"; return 0; }
    sleep 0.05
  done
  return 1
}

# node_exec NODE CMD...: runs CMD inside the node's namespaces (as `docker exec` would).
node_exec() {
  local pid
  pid=$(node_pid "$1")
  shift
  nsenter -t "$pid" -n -m -p -- "$@"
}

# wait_for FILE TEXT SECONDS: waits until FILE contains TEXT.
wait_for() {
  local i
  for i in $(seq $(($3 * 10))); do
    grep -qF -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "  timed out waiting for \"$2\" in $1" >&2
  sed 's/^/  | /' "$1" >&2
  return 1
}
