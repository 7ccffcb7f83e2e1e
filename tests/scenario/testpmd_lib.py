"""testpmd_lib.py - drive dpdk-testpmd interactively and vswd through vswctl (python3 stdlib only).

Used by testpmd_pair.py.  Everything here is bounded: every read has a
timeout, and every process started here is killed by close().
"""

import ctypes
import json
import os
import re
import select
import signal
import subprocess
import threading
import time

PROMPT = "testpmd> "


class TimeoutError_(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def _die_with_parent():
    """In the child before exec: SIGTERM when the test dies, however it dies (PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)
    except Exception:
        pass


class Proc:
    """A child in its own process group, with its output collected by a thread."""

    def __init__(self, argv, logpath, stdin=False, env=None):
        self.argv = argv
        self.logf = open(logpath, "w", buffering=1)
        self.logf.write("$ %s\n" % " ".join(argv))
        self.buf = ""
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  start_new_session=True, env=env, preexec_fn=_die_with_parent)
        self.t = threading.Thread(target=self._reader, daemon=True)
        self.t.start()

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
            self.logf.write(s)
            with self.cond:
                self.buf += s
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

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
                if left <= 0 or (self.p.poll() is not None and not self.t.is_alive()):
                    raise TimeoutError_("%s: no %r within %.0f s (exit %s); last output:\n%s" % (
                        os.path.basename(self.argv[0]), pattern, timeout, self.p.poll(), self.buf[-1500:]))
                self.cond.wait(min(left, 0.2))

    def alive(self):
        return self.p.poll() is None

    def close(self, term_timeout=5.0):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(term_timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.p.wait(5)
        self.t.join(2)
        self.logf.close()


class TestPmd:
    """dpdk-testpmd -i with stdin and stdout on pipes (stdbuf -oL: its printf output is line-buffered)."""

    STATS_RX = re.compile(
        r"NIC statistics for port (\d+)\s+#+\s+"
        r"RX-packets:\s*(\d+)\s+RX-missed:\s*(\d+)\s+RX-bytes:\s*(\d+)\s+"
        r"RX-errors:\s*(\d+)\s+RX-nombuf:\s*(\d+)\s+"
        r"TX-packets:\s*(\d+)\s+TX-errors:\s*(\d+)\s+TX-bytes:\s*(\d+)")

    def __init__(self, vdevs, prefix, logpath, extra_eal=(), extra_app=(), start_timeout=60.0):
        self.prefix = prefix
        argv = ["stdbuf", "-oL", "dpdk-testpmd", "--no-pci", "--single-file-segments",
                "--file-prefix=" + prefix, "-m", "256", "-l", "0-1", "--log-level=lib.eal,notice"]
        argv += list(extra_eal)
        for v in vdevs:
            argv += ["--vdev", v]
        argv += ["--", "-i", "--port-topology=loop", "--nb-cores=1", "--total-num-mbufs=8192"]
        argv += list(extra_app)
        self.proc = Proc(argv, logpath, stdin=True)
        try:
            self.proc.wait_for(re.escape(PROMPT), 0, start_timeout)
        except BaseException:
            self.close()
            raise

    def cmd(self, line, timeout=30.0):
        """Send one command; return what it printed up to the next prompt."""
        with self.proc.lock:
            start = len(self.proc.buf)
        try:
            self.proc.p.stdin.write((line + "\n").encode())
            self.proc.p.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise TimeoutError_("testpmd stdin closed (%s) sending %r" % (e, line))
        m = self.proc.wait_for(re.escape(PROMPT), start, timeout)
        with self.proc.lock:
            out = self.proc.buf[start:m.start()]
        return out

    def cmd_ok(self, line, timeout=30.0):
        out = self.cmd(line, timeout)
        bad = re.search(r"(Bad arguments|Invalid|invalid|[Ee]rror|[Ff]ail|not supported|[Cc]annot)", out)
        if bad:
            raise RuntimeError("testpmd %r: %s" % (line, out.strip()[-600:]))
        return out

    def port_stats(self, nports=2):
        out = self.cmd("show port stats all")
        res = {}
        for m in self.STATS_RX.finditer(out):
            v = [int(x) for x in m.groups()]
            res[v[0]] = dict(rx=v[1], rx_missed=v[2], rx_bytes=v[3], rx_errors=v[4], rx_nombuf=v[5],
                             tx=v[6], tx_errors=v[7], tx_bytes=v[8])
        if len(res) < nports:
            raise RuntimeError("cannot parse testpmd port stats:\n" + out[-1500:])
        return res

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
        cleanup_prefix(self.prefix)


def cleanup_prefix(prefix):
    """DPDK leaves its hugepage file and runtime directory behind; remove only our own."""
    for d in ("/dev/hugepages", "/mnt/huge"):
        try:
            for f in os.listdir(d):
                if f.startswith(prefix + "map_"):
                    os.unlink(os.path.join(d, f))
        except OSError:
            pass
    rd = "/var/run/dpdk/" + prefix
    if os.path.isdir(rd):
        for f in os.listdir(rd):
            try:
                os.unlink(os.path.join(rd, f))
            except OSError:
                pass
        try:
            os.rmdir(rd)
        except OSError:
            pass


class Vswd:
    def __init__(self, build, tmpdir, ports, logpath, workers=1):
        self.vswctl_bin = os.path.join(build, "vswctl")
        self.ctl = os.path.join(tmpdir, "ctl.sock")
        conf = {"workers": workers,
                "ports": [{"name": n, "type": "vhost-user", "path": p} for n, p in ports]}
        cpath = os.path.join(tmpdir, "vswd.json")
        with open(cpath, "w") as f:
            json.dump(conf, f)
        self.proc = Proc([os.path.join(build, "vswd"), "--foreground", "--ctl", self.ctl, "--config", cpath],
                         logpath)
        try:
            self.proc.wait_for(r"ready: control socket", 0, 15)
        except BaseException:
            self.proc.close()
            raise

    def ctl_json(self, *words, timeout=15):
        r = subprocess.run([self.vswctl_bin, "--ctl", self.ctl] + list(words) + ["--json"],
                           capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("vswctl %s: rc %d: %s %s" % (" ".join(words), r.returncode, r.stdout, r.stderr))
        return json.loads(r.stdout)

    def stats(self):
        return {p["name"]: p for p in self.ctl_json("stats")["ports"]}

    def fdb(self):
        return self.ctl_json("fdb", "show")["entries"]

    def show(self):
        return self.ctl_json("show")

    def alive(self):
        return self.proc.alive()

    def close(self):
        self.proc.close()
