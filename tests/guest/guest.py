"""guest.py - boot a Linux test guest in QEMU on a vhost-user socket and run commands in it.

A Guest is one QEMU process (TCG, 1 vCPU, 256 MiB of shared memfd memory)
with one virtio-net-pci device whose back end is a vhost-user socket: the
switch under test (vswd) or a reference back end (DPDK testpmd).  The kernel
and initramfs come from scripts/guest/build-guest.sh; the guest's /init
(scripts/guest/init) configures eth0 from the kernel command line and then
serves commands on its serial console, which QEMU connects to our pipes:

    test --stdin-->  qemu -serial  --> ttyS0 --> /init: sh -c CMD
    test <-stdout--  (console log) <-- ttyS0 <-- @@VSW-BEGIN / output / @@VSW-END rc

    g1 = Guest("g1", "/tmp/x/vhost0.sock", "10.0.0.1/24", "52:54:00:00:00:01",
               workdir=wd)
    g1.wait_ready(180)
    rc, out = g1.run("ip -s link show eth0", timeout=30)
    loss = ping(g1, "10.0.0.2", count=5)
    g1.stop()

Everything is bounded: each wait has a timeout, each command is also killed
inside the guest after its timeout, and stop() kills QEMU if it does not
exit.  The whole console is copied to WORKDIR/NAME.console.log and QEMU's
own stderr to WORKDIR/NAME.qemu.log.  Python 3 standard library only.
"""

import atexit
import base64
import hashlib
import json
import math
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_GUEST_DIR = os.environ.get("VSW_GUEST_DIR", os.path.join(REPO, "build", "guest"))
BUILD_SCRIPT = os.path.join(REPO, "scripts", "guest", "build-guest.sh")
QEMU = os.environ.get("VSW_QEMU", "qemu-system-x86_64")

# The longest request line the guest's tty accepts is 4095 bytes (canonical mode).
_MAX_LINE_BYTES = 4000
# Extra seconds the host waits past a command's own timeout before giving up.
_GRACE_S = 20
# While a reply is awaited and the console has said nothing for this long,
# an empty line is written to it (run()): /init ignores empty lines, and
# the serial interrupt the input raises makes the guest's 8250 driver look
# at its transmitter again, so output it holds back goes out.
_NUDGE_S = 3.0

# Feature bit numbers, for Guest.features().
VIRTIO_NET_F_MTU = 3
VIRTIO_NET_F_MRG_RXBUF = 15
VIRTIO_F_VERSION_1 = 32
VIRTIO_F_RING_PACKED = 34

_live_guests = set()


class GuestError(Exception):
    """The guest died, did not boot, or broke the console protocol."""


class GuestTimeout(GuestError):
    """A wait ran past its timeout."""


def ensure_built(guest_dir=DEFAULT_GUEST_DIR, force=False):
    """Build the guest kernel and initramfs into guest_dir unless both exist.

    force=True runs the (idempotent) build script anyway, which also rebuilds
    the initramfs when scripts/guest/init changed.  Returns guest_dir.
    """
    have = all(os.path.exists(os.path.join(guest_dir, f))
               for f in ("vmlinuz", "initramfs.cpio.gz"))
    if force or not have:
        subprocess.run([BUILD_SCRIPT, guest_dir], check=True, timeout=900)
    return guest_dir


def _default_mac(name):
    """A stable locally administered MAC derived from the guest's name."""
    h = hashlib.sha256(name.encode()).digest()
    return "52:54:00:%02x:%02x:%02x" % (h[0], h[1], h[2])


