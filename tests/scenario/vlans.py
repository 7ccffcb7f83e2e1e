#!/usr/bin/env python3
"""vlans.py - scenario: two tenants on VLANs 10 and 20 over access ports, and a trunk carrying both, tagged.

Objective (issue 14, item 3): vswd's ports take Open vSwitch's `tag` and
`trunks`; two tenants on two VLANs cannot reach each other, even with
addresses of one subnet; a trunk carries both VLANs tagged on the wire,
where an 802.1Q host on the trunk talks to the access ports' kernels:

    netns a1 (eth0 10.10.0.1)        --veth--> vla1T --(a1: afpacket tag=10)--+
    netns a2 (eth0 10.10.0.2)        --veth--> vla2T --(a2: afpacket tag=10)--+
    netns b1 (eth0 10.20.0.1)        --veth--> vlb1T --(b1: afpacket tag=20)--+-- vswd
    netns b2 (eth0 10.10.0.3 !)      --veth--> vlb2T --(b2: afpacket tag=20)--+
    netns t  (eth0: 802.1Q host      --veth--> vltT  --(t: afpacket           |
       VLAN 10 10.10.0.100, VLAN 20 10.20.0.100)        trunks=10,20)---------+

The trunk's host: the kernel's VLAN devices (`ip link add link eth0 name
eth0.10 type vlan id 10`) when the kernel has them (8021q); this test's
own 802.1Q endpoint otherwise (vlans.py --peer: ARP and ICMP echo over a
raw AF_PACKET socket, the tag read from the frame or from the kernel's
PACKET_AUXDATA), so the scenario runs on kernels built without VLAN
devices (a Firecracker guest's) and says which it used.

b2 is in VLAN 20 with an address of VLAN 10's subnet: were VLAN 10's
ARP broadcasts to leak into VLAN 20, a1 would reach it.  (T is a tag
derived from the test's pid: concurrent runs do not collide.)

Steps:
  1. start vswd --foreground (2 workers) on its own control socket in a
     temp dir; create the five namespaces (IPv6 off: a quiet wire) with
     their veth pairs (TSO/GSO off: the afpacket port takes no GSO
     frames), and in t the VLAN devices eth0.10 and eth0.20, or the 802.1Q
     endpoint;
  2. `vswctl port add` a1, a2 (tag=10), b1, b2 (tag=20), t (trunks=10,20),
     each an afpacket port on its veth (a vswd without VLANs refuses
     tag=: "unknown key");
  3. `vswctl show` lists tag=10, tag=20 and trunks=10,20 under the ports,
     and `--json` gives vlan_mode access / trunk;
  4. same VLAN: a1 <-> a2, a1 -> t's eth0.10, a2 -> t's eth0.10, b1 ->
     t's eth0.20 and back (3 echo requests each, no loss), while tcpdump
     (-e) runs on t's eth0 and on a1's eth0: t's eth0 saw ICMP tagged
     "vlan 10" and "vlan 20", a1's eth0 saw ICMP and no 802.1Q header;
     the trunk's host received frames on both VLANs (eth0.10 and eth0.20
     counters, or the endpoint's own) and none untagged;
  5. `vswctl capture t --dir tx --count 2 vlan` while a1 pings t: tcpdump
     -r and tshark read 2 frames with an 802.1Q tag of VLAN 10 (the
     capture sees the frame as the trunk sends it);
  6. across VLANs: a1 -> 10.10.0.3 (b2) and b2 -> 10.10.0.1 (a1) get no
     reply (2 echo requests each), and b2 never received a frame from VLAN
     10's hosts (its port sent it nothing with their MACs: fdb/stats);
  7. drops by reason: tagged frames sent by a1 (VLAN 10, raw) are
     `vlan_tagged` drops on a1; ones on VLAN 30 from t are `vlan_denied`
     drops on t;
  8. `vswctl fdb show --json`: a1's MAC in VLAN 10 on a1, b1's in VLAN 20
     on b1, and t's MAC twice, in VLAN 10 and in VLAN 20, both on t;
  9. cleanup: vswd (SIGTERM, exit 0), namespaces; no netns or veth of the
     test is left.  Cleanup also runs on SIGTERM/SIGINT/SIGHUP.

Each check prints PASS or FAIL (nothing is skipped); the last line is
"vlans: N passed, M failed"; the exit code is non-zero on any failure.
All waits are bounded; a run takes about 20 s.

    python3 tests/scenario/vlans.py --build build [--keep]

Needs root, build/vswd, build/vswctl, ip, ethtool, busybox (ping), tcpdump, tshark.
"""

