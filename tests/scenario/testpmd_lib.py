"""testpmd_lib.py - drive dpdk-testpmd interactively and vswd through vswctl (python3 stdlib only).

Used by testpmd_pair.py, testpmd_jumbo.py and testpmd_csum.py.  The process and testpmd prompt machinery is
scripts/bench_procs.py's, shared with the benchmarks; here children also get
SIGTERM when the test dies (PR_SET_PDEATHSIG).  Everything is bounded:
every read has a timeout, and every process started here is killed by
close().
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import bench_procs  # noqa: E402
from bench_procs import BenchError, log, reserve_hugepages  # noqa: E402,F401  (for the tests)

TimeoutError_ = BenchError


class Results:
    """Checks as they pass or fail ("  ok    NAME" / "  FAIL  NAME: DETAIL"), and rows a test keeps for its report."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []
        self.rows = []

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            log("  ok    %s" % name)
        else:
            self.failed += 1
            self.failures.append("%s: %s" % (name, detail))
            log("  FAIL  %s: %s" % (name, detail))
        return ok


def testpmd_ready(name):
    """dpdk-testpmd and stdbuf (TestPmd runs it under stdbuf) installed and 1024 free hugepages reserved (put back
    at exit); else the reason and "NAME: 0 passed, 1 failed" printed, and False."""
    why = None
    if not shutil.which("dpdk-testpmd") or not shutil.which("stdbuf"):
        why = "dpdk-testpmd or stdbuf not installed (apt-get install dpdk-dev coreutils)"
    else:
        try:
            reserve_hugepages(1024)
        except BenchError as e:
            why = str(e)
    if why:
        print("%s: %s" % (name, why))
        print("%s: 0 passed, 1 failed" % name)
    return why is None


def exit_on_signals():
    """SIGTERM and SIGHUP (a timeout, CI) become SystemExit, so every finally clause kills what it started."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signo, frame: sys.exit(128 + signo))


def finish(name, res, workdir, keep, t_start):
    """The failures again, the logs kept (a failure or @keep) or removed, the "NAME: N passed, M failed" line;
    the exit code."""
    for f in res.failures:
        log("FAILED: " + f)
    if res.failed or keep:
        log("%s: logs kept in %s" % (name, workdir))
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    log("%s: %.0f s" % (name, time.monotonic() - t_start))
    print("%s: %d passed, %d failed" % (name, res.passed, res.failed), flush=True)
    return 1 if res.failed else 0


def main_layouts(name, doc, configs, run_config, tools=()):
    """The whole main() of a scenario that runs @run_config(args, res, cfg, workdir) once per ring layout of
    @configs (--configs picks some; --build, --keep), after checking @tools and testpmd_ready(); one layout's
    exception is its own failure, not the others'.  Returns the exit code."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--configs", default=",".join(configs), help="of: " + ",".join(configs))
    ap.add_argument("--keep", action="store_true", help="keep the logs directory")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    exit_on_signals()
    res = Results()
    t_start = time.monotonic()
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        print("%s: %s not installed" % (name, ", ".join(missing)))
        print("%s: 0 passed, 1 failed" % name)
        return 1
    if not testpmd_ready(name):
        return 1
    workdir = tempfile.mkdtemp(prefix="vsw-%s-" % name)
    log("%s: logs in %s" % (name, workdir))
    for cfg in args.configs.split(","):
        if cfg not in configs:
            res.check("config %s" % cfg, False, "unknown configuration")
            continue
        log("== %s (virtio-user %s)" % (cfg, configs[cfg]))
        try:
            run_config(args, res, cfg, workdir)
        except Exception as e:  # one layout's failure must not hide the others
            res.check("%s: ran to the end" % cfg, False, "%s: %s" % (type(e).__name__, e))
    return finish(name, res, workdir, args.keep, t_start)


def vswd_in_netns(build, ns, d, ports):
    """vswd (one worker) in network namespace @ns with the config entries @ports, its config, control socket
    (d/ctl.sock) and log in directory @d; returns the Proc once it is ready."""
    conf = os.path.join(d, "vswd.json")
    with open(conf, "w") as f:
        json.dump({"workers": 1, "ports": ports}, f)
    vs = Proc(["ip", "netns", "exec", ns, os.path.join(build, "vswd"), "--foreground", "--ctl",
               os.path.join(d, "ctl.sock"), "--config", conf], os.path.join(d, "vswd.log"))
    try:
        vs.wait_for(r"ready: control socket", 0, 15)
    except BaseException:
        vs.close()
        raise
    return vs


def Proc(argv, logpath, stdin=False, env=None):
    """A child in its own session, output collected by a thread, killed if the test dies."""
    return bench_procs.Proc(argv, logpath, stdin=stdin, env=env, die_with_parent=True)


class TestPmd(bench_procs.TestPmd):
    """dpdk-testpmd -i in a loop topology on lcores 0-1, with its own file prefix, and port counters."""

    STATS_RX = re.compile(
        r"NIC statistics for port (\d+)\s+#+\s+"
        r"RX-packets:\s*(\d+)\s+RX-missed:\s*(\d+)\s+RX-bytes:\s*(\d+)\s+"
        r"RX-errors:\s*(\d+)\s+RX-nombuf:\s*(\d+)\s+"
        r"TX-packets:\s*(\d+)\s+TX-errors:\s*(\d+)\s+TX-bytes:\s*(\d+)")

    def __init__(self, vdevs, prefix, logpath, extra_eal=(), extra_app=(), start_timeout=60.0):
        self.prefix = prefix
        argv = ["dpdk-testpmd", "--no-pci", "--single-file-segments",
                "--file-prefix=" + prefix, "-m", "256", "-l", "0-1", "--log-level=lib.eal,notice"]
        argv += list(extra_eal)
        for v in vdevs:
            argv += ["--vdev", v]
        argv += ["--", "-i", "--port-topology=loop", "--nb-cores=1", "--total-num-mbufs=8192"]
        argv += list(extra_app)
        super().__init__(argv, logpath, start_timeout=start_timeout, die_with_parent=True)

    def cmd(self, line, timeout=30.0):
        return super().cmd(line, timeout)

    def cmd_ok(self, line, timeout=30.0):
        return super().cmd_ok(line, timeout)

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
        super().close()
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
