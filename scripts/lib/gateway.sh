# haproxy standing in for the dstack gateway: it terminates TLS with a certificate for
# *.DOMAIN (signed by a test CA), routes each connection by its SNI to one backend (a node's
# tcp2udp, plain TCP) and copies the bytes both ways, as dstack-gateway does for
# `<id>-<port>.<domain>`. Its runtime API (a stats socket, level admin) lets a test cut sessions
# and read counters. Source after scripts/lib/checks.sh; set $work first.
#
#   gateway_init DIR DOMAIN          test CA (DIR/ca.pem, what clients trust) and DIR/gateway.pem
#   gateway_route SNI BACKEND ADDR:PORT   SNI goes to ADDR:PORT, server BACKEND/s1
#   gateway_start NS                 writes DIR/haproxy.cfg, starts haproxy in NS, waits until it listens
#   gateway_stop                     stops it (gateway_start again restarts it)
#   gateway_cut BACKEND/SERVER...    closes every session of these servers (one command line,
#                                    so all of them at once)
#   gateway_sessions BACKEND/SERVER  how many sessions the server has had since the start
#   gateway_cmd COMMAND...           any runtime API command; prints the answer
# With HAPROXY_API_SENT_AT=FILE in the environment, gateway_cmd and gateway_cut write to FILE
# the time the command was sent (as EPOCHREALTIME: seconds since the epoch) as soon as the
# answer is in (FILE may be a fifo, whose reader then learns that moment).
#
# GATEWAY_BIND (default :443) is where it listens; GATEWAY_TLS the bind's TLS options (default
# TLS 1.2 only; empty for haproxy's defaults). Its log (one line per closed session) goes to
# DIR/gateway.log. haproxy runs as DIR/dstack-gateway (a symlink, so that is its process name):
# scripts/bootstrap stops every process named haproxy (the packaged daemon), and a bootstrap run
# by another test on the same machine must not stop this one.

GATEWAY_BIND=${GATEWAY_BIND-:443}
GATEWAY_TLS=${GATEWAY_TLS-ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.2}
gateway_dir=""
gateway_pid=""
gateway_ns=""
gateway_routes=()
gateway_api=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/haproxy-api.py

gateway_init() {
  gateway_dir=$1
  local domain=$2
  mkdir -p "$gateway_dir" || return 1
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=test gateway CA" \
    -keyout "$gateway_dir/ca.key" -out "$gateway_dir/ca.pem" 2>/dev/null &&
  openssl req -newkey rsa:2048 -nodes -subj "/CN=*.$domain" -addext "subjectAltName=DNS:*.$domain" \
    -keyout "$gateway_dir/gateway.key" -out "$gateway_dir/gateway.csr" 2>/dev/null &&
  openssl x509 -req -in "$gateway_dir/gateway.csr" -CA "$gateway_dir/ca.pem" -CAkey "$gateway_dir/ca.key" \
    -CAcreateserial -days 2 -copy_extensions copy -out "$gateway_dir/gateway.crt" 2>/dev/null &&
  cat "$gateway_dir/gateway.crt" "$gateway_dir/gateway.key" >"$gateway_dir/gateway.pem" &&
  ln -sf "$(command -v haproxy)" "$gateway_dir/dstack-gateway"
}

gateway_route() { gateway_routes+=("$1 $2 $3"); }

gateway_config() {
  local route sni backend server
  cat <<CFG
global
  log stderr format short local0 info
  stats socket $gateway_dir/haproxy.sock mode 600 level admin
defaults
  mode tcp
  log global
  option tcplog
  timeout connect 5s
  timeout client 1h
  timeout server 1h
frontend gateway
  bind $GATEWAY_BIND ssl crt $gateway_dir/gateway.pem $GATEWAY_TLS
CFG
  for route in "${gateway_routes[@]}"; do
    read -r sni backend server <<<"$route"
    echo "  use_backend $backend if { ssl_fc_sni -i $sni }"
  done
  for route in "${gateway_routes[@]}"; do
    read -r sni backend server <<<"$route"
    printf 'backend %s\n  server s1 %s\n' "$backend" "$server"
  done
}

gateway_start() {
  gateway_ns=${1:-$gateway_ns}
  gateway_config >"$gateway_dir/haproxy.cfg"
  ip netns exec "$gateway_ns" "$gateway_dir/dstack-gateway" -db -f "$gateway_dir/haproxy.cfg" >>"$gateway_dir/gateway.log" 2>&1 &
  gateway_pid=$!
  local i port=${GATEWAY_BIND##*:}
  for i in $(seq 50); do
    ip netns exec "$gateway_ns" ss -ltnH "sport = :$port" | grep -q LISTEN && [ -S "$gateway_dir/haproxy.sock" ] && return 0
    kill -0 "$gateway_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "  the gateway did not start:" >&2
  sed 's/^/  | /' "$gateway_dir/gateway.log" >&2
  return 1
}

gateway_stop() {
  [ -n "$gateway_pid" ] && kill "$gateway_pid" 2>/dev/null && wait "$gateway_pid" 2>/dev/null
  gateway_pid=""
  rm -f "$gateway_dir/haproxy.sock"
  return 0
}

gateway_cmd() {
  timeout 10 python3 "$gateway_api" "$gateway_dir/haproxy.sock" "$@" 2>/dev/null && return 0
  if [ -n "$gateway_pid" ] && ! kill -0 "$gateway_pid" 2>/dev/null; then
    echo "  the gateway (haproxy, PID $gateway_pid) is gone:" >&2
    wait "$gateway_pid" 2>/dev/null
    echo "  | exit status $?" >&2
    tail -n 5 "$gateway_dir/gateway.log" | sed 's/^/  | /' >&2
  else
    echo "  the gateway's runtime API did not answer: $*" >&2
  fi
  return 1
}

gateway_cut() {
  local commands="" server
  for server in "$@"; do commands+="${commands:+; }shutdown sessions server $server"; done
  gateway_cmd "$commands" >/dev/null
}

# The `stot` column of `show stat` for BACKEND/SERVER.
gateway_sessions() {
  gateway_cmd "show stat" | awk -F, -v backend="${1%/*}" -v server="${1#*/}" '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == "stot") column = i }
    $1 == backend && $2 == server { print $column; found = 1 }
    END { if (!found) exit 1 }'
}
