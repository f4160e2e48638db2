# Tunnel throughput by transport and inner MTU: iperf3 TCP from node a to node b (10.0.0.2) over
# WireGuard between two vpn-init nodes in namespaces (scripts/lib/nodes.sh), with the underlay
# carried by UDP, by udp2tcp/tcp2udp (plain TCP) and by TLS 1.2 through haproxy (the dstack
# gateway stand-in), as scripts/test-tcp sets them up; for each transport and WG_MTU (or none:
# the node's own default, whose value is read from wg0) also the ping RTT through the tunnel,
# idle and while iperf3 runs, and the peak RSS (VmHWM) of every process of both nodes.
# The configurations run interleaved: round 1 of each, then round 2 of each, so drift over the
# run (another build on the machine) spreads over all of them alike.
# Needs: $bindir, $work, $raw, $repo; common.sh sourced. WG_IMPLEMENTATION is $tunnel_impl
# (userspace; the VM's vm-tunnel.sh sets kernel) and samples go to bench $tunnel_bench.

tunnel_gateway_pid=""
tunnel_impl=${tunnel_impl:-userspace}
tunnel_bench=${tunnel_bench:-tunnel}
# The inner MTUs swept on the TCP transports (the UDP transport runs at 1420, its default).
tunnel_tcp_mtus=(1380 4000 8920 16000 32000 48000 65000)
tunnel_tls_mtus=(1380 8920 16000 32000 65000)

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

# tunnel_gateway_start: haproxy in node a's namespace, TLS 1.2 only as dstack-gateway, routing
# app-51820.gw.test to node a's tcp2udp. It runs as $work/bench-gateway (a symlink), since
# scripts/bootstrap, which another suite may run meanwhile, stops every process named haproxy.
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
  bind 172.31.0.1:8443 ssl crt $work/gw.pem ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.2
  use_backend node_a if { ssl_fc_sni -i app-51820.gw.test }
backend node_a
  server node_a 127.0.0.1:5555
CFG
  ln -sf "$(command -v haproxy)" "$work/bench-gateway"
  ip netns exec "$ns_a" "$work/bench-gateway" -db -f "$work/haproxy.cfg" >>"$work/haproxy.log" 2>&1 &
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

# tunnel_start TRANSPORT MTU: boots both nodes for TRANSPORT (udp, tcp, tls) with WG_MTU=MTU
# (`default`: no WG_MTU) and waits until a ping crosses the tunnel.
tunnel_start() {
  local transport=$1 mtu=$2 a_vars=() b_vars=()
  case "$transport" in
    tcp)
      a_vars=(WG_TCP_LISTEN=172.31.0.1:5555 unset:WG_PEER_B_ENDPOINT unset:WG_PEER_B_PERSISTENT_KEEPALIVE)
      b_vars=(WG_PEER_A_TCP_ENDPOINT=172.31.0.1:5555 unset:WG_PEER_A_ENDPOINT) ;;
    tls)
      a_vars=(WG_TCP_LISTEN=127.0.0.1:5555 unset:WG_PEER_B_ENDPOINT unset:WG_PEER_B_PERSISTENT_KEEPALIVE)
      b_vars=(WG_PEER_A_TCP_ENDPOINT=172.31.0.1:8443 WG_PEER_A_TLS_SNI=app-51820.gw.test
        WG_PEER_A_TLS_CA_FILE="$work/ca.pem" unset:WG_PEER_A_ENDPOINT) ;;
  esac
  [ "$mtu" = default ] || { a_vars+=(WG_MTU="$mtu"); b_vars+=(WG_MTU="$mtu"); }
  : >"$work/a.log"; : >"$work/b.log"
  node_start a WG_IMPLEMENTATION="$tunnel_impl" "${a_vars[@]}"
  node_start b WG_IMPLEMENTATION="$tunnel_impl" "${b_vars[@]}"
  wait_for "$work/a.log" msg=ready 60 && wait_for "$work/b.log" msg=ready 60 && tunnel_ping
}

