# Tunnel throughput: iperf3 TCP from node a to node b (10.0.0.2) over WireGuard between two
# vpn-init nodes in namespaces (scripts/lib/nodes.sh), with the underlay carried by UDP, by
# udp2tcp/tcp2udp (plain TCP) and by TLS through haproxy (the dstack gateway stand-in), as
# scripts/test-tcp sets them up. The TCP transports are reported as a fraction of UDP.
# Needs: $bindir, $work, $raw, $repo; common.sh sourced.

tunnel_gateway_pid=""

tunnel_certificates() {
  [ -s "$work/gw.pem" ] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bench gateway CA" \
    -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null &&
  openssl req -newkey rsa:2048 -nodes -subj "/CN=*.gw.test" -addext "subjectAltName=DNS:*.gw.test" \
    -keyout "$work/gw.key" -out "$work/gw.csr" 2>/dev/null &&
  openssl x509 -req -in "$work/gw.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
    -copy_extensions copy -out "$work/gw.crt" 2>/dev/null &&
  cat "$work/gw.crt" "$work/gw.key" >"$work/gw.pem"
}

tunnel_gateway_start() {
  cat >"$work/haproxy.cfg" <<CFG
global
  log stderr format short local0 warning
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
frontend gateway
  bind 172.31.0.1:8443 ssl crt $work/gw.pem
  use_backend node_a if { ssl_fc_sni -i app-51820.gw.test }
backend node_a
  server node_a 127.0.0.1:5555
CFG
  ip netns exec "$ns_a" haproxy -db -f "$work/haproxy.cfg" >>"$work/haproxy.log" 2>&1 &
  tunnel_gateway_pid=$!
  local i
  for i in $(seq 50); do ip netns exec "$ns_a" ss -ltnH | grep -q 172.31.0.1:8443 && return 0; sleep 0.1; done
  return 1
}

tunnel_gateway_stop() {
  [ -n "$tunnel_gateway_pid" ] || return 0
  kill "$tunnel_gateway_pid" 2>/dev/null
  wait "$tunnel_gateway_pid" 2>/dev/null
  tunnel_gateway_pid=""
}

# tunnel_once TRANSPORT SECONDS RUNS: boots both nodes for TRANSPORT (udp, tcp, tls), runs
# iperf3 RUNS times and records each run's received Mbit/s.
tunnel_once() {
  local transport=$1 seconds=$2 runs=$3 a_vars=() b_vars=() run i
  case "$transport" in
    tcp)
      a_vars=(WG_TCP_LISTEN=172.31.0.1:5555 unset:WG_PEER_B_ENDPOINT unset:WG_PEER_B_PERSISTENT_KEEPALIVE)
      b_vars=(WG_PEER_A_TCP_ENDPOINT=172.31.0.1:5555 unset:WG_PEER_A_ENDPOINT) ;;
    tls)
      tunnel_certificates && tunnel_gateway_start || { note "haproxy did not start"; return 1; }
      a_vars=(WG_TCP_LISTEN=127.0.0.1:5555 unset:WG_PEER_B_ENDPOINT unset:WG_PEER_B_PERSISTENT_KEEPALIVE)
      b_vars=(WG_PEER_A_TCP_ENDPOINT=172.31.0.1:8443 WG_PEER_A_TLS_SNI=app-51820.gw.test
        WG_PEER_A_TLS_CA_FILE="$work/ca.pem" unset:WG_PEER_A_ENDPOINT) ;;
  esac
  : >"$work/a.log"; : >"$work/b.log"
  node_start a WG_IMPLEMENTATION=userspace "${a_vars[@]}"
  node_start b WG_IMPLEMENTATION=userspace "${b_vars[@]}"
  if wait_for "$work/a.log" msg=ready 30 && wait_for "$work/b.log" msg=ready 30 && tunnel_ping; then
    ip netns exec "$ns_b" iperf3 -s -B 10.0.0.2 -p 5201 >/dev/null 2>&1 &
    local server=$!
    for i in $(seq 50); do ip netns exec "$ns_b" ss -ltnH | grep -q 10.0.0.2:5201 && break; sleep 0.1; done
    for run in $(seq "$runs"); do
      if ip netns exec "$ns_a" timeout $((seconds + 20)) iperf3 -c 10.0.0.2 -p 5201 -t "$seconds" -J >"$work/iperf.json" 2>/dev/null; then
        record tunnel "$transport" mbit "$(python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6))' "$work/iperf.json")" run="$run"
      else
        note "iperf3 over $transport failed"
      fi
    done
    kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
  else
    note "the $transport tunnel did not come up"
  fi
  node_kill a TERM; node_kill b TERM
  node_wait_exit a 10; node_wait_exit b 10
  tunnel_gateway_stop
}

tunnel_ping() {
  local i
  for i in $(seq 80); do ip netns exec "$ns_a" ping -c 1 -W 1 10.0.0.2 >/dev/null 2>&1 && return 0; sleep 0.25; done
  return 1
}

# bench_tunnel SECONDS RUNS: the three transports, each RUNS iperf3 runs of SECONDS.
bench_tunnel() {
  local seconds=$1 runs=$2 transport
  bin=$bindir/vpn-init
  NS_PREFIX=bt$$
  . "$repo/scripts/lib/nodes.sh"
  nodes_create || { note "cannot create the tunnel namespaces"; nodes_destroy; return 1; }
  for transport in udp tcp tls; do tunnel_once "$transport" "$seconds" "$runs"; done
  nodes_destroy
}