class Guest:
    """One QEMU guest on a vhost-user socket; QEMU starts in the constructor.

    name       label for logs, the QEMU -name and the guest's hostname
    sock       path of the vhost-user unix socket
    ip         address of the guest's eth0 with its prefix ("10.0.0.1/24"), or None
    mac        MAC of eth0, or None for one derived from name
    packed     offer VIRTIO_F_RING_PACKED (packed=on); split ring otherwise
    mrg_rxbuf  offer VIRTIO_NET_F_MRG_RXBUF (on by default, as in QEMU)
    mtu        host_mtu=MTU on the device (VIRTIO_NET_F_MTU) and MTU of eth0
    server     QEMU listens on sock (the back end is a vhost-user client);
               otherwise QEMU connects to the back end's listening socket
    reconnect_s  with server=False, let QEMU reconnect every N s after the
               back end goes away (chardev reconnect=N)
    workdir    where logs and the QMP socket go (default: a new temp dir)
    guest_dir  where vmlinuz and initramfs.cpio.gz are (default build/guest)
    mem_mb     guest memory, all of it shared memfd (vhost-user needs that)
    mem_kib    the same in KiB, instead of mem_mb (migration tests: QEMU 7.2 TCG
               can corrupt a migrated guest whose RAM is a multiple of 256 KiB)
    extra_args more QEMU arguments (e.g. ["-incoming", "unix:PATH"])
    device_opts  extra ",key=value" options for -device virtio-net-pci
    ipv6       False disables IPv6 in the guest (a quieter wire: no DAD,
               router solicitation or MLD packets)
    append     extra kernel command line words

    Attributes: cmdline (argv list of QEMU), console_log, qemu_log,
    boot_s (seconds from start to ready, after wait_ready), addr (ip
    without prefix).
    """

    def __init__(self, name, sock, ip=None, mac=None, packed=False, mrg_rxbuf=True,
                 mtu=None, server=False, workdir=None, guest_dir=None, mem_mb=256,
                 reconnect_s=None, ipv6=True, device_opts="", append="", mem_kib=None, extra_args=()):
        self.name = name
        self.sock = sock
        self.ip = ip
        self.addr = ip.split("/")[0] if ip else None
        self.mac = mac or _default_mac(name)
        self.workdir = workdir or tempfile.mkdtemp(prefix="vsw-guest-")
        os.makedirs(self.workdir, exist_ok=True)
        guest_dir = guest_dir or DEFAULT_GUEST_DIR
        self.console_log = os.path.join(self.workdir, name + ".console.log")
        self.qemu_log = os.path.join(self.workdir, name + ".qemu.log")
        self.qmp_path = os.path.join(self.workdir, name + ".qmp")
        self.boot_s = None

        chardev = "socket,id=vu0,path=%s" % sock
        if server:
            # wait=off: QEMU still waits for the back end inside the netdev
            # setup, but it does not block on the chardev itself.
            chardev += ",server=on,wait=off"
        elif reconnect_s:
            chardev += ",reconnect=%d" % reconnect_s
        dev = "virtio-net-pci,netdev=net0,mac=%s,vectors=0" % self.mac
        # vectors=0: legacy INTx.  QEMU 7.2 under TCG crashes in its MSI-X
        # notifier setup when a vhost-user device starts.
        if packed:
            dev += ",packed=on"
        if not mrg_rxbuf:
            dev += ",mrg_rxbuf=off"
        if mtu:
            dev += ",host_mtu=%d" % mtu
        if device_opts:
            dev += "," + device_opts.lstrip(",")
        kargs = ["console=ttyS0", "panic=-1", "vsw.name=" + name]
        if ip:
            kargs.append("vsw.ip=" + ip)
        if mtu:
            kargs.append("vsw.mtu=%d" % mtu)
        if not ipv6:
            kargs.append("vsw.ipv6=0")
        if append:
            kargs.append(append)

        self.cmdline = [
            QEMU, "-name", name, "-accel", "tcg", "-smp", "1",
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-m", "%dK" % (mem_kib or mem_mb * 1024),
            "-object", "memory-backend-memfd,id=mem0,size=%dK,share=on" % (mem_kib or mem_mb * 1024),
            "-numa", "node,memdev=mem0",
            "-chardev", chardev,
            "-netdev", "vhost-user,id=net0,chardev=vu0",
            "-device", dev,
            "-kernel", os.path.join(guest_dir, "vmlinuz"),
            "-initrd", os.path.join(guest_dir, "initramfs.cpio.gz"),
            "-append", " ".join(kargs),
            "-chardev", "stdio,id=con0,signal=off",
            "-serial", "chardev:con0",
            "-monitor", "none",
            "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path,
        ] + list(extra_args)
        for f in ("vmlinuz", "initramfs.cpio.gz"):
            if not os.path.exists(os.path.join(guest_dir, f)):
                raise GuestError("%s/%s missing: run %s" % (guest_dir, f, BUILD_SCRIPT))

        self._open_console()
        self._qlog = open(self.qemu_log, "wb")
        self._qlog.write(("+ " + " ".join(shlex.quote(a) for a in self.cmdline) + "\n").encode())
        self._qlog.flush()
        self._t0 = time.monotonic()
        self.proc = subprocess.Popen(self.cmdline, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._qlog,
                                     start_new_session=True)
        _live_guests.add(self)
        self._reader = threading.Thread(target=self._read_console, daemon=True,
                                        name="console-" + name)
        self._reader.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        return "Guest(%s, %s)" % (self.name, self.ip)

    # --- console ---------------------------------------------------------

    def _open_console(self):
        """The console's state before the reader starts: empty buffer, no request sent, log opened."""
        self._buf = bytearray()         # console output not consumed yet
        self._cond = threading.Condition()
        self._eof = False
        self._run_lock = threading.Lock()
        self._seq = 0
        self.console_lost = 0           # replies whose begin marker never came (run())
        self.console_nudges = 0         # empty lines written while a reply was awaited (run())
        self._log = open(self.console_log, "wb")

    def _read_console(self):
        """Copy QEMU's stdout (the guest console) to the log and the buffer until EOF."""
        fd = self.proc.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                break
            try:
                self._log.write(data)
                self._log.flush()
            except ValueError:      # closed by stop() after a join timeout
                pass
            with self._cond:
                self._buf += data
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def _wait_for(self, pattern, timeout_s, what, nudge=False):
        """Wait until regex pattern (bytes) matches the buffer; return the match.

        With nudge, an empty line goes to the console each _NUDGE_S seconds
        the console stays silent.  Raises GuestTimeout after timeout_s,
        GuestError if QEMU exits first.
        """
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout_s
        seen, quiet_since = -1, time.monotonic()
        with self._cond:
            while True:
                m = rx.search(self._buf)
                if m:
                    return m
                if self._eof:
                    break
                now = time.monotonic()
                left = deadline - now
                if left <= 0:
                    raise GuestTimeout("%s: no %s within %.0f s (%d empty line(s) written to nudge it); "
                                       "console tail:\n%s" % (self.name, what, timeout_s, self.console_nudges,
                                                               self.console_tail()))
                if len(self._buf) != seen:
                    seen, quiet_since = len(self._buf), now
                elif nudge and now - quiet_since >= _NUDGE_S:
                    self._nudge()
                    quiet_since = now
                self._cond.wait(min(left, 0.5))
        try:
            rc = self.proc.wait(5)
        except subprocess.TimeoutExpired:
            rc = None
        raise GuestError("%s: QEMU exited (rc %s) while waiting for %s: %s (logs %s, %s)"
                         % (self.name, rc, what, self.qemu_error(),
                            self.console_log, self.qemu_log))

    def _nudge(self):
        """An empty line to the console (see _NUDGE_S); a failed write is left to the wait to notice."""
        try:
            self.proc.stdin.write(b"\n")
            self.proc.stdin.flush()
            self.console_nudges += 1
        except (BrokenPipeError, OSError):
            pass

    def qemu_error(self):
        """The last line QEMU wrote to its stderr log, usually why it stopped."""
        try:
            with open(self.qemu_log, "rb") as f:
                lines = [ln for ln in f.read().decode("utf-8", "replace").splitlines()
                         if ln.strip() and not ln.startswith("+ ")]
            return lines[-1] if lines else ""
        except OSError:
            return ""

    def console_tail(self, nbytes=1500):
        """The last nbytes of the console log, for error messages."""
        try:
            with open(self.console_log, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - nbytes))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_ready(self, timeout=180):
        """Wait until /init serves commands; return the boot time in seconds.

        Also checks the command channel with a round trip (`true`).
        """
        self._wait_for(rb"@@VSW-READY [^\r\n]*\r?\n", timeout, "ready line")
        self.boot_s = time.monotonic() - self._t0
        rc, out = self.run("true", timeout=max(30, timeout / 4))
        if rc != 0:
            raise GuestError("%s: handshake `true` returned %d: %r" % (self.name, rc, out))
        return self.boot_s

    def run(self, cmd, timeout=60):
        """Run cmd with `sh -c` in the guest; return (exit_code, output).

        Output is stdout and stderr merged, '\\r' dropped.  The guest kills
        the command after timeout seconds (exit code 137); the host gives up
        after timeout + a grace period and raises GuestTimeout.  Commands
        that start daemons should redirect their output away from the console.
        """
        if self.proc.poll() is not None:
            raise GuestError("%s: QEMU is not running (rc %s)" % (self.name, self.proc.returncode))
        tmo = max(1, int(math.ceil(timeout)))
        with self._run_lock:
            self._seq += 1
            rid = "%s.%d.%s" % (re.sub(r"[^A-Za-z0-9_-]", "_", self.name), self._seq,
                                secrets.token_hex(4))
            line = ("%s %d %s\n" % (rid, tmo, base64.b64encode(cmd.encode()).decode())).encode()
            if len(line) > _MAX_LINE_BYTES:
                raise ValueError("command too long for the console (%d bytes)" % len(cmd))
            try:
                self.proc.stdin.write(line)
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError) as e:
                raise GuestError("%s: console write failed: %s" % (self.name, e))
            rid_b = re.escape(rid.encode())
            end = self._wait_for(rb"\n@@VSW-END " + rid_b + rb" (-?\d+)\r?\n",
                                 tmo + _GRACE_S, "end of `%s`" % cmd[:60], nudge=True)
            with self._cond:
                begin = re.compile(rb"@@VSW-BEGIN " + rid_b + rb"\r?\n").search(self._buf, 0, end.start())
                if begin:
                    out = bytes(self._buf[begin.end():end.start()])
                else:
                    # /init prints the begin marker before it runs the
                    # command, and the end marker carries this request's
                    # id and exit code: the command ran, but bytes of the
                    # console were lost on the way (seen twice in CI, both
                    # in migration.py's split-nomrg-9000 while the guest
                    # received a stream at full speed during a migration).
                    # Everything since the last reply is its output; said
                    # on stderr and in the console log, never silently.
                    out = bytes(self._buf[:end.start()])
                    self.console_lost += 1
                    msg = ("guest %s: console: the reply to %s came without its begin marker; "
                           "output taken as all %d bytes since the last reply: %r"
                           % (self.name, rid, len(out), out[-200:]))
                    sys.stderr.write(msg + "\n")
                    try:
                        self._log.write(("\n[guest.py] " + msg + "\n").encode())
                    except ValueError:
                        pass
                rc = int(end.group(1))
                del self._buf[:end.end()]
        return rc, out.decode("utf-8", "replace").replace("\r", "")

    def check(self, cmd, timeout=60):
        """run(), but raise GuestError unless the exit code is 0; return the output."""
        rc, out = self.run(cmd, timeout)
        if rc != 0:
            raise GuestError("%s: `%s` exited %d:\n%s" % (self.name, cmd, rc, out))
        return out

    def features(self):
        """The virtio feature bits the guest driver negotiated, as an int.

        Test a bit with `g.features() >> VIRTIO_F_RING_PACKED & 1`.
        """
        bits = self.check("cat /sys/class/net/eth0/device/features", timeout=30).strip()
        if not re.fullmatch(r"[01]+", bits):
            raise GuestError("%s: unexpected features %r" % (self.name, bits))
        return sum(1 << i for i, c in enumerate(bits) if c == "1")

    # --- QMP -------------------------------------------------------------

    def qmp(self, command, timeout=10, **arguments):
        """Send one QMP command to QEMU; return its "return" value.

        Example: g.qmp("set_link", name="net0", up=False).
        """
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.qmp_path)
            f = s.makefile("rwb")

            def recv():
                while time.monotonic() < deadline:
                    line = f.readline()
                    if not line:
                        raise GuestError("%s: QMP closed" % self.name)
                    msg = json.loads(line)
                    if "event" not in msg:
                        return msg
                raise GuestTimeout("%s: QMP %s timed out" % (self.name, command))

            recv()      # greeting
            for req in ({"execute": "qmp_capabilities"},
                        {"execute": command, "arguments": arguments}):
                f.write(json.dumps(req).encode() + b"\n")
                f.flush()
                msg = recv()
                if "error" in msg:
                    raise GuestError("%s: QMP %s: %s" % (self.name, req["execute"], msg["error"]))
            return msg.get("return")

    def set_link(self, up):
        """Set the virtio-net link up or down as the guest sees it (QMP set_link)."""
        self.qmp("set_link", name="net0", up=bool(up))

    # --- lifetime --------------------------------------------------------

    def alive(self):
        """True while QEMU runs."""
        return self.proc.poll() is None

    def stop(self, timeout=10):
        """Stop QEMU (SIGTERM, then SIGKILL after timeout s); idempotent. Returns its exit code."""
        if self.proc.poll() is None:
            try:
                self.proc.terminate()
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        for f in (self.proc.stdin,):
            try:
                f.close()
            except OSError:
                pass
        self._reader.join(timeout)
        self._log.close()
        self._qlog.close()
        _live_guests.discard(self)
        return self.proc.returncode


