#!/usr/bin/env python3
"""testpmd_csum.py - dpdk-testpmd's checksum engine as a router between two namespaces: DPDK's offload requests through vswd.

Objective (issue 15, item 4: "dpdk-testpmd's csum engine"): a DPDK
application that asks its virtio-net device for checksums (NEEDS_CSUM,
its own pseudo-header sums) and for TCP segmentation (GSO TCPV4 with its
own header lengths) gets both done right by vswd, toward a destination
that takes them whole (a tap: the kernel) and toward one that takes no
offload (a pcap port, where vswd completes checksums and cuts segments in
software); and the Linux stack's own offload requests from a tap reach
DPDK in a form its virtio PMD reads.  This is a second writer of
virtio-net headers beside Linux guests, with other habits (it leaves the
IPv4 header checksum to software, writes its pseudo-header sums itself,
segments at a size of its own choosing).

    netns A (vswcsa 10.78.0.1)  --tap ta--+             +-- p0: testpmd port 0
                                          +-- vswd ------+
    netns B (vswcsb 10.78.0.2)  --tap tb--+   (netns V) +-- p1: testpmd port 1
                                          +-- pw: pcap write=FILE (every frame, by a flow)

testpmd forwards port 0 -> 1 and 1 -> 0 (--port-topology=paired) with the
csum engine: Ethernet destination rewritten to the other namespace's MAC
(--eth-peer), IPv4 header checksum in software, TCP and UDP checksums
asked of the device (`csum set tcp hw`, `csum set udp hw`), TSO at
SEGSZ bytes (`tso set SEGSZ`): each namespace reaches the other's address
through testpmd (a permanent neighbour entry at testpmd's port MAC).
vswd's flows send ta's frames to p0 and p0's to ta, tb's to p1 and p1's
to tb, and every frame also to pw: the pcap file holds each frame as the
port sends it (no offload: finished by vswd), on its way into testpmd and
out of it.

For each ring layout (split; packed as DPDK's virtio-user has it, in order:
see CONFIGS for why not without), and split again with QinQ (split-qinq:
vswd's flows push an 802.1ad and an 802.1Q tag on the frames toward
testpmd and pop them on the way back, so testpmd's TSO and checksum
requests come on frames with two tags, and pw's file holds them tagged;
every segment there carries both):
  1. testpmd's ports took the checksum and TSO transmit offloads (what
     `csum set` and `tso set` print: hardware, SEGSZ); testpmd runs with
     LRO, so vswd hands it the namespaces' TSO frames whole;
  2. ping A -> B, 3 echoes, no loss;
  3. iperf3 TCP A -> B and B -> A, 8 MB each, more than MIN_MBIT;
  4. 64 UDP datagrams of 1,200 bytes A -> B (python), at least 60 arrive
     (recvfrom in B, each with its pattern);
  5. nstat in A and B: TcpInCsumErrors, UdpInCsumErrors and
     Ip InHdrErrors 0;
  6. tshark over pw's file (checksums checked: ip, tcp, udp): every IP
     header and every TCP or UDP checksum verified good; more than 5,000
     TCP segments with data; none longer than 1,514 bytes; and segments of
     SEGSZ data bytes there (testpmd's TSO requests, cut by vswd for the
     pcap port);
  7. vswd: no bad_offload or bad_header drop on p0, p1, ta, tb; p1's
     and p0's received frames averaged over 1,514 bytes (testpmd's TSO
     frames came in whole); still running; no warning in its log.  On
     packed rings DPDK's transmit indirect tables carry a header entry
     marked device-writable (a DPDK quirk, docs/VIRTIO.md): vswd reads it
     and says so once for each of testpmd's ports, where it used to break
     the port; on split rings it says nothing.

Each check prints ok or FAIL; the last line is "testpmd-csum: N passed, M
failed"; non-zero exit on any failure.  Needs root, dpdk-testpmd, stdbuf,
ip, iperf3, tshark, nstat, busybox and 1024 hugepages (reserved here, put back at
exit); about 25 s.

    python3 tests/scenario/testpmd_csum.py --build build [--configs split,packed-inorder]
"""

