#!/usr/bin/env python3
"""vxlan_guest.py - scenario: QEMU guests behind vsw, across a VXLAN tunnel to a container behind the kernel's vxlan.

Objective (issue 16, item 5: "a container or guest behind each"; item 4:
"offloaded TCP crosses the tunnel segmented once"; issue 15, item 3):
vxlan.py puts containers behind vsw; here the inner frames come from and
go to Linux guests through vhost-user, with the virtio-net offloads a
guest negotiates (vm: QEMU's defaults, CSUM, GUEST_CSUM, HOST/GUEST_TSO4/6)
and without them (vmoff: every offload off):

    QEMU vm    (10.77.0.20) --vhost-user--+
    QEMU vmoff (10.77.0.21) --vhost-user--+-- vswd (netns hA) --(vxlan t0)-- uA ==underlay== uB -- hB: vx0 -- br0 -- cB (10.77.0.2)

  - vm -> cB: the guest's 64 KiB TSO frames are cut once, at t0 (UDP GSO
    payloads with csum=on, datagrams with csum=off);
  - cB -> vm: the kernel's datagrams are merged back into TSO frames at
    t0 (the consecutive datagrams of one receive burst) and reach vm
    whole, with a virtio-net header vm's driver takes;
  - cB -> vmoff: the same merged frames, cut and completed again for a
    guest that accepted no offload (vsw's egress fallback).

Steps:
  1. vxlan.py's namespaces and underlay (tx checksum offload off on uB:
     the kernel's inner checksums finished on the wire); vswd in hA with
     vhost-user ports vm and vmoff; the two guests boot (TCG) and their
     eth0 take the inner MTU (1430);
  2. for outer checksums on and off: the kernel's vx0 into br0, t0 with
     the same csum=; then
       - each guest pings cB (3 echo requests, no loss);
       - iperf3 TCP 2 s each way between cB and each guest, at least
         containers.py's MIN_MBPS;
       - t0 merged received datagrams into TSO frames (`stats` "tunnel":
         gro_merged grew): vm's port sent frames larger than an MTU on
         average while cB sent to it, vmoff's port at most 1514 bytes a
         frame on average;
       - with csum=on, vm's TCP to cB left t0 as UDP GSO payloads of
         several datagrams (`stats` "tunnel": gso_sends and gso_segments
         grew while vm sent);
     then t0 and vx0 deleted;
  3. in each guest /proc/net/snmp's Tcp and Udp InCsumErrors are 0 and
     the kernel log has no "bad gso"; cB's nstat the same; no port of
     vswd counted a bad_header or bad_offload drop;
  4. cleanup: guests, vswd (SIGTERM, exit 0), namespaces.

Each check prints PASS or FAIL (nothing is skipped); the last line is
"vxlan_guest: N passed, M failed"; the exit code is non-zero on any
failure.  Every wait is bounded; a run takes about 2 minutes here (TCG
guests).

    python3 tests/scenario/vxlan_guest.py --build build [--packed] [--no-mrg] [--keep]

Needs root, build/vswd, build/vswctl, build/guest (scripts/guest), QEMU,
ip, ethtool, busybox, iperf3, nstat.
"""

import argparse
import os
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from netns_lib import Terminated, check, finish, must, needs, note, on_signal, port_stat, run  # noqa: E402
import vxlan  # noqa: E402  (its namespaces, underlay, kernel VTEP and vswd)
import offload  # noqa: E402  (its guests' offload options and checksum counters)
import containers  # noqa: E402  (iperf3 between a guest and a namespace)
from guest_lib import guest  # noqa: E402
from vxlan import NS, UL4, IN4, VNI, INNER_MTU  # noqa: E402

GUESTS = {"vm": ("10.77.0.20", "52:54:00:77:78:14"), "vmoff": ("10.77.0.21", "52:54:00:77:78:15")}


def tx_avg(sw, name):
    """(tx_packets, tx_bytes) of port @name."""
    st = port_stat(sw, name)
    return st.get("tx_packets", 0), st.get("tx_bytes", 0)


