/* vuser.c - virtio-net front end over vhost-user: negotiation, shared memory layout, tx and rx bursts. */
#include "vsw/vuser.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/prefetch.h"
#include "packet/vnet_hdr.h"
#include "vsw/vhost_user.h"
#include "vsw/virtio_net.h"
#include "vsw/virtio_spec.h"
#include "vsw/virtq.h"
#include "vsw/virtq_driver.h"

/*
 * Shared memory (one memfd, one vhost-user region, guest physical = our
 * virtual address), per queue pair:
 *
 *   | rx ring | tx ring | rx buffers (size x rx_buf) | tx buffers (size x tx_buf) |
 *
 * Every area starts on a 4 KiB boundary.
 */

#define VHOST_USER_F_PROTOCOL_FEATURES_BIT (1ull << VHOST_USER_F_PROTOCOL_FEATURES)
#define RX_BUF_MRG_TSO 4096u	/* with GUEST_TSO4: a page each, as Linux's grow to under large receives */
#define RX_BUF_GSO 65600u	/* with GUEST_TSO4, one buffer a frame: 65,562 bytes (5.1.6.3.1) in 64-byte steps */
#define REASM_MAX (65536u + 64)		/* largest joined frame */
#define REASM_ARENA (8 * REASM_MAX)		/* joined frames of one burst */
#define VUSER_RX_HOLD 64			/* used rx buffers reaped ahead of parsing */
#define VUSER_CHUNK 64				/* buffers handed to the ring per call */
/* VERSION_1: the header is always this size, mrg_rxbuf or not (5.1.6); a constant folds into the copies. */
#define HDR_LEN ((uint32_t)sizeof(struct virtio_net_hdr_v1))

/*
 * A ring of fixed buffers (vuser_config.fixed): buffer i is always the
 * one of descriptor i (split) or buffer id i (packed).
 */
struct vuser_fixed_ring {
	uint8_t *out;			/* [qsize]: 1 while the device has buffer i */
	uint32_t *len;			/* [qsize], split: the length descriptor i holds */
	uint16_t flags;			/* VIRTQ_DESC_F_WRITE (rx) or 0 (tx) */
};

/* A buffer's ring token is its address: never NULL, and no index arithmetic on the way back. */
struct vuser_queue {
	struct vq_drv rx, tx;
	int rx_kick, rx_call, tx_kick, tx_call;
	uint8_t *rx_bufs, *tx_bufs;
	uint8_t **tx_free;		/* free tx buffers (a stack) */
	unsigned tx_nfree;
	uint8_t **refill;		/* rx buffers handed out by the last rx burst */
	unsigned nrefill;
	uint8_t *reasm;			/* frames spread over several mergeable buffers, joined, this burst */
	void *held_tok[VUSER_RX_HOLD];	/* used rx buffers reaped and not yet turned into frames (their tokens) */
	uint32_t held_len[VUSER_RX_HOLD];
	unsigned held_at, nheld;	/* next to take, count */
	/* Fixed buffers only: */
	struct vuser_fixed_ring frx, ftx;
	uint16_t *tx_fifo;		/* [qsize]: free tx buffers, the longest free first */
	uint16_t tx_head;		/* tx_fifo's first free */
	unsigned tx_fifo_n, tx_given;	/* free; handed out by vuser_fixed_tx_bufs() */
	uint16_t rx_back[VUSER_RX_HOLD];	/* rx buffers handed out by the last vuser_fixed_rx() */
	unsigned rx_nback;
};

struct vuser {
	int sock, memfd;
	uint8_t *mem;
	size_t mem_size;
	uint64_t features, protocol;
	unsigned nqp, qsize;
	unsigned rx_accept;		/* VNET_ACCEPT_*: the headers this end acked (GUEST_*) */
	uint32_t rx_buf, tx_buf;
	bool mrg, fixed;
	struct vuser_queue q[VUSER_MAX_QUEUE_PAIRS];
	struct vuser_stats stats;
	char error[160];
};

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static uint64_t gpa_of(const void *p) { return (uint64_t)(uintptr_t)p; }
static size_t align_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

/* ---- vhost-user messages ---- */

static int msg_send(struct vuser *u, uint32_t req, const void *payload, uint32_t size, const int *fds,
		    unsigned nfds, bool need_reply)
{
	union {
		char buf[CMSG_SPACE(VHOST_USER_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctrl;
	uint8_t wire[VHOST_USER_HDR_SIZE + VHOST_USER_PAYLOAD_MAX];
	struct vhost_user_hdr hdr = { .request = req, .flags = VHOST_USER_VERSION, .size = size };
	struct iovec iov = { .iov_base = wire, .iov_len = VHOST_USER_HDR_SIZE + size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (need_reply)
		hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
	memcpy(wire, &hdr, sizeof(hdr));
	if (size)
		memcpy(wire + VHOST_USER_HDR_SIZE, payload, size);
	if (nfds) {
		struct cmsghdr *c;

		mh.msg_control = ctrl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	return sendmsg(u->sock, &mh, MSG_NOSIGNAL) == (ssize_t)iov.iov_len ? 0 : -EIO;
}

static int read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, timeout_ms) <= 0)
			return -ETIMEDOUT;
		n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			return n == 0 ? -ECONNRESET : -errno;
		got += (size_t)n;
	}
	return 0;
}

/* Read the reply to @req into @payload (@size bytes exactly). */
static int msg_reply(struct vuser *u, uint32_t req, void *payload, uint32_t size)
{
	struct vhost_user_hdr hdr;
	uint8_t body[VHOST_USER_PAYLOAD_MAX];
	int rc = read_full(u->sock, &hdr, sizeof(hdr), 5000);

	if (rc < 0)
		return rc;
	if (hdr.request != req || !(hdr.flags & VHOST_USER_REPLY_MASK) || hdr.size != size || size > sizeof(body))
		return -EPROTO;
	rc = read_full(u->sock, body, size, 5000);
	if (rc == 0)
		memcpy(payload, body, size);
	return rc;
}

/* A request without a reply of its own: with REPLY_ACK, wait for the ack. */
static int msg_call(struct vuser *u, uint32_t req, const void *payload, uint32_t size, const int *fds, unsigned nfds)
{
	bool ack = u->protocol & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK);
	uint64_t result = 0;
	int rc = msg_send(u, req, payload, size, fds, nfds, ack);

	if (rc == 0 && ack)
		rc = msg_reply(u, req, &result, sizeof(result));
	return rc < 0 ? rc : result ? -EREMOTEIO : 0;
}

