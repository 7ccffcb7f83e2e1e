#!/usr/bin/env python3
"""flows_learn.py - scenario: Open vSwitch's Advanced Features Tutorial, pasted into vswd, on real traffic.

Objective (issue 14, item 4: "a user can paste a flow from OVS
documentation and it means the same"): the MAC-learning switch of Open
vSwitch's "OVS Advanced Features" tutorial (Documentation/tutorials/
ovs-advanced.rst: five tables, VLANs, and the `learn` action that fills
table 10), its flows exactly as the tutorial writes them, loaded with
`vswctl flow replace`, switches real frames between four network
namespaces as the tutorial says it does:

    netns t1 (802.1Q endpoint:      --veth--> vlt1T --(p1, port 1: trunk)---+
      VLAN 20 10.20.0.1, VLAN 30 10.30.0.1)                                 |
    netns a2 (eth0 10.20.0.2, 10.30.0.2 !) --veth--> vla2T --(p2: VLAN 20)--+-- vswd
    netns a3 (eth0 10.30.0.3)       --veth--> vla3T --(p3, port 3: VLAN 30)-+   (afpacket ports,
    netns a4 (eth0 10.30.0.4)       --veth--> vla4T --(p4, port 4: VLAN 30)-+    the tutorial's flows)

The trunk's host is vlans.py's 802.1Q endpoint (ARP and ICMP echo over a
raw socket, tags in the frames; the kernel here may have no VLAN
devices).  a2 also has an address of VLAN 30's subnet: were VLAN 30's
ARP broadcasts to leak into VLAN 20, a3 would reach it.  (T is a tag
derived from the test's pid: concurrent runs do not collide.)

Steps:
  1. the namespaces (IPv6 off, TSO/GSO off); vswd --foreground with
     ports p1..p4 (numbers 1..4, as the tutorial's OpenFlow ports);
     `vswctl flow replace` of the tutorial's flows as written there
     (its line continuations joined), `flow dump` shows the learn action
     as ovs-ofctl prints it;
  2. `vswctl trace` of the tutorial's first example (in_port=1,
     vlan_tci=20, dl_src=50:00:00:00:00:01): table 2's learn and the rule
     it would make, "-> table=10 vlan_tci=0x0014/0x0fff,dl_dst=50:00:00:
     00:00:01 priority=32768 actions=load:0x1->reg0[0..15]" as
     ofproto/trace prints it (reg0: vsw's name for NXM_NX_REG0); a trace
     learns nothing (table 10 empty);
  3. a2 pings the trunk host's VLAN 20 address and back (the trunk pings
     a2): replies; table 10 holds what the learn actions learned: a2's MAC
     on VLAN 20 at port 2 and the trunk's at port 1, as ovs-ofctl would
     print them (`vlan_tci=0x0014/0x0fff,dl_dst=MAC actions=load:0x2->
     reg0[0..15]`), used (n_packets > 0);
  4. a3 pings a4 (VLAN 30): replies; once both are learned, 10 more
     pings cross without one frame reaching the trunk (the endpoint's
     per-VLAN counts do not move: unicast goes to the learned port only,
     no flood), and a2 (VLAN 20) gets none of them either;
  5. VLAN isolation: a2 (VLAN 20, with a VLAN 30 address) cannot reach
     a3; the trunk host reaches a3 and a4 on VLAN 30;
  6. stats: the control thread added the learned rules (learn "added"
     >= 4), no learn failed, no worker's queue was full;
  7. learned rules are never saved: the flows file holds the tutorial's
     flows and none of table 10's; vswd restarted (SIGTERM, exit 0): the
     tutorial's 18 flows, table 10 empty, and a3's pings to a4 learn both
     again (as Open vSwitch learns again after a restart);
  8. `flow del table=10`: the learned rules are gone, and traffic learns
     them again at once (a3 pings a4: table 10 has both again within a
     second: the workers forget what they learned before an edit);
  8b. a2 sends 100,000 broadcasts, each from a new source MAC (a guest
     spraying MACs): each one's learn was queued or counted queue-full
     (or the frame was dropped by p2's full socket ring, `show`),
     every queued one was applied or counted (added, table_full...),
     at most 65,536 learned rules, `vswctl stats` answered within 2 s
     all along, and a3 still reaches a4;
  9. Open vSwitch as the reference: table 10 emptied, the neighbour
     caches flushed, the same pings (VLAN 20 both ways, VLAN 30 among
     a3, a4 and the trunk, a2 to a3 across VLANs); vswd stopped,
     ovs-vswitchd (userspace datapath, --disable-system) started in a
     namespace of its own (its tap devices never on the host) on the
     same four veths, moved there, as ports 1 to 4 with the same flows file, the same
     pings: the same replies, and table 10 holds the same rules
     (VLAN, MAC, port) in both;
 10. cleanup: vswd and Open vSwitch stopped; no namespace or veth left.

Each check prints PASS or FAIL (nothing is skipped); the last line is
"flows_learn: N passed, M failed"; the exit code is non-zero on any
failure.  Every wait is bounded; a run takes about 20 s.

    python3 tests/scenario/flows_learn.py --build build [--keep]
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns_lib import OvsDaemons, Terminated, check, must, on_signal, run, tally  # noqa: E402
import vlans  # noqa: E402  (its 802.1Q endpoint, PeerProc)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TAG = "%x" % (os.getpid() & 0xffff)
HOSTS = ("t1", "a2", "a3", "a4")
NS = {h: "vswl-%s-%s" % (h, TAG) for h in HOSTS}
# Open vSwitch's own namespace: the veths' switch ends move there for its run, and its userspace
# datapath's tap devices (ovs-netdev, br0) are made there, never on the host.
OVS_NS = "vswl-ovs-" + TAG
VETH = {h: "vl%s%s" % (h, TAG) for h in HOSTS}
MAC = {"t1": "02:00:00:00:e1:01", "a2": "02:00:00:00:e1:02", "a3": "02:00:00:00:e1:03", "a4": "02:00:00:00:e1:04"}
T1_IP = {20: "10.20.0.1", 30: "10.30.0.1"}
IP = {"a2": "10.20.0.2", "a3": "10.30.0.3", "a4": "10.30.0.4"}

# Documentation/tutorials/ovs-advanced.rst, tables 0 to 4, as the tutorial writes them (the learn
# flow's shell line continuations joined).
TUTORIAL = """
table=0, dl_src=01:00:00:00:00:00/01:00:00:00:00:00, actions=drop
table=0, dl_dst=01:80:c2:00:00:00/ff:ff:ff:ff:ff:f0, actions=drop
table=0, priority=0, actions=resubmit(,1)
table=1, priority=0, actions=drop
table=1, priority=99, in_port=1, actions=resubmit(,2)
table=1, priority=99, in_port=2, vlan_tci=0, actions=mod_vlan_vid:20, resubmit(,2)
table=1, priority=99, in_port=3, vlan_tci=0, actions=mod_vlan_vid:30, resubmit(,2)
table=1, priority=99, in_port=4, vlan_tci=0, actions=mod_vlan_vid:30, resubmit(,2)
table=2 actions=learn(table=10, NXM_OF_VLAN_TCI[0..11],                                NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],                                load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15]),                          resubmit(,3)
table=3 priority=50 actions=resubmit(,10), resubmit(,4)
table=3 priority=99 dl_dst=01:00:00:00:00:00/01:00:00:00:00:00           actions=resubmit(,4)
table=4 reg0=1 actions=1
table=4 reg0=2 actions=strip_vlan,2
table=4 reg0=3 actions=strip_vlan,3
table=4 reg0=4 actions=strip_vlan,4
table=4 reg0=0 priority=99 dl_vlan=20 actions=1,strip_vlan,2
table=4 reg0=0 priority=99 dl_vlan=30 actions=1,strip_vlan,3,4
table=4 reg0=0 priority=50            actions=1
"""
# A guest that sprays source MACs (step 8b): N broadcast frames of an unknown ethertype, source 0e:00:N.
SPRAY = """
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
for i in range(int(sys.argv[1])):
    s.send(b"\\xff" * 6 + struct.pack("!HI", 0x0e00, i) + b"\\x88\\xb5" + bytes(46))
