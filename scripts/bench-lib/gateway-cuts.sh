# The dstack gateway tunnel when the gateway cuts it, and when udp2tcp replaces its connection
# on purpose: two vpn-init nodes in dstack mode (VPN_KEY_SOURCE=dstack, WG_PEER_<N>_NODE +
# WG_PEER_<N>_GATEWAY, WG_TCP_LISTEN; userspace WireGuard, keys from a guest-agent stand-in per
# node) that reach each other only through the haproxy gateway stand-in, in scripts/test-dstack's
# topology (scripts/lib/cvms.sh with scripts/lib/nodes.sh, gateway.sh and dstack.sh):
#   cut       the gateway closes every session of both backends at once (gateway_cut, one
#             runtime API command line); recorded: the time from the moment the command was
#             sent until a ping round trip works from node-a to node-b and from node-b to
#             node-a, both pinging at once
#   none      the same probe after a runtime API command that cuts nothing (`show info`),
#             halfway between two cuts: what the probe itself takes, the reference
#   one-way   the same cut, then pings from one node alone (node-a and node-b in turn)
#   rotation  both nodes with VPN_GATEWAY_CONNECTION_LIFETIME=3, pings at 5/s each way: loss, and
#             the gateway sessions each node opened meanwhile (its rotations)
# Each cut comes after the connections have lived more than 10 s: udp2tcp retries at once only
# after a connection that lived 10 s (a burst of cuts backs off).
# Needs: $bindir, $work, $raw, $repo; common.sh sourced.

gateway_cut_up=false
gateway_cut_settle=11   # seconds after a recovery before the next cut
gateway_cut_limit=10    # seconds a probe waits for the tunnel

# The probe: one pinger per namespace, started before the event and waiting on a fifo, so
# that once released it only has to exec ping: `ping -c 1 -i 0.01 -w LIMIT` sends a ping every
# 10 ms until one is answered. They are released the moment the runtime API's answer is in:
# haproxy-api.py writes the time it sent the command to a fifo (HAPROXY_API_SENT_AT), whose
# reader here releases them (without waiting for Python to exit).
gateway_probe_pids=()
gateway_probe_count=0

# gateway_probe_arm NS=ADDR...: starts the pingers and waits until each waits for its go.
gateway_probe_arm() {
  local pair i=0 fifo
  gateway_probe_pids=()
  for pair in "$@"; do
    i=$((i + 1))
    fifo=$work/probe-go-$i
    rm -f "$work/probe-$i" "$fifo" "$fifo.ready"
    mkfifo "$fifo" || return 1
    ( ip netns exec "${pair%%=*}" timeout $((gateway_cut_limit + 60)) sh -c \
        'exec 3<>"$1"; : >"$1.ready"; read -r go <&3 && exec ping -n -c 1 -i 0.01 -w "$2" "$3"' \
        sh "$fifo" "$gateway_cut_limit" "${pair#*=}" >"$work/probe-$i.log" 2>&1 &&
        echo "$EPOCHREALTIME" >"$work/probe-$i" ) &
    gateway_probe_pids+=("$!")
  done
  gateway_probe_count=$i
  for i in $(seq "$gateway_probe_count"); do wait_file "$work/probe-go-$i.ready" 10 -e || return 1; done
}

# gateway_probe_go: releases the pingers.
gateway_probe_go() {
  local i fd
  for i in $(seq "$gateway_probe_count"); do
    exec {fd}<>"$work/probe-go-$i"
    echo go >&"$fd"
    exec {fd}>&-
  done
}

# gateway_probe_time T0: waits for the pingers (in this shell: they are its children, so not
# from a command substitution); sets gateway_probe_ms to the milliseconds from T0
# (EPOCHREALTIME form) until the slowest had its answer, or to the limit ($gateway_cut_limit s)
# and fails when one had none.
gateway_probe_ms=""
gateway_probe_time() {
  local t0=$1 pid i end slowest=0 failed=false
  for pid in "${gateway_probe_pids[@]}"; do wait "$pid"; done
  for i in $(seq "$gateway_probe_count"); do
    rm -f "$work/probe-go-$i" "$work/probe-go-$i.ready"
    end=$(cat "$work/probe-$i" 2>/dev/null) ||
      { failed=true; note "gateway: pinger $i: $(tail -n 3 "$work/probe-$i.log" | tr '\n' ' ')"; continue; }
    slowest=$(awk -v a="$t0" -v b="$end" -v s="$slowest" 'BEGIN { d = (b - a) * 1000; print (d > s ? d : s) }')
  done
  if $failed; then gateway_probe_ms=$((gateway_cut_limit * 1000)); return 1; fi
  gateway_probe_ms=$(awk -v s="$slowest" 'BEGIN { printf "%.1f\n", s }')
}


