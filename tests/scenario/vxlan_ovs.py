#!/usr/bin/env python3
"""vxlan_ovs.py - scenario: vsw's vxlan port against Open vSwitch's userspace VXLAN, across two "hosts".

Objective (issue 16, item 5: "Everything must interoperate with any VTEP
that follows RFC 7348, not only with the ones tested"): vxlan.py puts
vsw beside the Linux kernel's vxlan device; this puts it beside a second
VTEP written by other people, Open vSwitch 3.1's userspace datapath
(lib/netdev-native-tnl.c: its own VXLAN framing, its own outer checksums,
its own neighbour resolution), set up as its "Userspace Tunneling" how-to
(Documentation/howto/userspace-tunneling.rst) says:

    netns cA (eth0 10.77.0.1)                        netns cB (eth0 10.77.0.2)
        | veth                                           | veth
    netns hA: vA --(afpacket a)-- vswd --(vxlan t0)    netns hB: vB -- br-int (OVS, netdev) -- vx0 (OVS vxlan)
        uA 192.168.77.1 / fd77::1  ====== veth underlay ======  uB -- br-phy (OVS) 192.168.77.2 / fd77::2

Steps:
  1. namespaces and veths; tx checksum offload off on uA (vsw's UDP GSO
     payloads are cut before they reach uB, as a NIC cuts them: OVS reads
     uB through AF_PACKET and would get one 64 KiB datagram) and on cB's
     eth0 (OVS 3.1's userspace datapath reads a veth without virtio-net
     headers and never completes a partial checksum: cB's SYN-ACKs would
     reach cA with only the pseudo header's sum; Open vSwitch's own
     system tests turn a veth's offloads off for that datapath:
     CONFIGURE_VETH_OFFLOADS in tests/system-userspace-macros.at); vswd in
     hA with port a; ovsdb-server and ovs-vswitchd --disable-system in hB
     (its version printed), bridges br-int (vB as port 1) and br-phy (uB,
     the underlay addresses on br-phy's tap); OVS's route table holds the
     underlay; hA's addresses and MAC put in OVS's tunnel neighbour cache
     (`tnl/neigh/set`: OVS 3.1 learns a neighbour only from a reply to its
     own request and drops the packet that asked, so the first ARP reply
     of each underlay would be lost and its ping wait a second for the
     retry);
  2. for each underlay (IPv4, IPv6) and outer checksums (vsw csum=on with
     OVS options:csum=false, then vsw off and OVS on): t0 and OVS's vx0
     (port 3, options:key=VNI); tcpdump on uB;
       - ping cA -> cB and cB -> cA (3 each; the first ARP floods both
         ways through the tunnel);
       - iperf3 TCP cA -> cB and back, 2 s each, bytes received;
       - cA's and cB's TcpInCsumErrors did not grow (nstat -a);
       - tshark: VXLAN both ways, every datagram VNI VNI with flags
         0x0800 (tshark's first 16 bits: the I flag alone, RFC 7348
         section 5); vsw's outer UDP checksums right (tshark) with
         csum=on, zero with off; OVS's likewise per its option over IPv4
         (over IPv6 Open vSwitch before 3.4 sets them whatever csum says,
         its netdev-native-tnl.c sums every IPv6 datagram: there each is
         zero or right), and vsw took them;
       - vsw learned cB's MAC on t0, OVS cA's on vx0 (`fdb/show`);
       - no drops on t0;
  3. VNI mismatch: OVS's vx0 in VNI+1: pings go unanswered both ways,
     t0 counts OVS's datagrams (cB's ARP requests) as bad_header and
     names "rx vni" in its state;
  4. another UDP port: t0 dstport=4790, OVS options:dst_port=4790: ping
     both ways;
  5. many VNIs on one port: t0 vni=flow against OVS options:key=flow, two
     tenants (cA, cB in VNI 100; cA2, cB2 in VNI 200, all four in one
     subnet), each side's flows mapping ports to VNIs (set_tunnel, tun_id):
     each tenant's pings cross, cA gets nothing from cB2; tshark sees VNI
     100 and 200 from both VTEPs;
  6. cleanup: vswd exits 0, Open vSwitch stopped, no namespace left.

Each check prints PASS or FAIL (nothing is skipped); the last line is
"vxlan_ovs: N passed, M failed"; the exit code is non-zero on any
failure.  Every wait is bounded; a run takes about a minute.

    python3 tests/scenario/vxlan_ovs.py --build build [--keep]

Needs root, build/vswd, build/vswctl, ip, ethtool, busybox (ping), iperf3,
nstat, tcpdump, tshark, ovsdb-server, ovs-vswitchd, ovs-vsctl, ovs-ofctl.
"""

