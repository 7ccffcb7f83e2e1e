#!/usr/bin/env python3
"""vxlan.py - scenario: vsw's vxlan port against the Linux kernel's vxlan device, across two "hosts".

Objective (issue 16, items 1, 4 and 5, first cut): a container behind vswd
on host A and one behind a kernel VXLAN device bridged on host B share one
L2 segment over an IPv4 or IPv6 underlay, with the outer UDP checksum on
and off, each way; vsw's VXLAN framing is what the kernel and tshark
expect (RFC 7348, the right VNI), it learns the remote container's MAC on
the tunnel port, drops what is not its VTEP's traffic, and never
fragments:

    netns cA (eth0 10.77.0.1)                       netns cB (eth0 10.77.0.2)
        | veth                                          | veth
    netns hA: vA --(afpacket)-- vswd --(vxlan t0)     netns hB: vB -- br0 -- vx0 (kernel vxlan)
        uA 192.168.77.1 / fd77::1  ======= veth underlay =======  uB 192.168.77.2 / fd77::2

vswd runs inside hA (`ip netns exec`), so its sockets, routes and
neighbours are hA's; its control socket is a file in a temp dir.

Steps:
  1. namespaces, veths, underlay addresses (IPv6 without DAD), bridge br0
     in hB, tx checksum offload off on uB (see setup_net); start vswd in hA; `port add a afpacket ifname=vA`; inner MTU
     1430 (the IPv6 underlay's 1500 - 70);
  2. for each underlay (IPv4, IPv6) and outer checksum (on, off): kernel
     vx0 (id VNI, dstport 4789, udpcsum/noudpcsum, udp6zerocsumtx/rx) into
     br0, `port add t0 vxlan local= remote= vni= csum=`; tcpdump -w on uB;
       - ping cA -> cB and cB -> cA (3 echo requests each, no loss);
       - iperf3 TCP cA -> cB and cB -> cA (-R), 2 s each, more than 0 bytes;
       - tshark on the capture: every VXLAN datagram has VNI VNI, both
         directions are there, vsw's outer UDP checksum is non-zero with
         csum=on and zero with csum=off (a UDP GSO payload, cut after the
         capture point, apart); the kernel's likewise per its
         option (so vsw accepted both); vsw's datagrams use more than one
         source port in src_ports when two flows ran (ping and TCP);
       - with csum=on t0 sent cA's TCP (TSO on its veth) as UDP GSO
         payloads (`stats` "tunnel": gso_sends, gso_segments), none with
         csum=off;
       - `vswctl fdb show`: cB's MAC on t0;
       - ECN (RFC 6040, ecn_case()): cA's UDP packets Not-ECT, ECT(1), ECT(0), CE
         (DSCP 46) leave t0 with the inner ECN field on the outer header and DSCP 0
         (tshark) and reach cB with their TOS; the kernel's datagrams of cB's ECT(0)
         and CE packets reach cA as sent; datagrams from hB's address with an outer
         CE over ECT(0) reach cA as CE, ECT(1) over ECT(0) as ECT(1), ECT(0) over
         ECT(1) as ECT(1); CE over Not-ECT is dropped and counted once (rx_bad_ecn);
     then `port del t0`, vx0 deleted;
     and with the outer checksum on, iperf3 UDP both ways (20 Mbit/s, 2 s, the loss
     the receiver counts at most UDP_LOSS_MAX per cent);
     then twice more with `xdp=uA` on t0 (IPv4 with checksums, IPv6 without):
     the same checks, and the kernel's datagrams came in through t0's AF_XDP
     socket (`stats` "tunnel" xdp_rx, no xdp_bad_*), `show` says so, and
     `port del t0` takes the XDP program off uA; with IPv4, two frames sent
     from hB as whole frames (AF_PACKET), one with a wrong UDP checksum and
     one with a wrong IPv4 header sum, are each refused and counted
     (xdp_bad_udp_csum, xdp_bad_ip_header, bad_header drops); then uB's tx
     checksum offload on for a moment: the kernel's datagrams reach uA with
     partial checksums, which t0 refuses (ping cA -> cB gets no answer),
     counts and names in one log line with the cause; off again, pings cross;
  2a. the kernel refuses UDP GSO for good (issue 16 review): IPv4, csum on; SO_NO_CHECK put on t0's GSO
     sockets through pidfd_getfd(2), so Linux's udp_send_skb() answers their UDP_SEGMENT payloads with
     EINVAL (the refusal xfrm's EIO stands for: an `ip xfrm state ... proto esp` cannot be made on a
     kernel without ESP, AH or IPCOMP, as the one this was written on); iperf3 TCP both ways still moves
     data; `stats` "tunnel": gso_fallbacks 1, udp_gso 0, gso_resent; `show`: udp_gso off and why; one
     log line naming t0 and EINVAL; no port_broken drops;
  3. vsw <-> vsw: hB's container moved from br0 to a second vswd in hB
     (afpacket vB + vxlan, IPv6 underlay, tos=inherit): ping and iperf3 both
     ways, the second vswd learns cA's MAC on its tunnel port; each t0 sent
     the containers' TSO frames as UDP GSO payloads and the other received
     them as GRO buffers A -> B, merged back into TSO frames (`stats`
     "tunnel": gso_sends, gro_receives, gro_merged;
     B -> A uB cuts them: its tx checksum offload is off);
     `perf show` times the encap and decap points;
  3a. path MTU through the tunnel (item 4): underlay MTU 1400 under cA's and cB's
     1430: t0 reads 1400 from the kernel's route; iperf3 TCP cA -> cB completes
     (cA's too-big segments are answered with ICMP frag-needed, MTU 1350; cA's
     route learns it); a 1350-byte DF echo crosses, a 1351-byte one gets
     frag-needed 1350 from cB's address; tshark on vA sees the ICMP; then
     inner IPv6 on for a moment: a 1350-byte ICMPv6 echo crosses, a 1351-byte
     one gets packet too big, MTU 1350, from cB's IPv6 address;
  3b. jumbo (item 5): underlay 9000, inner 8950 (cA's own MTU 9000): DF echoes
     of 8922 payload bytes cross both ways, 8923 get frag-needed 8950; iperf3
     TCP both ways;
  3c. a path MTU behind a router (item 4): a second underlay hA -- hR -- hB whose
     hop to hB is 1400 bytes (hA's own 1500); IPv4 and IPv6 underlays, csum=off
     and on: a DF echo of an inner 1400 bytes dies at hR, hR's ICMP frag-needed /
     packet too big (MTU 1400) teaches hA's route, t0 reads it (frame_max 1364,
     IPv6 1344), and cA's DF packet one byte over 1350 (1330) is answered by vsw
     with frag-needed, one of that size crosses;
  4. hostile datagrams to hA:4789 from hB (a UDP socket): I flag clear,
     another VNI, too short; and from a third address (not remote): each
     is a drop on t0 (`bad_header`, `src_ip`) and named in its state;
  5. never fragment: cA's MTU raised to 1500, two 1500-byte IPv4 echoes with DF
     from cA: `too_big` drops on t0 (the outer packet would be 1550 bytes on a
     1500-byte underlay), each answered to cA with ICMP frag-needed, MTU 1450,
     from cB's address (the frames are floods: the answer is made on that path too);
  6. bad options are refused with a message (vni out of range, mixed
     families, csum=maybe, src_ports=9-1);
  7. three hosts (issue 16 item 3): host C (netns hC, a kernel vxlan VTEP
     bridged with container cC, reached from hA over a second veth,
     192.168.79.0/24) and a second container cA2 on hA (port a2);
     `port add t0 vxlan remote=B,C`:
       - ping cA -> cB and cA -> cC; tcpdump on both underlays: cA's ARP
         broadcast went to both VTEPs (head-end replication);
       - `tunnel fdb show`: cB learned behind B, cC behind C;
       - ping cA -> cB again: on B's wire, not on C's (unicast to the
         learned VTEP only);
       - `tunnel fdb add MAC remote=C` for a MAC that never talks (a
         permanent neighbour in cA): cA's pings to it on C's wire only;
         listed static; `tunnel fdb del` removes it;
       - an underlay MTU per remote (item 4): hA's route to C with `mtu 1400`,
         B's path 1500: `show` gives t0's MTU 1400 and lists B's 1500 (text and
         --json); a 1430-byte DF packet crosses to cB, the same to cC gets
         frag-needed 1350 from cC's address; 2 too_big drops, 2 answers; iperf3
         TCP to each completes; cA's route to cC learns 1350, to cB nothing;
         then the same with one `remote=flow` port whose flows pick B or C by
         inner destination (C's MTU met by a first large frame, read by the
         next tick, listed as a tun_dst);
     then `vni=flow`: hC's VTEP in VNI + 1, flows in_port=t0,tun_id=VNI ->
     a, tun_id=VNI+1 -> a2, a -> set_tunnel:VNI, a2 -> set_field->tun_id,
     and per-VNI flood lists (`tunnel fdb add 00:00:00:00:00:00 vni=VNI
     remote=B`, VNI + 1 -> C): cA reaches cB, cA2 reaches cC, cA's ARP
     broadcast in VNI is on hB's underlay only and cA2's in VNI + 1 on
     hC's only; with hC's path at 1400, cA2's 1430-byte DF packet to cC is answered
     with frag-needed 1350 back through the tun_id flow (the answer carries the
     tunnel's metadata); `tunnel fdb show` marks both flood; `del ... remote=B`
     takes one; neither container reaches the other VNI's; both tun_id
     flows counted packets;
  8. cleanup: vswd (SIGTERM, exit 0), namespaces.  Also on SIGTERM/SIGINT.

Each check prints PASS or FAIL (nothing is skipped); the last line is
"vxlan: N passed, M failed"; non-zero exit on any failure.  Bounded waits;
a run takes about 100 s.

    python3 tests/scenario/vxlan.py --build build [--keep]

Needs root, build/vswd, build/vswctl, ip, ethtool, busybox (ping), iperf3, tcpdump, tshark, a kernel with vxlan and bridge.
"""

import argparse
import ctypes
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

from netns_lib import Terminated, check, finish, must, needs, note, on_signal, port_stat, port_state, run

sys.dont_write_bytecode = True

TAG = "%04x" % (os.getpid() & 0xffff)
NS = {h: "vswx-%s-%s" % (h, TAG) for h in ("hA", "hB", "cA", "cB", "hC", "cC", "cA2", "hR")}
VNI = 4000 + (os.getpid() % 1000)
UL4 = {"A": "192.168.77.1", "B": "192.168.77.2", "X": "192.168.77.3", "C": "192.168.79.3", "A2": "192.168.79.1"}
UL6 = {"A": "fd77::1", "B": "fd77::2", "X": "fd77::3"}
IN4 = {"cA": "10.77.0.1", "cB": "10.77.0.2", "cC": "10.77.0.3", "cA2": "10.77.0.4"}
IN6 = {"cA": "fd78::1", "cB": "fd78::2"}
MAC = {"cA": "02:77:78:00:00:0a", "cB": "02:77:78:00:00:0b", "cC": "02:77:78:00:00:0c", "cA2": "02:77:78:00:00:0e"}
SILENT = ("10.77.0.13", "02:77:78:00:00:0d")   # a static remote MAC that never talks
INNER_MTU = 1430
UDP_LOSS_MAX = 5        # per cent: a loaded 2-core CI machine loses a little at 20 Mbit/s, a broken path all


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
    must(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % v], ns=NS[h])
    must(["ip", "link", "set", v, "up"], ns=NS[h])


