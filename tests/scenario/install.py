#!/usr/bin/env python3
"""install.py - scenario: `make install` with PREFIX and DESTDIR puts everything where systemd, man and bash look.

Objective: the staged tree holds the tools, the four manual pages, the
systemd unit (whose ExecStart is the installed vswd and which
systemd-analyze verify accepts), the default configuration (which the
installed vswd reads) and the bash completion (which completes commands
from the installed vswctl's table); PREFIX=/usr puts the configuration in
/etc, PREFIX=/usr/local under it.

Steps:
  1. make install DESTDIR=D PREFIX=/usr: every file there, modes 0755/0644
  2. the unit: Type=notify, ExecStart D's sbin/vswd (as /usr/sbin/vswd),
     systemd-analyze verify (paths moved into D) prints nothing
  3. D/etc/vsw/vswd.json: the installed vswd --help runs; the file parses
     (vswd with it and ctl_group removed starts and stops)
  4. the completion, sourced with D/usr/sbin on PATH: "vswctl st" -> stats,
     "vswctl port add x pcap " -> write= among the keys, "port add x
     vhost-user " -> its keys and every type's (mac= ... tag= trunks=
     vlan_mode=), "port add x " -> the port types; `vswctl complete` refuses
     an unknown type
  5. make install DESTDIR=D2 PREFIX=/usr/local: the config under
     /usr/local/etc, the unit's ExecStart /usr/local/sbin/vswd
  6. make uninstall DESTDIR=D PREFIX=/usr leaves only the configuration
Each check prints PASS or FAIL; the last line is "install: N passed, M
failed"; the exit code is non-zero on any failure.

    python3 tests/scenario/install.py --build build

Needs make, systemd-analyze (systemd), bash-completion. No root.
"""

import argparse
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from steps_lib import Steps  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILES = {"usr/sbin/vswd": 0o755, "usr/sbin/vswctl": 0o755, "usr/bin/vsw-bench": 0o755,
         "usr/share/man/man8/vswd.8": 0o644, "usr/share/man/man8/vswctl.8": 0o644,
         "usr/share/man/man1/vsw-bench.1": 0o644, "usr/share/man/man5/vsw.conf.5": 0o644,
         "usr/lib/systemd/system/vswd.service": 0o644, "etc/vsw/vswd.json": 0o644,
         "usr/share/bash-completion/completions/vswctl": 0o644}


def make(build, *args):
    return subprocess.run(["make", "--no-print-directory", "-C", ROOT, "BUILD=" + build, *args],
                          capture_output=True, text=True, timeout=600)


