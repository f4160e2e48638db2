#!/usr/bin/env bash
# Runs INSIDE the virtme-ng VM (Debian's kernel, with WireGuard): the tunnel section on the
# kernel path (WG_IMPLEMENTATION=kernel), iperf3 over UDP at 1420 and over udp2tcp/tcp2udp at
# 1380 and at jumbo MTUs, in interleaved rounds. Under QEMU TCG only the ratios mean anything.
# The VM cannot write to the host, so every sample is printed on stdout as one JSON line.
# Usage (in the VM): vm-tunnel.sh REPO TOOLS BINDIR SECONDS RUNS
set -uo pipefail
repo=$1 tools=$2 bindir=$3 seconds=$4 runs=$5
bench_lib=$repo/scripts/bench-lib
work=$(mktemp -d)
raw=$work/raw.jsonl
: >"$raw"
tunnel_impl=kernel
tunnel_bench=tunnel_kernel
. "$bench_lib/common.sh"
. "$bench_lib/tunnel.sh"
bin=$bindir/vpn-init
NS_PREFIX=vk
. "$repo/scripts/lib/nodes.sh"
trap 'nodes_destroy; rm -rf "$work"' EXIT
modprobe wireguard 2>/dev/null
echo "# kernel $(uname -r), $(nproc) CPUs" >&2
nodes_create || { echo "# cannot create the namespaces" >&2; exit 1; }
started=$(date +%s)
for round in $(seq "$runs"); do
  for config in udp:1420 tcp:1380 tcp:16000 tcp:32000 tcp:65000; do
    # Bounded: stop starting rounds after 10 minutes whatever the emulation speed.
    [ $(( $(date +%s) - started )) -lt 600 ] || break 2
    tunnel_round "${config%%:*}" "${config#*:}" "$seconds" "$round" || echo "# $config round $round failed" >&2
  done
done
cat "$raw"
