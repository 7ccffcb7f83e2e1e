#!/usr/bin/env python3
"""testpmd_pair.py - two virtio-user ports of one dpdk-testpmd joined through vswd.

Objective: every frame testpmd sends is either received by the other testpmd
port or counted as a drop by vswd, and `vswctl stats --json` agrees exactly
with testpmd's own port counters.

For each ring layout (split, packed; mergeable rx buffers on and off;
in_order), one vswd and one testpmd (ports 0 and 1 on vswd's p0 and p1,
--port-topology=loop so each forwarding stream transmits on its own port),
and for frame sizes 64 and 1500, these phases:

  gentle   rxonly on both ports, `start tx_first 4`: 128 frames each way,
           all must be received, no drop
  blast01  txonly on port 0 only for a while, port 1 not polled: vswd fills
           p1's receive ring, then must count no_rx_buffer drops; the ring is
           drained afterwards
  blast10  the same from port 1 to port 0
  flowgen  flowgen on both ports (transmits flat out and receives at once)

and once per layout (64 bytes):

  flood    port 0 sends to a MAC vswd never saw: flooded to p1, all received
  hairpin  port 0 sends to its own MAC: vswd must count no_destination on p0

After every phase testpmd is put in rxonly on both ports until everything in
flight has landed, then, with d() the change over the phase, for A->B in
(0->1, 1->0):

  tp.TX[A]     == vs[pA].rx_packets + vs[pA].drops{runt,bad_header,bad_offload}
  vs[pA].rx    == vs[pB].tx_packets + vs[pB].drops{no_rx_buffer,too_big,port_down,port_broken}
                  + vs[pA].drops{no_destination,flood_budget,flood_rate}
  vs[pB].tx    == tp.RX[B] + tp.RX-missed[B] + tp.RX-errors[B]
  and the byte counters agree the same way where nothing was dropped.

(bytes: testpmd's byte counters and vswd's both exclude the virtio-net header.)

Then `vswctl fdb show` must list port 0's MAC on p0 and port 1's on p1, the
whole session must balance the same way, vswd must have logged no warning,
and last (peer-gone) testpmd closes port 1: vswd must forget port 1's MAC
and count every frame port 0 then sends as p1 port_down.

vswd and vswctl are copied out of --build first (others may relink them).
Needs root (1024 free hugepages and a hugetlbfs mount, set up here and put back at exit), dpdk-testpmd
(Debian: dpdk-dev) and stdbuf; about a minute with everything passing.

Usage: python3 tests/scenario/testpmd_pair.py --build build [--configs split,packed] [--sizes 64,1500]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testpmd_lib import (Results, TestPmd, Vswd, cleanup_prefix, exit_on_signals, finish, log,  # noqa: E402
                         testpmd_ready)

MAC = ["02:76:73:77:00:00", "02:76:73:77:00:01"]
UNKNOWN_MAC = "02:76:73:77:00:99"
BURST = 32  # testpmd's default burst

CONFIGS = {
    # virtio-user's defaults in DPDK 22.11: mrg_rxbuf=1, in_order=1, packed_vq=0.
    "split": "in_order=0",
    "split-nomrg": "mrg_rxbuf=0,in_order=0",
    "split-inorder": "in_order=1",
    "packed": "packed_vq=1,in_order=0",
    "packed-nomrg": "packed_vq=1,mrg_rxbuf=0,in_order=0",
    "packed-inorder": "packed_vq=1,in_order=1",
}

INGRESS_DROPS = ("runt", "bad_header", "bad_offload")
EGRESS_DROPS = ("no_rx_buffer", "too_big", "port_down", "port_broken")
# Counted on the ingress port after rx_packets, where the switch decides (a flood that reaches
# nobody, or one over the flood budget or a port's flood rate).
DECISION_DROPS = ("no_destination", "flood_budget", "flood_rate")


def vs_delta(after, before):
    d = {}
    for name, a in after.items():
        b = before.get(name, {"rx_packets": 0, "rx_bytes": 0, "tx_packets": 0, "tx_bytes": 0, "drops": {}})
        d[name] = {k: a[k] - b[k] for k in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes")}
        d[name]["drops"] = {r: c - b["drops"].get(r, 0) for r, c in a["drops"].items()}
    return d


def tp_delta(after, before):
    return {p: {k: after[p][k] - before[p][k] for k in after[p]} for p in after}


def conservation(tp, vs):
    """The accounting equations on deltas; returns a list of violations (empty: all frames accounted for)."""
    errs = []
    for a, b in ((0, 1), (1, 0)):
        pa, pb = vs["p%d" % a], vs["p%d" % b]
        ing = sum(pa["drops"].get(r, 0) for r in INGRESS_DROPS)
        egr = sum(pb["drops"].get(r, 0) for r in EGRESS_DROPS)
        nodst = sum(pa["drops"].get(r, 0) for r in DECISION_DROPS)
        if tp[a]["tx"] != pa["rx_packets"] + ing:
            errs.append("testpmd port %d TX-packets %d != vswd p%d rx_packets %d + ingress drops %d (diff %d)" % (
                a, tp[a]["tx"], a, pa["rx_packets"], ing, tp[a]["tx"] - pa["rx_packets"] - ing))
        if pa["rx_packets"] != pb["tx_packets"] + egr + nodst:
            errs.append("vswd p%d rx_packets %d != p%d tx_packets %d + p%d egress drops %d + p%d decision drops %d"
                        " (diff %d)" % (a, pa["rx_packets"], b, pb["tx_packets"], b, egr, a, nodst,
                                        pa["rx_packets"] - pb["tx_packets"] - egr - nodst))
        rxl = tp[b]["rx"] + tp[b]["rx_missed"] + tp[b]["rx_errors"]
        if pb["tx_packets"] != rxl:
            errs.append("vswd p%d tx_packets %d != testpmd port %d RX-packets+missed+errors %d (diff %d)" % (
                b, pb["tx_packets"], b, rxl, pb["tx_packets"] - rxl))
        if ing == 0 and tp[a]["tx_bytes"] != pa["rx_bytes"]:
            errs.append("testpmd port %d TX-bytes %d != vswd p%d rx_bytes %d" % (a, tp[a]["tx_bytes"], a,
                                                                                pa["rx_bytes"]))
        if pb["tx_bytes"] != tp[b]["rx_bytes"]:
            errs.append("vswd p%d tx_bytes %d != testpmd port %d RX-bytes %d" % (b, pb["tx_bytes"], b,
                                                                              tp[b]["rx_bytes"]))
    return errs


def drops_str(d):
    return ",".join("%s=%d" % (k, v) for k, v in sorted(d.items()) if v) or "-"


class Pair:
    """One vswd with p0/p1 and one testpmd whose ports 0/1 are virtio-user on them."""

    def __init__(self, args, res, cfg):
        self.args, self.res, self.cfg = args, res, cfg
        self.vs = self.tp = None

    def start(self, devargs, workdir):
        self.dir = os.path.join(workdir, self.cfg)
        os.makedirs(self.dir)
        self.prefix = "vswtp%d%s" % (os.getpid(), self.cfg.replace("-", ""))
        cleanup_prefix(self.prefix)
        socks = [os.path.join(self.dir, "p%d.sock" % i) for i in range(2)]
        self.vs = Vswd(self.args.build, self.dir, [("p0", socks[0]), ("p1", socks[1])],
                       os.path.join(self.dir, "vswd.log"), workers=self.args.workers)
        extra = ("," + devargs) if devargs else ""
        vdevs = ["net_virtio_user%d,path=%s,queues=1,mac=%s%s" % (i, socks[i], MAC[i], extra) for i in range(2)]
        self.tp = TestPmd(vdevs, self.prefix, os.path.join(self.dir, "testpmd.log"))
        self.tp_base = self.tp.port_stats()
        self.vs_base = self.vs.stats()

    def close(self):
        try:
            if self.tp:
                self.tp.close()
        finally:
            if self.vs:
                self.vs.close()

    def snapshot(self):
        return self.tp.port_stats(), self.vs.stats()

    def settle(self, tp0, vs0):
        """Poll until the accounting holds (nothing left in flight), no counter moved for --stall
        seconds (what is missing now is lost), or --settle seconds; returns the deltas and errors."""
        now = time.monotonic()
        deadline, last, moved = now + self.args.settle, None, now
        while True:
            tp1, vs1 = self.snapshot()
            dt, dv = tp_delta(tp1, tp0), vs_delta(vs1, vs0)
            errs = conservation(dt, dv)
            now = time.monotonic()
            if (tp1, vs1) != last:
                last, moved = (tp1, vs1), now
            if not errs or now > deadline or now - moved > self.args.stall:
                return dt, dv, errs
            time.sleep(0.2)

    def drain(self):
        """rxonly on both ports: takes whatever vswd put into the receive rings."""
        self.tp.cmd_ok("set portlist 0,1")
        self.tp.cmd_ok("set fwd rxonly")
        self.tp.cmd("start")

    def phase(self, name, size, run, expect):
        """Run one phase: @run() sends (and stops), then drain, settle, check the equations and @expect."""
        label = "%s/%d/%s" % (self.cfg, size, name)
        tp0, vs0 = self.snapshot()
        t0 = time.monotonic()
        run()
        self.drain()
        dt, dv, errs = self.settle(tp0, vs0)
        self.tp.cmd("stop")
        # The counters once nothing runs: these are the ones reported and checked.
        tp1, vs1 = self.snapshot()
        dt, dv = tp_delta(tp1, tp0), vs_delta(vs1, vs0)
        errs = conservation(dt, dv)
        self.res.rows.append((label, dt, dv))
        log("  %-28s tp0 tx %8d | p0 rx %8d | p1 tx %8d drops %-28s | tp1 rx %8d  (%.1fs)" % (
            label, dt[0]["tx"], dv["p0"]["rx_packets"], dv["p1"]["tx_packets"],
            drops_str({**{"p0." + k: v for k, v in dv["p0"]["drops"].items()},
                       **{"p1." + k: v for k, v in dv["p1"]["drops"].items()}}),
            dt[1]["rx"], time.monotonic() - t0))
        log("  %-28s tp1 tx %8d | p1 rx %8d | p0 tx %8d %-34s | tp0 rx %8d" % (
            "", dt[1]["tx"], dv["p1"]["rx_packets"], dv["p0"]["tx_packets"], "", dt[0]["rx"]))
        self.res.check("%s: every frame received or counted as a drop" % label, not errs, "; ".join(errs))
        for what, ok, detail in expect(dt, dv):
            self.res.check("%s: %s" % (label, what), ok, detail)
        self.res.check("%s: vswd still running" % label, self.vs.alive(), "vswd exited")

    # ---- phases ----

    def gentle(self, size, nburst=4):
        def run():
            self.tp.cmd_ok("set portlist 0,1")
            self.tp.cmd_ok("set fwd rxonly")
            self.tp.cmd("start tx_first %d" % nburst)
            time.sleep(0.3)
            self.tp.cmd("stop")

        def expect(dt, dv):
            n = nburst * BURST
            drops = sum(sum(dv[p]["drops"].values()) for p in ("p0", "p1"))
            return [
                ("testpmd sent %d frames on each port" % n, dt[0]["tx"] == n and dt[1]["tx"] == n,
                 "port 0 TX %d, port 1 TX %d" % (dt[0]["tx"], dt[1]["tx"])),
                ("all received, no drop", dt[1]["rx"] == dt[0]["tx"] and dt[0]["rx"] == dt[1]["tx"] and drops == 0,
                 "rx %d/%d, drops p0 %s p1 %s" % (dt[1]["rx"], dt[0]["rx"], drops_str(dv["p0"]["drops"]),
                                                  drops_str(dv["p1"]["drops"]))),
            ]
        self.phase("gentle", size, run, expect)

    def blast(self, size, a):
        b = 1 - a

        def run():
            self.tp.cmd_ok("set portlist %d" % a)
            self.tp.cmd_ok("set fwd txonly")
            self.tp.cmd("start")
            time.sleep(self.args.blast)
            self.tp.cmd("stop")

        def expect(dt, dv):
            pb = dv["p%d" % b]
            return [
                ("only port %d sent" % a, dt[a]["tx"] > 0 and dt[b]["tx"] == 0,
                 "TX port %d %d, port %d %d" % (a, dt[a]["tx"], b, dt[b]["tx"])),
                ("some frames received and some counted as no_rx_buffer",
                 dt[b]["rx"] > 0 and pb["drops"].get("no_rx_buffer", 0) > 0,
                 "received %d, p%d drops %s" % (dt[b]["rx"], b, drops_str(pb["drops"]))),
            ]
        self.phase("blast%d%d" % (a, b), size, run, expect)

    def flowgen(self, size):
        def run():
            self.tp.cmd_ok("set portlist 0,1")
            self.tp.cmd_ok("set fwd flowgen")
            self.tp.cmd("start")
            time.sleep(self.args.blast)
            self.tp.cmd("stop")

        def expect(dt, dv):
            return [("both ports sent and received", min(dt[0]["tx"], dt[1]["tx"], dt[0]["rx"], dt[1]["rx"]) > 0,
                     "TX %d/%d RX %d/%d" % (dt[0]["tx"], dt[1]["tx"], dt[0]["rx"], dt[1]["rx"]))]
        self.phase("flowgen", size, run, expect)

    def flood(self, size):
        def run():
            self.tp.cmd_ok("set eth-peer 0 %s" % UNKNOWN_MAC)
            self.tp.cmd_ok("set portlist 0")
            self.tp.cmd_ok("set fwd rxonly")
            self.tp.cmd("start tx_first 2")
            time.sleep(0.3)
            self.tp.cmd("stop")
            self.tp.cmd_ok("set eth-peer 0 %s" % MAC[1])

        def expect(dt, dv):
            return [("frames to an unknown MAC flooded to p1 and all received",
                     dt[0]["tx"] == 2 * BURST and dt[1]["rx"] == dt[0]["tx"] and dv["p1"]["tx_packets"] == dt[0]["tx"],
                     "port 0 TX %d, p1 tx %d, port 1 RX %d" % (dt[0]["tx"], dv["p1"]["tx_packets"], dt[1]["rx"]))]
        self.phase("flood", size, run, expect)

    def hairpin(self, size):
        def run():
            self.tp.cmd_ok("set eth-peer 0 %s" % MAC[0])
            self.tp.cmd_ok("set portlist 0")
            self.tp.cmd_ok("set fwd rxonly")
            self.tp.cmd("start tx_first 2")
            time.sleep(0.3)
            self.tp.cmd("stop")
            self.tp.cmd_ok("set eth-peer 0 %s" % MAC[1])

        def expect(dt, dv):
            nd = dv["p0"]["drops"].get("no_destination", 0)
            return [("frames to port 0's own MAC counted as p0 no_destination",
                     dt[0]["tx"] == 2 * BURST and nd == dt[0]["tx"] and dv["p1"]["tx_packets"] == 0,
                     "port 0 TX %d, p0 no_destination %d, p1 tx %d" % (dt[0]["tx"], nd, dv["p1"]["tx_packets"]))]
        self.phase("hairpin", size, run, expect)

    def fdb_check(self):
        entries = {e["mac"]: e["port"] for e in self.vs.fdb()}
        self.res.check("%s: fdb lists port 0's MAC %s on p0" % (self.cfg, MAC[0]), entries.get(MAC[0]) == "p0",
                       "fdb: %s" % entries)
        self.res.check("%s: fdb lists port 1's MAC %s on p1" % (self.cfg, MAC[1]), entries.get(MAC[1]) == "p1",
                       "fdb: %s" % entries)
        self.res.check("%s: fdb never learned a destination-only MAC" % self.cfg, UNKNOWN_MAC not in entries,
                       "fdb: %s" % entries)

    def peer_gone(self):
        """Last: testpmd closes port 1 (vswd's p1 loses its front end); what port 0 sends to it is port_down."""
        label = "%s/64/peer-gone" % self.cfg
        self.tp.cmd_ok("set txpkts 64")
        self.tp.cmd("port stop 1")
        self.tp.cmd("port close 1")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            states = {p["name"]: p["state"] for p in self.vs.show()["ports"]}
            if not states.get("p1", "").startswith("connected"):
                break
            time.sleep(0.2)
        self.res.check("%s: p1 shows its front end gone" % label, not states.get("p1", "").startswith("connected"),
                       str(states))
        entries = {e["mac"]: e["port"] for e in self.vs.fdb()}
        self.res.check("%s: fdb forgot port 1's MAC with its front end" % label, MAC[1] not in entries,
                       "fdb: %s" % entries)
        tp0, vs0 = self.tp.port_stats(1), self.vs.stats()
        self.tp.cmd_ok("set portlist 0")
        self.tp.cmd_ok("set fwd rxonly")
        self.tp.cmd("start tx_first 2")
        deadline = time.monotonic() + self.args.settle
        while True:
            time.sleep(0.2)
            tp1, vs1 = self.tp.port_stats(1), self.vs.stats()
            tx = tp1[0]["tx"] - tp0[0]["tx"]
            dv = vs_delta(vs1, vs0)
            pd = dv["p1"]["drops"].get("port_down", 0)
            if (tx == dv["p0"]["rx_packets"] == pd and tx > 0) or time.monotonic() > deadline:
                break
        self.tp.cmd("stop")
        tp1, vs1 = self.tp.port_stats(1), self.vs.stats()
        tx = tp1[0]["tx"] - tp0[0]["tx"]
        dv = vs_delta(vs1, vs0)
        dt = {0: tp_delta(tp1, tp0)[0], 1: dict.fromkeys(tp1[0], 0)}
        self.res.rows.append((label, dt, dv))
        other = sum(dv["p1"]["drops"].values()) - dv["p1"]["drops"].get("port_down", 0) + \
            sum(dv["p0"]["drops"].values())
        self.res.check("%s: every frame port 0 sent counted as p1 port_down" % label,
                       tx == 2 * BURST and dv["p0"]["rx_packets"] == tx and
                       dv["p1"]["drops"].get("port_down", 0) == tx and dv["p1"]["tx_packets"] == 0 and other == 0,
                       "port 0 TX %d, p0 rx %d, p1 tx %d, drops p0 %s p1 %s" % (
                           tx, dv["p0"]["rx_packets"], dv["p1"]["tx_packets"], drops_str(dv["p0"]["drops"]),
                           drops_str(dv["p1"]["drops"])))

    def run(self, sizes):
        show = self.vs.show()
        states = {p["name"]: p["state"] for p in show["ports"]}
        self.res.check("%s: both ports connected" % self.cfg,
                       all(s.startswith("connected") for s in states.values()) and len(states) == 2, str(states))
        self.tp.cmd_ok("set eth-peer 0 %s" % MAC[1])
        self.tp.cmd_ok("set eth-peer 1 %s" % MAC[0])
        for size in sizes:
            self.tp.cmd_ok("set txpkts %d" % size)
            self.gentle(size)
            if size == sizes[0]:
                self.flood(size)
                self.hairpin(size)
            self.blast(size, 0)
            self.blast(size, 1)
            self.flowgen(size)
        self.fdb_check()
        # Over the whole session: the same accounting from the very first counters.
        tp1, vs1 = self.snapshot()
        dt, dv = tp_delta(tp1, self.tp_base), vs_delta(vs1, self.vs_base)
        errs = conservation(dt, dv)
        self.res.check("%s: whole session accounted for" % self.cfg, not errs, "; ".join(errs))
        show = self.vs.show()
        states = {p["name"]: p["state"] for p in show["ports"]}
        self.res.check("%s: both ports still connected" % self.cfg,
                       all(s.startswith("connected") for s in states.values()) and len(states) == 2, str(states))
        with open(os.path.join(self.dir, "vswd.log")) as f:
            bad = [ln.strip() for ln in f if "vswd warn:" in ln or "vswd error:" in ln]
        self.res.check("%s: vswd logged no warning or error" % self.cfg, not bad, " | ".join(bad[:5]))
        self.peer_gone()


def snapshot_binaries(build, dest, timeout=60.0):
    """Copy vswd and vswctl to @dest once each runs (--help); retried while a build relinks them."""
    os.makedirs(dest, exist_ok=True)
    deadline = time.monotonic() + timeout
    for tool in ("vswd", "vswctl"):
        src, dst = os.path.join(build, tool), os.path.join(dest, tool)
        while True:
            try:
                shutil.copy2(src, dst)
                if subprocess.run([dst, "--help"], capture_output=True, timeout=10).returncode == 0:
                    break
                why = "%s --help failed" % tool
            except (OSError, subprocess.SubprocessError) as e:
                why = str(e)
            if time.monotonic() > deadline:
                raise RuntimeError("cannot use %s: %s (run make)" % (src, why))
            time.sleep(1)
    return dest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--configs", default=",".join(CONFIGS), help="of: " + ",".join(CONFIGS))
    ap.add_argument("--sizes", default="64,1500")
    ap.add_argument("--blast", type=float, default=0.7, help="seconds of flat-out transmission per phase")
    ap.add_argument("--settle", type=float, default=15.0, help="seconds to wait at most for frames in flight")
    ap.add_argument("--stall", type=float, default=2.5,
                    help="seconds without any counter moving after which missing frames count as lost")
    ap.add_argument("--workers", type=int, default=1, help="vswd data path workers")
    ap.add_argument("--keep", action="store_true", help="keep the logs directory")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    exit_on_signals()
    res = Results()
    sizes = [int(s) for s in args.sizes.split(",")]
    t_start = time.monotonic()

    if not testpmd_ready("testpmd-pair"):
        return 1

    workdir = tempfile.mkdtemp(prefix="vsw-testpmd-pair-")
    log("testpmd-pair: logs in %s" % workdir)
    # A private copy of the binaries: others may relink build/ while this runs.
    try:
        args.build = snapshot_binaries(args.build, os.path.join(workdir, "bin"))
    except RuntimeError as e:
        print("testpmd-pair: %s" % e)
        print("testpmd-pair: 0 passed, 1 failed")
        return 1
    for cfg in args.configs.split(","):
        if cfg not in CONFIGS:
            res.check("config %s" % cfg, False, "unknown configuration")
            continue
        log("== %s (virtio-user %s)" % (cfg, CONFIGS[cfg] or "defaults"))
        pair = None
        try:
            pair = Pair(args, res, cfg)
            pair.start(CONFIGS[cfg], workdir)
            pair.run(sizes)
        except Exception as e:  # one configuration's failure must not hide the others
            res.check("%s: ran to the end" % cfg, False, "%s: %s" % (type(e).__name__, e))
            traceback.print_exc()
        except (KeyboardInterrupt, SystemExit) as e:
            res.check("%s: ran to the end" % cfg, False, "interrupted (%s)" % type(e).__name__)
            break
        finally:
            if pair:
                pair.close()

    log("")
    log("counters per phase (deltas; tp = testpmd port stats, p0/p1 = vswctl stats):")
    log("%-28s %8s %8s %8s %8s | %8s %8s %8s %8s | %s" % (
        "phase", "tp0.TX", "p0.rx", "p1.tx", "tp1.RX", "tp1.TX", "p1.rx", "p0.tx", "tp0.RX", "vswd drops"))
    for label, dt, dv in res.rows:
        log("%-28s %8d %8d %8d %8d | %8d %8d %8d %8d | %s" % (
            label, dt[0]["tx"], dv["p0"]["rx_packets"], dv["p1"]["tx_packets"], dt[1]["rx"],
            dt[1]["tx"], dv["p1"]["rx_packets"], dv["p0"]["tx_packets"], dt[0]["rx"],
            drops_str({**{"p0." + k: v for k, v in dv["p0"]["drops"].items()},
                       **{"p1." + k: v for k, v in dv["p1"]["drops"].items()}})))
    return finish("testpmd-pair", res, workdir, args.keep, t_start)


if __name__ == "__main__":
    sys.exit(main())
