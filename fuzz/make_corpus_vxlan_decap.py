#!/usr/bin/env python3
"""make_corpus_vxlan_decap.py - write the seed corpus of fuzz_vxlan_decap.

    fuzz/make_corpus_vxlan_decap.py [OUTDIR]     (default fuzz/corpus/vxlan_decap)

Each seed is one input in the format described at the top of
fuzz/fuzz_vxlan_decap.c: the port's VNI, a source port range, then a UDP
payload: good VXLAN datagrams around inner ARP, IPv4/UDP, IPv4/TCP,
IPv6/TCP and tagged frames; the same with reserved bits set, the I flag
clear, another VNI, cut at every length up to 22 bytes; GRO buffers of several datagrams (the
last short, sizes of 0, 1 and past the buffer; one of TCP segments that
merge, and runs of TCP segments the merge must stop in or take whole:
FIN, RST, URG, ECE, PSH first, a sequence overlap or gap or wrap, a bad
TCP or IPv4 header sum, an IPv4 ID off, options that differ, segments
longer or shorter than the first, a last one shorter than the headers,
IPv6); inner IPv4 and IPv6 packets (untagged, behind an 802.1Q or
802.1ad tag) of each ECN codepoint under each outer one (the range's lo's
low two bits, RFC 6040); plus random bytes.  Deterministic: running it twice writes the same bytes.
"""

import hashlib
import os
import random
import struct
import sys

MACS = bytes.fromhex("02000000000b02000000000a")


def seed(vni, payload, lo=49152, hi=65535, gro=0):
    return struct.pack("!I", vni)[1:] + struct.pack("!HHH", lo, hi, gro) + payload


def vxlan(vni, flags=0x08, rsv=b"\0\0\0", rsv2=0):
    return bytes([flags]) + rsv + struct.pack("!I", vni)[1:] + bytes([rsv2])


def inner_frames():
    ip4 = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 1, 0x4000, 64, 17, 0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    udp = struct.pack("!HHHH", 1234, 4789, 8, 0)
    tcp = struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, 0x50, 0x02, 65535, 0, 0)
    ip4t = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0x4000, 64, 6, 0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    ip6 = struct.pack("!IHBB16s16s", 0x60000000, 20, 6, 64, bytes(15) + b"\1", bytes(15) + b"\2")
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MACS[6:], bytes([10, 0, 0, 1]), bytes(6),
                      bytes([10, 0, 0, 2]))
    return [
        MACS + b"\x08\x06" + arp + bytes(18),
        MACS + b"\x08\x00" + ip4 + udp + bytes(18),
        MACS + b"\x08\x00" + ip4t + tcp + bytes(6),
        MACS + b"\x86\xdd" + ip6 + tcp,
        MACS + b"\x81\x00\x00\x0a\x08\x00" + ip4 + udp + bytes(14),
        MACS + b"\x88\xb5",
    ]


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def tcp_seg(k, seqv, flags, plen=100, v6=False, opts=b"", ipid=None, urg=0, bad_ip=False, bad_tcp=False):
    """Datagram @k of a GRO run: VXLAN + an inner IPv4 (or IPv6) TCP segment of @plen bytes, sums right unless told."""
    body = bytes((k * 7 + i) & 0xff for i in range(plen))
    tlen = 20 + len(opts) + plen
    tcp = bytearray(struct.pack("!HHIIBBHHH", 40000, 80, seqv, 5, (5 + len(opts) // 4) << 4, flags, 512, 0, urg))
    tcp += opts
    if v6:
        src, dst = bytes(15) + b"\1", bytes(15) + b"\2"
        ip = struct.pack("!IHBB16s16s", 0x60000000, tlen, 6, 64, src, dst)
        pseudo = src + dst + struct.pack("!IxxxB", tlen, 6)
        eth = MACS + b"\x86\xdd"
    else:
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + tlen, 7 + k if ipid is None else ipid, 0x4000, 64,
                                   6, 0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])))
        ip[10:12] = struct.pack("!H", csum(bytes(ip)) ^ (1 if bad_ip else 0))
        pseudo = bytes(ip[12:20]) + struct.pack("!BBH", 0, 6, tlen)
        eth = MACS + b"\x08\x00"
    tcp[16:18] = struct.pack("!H", csum(pseudo + bytes(tcp) + body) ^ (1 if bad_tcp else 0))
    return vxlan(42) + eth + bytes(ip) + bytes(tcp) + body


