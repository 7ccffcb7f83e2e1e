"""netns_lib.py - what the network-namespace scenarios share: PASS/FAIL lines and their count, commands in a namespace, vswd's port counters.

Used by vxlan.py, vxlan_remote_flow.py, vxlan_ovs.py, vxlan_guest.py and flows_learn.py (vlans.py takes run, must
and the signal handling); OvsDaemons is Open vSwitch itself in a namespace (flows_learn.py, vxlan_ovs.py), finish()
a scenario's end and needs() its prerequisites (the VXLAN scenarios):

    from netns_lib import tally, check, note, Terminated, on_signal, run, must, port_stat, port_state
    check(rc == 0, "ping cA -> cB", err)
    print("vxlan: %d passed, %d failed" % (tally.passed, tally.failed))   # or: return finish("vxlan", wd, ...)

Every wait is bounded (run()'s timeout).  Python 3 standard library only.
"""

import os
import shutil
import signal
import subprocess
import sys
import time


class Tally:
    """The checks printed so far, and when the scenario started."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.t0 = time.monotonic()


tally = Tally()


def check(ok, what, detail=""):
    """Print PASS or FAIL for @what (with @detail on failure), count it; returns @ok."""
    if ok:
        tally.passed += 1
        print("PASS %s" % what)
    else:
        tally.failed += 1
        print("FAIL %s%s" % (what, ": " + str(detail)[:600] if detail else ""))
    sys.stdout.flush()
    return ok


def note(msg):
    print("     [%5.1f s] %s" % (time.monotonic() - tally.t0, msg), flush=True)


class Terminated(Exception):
    pass


def on_signal(sig, frame):
    raise Terminated("signal %d" % sig)


def run(argv, timeout=20, ns=None):
    """Run argv (in netns ns); return (rc, stdout, stderr); rc 124 on timeout."""
    if ns:
        argv = ["ip", "netns", "exec", ns] + list(argv)
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        def s(x):
            return x.decode(errors="replace") if isinstance(x, bytes) else (x or "")
        return 124, s(e.stdout), s(e.stderr) + "\n(timed out after %s s)" % timeout


def must(argv, timeout=20, ns=None):
    rc, out, err = run(argv, timeout, ns)
    if rc != 0:
        raise RuntimeError("`%s`%s exited %d: %s" % (" ".join(argv), " in " + ns if ns else "", rc,
                                                     (err or out).strip()[:400]))
    return out


def needs(label, tools):
    """Root, and every one of @tools on the PATH: True.  Else False, after one FAIL naming what is missing and the
    closing line "@label: N passed, M failed" (a scenario that cannot run fails, never skips)."""
    missing = [t for t in tools if not shutil.which(t)]
    if os.geteuid() == 0 and not missing:
        return True
    check(False, "%s scenario needs root and %s" % (label, ", ".join(missing or ["(nothing else)"])))
    print("%s: %d passed, %d failed" % (label, tally.passed, tally.failed), flush=True)
    return False


def finish(label, wd, keep, sw=None, cleanup=None, stop_first=(), keep_failed=True):
    """A scenario's end, whatever happened before: signals ignored from here on; each of @stop_first stopped
    (guests, Open vSwitch); vswd @sw stopped and its exit code checked; @cleanup() run and checked to leave no
    namespace (it returns the ones left); @wd kept (and named) with @keep, or after a failure unless
    @keep_failed is false (a work dir of captures), else removed; the closing line "@label: N passed, M failed".
    Returns the exit code."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    for x in stop_first:
        x.stop()
    if sw:
        rc = sw.stop()
        check(rc == 0, "vswd exits 0 on SIGTERM (%s)" % rc)
    if cleanup:
        left = cleanup()
        check(not left, "cleanup: no namespace of the test left", left)
    if keep or (tally.failed and keep_failed):
        note("kept %s" % wd)
    else:
        shutil.rmtree(wd, ignore_errors=True)
    print("%s: %d passed, %d failed" % (label, tally.passed, tally.failed), flush=True)
    return 0 if tally.failed == 0 else 1


