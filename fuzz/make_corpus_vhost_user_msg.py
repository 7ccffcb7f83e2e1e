#!/usr/bin/env python3
"""make_corpus_vhost_user_msg.py - write the seed corpus of fuzz_vhost_user_msg.

    fuzz/make_corpus_vhost_user_msg.py [OUTDIR]   (default fuzz/corpus/vhost_user_msg)

Each seed is one input in the format described at the top of
fuzz/fuzz_vhost_user_msg.c: a config byte, then records (a control byte,
a 12-byte vhost-user header and its payload).  The seeds are the sessions
real front ends open (QEMU's order of messages, DPDK virtio-user's), in
split and packed layouts, with mergeable buffers or not, one or several
memory regions, REPLY_ACK, memory hot-plug, messages cut into small
writes or piled up in the socket, and the classic hostile messages.
Python 3 standard library only; deterministic: running it twice writes the
same bytes.
"""

import os
import struct
import sys

# Requests (include/vsw/vhost_user.h).
GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE = 1, 2, 3, 4, 5
SET_LOG_BASE = 6
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR = 12, 13, 14
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_VRING_ENABLE = 15, 16, 17, 18
SEND_RARP, NET_SET_MTU = 19, 20
RESET_DEVICE, GET_MAX_MEM_SLOTS, ADD_MEM_REG, REM_MEM_REG, SET_STATUS, GET_STATUS = 34, 36, 37, 38, 39, 40

VERSION, REPLY, NEED_REPLY = 1, 4, 8
NOFD = 1 << 8

# Feature bits.
F_MTU, F_MRG_RXBUF, F_STATUS, F_CTRL_VQ, F_MQ, F_LOG_ALL = 3, 15, 16, 17, 22, 26
F_INDIRECT, F_EVENT_IDX, F_PROTOCOL, F_VERSION_1, F_PACKED, F_IN_ORDER = 28, 29, 30, 32, 34, 35
P_MQ, P_LOG_SHMFD, P_RARP, P_REPLY_ACK, P_NET_MTU, P_MEM_SLOTS, P_STATUS = 0, 1, 2, 3, 4, 15, 16
PROTOCOL = (1 << P_MQ) | (1 << P_REPLY_ACK) | (1 << P_NET_MTU) | (1 << P_MEM_SLOTS) | (1 << P_STATUS)

# Config byte.
CFG_QP1, CFG_QP2, CFG_QP4 = 0, 1, 3
CFG_ONLY_VERSION_1 = 4
CFG_SMALL_MEMFD = 8

# Control byte of a record.
MODE_WHOLE, MODE_SPLIT, MODE_BYTES, MODE_CHUNKS = 0, 1, 2, 3
OTHER_FD = 16
PILE = 128

# Where the seeds put guest memory: the 64 KiB memfd at GPA, user address UADDR.
MEM = 0x10000
GPA = 0x100000
UADDR = 0x7F0000000000


def bit(*bits):
    v = 0
    for b in bits:
        v |= 1 << b
    return v


class Seed:
    """One input: a config byte and records."""

    def __init__(self, cfg=CFG_QP2):
        self.out = bytearray([cfg])

    def msg(self, req, payload=b"", flags=VERSION, nfds=0, mode=MODE_WHOLE, chunk=0,
            other_fd=False, pile=False, size=None):
        ctl = nfds | mode << 5 | (OTHER_FD if other_fd else 0) | (PILE if pile else 0)
        self.out.append(ctl)
        if mode == MODE_CHUNKS:
            self.out.append(chunk)
        self.out += struct.pack("<III", req, flags, len(payload) if size is None else size)
        self.out += payload
        return self

    def raw(self, ctl, data):
        """A record whose bytes are not one well-formed message."""
        self.out.append(ctl)
        self.out += data
        return self

    def encode(self):
        return bytes(self.out)


def u64(v):
    return struct.pack("<Q", v)


def state(index, num):
    return struct.pack("<II", index, num)


def vring_addr(index, desc, used, avail, flags=0, log=0):
    return struct.pack("<IIQQQQ", index, flags, desc, used, avail, log)


def region(gpa, size, uaddr, offset):
    return struct.pack("<QQQQ", gpa, size, uaddr, offset)


def mem_table(regions, nregions=None):
    n = len(regions) if nregions is None else nregions
    return struct.pack("<II", n, 0) + b"".join(region(*r) for r in regions)


def mem_single(r):
    return u64(0) + region(*r)


