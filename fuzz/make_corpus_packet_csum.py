#!/usr/bin/env python3
"""make_corpus_packet_csum.py - write the seed corpus of fuzz_packet_csum.

    fuzz/make_corpus_packet_csum.py [OUTDIR]     (default fuzz/corpus/packet_csum)

Each seed is one input in the format described at the top of
fuzz/fuzz_packet_csum.c: a 10-byte virtio-net header, the accept bits, the
iovec cuts, then a frame.  Partial TCP/UDP frames over IPv4 and IPv6, the
header rules' edge cases, random headers and offsets.  Deterministic:
running it twice writes the same bytes.
"""

import os
import random
import struct
import sys

ALL = 0x7F
CSUM, DATA_VALID, TSO4, TSO6, ECN, UFO, USO = 1, 2, 4, 8, 16, 32, 64


def hdr(flags=0, gso=0, hdr_len=0, gso_size=0, start=0, off=0):
    return struct.pack("<BBHHHH", flags, gso, hdr_len, gso_size, start, off)


def seed(h, frame, accept=ALL, cuts=(), nsplit=None):
    cuts = list(cuts) + [0] * (16 - len(cuts))
    ns = (nsplit if nsplit is not None else len([c for c in cuts if c]) + 1) - 1
    return h + bytes([accept, ns]) + bytes(cuts[:16]) + frame


def l4_frame(rng, v6, udp, payload):
    """Ethernet + IP + TCP/UDP with the pseudo-header sum in the checksum field (CHECKSUM_PARTIAL)."""
    l4_len = (8 if udp else 20) + payload
    proto = 17 if udp else 6
    body = bytearray(rng.randbytes(l4_len))
    if v6:
        src, dst = rng.randbytes(16), rng.randbytes(16)
        ip = struct.pack("!IHBB", 0x60000000, l4_len, proto, 64) + src + dst
        ph = src + dst + struct.pack("!IxxxB", l4_len, proto)
        eth_type = 0x86DD
    else:
        src, dst = rng.randbytes(4), rng.randbytes(4)
        ip = struct.pack("!BBHHHBBH", 0x45, 0, 20 + l4_len, 0, 0x4000, 64, proto, 0) + src + dst
        ph = src + dst + struct.pack("!xBH", proto, l4_len)
        eth_type = 0x0800
    s = 0
    for i in range(0, len(ph), 2):
        s += ph[i] << 8 | ph[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    check = 6 if udp else 16
    body[check:check + 2] = struct.pack("!H", s)
    eth = rng.randbytes(12) + struct.pack("!H", eth_type)
    frame = eth + ip + bytes(body)
    return frame, 14 + len(ip), check


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "packet_csum")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(1071)
    seeds = {}

    for v6 in (False, True):
        for udp in (False, True):
            for payload in (0, 1, 7, 100, 1400):
                f, start, off = l4_frame(rng, v6, udp, payload)
                name = "partial_%s_%s_%d" % ("v6" if v6 else "v4", "udp" if udp else "tcp", payload)
                seeds[name] = seed(hdr(1, 0, 0, 0, start, off), f, CSUM)
                seeds[name + "_cut_odd"] = seed(hdr(1, 0, 0, 0, start, off), f, CSUM, cuts=[15, 1, 3, 21, 1])
                seeds[name + "_field_straddles"] = seed(hdr(1, 0, 0, 0, start, off), f, CSUM,
                                                        cuts=[start + off + 1])
                seeds[name + "_tso"] = seed(hdr(1, (4 if v6 else 1) if not udp else 5, start + 20, 1448,
                                                start, off), f, ALL)
    f, start, off = l4_frame(rng, False, False, 60)
    seeds["csum_not_accepted"] = seed(hdr(1, 0, 0, 0, start, off), f, 0)
    seeds["csum_field_last_two"] = seed(hdr(1, 0, 0, 0, start, len(f) - start - 2), f, CSUM)
    seeds["csum_field_one_out"] = seed(hdr(1, 0, 0, 0, start, len(f) - start - 1), f, CSUM)
    seeds["csum_start_max"] = seed(hdr(1, 0, 0, 0, 0xFFFF, 0xFFFF), f, CSUM)
    seeds["data_valid_driver"] = seed(hdr(2), f, CSUM)
    seeds["data_valid_kernel"] = seed(hdr(2), f, DATA_VALID)
    seeds["rsc_info"] = seed(hdr(4), f, ALL)
    seeds["flags_undefined"] = seed(hdr(0xF8), f, ALL)
    seeds["gso_type_2"] = seed(hdr(1, 2, 54, 1448, start, off), f, ALL)
    seeds["gso_ecn_alone"] = seed(hdr(1, 0x80, 54, 1448, start, off), f, ALL)
    seeds["gso_ecn_tso4"] = seed(hdr(1, 0x81, 54, 1448, start, off), f, ALL)
    seeds["gso_no_csum"] = seed(hdr(0, 1, 54, 1448), f, ALL)
    seeds["gso_size_0"] = seed(hdr(1, 1, 54, 0, start, off), f, ALL)
    seeds["gso_hdr_len_past_end"] = seed(hdr(1, 1, 0xFFFF, 1448, start, off), f, ALL)
    seeds["empty_frame"] = seed(hdr(1, 0, 0, 0, 0, 0), b"", ALL)
    seeds["one_byte_frame"] = seed(hdr(), b"\x45", ALL)
    seeds["vlan_v4"] = seed(hdr(), f[:12] + b"\x81\x00\x00\x05" + f[12:], ALL, cuts=[17])
    for i in range(12):
        n = rng.randrange(0, 300)
        frame = rng.randbytes(n)
        h = hdr(rng.choice((0, 1, 1, 3)), rng.choice((0, 0, 1, 3, 4, 5, 0x81, 7)), rng.randrange(0, 400),
                rng.randrange(0, 3), rng.randrange(0, n + 4), rng.randrange(0, 40))
        seeds["random_%02d" % i] = seed(h, frame, rng.randrange(0, 128),
                                        cuts=[rng.randrange(0, 256) for _ in range(16)], nsplit=rng.randrange(1, 17))
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(data)
    print("%d seeds in %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
