#!/usr/bin/env python3
"""bench-scale.py - vswd at a thousand vhost-user ports: forwarding next to 2 ports, port add/del, flooding.

    python3 scripts/bench-scale.py [--build build] [--ports 1000] [--samples 5] [--seconds 5]
                                   [--adds 20] [--flood-seconds 5] [--flood-rate PPS] [--event]
                                   [--smoke] [--doc docs/PERFORMANCE.md | --no-doc] [--json FILE] [--keep]

On a 2-CPU machine: vswd's worker (one, busy polling; --event:
event-driven) on CPU 0, its control thread unpinned, one vsw-bench process
on CPU 1 that is every front end at once:
ports A and B with 256-entry rings, and the other N - 2 ports with
64-entry rings and a 2 MiB memfd each, connected and idle (vsw-bench
--idle).  Phases:

  1. forwarding: 64 B frames A -> B through a vswd with 2 ports, and
     through one with N ports, all connected; samples alternate between
     the two (the order rotates), medians, and the median of the ratios
     of each pair of samples taken back to back (target >= 0.95: a pair
     shares the machine's state, which on a virtual machine may change
     by 2x between pairs; the ratio of the two medians is printed too);
  2. control plane at N connected ports: `port-add` of one more
     vhost-user port and `port-del` of it, --adds times, each timed from
     request to reply on the control socket (target: max < 10 ms); also
     `stats` and `show` at N ports;
  3. flooding: A sends broadcasts flat out (or --flood-rate), B and the
     N - 2 idle ports are drained by vsw-bench; from vswd's counters:
     broadcasts admitted per second, `flood_budget` drops (the worker's
     and the queue's copy budgets), copies delivered per second, `no_rx_buffer` drops, and
     the check that every admitted broadcast is, on every other port,
     either delivered or counted;
  4. fairness: A -> B unicast again at N ports while the first idle port
     floods at --fair-rate broadcasts per second; its rate next to
     phase 1's;
  5. tenants: the same in a fresh vswd whose ports are in VLANs (access
     ports: A and B in VLAN 10, the flooder p2 and p3 in VLAN 20, every
     other port in VLAN 30): A -> B alone and beside p2's broadcasts, in
     turn (--samples pairs at most 3), the median of the pairs' ratios,
     and what p2's broadcasts cost (they reach p3 alone).

--smoke: 20 ports, one sample each, 1 s windows, 5 add/del pairs: the
code paths, not the figures (what `make check` runs).  Exit status 1 when
a check failed (no forwarding, a refused add/del, flood copies neither
delivered nor counted), else 0; figures are printed, not judged.  A full
run (not --smoke, >= 5 samples, 1000 ports) rewrites the "Scale" section of
docs/PERFORMANCE.md unless --no-doc.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import socket
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_procs import (BenchError, Proc, install_cleanup, loadavg, log, run, wait_turn,  # noqa: E402
                         write_doc_section)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAME = 60                    # bytes without the FCS: a 64-byte Ethernet frame
INGRESS_DROPS = ("flood_budget", "no_destination", "flood_rate", "bad_header", "runt", "src_mac", "mac_locked",
                 "src_ip", "ethertype")
DEST_DROPS = ("no_rx_buffer", "too_big", "port_down", "port_broken")
PHASES = ["forward", "control", "flood", "fair", "vlan"]
VLAN_AB, VLAN_FLOOD, VLAN_REST = 10, 20, 30

# The head of the doc's Scale section (the results follow it).
DOC_HEAD = """## Scale

vswd with a thousand vhost-user ports connected (issue 13): forwarding
between two of them next to a switch of two ports, `port-add` and
`port-del` at that size, broadcast to all of them under the flood budget,
unicast while one port floods, and the same among tenants in VLANs (a
port flooding its VLAN of two).  The design: docs/VSWD.md, "Thousands
of ports and flooding".

### Run it

    python3 scripts/bench-scale.py [--ports 1000] [--samples 5] [--seconds 5] [--adds 20]
                                   [--flood-seconds 5] [--flood-rate PPS] [--fair-rate PPS] [--event]
                                   [--phases forward,control,flood,fair,vlan] [--smoke] [--doc FILE | --no-doc]
                                   [--json FILE] [--keep]

