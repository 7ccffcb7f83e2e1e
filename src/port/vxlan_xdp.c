/* vxlan_xdp.c - the vxlan port's AF_XDP receive path: the XDP program that picks the port's datagrams out of the underlay, its map, and the sockets on the interface's queues. */
#include "port/vxlan_xdp.h"

#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>

/*
 * The program is a few dozen instructions, assembled here rather than
 * compiled from C: the port's address and UDP port are immediates in it,
 * and the build needs no BPF compiler.  A jump names a label; labels are
 * resolved when the program is done.
 */
enum { R0, R1, R2, R3, R4, R5, R6 };
enum { L_PASS, L_TAKE, L__COUNT };
#define PROG_MAX 64

struct prog {
	struct bpf_insn insn[PROG_MAX];
	int label_at[L__COUNT];
	int jump_to[PROG_MAX];	/* a jump's label, -1: none */
	unsigned n;
	bool full;
};

static void emit(struct prog *p, struct bpf_insn i, int label)
{
	if (p->n == PROG_MAX) {
		p->full = true;
		return;
	}
	p->jump_to[p->n] = label;
	p->insn[p->n++] = i;
}

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst & 0xf, .src_reg = src & 0xf, .off = off, .imm = imm };
}

/* dst = *(size *)(src + off) */
static void ldx(struct prog *p, uint8_t size, uint8_t dst, uint8_t src, int16_t off)
{
	emit(p, insn(BPF_LDX | size | BPF_MEM, dst, src, off, 0), -1);
}

/* if (u32)reg != imm goto label: the loaded bytes compared as the CPU loads them (see imm_of()) */
static void jne32(struct prog *p, uint8_t reg, uint32_t imm, int label)
{
	emit(p, insn(BPF_JMP32 | BPF_JNE | BPF_K, reg, 0, 0, (int32_t)imm), label);
}

/* What a load of @n bytes (1, 2 or 4) of @bytes, as they are in a frame, gives in a register: the immediate to compare. */
static uint32_t imm_of(const uint8_t *bytes, unsigned n)
{
	uint32_t v32 = 0;
	uint16_t v16 = 0;

	if (n == 4) {
		memcpy(&v32, bytes, 4);
		return v32;
	}
	if (n == 2) {
		memcpy(&v16, bytes, 2);
		return v16;
	}
	return bytes[0];
}

/* if the frame is shorter than @len bytes (r2 its start, r3 its end) goto PASS */
static void need(struct prog *p, int32_t len)
{
	emit(p, insn(BPF_ALU64 | BPF_MOV | BPF_X, R4, R2, 0, 0), -1);
	emit(p, insn(BPF_ALU64 | BPF_ADD | BPF_K, R4, 0, 0, len), -1);
	emit(p, insn(BPF_JMP | BPF_JGT | BPF_X, R4, R3, 0, 0), L_PASS);
}

