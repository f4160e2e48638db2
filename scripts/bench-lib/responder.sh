# The library the metrics listener could have used, measured (the metrics section): a SwiftNIO
# HTTP/1 responder (scripts/bench-lib/responder, nio-responder: one event loop thread, NIO's
# least) against the same program without NIO (base-listener: binds and waits), both built as
# vpn-init is (release, static Swift standard library, static libstdc++ and libgcc) and stripped
# as in the image. Recorded: each one's size (responder_size); per run, alternating, each in a
# fresh namespace: spawn to `listening` (responder_start), VmRSS and threads a second later
# (responder_idle_rss, responder_threads); then, for nio-responder, $metrics_scrapes scrapes as
# metrics.sh makes them (responder_scrape) and its VmRSS after them (responder_rss_after_scrapes).
# Needs: $repo, $out, $work, $raw; common.sh and metrics.sh sourced.

responder_variants=(base-listener nio-responder)
responder_port=9587

# responder_build: builds both programs into $out/responder and copies them stripped to $work.
responder_build() {
  swift build -c release --static-swift-stdlib --package-path "$bench_lib/responder" --scratch-path "$out/responder" \
    -Xswiftc -L"$repo/build-support/static-libstdc++" -Xswiftc -Xclang-linker -Xswiftc -static-libgcc \
    >"$work/responder-build.log" 2>&1 || { note "responder: the build failed:"; tail -n 20 "$work/responder-build.log" >&2; return 1; }
  local variant
  for variant in "${responder_variants[@]}"; do
    cp "$out/responder/release/$variant" "$work/$variant" && strip --strip-unneeded "$work/$variant" || return 1
    record responder_size "$variant" bytes "$(stat -c %s "$work/$variant")"
  done
}

# responder_once VARIANT RUN: one start of VARIANT in a fresh namespace, measured.
responder_once() {
  local variant=$1 run=$2 ns=bench-responder-$$ pid started line
  netns_new "$ns" || return 1
  mkfifo "$work/responder.out"
  started=$(date +%s%N)
  ip netns exec "$ns" "$work/$variant" "$responder_port" >"$work/responder.out" &
  pid=$!
  read -r -t 10 line <"$work/responder.out"
  local ended=$(date +%s%N)
  rm -f "$work/responder.out"
  if [ "$line" != listening ]; then
    note "responder: $variant did not start"
  else
    record responder_start "$variant" ms "$(awk -v n=$((ended - started)) 'BEGIN { printf "%.2f", n / 1e6 }')" run="$run"
    sleep 1
    record responder_idle_rss "$variant" kB "$(status_kb "$pid" VmRSS)" run="$run"
    record responder_threads "$variant" count "$(awk '$1 == "Threads:" { print $2 }' "/proc/$pid/status")" run="$run"
    [ "$variant" = nio-responder ] &&
      scrape_and_record "$ns" "127.0.0.1:$responder_port" "$variant" "$pid" "$run" responder_scrape responder_rss_after_scrapes
  fi
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  netns_delete "$ns"
}

# bench_responder RUNS: builds, then RUNS runs of each variant, alternating, after a discarded warm-up each.
bench_responder() {
  local runs=$1 run variant
  responder_build || return 1
  for variant in "${responder_variants[@]}"; do raw=/dev/null responder_once "$variant" 0; done
  for run in $(seq "$runs"); do
    for variant in "${responder_variants[@]}"; do responder_once "$variant" "$run"; done
  done
}
