#!/usr/bin/env python3
"""containers.py - scenario: three containers, a QEMU guest and the host on one vswd.

Objective (issue 5, item 5): vswd joins every kind of port it has on one
learning switch, and everything attached reaches everything else; and an
afxdp port on a multi-queue veth receives what arrives on every queue:

    netns c1 (eth0 10.0.0.1)      --veth--> vxc1T --(c1: afxdp)------+
    netns c2 (eth0 10.0.0.2)      --veth--> vxc2T --(c2: afpacket)---+
    netns c3 (eth0 10.0.0.3)      ==veth==> vxc3T --(c3: afxdp)------+-- vswd
      (4 queues each way)                     queues 0-3             |
    QEMU guest (eth0 10.0.0.10)   --vhost-user---(vm: vhost-user)----+
    netns h  (vswt-hT 10.0.0.254) --tap---------(h0: tap)------------+

A "container" is a network namespace with one end of a veth pair as its
eth0; the other end stays in the root namespace and vswd attaches to it.
"The host" is a third namespace: vswd creates the tap (port add h0 tap),
then the test moves the interface into that namespace and configures it
there, so nothing of the test has an address in the root namespace.
(T is a tag derived from the test's pid: concurrent runs do not collide.)

Steps:
  1. start vswd --foreground (2 workers) on its own control socket in a
     temp dir; add the vhost-user port vm and boot the guest on it (it
     boots while the rest is set up); create the three namespaces (IPv6
     off: a quiet wire) and the two veth pairs; every container keeps its
     offloads (c2's TSO frames reach the afpacket port whole and are
     segmented by vsw for the ports that do not take them, see
     offload.py); the kernel turns TSO off on a veth whose peer gets a native
     XDP program, and GSO then segments in software (should a port end
     up in XDP skb mode, where oversized GSO frames would reach the
     socket, its container turns TSO/GSO off too); c3's veth pair has 4
     tx and 4 rx queues on each end;
  2. add c1 (afxdp ifname=vxc1T), c2 (afpacket ifname=vxc2T), c3 (afxdp
     ifname=vxc3T: every queue, no queue=), h0 (tap ifname=vswt-hT); move
     vswt-hT into netns h, address it, bring it up.  Any refusal of an
     afxdp port fails (an unknown type too: "afxdp port type not
     available"); c1 or c3 is then attached through afpacket, so the rest
     still runs;
  3. `vswctl show` (text and --json) lists the five ports with their
     types; c3's state says "queues 0-3";
  4. `vswctl capture vm --dir both icmp` and `vswctl capture c1 --dir both
     icmp` run in the background during the pings (a vswctl or vswd that
     does not know the capture command fails: "capture not available");
  5. every pair pings, both ways: c1<->c2, c1<->guest, c2<->guest,
     host<->guest, host<->c1, host<->c2 (3 echo requests each, no loss);
     the host reaches the guest through the tap: its route to the guest is
     the tap and the h0/vm counters grew by the host's pings;
  6. the captures are stopped (SIGINT); each file is read by tshark
     (-Y icmp: echo requests and replies, as many as vswctl wrote) and by
     tcpdump -r (the same count, "echo request" and "echo reply"); each
     file holds exactly the echo messages of the pings that crossed the port;
  7. every queue of c3's veth: for q = 0..3, c3's eth0 sends everything
     on tx queue q (XPS: tx-q/xps_cpus holds every CPU, the others none;
     sysfs as `ip netns exec` mounts it for c3), which a veth delivers on
     rx queue q of vxc3T; c3 pings c1 (3 echo requests, no loss) and
     vxc3T's rx_queue_q_xdp_redirect (ethtool -S: frames the XDP program
     sent to an AF_XDP socket) grew by at least 3; then, XPS cleared (the
     flow hash spreads the streams), `iperf3 -P 4` TCP c3 -> c1 and
     c1 -> c3 (-R), 2 s each, at MIN_MBPS or more, every stream moving
     data; the queues the streams used are reported;
  8. iperf3 TCP for 3 s between c1/c2 and the guest (server in the guest,
     `iperf3 -s -1 -D`; client in the netns): container -> guest, then
     guest -> container (-R); each completes at MIN_MBPS or more (a path
     that loses most frames still "completes" at well under 1 Mbit/s);
     rates reported; a reverse run the time budget (BUDGET_S) leaves no
     room for fails;
  9. `vswctl stats --json`: every port received and sent frames; none
     dropped a frame as port_down or port_broken after the guest was up
     (no_rx_buffer on vm is expected: a TCG guest is slower than the rest);
     the FDB holds each endpoint's MAC on its own port;
  10. cleanup: guest, vswd (SIGTERM, exit 0), namespaces; no netns, veth or
     tap of the test is left.  Cleanup also runs on SIGTERM/SIGINT/SIGHUP.

Each check prints PASS or FAIL (nothing is skipped); the last line is
"containers: N passed, M failed"; the exit code is non-zero on any
failure.  All waits are bounded; a run takes about 35 s here (guest boot
3-5 s, the six iperf3 runs half of it), well under the 2 minutes it may
take.

    python3 tests/scenario/containers.py --build build [--keep]

Needs root, build/vswd, build/vswctl, the guest image (build/guest, made
by scripts/guest/build-guest.sh), ip, ethtool, busybox, iperf3, tcpdump,
tshark.
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

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))

import guest  # noqa: E402

TAG = "%04x" % (os.getpid() & 0xffff)
NS = {"c1": "vswc-c1-" + TAG, "c2": "vswc-c2-" + TAG, "c3": "vswc-c3-" + TAG, "h": "vswc-h-" + TAG}
VETH = {"c1": "vxc1" + TAG, "c2": "vxc2" + TAG, "c3": "vxc3" + TAG}   # root-namespace ends, attached to vswd
TAP = "vswt-h" + TAG
IP = {"c1": "10.0.0.1", "c2": "10.0.0.2", "c3": "10.0.0.3", "vm": "10.0.0.10", "h": "10.0.0.254"}
MAC = {"c1": "02:76:73:63:00:01", "c2": "02:76:73:63:00:02", "c3": "02:76:73:63:00:03",
       "vm": "52:54:00:76:73:0a", "h": "02:76:73:63:00:fe"}
PORT_OF = {"c1": "c1", "c2": "c2", "c3": "c3", "vm": "vm", "h": "h0"}      # endpoint -> vswd port
LABEL = {"c1": "c1", "c2": "c2", "c3": "c3", "vm": "guest", "h": "host"}
MQ = 4                  # queues each way of c3's veth pair
PING_COUNT = 3
WORKERS = 2             # one per core: frames cross between workers (the ports' transmit locks)
MIN_MBPS = 10           # TCG guests move hundreds of Mbit/s; a broken path trickles at < 1
BUDGET_S = 110          # optional steps (reverse iperf3) only while the run is younger than this

PASSED = 0
FAILED = 0
T0 = time.monotonic()


def elapsed():
    return time.monotonic() - T0


def check(ok, what, detail=""):
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print("PASS %s%s" % (what, " (%s)" % detail if detail else ""), flush=True)
    else:
        FAILED += 1
        print("FAIL %s%s" % (what, ": %s" % detail if detail else ""), flush=True)
    return ok


def note(msg):
    print("     [%5.1f s] %s" % (elapsed(), msg), flush=True)


class Terminated(Exception):
    pass


def on_signal(sig, frame):
    raise Terminated("signal %d" % sig)


def run(argv, timeout=20, ns=None, input=None):
    """Run argv (in netns ns); return (rc, stdout, stderr); rc 124 on timeout."""
    if ns:
        argv = ["ip", "netns", "exec", ns] + list(argv)
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input)
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


# ---- vswd -------------------------------------------------------------------

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

def quiet_ns(ns):
    """A namespace with lo up and IPv6 off: only the test's IPv4 traffic on its wire."""
    must(["ip", "netns", "add", ns])
    must(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"], ns=ns)
    must(["ip", "link", "set", "lo", "up"], ns=ns)


def make_container(name, offloads_off, queues=1):
    """netns NS[name] with eth0 (IP, MAC), its peer VETH[name] up in the root namespace, no IPv6 on it.

    queues: tx and rx queues of each end of the pair."""
    ns, veth = NS[name], VETH[name]
    quiet_ns(ns)
    q = ["numtxqueues", str(queues), "numrxqueues", str(queues)]
    must(["ip", "link", "add", veth] + q + ["type", "veth", "peer", "name", "eth0"] + q + ["netns", ns])
    must(["ip", "link", "set", veth, "addrgenmode", "none"])
    must(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % veth])
    must(["ip", "link", "set", veth, "up"])
    must(["ip", "link", "set", "eth0", "address", MAC[name]], ns=ns)
    must(["ip", "addr", "add", IP[name] + "/24", "dev", "eth0"], ns=ns)
    must(["ip", "link", "set", "eth0", "up"], ns=ns)
    if offloads_off:
        must(["ethtool", "-K", "eth0"] + offloads_off, ns=ns)