static int msg_get_u64(struct vuser *u, uint32_t req, uint64_t *v)
{
	int rc = msg_send(u, req, NULL, 0, NULL, 0, false);

	return rc < 0 ? rc : msg_reply(u, req, v, sizeof(*v));
}

static int msg_set_u64(struct vuser *u, uint32_t req, uint64_t v)
{
	return msg_call(u, req, &v, sizeof(v), NULL, 0);
}

/* ---- connection ---- */

static int sock_open(const struct vuser_config *cfg, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned waited = 0, limit = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 5000;
	int fd;

	if (strlen(cfg->path) >= sizeof(sa.sun_path))
		return fail(err, errlen, "socket path too long");
	strcpy(sa.sun_path, cfg->path);
	if (cfg->server) {
		struct pollfd p;
		int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		unlink(cfg->path);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0)
			return fail(err, errlen, "listen on %s: %s", cfg->path, strerror(errno));
		p = (struct pollfd){ .fd = lfd, .events = POLLIN };
		fd = poll(&p, 1, (int)limit) == 1 ? accept4(lfd, NULL, NULL, SOCK_CLOEXEC) : -1;
		close(lfd);
		unlink(cfg->path);
		return fd >= 0 ? fd : fail(err, errlen, "no back end connected to %s", cfg->path);
	}
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		if (fd >= 0)
			close(fd);
		if (waited >= limit)
			return fail(err, errlen, "connect %s: %s", cfg->path, strerror(errno));
		usleep(20000);
		waited += 20;
	}
}

/* ---- rings ---- */

struct arena {
	uint8_t *base;
	size_t off;
};

static void *arena_take(struct arena *a, size_t size)
{
	void *p;

	a->off = align_up(a->off, 4096);
	p = a->base + a->off;
	a->off += size;
	return p;
}

static size_t ring_bytes(unsigned num, bool packed)
{
	if (packed)
		return 16ull * num + 8;
	return 4096 + align_up(virtq_split_desc_size(num) + virtq_split_avail_size(num), 4096) +
	       virtq_split_used_size(num);
}

static int ring_setup(struct vuser *u, struct vq_drv *d, struct arena *a, unsigned idx, int kick, int call)
{
	bool packed = u->features & VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	uint8_t *base = arena_take(a, ring_bytes(u->qsize, packed));
	struct vq_drv_config c = {
		.num = u->qsize, .packed = packed,
		.event_idx = u->features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX),
		.in_order = u->features & VIRTIO_BIT(VIRTIO_F_IN_ORDER),
		.desc = base,
	};
	struct vhost_user_vring_state num = { .index = idx, .num = u->qsize }, vbase = { .index = idx, .num = 0 };
	struct vhost_user_vring_addr addr = { .index = idx };
	uint64_t kick_arg = idx, call_arg = idx;
	int rc;

	if (packed) {
		/* As QEMU does: the driver area goes in "avail", the device area in "used". */
		c.driver_area = base + 16ull * u->qsize;
		c.device_area = (uint8_t *)c.driver_area + 4;
		vbase.num = 1u << 15 | 1u << 31; /* both wrap counters start at 1 */
	} else {
		c.driver_area = base + virtq_split_desc_size(u->qsize);
		c.device_area = base + align_up(virtq_split_desc_size(u->qsize) + virtq_split_avail_size(u->qsize), 4096);
	}
	rc = vq_drv_init(d, &c);
	if (rc < 0)
		return rc;
	addr.desc_uaddr = gpa_of(c.desc);
	addr.avail_uaddr = gpa_of(c.driver_area);
	addr.used_uaddr = gpa_of(c.device_area);
	if ((rc = msg_call(u, VHOST_USER_SET_VRING_NUM, &num, sizeof(num), NULL, 0)) < 0 ||
	    (rc = msg_call(u, VHOST_USER_SET_VRING_BASE, &vbase, sizeof(vbase), NULL, 0)) < 0 ||
	    (rc = msg_call(u, VHOST_USER_SET_VRING_ADDR, &addr, sizeof(addr), NULL, 0)) < 0 ||
	    (rc = msg_call(u, VHOST_USER_SET_VRING_KICK, &kick_arg, sizeof(kick_arg), &kick, 1)) < 0 ||
	    (rc = msg_call(u, VHOST_USER_SET_VRING_CALL, &call_arg, sizeof(call_arg), &call, 1)) < 0)
		return rc;
	return 0;
}

static void kick(int fd, struct vuser *u)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) == sizeof(one))
		u->stats.kicks++;
}

/* Give back the rx buffers of the last burst (and, at start, all of them), a chunk at a time. */
static void rx_refill(struct vuser *u, struct vuser_queue *q)
{
	struct vq_seg seg[VUSER_CHUNK];
	void *tok[VUSER_CHUNK];

	vq_drv_prefetch_add(&q->rx, q->nrefill);
	for (unsigned i = 0; i < q->nrefill;) {
		unsigned k = 0;

		for (; k < VUSER_CHUNK && i + k < q->nrefill; k++) {
			uint8_t *buf = q->refill[i + k];

			seg[k] = (struct vq_seg){ gpa_of(buf), u->rx_buf };
			tok[k] = buf;
		}
		if (vq_drv_add_burst(&q->rx, seg, tok, k, true) != (int)k)
			break;	/* cannot be full (as many descriptors as buffers): broken */
		i += k;
	}
	q->nrefill = 0;
	if (vq_drv_kick_prepare(&q->rx))
		kick(q->rx_kick, u);
}

