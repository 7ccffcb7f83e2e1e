#!/usr/bin/env python3
"""bench-containers.py - container to container through vswd (AF_XDP, AF_PACKET ports) and a Linux bridge.

    python3 scripts/bench-containers.py [--build build] [--rounds N] [--seconds S] [--tcp-seconds T]
                                        [--systems NAME,...] [--gen af_xdp|af_packet] [--quick] [--vxlan]
                                        [--wait-load L] [--wait-max S] [--quiet-load L]
                                        [--doc docs/PERFORMANCE.md | --no-doc] [--json FILE] [--keep]

Two "containers" (network namespaces c1, c2, each with a veth eth0) are
joined by the system under test, whose interfaces live in a third
namespace (sw), so nothing touches the host's own networking:

    netns c1: eth0 10.0.0.1 ==veth== p1 ]                 [ p2 ==veth== eth0 10.0.0.2 :netns c2
                                          netns sw: vswd or br0

Systems (--systems, default all but the extras):
  vsw-xdp         vswd, ports `afxdp ifname=p1|p2` (mode auto: native on veth), busy polling
  vsw-xdp-ev      the same, event-driven (busy_poll false)
  vsw-pkt         vswd, ports `afpacket ifname=p1|p2`, busy polling; container offloads as the kernel
                  sets them (TSO/GSO on: the ports take and send 64 KiB GSO frames whole)
  vsw-pkt-ev      the same, event-driven
  bridge          a Linux bridge br0 in netns sw, container offloads as the kernel sets them
  bridge-rps      the same, with receive packet steering of p1 and p2 to CPU 0 (the bridge's work
                  moves off the generator's CPU onto the switch's CPU, as vswd's does)
extras (only when named):
  vsw-pkt-nooff   (TCP only) vsw-pkt with TSO/GSO off in both containers (before issue 15: the
                  AF_PACKET ports took no GSO frames)
  bridge-nooff    (TCP only) the bridge with TSO/GSO off in both containers, the vsw-pkt-nooff settings
  vsw-xdp-skb     vswd, `afxdp ... mode=skb` (generic XDP), TSO/GSO off in both containers
  vsw-pkt-rps     vsw-pkt with receive packet steering of p1 and p2 to CPU 0, as bridge-rps (p1's
                  receive on one backlog: c1's frames stay in order, see "Retransmits" in the doc)

For every system and round a fresh topology is built (namespaces, veths,
vswd or the bridge), then: one ping c1 -> c2 (connectivity, and the switch
learns both MACs), TCP with iperf3 (c1 -> c2, both ends on CPU 1), then
64-byte frames one way: dpdk-testpmd txonly in c1 (on CPU 1) sends 60-byte
UDP frames (64 with the FCS) 10.0.0.1 -> 10.0.0.2 to c2's MAC, and the rate
is what c2's eth0 received (its rx_packets over the window).  vswd runs
under `taskset -c 0` with "cpus":[0].  The order of the systems rotates
from round to round; medians, min-max and ratios to the bridge (median /
median, in parentheses the range of per-round ratios) are printed as
markdown.  A full run (no --quick, default systems, >= 3 rounds) rewrites the
"Containers" section of docs/PERFORMANCE.md unless --no-doc.

Needs root, ip, ethtool, iperf3, busybox (ping), dpdk-testpmd (dpdk), build/vswd, build/vswctl.
Exit status 1 when a vsw sample failed (no connectivity, vswd died), else 0.
"""

import argparse
import datetime
import functools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_procs import (BenchError, Proc, cpu_busy, cpu_ticks, install_cleanup, loadavg,  # noqa: E402
                         log, med, on_exit, proc_cpu_seconds, set_autogroup_nice, set_nice, write_doc_section)
import bench_procs  # noqa: E402

# Short commands here get 20 s unless they say otherwise.
run = functools.partial(bench_procs.run, timeout=20)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SW_CPU, GEN_CPU = 0, 1
TAG = "%04x" % (os.getpid() & 0xffff)
NS = {"c1": "vbc%sc1" % TAG, "c2": "vbc%sc2" % TAG, "sw": "vbc%ssw" % TAG}
IP = {"c1": "10.0.0.1", "c2": "10.0.0.2"}
INNER = {"c1": "10.0.1.1", "c2": "10.0.1.2"}   # --vxlan: the vxlan devices' addresses
MAC = {"c1": "02:76:73:64:00:01", "c2": "02:76:73:64:00:02"}
HOST_END = {"c1": "p1", "c2": "p2"}
FRAME = 60                    # bytes without the FCS: a 64-byte Ethernet frame

# name: (label, kind, params)
SYSTEMS = {
    "vsw-xdp": ("vsw AF_XDP, busy poll", "vsw", {"type": "afxdp", "busy": True, "offloads": None}),
    "vsw-xdp-ev": ("vsw AF_XDP, event-driven", "vsw", {"type": "afxdp", "busy": False, "offloads": None}),
    "vsw-pkt": ("vsw AF_PACKET, busy poll", "vsw", {"type": "afpacket", "busy": True, "offloads": None}),
    "vsw-pkt-ev": ("vsw AF_PACKET, event-driven", "vsw", {"type": "afpacket", "busy": False, "offloads": None}),
    "bridge": ("Linux bridge", "bridge", {"rps": None, "offloads": None}),
    "bridge-rps": ("Linux bridge, RPS to CPU 0", "bridge", {"rps": SW_CPU, "offloads": None}),
    "vsw-pkt-nooff": ("vsw AF_PACKET, TSO/GSO off", "vsw",
                      {"type": "afpacket", "busy": True, "offloads": "off", "tcp_only": True}),
    "bridge-nooff": ("Linux bridge, TSO/GSO off", "bridge", {"rps": None, "offloads": "off", "tcp_only": True}),
    "vsw-xdp-skb": ("vsw AF_XDP skb mode, busy poll", "vsw",
                    {"type": "afxdp", "mode": "skb", "busy": True, "offloads": "off"}),
    "vsw-pkt-rps": ("vsw AF_PACKET, busy poll, RPS to CPU 0", "vsw",
                    {"type": "afpacket", "busy": True, "offloads": None, "rps": SW_CPU}),
}
# Issue 15: offloads on everywhere by default (the kernel's settings); the TSO/GSO-off pair only when named.
DEFAULT_SYSTEMS = ["vsw-xdp", "vsw-xdp-ev", "vsw-pkt", "vsw-pkt-ev", "bridge", "bridge-rps"]
REFERENCE = "bridge"
FOREIGN_MAX = 0.10            # one of our tasks waited for its CPU longer than this share of a window: disturbed


# ---------------------------------------------------------------- machine

def cpu_user(a, b):
    """Per CPU: the share of user (and nice) time between two cpu_ticks() snapshots."""
    return {c: (b[c][2] - a[c][2]) / max(1, b[c][1] - a[c][1]) for c in b if c in a}


def proc_utime(pid):
    """User time of process @pid (all threads), in seconds, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) / os.sysconf("SC_CLK_TCK")


def run_delay(pid):
    """Seconds the threads of @pid spent runnable but waiting for a CPU (schedstat), or None."""
    total = 0
    try:
        for tid in os.listdir("/proc/%s/task" % pid):
            with open("/proc/%s/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return total / 1e9


def kthread_pid(name):
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/comm" % pid) as f:
                    if f.read().strip() == name:
                        return int(pid)
            except OSError:
                pass
    return None


def waited(pid, a, b, dt):
    """Share of @dt that @pid waited for its CPU between run_delay() values @a and @b."""
    return (b - a) / dt if pid and a is not None and b is not None and dt > 0 else None


def foreign_user(cpu_a, cpu_b, cpu, own_a, own_b, dt):
    """The share of @cpu's time spent in user mode by tasks other than ours (own_a/b: our user seconds there)."""
    share = cpu_user(cpu_a, cpu_b).get(cpu)
    if share is None:
        return None
    own = (own_b - own_a) / dt if own_a is not None and own_b is not None else 0.0
    return max(0.0, share - own)


