#!/usr/bin/env python3
"""bench-vxlan.py - one L2 overlay across two "hosts": vsw <-> vsw against kernel vxlan <-> kernel vxlan (issue 16, item 6).

    python3 scripts/bench-vxlan.py [--build build] [--rounds N] [--seconds S] [--tcp-seconds T]
                                   [--systems vsw,vsw-xdp,kernel] [--underlay-gro | --underlay-offload] [--quick]
                                   [--doc docs/PERFORMANCE.md | --no-doc] [--json FILE] [--keep]
    python3 scripts/bench-vxlan.py --self-test

For every system and round a fresh topology is built:

    netns cA            netns hA                                   netns hB            netns cB
    eth0 10.78.0.1 ==== vA [switch] uA 192.168.78.1 ==underlay== uB 192.168.78.2 [switch] vB ==== eth0 10.78.0.2

    vsw     the switch on each host is a vswd (`afpacket ifname=vA|vB` + `vxlan local= remote= vni=`),
            one worker each on CPU 0, event-driven (the two share the CPU)
    vsw-xdp the same with `xdp=uA|uB` on the vxlan ports: datagrams come in through AF_XDP sockets
            on the underlay veth, past the kernel's IP and UDP receive
    kernel  a Linux bridge br0 with vA|vB and a kernel `vxlan` device (same VNI, dstport 4789)

The underlay is a 1600-byte veth (so the inner MTU is 1500 with room to
spare), outer UDP checksums on for both.  A veth has no GRO unless asked
(each datagram reaches the UDP stack alone); --underlay-gro turns it on
for both veth ends (`ethtool -K gro on`: NAPI and GRO, as a NIC's driver
has), for both systems, and its full run writes its own section, "VXLAN
over an underlay with GRO".  Both veth ends have their transmit checksum
offload off (and so their segmentation offload): the kernel cuts and
sums every UDP GSO payload (vsw's) and UDP-tunnel GSO frame (the
kernel vxlan's) in software before the veth, as for a NIC without
offloads.  --underlay-offload leaves them on, as a NIC that takes UDP
and UDP-tunnel segmentation (most server NICs): over a veth the frames
then cross whole, cut nowhere, and are received whole; its full run
writes "VXLAN over an underlay with offloads".  Each sample:

  - Mpps: dpdk-testpmd txonly in cA (CPU 1) sends 60-byte UDP frames (64 with
    the FCS) to cB's MAC; the rate is what cB's eth0 received over the
    window: every frame is encapsulated on hA and decapsulated on hB.
    Twice: one inner flow (every frame alike: a run vsw sends as one UDP
    GSO payload), then many (`--txonly-multi-flow`: testpmd 22.11 gives
    each frame the next of 256 inner source addresses, so each frame is
    another flow's than the one before and a datagram of its own on the
    underlay, for vsw as for the kernel);
  - TCP: iperf3 cA -> cB (both ends on CPU 1), Gbit/s received, once with
    each congestion control of --cc (iperf3 -C; default cubic, Debian's
    kernels' default, and bbr);
  - vsw only, during the Mpps window with stage timing on (`vswctl perf
    enable`): cycles per packet of the `encap` point on hA (the vxlan
    port's outer headers and messages, sendmmsg left out) and of `decap`
    on hB (the checks and split after recvmmsg, the syscall left out),
    each the median of 10 equal parts of the window (`perf reset`, then
    `perf show --json` at its end): both vswd share a CPU with the veths'
    softirqs, and an interrupt inside a timed stretch inflates one part's
    mean, not the figure.  Targets (issue 16): TCP >= 1.0x the kernel's, <= 25
    cycles for each point.

Medians over the rounds (min-max in parentheses); the ratio is vsw's median
over the kernel's.  A full run (no --quick, both systems, >= 3 rounds)
rewrites the "VXLAN" section of docs/PERFORMANCE.md unless --no-doc.
--self-test needs no root and sends nothing: the report from canned
samples, the perf JSON reader, the argument checks.

Needs root, ip, ethtool, iperf3, dpdk-testpmd, taskset, stdbuf, build/vswd, build/vswctl, a kernel with vxlan.
Exit status 1 when a sample failed, else 0.
"""

