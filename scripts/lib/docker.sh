# Shared helpers for scripts/build-image, scripts/demo and scripts/test-docker: a Docker daemon
# that is started only when none runs (and stopped again only by whoever started it), the
# compose command of this machine (v2 `docker compose` or v1 `docker-compose`), and copying a
# binary with the shared libraries it loads into an image root.

DOCKERD_LOG=${DOCKERD_LOG:-/tmp/dstack-vpn-dockerd.log}
dockerd_pid=""

docker_running() { docker info >/dev/null 2>&1; }

# docker_ensure_daemon: starts dockerd in the background when no daemon answers, and waits up to
# 60 s for it. Sets $dockerd_pid when it started one. Returns 1 (with the log's tail) on failure.
docker_ensure_daemon() {
  docker_running && return 0
  command -v dockerd >/dev/null || { echo "docker: no daemon runs and dockerd is not installed" >&2; return 1; }
  dockerd >"$DOCKERD_LOG" 2>&1 &
  dockerd_pid=$!
  local i
  for i in $(seq 120); do
    docker_running && return 0
    kill -0 "$dockerd_pid" 2>/dev/null || break
    sleep 0.5
  done
  echo "docker: dockerd did not come up; the end of $DOCKERD_LOG:" >&2
  tail -n 15 "$DOCKERD_LOG" | sed 's/^/  | /' >&2
  docker_release_daemon
  return 1
}

# docker_release_daemon: stops the dockerd that docker_ensure_daemon started (nothing otherwise),
# waiting up to 30 s for it to exit.
docker_release_daemon() {
  [ -n "$dockerd_pid" ] || return 0
  kill -TERM "$dockerd_pid" 2>/dev/null
  local i
  for i in $(seq 60); do
    kill -0 "$dockerd_pid" 2>/dev/null || break
    sleep 0.5
  done
  kill -0 "$dockerd_pid" 2>/dev/null && kill -KILL "$dockerd_pid" 2>/dev/null
  wait "$dockerd_pid" 2>/dev/null
  dockerd_pid=""
  return 0
}

# compose ARGS...: `docker compose` (v2) when the CLI has it, else `docker-compose` (v1).
compose() {
  if [ -z "${COMPOSE_COMMAND:-}" ]; then
    if docker compose version >/dev/null 2>&1; then COMPOSE_COMMAND="docker compose"
    elif command -v docker-compose >/dev/null; then COMPOSE_COMMAND="docker-compose"
    else echo "compose: neither \`docker compose\` nor docker-compose is installed" >&2; return 127
    fi
  fi
  $COMPOSE_COMMAND "$@"
}

# docker_build TAG DOCKERFILE CONTEXT: builds offline. BuildKit when the CLI has buildx, else the
# classic builder (Debian's docker.io has no buildx); FROM scratch needs no registry either way.
docker_build() {
  local tag=$1 dockerfile=$2 context=$3
  if docker buildx version >/dev/null 2>&1; then
    docker build --quiet --tag "$tag" --file "$dockerfile" "$context"
  else
    # The classic builder prints a deprecation notice on stderr; keep only real errors.
    local errors status=0
    errors=$(mktemp)
    DOCKER_BUILDKIT=0 docker build --quiet --tag "$tag" --file "$dockerfile" "$context" 2>"$errors" || status=$?
    grep -v -e DEPRECATED -e 'BuildKit is currently disabled' -e 'environment-variable' \
      -e 'docs.docker.com/go/buildx' -e '^ *$' "$errors" >&2 || true
    rm -f "$errors"
    return "$status"
  fi
}

# image_add_binary ROOT SOURCE DEST [strip]: copies SOURCE to ROOT/DEST (stripped when asked) and
# every shared library `ldd` lists for it, the dynamic loader included, at the path ldd names.
image_add_binary() {
  local root=$1 source=$2 dest=$3 strip=${4:-}
  [ -x "$source" ] || { echo "image: $source is missing" >&2; return 1; }
  install -D -m 0755 "$source" "$root$dest" || return 1
  if [ "$strip" = strip ]; then strip --strip-unneeded "$root$dest" || return 1; fi
  local libraries library
  # `ldd` lines: "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)".
  libraries=$(ldd "$source" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}') || true
  for library in $libraries; do
    [ -e "$root$library" ] && continue
    install -D -m 0755 "$(readlink -f "$library")" "$root$library" || return 1
  done
}

# image_base_root ROOT: an empty image root with the static files of rootfs/ (passwd, group,
# nsswitch.conf, var/run -> ../run) and the directories a program expects (/tmp 1777, /run).
image_base_root() {
  local root=$1
  rm -rf "$root" && mkdir -p "$root" || return 1
  cp -a rootfs/. "$root/" || return 1
  install -d -m 1777 "$root/tmp"
  install -d -m 0755 "$root/run"
}

# pick_underlay_prefix: prints the first of 172.20 ... 172.29 whose /16 no Docker network and no
# host route uses yet (docker-compose.yml's VPN_UNDERLAY_PREFIX); 172.20 when all are taken.
pick_underlay_prefix() {
  local used prefix
  used="$(docker network inspect $(docker network ls -q) --format '{{range .IPAM.Config}}{{.Subnet}} {{end}}' 2>/dev/null) $(ip -4 route 2>/dev/null)"
  for prefix in 172.20 172.21 172.22 172.23 172.24 172.25 172.26 172.27 172.28 172.29; do
    [[ "$used" == *"$prefix."* ]] || { echo "$prefix"; return 0; }
  done
  echo 172.20
}