import argparse
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from netns_lib import (OvsDaemons, Terminated, check, finish, must, needs, note, on_signal, port_stat,  # noqa: E402
                       port_state, run)
import vxlan  # noqa: E402  (its namespaces, containers, vswd, pings, iperf3 and captures)
from vxlan import NS, UL4, UL6, IN4, MAC, VNI  # noqa: E402

# Step 5's second tenant: cA2 on hA (vxlan.py's), cB2 on hB.
NS["cB2"] = NS["cA2"].replace("cA2", "cB2")
IN4["cA2"], IN4["cB2"] = "10.77.0.4", "10.77.0.5"
MAC["cB2"] = "02:77:78:00:00:0f"
USED = ("hA", "hB", "cA", "cB", "cA2", "cB2")
TENANT = {"cA": 100, "cA2": 200}
VX0_PORT, VB_PORT, VB2_PORT = 3, 1, 2    # OVS's OpenFlow port numbers on br-int


def setup_net():
    for h in USED:
        must(["ip", "netns", "add", NS[h]])
        must(["ip", "link", "set", "lo", "up"], ns=NS[h])
    for c, h, v in (("cA", "hA", "vA"), ("cB", "hB", "vB")):
        vxlan.container(c, h, v)
    must(["ethtool", "-K", "eth0", "tx", "off"], ns=NS["cB"])
    must(["ip", "link", "add", "uA", "netns", NS["hA"], "type", "veth", "peer", "name", "uB", "netns", NS["hB"]])
    must(["ip", "addr", "add", UL4["A"] + "/24", "dev", "uA"], ns=NS["hA"])
    must(["ip", "addr", "add", UL6["A"] + "/64", "dev", "uA", "nodad"], ns=NS["hA"])
    must(["ethtool", "-K", "uA", "tx", "off"], ns=NS["hA"])
    must(["ip", "link", "set", "uA", "up"], ns=NS["hA"])
    must(["ip", "link", "set", "uB", "up"], ns=NS["hB"])


def start_ovs(ovs):
    """Open vSwitch in hB as its userspace-tunneling how-to has it: br-int with the container, br-phy with the
    underlay port and the underlay addresses on br-phy itself."""
    ovs.start()
    note(ovs.sh(["ovs-vswitchd", "--version"]).splitlines()[0])
    ub_mac = must(["cat", "/sys/class/net/uB/address"], ns=NS["hB"]).strip()
    ovs.vsctl("add-br", "br-int", "--", "set", "bridge", "br-int", "datapath_type=netdev")
    ovs.vsctl("add-port", "br-int", "vB", "--", "set", "Interface", "vB", "ofport_request=%d" % VB_PORT)
    ovs.vsctl("add-br", "br-phy", "--", "set", "bridge", "br-phy", "datapath_type=netdev",
              "other_config:hwaddr=" + ub_mac)
    ovs.vsctl("add-port", "br-phy", "uB")
    must(["ip", "addr", "add", UL4["B"] + "/24", "dev", "br-phy"], ns=NS["hB"])
    must(["ip", "addr", "add", UL6["B"] + "/64", "dev", "br-phy", "nodad"], ns=NS["hB"])
    must(["ip", "link", "set", "br-phy", "up"], ns=NS["hB"])
    routes = ""
    for _ in range(100):    # OVS copies the kernel's routes from netlink: a moment after the address
        routes = ovs.appctl("ovs/route/show")
        if "192.168.77.0/24 dev br-phy" in routes and "fd77::/64 dev br-phy" in routes:
            break
        time.sleep(0.05)
    check("192.168.77.0/24 dev br-phy" in routes and "fd77::/64 dev br-phy" in routes,
          "Open vSwitch's route table has both underlays on br-phy", routes)
    ua_mac = must(["cat", "/sys/class/net/uA/address"], ns=NS["hA"]).strip()
    for ip in (UL4["A"], UL6["A"]):
        ovs.appctl("tnl/neigh/set", "br-phy", ip, ua_mac)