import json
import os
import select
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testpmd_lib import Proc, TestPmd, cleanup_prefix, main_layouts, vswd_in_netns  # noqa: E402

# Packed rings as DPDK's virtio-user has them by default (in order): without IN_ORDER its transmit path
# writes a chain's buffer id into the indirect table (chains of 2-7 segments), where the device ignores it
# (virtio 1.3, 2.8, "Indirect Flag": "Buffer ID is also reserved and is ignored by the device"), and
# leaves a stale id in the ring descriptor; with chains of other lengths beside them (its TSO frames of
# 33 descriptors here) it then frees the wrong buffers and stops transmitting after a few dozen frames,
# against any device that follows the spec (DPDK's vhost reads the ring descriptor's id too).
CONFIGS = {"split": "in_order=0", "packed-inorder": "packed_vq=1,in_order=1", "split-qinq": "in_order=0"}
# split-qinq: vswd's flows put two tags (802.1ad VID 100 outside, 802.1Q VID 200 inside) on the namespaces' frames
# toward testpmd and take them off on the way back, so testpmd's TSO requests come in on QinQ frames (its csum
# engine counts both tags into l2_len), and the pcap port's copies are cut behind both tags.
QINQ_PUSH = "push_vlan:0x8100,mod_vlan_vid:200,push_vlan:0x88a8,mod_vlan_vid:100"
MAC_TP = ("02:76:73:63:00:00", "02:76:73:63:00:01")   # testpmd's ports 0 and 1
MAC_NS = ("02:76:73:63:0a:01", "02:76:73:63:0b:02")   # the taps in A and B
IP_NS = ("10.78.0.1", "10.78.0.2")
TAPS = ("vswcsa", "vswcsb")
SEGSZ = 1000
MIN_MBIT = 1.0
UDP_N, UDP_LEN = 64, 1200
TCP_BYTES = "8M"   # each way: the pcap file holds every segment twice, and tshark checks them all


def sh(argv, ns=None, check=True, timeout=30, **kw):
    if ns:
        argv = ["ip", "netns", "exec", ns] + argv
    return subprocess.run(argv, check=check, timeout=timeout, capture_output=True, text=True, **kw)


def vswctl(build, ctl, *words, ns=None):
    r = sh([os.path.join(build, "vswctl"), "--ctl", ctl] + list(words) + ["--json"], ns=ns, check=False)
    if r.returncode != 0:
        raise RuntimeError("vswctl %s: rc %d: %s %s" % (" ".join(words), r.returncode, r.stdout, r.stderr))
    return json.loads(r.stdout) if r.stdout.strip() else {}


def nstat(ns):
    """nstat -asz in @ns as a dict."""
    out = sh(["nstat", "-asz", "--json"], ns=ns).stdout
    d = json.loads(out)
    return next(iter(d.values())) if len(d) == 1 else d.get("kernel", d)


