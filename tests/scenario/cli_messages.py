#!/usr/bin/env python3
"""cli_messages.py - scenario: what a person reads when vswd is not running or its config file is broken.

Objective: one cause, one message, naming the place and the fix.

Steps:
  1. vswctl stats with no vswd at the socket: exit 1, exactly one line on
     stderr naming the socket and asking whether vswd runs; nothing on
     stdout (it used to print a second line, "no valid response")
  2. the same for vswctl capture (its own path to the socket)
  3. vswd --config FILE with FILE cut short inside a port entry: exit 1,
     one line naming FILE, the line the file ends at, the object left open
     and the '}' that would close it (it used to say only
     "json_tokener_parse_ex failed: continue")
  4. vswd --config FILE with a missing ',' between two members: FILE:LINE:COLUMN
Each check prints PASS or FAIL; the last line is "cli-messages: N passed,
M failed"; the exit code is non-zero on any failure.

    python3 tests/scenario/cli_messages.py --build build

Needs build/vswd and build/vswctl. No root, no network.
"""

import argparse
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from steps_lib import Steps  # noqa: E402


def run(argv):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    return r.returncode, r.stdout, r.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    vswctl, vswd = os.path.join(build, "vswctl"), os.path.join(build, "vswd")
    steps = Steps()
    with tempfile.TemporaryDirectory(prefix="vsw-cli.") as wd:
        ctl = os.path.join(wd, "nobody-listens.sock")
        for words in (["stats"], ["capture", "p0", "-w", os.path.join(wd, "x.pcap"), "--count", "1"]):
            rc, out, err = run([vswctl, "--ctl", ctl, *words])
            lines = err.splitlines()
            steps.result(rc == 1 and len(lines) == 1 and ctl in lines[0] and "is vswd running" in lines[0]
                         and not out, "vswctl %s without vswd: one message naming the socket" % words[0],
                         repr(err))

        conf = os.path.join(wd, "vswd.json")
        with open(conf, "w") as f:
            f.write('{\n  "workers": 1,\n  "ports": [\n    {"name": "a", "type": "pcap",\n')
        rc, out, err = run([vswd, "--foreground", "--ctl", os.path.join(wd, "s"), "--config", conf])
        lines = err.splitlines()
        steps.result(rc == 1 and len(lines) == 1 and (conf + ":5:") in lines[0] and "line 4" in lines[0]
                     and "'}' expected" in lines[0] and "continue" not in lines[0],
                     "vswd with a truncated config: file, line, the open object and the '}' expected", repr(err))

        with open(conf, "w") as f:
            f.write('{"workers": 1,\n "mode": "hub"\n "aging": 30}\n')
        rc, out, err = run([vswd, "--foreground", "--ctl", os.path.join(wd, "s"), "--config", conf])
        steps.result(rc == 1 and (conf + ":3:2:") in err and "',' expected" in err,
                     "vswd with a missing ',': file, line and column, ',' expected", repr(err))

    print("cli-messages: %d passed, %d failed" % (steps.passed, steps.failed))
    return 1 if steps.failed else 0


if __name__ == "__main__":
    sys.exit(main())
