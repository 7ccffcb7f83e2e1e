#!/usr/bin/env python3
"""bench-switch.py - vswd next to DPDK vhost io-fwd, OVS-DPDK and the Linux bridge, same run, same generator.

    python3 scripts/bench-switch.py [--build build] [--samples N] [--seconds S] [--only SYSTEM,...]
                                    [--sizes 64,1518] [--rings split,packed] [--quick] [--perf]
                                    [--doc docs/PERFORMANCE.md | --no-doc] [--json FILE] [--keep]
                                    [--from-json FILE] ... (--help)
    python3 scripts/bench-switch.py --flow-sweep [--flow-gen vsw-bench]   (issue 14: flow tables vs OVS-DPDK, N flows)
    python3 scripts/bench-switch.py [--flows FILE] [--flows-n N,...] [--only vsw,vsw-normal,ovs,...]
    python3 scripts/bench-switch.py --tso [--only vsw,dpdk,ovs] [--samples N] [--seconds S]   (issue 15)

On a 2-CPU machine: the switch under test on CPU 0, the generator on CPU 1.
Systems (--only): vsw (vswd, busy polling, 1 worker), dpdk (testpmd, two
net_vhost ports, io forwarding), ovs (ovs-vswitchd with DPDK, netdev bridge,
two dpdkvhostuserclient ports, port-to-port flows), kernel (two taps in a
network namespace joined by a Linux bridge).  The generator is dpdk-testpmd
with two virtio-user ports (two tap ports for the kernel) in mac forwarding,
looped through the switch and started with `start tx_first`; vsw-bench gives
the round-trip latency and a second throughput figure.  Samples are taken in
rounds, each round running every configuration once in a rotated order, so
that drift of the machine spreads over all systems.  Finally the idle CPU of
vswd in event-driven mode.  See docs/PERFORMANCE.md, "Switching".

Flow tables (issue 14): --flows FILE loads one rule set (ovs-ofctl syntax,
ports p0 and p1) into vswd (`vswctl flow replace`) and OVS-DPDK (`ovs-ofctl
replace-flows`, p0/p1 mapped to OpenFlow ports 1/2) in place of the learning
bridge and OVS's in_port flows; scripts/bench-flows/pipeline.flows is the
default rule set (2 tables, 14 masks).  --flows-n N,... switches the
generator to testpmd's flowgen engine with --flowgen-flows=N: an open loop,
since flowgen builds every frame and frees what it receives, so the rate
is the frames the generator received back on its two ports, i.e. what
the switch forwarded; the same generator for every system.  --flow-gen
vsw-bench sends the same flows with vsw-bench --dst-flows N instead (A ->
B, one direction, a few cycles a frame: flowgen costs about what the
switch does, and caps both switches at small N).  --flow-sweep runs N = 1,
1k, 10k, 100k, 1M with pipeline.flows for vsw and ovs and, in full,
rewrites the "Flow tables (issue 14)" section of docs/PERFORMANCE.md (with
vsw-bench: the "Flow tables with vsw-bench (issue 14)" section).  vsw-normal is
vswd with scripts/bench-flows/normal.flows (`priority=0,actions=normal`),
to run next to vsw in the mac loop (the normal-only table within 5 %).

TSO (issue 15): --tso runs vsw-bench --tso through vsw, DPDK testpmd io
forwarding (net_vhost with tso=1 and legacy-ol-flags=1, so that a frame's
offload request reaches the other port in io mode) and OVS-DPDK with
other_config:userspace-tso-enable=true: port A sends 64 KiB TCP/IPv4
frames asking for CSUM + TSO4, port B (GUEST_CSUM + GUEST_TSO4) checks
and counts what arrives.  Reported: Gbit/s of payload, Gbit/s per busy
core of the switch (payload bits over the busy cycles its own counters
give) and per core of CPU time, frames per second, how frames arrived
(whole or segmented), medians and per-round ratios; a system that cannot
carry TSO frames here is reported as such, with vsw-bench's reason.

Needs root (hugepages, network namespace, taps) and Debian packages it
installs when missing (dpdk, its vhost/virtio/tap drivers, openvswitch-switch-dpdk).
Prints markdown tables; a full run (no --quick, no --only, default sizes and
rings) also rewrites the "Switching" section of docs/PERFORMANCE.md.
Exit status 1 when a vsw sample failed (the switch did not forward), else 0;
a --quick run also fails when any sample or cycles-per-frame figure failed.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_procs import (BenchError, Proc, TestPmd, close_all, close_new, cpu_busy, cpu_model, cpu_ticks,  # noqa: E402
                         cpuinfo_hz, reserve_hugepages, install_cleanup, live_children, loadavg, log, on_exit,
                         proc_cpu_seconds, run, thread_cpu_seconds, write_doc_section, bench_instances, wait_turn, med)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSTEMS = ["vsw", "dpdk", "ovs", "kernel"]
# Not in a default run: vsw with stage timing switched off (the A/B of its
# cost), the vswd of another build (--base-build: before/after a change), and
# vsw-normal: vswd whose flow table is only `priority=0,actions=normal`
# (scripts/bench-flows/normal.flows), the learning bridge through the flow
# tables, to compare with plain vsw (issue 14: within 5 %).
AB_SYSTEMS = ["vsw-off", "vsw-base", "vsw-normal"]
ALL_SYSTEMS = SYSTEMS[:1] + AB_SYSTEMS + SYSTEMS[1:]
VHOST_SYSTEMS = ["vsw", "vsw-off", "vsw-base", "vsw-normal", "dpdk", "ovs"]
LABEL = {"vsw": "vsw", "vsw-off": "vsw, timing off", "vsw-base": "vsw, base build",
         "vsw-normal": "vsw, normal-only flow table", "dpdk": "DPDK vhost io-fwd",
         "ovs": "OVS-DPDK", "kernel": "Linux bridge"}
SHORT = {"vsw": "vsw", "vsw-off": "vsw-off", "vsw-base": "base", "vsw-normal": "normal", "dpdk": "DPDK", "ovs": "OVS",
         "kernel": "bridge"}
RINGS = ["split", "packed"]
SIZES = [64, 1518]            # Ethernet frame sizes with FCS (RFC 2544); virtio buffers carry size - 4
GEN_MAC = ["02:76:73:62:00:0a", "02:76:73:62:00:0b"]
TAP_KMAC = ["02:76:73:62:01:0a", "02:76:73:62:01:0b"]   # the kernel side of the taps: never a frame's address
OVS_VSWITCHD = "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk"
OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
GEN_BUSY_LIMIT = 0.90         # a generator busier than this may be what limits the rate
FLOWS_DIR = os.path.join(REPO, "scripts", "bench-flows")
FLOW_SWEEP_N = [1, 1000, 10000, 100000, 1000000]
FLOW_SECTION = "Flow tables (issue 14)"
FLOW_VB_SECTION = "Flow tables with vsw-bench (issue 14)"     # the same sweep, the second generator
FLOW_GENS = ("flowgen", "vsw-bench")
LOOP_GENS = ("testpmd", "vsw-bench")
TSO_SYSTEMS = ["vsw", "dpdk", "ovs"]
TSO_SECTION = "Switching with TSO (issue 15)"
OVS_TSO_LOG = "Userspace TCP Segmentation Offloading support enabled"


# ---------------------------------------------------------------- set-up

def ensure_packages(want_perf):
    """What the run needs, from scripts/install-deps.sh's bench (and perf) lists."""
    argv = [os.path.join(REPO, "scripts", "install-deps.sh"), "--bench"] + (["--perf"] if want_perf else [])
    r = subprocess.run(argv, timeout=1800)
    if r.returncode != 0:
        raise BenchError("%s failed" % " ".join(argv))
    # A package list that names the wrong package shows here, not as a generator that never starts
    # (Debian 12's dpdk holds scripts only: dpdk-testpmd is in dpdk-dev).
    for tool, pkg in (("dpdk-testpmd", "dpdk-dev"), ("ovs-vswitchd", "openvswitch-switch-dpdk")):
        if not shutil.which(tool):
            raise BenchError("%s not found after %s (package %s)" % (tool, " ".join(argv), pkg))


def pkg_version(p):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", p], capture_output=True, text=True)
    return r.stdout.strip() or "?"


def machine_notes():
    model = cpu_model()
    debian = "?"
    try:
        with open("/etc/debian_version") as f:
            debian = f.read().strip()
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)
    hyper = False
    try:
        with open("/proc/cpuinfo") as f:
            hyper = any(line.startswith("flags") and " hypervisor" in line for line in f)
    except OSError:
        pass
    return {"cpu": model, "cpus": os.cpu_count(), "kernel": platform.release(), "debian": debian,
            "mem_gib": round(mem_gib), "hypervisor": hyper, "dpdk": pkg_version("dpdk"), "ovs": pkg_version("openvswitch-switch-dpdk"),
            "virt": subprocess.run(["systemd-detect-virt"], capture_output=True, text=True).stdout.strip()
            if shutil.which("systemd-detect-virt") else "?"}


class Ctx:
    def __init__(self, args):
        self.args = args
        self.sut_cpu = 0
        self.gen_cpu = 1
        self.dir = tempfile.mkdtemp(prefix="vsw-bsw-")
        self.logdir = os.path.join(self.dir, "logs")
        os.makedirs(self.logdir)
        self.bin = os.path.join(self.dir, "bin")
        os.makedirs(self.bin)
        # Private copies: others may rebuild build/ while we run.
        for b in ("vswd", "vswctl", "vsw-bench"):
            src = os.path.join(args.build, b)
            if not os.path.exists(src):
                raise BenchError("%s missing: build first (make)" % src)
            shutil.copy2(src, os.path.join(self.bin, b))
        self.bin_base = None
        if "vsw-base" in args.only:
            self.bin_base = os.path.join(self.dir, "bin-base")
            os.makedirs(self.bin_base)
            for b in ("vswd", "vswctl"):
                src = os.path.join(args.base_build, b)
                if not os.path.exists(src):
                    raise BenchError("%s missing: build the base first (make BUILD=...)" % src)
                shutil.copy2(src, os.path.join(self.bin_base, b))
        self.vswd_knows_busy = self.knows_busy(self.bin)
        self.netns = "vswb%d" % os.getpid()
        self.netns_made = False
        self.seq = 0

    @staticmethod
    def knows_busy(bindir):
        """A vswd whose stats name busy_cycles has the JSON key in its read-only data."""
        with open(os.path.join(bindir, "vswd"), "rb") as f:
            return b"busy_cycles" in f.read()

    def path(self, name):
        return os.path.join(self.dir, name)

    def logpath(self, name):
        return os.path.join(self.logdir, name + ".log")

    def next_tag(self):
        self.seq += 1
        return "%d" % self.seq


# ---------------------------------------------------------------- flow files

# A rule set names the switch's ports as vswd's config does here: p0 (the
# generator's port 0 side) and p1.  OVS's ports are vhu0 and vhu1 with
# OpenFlow port numbers 1 and 2 (ofport_request).  vswd numbers its ports
# from 1 as OVS does (docs/FLOWS.md, "Ports in flows"): p0 and p1 are 1
# and 2 there too, so a rule written with those numbers means the same
# ports in both and goes to OVS as it is; only the names are mapped.  (A
# vswd before that numbered them 0 and 1: a numbered rule meant the other
# port.)
FLOW_PORT = re.compile(r"\b(in_port=|output:|output\(port=)p(\d+)\b")
# Tokens that need more than ovs-ofctl's default OpenFlow 1.0: the file then goes with -O OpenFlow13.  table=
# is one: an OpenFlow 1.0 flow_mod carries a table only with NXM+table_id, which replace-flows cannot also use to
# dump the switch's flows (OVS 3.1: "switch does not support any of the usable flow formats (OXM,NXM+table_id)").
OF13_TOKENS = re.compile(r"\b(table=|goto_table|write_metadata|write_actions|clear_actions|meter|push_mpls|pop_mpls)")


def flows_for_ovs(text):
    """A rule set in vswd's port names -> (the same for ovs-ofctl, with OVS's port numbers; extra ovs-ofctl
    arguments).  Raises BenchError for a port the bench does not have."""
    def num(m):
        i = int(m.group(2))
        if i > 1:
            raise BenchError("flows: port p%d: the bench has p0 and p1 only" % i)
        return "%s%d" % (m.group(1), i + 1)
    lines = [FLOW_PORT.sub(num, x) for x in text.splitlines()]
    left = [x for x in lines if not x.lstrip().startswith("#") and re.search(r"\bp\d+\b", x)]
    if left:
        raise BenchError("flows: a port name outside in_port=, output: (only those are mapped for OVS): %s" % left[0])
    opts = ["-O", "OpenFlow13"] if any(OF13_TOKENS.search(x) for x in lines if not x.lstrip().startswith("#")) else []
    return "\n".join(lines) + "\n", opts


FLOW_DUMP_FWD = re.compile(r"n_packets=(\d+).*actions=.*\b(output|normal|NORMAL)\b")
FLOW_DUMP_IN_PORT = re.compile(r"\bin_port=([\w-]+)")


def rule_packets(dump, in_port=None):
    """`vswctl flow dump` or `ovs-ofctl dump-flows` -> packets counted by the rules that forward (output,
    normal): proof that the rule set, not a default, moved the frames.  With @in_port (the names a switch may
    print for one port, e.g. ("p0", "1")), only the rules that can take that port's frames: those that match it
    and those that match no in_port."""
    n = 0
    for line in dump.splitlines():
        m = FLOW_DUMP_FWD.search(line)
        if not m:
            continue
        port = FLOW_DUMP_IN_PORT.search(line.split("actions=", 1)[0])
        if in_port is None or port is None or port.group(1) in in_port:
            n += int(m.group(1))
    return n


def flows_self_test():
    """The port mapping for OVS, and the shipped rule sets: they map, and (when ovs-ofctl is installed) it
    parses them; raises BenchError on a mismatch."""
    out, opts = flows_for_ovs("# p0 to p1\npriority=5,in_port=p0,ip,actions=output:p1\n"
                              "table=1,in_port=p1,actions=output(port=p0)\n")
    want = "# p0 to p1\npriority=5,in_port=1,ip,actions=output:2\ntable=1,in_port=2,actions=output(port=1)\n"
    if out != want or opts != ["-O", "OpenFlow13"]:
        raise BenchError("flows self-test: mapped to %r %r" % (out, opts))
    if flows_for_ovs("in_port=p1,actions=output:p0\n") != ("in_port=2,actions=output:1\n", []):
        raise BenchError("flows self-test: a single-table rule asked for OpenFlow 1.3")
    # numbers are vswd's and OVS's alike (1 and 2): left as they are
    if flows_for_ovs("in_port=1,actions=output:2\n") != ("in_port=1,actions=output:2\n", []):
        raise BenchError("flows self-test: a rule with port numbers was changed for OVS")
    dump = (" duration=1.2s, n_packets=7, n_bytes=420, idle_age=0, table=1,priority=200,ip,in_port=p0 "
            "actions=output:p1\n"
            " cookie=0x0, duration=1.2s, table=1, n_packets=5, n_bytes=300, priority=100,in_port=1 actions=output:2\n"
            " cookie=0x0, duration=1.2s, table=0, n_packets=9, n_bytes=540, priority=0 actions=drop\n"
            " duration=1.2s, n_packets=3, n_bytes=180, priority=0 actions=normal\n")
    if rule_packets(dump) != 15:
        raise BenchError("flows self-test: rule_packets gave %d, want 15" % rule_packets(dump))
    # vsw-bench sends from p0 only: the p1 rules' packets are not counted, the rules without in_port are
    vsw_dump = (" duration=3.7s, n_packets=7, n_bytes=420, idle_age=0, table=1,priority=200,ip,in_port=p0 "
                "actions=output:p1\n"
                " duration=3.7s, n_packets=11, n_bytes=660, idle_age=0, table=1,priority=200,ip,in_port=p1 "
                "actions=output:p0\n"
                " duration=3.7s, n_packets=3, n_bytes=180, priority=0 actions=normal\n")
    ovs_dump = (" cookie=0x0, duration=1.2s, table=1, n_packets=5, n_bytes=300, priority=100,in_port=1 "
                "actions=output:2\n"
                " cookie=0x0, duration=1.2s, table=1, n_packets=13, n_bytes=780, priority=100,in_port=2 "
                "actions=output:1\n"
                " cookie=0x0, duration=1.2s, table=0, n_packets=9, n_bytes=540, priority=0 actions=drop\n")
    for dump, names, want in ((vsw_dump, VswSut.P0_NAMES, 10), (ovs_dump, OvsSut.P0_NAMES, 5)):
        if rule_packets(dump, names) != want:
            raise BenchError("flows self-test: rule_packets(in_port %s) gave %d, want %d" % (
                names, rule_packets(dump, names), want))
    for of13 in ("in_port=p0,actions=goto_table:1\n", "table=1,in_port=p0,actions=output:p1\n"):
        if flows_for_ovs(of13)[1] != ["-O", "OpenFlow13"]:
            raise BenchError("flows self-test: %r did not ask for OpenFlow 1.3" % of13)
    for bad in ("in_port=p2,actions=output:p0\n", "in_port=p0,actions=mod_dl_src:p1,output:p1\n"):
        try:
            flows_for_ovs(bad)
        except BenchError:
            continue
        raise BenchError("flows self-test: %r mapped, it must be refused" % bad)
    for name, want_opts in (("pipeline.flows", ["-O", "OpenFlow13"]), ("normal.flows", [])):
        with open(os.path.join(FLOWS_DIR, name)) as f:
            text, opts = flows_for_ovs(f.read())
        if opts != want_opts:
            raise BenchError("flows self-test: %s gave ovs-ofctl options %r, want %r" % (name, opts, want_opts))
        if not shutil.which("ovs-ofctl"):
            log("  flows self-test: no ovs-ofctl (openvswitch-common): %s mapped, not parsed by OVS" % name)
        else:
            with tempfile.NamedTemporaryFile("w", suffix=".flows") as t:
                t.write(text)
                t.flush()
                r = subprocess.run(["ovs-ofctl"] + opts + ["parse-flows", t.name], capture_output=True, text=True)
                if r.returncode != 0:
                    raise BenchError("flows self-test: ovs-ofctl parse-flows %s: %s" % (name, r.stderr.strip()))
    log("  flows self-test: passed")


# ---------------------------------------------------------------- systems under test (CPU 0)

class VswSut:
    """vswd with two vhost-user server ports; the front ends connect as clients."""
    gen_server = False
    P0_NAMES = ("p0", "1")      # port p0 in `vswctl flow dump`: its name (numbers from 1 if a rule gave one)

    def __init__(self, ctx, tag, busy_poll=True, timing=True, bindir=None, flows=None):
        d = ctx.path("v" + tag)
        os.makedirs(d)
        self.ctx = ctx
        self.bin = bindir or ctx.bin
        self.timing = timing
        self.knows_busy = Ctx.knows_busy(self.bin)
        self.socks = [os.path.join(d, "p0.sock"), os.path.join(d, "p1.sock")]
        self.ctl = os.path.join(d, "ctl.sock")
        conf = {"workers": 1, "cpus": [ctx.sut_cpu], "busy_poll": busy_poll,
                "ports": [{"name": "p%d" % i, "type": "vhost-user", "path": s, "mode": "server"}
                          for i, s in enumerate(self.socks)]}
        if not timing:
            conf["perf"] = False      # compiled in, switched off: the A/B of the timing points' cost
        cpath = os.path.join(d, "vswd.json")
        with open(cpath, "w") as f:
            json.dump(conf, f)
        self.proc = Proc(["taskset", "-c", ctx.sut_cpu, os.path.join(self.bin, "vswd"), "--foreground",
                          "--ctl", self.ctl, "--config", cpath], ctx.logpath("vswd-" + tag), name="vswd")
        self.proc.wait_for(r"ready: control socket", 0, 15)
        self.pid = self.proc.pid
        self.flows = flows
        if flows:
            # The rule set in place of the learning bridge, before the generator connects.
            run([os.path.join(self.bin, "vswctl"), "--ctl", self.ctl, "flow", "replace", flows], timeout=30)

    def rule_packets(self, in_port=None):
        return rule_packets(run([os.path.join(self.bin, "vswctl"), "--ctl", self.ctl, "flow", "dump"],
                                timeout=30).stdout, in_port)

    def cycles_counters(self):
        """The workers' counters (vswctl stats) and the CPU time of vswd's threads, read back to back."""
        c = vsw_cycles_counters(self.stats(), self.knows_busy)
        if not self.timing:     # busy_cycles only grow while timing is on
            c["busy"], c["busy_missing"] = None, "vswd stage timing switched off"
        c["threads"], c["t"] = thread_cpu_seconds(self.pid), time.monotonic()
        c["pick"] = (None, c.pop("nworkers"))
        return c

    def stats(self):
        r = run([os.path.join(self.bin, "vswctl"), "--ctl", self.ctl, "--json", "stats"], timeout=10)
        return json.loads(r.stdout)

    def diag(self):
        try:
            return json.dumps(self.stats())
        except Exception as e:  # noqa: BLE001
            return "vswctl stats: %s" % e

    def close(self):
        self.proc.close()