def ovs_vx0(ovs, v6, csum=False, key=str(VNI), extra=()):
    ul = UL6 if v6 else UL4
    ovs.vsctl("add-port", "br-int", "vx0", "--", "set", "Interface", "vx0", "type=vxlan",
              "ofport_request=%d" % VX0_PORT, "options:remote_ip=" + ul["A"], "options:key=" + key,
              "options:csum=" + ("true" if csum else "false"), *extra)


def tcp_csum_errors(c):
    """TcpInCsumErrors of container @c since its namespace was made (nstat -a: no history file, which is one per
    user, not per namespace), or -1."""
    rc, out, _ = run(["nstat", "-asz", "TcpInCsumErrors"], ns=NS[c])
    for ln in out.splitlines():
        f = ln.split()
        if f and f[0] == "TcpInCsumErrors" and len(f) > 1 and f[1].isdigit():
            return int(f[1])
    return -1


def vxlan_flags(cap, dport=4789):
    """The VXLAN flags field of every datagram of capture @cap, as tshark reads them."""
    rc, out, err = run(["tshark", "-r", cap.path, "-d", "udp.port==%d,vxlan" % dport, "-Y", "vxlan", "-T", "fields",
                        "-e", "vxlan.flags"], timeout=60)
    return [ln.strip() for ln in out.splitlines() if ln.strip()], err if rc else ""


def one_case(sw, ovs, wd, v6, vsw_csum):
    ul = UL6 if v6 else UL4
    ovs_csum = not vsw_csum
    what = "%s underlay, vsw csum %s, OVS csum %s" % ("IPv6" if v6 else "IPv4", "on" if vsw_csum else "off",
                                                      "on" if ovs_csum else "off")
    note(what)
    ovs_vx0(ovs, v6, ovs_csum)
    rc, out, err = sw.ctl_run("port", "add", "t0", "vxlan", "local=" + ul["A"], "remote=" + ul["B"],
                              "vni=%d" % VNI, "csum=" + ("on" if vsw_csum else "off"))
    if not check(rc == 0, "%s: port add t0 vxlan" % what, (out + err).strip()):
        ovs.vsctl("del-port", "br-int", "vx0")
        return
    errs0 = {}
    for c in ("cA", "cB"):
        run(["ip", "neigh", "flush", "all"], ns=NS[c])
        errs0[c] = tcp_csum_errors(c)
    cap = vxlan.Capture(wd, "ovs-%s-%s" % ("6" if v6 else "4", "on" if vsw_csum else "off"))
    got, detail = vxlan.ping("cA", IN4["cB"])
    check(got == 3, "%s: ping cA -> cB (%d/3)" % (what, got), detail if got != 3 else "")
    got, detail = vxlan.ping("cB", IN4["cA"])
    check(got == 3, "%s: ping cB -> cA (%d/3)" % (what, got), detail if got != 3 else "")
    for rev in (False, True):
        nbytes, bps, detail = vxlan.iperf(rev)
        check(nbytes > 0, "%s: iperf3 TCP %s (%.0f Mbit/s)" % (what, "cB -> cA" if rev else "cA -> cB", bps / 1e6),
              detail or port_stat(sw, "t0"))
    errs = {c: tcp_csum_errors(c) for c in ("cA", "cB")}
    check(min(errs0.values()) >= 0 and errs == errs0, "%s: no new TCP checksum errors in cA or cB (nstat)" % what,
          "before %s, after %s" % (errs0, errs))
    cap.stop()
    rows, terr = cap.fields(v6)
    from_vsw = [r for r in rows if r["src"] == ul["A"]]
    from_ovs = [r for r in rows if r["src"] == ul["B"]]
    check(from_vsw and from_ovs, "%s: tshark decodes VXLAN both ways (%d from vsw, %d from OVS)"
          % (what, len(from_vsw), len(from_ovs)), terr)
    bad_vni = [r for r in rows if r["vni"] != VNI]
    flags, ferr = vxlan_flags(cap)
    check(rows and not bad_vni and flags and set(flags) == {"0x0800"},
          "%s: every VXLAN datagram has VNI %d and the I flag alone" % (what, VNI),
          (bad_vni[:3], sorted(set(flags)), ferr))

    def right(r, on):
        # tshark's udp.checksum.status: 1 good (2: not verified, as for a zero checksum)
        return r["csum"] != 0 and r["status"] == "1" if on else r["csum"] == 0

    check(from_vsw and all(right(r, vsw_csum) for r in from_vsw),
          "%s: vsw's outer UDP checksums are %s" % (what, "set and right (tshark)" if vsw_csum else "zero"),
          [r for r in from_vsw if not right(r, vsw_csum)][:3])
    # Over IPv6, Open vSwitch 3.1 checksums its datagrams whatever options:csum says (measured): each is then
    # zero or right, and which it was is printed.
    ovs_ok = [r for r in from_ovs if right(r, ovs_csum) or (v6 and right(r, True))]
    summed = sum(1 for r in from_ovs if r["csum"])
    check(from_ovs and len(ovs_ok) == len(from_ovs),
          "%s: OVS's outer UDP checksums are %s (%d of %d set), and vsw took them"
          % (what, "set and right" if ovs_csum else "zero or right" if v6 else "zero", summed, len(from_ovs)),
          [r for r in from_ovs if r not in ovs_ok][:3])
    fdb = sw.call("fdb", "show").get("entries", [])
    check(any(e["mac"] == MAC["cB"] and e["port"] == "t0" for e in fdb),
          "%s: vsw learned cB's MAC on t0" % what, fdb)
    ofdb = ovs.appctl("fdb/show", "br-int")
    check(any(ln.split()[:1] == [str(VX0_PORT)] and MAC["cA"] in ln for ln in ofdb.splitlines()),
          "%s: OVS learned cA's MAC on vx0 (port %d)" % (what, VX0_PORT), ofdb)
    drops = {k: v for k, v in port_stat(sw, "t0").get("drops", {}).items() if v}
    check(not drops, "%s: no drops on t0" % what, drops)
    must([sw.vswctl, "--ctl", sw.ctl, "port", "del", "t0"])
    ovs.vsctl("del-port", "br-int", "vx0")


