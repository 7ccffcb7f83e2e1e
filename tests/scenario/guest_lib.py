"""guest_lib.py - what the QEMU guest scenarios share: the guest module, vswd from a config, the result list.

Used by qemu_pair.py, migration.py and libvirt.py.  The guest itself (QEMU
under TCG, its serial console, run/check/ping/iperf3) is tests/guest/guest.py,
imported here as `guest`; this module adds the vswd those guests talk
through and the "name ok/FAILED detail" lines each scenario prints:

    from guest_lib import guest, Results, Vswd
    res = Results("qemu-pair", width=48)
    sw = Vswd(build, wd, {"workers": 1, "ports": [...]})
    g1 = guest.Guest("g1", os.path.join(wd, "vm1.sock"), "10.0.0.1/24", workdir=wd)
    res.check("ping", guest.ping(g1, "10.0.0.2") == 0.0)
    sw.stop()
    sys.exit(res.summary())

Every wait is bounded.  Python 3 standard library only.
"""

import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))

import guest  # noqa: E402,F401  (for the scenarios: from guest_lib import guest)


class Results:
    """The checks of one scenario run: one "name ok|FAILED detail" line each, and the closing count."""

    def __init__(self, label, width):
        self.label = label
        self.width = width
        self.results = []

    def check(self, name, ok, detail=""):
        """Record and print one check; return ok."""
        self.results.append((name, ok))
        print("%-*s %s %s" % (self.width, name, "ok" if ok else "FAILED", detail), flush=True)
        return ok

    def summary(self):
        """Print the closing line "LABEL: N passed, M failed"; return the exit code (1 if any failed)."""
        failed = sum(1 for _, ok in self.results if not ok)
        print("%s: %d passed, %d failed" % (self.label, len(self.results) - failed, failed))
        return 1 if failed else 0


class Vswd:
    """vswd in the foreground on config (a dict, written to WD/vswd.json), its log WD/vswd.log.

    The constructor returns once vswd logged it is ready (10 s at most):
    its control socket listens and the config's ports exist (the socket
    alone comes first); it raises RuntimeError when vswd does not get that far.  env: the
    environment vswd runs with (default: ours).
    """

    def __init__(self, build, wd, config, env=None):
        self.ctl = os.path.join(wd, "ctl.sock")
        self.vswctl = os.path.join(build, "vswctl")
        path = os.path.join(wd, "vswd.json")
        with open(path, "w") as f:
            json.dump(config, f)
        self.log_path = os.path.join(wd, "vswd.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([os.path.join(build, "vswd"), "--foreground", "--ctl", self.ctl,
                                      "--config", path], stdout=self.log, stderr=subprocess.STDOUT, env=env)
        # Ready once its log says so: the control socket listens before the config's ports exist.
        deadline = time.time() + 10
        while "ready: control socket" not in self.log_text():
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("vswd did not start; see %s" % self.log_path)
            time.sleep(0.05)

    def call(self, *args):
        """`vswctl --json ARGS`' answer, parsed (raises ValueError when there is none)."""
        out = subprocess.run([self.vswctl, "--ctl", self.ctl, "--json"] + list(args),
                             capture_output=True, text=True, timeout=10)
        return json.loads(out.stdout)

    def text(self, *args):
        """vswctl's text output of a command, as a user reads it."""
        return subprocess.run([self.vswctl, "--ctl", self.ctl] + list(args),
                              capture_output=True, text=True, timeout=10).stdout

    def states(self):
        """{port: state line} of `vswctl show`."""
        return {p["name"]: p["state"] for p in self.call("show")["ports"]}

    def state(self, port):
        """The state line of one port."""
        return self.states()[port]

    def wait_states(self, pred, timeout_s, interval_s=0.2):
        """Poll the port states until pred(states) or timeout_s; return the last states."""
        deadline = time.time() + timeout_s
        while True:
            st = self.states()
            if pred(st) or time.time() > deadline:
                return st
            time.sleep(interval_s)

    def fdb(self):
        """{mac: port} of the FDB."""
        return {e["mac"]: e["port"] for e in self.call("fdb", "show")["entries"]}

    def log_text(self):
        """What vswd logged so far."""
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        """SIGTERM, SIGKILL after 10 s; closes the log."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
