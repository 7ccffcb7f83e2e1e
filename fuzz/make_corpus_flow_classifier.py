#!/usr/bin/env python3
"""make_corpus_flow_classifier.py - write the seed corpus of fuzz_flow_classifier.

    fuzz/make_corpus_flow_classifier.py [OUTDIR]   (default fuzz/corpus/flow_classifier)

Each seed is one program in the format described at the top of
fuzz/fuzz_flow_classifier.c: a header byte, then ops (add, strict and
non-strict delete, commit, lookup, modify) with their argument bytes.
Programs: rules of one mask and of all masks, priority ties and spreads,
lookups before and after commits, deletes of what was just added, many
commits, modify of absent rules.  Python 3 standard library only;
deterministic.
"""

import os
import random
import sys

ADD, DEL_STRICT, DEL_COVER, COMMIT, LOOKUP, MODIFY = 0, 3, 4, 5, 6, 7
TIES = 4


def add(mask, prio, table, seed):
    return bytes([ADD, mask, prio, table, seed >> 8 & 0xFF, seed & 0xFF])


def del_strict(index):
    return bytes([DEL_STRICT, index])


def del_cover(mask, table, seed):
    return bytes([DEL_COVER, mask, table, seed >> 8 & 0xFF, seed & 0xFF])


def commit():
    return bytes([COMMIT])


def lookup(table, pick, seed):
    return bytes([LOOKUP, table, pick, seed >> 8 & 0xFF, seed & 0xFF])


def modify(index, port):
    return bytes([MODIFY, index, port])


def program(rng, n_ops, tables, ties, masks=range(12)):
    out = bytearray([(tables - 1) | (TIES if ties else 0)])
    for _ in range(n_ops):
        r = rng.random()
        if r < 0.45:
            out += add(rng.choice(masks), rng.randrange(256), rng.randrange(tables), rng.randrange(65536))
        elif r < 0.52:
            out += del_strict(rng.randrange(256))
        elif r < 0.56:
            out += del_cover(rng.choice(masks), rng.randrange(4), rng.randrange(65536))
        elif r < 0.64:
            out += commit()
        elif r < 0.95:
            out += lookup(rng.randrange(tables), rng.randrange(256), rng.randrange(65536))
        else:
            out += modify(rng.randrange(256), rng.randrange(256))
    return bytes(out)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "flow_classifier")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(14)
    seeds = {
        "empty": bytes([0]),
        "one_rule": bytes([0]) + add(1, 10, 0, 5) + commit() + lookup(0, 1, 5) + lookup(0, 0, 9),
        "uncommitted": bytes([0]) + add(0, 1, 0, 1) + lookup(0, 0, 1) + commit() + lookup(0, 0, 1),
        "shadowed": bytes([TIES]) + add(2, 1, 0, 7) + add(2, 3, 0, 7) + add(2, 2, 0, 7) + commit()
        + lookup(0, 1, 7) + del_strict(1) + commit() + lookup(0, 1, 7),
        "catch_all_under": bytes([0]) + add(0, 0, 0, 0) + add(7, 200, 0, 3) + add(5, 100, 0, 3) + commit()
        + lookup(0, 3, 3) + lookup(0, 5, 3),
        "delete_covered": bytes([2]) + add(5, 9, 0, 1) + add(6, 9, 1, 1) + add(7, 9, 2, 1) + commit()
        + del_cover(1, 3, 1) + commit() + lookup(0, 1, 1),
        "modify_absent": bytes([0]) + add(3, 4, 0, 2) + del_strict(0) + modify(0, 9) + commit() + lookup(0, 1, 2),
        "commit_storm": bytes([0]) + (add(4, 1, 0, 1) + commit() + del_strict(0) + commit()) * 20,
    }
    for i in range(12):
        seeds["one_mask_%02d" % i] = program(rng, 80, 1, i % 2 == 0, masks=[i])
    for i in range(16):
        seeds["mixed_%02d" % i] = program(rng, rng.randrange(20, 300), 1 + i % 3, i % 2 == 1)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(data)
    print("%d seeds in %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
