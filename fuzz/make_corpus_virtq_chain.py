#!/usr/bin/env python3
"""make_corpus_virtq_chain.py - write the seed corpus of fuzz_virtq_chain.

    fuzz/make_corpus_virtq_chain.py [OUTDIR]     (default fuzz/corpus/virtq_chain)

Each seed is one input in the format described at the top of
fuzz/fuzz_virtq_chain.c: a 24-byte header, a guest memory image trimmed of
its trailing zeros, then optional patches (driver writes between device
rounds).  Valid rings of both layouts and the classic driver mistakes.
Deterministic: running it twice writes the same bytes.
"""

import os
import struct
import sys

HALF = 0x8000
IMAGE = 2 * HALF
HOLE = 0x1000
BASES = [0x10000, 0x0, 0xFFFF8000, 0xFFFFFFFFFFFEE000]

# Descriptor flags (virtio 1.3 2.7.5, 2.8).
NEXT, WRITE, INDIRECT = 1, 2, 4
AVAIL, USED = 1 << 7, 1 << 15

# Memory modes and ops bits of the header.
MEM_ONE, MEM_TWO, MEM_HOLE, MEM_A_ONLY = 0, 1, 2, 3

# Where the seeds put things (image offsets).
DESC_OFF = 0x0000
DRIVER_OFF = 0x0200
DEVICE_OFF = 0x0300
TABLE_OFF = 0x0800   # indirect tables, 0x100 bytes apart
BUF_OFF = 0x1000     # buffers: contents never matter, only addresses


class Seed:
    """One input: header fields, an image and patches."""

    def __init__(self, packed=False, num=8, event_idx=False, indirect=False,
                 in_order=False, mem=MEM_TWO, base_sel=0, iov_max=0,
                 flush_every=1, len_mode=0, hold=1, kick_disable=False,
                 set_base=None, num_raw=None, fill=0xA5A5A5A5,
                 unpop_each=False, unpop_held=False, burst=False, burst_dir=0,
                 desc_off=DESC_OFF, driver_off=DRIVER_OFF, device_off=DEVICE_OFF):
        self.packed, self.num = packed, num
        self.event_idx, self.indirect, self.in_order = event_idx, indirect, in_order
        self.mem, self.base_sel, self.iov_max = mem, base_sel, iov_max
        self.flush_every, self.len_mode, self.hold = flush_every, len_mode, hold
        self.kick_disable, self.set_base, self.num_raw = kick_disable, set_base, num_raw
        self.desc_off, self.driver_off, self.device_off = desc_off, driver_off, device_off
        self.fill = fill
        self.unpop_each, self.unpop_held = unpop_each, unpop_held
        self.burst = burst
        self.burst_dir = burst_dir	# vq_pop_burst()'s direction: 0 any, 1 read, 2 write
        self.image = bytearray(IMAGE)
        self.patches = []

    # Guest physical address of an image offset.
    def gpa(self, off):
        base = BASES[self.base_sel]
        if off < HALF:
            return base + off
        return base + HALF + (HOLE if self.mem == MEM_HOLE else 0) + off - HALF

    def buf(self, n):
        """A buffer address: the n-th 0x100-byte slot of the buffer area."""
        return self.gpa(BUF_OFF + n * 0x100)

    def table(self, n):
        """Image offset of the n-th indirect table."""
        return TABLE_OFF + n * 0x100

    def put(self, off, data):
        self.image[off:off + len(data)] = data

    def num_byte(self):
        if self.num_raw is not None:
            return 0x80 | self.num_raw
        if self.packed:
            assert 1 <= self.num <= 32
            return self.num - 1
        assert self.num in (1, 2, 4, 8, 16, 32)
        return self.num.bit_length() - 1

    # --- split ring ---------------------------------------------------------

    def sdesc(self, i, addr, length, flags=0, nxt=0, table_off=None):
        off = (self.desc_off if table_off is None else table_off) + 16 * i
        self.put(off, struct.pack('<QIHH', addr & (2**64 - 1), length, flags, nxt))

    def savail(self, heads, idx=None, flags=0, used_event=None, start=0):
        """Publish @heads at ring positions start.. and set avail->idx."""
        n = self.num
        for k, h in enumerate(heads):
            self.put(self.driver_off + 4 + 2 * ((start + k) % n), struct.pack('<H', h))
        if idx is None:
            idx = (start + len(heads)) & 0xFFFF
        self.put(self.driver_off, struct.pack('<HH', flags, idx))
        if used_event is not None:
            self.put(self.driver_off + 4 + 2 * n, struct.pack('<H', used_event))

    # --- packed ring --------------------------------------------------------

    def pdesc(self, i, addr, length, buf_id, flags, wrap=True, table_off=None):
        """A packed descriptor; in the ring, AVAIL/USED are set as for @wrap."""
        if table_off is None:
            flags |= (AVAIL if wrap else USED)
            off = self.desc_off + 16 * i
        else:
            off = table_off + 16 * i
        self.put(off, struct.pack('<QIHH', addr & (2**64 - 1), length, buf_id, flags))

    def pevent(self, off_wrap=0, flags=0):
        self.put(self.driver_off, struct.pack('<HH', off_wrap, flags))

    # --- output -------------------------------------------------------------

    def patch(self, off, data):
        self.patches.append((off, bytes(data)))

    def cut(self, off, length):
        """Move image[off, off + length) into the next patch: the driver
        writes it after the first device round.  Keeps seeds that use
        memory far into the image small."""
        self.patch(off, self.image[off:off + length])
        self.image[off:off + length] = bytes(length)

    def encode(self):
        cfg = (self.packed | self.event_idx << 1 | self.indirect << 2 | self.in_order << 3
               | self.mem << 4 | self.base_sel << 6)
        assert self.flush_every in (1, 2, 4, 8) and 1 <= self.hold <= 4
        ops = ((self.flush_every.bit_length() - 1) | self.len_mode << 2 | (self.hold - 1) << 4
               | self.kick_disable << 6 | (self.set_base is not None) << 7)
        img = bytes(self.image).rstrip(b'\0')
        ops2 = self.unpop_each | self.unpop_held << 1 | self.burst << 2 | self.burst_dir << 3
        out = struct.pack('<BBBBIHHHHIB3x', cfg, self.num_byte(), self.iov_max, ops,
                          self.set_base or 0, self.desc_off, self.driver_off,
                          self.device_off, len(img), self.fill, ops2)
        out += img
        for off, data in self.patches:
            out += struct.pack('<HB', off, len(data)) + data
        return out