tunnel_stop() {
  node_kill a TERM; node_kill b TERM
  node_wait_exit a 10 || node_kill a KILL
  node_wait_exit b 10 || node_kill b KILL
  node_wait_exit a 5; node_wait_exit b 5
  return 0
}

tunnel_ping() {
  local i
  for i in $(seq 80); do ip netns exec "$ns_a" ping -c 1 -W 1 10.0.0.2 >/dev/null 2>&1 && return 0; sleep 0.25; done
  return 1
}

# tunnel_mtu: the MTU node a's wg0 has (what vpn-init chose or was told).
tunnel_mtu() { ip -n "$ns_a" -o link show wg0 2>/dev/null | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'; }

# tunnel_rtt COUNT INTERVAL: pings node b from node a, bounded; prints the median RTT in ms of
# the answered ones (nothing if none was answered).
tunnel_rtt() {
  local count=$1 interval=$2 times
  times=$(ip netns exec "$ns_a" timeout $((count + 5)) ping -n -c "$count" -i "$interval" -W 2 10.0.0.2 2>/dev/null |
    sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p')
  [ -n "$times" ] && median $times
}

# tunnel_full_size MTU: whether a packet of exactly MTU bytes (a ping of MTU - 28 bytes of
# payload, don't-fragment) crosses the tunnel and its answer comes back.
tunnel_full_size() {
  ip netns exec "$ns_a" timeout 10 ping -n -c 2 -i 0.2 -W 2 -M do -s $(($1 - 28)) 10.0.0.2 >/dev/null 2>&1
}

# tunnel_record_hwm TRANSPORT MTU KEYS...: VmHWM of every process of both nodes, the larger of
# the two nodes' per program name (vpn-init, wireguard-go, udp2tcp, tcp2udp).
tunnel_record_hwm() {
  local transport=$1 mtu=$2 node pid name kb
  shift 2
  declare -A peak=()
  for node in a b; do
    [ -n "$(node_pid "$node")" ] || continue
    for pid in $(tree_pids "$(node_pid "$node")"); do
      name=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
      kb=$(status_kb "$pid" VmHWM)
      [ -n "$kb" ] || continue
      [ "${peak[$name]:-0}" -ge "$kb" ] || peak[$name]=$kb
    done
  done
  for name in vpn-init wireguard-go udp2tcp tcp2udp; do
    [ -n "${peak[$name]:-}" ] && record "$tunnel_bench" "$transport" "${name//-/_}_hwm_kb" "${peak[$name]}" mtu="$mtu" "$@"
  done
  return 0
}

# tunnel_round TRANSPORT MTU SECONDS ROUND: one boot of TRANSPORT at MTU (a number or
# `default`); records the MTU wg0 has, the idle RTT, iperf3's received Mbit/s over SECONDS with
# the RTT meanwhile, whether a full-size packet crosses (round 1) and the peak RSS.
tunnel_round() {
  local transport=$1 setting=$2 seconds=$3 round=$4 mtu rtt load mbit iperf server keys ok i
  if ! tunnel_start "$transport" "$setting"; then
    note "the $transport tunnel at MTU $setting did not come up"; tunnel_stop; return 1
  fi
  mtu=$(tunnel_mtu)
  keys=(set="$([ "$setting" = default ] && echo default || echo explicit)" run="$round")
  record "$tunnel_bench" "$transport" mtu "${mtu:-0}" mtu="${mtu:-0}" "${keys[@]}"
  [ "$round" = 1 ] && { tunnel_full_size "$mtu" && ok=1 || ok=0
    record "$tunnel_bench" "$transport" full_size_ok "$ok" mtu="$mtu" "${keys[@]}"; }
  rtt=$(tunnel_rtt 10 0.05)
  record "$tunnel_bench" "$transport" rtt_idle_ms "$rtt" mtu="$mtu" "${keys[@]}"
  ip netns exec "$ns_b" timeout $((seconds + 30)) iperf3 -s -1 -B 10.0.0.2 -p 5201 >/dev/null 2>&1 &
  server=$!
  for i in $(seq 50); do ip netns exec "$ns_b" ss -ltnH | grep -q 10.0.0.2:5201 && break; sleep 0.1; done
  ip netns exec "$ns_a" timeout $((seconds + 20)) iperf3 -c 10.0.0.2 -p 5201 -t "$seconds" -J >"$work/iperf.json" 2>/dev/null &
  iperf=$!
  # A ping every 0.2 s from 0.5 s after iperf3 starts until about 0.5 s before it ends.
  sleep 0.5
  load=$(tunnel_rtt $(( (seconds - 1) * 5 )) 0.2)
  if wait "$iperf"; then
    mbit=$(python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6))' "$work/iperf.json")
    record "$tunnel_bench" "$transport" mbit "$mbit" mtu="$mtu" "${keys[@]}"
    record "$tunnel_bench" "$transport" rtt_load_ms "$load" mtu="$mtu" "${keys[@]}"
  else
    note "iperf3 over $transport at MTU $mtu failed"
  fi
  kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
  tunnel_record_hwm "$transport" "$mtu" "${keys[@]}"
  tunnel_stop
}

# tunnel_largest_mtu: the largest WG_MTU with which a full-size packet crosses the TCP-carried
# tunnel (each hop: wireguard-go's datagram of MTU + 32 bytes to udp2tcp on loopback, the
# 2-byte-length frame, tcp2udp's datagram to the peer's wireguard-go), by bisection between
# 1380 and 65535 (vpn-init's upper bound), one boot per step (at most 17); recorded as
# metric largest_mtu, with the first MTU that failed.
tunnel_largest_mtu() {
  local good=1380 bad=65536 mid i
  for i in $(seq 17); do
    [ $((bad - good)) -gt 1 ] || break
    # Start next to the arithmetic limit (65507 - 32), then halve.
    if [ "$i" = 1 ]; then mid=65475; elif [ "$i" = 2 ] && [ "$good" = 65475 ]; then mid=65476; else mid=$(( (good + bad) / 2 )); fi
    if tunnel_start tcp "$mid" && [ "$(tunnel_mtu)" = "$mid" ] && tunnel_full_size "$mid"; then good=$mid; else bad=$mid; fi
    tunnel_stop
  done
  record "$tunnel_bench" tcp largest_mtu "$good" first_failing="$bad"
  note "tunnel: the largest MTU a full-size packet crosses over TCP: $good ($bad fails)"
}

# bench_tunnel SECONDS RUNS: UDP at 1420, TCP and TLS at their default and every MTU of the
# sweep, RUNS interleaved rounds of SECONDS each; then the largest working MTU over TCP.
bench_tunnel() {
  local seconds=$1 runs=$2 round config configs=(udp:1420 tcp:default tls:default) mtu
  for mtu in "${tunnel_tcp_mtus[@]}"; do configs+=("tcp:$mtu"); done
  for mtu in "${tunnel_tls_mtus[@]}"; do configs+=("tls:$mtu"); done
  bin=$bindir/vpn-init
  NS_PREFIX=bt$$
  . "$repo/scripts/lib/nodes.sh"
  nodes_create || { note "cannot create the tunnel namespaces"; nodes_destroy; return 1; }
  if [ "$tunnel_impl" = userspace ]; then
    tunnel_certificates && tunnel_gateway_start || note "haproxy did not start: no TLS rows"
  fi
  for round in $(seq "$runs"); do
    for config in "${configs[@]}"; do
      [ "${config%%:*}" = tls ] && [ -z "$tunnel_gateway_pid" ] && continue
      tunnel_round "${config%%:*}" "${config#*:}" "$seconds" "$round"
    done
  done
  tunnel_largest_mtu
  tunnel_gateway_stop
  nodes_destroy
}
