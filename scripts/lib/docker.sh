# Shared helpers for scripts/build-image, scripts/demo and scripts/test-docker: a Docker daemon
# that is started only when none runs (and stopped again only by whoever started it), the
# compose command of this machine (v2 `docker compose` or v1 `docker-compose`), copying a
# binary with the shared libraries it loads into an image root, and a reproducible image made
# of such a root without `docker build`.

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
# The result is dated by the build (see image_assemble for an image that is not): the local
# stand-ins of --services are built this way.
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
# strip also drops the two parts of a release binary that depend on the checkout's directory even
# with the path maps of scripts/lib/release.sh: the debug info names the clang module cache by a
# hash of the compiler's arguments (absolute paths among them), and both swiftc's module hashes
# (.swift_modhash, an MD5 of each object's LLVM IR, debug info included; nothing reads it at run
# time) and the linker's build id (a hash of the whole output) follow it.
image_add_binary() {
  local root=$1 source=$2 dest=$3 strip=${4:-}
  [ -x "$source" ] || { echo "image: $source is missing" >&2; return 1; }
  install -D -m 0755 "$source" "$root$dest" || return 1
  if [ "$strip" = strip ]; then
    strip --strip-unneeded --remove-section=.swift_modhash --remove-section=.note.gnu.build-id "$root$dest" || return 1
  fi
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

# --- reproducible images: built from a root without `docker build` -----------------------------
# The classic builder dates the image config, its history and every file of a COPY layer by the
# build, and names intermediate images and containers: no two builds give the same image id. An
# image assembled from its root does: the layer is a tar of sorted entries, all root:root, all
# dated $SOURCE_DATE_EPOCH, and the config (whose sha256 is the image id) is written here.

# image_normalize_modes ROOT: modes that depend neither on the umask nor on how git checked
# rootfs/ out: directories 0755 (/tmp 1777), executable files 0755, other files 0644.
image_normalize_modes() {
  local root=$1
  find "$root" -type d -exec chmod 0755 {} + &&
    find "$root" -type f -perm -u+x -exec chmod 0755 {} + &&
    find "$root" -type f ! -perm -u+x -exec chmod 0644 {} + || return 1
  if [ -d "$root/tmp" ]; then chmod 1777 "$root/tmp"; fi
}

# image_layer ROOT TAR: ROOT as a layer tar: its entries sorted by name (bytewise, without a
# leading ./), owner and group 0 without names, every mtime $SOURCE_DATE_EPOCH, and POSIX
# (pax) headers without atime, ctime or the tar's PID in their names.
image_layer() {
  local root=$1 tar=$2
  (cd "$root" && find . -mindepth 1 -printf '%P\0' | LC_ALL=C sort -z) |
    tar --create --file="$tar" --directory="$root" --null --no-recursion --files-from=- \
      --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
      --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner
}

# image_assemble TAG ROOT ARCHIVE CONFIG-COMMAND: the image of ROOT (one layer) with the config
# CONFIG-COMMAND DIFF_ID prints, written to ARCHIVE in the format of `docker save` (manifest.json,
# the config as <sha256>.json, the layer as <sha256>/layer.tar) and loaded as TAG. The image id
# is sha256:<the config's sha256>; `docker load` checks the layer against the config's diff_id.
image_assemble() {
  local tag=$1 root=$2 archive=$3 config_command=$4
  local bundle=$archive.d layer_sum config_sum loaded
  rm -rf "$bundle" && mkdir -p "$bundle" || return 1
  image_layer "$root" "$bundle/layer.tar" || return 1
  layer_sum=$(sha256sum "$bundle/layer.tar" | cut -d' ' -f1)
  mkdir "$bundle/$layer_sum" && mv "$bundle/layer.tar" "$bundle/$layer_sum/layer.tar" || return 1
  "$config_command" "sha256:$layer_sum" >"$bundle/config.json" || return 1
  config_sum=$(sha256sum "$bundle/config.json" | cut -d' ' -f1)
  mv "$bundle/config.json" "$bundle/$config_sum.json" || return 1
  printf '[{"Config":"%s.json","RepoTags":[%s],"Layers":["%s/layer.tar"]}]' \
    "$config_sum" "$(json_string "$tag")" "$layer_sum" >"$bundle/manifest.json"
  (cd "$bundle" && printf '%s\0' manifest.json "$config_sum.json" "$layer_sum" "$layer_sum/layer.tar") |
    tar --create --file="$archive" --directory="$bundle" --null --no-recursion --files-from=- \
      --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
      --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner || return 1
  rm -rf "$bundle"
  docker load --quiet --input "$archive" >/dev/null || return 1
  loaded=$(docker image inspect --format '{{.Id}}' "$tag") || return 1
  [ "$loaded" = "sha256:$config_sum" ] ||
    { echo "image: $tag is $loaded after docker load, not sha256:$config_sum" >&2; return 1; }
}

# image_architecture: the architecture of the binaries this machine builds, as an image names it.
image_architecture() {
  case "$(uname -m)" in
    x86_64) echo amd64 ;;
    aarch64) echo arm64 ;;
    *) dpkg --print-architecture ;;
  esac
}

# image_package_of PATH: the Debian package that installed PATH (as ldd or the image names it:
# with merged /usr, dpkg may know it under /usr or only by the file a link points to); nothing
# for a file of no package.
image_package_of() {
  local path
  for path in "$1" "/usr$1" "$(readlink -f "$1" 2>/dev/null)"; do
    dpkg-query -S "$path" 2>/dev/null | sed -n '1{s/: .*//; s/:[^,]*//g; s/, /\n/g; p}' | grep . && return 0
  done
  return 0
}

# json_string TEXT: TEXT as a JSON string (quotes and backslashes escaped; no control characters).
json_string() {
  local text=${1//\\/\\\\}
  text=${text//\"/\\\"}
  printf '"%s"' "$text"
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
