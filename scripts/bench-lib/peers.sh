# Many peers: vpn-init with 1, 100 and 1,000 peers from WG_PEERS_FILE against the wg-quick-style
# reference (seed-setconf.sh: wireguard-go creates the device, `wg setconf` applies the same
# peers, `ip address/link` bring it up), on the userspace path (wireguard-go; the kernel here has
# no WireGuard). Each boot is PID 1 of its own pid+mount namespace in a fresh network namespace,
# timed as boot.sh times it (benchproc stamp, then the `msg=ready` line's arrival on stderr).
# After each boot: the memory of PID 1 and of wireguard-go with that many peers, then the time
# to change one peer live: vpn-init's reload (SIGHUP after the file is replaced, and the file
# replaced alone) against `wg syncconf` of the same change on the reference.
#
# Peer i's public key comes from a fixed private key (the SHA-256 of "dstack-vpn bench peer i",
# `wg pubkey`; cached in $out/peers-keys); its allowed IPs are 10.100.X.Y/32, inside the node's
# 10.100.0.1/16 (no route per peer, for either), its endpoint 172.31.X.Y:51820 on the uplink
# up0 (172.31.0.1/16, no default route), where nothing answers; no keepalive, so nothing is sent.
# vpn-init runs with WG_FORWARD=false WG_MASQUERADE=off: the reference sets up no firewall.
# Needs: $bindir (vpn-init), $tools (benchproc), $work, $raw, $out, $bench_lib; common.sh sourced.

peers_unshare=""
peers_watcher=""
peers_reloads=3
peers_reload_available=""

# peers_keys COUNT: makes sure $out/peers-keys holds at least COUNT lines "PRIVATE PUBLIC".
peers_keys() {
  local cache=$out/peers-keys private
  [ -s "$cache" ] && [ "$(wc -l <"$cache")" -ge "$1" ] && return 0
  : >"$cache.tmp"
  for private in $(python3 - "$1" <<'PY'
import base64, hashlib, sys
for i in range(1, int(sys.argv[1]) + 1):
    print(base64.b64encode(hashlib.sha256(b"dstack-vpn bench peer %d" % i).digest()).decode())
PY
  ); do
    printf '%s %s\n' "$private" "$(printf '%s\n' "$private" | wg pubkey)" >>"$cache.tmp" || return 1
  done
  mv "$cache.tmp" "$cache"
}

