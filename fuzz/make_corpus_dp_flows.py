#!/usr/bin/env python3
"""make_corpus_dp_flows.py - write the seed corpus of fuzz_dp_flows.

    fuzz/make_corpus_dp_flows.py [OUTDIR]     (default fuzz/corpus/dp_flows)

Each seed is one input in the format described at the top of
fuzz/fuzz_dp_flows.c: the program byte (the ingress port is 1 + the byte
% NPORTS: numbers start at 1), the batch byte
(frames in the batch, partial checksum, the rule set without length
changes), then a frame.  The frames are fuzz_flow_exec's
(make_corpus_flow_exec.frames(): TCP, UDP, ICMP over IPv4 and IPv6, ARP,
tags, short and cut frames) at least 14 bytes long, through every
program, alone and in batches.  Python 3 standard library only;
deterministic.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_corpus_flow_exec  # noqa: E402  (the frames)

NPORTS = 6


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "dp_flows")
    os.makedirs(out, exist_ok=True)
    seeds = {}
    for name, frame in sorted(make_corpus_flow_exec.frames().items()):
        if len(frame) < 14:
            continue
        for prog in range(NPORTS):
            seeds["%s_p%d" % (name, prog)] = bytes([prog, 0]) + frame
            seeds["%s_p%d_batch" % (name, prog)] = bytes([prog, 63]) + frame
            seeds["%s_p%d_fixed" % (name, prog)] = bytes([prog, 0x80 | 7]) + frame
        seeds[name + "_partial"] = bytes([1, 0x40 | 3]) + frame
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(data)
    print("%d seeds in %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
