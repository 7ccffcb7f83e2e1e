#!/usr/bin/env python3
"""vhost_offload.py - scenario: vhost-user offload negotiation obeyed in each direction, with scripted front ends.

Objective (issue 15, item 2): vswd takes from a driver only the requests
the driver's acked features allow, checks each against its frame, and
gives each receiving driver a frame whole or finished according to what
that driver acked, for the same frame at once:

    front end A (acks VERSION_1, CSUM, HOST_TSO4)          --(a)--+
    front end B (acks VERSION_1, GUEST_CSUM, GUEST_TSO4)   --(b)--+-- vswd (learning switch)
    front end C (acks VERSION_1 only)                      --(c)--+

Steps:
  1. start vswd with the three vhost-user server ports; each front end
     connects, negotiates its features (no PROTOCOL_FEATURES: rings enabled
     at once) and makes vrings 0 and 1 live (split, 256 entries) on a
     memfd; B posts 4 receive buffers of 64 KiB + header, C 64 of 2 KiB;
  2. A sends one broadcast IPv4 TCP frame of 10,000 payload bytes with a
     header asking NEEDS_CSUM (csum_start 34, csum_offset 16), GSO_TCPV4,
     gso_size 1000: B must receive it whole in one buffer, its header still
     NEEDS_CSUM + GSO_TCPV4 with gso_size 1000, the bytes as sent; C must
     receive 10 frames of 1,000 payload bytes, headers all zero (nothing
     requested: C acked nothing), IPv4 and TCP checksums correct from
     scratch, sequence numbers 1000 apart, the payload as sent;
  3. A sends a header asking GSO_TCPV6 (not acked): a bad_header drop on a,
     reason gso_type (vswctl stats --json: header_bad);
     A sends GSO_TCPV4 over an IPv6 frame: a bad_offload drop on a, reason
     gso_type (vswctl stats --json: offload_bad); B and C receive nothing
     more;
  4. vswctl show: every port connected; vswd alive; cleanup.

Each check prints PASS or FAIL; the last line is "vhost-offload: N passed,
M failed"; non-zero exit on any failure.  All waits are bounded (a few
seconds in all).

    python3 tests/scenario/vhost_offload.py --build build

Needs build/vswd and build/vswctl (no root, no QEMU).
"""

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from vhost_user_lib import (GET_FEATURES, SET_FEATURES, SET_MEM_TABLE, SET_OWNER, SET_VRING_ADDR,  # noqa: E402
                            SET_VRING_BASE, SET_VRING_CALL, SET_VRING_KICK, SET_VRING_NUM, Frontend, Memory,
                            eventfd, mem_table, state, u64, vring_addr)

REPO = os.path.dirname(os.path.dirname(HERE))
F_CSUM, F_GUEST_CSUM, F_GUEST_TSO4, F_HOST_TSO4, F_VERSION_1 = 0, 1, 7, 11, 32
ACKS = {"a": (F_VERSION_1, F_CSUM, F_HOST_TSO4), "b": (F_VERSION_1, F_GUEST_CSUM, F_GUEST_TSO4), "c": (F_VERSION_1,)}
GPA, UADDR, MEM = 0x100000, 0x7F0000000000, 4 << 20
NUM = 256
HDR_LEN = 12                    # VERSION_1: with num_buffers
BUF_AT = 0x10000                # buffers after the two rings
B_BUF, B_BUFS = HDR_LEN + 65536, 4
C_BUF, C_BUFS = 2048, 64
MSS, PAYLOAD = 1000, 10000

PASSED = FAILED = 0


def check(ok, what, detail=""):
    global PASSED, FAILED
    PASSED += bool(ok)
    FAILED += not ok
    print("%s %s%s" % ("PASS" if ok else "FAIL", what, (" (%s)" if ok else ": %s") % detail if detail else ""),
          flush=True)
    return ok


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def tcp_frame(v6=False):
    """Broadcast Ethernet + IPv4 (or IPv6) + TCP (PSH|ACK) + payload; the TCP field holds the pseudo-header sum."""
    payload = bytes((i * 7 + 3) & 0xFF for i in range(PAYLOAD))
    tcp = bytearray(struct.pack("!HHIIBBHHH", 40000, 5201, 0x10000000, 1, 5 << 4, 0x18, 65535, 0, 0)) + payload
    if v6:
        src, dst = bytes(15) + b"\x01", bytes(15) + b"\x02"
        ip = struct.pack("!IHBB", 0x60000000, len(tcp), 6, 64) + src + dst
        ph = src + dst + struct.pack("!IxxxB", len(tcp), 6)
        etype = 0x86DD
    else:
        src, dst = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
        ip = bytearray(struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(tcp), 0x1234, 0x4000, 64, 6, 0) + src + dst)
        ip[10:12] = struct.pack("!H", 0xFFFF - csum(bytes(ip)))
        ph = src + dst + struct.pack("!xBH", 6, len(tcp))
        etype = 0x0800
    tcp[16:18] = struct.pack("!H", csum(ph))
    return b"\xff" * 6 + bytes.fromhex("02000000000a") + struct.pack("!H", etype) + bytes(ip) + bytes(tcp)


