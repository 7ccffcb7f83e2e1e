#!/usr/bin/env python3
"""libvirt.py - two guests defined with virsh reach each other through vswd.

Objective (issue 18, item 4): the domain XML of docs/LIBVIRT.md, read from
that file, works with Debian's libvirt 9.0 and QEMU 7.2 (TCG): an
<interface type='vhostuser'> in mode 'client' (vm1: vswd listens) and in
mode 'server' (vm2: QEMU listens, vswd connects), shared memfd memory,
<driver queues='2'>.

Steps:
  1. libvirtd of our own: this script re-executes itself in a mount and PID
     namespace, mounts directories of its work dir over libvirt's config,
     run, state, log and cache directories, writes a qemu.conf that works
     as root without systemd, cgroups or a security driver, and starts
     libvirtd (docs/LIBVIRT.md, "How the test runs libvirt" says why);
  2. vswd with two vhost-user ports of two queue pairs: vm1 server, vm2 client;
  3. virsh define and start of both domains (booted in parallel), each
     console on a unix socket this script listens on;
  4. virsh domiflist and dumpxml show the vhostuser interfaces;
  5. the guests negotiated VIRTIO_NET_F_MQ and use two queue pairs;
     vswd shows both ports connected with 2 of 2 queue pairs live;
  6. ping both ways without loss; the FDB has each MAC on its port;
     `vswctl stats` (text) has lines "queue 0" and "queue 1" under each port;
  7. virsh destroy and undefine; both ports are waiting again.
Closing line: "libvirt: N passed, M failed".  Every wait is bounded; the
domains are destroyed and undefined and libvirtd stopped in a finally
block, and the PID namespace ends whatever is left.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

import guest_lib
from guest_lib import Results, guest

REPO = guest.REPO
DOC = os.path.join(REPO, "docs", "LIBVIRT.md")
QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"
VIRSH = ["virsh", "-q", "-c", "qemu:///system"]
VIRTIO_NET_F_MQ = 22
# libvirt's directories the private daemon gets its own copy of (step 1).
LIBVIRT_DIRS = ["/etc/libvirt", "/run/libvirt", "/var/lib/libvirt", "/var/log/libvirt", "/var/cache/libvirt"]
QEMU_CONF = """\
# qemu.conf of tests/scenario/libvirt.py: QEMU as root in a root without systemd (docs/LIBVIRT.md).
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
"""
GUESTS = [  # name, ip, mac, libvirt interface mode, vswd port mode
    ("vm1", "10.0.0.1", "52:54:00:00:00:01", "client", "server"),
    ("vm2", "10.0.0.2", "52:54:00:00:00:02", "server", "client"),
]

res = Results("libvirt", width=52)
check = res.check

ET.register_namespace("qemu", QEMU_NS)


def doc_xml_blocks():
    """The ```xml blocks of docs/LIBVIRT.md, in order: the domain, then the server-mode interface."""
    with open(DOC) as f:
        blocks = re.findall(r"^```xml\n(.*?)^```$", f.read(), re.S | re.M)
    if len(blocks) != 2:
        raise RuntimeError("%s: expected 2 xml blocks (domain, interface), found %d" % (DOC, len(blocks)))
    return blocks


def domain_xml(name, ip, mac, lv_mode, sock, console, guest_dir):
    """The domain of docs/LIBVIRT.md with this guest's name, paths, MAC and address.

    Only values change: vm2 takes its <interface> whole from the doc's second block.
    """
    dom_text, iface_text = doc_xml_blocks()
    dom = ET.fromstring(dom_text)
    dom.find("name").text = name
    os_el = dom.find("os")
    os_el.find("kernel").text = os.path.join(guest_dir, "vmlinuz")
    os_el.find("initrd").text = os.path.join(guest_dir, "initramfs.cpio.gz")
    cmdline = os_el.find("cmdline")
    cmdline.text = re.sub(r"vsw\.ip=\S+", "vsw.ip=%s/24" % ip, re.sub(r"vsw\.name=\S+", "vsw.name=" + name, cmdline.text))
    devices = dom.find("devices")
    iface = devices.find("interface")
    if iface.find("source").get("mode") != lv_mode:
        devices.remove(iface)
        iface = ET.fromstring(iface_text)
        devices.insert(0, iface)
    if iface.find("source").get("mode") != lv_mode:
        raise RuntimeError("%s has no interface with mode='%s'" % (DOC, lv_mode))
    iface.find("source").set("path", sock)
    iface.find("mac").set("address", mac)
    devices.find("serial/source").set("path", console)
    return ET.tostring(dom, encoding="unicode")


def virsh(*args, timeout=60, check_rc=True):
    """Run virsh against the private daemon; return its stdout (raise on failure with check_rc)."""
    r = subprocess.run(VIRSH + list(args), capture_output=True, text=True, timeout=timeout)
    if check_rc and r.returncode != 0:
        raise RuntimeError("virsh %s: %s" % (" ".join(args), (r.stderr or r.stdout).strip()))
    return r.stdout


# --- step 1: a libvirtd of our own -------------------------------------------

def enter_namespace():
    """Re-execute this script in new mount and PID namespaces (nothing else may see our libvirt).

    In there PID 1 only reaps: libvirtd daemonizes QEMU, whose parent
    becomes PID 1, and libvirt waits for a destroyed QEMU to be gone.
    """
    if os.environ.get("VSW_LIBVIRT_NS") == "1":
        if os.getpid() == 1:
            child = os.fork()
            if child:
                signal.signal(signal.SIGTERM, lambda *_: os.kill(child, signal.SIGTERM))
                signal.signal(signal.SIGINT, lambda *_: os.kill(child, signal.SIGINT))
                while True:
                    pid, status = os.wait()
                    if pid == child:
                        os._exit(os.waitstatus_to_exitcode(status))
        return
    env = dict(os.environ, VSW_LIBVIRT_NS="1")
    cmd = ["unshare", "--mount", "--pid", "--fork", "--mount-proc", "--propagation", "private",
           sys.executable] + sys.argv
    try:
        os.execvpe("unshare", cmd, env)
    except OSError as e:
        print("libvirt: cannot run unshare (util-linux): %s" % e)
        print("libvirt: 0 passed, 1 failed")
        sys.exit(1)


class Libvirtd:
    """libvirtd on copies of libvirt's directories under workdir/libvirt."""

    def __init__(self, workdir):
        self.root = os.path.join(workdir, "libvirt")
        for d in LIBVIRT_DIRS:
            mine = self.root + d
            os.makedirs(mine, exist_ok=True)
            if d == "/etc/libvirt":
                shutil.copytree(d, mine, symlinks=True, dirs_exist_ok=True)
                # No network autostarts (the default one wants dnsmasq and a bridge).
                shutil.rmtree(os.path.join(mine, "qemu", "networks", "autostart"), ignore_errors=True)
                with open(os.path.join(mine, "qemu.conf"), "w") as f:
                    f.write(QEMU_CONF)
            os.makedirs(d, exist_ok=True)
            subprocess.run(["mount", "--bind", mine, d], check=True, timeout=10)
        self.log_path = os.path.join(self.root, "libvirtd.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["libvirtd", "--pid-file", os.path.join(self.root, "libvirtd.pid")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            r = subprocess.run(VIRSH + ["version"], capture_output=True, text=True, timeout=30)
            if r.returncode == 0:
                break
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError("libvirtd did not answer within 30 s (rc %s): %s; see %s"
                                   % (self.proc.poll(), r.stderr.strip(), self.log_path))
            time.sleep(0.2)

    def qemu_log(self, name):
        return os.path.join(self.root, "var/log/libvirt/qemu", name + ".log")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


# --- the guest console over a socket -----------------------------------------

class _ConsoleProc:
    """What guest.Guest needs of a QEMU process, for a console on a unix socket.

    The domain's QEMU is libvirtd's child, not ours: "running" means the
    console is open; stop() destroys the domain with virsh.
    """

    def __init__(self, conn):
        self.conn = conn
        self.stdin = conn.makefile("wb")
        self.stdout = conn
        self.returncode = None

    def poll(self):
        return self.returncode

    def wait(self, timeout=None):
        return self.returncode


class LibvirtGuest(guest.Guest):
    """A guest.Guest whose QEMU libvirt starts from our domain XML.

    The console protocol (run, check, features, wait_ready) is guest.Guest's;
    only the transport differs: the domain's <serial> connects to a socket
    we listen on.  start() returns at once; wait_ready() waits for the boot.
    """

    def __init__(self, name, ip, xml, console, qemu_log, workdir):
        self.name = name
        self.ip = ip + "/24"
        self.addr = ip
        self.workdir = workdir
        self.xml = xml
        self.console_log = os.path.join(workdir, name + ".console.log")
        self.qemu_log = qemu_log
        self.boot_s = None
        self._open_console()
        self._qlog = open(os.devnull, "wb")
        self._listen = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listen.bind(console)
        self._listen.listen(1)
        self.proc = None
        self._reader = None
        self.defined = False

    def start(self, timeout_s=120):
        """virsh define and start; accept the console connection QEMU makes at start-up."""
        path = os.path.join(self.workdir, self.name + ".xml")
        with open(path, "w") as f:
            f.write(self.xml)
        virsh("define", path)
        self.defined = True
        self._t0 = time.monotonic()
        virsh("start", self.name, timeout=timeout_s)
        self._listen.settimeout(30)
        conn, _ = self._listen.accept()
        conn.settimeout(None)
        self.proc = _ConsoleProc(conn)
        self._reader = threading.Thread(target=self._read_console, daemon=True, name="console-" + self.name)
        self._reader.start()

    def qemu_error(self):
        """The last line of libvirt's log of this domain's QEMU."""
        try:
            with open(self.qemu_log, "rb") as f:
                lines = [ln for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
            return lines[-1] if lines else ""
        except OSError:
            return ""

    def stop(self, timeout=10):
        """Destroy and undefine the domain; idempotent."""
        if self.defined:
            virsh("destroy", self.name, timeout=30, check_rc=False)
            virsh("undefine", self.name, timeout=30, check_rc=False)
            self.defined = False
        if self.proc:
            self.proc.returncode = 0
            try:
                self.proc.conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._reader.join(timeout)
            self.proc.conn.close()
            self.proc = None
        self._listen.close()
        self._log.close()
        return 0


# --- vswd ----------------------------------------------------------------------

def start_vswd(build, workdir):
    """vswd with the guests' ports, two queue pairs each, in the vswd mode GUESTS gives."""
    ports = [{"name": n, "type": "vhost-user", "path": os.path.join(workdir, n + ".sock"),
              "mode": vmode, "queues": 2} for n, _, _, _, vmode in GUESTS]
    return guest_lib.Vswd(build, workdir, {"workers": 2, "ports": ports})


def stats_queue_lines(text):
    """{port: [[queue, rx_pkts, rx_bytes, tx_pkts, tx_bytes], ...]} from `vswctl stats`' table: the
    "  queue N" lines under each port's line."""
    ports, port = {}, None
    for line in text.splitlines()[1:]:
        f = line.split()
        if line.startswith("  queue ") and port is not None and len(f) == 6:
            ports[port].append([int(x) for x in f[1:]])
        elif f and not line.startswith(" "):
            port = f[0]
            ports[port] = []
    return ports


# --- the test --------------------------------------------------------------------

def run(build, workdir, guest_dir):
    lv = sw = None
    guests = []
    try:
        lv = Libvirtd(workdir)
        check("libvirtd of our own answers virsh", True, virsh("version").strip().splitlines()[-1])
        sw = start_vswd(build, workdir)
        for name, ip, mac, lv_mode, _ in GUESTS:
            console = os.path.join(workdir, name + ".console")
            xml = domain_xml(name, ip, mac, lv_mode, os.path.join(workdir, name + ".sock"), console, guest_dir)
            guests.append(LibvirtGuest(name, ip, xml, console, lv.qemu_log(name), workdir))
        # vm2's QEMU waits in its start-up for vswd to connect: both start in parallel threads.
        errors = {}

        def start(g):
            try:
                g.start()
            except Exception as e:  # reported below, per guest
                errors[g.name] = e
        threads = [threading.Thread(target=start, args=(g,)) for g in guests]
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        for g in guests:
            if not check("%s: virsh define + start" % g.name, g.name not in errors and g.proc is not None,
                         repr(errors.get(g.name, "")) + " " + g.qemu_error()):
                return
        for g in guests:
            g.wait_ready(240)
            check("%s: booted" % g.name, True, "%.1f s" % g.boot_s)

        for (name, _, mac, lv_mode, _), g in zip(GUESTS, guests):
            iflist = virsh("domiflist", name)
            check("%s: domiflist shows the vhostuser interface" % name,
                  re.search(r"\bvhostuser\b.*\bvirtio\b.*" + re.escape(mac), iflist) is not None, iflist.strip())
            iface = ET.fromstring(virsh("dumpxml", name)).find("devices/interface")
            src, drv = iface.find("source"), iface.find("driver")
            check("%s: dumpxml: vhostuser, mode='%s', queues='2'" % (name, lv_mode),
                  iface.get("type") == "vhostuser" and src is not None and src.get("mode") == lv_mode
                  and src.get("path") == os.path.join(workdir, name + ".sock")
                  and drv is not None and drv.get("queues") == "2",
                  ET.tostring(iface, encoding="unicode").strip().replace("\n", " "))

        for g in guests:
            feats = g.features()
            queues = g.check("ls /sys/class/net/eth0/queues", timeout=30).split()
            cpus = g.check("nproc", timeout=30).strip()
            check("%s: guest negotiated MQ, uses 2 queue pairs" % g.name,
                  bool(feats >> VIRTIO_NET_F_MQ & 1) and sorted(queues) == ["rx-0", "rx-1", "tx-0", "tx-1"],
                  "features 0x%x, queues %s, %s vCPUs" % (feats, " ".join(queues), cpus))
        st = sw.wait_states(lambda s: all("2 of 2 queue pairs live" in v for v in s.values()), 10)
        check("vswd: both ports connected, 2 of 2 queue pairs live",
              all(v.startswith("connected (") and "2 of 2 queue pairs live" in v for v in st.values()), str(st))
        check("vswd: vm1 is the server, vm2 the client",
              st["vm1"].startswith("connected (server") and st["vm2"].startswith("connected (client"), str(st))

        vm1, vm2 = guests
        check("ping vm1 -> vm2", guest.ping(vm1, vm2.addr, count=5) == 0.0)
        check("ping vm2 -> vm1", guest.ping(vm2, vm1.addr, count=5) == 0.0)
        fdb = sw.fdb()
        check("vswd: FDB has each MAC on its port",
              fdb.get(GUESTS[0][2]) == "vm1" and fdb.get(GUESTS[1][2]) == "vm2", str(fdb))
        # Which queue a ping takes is the guest's choice: the pings' frames are somewhere in the two.
        text = sw.text("stats")
        qlines = stats_queue_lines(text)
        check("vswctl stats (text): queue 0 and 1 under each port, the pings received on them",
              all([q[0] for q in qlines.get(n, [])] == [0, 1] and sum(q[1] for q in qlines[n]) >= 10
                  for n, *_ in GUESTS), text)

        for g in guests:
            g.stop()
        left = virsh("list", "--all", "--name").split()
        check("virsh destroy + undefine: no domain left", left == [], str(left))
        st = sw.wait_states(lambda s: all(not v.startswith("connected") for v in s.values()), 10)
        check("vswd: both ports waiting again", all(not v.startswith("connected") for v in st.values()), str(st))
    except Exception as e:  # a step that cannot go on fails the run, with its reason
        check("ran to the end", False, repr(e))
    finally:
        for g in guests:
            try:
                g.stop()
            except Exception as e:
                print("cleanup of %s: %r" % (g.name, e))
        if sw:
            sw.stop()
        if lv:
            lv.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    args = ap.parse_args()
    missing = [p for p in ("libvirtd", "virsh", "qemu-system-x86_64") if not shutil.which(p)]
    if missing:
        print("libvirt: %s not found: run scripts/install-deps.sh --scenarios" % ", ".join(missing))
        print("libvirt: 0 passed, 1 failed")
        sys.exit(1)
    if os.geteuid() != 0:
        print("libvirt: needs root (mount namespace, libvirtd)")
        print("libvirt: 0 passed, 1 failed")
        sys.exit(1)
    enter_namespace()
    guest_dir = guest.ensure_built()
    workdir = tempfile.mkdtemp(prefix="vsw-libvirt-")
    print("libvirt: work dir %s" % workdir, flush=True)
    run(os.path.abspath(args.build), workdir, guest_dir)
    sys.exit(res.summary())


if __name__ == "__main__":
    main()
