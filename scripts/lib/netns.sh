# One network namespace with only `lo` up, for the udp-over-tcp suites (scripts/test-abuse,
# scripts/test-udptcp): the real binaries and real tools run in it, so nothing they send can
# leave the machine.
#
#   host ──ip netns exec $NS──▶ lo (127.0.0.1, ::1): tcp2udp, udp2tcp, uot-client.py, tcpdump, haproxy
#
# Source after scripts/lib/checks.sh; set $TMP (a temp dir) first. `start NAME CMD...` runs CMD
# in the namespace in the background, its output in $TMP/NAME.log, its pid in $TMP/NAME.pid;
# ns_destroy ends whatever still runs there. `uot ARGS...` runs scripts/lib/uot-client.py in it.

NS=${NS:-uot-$$}
UOT_CLIENT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/uot-client.py

ns_create() { ip netns add "$NS" && ip -n "$NS" link set lo up; }

ns_destroy() {
    ip netns list 2>/dev/null | grep -qw "$NS" || return 0
    local pid
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill "$pid" 2>/dev/null; done
    sleep 0.3
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del "$NS"
}

in_ns() { ip netns exec "$NS" "$@"; }

# uot ARGS...: the framing client and its servers (scripts/lib/uot-client.py) in the namespace,
# for at most $UOT_TIMEOUT seconds (default 90).
uot() { in_ns timeout "${UOT_TIMEOUT:-90}" python3 "$UOT_CLIENT" "$@"; }

# start NAME CMD...: `ip netns exec` execs the command, so $! is the command's own pid.
start() {
    local name=$1
    shift
    ip netns exec "$NS" "$@" >"$TMP/$name.log" 2>&1 &
    echo $! >"$TMP/$name.pid"
}

pid_of() { cat "$TMP/$1.pid"; }

stop() {
    local pid
    pid=$(cat "$TMP/$1.pid" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
}

alive() { kill -0 "$(pid_of "$1")" 2>/dev/null || { echo "$1 is gone; its log ends:"; tail -n 20 "$TMP/$1.log"; return 1; }; }

# wait_log NAME PATTERN [SECONDS]: waits until the log of NAME has a line matching PATTERN.
wait_log() {
    local deadline=$((SECONDS + ${3:-10}))
    while [ $SECONDS -lt $deadline ]; do
        grep -qE "$2" "$TMP/$1.log" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "no line matching '$2' in $1's log within ${3:-10} s:"
    tail -n 20 "$TMP/$1.log"
    return 1
}

log_has() { grep -qE "$2" "$TMP/$1.log" || { echo "no '$2' in $1's log:"; tail -n 20 "$TMP/$1.log"; return 1; }; }
log_count() { grep -cE "$2" "$TMP/$1.log"; }

# wait_out FILE PATTERN: waits (up to 30 s) for a background client's report line in FILE.
wait_out() {
    for _ in $(seq 300); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

# hexof TEXT: TEXT as hex, for `uot raw` and `uot frames --prefix`.
hexof() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }

# capture NAME FILE FILTER: tcpdump on lo into FILE, started as NAME; returns once it listens.
# Headers are enough (-s 128), and a larger buffer (-B, KiB): the kernel drops what does not fit.
capture() {
    local name=$1 file=$2
    shift 2
    start "$name" tcpdump -i lo -n -U --immediate-mode -s 128 -B 8192 -w "$file" "$@"
    wait_log "$name" 'listening on' >/dev/null
}
captured() { tcpdump -r "$1" -n "${@:2}" 2>/dev/null; }

# Memory of a process started with `start`. rss_kb NAME: its VmRSS in KiB. hwm_kb NAME: its
# peak VmRSS (VmHWM) since it started or since reset_hwm NAME; the kernel keeps it, so even a
# peak that lasts a few milliseconds counts, which sampling VmRSS would miss.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$(pid_of "$1")/status" 2>/dev/null; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$(pid_of "$1")/status" 2>/dev/null; }
reset_hwm() { echo 5 >"/proc/$(pid_of "$1")/clear_refs"; }  # proc(5): clear_refs, "5"
# settled_rss NAME: the lowest VmRSS once it has stopped falling for 3 s (sampled every 0.2 s,
# for 10 s at most), so that memory still in flight, or closes a loaded machine has not handled
# yet, are not counted.
settled_rss() {
    local lowest="" now steady=0
    for _ in $(seq 50); do
        now=$(rss_kb "$1")
        if [ -z "$lowest" ] || [ "${now:-0}" -lt "$lowest" ]; then lowest=$now; steady=0; else steady=$((steady + 1)); fi
        [ "$steady" -ge 15 ] && break
        sleep 0.2
    done
    echo "$lowest"
}

# at_most WHAT VALUE BOUND: VALUE <= BOUND, with a message naming WHAT otherwise.
at_most() { [ -n "$2" ] && [ "$2" -le "$3" ] || { echo "$1: ${2:-nothing} > $3"; return 1; }; }
at_least() { [ -n "$2" ] && [ "$2" -ge "$3" ] || { echo "$1: ${2:-nothing} < $3"; return 1; }; }