# peers_files COUNT NODE_KEY: $work/peers-COUNT/{a,b}.peers (WG_PEERS_FILE lines) and
# {a,b}.conf (wg(8) configuration with NODE_KEY) holding the same COUNT peers; b differs from a in
# the middle peer's allowed IPs (a second /32). live/ is the watched directory vpn-init reads.
peers_files() {
  local dir=$work/peers-$1
  mkdir -p "$dir/live"
  python3 - "$out/peers-keys" "$1" "$2" "$dir" <<'PY'
import sys
keys_path, count, node_key, directory = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
publics = [line.split()[1] for line in open(keys_path)][:count]
middle = (count + 1) // 2
for version in "ab":
    env = ["# dstack-vpn bench: %d peers" % count]
    conf = ["[Interface]", "PrivateKey = " + node_key, "ListenPort = 51820", ""]
    for i, public in enumerate(publics, 1):
        x, y = divmod(i - 1, 250)
        allowed = "10.100.%d.%d/32" % (x + 1, y + 1)
        if version == "b" and i == middle:
            allowed += ",10.100.%d.%d/32" % (x + 101, y + 1)
        endpoint = "172.31.%d.%d:51820" % (x + 1, y + 1)
        env += ["WG_PEER_P%d_PUBLIC_KEY=%s" % (i, public), "WG_PEER_P%d_ALLOWED_IPS=%s" % (i, allowed),
                "WG_PEER_P%d_ENDPOINT=%s" % (i, endpoint)]
        conf += ["[Peer]", "PublicKey = " + public, "AllowedIPs = " + allowed, "Endpoint = " + endpoint, ""]
    open("%s/%s.peers" % (directory, version), "w").write("\n".join(env) + "\n")
    open("%s/%s.conf" % (directory, version), "w").write("\n".join(conf))
PY
  chmod 600 "$dir"/*.conf
}

# peers_command VARIANT COUNT: the environment and command line of vpn-init or the reference.
peers_command() {
  case "$1" in
    vpn-init)
      echo env -i PATH=$PATH_IN_NODES VPN_DATA_DIR="$work/peers-data" WG_ADDRESS=10.100.0.1/16 \
        WG_IMPLEMENTATION=userspace WG_USERSPACE_BIN=/usr/bin/wireguard-go WG_FORWARD=false WG_MASQUERADE=off \
        WG_PEERS_FILE="$work/peers-$2/live/peers" VPN_SHUTDOWN_GRACE=5 \
        "$tools/benchproc" stamp "$work/peers.t0" "$bindir/vpn-init" ;;
    setconf)
      echo env -i PATH=$PATH_IN_NODES WG_CONF="$work/peers-$2/live/wg0.conf" WG_ADDRESS=10.100.0.1/16 PEERS="$2" \
        "$tools/benchproc" stamp "$work/peers.t0" /bin/sh "$bench_lib/seed-setconf.sh" ;;
  esac
}

# peers_outcome LOG FROM: waits (up to about 10 s) for the first reload outcome line of LOG after
# line FROM; prints its line number and the line (benchproc stamped: ns first).
peers_outcome() {
  local i found
  for i in $(seq 1000); do
    found=$(awk -v from="$2" 'NR > from && /msg="peers (reloaded|unchanged)"|msg="peers (file refused|reload failed)/ { print NR, $0; exit }' "$1")
    [ -n "$found" ] && { echo "$found"; return 0; }
    kill -0 "$peers_unshare" 2>/dev/null || return 1
    sleep 0.01
  done
  return 1
}

# peers_ms FROM_NS TO_NS: milliseconds between two CLOCK_MONOTONIC stamps.
peers_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e6 }'; }

# peers_reload_vpn_init PID COUNT RUN LOG: $peers_reloads rounds of, first, the file replaced
# (a copy renamed over it) and SIGHUP at once: from the signal to the `peers reloaded` line (the
# file watch's own reload of the same change follows a quarter second later: `peers unchanged`,
# waited for); then the file replaced alone: from the rename to `peers reloaded` (trigger=file,
# which includes vpn-init's 250 ms debounce). Each change toggles the middle peer's allowed IPs.
peers_reload_vpn_init() {
  local pid=$1 count=$2 run=$3 log=$4 dir=$work/peers-$2 version=a k trigger sent found line from
  for k in $(seq "$peers_reloads"); do
    for trigger in SIGHUP file; do
      if [ "$version" = a ]; then version=b; else version=a; fi
      cp "$dir/$version.peers" "$dir/live/.peers.next"
      from=$(wc -l <"$log")
      sent=$("$tools/benchproc" rename "$dir/live/.peers.next" "$dir/live/peers") || return 1
      [ "$trigger" = SIGHUP ] && { sent=$("$tools/benchproc" signal "$pid" 1) || return 1; }
      found=$(peers_outcome "$log" "$from") || { note "peers: no reload outcome from vpn-init ($count peers, $trigger) within 10 s"; return 1; }
      line=${found#* }
      case "$line" in
        *'msg="peers reloaded"'*"trigger=$trigger"*'changed=p'*)
          record peers_reload "vpn-init-$(tr '[:upper:]' '[:lower:]' <<<"$trigger")" ms "$(peers_ms "$sent" "${line%% *}")" \
            peers="$count" run="$run" ;;
        *) note "peers: unexpected reload outcome ($count peers, $trigger): ${line#* }" ;;
      esac
      if [ "$trigger" = SIGHUP ]; then
        # The file watch's reload of the same file: nothing left to do.
        found=$(peers_outcome "$log" "${found%% *}") || note "peers: no file-triggered reload after the SIGHUP ($count peers)"
      fi
    done
  done
}

# peers_reload_setconf PID COUNT RUN: the same change applied to the reference with `wg syncconf`
# (what a wg-quick-style entrypoint runs on a changed file; wg reads the device's configuration
# and sends the difference), timed from spawn to exit (benchproc starts) inside its namespaces.
peers_reload_setconf() {
  local pid=$1 count=$2 run=$3 dir=$work/peers-$2 version=a k ns
  for k in $(seq $((peers_reloads * 2))); do
    if [ "$version" = a ]; then version=b; else version=a; fi
    cp "$dir/$version.conf" "$dir/live/.wg0.conf.next" && mv "$dir/live/.wg0.conf.next" "$dir/live/wg0.conf"
    ns=$(nsenter --target "$pid" --mount --net "$tools/benchproc" starts 1 /usr/bin/wg -- syncconf wg0 "$dir/live/wg0.conf") ||
      { note "peers: wg syncconf failed ($count peers)"; return 1; }
    record peers_reload wg-syncconf ms "$(awk -v n="$ns" 'BEGIN { printf "%.2f", n / 1e6 }')" peers="$count" run="$run"
  done
}

# peers_stop: the running boot, if any, and its log reader.
peers_stop() {
  [ -n "$peers_unshare" ] && { kill -KILL "$peers_unshare" 2>/dev/null; wait "$peers_unshare" 2>/dev/null; }
  [ -n "$peers_watcher" ] && { kill "$peers_watcher" 2>/dev/null; wait "$peers_watcher" 2>/dev/null; }
  peers_unshare=""
  peers_watcher=""
}

# peers_once VARIANT COUNT RUN: one boot with COUNT peers; records boot to ready, the memory of
# PID 1 and wireguard-go a second after ready, the reload times (vpn-init: when it can reload),
# vpn-init's memory after the reloads, and the shutdown.
peers_once() {
  local variant=$1 count=$2 run=$3 ns=bn$$ dir=$work/peers-$2 log i pid wg t0 t1 shutdown
  log=$work/peers-$variant-$count.log
  netns_new "$ns" || return 1
  ip -n "$ns" link add up0 type veth peer name up0peer && ip -n "$ns" addr add 172.31.0.1/16 dev up0 &&
    ip -n "$ns" link set up0 up && ip -n "$ns" link set up0peer up
  cp "$dir/a.peers" "$dir/live/peers"
  cp "$dir/a.conf" "$dir/live/wg0.conf"
  rm -f "$work/peers.t0" "$work/peers.fifo"
  mkfifo "$work/peers.fifo"
  : >"$log"
  # Every line of the entrypoint's stderr, stamped as it arrives (through a FIFO, so the
  # entrypoint is the only child of unshare).
  "$tools/benchproc" stamped <"$work/peers.fifo" >"$log" &
  peers_watcher=$!
  # shellcheck disable=SC2046
  ip netns exec "$ns" unshare --pid --fork --mount --kill-child \
    sh -c 'mount --make-rprivate / && mount -t proc proc /proc && mount -t tmpfs tmpfs /run && exec "$@"' sh \
    $(peers_command "$variant" "$count") 2>"$work/peers.fifo" &
  peers_unshare=$!
  for i in $(seq 1200); do
    grep -q 'msg=ready' "$log" && break
    kill -0 "$peers_unshare" 2>/dev/null || break
    sleep 0.05
  done
  if ! grep -q 'msg=ready' "$log"; then
    local status=running
    kill -0 "$peers_unshare" 2>/dev/null || { wait "$peers_unshare"; status="exit status $?"; }
    note "peers: $variant with $count peers did not log msg=ready within 60 s ($status); its log:"; tail -n 20 "$log" >&2
    peers_stop; netns_delete "$ns"; return 1
  fi
  pid=$(first_child "$peers_unshare")
  t0=$(cat "$work/peers.t0")
  t1=$(awk '/msg=ready/ { print $1; exit }' "$log")
  record peers_boot "$variant" ms "$(peers_ms "$t0" "$t1")" peers="$count" run="$run"
  sleep 1  # idle, as the boot section measures memory
  wg=$(pgrep -P "$pid" -x wireguard-go | head -n 1)
  record peers_rss "$variant" init_rss_kb "$(status_kb "$pid" VmRSS)" peers="$count" run="$run"
  record peers_rss "$variant" init_hwm_kb "$(status_kb "$pid" VmHWM)" peers="$count" run="$run"
  if [ -n "$wg" ]; then
    record peers_rss "$variant" wg_rss_kb "$(status_kb "$wg" VmRSS)" peers="$count" run="$run"
    record peers_rss "$variant" wg_hwm_kb "$(status_kb "$wg" VmHWM)" peers="$count" run="$run"
  else
    note "peers: no wireguard-go under $variant ($count peers)"
  fi
  if [ "$variant" = setconf ]; then
    peers_reload_setconf "$pid" "$count" "$run"
  elif [ "$peers_reload_available" = yes ]; then
    peers_reload_vpn_init "$pid" "$count" "$run" "$log" ||
      { peers_reload_available=no; note "peers: reload: not available (no outcome line); its log:"; tail -n 5 "$log" >&2; }
    record peers_rss "$variant" init_rss_reloaded_kb "$(status_kb "$pid" VmRSS)" peers="$count" run="$run" \
      reloads=$((peers_reloads * 3))
  fi
  if shutdown=$("$tools/benchproc" term "$pid"); then
    record peers_shutdown "$variant" ms "$(awk -v n="$shutdown" 'BEGIN { printf "%.2f", n / 1e6 }')" peers="$count" run="$run"
  fi
  wait_gone "$peers_unshare" 10 || kill -KILL "$peers_unshare" 2>/dev/null
  wait "$peers_unshare" 2>/dev/null
  # The reader ends with the namespace's last writer to the FIFO.
  wait_gone "$peers_watcher" 5 || kill "$peers_watcher" 2>/dev/null
  wait "$peers_watcher" 2>/dev/null
  peers_unshare=""
  peers_watcher=""
  netns_delete "$ns"
}

# peers_render COUNT RUN: what reading the peers costs vpn-init without a device: the median of 5
# starts of `vpn-init render` (parse and check the environment and the file, print the wg-quick
# configuration; benchproc starts, through env -i, stdout to /dev/null) with the same file.
peers_render() {
  local ns
  ns=$("$tools/benchproc" starts 5 /usr/bin/env -- -i PATH=$PATH_IN_NODES VPN_DATA_DIR="$work/peers-data" \
    WG_ADDRESS=10.100.0.1/16 WG_IMPLEMENTATION=userspace WG_FORWARD=false WG_MASQUERADE=off \
    WG_PEERS_FILE="$work/peers-$1/a.peers" "$bindir/vpn-init" render) || { note "peers: vpn-init render failed ($1 peers)"; return 1; }
  record peers_render vpn-init ms "$(awk -v n="$ns" 'BEGIN { printf "%.2f", n / 1e6 }')" peers="$1" run="$2" starts=5
}

# bench_peers RUNS COUNT...: a discarded warm-up of each variant with the largest COUNT, then RUNS
# rounds, each booting vpn-init and the reference with every COUNT, interleaved.
bench_peers() {
  local runs=$1 run count variant largest
  shift
  largest=$(printf '%s\n' "$@" | sort -n | tail -n 1)
  peers_keys "$largest" || { note "peers: cannot make the peer keys"; return 1; }
  mkdir -p "$work/peers-data"
  (umask 077 && wg genkey >"$work/peers-data/privatekey")
  for count in "$@"; do peers_files "$count" "$(cat "$work/peers-data/privatekey")" || return 1; done
  # vpn-init reloads its peers file live when it has `vpn-init reload`; an older one is not sent
  # SIGHUP, and the report says the reload is not available rather than showing a number.
  if "$bindir/vpn-init" help reload 2>/dev/null | grep -q SIGHUP; then
    peers_reload_available=yes
  else
    peers_reload_available=no
    note "peers: reload: not available (this vpn-init does not reload WG_PEERS_FILE)"
  fi
  for variant in vpn-init setconf; do
    raw=/dev/null peers_once "$variant" "$largest" 0 || return 1
  done
  for run in $(seq "$runs"); do
    for count in "$@"; do
      for variant in vpn-init setconf; do peers_once "$variant" "$count" "$run"; done
      peers_render "$count" "$run"
    done
  done
  record peers_reload vpn-init available "$([ "$peers_reload_available" = yes ] && echo 1 || echo 0)"
}