def cleanup_net():
    """Delete every namespace and interface of this run; return what could not be deleted."""
    for ns in NS.values():
        if os.path.exists("/run/netns/" + ns):
            rc, out, _ = run(["ip", "netns", "pids", ns], timeout=5)
            for pid in out.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)   # our own iperf3/ping, started in our namespace
                except (ProcessLookupError, ValueError):
                    pass
    for ns in NS.values():
        if os.path.exists("/run/netns/" + ns):
            run(["ip", "-n", ns, "link", "del", TAP], timeout=10)
            run(["ip", "netns", "del", ns], timeout=10)
    for ifname in list(VETH.values()) + [TAP]:
        if run(["ip", "link", "show", ifname], timeout=5)[0] == 0:
            run(["ip", "link", "del", ifname], timeout=10)
    left = [ns for ns in NS.values() if os.path.exists("/run/netns/" + ns)]
    # A namespace's interfaces go away with it a moment later: bounded wait.
    deadline = time.monotonic() + 5
    while True:
        links = [i for i in list(VETH.values()) + [TAP] if run(["ip", "link", "show", i], timeout=5)[0] == 0]
        if not links or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    return left + links


# ---- traffic ------------------------------------------------------------------

def ns_ping(src, dst_ip, count=PING_COUNT):
    rc, out, err = run(["busybox", "ping", "-c", str(count), "-i", "0.2", "-W", "3", dst_ip],
                       timeout=count * 0.2 + 15, ns=NS[src])
    st = {"transmitted": 0, "received": 0, "rc": rc, "output": out + err}
    m = re.search(r"(\d+) packets transmitted, (\d+) packets received", out)
    if m:
        st["transmitted"], st["received"] = int(m.group(1)), int(m.group(2))
    return st


