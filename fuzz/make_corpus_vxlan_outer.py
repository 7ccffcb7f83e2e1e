#!/usr/bin/env python3
"""make_corpus_vxlan_outer.py - write the seed corpus of fuzz_vxlan_outer.

    fuzz/make_corpus_vxlan_outer.py [OUTDIR]     (default fuzz/corpus/vxlan_outer)

Each seed is one input in the format described at the top of
fuzz/fuzz_vxlan_outer.c: the family, the port's address and UDP port, then
an underlay frame: IPv4 and IPv6 datagrams to the port with a checksum and
with none, with Ethernet padding, a bad checksum, a fragment, IPv4
options, another destination, another port, a UDP length past the IP
payload, a truncated frame; plus random bytes.  Deterministic: running it
twice writes the same bytes.
"""

import hashlib
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_lib import csum  # noqa: E402

MACS = bytes.fromhex("02000000000202000000000a")
L4 = bytes((192, 168, 78, 2))
R4 = bytes((192, 168, 78, 1))
L6 = bytes.fromhex("fd000078000000000000000000000002")
R6 = bytes.fromhex("fd000078000000000000000000000001")


def udp(src, dst, payload, sum_it=True, port=4789, ulen=None):
    ulen = len(payload) + 8 if ulen is None else ulen
    h = struct.pack("!HHHH", 51234, port, ulen, 0)
    if not sum_it:
        return h + payload
    ph = src + dst + (struct.pack("!BBH", 0, 17, ulen) if len(src) == 4 else struct.pack("!IxxxB", ulen, 17))
    c = csum(ph + h + payload) or 0xffff
    return h[:6] + struct.pack("!H", c) + payload


def ip4(payload, frag=0x4000, ihl=5, dst=L4):
    opts = bytes(4 * (ihl - 5))
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 4 * ihl + len(payload), 1, frag, 64, 17, 0, R4, dst) + opts
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def ip6(payload, nh=17, dst=L6):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64, R6, dst) + payload


def vx(n):
    return bytes.fromhex("0800000000424200") + MACS + b"\x08\x00" + bytes(range(256)) * (n // 256) + bytes(n % 256)


def seeds():
    p = vx(100)
    big = vx(1400)
    v4 = [
        MACS + b"\x08\x00" + ip4(udp(R4, L4, p)),
        MACS + b"\x08\x00" + ip4(udp(R4, L4, big)),
        MACS + b"\x08\x00" + ip4(udp(R4, L4, p, sum_it=False)),
        MACS + b"\x08\x00" + ip4(udp(R4, L4, p)) + bytes(6),
        MACS + b"\x08\x00" + ip4(udp(R4, L4, p)[:20] + b"\x55" + udp(R4, L4, p)[21:]),
        MACS + b"\x08\x00" + ip4(udp(R4, L4, p), frag=0x2000),
        MACS + b"\x08\x00" + ip4(udp(R4, L4, p), ihl=6),
        MACS + b"\x08\x00" + ip4(udp(R4, L4, p), dst=bytes((10, 0, 0, 9))),
        MACS + b"\x08\x00" + ip4(udp(R4, L4, p, port=4790)),
        MACS + b"\x08\x00" + ip4(udp(R4, L4, p, ulen=2000)),
        (MACS + b"\x08\x00" + ip4(udp(R4, L4, p)))[:40],
        MACS + b"\x81\x00\x00\x05\x08\x00" + ip4(udp(R4, L4, p)),
    ]
    v6 = [
        MACS + b"\x86\xdd" + ip6(udp(R6, L6, p)),
        MACS + b"\x86\xdd" + ip6(udp(R6, L6, big)),
        MACS + b"\x86\xdd" + ip6(udp(R6, L6, p, sum_it=False)),
        MACS + b"\x86\xdd" + ip6(udp(R6, L6, p), nh=0),
        MACS + b"\x86\xdd" + ip6(udp(R6, L6, p), dst=R6),
        (MACS + b"\x86\xdd" + ip6(udp(R6, L6, p)))[:60],
    ]
    out = []
    for f in v4:
        out.append(b"\x00" + L4 + bytes(12) + struct.pack("!H", 4789) + f)
    for f in v6:
        out.append(b"\x01" + L6 + struct.pack("!H", 4789) + f)
    rnd = random.Random(31)
    for _ in range(16):
        out.append(bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(19, 200))))
    return out


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "vxlan_outer")
    os.makedirs(out, exist_ok=True)
    for s in seeds():
        with open(os.path.join(out, hashlib.sha1(s).hexdigest()), "wb") as f:
            f.write(s)


if __name__ == "__main__":
    main()
