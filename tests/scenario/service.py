#!/usr/bin/env python3
"""service.py - scenario: vswd as a systemd service: readiness, reload of the port list, stop.

Objective: under a NOTIFY_SOCKET vswd says READY=1 once its control socket
listens and the configured ports are there, RELOADING=1 then READY=1
around a SIGHUP (systemctl reload), STOPPING=1 on SIGTERM; a reload applies
the port list of the file as it is now: ports gone from the file deleted,
new ones added, changed ones recreated with their new keys, unchanged ones
and those vswctl added left alone; a broken file changes nothing.

Steps (no systemd needed: the test is the notify socket):
  1. a datagram socket plays systemd's notify socket; vswd --foreground
     --config with pcap ports keep, gone, changed; READY=1 arrives and the
     control socket answers
  2. vswctl port add byhand; the file now lists keep (same), changed (new
     write= file), fresh; SIGHUP: RELOADING=1 (with MONOTONIC_USEC) then
     READY=1; show lists keep, changed (its new file), fresh, byhand and
     not gone; vswd's log shows keep and byhand were not deleted
  3. the file cut short; SIGHUP: READY=1 again, the ports are as they were,
     the log names the file and line
  4. SIGTERM: STOPPING=1, exit 0
Each check prints PASS or FAIL; the last line is "service: N passed, M
failed"; the exit code is non-zero on any failure.

    python3 tests/scenario/service.py --build build

Needs build/vswd and build/vswctl. No root, no network.
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
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from steps_lib import Steps  # noqa: E402


def write_pcap(path, n):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            fr = b"\xff" * 6 + bytes.fromhex("0200000000%02x" % (i % 250 + 1)) + b"\x08\x00" + bytes(50)
            f.write(struct.pack("<IIII", i, 0, len(fr), len(fr)) + fr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    steps = Steps()
    with tempfile.TemporaryDirectory(prefix="vsw-service.") as wd:
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(os.path.join(wd, "notify"))
        notify.settimeout(10)
        ctl = os.path.join(wd, "vswd.sock")
        conf = os.path.join(wd, "vswd.json")
        write_pcap(os.path.join(wd, "in.pcap"), 5)

        def pcap(name, **kw):
            return dict({"name": name, "type": "pcap"}, **kw)

        def write_conf(ports):
            with open(conf, "w") as f:
                json.dump({"workers": 1, "ports": ports}, f, indent=1)

        def vswctl(*a):
            r = subprocess.run([os.path.join(build, "vswctl"), "--ctl", ctl, *a], capture_output=True, text=True,
                               timeout=20)
            return r.returncode, r.stdout, r.stderr

        def ports():
            rc, out, _ = vswctl("--json", "show")
            return {p["name"]: p for p in json.loads(out)["ports"]} if rc == 0 else None

        def msgs(until, limit_s=10):
            """Notify datagrams until one holds @until (or the time is up)."""
            got = []
            deadline = time.time() + limit_s
            while time.time() < deadline:
                try:
                    notify.settimeout(max(0.1, deadline - time.time()))
                    got.append(notify.recv(4096).decode())
                except socket.timeout:
                    break
                if until in got[-1]:
                    break
            return got

        write_conf([pcap("keep", read=os.path.join(wd, "in.pcap"), write=os.path.join(wd, "keep.pcap")),
                    pcap("gone", write=os.path.join(wd, "gone.pcap")),
                    pcap("changed", write=os.path.join(wd, "changed1.pcap"))])
        log_path = os.path.join(wd, "vswd.log")
        log = open(log_path, "w")
        env = dict(os.environ, NOTIFY_SOCKET=os.path.join(wd, "notify"))
        proc = subprocess.Popen([os.path.join(build, "vswd"), "--foreground", "--ctl", ctl, "--config", conf],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            got = msgs("READY=1")
            steps.result(any("READY=1" in m for m in got), "READY=1 at start", repr(got))
            first = ports()
            steps.result(first is not None and set(first) == {"keep", "gone", "changed"},
                         "the control socket answers when READY=1 came; the three ports are there", repr(first))

            steps.result(vswctl("port", "add", "byhand", "pcap", "write=" + os.path.join(wd, "byhand.pcap"))[0] == 0,
                         "vswctl port add byhand")
            write_conf([pcap("keep", read=os.path.join(wd, "in.pcap"), write=os.path.join(wd, "keep.pcap")),
                        pcap("changed", write=os.path.join(wd, "changed2.pcap")),
                        pcap("fresh", write=os.path.join(wd, "fresh.pcap"))])
            proc.send_signal(signal.SIGHUP)
            got = msgs("READY=1")
            steps.result(len(got) >= 2 and got[0].startswith("RELOADING=1") and "MONOTONIC_USEC=" in got[0]
                         and "READY=1" in got[-1], "SIGHUP: RELOADING=1 (MONOTONIC_USEC) then READY=1", repr(got))
            now = ports() or {}
            steps.result(set(now) == {"keep", "changed", "fresh", "byhand"},
                         "after the reload: keep, changed, fresh and byhand; gone is gone", repr(sorted(now)))
            opts = json.dumps(now.get("changed", {}))
            steps.result("changed2.pcap" in opts and "changed1.pcap" not in opts,
                         "changed was recreated with its new write= file", opts)
            log.flush()
            text = open(log_path).read()
            steps.result(text.count("port keep added") == 1 and "port keep deleted" not in text
                         and text.count("port changed deleted") == 1 and "port byhand deleted" not in text,
                         "keep and byhand were left alone, changed deleted once (vswd's log)")

            with open(conf, "w") as f:
                f.write('{"workers": 1,\n "ports": [\n  {"name": "keep", "type": "pcap",\n')
            proc.send_signal(signal.SIGHUP)
            got = msgs("READY=1")
            after = ports() or {}
            log.flush()
            text = open(log_path).read()
            steps.result(any("READY=1" in m for m in got) and set(after) == set(now) and proc.poll() is None,
                         "a truncated file at reload: READY=1, the ports as they were, vswd alive", repr(got))
            steps.result((conf + ":4:") in text and "nothing changed" in text,
                         "the log names the file and its line", text.strip().splitlines()[-1] if text else "")

            proc.send_signal(signal.SIGTERM)
            got = msgs("STOPPING=1")
            rc = proc.wait(10)
            steps.result(any("STOPPING=1" in m for m in got) and rc == 0, "SIGTERM: STOPPING=1, exit 0",
                         "%r rc %s" % (got, rc))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()
            notify.close()

    print("service: %d passed, %d failed" % (steps.passed, steps.failed))
    return 1 if steps.failed else 0


if __name__ == "__main__":
    sys.exit(main())