import argparse
import json
import os
import shutil
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

from netns_lib import Terminated, must, on_signal, run

sys.dont_write_bytecode = True

TAG = "%04x" % (os.getpid() & 0xffff)
HOSTS = ("a1", "a2", "b1", "b2", "t")
NS = {h: "vswv-%s-%s" % (h, TAG) for h in HOSTS}
VETH = {h: "vl%s%s" % (h, TAG) for h in HOSTS}      # root-namespace ends, attached to vswd
IP = {"a1": "10.10.0.1", "a2": "10.10.0.2", "b1": "10.20.0.1", "b2": "10.10.0.3"}
T_IP = {10: "10.10.0.100", 20: "10.20.0.100"}
MAC = {"a1": "02:76:6c:00:00:a1", "a2": "02:76:6c:00:00:a2", "b1": "02:76:6c:00:00:b1",
       "b2": "02:76:6c:00:00:b2", "t": "02:76:6c:00:00:7e"}
OPTS = {"a1": ["tag=10"], "a2": ["tag=10"], "b1": ["tag=20"], "b2": ["tag=20"], "t": ["trunks=10,20"]}
PING_COUNT = 3
WORKERS = 2

PASSED = 0
FAILED = 0
T0 = time.monotonic()


def check(ok, what, detail=""):
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print("PASS %s" % what)
    else:
        FAILED += 1
        print("FAIL %s%s" % (what, ": " + str(detail) if detail else ""))
    sys.stdout.flush()
    return ok


def note(msg):
    print("     [%5.1f s] %s" % (time.monotonic() - T0, msg), flush=True)


def on_signal(sig, frame):
    raise Terminated("signal %d" % sig)


def run(argv, timeout=20, ns=None):
    """Run argv (in netns ns); return (rc, stdout, stderr); rc 124 on timeout."""
    if ns:
        argv = ["ip", "netns", "exec", ns] + list(argv)
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        def s(x):
            return x.decode(errors="replace") if isinstance(x, bytes) else (x or "")
        return 124, s(e.stdout), s(e.stderr) + "\n(timed out after %s s)" % timeout


def must(argv, timeout=20, ns=None):
    rc, out, err = run(argv, timeout, ns)
    if rc != 0:
        raise RuntimeError("`%s`%s exited %d: %s" % (" ".join(argv), " in " + ns if ns else "", rc,
                                                     (err or out).strip()[:400]))
    return out


class Vswd:
    def __init__(self, build, wd):
        self.vswd = os.path.join(build, "vswd")
        self.vswctl = os.path.join(build, "vswctl")
        self.ctl = os.path.join(wd, "ctl.sock")
        self.log_path = os.path.join(wd, "vswd.log")
        self.log = open(self.log_path, "w")
        conf = os.path.join(wd, "vswd.json")
        with open(conf, "w") as f:
            json.dump({"workers": WORKERS}, f)
        self.proc = subprocess.Popen([self.vswd, "--foreground", "--ctl", self.ctl, "--config", conf],
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

def make_host(h):
    """netns NS[h] with eth0 (MAC, IP unless t), its peer VETH[h] up in the root namespace; IPv6 off."""
    ns, veth = NS[h], VETH[h]
    must(["ip", "netns", "add", ns])
    must(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"], ns=ns)
    must(["ip", "link", "set", "lo", "up"], ns=ns)
    must(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns])
    must(["ip", "link", "set", veth, "addrgenmode", "none"])
    must(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % veth])
    must(["ip", "link", "set", veth, "up"])
    must(["ip", "link", "set", "eth0", "address", MAC[h]], ns=ns)
    must(["ethtool", "-K", "eth0", "tso", "off", "gso", "off"], ns=ns)
    if h in IP:
        must(["ip", "addr", "add", IP[h] + "/24", "dev", "eth0"], ns=ns)
    must(["ip", "link", "set", "eth0", "up"], ns=ns)


