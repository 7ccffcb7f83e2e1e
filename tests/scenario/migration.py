#!/usr/bin/env python3
"""migration.py - live migration of a QEMU guest from one vsw port to another, under traffic.

Objective: QEMU (7.2, TCG) migrates a guest whose virtio-net device is
served by vswd over vhost-user, while vswd writes into the guest's memory:
vswd logs every page it writes (VHOST_F_LOG_ALL, LOG_SHMFD), so the
destination gets every byte; the switch learns the guest's MAC on the new
port at once (GUEST_ANNOUNCE, or SEND_RARP when the guest cannot announce);
and a vswd that skips logging the receive buffers (the test-only fault
VSW_FAULT_SKIP_RX_LOG) is caught by the same check.

    netns vswmig: eth0 10.0.0.2 --veth-- vswmigT (afpacket port "peer")
                                              |
                                            vswd ---- vm-src <- QEMU source   (10.0.0.1)
                                                 \\--- vm-dst <- QEMU -incoming

Steps, per configuration (split and packed rings with GUEST_ANNOUNCE;
packed ring without mergeable buffers at MTU 9000 and guest_announce=off,
so QEMU sends SEND_RARP; split ring the same way with GUEST_ANNOUNCE, once
as is and once with the fault):
  1. vswd with two vhost-user server ports and the afpacket peer port;
     the peer namespace with checksum and segmentation offloads off;
  2. boot the source guest (RAM 262136 KiB: QEMU 7.2 TCG can corrupt a
     migrated guest whose RAM is a multiple of 256 KiB); start the
     destination QEMU with -incoming on the other port;
  3. in the guest, `nc -l | sha256sum`; from the namespace, ping every
     10 ms and a TCP stream of pseudo-random bytes at full speed (and,
     where QEMU will send SEND_RARP, tcpdump waits for a RARP there);
  4. pause the sender (its receive buffers sit posted and empty in the
     guest), keep the guest dirtying a little memory; migrate with max-bandwidth throttled so that several pre-copy
     passes run (dirty-sync-count reported), the end of the first pass
     slower still so that QEMU cannot switch over before the hook; when the second pass starts,
     pause the reader and resume the sender: vswd writes the stream into
     buffers whose pages were already copied, the guest checks and queues
     it on the source, and the reader reads it on the destination
     (SIGCONT) -- only vswd's dirty log can have brought those bytes;
  5. right after completion: the FDB has the guest's MAC on vm-dst (the
     delay is reported); the RARP vswd injected for SEND_RARP reached the
     peer; traffic goes on 3 s, then the stream ends;
  6. the receiver's hash (read on the destination) equals the sender's;
     ping loss reported; no virtio error in the guest's kernel log; vswd
     alive with vm-dst connected;
  7. the fault configuration must fail step 6's hash check (the test
     passes when it does, fails when it does not).
Closing line: "migration: N passed, M failed".  Every wait is bounded and
every process and namespace is removed at exit.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

import guest_lib
from guest_lib import Results, guest

REPO = guest.REPO
NS, VETH = "vswmig", "vswmigT"
GUEST_IP, PEER_IP = "10.0.0.1", "10.0.0.2"
GUEST_MAC, PEER_MAC = "52:54:00:00:00:11", "52:54:00:00:00:22"
MEM_KIB = 262136
PORT = 5000
# Migration bandwidth: low enough that the first pass over the guest's
# non-zero pages takes seconds, so that more passes follow under traffic.
MAX_BANDWIDTH = 16 << 20
# The end of the first pass (the last SLOW_BELOW bytes of it) and the hook's
# second pass go at SLOW_BANDWIDTH: too slow for a 1 ms switchover (see migrate()).
SLOW_BELOW = 8 << 20
SLOW_BANDWIDTH = 2 << 20
VIRTIO_NET_F_GUEST_ANNOUNCE = 21
# busybox's ping (as in the guest): root may ping every 10 ms.
PING = ["busybox", "ping"]

# (name, packed, mergeable rx buffers, guest_announce, fault).  Without
# mergeable buffers at MTU 9000 the Linux driver posts chains of whole
# pages and never writes into them itself (receive_big): only the back
# end's log can send those pages again.  With mergeable buffers the driver
# writes each skb's shared info next to the data (build_skb), which dirties
# the page in QEMU's own tracking, so skipping our log goes unnoticed there.
CONFIGS = [
    ("split", False, True, True, False),
    ("packed", True, True, True, False),
    ("packed-nomrg-9000", True, False, False, False),
    ("split-nomrg-9000", False, False, True, False),
    ("split-nomrg-9000-fault", False, False, True, True),
]

# The sender, run in the namespace: pseudo-random bytes until SIGTERM, then
# close and print "BYTES SHA256".  Deterministic data, so a stale page on
# the destination cannot hold the bytes that belong there by chance.
SENDER = r"""
import hashlib, random, signal, socket, sys
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.settimeout(None)
rng, h, n = random.Random(17), hashlib.sha256(), 0
while not stop:
    chunk = rng.randbytes(65536)
    s.sendall(chunk)
    h.update(chunk)
    n += len(chunk)