class DpdkSut:
    """dpdk-testpmd with two net_vhost (server) ports in io forwarding: the vhost library, no switching."""
    gen_server = False

    def __init__(self, ctx, tag, tso=False):
        d = ctx.path("d" + tag)
        os.makedirs(d)
        self.socks = [os.path.join(d, "p0.sock"), os.path.join(d, "p1.sock")]
        c = ctx.sut_cpu
        # TSO: the vhost PMD offers HOST_TSO4/6 only with tso=1; with legacy-ol-flags=1 the vhost library
        # turns a driver's header into TX offload flags of the mbuf (TX_TCP_SEG, TX_TCP_CKSUM), which io
        # forwarding hands untouched to the other port, whose enqueue writes them back as a header.  With
        # the compliant flags (the default) a GSO frame would come out as RX_LRO, which no tx path reads.
        vopt = ",tso=1,legacy-ol-flags=1" if tso else ""
        # lcore 0 (main: sleeps in the command line reader) and lcore 1 (forwarding) both on CPU c;
        # taskset keeps the EAL's control threads there too.
        argv = ["taskset", "-c", c, "dpdk-testpmd", "--no-pci", "--in-memory", "--single-file-segments",
                "-m", "256", "--lcores", "0@%d,1@%d" % (c, c), "--main-lcore", "0", "--log-level=lib.eal,notice",
                "--vdev", "net_vhost0,iface=%s,queues=1%s" % (self.socks[0], vopt),
                "--vdev", "net_vhost1,iface=%s,queues=1%s" % (self.socks[1], vopt),
                "--", "-i", "--nb-cores=1", "--forward-mode=io", "--total-num-mbufs=32768",
                "--record-core-cycles"]
        self.tp = TestPmd(argv, ctx.logpath("sut-testpmd-" + tag), name="testpmd-vhost")
        self.tp.cmd_ok("start")
        self.pid = self.tp.pid

    def cycles_counters(self):
        """The forwarding lcore's busy cycles and frames received (`show fwd stats all`), its thread's CPU time."""
        s = self.tp.fwd_stats()
        thr = thread_cpu_seconds(self.pid)
        if s["cycles"] is None and not s["rx"]:
            # Nothing forwarded yet (a fresh testpmd, read before the traffic: --tso): no cycles line then.
            return {"frames": 0, "busy": 0, "hz": None, "threads": thr, "t": time.monotonic(),
                    "pick": (("rte-worker-", "lcore-worker-"), 1), "busy_method": "testpmd --record-core-cycles"}
        if s["cycles"] is None:
            raise BenchError("testpmd (switch) printed no \"CPU cycles/packet=... (total cycles=...\" line: "
                             "--record-core-cycles not honoured?")
        return {"frames": s["rx"], "busy": s["cycles"], "hz": s["mhz"] * 1e6, "threads": thr,
                "t": time.monotonic(), "pick": (("rte-worker-", "lcore-worker-"), 1),
                "busy_method": "testpmd --record-core-cycles (cycles of the forwarding lcore's polls that received "
                               "frames)"}

    def diag(self):
        try:
            return self.tp.cmd("show port stats all")[-1200:]
        except Exception as e:  # noqa: BLE001
            return str(e)

    def close(self):
        self.tp.close()


class OvsSut:
    """ovsdb-server + ovs-vswitchd (DPDK) in a private directory; netdev bridge, two dpdkvhostuserclient ports."""
    gen_server = True
    P0_NAMES = ("1", "vhu0")    # vhu0 in dump-flows: OpenFlow port 1 (the name only when printed to a terminal)

    def __init__(self, ctx, tag, flows=None, tso=False):
        d = ctx.path("o" + tag)
        os.makedirs(d)
        self.ctx, self.d, self.procs, self.flows, self.of_opts = ctx, d, [], flows, []
        self.socks = [os.path.join(d, "v0.sock"), os.path.join(d, "v1.sock")]
        self.env = dict(os.environ, OVS_RUNDIR=d, OVS_LOGDIR=d, OVS_DBDIR=d, OVS_SYSCONFDIR=d)
        c = ctx.sut_cpu
        mask = "0x%x" % (1 << c)
        db = os.path.join(d, "conf.db")
        run(["ovsdb-tool", "create", db, OVS_SCHEMA], env=self.env)
        self.procs.append(Proc(["taskset", "-c", c, "ovsdb-server", db, "--remote=punix:" + d + "/db.sock",
                                "--unixctl=" + d + "/ovsdb.ctl", "--no-chdir", "--log-file=" + d + "/ovsdb.log"],
                               ctx.logpath("ovsdb-" + tag), env=self.env, name="ovsdb-server"))
        deadline = time.monotonic() + 15
        while not os.path.exists(d + "/db.sock"):
            if time.monotonic() > deadline or not self.procs[0].alive():
                raise BenchError("ovsdb-server did not start: see %s" % ctx.logpath("ovsdb-" + tag))
            time.sleep(0.05)
        self.vsctl = ["ovs-vsctl", "--db=unix:" + d + "/db.sock", "--timeout=30"]
        run(self.vsctl + ["--no-wait", "init"], env=self.env, timeout=40)
        run(self.vsctl + ["--no-wait", "set", "Open_vSwitch", ".", "other_config:dpdk-init=true",
                          "other_config:dpdk-lcore-mask=" + mask, "other_config:pmd-cpu-mask=" + mask,
                          "other_config:dpdk-socket-mem=512", "other_config:per-port-memory=true",
                          "other_config:dpdk-extra=--no-pci --in-memory"]
            + (["other_config:userspace-tso-enable=true"] if tso else []), env=self.env, timeout=40)
        self.vswitchd = Proc(["taskset", "-c", c, OVS_VSWITCHD, "unix:" + d + "/db.sock",
                              "--unixctl=" + d + "/vswitchd.ctl", "--no-chdir", "--log-file=" + d + "/vswitchd.log"],
                             ctx.logpath("ovs-vswitchd-" + tag), env=self.env, name="ovs-vswitchd")
        self.procs.append(self.vswitchd)
        self.pid = self.vswitchd.pid
        self.vswitchd.wait_for(r"DPDK Enabled - initialized|EAL: .*([Cc]annot|[Ee]rror|[Ff]ail)", 0, 60)
        if not re.search(r"DPDK Enabled - initialized", self.vswitchd.buf):
            raise BenchError("ovs-vswitchd: DPDK did not initialise:\n" + self.vswitchd.buf[-1500:])
        self.tso_note = None
        if tso:
            # OVS logs it once at start-up (lib/userspace-tso.c); without it, it would not ack TSO.
            try:
                with open(d + "/vswitchd.log") as f:
                    logged = OVS_TSO_LOG in f.read()
            except OSError:
                logged = False
            if not logged and OVS_TSO_LOG not in self.vswitchd.buf:
                self.tso_note = "ovs-vswitchd did not log \"%s\"" % OVS_TSO_LOG
        run(self.vsctl + ["add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev"], env=self.env,
            timeout=40)
        for i, s in enumerate(self.socks):
            run(self.vsctl + ["add-port", "br0", "vhu%d" % i, "--", "set", "Interface", "vhu%d" % i,
                              "type=dpdkvhostuserclient", "options:vhost-server-path=" + s,
                              "ofport_request=%d" % (i + 1)], env=self.env, timeout=40)
        # add-br returns once the database has the bridge; its OpenFlow socket may come a moment later.
        deadline = time.monotonic() + 20
        while not os.path.exists(d + "/br0.mgmt"):
            if time.monotonic() > deadline or not self.vswitchd.alive():
                raise BenchError("ovs-vswitchd made no %s/br0.mgmt within 20 s: see %s" %
                                 (d, ctx.logpath("ovs-vswitchd-" + tag)))
            time.sleep(0.05)
        if flows:
            with open(flows) as f:
                text, opts = flows_for_ovs(f.read())
            mapped = os.path.join(d, "bench.flows")
            with open(mapped, "w") as f:
                f.write(text)
            if opts:
                # OVS enables OpenFlow 1.0 to 1.5 unless told otherwise; say so, a distribution may differ.
                run(self.vsctl + ["set", "bridge", "br0", "protocols=OpenFlow10,OpenFlow13"], env=self.env, timeout=40)
            run(["ovs-ofctl"] + opts + ["replace-flows", "br0", mapped], env=self.env, timeout=60)
            self.of_opts = opts
            return
        run(["ovs-ofctl", "del-flows", "br0"], env=self.env)
        run(["ovs-ofctl", "add-flow", "br0", "in_port=1,actions=output:2"], env=self.env)
        run(["ovs-ofctl", "add-flow", "br0", "in_port=2,actions=output:1"], env=self.env)

    def rule_packets(self, in_port=None):
        return rule_packets(run(["ovs-ofctl"] + self.of_opts + ["dump-flows", "br0"], env=self.env, timeout=30).stdout,
                            in_port)

    def appctl(self, *words):
        r = run(["ovs-appctl", "-t", self.d + "/vswitchd.ctl"] + list(words), env=self.env, check=False, timeout=15)
        return r.stdout + r.stderr

    def cycles_counters(self):
        """The PMD threads' processing cycles and packets received (pmd-stats-show), their CPU time."""
        c = ovs_cycles_counters(self.appctl("dpif-netdev/pmd-stats-show"))
        c["threads"], c["t"] = thread_cpu_seconds(self.pid), time.monotonic()
        c["pick"] = (("pmd",), c.pop("npmd"))
        return c

    def diag(self):
        return self.appctl("dpif-netdev/pmd-stats-show")[-1500:]

    def close(self):
        for p in reversed(self.procs):
            p.close()


# ---------------------------------------------------------------- cycles per frame, switch side

VSW_TOO_OLD = "vswd stats has no busy_cycles: vswd too old"


def vsw_cycles_counters(st, binary_knows_busy):
    """vswctl stats --json -> {frames, busy, hz, nworkers, busy_method | busy_missing}: the workers summed.

    The schema: a top-level "workers" array, each worker with "frames" (frames
    it took from its queues), "busy_cycles" (TSC cycles of the rounds that
    moved frames) and "tsc_hz".  A vswd without busy_cycles gives no busy
    figure (busy None, busy_missing says why) unless its binary names the key,
    which makes the stats malformed: an error.
    """
    ws = st.get("workers") if isinstance(st, dict) else None
    if not isinstance(ws, list) or not ws or not all(isinstance(w, dict) for w in ws):
        raise BenchError("vswd stats: no \"workers\" array: %s" % json.dumps(st)[:300])
    try:
        frames = sum(int(w["frames"]) for w in ws)
    except (KeyError, TypeError, ValueError) as e:
        raise BenchError("vswd stats: a worker without a frames count (%s): %s" % (e, json.dumps(ws)[:300]))
    res = {"frames": frames, "busy": None, "hz": None, "nworkers": len(ws)}
    have = [w for w in ws if "busy_cycles" in w]
    if not have:
        if binary_knows_busy:
            raise BenchError("vswd stats: no busy_cycles in %s, although the vswd binary names the key" %
                             json.dumps(ws)[:300])
        res["busy_missing"] = VSW_TOO_OLD
        return res
    if len(have) != len(ws):
        raise BenchError("vswd stats: busy_cycles in %d of %d workers" % (len(have), len(ws)))
    try:
        res["busy"] = sum(int(w["busy_cycles"]) for w in ws)
        hz = [float(w.get("tsc_hz", st.get("tsc_hz"))) for w in ws]
    except (TypeError, ValueError) as e:
        raise BenchError("vswd stats: busy_cycles or tsc_hz not a number (%s): %s" % (e, json.dumps(ws)[:300]))
    if min(hz) <= 0 or max(hz) > 1.01 * min(hz):
        raise BenchError("vswd stats: tsc_hz %s" % hz)
    res["hz"] = hz[0]
    res["busy_method"] = "vswd busy_cycles (TSC cycles of the worker rounds that moved frames)"
    return res


OVS_PMD_BLOCK = re.compile(r"^pmd thread numa_id \S+ core_id \S+:\n((?:[ \t]+.*\n?)*)", re.M)


def ovs_cycles_counters(text):
    """dpif-netdev/pmd-stats-show -> {frames, busy, idle, npmd, busy_method}: the PMD threads summed.

    Per PMD thread OVS prints "packets received: N", then, once the thread
    has counted cycles, "idle cycles: N (x%)" and "processing cycles: N (x%)"
    (TSC cycles of iterations that did / did not receive packets).  The
    "main thread:" block (non-PMD ports) is left out.
    """
    blocks = OVS_PMD_BLOCK.findall(text)
    if not blocks:
        raise BenchError("ovs pmd-stats-show: no \"pmd thread numa_id ... core_id ...:\" block:\n" + text[-800:])
    res = {"frames": 0, "busy": 0, "idle": 0, "npmd": len(blocks),
           "busy_method": "OVS pmd-stats-show processing cycles (PMD iterations that received packets)"}
    for b in blocks:
        rx = re.search(r"^\s*packets received:\s*(\d+)\s*$", b, re.M)
        busy = re.search(r"^\s*processing cycles:\s*(\d+)\s", b, re.M)
        idle = re.search(r"^\s*idle cycles:\s*(\d+)\s", b, re.M)
        if not rx:
            raise BenchError("ovs pmd-stats-show: no \"packets received:\" in a PMD block:\n" + b[-800:])
        res["frames"] += int(rx.group(1))
        if busy and idle:
            res["busy"] += int(busy.group(1))
            res["idle"] += int(idle.group(1))
        elif int(rx.group(1)):
            raise BenchError("ovs pmd-stats-show: packets but no \"processing cycles:\" line:\n" + b[-800:])
    return res


def fwd_thread_cpu(k0, k1, pid, pick):
    """CPU seconds of the forwarding threads between two cycles_counters() snapshots, and their names.

    @pick is (name prefixes, n): the threads whose name starts with one of
    the prefixes (DPDK 22.11 "rte-worker-N", later "lcore-worker-N"; OVS
    "pmd-..."), or, prefixes None, the n busiest threads besides the main
    one (vswd's workers are not named).
    """
    prefix, n = pick
    common = [t for t in k1["threads"] if t in k0["threads"]]
    delta = {t: k1["threads"][t][1] - k0["threads"][t][1] for t in common}
    if prefix:
        tids = [t for t in common if k1["threads"][t][0].startswith(tuple(prefix))]
        if len(tids) != n:
            raise BenchError("%d thread(s) named %s (want %d) among %s" % (
                len(tids), " or ".join(x + "*" for x in prefix), n,
                sorted(set(v[0] for v in k1["threads"].values()))))
    else:
        tids = sorted((t for t in common if t != pid), key=lambda t: -delta[t])[:n]
        if len(tids) != n:
            raise BenchError("%d thread(s) besides the main one (want %d)" % (len(tids), n))
    return sum(delta[t] for t in tids), sorted(set(k1["threads"][t][0] for t in tids))


def switch_cycles(sut, k0, k1, tsc_hz, gen_rx):
    """The switch side of one window: busy cycles per frame from the switch's own counters, and all the
    cycles of its forwarding threads (CPU time x TSC Hz) per frame.  Raises BenchError with the reason."""
    frames = k1["frames"] - k0["frames"]
    dt = k1["t"] - k0["t"]
    if frames <= 0:
        raise BenchError("the switch counted %d frames in the window" % frames)
    r = {"sut_frames": frames, "sut_frames_per_gen_rx": frames / gen_rx if gen_rx else None}
    if k1.get("busy") is not None and k0.get("busy") is not None:
        busy = k1["busy"] - k0["busy"]
        if busy <= 0:
            raise BenchError("busy cycles did not grow in the window (%d)" % busy)
        r["sut_busy_cpf"] = busy / frames
        r["sut_busy_method"] = k1["busy_method"]
        hz = k1.get("hz") or tsc_hz
        r["sut_busy_share"] = busy / (dt * hz)
    else:
        r["sut_busy_missing"] = k1.get("busy_missing") or k0.get("busy_missing") or "no busy cycles"
    if r["sut_frames_per_gen_rx"] is None or not 0.8 <= r["sut_frames_per_gen_rx"] <= 1.25:
        raise BenchError("the switch counted %d frames, the generator received %d: the counters disagree" % (
            frames, gen_rx))
    try:
        cpu, names = fwd_thread_cpu(k0, k1, sut.pid, k1["pick"])
    except BenchError as e:
        r["cycles_error"] = "CPU time of the forwarding thread: %s" % e   # the busy figure stands
        return r
    r["sut_cpu_cpf"] = cpu * tsc_hz / frames
    r["sut_fwd_threads"] = names
    r["sut_fwd_cpu_share"] = cpu / dt
    return r