# gateway_ping NS ADDR: one answered ping within 20 s.
gateway_ping() { ip netns exec "$1" timeout 25 ping -n -q -c 1 -i 0.2 -w 20 "$2" >/dev/null 2>&1; }

# gateway_nodes_start [VAR=VALUE...]: both nodes (fresh data dirs), ready, and a ping each way.
gateway_nodes_start() {
  : >"$work/a.log"; : >"$work/b.log"
  rm -rf "$work/data-a" "$work/data-b"
  node_start a WG_IMPLEMENTATION=userspace "$@"
  node_start b WG_IMPLEMENTATION=userspace "$@"
  wait_for "$work/a.log" msg=ready 30 && wait_for "$work/b.log" msg=ready 30 &&
    gateway_ping "$ns_a" 10.0.0.2 && gateway_ping "$ns_b" 10.0.0.1
}

gateway_nodes_stop() {
  [ -e "$work/a.pid" ] || [ -e "$work/b.pid" ] || return 0
  node_kill a TERM; node_kill b TERM
  node_wait_exit a 15; node_wait_exit b 15
  rm -f "$work/a.pid" "$work/b.pid"
}

# gateway_event VARIANT RUN EVENT NS=ADDR...: arms the probe; EVENT `cut` (the gateway cuts
# every session of both backends, gateway_cut) or `none` (a runtime API command that changes
# nothing: the probe's own time, as a reference); releases the probe and records as VARIANT
# the time from the moment the command was sent until a ping from each NS to its ADDR has had
# its answer.
gateway_event() {
  local variant=$1 run=$2 event=$3 sent=$work/sent-at relay status=0
  shift 3
  gateway_probe_arm "$@" || { note "gateway: the pingers did not start"; return 1; }
  rm -f "$sent" "$sent.time"
  mkfifo "$sent" || return 1
  # The relay: opened read-write, so haproxy-api.py's open never waits for it.
  ( exec {fd}<>"$sent"
    read -t 30 -r at <&"$fd" && echo "$at" >"$sent.time" && gateway_probe_go ) &
  relay=$!
  case "$event" in
    cut) HAPROXY_API_SENT_AT=$sent gateway_cut be_node_a/s1 be_node_b/s1 || status=1 ;;
    none) HAPROXY_API_SENT_AT=$sent gateway_cmd "show info" >/dev/null || status=1 ;;
  esac
  if [ "$status" != 0 ]; then
    note "gateway: the runtime API did not take the command ($event)"
    kill "$relay" 2>/dev/null; wait "$relay" 2>/dev/null
    gateway_probe_go; gateway_probe_time 0
    return 1
  fi
  wait "$relay"
  if gateway_probe_time "$(cat "$sent.time")"; then
    record gateway_cut "$variant" ms "$gateway_probe_ms" run="$run"
  else
    note "gateway: $variant $run: no answer within $gateway_cut_limit s"
    record gateway_cut "$variant" ms "$gateway_probe_ms" run="$run" timeout=1
  fi
}

