#!/usr/bin/env python3
"""state_restart.py - scenario: what vswctl configured survives vswd's kill -9 and restart; a cut state file is never half loaded.

Objective (issue 17, item 4; issue 14 for the port numbers): with
--state-dir, ports added by request
(with their options as given: VLAN tag, MAC limit, client mode) and flow
rules come back after `kill -9` and after SIGTERM, next to the config
file's port; the state file is pretty JSON, ports sorted by name; a state
file cut at any byte offset is refused whole (only the config's port
after the start), moved aside as state.json.corrupt-TIME, and the log
says so in one line naming the file and line.  A VXLAN tunnel port (on
loopback) and a flow into it come back the same way.

    vswd --config (port cfg0) --state-dir D/st
      vswctl port add vm1 vhost-user (server)  tag=10 mac_limit=4
      vswctl port add vm2 vhost-user mode=client (retries every second)
      vswctl flow add in_port=vm1,actions=output:vm2

Steps:
  1. start vswd; no state yet; add the two ports and the flow; the file
     lists vm1 before vm2, keys sorted, and no "cmd";
  2. kill -9, start again: show lists cfg0, vm1 (tag 10, mac_limit 4),
     vm2 (client); flow dump has the rule; the log says "restored";
  3. SIGTERM (exit 0), start again: the same;
  4. for every byte offset of the file (0 .. its closing brace), a copy
     cut there: vswd starts with cfg0 alone, a state.json.corrupt-* file,
     no state.json, one "refused, nothing of it applied" log line naming
     state.json; the whole file put back: everything again;
  5. vswctl port add vx1 vxlan local=127.0.0.1 remote=127.0.0.2 vni=4242
     dstport=FREE ttl=9 csum=on, flow add priority=5,in_port=vx1,actions=output:vm1;
     kill -9 and SIGTERM as in 2 and 3: vx1 comes back with its options
     (the file keeps the request as given: ttl too), both flows;
  6. a deleted port's number kept over a restart (docs/FLOWS.md, "Ports
     in flows"): `port del vm2`, SIGTERM, start: the flow still names
     vm2 (trace: output:vm2 absent, a no_destination drop), `show` lists
     vm2 absent with its number kept for that one flow (text and --json
     "kept"); `port add vm2` again: it gets that number, show lists
     nothing kept, trace sends to vm2;
  7. port numbers survive a restart whatever order the config lists its
     ports in (issue 14, Open vSwitch's stored ofport): two pcap ports in
     the config, pa replaying a frame (access VLAN 98) and pb recording
     (access VLAN 99: the learning bridge never sends it pa's frames, only
     a flow does); `flow add in_port=PA,actions=output:PB` written with
     the numbers `show` gives: pb sends frames; SIGTERM, the config's
     ports listed in the reverse order, start: every port has the number
     it had (show --json and show's "ofport=N"), pb sends again; the flow
     deleted, pb stops; the same numeric flow added again (a script that
     kept the numbers): pb sends again (without the numbers in state.json,
     pa and pb swap numbers and the flow matches nothing);
  8. cleanup (nothing of the test is left; --keep keeps the directory).

No root, no network: vhost-user sockets in a temp dir.  Each check prints
PASS or FAIL; the last line is "state_restart: N passed, M failed"; the
exit code is non-zero on any failure.  Every wait is bounded; a run takes
about two minutes (some 660 starts of vswd).

    python3 tests/scenario/state_restart.py --build build [--keep]
"""

import argparse
import glob
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

PASSED = 0
FAILED = 0


def check(ok, what, detail=""):
    global PASSED, FAILED
    print("%s %s%s" % ("PASS" if ok else "FAIL", what, (": " + detail) if detail and not ok else ""), flush=True)
    if ok:
        PASSED += 1
    else:
        FAILED += 1
    return ok