Also the last step of `make bench`.  No root needed, no hugepages: one
vsw-bench process is every front end (`--idle FMT --idle-count N`: ports
with 64-entry rings and a 2 MiB memfd each, kept idle; `--flood`,
`--flood-rate`, `--hold`).  vswd's worker runs busy polling on CPU 0
(`"cpus":[0]`, its control thread unpinned), vsw-bench on CPU 1.
Forwarding samples alternate between a fresh vswd of 2 ports and one of
1,000 (the order rotates); control requests are timed by the script on
the control socket, from sending to the whole reply, while vsw-bench holds
every port connected; flood figures come from vswd's counters (`stats`),
with the check that every admitted broadcast was, on each other port,
delivered or counted.  The tenants' phase runs a fresh vswd whose ports
are access ports (A and B in VLAN 10, the flooder and one more port in
VLAN 20, the rest in VLAN 30), A -> B alone and beside the flooder in
turn, and checks that its admitted broadcasts reached the other port of
its VLAN (delivered or counted) and no port of another.  A full run (5 samples of 5 s, 1,000 ports) takes a
few minutes and rewrites this section; `--smoke` (20 ports, 1 s) is
what `make check` runs and judges nothing but the checks.

### Results
"""


class Ctx:
    def __init__(self, a):
        self.a = a
        self.dir = tempfile.mkdtemp(prefix="vsw-bscale-")
        self.logdir = os.path.join(self.dir, "logs")
        os.makedirs(self.logdir)
        self.bin = os.path.join(self.dir, "bin")
        os.makedirs(self.bin)
        # Private copies: others may rebuild build/ while we run.
        for b in ("vswd", "vsw-bench"):
            src = os.path.join(a.build, b)
            if not os.path.exists(src):
                raise BenchError("%s missing: build first (make)" % src)
            shutil.copy2(src, os.path.join(self.bin, b))
        two = (os.cpu_count() or 1) >= 2
        self.sut_cpu, self.gen_cpu = (0, 1) if two else (None, None)
        self.seq = 0

    def logpath(self, name):
        return os.path.join(self.logdir, name + ".log")

    def pinned(self, cpu, argv):
        return (["taskset", "-c", str(cpu)] if cpu is not None else []) + argv


class Vswd:
    """vswd with @n vhost-user server ports p0..p(n-1); A is p0, B is p1."""

    def __init__(self, ctx, n, opts=None):
        """@opts(i): more options of port i (a dict, as a config entry spells them), or None."""
        ctx.seq += 1
        self.ctx = ctx
        self.n = n
        self.dir = os.path.join(ctx.dir, "v%d" % ctx.seq)
        os.makedirs(self.dir)
        self.ctl = os.path.join(self.dir, "ctl.sock")
        conf = {"workers": 1, "busy_poll": not ctx.a.event,
                "ports": [dict({"name": "p%d" % i, "type": "vhost-user", "path": self.sock(i), "mode": "server"},
                               **(opts(i) if opts else {})) for i in range(n)]}
        if ctx.sut_cpu is not None:
            conf["cpus"] = [ctx.sut_cpu]
        cpath = os.path.join(self.dir, "vswd.json")
        with open(cpath, "w") as f:
            json.dump(conf, f)
        # Only the worker is pinned ("cpus"): the control thread answers requests from wherever the
        # scheduler puts it, not from behind a busy-polling worker's time slice.
        self.proc = Proc([os.path.join(ctx.bin, "vswd"), "--foreground", "--ctl", self.ctl, "--config", cpath],
                         ctx.logpath("vswd-%d" % ctx.seq), name="vswd", keep_buf=False)
        self.proc.wait_for(r"ready: control socket", 0, 60)

    def sock(self, i):
        return os.path.join(self.dir, "p%d.sock" % i)

    def call(self, req, timeout=30):
        """One request on the control socket; (reply, milliseconds from sending to the whole reply)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.ctl)
        buf = bytearray()
        t0 = time.perf_counter()
        s.sendall((json.dumps(req) + "\n").encode())
        while not buf.endswith(b"\n"):
            d = s.recv(1 << 20)
            if not d:
                break
            buf += d
        ms = (time.perf_counter() - t0) * 1e3
        s.close()
        try:
            return json.loads(buf), ms
        except ValueError:
            raise BenchError("vswd: no JSON reply to %s" % req.get("cmd"))

    def stats(self):
        r, _ = self.call({"cmd": "stats"})
        if not r.get("ok"):
            raise BenchError("vswd stats: %s" % r.get("error"))
        return {p["name"]: p for p in r["ports"]}

    def close(self):
        self.proc.close()


