#!/usr/bin/env bash
# install-deps.sh - install the Debian packages vsw builds, tests and benchmarks with; idempotent.
#
#   scripts/install-deps.sh [--scenarios] [--bench] [--perf]
#
# One list per purpose; with no option, what `make` and the unit tests need.
# Every program a test, scenario or benchmark runs is in one of these lists:
# a new Debian 12 root (scripts/fresh-check.sh) has none of them.
set -euo pipefail

# Build (gcc and clang, warnings as errors), sanitizers, libFuzzer, and the
# unit tests, which make veth pairs and taps in namespaces of their own.
PKGS=(
	make gcc clang llvm libclang-rt-14-dev	# compilers, sanitizers, libFuzzer
	pkg-config libcmocka-dev		# unit-test framework
	libjson-c-dev				# control protocol and config files
	libsystemd-dev				# vswd: sd_notify (Type=notify service)
	libpcap-dev libxdp-dev libbpf-dev	# capture and pcap ports, AF_XDP ports
	python3					# seed corpus generators, test runners
	iproute2				# ip: veth pairs for the afxdp/afpacket unit tests
	ethtool					# test_vxlan_xdp: a veth's tx checksum offload off
	mandoc					# the manual pages' lint (scripts/check-man.py)
)

# Scenario tests against real peers: QEMU guests (scripts/guest builds their
# image), DPDK testpmd, containers in network namespaces, capture checks.
SCENARIO_PKGS=(
	qemu-system-x86 busybox-static cpio zstd xz-utils gzip	# guests and their initramfs
	iperf3 ethtool iproute2 xdp-tools			# containers (veth, offload settings)
	tcpdump tshark						# capture files read by real readers
	python3-prometheus-client prometheus-node-exporter	# stats --openmetrics read by a real parser and node_exporter
	dpdk-dev librte-net-virtio23 librte-net-vhost23 librte-net-tap23 librte-mempool-ring23
	procps							# sysctl
	systemd bash-completion					# scenario/install: systemd-analyze verify of vswd.service, the completion
	libvirt-daemon-system libvirt-clients util-linux	# scenario/libvirt: guests defined with virsh, its own namespace (unshare)
	openvswitch-common					# scenario/flows_ovs: ovs-ofctl parse-flow, the reference flow parser
	openvswitch-switch					# scenario/flows_learn, vxlan_ovs: ovs-vswitchd (userspace datapath), the reference learn and VTEP
)

# Benchmarks (make bench, and the smoke runs of them in make check): DPDK
# io-forwarding and OVS-DPDK next to vswd.
BENCH_PKGS=(
	dpdk-dev librte-net-vhost23 librte-net-virtio23 librte-net-tap23 librte-mempool-ring23	# dpdk-dev has dpdk-testpmd (dpdk: scripts only)
	openvswitch-switch-dpdk iproute2 procps util-linux coreutils iperf3 ethtool busybox-static
)
PERF_PKGS=(linux-perf)

want=("${PKGS[@]}")
for arg in "$@"; do
	case $arg in
	--scenarios) want+=("${SCENARIO_PKGS[@]}") ;;
	--bench) want+=("${BENCH_PKGS[@]}") ;;
	--perf) want+=("${PERF_PKGS[@]}") ;;
	*) echo "install-deps: unknown option $arg (--scenarios, --bench, --perf)" >&2; exit 2 ;;
	esac
done

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)

echo "install-deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
