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
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))

import guest  # noqa: E402

# (name, packed, mrg_rxbuf, mtu, vm1 in client mode): every value of each property appears.
CONFIGS = [
    ("split-mrg-1500", False, True, None, False),
    ("packed-mrg-1500-client", True, True, None, True),
    ("split-nomrg-1500", False, False, None, False),
    ("packed-nomrg-9000", True, False, 9000, False),
    ("split-mrg-9000", False, True, 9000, False),
]

VIRTIO_F_RING_PACKED = 34
VIRTIO_NET_F_MRG_RXBUF = 15

results = []


def check(name, ok, detail=""):
    results.append((name, ok))
    print("%-48s %s %s" % (name, "ok" if ok else "FAILED", detail), flush=True)
    return ok


class Vswd:
    def __init__(self, build, workdir, client=False):
        self.workdir = workdir
        self.ctl = os.path.join(workdir, "ctl.sock")
        self.vswctl = os.path.join(build, "vswctl")
        conf = {"workers": 1, "ports": [
            {"name": "vm1", "type": "vhost-user", "path": os.path.join(workdir, "vm1.sock"),
             "mode": "client" if client else "server"},
            {"name": "vm2", "type": "vhost-user", "path": os.path.join(workdir, "vm2.sock")}]}
        path = os.path.join(workdir, "vswd.json")
        with open(path, "w") as f:
            json.dump(conf, f)
        self.log = open(os.path.join(workdir, "vswd.log"), "w")
        self.proc = subprocess.Popen([os.path.join(build, "vswd"), "--foreground", "--ctl", self.ctl,
                                      "--config", path], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while not os.path.exists(self.ctl):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("vswd did not start; see %s" % self.log.name)
            time.sleep(0.05)

    def call(self, *args):
        out = subprocess.run([self.vswctl, "--ctl", self.ctl, "--json"] + list(args),
                             capture_output=True, text=True, timeout=10)
        return json.loads(out.stdout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def run_config(build, name, packed, mrg, mtu, client):
    wd = tempfile.mkdtemp(prefix="vsw-qemu-%s-" % name)
    sw = Vswd(build, wd, client)
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
        fdb = {e["mac"]: e["port"] for e in sw.call("fdb", "show")["entries"]}
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
            deadline = time.time() + 10
            while time.time() < deadline and "connected (client" not in \
                    [p["state"] for p in sw.call("show")["ports"] if p["name"] == "vm1"][0]:
                time.sleep(0.2)
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
    failed = sum(1 for _, ok in results if not ok)
    print("qemu-pair: %d passed, %d failed" % (len(results) - failed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