def bench_argv(ctx, sw, extra):
    argv = [os.path.join(ctx.bin, "vsw-bench"), "--a", sw.sock(0), "--b", sw.sock(1), "--size", FRAME, "--json"]
    if sw.n > 2:
        argv += ["--idle", os.path.join(sw.dir, "p%u.sock"), "--idle-first", 2, "--idle-count", sw.n - 2]
    return ctx.pinned(ctx.gen_cpu, [str(x) for x in argv + extra])


def vsw_bench(ctx, sw, extra, seconds):
    """Run vsw-bench against @sw (every port connected) and return its JSON line."""
    argv = bench_argv(ctx, sw, extra)
    r = run(argv, timeout=120 + seconds + sw.n / 20, check=False)
    with open(ctx.logpath("vsw-bench"), "a") as f:
        f.write("$ %s\n%s%s(exit %d)\n" % (" ".join(argv), r.stdout, r.stderr, r.returncode))
    line = next((x for x in reversed(r.stdout.splitlines()) if x.startswith("{")), None)
    if r.returncode != 0 or not line:
        raise BenchError("vsw-bench exit %d: %s" % (r.returncode, (r.stderr or r.stdout).strip()[-400:]))
    return json.loads(line)


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def drops(p, names):
    return sum(p["drops"].get(k, 0) for k in names)


def diff_stats(before, after):
    """Per port: rx, tx, and each drop reason, after - before."""
    out = {}
    for name, a in after.items():
        b = before.get(name, {"rx_packets": 0, "tx_packets": 0, "drops": {}})
        out[name] = {"rx": a["rx_packets"] - b["rx_packets"], "tx": a["tx_packets"] - b["tx_packets"],
                     "drops": {k: v - b["drops"].get(k, 0) for k, v in a["drops"].items()}}
    return out


# ---------------------------------------------------------------- phases

def phase_forward(ctx, res):
    """Samples alternate between vswd with 2 ports and with N; each vswd is fresh, every port connected."""
    a = ctx.a
    for s in range(a.samples):
        for n in ([2, a.ports] if s % 2 == 0 else [a.ports, 2]):
            sw = Vswd(ctx, n)
            try:
                r = vsw_bench(ctx, sw, ["--seconds", a.seconds], a.seconds)
            finally:
                sw.close()
            if r["rx"] == 0:
                raise BenchError("%d ports: nothing forwarded (tx %d)" % (n, r["tx"]))
            res["forward"][str(n)].append(r["rx_mpps"])
            log("  sample %d, %4d ports: %.3f Mpps (tx %.3f, lost %d)" % (s + 1, n, r["rx_mpps"], r["tx_mpps"],
                                                                          r["lost"]))


