#!/usr/bin/env python3
"""make_corpus_ctl_config.py - write the seed corpus of fuzz_ctl_config.

    fuzz/make_corpus_ctl_config.py [OUTDIR]   (default fuzz/corpus/ctl_config)

Each seed is a config file as vswd --config reads it (docs/VSWD.md): the
README's example, every top-level key with good and bad values, ports of
every type, typos at both levels, and broken JSON.  Python 3 standard
library only; deterministic.
"""

import json
import os
import sys

SEEDS = {
    "empty_object": {},
    "full": {"workers": 2, "cpus": [0, 1], "busy_poll": False, "mode": "learning", "aging": 300,
             "fdb_size": 1000000, "ctl_group": "vsw",
             "ports": [{"name": "vm1", "type": "vhost-user", "path": "/run/vsw/vm1.sock"},
                       {"name": "vm2", "type": "vhost-user", "path": "/run/vsw/vm2.sock", "mode": "client",
                        "queues": 2}]},
    "every_type": {"ports": [{"name": "h0", "type": "tap", "ifname": "vsw-h0"},
                             {"name": "c1", "type": "afpacket", "ifname": "veth-c1"},
                             {"name": "c2", "type": "afxdp", "ifname": "veth-c2", "queue": 0, "mode": "native",
                              "zerocopy": "auto"},
                             {"name": "r1", "type": "pcap", "read": "/tmp/in.pcap", "loop": True, "pps": 50},
                             {"name": "w1", "type": "pcap", "write": "/tmp/out.pcap"}]},
    "hub": {"mode": "hub", "busy_poll": True, "perf": False},
    "perf_every": {"perf_every": 64},
    "perf_every_bad": {"perf_every": 48},
    "typo_top": {"wokers": 2},
    "typo_port": {"ports": [{"name": "vm1", "type": "vhost-user", "path": "/x", "qeueus": 2}]},
    "bad_values": {"workers": 0, "aging": 0, "mode": "router", "cpus": [-1], "busy_poll": 1},
    "bad_cpus": {"cpus": "0-3"},
    "bad_fdb_size": {"fdb_size": 1 << 30},
    "bad_group": {"ctl_group": 5},
    "long_group": {"ctl_group": "g" * 100},
    "ports_not_array": {"ports": {"name": "x"}},
    "port_not_object": {"ports": ["vm1"]},
    "port_no_type": {"ports": [{"name": "vm1"}]},
    "duplicate_ports": {"ports": [{"name": "a", "type": "tap"}, {"name": "a", "type": "tap"}]},
    "many_ports": {"ports": [{"name": "p%d" % i, "type": "tap"} for i in range(66)]},
}

RAW = {
    "not_object": b"[1, 2, 3]",
    "truncated": b'{"workers": 2, "ports": [{"name": "vm1"',
    "comments": b'/* vsw */ {"workers": 1} // done\n',
    "deep": b'{"ports": ' + b"[" * 60 + b"]" * 60 + b"}",
    "huge_int": b'{"workers": 99999999999999999999, "aging": -5}',
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                             "corpus", "ctl_config")
    os.makedirs(out, exist_ok=True)
    for name, conf in sorted(SEEDS.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(json.dumps(conf, indent=1).encode() + b"\n")
    for name, text in sorted(RAW.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(text)
    print("%d seeds in %s" % (len(SEEDS) + len(RAW), out))


if __name__ == "__main__":
    main()