def ping(g, src, dst):
    """src pings dst's address; a dict with transmitted, received, output."""
    if src == "vm":
        st = guest.ping_stats(g, IP[dst], count=PING_COUNT)
        return {"transmitted": st["transmitted"], "received": st["received"], "output": st["output"]}
    return ns_ping(src, IP[dst])


def iperf3(g, container, reverse, seconds=3, ns=None):
    """TCP from the container's netns (or netns @ns, by its name) to the guest's iperf3 server (guest -> container
    with -R).

    Returns (ok, receiver Mbit/s, retransmits, detail)."""
    g.run("killall iperf3 >/dev/null 2>&1; rm -f /tmp/iperf3-s.log; "
          "iperf3 -s -1 -D -p 5201 --logfile /tmp/iperf3-s.log", timeout=30)
    rc, out = g.run("i=0; while [ $i -lt 100 ]; do netstat -ltn | grep -q ':5201 ' && exit 0; "
                    "usleep 100000; i=$((i+1)); done; cat /tmp/iperf3-s.log; exit 1", timeout=30)
    if rc != 0:
        return False, None, None, "iperf3 server did not start in the guest: " + out.strip()[:300]
    argv = ["iperf3", "-c", g.addr, "-p", "5201", "-t", str(seconds), "-f", "m", "-J",
            "--connect-timeout", "5000"] + (["-R"] if reverse else [])
    rc, out, err = run(argv, timeout=seconds + 30, ns=ns or NS[container])
    g.run("killall iperf3 >/dev/null 2>&1; true", timeout=30)
    try:
        res = json.loads(out)
    except ValueError:
        return False, None, None, "rc %d, no JSON: %s %s" % (rc, out.strip()[:300], err.strip()[:300])
    if res.get("error"):
        return False, None, None, "rc %d: %s" % (rc, res["error"])
    end = res.get("end", {})
    rcv = end.get("sum_received", {}).get("bits_per_second")
    retr = end.get("sum_sent", {}).get("retransmits")
    mbps = rcv / 1e6 if rcv is not None else None
    return rc == 0 and (mbps or 0) >= MIN_MBPS, mbps, retr, "rc %d, %s Mbit/s (at least %d wanted)" % (
        rc, "%.2f" % mbps if mbps is not None else "no", MIN_MBPS)


