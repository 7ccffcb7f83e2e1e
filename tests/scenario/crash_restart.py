#!/usr/bin/env python3
"""crash_restart.py - scenario: vswd killed with -9 (or stopped with SIGTERM) under traffic and started again: the guests' traffic resumes by itself.

Objective (issue 17, items 5 and 6): two QEMU guests (TCG, split rings)
ping each other every 50 ms through vswd; vswd is killed with SIGKILL N
times in a row and started again with the same --state-dir (its ports
come back from state.json, item 4), then stopped with SIGTERM and started
M times; each time the guests' traffic flows again with nobody touching
them.  Both socket modes:

  client mode: QEMU listens (-chardev socket,server=on,wait=off), vswd's
               ports are vhost-user clients (they connect at once at start,
               then retry every second);
  server mode: vswd listens, QEMU connects with -chardev ...,reconnect=1
               (QEMU retries every second after it saw vswd go away).

    g1 (10.0.0.1) ==vhost-user== vm1 \\
                                      vswd --state-dir D/st   (killed, started)
    g2 (10.0.0.2) ==vhost-user== vm2 /

Steps, per mode:
  1. vswd with an empty state dir; `vswctl port add` vm1 and vm2 (saved);
     boot both guests; g1 pings g2 in the background (-i 0.05);
  2. N times: kill -9 vswd; start it again; poll `vswctl stats` every
     10 ms until frames moved both ways (g1 -> g2 and g2 -> g1) through the
     new vswd: the recovery time (from the new vswd's start), under 2.5 s
     every time, and how many cycles took over 1 s (the guest kernel's
     linkwatch may hold its tx up to 1 s after QEMU's link-down/up: see
     docs/VSWD.md); in server mode QEMU's own retry (reconnect=1, whole
     seconds) comes on top;
  3. M times the same with SIGTERM (graceful restart): the pause from the
     signal to traffic flowing again (the same bounds);
  4. both guests still answer a ping, their kernel logs no virtio or
     netdev watchdog error.
Printed: the recovery time of every cycle, min/median/max per mode and
kind.  Each check prints PASS or FAIL; the last line is
"crash_restart: N passed, M failed"; non-zero exit on any failure.  All
waits are bounded (a cycle gives up after 10 s); a run takes about 3 min.

    python3 tests/scenario/crash_restart.py --build build [--crashes 10] [--graceful 3] [--mode client|server]
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))

import guest  # noqa: E402

PASSED = 0
FAILED = 0
GUEST_ERRORS = re.compile(r"NETDEV WATCHDOG|timed out|virtio[^\n]*(error|bad|unexpected|not a head|broken)|"
                          r"BUG:|WARNING:|Call Trace", re.I)


def check(ok, what, detail=""):
    global PASSED, FAILED
    print("%s %s%s" % ("PASS" if ok else "FAIL", what, (": " + detail) if detail and not ok else ""), flush=True)
    if ok:
        PASSED += 1
    else:
        FAILED += 1
    return ok


class Vswd:
    def __init__(self, build, wd):
        self.vswd = os.path.join(build, "vswd")
        self.vswctl = os.path.join(build, "vswctl")
        self.ctl = os.path.join(wd, "ctl.sock")
        self.state = os.path.join(wd, "st")
        self.log = os.path.join(wd, "vswd.log")
        self.proc = None

    def start(self):
        """Start vswd; the monotonic time of its start."""
        logf = open(self.log, "a")
        t0 = time.monotonic()
        self.proc = subprocess.Popen([self.vswd, "--foreground", "--ctl", self.ctl, "--state-dir", self.state],
                                     stdout=logf, stderr=logf)
        logf.close()
        return t0

    def call(self, *args):
        p = subprocess.run([self.vswctl, "--ctl", self.ctl, "--json"] + list(args), capture_output=True, text=True,
                           timeout=10)
        return json.loads(p.stdout) if p.returncode == 0 else None

    def wait_ctl(self, timeout_s=5):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if os.path.exists(self.ctl) and self.call("show"):
                return True
            time.sleep(0.01)
        return False

    def flowing(self):
        """True once frames went both ways through this vswd: vm1 -> vm2 and vm2 -> vm1."""
        r = self.call("stats")
        if not r:
            return False
        s = {p["name"]: p for p in r["ports"]}
        return all(n in s for n in ("vm1", "vm2")) and s["vm1"]["rx_packets"] > 0 and s["vm2"]["tx_packets"] > 0 \
            and s["vm2"]["rx_packets"] > 0 and s["vm1"]["tx_packets"] > 0

    def stop(self, sig):
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def cycle(v, sig, wd):
    """Stop vswd with @sig, start it again; the pause in s: from the start (SIGKILL) or the signal (SIGTERM) to traffic."""
    t_sig = time.monotonic()
    rc = v.stop(sig)
    if sig == signal.SIGTERM and rc != 0:
        return None, "SIGTERM: exit %s" % rc
    t0 = v.start()
    deadline = t0 + 10
    while time.monotonic() < deadline:
        if v.proc.poll() is not None:
            return None, "vswd exited %s" % v.proc.returncode
        if os.path.exists(v.ctl) and v.flowing():
            return time.monotonic() - (t0 if sig == signal.SIGKILL else t_sig), ""
        time.sleep(0.01)
    return None, "no traffic 10 s after the start"


def run_mode(build, mode, crashes, graceful, guest_dir, packed=False):
    wd = tempfile.mkdtemp(prefix="vsw-crash-%s-" % mode)
    v = Vswd(build, wd)
    g1 = g2 = None
    times = {"kill -9": [], "SIGTERM": []}
    try:
        v.start()
        check(v.wait_ctl(), mode + ": vswd starts")
        qemu_server = mode == "client"
        for n in ("vm1", "vm2"):
            args = ["port", "add", n, "vhost-user", "path=" + os.path.join(wd, n + ".sock")]
            if qemu_server:
                args.append("mode=client")
            check(v.call(*args) is not None, mode + ": port add " + n)
        kw = dict(workdir=wd, guest_dir=guest_dir, ipv6=False, packed=packed)
        if qemu_server:
            kw["server"] = True
        else:
            kw["reconnect_s"] = 1
        g1 = guest.Guest("g1", os.path.join(wd, "vm1.sock"), "10.0.0.1/24", "52:54:00:00:01:01", **kw)
        g2 = guest.Guest("g2", os.path.join(wd, "vm2.sock"), "10.0.0.2/24", "52:54:00:00:01:02", **kw)
        g1.wait_ready(240)
        g2.wait_ready(240)
        check(guest.ping(g1, "10.0.0.2", count=3) == 0.0, mode + ": g1 pings g2 before any crash")
        g1.check("ping -i 0.05 10.0.0.2 >/tmp/ping.log 2>&1 &")
        for kind, sig, n in (("kill -9", signal.SIGKILL, crashes), ("SIGTERM", signal.SIGTERM, graceful)):
            for i in range(n):
                t, why = cycle(v, sig, wd)
                if t is None:
                    check(False, "%s: %s #%d: traffic flows again" % (mode, kind, i + 1), why)
                    break
                times[kind].append(t)
                print("  %s %s #%d: traffic again after %.0f ms" % (mode, kind, i + 1, t * 1000), flush=True)
            if times[kind]:
                ts = times[kind]
                check(len(ts) == n, "%s: %s x%d, traffic resumed every time: min %.0f ms, median %.0f ms, max %.0f ms"
                      % (mode, kind, n, min(ts) * 1000, statistics.median(ts) * 1000, max(ts) * 1000))
                # vswd the client connects at once and its rings are live ~0.3 s
                # after the start; the guest's kernel then holds its own tx for up
                # to 1 s more when QEMU's link-down and link-up (QEMU signals both
                # around a back end's restart) fall within one second: linkwatch
                # runs non-urgent events once a second (docs/VSWD.md).  vswd the
                # server waits for QEMU's next attempt too (reconnect=1: whole
                # seconds).  So every cycle is held to 2.5 s; the 1 s is
                # reported, not required.
                over = sum(1 for t in ts if t >= 1.0)
                print("  %s %s: %d of %d cycles over 1 s" % (mode, kind, over, len(ts)), flush=True)
                check(max(ts) < 2.5, "%s: %s: traffic within 2.5 s every time (%d of %d over 1 s)"
                      % (mode, kind, over, len(ts)), "max %.0f ms" % (max(ts) * 1000))
        g1.run("kill %1 2>/dev/null; killall ping 2>/dev/null; true")
        check(guest.ping(g1, "10.0.0.2", count=3) == 0.0 and guest.ping(g2, "10.0.0.1", count=3) == 0.0,
              mode + ": both guests ping each other at the end")
        for g in (g1, g2):
            _, dmesg = g.run("dmesg")
            bad = [l for l in dmesg.splitlines() if GUEST_ERRORS.search(l)]
            check(not bad, "%s: %s's kernel logs no virtio/netdev error" % (mode, g.name), "; ".join(bad[:3]))
    except Exception as e:  # a guest that does not boot or answer fails the mode
        check(False, mode + ": ran to the end", repr(e))
    finally:
        for g in (g1, g2):
            if g:
                g.stop()
        if v.proc and v.proc.poll() is None:
            v.stop(signal.SIGTERM)
        if FAILED:
            print("kept " + wd)
        else:
            shutil.rmtree(wd, ignore_errors=True)
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--crashes", type=int, default=10, help="kill -9 cycles per mode")
    ap.add_argument("--graceful", type=int, default=3, help="SIGTERM cycles per mode")
    ap.add_argument("--mode", choices=("client", "server"), help="only this socket mode")
    ap.add_argument("--guest-dir", default=None)
    ap.add_argument("--packed", action="store_true",
                    help="packed rings (expected to fail under QEMU 7.2: docs/VSWD.md, crash-safe restart)")
    a = ap.parse_args()
    if not a.guest_dir:
        guest.ensure_built()
    t0 = time.monotonic()
    for mode in ("client", "server"):
        if a.mode and a.mode != mode:
            continue
        run_mode(os.path.abspath(a.build), mode, a.crashes, a.graceful, a.guest_dir, a.packed)
    print("total %.0f s" % (time.monotonic() - t0))
    print("crash_restart: %d passed, %d failed" % (PASSED, FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
