#!/usr/bin/env python3
"""metrics.py - scenario: `vswctl stats --openmetrics` is OpenMetrics a real parser reads, and says what `stats --json` says.

Objective: every number of the stats reply (per port, per drop reason, FDB
events, per queue, per worker, per stage and worker, per flow table, a
vxlan port's tunnel figures) is one sample of a vsw_... family with the
right type (counters with _total, gauges without), unit and labels (port,
reason, worker, stage, queue, table), and its value is the JSON's;
the text ends with "# EOF" and Python's prometheus_client OpenMetrics
parser (Debian's python3-prometheus-client) accepts it.

Steps:
  1. vswd --foreground with two workers and three pcap ports from a config
     file: "out" records, "in" replays 40 frames from 5 MACs (broadcast,
     unicast to a known and an unknown MAC) and 3 runts, "idle" records
     nothing; and "vm", a vhost-user port with two queue pairs, whose front
     end (tests/scenario/vhost_user_lib.py) posts receive buffers on both
     pairs and sends 2 frames on pair 0 and 5 on pair 1; then three flows
     (broadcasts: table 0 -> goto_table:2 -> normal; the rest normal in
     table 0), a vxlan port "vx" (local 127.0.0.1, remote 127.0.0.2, a
     free dstport) with a static MAC behind 127.0.0.3, and garbage
     datagrams to it (3 too short from 127.0.0.2, 2 from 127.0.0.1, no
     remote of its); then "in2" is added and replays 6 broadcasts, which
     reach vm; wait until the counters stop moving; flow del table=2
  2. stats --json, stats --openmetrics, stats --json again
  3. parse the text with prometheus_client.openmetrics.parser (it refuses
     what breaks the format: a family split in two, a counter sample
     without _total, a unit not in the name, a missing # EOF)
  4. the samples expected from the JSON (by the mapping in
     src/ctl/ctl_metrics.c, coded again here) and the samples parsed are
     the same set of (name, labels); each value lies between the two JSON
     readings; counter families are typed counter, gauge ones gauge
  5. spot checks: runt drops of "in" are 3, the _bytes families carry
     unit bytes, every stage of every worker is there, HELP is not empty;
     vm's queues: vsw_queue_rx_packets_total{port="vm",queue="0"} 2,
     {queue="1"} 5, their bytes; per direction the queues sum to the port
     (tx: the 6 broadcasts on whichever pair the worker's number picks);
     vsw_table_flows{table} 2, 0, 0 and vsw_table_matched_packets_total 6,
     0, 6 for tables 0, 1, 2 (table 2's deleted rule's count stays);
     vsw_table_lookups_total 6, 0, 6 and vsw_table_misses_total 0, 0, 0
     (the replayed runs counted as the first);
     vsw_port_tunnel_rx_bad_short_total{port="vx"} 3, ..._remote_total 2,
     vsw_port_tunnel_remotes 2 (a gauge), ..._fdb_static_entries 1
  6. node_exporter (Debian's prometheus-node-exporter) with only its
     textfile collector, on a loopback port, reads the text as a .prom
     file: no scrape error, every sample served with its value (to it the
     counters are untyped series named ..._total, # UNIT and # EOF comments)
Each check prints PASS or FAIL; the last line is "metrics: N passed, M
failed"; the exit code is non-zero on any failure.

    python3 tests/scenario/metrics.py --build build

Needs build/vswd, build/vswctl, /usr/bin/python3 with
python3-prometheus-client and prometheus-node-exporter
(scripts/install-deps.sh --scenarios), and root: the vxlan port's transmit
socket is raw (CAP_NET_RAW); without it that step fails and says so.
"""

import argparse
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
DEBIAN_PYTHON = "/usr/bin/python3"

# The parser is Debian's package, installed for Debian's python: run under it.
if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) and os.path.exists(DEBIAN_PYTHON) \
        and not os.environ.get("VSW_METRICS_REEXEC"):
    os.environ["VSW_METRICS_REEXEC"] = "1"
    os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from steps_lib import Steps  # noqa: E402
import vhost_user_lib as vu  # noqa: E402

GAUGE_KEYS = {"entries", "tsc_hz", "id", "flows", "remotes", "flood_remotes"}

