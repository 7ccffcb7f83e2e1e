#!/usr/bin/env bash
# build-guest.sh - build the test guest (Debian cloud kernel + busybox initramfs) for vhost-user tests.
#
#   scripts/guest/build-guest.sh [OUTDIR]        (default: build/guest)
#
# Produces, in OUTDIR:
#   vmlinuz            the kernel of the linux-image-*-cloud-amd64 package that
#                      linux-image-cloud-amd64 currently depends on
#   initramfs.cpio.gz  busybox-static, the virtio-net modules, iperf3 with its
#                      shared libraries, and /init (scripts/guest/init)
#   kernel.version     the package name, so a rebuild can tell what it holds
#
# Idempotent: missing Debian packages are installed with apt-get, the kernel
# package is downloaded and extracted only when OUTDIR does not hold it yet,
# and the initramfs is rebuilt only when an input is newer than it.  Set
# VSW_GUEST_KERNEL_PKG to pin a kernel package instead of resolving it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-build/guest}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Modules virtio-net needs; the load order is worked out from their depends=.
MODULES=(virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
	 failover net_failover virtio_net)

log() { echo "build-guest: $*"; }
. "$here/../progress.sh"
progress_begin build-guest 3

# --- 1. host packages -------------------------------------------------------
progress_step "host packages (qemu, busybox, iperf3...)"
PKGS=(qemu-system-x86 busybox-static cpio iperf3 xz-utils zstd gzip)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	progress_run "apt-get update" apt-get update -qq
	progress_run "apt-get install" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- 2. kernel package ------------------------------------------------------
progress_step "the guest kernel (Debian's cloud kernel package)"
kpkg=${VSW_GUEST_KERNEL_PKG:-}
if [ -z "$kpkg" ]; then
	resolve() { apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		    sed -nE 's/^ *Depends: (linux-image-[^ ]*-cloud-amd64)$/\1/p' | head -1; }
	kpkg=$(resolve)
	if [ -z "$kpkg" ]; then
		apt-get update -qq
		kpkg=$(resolve)
	fi
	# Offline fallback: keep using whatever kernel OUTDIR already holds.
	if [ -z "$kpkg" ] && [ -s "$out/kernel.version" ]; then
		kpkg=$(cat "$out/kernel.version")
	fi
fi
[ -n "$kpkg" ] || { log "cannot resolve the cloud kernel package"; exit 1; }

kroot=$out/kernel-root
if [ "$(cat "$out/kernel.version" 2>/dev/null)" != "$kpkg" ] || [ ! -s "$out/vmlinuz" ] ||
   [ ! -d "$kroot/lib/modules" ]; then
	dl=$(mktemp -d "$out/dl.XXXXXX")
	# apt-get download writes into the current directory (and warns that it
	# downloads as root when _apt cannot write there: harmless).
	# A stale package list may name a file the mirror dropped: update, retry once.
	download() { (cd "$dl" && apt-get download -q "$kpkg") ||
		     { apt-get update -qq && (cd "$dl" && apt-get download -q "$kpkg"); }; }
	if ! progress_run "downloading $kpkg" download; then
		log "apt-get download $kpkg failed"
		rm -rf "$dl"
		exit 1
	fi
	debs=("$dl"/*.deb)
	deb=${debs[0]}
	[ -f "$deb" ] || { log "apt-get download $kpkg left no .deb"; rm -rf "$dl"; exit 1; }
	rm -rf "$kroot"
	dpkg-deb -x "$deb" "$kroot"
	rm -rf "$dl"
	cp "$kroot"/boot/vmlinuz-* "$out/vmlinuz"
	echo "$kpkg" >"$out/kernel.version"
	rm -f "$out/initramfs.cpio.gz"		# modules changed: rebuild
else
	log "kernel $kpkg already in $out"
fi

# --- 3. initramfs -----------------------------------------------------------
initrd=$out/initramfs.cpio.gz
if [ -s "$initrd" ] && [ "$initrd" -nt "$here/init" ] && [ "$initrd" -nt "$0" ] &&
   [ "$initrd" -nt /usr/bin/iperf3 ] && [ "$initrd" -nt /bin/busybox ]; then
	progress_step "initramfs up to date: $initrd"
	progress_end
	exit 0
fi

progress_step "building $initrd"
stage=$(mktemp -d "$out/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,etc,proc,sys,dev,tmp,run,root,lib/modules,usr/bin,usr/sbin}

# busybox and one symlink per applet
cp /bin/busybox "$stage/bin/busybox"
for a in $("$stage/bin/busybox" --list); do
	[ "$a" = busybox ] || ln -sf busybox "$stage/bin/$a"
done

# modules, decompressed (busybox insmod takes plain .ko files only), in an
# order where each comes after the modules its .modinfo "depends=" names
mdirs=("$kroot"/lib/modules/*/kernel)
mdir=${mdirs[0]}
[ -d "$mdir" ] || { log "no lib/modules/*/kernel in $kroot"; exit 1; }
order=()
add_module() {		# name depth
	local m=$1 depth=$2 f d
	[ "$depth" -lt 16 ] || { log "module dependency loop at $m"; exit 1; }
	case " ${order[*]} " in *" $m "*) return 0 ;; esac
	f=$(find "$mdir" \( -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" \) | head -1)
	[ -n "$f" ] || { log "module $m not found under $mdir"; exit 1; }
	case "$f" in
	*.ko.xz)  xz -dc "$f" >"$stage/lib/modules/$m.ko" ;;
	*.ko.zst) zstd -qdc "$f" >"$stage/lib/modules/$m.ko" ;;
	*.ko.gz)  gzip -dc "$f" >"$stage/lib/modules/$m.ko" ;;
	*)        cp "$f" "$stage/lib/modules/$m.ko" ;;
	esac
	for d in $(tr '\0' '\n' <"$stage/lib/modules/$m.ko" | sed -n 's/^depends=//p' | head -1 | tr ',' ' '); do
		add_module "${d//-/_}" $((depth + 1))
	done
	order+=("$m")
}
for m in "${MODULES[@]}"; do
	add_module "$m" 0
done
printf '%s\n' "${order[@]}" >"$stage/lib/modules/order"
log "modules: ${order[*]}"

# iperf3, every library ldd lists and the dynamic loader, at their own paths
copy_with_libs() {	# binary
	local bin=$1 lib
	install -D "$bin" "$stage$bin"
	for lib in $(ldd "$bin" | grep -oE '/[^ ]+'); do
		install -D "$(readlink -f "$lib")" "$stage$lib"
	done
}
copy_with_libs /usr/bin/iperf3
ln -sf ../usr/bin/iperf3 "$stage/bin/iperf3"

# a few files the C library and iperf3 look for
echo 'root:x:0:0:root:/root:/bin/sh' >"$stage/etc/passwd"
echo 'root:x:0:' >"$stage/etc/group"
printf '127.0.0.1\tlocalhost\n' >"$stage/etc/hosts"

install -m 0755 "$here/init" "$stage/init"

(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --quiet --owner=0:0) | gzip -6 >"$initrd.tmp"
mv "$initrd.tmp" "$initrd"
log "done: $out/vmlinuz $initrd ($(du -h "$initrd" | cut -f1))"
progress_end
