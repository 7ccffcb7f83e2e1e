# progress.sh - progress lines for the shell scripts a person waits on (sourced by bash).
#
#   . scripts/progress.sh
#   progress_begin build-guest 3           # a job of 3 steps, named for its lines
#   progress_step "downloading the kernel" # "build-guest [1/3] downloading the kernel (0:00 so far)"
#   progress_run "apt-get install" apt-get install -y ...   # a ticking line while it runs
#   progress_end                           # "build-guest: done in 1:23"
#
# A step line says what runs now, i of n, the time so far and, from the
# second step on, an estimate of what is left (the mean step so far times
# the steps left: rough, and said so with a "~").  progress_run runs a
# command with its output in a log (shown when it fails) and, while it
# runs, a line with its elapsed time: on a terminal it rewrites itself
# every second (\r), otherwise (CI logs, pipes) a plain line is printed
# every $VSW_PROGRESS_EVERY_S seconds (default 30), so a log grows by a
# bounded number of lines however long the wait.  scripts/progress.py is
# the Python twin; `python3 scripts/progress.py --self-test` checks both.

_progress_job=
_progress_total=0
_progress_i=0
_progress_t0=0

# progress_clock SECONDS - "m:ss" (or "h:mm:ss")
progress_clock() {
	local s=$1
	if [ "$s" -ge 3600 ]; then
		printf '%d:%02d:%02d' $((s / 3600)) $((s % 3600 / 60)) $((s % 60))
	else
		printf '%d:%02d' $((s / 60)) $((s % 60))
	fi
}

# progress_begin JOB TOTAL_STEPS - start the clock of a job of TOTAL_STEPS steps
progress_begin() {
	_progress_job=$1
	_progress_total=$2
	_progress_i=0
	_progress_t0=$SECONDS
}

# progress_step WHAT - the next step starts: print its line
progress_step() {
	local done_steps=$_progress_i elapsed=$((SECONDS - _progress_t0)) eta=""
	_progress_i=$((_progress_i + 1))
	if [ "$done_steps" -gt 0 ] && [ "$_progress_total" -gt "$done_steps" ]; then
		eta=", ~$(progress_clock $((elapsed * (_progress_total - done_steps) / done_steps))) left"
	fi
	printf '%s [%d/%d] %s (%s so far%s)\n' "$_progress_job" "$_progress_i" "$_progress_total" "$1" \
		"$(progress_clock "$elapsed")" "$eta"
}

# progress_run WHAT CMD... - run CMD with its output in a log and a ticking line; CMD's exit status
progress_run() {
	local what=$1 log pid rc start=$SECONDS last=$SECONDS every=${VSW_PROGRESS_EVERY_S:-30} tty=0
	shift
	[ -t 1 ] && tty=1
	log=$(mktemp "${TMPDIR:-/tmp}/vsw-progress.XXXXXX")
	"$@" >"$log" 2>&1 </dev/null &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 0.5
		if [ $tty -eq 1 ]; then
			printf '\r  %s: %s ' "$what" "$(progress_clock $((SECONDS - start)))"
		elif [ $((SECONDS - last)) -ge "$every" ]; then
			last=$SECONDS
			printf '  %s: still running, %s\n' "$what" "$(progress_clock $((SECONDS - start)))"
		fi
	done
	rc=0
	wait "$pid" || rc=$?		# (set -e in the caller must not end it here)
	if [ $tty -eq 1 ]; then printf '\r\033[K'; fi
	if [ $rc -ne 0 ]; then
		printf '  %s: failed (exit %d) after %s; its output:\n' "$what" $rc "$(progress_clock $((SECONDS - start)))"
		tail -n 40 "$log"
	else
		printf '  %s: %s\n' "$what" "$(progress_clock $((SECONDS - start)))"
	fi
	rm -f "$log"
	return $rc
}

# progress_end - the job's closing line
progress_end() {
	printf '%s: done in %s\n' "$_progress_job" "$(progress_clock $((SECONDS - _progress_t0)))"
}
