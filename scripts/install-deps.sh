#!/usr/bin/env bash
# install-deps.sh - install the Debian packages vsw builds and tests with; idempotent.
set -euo pipefail

PKGS=(
	make gcc clang llvm libclang-rt-14-dev	# compilers, sanitizers, libFuzzer
	pkg-config libcmocka-dev		# unit-test framework
	libjson-c-dev				# control protocol and config files
	libpcap-dev libxdp-dev libbpf-dev	# capture and pcap ports, AF_XDP ports
	python3					# seed corpus generator
	iproute2				# ip(8): the veth pairs of the AF_XDP and AF_PACKET unit tests
)

# Scenario tests against real peers need more (QEMU guests, DPDK, iperf3).
if [ "${1:-}" = --scenarios ]; then
	PKGS+=(qemu-system-x86 busybox-static cpio zstd xz-utils iperf3 python3
	       dpdk-dev librte-net-virtio23 librte-net-vhost23 librte-net-tap23 librte-mempool-ring23
	       tcpdump tshark xdp-tools ethtool)
fi

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