def vni_mismatch(sw, ovs):
    ovs_vx0(ovs, False, key=str(VNI + 1))
    must([sw.vswctl, "--ctl", sw.ctl, "port", "add", "t0", "vxlan", "local=" + UL4["A"], "remote=" + UL4["B"],
          "vni=%d" % VNI])
    for c in ("cA", "cB"):
        run(["ip", "neigh", "flush", "all"], ns=NS[c])
    # cA's ARP requests die in OVS (which drops another VNI silently), cB's reach vsw in VNI + 1
    got1, _ = vxlan.ping("cA", IN4["cB"], count=2)
    got2, _ = vxlan.ping("cB", IN4["cA"], count=2)
    st, state = port_stat(sw, "t0"), port_state(sw, "t0")
    check(got1 == 0 and got2 == 0 and st.get("drops", {}).get("bad_header", 0) > 0 and "rx vni" in state,
          "VNI mismatch (OVS in %d): no replies either way, OVS's datagrams dropped as bad_header, \"rx vni\" named"
          % (VNI + 1), "%d and %d replies; %s; %s" % (got1, got2, st.get("drops"), state))
    must([sw.vswctl, "--ctl", sw.ctl, "port", "del", "t0"])
    ovs.vsctl("del-port", "br-int", "vx0")


def other_port(sw, ovs):
    ovs_vx0(ovs, False, extra=("options:dst_port=4790",))
    must([sw.vswctl, "--ctl", sw.ctl, "port", "add", "t0", "vxlan", "local=" + UL4["A"], "remote=" + UL4["B"],
          "vni=%d" % VNI, "dstport=4790"])
    for c in ("cA", "cB"):
        run(["ip", "neigh", "flush", "all"], ns=NS[c])
    got1, d1 = vxlan.ping("cA", IN4["cB"])
    got2, d2 = vxlan.ping("cB", IN4["cA"])
    check(got1 == 3 and got2 == 3, "UDP port 4790 on both VTEPs: ping both ways (%d/3, %d/3)" % (got1, got2),
          (d1, d2, port_stat(sw, "t0").get("drops")))
    must([sw.vswctl, "--ctl", sw.ctl, "port", "del", "t0"])
    ovs.vsctl("del-port", "br-int", "vx0")