def machine_notes():
    model = bench_procs.cpu_model()
    debian = "?"
    if os.path.exists("/etc/debian_version"):
        with open("/etc/debian_version") as f:
            debian = f.read().strip()

    def ver(p):
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", p], capture_output=True, text=True).stdout or "?"
    virt = subprocess.run(["systemd-detect-virt"], capture_output=True, text=True).stdout.strip() \
        if shutil.which("systemd-detect-virt") else "?"
    hz = irqt = "?"
    for path in ("/boot/config-" + platform.release(), "/proc/config.gz"):
        try:
            if path.endswith(".gz"):
                import gzip
                with gzip.open(path, "rt") as f:
                    text = f.read()
            else:
                with open(path) as f:
                    text = f.read()
        except OSError:
            continue
        m = re.search(r"^CONFIG_HZ=(\d+)", text, re.M)
        hz = m.group(1) if m else "?"
        irqt = "on" if re.search(r"^CONFIG_IRQ_TIME_ACCOUNTING=y", text, re.M) else "off"
        break
    return {"cpu": model, "cpus": os.cpu_count(), "kernel": platform.release(), "debian": debian,
            "dpdk": ver("dpdk"), "iperf3": ver("iperf3"), "virt": virt, "hz": hz, "irq_time": irqt}