import argparse
import functools
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_procs import BenchError, Proc, install_cleanup, log, med, on_exit, write_doc_section  # noqa: E402
import bench_procs  # noqa: E402

run = functools.partial(bench_procs.run, timeout=20)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SW_CPU, GEN_CPU = 0, 1
PERF_WINDOWS = 10       # the encap / decap figure of a round: the median of this many windows' means
TAG = "%04x" % (os.getpid() & 0xffff)
NS = {k: "vbx%s%s" % (TAG, k) for k in ("cA", "hA", "hB", "cB")}
IN4 = {"cA": "10.78.0.1", "cB": "10.78.0.2"}
UL4 = {"hA": "192.168.78.1", "hB": "192.168.78.2"}
MAC = {"cA": "02:78:78:00:00:0a", "cB": "02:78:78:00:00:0b"}
VNI = 4242
UNDERLAY_MTU = 1600
FRAME = 60
MULTI = "_multi"        # the fields of the many-flows window: mpps_multi, encap_cycles_multi, decap_cycles_multi
SYSTEMS = {"vsw": "vsw <-> vsw (afpacket + vxlan ports)",
           "vsw-xdp": "vsw <-> vsw, vxlan ports with `xdp=` on the underlay veth",
           "kernel": "kernel vxlan <-> kernel vxlan (bridged)"}
DOC_HEADING = "VXLAN"
DOC_HEADING_GRO = "VXLAN over an underlay with GRO"
DOC_HEADING_OFFLOAD = "VXLAN over an underlay with offloads"


# ---------------------------------------------------------------- topology

def build_net(system, ctx):
    for ns in NS.values():
        run(["ip", "netns", "add", ns])
        run(["ip", "link", "set", "lo", "up"], ns=ns)
    on_exit(lambda: [bench_procs.run(["ip", "netns", "del", ns], check=False, timeout=10) for ns in NS.values()])
    for c, h, v in (("cA", "hA", "vA"), ("cB", "hB", "vB")):
        run(["ip", "link", "add", v, "netns", NS[h], "type", "veth", "peer", "name", "eth0", "netns", NS[c]])
        run(["ip", "link", "set", "eth0", "address", MAC[c], "mtu", "1500", "up"], ns=NS[c])
        run(["ip", "addr", "add", IN4[c] + "/24", "dev", "eth0"], ns=NS[c])
        run(["ip", "link", "set", v, "up"], ns=NS[h])
    run(["ip", "link", "add", "uA", "netns", NS["hA"], "type", "veth", "peer", "name", "uB", "netns", NS["hB"]])
    for h, u in (("hA", "uA"), ("hB", "uB")):
        run(["ip", "addr", "add", UL4[h] + "/24", "dev", u], ns=NS[h])
        run(["ip", "link", "set", u, "mtu", str(UNDERLAY_MTU), "up"], ns=NS[h])
        # Outer checksums finished before the peer's UDP socket sees them (see tests/scenario/vxlan.py),
        # and GSO frames cut in software before the veth; --underlay-offload: neither (the frames cross whole).
        if not ctx.args.underlay_offload:
            run(["ethtool", "-K", u, "tx", "off"], ns=NS[h])
        if ctx.args.underlay_gro:
            run(["ethtool", "-K", u, "gro", "on"], ns=NS[h])
    peer = {"hA": "hB", "hB": "hA"}
    sws = {}
    for h, v in (("hA", "vA"), ("hB", "vB")):
        if system == "kernel":
            run(["ip", "link", "add", "br0", "type", "bridge"], ns=NS[h])
            run(["ip", "link", "add", "vx0", "type", "vxlan", "id", str(VNI), "local", UL4[h], "remote",
                 UL4[peer[h]], "dstport", "4789", "udpcsum"], ns=NS[h])
            for dev in (v, "vx0"):
                run(["ip", "link", "set", dev, "master", "br0"], ns=NS[h])
            run(["ip", "link", "set", "vx0", "up"], ns=NS[h])
            run(["ip", "link", "set", "br0", "up"], ns=NS[h])
        else:
            t0 = {"name": "t0", "type": "vxlan", "local": UL4[h], "remote": UL4[peer[h]], "vni": VNI}
            if system == "vsw-xdp":
                t0["xdp"] = "uA" if h == "hA" else "uB"
            sws[h] = Vswd(ctx, h, [{"name": "a", "type": "afpacket", "ifname": v}, t0])
    return sws


