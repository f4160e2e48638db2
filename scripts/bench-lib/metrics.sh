# What the metrics listener costs (the metrics section): vpn-init serving VPN_METRICS_LISTEN
# (vpn-init-metrics, on $boot_metrics_listen in its namespace) against the same node without it
# (vpn-init), both booted by boot.sh's harness (boot_once: a fresh namespace per run, one
# discarded warm-up each, then interleaved runs). Recorded per run: boot to ready
# (boot_metrics), PID 1's idle VmRSS (idle_rss_metrics, idle_rss_tree_metrics) and shutdown
# (shutdown_metrics); then, on vpn-init-metrics only, $metrics_scrapes scrapes of /metrics one
# after another (one curl, a new connection each, inside the node's namespace), their median
# time (scrape_metrics) and PID 1's VmRSS after them (rss_after_scrapes_metrics).
# Needs: what boot.sh needs; boot.sh sourced.

metrics_scrapes=100

# scrape_and_record NS ADDRESS VARIANT PID RUN SCRAPE_BENCH RSS_BENCH: $metrics_scrapes scrapes of
# http://ADDRESS/metrics inside NS; records their median time as SCRAPE_BENCH and PID's VmRSS
# after them as RSS_BENCH.
scrape_and_record() {
  local ns=$1 address=$2 variant=$3 pid=$4 run=$5 answers ok
  # curl's URL range: $metrics_scrapes requests in turn, each on its own connection (the
  # server closes every one); `?N` is a query the listener ignores. The bodies go to
  # /dev/null, one "status seconds" line per request to stderr.
  answers=$(ip netns exec "$ns" curl -s --max-time 60 -w '%{stderr}%{http_code} %{time_total}\n' \
    "http://$address/metrics?[1-$metrics_scrapes]" 2>&1 >/dev/null)
  ok=$(grep -c '^200 ' <<<"$answers")
  [ "$ok" = "$metrics_scrapes" ] || { note "$variant: $ok of $metrics_scrapes scrapes answered 200"; return 0; }
  # shellcheck disable=SC2046
  record "$6" "$variant" ms "$(median $(awk '{ print $2 * 1000 }' <<<"$answers") | awk '{ printf "%.2f", $1 }')" \
    run="$run" scrapes="$metrics_scrapes"
  record "$7" "$variant" kB "$(status_kb "$pid" VmRSS)" run="$run" scrapes="$metrics_scrapes"
}

# metrics_scrape VARIANT PID NS RUN: boot_once's idle step.
metrics_scrape() {
  [ "$1" = vpn-init-metrics ] || return 0
  scrape_and_record "$3" "$boot_metrics_listen" "$1" "$2" "$4" scrape_metrics rss_after_scrapes_metrics
}

# bench_metrics RUNS: RUNS interleaved boots of vpn-init and vpn-init-metrics, with the scrapes.
bench_metrics() {
  local status=0
  boot_idle_step=metrics_scrape
  bench_boot "$1" boot_metrics vpn-init vpn-init-metrics || status=$?
  boot_idle_step=""
  return "$status"
}