def iperf3_ns(server, client, reverse, streams=4, seconds=2, addr=None):
    """TCP from netns `client` to an iperf3 server in netns `server` (the other way with -R), `streams` at once,
    to the server's address `addr` (its eth0's by default).

    Returns (ok, receiver Mbit/s, detail): ok when it completes at MIN_MBPS or more, every stream moving data."""
    port = "5202"
    srv = subprocess.Popen(["ip", "netns", "exec", NS[server], "iperf3", "-s", "-1", "-p", port],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while "LISTEN" not in run(["ss", "-Hltn", "sport", "=", ":" + port], ns=NS[server], timeout=5)[1]:
            if time.monotonic() > deadline or srv.poll() is not None:
                return False, None, "iperf3 server in %s did not start" % server
            time.sleep(0.05)
        argv = ["iperf3", "-c", addr or IP[server], "-p", port, "-t", str(seconds), "-P", str(streams), "-f", "m", "-J",
                "--connect-timeout", "5000"] + (["-R"] if reverse else [])
        rc, out, err = run(argv, timeout=seconds + 30, ns=NS[client])
    finally:
        if srv.poll() is None:
            srv.kill()
        srv.wait(5)
    try:
        res = json.loads(out)
    except ValueError:
        return False, None, "rc %d, no JSON: %s %s" % (rc, out.strip()[:300], err.strip()[:300])
    if res.get("error"):
        return False, None, "rc %d: %s" % (rc, res["error"])
    end = res.get("end", {})
    rcv = end.get("sum_received", {}).get("bits_per_second")
    mbps = rcv / 1e6 if rcv is not None else None
    per_stream = [st.get("receiver", {}).get("bytes", 0) for st in end.get("streams", [])]
    ok = rc == 0 and (mbps or 0) >= MIN_MBPS and len(per_stream) == streams and min(per_stream) > 0
    return ok, mbps, "rc %d, %s Mbit/s (at least %d wanted), bytes per stream %s" % (
        rc, "%.1f" % mbps if mbps is not None else "no", MIN_MBPS, per_stream)


# ---- queues of a veth -----------------------------------------------------------

def cpumask_all():
    """Every CPU as a sysfs cpumask: comma-separated 32-bit hex words, highest first."""
    mask, words = (1 << (os.cpu_count() or 1)) - 1, []
    while True:
        words.append("%08x" % (mask & 0xffffffff))
        mask >>= 32
        if not mask:
            return ",".join(reversed(words))


def steer(name, queue):
    """Container `name`'s eth0 sends everything on tx queue `queue` (XPS), or by flow hash (None).

    A veth delivers a frame on the rx queue of its peer whose index is the tx queue it was sent on."""
    cmds = ["echo %s > /sys/class/net/eth0/queues/tx-%d/xps_cpus" % (cpumask_all() if q == queue else "0", q)
            for q in range(MQ)]
    must(["sh", "-c", " && ".join(cmds)], ns=NS[name])


def rx_redirects(veth):
    """The per-rx-queue rx_queue_N_xdp_redirect counters of a veth (ethtool -S): frames its native XDP
    program sent to an AF_XDP socket, a list by queue; None when ethtool does not show them."""
    rc, out, _ = run(["ethtool", "-S", veth], timeout=10)
    got = {int(m.group(1)): int(m.group(2)) for m in re.finditer(r"rx_queue_(\d+)_xdp_redirect:\s*(\d+)", out)}
    if rc != 0 or any(q not in got for q in range(MQ)):
        return None
    return [got[q] for q in range(MQ)]


def delta(before, after):
    return [a - b for a, b in zip(after, before)] if before and after else None


def every_queue(sw, native, rates):
    """Step 7: c3's frames on each queue of its veth reach c1 through vswd; then several flows both ways."""
    veth = VETH["c3"]
    if not native:
        check(False, "c3's port in XDP native mode", "a veth counts frames per rx queue only in native mode, "
              "so which queue served which frame cannot be checked; the pings still run")
    for q in range(MQ):
        steer("c3", q)
        before = rx_redirects(veth)
        st = ns_ping("c3", IP["c1"])
        d = delta(before, rx_redirects(veth))
        ok_ping = st["transmitted"] == PING_COUNT and st["received"] == PING_COUNT
        ok = ok_ping and (not native or (d is not None and d[q] >= PING_COUNT))
        check(ok, "ping c3 -> c1 sent on tx queue %d of c3's eth0: through rx queue %d of %s" % (q, q, veth),
              "%d/%d replies, XDP redirects per rx queue %s" % (st["received"], st["transmitted"], d) if ok
              else "%d/%d replies (%s), XDP redirects per rx queue %s (at least %d on queue %d wanted)" % (
                  st["received"], st["transmitted"], st["output"].strip()[-200:], d, PING_COUNT, q))
    steer("c3", None)
    for reverse in (False, True):
        what = "iperf3 -P 4 TCP %s" % ("c1 -> c3" if reverse else "c3 -> c1")
        before = rx_redirects(veth)
        ok, mbps, detail = iperf3_ns("c1", "c3", reverse)
        rates[what] = mbps
        check(ok, what, "%s; XDP redirects per rx queue of %s (flow hash) %s" % (
            detail, veth, delta(before, rx_redirects(veth))))


# ---- capture ------------------------------------------------------------------

class Capture:
    """`vswctl capture PORT --dir both icmp -w FILE` in the background until stop()."""

    def __init__(self, sw, port, wd):
        self.port = port
        self.file = os.path.join(wd, "cap-%s.pcap" % port)
        self.err_path = os.path.join(wd, "cap-%s.err" % port)
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen([sw.vswctl, "--ctl", sw.ctl, "capture", port, "--dir", "both",
                                      "icmp", "-w", self.file],
                                     stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.out = ""

    def started(self, timeout=5):
        """True once vswctl says it captures; False (error in self.error) if it does not."""
        deadline = time.monotonic() + timeout
        self.error = ""
        while time.monotonic() < deadline:
            with open(self.err_path) as f:
                self.error = f.read().strip()
            if "capturing" in self.error:
                return True
            if self.proc.poll() is not None:
                self.error = ("vswctl exited %d: " % self.proc.returncode) + self.error
                return False
            time.sleep(0.05)
        self.error = "no \"capturing\" from vswctl within %d s: %s" % (timeout, self.error)
        return False

    def unavailable(self):
        """The capture command does not exist (yet) in vswctl or vswd."""
        return bool(re.search(r"unknown command|usage: vswctl", self.error))

    def stop(self):
        """SIGINT; returns (frames written or None, dropped, vswctl's output)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.out, _ = self.proc.communicate(timeout=5)
        self.err.close()
        with open(self.err_path) as f:
            err = f.read()
        m = re.search(r"(\d+) frames written.*?(\d+) dropped", self.out)
        if self.proc.returncode != 0 or not m:
            return None, None, (self.out + err).strip()
        return int(m.group(1)), int(m.group(2)), self.out.strip()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass


def read_capture(path):
    """(tshark ICMP types list or None, tcpdump lines or None, details)."""
    rc, out, err = run(["tshark", "-n", "-r", path, "-Y", "icmp", "-T", "fields", "-e", "icmp.type"], timeout=60)
    types = [ln.strip() for ln in out.splitlines() if ln.strip()] if rc == 0 else None
    rc2, out2, err2 = run(["tcpdump", "-nn", "-r", path], timeout=30)
    lines = [ln for ln in out2.splitlines() if ln.strip()] if rc2 == 0 else None
    return types, lines, "tshark rc %d %s; tcpdump rc %d %s" % (rc, err.strip()[-200:], rc2, err2.strip()[-200:])


# ---- the scenario --------------------------------------------------------------

def add_afxdp(sw, name):
    """port add NAME afxdp ifname=VETH[name]; True when it took.  Any refusal, an unknown port type
    too, fails, and NAME is then attached through afpacket so that the rest still runs."""
    rc, out, err = sw.ctl_run("port", "add", name, "afxdp", "ifname=" + VETH[name])
    msg = (err or out).strip()
    if rc != 0 and re.search(r"unknown port type", msg):
        msg = "afxdp port type not available (%s)" % msg
    if check(rc == 0, "port add %s afxdp ifname=%s" % (name, VETH[name]), msg):
        return True
    note("%s is attached through afpacket instead of afxdp" % name)
    rc, out, err = sw.ctl_run("port", "add", name, "afpacket", "ifname=" + VETH[name])
    check(rc == 0, "port add %s afpacket ifname=%s (fallback)" % (name, VETH[name]), (err or out).strip())
    return False


def scenario(build, wd, state):
    sw = state["sw"] = Vswd(build, wd)
    note("vswd started (pid %d), control socket %s" % (sw.proc.pid, sw.ctl))

    # The guest boots while the rest is set up.
    sock = os.path.join(wd, "vm.sock")
    rc, out, err = sw.ctl_run("port", "add", "vm", "vhost-user", "path=" + sock)
    if not check(rc == 0, "port add vm vhost-user", (err or out).strip()):
        return
    t_boot = time.monotonic()
    g = state["guest"] = guest.Guest("guest", sock, IP["vm"] + "/24", MAC["vm"], ipv6=False, workdir=wd)

    # Containers and the host namespace.
    t = time.monotonic()
    make_container("c1", [])         # its eth0 loses TSO by itself when XDP attaches natively to the peer
    make_container("c2", [])          # TSO/GSO on: afpacket takes GSO frames whole
    make_container("c3", [], queues=MQ)
    quiet_ns(NS["h"])
    note("namespaces and veth pairs ready in %.1f s" % (time.monotonic() - t))

    # c1 and c3 through AF_XDP, c2 through AF_PACKET.  When the afxdp type
    # does not exist or refuses the veth (a failure either way), the
    # container is attached through afpacket instead, so that the rest of
    # the scenario still means something.
    afxdp = {n: add_afxdp(sw, n) for n in ("c1", "c3")}
    rc, out, err = sw.ctl_run("port", "add", "c2", "afpacket", "ifname=" + VETH["c2"])
    check(rc == 0, "port add c2 afpacket ifname=%s" % VETH["c2"], (err or out).strip())

    # The host: vswd creates the tap; it moves into netns h and is configured there.
    rc, out, err = sw.ctl_run("port", "add", "h0", "tap", "ifname=" + TAP)
    if check(rc == 0, "port add h0 tap ifname=%s" % TAP, (err or out).strip()):
        must(["ip", "link", "set", TAP, "netns", NS["h"]])
        must(["ip", "link", "set", TAP, "address", MAC["h"]], ns=NS["h"])
        must(["ip", "addr", "add", IP["h"] + "/24", "dev", TAP], ns=NS["h"])
        must(["ip", "link", "set", TAP, "up"], ns=NS["h"])

    # vswctl show: the five ports with their types.
    want = {"c1": "afxdp" if afxdp["c1"] else "afpacket", "c2": "afpacket",
            "c3": "afxdp" if afxdp["c3"] else "afpacket", "vm": "vhost-user", "h0": "tap"}
    show = sw.call("show")
    have = {p["name"]: p["type"] for p in show.get("ports", [])}
    states = {p["name"]: p.get("state", "") for p in show.get("ports", [])}
    check(have == want, "show --json: ports c1, c2, c3, vm, h0 with their types", str(have))
    rc, out, err = sw.ctl_run("show")
    lines_ok = rc == 0 and all(re.search(r"(?m)^%s\s+%s\s" % (re.escape(n), re.escape(t)), out)
                               for n, t in want.items())
    check(lines_ok, "show (text) lists the five ports with their types", "" if lines_ok else out + err)
    for n in ("c1", "c2", "c3", "vm", "h0"):
        note("port %-3s %-10s %s" % (n, have.get(n, "?"), states.get(n, "?")))
    if afxdp["c3"]:
        check(("%s queues 0-%d," % (VETH["c3"], MQ - 1)) in states.get("c3", ""),
              "show: c3's afxdp port serves all %d queues of %s" % (MQ, VETH["c3"]), states.get("c3", ""))
    for n in ("c1", "c3"):
        if afxdp[n] and "XDP native" not in states.get(n, ""):
            note("%s is not in XDP native mode: TSO/GSO off in %s, as for afpacket" % (n, n))
            must(["ethtool", "-K", "eth0", "tso", "off", "gso", "off"], ns=NS[n])

    # Captures on the guest's port and c1's port, during the pings.
    caps = state["caps"] = []
    for port in ("vm", "c1"):
        c = Capture(sw, port, wd)
        state.setdefault("all_caps", []).append(c)
        if c.started():
            caps.append(c)
            check(True, "capture %s --dir both icmp started" % port)
        elif c.unavailable():
            check(False, "capture %s --dir both icmp started" % port,
                  "capture not available (%s)" % (c.error.splitlines() or [""])[0])
        else:
            check(False, "capture %s --dir both icmp started" % port, c.error)

    boot = g.wait_ready(120)
    note("guest booted in %.1f s (%.1f s after its port was added)" % (boot, time.monotonic() - t_boot))
    # From here on every port is up: no frame may be dropped as port_down or port_broken.
    stats_ready = {p["name"]: p for p in sw.call("stats")["ports"]}

    # Every pair pings, both ways.
    pairs = [("c1", "c2"), ("c1", "vm"), ("c2", "vm"), ("h", "vm"), ("h", "c1"), ("h", "c2")]
    ping_res = {}
    t = time.monotonic()
    stats_before_hvm = None
    for a, b in pairs:
        if (a, b) == ("h", "vm"):
            stats_before_hvm = {p["name"]: p for p in sw.call("stats")["ports"]}
        for src, dst in ((a, b), (b, a)):
            st = ping(g, src, dst)
            ping_res[(src, dst)] = st
            ok = st["transmitted"] == PING_COUNT and st["received"] == PING_COUNT
            check(ok, "ping %s -> %s (%s)" % (LABEL[src], LABEL[dst], IP[dst]),
                  "%d/%d replies" % (st["received"], st["transmitted"]) if ok
                  else st["output"].strip()[-300:])
        if (a, b) == ("h", "vm"):
            after = {p["name"]: p for p in sw.call("stats")["ports"]}
            d = {"%s %s" % (p, k): after[p][k] - stats_before_hvm[p][k] for p, k in
                 (("h0", "rx_packets"), ("h0", "tx_packets"), ("vm", "rx_packets"), ("vm", "tx_packets"))}
            check(min(d.values()) >= 2 * PING_COUNT,
                  "host <-> guest pings crossed the tap port h0 and vm", "counter deltas %s" % d)
    note("12 pings in %.1f s" % (time.monotonic() - t))
    rc, out, err = run(["ip", "route", "get", IP["vm"]], ns=NS["h"])
    check(rc == 0 and (" dev %s " % TAP) in out, "host's route to the guest is the tap %s" % TAP,
          " ".join(out.split()))

    # Stop the captures; read them back with tshark and tcpdump.
    for c in caps:
        written, dropped, out = c.stop()
        if not check(written is not None and written > 0, "capture %s: vswctl wrote frames" % c.port, out):
            continue
        note("capture %s: %s" % (c.port, out))
        types, lines, detail = read_capture(c.file)
        req, rep = (types or []).count("8"), (types or []).count("0")
        check(types is not None and len(types) == written and req > 0 and rep > 0,
              "capture %s: tshark -r -Y icmp" % c.port,
              "%d ICMP frames: %d echo requests, %d echo replies; vswctl wrote %d" % (
                  len(types or []), req, rep, written) + ("" if types else "; " + detail))
        treq = sum("ICMP echo request" in ln for ln in lines or [])
        trep = sum("ICMP echo reply" in ln for ln in lines or [])
        check(lines is not None and len(lines) == written and treq > 0 and trep > 0,
              "capture %s: tcpdump -r" % c.port,
              "%d frames: %d echo requests, %d echo replies" % (len(lines or []), treq, trep)
              + ("" if lines else "; " + detail))
        # Each echo request and reply of a ping that crossed the port, once (rx or tx).
        ep = "vm" if c.port == "vm" else "c1"
        expect = sum(st["transmitted"] + st["received"] for (s, d), st in ping_res.items() if ep in (s, d))
        check(written == expect and dropped == 0,
              "capture %s: every echo message of the pings through it, once" % c.port,
              "%d written, %d dropped, %d expected" % (written, dropped, expect))

    # Every queue of c3's veth, then several flows at once.
    rates = state["rates"] = {}
    every_queue(sw, afxdp["c3"] and "XDP native" in states.get("c3", ""), rates)

    # TCP between each container and the guest.
    for cont in ("c2", "c1"):
        for reverse in (False, True):
            what = "iperf3 TCP %s -> %s" % (("guest", cont) if reverse else (cont, "guest"))
            if reverse and elapsed() > BUDGET_S:
                check(False, what, "not run: the time budget (%d s) was used up at %.0f s" % (BUDGET_S, elapsed()))
                continue
            ok, mbps, retr, detail = iperf3(g, cont, reverse)
            rates[what] = mbps
            check(ok, what, "%.1f Mbit/s, %s retransmits" % (mbps, retr) if ok else detail)

    # Counters and the FDB.
    stats = {p["name"]: p for p in sw.call("stats")["ports"]}
    for n in ("c1", "c2", "c3", "vm", "h0"):
        p = stats.get(n, {})
        drops = {k: v for k, v in p.get("drops", {}).items() if v}
        check(p.get("rx_packets", 0) > 0 and p.get("tx_packets", 0) > 0,
              "stats --json: port %s moved frames" % n,
              "rx %s tx %s, drops %s" % (p.get("rx_packets"), p.get("tx_packets"), drops or "none"))
    down = {"%s %s" % (n, r): stats[n]["drops"].get(r, 0) - stats_ready[n]["drops"].get(r, 0)
            for n in stats if n in stats_ready for r in ("port_down", "port_broken")}
    down = {k: v for k, v in down.items() if v}
    check(not down, "no frame dropped as port_down or port_broken once every port was up", str(down) if down else "")
    fdb = {e["mac"]: e["port"] for e in sw.call("fdb", "show").get("entries", [])}
    want_fdb = {MAC[e]: PORT_OF[e] for e in MAC}
    check(all(fdb.get(m) == p for m, p in want_fdb.items()), "FDB: each endpoint's MAC on its port", str(fdb))
    check(sw.proc.poll() is None, "vswd alive after the traffic")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, captures)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    missing = [t for t in ("ip", "ss", "ethtool", "busybox", "iperf3", "tcpdump", "tshark", guest.QEMU)
               if not shutil.which(t)]
    missing += [p for p in (os.path.join(build, "vswd"), os.path.join(build, "vswctl")) if not os.path.exists(p)]
    if os.geteuid() != 0 or missing:
        check(False, "prerequisites", "needs root" if os.geteuid() else "missing: %s" % ", ".join(missing))
        print("containers: %d passed, %d failed" % (PASSED, FAILED))
        sys.exit(1)
    guest.ensure_built()

    wd = tempfile.mkdtemp(prefix="vsw-containers-")
    note("work directory %s, names tagged %s" % (wd, TAG))
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
        for c in state.get("all_caps", []):
            c.kill()
        if state.get("guest"):
            state["guest"].stop()
        if state.get("sw"):
            rc = state["sw"].stop()
            check(rc == 0, "vswd exits 0 on SIGTERM", "exit code %s; log %s" % (rc, state["sw"].log_path))
        left = cleanup_net()
        check(not left, "cleanup: no netns, veth or tap of the test left", ", ".join(left))
    for what, mbps in state.get("rates", {}).items():
        print("     rate: %-32s %s" % (what, "%.1f Mbit/s" % mbps if mbps else "-"))
    note("total")
    if FAILED or args.keep:
        print("     logs and captures kept in %s" % wd)
    else:
        shutil.rmtree(wd, ignore_errors=True)
    print("containers: %d passed, %d failed" % (PASSED, FAILED), flush=True)
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
