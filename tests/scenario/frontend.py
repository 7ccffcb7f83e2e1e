#!/usr/bin/env python3
"""frontend.py - vsw's own front end (vuser, through vsw-bench) against two back ends.

Objective: the front end library works against vswd and against DPDK's
vhost library (dpdk-testpmd with two net_vhost ports in io forwarding), and
every vsw-bench mode runs: one-second smoke runs, not measurements.

Steps:
  1. vswd with two vhost-user ports; vsw-bench throughput for split and
     packed rings, mergeable buffers on and off, 64/1518/9000-byte frames,
     4 flows, through fixed buffers and copied (--copy): frames arrive, in
     order, and every frame vsw-bench lost is a drop vswd counted (sent =
     received + vswd's drops); the way vsw-bench reports is the one asked
     for (9000 bytes over mergeable buffers: always copied);
  2. vswd's stage timing after that traffic (`vswctl perf show --json`):
     packets at the rx, parse, lookup, action, tx, used-ring publish and
     rx-done points, a latency, and busy cycles in `vswctl stats`; then
     reset to zero, and switched off for step 3 (no packets counted);
  3. vsw-bench ping-pong through vswd: all answered, percentiles reported;
  4. vsw-bench in server mode with vswd ports in client mode;
  5. dpdk-testpmd (net_vhost x2, io forwarding) as the back end: throughput
     (fixed buffers and copied) and ping-pong, split and packed;
  6. vsw-bench --tso (issue 15: 64 KiB TCP sends asking CSUM + TSO4)
     through vswd, split and packed, mergeable buffers on and off: with B
     acking GUEST_TSO4 every frame arrives whole (45 segments' worth), with
     --no-guest-tso vswd segments them (one 1,448-byte segment a frame);
     checksums and payload checked, nothing bad, nothing out of order;
     through fixed buffers (the default) and copied (--copy);
     against testpmd without tso=1 (no HOST_TSO4 offered) vsw-bench --tso
     refuses to run and says why;
  7. vsw-bench --in-flight N (the load sweep's closed loop) through vswd,
     split and packed: at most N frames out (vsw-bench reaches N, vswd's
     busy rounds average N or fewer frames), nothing lost; and through a
     rule that drops every frame: the loop writes its N frames off every
     50 ms, so A sent exactly N x (write-offs + 1).
Closing line: "frontend: N passed, M failed".
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
sys.path.insert(0, os.path.join(REPO, "scripts"))
import hugepages  # noqa: E402

results = []


def check(name, ok, detail=""):
    results.append((name, ok))
    print("%-52s %s %s" % (name, "ok" if ok else "FAILED", detail), flush=True)
    return ok


def bench(build, wd, *args, timeout=60):
    cmd = [os.path.join(build, "vsw-bench"), "--a", os.path.join(wd, "a.sock"),
           "--b", os.path.join(wd, "b.sock"), "--json"] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    try:
        return json.loads(p.stdout.strip().splitlines()[-1]), p
    except (ValueError, IndexError):
        return None, p


class Vswd:
    def __init__(self, build, wd, client=False):
        self.ctl = os.path.join(wd, "ctl.sock")
        self.vswctl = os.path.join(build, "vswctl")
        mode = "client" if client else "server"
        conf = {"workers": 1, "ports": [
            {"name": "a", "type": "vhost-user", "path": os.path.join(wd, "a.sock"), "mode": mode},
            {"name": "b", "type": "vhost-user", "path": os.path.join(wd, "b.sock"), "mode": mode}]}
        with open(os.path.join(wd, "vswd.json"), "w") as f:
            json.dump(conf, f)
        self.log = open(os.path.join(wd, "vswd.log"), "a")
        self.proc = subprocess.Popen([os.path.join(build, "vswd"), "--foreground", "--ctl", self.ctl,
                                      "--config", os.path.join(wd, "vswd.json")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while not os.path.exists(self.ctl):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("vswd did not start")
            time.sleep(0.05)

    def stats(self):
        out = subprocess.run([self.vswctl, "--ctl", self.ctl, "--json", "stats"], capture_output=True,
                             text=True, timeout=10).stdout
        return {p["name"]: p for p in json.loads(out)["ports"]}

    def call(self, *words):
        out = subprocess.run([self.vswctl, "--ctl", self.ctl, "--json"] + list(words), capture_output=True,
                             text=True, timeout=10).stdout
        return json.loads(out)

    def workers(self):
        return self.call("stats")["workers"]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def check_perf(sw):
    """After traffic: every stage of a vhost-user to vhost-user batch was timed, and reset empties it."""
    r = sw.call("perf", "show")
    t = r["total"]["stages"]
    want = ["round", "rx.vhost-user", "parse", "lookup", "action.output", "tx.vhost-user", "used_publish",
            "rx_done"]
    empty = [k for k in want if t[k]["packets"] == 0 or t[k]["cycles"] == 0]
    lat = r["total"]["latency_us"]
    w = sw.workers()[0]
    check("vswd perf show: every stage timed", r.get("enabled") is True and not empty and
          lat["packets"] > 0 and 0 < lat["p50"] <= lat["p99"] <= lat["p99.9"],
          "untimed %s; lookup %d pkts %.1f cyc/pkt, tx %.1f cyc/pkt, latency p50 %.2f us p99 %.2f us" % (
              empty, t["lookup"]["packets"], t["lookup"]["cycles_per_packet"],
              t["tx.vhost-user"]["cycles_per_packet"], lat["p50"], lat["p99"]))
    check("vswd stats: worker busy_cycles", w["busy_cycles"] > 0 and w["tsc_hz"] > 0 and
          0 < w["busy_frames"] <= w["frames"],
          "%d cycles for %d frames: %.1f cycles/frame" % (
              w["busy_cycles"], w["busy_frames"], w["busy_cycles"] / max(w["busy_frames"], 1)))
    sw.call("perf", "reset")
    t = sw.call("perf", "show")["total"]["stages"]
    check("vswd perf reset", all(t[k]["packets"] == 0 for k in want), "")


def against_vswd(build):
    wd = tempfile.mkdtemp(prefix="vsw-frontend-")
    sw = Vswd(build, wd)
    try:
        for layout, mrg, size, way in ((layout, mrg, size, way) for layout in ([], ["--packed"])
                                       for mrg in ([], ["--no-mrg"]) for size in (64, 1518, 9000)
                                       for way in ([], ["--copy"])):
            # Fixed buffers unless --copy or a frame over several mergeable buffers.
            want = "copy" if way or (size > 2048 - 12 - 18 and not mrg) else "fixed"
            name = "vswd %s %s %dB %s" % ("packed" if layout else "split", "no-mrg" if mrg else "mrg", size, want)
            before = sw.stats()
            r, p = bench(build, wd, "--seconds", "1", "--size", str(size), "--flows", "4",
                         *(layout + mrg + way))
            if not r:
                check(name, False, p.stderr.strip()[-300:])
                continue
            after = sw.stats()
            drops = sum(after["b"]["drops"].values()) - sum(before["b"]["drops"].values())
            drops += sum(after["a"]["drops"].values()) - sum(before["a"]["drops"].values())
            rx_a = after["a"]["rx_packets"] - before["a"]["rx_packets"]
            # frames sent = frames vswd took in from a (+1 hello from b, not from a) ...
            # B is known to the switch, so nothing may go "nowhere"; a receiver
            # as fast as the sender gets most frames.
            nowhere = after["a"]["drops"]["no_destination"] - before["a"]["drops"]["no_destination"]
            ok = (r["rx"] > r["tx"] // 10 and r["out_of_order"] == 0 and rx_a == r["tx"] and
                  r["tx"] == r["rx"] + drops and nowhere == 0 and r["buffers"] == want)
            check(name, ok, "tx %d rx %d lost %d, vswd rx(a) %d drops %d, %.2f Mpps" % (
                r["tx"], r["rx"], r["lost"], rx_a, drops, r["rx_mpps"]))
        for layout in ([], ["--packed"]):
            for mrg in ([], ["--no-mrg"]):
                for guest in ([], ["--no-guest-tso"]):
                    for way in ([], ["--copy"]):
                        tso_run(build, wd, layout, mrg, guest, way)
        check_perf(sw)
        in_flight_runs(build, wd, sw)
        sw.call("perf", "reset")
        off = sw.call("perf", "disable")
        frames0 = sw.workers()[0]["frames"]
        r, p = bench(build, wd, "--pingpong=2000")
        # 2000 counted rounds after the default warm-up of twice the queue size (256).
        check("vswd ping-pong", bool(r) and r["lost"] == 0 and r["p50_us"] > 0 and r["samples"] == 2000 and
              r["warmup"] == 512,
              "p50 %.1f us p99 %.1f us, %d samples after %d warm-up rounds" % (
                  r["p50_us"], r["p99_us"], r["samples"], r["warmup"]) if r else p.stderr[-300:])
        # Sparse: 3 ms idle before each ping, past the 1 ms after which a queue turns cold: every ping goes
        # through the kick path (this vswd sleeps when idle) and must still come back.
        r, p = bench(build, wd, "--pingpong=30", "--warmup", "3", "--gap", "3000")
        check("vswd sparse ping-pong (--gap 3000): every ping answered", bool(r) and r["lost"] == 0 and
              r["samples"] == 30 and r["gap_us"] == 3000 and r["p50_us"] > 0,
              "p50 %.1f us p99 %.1f us, %d samples, %d lost" % (r["p50_us"], r["p99_us"], r["samples"], r["lost"])
              if r else p.stderr[-300:])
        t = sw.call("perf", "show")["total"]["stages"]
        moved = sw.workers()[0]["frames"] - frames0
        check("vswd perf disable: nothing timed", off.get("ok") is True and moved > 0 and
              t["lookup"]["packets"] == 0 and t["round"]["batches"] == 0,
              "%d frames moved, lookup packets %d" % (moved, t["lookup"]["packets"]))
        sw.call("perf", "enable")
    finally:
        sw.stop()
    # vsw-bench listens, vswd connects (and retries every second until it can).
    wd = tempfile.mkdtemp(prefix="vsw-frontend-client-")
    sw = Vswd(build, wd, client=True)
    try:
        r, p = bench(build, wd, "--server", "--seconds", "1")
        check("vswd as client, vsw-bench as server", bool(r) and r["rx"] > 0,
              "rx %d" % r["rx"] if r else p.stderr[-300:])
    finally:
        sw.stop()


def in_flight_runs(build, wd, sw):
    """Step 7: vsw-bench --in-flight (the load sweep's closed loop).  Through vswd, at most N frames are out:
    vsw-bench reaches N and no more, and vswd's rounds that moved frames took N or fewer on average; nothing is
    lost or written off.  Then through a rule that drops every frame: every 50 ms the loop writes off its N
    frames and sends N more, so A sent exactly N x (write-offs + 1)."""
    for layout in ([], ["--packed"]):
        for n in (8, 100):
            name = "vswd --in-flight %d %s" % (n, "packed" if layout else "split")
            sw.call("perf", "reset")
            r, p = bench(build, wd, "--seconds", "1", "--in-flight", str(n), *layout)
            rnd = sw.call("perf", "show")["total"]["stages"]["round"]
            per_round = rnd["packets"] / max(rnd["batches"], 1)
            ok = (bool(r) and r["in_flight"] == n and r["max_in_flight"] == n and r["rx"] == r["tx"] and
                  r["stalls"] == 0 and r["out_of_order"] == 0 and r["rx"] > 10000 and 0 < per_round <= n)
            check(name, ok, "tx %d rx %d, reached %d, %d write-offs, vswd %.1f frames a busy round" % (
                r["tx"], r["rx"], r["max_in_flight"], r["stalls"], per_round) if r else p.stderr[-300:])
    sw.call("flow", "add", "priority=100,actions=drop")
    try:
        r, p = bench(build, wd, "--seconds", "1", "--in-flight", "16")
        ok = (bool(r) and p.returncode == 1 and r["rx"] == 0 and 15 <= r["stalls"] <= 21 and
              r["tx"] == 16 * (r["stalls"] + 1) and r["max_in_flight"] == 16)
        check("vswd --in-flight 16, every frame dropped: written off", ok,
              "tx %d, %d write-offs, exit %d" % (r["tx"], r["stalls"], p.returncode) if r else p.stderr[-300:])
    finally:
        sw.call("flow", "del")


def tso_run(build, wd, layout, mrg, guest, way):
    """Step 6: one second of vsw-bench --tso through vswd; whole frames to B, or vswd's segments."""
    name = "vswd tso %s %s %s %s" % ("packed" if layout else "split", "no-mrg" if mrg else "mrg",
                                     "segmented" if guest else "whole", "copied" if way else "fixed")
    r, p = bench(build, wd, "--tso", "--seconds", "1", *(layout + mrg + guest + way))
    if not r or r.get("mode") != "tso":
        check(name, False, (p.stderr or p.stdout).strip()[-300:])
        return
    if guest:
        form = not r["peer_tso"] and r["rx_gso_frames"] == 0 and r["rx_segments"] == r["rx_frames"]
    else:
        form = r["peer_tso"] and r["rx_gso_frames"] == r["rx_frames"] and r["rx_segments"] == 45 * r["rx_frames"]
    ok = (p.returncode == 0 and form and r["bad"] == 0 and r["rx_payload_bytes"] > 0 and r["verified"] > 0 and
          r["out_of_order"] == 0 and r["other"] == 0 and r["buffers"] == ("copy" if way else "fixed"))
    check(name, ok, "%d frames (%d whole), %d segments, %.2f Gbit/s, %d checked, bad %d" % (
        r["rx_frames"], r["rx_gso_frames"], r["rx_segments"], r["rx_gbps"], r["verified"], r["bad"]))


def against_testpmd(build):
    wd = tempfile.mkdtemp(prefix="vsw-frontend-testpmd-")
    with hugepages.Hugepages(1024):
        for packed in (False, True):
            against_testpmd_once(build, wd, packed)


def against_testpmd_once(build, wd, packed):
    name = "testpmd net_vhost %s" % ("packed" if packed else "split")
    for s in ("a.sock", "b.sock"):
        if os.path.exists(os.path.join(wd, s)):
            os.unlink(os.path.join(wd, s))
    log = open(os.path.join(wd, "testpmd.log"), "w")
    tp = subprocess.Popen(
        ["dpdk-testpmd", "--no-pci", "--in-memory", "-l", "0-1",
         "--vdev", "net_vhost0,iface=%s/a.sock" % wd, "--vdev", "net_vhost1,iface=%s/b.sock" % wd,
         "--", "--forward-mode=io", "--nb-cores=1", "--total-num-mbufs=32768", "--stats-period=100", "-a"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while not (os.path.exists(wd + "/a.sock") and os.path.exists(wd + "/b.sock")):
            if time.time() > deadline or tp.poll() is not None:
                raise RuntimeError("testpmd did not start; see %s/testpmd.log" % wd)
            time.sleep(0.1)
        layout = ["--packed"] if packed else []
        for way in ("fixed", "copy"):
            r, p = bench(build, wd, "--seconds", "1", *(layout + (["--copy"] if way == "copy" else [])))
            check(name + " throughput, %s buffers" % way,
                  bool(r) and r["rx"] > 0 and r["out_of_order"] == 0 and r["buffers"] == way,
                  "tx %d rx %d %.2f Mpps" % (r["tx"], r["rx"], r["rx_mpps"]) if r else p.stderr[-300:])
        r, p = bench(build, wd, "--pingpong=1000", *layout)
        check(name + " ping-pong", bool(r) and r["lost"] == 0,
              "p50 %.1f us" % r["p50_us"] if r else p.stderr[-300:])
        # net_vhost without tso=1 offers no HOST_TSO4: --tso must refuse, not measure something else.
        r, p = bench(build, wd, "--tso", "--seconds", "1", *layout)
        check(name + " --tso refused (no HOST_TSO4)",
              p.returncode == 1 and r is None and "does not take TSO frames" in p.stderr, p.stderr.strip()[-200:])
    except Exception as e:
        check(name, False, repr(e))
    finally:
        tp.terminate()
        try:
            tp.wait(15)
        except subprocess.TimeoutExpired:
            tp.kill()
        log.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    try:
        against_vswd(build)
    except Exception as e:
        check("vswd back end", False, repr(e))
    try:
        against_testpmd(build)
    except Exception as e:
        check("testpmd back end", False, repr(e))
    failed = sum(1 for _, ok in results if not ok)
    print("frontend: %d passed, %d failed" % (len(results) - failed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
