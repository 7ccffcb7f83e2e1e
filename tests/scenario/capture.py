#!/usr/bin/env python3
"""capture.py - scenario: pcap ports replay and record through vswd; `vswctl capture` records a port's frames.

Objective: a pcap port replays a file into the switch exactly (every frame,
byte for byte, in order; paced with pps=, repeated with loop=1), a pcap
writer port records exactly what the switch sends it, and `vswctl capture`
writes the frames a port sends or receives that match a BPF filter, stopping
at --count, at --seconds or at ^C.  Every written file is read back by
tcpdump and tshark (independent pcap readers) and byte-compared here.

    in.pcap --(r1: pcap read=)--> vswd (learning) --(w1: pcap write=)--> out.pcap
                                        |
                      vswctl capture w1 --dir tx icmp -w cap.pcap

Steps:
  1. generate in.pcap (Python struct, classic pcap): 20 ICMP echo requests
     of 64..1514 bytes, 10 UDP datagrams, 5 ARP broadcasts, interleaved;
     and raw.pcap, the same header with link type 101 (raw IP)
  2. start vswd --foreground (2 workers) on a control socket in a temp dir
  3. refusals, each with a one-line reason: a pcap port on a missing file,
     on raw.pcap ("not Ethernet"), with neither read= nor write=; a capture
     on a missing port, with a bad filter
  4. add w1 (write=out.pcap); start `vswctl capture w1 --dir tx --count 20
     icmp -w cap.pcap`; a second capture on w1 is refused; add r1
     (read=in.pcap): the capture ends by itself with "20 frames written";
     `show` says r1 is done after 35 frames; delete w1 (closes out.pcap).
     tcpdump -r and tshark -r -Y icmp count 20 frames in cap.pcap, tshark
     counts 35 / 20 / 10 / 5 (all, icmp, udp, arp) in out.pcap, and both
     files hold exactly the frames of in.pcap (all, or the ICMP ones)
  5. rx direction: add w2 (write=out2.pcap) and r2 (read=in.pcap pps=50),
     then `vswctl capture r2 --dir rx --count 5 udp`: 5 consecutive UDP
     frames of in.pcap; a tx capture on r2 (nothing is sent to it) gets 0
  6. --seconds 1 with no traffic: ends after about a second, 0 frames
  7. pacing and ^C: r3 replays in.pcap with pps=20 loop=1; `vswctl
     capture w2 arp` (no limit) gets SIGINT after 3 s: it reports N > 0
     frames, tcpdump and tshark find N ARP frames; r3 replayed 40..80
     frames in those ~3 s and more than one pass
  8. a port deleted while captured: the capture's file is closed by vswd
     (tcpdump reads it), vswctl reports the error and exits non-zero
  9. a vswctl killed mid-capture: `vswctl capture w3 --stop` ends its
     capture; another left running is closed by vswd's shutdown (the
     file reads back); vswd is alive, exits 0 on SIGTERM, and printed no
     sanitizer report (run it with --build build/asan for leak checks)
Each check prints PASS or FAIL; the last line is "capture: N passed,
M failed"; the exit code is non-zero on any failure.

    python3 tests/scenario/capture.py --build build [--keep]

Needs root (vswd's default paths are not used, but the scenario runner
runs scenarios as root), build/vswd, build/vswctl, tcpdump and tshark.
"""

import argparse
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True

PASSED = 0
FAILED = 0


def check(ok, what, detail=""):
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print(f"PASS {what}")
    else:
        FAILED += 1
        print(f"FAIL {what}" + (f": {detail}" if detail else ""))
    sys.stdout.flush()
    return ok


# ---- frames and pcap files (test side only: vswd uses libpcap) ----

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")
MAC_C = bytes.fromhex("020000000003")
BCAST = b"\xff" * 6


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, 64, proto, 0, bytes(src), bytes(dst))
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload


def icmp_echo(seq, frame_len):
    pad = frame_len - 14 - 20 - 8
    body = struct.pack("!BBHHH", 8, 0, 0, 0x1234, seq) + bytes((seq + i) & 0xFF for i in range(pad))
    body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
    return MAC_B + MAC_A + b"\x08\x00" + ipv4([10, 0, 0, 1], [10, 0, 0, 2], 1, body, seq)


