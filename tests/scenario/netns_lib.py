"""netns_lib.py - what the network-namespace scenarios share: PASS/FAIL lines and their count, commands in a namespace, vswd's port counters.

Used by vxlan.py and vxlan_remote_flow.py (vlans.py takes run, must and the signal handling):

    from netns_lib import tally, check, note, Terminated, on_signal, run, must, port_stat, port_state
    check(rc == 0, "ping cA -> cB", err)
    print("vxlan: %d passed, %d failed" % (tally.passed, tally.failed))

Every wait is bounded (run()'s timeout).  Python 3 standard library only.
"""

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