class Vswd:
    """vswd in netns hA or hB: one worker on SW_CPU, event-driven, the ports given."""

    def __init__(self, ctx, host, ports):
        self.ctx = ctx
        d = os.path.join(ctx.dir, host)
        os.makedirs(d, exist_ok=True)
        self.ctl = os.path.join(d, "ctl.sock")
        conf = os.path.join(d, "vswd.json")
        with open(conf, "w") as f:
            json.dump({"workers": 1, "cpus": [SW_CPU], "busy_poll": False, "ports": ports}, f)
        self.proc = Proc(["taskset", "-c", str(SW_CPU), ctx.vswd, "--foreground", "--ctl", self.ctl, "--config", conf],
                         ctx.logpath("vswd-" + host), ns=NS[host], name="vswd-" + host, keep_buf=False)
        self.proc.wait_for(r"ready: control socket", timeout=15)

    def call(self, *args):
        r = run([self.ctx.vswctl, "--ctl", self.ctl, "--json"] + list(args), check=False)
        try:
            return json.loads(r.stdout)
        except ValueError:
            raise BenchError("vswctl %s: exit %d: %s" % (" ".join(args), r.returncode, (r.stderr or r.stdout)[-300:]))

    def close(self):
        self.proc.close()


def link_rx(ns, dev="eth0"):
    """@dev's received packets in netns @ns."""
    r = run(["ip", "-s", "-j", "link", "show", dev], ns=ns)
    return json.loads(r.stdout)[0]["stats64"]["rx"]["packets"]


# ---------------------------------------------------------------- measurements

def perf_point(show, stage):
    """@stage's figures in a `vswctl perf show --json` answer (its "total"), {} when absent."""
    return (show or {}).get("total", {}).get("stages", {}).get(stage, {})


def perf_stage(show, stage):
    """Cycles per packet of @stage in a `vswctl perf show --json` answer, or None when no frame."""
    s = perf_point(show, stage)
    return s.get("cycles_per_packet") if s.get("packets") else None


def perf_batch(show, stage):
    """Packets per batch of @stage (what a point's fixed cost a batch is spread over), or None when no batch."""
    s = perf_point(show, stage)
    return s["packets"] / s["batches"] if s.get("batches") else None


