#!/usr/bin/env python3
"""make_corpus_icmp_pmtu.py - write the seed corpus of fuzz_icmp_pmtu.

    fuzz/make_corpus_icmp_pmtu.py [OUTDIR]     (default fuzz/corpus/icmp_pmtu)

Each seed is one input in the format described at the top of
fuzz/fuzz_icmp_pmtu.c: an MTU, a view split, then an inner frame: IPv4 TCP
with DF (answered), without DF, a fragment, an ICMP error and an echo,
tagged; IPv6 TCP, an ICMPv6 error and an echo request, a multicast source;
at MTUs around 576 and 1280; plus random bytes.  Deterministic: running it
twice writes the same bytes.
"""

import hashlib
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_lib import csum  # noqa: E402

MACS = bytes.fromhex("02000000000b02000000000a")


def ip4(proto, payload, frag=0x4000, src=(10, 0, 0, 1), dst=(10, 0, 0, 2)):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, frag, 64, proto, 0, bytes(src), bytes(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def ip6(nh, payload, src=bytes(15) + b"\1", dst=bytes(15) + b"\2"):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64, src, dst) + payload


def tcp(n):
    return struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, 0x50, 0x10, 65535, 0, 0) + bytes(range(256)) * (n // 256) + \
        bytes(n % 256)


def frames():
    big = tcp(1460)
    return [
        MACS + b"\x08\x00" + ip4(6, big),
        MACS + b"\x08\x00" + ip4(6, big, frag=0),
        MACS + b"\x08\x00" + ip4(6, big, frag=0x2000),
        MACS + b"\x08\x00" + ip4(1, b"\x03\x04\x00\x00\x00\x00\x05\xaa" + bytes(1400)),
        MACS + b"\x08\x00" + ip4(1, b"\x08\x00\x00\x00\x00\x01\x00\x01" + bytes(1400)),
        MACS + b"\x08\x00" + ip4(6, big, dst=(239, 1, 1, 1)),
        MACS + b"\x81\x00\x00\x2a\x08\x00" + ip4(6, big),
        MACS + b"\x86\xdd" + ip6(6, big),
        MACS + b"\x86\xdd" + ip6(58, b"\x01\x00\x00\x00" + bytes(1400)),
        MACS + b"\x86\xdd" + ip6(58, b"\x80\x00\x00\x00" + bytes(1400)),
        MACS + b"\x86\xdd" + ip6(6, big, src=b"\xff\x02" + bytes(14)),
        b"\xff" * 6 + MACS[6:] + b"\x08\x00" + ip4(6, big),
    ]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "icmp_pmtu")
    os.makedirs(out, exist_ok=True)
    seeds = []
    for f in frames():
        for mtu in (575, 576, 1280, 1400):
            for split in (0, 101):
                seeds.append(struct.pack("!HB", mtu, split) + f)
    rnd = random.Random(16)
    for _ in range(16):
        seeds.append(bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(3, 200))))
    for s in seeds:
        with open(os.path.join(out, hashlib.sha1(s).hexdigest()), "wb") as f:
            f.write(s)


if __name__ == "__main__":
    main()
