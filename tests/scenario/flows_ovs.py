#!/usr/bin/env python3
"""flows_ovs.py - scenario: vsw reads flows as Open vSwitch does, Open vSwitch's own parser the reference.

Objective (issue 14, item 4): "a user can paste a flow from OVS
documentation and it means the same; a clear error names the token vsw
does not support".  The reference is ovs-ofctl itself (Debian's
openvswitch-common), not our reading of its manuals.  The flows: the
seed corpus of fuzz_flow_parse (fuzz/make_corpus_flow_parse.py: the
examples of ovs-actions(7), ovs-fields(7), ovs-ofctl(8) and the advanced
tutorial as written there, then every field and action vsw has) and
PUBLISHED below, flows as OVS users write them (anti-spoofing sets of
OpenStack and others: `icmp6,icmp_type=135`, `tcp_flags`, an empty
`clone(drop)` as ovs-ofctl prints it).

Steps:
  1. vswd --foreground with two pcap ports, p1 and p2 (OpenFlow ports 1
     and 2, as the flows' numbers), its control socket in a temp dir;
  2. for each flow F: `ovs-ofctl parse-flow F` (OpenFlow 1.0 + NXM,
     ovs-ofctl's default) and `vswctl flow add F`;
       - OVS takes F and vsw refuses it: vsw's message names a token of F
         (a quoted word of the message, or what comes before its first
         ':', found in F): "names what it does not take";
       - both take F: OVS's canonical form of F (what parse-flow prints,
         its print-only spellings `table:N`, `cookie:X`, `idle:N`,
         `hard:N` written as flow syntax) is taken by vsw too, and the
         match, table and priority vsw then dumps are those it dumps for
         F itself: "OVS's form means the same to vsw"; and vsw's dump of
         F (its ports' names as numbers), given to ovs-ofctl, gives OVS's
         canonical form of F again, match and actions: OVS judges what
         vsw understood (where OVS reads its own form back as itself;
         `dec_ttl(ids)` dumps as `dec_ttl`: vsw has no controller; a
         learn's `OXM_OF_IN_PORT[]` as `NXM_OF_IN_PORT[]`: 16-bit ports);
     each check one line over all flows (the flows that fail it listed);
  3. the published flows were all compared (none refused by either);
     at least 100 flows compared in all;
  4. vswd exits 0 on SIGTERM.

Flows only one side takes are counted, not failed: ovs-ofctl parse-flow
does not check prerequisites (`tp_dst=80` alone; the switch refuses it
when it is sent), and vsw takes a few spellings OVS does not
(`NXM_NX_TCP_FLAGS=` in a match, `field[a..b]=` parts).

Each check prints PASS or FAIL (nothing is skipped); the last line is
"flows_ovs: N passed, M failed"; the exit code is non-zero on any
failure.  About 10 s.

    python3 tests/scenario/flows_ovs.py --build build
"""

import argparse
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns_lib import Terminated, check, on_signal, run, tally  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Flows as published OVS flow sets write them (each must be taken by both and mean the same).
PUBLISHED = [
    "priority=100,icmp6,icmp_type=133 actions=NORMAL",
    "priority=100,icmp6,icmp_type=135,icmp_code=0 actions=NORMAL",
    "priority=5,in_port=1,icmp6,icmp_type=136,actions=drop",
    "priority=6,in_port=1,dl_src=02:00:00:00:00:01,icmp6,ipv6_src=fd00::1,icmp_type=136,actions=normal",
    "table=0,priority=200,tcp,tcp_flags=+syn-ack,actions=drop",
    "tcp,tcp_flags=syn|ack,actions=NORMAL",
    "tcp6,tp_dst=22,tcp_flags=+syn-ack-rst actions=output:2",
    "actions=clone(drop),note:00.00.00.00.00.00",
    "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,ipv6,icmp6,ipv6_dst=ff02::/64 actions=normal",
    "cookie=0x1010000000000, table=0, priority=200,icmp6,icmp_type=135,icmp_code=0 actions=NORMAL",
    # learn: OpenStack Neutron's br-tun table 10 (learn the way back to a remote MAC over its tunnel), as
    # `ovs-ofctl dump-flows` prints it in its users' reports, and a hand-written variant of it
    "cookie=0xb7fd492418bcc3f5, duration=706.187s, table=10, n_packets=0, n_bytes=0, priority=1 actions=learn("
    "table=20,hard_timeout=300,priority=1,cookie=0xb7fd492418bcc3f5,NXM_OF_VLAN_TCI[0..11],"
    "NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],"
    "output:OXM_OF_IN_PORT[]),output:2",
    "table=10, priority=1, tun_id=100, actions=learn(table=20,hard_timeout=300,priority=1,"
    "NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],output:NXM_OF_IN_PORT[]),output:2",
]