def mpps_test(ctx, sws, warmup, seconds, multi=False):
    """One Mpps window (testpmd txonly, one inner flow or, @multi, many) and the encap / decap points over it."""
    argv = ["stdbuf", "-oL", "dpdk-testpmd", "--lcores=0@%d,1@%d" % (GEN_CPU, GEN_CPU), "--no-huge", "-m", "512",
            "--no-shconf", "--file-prefix", "vbx" + TAG, "--no-pci", "--vdev",
            "net_af_packet0,iface=eth0,qdisc_bypass=1", "--log-level=lib.eal:warning", "--",
            "--forward-mode=txonly", "--txpkts=%d" % FRAME, "--tx-ip=%s,%s" % (IN4["cA"], IN4["cB"]),
            "--eth-peer=0,%s" % MAC["cB"], "--burst=32", "--nb-cores=1", "--total-num-mbufs=16384"] + \
        (["--txonly-multi-flow"] if multi else [])
    gen = Proc(argv, ctx.logpath("testpmd-multi" if multi else "testpmd"), ns=NS["cA"], stdin=True, name="testpmd", keep_buf=False)
    res = {}
    try:
        gen.wait_for(r"Press enter to exit", timeout=60)
        time.sleep(warmup)
        for sw in sws.values():
            sw.call("perf", "enable")
        a, ta = link_rx(NS["cB"]), time.monotonic()
        if sws:
            # The points per window, the median of the windows: both vswd share one CPU with the
            # veths' softirqs, and an interrupt that lands inside a timed stretch adds its length
            # to that window's mean alone.
            enc, dec, encb, decb = [], [], [], []
            for _ in range(PERF_WINDOWS):
                for sw in sws.values():
                    sw.call("perf", "reset")
                time.sleep(seconds / PERF_WINDOWS)
                sa, sb = sws["hA"].call("perf", "show"), sws["hB"].call("perf", "show")
                enc.append(perf_stage(sa, "encap"))
                dec.append(perf_stage(sb, "decap"))
                encb.append(perf_batch(sa, "encap"))
                decb.append(perf_batch(sb, "decap"))
            enc, dec = [x for x in enc if x is not None], [x for x in dec if x is not None]
            encb, decb = [x for x in encb if x is not None], [x for x in decb if x is not None]
            res["encap_cycles"] = med(enc) if enc else None
            res["decap_cycles"] = med(dec) if dec else None
            # frames per batch at each point: the fixed cost of a burst is spread over them
            res["encap_batch"] = med(encb) if encb else None
            res["decap_batch"] = med(decb) if decb else None
            for sw in sws.values():
                sw.call("perf", "disable")
        else:
            time.sleep(seconds)
        b, tb = link_rx(NS["cB"]), time.monotonic()
        res["mpps"] = (b - a) / (tb - ta) / 1e6
    finally:
        try:
            gen.p.stdin.write(b"\n")
            gen.p.stdin.flush()
        except OSError:
            pass
        if gen.wait(15) is None:
            gen.close()
    return res


def tcp_test(ctx, seconds, cc):
    srv = Proc(["iperf3", "-s", "-1", "--forceflush", "-A", str(GEN_CPU), "-B", IN4["cB"]], ctx.logpath("iperf3-server"),
               ns=NS["cB"], name="iperf3 -s", keep_buf=False)
    try:
        srv.wait_for(r"Server listening", timeout=10)
        r = run(["iperf3", "-c", IN4["cB"], "-t", str(seconds), "-A", str(GEN_CPU), "-C", cc, "-J",
                 "--connect-timeout", "3000"], ns=NS["cA"], timeout=seconds + 20, check=False)
        try:
            j = json.loads(r.stdout)
            gbps, used = j["end"]["sum_received"]["bits_per_second"] / 1e9, j["end"].get("sender_tcp_congestion")
        except (ValueError, KeyError):
            raise BenchError("iperf3: exit %d: %s" % (r.returncode, (r.stderr or r.stdout)[-300:]))
        if used != cc:
            raise BenchError("iperf3 sent with congestion control %r, not %s" % (used, cc))
        return gbps
    finally:
        if srv.wait(5) is None:
            srv.close()


def sample(ctx, system, rnd):
    """One round of @system: a fresh topology, Mpps, TCP; the sample dict (error: the reason)."""
    before = bench_procs.live_children()
    s = {"system": system, "round": rnd}
    try:
        sws = build_net(system, ctx)
        r = run(["ping", "-c", "1", "-W", "2", IN4["cB"]], ns=NS["cA"], check=False) if shutil.which("ping") else \
            run(["busybox", "ping", "-c", "1", "-W", "2", IN4["cB"]], ns=NS["cA"], check=False)
        if r.returncode:
            raise BenchError("no connectivity cA -> cB across the tunnel")
        s.update(mpps_test(ctx, sws, ctx.args.warmup, ctx.args.seconds))
        s.update({k + MULTI: v for k, v in mpps_test(ctx, sws, ctx.args.warmup, ctx.args.seconds, True).items()})
        for cc in ctx.args.cc:
            s["tcp_gbps_" + cc] = tcp_test(ctx, ctx.args.tcp_seconds, cc)
    except BenchError as e:
        s["error"] = str(e)
    finally:
        bench_procs.close_new(before)
        for ns in NS.values():
            bench_procs.run(["ip", "netns", "del", ns], check=False, timeout=10)
    log("%s round %d: %s" % (system, rnd, describe(s)))
    return s


