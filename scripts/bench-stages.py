#!/usr/bin/env python3
"""bench-stages.py - vswd's own stage timing per frame (the 64 B mac loop of bench-switch.py), builds side by side.

    python3 scripts/bench-stages.py [--builds build,/path/to/other/build] [--samples 5] [--size 64]
                                    [--ring split|packed] [--txfirst 4] [--seconds 2]

For each sample and each build in rotation: a fresh vswd (bench-switch.py's VswSut: one busy-polling
worker on CPU 0, two vhost-user ports) and the testpmd mac loop (its Generator, CPU 1); after a second of
traffic, `vswctl stats --json` twice, `--seconds` apart: each stage's cycles / packets over the window
(stage timing samples one batch in perf_every; the round point is every round that moved frames), and
the generator's Mpps.  Prints the median per stage and build.  The counters are vswd's rdtsc stage
marks, so a build's figures hold even when the generator sets the pace; an A/B of data path changes
at the stage level, not a throughput benchmark (that is bench-switch.py).  Needs root, as bench-switch.
"""
import argparse
import collections
import importlib.util
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("bench_switch", os.path.join(HERE, "bench-switch.py"))
bsw = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bsw)


def flat(st):
    """Worker 0's stages as {name: (cycles, packets)}, plus the busy cycles per busy frame."""
    w = st["workers"][0]
    out = {}
    for k, v in w.get("stages", {}).items():
        if "cycles" in v:
            out[k] = (v["cycles"], v["packets"])
        else:
            for k2, v2 in v.items():
                out[k + "." + k2] = (v2["cycles"], v2["packets"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--builds", default=os.path.join(os.path.dirname(HERE), "build"))
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--ring", default="split", choices=("split", "packed"))
    ap.add_argument("--txfirst", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=2.0)
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("bench-stages: needs root (hugepages)", file=sys.stderr)
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
    res = {b: collections.defaultdict(list) for b in builds}
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
                    s0, g0 = sut.stats(), gen.tp.fwd_stats()
                    time.sleep(a.seconds)
                    s1, g1 = sut.stats(), gen.tp.fwd_stats()
                    gen.tp.cmd("stop")
                finally:
                    gen.close()
            finally:
                sut.close()
                bsw.close_new(before)
            f0, f1 = flat(s0), flat(s1)
            for k in f1:
                if k in f0 and f1[k][1] > f0[k][1]:
                    res[b][k].append((f1[k][0] - f0[k][0]) / (f1[k][1] - f0[k][1]))
            res[b]["mpps"].append((g1["rx"] - g0["rx"]) / (g1["t"] - g0["t"]) / 1e6)
    keys = sorted(set(k for b in builds for k in res[b]))
    print("%-22s" % "median" + "".join("%16s" % b[-15:] for b in builds))
    for k in keys:
        print("%-22s" % k + "".join("%16.1f" % sorted(res[b][k])[len(res[b][k]) // 2] if res[b][k] else "%16s" % "-"
                                    for b in builds))
    shutil.rmtree(ctx.dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
