#!/usr/bin/env bash
# fresh-check.sh - run the test suite in a brand-new Debian 12 root, as a new user's machine would.
#
#   scripts/fresh-check.sh [--keep] [--refresh] [-- COMMAND ...]
#
# A warm machine hides missing install steps: a package an earlier session
# installed by hand, a hugetlbfs someone mounted.  This script gives the
# tests a userland that has seen nothing:
#
#   1. A Debian 12 (bookworm) root made by mmdebstrap, variant minbase
#      (essential and required packages, apt) plus make, the one tool the
#      README asks a new user to have.  The tarball is cached in
#      $VSW_FRESH_CACHE (default /var/cache/vsw-fresh) and rebuilt when it
#      is older than $VSW_FRESH_MAX_AGE_DAYS (default 7) or with --refresh.
#   2. The repository's HEAD (committed work only) is cloned into /root/vsw
#      of a new copy of that root.
#   3. The root is entered in a private mount and PID namespace with its
#      own /proc, /sys, /dev (a tmpfs with the few device nodes a machine
#      has: no hugetlbfs, no devpts of the host), /tmp and /run, as root.
#      The host's kernel is shared (network namespaces, tun, veth, XDP,
#      hugepages); the userland is new.  When the command ends, every
#      process it left is killed with the PID namespace and every mount
#      vanishes with the mount namespace.
#   4. COMMAND runs in /root/vsw; the default is the README's test command,
#      `make check`.  Its output and exit status are this script's.
#
# Downloaded .deb files are kept in $VSW_FRESH_CACHE/apt-archives between
# runs (a download cache only: every package is still installed anew).
# --keep leaves the root in place for a look afterwards.  Needs root.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${VSW_FRESH_CACHE:-/var/cache/vsw-fresh}
max_age_days=${VSW_FRESH_MAX_AGE_DAYS:-7}
mirror=${VSW_FRESH_MIRROR:-http://deb.debian.org}
keep=0
refresh=0
cmd=(make check)

usage() { sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	--keep) keep=1 ;;
	--refresh) refresh=1 ;;
	--) shift; [ $# -gt 0 ] && cmd=("$@"); break ;;
	-h|--help) usage ;;
	*) echo "fresh-check: unknown argument '$1'" >&2; usage ;;
	esac
	shift
done

log() { echo "fresh-check: $*"; }
die() { echo "fresh-check: $*" >&2; exit 1; }
. "$here/scripts/progress.sh"
progress_begin fresh-check 3

[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, chroot, mounts)"
for tool in mmdebstrap unshare chroot git; do
	if ! command -v "$tool" >/dev/null; then
		log "installing mmdebstrap on the host (needed to build the root)"
		export DEBIAN_FRONTEND=noninteractive
		progress_run "apt-get update" apt-get update -qq
		progress_run "apt-get install mmdebstrap" apt-get install -y -qq --no-install-recommends mmdebstrap git util-linux
		break
	fi
done

# --- 1. the cached root tarball ----------------------------------------------
progress_step "the Debian 12 root (a cached tarball, or a bootstrap of a few minutes)"
mkdir -p "$cache/apt-archives/partial"
tarball=$cache/bookworm-minbase.tar
if [ $refresh -eq 1 ] || [ ! -s "$tarball" ] ||
   [ -n "$(find "$tarball" -mtime +"$max_age_days" 2>/dev/null)" ]; then
	log "bootstrapping Debian 12 (mmdebstrap, minbase + make) into $tarball"
	progress_run "mmdebstrap bookworm" \
		mmdebstrap --quiet --mode=root --format=tar --variant=minbase --include=make bookworm "$tarball.tmp" \
		"deb $mirror/debian bookworm main" \
		"deb $mirror/debian bookworm-updates main" \
		"deb $mirror/debian-security bookworm-security main"
	mv "$tarball.tmp" "$tarball"
else
	log "using the cached root $tarball ($(date -r "$tarball" '+%F %R'))"
fi