# Step 1's flows: broadcasts go from table 0 to table 2 (table 1 is empty), the rest to normal in table 0.
FLOWS = ["priority=10,dl_dst=ff:ff:ff:ff:ff:ff,actions=goto_table:2", "priority=0,actions=normal",
         "table=2,actions=normal"]
VX_SHORT, VX_STRANGER = 3, 2    # garbage datagrams to port vx: from its remote (too short), from elsewhere


def frame(dst, src, length=64):
    return bytes.fromhex(dst.replace(":", "")) + bytes.fromhex(src.replace(":", "")) + b"\x08\x00" + \
        bytes(length - 14)


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", i, 0, len(fr), len(fr)) + fr)


def name_part(s):
    return "".join(c if c.isalnum() and c.isascii() else "_" for c in s)


def sample(out, prefix, key, labels, value):
    """What ctl_metrics.c makes of one number: (family, sample name, labels) -> (value, counter, unit)."""
    part = name_part(key)
    unit = None
    if key == "tsc_hz":
        part, unit = "tsc_hertz", "hertz"
    fam = prefix + "_" + part
    if fam.endswith("_bytes"):
        unit = "bytes"
    counter = key not in GAUGE_KEYS and not key.endswith("_entries")
    out[(fam + ("_total" if counter else ""), tuple(sorted(labels.items())))] = (value, counter, unit, fam)


def nested(out, prefix, obj, labels):
    for k, v in obj.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            sample(out, prefix, k, labels, v)
        elif isinstance(v, dict):
            nested(out, prefix + "_" + name_part(k), v, labels)


def expected(reply):
    """Every number of the stats reply as the sample it must become."""
    out = {}
    for p in reply.get("ports", []):
        lab = {"port": p["name"]}
        for k, v in p.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                sample(out, "vsw_port", k, lab, v)
            elif k == "drops":
                for reason, n in v.items():
                    sample(out, "vsw_port", "drops", dict(lab, reason=reason), n)
            elif k == "queues":
                for q, qo in enumerate(v):
                    nested(out, "vsw_queue", qo, dict(lab, queue=str(q)))
            elif isinstance(v, dict):
                nested(out, "vsw_port_" + name_part(k), v, lab)
    for w in reply.get("workers", []):
        lab = {"worker": str(w["id"])}
        for k, v in w.items():
            if k == "id":
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                sample(out, "vsw_worker", k, lab, v)
            elif k == "stages":
                for stage, counts in v.items():
                    nested(out, "vsw_stage", counts, dict(lab, stage=stage))
            elif isinstance(v, dict):
                nested(out, "vsw_worker_" + name_part(k), v, lab)
    for t in reply.get("tables", []):
        lab = {"table": str(t["table"])}
        for k, v in t.items():
            if k != "table" and isinstance(v, (int, float)) and not isinstance(v, bool):
                sample(out, "vsw_table", k, lab, v)
    return out


# The vhost-user front end of port "vm": its memory (rings of vring i at +i*0x4000, buffers from BUF_OFF).
VM_MEM, VM_UADDR, VM_GPA, VM_BUF_OFF = 1 << 20, 0x7F0000000000, 0x100000, 0x20000
VM_RX_BUFS = 32                 # receive buffers per rx vring (0 and 2), 2 KiB each
VM_TX_FRAMES = {0: 2, 1: 5}     # frames the front end sends per queue pair
VM_FRAME_LEN = 64


