#!/usr/bin/env bash
# deb-check.sh - build the Debian package and install, run, remove and purge it, on the machine it runs on.
#
#   scripts/fresh-check.sh -- scripts/deb-check.sh      (the way to run it: a new Debian 12 root)
#
# Not part of `make check`: it installs packages system-wide and takes
# minutes (the build dependencies, the build).  Steps, each a PASS/FAIL line:
#   1. apt-get build-dep ./ (debhelper and debian/control's Build-Depends),
#      dpkg-buildpackage -us -uc -b in a copy of the tree: a .deb
#   2. lintian on it (its tags are printed; errors fail)
#   3. apt-get install ./vsw_*.deb: the group vsw exists, the unit is
#      enabled (its wants/ link), /etc/vsw/vswd.json is a conffile, man finds
#      vswd(8)
#   4. the unit's ExecStart by hand (no systemd in the root): under a
#      NOTIFY_SOCKET READY=1 comes; /run/vsw/vswd.sock is mode 0660, group
#      vsw; vswctl stats and stats --openmetrics answer; SIGTERM stops it
#   5. under systemd: scripts/deb-boot-check.sh boots a new Debian 12 root
#      (mmdebstrap) with systemd-nspawn and installs the package there: the
#      postinst starts vswd.service, Type=notify's READY=1 comes, the journal
#      has vswd's "ready:" line, systemctl reload re-reads the config,
#      systemctl stop ends it with status 0, apt-get remove stops it and
#      removes it, apt-get purge removes /etc/vsw (its header says more)
#   6. apt-get remove: the binaries and the unit are gone, the config stays;
#      apt-get purge: /etc/vsw is gone
# Last line "deb-check: N passed, M failed"; exit 1 on any failure.  Needs root.
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
passed=0
failed=0
check() {	# check WHAT COMMAND...: PASS/FAIL by COMMAND's exit status
	local what=$1; shift
	if "$@"; then
		echo "PASS $what"; passed=$((passed + 1))
	else
		echo "FAIL $what"; failed=$((failed + 1))
	fi
}
finish() { echo "deb-check: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

[ "$(id -u)" -eq 0 ] || { echo "deb-check: needs root (it installs the package)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
work=$(mktemp -d /tmp/vsw-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT

# --- 1. build ---
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends dpkg-dev debhelper lintian python3 man-db >/dev/null 2>&1
check "apt-get build-dep (debian/control's Build-Depends)" \
	bash -c "cd '$here' && apt-get build-dep -y -qq ./ >/dev/null 2>&1"
mkdir -p "$work/vsw"
tar -C "$here" --exclude=./build --exclude=./.git -cf - . | tar -xf - -C "$work/vsw"
check "dpkg-buildpackage -us -uc -b" bash -c "cd '$work/vsw' && dpkg-buildpackage -us -uc -b >'$work/build.log' 2>&1 \
	|| { tail -30 '$work/build.log'; false; }"
deb=$(ls "$work"/vsw_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || finish

# --- 2. lintian ---
lintian --info "$deb" >"$work/lintian.log" 2>&1
sed 's/^/  lintian: /' "$work/lintian.log"
check "lintian: no error" bash -c "! grep -q '^E:' '$work/lintian.log'"

# --- 3. install ---
check "apt-get install ./$(basename "$deb")" bash -c "apt-get install -y -qq '$deb' >'$work/install.log' 2>&1 \
	|| { tail -20 '$work/install.log'; false; }"
check "the group vsw exists" getent group vsw
check "vswd.service is enabled" test -L /etc/systemd/system/multi-user.target.wants/vswd.service
check "/etc/vsw/vswd.json is a conffile" bash -c "dpkg-query -W -f='\${Conffiles}' vsw | grep -q /etc/vsw/vswd.json"
check "man finds vswd(8) and vsw.conf(5)" bash -c "man -w 8 vswd >/dev/null && man -w 5 vsw.conf >/dev/null"

# --- 4. the unit's command, by hand ---
unit=/lib/systemd/system/vswd.service
cmd=$(sed -n 's/^ExecStart=//p' "$unit")
mkdir -p /run/vsw
python3 - "$cmd" >"$work/run.log" 2>&1 <<'PY'
import os, shlex, signal, socket, stat, subprocess, sys, grp
cmd = shlex.split(sys.argv[1])
ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
ns.bind("/run/vsw-notify")
ns.settimeout(15)
p = subprocess.Popen(cmd, env=dict(os.environ, NOTIFY_SOCKET="/run/vsw-notify"))
ok = True
try:
    msg = ns.recv(4096).decode()
except socket.timeout:
    msg = ""
st = os.stat("/run/vsw/vswd.sock") if os.path.exists("/run/vsw/vswd.sock") else None
def out(*a):
    return subprocess.run(["vswctl", *a], capture_output=True, text=True)
s = out("stats")
om = out("stats", "--openmetrics")
for what, good in (("READY=1 from the unit's ExecStart", "READY=1" in msg),
                   ("/run/vsw/vswd.sock mode 0660 group vsw", st is not None and stat.S_IMODE(st.st_mode) == 0o660
                    and grp.getgrgid(st.st_gid).gr_name == "vsw"),
                   ("vswctl stats answers", s.returncode == 0 and "PORT" in s.stdout),
                   ("vswctl stats --openmetrics answers", om.returncode == 0 and om.stdout.endswith("# EOF\n"))):
    print(("PASS " if good else "FAIL ") + what)
p.send_signal(signal.SIGTERM)
print(("PASS " if p.wait(15) == 0 else "FAIL ") + "SIGTERM stops it")
os.unlink("/run/vsw-notify")
PY
cat "$work/run.log"
passed=$((passed + $(grep -c '^PASS' "$work/run.log")))
failed=$((failed + $(grep -c '^FAIL' "$work/run.log")))
[ -s "$work/run.log" ] || failed=$((failed + 1))

# --- 5. under systemd, in a booted machine ---
"$here/scripts/deb-boot-check.sh" "$deb" >"$work/boot.log" 2>&1
rc=$?
cat "$work/boot.log"
passed=$((passed + $(grep -c '^PASS' "$work/boot.log")))
failed=$((failed + $(grep -c '^FAIL' "$work/boot.log")))
[ $rc -eq 0 ] || grep -q '^FAIL' "$work/boot.log" || { echo "FAIL deb-boot-check.sh exited $rc"; failed=$((failed + 1)); }

# --- 6. remove, purge ---
check "apt-get remove vsw" bash -c "apt-get remove -y -qq vsw >/dev/null 2>&1"
check "removed: no vswd, vswctl or unit; the config stays" \
	bash -c "[ ! -e /usr/sbin/vswd ] && [ ! -e /usr/sbin/vswctl ] && [ ! -e '$unit' ] && [ -e /etc/vsw/vswd.json ]"
check "apt-get purge vsw" bash -c "apt-get purge -y -qq vsw >/dev/null 2>&1"
check "purged: /etc/vsw and the enable link are gone" \
	bash -c "[ ! -e /etc/vsw ] && [ ! -e /etc/systemd/system/multi-user.target.wants/vswd.service ]"
finish
