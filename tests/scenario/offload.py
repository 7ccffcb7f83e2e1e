#!/usr/bin/env python3
"""offload.py - scenario: containers with TSO/GSO left on (afpacket, afxdp), the host (tap), QEMU guests with offloads on and off.

Objective (issue 15, items 3 and 4): a container's stack hands vsw 64 KiB
TCP frames with partial checksums; vsw forwards them whole where the
destination takes them (afpacket to afpacket) and as finished segments
where it does not (afxdp, tap), and every receiver's stack counts no
checksum error:

    netns c1 (eth0 10.0.0.1, TSO/GSO on)  --veth--> vxc1T --(c1: afpacket)--+
    netns c2 (eth0 10.0.0.2, TSO/GSO on)  --veth--> vxc2T --(c2: afpacket)--+-- vswd
    netns c3 (eth0 10.0.0.3, TSO/GSO on)  --veth--> vxc3T --(c3: afxdp)-----+
    netns h  (vswt-hT 10.0.0.254)         --tap----------- (h0: tap)--------+
    QEMU vm    (10.0.0.10, offloads on: QEMU's default) --(vm: vhost-user)--+
    QEMU vmoff (10.0.0.11, csum=off,guest_csum=off,...)  --(vmoff: vhost-user)+

Steps:
  1. start vswd --foreground (2 workers) on its own control socket; make
     the three container namespaces and the host's (IPv6 off), no offload
     turned off anywhere; ethtool -k shows tcp-segmentation-offload on in
     c1 and c2;
  2. add c1, c2 (afpacket), c3 (afxdp; if refused: a failure, and c3 goes
     through afpacket so the rest still runs), h0 (tap, moved into netns h);
     c3's root-namespace veth end gets tx checksumming off, so the kernel
     sums in software what vswd asks it to complete (AF_XDP tx metadata)
     and c3's stack checks the result instead of trusting it;
  3. each pair pings once each way (3 echo requests, no loss);
  4. iperf3 TCP, one stream, 2 s, each way: c1 <-> c2 (frames whole),
     c1 <-> c3 and c2 <-> c3 (segmented for afxdp), c1 <-> host (segmented
     for the tap); each completes at MIN_MBPS or more;
  5. USO: c1 sends UDP with UDP_SEGMENT (32 datagrams of 1000 bytes per
     send) to c2 (whole), c3 (segmented by vsw for afxdp) and the host
     (whole through the tap where the kernel has USO, else segmented):
     each receiver gets at least half of the datagrams, every one of them
     1000 bytes with its pattern, and c1's port received the sends whole
     (average rx frame over 1514 bytes while they ran);
  5b. tunnels inside the containers (issue 15: "containers with TSO/GSO
     left on"): c1, c2 and c3 get the kernel's vxlan devices vx4 (over
     eth0's IPv4, outer UDP checksum on) and vx6 (over an IPv6 address on
     eth0, its outer UDP checksum the default), TSO on; their TSO frames
     reach vswd as a UDP tunnel's (the inner GSO type, csum_start at the
     inner TCP header), which no port takes whole, so vswd segments them
     for c2 (afpacket, inner sums left to the kernel) and c3 (afxdp, whose
     veth end sums in software for c3's stack to check, outer UDP sums
     too); iperf3 TCP 2 s each way c1 <-> c2 and c1 <-> c3 through each
     device, at MIN_MBPS or more;
  6. in every namespace `nstat -asz`: TcpInCsumErrors, UdpInCsumErrors
     and Udp6InCsumErrors are 0 (the checksums vsw completed are right); c3's port says the
     kernel completed checksums for it (AF_XDP tx metadata, N frames > 0:
     the frames c3 checked in this step went that way);
  7. `vswctl stats --json`: no bad_header nor bad_offload drop on any
     port; c1's and c2's ports received frames larger than an MTU (the
     average rx frame is over 1514 bytes: TSO frames came in whole);
  8. the guests (booted during steps 1-7): vm negotiated CSUM, GUEST_CSUM,
     HOST_TSO4/6, GUEST_TSO4/6 and the ECN bits, vmoff none of them;
     iperf3 TCP 2 s each way vm <-> c1 (TSO frames whole both ways),
     vmoff <-> c1 (c1's TSO frames segmented and completed for vmoff),
     vm <-> vmoff (vm's TSO frames segmented for vmoff), vm <-> host (tap);
     in each guest /proc/net/snmp's Tcp InCsumErrors and Udp InCsumErrors
     are 0 and the kernel log has no "bad gso"; then steps 6 and 7 again
     (nstat, no bad_header/bad_offload drop, on vm and vmoff too);
  9. cleanup: guests, vswd (SIGTERM, exit 0), namespaces, interfaces.

Each check prints PASS or FAIL; the last line is "offload: N passed, M
failed"; non-zero exit on any failure.  All waits are bounded; about 2
minutes here (TCG guests).

    python3 tests/scenario/offload.py --build build

Needs root, build/vswd, build/vswctl, ip, ethtool, busybox, iperf3, nstat,
QEMU and the guest image (scripts/guest/build-guest.sh).
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

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import containers as C  # noqa: E402  (its namespaces, veth pairs, vswd and iperf3 helpers)
import guest  # noqa: E402  (on the path containers.py set)

ENDPOINTS = ("c1", "c2", "c3", "h")
GUESTS = {"vm": ("10.0.0.10", "52:54:00:76:73:0a", ""),
          "vmoff": ("10.0.0.11", "52:54:00:76:73:0b",
                    ",csum=off,guest_csum=off,host_tso4=off,host_tso6=off,host_ecn=off,host_ufo=off,"
                    "guest_tso4=off,guest_tso6=off,guest_ecn=off,guest_ufo=off")}
OFFLOAD_BITS = {"CSUM": 0, "GUEST_CSUM": 1, "GUEST_TSO4": 7, "GUEST_TSO6": 8, "GUEST_ECN": 9,
                "HOST_TSO4": 11, "HOST_TSO6": 12, "HOST_ECN": 13}


def guest_csum_errors(g):
    """{"Tcp InCsumErrors": n, "Udp InCsumErrors": n} from the guest's /proc/net/snmp, or None."""
    rc, out = g.run("cat /proc/net/snmp", timeout=30)
    if rc != 0:
        return None
    res, heads = {}, {}
    for ln in out.splitlines():
        proto, _, rest = ln.partition(":")
        words = rest.split()
        if proto in heads:
            for k, v in zip(heads.pop(proto), words):
                if k == "InCsumErrors":
                    res[proto + " " + k] = int(v)
        elif words and not words[0].lstrip("-").isdigit():
            heads[proto] = words
    return res