def ring_at(i, base=UADDR):
    """Split ring i (256 entries) or packed ring i: 16 KiB each from base."""
    d = base + i * 0x4000
    return d, d + 0x2000, d + 0x1000   # desc, used, avail


def negotiate(s, features, protocol=PROTOCOL, ack=True, qemu=True):
    """QEMU's vhost_user_backend_init / vhost_dev_start order; DPDK's is SET_OWNER first."""
    f = VERSION | (NEED_REPLY if ack else 0)
    if not qemu:
        s.msg(SET_OWNER)
    s.msg(GET_FEATURES)
    if features & bit(F_PROTOCOL):
        s.msg(GET_PROTOCOL_FEATURES)
        s.msg(SET_PROTOCOL_FEATURES, u64(protocol))
        if protocol & (1 << P_MQ):
            s.msg(GET_QUEUE_NUM)
        if protocol & (1 << P_MEM_SLOTS):
            s.msg(GET_MAX_MEM_SLOTS)
    if qemu:
        s.msg(SET_OWNER, flags=f)
    s.msg(SET_FEATURES, u64(features), flags=f)
    return s


def start_ring(s, i, num=256, base=0, addr=None, ack=True, mode=MODE_WHOLE, enable=True):
    f = VERSION | (NEED_REPLY if ack else 0)
    desc, used, avail = addr or ring_at(i)
    s.msg(SET_VRING_NUM, state(i, num), flags=f, mode=mode)
    s.msg(SET_VRING_ADDR, vring_addr(i, desc, used, avail), flags=f, mode=mode)
    s.msg(SET_VRING_BASE, state(i, base), flags=f, mode=mode)
    s.msg(SET_VRING_CALL, u64(i), flags=f, nfds=1, mode=mode)
    s.msg(SET_VRING_KICK, u64(i), flags=f, nfds=1, mode=mode)
    if enable:
        s.msg(SET_VRING_ENABLE, state(i, 1), flags=f, mode=mode)
    return s


def one_region(s, ack=True, mode=MODE_WHOLE):
    s.msg(SET_MEM_TABLE, mem_table([(GPA, MEM, UADDR, 0)]), flags=VERSION | (NEED_REPLY if ack else 0),
          nfds=1, mode=mode)
    return s


def stop_rings(s, n):
    for i in range(n):
        s.msg(GET_VRING_BASE, state(i, 0))
    return s


SPLIT = bit(F_VERSION_1, F_MRG_RXBUF, F_EVENT_IDX, F_MTU, F_STATUS, F_PROTOCOL)
PACKED = SPLIT | bit(F_PACKED)

SEEDS = {}


def seed(fn):
    SEEDS[fn.__name__] = fn
    return fn


# ---- valid sessions --------------------------------------------------------

@seed
def qemu_split():
    s = negotiate(Seed(), SPLIT)
    s.msg(NET_SET_MTU, u64(1500), flags=VERSION | NEED_REPLY)
    one_region(s)
    for i in range(4):
        start_ring(s, i)
    s.msg(SET_STATUS, u64(0x0F), flags=VERSION | NEED_REPLY)
    s.msg(GET_STATUS)
    return stop_rings(s, 4)


def log_base(size, offset=0):
    return struct.pack("=QQ", size, offset)


