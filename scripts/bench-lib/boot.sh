# Boot to ready, shutdown and idle memory on the userspace path: vpn-init against the seed-style
# shell entrypoint (seed-entrypoint.sh), each started as PID 1 of its own pid+mount namespace
# inside a fresh network namespace, as scripts/lib/nodes.sh does for the test nodes.
#
# Every run gets a new network namespace holding lo and an uplink `up0` (one end of a veth pair
# whose other end is in the same namespace; 172.31.0.1/24, no default route), so both
# entrypoints start from the same empty kernel state. The peer's endpoint 172.31.0.2 is on that
# link, where nothing answers.
#
# vpn-init-nopie is the same node run by a build of the same vpn-init linked -no-pie
# ($bindir/vpn-init-nopie): what keeping PID 1 position-independent costs a boot.
#
# vpn-init-dstack is vpn-init with VPN_KEY_SOURCE=dstack: its key comes from the dstack guest
# agent's Info and GetKey at boot, here scripts/lib/dstack-agent.py (Python) on a socket outside
# the namespaces, started once by boot_agent_start and stopped by boot_agent_stop.
# Needs: $bindir (vpn-init, and vpn-init-nopie for that variant), $tools (benchproc), $work, $raw; common.sh sourced; $repo for the
# stand-in.

boot_peer_key=""
boot_agent_pid=""
boot_agent_socket=""
# Where vpn-init-metrics serves /metrics, inside its namespace.
boot_metrics_listen=127.0.0.1:9586
# A function boot_once calls with VARIANT PID NS RUN once the node has idled and its memory is
# recorded, before SIGTERM (empty: none).
boot_idle_step=""
# What vpn-init asks GetKey for node-a (DstackKeys: path dstack-vpn/wireguard/NODE, purpose wireguard).
boot_agent_getkey='{"path":"dstack-vpn/wireguard/node-a","purpose":"wireguard","algorithm":"secp256k1"}'

# boot_agent_start: the guest agent stand-in on $work/agent.sock; waits for its `ready` line.
boot_agent_start() {
  local i
  boot_agent_socket=$work/agent.sock
  python3 "$repo/scripts/lib/dstack-agent.py" serve --socket "$boot_agent_socket" \
    --app-id 5eed00000000000000000000000000000000b007 --instance-id 1a57000000000000000000000000000000000001 \
    >"$work/agent.out" 2>"$work/agent.log" &
  boot_agent_pid=$!
  for i in $(seq 100); do
    grep -q '^ready' "$work/agent.out" 2>/dev/null && return 0
    kill -0 "$boot_agent_pid" 2>/dev/null || break
    sleep 0.05
  done
  note "the guest agent stand-in did not start:"; tail -n 5 "$work/agent.log" >&2
  boot_agent_stop
  return 1
}

boot_agent_stop() {
  [ -n "$boot_agent_pid" ] || return 0
  kill -TERM "$boot_agent_pid" 2>/dev/null
  wait_gone "$boot_agent_pid" 5 || kill -KILL "$boot_agent_pid" 2>/dev/null
  wait "$boot_agent_pid" 2>/dev/null
  boot_agent_pid=""
  rm -f "$boot_agent_socket"
}

# boot_agent_rtt WARM IDLE BENCH: round trips to the stand-in alone, made as vpn-init makes them
# (benchproc rpc: Info, then GetKey, each on a new connection): IDLE rounds after a second's idle,
# as before each boot, and WARM rounds back to back. Records the medians in microseconds under
# agent_rtt_PATH (BENCH's path) with idle_ms=1000 or 0, so readers can subtract the stand-in's
# answer time from a boot.
boot_agent_rtt() {
  local warm=$1 idle=$2 bench=$3 pause rounds times
  "$tools/benchproc" rpc "$boot_agent_socket" 5 0 Info '{}' GetKey "$boot_agent_getkey" >/dev/null ||
    { note "the stand-in's Info or GetKey failed"; return 1; }
  for pause in 1000 0; do
    if [ "$pause" = 0 ]; then rounds=$warm; else rounds=$idle; fi
    times=$("$tools/benchproc" rpc "$boot_agent_socket" "$rounds" "$pause" Info '{}' GetKey "$boot_agent_getkey") ||
      { note "the stand-in's Info or GetKey failed"; return 1; }
    # shellcheck disable=SC2046
    record "${bench/boot/agent_rtt}" Info us "$(median $(awk '{ print $1 }' <<<"$times") | awk '{ printf "%.0f", $1 / 1e3 }')" \
      idle_ms="$pause" count="$rounds"
    # shellcheck disable=SC2046
    record "${bench/boot/agent_rtt}" GetKey us "$(median $(awk '{ print $2 }' <<<"$times") | awk '{ printf "%.0f", $1 / 1e3 }')" \
      idle_ms="$pause" count="$rounds"
  done
}

