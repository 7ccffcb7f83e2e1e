#!/usr/bin/env python3
"""testpmd_jumbo.py - frames longer than one receive buffer into dpdk-testpmd's mergeable buffers, every ring layout.

Objective: a frame that vswd spreads over several of a DPDK virtio-user
port's receive buffers (VIRTIO_NET_F_MRG_RXBUF: testpmd's buffers hold
2 KiB each) reaches testpmd whole, with and without VIRTIO_F_IN_ORDER
(DPDK's default), split and packed.  With IN_ORDER the device may write one
used entry for a batch of buffers it used completely (virtio 1.3, 2.7.9,
2.8.11), but DPDK's in-order receive paths read every receive buffer's
length from its own used entry: a device that skipped them handed testpmd
stale lengths (split) or a ring it stopped reading (packed).  vswd writes
an entry for every buffer it wrote into.

Set-up: a network namespace this script creates; vswd runs in it with two
ports, p0 (vhost-user, testpmd's port 0 connects as the front end) and t0
(tap vswjt0 in the namespace, MTU 9000, 10.77.0.1/24, IPv6 off, a
permanent neighbour 10.77.0.2 at testpmd's MAC).  For each layout (a fresh
vswd and testpmd, `--max-pkt-len=9000 --enable-scatter`, rxonly):

  - testpmd's virtio PMD must have negotiated MRG_RXBUF, and RING_PACKED
    and IN_ORDER as the layout's name says (its debug log's "features
    after negotiate");
  - UDP datagrams of 2,900 and of 8,900 payload bytes (frames of 2,942 and
    8,942 bytes: 2 and 5 receive buffers) from the namespace to
    10.77.0.2, 20 of each, in bursts of 5 back to back, 10 ms apart;
  - testpmd's RX-packets and RX-bytes must equal what vswd's p0 counts as
    sent (tx_packets, tx_bytes) and what was sent (40 frames, 237,680
    bytes), with no RX-errors, no drop on p0 and t0, vswd still running
    and no warning in its log.

Each check prints ok or FAIL; the last line is "testpmd-jumbo: N passed, M
failed"; non-zero exit on any failure.  Needs root, dpdk-testpmd, stdbuf,
ip and 1024 hugepages (reserved here, put back at exit); about 20 s.

    python3 tests/scenario/testpmd_jumbo.py --build build [--configs split,packed-inorder]
"""

import json
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testpmd_lib import TestPmd, cleanup_prefix, main_layouts, vswd_in_netns  # noqa: E402

CONFIGS = {
    "split": "in_order=0",
    "split-inorder": "in_order=1",
    "packed": "packed_vq=1,in_order=0",
    "packed-inorder": "packed_vq=1,in_order=1",
}
MAC = "02:76:73:77:00:00"
TAP = "vswjt0"
PAYLOADS = (2900, 8900)  # + 8 UDP + 20 IPv4 + 14 Ethernet: 2 and 5 of testpmd's 2 KiB buffers
COUNT = 20
BURST = 5  # datagrams sent back to back (vswd mostly takes them in one burst), then 10 ms
# Feature bits (virtio 1.3, 5.1.3 and 6): what testpmd's virtio PMD logs it negotiated.
F_MRG_RXBUF, F_RING_PACKED, F_IN_ORDER = 15, 34, 35


def negotiated(logpath):
    """The features testpmd's port negotiated with vswd (its PMD's debug log), or None."""
    with open(logpath, errors="replace") as f:
        m = re.findall(r"features after negotiate = ([0-9a-fA-F]+)", f.read())
    return int(m[-1], 16) if m else None


def ip(ns, *args):
    subprocess.run(["ip", "-n", ns] + list(args), check=True, timeout=10)


def vswctl(build, ctl, *words):
    r = subprocess.run([os.path.join(build, "vswctl"), "--ctl", ctl] + list(words) + ["--json"],
                       capture_output=True, text=True, timeout=15)
    if r.returncode != 0:
        raise RuntimeError("vswctl %s: rc %d: %s %s" % (" ".join(words), r.returncode, r.stdout, r.stderr))
    return json.loads(r.stdout)


def port_stats(build, ctl):
    return {p["name"]: p for p in vswctl(build, ctl, "stats")["ports"]}


def drops(p):
    return sum(p.get("drops", {}).values())


