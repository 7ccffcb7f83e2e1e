#!/usr/bin/env python3
"""make_corpus_flow_exec.py - write the seed corpus of fuzz_flow_exec.

    fuzz/make_corpus_flow_exec.py [OUTDIR]     (default fuzz/corpus/flow_exec)

Each seed is one input in the format described at the top of
fuzz/fuzz_flow_exec.c: the program byte (which rules run), the flags byte
(partial checksum, headroom, fix checksums, copy length), then a frame.
Frames: TCP, UDP (with and without checksum), ICMP over IPv4 with and
without options, fragments; TCP, UDP, ICMPv6 over IPv6 behind extension
headers; ARP; one and two VLAN tags; short and cut frames; each through
every program, with room for tags and without.  Checksums are right.
Python 3 standard library only; deterministic.
"""

import os
import random
import struct
import sys

PROGRAMS = 25


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def l4(proto, src, dst, v6, sport=1234, dport=80, icmp=(8, 0), payload=b"hello flow", udp_csum=True):
    if proto == 6:
        seg = struct.pack("!HHIIBBHHH", sport, dport, 1, 2, 0x50, 0x18, 512, 0, 0) + payload
        at = 16
    elif proto == 17:
        seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        at = 6
    else:
        seg = struct.pack("!BBHI", icmp[0], icmp[1], 0, 0x42) + payload
        at = 2
    if proto == 17 and not udp_csum:
        return seg
    if proto == 1:
        ph = b""
    elif v6:
        ph = src + dst + struct.pack("!IxxxB", len(seg), proto)
    else:
        ph = src + dst + struct.pack("!xBH", proto, len(seg))
    c = ~csum(ph + seg) & 0xFFFF
    if proto == 17 and c == 0:
        c = 0xFFFF
    return seg[:at] + struct.pack("!H", c) + seg[at + 2:]


def eth(body, type_, tags=()):
    hdr = bytes.fromhex("020000000002") + bytes.fromhex("020000000001")
    for tpid, tci in tags:
        hdr += struct.pack("!HH", tpid, tci)
    return hdr + struct.pack("!H", type_) + body


def ipv4(proto, opts=b"", frag=0, tos=0, ttl=64, **kw):
    src, dst = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    seg = l4(proto, src, dst, False, **kw) if frag & 0x1FFF == 0 else b"later fragment data"
    ihl = 20 + len(opts)
    hdr = struct.pack("!BBHHHBBH", 0x40 | ihl // 4, tos, ihl + len(seg), 7, frag, ttl, proto, 0) + src + dst + opts
    hdr = hdr[:10] + struct.pack("!H", ~csum(hdr) & 0xFFFF) + hdr[12:]
    return hdr + seg


def ipv6(proto, exts=0, tc=0, hlim=64, **kw):
    src = bytes.fromhex("20010db8000000000000000000000001")
    dst = bytes.fromhex("20010db8000000000000000000000002")
    seg = l4(proto, src, dst, True, **kw)
    ext = b""
    nh = proto
    for i in range(exts):
        ext = bytes([nh, 0]) + b"\1\4\0\0\0\0" + ext
        nh = 60 if i + 1 < exts else 0
    hdr = struct.pack("!IHBB", 0x60000000 | tc << 20, len(ext) + len(seg), nh if exts else proto, hlim) + src + dst
    return hdr + ext + seg


def arp(op=1):
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + bytes.fromhex("020000000001") + bytes([10, 0, 0, 1]) \
        + bytes(6) + bytes([10, 0, 0, 2])


def frames():
    f = {
        "tcp4": eth(ipv4(6), 0x0800),
        "udp4": eth(ipv4(17, sport=53, dport=5353), 0x0800),
        "udp4_nocsum": eth(ipv4(17, udp_csum=False), 0x0800),
        "icmp4": eth(ipv4(1), 0x0800),
        "tcp4_opts": eth(ipv4(6, opts=b"\1" * 40, tos=0xB9, ttl=2), 0x0800),
        "tcp4_ttl1": eth(ipv4(6, ttl=1), 0x0800),
        "frag_first": eth(ipv4(17, frag=0x2000), 0x0800),
        "frag_later": eth(ipv4(17, frag=0x00B9), 0x0800),
        "tcp6": eth(ipv6(6, tc=0x5A), 0x86DD),
        "udp6_exts": eth(ipv6(17, exts=2), 0x86DD),
        "icmp6": eth(ipv6(58, icmp=(128, 0)), 0x86DD),
        "arp": eth(arp(), 0x0806),
        "arp_big_op": eth(arp(0x101), 0x0806),
        "vlan_tcp4": eth(ipv4(6), 0x0800, tags=[(0x8100, 0x2005)]),
        "qinq_udp4": eth(ipv4(17), 0x0800, tags=[(0x88A8, 7), (0x8100, 9)]),
        "vlan_ipv6": eth(ipv6(17), 0x86DD, tags=[(0x8100, 0xE00A)]),
        "llc": bytes.fromhex("020000000002020000000001") + struct.pack("!H", 46) + bytes(46),
        "short": bytes.fromhex("02000000000202"),
        "half_tag": bytes.fromhex("020000000002020000000001") + b"\x81\x00\x00",
    }
    f["big_tcp4"] = eth(ipv4(6, payload=bytes(range(256)) * 5), 0x0800)
    return f


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "flow_exec")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(1624)
    seeds = {}
    for name, frame in sorted(frames().items()):
        for prog in range(PROGRAMS):
            # Headroom 16, the whole frame; then, for some, no headroom, a cut copy, a partial checksum.
            seeds["%s_p%02d" % (name, prog)] = bytes([prog, 3 << 1]) + frame
        seeds[name + "_noroom"] = bytes([4, 0]) + frame
        seeds[name + "_cut"] = bytes([rng.randrange(PROGRAMS), 3 << 1 | 2 << 4]) + frame
        seeds[name + "_partial"] = bytes([3, 3 << 1 | 1]) + frame
        seeds[name + "_fix"] = bytes([2, 3 << 1 | 8]) + frame
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(data)
    print("%d seeds in %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