/*
 * ---- Fixed buffers: a generator's short way (vuser_config.fixed) ----
 *
 * Buffer i of a ring is always the one of descriptor i (split) or buffer
 * id i (packed); the driver may make a descriptor available again once
 * the device has used it (2.7.13, 2.8.21).  rx buffers go back to the ring
 * as they came; tx buffers keep their frame between sends, and the caller
 * rewrites only the bytes that change.  What the copying way spends on a
 * frame's copy, its token and slot bookkeeping and the split ring's
 * descriptor writes is left out; the device sees the same rings.
 */

/* With @vi: the header @h of a frame of @len bytes, checked against what this end acked; false to drop it. */
static bool rx_hdr(struct vuser *u, const struct virtio_net_hdr_v1 *h, uint32_t len, struct vnet_info *vi)
{
	if (!vi || vnet_hdr_parse(h, len, u->rx_accept, vi) == VNET_OK)
		return true;
	u->stats.rx_bad_hdr++;
	return false;
}

static uint8_t *fixed_buf(const struct vuser *u, const struct vuser_queue *q, bool tx, uint16_t id)
{
	return tx ? q->tx_bufs + (size_t)id * u->tx_buf : q->rx_bufs + (size_t)id * u->rx_buf;
}

static void fixed_broken(struct vuser *u, struct vq_drv *d, bool tx, const char *why)
{
	d->broken = true;
	if (!u->error[0])
		snprintf(u->error, sizeof(u->error), "%s ring: %s", tx ? "tx" : "rx", why);
}

/*
 * Make buffers @ids[0..n) of @d available (one segment of @len bytes each)
 * and publish them; kick when the device asks.
 */
static void fixed_post(struct vuser *u, struct vuser_queue *q, bool tx, const uint16_t *ids, unsigned n,
		       uint32_t len)
{
	struct vq_drv *d = tx ? &q->tx : &q->rx;
	struct vuser_fixed_ring *fr = tx ? &q->ftx : &q->frx;
	uint16_t pos = d->avail_idx;

	if (!n || d->broken)
		return;
	if (!d->packed) {
		uint16_t mask = (uint16_t)(d->num - 1);

		for (unsigned k = 0; k < n; k++) {
			uint16_t id = ids[k];

			if (fr->len[id] != len) {
				vq_sh_store32(&d->ring.split.desc[id].len, len);
				fr->len[id] = len;
			}
			fr->out[id] = 1;
			vq_sh_store16(&d->ring.split.avail->ring[pos++ & mask], id);
		}
	} else {
		struct pvirtq_desc *desc = d->ring.packed.desc;
		bool wrap = d->avail_wrap;
		uint16_t f = fr->flags | (wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED), num = (uint16_t)d->num;

		for (unsigned k = 0; k < n; k++) {
			uint16_t id = ids[k];

			fr->out[id] = 1;
			vq_sh_store64(&desc[pos].addr, gpa_of(fixed_buf(u, q, tx, id)));
			if (k == 0 && !d->batch_head.pending) {
				/* The batch's head: its flags go last, in vq_drv_kick_prepare(). */
				vq_sh_store32(&desc[pos].len, len);
				vq_sh_store16(&desc[pos].id, id);
				d->batch_head.pos = pos;
				d->batch_head.flags = f;
				d->batch_head.pending = true;
			} else {
				vq_sh_store64((uint64_t *)&desc[pos] + 1, (uint64_t)f << 48 | (uint64_t)id << 32 | len);
			}
			if (++pos == num) {
				pos = 0;
				wrap = !wrap;
				f ^= VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
			}
		}
		d->avail_wrap = wrap;
		d->added_desc = (uint16_t)(d->added_desc + n);
	}
	d->avail_idx = pos;
	d->inflight += n;
	d->num_added = (uint16_t)(d->num_added + n);
	if (vq_drv_kick_prepare(d))
		kick(tx ? q->tx_kick : q->rx_kick, u);
}

/*
 * Up to @max buffers of @d the device is done with: their ids and lengths.
 * An id out of range or not in flight, or a length past the buffer, breaks
 * the ring (a device at fault).
 */
static unsigned fixed_used(struct vuser *u, struct vuser_queue *q, bool tx, uint16_t *ids, uint32_t *lens,
			   unsigned max)
{
	struct vq_drv *d = tx ? &q->tx : &q->rx;
	uint8_t *out = tx ? q->ftx.out : q->frx.out;
	uint32_t most = tx ? u->tx_buf : u->rx_buf;
	unsigned n = 0;

	if (d->broken)
		return 0;
	if (!d->packed) {
		const struct virtq_used_elem *used = d->ring.split.used->ring;
		uint16_t mask = (uint16_t)(d->num - 1), last = d->last_used;
		unsigned ready;

		if (last == d->used_idx_cache) {
			/* Acquire: the index before the entries and buffers it publishes. */
			uint16_t idx = vq_sh_load16_acquire(&d->ring.split.used->idx);

			if ((uint16_t)(idx - last) > d->inflight) {
				fixed_broken(u, d, tx, "device moved the used index past the buffers in flight");
				return 0;
			}
			d->used_idx_cache = idx;
		}
		ready = (uint16_t)(d->used_idx_cache - last);
		if (ready > max)
			ready = max;
		for (; n < ready; n++, last++) {
			/* One untorn load: id and len agree. */
			uint64_t e = vq_sh_load64((const uint64_t *)&used[last & mask]);
			uint32_t id = (uint32_t)e, len = (uint32_t)(e >> 32);

			if (id >= d->num || !out[id]) {
				fixed_broken(u, d, tx, "device used a buffer that is not in flight");
				break;
			}
			if (len > most) {
				fixed_broken(u, d, tx, "device wrote past a buffer");
				break;
			}
			out[id] = 0;
			ids[n] = (uint16_t)id;
			lens[n] = len;
		}
		d->last_used = last;
	} else {
		struct pvirtq_desc *desc = d->ring.packed.desc;
		uint16_t pos = d->last_used, num = (uint16_t)d->num;
		uint16_t want = d->used_wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0;
		bool wrap = d->used_wrap;

		for (; n < max; n++) {
			/* Acquire: the flags before the id, len and buffer the device wrote first. */
			uint16_t flags = vq_sh_load16_acquire(&desc[pos].flags), id;

			if ((flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) != want)
				break;
			id = vq_sh_load16(&desc[pos].id);
			if (id >= num || !out[id]) {
				fixed_broken(u, d, tx, "device used a buffer id that is not in flight");
				break;
			}
			/* 2.8.4: the length is reserved when WRITE is clear. */
			lens[n] = flags & VIRTQ_DESC_F_WRITE ? vq_sh_load32(&desc[pos].len) : 0;
			if (lens[n] > most) {
				fixed_broken(u, d, tx, "device wrote past a buffer");
				break;
			}
			out[id] = 0;
			ids[n] = id;
			if (++pos == num) {
				pos = 0;
				wrap = !wrap;
				want ^= VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
			}
		}
		d->last_used = pos;
		d->used_wrap = wrap;
	}
	d->inflight -= n;
	return n;
}

