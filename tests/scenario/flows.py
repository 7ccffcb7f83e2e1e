#!/usr/bin/env python3
"""flows.py - scenario: flow tables between two containers, installed with vswctl, checked by the kernels.

Objective (issue 14, items 2, 4 and 7): flows installed with `vswctl flow`
act on real traffic between two Linux network namespaces: a drop rule
isolates them and its deletion joins them again; a rewrite of the
destination address (mod_nw_dst) and of the reply's source (mod_nw_src)
reaches the receiving kernel with headers it accepts (the echo reply
arrives); `vswctl trace` shows the table, the rule and the resulting
actions; the flows survive a vswd restart through the flows file; with
every rule deleted the switch is the learning bridge again.

    netns c1 (eth0 10.0.0.1) --veth--> vfc1T --(c1: afpacket)--+
                                                                +-- vswd (flows file)
    netns c2 (eth0 10.0.0.2) --veth--> vfc2T --(c2: afpacket)--+

(T is a tag derived from the test's pid: concurrent runs do not collide.)

Steps:
  1. the two namespaces, veth pairs (IPv6 off, TSO/GSO off: afpacket);
     vswd --foreground with a config naming ports c1 and c2 and a flows
     file in a temp dir;
  2. no flow: c1 pings c2 (the learning bridge); the config's ports are
     numbered 1 and 2, as Open vSwitch numbers its first interfaces
     (show --json "id");
  3. `flow add priority=0,actions=normal` and `priority=100,in_port=1,
     actions=drop` (written with the number, as pasted from OVS
     documentation: port 1 is c1): c1's ping to c2 fails, c1's `flow_drop`
     count grew by the echo requests, `flow dump` shows the drop rule,
     as in_port=c1, with packets;
  4. `flow del-strict priority=100,in_port=c1`: the ping succeeds again;
  4b. tcp_flags (a connection's first segment): an echo server in c2 (TCP
     port 7000), a client in c1 with one connection open and echoing;
     `priority=200,tcp,nw_dst=10.0.0.2,tp_dst=7000,tcp_flags=+syn-ack
     actions=drop`: the open connection still echoes, a new one times out
     (its SYNs dropped), `flow dump` shows the rule as tcp_flags=+syn-ack
     with packets, the ping still works; the rule deleted, a new
     connection is made;
  5. rewrite: c1 pings 10.0.0.99 (a static neighbour entry: c2's MAC);
     `in_port=c1,ip,nw_dst=10.0.0.99 actions=mod_nw_dst:10.0.0.2,normal`
     and `in_port=c2,ip,nw_src=10.0.0.2,nw_dst=10.0.0.1
     actions=mod_nw_src:10.0.0.99,normal`: the ping to .99 gets its replies
     (c2's kernel took the rewritten request, c1's the rewritten reply:
     both IPv4 header checksums right);
  6. `vswctl trace 'in_port=c1,dl_src=..,dl_dst=..,ip,nw_dst=10.0.0.99'`
     prints table 0, the rule of priority 200, its actions, the final
     nw_dst=10.0.0.2 and "Datapath actions: normal";
  7. an unsupported token is refused by name (`ct_state`), and port 0
     (OpenFlow's reserved port, no port's number) too: `in_port=0`,
     `output:0`;
  7b. table-miss: table 0's `priority=0,actions=normal` moves to table 1
     (`table=1,priority=0,actions=normal`): table 0 misses c1's frames to
     c2 and drops them (the default): the ping fails, `flow_miss` grows;
     `flow mod-table 0 continue`: the misses go on to table 1, the ping
     works; `flow dump-tables` says miss=continue with table 0's lookups
     and misses counted, `flow dump-cache` shows worker 0's megaflow of
     c1's frames going to normal, `trace` shows table 0's miss and table
     1's rule;
  8. restart vswd (SIGTERM, exit 0, same config): the flows file holds
     `mod-table 0 continue`; `flow dump` shows the same rules, the ping
     to .99 still gets its replies, and the one to c2 (table 0 continues);
  8b. a deleted port's rules (docs/FLOWS.md, "Ports in flows"): with
     `priority=300,in_port=c1,ip,nw_dst=10.0.0.2 actions=output:c2` and
     `priority=300,in_port=c2,ip actions=output:c1`, c1 reaches c2; `port
     del c2`, then `port add c9 afpacket` on c2's own veth: the port that
     took c2's place gets none of c2's rules (c1's pings to c2 fail, each
     a `no_destination` drop on c1, though c9's wire leads to c2), `flow
     dump` still names c2, `show` (text and --json "kept") lists c2 as
     absent with its number, kept for the rules naming it, and c9 with
     another number; `port del c9`, `port add c2` again: c2 has its
     number back, `show` lists no kept number, the rules apply to it (c1
     reaches c2, no new drop);
  9. `flow del`: no rule, the ping to c2 works (the bridge);
  10. cleanup: vswd, namespaces; nothing of the test is left.

Each check prints PASS or FAIL (nothing is skipped); the last line is
"flows: N passed, M failed"; the exit code is non-zero on any failure.
Every wait is bounded; a run takes about 15 s.

    python3 tests/scenario/flows.py --build build [--keep]
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

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TAG = "%x" % (os.getpid() & 0xffff)
NS = {"c1": "vswf-c1-" + TAG, "c2": "vswf-c2-" + TAG}
VETH = {"c1": "vfc1" + TAG, "c2": "vfc2" + TAG}
IP = {"c1": "10.0.0.1", "c2": "10.0.0.2"}
MAC = {"c1": "02:00:00:00:f1:01", "c2": "02:00:00:00:f1:02"}
GHOST = "10.0.0.99"

PASSED = 0
FAILED = 0


def check(ok, what, detail=""):
    global PASSED, FAILED
    print("%s %s%s" % ("PASS" if ok else "FAIL", what, (": " + detail) if detail and not ok else ""), flush=True)
    if ok:
        PASSED += 1
    else:
        FAILED += 1
    return ok


class Terminated(Exception):
    pass


def on_signal(sig, frame):
    raise Terminated("signal %d" % sig)


def run(argv, timeout=20, ns=None):
    """Run argv (in netns ns); return (rc, stdout, stderr); rc 124 on timeout."""
    if ns:
        argv = ["ip", "netns", "exec", ns] + list(argv)
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return 124, "", "(timed out after %s s)" % timeout


def must(argv, timeout=20, ns=None):
    rc, out, err = run(argv, timeout, ns)
    if rc != 0:
        raise RuntimeError("`%s` exited %d: %s" % (" ".join(argv), rc, (err or out).strip()[:400]))
    return out


class Vswd:
    """vswd --foreground with ports c1, c2 (afpacket) and a flows file, all in the work directory."""

    def __init__(self, build, wd):
        self.vswd = os.path.join(build, "vswd")
        self.vswctl = os.path.join(build, "vswctl")
        self.ctl = os.path.join(wd, "ctl.sock")
        self.flows = os.path.join(wd, "flows.txt")
        self.conf = os.path.join(wd, "vswd.json")
        self.log_path = os.path.join(wd, "vswd.log")
        with open(self.conf, "w") as f:
            json.dump({"workers": 1, "flows": self.flows,
                       "ports": [{"name": n, "type": "afpacket", "ifname": VETH[n]} for n in ("c1", "c2")]}, f)
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "a")
        if os.path.exists(self.ctl):
            os.unlink(self.ctl)
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
        check(rc == 0, "vswctl " + " ".join(args), (err or out).strip())
        return out

    def port_ids(self):
        """{name: number} of the ports, from show --json."""
        rc, out, err = self.ctl_run("--json", "show")
        return {p["name"]: p["id"] for p in json.loads(out)["ports"]} if rc == 0 else {}

    def drops(self, port, why):
        rc, out, err = self.ctl_run("--json", "stats")
        for p in json.loads(out)["ports"]:
            if p["name"] == port:
                return p["drops"].get(why, 0)
        raise RuntimeError("no port %s in stats" % port)

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


def make_container(name):
    ns, veth = NS[name], VETH[name]
    must(["ip", "netns", "add", ns])
    must(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"], ns=ns)
    must(["ip", "link", "set", "lo", "up"], ns=ns)
    must(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns])
    must(["ip", "link", "set", veth, "addrgenmode", "none"])
    must(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % veth])
    must(["ip", "link", "set", veth, "up"])
    must(["ip", "link", "set", "eth0", "address", MAC[name]], ns=ns)
    must(["ip", "addr", "add", IP[name] + "/24", "dev", "eth0"], ns=ns)
    must(["ip", "link", "set", "eth0", "up"], ns=ns)
    must(["ethtool", "-K", "eth0", "tso", "off", "gso", "off"], ns=ns)


def cleanup_net():
    for name in NS:
        if os.path.exists("/run/netns/" + NS[name]):
            run(["ip", "netns", "del", NS[name]], timeout=10)
        if run(["ip", "link", "show", VETH[name]], timeout=5)[0] == 0:
            run(["ip", "link", "del", VETH[name]], timeout=10)
    return [n for n in list(NS.values()) if os.path.exists("/run/netns/" + n)] + \
        [v for v in VETH.values() if run(["ip", "link", "show", v], timeout=5)[0] == 0]


def received(dst, count):
    """c1 pings dst (busybox ping): the echo replies received, or -1 when ping said nothing."""
    rc, out, err = run(["busybox", "ping", "-c", str(count), "-i", "0.2", "-W", "1", dst], timeout=count + 10,
                       ns=NS["c1"])
    m = re.search(r"(\d+) packets transmitted, (\d+) packets received", out)
    return int(m.group(2)) if m and int(m.group(1)) == count else -1


def ping(dst, count=3):
    """True when every echo request of c1 to dst got its reply."""
    return received(dst, count) == count


def ping_fails(dst, count=3):
    """True when no echo request of c1 to dst got a reply."""
    return received(dst, count) == 0


def settle(dst):
    """Bounded wait until c1 reaches dst (after vswd started: the afpacket sockets are bound)."""
    for _ in range(10):
        if ping(dst, 1):
            return True
    return False


# An echo server (c2) and a client (c1) in one process each: the client opens a connection, then on each
# line of its stdin "echo" (over that connection) or "new" (a second connection, 3 s), printing "ok" or "fail".
ECHO_SERVER = r"""
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("%s", 7000)); s.listen(8)
def serve(c):
    while True:
        d = c.recv(4096)
        if not d: return
        c.sendall(d)
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
"""
ECHO_CLIENT = r"""
import socket, sys
def conn():
    c = socket.create_connection(("%s", 7000), timeout=3); c.settimeout(3); return c