def vlan_dev(h, vid, addr):
    """eth0.VID in netns NS[h], the kernel's own 802.1Q device on eth0, with @addr/24."""
    ns, dev = NS[h], "eth0.%d" % vid
    must(["ip", "link", "add", "link", "eth0", "name", dev, "type", "vlan", "id", str(vid)], ns=ns)
    must(["ip", "addr", "add", addr + "/24", "dev", dev], ns=ns)
    must(["ip", "link", "set", dev, "up"], ns=ns)
    return dev


def cleanup_net():
    """Delete every namespace and interface of this run; return what could not be deleted."""
    for ns in NS.values():
        if os.path.exists("/run/netns/" + ns):
            rc, out, _ = run(["ip", "netns", "pids", ns], timeout=5)
            for pid in out.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)   # our own tcpdump/ping, started in our namespace
                except (ProcessLookupError, ValueError):
                    pass
            run(["ip", "netns", "del", ns], timeout=10)
    for ifname in VETH.values():
        if run(["ip", "link", "show", ifname], timeout=5)[0] == 0:
            run(["ip", "link", "del", ifname], timeout=10)
    left = [ns for ns in NS.values() if os.path.exists("/run/netns/" + ns)]
    left += [i for i in VETH.values() if run(["ip", "link", "show", i], timeout=5)[0] == 0]
    return left


def ping(src, dst, count=PING_COUNT, dev=None):
    """ping from netns NS[src] (through @dev if given); (received, output)."""
    argv = ["busybox", "ping", "-q", "-c", str(count), "-i", "0.2", "-W", "1"] + (["-I", dev] if dev else []) + [dst]
    rc, out, err = run(argv, timeout=count + 10, ns=NS[src])
    got = 0
    for ln in out.splitlines():
        if "received" in ln:
            try:
                got = int(ln.split(",")[1].split()[0])
            except (IndexError, ValueError):
                pass
    return got, (out + err).strip().replace("\n", " | ")[-300:]


def rx_packets(h, dev):
    out = must(["cat", "/sys/class/net/%s/statistics/rx_packets" % dev], ns=NS[h])
    return int(out.strip())


