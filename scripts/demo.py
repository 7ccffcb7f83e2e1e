#!/usr/bin/env python3
"""demo.py - `make run`: vswd switching frames between two QEMU guests.

Starts vswd with a built-in default (one worker, learning switch, two
vhost-user server ports vm1 and vm2 under /tmp/vsw-run), boots two Linux
guests on them (TCG), has them ping each other, shows what vswctl sees
(ports, counters, the MAC table), then stops everything.  --keep
(`make run KEEP=1`) leaves vswd and the guests running until Ctrl-C, for a
look with vswctl from another terminal.  Each phase prints a progress line
(scripts/progress.py); the first run also builds the guest image.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))

import guest  # noqa: E402
from progress import Progress  # noqa: E402

RUN = "/tmp/vsw-run"
DEFAULT_CONFIG = {
    "workers": 1,
    "mode": "learning",
    "ports": [
        {"name": "vm1", "type": "vhost-user", "path": RUN + "/vm1.sock", "mode": "server"},
        {"name": "vm2", "type": "vhost-user", "path": RUN + "/vm2.sock", "mode": "server"},
    ],
}


def intro_text():
    """What `make run` shows, for someone who has not seen vsw yet."""
    return (
        "make run: vswd, the switch, in one process with two vhost-user ports; a QEMU guest on each:\n"
        "\n"
        "    guest g1 (10.0.0.1) --- port vm1 [ vswd ] port vm2 --- guest g2 (10.0.0.2)\n"
        "\n"
        "  The guests ping each other: every frame crosses vswd, which learns their MACs.\n"
        "  Then vswctl (the client) shows the ports, their counters and the MAC table.\n"
        "  Files: %s (config vswd.json, log vswd.log, control socket vswd.sock, guest consoles).\n"
        % RUN)


def next_text(keep):
    """What to try next, while vswd runs (keep) or after it stopped."""
    ctl = "build/vswctl --ctl %s/vswd.sock" % RUN
    if not keep:
        return ("Next: `make run KEEP=1` keeps vswd and the guests running, to look at them with\n"
                "vswctl from another terminal; `build/vswctl --help` lists its commands,\n"
                "`man docs/man/vswctl.8` explains them.\n")
    return ("vswd and the guests keep running.  In another terminal, try:\n"
            "    %s show           ports, their type and state\n"
            "    %s stats          counters per port (--json, --openmetrics)\n"
            "    %s fdb show       the MAC table\n"
            "    %s capture vm1 --count 10 -w /tmp/vm1.pcap\n"
            "Ctrl-C here stops the guests and vswd.\n" % (ctl, ctl, ctl, ctl))


def vswctl(build, *args):
    cmd = [os.path.join(build, "vswctl"), "--ctl", RUN + "/vswd.sock"] + list(args)
    print("$ vswctl " + " ".join(args), flush=True)
    subprocess.run(cmd, timeout=10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--keep", action="store_true", help="keep running until Ctrl-C")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    print(intro_text(), flush=True)
    p = Progress("make run", 5)

    p.step("the guest image (built once into build/guest: a few minutes the first time)")
    guest.ensure_built()
    shutil.rmtree(RUN, ignore_errors=True)
    os.makedirs(RUN)
    with open(RUN + "/vswd.json", "w") as f:
        json.dump(DEFAULT_CONFIG, f, indent=1)
    log = open(RUN + "/vswd.log", "w")
    vswd = subprocess.Popen([os.path.join(build, "vswd"), "--foreground", "--ctl", RUN + "/vswd.sock",
                             "--config", RUN + "/vswd.json"], stdout=log, stderr=subprocess.STDOUT)
    g1 = g2 = None
    try:
        p.step("starting vswd")
        deadline = time.time() + 10
        while not os.path.exists(RUN + "/vswd.sock"):
            if time.time() > deadline or vswd.poll() is not None:
                sys.exit("vswd did not start: see %s/vswd.log" % RUN)
            time.sleep(0.05)
        p.step("booting two guests (QEMU, TCG: usually under a minute)")
        g1 = guest.Guest("g1", RUN + "/vm1.sock", "10.0.0.1/24", "52:54:00:00:00:01", workdir=RUN)
        g2 = guest.Guest("g2", RUN + "/vm2.sock", "10.0.0.2/24", "52:54:00:00:00:02", workdir=RUN)
        with p.ticking("guests booting (consoles: %s/g1.console.log, g2.console.log)" % RUN):
            g1.wait_ready(240)
            g2.wait_ready(240)
        p.step("g1 and g2 ping each other through vswd")
        for a, ip in ((g1, "10.0.0.2"), (g2, "10.0.0.1")):
            rc, out = a.run("ping -c 5 -i 0.2 %s" % ip, timeout=30)
            print("[%s] $ ping -c 5 %s\n%s" % (a.name, ip, out.strip()), flush=True)
        p.step("what vswctl sees: ports, counters, the MAC table")
        vswctl(build, "show")
        vswctl(build, "stats")
        vswctl(build, "fdb", "show")
        p.end()
        print(next_text(args.keep), flush=True)
        if args.keep:
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        for g in (g1, g2):
            if g:
                g.stop()
        vswd.terminate()
        try:
            vswd.wait(10)
        except subprocess.TimeoutExpired:
            vswd.kill()


if __name__ == "__main__":
    main()