class Vswd:
    def __init__(self, build, wd):
        self.vswd = os.path.join(build, "vswd")
        self.vswctl = os.path.join(build, "vswctl")
        self.wd = wd
        self.ctl = os.path.join(wd, "ctl.sock")
        self.conf = os.path.join(wd, "vswd.json")
        self.state = os.path.join(wd, "st")
        self.log = os.path.join(wd, "vswd.log")
        self.proc = None
        self.set_config([{"name": "cfg0", "type": "vhost-user", "path": os.path.join(wd, "cfg0.sock")}])

    def set_config(self, ports):
        """The config file for the next start: these ports, in this order."""
        with open(self.conf, "w") as f:
            json.dump({"fdb_size": 64, "ports": ports}, f)

    def start(self):
        """Start vswd; True once its control socket answers (at most 5 s)."""
        if os.path.exists(self.ctl):
            os.unlink(self.ctl)
        logf = open(self.log, "a")
        self.proc = subprocess.Popen([self.vswd, "--foreground", "--ctl", self.ctl, "--config", self.conf,
                                      "--state-dir", self.state], stdout=logf, stderr=logf)
        logf.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if os.path.exists(self.ctl) and self.ctl_run("show")[0] == 0:
                return True
            time.sleep(0.01)
        return False

    def ctl_run(self, *args):
        p = subprocess.run([self.vswctl, "--ctl", self.ctl] + list(args), capture_output=True, text=True, timeout=10)
        return p.returncode, p.stdout, p.stderr

    def show(self):
        rc, out, _ = self.ctl_run("--json", "show")
        return {p["name"]: p for p in json.loads(out)["ports"]} if rc == 0 else None

    def kept(self):
        """show --json's "kept": the numbers kept for absent ports that flows name."""
        rc, out, _ = self.ctl_run("--json", "show")
        return json.loads(out).get("kept") if rc == 0 else None

    def trace(self, flow):
        rc, out, err = self.ctl_run("trace", flow)
        return out + err

    def tx_packets(self, name):
        """Frames port @name sent (stats --json), or -1."""
        rc, out, _ = self.ctl_run("--json", "stats")
        for p in json.loads(out).get("ports", []) if rc == 0 else []:
            if p.get("name") == name:
                return p.get("tx_packets", -1)
        return -1

    def flows(self):
        rc, out, _ = self.ctl_run("--json", "flow", "dump")
        return json.loads(out)["flows"] if rc == 0 else None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def term(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=10)

    def log_text(self):
        with open(self.log) as f:
            return f.read()


def free_udp_port():
    """A UDP port nobody has bound on 127.0.0.1 right now (the tunnel's dstport)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_pcap(path, frame):
    """A pcap file (Ethernet) of the one @frame."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        f.write(struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame)


def sends(v, name, want=True, seconds=3.0):
    """Whether port @name's tx count grows within @seconds (@want), or stays put for 1 s (not @want)."""
    first = v.tx_packets(name)
    deadline = time.monotonic() + (seconds if want else 1.0)
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if v.tx_packets(name) > first:
            return True
    return False