int vxlan_xdp_prog_load(int map_fd, const uint8_t mac[6], bool ipv6, const uint8_t *local, uint16_t dstport,
			unsigned data_max, char *log, size_t loglen)
{
	const uint8_t type[2] = { ipv6 ? 0x86 : 0x08, ipv6 ? 0xdd : 0x00 };
	const uint8_t port[2] = { (uint8_t)(dstport >> 8), (uint8_t)dstport };
	const uint8_t frag[2] = { 0x3f, 0xff };	/* IPv4 MF and fragment offset */
	const unsigned l4 = ipv6 ? 14 + 40 : 14 + 20;
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = (uint32_t)loglen, .log_level = log ? 1 : 0);
	struct prog p = { .n = 0 };
	int fd;

	/* r6 = ctx; r2 = data; r3 = data_end */
	emit(&p, insn(BPF_ALU64 | BPF_MOV | BPF_X, R6, R1, 0, 0), -1);
	ldx(&p, BPF_W, R2, R1, offsetof(struct xdp_md, data));
	ldx(&p, BPF_W, R3, R1, offsetof(struct xdp_md, data_end));
	need(&p, (int32_t)(l4 + 8));
	/* longer than a UMEM frame's room: the kernel's (r4 = data + max + 1 <= data_end) */
	emit(&p, insn(BPF_ALU64 | BPF_MOV | BPF_X, R4, R2, 0, 0), -1);
	emit(&p, insn(BPF_ALU64 | BPF_ADD | BPF_K, R4, 0, 0, (int32_t)data_max + 1), -1);
	emit(&p, insn(BPF_JMP | BPF_JLE | BPF_X, R4, R3, 0, 0), L_PASS);
	/* to the interface's own MAC: a frame for another host (a promiscuous interface) is the kernel's to drop */
	ldx(&p, BPF_W, R5, R2, 0);
	jne32(&p, R5, imm_of(mac, 4), L_PASS);
	ldx(&p, BPF_H, R5, R2, 4);
	jne32(&p, R5, imm_of(mac + 4, 2), L_PASS);
	ldx(&p, BPF_H, R5, R2, 12);
	jne32(&p, R5, imm_of(type, 2), L_PASS);
	if (!ipv6) {
		const uint8_t vihl = 0x45, udp = 17;

		ldx(&p, BPF_B, R5, R2, 14);
		jne32(&p, R5, vihl, L_PASS);
		ldx(&p, BPF_H, R5, R2, 14 + 6);
		emit(&p, insn(BPF_ALU | BPF_AND | BPF_K, R5, 0, 0, (int32_t)imm_of(frag, 2)), -1);
		jne32(&p, R5, 0, L_PASS);
		ldx(&p, BPF_B, R5, R2, 14 + 9);
		jne32(&p, R5, udp, L_PASS);
		ldx(&p, BPF_W, R5, R2, 14 + 16);
		jne32(&p, R5, imm_of(local, 4), L_PASS);
	} else {
		ldx(&p, BPF_B, R5, R2, 14);
		emit(&p, insn(BPF_ALU | BPF_AND | BPF_K, R5, 0, 0, 0xf0), -1);
		jne32(&p, R5, 0x60, L_PASS);
		ldx(&p, BPF_B, R5, R2, 14 + 6);
		jne32(&p, R5, 17, L_PASS);
		for (int w = 0; w < 4; w++) {
			ldx(&p, BPF_W, R5, R2, (int16_t)(14 + 24 + 4 * w));
			jne32(&p, R5, imm_of(local + 4 * w, 4), L_PASS);
		}
	}
	ldx(&p, BPF_H, R5, R2, (int16_t)(l4 + 2));
	jne32(&p, R5, imm_of(port, 2), L_PASS);
	/* TAKE: return bpf_redirect_map(map, ctx->rx_queue_index, XDP_PASS) */
	p.label_at[L_TAKE] = (int)p.n;
	ldx(&p, BPF_W, R2, R6, offsetof(struct xdp_md, rx_queue_index));
	emit(&p, insn(BPF_LD | BPF_DW | BPF_IMM, R1, BPF_PSEUDO_MAP_FD, 0, map_fd), -1);
	emit(&p, insn(0, 0, 0, 0, 0), -1);
	emit(&p, insn(BPF_ALU64 | BPF_MOV | BPF_K, R3, 0, 0, XDP_PASS), -1);
	emit(&p, insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect_map), -1);
	emit(&p, insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0), -1);
	/* PASS: return XDP_PASS */
	p.label_at[L_PASS] = (int)p.n;
	emit(&p, insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, XDP_PASS), -1);
	emit(&p, insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0), -1);
	if (p.full)
		return -E2BIG;
	for (unsigned i = 0; i < p.n; i++)
		if (p.jump_to[i] >= 0)
			p.insn[i].off = (int16_t)(p.label_at[p.jump_to[i]] - (int)i - 1);
	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "vsw_vxlan_rx", "GPL", p.insn, p.n, &opts);
	return fd < 0 ? -errno : fd;
}

/* The MAC address of interface @ifname into @mac, through @ioctl_fd (a datagram socket).  0 or -errno. */
static int if_mac(int ioctl_fd, const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl_fd < 0 || ioctl(ioctl_fd, SIOCGIFHWADDR, &ifr) < 0)
		return -errno;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return -EPFNOSUPPORT;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

