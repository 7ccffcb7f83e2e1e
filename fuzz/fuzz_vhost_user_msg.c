/* fuzz_vhost_user_msg.c - libFuzzer target for the vhost-user message intake (vu_msg.c) and its handlers (vu_dev.c). */

/*
 * The fuzzer plays a hostile front end on a real socket: its input becomes
 * the byte stream a struct vu_dev reads, cut into writes of sizes the input
 * chooses, with fds (SCM_RIGHTS) where the input asks for them.  The device
 * must never crash, hang, leak memory, mappings or fds, or reply with
 * anything but well-formed replies; on every violation it must fail with a
 * reason in d->error.
 *
 *   input ---records---> fd1 ==socketpair==> fd0 --vu_dev_on_readable()--> vu_dev
 *           <--- replies drained and checked ---
 *
 * Input format (multi-byte fields in native order, as on the wire):
 *
 *   off  size  field
 *     0   u8   cfg   bits 0-1: queue pairs - 1 (1..4)
 *                    bit 2: offer only VERSION_1 (else everything vswd offers)
 *                    bit 3: the memfd is 4 KiB instead of 64 KiB
 *     1   records, until the input ends:
 *
 *          u8   ctl   bits 0-3: fds attached to the record's first write (0-15;
 *                     more than 8 in one write makes the kernel truncate
 *                     them); in write mode 1 they go with the payload, or,
 *                     when more than 8, half with the header and the rest
 *                     with the payload (too many fds over two reads)
 *                     bit 4: the other kind of fd than the request suggests
 *                     bits 5-6: how the record is written:
 *                       0 in one write
 *                       1 header, then payload
 *                       2 one byte per write
 *                       3 writes of (next input byte % 32 + 1) bytes
 *                     bit 7: do not let the device read after this record
 *                     (the next records pile up in the socket)
 *         [u8   chunk]  only with write mode 3
 *          12   header: request, flags, size (what the device sees)
 *          n    payload: min(size, 4096, what is left of the input) bytes
 *
 *   The fd kind follows the header: SET_MEM_TABLE, ADD_MEM_REG,
 *   REM_MEM_REG and SET_LOG_BASE get the memfd (the dirty log may then
 *   share the file with guest memory), everything else an eventfd (bit 4
 *   swaps them).  Every fd of a record is the same file, so a SET_MEM_TABLE may
 *   map the one memfd several times at different guest addresses: rings can
 *   be placed in it by the region and vring addresses alone.
 *
 * After the device read each record: drain and check replies; when the
 * session goes on, check the device state (regions inside the memfd, live
 * rings only where started, enabled and inside mapped memory) and touch
 * each live ring as a worker would (vq_kick_enable).  At the end of the
 * input: shut the socket down, read until the device reports the end
 * (-ECONNRESET or a protocol error), detach, fini, and check that the fds
 * and mappings of the process are back to what they were.
 *
 * FUZZ_VU_TRACE=1 prints one line per input: messages handled, the most
 * vrings live at once, how the session ended (to check what a seed does).
 * FUZZ_VU_SKIP_ALIGN=1 neither reports nor touches a live ring whose
 * host address is misaligned (a region with an odd mmap_offset maps an
 * aligned guest address to a misaligned host one), to look for other bugs
 * while that one stands.
 * FUZZ_VU_STRICT=1 in the environment also checks the live rings inside
 * the owner's rings_changed() callback, i.e. in the middle of a handler that
 * is about to fail (vswd's rings_changed touches the rings right there).
 *
 * fuzz/make_corpus_vhost_user_msg.py writes the seed corpus in this format.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tests/lib/proc_counts.h"
#include "../tests/lib/vu_regions.h"
#include "vhost_user/vu_dev.h"
#include "vhost_user/vu_memguard.h"
#include "vsw/virtio_net.h"
#include "vsw/virtio_spec.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define VIRTIO_F_ANY_LAYOUT 27
#define OFFERED_ALL                                                                                      \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_ANY_LAYOUT) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | \
	 VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_RING_PACKED) | \
	 VIRTIO_BIT(VIRTIO_F_IN_ORDER) | VIRTIO_BIT(VIRTIO_NET_F_MTU) | VIRTIO_BIT(VIRTIO_NET_F_STATUS))
#define PAYLOAD_CAP 4096u
#define SEND_RETRIES 64

struct harness {
	struct vu_dev d;
	int peer;			/* the front end's end */
	int memfd, evfd;
	uint64_t memfd_bytes;
	bool strict, trace, skip_align;
	unsigned max_live;		/* most vrings live at once during the input */
	bool ended;			/* vu_dev_on_readable() returned != 0 */
	bool sent_memfd;		/* the memfd went out at least once: check the mappings at the end */
	int last_rc;
	/* Replies: a stream of 12-byte headers and payloads, checked as they come. */
	uint8_t reply[VHOST_USER_HDR_SIZE + VHOST_USER_PAYLOAD_MAX];
	size_t reply_have;
};