def phase_control(ctx, res, sw):
    """port-add / port-del of one more port while N are connected (vsw-bench --hold keeps them)."""
    a = ctx.a
    hold = Proc(bench_argv(ctx, sw, ["--hold"]), ctx.logpath("vsw-bench-hold"), name="vsw-bench")
    mask = os.sched_getaffinity(0)
    try:
        if ctx.gen_cpu is not None:
            # This client on the front ends' CPU (idle while they hold): off the busy worker's core.
            os.sched_setaffinity(0, {ctx.gen_cpu})
        hold.wait_for(r'"mode":"hold"', 0, 60 + sw.n / 20)
        for i in range(a.adds):
            name = "extra%d" % i
            r, ms_add = sw.call({"cmd": "port-add", "name": name, "type": "vhost-user",
                                 "path": os.path.join(sw.dir, name + ".sock"), "mode": "server"})
            if not r.get("ok"):
                raise BenchError("port-add at %d ports: %s" % (sw.n, r.get("error")))
            r, ms_del = sw.call({"cmd": "port-del", "name": name})
            if not r.get("ok"):
                raise BenchError("port-del at %d ports: %s" % (sw.n, r.get("error")))
            res["add_ms"].append(ms_add)
            res["del_ms"].append(ms_del)
        for cmd in ("show", "stats"):
            r, ms = sw.call({"cmd": cmd})
            if not r.get("ok") or len(r["ports"]) != sw.n:
                raise BenchError("%s at %d ports: %s" % (cmd, sw.n, r.get("error") or len(r["ports"])))
            res[cmd + "_ms"] = ms
    finally:
        os.sched_setaffinity(0, mask)
        hold.close()
    log("  port-add: median %.2f ms, max %.2f ms; port-del: median %.2f ms, max %.2f ms (%d each)" % (
        med(res["add_ms"]), max(res["add_ms"]), med(res["del_ms"]), max(res["del_ms"]), a.adds))


def phase_flood(ctx, res, sw):
    """A floods; every copy of an admitted broadcast is delivered or counted on its destination."""
    a = ctx.a
    extra = ["--flood", "--seconds", a.flood_seconds] + (["--rate", a.flood_rate] if a.flood_rate else [])
    before = sw.stats()
    r = vsw_bench(ctx, sw, extra, a.flood_seconds)
    time.sleep(0.2)
    d = diff_stats(before, sw.stats())
    secs = r["seconds"]
    rx = sum(p["rx"] for p in d.values())                     # broadcasts into the switch (A's, B's hello)
    refused = sum(p["drops"].get("flood_budget", 0) for p in d.values())
    other_in = sum(drops(p, INGRESS_DROPS) for p in d.values()) - refused
    admitted = rx - refused - other_in
    copies = sum(p["tx"] for p in d.values())
    dest = sum(drops(p, DEST_DROPS) for p in d.values())
    want = admitted * (sw.n - 1)
    f = {"sent": r["tx"], "sent_pps": r["tx"] / secs, "admitted": admitted, "admitted_pps": admitted / secs,
         "flood_budget": refused, "other_ingress_drops": other_in, "copies": copies, "copies_pps": copies / secs,
         "no_rx_buffer": sum(p["drops"].get("no_rx_buffer", 0) for p in d.values()), "dest_drops": dest,
         "received": r["rx"], "rx_min": r["rx_min"], "rx_max": r["rx_max"], "receivers": r["receivers"],
         "accounted": copies + dest == want and other_in == 0}
    res["flood"] = f
    log("  flood to %d ports: sent %.0f/s, admitted %.0f/s, flood_budget drops %d, copies %.0f/s, "
        "no_rx_buffer %d; per receiver %d .. %d" % (sw.n - 1, f["sent_pps"], f["admitted_pps"], refused,
                                                  f["copies_pps"], f["no_rx_buffer"], r["rx_min"], r["rx_max"]))
    if not f["accounted"]:
        res["failed"].append("flood: %d admitted x %d ports = %d, but %d delivered + %d counted (ingress drops "
                             "besides the budget: %d)" % (admitted, sw.n - 1, want, copies, dest, other_in))
    if r["rx_min"] == 0:
        res["failed"].append("flood: a port received no broadcast at all")


def phase_fair(ctx, res, sw):
    a = ctx.a
    before = sw.stats()
    r = vsw_bench(ctx, sw, ["--seconds", a.seconds, "--flood-rate", a.fair_rate], a.seconds)
    d = diff_stats(before, sw.stats())
    flooder = d.get("p2", {"rx": 0, "drops": {}})
    res["fair"] = {"mpps": r["rx_mpps"], "flooded": r["flooded"], "flood_admitted": flooder["rx"] -
                   drops(flooder, INGRESS_DROPS), "flood_budget": flooder["drops"].get("flood_budget", 0)}
    if r["rx"] == 0:
        res["failed"].append("fairness: nothing forwarded while flooding")
    log("  A -> B at %d ports while p2 floods %s/s: %.3f Mpps (%d broadcasts sent, %d admitted)" % (
        sw.n, a.fair_rate, r["rx_mpps"], r["flooded"], res["fair"]["flood_admitted"]))


