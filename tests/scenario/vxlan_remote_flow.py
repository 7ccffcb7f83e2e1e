#!/usr/bin/env python3
"""vxlan_remote_flow.py - scenario: a vxlan port with remote=flow, its VTEP chosen by the flows, against two kernel VTEPs.

Objective (issue 16 item 3 with issue 14's flows; Open vSwitch's
options:remote_ip=flow and set_field:IP->tun_dst): one vsw VTEP with one
tunnel port and no list of remotes reaches two kernel VTEPs, each frame
sent to the VTEP its flow chose by the inner destination; each container
is reached through its own VTEP only; datagrams from both are received;
a frame the flows gave no tun_dst is dropped and counted by name.  Then
the same over an IPv6 underlay (issue 16 item 1, "IPv4 and IPv6
underlays"; set_field:IP6->tun_ipv6_dst, tun_ipv6_src):

    netns cA (eth0 10.9.0.1)          netns cB (eth0 10.9.0.2)          netns cC (eth0 10.9.0.3)
        | veth vA                         | veth vB                         | veth vC
    netns hA: a (afpacket) -- vswd -- vx0 (vxlan remote=flow, local 172.31.0.1 on bridge ubr)
                                           |  ubr: uAB, uAC (the underlay, one /24)
                     netns hB: uB 172.31.0.2, kernel vxlan -- br0 -- vB
                     netns hC: uC 172.31.0.3, kernel vxlan -- br0 -- vC

Steps:
  1. namespaces, veths, static neighbours (no ARP probe at an awkward
     moment), the underlay (a bridge in hA with a veth to hB and
     one to hC), kernel vxlan devices on hB and hC (VNI 100, remote
     172.31.0.1) bridged with their containers; vswd in hA; `port add a
     afpacket ifname=vA`, `port add vx0 vxlan local=172.31.0.1 remote=flow
     vni=100`;
  2. flows: IPv4 and ARP from a to 10.9.0.2 set_field:172.31.0.2->tun_dst,
     to 10.9.0.3 set_field:172.31.0.3->tun_dst (the IPv4 one as
     load:0xac1f0003->NXM_NX_TUN_IPV4_DST[]), output:vx0; from vx0 by
     tun_src (one flow per VTEP) to a; anything else from a: output:vx0
     with no tun_dst;
  3. `show` says "remote flow" and the device MTU (1500); `flow dump`
     prints the tun_dst actions back; `trace` shows
     set(tunnel(...dst=172.31.0.2)); `tunnel fdb add` on vx0 is refused;
  4. tcpdump on uB and uC; ping cA -> cB, then cA -> cC (3 each, no loss):
     hB's vxlan device received frames during the first and none during
     the second, hC's the other way round (`ip -s link`); on each wire
     every datagram from 172.31.0.1 carries that VTEP's container's
     address alone (tshark); both tun_src flows counted packets (any
     source VTEP received);
  5. ping cA -> 10.9.0.9 (a static neighbour: IPv4 frames that match no
     tun_dst flow): no_tunnel_dst drops on vx0, none of them on either
     wire (tshark);
  6. IPv6 underlay: fd00:31::1-3/64 on ubr, uB, uC (IPv6 on those
     devices only); on hB and hC the IPv4 kernel VTEP is replaced by an
     IPv6 one (VNI 100, remote fd00:31::1) in br0; `port add vx6 vxlan
     local=fd00:31::1 remote=flow vni=100`; the flows replaced by the
     same with set_field:fd00:31::2->tun_ipv6_dst (the IPv4 one as
     load:0x3->NXM_NX_TUN_IPV6_DST[0..7] after a set_field), output:vx6;
     from vx6 by tun_ipv6_src (fd00:31::2, then fd00:31::/64 below it) to a; anything else
     from a: set_field:172.31.0.2->tun_dst,output:vx6 (an IPv4 VTEP for
     an IPv6 port);
  7. as 3 to 5 for vx6: show, dump and trace (ipv6_dst=fd00:31::3; a
     frame from fd00:31::3 traced to the prefix flow);
     pings to cB and cC each through their VTEP alone (ipv6.dst on each
     wire); both tun_ipv6_src flows counted; the ghost's frames are
     no_tunnel_dst drops on vx6 (never sent to 172.31.0.2 nor anywhere);
  8. cleanup: vswd (SIGTERM, exit 0), namespaces.  Also on SIGTERM/SIGINT.

Each check prints PASS or FAIL (nothing is skipped); the last line is
"vxlan_remote_flow: N passed, M failed"; non-zero exit on any failure.
Bounded waits; a run takes about 40 s.

    python3 tests/scenario/vxlan_remote_flow.py --build build [--keep]

Needs root, build/vswd, build/vswctl, ip, busybox (ping), tcpdump, tshark, a kernel with vxlan and bridge.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from netns_lib import Terminated, check, finish, must, needs, on_signal, port_stat, port_state, run

sys.dont_write_bytecode = True

TAG = "%04x" % (os.getpid() & 0xffff)
NS = {h: "vswrf-%s-%s" % (h, TAG) for h in ("hA", "hB", "hC", "cA", "cB", "cC")}
VNI = 100
UL = {"A": "172.31.0.1", "B": "172.31.0.2", "C": "172.31.0.3"}
UL6 = {"A": "fd00:31::1", "B": "fd00:31::2", "C": "fd00:31::3"}
IN4 = {"cA": "10.9.0.1", "cB": "10.9.0.2", "cC": "10.9.0.3"}
MAC = {"cA": "02:09:00:00:00:01", "cB": "02:09:00:00:00:02", "cC": "02:09:00:00:00:03"}
GHOST = ("10.9.0.9", "02:09:00:00:00:09")   # no flow gives it a VTEP
INNER_MTU = 1450


class Vswd:
    """vswd --foreground inside netns @ns, its control socket in @wd."""

    def __init__(self, build, wd, ns):
        self.vswctl = os.path.join(build, "vswctl")
        self.ctl = os.path.join(wd, "ctl.sock")
        self.log_path = os.path.join(wd, "vswd.log")
        self.log = open(self.log_path, "w")
        conf = os.path.join(wd, "vswd.json")
        with open(conf, "w") as f:
            json.dump({"workers": 1}, f)
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, os.path.join(build, "vswd"), "--foreground",
                                      "--ctl", self.ctl, "--config", conf],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.ctl):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("vswd did not start; see %s" % self.log_path)
            time.sleep(0.05)

    def ctl_run(self, *args, timeout=10):
        return run([self.vswctl, "--ctl", self.ctl] + list(args), timeout=timeout)

    def must(self, *args):
        rc, out, err = self.ctl_run(*args)
        if rc != 0:
            raise RuntimeError("vswctl %s: rc %d: %s" % (" ".join(args), rc, (err or out).strip()[:400]))
        return out

    def call(self, *args):
        rc, out, err = self.ctl_run("--json", *args)
        try:
            return json.loads(out)
        except ValueError:
            raise RuntimeError("vswctl %s: rc %d, no JSON: %s %s" % (" ".join(args), rc, out, err))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        return self.proc.returncode


# ---- namespaces ---------------------------------------------------------------

def container(c, h, v):
    """Container @c: IPv6 off (a quiet wire), eth0 a veth whose other end @v is in host @h."""
    must(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"], ns=NS[c])
    must(["ip", "link", "add", v, "netns", NS[h], "type", "veth", "peer", "name", "eth0", "netns", NS[c]])
    must(["ip", "link", "set", "eth0", "address", MAC[c], "mtu", str(INNER_MTU)], ns=NS[c])
    must(["ip", "addr", "add", IN4[c] + "/24", "dev", "eth0"], ns=NS[c])
    must(["ip", "link", "set", "eth0", "up"], ns=NS[c])
    must(["ip", "link", "set", v, "up"], ns=NS[h])


def setup_net():
    for ns in NS.values():
        must(["ip", "netns", "add", ns])
        must(["ip", "link", "set", "lo", "up"], ns=ns)
        must(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"], ns=ns)
    for c, h, v in (("cA", "hA", "vA"), ("cB", "hB", "vB"), ("cC", "hC", "vC")):
        container(c, h, v)
    # the underlay: one /24, hA's address on a bridge with a veth to each host
    must(["ip", "link", "add", "ubr", "type", "bridge"], ns=NS["hA"])
    must(["ip", "addr", "add", UL["A"] + "/24", "dev", "ubr"], ns=NS["hA"])
    for k, u in (("B", "uAB"), ("C", "uAC")):
        h, peer = "h" + k, "u" + k
        must(["ip", "link", "add", u, "netns", NS["hA"], "type", "veth", "peer", "name", peer, "netns", NS[h]])
        must(["ip", "link", "set", u, "master", "ubr"], ns=NS["hA"])
        must(["ip", "link", "set", u, "up"], ns=NS["hA"])
        must(["ip", "addr", "add", UL[k] + "/24", "dev", peer], ns=NS[h])
        must(["ip", "link", "set", peer, "up"], ns=NS[h])
        # a kernel VTEP bridged with the host's container
        must(["ip", "link", "add", "vx0", "type", "vxlan", "id", str(VNI), "local", UL[k], "remote", UL["A"],
              "dstport", "4789", "udpcsum"], ns=NS[h])
        must(["ip", "link", "add", "br0", "type", "bridge"], ns=NS[h])
        for dev in ("vx0", "v" + k):
            must(["ip", "link", "set", dev, "master", "br0"], ns=NS[h])
        must(["ip", "link", "set", "vx0", "up"], ns=NS[h])
        must(["ip", "link", "set", "br0", "up"], ns=NS[h])
    must(["ip", "link", "set", "ubr", "up"], ns=NS["hA"])
    # Static neighbours: no ARP probe crosses the tunnel at a time a count would catch it (a STALE entry
    # is probed some seconds after use); the ghost, so cA sends it IPv4 frames that no flow gives a VTEP.
    for c, (ip, mac) in (("cA", (IN4["cB"], MAC["cB"])), ("cA", (IN4["cC"], MAC["cC"])),
                         ("cB", (IN4["cA"], MAC["cA"])), ("cC", (IN4["cA"], MAC["cA"])), ("cA", GHOST)):
        must(["ip", "neigh", "replace", ip, "lladdr", mac, "dev", "eth0", "nud", "permanent"], ns=NS[c])


def cleanup_net():
    for ns in NS.values():
        if os.path.exists("/run/netns/" + ns):
            rc, out, _ = run(["ip", "netns", "pids", ns], timeout=5)
            for pid in out.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)   # our own tcpdump, started in our namespace
                except (ProcessLookupError, ValueError):
                    pass
            run(["ip", "netns", "del", ns], timeout=10)
    return [ns for ns in NS.values() if os.path.exists("/run/netns/" + ns)]


def ping(src, dst, count=3):
    rc, out, err = run(["busybox", "ping", "-q", "-c", str(count), "-i", "0.2", "-W", "1", dst], timeout=count + 10,
                       ns=NS[src])
    got = 0
    for ln in out.splitlines():
        if "received" in ln:
            try:
                got = int(ln.split(",")[1].split()[0])
            except (IndexError, ValueError):
                pass
    return got, (out + err).strip().replace("\n", " | ")[-300:]


def vtep_rx(host, dev="vx0"):
    """Frames the kernel VTEP @dev of @host received from the tunnel (its vxlan device's rx_packets)."""
    info = json.loads(must(["ip", "-s", "-j", "link", "show", dev], ns=NS[host]))
    return info[0]["stats64"]["rx"]["packets"]


class Capture:
    """tcpdump -w on @host's underlay veth (UDP 4789), immediate mode, after a short pause to settle."""

    def __init__(self, wd, host, ifname):
        self.path = os.path.join(wd, host + ".pcap")
        self.proc = subprocess.Popen(["ip", "netns", "exec", NS[host], "tcpdump", "--immediate-mode", "-U", "-n",
                                      "-s", "2000", "-c", "2000", "-i", ifname, "-w", self.path,
                                      "udp", "port", "4789"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.proc.poll() is None:
            if "listening on" in self.proc.stderr.readline():
                break

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def from_vsw(self, v6=False):
        """(outer destination, inner IPv4 or ARP target) of each VXLAN datagram vsw (172.31.0.1, fd00:31::1) sent."""
        if v6:
            rc, out, err = run(["tshark", "-r", self.path, "-Y", "vxlan && ipv6.src == %s" % UL6["A"], "-T",
                                "fields", "-e", "ipv6.dst", "-e", "ip.dst", "-e", "arp.dst.proto_ipv4"], timeout=60)
            rows = [(f[0], f[1] or f[2]) for f in (ln.split("\t") + ["", ""] for ln in out.splitlines())]
            return rows, "" if rc == 0 else "tshark exited %d: %s" % (rc, err[-300:])
        rc, out, err = run(["tshark", "-r", self.path, "-Y", "vxlan && ip.src == %s" % UL["A"], "-T", "fields",
                            "-e", "ip.dst", "-e", "arp.dst.proto_ipv4"], timeout=60)
        rows = []
        for ln in out.splitlines():
            f = ln.split("\t")
            dsts = f[0].split(",")
            inner = dsts[1] if len(dsts) > 1 else (f[1] if len(f) > 1 else "")
            rows.append((dsts[0], inner))
        return rows, "" if rc == 0 else "tshark exited %d: %s" % (rc, err[-300:])


# ---- steps ----------------------------------------------------------------------

FLOWS = [
    "priority=100,in_port=a,ip,nw_dst=%s,actions=set_field:%s->tun_dst,output:vx0" % (IN4["cB"], UL["B"]),
    "priority=100,in_port=a,arp,arp_tpa=%s,actions=set_field:%s->tun_dst,output:vx0" % (IN4["cB"], UL["B"]),
    "priority=100,in_port=a,ip,nw_dst=%s,actions=load:0xac1f0003->NXM_NX_TUN_IPV4_DST[],output:vx0" % IN4["cC"],
    "priority=100,in_port=a,arp,arp_tpa=%s,actions=set_field:%s->tun_dst,output:vx0" % (IN4["cC"], UL["C"]),
    "priority=100,in_port=vx0,tun_src=%s,actions=output:a" % UL["B"],
    "priority=100,in_port=vx0,tun_src=%s,actions=output:a" % UL["C"],
    "priority=0,in_port=a,actions=output:vx0",
]


def config(sw):
    sw.must("port", "add", "a", "afpacket", "ifname=vA")
    sw.must("port", "add", "vx0", "vxlan", "local=" + UL["A"], "remote=flow", "vni=%d" % VNI)
    for f in FLOWS:
        sw.must("flow", "add", f)
    state = port_state(sw, "vx0")
    check(" remote flow " in state, "show: vx0 says remote flow", state)
    check(re.search(r"\bmtu 1500\b", state) is not None, "show: vx0's underlay MTU is ubr's (1500)", state)
    dump = sw.must("flow", "dump")
    check("set_field:%s->tun_dst" % UL["B"] in dump and "load:0xac1f0003->tun_dst[]" in dump,
          "flow dump prints the tun_dst actions back", dump)
    rc, out, err = sw.ctl_run("trace", "in_port=a,dl_src=%s,dl_dst=%s,ip,nw_dst=%s" % (MAC["cA"], MAC["cB"],
                                                                                        IN4["cB"]))
    check(rc == 0 and "dst=%s" % UL["B"] in out and "set(tunnel(" in out and "output:vx0" in out,
          "trace: the output to vx0 carries tun_dst %s" % UL["B"], out + err)
    rc, out, err = sw.ctl_run("tunnel", "fdb", "add", MAC["cB"], "vni=%d" % VNI, "remote=" + UL["B"], "port=vx0")
    check(rc != 0 and "remote=flow" in out + err, "tunnel fdb add on a remote=flow port is refused", out + err)


def one_vtep(wd, dst, here, there, v6=False):
    """Pings from cA to @dst: @here's VTEP receives them, @there's nothing; on @here's wire only @dst's frames."""
    ul, dev = (UL6, "vx6") if v6 else (UL, "vx0")
    caps = {h: Capture(wd + "/" + dev + dst.replace(".", "_"), h, "u" + h[1]) for h in (here, there)}
    time.sleep(0.5)
    before = {h: vtep_rx(h, dev) for h in (here, there)}
    got, detail = ping("cA", dst)
    check(got == 3, "ping cA -> %s through %s (3 of 3)" % (dst, dev), detail)
    time.sleep(0.5)
    after = {h: vtep_rx(h, dev) for h in (here, there)}
    for c in caps.values():
        c.stop()
    check(after[here] - before[here] >= 3, "%s's VTEP received cA's frames (%d)" % (here, after[here] - before[here]))
    check(after[there] == before[there], "%s's VTEP received none of them (%d)" % (there, after[there] - before[there]))
    rows, err = caps[here].from_vsw(v6)
    check(len(rows) >= 3 and all(o == ul[here[1]] and i == dst for o, i in rows),
          "%s's wire: vsw's datagrams go to %s and carry %s alone (%d)" % (here, ul[here[1]], dst, len(rows)),
          err or rows[:8])
    rows, err = caps[there].from_vsw(v6)
    check(not err and not any(o == ul[there[1]] for o, i in rows),
          "%s's wire: no datagram from vsw to %s" % (there, ul[there[1]]), err or rows[:8])


def no_dst(sw, wd, port="vx0"):
    v6 = port == "vx6"
    before = port_stat(sw, port).get("drops", {}).get("no_tunnel_dst", 0)
    caps = [Capture(wd + "/ghost" + port, h, "u" + h[1]) for h in ("hB", "hC")]
    time.sleep(0.5)
    got, detail = ping("cA", GHOST[0], count=2)
    check(got == 0, "ping cA -> %s (no VTEP for it) gets nothing" % GHOST[0], detail)
    after = port_stat(sw, port).get("drops", {}).get("no_tunnel_dst", 0)
    check(after - before >= 2, "%s counts them as no_tunnel_dst drops (%d)" % (port, after - before))
    time.sleep(0.5)
    for c in caps:
        c.stop()
    # (cA's neighbour probes to cB and cC may cross meanwhile: only the ghost's frames must not)
    for c, h in zip(caps, ("hB", "hC")):
        rows, err = c.from_vsw(v6)
        check(not err and not any(i == GHOST[0] for o, i in rows), "%s's wire: none of them" % h, err or rows[:8])
        if v6:
            # the IPv4 tun_dst the flow set: never used by the IPv6 port, nor by anyone else
            rows, err = c.from_vsw(False)
            check(not err and not any(i == GHOST[0] for o, i in rows), "%s's wire: none of them over IPv4 either" % h,
                  err or rows[:8])


def tun_src_flows(sw, field="tun_src", keys=(UL["B"], UL["C"])):
    """The flows matching @field=@keys (one per VTEP) each counted the VTEP's frames."""
    dump = sw.must("flow", "dump")
    counts = {}
    for ln in dump.splitlines():
        m = re.search(r"n_packets=(\d+),.*%s=([0-9a-f.:/]+)" % field, ln)
        if m:
            counts[m.group(2)] = int(m.group(1))
    check(all(counts.get(k, 0) >= 3 for k in keys), "frames from both VTEPs received, told apart by %s" % field,
          counts)


FLOWS6 = [
    "priority=100,in_port=a,ip,nw_dst=%s,actions=set_field:%s->tun_ipv6_dst,output:vx6" % (IN4["cB"], UL6["B"]),
    "priority=100,in_port=a,arp,arp_tpa=%s,actions=set_field:%s->tun_ipv6_dst,output:vx6" % (IN4["cB"], UL6["B"]),
    "priority=100,in_port=a,ip,nw_dst=%s,actions=set_field:%s->tun_ipv6_dst,"
    "load:0x3->NXM_NX_TUN_IPV6_DST[0..7],output:vx6" % (IN4["cC"], UL6["B"]),
    "priority=100,in_port=a,arp,arp_tpa=%s,actions=set_field:%s->tun_ipv6_dst,output:vx6" % (IN4["cC"], UL6["C"]),
    "priority=100,in_port=vx6,tun_ipv6_src=%s,actions=output:a" % UL6["B"],
    "priority=90,in_port=vx6,tun_ipv6_src=fd00:31::/64,actions=output:a",
    "priority=0,in_port=a,actions=set_field:%s->tun_dst,output:vx6" % UL["B"],
]


def setup_net6():
    """The IPv6 underlay on ubr, uB, uC (those devices only: the rest stays quiet), kernel VTEPs over it."""
    for h, dev, k in (("hA", "ubr", "A"), ("hB", "uB", "B"), ("hC", "uC", "C")):
        must(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=0" % dev], ns=NS[h])
        must(["ip", "-6", "addr", "add", UL6[k] + "/64", "dev", dev, "nodad"], ns=NS[h])
    for k in ("B", "C"):
        h = "h" + k
        must(["ip", "link", "del", "vx0"], ns=NS[h])
        must(["ip", "link", "add", "vx6", "type", "vxlan", "id", str(VNI), "local", UL6[k], "remote", UL6["A"],
              "dstport", "4789", "udp6zerocsumrx"], ns=NS[h])
        must(["ip", "link", "set", "vx6", "master", "br0"], ns=NS[h])
        must(["ip", "link", "set", "vx6", "up"], ns=NS[h])


def config6(sw):
    sw.must("port", "add", "vx6", "vxlan", "local=" + UL6["A"], "remote=flow", "vni=%d" % VNI)
    sw.must("flow", "del")
    for f in FLOWS6:
        sw.must("flow", "add", f)
    state = port_state(sw, "vx6")
    check(" remote flow " in state, "show: vx6 says remote flow", state)
    dump = sw.must("flow", "dump")
    check("set_field:%s->tun_ipv6_dst" % UL6["B"] in dump and "load:0x3->tun_ipv6_dst[0..7]" in dump and
          "tun_ipv6_src=%s" % UL6["B"] in dump and "tun_ipv6_src=fd00:31::/64" in dump,
          "flow dump prints the tun_ipv6_dst actions and tun_ipv6_src matches back", dump)
    rc, out, err = sw.ctl_run("trace", "in_port=a,dl_src=%s,dl_dst=%s,ip,nw_dst=%s" % (MAC["cA"], MAC["cC"],
                                                                                        IN4["cC"]))
    check(rc == 0 and "ipv6_dst=%s" % UL6["C"] in out and "set(tunnel(" in out and "output:vx6" in out,
          "trace: the output to vx6 carries tun_ipv6_dst %s" % UL6["C"], out + err)
    rc, out, err = sw.ctl_run("trace", "in_port=vx6,tun_ipv6_src=%s,dl_src=%s,dl_dst=%s,ip,nw_dst=%s"
                              % (UL6["C"], MAC["cC"], MAC["cA"], IN4["cA"]))
    check(rc == 0 and "tun_ipv6_src=fd00:31::/64" in out and "output:a" in out,
          "trace: a frame from %s matches the tun_ipv6_src prefix flow" % UL6["C"], out + err)
    rc, out, err = sw.ctl_run("flow", "add", "in_port=a,actions=set_field:fd00:31::9->tun_ipv6_src,output:vx6")
    check(rc != 0 and "local=" in out + err, "set_field to tun_ipv6_src is refused (vsw sends from local=)",
          out + err)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, captures)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    if not needs("vxlan_remote_flow", ("ip", "busybox", "tcpdump", "tshark")):
        return 1
    wd = tempfile.mkdtemp(prefix="vsw-vxrf-")
    sw = None
    try:
        setup_net()
        sw = Vswd(build, wd, NS["hA"])
        config(sw)
        for d in ("vx0" + IN4["cB"], "vx0" + IN4["cC"], "vx6" + IN4["cB"], "vx6" + IN4["cC"], "ghostvx0",
                  "ghostvx6"):
            os.makedirs(wd + "/" + d.replace(".", "_"))
        one_vtep(wd, IN4["cB"], "hB", "hC")
        one_vtep(wd, IN4["cC"], "hC", "hB")
        tun_src_flows(sw)
        no_dst(sw, wd)
        setup_net6()
        config6(sw)
        one_vtep(wd, IN4["cB"], "hB", "hC", v6=True)
        one_vtep(wd, IN4["cC"], "hC", "hB", v6=True)
        tun_src_flows(sw, "tun_ipv6_src", (UL6["B"], "fd00:31::/64"))
        no_dst(sw, wd, "vx6")
    except (RuntimeError, Terminated) as e:
        check(False, "scenario ran to its end", e)
    finally:
        rc = finish("vxlan_remote_flow", wd, args.keep, sw, cleanup_net, keep_failed=False)
    return rc


if __name__ == "__main__":
    sys.exit(main())
