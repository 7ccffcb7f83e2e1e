#!/usr/bin/env python3
"""hostile_ctl.py - scenario: hostile or careless control clients and local users neither crash vswd nor borrow its rights.

Objective: vswd's control socket is reachable only by root, vswd's own
user and members of the --ctl-group; a client can neither crash vswd,
lock root out, forge log lines, nor make vswd write, reuse or delete a
file on its behalf; every typo in a request or a config file is refused
with a message naming the key.

Steps (each vswd runs --foreground inside a network namespace of its own,
vsw-hctl, so that the tap and afpacket ports touch no real interface):
  1. pipelining: 70 port-add/port-del pairs in one write on one connection;
     every reply is ok and vswd is alive (it used to overflow its list of
     deleted ports and crash)
  2. access: vswd started under umask 000 makes its socket 0600 all the
     same; user nobody is refused by the socket's mode and, with the mode
     opened up by hand, by vswd's peer check; with --ctl-group nogroup the
     socket is 0660 group nogroup, nobody (primary group) and a user with
     nogroup as a supplementary group are served, another user is refused
  3. files: `vswctl capture -w` through a symlink, or onto a file another
     user created, is refused and leaves the file as it was; the same
     through a raw capture-start request (vswd opens the file itself) and
     `pcap write=`; a vhost-user path= or --ctl path that is a regular file
     or a socket another process listens on is refused and left in place
  4. slots and replies: 32 idle connections do not lock root out, and vswd
     closes idle connections after its idle timeout; `fdb show` of 8000
     MACs (a reply much larger than the socket buffer) arrives whole, also
     to a client that waits two seconds before reading
  5. log lines: a request whose file name holds "\\n<a forged log line>"
     leaves no forged line in vswd's log
  6. typos: unknown keys in port-add (vhost-user, tap, afpacket, afxdp,
     pcap), in other commands and in a config file (top level and a port
     entry) are refused with a message naming the key and the valid keys
Each check prints PASS or FAIL; the last line is "hostile-ctl: N passed,
M failed"; the exit code is non-zero on any failure.  Every wait is
bounded; every process started here is killed at exit.

    python3 tests/scenario/hostile_ctl.py --build build [--keep]

Needs root (other users through setuid in a child), ip(8), build/vswd and
build/vswctl.  Python 3.9+ standard library.
"""

import argparse
import grp
import json
import os
import pwd
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from steps_lib import Steps  # noqa: E402

NETNS = "vsw-hctl"
PYTHON = "/usr/bin/python3"   # reachable by other users (sys.executable may be under /root)
STARTED = []             # every Vswd, stopped at exit
CTL_IDLE_S = 10          # vswd's idle timeout for control connections (src/ctl/daemon.h)


