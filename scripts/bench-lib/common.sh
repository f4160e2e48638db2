# Shared helpers of scripts/bench: recording samples, namespaces, process lookups.
# Source after setting $work (a temp dir), $raw (the JSON-lines file samples go to) and $tools
# (where the C helpers are built).

PATH_IN_NODES=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
bench_namespaces=()

# record BENCH VARIANT METRIC VALUE [KEY=VALUE...]: appends one sample to $raw. Extra KEY=VALUE
# pairs (numbers or words) are kept with it, e.g. size=1400.
record() {
  local bench=$1 variant=$2 metric=$3 value=$4 extra="" pair
  shift 4
  [ -n "$value" ] || { note "no value for $bench/$variant/$metric"; return 0; }
  for pair in "$@"; do
    case "${pair#*=}" in
      ''|*[!0-9.]*) extra+=",\"${pair%%=*}\":\"${pair#*=}\"" ;;
      *) extra+=",\"${pair%%=*}\":${pair#*=}" ;;
    esac
  done
  printf '{"bench":"%s","variant":"%s","metric":"%s","value":%s%s}\n' "$bench" "$variant" "$metric" "$value" "$extra" >>"$raw"
}

note() { echo "bench: $*" >&2; }

# json_field FILE KEY: a number from a one-line JSON object written by the C helpers.
json_field() { sed -n "s/.*\"$2\":\([0-9.-]*\).*/\1/p" "$1" | head -n 1; }

# netns_new NAME: a namespace with only lo up; removed by netns_cleanup.
netns_new() {
  ip netns add "$1" || return 1
  bench_namespaces+=("$1")
  ip -n "$1" link set lo up
}

netns_delete() {
  ip netns del "$1" 2>/dev/null
  local kept=() ns
  for ns in "${bench_namespaces[@]}"; do [ "$ns" = "$1" ] || kept+=("$ns"); done
  bench_namespaces=("${kept[@]}")
  return 0
}

netns_cleanup() {
  local ns
  for ns in "${bench_namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
  bench_namespaces=()
}

# first_child PID: the first child of PID (waits up to 5 s for it to appear).
first_child() {
  local i child
  for i in $(seq 100); do
    child=$(pgrep -P "$1" | head -n 1)
    [ -n "$child" ] && { echo "$child"; return 0; }
    sleep 0.05
  done
  return 1
}

# status_kb PID FIELD: a VmRSS/VmHWM-style field of /proc/PID/status, in kB.
status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; }

# tree_pids PID: PID and all of its descendants.
tree_pids() {
  local pid=$1 child
  echo "$pid"
  for child in $(pgrep -P "$pid"); do tree_pids "$child"; done
}

# tree_rss_kb PID: VmRSS of PID and its descendants, summed (shared pages counted per process).
tree_rss_kb() {
  local total=0 pid rss
  for pid in $(tree_pids "$1"); do
    rss=$(status_kb "$pid" VmRSS)
    total=$((total + ${rss:-0}))
  done
  echo "$total"
}

# cpu_ns PID: CPU time of every thread of PID so far, in ns (/proc/PID/task/*/schedstat).
cpu_ns() {
  cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d\n", s }'
}

# wait_file FILE SECONDS [-e]: waits until FILE exists and is not empty (with -e: exists).
wait_file() {
  local i test="${3:--s}"
  for i in $(seq $(($2 * 20))); do
    [ "$test" "$1" ] && return 0
    sleep 0.05
  done
  return 1
}

# wait_gone PID SECONDS: waits until PID no longer exists.
wait_gone() {
  local i
  for i in $(seq $(($2 * 20))); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.05
  done
  return 1
}

# median VALUES...: the median (the mean of the middle two for an even count).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
