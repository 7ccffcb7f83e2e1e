#!/usr/bin/env bash
# deb-boot-check.sh - install the Debian package on a booted Debian 12 (systemd in systemd-nspawn): a running vswd.service.
#
#   scripts/deb-boot-check.sh VSW_DEB      (deb-check.sh runs it as its step 5)
#
# deb-check.sh's root is a chroot with no init: there the unit's command
# can only be run by hand.  This script boots a real systemd and lets the
# package do what it does on a user's machine:
#   1. mmdebstrap makes a Debian 12 root (minbase + systemd, systemd-sysv,
#      dbus and the package's Depends, so that the install needs no network)
#   2. systemd-nspawn --boot --private-network boots it; systemd reaches
#      "running" (or "degraded": its failed units are listed)
#   3. apt-get install /root/vsw_*.deb inside the booted machine: the
#      postinst enables and starts vswd.service; it is active, Type=notify's
#      READY=1 came (not "activating", StatusText set), the journal has
#      vswd's "ready:" line, /run/vsw/vswd.sock is 0660 group vsw, vswctl
#      stats and stats --openmetrics answer, a user in group vsw may use
#      the socket and one outside it may not
#   4. systemctl reload: the same process re-reads the config (its
#      "reload:" log line); systemctl stop: exit status 0, /run/vsw gone
#   5. systemctl start again, apt-get remove: the service is stopped, the
#      binaries and the unit are gone, the config stays; apt-get purge:
#      /etc/vsw, /var/lib/vsw and the enable link are gone
#   6. systemctl poweroff: systemd-nspawn exits 0
# Every wait is bounded; the machine is killed and its root removed on any
# exit.  Prints PASS/FAIL lines and exits 1 on any failure.  Needs root.
#
# In a chroot (fresh-check.sh) /sys/fs/cgroup is an empty sysfs directory:
# systemd-nspawn needs a cgroup hierarchy, so a cgroup2 file system is
# mounted there when none is (in fresh-check.sh's private mount namespace
# it vanishes with the run).  No machined/dbus on the outside is needed:
# --register=no --keep-unit; without them systemd-nspawn fails with
# "Failed to open system bus: No such file or directory" where no system
# bus runs (a container, a chroot).  Commands run in the machine through
# nsenter --all --root: in a chroot systemd-nspawn moves the machine's root
# onto the chroot's "/" (not the mount namespace's), so without --root nsenter
# lands in the host's file system and its systemctl says "offline".
set -uo pipefail

