#!/usr/bin/env python3
"""make_corpus_packet_gso.py - write the seed corpus of fuzz_packet_gso.

    fuzz/make_corpus_packet_gso.py [OUTDIR]     (default fuzz/corpus/packet_gso)

Each seed is one input in the format described at the top of
fuzz/fuzz_packet_gso.c: the offload request, the iovec cuts, then a frame.
TSO over IPv4 and IPv6 (options, a VLAN tag, CWR/FIN/PSH), USO, a partial
checksum alone, and requests that do not match their frame (type against
protocol, gso_size 0 or tiny, padding, the field past the head).
Deterministic: running it twice writes the same bytes.
"""

import os
import random
import struct
import sys

NONE, TCPV4, TCPV6, UFO, USO, ECN = 0, 1, 2, 3, 4, 0x80
PARTIAL = 1


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def frame(rng, v6, udp, payload, vlan=False, ip_opt=0, tcp_opt=0, flags=0x18, qinq=False):
    """A sender's partial frame: (bytes, csum_start, csum_offset)."""
    l4h = 8 if udp else 20 + tcp_opt
    l4_len = l4h + payload
    proto = 17 if udp else 6
    if udp:
        l4 = struct.pack("!HHHH", 1000, 2000, l4_len, 0)
    else:
        l4 = struct.pack("!HHIIBBHHH", 1000, 2000, rng.randrange(1 << 32), 0, (5 + tcp_opt // 4) << 4, flags,
                         65535, 0, 0) + b"\x01" * tcp_opt
    body = bytearray(l4 + rng.randbytes(payload))
    if v6:
        src, dst = rng.randbytes(16), rng.randbytes(16)
        ip = struct.pack("!IHBB", 0x60000000, l4_len, proto, 64) + src + dst
        ph = src + dst + struct.pack("!IxxxB", l4_len, proto)
        eth_type = 0x86DD
    else:
        src, dst = rng.randbytes(4), rng.randbytes(4)
        ip = bytearray(struct.pack("!BBHHHBBH", 0x45 + ip_opt // 4, 0, 20 + ip_opt + l4_len, rng.randrange(65536),
                                   0x4000, 64, proto, 0) + src + dst + b"\x01" * ip_opt)
        ip[10:12] = struct.pack("!H", 0xFFFF - csum(bytes(ip)))
        ph = src + dst + struct.pack("!xBH", proto, l4_len)
        eth_type = 0x0800
    off = 6 if udp else 16
    body[off:off + 2] = struct.pack("!H", csum(ph))
    eth = bytes(range(1, 13)) + (b"\x88\xa8\x00\x64" if qinq else b"") + (b"\x81\x00\x00\x07" if vlan or qinq else b"") + \
        struct.pack("!H", eth_type)
    return eth + bytes(ip) + bytes(body), len(eth) + len(ip), off


def seed(gso, mss, start, off, f, csum_mode=PARTIAL, cuts=(), chunk=3):
    cuts = list(cuts) + [0] * (7 - len(cuts))
    return struct.pack("<BBHHH", gso, csum_mode, mss, start, off) + bytes([len([c for c in cuts if c])]) + \
        bytes(cuts[:7]) + bytes([chunk]) + f


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "packet_gso")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(1448)
    seeds = {}
    for v6 in (False, True):
        for udp in (False, True):
            for payload in (0, 1, 999, 1000, 1001, 3500):
                f, s, o = frame(rng, v6, udp, payload)
                gso = USO if udp else (TCPV6 if v6 else TCPV4)
                name = "%s_%s_%d" % ("v6" if v6 else "v4", "udp" if udp else "tcp", payload)
                seeds[name] = seed(gso, 1000, s, o, f)
                seeds[name + "_cut"] = seed(gso, 1000, s, o, f, cuts=[13, 1, 60, 7, 200, 1], chunk=1)
                seeds[name + "_csum_only"] = seed(NONE, 0, s, o, f, cuts=[s + o + 1])
    f, s, o = frame(rng, False, False, 3000, vlan=True, ip_opt=8, tcp_opt=12, flags=0x80 | 0x19)
    seeds["v4_vlan_opts_cwr_fin"] = seed(TCPV4 | ECN, 536, s, o, f, chunk=8)
    f, s, o = frame(rng, True, False, 3000, vlan=True, tcp_opt=40)
    seeds["v6_vlan_opts"] = seed(TCPV6, 1448, s, o, f)
    f, s, o = frame(rng, False, False, 3000)
    seeds["bad_type_v6_on_v4"] = seed(TCPV6, 1000, s, o, f)
    seeds["bad_ufo"] = seed(UFO, 1000, s, o, f)
    seeds["bad_uso_on_tcp"] = seed(USO, 1000, s, o, f)
    seeds["bad_gso_size_0"] = seed(TCPV4, 0, s, o, f)
    seeds["bad_gso_size_1"] = seed(TCPV4, 1, s, o, f)
    seeds["bad_gso_size_3"] = seed(TCPV4, 3, s, o, f)
    seeds["bad_padding"] = seed(TCPV4, 1000, s, o, f + b"\0" * 6)
    seeds["bad_no_partial"] = seed(TCPV4, 1000, s, o, f, csum_mode=0)
    seeds["bad_csum_place"] = seed(TCPV4, 1000, s, 6, f)
    seeds["bad_csum_past_max"] = seed(NONE, 0, 1000, 2, f)
    seeds["bad_csum_past_end"] = seed(NONE, 0, 0xFFFF, 0xFFFF, f)
    f, s, o = frame(rng, True, True, 2000)
    seeds["bad_ecn_udp"] = seed(USO | ECN, 500, s, o, f)
    for i in range(8):
        n = rng.randrange(14, 400)
        seeds["random_%02d" % i] = seed(rng.randrange(256), rng.randrange(65536), rng.randrange(n + 4),
                                        rng.randrange(40), rng.randbytes(n), csum_mode=rng.randrange(3),
                                        cuts=[rng.randrange(256) for _ in range(7)], chunk=rng.randrange(256))
    for v6 in (False, True):
        for udp in (False, True):
            f, s, o = frame(rng, v6, udp, 3000, qinq=True, tcp_opt=0 if udp else 12)
            name = "qinq_%s_%s" % ("v6" if v6 else "v4", "udp" if udp else "tcp")
            seeds[name] = seed(USO if udp else (TCPV6 if v6 else TCPV4), 1000, s, o, f, cuts=[30, 9])
            seeds[name + "_csum_only"] = seed(NONE, 0, s, o, f)
    # An inner checksum behind an IPv6 VXLAN header (70 bytes): the field past the 128-byte head.
    f, s, o = frame(rng, True, False, 1200)
    outer = bytes(range(0x20, 0x2C)) + b"\x86\xdd" + struct.pack("!IHBB", 0x60000000, len(f) + 16, 17, 64) + \
        rng.randbytes(32) + struct.pack("!HHHH", 40000, 4789, len(f) + 16, 0) + b"\x08\0\0\0\0\0\x2a\0"
    seeds["vxlan6_inner_v6_csum"] = seed(NONE, 0, len(outer) + s, o, outer + f, cuts=[100, 40])
    seeds["vxlan6_inner_v6_csum_tso_refused"] = seed(TCPV6, 1000, len(outer) + s, o, outer + f)
    # UDP tunnels' TSO / USO frames as a container's vxlan device hands them to AF_PACKET: the inner type,
    # csum_start at the inner transport header; outer IPv4 / IPv6, outer UDP checksum used or not.
    for ov6 in (False, True):
        for v6 in (False, True):
            for udp in (False, True):
                f, s, o = frame(rng, v6, udp, 2500, tcp_opt=0 if udp else 12)
                ulen = 8 + 8 + len(f)
                if ov6:
                    oip = struct.pack("!IHBB", 0x60000000, ulen, 17, 64) + rng.randbytes(32)
                    eth_type = b"\x86\xdd"
                else:
                    oip = bytearray(struct.pack("!BBHHHBBH", 0x45, 0, 20 + ulen, 7, 0x4000, 64, 17, 0) + rng.randbytes(8))
                    oip[10:12] = struct.pack("!H", 0xFFFF - csum(bytes(oip)))
                    eth_type = b"\x08\x00"
                for ocsum in (0, 0x1234):
                    outer = bytes(range(0x30, 0x3C)) + eth_type + bytes(oip) + \
                        struct.pack("!HHHH", 40001, 4789, ulen, ocsum) + b"\x08\0\0\0\0\0\x2a\0"
                    name = "tunnel_%s_%s_%s%s" % ("o6" if ov6 else "o4", "v6" if v6 else "v4", "udp" if udp else "tcp",
                                                  "_ocsum" if ocsum else "")
                    gso = USO if udp else (TCPV6 if v6 else TCPV4)
                    seeds[name] = seed(gso, 700, len(outer) + s, o, outer + f, cuts=[90, 7, 200],
                                       chunk=0x80 | 3 if ocsum else 3)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(data)
    print("%d seeds in %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