# --- 2. a new root with a clone of HEAD --------------------------------------
progress_step "a new root with a clone of HEAD"
root=$(mktemp -d "${VSW_FRESH_DIR:-/var/tmp}/vsw-fresh.XXXXXX")
head=$(git -C "$here" rev-parse HEAD)

mounted_under_root() { awk -v r="$root" '$2 == r || index($2, r "/") == 1' /proc/self/mounts; }
cleanup() {
	local rc=$?
	if [ $keep -eq 1 ]; then
		log "root kept at $root"
	elif [ -n "$(mounted_under_root)" ]; then
		log "something is still mounted under $root: not removing it"
		mounted_under_root >&2
	else
		rm -rf --one-file-system "$root"
	fi
	exit $rc
}
trap cleanup EXIT

tar -xf "$tarball" -C "$root"
git clone -q --no-hardlinks "$here" "$root/root/vsw"
git -C "$root/root/vsw" checkout -q "$head"
cp /etc/resolv.conf "$root/etc/resolv.conf"
log "root $root, HEAD $(git -C "$here" log -1 --format='%h %s' "$head")"

# Device nodes a machine has, copied (type, major, minor, mode) from the host.
DEVICES="null zero full random urandom tty net/tun"

# --- 3. enter it: private mounts and PIDs ------------------------------------
# The inner shell is PID 1 of the new PID namespace: its own /proc shows only
# the suite's processes, and they all end with it.  Mounts are made on the
# root's paths inside the new mount namespace, so the host never sees them.
hugepages_before=$(cat /proc/sys/vm/nr_hugepages)
progress_step "running: ${cmd[*]} (its own lines follow; make check: an hour or more)"
start=$SECONDS
set +e
VSW_APT_CACHE="$cache/apt-archives" unshare --mount --pid --fork --propagation private -- bash -euo pipefail -c '
	root=$1; shift
	devices=$1; shift
	# The root must be a mount point: `ip netns exec` makes "/" a slave mount.
	mount --bind "$root" "$root"
	mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
	mount -t sysfs -o nosuid,nodev,noexec sysfs "$root/sys"
	mount -t tmpfs -o mode=0755,nosuid,size=64k dev "$root/dev"
	for d in $devices; do
		[ -e "/dev/$d" ] || continue
		mkdir -p "$root/dev/$(dirname "$d")"
		t=$(stat -c %F "/dev/$d")
		case $t in "character special file") t=c ;; "block special file") t=b ;; *) continue ;; esac
		mknod -m "$(stat -c %a "/dev/$d")" "$root/dev/$d" $t \
			"$((0x$(stat -c %t "/dev/$d")))" "$((0x$(stat -c %T "/dev/$d")))"
	done
	ln -s /proc/self/fd "$root/dev/fd"
	ln -s /proc/self/fd/0 "$root/dev/stdin"
	ln -s /proc/self/fd/1 "$root/dev/stdout"
	ln -s /proc/self/fd/2 "$root/dev/stderr"
	mkdir -p "$root/dev/pts" "$root/dev/shm"
	mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts"
	ln -s pts/ptmx "$root/dev/ptmx"
	mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
	mount -t tmpfs -o mode=1777,nosuid,nodev,size=8g tmp "$root/tmp"
	mount -t tmpfs -o mode=0755,nosuid,nodev run "$root/run"
	mkdir -p "$root/run/lock"
	mount --bind "$VSW_APT_CACHE" "$root/var/cache/apt/archives"
	exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" CI="${CI:-}" \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		bash -c "cd /root/vsw && exec \"\$@\"" inner "$@"
' fresh-root "$root" "$DEVICES" "${cmd[@]}" </dev/null
rc=$?
set -e
log "command exited $rc after $((SECONDS - start)) s"
progress_end

# Kernel state is shared: whatever the suite reserved must have been put back.
hugepages_after=$(cat /proc/sys/vm/nr_hugepages)
if [ "$hugepages_after" != "$hugepages_before" ]; then
	log "vm.nr_hugepages is $hugepages_after after the run, $hugepages_before before: a test did not put it back"
	echo "$hugepages_before" >/proc/sys/vm/nr_hugepages
	[ $rc -ne 0 ] || rc=1
fi
exit $rc