@atexit.register
def _stop_all():
    for g in list(_live_guests):
        try:
            g.stop(5)
        except Exception:
            pass


# --- traffic helpers ------------------------------------------------------

def ping_stats(guest, ip, count=5, interval_s=0.2, size=None, timeout=None):
    """Ping ip from guest; return a dict: transmitted, received, loss (percent),
    rtt_avg_ms (None without replies), rc and output.

    loss is 100.0 when ping printed no summary (for example no route).
    """
    cmd = "ping -c %d -i %s -W 3" % (count, interval_s)
    if size is not None:
        cmd += " -s %d" % size
    cmd += " " + ip
    if timeout is None:
        timeout = count * max(interval_s, 0.2) * 3 + 20
    rc, out = guest.run(cmd, timeout=timeout)
    st = {"transmitted": 0, "received": 0, "loss": 100.0, "rtt_avg_ms": None,
          "rc": rc, "output": out}
    m = re.search(r"(\d+) packets transmitted, (\d+) (?:packets )?received.*?(\d+(?:\.\d+)?)% packet loss", out)
    if m:
        st["transmitted"], st["received"] = int(m.group(1)), int(m.group(2))
        st["loss"] = float(m.group(3))
    m = re.search(r"min/avg/max = [\d.]+/([\d.]+)/", out)
    if m:
        st["rtt_avg_ms"] = float(m.group(1))
    return st


