"""bench_procs.py - processes for scripts/bench-switch.py and bench-containers.py (and the testpmd
scenario tests, through tests/scenario/testpmd_lib.py): children we own, testpmd over stdin, CPU counters.

python3 stdlib only.  Every child is started in its own session and
registered; close_all() (run at exit and on SIGINT/SIGTERM) ends each one by
its process group id, SIGTERM then SIGKILL.  Every wait has a timeout.
"""

import atexit
import ctypes
import os
import re
import signal
import subprocess
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hugepages  # noqa: E402

_children = []
_children_lock = threading.Lock()
_cleanups = []
_nice = 0                     # set_nice(): for the scheduler autogroups of our children's sessions


def set_nice(value):
    """Give the autogroup of every child started from now on this nice value (0: leave them alone)."""
    global _nice
    _nice = value


def set_autogroup_nice(pid):
    """With autogroups, nice only ranks tasks within a session: give @pid's session group our nice value too."""
    if _nice:
        try:
            with open("/proc/%s/autogroup" % pid, "w") as f:
                f.write(str(_nice))
        except OSError:
            pass


def log(msg):
    print(msg, flush=True)


class BenchError(Exception):
    pass


def _die_with_parent():
    """In the child before exec: SIGTERM when we die, however we die (PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)
    except Exception:
        pass


def _in_netns(argv, ns):
    argv = [str(a) for a in argv]
    return ["ip", "netns", "exec", ns] + argv if ns else argv


class Proc:
    """A child in its own session (in netns @ns); its stdout+stderr go to @logpath and to a buffer we can wait on."""

    def __init__(self, argv, logpath, stdin=False, env=None, keep_buf=True, name=None, ns=None,
                 die_with_parent=False):
        self.name = name or os.path.basename(str(argv[0]))
        self.argv = _in_netns(argv, ns)
        self.logf = open(logpath, "a", buffering=1)
        self.logf.write("$ %s\n" % " ".join(self.argv))
        self.buf = ""
        self.keep_buf = keep_buf
        self.cond = threading.Condition()
        self.p = subprocess.Popen(self.argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  start_new_session=True, env=env,
                                  preexec_fn=_die_with_parent if die_with_parent else None)
        set_autogroup_nice(self.p.pid)
        with _children_lock:
            _children.append(self)
        self.t = threading.Thread(target=self._reader, daemon=True)
        self.t.start()

    @property
    def pid(self):
        return self.p.pid

    def _reader(self):
        fd = self.p.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                break
            s = data.decode("utf-8", "replace")
            try:
                self.logf.write(s)
            except ValueError:
                pass
            with self.cond:
                self.buf += s
                if len(self.buf) > 4 << 20 and not self.keep_buf:
                    self.buf = self.buf[-(1 << 20):]
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.buf)

    def wait_for(self, pattern, start=0, timeout=30.0):
        """Wait until regex @pattern matches the output from offset @start; returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.buf, start)
                if m:
                    return m
                left = deadline - time.monotonic()
                exited = self.p.poll() is not None and not self.t.is_alive()
                if left <= 0 or exited:
                    raise BenchError("%s: no %r within %.0f s (%s); last output:\n%s" % (
                        self.name, pattern, timeout,
                        "exit status %s" % self.p.poll() if exited else "still running",
                        self.buf[-1500:]))
                self.cond.wait(min(left, 0.2))

    def alive(self):
        return self.p.poll() is None

    def tail(self, n=600):
        with self.cond:
            return self.buf[-n:].strip()

    def wait(self, timeout):
        """The exit status, or None if still running after @timeout seconds.  Once it has exited, its last
        output is in the buffer too (tail()): the reader thread may not have read the pipe's last bytes yet
        when the exit is seen, so it is given up to 2 s to reach the end (a child of its own still holding
        the pipe would keep it from ever ending)."""
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.t.join(2)
        return rc

    def close(self, term_timeout=5.0):
        if self.p.poll() is None:
            for sig, wait in ((signal.SIGTERM, term_timeout), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.p.pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
                if self.wait(wait) is not None:
                    break
        for f in (self.p.stdin, self.p.stdout):
            try:
                f and f.close()
            except OSError:
                pass
        self.t.join(2)
        try:
            self.logf.close()
        except (OSError, ValueError):
            pass
        with _children_lock:
            if self in _children:
                _children.remove(self)


def live_children():
    with _children_lock:
        return list(_children)


def close_new(before):
    """Close the children started since live_children() returned @before (a half-started set-up)."""
    for c in reversed(live_children()):
        if c not in before:
            c.close(term_timeout=3.0)


def on_exit(fn):
    """Run @fn (no arguments) at exit, after the children are gone; the last registered runs first."""
    _cleanups.append(fn)


def close_all():
    with _children_lock:
        kids = list(_children)
    for c in reversed(kids):
        try:
            c.close(term_timeout=3.0)
        except Exception as e:  # noqa: BLE001 - cleanup must go on
            print("cleanup: %s: %s" % (c.name, e), file=sys.stderr)
    while _cleanups:
        fn = _cleanups.pop()
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            print("cleanup: %s" % e, file=sys.stderr)


def _on_signal(signum, frame):
    close_all()
    os._exit(128 + signum)


_close_all_at_exit = False


def _close_all_at_exit_once():
    global _close_all_at_exit
    if not _close_all_at_exit:
        atexit.register(close_all)
        _close_all_at_exit = True


def install_cleanup():
    _close_all_at_exit_once()
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)


