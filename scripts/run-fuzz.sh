#!/usr/bin/env bash
# run-fuzz.sh - run each libFuzzer target for a few seconds over its seed corpus.
#
#   scripts/run-fuzz.sh SECONDS build/fuzz/fuzz_NAME...
#
# The seed corpus of fuzz_NAME is fuzz/corpus/NAME (read-only here); new
# inputs go to a scratch directory.  Prints "N passed, N failed".
set -u
secs=$1; shift
passed=0; failed=0
for f in "$@"; do
	name=$(basename "$f"); name=${name#fuzz_}
	scratch=$(mktemp -d /tmp/vsw-fuzz-$name.XXXXXX)
	if "$f" -max_total_time="$secs" -print_final_stats=1 "$scratch" "fuzz/corpus/$name" \
		>"$scratch.log" 2>&1; then
		passed=$((passed + 1))
		echo "fuzz $name: ok ($(grep -E 'stat::number_of_executed_units' "$scratch.log" | awk '{print $2}') runs)"
	else
		failed=$((failed + 1))
		echo "fuzz $name: FAILED"; tail -60 "$scratch.log"
	fi
	rm -rf "$scratch"
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