SEEDS = {}


def seed(fn):
    SEEDS[fn.__name__] = fn
    return fn


# ---- split: valid ----------------------------------------------------------

@seed
def split_direct_single():
    s = Seed()
    s.sdesc(0, s.buf(0), 64)
    s.savail([0])
    return s


@seed
def split_direct_chain():
    s = Seed()
    s.sdesc(0, s.buf(0), 12, NEXT, 1)
    s.sdesc(1, s.buf(1), 100, NEXT, 2)
    s.sdesc(2, s.buf(2), 1514, WRITE)
    s.sdesc(5, s.buf(8), 256, WRITE | NEXT, 6)
    s.sdesc(6, s.buf(9), 256, WRITE)
    s.savail([0, 5])
    return s


@seed
def split_indirect():
    s = Seed(indirect=True)
    t = s.table(0)
    s.sdesc(0, s.buf(0), 12, NEXT, 1, table_off=t)
    s.sdesc(1, s.buf(1), 200, NEXT, 2, table_off=t)
    s.sdesc(2, s.buf(2), 1500, WRITE, table_off=t)
    s.sdesc(3, s.gpa(t), 48, INDIRECT)
    s.savail([3])
    return s


@seed
def split_direct_indirect_tail():
    # 2.7.5.3.2: zero or more direct descriptors followed by one indirect.
    s = Seed(indirect=True)
    t = s.table(1)
    s.sdesc(0, s.buf(0), 10, WRITE, table_off=t)
    s.sdesc(1, s.buf(1), 10, WRITE, table_off=t)
    s.sdesc(0, s.buf(4), 12, NEXT, 1)
    s.sdesc(1, s.gpa(t), 32, INDIRECT)
    s.savail([0])
    return s


@seed
def split_event_idx_batch():
    s = Seed(event_idx=True, num=16, flush_every=1)
    for i in range(6):
        s.sdesc(i, s.buf(i), 64 + i, WRITE if i % 2 else 0)
    s.savail(list(range(6)), used_event=2)
    return s


@seed
def split_no_interrupt_kick_disable():
    s = Seed(num=4, kick_disable=True, hold=2)
    for i in range(4):
        s.sdesc(i, s.buf(i), 32, WRITE)
    s.savail([3, 2, 1, 0], flags=1)
    return s


@seed
def split_in_order():
    s = Seed(in_order=True, num=8, flush_every=2, hold=3)
    for i in range(5):
        s.sdesc(i, s.buf(i), 128, WRITE)
    s.savail(list(range(5)))
    return s


@seed
def split_in_order_short_write():
    s = Seed(in_order=True, event_idx=True, num=4, len_mode=2)
    for i in range(4):
        s.sdesc(i, s.buf(i), 128, WRITE)
    s.savail(list(range(4)), used_event=1)
    return s


@seed
def split_idx_wraps_16bit():
    s = Seed(num=4, set_base=0xFFFE)
    for i in range(4):
        s.sdesc(i, s.buf(i), 40, WRITE)
    s.savail([0, 1, 2, 3], start=0xFFFE)
    return s


@seed
def split_num1():
    s = Seed(num=1)
    s.sdesc(0, s.buf(0), 1, WRITE)
    s.savail([0])
    return s


@seed
def split_num32_full():
    s = Seed(num=32, iov_max=64, hold=3, flush_every=4)
    for i in range(32):
        s.sdesc(i, s.buf(i), 16 * (i + 1), WRITE if i >= 16 else 0)
    s.savail(list(range(31, -1, -1)))
    return s