class Netns:
    def __init__(self, name):
        self.name = name
        run(["ip", "netns", "add", name])
        on_exit(self.delete)
        self.ex(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"])
        self.ex(["ip", "link", "set", "lo", "up"])

    def ex(self, argv, check=True):
        return run(["ip", "netns", "exec", self.name] + argv, check=check)

    def delete(self):
        run(["ip", "netns", "delete", self.name], check=False)


class KernelSut:
    """A Linux bridge in our namespace; the generator's two tap ports are enslaved once testpmd has created them."""
    gen_server = None

    def __init__(self, ctx, tag):
        if not ctx.netns_made:
            ctx.ns = Netns(ctx.netns)
            ctx.netns_made = True
        self.ns = ctx.ns
        self.pid = None
        self.taps = ["vswbt0", "vswbt1"]
        self.ns.ex(["ip", "link", "del", "vswbr"], check=False)
        self.ns.ex(["ip", "link", "add", "vswbr", "type", "bridge", "stp_state", "0", "forward_delay", "0",
                    "mcast_snooping", "0"])
        self.ns.ex(["ip", "link", "set", "vswbr", "up"])

    def attach(self):
        """After testpmd started its ports: new kernel-side MACs (the tap PMD gives them the port's own MAC,
        which the bridge would take as local), enslave, up."""
        for t, mac in zip(self.taps, TAP_KMAC):
            self.ns.ex(["ip", "link", "set", t, "address", mac])
            self.ns.ex(["ip", "link", "set", t, "master", "vswbr"])
            self.ns.ex(["ip", "link", "set", t, "up"])

    def set_rps(self, cpu):
        """Receive packet steering of both taps to @cpu (None: off, the bridge runs in the sender's context)."""
        mask = "0" if cpu is None else "%x" % (1 << cpu)
        for t in self.taps:
            self.ns.ex(["sh", "-c", "echo %s > /sys/class/net/%s/queues/rx-0/rps_cpus" % (mask, t)])

    def diag(self):
        r = self.ns.ex(["ip", "-s", "link"], check=False)
        return r.stdout[-1500:]

    def close(self):
        self.ns.ex(["ip", "link", "del", "vswbr"], check=False)


# ---------------------------------------------------------------- the generator (CPU 1)

class Generator:
    """dpdk-testpmd on the generator CPU: two virtio-user ports (or taps), mac forwarding in a loop; or, with
    @flows_n, flowgen: each port sends frames of @flows_n distinct flows flat out and counts what comes back."""

    def __init__(self, ctx, tag, socks=None, ring="split", server=False, taps=None, netns=None, flows_n=None):
        self.ctx, self.args = ctx, ctx.args
        self.flows_n = flows_n
        self.fwd = "flowgen" if flows_n else self.args.gen_fwd
        c = ctx.gen_cpu
        vdevs = []
        if taps:
            for i, t in enumerate(taps):
                vdevs += ["--vdev", "net_tap%d,iface=%s,mac=%s" % (i, t, GEN_MAC[i])]
        else:
            for i, s in enumerate(socks):
                vdevs += ["--vdev", "net_virtio_user%d,path=%s,queues=1,queue_size=%d,%s,packed_vq=%d,mac=%s%s" % (
                    i, s, self.args.queue_size, self.args.gen_devargs, ring == "packed", GEN_MAC[i], ",server=1" if server else "")]
        argv = ["taskset", "-c", c, "dpdk-testpmd", "--no-pci", "--in-memory", "--single-file-segments",
                "-m", "128", "--lcores", "0@%d,1@%d" % (c, c), "--main-lcore", "0", "--log-level=lib.eal,notice"]
        argv += vdevs + ["--", "-i", "--nb-cores=1", "--forward-mode=" + self.fwd, "--record-core-cycles",
                         "--eth-peer=0," + GEN_MAC[1], "--eth-peer=1," + GEN_MAC[0], "--total-num-mbufs=16384",
                         "--burst=%d" % self.args.gen_burst]
        if flows_n:
            argv.append("--flowgen-flows=%d" % flows_n)
        self.tp = TestPmd(argv, ctx.logpath("gen-testpmd-" + tag), start_timeout=60, netns=netns, name="testpmd-gen")

    def measure(self, size, warmup, seconds, sut=None):
        """One sample: frames of @size bytes (with FCS) looping; rate over @seconds after @warmup.
        With a @sut that has cycles_counters(), also its cycles per frame (or "cycles_error": why not)."""
        tp = self.tp
        if self.flows_n:
            # DPDK 22.11's flowgen takes the length with the FCS (it subtracts 4 itself); open loop, no tx_first.
            tp.cmd_ok("set txpkts %d" % size)
            tp.cmd("start")
        else:
            tp.cmd_ok("set txpkts %d" % (size - 4))
            tp.cmd("start tx_first %d" % self.args.txfirst)
        time.sleep(warmup)
        pids = {"gen": tp.pid}
        if sut is not None and sut.pid:
            pids["sut"] = sut.pid
        counted = hasattr(sut, "cycles_counters")
        k0 = k1 = cycles_error = None
        p0 = {k: proc_cpu_seconds(v) for k, v in pids.items()}
        try:
            k0 = sut.cycles_counters() if counted else None
        except Exception as e:  # noqa: BLE001 - the rate is still measured
            cycles_error = "reading the switch's counters: %s" % e
        c0, s0 = cpu_ticks(), tp.fwd_stats()
        time.sleep(seconds)
        # The switch's counters just before the generator's, as at the start: the same window, shifted by
        # the time one read takes.
        try:
            k1 = sut.cycles_counters() if counted and k0 else None
        except Exception as e:  # noqa: BLE001
            cycles_error = "reading the switch's counters: %s" % e
        s1, c1 = tp.fwd_stats(), cpu_ticks()
        p1 = {k: proc_cpu_seconds(v) for k, v in pids.items()}
        tp.cmd("stop")
        # Drain what is still in flight so that the next sample starts from empty rings.
        tp.cmd("set fwd rxonly")
        tp.cmd("start")
        time.sleep(0.2)
        tp.cmd("stop")
        tp.cmd("set fwd " + self.fwd)
        dt = s1["t"] - s0["t"]
        rx, tx = s1["rx"] - s0["rx"], s1["tx"] - s0["tx"]
        res = {"size": size, "seconds": dt, "rx": rx, "tx": tx, "mpps": rx / dt / 1e6, "flows_n": self.flows_n,
               "gbps": rx * size * 8 / dt / 1e9, "tx_dropped": s1["tx_dropped"] - s0["tx_dropped"],
               "cpu_busy": {str(k): round(v, 3) for k, v in cpu_busy(c0, c1).items()}}
        # The share of a CPU our busy-polling processes got: below 1, something else ran there.
        for k in pids:
            res[k + "_cpu_share"] = (p1[k] - p0[k]) / dt
        if s1["cycles"] is not None and s0["cycles"] is not None and rx > 0:
            cyc = s1["cycles"] - s0["cycles"]
            hz = s1["mhz"] * 1e6
            res["gen_busy"] = cyc / (dt * hz)
            res["gen_cycles_per_frame"] = cyc / rx
            res["gen_ceiling_mpps"] = hz / (cyc / rx) / 1e6 if cyc else None
        # One TSC rate for the machine: DPDK's (rte_get_tsc_hz, the generator's "at N MHz Clock").
        res["tsc_hz"], res["tsc_hz_source"] = ((s1["mhz"] * 1e6, "DPDK rte_get_tsc_hz") if s1["mhz"]
                                               else (cpuinfo_hz(), "/proc/cpuinfo cpu MHz"))
        if k0 and k1:
            try:
                res.update(switch_cycles(sut, k0, k1, res["tsc_hz"], rx))
            except Exception as e:  # noqa: BLE001
                cycles_error = str(e)
            cycles_error = res.pop("cycles_error", None) or cycles_error
        if cycles_error:
            res["cycles_error"] = cycles_error
        if rx < 1000 * dt:
            raise BenchError("no traffic: %d frames in %.1f s (generator tx %d, tx dropped %d)" % (
                rx, dt, tx, res["tx_dropped"]))
        return res

    def alive(self):
        return self.tp.proc.alive()

    def idle_connected(self):
        """A little traffic, drained, then the ports stay connected and nothing is sent."""
        self.measure(64, 0.3, 0.5)

    def close(self):
        self.tp.close()


PINGPONG_WARMUP = 512   # rounds not counted: every buffer of both 256-entry rings used twice


def vsw_bench(ctx, socks, ring, server, size, seconds=None, pingpong=None, gap_us=0):
    argv = ["taskset", "-c", ctx.gen_cpu, os.path.join(ctx.bin, "vsw-bench"), "--a", socks[0], "--b", socks[1],
            "--size", size - 4, "--json"]
    if ring == "packed":
        argv.append("--packed")
    if server:
        argv.append("--server")
    if pingpong:
        argv += ["--pingpong=%d" % pingpong, "--warmup", PINGPONG_WARMUP if not gap_us else 20]
        if gap_us:
            argv += ["--gap", gap_us]
        limit = 60 + pingpong / 1000 + pingpong * gap_us / 1e6
    else:
        argv += ["--seconds", seconds]
        limit = 60 + seconds
    r = run(argv, timeout=limit, check=False)
    with open(ctx.logpath("vsw-bench"), "a") as f:
        f.write("$ %s\n%s%s(exit %d)\n" % (" ".join(map(str, argv)), r.stdout, r.stderr, r.returncode))
    line = next((x for x in reversed(r.stdout.splitlines()) if x.startswith("{")), None)
    if r.returncode != 0 or not line:
        raise BenchError("vsw-bench exit %d: %s" % (r.returncode, (r.stderr or r.stdout).strip()[-400:]))
    res = json.loads(line)
    res["buffer_bytes"] = res.pop("size", None)
    if pingpong is None:
        res["mpps"] = res["rx_mpps"]
        if res["rx"] == 0:
            raise BenchError("vsw-bench: nothing received (tx %d)" % res["tx"])
    elif res["samples"] == 0:
        raise BenchError("vsw-bench ping-pong: every ping lost")
    return res


# ---------------------------------------------------------------- sessions

class Results:
    def __init__(self):
        self.samples = {}     # (kind, system, ring, size) -> [sample]
        self.failures = {}    # (kind, system, ring, size) -> [message]

    def add(self, key, sample, rnd):
        sample["round"] = rnd
        self.samples.setdefault(key, []).append(sample)

    def fail(self, key, msg, rnd):
        self.failures.setdefault(key, []).append("round %d: %s" % (rnd, msg))
        log("    FAILED %s: %s" % ("/".join(map(str, key)), msg.splitlines()[0][:300]))


OVS_SAMPLE = """pmd thread numa_id 0 core_id 0:
  packets received: 1000
  packet recirculations: 0
  avg. datapath passes per packet: 1.00
  emc hits: 990
  megaflow hits: 10
  miss with success upcall: 0
  avg. packets per output batch: 31.00
  idle cycles: 400000 (40.00%)
  processing cycles: 600000 (60.00%)
  avg cycles per packet: 1000.00 (1000000/1000)
  avg processing cycles per packet: 600.00 (600000/1000)
main thread:
  packets received: 7
  packet recirculations: 0
"""


def cycles_self_test(vswd_knows_busy):
    """The counter parsers against the formats they read (vswd's schema with and without busy_cycles,
    OVS 3.1's pmd-stats-show, DPDK 22.11 testpmd's cycles line); raises BenchError on a mismatch."""
    def expect_error(fn, *args):
        try:
            fn(*args)
        except BenchError:
            return
        raise BenchError("cycles self-test: %s%r parsed what it must refuse" % (fn.__name__, args))
    new = {"ports": [], "workers": [{"id": 0, "rounds": 9, "sleeps": 0, "frames": 1000, "busy_cycles": 250000,
                                     "tsc_hz": 2100000000}, {"id": 1, "frames": 500, "busy_cycles": 150000,
                                                             "tsc_hz": 2100000000}]}
    c = vsw_cycles_counters(new, True)
    if (c["frames"], c["busy"], c["hz"], c["nworkers"]) != (1500, 400000, 2.1e9, 2):
        raise BenchError("cycles self-test: vswd stats with busy_cycles gave %r" % c)
    old = {"ports": [], "workers": [{"id": 0, "rounds": 9, "sleeps": 0, "frames": 1000}]}
    c = vsw_cycles_counters(old, False)
    if c["busy"] is not None or c.get("busy_missing") != VSW_TOO_OLD:
        raise BenchError("cycles self-test: vswd stats without busy_cycles gave %r" % c)
    expect_error(vsw_cycles_counters, old, True)
    expect_error(vsw_cycles_counters, {"ports": []}, False)
    half = {"workers": [new["workers"][0], old["workers"][0]]}
    expect_error(vsw_cycles_counters, half, True)
    expect_error(vsw_cycles_counters, {"workers": [dict(new["workers"][0], busy_cycles="x")]}, True)
    c = ovs_cycles_counters(OVS_SAMPLE)
    if (c["frames"], c["busy"], c["idle"], c["npmd"]) != (1000, 600000, 400000, 1):
        raise BenchError("cycles self-test: pmd-stats-show gave %r" % c)
    expect_error(ovs_cycles_counters, "main thread:\n  packets received: 7\n")
    expect_error(ovs_cycles_counters, OVS_SAMPLE.replace("  processing cycles: 600000 (60.00%)\n", ""))
    m = TestPmd.CYCLES.search("  CPU cycles/packet=545.47 (total cycles=800319660 / total io packets=1467200) "
                              "at 2100 MHz Clock\n")
    if not m or (m.group(1), m.group(2), m.group(3)) != ("800319660", "1467200", "2100"):
        raise BenchError("cycles self-test: testpmd's cycles line not parsed")
    if vswd_knows_busy is False:
        log("  cycles self-test: passed; note: this vswd's stats have no busy_cycles (%s): its busy cycles per "
            "frame will be missing, its CPU-time figure stands" % VSW_TOO_OLD)
    else:
        log("  cycles self-test: passed")


def cycles_note(r):
    """The switch-side cycles of a sample, for the progress log."""
    if "sut_cpu_cpf" not in r:
        return ""
    busy = "%.0f busy" % r["sut_busy_cpf"] if "sut_busy_cpf" in r else "busy n/a"
    return "  switch cycles/frame: %s, %.0f CPU time" % (busy, r["sut_cpu_cpf"])


def start_sut(ctx, system, tag, tso=False):
    flows = ctx.args.flows
    if system == "vsw":
        return VswSut(ctx, tag, flows=flows)
    if system == "vsw-normal":
        return VswSut(ctx, tag, flows=os.path.join(FLOWS_DIR, "normal.flows"))
    if system == "vsw-off":
        return VswSut(ctx, tag, timing=False)
    if system == "vsw-base":
        # The same rule set as vsw's (none in the mac loop): an A/B of the build, not of the rules.
        return VswSut(ctx, tag, bindir=ctx.bin_base, flows=flows)
    if system == "dpdk":
        return DpdkSut(ctx, tag, tso=tso)
    if system == "ovs":
        return OvsSut(ctx, tag, flows=flows, tso=tso)
    return KernelSut(ctx, tag)


# Results kinds of the flow modes, per generator: a kind of their own, so that the samples never mix.
FLOW_KINDS = {"flowgen": {"tput": "ftput", "cycles": "fcycles", "rules": "rules"},
              "vsw-bench": {"tput": "vftput", "cycles": "vfcycles", "rules": "vrules"}}
FLOW_SAMPLE_KINDS = ("ftput", "fcycles", "vftput", "vfcycles")      # keys with the number of flows


def tput_key(system, ring, size, flows_n, gen="flowgen"):
    """Results key of a throughput sample: the mac loop's, or a flow generator's with its number of flows."""
    return ("tput", system, ring, size) if flows_n is None else (FLOW_KINDS[gen]["tput"], system, ring, size,
                                                                  flows_n)


def check_rules(sut, res, key, rnd, in_port=None):
    """After a session through a rule set: its forwarding rules (those that take @in_port's frames, if given)
    must have counted packets, or the rule set did not move the frames: a failure under @key."""
    if not getattr(sut, "flows", None):
        return
    try:
        n = sut.rule_packets(in_port)
        log("    rules that forward%s counted %d packets" % (" from p0" if in_port else "", n))
        if n == 0:
            raise BenchError("the rule set's forwarding rules%s counted no packet" % (
                " that take p0's frames" if in_port else ""))
    except Exception as e:  # noqa: BLE001
        res.fail(key, "%s; switch: %s" % (e, sut.diag()), rnd)


def start_sut_or_fail(ctx, res, system, tag, keys, rnd, before):
    """A fresh switch for a session; None when it would not start: every sample of @keys failed, its processes
    (those not in @before) closed."""
    try:
        return start_sut(ctx, system, tag)
    except Exception as e:  # noqa: BLE001
        close_new(before)
        for key in keys:
            res.fail(key, "start: %s" % e, rnd)
        return None


def session(ctx, res, system, ring, rnd, sizes, flows_n=None):
    """One configuration, from a fresh switch: testpmd throughput for each size, then vsw-bench (not with
    @flows_n: flowgen with that many flows, throughput only)."""
    args = ctx.args
    tag = ctx.next_tag()
    ring_key = ring if system != "kernel" else "tap"
    log("  [round %d] %-6s %-6s%s" % (rnd, system, ring_key, "" if flows_n is None else "  %d flows" % flows_n))
    before = live_children()
    sut = start_sut_or_fail(ctx, res, system, tag, [tput_key(system, ring_key, s, flows_n) for s in sizes], rnd,
                            before)
    if sut is None:
        return
    try:
        gen = None
        before_gen = live_children()
        try:
            if system == "kernel":
                gen = Generator(ctx, tag, taps=sut.taps, netns=ctx.netns, flows_n=flows_n)
                sut.attach()
                time.sleep(0.3)
            elif args.gen == "vsw-bench" and flows_n is None:
                gen = VswBenchGen(ctx, tag, ring)
            else:
                gen = Generator(ctx, tag, socks=sut.socks, ring=ring, server=sut.gen_server, flows_n=flows_n)
        except Exception as e:  # noqa: BLE001
            close_new(before_gen)
            gen = None
            for s in sizes:
                res.fail(tput_key(system, ring_key, s, flows_n), "generator: %s" % e, rnd)
        if gen:
            # The bridge twice: in the sending system call's context (CPU 1), then steered to CPU 0 by RPS.
            variants = [(ring_key, None), ("tap-rps", ctx.sut_cpu)] if system == "kernel" else [(ring_key, None)]
            try:
                for rk, rps in variants:
                    if system == "kernel":
                        sut.set_rps(rps)
                    for s in sizes:
                        try:
                            r, best = None, -1.0
                            for attempt in range(1 + args.retries):
                                x = gen.measure(s, args.warmup, args.seconds, sut=sut)
                                q = min(x.get("sut_cpu_share", 1.0), x["gen_cpu_share"])
                                x["attempts"] = attempt + 1
                                if q > best:
                                    r, best = x, q
                                if q >= 0.9:
                                    break
                                log("    %-7s %4d B  %7.3f Mpps  disturbed (switch got %s, generator %.0f%%): again" % (
                                    rk, s, x["mpps"], "%.0f%%" % (100 * x["sut_cpu_share"]) if "sut_cpu_share" in x
                                    else "-", 100 * x["gen_cpu_share"]))
                            res.add(tput_key(system, rk, s, flows_n), r, rnd)
                            if r.get("cycles_error"):
                                res.fail(("cycles", system, rk, s) if flows_n is None else
                                         ("fcycles", system, rk, s, flows_n), r["cycles_error"], rnd)
                            log(("    %-7s %4d B  %7.3f Mpps  gen busy %3.0f%%  CPU got: switch %s, "
                                 "generator %3.0f%%%s") % (
                                rk, s, r["mpps"], 100 * r.get("gen_busy", 0),
                                "%3.0f%%" % (100 * r["sut_cpu_share"]) if "sut_cpu_share" in r else "  - ",
                                100 * r["gen_cpu_share"], cycles_note(r)))
                        except Exception as e:  # noqa: BLE001
                            res.fail(tput_key(system, rk, s, flows_n), "%s; switch: %s" % (e, sut.diag()), rnd)
                            if not gen.alive():
                                break
            finally:
                gen.close()
        check_rules(sut, res, ("rules", system, ring_key, 0) + (() if flows_n is None else (flows_n,)), rnd)
        if system == "kernel" or flows_n is not None:
            return
        if args.pingpong:
            try:
                r = vsw_bench(ctx, sut.socks, ring, sut.gen_server, 64, pingpong=args.pingpong)
                res.add(("lat", system, ring, 64), r, rnd)
                log("    ping-pong 64 B  p50 %.2f us  p99 %.2f us  p99.9 %.2f us" % (
                    r["p50_us"], r["p99_us"], r["p999_us"]))
            except Exception as e:  # noqa: BLE001
                res.fail(("lat", system, ring, 64), str(e), rnd)
        if args.pingpong_sparse:
            try:
                r = vsw_bench(ctx, sut.socks, ring, sut.gen_server, 64, pingpong=args.pingpong_sparse,
                              gap_us=args.pingpong_gap)
                res.add(("lat_sparse", system, ring, 64), r, rnd)
                log("    ping-pong 64 B, one every %d us  p50 %.2f us  p99 %.2f us  p99.9 %.2f us" % (
                    args.pingpong_gap, r["p50_us"], r["p99_us"], r["p999_us"]))
            except Exception as e:  # noqa: BLE001
                res.fail(("lat_sparse", system, ring, 64), str(e), rnd)
        if args.bench_seconds:
            for s in sizes:
                try:
                    r = vsw_bench(ctx, sut.socks, ring, sut.gen_server, s, seconds=args.bench_seconds)
                    res.add(("vbtput", system, ring, s), r, rnd)
                    log("    vsw-bench %4d B  rx %7.3f Mpps  lost %d" % (s, r["mpps"], r["lost"]))
                except Exception as e:  # noqa: BLE001
                    res.fail(("vbtput", system, ring, s), str(e), rnd)
    finally:
        sut.close()
        close_new(before)


# ---------------------------------------------------------------- flow tables with vsw-bench (issue 14)

def wait_traffic(sut, proc, timeout):
    """Until the switch's frame counter moved by more than a thousand frames (vsw-bench connected and
    started sending), or BenchError: vsw-bench exited or nothing came within @timeout seconds."""
    f0 = sut.cycles_counters()["frames"]
    deadline = time.monotonic() + timeout
    while sut.cycles_counters()["frames"] - f0 <= 1000:
        if not proc.alive():
            raise BenchError("vsw-bench exited (%s) before it sent: %s" % (proc.p.poll(), proc.tail(400)))
        if time.monotonic() > deadline:
            raise BenchError("no traffic through the switch within %d s of vsw-bench's start" % timeout)
        time.sleep(0.05)


def vsw_bench_sample(ctx, sut, ring, size, flows_n, tag, in_flight=None):
    """One sample: vsw-bench --dst-flows @flows_n (None: one flow, the mac loop's frames), A -> switch -> B,
    frames of @size bytes (with FCS); with @in_flight, at most that many frames sent and not yet received.

    The rate is what B received in vsw-bench's counted window (after
    --warmup seconds of lead-in: the first pass over the flows fills the
    caches).  The switch's counters are read inside that window: once its
    frame counter shows the traffic, after the lead-in and before the end.
    """
    a = ctx.args
    seconds, lead_in = max(1, int(round(a.seconds))), max(1, int(math.ceil(a.warmup)))
    argv = ["taskset", "-c", ctx.gen_cpu, os.path.join(ctx.bin, "vsw-bench"), "--a", sut.socks[0], "--b",
            sut.socks[1], "--size", size - 4, "--seconds", seconds, "--lead-in", lead_in,
            "--queue-size", a.queue_size, "--json"]
    if flows_n is not None:
        argv += ["--dst-flows", flows_n]
    if in_flight:
        argv += ["--in-flight", in_flight]
    if ring == "packed":
        argv.append("--packed")
    if sut.gen_server:
        argv.append("--server")
    counted = hasattr(sut, "cycles_counters")
    k0 = k1 = cycles_error = None
    pids = {"sut": sut.pid} if sut.pid else {}
    proc = Proc([str(x) for x in argv], ctx.logpath("vsw-bench-%s-" % ("flows" if flows_n else "loop") + tag),
                name="vsw-bench")
    try:
        pids["gen"] = proc.pid
        try:
            wait_traffic(sut, proc, 30)
        except Exception as e:  # noqa: BLE001
            if not proc.alive():
                raise
            cycles_error = "the switch's counters: %s" % e      # the rate is still measured
            counted = False
        # Inside the counted window: from 0.15 s after it starts to 0.25 s before it ends.
        time.sleep(lead_in + 0.15)
        p0, tp0 = {k: proc_cpu_seconds(v) for k, v in pids.items()}, time.monotonic()
        try:
            k0 = sut.cycles_counters() if counted else None
        except Exception as e:  # noqa: BLE001
            cycles_error = "reading the switch's counters: %s" % e
        time.sleep(max(0.3, seconds - 0.4))
        try:
            k1 = sut.cycles_counters() if k0 else None
        except Exception as e:  # noqa: BLE001
            cycles_error = "reading the switch's counters: %s" % e
        p1, tp1 = {k: proc_cpu_seconds(v) for k, v in pids.items()}, time.monotonic()
        rc = proc.wait(seconds + 30)
        out = proc.tail(1 << 16)
    finally:
        proc.close()
    line = next((x for x in reversed(out.splitlines()) if x.startswith("{")), None)
    if rc != 0 or not line:
        raise BenchError("vsw-bench exit %s: %s" % (rc, out.strip()[-400:]))
    res = json.loads(line)
    res["buffer_bytes"] = res.pop("size", None)
    res.update({"size": size, "flows_n": flows_n, "generator": "vsw-bench", "mpps": res["rx_mpps"],
                "gen_busy": res["busy_share"], "gen_cycles_per_frame": res["cycles_per_rx"],
                "gen_full_share": res["tx_full_share"], "tsc_hz": res["tsc_hz"], "gen_in_flight": in_flight,
                "gen_ceiling_mpps": res["tsc_hz"] / res["cycles_per_rx"] / 1e6 if res["cycles_per_rx"] else None,
                "tsc_hz_source": "vsw-bench cycles_calibrate", "gbps": res["rx_gbps"] * size / (size - 4),
                "lost_share": res["lost"] / res["tx_all"] if res["tx_all"] else None})
    # The share of a CPU our busy-polling processes got: below 1, something else ran there.
    for k in pids:
        if p0.get(k) is not None and p1.get(k) is not None:
            res[k + "_cpu_share"] = (p1[k] - p0[k]) / (tp1 - tp0)
    if k0 and k1:
        dt = k1["t"] - k0["t"]
        try:
            # The switch's frames against what B received at vsw-bench's rate over the switch's window.
            res.update(switch_cycles(sut, k0, k1, res["tsc_hz"], res["rx_mpps"] * 1e6 * dt))
        except Exception as e:  # noqa: BLE001
            cycles_error = str(e)
        cycles_error = res.pop("cycles_error", None) or cycles_error
    if cycles_error:
        res["cycles_error"] = cycles_error
    if res["rx"] < 1000 * res["seconds"]:
        raise BenchError("no traffic: B received %d frames in %.1f s (A sent %d)" % (
            res["rx"], res["seconds"], res["tx"]))
    return res


class VswBenchGen:
    """--gen vsw-bench: vsw-bench as the mac loop's generator, A -> switch -> B in one direction, with at most
    --txfirst x 32 frames in flight (--in-flight: a closed loop, as testpmd's tx_first makes one), through
    fixed buffers.  One vsw-bench run per sample; the same measure() as Generator's."""

    def __init__(self, ctx, tag, ring):
        self.ctx, self.tag, self.ring, self.n = ctx, tag, ring, 0

    def measure(self, size, warmup, seconds, sut=None):
        self.n += 1
        return vsw_bench_sample(self.ctx, sut, self.ring, size, None, "%s-%d" % (self.tag, self.n),
                               in_flight=32 * self.ctx.args.txfirst)

    def alive(self):
        return True     # a process per sample: nothing outlives a failed one

    def close(self):
        pass


def vsw_bench_flow_session(ctx, res, system, ring, rnd, sizes, flows_n):
    """One configuration and number of flows with vsw-bench, from a fresh switch: each size, then the rule
    counters (the p0 -> p1 rules only: A on p0 sends, B on p1 only receives)."""
    args = ctx.args
    tag = ctx.next_tag()
    log("  [round %d] %-6s %-6s  %d flows, vsw-bench" % (rnd, system, ring, flows_n))
    before = live_children()
    sut = start_sut_or_fail(ctx, res, system, tag, [tput_key(system, ring, s, flows_n, "vsw-bench") for s in sizes],
                            rnd, before)
    if sut is None:
        return
    try:
        for s in sizes:
            key = tput_key(system, ring, s, flows_n, "vsw-bench")
            try:
                r, best = None, -1.0
                for attempt in range(1 + args.retries):
                    x = vsw_bench_sample(ctx, sut, ring, s, flows_n, "%s-%d" % (tag, attempt))
                    q = min(x.get("sut_cpu_share", 1.0), x.get("gen_cpu_share", 1.0))
                    x["attempts"] = attempt + 1
                    if q > best:
                        r, best = x, q
                    if q >= 0.9 or attempt == args.retries:
                        break
                    got = ["%.0f%%" % (100 * x[k]) if k in x else "-" for k in ("sut_cpu_share", "gen_cpu_share")]
                    log("    %4d B  %7.3f Mpps  disturbed (switch got %s, generator %s): again" % (
                        s, x["mpps"], got[0], got[1]))
                res.add(key, r, rnd)
                if r.get("cycles_error"):
                    res.fail(("vfcycles", system, ring, s, flows_n), r["cycles_error"], rnd)
                log("    %4d B  %7.3f Mpps B received  lost %.4f  gen busy %3.0f%% (%.0f cycles/frame, A's ring "
                    "full %3.0f%%)  CPU got: switch %s%s" % (
                        s, r["mpps"], r["lost_share"] or 0, 100 * r["gen_busy"], r["gen_cycles_per_frame"],
                        100 * r["gen_full_share"],
                        "%3.0f%%" % (100 * r["sut_cpu_share"]) if "sut_cpu_share" in r else "  - ", cycles_note(r)))
            except Exception as e:  # noqa: BLE001
                res.fail(key, "%s; switch: %s" % (e, sut.diag()), rnd)
        check_rules(sut, res, ("vrules", system, ring, 0, flows_n), rnd, in_port=getattr(sut, "P0_NAMES", None))
    finally:
        sut.close()
        close_new(before)


def idle_phase(ctx, res, seconds):
    """vswd in event-driven mode with both ports connected and quiet: CPU time over @seconds."""
    log("  idle vswd (busy_poll false), %g s" % seconds)
    tag = ctx.next_tag()
    before = live_children()
    try:
        sut = VswSut(ctx, tag, busy_poll=False)
    except Exception as e:  # noqa: BLE001
        close_new(before)
        res.fail(("idle", "vsw", "split", 0), str(e), 0)
        return
    try:
        gen = Generator(ctx, tag, socks=sut.socks, ring="split")
        try:
            gen.idle_connected()
            time.sleep(1.0)
            w0 = sut.stats()["workers"][0]
            t0, c0 = time.monotonic(), proc_cpu_seconds(sut.pid)
            time.sleep(seconds)
            t1, c1 = time.monotonic(), proc_cpu_seconds(sut.pid)
            w1 = sut.stats()["workers"][0]
            r = {"seconds": t1 - t0, "cpu_seconds": c1 - c0, "pct": 100 * (c1 - c0) / (t1 - t0),
                 "wakeups_per_s": (w1["sleeps"] - w0["sleeps"]) / (t1 - t0),
                 "frames": w1["frames"] - w0["frames"], "clk_tck": os.sysconf("SC_CLK_TCK")}
            res.add(("idle", "vsw", "split", 0), r, 0)
            log("    vswd idle: %.2f %% of a core (%.2f s CPU in %.1f s), %.1f wake-ups/s" % (
                r["pct"], r["cpu_seconds"], r["seconds"], r["wakeups_per_s"]))
        finally:
            gen.close()
    except Exception as e:  # noqa: BLE001
        res.fail(("idle", "vsw", "split", 0), str(e), 0)
    finally:
        sut.close()
        close_new(before)


def perf_phase(ctx, seconds):
    """perf record of vswd (busy polling) forwarding 64-byte frames on split rings; prints the top symbols."""
    if not shutil.which("perf"):
        log("  perf: not installed")
        return None
    log("  perf record of vswd, 64 B split, %g s" % seconds)
    tag = ctx.next_tag()
    out = None
    before = live_children()
    try:
        sut = VswSut(ctx, tag)
    except Exception as e:  # noqa: BLE001
        close_new(before)
        log("  perf: %s" % e)
        return None
    try:
        gen = Generator(ctx, tag, socks=sut.socks, ring="split")
        try:
            gen.tp.cmd_ok("set txpkts 60")
            gen.tp.cmd("start tx_first %d" % ctx.args.txfirst)
            time.sleep(1)
            data = ctx.path("perf.data")
            run(["perf", "record", "-q", "-F", "2999", "-g", "-p", sut.pid, "-o", data, "--", "sleep", seconds],
                timeout=seconds + 60, check=False)
            gen.tp.cmd("stop")
            r = run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "symbol",
                     "--percent-limit", "1", "-g", "none"], timeout=120, check=False)
            out = "\n".join(re.sub(r"(\s+-)+\s*$", "", x) for x in r.stdout.splitlines()
                            if x.strip() and not x.startswith("#"))
            log(out)
        finally:
            gen.close()
    except Exception as e:  # noqa: BLE001
        log("  perf: %s" % e)
    finally:
        sut.close()
        close_new(before)
    return out


