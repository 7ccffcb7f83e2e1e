/* port_afxdp.c - AF_XDP port: the receive queues of an existing interface (a container's veth) as a switch port. */
#include "port/port_afxdp.h"

#include <assert.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "lib/log.h"
#include "packet/csum.h"
#include "packet/gso.h"
#include "port/afxdp_sock.h"
#include "port/port_types.h"

/*
 * The port owns one AF_XDP socket per receive queue it serves: by default
 * every rx queue of the interface (a veth made with numrxqueues 4 has
 * four, and the kernel steers each frame to one of them by its sender's
 * tx queue), with queue=N only that one.  The kernel hands a socket only
 * the frames of the queue it is bound to, so a port with fewer sockets
 * than the interface has queues would miss the others' frames.
 *
 *   interface rx queue 0 ---XDP: xsks_map[0]---> socket q[0] (UMEM 0) --> rx queue 0 of the port
 *   interface rx queue 1 ---XDP: xsks_map[1]---> socket q[1] (UMEM 1) --> rx queue 1 of the port
 *   ...                                                                   (each polled by one worker)
 *   tx_burst of worker w ---------------------> socket q[w % nq] --> interface tx queue q[w % nq]
 *
 * Each socket has a UMEM of its own: one anonymous mapping that the kernel
 * pins and the socket's four rings point into.  A queue's frames are split
 * once, at creation, between the two directions, so the receive and
 * transmit sides never share a free list:
 *
 *   UMEM   frame 0 ............. rx_n - 1 | rx_n ............. rx_n + tx_n - 1
 *          receive side                   | transmit side
 *          fill ring -> kernel writes a frame | free stack -> tx_burst copies a frame
 *          -> rx ring -> rx_burst: pkt views  | -> tx ring -> sendto() kick: kernel sends
 *          -> rx_done -> fill ring            | -> completion ring -> free stack
 *
 * Transmit side (tx_n, and the tx and completion rings): AFX_TX_PORT_FRAMES
 * (8 MiB) split between the queues, at least AFX_TX_QUEUE_FRAMES_MIN each:
 * 2048 frames for one queue, 1024 for two, 512 for four or more.  A kick
 * sends what it placed right away (copy mode), so these rarely fill up.
 *
 * Receive side (rx_n, and the fill and rx rings): rx_frames=N per queue,
 * by default AFX_RX_PORT_FRAMES (32 MiB) split between the queues, at
 * least AFX_RX_QUEUE_FRAMES_MIN each: 8192 frames for one queue, 4096 for
 * two, 2048 for four, 1024 for eight or more.  This side absorbs what a
 * sender puts on the wire while the worker is busy elsewhere: in copy mode
 * the kick that sends to a container's veth runs that container's whole
 * receive path (its TCP) inside the worker's sendto(), and meanwhile the
 * sender on another CPU keeps going.  When the fill ring runs empty the
 * kernel drops what arrives (describe(): "fill_empty"), and each loss halves
 * the sender's TCP window.  A sender without GSO (a veth whose peer has an
 * XDP program loses it, veth_fix_features) sends MSS-sized frames, one UMEM
 * frame each, so the receive side must hold the TCP window a container
 * keeps in flight: net.ipv4.tcp_rmem's default 6 MiB limit allows a window
 * of some 3 to 4 MiB (the kernel's payload/truesize ratio decides), 2000 to
 * 2700 frames of 1448 bytes, more than the 2048 an earlier fixed split gave
 * one queue (issue 15: with those, every segment c1 lost was a fill_empty
 * drop).
 *
 * Which queue a frame arrives on is the driver's choice (RSS hash, flow
 * rules); a veth uses the tx queue its peer sent it on, but in skb mode
 * the kernel numbers that queue one lower (queue 0 for 0 and 1): so the
 * default, every queue, is what a port normally wants.
 *
 * Receive (port rx queue i: one worker, the one that polls it):
 *   1. libxdp's default XDP program redirects what arrives on interface
 *      queue q[i]->qid to that queue's socket; the kernel copies it (copy
 *      mode) or DMAs it (zero-copy) into a frame taken from the fill ring
 *      and posts (addr, len) on the rx ring, then wakes the socket's
 *      waiters: the worker's edge-triggered epoll.
 *      The kernel writes each frame 256 bytes (XDP_PACKET_HEADROOM) into
 *      its UMEM frame, so frames up to 3840 bytes arrive; it drops longer
 *      ones (describe() shows its counters).
 *   2. rx_burst takes at most PKT_BURST descriptors, copies each (addr,
 *      len) into private memory once, releases the rx ring slots,
 *      completes TCP/UDP checksums the sender left partial (see
 *      csum_complete_guess) and hands the switch one-iovec views of the
 *      frames in place.  At most PKT_BURST (64) frames of at most 4 KiB
 *      stay within PKT_BURST_BYTES (256 KiB).
 *   3. rx_done, after the switch copied the frames out, gives every frame
 *      of the burst back to the fill ring in one submit.
 *
 * Transmit (any worker; worker w uses socket w % nq, so with no more
 * workers than queues each worker has a socket and a tx queue of its own;
 * the socket's tx_lock, taken once per burst, serializes the rest):
 *   1. Reap the completion ring onto the free stack.
 *   2. Copy each frame once from its pkt iovecs into a free frame, fill a
 *      tx descriptor; submit them all at once.  A frame with a partial
 *      checksum (the port takes GSO_TX_CSUM when every socket got tx
 *      metadata room and is in copy mode, see afxdp_sock.h) carries
 *      XDP_TXMD_FLAGS_CHECKSUM in the 24 bytes before its data: the
 *      kernel's skb leaves CHECKSUM_PARTIAL and nobody here sums it.
 *   3. Kick once: sendto(MSG_DONTWAIT).  In copy mode the kernel builds
 *      the skbs and hands them to the driver's tx queue the socket is
 *      bound to, inside that call; in zero-copy mode only when the ring
 *      asks for a wake-up.
 *   4. Reap again: in copy mode most completions are already there.
 *
 * The XDP program is libxdp's default one, attached by us through a
 * bpf_link and shared by the ports on one interface (see afx_prog_get).
 *
 * The number of queues is read once, at creation (ETHTOOL_GCHANNELS, see
 * afxdp_if_rx_queues()); the tick reads it again and describe() says when the
 * interface changed it (the port must then be added again).
 *
 * No allocation and no syscall per frame; one sendto per transmit burst
 * (more only while the device drops frames, see afx_kick) and a recvfrom
 * per receive burst only when a zero-copy driver asks for a fill-ring
 * wake-up.
 */