def tcp_runs():
    """GRO buffers of TCP runs the merge must stop in (or take whole): (payload, gro size) pairs."""
    def run(n=4, v6=False, **odd):
        # odd: {segment index: tcp_seg() arguments that differ there}
        out = b""
        for k in range(n):
            a = dict(seqv=1000 + 100 * k, flags=0x10, v6=v6)
            a.update(odd.get("s%d" % k, {}))
            out += tcp_seg(k, **a)
        return out
    ts = lambda v: b"\x01\x01\x08\x0a" + struct.pack("!II", v, 7)
    one = len(tcp_seg(0, 0, 0x10))
    one6 = len(tcp_seg(0, 0, 0x10, v6=True))
    return [
        (run(v6=True), one6),                                           # IPv6: the whole run merges
        (run(s2=dict(flags=0x11)), one),                                # FIN in the middle
        (run(s1=dict(flags=0x14)), one),                                # RST
        (run(s2=dict(flags=0x30, urg=5)), one),                         # URG with an urgent pointer
        (run(s0=dict(flags=0x18)), one),                                # PSH on the first: alone
        (run(s1=dict(flags=0x50)), one),                                # ECE
        (run(s2=dict(seqv=1100)), one),                                 # overlapping: seq of the one before
        (run(s2=dict(seqv=1250)), one),                                 # a gap
        (run(s3=dict(bad_tcp=True)), one),                              # a TCP checksum wrong
        (run(s1=dict(bad_ip=True)), one),                               # an IPv4 header checksum wrong
        (run(s2=dict(ipid=3)), one),                                    # IPv4 ID not one more
        (run(s2=dict(plen=120)), one),                                  # longer than the first: the buffer no longer cuts at segments
        (run(s1=dict(plen=60)), one),                                   # short in the middle: likewise (GRO makes only the last short)
        (run(**{"s%d" % k: dict(opts=ts(9)) for k in range(4)}), one + 12),   # the same options: merges
        (run(s0=dict(opts=ts(9)), s1=dict(opts=ts(10)), s2=dict(opts=ts(9)), s3=dict(opts=ts(9))), one + 12),
        (run(n=3) + tcp_seg(3, 1300, 0x10)[:10], one),                  # size not dividing: last shorter than headers
        (run(n=3) + tcp_seg(3, 1300, 0x18, plen=1), one),               # a last segment of one byte, PSH
        (run(n=2, s0=dict(seqv=0xffffffff - 50), s1=dict(seqv=(0xffffffff - 50 + 100) & 0xffffffff)), one),  # seq wraps
    ]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "vxlan_decap")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(16)
    seeds = []
    for vni in (0, 42, 0xffffff):
        for fr in inner_frames():
            seeds.append(seed(vni, vxlan(vni) + fr))
            seeds.append(seed(vni, vxlan(vni, flags=0xff, rsv=b"\xff\xff\xff", rsv2=0xff) + fr))
            seeds.append(seed(vni, vxlan(vni, flags=0x00) + fr))
            seeds.append(seed(vni, vxlan(vni ^ 1) + fr, lo=4789, hi=4789))
    good = vxlan(42) + inner_frames()[1]
    for cut in range(23):
        seeds.append(seed(42, good[:cut]))
    # GRO buffers: three whole datagrams and a short last one, one of equal size, sizes of 0, 1, past the buffer
    frs = [vxlan(42) + f for f in inner_frames()[1:3]]
    same = [f + bytes(80 - len(f)) for f in frs]
    seeds.append(seed(42, same[0] + same[1] + same[0] + good[:17], gro=80))
    seeds.append(seed(42, same[0] + same[1] + same[1], gro=80))
    seeds.append(seed(42, same[0] + same[1], gro=1))
    seeds.append(seed(42, same[0] + same[1], gro=0))
    seeds.append(seed(42, same[0] + same[1], gro=65535))
    seeds.append(seed(42, same[0] + bytes([0]) * 80, gro=80))
    # a GRO buffer of TCP segments that merge: 4 x 100 payload bytes, seq following on, IP ID + 1, ACK, last PSH
    segs = b""
    for k in range(4):
        seqv, flags = 1000 + 100 * k, 0x18 if k == 3 else 0x10
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 140, 7 + k, 0x4000, 64, 6, 0, bytes([10, 0, 0, 1]),
                                   bytes([10, 0, 0, 2])))
        ip[10:12] = struct.pack("!H", csum(bytes(ip)))
        tcp = bytearray(struct.pack("!HHIIBBHHH", 40000, 80, seqv, 5, 0x50, flags, 512, 0, 0))
        body = bytes((k * 7 + i) & 0xff for i in range(100))
        pseudo = bytes(ip[12:20]) + struct.pack("!BBH", 0, 6, 120)
        tcp[16:18] = struct.pack("!H", csum(pseudo + bytes(tcp) + body))
        segs += vxlan(42) + MACS + b"\x08\x00" + bytes(ip) + bytes(tcp) + body
    seeds.append(seed(42, segs, gro=8 + 14 + 140))
    # runs the merge must stop in: other flags, sequence overlaps and gaps, bad sums, options, short and odd sizes
    for payload, gro in tcp_runs():
        seeds.append(seed(42, payload, gro=gro))
    # RFC 6040: each inner ECN codepoint under each outer one (lo's low two bits), IPv4 (header sum right) and IPv6
    for outer in range(4):
        for ecn in range(4):
            ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0xb8 | ecn, 28, 1, 0x4000, 64, 17, 0,
                                       bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])))
            ip[10:12] = struct.pack("!H", csum(bytes(ip)))
            udp = struct.pack("!HHHH", 1234, 4789, 8, 0)
            ip6 = struct.pack("!IHBB16s16s", 0x6b800000 | ecn << 20 | 0x12345, 8, 17, 64, bytes(15) + b"\1",
                              bytes(15) + b"\2")
            for fr in (MACS + b"\x08\x00" + bytes(ip) + udp, MACS + b"\x86\xdd" + ip6 + udp,
                       MACS + b"\x81\x00\x00\x0a\x08\x00" + bytes(ip) + udp,
                       MACS + b"\x88\xa8\x00\x0a\x86\xdd" + ip6 + udp):
                seeds.append(seed(42, vxlan(42) + fr, lo=49152 + outer))
    for _ in range(16):
        n = rng.randrange(0, 200)
        seeds.append(seed(rng.randrange(1 << 24), bytes(rng.randrange(256) for _ in range(n)),
                          rng.randrange(65536), rng.randrange(65536), rng.choice((0, rng.randrange(1, 100)))))
    for s in seeds:
        name = hashlib.sha1(s).hexdigest()
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(s)
    print("%d seeds in %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