# ---------------------------------------------------------------- statistics and report


def fmt_spread(xs, prec=2):
    if not xs:
        return None
    f = "%%.%df" % prec
    if len(xs) == 1:
        return f % xs[0]
    return (f + " (" + f + "–" + f + ")") % (med(xs), min(xs), max(xs))


def values(res, key, field="mpps"):
    return [s[field] for s in res.samples.get(key, []) if s.get(field) is not None]


def paired_ratios(res, key_a, key_b, field="mpps"):
    """Per-round ratios a/b over the rounds where both have a sample."""
    a = {s["round"]: s[field] for s in res.samples.get(key_a, []) if s.get(field) is not None}
    b = {s["round"]: s[field] for s in res.samples.get(key_b, []) if s.get(field) is not None}
    return [a[r] / b[r] for r in sorted(a) if r in b and b[r]]


def ratio_cell(res, key_a, key_b, field="mpps"):
    va, vb = values(res, key_a, field), values(res, key_b, field)
    if not va or not vb:
        return None, "—"
    r = med(va) / med(vb)
    pr = paired_ratios(res, key_a, key_b, field)
    if len(pr) > 1:
        return r, "%.2fx (%.2f–%.2f)" % (r, min(pr), max(pr))
    return r, "%.2fx" % r


def cell(res, key, field="mpps", prec=2):
    xs = values(res, key, field)
    if xs:
        s = fmt_spread(xs, prec)
        nf = len(res.failures.get(key, []))
        return s + (" [%d failed]" % nf if nf else "")
    if key in res.failures:
        return "FAILED"
    return "—"


def preliminary_note(res, meta, quiet_load):
    """Why these figures are not from a quiet machine, or None."""
    tput = [x for k, v in res.samples.items() if k[0] in ("tput", "ftput", "vftput") for x in v]
    disturbed = sum(1 for x in tput if x.get("sut_cpu_share", 1) < 0.9 or x.get("gen_cpu_share", 1) < 0.9)
    why = []
    if meta["load_before"][0] > quiet_load:
        why.append("the 1-minute load average was %.2f when the run started (other work on the machine), "
                   "above %.1f" % (meta["load_before"][0], quiet_load))
    if tput and disturbed > 0.1 * len(tput):
        why.append("in %d of %d throughput samples the switch or the generator got less than 90 %% of its CPU"
                   % (disturbed, len(tput)))
    if not why:
        return None
    note = "; ".join(why)
    if len(why) == 1 and tput and disturbed <= 0.1 * len(tput):
        note += "; the switch and the generator still got at least 90 %% of their CPUs in %d of %d throughput " \
            "samples" % (len(tput) - disturbed, len(tput))
    return note + ".  Repeat on a quiet machine."


CYCLE_FIELDS = (("busy", "sut_busy_cpf"), ("cpu_time", "sut_cpu_cpf"))


def cycles_cell(res, system, ring, size, field):
    """One system's cycles per frame in the report: median (min–max), or why there is none."""
    key = ("tput", system, ring, size)
    xs = values(res, key, field)
    if xs:
        nf = len(res.failures.get(("cycles", system, ring, size), []))
        return fmt_spread(xs, 0) + (" [%d failed]" % nf if nf else "")
    if ("cycles", system, ring, size) in res.failures or key in res.failures:
        return "FAILED"
    missing = sorted(set(x["sut_busy_missing"] for x in res.samples.get(key, []) if x.get("sut_busy_missing")))
    if missing:
        return "n/a: " + "; ".join("vswd too old" if m == VSW_TOO_OLD else m for m in missing)
    return "—"


def cycles_summary(res, a):
    """The cycles-per-frame table as data (the JSON output's "cycles_per_frame"): per frame size and ring,
    each switch's busy and CPU-time cycles per frame (median, min, max, samples, method), vsw's ratios."""
    systems = [x for x in a.only if x in VHOST_SYSTEMS]
    rows = []
    for size in a.sizes:
        for ring in a.rings:
            row = {"size": size, "ring": ring}
            for name, field in CYCLE_FIELDS:
                per = {}
                for sysn in systems:
                    ss = [x for x in res.samples.get(("tput", sysn, ring, size), []) if x.get(field) is not None]
                    if ss:
                        xs = [x[field] for x in ss]
                        per[sysn] = {"median": med(xs), "min": min(xs), "max": max(xs), "samples": len(xs),
                                     "method": ss[0].get("sut_busy_method") if name == "busy" else
                                     "CPU time of %s x TSC Hz" % ",".join(ss[0].get("sut_fwd_threads", []))}
                    else:
                        why = [x.get("sut_busy_missing") for x in res.samples.get(("tput", sysn, ring, size), [])]
                        fails = res.failures.get(("cycles", sysn, ring, size), [])
                        per[sysn] = {"missing": next((w for w in why if w), None) or
                                     (fails[0] if fails else "no sample")}
                row[name] = per
                if "vsw" in systems:
                    for p in systems:
                        if p != "vsw":
                            r, _ = ratio_cell(res, ("tput", "vsw", ring, size), ("tput", p, ring, size), field)
                            row.setdefault(name + "_ratio", {})["vsw/" + p] = r
            rows.append(row)
    return rows


def cycles_report(res, a):
    """Markdown: the switch side's cycles per frame, busy and CPU time, with vsw's ratios."""
    systems = [x for x in a.only if x in VHOST_SYSTEMS]
    if not systems:
        return []
    L = ["#### Cycles per frame, switch side: busy cycles and CPU time per forwarded frame, median (min–max)", ""]
    L.append("What the switch spends per frame, whatever rate the generator reached: at 64 B the generator sets "
             "the pace, so Mpps alone does not rank the switches; cycles per frame do, with one caveat: a switch "
             "that keeps up with the generator polls smaller batches, so its cycles a frame then overstate what "
             "a frame costs it.  *Busy*: TSC cycles of "
             "the forwarding thread's polls that moved frames (each switch's own counter) ÷ frames it took in "
             "during the window.  *CPU time*: utime+stime of the forwarding thread (/proc/PID/task/TID/stat) "
             "× TSC Hz ÷ the same frames: every cycle the thread ran, empty polls too, none it was preempted "
             "for (the busy counters read the TSC, so a poll that lost its CPU counts the time it waited: on a "
             "disturbed run busy can exceed CPU time).  Fewer is better: a ratio below 1 means vsw spends "
             "fewer cycles per frame.")
    L.append("")
    peers = [x for x in systems if x != "vsw"]
    for title, field in (("busy", "sut_busy_cpf"), ("CPU time", "sut_cpu_cpf")):
        hdr = ["frame", "ring"] + ["%s (%s)" % (LABEL[x], title) for x in systems]
        if "vsw" in systems:
            hdr += ["vsw ÷ %s" % SHORT[p] for p in peers]
        L.append("| " + " | ".join(hdr) + " |")
        L.append("|" + "---|" * len(hdr))
        for size in a.sizes:
            for ring in a.rings:
                row = ["%d B" % size, ring] + [cycles_cell(res, x, ring, size, field) for x in systems]
                if "vsw" in systems:
                    row += [ratio_cell(res, ("tput", "vsw", ring, size), ("tput", p, ring, size), field)[1]
                            for p in peers]
                L.append("| " + " | ".join(row).replace("\n", " ") + " |")
        L.append("")
    src = []
    for sysn in systems:
        ss = [x for k, v in res.samples.items() if k[0] == "tput" and k[1] == sysn for x in v]
        meth = next((x["sut_busy_method"] for x in ss if x.get("sut_busy_method")), None)
        busy_ok = meth is not None
        meth = meth or next((x["sut_busy_missing"] for x in ss if x.get("sut_busy_missing")), "not read")
        thr = next((x["sut_fwd_threads"] for x in ss if x.get("sut_fwd_threads")), None)
        share = [x["sut_busy_share"] for x in ss if x.get("sut_busy_share") is not None]
        src.append("%s: %s%s; CPU time of thread(s) %s" % (
            LABEL[sysn], ("busy from " + meth) if busy_ok else "no busy figure (%s)" % meth,
            ", busy %.0f %% of the window (median)" % (100 * med(share)) if share else "",
            ", ".join("`%s`" % t for t in thr) if thr else "—"))
    hz = [(x["tsc_hz"], x.get("tsc_hz_source")) for v in res.samples.values() for x in v if x.get("tsc_hz")]
    L.append("Sources: " + "; ".join(src) + "." + (
        "  TSC: %.0f MHz (%s)." % (hz[0][0] / 1e6, hz[0][1]) if hz else ""))
    L.append("")
    return L


def machine_lines(meta):
    """The machine, the load around the run, and why the figures are preliminary (if they are)."""
    m = meta["machine"]
    L = ["Machine: %s, %d CPUs, %d GiB, %s (systemd-detect-virt: %s), Debian %s, kernel %s; DPDK %s, "
         "Open vSwitch %s.  1-minute load average %.2f before the run, %.2f after (the benchmark itself keeps "
         "two CPUs busy)." % (
             m["cpu"], m["cpus"], m["mem_gib"],
             "virtual machine (hypervisor CPU flag)" if m.get("hypervisor") else "no hypervisor CPU flag",
             m["virt"] or "?", m["debian"], m["kernel"], m["dpdk"], m["ovs"], meta["load_before"][0],
             meta["load_after"][0])]
    if meta.get("load_during"):
        L[-1] += "  At the start of each session: %.2f (median), %.2f–%.2f." % (
            meta["load_during"][1], meta["load_during"][0], meta["load_during"][2])
    if meta.get("preliminary"):
        L.append("")
        L.append("**Preliminary:** %s" % meta["preliminary"])
    L.append("")
    return L