def congestion_controls(wanted):
    """Check that the kernel has every congestion control in @wanted, loading tcp_NAME modules it lacks;
    returns the kernel's default, or raises BenchError naming the missing ones."""
    def have():
        with open("/proc/sys/net/ipv4/tcp_available_congestion_control") as f:
            return f.read().split()
    for cc in wanted:
        if cc not in have():
            try:
                run(["modprobe", "tcp_" + cc], check=False, timeout=30)
            except OSError:         # no modprobe: the check below names what is missing
                pass
    missing = [cc for cc in wanted if cc not in have()]
    if missing:
        raise BenchError("congestion control %s not in this kernel (tcp_available_congestion_control: %s)"
                         % (", ".join(missing), " ".join(have())))
    with open("/proc/sys/net/ipv4/tcp_congestion_control") as f:
        return f.read().strip()


def run(argv, timeout=30, check=True, env=None, input=None, ns=None):
    """A short command (in netns @ns), bounded; returns its CompletedProcess (text)."""
    argv = _in_netns(argv, ns)
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, input=input)
    except subprocess.TimeoutExpired:
        raise BenchError("%s: no answer within %d s" % (" ".join(map(str, argv)), timeout))
    if check and r.returncode != 0:
        raise BenchError("%s: exit %d: %s%s" % (" ".join(map(str, argv)), r.returncode, r.stdout[-800:],
                                                r.stderr[-800:]))
    return r


# ---- testpmd ----

PROMPT = "testpmd> "