class VmFrontend:
    """Port vm's peer: two queue pairs, receive buffers on both, VM_TX_FRAMES sent (split rings, no offloads)."""

    def __init__(self, sock):
        self.fe = vu.Frontend(sock)
        self.mem = vu.Memory(VM_MEM)
        feats = (1 << vu.VIRTIO_F_VERSION_1) | (1 << vu.VHOST_USER_F_PROTOCOL_FEATURES)
        self.fds = vu.setup_rings(self.fe, self.mem, feats, uaddr=VM_UADDR, gpa=VM_GPA, vrings=(0, 1, 2, 3))
        buf = VM_BUF_OFF
        for rx in (0, 2):            # rx vring of pair q: 2q; device-writable buffers
            base = rx * 0x4000
            for i in range(VM_RX_BUFS):
                struct.pack_into("=QIHH", self.mem.map, base + i * 16, VM_GPA + buf, 2048, 2, 0)
                struct.pack_into("=H", self.mem.map, base + 0x1000 + 4 + 2 * i, i)
                buf += 2048
            struct.pack_into("=H", self.mem.map, base + 0x1000 + 2, VM_RX_BUFS)
        for q, n in VM_TX_FRAMES.items():
            base = (2 * q + 1) * 0x4000  # tx vring of pair q: 2q + 1
            for i in range(n):
                fr = bytes(12) + frame("02:99:00:00:00:02", "02:00:00:00:01:%02x" % q, VM_FRAME_LEN)
                self.mem.map[buf:buf + len(fr)] = fr
                struct.pack_into("=QIHH", self.mem.map, base + i * 16, VM_GPA + buf, len(fr), 0, 0)
                struct.pack_into("=H", self.mem.map, base + 0x1000 + 4 + 2 * i, i)
                buf += 2048
            struct.pack_into("=H", self.mem.map, base + 0x1000 + 2, n)
            os.write(self.fds[2 * (2 * q + 1)], (1).to_bytes(8, "little"))   # its kick fd

    def close(self):
        for fd in self.fds:
            os.close(fd)
        self.fe.close()
        self.mem.close()


def ready_logged(log_path):
    """vswd's "ready: control socket" line in its log: the config's ports are there too."""
    with open(log_path, "rb") as f:
        return b"ready: control socket" in f.read()


