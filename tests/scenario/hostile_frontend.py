#!/usr/bin/env python3
"""hostile_frontend.py - scenario: a hostile vhost-user front end breaks only its own port; vswd and a good pair go on.

Objective: whatever a front end sends on its vhost-user socket, vswd closes
that one session with a reason ("broken: ..." in `vswctl show`), keeps
running, keeps forwarding between the other ports, and leaks neither fds
nor memory over many connect/disconnect cycles.

    dpdk-testpmd (io forwarding, --tx-first)        python (this test)
    virtio_user0  virtio_user1                       hostile front end
        |             |                                   |
    good1.sock    good2.sock                          bad.sock
        +------ vswd (learning switch) ------------------+

The good pair: testpmd's two virtio-user ports forward to each other (io
mode) and --tx-first puts a burst on each, so frames circulate through
vswd for ever: good1 rx and good2 tx (and the reverse) grow all the time.
(txonly with --portmask=0x1 would stop after one ring: port 1's receive
queue is never polled, so good2's tx stalls at 256 with no_rx_buffer.)

Steps:
  1. start vswd --foreground with its own control socket in a temp dir and
     three vhost-user server ports: good1, good2, bad
  2. start dpdk-testpmd on good1 and good2; wait until both count traffic
  3. hostile sequences on bad.sock, one per step: malformed header,
     oversized size, unknown request, SET_VRING_KICK before SET_MEM_TABLE,
     a region larger than its memfd, overlapping regions, rings outside
     guest memory, 250 fds with one message, many messages with fds where
     none are allowed (one session, and many sessions), a garbage stream,
     a front end that never reads its replies, a half message left idle
     while a second front end tries to connect.  After each: vswd hung up
     on the front end (except the idle one), `show` says bad is
     "broken: <the reason>", vswd is alive, good1 rx_packets and good2
     tx_packets grew during and after the step, vswd's fd count is back to
     what it was
  4. 1,000 connect/disconnect cycles on bad.sock (half connect+close, half
     a short session with SET_MEM_TABLE on a memfd and a call eventfd);
     vswd's fd count is unchanged and its VmRSS grew by less than 2 MiB
  5. attacks on live rings (each on a fresh vswd + testpmd if the last one
     killed vswd): SET_VRING_ADDR moving a live ring to a misaligned
     address, REM_MEM_REG of the region under live rings, the memfd
     truncated under live rings (the next access would be SIGBUS), and
     the dirty log's memfd truncated while logging (SET_LOG_BASE, LOG_ALL;
     the next mark would be SIGBUS); vswd must survive each with bad
     broken and the good pair forwarding
  6. call fds that could block the worker that notifies them (a worker
     write()s the call fd; one blocked worker used to stall its traffic
     and, at the next grace period, the control thread): (a) a blocking
     eventfd pre-loaded to 0xfffffffffffffffe, (b) the write end of a full
     pipe, (c) as (a) with O_NONBLOCK cleared again by the front end after
     the handover; each with 16 receive buffers posted on vring 0 (so the
     switch floods the good pair's frames there) and a frame on vring 1.
     For 4 s, and again after the front end hangs up, `vswctl show` must
     answer within 1 s; the good pair must forward; bad must end (a)
     connected with "made non-blocking" logged, (b) broken with "not an
     eventfd", (c) broken with "blocked worker"
  7. guest memory the kernel handles differently (each with vswd and the
     good pair checked as in step 5): a hugetlb memfd whose 64 KiB region
     is shorter than its 2 MiB page, and a sparse 1 TiB memfd, each
     truncated under live rings (vswd survives, bad broken); 50 sessions
     with a 4 KiB region of a 2 MiB hugetlb memfd (no mapping left in vswd,
     and vswd's own HugetlbPages back where they were: a leak keeps one
     page per session); every guest mapping
     of vswd marked MADV_DONTDUMP ("dd" in its smaps VmFlags).  Hugepages
     short of what these need are added and taken back after.
Each check prints PASS or FAIL; the last line is
"hostile-frontend: N passed, M failed"; the exit code is non-zero on any
failure.  Every wait has a timeout and every process started here is
killed at exit.

    python3 tests/scenario/hostile_frontend.py --build build [--cycles 1000] [--keep]
        [--no-ring-attacks] [--no-call-fd-attacks]

Needs root (hugepages for testpmd), build/vswd, build/vswctl and
dpdk-testpmd (Debian package dpdk-dev).  Python 3.10+ standard library.
"""

import argparse
import atexit
import json
import mmap
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import hugepages  # noqa: E402
from steps_lib import Steps  # noqa: E402
from vhost_user_lib import (  # noqa: E402
    ADD_MEM_REG, GET_FEATURES, GET_PROTOCOL_FEATURES, NEED_REPLY, PROTOCOL_F_CONFIGURE_MEM_SLOTS,
    PROTOCOL_F_LOG_SHMFD, PROTOCOL_F_REPLY_ACK, REM_MEM_REG, SET_LOG_BASE, VHOST_F_LOG_ALL, SET_FEATURES, SET_MEM_TABLE, SET_OWNER, SET_PROTOCOL_FEATURES,
    SET_VRING_ADDR, SET_VRING_BASE, SET_VRING_CALL, SET_VRING_ENABLE, SET_VRING_KICK, SET_VRING_NUM, VERSION,
    VHOST_USER_F_PROTOCOL_FEATURES, VIRTIO_F_VERSION_1, Frontend, FrontendError, Memory, eventfd,
    mem_single, mem_table, message, setup_rings, state, u64, vring_addr)

TESTPMD = os.environ.get("VSW_TESTPMD", "dpdk-testpmd")
GPA = 0x100000
UADDR = 0x7F0000000000
MEM = 0x10000
F_BASIC = (1 << VIRTIO_F_VERSION_1) | (1 << VHOST_USER_F_PROTOCOL_FEATURES)
RSS_SLACK_KB = 2048