def build_report(ctx, res, meta):
    a = ctx.args
    meta["preliminary"] = preliminary_note(res, meta, getattr(a, "quiet_load", 1.5))
    systems = a.only
    L = []
    sz = a.sizes
    rings = a.rings
    vb = getattr(a, "gen", "testpmd") == "vsw-bench"
    L.append("Measured %s with `%s`; %d round(s), %g s windows after %g s warm-up; %s, rings of %d descriptors." % (
        meta["date"], meta["command"], a.samples, a.seconds, a.warmup,
        ("vsw-bench A -> B through fixed buffers, at most %d frames in flight (`--in-flight`)" % (32 * a.txfirst))
        if vb else ("testpmd `start tx_first %d` (%d frames in flight per direction)" % (a.txfirst, 32 * a.txfirst)),
        getattr(a, "queue_size", 256)))
    L.extend(machine_lines(meta))

    # throughput
    L.append("#### Throughput: vsw-bench generator, Mpps B received (one direction), median (min–max)" if vb else
             "#### Throughput: testpmd generator, Mpps forwarded (both directions), median (min–max)")
    L.append("")
    hdr = ["frame", "ring"] + [LABEL[s] for s in systems]
    peers = [s for s in systems if s != "vsw"]
    if "vsw" in systems:
        hdr += ["vsw ÷ %s" % SHORT[p] for p in peers]
    L.append("| " + " | ".join(hdr) + " |")
    L.append("|" + "---|" * len(hdr))
    for s in sz:
        for ring in rings:
            row = ["%d B" % s, ring]
            for sysn in systems:
                rk = "tap" if sysn == "kernel" else ring
                row.append(cell(res, ("tput", sysn, rk, s)))
            if "vsw" in systems:
                for p in peers:
                    rk = "tap" if p == "kernel" else ring
                    row.append(ratio_cell(res, ("tput", "vsw", ring, s), ("tput", p, rk, s))[1])
            L.append("| " + " | ".join(row) + " |")
    if "kernel" in systems:
        L.append("")
        rps = ", ".join("%d B %s Mpps" % (s, cell(res, ("tput", "kernel", "tap-rps", s))) for s in sz)
        L.append("The Linux bridge has no virtio ring: its figure (tap ports) stands in both rows.  It is the "
                 "bridge running in the generator's `write()` on CPU 1, Linux's default; with the taps' receive "
                 "packet steering sending the bridge to CPU 0 (`rps_cpus`, so that it has the switch's CPU to "
                 "itself), the same sessions gave %s." % rps)
    L.append("")

    # generator headroom
    L.append("#### Is the generator the bottleneck?")
    L.append("")
    L.append(("vsw-bench counts the cycles of its loop's rounds that moved a frame. " if vb else
              "testpmd's `--record-core-cycles` counts the generator's cycles in polls that found frames. ") +
             "*busy* = those cycles ÷ all cycles of the window; *ceiling* = the rate the generator would reach "
             "if it never polled an empty ring (CPU Hz ÷ busy cycles per frame).  A busy share near 100 %% means "
             "the generator, not the switch, set the pace (flagged ⚠ above %d %%)." % (100 * GEN_BUSY_LIMIT))
    L.append("")
    L.append("| frame | ring | " + " | ".join("%s: busy, ceiling Mpps" % SHORT[x] for x in systems) + " |")
    L.append("|---|---|" + "---|" * len(systems))
    for s in sz:
        for ring in rings:
            row = ["%d B" % s, ring]
            for sysn in systems:
                rk = "tap" if sysn == "kernel" else ring
                key = ("tput", sysn, rk, s)
                b, c = values(res, key, "gen_busy"), values(res, key, "gen_ceiling_mpps")
                if b:
                    flag = " ⚠" if med(b) > GEN_BUSY_LIMIT else ""
                    row.append("%.0f %%%s, %.2f" % (100 * med(b), flag, med(c) if c else float("nan")))
                else:
                    row.append("—")
            L.append("| " + " | ".join(row) + " |")
    L.append("")
    # disturbance: the CPU share our own processes got during the windows
    L.append("CPU time the processes got during the windows (utime+stime from /proc/PID/stat ÷ window; a "
             "busy-polling process alone on its CPU gets 100 %%), median (min), and the samples in which the "
             "switch or the generator got less than 90 %% (something else ran on its CPU) even after "
             "%d repeat(s) of the window:" % a.retries)
    L.append("")
    L.append("| system | switch | generator | disturbed samples |")
    L.append("|---|---|---|---|")
    for sysn in systems:
        ss = [x for ring in (["tap", "tap-rps"] if sysn == "kernel" else rings) for s in sz
              for x in res.samples.get(("tput", sysn, ring, s), [])]
        if not ss:
            continue
        sut = [x["sut_cpu_share"] for x in ss if "sut_cpu_share" in x]
        gen = [x["gen_cpu_share"] for x in ss if "gen_cpu_share" in x]
        bad = sum(1 for x in ss if x.get("sut_cpu_share", 1) < 0.9 or x.get("gen_cpu_share", 1) < 0.9)
        L.append("| %s | %s | %s | %d of %d |" % (
            LABEL[sysn], "%.0f %% (%.0f %%)" % (100 * med(sut), 100 * min(sut)) if sut else "kernel",
            "%.0f %% (%.0f %%)" % (100 * med(gen), 100 * min(gen)) if gen else "—", bad, len(ss)))
    L.append("")
    if "kernel" in systems:
        kl = []
        for rk in ("tap", "tap-rps"):
            c0 = [x["cpu_busy"].get("0", 0) for s in sz for x in res.samples.get(("tput", "kernel", rk, s), [])]
            if c0:
                kl.append("%s CPU 0 %.0f %% busy" % ("bridge in the sender's context:" if rk == "tap"
                                                      else "with RPS to CPU 0:", 100 * med(c0)))
        if kl:
            L.append("For the bridge, /proc/stat (all processes, median): %s." % "; ".join(kl))
            L.append("")

    L.extend(cycles_report(res, a))

    # latency
    lat_sys = [x for x in systems if x != "kernel"]

    def lat_table(kind, title, after):
        L.extend([title, "", "| system | ring | p50 | p99 | p99.9 |", "|---|---|---|---|---|"])
        for sysn in lat_sys:
            for ring in rings:
                key = (kind, sysn, ring, 64)
                L.append("| %s | %s | %s | %s | %s |" % (LABEL[sysn], ring, cell(res, key, "p50_us"),
                                                         cell(res, key, "p99_us"), cell(res, key, "p999_us")))
        L.extend(["", after, ""])

    if a.pingpong and lat_sys:
        lat_table("lat", "#### Round trip: vsw-bench ping-pong, 64 B, %d pings per sample; µs, median over samples "
                  "(min–max)" % a.pingpong,
                  "Each sample is a new vsw-bench connection; its first %d rounds (every buffer of both "
                  "rings used twice) are not counted: until then the back end may be taking first-touch page "
                  "faults on the new guest memory (vswd and DPDK map it on demand)." % PINGPONG_WARMUP)
    if getattr(a, "pingpong_sparse", 0) and lat_sys:
        lat_table("lat_sparse", "#### Round trip, sparse: vsw-bench ping-pong, 64 B, one ping every %d µs after the "
                  "last answer, %d pings per sample; µs, median over samples (min–max)" % (a.pingpong_gap,
                                                                                          a.pingpong_sparse),
                  "A request stream with the ports idle in between (vsw-bench sleeps --gap µs before each ping): "
                  "what a switch that stops polling idle ports, or asks its peers to kick, adds to each request.")
    if (a.pingpong or getattr(a, "pingpong_sparse", 0)) and lat_sys and "kernel" in systems:
        L.append("vsw-bench speaks vhost-user only: no round trip for the Linux bridge.")
        L.append("")

    # vsw-bench throughput
    if a.bench_seconds and lat_sys:
        L.append("#### Second opinion: vsw-bench throughput, A → B only, Mpps received, median (min–max)")
        L.append("")
        L.append("One thread on CPU 1 sends on A and receives on B (%d s per sample); it is slower than testpmd, "
                 "so these figures bound the switch from below." % a.bench_seconds)
        L.append("")
        hdr = ["frame", "ring"] + [LABEL[x] for x in lat_sys]
        vpeers = [x for x in lat_sys if x != "vsw"]
        if "vsw" in lat_sys:
            hdr += ["vsw ÷ %s" % SHORT[p] for p in vpeers]
        L.append("| " + " | ".join(hdr) + " |")
        L.append("|" + "---|" * len(hdr))
        for s in sz:
            for ring in rings:
                row = ["%d B" % s, ring] + [cell(res, ("vbtput", x, ring, s)) for x in lat_sys]
                if "vsw" in lat_sys:
                    row += [ratio_cell(res, ("vbtput", "vsw", ring, s), ("vbtput", p, ring, s))[1] for p in vpeers]
                L.append("| " + " | ".join(row) + " |")
        L.append("")

    # idle
    idle = res.samples.get(("idle", "vsw", "split", 0))
    if idle:
        i = idle[0]
        L.append("#### Idle")
        L.append("")
        L.append("vswd event-driven (`busy_poll` false), both ports connected to testpmd and quiet, %.0f s: "
                 "**%.2f %% of a core** (%.2f s of utime+stime from /proc/PID/stat, %d ticks/s), "
                 "%.1f worker wake-ups/s." % (i["seconds"], i["pct"], i["cpu_seconds"], i["clk_tck"],
                                              i["wakeups_per_s"]))
        L.append("")
    elif ("idle", "vsw", "split", 0) in res.failures:
        L.append("#### Idle")
        L.append("")
        L.append("FAILED: " + "; ".join(res.failures[("idle", "vsw", "split", 0)]))
        L.append("")

    if meta.get("perf"):
        L.append("#### Where vswd spends its time")
        L.append("")
        L.append("`perf record -g` of vswd (busy polling, split rings, 64 B frames from the generator), self time "
                 "per symbol, entries of 1 % or more (`--perf`):")
        L.append("")
        L.append("```")
        L.extend(line.rstrip() for line in meta["perf"].splitlines())
        L.append("```")
        L.append("")

    # targets
    t = targets(res, a)
    if t:
        L.append("#### Targets (issue 4%s)" % (", issue 14" if "vsw-normal" in a.only else ""))
        L.append("")
        L.append("| target | measured | |")
        L.append("|---|---|---|")
        for name, measured, ok in t:
            L.append("| %s | %s | %s |" % (name, measured, "met" if ok else ("**missed**" if ok is False
                                                                            else "not measured")))
        L.append("")

    # failures
    if res.failures:
        L.append("#### Failures")
        L.append("")
        for key in sorted(res.failures, key=str):
            msgs = res.failures[key]
            first = msgs[0].splitlines()[0][:400]
            L.append("- %s%s %s %s: %d of %d samples failed; first: %s" % (
                "cycles per frame, " if key[0] == "cycles" else "", key[1], key[2],
                ("%d B" % key[3]) if key[3] else "", len(msgs), len(msgs) + len(res.samples.get(key, [])),
                first.replace("|", "\\|")))
        L.append("")
    return "\n".join(L)


def targets(res, a):
    t = []
    if "vsw" not in a.only:
        return t
    for ring in a.rings:
        if "dpdk" in a.only and 64 in a.sizes:
            r, txt = ratio_cell(res, ("tput", "vsw", ring, 64), ("tput", "dpdk", ring, 64))
            t.append(("64 B %s: vsw ≥ 1.3x DPDK io-fwd" % ring, txt, None if r is None else r >= 1.3))
        if "ovs" in a.only and 64 in a.sizes:
            r, txt = ratio_cell(res, ("tput", "vsw", ring, 64), ("tput", "ovs", ring, 64))
            t.append(("64 B %s: vsw ≥ 2x OVS-DPDK" % ring, txt, None if r is None else r >= 2.0))
        if "dpdk" in a.only and 1518 in a.sizes:
            r, txt = ratio_cell(res, ("tput", "vsw", ring, 1518), ("tput", "dpdk", ring, 1518))
            t.append(("1518 B %s: vsw ≥ 1.2x DPDK io-fwd" % ring, txt, None if r is None else r >= 1.2))
        if "dpdk" in a.only and a.pingpong:
            v, d = values(res, ("lat", "vsw", ring, 64), "p50_us"), values(res, ("lat", "dpdk", ring, 64), "p50_us")
            if v and d:
                t.append(("round trip p50 %s: vsw ≤ DPDK" % ring, "%.2f µs vs %.2f µs" % (med(v), med(d)),
                          med(v) <= med(d)))
            else:
                t.append(("round trip p50 %s: vsw ≤ DPDK" % ring, "—", None))
    for ring in a.rings:
        for size in a.sizes:
            if "vsw-normal" in a.only:
                r, txt = ratio_cell(res, ("tput", "vsw-normal", ring, size), ("tput", "vsw", ring, size))
                t.append(("%d B %s: normal-only flow table ≥ 0.95x vsw%s" % (
                    size, ring, " (vsw with --flows: not the learning bridge)" if a.flows else ""), txt,
                    None if r is None or a.flows else r >= 0.95))
    idle = res.samples.get(("idle", "vsw", "split", 0))
    if idle:
        t.append(("idle vswd < 1 % of a core", "%.2f %%" % idle[0]["pct"], idle[0]["pct"] < 1.0))
    elif a.idle_seconds:
        t.append(("idle vswd < 1 % of a core", "—", None))
    return t


SECTION_TEMPLATE = """## Switching

How fast vswd forwards frames between two vhost-user ports, measured next
to the DPDK vhost library with no switching at all (testpmd io forwarding),
Open vSwitch with DPDK and the Linux bridge, in the same run on the same
machine, with the same generator.

### Run it

    make bench          # the ring benchmark, then scripts/bench-switch.py with its defaults
    python3 scripts/bench-switch.py [--samples N] [--seconds S] [--only vsw,dpdk,ovs,kernel]
                                    [--sizes 64,1518] [--rings split,packed] [--quick] [--perf]
                                    [--retries N] [--doc FILE | --no-doc] [--json FILE]
                                    [--from-json FILE] [--keep]      (--help: all options)

It needs root (hugepages, a network namespace, taps) and installs what it
lacks with apt-get (dpdk and its vhost, virtio and tap drivers,
openvswitch-switch-dpdk).  A full run (7 rounds, 3 s windows) takes about
15 minutes and rewrites this section; `--quick` (1 round, 1 s windows,
every mode once) is the smoke test `make check` runs; it writes nothing,
and any failure, a peer's too, fails it.  Two runs never
overlap: a second one waits for the first.  `--json FILE` saves every
sample; `--from-json FILE` prints the tables of a saved run again.  Logs of
every process are kept under /tmp/vsw-bsw-* with `--keep` or when
something failed.  The exit status is 1 when vswd failed to forward in
some sample.

### Set-up

    CPU 0: the switch under test                 CPU 1: the generator
    vswd        1 worker, busy_poll, cpus [0]     dpdk-testpmd, 2 x virtio-user (split or packed,
    testpmd     2 x net_vhost, io forwarding        mrg_rxbuf=1, in_order=1, 256 entries),
    OVS-DPDK    netdev bridge, 2 x                  mac forwarding, port 0 -> port 1 and back,
                dpdkvhostuserclient, PMD on 0       looped through the switch
    bridge      2 taps in a netns (see below)     (bridge: 2 x net_tap in the netns)

- **Pinning.**  vswd runs under `taskset -c 0` with `"cpus":[0]`.  testpmd
  needs a main lcore besides its forwarding lcore: the switch under test
  gets `taskset -c 0 ... --lcores 0@0,1@0 --main-lcore 0`, so both lcores
  (and the EAL's control threads) sit on CPU 0, where the main lcore only
  sleeps in the command-line reader; the generator gets the same on CPU 1
  (`--lcores 0@1,1@1`).  ovs-vswitchd runs under `taskset -c 0` with
  `pmd-cpu-mask=0x1` and `dpdk-lcore-mask=0x1` (`dpdk-extra="--no-pci
  --in-memory"`, `per-port-memory=true`), started by hand with its own
  ovsdb-server in a private directory, not the system service.  The
  Linux bridge has no thread to pin: a frame written to a tap is bridged
  in the writer's system call, here on the generator's CPU 1, which is
  what the table shows; each session then measures again with the taps'
  receive packet steering (`rps_cpus`) sending the bridge's work to CPU 0
  (reported below the table).  Either way the copies into and out of the
  taps are the generator's system calls on CPU 1, so the bridge's figure
  is bounded by the generator (its busy share shows it).  vsw-bench and
  this script run on CPU 1.
- **Forwarding.**  vswd learns the generator's two MAC addresses (each
  port sends to the other's); testpmd io forwarding pairs its ports;
  OVS has the flows `in_port=1,actions=output:2` and `in_port=2,actions=output:1`;
  the bridge learns.  The generator's ports connect as vhost-user clients
  (vswd and testpmd listen); OVS's ports are clients, so there the
  generator listens (`server=1`, `vsw-bench --server`).
- **Frames.**  64 and 1518 bytes are Ethernet frame sizes with the FCS
  (RFC 2544); virtio carries no FCS, so the buffers hold 60 and 1514 bytes
  (`set txpkts 60`, `vsw-bench --size 60`).  Gbit/s in the JSON output
  count 64 or 1518 bytes per frame.
- **Rate.**  `start tx_first 4` puts 4 x 32 frames per direction in the
  loop (2 to 6 bursts gave the same rate for vswd; with 8, a full ring per
  port, DPDK's own virtio-user/vhost pair stalls on packed rings).  After a
  warm-up, the frames the generator received during the window (`show fwd
  stats all` before and after, both ports summed) divided by the window:
  the frames the switch forwarded per second, both directions together.
  After each window the generator drains the rings (rxonly) before the
  next frame size.
- **Generator check.**  The generator runs with `--record-core-cycles`;
  its busy share and ceiling are in the results: a switch that leaves the
  generator mostly polling empty rings is what limits the rate.  vsw-bench
  (one thread, A sends, B receives, no loop) is a second, independent
  opinion on throughput.  For the bridge the generator uses two tap ports
  (`--vdev net_tap0,iface=vswbt0 --vdev net_tap1,iface=vswbt1`, run inside
  the namespace); every frame costs it a `write()` and a `read()`, so there
  the generator is the bottleneck and the figure is what the kernel path
  costs end to end.
- **Cycles per frame (switch side).**  At 64 B the generator sets the
  pace, so Mpps cannot rank the switches; what each switch spends per
  frame can (a switch that keeps up polls smaller batches, so then its
  cycles a frame overstate a frame's cost).  Around each window the script reads the switch's own
  counters and divides the growth of its busy cycles by the growth of the
  frames it took in.  vswd: `vswctl stats --json`, per worker
  `busy_cycles` (TSC cycles of the rounds that moved frames), `frames`
  and `tsc_hz`, summed over the workers.  testpmd (the switching one,
  started with `--record-core-cycles`): `show fwd stats all`, "CPU
  cycles/packet=... (total cycles=N / total io packets=M) at F MHz
  Clock"; in DPDK 22.11 the io engine returns before it counts when a
  poll received nothing, so N is the forwarding lcore's cycles in polls
  that received frames and M the frames received.  OVS: `ovs-appctl
  dpif-netdev/pmd-stats-show`, "processing cycles" (iterations that
  received packets) and "packets received" of the PMD threads, read
  before and after the window (not cleared with `pmd-stats-clear`, which
  the PMD thread carries out later, on its own).  All three count TSC
  cycles, including any time the thread lost its CPU in the middle of a
  busy poll.  A second figure needs no counter of the switch: utime+stime
  of its forwarding thread (vswd's worker, testpmd's `rte-worker-1`,
  OVS's `pmd-*`) from /proc/PID/task/TID/stat, times the TSC rate DPDK
  measured (the generator's "at F MHz Clock"), over the same frames.  It
  counts every cycle the poller ran, empty polls too, and none it was
  preempted for: the same method for all three.  The frames a switch
  counted must agree with what the generator received (within 20 %), or
  the figure is refused.  A vswd whose stats have no `busy_cycles` gets
  no busy figure ("vswd too old"), only the CPU-time one; a `--quick` run
  checks the parsers on canned output first and fails when a figure
  cannot be read.
  (`--record-core-cycles` adds a TSC read to each of testpmd's polls and
  one more to each poll that received frames.)
- **Latency.**  `vsw-bench --pingpong`: one 64-byte frame A -> switch -> B,
  answered B -> switch -> A, timed with CLOCK_MONOTONIC; p50/p99/p99.9 of
  each sample, median over samples.  The switches busy-poll (vswd's
  busy_poll true), so this is the polling path.
- **Sampling.**  Samples are taken in rounds.  A round runs every
  configuration (system x ring layout; the bridge once) as a session from a
  fresh start of the switch: the generator connects, measures each frame
  size, disconnects, then vsw-bench measures the round trip and its own
  throughput.  The order of the sessions rotates from round to round, so
  drift of the machine (or another process) falls on all systems alike.
  Ratios are ratios of medians; in parentheses the range of the per-round
  ratios.
- **Disturbance.**  Around each window the script reads the CPU time of
  the switch's and the generator's processes: busy pollers alone on their
  CPU get 100 % of it.  A window in which either got less than 90 % (some
  other process ran there) is measured again, up to `--retries` times
  (default 2), and the least disturbed attempt is kept; the results say
  how many samples stayed disturbed.
- **Idle.**  vswd with `busy_poll` false, both ports connected to the
  generator (which sent a little traffic, then nothing), utime+stime from
  /proc/PID/stat over 10 s.

### Results

"""