# ---------------------------------------------------------------- report

def describe(s):
    if "error" in s:
        return "failed: " + s["error"]
    out = "%.3f Mpps, TCP %s" % (s.get("mpps", 0), ", ".join(
        "%s %.2f Gbit/s" % (k[len("tcp_gbps_"):], v) for k, v in s.items() if k.startswith("tcp_gbps_")))
    if s.get("encap_cycles") is not None:
        out += ", encap %.0f / decap %.0f cycles per packet" % (s["encap_cycles"], s.get("decap_cycles") or 0)
        if s.get("encap_batch") is not None:
            out += " (%.1f / %.1f a batch)" % (s["encap_batch"], s.get("decap_batch") or 0)
    if s.get("mpps" + MULTI) is not None:
        out += "; many flows %.3f Mpps" % s["mpps" + MULTI]
        if s.get("encap_cycles" + MULTI) is not None:
            out += ", encap %.0f / decap %.0f" % (s["encap_cycles" + MULTI], s.get("decap_cycles" + MULTI) or 0)
            if s.get("encap_batch" + MULTI) is not None:
                out += " (%.1f / %.1f a batch)" % (s["encap_batch" + MULTI], s.get("decap_batch" + MULTI) or 0)
    return out


def vals(samples, system, field):
    return [s[field] for s in samples if s["system"] == system and s.get(field) is not None and "error" not in s]


def cell(xs, prec):
    if not xs:
        return "-"
    return "%.*f (%.*f-%.*f)" % (prec, med(xs), prec, min(xs), prec, max(xs)) if len(xs) > 1 else "%.*f" % (prec, xs[0])


def ratio(samples, field, system="vsw"):
    a, b = vals(samples, system, field), vals(samples, "kernel", field)
    return "%.2fx" % (med(a) / med(b)) if a and b and med(b) else "-"


def doc_heading(args):
    return DOC_HEADING_GRO if args.underlay_gro else DOC_HEADING_OFFLOAD if args.underlay_offload else DOC_HEADING


