#!/usr/bin/env bash
# callgrind-vswd.sh - instructions per forwarded frame of vswd's worker, by function (valgrind's callgrind).
#
#   scripts/callgrind-vswd.sh [BUILD] [SECONDS] [VSW-BENCH OPTIONS...]
#   FLOWS=scripts/bench-flows/pipeline.flows scripts/callgrind-vswd.sh build 10 --dst-flows 1000
#
# vswd of BUILD (default build) runs under callgrind (one profile per
# thread) with two vhost-user server ports; vsw-bench of the same build
# sends 64-byte frames from one to the other flat out for SECONDS (default
# 10), with any further options passed to vsw-bench (--packed, --no-mrg,
# --size N, --flows N, --dst-flows N, --in-order), but --cache-sim, which
# runs callgrind with its cache model (an L1 of 32 KiB 8-way, a last level
# of 512 KiB 8-way, lines of 64 bytes) and adds per frame the data reads
# (Dr) and writes (Dw) and the L1 read and write misses (D1mr, D1mw):
# lines touched, which instruction counts do not show.  FLOWS=FILE in the
# environment loads that rule set (ovs-ofctl syntax, ports p0 and p1, as
# bench-switch.py --flows) into vswd (`vswctl flow replace`) before the
# frames start, and the lookup stage's instructions per frame
# (dp_flow_lookup, inclusive) are printed too.  Callgrind runs vswd some 50 times slower, so the frames come in full
# bursts and the count is the steady state's.  It prints the worker
# thread's instructions (Ir) per frame received on p0, in all and for the
# 25 functions with the most, and leaves the profiles in the work directory
# (callgrind_annotate them for line counts).  Instruction counts do not
# vary between runs nor with the machine's load, which cycle counts on a
# shared virtual machine do; they say nothing of cache misses.  Needs
# valgrind (apt install valgrind).
set -eu
build=${1:-build}
seconds=${2:-10}
shift $(($# < 2 ? $# : 2))
cache=()
bench=()
for a in "$@"; do
	if [ "$a" = --cache-sim ]; then
		cache=(--cache-sim=yes --D1=32768,8,64 --LL=524288,8,64)
	else
		bench+=("$a")
	fi
done
command -v valgrind > /dev/null || { echo "callgrind-vswd: valgrind is not installed" >&2; exit 1; }
d=$(mktemp -d /tmp/vsw-cg.XXXXXX)
cat > "$d/vswd.json" <<EOJ
{"workers": 1, "busy_poll": false, "ports": [{"name": "p0", "type": "vhost-user", "path": "$d/p0.sock", "mode": "server"},
 {"name": "p1", "type": "vhost-user", "path": "$d/p1.sock", "mode": "server"}]}
EOJ
valgrind --tool=callgrind --separate-threads=yes ${cache[@]+"${cache[@]}"} --callgrind-out-file="$d/cg" \
	"$build/vswd" --foreground --ctl "$d/ctl.sock" --config "$d/vswd.json" > "$d/vswd.log" 2>&1 &
vg=$!
for _ in $(seq 100); do [ -S "$d/p1.sock" ] && break; sleep 0.2; done
if [ -n "${FLOWS:-}" ]; then
	"$build/vswctl" --ctl "$d/ctl.sock" flow replace "$FLOWS"
fi
timeout $((seconds + 30)) "$build/vsw-bench" --a "$d/p0.sock" --b "$d/p1.sock" --seconds "$seconds" ${bench[@]+"${bench[@]}"} --json > "$d/bench.json"
frames=$("$build/vswctl" --ctl "$d/ctl.sock" stats --json |
	python3 -c 'import json,sys; print(next(p["rx_packets"] for p in json.load(sys.stdin)["ports"] if p["name"] == "p0"))')
kill -TERM "$vg"
wait "$vg" || true
# The worker: the thread with the most instructions.
worker=$(for f in "$d"/cg-*; do echo "$(grep -m1 -E '^(summary|totals):' "$f" | awk '{print $2}') $f"; done | sort -n | tail -1 | cut -d' ' -f2)
echo "callgrind-vswd: $build, $frames frames into p0 in ${seconds} s; profiles in $d"
show=Ir
[ ${#cache[@]} -gt 0 ] && show=Ir,Dr,Dw,D1mr,D1mw
callgrind_annotate --inclusive=no --show="$show" "$worker" 2>/dev/null | python3 -c '
import re, sys
frames = int(sys.argv[1])
names = sys.argv[2].split(",")
n = 0
print("  " + "".join("%8s" % e for e in names) + "  (per frame)")
for line in sys.stdin:
    m = re.match(r"\s*((?:[\d,.]+(?:\s+\(\s*[\d.]+%\))?\s+){" + str(len(names)) + r"})(\S+)", line)
    if not m or "%" not in m.group(1):
        continue
    vals = [int(v.replace(",", "")) if v != "." else 0 for v in re.findall(r"([\d,]+|\.)(?:\s+\(\s*[\d.]+%\))?\s+", m.group(1))]
    name = m.group(2)
    cols = "".join("%8.2f" % (v / frames) if names[i].endswith(("mr", "mw")) else "%8.1f" % (v / frames)
                   for i, v in enumerate(vals))
    if name == "PROGRAM":
        print("  %s  all of the worker" % cols)
        continue
    print("  %s  %s" % (cols, re.sub(r"^.*?/(src|include)/", r"\1/", name)))
    n += 1
    if n == 25:
        break
' "$frames" "$show"
if [ -n "${FLOWS:-}" ]; then
	callgrind_annotate --inclusive=yes --show=Ir "$worker" 2>/dev/null | python3 -c '
import re, sys
frames = int(sys.argv[1])
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+\S*:dp_flow_lookup\b", line)
    if m:
        print("%8.1f  instructions per frame in the lookup stage (dp_flow_lookup, inclusive), %s" % (
            int(m.group(1).replace(",", "")) / frames, sys.argv[2]))
        break
' "$frames" "$FLOWS"
fi