s.shutdown(socket.SHUT_WR)
s.settimeout(30)
try:
    s.recv(1)
except OSError:
    pass
print(n, h.hexdigest(), flush=True)
"""

res = Results("migration", width=56)
check = res.check


def note(msg):
    print("  " + msg, flush=True)


def run(argv, timeout=20, ns=None):
    if ns:
        argv = ["ip", "netns", "exec", ns] + list(argv)
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return 124, "", "timeout"


def must(argv, timeout=20, ns=None):
    rc, out, err = run(argv, timeout, ns)
    if rc != 0:
        raise RuntimeError("`%s` exited %d: %s" % (" ".join(argv), rc, (err or out).strip()[:300]))
    return out


def net_cleanup():
    if os.path.exists("/run/netns/" + NS):
        rc, out, _ = run(["ip", "netns", "pids", NS], timeout=5)
        for pid in out.split():
            try:
                os.kill(int(pid), signal.SIGKILL)   # our own ping and sender
            except (ProcessLookupError, ValueError):
                pass
        run(["ip", "netns", "del", NS], timeout=10)
    if run(["ip", "link", "show", VETH], timeout=5)[0] == 0:
        run(["ip", "link", "del", VETH], timeout=10)


def net_setup(mtu):
    net_cleanup()
    must(["ip", "netns", "add", NS])
    must(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"], ns=NS)
    must(["ip", "link", "set", "lo", "up"], ns=NS)
    must(["ip", "link", "add", VETH, "type", "veth", "peer", "name", "eth0", "netns", NS])
    must(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % VETH])
    must(["ip", "link", "set", VETH, "up"])
    must(["ip", "link", "set", "eth0", "address", PEER_MAC], ns=NS)
    must(["ip", "addr", "add", PEER_IP + "/24", "dev", "eth0"], ns=NS)
    if mtu:
        must(["ip", "link", "set", VETH, "mtu", str(mtu)])
        must(["ip", "link", "set", "eth0", "mtu", str(mtu)], ns=NS)
    must(["ip", "link", "set", "eth0", "up"], ns=NS)
    # The guest negotiates no offloads: full checksums and MTU-sized frames from the peer.
    must(["ethtool", "-K", "eth0", "tx", "off", "tso", "off", "gso", "off"], ns=NS)


class Vswd(guest_lib.Vswd):
    """vswd with the two guest ports (vm-src, vm-dst) and the afpacket port "peer" on the veth.

    fault: run it with VSW_FAULT_SKIP_RX_LOG=1 (receive buffers not logged).
    """

    def __init__(self, build, wd, fault):
        self.src_sock, self.dst_sock = os.path.join(wd, "src.sock"), os.path.join(wd, "dst.sock")
        conf = {"workers": 1, "ports": [
            {"name": "vm-src", "type": "vhost-user", "path": self.src_sock},
            {"name": "vm-dst", "type": "vhost-user", "path": self.dst_sock}]}
        env = dict(os.environ)
        env.pop("VSW_FAULT_SKIP_RX_LOG", None)
        if fault:
            env["VSW_FAULT_SKIP_RX_LOG"] = "1"
        super().__init__(build, wd, conf, env=env)
        rc, out, err = run([self.vswctl, "--ctl", self.ctl, "port", "add", "peer", "afpacket", "ifname=" + VETH])
        if rc != 0:
            raise RuntimeError("port add peer: %s" % (err or out))


def ping_summary(out):
    m = re.search(r"(\d+) packets transmitted, (\d+) (?:packets )?received", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


class PingLog:
    """Reads ping's output as it comes, stamping each reply with the time it arrived."""

    def __init__(self, proc):
        self.proc, self.replies, self.lines = proc, [], []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            if "seq=" in line:
                self.replies.append(time.time())

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.thread.join(10)
        return "".join(self.lines)

    def longest_gap(self, start, end):
        """The longest time without a reply between start and end: (seconds, when it began)."""
        t = [start] + [r for r in self.replies if start < r < end] + [end]
        return max(((b - a, a) for a, b in zip(t, t[1:])), default=(0.0, start))