@seed
def split_straddle_regions():
    # One buffer across the A/B boundary: two iovecs in mode 1.
    s = Seed(mem=MEM_TWO)
    s.sdesc(0, s.gpa(HALF - 0x10), 0x20, NEXT, 1)
    s.sdesc(1, s.gpa(HALF - 0x8), 0x10, WRITE)
    s.savail([0])
    return s


@seed
def split_straddle_one_region():
    s = Seed(mem=MEM_ONE)
    s.sdesc(0, s.gpa(HALF - 0x10), 0x20, WRITE)
    s.sdesc(1, s.gpa(IMAGE - 0x40), 0x40, WRITE)
    s.savail([0, 1])
    return s


@seed
def split_high_4g():
    s = Seed(base_sel=2, mem=MEM_TWO)
    s.sdesc(0, s.gpa(HALF - 4), 8, WRITE)   # crosses the 4 GiB line
    s.savail([0])
    return s


@seed
def split_top_of_space():
    s = Seed(base_sel=3, mem=MEM_HOLE, indirect=True)
    t = s.table(0)
    s.sdesc(0, s.gpa(IMAGE - 0x10), 0x10, WRITE, table_off=t)
    s.sdesc(0, s.gpa(t), 16, INDIRECT)
    s.savail([0])
    return s


@seed
def split_indirect_in_region_b():
    s = Seed(indirect=True, mem=MEM_TWO)
    t = HALF + 0x100
    s.sdesc(0, s.buf(0), 8, NEXT, 1, table_off=t)
    s.sdesc(1, s.buf(1), 8, WRITE, table_off=t)
    s.sdesc(0, s.gpa(t), 32, INDIRECT)
    s.savail([0])
    s.cut(t, 32)
    s.cut(DRIVER_OFF, 6)
    return s


@seed
def split_indirect_straddles_regions():
    # Indirect table not contiguous in host memory: read piecewise.
    s = Seed(indirect=True, mem=MEM_TWO)
    t = HALF - 16
    s.sdesc(0, s.buf(0), 8, NEXT, 1, table_off=t)
    s.sdesc(1, s.buf(1), 8, WRITE, table_off=t)
    s.sdesc(0, s.gpa(t), 32, INDIRECT)
    s.savail([0])
    s.cut(t, 32)
    s.cut(DRIVER_OFF, 6)
    return s


@seed
def split_indirect_misaligned_table():
    s = Seed(indirect=True)
    t = s.table(0) + 3
    s.sdesc(0, s.buf(0), 8, WRITE, table_off=t)
    s.sdesc(0, s.gpa(t), 16, INDIRECT)
    s.savail([0])
    return s


@seed
def split_rings_in_region_b():
    s = Seed(num=4, desc_off=HALF, driver_off=HALF + 0x100, device_off=HALF + 0x200)
    s.sdesc(0, s.buf(0), 8, WRITE)
    s.savail([0])
    s.cut(HALF, 16)
    s.cut(HALF + 0x100, 6)
    return s


@seed
def split_rounds_recycle():
    # The driver keeps re-posting head 0..1 after the device used them.
    s = Seed(num=2, event_idx=True)
    s.sdesc(0, s.buf(0), 64, WRITE)
    s.sdesc(1, s.buf(1), 64, 0)
    s.savail([0, 1], used_event=0)
    for r in range(1, 6):
        # Positions 2r, 2r + 1 are ring slots 0, 1 again: only idx moves.
        s.patch(DRIVER_OFF, struct.pack('<HH', 0, 2 * r + 2))
        if r % 2:
            s.patch(DRIVER_OFF + 4 + 2 * 2, struct.pack('<H', 2 * r + 1))
    return s


@seed
def split_rounds_rewrite_desc():
    # Round 2 rewrites a descriptor the device already used into a loop.
    s = Seed(num=4)
    s.sdesc(0, s.buf(0), 64, WRITE)
    s.savail([0])
    s.patch(DESC_OFF, struct.pack('<QIHH', s.buf(0), 64, NEXT | WRITE, 0))
    s.patch(DRIVER_OFF, struct.pack('<HHH', 0, 2, 0))
    s.patch(DRIVER_OFF + 6, struct.pack('<H', 0))
    return s


@seed
def split_rings_at_region_end():
    # Descriptor table flush against the end of A, avail ring (with
    # used_event) against the end of B: an index past the ring hits the
    # ASan redzone of the allocation.
    s = Seed(num=8, event_idx=True, mem=MEM_TWO, flush_every=1,
             desc_off=HALF - 128, driver_off=IMAGE - 22, device_off=DEVICE_OFF)
    for i in range(8):
        s.sdesc(i, s.buf(i), 16, WRITE)
    s.savail([7, 6, 5, 4, 3, 2, 1, 0], used_event=7)
    s.cut(HALF - 128, 128)
    s.cut(IMAGE - 22, 22)
    return s


@seed
def split_used_at_region_end():
    s = Seed(num=8, mem=MEM_HOLE, hold=3, device_off=IMAGE - 72)   # 2.7: 6 + 8 * num bytes
    for i in range(8):
        s.sdesc(i, s.buf(i), 16, WRITE)
    s.savail(list(range(8)))
    return s