def stop_process(proc, name, stdin_newline=False, timeout=10):
    """Stop a child politely, then firmly; idempotent.  Returns its exit status."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            if stdin_newline and proc.stdin:
                proc.stdin.write(b"\n")
                proc.stdin.flush()
            else:
                proc.terminate()
        except OSError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                print("  %s did not stop: SIGKILL" % name, flush=True)
                proc.kill()
                proc.wait(5)
    if proc.stdin:
        try:
            proc.stdin.close()
        except OSError:
            pass
    return proc.returncode


class Vswd:
    """vswd --foreground with its own control socket and the three ports."""

    def __init__(self, build, workdir, run):
        self.vswd = os.path.join(build, "vswd")
        self.vswctl = os.path.join(build, "vswctl")
        self.dir = workdir
        self.ctl = os.path.join(workdir, "ctl.sock")
        self.socks = {n: os.path.join(workdir, n + ".sock") for n in ("good1", "good2", "bad")}
        self.log_path = os.path.join(workdir, "vswd.%d.log" % run)
        self.proc = None
        self._log = None

    def start(self, timeout=15):
        # testpmd's frames go to MACs nobody sends from: all floods, circulating through io forwarding.
        # The default flood_rate would drain them within a second; it is not this test's subject.
        conf = {"workers": 1, "ports": [{"name": n, "type": "vhost-user", "path": p, "mode": "server",
                                         "flood_rate": 0}
                                        for n, p in self.socks.items()]}
        conf_path = os.path.join(self.dir, "vswd.json")
        with open(conf_path, "w") as f:
            json.dump(conf, f)
        for p in list(self.socks.values()) + [self.ctl]:
            if os.path.exists(p):
                os.unlink(p)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([self.vswd, "--foreground", "--ctl", self.ctl, "--config", conf_path],
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while not all(os.path.exists(p) for p in list(self.socks.values()) + [self.ctl]):
            if self.proc.poll() is not None:
                raise RuntimeError("vswd exited (status %d); see %s" % (self.proc.returncode, self.log_path))
            if time.monotonic() > deadline:
                raise RuntimeError("vswd created no sockets within %d s" % timeout)
            time.sleep(0.1)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def death(self):
        """How vswd ended, for a FAIL line."""
        rc = self.proc.returncode if self.proc else None
        if rc is None:
            return "running"
        if rc < 0:
            return "killed by %s" % signal.Signals(-rc).name
        return "exited with status %d" % rc

    def ctl_json(self, *args, timeout=5):
        """vswctl --ctl CTL --json ARGS; the parsed reply, or None."""
        try:
            r = subprocess.run([self.vswctl, "--ctl", self.ctl, "--json"] + list(args), capture_output=True,
                               timeout=timeout)
            return json.loads(r.stdout.decode())
        except (subprocess.SubprocessError, ValueError, OSError):
            return None

    def port_states(self):
        r = self.ctl_json("show")
        if not r or not r.get("ok"):
            return None
        return {p["name"]: p["state"] for p in r["ports"]}

    def counters(self):
        """{port: (rx_packets, tx_packets)} or None."""
        r = self.ctl_json("stats")
        if not r or not r.get("ok"):
            return None
        return {p["name"]: (p["rx_packets"], p["tx_packets"]) for p in r["ports"]}

    def fd_count(self):
        """vswd's open fds, once settled: a vswctl connection just closed may not be reaped yet."""
        last = -2
        for _ in range(20):
            try:
                n = len(os.listdir("/proc/%d/fd" % self.proc.pid))
            except OSError:
                return -1
            if n == last:
                return n
            last = n
            time.sleep(0.1)
        return last

    def hugetlb_kb(self):
        """vswd's own hugetlb pages in use (HugetlbPages of /proc/PID/status), in KiB; -1 if unreadable."""
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("HugetlbPages:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return -1

    def memfd_maps(self):
        """Mappings of this test's memfds (Memory objects) in vswd."""
        try:
            with open("/proc/%d/maps" % self.proc.pid) as f:
                return sum(1 for line in f if "memfd:vsw-scenario-mem" in line)
        except OSError:
            return -1

    def rss_kb(self):
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return -1

    def wait_bad_state(self, pred, timeout=5):
        """Poll `show` until pred(state of bad) holds; the last state seen (or None)."""
        deadline = time.monotonic() + timeout
        st = None
        while True:
            states = self.port_states()
            st = states.get("bad") if states else None
            if st is not None and pred(st):
                return st
            if time.monotonic() > deadline or not self.alive():
                return st
            time.sleep(0.05)

    def stop(self):
        rc = stop_process(self.proc, "vswd")
        if self._log:
            self._log.close()
            self._log = None
        return rc

    def log_tail(self, n=5):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


class TestPmd:
    """dpdk-testpmd: virtio-user ports on good1 and good2, io forwarding started with a burst on each."""

    def __init__(self, socks, workdir, run):
        self.log_path = os.path.join(workdir, "testpmd.%d.log" % run)
        self.cmd = [TESTPMD, "--no-pci", "--in-memory", "--single-file-segments",
                    "--file-prefix=vsw-hostile-%d-%d" % (os.getpid(), run), "-l", "0-1",
                    "--vdev", "net_virtio_user0,path=%s,mac=02:00:00:00:01:01" % socks[0],
                    "--vdev", "net_virtio_user1,path=%s,mac=02:00:00:00:01:02" % socks[1],
                    "--", "--forward-mode=io", "--portmask=0x3", "--nb-cores=1", "--tx-first",
                    "--stats-period", "1", "--total-num-mbufs=8192"]
        self.proc = None
        self._log = None

    def start(self):
        self._log = open(self.log_path, "wb")
        self._log.write(("+ " + " ".join(self.cmd) + "\n").encode())
        self._log.flush()
        # stdin stays open: non-interactive testpmd stops at a newline or EOF on it.
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        rc = stop_process(self.proc, "testpmd", stdin_newline=True, timeout=15)
        if self._log:
            self._log.close()
            self._log = None
        return rc


def ensure_hugepages(pages=1024):
    """At least `pages` free 2 MiB hugepages and a hugetlbfs mount, put back at exit."""
    try:
        hp = hugepages.Hugepages(pages).setup()
    except (hugepages.HugepagesError, OSError) as e:
        print("hostile-frontend: %s" % e, flush=True)
        return False
    atexit.register(hp.restore)
    return True


class Env:
    """vswd + testpmd; restartable after vswd died."""

    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.run = 0
        self.vswd = None
        self.tp = None

    def start(self, timeout=60):
        """Start both and wait until the good pair forwards; returns a detail string or raises."""
        self.stop()
        self.run += 1
        self.vswd = Vswd(self.args.build, self.workdir, self.run).start()
        self.tp = TestPmd([self.vswd.socks["good1"], self.vswd.socks["good2"]], self.workdir, self.run).start()
        deadline = time.monotonic() + timeout
        first = None
        while time.monotonic() < deadline:
            if not self.tp.alive():
                raise RuntimeError("testpmd exited (status %s); see %s" % (self.tp.proc.returncode, self.tp.log_path))
            if not self.vswd.alive():
                raise RuntimeError("vswd %s" % self.vswd.death())
            c = self.vswd.counters()
            if c and first is None and c["good1"][0] > 0:
                first = c
            elif c and first and c["good1"][0] > first["good1"][0] and c["good2"][1] > first["good2"][1]:
                return "good1 rx %d, good2 tx %d packets and growing" % (c["good1"][0], c["good2"][1])
            time.sleep(0.5)
        raise RuntimeError("no traffic between good1 and good2 within %d s; see %s" % (timeout, self.tp.log_path))

    def stop(self):
        if self.tp:
            self.tp.stop()
        if self.vswd:
            self.vswd.stop()


# ---- hostile sequences: each connects to bad.sock, misbehaves, returns a detail string ----

def hostile_bad_flags(env):
    fe = Frontend(env.vswd.socks["bad"])
    fe.send(GET_FEATURES, flags=0)
    return fe, "GET_FEATURES with version 0 in its flags"


def hostile_oversized(env):
    fe = Frontend(env.vswd.socks["bad"])
    fe.send_raw(message(SET_FEATURES, size=0x10000) + bytes(0x10000))
    return fe, "SET_FEATURES announcing 65536 payload bytes, and sending them"


def hostile_unknown_request(env):
    fe = Frontend(env.vswd.socks["bad"])
    fe.call(GET_FEATURES)
    fe.send(99, u64(0))
    return fe, "request 99 after a valid GET_FEATURES"


def hostile_kick_before_mem_table(env):
    fe = Frontend(env.vswd.socks["bad"])
    fe.call(GET_FEATURES)
    fe.send(SET_FEATURES, u64(F_BASIC))
    fe.send(SET_VRING_NUM, state(0, 256))
    kick = eventfd()
    fe.send(SET_VRING_KICK, u64(0), fds=[kick])
    os.close(kick)
    return fe, "SET_VRING_NUM, SET_VRING_KICK with an eventfd, no SET_MEM_TABLE yet"


def hostile_region_larger_than_memfd(env):
    fe = Frontend(env.vswd.socks["bad"])
    with Memory(MEM) as mem:
        fe.call(GET_FEATURES)
        fe.send(SET_FEATURES, u64(F_BASIC))
        fe.send(SET_MEM_TABLE, mem_table([(GPA, 16 * MEM, UADDR, 0)]), fds=[mem.fd])
    return fe, "a 1 MiB region on a 64 KiB memfd"


def hostile_overlapping_regions(env):
    fe = Frontend(env.vswd.socks["bad"])
    with Memory(MEM) as mem:
        fe.call(GET_FEATURES)
        fe.send(SET_FEATURES, u64(F_BASIC))
        fe.send(SET_MEM_TABLE, mem_table([(GPA, MEM, UADDR, 0), (GPA + MEM // 2, MEM // 2, UADDR + 0x100000, 0)]),
                fds=[mem.fd, mem.fd])
    return fe, "two regions overlapping in guest physical space"


def hostile_ring_outside_memory(env):
    fe = Frontend(env.vswd.socks["bad"])
    kick = eventfd()
    with Memory(MEM) as mem:
        fe.call(GET_FEATURES)
        fe.send(SET_FEATURES, u64(F_BASIC))
        fe.send(SET_MEM_TABLE, mem_table([(GPA, MEM, UADDR, 0)]), fds=[mem.fd])
        fe.send(SET_VRING_NUM, state(0, 256))
        fe.send(SET_VRING_ADDR, vring_addr(0, UADDR + 2 * MEM, UADDR + 0x2000, UADDR + 0x1000))
        fe.send(SET_VRING_BASE, state(0, 0))
        fe.send(SET_VRING_KICK, u64(0), fds=[kick])
    os.close(kick)
    return fe, "descriptor table 64 KiB past the end of the only region, then SET_VRING_KICK"


def hostile_250_fds(env):
    fe = Frontend(env.vswd.socks["bad"])
    fds = [eventfd() for _ in range(250)]
    try:
        fe.send(GET_FEATURES, fds=fds)
    finally:
        for fd in fds:
            os.close(fd)
    return fe, "GET_FEATURES carrying 250 eventfds"


def hostile_fds_on_every_message(env):
    fds = [eventfd() for _ in range(8)]
    try:
        # Many sessions, each one message with 8 fds where none are allowed...
        for _ in range(50):
            with Frontend(env.vswd.socks["bad"]) as fe:
                fe.send(GET_FEATURES, fds=fds)
                if not fe.wait_hangup(5):
                    raise FrontendError("vswd kept a session whose GET_FEATURES carried 8 fds")
            env.vswd.wait_bad_state(lambda s: not s.startswith("connected"), 5)
        # ...then one session sending 300 of them back to back (the rest die in the socket).
        fe = Frontend(env.vswd.socks["bad"])
        for _ in range(300):
            if not fe.send(SET_OWNER, fds=fds):
                break
    finally:
        for fd in fds:
            os.close(fd)
    return fe, "50 sessions of GET_FEATURES + 8 fds, then 300 x SET_OWNER + 8 fds in one session"


def hostile_garbage(env):
    fe = Frontend(env.vswd.socks["bad"])
    rnd = random.Random(20240601)
    fe.send_raw(bytes(rnd.getrandbits(8) for _ in range(65536)))
    return fe, "64 KiB of pseudo-random bytes"


def hostile_never_reads(env):
    fe = Frontend(env.vswd.socks["bad"], timeout=10)
    burst = message(GET_FEATURES) * 4096
    for _ in range(64):   # 3 MiB of requests, no reply ever read
        if not fe.send_raw(burst):
            break
    return fe, "262144 GET_FEATURES without reading a single reply"


HOSTILE = [
    ("malformed header", hostile_bad_flags, "bad header flags"),
    ("oversized size", hostile_oversized, "too large"),
    ("unknown request", hostile_unknown_request, "unsupported request 99"),
    ("SET_VRING_KICK before SET_MEM_TABLE", hostile_kick_before_mem_table, "before the memory table"),
    ("region larger than its memfd", hostile_region_larger_than_memfd, "larger than its file"),
    ("overlapping regions", hostile_overlapping_regions, "overlap"),
    ("ring addresses outside guest memory", hostile_ring_outside_memory, "outside guest memory"),
    ("fd flood: 250 fds with one message", hostile_250_fds, "more than 8 file descriptors"),
    ("fd flood: fds on messages that take none", hostile_fds_on_every_message, "file descriptors, expected 0"),
    ("garbage stream", hostile_garbage, ""),
    ("front end that never reads replies", hostile_never_reads, "cannot send reply"),
]


def sample_after(t0, vswd, window_s=1.0):
    """Counters no earlier than window_s after t0 (a window short enough to show no growth proves nothing)."""
    left = t0 + window_s - time.monotonic()
    if left > 0:
        time.sleep(left)
    return vswd.counters()


def good_grew(before, mid, after):
    """good1 rx and good2 tx grew from before to mid and from mid to after."""
    if not (before and mid and after):
        return False
    return (before["good1"][0] < mid["good1"][0] < after["good1"][0] and
            before["good2"][1] < mid["good2"][1] < after["good2"][1])


def traffic_detail(before, after):
    if not (before and after):
        return "no counters"
    return "good1 rx +%d, good2 tx +%d" % (after["good1"][0] - before["good1"][0],
                                           after["good2"][1] - before["good2"][1])


def clean_session(env):
    """A well-behaved connect/GET_FEATURES/close, so that bad's state is "front end disconnected"."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with Frontend(env.vswd.socks["bad"]) as fe:
                fe.call(GET_FEATURES)
            break
        except (FrontendError, OSError):
            time.sleep(0.05)   # the previous session is still being torn down
    return env.vswd.wait_bad_state(lambda s: s.startswith("front end disconnected"), 5)


def run_hostile(env, steps, name, attack, reason, base_fds):
    """One hostile sequence and the checks after it; records one PASS/FAIL."""
    v = env.vswd
    problems = []
    clean_session(env)
    before, t0 = v.counters(), time.monotonic()
    fe = None
    try:
        fe, what = attack(env)
        hung_up = fe.wait_hangup(10)
    except (FrontendError, OSError) as e:
        what, hung_up = "attack failed: %s" % e, False
    finally:
        if fe:
            fe.close()
    if not hung_up:
        problems.append("vswd did not close the session")
    st = v.wait_bad_state(lambda s: s.startswith("broken:") and reason in s, 5)
    if not st or not st.startswith("broken:") or reason not in st:
        problems.append("bad shows %r, expected \"broken: ...%s...\"" % (st, reason))
    mid = sample_after(t0, v)
    after = sample_after(time.monotonic(), v)
    if not v.alive():
        problems.append("vswd %s" % v.death())
    elif not good_grew(before, mid, after):
        problems.append("good pair stopped: %s then %s" % (traffic_detail(before, mid), traffic_detail(mid, after)))
    fds = v.fd_count()
    deadline = time.monotonic() + 3
    while fds != base_fds and time.monotonic() < deadline and v.alive():
        time.sleep(0.1)
        fds = v.fd_count()
    if v.alive() and fds != base_fds:
        problems.append("vswd has %d fds, %d before" % (fds, base_fds))
    if v.alive() and v.memfd_maps() != 0:
        problems.append("vswd still maps %d of the test's memfds" % v.memfd_maps())
    detail = "%s -> %s; %s" % (what, st, traffic_detail(before, after))
    if problems:
        detail += "; " + "; ".join(problems)
    return steps.result(not problems, "hostile: " + name, detail)


def run_idle_half_message(env, steps, base_fds):
    """A half message left idle must not stall vswd; a second front end meanwhile is refused."""
    v = env.vswd
    problems = []
    clean_session(env)
    before = v.counters()
    fe = Frontend(v.socks["bad"])
    try:
        fe.call(GET_FEATURES)
        fe.send_raw(message(SET_FEATURES, u64(F_BASIC))[:7])
        st = v.wait_bad_state(lambda s: s.startswith("connected"), 5)
        if not st or not st.startswith("connected"):
            problems.append("bad shows %r while a session is open" % st)
        with Frontend(v.socks["bad"]) as second:
            if not second.wait_hangup(5):
                problems.append("a second front end was not refused")
        time.sleep(1)
        mid = v.counters()
        if mid is None:
            problems.append("vswctl got no answer while a half message waits")
        time.sleep(1)
        after = v.counters()
        if not good_grew(before, mid, after):
            problems.append("good pair stopped: %s" % traffic_detail(before, after))
    finally:
        fe.close()
    st = v.wait_bad_state(lambda s: s.startswith("front end disconnected"), 5)
    if not st or not st.startswith("front end disconnected"):
        problems.append("bad shows %r after the front end left" % st)
    if not v.alive():
        problems.append("vswd %s" % v.death())
    elif v.fd_count() != base_fds:
        problems.append("vswd has %d fds, %d before" % (v.fd_count(), base_fds))
    return steps.result(not problems, "hostile: half a message left idle, second front end meanwhile",
                        "; ".join(problems) or "bad stayed connected, the second was refused, %s"
                        % traffic_detail(before, after))


def one_cycle(path, i, mem, ev):
    """Cycle i: even, connect and close; odd, a short session with a memory table and a call fd."""
    if i % 2 == 0:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(path)
        s.close()
        return True
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with Frontend(path, timeout=2) as fe:
                fe.call(GET_FEATURES)
                fe.call(GET_PROTOCOL_FEATURES)
                fe.send(SET_PROTOCOL_FEATURES, u64(1 << PROTOCOL_F_REPLY_ACK))
                fe.send(SET_OWNER)
                fe.send(SET_FEATURES, u64(F_BASIC))
                if fe.call(SET_MEM_TABLE, mem_table([(GPA, MEM, UADDR, 0)]), flags=VERSION | NEED_REPLY,
                           fds=[mem.fd]) != 0:
                    return False
                fe.send(SET_VRING_CALL, u64(0), fds=[ev])
                fe.call(GET_FEATURES)
            return True
        except FrontendError:
            time.sleep(0.002)   # refused: the previous session is still being torn down
    return False


def run_cycles(env, steps, n):
    """n connect/disconnect cycles; fds equal and VmRSS within RSS_SLACK_KB after them."""
    v = env.vswd
    path = v.socks["bad"]
    with Memory(MEM) as mem:
        ev = eventfd()
        try:
            for i in range(20):   # warm up allocators before the baseline
                one_cycle(path, i, mem, ev)
            v.wait_bad_state(lambda s: not s.startswith("connected"), 5)
            time.sleep(0.5)
            fds0, rss0 = v.fd_count(), v.rss_kb()
            before = v.counters()
            t0 = time.monotonic()
            failed = 0
            for i in range(n):
                if not one_cycle(path, i, mem, ev):
                    failed += 1
                if not v.alive():
                    break
            secs = time.monotonic() - t0
        finally:
            os.close(ev)
    v.wait_bad_state(lambda s: not s.startswith("connected"), 5)
    time.sleep(0.5)
    fds1, rss1 = v.fd_count(), v.rss_kb()
    after = v.counters()
    maps = v.memfd_maps()
    detail = "%d cycles in %.1f s; fds %d -> %d; VmRSS %d -> %d KiB (%+d); memfd mappings left %d; %s" % (
        n, secs, fds0, fds1, rss0, rss1, rss1 - rss0, maps, traffic_detail(before, after))
    problems = []
    if failed:
        problems.append("%d sessions not served" % failed)
    if not v.alive():
        problems.append("vswd %s" % v.death())
    if fds1 != fds0:
        problems.append("fd count changed")
    if maps != 0:
        problems.append("memory tables of closed sessions still mapped")
    if rss1 - rss0 >= RSS_SLACK_KB:
        problems.append("VmRSS grew by %d KiB (limit %d)" % (rss1 - rss0, RSS_SLACK_KB))
    if v.alive() and not (after and before and after["good1"][0] > before["good1"][0]
                          and after["good2"][1] > before["good2"][1]):
        problems.append("good pair stopped")
    return steps.result(not problems, "%d connect/disconnect cycles: no fd or memory growth" % n,
                        detail + ("; " + "; ".join(problems) if problems else ""))


# ---- attacks on live rings: the ring state of a session that was valid a moment ago ----

def live_session(env, features=F_BASIC, slots=False):
    """A valid session on bad.sock with vrings 0 and 1 live; returns (fe, mem, fds)."""
    fe = Frontend(env.vswd.socks["bad"])
    mem = Memory(MEM)
    if not slots:
        fds = setup_rings(fe, mem, features)
        return fe, mem, fds
    # CONFIGURE_MEM_SLOTS: the rings' memory comes with ADD_MEM_REG, another region next to it.
    fe.call(GET_FEATURES)
    fe.call(GET_PROTOCOL_FEATURES)
    fe.send(SET_PROTOCOL_FEATURES, u64(1 << PROTOCOL_F_CONFIGURE_MEM_SLOTS))
    fe.send(SET_OWNER)
    fe.send(SET_FEATURES, u64(features))
    fe.send(ADD_MEM_REG, mem_single((GPA, MEM, UADDR, 0)), fds=[mem.fd])
    fe.send(ADD_MEM_REG, mem_single((GPA + 0x100000, MEM, UADDR + 0x100000, 0)), fds=[mem.fd])
    fds = setup_rings_no_table(fe)
    return fe, mem, fds


def setup_rings_no_table(fe):
    """Vrings 0 and 1 at UADDR, on memory the session already has; returns the eventfds sent."""
    fds = []
    for i in (0, 1):
        base = UADDR + i * 0x4000
        kick, call = eventfd(), eventfd()
        fds += [kick, call]
        fe.send(SET_VRING_NUM, state(i, 256))
        fe.send(SET_VRING_ADDR, vring_addr(i, base, base + 0x2000, base + 0x1000))
        fe.send(SET_VRING_BASE, state(i, 0))
        fe.send(SET_VRING_CALL, u64(i), fds=[call])
        fe.send(SET_VRING_KICK, u64(i), fds=[kick])
        fe.send(SET_VRING_ENABLE, state(i, 1))
    fe.call(GET_FEATURES)
    return fds


def ring_misaligned(env):
    fe, mem, fds = live_session(env)
    fe.send(SET_VRING_ADDR, vring_addr(0, UADDR + 8, UADDR + 0x2000, UADDR + 0x1000))
    return fe, mem, fds, "live session, then SET_VRING_ADDR of live vring 0 with its descriptors at +8 (misaligned)"


def ring_region_removed(env):
    fe, mem, fds = live_session(env, slots=True)
    fe.send(REM_MEM_REG, mem_single((GPA, MEM, UADDR, 0)))
    return fe, mem, fds, "live rings in region 1 of 2 (ADD_MEM_REG), then REM_MEM_REG of region 1"


def ring_memory_truncated(env):
    fe, mem, fds = live_session(env)
    mem.truncate(0)
    os.write(fds[2], (1).to_bytes(8, "little"))   # kick vring 1 (guest tx)
    return fe, mem, fds, "live session, then the memfd truncated to 0 bytes and vring 1 kicked"


class _Both:
    """Guest memory and the dirty log, closed together by run_ring_attack."""

    def __init__(self, *mems):
        self.mems = mems

    def close(self):
        for m in self.mems:
            m.close()


def log_truncated(env):
    fe = Frontend(env.vswd.socks["bad"])
    mem = Memory(MEM)
    log = Memory(4096, name="vsw-scenario-log")
    fe.call(GET_FEATURES)
    fe.call(GET_PROTOCOL_FEATURES)
    fe.send(SET_PROTOCOL_FEATURES, u64(1 << PROTOCOL_F_LOG_SHMFD))
    fe.send(SET_OWNER)
    # QEMU's order (vhost_dev_set_log): the log, then LOG_ALL; "respond with zero when ready".
    fe.send(SET_LOG_BASE, struct.pack("=QQ", 4096, 0), fds=[log.fd])
    if fe.recv_reply(SET_LOG_BASE) != u64(0):
        raise FrontendError("SET_LOG_BASE not answered with 0")
    fe.send(SET_FEATURES, u64(F_BASIC | 1 << VHOST_F_LOG_ALL))
    fe.send(SET_MEM_TABLE, mem_table([(GPA, MEM, UADDR, 0)]), fds=[mem.fd])
    fds = setup_rings_no_table(fe)
    log.truncate(0)
    os.write(fds[2], (1).to_bytes(8, "little"))   # kick vring 1: vswd writes its used flags, and logs them
    return fe, _Both(mem, log), fds, "live session logging dirty pages, then the log's memfd truncated to 0"


# (name, attack, whether vswd must end the session).  Removing the region
# under live rings with REM_MEM_REG is memory hot-unplug: the rings leave the
# data path and wait for their memory (see vu_dev.c rings_remap), so the
# session stays up; what matters is that nothing touches the old mapping.
RING_ATTACKS = [
    ("live ring moved to a misaligned address", ring_misaligned, True),
    ("region under live rings removed", ring_region_removed, False),
    ("guest memory truncated under live rings", ring_memory_truncated, True),
    ("dirty log truncated while logging", log_truncated, True),
]


def run_ring_attack(env, steps, name, attack, breaks=True):
    if not env.vswd.alive():
        try:
            print("  (restarting vswd and testpmd: %s)" % env.start(), flush=True)
        except RuntimeError as e:
            return steps.result(False, "ring attack: " + name, "cannot restart: %s" % e)
    v = env.vswd
    clean_session(env)
    base_fds = v.fd_count()
    before, t0 = v.counters(), time.monotonic()
    problems = []
    fe = mem = None
    fds = []
    what = ""
    try:
        fe, mem, fds, what = attack(env)
        if breaks and not fe.wait_hangup(5):
            problems.append("vswd did not close the session")
        if not breaks:
            if fe.wait_hangup(2):
                problems.append("vswd closed a session it should have kept")
            kept = v.wait_bad_state(lambda s: s.startswith("connected"), 5)
            if not kept or not kept.startswith("connected"):
                problems.append("bad shows %r, expected connected" % kept)
    except (FrontendError, OSError) as e:
        problems.append("attack failed: %s" % e)
    finally:
        for fd in fds:
            os.close(fd)
        if fe:
            fe.close()
        if mem:
            mem.close()
    time.sleep(1)
    if not v.alive():
        problems.append("vswd %s; log: %s" % (v.death(), v.log_tail(2).strip().replace("\n", " | ")))
        return steps.result(False, "ring attack: " + name, what + "; " + "; ".join(problems))
    if breaks:
        st = v.wait_bad_state(lambda s: s.startswith("broken:"), 5)
        if not st or not st.startswith("broken:"):
            problems.append("bad shows %r" % st)
    else:
        st = "session kept, rings off the data path"
    mid = sample_after(t0, v)
    after = sample_after(time.monotonic(), v)
    if not good_grew(before, mid, after):
        problems.append("good pair stopped: %s" % traffic_detail(before, after))
    if v.fd_count() != base_fds:
        problems.append("vswd has %d fds, %d before" % (v.fd_count(), base_fds))
    return steps.result(not problems, "ring attack: " + name,
                        "%s -> %s; %s%s" % (what, st, traffic_detail(before, after),
                                            "; " + "; ".join(problems) if problems else ""))


# ---- call fds that could block a worker (a notification is a write() on the front end's fd) ----

FULL = 0xFFFFFFFFFFFFFFFE     # an eventfd counter one below its maximum: the next write of 1 blocks
RX_BUFS = 16                  # receive buffers the hostile front end posts on vring 0
BUF_GPA = GPA + 0x8000        # ...in the upper half of its memory, 2 KiB each


def blocking_full_eventfd():
    """A blocking eventfd whose counter is at FULL: any write() of 1 to it blocks until someone reads."""
    ev = os.eventfd(0, os.EFD_CLOEXEC)
    os.eventfd_write(ev, FULL)
    return ev


def full_pipe():
    """(read end, write end) of a pipe whose buffer is full; the write end blocks again once sent."""
    r, w = os.pipe2(os.O_CLOEXEC)
    os.set_blocking(w, False)
    try:
        while True:
            os.write(w, bytes(4096))
    except BlockingIOError:
        pass
    os.set_blocking(w, True)
    return r, w


def post_rx_buffers(mem):
    """RX_BUFS device-writable 2 KiB buffers on vring 0 (split, desc at +0, avail at +0x1000)."""
    for i in range(RX_BUFS):
        struct.pack_into("=QIHH", mem.map, i * 16, BUF_GPA + i * 2048, 2048, 2, 0)   # VRING_DESC_F_WRITE
        struct.pack_into("=H", mem.map, 0x1000 + 4 + 2 * i, i)
    struct.pack_into("=H", mem.map, 0x1000 + 2, RX_BUFS)   # avail idx, after the entries


def post_tx_frame(mem, kick):
    """One broadcast frame (12-byte virtio-net header first) on vring 1, and a kick."""
    base, buf = 0x4000, 0xF000
    frame = bytes(12) + b"\xff" * 6 + bytes.fromhex("02000000bad0") + b"\x88\xb5" + bytes(46)
    mem.map[buf:buf + len(frame)] = frame
    struct.pack_into("=QIHH", mem.map, base, GPA + buf, len(frame), 0, 0)
    struct.pack_into("=H", mem.map, base + 0x1000 + 4, 0)
    struct.pack_into("=H", mem.map, base + 0x1000 + 2, 1)
    os.write(kick, (1).to_bytes(8, "little"))


def call_fd_session(env, call):
    """A session on bad.sock with vrings 0 and 1 live and `call` as both call fds; returns (fe, mem, kick fds)."""
    fe = Frontend(env.vswd.socks["bad"])
    mem = Memory(MEM)
    kicks = []
    fe.call(GET_FEATURES)
    fe.send(SET_OWNER)
    fe.send(SET_FEATURES, u64(1 << VIRTIO_F_VERSION_1))   # no PROTOCOL_FEATURES: rings enabled at once
    fe.send(SET_MEM_TABLE, mem_table([(GPA, MEM, UADDR, 0)]), fds=[mem.fd])
    for i in (0, 1):
        base = UADDR + i * 0x4000
        kick = eventfd()
        kicks.append(kick)
        fe.send(SET_VRING_NUM, state(i, 256))
        fe.send(SET_VRING_ADDR, vring_addr(i, base, base + 0x2000, base + 0x1000))
        fe.send(SET_VRING_BASE, state(i, 0))
        fe.send(SET_VRING_CALL, u64(i), fds=[call])
        fe.send(SET_VRING_KICK, u64(i), fds=[kick])
    return fe, mem, kicks


def call_blocking_eventfd(env):
    """(a) A blocking eventfd at FULL as call fd, then receive buffers and a frame: each notification would block."""
    ev = blocking_full_eventfd()
    try:
        fe, mem, kicks = call_fd_session(env, ev)
        try:
            fe.call(GET_FEATURES)   # everything before it handled
        except FrontendError:
            pass
        post_rx_buffers(mem)
        post_tx_frame(mem, kicks[1])
    finally:
        os.close(ev)
    return fe, mem, kicks, "blocking eventfd at 0x%x as call fd of vrings 0 and 1, 16 rx buffers, 1 frame" % FULL


def call_pipe(env):
    """(b) The write end of a full pipe nobody reads as call fd."""
    r, w = full_pipe()
    try:
        fe, mem, kicks = call_fd_session(env, w)
        try:
            fe.call(GET_FEATURES)
        except FrontendError:
            pass
        post_rx_buffers(mem)
        post_tx_frame(mem, kicks[1])
    except BaseException:
        os.close(r)
        raise
    finally:
        os.close(w)
    # The read end stays open (closed with the kick fds) but is never read: a write would block, not fail.
    return fe, mem, kicks + [r], "the write end of a full pipe as call fd of vrings 0 and 1, 16 rx buffers, 1 frame"


def call_eventfd_made_blocking_again(env):
    """(c) As (a), but the front end clears O_NONBLOCK on its (shared) file description after handing it over."""
    ev = blocking_full_eventfd()
    try:
        fe, mem, kicks = call_fd_session(env, ev)
        try:
            fe.call(GET_FEATURES)
        except FrontendError:
            pass
        os.set_blocking(ev, True)   # whatever vswd set on the description, undone
        post_rx_buffers(mem)
        post_tx_frame(mem, kicks[1])
    finally:
        os.close(ev)
    return fe, mem, kicks, "as (a), and O_NONBLOCK cleared again on the shared description after the handover"


# (name, attack, what bad's state must become, the log line that must say why)
CALL_FD_ATTACKS = [
    ("(a) blocking eventfd pre-loaded to 0xfffffffffffffffe as call fd", call_blocking_eventfd,
     "connected", "made non-blocking"),
    ("(b) a full pipe as call fd", call_pipe, "broken:", "not an eventfd"),
    ("(c) call eventfd made blocking again after the handover", call_eventfd_made_blocking_again,
     "broken:", "blocked worker"),
]


def timed_show(v, limit_s=1.0):
    """Seconds `vswctl show` took to answer, or None if it did not within limit_s."""
    t = time.monotonic()
    r = v.ctl_json("show", timeout=limit_s)
    return time.monotonic() - t if r and r.get("ok") else None


def run_call_fd_attack(env, steps, name, attack, want_state, want_log):
    """A call fd that could block: good pair keeps forwarding, `show` answers within 1 s, bad ends as want_state."""
    if not env.vswd.alive():
        try:
            print("  (restarting vswd and testpmd: %s)" % env.start(), flush=True)
        except RuntimeError as e:
            return steps.result(False, "call fd: " + name, "cannot restart: %s" % e)
    v = env.vswd
    clean_session(env)
    base_fds = v.fd_count()
    problems = []
    fe = mem = None
    kicks = []
    what = ""
    before = v.counters()
    slow = []
    try:
        fe, mem, kicks, what = attack(env)
        # 4 s of probes: `show` must answer within a second every time.
        t_end = time.monotonic() + 4
        while time.monotonic() < t_end:
            dt = timed_show(v)
            if dt is None:
                slow.append("no answer within 1 s")
                break
            time.sleep(0.2)
        st = v.wait_bad_state(lambda s: s.startswith(want_state), 3)
        if not st or not st.startswith(want_state):
            problems.append("bad shows %r, expected %r" % (st, want_state))
        mid = v.counters()
        time.sleep(1)
        after = v.counters()
        if not good_grew(before, mid, after):
            problems.append("good pair stopped: %s then %s" % (traffic_detail(before, mid), traffic_detail(mid, after)))
    except (FrontendError, OSError) as e:
        problems.append("attack failed: %s" % e)
        st = None
    finally:
        for fd in kicks:
            os.close(fd)
        if fe:
            fe.close()
        if mem:
            mem.close()
    # The hangup makes vswd stop the rings: a grace period, which a blocked worker would hold up for ever.
    time.sleep(0.2)
    dt = timed_show(v)
    if dt is None:
        slow.append("no answer within 1 s after the front end hung up")
    if slow:
        problems.append("vswctl show: " + "; ".join(slow))
    if not v.alive():
        problems.append("vswd %s" % v.death())
    log = ""
    try:
        with open(v.log_path, errors="replace") as f:
            log = f.read()
    except OSError:
        pass
    lines = [ln for ln in log.splitlines() if "port bad" in ln and want_log in ln]
    if not lines:
        problems.append("no log line on port bad saying %r" % want_log)
    fds = v.fd_count() if v.alive() and not slow else base_fds
    if fds != base_fds:
        problems.append("vswd has %d fds, %d before" % (fds, base_fds))
    return steps.result(not problems, "call fd: " + name,
                        "%s -> %s; log: %s%s" % (what, st, lines[-1].strip() if lines else "-",
                                                 "; " + "; ".join(problems) if problems else ""))


def run_call_fd_attacks(env, steps):
    """Step 6: call fds that could block a worker; a vswd left hanging is killed before the next case."""
    for name, attack, want_state, want_log in CALL_FD_ATTACKS:
        ok = run_call_fd_attack(env, steps, name, attack, want_state, want_log)
        if not ok and env.vswd.alive() and timed_show(env.vswd) is None:
            print("  (vswd hangs: killing it)", flush=True)
            env.vswd.proc.kill()
            env.vswd.proc.wait(5)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="where vswd and vswctl are (default build)")
    ap.add_argument("--cycles", type=int, default=1000, help="connect/disconnect cycles (default 1000)")
    ap.add_argument("--no-ring-attacks", action="store_true", help="skip step 5")
    ap.add_argument("--no-call-fd-attacks", action="store_true", help="skip step 6")
    ap.add_argument("--workdir", help="where sockets and logs go (default: a new temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the workdir after a pass")
    ap.add_argument("--deadline", type=int, default=900, help="seconds before the run is aborted")
    args = ap.parse_args()

    def abort(signum, frame):
        raise SystemExit("aborted by signal %d" % signum)
    signal.signal(signal.SIGTERM, abort)
    signal.signal(signal.SIGALRM, abort)
    signal.alarm(args.deadline)

    steps = Steps()
    for tool in ("vswd", "vswctl"):
        if not os.access(os.path.join(args.build, tool), os.X_OK):
            steps.result(False, "setup: %s/%s built" % (args.build, tool))
    if shutil.which(TESTPMD) is None:
        steps.result(False, "setup: %s installed (apt-get install dpdk-dev)" % TESTPMD)
    if os.geteuid() != 0 or not ensure_hugepages():
        steps.result(False, "setup: root and 1024 hugepages")
    if steps.failed:
        print("hostile-frontend: %d passed, %d failed" % (steps.passed, steps.failed))
        return 1

    workdir = args.workdir or tempfile.mkdtemp(prefix="vsw-hostile-")
    os.makedirs(workdir, exist_ok=True)
    env = Env(args, workdir)
    t0 = time.monotonic()
    try:
        run_all(env, steps, args)
    finally:
        signal.alarm(0)
        env.stop()
        print("total %.0f s; logs in %s" % (time.monotonic() - t0, workdir), flush=True)
        if steps.failed == 0 and not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        print("hostile-frontend: %d passed, %d failed" % (steps.passed, steps.failed), flush=True)
    return 0 if steps.failed == 0 else 1


# ---- guest memory the kernel maps differently: hugetlb pages, sparse files; core dumps ----

HUGE_PAGE = 2 << 20


def file_memory(size, file_size, hugetlb=False):
    """Guest memory for setup_rings with no mapping here: a region of `size` bytes of a `file_size`-byte memfd."""
    return Memory(size, file_size=file_size, hugetlb=hugetlb, mapped=False)


def truncated_live(env, mem, what):
    """Vrings 0 and 1 live on `mem`, the file truncated to 0, vring 1 kicked (vswd touches the rings)."""
    fe = Frontend(env.vswd.socks["bad"])
    try:
        fds = setup_rings(fe, mem, F_BASIC)
    except (FrontendError, OSError):
        fe.close()
        mem.close()
        raise
    mem.truncate(0)
    os.write(fds[2], (1).to_bytes(8, "little"))
    return fe, mem, fds, what + " truncated to 0 bytes under live rings, vring 1 kicked"


def ring_hugetlb_short_region_truncated(env):
    mem = file_memory(MEM, HUGE_PAGE, hugetlb=True)
    return truncated_live(env, mem, "hugetlb memfd (2 MiB page) with a 64 KiB region")


def ring_sparse_terabyte_truncated(env):
    return truncated_live(env, file_memory(1 << 40, 1 << 40), "sparse 1 TiB memfd, all of it one region")


MEMORY_ATTACKS = [
    ("hugetlb guest memory, region shorter than its page, truncated", ring_hugetlb_short_region_truncated),
    ("sparse 1 TiB guest memory truncated", ring_sparse_terabyte_truncated),
]


def hugetlb_session(path, mem, i):
    """One session mapping a 4 KiB region of `mem`; True if vswd took it (acked SET_MEM_TABLE)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with Frontend(path, timeout=2) as fe:
                fe.call(GET_FEATURES)
                fe.call(GET_PROTOCOL_FEATURES)
                fe.send(SET_PROTOCOL_FEATURES, u64(1 << PROTOCOL_F_REPLY_ACK))
                fe.send(SET_OWNER)
                fe.send(SET_FEATURES, u64(F_BASIC))
                return fe.call(SET_MEM_TABLE, mem_table([(GPA, 0x1000, UADDR, 0)]), flags=VERSION | NEED_REPLY,
                               fds=[mem.fd]) == 0
        except FrontendError:
            time.sleep(0.01)   # refused: the previous session is still being torn down
    return False


def run_hugetlb_sessions(env, steps, n=50):
    """n sessions, each a 4 KiB region of its own 2 MiB hugetlb memfd (page touched): nothing left after."""
    v = env.vswd
    name = "%d sessions with a 4 KiB region of a 2 MiB hugetlb memfd" % n
    problems = []
    try:
        clean_session(env)
        pool0, maps0 = v.hugetlb_kb(), v.memfd_maps()
        refused = 0
        for i in range(n):
            with file_memory(0x1000, HUGE_PAGE, hugetlb=True) as mem:
                with mmap.mmap(mem.fd, HUGE_PAGE) as m:
                    m[0] = i + 1   # the front end writes its memory: the page is allocated
                if not hugetlb_session(v.socks["bad"], mem, i):
                    refused += 1
            v.wait_bad_state(lambda s: not s.startswith("connected"), 5)
            if not v.alive():
                break
        time.sleep(0.5)
        maps = v.memfd_maps()
        pool1 = v.hugetlb_kb()
    except OSError as e:
        return steps.result(False, name, "cannot run: %s" % e)
    if refused:
        problems.append("%d sessions refused" % refused)
    if not v.alive():
        problems.append("vswd %s" % v.death())
    if maps != 0:
        problems.append("vswd still maps %d of them" % maps)
    # vswd's own hugetlb pages (not the host-wide pool, which other processes use meanwhile).
    if pool1 != pool0 or pool0 < 0:
        problems.append("vswd's HugetlbPages %d kB before, %d kB after" % (pool0, pool1))
    detail = "memfd mappings in vswd %d -> %d; vswd's HugetlbPages %d -> %d kB" % (maps0, maps, pool0, pool1)
    return steps.result(not problems, name, detail + ("; " + "; ".join(problems) if problems else ""))


def vswd_vmflags(pid, name):
    """[(address range, VmFlags)] of vswd's mappings of memfds called `name`."""
    out, cur = [], None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split()
            if head and "-" in head[0] and not head[0].endswith(":"):
                cur = head[0] if "memfd:" + name in line else None
            elif cur and line.startswith("VmFlags:"):
                out.append((cur, line.split()[1:]))
    return out


def run_memory_not_dumped(env, steps):
    """A live session's guest memory (4 KiB pages and hugetlb) is MADV_DONTDUMP in vswd."""
    v = env.vswd
    problems = []
    seen = []
    for hugetlb in (False, True):
        clean_session(env)
        fe = None
        fds = []
        try:
            before = {rng for rng, _ in vswd_vmflags(v.proc.pid, "vsw-scenario-mem")}
            with file_memory(MEM, HUGE_PAGE if hugetlb else MEM, hugetlb) as mem:
                fe = Frontend(v.socks["bad"])
                fds = setup_rings(fe, mem, F_BASIC)
                maps = [m for m in vswd_vmflags(v.proc.pid, "vsw-scenario-mem") if m[0] not in before]
        except (FrontendError, OSError) as e:
            problems.append("%s: %s" % ("hugetlb" if hugetlb else "memfd", e))
            maps = []
        finally:
            for fd in fds:
                os.close(fd)
            if fe:
                fe.close()
        kind = "hugetlb" if hugetlb else "memfd"
        if not maps:
            problems.append("%s: no guest mapping found in vswd's smaps" % kind)
        for rng, flags in maps:
            seen.append("%s %s: %s" % (kind, rng, " ".join(flags)))
            if "dd" not in flags:
                problems.append("%s mapping %s lacks dd (VmFlags %s)" % (kind, rng, " ".join(flags)))
    if not v.alive():
        problems.append("vswd %s" % v.death())
    return steps.result(not problems, "guest memory left out of vswd's core dumps (MADV_DONTDUMP)",
                        "; ".join(problems or seen))


def run_memory_cases(env, steps):
    """Step 6, with 4 hugepages available (more than any case holds at once when vswd unmaps)."""
    try:
        with hugepages.Hugepages(4, mount=False):
            for name, attack in MEMORY_ATTACKS:
                run_ring_attack(env, steps, name, attack)
            if not env.vswd.alive():
                print("  (restarting vswd and testpmd: %s)" % env.start(), flush=True)
            run_hugetlb_sessions(env, steps)
            run_memory_not_dumped(env, steps)
    except (OSError, RuntimeError) as e:
        steps.result(False, "guest memory cases", "cannot run: %s" % e)


def run_all(env, steps, args):
    """Steps 2 to 6 (step 1, vswd, starts inside env.start())."""
    try:
        detail = env.start()
    except (RuntimeError, OSError) as e:
        steps.result(False, "vswd and testpmd up, good pair forwarding", str(e))
        return
    steps.result(True, "vswd and testpmd up, good pair forwarding", detail)
    clean_session(env)
    base_fds = env.vswd.fd_count()
    for name, attack, reason in HOSTILE:
        run_hostile(env, steps, name, attack, reason, base_fds)
        if not env.vswd.alive():
            break
    if env.vswd.alive():
        run_idle_half_message(env, steps, base_fds)
        run_cycles(env, steps, args.cycles)
    if not args.no_ring_attacks:
        for name, attack, breaks in RING_ATTACKS:
            run_ring_attack(env, steps, name, attack, breaks)
    if not args.no_call_fd_attacks:
        run_call_fd_attacks(env, steps)
    run_memory_cases(env, steps)
    if env.tp and not env.tp.alive():
        steps.result(False, "testpmd still running at the end", "exited with %s" % env.tp.proc.returncode)


if __name__ == "__main__":
    sys.exit(main())