def echo(c):
    c.sendall(b"vsw"); return c.recv(16) == b"vsw"
try:
    a = conn(); print("ok" if echo(a) else "fail", flush=True)
except OSError:
    print("fail", flush=True); sys.exit(1)
for line in sys.stdin:
    try:
        ok = echo(a) if line.strip() == "echo" else echo(conn())
    except OSError:
        ok = False
    print("ok" if ok else "fail", flush=True)
"""


def tcp_flags_step(sw):
    """Step 4b: a rule on tcp_flags=+syn-ack refuses new connections and keeps the open one."""
    srv = subprocess.Popen(["ip", "netns", "exec", NS["c2"], sys.executable, "-c", ECHO_SERVER % IP["c2"]],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cli = None
    try:
        time.sleep(0.3)
        cli = subprocess.Popen(["ip", "netns", "exec", NS["c1"], sys.executable, "-c", ECHO_CLIENT % IP["c2"]],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

        def ask(what):
            if what:
                cli.stdin.write(what + "\n")
                cli.stdin.flush()
            return cli.stdout.readline().strip() == "ok"

        check(ask(None), "tcp_flags: c1 opens a TCP connection to c2 and it echoes")
        rule = "priority=200,tcp,nw_dst=%s,tp_dst=7000,tcp_flags=+syn-ack" % IP["c2"]
        sw.ok("flow", "add", rule + " actions=drop")
        check(ask("echo"), "tcp_flags=+syn-ack drop: the open connection still echoes")
        check(not ask("new"), "tcp_flags=+syn-ack drop: a new connection times out (its SYNs dropped)")
        out = sw.ok("flow", "dump")
        line = [l for l in out.splitlines() if "tp_dst=7000" in l]
        check(len(line) == 1 and "tcp_flags=+syn-ack" in line[0] and "n_packets=0," not in line[0],
              "flow dump: the rule as tcp_flags=+syn-ack, with packets (the SYNs)", out.strip())
        check(ping(IP["c2"]), "tcp_flags=+syn-ack drop: pings still cross")
        sw.ok("flow", "del-strict", rule)
        check(ask("new"), "the tcp_flags rule deleted: a new connection is made")
    finally:
        for proc in (cli, srv):
            if proc:
                proc.kill()
                proc.wait(5)


REWRITE_FLOWS = ("priority=200,in_port=c1,ip,nw_dst=%s actions=mod_nw_dst:%s,normal" % (GHOST, IP["c2"]),
                 "priority=200,in_port=c2,ip,nw_src=%s,nw_dst=%s actions=mod_nw_src:%s,normal" % (IP["c2"], IP["c1"],
                                                                                                GHOST))


def scenario(build, wd, state):
    for n in NS:
        make_container(n)
    sw = state["sw"] = Vswd(build, wd)
    sw.start()

    # 2. no flow: the learning bridge
    check(settle(IP["c2"]), "no flow: c1 reaches c2 (learning bridge)")
    ids = sw.port_ids()
    check(ids == {"c1": 1, "c2": 2}, "the config's ports are numbers 1 and 2, as in Open vSwitch", str(ids))

    # 3. a drop rule isolates c1, written with its number as in OVS documentation
    sw.ok("flow", "add", "priority=0,actions=normal")
    sw.ok("flow", "add", "priority=100,in_port=1,actions=drop")
    before = sw.drops("c1", "flow_drop")
    check(ping_fails(IP["c2"]), "in_port=c1 actions=drop: c1's pings to c2 fail")
    after = sw.drops("c1", "flow_drop")
    check(after - before >= 3, "c1's flow_drop count grew by the echo requests", "%d -> %d" % (before, after))
    out = sw.ok("flow", "dump")
    line = [l for l in out.splitlines() if "priority=100" in l]
    check(len(line) == 1 and "n_packets=0," not in line[0] and "actions=drop" in line[0] and "in_port=c1" in line[0],
          "flow dump: the drop rule, in_port=c1, with packets", out.strip())

    # 4. deleted: joined again
    sw.ok("flow", "del-strict", "priority=100,in_port=c1")
    check(ping(IP["c2"]), "drop rule deleted: c1 reaches c2 again")

    # 4b. a connection's first segment: tcp_flags
    tcp_flags_step(sw)

    # 5. rewrites the kernels accept
    must(["ip", "neigh", "replace", GHOST, "lladdr", MAC["c2"], "dev", "eth0", "nud", "permanent"], ns=NS["c1"])
    check(ping_fails(GHOST, 2), "before the rewrite: c1's pings to %s get no reply" % GHOST)
    for f in REWRITE_FLOWS:
        sw.ok("flow", "add", f)
    check(ping(GHOST), "mod_nw_dst/mod_nw_src: c1's pings to %s are answered by c2" % GHOST)
    rc, out, err = sw.ctl_run("--json", "stats")
    w = json.loads(out)["workers"] if rc == 0 else []
    hits = sum(x.get("flow_cache_hits", 0) for x in w)
    misses = sum(x.get("flow_cache_misses", 0) for x in w)
    check(hits > 0 and misses > 0, "stats: the workers' flow cache answered frames, the classifier others",
          "hits %d, misses %d" % (hits, misses))

    # 6. trace
    rc, out, err = sw.ctl_run("trace", "in_port=c1,dl_src=%s,dl_dst=%s,ip,nw_dst=%s" % (MAC["c1"], MAC["c2"], GHOST))
    check(rc == 0 and " 0. ip,in_port=c1,nw_dst=%s, priority 200" % GHOST in out and
          "actions=mod_nw_dst:%s,normal" % IP["c2"] in out and
          "Final flow: nw_dst=%s" % IP["c2"] in out and "Datapath actions: normal" in out,
          "vswctl trace: table 0, the rule, its actions, the rewrite, the output", (err or out).strip())

    # 7. refused by name
    rc, out, err = sw.ctl_run("flow", "add", "ct_state=+trk,actions=drop")
    check(rc != 0 and "ct_state" in err, "an unsupported token is refused by name", (err or out).strip())
    for f in ("in_port=0,actions=drop", "in_port=c1,actions=output:0"):
        rc, out, err = sw.ctl_run("flow", "add", f)
        check(rc != 0 and 'port "0"' in err and "reserved" in err, "%s: refused, port 0 named" % f,
              (err or out).strip())

    # 7b. table-miss behaviour: drop (the default), then continue
    sw.ok("flow", "del-strict", "priority=0")
    sw.ok("flow", "add", "table=1,priority=0,actions=normal")
    before = sw.drops("c1", "flow_miss")
    check(ping_fails(IP["c2"], 2), "table 0 misses and drops: c1's pings to c2 fail")
    after = sw.drops("c1", "flow_miss")
    check(after - before >= 2, "c1's flow_miss count grew by the echo requests", "%d -> %d" % (before, after))
    sw.ok("flow", "mod-table", "0", "continue")
    check(ping(IP["c2"]), "flow mod-table 0 continue: table 1's normal answers c1's pings to c2")
    out = sw.ok("flow", "dump-tables")
    t0 = [l for l in out.splitlines() if l.startswith(" table 0:")]
    m = re.search(r"lookup=(\d+), missed=(\d+)", t0[0]) if len(t0) == 1 else None
    check(m is not None and "miss=continue" in t0[0] and " table 1: active=1" in out and
          int(m.group(2)) >= 5 and int(m.group(1)) > int(m.group(2)),
          "flow dump-tables: table 0's miss is continue, its lookups and misses counted, table 1 has its rule",
          out.strip())
    out = sw.ok("flow", "dump-cache")
    mf = [l for l in out.splitlines() if l.startswith(" ") and "in_port=c1" in l]
    check(out.startswith("worker 0: ") and any(l.endswith(" actions=normal") for l in mf),
          "flow dump-cache: worker 0's megaflows, c1's frames to normal (table 0 continued)", out.strip())
    rc, out, err = sw.ctl_run("trace", "in_port=c1,dl_src=%s,dl_dst=%s,ip,nw_dst=%s" % (MAC["c1"], MAC["c2"], IP["c2"]))
    check(rc == 0 and " 0. No match: the table's miss: continue in the next table." in out and
          " 1. (any), priority 0" in out and "Datapath actions: normal" in out,
          "vswctl trace: table 0's miss continues into table 1's rule", (err or out).strip())

    # 8. restart: the flows file
    rules_before = sorted(l.split(", ", 4)[-1] for l in sw.ok("flow", "dump").splitlines())
    rc = sw.stop()
    check(rc == 0, "vswd exits 0 on SIGTERM", "exit code %s" % rc)
    with open(sw.flows) as f:
        saved = f.read()
    check(all(("in_port=c1" in saved, "mod_nw_src:%s" % GHOST in saved, "actions=normal" in saved,
               "\nmod-table 0 continue\n" in saved)),
          "the flows file holds the rules, by port name, and table 0's miss", saved)
    sw.start()
    rules_after = sorted(l.split(", ", 4)[-1] for l in sw.ok("flow", "dump").splitlines())
    check(rules_after == rules_before and len(rules_after) == 3, "after a restart: the same rules",
          "%s vs %s" % (rules_before, rules_after))
    check(settle(GHOST) and ping(GHOST), "after a restart: the rewrite still answers c1's pings")
    check(ping(IP["c2"]), "after a restart: table 0 still continues into table 1 (c1 reaches c2)")

    # 8b. a deleted port's rules: never applied to the port that comes next, applied again to its name
    sw.ok("flow", "add", "priority=300,in_port=c1,ip,nw_dst=%s actions=output:c2" % IP["c2"])
    sw.ok("flow", "add", "priority=300,in_port=c2,ip actions=output:c1")
    check(ping(IP["c2"]), "output:c2 and in_port=c2 rules: c1 reaches c2")
    c2_id = sw.port_ids().get("c2")
    sw.ok("port", "del", "c2")
    sw.ok("port", "add", "c9", "afpacket", "ifname=" + VETH["c2"])
    before = sw.drops("c1", "no_destination")
    check(ping_fails(IP["c2"]), "c2 deleted, c9 added on its veth: c2's rules send c9 nothing, match none of its frames")
    after = sw.drops("c1", "no_destination")
    check(after - before >= 3, "c1's no_destination count grew by the echo requests to the deleted c2",
          "%d -> %d" % (before, after))
    out = sw.ok("flow", "dump")
    check("in_port=c1,nw_dst=%s actions=output:c2" % IP["c2"] in out and "in_port=c2 actions=output:c1" in out,
          "flow dump: the deleted port's rules, by its name", out.strip())
    naming = len([l for l in out.splitlines() if re.search(r"[=:]c2\b", l)])
    show = json.loads(sw.ok("--json", "show"))
    ids = {p["name"]: p["id"] for p in show.get("ports", [])}
    check(show.get("kept") == [{"name": "c2", "id": c2_id, "flows": naming}] and naming >= 2,
          "show --json: c2 kept, its number %s, for the %d rules naming it" % (c2_id, naming), str(show.get("kept")))
    check("c2" not in ids and ids.get("c9") not in (None, c2_id), "show --json: c9 has another number than c2's",
          str(ids))
    out = sw.ok("show")
    want = r"(?m)^c2\s+-\s+absent: number %s kept for the %d flow\(s\) naming it$" % (c2_id, naming)
    check(re.search(want, out) is not None, "show: c2 absent, its number kept for its rules", out.strip())
    sw.ok("port", "del", "c9")
    sw.ok("port", "add", "c2", "afpacket", "ifname=" + VETH["c2"])
    show = json.loads(sw.ok("--json", "show"))
    check(sw.port_ids().get("c2") == c2_id and show.get("kept") == [] and "absent" not in sw.ok("show"),
          "c2 added again: its number back (%s), show lists no kept number" % c2_id, str(show))
    before = sw.drops("c1", "no_destination")
    check(settle(IP["c2"]) and ping(IP["c2"]), "c2 added again: its rules apply, c1 reaches c2")
    after = sw.drops("c1", "no_destination")
    check(after == before, "no no_destination drop with c2 back", "%d -> %d" % (before, after))

    # 9. every rule deleted: the bridge
    sw.ok("flow", "del")
    check(sw.ok("flow", "dump").strip() == "", "flow del: no rule left")
    check(ping(IP["c2"]) and ping_fails(GHOST, 2), "no rule: the learning bridge (c2 reached, %s not)" % GHOST)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--keep", action="store_true", help="keep the work directory (vswd's log, the flows file)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    missing = [t for t in ("ip", "ethtool", "busybox") if not shutil.which(t)]
    missing += [p for p in (os.path.join(build, "vswd"), os.path.join(build, "vswctl")) if not os.path.exists(p)]
    if os.geteuid() != 0 or missing:
        check(False, "prerequisites", "needs root" if os.geteuid() else "missing: %s" % ", ".join(missing))
        print("flows: %d passed, %d failed" % (PASSED, FAILED))
        sys.exit(1)
    wd = tempfile.mkdtemp(prefix="vsw-flows-")
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
        if state.get("sw"):
            rc = state["sw"].stop()
            check(rc in (0, None), "vswd exits 0 on SIGTERM", "exit code %s" % rc)
        left = cleanup_net()
        check(not left, "cleanup: no netns or veth of the test left", ", ".join(left))
    if FAILED or args.keep:
        print("     vswd's log and the flows file kept in %s" % wd)
    else:
        shutil.rmtree(wd, ignore_errors=True)
    print("flows: %d passed, %d failed" % (PASSED, FAILED), flush=True)
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