class Vswd:
    """vswd --foreground in the test's namespace, with its own control socket and log."""

    def __init__(self, build, workdir, name, args=(), umask=None, config=None, wait=True):
        self.build = build
        self.ctl = os.path.join(workdir, name + ".sock")
        self.log_path = os.path.join(workdir, name + ".log")
        self.log = open(self.log_path, "w")
        cmd = ["ip", "netns", "exec", NETNS, os.path.join(build, "vswd"), "--foreground", "--ctl", self.ctl]
        if config is not None:
            conf = os.path.join(workdir, name + ".json")
            with open(conf, "w") as f:
                f.write(config)
            cmd += ["--config", conf]
        cmd += list(args)

        def pre():
            if umask is not None:
                os.umask(umask)
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=pre)
        STARTED.append(self)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline and self.proc.poll() is None:
            if "ready" in self.log_text():
                return True
            time.sleep(0.05)
        return False

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def ctl_cmd(self, *args, timeout=30, user=None):
        r = subprocess.run([os.path.join(self.build, "vswctl"), "--ctl", self.ctl, *args], capture_output=True,
                           text=True, timeout=timeout, **(user or {}))
        return r.returncode, r.stdout, r.stderr

    def request(self, req, timeout=10):
        """One raw request on a fresh connection; the parsed reply or None."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.ctl)
            s.sendall((json.dumps(req) + "\n").encode())
            return read_reply(s)

    def stop(self):
        if self.log.closed:
            return self.proc.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def read_reply(s, limit=64 << 20):
    buf = b""
    while b"\n" not in buf and len(buf) < limit:
        try:
            d = s.recv(1 << 20)
        except (socket.timeout, ConnectionResetError):
            return None
        if not d:
            break
        buf += d
    if b"\n" not in buf:
        return None
    try:
        return json.loads(buf.split(b"\n", 1)[0])
    except ValueError:
        return None


def as_user(uid, gid, groups=()):
    """subprocess keyword arguments that run the child as @uid/@gid with supplementary @groups."""
    return {"user": uid, "group": gid, "extra_groups": list(groups)}


def peer_request(ctl, req, uid, gid, groups=()):
    """A raw request sent by a child running as @uid: ("ok"|"refused"|"denied"|"closed", detail)."""
    code = ("import json,socket,sys\n"
            "s=socket.socket(socket.AF_UNIX)\ns.settimeout(5)\n"
            "try:\n s.connect(sys.argv[1])\nexcept OSError as e:\n print('denied', e); sys.exit(0)\n"
            "try:\n s.sendall((sys.argv[2]+'\\n').encode()); d=s.recv(65536)\n"
            "except OSError as e:\n print('closed', e); sys.exit(0)\n"
            "print('reply', d.decode(errors='replace').strip() if d else '')\n")
    r = subprocess.run([PYTHON, "-c", code, ctl, json.dumps(req)], capture_output=True, text=True,
                       timeout=20, **as_user(uid, gid, groups))
    out = r.stdout.strip()
    if out.startswith("reply "):
        try:
            rep = json.loads(out[6:])
            return ("ok" if rep.get("ok") else "refused"), out[6:]
        except ValueError:
            return "closed", out
    if out.startswith("reply"):
        return "closed", "EOF"
    return (out.split(" ", 1)[0] or "error"), out + r.stderr.strip()


# ---- 1. pipelining ----

def run_pipelined_pairs(build, workdir, steps):
    v = Vswd(build, workdir, "pipe")
    n = 70
    lines = []
    for i in range(n):
        lines.append(json.dumps({"cmd": "port-add", "name": "p%d" % i, "type": "vhost-user",
                                 "path": os.path.join(workdir, "pipe-p%d.sock" % i)}))
        lines.append(json.dumps({"cmd": "port-del", "name": "p%d" % i}))
    replies = []
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(20)
            s.connect(v.ctl)
            s.sendall(("\n".join(lines) + "\n").encode())
            buf = b""
            deadline = time.time() + 20
            while buf.count(b"\n") < 2 * n and time.time() < deadline:
                d = s.recv(65536)
                if not d:
                    break
                buf += d
            replies = [json.loads(l) for l in buf.split(b"\n") if l.strip()]
    except (OSError, ValueError) as e:
        replies.append({"ok": False, "error": str(e)})
    bad = [r for r in replies if not r.get("ok")]
    steps.result(len(replies) == 2 * n and not bad and v.alive(),
                 "pipelining: %d port-add/port-del pairs on one connection all ok, vswd alive" % n,
                 "%d replies, %d not ok%s, vswd %s" % (len(replies), len(bad), (" (" + bad[0].get("error", "") + ")")
                                                     if bad else "", "alive" if v.alive() else
                                                     "died with %s" % v.proc.returncode))
    rc, out, err = v.ctl_cmd("--json", "show") if v.alive() else (1, "", "")
    steps.result(rc == 0 and json.loads(out)["ports"] == [], "pipelining: no port left behind", err.strip())
    v.stop()


# ---- 2. access control ----

def sock_mode(path):
    st = os.stat(path)
    return stat.S_IMODE(st.st_mode), st.st_gid


def run_access(build, workdir, steps):
    nobody = pwd.getpwnam("nobody")
    nogroup = grp.getgrnam("nogroup").gr_gid
    show = {"cmd": "show"}

    v = Vswd(build, workdir, "acc", umask=0)
    mode, _ = sock_mode(v.ctl)
    steps.result(mode == 0o600, "access: under umask 000 the control socket is 0600", "mode %o" % mode)
    got, detail = peer_request(v.ctl, show, nobody.pw_uid, nobody.pw_gid)
    steps.result(got == "denied", "access: nobody cannot connect to the socket", "%s %s" % (got, detail))
    os.chmod(v.ctl, 0o666)   # as if an admin opened it up: vswd's own check must still refuse
    got, detail = peer_request(v.ctl, show, nobody.pw_uid, nobody.pw_gid)
    steps.result(got in ("refused", "closed"), "access: nobody refused by vswd's peer check (socket 0666)",
                 "%s %s" % (got, detail))
    got, detail = peer_request(v.ctl, {"cmd": "port-add", "name": "n1", "type": "vhost-user",
                                       "path": os.path.join(workdir, "n1.sock")}, nobody.pw_uid, nobody.pw_gid)
    steps.result(got in ("refused", "closed") and not os.path.exists(os.path.join(workdir, "n1.sock")),
                 "access: nobody cannot add a port", "%s %s" % (got, detail))
    rc, _, err = v.ctl_cmd("show")
    steps.result(rc == 0, "access: root is served", err.strip())
    v.stop()

    v = Vswd(build, workdir, "grp", args=["--ctl-group", "nogroup"], umask=0)
    if not v.alive():
        steps.result(False, "access: vswd --ctl-group nogroup starts", v.log_text().strip()[-300:])
        return
    mode, gid = sock_mode(v.ctl)
    steps.result(mode == 0o660 and gid == nogroup, "access: with --ctl-group the socket is 0660 group nogroup",
                 "mode %o gid %d" % (mode, gid))
    got, detail = peer_request(v.ctl, show, nobody.pw_uid, nobody.pw_gid)
    steps.result(got == "ok", "access: nobody (primary group nogroup) is served", "%s %s" % (got, detail[:200]))
    got, detail = peer_request(v.ctl, show, 64999, 64999, [nogroup])
    steps.result(got == "ok", "access: a user with supplementary group nogroup is served",
                 "%s %s" % (got, detail[:200]))
    os.chmod(v.ctl, 0o666)
    got, detail = peer_request(v.ctl, show, 64998, 64998)
    steps.result(got in ("refused", "closed"), "access: a user outside the group is refused (socket 0666)",
                 "%s %s" % (got, detail))
    # A group member may not make vswd create files as root: the capture file must come as an fd.
    target = os.path.join(workdir, "grp-cap.pcap")
    v.request({"cmd": "port-add", "name": "g1", "type": "vhost-user", "path": os.path.join(workdir, "g1.sock")})
    got, detail = peer_request(v.ctl, {"cmd": "capture-start", "port": "g1", "file": target},
                               nobody.pw_uid, nobody.pw_gid)
    steps.result(got == "refused" and not os.path.exists(target),
                 "access: a group member cannot name a file for vswd to create", "%s %s" % (got, detail))
    v.stop()


# ---- 3. files ----

def run_files(build, workdir, steps):
    nobody = pwd.getpwnam("nobody")
    shared = os.path.join(workdir, "shared")       # like /tmp: sticky, world-writable
    os.makedirs(shared)
    os.chmod(shared, 0o1777)
    v = Vswd(build, workdir, "files")
    rc, _, err = v.ctl_cmd("port", "add", "f1", "vhost-user", "path=" + os.path.join(workdir, "f1.sock"))
    steps.result(rc == 0, "files: add f1", err.strip())

    precious = os.path.join(workdir, "precious")
    with open(precious, "w") as f:
        f.write("precious\n")
    link = os.path.join(shared, "cap-link.pcap")
    os.symlink(precious, link)
    rc, out, err = v.ctl_cmd("capture", "f1", "--seconds", "0.2", "-w", link)
    steps.result(rc != 0 and open(precious).read() == "precious\n",
                 "files: vswctl capture -w SYMLINK is refused, its target intact", (err or out).strip())

    theirs = os.path.join(shared, "theirs.pcap")
    subprocess.run(["touch", theirs], check=True, **as_user(nobody.pw_uid, nobody.pw_gid))
    os.chmod(theirs, 0o666)
    rc, out, err = v.ctl_cmd("capture", "f1", "--seconds", "0.2", "-w", theirs)
    steps.result(rc != 0 and os.path.getsize(theirs) == 0,
                 "files: vswctl capture -w onto another user's file is refused, the file untouched",
                 (err or out).strip())

    for what, path in (("a symlink", link), ("another user's file", theirs), ("an existing file", precious)):
        r = v.request({"cmd": "capture-start", "port": "f1", "file": path})
        if r and r.get("ok"):
            v.request({"cmd": "capture-stop", "port": "f1"})
        steps.result(r is not None and not r.get("ok") and open(precious).read() == "precious\n"
                     and os.path.getsize(theirs) == 0,
                     "files: capture-start naming %s (vswd opens it) is refused" % what, str(r))
        rc, out, err = v.ctl_cmd("port", "add", "w1", "pcap", "write=" + path)
        if rc == 0:
            v.ctl_cmd("port", "del", "w1")
        steps.result(rc != 0 and open(precious).read() == "precious\n" and os.path.getsize(theirs) == 0,
                     "files: pcap write= %s is refused" % what, err.strip())

    rc, out, err = v.ctl_cmd("port", "add", "f2", "vhost-user", "path=" + precious)
    steps.result(rc != 0 and os.path.isfile(precious) and open(precious).read() == "precious\n",
                 "files: vhost-user path=REGULAR_FILE is refused, the file intact", err.strip())

    live = os.path.join(workdir, "live.sock")
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(live)
    ls.listen(4)
    ls.settimeout(2)
    rc, out, err = v.ctl_cmd("port", "add", "f3", "vhost-user", "path=" + live)
    ok_after = False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            c.settimeout(2)
            c.connect(live)
            conn, _ = ls.accept()
            conn.close()
            ok_after = True
    except OSError:
        pass
    steps.result(rc != 0 and ok_after, "files: vhost-user path= of a socket another process listens on is "
                 "refused, the listener keeps it", err.strip())

    stale = os.path.join(workdir, "stale.sock")
    s2 = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s2.bind(stale)
    s2.close()     # a socket file nobody listens on: a stale socket of an earlier run
    rc, out, err = v.ctl_cmd("port", "add", "f4", "vhost-user", "path=" + stale)
    steps.result(rc == 0, "files: vhost-user path= of a stale socket is reused", err.strip())
    v.ctl_cmd("port", "del", "f4")
    steps.result(not os.path.exists(stale), "files: port del removes the socket vswd bound")

    # Another vswd on the same --ctl must not steal the live one's socket.
    rc = subprocess.run(["ip", "netns", "exec", NETNS, os.path.join(build, "vswd"), "--foreground", "--ctl",
                         v.ctl], capture_output=True, text=True, timeout=10)
    rc2, _, err2 = v.ctl_cmd("show")
    steps.result(rc.returncode != 0 and rc2 == 0,
                 "files: a second vswd on a live --ctl socket is refused, the first keeps it",
                 (rc.stderr.strip() + " / " + err2.strip())[-300:])
    rc = subprocess.run(["ip", "netns", "exec", NETNS, os.path.join(build, "vswd"), "--foreground", "--ctl",
                         precious], capture_output=True, text=True, timeout=10)
    steps.result(rc.returncode != 0 and open(precious).read() == "precious\n",
                 "files: --ctl REGULAR_FILE is refused, the file intact", rc.stderr.strip()[-300:])
    steps.result(v.alive(), "files: vswd alive")
    ls.close()
    v.stop()


# ---- 4. slots and large replies ----

def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", i, 0, len(fr), len(fr)))
            f.write(fr)


def run_slots_and_replies(build, workdir, steps):
    v = Vswd(build, workdir, "slots")
    idle = []
    for _ in range(32):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(v.ctl)
        idle.append(s)
    time.sleep(0.3)
    rc, out, err = v.ctl_cmd("show", timeout=10)
    steps.result(rc == 0, "slots: root is served while 32 idle connections hold every slot", err.strip())
    # The idle ones are closed by the idle timeout (those not already evicted for root).
    deadline = time.time() + CTL_IDLE_S + 5
    open_left = list(idle)
    while open_left and time.time() < deadline:
        for s in list(open_left):
            s.setblocking(False)
            try:
                if s.recv(4096) == b"":
                    open_left.remove(s)
            except BlockingIOError:
                pass
            except OSError:
                open_left.remove(s)
        time.sleep(0.2)
    steps.result(not open_left, "slots: idle connections are closed after %d s" % CTL_IDLE_S,
                 "%d still open" % len(open_left))
    for s in idle:
        s.close()

    # 8000 distinct source MACs: fdb show is ~400 KB, more than a socket buffer.
    n = 8000
    frames = []
    for i in range(n):
        src = bytes([0x02, 0x00, 0x5e, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])
        frames.append(b"\xff" * 6 + src + b"\x08\x06" + bytes(46))
    pcap = os.path.join(workdir, "macs.pcap")
    write_pcap(pcap, frames)
    # No per-port learning or flood limit here: this is about the size of the reply.
    rc, _, err = v.ctl_cmd("port", "add", "r1", "pcap", "read=" + pcap, "mac_limit=0", "flood_rate=0")
    steps.result(rc == 0, "replies: add r1 (pcap read of %d MACs)" % n, err.strip())
    deadline = time.time() + 20
    while time.time() < deadline and "done" not in (v.request({"cmd": "show"}) or {}).get("ports", [{}])[0].get(
            "state", ""):
        time.sleep(0.1)
    rc, out, err = v.ctl_cmd("fdb", "show", "--json", timeout=30)
    try:
        entries = len(json.loads(out)["entries"])
    except (ValueError, KeyError):
        entries = -1
    steps.result(rc == 0 and entries == n, "replies: fdb show with %d MACs arrives whole" % n,
                 "rc %d, %d entries %s" % (rc, entries, err.strip()))
    r = None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(20)
        s.connect(v.ctl)
        s.sendall(b'{"cmd":"fdb-show"}\n')
        time.sleep(2)
        r = read_reply(s)
    steps.result(r is not None and len(r.get("entries", [])) == n,
                 "replies: a client that reads 2 s late gets the whole fdb show",
                 "%s entries" % (len(r["entries"]) if r else None))
    steps.result(v.alive(), "slots: vswd alive")
    v.stop()


# ---- 5. log lines ----

def run_log_forging(build, workdir, steps):
    v = Vswd(build, workdir, "logf")
    v.ctl_cmd("port", "add", "l1", "vhost-user", "path=" + os.path.join(workdir, "l1.sock"))
    forged = "2099-01-01T00:00:00.000Z vswd info: FORGED by a client"
    r = v.request({"cmd": "capture-start", "port": "l1", "file": os.path.join(workdir, "x\n" + forged)})
    if r and r.get("ok"):
        v.request({"cmd": "capture-stop", "port": "l1"})
    v.request({"cmd": "port-del", "name": "l1\n" + forged})
    v.request({"cmd": "bogus\n" + forged})
    time.sleep(0.2)
    lines = [l for l in v.log_text().splitlines() if l.startswith("2099-")]
    steps.result(not lines, "log: no line forged through a request's strings", repr(lines[:2]))
    v.stop()


# ---- 6. typos ----

def run_typos(build, workdir, steps):
    v = Vswd(build, workdir, "typo")
    sock = os.path.join(workdir, "t1.sock")
    cases = [
        ("vhost-user mdoe=client", ["port", "add", "t1", "vhost-user", "path=" + sock, "mdoe=client"], "mdoe"),
        ("tap bogus=1", ["port", "add", "t2", "tap", "ifname=vsw-hctl-t2", "bogus=1"], "bogus"),
        ("afpacket ifnmae=lo", ["port", "add", "t3", "afpacket", "ifname=lo", "ifnmae=lo"], "ifnmae"),
        ("afxdp qeue=0", ["port", "add", "t4", "afxdp", "ifname=lo", "qeue=0"], "qeue"),
        ("pcap wirte=", ["port", "add", "t5", "pcap", "read=" + os.path.join(workdir, "none.pcap"),
                         "wirte=x.pcap"], "wirte"),
    ]
    for what, args, key in cases:
        rc, out, err = v.ctl_cmd(*args)
        if rc == 0:
            v.ctl_cmd("port", "del", args[2])
        steps.result(rc != 0 and key in err and "valid" in err, "typos: port add %s is refused naming the key"
                     % what, err.strip())
    rc, out, err = v.ctl_cmd("--json", "show")
    steps.result(rc == 0 and json.loads(out)["ports"] == [], "typos: no port was created", out.strip()[:200])
    for req, key in (({"cmd": "show", "verbose": True}, "verbose"),
                     ({"cmd": "port-del", "nmae": "x"}, "nmae"),
                     ({"cmd": "capture-stop", "port": "x", "if_dnoe": True}, "if_dnoe"),
                     ({"cmd": "capture-start", "port": "x", "file": "/nonexistent/x", "cuont": 3}, "cuont")):
        r = v.request(req)
        steps.result(r is not None and not r.get("ok") and key in r.get("error", ""),
                     "typos: %s with \"%s\" is refused naming it" % (req["cmd"], key), str(r))
    v.stop()
    for conf, key in (('{"wokers": 2}', "wokers"),
                      ('{"ports": [{"name": "c1", "type": "vhost-user", "path": "%s", "qeueus": 2}]}'
                       % os.path.join(workdir, "c1.sock"), "qeueus")):
        c = Vswd(build, workdir, "conf-" + key, config=conf, wait=False)
        try:
            c.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        text = c.log_text()
        steps.result(c.proc.poll() is not None and c.proc.returncode != 0 and key in text,
                     "typos: a config file with \"%s\" is refused naming it" % key, text.strip()[-200:])
        c.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="where vswd and vswctl are (default build)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--only", help="comma-separated step names: pipe,access,files,slots,log,typos")
    args = ap.parse_args()

    def abort(signum, frame):
        raise SystemExit("aborted by signal %d" % signum)
    signal.signal(signal.SIGTERM, abort)
    signal.signal(signal.SIGALRM, abort)
    signal.alarm(600)

    steps = Steps()
    for tool in ("vswd", "vswctl"):
        if not os.access(os.path.join(args.build, tool), os.X_OK):
            steps.result(False, "setup: %s/%s built" % (args.build, tool))
    if os.geteuid() != 0:
        steps.result(False, "setup: needs root (other users are played through setuid)")
    if shutil.which("ip") is None:
        steps.result(False, "setup: ip(8) installed (iproute2)")
    if steps.failed:
        print("hostile-ctl: %d passed, %d failed" % (steps.passed, steps.failed))
        return 1
    build = os.path.abspath(args.build)
    workdir = tempfile.mkdtemp(prefix="vsw-hctl-")
    os.chmod(workdir, 0o755)      # other users must reach the sockets; they cannot write here
    subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)
    subprocess.run(["ip", "netns", "add", NETNS], check=True)
    subprocess.run(["ip", "-n", NETNS, "link", "set", "lo", "up"], check=True)
    only = set(args.only.split(",")) if args.only else None
    try:
        for name, fn in (("pipe", run_pipelined_pairs), ("access", run_access), ("files", run_files),
                         ("slots", run_slots_and_replies), ("log", run_log_forging), ("typos", run_typos)):
            if only and name not in only:
                continue
            try:
                fn(build, workdir, steps)
            except Exception as e:    # a crash of one step is its failure, the others still run
                steps.result(False, "%s: the step ran to its end" % name, "%s: %s" % (type(e).__name__, e))
        for v in STARTED:
            if v.proc.poll() is None:
                v.stop()
        reports = [v.log_path for v in STARTED if "Sanitizer" in v.log_text() or "runtime error" in v.log_text()]
        steps.result(not reports, "no sanitizer report in any vswd log (run with --build build/asan)",
                     ", ".join(reports))
    finally:
        signal.alarm(0)
        for v in STARTED:
            if v.proc.poll() is None:
                v.stop()
        subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)
        if steps.failed == 0 and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print("logs in %s" % workdir)
        print("hostile-ctl: %d passed, %d failed" % (steps.passed, steps.failed), flush=True)
    return 0 if steps.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