def corpus():
    spec = importlib.util.spec_from_file_location("corpus", os.path.join(REPO, "fuzz", "make_corpus_flow_parse.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return list(mod.OVS_DOCS) + list(mod.VSW)


class Vswd:
    def __init__(self, build, wd):
        self.vswd = os.path.join(build, "vswd")
        self.vswctl = os.path.join(build, "vswctl")
        self.ctl = os.path.join(wd, "ctl.sock")
        self.conf = os.path.join(wd, "vswd.json")
        self.log_path = os.path.join(wd, "vswd.log")
        with open(self.conf, "w") as f:
            json.dump({"workers": 1, "ports": [{"name": n, "type": "pcap", "write": os.path.join(wd, n + ".pcap")}
                                               for n in ("p1", "p2")]}, f)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([self.vswd, "--foreground", "--ctl", self.ctl, "--config", self.conf],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not (os.path.exists(self.ctl) and self.call("show")[0] == 0):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("vswd did not start (its log follows)")
            time.sleep(0.05)

    def call(self, *args):
        return run([self.vswctl, "--ctl", self.ctl] + list(args), timeout=10)

    def add_and_dump(self, flow):
        """(error, None) when vsw refuses @flow, else (None, its dump line without the counters); no rule left."""
        rc, out, err = self.call("flow", "add", flow)
        if rc != 0:
            return (err or out).strip(), None
        rc, out, err = self.call("flow", "dump")
        self.call("flow", "del")
        lines = out.strip().splitlines()
        if rc != 0 or len(lines) != 1:
            return "flow dump gave %d lines: %s" % (len(lines), (err or out).strip()), None
        return None, re.sub(r"(duration|n_packets|n_bytes|idle_age|hard_age)=[^,]*, ", "", lines[0]).strip()

    def stop(self):
        if self.proc.poll() is not None:
            self.log.close()
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait(5)
        self.log.close()
        return rc


def ovs_form(flow):
    """OVS's canonical form of @flow (ovs-ofctl parse-flow), in flow syntax; None when ovs-ofctl refuses it.
    Raises RuntimeError when ovs-ofctl takes it but does not print one flow_mod (a format this script does not know)."""
    rc, out, err = run(["ovs-ofctl", "parse-flow", flow], timeout=10)
    if rc != 0 or "decode error" in out:
        return None	# refused, or taken but not encodable (ovs-ofctl 3.1 with set_field:N->dl_vlan)
    adds = [l.split(" ADD ", 1)[1] for l in out.splitlines() if " ADD " in l]
    if len(adds) != 1:
        raise RuntimeError("ovs-ofctl parse-flow %r printed %d ADD lines: %s" % (flow, len(adds), out.strip()[:300]))
    text = adds[0]
    # parse-flow prints a flow_mod; these four are its print-only spellings of flow syntax keywords.
    for short, kw in (("table", "table"), ("cookie", "cookie"), ("idle", "idle_timeout"), ("hard", "hard_timeout")):
        text = re.sub(r"(^|[ ,])%s:(\S+?)(?=[ ,]|$)" % short, r"\1%s=\2" % kw, text)
    return text


def names_token(msg, flow):
    """True when vsw's message @msg names a token of @flow: a quoted word, or what precedes its first ':',
    that is one of @flow's tokens whole (split at , = : ( ) [ ] > / and blanks) or the text of one of its
    comma-separated items."""
    msg = msg.split("vswctl: ", 1)[-1]
    words = re.findall(r'"([^"]+)"', msg) + [msg.split(":", 1)[0].strip()]
    tokens = {t.lower() for t in re.split(r"[,\s=:()\[\]>/]+", flow) if t}
    items = {t.strip().lower() for t in flow.split(",")}
    return any(w and (w.lower() in tokens or w.lower() in items or any(i.startswith(w.lower()) for i in items) or
                      (len(w) >= 4 and re.search(r"[(=:]", w) and w.lower() in flow.lower())) for w in words)


def match_part(dump):
    """The match of a dump line (table, priority and fields: everything before its actions)."""
    return dump.split(" actions=", 1)[0]


def as_numbers(dump):
    """A vsw dump line with the ports' names (p1, p2) as their numbers, which ovs-ofctl knows."""
    return re.sub(r"\bp([12])\b", r"\1", dump)


def scenario(sw):
    flows = corpus() + PUBLISHED
    compared, refused_named, only_ovs, only_vsw = [], [], [], []
    bad_named, bad_same, bad_back, ovs_unstable = [], [], [], []
    for f in flows:
        ovs = ovs_form(f)
        err, mine = sw.add_and_dump(f)
        if sw.proc.poll() is not None:
            raise RuntimeError("vswd exited (%s) at flow %r" % (sw.proc.returncode, f))
        if ovs is None:
            if err is None:
                only_vsw.append(f)
            continue
        if err is not None:
            only_ovs.append(f)
            (refused_named if names_token(err, f) else bad_named).append((f, err))
            continue
        compared.append(f)
        # OVS's form of F means to vsw what F does ...
        err2, theirs = sw.add_and_dump(ovs)
        if err2 is not None or match_part(mine) != match_part(theirs):
            bad_same.append("%s | ovs: %s | vsw: %s | vsw of ovs's: %s" % (f, ovs, mine, err2 or theirs))
        # ... and what vsw dumps of F means to OVS what F does: OVS the judge of what vsw understood
        # (where OVS reads its own form back as itself).
        if ovs_form(ovs) != ovs:
            ovs_unstable.append(f)
            continue
        back = ovs_form(as_numbers(mine))
        # dec_ttl(ids) names the controllers to tell when the TTL runs out; vsw has none and keeps
        # only dec_ttl (docs/FLOWS.md).  OXM_OF_IN_PORT is Open vSwitch's 32-bit spelling of in_port
        # (OpenFlow 1.1+ port numbers); vsw's port numbers are 16 bits and it reads the name as
        # in_port, which it dumps as NXM_OF_IN_PORT (a learn's output takes the low 16 bits of
        # either: OVS's learn_execute()).  The two differences allowed.
        want = re.sub(r"\bdec_ttl\([0-9,]*\)", "dec_ttl", ovs)
        want = re.sub(r"\blearn\([^)]*\)", lambda m: m.group(0).replace("OXM_OF_IN_PORT[]", "NXM_OF_IN_PORT[]"), want)
        if back != want:
            bad_back.append("%s | ovs: %s | vsw: %s | ovs of vsw's: %s" % (f, ovs, mine, back))

    check(not bad_named, "every flow OVS takes and vsw refuses is refused naming a token of the flow (%d flows)"
          % len(only_ovs), "; ".join("%s => %s" % x for x in bad_named))
    check(not bad_same, "OVS's canonical form of each flow both take is taken by vsw with the same table, priority "
          "and match (%d flows)" % len(compared), " || ".join(bad_same))
    missing = [f for f in PUBLISHED if f not in compared]
    check(not bad_back, "vsw's dump of each flow both take means to ovs-ofctl what the flow does (the same "
          "canonical form, match and actions; %d flows)" % len(compared), " || ".join(bad_back))
    check(not missing, "the published flows (icmp6 with icmp_type, tcp_flags, clone(drop), learn) are taken by both",
          "; ".join(missing))
    check(len(compared) >= 100, "at least 100 flows compared", "%d" % len(compared))
    print("     %d flows: %d compared, %d only OVS takes (%d refused by vsw naming the token), %d only vsw takes; "
          "%d whose OVS form OVS does not read back as itself (not judged by OVS): %s"
          % (len(flows), len(compared), len(only_ovs), len(refused_named), len(only_vsw), len(ovs_unstable),
             "; ".join(ovs_unstable)), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    missing = [t for t in ("ovs-ofctl",) if not shutil.which(t)] + \
        [b for b in ("vswd", "vswctl") if not os.access(os.path.join(args.build, b), os.X_OK)]
    wd = tempfile.mkdtemp(prefix="vsw-flows-ovs-")
    sw = None
    try:
        if missing:
            check(False, "prerequisites", "missing: %s" % ", ".join(missing))
        else:
            sw = Vswd(os.path.abspath(args.build), wd)
            scenario(sw)
    except (Terminated, RuntimeError, OSError, ValueError) as e:
        check(False, "ran to the end", str(e))
    finally:
        if sw:
            rc = sw.stop()
            check(rc == 0, "vswd exits 0 on SIGTERM", "exit code %s" % rc)
        if tally.failed and os.path.exists(os.path.join(wd, "vswd.log")):
            with open(os.path.join(wd, "vswd.log")) as f:
                print("     vswd.log, last lines:\n" + "".join(f.readlines()[-20:]), flush=True)
        if not args.keep:
            shutil.rmtree(wd, ignore_errors=True)
    print("flows_ovs: %d passed, %d failed" % (tally.passed, tally.failed))
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