/* Every rx buffer to the ring; every tx buffer free, its descriptor written (split). */
static int fixed_setup(struct vuser *u, struct vuser_queue *q)
{
	uint16_t ids[VUSER_CHUNK];

	q->frx.out = calloc(u->qsize, 1);
	q->ftx.out = calloc(u->qsize, 1);
	q->frx.len = calloc(u->qsize, sizeof(uint32_t));
	q->ftx.len = calloc(u->qsize, sizeof(uint32_t));
	q->tx_fifo = calloc(u->qsize, sizeof(uint16_t));
	if (!q->frx.out || !q->ftx.out || !q->frx.len || !q->ftx.len || !q->tx_fifo)
		return -1;
	q->frx.flags = VIRTQ_DESC_F_WRITE;
	q->ftx.flags = 0;
	vq_drv_call_disable(&q->rx);
	vq_drv_call_disable(&q->tx);
	if (!q->rx.packed)
		for (unsigned i = 0; i < u->qsize; i++) {
			/* Written once: address and flags never change, a length only when the caller's does. */
			vq_sh_store64(&q->rx.ring.split.desc[i].addr, gpa_of(fixed_buf(u, q, false, (uint16_t)i)));
			vq_sh_store16(&q->rx.ring.split.desc[i].flags, VIRTQ_DESC_F_WRITE);
			vq_sh_store64(&q->tx.ring.split.desc[i].addr, gpa_of(fixed_buf(u, q, true, (uint16_t)i)));
		}
	for (unsigned i = 0; i < u->qsize; i++)
		q->tx_fifo[i] = (uint16_t)i;
	q->tx_fifo_n = u->qsize;
	for (unsigned i = 0; i < u->qsize;) {
		unsigned k = 0;

		for (; k < VUSER_CHUNK && i < u->qsize; k++, i++)
			ids[k] = (uint16_t)i;
		fixed_post(u, q, false, ids, k, u->rx_buf);
	}
	return 0;
}

void vuser_fixed_tx_fill(struct vuser *u, unsigned qp, const uint8_t *frame, uint32_t len, const struct vnet_info *vi)
{
	struct vuser_queue *q = &u->q[qp];

	if (!u->fixed || len > u->tx_buf - HDR_LEN)
		return;
	for (unsigned i = 0; i < u->qsize; i++) {
		uint8_t *b = fixed_buf(u, q, true, (uint16_t)i);

		if (q->ftx.out[i])
			continue;	/* the device may be reading it */
		memset(b, 0, HDR_LEN);
		if (vi)
			vnet_hdr_build(b, vi);
		memcpy(b + HDR_LEN, frame, len);
	}
}

unsigned vuser_fixed_tx_bufs(struct vuser *u, unsigned qp, uint8_t **frames, unsigned n)
{
	struct vuser_queue *q = &u->q[qp];
	unsigned num = u->qsize, k;

	if (!u->fixed)
		return 0;
	if (q->tx_fifo_n < n) {
		/* Reclaim what the device is done with: to the back of the queue of free ones. */
		uint16_t ids[VUSER_CHUNK];
		uint32_t lens[VUSER_CHUNK];
		unsigned got;

		do {
			got = fixed_used(u, q, true, ids, lens, VUSER_CHUNK);
			for (unsigned j = 0; j < got; j++)
				q->tx_fifo[(q->tx_head + q->tx_fifo_n++) % num] = ids[j];
		} while (got == VUSER_CHUNK);
	}
	k = n < q->tx_fifo_n ? n : q->tx_fifo_n;
	for (unsigned j = 0; j < k; j++) {
		frames[j] = fixed_buf(u, q, true, q->tx_fifo[(q->tx_head + j) % num]) + HDR_LEN;
		/* The device read it last, from its CPU. */
		prefetch_w(frames[j]);
	}
	q->tx_given = k;
	return k;
}

unsigned vuser_fixed_tx_send(struct vuser *u, unsigned qp, unsigned n, uint32_t len)
{
	struct vuser_queue *q = &u->q[qp];
	uint16_t ids[VUSER_CHUNK];
	unsigned sent = 0;

	if (!u->fixed || q->tx.broken || len > u->tx_buf - HDR_LEN)
		return 0;
	if (n > q->tx_given)
		n = q->tx_given;
	while (sent < n) {
		unsigned k = n - sent < VUSER_CHUNK ? n - sent : VUSER_CHUNK;

		for (unsigned j = 0; j < k; j++) {
			ids[j] = q->tx_fifo[q->tx_head];
			q->tx_head = (uint16_t)(q->tx_head + 1u == u->qsize ? 0 : q->tx_head + 1u);
		}
		q->tx_fifo_n -= k;
		fixed_post(u, q, true, ids, k, HDR_LEN + len);
		sent += k;
	}
	q->tx_given = 0;
	u->stats.tx_frames += sent;
	return sent;
}