def setup_net():
    for ns in NS.values():
        must(["ip", "netns", "add", ns])
        must(["ip", "link", "set", "lo", "up"], ns=ns)
    for c, h, v in (("cA", "hA", "vA"), ("cB", "hB", "vB")):
        container(c, h, v)
    # the underlay
    must(["ip", "link", "add", "uA", "netns", NS["hA"], "type", "veth", "peer", "name", "uB", "netns", NS["hB"]])
    for h, u, k in (("hA", "uA", "A"), ("hB", "uB", "B")):
        must(["ip", "addr", "add", UL4[k] + "/24", "dev", u], ns=NS[h])
        must(["ip", "addr", "add", UL6[k] + "/64", "dev", u, "nodad"], ns=NS[h])
        must(["ip", "link", "set", u, "up"], ns=NS[h])
    # Frames that never leave the machine keep the sender's unfinished checksum (CHECKSUM_PARTIAL) across
    # a veth: the kernel's vxlan on hB would hand hA inner TCP checksums that only its skb metadata says are
    # to be completed, and a UDP socket gets the bytes.  A real NIC completes them; so does tx off on uB.
    must(["ethtool", "-K", "uB", "tx", "off"], ns=NS["hB"])
    # a third address on hB: the source of datagrams that are not the remote's
    must(["ip", "addr", "add", UL4["X"] + "/24", "dev", "uB"], ns=NS["hB"])
    must(["ip", "addr", "add", UL6["X"] + "/64", "dev", "uB", "nodad"], ns=NS["hB"])
    # host B: a Linux bridge with the container's veth
    must(["ip", "link", "add", "br0", "type", "bridge"], ns=NS["hB"])
    must(["ip", "link", "set", "vB", "master", "br0"], ns=NS["hB"])
    must(["ip", "link", "set", "br0", "up"], ns=NS["hB"])


def setup_three():
    """Host C (a second kernel VTEP, reached from hA by a second veth: 192.168.79.0/24, routed to hA's
    192.168.77.1) with container cC on a bridge; and a second container cA2 on hA."""
    for c, h, v in (("cC", "hC", "vC"), ("cA2", "hA", "vA2")):
        container(c, h, v)
    must(["ip", "link", "add", "uA2", "netns", NS["hA"], "type", "veth", "peer", "name", "uC", "netns", NS["hC"]])
    must(["ip", "addr", "add", UL4["A2"] + "/24", "dev", "uA2"], ns=NS["hA"])
    must(["ip", "link", "set", "uA2", "up"], ns=NS["hA"])
    must(["ip", "addr", "add", UL4["C"] + "/24", "dev", "uC"], ns=NS["hC"])
    must(["ip", "link", "set", "uC", "up"], ns=NS["hC"])
    must(["ip", "route", "add", "192.168.77.0/24", "dev", "uC"], ns=NS["hC"])
    must(["ethtool", "-K", "uC", "tx", "off"], ns=NS["hC"])   # as uB (setup_net)
    must(["ip", "link", "add", "br0", "type", "bridge"], ns=NS["hC"])
    must(["ip", "link", "set", "vC", "master", "br0"], ns=NS["hC"])
    must(["ip", "link", "set", "br0", "up"], ns=NS["hC"])


def cleanup_net():
    for ns in NS.values():
        if os.path.exists("/run/netns/" + ns):
            rc, out, _ = run(["ip", "netns", "pids", ns], timeout=5)
            for pid in out.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)   # our own tcpdump/iperf3, started in our namespace
                except (ProcessLookupError, ValueError):
                    pass
            run(["ip", "netns", "del", ns], timeout=10)
    return [ns for ns in NS.values() if os.path.exists("/run/netns/" + ns)]


def kernel_vxlan(v6, csum):
    ul = UL6 if v6 else UL4
    argv = ["ip", "link", "add", "vx0", "type", "vxlan", "id", str(VNI), "local", ul["B"], "remote", ul["A"],
            "dstport", "4789"]
    if v6:
        argv += ["noudp6zerocsumtx", "noudp6zerocsumrx"] if csum else ["udp6zerocsumtx", "udp6zerocsumrx"]
    else:
        argv += ["udpcsum"] if csum else ["noudpcsum"]
    must(argv, ns=NS["hB"])
    must(["ip", "link", "set", "vx0", "master", "br0"], ns=NS["hB"])
    must(["ip", "link", "set", "vx0", "up"], ns=NS["hB"])


def udp_flows(src, dst, n=8):
    """@n one-datagram UDP flows from netns @src to @dst (source ports 40001..), for the outer source port check:
    three flows (the pings, iperf3's two connections) land on one of the 8 GSO sockets' ports 1 time in 64."""
    code = ("import socket\n"
            "for i in range(%d):\n"
            "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "    s.bind(('', 40001 + i))\n"
            "    s.sendto(b'vsw', (%r, 9))\n"
            "    s.close()\n" % (n, dst))
    return run([sys.executable, "-c", code], ns=NS[src])[0] == 0


def ping(src, dst, count=3, size=None):
    argv = ["busybox", "ping", "-q", "-c", str(count), "-i", "0.2", "-W", "1"]
    if size is not None:
        argv += ["-s", str(size)]
    argv += [dst]
    rc, out, err = run(argv, timeout=count + 10, ns=NS[src])
    got = 0
    for ln in out.splitlines():
        if "received" in ln:
            try:
                got = int(ln.split(",")[1].split()[0])
            except (IndexError, ValueError):
                pass
    return got, (out + err).strip().replace("\n", " | ")[-300:]


