#!/usr/bin/env python3
"""make_corpus_ctl_request.py - write the seed corpus of fuzz_ctl_request.

    fuzz/make_corpus_ctl_request.py [OUTDIR]   (default fuzz/corpus/ctl_request)

Each seed is one input in the format described at the top of
fuzz/fuzz_ctl_request.c: an options byte (bit 0: pass a file with
capture-start, bit 1: MACs in the FDB), then request lines as vswctl sends
them: every command with good fields, each port type with its parameters,
typos, wrong types and ranges, pipelined add/delete pairs past the
graveyard's size, captures started and stopped, and broken JSON.
Python 3 standard library only; deterministic.
"""

import json
import os
import sys

PASS_FD, MACS = 1, 2


def req(**kw):
    return json.dumps(kw, separators=(",", ":"))


def port_add(name, type_, **params):
    return req(cmd="port-add", name=name, type=type_, **params)


SEEDS = {
    "show": (0, [req(cmd="show")]),
    "stats": (0, [req(cmd="stats")]),
    "fdb_show": (MACS, [req(cmd="fdb-show")]),
    "fdb_show_limit": (MACS, [req(cmd="fdb-show", limit=3), req(cmd="fdb-show", limit=0),
                              req(cmd="fdb-show", limit=-1)]),
    "perf": (0, [req(cmd="perf-show"), req(cmd="perf-set", enabled=False), req(cmd="perf-reset"),
                 req(cmd="perf-set", enabled="yes"), req(cmd="perf-set"), req(cmd="perf-show", json=True)]),
    "vhost_server": (0, [port_add("vm1", "vhost-user", path="/run/vsw/vm1.sock"), req(cmd="show"),
                         req(cmd="port-del", name="vm1")]),
    "vhost_client_mq": (0, [port_add("vm2", "vhost-user", path="/x.sock", mode="client", queues=4)]),
    "vhost_typo": (0, [port_add("vm1", "vhost-user", path="/x.sock", mdoe="client")]),
    "vhost_bad_queues": (0, [port_add("vm1", "vhost-user", path="/x.sock", queues=99),
                             port_add("vm1", "vhost-user", path="/x.sock", queues="2")]),
    "tap": (0, [port_add("h0", "tap", ifname="vsw-h0"), port_add("h1", "tap", ifname="x", tag=10, bogus=1)]),
    "afpacket": (0, [port_add("c1", "afpacket", ifname="veth-c1"), req(cmd="stats")]),
    "vlans": (MACS, [port_add("a1", "tap", tag=10), port_add("t1", "tap", trunks="10,20,30-40"),
                     port_add("n1", "tap", vlan_mode="native-untagged", tag=5, trunks=[6, "7-9"]),
                     port_add("s1", "tap", tag=20, mac="02:00:00:00:00:01"), req(cmd="show"),
                     req(cmd="fdb-show"), port_add("x1", "tap", tag=4095), port_add("x2", "tap", trunks="9-1"),
                     port_add("x3", "tap", tag=1, trunks=2), port_add("x4", "tap", vlan_mode="dot1q-tunnel"),
                     port_add("x5", "tap", trunks="1," * 3000), port_add("x6", "tap", trunks={"a": 1}),
                     req(cmd="port-del", name="t1")]),
    "afxdp": (0, [port_add("c2", "afxdp", ifname="veth-c2", queue=1, mode="skb", zerocopy="off"),
                  port_add("c3", "afxdp", ifname="veth-c3", queue=-1)]),
    "pcap_files_unprivileged": (0, [port_add("r1", "pcap", read="/tmp/in.pcap", loop=1, pps=100),
                                    port_add("w1", "pcap", write="/etc/x.pcap")]),
    "pcap_no_file": (0, [port_add("r1", "pcap", loop=1, pps=100)]),
    "capture_fd": (PASS_FD, [port_add("p1", "vhost-user", path="/x"),
                             req(cmd="capture-start", port="p1", file="/tmp/cap.pcap", dir="rx", count=10,
                                 filter="icmp"),
                             req(cmd="capture-start", port="p1", file="/tmp/cap2.pcap"),
                             req(cmd="capture-stop", port="p1", if_done=True),
                             req(cmd="capture-stop", port="p1")]),
    "capture_no_fd": (0, [port_add("p1", "vhost-user", path="/x"),
                          req(cmd="capture-start", port="p1", file="/etc/passwd")]),
    "capture_bad_filter": (PASS_FD, [port_add("p1", "vhost-user", path="/x"),
                                     req(cmd="capture-start", port="p1", file="f", filter="icmp and and"),
                                     req(cmd="capture-start", port="p1", file="f", dir="up"),
                                     req(cmd="capture-start", port="p1", file="f", count=-1)]),
    "capture_port_deleted": (PASS_FD, [port_add("p1", "tap"),
                                       req(cmd="capture-start", port="p1", file="f"),
                                       req(cmd="port-del", name="p1"),
                                       req(cmd="capture-stop", port="p1")]),
    "flows": (0, [port_add("vm1", "vhost-user", path="/x"), port_add("vm2", "vhost-user", path="/y"),
                  req(cmd="flow-add", flow="priority=10,in_port=vm1,ip,nw_dst=10.0.0.2 actions=mod_nw_dst:10.0.0.3,"
                                           "resubmit(,1)"),
                  req(cmd="flow-add", flow="table=1,idle_timeout=5,actions=clone(output:vm1),output:vm2"),
                  req(cmd="flow-mod", flow="in_port=vm1,actions=normal"),
                  req(cmd="flow-mod-strict", flow="table=1,priority=32768,actions=drop"),
                  req(cmd="flow-dump"), req(cmd="flow-dump", table=1, flow="in_port=vm1"),
                  req(cmd="trace", flow="in_port=vm1,dl_src=02:00:00:00:00:01,ip,nw_dst=10.0.0.2"),
                  req(cmd="trace", flow="in_port=vm2,vlan_tci=0x1005,tcp6,tp_dst=80"),
                  req(cmd="flow-del-strict", flow="table=1,priority=32768"), req(cmd="flow-del", flow="in_port=vm1"),
                  req(cmd="port-del", name="vm1"), req(cmd="trace", flow="in_port=2,arp,arp_op=1")]),
    "flows_bad": (PASS_FD, [req(cmd="flow-add", flow="ct_state=+trk,actions=drop"),
                            req(cmd="flow-add", flow="in_port=nope,actions=drop"),
                            req(cmd="flow-add", flow="tp_dst=80,actions=drop"), req(cmd="flow-add"),
                            req(cmd="flow-del-strict"), req(cmd="flow-dump", table=254),
                            req(cmd="flow-replace", file="/etc/passwd"), req(cmd="trace", flow="actions=drop"),
                            req(cmd="flow-add", flow="x" * 9000)]),
    "pipelined_pairs": (0, [l for i in range(70) for l in (port_add("p%d" % i, "vhost-user", path="/p%d" % i),
                                                           req(cmd="port-del", name="p%d" % i))]),
    "too_many_ports": (0, [port_add("p%d" % i, "tap") for i in range(66)]),
    "names": (0, [port_add("", "tap"), port_add("a" * 40, "tap"), port_add("bad name", "tap"),
                  port_add("dup", "tap"), port_add("dup", "tap"), req(cmd="port-add", type="tap")]),
    "unknown": (0, [req(cmd="shwo"), req(cmd="show", verbose=True), req(cmd="port-del", nmae="x"),
                    req(cmd=5), "[1,2,3]", "\"show\"", "{}"]),
    "field_limits": (PASS_FD, [port_add("p1", "tap"), req(cmd="port-del"), req(cmd="port-del", name=5),
                               req(cmd="port-del", name="a\u0000b"), req(cmd="port-del", name="x" * 32),
                               req(cmd="capture-start", port="p1", file="/" + "x" * 5000),
                               req(cmd="capture-start", port="p1", count=4294967296),
                               req(cmd="capture-start", port="p1", seconds=1),
                               req(cmd="capture-stop", port="p1", if_done=1),
                               req(cmd="perf-set", enabled=None)]),
    "broken_json": (0, ['{"cmd":"show"', '{"cmd":"show"} trailing', "\x00\x01\x02", "", "{" * 40 + "}" * 40,
                        '{"cmd":"show","cmd":"stats"}']),
    "tunnel_fdb": (0, [port_add("t0", "vxlan", local="127.0.0.1", remote="127.0.0.2", vni=5),
                       req(cmd="tunnel-fdb-add", mac="02:00:00:00:00:07", remote="127.0.0.9"),
                       req(cmd="tunnel-fdb-add", mac="02:00:00:00:00:07", vni=16777216, remote="x"),
                       req(cmd="tunnel-fdb-add", mac="zz:00:00:00:00:07", remote="127.0.0.9", port="t0"),
                       req(cmd="tunnel-fdb-show"), req(cmd="tunnel-fdb-show", port="nope"),
                       req(cmd="tunnel-fdb-del", mac="02:00:00:00:00:07", vni=5, port="t0")]),
    "tunnel_fdb_flood": (0, [port_add("t0", "vxlan", local="127.0.0.1", remote="127.0.0.2", vni="flow"),
                             req(cmd="tunnel-fdb-add", mac="00:00:00:00:00:00", vni=100, remote="127.0.0.3"),
                             req(cmd="tunnel-fdb-add", mac="00:00:00:00:00:00", vni=100, remote="127.0.0.4"),
                             req(cmd="tunnel-fdb-add", mac="00:00:00:00:00:00", vni=200, remote="::1"),
                             req(cmd="tunnel-fdb-add", mac="00:00:00:00:00:00", remote="127.0.0.3"),
                             req(cmd="tunnel-fdb-show", port="t0"),
                             req(cmd="tunnel-fdb-del", mac="00:00:00:00:00:00", vni=100, remote="127.0.0.3"),
                             req(cmd="tunnel-fdb-del", mac="00:00:00:00:00:00", vni=100, remote="bogus"),
                             req(cmd="tunnel-fdb-del", mac="02:00:00:00:00:07", vni=100, remote="127.0.0.3"),
                             req(cmd="tunnel-fdb-del", mac="00:00:00:00:00:00", vni=100),
                             req(cmd="tunnel-fdb-del", mac="00:00:00:00:00:00", vni=100)]),
    "vxlan_vlan_vni": (0, [port_add("t0", "vxlan", local="127.0.0.1", remote="127.0.0.2", vlan_vni="10:1010,20:1020"),
                           req(cmd="show"), port_add("t1", "vxlan", local="127.0.0.1", vlan_vni="10:1,10:2"),
                           port_add("t2", "vxlan", local="127.0.0.1", vlan_vni="4095:1", vni=3),
                           port_add("t3", "vxlan", local="127.0.0.1", vlan_vni="10:1", tag=10),
                           port_add("t4", "vxlan", local="127.0.0.1", vlan_vni="1:" + "9" * 40),
                           req(cmd="tunnel-fdb-add", mac="02:00:00:00:00:07", vni=1010, remote="127.0.0.3")]),
    "log_forging": (PASS_FD, [port_add("p1", "tap"),
                              req(cmd="capture-start", port="p1", file="x\n2099-01-01 vswd info: forged")]),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                             "corpus", "ctl_request")
    os.makedirs(out, exist_ok=True)
    for name, (opts, lines) in sorted(SEEDS.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes([opts]) + "\n".join(lines).encode() + b"\n")
    print("%d seeds in %s" % (len(SEEDS), out))


if __name__ == "__main__":
    main()