class Tcpdump:
    """tcpdump -e on eth0 of netns NS[h], in the background; lines() stops it and returns what it printed."""

    def __init__(self, h, wd):
        self.path = os.path.join(wd, "tcpdump-%s.txt" % h)
        self.out = open(self.path, "w")
        self.proc = subprocess.Popen(["ip", "netns", "exec", NS[h], "tcpdump", "-l", "-nn", "-e", "-i", "eth0"],
                                     stdout=self.out, stderr=subprocess.PIPE, text=True)
        # tcpdump says "listening on eth0" once its socket is open: wait for it (5 s at most).
        deadline = time.monotonic() + 5
        self.ready = False
        while time.monotonic() < deadline and self.proc.poll() is None:
            ln = self.proc.stderr.readline()
            if "listening on" in ln:
                self.ready = True
                break

    def lines(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.out.close()
        with open(self.path) as f:
            return [ln.rstrip() for ln in f if ln.strip()]


def port_stats(sw):
    return {p["name"]: p for p in sw.call("stats").get("ports", [])}


# ---- the trunk's 802.1Q host, when the kernel has no VLAN devices ---------------------------

SOL_PACKET, PACKET_AUXDATA, TP_STATUS_VLAN_VALID = 263, 8, 1 << 4
ETH_P_ALL, TPID = 0x0003, 0x8100


def csum16(data):
    if len(data) % 2:
        data += b"\0"
    t = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff


def mac_bytes(m):
    return bytes.fromhex(m.replace(":", ""))


class Peer:
    """An 802.1Q host on one interface: an address per VLAN, ARP and ICMP echo, both ways.

    Runs in the trunk's namespace (`vlans.py --peer IFNAME MAC VID=IP ...`) and takes commands on
    stdin, one a line, answering each with one JSON line:
      ping VID IP N   ARP for IP on VLAN VID, then N echo requests: {"replies": n}
      raw VID N       N tagged ARP requests on VLAN VID for nobody: {"sent": N}
      stats           {"rx": {VID or "untagged": frames}}
    Between commands (and while it waits) it answers ARP requests and echo requests to its addresses."""

    def __init__(self, ifname, mac, addrs):
        self.mac, self.addrs = mac_bytes(mac), addrs          # addrs: {vid: "a.b.c.d"}
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind((ifname, 0))
        self.sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        self.neigh, self.replies, self.rx = {}, {}, {}

    def send(self, vid, dst, etype, payload):
        frame = dst + self.mac + struct.pack("!HHH", TPID, vid, etype) + payload
        self.sock.send(frame + bytes(max(0, 64 - len(frame))))

    def arp(self, vid, op, tha, tpa):
        spa = socket.inet_aton(self.addrs.get(vid, "0.0.0.0"))
        body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, self.mac, spa, tha, socket.inet_aton(tpa))
        self.send(vid, tha if op == 2 else b"\xff" * 6, 0x0806, body)

    def icmp(self, vid, dst_mac, dst_ip, typ, ident, seq, data):
        body = struct.pack("!BBHHH", typ, 0, 0, ident, seq) + data
        body = body[:2] + struct.pack("!H", csum16(body)) + body[4:]
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), seq, 0, 64, 1, 0,
                          socket.inet_aton(self.addrs[vid]), socket.inet_aton(dst_ip))
        hdr = hdr[:10] + struct.pack("!H", csum16(hdr)) + hdr[12:]
        self.send(vid, dst_mac, 0x0800, hdr + body)

    def receive(self, frame, vid):
        self.rx[vid if vid is not None else "untagged"] = self.rx.get(vid if vid is not None else "untagged", 0) + 1
        if vid not in self.addrs or len(frame) < 14 or frame[6:12] == self.mac:
            return
        etype, p = struct.unpack("!H", frame[12:14])[0], frame[14:]
        me = socket.inet_aton(self.addrs[vid])
        if etype == 0x0806 and len(p) >= 28:
            op, sha, spa, tpa = struct.unpack("!H", p[6:8])[0], p[8:14], p[14:18], p[24:28]
            if tpa == me:
                self.neigh[(vid, socket.inet_ntoa(spa))] = sha
                if op == 1:
                    self.arp(vid, 2, sha, socket.inet_ntoa(spa))
        elif etype == 0x0800 and len(p) >= 28 and p[9] == 1 and p[16:20] == me:
            ihl = (p[0] & 15) * 4
            icmp, src = p[ihl:struct.unpack("!H", p[2:4])[0]], socket.inet_ntoa(p[12:16])
            if icmp[0] == 8:
                ident, seq = struct.unpack("!HH", icmp[4:8])
                self.icmp(vid, frame[6:12], src, 0, ident, seq, icmp[8:])
            elif icmp[0] == 0:
                self.replies[(vid, src)] = self.replies.get((vid, src), 0) + 1

    def pump(self, seconds):
        """Take frames for @seconds (bounded), answering what is ours."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            if not select.select([self.sock], [], [], left)[0]:
                continue
            data, anc, _, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(20))
            vid = None
            for level, typ, cd in anc:
                if level == SOL_PACKET and typ == PACKET_AUXDATA and len(cd) >= 20:
                    status, _, _, _, _, tci = struct.unpack("IIIHHH", cd[:18])
                    if status & TP_STATUS_VLAN_VALID:
                        vid = tci & 0xfff      # the kernel took the tag off: put back by us, as libpcap does
            if vid is None and len(data) >= 18 and struct.unpack("!H", data[12:14])[0] == TPID:
                vid, data = struct.unpack("!H", data[14:16])[0] & 0xfff, data[:12] + data[16:]
            self.receive(data, vid)

    def ping(self, vid, ip, n):
        for _ in range(10):                         # ARP: 2 s at most
            if (vid, ip) in self.neigh:
                break
            self.arp(vid, 1, bytes(6), ip)
            self.pump(0.2)
        if (vid, ip) not in self.neigh:
            return 0
        before = self.replies.get((vid, ip), 0)
        for seq in range(n):
            self.icmp(vid, self.neigh[(vid, ip)], ip, 8, 0x7e57, seq + 1, b"vsw vlan test" + bytes(43))
            self.pump(0.2)
        self.pump(1)
        return self.replies.get((vid, ip), 0) - before


def peer_main(argv):
    ifname, mac, addrs = argv[0], argv[1], {int(a.split("=")[0]): a.split("=")[1] for a in argv[2:]}
    peer = Peer(ifname, mac, addrs)
    print(json.dumps({"ready": True}), flush=True)
    while True:
        r = select.select([sys.stdin, peer.sock], [], [], 0.1)[0]
        if peer.sock in r:
            peer.pump(0.01)
        if sys.stdin not in r:
            continue
        words = sys.stdin.readline().split()
        if not words or words[0] == "quit":
            return 0
        if words[0] == "ping":
            out = {"replies": peer.ping(int(words[1]), words[2], int(words[3]))}
        elif words[0] == "raw":
            for _ in range(int(words[2])):
                peer.arp(int(words[1]), 1, bytes(6), "10.99.99.99")
                peer.pump(0.05)
            out = {"sent": int(words[2])}
        else:
            out = {"rx": {str(k): v for k, v in peer.rx.items()}}
        print(json.dumps(out), flush=True)


class PeerProc:
    """vlans.py --peer on eth0 in netns @ns (MAC @mac, addresses {vid: ip}), driven over its stdin and stdout
    (each answer within 30 s); flows_learn.py's trunk host too."""

    def __init__(self, ns, mac, addrs):
        argv = [sys.executable, os.path.abspath(__file__), "--peer", "eth0", mac] + \
               ["%d=%s" % (v, ip) for v, ip in sorted(addrs.items())]
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns] + argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.ask(None)

    def ask(self, line):
        if line:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        if not select.select([self.proc.stdout], [], [], 30)[0]:
            raise RuntimeError("the 802.1Q endpoint did not answer %r" % line)
        ans = self.proc.stdout.readline()
        if not ans:
            raise RuntimeError("the 802.1Q endpoint exited (rc %s)" % self.proc.poll())
        return json.loads(ans)

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(5)