def complete(dest, words):
    script = ('source /usr/share/bash-completion/bash_completion; source %s; PATH=%s:$PATH; '
              'COMP_WORDS=(%s); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_LINE="${COMP_WORDS[*]}"; '
              'COMP_POINT=${#COMP_LINE}; _vswctl 2>/dev/null; echo "${COMPREPLY[*]}"'
              % (os.path.join(dest, "usr/share/bash-completion/completions/vswctl"),
                 os.path.join(dest, "usr/sbin"), " ".join("'%s'" % w for w in words)))
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=20).stdout.split()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    steps = Steps()
    with tempfile.TemporaryDirectory(prefix="vsw-install.") as wd:
        dest = os.path.join(wd, "root")
        r = make(build, "install", "DESTDIR=" + dest, "PREFIX=/usr")
        steps.result(r.returncode == 0, "make install DESTDIR PREFIX=/usr", r.stderr[-500:])
        bad = []
        for f, mode in FILES.items():
            p = os.path.join(dest, f)
            if not os.path.isfile(p) or stat.S_IMODE(os.stat(p).st_mode) != mode:
                bad.append(f)
        steps.result(not bad, "every file in place with its mode (%d)" % len(FILES), " ".join(bad))

        unit_path = os.path.join(dest, "usr/lib/systemd/system/vswd.service")
        unit = open(unit_path).read() if os.path.exists(unit_path) else ""
        steps.result("Type=notify" in unit and "ExecStart=/usr/sbin/vswd --foreground --config /etc/vsw/vswd.json"
                     in unit and "@SBINDIR@" not in unit and "@SYSCONFDIR@" not in unit, "the unit: Type=notify, /usr/sbin/vswd")
        moved = os.path.join(wd, "vswd.service")
        with open(moved, "w") as f:
            f.write(unit.replace("/usr/sbin/vswd", os.path.join(dest, "usr/sbin/vswd")))
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", moved], capture_output=True, text=True,
                           timeout=60)
        steps.result(r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(),
                     "systemd-analyze verify accepts the unit", (r.stdout + r.stderr).strip())

        conf = os.path.join(dest, "etc/vsw/vswd.json")
        try:
            c = json.load(open(conf))
        except (OSError, ValueError) as e:
            c = {"error": str(e)}
        steps.result(c.get("ctl_group") == "vsw", "the default config names the control group vsw", repr(c))
        c.pop("ctl_group", None)
        test_conf = os.path.join(wd, "vswd.json")
        with open(test_conf, "w") as f:
            json.dump(c, f)
        ctl = os.path.join(wd, "vswd.sock")
        p = subprocess.Popen([os.path.join(dest, "usr/sbin/vswd"), "--foreground", "--ctl", ctl, "--config",
                              test_conf], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while not os.path.exists(ctl) and p.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        up = os.path.exists(ctl) and p.poll() is None
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
        steps.result(up and rc == 0, "the installed vswd runs the default config (less the group) and stops",
                     p.stderr.read()[-300:])

        got = complete(dest, ["vswctl", "st"])
        steps.result(got == ["stats"], "completion: vswctl st -> stats", repr(got))
        got = complete(dest, ["vswctl", "port", "add", "x", "pcap", ""])
        steps.result("write=" in got and "read=" in got and "mac=" in got,
                     "completion: port add x pcap -> its keys", repr(got))
        # Every type's keys, the VLAN ones too (--help prints them on a line of their own).
        got = complete(dest, ["vswctl", "port", "add", "x", "vhost-user", ""])
        want = ["path=", "mode=", "queues=", "mac=", "ip=", "mac_limit=", "flood_rate=", "tag=", "trunks=",
                "vlan_mode="]
        steps.result(all(k in got for k in want),
                     "completion: port add x vhost-user -> its keys and mac= ip= ... tag= trunks= vlan_mode=",
                     "missing %r in %r" % ([k for k in want if k not in got], got))
        got = complete(dest, ["vswctl", "port", "add", "x", "tap", "ifname=t0", "t"])
        steps.result(sorted(got) == ["tag=", "trunks="], "completion: port add x tap ifname=t0 t -> tag= trunks=",
                     repr(got))
        got = complete(dest, ["vswctl", "port", "add", "x", ""])
        steps.result(all(t in got for t in ("vhost-user", "tap", "afpacket", "afxdp", "pcap", "vxlan")) and
                     all("=" not in t and t != "any" for t in got), "completion: port add x -> the port types",
                     repr(got))
        r = subprocess.run([os.path.join(dest, "usr/sbin/vswctl"), "complete", "port-keys", "nosuch"],
                           capture_output=True, text=True, timeout=10)
        steps.result(r.returncode == 2 and "no port type nosuch" in r.stderr and "vhost-user" in r.stderr,
                     "vswctl complete port-keys nosuch: exit 2, naming the types", r.stderr)

        dest2 = os.path.join(wd, "local")
        r = make(build, "install", "DESTDIR=" + dest2, "PREFIX=/usr/local")
        unit2 = os.path.join(dest2, "usr/local/lib/systemd/system/vswd.service")
        ok = r.returncode == 0 and os.path.isfile(os.path.join(dest2, "usr/local/etc/vsw/vswd.json")) and \
            os.path.isfile(unit2) and "ExecStart=/usr/local/sbin/vswd" in open(unit2).read() and \
            "/usr/local/etc/vsw/vswd.json" in open(unit2).read()
        steps.result(ok, "PREFIX=/usr/local: config under /usr/local/etc, the unit runs /usr/local/sbin/vswd",
                     r.stderr[-300:])

        r = make(build, "uninstall", "DESTDIR=" + dest, "PREFIX=/usr")
        left = sorted(os.path.relpath(os.path.join(d, f), dest) for d, _, fs in os.walk(dest) for f in fs)
        steps.result(r.returncode == 0 and left == ["etc/vsw/vswd.json"],
                     "make uninstall leaves only the configuration", repr(left))

    print("install: %d passed, %d failed" % (steps.passed, steps.failed))
    return 1 if steps.failed else 0


if __name__ == "__main__":
    sys.exit(main())
