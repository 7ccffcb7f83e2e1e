"""testpmd.py - DPDK testpmd as a reference vhost-user back end for the guest tests.

    guest A --vhost-user--> net_vhost0 --+
                                         | testpmd, io forwarding (port 0 <-> port 1)
    guest B --vhost-user--> net_vhost1 --+

TestPmd runs dpdk-testpmd non-interactively with one net_vhost port per
socket; io forwarding pairs port 0 with port 1 (2 with 3, ...), so the two
guests see each other as if on a wire.  Python 3 standard library only.
"""

import atexit
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import hugepages  # noqa: E402

TESTPMD = os.environ.get("VSW_TESTPMD", "dpdk-testpmd")

_live = set()


@atexit.register
def _stop_all():
    for t in list(_live):
        try:
            t.stop(5)
        except Exception:
            pass


def have_testpmd():
    """True when dpdk-testpmd is installed."""
    return shutil.which(TESTPMD) is not None


class TestPmd:
    """dpdk-testpmd with one net_vhost port per socket, io forwarding.

    socks    vhost-user socket paths, an even number (ports pair up 0-1, 2-3)
    workdir  where testpmd.log goes
    client   testpmd is the vhost-user client (client=1): QEMU must listen
             (Guest(..., server=True)); otherwise testpmd creates the sockets
    lcores   EAL core list: the first is the main lcore, the rest forward
    """

    def __init__(self, socks, workdir, client=False, lcores="0-1", extra_eal=(),
                 extra_args=(), name="testpmd"):
        self.socks = list(socks)
        self.client = client
        self.log_path = os.path.join(workdir, name + ".log")
        os.makedirs(workdir, exist_ok=True)
        eal = [TESTPMD, "--no-pci", "--in-memory", "-l", lcores, "--log-level=pmd.net.vhost,info"]
        for i, s in enumerate(self.socks):
            vdev = "net_vhost%d,iface=%s" % (i, s)
            if client:
                vdev += ",client=1"
            eal += ["--vdev", vdev]
        eal += list(extra_eal)
        app = ["--forward-mode=io", "--nb-cores=1", "--total-num-mbufs=32768"] + list(extra_args)
        self.cmdline = eal + ["--"] + app
        self.proc = None
        self._log = None
        self._hp = None

    def start(self, timeout=60):
        """Start testpmd; in server mode wait until every socket exists.  Returns self."""
        for s in self.socks:
            if not self.client and os.path.exists(s):
                os.unlink(s)
        if self._hp is None:
            try:
                self._hp = hugepages.Hugepages(512).setup()
            except hugepages.HugepagesError as e:
                raise RuntimeError("testpmd: %s" % e)
        self._log = open(self.log_path, "wb")
        self._log.write(("+ " + " ".join(self.cmdline) + "\n").encode())
        self._log.flush()
        # stdin stays open: non-interactive testpmd exits on a newline or EOF.
        self.proc = subprocess.Popen(self.cmdline, stdin=subprocess.PIPE, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        _live.add(self)
        deadline = time.monotonic() + timeout
        while not self.client and not all(os.path.exists(s) for s in self.socks):
            if self.proc.poll() is not None:
                raise RuntimeError("testpmd exited (rc %d); see %s" % (self.proc.returncode, self.log_path))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("testpmd created no sockets within %d s; see %s" % (timeout, self.log_path))
            time.sleep(0.2)
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def alive(self):
        """True while testpmd runs."""
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=20):
        """Stop testpmd (newline on stdin, then SIGTERM, then SIGKILL); idempotent.

        Returns its forward statistics as text ("" if it printed none).
        """
        if self.proc is None:
            return ""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"\n")
                self.proc.stdin.flush()
            except OSError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        if self._log:
            self._log.close()
            self._log = None
        if self._hp is not None:
            self._hp.restore()
            self._hp = None
        _live.discard(self)
        return self.stats_text()

    def stats_text(self):
        """The last "Accumulated forward statistics" block of the log, or ""."""
        try:
            with open(self.log_path, errors="replace") as f:
                text = f.read()
        except OSError:
            return ""
        i = text.rfind("Accumulated forward statistics")
        if i < 0:
            return ""
        j = text.find("\n\n", i)
        return text[i:j if j > 0 else None]
