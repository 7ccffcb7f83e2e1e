"""vhost_user_lib.py - a scriptable vhost-user front end for scenario tests, well-behaved or hostile.

    fe = Frontend("/run/vsw/bad.sock")          # connects
    feats = fe.call(GET_FEATURES)               # send, wait for the u64 reply
    fe.send(SET_FEATURES, u64(VIRTIO_F_VERSION_1_BIT))
    mem = Memory(64 * 1024)                     # a memfd the back end will map
    fe.send(SET_MEM_TABLE, mem_table([(gpa, size, uaddr, 0)]), fds=[mem.fd])
    fe.send_raw(b"any bytes at all", fds=[...]) # no framing, for hostile streams
    fe.wait_hangup(5)                           # True once the back end closed the socket
    fe.close()

Messages follow QEMU's docs/interop/vhost-user.rst: a 12-byte header
(request, flags, size; native byte order) and the payload, with up to 8 fds
as SCM_RIGHTS on the first byte.  Every wait has a timeout.  Python 3
standard library only (socket.send_fds needs Python 3.9, os.eventfd and
os.memfd_create Linux).
"""

import mmap
import os
import select
import socket
import struct
import time

# Requests.
GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE = 1, 2, 3, 4, 5
SET_LOG_BASE, SET_LOG_FD = 6, 7
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR = 12, 13, 14
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_VRING_ENABLE = 15, 16, 17, 18
NET_SET_MTU = 20
RESET_DEVICE, GET_MAX_MEM_SLOTS, ADD_MEM_REG, REM_MEM_REG, SET_STATUS, GET_STATUS = 34, 36, 37, 38, 39, 40

# Header flags.
VERSION, REPLY, NEED_REPLY = 0x1, 0x4, 0x8
VRING_NOFD = 1 << 8

# Feature bits.
VIRTIO_NET_F_MRG_RXBUF = 15
VIRTIO_F_EVENT_IDX = 29
VHOST_F_LOG_ALL = 26
VHOST_USER_F_PROTOCOL_FEATURES = 30
VIRTIO_F_VERSION_1 = 32
VIRTIO_F_RING_PACKED = 34
PROTOCOL_F_MQ, PROTOCOL_F_LOG_SHMFD, PROTOCOL_F_REPLY_ACK, PROTOCOL_F_NET_MTU = 0, 1, 3, 4
PROTOCOL_F_CONFIGURE_MEM_SLOTS, PROTOCOL_F_STATUS = 15, 16

HDR = struct.Struct("=III")


class FrontendError(Exception):
    """The back end did not answer as expected (closed, timed out, bad reply)."""


def u64(v):
    return struct.pack("=Q", v)


def state(index, num):
    return struct.pack("=II", index, num)


def vring_addr(index, desc, used, avail, flags=0, log=0):
    """struct vhost_user_vring_addr: note the order desc, used, avail."""
    return struct.pack("=IIQQQQ", index, flags, desc, used, avail, log)


def region(gpa, size, uaddr, mmap_offset=0):
    return struct.pack("=QQQQ", gpa, size, uaddr, mmap_offset)


def mem_table(regions, nregions=None):
    """SET_MEM_TABLE payload from (gpa, size, uaddr, mmap_offset) tuples."""
    n = len(regions) if nregions is None else nregions
    return struct.pack("=II", n, 0) + b"".join(region(*r) for r in regions)


def mem_single(r):
    """ADD_MEM_REG / REM_MEM_REG payload."""
    return u64(0) + region(*r)


def message(request, payload=b"", flags=VERSION, size=None):
    """The wire bytes of one message; size overrides the header's size field."""
    return HDR.pack(request, flags, len(payload) if size is None else size) + payload


MFD_HUGE_2MB = 21 << 26   # linux/memfd.h: log2(2 MiB) << MFD_HUGE_SHIFT