def tenant_tag(i):
    """Access VLANs of phase 5: A and B (p0, p1), the flooder p2 and p3, everyone else."""
    return {"tag": VLAN_AB if i < 2 else VLAN_FLOOD if i < 4 else VLAN_REST}


def phase_vlan(ctx, res):
    """A -> B alone and beside p2's broadcasts in a VLAN of two ports, on a switch of N tenants' ports."""
    a = ctx.a
    sw = Vswd(ctx, a.ports, tenant_tag)
    v = {"alone": [], "beside": [], "ratios": [], "flooded": 0, "admitted": 0, "flood_budget": 0, "p3_got": 0,
         "others_got": 0}
    try:
        for s in range(min(a.samples, 3)):
            pair = {}
            for kind in (["alone", "beside"] if s % 2 == 0 else ["beside", "alone"]):
                before = sw.stats()
                extra = ["--seconds", a.seconds] + (["--flood-rate", a.fair_rate] if kind == "beside" else [])
                r = vsw_bench(ctx, sw, extra, a.seconds)
                d = diff_stats(before, sw.stats())
                if r["rx"] == 0:
                    raise BenchError("tenants: nothing forwarded A -> B (%s)" % kind)
                pair[kind] = r["rx_mpps"]
                v[kind].append(r["rx_mpps"])
                if kind == "beside":
                    p2 = d.get("p2", {"rx": 0, "drops": {}})
                    v["flooded"] += r["flooded"]
                    v["admitted"] += p2["rx"] - drops(p2, INGRESS_DROPS)
                    v["flood_budget"] += p2["drops"].get("flood_budget", 0)
                    v["p3_got"] += d.get("p3", {"tx": 0})["tx"] + drops(d.get("p3", {"drops": {}}), DEST_DROPS)
                    # p2 and the ports of VLAN 30 (A and B hear each other's hellos in VLAN 10).
                    v["others_got"] += sum(d[k]["tx"] for k in d if k not in ("p0", "p1", "p3"))
            v["ratios"].append(pair["beside"] / pair["alone"])
            log("  pair %d: A -> B alone %.3f Mpps, beside p2's broadcasts %.3f (%.3f)" % (
                s + 1, pair["alone"], pair["beside"], v["ratios"][-1]))
    finally:
        sw.close()
    res["vlan"] = v
    # Every admitted broadcast went to p3 (delivered or counted there), and to no port of another VLAN.
    if v["p3_got"] != v["admitted"] or v["others_got"]:
        res["failed"].append("tenants: %d broadcasts admitted, p3 got or dropped %d, other VLANs' ports got %d" % (
            v["admitted"], v["p3_got"], v["others_got"]))
    log("  p2 sent %d broadcasts in VLAN %d, %d admitted, %d flood_budget drops" % (
        v["flooded"], VLAN_FLOOD, v["admitted"], v["flood_budget"]))


# ---------------------------------------------------------------- report