#define AFX_FRAME_BYTES 4096u	/* one UMEM frame (chunk): the largest frame this port moves */
#define AFX_TX_PORT_FRAMES 2048u	/* transmit frames of a port, split between its queues: 8 MiB ... */
#define AFX_TX_QUEUE_FRAMES_MIN 512u	/* ... but at least this many per queue (2 MiB) */
#define AFX_RX_PORT_FRAMES 8192u	/* receive frames of a port by default, split between its queues: 32 MiB ... */
#define AFX_RX_QUEUE_FRAMES_MIN 1024u	/* ... but at least this many per queue (4 MiB) */
#define AFX_RX_FRAMES_LO 256u		/* rx_frames= from this ... */
#define AFX_RX_FRAMES_HI 65536u		/* ... to this (256 MiB of UMEM per queue), a power of two */
#define AFX_ETH_OVERHEAD 18u	/* Ethernet header and one VLAN tag on top of the MTU */
#define AFX_QUEUES_MAX 256u	/* entries in the program's socket map: queue= is below this */
#define AFX_KERNEL_TX_BATCH 32u	/* frames one copy-mode sendto() sends at most (the kernel's TX_BATCH_SIZE) */

#define AFX_POW2(x) (((x) & ((x) - 1)) == 0)
_Static_assert(AFX_POW2(AFX_TX_PORT_FRAMES) && AFX_POW2(AFX_TX_QUEUE_FRAMES_MIN) && AFX_POW2(AFX_RX_PORT_FRAMES) &&
		       AFX_POW2(AFX_RX_QUEUE_FRAMES_MIN) && AFX_POW2(AFX_RX_FRAMES_LO) && AFX_POW2(AFX_RX_FRAMES_HI),
	       "frame counts are powers of two: each side's count is a ring size");
_Static_assert(AFX_RX_FRAMES_LO >= 2 * PKT_BURST, "a receive side holds more than a burst in flight");
_Static_assert(AFX_TX_QUEUE_FRAMES_MIN >= 2 * PKT_BURST, "a transmit side holds more than a burst");
_Static_assert(PORT_QUEUES_MAX <= AFX_QUEUES_MAX, "every queue a port serves has an entry in xsks_map");

enum afx_mode { AFX_MODE_AUTO, AFX_MODE_NATIVE, AFX_MODE_SKB };
enum afx_zc { AFX_ZC_AUTO, AFX_ZC_ON, AFX_ZC_OFF };

struct afx_prog;

static const char *const afx_mode_names[] = { "auto", "native", "skb" };
static const char *const afx_zc_names[] = { "auto", "on", "off" };

/* One AF_XDP socket, bound to one rx queue of the interface, and its UMEM. */
struct afx_queue {
	/* Set at creation, read-only after. */
	unsigned qid;			/* the interface's queue the socket is bound to */
	unsigned rx_n;			/* receive frames: UMEM frames 0 to rx_n - 1; entries of the fill and rx rings */
	unsigned tx_n;			/* transmit frames, the rx_n after them; entries of the tx and completion rings */
	size_t umem_bytes;		/* rx_n + tx_n frames */
	bool zerocopy;			/* the kernel took XDP_ZEROCOPY for this socket */
	char *umem_area;		/* umem_bytes, page aligned */
	struct afxdp_sock sock;		/* the AF_XDP socket and its rings' mappings */
	int fd;				/* sock.fd */
	unsigned tx_meta;		/* sock.tx_meta_bytes: room before each transmit frame's data for its metadata */
	atomic_int tx_errno;		/* the last kick's lasting error (ENETDOWN, ENXIO), or 0: tx drops all */

	/* Receive side: only the worker that polls this queue.  Each side starts a cache line of its own. */
	_Alignas(64) struct xsk_ring_prod fill;
	struct xsk_ring_cons rx;
	unsigned rx_held;		/* frames of the current burst, to go back to the fill ring */
	uint64_t rx_frame[PKT_BURST];
	unsigned refill_n;		/* frames waiting for room in the fill ring */
	uint64_t *refill;		/* rx_n entries */
	struct iovec rx_iov[PKT_BURST];
	struct port_queue_count rx_count;

	/* Transmit side: any worker, under tx_lock. */
	_Alignas(64) pthread_spinlock_t tx_lock;
	struct port_queue_count tx_count;
	struct xsk_ring_prod tx;
	struct xsk_ring_cons comp;
	unsigned tx_nfree;
	uint64_t *tx_free;		/* UMEM offsets of free transmit frames (a stack of tx_n) */
};

struct afx_port {
	struct port port;
	char ifname[IF_NAMESIZE];
	unsigned ifindex;
	bool one_queue;			/* queue= given: that queue only; else every rx queue of the interface */
	unsigned if_queues;		/* rx queues the interface had at creation; 0: it did not say */
	atomic_uint if_queues_now;	/* ... and at the last tick */
	bool warned_queues;		/* the tick logged that the interface changed its queues (control thread) */
	struct afx_prog *prog;		/* the interface's XDP program, shared with ports on its other queues */
	int ioctl_fd;			/* a datagram socket to read the interface's MTU and channels */
	atomic_uint tx_max_bytes;	/* largest frame the interface takes: MTU + 18, at most a frame less its metadata */
	bool tx_meta;			/* ask each socket for tx metadata room (afxdp_sock.h) */
	bool tx_csum_kernel;		/* every queue has it in copy mode: partial checksums go to the kernel (tx_offload CSUM) */
	atomic_uint_least64_t tx_csum_frames;	/* frames whose checksum the kernel was asked to complete */
	unsigned nq;			/* sockets in q[]: the port's rx queues */
	struct afx_queue *q[PORT_QUEUES_MAX];
};

static struct afx_port *afx_of(struct port *p) { return (struct afx_port *)p; }

/* ---- what libxdp and libbpf say ---- */

/*
 * libxdp and libbpf report through print callbacks.  While a port is being
 * created (control thread) their last warning is kept, to explain a
 * failure in the one line the caller gets; otherwise warnings go to the log.
 */
static struct {
	bool capturing;
	char last_warn[160];
} afx_lib;

__attribute__((format(printf, 2, 0))) static void afx_lib_line(bool warn, const char *fmt, va_list ap)
{
	char line[256];
	size_t len;

	if (!warn)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	len = strlen(line);
	while (len && (line[len - 1] == '\n' || line[len - 1] == ' '))
		line[--len] = '\0';
	if (afx_lib.capturing)
		snprintf(afx_lib.last_warn, sizeof(afx_lib.last_warn), "%s", line);
	else
		log_warn("afxdp: %s", line);
}

__attribute__((format(printf, 2, 0))) static int afx_libxdp_print(enum libxdp_print_level level, const char *fmt,
								   va_list ap)
{
	afx_lib_line(level == LIBXDP_WARN, fmt, ap);
	return 0;
}

__attribute__((format(printf, 2, 0))) static int afx_libbpf_print(enum libbpf_print_level level, const char *fmt,
								   va_list ap)
{
	afx_lib_line(level == LIBBPF_WARN, fmt, ap);
	return 0;
}

/* Start (@on) or stop keeping what the libraries say; starting forgets what was said before. */
static void afx_lib_capture(bool on)
{
	static bool hooked;

	if (!hooked) {
		libxdp_set_print(afx_libxdp_print);
		libbpf_set_print(afx_libbpf_print);
		hooked = true;
	}
	afx_lib.capturing = on;
	if (on)
		afx_lib.last_warn[0] = '\0';
}