def run_config(args, res, cfg, workdir):
    d = os.path.join(workdir, cfg)
    os.makedirs(d)
    pid = os.getpid()
    nsv, nsa, nsb = "vswcsv%d" % pid, "vswcsa%d" % pid, "vswcsb%d" % pid
    prefix = "vswcs%d%s" % (pid, cfg)
    ctl = os.path.join(d, "ctl.sock")
    pcap = os.path.join(d, "pw.pcap")
    vs = tp = None
    made = []
    try:
        for ns in (nsv, nsa, nsb):
            sh(["ip", "netns", "add", ns])
            made.append(ns)
            sh(["ip", "link", "set", "lo", "up"], ns=ns)
            sh(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"], ns=ns)
        vs = vswd_in_netns(args.build, nsv, d, [
            {"name": "p0", "type": "vhost-user", "path": os.path.join(d, "p0.sock")},
            {"name": "p1", "type": "vhost-user", "path": os.path.join(d, "p1.sock")},
            {"name": "ta", "type": "tap", "ifname": TAPS[0]},
            {"name": "tb", "type": "tap", "ifname": TAPS[1]},
            {"name": "pw", "type": "pcap", "write": pcap}])
        # Each side's frames to its testpmd port and back, and every frame to the pcap port too: no flooding
        # (a frame flooded to both testpmd ports would come back through the other one).
        for a, b in (("ta", "p0"), ("p0", "ta"), ("tb", "p1"), ("p1", "tb")):
            if "qinq" not in cfg:
                acts = "output:%s,output:pw" % b
            elif a.startswith("t"):
                acts = "%s,output:%s,output:pw" % (QINQ_PUSH, b)   # pw: QinQ frames, TSO ones cut behind both tags
            else:
                acts = "output:pw,pop_vlan,pop_vlan,output:%s" % b
            vswctl(args.build, ctl, "flow", "add", "in_port=%s,actions=%s" % (a, acts))
        for i, (tap, ns) in enumerate(zip(TAPS, (nsa, nsb))):
            sh(["ip", "link", "set", tap, "netns", ns], ns=nsv)
            sh(["ip", "link", "set", tap, "address", MAC_NS[i], "up"], ns=ns)
            sh(["ip", "addr", "add", IP_NS[i] + "/24", "dev", tap], ns=ns)
            # The other namespace is reached through testpmd's port on this side.
            sh(["ip", "neigh", "add", IP_NS[1 - i], "lladdr", MAC_TP[i], "dev", tap, "nud", "permanent"], ns=ns)
        cleanup_prefix(prefix)
        vdevs = ["net_virtio_user%d,path=%s,queues=1,mac=%s,%s" % (i, os.path.join(d, "p%d.sock" % i), MAC_TP[i],
                                                                    CONFIGS[cfg]) for i in (0, 1)]
        tp = TestPmd(vdevs, prefix, os.path.join(d, "testpmd.log"),
                     extra_app=["--port-topology=paired", "--eth-peer=0,%s" % MAC_NS[0],
                                "--eth-peer=1,%s" % MAC_NS[1], "--enable-lro", "--enable-scatter",
                                "--max-pkt-len=9000"])
        tp.cmd_ok("port stop all")
        shown = ""
        for port in (0, 1):
            for line in ("port config %d rx_offload tcp_cksum on" % port,
                         "port config %d rx_offload udp_cksum on" % port,
                         "csum set ip sw %d" % port, "csum set tcp hw %d" % port):
                tp.cmd(line)
            # Each prints the port's checksum settings, then its TSO size (or that the port cannot).
            shown += tp.cmd("csum set udp hw %d" % port) + tp.cmd("tso set %d %d" % (SEGSZ, port))
        tp.cmd_ok("port start all")
        tp.cmd_ok("set fwd csum")
        tp.cmd("start")
        res.check("%s: testpmd's ports ask the device for TCP and UDP checksums and TSO" % cfg,
                  shown.count("TCP checksum offload is hw") == 2 and shown.count("UDP checksum offload is hw") == 2
                  and shown.count("segment size for non-tunneled packets is %d" % SEGSZ) == 2
                  and "not supported" not in shown, shown.strip()[-600:])
        v0 = {p["name"]: p for p in vswctl(args.build, ctl, "stats")["ports"]}
        n0 = {ns: nstat(ns) for ns in (nsa, nsb)}

        r = sh(["busybox", "ping", "-c", "3", "-W", "2", IP_NS[1]], ns=nsa, check=False)
        res.check("%s: ping A -> B through testpmd" % cfg, r.returncode == 0, (r.stdout + r.stderr)[-300:])

        srv = Proc(["ip", "netns", "exec", nsb, "iperf3", "-s", "-B", IP_NS[1]], os.path.join(d, "iperf3-s.log"))
        try:
            time.sleep(0.5)
            for rev in (False, True):
                name = "B -> A" if rev else "A -> B"
                mbit, out = 0.0, ""
                try:
                    # 8 MB take under a second here; the timeout is for a transfer that stalls.
                    r = sh(["iperf3", "-c", IP_NS[1], "-n", TCP_BYTES, "-J", "--connect-timeout", "3000"] +
                           (["-R"] if rev else []), ns=nsa, check=False, timeout=60)
                    out = r.stdout + r.stderr
                    mbit = json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"] / 1e6
                except (ValueError, KeyError, subprocess.TimeoutExpired) as e:
                    out += " (%s)" % type(e).__name__
                res.check("%s: iperf3 TCP %s (%.0f Mbit/s)" % (cfg, name, mbit), mbit > MIN_MBIT, out[-400:])
        finally:
            srv.close()

        udp = ("import socket, sys\n"
               "role = sys.argv[1]\n"
               "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
               "if role == 'rx':\n"
               "    s.bind(('%s', 9999)); s.settimeout(3); n = 0\n"
               "    print('ready', flush=True)\n"
               "    try:\n"
               "        while True:\n"
               "            b, _ = s.recvfrom(65536)\n"
               "            n += len(b) == %d and b == bytes([b[0]]) * %d\n"
               "    except socket.timeout:\n"
               "        pass\n"
               "    print(n)\n"
               "else:\n"
               "    for i in range(%d):\n"
               "        s.sendto(bytes([i]) * %d, ('%s', 9999))\n" % (IP_NS[1], UDP_LEN, UDP_LEN, UDP_N, UDP_LEN,
                                                                     IP_NS[1]))
        rx = subprocess.Popen(["ip", "netns", "exec", nsb, "python3", "-c", udp, "rx"], stdout=subprocess.PIPE,
                              text=True)
        try:
            ready, _, _ = select.select([rx.stdout], [], [], 15)
            if not ready or rx.stdout.readline().strip() != "ready":
                raise RuntimeError("the UDP receiver in B did not bind its socket")
            sh(["python3", "-c", udp, "tx"], ns=nsa)
            got = int((rx.communicate(timeout=15)[0] or "0").strip() or 0)
        finally:
            if rx.poll() is None:
                rx.kill()
                rx.wait()
        res.check("%s: UDP A -> B: %d of %d datagrams of %d bytes arrived whole" % (cfg, got, UDP_N, UDP_LEN),
                  got >= UDP_N - 4, "got %d" % got)

        tp.cmd("stop")
        for ns, name in ((nsa, "A"), (nsb, "B")):
            n1 = nstat(ns)
            errs = {k: n1.get(k, 0) - n0[ns].get(k, 0) for k in ("TcpInCsumErrors", "UdpInCsumErrors",
                                                                 "IpInHdrErrors")}
            res.check("%s: %s's stack counted no checksum or header error" % (cfg, name), not any(errs.values()),
                      str(errs))

        v1 = {p["name"]: p for p in vswctl(args.build, ctl, "stats")["ports"]}
        vs_bad = {n: {k: v1[n]["drops"].get(k, 0) - v0[n]["drops"].get(k, 0) for k in ("bad_offload", "bad_header")}
                  for n in ("p0", "p1", "ta", "tb")}
        res.check("%s: vswd dropped nothing as a bad offload or header" % cfg,
                  not any(any(x.values()) for x in vs_bad.values()), str(vs_bad))
        big = {}
        for n in ("p0", "p1"):
            pk = v1[n]["rx_packets"] - v0[n]["rx_packets"]
            big[n] = (v1[n]["rx_bytes"] - v0[n]["rx_bytes"]) / pk if pk else 0
        res.check("%s: testpmd's TSO frames came in whole (average rx frame p0 %.0f, p1 %.0f bytes)" % (
            cfg, big["p0"], big["p1"]), big["p0"] > 1514 and big["p1"] > 1514, str(big))

        # The pcap port's frames, finished by vswd: every checksum right, segments cut.
        vswctl(args.build, ctl, "port", "del", "pw")  # flushes and closes the file
        fields = sh(["tshark", "-r", pcap, "-n", "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
                     "-o", "udp.check_checksum:TRUE", "-Y", "(tcp or udp) and not icmp", "-T", "fields",
                     "-e", "frame.len",
                     "-e", "ip.checksum.status", "-e", "tcp.checksum.status", "-e", "udp.checksum.status",
                     "-e", "tcp.len"], timeout=300).stdout.split("\n")
        rows = [(ln.split("\t") + [""] * 5)[:5] for ln in fields if ln.strip()]
        # Wireshark's checksum status: 0 bad, 1 good, 2 not verified.  Every IP header and every TCP or UDP
        # checksum must be verified good (UDP's 0, "none", is not ours to send here: vswd completes them).
        bad = [r for r in rows if r[1] != "1" or (r[2] or r[3]) != "1"]
        data = [r for r in rows if len(r) > 4 and r[4] and int(r[4]) > 0]
        longest = max((int(r[0]) for r in rows), default=0)
        wire_max = 1514 + (8 if "qinq" in cfg else 0)
        segsz = sum(1 for r in data if int(r[4]) == SEGSZ)
        res.check("%s: pw's file: every IP, TCP and UDP checksum of %d packets verified good" % (cfg, len(rows)),
                  rows and not bad, "%d not, e.g. %s (frame.len, ip, tcp, udp status, tcp.len)" % (len(bad), bad[:3]))
        res.check("%s: pw's file: %d TCP segments with data, %d of testpmd's %d bytes, none over %d bytes "
                  "(longest %d)" % (cfg, len(data), segsz, SEGSZ, wire_max, longest),
                  len(data) > 5000 and segsz > 100 and longest <= wire_max, "")
        if "qinq" in cfg:
            # Wireshark names the 802.1ad tag's VID ieee8021ad.id, the 802.1Q one's vlan.id.
            tags = sh(["tshark", "-r", pcap, "-n", "-Y", "tcp.len > 0", "-T", "fields", "-e", "ieee8021ad.id",
                       "-e", "vlan.id"], timeout=300).stdout.split("\n")
            both = sum(1 for ln in tags if ln.split() == ["100", "200"])
            res.check("%s: pw's file: %d of %d TCP segments with data carry both tags (100, 200)" % (
                cfg, both, len(data)), both == len(data) and both > 0, str(tags[:3]))
        res.check("%s: vswd still running" % cfg, vs.alive(), "vswd exited")
        with open(os.path.join(d, "vswd.log")) as f:
            lines = f.readlines()
        warn = [ln.strip() for ln in lines if "vswd warn:" in ln or "vswd error:" in ln]
        res.check("%s: vswd logged no warning or error" % cfg, not warn, " | ".join(warn[:5]))
        # DPDK's packed transmit tables: said once for each testpmd port that sent through one; never on split.
        quirk = [ln for ln in lines if "marks transmit buffers in indirect tables device-writable" in ln]
        want = 2 if "packed" in cfg else 0
        res.check("%s: vswd said %d time(s) that DPDK marks transmit buffers writable" % (cfg, len(quirk)),
                  len(quirk) == want, "want %d" % want)
    finally:
        try:
            if tp:
                tp.close()
        finally:
            cleanup_prefix(prefix)  # also when testpmd never came up
            if vs:
                vs.close()
            for ns in made:
                subprocess.run(["ip", "netns", "del", ns], timeout=10)


def main():
    return main_layouts("testpmd-csum", __doc__, CONFIGS, run_config, tools=("iperf3", "tshark", "nstat", "busybox"))


if __name__ == "__main__":
    sys.exit(main())
