# Footprint: CPU time PID 1 spends reaping orphans (vpn-init against tini, the init `docker run
# --init` adds), and the image's size (scripts/build-image) against an image holding what the
# seed-style entrypoint needs, assembled the same way (FROM scratch, binaries plus ldd libraries).
# Needs: $bindir, $tools, $work, $raw, $repo; common.sh sourced.

# orphans_once VARIANT COUNT RUN: PID 1 (vpn-init with a tunnel, or tini) runs a main command that
# makes COUNT orphans; records PID 1's CPU time (all threads, schedstat) spent meanwhile.
orphans_once() {
  local variant=$1 count=$2 run=$3 ns=bo$$ unshare pid before after i command
  netns_new "$ns" || return 1
  ip -n "$ns" link add up0 type veth peer name up0peer && ip -n "$ns" addr add 172.31.0.1/24 dev up0 &&
    ip -n "$ns" link set up0 up
  rm -f "$work/orphans.go" "$work/orphans.json"
  # The main command waits for the go file, so the "before" sample is taken at rest.
  local main=(/bin/sh -c 'while [ ! -e "$1" ]; do sleep 0.02; done; "$2" orphans "$3" >"$4.tmp"; mv "$4.tmp" "$4"; exec sleep 60'
    sh "$work/orphans.go" "$tools/benchproc" "$count" "$work/orphans.json")
  case "$variant" in
    vpn-init)
      command=(env -i PATH=$PATH_IN_NODES VPN_DATA_DIR="$work/orphans-data" WG_ADDRESS=10.0.0.1/24
        WG_IMPLEMENTATION=userspace WG_MASQUERADE=off "$bindir/vpn-init" -- "${main[@]}") ;;
    tini) command=(env -i PATH=$PATH_IN_NODES "$(command -v tini)" -- "${main[@]}") ;;
  esac
  ip netns exec "$ns" unshare --pid --fork --mount --kill-child \
    sh -c 'mount --make-rprivate / && mount -t proc proc /proc && mount -t tmpfs tmpfs /run && exec "$@"' sh \
    "${command[@]}" >>"$work/orphans-$variant.log" 2>&1 &
  unshare=$!
  pid=$(first_child "$unshare")
  # Wait for the main command's polling loop (vpn-init starts it once the tunnel is ready).
  for i in $(seq 600); do pgrep -P "$pid" -x sh >/dev/null && break; sleep 0.05; done
  sleep 0.5
  before=$(cpu_ns "$pid")
  touch "$work/orphans.go"
  wait_file "$work/orphans.json" 120 || note "$variant: the orphans did not finish"
  # Let PID 1 collect the last zombies.
  for i in $(seq 100); do
    [ "$(ps -o stat= --ppid "$pid" | grep -c Z)" = 0 ] && break
    sleep 0.05
  done
  after=$(cpu_ns "$pid")
  record orphans "$variant" cpu_ms "$(awk -v a="$before" -v b="$after" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')" \
    count="$count" run="$run"
  kill -KILL "$unshare" 2>/dev/null
  wait "$unshare" 2>/dev/null
  netns_delete "$ns"
}

bench_orphans() {
  local runs=$1 count=$2 run variant
  command -v tini >/dev/null || note "tini is not installed: vpn-init's reaping has no reference"
  mkdir -p "$work/orphans-data"
  for run in $(seq "$runs"); do
    for variant in vpn-init tini; do
      [ "$variant" = tini ] && ! command -v tini >/dev/null && continue
      orphans_once "$variant" "$count" "$run"
    done
  done
}

# bench_image: builds the image with scripts/build-image (from the release binaries already
# built) and a seed-style one for comparison; records both sizes in bytes.
bench_image() {
  . "$repo/scripts/lib/docker.sh"
  docker_ensure_daemon || { note "no Docker daemon: image size not measured"; return 0; }
  if VPN_IMAGE=dstack-vpn:bench "$repo/scripts/build-image" --no-swift-build >"$work/build-image.log" 2>&1; then
    record image dstack-vpn bytes "$(docker image inspect --format '{{.Size}}' dstack-vpn:bench)"
    local file
    for file in vpn-init udp-over-tcp udp2tcp tcp2udp wireguard-go; do
      [ -f "$repo/.build-image/vpn/usr/bin/$file" ] && [ ! -L "$repo/.build-image/vpn/usr/bin/$file" ] &&
        record image_file "$file" bytes "$(stat -c %s "$repo/.build-image/vpn/usr/bin/$file")"
    done
  else
    note "scripts/build-image failed:"; tail -n 20 "$work/build-image.log" >&2
  fi
  # The seed-style image: sh, wg, ip, iptables (nft backend), wireguard-go and their libraries.
  local root=$work/seed-image
  image_base_root "$root"
  image_add_binary "$root" /bin/dash /bin/sh strip
  image_add_binary "$root" /usr/bin/wg /usr/bin/wg strip
  image_add_binary "$root" /usr/bin/wg-quick /usr/bin/wg-quick
  image_add_binary "$root" /bin/bash /bin/bash strip
  image_add_binary "$root" /sbin/ip /sbin/ip strip
  image_add_binary "$root" /usr/sbin/xtables-nft-multi /usr/sbin/iptables strip
  image_add_binary "$root" /usr/bin/wireguard-go /usr/bin/wireguard-go
  # iptables loads its match and target extensions (MASQUERADE, ...) with dlopen.
  local extensions=/usr/lib/x86_64-linux-gnu/xtables
  [ -d "$extensions" ] && mkdir -p "$root$extensions" && cp -a "$extensions/." "$root$extensions/"
  cp "$repo/scripts/bench-lib/seed-entrypoint.sh" "$root/entrypoint.sh"
  printf 'FROM scratch\nCOPY . /\nENTRYPOINT ["/bin/sh", "/entrypoint.sh"]\n' >"$work/seed.Dockerfile"
  if docker_build dstack-vpn-seed:bench "$work/seed.Dockerfile" "$root" >/dev/null 2>&1; then
    record image seed bytes "$(docker image inspect --format '{{.Size}}' dstack-vpn-seed:bench)"
  fi
  docker image rm dstack-vpn:bench dstack-vpn-seed:bench >/dev/null 2>&1
  docker_release_daemon
}