def write_doc(path, section):
    write_doc_section(path, "Switching", section)


# ---------------------------------------------------------------- flow tables (issue 14)

FLOW_SECTION_TEMPLATE = """## Flow tables (issue 14)

vswd with flow tables next to OVS-DPDK: the same rule set loaded into
both, the same generator sending N distinct flows, for N from 1 to a
million.  The set-up (pinning, vhost-user ports, OVS started by hand) is
the one of "Switching" above; what differs is below.

### Run it

    python3 scripts/bench-switch.py --flow-sweep      # 15-25 minutes; rewrites this section
    python3 scripts/bench-switch.py --flows scripts/bench-flows/pipeline.flows --flows-n 1,1000000 \\
                                    [--only vsw,ovs] [--samples N] [--seconds S] [--json FILE]
    python3 scripts/bench-switch.py --only vsw,vsw-normal --sizes 64 --rings split
                                    # the normal-only flow table next to the learning bridge
    python3 scripts/bench-switch.py --flow-sweep --flow-gen vsw-bench
                                    # the second generator: rewrites "Flow tables with vsw-bench" below

`--flow-sweep` is `--flows scripts/bench-flows/pipeline.flows --flows-n
1,1000,10000,100000,1000000 --only vsw,ovs --sizes 64 --rings split`,
7 rounds of 3 s windows; only such a run (not `--quick`, at least 7
rounds) rewrites this section, and `--from-json` of its saved samples
does the same.  `--flow-gen vsw-bench` runs the same sweep with the
second generator; its full run rewrites the next section instead, never
this one.

### Method

- **Rules.**  `--flows FILE` loads one rule set, written in ovs-ofctl
  syntax with vswd's port names `p0` and `p1`, into both switches in
  place of their defaults: into vswd with `vswctl flow replace FILE`
  (instead of the learning bridge), into OVS with `ovs-ofctl
  replace-flows br0` after `in_port=pN` and `output:pN` became OVS's
  port numbers N+1 (instead of the two in_port flows; `-O OpenFlow13`
  only when a token needs it: goto_table, or `table=`, since under
  OpenFlow 1.0 replace-flows cannot dump several tables).  The default,
  `scripts/bench-flows/pipeline.flows`, has two tables: table 0 an ACL
  (drops of other subnets, of TCP ports, of multicast, each with its own
  mask; the generator's UDP frames resubmit to table 1), table 1 port to
  port by `in_port` (IPv4, then anything).  None of the drop rules
  matches the generator's frames, but both classifiers must rule them
  out: 11 distinct masks in table 0, 3 in table 1.  After each session the
  packet counters of the rules that forward (`vswctl flow dump`,
  `ovs-ofctl dump-flows`) must have grown, or the session counts as
  failed: the rule set, not a default, moved the frames.
- **Generators.**  Two (`--flow-gen`), each the same for both
  switches, because neither shows everything.  **testpmd flowgen** (the
  default; `--forward-mode=flowgen --flowgen-flows=N`): on each of its
  two virtio-user ports it sends UDP/IPv4 frames flat out (DPDK 22.11:
  source 00:01:02:03:04:00, 10.254.0.0, port 1000; destination
  00:01:02:03:04:01, port 1001 and 10.253.0.0 + i for flow i = 0..N-1,
  so a million flows reach 11.12.66.63), and it frees what it receives.
  It does not loop frames as mac forwarding does (every frame is built
  anew: a loop of a few hundred frames in flight cannot carry a million
  flows), so the rate is the frames the generator received back on both
  ports during the window (`show fwd stats all`), that is what the
  switch forwarded; what the switch could not take the generator counts
  as TX-dropped (its ring was full).  `set txpkts 64` (flowgen subtracts
  the FCS itself: 60-byte buffers, as in the mac loop).  Its limit: it
  builds, checksums, allocates and frees every frame, and spends about
  as many cycles per frame as the switch (420-450 at one flow in the run
  of 2026-12-03, when both vswd and OVS reached 5.4-5.7 Mpps): at small
  N it caps both switches, so a ratio between them cannot exceed what
  the generator lets through.  **vsw-bench** (`--flow-gen vsw-bench`:
  `vsw-bench --dst-flows N`, vsw's own virtio-net front end) sends the
  same flows (10.254.0.0:1000 -> 10.253.0.0 + i:1001, so the rule set
  treats them as flowgen's) from port A on p0 to port B on p1, one
  direction; each frame is a template in which only the destination
  address and the IP checksum are rewritten (incrementally) besides the
  sequence stamp B checks, and the flows go round in a stride coprime
  with N near N / 1.618 rather than 0, 1, 2, ....  The rate is the
  frames B received per second in vsw-bench's counted window, after
  `--warmup` seconds (rounded up) of lead-in that cover the first pass
  over the flows; the switch's counters are read inside that window.
  It reports its own busy cycles (its loop's rounds that moved a frame)
  per frame received and the share of the window in which A's ring had
  no room for a burst: near 0, the switch kept up, and vsw-bench may be
  what set the pace.  Its limits: one direction (the switch polls two
  ports, one of them busy), one thread for both ends, and its driver
  (vsw's vuser, not DPDK's virtio-user): under callgrind, with full
  bursts, it takes about 780 instructions per frame, some 60 to build
  and stamp the frame and the rest in vuser's tx and rx (about 100 per
  descriptor added to a ring); its busy counter gave about 300 cycles a
  frame once the time its CPU went elsewhere is taken out (2026-12-04,
  shared machine): a ceiling near 8 Mpps at 2.4 GHz in one direction,
  about 1.4x flowgen's per frame, not more.  The
  two generators' rates are not comparable with each other (both
  directions against one); the ratios between the switches are.
- **Reading it.**  Each N is a session of its own from a fresh switch
  (rules loaded before the generator connects); rounds rotate the
  systems and the order of N.  *vsw at N ÷ at 1* is vsw's median rate
  at N over its median at one flow (target: ≥ 0.70 at a million);
  *vsw ÷ OVS* the ratio of medians (target: ≥ 2 at every N), in
  parentheses the range of the per-round ratios.  flowgen never polls
  idle, so its busy share is near 100 % whatever the switch does; what
  shows that the switch set the pace is the generator's TX-dropped (the
  switch's ring was full): near 0, the switch kept up and the
  generator may be the limit; with vsw-bench, which keeps a refused
  burst and sends it again, the share of the window A's ring was full
  says the same.  With vsw-bench the rule counters
  that must grow are those of the rules that take p0's frames (in_port
  p0, or none): B on p1 sends nothing but one broadcast, which the ACL
  drops.  `--flows-n` without `--flows` loads pipeline.flows: flowgen's
  frames carry one source MAC on both ports, which a learning bridge
  would see move with every frame.
- **normal-only.**  `--only vsw,vsw-normal` runs the mac loop of
  "Switching" through vswd twice per round: as the learning bridge
  (`vsw`) and with `scripts/bench-flows/normal.flows`
  (`priority=0,actions=normal`) loaded (`vsw-normal`); the target is
  vsw-normal ≥ 0.95 x vsw.  (flowgen's frames carry the same source
  MAC from both ports, so the learning bridge is measured with the mac
  loop, not with flowgen.)

### A storm of new flows (bench_flow_storm)

The target "a storm of 100k new flows/s does not drop established
flows" is measured in process, not with testpmd: flowgen cannot keep a
steady set of flows at a fixed rate next to a stream of flows never
seen before.

    build/bench/bench_flow_storm --cpu 1                  # 10,000 flows at 2 Mpps, 100k new flows/s for 5 s
    build/bench/bench_flow_storm --flows 1000 --cpu 1     # established flows that fit the caches
    build/bench/bench_flow_storm [--flows E] [--rate PPS] [--storm NEW/S] [--seconds T] \\
                                 [--warmup S] [--after S] [--ring FRAMES] [--cpu N] [--smoke]

- **What.**  One busy-polling worker (dp_start, pinned) forwards by a
  table whose rules give every 5-tuple its own cache entries (UDP
  port-pair drops at the top, so every megaflow holds both ports; a /32
  `nw_src` rule per established flow; /24 `nw_dst`, a /8 for the storm
  and MAC rules below).  Fake port 0 offers E established flows, picked
  at random, at R frames/s; fake port 1 offers S frames/s, each from a
  source never seen before, so each misses both caches, takes the
  classifier inline in the worker (vsw has no upcall thread) and asks
  for an exact-match entry and a megaflow of its own (it gets places
  whose entries answered no frame: FLOWS.md, "The caches",
  replacement).  Each source is a
  bounded ring (1,024 frames by default, as a virtio ring) filled by
  the cycle counter in the worker's own rx_burst and rx_done: a frame
  due when the ring is full is a drop, counted.  Phases: established
  only (2 s), established + storm (T s), established only (2 s).
- **What it prints**, per phase: frames offered, forwarded and dropped
  for each source and the ring's highest fill; the worker's busy share
  (cycles of rounds that moved frames: at one or two frames a round it
  overstates how close the worker is to its limit; one that falls
  behind shows full batches, 64 frames per port and round), its cache
  hits and misses (the established flows' misses are the worker's less
  the storm's frames); the longest gap between two polls of the
  established ring, the gaps longer than the ring holds, and the
  process's involuntary context switches.  Then one line:
  `established drops during the storm: N (target 0)`.  Drops with
  gaps longer than the ring and preemptions are the machine's (a CPU
  lost), not the storm's; drops with short gaps and full batches are
  a worker that cannot keep up.  It exits 0 whatever the drops.
- **What it cannot show.**  The ports are fakes: no guest, no NIC, no
  copy into guest memory, the established frames prebuilt; a ring's
  room is settled at the worker's calls, not frame by frame; one
  worker, one queue each.  It measures the worker's cost and its
  caches under the storm, not a real generator's traffic.  The
  `smoke/bench_flow_storm` entry of `make check` runs `--smoke` (1 s,
  small numbers) and checks the verdict line only.

### Results

"""


FLOW_VB_SECTION_TEMPLATE = """## Flow tables with vsw-bench (issue 14)

The sweep of "Flow tables (issue 14)" with the second generator,
vsw-bench: the same rule set, switches, N and set-up; the method (the
rules, both generators and what limits each, how to read the tables)
is in that section.  Only the full run rewrites this section
(`--flow-sweep --flow-gen vsw-bench`, not `--quick`, at least 7
rounds), or `--from-json` of its saved samples; a flowgen run never
touches it, nor a vsw-bench run the section above.

    python3 scripts/bench-switch.py --flow-sweep --flow-gen vsw-bench     # 15-25 minutes; rewrites this section
    python3 scripts/bench-switch.py --flows-n 1,1000000 --flow-gen vsw-bench [--only vsw,ovs] [--samples N] \\
                                    [--seconds S] [--no-doc] [--json FILE]

### Results

"""


def flow_gen_table(res, systems, rk, size, flows_n, gen):
    """The generator-and-switch table of one size and ring layout (Markdown lines): per N and system, what
    shows who set the pace.  flowgen: its busy share, TX-dropped per frame sent, the switch's CPU share;
    vsw-bench: its busy share and cycles per frame, the share of the window A's ring was full, the frames
    lost, the switch's busy cycles per frame and CPU share."""
    def pct(xs):
        return "%.0f %%" % (100 * med(xs)) if xs else "—"
    L = []
    if gen == "vsw-bench":
        L.append("Generator and switch, median: vsw-bench's busy share (TSC cycles of its rounds that moved a "
                 "frame, over the window) and its busy cycles per frame B received; the share of the window in "
                 "which A's ring had no room for a whole burst (⚠ below 0.05: the switch kept up, and the "
                 "generator may be what set the pace); the frames the switch lost (A sent, B never got) per "
                 "frame sent; the switch's busy cycles per frame (its own counters) and the CPU share its "
                 "process got.")
        L.append("")
        L.append("| flows | " + " | ".join("%s: gen busy, gen cycles/frame, A's ring full, lost, switch "
                                             "cycles/frame, switch CPU" % SHORT[x] for x in systems) + " |")
    else:
        L.append("Generator and switch, median: the generator's busy share (flowgen never polls idle: near "
                 "100 % whatever the switch does), the frames it could not send because the switch's ring was "
                 "full per frame sent (⚠ below 0.05: the switch kept up with the generator, which may then be "
                 "what set the pace), the CPU share the switch's process got.")
        L.append("")
        L.append("| flows | " + " | ".join("%s: gen busy, tx dropped, switch CPU" % SHORT[x] for x in systems)
                 + " |")
    L.append("|---|" + "---|" * len(systems))
    for n in flows_n:
        row = ["{:,}".format(n)]
        for x in systems:
            ss = res.samples.get(tput_key(x, rk[x], size, n, gen), [])
            b = [y["gen_busy"] for y in ss if y.get("gen_busy") is not None]
            c = [y["sut_cpu_share"] for y in ss if y.get("sut_cpu_share") is not None]
            if gen == "vsw-bench":
                g = [y["gen_cycles_per_frame"] for y in ss if y.get("gen_cycles_per_frame") is not None]
                f = [y["gen_full_share"] for y in ss if y.get("gen_full_share") is not None]
                lost = [y["lost_share"] for y in ss if y.get("lost_share") is not None]
                sc = [y["sut_busy_cpf"] for y in ss if y.get("sut_busy_cpf") is not None]
                row.append("%s, %s, %s, %s, %s, %s" % (
                    pct(b), "%.0f" % med(g) if g else "—",
                    "%.2f%s" % (med(f), " ⚠" if med(f) < 0.05 else "") if f else "—",
                    "%.4f" % med(lost) if lost else "—", "%.0f" % med(sc) if sc else "—", pct(c)))
            else:
                d = [y["tx_dropped"] / y["tx"] for y in ss if y.get("tx")]
                row.append("%s, %s, %s" % (pct(b), "%.2f%s" % (med(d), " ⚠" if med(d) < 0.05 else "") if d
                                           else "—", pct(c)))
        L.append("| " + " | ".join(row) + " |")
    L.append("")
    return L


def vsw_bench_buffers(res):
    """How vsw-bench moved its frames in these samples: fixed buffers rewritten in place (its default since
    2026-12-06) or copied into free ones (--copy, and every vsw-bench before it, whose samples do not say)."""
    ways = sorted({y.get("buffers", "copy") for ss in res.samples.values() for y in ss
                   if y.get("generator") == "vsw-bench"})
    return " and ".join({"fixed": "fixed buffers", "copy": "frames copied into free buffers"}.get(w, w)
                        for w in ways) or "no samples"


def flow_report(ctx, res, meta):
    """Markdown: the rate per number of flows, per system, of the run's generator (a.flow_gen); vsw's ratios;
    the issue's targets.  Only that generator's samples count: each has its results kinds (FLOW_KINDS)."""
    a = ctx.args
    gen = getattr(a, "flow_gen", "flowgen")
    meta["preliminary"] = preliminary_note(res, meta, getattr(a, "quiet_load", 1.5))
    systems = a.only
    peers = [x for x in systems if x != "vsw"]
    L = ["Figures from a run: measured %s with `%s`; %d round(s), %g s windows after %g s warm-up; rule set `%s`; "
         "generator %s." % (
             meta["date"], meta["command"], a.samples, a.seconds, a.warmup,
             os.path.relpath(a.flows, REPO) if a.flows else "none (the switches' defaults)",
             "vsw-bench `--dst-flows N` (A -> B, one direction; %s)" % vsw_bench_buffers(res)
             if gen == "vsw-bench" else "testpmd flowgen (both ports, both directions)")]
    L.extend(machine_lines(meta))
    targets14 = []
    tag = " (vsw-bench)" if gen == "vsw-bench" else ""
    for size in a.sizes:
        for ring in a.rings:
            rk = {x: "tap" if x == "kernel" else ring for x in systems}
            if gen == "vsw-bench":
                L.append("#### %d B, %s rings, vsw-bench: Mpps B received (one direction, A -> B), median "
                         "(min–max)" % (size, ring))
            else:
                L.append("#### %d B, %s rings, testpmd flowgen: Mpps the generator received back (both ports), "
                         "median (min–max)" % (size, ring))
            L.append("")
            hdr = ["flows"] + [LABEL[x] for x in systems]
            if "vsw" in systems:
                hdr += ["vsw ÷ %s" % SHORT[p] for p in peers]
                if 1 in a.flows_n:
                    hdr.append("vsw at N ÷ vsw at 1")
            L.append("| " + " | ".join(hdr) + " |")
            L.append("|" + "---|" * len(hdr))
            one = values(res, tput_key("vsw", ring, size, 1, gen)) if 1 in a.flows_n else []
            for n in a.flows_n:
                row = ["{:,}".format(n)] + [cell(res, tput_key(x, rk[x], size, n, gen)) for x in systems]
                if "vsw" in systems:
                    for p in peers:
                        r, txt = ratio_cell(res, tput_key("vsw", ring, size, n, gen), tput_key(p, rk[p], size, n, gen))
                        row.append(txt)
                        if p == "ovs":
                            targets14.append(("%s flow%s, %d B %s%s: vsw ≥ 2x OVS-DPDK" % (
                                "{:,}".format(n), "" if n == 1 else "s", size, ring, tag), txt,
                                None if r is None else r >= 2.0))
                    if 1 in a.flows_n:
                        v = values(res, tput_key("vsw", ring, size, n, gen))
                        row.append("%.2f" % (med(v) / med(one)) if v and one and med(one) else "—")
                        if n == 1000000:
                            targets14.append(("1,000,000 flows, %d B %s%s: vsw ≥ 0.70x its rate at 1 flow" % (
                                size, ring, tag), row[-1], None if row[-1] == "—" else med(v) / med(one) >= 0.70))
                L.append("| " + " | ".join(row) + " |")
            L.append("")
            L.extend(flow_gen_table(res, systems, rk, size, a.flows_n, gen))
    if targets14:
        L.append("#### Targets (issue 14%s)" % (", vsw-bench" if gen == "vsw-bench" else ""))
        L.append("")
        L.append("| target | measured | |")
        L.append("|---|---|---|")
        for name, measured, ok in targets14:
            L.append("| %s | %s | %s |" % (name, measured, "met" if ok else ("**missed**" if ok is False
                                                                            else "not measured")))
        L.append("")
    if res.failures:
        L.append("#### Failures")
        L.append("")
        for key in sorted(res.failures, key=str):
            msgs = res.failures[key]
            L.append("- %s%s %s%s%s: %d of %d samples failed; first: %s" % (
                {"fcycles": "cycles per frame, ", "vfcycles": "cycles per frame, ", "rules": "rule counters, ",
                 "vrules": "rule counters (p0 -> p1), "}.get(key[0], ""), key[1], key[2],
                " %d B" % key[3] if key[3] else "",
                ", %s flows" % "{:,}".format(key[4]) if len(key) > 4 else "", len(msgs),
                len(msgs) + len(res.samples.get(key, [])), msgs[0].splitlines()[0][:400].replace("|", "\\|")))
        L.append("")
    return "\n".join(L)


def flow_finish(ctx, a, res, meta):
    """The flow report: printed, and, when a.doc is set, written as the section of the run's generator:
    "Flow tables (issue 14)" for flowgen, "Flow tables with vsw-bench (issue 14)" for vsw-bench.  Neither
    generator's run touches the other's section."""
    report = flow_report(ctx, res, meta)
    log("")
    log(report)
    if a.doc:
        if getattr(a, "flow_gen", "flowgen") == "vsw-bench":
            write_doc_section(a.doc, FLOW_VB_SECTION, FLOW_VB_SECTION_TEMPLATE + report)
            log("bench-switch: wrote the %s section of %s" % (FLOW_VB_SECTION, a.doc))
        else:
            write_doc_section(a.doc, FLOW_SECTION, FLOW_SECTION_TEMPLATE + report)
            log("bench-switch: wrote the %s section of %s" % (FLOW_SECTION, a.doc))