unsigned vuser_fixed_rx(struct vuser *u, unsigned qp, struct vuser_frame *frames, unsigned max)
{
	return vuser_fixed_rx_vnet(u, qp, frames, NULL, max);
}

unsigned vuser_fixed_rx_vnet(struct vuser *u, unsigned qp, struct vuser_frame *frames, struct vnet_info *vnet,
			     unsigned max)
{
	struct vuser_queue *q = &u->q[qp];
	uint16_t ids[VUSER_RX_HOLD];
	uint32_t lens[VUSER_RX_HOLD];
	unsigned got, n = 0;

	if (!u->fixed)
		return 0;
	/* The last call's buffers back to the ring, as they came. */
	fixed_post(u, q, false, q->rx_back, q->rx_nback, u->rx_buf);
	q->rx_nback = 0;
	got = fixed_used(u, q, false, ids, lens, max < VUSER_RX_HOLD ? max : VUSER_RX_HOLD);
	/* The device just wrote these lines from its CPU: start the misses together. */
	for (unsigned j = 0; j < got; j++)
		prefetch_r(fixed_buf(u, q, false, ids[j]));
	for (unsigned j = 0; j < got; j++) {
		const uint8_t *b = fixed_buf(u, q, false, ids[j]);
		struct virtio_net_hdr_v1 h;

		q->rx_back[q->rx_nback++] = ids[j];
		if (lens[j] < HDR_LEN) {
			u->stats.rx_bad_hdr++;
			continue;
		}
		memcpy(&h, b, sizeof(h));
		if (u->mrg && h.num_buffers != 1) {
			/*
			 * 5.1.6.4.2: one frame over several buffers, though every
			 * frame fits one (vuser_open()): a device at fault.  Its
			 * other buffers hold payload, not headers: none is read.
			 */
			fixed_broken(u, &q->rx, false, "a frame over several buffers (num_buffers != 1)");
			u->stats.rx_bad_hdr++;
			break;
		}
		if (rx_hdr(u, &h, lens[j] - HDR_LEN, vnet ? &vnet[n] : NULL))
			frames[n++] = (struct vuser_frame){ b + HDR_LEN, lens[j] - HDR_LEN };
	}
	u->stats.rx_frames += n;
	return n;
}

struct vuser *vuser_open(const struct vuser_config *cfg, char *err, size_t errlen)
{
	struct vuser *u = calloc(1, sizeof(*u));
	uint64_t offered, want, proto = 0;
	uint32_t frame_max;
	struct vhost_user_memory mt = { .nregions = 1 };
	struct arena a;
	int rc;

	if (!u) {
		fail(err, errlen, "out of memory");
		return NULL;
	}
	u->sock = u->memfd = -1;
	u->nqp = cfg->queue_pairs ? cfg->queue_pairs : 1;
	u->qsize = cfg->queue_size ? cfg->queue_size : 256;
	if (u->nqp > VUSER_MAX_QUEUE_PAIRS || u->qsize > VIRTQ_MAX_SIZE ||
	    (!cfg->packed && (u->qsize & (u->qsize - 1)))) {
		fail(err, errlen, "bad queue count or size");
		goto out_free;
	}
	if (cfg->fixed && cfg->in_order) {
		/* An in-order device may use a batch with one entry (2.7.9), which the fixed way does not read. */
		fail(err, errlen, "fixed buffers: not with in_order");
		goto out_free;
	}
	u->fixed = cfg->fixed;
	for (unsigned i = 0; i < VUSER_MAX_QUEUE_PAIRS; i++)
		u->q[i].rx_kick = u->q[i].rx_call = u->q[i].tx_kick = u->q[i].tx_call = -1;