def report(ctx, res):
    a = ctx.a
    f2, fn = res["forward"]["2"], res["forward"][str(a.ports)]
    pairs = [y / x for x, y in zip(f2, fn) if x > 0]
    ratio = med(pairs) if pairs else float("nan")
    ratio_mm = med(fn) / med(f2) if f2 and med(f2) > 0 else float("nan")
    res["ratio"], res["ratio_medians"] = ratio, ratio_mm
    fl = res.get("flood", {})
    fair = res.get("fair", {})
    lines = [
        "Command: `%s` (%s; %s, %d CPUs, load %s at start)." % (
            "make bench" if os.environ.get("VSW_FROM_MAKE_BENCH") and not a.smoke else
            "python3 scripts/bench-scale.py" + (" --smoke" if a.smoke else ""),
            res["date"], platform.release(), os.cpu_count() or 0, res["load"]),
        "vswd: 1 worker, %s%s; vsw-bench: A, B and %d idle ports in one process%s." % (
            "event-driven" if a.event else "busy polling", " on CPU 0" if ctx.sut_cpu is not None else "",
            a.ports - 2, " on CPU 1" if ctx.gen_cpu is not None else ""),
        "",
        "| measure | value |",
        "| --- | --- |",
    ]
    if f2 and fn:
        lines += [
            "| 64 B A -> B, 2 ports (Mpps, median of %d) | %.3f (%s) |" % (
                len(f2), med(f2), " ".join("%.3f" % x for x in f2)),
            "| 64 B A -> B, %d ports (Mpps, median of %d) | %.3f (%s) |" % (
                a.ports, len(fn), med(fn), " ".join("%.3f" % x for x in fn)),
            "| ratio %d / 2 ports (median of the per-pair ratios; per pair) | %.3f (%s) |" % (
                a.ports, ratio, " ".join("%.3f" % x for x in pairs)),
            "| ratio of the medians, %d / 2 ports | %.3f |" % (a.ports, ratio_mm),
        ]
    if res["add_ms"]:
        lines += [
            "| port-add at %d ports (ms, median / max of %d) | %.2f / %.2f |" % (
                a.ports, len(res["add_ms"]), med(res["add_ms"]), max(res["add_ms"])),
            "| port-del at %d ports (ms, median / max of %d) | %.2f / %.2f |" % (
                a.ports, len(res["del_ms"]), med(res["del_ms"]), max(res["del_ms"])),
            "| show / stats at %d ports (ms) | %.1f / %.1f |" % (a.ports, res.get("show_ms", 0),
                                                                 res.get("stats_ms", 0)),
        ]
    if fl:
        lines += [
            "| flood: broadcasts sent by A (/s) | %.0f |" % fl["sent_pps"],
            "| flood: admitted (/s), and `flood_budget` drops | %.0f, %d |" % (fl["admitted_pps"], fl["flood_budget"]),
            "| flood: copies delivered to %d ports (/s), `no_rx_buffer` drops | %.0f, %d |" % (
                a.ports - 1, fl["copies_pps"], fl["no_rx_buffer"]),
            "| flood: every admitted copy delivered or counted | %s |" % ("yes" if fl["accounted"] else "NO"),
        ]
    if fair:
        lines += ["| A -> B at %d ports while one port floods %s/s (Mpps; / alone) | %.3f (%.3f) |" % (
            a.ports, a.fair_rate, fair["mpps"], fair["mpps"] / med(fn) if fn and med(fn) > 0 else float("nan"))]
    vl = res.get("vlan")
    if vl:
        lines += [
            "| tenants (%d ports in 3 VLANs): A -> B alone, beside one port's %s broadcasts/s to its VLAN of 2 "
            "(Mpps, medians of %d) | %.3f, %.3f |" % (a.ports, a.fair_rate, len(vl["alone"]), med(vl["alone"]),
                                                     med(vl["beside"])),
            "| tenants: beside / alone (median of the pairs' ratios; per pair) | %.3f (%s) |" % (
                med(vl["ratios"]), " ".join("%.3f" % x for x in vl["ratios"])),
            "| tenants: broadcasts sent, admitted, `flood_budget` drops | %d, %d, %d |" % (
                vl["flooded"], vl["admitted"], vl["flood_budget"]),
        ]
    lines += ["", "Targets (issue 13): ratio >= 0.95: %s; port-add and port-del < 10 ms: %s." % (
        "not measured" if not (f2 and fn) else "met" if ratio >= 0.95 else "MISSED",
        "not measured" if not res["add_ms"] else "met" if max(res["add_ms"] + res["del_ms"]) < 10 else "MISSED")]
    if a.smoke:
        lines += ["", "(smoke run: figures not meaningful)"]
    return "\n".join(lines)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(REPO, "build"), help="directory with vswd and vsw-bench")
    ap.add_argument("--ports", type=int, default=1000, help="ports connected in the large switch (default 1000)")
    ap.add_argument("--samples", type=int, default=5, help="forwarding samples per switch size (default 5)")
    ap.add_argument("--seconds", type=int, default=5, help="forwarding window (default 5)")
    ap.add_argument("--adds", type=int, default=20, help="port-add/port-del pairs timed (default 20)")
    ap.add_argument("--flood-seconds", type=int, default=5, help="flood window (default 5)")
    ap.add_argument("--flood-rate", type=float, default=0, help="broadcasts per second from A (default: flat out)")
    ap.add_argument("--fair-rate", type=float, default=10000,
                    help="broadcasts per second from one port during the fairness run (default 10000; 0: none)")
    ap.add_argument("--event", action="store_true", help="vswd event-driven instead of busy polling")
    ap.add_argument("--phases", default=",".join(PHASES), help="which phases (default %s)" % ",".join(PHASES))
    ap.add_argument("--smoke", action="store_true", help="20 ports, 1 sample, 1 s windows, 5 add/del: no figures")
    ap.add_argument("--doc", default=None, help="file whose Scale section to rewrite (default docs/PERFORMANCE.md "
                    "on full runs)")
    ap.add_argument("--no-doc", action="store_true", help="never write the doc")
    ap.add_argument("--json", default=None, help="write the results as JSON to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    ap.add_argument("--lock-wait", type=int, default=3600,
                    help="seconds to wait for another benchmark run to finish (default 3600)")
    a = ap.parse_args(argv)
    if a.smoke:
        a.ports, a.samples, a.seconds, a.adds, a.flood_seconds = min(a.ports, 20), 1, 1, 5, 1
        a.fair_rate = min(a.fair_rate, 1000)
    if a.ports < 3 or a.samples < 1 or a.seconds < 1:
        ap.error("--ports >= 3, --samples >= 1, --seconds >= 1")
    a.phases = [x.strip() for x in a.phases.split(",") if x.strip()]
    if not a.phases or any(x not in PHASES for x in a.phases):
        ap.error("--phases: some of %s" % ",".join(PHASES))
    full = not a.smoke and a.samples >= 5 and a.ports >= 1000 and a.phases == PHASES
    if a.no_doc:
        a.doc = None
    elif a.doc is None and full:
        a.doc = os.path.join(REPO, "docs", "PERFORMANCE.md")
    return a


