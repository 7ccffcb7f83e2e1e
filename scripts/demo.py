#!/usr/bin/env python3
"""demo.py - `make run`: vswd switching frames between two QEMU guests.

Starts vswd with a built-in default (one worker, learning switch, two
vhost-user server ports vm1 and vm2 under /tmp/vsw-run), boots two Linux
guests on them (TCG), has them ping each other, shows what vswctl sees
(ports, counters, the MAC table), then stops everything.  --keep leaves
vswd and the guests running until Ctrl-C.
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

RUN = "/tmp/vsw-run"
DEFAULT_CONFIG = {
    "workers": 1,
    "mode": "learning",
    "ports": [
        {"name": "vm1", "type": "vhost-user", "path": RUN + "/vm1.sock", "mode": "server"},
        {"name": "vm2", "type": "vhost-user", "path": RUN + "/vm2.sock", "mode": "server"},
    ],
}


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
    t0 = time.time()

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
        deadline = time.time() + 10
        while not os.path.exists(RUN + "/vswd.sock"):
            if time.time() > deadline or vswd.poll() is not None:
                sys.exit("vswd did not start: see %s/vswd.log" % RUN)
            time.sleep(0.05)
        print("vswd is up (config %s/vswd.json, log %s/vswd.log); booting two guests..." % (RUN, RUN), flush=True)
        g1 = guest.Guest("g1", RUN + "/vm1.sock", "10.0.0.1/24", "52:54:00:00:00:01", workdir=RUN)
        g2 = guest.Guest("g2", RUN + "/vm2.sock", "10.0.0.2/24", "52:54:00:00:00:02", workdir=RUN)
        g1.wait_ready(240)
        g2.wait_ready(240)
        print("guests up after %.0f s" % (time.time() - t0), flush=True)
        for a, ip in ((g1, "10.0.0.2"), (g2, "10.0.0.1")):
            rc, out = a.run("ping -c 5 -i 0.2 %s" % ip, timeout=30)
            print("[%s] $ ping -c 5 %s\n%s" % (a.name, ip, out.strip()), flush=True)
        vswctl(build, "show")
        vswctl(build, "stats")
        vswctl(build, "fdb", "show")
        print("done in %.0f s" % (time.time() - t0))
        if args.keep:
            print("vswd and the guests keep running; Ctrl-C to stop (vswctl --ctl %s/vswd.sock ...)" % RUN)
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