def migrate(src, uri, on_second_pass, on_second_pass_done, timeout_s=150):
    """Start the migration and wait for its end; returns (the last query-migrate answer, the pass
    at which on_second_pass() ran or None).

    When the second pre-copy pass starts (every page was sent once), the
    bandwidth drops to a crawl while on_second_pass() runs and for 1 s
    after, so that what the guest receives then lands in pages already
    sent: only the dirty log brings them to the destination.
    """
    # A 1 ms downtime limit cannot be met while the guest dirties pages (the
    # caller keeps it busy): no switchover before the second pass has run
    # the hook; then 300 ms, QEMU's default.
    #
    # The 1 ms limit alone does not hold QEMU back: at 16 MiB/s it allows
    # four pages, and when the guest's dirtying loop happens to sleep
    # through a short pass, passes 2, 3 and 4 and the switchover can all
    # fall between two polls (seen in CI: the hook never ran, and the
    # stopped sender never sent).  So the last megabytes of the first
    # pass go at SLOW_BANDWIDTH, where 1 ms is less than a page: the
    # ping's replies alone keep QEMU from converging until the hook has run.
    src.qmp("migrate-set-parameters", **{"max-bandwidth": MAX_BANDWIDTH, "downtime-limit": 1})
    src.qmp("migrate", uri=uri)
    deadline = time.time() + timeout_s
    boosted = False
    slowed = False
    hooked = None
    info = {}
    while time.time() < deadline:
        info = src.qmp("query-migrate")
        if info.get("status") in ("completed", "failed", "cancelled"):
            return info, hooked
        ram = info.get("ram", {})
        if (not slowed and hooked is None and info.get("status") == "active" and
                ram.get("dirty-sync-count", 0) <= 1 and ram.get("transferred", 0) >= 16 << 20 and
                ram.get("remaining", 1 << 62) <= SLOW_BELOW):
            src.qmp("migrate-set-parameters", **{"max-bandwidth": SLOW_BANDWIDTH})
            slowed = True
        if hooked is None and info.get("status") == "active" and ram.get("dirty-sync-count", 0) >= 2:
            hooked = info["ram"]["dirty-sync-count"]
            src.qmp("migrate-set-parameters", **{"max-bandwidth": 1 << 20})
            on_second_pass()
            time.sleep(1)
            on_second_pass_done()
            src.qmp("migrate-set-parameters", **{"max-bandwidth": MAX_BANDWIDTH, "downtime-limit": 300})
        # Bounded: a guest that dirties faster than the throttle forever gets the bandwidth to finish.
        if not boosted and time.time() > deadline - timeout_s / 2:
            note("migration still %s after %d s: bandwidth raised to finish" % (info.get("status"), timeout_s / 2))
            src.qmp("migrate-set-parameters", **{"max-bandwidth": 1 << 30, "downtime-limit": 300})
            boosted = True
        time.sleep(0.05)
    return info, hooked


