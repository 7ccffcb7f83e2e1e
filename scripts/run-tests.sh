#!/usr/bin/env bash
# run-tests.sh - run every test binary and print one closing line "N passed, N failed".
#
#   scripts/run-tests.sh BUILD [ASAN_BUILD]
#
# Then the scenario tests against real peers (tests/scenario/*.py: QEMU
# guests, DPDK testpmd, hostile front ends), which need root; VSW_SCENARIOS=0
# skips them, VSW_SCENARIOS=name1,name2 picks some.
#
# BUILD holds the normal build: its unit tests (tests/test_*) and stress
# tests (every other binary in tests/) run at full size.  ASAN_BUILD, when
# given, holds the ASan+UBSan build: its unit tests run, and its stress tests
# run with VSW_STRESS_COUNT buffers (default 200000) per combination.
# Each binary's own count is read from its closing line (cmocka's
# "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)" or "N passed, N failed");
# cmocka's "[  SKIPPED ] N test(s)" count as failed: nothing may pass by not running;
# a binary that prints neither counts as one test, judged by its exit code.
set -u

build=$1
asan=${2:-}
passed=0
failed=0
failed_names=()
logdir=$(mktemp -d /tmp/vsw-tests.XXXXXX)

run_one() {		# label, binary, args...
	local label=$1 bin=$2; shift 2
	local log="$logdir/$(echo "$label" | tr '/ ' '__').log"
	local start=$SECONDS rc p f
	"$bin" "$@" >"$log" 2>&1
	rc=$?
	p=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) test\(s\)\..*/\1/p' "$log" | tail -1)
	f=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) test\(s\).*/\1/p' "$log" | tail -1)
	if [ -z "$p$f" ]; then
		p=$(sed -nE 's/^([a-z0-9_-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2/p' "$log" | tail -1)
		f=$(sed -nE 's/^([a-z0-9_-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\3/p' "$log" | tail -1)
	fi
	# A skipped test did not run: it counts as failed (a missing prerequisite must show).
	sk=$(sed -nE 's/^\[  SKIPPED \] ([0-9]+) test\(s\).*/\1/p' "$log" | tail -1)
	p=${p:-0}; f=$(( ${f:-0} + ${sk:-0} ))
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		if [ $rc -eq 0 ]; then p=1; else f=1; fi
	elif [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1	# crashed or failed after its counts
	fi
	passed=$((passed + p)); failed=$((failed + f))
	printf '%-40s %4d passed %4d failed  (%ds)\n' "$label" "$p" "$f" $((SECONDS - start))
	if [ "$f" -ne 0 ]; then
		failed_names+=("$label")
		# The failed checks by name first: the tail below may not reach them.
		if grep -qE '^FAIL | FAILED( |$)|^not ok' "$log"; then
			echo "---- failed checks of $label"
			grep -E '^FAIL | FAILED( |$)|^not ok' "$log" | head -20
		fi
		echo "---- output of $label (last 40 lines; full log $log)"
		tail -40 "$log"
		echo "----"
	fi
}

# Includes point one way (tools -> ctl -> dp -> switch -> port -> ... -> lib).
run_one "check/includes" "$(dirname "$0")/check-includes.sh"
# The manual pages: mandoc's lint, and every command, option and port key of --help in them.
run_one "check/man" python3 "$(dirname "$0")/check-man.py" "$build"
# Progress lines (scripts/progress.sh, .py) on a pipe and a terminal, and the scripts that print them.
run_one "check/progress" python3 "$(dirname "$0")/progress.py" --self-test
# bench-switch's parsers and flow files (the issue 14 rule sets map to OVS's ports and parse); no root, no traffic.
run_one "check/bench-switch" python3 "$(dirname "$0")/bench-switch.py" --self-test
# bench-vxlan's report and perf reader on canned samples; no root, no traffic.
run_one "check/bench-vxlan" python3 "$(dirname "$0")/bench-vxlan.py" --self-test
# The guest console protocol (tests/guest/guest.py) against a fake QEMU, a lost begin marker included.
run_one "check/guest-console" python3 "$(dirname "$0")/../tests/guest/guest.py" --self-test

for t in "$build"/tests/test_*; do
	[ -x "$t" ] && run_one "unit/$(basename "$t")" "$t"
done
for t in "$build"/tests/*; do
	case $(basename "$t") in test_*|*.o|*.d) continue ;; esac
	[ -f "$t" ] && [ -x "$t" ] && run_one "stress/$(basename "$t")" "$t"
done
# Smoke run of the benchmarks' code paths (figures are not judged here: make bench measures).
[ -x "$build/bench/bench_ring" ] && run_one "smoke/bench_ring" "$build/bench/bench_ring" --seconds 0.3 --samples 1 --all --retakes 0
[ -x "$build/bench/bench_fdb" ] && run_one "smoke/bench_fdb" "$build/bench/bench_fdb" --macs 20000 --small 1024 --batches 100 --samples 1
[ -x "$build/bench/bench_flows" ] && run_one "smoke/bench_flows" "$build/bench/bench_flows" --batches 100 --samples 1 --max-flows 10000
[ -x "$build/bench/bench_vxlan" ] && run_one "smoke/bench_vxlan" "$build/bench/bench_vxlan" -s 1 -n 20
# The storm benchmark runs its three phases and prints its verdict line (drops are not judged: a shared machine has them).
[ -x "$build/bench/bench_flow_storm" ] && run_one "smoke/bench_flow_storm" bash -c \
	'set -o pipefail; "$0" --smoke | tee /dev/stderr | grep -q "^bench_flow_storm: established drops during the storm: [0-9]* (target 0)$"' \
	"$build/bench/bench_flow_storm"

if [ -n "$asan" ]; then
	for t in "$asan"/tests/test_*; do
		[ -x "$t" ] && run_one "asan/unit/$(basename "$t")" "$t"
	done
	for t in "$asan"/tests/*; do
		case $(basename "$t") in test_*|*.o|*.d) continue ;; esac
		[ -f "$t" ] && [ -x "$t" ] && \
			VSW_STRESS_COUNT=${VSW_STRESS_COUNT_ASAN:-200000} run_one "asan/stress/$(basename "$t")" "$t"
	done
fi

if [ "${VSW_SCENARIOS:-1}" != 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "scenario tests need root (VSW_SCENARIOS=0 leaves them out on purpose)"
		failed=$((failed + 1)); failed_names+=("scenarios (not root)")
	else
		"$(dirname "$0")/install-deps.sh" --scenarios --bench
		for t in tests/scenario/*.py; do
			name=$(basename "$t" .py)
			case $name in _*|*_lib) continue ;; esac
			if [ "${VSW_SCENARIOS:-1}" != 1 ] && ! echo ",$VSW_SCENARIOS," | grep -q ",$name,"; then
				continue
			fi
			run_one "scenario/$name" python3 "$t" --build "$build"
		done
		# Smoke runs of `make bench` (every system and mode once, 1 s windows, no doc written).
		if [ "${VSW_SCENARIOS:-1}" = 1 ]; then
			run_one "smoke/bench-switch" python3 scripts/bench-switch.py --quick --build "$build"
			run_one "smoke/bench-switch-tso" python3 scripts/bench-switch.py --tso --quick --build "$build"
			run_one "smoke/bench-containers" python3 scripts/bench-containers.py --quick --build "$build"
			run_one "smoke/bench-scale" python3 scripts/bench-scale.py --smoke --build "$build"
		fi
	fi
fi

[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
