#!/usr/bin/env python3
"""make_corpus_ctl_state.py - write the seed corpus of fuzz_ctl_state.

    fuzz/make_corpus_ctl_state.py [OUTDIR]   (default fuzz/corpus/ctl_state)

Each seed is one option byte (fuzz/fuzz_ctl_state.c: bit 0 seals the
checksum, bit 1 puts a config port "vm1" first) and a state file as vswd
writes it to STATE_DIR/state.json (src/ctl/state.c): good files with their
checksum, ports of every type, flows naming them, the config's name taken,
and each way a file is refused (format, version, keys, entries, duplicate
names, flow lines, "ofports" numbers out of range or twice, checksum, cut
or broken JSON).  Python 3 standard
library only; deterministic.
"""

import json
import os
import sys

SEAL, CONFIG_VM1 = 1, 2


def checksum(ports, flows, ofports=None):
    """The file's checksum: FNV-1a 64 of {"ports":...,"flows":...[,"ofports":...]} printed as json-c prints it plain."""
    body = {"ports": ports, "flows": flows}
    if ofports is not None:
        body["ofports"] = ofports
    h = 0xcbf29ce484222325
    for b in json.dumps(body, separators=(",", ":")).encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "fnv1a64:%016x" % h


def state(ports, flows, **over):
    o = {"format": "vsw-state", "version": 1, "checksum": checksum(ports, flows, over.get("ofports")),
         "ports": ports, "flows": flows}
    o.update(over)
    return o


def numbers(*pairs):
    """An "ofports" array: (name, number) pairs."""
    return [{"name": n, "ofport": k} for n, k in pairs]


VM1 = {"mode": "server", "name": "vm1", "path": "/run/vsw/vm1.sock", "queues": 2, "type": "vhost-user"}
VM2 = {"name": "vm2", "path": "/run/vsw/vm2.sock", "type": "vhost-user"}
EVERY_TYPE = [
    {"ifname": "veth-c1", "name": "c1", "type": "afpacket"},
    {"ifname": "veth-c2", "mode": "native", "name": "c2", "queue": 0, "type": "afxdp", "zerocopy": "auto"},
    {"ifname": "vsw-h0", "mac": "02:00:00:00:00:01", "ip": "10.0.0.1", "mac_limit": 4, "name": "h0", "type": "tap"},
    {"name": "r1", "read": "/tmp/in.pcap", "loop": 1, "pps": 50, "type": "pcap"},
    {"name": "t1", "type": "vxlan", "local": "192.0.2.1", "remote": "192.0.2.2", "vni": 42},
    {"name": "v1", "tag": 10, "type": "tap", "ifname": "vsw-v1", "vlan_mode": "access"},
    {"name": "v2", "trunks": "10,20-30", "type": "tap", "ifname": "vsw-v2"},
]
FLOWS = ["priority=10,in_port=vm1,ip,nw_dst=10.0.0.2 actions=mod_nw_dst:10.0.0.3,output:vm2",
         "table=1,idle_timeout=5,actions=clone(output:vm1),output:vm2",
         "priority=0 actions=normal"]