# bench_gateway CUTS ONE_WAY PINGS: CUTS cuts timed both ways, ONE_WAY cuts timed from one side
# (node-a and node-b in turn), then PINGS pings each way at 5/s with a 3 s connection lifetime.
bench_gateway() {
  local cuts=$1 one_way=$2 pings=$3 n before_a before_b after_a after_b pinger direction received
  NS_PREFIX=bg$$
  . "$repo/scripts/lib/nodes.sh"
  . "$repo/scripts/lib/gateway.sh"
  . "$repo/scripts/lib/dstack.sh"
  . "$repo/scripts/lib/cvms.sh"
  bin=$bindir/vpn-init
  mode=dstack
  node_env() { cvm_env "$1"; }
  rm -f "$work/a.pid" "$work/b.pid"  # the tunnel section's nodes, long gone
  gateway_cut_up=true
  bench_namespaces+=("$ns_a" "$ns_b" "$ns_g")
  cvms_create || { note "gateway: cannot create the namespaces"; gateway_cut_stop; return 1; }
  cvms_gateway && gateway_start "$ns_g" || { note "gateway: haproxy did not start"; gateway_cut_stop; return 1; }
  cvm_agent_start a && cvm_agent_start b || { note "gateway: the guest-agent stand-ins did not start"; gateway_cut_stop; return 1; }

  if gateway_nodes_start; then
    before_a=$(gateway_sessions be_node_a/s1) before_b=$(gateway_sessions be_node_b/s1)
    # Each cut comes $gateway_cut_settle s after the tunnel was last back (after it came up, the
    # first time), so the connections it closes have lived more than 10 s.
    for n in $(seq "$cuts"); do
      # The reference, halfway: the same probe after a command that cuts nothing.
      sleep $((gateway_cut_settle / 2))
      gateway_event none "$n" none "$ns_a=10.0.0.2" "$ns_b=10.0.0.1" || break
      sleep $((gateway_cut_settle - gateway_cut_settle / 2))
      gateway_event both "$n" cut "$ns_a=10.0.0.2" "$ns_b=10.0.0.1" || break
    done
    for n in $(seq "$one_way"); do
      sleep "$gateway_cut_settle"
      if [ $((n % 2)) = 1 ]; then gateway_event from-a "$n" cut "$ns_a=10.0.0.2" || break
      else gateway_event from-b "$n" cut "$ns_b=10.0.0.1" || break; fi
    done
    # Every cut must have made both nodes dial the gateway again (node-a dials be_node_b).
    sleep 1
    after_a=$(gateway_sessions be_node_a/s1) after_b=$(gateway_sessions be_node_b/s1)
    record gateway_redial node-a connections $((after_b - before_b)) cuts=$((cuts + one_way))
    record gateway_redial node-b connections $((after_a - before_a)) cuts=$((cuts + one_way))
    # And each node's vpn-init made WireGuard send at once after each reconnection.
    record gateway_redial node-a nudges "$(grep -c 'transport reconnected' "$work/a.log")" cuts=$((cuts + one_way))
    record gateway_redial node-b nudges "$(grep -c 'transport reconnected' "$work/b.log")" cuts=$((cuts + one_way))
  else
    note "gateway: the tunnel through the gateway did not come up"
  fi
  gateway_nodes_stop

  if gateway_nodes_start VPN_GATEWAY_CONNECTION_LIFETIME=3; then
    before_a=$(gateway_sessions be_node_a/s1) before_b=$(gateway_sessions be_node_b/s1)
    ip netns exec "$ns_a" timeout $((pings / 5 + 15)) ping -n -q -c "$pings" -i 0.2 -W 2 10.0.0.2 >"$work/rotation-ab.log" 2>&1 &
    pinger=$!
    ip netns exec "$ns_b" timeout $((pings / 5 + 15)) ping -n -q -c "$pings" -i 0.2 -W 2 10.0.0.1 >"$work/rotation-ba.log" 2>&1
    wait "$pinger"
    after_a=$(gateway_sessions be_node_a/s1) after_b=$(gateway_sessions be_node_b/s1)
    for direction in ab ba; do
      received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$work/rotation-$direction.log")
      record gateway_rotation "$direction" received "${received:-0}" sent="$pings" lifetime=3
    done
    record gateway_rotation node-a connections $((after_b - before_b)) seconds=$((pings / 5)) lifetime=3
    record gateway_rotation node-b connections $((after_a - before_a)) seconds=$((pings / 5)) lifetime=3
  else
    note "gateway: the tunnel with a 3 s connection lifetime did not come up"
  fi
  gateway_cut_stop
}

# gateway_cut_stop: stops the nodes, the gateway and the stand-ins; removes the namespaces.
gateway_cut_stop() {
  $gateway_cut_up || return 0
  gateway_nodes_stop
  gateway_stop
  agents_stop
  cvms_destroy
  netns_delete "$ns_a"; netns_delete "$ns_b"; netns_delete "$ns_g"
  gateway_cut_up=false
}