def tenants(sw, ovs, wd, flows_path):
    """Two tenants over one tunnel port each side, the VNI from the flows (vni=flow, options:key=flow)."""
    vxlan.container("cA2", "hA", "vA2")
    vxlan.container("cB2", "hB", "vB2")
    must(["ethtool", "-K", "eth0", "tx", "off"], ns=NS["cB2"])
    ovs.vsctl("add-port", "br-int", "vB2", "--", "set", "Interface", "vB2", "ofport_request=%d" % VB2_PORT)
    ovs_vx0(ovs, False, key="flow")
    ofl = ["in_port=%d,actions=set_tunnel:%d,output:%d" % (VB_PORT, TENANT["cA"], VX0_PORT),
           "in_port=%d,actions=set_tunnel:%d,output:%d" % (VB2_PORT, TENANT["cA2"], VX0_PORT),
           "in_port=%d,tun_id=%d,actions=output:%d" % (VX0_PORT, TENANT["cA"], VB_PORT),
           "in_port=%d,tun_id=%d,actions=output:%d" % (VX0_PORT, TENANT["cA2"], VB2_PORT)]
    ovs.ofctl("br-int", "del-flows")
    for f in ofl:
        ovs.ofctl("br-int", "add-flow", f)
    must([sw.vswctl, "--ctl", sw.ctl, "port", "add", "a2", "afpacket", "ifname=vA2"])
    must([sw.vswctl, "--ctl", sw.ctl, "port", "add", "t0", "vxlan", "local=" + UL4["A"], "remote=" + UL4["B"],
          "vni=flow"])
    with open(flows_path, "w") as f:
        f.write("in_port=a,actions=set_tunnel:%d,output:t0\n" % TENANT["cA"])
        f.write("in_port=a2,actions=set_tunnel:%d,output:t0\n" % TENANT["cA2"])
        f.write("in_port=t0,tun_id=%d,actions=output:a\n" % TENANT["cA"])
        f.write("in_port=t0,tun_id=%d,actions=output:a2\n" % TENANT["cA2"])
    must([sw.vswctl, "--ctl", sw.ctl, "flow", "replace", flows_path])
    for c in ("cA", "cB", "cA2", "cB2"):
        run(["ip", "neigh", "flush", "all"], ns=NS[c])
    cap = vxlan.Capture(wd, "ovs-tenants")
    got1, d1 = vxlan.ping("cA", IN4["cB"])
    got2, d2 = vxlan.ping("cA2", IN4["cB2"])
    got3, d3 = vxlan.ping("cB2", IN4["cA2"])
    check(got1 == 3 and got2 == 3 and got3 == 3,
          "vni=flow / key=flow: each tenant's pings cross (cA -> cB %d/3, cA2 -> cB2 %d/3, cB2 -> cA2 %d/3)"
          % (got1, got2, got3), (d1, d2, d3))
    got, _ = vxlan.ping("cA", IN4["cB2"], count=2)
    check(got == 0, "vni=flow / key=flow: cA (VNI %d) gets no reply from cB2 (VNI %d)" % (TENANT["cA"],
                                                                                          TENANT["cA2"]),
          "%d replies" % got)
    cap.stop()
    rows, terr = cap.fields(False)
    seen = {(r["src"], r["vni"]) for r in rows}
    want = {(UL4[h], TENANT[c]) for h in ("A", "B") for c in ("cA", "cA2")}
    check(want <= seen and {v for _, v in seen} == set(TENANT.values()),
          "vni=flow / key=flow: tshark sees VNIs 100 and 200 from vsw and from OVS, no other", (sorted(seen), terr))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, captures)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    if not needs("vxlan_ovs", ("ip", "ethtool", "busybox", "iperf3", "nstat", "tcpdump", "tshark", "ovsdb-server",
                               "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl")):
        return 1
    wd = tempfile.mkdtemp(prefix="vsw-vxlan-ovs-")
    sw = ovs = None
    try:
        setup_net()
        sw = vxlan.Vswd(build, wd, NS["hA"])
        must([sw.vswctl, "--ctl", sw.ctl, "port", "add", "a", "afpacket", "ifname=vA"])
        ovs = OvsDaemons(NS["hB"], wd)     # made first: stop() covers a start that fails half way
        start_ovs(ovs)
        for v6 in (False, True):
            for vsw_csum in (True, False):
                one_case(sw, ovs, wd, v6, vsw_csum)
        vni_mismatch(sw, ovs)
        other_port(sw, ovs)
        tenants(sw, ovs, wd, os.path.join(wd, "tenants.flows"))
    except (RuntimeError, Terminated) as e:
        check(False, "scenario ran to its end", e)
    finally:
        rc = finish("vxlan_ovs", wd, args.keep, sw, vxlan.cleanup_net, [ovs] if ovs else [])
    return rc


if __name__ == "__main__":
    sys.exit(main())