"""
SPRAY_N = 100000
LEARN_DUMP = ("learn(table=10,NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
              "load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15])")

class Vswd:
    """vswd --foreground with ports p1..p4 (afpacket on the hosts' veths), in the work directory."""

    def __init__(self, build, wd):
        self.vswd = os.path.join(build, "vswd")
        self.vswctl = os.path.join(build, "vswctl")
        self.ctl = os.path.join(wd, "ctl.sock")
        self.conf = os.path.join(wd, "vswd.json")
        self.flows = os.path.join(wd, "flows.txt")
        self.log_path = os.path.join(wd, "vswd.log")
        with open(self.conf, "w") as f:
            json.dump({"workers": 1, "flows": self.flows,
                       "ports": [{"name": "p%d" % (i + 1), "type": "afpacket", "ifname": VETH[h]}
                                 for i, h in enumerate(HOSTS)]}, f)
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([self.vswd, "--foreground", "--ctl", self.ctl, "--config", self.conf],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("vswd did not start; see %s" % self.log_path)
            if os.path.exists(self.ctl) and self.ctl_run("show")[0] == 0:
                return
            time.sleep(0.05)

    def ctl_run(self, *args, timeout=10):
        return run([self.vswctl, "--ctl", self.ctl] + list(args), timeout=timeout)

    def ok(self, *args):
        rc, out, err = self.ctl_run(*args)
        check(rc == 0, "vswctl " + " ".join(args)[:120], (err or out).strip())
        return out

    def table10(self):
        rc, out, err = self.ctl_run("flow", "dump", "table=10")
        return [l.strip() for l in out.splitlines() if l.strip()] if rc == 0 else []

    def stop(self):
        rc = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        elif self.proc:
            rc = self.proc.returncode
        if self.proc:
            self.log.close()
        self.proc = None
        return rc


class Trunk(vlans.PeerProc):
    """vlans.py's 802.1Q endpoint in t1: an address on VLANs 20 and 30."""

    def __init__(self):
        super().__init__(NS["t1"], MAC["t1"], T1_IP)

    def ping(self, vid, ip, n=3):
        return self.ask("ping %d %s %d" % (vid, ip, n)).get("replies", 0)

    def rx(self):
        return self.ask("stats").get("rx", {})


def make_host(h):
    ns, veth = NS[h], VETH[h]
    must(["ip", "netns", "add", ns])
    must(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"], ns=ns)
    must(["ip", "link", "set", "lo", "up"], ns=ns)
    must(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns])
    must(["ip", "link", "set", veth, "addrgenmode", "none"])
    must(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % veth])
    must(["ip", "link", "set", veth, "up"])
    must(["ip", "link", "set", "eth0", "address", MAC[h]], ns=ns)
    if h in IP:
        must(["ip", "addr", "add", IP[h] + "/24", "dev", "eth0"], ns=ns)
    if h == "a2":
        must(["ip", "addr", "add", "10.30.0.2/24", "dev", "eth0"], ns=ns)
    must(["ip", "link", "set", "eth0", "up"], ns=ns)
    must(["ethtool", "-K", "eth0", "tso", "off", "gso", "off"], ns=ns)


def cleanup_net():
    if os.path.exists("/run/netns/" + OVS_NS):
        for pid in run(["ip", "netns", "pids", OVS_NS], timeout=5)[1].split():
            try:
                os.kill(int(pid), signal.SIGKILL)   # an Open vSwitch daemon stop() could not name
            except (ProcessLookupError, ValueError):
                pass
        run(["ip", "netns", "del", OVS_NS], timeout=10)
    for h in HOSTS:
        if os.path.exists("/run/netns/" + NS[h]):
            run(["ip", "netns", "del", NS[h]], timeout=10)
        if run(["ip", "link", "show", VETH[h]], timeout=5)[0] == 0:
            run(["ip", "link", "del", VETH[h]], timeout=10)
    return [n for n in list(NS.values()) + [OVS_NS] if os.path.exists("/run/netns/" + n)] + \
        [v for v in VETH.values() if run(["ip", "link", "show", v], timeout=5)[0] == 0]


def received(src, dst, count):
    """src pings dst (busybox ping): the replies, or -1 when ping said nothing."""
    rc, out, err = run(["busybox", "ping", "-c", str(count), "-i", "0.2", "-W", "1", dst], timeout=count + 10,
                       ns=NS[src])
    m = re.search(r"(\d+) packets transmitted, (\d+) packets received", out)
    return int(m.group(2)) if m and int(m.group(1)) == count else -1


def learned(sw, vid, mac, port):
    """The table 10 rule the tutorial's learn makes for mac on VLAN vid behind port (vsw's dump: reg0 for
    NXM_NX_REG0, the priority always shown)."""
    want = "table=10,priority=32768,vlan_tci=0x%04x/0x0fff,dl_dst=%s actions=load:0x%x->reg0[0..15]" % (vid, mac,
                                                                                                     port)
    return [l for l in sw.table10() if l.endswith(want)]


def wait_learned(sw, vid, mac, port):
    for _ in range(50):
        got = learned(sw, vid, mac, port)
        if got:
            return got
        time.sleep(0.05)
    return []


class Ovs(OvsDaemons):
    """Open vSwitch itself in OVS_NS: bridge br0 of the userspace datapath, the four veths as OpenFlow ports 1
    to 4, the tutorial's flows."""

    def __init__(self, wd):
        super().__init__(OVS_NS, wd)

    def start(self, flows_path):
        must(["ip", "netns", "add", OVS_NS])
        must(["ip", "link", "set", "lo", "up"], ns=OVS_NS)
        for h in HOSTS:
            must(["ip", "link", "set", VETH[h], "netns", OVS_NS])
            must(["ip", "link", "set", VETH[h], "up"], ns=OVS_NS)
        super().start()
        self.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev", "fail_mode=secure")
        for i, h in enumerate(HOSTS):
            self.vsctl("add-port", "br0", VETH[h], "--", "set", "Interface", VETH[h], "ofport_request=%d" % (i + 1))
        self.ofctl("br0", "del-flows")
        self.ofctl("br0", "add-flows", flows_path)

    def table10(self):
        return [l.strip() for l in self.ofctl("br0", "dump-flows", "table=10").splitlines() if "table=10" in l]


def traffic(trunk):
    """The same pings for either switch, after the hosts forget their neighbours: the replies of each."""
    for h in ("a2", "a3", "a4"):
        run(["ip", "neigh", "flush", "all"], ns=NS[h])
    return {"a2 -> trunk (VLAN 20)": received("a2", T1_IP[20], 3),
            "trunk -> a2 (VLAN 20)": trunk.ping(20, IP["a2"], 3),
            "a3 -> a4 (VLAN 30)": received("a3", IP["a4"], 3),
            "trunk -> a3 (VLAN 30)": trunk.ping(30, IP["a3"], 3),
            "trunk -> a4 (VLAN 30)": trunk.ping(30, IP["a4"], 3),
            "a2 -> a3 (VLAN 20 to 30)": received("a2", IP["a3"], 2)}


def learned_set(lines):
    """Table 10's rules as {(VLAN, MAC, port)}, from either switch's dump (reg0 or NXM_NX_REG0)."""
    out = set()
    for l in lines:
        m = re.search(r"vlan_tci=0x([0-9a-f]{4})/0x0fff,dl_dst=([0-9a-f:]{17}) actions=load:0x([0-9a-f]+)->"
                      r"(?:reg0|NXM_NX_REG0)\[0\.\.15\]$", l)
        out.add((int(m.group(1), 16), m.group(2), int(m.group(3), 16)) if m else ("unparsed", l))
    return out


def scenario(build, wd, state):
    for h in HOSTS:
        make_host(h)
    sw = state["sw"] = Vswd(build, wd)
    sw.start()
    trunk = state["trunk"] = Trunk()

    # 1. the tutorial's flows, as written there
    path = os.path.join(wd, "tutorial.flows")
    with open(path, "w") as f:
        f.write(TUTORIAL)
    sw.ok("flow", "replace", path)
    out = sw.ok("flow", "dump")
    check(len(out.strip().splitlines()) == 18 and LEARN_DUMP + ",resubmit(,3)" in out,
          "flow dump: the tutorial's 18 flows, the learn action as ovs-ofctl prints it", out.strip())

    # 2. trace: the learn and the rule it would make; nothing learned
    rc, out, err = sw.ctl_run("trace", "in_port=1,vlan_tci=20,dl_src=50:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff")
    check(rc == 0 and LEARN_DUMP in out and
          "learn: -> table=10 vlan_tci=0x0014/0x0fff,dl_dst=50:00:00:00:00:01 priority=32768 "
          "actions=load:0x1->reg0[0..15]" in out,
          "vswctl trace: table 2's learn and the rule it makes, as ofproto/trace prints them", (err or out).strip())
    check(sw.table10() == [], "a trace learns nothing: table 10 is empty", "\n".join(sw.table10()))

    # 3. VLAN 20: a2 <-> the trunk; table 10 learns both
    n = received("a2", T1_IP[20], 3)
    check(n == 3, "a2 pings the trunk host on VLAN 20: 3 replies", "%d" % n)
    n = trunk.ping(20, IP["a2"], 3)
    check(n == 3, "the trunk host pings a2 on VLAN 20: 3 replies", "%d" % n)
    a2 = wait_learned(sw, 20, MAC["a2"], 2)
    t1 = wait_learned(sw, 20, MAC["t1"], 1)
    check(len(a2) == 1 and len(t1) == 1, "table 10: a2 learned on VLAN 20 at port 2, the trunk host at port 1",
          "\n".join(sw.table10()))
    check(all("n_packets=0," not in l for l in a2 + t1), "the learned rules are used (n_packets > 0)",
          "\n".join(a2 + t1))

    # 4. VLAN 30: a3 <-> a4; once learned, unicast never floods to the trunk or a2
    n = received("a3", IP["a4"], 3)
    check(n == 3, "a3 pings a4 on VLAN 30: 3 replies", "%d" % n)
    ok3, ok4 = wait_learned(sw, 30, MAC["a3"], 3), wait_learned(sw, 30, MAC["a4"], 4)
    check(len(ok3) == 1 and len(ok4) == 1, "table 10: a3 learned at port 3, a4 at port 4, on VLAN 30",
          "\n".join(sw.table10()))
    before, a2_before = trunk.rx(), int(must(["cat", "/sys/class/net/eth0/statistics/rx_packets"], ns=NS["a2"]))
    n = received("a3", IP["a4"], 10)
    after, a2_after = trunk.rx(), int(must(["cat", "/sys/class/net/eth0/statistics/rx_packets"], ns=NS["a2"]))
    check(n == 10, "a3 pings a4 10 times more: 10 replies", "%d" % n)
    check(before == after, "learned: none of those frames reached the trunk (no flood)", "%s -> %s" % (before, after))
    check(a2_after == a2_before, "VLAN 30's frames never reach a2 (VLAN 20)", "%d -> %d" % (a2_before, a2_after))

    # 5. VLAN isolation, and the trunk on VLAN 30
    n = received("a2", IP["a3"], 2)
    check(n == 0, "a2 (VLAN 20, with a VLAN 30 address) cannot reach a3", "%d replies" % n)
    n3, n4 = trunk.ping(30, IP["a3"], 3), trunk.ping(30, IP["a4"], 3)
    check(n3 == 3 and n4 == 3, "the trunk host reaches a3 and a4 on VLAN 30", "%d, %d" % (n3, n4))
    check(len(wait_learned(sw, 30, MAC["t1"], 1)) == 1, "table 10: the trunk host learned on VLAN 30 at port 1",
          "\n".join(sw.table10()))

    # 6. the control thread's counts
    rc, out, err = sw.ctl_run("--json", "stats")
    st = json.loads(out) if rc == 0 else {}
    learn = st.get("learn", {})
    full = sum(w.get("flow_learns_queue_full", 0) for w in st.get("workers", []))
    queued = sum(w.get("flow_learns_queued", 0) for w in st.get("workers", []))
    check(learn.get("added", 0) >= 5 and learn.get("failed", 1) == 0 and full == 0 and queued >= learn.get("added", 0),
          "stats: the learned rules added (>= 5), none failed, no queue full", json.dumps(learn) +
          " queued %d, queue full %d" % (queued, full))

    # 7. learned rules are never saved (learned again after a restart, as Open vSwitch's are)
    learned_before = len(sw.table10())
    with open(sw.flows) as f:
        saved = f.read()
    check(learned_before >= 5 and "\ntable=10," not in saved and LEARN_DUMP in saved,
          "the flows file holds the tutorial's flows, not the %d learned rules" % learned_before, saved)
    rc = sw.stop()
    check(rc == 0, "vswd exits 0 on SIGTERM (restart)", "exit code %s" % rc)
    sw.start()
    out = sw.ok("flow", "dump")
    check(LEARN_DUMP + ",resubmit(,3)" in out and len(out.strip().splitlines()) == 18 and sw.table10() == [],
          "after a restart: the tutorial's 18 flows, table 10 empty", out.strip())
    n = received("a3", IP["a4"], 3)
    again = wait_learned(sw, 30, MAC["a3"], 3) + wait_learned(sw, 30, MAC["a4"], 4)
    check(n == 3 and len(again) == 2, "after a restart: a3 pings a4, and table 10 learns both again",
          "%d replies; %s" % (n, "\n".join(sw.table10())))

    # 8. forgotten, learned again
    sw.ok("flow", "del", "table=10")
    check(sw.table10() == [], "flow del table=10: the learned rules are gone", "\n".join(sw.table10()))
    n = received("a3", IP["a4"], 3)
    again = wait_learned(sw, 30, MAC["a3"], 3) + wait_learned(sw, 30, MAC["a4"], 4)
    check(n == 3 and len(again) == 2, "a3 pings a4 again: replies, and table 10 learns both again",
          "%d replies; %s" % (n, "\n".join(sw.table10())))

    # 8b. a guest spraying new source MACs: every learn accounted for, vswd answering, traffic unharmed
    def learn_counts():
        """learn's counts, the workers' queued and queue-full learns, and p2's socket's ring-full drops (the
        frames the kernel dropped before vswd saw them: `show`, read by vswd once a second)."""
        rc, out, err = sw.ctl_run("--json", "stats")
        st = json.loads(out) if rc == 0 else {}
        w = st.get("workers", [])
        rc, out, err = sw.ctl_run("--json", "show")
        p2 = [p for p in json.loads(out).get("ports", []) if p["name"] == "p2"] if rc == 0 else []
        m = re.search(r"ring full, (\d+) of", p2[0]["state"]) if p2 else None
        return (st.get("learn", {}), sum(x.get("flow_learns_queued", 0) for x in w),
                sum(x.get("flow_learns_queue_full", 0) for x in w), int(m.group(1)) if m else 0)
    l0, q0, f0, k0 = learn_counts()
    t = time.monotonic()
    rc, out, err = run(["python3", "-c", SPRAY, str(SPRAY_N)], timeout=60, ns=NS["a2"])
    check(rc == 0, "a2 sends %d broadcasts, each from a new source MAC" % SPRAY_N, (err or out).strip())
    slowest = 0.0
    for _ in range(40):     # the drains that follow (every 2 ms), the socket's counters (once a second); bounded
        t1 = time.monotonic()
        l1, q1, f1, k1 = learn_counts()
        slowest = max(slowest, time.monotonic() - t1)
        done = sum(l1.get(k, 0) - l0.get(k, 0) for k in ("added", "refreshed", "failed", "stale", "table_full"))
        if done == q1 - q0 and q1 - q0 + f1 - f0 + k1 - k0 >= SPRAY_N:
            break
        time.sleep(0.1)
    # (a few more than the spray's: the hosts' own frames meanwhile, neighbour probes)
    check(SPRAY_N <= q1 - q0 + f1 - f0 + k1 - k0 <= SPRAY_N + 20 and done == q1 - q0 and
          l1.get("learned", 0) <= 65536,
          "each of them queued a learn, was counted queue-full, or was dropped by p2's full socket ring "
          "(%d + %d + %d), every queued one was applied or counted (%d added, %d table_full), at most 65,536 "
          "learned rules (%d) (%.1f s)"
          % (q1 - q0, f1 - f0, k1 - k0, l1.get("added", 0) - l0.get("added", 0),
             l1.get("table_full", 0) - l0.get("table_full", 0), l1.get("learned", 0), time.monotonic() - t),
          "learn %s -> %s, queued %d -> %d, queue full %d -> %d, ring full %d -> %d" % (l0, l1, q0, q1, f0, f1,
                                                                                     k0, k1))
    check(slowest < 2.0, "vswctl stats answered within 2 s throughout (slowest %.3f s)" % slowest)
    n = received("a3", IP["a4"], 3)
    check(n == 3, "after the spray: a3 pings a4", "%d replies" % n)

    # 9. Open vSwitch as the reference: the same flows, the same pings, the same rules learned
    sw.ok("flow", "del", "table=10")
    mine = traffic(trunk)
    time.sleep(0.2)
    vsw_set = learned_set(sw.table10())
    rc = sw.stop()
    check(rc == 0, "vswd exits 0 on SIGTERM (before Open vSwitch)", "exit code %s" % rc)
    ovs = state["ovs"] = Ovs(wd)
    ovs.start(path)
    theirs = traffic(trunk)
    ovs_set = set()
    for _ in range(20):     # Open vSwitch's learns come from its upcall handlers: a moment later too
        ovs_set = learned_set(ovs.table10())
        if ovs_set == vsw_set:
            break
        time.sleep(0.1)
    check(mine == theirs and mine["a3 -> a4 (VLAN 30)"] == 3 and mine["a2 -> a3 (VLAN 20 to 30)"] == 0,
          "the same pings through vswd and through Open vSwitch: the same replies", "vsw %s, OVS %s" % (mine, theirs))
    want = {(20, MAC["a2"], 2), (20, MAC["t1"], 1), (30, MAC["a3"], 3), (30, MAC["a4"], 4), (30, MAC["t1"], 1)}
    check(vsw_set == ovs_set and vsw_set >= want,
          "table 10 after them: the rules Open vSwitch learned are the ones vsw learned (%d)" % len(ovs_set),
          "vsw %s\nOVS %s" % (sorted(map(str, vsw_set)), sorted(map(str, ovs_set))))
    ovs.stop()
    state["ovs"] = None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--keep", action="store_true", help="keep the work directory (vswd's log)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    missing = [t for t in ("ip", "ethtool", "busybox", "ovs-vswitchd", "ovsdb-server", "ovs-vsctl", "ovs-ofctl")
               if not shutil.which(t)]
    missing += [p for p in (os.path.join(build, "vswd"), os.path.join(build, "vswctl")) if not os.path.exists(p)]
    if os.geteuid() != 0 or missing:
        check(False, "prerequisites", "needs root" if os.geteuid() else "missing: %s" % ", ".join(missing))
        print("flows_learn: %d passed, %d failed" % (tally.passed, tally.failed))
        sys.exit(1)
    wd = tempfile.mkdtemp(prefix="vsw-learn-")
    state = {}
    try:
        scenario(build, wd, state)
    except Terminated as e:
        check(False, "ran to the end", "interrupted by %s" % e)
    except Exception as e:
        check(False, "ran to the end", "%s: %s" % (type(e).__name__, e))
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if state.get("trunk"):
            state["trunk"].stop()
        if state.get("ovs"):
            state["ovs"].stop()
        if state.get("sw"):
            rc = state["sw"].stop()
            check(rc in (0, None), "vswd exits 0 on SIGTERM", "exit code %s" % rc)
        left = cleanup_net()
        check(not left, "cleanup: no netns or veth of the test left", ", ".join(left))
    if tally.failed or args.keep:
        print("     vswd's log kept in %s" % wd)
    else:
        shutil.rmtree(wd, ignore_errors=True)
    print("flows_learn: %d passed, %d failed" % (tally.passed, tally.failed), flush=True)
    sys.exit(1 if tally.failed else 0)


if __name__ == "__main__":
    main()