def flow_gen_self_test():
    """The two flow generators kept apart: the options (which run may write which section), the report of each
    from one Results holding both kinds of samples, the JSON round trip of their keys, and each generator's doc
    section written without touching the other's (on a copy of docs/PERFORMANCE.md).  Raises BenchError."""
    import contextlib
    import io

    def parsed(*argv):
        with contextlib.redirect_stderr(io.StringIO()):
            try:
                return parse_args(list(argv))
            except SystemExit:
                return None
    doc = os.path.join(REPO, "docs", "PERFORMANCE.md")
    for argv, want in ((["--flow-sweep"], (True, False, doc)),
                       (["--flow-sweep", "--flow-gen", "vsw-bench"], (False, True, doc)),
                       (["--flow-sweep", "--flow-gen", "vsw-bench", "--quick"], (False, False, None)),
                       (["--flow-sweep", "--flow-gen", "vsw-bench", "--samples", "3"], (False, False, None)),
                       (["--flows-n", "1,1M", "--flow-gen", "vsw-bench"], (False, False, None))):
        a = parsed(*argv)
        if a is None or (a.flow_full, a.flow_vb_full, a.doc) != want:
            raise BenchError("flow-gen self-test: %s gave %s, want %s" % (
                " ".join(argv), a and (a.flow_full, a.flow_vb_full, a.doc), want))
    for argv in (["--flow-gen", "vsw-bench"], ["--flows-n", "1", "--flow-gen", "vsw-bench", "--only", "vsw,kernel"],
                 ["--flows-n", "1", "--flow-gen", "trex"],
                 ["--gen", "vsw-bench", "--only", "vsw,kernel"], ["--gen", "vsw-bench", "--only", "vsw,ovs", "--tso"],
                 ["--gen", "vsw-bench", "--only", "vsw,ovs", "--flows-n", "1"]):
        if parsed(*argv) is not None:
            raise BenchError("flow-gen self-test: %s accepted, it must be refused" % " ".join(argv))
    # The mac loop with vsw-bench never writes the Switching section (testpmd's loop), even as a full run would.
    a = parsed("--gen", "vsw-bench", "--samples", "7")
    if a is None or a.full or a.doc is not None or a.gen != "vsw-bench" or a.only != ["vsw", "dpdk", "ovs"]:
        raise BenchError("flow-gen self-test: --gen vsw-bench gave full=%s doc=%s" % (a and a.full, a and a.doc))
    a = parsed("--samples", "7")
    if a is None or not a.full or a.gen != "testpmd":
        raise BenchError("flow-gen self-test: a full testpmd run is no longer full")

    # flowgen: vsw 6, OVS 5 Mpps; vsw-bench: vsw 9, OVS 3 (and 7 vs 2 at a million flows)
    res = Results()
    for rnd in (1, 2):
        for n, vb in ((1, (9.0, 3.0)), (1000000, (7.0, 2.0))):
            for system, fg, v in (("vsw", 6.0, vb[0]), ("ovs", 5.0, vb[1])):
                res.add(tput_key(system, "split", 64, n), {"mpps": fg, "flows_n": n, "gen_busy": 0.99, "tx": 100,
                                                           "tx_dropped": 1, "sut_cpu_share": 1.0}, rnd)
                res.add(tput_key(system, "split", 64, n, "vsw-bench"), {
                    "mpps": v + rnd - 1, "flows_n": n, "gen_busy": 0.5, "gen_cycles_per_frame": 123.0,
                    "gen_full_share": 0.4, "lost_share": 0.0, "sut_busy_cpf": 200.0, "sut_cpu_share": 1.0}, rnd)
    res.failures[("vrules", "ovs", "split", 0, 1)] = ["round 1: the rule set's forwarding rules counted no packet"]
    meta = {"date": "2026-12-04 00:00 UTC", "command": "test", "load_before": [0.1], "load_after": [0.2],
            "machine": {"cpu": "x", "cpus": 2, "mem_gib": 1, "virt": "none", "debian": "12", "kernel": "6",
                        "dpdk": "22.11", "ovs": "3.1"}}
    reports = {}
    for gen, want in (("vsw-bench", ["#### 64 B, split rings, vsw-bench: Mpps B received (one direction, A -> B)",
                                     "| 1 | 9.50 (9.00–10.00) | 3.50 (3.00–4.00) | 2.71x (2.50–3.00) | 1.00 |",
                                     "| 1,000,000 | 7.50 (7.00–8.00) | 2.50 (2.00–3.00) | 3.00x (2.67–3.50) | 0.79 |",
                                     "| 1 | 50 %, 123, 0.40, 0.0000, 200, 100 % |",
                                     "| 1 flow, 64 B split (vsw-bench): vsw ≥ 2x OVS-DPDK | 2.71x (2.50–3.00) | met |",
                                     "- rule counters (p0 -> p1), ovs split, 1 flows: 1 of 1 samples failed"]),
                      ("flowgen", ["#### 64 B, split rings, testpmd flowgen: Mpps the generator received back",
                                   "| 1 | 6.00 (6.00–6.00) | 5.00 (5.00–5.00) | 1.20x (1.20–1.20) | 1.00 |",
                                   "| 1 flow, 64 B split: vsw ≥ 2x OVS-DPDK | 1.20x (1.20–1.20) | **missed** |"])):
        a = argparse.Namespace(only=["vsw", "ovs"], sizes=[64], rings=["split"], flows_n=[1, 1000000], samples=2,
                               seconds=3.0, warmup=1.0, quiet_load=1.5, flow_gen=gen,
                               flows=os.path.join(FLOWS_DIR, "pipeline.flows"))
        text = flow_report(type("Ctx", (), {"args": a})(), res, dict(meta))
        missing = [w for w in want if w not in text]
        if missing:
            raise BenchError("flow-gen self-test: the %s report lacks %r:\n%s" % (gen, missing, text))
        reports[gen] = text
    back = results_from_json(json.loads(json.dumps(results_to_json(res))))
    if back.samples != res.samples or back.failures != res.failures:
        raise BenchError("flow-gen self-test: the JSON round trip changed the results' keys")

    # Each generator's section, the other's untouched.
    def section(text, heading):
        m = re.search(r"^## %s\s*$(.*?)(?=^## (?!#)|\Z)" % re.escape(heading), text, re.M | re.S)
        return m.group(1) if m else None
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "PERFORMANCE.md")
        shutil.copy(doc, path)
        for gen, mine, other in (("vsw-bench", FLOW_VB_SECTION, FLOW_SECTION),
                                 ("flowgen", FLOW_SECTION, FLOW_VB_SECTION)):
            with open(path) as f:
                before = f.read()
            a = argparse.Namespace(only=["vsw", "ovs"], sizes=[64], rings=["split"], flows_n=[1, 1000000],
                                   samples=2, seconds=3.0, warmup=1.0, quiet_load=1.5, flow_gen=gen, doc=path,
                                   flows=os.path.join(FLOWS_DIR, "pipeline.flows"))
            with contextlib.redirect_stdout(io.StringIO()):
                flow_finish(type("Ctx", (), {"args": a})(), a, res, dict(meta))
            with open(path) as f:
                after = f.read()
            if section(before, other) is None or section(after, other) != section(before, other):
                raise BenchError("flow-gen self-test: a %s run changed the \"%s\" section" % (gen, other))
            title = next(x for x in reports[gen].splitlines() if x.startswith("#### "))
            if title not in (section(after, mine) or ""):
                raise BenchError("flow-gen self-test: a %s run did not write the \"%s\" section" % (gen, mine))
    log("  flow-gen self-test: passed")


# ---------------------------------------------------------------- TSO (issue 15)

def vsw_bench_tso(ctx, sut, ring):
    """One TSO sample: vsw-bench --tso through @sut, its JSON summary with the switch's busy cycles and the CPU
    time of its forwarding thread over the run (payload of the whole run, lead-in included, over both)."""
    a = ctx.args
    seconds, lead_in = max(1, int(round(a.seconds))), int(round(a.warmup))
    argv = ["taskset", "-c", ctx.gen_cpu, os.path.join(ctx.bin, "vsw-bench"), "--a", sut.socks[0], "--b",
            sut.socks[1], "--tso", "--json", "--seconds", seconds, "--lead-in", lead_in, "--queue-size",
            a.queue_size]
    if ring == "packed":
        argv.append("--packed")
    if sut.gen_server:
        argv.append("--server")
    k0 = k1 = None
    cycles_error = None
    try:
        k0 = sut.cycles_counters()
    except Exception as e:  # noqa: BLE001 - the rate is still measured
        cycles_error = "reading the switch's counters: %s" % e
    r = run(argv, timeout=60 + seconds + lead_in, check=False)
    try:
        k1 = sut.cycles_counters() if k0 else None
    except Exception as e:  # noqa: BLE001
        cycles_error = "reading the switch's counters: %s" % e
    with open(ctx.logpath("vsw-bench"), "a") as f:
        f.write("$ %s\n%s%s(exit %d)\n" % (" ".join(map(str, argv)), r.stdout, r.stderr, r.returncode))
    line = next((x for x in reversed(r.stdout.splitlines()) if x.startswith("{")), None)
    res = json.loads(line) if line else None
    if r.returncode != 0 or not res:
        why = (r.stderr or "").strip()[-400:]
        if res:
            bad = {k[4:]: v for k, v in res.items() if k.startswith("bad_") and v}
            why = (why + "; " if why else "") + "received %d frames, %d bad (%s)" % (
                res["rx_frames"], res["bad"], ", ".join("%s %d" % kv for kv in sorted(bad.items())) or "-")
        raise BenchError("vsw-bench --tso exit %d: %s" % (r.returncode, why or "no summary"))
    res["gbps"] = res["rx_gbps"]
    res["mpps"] = res["rx_mpps"]
    res["delivered"] = ("whole" if res["rx_gso_frames"] == res["rx_frames"] else
                        "segmented" if not res["rx_gso_frames"] else "mixed")
    if getattr(sut, "tso_note", None):
        res["note"] = sut.tso_note
    bits = res["rx_payload_all"] * 8
    if k0 and k1:
        dt = k1["t"] - k0["t"]
        if k1.get("busy") is not None and k0.get("busy") is not None and k1["busy"] > k0["busy"]:
            hz = k1.get("hz") or cpuinfo_hz()
            busy_s = (k1["busy"] - k0["busy"]) / hz
            res["sut_busy_share"] = busy_s / dt
            res["gbps_per_busy_core"] = bits / busy_s / 1e9
            res["sut_busy_method"] = k1["busy_method"]
        else:
            cycles_error = k1.get("busy_missing") or "the switch's busy cycles did not grow"
        try:
            cpu, names = fwd_thread_cpu(k0, k1, sut.pid, k1["pick"])
            if cpu > 0:
                # A busy-polling thread takes its whole core: the counted window's rate over the share it got.
                res["sut_fwd_cpu_share"] = cpu / dt
                res["gbps_per_cpu_core"] = res["gbps"] / min(1.0, cpu / dt)
                res["sut_fwd_threads"] = names
        except BenchError as e:
            cycles_error = "CPU time of the forwarding thread: %s" % e
    if cycles_error:
        res["cycles_error"] = cycles_error
    return res


def tso_session(ctx, res, system, ring, rnd):
    """One TSO sample of @system from a fresh switch (DPDK and OVS started with their TSO settings)."""
    tag = ctx.next_tag()
    key = ("tso", system, ring, 0)
    log("  [round %d] %-6s %-6s tso" % (rnd, system, ring))
    before = live_children()
    try:
        sut = start_sut(ctx, system, tag, tso=True)
    except Exception as e:  # noqa: BLE001
        close_new(before)
        res.fail(key, "start: %s" % e, rnd)
        return
    try:
        r = vsw_bench_tso(ctx, sut, ring)
        res.add(key, r, rnd)
        if r.get("cycles_error"):
            res.fail(("tsocycles", system, ring, 0), r["cycles_error"], rnd)
        log("    %7.3f Gbit/s of payload (%s)  per busy core %s  per CPU core %s  %.4f Mpps  lost %.0f B" % (
            r["gbps"], r["delivered"], "%.2f" % r["gbps_per_busy_core"] if "gbps_per_busy_core" in r else "-",
            "%.2f" % r["gbps_per_cpu_core"] if "gbps_per_cpu_core" in r else "-", r["mpps"], r["lost_bytes"]))
    except Exception as e:  # noqa: BLE001
        res.fail(key, "%s; switch: %s" % (e, sut.diag()), rnd)
    finally:
        sut.close()
        close_new(before)


TSO_SECTION_TEMPLATE = """## Switching with TSO (issue 15)

VM to VM TCP with segmentation offload: vsw-bench's two virtio-net front
ends through each switch, port A sending 64 KiB TCP/IPv4 frames whose
virtio-net header asks for the checksum and the segmentation (CSUM +
HOST_TSO4), as a guest's TCP stack does with TSO on, port B (GUEST_CSUM +
GUEST_TSO4) checking and counting what arrives.  A switch that passes the
frames whole moves 45 segments' worth per frame; one that segments them
must cut and checksum each.  Set-up as in "Switching" (the switch on CPU
0, the generator on CPU 1); vsw-bench keeps at most 4 sends in flight,
as a TCP sender keeps to its window.  Its ports use fixed buffers (since
2026-12-06): A rewrites the 8 header bytes that change from send to
send, not 64 KiB, and B reads each frame where the switch put it, so the
switch, not the generator, sets the pace; each switch still copies every
byte from A's buffer to B's.  This section is rewritten by each full run; the
reading and the guests under TCG are in the next sections.

### Run it

    python3 scripts/bench-switch.py --tso [--only vsw,dpdk,ovs] [--samples N] [--seconds S]
                                    [--rings split,packed] [--doc FILE | --no-doc] [--json FILE]
    python3 scripts/bench-switch.py --tso --quick     # the smoke run of make check (1 s each)

- **vsw**: vswd as in "Switching"; its vhost-user ports offer CSUM,
  GUEST_CSUM, HOST/GUEST_TSO4/6 (docs/VSWD.md, "Offloads").
- **DPDK vhost io-fwd**: testpmd's net_vhost ports with `tso=1` (else the
  PMD withholds HOST_TSO4/6) and `legacy-ol-flags=1`: the vhost library
  then turns a driver's header into the mbuf's TX offload flags, which io
  forwarding hands to the other port untouched and its enqueue writes back
  as a header (with the default, compliant flags a GSO frame is marked
  RX_LRO, which no tx path reads, and would reach B as a 64 KiB frame
  without its header: vsw-bench counts that as bad).
- **OVS-DPDK**: `other_config:userspace-tso-enable=true` before
  ovs-vswitchd starts (it logs "Userspace TCP Segmentation Offloading
  support enabled"); port-to-port flows as in "Switching".

"Per busy core": payload bits over the busy cycles the switch's own
counters give (vswd `busy_cycles`, testpmd `--record-core-cycles`, OVS
`processing cycles`), i.e. Gbit/s a fully busy core would move; "per CPU
core": Gbit/s over the share of a CPU its forwarding thread took (busy
polling: all of it, whether it forwards or not).  "switch busy": the busy
cycles' share of the run, connection included.  Issue 15's target: vsw
>= 1.5x OVS-DPDK in Gbit/s per switch core.

"""


def tso_self_test():
    """The TSO report from made-up samples: medians, per-round ratios, the seed note, and a peer that could not
    carry TSO frames named with its reason.  Raises BenchError on a mismatch."""
    a = argparse.Namespace(only=TSO_SYSTEMS, rings=["split"], samples=2, seconds=3.0, warmup=1.0, quiet_load=1.5)
    ctx = type("Ctx", (), {"args": a})()
    res = Results()
    for rnd, (v, o) in enumerate(((20.0, 8.0), (22.0, 10.0)), 1):
        res.add(("tso", "vsw", "split", 0), {"gbps": v, "gbps_per_busy_core": 2 * v, "gbps_per_cpu_core": v,
                                             "mpps": v / 520, "delivered": "whole", "sut_busy_share": 0.5}, rnd)
        res.add(("tso", "ovs", "split", 0), {"gbps": o, "gbps_per_busy_core": o, "gbps_per_cpu_core": o,
                                             "mpps": o / 520, "delivered": "whole", "seed_without_length": 3}, rnd)
        res.failures.setdefault(("tso", "dpdk", "split", 0), []).append(
            "round %d: vsw-bench --tso exit 1: the back end does not take TSO frames" % rnd)
    meta = {"date": "2026-12-02 00:00 UTC", "load_before": [0.1], "load_after": [0.2],
            "machine": {"cpu": "x", "cpus": 2, "mem_gib": 1, "virt": "none", "debian": "12", "kernel": "6",
                        "dpdk": "22.11", "ovs": "3.1"}}
    text = tso_report(ctx, res, meta)
    want = ["| OVS-DPDK | split | whole | 9.00 (8.00–10.00) |", "| vsw / OVS-DPDK | split | 2.33x (2.20–2.50) | "
            "4.67x (4.40–5.00) | 2.33x (2.20–2.50) |", "**DPDK vhost io-fwd (split) could not carry TSO frames here.** "
            "round 1: vsw-bench --tso exit 1: the back end does not take TSO frames",
            "OVS-DPDK (split): 6 of the GSO frames checked", "| vsw / DPDK vhost io-fwd | split | — | — | — |"]
    missing = [w for w in want if w not in text]
    if missing:
        raise BenchError("tso self-test: the report lacks %r:\n%s" % (missing, text))
    log("  tso self-test: passed")


def tso_finish(a, res, meta, ctx):
    """The TSO report: printed, and written as the "Switching with TSO (issue 15)" section when a.doc is set."""
    report = tso_report(ctx, res, meta)
    log("")
    log(report)
    if a.doc:
        write_doc_section(a.doc, TSO_SECTION, TSO_SECTION_TEMPLATE + report)
        log("bench-switch: wrote the %s section of %s" % (TSO_SECTION, a.doc))


def tso_report(ctx, res, meta):
    """The TSO tables: per system and ring, medians (min–max) and per-round ratios; failures by reason."""
    a = ctx.args
    loads = meta.get("load_during") or [meta["load_before"][0]]
    if max(loads) > a.quiet_load:
        meta["preliminary"] = ("the 1-minute load average reached %.2f during the run (above %.2f): another job "
                               "shared the machine" % (max(loads), a.quiet_load))
    L = ["### Results", "", "%s, %d round(s), %g s counted per sample after %d s of lead-in (vsw-bench --tso, "
         "65,214-byte frames: 45 x 1,448 payload bytes)." % (meta["date"], a.samples, max(1, int(round(a.seconds))),
                                                              int(round(a.warmup))), ""]
    L += machine_lines(meta)
    L += ["| system | ring | arrived | Gbit/s of payload | per busy core | per CPU core | frames Mpps | switch busy |",
          "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for ring in a.rings:
        for system in a.only:
            key = ("tso", system, ring, 0)
            how = sorted(set(s["delivered"] for s in res.samples.get(key, [])))
            busy = values(res, key, "sut_busy_share")
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                LABEL[system], ring, "/".join(how) or "—", cell(res, key, "gbps"),
                cell(res, key, "gbps_per_busy_core"), cell(res, key, "gbps_per_cpu_core"),
                cell(res, key, "mpps", 4), "%.0f %%" % (100 * med(busy)) if busy else "—"))
    L.append("")
    if "vsw" in a.only and len(a.only) > 1:
        L += ["| ratio | ring | Gbit/s | per busy core | per CPU core |", "| --- | --- | --- | --- | --- |"]
        for ring in a.rings:
            for other in [s for s in a.only if s != "vsw"]:
                ka, kb = ("tso", "vsw", ring, 0), ("tso", other, ring, 0)
                L.append("| vsw / %s | %s | %s | %s | %s |" % (
                    LABEL[other], ring, ratio_cell(res, ka, kb, "gbps")[1],
                    ratio_cell(res, ka, kb, "gbps_per_busy_core")[1], ratio_cell(res, ka, kb, "gbps_per_cpu_core")[1]))
        L.append("")
    failed = [(k, m) for k, m in sorted(res.failures.items()) if k[0] in ("tso", "tsocycles")]
    cannot = [k for k, _ in failed if k[0] == "tso" and not res.samples.get(k)]
    for k in cannot:
        L.append("**%s (%s) could not carry TSO frames here.** %s" % (LABEL[k[1]], k[2], res.failures[k][0]))
        L.append("")
    if failed:
        L.append("Failures:")
        L.append("")
        for k, msgs in failed:
            L.append("- %s %s %s: %s" % (k[0], LABEL[k[1]], k[2], "; ".join(m.splitlines()[0][:300] for m in msgs)))
        L.append("")
    for k, v in sorted(res.samples.items()):
        n = sum(x.get("seed_without_length", 0) for x in v)
        if k[0] == "tso" and n:
            L.append("%s (%s): %d of the GSO frames checked arrived with the TCP field holding the pseudo-header "
                     "sum without the length (the TSO hardware convention; vsw-bench accepts it on a GSO frame, "
                     "whose checksum the segmenter redoes)." % (LABEL[k[1]], k[2], n))
            L.append("")
    notes = sorted(set(s["note"] for k, v in res.samples.items() if k[0] == "tso" for s in v if s.get("note")))
    for n in notes:
        L.append("Note: %s." % n)
    return "\n".join(L).rstrip() + "\n"


