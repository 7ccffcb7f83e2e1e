#!/usr/bin/env python3
"""make_corpus_packet_parse.py - write the seed corpus of fuzz_packet_parse.

    fuzz/make_corpus_packet_parse.py [OUTDIR]     (default fuzz/corpus/packet_parse)

Each seed is one input in the format described at the top of
fuzz/fuzz_packet_parse.c: the iovec cuts, a push, a copy range, then a
frame.  Well-formed frames of every layer pkt_parse knows (VLAN, QinQ,
IPv4 with options, IPv6 with extension headers and fragments, TCP with
options, UDP, ICMP, SCTP, ARP), each also cut short and with its length
fields wrong, plus random bytes.  Deterministic: running it twice writes
the same bytes.
"""

import os
import random
import struct
import sys

MACS = bytes.fromhex("02000000000b02000000000a")


def seed(frame, cuts=(), push=0, rng_off=0, rng_len=255):
    cuts = list(cuts)[:16]
    ns = len(cuts)
    cuts = cuts + [0] * (16 - len(cuts))
    return bytes([ns]) + bytes(cuts) + bytes([push, rng_off, rng_len]) + frame


def eth(etype, tags=()):
    out = MACS
    for tpid, tci in tags:
        out += struct.pack("!HH", tpid, tci)
    return out + struct.pack("!H", etype)


def ipv4(proto, payload, ihl=5, frag=0, tot=None):
    tot = 4 * ihl + len(payload) if tot is None else tot
    hdr = struct.pack("!BBHHHBBH", 0x40 | ihl, 0, tot, 1, frag, 64, proto, 0) + bytes([10, 0, 0, 1, 10, 0, 0, 2])
    return hdr + bytes([1] * (4 * ihl - 20)) + payload


def ipv6(nxt, payload, plen=None):
    plen = len(payload) if plen is None else plen
    return struct.pack("!IHBB", 0x60000000, plen, nxt, 64) + bytes(15) + b"\x01" + bytes(15) + b"\x02" + payload


def tcp(doff=5, payload=b""):
    return struct.pack("!HHIIBBHHH", 1234, 80, 1, 0, doff << 4, 0x10, 1024, 0, 0) + bytes([1] * (4 * doff - 20)) + payload


def udp(payload=b""):
    return struct.pack("!HHHH", 1234, 4789, 8 + len(payload), 0) + payload


def ext(nxt, length8=0):
    """An IPv6 extension header (hop-by-hop, routing, destination options) of (length8 + 1) * 8 bytes."""
    return bytes([nxt, length8]) + bytes(6 + 8 * length8)


def frag6(nxt, offset=0, more=1):
    return struct.pack("!BBHI", nxt, 0, offset << 3 | more, 7)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "packet_parse")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(1213)
    frames = {
        "ipv4_tcp": eth(0x0800) + ipv4(6, tcp(8, b"x" * 100)),
        "ipv4_udp_64": (eth(0x0800) + ipv4(17, udp(b"y" * 18))).ljust(64, b"\0"),
        "ipv4_icmp_padded": (eth(0x0800) + ipv4(1, bytes(8))).ljust(60, b"\0"),
        "ipv4_options_tcp_options": eth(0x0800) + ipv4(6, tcp(15, b"z" * 200), ihl=15),
        "ipv4_sctp": eth(0x0800) + ipv4(132, bytes(12) + b"s" * 20),
        "ipv4_later_fragment": eth(0x0800) + ipv4(17, b"f" * 80, frag=0x2000 | 100),
        "ipv4_first_fragment": eth(0x0800) + ipv4(17, udp(b"f" * 80), frag=0x2000),
        "ipv4_tot_past_frame": eth(0x0800) + ipv4(6, tcp(), tot=500),
        "ipv4_tot_below_ihl": eth(0x0800) + ipv4(6, tcp(), tot=10),
        "ipv4_ihl_4": eth(0x0800) + ipv4(6, tcp(), ihl=4),
        "ipv4_tcp_doff_4": eth(0x0800) + ipv4(6, tcp()[:12] + b"\x40" + tcp()[13:]),
        "vlan_ipv6_tcp_max_options": eth(0x86DD, [(0x8100, 5)]) + ipv6(6, tcp(15, b"p" * 500)),
        "qinq_ipv4": eth(0x0800, [(0x88A8, 7), (0x8100, 9)]) + ipv4(17, udp()),
        "dot1ad_ipv4": eth(0x0800, [(0x88A8, 7)]) + ipv4(17, udp()),
        "ipv6_udp": eth(0x86DD) + ipv6(17, udp(b"u" * 30)),
        "ipv6_icmpv6": eth(0x86DD) + ipv6(58, bytes([135, 0, 0, 0]) + bytes(20)),
        "ipv6_hbh_frag_udp": eth(0x86DD) + ipv6(0, ext(44) + frag6(17) + udp(b"q" * 10)),
        "ipv6_later_fragment": eth(0x86DD) + ipv6(44, frag6(6, offset=100) + b"r" * 40),
        "ipv6_dstopts_long": eth(0x86DD) + ipv6(60, ext(6, 11) + tcp(5, b"t" * 40)),
        "ipv6_ext_past_payload": eth(0x86DD) + ipv6(60, bytes([6, 255]) + bytes(30)),
        "ipv6_routing_cut": eth(0x86DD) + ipv6(43, bytes(4)),
        "ipv6_plen_past_frame": eth(0x86DD) + ipv6(17, udp(), plen=1000),
        "ipv6_jumbo_plen_0": eth(0x86DD) + ipv6(0, b"", plen=0) + bytes(20),
        "arp": (eth(0x0806) + bytes.fromhex("0001080006040001") + MACS[6:] + bytes([10, 0, 0, 1]) + bytes(10)).ljust(60, b"\0"),
        "llc_length": eth(0x0040) + bytes(64),
        "eth_only": eth(0x0800),
        "vlan_cut": MACS + b"\x81\x00\x00",
        "big_1500": eth(0x0800) + ipv4(6, tcp(8, bytes(rng.randrange(256) for _ in range(1434)))),
    }
    seeds = {}
    for name, f in frames.items():
        seeds[name] = seed(f)
        seeds[name + "_cut_odd"] = seed(f, cuts=[1, 13, 3, 21, 1, 40, 7], push=4, rng_off=30, rng_len=100)
        seeds[name + "_pushed_vxlan"] = seed(f, cuts=[60], push=74, rng_off=0, rng_len=255)
        for cut in (15, 17, 33, 53, 61, 73, 100):
            if cut < len(f):
                seeds["%s_truncated_%d" % (name, cut)] = seed(f[:cut])
    for i in range(16):
        f = eth(rng.choice((0x0800, 0x86DD, 0x8100, 0x88A8, 0x0806))) + bytes(
            rng.randrange(256) for _ in range(rng.randrange(0, 300)))
        seeds["random_%02d" % i] = seed(f, cuts=[rng.randrange(256) for _ in range(16)], push=rng.randrange(256),
                                        rng_off=rng.randrange(256), rng_len=rng.randrange(256))
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(data)
    print("%d seeds in %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