# boot_start_cost ROUNDS STARTS BENCH: ROUNDS rounds of STARTS interleaved starts of
# `vpn-init version` and `vpn-init-nopie version` (benchproc starts: spawn to exit). The loader's
# work on PID 1's own image is all that tells them apart, and a boot pays it once; a boot to
# ready varies by milliseconds from run to run, these starts by tens of microseconds. Records
# each round's medians in ms under start_PATH (BENCH's path).
boot_start_cost() {
  local rounds=$1 starts=$2 bench=$3 round medians
  "$tools/benchproc" starts 5 "$bindir/vpn-init" "$bindir/vpn-init-nopie" -- version >/dev/null ||
    { note "vpn-init version failed"; return 1; }
  for round in $(seq "$rounds"); do
    medians=($("$tools/benchproc" starts "$starts" "$bindir/vpn-init" "$bindir/vpn-init-nopie" -- version)) ||
      { note "the starts of vpn-init version failed"; return 1; }
    record "${bench/boot/start}" vpn-init ms "$(awk -v n="${medians[0]}" 'BEGIN { printf "%.3f", n / 1e6 }')" run="$round" starts="$starts"
    record "${bench/boot/start}" vpn-init-nopie ms "$(awk -v n="${medians[1]}" 'BEGIN { printf "%.3f", n / 1e6 }')" run="$round" starts="$starts"
  done
}

# boot_command VARIANT: the environment and command line of one entrypoint: vpn-init,
# vpn-init-nopie, vpn-init-dstack, vpn-init-metrics (vpn-init serving VPN_METRICS_LISTEN on
# $boot_metrics_listen) or the shell (userspace path), vpn-init-kernel or wg-quick (kernel path).
boot_command() {
  case "$1" in
    vpn-init-dstack)
      echo env -i PATH=$PATH_IN_NODES VPN_DATA_DIR="$work/boot-data-dstack" WG_ADDRESS=10.0.0.1/24 \
        VPN_KEY_SOURCE=dstack VPN_NODE_NAME=node-a DSTACK_SIMULATOR_ENDPOINT="$boot_agent_socket" \
        WG_IMPLEMENTATION=userspace WG_MASQUERADE=up0 WG_PEER_B_PUBLIC_KEY="$boot_peer_key" \
        WG_PEER_B_ALLOWED_IPS=10.0.0.2/32 WG_PEER_B_ENDPOINT=172.31.0.2:51820 WG_PEER_B_PERSISTENT_KEEPALIVE=25 \
        VPN_SHUTDOWN_GRACE=5 "$tools/benchproc" stamp "$work/boot.t0" "$bindir/vpn-init" ;;
    vpn-init|vpn-init-nopie|vpn-init-kernel|vpn-init-metrics)
      local implementation=userspace binary=vpn-init metrics=""
      [ "$1" = vpn-init-kernel ] && implementation=kernel
      [ "$1" = vpn-init-nopie ] && binary=vpn-init-nopie
      [ "$1" = vpn-init-metrics ] && metrics=VPN_METRICS_LISTEN=$boot_metrics_listen
      echo env -i PATH=$PATH_IN_NODES VPN_DATA_DIR="$work/boot-data-vpn" WG_ADDRESS=10.0.0.1/24 $metrics \
        WG_IMPLEMENTATION=$implementation WG_MASQUERADE=up0 WG_PEER_B_PUBLIC_KEY="$boot_peer_key" \
        WG_PEER_B_ALLOWED_IPS=10.0.0.2/32 WG_PEER_B_ENDPOINT=172.31.0.2:51820 WG_PEER_B_PERSISTENT_KEEPALIVE=25 \
        VPN_SHUTDOWN_GRACE=5 "$tools/benchproc" stamp "$work/boot.t0" "$bindir/$binary" ;;
    shell)
      echo env -i PATH=$PATH_IN_NODES DATA_DIR="$work/boot-data-shell" WG_ADDRESS=10.0.0.1/24 UPLINK=up0 \
        PEER_PUBLIC_KEY="$boot_peer_key" PEER_ALLOWED_IPS=10.0.0.2/32 PEER_ENDPOINT=172.31.0.2:51820 \
        "$tools/benchproc" stamp "$work/boot.t0" /bin/sh "$bench_lib/seed-entrypoint.sh" ;;
    wg-quick)
      echo env -i PATH=$PATH_IN_NODES DATA_DIR="$work/boot-data-shell" WG_ADDRESS=10.0.0.1/24 UPLINK=up0 \
        PEER_PUBLIC_KEY="$boot_peer_key" PEER_ALLOWED_IPS=10.0.0.2/32 PEER_ENDPOINT=172.31.0.2:51820 \
        "$tools/benchproc" stamp "$work/boot.t0" /bin/sh "$bench_lib/seed-wg-quick.sh" ;;
  esac
}