class Memory:
    """A memfd standing for guest memory, a region of `size` bytes at offset 0; mapped here (self.map).

    file_size: the file's length when it differs from the region's (a region shorter than its hugetlb page,
    a sparse file); hugetlb: 2 MiB pages; mapped=False leaves self.map None (a hugetlb file's pages and a
    1 TiB sparse file are not for Python's mmap to touch).
    """

    def __init__(self, size, name="vsw-scenario-mem", file_size=None, hugetlb=False, mapped=True):
        self.size = size
        self.fd = os.memfd_create(name, os.MFD_CLOEXEC | (os.MFD_HUGETLB | MFD_HUGE_2MB if hugetlb else 0))
        os.ftruncate(self.fd, size if file_size is None else file_size)
        self.map = mmap.mmap(self.fd, size) if mapped else None

    def truncate(self, size):
        """Shrink (or grow) the file under the back end's mapping."""
        os.ftruncate(self.fd, size)

    def close(self):
        if self.map is not None:
            self.map.close()
            self.map = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Frontend:
    """One connection to a vhost-user back end's socket."""

    def __init__(self, path, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.timeout = timeout
        self._buf = b""

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data, fds=()):
        """Write bytes as they are (fds with the first byte); False if the back end is gone."""
        try:
            if fds:
                n = socket.send_fds(self.sock, [data], list(fds))
                data = data[n:]
            if data:
                self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            return False

    def send(self, request, payload=b"", flags=VERSION, fds=(), size=None):
        return self.send_raw(message(request, payload, flags, size), fds)

    def recv_reply(self, request, timeout=None):
        """Read one reply to `request`; returns its payload."""
        hdr = self._recv_exact(HDR.size, timeout)
        req, flags, size = HDR.unpack(hdr)
        payload = self._recv_exact(size, timeout) if size else b""
        if req != request or flags & 0x3 != VERSION or not flags & REPLY:
            raise FrontendError("reply %d flags 0x%x to request %d" % (req, flags, request))
        return payload

    def call(self, request, payload=b"", flags=VERSION, fds=()):
        """Send a request that has a u64 reply (GET_*), or one with NEED_REPLY; returns the u64."""
        if not self.send(request, payload, flags, fds):
            raise FrontendError("back end closed the connection")
        p = self.recv_reply(request)
        if len(p) != 8:
            raise FrontendError("reply of %d bytes to request %d" % (len(p), request))
        return struct.unpack("=Q", p)[0]

    def wait_hangup(self, timeout):
        """Read (and drop) whatever comes until the back end closes; True if it did within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return False
            try:
                data = self.sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                return True
            if not data:
                return True

    def _recv_exact(self, n, timeout):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while len(self._buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise FrontendError("no reply within the timeout")
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                raise FrontendError("back end closed the connection")
            self._buf += data
        out, self._buf = self._buf[:n], self._buf[n:]
        return out


def eventfd():
    return os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)


def setup_rings(fe, mem, features, uaddr=0x7F0000000000, gpa=0x100000, num=256, vrings=(0, 1),
                ring_uaddr=None, enable=True):
    """A QEMU-like session up to live vrings on `mem`.

    Vring i sits at uaddr + i * 0x4000 (descriptors, avail at +4 KiB, used at
    +8 KiB) unless ring_uaddr(i) says where.  Returns the eventfds it sent
    (kick, call per vring; the caller closes them).
    """
    fds = []
    proto = features & (1 << VHOST_USER_F_PROTOCOL_FEATURES)
    fe.call(GET_FEATURES)
    if proto:
        offered = fe.call(GET_PROTOCOL_FEATURES)
        want = offered & ((1 << PROTOCOL_F_MQ) | (1 << PROTOCOL_F_REPLY_ACK) | (1 << PROTOCOL_F_NET_MTU))
        fe.send(SET_PROTOCOL_FEATURES, u64(want))
    fe.send(SET_OWNER)
    fe.send(SET_FEATURES, u64(features))
    fe.send(SET_MEM_TABLE, mem_table([(gpa, mem.size, uaddr, 0)]), fds=[mem.fd])
    for i in vrings:
        base = ring_uaddr(i) if ring_uaddr else uaddr + i * 0x4000
        kick, call = eventfd(), eventfd()
        fds += [kick, call]
        fe.send(SET_VRING_NUM, state(i, num))
        fe.send(SET_VRING_ADDR, vring_addr(i, base, base + 0x2000, base + 0x1000))
        fe.send(SET_VRING_BASE, state(i, 0))
        fe.send(SET_VRING_CALL, u64(i), fds=[call])
        fe.send(SET_VRING_KICK, u64(i), fds=[kick])
        if proto and enable:
            fe.send(SET_VRING_ENABLE, state(i, 1))
    # A request with a reply: everything before it was handled once it comes.
    fe.call(GET_FEATURES)
    return fds