def run_config(build, name, packed, mrg, announce, fault):
    wd = tempfile.mkdtemp(prefix="vsw-migration-%s-" % name)
    mig_uri = "unix:" + os.path.join(wd, "mig.sock")
    src = dst = ping = sender = rarp_cap = None
    sw = None
    opts = "" if announce else "guest_announce=off"
    try:
        mtu = None if mrg else 9000
        net_setup(mtu)
        sw = Vswd(build, wd, fault)

        def boot(gname, sock, extra=()):
            return guest.Guest(gname, sock, GUEST_IP + "/24", GUEST_MAC, packed=packed, mrg_rxbuf=mrg, mtu=mtu,
                               workdir=wd, mem_kib=MEM_KIB, ipv6=False, device_opts=opts, extra_args=extra)
        src = boot("src", sw.src_sock)
        src.wait_ready(240)
        feats = src.features()
        check(name + ": guest up on vm-src, ring as configured", bool(feats >> guest.VIRTIO_F_RING_PACKED & 1) == packed
              and bool(feats >> VIRTIO_NET_F_GUEST_ANNOUNCE & 1) == announce, "features 0x%x" % feats)
        dst = boot("dst", sw.dst_sock, ["-incoming", mig_uri])
        sw.wait_states(lambda st: "connected" in st["vm-dst"], 30, 0.1)
        check(name + ": destination QEMU connected to vm-dst", "connected" in sw.state("vm-dst"), sw.state("vm-dst"))
        rc, out, _ = run(PING + ["-c", "3", "-i", "0.3", GUEST_IP], timeout=20, ns=NS)
        check(name + ": peer reaches the guest before migration", rc == 0, out.strip().splitlines()[-1] if out else "")

        src.check("(nc -l -p %d </dev/null | sha256sum >/tmp/h) >/dev/null 2>&1 &" % PORT, timeout=10)
        src.check("i=0; while [ $i -lt 100 ]; do netstat -ltn | grep -q ':%d ' && exit 0; usleep 100000; "
                  "i=$((i+1)); done; exit 1" % PORT, timeout=20)
        ping = subprocess.Popen(["ip", "netns", "exec", NS] + PING + ["-i", "0.01", GUEST_IP],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        plog = PingLog(ping)
        sender = subprocess.Popen(["ip", "netns", "exec", NS, "python3", "-c", SENDER, GUEST_IP, str(PORT)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2)   # the stream at full speed
        # The sender pauses: the guest's receive ring fills with fresh empty
        # buffers that then sit still, and the first pass copies their pages.
        sender.send_signal(signal.SIGSTOP)
        # Meanwhile the guest rewrites 512 KiB of tmpfs every 50 ms: QEMU
        # cannot converge (1 ms downtime limit) before the second pass.
        src.check("(while :; do dd if=/dev/zero of=/tmp/dirt bs=64k count=8 2>/dev/null; usleep 50000; done) "
                  "</dev/null >/dev/null 2>&1 & echo $! >/tmp/dirt.pid", timeout=10)
        time.sleep(1)

        def second_pass():
            # The reader pauses and the sender goes on: vswd writes the stream
            # into those buffers, after their pages were copied; the guest
            # checks and queues the data on the source, the reader reads it
            # on the destination, where only the dirty log brought it.
            src.check("kill -STOP $(pidof nc)", timeout=10)
            sender.send_signal(signal.SIGCONT)
        if not announce:
            # QEMU's SEND_RARP becomes a broadcast RARP from the guest's MAC, flooded to the peer too.
            rarp_cap = subprocess.Popen(["ip", "netns", "exec", NS, "timeout", "120", "tcpdump", "-i", "eth0", "-n",
                                         "-e", "-c", "1", "rarp"], stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
        t0 = time.time()
        info, hooked = migrate(src, mig_uri, second_pass,
                               lambda: src.check("kill $(cat /tmp/dirt.pid)", timeout=10))
        t_done = time.time()
        ram = info.get("ram", {})
        check(name + ": reader paused and stream resumed during pre-copy", hooked is not None,
              "at pass %s" % hooked)
        check(name + ": migration completed", info.get("status") == "completed",
              "%s in %.1f s, %s pre-copy passes, downtime %s ms, %s MiB sent" % (
                  info.get("status"), t_done - t0, ram.get("dirty-sync-count"), info.get("downtime"),
                  (ram.get("transferred", 0) >> 20)))
        check(name + ": several pre-copy passes", (ram.get("dirty-sync-count") or 0) >= 3,
              "dirty-sync-count %s" % ram.get("dirty-sync-count"))
        learned = None
        while time.time() < t_done + 5:
            if sw.fdb().get(GUEST_MAC) == "vm-dst":
                learned = time.time() - t_done
                break
            time.sleep(0.02)
        check(name + ": MAC learned on vm-dst right after switchover", learned is not None and learned < 2,
              "after %.2f s" % learned if learned is not None else "not within 5 s: %s" % sw.fdb())
        if announce:
            check(name + ": announced by the guest (GUEST_ANNOUNCE, no SEND_RARP)",
                  "SEND_RARP" not in sw.log_text())
        else:
            check(name + ": SEND_RARP from QEMU for the guest's MAC", "SEND_RARP for " + GUEST_MAC in sw.log_text())
            try:
                cap, _ = rarp_cap.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                rarp_cap.kill()
                cap, _ = rarp_cap.communicate()
            check(name + ": the RARP reached the peer, from the guest's MAC",
                  cap.strip().startswith(tuple("0123456789")) and GUEST_MAC + " > ff:ff:ff:ff:ff:ff" in cap,
                  cap.strip()[:160])

        if info.get("status") == "completed":
            rc, out = dst.run("netstat -tn | grep ':%d '" % PORT, timeout=20)
            note("the paused reader's socket on the destination (Recv-Q first): %s" % " ".join(out.split()[1:3]))
            dst.check("kill -CONT $(pidof nc)", timeout=10)
        if hooked is None:
            sender.send_signal(signal.SIGCONT)  # stopped since before the migration: let it end and report
        time.sleep(3)   # traffic through the new port
        sender.send_signal(signal.SIGTERM)
        try:
            s_out, s_err = sender.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            sender.kill()
            s_out, s_err = sender.communicate()
        t_end = time.time()
        p_out = plog.stop()
        sent, recv = ping_summary(p_out)
        if sent:
            gap, gap_at = plog.longest_gap(t0, t_end)
            gap_sw, gap_sw_at = plog.longest_gap(t_done - 1, t_done + 1)
            note("ping every 10 ms: %d sent, %d received, %d lost (%.1f %%); longest time without a reply "
                 "%.0f ms (from %+.1f s of completion); within 1 s of completion %.0f ms (from %+.2f s)"
                 % (sent, recv, sent - recv, 100.0 * (sent - recv) / sent, gap * 1000, gap_at - t_done,
                    gap_sw * 1000, gap_sw_at - t_done))
        check(name + ": ping continues after migration", sent > 0 and recv > 0 and
              "64 bytes" in p_out[-2000:], "%d/%d replies" % (recv, sent))
        parts = s_out.split()
        s_bytes, s_hash = (int(parts[0]), parts[1]) if len(parts) == 2 else (0, "sender failed: " + s_err[-300:])
        rc, out = dst.run("i=0; while [ ! -s /tmp/h ] && [ $i -lt 200 ]; do usleep 100000; i=$((i+1)); done; "
                          "cat /tmp/h", timeout=40)
        g_hash = out.split()[0] if out.split() else "(none)"
        same = g_hash == s_hash
        detail = "%d MiB streamed, sender %s, guest %s" % (s_bytes >> 20, s_hash[:16], g_hash[:16])
        if fault:
            check(name + ": the hash check catches a receive buffer not logged", not same, detail)
        else:
            check(name + ": stream hash matches on both ends", same, detail)
        rc, out = dst.run("dmesg | grep -iE 'virtio|virtnet|eth0' | "
                          "grep -iE 'error|bad|corrupt|not a head|unexpected|broken|invalid' ; true", timeout=30)
        if not fault:
            check(name + ": no virtio error in the guest's log", out.strip() == "", out.strip()[:300])
        check(name + ": vswd alive, vm-dst connected", sw.proc.poll() is None and "connected" in sw.state("vm-dst"),
              sw.state("vm-dst") if sw.proc.poll() is None else "vswd exited")
    except Exception as e:  # a guest that does not boot or answer fails this configuration
        check(name + ": ran to the end", False, repr(e))
    finally:
        for p in (ping, sender, rarp_cap):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        for g in (src, dst):
            if g:
                g.stop()
        if sw:
            sw.stop()
        net_cleanup()
        note("logs in %s" % wd)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--only", help="run only this configuration")
    args = ap.parse_args()
    if os.geteuid() != 0:
        check("migration: needs root (network namespace)", False)
    else:
        guest.ensure_built()
        for name, packed, mrg, announce, fault in CONFIGS:
            if args.only and args.only != name:
                continue
            start = time.time()
            run_config(os.path.abspath(args.build), name, packed, mrg, announce, fault)
            note("%s took %.0f s" % (name, time.time() - start))
    sys.exit(res.summary())


if __name__ == "__main__":
    main()