@seed
def split_indirect_addr_wraps():
    s = Seed(indirect=True)
    s.sdesc(0, 0xFFFFFFFFFFFFFFF0, 32, INDIRECT)
    s.savail([0])
    return s


@seed
def split_unpop_each():
    s = Seed(num=4, unpop_each=True, hold=2, indirect=True)
    t = s.table(0)
    s.sdesc(0, s.buf(0), 8, 0, table_off=t)
    s.sdesc(1, s.buf(1), 8, WRITE, table_off=t)
    s.sdesc(0, s.gpa(t), 32, INDIRECT)
    s.sdesc(1, s.buf(2), 8, NEXT, 2)
    s.sdesc(2, s.gpa(HALF - 4), 8, WRITE)
    s.savail([0, 1], start=0xFFFF, idx=0x0001)
    s.set_base = 0xFFFF
    return s


@seed
def split_unpop_held():
    s = Seed(num=4, unpop_held=True, hold=3, in_order=True)
    for i in range(4):
        s.sdesc(i, s.buf(i), 8, WRITE)
    s.savail([0, 1, 2, 3])
    return s


@seed
def split_burst_lone():
    # Lone buffers through vq_pop_burst(): a run of readable and writable
    # ones, then a chain it must leave to vq_pop(), then lone ones again.
    s = Seed(num=8, burst=True, hold=4)
    for i in range(3):
        s.sdesc(i, s.buf(i), 64, WRITE if i & 1 else 0)
    s.sdesc(3, s.buf(3), 12, NEXT, 4)
    s.sdesc(4, s.buf(4), 100, WRITE)
    s.sdesc(5, s.buf(5), 64)
    s.sdesc(6, s.buf(6), 64, WRITE)
    s.savail([0, 1, 2, 3, 5, 6])
    return s


@seed
def split_burst_read_then_written():
    # vq_pop_burst() (a burst of one a pop) for read buffers, as a transmit
    # queue's: a writable one is left to vq_pop(), which gives it as it is;
    # a chain.
    s = Seed(num=8, burst=True, burst_dir=1, hold=4)
    for i in range(5):
        s.sdesc(i, s.buf(i), 64, WRITE if i in (2, 3) else 0)
    s.sdesc(5, s.buf(5), 12, NEXT, 6)
    s.sdesc(6, s.buf(6), 100)
    s.savail([0, 1, 2, 3, 4, 5])
    return s


@seed
def split_burst_written_then_read():
    # The same for written buffers (a receive queue's); one past the region.
    s = Seed(num=8, burst=True, burst_dir=2, hold=4)
    for i in range(4):
        s.sdesc(i, s.buf(i), 64, 0 if i == 2 else WRITE)
    s.sdesc(4, s.gpa(HALF) - 8, 64, WRITE)
    s.savail([0, 1, 2, 3, 4])
    return s


@seed
def split_burst_region_edges():
    # The first region's last byte, one byte past it, length 0, a head
    # out of range: the burst stops at each and vq_pop() judges it.
    s = Seed(num=8, burst=True, unpop_held=True, hold=3)
    s.sdesc(0, s.gpa(HALF - 8), 8, WRITE)
    s.sdesc(1, s.gpa(HALF - 8), 9, WRITE)
    s.sdesc(2, s.buf(2), 0, WRITE)
    s.sdesc(3, s.buf(3), 64)
    s.savail([0, 3, 1, 2, 9])
    return s


# ---- split: broken driver --------------------------------------------------

@seed
def split_loop():
    s = Seed()
    s.sdesc(0, s.buf(0), 8, NEXT, 1)
    s.sdesc(1, s.buf(1), 8, NEXT, 0)
    s.savail([0])
    return s


@seed
def split_self_loop_indirect():
    s = Seed(indirect=True)
    t = s.table(0)
    s.sdesc(0, s.buf(0), 8, NEXT, 0, table_off=t)
    s.sdesc(0, s.gpa(t), 16, INDIRECT)
    s.savail([0])
    return s


@seed
def split_next_out_of_range():
    s = Seed()
    s.sdesc(0, s.buf(0), 8, NEXT, 8)
    s.savail([0])
    return s


@seed
def split_indirect_next_out_of_range():
    s = Seed(indirect=True)
    t = s.table(0)
    s.sdesc(0, s.buf(0), 8, NEXT, 2, table_off=t)
    s.sdesc(1, s.buf(1), 8, 0, table_off=t)
    s.sdesc(0, s.gpa(t), 32, INDIRECT)
    s.savail([0])
    return s


@seed
def split_head_out_of_range():
    s = Seed()
    s.sdesc(0, s.buf(0), 8)
    s.savail([8])
    return s


@seed
def split_avail_idx_too_far():
    s = Seed(num=4)
    s.sdesc(0, s.buf(0), 8)
    s.savail([0], idx=5)
    return s