USO_SENDS, USO_SEGS, USO_SIZE, USO_PORT = 200, 32, 1000, 5300
UDP_SEGMENT = 103       # linux/udp.h: a send cut into gso_size datagrams (USO)

USO_RECV = r"""
import json, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("0.0.0.0", %d))
s.settimeout(1.0)
print("ready", flush=True)
got = bad = 0
end = time.monotonic() + 20
while time.monotonic() < end:
    try:
        d = s.recv(65536)
    except socket.timeout:
        if got:
            break
        continue
    seq = int.from_bytes(d[:4], "big")
    if len(d) != %d or d[4:] != bytes([seq & 0xff]) * (len(d) - 4):
        bad += 1
    else:
        got += 1
print(json.dumps({"got": got, "bad": bad}), flush=True)
""" % (USO_PORT, USO_SIZE)

USO_SEND = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_UDP, %d, %d)
s.connect((sys.argv[1], %d))
for i in range(%d):
    buf = b"".join((i * %d + k).to_bytes(4, "big") + bytes([(i * %d + k) & 0xff]) * %d for k in range(%d))
    s.send(buf)
    time.sleep(0.002)
""" % (UDP_SEGMENT, USO_SIZE, USO_PORT, USO_SENDS, USO_SEGS, USO_SEGS, USO_SIZE - 4, USO_SEGS)


def uso(src, dst):
    """UDP_SEGMENT sends from netns src to dst; (received, bad, detail)."""
    rx = subprocess.Popen(["ip", "netns", "exec", C.NS[dst], sys.executable, "-c", USO_RECV],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if rx.stdout.readline().strip() != "ready":
            return None, None, "receiver did not start: " + rx.stderr.read()[:300]
        rc, out, err = C.run([sys.executable, "-c", USO_SEND, C.IP[dst]], timeout=60, ns=C.NS[src])
        if rc != 0:
            return None, None, "sender rc %d: %s" % (rc, err.strip()[-300:])
        out, err = rx.communicate(timeout=40)
    finally:
        if rx.poll() is None:
            rx.kill()
            rx.wait(5)
    try:
        res = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None, None, "receiver: %s %s" % (out[:200], err[:300])
    return res["got"], res["bad"], "%d of %d datagrams, %d bad" % (res["got"], USO_SENDS * USO_SEGS, res["bad"])


def iperf3_guest_ns(g, ns_name, reverse):
    """containers.iperf3 (server in the guest, client in netns ns_name) for guest g."""
    return C.iperf3(g, ns_name, reverse, seconds=2)


def nstat_errors(name):
    """{counter: value} of the checksum error counters in netns NS[name], or None."""
    rc, out, err = C.run(["nstat", "-asz", "TcpInCsumErrors", "UdpInCsumErrors", "Udp6InCsumErrors"], ns=C.NS[name])
    if rc != 0:
        return None
    vals = {}
    for ln in out.splitlines():
        m = re.match(r"(\w+)\s+(\d+)", ln)
        if m:
            vals[m.group(1)] = int(m.group(2))
    return vals


TUNNELS = (("vx4", 42, "udpcsum"), ("vx6", 43, ""))   # the kernel's vxlan devices in c1, c2, c3 (step 5b)
TUN_IN = {"vx4": "10.5.0.%d", "vx6": "fd00:6::%d"}       # inner addresses, by container number
TUN_OUT6 = "fd00:5::%d"                                  # vx6's underlay: eth0's IPv6 address


def tunnels(rates):
    """Step 5b: TCP through the kernel's vxlan devices inside the containers (their TSO frames come in as a UDP
    tunnel's, to be segmented by vswd for every destination)."""
    for n in ("c1", "c2", "c3"):
        i = int(n[1])
        ns = C.NS[n]
        C.must(["sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=0"], ns=ns)
        C.must(["ip", "addr", "add", TUN_OUT6 % i + "/64", "dev", "eth0", "nodad"], ns=ns)
        for dev, vni, opt in TUNNELS:
            group = ["local", C.IP[n]] if dev == "vx4" else ["local", TUN_OUT6 % i]
            C.must(["ip", "link", "add", dev, "type", "vxlan", "id", str(vni), "dstport", "4789", "nolearning"] +
                   group + ([opt] if opt else []), ns=ns)
            C.must(["ip", "link", "set", dev, "address", "02:76:73:%02x:00:%02x" % (vni, i)], ns=ns)
            C.must(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=0" % dev], ns=ns)
            C.must(["ip", "link", "set", dev, "up"], ns=ns)
            C.must(["ip", "addr", "add", TUN_IN[dev] % i + ("/64" if dev == "vx6" else "/24"), "dev", dev] +
                   (["nodad"] if dev == "vx6" else []), ns=ns)
            for m in ("c1", "c2", "c3"):
                if m == n:
                    continue
                j = int(m[1])
                remote = C.IP[m] if dev == "vx4" else TUN_OUT6 % j
                C.must(["bridge", "fdb", "append", "00:00:00:00:00:00", "dev", dev, "dst", remote], ns=ns)
        rc, out, _ = C.run(["ethtool", "-k", "vx6"], ns=ns)
        if n == "c1":
            C.check(rc == 0 and "tcp-segmentation-offload: on" in out, "c1: TSO on in its vxlan device vx6",
                    "" if "tcp-segmentation-offload: on" in out else out[:300])
    for dev, _, opt in TUNNELS:
        for server, client in (("c2", "c1"), ("c3", "c1")):
            for reverse in (False, True):
                a, b = (server, client) if reverse else (client, server)
                what = "iperf3 TCP %s -> %s through their %s (vxlan over IPv%s, outer UDP sum)" % (a, b, dev, dev[2])
                ok, mbps, detail = C.iperf3_ns(server, client, reverse, streams=1, seconds=2,
                                               addr=TUN_IN[dev] % int(server[1]))
                rates[what] = mbps
                C.check(ok, what, detail)


def guest_part(guests, rates):
    """Step 7: negotiated bits, TCP each way through whole, segmented and completed paths, no bad sums."""
    vm, vmoff = guests.get("vm"), guests.get("vmoff")
    if not vm or not vmoff:
        C.check(False, "both guests attached", str(list(guests)))
        return
    for g, want in ((vm, True), (vmoff, False)):
        f = g.features()
        have = {k: bool(f >> b & 1) for k, b in OFFLOAD_BITS.items()}
        C.check(all(v == want for v in have.values()), "%s: offload bits %s" % (g.name, "all acked" if want else "none"),
                "features 0x%x: %s" % (f, have))
    for g in (vm, vmoff):
        for reverse in (False, True):
            what = "iperf3 TCP %s -> %s" % ((g.name, "c1") if reverse else ("c1", g.name))
            ok, mbps, retr, detail = iperf3_guest_ns(g, "c1", reverse)
            rates[what] = mbps
            C.check(ok, what, "%.1f Mbit/s" % mbps if ok else detail)
    for a, b in ((vm, vmoff), (vmoff, vm)):
        r = guest.iperf3(a, b, seconds=2)
        what = "iperf3 TCP %s -> %s" % (a.name, b.name)
        rates[what] = r["receiver_mbps"]
        C.check(r["rc"] == 0 and (r["receiver_mbps"] or 0) >= C.MIN_MBPS, what, "%s Mbit/s" % r["receiver_mbps"])
    for reverse in (False, True):
        what = "iperf3 TCP %s -> %s" % (("vm", "h") if reverse else ("h", "vm"))
        ok, mbps, retr, detail = iperf3_guest_ns(vm, "h", reverse)
        rates[what] = mbps
        C.check(ok, what, "%.1f Mbit/s" % mbps if ok else detail)
    for g in (vm, vmoff):
        errs = guest_csum_errors(g)
        C.check(errs is not None and errs.get("Tcp InCsumErrors", -1) == 0 and errs.get("Udp InCsumErrors", -1) == 0,
                "%s: /proc/net/snmp shows no checksum errors" % g.name, str(errs))
        rc, out = g.run("dmesg | grep -ci 'bad gso'", timeout=30)
        C.check(out.strip() == "0", "%s: no \"bad gso\" in the kernel log" % g.name, out.strip())


def scenario(build, wd, state):
    sw = state["sw"] = C.Vswd(build, wd)
    C.note("vswd started (pid %d)" % sw.proc.pid)
    guests = state["guests"] = {}
    for name, (ip, mac, opts) in GUESTS.items():
        sock = os.path.join(wd, name + ".sock")
        rc, out, err = sw.ctl_run("port", "add", name, "vhost-user", "path=" + sock)
        if C.check(rc == 0, "port add %s vhost-user" % name, (err or out).strip()):
            guests[name] = guest.Guest(name, sock, ip + "/24", mac, ipv6=False, workdir=wd, device_opts=opts)
    for n in ("c1", "c2", "c3"):
        C.make_container(n, [])
    C.quiet_ns(C.NS["h"])
    for n in ("c1", "c2"):
        rc, out, _ = C.run(["ethtool", "-k", "eth0"], ns=C.NS[n])
        C.check(rc == 0 and "tcp-segmentation-offload: on" in out, "%s: TSO on in its eth0" % n,
                "" if "tcp-segmentation-offload: on" in out else out[:300])

    for n in ("c1", "c2"):
        rc, out, err = sw.ctl_run("port", "add", n, "afpacket", "ifname=" + C.VETH[n])
        C.check(rc == 0, "port add %s afpacket ifname=%s" % (n, C.VETH[n]), (err or out).strip())
    C.add_afxdp(sw, "c3")
    # c3's root-namespace end computes checksums in software: what vswd asked the kernel to complete
    # (AF_XDP tx metadata: csum_start, csum_offset, the seed in the field) is summed there by those
    # offsets, and c3's stack, which gets the frames as finished ones, verifies them (InCsumErrors).
    rc, out, err = C.run(["ethtool", "-K", C.VETH["c3"], "tx", "off"])
    C.check(rc == 0, "ethtool -K %s tx off (checksums it sends summed by the kernel, checked by c3)" % C.VETH["c3"],
            (err or out).strip())
    rc, out, err = sw.ctl_run("port", "add", "h0", "tap", "ifname=" + C.TAP)
    if C.check(rc == 0, "port add h0 tap ifname=%s" % C.TAP, (err or out).strip()):
        C.must(["ip", "link", "set", C.TAP, "netns", C.NS["h"]])
        C.must(["ip", "link", "set", C.TAP, "address", C.MAC["h"]], ns=C.NS["h"])
        C.must(["ip", "addr", "add", C.IP["h"] + "/24", "dev", C.TAP], ns=C.NS["h"])
        C.must(["ip", "link", "set", C.TAP, "up"], ns=C.NS["h"])

    for a, b in (("c1", "c2"), ("c1", "c3"), ("c2", "c3"), ("h", "c1")):
        for src, dst in ((a, b), (b, a)):
            st = C.ns_ping(src, C.IP[dst])
            C.check(st["transmitted"] == C.PING_COUNT and st["received"] == C.PING_COUNT,
                    "ping %s -> %s" % (src, dst), "%d/%d" % (st["received"], st["transmitted"]))

    rates = state["rates"] = {}
    for server, client in (("c2", "c1"), ("c3", "c1"), ("c3", "c2"), ("h", "c1")):
        for reverse in (False, True):
            what = "iperf3 TCP %s -> %s" % ((server, client) if reverse else (client, server))
            ok, mbps, detail = C.iperf3_ns(server, client, reverse, streams=1, seconds=2)
            rates[what] = mbps
            C.check(ok, what, detail)

    before = {p["name"]: p for p in sw.call("stats")["ports"]}["c1"]
    for dst in ("c2", "c3", "h"):
        got, bad, detail = uso("c1", dst)
        C.check(got is not None and got * 2 >= USO_SENDS * USO_SEGS and bad == 0,
                "USO c1 -> %s: datagrams whole and intact" % dst, detail)
    after = {p["name"]: p for p in sw.call("stats")["ports"]}["c1"]
    d_pk, d_by = after["rx_packets"] - before["rx_packets"], after["rx_bytes"] - before["rx_bytes"]
    C.check(d_pk and d_by / d_pk > 1514, "stats: port c1 received the UDP_SEGMENT sends whole",
            "%d frames, %.0f bytes each" % (d_pk, d_by / max(1, d_pk)))

    tunnels(rates)

    for n in ENDPOINTS:
        errs = nstat_errors(n)
        C.check(errs is not None and errs.get("TcpInCsumErrors", -1) == 0 and errs.get("UdpInCsumErrors", -1) == 0
                and errs.get("Udp6InCsumErrors", -1) == 0,
                "nstat in %s: no TcpInCsumErrors, no UdpInCsumErrors, no Udp6InCsumErrors" % n, str(errs))

    # The kernel finished c3's partial checksums (AF_XDP tx metadata) and nstat above saw them right.
    show = sw.call("show")
    state_c3 = {p["name"]: p.get("state", "") for p in show.get("ports", [])}.get("c3", "")
    m = re.search(r"tx checksum by the kernel \((\d+) frames\)", state_c3)
    C.check(m is not None and int(m.group(1)) > 0,
            "show: c3's afxdp port had the kernel complete its frames' checksums (tx metadata)", state_c3)

    for name, g in guests.items():
        g.wait_ready(180)
    guest_part(guests, rates)
    for n in ENDPOINTS:
        errs = nstat_errors(n)
        C.check(errs is not None and errs.get("TcpInCsumErrors", -1) == 0 and errs.get("UdpInCsumErrors", -1) == 0,
                "nstat in %s after the guests' traffic: no checksum errors" % n, str(errs))

    stats = {p["name"]: p for p in sw.call("stats")["ports"]}
    for n in ("c1", "c2", "c3", "h0") + tuple(guests):
        p = stats.get(n, {})
        bad = {k: v for k, v in p.get("drops", {}).items() if v and k in ("bad_header", "bad_offload")}
        bad.update({"offload_bad." + k: v for k, v in p.get("offload_bad", {}).items() if v})
        C.check(not bad, "stats: port %s dropped nothing as bad_header or bad_offload" % n, str(bad) if bad else "")
    for n in ("c1", "c2"):
        p = stats.get(n, {})
        avg = p.get("rx_bytes", 0) / max(1, p.get("rx_packets", 0))
        C.check(avg > 1514, "stats: port %s received TSO frames whole" % n, "average rx frame %.0f bytes" % avg)
    C.check(sw.proc.poll() is None, "vswd alive after the traffic")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(C.REPO, "build"))
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, C.on_signal)
    missing = [t for t in ("ip", "ss", "ethtool", "busybox", "iperf3", "nstat", guest.QEMU) if not shutil.which(t)]
    missing += [p for p in (os.path.join(build, "vswd"), os.path.join(build, "vswctl")) if not os.path.exists(p)]
    if os.geteuid() != 0 or missing:
        C.check(False, "prerequisites", "needs root" if os.geteuid() else "missing: %s" % ", ".join(missing))
        print("offload: %d passed, %d failed" % (C.PASSED, C.FAILED))
        sys.exit(1)
    guest.ensure_built()
    wd = tempfile.mkdtemp(prefix="vsw-offload-")
    state = {}
    try:
        scenario(build, wd, state)
    except C.Terminated as e:
        C.check(False, "ran to the end", "interrupted by %s" % e)
    except Exception as e:
        C.check(False, "ran to the end", "%s: %s" % (type(e).__name__, e))
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        for g in state.get("guests", {}).values():
            g.stop()
        if state.get("sw"):
            rc = state["sw"].stop()
            C.check(rc == 0, "vswd exits 0 on SIGTERM", "exit code %s; log %s" % (rc, state["sw"].log_path))
        left = C.cleanup_net()
        C.check(not left, "cleanup: no netns, veth or tap of the test left", ", ".join(left))
    for what, mbps in state.get("rates", {}).items():
        print("     rate: %-28s %s" % (what, "%.1f Mbit/s" % mbps if mbps else "-"))
    if C.FAILED:
        print("     logs kept in %s" % wd)
    else:
        shutil.rmtree(wd, ignore_errors=True)
    print("offload: %d passed, %d failed" % (C.PASSED, C.FAILED), flush=True)
    sys.exit(1 if C.FAILED else 0)


if __name__ == "__main__":
    main()