@seed
def qemu_migration_split():
    """QEMU's source side of a live migration: the log, LOG_ALL, the used rings' log addresses, and back."""
    s = negotiate(Seed(), SPLIT, protocol=PROTOCOL | bit(P_LOG_SHMFD))
    one_region(s)
    for i in range(4):
        start_ring(s, i)
    # The log shares the memfd with guest memory (the harness has one file): its last 256 bytes.
    s.msg(SET_LOG_BASE, log_base(MEM // 4096 // 8 + (GPA >> 15) + 8, MEM - 256), nfds=1)
    s.msg(SET_FEATURES, u64(SPLIT | bit(F_LOG_ALL)), flags=VERSION | NEED_REPLY)
    for i in range(4):
        b = ring_at(i)
        s.msg(SET_VRING_ADDR, vring_addr(i, b[0], b[1], b[2], flags=1, log=GPA + i * 0x4000 + 0x2000),
              flags=VERSION | NEED_REPLY)
    s.msg(SET_LOG_BASE, log_base(64, MEM - 128), nfds=1)
    s.msg(SET_FEATURES, u64(SPLIT), flags=VERSION | NEED_REPLY)
    return stop_rings(s, 4)


@seed
def log_base_hostile():
    s = negotiate(Seed(), SPLIT, protocol=PROTOCOL | bit(P_LOG_SHMFD))
    one_region(s)
    s.msg(SET_LOG_BASE, log_base(0x1000, 2**64 - 0x800), nfds=1)
    return s


@seed
def log_all_without_log():
    return negotiate(Seed(), SPLIT | bit(F_LOG_ALL), protocol=PROTOCOL | bit(P_LOG_SHMFD))


@seed
def qemu_packed():
    s = negotiate(Seed(), PACKED)
    one_region(s)
    for i in range(4):
        start_ring(s, i, base=0x80008000)
    return stop_rings(s, 4)


@seed
def qemu_packed_odd_size():
    s = negotiate(Seed(CFG_QP1), PACKED | bit(F_IN_ORDER, F_INDIRECT))
    one_region(s)
    start_ring(s, 0, num=100, base=0x80008000)
    start_ring(s, 1, num=1000, base=0x80008000)
    return stop_rings(s, 2)


@seed
def qemu_split_no_mrg_no_event_idx():
    s = negotiate(Seed(CFG_QP1), bit(F_VERSION_1, F_PROTOCOL))
    one_region(s)
    start_ring(s, 0)
    start_ring(s, 1)
    return s


@seed
def legacy_no_protocol_features():
    # Rings are enabled from the start; no acks.
    s = negotiate(Seed(CFG_QP1), bit(F_MRG_RXBUF), ack=False)
    one_region(s, ack=False)
    start_ring(s, 0, ack=False, enable=False)
    start_ring(s, 1, ack=False, enable=False)
    return s


@seed
def dpdk_virtio_user():
    s = negotiate(Seed(CFG_QP1), SPLIT & ~bit(F_EVENT_IDX) | bit(F_IN_ORDER), qemu=False)
    one_region(s)
    for i in range(2):
        start_ring(s, i, ack=False)
    return s


@seed
def several_regions():
    # The memfd mapped 4 times (16 KiB each) at scattered guest and user addresses; ring i in region i.
    regions = [(0x100000 * (k + 1), 0x4000, UADDR + 0x1000000 * k, 0x4000 * (3 - k)) for k in range(4)]
    s = negotiate(Seed(), SPLIT)
    s.msg(SET_MEM_TABLE, mem_table(regions), flags=VERSION | NEED_REPLY, nfds=4)
    for i in range(4):
        base = regions[i][2]
        start_ring(s, i, num=128, addr=(base, base + 0x2000, base + 0x1000))
    return s


@seed
def eight_regions():
    regions = [(0x10000 * k, 0x2000, UADDR + 0x10000 * k, 0x2000 * k) for k in range(8)]
    s = negotiate(Seed(CFG_QP1), SPLIT)
    s.msg(SET_MEM_TABLE, mem_table(regions), nfds=8)
    start_ring(s, 0, num=64, addr=(regions[0][2], regions[0][2] + 0x1000 + 0x400, regions[0][2] + 0x1000))
    return s


@seed
def mem_table_replaced():
    s = negotiate(Seed(CFG_QP1), SPLIT)
    one_region(s)
    start_ring(s, 0)
    start_ring(s, 1)
    # QEMU sends a new table when guest memory changes; the rings move with it.
    s.msg(SET_MEM_TABLE, mem_table([(GPA, MEM, UADDR, 0), (0x40000000, 0x8000, UADDR + 0x100000, 0x8000)]),
          flags=VERSION | NEED_REPLY, nfds=2)
    return s


@seed
def add_rem_mem_reg():
    s = negotiate(Seed(), SPLIT)
    s.msg(ADD_MEM_REG, mem_single((GPA, MEM, UADDR, 0)), flags=VERSION | NEED_REPLY, nfds=1)
    s.msg(ADD_MEM_REG, mem_single((0x200000, 0x4000, UADDR + 0x200000, 0x4000)), nfds=1)
    for i in range(2):
        start_ring(s, i)
    s.msg(REM_MEM_REG, mem_single((0x200000, 0x4000, UADDR + 0x200000, 0)), flags=VERSION | NEED_REPLY)
    s.msg(REM_MEM_REG, mem_single((GPA, MEM, UADDR, 0)), nfds=1)
    s.msg(ADD_MEM_REG, mem_single((GPA, MEM, UADDR, 0)), nfds=1)
    return s


@seed
def reset_and_again():
    s = negotiate(Seed(CFG_QP1), SPLIT)
    one_region(s)
    start_ring(s, 0)
    s.msg(RESET_OWNER)
    s.msg(RESET_DEVICE)
    negotiate(s, PACKED)
    one_region(s)
    start_ring(s, 0, base=0x80008000)
    s.msg(SET_VRING_KICK, u64(0 | NOFD))
    s.msg(SET_VRING_CALL, u64(0 | NOFD))
    s.msg(SET_VRING_ERR, u64(0), nfds=1)
    return s


@seed
def one_byte_writes():
    s = negotiate(Seed(CFG_QP1), SPLIT)
    one_region(s, mode=MODE_BYTES)
    start_ring(s, 0, mode=MODE_BYTES)
    return s


@seed
def header_then_payload():
    s = negotiate(Seed(CFG_QP1), SPLIT)
    one_region(s, mode=MODE_SPLIT)
    start_ring(s, 1, mode=MODE_SPLIT)
    return s


@seed
def chunks_of_7():
    s = Seed(CFG_QP1)
    for req, payload, nfds in [(GET_FEATURES, b"", 0), (SET_FEATURES, u64(SPLIT), 0),
                               (SET_PROTOCOL_FEATURES, u64(PROTOCOL), 0),
                               (SET_MEM_TABLE, mem_table([(GPA, MEM, UADDR, 0)]), 1)]:
        s.msg(req, payload, nfds=nfds, mode=MODE_CHUNKS, chunk=6)
    start_ring(s, 0)
    return s


@seed
def piled_up():
    # Everything in the socket before the device reads: the 64-message budget and coalesced reads.
    s = Seed(CFG_QP1)
    for _ in range(70):
        s.msg(SET_OWNER, pile=True)
    s.msg(GET_FEATURES, pile=True)
    s.msg(SET_FEATURES, u64(SPLIT), pile=True)
    s.msg(SET_PROTOCOL_FEATURES, u64(PROTOCOL), pile=True)
    s.msg(GET_QUEUE_NUM)
    return s


# ---- hostile ---------------------------------------------------------------

@seed
def bad_flags():
    return Seed().msg(GET_FEATURES).msg(GET_FEATURES, flags=0).msg(GET_FEATURES)


@seed
def reply_flag():
    return Seed().msg(GET_FEATURES, flags=VERSION | REPLY)


@seed
def unknown_request():
    return Seed().msg(99, u64(0)).msg(GET_FEATURES)


@seed
def unimplemented_log_base():
    return negotiate(Seed(), SPLIT).msg(SET_LOG_BASE, u64(0) + u64(0), nfds=1)


@seed
def oversized():
    return Seed().msg(SET_FEATURES, u64(0), size=0x10000)


@seed
def undersized():
    return Seed().msg(SET_FEATURES, b"\0\0\0\0")


@seed
def fds_where_none_allowed():
    return Seed().msg(GET_FEATURES, nfds=3)


@seed
def too_many_fds():
    s = negotiate(Seed(), SPLIT)
    return s.msg(SET_MEM_TABLE, mem_table([(GPA + 0x10000 * k, 0x1000, UADDR + 0x10000 * k, 0) for k in range(8)]),
                 nfds=12)


@seed
def fds_over_two_writes():
    s = negotiate(Seed(), SPLIT)
    return s.msg(SET_MEM_TABLE, mem_table([(GPA + 0x10000 * k, 0x1000, UADDR + 0x10000 * k, 0) for k in range(8)]),
                 nfds=10, mode=MODE_SPLIT)


@seed
def mem_table_fds_short():
    s = negotiate(Seed(), SPLIT)
    return s.msg(SET_MEM_TABLE, mem_table([(GPA + 0x10000 * k, 0x1000, UADDR + 0x10000 * k, 0) for k in range(8)]),
                 nfds=6, mode=MODE_CHUNKS, chunk=5)


@seed
def vring_index_out_of_range():
    return negotiate(Seed(CFG_QP1), SPLIT).msg(SET_VRING_NUM, state(2, 256))


@seed
def kick_index_out_of_range():
    return negotiate(Seed(CFG_QP1), SPLIT).msg(SET_VRING_KICK, u64(200), nfds=1)


@seed
def features_not_offered():
    return Seed(CFG_ONLY_VERSION_1).msg(GET_FEATURES).msg(SET_FEATURES, u64(SPLIT))


@seed
def protocol_feature_missing():
    return Seed().msg(SET_PROTOCOL_FEATURES, u64(1 << P_REPLY_ACK)).msg(NET_SET_MTU, u64(1500))


@seed
def kick_before_mem_table():
    s = negotiate(Seed(CFG_QP1), SPLIT)
    return s.msg(SET_VRING_NUM, state(0, 256)).msg(SET_VRING_KICK, u64(0), nfds=1)


@seed
def region_larger_than_memfd():
    s = negotiate(Seed(CFG_QP1 | CFG_SMALL_MEMFD), SPLIT)
    return one_region(s)


@seed
def regions_overlap():
    s = negotiate(Seed(CFG_QP1), SPLIT)
    return s.msg(SET_MEM_TABLE, mem_table([(GPA, 0x8000, UADDR, 0), (GPA + 0x4000, 0x8000, UADDR + 0x100000, 0)]),
                 nfds=2)


@seed
def region_overflow():
    s = negotiate(Seed(CFG_QP1), SPLIT)
    return s.msg(SET_MEM_TABLE, mem_table([(0xFFFFFFFFFFFFF000, 0x2000, UADDR, 0)]), nfds=1)


@seed
def nregions_not_nfds():
    s = negotiate(Seed(CFG_QP1), SPLIT)
    return s.msg(SET_MEM_TABLE, mem_table([(GPA, 0x1000, UADDR, 0), (GPA + 0x1000, 0x1000, UADDR + 0x1000, 0)]),
                 nfds=1)


@seed
def ring_outside_memory():
    s = negotiate(Seed(CFG_QP1), SPLIT)
    one_region(s)
    return start_ring(s, 0, addr=(UADDR + MEM, UADDR + 0x2000, UADDR + 0x1000))


@seed
def ring_straddles_region_end():
    s = negotiate(Seed(CFG_QP1), SPLIT)
    one_region(s)
    return start_ring(s, 0, addr=(UADDR + MEM - 0x800, UADDR + 0x2000, UADDR + 0x1000))


@seed
def started_ring_moved_out():
    s = negotiate(Seed(CFG_QP1), SPLIT & ~bit(F_EVENT_IDX))
    one_region(s)
    start_ring(s, 0)
    start_ring(s, 1)
    return s.msg(SET_VRING_ADDR, vring_addr(0, UADDR + 8, UADDR + 0x2000, UADDR + 0x1000))


@seed
def rem_region_under_rings():
    s = negotiate(Seed(CFG_QP1), SPLIT)
    s.msg(ADD_MEM_REG, mem_single((GPA, MEM, UADDR, 0)), nfds=1)
    s.msg(ADD_MEM_REG, mem_single((0x200000, 0x4000, UADDR + 0x200000, 0)), nfds=1)
    start_ring(s, 0)
    return s.msg(REM_MEM_REG, mem_single((GPA, MEM, UADDR, 0)))


@seed
def split_size_not_power_of_2():
    s = negotiate(Seed(CFG_QP1), SPLIT)
    one_region(s)
    return start_ring(s, 0, num=100)


@seed
def vring_num_too_large():
    return negotiate(Seed(CFG_QP1), SPLIT).msg(SET_VRING_NUM, state(0, 65536))


@seed
def mtu_out_of_range():
    return negotiate(Seed(CFG_QP1), SPLIT).msg(NET_SET_MTU, u64(70000), flags=VERSION | NEED_REPLY)


@seed
def vring_enable_2():
    return negotiate(Seed(CFG_QP1), SPLIT).msg(SET_VRING_ENABLE, state(0, 2))


@seed
def reset_device_need_reply():
    s = negotiate(Seed(CFG_QP1), SPLIT)
    return s.msg(RESET_DEVICE, flags=VERSION | NEED_REPLY).msg(GET_FEATURES)


@seed
def eof_mid_message():
    return Seed().msg(GET_FEATURES).raw(0, struct.pack("<III", SET_FEATURES, VERSION, 8) + b"\1\2\3")


@seed
def garbage():
    data = bytes((i * 73 + 41) & 0xFF for i in range(300))
    return Seed().raw(MODE_CHUNKS << 5 | 2, bytes([9]) + data)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "vhost_user_msg")
    os.makedirs(out, exist_ok=True)
    for name, fn in SEEDS.items():
        data = fn().encode()
        assert len(data) < 16 * 1024, name
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(SEEDS), out))


if __name__ == "__main__":
    main()
