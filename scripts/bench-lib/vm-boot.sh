#!/usr/bin/env bash
# Runs INSIDE the virtme-ng VM (Debian's kernel, with WireGuard): boot to ready and shutdown on
# the kernel path, vpn-init (WG_IMPLEMENTATION=kernel) against the seed's `wg-quick up`. The VM
# cannot write to the host, so every sample is printed on stdout as one JSON line.
# Usage (in the VM): vm-boot.sh REPO TOOLS BINDIR RUNS
set -uo pipefail
repo=$1 tools=$2 bindir=$3 runs=$4
bench_lib=$repo/scripts/bench-lib
work=$(mktemp -d)
raw=$work/raw.jsonl
. "$bench_lib/common.sh"
. "$bench_lib/boot.sh"
trap 'netns_cleanup; rm -rf "$work"' EXIT
modprobe wireguard 2>/dev/null
echo "# kernel $(uname -r)" >&2
bench_boot "$runs" boot_kernel vpn-init-kernel wg-quick || echo "# the kernel boot benchmark failed" >&2
cat "$raw"