def one_case(sw, guests, csum):
    what = "csum %s" % ("on" if csum else "off")
    note(what)
    vxlan.kernel_vxlan(False, csum)
    rc, out, err = sw.ctl_run("port", "add", "t0", "vxlan", "local=" + UL4["A"], "remote=" + UL4["B"],
                              "vni=%d" % VNI, "csum=" + ("on" if csum else "off"))
    if not check(rc == 0, "%s: port add t0 vxlan" % what, (out + err).strip()):
        must(["ip", "link", "del", "vx0"], ns=NS["hB"])
        return
    for g in guests.values():
        loss = guest.ping(g, IN4["cB"], count=3)
        check(loss == 0.0, "%s: %s pings cB across the tunnel (%.0f %% lost)" % (what, g.name, loss))
    merged0 = port_stat(sw, "t0").get("tunnel", {}).get("gro_merged", 0)
    for g in guests.values():
        for reverse in (True, False):
            before, tun0 = tx_avg(sw, g.name), port_stat(sw, "t0").get("tunnel", {})
            ok, mbps, _, detail = containers.iperf3(g, None, reverse, seconds=2, ns=NS["cB"])
            after, tun1 = tx_avg(sw, g.name), port_stat(sw, "t0").get("tunnel", {})
            check(ok, "%s: iperf3 TCP %s (%.0f Mbit/s)" % (what, "%s -> cB" % g.name if reverse else
                                                           "cB -> %s" % g.name, mbps or 0), detail)
            if reverse:
                if g.name == "vm" and csum:
                    sends = tun1.get("gso_sends", 0) - tun0.get("gso_sends", 0)
                    segs = tun1.get("gso_segments", 0) - tun0.get("gso_segments", 0)
                    check(sends > 0 and segs > 2 * sends, "%s: vm's TSO frames left t0 as UDP GSO payloads "
                          "(%d payloads, %d datagrams)" % (what, sends, segs), tun1)
                continue
            pkts, nbytes = after[0] - before[0], after[1] - before[1]
            avg = nbytes / pkts if pkts else 0
            if g.name == "vm":
                check(avg > 1514, "%s: cB's TCP reached vm as TSO frames (%.0f bytes a frame on average)"
                      % (what, avg), "%d frames, %d bytes" % (pkts, nbytes))
            else:
                check(0 < avg <= 1514, "%s: cB's TCP reached vmoff cut to its MTU (%.0f bytes a frame on average)"
                      % (what, avg), "%d frames, %d bytes" % (pkts, nbytes))
    tun = port_stat(sw, "t0").get("tunnel", {})
    check(tun.get("gro_merged", 0) > merged0, "%s: t0 merged received datagrams into TSO frames (%d)"
          % (what, tun.get("gro_merged", 0) - merged0), tun)
    must([sw.vswctl, "--ctl", sw.ctl, "port", "del", "t0"])
    must(["ip", "link", "del", "vx0"], ns=NS["hB"])


def scenario(build, wd, state):
    vxlan.setup_net()
    sw = state["sw"] = vxlan.Vswd(build, wd, NS["hA"])
    guests = state["guests"] = {}
    opts = {"vm": offload.GUESTS["vm"][2], "vmoff": offload.GUESTS["vmoff"][2]}
    for name, (ip, mac) in GUESTS.items():
        sock = os.path.join(wd, name + ".sock")
        rc, out, err = sw.ctl_run("port", "add", name, "vhost-user", "path=" + sock)
        if check(rc == 0, "port add %s vhost-user" % name, (err or out).strip()):
            guests[name] = guest.Guest(name, sock, ip + "/24", mac, ipv6=False, workdir=wd, device_opts=opts[name],
                                       packed=state["packed"], mrg_rxbuf=state["mrg"])
    for g in guests.values():
        g.wait_ready()
        rc, out = g.run("ip link set eth0 mtu %d" % INNER_MTU, timeout=30)
        check(rc == 0, "%s booted (%.0f s), eth0 mtu %d" % (g.name, g.boot_s or 0, INNER_MTU), out.strip())
    if len(guests) != len(GUESTS):
        return
    for csum in (True, False):
        one_case(sw, guests, csum)
    for g in guests.values():
        errs = offload.guest_csum_errors(g)
        check(errs is not None and errs.get("Tcp InCsumErrors", -1) == 0 and errs.get("Udp InCsumErrors", -1) == 0,
              "%s: /proc/net/snmp shows no checksum errors" % g.name, str(errs))
        rc, out = g.run("dmesg | grep -ci 'bad gso'", timeout=30)
        check(out.strip() == "0", "%s: no \"bad gso\" in the kernel log" % g.name, out.strip())
    rc, out, _ = run(["nstat", "-asz", "TcpInCsumErrors", "UdpInCsumErrors"], ns=NS["cB"])
    bad = [ln for ln in out.splitlines() if ln.split()[:1] in (["TcpInCsumErrors"], ["UdpInCsumErrors"]) and
           ln.split()[1] != "0"]
    check(rc == 0 and not bad, "cB: no checksum errors (nstat)", out.strip())
    drops = {p["name"]: {k: v for k, v in p.get("drops", {}).items() if v and k in ("bad_header", "bad_offload")}
             for p in sw.call("stats").get("ports", [])}
    check(not any(drops.values()), "no port counted a bad_header or bad_offload drop", drops)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, consoles)")
    ap.add_argument("--packed", action="store_true", help="the guests' rings packed (default split)")
    ap.add_argument("--no-mrg", action="store_true", help="the guests without mergeable receive buffers")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    if not needs("vxlan_guest", ("ip", "ethtool", "busybox", "iperf3", "nstat", guest.QEMU)):
        return 1
    guest.ensure_built()
    wd = tempfile.mkdtemp(prefix="vsw-vxlan-guest-")
    state = {"packed": args.packed, "mrg": not args.no_mrg}
    try:
        scenario(build, wd, state)
    except (RuntimeError, guest.GuestError, Terminated) as e:
        check(False, "scenario ran to its end", e)
    finally:
        rc = finish("vxlan_guest", wd, args.keep, state.get("sw"), vxlan.cleanup_net,
                    list(state.get("guests", {}).values()))
    return rc


if __name__ == "__main__":
    sys.exit(main())