def build_report(args, samples, meta):
    gro, off = args.underlay_gro, args.underlay_offload
    underlay = " with GRO on at both ends (tx checksum and segmentation offloads off)" if gro else \
        " with its checksum and segmentation offloads on (GSO frames cross whole)" if off else \
        " (no GRO, tx checksum and segmentation offloads off)"
    out = ["## %s" % doc_heading(args), "",
           "Run it (root; two \"hosts\" as network namespaces joined by a veth, a container behind each; the "
           "same topology with the kernel's vxlan on both sides as the reference; about 4 minutes; rewrites this "
           "section, the reading of it is %s):" % ("in \"VXLAN: reading the figures\"" if gro or off else "the next one"),
           "",
           "    python3 scripts/bench-vxlan.py --rounds 3 %s--json /tmp/bvx.json"
           % ("--underlay-gro " if gro else "--underlay-offload " if off else ""),
           "",
           "`scripts/bench-vxlan.py` (%s): %s rounds, %s s Mpps windows, %s s TCP once with each congestion control (`iperf3 -C`: %s); underlay a %d-byte veth%s, "
           "outer checksums on." % (meta.get("date", "?"), args.rounds, args.seconds, args.tcp_seconds, ", ".join(args.cc),
                                    UNDERLAY_MTU,
                                    underlay),
           "",
           "| system | inner flows | 64 B inner, Mpps (encap + decap) | %s | encap cycles/pkt "
           "| decap cycles/pkt |" % " | ".join("TCP cA -> cB, Gbit/s, %s" % cc for cc in args.cc),
           "|---|---|---|" + "---|" * len(args.cc) + "---|---|"]
    for system in args.systems:
        for suffix, flows in (("", "one"), (MULTI, "many")):
            tcp = [cell(vals(samples, system, "tcp_gbps_" + cc), 2) if not suffix else "" for cc in args.cc]
            out.append("| %s | %s | %s | %s | %s | %s |" % (
                SYSTEMS[system], flows, cell(vals(samples, system, "mpps" + suffix), 3), " | ".join(tcp),
                cell(vals(samples, system, "encap_cycles" + suffix), 0),
                cell(vals(samples, system, "decap_cycles" + suffix), 0)))
    for system in [x for x in args.systems if x != "kernel"]:
        out += ["", "%s / kernel: Mpps %s with one inner flow, %s with many (testpmd `--txonly-multi-flow`); TCP %s "
                "(target >= 1.0x)." % (system, ratio(samples, "mpps", system), ratio(samples, "mpps" + MULTI, system),
                                      ", ".join("%s with %s" % (ratio(samples, "tcp_gbps_" + cc, system), cc)
                                                for cc in args.cc))]
    out += ["", "Encap and decap target <= 25 cycles each (the `encap` point on hA, `decap` on hB: the vxlan port's "
            "work around its sendmmsg / recvmmsg, the syscalls left out; with `xdp=` decap includes the checks of the "
            "outer headers and UDP checksum the kernel's receive did before)."]
    failed = [s for s in samples if "error" in s]
    if failed:
        out += ["", "Failed samples: %s." % "; ".join("%s round %d: %s" % (s["system"], s["round"], s["error"])
                                                      for s in failed)]
    out.append("")
    out.append("Machine: %s." % meta.get("machine", "?"))
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- main