@seed
def split_nested_indirect():
    s = Seed(indirect=True)
    t0, t1 = s.table(0), s.table(1)
    s.sdesc(0, s.buf(0), 8, WRITE, table_off=t1)
    s.sdesc(0, s.gpa(t1), 16, INDIRECT, table_off=t0)
    s.sdesc(0, s.gpa(t0), 16, INDIRECT)
    s.savail([0])
    return s


@seed
def split_indirect_and_next():
    s = Seed(indirect=True)
    t = s.table(0)
    s.sdesc(0, s.buf(0), 8, WRITE, table_off=t)
    s.sdesc(0, s.gpa(t), 16, INDIRECT | NEXT, 1)
    s.sdesc(1, s.buf(1), 8, WRITE)
    s.savail([0])
    return s


@seed
def split_indirect_without_feature():
    s = Seed(indirect=False)
    t = s.table(0)
    s.sdesc(0, s.buf(0), 8, WRITE, table_off=t)
    s.sdesc(0, s.gpa(t), 16, INDIRECT)
    s.savail([0])
    return s


@seed
def split_indirect_len_not_multiple():
    s = Seed(indirect=True)
    t = s.table(0)
    s.sdesc(0, s.buf(0), 8, WRITE, table_off=t)
    s.sdesc(0, s.gpa(t), 24, INDIRECT)
    s.savail([0])
    return s


@seed
def split_indirect_longer_than_num():
    s = Seed(indirect=True, num=8)
    t = s.table(0)
    s.sdesc(0, s.buf(0), 8, WRITE, table_off=t)
    s.sdesc(0, s.gpa(t), 16 * 9, INDIRECT)
    s.savail([0])
    return s


@seed
def split_event_idx_kick_disable():
    s = Seed(num=4, event_idx=True, kick_disable=True)
    s.sdesc(0, s.buf(0), 8, WRITE)
    s.savail([0], used_event=0)
    return s


@seed
def split_indirect_table_outside():
    s = Seed(indirect=True, mem=MEM_A_ONLY)
    s.sdesc(0, s.gpa(HALF + 0x100), 32, INDIRECT)
    s.sdesc(1, s.gpa(HALF - 16), 32, INDIRECT)
    s.savail([0, 1])
    return s


@seed
def split_read_after_write():
    s = Seed()
    s.sdesc(0, s.buf(0), 8, WRITE | NEXT, 1)
    s.sdesc(1, s.buf(1), 8, 0)
    s.savail([0])
    return s


@seed
def split_zero_len():
    s = Seed()
    s.sdesc(0, s.buf(0), 0, WRITE)
    s.savail([0])
    return s


@seed
def split_addr_wraps():
    s = Seed()
    s.sdesc(0, 0xFFFFFFFFFFFFFFF0, 0x20, WRITE)
    s.savail([0])
    return s


@seed
def split_buffer_in_hole():
    s = Seed(mem=MEM_HOLE)
    s.sdesc(0, s.gpa(HALF - 0x10), 0x20, WRITE)
    s.savail([0])
    return s


@seed
def split_len_4g():
    s = Seed(num=4)
    s.sdesc(0, s.buf(0), 0xFFFFFFFF, NEXT, 1)
    s.sdesc(1, s.buf(0), 0xFFFFFFFF, WRITE)
    s.savail([0])
    return s


@seed
def split_iov_max_too_small():
    s = Seed(iov_max=1)
    s.sdesc(0, s.buf(0), 8, NEXT, 1)
    s.sdesc(1, s.buf(1), 8, WRITE)
    s.savail([0])
    return s


@seed
def split_iov_max_zero():
    s = Seed(iov_max=255)
    s.sdesc(0, s.buf(0), 8, WRITE)
    s.savail([0])
    return s


@seed
def split_iov_max_straddle():
    s = Seed(iov_max=1, mem=MEM_TWO)
    s.sdesc(0, s.gpa(HALF - 8), 16, WRITE)
    s.savail([0])
    return s


@seed
def split_ring_misaligned():
    s = Seed(desc_off=8)
    s.sdesc(0, s.buf(0), 8)
    s.savail([0])
    return s


@seed
def split_ring_straddles_regions():
    s = Seed(num=16, desc_off=HALF - 0x80, mem=MEM_TWO)
    return s


@seed
def split_num_not_pow2():
    s = Seed(num_raw=6)
    s.sdesc(0, s.buf(0), 8)
    s.savail([0])
    return s


@seed
def split_num_zero():
    return Seed(num_raw=0)


@seed
def split_ring_overlaps_buffer():
    # The writable buffer is the used ring itself: the device's own writes
    # change what it reads next.
    s = Seed(num=4, len_mode=3, fill=0x00030000)
    s.sdesc(0, s.gpa(DEVICE_OFF), 0x28, WRITE)
    s.sdesc(1, s.gpa(DRIVER_OFF), 0x10, WRITE)
    s.sdesc(2, s.gpa(DESC_OFF), 0x40, WRITE)
    s.savail([0, 1, 2])
    return s


# ---- packed: valid ---------------------------------------------------------

@seed
def packed_single():
    s = Seed(packed=True, num=8)
    s.pdesc(0, s.buf(0), 64, 0, 0)
    return s