# ---- the scenario --------------------------------------------------------------

class Trunk:
    """The host behind the trunk port t: the kernel's VLAN devices, or the test's 802.1Q endpoint."""

    def __init__(self, state):
        rc, out, err = run(["ip", "link", "add", "link", "eth0", "name", "eth0.10", "type", "vlan", "id", "10"],
                           ns=NS["t"])
        self.kernel = rc == 0
        if self.kernel:
            run(["ip", "link", "del", "eth0.10"], ns=NS["t"])
            for vid in (10, 20):
                vlan_dev("t", vid, T_IP[vid])
            note("trunk host: the kernel's VLAN devices eth0.10 and eth0.20")
        else:
            note("trunk host: the test's 802.1Q endpoint (the kernel has no VLAN devices: %s)" % (err or out).strip())
            self.peer = state["peer"] = PeerProc(NS["t"], MAC["t"], T_IP)

    def ping(self, vid, ip, n=PING_COUNT):
        if self.kernel:
            return ping("t", ip, n, dev="eth0.%d" % vid)
        got = self.peer.ask("ping %d %s %d" % (vid, ip, n)).get("replies", 0)
        return got, "802.1Q endpoint: %d replies" % got

    def rx(self):
        """Frames received per VLAN ({10: n, 20: n, "untagged": n}: the endpoint's; the devices' without it)."""
        if self.kernel:
            return {vid: rx_packets("t", "eth0.%d" % vid) for vid in (10, 20)}
        r = self.peer.ask("stats").get("rx", {})
        return {10: r.get("10", 0), 20: r.get("20", 0), "untagged": r.get("untagged", 0)}


def raw_tagged(state, h, vid, n):
    """@n tagged ARP requests on VLAN @vid out of eth0 in netns NS[h] (the test's endpoint, no address)."""
    p = PeerProc(NS[h], MAC[h], {})
    state.setdefault("peers", []).append(p)
    p.ask("raw %d %d" % (vid, n))
    p.stop()


