#!/usr/bin/env python3
"""progress.py - progress lines for the Python scripts a person waits on (make run, make bench).

    from progress import Progress
    p = Progress("make run", 5)
    p.step("booting two guests")        # "make run [1/5] booting two guests (0:00 so far)"
    with p.ticking("guests booting"):   # a line with the elapsed time while the block runs
        g.wait_ready(240)
    p.end()                             # "make run: done in 1:23"

The Python twin of scripts/progress.sh, with the same lines: a step says
what runs now, i of n, the time so far and, from the second step on, a rough
estimate of what is left.  While a block runs under ticking(), a terminal
sees one line rewrite itself every second (\\r); a pipe or a CI log gets a
plain line every VSW_PROGRESS_EVERY_S seconds (default 30), so the log grows
by a bounded number of lines however long the wait.

`python3 scripts/progress.py --self-test` checks this module and
progress.sh, on a pipe and on a pseudo-terminal, and that the scripts a
person waits on (make run, the guest build, make bench, fresh-check) use them.
"""

import contextlib
import os
import re
import sys
import threading
import time


def clock(seconds):
    """'m:ss' (or 'h:mm:ss') for a duration in seconds."""
    s = int(seconds)
    if s >= 3600:
        return "%d:%02d:%02d" % (s // 3600, s % 3600 // 60, s % 60)
    return "%d:%02d" % (s // 60, s % 60)


class Progress:
    """The steps of one job: a line per step, a ticking line while a block waits."""

    def __init__(self, job, total, out=None, every_s=None):
        self.job = job
        self.total = total
        self.i = 0
        self.out = out or sys.stdout
        self.t0 = time.monotonic()
        self.every_s = every_s if every_s is not None else float(os.environ.get("VSW_PROGRESS_EVERY_S", "30"))
        self.tty = self.out.isatty()

    def _print(self, text):
        self.out.write(text)
        self.out.flush()

    def step(self, what):
        """The next step starts: print its line."""
        done, elapsed = self.i, time.monotonic() - self.t0
        self.i += 1
        eta = ""
        if 0 < done < self.total:
            eta = ", ~%s left" % clock(elapsed * (self.total - done) / done)
        self._print("%s [%d/%d] %s (%s so far%s)\n" % (self.job, self.i, self.total, what, clock(elapsed), eta))

    @contextlib.contextmanager
    def ticking(self, what):
        """While the block runs, a line with its elapsed time (see the module's doc)."""
        start = time.monotonic()
        stop = threading.Event()

        def tick():
            last = start
            while not stop.wait(1.0 if self.tty else min(1.0, self.every_s)):
                now = time.monotonic()
                if self.tty:
                    self._print("\r  %s: %s " % (what, clock(now - start)))
                elif now - last >= self.every_s:
                    last = now
                    self._print("  %s: still waiting, %s\n" % (what, clock(now - start)))

        t = threading.Thread(target=tick, daemon=True)
        t.start()
        ok = False
        try:
            yield
            ok = True
        finally:
            stop.set()
            t.join()
            if self.tty:
                self._print("\r\033[K")
            self._print("  %s: %s%s\n" % (what, "" if ok else "gave up after ", clock(time.monotonic() - start)))

    def end(self):
        """The job's closing line."""
        self._print("%s: done in %s\n" % (self.job, clock(time.monotonic() - self.t0)))


# --- self-test ---------------------------------------------------------------

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

SHELL_JOB = """
. "$1"
progress_begin job 3
progress_step first
progress_run "a wait" sleep 2.6
progress_step second
progress_run "a failure" sh -c 'echo its-output; exit 3' || echo "rc $?"
progress_step third
progress_end
"""

PY_JOB = """
import sys, time
sys.path.insert(0, sys.argv[1])
from progress import Progress
p = Progress("job", 3)
p.step("first")
with p.ticking("a wait"):
    time.sleep(2.6)
p.step("second")
try:
    with p.ticking("a failure"):
        raise KeyError
except KeyError:
    print("rc 3")
p.step("third")
p.end()
"""


def _run(argv, tty, env):
    """Run argv with stdout on a pipe or a pseudo-terminal; return its output as text."""
    import pty
    import subprocess
    if not tty:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                              timeout=60, check=False).stdout.decode()
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdout=slave, stderr=slave, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:		# EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    p.wait(timeout=60)
    return out.decode().replace("\r\n", "\n")


def self_test():
    """Check both helpers and their users; print 'N passed, N failed'; exit status."""
    passed = failed = 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL %s%s" % (name, ("\n" + detail) if detail else ""))

    env = dict(os.environ, VSW_PROGRESS_EVERY_S="1")
    jobs = {
        "sh": ["bash", "-c", SHELL_JOB, "x", os.path.join(HERE, "progress.sh")],
        "py": [sys.executable, "-c", PY_JOB, HERE],
    }
    for lang, argv in jobs.items():
        for tty in (False, True):
            name = "%s/%s" % (lang, "tty" if tty else "pipe")
            out = _run(argv, tty, env)
            # What a terminal shows at the end: each line after its last \r (and erase).
            lines = [ln.split("\r")[-1].replace("\033[K", "") for ln in out.split("\n")]
            check(name + ": a line per step, i of n",
                  [ln.split(" (")[0] for ln in lines if ln.startswith("job [")] ==
                  ["job [1/3] first", "job [2/3] second", "job [3/3] third"], out)
            check(name + ": time so far, and an estimate from the second step",
                  any(ln.startswith("job [1/3] first (0:00 so far)") for ln in lines) and
                  any(ln.startswith("job [2/3] second (0:0") and "left)" in ln for ln in lines), out)
            # A 2.6 s sleep: 0:02 or 0:03 on a quiet machine, later on a loaded one (a CI run's took 0:04); never sooner.
            check(name + ": the wait's closing line",
                  any(re.fullmatch(r"  a wait: 0:(0[2-9]|[1-5][0-9])", ln) for ln in lines), out)
            check(name + ": a failure says so", any("a failure: " in ln and ("failed" in ln or "gave up" in ln)
                                                    for ln in lines) and "rc 3" in lines, out)
            if lang == "sh":
                check(name + ": a failure shows the command's output", "its-output" in lines, out)
            check(name + ": the closing line", any(ln.startswith("job: done in 0:0") for ln in lines), out)
            ticks = [ln for ln in lines if ln.startswith("  a wait: still")]
            if tty:
                check(name + ": on a terminal the line rewrites itself", "\r  a wait: 0:0" in out, repr(out))
                check(name + ": ... and no plain ticking lines", not ticks, out)
            else:
                check(name + ": no \\r on a pipe", "\r" not in out, repr(out))
                # 2.6 s at one line a second (progress.sh counts whole seconds): 1 to 4 lines,
                # never one per poll (5 a second).
                check(name + ": plain ticking lines at a bounded rate", 1 <= len(ticks) <= 4, out)

    # The scripts a person waits on use the helpers (a step line per phase).
    users = {
        "scripts/guest/build-guest.sh": ("progress.sh", "progress_step"),
        "scripts/run-bench.sh": ("progress.sh", "progress_step"),
        "scripts/fresh-check.sh": ("progress.sh", "progress_step"),
        "scripts/demo.py": ("from progress import", ".step("),
    }
    for path, needles in users.items():
        with open(os.path.join(REPO, path)) as f:
            text = f.read()
        check(path + " prints progress lines", all(n in text for n in needles))

    # make run tells a newcomer what they look at and what to try next.
    sys.path.insert(0, HERE)
    import demo
    intro, nxt = demo.intro_text(), demo.next_text(keep=True)
    check("make run: the intro names the switch, its ports and the guests",
          all(w in intro for w in ("vswd", "vm1", "vm2", "10.0.0.1", "10.0.0.2")), intro)
    check("make run: what to try next names the socket, vswctl commands and how to stop",
          all(w in nxt for w in (demo.RUN + "/vswd.sock", "vswctl", "show", "stats", "fdb show", "Ctrl-C")), nxt)
    check("make run: without KEEP it says how to keep it running", "make run KEEP=1" in demo.next_text(keep=False))

    print("progress: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    sys.exit("usage: progress.py --self-test  (a module for scripts/; see its doc)")