# boot_once VARIANT RUN BENCH: one boot, an idle pause, then SIGTERM. Records boot_ms, shutdown_ms,
# the init's idle VmRSS and the whole container's (init and its children) idle RSS.
boot_once() {
  local variant=$1 run=$2 bench=$3 ns=bb$$ unshare pid t0 t1 rss tree shutdown
  netns_new "$ns" || return 1
  ip -n "$ns" link add up0 type veth peer name up0peer && ip -n "$ns" addr add 172.31.0.1/24 dev up0 &&
    ip -n "$ns" link set up0 up && ip -n "$ns" link set up0peer up
  rm -f "$work/boot.t0" "$work/boot.t1" "$work/boot.fifo"
  mkfifo "$work/boot.fifo"
  # The watcher reads the entrypoint's stderr through a FIFO, so the entrypoint is the only child
  # of unshare.
  "$tools/benchproc" watch msg=ready "$work/boot.t1" <"$work/boot.fifo" >>"$work/boot-$variant.log" &
  # shellcheck disable=SC2046
  ip netns exec "$ns" unshare --pid --fork --mount --kill-child \
    sh -c 'mount --make-rprivate / && mount -t proc proc /proc && mount -t tmpfs tmpfs /run && exec "$@"' sh \
    $(boot_command "$variant") 2>"$work/boot.fifo" &
  unshare=$!
  if ! wait_file "$work/boot.t1" 60; then
    note "$variant did not log msg=ready within 60 s; its log:"; tail -n 20 "$work/boot-$variant.log" >&2
    kill -KILL "$unshare" 2>/dev/null; wait "$unshare" 2>/dev/null; netns_delete "$ns"; return 1
  fi
  pid=$(first_child "$unshare")
  t0=$(cat "$work/boot.t0"); t1=$(cat "$work/boot.t1")
  record "$bench" "$variant" ms "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')" run="$run"
  sleep 1  # idle: let the tunnel settle before measuring memory
  rss=$(status_kb "$pid" VmRSS)
  tree=$(tree_rss_kb "$pid")
  record "${bench/boot/idle_rss}" "$variant" kB "$rss" run="$run"
  record "${bench/boot/idle_rss_tree}" "$variant" kB "$tree" run="$run"
  # A section's own measurement of the idle node before it stops (the metrics section's scrapes).
  [ -z "$boot_idle_step" ] || "$boot_idle_step" "$variant" "$pid" "$ns" "$run"
  if shutdown=$("$tools/benchproc" term "$pid"); then
    record "${bench/boot/shutdown}" "$variant" ms "$(awk -v n="$shutdown" 'BEGIN { printf "%.2f", n / 1e6 }')" run="$run"
  fi
  wait_gone "$unshare" 10 || kill -KILL "$unshare" 2>/dev/null
  wait "$unshare" 2>/dev/null
  netns_delete "$ns"
}

# bench_boot RUNS BENCH VARIANT...: a discarded warm-up of each variant, then RUNS interleaved
# runs of each. BENCH is boot_userspace or boot_kernel. vpn-init-dstack needs boot_agent_start.
bench_boot() {
  local runs=$1 bench=$2 run variant
  shift 2
  boot_peer_key=$(wg genkey | wg pubkey)
  mkdir -p "$work/boot-data-vpn" "$work/boot-data-shell" "$work/boot-data-dstack"
  # The file variants start from an existing key, as every boot after the first does (the dstack
  # one has no key file: its key is derived at every boot).
  (umask 077 && wg genkey >"$work/boot-data-vpn/privatekey")
  cp "$work/boot-data-vpn/privatekey" "$work/boot-data-shell/privatekey"
  wg pubkey <"$work/boot-data-shell/privatekey" >"$work/boot-data-shell/publickey"
  chmod 600 "$work"/boot-data-*/privatekey
  for variant in "$@"; do
    raw=/dev/null boot_once "$variant" 0 "$bench" || return 1
  done
  for run in $(seq "$runs"); do
    for variant in "$@"; do boot_once "$variant" "$run" "$bench"; done
  done
}