static struct harness H;

__attribute__((noreturn, format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzz_vhost_user_msg: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (device error: \"%s\")\n", H.d.error);
	va_end(ap);
	abort();
}

static int count_fds(void)
{
	int n = proc_count_fds();

	if (n < 0)
		fail("cannot list /proc/self/fd: %s", strerror(errno));
	return n;
}

/* Mappings of the fuzzer's memfds (the device's; the harness maps none), in the whole process. */
static int count_maps(void)
{
	int n = proc_count_memfd_maps("fuzz-vu-mem");

	if (n < 0)
		fail("cannot read /proc/self/maps: %s", strerror(errno));
	return n;
}

/* ---- checks of the device state ---- */

static bool aligned(const void *p, uintptr_t a)
{
	return ((uintptr_t)p & (a - 1)) == 0;
}

/* The host views of a live ring keep the alignment 2.7.1 / 2.8.10.1 require (the code accesses them as such). */
static bool ring_aligned(const struct vq *q)
{
	if (q->packed)
		return aligned(q->ring.packed.desc, 16) && aligned(q->ring.packed.driver_event, 4) &&
		       aligned(q->ring.packed.device_event, 4);
	return aligned(q->ring.split.desc, 16) && aligned(q->ring.split.avail, 2) && aligned(q->ring.split.used, 4);
}

static void check_live_ring(const struct vu_dev *d, unsigned i)
{
	const struct vu_vring *vr = &d->vrings[i];
	const struct vq *q = &vr->vq;
	bool inside;

	if (i >= 2 * d->max_queue_pairs)
		fail("vring %u live beyond %u queue pairs", i, d->max_queue_pairs);
	if (!vr->started || !vr->enabled || d->nregions == 0 || vq_broken(q))
		fail("vring %u live but started %d enabled %d regions %u broken %d", i, vr->started, vr->enabled,
		     d->nregions, vq_broken(q));
	if (q->packed)
		inside = vu_regions_hold(d, q->ring.packed.desc, 16ull * q->num) &&
			 vu_regions_hold(d, q->ring.packed.driver_event, 4) && vu_regions_hold(d, q->ring.packed.device_event, 4);
	else
		inside = vu_regions_hold(d, q->ring.split.desc, 16ull * q->num) &&
			 vu_regions_hold(d, q->ring.split.avail, 6 + 2ull * q->num) &&
			 vu_regions_hold(d, q->ring.split.used, 6 + 8ull * q->num);
	if (!inside)
		fail("vring %u live with rings outside the mapped memory", i);
	if (!H.skip_align && !ring_aligned(q))
		fail("vring %u live with rings at misaligned host addresses (desc %p)", i,
		     q->packed ? (void *)q->ring.packed.desc : (void *)q->ring.split.desc);
}

/* The state a session that goes on must be in. */
static void check_state(struct vu_dev *d)
{
	if (d->nregions > VU_MAX_MEM_SLOTS)
		fail("%u regions", d->nregions);
	for (unsigned i = 0; i < d->nregions; i++) {
		const struct vu_region *r = &d->regions[i];

		uint64_t end = (uint64_t)(r->hva - (uint8_t *)r->mmap_base) + r->size;

		/* The mapping runs from offset 0 to offset + size rounded up to a page (the memfd's block). */
		if (!r->mmap_base || r->hva < (uint8_t *)r->mmap_base || r->size == 0 ||
		    end > H.memfd_bytes || r->mmap_len != ((end + 4095) & ~4095ull))
			fail("region %u: bad mapping (size %llu, map %zu of a %llu-byte memfd)", i,
			     (unsigned long long)r->size, r->mmap_len, (unsigned long long)H.memfd_bytes);
	}
	if (d->mem->nregions != d->nregions)
		fail("guest memory map has %u regions, the table %u", d->mem->nregions, d->nregions);
	for (unsigned i = 0, live = 0; i < VU_MAX_VRINGS; i++) {
		struct vu_vring *vr = &d->vrings[i];

		if (!atomic_load(&vr->live))
			continue;
		if (++live > H.max_live)
			H.max_live = live;
		check_live_ring(d, i);
		/* What a worker does first with a live ring: touches its shared fields. */
		if (ring_aligned(&vr->vq))
			(void)vq_kick_enable(&vr->vq);
	}
	if (d->have > sizeof(d->wire) || d->nfds > VHOST_USER_MAX_FDS)
		fail("partial message of %zu bytes with %u fds", d->have, d->nfds);
}

/* ---- the owner's ops ---- */

static void op_quiesce(void *arg)
{
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		if (atomic_load(&H.d.vrings[i].live))
			fail("quiesce with vring %u live", i);
}

static void op_rings_changed(void *arg)
{
	if (!H.strict)
		return;
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		if (atomic_load(&H.d.vrings[i].live))
			check_live_ring(&H.d, i);
}

static const struct vu_dev_ops ops = { .quiesce = op_quiesce, .rings_changed = op_rings_changed };

/* ---- the socket ---- */

/* Read and check every reply waiting (each is 12 + 8 bytes: every reply of ours carries a u64 or a vring state). */
static void drain_replies(void)
{
	for (;;) {
		ssize_t n = recv(H.peer, H.reply + H.reply_have, sizeof(H.reply) - H.reply_have, MSG_DONTWAIT);
		struct vhost_user_hdr h;

		if (n <= 0)
			return;
		H.reply_have += (size_t)n;
		while (H.reply_have >= VHOST_USER_HDR_SIZE) {
			memcpy(&h, H.reply, sizeof(h));
			if (h.flags != (VHOST_USER_VERSION | VHOST_USER_REPLY_MASK) || h.size != 8 ||
			    !vu_msg_rule(h.request))
				fail("bad reply: request %u flags 0x%x size %u", h.request, h.flags, h.size);
			if (H.reply_have < VHOST_USER_HDR_SIZE + h.size)
				break;
			H.reply_have -= VHOST_USER_HDR_SIZE + h.size;
			memmove(H.reply, H.reply + VHOST_USER_HDR_SIZE + h.size, H.reply_have);
		}
	}
}

static int unread_bytes(void)
{
	int n = 0;

	return ioctl(H.d.fd, FIONREAD, &n) < 0 ? 0 : n;
}

/*
 * Let the device read what is waiting, as a level-triggered event loop
 * would (calls until the socket is empty); record and check what it says.
 */
static void device_read(void)
{
	int rc = 0;

	if (H.ended)
		return;
	for (int calls = 0; calls < 1024; calls++) {
		rc = vu_dev_on_readable(&H.d);
		if (rc != 0 || unread_bytes() == 0)
			break;
	}
	H.last_rc = rc;
	if (rc == 0) {
		if (H.d.error[0])
			fail("returned 0 with an error recorded");
		check_state(&H.d);
	} else {
		H.ended = true;
		if (rc == -ECONNRESET && H.d.error[0])
			fail("-ECONNRESET with an error recorded");
		if (rc != -ECONNRESET && !H.d.error[0])
			fail("returned %d without a reason", rc);
	}
	drain_replies();
}

/* One write of @len bytes with @nfds copies of @fd; retried while the socket is full. */
static void peer_write(const uint8_t *buf, size_t len, int fd, unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(15 * sizeof(int))];
		struct cmsghdr align;
	} ctrl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		struct cmsghdr *c;

		H.sent_memfd |= fd == H.memfd;
		memset(&ctrl, 0, sizeof(ctrl));
		mh.msg_control = ctrl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		for (unsigned i = 0; i < nfds; i++)
			memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof(int));
	}
	for (int tries = 0; len > 0 && tries < SEND_RETRIES; tries++) {
		ssize_t n = sendmsg(H.peer, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			iov.iov_base = (uint8_t *)iov.iov_base + n;
			iov.iov_len -= (size_t)n;
			len -= (size_t)n;
			mh.msg_control = NULL; /* the fds went with the first bytes */
			mh.msg_controllen = 0;
			continue;
		}
		if (n < 0 && errno != EAGAIN)
			return; /* the device closed its end: the session is over */
		if (H.ended)
			return; /* nobody reads any more */
		device_read();
	}
}