/* " (what the library said)", or "" when it said nothing. */
static const char *afx_lib_reason(char *buf, size_t len)
{
	if (afx_lib.last_warn[0])
		snprintf(buf, len, " (%s)", afx_lib.last_warn);
	else
		buf[0] = '\0';
	return buf;
}

/* ---- the XDP program ---- */

/*
 * libxdp's default AF_XDP program (xsk_def_xdp_prog.o, from libxdp's
 * object directory) sends each frame to the socket that xsks_map holds for
 * the frame's receive queue, and passes it to the stack when there is none.
 * One program serves every queue of an interface, so the ports on one
 * interface share it: the first loads and attaches it, the last detaches it.
 *
 * We attach it through a bpf_link instead of letting xsk_socket__create()
 * do it: the link fd owns the attachment, so the kernel detaches the
 * program when vswd exits or dies, and libxdp 1.3's own load and unload
 * leak two fds per socket (its refcount map and a program fd).
 */
struct afx_prog {
	struct afx_prog *next;
	unsigned ifindex;
	unsigned users;			/* ports with a socket in xsks_map */
	bool native;			/* attached in the driver (XDP_FLAGS_DRV_MODE), not the generic hook */
	struct xdp_program *xp;		/* owns the loaded object: program and maps */
	int prog_fd;
	int map_fd;			/* xsks_map: queue index -> AF_XDP socket */
	int link_fd;			/* the attachment; closing it detaches the program */
};

static struct afx_prog *afx_progs;	/* control thread only */

/* Open and load libxdp's default program, its socket map sized for AFX_QUEUES_MAX queues.  0 or -errno. */
static int afx_prog_load(struct afx_prog *pg)
{
	/* The second is libxdp's variant for kernels whose bpf_redirect_map() takes no default action. */
	static const char *const files[] = { "xsk_def_xdp_prog.o", "xsk_def_xdp_prog_5.3.o" };
	int rc = -ENOENT;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct xdp_program *xp = xdp_program__find_file(files[i], NULL, NULL);
		struct bpf_object *obj;
		struct bpf_program *prog;
		struct bpf_map *map;

		if (!xp || libxdp_get_error(xp)) {
			rc = xp ? (int)libxdp_get_error(xp) : -ENOENT;
			continue;
		}
		obj = xdp_program__bpf_obj(xp);
		map = obj ? bpf_object__find_map_by_name(obj, "xsks_map") : NULL;
		prog = obj ? bpf_object__find_program_by_name(obj, "xsk_def_prog") : NULL;
		rc = !map || !prog ? -ENOENT : bpf_map__set_max_entries(map, AFX_QUEUES_MAX);
		if (rc == 0)
			rc = bpf_object__load(obj);
		if (rc == 0) {
			pg->xp = xp;
			pg->prog_fd = bpf_program__fd(prog);
			pg->map_fd = bpf_map__fd(map);
			return 0;
		}
		xdp_program__close(xp);
	}
	return rc < 0 ? rc : -rc;
}

/* Attach the loaded program to the interface, in the driver (@native) or the generic hook.  0 or -errno. */
static int afx_prog_attach(struct afx_prog *pg, bool native)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);
	int fd = bpf_link_create(pg->prog_fd, (int)pg->ifindex, BPF_XDP, &lo);

	if (fd < 0)
		return fd; /* -errno */
	pg->link_fd = fd;
	pg->native = native;
	return 0;
}

/* One port less on the program; the last one out detaches and unloads it. */
static void afx_prog_put(struct afx_prog *pg)
{
	if (--pg->users)
		return;
	for (struct afx_prog **pp = &afx_progs; *pp; pp = &(*pp)->next)
		if (*pp == pg) {
			*pp = pg->next;
			break;
		}
	if (pg->link_fd >= 0)
		close(pg->link_fd);
	xdp_program__close(pg->xp);
	free(pg);
}

/* Why attaching failed, as the one line for @err. */
static void afx_attach_error(const char *ifname, bool native, enum afx_mode req, int rc, char *err, size_t errlen)
{
	if (rc == -EBUSY || rc == -EEXIST)
		snprintf(err, errlen, "afxdp %s: another XDP program is attached to it: %s; detach it first", ifname,
			 strerror(-rc));
	else if (native)
		snprintf(err, errlen, "afxdp %s: XDP native mode not supported: %s%s", ifname, strerror(-rc),
			 req == AFX_MODE_NATIVE ? "; try mode=skb" : "");
	else
		snprintf(err, errlen, "afxdp %s: cannot attach the XDP program in skb mode: %s", ifname, strerror(-rc));
}

/*
 * The program on @ifindex for one more port: the one already there, or a
 * newly loaded and attached one (mode=auto: native, then skb).  NULL with
 * the reason in @err.
 */
static struct afx_prog *afx_prog_get(unsigned ifindex, const char *ifname, enum afx_mode req, char *err,
				     size_t errlen)
{
	struct afx_prog *pg;
	char why[200], native_err[160];
	bool native;
	int rc;

	for (pg = afx_progs; pg; pg = pg->next)
		if (pg->ifindex == ifindex) {
			if ((req == AFX_MODE_NATIVE && !pg->native) || (req == AFX_MODE_SKB && pg->native)) {
				const char *m = pg->native ? "native" : "skb";

				snprintf(err, errlen,
					 "afxdp %s: its XDP program already runs in %s mode for another port; use mode=%s or mode=auto",
					 ifname, m, m);
				return NULL;
			}
			pg->users++;
			return pg;
		}
	pg = calloc(1, sizeof(*pg));
	if (!pg) {
		snprintf(err, errlen, "afxdp %s: out of memory", ifname);
		return NULL;
	}
	pg->ifindex = ifindex;
	pg->link_fd = -1;
	afx_lib_capture(true);
	rc = afx_prog_load(pg);
	afx_lib_capture(false);
	if (rc < 0) {
		snprintf(err, errlen, "afxdp %s: cannot load libxdp's AF_XDP program: %s%s", ifname, strerror(-rc),
			 afx_lib_reason(why, sizeof(why)));
		free(pg);
		return NULL;
	}
	native = req != AFX_MODE_SKB;
	rc = afx_prog_attach(pg, native);
	if (rc < 0 && req == AFX_MODE_AUTO && rc != -EBUSY && rc != -EEXIST) {
		afx_attach_error(ifname, true, req, rc, native_err, sizeof(native_err));
		native = false;
		rc = afx_prog_attach(pg, false);
		if (rc == 0)
			log_info("%s; using skb mode", native_err);
	}
	if (rc < 0) {
		afx_attach_error(ifname, native, req, rc, err, errlen);
		xdp_program__close(pg->xp);
		free(pg);
		return NULL;
	}
	pg->users = 1;
	pg->next = afx_progs;
	afx_progs = pg;
	return pg;
}

/* ---- data path ---- */

