#!/usr/bin/env python3
"""smoke_testpmd.py - scenario: two QEMU guests ping and iperf3 each other through DPDK testpmd's vhost-user ports.

Objective: show that the guest harness (tests/guest/guest.py) boots guests
on vhost-user sockets and drives traffic between them, against a back end
known to work (testpmd), so that the same steps can later be pointed at
vswd.  Traffic stays between the two guests (10.0.0.1 and 10.0.0.2, inside
the VMs this test starts).

    g1 10.0.0.1 --vhost0.sock--> testpmd io fwd <--vhost1.sock-- g2 10.0.0.2

Steps, for each configuration (default: split, packed):
  1. start dpdk-testpmd with net_vhost0 and net_vhost1, io forwarding
  2. boot g1 on vhost0 and g2 on vhost1; wait until both serve commands
  3. check the ring layout the guest negotiated (VIRTIO_F_RING_PACKED)
  4. ping g1 -> g2 and g2 -> g1, 5 each: expect 0% loss
  5. iperf3 TCP for 3 s g1 -> g2: expect it to finish and report a bitrate
  6. stop the guests and testpmd
Each step prints PASS or FAIL; the last line is "testpmd: N passed, N failed"
and the exit code is non-zero if any step failed.

    tests/guest/smoke_testpmd.py [--configs split,packed,jumbo,server] [--workdir DIR] [--keep]

Configurations: split (default device), packed (packed=on), jumbo (packed=on,
mrg_rxbuf=off, host_mtu=9000, 8000-byte pings), server (QEMU listens,
testpmd is the vhost-user client).
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guest import (Guest, GuestError, VIRTIO_F_RING_PACKED, ensure_built,  # noqa: E402
                   iperf3, ping_stats)
from testpmd import TestPmd, have_testpmd  # noqa: E402

CONFIGS = {
    "split":  dict(guest=dict(), ping_size=None),
    "packed": dict(guest=dict(packed=True), ping_size=None),
    "jumbo":  dict(guest=dict(packed=True, mrg_rxbuf=False, mtu=9000), ping_size=8000),
    "server": dict(guest=dict(server=True), ping_size=None, client=True),
}


class Steps:
    """Counts and prints PASS/FAIL lines."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def result(self, ok, name, detail=""):
        print("%s %s%s" % ("PASS" if ok else "FAIL", name, (": " + detail) if detail else ""),
              flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok


def run_config(cfg_name, cfg, workdir, steps, args):
    """Run steps 1-6 for one configuration; return nothing, record into steps."""
    wd = os.path.join(workdir, cfg_name)
    os.makedirs(wd, exist_ok=True)
    socks = [os.path.join(wd, "vhost0.sock"), os.path.join(wd, "vhost1.sock")]
    client = cfg.get("client", False)
    gopts = cfg["guest"]
    tp = TestPmd(socks, wd, client=client, extra_args=args.testpmd_arg)
    guests = []
    planned = ["boot", "ring layout", "ping g1->g2", "ping g2->g1", "iperf3 g1->g2"]
    done = []
    failed_before = steps.failed

    def step(ok, name, detail=""):
        done.append(name)
        return steps.result(ok, "%s: %s" % (cfg_name, name), detail)

    try:
        try:
            if not client:
                tp.start(timeout=60)
            t0 = time.monotonic()
            guests = [Guest("g1", socks[0], "10.0.0.1/24", "52:54:00:00:00:01", workdir=wd, **gopts),
                      Guest("g2", socks[1], "10.0.0.2/24", "52:54:00:00:00:02", workdir=wd, **gopts)]
            if client:
                tp.start(timeout=60)
            for g in guests:
                g.wait_ready(args.boot_timeout)
            boot_s = time.monotonic() - t0
        except (GuestError, RuntimeError, OSError) as e:
            step(False, "boot", str(e))
            return
        step(True, "boot", "both guests ready in %.1f s (g1 %.1f s, g2 %.1f s)"
             % (boot_s, guests[0].boot_s, guests[1].boot_s))
        g1, g2 = guests

        try:
            want = 1 if gopts.get("packed") else 0
            got = [g.features() >> VIRTIO_F_RING_PACKED & 1 for g in guests]
            step(got == [want, want], "ring layout",
                 "%s ring negotiated by both" % ("packed" if want else "split")
                 if got == [want, want] else "VIRTIO_F_RING_PACKED %s, wanted %d" % (got, want))
        except GuestError as e:
            step(False, "ring layout", str(e))

        for a, b in ((g1, g2), (g2, g1)):
            name = "ping %s->%s" % (a.name, b.name)
            try:
                st = ping_stats(a, b.addr, count=5, size=cfg["ping_size"])
                ok = st["rc"] == 0 and st["loss"] == 0.0
                detail = "%d/%d replies, %.0f%% loss, avg rtt %s ms%s" % (
                    st["received"], st["transmitted"], st["loss"], st["rtt_avg_ms"],
                    ", %d-byte payload" % cfg["ping_size"] if cfg["ping_size"] else "")
                if not ok:
                    detail += "\n" + st["output"]
                step(ok, name, detail)
            except GuestError as e:
                step(False, name, str(e))

        try:
            r = iperf3(g1, g2, seconds=args.seconds)
            ok = r["rc"] == 0 and (r["receiver_mbps"] or 0) > 0
            detail = "TCP %d s: sender %s Mbit/s, receiver %s Mbit/s, %s retransmits" % (
                args.seconds, r["sender_mbps"], r["receiver_mbps"], r["retransmits"])
            if not ok:
                detail += "\n" + r["output"]
            step(ok, "iperf3 g1->g2", detail)
        except GuestError as e:
            step(False, "iperf3 g1->g2", str(e))
    finally:
        for name in planned:
            if name not in done:
                step(False, name, "not run")
        for g in guests:
            g.stop()
        stats = tp.stop()
        if stats:
            print("  testpmd " + stats.replace("\n", "\n  "), flush=True)
        if steps.failed > failed_before:
            print("  logs: %s" % wd, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configs", default="split,packed",
                    help="comma-separated, from: " + ",".join(CONFIGS))
    ap.add_argument("--workdir", help="where logs go (default: a new temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the workdir after a pass")
    ap.add_argument("--seconds", type=int, default=3, help="iperf3 duration")
    ap.add_argument("--boot-timeout", type=float, default=240,
                    help="seconds a guest may take to boot (TCG is slow on a busy host)")
    ap.add_argument("--deadline", type=int, default=900,
                    help="seconds the whole run may take before it is aborted")
    ap.add_argument("--testpmd-arg", action="append", default=[],
                    help="extra testpmd application argument, e.g. --testpmd-arg=--forward-mode=rxonly "
                         "(a back end that drops everything: every traffic step must then FAIL)")
    args = ap.parse_args()
    configs = [c for c in args.configs.split(",") if c]
    bad = [c for c in configs if c not in CONFIGS]
    if bad:
        ap.error("unknown config %s" % ",".join(bad))

    # Abort cleanly (finally blocks stop QEMU and testpmd) on SIGTERM or the deadline.
    def abort(signum, frame):
        raise SystemExit("aborted by signal %d" % signum)
    signal.signal(signal.SIGTERM, abort)
    signal.signal(signal.SIGALRM, abort)
    signal.alarm(args.deadline)

    steps = Steps()
    if not have_testpmd():
        print("smoke_testpmd: dpdk-testpmd missing, installing dpdk-dev", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "dpdk-dev"],
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"), timeout=600)
    if not steps.result(have_testpmd(), "setup: dpdk-testpmd installed"):
        print("testpmd: %d passed, %d failed" % (steps.passed, steps.failed))
        return 1
    try:
        ensure_built(force=True)
        steps.result(True, "setup: guest kernel and initramfs built")
    except (subprocess.SubprocessError, OSError) as e:
        steps.result(False, "setup: guest kernel and initramfs built", str(e))
        print("testpmd: %d passed, %d failed" % (steps.passed, steps.failed))
        return 1

    workdir = args.workdir or tempfile.mkdtemp(prefix="vsw-smoke-testpmd-")
    os.makedirs(workdir, exist_ok=True)
    t0 = time.monotonic()
    try:
        for c in configs:
            print("== %s" % c, flush=True)
            run_config(c, CONFIGS[c], workdir, steps, args)
    except SystemExit as e:       # SIGTERM or deadline: guests are already stopped
        steps.result(False, "run finished", str(e))
    signal.alarm(0)
    print("total %.0f s" % (time.monotonic() - t0))
    if steps.failed == 0 and not args.keep and not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    elif steps.failed:
        print("logs kept in %s" % workdir)
    print("testpmd: %d passed, %d failed" % (steps.passed, steps.failed))
    return 0 if steps.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