def vsw_source(build):
    """The repository's commit, whether src/ include/ had uncommitted changes, and when vswd was built."""
    if shutil.which("git") is None:   # a source tree without git (a tarball, a fresh root): say so
        r = d = subprocess.CompletedProcess([], 0, "? (no git)", "")
    else:
        r = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        d = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--", "src", "include"],
                           capture_output=True, text=True)
    try:
        built = datetime.datetime.fromtimestamp(os.path.getmtime(os.path.join(build, "vswd")),
                                                datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except OSError:
        built = "?"
    dirty = d is not r and d.stdout.strip()
    return "commit %s%s, vswd built %s" % (r.stdout.strip() or "?",
                                           " + uncommitted src/include changes" if dirty else "", built)


# ---------------------------------------------------------------- topology

def link_stats(ns, dev=None):
    """{ifname: stats64 dict} of @ns (or just @dev)."""
    argv = ["ip", "-n", ns, "-s", "-j", "link", "show"] + (["dev", dev] if dev else [])
    out = run(argv, timeout=10).stdout
    return {e["ifname"]: e.get("stats64", {}) for e in json.loads(out)}


def tcp_counters(ns):
    """The TCP segments @ns retransmitted and, of those, the ones its peers D-SACKed (RFC 2883: the peer had
    them already, the retransmission was spurious), from its /proc/net/snmp and netstat:
    {"RetransSegs": n, "TCPDSACKRecvSegs": n}, or None when unreadable."""
    out = run(["cat", "/proc/net/snmp", "/proc/net/netstat"], ns=ns, timeout=10, check=False).stdout
    res = {}
    lines = out.splitlines()
    for head, vals in zip(lines, lines[1:]):
        h, v = head.split(), vals.split()
        if h and v and h[0] == v[0] and h[0] in ("Tcp:", "TcpExt:") and h[1:] != v[1:]:
            for k, x in zip(h[1:], v[1:]):
                if k in ("RetransSegs", "TCPDSACKRecvSegs") and x.isdigit():
                    res[k] = int(x)
    return res if len(res) == 2 else None


def offload_state(ns, dev="eth0"):
    """'tso on, gso on' as ethtool -k shows them ('[fixed]' kept)."""
    out = run(["ethtool", "-k", dev], ns=ns, timeout=10, check=False).stdout
    res = []
    for key, short in (("tcp-segmentation-offload", "tso"), ("generic-segmentation-offload", "gso")):
        m = re.search(r"^%s: (\w+)( \[fixed\])?" % key, out, re.M)
        res.append("%s %s%s" % (short, m.group(1), " fixed" if m and m.group(2) else "") if m else short + " ?")
    fixed = re.search(r"^\s+tx-tcp-segmentation: off \[fixed\]", out, re.M)
    if fixed and "tso off" in res[0] and "fixed" not in res[0]:
        res[0] = "tso off (fixed)"
    return ", ".join(res)


class Topo:
    """Namespaces c1, c2, sw; veth c1:eth0 -- sw:p1 and c2:eth0 -- sw:p2; IPv6 off; addresses in c1/c2 only."""

    def __init__(self):
        self.made = []
        try:
            for k in ("c1", "c2", "sw"):
                run(["ip", "netns", "add", NS[k]])
                self.made.append(NS[k])
                run(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"],
                    ns=NS[k])
                run(["ip", "-n", NS[k], "link", "set", "lo", "up"])
            for k in ("c1", "c2"):
                run(["ip", "-n", NS[k], "link", "add", "eth0", "address", MAC[k], "type", "veth", "peer", "name",
                     HOST_END[k], "netns", NS["sw"]])
                run(["ip", "-n", NS[k], "addr", "add", IP[k] + "/24", "dev", "eth0"])
                run(["ip", "-n", NS[k], "link", "set", "eth0", "up"])
                run(["ip", "-n", NS["sw"], "link", "set", HOST_END[k], "up"])
            # Static neighbours: no ARP during the windows.  c2 sends no ICMP errors back for the generator's
            # frames (UDP port 9, no socket): the reverse direction stays quiet.
            run(["ip", "-n", NS["c1"], "neigh", "replace", IP["c2"], "lladdr", MAC["c2"], "dev", "eth0", "nud",
                 "permanent"])
            run(["ip", "-n", NS["c2"], "neigh", "replace", IP["c1"], "lladdr", MAC["c1"], "dev", "eth0", "nud",
                 "permanent"])
            run(["sysctl", "-qw", "net.ipv4.icmp_msgs_per_sec=0", "net.ipv4.icmp_msgs_burst=0"], ns=NS["c2"],
                check=False)
        except Exception:
            self.delete()
            raise

    def vxlan(self):
        """--vxlan: a vxlan device vx0 in c1 and c2 over eth0 (VNI 42, port 4789, outer UDP checksums on), the
        inner addresses INNER: a container overlay, whose TSO frames reach the switch as a UDP tunnel's."""
        for k, other in (("c1", "c2"), ("c2", "c1")):
            run(["ip", "-n", NS[k], "link", "add", "vx0", "type", "vxlan", "id", "42", "local", IP[k], "remote",
                 IP[other], "dstport", "4789", "udpcsum"])
            run(["ip", "-n", NS[k], "addr", "add", INNER[k] + "/24", "dev", "vx0"])
            run(["ip", "-n", NS[k], "link", "set", "vx0", "up"])

    def offloads_off(self):
        for k in ("c1", "c2"):
            run(["ethtool", "-K", "eth0", "tso", "off", "gso", "off"], ns=NS[k])

    def delete(self):
        for ns in reversed(self.made):
            run(["ip", "netns", "del", ns], check=False, timeout=30)
        self.made = []


def leftover_netns():
    out = run(["ip", "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith("vbc%s" % TAG)]


# ---------------------------------------------------------------- systems under test

class Vswd:
    def __init__(self, ctx, params):
        self.ctx = ctx
        self.ctl = os.path.join(ctx.dir, "ctl.sock")
        if os.path.exists(self.ctl):
            os.unlink(self.ctl)
        ports = []
        for k in ("c1", "c2"):
            p = {"name": k, "type": params["type"], "ifname": HOST_END[k]}
            if params.get("mode"):
                p["mode"] = params["mode"]
            ports.append(p)
        set_rps(params)
        conf = {"workers": 1, "cpus": [SW_CPU], "busy_poll": params["busy"], "ports": ports}
        self.conf_path = os.path.join(ctx.dir, "vswd.json")
        with open(self.conf_path, "w") as f:
            json.dump(conf, f)
        self.conf = conf
        self.proc = Proc(["taskset", "-c", SW_CPU, ctx.vswd, "--foreground", "--ctl", self.ctl, "--config",
                          self.conf_path], ctx.logpath("vswd"), ns=NS["sw"], name="vswd",
                         keep_buf=False)
        self.proc.wait_for(r"ready: control socket", timeout=15)
        self.show = self.call("show")
        names = [p["name"] for p in self.show.get("ports", [])]
        if sorted(names) != ["c1", "c2"]:
            raise BenchError("vswd: ports %s, wanted c1 and c2" % names)

    @property
    def pid(self):
        return self.proc.pid

    def call(self, *args):
        r = run([self.ctx.vswctl, "--ctl", self.ctl, "--json"] + list(args), timeout=10, check=False)
        try:
            return json.loads(r.stdout)
        except ValueError:
            raise BenchError("vswctl %s: exit %d, no JSON: %s" % (" ".join(args), r.returncode,
                                                                  (r.stderr or r.stdout).strip()[-400:]))

    def died(self):
        """None while vswd runs, else why it is gone (its last log line)."""
        if self.proc.alive():
            return None
        time.sleep(0.2)
        lines = [ln for ln in self.proc.tail(2000).splitlines() if ln.strip()]
        return "vswd exited (status %s): %s" % (self.proc.p.poll(), lines[-1] if lines else "no output")

    def port_counters(self):
        """{port: {"rx_packets", "tx_packets"}} from vswctl stats, or None."""
        try:
            t0 = time.monotonic()
            st = self.call("stats")
            res = {p["name"]: {"rx_packets": p["rx_packets"], "tx_packets": p["tx_packets"]}
                   for p in st.get("ports", [])}
            res["t"] = (t0 + time.monotonic()) / 2
            return res
        except (BenchError, KeyError):
            return None

    def port_states(self):
        return {p["name"]: p.get("state", "") for p in self.show.get("ports", [])}

    def close(self):
        self.proc.close(term_timeout=10)


def set_rps(params):
    """Receive packet steering of the host ends p1 and p2 to CPU params["rps"], if given."""
    if params.get("rps") is not None:
        mask = "%x" % (1 << params["rps"])
        for k in ("c1", "c2"):
            run(["sh", "-c", "echo %s > /sys/class/net/%s/queues/rx-0/rps_cpus" % (mask, HOST_END[k])], ns=NS["sw"])


class Bridge:
    def __init__(self, ctx, params):
        sw = NS["sw"]
        run(["ip", "-n", sw, "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0",
             "mcast_snooping", "0"])
        for k in ("c1", "c2"):
            run(["ip", "-n", sw, "link", "set", HOST_END[k], "master", "br0"])
        run(["ip", "-n", sw, "link", "set", "br0", "up"])
        set_rps(params)
        self.pid = None

    def port_counters(self):
        return None

    def died(self):
        return None

    def close(self):
        pass


# ---------------------------------------------------------------- traffic

def ping(timeout=5.0):
    """One echo c1 -> c2 answered within @timeout seconds (retries each second)."""
    deadline = time.monotonic() + timeout
    while True:
        r = run(["busybox", "ping", "-c", "1", "-W", "1", IP["c2"]], ns=NS["c1"], check=False, timeout=5)
        if r.returncode == 0:
            return True
        if time.monotonic() > deadline:
            return False


def ping_rtt(count):
    """@count echoes c1 -> c2, 20 ms apart; (avg, max) round trip in ms, or None when some were lost."""
    r = run(["busybox", "ping", "-q", "-c", count, "-i", "0.02", "-W", "1", IP["c2"]], ns=NS["c1"], check=False,
            timeout=count * 0.02 + 10)
    m = re.search(r"(\d+) packets received.*?round-trip min/avg/max = ([\d.]+)/([\d.]+)/([\d.]+)", r.stdout, re.S)
    if not m or int(m.group(1)) != count:
        return None
    return float(m.group(3)), float(m.group(4))


def tcp_test(ctx, sut, seconds, omit, cc):
    """iperf3 c1 -> c2 with congestion control @cc (iperf3 -C: the sender's socket), both ends on the
    generator's CPU; returns (Gbit/s received, retransmits, other tasks' user share of CPU 0 and of CPU 1
    while it ran)."""
    dst = INNER["c2"] if ctx.args.vxlan else IP["c2"]
    srv = Proc(["iperf3", "-s", "-1", "-A", GEN_CPU, "--forceflush", "-B", dst], ctx.logpath("iperf3-server"),
               keep_buf=False,
               ns=NS["c2"], name="iperf3 -s")
    try:
        srv.wait_for(r"Server listening", timeout=10)
        w0 = run_delay(sut.pid) if sut.pid else None
        p0 = proc_cpu_seconds(sut.pid) if sut.pid else None
        n0 = tcp_counters(NS["c1"])
        u0, k0, t0, c0 = proc_utime(sut.pid) if sut.pid else None, cpu_ticks(), time.monotonic(), os.times()
        r = run(["iperf3", "-c", dst, "-t", seconds, "-O", omit, "-A", GEN_CPU, "-C", cc, "-J",
                 "--connect-timeout", "3000"], ns=NS["c1"], timeout=seconds + omit + 20, check=False)
        u1, k1, t1 = proc_utime(sut.pid) if sut.pid else None, cpu_ticks(), time.monotonic()
        w1 = run_delay(sut.pid) if sut.pid else None
        p1 = proc_cpu_seconds(sut.pid) if sut.pid else None
        n1 = tcp_counters(NS["c1"])
        if n0 and n1:
            ctx.tcp_cpu["retrans_segs"] = n1["RetransSegs"] - n0["RetransSegs"]
            ctx.tcp_cpu["dsack_segs"] = n1["TCPDSACKRecvSegs"] - n0["TCPDSACKRecvSegs"]
        foreign0 = foreign_user(k0, k1, SW_CPU, u0, u1, t1 - t0)
        ctx.tcp_sut_wait = waited(sut.pid, w0, w1, t1 - t0)
        busy = cpu_busy(k0, k1)
        ctx.tcp_cpu.update({"tcp_cpu0_busy": busy.get(SW_CPU), "tcp_cpu1_busy": busy.get(GEN_CPU),
                            "tcp_sut_cpu": (p1 - p0) / (t1 - t0) if p0 is not None and p1 is not None else None})
        srv.wait(5)
        # Both iperf3 ends are our children (ip netns exec execs them): once reaped, their user time is in
        # os.times(); the server's last second after the client ended is not in the window, a small error.
        c1 = os.times()
        foreign1 = foreign_user(k0, k1, GEN_CPU, c0.children_user, c1.children_user, t1 - t0)
        with open(ctx.logpath("iperf3-client"), "a") as f:
            f.write(r.stdout[-20000:] + r.stderr)
        try:
            j = json.loads(r.stdout)
        except ValueError:
            raise BenchError("iperf3: exit %d, no JSON: %s" % (r.returncode, (r.stderr or r.stdout)[-300:]))
        if "error" in j:
            raise BenchError("iperf3: %s" % j["error"])
        end = j["end"]
        if end.get("sender_tcp_congestion") != cc:
            raise BenchError("iperf3 sent with congestion control %r, not %s" % (end.get("sender_tcp_congestion"), cc))
        return end["sum_received"]["bits_per_second"] / 1e9, end["sum_sent"].get("retransmits"), foreign0, foreign1
    finally:
        if srv.wait(5) is None:
            srv.close()
        else:
            srv.close()


class Generator:
    """dpdk-testpmd txonly in c1 on CPU 1 (two lcores, both on CPU 1: the main one only waits for Enter)."""

    def __init__(self, ctx):
        a = ctx.args
        vdev = {"af_xdp": "net_af_xdp0,iface=eth0", "af_packet": "net_af_packet0,iface=eth0,qdisc_bypass=1"}[a.gen]
        argv = ["stdbuf", "-oL", "dpdk-testpmd", "--lcores=0@%d,1@%d" % (GEN_CPU, GEN_CPU), "--no-huge", "-m", "512",
                "--no-shconf", "--file-prefix", "vbc" + TAG, "--no-pci", "--vdev", vdev,
                "--log-level=lib.eal:warning", "--", "--forward-mode=txonly", "--txpkts=%d" % FRAME,
                "--tx-ip=%s,%s" % (IP["c1"], IP["c2"]), "--eth-peer=0,%s" % MAC["c2"], "--burst=32",
                "--nb-cores=1", "--total-num-mbufs=16384", "--txd=1024", "--rxd=1024"]
        self.proc = Proc(argv, ctx.logpath("testpmd"), ns=NS["c1"], stdin=True, name="testpmd", keep_buf=False)
        self.proc.wait_for(r"Press enter to exit", timeout=60)

    def stop(self):
        try:
            self.proc.p.stdin.write(b"\n")
            self.proc.p.stdin.flush()
        except OSError:
            pass
        self.proc.wait(15)
        self.proc.close()


def counters():
    """Counters for one end of a window: generator side, receiver side, the switch's interfaces, CPU."""
    t0 = time.monotonic()
    c1 = link_stats(NS["c1"], "eth0")["eth0"]
    t1 = time.monotonic()
    c2 = link_stats(NS["c2"], "eth0")["eth0"]
    t2 = time.monotonic()
    sw = link_stats(NS["sw"])
    return {"t_c1": (t0 + t1) / 2, "t_c2": (t1 + t2) / 2, "c1": c1, "c2": c2, "sw": sw, "cpu": cpu_ticks()}


def delta(a, b, *path):
    def get(s):
        for p in path:
            s = s.get(p, {}) if isinstance(s, dict) else {}
        return s if isinstance(s, int) else 0
    return get(b) - get(a)


def mpps_test(ctx, sut, warmup, seconds):
    gen = Generator(ctx)
    try:
        time.sleep(warmup)
        pid, gpid = sut.pid, gen.proc.pid
        v0 = sut.port_counters()
        c0, tc0 = proc_cpu_seconds(pid) if pid else None, time.monotonic()
        su0, gu0 = proc_utime(pid) if pid else None, proc_utime(gpid)
        ks = [kthread_pid("ksoftirqd/%d" % c) for c in (SW_CPU, GEN_CPU)]
        w0 = [run_delay(x) if x else None for x in [pid, gpid] + ks]
        a = counters()
        time.sleep(seconds)
        b = counters()
        w1 = [run_delay(x) if x else None for x in [pid, gpid] + ks]
        c1, tc1 = proc_cpu_seconds(pid) if pid else None, time.monotonic()
        su1, gu1 = proc_utime(pid) if pid else None, proc_utime(gpid)
        v1 = sut.port_counters()
    finally:
        gen.stop()
    dt = b["t_c2"] - a["t_c2"]
    rx = delta(a, b, "c2", "rx", "packets")
    offered = delta(a, b, "c1", "tx", "packets") + delta(a, b, "c1", "tx", "dropped")
    busy = cpu_busy(a["cpu"], b["cpu"])
    res = {"mpps": rx / dt / 1e6, "offered_mpps": offered / (b["t_c1"] - a["t_c1"]) / 1e6, "window_s": dt,
           "cpu0_busy": busy.get(SW_CPU), "cpu1_busy": busy.get(GEN_CPU),
           "c1_tx_dropped": delta(a, b, "c1", "tx", "dropped"), "c1_rx": delta(a, b, "c1", "rx", "packets"), "c2_rx_dropped": delta(a, b, "c2", "rx", "dropped")}
    for k in ("p1", "p2"):
        res[k + "_rx_dropped"] = delta(a["sw"], b["sw"], k, "rx", "dropped")
        res[k + "_tx_dropped"] = delta(a["sw"], b["sw"], k, "tx", "dropped")
    if c0 is not None and c1 is not None:
        res["sut_cpu"] = (c1 - c0) / (tc1 - tc0)
    # How long our tasks waited for their CPU: another task ran there (or, for ksoftirqd, ours did).
    for key, x, wa, wb in zip(("sut_wait", "gen_wait", "ksoftirqd0_wait", "ksoftirqd1_wait"), [pid, gpid] + ks,
                              w0, w1):
        res[key] = waited(x, wa, wb, dt)
    # Other tasks on our CPUs (other benchmarks on the machine): user time that is not vswd's or testpmd's.
    res["foreign_cpu0"] = foreign_user(a["cpu"], b["cpu"], SW_CPU, su0, su1, dt)
    res["foreign_cpu1"] = foreign_user(a["cpu"], b["cpu"], GEN_CPU, gu0, gu1, dt)
    if v0 and v1:
        # Where frames were lost: before vswd (p1 took them, port c1 did not receive them: the socket's ring)
        # and after it (port c2 sent them, c2's eth0 did not receive them).
        # Rates, each over its own interval: vswctl is asked just before and after the link counters.
        vdt = v1["t"] - v0["t"]
        vrx = (v1["c1"]["rx_packets"] - v0["c1"]["rx_packets"]) / vdt
        vtx = (v1["c2"]["tx_packets"] - v0["c2"]["tx_packets"]) / vdt
        p1rx = delta(a["sw"], b["sw"], "p1", "rx", "packets") / (b["t_c2"] - a["t_c2"])
        res["vsw_rx_mpps"], res["vsw_tx_mpps"] = vrx / 1e6, vtx / 1e6
        res["lost_before_vsw"] = max(0.0, 1 - vrx / p1rx) if p1rx else 0.0
        res["lost_after_vsw"] = max(0.0, 1 - (rx / dt) / vtx) if vtx else 0.0
    return res


# ---------------------------------------------------------------- one sample

class Ctx:
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="vsw-bct-")
        self.logdir = os.path.join(self.dir, "logs")
        os.makedirs(self.logdir)
        self.cur = "setup"
        # Private copies: others may rebuild build/ while we run.
        self.vswd = os.path.join(self.dir, "vswd")
        self.vswctl = os.path.join(self.dir, "vswctl")
        for src, dst in ((os.path.join(args.build, "vswd"), self.vswd),
                         (os.path.join(args.build, "vswctl"), self.vswctl)):
            if not os.access(src, os.X_OK):
                raise BenchError("%s missing: build vsw first (make)" % src)
            shutil.copy2(src, dst)

    def logpath(self, what):
        return os.path.join(self.logdir, "%s.%s.log" % (self.cur, what))


def sample(ctx, system, rnd):
    """Build, measure, tear down one system; returns a dict (with "error" when it failed)."""
    a = ctx.args
    label, kind, params = SYSTEMS[system]
    ctx.cur = "r%d-%s" % (rnd, system)
    s = {"system": system, "round": rnd, "load": loadavg()[0]}
    topo = sut = None
    try:
        topo = Topo()
        if params.get("offloads") == "off":
            topo.offloads_off()
        if a.vxlan:
            topo.vxlan()
            s["vxlan"] = True
        sut = Vswd(ctx, params) if kind == "vsw" else Bridge(ctx, params)
        if kind == "vsw":
            s["ports"] = sut.port_states()
        s["offloads_c1"] = offload_state(NS["c1"])
        s["offloads_c2"] = offload_state(NS["c2"])
        if not ping():
            raise BenchError("no ping reply c1 -> c2 within 5 s")
        if a.pings:
            rtt = ping_rtt(a.pings)
            if rtt is None:
                raise BenchError("ping: lost echoes of %d" % a.pings)
            s["rtt_avg_ms"], s["rtt_max_ms"] = rtt
        for cc in ([] if a.no_tcp else a.cc):
            ctx.tcp_sut_wait, ctx.tcp_cpu = None, {}
            t = s.setdefault("tcp", {}).setdefault(cc, {})
            t["gbps"], t["retrans"], t["tcp_foreign_cpu0"], t["tcp_foreign_cpu1"] = tcp_test(
                ctx, sut, a.tcp_seconds, a.tcp_omit, cc)
            t["tcp_sut_wait"] = ctx.tcp_sut_wait
            t.update(ctx.tcp_cpu)
            s["tcp_sut_wait"] = max(s.get("tcp_sut_wait") or 0.0, ctx.tcp_sut_wait or 0.0)
            why = sut.died()
            if why:
                raise BenchError("during TCP (%s): %s" % (cc, why))
        if not params.get("tcp_only") and not a.no_mpps:
            s.update(mpps_test(ctx, sut, a.warmup, a.seconds))
            why = sut.died()
            if why:
                raise BenchError("during 64-byte frames: " + why)
        if kind == "vsw":
            st = sut.call("stats")
            s["vsw_drops"] = {p["name"]: {k: v for k, v in p.get("drops", {}).items() if v}
                              for p in st.get("ports", [])}
            sh = sut.call("show")
            s["ports_after"] = {p["name"]: p.get("state", "") for p in sh.get("ports", [])}
    except BenchError as e:
        s["error"] = str(e)
        if sut is not None and kind == "vsw":
            why = sut.died()
            if why and why not in s["error"]:
                s["error"] += "; " + why
    finally:
        if sut is not None:
            sut.close()
        if topo is not None:
            topo.delete()
    return s


def describe(s):
    parts = []
    if s.get("rtt_avg_ms") is not None:
        parts.append("ping %.3f/%.3f ms" % (s["rtt_avg_ms"], s["rtt_max_ms"]))
    for cc, t in tcp_runs(s):
        if t.get("gbps") is None:
            continue
        parts.append("TCP%s %.2f Gbit/s (%s retr%s%s, CPU0 %.0f%% CPU1 %.0f%%)" % (
            " " + cc if cc else "", t["gbps"], t.get("retrans"),
            "; c1 resent %d segments, %d D-SACKed" % (t["retrans_segs"], t["dsack_segs"])
            if t.get("retrans_segs") else "",
            ", vswd %.0f%%" % (100 * t["tcp_sut_cpu"]) if t.get("tcp_sut_cpu") is not None else "",
            100 * (t.get("tcp_cpu0_busy") or 0), 100 * (t.get("tcp_cpu1_busy") or 0)))
    if s.get("mpps") is not None:
        parts.append("64 B %.3f Mpps of %.3f offered" % (s["mpps"], s["offered_mpps"]))
        if s.get("lost_before_vsw") is not None:
            parts.append("lost before vswd %.0f%%, after %.0f%%" % (100 * s["lost_before_vsw"],
                                                                   100 * s["lost_after_vsw"]))
        if s.get("sut_cpu") is not None:
            parts.append("vswd %.0f%% CPU" % (100 * s["sut_cpu"]))
        parts.append("CPU0 %.0f%% CPU1 %.0f%%" % (100 * (s["cpu0_busy"] or 0), 100 * (s["cpu1_busy"] or 0)))
    if s.get("vsw_drops") and any(s["vsw_drops"].values()):
        parts.append("drops %s" % s["vsw_drops"])
    if foreign(s) > 0.01:
        parts.append("waited %.0f%%%s" % (100 * foreign(s), " DISTURBED" if disturbed(s) else ""))
    if s.get("error"):
        parts.append("FAILED: " + s["error"])
    return "; ".join(parts)


# ---------------------------------------------------------------- report


def tcp_runs(s):
    """A sample's TCP runs as (congestion control, fields); a sample of an older --json (one run, its fields
    in the sample itself, the congestion control not recorded) gives (None, the sample)."""
    if "tcp" in s:
        return list(s["tcp"].items())
    return [(None, s)] if s.get("gbps") is not None else []


def get(s, field):
    """@field of sample @s; "gbps@cubic" is field gbps of its TCP run with cubic."""
    if "@" in field:
        name, cc = field.split("@", 1)
        return dict(tcp_runs(s)).get(cc, {}).get(name)
    return s.get(field)


def vals(samples, system, field):
    return [get(s, field) for s in samples if s["system"] == system and get(s, field) is not None
            and not s.get("error")]


def spread(xs, prec):
    if not xs:
        return "—"
    f = "%%.%df" % prec
    if len(xs) == 1:
        return f % xs[0]
    return (f + " (" + f + "–" + f + ")") % (med(xs), min(xs), max(xs))


def ratio(samples, system, ref, field):
    va, vb = vals(samples, system, field), vals(samples, ref, field)
    if not va or not vb or system == ref:
        return "—"
    r = med(va) / med(vb)
    a = {s["round"]: get(s, field) for s in samples if s["system"] == system and get(s, field) is not None
         and not s.get("error")}
    b = {s["round"]: get(s, field) for s in samples if s["system"] == ref and get(s, field) is not None
         and not s.get("error")}
    pr = [a[k] / b[k] for k in sorted(a) if k in b and b[k]]
    if len(pr) > 1:
        return "%.2fx (%.2f–%.2f)" % (r, min(pr), max(pr))
    return "%.2fx" % r


def foreign(s):
    """The largest share of a window one of our tasks spent waiting for its CPU (0 if unknown): vswd (64-byte
    and TCP windows), testpmd, and for the bridge with RPS ksoftirqd/0, which does the bridging on CPU 0 when
    the softirq load defers to it."""
    keys = ["sut_wait", "tcp_sut_wait", "gen_wait"]
    if SYSTEMS[s["system"]][2].get("rps") is not None:
        keys.append("ksoftirqd0_wait")
    return max([s.get(k) or 0.0 for k in keys])


def disturbed(s):
    return foreign(s) > FOREIGN_MAX


def tcp_field(field, cc):
    return field if cc is None else field + "@" + cc


def table(samples, systems, ref, ccs):
    """@ccs: the congestion controls of the TCP runs (None: an older run's one, not recorded)."""
    tcp_head = "".join("| TCP Gbit/s%s | vs bridge | TCP retr " % (", " + cc if cc else "") for cc in ccs)
    out = ["| system | 64 B Mpps at c2 | vs bridge | offered Mpps | delivered " + tcp_head +
           "| ping avg ms | vswd CPU | CPU 0 busy | CPU 1 busy | samples |",
           "| --- | ---: | ---: | ---: | ---: " + "| ---: | ---: | ---: " * len(ccs) + "| ---: | ---: | ---: | ---: | ---: |"]
    for system in systems:
        ss = [s for s in samples if s["system"] == system]
        ok = [s for s in ss if not s.get("error")]
        mp = vals(samples, system, "mpps")
        dl = [s["mpps"] / s["offered_mpps"] for s in ok if s.get("mpps") is not None and s.get("offered_mpps")]
        sut = vals(samples, system, "sut_cpu")
        cpu0 = vals(samples, system, "cpu0_busy")
        cpu1 = vals(samples, system, "cpu1_busy")
        rtt = vals(samples, system, "rtt_avg_ms")
        nfail = len(ss) - len(ok)
        tcp = []
        for cc in ccs:
            g, rt = tcp_field("gbps", cc), vals(samples, system, tcp_field("retrans", cc))
            tcp += [spread(vals(samples, system, g), 2), ratio(samples, system, ref, g) if ref else "—",
                    "%.0f" % med(rt) if rt else "—"]
        out.append("| " + " | ".join(["%s"] * (10 + len(tcp))) % (
            SYSTEMS[system][0], spread(mp, 3), ratio(samples, system, ref, "mpps") if ref else "—",
            spread(vals(samples, system, "offered_mpps"), 3), "%.0f%%" % (100 * med(dl)) if dl else "—",
            *tcp, "%.3f" % med(rtt) if rtt else "—",
            "%.0f%%" % (100 * med(sut)) if sut else "—", "%.0f%%" % (100 * med(cpu0)) if cpu0 else "—",
            "%.0f%%" % (100 * med(cpu1)) if cpu1 else "—",
            "%d" % len(ok) + (" (+%d failed)" % nfail if nfail else "")) + " |")
    return out


def build_report(args, samples, systems, meta):
    out = []
    ref = REFERENCE if REFERENCE in systems else None
    ccs = meta.get("ccs") or ([None] if any(tcp_runs(s) for s in samples) else [])
    n_rounds = max([s["round"] for s in samples] or [0])
    mc = meta["machine"]
    out.append("%s, `%s`; %s, %s CPUs, %s, kernel %s (HZ %s, IRQ time accounting %s), Debian %s; dpdk %s, "
               "iperf3 %s; vsw %s." % (
                   meta["date"], meta["command"], mc["cpu"], mc["cpus"], mc["virt"], mc["kernel"], mc.get("hz", "?"),
                   mc.get("irq_time", "?"), mc["debian"], mc["dpdk"], mc["iperf3"], meta["vsw"]))
    out.append("")
    out.append("%d round(s); 64-byte frames: %.0f s windows after %.1f s of warm-up, generator %s; TCP: iperf3 "
               "-t %d -O %d%s; every process of the benchmark at nice %d.  Load average (1 min) %.2f before, %.2f after, at most %.2f at a round's start (the run's "
               "own spinning processes add up to 2)." % (
                   n_rounds, args.seconds, args.warmup, args.gen, args.tcp_seconds, args.tcp_omit,
                   ", once with each congestion control in c1 (`-C`): %s (the kernel's default here: %s; "
                   "Debian's kernels default to cubic)" % (", ".join(c for c in ccs if c), meta.get("cc_default", "?"))
                   if any(ccs) else "",
                   getattr(args, "nice", 0) or 0, meta["load_before"][0], meta.get("load_after", [float("nan")])[0],
                   meta.get("max_load", float("nan"))))
    if meta.get("preliminary"):
        out.append("")
        out.append("**Preliminary:** %s" % meta["preliminary"])
    quiet = [s for s in samples if not disturbed(s)]
    noisy = [s for s in samples if disturbed(s)]
    if noisy:
        out.append("")
        out.append("Other tasks took the CPU from ours in %d of the %d samples (vswd, testpmd or ksoftirqd waited "
                   "for its CPU more than %.0f%% of a window; up to %.0f%%).  First the samples without that (the "
                   "figures to quote), then all samples." % (len(noisy), len(samples), 100 * FOREIGN_MAX,
                                                             100 * max(foreign(s) for s in noisy)))
        out.append("")
        out.append("Undisturbed samples:")
        out.append("")
        out.extend(table(quiet, systems, ref, ccs))
        out.append("")
        out.append("All samples:")
    out.append("")
    out.extend(table(samples, systems, ref, ccs))
    out.append("")
    out.append("Medians, min–max in parentheses; \"vs bridge\": ratio of medians, in parentheses the range of the "
               "per-round ratios.  \"delivered\": frames c2 received / frames the generator handed to c1's eth0 "
               "(near 100%%: the generator, not the switch, set the rate).  \"vswd CPU\": vswd's utime+stime per "
               "second of the 64-byte window (100%% = one core); \"CPU 0/1 busy\": the CPUs' busy shares over the "
               "window from /proc/stat (CPU 0: vswd, or the bridge's RPS work, plus any other task on the machine; "
               "CPU 1: the generator and the kernel work done in its context).  TCP retr: iperf3's "
               "retransmits, median per run (the notes: how many c2 D-SACKed, spurious ones).  ping avg: busybox ping c1 -> c2, %d echoes 20 ms apart, the average "
               "round trip (median over rounds).  \"samples\": successful samples (failed ones are left out of "
               "every column)." % args.pings)
    # What the kernel did, per system (first sample that recorded it).
    notes = []
    for system in systems:
        ss = [s for s in samples if s["system"] == system]
        ports = next((s["ports"] for s in ss if s.get("ports")), None)
        offl = next(((s["offloads_c1"], s["offloads_c2"]) for s in ss if s.get("offloads_c1")), None)
        line = "- %s:" % SYSTEMS[system][0]
        if ports:
            line += " ports %s;" % "; ".join("%s: %s" % (k, v) for k, v in sorted(ports.items()))
        if offl:
            line += " offloads in c1 eth0: %s; c2 eth0: %s." % offl
        lb, la = vals(quiet, system, "lost_before_vsw"), vals(quiet, system, "lost_after_vsw")
        if lb:
            line += " 64-byte frames lost (median of undisturbed samples): %.0f%% between p1 and vswd's port c1 " \
                    "(the socket's ring), %.0f%% between vswd's port c2 and c2's eth0." % (100 * med(lb),
                                                                                        100 * med(la))
        drops = {}
        for s in ss:
            for p, d in (s.get("vsw_drops") or {}).items():
                for k, v in d.items():
                    drops["%s %s" % (p, k)] = drops.get("%s %s" % (p, k), 0) + v
        for cc in ccs:
            rs = [t for s in ss if not s.get("error") for c, t in tcp_runs(s)
                  if c == cc and t.get("retrans_segs") is not None]
            if rs and sum(t["retrans_segs"] for t in rs):
                line += " TCP%s: c1 retransmitted %d segments in %d run(s); c2 D-SACKed %d of them (it had " \
                        "them already: spurious retransmissions, not losses)." % (
                            " with " + cc if cc else "", sum(t["retrans_segs"] for t in rs), len(rs),
                            sum(t["dsack_segs"] for t in rs))
        if drops:
            line += " vswd drop counters over all samples: %s." % ", ".join("%s %d" % kv for kv in sorted(drops.items()))
        kstats = [s["ports_after"] for s in ss if s.get("ports_after")
                  and any("kernel:" in v for v in s["ports_after"].values())]
        if kstats:
            line += " Kernel socket counters at the end of the last sample: %s." % "; ".join(
                "%s: %s" % (k, v[v.index("kernel:"):]) for k, v in sorted(kstats[-1].items()) if "kernel:" in v)
        errs = [s for s in ss if s.get("error")]
        if errs:
            line += " **Failed %d of %d:** %s" % (len(errs), len(ss), "; ".join(
                "round %d: %s" % (s["round"], s["error"]) for s in errs[:4]))
        notes.append(line)
    out.append("")
    out.extend(notes)
    return "\n".join(out)


SECTION_TEMPLATE = """## Containers

Two containers on one switch: network namespaces with a veth eth0 each,
the other ends attached to vswd (`afxdp` or `afpacket` ports), next to the
same two containers joined by a Linux bridge, in one run on the same
machine.

### Run it

    python3 scripts/bench-containers.py [--rounds N] [--seconds S] [--tcp-seconds T] [--pings N]
                                        [--systems NAME,...] [--gen af_xdp|af_packet] [--nice N] [--quick]
                                        [--wait-load L [--wait-max S]] [--doc FILE | --no-doc]
                                        [--json FILE] [--report FILE] [--keep]

Root; ip, ethtool, iperf3, busybox, dpdk-testpmd, build/vswd and
build/vswctl (copied to a private directory first: others may rebuild
build/).  A full run (7 rounds of the 6 default systems) takes about 8
minutes and rewrites this section; `--quick` (1 round, 1 s windows, 1 s
TCP) is the smoke test `make check` runs; it writes nothing, and any
failure, a peer's too, fails it.  `--wait-load 1.5` first waits
(up to `--wait-max` seconds, polling each minute) for the 1-minute load
average to drop below 1.5.  A run is marked preliminary when the load was
above `--quiet-load` (1.5) before it started, or when other tasks took
the CPU from ours (see "Other tasks" below) in more than half of the
samples or in every sample of some system.  `--json` keeps every sample
(written after each round); `--report FILE` prints the tables of such a
file again (with `--doc FILE`, rewrites this section from it).
`scripts/run-bench.sh` (`make bench`) runs the script with its defaults.
Logs stay in /tmp/vsw-bct-* with `--keep` or when a sample failed.

Systems (`--systems`): `vsw-xdp`, `vsw-xdp-ev` (AF_XDP ports, busy
polling / event-driven), `vsw-pkt`, `vsw-pkt-ev` (AF_PACKET ports),
`bridge`, `bridge-rps`, all with the containers' offloads as the kernel
sets them (TSO and GSO on); only when named: `vsw-pkt-nooff` and
`bridge-nooff` (TCP only, TSO/GSO off in both containers: the AF_PACKET
set-up before issue 15), `vsw-xdp-skb` (AF_XDP in skb mode) and
`vsw-pkt-rps` (`vsw-pkt` with p1 and p2 steered to CPU 0 as in
`bridge-rps`: see "Retransmits").

### Set-up

    netns c1                     netns sw                               netns c2
    eth0 10.0.0.1 ==veth== p1 -- vswd (CPU 0) or br0 -- p2 ==veth== eth0 10.0.0.2
    testpmd txonly (CPU 1)                                              rx_packets counted
    iperf3 -c (CPU 1)                                                   iperf3 -s (CPU 1)

- **Topology.**  Three namespaces the script creates and deletes; nothing
  in the root namespace.  A fresh set (namespaces, veths, vswd or the
  bridge) for every system and round.  IPv6 is off, neighbours are
  static, and c2 sends no ICMP errors (`net.ipv4.icmp_msgs_per_sec=0`), so
  the only traffic is the test's.
- **vswd.**  `taskset -c 0 vswd --foreground --config F` with
  `{"workers":1,"cpus":[0],"busy_poll":true|false,"ports":[{"name":"c1",
  "type":"afxdp"|"afpacket","ifname":"p1"},{"name":"c2",...,"ifname":"p2"}]}`;
  AF_XDP in mode auto: veth takes a native XDP program but has no
  AF_XDP zero-copy, so the ports run in native mode, copy mode (the
  notes below give what `vswctl show` reported in each system).
- **Bridge.**  `br0` (STP off) in netns sw with p1 and p2.  The bridge has
  no thread: a frame is bridged in the softirq of the CPU that sent it,
  so with the generator on CPU 1 the bridge shares CPU 1 with the
  generator and is bounded by it ("delivered" 100%).  "RPS to CPU 0" sets
  `rps_cpus` of p1 and p2 to CPU 0: the bridging and c2's receive path
  then run on CPU 0, the switch's core, as vswd's transmit path does.
- **64-byte frames.**  dpdk-testpmd in c1 (`--no-huge`, both lcores on
  CPU 1, `net_af_xdp` on eth0, or `net_af_packet` with `--gen
  af_packet`), txonly, 60-byte UDP frames (64 with the FCS) 10.0.0.1:9 ->
  10.0.0.2:9 to c2's MAC, one way.  After the warm-up, the rate is c2
  eth0's rx_packets over the window (frames that reached c2's stack,
  which drops them: no socket); "offered" is c1 eth0's tx_packets +
  tx_dropped over the same window.  For vswd the notes say where the
  rest was lost: between p1 and vswd's port (the socket's ring: AF_XDP's
  fill ring ran empty, or the TPACKET ring was full) or after it.
- **TCP.**  `iperf3 -c 10.0.0.2 -t 4 -O 1 -A 1` in c1 against `iperf3 -s
  -1 -A 1` in c2: both ends on CPU 1; the receiver's figure.  Once
  with each congestion control of `--cc` (`iperf3 -C`, the sender's
  socket; default cubic, Debian's default, and BBR, which this
  machine's kernel defaults to): BBR sizes its window from the smallest
  round trip it saw, and a path with a queue in the middle (vswd's
  rings) stays below its window's rate, so the two rank the systems
  differently (the "TCP Gbit/s" columns, one per congestion control).
- **Retransmits.**  "TCP retr" is iperf3's count; the notes add how many
  of the segments c1 resent c2 D-SACKed (it had them already: spurious,
  not lost).  With vswd, c1's TCP sends from two CPUs: from iperf3 on
  CPU 1, and from CPU 0's softirq when an ACK that vswd hands to c1
  (inside its `sendmmsg()` on CPU 0) opens the window (a fifth of the
  data frames, `perf` on `net:net_dev_start_xmit`).  A veth queues a
  frame on the sending CPU's backlog, so p1 receives from two queues
  and a frame can overtake one sent before it; c2 SACKs the gap, c1
  resends, c2 D-SACKs the copy and c1 undoes its window cut.  vswd
  forwards in the order p1 received (captures at p1 and at c2's eth0
  agree frame for frame when p1's receive runs on one CPU), and its ports
  dropped nothing.  `rps_cpus` of p1 and p2 on CPU 0, on CPU 1 or on
  both (the flow hash keeps a flow on one) puts p1's receive on one
  backlog (`vsw-pkt-rps`): 0 to 10 retransmitted segments a run instead
  of 50 to 500, but the steering costs CPU and lowered the rate in a few
  loaded runs.  The bridge does all of it on CPU 1: no reordering.
  Through AF_XDP the retransmits were real losses until 2026-12-04
  (none D-SACKed; the port's kernel counters showed as many fill_empty
  drops): c1 without GSO sends one 1448-byte frame per UMEM frame, and
  the 2048 receive frames of a one-queue port held less than c1's TCP
  window while vswd's transmit kick ran c2's receive; the port now has
  8192 by default (`rx_frames=`, docs/VSWD.md).
- **Round trip.**  `busybox ping -c 30 -i 0.02` c1 -> c2 before the
  TCP test; the average.
- **Offloads.**  The containers keep the kernel's defaults (TSO and GSO
  on) except in the `-nooff` systems and AF_XDP in skb mode, which turn
  them off with `ethtool -K eth0 tso off gso off` in both containers.
  AF_PACKET ports (`PACKET_VNET_HDR`) take a container's 64 KiB GSO
  frames whole, with their checksum left partial, and hand them to the
  other container whole (docs/VSWD.md, "Offloads"), as the bridge does.
  With a native XDP program on the veth host end the kernel itself turns
  TSO off (fixed) on the container's eth0; GSO stays on, the container's
  stack segments in software, and vswd's AF_XDP port completes the
  partial checksums.  "vsw AF_PACKET, TSO/GSO off" and "bridge, TSO/GSO
  off" show the set-up AF_PACKET needed before issue 15.  The notes below
  give the state ethtool reported in each system.
- **Where the work runs.**  With vswd, CPU 1 runs the generator (or both
  iperf3 ends) and the container's transmit path up to the veth,
  including p1's native XDP program and the copy into vswd's UMEM (veth
  runs XDP in the sender's NAPI context) or the copy into the TPACKET
  ring; CPU 0 runs vswd and, inside its `sendto()`/`sendmmsg()`, c2's
  receive path.  Without IRQ time accounting in the kernel (see the
  results' first line), softirq work done while vswd runs counts as
  vswd's system time.
- **Sampling.**  Each round runs every system once, in an order rotated
  from round to round.  Medians, min–max, and ratios to the bridge
  (ratio of medians; in parentheses the range of per-round ratios).
- **Other tasks.**  Other benchmarks may share the machine.  For every
  window the script reads how long its tasks were runnable but waiting
  for their CPU (/proc/PID/task/*/schedstat): vswd in the 64-byte and TCP
  windows, testpmd, and for the bridge with RPS ksoftirqd/0.  A sample
  where one of them waited more than 10% of a window is disturbed.
  When some are, the results show a table of the undisturbed samples
  first; those are the figures to quote.  `--nice -20` runs every
  process of the benchmark (vswd, testpmd, iperf3) at nice -20, and sets
  the scheduler autogroup of each of their sessions to -20 too (with
  autogroups, nice alone only ranks tasks within one session), so that a
  background task on the same CPU gets a few percent of it instead of
  half; on a quiet machine it changes nothing.  It cannot help kernel
  threads such as ksoftirqd/0, so "bridge, RPS to CPU 0" stays exposed.

### Results

"""


def write_doc(path, section):
    write_doc_section(path, "Containers", section)


# ---------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(REPO, "build"), help="directory with vswd and vswctl")
    ap.add_argument("--rounds", type=int, default=7, help="rounds: samples per system (default 7)")
    ap.add_argument("--seconds", type=float, default=3.0, help="64-byte window per sample (default 3)")
    ap.add_argument("--warmup", type=float, default=1.0, help="seconds of traffic before the window (default 1)")
    ap.add_argument("--tcp-seconds", type=int, default=4, help="iperf3 -t (default 4)")
    ap.add_argument("--tcp-omit", type=int, default=1, help="iperf3 -O (default 1)")
    ap.add_argument("--systems", default=",".join(DEFAULT_SYSTEMS),
                    help="comma-separated, from: %s (default all but vsw-xdp-skb)" % ",".join(SYSTEMS))
    ap.add_argument("--gen", choices=["af_xdp", "af_packet"], default="af_xdp",
                    help="testpmd driver of the generator in c1 (default af_xdp)")
    ap.add_argument("--pings", type=int, default=30, help="echoes c1 -> c2 for the round trip (0: none)")
    ap.add_argument("--nice", type=int, default=0,
                    help="run every process of the benchmark at this nice value (-20: other tasks on the machine "
                    "get ~1%% of a CPU we use; default 0)")
    ap.add_argument("--cc", default="cubic,bbr",
                    help="congestion controls, comma-separated: one iperf3 run with each in every sample "
                    "(default cubic,bbr: Debian's default and the other common one)")
    ap.add_argument("--vxlan", action="store_true",
                    help="TCP through a vxlan device in each container (a container overlay); implies --no-mpps "
                         "and --no-doc")
    ap.add_argument("--no-tcp", action="store_true", help="skip iperf3")
    ap.add_argument("--no-mpps", action="store_true", help="skip the 64-byte frames")
    ap.add_argument("--quick", action="store_true", help="1 round, 1 s windows and TCP; no doc")
    ap.add_argument("--wait-load", type=float, default=0.0,
                    help="first wait until the 1-minute load average is below this (0: do not wait)")
    ap.add_argument("--wait-max", type=float, default=1200.0, help="longest wait for --wait-load, s (default 1200)")
    ap.add_argument("--quiet-load", type=float, default=1.5,
                    help="load average above which results are marked preliminary (default 1.5)")
    ap.add_argument("--doc", default=None, help="file whose Containers section to rewrite "
                    "(default docs/PERFORMANCE.md on full runs)")
    ap.add_argument("--no-doc", action="store_true", help="never write the doc")
    ap.add_argument("--json", default=None, help="write every sample as JSON to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    ap.add_argument("--report", metavar="JSON", default=None,
                    help="measure nothing: print (and with --doc write) the report of an earlier --json FILE")
    a = ap.parse_args(argv)
    names = [s.strip() for s in a.systems.split(",") if s.strip()]
    bad = [s for s in names if s not in SYSTEMS]
    if bad or not names:
        ap.error("--systems: unknown %s (known: %s)" % (",".join(bad), ",".join(SYSTEMS)))
    a.systems = [s for s in SYSTEMS if s in names]
    a.cc = [c.strip() for c in a.cc.split(",") if c.strip()]
    if a.vxlan:
        a.no_mpps = a.no_doc = True
    if not a.cc or any(not re.fullmatch(r"[a-z0-9_]+", c) for c in a.cc) or len(set(a.cc)) != len(a.cc):
        ap.error("--cc: a comma-separated list of distinct congestion control names")
    full = not a.quick and a.systems == [s for s in SYSTEMS if s in DEFAULT_SYSTEMS] and a.rounds >= 3 \
        and not a.no_tcp and not a.no_mpps and not a.report
    if a.quick:
        a.rounds, a.seconds, a.warmup, a.tcp_seconds, a.tcp_omit = 1, 1.0, 0.5, 1, 0
    if a.rounds < 1 or a.seconds <= 0 or a.tcp_seconds < 1:
        ap.error("--rounds, --seconds and --tcp-seconds must be positive")
    if a.no_doc:
        a.doc = None
    elif a.doc is None and full:
        a.doc = os.path.join(REPO, "docs", "PERFORMANCE.md")
    a.full = full
    return a


def save_json(a, meta, samples):
    """Write what was measured so far to --json (after every round: a crash keeps the earlier rounds)."""
    if not a.json:
        return
    try:
        tmp = a.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"meta": meta, "args": vars(a), "samples": samples}, f, indent=1)
        os.replace(tmp, a.json)
    except OSError as e:
        log("bench-containers: cannot write %s: %s" % (a.json, e))