def udp(seq):
    data = b"vsw capture test %03d" % seq + bytes(20)
    body = struct.pack("!HHHH", 40000 + seq, 5000, 8 + len(data), 0) + data
    return MAC_C + MAC_A + b"\x08\x00" + ipv4([10, 0, 0, 1], [10, 0, 0, 3], 17, body, 1000 + seq)


def arp(seq):
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC_A, bytes([10, 0, 0, 1]), bytes(6),
                       bytes([10, 0, 0, 100 + seq]))
    return BCAST + MAC_A + b"\x08\x06" + body + bytes(18)


def kind(frame):
    et = frame[12:14]
    if et == b"\x08\x06":
        return "arp"
    return {1: "icmp", 17: "udp"}.get(frame[23], "other")


def write_pcap(path, frames, linktype=1):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr), len(fr)))
            f.write(fr)


def read_pcap(path):
    """The frames of a classic pcap file (either byte order, micro or nano): [(caplen bytes, orig len)]."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        e = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        e = ">"
    else:
        raise ValueError(f"{path}: not a pcap file (magic {magic:#x})")
    off, out = 24, []
    while off + 16 <= len(data):
        _, _, caplen, length = struct.unpack(e + "IIII", data[off:off + 16])
        out.append((data[off + 16:off + 16 + caplen], length))
        off += 16 + caplen
    return out


def frames_of(path):
    return [fr for fr, _ in read_pcap(path)]


# ---- vswd and vswctl ----

class Switch:
    def __init__(self, build, tmp):
        self.build = build
        self.ctl = os.path.join(tmp, "vswd.sock")
        conf = os.path.join(tmp, "vswd.json")
        with open(conf, "w") as f:
            f.write('{"workers": 2}\n')
        self.log_path = os.path.join(tmp, "vswd.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([os.path.join(build, "vswd"), "--foreground", "--ctl", self.ctl,
                                      "--config", conf], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while not os.path.exists(self.ctl) and time.time() < deadline and self.proc.poll() is None:
            time.sleep(0.05)
        if not os.path.exists(self.ctl):
            raise RuntimeError("vswd did not start; see " + self.log_path)

    def ctl_cmd(self, *args, timeout=20):
        r = subprocess.run([os.path.join(self.build, "vswctl"), "--ctl", self.ctl, *args], capture_output=True,
                           text=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr

    def capture_bg(self, *args):
        """Start `vswctl capture ...`; returns once vswd accepted the capture (or vswctl ended)."""
        p = subprocess.Popen([os.path.join(self.build, "vswctl"), "--ctl", self.ctl, "capture", *args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = p.stderr.readline()
        p.started_line = line
        return p

    def port_state(self, name):
        import json
        rc, out, _ = self.ctl_cmd("--json", "show")
        if rc:
            return None
        for p in json.loads(out)["ports"]:
            if p["name"] == name:
                return p["state"]
        return None

    def port_stats(self, name):
        import json
        rc, out, _ = self.ctl_cmd("stats", "--json")
        if rc:
            return None
        for p in json.loads(out)["ports"]:
            if p["name"] == name:
                return p
        return None

    def wait_state(self, name, needle, timeout=10):
        deadline = time.time() + timeout
        st = None
        while time.time() < deadline:
            st = self.port_state(name)
            if st and needle in st:
                return st
            time.sleep(0.05)
        return st

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def tcpdump_lines(path, flt=()):
    r = subprocess.run(["tcpdump", "-n", "-r", path, *flt], capture_output=True, text=True, timeout=30)
    return r.returncode, [l for l in r.stdout.splitlines() if l.strip()]


def tshark_count(path, dfilter=None):
    args = ["tshark", "-n", "-r", path] + (["-Y", dfilter] if dfilter else [])
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return r.returncode, len([l for l in r.stdout.splitlines() if l.strip()])


def finish(p, timeout=15):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return None, out, err
    return p.returncode, out, err


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="where vswd and vswctl are (default build)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()
    for tool in ("tcpdump", "tshark"):
        if not shutil.which(tool):
            print(f"{tool} not found")
            print("capture: 0 passed, 1 failed")
            return 1

    tmp = tempfile.mkdtemp(prefix="vsw-capture.")
    path = lambda name: os.path.join(tmp, name)  # noqa: E731

    # 1. the input files
    frames, ifr = [], 0
    for i in range(35):
        if i % 7 == 3:
            frames.append(arp(i))
        elif i % 7 in (1, 5):
            frames.append(udp(i))
        else:
            frames.append(icmp_echo(ifr, 64 + ifr * 75))
            ifr += 1
    icmp = [f for f in frames if kind(f) == "icmp"]
    udps = [f for f in frames if kind(f) == "udp"]
    arps = [f for f in frames if kind(f) == "arp"]
    assert (len(icmp), len(udps), len(arps)) == (20, 10, 5)
    write_pcap(path("in.pcap"), frames)
    write_pcap(path("raw.pcap"), [f[14:] for f in frames[:3]], linktype=101)
    rc, lines = tcpdump_lines(path("in.pcap"))
    check(rc == 0 and len(lines) == 35, "tcpdump reads the generated in.pcap (35 frames)", f"rc {rc}, {len(lines)}")

    # 2. vswd
    sw = Switch(args.build, tmp)
    try:
        # 3. refusals
        rc, _, err = sw.ctl_cmd("port", "add", "bad", "pcap", "read=" + path("missing.pcap"))
        check(rc != 0 and "missing.pcap" in err and "No such file" in err, "pcap port on a missing file refused",
              err.strip())
        rc, _, err = sw.ctl_cmd("port", "add", "bad", "pcap", "read=" + path("raw.pcap"))
        check(rc != 0 and "not Ethernet" in err, "pcap port on a raw-IP file refused", err.strip())
        rc, _, err = sw.ctl_cmd("port", "add", "bad", "pcap")
        check(rc != 0 and "read=" in err, "pcap port without read= or write= refused", err.strip())
        rc, _, err = sw.ctl_cmd("capture", "nope", "-w", path("x.pcap"))
        check(rc != 0 and "no port nope" in err, "capture on a missing port refused", err.strip())

        # 4. tx capture on a writer port, replay from a reader port
        rc, _, err = sw.ctl_cmd("port", "add", "w1", "pcap", "write=" + path("out.pcap"))
        check(rc == 0, "add w1 (pcap write=out.pcap)", err.strip())
        rc, _, err = sw.ctl_cmd("capture", "w1", "icmp and and", "-w", path("x.pcap"))
        check(rc != 0 and "filter" in err, "capture with a bad filter refused", err.strip())
        cap = sw.capture_bg("w1", "--dir", "tx", "--count", "20", "icmp", "-w", path("cap.pcap"))
        check("capturing" in cap.started_line, "vswctl capture w1 started", cap.started_line.strip())
        rc, _, err = sw.ctl_cmd("capture", "w1", "-w", path("x2.pcap"))
        check(rc != 0 and "already capturing" in err, "a second capture on w1 refused", err.strip())
        rc, _, err = sw.ctl_cmd("port", "add", "r1", "pcap", "read=" + path("in.pcap"))
        check(rc == 0, "add r1 (pcap read=in.pcap)", err.strip())
        rc, out, err = finish(cap)
        check(rc == 0 and out.startswith("20 frames written") and "0 dropped" in out,
              "the capture ends by itself at --count 20", f"rc {rc} out {out!r} err {err!r}")
        st = sw.wait_state("r1", "done")
        check(st is not None and "35 frames" in st and "done" in st, "r1 replayed 35 frames and is done", st)
        st = sw.wait_state("w1", "35 frames")
        check(st is not None and "35 frames" in st, "w1 recorded 35 frames", st)
        s = sw.port_stats("w1")
        check(s is not None and s["tx_packets"] == 35, "w1 tx_packets 35", s)
        rc, _, err = sw.ctl_cmd("port", "del", "w1")
        check(rc == 0, "delete w1 (closes out.pcap)", err.strip())

        rc, lines = tcpdump_lines(path("cap.pcap"))
        check(rc == 0 and len(lines) == 20 and all("ICMP echo request" in l for l in lines),
              "tcpdump: cap.pcap holds 20 ICMP echo requests", f"rc {rc}, {len(lines)} lines")
        rc, n = tshark_count(path("cap.pcap"), "icmp")
        check(rc == 0 and n == 20, "tshark -Y icmp: 20 frames in cap.pcap", f"rc {rc}, {n}")
        check(frames_of(path("cap.pcap")) == icmp, "cap.pcap frames identical to in.pcap's ICMP frames, in order")
        check(all(len(fr) == ln for fr, ln in read_pcap(path("cap.pcap"))), "cap.pcap frames are not truncated")
        rc, lines = tcpdump_lines(path("out.pcap"))
        check(rc == 0 and len(lines) == 35, "tcpdump: out.pcap holds 35 frames", f"rc {rc}, {len(lines)}")
        counts = {f: tshark_count(path("out.pcap"), f)[1] for f in ("icmp", "udp", "arp")}
        check(tshark_count(path("out.pcap"))[1] == 35 and counts == {"icmp": 20, "udp": 10, "arp": 5},
              "tshark: out.pcap holds 20 icmp, 10 udp, 5 arp", counts)
        check(frames_of(path("out.pcap")) == frames, "out.pcap frames identical to in.pcap's, in order")
        sw.ctl_cmd("port", "del", "r1")

        # 5. rx direction on a reader port; the port exists before it has anything to send
        rc, _, err = sw.ctl_cmd("port", "add", "w2", "pcap", "write=" + path("out2.pcap"))
        check(rc == 0, "add w2", err.strip())
        # r2 must exist to be captured, and starts replaying when added: capture a paced replay.
        rc, _, err = sw.ctl_cmd("port", "add", "r2", "pcap", "read=" + path("in.pcap"), "pps=50")
        check(rc == 0, "add r2 (read=in.pcap pps=50)", err.strip())
        cap = sw.capture_bg("r2", "--dir", "rx", "--count", "5", "udp", "-w", path("cap_rx.pcap"))
        rc, out, err = finish(cap)
        check(rc == 0 and out.startswith("5 frames written"), "rx capture on r2 ends at --count 5",
              f"rc {rc} out {out!r} err {err!r}")
        got = frames_of(path("cap_rx.pcap"))
        check(len(got) == 5 and all(kind(f) == "udp" for f in got) and
              any(got == udps[i:i + 5] for i in range(len(udps) - 4)),
              "cap_rx.pcap: 5 consecutive UDP frames of in.pcap", [kind(f) for f in got])
        rc, n = tshark_count(path("cap_rx.pcap"), "udp.dstport == 5000")
        check(rc == 0 and n == 5, "tshark -Y udp.dstport==5000: 5 frames", f"rc {rc}, {n}")
        rc, _, err = sw.ctl_cmd("capture", "r2", "--dir", "tx", "--count", "1", "--seconds", "1", "-w",
                                path("cap_rx_tx.pcap"))
        check(rc == 0 and not frames_of(path("cap_rx_tx.pcap")), "tx capture on a reader-only port: 0 frames")
        sw.ctl_cmd("port", "del", "r2")

        # 6. --seconds with no traffic
        t0 = time.time()
        rc, out, err = sw.ctl_cmd("capture", "w2", "--seconds", "1", "-w", path("quiet.pcap"))
        dt = time.time() - t0
        check(rc == 0 and out.startswith("0 frames written") and 0.9 <= dt < 5,
              f"--seconds 1 on a quiet port: 0 frames after {dt:.1f} s", f"rc {rc} out {out!r} err {err!r}")
        rc, lines = tcpdump_lines(path("quiet.pcap"))
        check(rc == 0 and not lines, "tcpdump reads the empty quiet.pcap")

        # 7. pacing, looping and ^C
        cap = sw.capture_bg("w2", "arp", "-w", path("cap_arp.pcap"))
        check("capturing" in cap.started_line, "capture on w2 (filter arp, no limit) started", cap.started_line)
        t0 = time.time()
        rc, _, err = sw.ctl_cmd("port", "add", "r3", "pcap", "read=" + path("in.pcap"), "pps=20", "loop=1")
        check(rc == 0, "add r3 (read=in.pcap pps=20 loop=1)", err.strip())
        time.sleep(3)
        cap.send_signal(signal.SIGINT)
        rc, out, err = finish(cap)
        s = sw.port_stats("r3")
        dt = time.time() - t0
        nread = s["rx_packets"] if s else -1
        check(40 <= nread <= 20 * dt + 10, f"r3 paced at pps=20: {nread} frames in {dt:.1f} s")
        st = sw.port_state("r3")
        check(st is not None and "replaying" in st and "passes" in st and "(0 passes)" not in st,
              "r3 loops (more than one pass, still replaying)", st)
        ok = rc == 0 and out.split(" ")[0].isdigit() and int(out.split(" ")[0]) > 0
        check(ok, "^C stops the capture and reports the frames written", f"rc {rc} out {out!r} err {err!r}")
        n = int(out.split(" ")[0]) if ok else -1
        rc1, lines = tcpdump_lines(path("cap_arp.pcap"))
        rc2, nt = tshark_count(path("cap_arp.pcap"), "arp")
        check(rc1 == 0 and rc2 == 0 and len(lines) == n and nt == n and all("ARP" in l for l in lines),
              f"tcpdump and tshark find the {n} ARP frames", f"{len(lines)} / {nt}")
        check(all(f in arps for f in frames_of(path("cap_arp.pcap"))), "cap_arp.pcap frames are in.pcap's ARP frames")
        sw.ctl_cmd("port", "del", "r3")

        # 8. the captured port goes away
        cap = sw.capture_bg("w2", "-w", path("gone.pcap"))
        check("capturing" in cap.started_line, "capture on w2 (no limit) started", cap.started_line)
        time.sleep(0.2)
        rc, _, err = sw.ctl_cmd("port", "del", "w2")
        check(rc == 0, "delete w2 while it is captured", err.strip())
        rc, out, err = finish(cap)
        check(rc not in (0, None) and "no port w2" in err, "vswctl capture reports the port gone",
              f"rc {rc} err {err!r}")
        rc, lines = tcpdump_lines(path("gone.pcap"))
        check(rc == 0, "gone.pcap was closed by vswd and reads back", f"rc {rc}")
        rc, lines = tcpdump_lines(path("out2.pcap"))
        check(rc == 0 and len(lines) > 0, f"out2.pcap (w2) closed with {len(lines)} frames", f"rc {rc}")

        # 9. a vswctl that vanished: --stop ends its capture; one left running is closed at shutdown
        rc, _, err = sw.ctl_cmd("port", "add", "w3", "pcap", "write=" + path("out3.pcap"))
        check(rc == 0, "add w3", err.strip())
        for name in ("orphan.pcap", "shutdown.pcap"):
            cap = sw.capture_bg("w3", "-w", path(name))
            check("capturing" in cap.started_line, f"capture on w3 into {name} started", cap.started_line)
            cap.kill()
            cap.wait()
            if name == "orphan.pcap":
                rc, out, err = sw.ctl_cmd("capture", "w3", "--stop")
                check(rc == 0 and out.startswith("0 frames written"), "vswctl capture w3 --stop ends it",
                      f"rc {rc} out {out!r} err {err!r}")
        rc, out, _ = sw.ctl_cmd("show")
        check(rc == 0 and "PORT" in out, "vswd still answers")
    finally:
        code = sw.stop()
    rc, lines = tcpdump_lines(path("shutdown.pcap"))
    check(rc == 0 and not lines, "a capture running at shutdown was closed (tcpdump reads it)", f"rc {rc}")
    check(code == 0, "vswd exits 0 on SIGTERM", f"exit {code}")
    with open(sw.log_path) as f:
        log = f.read()
    check("Sanitizer" not in log and "runtime error" not in log, "no sanitizer report in vswd's output",
          log[-2000:])
    if args.keep or FAILED:
        print(f"files kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"capture: {PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
