# udp-over-tcp goodput: udpblast sends datagrams through `udp2tcp -> tcp2udp` to udpblast's sink,
# all on 127.0.0.1 inside a fresh network namespace that has only lo. The same blast straight
# to the sink (raw UDP) is the ceiling; other implementations (--compare DIR) run the same way.
#
#   udpblast send -> 127.0.0.1:40001 udp2tcp -> 127.0.0.1:40002 tcp2udp -> 127.0.0.1:40003 sink
#
# Goodput is the payload the sink received, in Mbit/s, over the time from the first datagram
# sent to the last one received; loss is the share of the sent datagrams that never arrived.
# Needs: $tools (udpblast), $work, $raw; common.sh sourced.

udp_listen=127.0.0.1:40001
udp_tcp=127.0.0.1:40002
udp_sink=127.0.0.1:40003

# udp_pipeline_start NS DIR: starts DIR/tcp2udp and DIR/udp2tcp in NS; sets udp_pids.
udp_pipeline_start() {
  local ns=$1 dir=$2 i
  ip netns exec "$ns" "$dir/tcp2udp" --tcp-listen "$udp_tcp" --udp-forward "$udp_sink" >>"$work/udp-pipeline.log" 2>&1 &
  udp_pids=($!)
  for i in $(seq 100); do
    ip netns exec "$ns" ss -ltnH "sport = :${udp_tcp##*:}" | grep -q . && break
    sleep 0.05
  done
  ip netns exec "$ns" "$dir/udp2tcp" --udp-listen "$udp_listen" --tcp-forward "$udp_tcp" >>"$work/udp-pipeline.log" 2>&1 &
  udp_pids+=($!)
  # Ours connects at once; an implementation that connects on the first datagram is primed by
  # the blast itself (its first datagrams may then wait in the socket buffer, not be lost).
  for i in $(seq 60); do
    ip netns exec "$ns" ss -tnH state established "dport = :${udp_tcp##*:}" | grep -q . && break
    sleep 0.05
  done
}

udp_pipeline_stop() {
  local pid
  for pid in "${udp_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${udp_pids[@]}"; do wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  udp_pids=()
}

# udp_once VARIANT DIR SIZE COUNT RATE BENCH RUN: one blast (RATE Mbit/s, 0 = unpaced). DIR is
# empty for raw UDP. Records goodput (Mbit/s), loss (%) and, through the pipeline, the peak
# RSS (VmHWM) of udp2tcp and tcp2udp.
udp_once() {
  local variant=$1 dir=$2 size=$3 count=$4 rate=$5 bench=$6 run=$7 ns=bu$$ target=$udp_listen sink_pid
  netns_new "$ns" || return 1
  udp_pids=()
  if [ -z "$dir" ]; then target=$udp_sink; else udp_pipeline_start "$ns" "$dir"; fi
  ip netns exec "$ns" "$tools/udpblast" recv "$udp_sink" "$count" 700 >"$work/udp-recv.json" 2>/dev/null &
  sink_pid=$!
  local i
  for i in $(seq 100); do
    ip netns exec "$ns" ss -lunH "sport = :${udp_sink##*:}" | grep -q . && break
    sleep 0.02
  done
  ip netns exec "$ns" "$tools/udpblast" send "$target" "$size" "$count" "$rate" >"$work/udp-send.json"
  wait "$sink_pid"
  local sent received bytes start last
  sent=$(json_field "$work/udp-send.json" sent)
  received=$(json_field "$work/udp-recv.json" received)
  bytes=$(json_field "$work/udp-recv.json" bytes)
  start=$(json_field "$work/udp-send.json" start_ns)
  last=$(json_field "$work/udp-recv.json" last_ns)
  if [ -n "$received" ] && [ "${received:-0}" -gt 0 ]; then
    record "$bench" "$variant" mbit "$(awk -v b="$bytes" -v a="$start" -v z="$last" 'BEGIN { printf "%.1f", b * 8 / ((z - a) / 1e3) }')" \
      size="$size" rate="$rate" run="$run"
  else
    record "$bench" "$variant" mbit 0 size="$size" rate="$rate" run="$run"
  fi
  record "$bench" "$variant" loss_pct "$(awk -v n="$count" -v r="${received:-0}" 'BEGIN { printf "%.2f", (n - r) * 100 / n }')" \
    size="$size" rate="$rate" run="$run"
  if [ -n "$dir" ]; then
    record "$bench" "$variant" udp2tcp_hwm_kb "$(status_kb "${udp_pids[1]}" VmHWM)" size="$size" rate="$rate" run="$run"
    record "$bench" "$variant" tcp2udp_hwm_kb "$(status_kb "${udp_pids[0]}" VmHWM)" size="$size" rate="$rate" run="$run"
    udp_pipeline_stop
  fi
  netns_delete "$ns"
}

# udp_count SIZE: datagrams per blast (about 280 MB of payload at 1400 bytes; fewer when quick).
udp_count() {
  local count
  case "$1" in 64) count=200000 ;; 1400) count=200000 ;; *) count=50000 ;; esac
  $quick && count=$((count / 2))
  echo "$count"
}

# bench_udp RUNS DIR...: for each datagram size, RUNS interleaved runs of raw UDP and of every
# implementation (VARIANT=DIR words), then an offered-load sweep at 1400 bytes for the plot.
bench_udp() {
  local runs=$1 run size spec variant dir rate count
  shift
  for size in 1400 64 9000; do
    for run in $(seq "$runs"); do
      udp_once raw "" "$size" "$(udp_count "$size")" 0 udp_blast "$run"
      for spec in "$@"; do udp_once "${spec%%=*}" "${spec#*=}" "$size" "$(udp_count "$size")" 0 udp_blast "$run"; done
    done
  done
  # Offered load: paced blasts of about 1.5 s each (0.75 s when quick), three runs per point
  # (one when quick).
  local sweep_runs=3
  $quick && sweep_runs=1
  for run in $(seq "$sweep_runs"); do
    for rate in 250 500 1000 1500 2000 3000; do
      count=$(awk -v r="$rate" -v q="$quick" 'BEGIN { printf "%d", r * 1e6 * (q == "true" ? 0.75 : 1.5) / (1400 * 8) }')
      udp_once raw "" 1400 "$count" "$rate" udp_sweep "$run"
      for spec in "$@"; do udp_once "${spec%%=*}" "${spec#*=}" 1400 "$count" "$rate" udp_sweep "$run"; done
    done
  done
}