# ---------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(REPO, "build"), help="directory with vswd, vswctl, vsw-bench")
    ap.add_argument("--samples", type=int, default=7, help="rounds: samples per configuration (default 7)")
    ap.add_argument("--seconds", type=float, default=3.0, help="measurement window per sample (default 3)")
    ap.add_argument("--warmup", type=float, default=1.0, help="seconds of traffic before each window (default 1)")
    ap.add_argument("--only", default=None,
                    help="systems: vsw,dpdk,ovs,kernel (default all; vsw,ovs with --flows-n), and vsw-off (vsw with "
                    "stage timing switched off), vsw-base (the vswd of --base-build) and vsw-normal (vswd with "
                    "scripts/bench-flows/normal.flows) for A/B runs")
    ap.add_argument("--base-build", default=None, help="build directory of the vswd that vsw-base runs")
    ap.add_argument("--sizes", default=None, help="Ethernet frame sizes with FCS (default 64,1518; 64 with "
                    "--flow-sweep)")
    ap.add_argument("--rings", default=None, help="ring layouts (default split,packed; split with --flow-sweep)")
    ap.add_argument("--flows", default=None, metavar="FILE",
                    help="rule set (ovs-ofctl syntax, ports p0 and p1) loaded into vswd (vswctl flow replace) and "
                    "OVS-DPDK (ovs-ofctl replace-flows, ports mapped to 1 and 2) instead of the learning bridge "
                    "and OVS's in_port flows; e.g. scripts/bench-flows/pipeline.flows")
    ap.add_argument("--flows-n", default=None, metavar="N,...",
                    help="generator: testpmd flowgen (or --flow-gen vsw-bench) with N distinct flows (1k, 1M "
                    "allowed), each N a session; "
                    "throughput only (no ping-pong, vsw-bench, idle); reported per N; --flows defaults to "
                    "scripts/bench-flows/pipeline.flows")
    ap.add_argument("--flow-sweep", action="store_true",
                    help="issue 14: --flows scripts/bench-flows/pipeline.flows --flows-n 1,1k,10k,100k,1M "
                    "--only vsw,ovs --sizes 64 --rings split; a full run (>= 7 rounds, not --quick) rewrites the "
                    "\"%s\" section of docs/PERFORMANCE.md" % FLOW_SECTION)
    ap.add_argument("--flow-gen", choices=FLOW_GENS, default="flowgen",
                    help="the generator of the flow modes (--flows-n, --flow-sweep): flowgen (testpmd's flowgen "
                    "engine on two ports, both directions; the default) or vsw-bench (--dst-flows N, the same flows "
                    "A -> B in one direction, a few cycles a frame); a full vsw-bench sweep rewrites the \"%s\" "
                    "section instead" % FLOW_VB_SECTION)
    ap.add_argument("--tso", action="store_true",
                    help="issue 15: vsw-bench --tso (64 KiB TCP sends, CSUM + TSO4) through vsw, dpdk (net_vhost "
                    "tso=1) and ovs (userspace-tso-enable=true): Gbit/s of payload, per switch core")
    ap.add_argument("--self-test", action="store_true",
                    help="check the counter parsers and the flow files' port mapping, then exit (no root needed)")
    ap.add_argument("--txfirst", type=int, default=4, help="bursts of 32 per port put in the loop (default 4); "
                    "with --gen vsw-bench, 32 x this many frames in flight")
    ap.add_argument("--gen", choices=LOOP_GENS, default="testpmd",
                    help="the mac loop's generator: testpmd (mac forwarding both ways, default) or vsw-bench "
                    "(A -> B through fixed buffers, 32 x --txfirst frames in flight; vhost-user systems only)")
    ap.add_argument("--queue-size", type=int, default=256, choices=(256, 512, 1024),
                    help="descriptors per ring of the generator's virtio-user ports (default 256)")
    ap.add_argument("--gen-fwd", choices=("mac", "io"), default="mac",
                    help="generator forwarding mode: mac rewrites each frame's addresses (the issue's loop), io "
                         "sends frames back untouched (each source MAC still enters through its own port)")
    ap.add_argument("--gen-burst", type=int, default=32,
                    help="frames per rx/tx burst of the generator (testpmd --burst; default 32, testpmd's own)")
    ap.add_argument("--gen-devargs", default="mrg_rxbuf=1,in_order=1",
                    help="extra virtio-user devargs of the generator (default mrg_rxbuf=1,in_order=1)")
    ap.add_argument("--pingpong", type=int, default=20000, help="pings per latency sample (0: none)")
    ap.add_argument("--pingpong-sparse", type=int, default=500,
                    help="pings per sparse latency sample, one every --pingpong-gap µs (0: none)")
    ap.add_argument("--pingpong-gap", type=int, default=2000,
                    help="µs idle before each sparse ping (default 2000: past vswd's 1 ms for an idle queue)")
    ap.add_argument("--bench-seconds", type=int, default=2, help="vsw-bench throughput seconds (0: none)")
    ap.add_argument("--idle-seconds", type=float, default=10.0, help="idle measurement (0: none)")
    ap.add_argument("--retries", type=int, default=2,
                    help="repeat a window in which the switch or the generator got < 90 %% of its CPU, "
                    "keeping the least disturbed (default 2)")
    ap.add_argument("--quick", action="store_true", help="1 round, 1 s windows, every mode once; no doc")
    ap.add_argument("--perf", action="store_true", help="also perf-record vswd at 64 B and print its top symbols")
    ap.add_argument("--doc", default=None, help="file whose Switching section to rewrite "
                    "(default docs/PERFORMANCE.md on full runs)")
    ap.add_argument("--no-doc", action="store_true", help="never write the doc")
    ap.add_argument("--json", default=None, help="write every sample as JSON to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    ap.add_argument("--from-json", default=None, metavar="FILE",
                    help="measure nothing: print the report of a run saved with --json (and write the doc "
                    "if that run was a full one, or with --doc)")
    ap.add_argument("--lock-wait", type=int, default=3600,
                    help="seconds to wait for another bench-switch run to finish (default 3600)")
    ap.add_argument("--quiet-load", type=float, default=1.5,
                    help="load average above which results are marked preliminary (default 1.5)")
    a = ap.parse_args(argv)
    if a.tso:
        if a.flows or a.flows_n or a.flow_sweep:
            ap.error("--tso: not with --flows, --flows-n or --flow-sweep")
        a.only = a.only or ",".join(TSO_SYSTEMS)
        a.rings = a.rings or "split"
        a.sizes = a.sizes or "64"       # unused: vsw-bench --tso sends 65,214-byte frames
        if [x for x in a.only.split(",") if x.strip() and x.strip() not in VHOST_SYSTEMS]:
            ap.error("--tso: vhost-user systems only (%s): the kernel system has taps" % ",".join(VHOST_SYSTEMS))
    if a.flow_sweep:
        a.flows = a.flows or os.path.join(FLOWS_DIR, "pipeline.flows")
        a.flows_n = ",".join(str(n) for n in FLOW_SWEEP_N)
        a.only = a.only or "vsw,ovs"
        a.sizes = a.sizes or "64"
        a.rings = a.rings or "split"
    if a.flow_gen == "vsw-bench" and a.flows_n is None:
        ap.error("--flow-gen vsw-bench: with --flows-n N,... or --flow-sweep (the mac loop has no flows to vary)")
    if a.flows_n is not None:
        try:
            a.flows_n = [int(float(x.strip().lower().replace("k", "e3").replace("m", "e6")))
                         for x in a.flows_n.split(",") if x.strip()]
        except ValueError:
            ap.error("--flows-n: numbers of flows, e.g. 1,1k,10k,100k,1M")
        if not a.flows_n or min(a.flows_n) < 1:
            ap.error("--flows-n: numbers of flows >= 1")
        a.only = a.only or "vsw,ovs"
        a.pingpong = a.pingpong_sparse = a.bench_seconds = a.idle_seconds = 0
        # flowgen's frames carry one source MAC on both ports: a learning bridge would see it move with every
        # frame.  So flowgen runs go through a rule set, pipeline.flows unless --flows names another.
        a.flows = a.flows or os.path.join(FLOWS_DIR, "pipeline.flows")
    if a.flows:
        a.flows = os.path.abspath(a.flows)
        if not os.path.isfile(a.flows):
            ap.error("--flows: %s: no such file" % a.flows)
    if a.gen == "vsw-bench":
        a.only = a.only or "vsw,dpdk,ovs"
    a.only = a.only or ",".join(SYSTEMS)
    a.sizes = a.sizes or "64,1518"
    a.rings = a.rings or "split,packed"
    only = [s.strip() for s in a.only.split(",") if s.strip()]
    bad = [s for s in only if s not in ALL_SYSTEMS]
    a.only = [s for s in ALL_SYSTEMS if s in only]
    a.sizes = [int(x) for x in a.sizes.split(",") if x.strip()]
    a.rings = [r.strip() for r in a.rings.split(",") if r.strip()]
    if bad or not a.only:
        ap.error("--only: unknown system(s) %s (known: %s)" % (",".join(bad), ",".join(ALL_SYSTEMS)))
    if "vsw-base" in a.only and not a.base_build:
        ap.error("--only vsw-base needs --base-build DIR")
    if any(r not in RINGS for r in a.rings) or not a.rings:
        ap.error("--rings: split and/or packed")
    if any(s < 64 or s > 1518 for s in a.sizes) or not a.sizes:
        ap.error("--sizes: frame sizes from 64 to 1518")
    full = (not a.quick and sorted(a.only) == sorted(SYSTEMS) and a.sizes == SIZES and a.rings == RINGS
            and a.txfirst == 4 and a.queue_size == 256
            and a.samples >= 7 and not a.flows and not a.flows_n
            and a.gen == "testpmd")      # the Switching section is testpmd's loop
    if a.gen == "vsw-bench":
        if a.tso or a.flows_n:
            ap.error("--gen vsw-bench: the mac loop's generator, not with --tso, --flows-n or --flow-sweep")
        if [x for x in a.only if x not in VHOST_SYSTEMS]:
            ap.error("--gen vsw-bench: vhost-user systems only (%s): the kernel system has taps" %
                     ",".join(VHOST_SYSTEMS))
    if a.flow_gen == "vsw-bench" and "kernel" in a.only:
        ap.error("--flow-gen vsw-bench: vhost-user systems only (%s): the kernel system has taps" %
                 ",".join(VHOST_SYSTEMS))
    # A flow section only from the sweep as --flow-sweep defines it, each generator's its own.
    sweep = (a.flow_sweep and not a.quick and a.samples >= 7 and a.only == ["vsw", "ovs"]
             and a.flows == os.path.join(FLOWS_DIR, "pipeline.flows"))
    a.flow_full = sweep and a.flow_gen == "flowgen"
    a.flow_vb_full = sweep and a.flow_gen == "vsw-bench"
    # The TSO section only from a run with the three systems, split rings and 7 rounds or more.
    a.tso_full = a.tso and not a.quick and a.samples >= 7 and a.only == TSO_SYSTEMS and a.rings == ["split"]
    if a.tso:
        full = False
    if a.quick:
        a.samples, a.seconds, a.warmup, a.retries = 1, 1.0, 0.5, 0
        a.pingpong = min(a.pingpong, 2000) if a.pingpong else 0
        a.pingpong_sparse = min(a.pingpong_sparse, 50) if a.pingpong_sparse else 0
        a.bench_seconds = min(a.bench_seconds, 1) if a.bench_seconds else 0
        a.idle_seconds = min(a.idle_seconds, 2.0) if a.idle_seconds else 0
    a.doc_given = a.doc
    if a.no_doc:
        a.doc = None
    elif a.doc is None and (full or a.flow_full or a.flow_vb_full or a.tso_full):
        a.doc = os.path.join(REPO, "docs", "PERFORMANCE.md")
    a.full = full
    return a


def results_to_json(res):
    """The samples and failures of @res as --json saves them: each with its key's fields (flows_n for the flow
    kinds, whose key has five)."""
    return {"samples": [{**s, "kind": k[0], "system": k[1], "ring": k[2], "size": k[3],
                         **({"flows_n": k[4]} if len(k) > 4 else {})}
                        for k, ss in res.samples.items() for s in ss],
            "failures": [{"kind": k[0], "system": k[1], "ring": k[2], "size": k[3], "messages": m,
                          **({"flows_n": k[4]} if len(k) > 4 else {})}
                         for k, m in res.failures.items()]}


def results_from_json(saved):
    """The Results of a saved run (results_to_json()'s keys back)."""
    res = Results()
    for x in saved["samples"]:
        x = dict(x)
        key = (x.pop("kind"), x.pop("system"), x.pop("ring"), x.pop("size"))
        if key[0] in FLOW_SAMPLE_KINDS:
            key += (x["flows_n"],)
        res.samples.setdefault(key, []).append(x)
    for x in saved["failures"]:
        key = (x["kind"], x["system"], x["ring"], x["size"])
        res.failures[key + ((x["flows_n"],) if "flows_n" in x else ())] = x["messages"]
    return res


def report_from_json(a):
    """--from-json: the tables (and the doc section) again from a saved run, without measuring."""
    with open(a.from_json) as f:
        saved = json.load(f)
    for k in ("samples", "seconds", "warmup", "txfirst", "queue_size", "pingpong", "bench_seconds", "idle_seconds", "only",
              "sizes", "rings", "retries", "full", "flows_n", "flows", "flow_full", "tso", "tso_full",
              "pingpong_sparse", "pingpong_gap"):
        if k in saved["args"]:
            setattr(a, k, saved["args"][k])
    if "pingpong_sparse" not in saved["args"]:
        a.pingpong_sparse = 0     # a run from before the sparse ping-pong
    # A run saved before vsw-bench generated flows was flowgen's.
    a.flow_gen = saved["args"].get("flow_gen", "flowgen")
    a.flow_vb_full = saved["args"].get("flow_vb_full", False)
    res = results_from_json(saved)
    ctx = type("Ctx", (), {"args": a})()
    if a.tso:
        a.doc = a.doc_given if not a.no_doc else None
        if a.doc is None and a.tso_full and not a.no_doc:
            a.doc = os.path.join(REPO, "docs", "PERFORMANCE.md")
        tso_finish(a, res, saved["meta"], ctx)
        return 0
    if a.flows_n:
        a.doc = a.doc_given if not a.no_doc else None
        if a.doc is None and (a.flow_full or a.flow_vb_full) and not a.no_doc:
            a.doc = os.path.join(REPO, "docs", "PERFORMANCE.md")
        flow_finish(ctx, a, res, saved["meta"])
        return 0
    report = build_report(ctx, res, saved["meta"])
    log(report)
    if a.no_doc:
        return 0
    doc = a.doc_given or (os.path.join(REPO, "docs", "PERFORMANCE.md") if saved["args"].get("full") else None)
    if doc:
        write_doc(doc, SECTION_TEMPLATE + report)
        log("bench-switch: wrote the Switching section of %s" % doc)
    return 0


def main(argv):
    a = parse_args(argv)
    if a.self_test:
        cycles_self_test(None)
        flows_self_test()
        flow_gen_self_test()
        tso_self_test()
        return 0
    if a.from_json:
        return report_from_json(a)
    if os.geteuid() != 0:
        print("bench-switch: needs root (hugepages, network namespace, taps)", file=sys.stderr)
        return 2
    if (os.cpu_count() or 0) < 2:
        print("bench-switch: needs 2 CPUs", file=sys.stderr)
        return 2
    lock_fd = wait_turn(a.lock_wait, "bench-switch", lambda: bench_instances("bench-switch.py"))  # noqa: F841
    install_cleanup()
    ensure_packages(a.perf)
    if "ovs" in a.only and not os.path.exists(OVS_VSWITCHD):
        raise BenchError("%s missing after installing openvswitch-switch-dpdk" % OVS_VSWITCHD)
    reserve_hugepages(768)
    ctx = Ctx(a)
    if a.quick:
        cycles_self_test(ctx.vswd_knows_busy)
        flows_self_test()
        flow_gen_self_test()
        tso_self_test()
    # The orchestrator stays off the switch's CPU; children are pinned explicitly.
    os.sched_setaffinity(0, {ctx.gen_cpu})
    ok = False

    def tidy():
        if ok and not a.keep:
            shutil.rmtree(ctx.dir, ignore_errors=True)
        else:
            log("bench-switch: logs kept in %s" % ctx.dir)
    on_exit(tidy)

    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": "make bench" if os.environ.get("VSW_FROM_MAKE_BENCH") and a.full else
            "python3 scripts/bench-switch.py" + ("" if not argv else " " + " ".join(argv)),
            "machine": machine_notes(), "load_before": loadavg()}
    log("## switching: %s, load %s, work dir %s" % (meta["date"], " ".join("%.2f" % x for x in meta["load_before"]),
                                                    ctx.dir))
    res = Results()
    vhost = [s for s in VHOST_SYSTEMS if s in a.only]
    configs = [(s, r) for r in a.rings for s in vhost]
    if "kernel" in a.only:
        configs.append(("kernel", "tap"))
    t_start = time.monotonic()
    max_load = meta["load_before"][0]
    loads = []
    # With --flows-n, every round runs each N (in a rotated order too) for each configuration.
    for rnd in range(1, a.samples + 1):
        k = (rnd - 1) % len(configs)
        order = configs[k:] + configs[:k]
        sizes = a.sizes if rnd % 2 else list(reversed(a.sizes))
        ns = a.flows_n or [None]
        j = (rnd - 1) % len(ns)
        for n in ns[j:] + ns[:j]:
            for system, ring in order:
                loads.append(loadavg()[0])
                if a.tso:
                    tso_session(ctx, res, system, ring, rnd)
                elif n is not None and a.flow_gen == "vsw-bench":
                    vsw_bench_flow_session(ctx, res, system, ring, rnd, sizes, n)
                else:
                    session(ctx, res, system, ring, rnd, sizes, flows_n=n)
        max_load = max(max_load, loadavg()[0])
        log("  round %d done, %.0f s so far, load %.2f" % (rnd, time.monotonic() - t_start, loadavg()[0]))
    if a.idle_seconds and "vsw" in a.only and not a.tso:
        idle_phase(ctx, res, a.idle_seconds)
    perf_out = perf_phase(ctx, 5 if not a.quick else 2) if a.perf and "vsw" in a.only and not a.tso else None
    meta["load_after"] = loadavg()
    if perf_out:
        meta["perf"] = perf_out
    if loads:
        meta["load_during"] = [min(loads), med(loads), max(loads)]
    meta["seconds"] = time.monotonic() - t_start
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"meta": meta, "args": {k: v for k, v in vars(a).items()},
                       "cycles_per_frame": cycles_summary(res, a) if not a.flows_n and not a.tso else None,
                       **results_to_json(res)}, f, indent=1)
    if a.tso:
        tso_finish(a, res, meta, ctx)
    elif a.flows_n:
        flow_finish(ctx, a, res, meta)
    else:
        report = build_report(ctx, res, meta)
        log("")
        log(report)
        if perf_out:
            log("perf report (vswd, 64 B split, self time):\n" + perf_out)
        if a.doc:
            write_doc(a.doc, SECTION_TEMPLATE + report)
            log("bench-switch: wrote the Switching section of %s" % a.doc)
    vsw_failed = any(k[1] == "vsw" and not k[0].endswith("cycles") for k in res.failures)
    if a.tso:
        # A peer that cannot carry TSO frames is a finding of the run, reported above, not a failure of vsw's.
        ok = not any(k[1] == "vsw" for k in res.failures)
    else:
        ok = not res.failures
    log("bench-switch: %.0f s; %d sample(s), %d failure(s)%s" % (
        meta["seconds"], sum(len(v) for v in res.samples.values()), sum(len(v) for v in res.failures.values()),
        "; vsw failed" if vsw_failed else ""))
    # A --quick run is the CI smoke run: any failure, a peer's too, fails it.
    return 1 if vsw_failed or (a.quick and not ok) else 0


if __name__ == "__main__":
    try:
        rc = main(sys.argv[1:])
    except BenchError as e:
        print("bench-switch: %s" % e, file=sys.stderr)
        rc = 1
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        rc = 1
    close_all()
    sys.exit(rc)