def ping(guest_a, ip_b, count=5, **kw):
    """Ping ip_b from guest_a count times; return the packet loss in percent (0.0-100.0)."""
    return ping_stats(guest_a, ip_b, count, **kw)["loss"]


def iperf3(client, server, seconds=3, udp=False, bitrate=None, reverse=False,
           length=None, port=5201, timeout=None):
    """Run an iperf3 test from client to server (both Guests); return a dict.

    Starts a one-off iperf3 server daemon in server, then runs the client for
    `seconds`.  Returns sender_mbps, receiver_mbps (Mbit/s, None if absent),
    retransmits (TCP), lost_percent (UDP), rc and output of the client.
    """
    if not server.addr:
        raise ValueError("server guest has no ip")
    server.run("killall iperf3 >/dev/null 2>&1; rm -f /tmp/iperf3-s.log; "
               "iperf3 -s -1 -D -p %d --logfile /tmp/iperf3-s.log" % port, timeout=30)
    # Bounded wait (10 s) until the server listens.
    rc, out = server.run("i=0; while [ $i -lt 100 ]; do "
                         "netstat -ltn | grep -q ':%d ' && exit 0; usleep 100000; i=$((i+1)); "
                         "done; cat /tmp/iperf3-s.log; exit 1" % port, timeout=30)
    if rc != 0:
        raise GuestError("%s: iperf3 server did not start: %s" % (server.name, out))
    cmd = "iperf3 -c %s -p %d -t %d -f m --connect-timeout 10000" % (server.addr, port, seconds)
    if udp:
        cmd += " -u -b %s" % (bitrate or "100M")
    elif bitrate:
        cmd += " -b %s" % bitrate
    if reverse:
        cmd += " -R"
    if length:
        cmd += " -l %s" % length
    if timeout is None:
        timeout = seconds * 3 + 40
    rc, out = client.run(cmd, timeout=timeout)
    res = {"sender_mbps": None, "receiver_mbps": None, "retransmits": None,
           "lost_percent": None, "rc": rc, "output": out}
    for line in out.splitlines():
        m = re.search(r"([\d.]+) Mbits/sec(.*)\b(sender|receiver)\s*$", line)
        if not m:
            continue
        rate, rest, side = float(m.group(1)), m.group(2), m.group(3)
        res[side + "_mbps"] = rate
        if side == "sender" and not udp:
            r = re.match(r"\s+(\d+)", rest)
            if r:
                res["retransmits"] = int(r.group(1))
        if udp:
            r = re.search(r"\((\d+(?:\.\d+)?)%\)", rest)
            if r:
                res["lost_percent"] = float(r.group(1))
    server.run("killall iperf3 >/dev/null 2>&1; true", timeout=30)
    return res


