#!/usr/bin/env python3
"""bench-sweep.py - the switching benchmark at every load depth: frames in flight from one burst to full rings.

    python3 scripts/bench-sweep.py [--queue-sizes 256,1024] [--txfirst 1,4,8,32] [--samples 3]
                                   [--only vsw,dpdk,ovs] [--sizes 64,1518] [--rings split,packed]
                                   [--gen testpmd|vsw-bench]
                                   [--doc docs/PERFORMANCE.md | --no-doc] [--json FILE] [--quick]

One scripts/bench-switch.py run per point (ring size x bursts in flight),
each with every system, ring layout and frame size, samples in rotated
rounds as bench-switch takes them.  testpmd's `start tx_first N` puts N
bursts of 32 frames per direction into the loop: 1 is a light load, and
32 x 32 = 1024 frames fill a 256-descriptor ring four times over (the
generator's tx then drops what does not fit: the rings stay full).  The
table gives, per point, each system's Mpps and vsw's ratio to DPDK
io-forwarding and OVS-DPDK, and the switch side's busy cycles per frame
(generator-independent) with vsw's ratio to DPDK's; a point where the
generator was over 90 % busy is marked, since there the generator, not
the switch, set the rate.  Writes the "Load sweep" section of
docs/PERFORMANCE.md on a full run (not --quick, default points).

--gen vsw-bench: the same points with vsw-bench as the generator, A -> B
through fixed buffers, with `--in-flight 32 x N`: at most that many frames sent and
not yet received, so N = 1 keeps one burst in the switch and 32 fills a
256-descriptor ring.  Mpps are what B received, one direction.  Its full
run writes the "Load sweep with vsw-bench" section.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_procs import log, med, write_doc_section  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHORT = {"vsw": "vsw", "dpdk": "DPDK", "ovs": "OVS"}
GEN_BUSY_LIMIT = 0.90
SECTION = {"testpmd": "Load sweep", "vsw-bench": "Load sweep with vsw-bench"}   # each generator's doc section



def fmt(x, prec=2):
    return "—" if x is None else "%.*f" % (prec, x)


def ratio(a, b):
    return "—" if a is None or not b else "%.2fx" % (a / b)


def run_point(a, qs, tf, path):
    argv = [sys.executable, os.path.join(REPO, "scripts", "bench-switch.py"), "--build", a.build,
            "--only", ",".join(a.only), "--sizes", ",".join(map(str, a.sizes)), "--rings", ",".join(a.rings),
            "--txfirst", str(tf), "--queue-size", str(qs), "--pingpong", "0", "--bench-seconds", "0",
            "--idle-seconds", "0", "--no-doc", "--json", path, "--gen", a.gen]
    argv += ["--quick"] if a.quick else ["--samples", str(a.samples), "--seconds", str(a.seconds)]
    log("## point: rings of %d, tx_first %d" % (qs, tf))
    rc = subprocess.run(argv).returncode
    try:
        with open(path) as f:
            return rc, json.load(f)
    except (OSError, ValueError) as e:
        return rc, {"error": "bench-switch exit %d, no JSON: %s" % (rc, e)}


def point_rows(a, qs, tf, saved, best=False):
    """Rows of the table for one point: (ring, size) -> cells; medians, or with @best each system's best sample
    (the most Mpps; the fewest cycles a frame)."""
    pick_mpps, pick_cpf = (max_or_none, min_or_none) if best else (med, med)
    rows = []
    for ring in a.rings:
        for size in a.sizes:
            def vals(system, field):
                return [x[field] for x in saved.get("samples", []) if x["kind"] == "tput" and x["system"] == system
                        and x["ring"] == ring and x["size"] == size and x.get(field) is not None]
            mpps = {s: pick_mpps(vals(s, "mpps")) for s in a.only}
            cpf = {s: pick_cpf(vals(s, "sut_busy_cpf")) for s in a.only}
            # Each system's own generator: over the limit against DPDK or OVS too, their rate is a floor.
            gen = {s: med(vals(s, "gen_busy")) for s in a.only}
            flag = {s: " ⚠" if gen[s] is not None and gen[s] > GEN_BUSY_LIMIT else "" for s in a.only}
            row = ["%d" % qs, "%d x 32" % tf, ring, "%d B" % size]
            row += [fmt(mpps[s]) + flag[s] for s in a.only]
            row += [ratio(mpps["vsw"], mpps[p]) for p in a.only if p != "vsw"]
            row += [fmt(cpf[s], 0) for s in a.only]
            row += [ratio(cpf["vsw"], cpf[p]) for p in a.only if p != "vsw"]
            if not best:
                fails = [f for f in saved.get("failures", []) if f["ring"] == ring and f["size"] == size]
                row.append("; ".join("%s: %s" % (f["system"], f["messages"][0][:80]) for f in fails) or "")
            rows.append(row)
    return rows


def max_or_none(xs):
    return max(xs) if xs else None


def min_or_none(xs):
    return min(xs) if xs else None


def report(a, points, meta):
    peers = [p for p in a.only if p != "vsw"]
    head = (["ring size", "in flight", "ring", "frame"] + ["%s Mpps" % SHORT[s] for s in a.only] +
            ["vsw ÷ %s" % SHORT[p] for p in peers] + ["%s cyc/frame" % SHORT[s] for s in a.only] +
            ["cyc vsw ÷ %s" % SHORT[p] for p in peers] + ["failures"])
    gen = ("the vsw-bench generator (A -> B through fixed buffers, at most 32 x N frames sent and not yet "
           "received: `--in-flight`, a closed loop as testpmd's tx_first makes one) on CPU 1.  Mpps B received "
           "(one direction)" if a.gen == "vsw-bench" else
           "the testpmd generator (mac forwarding, virtio-user, mrg_rxbuf, in_order) on CPU 1.  Mpps forwarded in "
           "both directions")
    L = ["Measured %s with `%s`: one bench-switch run per point, %s; each system's switch on CPU 0, %s "
         "and busy cycles per frame of the switch side (vswd busy_cycles, testpmd "
         "--record-core-cycles, OVS pmd-stats-show), medians; ⚠ after a system's Mpps: the generator was over 90 %% "
         "busy against that system, so it, not the switch, set the rate there; a switch that keeps up polls smaller batches, so there its busy cycles a "
         "frame overstate what a frame costs it.  Fewer cycles is better: a "
         "cycles ratio below 1 means vsw spends less per frame." % (
             meta["date"], meta["command"], "quick (1 sample of 1 s)" if a.quick else
             "%d samples of %g s" % (a.samples, a.seconds), gen), ""]
    L.append("| " + " | ".join(head) + " |")
    L.append("|" + "---|" * len(head))
    for qs, tf, saved in points:
        if "error" in saved:
            L.append("| %d | %d x 32 | FAILED: %s |" % (qs, tf, saved["error"]))
            continue
        for row in point_rows(a, qs, tf, saved):
            L.append("| " + " | ".join(row) + " |")
    n = "%d" % a.samples if not a.quick else "1"
    L += ["", "The same points, each system's best of its %s samples (the most Mpps, the fewest cycles a frame; ⚠ "
          "from the medians).  On a machine whose noise only ever slows a sample down, the best sample is the "
          "nearest to what the system can do (on the machine of docs/PERFORMANCE.md, the samples of one "
          "configuration can fall into two groups about 2x apart: \"Load sweep: reading the figures\")." % n, ""]
    L.append("| " + " | ".join(head[:-1]) + " |")
    L.append("|" + "---|" * (len(head) - 1))
    for qs, tf, saved in points:
        if "error" not in saved:
            for row in point_rows(a, qs, tf, saved, best=True):
                L.append("| " + " | ".join(row) + " |")
    return "\n".join(L) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--queue-sizes", default="256,1024", help="ring sizes (default 256,1024)")
    ap.add_argument("--txfirst", default="1,4,8,32", help="bursts of 32 in flight per direction (default 1,4,8,32)")
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--only", default="vsw,dpdk,ovs")
    ap.add_argument("--sizes", default="64,1518")
    ap.add_argument("--rings", default="split,packed")
    ap.add_argument("--quick", action="store_true", help="1 sample of 1 s per configuration; no doc")
    ap.add_argument("--doc", default=None, help="file whose \"Load sweep\" section to write "
                    "(default docs/PERFORMANCE.md on a full run)")
    ap.add_argument("--no-doc", action="store_true")
    ap.add_argument("--json", default=None, help="every point's bench-switch JSON, in one file")
    ap.add_argument("--from-json", default=None, metavar="FILE",
                    help="no run: the report (and with --doc, the doc section) from a --json file of an earlier sweep")
    ap.add_argument("--gen", choices=("testpmd", "vsw-bench"), default="testpmd",
                    help="the generator: testpmd's mac loop (default) or vsw-bench A -> B with --in-flight 32 x N "
                    "(the full run writes the \"%s\" section instead)" % SECTION["vsw-bench"])
    a = ap.parse_args(argv)
    a.only = [s for s in ("vsw", "dpdk", "ovs") if s in a.only.split(",")]
    if "vsw" not in a.only:
        ap.error("--only must include vsw")
    a.sizes = [int(x) for x in a.sizes.split(",")]
    a.rings = a.rings.split(",")
    qss = [int(x) for x in a.queue_sizes.split(",")]
    tfs = [int(x) for x in a.txfirst.split(",")]
    full = not a.quick and a.queue_sizes == "256,1024" and a.txfirst == "1,4,8,32" and a.only == ["vsw", "dpdk", "ovs"]
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": "python3 scripts/bench-sweep.py" + ("" if not argv else " " + " ".join(argv))}
    points, rcs = [], []
    if a.from_json:
        with open(a.from_json) as f:
            saved = json.load(f)
        meta = saved["meta"]
        # The run's own options: its generator, systems, sizes, rings and samples.
        old = saved.get("args") or {}
        for k in ("gen", "only", "sizes", "rings", "samples", "seconds", "quick"):
            if k in old:
                setattr(a, k, old[k])
        points = [(p["queue_size"], p["txfirst"], p["run"]) for p in saved["points"]]
        text = report(a, points, meta)
        log(text)
        if a.doc and not a.no_doc:
            write_doc_section(a.doc, SECTION[a.gen], "## %s\n\n" % SECTION[a.gen] + text)
            log("bench-sweep: wrote the %s section of %s" % (SECTION[a.gen], a.doc))
        return 0
    with tempfile.TemporaryDirectory(prefix="vsw-sweep-") as d:
        for qs in qss:
            for tf in tfs:
                rc, saved = run_point(a, qs, tf, os.path.join(d, "p%d-%d.json" % (qs, tf)))
                rcs.append(rc)
                points.append((qs, tf, saved))
    text = report(a, points, meta)
    log("")
    log(text)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"meta": meta, "args": {k: getattr(a, k) for k in ("gen", "only", "sizes", "rings", "samples",
                                                                         "seconds", "quick")},
                       "points": [{"queue_size": q, "txfirst": t, "run": s} for q, t, s in points]}, f, indent=1)
    doc = a.doc or (os.path.join(REPO, "docs", "PERFORMANCE.md") if full and not a.no_doc else None)
    if doc and not a.no_doc:
        write_doc_section(doc, SECTION[a.gen], "## %s\n\n" % SECTION[a.gen] + text)
        log("bench-sweep: wrote the %s section of %s" % (SECTION[a.gen], doc))
    return 1 if any(rcs) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