	u->sock = sock_open(cfg, err, errlen);
	if (u->sock < 0)
		goto out_free;
	if ((rc = msg_get_u64(u, VHOST_USER_GET_FEATURES, &offered)) < 0) {
		fail(err, errlen, "GET_FEATURES: %s", strerror(-rc));
		goto out_free;
	}
	want = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VHOST_USER_F_PROTOCOL_FEATURES_BIT;
	if (!cfg->no_mrg_rxbuf)
		want |= VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);
	if (!cfg->no_event_idx)
		want |= VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
	if (cfg->packed)
		want |= VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	if (cfg->indirect)
		want |= VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
	if (cfg->in_order)
		want |= VIRTIO_BIT(VIRTIO_F_IN_ORDER);
	if (cfg->tso4)
		want |= VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4);
	if (cfg->tso4 && !cfg->no_guest_offload)
		want |= VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4);
	u->features = want & offered;
	/* 5.1.3.1: "The driver MUST NOT negotiate VIRTIO_NET_F_HOST_TSO4 ... without VIRTIO_NET_F_CSUM" (GUEST_ alike). */
	if (!(u->features & VIRTIO_BIT(VIRTIO_NET_F_CSUM)))
		u->features &= ~VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4);
	if (!(u->features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM)))
		u->features &= ~VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4);
	if (u->features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM))
		u->rx_accept |= VNET_ACCEPT_CSUM | VNET_ACCEPT_DATA_VALID;
	if (u->features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4))
		u->rx_accept |= VNET_ACCEPT_TSO4;
	if (!(u->features & VIRTIO_BIT(VIRTIO_F_VERSION_1)) ||
	    (cfg->packed && !(u->features & VIRTIO_BIT(VIRTIO_F_RING_PACKED)))) {
		fail(err, errlen, "back end lacks VERSION_1%s (offers 0x%llx)", cfg->packed ? " or RING_PACKED" : "",
		     (unsigned long long)offered);
		goto out_free;
	}
	if (offered & VHOST_USER_F_PROTOCOL_FEATURES_BIT) {
		uint64_t p;

		if ((rc = msg_get_u64(u, VHOST_USER_GET_PROTOCOL_FEATURES, &p)) < 0)
			goto out_proto;
		proto = p & (1ull << VHOST_USER_PROTOCOL_F_MQ | 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK);
		if ((rc = msg_set_u64(u, VHOST_USER_SET_PROTOCOL_FEATURES, proto)) < 0)
			goto out_proto;
		u->protocol = proto;
	}
	if (u->nqp > 1) {
		uint64_t max = 1;

		if (!(proto & (1ull << VHOST_USER_PROTOCOL_F_MQ)) ||
		    msg_get_u64(u, VHOST_USER_GET_QUEUE_NUM, &max) < 0 || max < u->nqp) {
			fail(err, errlen, "back end supports %llu queue pairs, %u asked", (unsigned long long)max, u->nqp);
			goto out_free;
		}
	}
	if ((rc = msg_call(u, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0)) < 0 ||
	    (rc = msg_set_u64(u, VHOST_USER_SET_FEATURES, u->features)) < 0)
		goto out_proto;

	/* Memory: rings and buffers of every queue pair in one memfd. */
	u->mrg = u->features & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);
	frame_max = HDR_LEN + (cfg->mtu ? cfg->mtu : 1500) + 18;	/* virtio-net header, Ethernet header, a tag */
	u->tx_buf = (uint32_t)align_up(frame_max, 64);
	u->rx_buf = !u->mrg ? u->tx_buf : u->rx_accept & VNET_ACCEPT_TSO4 ? RX_BUF_MRG_TSO : VUSER_RX_BUF_MRG;
	if (u->fixed && frame_max > u->rx_buf) {
		/*
		 * A fixed receive buffer holds one frame whole (vuser_fixed_rx()),
		 * so the mergeable buffers' 2 or 4 KiB give way to the mtu's size.
		 * A device with MRG_RXBUF still fills one buffer before it takes
		 * another (5.1.6.4.2); one that spreads a frame breaks the ring.
		 */
		u->rx_buf = u->tx_buf;
	}
	if ((u->rx_accept & VNET_ACCEPT_TSO4) && (!u->mrg || u->fixed) && u->rx_buf < RX_BUF_GSO) {
		/*
		 * 5.1.6.3.1: with GUEST_TSO4 "and not MRG_RXBUF, the driver SHOULD
		 * populate the receive queue(s) with buffers of at least 65562
		 * bytes": a GSO frame may pass the mtu.  Fixed buffers hold a
		 * frame whole either way.
		 */
		u->rx_buf = RX_BUF_GSO;
	}
	u->mem_size = 4096 + u->nqp * (2 * align_up(ring_bytes(u->qsize, true) + ring_bytes(u->qsize, false), 4096) +
				       (size_t)u->qsize * (u->rx_buf + u->tx_buf) + 3 * 4096);
	u->mem_size = align_up(u->mem_size, 2 << 20);
	/*
	 * Sealed once sized: the back end maps this file, and one that shrank
	 * under its mappings would fault there (SIGBUS); nor can it grow or be
	 * unsealed by whoever else gets the fd.
	 */
	u->memfd = memfd_create("vuser", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (u->memfd < 0 || ftruncate(u->memfd, (off_t)u->mem_size) < 0 ||
	    fcntl(u->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0 ||
	    (u->mem = mmap(NULL, u->mem_size, PROT_READ | PROT_WRITE, MAP_SHARED, u->memfd, 0)) == MAP_FAILED) {
		u->mem = NULL;
		fail(err, errlen, "shared memory: %s", strerror(errno));
		goto out_free;
	}
	mt.regions[0] = (struct vhost_user_mem_region){
		.gpa = gpa_of(u->mem), .size = u->mem_size, .uaddr = gpa_of(u->mem), .mmap_offset = 0,
	};
	if ((rc = msg_call(u, VHOST_USER_SET_MEM_TABLE, &mt, 8 + sizeof(mt.regions[0]), &u->memfd, 1)) < 0)
		goto out_proto;

	a = (struct arena){ .base = u->mem };
	for (unsigned i = 0; i < u->nqp; i++) {
		struct vuser_queue *q = &u->q[i];

		q->rx_kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		q->rx_call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		q->tx_kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		q->tx_call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		q->tx_free = calloc(u->qsize, sizeof(*q->tx_free));
		q->refill = calloc(u->qsize, sizeof(*q->refill));
		q->reasm = malloc(REASM_ARENA);
		if (q->rx_kick < 0 || q->rx_call < 0 || q->tx_kick < 0 || q->tx_call < 0 || !q->tx_free || !q->refill ||
		    !q->reasm) {
			fail(err, errlen, "out of memory or eventfds");
			goto out_free;
		}
		if ((rc = ring_setup(u, &q->rx, &a, virtio_net_rxq(i), q->rx_kick, q->rx_call)) < 0 ||
		    (rc = ring_setup(u, &q->tx, &a, virtio_net_txq(i), q->tx_kick, q->tx_call)) < 0)
			goto out_proto;
		q->rx_bufs = arena_take(&a, (size_t)u->qsize * u->rx_buf);
		q->tx_bufs = arena_take(&a, (size_t)u->qsize * u->tx_buf);
		if (u->fixed) {
			if (fixed_setup(u, q) < 0) {
				fail(err, errlen, "out of memory");
				goto out_free;
			}
			continue;
		}
		for (unsigned b = 0; b < u->qsize; b++)
			q->tx_free[q->tx_nfree++] = q->tx_bufs + (size_t)b * u->tx_buf;
		/* Busy polling: no used-buffer notifications until vuser_wait_rx(). */
		vq_drv_call_disable(&q->rx);
		vq_drv_call_disable(&q->tx);
		for (unsigned b = 0; b < u->qsize; b++)
			q->refill[q->nrefill++] = q->rx_bufs + (size_t)b * u->rx_buf;
		rx_refill(u, q);
	}
	if (a.off > u->mem_size) {
		fail(err, errlen, "internal: memory layout overflow");
		goto out_free;
	}
	if (u->features & VHOST_USER_F_PROTOCOL_FEATURES_BIT)
		for (unsigned i = 0; i < 2 * u->nqp; i++) {
			struct vhost_user_vring_state en = { .index = i, .num = 1 };

			if ((rc = msg_call(u, VHOST_USER_SET_VRING_ENABLE, &en, sizeof(en), NULL, 0)) < 0)
				goto out_proto;
		}
	return u;

out_proto:
	fail(err, errlen, "vhost-user setup failed: %s", strerror(-rc));
out_free:
	vuser_close(u);
	return NULL;
}

/* ---- data path ---- */

unsigned vuser_tx_burst(struct vuser *u, unsigned qp, const struct vuser_frame *frames, unsigned n)
{
	return vuser_tx_burst_vnet(u, qp, frames, NULL, n);
}

/*
 * Copy a frame into a tx buffer: small frames (the common case of a
 * packet-rate benchmark) in fixed 32- or 16-byte moves the compiler keeps
 * inline, the last one overlapping the one before, instead of a call to
 * memcpy.
 */
static void frame_copy(uint8_t *dst, const uint8_t *src, uint32_t len)
{
	if (len >= 32 && len <= 64) {
		memcpy(dst, src, 32);
		memcpy(dst + len - 32, src + len - 32, 32);
		return;
	}
	if (len < 16 || len > 128) {
		memcpy(dst, src, len);
		return;
	}
	for (uint32_t off = 0; off + 16 < len; off += 16)
		memcpy(dst + off, src + off, 16);
	memcpy(dst + len - 16, src + len - 16, 16);
}

unsigned vuser_tx_burst_vnet(struct vuser *u, unsigned qp, const struct vuser_frame *frames,
			     const struct vnet_info *vnet, unsigned n)
{
	struct vuser_queue *q = &u->q[qp];
	unsigned sent = 0;

	if (u->fixed)
		return 0;	/* vuser_fixed_tx_bufs() and vuser_fixed_tx_send() */
	/* Reclaim what the back end is done with (len is meaningless for tx), when the burst needs it. */
	if (q->tx_nfree < n) {
		void *tok[VUSER_CHUNK];
		int got;

		do {
			got = vq_drv_get_used_burst(&q->tx, tok, NULL, VUSER_CHUNK);
			for (int k = 0; k < got; k++)
				q->tx_free[q->tx_nfree++] = tok[k];
		} while (got == VUSER_CHUNK);
		if (got == -EIO && !u->error[0])
			snprintf(u->error, sizeof(u->error), "tx ring: %s", q->tx.error);
	}
	/* The buffers and ring lines this burst writes: the back end read them last, from its CPU. */
	vq_drv_prefetch_add(&q->tx, n);
	for (unsigned k = 0; k < n && k < q->tx_nfree; k++)
		prefetch_w(q->tx_free[q->tx_nfree - 1 - k]);
	while (sent < n) {
		struct vq_seg seg[VUSER_CHUNK];
		void *tok[VUSER_CHUNK];
		unsigned k = 0;
		int added;

		/* Fill a chunk of buffers, then put them on the ring in one call. */
		for (; k < VUSER_CHUNK && sent + k < n && q->tx_nfree; k++) {
			const struct vuser_frame *f = &frames[sent + k];
			uint8_t *buf;

			if (f->len > u->tx_buf - HDR_LEN)
				break;
			buf = q->tx_free[--q->tx_nfree];
			/* A constant size: the compiler stores it inline instead of calling memset. */
			memset(buf, 0, HDR_LEN);
			if (vnet)
				vnet_hdr_build(buf, &vnet[sent + k]);
			frame_copy(buf + HDR_LEN, f->data, f->len);
			seg[k] = (struct vq_seg){ gpa_of(buf), HDR_LEN + f->len };
			tok[k] = buf;
		}
		added = k ? vq_drv_add_burst(&q->tx, seg, tok, k, false) : 0;
		if (added < 0)
			added = 0;
		/* What the ring did not take goes back (it cannot be full: as many descriptors as buffers). */
		for (unsigned r = (unsigned)added; r < k; r++)
			q->tx_free[q->tx_nfree++] = tok[r];
		sent += (unsigned)added;
		if ((unsigned)added < VUSER_CHUNK || (unsigned)added < k)
			break;
	}
	if (sent && vq_drv_kick_prepare(&q->tx))
		kick(q->tx_kick, u);
	u->stats.tx_frames += sent;
	u->stats.tx_full += n - sent;
	return sent;
}

/* Reap used rx buffers into the hold, up to @room in all; false when none came (or the ring broke). */
static bool rx_reap(struct vuser *u, struct vuser_queue *q, unsigned room)
{
	int got = vq_drv_get_used_burst(&q->rx, q->held_tok + q->nheld, q->held_len + q->nheld, room - q->nheld);

	if (got <= 0) {
		if (got == -EIO && !u->error[0])
			snprintf(u->error, sizeof(u->error), "rx ring: %s", q->rx.error);
		return false;
	}
	/* The back end just wrote these lines from its CPU: start the misses now, together. */
	for (unsigned k = q->nheld; k < q->nheld + (unsigned)got; k++)
		prefetch_r(q->held_tok[k]);
	q->nheld += (unsigned)got;
	return true;
}

/* The next used rx buffer: reaped earlier, else from the ring. */
static bool rx_take(struct vuser *u, struct vuser_queue *q, uint8_t **buf, uint32_t *len)
{
	if (q->held_at == q->nheld) {
		q->held_at = q->nheld = 0;
		if (!rx_reap(u, q, VUSER_RX_HOLD))
			return false;
	}
	*buf = q->held_tok[q->held_at];
	*len = q->held_len[q->held_at];
	q->held_at++;
	return true;
}

/*
 * Two passes, as the guest's virtnet_poll cannot but a poll-mode driver
 * can: first reap every used buffer there is (up to the hold), prefetching
 * each one's header line, then read the headers and hand the frames out.
 * The misses of a burst overlap instead of queueing one behind the other.
 */
unsigned vuser_rx_burst(struct vuser *u, unsigned qp, struct vuser_frame *frames, unsigned max)
{
	return vuser_rx_burst_vnet(u, qp, frames, NULL, max);
}

unsigned vuser_rx_burst_vnet(struct vuser *u, unsigned qp, struct vuser_frame *frames, struct vnet_info *vnet,
			     unsigned max)
{
	struct vuser_queue *q = &u->q[qp];
	unsigned room = max < VUSER_RX_HOLD ? max : VUSER_RX_HOLD;
	size_t reasm_off = 0;
	unsigned n = 0;

	if (u->fixed)
		return 0;	/* vuser_fixed_rx() */
	rx_refill(u, q);
	if (q->held_at) {
		/* A head left by the last burst (no room to join it then) goes first. */
		memmove(q->held_tok, q->held_tok + q->held_at, (q->nheld - q->held_at) * sizeof(q->held_tok[0]));
		memmove(q->held_len, q->held_len + q->held_at, (q->nheld - q->held_at) * sizeof(q->held_len[0]));
		q->nheld -= q->held_at;
		q->held_at = 0;
	}
	if (q->nheld < room)
		rx_reap(u, q, room);
	while (n < max) {
		struct virtio_net_hdr_v1 h;
		uint32_t len;
		uint8_t *buf;

		if (!rx_take(u, q, &buf, &len))
			break;
		if (len < HDR_LEN) {
			q->refill[q->nrefill++] = buf;
			continue;
		}
		memcpy(&h, buf, sizeof(h));
		if (!u->mrg || h.num_buffers <= 1) {
			q->refill[q->nrefill++] = buf;
			if (rx_hdr(u, &h, len - HDR_LEN, vnet ? &vnet[n] : NULL))
				frames[n++] = (struct vuser_frame){ buf + HDR_LEN, len - HDR_LEN };
			continue;
		}
		/* Mergeable: the rest of the frame is in the next num_buffers - 1 used buffers. */
		if ((size_t)h.num_buffers * u->rx_buf > REASM_MAX + u->rx_buf) {
			/* No frame is that large: the back end is broken; drop the head, say so. */
			if (!u->error[0])
				snprintf(u->error, sizeof(u->error), "rx: num_buffers %u", h.num_buffers);
			q->refill[q->nrefill++] = buf;
			continue;
		}
		if (reasm_off + (size_t)h.num_buffers * u->rx_buf > REASM_ARENA) {
			/* No room left to join it in this burst: keep this head for the next. */
			q->held_at--;
			break;
		}
		q->refill[q->nrefill++] = buf;
		{
			uint8_t *dst = q->reasm + reasm_off;
			uint32_t total = len - HDR_LEN;

			memcpy(dst, buf + HDR_LEN, total);
			/* 5.1.6.4.2: the device makes all num_buffers used together, so they are all here. */
			for (unsigned k = 1; k < h.num_buffers; k++) {
				uint8_t *more;

				if (!rx_take(u, q, &more, &len))
					break;
				q->refill[q->nrefill++] = more;
				if (total + len > (size_t)h.num_buffers * u->rx_buf)
					len = h.num_buffers * u->rx_buf - total;
				memcpy(dst + total, more, len);
				total += len;
			}
			if (rx_hdr(u, &h, total, vnet ? &vnet[n] : NULL)) {
				frames[n++] = (struct vuser_frame){ dst, total };
				reasm_off += align_up(total, 64);
			}
		}
	}
	u->stats.rx_frames += n;
	return n;
}

int vuser_wait_rx(struct vuser *u, unsigned qp, int timeout_ms)
{
	struct vuser_queue *q = &u->q[qp];
	struct pollfd p = { .fd = q->rx_call, .events = POLLIN };
	uint64_t v;
	int rc;

	if (vq_drv_call_enable(&q->rx)) {
		vq_drv_call_disable(&q->rx);
		return 1;
	}
	rc = poll(&p, 1, timeout_ms);
	if (rc > 0 && read(q->rx_call, &v, sizeof(v)) < 0) {
		/* already drained */
	}
	vq_drv_call_disable(&q->rx);
	return rc > 0 ? 1 : 0;
}

uint64_t vuser_features(const struct vuser *u)
{
	return u->features;
}

const char *vuser_error(const struct vuser *u)
{
	return u->error[0] ? u->error : NULL;
}

void vuser_get_stats(const struct vuser *u, struct vuser_stats *s)
{
	*s = u->stats;
}

void vuser_close(struct vuser *u)
{
	if (!u)
		return;
	for (unsigned i = 0; i < VUSER_MAX_QUEUE_PAIRS; i++) {
		struct vuser_queue *q = &u->q[i];
		int fds[4] = { q->rx_kick, q->rx_call, q->tx_kick, q->tx_call };

		for (unsigned k = 0; k < 4; k++)
			if (fds[k] >= 0)
				close(fds[k]);
		vq_drv_fini(&q->rx);
		vq_drv_fini(&q->tx);
		free(q->tx_free);
		free(q->refill);
		free(q->reasm);
		free(q->frx.out);
		free(q->frx.len);
		free(q->ftx.out);
		free(q->ftx.len);
		free(q->tx_fifo);
	}
	if (u->sock >= 0)
		close(u->sock);
	if (u->mem)
		munmap(u->mem, u->mem_size);
	if (u->memfd >= 0)
		close(u->memfd);
	free(u);
}