def wait_for_quiet(limit, max_s):
    """Poll the 1-minute load average every minute until it is below @limit or @max_s passed."""
    t0 = time.monotonic()
    while True:
        la = loadavg()[0]
        if la < limit:
            log("bench-containers: load %.2f < %.2f, starting" % (la, limit))
            return True
        if time.monotonic() - t0 >= max_s:
            log("bench-containers: load still %.2f after %.0f s, starting anyway (preliminary)" % (la, max_s))
            return False
        log("bench-containers: load %.2f >= %.2f, waiting (%.0f s so far)" % (la, limit, time.monotonic() - t0))
        time.sleep(min(60.0, max(1.0, max_s - (time.monotonic() - t0))))


def report_only(a):
    with open(a.report) as f:
        j = json.load(f)
    for k in ("seconds", "warmup", "gen", "tcp_seconds", "tcp_omit", "pings", "nice"):
        setattr(a, k, j["args"].get(k, 0))
    report = build_report(a, j["samples"], j["args"]["systems"], j["meta"])
    log(report)
    if a.doc:
        write_doc(a.doc, SECTION_TEMPLATE + report)
        log("bench-containers: wrote the Containers section of %s" % a.doc)
    return 0


def main(argv):
    a = parse_args(argv)
    if a.report:
        return report_only(a)
    if os.geteuid() != 0:
        print("bench-containers: needs root (network namespaces, XDP)", file=sys.stderr)
        return 2
    if (os.cpu_count() or 0) < 2:
        print("bench-containers: needs 2 CPUs", file=sys.stderr)
        return 2
    if subprocess.run([os.path.join(REPO, "scripts", "install-deps.sh"), "--bench"], timeout=1800).returncode:
        print("bench-containers: scripts/install-deps.sh --bench failed", file=sys.stderr)
        return 2
    for tool in ("ip", "ethtool", "iperf3", "busybox", "dpdk-testpmd", "taskset", "stdbuf"):
        if not shutil.which(tool):
            print("bench-containers: %s not found" % tool, file=sys.stderr)
            return 2
    install_cleanup()
    ctx = Ctx(a)
    ok = False

    def tidy():
        for ns in leftover_netns():
            run(["ip", "netns", "del", ns], check=False, timeout=30)
        if ok and not a.keep:
            shutil.rmtree(ctx.dir, ignore_errors=True)
        else:
            log("bench-containers: logs kept in %s" % ctx.dir)
    # The orchestrator stays off the switch's CPU; children are pinned explicitly.
    os.sched_setaffinity(0, {GEN_CPU})
    if a.nice:
        set_nice(a.nice)
        os.setpriority(os.PRIO_PROCESS, 0, a.nice)      # inherited by every child
        try:
            with open("/proc/self/autogroup") as f:
                old_nice = re.search(r"nice (-?\d+)", f.read()).group(1)
        except (OSError, AttributeError):
            old_nice = None
        set_autogroup_nice("self")                      # the children that stay in our session
        if old_nice is not None:                        # our session may be the caller's shell's
            def restore():
                with open("/proc/self/autogroup", "w") as f:
                    f.write(old_nice)
            on_exit(restore)                            # registered first: runs last
    on_exit(tidy)

    if a.wait_load > 0:
        wait_for_quiet(a.wait_load, a.wait_max)
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": "make bench" if os.environ.get("VSW_FROM_MAKE_BENCH") and a.full else
            "python3 scripts/bench-containers.py" + ("" if not argv else " " + " ".join(argv)),
            "machine": machine_notes(), "vsw": vsw_source(a.build), "load_before": loadavg(),
            "ccs": [] if a.no_tcp else a.cc, "cc_default": bench_procs.congestion_controls([] if a.no_tcp else a.cc)}
    log("## containers: %s, load %s, work dir %s" % (meta["date"], " ".join("%.2f" % x for x in meta["load_before"]),
                                                     ctx.dir))
    samples = []
    t_start = time.monotonic()
    max_load = meta["load_before"][0]
    systems = a.systems
    for rnd in range(1, a.rounds + 1):
        k = (rnd - 1) % len(systems)
        order = systems[k:] + systems[:k]
        max_load = max(max_load, loadavg()[0])
        for system in order:
            s = sample(ctx, system, rnd)
            samples.append(s)
            log("  r%d %-13s %s" % (rnd, system, describe(s)))
        log("  round %d done, %.0f s so far, load %.2f" % (rnd, time.monotonic() - t_start, loadavg()[0]))
        save_json(a, meta, samples)
    meta["load_after"] = loadavg()
    meta["max_load"] = max_load
    meta["seconds"] = time.monotonic() - t_start
    why = []
    if meta["load_before"][0] > a.quiet_load:
        why.append("the 1-minute load average was %.2f before the run (other work on the machine), above %.1f"
                   % (meta["load_before"][0], a.quiet_load))
    noisy = [s for s in samples if disturbed(s)]
    quiet_systems = {s["system"] for s in samples if not disturbed(s) and not s.get("error")}
    if len(noisy) * 2 > len(samples) or quiet_systems != set(systems):
        why.append("other tasks took the CPU from ours in %d of the %d samples" % (len(noisy), len(samples)))
    if why:
        meta["preliminary"] = "; ".join(why) + "; repeat on a quiet machine."
    save_json(a, meta, samples)
    report = build_report(a, samples, systems, meta)
    log("")
    log(report)
    if a.doc:
        write_doc(a.doc, SECTION_TEMPLATE + report)
        log("bench-containers: wrote the Containers section of %s" % a.doc)
    failed = [s for s in samples if s.get("error")]
    vsw_failed = [s for s in failed if SYSTEMS[s["system"]][1] == "vsw"]
    ok = not failed
    log("bench-containers: %.0f s; %d sample(s), %d failed%s" % (
        meta["seconds"], len(samples), len(failed), "; vsw failed" if vsw_failed else ""))
    # A --quick run is the CI smoke run: any failure, a peer's too, fails it.
    return 1 if vsw_failed or (a.quick and not ok) else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as e:
        print("bench-containers: %s" % e, file=sys.stderr)
        sys.exit(1)
