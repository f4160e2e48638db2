# Guest-agent stand-ins (scripts/lib/dstack-agent.py) for the black-box suites, and the Python
# environment with the official dstack SDK that checks them (scripts/lib/check-dstack-sdk.py).
# Source after scripts/lib/checks.sh; set $work (a temp dir) first. agents_stop stops them all.

dstack_agent=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/dstack-agent.py
# The SDK's environment is kept between runs (its packages come from PyPI once).
DSTACK_SDK_VENV=${DSTACK_SDK_VENV:-/var/cache/dstack-vpn-venv}
DSTACK_SDK_VERSION=0.5.4
agent_pids=()

# agent_start NAME [NS] -- ARGS...: runs a stand-in (in network namespace NS when given: for
# --listen 127.0.0.1:PORT in a node's own loopback) with ARGS (--socket or --listen, --app-id,
# --instance-id, --mode); waits until it listens. Its log is $work/agent-NAME.log, PID in
# $work/agent-NAME.pid.
agent_start() {
  local name=$1 ns="" i pid
  shift
  [ "$1" != -- ] && { ns=$1; shift; }
  shift
  : >"$work/agent-$name.out"
  if [ -n "$ns" ]; then
    ip netns exec "$ns" python3 "$dstack_agent" "$@" >"$work/agent-$name.out" 2>"$work/agent-$name.log" &
  else
    python3 "$dstack_agent" "$@" >"$work/agent-$name.out" 2>"$work/agent-$name.log" &
  fi
  pid=$!
  agent_pids+=("$pid")
  echo "$pid" >"$work/agent-$name.pid"
  for i in $(seq 100); do
    grep -q '^ready ' "$work/agent-$name.out" && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "  stand-in $name did not start: $(cat "$work/agent-$name.log")" >&2
  return 1
}

# agent_stop NAME: stops one stand-in.
agent_stop() {
  local pid
  pid=$(cat "$work/agent-$1.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -f "$work/agent-$1.pid"
  return 0
}

agents_stop() {
  local pid
  for pid in "${agent_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${agent_pids[@]}"; do wait "$pid" 2>/dev/null; done
  agent_pids=()
  return 0
}

# agent_derive ARGS...: the stand-in's derivations (derive, wg-private-key, wg-public-key).
agent_derive() { python3 "$dstack_agent" "$@"; }

# dstack_sdk_python: prints the path of a Python with dstack-sdk $DSTACK_SDK_VERSION, creating
# the environment ($DSTACK_SDK_VENV) on first use with Debian's python3 and pip.
dstack_sdk_python() {
  local python=$DSTACK_SDK_VENV/bin/python
  local probe="import importlib.metadata as m, dstack_sdk; assert m.version('dstack-sdk') == '$DSTACK_SDK_VERSION'"
  if ! "$python" -c "$probe" 2>/dev/null; then
    { /usr/bin/python3 -m venv "$DSTACK_SDK_VENV" &&
      timeout 300 "$DSTACK_SDK_VENV/bin/pip" install --quiet --disable-pip-version-check \
        "dstack-sdk==$DSTACK_SDK_VERSION" && "$python" -c "$probe"; } >&2 || return 1
  fi
  echo "$python"
}