# --- self-test: the console protocol against a fake QEMU -------------------

# Speaks /init's side of the protocol on stdin/stdout (QEMU's arguments are
# ignored); a command containing "LOSE-BEGIN" gets its reply without the
# begin marker, as when console bytes are lost on the way.
_FAKE_QEMU = r'''
import base64, sys
out = sys.stdout.buffer
out.write(b"@@VSW-READY fake\n"); out.flush()
held = None
for line in sys.stdin.buffer:
    if not line.strip():
        # an empty line, as /init: ignored, but it releases an end marker held back (HOLD-END)
        if held:
            out.write(held)
            out.flush()
            held = None
        continue
    rid, tmo, b64 = line.split()
    cmd = base64.b64decode(b64)
    if b"LOSE-BEGIN" not in cmd:
        out.write(b"@@VSW-BEGIN " + rid + b"\n")
    if cmd != b"true":
        out.write(b"said " + cmd + b"\n")
    end = b"\n@@VSW-END " + rid + (b" 3\n" if b"exit 3" in cmd else b" 0\n")
    if b"HOLD-END" in cmd:
        held = end      # a transmitter that waits for an interrupt, as a guest's 8250 seemed to in CI
    else:
        out.write(end)
    out.flush()
'''


def _self_test():
    global QEMU
    passed = failed = 0

    def check(what, ok, detail=""):
        nonlocal passed, failed
        print("%s %s%s" % ("PASS" if ok else "FAIL", what, (": " + detail) if detail else ""))
        passed += bool(ok)
        failed += not ok

    wd = tempfile.mkdtemp(prefix="vsw-guest-selftest-")
    fake = os.path.join(wd, "fake-qemu")
    with open(fake, "w") as f:
        f.write("#!/usr/bin/env python3\n" + _FAKE_QEMU)
    os.chmod(fake, 0o755)
    for name in ("vmlinuz", "initramfs.cpio.gz"):
        open(os.path.join(wd, name), "wb").close()
    QEMU = fake
    g = Guest("fake", os.path.join(wd, "vu.sock"), workdir=wd, guest_dir=wd)
    try:
        g.wait_ready(10)
        rc, out = g.run("echo hello; exit 3", timeout=5)
        check("a reply with both markers: its exit code and output", (rc, out) == (3, "said echo hello; exit 3\n"),
              "%r" % ((rc, out),))
        rc, out = g.run("LOSE-BEGIN here", timeout=5)
        check("a reply without its begin marker: the exit code, the output since the last reply",
              (rc, out) == (0, "said LOSE-BEGIN here\n"), "%r" % ((rc, out),))
        check("... counted in console_lost", g.console_lost == 1, "%d" % g.console_lost)
        rc, out = g.run("after", timeout=5)
        check("the next reply is its own", (rc, out) == (0, "said after\n"), "%r" % ((rc, out),))
        nudges = g.console_nudges
        rc, out = g.run("HOLD-END there", timeout=5)
        check("a reply whose end the guest holds back comes after an empty line is written",
              (rc, out) == (0, "said HOLD-END there\n") and g.console_nudges > nudges,
              "%r, %d nudge(s)" % ((rc, out), g.console_nudges - nudges))
        rc, out = g.run("then", timeout=5)
        check("... and the empty lines are no request", (rc, out) == (0, "said then\n"), "%r" % ((rc, out),))
    finally:
        g.stop(5)
    with open(g.console_log, "rb") as f:
        log = f.read()
    check("... and said in the console log", b"[guest.py] guest fake: console: the reply to" in log)
    print("guest-console: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(_self_test())
    sys.exit("usage: %s --self-test   (a module: tests import it)" % sys.argv[0])