def port_stat(sw, name):
    """Port @name's object in `stats --json` of vswd @sw (anything with call()), or {}."""
    for p in sw.call("stats").get("ports", []):
        if p["name"] == name:
            return p
    return {}


def port_state(sw, name):
    """Port @name's state in `show --json`, or ""."""
    for p in sw.call("show").get("ports", []):
        if p["name"] == name:
            return p.get("state", "")
    return ""


class OvsDaemons:
    """Open vSwitch itself in network namespace @ns: ovsdb-server and ovs-vswitchd --disable-system (the
    userspace datapath only, so no kernel module is needed: its bridges want datapath_type=netdev), with
    their database, sockets, pid files and logs in @wd/ovs, nothing in the system's directories."""

    def __init__(self, ns, wd):
        self.ns = ns
        d = self.dir = os.path.join(wd, "ovs")
        os.makedirs(d)
        self.env = dict(os.environ, OVS_RUNDIR=d, OVS_LOGDIR=d, OVS_DBDIR=d, OVS_SYSCONFDIR=d)
        self.started = []

    def sh(self, argv, timeout=40):
        """@argv in the namespace with this instance's directories; its stdout, or RuntimeError (a failure or
        a command still running after @timeout seconds: ovs-appctl and ovs-ofctl wait for ever themselves)."""
        try:
            p = subprocess.run(["ip", "netns", "exec", self.ns] + argv, capture_output=True, text=True,
                               timeout=timeout, env=self.env)
        except subprocess.TimeoutExpired:
            raise RuntimeError("`%s` still running after %d s" % (" ".join(argv), timeout))
        if p.returncode != 0:
            raise RuntimeError("`%s` exited %d: %s" % (" ".join(argv), p.returncode, (p.stderr or p.stdout)[:400]))
        return p.stdout

    def vsctl(self, *args):
        return self.sh(["ovs-vsctl", "--db=unix:" + self.dir + "/db.sock", "--timeout=30"] + list(args))

    def appctl(self, *args):
        return self.sh(["ovs-appctl", "-t", self.dir + "/vswitchd.ctl"] + list(args))

    def ofctl(self, bridge, *args):
        """ovs-ofctl on @bridge's OpenFlow socket (waited for: add-br returns before it exists)."""
        mgmt = self.dir + "/" + bridge + ".mgmt"
        for _ in range(200):
            if os.path.exists(mgmt):
                break
            time.sleep(0.05)
        return self.sh(["ovs-ofctl", args[0], "unix:" + mgmt] + list(args[1:]))

    def start(self):
        d = self.dir
        self.sh(["ovsdb-tool", "create", d + "/conf.db", "/usr/share/openvswitch/vswitch.ovsschema"])
        # Each pid file is stop()'s before its daemon starts: one that forks and then fails is still stopped.
        self.started.append(d + "/ovsdb.pid")
        self.sh(["ovsdb-server", d + "/conf.db", "--remote=punix:" + d + "/db.sock", "--unixctl=" + d + "/ovsdb.ctl",
                 "--no-chdir", "--log-file=" + d + "/ovsdb.log", "--pidfile=" + d + "/ovsdb.pid", "--detach"])
        self.vsctl("--no-wait", "init")
        self.started.append(d + "/vswitchd.pid")
        self.sh(["ovs-vswitchd", "unix:" + d + "/db.sock", "--unixctl=" + d + "/vswitchd.ctl", "--no-chdir",
                 "--log-file=" + d + "/vswitchd.log", "--pidfile=" + d + "/vswitchd.pid", "--disable-system",
                 "--detach"])

    def stop(self):
        """SIGTERM to each daemon (ovs-vswitchd first), SIGKILL after 5 s."""
        for pidfile in reversed(self.started):
            try:
                with open(pidfile) as f:
                    pid = int(f.read().strip())
                os.kill(pid, signal.SIGTERM)
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.05)
                os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError):
                pass
        self.started = []