/* Socket @qi on queue @qi: its UMEM, the socket, the fill ring full.  0 or -errno. */
static int queue_open(struct vxlan_xdp *x, unsigned qi)
{
	struct vxlan_xdp_queue *q = &x->q[qi];
	const size_t bytes = (size_t)VXLAN_XDP_RING * VXLAN_XDP_FRAME;
	struct afxdp_sock_config c = {
		.umem_bytes = bytes,
		.frame_bytes = VXLAN_XDP_FRAME,
		.rx_entries = VXLAN_XDP_RING,
		.tx_entries = 64,	/* unused: the kernel wants the rings */
		.ifindex = x->ifindex,
		.qid = qi,
		.bind_flags = XDP_COPY,
	};
	uint32_t idx;
	int rc;

	q->umem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (q->umem == MAP_FAILED) {
		q->umem = NULL;
		return -ENOMEM;
	}
	c.umem = q->umem;
	rc = afxdp_sock_open_busy(&q->sock, &c, &q->fill, &q->comp, &q->rx, &q->tx);
	if (rc < 0) {
		munmap(q->umem, bytes);
		q->umem = NULL;
		return rc;
	}
	if (xsk_ring_prod__reserve(&q->fill, VXLAN_XDP_RING, &idx) != VXLAN_XDP_RING)
		return -ENOSPC;
	for (unsigned i = 0; i < VXLAN_XDP_RING; i++)
		*xsk_ring_prod__fill_addr(&q->fill, idx + i) = (uint64_t)i * VXLAN_XDP_FRAME;
	xsk_ring_prod__submit(&q->fill, VXLAN_XDP_RING);
	return 0;
}

int vxlan_xdp_open(struct vxlan_xdp *x, const char *ifname, bool ipv6, const uint8_t *local, uint16_t dstport,
		   char *err, size_t errlen)
{
	unsigned queues;
	uint8_t mac[6];
	int rc = -EINVAL, ioctl_fd;

	memset(x, 0, sizeof(*x));
	x->map_fd = x->prog_fd = x->link_fd = -1;
	for (unsigned i = 0; i < VXLAN_XDP_QUEUES; i++)
		x->q[i].sock.fd = -1;
	if (!ifname || strlen(ifname) >= sizeof(x->ifname) || !(x->ifindex = if_nametoindex(ifname))) {
		snprintf(err, errlen, "xdp=%s: no such interface", ifname ? ifname : "");
		return -1;
	}
	snprintf(x->ifname, sizeof(x->ifname), "%s", ifname);
	ioctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	rc = ioctl_fd < 0 ? -errno : if_mac(ioctl_fd, ifname, mac);
	/* The queues it has (1 when it does not say: queue 0 at least). */
	queues = rc < 0 ? 0 : afxdp_if_rx_queues(ioctl_fd, ifname, x->ifindex);
	if (ioctl_fd >= 0)
		close(ioctl_fd);
	if (rc < 0) {
		snprintf(err, errlen, "xdp=%s: not an Ethernet interface (%s)", ifname, strerror(-rc));
		goto fail;
	}
	x->nq = !queues ? 1 : queues < VXLAN_XDP_QUEUES ? queues : VXLAN_XDP_QUEUES;
	x->map_fd = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "vsw_vx_xsks", 4, 4, VXLAN_XDP_QUEUES, NULL);
	if (x->map_fd < 0) {
		snprintf(err, errlen, "xdp=%s: XSKMAP: %s (needs CAP_BPF and a kernel with AF_XDP)", ifname, strerror(errno));
		goto fail;
	}
	x->prog_fd = vxlan_xdp_prog_load(x->map_fd, mac, ipv6, local, dstport, VXLAN_XDP_DATA_MAX, NULL, 0);
	if (x->prog_fd < 0) {
		snprintf(err, errlen, "xdp=%s: loading the XDP program: %s", ifname, strerror(-x->prog_fd));
		goto fail;
	}
	/*
	 * The driver's hook only: it runs before GRO.  The generic one runs
	 * after, when the kernel may have merged the port's datagrams into one
	 * packet (UDP GRO for its socket, or fraglist GRO), lengths rewritten
	 * and the checksum left partial: not a datagram off the wire.
	 */
	{
		LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_DRV_MODE);

		x->link_fd = bpf_link_create(x->prog_fd, (int)x->ifindex, BPF_XDP, &lo);
		rc = -errno;
	}
	if (x->link_fd < 0) {
		snprintf(err, errlen, "xdp=%s: attaching the XDP program in the driver's hook: %s%s", ifname, strerror(-rc),
			 rc == -EBUSY ? " (the interface has an XDP program already)"
			 : rc == -EOPNOTSUPP ? " (its driver has no XDP hook)"
			 : rc == -EINVAL ? " (a kernel before 5.9 attaches no XDP program by link; or the MTU is over what "
					   "the driver takes with XDP)" : "");
		goto fail;
	}
	for (unsigned i = 0; i < x->nq; i++) {
		int fd;

		rc = queue_open(x, i);
		if (rc == -EINVAL && i > 0) {
			/* Fewer queues than the driver said (a veth before 5.15 counts its queues twice): those are the kernel's. */
			x->nq = i;
			break;
		}
		if (rc < 0) {
			snprintf(err, errlen, "xdp=%s: AF_XDP socket on queue %u: %s", ifname, i, strerror(-rc));
			goto fail;
		}
		fd = x->q[i].sock.fd;
		if (bpf_map_update_elem(x->map_fd, &(uint32_t){ i }, &fd, 0) < 0) {
			snprintf(err, errlen, "xdp=%s: XSKMAP entry %u: %s", ifname, i, strerror(errno));
			goto fail;
		}
	}
	return 0;