class Ctx:
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="vsw-bench-vxlan-")
        self.vswd = os.path.join(os.path.abspath(args.build), "vswd")
        self.vswctl = os.path.join(os.path.abspath(args.build), "vswctl")

    def logpath(self, what):
        return os.path.join(self.dir, what + ".log")


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--tcp-seconds", type=int, default=10)
    ap.add_argument("--systems", default=None)
    ap.add_argument("--cc", default="cubic,bbr",
                    help="congestion controls, comma-separated: one iperf3 run with each in every sample")
    ap.add_argument("--underlay-gro", action="store_true", help="GRO on for the underlay veth (NAPI, as a NIC's)")
    ap.add_argument("--underlay-offload", action="store_true",
                    help="the underlay veth's tx checksum and segmentation offloads left on (GSO frames cross whole)")
    ap.add_argument("--quick", action="store_true", help="1 round, 1 s windows and TCP; no doc")
    ap.add_argument("--doc", default=os.path.join(REPO, "docs", "PERFORMANCE.md"))
    ap.add_argument("--no-doc", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--self-test", action="store_true", help="no root, no traffic: the report and parsers")
    a = ap.parse_args(argv)
    if a.systems is None:
        a.systems = ",".join(applicable(a))
    a.systems = [s for s in a.systems.split(",") if s]
    a.cc = [c.strip() for c in a.cc.split(",") if c.strip()]
    if not a.cc or any(not re.fullmatch(r"[a-z0-9_]+", c) for c in a.cc) or len(set(a.cc)) != len(a.cc):
        ap.error("--cc: a comma-separated list of distinct congestion control names")
    if a.underlay_offload and "vsw-xdp" in a.systems:
        ap.error("--underlay-offload: vsw-xdp cannot run there (the veth hands the kernel's datagrams over with "
                 "partial checksums, which an AF_XDP socket cannot tell from wrong ones; docs/VSWD.md)")
    bad = [s for s in a.systems if s not in SYSTEMS]
    if bad or not a.systems:
        ap.error("--systems: %s (known: %s)" % (",".join(bad) or "none", ",".join(SYSTEMS)))
    if a.rounds < 1 or a.seconds <= 0 or a.tcp_seconds < 1:
        ap.error("--rounds, --seconds and --tcp-seconds must be positive")
    if a.underlay_gro and a.underlay_offload:
        ap.error("--underlay-gro and --underlay-offload are two conditions: one at a time")
    if a.quick:
        a.rounds, a.seconds, a.warmup, a.tcp_seconds, a.no_doc = 1, 1.0, 0.5, 1, True
    return a


def applicable(args):
    """The systems a run of @args's underlay compares: vsw-xdp needs an underlay that finishes its checksums."""
    return [x for x in SYSTEMS if not (x == "vsw-xdp" and args.underlay_offload)]


def self_test():
    """The pure parts, on canned data: the perf reader, the report, the argument checks."""
    fails = []

    def expect(ok, what):
        print("%s %s" % ("PASS" if ok else "FAIL", what))
        if not ok:
            fails.append(what)

    show = {"total": {"stages": {"tx.other": {"packets": 640, "cycles_per_packet": 412.5},
                                 "rx.other": {"packets": 0, "cycles_per_packet": 0}}}}
    expect(perf_stage(show, "tx.other") == 412.5, "perf_stage reads a stage's cycles per packet")
    expect(perf_stage(show, "rx.other") is None, "perf_stage: a stage without frames is no figure")
    expect(perf_stage({}, "tx.other") is None, "perf_stage: an empty answer is no figure")
    a = parse_args(["--no-doc"])
    samples = [{"system": "vsw", "round": r, "mpps": 1.0 + r / 10, "tcp_gbps_cubic": 4.0, "tcp_gbps_bbr": 3.0,
                "encap_cycles": 400.0 + r,
                "decap_cycles": 300.0, "mpps_multi": 0.3, "encap_cycles_multi": 70.0 + r,
                "decap_cycles_multi": 40.0} for r in range(3)]
    samples += [{"system": "kernel", "round": r, "mpps": 2.0, "tcp_gbps_cubic": 8.0, "tcp_gbps_bbr": 4.0,
                 "mpps_multi": 0.4} for r in range(3)]
    samples.append({"system": "kernel", "round": 3, "error": "no connectivity"})
    rep = build_report(a, samples, {"date": "today", "machine": "test"})
    expect(rep.startswith("## VXLAN\n"), "the report is the doc section")
    expect("| one | 1.100 (1.000-1.200) | 4.00 (4.00-4.00) | 3.00 (3.00-3.00) | 401 (400-402) | 300 (300-300) |"
           in rep, "vsw's row: medians and ranges, TCP with cubic, then with bbr")
    expect("| TCP cA -> cB, Gbit/s, cubic | TCP cA -> cB, Gbit/s, bbr |" in rep and "|---|---|---|---|---|---|---|"
           in rep, "a TCP column a congestion control")
    expect("| many | 0.300 (0.300-0.300) |  |  | 71 (70-72) | 40 (40-40) |" in rep,
           "vsw's many-flows row: its own window's Mpps and points, no TCP")
    expect("| kernel vxlan <-> kernel vxlan (bridged) | many | 0.400 (0.400-0.400) |  |  | - | - |" in rep,
           "the kernel's many-flows row: no points")
    expect("vsw / kernel: Mpps 0.55x with one inner flow, 0.75x with many" in rep and
           "TCP 0.50x with cubic, 0.75x with bbr" in rep, "ratios vsw / kernel, TCP a congestion control each")
    expect("vsw-xdp / kernel: Mpps - with one inner flow" in rep, "a system without samples has no ratio")
    expect("kernel round 3: no connectivity" in rep, "failed samples are named")
    g = build_report(parse_args(["--underlay-gro", "--no-doc"]), samples, {"date": "today", "machine": "test"})
    expect(g.startswith("## VXLAN over an underlay with GRO\n") and "--underlay-gro" in g and "with GRO on" in g,
           "--underlay-gro: its own section, its command, its underlay")
    expect("(no GRO, tx checksum" in rep, "the plain run says its underlay has no GRO and no offloads")
    o = build_report(parse_args(["--underlay-offload", "--no-doc"]), samples, {"date": "today", "machine": "test"})
    expect(o.startswith("## VXLAN over an underlay with offloads\n") and "--underlay-offload" in o and
           "segmentation offloads on" in o, "--underlay-offload: its own section, its command, its underlay")
    try:
        parse_args(["--underlay-gro", "--underlay-offload"])
        expect(False, "--underlay-gro with --underlay-offload is refused")
    except SystemExit:
        expect(True, "--underlay-gro with --underlay-offload is refused")
    expect(parse_args(["--no-doc"]).systems == ["vsw", "vsw-xdp", "kernel"] and
           parse_args(["--underlay-offload", "--no-doc"]).systems == ["vsw", "kernel"],
           "the systems by default: vsw-xdp but over the offloading underlay")
    try:
        parse_args(["--underlay-offload", "--systems", "vsw-xdp,kernel"])
        expect(False, "vsw-xdp over the offloading underlay is refused")
    except SystemExit:
        expect(True, "vsw-xdp over the offloading underlay is refused")
    expect(parse_args(["--cc", "bbr"]).cc == ["bbr"] and parse_args([]).cc == ["cubic", "bbr"],
           "--cc: the list, cubic and bbr by default")
    try:
        parse_args(["--cc", "cubic,cubic"])
        expect(False, "--cc: a name twice is refused")
    except SystemExit:
        expect(True, "--cc: a name twice is refused")
    q = parse_args(["--quick"])
    expect(q.rounds == 1 and q.no_doc, "--quick: one round, no doc")
    try:
        parse_args(["--systems", "ovs"])
        expect(False, "an unknown system is refused")
    except SystemExit:
        expect(True, "an unknown system is refused")
    print("bench-vxlan self-test: %d failed" % len(fails))
    return 1 if fails else 0


def main(argv):
    if "--self-test" in argv:
        return self_test()
    a = parse_args(argv)
    if os.geteuid() != 0:
        print("bench-vxlan: needs root (network namespaces)", file=sys.stderr)
        return 2
    for tool in ("ip", "ethtool", "iperf3", "dpdk-testpmd", "taskset", "stdbuf"):
        if not shutil.which(tool):
            print("bench-vxlan: %s not found" % tool, file=sys.stderr)
            return 2
    try:
        bench_procs.congestion_controls(a.cc)
    except BenchError as e:
        print("bench-vxlan: %s" % e, file=sys.stderr)
        return 2
    install_cleanup()
    ctx = Ctx(a)
    samples = []
    for rnd in range(a.rounds):
        order = a.systems if rnd % 2 == 0 else list(reversed(a.systems))
        for system in order:
            samples.append(sample(ctx, system, rnd))
    meta = {"underlay": "gro" if a.underlay_gro else "offload" if a.underlay_offload else "plain",
            "date": time.strftime("%Y-%m-%d"), "machine": "%s, %s, %d CPUs, kernel %s" % (
        platform.machine(), bench_procs.cpu_model(), os.cpu_count() or 0, platform.release())}
    rep = build_report(a, samples, meta)
    print(rep)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"samples": samples, "meta": meta}, f, indent=1)
    full = not a.quick and a.rounds >= 3 and sorted(a.systems) == sorted(applicable(a))
    if full and not a.no_doc and not any("error" in s for s in samples):
        write_doc_section(a.doc, doc_heading(a), rep)
    if not a.keep:
        shutil.rmtree(ctx.dir, ignore_errors=True)
    else:
        log("kept %s" % ctx.dir)
    return 1 if any("error" in s for s in samples) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