def scenario(build, wd, state):
    sw = state["sw"] = Vswd(build, wd)
    note("vswd up; building the namespaces")
    for h in HOSTS:
        make_host(h)
    trunk = Trunk(state)

    # 2. ports
    for h in HOSTS:
        rc, out, err = sw.ctl_run("port", "add", h, "afpacket", "ifname=" + VETH[h], *OPTS[h])
        check(rc == 0, "port add %s afpacket ifname=%s %s" % (h, VETH[h], " ".join(OPTS[h])), (err or out).strip())

    # 3. show
    rc, out, err = sw.ctl_run("show")
    text = out
    check(rc == 0 and text.count("tag=10") == 2 and text.count("tag=20") == 2 and "trunks=10,20" in text,
          "vswctl show lists tag=10 (a1, a2), tag=20 (b1, b2) and trunks=10,20 (t)", text.strip()[-600:])
    ports = {p["name"]: p.get("options", {}) for p in sw.call("show").get("ports", [])}
    check(ports.get("a1", {}).get("vlan_mode") == "access" and ports.get("a1", {}).get("tag") == 10 and
          ports.get("t", {}).get("vlan_mode") == "trunk" and ports.get("t", {}).get("trunks") == "10,20",
          "vswctl --json show: a1 vlan_mode access tag 10, t vlan_mode trunk trunks \"10,20\"", ports)

    # 4. same VLAN, with tcpdump on the trunk's wire and on an access port's
    rx_before = trunk.rx()
    dump_t, dump_a1 = Tcpdump("t", wd), Tcpdump("a1", wd)
    check(dump_t.ready and dump_a1.ready, "tcpdump listening on t's and a1's eth0")
    for src, dst, what in (("a1", IP["a2"], "a1 -> a2 (VLAN 10, access to access)"),
                           ("a2", IP["a1"], "a2 -> a1 (VLAN 10)"),
                           ("a1", T_IP[10], "a1 -> t on VLAN 10 (access to trunk)"),
                           ("a2", T_IP[10], "a2 -> t on VLAN 10"),
                           ("b1", T_IP[20], "b1 -> t on VLAN 20")):
        got, detail = ping(src, dst)
        check(got == PING_COUNT, "ping %s: %d of %d replies" % (what, got, PING_COUNT), detail)
    for vid, dst in ((10, "a1"), (20, "b1")):
        got, detail = trunk.ping(vid, IP[dst])
        check(got == PING_COUNT, "ping t on VLAN %d -> %s (trunk to access): %d of %d replies"
              % (vid, dst, got, PING_COUNT), detail)
    time.sleep(0.3)
    lt, la = dump_t.lines(), dump_a1.lines()
    icmp_t = [ln for ln in lt if "ICMP echo" in ln]
    v10 = [ln for ln in icmp_t if "vlan 10" in ln and "802.1Q" in ln]
    v20 = [ln for ln in icmp_t if "vlan 20" in ln and "802.1Q" in ln]
    check(len(v10) >= 3 * PING_COUNT * 2 and len(v20) >= 2 * PING_COUNT * 2 and len(v10) + len(v20) == len(icmp_t),
          "t's eth0 (tcpdump -e): every ICMP frame tagged, %d in VLAN 10, %d in VLAN 20, of %d"
          % (len(v10), len(v20), len(icmp_t)), "\n".join(lt[:12]))
    icmp_a = [ln for ln in la if "ICMP echo" in ln]
    check(len(icmp_a) >= 3 * PING_COUNT * 2 and not any("802.1Q" in ln for ln in la),
          "a1's eth0 (tcpdump -e): %d ICMP frames, none with an 802.1Q header" % len(icmp_a), "\n".join(la[:12]))
    rx_after = trunk.rx()
    check(rx_after[10] - rx_before[10] >= 3 * PING_COUNT and rx_after[20] - rx_before[20] >= 2 * PING_COUNT and
          rx_after.get("untagged", 0) == 0,
          "the trunk's host received %d frames on VLAN 10, %d on VLAN 20, %s untagged"
          % (rx_after[10] - rx_before[10], rx_after[20] - rx_before[20], rx_after.get("untagged", "(not counted)")))

    # 5. the capture of the trunk's tx sees the tag
    cap = os.path.join(wd, "t-tx.pcap")
    cproc = subprocess.Popen([sw.vswctl, "--ctl", sw.ctl, "capture", "t", "--dir", "tx", "--count", "2",
                              "--seconds", "10", "vlan", "-w", cap],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.5)
    ping("a1", T_IP[10], count=2)
    try:
        cout, _ = cproc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        cproc.kill()
        cout, _ = cproc.communicate()
    rc, out, err = run(["tcpdump", "-nn", "-e", "-r", cap], timeout=20)
    lines = [ln for ln in out.splitlines() if ln.strip()]
    check(cproc.returncode == 0 and len(lines) == 2 and all("vlan 10" in ln for ln in lines),
          "vswctl capture t --dir tx vlan: 2 frames, tcpdump -r reads VLAN 10 tags",
          "vswctl rc %s: %s; tcpdump: %s %s" % (cproc.returncode, cout.strip()[-200:], out.strip()[-300:],
                                                err.strip()[-200:]))
    rc, out, err = run(["tshark", "-r", cap, "-T", "fields", "-e", "vlan.id"], timeout=30)
    ids = [ln.strip() for ln in out.splitlines() if ln.strip()]
    check(rc == 0 and ids == ["10", "10"], "tshark -r: vlan.id 10 in both frames",
          "rc %d %s %s" % (rc, ids, err.strip()[-200:]))

    # 6. across VLANs
    got, detail = ping("a1", IP["b2"], count=2)
    check(got == 0, "ping a1 (VLAN 10) -> 10.10.0.3 on b2 (VLAN 20): no reply (%d)" % got, detail)
    got, detail = ping("b2", IP["a1"], count=2)
    check(got == 0, "ping b2 (VLAN 20) -> 10.10.0.1 on a1 (VLAN 10): no reply (%d)" % got, detail)
    rc, out, err = run(["ip", "neigh", "show", IP["b2"]], ns=NS["a1"])
    check("lladdr" not in out, "a1 never learned b2's MAC (ip neigh: %s)" % (out.strip() or "nothing"))
    fdb = sw.call("fdb", "show").get("entries", [])
    leaked = [e for e in fdb if (e["mac"] in (MAC["a1"], MAC["a2"]) and e.get("vlan") != 10) or
              (e["mac"] == MAC["b2"] and e.get("vlan") != 20)]
    check(not leaked, "the FDB has a1 and a2 in VLAN 10 only, b2 in VLAN 20 only", leaked)

    # 7. drops by reason
    raw_tagged(state, "a1", 10, 3)
    raw_tagged(state, "t", 30, 3)
    time.sleep(0.3)
    st = port_stats(sw)
    tagged = st.get("a1", {}).get("drops", {}).get("vlan_tagged", 0)
    denied = st.get("t", {}).get("drops", {}).get("vlan_denied", 0)
    check(tagged >= 3, "a1's tagged frames are vlan_tagged drops on a1 (%d)" % tagged, st.get("a1"))
    check(denied >= 3, "t's VLAN 30 frames are vlan_denied drops on t (%d)" % denied, st.get("t"))

    # 8. the FDB per VLAN
    fdb = sw.call("fdb", "show").get("entries", [])
    have = {(e["mac"], e.get("vlan"), e["port"]) for e in fdb}
    check((MAC["a1"], 10, "a1") in have and (MAC["b1"], 20, "b1") in have,
          "fdb show: a1's MAC in VLAN 10 on a1, b1's in VLAN 20 on b1", sorted(have))
    check((MAC["t"], 10, "t") in have and (MAC["t"], 20, "t") in have,
          "fdb show: t's MAC twice, in VLAN 10 and in VLAN 20, on t", sorted(have))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--peer":
        return peer_main(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, captures)")
    a = ap.parse_args()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    missing = [t for t in ("ip", "ethtool", "busybox", "tcpdump", "tshark") if not shutil.which(t)]
    wd = tempfile.mkdtemp(prefix="vsw-vlans-")
    state = {}
    try:
        if not check(os.geteuid() == 0 and not missing, "root and tools (ip, ethtool, busybox, tcpdump, tshark)",
                     "uid %d, missing %s" % (os.geteuid(), missing)):
            raise RuntimeError("cannot run")
        scenario(a.build, wd, state)
    except (RuntimeError, Terminated, OSError, ValueError, KeyError) as e:
        check(False, "scenario ran to its end", e)
    finally:
        for p in [state.get("peer")] + state.get("peers", []):
            if p:
                p.stop()
        sw = state.get("sw")
        if sw:
            rc = sw.stop()
            check(rc == 0, "vswd exited 0 on SIGTERM (%s)" % rc, "see %s" % sw.log_path)
        left = cleanup_net()
        check(not left, "no namespace or veth of the test left", left)
        if a.keep:
            print("kept %s" % wd)
        else:
            shutil.rmtree(wd, ignore_errors=True)
    print("vlans: %d passed, %d failed" % (PASSED, FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