fail:
	vxlan_xdp_close(x);
	return -1;
}

void vxlan_xdp_close(struct vxlan_xdp *x)
{
	/* The program first: the kernel passes the frames again before the sockets go. */
	if (x->link_fd >= 0)
		close(x->link_fd);
	for (unsigned i = 0; i < VXLAN_XDP_QUEUES; i++) {
		afxdp_sock_close(&x->q[i].sock);
		if (x->q[i].umem)
			munmap(x->q[i].umem, (size_t)VXLAN_XDP_RING * VXLAN_XDP_FRAME);
		x->q[i].umem = NULL;
	}
	if (x->prog_fd >= 0)
		close(x->prog_fd);
	if (x->map_fd >= 0)
		close(x->map_fd);
	x->link_fd = x->prog_fd = x->map_fd = -1;
	x->nq = 0;
}

unsigned vxlan_xdp_rx(struct vxlan_xdp *x, struct vxlan_xdp_frame *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned k = 0; k < x->nq && n < max; k++) {
		unsigned qi = (x->next_q + k) % x->nq;
		struct vxlan_xdp_queue *q = &x->q[qi];
		uint32_t idx;
		unsigned got = xsk_ring_cons__peek(&q->rx, max - n, &idx);

		for (unsigned i = 0; i < got; i++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->rx, idx + i);

			/* The kernel's descriptor: inside our UMEM, as every address we gave it (else left out). */
			if (d->addr >= (uint64_t)VXLAN_XDP_RING * VXLAN_XDP_FRAME ||
			    (d->addr % VXLAN_XDP_FRAME) + d->len > VXLAN_XDP_FRAME)
				continue;
			out[n++] = (struct vxlan_xdp_frame){ .data = q->umem + d->addr, .len = d->len, .q = (uint16_t)qi,
							     .addr = d->addr };
		}
		if (got)
			xsk_ring_cons__release(&q->rx, got);
	}
	x->next_q = x->nq ? (x->next_q + 1) % x->nq : 0;
	return n;
}

void vxlan_xdp_recycle(struct vxlan_xdp *x, const struct vxlan_xdp_frame *fr, unsigned n)
{
	for (unsigned i = 0, run; i < n; i += run) {
		struct vxlan_xdp_queue *q = &x->q[fr[i].q];
		uint32_t idx;

		for (run = 1; i + run < n && fr[i + run].q == fr[i].q; run++)
			;
		/* Room always: the ring holds every frame of the UMEM, and these were out of it. */
		if (xsk_ring_prod__reserve(&q->fill, run, &idx) != run)
			continue;
		for (unsigned k = 0; k < run; k++)
			*xsk_ring_prod__fill_addr(&q->fill, idx + k) = fr[i + k].addr - fr[i + k].addr % VXLAN_XDP_FRAME;
		xsk_ring_prod__submit(&q->fill, run);
	}
}