class TestPmd:
    """dpdk-testpmd -i driven over stdin (stdbuf -oL: its output is line-buffered), one command at a time."""

    FWD_PORT = re.compile(r"Forward statistics for port (\d+)\s+-+\s+RX-packets:\s*(\d+)\s+RX-dropped:\s*(\d+)"
                          r"\s+RX-total:\s*\d+\s+TX-packets:\s*(\d+)\s+TX-dropped:\s*(\d+)")
    CYCLES = re.compile(r"CPU cycles/packet=[0-9.]+ \((?:total|busy) cycles=(\d+) / total \w+ packets=(\d+)\)"
                        r" at (\d+) MHz")

    def __init__(self, argv, logpath, start_timeout=60.0, netns=None, name="testpmd", die_with_parent=False):
        pre = ["ip", "netns", "exec", netns] if netns else []
        self.proc = Proc(pre + ["stdbuf", "-oL"] + argv, logpath, stdin=True, name=name,
                         die_with_parent=die_with_parent)
        try:
            self.proc.wait_for(re.escape(PROMPT), 0, start_timeout)
        except BaseException:
            self.close()
            raise

    @property
    def pid(self):
        return self.proc.pid

    def cmd(self, line, timeout=20.0):
        """Send one command; return what it printed up to the next prompt."""
        start = self.proc.mark()
        try:
            self.proc.p.stdin.write((line + "\n").encode())
            self.proc.p.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise BenchError("testpmd stdin closed (%s) sending %r" % (e, line))
        m = self.proc.wait_for(re.escape(PROMPT), start, timeout)
        with self.proc.cond:
            return self.proc.buf[start:m.start()]

    def cmd_ok(self, line, timeout=20.0):
        out = self.cmd(line, timeout)
        if re.search(r"(Bad arguments|Invalid|invalid|[Ee]rror|[Ff]ail|not supported|[Cc]annot)", out):
            raise BenchError("testpmd %r: %s" % (line, out.strip()[-600:]))
        return out

    def fwd_stats(self):
        """Forwarding counters since the last start: {'rx','tx','tx_dropped','cycles','mhz','t'} (ports summed)."""
        t0 = time.monotonic()
        out = self.cmd("show fwd stats all")
        t1 = time.monotonic()
        ports = self.FWD_PORT.findall(out)
        if not ports:
            raise BenchError("cannot parse testpmd fwd stats:\n" + out[-1500:])
        s = {"t": (t0 + t1) / 2, "rx": 0, "tx": 0, "tx_dropped": 0, "rx_dropped": 0, "cycles": None, "mhz": None}
        for _, rx, rxd, tx, txd in ports:
            s["rx"] += int(rx)
            s["rx_dropped"] += int(rxd)
            s["tx"] += int(tx)
            s["tx_dropped"] += int(txd)
        m = self.CYCLES.search(out)
        if m:
            s["cycles"], s["mhz"] = int(m.group(1)), int(m.group(3))
        return s

    def close(self):
        if self.proc.alive():
            try:
                self.proc.p.stdin.write(b"stop\nquit\n")
                self.proc.p.stdin.flush()
                self.proc.p.stdin.close()
                self.proc.p.wait(15)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.proc.close()


# ---- CPU accounting ----

def proc_cpu_seconds(pid):
    """utime + stime of process @pid (all its threads), in seconds; None once it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # after the command name: state(0) ... utime is field 14 of the line = index 11 here, stime index 12
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid):
    """{tid: (name, utime + stime in seconds)} of every thread of process @pid; {} once it is gone."""
    res, tck = {}, os.sysconf("SC_CLK_TCK")
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return res
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                line = f.read()
        except OSError:
            continue                      # the thread ended meanwhile
        name = line[line.find("(") + 1:line.rfind(")")]
        fields = line.rsplit(")", 1)[1].split()
        res[int(tid)] = (name, (int(fields[11]) + int(fields[12])) / tck)
    return res


def cpuinfo_hz():
    """The CPU clock /proc/cpuinfo reports ("cpu MHz" of the first CPU), in Hz; None when absent."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("cpu MHz"):
                    return float(line.split(":", 1)[1]) * 1e6
    except (OSError, ValueError):
        pass
    return None


def cpu_model():
    """The CPU as the figures need it told apart: /proc/cpuinfo's model name (a virtual machine's is often
    only "AMD EPYC"), CPU 0's L1d and L2 sizes, and AVX-512 when it has it, e.g.
    "AMD EPYC (L1d 48K, L2 1024K a core, AVX-512)".  The same name has stood for hosts about 2x apart."""
    model, flags = "?", []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model == "?":
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = line.split(":", 1)[1].split()
    except OSError:
        pass
    caches = {}
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for idx in sorted(os.listdir(base)):
            try:
                with open(os.path.join(base, idx, "level")) as f:
                    level = f.read().strip()
                with open(os.path.join(base, idx, "type")) as f:
                    kind = f.read().strip()
                with open(os.path.join(base, idx, "size")) as f:
                    size = f.read().strip()
            except OSError:
                continue
            if (level, kind) == ("1", "Data"):
                caches["L1d"] = size
            elif level == "2":
                caches["L2"] = size
    except OSError:
        pass
    extra = ["%s %s" % (k, caches[k]) for k in ("L1d", "L2") if k in caches]
    if extra:
        extra[-1] += " a core"
    if "avx512f" in flags:
        extra.append("AVX-512")
    return "%s (%s)" % (model, ", ".join(extra)) if extra else model