class Vswd:
    def __init__(self, build, wd):
        self.build = build
        self.ctl = os.path.join(wd, "vswd.sock")
        conf = os.path.join(wd, "vswd.json")
        write_pcap(os.path.join(wd, "in.pcap"), self.frames())
        with open(conf, "w") as f:
            json.dump({"workers": 2, "ports": [
                {"name": "out", "type": "pcap", "write": os.path.join(wd, "out.pcap")},
                {"name": "idle", "type": "pcap", "write": os.path.join(wd, "idle.pcap")},
                {"name": "in", "type": "pcap", "read": os.path.join(wd, "in.pcap")},
                {"name": "vm", "type": "vhost-user", "path": os.path.join(wd, "vm.sock"), "mode": "server",
                 "queues": 2}]}, f)
        write_pcap(os.path.join(wd, "in2.pcap"),
                   [frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:02:01", 80) for _ in range(6)])
        self.log = open(os.path.join(wd, "vswd.log"), "w")
        self.proc = subprocess.Popen([os.path.join(build, "vswd"), "--foreground", "--ctl", self.ctl,
                                      "--config", conf], stdout=self.log, stderr=subprocess.STDOUT)
        # Ready once its log says so: the control socket listens before the config's ports (vm.sock) exist.
        deadline = time.time() + 10
        while not ready_logged(self.log.name) and time.time() < deadline and self.proc.poll() is None:
            time.sleep(0.05)

    @staticmethod
    def frames():
        macs = ["02:00:00:00:00:%02x" % i for i in range(1, 6)]
        fr = []
        for i in range(40):
            src = macs[i % 5]
            dst = ["ff:ff:ff:ff:ff:ff", macs[(i + 1) % 5], "02:99:00:00:00:01"][i % 3]
            fr.append(frame(dst, src, 64 + i))
        return fr + [b"\x01\x02\x03"] * 3

    def ctl_cmd(self, *args):
        r = subprocess.run([os.path.join(self.build, "vswctl"), "--ctl", self.ctl, *args], capture_output=True,
                           text=True, timeout=20)
        return r.returncode, r.stdout, r.stderr

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def settled(sw, port="in"):
    """The stats reply once `port` has replayed its file and the port counters stopped moving (10 s at most)."""
    last = None
    deadline = time.time() + 10
    while time.time() < deadline:
        rc, out, _ = sw.ctl_cmd("stats", "--json")
        if rc == 0:
            ports = {p["name"]: p for p in json.loads(out)["ports"]}
            now = json.dumps(ports, sort_keys=True)
            if now == last and ports.get(port, {}).get("rx_packets", 0) > 0:
                return True
            last = now
        time.sleep(0.3)
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    steps = Steps()
    try:
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
    except ImportError as e:
        steps.result(False, "prometheus_client's OpenMetrics parser (apt-get install python3-prometheus-client)",
                     str(e))
        print("metrics: %d passed, %d failed" % (steps.passed, steps.failed))
        return 1

    with tempfile.TemporaryDirectory(prefix="vsw-metrics.") as wd:
        sw = Vswd(build, wd)
        try:
            if not steps.result(sw.proc.poll() is None and os.path.exists(sw.ctl), "vswd starts with three pcap ports and a vhost-user one"):
                sw.stop()
                print(open(os.path.join(wd, "vswd.log")).read())
                print("metrics: %d passed, %d failed" % (steps.passed, steps.failed + 1))
                return 1
            try:
                fe = VmFrontend(os.path.join(wd, "vm.sock"))
                steps.result(True, "a front end with two queue pairs on vm sends its frames")
            except (OSError, vu.FrontendError) as e:
                fe = None
                steps.result(False, "a front end with two queue pairs on vm sends its frames", repr(e))
            steps.result(settled(sw), "the counters settle after the replay")
            for f in FLOWS:
                rc, _, err = sw.ctl_cmd("flow", "add", f)
                steps.result(rc == 0, "flow add " + f, err.strip())
            vx_port(sw, steps)
            rc, _, err = sw.ctl_cmd("port", "add", "in2", "pcap", "read=" + os.path.join(wd, "in2.pcap"))
            steps.result(rc == 0, "port add in2 (6 broadcasts, flooded to vm)", err.strip())
            steps.result(settled(sw, "in2"), "the counters settle after in2's replay")
            rc, _, err = sw.ctl_cmd("flow", "del", "table=2")
            steps.result(rc == 0, "flow del table=2 (what its rule matched stays with the table)", err.strip())
            rc1, j1, _ = sw.ctl_cmd("stats", "--json")
            rc, text, err = sw.ctl_cmd("stats", "--openmetrics")
            rc2, j2, _ = sw.ctl_cmd("stats", "--json")
            steps.result(rc == 0 and rc1 == 0 and rc2 == 0, "stats --openmetrics and --json succeed", err.strip())
        finally:
            sw.stop()
            if fe:
                fe.close()
        before, after = json.loads(j1), json.loads(j2)

        steps.result(text.endswith("# EOF\n") and text.count("# EOF") == 1, "the text ends with one \"# EOF\"")
        try:
            families = list(text_string_to_metric_families(text))
            steps.result(True, "prometheus_client's OpenMetrics parser accepts it (%d families)" % len(families))
        except Exception as e:  # the parser says what broke the format
            steps.result(False, "prometheus_client's OpenMetrics parser accepts it", repr(e))
            families = []

        got = {}
        types = {}
        for fam in families:
            types[fam.name] = (fam.type, fam.unit, fam.documentation)
            for s in fam.samples:
                got[(s.name, tuple(sorted(s.labels.items())))] = s.value
        want_lo, want_hi = expected(before), expected(after)
        steps.result(all(f.startswith("vsw_") for f in types), "every family is named vsw_...",
                     ", ".join(f for f in types if not f.startswith("vsw_")))
        missing = sorted(set(want_lo) - set(got))
        extra = sorted(set(got) - set(want_lo))
        steps.result(not missing and not extra and len(got) > 100,
                     "one sample per number of stats --json (%d), no other" % len(want_lo),
                     "missing %s extra %s" % (missing[:5], extra[:5]))
        off = []
        for key, (lo, counter, unit, fam) in want_lo.items():
            hi = want_hi.get(key, (lo,))[0]
            v = got.get(key)
            if v is None or not (min(lo, hi) <= v <= max(lo, hi)):
                off.append("%s=%s (json %s..%s)" % (key, v, lo, hi))
        steps.result(not off, "every value is the JSON's (between the readings before and after)", "; ".join(off[:5]))
        wrong = []
        for key, (lo, counter, unit, fam) in want_lo.items():
            t = types.get(fam)
            if not t or t[0] != ("counter" if counter else "gauge") or (t[1] or None) != unit or not t[2]:
                wrong.append("%s: %s" % (fam, t))
        steps.result(not wrong, "types, units and help: counters with _total, gauges, bytes and hertz units",
                     "; ".join(sorted(set(wrong))[:5]))

        runt = got.get(("vsw_port_drops_total", (("port", "in"), ("reason", "runt"))))
        steps.result(runt == 3, "vsw_port_drops_total{port=\"in\",reason=\"runt\"} is 3", str(runt))
        rx = got.get(("vsw_port_rx_packets_total", (("port", "in"),)))
        steps.result(rx == 40, "vsw_port_rx_packets_total{port=\"in\"} is 40", str(rx))
        stages = {dict(k[1]).get("stage") for k in got if k[0] == "vsw_stage_cycles_total"}
        workers = {dict(k[1]).get("worker") for k in got if k[0] == "vsw_stage_cycles_total"}
        steps.result(len(stages) >= 10 and "round" in stages and workers == {"0", "1"},
                     "vsw_stage_cycles_total for every stage (%d) of both workers" % len(stages),
                     str(sorted(workers)))
        vm_queues(got, steps)
        tables(got, types, steps)
        tunnel(got, types, steps)
        reasons = {dict(k[1]).get("reason") for k in got if k[0] == "vsw_port_drops_total"}
        steps.result(reasons == set(before["ports"][0]["drops"]), "one reason label per drop reason",
                     str(sorted(reasons)))

        node_exporter_reads(wd, text, got, steps)

    print("metrics: %d passed, %d failed" % (steps.passed, steps.failed))
    return 1 if steps.failed else 0


def vx_port(sw, steps):
    """Step 1, port vx: a vxlan port over loopback, a static MAC behind a second remote, garbage datagrams to it."""
    if not steps.result(os.geteuid() == 0, "port vx: a vxlan port's transmit socket is raw (CAP_NET_RAW): run as root"):
        return
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:   # a free UDP port on loopback
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc, _, err = sw.ctl_cmd("port", "add", "vx", "vxlan", "local=127.0.0.1", "remote=127.0.0.2", "vni=5",
                            "dstport=%d" % port)
    steps.result(rc == 0, "port add vx vxlan local=127.0.0.1 remote=127.0.0.2 dstport=%d" % port, err.strip())
    rc, _, err = sw.ctl_cmd("tunnel", "fdb", "add", "02:77:00:00:00:01", "remote=127.0.0.3", "port=vx")
    steps.result(rc == 0, "tunnel fdb add 02:77:00:00:00:01 remote=127.0.0.3 port=vx", err.strip())
    for src, n, data in (("127.0.0.2", VX_SHORT, b"\x08\x00\x00"), ("127.0.0.1", VX_STRANGER, bytes(64))):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((src, 0))
            for _ in range(n):
                s.sendto(data, ("127.0.0.1", port))


def tables(got, types, steps):
    """Step 5, the flow tables: rules per table (a gauge), and what they matched, a deleted rule's included."""
    def t(name, table):
        return got.get(("vsw_table_" + name, (("table", str(table)),)))

    have = [(t("flows", n), t("matched_packets_total", n)) for n in (0, 1, 2)]
    steps.result(have == [(2, 6), (0, 0), (0, 6)],
                 "vsw_table_flows and vsw_table_matched_packets_total for tables 0, 1, 2: (2, 6) (0, 0) (0, 6)",
                 repr(have))
    looked = [(t("lookups_total", n), t("misses_total", n)) for n in (0, 1, 2)]
    steps.result(looked == [(6, 0), (0, 0), (6, 0)],
                 "vsw_table_lookups_total and vsw_table_misses_total for tables 0, 1, 2: (6, 0) (0, 0) (6, 0) "
                 "(every run's, the cached ones' too)", repr(looked))
    steps.result(t("matched_bytes_total", 2) == 6 * 80, "vsw_table_matched_bytes_total{table=\"2\"} is 6 x 80",
                 str(t("matched_bytes_total", 2)))
    kinds = (types.get("vsw_table_flows", ("",))[0], types.get("vsw_table_matched_packets", ("",))[0])
    steps.result(kinds == ("gauge", "counter"), "vsw_table_flows is a gauge, vsw_table_matched_packets a counter",
                 repr(kinds))


def tunnel(got, types, steps):
    """Step 5, port vx: its receive drops by reason, its remotes and tunnel fdb entries."""
    def v(name):
        return got.get(("vsw_port_tunnel_" + name, (("port", "vx"),)))

    have = {k: v(k) for k in ("rx_bad_short_total", "rx_bad_remote_total", "rx_bad_vni_total", "remotes",
                              "flood_remotes", "fdb_static_entries", "fdb_learned_entries")}
    want = {"rx_bad_short_total": VX_SHORT, "rx_bad_remote_total": VX_STRANGER, "rx_bad_vni_total": 0, "remotes": 2,
            "flood_remotes": 1, "fdb_static_entries": 1, "fdb_learned_entries": 0}
    steps.result(have == want, "vsw_port_tunnel_...{port=\"vx\"}: rx_bad short 3, remote 2; 2 remotes, 1 static entry",
                 "got %r" % have)
    labels = {k[1] for k in got if k[0].startswith("vsw_port_tunnel_")}
    steps.result(labels == {(("port", "vx"),)}, "vsw_port_tunnel_ families only on the vxlan port", repr(labels))
    kinds = (types.get("vsw_port_tunnel_remotes", ("",))[0], types.get("vsw_port_tunnel_rx_bad_short", ("",))[0])
    steps.result(kinds == ("gauge", "counter"), "vsw_port_tunnel_remotes is a gauge, ..._rx_bad_short a counter",
                 repr(kinds))


def vm_queues(got, steps):
    """Step 5, port vm: each queue pair's counters, labelled by queue, and the queues summing to the port."""
    def q(name, queue):
        return got.get(("vsw_queue_%s_total" % name, (("port", "vm"), ("queue", str(queue)))))

    have = [(q("rx_packets", n), q("rx_bytes", n)) for n in (0, 1)]
    want = [(VM_TX_FRAMES[n], VM_TX_FRAMES[n] * VM_FRAME_LEN) for n in (0, 1)]
    steps.result(have == want, "vsw_queue_rx_packets/bytes_total{port=\"vm\",queue=0|1}: 2 and 5 frames of %d B"
                 % VM_FRAME_LEN, "got %r want %r" % (have, want))
    labels = {k[1] for k in got if k[0].startswith("vsw_queue_")}
    steps.result(labels == {(("port", "vm"), ("queue", "0")), (("port", "vm"), ("queue", "1"))},
                 "queue labels only on the port with queues (vm: 0 and 1)", repr(sorted(labels)))
    for d in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes"):
        port = got.get(("vsw_port_%s_total" % d, (("port", "vm"),)))
        qsum = (q(d, 0) or 0) + (q(d, 1) or 0)
        floor = 6 if d == "tx_packets" else 1
        steps.result(port is not None and port == qsum and port >= floor,
                     "vm: vsw_queue_%s_total sums to vsw_port_%s_total (%s)" % (d, d, port), "queues %s" % qsum)


def node_exporter_reads(wd, text, got, steps):
    """Step 6: node_exporter's textfile collector reads the file, every sample with its value (untyped to it)."""
    import urllib.request
    exe = "/usr/bin/prometheus-node-exporter"
    if not steps.result(os.path.exists(exe), "node_exporter is installed (apt-get install prometheus-node-exporter)"):
        return
    tdir = os.path.join(wd, "textfile")
    os.mkdir(tdir)
    with open(os.path.join(tdir, "vsw.prom"), "w") as f:
        f.write(text)
    with socket.socket() as s:   # a free port on loopback
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = subprocess.Popen([exe, "--collector.disable-defaults", "--collector.textfile",
                          "--collector.textfile.directory=" + tdir, "--web.listen-address=127.0.0.1:%d" % port],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    page = ""
    try:
        deadline = time.time() + 10
        while time.time() < deadline and not page:
            try:
                page = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2).read().decode()
            except OSError:
                time.sleep(0.2)
    finally:
        p.terminate()
        p.wait(10)
    steps.result("node_textfile_scrape_error 0" in page, "node_exporter's textfile collector reads it without error",
                 page[:200] if "node_textfile_scrape_error" not in page else
                 [l for l in page.splitlines() if "scrape_error" in l][-1])
    seen = {}
    for line in page.splitlines():
        if line.startswith("vsw_"):
            key, value = line.rsplit(" ", 1)
            seen[key] = float(value)
    missing = []
    for (name, labels), value in got.items():
        key = name + ("{" + ",".join('%s="%s"' % kv for kv in sorted(labels)) + "}" if labels else "")
        if seen.get(key) != float(value):
            missing.append(key)
    steps.result(not missing and len(seen) == len(got), "node_exporter serves every sample with its value (%d)"
                 % len(got), "; ".join(missing[:5]))


if __name__ == "__main__":
    sys.exit(main())