def vnet_hdr(flags=0, gso=0, hdr_len=0, gso_size=0, start=0, off=0):
    return struct.pack("<BBHHHHH", flags, gso, hdr_len, gso_size, start, off, 0)


class Driver:
    """A scripted virtio-net driver: split vrings 0 (rx) and 1 (tx) at mem offsets 0 and 0x4000."""

    def __init__(self, path, features):
        self.fe = Frontend(path)
        self.mem = Memory(MEM)
        self.kicks, self.fds = [], []
        self.fe.call(GET_FEATURES)
        self.fe.send(SET_OWNER)
        self.fe.send(SET_FEATURES, u64(features))
        self.fe.send(SET_MEM_TABLE, mem_table([(GPA, MEM, UADDR, 0)]), fds=[self.mem.fd])
        for i in (0, 1):
            base = UADDR + i * 0x4000
            kick, call = eventfd(), eventfd()
            self.kicks.append(kick)
            self.fds += [kick, call]
            self.fe.send(SET_VRING_NUM, state(i, NUM))
            self.fe.send(SET_VRING_ADDR, vring_addr(i, base, base + 0x2000, base + 0x1000))
            self.fe.send(SET_VRING_BASE, state(i, 0))
            self.fe.send(SET_VRING_CALL, u64(i), fds=[call])
            self.fe.send(SET_VRING_KICK, u64(i), fds=[kick])
        self.fe.call(GET_FEATURES)   # everything above handled
        self.tx_n = 0
        self.rx_seen = 0

    def post_rx(self, size, count):
        """@count device-writable buffers of @size bytes on vring 0."""
        for i in range(count):
            struct.pack_into("=QIHH", self.mem.map, i * 16, GPA + BUF_AT + i * size, size, 2, 0)
            struct.pack_into("=H", self.mem.map, 0x1000 + 4 + 2 * i, i)
        struct.pack_into("=H", self.mem.map, 0x1000 + 2, count)
        self.rx_size = size
        os.write(self.kicks[0], (1).to_bytes(8, "little"))

    def send(self, data):
        """One frame (header included) on vring 1, in a tx slot of its own (4 of 32 KiB at the end), and a kick."""
        d = self.tx_n % NUM
        base, at = 0x4000, MEM - 0x20000 + (self.tx_n % 4) * 0x8000
        self.mem.map[at:at + len(data)] = data
        struct.pack_into("=QIHH", self.mem.map, base + d * 16, GPA + at, len(data), 0, 0)
        struct.pack_into("=H", self.mem.map, base + 0x1000 + 4 + 2 * d, d)
        self.tx_n += 1
        struct.pack_into("=H", self.mem.map, base + 0x1000 + 2, self.tx_n)
        os.write(self.kicks[1], (1).to_bytes(8, "little"))

    def tx_done(self, timeout=5):
        deadline = time.monotonic() + timeout
        while struct.unpack_from("=H", self.mem.map, 0x4000 + 0x2000 + 2)[0] != self.tx_n:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def used_rx(self):
        return struct.unpack_from("=H", self.mem.map, 0x2000 + 2)[0]

    def recv(self, want, timeout=5):
        """Wait for @want more used rx buffers (bounded); return [(header bytes, frame bytes)] of all new ones."""
        deadline = time.monotonic() + timeout
        while self.used_rx() < self.rx_seen + want and time.monotonic() < deadline:
            time.sleep(0.01)
        out = []
        while self.rx_seen < self.used_rx():
            e = 0x2000 + 4 + 8 * (self.rx_seen % NUM)
            idx, ln = struct.unpack_from("=II", self.mem.map, e)
            at = BUF_AT + idx * self.rx_size
            buf = bytes(self.mem.map[at:at + ln])
            out.append((buf[:HDR_LEN], buf[HDR_LEN:]))
            self.rx_seen += 1
        return out

    def close(self):
        self.fe.close()
        for fd in self.fds:
            os.close(fd)
        self.mem.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    wd = tempfile.mkdtemp(prefix="vsw-vhost-offload-")
    ctl = os.path.join(wd, "ctl.sock")
    socks = {n: os.path.join(wd, n + ".sock") for n in ACKS}
    conf = os.path.join(wd, "vswd.json")
    with open(conf, "w") as f:
        json.dump({"workers": 1, "ports": [{"name": n, "type": "vhost-user", "path": p, "mode": "server"}
                                           for n, p in socks.items()]}, f)
    log = open(os.path.join(wd, "vswd.log"), "w")
    vswd = subprocess.Popen([os.path.join(build, "vswd"), "--foreground", "--ctl", ctl, "--config", conf],
                            stdout=log, stderr=subprocess.STDOUT)
    drivers = {}

    def stats():
        out = subprocess.run([os.path.join(build, "vswctl"), "--ctl", ctl, "--json", "stats"],
                             capture_output=True, text=True, timeout=10).stdout
        return {p["name"]: p for p in json.loads(out)["ports"]}

    try:
        deadline = time.monotonic() + 10
        while not all(os.path.exists(p) for p in list(socks.values()) + [ctl]):
            if time.monotonic() > deadline or vswd.poll() is not None:
                raise RuntimeError("vswd did not start")
            time.sleep(0.05)
        for n, bits in ACKS.items():
            drivers[n] = Driver(socks[n], sum(1 << b for b in bits))
        drivers["b"].post_rx(B_BUF, B_BUFS)
        drivers["c"].post_rx(C_BUF, C_BUFS)
        time.sleep(0.2)

        # Step 2: one TSO frame, whole to B, segmented and completed for C.
        frame = tcp_frame()
        drivers["a"].send(vnet_hdr(1, 1, 54, MSS, 34, 16) + frame)
        check(drivers["a"].tx_done(), "a's TSO frame consumed")
        got_b = drivers["b"].recv(1)
        ok = len(got_b) == 1
        if ok:
            h, f = got_b[0]
            flags, gso, hl, gsz, cs, co, nb = struct.unpack("<BBHHHHH", h)
            ok = flags == 1 and gso == 1 and gsz == MSS and cs == 34 and co == 16 and nb == 1 and \
                f[:50] + f[52:] == frame[:50] + frame[52:] and len(f) == len(frame)
            detail = "flags %d gso %d gso_size %d csum %d/%d, %d bytes" % (flags, gso, gsz, cs, co, len(f))
        else:
            detail = "%d frames" % len(got_b)
        check(ok, "b (GUEST_TSO4) got the frame whole, its request in the header", detail)
        got_c = drivers["c"].recv(PAYLOAD // MSS)
        payload, problems = b"", []
        for k, (h, f) in enumerate(got_c):
            if h[:10] != bytes(10):
                problems.append("segment %d header %s" % (k, h.hex()))
            ip, tcp = f[14:34], f[34:]
            ph = ip[12:20] + struct.pack("!xBH", 6, len(tcp))
            if csum(ip) != 0xFFFF or csum(ph + tcp) != 0xFFFF:
                problems.append("segment %d checksum" % k)
            if struct.unpack("!I", tcp[4:8])[0] != 0x10000000 + k * MSS:
                problems.append("segment %d seq" % k)
            payload += tcp[20:]
        check(len(got_c) == PAYLOAD // MSS and not problems and payload == frame[54:],
              "c (no offloads) got %d finished segments" % (PAYLOAD // MSS),
              "%d frames; %s" % (len(got_c), "; ".join(problems[:4]) or "payload as sent"))

        # Step 3: requests A may not make, and one that does not match its frame.
        before = stats()["a"]
        drivers["a"].send(vnet_hdr(1, 4, 54, MSS, 34, 16) + frame)          # GSO_TCPV6: not acked
        drivers["a"].send(vnet_hdr(1, 1, 74, MSS, 54, 16) + tcp_frame(v6=True))  # TCPV4 on IPv6
        check(drivers["a"].tx_done(), "a's refused frames consumed")
        time.sleep(0.2)
        after = stats()["a"]
        d_hdr = after["drops"]["bad_header"] - before["drops"]["bad_header"]
        d_off = after["drops"]["bad_offload"] - before["drops"]["bad_offload"]
        d_type = after["offload_bad"]["gso_type"] - before["offload_bad"]["gso_type"]
        check(d_hdr == 1 and d_off == 1 and d_type == 1, "a: GSO_TCPV6 is bad_header, TCPV4 on IPv6 bad_offload gso_type",
              "bad_header +%d, bad_offload +%d (gso_type +%d); %s" % (d_hdr, d_off, d_type, {
                  k: v - before["offload_bad"][k] for k, v in after["offload_bad"].items() if v != before["offload_bad"][k]}))
        d_hdr_type = after["header_bad"]["gso_type"] - before["header_bad"]["gso_type"]
        check(d_hdr_type == 1 and sum(after["header_bad"].values()) - sum(before["header_bad"].values()) == 1,
              "a: the bad_header drop by its reason, header_bad gso_type (a type not negotiated)",
              {k: v - before["header_bad"][k] for k, v in after["header_bad"].items()})
        check(not drivers["b"].recv(0, 0.2) and not drivers["c"].recv(0, 0.2), "b and c got nothing of them")
        check(vswd.poll() is None, "vswd alive")
    except Exception as e:
        check(False, "ran to the end", "%s: %s" % (type(e).__name__, e))
    finally:
        for d in drivers.values():
            d.close()
        if vswd.poll() is None:
            vswd.terminate()
            try:
                vswd.wait(10)
            except subprocess.TimeoutExpired:
                vswd.kill()
        log.close()
        check(vswd.returncode == 0, "vswd exits 0 on SIGTERM", "rc %s" % vswd.returncode)
    if FAILED:
        print("     logs kept in %s" % wd)
    else:
        shutil.rmtree(wd, ignore_errors=True)
    print("vhost-offload: %d passed, %d failed" % (PASSED, FAILED), flush=True)
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