/*
 * Checksums the sender left to "hardware".  A container's stack hands its
 * veth TCP and UDP frames with CHECKSUM_PARTIAL: the checksum field holds
 * only the folded pseudo-header sum, and whoever transmits is to finish
 * it.  XDP sees the bytes without that mark, so without help such frames
 * reach the other side with a wrong checksum and are dropped there (ping
 * works, TCP does not).  So for each IPv4/IPv6 TCP/UDP frame whose field
 * equals its pseudo-header sum, the sum is completed here, in the UMEM
 * frame this port owns until rx_done.  Completing a field that held a
 * full checksum by coincidence yields the same value again, so frames
 * with correct checksums are never changed (csum_complete_guess, packet/csum.h).
 */

static unsigned afx_rx_burst(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max)
{
	struct afx_port *ap = afx_of(p);
	struct afx_queue *aq = ap->q[q];
	const uint64_t rx_bytes = (uint64_t)aq->rx_n * AFX_FRAME_BYTES;
	const uint32_t max_bytes = atomic_load_explicit(&ap->tx_max_bytes, memory_order_relaxed);
	unsigned runts = 0, too_big = 0, broken = 0, n = 0;
	uint32_t idx = 0, got;
	uint64_t bytes = 0;

	aq->rx_held = 0;
	if (max > PKT_BURST)
		max = PKT_BURST;
	/* peek's acquire load of the producer orders our reads of descriptors and frames after the kernel's writes. */
	got = xsk_ring_cons__peek(&aq->rx, max, &idx);
	for (uint32_t i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&aq->rx, idx + i);
		uint64_t addr = d->addr, frame = addr & ~(uint64_t)(AFX_FRAME_BYTES - 1);
		uint32_t len = d->len;
		struct pkt *pk = &pkts[n];
		struct iovec *iov = &aq->rx_iov[n];

		/* Each descriptor is read once, above; only the private copies are used. */
		if (frame >= rx_bytes) {
			broken++; /* not one of our receive frames: never recycle it */
			continue;
		}
		aq->rx_frame[aq->rx_held++] = frame;
		if (addr - frame + len > AFX_FRAME_BYTES) {
			broken++;
			continue;
		}
		if (len < PKT_ETH_HLEN) {
			runts++;
			continue;
		}
		/*
		 * Longer than the interface's MTU allows: an aggregated (GSO) frame
		 * from skb mode, which nothing downstream could take as one frame.
		 */
		if (len > max_bytes) {
			too_big++;
			continue;
		}
		iov->iov_base = aq->umem_area + addr;
		iov->iov_len = len;
		csum_complete_guess(iov->iov_base, len);
		pkt_rx_init(pk, iov, 1, len, p->id);
		bytes += len;
		n++;
	}
	/* The release store orders our descriptor reads before the kernel reuses the slots; frames stay ours until rx_done. */
	if (got)
		xsk_ring_cons__release(&aq->rx, got);
	if (runts)
		port_count_drop(p, DROP_RUNT, runts);
	if (too_big)
		port_count_drop(p, DROP_TOO_BIG, too_big);
	if (broken)
		port_count_drop(p, DROP_PORT_BROKEN, broken);
	if (n) {	/* an empty poll writes no shared line */
		port_count(&p->stats.rx_packets, n);
		port_count(&p->stats.rx_bytes, bytes);
		port_queue_count(&aq->rx_count, n, bytes);
	}
	return n;
}