def main(argv):
    a = parse_args(argv)
    install_cleanup()
    try:
        lock = wait_turn(a.lock_wait, "bench-scale")
    except BenchError as e:
        log("FAILED: %s" % e)
        return 1
    ctx = Ctx(a)
    res = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "load": " ".join("%.2f" % x for x in loadavg()), "ports": a.ports, "smoke": a.smoke,
           "forward": {"2": [], str(a.ports): []}, "add_ms": [], "del_ms": [], "failed": []}
    rc = 0
    try:
        if "forward" in a.phases:
            log("## forwarding: 2 ports vs %d ports, %d sample(s) of %d s" % (a.ports, a.samples, a.seconds))
            phase_forward(ctx, res)
        sw = Vswd(ctx, a.ports) if set(a.phases) - {"forward", "vlan"} else None
        try:
            if "control" in a.phases:
                log("## control plane at %d connected ports" % a.ports)
                phase_control(ctx, res, sw)
            if "flood" in a.phases:
                log("## flood to %d ports" % a.ports)
                phase_flood(ctx, res, sw)
            if "fair" in a.phases and a.fair_rate:
                log("## unicast while one port floods")
                phase_fair(ctx, res, sw)
        finally:
            if sw:
                sw.close()
        if "vlan" in a.phases and a.fair_rate:
            log("## tenants: unicast while one port floods its own VLAN")
            phase_vlan(ctx, res)
    except BenchError as e:
        res["failed"].append(str(e))
    if any(res["forward"].values()) or res["add_ms"] or res.get("flood") or res.get("vlan") or res.get("fair"):
        text = report(ctx, res)
        print("\n" + text)
        if a.doc and not res["failed"]:
            write_doc_section(a.doc, "Scale", DOC_HEAD + "\n" + text + "\n")
            log("wrote the Scale section of %s" % a.doc)
    for f in res["failed"]:
        log("FAILED: %s" % f)
        rc = 1
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    if a.keep or rc:
        log("logs: %s" % ctx.logdir)
    else:
        shutil.rmtree(ctx.dir, ignore_errors=True)
    os.close(lock)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