@seed
def packed_chain():
    s = Seed(packed=True, num=8)
    s.pdesc(0, s.buf(0), 12, 5, NEXT)
    s.pdesc(1, s.buf(1), 100, 5, NEXT)
    s.pdesc(2, s.buf(2), 1514, 5, WRITE)
    s.pdesc(3, s.buf(3), 40, 7, WRITE)
    return s


@seed
def packed_indirect():
    s = Seed(packed=True, num=8, indirect=True)
    t = s.table(0)
    s.pdesc(0, s.buf(0), 12, 0, 0, table_off=t)
    s.pdesc(1, s.buf(1), 100, 0, 0, table_off=t)
    s.pdesc(2, s.buf(2), 1500, 0, WRITE, table_off=t)
    s.pdesc(0, s.gpa(t), 48, 3, INDIRECT)
    s.pdesc(1, s.buf(4), 8, 4, WRITE)
    return s


@seed
def packed_wrapped():
    # Start at position 2 with wrap counter 1; the chain 2,3,0 crosses the
    # end of the ring, where the driver's wrap counter flips to 0.
    s = Seed(packed=True, num=4, set_base=(2 | 0x8000) | (2 | 0x8000) << 16)
    s.pdesc(2, s.buf(0), 8, 9, NEXT, wrap=True)
    s.pdesc(3, s.buf(1), 8, 9, NEXT, wrap=True)
    s.pdesc(0, s.buf(2), 8, 9, WRITE, wrap=False)
    s.pdesc(1, s.buf(3), 8, 1, WRITE, wrap=False)
    return s


@seed
def packed_wrap_counter_zero():
    s = Seed(packed=True, num=3, set_base=0)
    s.pdesc(0, s.buf(0), 8, 0, WRITE, wrap=False)
    s.pdesc(1, s.buf(1), 8, 1, WRITE, wrap=False)
    return s


@seed
def packed_full_ring_odd_num():
    s = Seed(packed=True, num=5, hold=3, flush_every=1)
    for i in range(5):
        s.pdesc(i, s.buf(i), 32, i, WRITE if i & 1 else 0)
    return s


@seed
def packed_event_desc():
    s = Seed(packed=True, num=8, event_idx=True, flush_every=1)
    for i in range(4):
        s.pdesc(i, s.buf(i), 32, i, WRITE)
    s.pevent(off_wrap=2 | 0x8000, flags=2)
    return s


@seed
def packed_event_disable():
    s = Seed(packed=True, num=8, kick_disable=True)
    for i in range(3):
        s.pdesc(i, s.buf(i), 32, i, WRITE)
    s.pevent(flags=1)
    return s


@seed
def packed_in_order():
    s = Seed(packed=True, num=8, in_order=True, hold=3, flush_every=2)
    s.pdesc(0, s.buf(0), 32, 0, NEXT)
    s.pdesc(1, s.buf(1), 32, 0, WRITE)
    for i in range(2, 6):
        s.pdesc(i, s.buf(i), 32, i, WRITE)
    return s


@seed
def packed_in_order_short():
    s = Seed(packed=True, num=4, in_order=True, len_mode=1, event_idx=True)
    for i in range(4):
        s.pdesc(i, s.buf(i), 32, i, WRITE)
    s.pevent(off_wrap=1 | 0x8000, flags=2)
    return s


@seed
def packed_straddle_regions():
    s = Seed(packed=True, num=2, mem=MEM_TWO)
    s.pdesc(0, s.gpa(HALF - 0x10), 0x20, 0, WRITE)
    return s


@seed
def packed_high_4g():
    s = Seed(packed=True, num=2, base_sel=2, indirect=True)
    t = HALF - 16
    s.pdesc(0, s.buf(0), 8, 0, 0, table_off=t)
    s.pdesc(1, s.gpa(HALF - 4), 8, 0, WRITE, table_off=t)
    s.pdesc(0, s.gpa(t), 32, 0, INDIRECT)
    s.cut(t, 32)
    s.cut(DESC_OFF, 16)
    return s


@seed
def packed_rounds_recycle():
    # num 2: the driver re-posts both slots each round, flipping its wrap
    # counter every lap; the device walks several laps.
    s = Seed(packed=True, num=2)
    s.pdesc(0, s.buf(0), 64, 0, WRITE)
    s.pdesc(1, s.buf(1), 64, 1, WRITE)
    wrap = False
    for r in range(6):
        for i in range(2):
            flags = WRITE | (AVAIL if wrap else USED)
            s.patch(DESC_OFF + 16 * i,
                    struct.pack('<QIHH', s.buf(i), 64, i, flags))
        wrap = not wrap
    return s


@seed
def packed_rings_at_region_end():
    s = Seed(packed=True, num=8, event_idx=True, mem=MEM_TWO,
             desc_off=HALF - 128, driver_off=IMAGE - 4, device_off=DEVICE_OFF)
    for i in range(8):
        s.pdesc(i, s.buf(i), 16, i, WRITE)
    s.put(IMAGE - 4, struct.pack('<HH', 3 | 0x8000, 2))
    s.cut(IMAGE - 4, 4)
    s.cut(HALF - 128, 128)
    return s