def cpu_ticks():
    """{cpu: (busy, total, user + nice)} from /proc/stat, in clock ticks."""
    res = {}
    with open("/proc/stat") as f:
        for line in f:
            m = re.match(r"cpu(\d+) (.*)", line)
            if m:
                v = [int(x) for x in m.group(2).split()]
                idle = v[3] + (v[4] if len(v) > 4 else 0)
                total = sum(v[:8])
                res[int(m.group(1))] = (total - idle, total, v[0] + v[1])
    return res


def cpu_busy(before, after):
    """Busy fraction per CPU between two cpu_ticks() snapshots."""
    res = {}
    for c in after:
        if c in before:
            db = after[c][0] - before[c][0]
            dt = after[c][1] - before[c][1]
            res[c] = db / dt if dt > 0 else 0.0
    return res


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


# ---- hugepages ----

def reserve_hugepages(free_pages_wanted):
    """@free_pages_wanted 2 MiB pages and a hugetlbfs mount until exit (on_exit puts back what was changed)."""
    hp = hugepages.Hugepages(free_pages_wanted, log=log)
    try:
        hp.setup()
    except hugepages.HugepagesError as e:
        raise BenchError(str(e))
    on_exit(hp.restore)
    _close_all_at_exit_once()
    return hp


# ---- the document ----

def write_doc_section(path, heading, section):
    """Replace the "## @heading" section of @path (up to the next "## " heading) with @section, or append it."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = "# Performance\n"
    m = re.search(r"^## %s\s*$" % re.escape(heading), text, re.M)
    if m:
        nxt = re.search(r"^## (?!#)", text[m.end():], re.M)
        end = m.end() + nxt.start() if nxt else len(text)
        text = text[:m.start()] + section.rstrip() + "\n" + ("\n" + text[end:] if nxt else "")
    else:
        text = text.rstrip() + "\n\n" + section.rstrip() + "\n"
    with open(path, "w") as f:
        f.write(text)


def bench_instances(script):
    """PIDs of other python processes running @script (a file name) on the machine, from /proc; never touched."""
    me, res, name = os.getpid(), [], script.encode()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if any(x.endswith(name) for x in argv[:3]) and b"python" in os.path.basename(argv[0]):
            res.append(int(d))
    return res


def wait_turn(wait_s, who, others=lambda: []):
    """The benchmarks' one lock: two at once would measure each other.  Take it, wait (at most @wait_s) while
    another holds it or while @others() names a process still running; @who names us in the log."""
    import fcntl
    fd = os.open("/run/lock/vsw-bench-switch.lock" if os.path.isdir("/run/lock") else "/tmp/vsw-bench-switch.lock",
                 os.O_RDWR | os.O_CREAT, 0o644)
    deadline, said = time.monotonic() + wait_s, False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            busy = others()
            if not busy:
                return fd
            fcntl.flock(fd, fcntl.LOCK_UN)
        except BlockingIOError:
            busy = others()
        if time.monotonic() > deadline:
            raise BenchError("another benchmark (pid %s) still going after %d s of waiting" % (
                ",".join(map(str, busy)) or "?", wait_s))
        if not said:
            log("%s: another benchmark is going (pid %s): waiting for it, at most %d s" % (
                who, ",".join(map(str, busy)) or "?", wait_s))
            said = True
        time.sleep(2)


def med(xs):
    """The median of @xs, or None for no samples."""
    return statistics.median(xs) if xs else None
