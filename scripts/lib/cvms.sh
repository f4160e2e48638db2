# Two dstack CVMs that reach each other only through the dstack gateway stand-in
# (scripts/lib/gateway.sh): WireGuard over TCP in TLS, each node with its own guest-agent
# stand-in (scripts/lib/dstack.sh). The topology of scripts/test-dstack and of scripts/bench's
# gateway section:
#
#   ns node-a                         ns gw                          ns node-b
#   vpn-init (PID 1 of its own        haproxy *:443, TLS 1.2         vpn-init (PID 1 of its own
#   pid+mount namespace)              cert *.dstack.test             pid+mount namespace)
#   wg0 10.0.0.1/24                   SNI <instance>-51820 routes    wg0 10.0.0.2/24
#   tcp2udp 172.31.21.1:51820  <--    to that node's tcp2udp    -->  tcp2udp 172.31.22.2:51820
#   udp2tcp -> <b-inst>-51820  -->    (plain TCP)               <--  udp2tcp -> <a-inst>-51820
#   eth0 172.31.21.1/24 ------ veth ---- 172.31.21.254 | 172.31.22.254 ---- veth ------ 172.31.22.2/24 eth0
#   agent-a.sock (instance A)                                        agent-b.sock (instance B)
#
# Both nodes listen (WG_TCP_LISTEN) and both dial (the symmetric case). gw does not forward
# (ip_forward=0); no namespace has a default route, so nothing leaves the machine; node-a and
# node-b have no route to each other's link, and each drops every UDP datagram arriving on its
# link (nft). Each node's /etc/hosts ($work/hosts-NODE, bind-mounted by node_start) maps the
# other's gateway name to the gateway's address on its own link. One app id, two instance ids;
# each node has its own stand-in agent.
#
# Source after scripts/lib/nodes.sh, gateway.sh and dstack.sh; set $work and NS_PREFIX first.
#   cvms_create         the three namespaces ($ns_a, $ns_b, $ns_g) and the hosts files
#   cvms_destroy        kills the nodes, removes the namespaces and the hosts files
#   cvms_gateway        gateway_init with the test CA ($ca) and a route per node (be_node_a/s1,
#                       be_node_b/s1); gateway_start "$ns_g" starts it
#   cvm_agent_start NODE  the node's guest-agent stand-in on $work/agent-NODE.sock
#   cvm_env NODE        the node's environment in $mode: `dstack` (keys from the node's stand-in,
#                       peers by NODE + GATEWAY) or `explicit` (key files $work/keys/NODE.key,
#                       peers by PUBLIC_KEY ($public_a, $public_b) + TCP_ENDPOINT + TLS_SNI);
#                       a suite's node_env calls it

ns_a=$NS_PREFIX-node-a
ns_b=$NS_PREFIX-node-b
ns_g=$NS_PREFIX-gw
app_id=3f6c1e9a7b2d4c8e0a5f1b3d7c9e2a4b6d8f0c1e
instance_a=a1c3e5f7092b4d6f8a0c2e4f6b8d0a2c4e6f8b1d
instance_b=b2d4f6a8193c5e7a9b1d3f5a7c9e1b3d5f7a9c2e
name_a=$instance_a-51820.dstack.test
name_b=$instance_b-51820.dstack.test
link_a=172.31.21.1 gw_a=172.31.21.254
link_b=172.31.22.2 gw_b=172.31.22.254
ca=""
mode=${mode:-dstack}

cvms_create() {
  ip netns add "$ns_a" && ip netns add "$ns_b" && ip netns add "$ns_g" &&
    ip link add eth0 netns "$ns_a" type veth peer name to-a netns "$ns_g" &&
    ip link add eth0 netns "$ns_b" type veth peer name to-b netns "$ns_g" &&
    ip -n "$ns_a" addr add "$link_a/24" dev eth0 && ip -n "$ns_g" addr add "$gw_a/24" dev to-a &&
    ip -n "$ns_b" addr add "$link_b/24" dev eth0 && ip -n "$ns_g" addr add "$gw_b/24" dev to-b &&
    ip netns exec "$ns_g" sh -c 'echo 0 >/proc/sys/net/ipv4/ip_forward' || return 1
  local ns
  for ns in "$ns_a" "$ns_b" "$ns_g"; do ip -n "$ns" link set lo up || return 1; done
  ip -n "$ns_a" link set eth0 up && ip -n "$ns_b" link set eth0 up &&
    ip -n "$ns_g" link set to-a up && ip -n "$ns_g" link set to-b up || return 1
  for ns in "$ns_a" "$ns_b"; do
    ip netns exec "$ns" nft -f - <<'NFT' || return 1
table inet test_udp_block {
  chain input { type filter hook input priority -10; policy accept; iifname "eth0" meta l4proto udp drop; }
}
NFT
  done
  mkdir -p "$work/shared"
  printf '127.0.0.1 localhost\n%s %s\n' "$gw_a" "$name_b" >"$work/hosts-a"
  printf '127.0.0.1 localhost\n%s %s\n' "$gw_b" "$name_a" >"$work/hosts-b"
}

cvms_destroy() {
  nodes_destroy
  ip netns del "$ns_g" 2>/dev/null
  rm -f "$work/hosts-a" "$work/hosts-b"
  return 0
}

cvms_gateway() {
  gateway_init "$work/gateway" dstack.test || return 1
  ca=$work/gateway/ca.pem
  gateway_route "$name_a" be_node_a "$link_a:51820"
  gateway_route "$name_b" be_node_b "$link_b:51820"
}

cvm_agent_start() {
  local instance=$instance_a
  [ "$1" = b ] && instance=$instance_b
  agent_start "$1" -- --socket "$work/agent-$1.sock" --app-id "$app_id" --instance-id "$instance"
}

cvm_env() {
  local me=$1 peer upper address peer_address link peer_name
  if [ "$me" = a ]; then peer=b address=10.0.0.1 peer_address=10.0.0.2 link=$link_a peer_name=$name_b
  else peer=a address=10.0.0.2 peer_address=10.0.0.1 link=$link_b peer_name=$name_a; fi
  upper=$(echo "$peer" | tr a-z A-Z)
  echo "VPN_DATA_DIR=$work/data-$me WG_ADDRESS=$address/24 WG_TCP_LISTEN=$link:51820" \
    "WG_PEER_${upper}_ALLOWED_IPS=$peer_address/32 WG_PEER_${upper}_TLS_CA_FILE=$ca"
  if [ "$mode" = dstack ]; then
    echo "VPN_KEY_SOURCE=dstack VPN_NODE_NAME=node-$me DSTACK_SIMULATOR_ENDPOINT=$work/agent-$me.sock" \
      "WG_PEER_${upper}_NODE=node-$peer WG_PEER_${upper}_GATEWAY=$peer_name"
  else
    local peer_public=$public_a
    [ "$peer" = b ] && peer_public=$public_b
    echo "WG_PRIVATE_KEY_FILE=$work/keys/$me.key WG_PEER_${upper}_PUBLIC_KEY=$peer_public" \
      "WG_PEER_${upper}_TCP_ENDPOINT=$peer_name:443 WG_PEER_${upper}_TLS_SNI=$peer_name" \
      "WG_PEER_${upper}_PERSISTENT_KEEPALIVE=25"
  fi
}