@seed
def packed_device_event_at_region_end():
    s = Seed(packed=True, num=4, mem=MEM_HOLE, kick_disable=True, device_off=IMAGE - 4)
    for i in range(4):
        s.pdesc(i, s.buf(i), 16, i, WRITE)
    return s


@seed
def packed_event_lapped():
    # More descriptors used than the ring holds between two notification
    # checks: the device cannot tell where the event is and must notify.
    s = Seed(packed=True, num=2, event_idx=True, flush_every=4, hold=4)
    s.pdesc(0, s.buf(0), 16, 0, WRITE)
    s.pdesc(1, s.buf(1), 16, 1, WRITE)
    s.pevent(off_wrap=1, flags=2)
    lap = b''.join(struct.pack('<QIHH', s.buf(i), 16, i, WRITE | USED) for i in range(2))
    s.patch(DESC_OFF, lap)
    lap = b''.join(struct.pack('<QIHH', s.buf(i), 16, i, WRITE | AVAIL) for i in range(2))
    s.patch(DESC_OFF, lap)
    return s


@seed
def packed_unpop_each_wrapped():
    # The chain 3,0 crosses the end of the ring; giving it back must undo
    # the wrap counter flip.
    s = Seed(packed=True, num=4, unpop_each=True, set_base=(3 | 0x8000) | (3 | 0x8000) << 16)
    s.pdesc(3, s.buf(0), 8, 7, NEXT, wrap=True)
    s.pdesc(0, s.buf(1), 8, 7, WRITE, wrap=False)
    s.pdesc(1, s.buf(2), 8, 1, WRITE, wrap=False)
    return s


@seed
def packed_unpop_held():
    s = Seed(packed=True, num=5, unpop_held=True, hold=3)
    s.pdesc(0, s.buf(0), 8, 0, NEXT)
    s.pdesc(1, s.buf(1), 8, 0, WRITE)
    for i in range(2, 5):
        s.pdesc(i, s.buf(i), 8, i, WRITE)
    return s


@seed
def packed_burst_wraps():
    # Lone buffers through vq_pop_burst() across the end of the ring: the
    # wrap counter flips inside the run; given back at the end of a round.
    s = Seed(packed=True, num=4, burst=True, unpop_held=True, hold=3,
             set_base=(2 | 0x8000) | (2 | 0x8000) << 16)
    s.pdesc(2, s.buf(0), 64, 2, WRITE, wrap=True)
    s.pdesc(3, s.buf(1), 64, 3, 0, wrap=True)
    s.pdesc(0, s.buf(2), 64, 0, WRITE, wrap=False)
    s.pdesc(1, s.buf(3), 8, 1, NEXT, wrap=False)
    return s


@seed
def packed_burst_dirs():
    # vq_pop_burst() (a burst of one a pop) for written buffers: a readable
    # one among them, then a chain, then a lone one again.
    s = Seed(packed=True, num=8, burst=True, burst_dir=2, hold=4)
    s.pdesc(0, s.buf(0), 64, 0, WRITE)
    s.pdesc(1, s.buf(1), 64, 1, WRITE)
    s.pdesc(2, s.buf(2), 64, 2, 0)
    s.pdesc(3, s.buf(3), 64, 3, WRITE | NEXT)
    s.pdesc(4, s.buf(4), 64, 3, WRITE)
    s.pdesc(5, s.buf(5), 64, 5, WRITE)
    return s


@seed
def packed_burst_read_wraps():
    # For read buffers, across the ring's end (the wrap counter flips), a
    # writable one last.
    s = Seed(packed=True, num=4, burst=True, burst_dir=1, unpop_held=True, hold=3,
             set_base=(2 | 0x8000) | (2 | 0x8000) << 16)
    s.pdesc(2, s.buf(0), 64, 2, 0, wrap=True)
    s.pdesc(3, s.buf(1), 64, 3, 0, wrap=True)
    s.pdesc(0, s.buf(2), 64, 0, 0, wrap=False)
    s.pdesc(1, s.buf(3), 64, 1, WRITE, wrap=False)
    return s


# ---- packed: broken driver -------------------------------------------------

@seed
def packed_chain_longer_than_ring():
    s = Seed(packed=True, num=4)
    for i in range(4):
        s.pdesc(i, s.buf(i), 8, 0, NEXT)
    return s


@seed
def packed_nested_indirect():
    s = Seed(packed=True, num=8, indirect=True)
    t0, t1 = s.table(0), s.table(1)
    s.pdesc(0, s.buf(0), 8, 0, WRITE, table_off=t1)
    s.pdesc(0, s.gpa(t1), 16, 0, INDIRECT, table_off=t0)
    s.pdesc(0, s.gpa(t0), 16, 0, INDIRECT)
    return s


@seed
def packed_indirect_and_next():
    s = Seed(packed=True, num=8, indirect=True)
    t = s.table(0)
    s.pdesc(0, s.buf(0), 8, 0, WRITE, table_off=t)
    s.pdesc(0, s.gpa(t), 16, 0, INDIRECT | NEXT)
    s.pdesc(1, s.buf(1), 8, 0, WRITE)
    return s


