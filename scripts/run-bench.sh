#!/usr/bin/env bash
# run-bench.sh - run every benchmark with its defaults and print its table (docs/PERFORMANCE.md).
#
#   scripts/run-bench.sh BUILD
#
# BUILD holds the normal (optimised, unsanitized) build.  Benchmarks run one
# after the other, each printing its own table; add new ones at the end.
# Exits non-zero when any benchmark failed (a benchmark that finds a broken
# ring fails `make bench`), after running the rest.
set -u
build=${1:?usage: run-bench.sh BUILD}
failed=0

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"

. "$(dirname "$0")/progress.sh"
# One progress line per benchmark (what runs now, i of n, time so far, a rough estimate left).
progress_begin bench 8

progress_step "bench_ring: virtqueue rings, 64-byte buffers"
echo "## ring: 64-byte buffers driver -> device"
"$build/bench/bench_ring" || failed=1
progress_step "bench-switch: vswd next to DPDK vhost, OVS-DPDK and the Linux bridge"
VSW_FROM_MAKE_BENCH=1 python3 "$(dirname "$0")/bench-switch.py" --build "$build" || failed=1
progress_step "bench-containers: container to container (AF_XDP, AF_PACKET ports, a Linux bridge)"
VSW_FROM_MAKE_BENCH=1 python3 "$(dirname "$0")/bench-containers.py" --build "$build" || failed=1
progress_step "bench_fdb: the lookup stage with 1 MAC and 1M MACs"
echo "## fdb: the lookup stage with 1 MAC and 1M MACs"
"$build/bench/bench_fdb" || failed=1
progress_step "bench-scale: vswd at a thousand vhost-user ports"
VSW_FROM_MAKE_BENCH=1 python3 "$(dirname "$0")/bench-scale.py" --build "$build" || failed=1
progress_step "bench_flows: the lookup stage with flow tables at 1 to 1M flows"
"$build/bench/bench_flows" --flows "$(dirname "$0")/bench-flows/pipeline.flows" || failed=1
progress_step "bench-switch --tso: 64 KiB TCP sends through vswd, DPDK vhost and OVS-DPDK with TSO"
VSW_FROM_MAKE_BENCH=1 python3 "$(dirname "$0")/bench-switch.py" --tso --build "$build" || failed=1
progress_step "bench_vxlan: a vxlan port's encap and decap points over loopback"
"$build/bench/bench_vxlan" || failed=1
progress_end

exit "$failed"