deb=${1:?usage: deb-boot-check.sh VSW_DEB}
deb=$(readlink -f "$deb")
boot_timeout=${VSW_BOOT_TIMEOUT:-90}
passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }
check() {	# check WHAT COMMAND...: PASS/FAIL by COMMAND's exit status
	local what=$1; shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() { echo "deb-boot-check: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

[ "$(id -u)" -eq 0 ] || { echo "deb-boot-check: needs root" >&2; exit 1; }
[ -s "$deb" ] || { echo "deb-boot-check: no package $deb" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
work=$(mktemp -d /var/tmp/vsw-boot.XXXXXX)
boot=$work/root
machine=vswdeb$$
nspawn=

cleanup() {
	if [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null; then
		kill -TERM "$nspawn" 2>/dev/null	# systemd-nspawn powers the machine off
		for _ in $(seq 100); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$nspawn" 2>/dev/null
		wait "$nspawn" 2>/dev/null
	fi
	if awk -v r="$work" 'index($2, r "/") == 1' /proc/self/mounts | grep -q .; then
		echo "deb-boot-check: something is still mounted under $work: not removing it" >&2
	else
		rm -rf --one-file-system "$work"
	fi
}
trap cleanup EXIT

# --- tools and a cgroup hierarchy ---
apt-get install -y -qq --no-install-recommends systemd-container mmdebstrap >"$work/tools.log" 2>&1 \
	|| { tail -20 "$work/tools.log"; fail "apt-get install systemd-container mmdebstrap"; finish; }
fs=$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)
if [ "$fs" != cgroup2fs ] && [ "$fs" != tmpfs ]; then
	mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup \
		|| { fail "mount a cgroup2 file system on /sys/fs/cgroup (was '$fs')"; finish; }
fi

# --- 1. the root to boot ---
# The package's Depends, first of each alternative, without versions.
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' | grep . | paste -sd,)
check "mmdebstrap: Debian 12 with systemd, dbus and the package's Depends ($deps)" \
	bash -c "mmdebstrap --quiet --mode=root --variant=minbase --include='systemd,systemd-sysv,dbus,$deps' \
		bookworm '$boot' >'$work/mmdebstrap.log' 2>&1 || { tail -20 '$work/mmdebstrap.log'; false; }"
[ -x "$boot/lib/systemd/systemd" ] || finish
cp "$deb" "$boot/root/"
echo "$machine" >"$boot/etc/hostname"

# --- 2. boot ---
# stdin /dev/null: the console is read-only; its output goes to console.log.
timeout -k 10 600 systemd-nspawn --quiet --directory="$boot" --boot --machine="$machine" \
	--register=no --keep-unit --private-network </dev/null >"$work/console.log" 2>&1 &
nspawn=$!
leader=
for _ in $(seq 100); do	# timeout -> systemd-nspawn -> the machine's systemd
	n=$(cat /proc/"$nspawn"/task/"$nspawn"/children 2>/dev/null | awk '{print $1}')
	[ -n "$n" ] && leader=$(cat /proc/"$n"/task/"$n"/children 2>/dev/null | awk '{print $1}')
	[ -n "$leader" ] && [ "$(cat /proc/"$leader"/comm 2>/dev/null)" = systemd ] && break
	leader=
	kill -0 "$nspawn" 2>/dev/null || break
	sleep 0.2
done
if [ -z "$leader" ]; then
	fail "systemd-nspawn --boot starts systemd"
	sed 's/^/  console: /' "$work/console.log" | tail -30
	finish
fi
inside() { nsenter --target "$leader" --all --root --wd -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
export leader
export -f inside	# for the bash -c of check
# Polled: until systemd listens on its private socket, systemctl cannot ask it.
state=
for _ in $(seq $((boot_timeout * 2))); do
	state=$(inside timeout 10 systemctl is-system-running 2>/dev/null)
	case $state in running|degraded) break ;; esac
	kill -0 "$nspawn" 2>/dev/null || break
	sleep 0.5
done
if [ "$state" = running ] || [ "$state" = degraded ]; then
	pass "systemd-nspawn --boot: the machine's systemd is $state"
	[ "$state" = degraded ] && inside systemctl --failed --no-pager --plain | sed 's/^/  failed unit: /'
else
	fail "systemd-nspawn --boot: the machine's systemd is '$state' after ${boot_timeout} s"
	sed 's/^/  console: /' "$work/console.log" | tail -30
	finish
fi

# --- 3. install: the postinst starts the service ---
pkg=/root/$(basename "$deb")
check "apt-get install $pkg in the booted machine" bash -c "inside timeout 120 apt-get install -y -qq '$pkg' >'$work/install.log' 2>&1 || { tail -20 '$work/install.log'; false; }"
prop() { inside systemctl show --value -p "$1" vswd.service; }
for _ in $(seq 50); do [ "$(prop ActiveState)" = activating ] || break; sleep 0.2; done
check "vswd.service is enabled and active after the install" \
	bash -c "[ '$(inside systemctl is-enabled vswd.service)' = enabled ] && [ '$(inside systemctl is-active vswd.service)' = active ]"
status=$(prop StatusText)
check "Type=notify: READY=1 came (state $(prop ActiveState)/$(prop SubState), status '$status')" \
	bash -c "[ '$(prop Type)' = notify ] && [ '$(prop SubState)' = running ] && [ -n '$status' ]"
check "the journal has vswd's 'ready:' line" bash -c "inside journalctl -u vswd.service -o cat --no-pager | grep -q 'ready:'"
inside journalctl -u vswd.service -o cat --no-pager | grep 'ready:' | sed 's/^/  journal: /'
check "/run/vsw/vswd.sock is a socket, mode 0660, group vsw" \
	bash -c "[ \"\$(inside stat -c '%F %a %G' /run/vsw/vswd.sock)\" = 'socket 660 vsw' ]"
check "vswctl stats answers" bash -c "inside vswctl stats | grep -q PORT"
check "vswctl stats --openmetrics answers" bash -c "inside vswctl stats --openmetrics | tail -1 | grep -qx '# EOF'"
inside useradd --no-create-home --groups vsw vswmember
inside useradd --no-create-home vswstranger
check "a member of group vsw may use the control socket" bash -c "inside runuser -u vswmember -- vswctl stats >/dev/null"
check "a user outside group vsw may not" bash -c "! inside runuser -u vswstranger -- vswctl stats >/dev/null 2>&1"

# --- 4. reload, stop ---
pid=$(prop MainPID)
reloads=$(inside journalctl -u vswd.service -o cat --no-pager | grep -c 'reload:')
inside timeout 30 systemctl reload vswd.service
for _ in $(seq 25); do
	[ "$(inside journalctl -u vswd.service -o cat --no-pager | grep -c 'reload:')" -gt "$reloads" ] && break
	sleep 0.2
done
check "systemctl reload: the same vswd re-reads its config (its 'reload:' log lines)" \
	bash -c "[ '$(prop MainPID)' = '$pid' ] && [ '$(prop ActiveState)' = active ] && \
	[ \"\$(inside journalctl -u vswd.service -o cat --no-pager | grep -c 'reload:')\" -gt $reloads ]"
if [ "$(inside journalctl -u vswd.service -o cat --no-pager | grep -c 'reload:')" -gt "$reloads" ]; then
	inside journalctl -u vswd.service -o cat --no-pager | grep 'reload:' | sed 's/^/  journal: /'
else
	inside journalctl -u vswd.service --no-pager | tail -15 | sed 's/^/  journal: /'
fi
inside timeout 30 systemctl stop vswd.service
check "systemctl stop: vswd exits with status 0, /run/vsw is gone" \
	bash -c "[ '$(prop ActiveState)' = inactive ] && [ '$(prop Result)' = success ] && \
	[ '$(prop ExecMainStatus)' = 0 ] && ! inside test -e /run/vsw"

# --- 5. remove, purge ---
inside timeout 30 systemctl start vswd.service
check "apt-get remove vsw (with vswd.service running)" bash -c "inside timeout 120 apt-get remove -y -qq vsw >'$work/remove.log' 2>&1 || { tail -20 '$work/remove.log'; false; }"
check "removed: vswd.service stopped, no vswd, vswctl or unit; the config stays" \
	bash -c "[ '$(inside systemctl is-active vswd.service)' != active ] && inside sh -c '[ ! -e /usr/sbin/vswd ] && \
	[ ! -e /usr/sbin/vswctl ] && [ ! -e /lib/systemd/system/vswd.service ] && [ -e /etc/vsw/vswd.json ]'"
check "apt-get purge vsw" bash -c "inside timeout 120 apt-get purge -y -qq vsw >'$work/purge.log' 2>&1 || { tail -20 '$work/purge.log'; false; }"
check "purged: /etc/vsw, /var/lib/vsw and the enable link are gone" \
	inside sh -c '[ ! -e /etc/vsw ] && [ ! -e /var/lib/vsw ] && \
	[ ! -e /etc/systemd/system/multi-user.target.wants/vswd.service ]'

# --- 6. power off ---
inside systemctl poweroff --no-block
for _ in $(seq 300); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$nspawn" 2>/dev/null; then
	fail "systemctl poweroff: systemd-nspawn still runs after 60 s"
else
	wait "$nspawn"
	rc=$?
	nspawn=
	check "systemctl poweroff: systemd-nspawn exits 0 (it exited $rc)" test "$rc" -eq 0
fi
finish