@seed
def packed_indirect_next_in_table():
    # NEXT inside a packed indirect table is meaningless (2.8.19): entries
    # are sequential; a device must not follow it off the table.
    s = Seed(packed=True, num=8, indirect=True)
    t = s.table(0)
    s.pdesc(0, s.buf(0), 8, 0, NEXT, table_off=t)
    s.pdesc(1, s.buf(1), 8, 0, WRITE | NEXT, table_off=t)
    s.pdesc(0, s.gpa(t), 32, 0, INDIRECT)
    return s


@seed
def packed_indirect_bad_len():
    s = Seed(packed=True, num=8, indirect=True)
    t = s.table(0)
    s.pdesc(0, s.gpa(t), 20, 0, INDIRECT)
    return s


@seed
def packed_indirect_without_feature():
    s = Seed(packed=True, num=8)
    t = s.table(0)
    s.pdesc(0, s.buf(0), 8, 0, WRITE, table_off=t)
    s.pdesc(0, s.gpa(t), 16, 0, INDIRECT)
    return s


@seed
def packed_read_after_write():
    s = Seed(packed=True, num=8)
    s.pdesc(0, s.buf(0), 8, 0, WRITE | NEXT)
    s.pdesc(1, s.buf(1), 8, 0, 0)
    return s


@seed
def packed_chain_tail_not_avail():
    # The head is available, the rest of the chain is not (yet).
    s = Seed(packed=True, num=8)
    s.pdesc(0, s.buf(0), 8, 0, NEXT)
    s.put(16, struct.pack('<QIHH', s.buf(1), 8, 0, WRITE))
    s.patch(16 + 14, struct.pack('<H', WRITE | AVAIL))
    return s


@seed
def packed_zero_len_and_wrap_addr():
    s = Seed(packed=True, num=4)
    s.pdesc(0, s.buf(0), 0, 0, WRITE)
    s.pdesc(1, 0xFFFFFFFFFFFFFFF8, 16, 1, WRITE)
    return s


@seed
def packed_iov_max_too_small():
    s = Seed(packed=True, num=8, iov_max=2, mem=MEM_TWO)
    s.pdesc(0, s.buf(0), 8, 0, NEXT)
    s.pdesc(1, s.gpa(HALF - 8), 16, 0, WRITE)
    return s


@seed
def packed_set_base_out_of_range():
    s = Seed(packed=True, num=4, set_base=0x7FFF | 0x7FFF << 16)
    s.pdesc(3, s.buf(0), 8, 0, WRITE)
    return s


@seed
def packed_ring_misaligned():
    s = Seed(packed=True, num=8, driver_off=0x202, device_off=0x301)
    s.pdesc(0, s.buf(0), 8, 0, WRITE)
    return s


@seed
def packed_num_raw_large():
    s = Seed(packed=True, num_raw=100, driver_off=0x700, device_off=0x704)
    s.pdesc(99, s.buf(0), 8, 0, WRITE)
    s.pdesc(0, s.buf(0), 8, 0, WRITE)
    return s


@seed
def packed_ring_overlaps_buffer():
    # Fill 0x00800000 writes flags AVAIL (wrap 1) into every descriptor it covers.
    s = Seed(packed=True, num=4, len_mode=3, fill=0x00800000)
    s.pdesc(0, s.gpa(DESC_OFF), 0x40, 0, WRITE)
    s.pdesc(1, s.gpa(DEVICE_OFF), 0x4, 1, WRITE)
    s.pdesc(2, s.gpa(DESC_OFF + 0x30), 0x10, 2, WRITE)
    return s

@seed
def packed_indirect_table_outside():
    # The first entry is in A, the second in unmapped memory.
    s = Seed(packed=True, num=8, indirect=True, mem=MEM_A_ONLY)
    s.pdesc(0, s.buf(0), 8, 0, 0, table_off=HALF - 16)
    s.pdesc(0, s.gpa(HALF - 16), 32, 0, INDIRECT)
    s.cut(HALF - 16, 16)
    s.cut(DESC_OFF, 16)
    return s


@seed
def packed_indirect_bad_entry():
    s = Seed(packed=True, num=8, indirect=True)
    t = s.table(0)
    s.pdesc(0, s.buf(0), 8, 0, 0, table_off=t)
    s.pdesc(1, s.buf(1), 0, 0, WRITE, table_off=t)
    s.pdesc(0, s.gpa(t), 32, 0, INDIRECT)
    return s


@seed
def packed_ring_straddles_regions():
    s = Seed(packed=True, num=16, mem=MEM_TWO, desc_off=HALF - 0x80)
    return s



def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), 'corpus', 'virtq_chain')
    os.makedirs(out, exist_ok=True)
    for name, fn in SEEDS.items():
        data = fn().encode()
        assert len(data) < 70 * 1024, name
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)
    print('%d seeds in %s' % (len(SEEDS), out))


if __name__ == '__main__':
    main()
