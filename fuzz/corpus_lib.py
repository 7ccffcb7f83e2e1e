"""corpus_lib.py - what the seed-corpus scripts of fuzz/ share: the Internet checksum of the frames they build."""

import struct


def csum(b):
    """The Internet checksum (RFC 1071) of @b, padded to an even length: the value of the field."""
    b += bytes(len(b) & 1)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