def iperf(reverse, dst="cB"):
    srv = subprocess.Popen(["ip", "netns", "exec", NS[dst], "iperf3", "-s", "-1", "-B", IN4[dst]],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        argv = ["iperf3", "-c", IN4[dst], "-t", "2", "-J", "--connect-timeout", "3000"] + (["-R"] if reverse else [])
        rc, out, err = run(argv, timeout=20, ns=NS["cA"])
        try:
            res = json.loads(out)
            bps = res["end"]["sum_received"]["bits_per_second"]
            got = res["end"]["sum_received"]["bytes"]
        except (ValueError, KeyError):
            return 0, 0, (out + err)[-300:]
        return got, bps, ""
    finally:
        try:
            srv.wait(5)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait(5)


# An ICMP echo with DF that ignores the route's path MTU (IP_PMTUDISC_PROBE), so every probe leaves at its
# size; one line per probe: "reply", "frag-needed MTU from ADDR" (an ICMP 3/4 quoting this probe) or "timeout".
# The Internet checksum (RFC 1071), for the scripts below that run in a namespace (python3 -c).
CSUM_PY = r"""
import struct
def csum(b):
    b += bytes(len(b) & 1)
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff
"""
PROBE = CSUM_PY + r"""
import os, socket, struct, sys, time
dst, size, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.setsockopt(socket.IPPROTO_IP, 10, 3)  # IP_MTU_DISCOVER = IP_PMTUDISC_PROBE
ident = os.getpid() & 0xffff
for seq in range(count):
    body = struct.pack("!HH", ident, seq) + bytes(size)
    s.sendto(struct.pack("!BBH", 8, 0, csum(b"\x08\x00\x00\x00" + body)) + body, (dst, 0))
    res, end = "timeout", time.monotonic() + 1.5
    while res == "timeout" and time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            d, addr = s.recvfrom(65535)
        except socket.timeout:
            break
        h = (d[0] & 15) * 4
        if d[h] == 0 and d[h + 4:h + 8] == struct.pack("!HH", ident, seq):
            res = "reply"
        elif d[h] == 3 and d[h + 1] == 4:
            q = d[h + 8:]
            qh = (q[0] & 15) * 4
            if q[qh + 4:qh + 8] == struct.pack("!HH", ident, seq):
                res = "frag-needed %d from %s" % (struct.unpack("!H", d[h + 6:h + 8])[0], addr[0])
    print(res, flush=True)
"""


# The same over IPv6: an echo request that is never fragmented (IPV6_DONTFRAG, IPV6_PMTUDISC_PROBE); one line
# per probe: "reply", "too-big MTU from ADDR" (an ICMPv6 packet too big quoting this probe) or "timeout".
PROBE6 = r"""
import os, socket, struct, sys, time
dst, size, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, 23, 3)  # IPV6_MTU_DISCOVER = IPV6_PMTUDISC_PROBE
s.setsockopt(socket.IPPROTO_IPV6, 62, 1)  # IPV6_DONTFRAG
ident = os.getpid() & 0xffff
for seq in range(count):
    mine = struct.pack("!HH", ident, seq)
    s.sendto(struct.pack("!BBH", 128, 0, 0) + mine + bytes(size), (dst, 0))  # the kernel sums ICMPv6
    res, end = "timeout", time.monotonic() + 1.5
    while res == "timeout" and time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            d, addr = s.recvfrom(65535)
        except socket.timeout:
            break
        if d[0] == 129 and d[4:8] == mine:
            res = "reply"
        elif d[0] == 2 and d[8 + 40] == 128 and d[8 + 44:8 + 48] == mine:
            res = "too-big %d from %s" % (struct.unpack("!I", d[4:8])[0], addr[0])
    print(res, flush=True)
"""


def df_probe6(src, dst, size, count=1):
    """ICMPv6 echoes of @size payload bytes, never fragmented, from netns @src: the list of outcomes (see PROBE6)."""
    rc, out, err = run(["python3", "-c", PROBE6, dst, str(size), str(count)], timeout=count * 2 + 10, ns=NS[src])
    res = out.split("\n")[:count] if rc == 0 else []
    return [r for r in res if r], (err or out).strip()[-300:]


def df_probe(src, dst, size, count=2):
    """ICMP echoes of @size payload bytes with DF from netns @src: the list of outcomes (see PROBE)."""
    rc, out, err = run(["python3", "-c", PROBE, dst, str(size), str(count)], timeout=count * 2 + 10, ns=NS[src])
    res = out.split("\n")[:count] if rc == 0 else []
    return [r for r in res if r], (err or out).strip()[-300:]


def iperf_udp(reverse, rate="20M", length=1200):
    """iperf3 UDP cA -> cB (or back with -R), 2 s at @rate: (packets, lost, lost %, detail) as the receiver saw them."""
    srv = subprocess.Popen(["ip", "netns", "exec", NS["cB"], "iperf3", "-s", "-1", "-B", IN4["cB"]],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        argv = ["iperf3", "-c", IN4["cB"], "-u", "-b", rate, "-l", str(length), "-t", "2", "-J",
                "--connect-timeout", "3000"] + (["-R"] if reverse else [])
        rc, out, err = run(argv, timeout=20, ns=NS["cA"])
        try:
            s = json.loads(out)["end"]["sum"]
            return s["packets"], s["lost_packets"], s["lost_percent"], ""
        except (ValueError, KeyError):
            return 0, 0, 100.0, (out + err)[-300:]
    finally:
        try:
            srv.wait(5)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait(5)


class Capture:
    """tcpdump -w on uB in hB (UDP 4789 only): the first 3000 datagrams (pings and the start of the TCP
    runs both ways), whole, so tshark can verify checksums and read them all in a few seconds."""

    def __init__(self, wd, name, host="hB", ifname="uB", immediate=False, bpf=("udp", "port", "4789")):
        self.path = os.path.join(wd, name + ".pcap")
        # --immediate-mode: each frame handed over as it comes, not in ring blocks that a SIGINT may cut off
        self.proc = subprocess.Popen(["ip", "netns", "exec", NS[host], "tcpdump"] + (["--immediate-mode"] if immediate else []) +
                                     ["-U", "-n", "-s", "2000", "-c", "3000", "-i", ifname, "-w",
                                      self.path] + list(bpf),
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

    def frag_needed(self):
        """The ICMP frag-needed messages captured: (source, destination, next-hop MTU) each, and tshark's stderr."""
        rc, out, err = run(["tshark", "-r", self.path, "-Y", "icmp.type == 3 && icmp.code == 4", "-T", "fields",
                            "-E", "occurrence=f", "-e", "ip.src", "-e", "ip.dst", "-e", "icmp.mtu"], timeout=60)
        rows = []
        for ln in out.splitlines():
            f = ln.split("\t")
            if len(f) == 3 and f[2].isdigit():
                rows.append((f[0], f[1], int(f[2])))
        return rows, err if rc else ""

    def fields(self, v6):
        ip = "ipv6" if v6 else "ip"
        rc, out, err = run(["tshark", "-r", self.path, "-o", "udp.check_checksum:TRUE", "-Y", "vxlan", "-T", "fields",
                            "-E", "occurrence=f", "-e", ip + ".src", "-e", "udp.srcport", "-e", "udp.checksum",
                            "-e", "vxlan.vni", "-e", "udp.checksum.status", "-e", "udp.length"], timeout=60)
        rows = []
        if rc != 0:
            return rows, "tshark exited %d: %s" % (rc, err[-300:])
        for ln in out.splitlines():
            f = ln.split("\t")
            if len(f) >= 4 and f[3]:
                rows.append({"src": f[0], "sport": int(f[1]), "csum": int(f[2], 16) if f[2].startswith("0x")
                             else int(f[2] or 0), "vni": int(f[3]), "status": f[4] if len(f) > 4 else "",
                             "udp_len": int(f[5]) if len(f) > 5 and f[5].isdigit() else 0})
        return rows, err


    def inner_dsts(self, vni=None):
        """(outer source, inner destination MAC, VNI) of every VXLAN datagram captured."""
        rc, out, err = run(["tshark", "-r", self.path, "-Y", "vxlan", "-T", "fields", "-E", "occurrence=a",
                            "-E", "aggregator=,", "-e", "ip.src", "-e", "eth.dst", "-e", "vxlan.vni"], timeout=60)
        rows = []
        for ln in out.splitlines():
            f = ln.split("\t")
            if len(f) >= 3 and f[2]:
                # the outer header's source (the first), the inner frame's destination (the last)
                rows.append((f[0].split(",")[0], f[1].split(",")[-1], int(f[2].split(",")[0])))
        return rows

# RFC 6040 across the tunnel (ecn_case()).  ECN_RECV: a UDP socket on PORT with IP_RECVTOS (13); prints "ready",
# then, after N datagrams or T seconds, one JSON object: each datagram's text and the TOS it came with.
ECN_RECV = r"""
import json, socket, sys, time
port, n, t = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 13, 1)
s.bind(("0.0.0.0", port))
print("ready", flush=True)
got, end = {}, time.monotonic() + t
while len(got) < n and time.monotonic() < end:
    s.settimeout(max(0.01, end - time.monotonic()))
    try:
        d, anc, flags, addr = s.recvmsg(2048, 64)
    except socket.timeout:
        break
    got[d.decode(errors="replace")] = [x[2][0] for x in anc if x[0] == socket.IPPROTO_IP and x[1] == 1]
print(json.dumps(got), flush=True)
"""

# ECN_SEND DST PORT TAG=TOS...: one datagram each, its text TAG, from a socket with IP_TOS TOS (ECN bits too: UDP).
ECN_SEND = r"""
import socket, sys
dst, port = sys.argv[1], int(sys.argv[2])
for item in sys.argv[3:]:
    tag, tos = item.split("=")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, int(tos, 0))
    s.sendto(tag.encode(), (dst, port))
    s.close()
"""

# ECN_INJECT FAMILY SRC DST VNI SMAC DMAC SIP DIP PORT TAG=OUTER:INNER...: VXLAN datagrams from SRC (the remote VTEP's
# address) to DST:4789 with the outer TOS / traffic class OUTER, each holding an IPv4 UDP packet SIP -> DIP:PORT whose
# TOS is INNER and text TAG: what a VTEP sends behind a router that marked CE, which no ingress here does.
ECN_INJECT = CSUM_PY + r"""
import socket, struct, sys
fam, src, dst, vni, smac, dmac, sip, dip, port = sys.argv[1:10]
v6 = fam == "6"
for item in sys.argv[10:]:
    tag, tos = item.split("=")
    outer, inner = (int(x, 0) for x in tos.split(":"))
    udp = struct.pack("!HHHH", 5603, int(port), 8 + len(tag), 0) + tag.encode()
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, inner, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                     socket.inet_aton(sip), socket.inet_aton(dip))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    frame = bytes.fromhex(dmac.replace(":", "") + smac.replace(":", "")) + b"\x08\x00" + ip + udp
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    if v6:
        s.setsockopt(socket.IPPROTO_IPV6, 67, outer)  # IPV6_TCLASS
    else:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, outer)
    s.sendto(b"\x08\x00\x00\x00" + int(vni).to_bytes(3, "big") + b"\x00" + frame, (dst, 4789))
    s.close()
"""


def ecn_recv(ns, port, n):
    """ECN_RECV in netns @ns, ready: its Popen."""
    p = subprocess.Popen(["ip", "netns", "exec", NS[ns], sys.executable, "-c", ECN_RECV, str(port), str(n), "4"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdout.readline()
    return p


def ecn_got(p):
    """What ECN_RECV @p received: {text: [TOS]}, and its stderr when it said nothing."""
    try:
        out, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    try:
        return json.loads(out.strip().splitlines()[-1]), ""
    except (ValueError, IndexError):
        return {}, err[-300:]


def ecn_case(sw, wd, what, v6):
    """RFC 6040 (ECN) through t0, the kernel's vxlan on the other side, after one_case's checks (its drop counts).

    vsw's ingress (normal mode, section 4.1, as the kernel's and OVS's): cA's UDP packets to cB with the inner ECN
    field Not-ECT, ECT(1), ECT(0), CE (DSCP 46 on all) leave t0 with that ECN field on the outer header and t0's
    DSCP (0) (tshark on uB), and reach cB with their TOS whole.  vsw's egress (section 4.2): the kernel's datagrams
    of cB's ECT(0) and CE packets (its ingress makes the outer ECT(0)) reach cA unchanged; datagrams from hB's address
    with an outer CE (a router marked it) over ECT(0) reach cA as CE, with an outer ECT(1) over ECT(0) as ECT(1); an
    outer CE over Not-ECT is dropped and counted (rx_bad_ecn, a bad_header drop)."""
    ul = UL6 if v6 else UL4
    before = port_stat(sw, "t0")
    cap = Capture(wd, "ecn-%s" % ("6" if v6 else "4") + ("-xdp" if "xdp" in what else ""), immediate=True)
    rb, ra = ecn_recv("cB", 5601, 4), ecn_recv("cA", 5602, 5)
    try:
        must([sys.executable, "-c", ECN_SEND, IN4["cB"], "5601", "i0=0xb8", "i1=0xb9", "i2=0xba", "i3=0xbb"],
             ns=NS["cA"])
        must([sys.executable, "-c", ECN_SEND, IN4["cA"], "5602", "k2=0x02", "k3=0x03"], ns=NS["cB"])
        must([sys.executable, "-c", ECN_INJECT, "6" if v6 else "4", ul["B"], ul["A"], str(VNI), MAC["cB"],
              MAC["cA"], IN4["cB"], IN4["cA"], "5602", "ce-over-ect0=3:2", "ect1-over-ect0=1:2",
              "ect0-over-ect1=2:1", "ce-over-not=3:0"], ns=NS["hB"])
        got_b, err_b = ecn_got(rb)
        got_a, err_a = ecn_got(ra)
    finally:
        for p in (rb, ra):
            if p.poll() is None:
                p.kill()
        time.sleep(0.3)
        cap.stop()
    want_b = {"i0": [0xb8], "i1": [0xb9], "i2": [0xba], "i3": [0xbb]}
    check(got_b == want_b, "%s, ECN: cA's packets reach cB through the kernel's egress with their TOS" % what,
          [got_b, err_b])
    want_a = {"k2": [2], "k3": [3], "ce-over-ect0": [3], "ect1-over-ect0": [1], "ect0-over-ect1": [1]}
    check(got_a == want_a, "%s, ECN: vsw's egress: CE over ECT(0) is CE, ECT(1) over ECT(0) ECT(1), the kernel's "
          "ECT(0) and CE as sent, CE over Not-ECT dropped" % what, [got_a, err_a])
    # The outer headers vsw wrote for cA's four packets: the ECN field of the inner one, DSCP 0 (t0's tos=).  Over
    # IPv4 each field has two occurrences (a field asked for twice is printed once): the outer, then the inner.
    fields = (["ipv6.tclass.dscp", "ipv6.tclass.ecn"] if v6 else []) + ["ip.dsfield.dscp", "ip.dsfield.ecn"]
    rc, out, err = run(["tshark", "-r", cap.path, "-Y", "vxlan && udp.dstport == 5601", "-T", "fields",
                        "-E", "occurrence=a", "-E", "aggregator=,"] + [x for f in fields for x in ("-e", f)],
                       timeout=60)
    outer = []
    for ln in out.splitlines():
        f = [x.split(",") for x in ln.split("\t")]
        try:
            # (outer DSCP, outer ECN, inner ECN)
            outer.append((int(f[0][0], 0), int(f[1][0], 0), int(f[-1][-1], 0)))
        except (ValueError, IndexError):
            outer.append(ln)
    check(all(isinstance(o, tuple) for o in outer) and sorted(o[2] for o in outer) == [0, 1, 2, 3] and
          all(o[0] == 0 and o[1] == o[2] for o in outer),
          "%s, ECN: vsw's outer headers carry each inner ECN field, DSCP 0 (RFC 6040 normal mode)" % what,
          [outer, (err if rc else "")])
    st = port_stat(sw, "t0")
    d_ecn = st.get("tunnel", {}).get("rx_bad_ecn", 0) - before.get("tunnel", {}).get("rx_bad_ecn", 0)
    d_bad = st.get("drops", {}).get("bad_header", 0) - before.get("drops", {}).get("bad_header", 0)
    check(d_ecn == 1 and d_bad == 1, "%s, ECN: CE over Not-ECT counted once (rx_bad_ecn %d, bad_header %d)"
          % (what, d_ecn, d_bad), st)



def one_case(sw, wd, v6, csum, xdp=False):
    ul = UL6 if v6 else UL4
    what = "%s underlay, csum %s%s" % ("IPv6" if v6 else "IPv4", "on" if csum else "off", ", xdp=uA" if xdp else "")
    note(what)
    kernel_vxlan(v6, csum)
    rc, out, err = sw.ctl_run("port", "add", "t0", "vxlan", "local=" + ul["A"], "remote=" + ul["B"],
                              "vni=%d" % VNI, "csum=" + ("on" if csum else "off"), *(["xdp=uA"] if xdp else []))
    if not check(rc == 0, "%s: port add t0 vxlan" % what, (out + err).strip()):
        must(["ip", "link", "del", "vx0"], ns=NS["hB"])
        return
    cap = Capture(wd, "ul-%s-%s" % ("6" if v6 else "4", "on" if csum else "off"))
    check(udp_flows("cA", IN4["cB"]), "%s: 8 one-datagram UDP flows cA -> cB sent" % what)
    got, detail = ping("cA", IN4["cB"])
    check(got == 3, "%s: ping cA -> cB (%d/3)" % (what, got), detail if got != 3 else "")
    got, detail = ping("cB", IN4["cA"])
    check(got == 3, "%s: ping cB -> cA (%d/3)" % (what, got), detail if got != 3 else "")
    for rev in (False, True):
        nbytes, bps, detail = iperf(rev)
        check(nbytes > 0, "%s: iperf3 TCP %s (%.0f Mbit/s)" % (what, "cB -> cA" if rev else "cA -> cB", bps / 1e6),
              detail or port_stat(sw, "t0"))
    if csum:
        for rev in (False, True):
            pkts, lost, pct, detail = iperf_udp(rev)
            check(pkts > 1000 and pct <= UDP_LOSS_MAX,
                  "%s: iperf3 UDP %s, 20 Mbit/s: %d datagrams, %d lost (%.2f %%, at most %d %%)"
                  % (what, "cB -> cA" if rev else "cA -> cB", pkts, lost, pct, UDP_LOSS_MAX),
                  detail or port_stat(sw, "t0"))
    cap.stop()
    state = port_state(sw, "t0")
    rows, terr = cap.fields(v6)
    from_vsw = [r for r in rows if r["src"] == ul["A"]]
    from_krn = [r for r in rows if r["src"] == ul["B"]]
    check(from_vsw and from_krn, "%s: tshark decodes VXLAN both ways (%d from vsw, %d from the kernel)"
          % (what, len(from_vsw), len(from_krn)), terr)
    bad_vni = [r for r in rows if r["vni"] != VNI]
    check(rows and not bad_vni, "%s: every VXLAN datagram has VNI %d" % (what, VNI), bad_vni[:3])
    # A UDP GSO payload (vsw's, csum=on) crosses the veth whole and is cut after the capture point: one
    # "datagram" over the underlay's MTU whose checksum field holds the pseudo header's sum, for the kernel
    # to finish per segment.  Its datagrams are checked where they are decapsulated (the pings, iperf3).
    # Its other datagrams (a frame with a partial checksum alone) leave a GSO socket (describe: "source
    # ports P,..") with the kernel's checksum, partial too on this veth (uA's tx checksum offload is on);
    # vsw's own checksums are those of the raw socket's datagrams.
    m = re.search(r"udp_gso on \(source ports ([0-9,]+)\)", state)
    gso_ports = {int(x) for x in m.group(1).split(",")} if m else set()
    gso_rows = [r for r in from_vsw if r["udp_len"] > 1500 - (40 if v6 else 20) or
                (r["sport"] in gso_ports and r["status"] != "1")]
    from_vsw = [r for r in from_vsw if r not in gso_rows]
    if csum:
        # tshark's udp.checksum.status: 1 good, 0 bad (2: not verified); the snap length keeps whole datagrams
        ok_vsw = all(r["csum"] != 0 and r["status"] == "1" for r in from_vsw)
        ok_krn = all(r["csum"] != 0 for r in from_krn)
    else:
        ok_vsw = all(r["csum"] == 0 for r in from_vsw)
        ok_krn = all(r["csum"] == 0 for r in from_krn)
    check(from_vsw and ok_vsw, "%s: vsw's outer UDP checksums are %s (%d GSO payloads apart)"
          % (what, "set and right (tshark)" if csum else "zero", len(gso_rows)),
          [r for r in from_vsw if not (r["status"] == "1" if csum else r["csum"] == 0)][:3] + [state])
    # cA's eth0 (a veth) has TSO on: with csum=on its TCP goes out as UDP GSO payloads, else segmented before t0.
    tun = port_stat(sw, "t0").get("tunnel", {})
    if csum:
        check(tun.get("udp_gso") == 1 and tun.get("gso_sends", 0) > 0 and
              tun.get("gso_segments", 0) > tun.get("gso_sends", 0),
              "%s: t0 sent TCP as UDP GSO payloads (%d payloads, %d datagrams)"
              % (what, tun.get("gso_sends", 0), tun.get("gso_segments", 0)), tun)
    else:
        check(tun.get("udp_gso") == 0 and tun.get("gso_sends") == 0,
              "%s: no UDP GSO with csum=off (the kernel refuses it)" % what, tun)
    check(from_krn and ok_krn, "%s: the kernel's outer UDP checksums are %s (vsw took them)"
          % (what, "set" if csum else "zero"), from_krn[:3])
    sports = {r["sport"] for r in from_vsw + gso_rows}   # a GSO socket's port is one of the range too
    check(len(sports) >= 2 and all(49152 <= s <= 65535 for s in sports),
          "%s: vsw's outer source ports vary with the inner flow, in 49152-65535 (%s)" % (what, sorted(sports)[:6]))
    fdb = sw.call("fdb", "show").get("entries", [])
    check(any(e["mac"] == MAC["cB"] and e["port"] == "t0" for e in fdb),
          "%s: fdb show: cB's MAC learned on t0" % what, fdb)
    st = port_stat(sw, "t0")
    drops = {k: v for k, v in st.get("drops", {}).items() if v}
    check(not drops, "%s: no drops on t0" % what, drops)
    ecn_case(sw, wd, what, v6)
    if xdp and not v6:
        xdp_hostile(sw, what)
        xdp_partial_csum(sw, what)
    if xdp:
        state, tun = port_state(sw, "t0"), port_stat(sw, "t0").get("tunnel", {})
        xbad = {k: v for k, v in tun.items() if k.startswith("xdp_bad") and v and k not in XDP_HOSTILE}
        check(re.search(r"xdp uA \(1 queue, driver hook", state) and tun.get("xdp_rx", 0) > 1000 and
              not xbad, "%s: the kernel's datagrams came in through t0's AF_XDP socket (%d), none refused"
              % (what, tun.get("xdp_rx", 0)), [state, tun])
    must([sw.vswctl, "--ctl", sw.ctl, "port", "del", "t0"])
    must(["ip", "link", "del", "vx0"], ns=NS["hB"])
    if xdp:
        rc, out, err = run(["ip", "-d", "link", "show", "uA"], ns=NS["hA"])
        check(rc == 0 and "prog/xdp" not in out and " xdp " not in out.split("\n")[0],
              "%s: port del t0 took its XDP program off uA" % what, out + err)


XDP_HOSTILE = ("xdp_bad_udp_csum", "xdp_bad_ip_header")


def xdp_partial_csum(sw, what):
    """uB's tx checksum offload on: the kernel's datagrams reach uA unfinished; refused, counted, logged once."""
    before = port_stat(sw, "t0").get("tunnel", {}).get("xdp_bad_udp_csum", 0)
    must(["ethtool", "-K", "uB", "tx", "on"], ns=NS["hB"])
    try:
        got, _ = ping("cA", IN4["cB"])
        deadline = time.monotonic() + 3
        logged = False
        while time.monotonic() < deadline and not logged:
            time.sleep(0.2)
            with open(sw.log_path) as f:
                logged = any("xdp=uA" in ln and "wrong UDP checksum" in ln and "tx off" in ln for ln in f)
        after = port_stat(sw, "t0").get("tunnel", {}).get("xdp_bad_udp_csum", 0)
        check(got == 0 and after >= before + 3 and logged,
              "%s: with uB's tx checksum offload on, its partial checksums are refused (%d), counted (+%d) and "
              "logged with the cause" % (what, got, after - before), "logged" if logged else "no log line")
    finally:
        must(["ethtool", "-K", "uB", "tx", "off"], ns=NS["hB"])
    got, detail = ping("cA", IN4["cB"])
    check(got == 3, "%s: uB's offload off again: ping cA -> cB (%d/3)" % (what, got), detail)


def xdp_hostile(sw, what):
    """Frames past the kernel's receive (xdp=): a wrong UDP checksum, a wrong IPv4 header sum; each refused, counted."""
    before = port_stat(sw, "t0")
    # From hB's side of the underlay, as whole frames (AF_PACKET): the kernel would fill an IP header's sum.
    script = CSUM_PY + r"""
import socket, struct, sys
src, dst = socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2])
dmac, smac = bytes.fromhex(sys.argv[3].replace(":", "")), bytes.fromhex(sys.argv[4].replace(":", ""))
payload = bytes.fromhex("0800000000%06x00" % int(sys.argv[5])) + dmac + smac + b"\x88\xb5" + bytes(46)
u = struct.pack("!HHHH", 50000, 4789, 8 + len(payload), 0) + payload
c = csum(src + dst + struct.pack("!BBH", 0, 17, len(u)) + u)
def frame(ucsum, ipsum_off):
    uu = u[:6] + struct.pack("!H", ucsum) + u[8:]
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(uu), 7, 0x4000, 64, 17, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h) ^ ipsum_off) + h[12:]
    return dmac + smac + b"\x08\x00" + h + uu
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("uB", 0))
s.send(frame(c ^ 0x0101, 0))    # the UDP checksum off
s.send(frame(c, 0x0404))        # the IPv4 header sum off
"""
    rc, out, err = run(["cat", "/sys/class/net/uA/address"], ns=NS["hA"])
    mac_a = out.strip()
    rc2, out2, err2 = run(["cat", "/sys/class/net/uB/address"], ns=NS["hB"])
    must(["python3", "-c", script, UL4["B"], UL4["A"], mac_a, out2.strip(), str(VNI)], ns=NS["hB"])
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        tun = port_stat(sw, "t0").get("tunnel", {})
        if all(tun.get(k, 0) > before.get("tunnel", {}).get(k, 0) for k in XDP_HOSTILE):
            break
        time.sleep(0.1)
    st = port_stat(sw, "t0")
    tun = st.get("tunnel", {})
    delta = {k: tun.get(k, 0) - before.get("tunnel", {}).get(k, 0) for k in XDP_HOSTILE}
    bad = st.get("drops", {}).get("bad_header", 0) - before.get("drops", {}).get("bad_header", 0)
    check(rc == 0 and rc2 == 0 and all(v == 1 for v in delta.values()) and bad == 2,
          "%s: a frame with a wrong UDP checksum and one with a wrong IPv4 header sum, past the kernel: "
          "each refused and counted (%s, bad_header +%d)" % (what, delta, bad), [err, err2, tun])


def gso_break(sw, ports):
    """SO_NO_CHECK on vswd's sockets bound to uA:PORT for each of @ports (t0's UDP GSO sockets), through
    pidfd_getfd(2): Linux's udp_send_skb() then refuses every UDP_SEGMENT payload of theirs with EINVAL, a
    refusal for good as xfrm's EIO.  How many it found."""
    pid = sw.proc.pid
    with open("/proc/%d/comm" % pid) as f:
        if f.read().strip() != "vswd":
            raise RuntimeError("pid %d is not vswd" % pid)
    inodes = set()
    with open("/proc/%d/net/udp" % pid) as f:      # the table of vswd's own namespace (hA)
        for ln in list(f)[1:]:
            fs = ln.split()
            ip_hex, port_hex = fs[1].split(":")
            if (int(port_hex, 16) in ports and
                    socket.inet_ntoa(struct.pack("<I", int(ip_hex, 16))) == UL4["A"]):
                inodes.add(fs[9])
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    hit = 0
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                m = re.match(r"socket:\[(\d+)\]$", os.readlink("/proc/%d/fd/%s" % (pid, fd)))
            except OSError:
                continue
            if not m or m.group(1) not in inodes:
                continue
            dup = libc.syscall(438, pidfd, int(fd), 0)     # SYS_pidfd_getfd (x86_64, arm64: 438)
            if dup < 0:
                raise RuntimeError("pidfd_getfd: %s" % os.strerror(ctypes.get_errno()))
            s = socket.socket(fileno=dup)
            s.setsockopt(socket.SOL_SOCKET, 11, 1)         # SO_NO_CHECK
            s.close()                                        # our copy only: vswd's socket stays open
            hit += 1
    finally:
        os.close(pidfd)
    return hit


def gso_refused(sw):
    """Step 2a: the kernel refuses t0's UDP GSO for good: TCP still crosses, GSO off, said and counted once."""
    what = "GSO refused by the kernel (IPv4, csum on)"
    note(what)
    kernel_vxlan(False, True)
    try:
        must([sw.vswctl, "--ctl", sw.ctl, "port", "add", "t0", "vxlan", "local=" + UL4["A"], "remote=" + UL4["B"],
              "vni=%d" % VNI])
        state = port_state(sw, "t0")
        m = re.search(r"udp_gso on \(source ports ([0-9,]+)\)", state)
        if not check(m is not None, "%s: t0 starts with udp_gso on" % what, state):
            return
        ports = {int(x) for x in m.group(1).split(",")}
        hit = gso_break(sw, ports)
        check(hit == len(ports), "%s: SO_NO_CHECK on t0's %d GSO sockets (%d found)" % (what, len(ports), hit))
        nbytes, bps, detail = iperf(False)
        tun = port_stat(sw, "t0").get("tunnel", {})
        check(nbytes > 1000000, "%s: iperf3 TCP cA -> cB still moves data (%d bytes, %.0f Mbit/s)"
              % (what, nbytes, bps / 1e6), detail or tun)
        check(tun.get("gso_fallbacks") == 1 and tun.get("udp_gso") == 0 and tun.get("gso_resent", 0) >= 2,
              "%s: stats tunnel: gso_fallbacks 1, udp_gso 0, %d datagrams of refused payloads resent"
              % (what, tun.get("gso_resent", 0)), tun)
        state = port_state(sw, "t0")
        check("udp_gso off (the kernel refused it: EINVAL;" in state, "%s: show says udp_gso off and why" % what,
              state)
        with open(sw.log_path) as f:
            lines = [ln.strip() for ln in f if "refuses UDP GSO" in ln]
        check(len(lines) == 1 and "port t0" in lines[0] and "EINVAL" in lines[0],
              "%s: one log line names the port, the errno and GSO off" % what, lines)
        drops = {k: v for k, v in port_stat(sw, "t0").get("drops", {}).items() if v}
        check(not drops.get("port_broken"), "%s: no port_broken drops on t0" % what, drops)
        nbytes, bps, detail = iperf(True)
        check(nbytes > 1000000, "%s: iperf3 TCP cB -> cA (%d bytes)" % (what, nbytes), detail)
    finally:
        run([sw.vswctl, "--ctl", sw.ctl, "port", "del", "t0"])
        must(["ip", "link", "del", "vx0"], ns=NS["hB"])


def set_mtus(mtus):
    """{(host, ifname): mtu}: each interface's MTU."""
    for (h, dev), mtu in mtus.items():
        must(["ip", "link", "set", dev, "mtu", str(mtu)], ns=NS[h])


def forget_pmtu():
    """cA's learned path MTUs (exceptions on its subnet route) go with the route: address removed and added."""
    must(["ip", "addr", "del", IN4["cA"] + "/24", "dev", "eth0"], ns=NS["cA"])
    must(["ip", "addr", "add", IN4["cA"] + "/24", "dev", "eth0"], ns=NS["cA"])


def pmtu_tcp(sw, wd):
    """Item 4: underlay MTU 1400 under an inner MTU of 1430: vsw answers cA's too-big TCP segments with ICMP
    frag-needed (MTU 1350), cA lowers its path MTU and the transfer completes."""
    what = "underlay MTU 1400, inner 1430"
    note(what)
    set_mtus({("hA", "uA"): 1400, ("hB", "uB"): 1400})
    kernel_vxlan(False, True)
    must(["ip", "link", "set", "vx0", "mtu", str(INNER_MTU)], ns=NS["hB"])  # cB's frames cross br0 whole
    forget_pmtu()
    try:
        must([sw.vswctl, "--ctl", sw.ctl, "port", "add", "t0", "vxlan", "local=" + UL4["A"], "remote=" + UL4["B"],
              "vni=%d" % VNI])
        state = port_state(sw, "t0")
        check("mtu 1400 (route 1400) frame_max 1364" in state,
              "%s: t0 reads the underlay's MTU from the kernel's route (1400; frames up to 1364)" % what, state)
        cap = Capture(wd, "pmtu-inner", host="hA", ifname="vA", bpf=("icmp",))
        nbytes, bps, detail = iperf(False)
        check(nbytes > 1000000, "%s: iperf3 TCP cA -> cB completes (%d bytes, %.0f Mbit/s)" % (what, nbytes, bps / 1e6),
              detail or port_stat(sw, "t0"))
        res, pdetail = df_probe("cA", IN4["cB"], 1322, count=1)
        check(res == ["reply"], "%s: a 1350-byte IP packet with DF crosses (%s)" % (what, res), pdetail)
        res, pdetail = df_probe("cA", IN4["cB"], 1323, count=1)
        check(res == ["frag-needed 1350 from %s" % IN4["cB"]],
              "%s: a 1351-byte one is answered with frag-needed, MTU 1350 (%s)" % (what, res), pdetail)
        cap.stop()
        rows, terr = cap.frag_needed()
        check((IN4["cB"], IN4["cA"], 1350) in rows,
              "%s: tshark on vA: ICMP frag-needed from cB to cA, next-hop MTU 1350 (%d seen)" % (what, len(rows)),
              rows[:3] or terr)
        _, out, _ = run(["ip", "route", "get", IN4["cB"]], ns=NS["cA"])
        check("mtu 1350" in out, "%s: cA's route to cB learned the path MTU 1350" % what, out.strip())
        # Inner IPv6: packet too big, MTU 1350 (1400 - 50), from cB's address.
        for c in ("cA", "cB"):
            must(["sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=0"], ns=NS[c])
            must(["ip", "addr", "add", IN6[c] + "/64", "dev", "eth0", "nodad"], ns=NS[c])
        res, pdetail = df_probe6("cA", IN6["cB"], 1302)
        if res != ["reply"]:        # the first one may wait for neighbour discovery across the tunnel
            res, pdetail = df_probe6("cA", IN6["cB"], 1302)
        check(res == ["reply"], "%s: a 1350-byte IPv6 packet crosses (%s)" % (what, res), pdetail)
        res, pdetail = df_probe6("cA", IN6["cB"], 1303)
        check(res == ["too-big 1350 from %s" % IN6["cB"]],
              "%s: a 1351-byte IPv6 one is answered with packet too big, MTU 1350 (%s)" % (what, res), pdetail)
        st = port_stat(sw, "t0")
        check(st.get("drops", {}).get("too_big", 0) >= 2 and st.get("tx_pmtu_icmp", 0) >= 2,
              "%s: too_big drops on t0 answered (tx_pmtu_icmp %s)" % (what, st.get("tx_pmtu_icmp")), st)
        must([sw.vswctl, "--ctl", sw.ctl, "port", "del", "t0"])
    finally:
        run(["ip", "link", "del", "vx0"], ns=NS["hB"])
        set_mtus({("hA", "uA"): 1500, ("hB", "uB"): 1500})
        forget_pmtu()
        for c in ("cA", "cB"):
            run(["sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=1"], ns=NS[c])


def pmtu_router(sw):
    """Item 4, a path MTU only a router knows: hA -- hR -- hB, a second underlay routed through netns hR,
    whose link to hB is 1400 bytes while hA's own is 1500.  vsw's datagrams of an inner 1400-byte packet
    (DF) die at hR, which answers hA with ICMP frag-needed / ICMPv6 packet too big, MTU 1400; hA's kernel
    must learn it (the error reaches its UDP error handler only through a socket bound to the datagram's
    source port), t0 must read it from the route, and answer cA's next too-big packet itself.  IPv4 and
    IPv6 underlays, csum=on (UDP GSO's sockets) and csum=off (no GSO: the outer ports' sockets are bound
    all the same)."""
    ul = {False: {"a": "192.168.81.1", "ra": "192.168.81.254", "rb": "192.168.82.254", "b": "192.168.82.2",
                  "neta": "192.168.81.0/24", "netb": "192.168.82.0/24", "plen": "/24"},
          True: {"a": "fd81::1", "ra": "fd81::fe", "rb": "fd82::fe", "b": "fd82::2",
                 "neta": "fd81::/64", "netb": "fd82::/64", "plen": "/64"}}
    hr = NS["hR"]
    must(["ip", "link", "add", "uR1", "netns", NS["hA"], "type", "veth", "peer", "name", "r1", "netns", hr])
    must(["ip", "link", "add", "uR2", "netns", NS["hB"], "type", "veth", "peer", "name", "r2", "netns", hr])
    try:
        for u in ul.values():
            nodad = ["nodad"] if ":" in u["a"] else []
            for ns, dev, addr in ((NS["hA"], "uR1", u["a"]), (hr, "r1", u["ra"]), (hr, "r2", u["rb"]),
                                  (NS["hB"], "uR2", u["b"])):
                must(["ip", "addr", "add", addr + u["plen"], "dev", dev] + nodad, ns=ns)
        for ns, dev in ((NS["hA"], "uR1"), (hr, "r1"), (hr, "r2"), (NS["hB"], "uR2")):
            must(["ip", "link", "set", dev, "up"], ns=ns)
        for ns, dev in ((hr, "r2"), (NS["hB"], "uR2")):
            must(["ip", "link", "set", dev, "mtu", "1400"], ns=ns)
        must(["ethtool", "-K", "uR2", "tx", "off"], ns=NS["hB"])    # as uB (setup_net)
        must(["sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"], ns=hr)
        for u in ul.values():
            must(["ip", "route", "add", u["netb"], "via", u["ra"]], ns=NS["hA"])
            must(["ip", "route", "add", u["neta"], "via", u["rb"]], ns=NS["hB"])
        for v6 in (False, True):
            u = ul[v6]
            # what fits the 1400-byte hop: U - 50 (IPv4 underlay) or U - 70 (IPv6) bytes of inner IP packet
            inner = 1400 - (70 if v6 else 50)
            for csum in (False, True):
                what = "path MTU 1400 behind a router, %s underlay, csum=%s" % ("IPv6" if v6 else "IPv4",
                                                                               "on" if csum else "off")
                note(what)
                for fam in ("-4", "-6"):
                    run(["ip", fam, "route", "flush", "cache"], ns=NS["hA"])
                forget_pmtu()
                argv = ["ip", "link", "add", "vx0", "type", "vxlan", "id", str(VNI), "local", u["b"], "remote",
                        u["a"], "dstport", "4789"]
                if v6:
                    argv += ["noudp6zerocsumtx", "noudp6zerocsumrx"] if csum else ["udp6zerocsumtx", "udp6zerocsumrx"]
                else:
                    argv += ["udpcsum" if csum else "noudpcsum"]
                must(argv, ns=NS["hB"])
                must(["ip", "link", "set", "vx0", "mtu", str(INNER_MTU), "master", "br0"], ns=NS["hB"])
                must(["ip", "link", "set", "vx0", "up"], ns=NS["hB"])
                try:
                    must([sw.vswctl, "--ctl", sw.ctl, "port", "add", "t0", "vxlan", "local=" + u["a"],
                          "remote=" + u["b"], "vni=%d" % VNI, "csum=" + ("on" if csum else "off")])
                    got, detail = ping("cA", IN4["cB"])
                    if got != 3:    # the first echo may wait for IPv6 neighbour discovery on the way
                        got, detail = ping("cA", IN4["cB"])
                    check(got == 3, "%s: ping cA -> cB through hR (%d/3)" % (what, got), detail if got != 3 else "")
                    state = port_state(sw, "t0")
                    check("mtu 1500 (route 1500)" in state, "%s: t0 starts from hA's own link, 1500" % what, state)
                    # an inner 1400-byte packet: over hR's 1400 outer (lost there, answered to hA)
                    df_probe("cA", IN4["cB"], 1372, count=1)
                    _, out, _ = run(["ip", "-6" if v6 else "-4", "route", "get", u["b"]], ns=NS["hA"])
                    check("mtu 1400" in out, "%s: hA's route to hB learned the path MTU 1400 from hR's ICMP" % what,
                          out.strip())
                    want = "mtu 1400 (route 1400) frame_max %d" % (inner + 14)
                    deadline = time.monotonic() + 5
                    while want not in state and time.monotonic() < deadline:
                        time.sleep(0.2)
                        state = port_state(sw, "t0")
                    check(want in state, "%s: t0 reads it (frames up to %d)" % (what, inner + 14), state)
                    res, pdetail = df_probe("cA", IN4["cB"], inner - 28, count=1)
                    check(res == ["reply"], "%s: a %d-byte IP packet with DF crosses (%s)" % (what, inner, res),
                          pdetail)
                    res, pdetail = df_probe("cA", IN4["cB"], inner - 27, count=1)
                    check(res == ["frag-needed %d from %s" % (inner, IN4["cB"])],
                          "%s: a %d-byte one is answered by vsw with frag-needed, MTU %d (%s)"
                          % (what, inner + 1, inner, res), pdetail)
                    must([sw.vswctl, "--ctl", sw.ctl, "port", "del", "t0"])
                finally:
                    run(["ip", "link", "del", "vx0"], ns=NS["hB"])
    finally:
        run(["ip", "link", "del", "uR1"], ns=NS["hA"])
        run(["ip", "link", "del", "uR2"], ns=NS["hB"])
        for fam in ("-4", "-6"):
            run(["ip", fam, "route", "flush", "cache"], ns=NS["hA"])
        forget_pmtu()


def jumbo(sw, wd):
    """Item 5: an inner MTU of 8950 over a 9000-byte underlay, vsw <-> kernel vxlan; cA's own MTU is 9000, so
    the first IP packet over 8950 leaves it and is vsw's to answer."""
    what = "underlay MTU 9000, inner 8950"
    note(what)
    set_mtus({("hA", "uA"): 9000, ("hB", "uB"): 9000, ("hA", "vA"): 9000, ("cA", "eth0"): 9000,
              ("hB", "vB"): 8950, ("cB", "eth0"): 8950})
    kernel_vxlan(False, True)
    must(["ip", "link", "set", "vx0", "mtu", "8950"], ns=NS["hB"])
    forget_pmtu()
    try:
        must([sw.vswctl, "--ctl", sw.ctl, "port", "add", "t0", "vxlan", "local=" + UL4["A"], "remote=" + UL4["B"],
              "vni=%d" % VNI])
        res, detail = df_probe("cA", IN4["cB"], 8922, count=2)
        check(res == ["reply"] * 2, "%s: ping -s 8922 with DF (8950-byte IP packets) crosses (%s)" % (what, res),
              detail)
        res, detail = df_probe("cA", IN4["cB"], 8923, count=1)
        check(res == ["frag-needed 8950 from %s" % IN4["cB"]],
              "%s: ping -s 8923 with DF is answered with frag-needed, MTU 8950 (%s)" % (what, res), detail)
        res, detail = df_probe("cB", IN4["cA"], 8922, count=2)
        check(res == ["reply"] * 2, "%s: ping -s 8922 with DF cB -> cA crosses (%s)" % (what, res), detail)
        for rev in (False, True):
            nbytes, bps, detail = iperf(rev)
            check(nbytes > 1000000, "%s: iperf3 TCP %s (%d bytes, %.0f Mbit/s)"
                  % (what, "cB -> cA" if rev else "cA -> cB", nbytes, bps / 1e6), detail or port_stat(sw, "t0"))
        must([sw.vswctl, "--ctl", sw.ctl, "port", "del", "t0"])
    finally:
        run(["ip", "link", "del", "vx0"], ns=NS["hB"])
        set_mtus({("hA", "uA"): 1500, ("hB", "uB"): 1500, ("cA", "eth0"): INNER_MTU, ("hA", "vA"): 1500,
                  ("cB", "eth0"): INNER_MTU, ("hB", "vB"): 1500})
        forget_pmtu()


def hostile(sw):
    """Datagrams to hA:4789 that are not vsw's to take: each a drop with its reason."""
    ul = UL4
    must([sw.vswctl, "--ctl", sw.ctl, "port", "add", "t0", "vxlan", "local=" + ul["A"], "remote=" + ul["B"],
          "vni=%d" % VNI])
    inner = bytes.fromhex(MAC["cA"].replace(":", "") + "02aabbccddee") + b"\x88\xb5" + bytes(46)
    vni = VNI.to_bytes(3, "big")
    script = ("import socket,sys\n"
              "def tx(src, data):\n"
              "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
              "    s.bind((src, 0)); s.sendto(data, (%r, 4789)); s.close()\n"
              "b = bytes.fromhex(sys.argv[1]); v = bytes.fromhex(sys.argv[2])\n"
              "tx(%r, b'\\x00\\x00\\x00\\x00' + v + b'\\x00' + b)\n"            # I flag clear
              "tx(%r, b'\\x08\\x00\\x00\\x00' + bytes([0, 0, 1]) + b'\\x00' + b)\n"  # another VNI
              "tx(%r, b'\\x08\\x00\\x00\\x00' + v + b'\\x00' + b[:10])\n"        # too short
              "tx(%r, b'\\x08\\x00\\x00\\x00' + v + b'\\x00' + b)\n"            # not from the remote
              % (ul["A"], ul["B"], ul["B"], ul["B"], ul["X"]))
    before = port_stat(sw, "t0")
    must(["python3", "-c", script, inner.hex(), vni.hex()], ns=NS["hB"])
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        st = port_stat(sw, "t0")
        d = st.get("drops", {})
        if d.get("bad_header", 0) >= 3 and d.get("src_ip", 0) >= 1:
            break
        time.sleep(0.1)
    d = st.get("drops", {})
    check(d.get("bad_header", 0) == 3 and d.get("src_ip", 0) == 1 and
          st.get("rx_packets", 0) == before.get("rx_packets", 0),
          "hostile datagrams: 3 bad_header drops (flags, vni, short), 1 src_ip drop (not the remote), none taken",
          st)
    state = port_state(sw, "t0")
    check(all(w in state for w in ("rx flags: 1", "rx vni: 1", "rx short: 1", "rx remote: 1")),
          "hostile datagrams: each reason named in t0's state", state)


def too_big(sw):
    """cA's MTU over what the tunnel can carry: a DF echo is dropped as too_big, never fragmented, and answered."""
    before = port_stat(sw, "t0")
    # No VTEP answers behind t0 now: cB's address resolved by hand (the frames are floods to t0: cB's MAC unknown)
    must(["ip", "neigh", "replace", IN4["cB"], "lladdr", MAC["cB"], "dev", "eth0", "nud", "permanent"], ns=NS["cA"])
    must(["ip", "link", "set", "eth0", "mtu", "1500"], ns=NS["cA"])
    res, detail = df_probe("cA", IN4["cB"], 1472, count=2)
    after = port_stat(sw, "t0")
    must(["ip", "link", "set", "eth0", "mtu", str(INNER_MTU)], ns=NS["cA"])
    must(["ip", "neigh", "del", IN4["cB"], "dev", "eth0"], ns=NS["cA"])
    dropped = after.get("drops", {}).get("too_big", 0) - before.get("drops", {}).get("too_big", 0)
    answered = after.get("tx_pmtu_icmp", 0) - before.get("tx_pmtu_icmp", 0)
    check(dropped == 2 and answered == 2,
          "an inner frame of 1514 bytes over a 1500-byte IPv4 underlay: 2 too_big drops on t0 (%d), 2 answered (%d)"
          % (dropped, answered), after)
    check(res == ["frag-needed 1450 from %s" % IN4["cB"]] * 2,
          "... each answered to cA with ICMP frag-needed, MTU 1450 (1500 - 50), from cB's address (%s)" % res, detail)


def vsw_pair(build, wd, sw):
    """vsw <-> vsw: hB's container on a second vswd (afpacket + vxlan) instead of the kernel's bridge."""
    wd2 = os.path.join(wd, "b")
    os.mkdir(wd2)
    must(["ip", "link", "set", "vB", "nomaster"], ns=NS["hB"])
    sw2 = Vswd(build, wd2, NS["hB"])
    try:
        must([sw2.vswctl, "--ctl", sw2.ctl, "port", "add", "b", "afpacket", "ifname=vB"])
        for s_, l, r in ((sw, "A", "B"), (sw2, "B", "A")):
            must([s_.vswctl, "--ctl", s_.ctl, "port", "add", "t0", "vxlan", "local=" + UL6[l], "remote=" + UL6[r],
                  "vni=%d" % VNI, "tos=inherit"])
        got, detail = ping("cA", IN4["cB"])
        check(got == 3, "vsw <-> vsw (IPv6 underlay): ping cA -> cB (%d/3)" % got, detail if got != 3 else "")
        got, detail = ping("cB", IN4["cA"])
        check(got == 3, "vsw <-> vsw (IPv6 underlay): ping cB -> cA (%d/3)" % got, detail if got != 3 else "")
        for rev in (False, True):
            nbytes, bps, detail = iperf(rev)
            check(nbytes > 0, "vsw <-> vsw: iperf3 TCP %s (%.0f Mbit/s)" % ("cB -> cA" if rev else "cA -> cB",
                                                                          bps / 1e6), detail)
        fdb = sw2.call("fdb", "show").get("entries", [])
        check(any(e["mac"] == MAC["cA"] and e["port"] == "t0" for e in fdb),
              "vsw <-> vsw: the second vswd learned cA's MAC on its t0", fdb)
        # Both ways, TCP from a TSO container: GSO payloads out of each vswd.  A -> B they cross the veth
        # whole (uA's tx offloads on) and hB's t0 receives them as GRO buffers; B -> A the kernel cuts them
        # at uB (its tx checksum offload is off: setup_net), so hA's t0 gets single datagrams.
        for s_, n in ((sw, "A"), (sw2, "B")):
            tx = port_stat(s_, "t0").get("tunnel", {})
            check(tx.get("udp_gso") == 1 and tx.get("gso_sends", 0) > 0, "vsw <-> vsw: host %s's t0 sent TCP as "
                  "UDP GSO payloads (%d)" % (n, tx.get("gso_sends", 0)), tx)
        rx = port_stat(sw2, "t0").get("tunnel", {})
        check(rx.get("udp_gro") == 1 and rx.get("gro_receives", 0) > 0 and
              rx.get("gro_segments", 0) > rx.get("gro_receives", 0) and rx.get("gro_merged", 0) > 0,
              "vsw <-> vsw: host B's t0 received A's payloads as UDP GRO buffers (%d, %d datagrams) and handed "
              "cB's TCP on as %d TSO frames" % (rx.get("gro_receives", 0), rx.get("gro_segments", 0),
                                               rx.get("gro_merged", 0)), rx)
        # The encap and decap points, timed apart from the syscalls (lib/perf.h): frames went both ways.
        st = sw.call("perf", "show").get("total", {}).get("stages", {})
        untimed = [k for k in ("encap", "decap") if not st.get(k, {}).get("packets") or not st[k].get("cycles")]
        check(not untimed, "vsw <-> vsw: perf show times encap and decap (%.0f / %.0f cycles per packet)"
              % (st.get("encap", {}).get("cycles_per_packet", 0), st.get("decap", {}).get("cycles_per_packet", 0)),
              untimed)
        for s_, n in ((sw, "A"), (sw2, "B")):
            must([s_.vswctl, "--ctl", s_.ctl, "port", "del", "t0"])
    finally:
        rc = sw2.stop()
        check(rc == 0, "vsw <-> vsw: the second vswd exits 0 on SIGTERM (%s)" % rc)
        must(["ip", "link", "set", "vB", "master", "br0"], ns=NS["hB"])


def bad_options(sw):
    cases = [
        (["vni=16777216"], "vni"),
        (["local=" + UL4["A"], "remote=" + UL6["B"], "vni=1"], "one family"),
        (["csum=maybe", "vni=1"], "csum"),
        (["src_ports=9-1", "vni=1"], "src_ports"),
    ]
    for extra, want in cases:
        argv = ["port", "add", "bad", "vxlan"]
        if not any(e.startswith("local=") for e in extra):
            argv += ["local=" + UL4["A"], "remote=" + UL4["B"]]
        rc, out, err = sw.ctl_run(*(argv + extra))
        msg = (out + err).strip()
        check(rc != 0 and want in msg, "port add vxlan %s refused: %s" % (" ".join(extra), msg[:120]), msg)


def kernel_vtep(host, vni, local):
    must(["ip", "link", "add", "vx0", "type", "vxlan", "id", str(vni), "local", local, "remote", UL4["A"],
          "dstport", "4789", "udpcsum"], ns=NS[host])
    must(["ip", "link", "set", "vx0", "master", "br0"], ns=NS[host])
    must(["ip", "link", "set", "vx0", "up"], ns=NS[host])


def captures(wd, nb, nc):
    """tcpdump on hB's and hC's underlay, in immediate mode (else the last ring block can be lost to the
    SIGINT), after a pause (a fresh capture misses what comes in its first moments)."""
    caps = Capture(wd, nb, "hB", "uB", True), Capture(wd, nc, "hC", "uC", True)
    time.sleep(0.5)
    return caps


def stop_captures(*caps):
    time.sleep(0.5)
    for c in caps:
        c.stop()


def remote_mtu(sw, wd, flow=False):
    """Issue 16 item 4, per remote: hA's route to hC's VTEP has `mtu 1400`, hB's path stays 1500.  t0 (two
    remotes, or with @flow one remote=flow port whose flows pick the VTEP by inner destination) checks each
    frame against ITS remote's path: a 1430-byte DF packet crosses to cB and is answered to cA with
    frag-needed 1350 (1400 - 50) for cC; TCP to each completes; `show` lists hB's MTU where it differs."""
    what = "per-remote MTU%s" % (", remote=flow" if flow else "")
    note(what)
    vswctl = [sw.vswctl, "--ctl", sw.ctl]
    must(["ip", "route", "replace", UL4["C"] + "/32", "dev", "uA2", "mtu", "1400"], ns=NS["hA"])
    forget_pmtu()
    try:
        if flow:
            must(vswctl + ["port", "add", "t0", "vxlan", "local=" + UL4["A"], "remote=flow", "vni=%d" % VNI])
            for c, ul in (("cB", UL4["B"]), ("cC", UL4["C"])):
                for m in ("ip,nw_dst", "arp,arp_tpa"):
                    must(vswctl + ["flow", "add", "priority=100,in_port=a,%s=%s,actions=set_field:%s->tun_dst,output:t0"
                                   % (m, IN4[c], ul)])
            must(vswctl + ["flow", "add", "priority=100,in_port=t0,actions=output:a"])
            # the first big frame to a VTEP the port has not met is a miss: it asks, the next tick reads the route
            df_probe("cA", IN4["cC"], 1402, count=1)
            time.sleep(1.5)
        deadline = time.monotonic() + 5
        rm = []
        while time.monotonic() < deadline:
            t0 = [p for p in sw.call("show").get("ports", []) if p.get("name") == "t0"]
            rm = t0[0].get("remote_mtu", []) if t0 else []
            if rm:
                break
            time.sleep(0.3)
        state = port_state(sw, "t0")
        if flow:
            check(any(e.get("remote") == UL4["C"] and e.get("mtu") == 1400 and e.get("frame_max") == 1364 and
                      e.get("flow") for e in rm),
                  "%s: show --json lists hC's VTEP (a tun_dst met) at MTU 1400, frames up to 1364" % what, (rm, state))
        else:
            check("mtu 1400 (route 1400) frame_max 1364" in state and
                  any(e.get("remote") == UL4["B"] and e.get("mtu") == 1500 and e.get("frame_max") == 1464 for e in rm),
                  "%s: show --json: the port's MTU is the smallest (1400), hB's own 1500 listed (frames up to 1464)"
                  % what, (rm, state))
            rc, out, err = sw.ctl_run("show")
            check(rc == 0 and ("remote %s mtu 1500 (route 1500) frame_max 1464" % UL4["B"]) in out,
                  "%s: vswctl show prints hB's MTU under t0" % what, out + err)
        before = port_stat(sw, "t0")
        res, detail = df_probe("cA", IN4["cB"], 1402, count=2)
        check(res == ["reply"] * 2, "%s: a 1430-byte DF packet to cB (hB, path 1500) crosses (%s)" % (what, res),
              detail)
        res, detail = df_probe("cA", IN4["cC"], 1402, count=2)
        check(res == ["frag-needed 1350 from %s" % IN4["cC"]] * 2,
              "%s: the same size to cC (hC, route mtu 1400) is answered with frag-needed, MTU 1350 (%s)" % (what, res),
              detail)
        after = port_stat(sw, "t0")
        dropped = after.get("drops", {}).get("too_big", 0) - before.get("drops", {}).get("too_big", 0)
        answered = after.get("tx_pmtu_icmp", 0) - before.get("tx_pmtu_icmp", 0)
        check(dropped == 2 and answered == 2, "%s: 2 too_big drops on t0 (%d), 2 answered (%d)"
              % (what, dropped, answered), after)
        for c in ("cB", "cC"):
            nbytes, bps, detail = iperf(False, c)
            check(nbytes > 1000000, "%s: iperf3 TCP cA -> %s completes (%d bytes, %.0f Mbit/s)"
                  % (what, c, nbytes, bps / 1e6), detail or port_stat(sw, "t0"))
        _, out, _ = run(["ip", "route", "get", IN4["cC"]], ns=NS["cA"])
        check("mtu 1350" in out, "%s: cA's route to cC learned 1350 from vsw's answer" % what, out.strip())
        _, out, _ = run(["ip", "route", "get", IN4["cB"]], ns=NS["cA"])
        check("mtu" not in out, "%s: cA's route to cB learned no smaller MTU" % what, out.strip())
        if flow:
            must(vswctl + ["flow", "del"])
        must(vswctl + ["port", "del", "t0"])
    finally:
        run(["ip", "route", "del", UL4["C"] + "/32", "dev", "uA2"], ns=NS["hA"])
        forget_pmtu()


def three_hosts(sw, wd):
    """One vxlan port, two remote VTEPs (kernel vxlan on hB and hC): floods reach both, learned and static
    MACs reach one; then vni=flow with tun_id flows: two VNIs to two local ports, isolated."""
    vswctl = [sw.vswctl, "--ctl", sw.ctl]
    setup_three()
    must(vswctl + ["port", "add", "a2", "afpacket", "ifname=vA2"])
    kernel_vtep("hB", VNI, UL4["B"])
    kernel_vtep("hC", VNI, UL4["C"])
    must(vswctl + ["port", "add", "t0", "vxlan", "local=" + UL4["A"], "remote=%s,%s" % (UL4["B"], UL4["C"]),
                   "vni=%d" % VNI])
    capB, capC = captures(wd, "three-b", "three-c")
    for c in ("cB", "cC"):
        got, detail = ping("cA", IN4[c])
        check(got == 3, "two remotes: ping cA -> %s (%d/3)" % (c, got), detail if got != 3 else "")
    stop_captures(capB, capC)
    rb, rc_ = capB.inner_dsts(), capC.inner_dsts()
    bcast = "ff:ff:ff:ff:ff:ff"
    check(any(r[0] == UL4["A"] and r[1] == bcast for r in rb) and any(r[0] == UL4["A"] and r[1] == bcast for r in rc_),
          "two remotes: cA's ARP broadcasts flooded to both VTEPs (head-end replication)", (rb[:4], rc_[:4]))
    # the underlay MTU is the smallest over the remotes: hC's path (uA2) narrower than hB's
    state = port_state(sw, "t0")
    check("mtu 1500 (route 1500) frame_max 1464" in state, "two remotes, both paths 1500: t0's frames up to 1464",
          state)
    set_mtus({("hA", "uA2"): 1400})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "frame_max 1364" not in state:
        time.sleep(0.3)
        state = port_state(sw, "t0")
    check("mtu 1400 (route 1400) frame_max 1364" in state,
          "two remotes, hC's path at 1400: t0 takes the smaller MTU within a tick (frames up to 1364)", state)
    set_mtus({("hA", "uA2"): 1500})
    fdb = sw.call("tunnel", "fdb", "show").get("entries", [])
    where = {e["mac"]: e["remote"] for e in fdb if not e.get("static")}
    check(where.get(MAC["cB"]) == UL4["B"] and where.get(MAC["cC"]) == UL4["C"],
          "tunnel fdb show: cB learned behind %s, cC behind %s" % (UL4["B"], UL4["C"]), fdb)
    # learned: unicast to cB goes to hB only (cA's ARP entries are fresh: its pings are unicast)
    capB, capC = captures(wd, "three-b2", "three-c2")
    got, detail = ping("cA", IN4["cB"])
    stop_captures(capB, capC)
    rb, rc_ = capB.inner_dsts(), capC.inner_dsts()
    nb = sum(1 for r in rb if r[0] == UL4["A"] and r[1] == MAC["cB"])
    nc = sum(1 for r in rc_ if r[0] == UL4["A"] and r[1] == MAC["cB"])
    check(got == 3 and nb >= 3 and nc == 0, "learned: unicast to cB on hB's wire only (%d there, %d on hC's)"
          % (nb, nc), detail)
    # static: a MAC that never talks, behind hC
    must(vswctl + ["tunnel", "fdb", "add", SILENT[1], "remote=" + UL4["C"]])
    must(["ip", "neigh", "replace", SILENT[0], "lladdr", SILENT[1], "dev", "eth0", "nud", "permanent"], ns=NS["cA"])
    capB, capC = captures(wd, "three-b3", "three-c3")
    ping("cA", SILENT[0], count=2)
    stop_captures(capB, capC)
    nb = sum(1 for r in capB.inner_dsts() if r[1] == SILENT[1])
    nc = sum(1 for r in capC.inner_dsts() if r[1] == SILENT[1])
    check(nb == 0 and nc >= 2, "static: tunnel fdb add %s remote=%s: to hC only (%d there, %d on hB's)"
          % (SILENT[1], UL4["C"], nc, nb))
    fdb = sw.call("tunnel", "fdb", "show", "port=t0").get("entries", [])
    check(any(e["mac"] == SILENT[1] and e.get("static") and e["remote"] == UL4["C"] and e["vni"] == VNI for e in fdb),
          "tunnel fdb show: the static entry", fdb)
    rc, out, err = sw.ctl_run("tunnel", "fdb", "del", SILENT[1])
    check(rc == 0 and not any(e["mac"] == SILENT[1] for e in sw.call("tunnel", "fdb", "show").get("entries", [])),
          "tunnel fdb del: gone", out + err)
    remote_mtu(sw, wd)              # t0 (remote=B,C) deleted at its end
    remote_mtu(sw, wd, flow=True)

    # vni=flow: VNI on hB, VNI + 1 on hC; flows map them to a (cA) and a2 (cA2)
    must(["ip", "link", "del", "vx0"], ns=NS["hC"])
    kernel_vtep("hC", VNI + 1, UL4["C"])
    must(vswctl + ["port", "add", "t0", "vxlan", "local=" + UL4["A"], "remote=%s,%s" % (UL4["B"], UL4["C"]),
                   "vni=flow"])
    for fl in ("in_port=t0,tun_id=%d,actions=output:a" % VNI,
               "in_port=t0,tun_id=%d,actions=output:a2" % (VNI + 1),
               "in_port=a,actions=set_tunnel:%d,output:t0" % VNI,
               "in_port=a2,actions=set_field:%d->tun_id,output:t0" % (VNI + 1)):
        must(vswctl + ["flow", "add", fl])
    # per-VNI flood lists (bridge fdb append 00:00:00:00:00:00 ... vni N): VNI's floods to hB only, VNI + 1's to hC
    zero = "00:00:00:00:00:00"
    must(vswctl + ["tunnel", "fdb", "add", zero, "vni=%d" % VNI, "remote=" + UL4["B"]])
    must(vswctl + ["tunnel", "fdb", "add", zero, "vni=%d" % (VNI + 1), "remote=" + UL4["C"]])
    for c in ("cA", "cA2"):
        run(["ip", "neigh", "flush", "dev", "eth0"], ns=NS[c])
    capB, capC = captures(wd, "three-b4", "three-c4")
    got, detail = ping("cA", IN4["cB"])
    check(got == 3, "vni=flow: ping cA -> cB in VNI %d (%d/3)" % (VNI, got), detail if got != 3 else "")
    got, detail = ping("cA2", IN4["cC"])
    check(got == 3, "vni=flow: ping cA2 -> cC in VNI %d (%d/3)" % (VNI + 1, got), detail if got != 3 else "")
    stop_captures(capB, capC)
    bcast = "ff:ff:ff:ff:ff:ff"
    rb, rc_ = capB.inner_dsts(), capC.inner_dsts()
    fb = {vni: sum(1 for r in rb if r[0] == UL4["A"] and r[1] == bcast and r[2] == vni) for vni in (VNI, VNI + 1)}
    fc = {vni: sum(1 for r in rc_ if r[0] == UL4["A"] and r[1] == bcast and r[2] == vni) for vni in (VNI, VNI + 1)}
    check(fb[VNI] >= 1 and fc[VNI] == 0 and fc[VNI + 1] >= 1 and fb[VNI + 1] == 0,
          "per-VNI flood lists: cA's ARP broadcast in VNI %d on hB's underlay only, cA2's in VNI %d on hC's only "
          "(hB %s, hC %s)" % (VNI, VNI + 1, fb, fc), (rb[:6], rc_[:6]))
    fdb = sw.call("tunnel", "fdb", "show", "port=t0").get("entries", [])
    flood = sorted((e["vni"], e["remote"]) for e in fdb if e.get("flood") and e["mac"] == zero)
    check(flood == [(VNI, UL4["B"]), (VNI + 1, UL4["C"])], "tunnel fdb show: the two flood entries, marked flood",
          fdb)
    rc, out, err = sw.ctl_run("tunnel", "fdb", "show")
    check(rc == 0 and sum(1 for ln in out.splitlines() if zero in ln and ln.rstrip().endswith("flood")) == 2,
          "vswctl tunnel fdb show: two lines of %s ending in flood" % zero, out + err)
    rc, out, err = sw.ctl_run("tunnel", "fdb", "del", zero, "vni=%d" % VNI, "remote=" + UL4["B"])
    left = [e for e in sw.call("tunnel", "fdb", "show").get("entries", []) if e.get("flood")]
    check(rc == 0 and len(left) == 1 and left[0]["vni"] == VNI + 1,
          "tunnel fdb del %s vni=%d remote=%s: that one gone, VNI %d's kept" % (zero, VNI, UL4["B"], VNI + 1),
          out + err + str(left))
    got_ac, _ = ping("cA", IN4["cC"], count=2)
    got_a2b, _ = ping("cA2", IN4["cB"], count=2)
    check(got_ac == 0 and got_a2b == 0, "vni=flow: isolation: cA cannot reach cC, cA2 cannot reach cB (%d, %d replies)"
          % (got_ac, got_a2b))
    # item 4 under flows: hC's path narrowed to 1400, cA2's DF packet of 1430 bytes to cC is too big for it;
    # vsw's answer comes back as from the tunnel in VNI + 1 (its tun_id, tun_src hC) and the tun_id flow
    # takes it to cA2 (without the metadata no flow matched it: a flow_miss, and cA2 never heard)
    set_mtus({("hA", "uA2"): 1400})
    deadline = time.monotonic() + 5
    state = port_state(sw, "t0")
    while time.monotonic() < deadline and "route 1400" not in state and UL4["C"] + " mtu 1400" not in state:
        time.sleep(0.3)
        state = port_state(sw, "t0")
    res, detail = df_probe("cA2", IN4["cC"], 1402, count=1)
    check(res == ["frag-needed 1350 from %s" % IN4["cC"]],
          "vni=flow: cA2's 1430-byte DF packet to cC (path 1400) answered with frag-needed 1350, back through "
          "the tun_id flow (%s)" % res, (detail, state))
    set_mtus({("hA", "uA2"): 1500})
    rc, out, err = sw.ctl_run("flow", "dump")
    lines = [ln for ln in out.splitlines() if "in_port=t0,tun_id=" in ln]
    check(len(lines) == 2 and all("n_packets=0," not in ln for ln in lines),
          "vni=flow: flow dump: both tun_id flows matched packets", out + err)
    must(vswctl + ["flow", "del"])
    must(vswctl + ["port", "del", "t0"])
    vlan_vni(sw)
    must(vswctl + ["port", "del", "a2"])
    for h in ("hB", "hC"):
        must(["ip", "link", "del", "vx0"], ns=NS[h])


def vlan_vni(sw):
    """vlan_vni=: one port, VLAN 10 <-> VNI on hB, VLAN 20 <-> VNI + 1 on hC; cA on an access port of VLAN 10,
    cA2 of VLAN 20; no flows: the learning bridge keeps the two VNIs apart by VLAN."""
    vswctl = [sw.vswctl, "--ctl", sw.ctl]
    for name, ifname, tag in (("a", "vA", 10), ("a2", "vA2", 20)):
        must(vswctl + ["port", "del", name])
        must(vswctl + ["port", "add", name, "afpacket", "ifname=" + ifname, "tag=%d" % tag])
    must(vswctl + ["port", "add", "t0", "vxlan", "local=" + UL4["A"], "remote=%s,%s" % (UL4["B"], UL4["C"]),
                   "vlan_vni=10:%d,20:%d" % (VNI, VNI + 1)])
    state = port_state(sw, "t0")
    check("vni vlan_vni 10:%d,20:%d" % (VNI, VNI + 1) in state, "vlan_vni: describe shows the map", state)
    t0 = [p for p in sw.call("show").get("ports", []) if p.get("name") == "t0"]
    opts = t0[0].get("options", {}) if t0 else {}
    check(opts.get("trunks") == "10,20", "vlan_vni: t0 is a trunk of VLANs 10 and 20", t0)
    for c in ("cA", "cA2"):
        run(["ip", "neigh", "flush", "dev", "eth0"], ns=NS[c])
    got, detail = ping("cA", IN4["cB"])
    check(got == 3, "vlan_vni: ping cA (VLAN 10) -> cB (VNI %d on hB) (%d/3)" % (VNI, got), detail if got != 3 else "")
    got, detail = ping("cA2", IN4["cC"])
    check(got == 3, "vlan_vni: ping cA2 (VLAN 20) -> cC (VNI %d on hC) (%d/3)" % (VNI + 1, got),
          detail if got != 3 else "")
    fdb = sw.call("fdb", "show").get("entries", [])
    check(any(e["mac"] == MAC["cB"] and e["port"] == "t0" and e.get("vlan") == 10 for e in fdb) and
          any(e["mac"] == MAC["cC"] and e["port"] == "t0" and e.get("vlan") == 20 for e in fdb),
          "vlan_vni: fdb show: cB learned on t0 in VLAN 10, cC in VLAN 20", fdb)
    got_ac, _ = ping("cA", IN4["cC"], count=2)
    got_a2b, _ = ping("cA2", IN4["cB"], count=2)
    check(got_ac == 0 and got_a2b == 0, "vlan_vni: isolation without flows: cA cannot reach cC, cA2 cannot reach cB "
          "(%d, %d replies)" % (got_ac, got_a2b))
    st = port_stat(sw, "t0")
    drops = {k: v for k, v in st.get("drops", {}).items() if v}
    check(not drops.get("vlan_denied"), "vlan_vni: nothing of another VLAN was sent to t0 to be dropped", drops)
    must(vswctl + ["port", "del", "t0"])
    must(vswctl + ["port", "del", "a"])
    must(vswctl + ["port", "add", "a", "afpacket", "ifname=vA"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, captures)")
    ap.add_argument("--only-three", action="store_true", help="step 7 alone (three hosts, vni=flow)")
    ap.add_argument("--only-gso-refused", action="store_true", help="step 2a alone (the kernel refuses UDP GSO)")
    ap.add_argument("--only-pmtu-router", action="store_true", help="step 3c alone (a path MTU behind a router)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    if not needs("vxlan", ("ip", "ethtool", "busybox", "iperf3", "tcpdump", "tshark")):
        return 1
    wd = tempfile.mkdtemp(prefix="vsw-vxlan-")
    sw = None
    try:
        setup_net()
        sw = Vswd(build, wd, NS["hA"])
        must([sw.vswctl, "--ctl", sw.ctl, "port", "add", "a", "afpacket", "ifname=vA"])
        if args.only_gso_refused:
            gso_refused(sw)
        elif args.only_pmtu_router:
            pmtu_router(sw)
        elif not args.only_three:
            for v6 in (False, True):
                for csum in (True, False):
                    one_case(sw, wd, v6, csum)
            # xdp=: the datagrams past the kernel's IP and UDP receive; both families, a checksum and none
            one_case(sw, wd, False, True, xdp=True)
            one_case(sw, wd, True, False, xdp=True)
            gso_refused(sw)
            vsw_pair(build, wd, sw)
            pmtu_tcp(sw, wd)
            pmtu_router(sw)
            jumbo(sw, wd)
            hostile(sw)
            too_big(sw)
            bad_options(sw)
            must([sw.vswctl, "--ctl", sw.ctl, "port", "del", "t0"])
        if not args.only_gso_refused and not args.only_pmtu_router:
            three_hosts(sw, wd)
    except (RuntimeError, Terminated) as e:
        check(False, "scenario ran to its end", e)
    finally:
        rc = finish("vxlan", wd, args.keep, sw, cleanup_net, keep_failed=False)
    return rc


if __name__ == "__main__":
    sys.exit(main())