def all_back(v, what, vx_port=None):
    """The ports and flows of step 1 are back (and vx1 with its flow when @vx_port)."""
    ports = v.show() or {}
    flows = v.flows() or []
    names = ["cfg0", "vm1", "vm2"] + (["vx1"] if vx_port else [])
    check(sorted(ports) == names, "%s: the %d ports" % (what, len(names)), str(sorted(ports)))
    vm1 = ports.get("vm1", {}).get("options", {})
    check(vm1.get("tag") == 10 and vm1.get("mac_limit") == 4, what + ": vm1's tag and MAC limit", str(vm1))
    check("client" in ports.get("vm2", {}).get("state", ""), what + ": vm2 in client mode",
          ports.get("vm2", {}).get("state", ""))
    if not vx_port:
        check(len(flows) == 1 and "in_port=vm1" in flows[0] and "output:vm2" in flows[0], what + ": the flow",
              str(flows))
        return
    vx = ports.get("vx1", {})
    check(vx.get("type") == "vxlan" and "vni 4242 local 127.0.0.1 remote 127.0.0.2 dstport %d " % vx_port
          in vx.get("state", "") and "csum on" in vx.get("state", ""),
          what + ": vx1, the VXLAN tunnel port, with its VNI, addresses, port and checksum", str(vx))
    with open(os.path.join(v.state, "state.json")) as f:
        saved = [p for p in json.load(f)["ports"] if p.get("name") == "vx1"]
    check(saved and saved[0].get("ttl") == 9, what + ": state.json keeps vx1's ttl as given", str(saved))
    check(len(flows) == 2 and any("in_port=vm1" in f and "output:vm2" in f for f in flows)
          and any("priority=5" in f and "in_port=vx1" in f and "output:vm1" in f for f in flows),
          what + ": the two flows", str(flows))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    wd = tempfile.mkdtemp(prefix="vsw-state-")
    v = Vswd(os.path.abspath(a.build), wd)
    path = os.path.join(v.state, "state.json")
    try:
        # 1. first start, the run-time configuration
        check(v.start(), "vswd starts with an empty state dir")
        for args in (["port", "add", "vm1", "vhost-user", "path=" + os.path.join(wd, "vm1.sock"), "tag=10",
                      "mac_limit=4"],
                     ["port", "add", "vm2", "vhost-user", "path=" + os.path.join(wd, "vm2.sock"), "mode=client"],
                     ["flow", "add", "in_port=vm1,actions=output:vm2"]):
            rc, out, err = v.ctl_run(*args)
            check(rc == 0, "vswctl " + " ".join(args[:3]), err)
        with open(path) as f:
            text = f.read()
        saved = json.loads(text)
        check(text.index('"name": "vm1"') < text.index('"name": "vm2"') and '"cmd"' not in text
              and [p["name"] for p in saved["ports"]] == ["vm1", "vm2"]
              and text.startswith('{\n  "format": "vsw-state"'),
              "state.json: pretty, sorted, only the run-time ports", text)
        check(sorted((e["name"], e["ofport"]) for e in saved.get("ofports", []))
              == sorted((n, p["id"]) for n, p in (v.show() or {}).items()),
              "state.json: every port's number, the config's cfg0 too", text)
        # 2. kill -9
        v.kill9()
        check(v.start(), "vswd starts again after kill -9")
        all_back(v, "after kill -9")
        check("2 port(s) and 1 flow(s) restored" in v.log_text(), "the log says what was restored")
        # 3. SIGTERM
        check(v.term() == 0, "SIGTERM: exit 0")
        check(v.start(), "vswd starts again after SIGTERM")
        all_back(v, "after SIGTERM")
        v.term()
        with open(path, "rb") as f:
            full = f.read()
        # 4. cut at every offset up to the closing brace
        last = full.rindex(b"}")
        bad = []
        t0 = time.monotonic()
        for cut in range(0, last + 1):
            with open(path, "wb") as f:
                f.write(full[:cut])
            before = v.log_text().count("refused, nothing of it applied")
            started = v.start()
            ports = v.show() if started else None
            corrupt = glob.glob(path + ".corrupt-*")
            log = v.log_text()
            lines = [l for l in log.splitlines() if "refused, nothing of it applied" in l]
            ok = (started and ports is not None and sorted(ports) == ["cfg0"] and len(corrupt) == 1
                  and not os.path.exists(path) and len(lines) == before + 1 and "state.json" in lines[-1])
            if not ok:
                bad.append("%d: started=%s ports=%s corrupt=%d log=%s" % (
                    cut, started, sorted(ports or {}), len(corrupt), lines[-1] if lines else "-"))
            for c in corrupt:
                os.unlink(c)
            if started:
                v.term()
            elif v.proc.poll() is None:
                v.kill9()
        check(not bad, "cut at each of %d offsets: refused whole, moved aside, one log line (%.1f s)" % (
            last + 1, time.monotonic() - t0), "; ".join(bad[:5]))
        print("  e.g.: " + [l for l in v.log_text().splitlines() if "refused" in l][-1])
        with open(path, "wb") as f:
            f.write(full)
        check(v.start(), "the whole file again: vswd starts")
        all_back(v, "the whole file")
        # 5. a VXLAN tunnel port and a flow into it (after the cuts: a longer
        # file would only add offsets)
        vx_port = free_udp_port()
        for args in (["port", "add", "vx1", "vxlan", "local=127.0.0.1", "remote=127.0.0.2", "vni=4242",
                      "dstport=%d" % vx_port, "ttl=9", "csum=on"],
                     ["flow", "add", "priority=5,in_port=vx1,actions=output:vm1"]):
            rc, out, err = v.ctl_run(*args)
            check(rc == 0, "vswctl " + " ".join(args[:3]), err)
        v.kill9()
        check(v.start(), "vswd starts again after kill -9 (with vx1)")
        all_back(v, "vx1, after kill -9", vx_port)
        check(v.term() == 0, "SIGTERM: exit 0")
        check(v.start(), "vswd starts again after SIGTERM (with vx1)")
        all_back(v, "vx1, after SIGTERM", vx_port)
        # 6. vm2 deleted, its flow kept, a restart: the rules still name it, show lists its number
        rc, out, err = v.ctl_run("port", "del", "vm2")
        check(rc == 0, "vswctl port del vm2", err)
        check(v.term() == 0, "SIGTERM: exit 0")
        check(v.start(), "vswd starts again with vm2 deleted")
        ports, kept, flows = v.show() or {}, v.kept(), v.flows() or []
        check(sorted(ports) == ["cfg0", "vm1", "vx1"] and any("output:vm2" in f for f in flows),
              "after the restart: vm2 not there, the flow still names it", "%s %s" % (sorted(ports), flows))
        check("Datapath actions: output:vm2 (absent: a no_destination drop)" in v.trace("in_port=vm1,tcp"),
              "after the restart: trace from vm1 says output:vm2 is absent, a no_destination drop",
              v.trace("in_port=vm1,tcp"))
        k = (kept or [{}])[0]
        check(kept is not None and len(kept) == 1 and k.get("name") == "vm2" and k.get("flows") == 1
              and isinstance(k.get("id"), int) and k["id"] not in [p["id"] for p in ports.values()],
              "after the restart: show --json keeps a number for vm2, its one flow's, no port's", str(kept))
        rc, out, err = v.ctl_run("show")
        want = r"(?m)^vm2\s+-\s+absent: number %s kept for the 1 flow\(s\) naming it$" % k.get("id")
        check(rc == 0 and re.search(want, out) is not None, "after the restart: show lists vm2 absent, its number",
              out + err)
        rc, out, err = v.ctl_run("port", "add", "vm2", "vhost-user", "path=" + os.path.join(wd, "vm2.sock"),
                                 "mode=client")
        check(rc == 0, "vswctl port add vm2 (again)", err)
        ports = v.show() or {}
        check(ports.get("vm2", {}).get("id") == k.get("id") and v.kept() == [],
              "vm2 added again: the number show gave (%s), nothing kept" % k.get("id"),
              "%s %s" % (ports.get("vm2"), v.kept()))
        t = v.trace("in_port=vm1,tcp")
        check("Datapath actions: output:vm2\n" in t and "absent" not in t, "vm2 added again: the flow sends to it", t)
        check(v.term() == 0, "SIGTERM: exit 0")
        # 7. numbers kept over a restart that lists the config's ports in another order
        inp, out_pcap = os.path.join(wd, "in.pcap"), os.path.join(wd, "out.pcap")
        write_pcap(inp, bytes.fromhex("020000000002" "020000000001" "88b5") + bytes(46))
        cfg = {"cfg0": {"name": "cfg0", "type": "vhost-user", "path": os.path.join(wd, "cfg0.sock")},
               "pa": {"name": "pa", "type": "pcap", "read": inp, "loop": 1, "pps": 50, "tag": 98},
               "pb": {"name": "pb", "type": "pcap", "write": out_pcap, "tag": 99}}
        v.set_config([cfg[n] for n in ("cfg0", "pa", "pb")])
        check(v.start(), "vswd starts with pcap ports pa and pb in the config")
        before = {n: p["id"] for n, p in (v.show() or {}).items()}
        numeric = "priority=100,in_port=%s,actions=output:%s" % (before.get("pa"), before.get("pb"))
        rc, out, err = v.ctl_run("flow", "add", numeric)
        check(rc == 0, "vswctl flow add " + numeric, err)
        check(sends(v, "pb"), "the flow written with numbers sends pa's frames to pb")
        check(v.term() == 0, "SIGTERM: exit 0")
        os.unlink(out_pcap)  # pb's file is created anew (an existing one is refused)
        v.set_config([cfg[n] for n in ("pb", "pa", "cfg0")])
        check(v.start(), "vswd starts with the config's ports in the reverse order")
        after = {n: p["id"] for n, p in (v.show() or {}).items()}
        check(after == before and len(after) == 6, "every port has the number it had before the restart",
              "before %s after %s" % (before, after))
        rc, out, err = v.ctl_run("show")
        check(rc == 0 and re.search(r"(?m)^pa\s+pcap\s.*\n\s+ofport=%s " % before.get("pa"), out) is not None
              and re.search(r"(?m)^pb\s+pcap\s.*\n\s+ofport=%s " % before.get("pb"), out) is not None,
              "show (text) gives pa's and pb's numbers as before", out + err)
        check(sends(v, "pb"), "after the restart: the restored flow sends pa's frames to pb")
        rc, out, err = v.ctl_run("flow", "del", "in_port=pa")
        check(rc == 0 and not sends(v, "pb", want=False), "the flow deleted: pb sends nothing", err)
        rc, out, err = v.ctl_run("flow", "add", numeric)
        check(rc == 0 and sends(v, "pb"), "the same numeric flow added again: pa's frames go to pb again", err)
        t = v.trace("in_port=pa,tcp")
        check("Datapath actions: output:pb\n" in t, "trace from pa: output:pb", t)
        v.term()
    finally:
        if v.proc and v.proc.poll() is None:
            v.kill9()
        if a.keep:
            print("kept " + wd)
        else:
            shutil.rmtree(wd, ignore_errors=True)
    print("state_restart: %d passed, %d failed" % (PASSED, FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