SEEDS = {
    "empty": (0, state([], [])),
    "two_vms_flows": (0, state([VM1, VM2], FLOWS)),
    "two_vms_flows_sealed": (SEAL, state([VM1, VM2], FLOWS)),
    "every_type": (SEAL, state(EVERY_TYPE, [])),
    "config_wins_vm1": (SEAL | CONFIG_VM1, state([VM1, VM2], FLOWS)),
    "flow_names_missing_port": (SEAL, state([VM2], ["in_port=vm9,actions=output:vm2"])),
    "mod_table": (SEAL, state([VM1, VM2], ["mod-table 0 continue", "mod-table 253 normal",
                                           "table=1,actions=output:vm2"])),
    "bad_mod_table": (SEAL, state([VM1], ["mod-table 254 continue", "in_port=vm1,actions=drop"])),
    "bad_flow": (SEAL, state([VM1], ["ct_state=+trk,actions=drop", "in_port=vm1,actions=nowhere"])),
    "bad_port_value": (SEAL, state([dict(VM1, queues=99)], [])),
    "other_format": (0, state([], [], format="ovs")),
    "other_version": (0, state([], [], version=2)),
    "extra_key": (0, state([], [], x=1)),
    "ports_not_array": (SEAL, {"format": "vsw-state", "version": 1, "checksum": "", "ports": {}, "flows": []}),
    "port_with_cmd": (SEAL, state([dict(VM2, cmd="port-add")], [])),
    "port_no_name": (SEAL, state([{"type": "tap", "ifname": "x"}], [])),
    "unknown_type": (SEAL, state([{"name": "a", "type": "nope"}], [])),
    "unknown_key": (SEAL, state([dict(VM2, bogus=1)], [])),
    "duplicate_name": (SEAL, state([VM2, VM2], [])),
    "flow_two_lines": (SEAL, state([], ["a\nb"])),
    "flow_not_string": (SEAL, state([], [5])),
    "wrong_checksum": (0, state([VM2], [], checksum="fnv1a64:0000000000000000")),
    # "ofports": each port's number (and kept names'), given back before any port is added
    "ofports_good": (SEAL, state([VM1, VM2], FLOWS, ofports=numbers(("vm2", 0), ("vm1", 7), ("vm9", 3)))),
    "ofports_config_vm1": (SEAL | CONFIG_VM1, state([VM2], ["in_port=vm1,actions=output:vm2"],
                                                    ofports=numbers(("vm1", 5), ("vm2", 0)))),
    # written by a vswd before numbers started at 1: a port at 0, a request of 0 (it gets the first free, logged)
    "ofports_zero_upgrade": (SEAL, state([dict(VM1, ofport_request=0), VM2], FLOWS,
                                         ofports=numbers(("vm1", 0), ("vm2", 1), ("vm9", 2)))),
    "ofports_past_slots": (SEAL, state([VM2], [], ofports=numbers(("vm2", 4096)))),
    "ofports_request": (SEAL, state([dict(VM2, ofport_request=9), dict(VM1, ofport_request=9)], [],
                                    ofports=numbers(("vm1", 9)))),
    "ofports_out_of_range": (SEAL, state([VM2], [], ofports=numbers(("vm2", 65280)))),
    "ofports_negative": (SEAL, state([VM2], [], ofports=numbers(("vm2", -1)))),
    "ofports_number_twice": (SEAL, state([VM1, VM2], [], ofports=numbers(("vm1", 1), ("vm2", 1)))),
    "ofports_name_twice": (SEAL, state([VM2], [], ofports=numbers(("vm2", 1), ("vm2", 2)))),
    "ofports_bad_name": (SEAL, state([VM2], [], ofports=numbers(("vm 2", 1)))),
    "ofports_not_array": (SEAL, state([VM2], [], ofports={"vm2": 1})),
    "ofports_extra_key": (SEAL, state([VM2], [], ofports=[{"name": "vm2", "ofport": 1, "x": 0}])),
    "many_ports": (SEAL, state([{"name": "p%02d" % i, "type": "tap", "ifname": "vsw-p%d" % i} for i in range(40)],
                               [])),
}

RAW = {
    "cut": (0, json.dumps(state([VM1, VM2], FLOWS), indent=2).encode()[:200]),
    "not_object": (SEAL, b"[1, 2, 3]"),
    "not_json": (0, b"vsw-state 1\n"),
    "nul_inside": (SEAL, b'{"format":"vsw-\x00state","version":1,"checksum":"","ports":[],"flows":[]}'),
    "deep": (SEAL, b'{"format":"vsw-state","version":1,"ports":' + b"[" * 60 + b"]" * 60 + b',"flows":[]}'),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                             "corpus", "ctl_state")
    os.makedirs(out, exist_ok=True)
    for name, (opts, o) in sorted(SEEDS.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes([opts]) + json.dumps(o, indent=2).encode() + b"\n")
    for name, (opts, text) in sorted(RAW.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes([opts]) + text)
    print("%d seeds in %s" % (len(SEEDS) + len(RAW), out))


if __name__ == "__main__":
    main()
