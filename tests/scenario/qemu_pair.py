#!/usr/bin/env python3
"""qemu_pair.py - two Linux guests in QEMU talk through vswd.

Objective: the Linux virtio-net driver in two QEMU guests (TCG, Debian's
cloud kernel, the busybox initramfs of scripts/guest/build-guest.sh) reaches
the other guest through vswd's vhost-user ports and the learning switch:
ping both ways and a TCP transfer with iperf3, for split and packed rings,
mergeable receive buffers on and off, MTU 1500 and 9000.

Steps, per configuration:
  1. start vswd with two vhost-user server ports (its own control socket);
  2. boot both guests on the two sockets with the configuration's
     virtio-net-pci properties; check the negotiated features match;
  3. ping g1 -> g2 and g2 -> g1 (at MTU 9000 with 8000-byte payloads): no loss;
  4. iperf3 TCP g1 -> g2 for 2 s: completes, reports a rate;
  5. vswd's counters: frames moved both ways, the FDB knows both MACs,
     and every frame vm1 sent reached vm2 or is counted as a drop;
  6. (client configuration) vswd is the vhost-user client of vm1's socket:
     QEMU g1 is stopped and started again, vswd reconnects, ping again.
Closing line: "qemu-pair: N passed, M failed".  All waits are bounded and
every process is killed at exit.
"""

import argparse
import os
import sys
import tempfile

from guest_lib import Results, Vswd, guest

# (name, packed, mrg_rxbuf, mtu, vm1 in client mode): every value of each property appears.
CONFIGS = [
    ("split-mrg-1500", False, True, None, False),
    ("packed-mrg-1500-client", True, True, None, True),
    ("split-nomrg-1500", False, False, None, False),
    ("packed-nomrg-9000", True, False, 9000, False),
    ("split-mrg-9000", False, True, 9000, False),
]

REPO = guest.REPO
VIRTIO_F_RING_PACKED = guest.VIRTIO_F_RING_PACKED
VIRTIO_NET_F_MRG_RXBUF = guest.VIRTIO_NET_F_MRG_RXBUF

res = Results("qemu-pair", width=48)
check = res.check


def start_vswd(build, wd, client):
    """vswd with the two guests' ports: vm1 a server (or the client of g1's socket), vm2 a server."""
    return Vswd(build, wd, {"workers": 1, "ports": [
        {"name": "vm1", "type": "vhost-user", "path": os.path.join(wd, "vm1.sock"),
         "mode": "client" if client else "server"},
        {"name": "vm2", "type": "vhost-user", "path": os.path.join(wd, "vm2.sock")}]})


def run_config(build, name, packed, mrg, mtu, client):
    wd = tempfile.mkdtemp(prefix="vsw-qemu-%s-" % name)
    sw = start_vswd(build, wd, client)
    g1 = g2 = None

    def boot_g1():
        return guest.Guest("g1", os.path.join(wd, "vm1.sock"), "10.0.0.1/24", "52:54:00:00:00:01",
                           packed=packed, mrg_rxbuf=mrg, mtu=mtu, server=client, workdir=wd)
    try:
        g1 = boot_g1()
        g2 = guest.Guest("g2", os.path.join(wd, "vm2.sock"), "10.0.0.2/24", "52:54:00:00:00:02",
                         packed=packed, mrg_rxbuf=mrg, mtu=mtu, workdir=wd)
        g1.wait_ready(240)
        g2.wait_ready(240)
        feats = g1.features()
        check(name + ": features negotiated",
              bool(feats >> VIRTIO_F_RING_PACKED & 1) == packed and bool(feats >> VIRTIO_NET_F_MRG_RXBUF & 1) == mrg,
              "0x%x" % feats)
        size = 8000 if mtu else None
        check(name + ": ping g1 -> g2", guest.ping(g1, "10.0.0.2", count=5, size=size) == 0.0)
        check(name + ": ping g2 -> g1", guest.ping(g2, "10.0.0.1", count=5, size=size) == 0.0)
        r = guest.iperf3(g1, g2, seconds=2)
        check(name + ": iperf3 TCP g1 -> g2", r["rc"] == 0 and (r["receiver_mbps"] or 0) > 0,
              "%s Mbit/s" % r["receiver_mbps"])
        stats = {p["name"]: p for p in sw.call("stats")["ports"]}
        fdb = sw.fdb()
        vm1, vm2 = stats["vm1"], stats["vm2"]
        check(name + ": FDB knows both guests",
              fdb.get("52:54:00:00:00:01") == "vm1" and fdb.get("52:54:00:00:00:02") == "vm2", str(fdb))
        # Every frame vm1 sent went to vm2 (the only other port) or is counted.
        # g2's frames are all accounted at vm1 the same way.
        lost12 = vm1["rx_packets"] - vm2["tx_packets"] - sum(vm2["drops"].values()) - vm1["drops"]["no_destination"]
        lost21 = vm2["rx_packets"] - vm1["tx_packets"] - sum(vm1["drops"].values()) - vm2["drops"]["no_destination"]
        check(name + ": every frame delivered or counted", lost12 == 0 and lost21 == 0,
              "vm1 rx %d -> vm2 tx %d drops %s; vm2 rx %d -> vm1 tx %d drops %s" % (
                  vm1["rx_packets"], vm2["tx_packets"], vm2["drops"], vm2["rx_packets"],
                  vm1["tx_packets"], vm1["drops"]))
        if client:
            g1.stop()
            g1 = boot_g1()
            g1.wait_ready(240)
            sw.wait_states(lambda st: "connected (client" in st["vm1"], 10)
            check(name + ": vswd reconnected, ping again", guest.ping(g1, "10.0.0.2", count=3) == 0.0)
    except Exception as e:  # a guest that does not boot or answer fails this configuration
        check(name + ": ran to the end", False, repr(e))
    finally:
        for g in (g1, g2):
            if g:
                g.stop()
        sw.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--only", help="run only this configuration")
    args = ap.parse_args()
    guest.ensure_built()
    for name, packed, mrg, mtu, client in CONFIGS:
        if args.only and args.only != name:
            continue
        run_config(os.path.abspath(args.build), name, packed, mrg, mtu, client)
    sys.exit(res.summary())


if __name__ == "__main__":
    main()