def run_config(args, res, cfg, workdir):
    d = os.path.join(workdir, cfg)
    os.makedirs(d)
    ns = "vswjb%d" % os.getpid()
    prefix = "vswjb%d%s" % (os.getpid(), cfg.replace("-", ""))
    ctl = os.path.join(d, "ctl.sock")
    vs = tp = None
    subprocess.run(["ip", "netns", "add", ns], check=True, timeout=10)
    try:
        ip(ns, "link", "set", "lo", "up")
        subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                        "net.ipv6.conf.default.disable_ipv6=1"], check=True, timeout=10)
        vs = vswd_in_netns(args.build, ns, d, [
            {"name": "p0", "type": "vhost-user", "path": os.path.join(d, "p0.sock")},
            {"name": "t0", "type": "tap", "ifname": TAP}])
        cleanup_prefix(prefix)
        tp = TestPmd(["net_virtio_user0,path=%s,queues=1,mac=%s,%s" % (os.path.join(d, "p0.sock"), MAC,
                                                                         CONFIGS[cfg])],
                     prefix, os.path.join(d, "testpmd.log"), extra_app=["--max-pkt-len=9000", "--enable-scatter"],
                     extra_eal=["--log-level=pmd.net.virtio.init,debug"])
        ip(ns, "link", "set", TAP, "mtu", "9000", "up")
        ip(ns, "addr", "add", "10.77.0.1/24", "dev", TAP)
        ip(ns, "neigh", "add", "10.77.0.2", "lladdr", MAC, "dev", TAP, "nud", "permanent")
        want = (1 << F_MRG_RXBUF) | (("packed" in cfg) << F_RING_PACKED) | (("inorder" in cfg) << F_IN_ORDER)
        got = negotiated(os.path.join(d, "testpmd.log"))
        mask = (1 << F_MRG_RXBUF) | (1 << F_RING_PACKED) | (1 << F_IN_ORDER)
        res.check("%s: testpmd negotiated what the layout names" % cfg, got is not None and got & mask == want,
                  "features after negotiate %s, want MRG_RXBUF/RING_PACKED/IN_ORDER = %#x" % (
                      "unknown" if got is None else "%#x" % got, want))
        tp.cmd_ok("set fwd rxonly")
        tp.cmd("start")
        t0 = tp.port_stats(nports=1)[0]
        v0 = port_stats(args.build, ctl)
        send = ("import socket, time\n"
                "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                "for size in %r:\n"
                "    for i in range(%d):\n"
                "        s.sendto(bytes([i]) * size, ('10.77.0.2', 9))\n"
                "        if i %% %d == %d:\n"
                "            time.sleep(0.01)\n" % (PAYLOADS, COUNT, BURST, BURST - 1))
        subprocess.run(["ip", "netns", "exec", ns, "python3", "-c", send], check=True, timeout=30)
        want_n = COUNT * len(PAYLOADS)
        want_b = sum(COUNT * (p + 42) for p in PAYLOADS)
        deadline = time.monotonic() + 5
        while True:
            t1 = tp.port_stats(nports=1)[0]
            if t1["rx"] - t0["rx"] >= want_n or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        tp.cmd("stop")
        t1 = tp.port_stats(nports=1)[0]
        v1 = port_stats(args.build, ctl)
        rx, rxb, rxe = t1["rx"] - t0["rx"], t1["rx_bytes"] - t0["rx_bytes"], t1["rx_errors"] - t0["rx_errors"]
        tx = v1["p0"]["tx_packets"] - v0["p0"]["tx_packets"]
        txb = v1["p0"]["tx_bytes"] - v0["p0"]["tx_bytes"]
        res.check("%s: vswd sent every frame to p0" % cfg, tx == want_n and txb == want_b,
                  "p0 tx %d frames %d bytes, want %d and %d" % (tx, txb, want_n, want_b))
        res.check("%s: testpmd received every frame whole" % cfg, rx == want_n and rxb == want_b and rxe == 0,
                  "testpmd RX %d frames %d bytes, %d errors; want %d and %d" % (rx, rxb, rxe, want_n, want_b))
        res.check("%s: no drops" % cfg, drops(v1["p0"]) == drops(v0["p0"]) and drops(v1["t0"]) == drops(v0["t0"]),
                  "p0 %s, t0 %s" % (v1["p0"].get("drops"), v1["t0"].get("drops")))
        res.check("%s: vswd still running" % cfg, vs.alive(), "vswd exited")
        with open(os.path.join(d, "vswd.log")) as f:
            bad = [ln.strip() for ln in f if "vswd warn:" in ln or "vswd error:" in ln]
        res.check("%s: vswd logged no warning or error" % cfg, not bad, " | ".join(bad[:5]))
    finally:
        try:
            if tp:
                tp.close()
        finally:
            if vs:
                vs.close()
            subprocess.run(["ip", "netns", "del", ns], timeout=10)


def main():
    return main_layouts("testpmd-jumbo", __doc__, CONFIGS, run_config)


if __name__ == "__main__":
    sys.exit(main())