static void afx_rx_done(struct port *p, unsigned q, struct port_io *io)
{
	struct afx_queue *aq = afx_of(p)->q[q];
	uint32_t idx = 0, room;

	if (!aq->rx_held && !aq->refill_n)
		return;
	/*
	 * The frames of this burst go back to the fill ring.  Every frame is
	 * in the fill ring, the rx ring, this burst or refill[], but the kernel
	 * publishes its fill-ring consumer index lazily, so the ring can look
	 * fuller than it is: what does not fit now waits in refill[] for the
	 * next burst.
	 */
	memcpy(&aq->refill[aq->refill_n], aq->rx_frame, aq->rx_held * sizeof(aq->rx_frame[0]));
	aq->refill_n += aq->rx_held;
	aq->rx_held = 0;
	room = xsk_prod_nb_free(&aq->fill, aq->refill_n);
	if (room > aq->refill_n)
		room = aq->refill_n;
	if (room == 0 || xsk_ring_prod__reserve(&aq->fill, room, &idx) != room)
		return;
	for (uint32_t i = 0; i < room; i++)
		*xsk_ring_prod__fill_addr(&aq->fill, idx + i) = aq->refill[i];
	/* The release store of the producer orders the addresses above before the kernel sees them. */
	xsk_ring_prod__submit(&aq->fill, room);
	aq->refill_n -= room;
	memmove(aq->refill, &aq->refill[room], aq->refill_n * sizeof(aq->refill[0]));
	/* Zero-copy drivers may sleep on an empty fill ring; copy mode never sets this. */
	if (xsk_ring_prod__needs_wakeup(&aq->fill))
		recvfrom(aq->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

/* Descriptors in the tx ring the kernel has not taken yet (tx_lock held). */
static unsigned afx_tx_pending(struct afx_queue *aq)
{
	return aq->tx_n - xsk_prod_nb_free(&aq->tx, aq->tx_n);
}

/* Move sent frames from the completion ring to the free stack (tx_lock held). */
static void afx_reap(struct afx_queue *aq)
{
	uint32_t idx = 0, got = xsk_ring_cons__peek(&aq->comp, aq->tx_n, &idx);

	for (uint32_t i = 0; i < got; i++) {
		uint64_t frame = *xsk_ring_cons__comp_addr(&aq->comp, idx + i) & ~(uint64_t)(AFX_FRAME_BYTES - 1);

		/* Only transmit frames were ever handed out; anything else would be a kernel bug. */
		if (frame >= (uint64_t)aq->rx_n * AFX_FRAME_BYTES && frame < aq->umem_bytes && aq->tx_nfree < aq->tx_n)
			aq->tx_free[aq->tx_nfree++] = frame;
	}
	if (got)
		xsk_ring_cons__release(&aq->comp, got);
}

/*
 * Have the kernel send what the tx ring holds (tx_lock held).  In copy
 * mode sendto() transmits right here, up to the socket's budget
 * (AFX_KERNEL_TX_BATCH frames: then EAGAIN), and stops at the first frame
 * the device drops (EBUSY: that frame still completes); the rest waits for
 * the next kick.  So we kick again while frames are pending: after EBUSY
 * at most once per frame (a peer that drops everything costs a syscall per
 * frame, but stale frames do not pile up in the ring), after EAGAIN once
 * per budget's worth of the @frames just placed (more would only spin on a
 * full socket buffer).  In zero-copy mode the driver sends; it only needs
 * a wake-up when the ring says so.
 *
 * Returns the frames the device dropped: each EBUSY is one (the kernel's
 * xsk_generic_xmit() turns a NET_XMIT_DROP, as a veth whose peer is down
 * or whose peer's backlog is full answers, into EBUSY and stops there).
 */
static unsigned afx_kick(struct afx_queue *aq, unsigned frames)
{
	unsigned busy = frames + 1, again = frames / AFX_KERNEL_TX_BATCH + 1, dropped = 0;

	if (aq->zerocopy && !xsk_ring_prod__needs_wakeup(&aq->tx) &&
	    !atomic_load_explicit(&aq->tx_errno, memory_order_relaxed))
		return 0;
	for (;;) {
		if (sendto(aq->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0) {
			if (atomic_load_explicit(&aq->tx_errno, memory_order_relaxed))
				atomic_store_explicit(&aq->tx_errno, 0, memory_order_relaxed);
			return dropped;
		}
		dropped += errno == EBUSY;
		if (errno == EBUSY && --busy > 0 && afx_tx_pending(aq))
			continue;
		if (errno == EAGAIN && --again > 0 && afx_tx_pending(aq))
			continue;
		/* Down (ENETDOWN) or gone (ENXIO) lasts; the rest (budget, socket buffer full) the next kick resolves. */
		if (errno == ENETDOWN || errno == ENXIO)
			atomic_store_explicit(&aq->tx_errno, errno, memory_order_relaxed);
		return dropped;
	}
}

/*
 * A frame with a partial checksum (only when tx_offload took CSUM, so
 * only with tx_csum_kernel) placed in transmit descriptor @d: ask the
 * kernel to complete it (tx metadata, copy mode: the skb leaves as
 * CHECKSUM_PARTIAL, afxdp_sock.h).  The kernel refuses a field past the
 * descriptor's end by keeping the descriptor in the ring for ever, so a
 * frame the copy cut short is completed here instead.  1 when the kernel
 * was asked.
 */
static unsigned afx_tx_csum(struct afx_port *ap, struct afx_queue *aq, struct xdp_desc *d, const struct pkt *pk)
{
	struct afxdp_tx_meta *m = (struct afxdp_tx_meta *)(aq->umem_area + d->addr - aq->tx_meta);

	if (!ap->tx_csum_kernel || (size_t)pk->csum_start + pk->csum_offset + 2 > d->len) {
		csum_complete_buf(aq->umem_area + d->addr, d->len, pk->csum_start, pk->csum_offset);
		return 0;
	}
	m->flags = XDP_TXMD_FLAGS_CHECKSUM;
	m->csum_start = pk->csum_start;
	m->csum_offset = pk->csum_offset;
	d->options = XDP_TX_METADATA;
	return 1;
}

static void afx_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	struct afx_port *ap = afx_of(p);
	/* Worker w sends through socket w % nq: its own when there are as many queues as workers. */
	struct afx_queue *aq = ap->q[ap->nq == 1 ? 0 : io->worker_id % ap->nq];
	uint32_t max_bytes = atomic_load_explicit(&ap->tx_max_bytes, memory_order_relaxed);
	unsigned fit = 0, want, placed = 0, too_big = 0, no_room = 0, csum_kernel = 0, refused = 0, sent;
	uint32_t idx = 0;
	uint64_t bytes = 0;

	/* The interface is down or gone (the last kick said so): nothing would leave; the tick probes again. */
	if (atomic_load_explicit(&aq->tx_errno, memory_order_relaxed)) {
		port_count_drop(p, DROP_PORT_DOWN, n);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		fit += pkts[i]->len <= max_bytes;
	pthread_spin_lock(&aq->tx_lock);
	afx_reap(aq);
	/* Capacity once, before the loop: free frames and free tx ring slots. */
	want = fit < aq->tx_nfree ? fit : aq->tx_nfree;
	if (want) {
		uint32_t slots = xsk_prod_nb_free(&aq->tx, want);

		if (want > slots)
			want = slots;
		if (want && xsk_ring_prod__reserve(&aq->tx, want, &idx) != want)
			want = 0;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct pkt *pk = pkts[i];
		struct xdp_desc *d;
		uint64_t frame;

		if (pk->len > max_bytes) {
			too_big++;
			continue;
		}
		if (placed == want) {
			no_room++;
			continue;
		}
		frame = aq->tx_free[--aq->tx_nfree];
		d = xsk_ring_prod__tx_desc(&aq->tx, idx + placed);
		d->addr = frame + aq->tx_meta;
		d->len = (uint32_t)pkt_to_buf(pk, aq->umem_area + d->addr, pk->len);
		d->options = 0;
		if (pk->csum == PKT_CSUM_PARTIAL)
			csum_kernel += afx_tx_csum(ap, aq, d, pk);
		bytes += d->len;
		placed++;
	}
	/* The release store of the producer orders the descriptors and frame contents before the kernel reads them. */
	if (placed)
		xsk_ring_prod__submit(&aq->tx, placed);
	if (placed || afx_tx_pending(aq)) {
		refused = afx_kick(aq, placed);
		afx_reap(aq);
	}
	/*
	 * Frames the device dropped are counted as drops and taken off this
	 * burst's sent frames (they are usually its own; a counter never
	 * goes down, so older ones stay counted as sent, and the bytes of
	 * the dropped frames are not known: the kernel does not say which).
	 */
	sent = placed - (refused < placed ? refused : placed);
	if (sent)
		port_queue_count(&aq->tx_count, sent, bytes);
	pthread_spin_unlock(&aq->tx_lock);
	port_count(&p->stats.tx_packets, sent);
	port_count(&p->stats.tx_bytes, bytes);
	if (refused)
		port_count_drop(p, DROP_NO_RX_BUFFER, refused);
	if (too_big)
		port_count_drop(p, DROP_TOO_BIG, too_big);
	if (no_room)
		port_count_drop(p, DROP_NO_RX_BUFFER, no_room);
	if (csum_kernel)
		port_count(&ap->tx_csum_frames, csum_kernel);
}

/* One rx queue of the port per socket: q[i] serves the interface's queue q[i]->qid. */
static unsigned afx_rx_queues(struct port *p)
{
	return afx_of(p)->nq;
}

/* Each socket's counters (control thread), in the order of q[]: the interface's queues q[0]->qid on. */
static unsigned afx_queue_stats(struct port *p, struct port_queue_stats *out, unsigned max)
{
	struct afx_port *ap = afx_of(p);
	unsigned q;

	for (q = 0; q < ap->nq && q < max; q++) {
		struct afx_queue *aq = ap->q[q];

		out[q] = (struct port_queue_stats){
			.rx_packets = port_queue_read(&aq->rx_count.packets),
			.rx_bytes = port_queue_read(&aq->rx_count.bytes),
			.tx_packets = port_queue_read(&aq->tx_count.packets),
			.tx_bytes = port_queue_read(&aq->tx_count.bytes),
		};
	}
	return q;
}

static int afx_rx_fd(struct port *p, unsigned q)
{
	return afx_of(p)->q[q]->fd;
}

/*
 * The socket's fd is registered edge-triggered: the kernel wakes it each
 * time it posts to the rx ring, not for frames already there.  So: true
 * when the rx ring is not empty (the producer is re-read; nothing is
 * consumed).
 */
static bool afx_rx_arm(struct port *p, unsigned q)
{
	struct afx_queue *aq = afx_of(p)->q[q];

	/* Frames still owed to the fill ring: keep polling until it takes them. */
	return aq->refill_n > 0 || xsk_cons_nb_avail(&aq->rx, 1) > 0;
}

static void afx_rx_disarm(struct port *p, unsigned q)
{
}

/* ---- control plane ---- */

/* The bytes a transmit frame holds: a UMEM frame less the metadata room before its data (kept by every socket alike). */
static unsigned afx_tx_room(const struct afx_port *ap)
{
	return AFX_FRAME_BYTES - AFXDP_TX_META_BYTES;
}

/* Read the interface's MTU again: frames longer than it plus a tagged Ethernet header are too big. */
static void afx_refresh_mtu(struct afx_port *ap)
{
	struct ifreq ifr = { 0 };
	unsigned max;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ap->ifname);
	if (ap->ioctl_fd < 0 || ioctl(ap->ioctl_fd, SIOCGIFMTU, &ifr) < 0 || ifr.ifr_mtu <= 0)
		return;
	max = (unsigned)ifr.ifr_mtu + AFX_ETH_OVERHEAD;
	atomic_store_explicit(&ap->tx_max_bytes, max < afx_tx_room(ap) ? max : afx_tx_room(ap), memory_order_relaxed);
}

static void afx_tick(struct port *p)
{
	struct afx_port *ap = afx_of(p);
	unsigned now;

	afx_refresh_mtu(ap);
	/* Queues added or removed (ethtool -L) after creation: say so, once; describe() says it every time. */
	now = afxdp_if_rx_queues(ap->ioctl_fd, ap->ifname, ap->ifindex);
	atomic_store_explicit(&ap->if_queues_now, now, memory_order_relaxed);
	if (!ap->one_queue && ap->if_queues && now && now != ap->if_queues && !ap->warned_queues) {
		log_warn("port %s: %s now has %u rx queues, the port serves %u: delete and add it again", p->name,
			 ap->ifname, now, ap->nq);
		ap->warned_queues = true;
	}
	/*
	 * Frames a kick left in a tx ring (budget, device busy) go out at
	 * least once a second; and while the interface is down, a kick finds
	 * out when it is back (an empty ring sends nothing).
	 */
	for (unsigned i = 0; i < ap->nq; i++) {
		struct afx_queue *aq = ap->q[i];

		unsigned refused = 0;

		pthread_spin_lock(&aq->tx_lock);
		afx_reap(aq);
		if (afx_tx_pending(aq) || atomic_load_explicit(&aq->tx_errno, memory_order_relaxed))
			refused = afx_kick(aq, 0);
		pthread_spin_unlock(&aq->tx_lock);
		if (refused)
			port_count_drop(p, DROP_NO_RX_BUFFER, refused);
	}
}

/* "IF queues 0-3, XDP native, copy mode, 2048 rx frames per queue, tx checksum by ...[; ...]": which queues, how, and what went wrong. */
static void afx_describe(struct port *p, char *buf, size_t len)
{
	struct afx_port *ap = afx_of(p);
	struct xdp_statistics sum = { 0 };
	unsigned zc = 0, now = atomic_load_explicit(&ap->if_queues_now, memory_order_relaxed);
	int tx_err = 0;
	size_t off;

	for (unsigned i = 0; i < ap->nq; i++) {
		struct xdp_statistics st = { 0 };
		socklen_t sl = sizeof(st);

		zc += ap->q[i]->zerocopy;
		if (!tx_err)
			tx_err = atomic_load(&ap->q[i]->tx_errno);
		if (getsockopt(ap->q[i]->fd, SOL_XDP, XDP_STATISTICS, &st, &sl) < 0)
			continue;
		sum.rx_dropped += st.rx_dropped;
		sum.rx_ring_full += st.rx_ring_full;
		sum.rx_fill_ring_empty_descs += st.rx_fill_ring_empty_descs;
		sum.tx_invalid_descs += st.tx_invalid_descs;
	}
	if (ap->nq == 1)
		off = (size_t)snprintf(buf, len, "%s queue %u", ap->ifname, ap->q[0]->qid);
	else
		off = (size_t)snprintf(buf, len, "%s queues %u-%u", ap->ifname, ap->q[0]->qid, ap->q[ap->nq - 1]->qid);
	if (off < len)
		off += (size_t)snprintf(buf + off, len - off, ", XDP %s, %s", ap->prog->native ? "native" : "skb",
					zc == 0 ? "copy mode" : zc == ap->nq ? "zero-copy" : "zero-copy on some queues");
	if (off < len)
		off += (size_t)snprintf(buf + off, len - off, ", %u rx frames%s", ap->q[0]->rx_n,
					ap->nq > 1 ? " per queue" : "");
	if (off < len && ap->tx_csum_kernel)
		off += (size_t)snprintf(buf + off, len - off, ", tx checksum by the kernel (%llu frames)",
					(unsigned long long)atomic_load(&ap->tx_csum_frames));
	else if (off < len)
		off += (size_t)snprintf(buf + off, len - off, ", tx checksum in software");
	if (off < len && if_nametoindex(ap->ifname) != ap->ifindex)
		off += (size_t)snprintf(buf + off, len - off, "; interface gone");
	else if (off < len && tx_err)
		off += (size_t)snprintf(buf + off, len - off, "; tx: %s", strerror(tx_err));
	if (off < len && !ap->one_queue && ap->if_queues && now && now != ap->if_queues)
		off += (size_t)snprintf(buf + off, len - off, "; the interface now has %u rx queues: add the port again",
					now);
	if (off < len && (sum.rx_dropped | sum.rx_ring_full | sum.rx_fill_ring_empty_descs | sum.tx_invalid_descs))
		snprintf(buf + off, len - off, "; kernel: rx_dropped %llu, rx_ring_full %llu, fill_empty %llu, tx_invalid %llu",
			 (unsigned long long)sum.rx_dropped, (unsigned long long)sum.rx_ring_full,
			 (unsigned long long)sum.rx_fill_ring_empty_descs, (unsigned long long)sum.tx_invalid_descs);
}

/* Tear down in the reverse order of afx_queue_new; every field may still be unset. */
static void afx_queue_free(struct afx_queue *aq)
{
	/* Closing the socket also takes it out of xsks_map. */
	afxdp_sock_close(&aq->sock);
	if (aq->umem_area)
		munmap(aq->umem_area, aq->umem_bytes);
	pthread_spin_destroy(&aq->tx_lock);
	free(aq->refill);
	free(aq->tx_free);
	free(aq);
}

/* Tear down in the reverse order of port_afxdp_create; every field may still be unset. */
static void afx_free(struct afx_port *ap)
{
	/* The sockets first: the program may go only once no socket is in its map. */
	for (unsigned i = 0; i < ap->nq; i++)
		afx_queue_free(ap->q[i]);
	if (ap->prog)
		afx_prog_put(ap->prog);
	if (ap->ioctl_fd >= 0)
		close(ap->ioctl_fd);
	free(ap);
}

static void afx_destroy(struct port *p)
{
	struct afx_port *ap = afx_of(p);

	log_info("port %s: detaching from %s", p->name, ap->ifname);
	afx_free(ap);
}

static const struct port_ops afxdp_port_ops = {
	.type = "afxdp",
	.rx_burst = afx_rx_burst,
	.rx_done = afx_rx_done,
	.tx_burst = afx_tx_burst,
	.rx_queues = afx_rx_queues,
	.queue_stats = afx_queue_stats,
	.rx_fd = afx_rx_fd,
	.rx_arm = afx_rx_arm,
	.rx_disarm = afx_rx_disarm,
	.rx_poll_cheap = port_rx_poll_cheap_always,
	.describe = afx_describe,
	.tick = afx_tick,
	.destroy = afx_destroy,
};

/* A socket bound to queue aq->qid of @ap's interface, with our UMEM registered afresh (a busy queue waited for).  0 or -errno. */
static int afx_open(struct afx_queue *aq, const struct afx_port *ap, uint16_t bind_flags)
{
	const struct afxdp_sock_config c = {
		.umem = aq->umem_area,
		.umem_bytes = aq->umem_bytes,
		.frame_bytes = AFX_FRAME_BYTES,
		.rx_entries = aq->rx_n,
		.tx_entries = aq->tx_n,
		.ifindex = ap->ifindex,
		.qid = aq->qid,
		.bind_flags = (uint16_t)(bind_flags | XDP_USE_NEED_WAKEUP),
		.tx_meta = ap->tx_meta,
	};

	return afxdp_sock_open_busy(&aq->sock, &c, &aq->fill, &aq->comp, &aq->rx, &aq->tx);
}


/* The one line for a socket that could not be bound to queue @qid. */
static void afx_open_error(const struct afx_port *ap, unsigned qid, enum afx_zc zc, int rc, char *err, size_t errlen)
{
	if (rc == -EBUSY)
		snprintf(err, errlen, "afxdp %s: queue %u is already bound by another AF_XDP socket: %s", ap->ifname,
			 qid, strerror(-rc));
	else if (zc == AFX_ZC_ON && rc == -EOPNOTSUPP)
		snprintf(err, errlen, "afxdp %s: zero-copy not supported by this driver: %s; try zerocopy=auto",
			 ap->ifname, strerror(-rc));
	else if (rc == -EPERM)
		snprintf(err, errlen, "afxdp %s: %s (needs CAP_NET_ADMIN, CAP_NET_RAW and CAP_BPF)", ap->ifname,
			 strerror(-rc));
	else if (rc == -EINVAL && ap->one_queue && ap->if_queues)
		snprintf(err, errlen, "afxdp %s: cannot bind an AF_XDP socket to queue %u: %s (it has %u rx queues)",
			 ap->ifname, qid, strerror(-rc), ap->if_queues);
	else if (rc == -EINVAL && ap->one_queue && qid > 0)
		snprintf(err, errlen, "afxdp %s: cannot bind an AF_XDP socket to queue %u: %s (does it have %u queues?)",
			 ap->ifname, qid, strerror(-rc), qid + 1);
	else
		snprintf(err, errlen, "afxdp %s: cannot bind an AF_XDP socket to queue %u: %s", ap->ifname, qid,
			 strerror(-rc));
}

/* Frames per queue when @port_frames are split between @nq queues: a power of two, at least @min. */
static unsigned afx_split_frames(unsigned port_frames, unsigned min, unsigned nq)
{
	unsigned frames = port_frames;

	while (frames > min && (uint64_t)frames * nq > port_frames)
		frames /= 2;
	return frames;
}

/*
 * A queue of @nq on interface queue @qid with @rx_n receive frames: its
 * UMEM, its socket (retried while busy), every receive frame in the fill
 * ring and every transmit frame on the free stack.  NULL with the reason
 * in @err.
 */
static struct afx_queue *afx_queue_new(const struct afx_port *ap, unsigned qid, unsigned nq, unsigned rx_n,
				       enum afx_zc zc, char *err, size_t errlen)
{
	struct xdp_options opts = { 0 };
	socklen_t optlen = sizeof(opts);
	struct afx_queue *aq;
	uint32_t idx = 0;
	int rc;

	aq = aligned_alloc(_Alignof(struct afx_queue), sizeof(*aq));
	if (!aq) {
		snprintf(err, errlen, "afxdp %s: out of memory", ap->ifname);
		return NULL;
	}
	memset(aq, 0, sizeof(*aq));
	pthread_spin_init(&aq->tx_lock, PTHREAD_PROCESS_PRIVATE);
	aq->sock.fd = -1;
	aq->fd = -1;
	aq->qid = qid;
	aq->rx_n = rx_n;
	aq->tx_n = afx_split_frames(AFX_TX_PORT_FRAMES, AFX_TX_QUEUE_FRAMES_MIN, nq);
	aq->umem_bytes = ((size_t)aq->rx_n + aq->tx_n) * AFX_FRAME_BYTES;
	aq->refill = calloc(aq->rx_n, sizeof(aq->refill[0]));
	aq->tx_free = calloc(aq->tx_n, sizeof(aq->tx_free[0]));
	if (!aq->refill || !aq->tx_free) {
		snprintf(err, errlen, "afxdp %s: out of memory", ap->ifname);
		goto out_free;
	}
	aq->umem_area = mmap(NULL, aq->umem_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (aq->umem_area == MAP_FAILED) {
		aq->umem_area = NULL;
		snprintf(err, errlen, "afxdp %s: cannot map %zu MiB of UMEM for queue %u: %s", ap->ifname,
			 aq->umem_bytes >> 20, qid, strerror(errno));
		goto out_free;
	}
	rc = afx_open(aq, ap, zc == AFX_ZC_ON ? XDP_ZEROCOPY : zc == AFX_ZC_OFF ? XDP_COPY : 0);
	if (rc < 0) {
		afx_open_error(ap, qid, zc, rc, err, errlen);
		goto out_free;
	}
	aq->fd = aq->sock.fd;
	aq->tx_meta = aq->sock.tx_meta_bytes;
	aq->zerocopy = getsockopt(aq->fd, SOL_XDP, XDP_OPTIONS, &opts, &optlen) == 0 &&
		       (opts.flags & XDP_OPTIONS_ZEROCOPY);

	/* Every receive frame into the fill ring; every transmit frame onto the free stack. */
	if (xsk_ring_prod__reserve(&aq->fill, aq->rx_n, &idx) != aq->rx_n) {
		snprintf(err, errlen, "afxdp %s: fill ring smaller than expected", ap->ifname);
		goto out_free;
	}
	for (uint32_t i = 0; i < aq->rx_n; i++)
		*xsk_ring_prod__fill_addr(&aq->fill, idx + i) = (uint64_t)i * AFX_FRAME_BYTES;
	xsk_ring_prod__submit(&aq->fill, aq->rx_n);
	for (uint32_t i = 0; i < aq->tx_n; i++)
		aq->tx_free[i] = (uint64_t)(aq->rx_n + i) * AFX_FRAME_BYTES;
	aq->tx_nfree = aq->tx_n;
	return aq;

out_free:
	afx_queue_free(aq);
	return NULL;
}

/* A string parameter that must be one of @names (@n of them); @dflt when absent. */
static int afx_param_choice(struct json_object *params, const char *key, const char *const *names, unsigned n,
			    unsigned dflt, unsigned *out, char *err, size_t errlen)
{
	struct json_object *f;
	const char *s;

	*out = dflt;
	if (!json_object_object_get_ex(params, key, &f))
		return 0;
	s = json_object_is_type(f, json_type_string) ? json_object_get_string(f) : "";
	for (unsigned i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
	snprintf(err, errlen, "afxdp: %s must be %s, %s or %s", key, names[0], names[1], names[2]);
	return -1;
}

/* rx_frames=N: receive frames per queue, a power of two from AFX_RX_FRAMES_LO to AFX_RX_FRAMES_HI; 0 when absent. */
static int afx_param_rx_frames(struct json_object *params, unsigned *out, char *err, size_t errlen)
{
	if (port_param_uint(params, "rx_frames", AFX_RX_FRAMES_LO, AFX_RX_FRAMES_HI, 0, out, err, errlen) < 0)
		return -1;
	if (!AFX_POW2(*out)) {
		snprintf(err, errlen, "afxdp: rx_frames must be a power of two (%u to %u), not %u", AFX_RX_FRAMES_LO,
			 AFX_RX_FRAMES_HI, *out);
		return -1;
	}
	return 0;
}

/*
 * Which queues get a socket: *@first and the @nq after it.  queue=N alone,
 * else every rx queue the interface has (queue 0 alone when it does not
 * say how many, with a warning).  0, or -1 with the reason in @err.
 */
static int afx_pick_queues(struct afx_port *ap, struct json_object *params, unsigned *first, unsigned *nq,
			   char *err, size_t errlen)
{
	ap->if_queues = afxdp_if_rx_queues(ap->ioctl_fd, ap->ifname, ap->ifindex);
	atomic_init(&ap->if_queues_now, ap->if_queues);
	ap->one_queue = json_object_object_get_ex(params, "queue", NULL);
	if (ap->one_queue) {
		if (port_param_uint(params, "queue", 0, AFX_QUEUES_MAX - 1, 0, first, err, errlen) < 0)
			return -1;
		*nq = 1;
		return 0;
	}
	*first = 0;
	if (ap->if_queues > PORT_QUEUES_MAX) {
		snprintf(err, errlen,
			 "afxdp %s: it has %u rx queues, more than the %u one port serves; give queue=N per port, or fewer channels (ethtool -L)",
			 ap->ifname, ap->if_queues, PORT_QUEUES_MAX);
		return -1;
	}
	if (!ap->if_queues)
		log_warn("afxdp %s: cannot tell how many rx queues it has: serving queue 0 only", ap->ifname);
	*nq = ap->if_queues ? ap->if_queues : 1;
	return 0;
}

struct port *port_afxdp_create(const char *name, struct json_object *params, const struct port_env *env, char *err,
			       size_t errlen)
{
	const char *ifname = port_param_str(params, "ifname");
	unsigned first, nq, mode, zc, zc_n = 0, rx_frames;
	struct afx_port *ap;

	if (!ifname || !ifname[0] || strlen(ifname) >= IF_NAMESIZE) {
		snprintf(err, errlen, "afxdp port needs ifname= (an interface name of at most %d bytes)", IF_NAMESIZE - 1);
		return NULL;
	}
	if (afx_param_choice(params, "mode", afx_mode_names, 3, AFX_MODE_AUTO, &mode, err, errlen) < 0 ||
	    afx_param_choice(params, "zerocopy", afx_zc_names, 3, AFX_ZC_AUTO, &zc, err, errlen) < 0 ||
	    afx_param_rx_frames(params, &rx_frames, err, errlen) < 0)
		return NULL;
	if (!if_nametoindex(ifname)) {
		snprintf(err, errlen, "afxdp %s: no such interface", ifname);
		return NULL;
	}
	ap = calloc(1, sizeof(*ap));
	if (!ap) {
		snprintf(err, errlen, "afxdp %s: out of memory", ifname);
		return NULL;
	}
	ap->ioctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ap->port.name, sizeof(ap->port.name), "%s", name);
	ap->port.ops = &afxdp_port_ops;
	snprintf(ap->ifname, sizeof(ap->ifname), "%s", ifname);
	ap->ifindex = if_nametoindex(ifname);
	atomic_init(&ap->tx_max_bytes, AFX_FRAME_BYTES - AFXDP_TX_META_BYTES);
	ap->tx_meta = true;
	if (afx_pick_queues(ap, params, &first, &nq, err, errlen) < 0)
		goto out_free;

	ap->prog = afx_prog_get(ap->ifindex, ifname, (enum afx_mode)mode, err, errlen);
	if (!ap->prog)
		goto out_free;
	if (!rx_frames)	/* the default: the port's receive frames split between its queues */
		rx_frames = afx_split_frames(AFX_RX_PORT_FRAMES, AFX_RX_QUEUE_FRAMES_MIN, nq);
	/* ap->nq counts the queues made so far: afx_free releases those. */
	for (unsigned i = 0; i < nq; i++) {
		ap->q[i] = afx_queue_new(ap, first + i, nq, rx_frames, (enum afx_zc)zc, err, errlen);
		if (!ap->q[i])
			goto out_free;
		ap->nq++;
		zc_n += ap->q[i]->zerocopy;
	}
	/* Checksums to the kernel only in copy mode: a zero-copy driver may ignore the request. */
	ap->tx_csum_kernel = true;
	for (unsigned i = 0; i < nq; i++)
		ap->tx_csum_kernel &= ap->q[i]->tx_meta && !ap->q[i]->zerocopy;
	atomic_init(&ap->port.tx_offload, ap->tx_csum_kernel ? GSO_TX_CSUM : 0);
	afx_refresh_mtu(ap);

	/* Last: from here the program sends each queue's frames to its socket instead of the stack. */
	for (unsigned i = 0; i < nq; i++)
		if (bpf_map_update_elem(ap->prog->map_fd, &ap->q[i]->qid, &ap->q[i]->fd, BPF_ANY) < 0) {
			snprintf(err, errlen, "afxdp %s: cannot enter the socket of queue %u in the XDP program's map: %s",
				 ifname, ap->q[i]->qid, strerror(errno));
			goto out_free;
		}
	if (nq == 1)
		log_info("port %s: attached to %s queue %u, XDP %s, %s", name, ifname, first,
			 ap->prog->native ? "native" : "skb", zc_n ? "zero-copy" : "copy mode");
	else
		log_info("port %s: attached to %s queues %u-%u, XDP %s, %s", name, ifname, first, first + nq - 1,
			 ap->prog->native ? "native" : "skb", zc_n == nq ? "zero-copy" : zc_n ? "some zero-copy" : "copy mode");
	return &ap->port;

out_free:
	afx_free(ap);
	return NULL;
}