static bool wants_memfd(uint32_t req)
{
	return req == VHOST_USER_SET_MEM_TABLE || req == VHOST_USER_ADD_MEM_REG || req == VHOST_USER_REM_MEM_REG ||
	       req == VHOST_USER_SET_LOG_BASE;
}

/* Write one record's bytes as @mode says; returns how much of the input it used. */
static size_t send_record(const uint8_t *data, size_t size)
{
	uint8_t ctl = data[0];
	unsigned nfds = ctl & 15, mode = (ctl >> 5) & 3, chunk = 0;
	size_t pos = 1, len, hdr_len;
	struct vhost_user_hdr h = { 0 };
	const uint8_t *rec;
	int fd;

	if (mode == 3) {
		if (pos >= size)
			return size;
		chunk = data[pos++] % 32 + 1;
	}
	hdr_len = size - pos < VHOST_USER_HDR_SIZE ? size - pos : VHOST_USER_HDR_SIZE;
	memcpy(&h, data + pos, hdr_len);
	len = hdr_len;
	if (hdr_len == VHOST_USER_HDR_SIZE) {
		size_t payload = h.size < PAYLOAD_CAP ? h.size : PAYLOAD_CAP;

		len += payload < size - pos - hdr_len ? payload : size - pos - hdr_len;
	}
	rec = data + pos;
	fd = wants_memfd(h.request) != !!(ctl & 16) ? H.memfd : H.evfd;
	if (len == 0)
		return pos;
	switch (mode) {
	case 0:
		peer_write(rec, len, fd, nfds);
		break;
	case 1: {
		unsigned first = nfds > VHOST_USER_MAX_FDS ? nfds / 2 : 0;

		peer_write(rec, hdr_len, fd, len > hdr_len ? first : nfds);
		device_read();
		if (len > hdr_len)
			peer_write(rec + hdr_len, len - hdr_len, fd, nfds - first);
		break;
	}
	default:
		if (mode == 2)
			chunk = 1;
		for (size_t off = 0; off < len; off += chunk) {
			size_t n = len - off < chunk ? len - off : chunk;

			peer_write(rec + off, n, fd, off == 0 ? nfds : 0);
			if (off + n < len)
				device_read();
		}
		break;
	}
	if (!(ctl & 128))
		device_read();
	return pos + len;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *s = getenv("FUZZ_VU_STRICT");
	int rc;

	H.strict = s && s[0] == '1';
	s = getenv("FUZZ_VU_TRACE");
	H.trace = s && s[0] == '1';
	s = getenv("FUZZ_VU_SKIP_ALIGN");
	H.skip_align = s && s[0] == '1';
	signal(SIGPIPE, SIG_IGN);
	/* The SIGBUS guard's stand-in memfd stays open for good: made before the first run counts fds. */
	rc = vu_memguard_init();
	if (rc < 0)
		fail("vu_memguard_init: %s", strerror(-rc));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int base_fds, sv[2];
	size_t pos = 1;
	uint8_t cfg;

	if (size < 1)
		return 0;
	cfg = data[0];
	base_fds = count_fds();
	memset(&H.d, 0, sizeof(H.d));
	H.ended = false;
	H.last_rc = 0;
	H.reply_have = 0;
	H.max_live = 0;
	H.sent_memfd = false;
	H.memfd_bytes = cfg & 8 ? 0x1000 : 0x10000;
	H.memfd = memfd_create("fuzz-vu-mem", MFD_CLOEXEC);
	H.evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (H.memfd < 0 || ftruncate(H.memfd, (off_t)H.memfd_bytes) < 0 || H.evfd < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0)
		fail("setup: %s", strerror(errno));
	H.peer = sv[1];
	if (vu_dev_init(&H.d, "fuzz", cfg & 4 ? VIRTIO_BIT(VIRTIO_F_VERSION_1) : OFFERED_ALL, (cfg & 3) + 1, &ops,
			NULL) < 0)
		fail("vu_dev_init");
	vu_dev_attach(&H.d, sv[0]);

	while (pos < size && !H.ended)
		pos += send_record(data + pos, size - pos);

	/* The front end hangs up: the device must say so within as many reads as bytes are left. */
	shutdown(H.peer, SHUT_WR);
	for (size_t n = 0; !H.ended; n++) {
		if (n > size + 2)
			fail("no end of session after the front end hung up");
		device_read();
	}

	if (H.trace)
		fprintf(stderr, "fuzz_vhost_user_msg: %llu messages, up to %u vrings live, %u regions, ended %d \"%s\"\n",
			(unsigned long long)H.d.messages, H.max_live, H.d.nregions, H.last_rc, H.d.error);
	vu_dev_detach(&H.d);
	if (H.d.fd != -1 || H.d.nregions != 0 || H.d.nfds != 0)
		fail("detach left fd %d, %u regions, %u fds", H.d.fd, H.d.nregions, H.d.nfds);
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++) {
		const struct vu_vring *vr = &H.d.vrings[i];

		if (vr->kick_fd != -1 || vr->call_fd != -1 || vr->err_fd != -1 || atomic_load(&vr->live))
			fail("detach left vring %u with fds or live", i);
	}
	vu_dev_fini(&H.d);
	close(H.peer);
	close(H.memfd);
	close(H.evfd);
	/* Reading /proc/self/maps is the slow part of a run: only when something could be mapped. */
	if (H.sent_memfd && count_maps() != 0)
		fail("%d memfd mappings left", count_maps());
	if (count_fds() != base_fds)
		fail("%d fds leaked", count_fds() - base_fds);
	return 0;
}
