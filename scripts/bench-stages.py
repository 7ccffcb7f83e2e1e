#!/usr/bin/env python3
"""bench-stages.py - where vswd's time per frame goes (the 64 B mac loop of bench-switch.py), builds side by side.

    python3 scripts/bench-stages.py [--builds build,/path/to/other/build] [--samples 5] [--size 64]
                                    [--ring split|packed] [--txfirst 4] [--seconds 2] [--perf] [--top 40]

For each sample and each build in rotation: a fresh vswd (bench-switch.py's VswSut: one busy-polling
worker on CPU 0, two vhost-user ports) and the testpmd mac loop (its Generator, CPU 1); after a second of
traffic, a window of --seconds, and the generator's Mpps over it.  Prints the median per row and build,
and each build's Mpps per sample: compare builds round by round (a virtual machine may change speed
between minutes).

  - default: vswd's own stage timing, `vswctl stats --json` at both ends of the window: each stage's
    cycles / packets (stage timing samples one batch in perf_every; the round point is every round that
    moved frames).  vswd's rdtsc stage marks, so a build's figures hold even when the generator sets
    the pace; needs a build with the timing points (12-02 on).
  - --perf: `perf record -e cpu-clock` on the switch's CPU over the window; the switch's CPU is busy
    polling, so its time per frame is 1 / rate, and each function's share of the samples times that is
    its ns per frame.  Works for any build (the pre-pipeline base too) and on a machine without
    hardware counters.

An A/B of data path changes, not a throughput benchmark (that is bench-switch.py).  Needs root, as
bench-switch; --perf needs perf (linux-perf).
"""
import argparse
import collections
import importlib.util
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("bench_switch", os.path.join(HERE, "bench-switch.py"))
bsw = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bsw)


def med(xs):
    return sorted(xs)[len(xs) // 2] if xs else None


def flat(st):
    """Worker 0's stages as {name: (cycles, packets)}."""
    w = st["workers"][0]
    out = {}
    for k, v in w.get("stages", {}).items():
        if "cycles" in v:
            out[k] = (v["cycles"], v["packets"])
        else:
            for k2, v2 in v.items():
                out[k + "." + k2] = (v2["cycles"], v2["packets"])
    return out


def stage_window(sut, gen, a, ctx):
    """vswd's stage cycles per packet over the window: {stage: cycles}, and the generator's counters at both ends."""
    s0, g0 = sut.stats(), gen.tp.fwd_stats()
    time.sleep(a.seconds)
    s1, g1 = sut.stats(), gen.tp.fwd_stats()
    f0, f1 = flat(s0), flat(s1)
    rows = {k: (f1[k][0] - f0[k][0]) / (f1[k][1] - f0[k][1]) for k in f1 if k in f0 and f1[k][1] > f0[k][1]}
    return rows, g0, g1


def perf_window(sut, gen, a, ctx):
    """perf's samples on the switch's CPU over the window: {function: share of the samples}, and the generator's counters."""
    data = ctx.path("perf-%d.data" % time.monotonic_ns())
    g0 = gen.tp.fwd_stats()
    subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "10000", "-C", str(ctx.sut_cpu), "-o", data,
                    "--", "sleep", str(a.seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    g1 = gen.tp.fwd_stats()
    out = subprocess.run(["perf", "report", "-i", data, "--stdio", "--sort", "sym", "--percent-limit", "0.3", "-q"],
                         capture_output=True, text=True, check=True).stdout
    os.unlink(data)
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0].endswith("%"):
            rows[" ".join(parts[2:])] = float(parts[0][:-1]) / 100
    return rows, g0, g1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--builds", default=os.path.join(os.path.dirname(HERE), "build"))
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--ring", default="split", choices=("split", "packed"))
    ap.add_argument("--txfirst", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--perf", action="store_true", help="perf's samples per function in ns per frame")
    ap.add_argument("--top", type=int, default=40, help="with --perf: the functions shown")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("bench-stages: needs root (hugepages)", file=sys.stderr)
        return 2
    if a.perf and not shutil.which("perf"):
        print("bench-stages: --perf needs perf (linux-perf)", file=sys.stderr)
        return 2
    builds = a.builds.split(",")
    ba = bsw.parse_args(["--only", "vsw", "--build", builds[0], "--txfirst", str(a.txfirst)])
    bsw.install_cleanup()
    bsw.reserve_hugepages(768)
    ctx = bsw.Ctx(ba)
    os.sched_setaffinity(0, {ctx.gen_cpu})
    bins = []
    for i, b in enumerate(builds):
        d = ctx.path("bin%d" % i)
        os.makedirs(d)
        for f in ("vswd", "vswctl"):
            shutil.copy2(os.path.join(b, f), os.path.join(d, f))
        bins.append(d)
    window = perf_window if a.perf else stage_window
    res = {b: collections.defaultdict(list) for b in builds}
    mpps = {b: [] for b in builds}
    for _ in range(a.samples):
        for b, d in zip(builds, bins):
            before = bsw.live_children()
            tag = ctx.next_tag()
            sut = bsw.VswSut(ctx, tag, bindir=d)
            try:
                gen = bsw.Generator(ctx, tag, socks=sut.socks, ring=a.ring)
                try:
                    gen.tp.cmd_ok("set txpkts %d" % (a.size - 4))
                    gen.tp.cmd("start tx_first %d" % a.txfirst)
                    time.sleep(1)
                    rows, g0, g1 = window(sut, gen, a, ctx)
                    gen.tp.cmd("stop")
                finally:
                    gen.close()
            finally:
                sut.close()
                bsw.close_new(before)
            frames, dt = g1["rx"] - g0["rx"], g1["t"] - g0["t"]
            if frames <= 0:
                raise bsw.BenchError("%s: no frame forwarded" % b)
            mpps[b].append(frames / dt / 1e6)
            if a.perf:
                ns = dt * 1e9 / frames
                res[b]["(all functions)"].append(ns)
                rows = {k: share * ns for k, share in rows.items()}
            for k, v in rows.items():
                res[b][k].append(v)
    for b in builds:
        print("%s: Mpps per sample %s" % (b, " ".join("%.2f" % x for x in mpps[b])))
    keys = set(k for b in builds for k in res[b])
    if a.perf:
        keys = sorted(keys, key=lambda k: -max(med(res[b][k]) or 0 for b in builds))[:a.top]
        title = "ns per frame, median"
    else:
        keys = sorted(keys)
        title = "cycles per frame, median"
    print("%-45s" % title + "".join("%16s" % b[-15:] for b in builds))
    for k in keys:
        print("%-45s" % k[:45] + "".join("%16.1f" % med(res[b][k]) if res[b][k] else "%16s" % "-" for b in builds))
    shutil.rmtree(ctx.dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
