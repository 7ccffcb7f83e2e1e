/* vhost_user_fx.h - the fixture the vhost-user device tests share: a device, a QEMU-like front end on a socketpair, leak checks. */
#ifndef VSW_TESTS_VHOST_USER_FX_H
#define VSW_TESTS_VHOST_USER_FX_H

/*
 * Each test drives one struct vu_dev in-process, the way vswd's control
 * thread does, with the test playing the front end:
 *
 *   test (front end)                         device under test
 *   fx->peer --sendmsg(msg, SCM_RIGHTS)--> fd0 --vu_dev_on_readable()-->
 *            <--------- replies ---------      vu_msg_validate, handlers
 *
 * and checks what vu_dev_on_readable() returns, d->error, the replies and
 * the device state.  Memory regions are memfds the test also maps itself,
 * so a test can see that the device's view of guest memory is the same
 * bytes; kick/call fds are eventfds.
 *
 * Resources: every test starts from a fixture that recorded how many fds
 * the process has open and how many mappings of the test memfds exist; the
 * teardown detaches the device and checks both are back to that baseline.
 * A message the device refuses must therefore close the fds it carried,
 * and a refused memory table must not leave a mapping behind.
 */

/*
 * Included by test_vhost_user.c (sessions), test_vhost_user_msg.c (framing
 * and hostile messages) and test_vhost_user_mem.c (memory tables and the
 * dirty log), after <cmocka.h>.  Each test binary is one of them: the
 * statics here are its own, and a helper a file does not call is inline so
 * that it costs no warning.
 */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
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

#include "../lib/proc_counts.h"
#include "../lib/vu_regions.h"
#include "vhost_user/vu_dev.h"
#include "vhost_user/vu_memguard.h"
#include "vsw/virtio_net.h"
#include "vsw/virtio_spec.h"


/* What vswd's vhost-user port offers (port_vhost.c); the device has 2 queue pairs, vrings 0-3. */
#define VIRTIO_F_ANY_LAYOUT 27
#define OFFERED                                                                                          \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_ANY_LAYOUT) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | \
	 VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_RING_PACKED) | \
	 VIRTIO_BIT(VIRTIO_F_IN_ORDER) | VIRTIO_BIT(VIRTIO_NET_F_MTU) | VIRTIO_BIT(VIRTIO_NET_F_STATUS))
#define F_PROTO VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES)
#define QUEUE_PAIRS 2
#define NVRINGS (2 * QUEUE_PAIRS)

#define P(bit) (1ull << VHOST_USER_PROTOCOL_F_##bit)
#define PROTO_OFFERED (P(MQ) | P(REPLY_ACK) | P(NET_MTU) | P(CONFIGURE_MEM_SLOTS) | P(STATUS) | P(LOG_SHMFD))
/* Every device offers dirty logging (vu_dev.c) on top of what its port offers. */
#define F_LOG_ALL VIRTIO_BIT(VHOST_F_LOG_ALL)

/* Flags of a request, and of a reply. */
#define V VHOST_USER_VERSION
#define ACK (VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK)
#define REPLY (VHOST_USER_VERSION | VHOST_USER_REPLY_MASK)

/*
 * Guest memory of the QEMU-like session: one 64 KiB memfd at guest
 * physical GPA, which the front end has at user address UADDR.  Vring i
 * uses the 16 KiB at RING(i): descriptors, then the avail ring at +4 KiB,
 * the used ring at +8 KiB (split, 256 entries; packed uses desc and the
 * two event areas at the same places).
 */
#define MEM_SIZE 0x10000ull
#define GPA 0x100000ull
#define UADDR 0x7f1200000000ull
#define RING(i) (UADDR + (uint64_t)(i) * 0x4000)
#define RING_NUM 256
#define MEMFD_NAME "vsw-test-mem"

/* A region of a memory table, and the payload size of a table of @n regions, for tables written out by hand. */
#define REG(g, s, u, o) { .gpa = (g), .size = (s), .uaddr = (u), .mmap_offset = (o) }
#define MT_SIZE(n) (8 + 32 * (n))

struct fx {
	struct vu_dev d;
	int peer;			/* the front end's end of the socket */
	unsigned quiesces, changes;	/* calls of the ops */
	int base_fds, base_maps;	/* before the test */
	char violation[256];		/* the first broken precondition the ops saw, "" if none */
	bool violation_reported;	/* by pump(), so not again by the teardown */
	uint8_t *mem;			/* the test's own mapping of the session's memory, or NULL */
};

/* ---- process-wide resource counts ---- */

static inline int count_fds(void)
{
	int n = proc_count_fds();

	assert_true(n >= 0);
	return n;
}

/* Mappings of the test memfds in this process (the device's and the test's). */
static inline int count_maps(void)
{
	int n = proc_count_memfd_maps(MEMFD_NAME);

	assert_true(n >= 0);
	return n;
}

static inline bool fd_is_open(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}

/* ---- the owner's ops: count, and check the documented preconditions ---- */

/* The case a table-driven test is at, named in its failure messages. */
static const char *current_case = "";

/*
 * The ops run inside handlers: a broken precondition is recorded there
 * (the first one) and reported by pump() once the handler has returned,
 * rather than jumping out of the device's code.
 */
__attribute__((format(printf, 2, 3))) static inline void violation(struct fx *f, const char *fmt, ...)
{
	va_list ap;

	if (f->violation[0])
		return;
	va_start(ap, fmt);
	vsnprintf(f->violation, sizeof(f->violation), fmt, ap);
	va_end(ap);
}

static inline void op_quiesce(void *arg)
{
	struct fx *f = arg;

	/* vu_dev.h: "rings already not live". */
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		if (atomic_load(&f->d.vrings[i].live))
			violation(f, "quiesce with vring %u live", i);
	f->quiesces++;
}

/* Every ring area of a live vring is inside the current mappings (workers and the owner touch them). */
static inline bool live_vq_inside(const struct vu_dev *d, unsigned i)
{
	const struct vq *q = &d->vrings[i].vq;

	if (q->packed)
		return vu_regions_hold(d, q->ring.packed.desc, 16ull * q->num) &&
		       vu_regions_hold(d, q->ring.packed.driver_event, 4) && vu_regions_hold(d, q->ring.packed.device_event, 4);
	return vu_regions_hold(d, q->ring.split.desc, 16ull * q->num) &&
	       vu_regions_hold(d, q->ring.split.avail, 6 + 2ull * q->num) &&
	       vu_regions_hold(d, q->ring.split.used, 6 + 8ull * q->num);
}

static inline void op_rings_changed(void *arg)
{
	struct fx *f = arg;

	/* live = started && enabled && memory mapped && vq_init() accepted it (vu_dev.h). */
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++) {
		struct vu_vring *vr = &f->d.vrings[i];

		if (!atomic_load(&vr->live))
			continue;
		if (i >= NVRINGS || !vr->started || !vr->enabled || f->d.nregions == 0 || vq_broken(&vr->vq))
			violation(f, "vring %u live but index %u of %u, started %d, enabled %d, %u regions, broken %d", i,
				  i, NVRINGS, vr->started, vr->enabled, f->d.nregions, vq_broken(&vr->vq));
		else if (!live_vq_inside(&f->d, i))
			violation(f, "vring %u is live but its rings are not inside the mapped guest memory", i);
	}
	f->changes++;
}

static const struct vu_dev_ops ops = { .quiesce = op_quiesce, .rings_changed = op_rings_changed };

/* ---- the front end's side of the socket ---- */

/* One sendmsg of @len bytes with @nfds fds (at most 253, SCM_MAX_FD) as SCM_RIGHTS. */
static inline void send_raw(int sock, const void *buf, size_t len, const int *fds, unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(253 * sizeof(int))];
		struct cmsghdr align;
	} ctrl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	assert_true(nfds <= 253);
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctrl, 0, sizeof(ctrl));
		mh.msg_control = ctrl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

/* Header + @size payload bytes into @wire; returns the length. */
static inline size_t build_msg(uint8_t *wire, uint32_t req, uint32_t flags, const void *payload, uint32_t size)
{
	struct vhost_user_hdr h = { .request = req, .flags = flags, .size = size };

	memcpy(wire, &h, sizeof(h));
	if (size)
		memcpy(wire + sizeof(h), payload, size);
	return sizeof(h) + size;
}

static inline void send_msg(struct fx *f, uint32_t req, uint32_t flags, const void *payload, uint32_t size,
		     const int *fds, unsigned nfds)
{
	uint8_t wire[VHOST_USER_HDR_SIZE + 4096];

	assert_true(size <= 4096);
	send_raw(f->peer, wire, build_msg(wire, req, flags, payload, size), fds, nfds);
}

/* Bytes waiting in the device's end of the socket. */
static inline int unread(const struct fx *f)
{
	int n = 0;

	assert_int_equal(ioctl(f->d.fd, FIONREAD, &n), 0);
	return n;
}

/*
 * Call vu_dev_on_readable() until it fails or the socket is empty, as an
 * event loop with level-triggered readiness would; what it returned last.
 * (test_one_call_handles_waiting_message checks that one call is enough.)
 */
static inline int pump(struct fx *f)
{
	for (int i = 0; i < 1000; i++) {
		int rc = vu_dev_on_readable(&f->d);

		if (f->violation[0] && !f->violation_reported) {
			f->violation_reported = true;
			fail_msg("%s: %s", current_case, f->violation);
		}
		if (rc != 0 || unread(f) == 0)
			return rc;
	}
	fail_msg("the device does not consume its socket");
	return 0;
}

/* Send one message, let the device read everything waiting; what vu_dev_on_readable() returned. */
static inline int xfer(struct fx *f, uint32_t req, uint32_t flags, const void *payload, uint32_t size, const int *fds,
		unsigned nfds)
{
	send_msg(f, req, flags, payload, size, fds, nfds);
	return pump(f);
}

/* The next reply must be for @req with exactly @size payload bytes, copied to @payload. */
static inline void expect_reply(struct fx *f, uint32_t req, void *payload, uint32_t size)
{
	struct vhost_user_hdr h;

	assert_int_equal(recv(f->peer, &h, sizeof(h), MSG_DONTWAIT), (ssize_t)sizeof(h));
	assert_int_equal(h.request, req);
	assert_int_equal(h.flags, REPLY);
	assert_int_equal(h.size, size);
	if (size)
		assert_int_equal(recv(f->peer, payload, size, MSG_DONTWAIT), (ssize_t)size);
}

static inline uint64_t expect_u64_reply(struct fx *f, uint32_t req)
{
	uint64_t v = ~0ull;

	expect_reply(f, req, &v, sizeof(v));
	return v;
}

static inline void expect_no_reply(struct fx *f)
{
	char c;

	assert_int_equal(recv(f->peer, &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

/* A request with a u64 payload, need_reply set; the device must take it and ack 0. */
static inline void ok_u64(struct fx *f, uint32_t req, uint64_t v)
{
	assert_int_equal(xfer(f, req, ACK, &v, sizeof(v), NULL, 0), 0);
	assert_int_equal(expect_u64_reply(f, req), 0);
	assert_string_equal(f->d.error, "");
}

static inline void ok_state(struct fx *f, uint32_t req, uint32_t index, uint32_t num)
{
	struct vhost_user_vring_state s = { .index = index, .num = num };

	assert_int_equal(xfer(f, req, ACK, &s, sizeof(s), NULL, 0), 0);
	assert_int_equal(expect_u64_reply(f, req), 0);
	assert_string_equal(f->d.error, "");
}

/* A GET_* without payload; returns its u64 reply. */
static inline uint64_t get_u64(struct fx *f, uint32_t req)
{
	assert_int_equal(xfer(f, req, V, NULL, 0, NULL, 0), 0);
	return expect_u64_reply(f, req);
}

/* The device must refuse what it just read: -EPROTO, a reason naming @why, no reply. */
static inline void expect_broken(struct fx *f, int rc, const char *why)
{
	if (rc != -EPROTO || !strstr(f->d.error, why))
		fail_msg("%s: returned %d, error \"%s\", expected -EPROTO and \"%s\"", current_case, rc, f->d.error,
			 why);
	expect_no_reply(f);
}

static inline int new_memfd(uint64_t size)
{
	int fd = memfd_create(MEMFD_NAME, MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static inline int new_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	assert_true(fd >= 0);
	return fd;
}

static inline void close_all(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
}

/* ---- fixture ---- */

static inline void fx_connect(struct fx *f)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	f->peer = sv[1];
	vu_dev_attach(&f->d, sv[0]);
}

/* End the session and start a fresh one on a new socket (same device). */
static inline void fx_reconnect(struct fx *f)
{
	vu_dev_detach(&f->d);
	close(f->peer);
	fx_connect(f);
}

static inline int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	current_case = "";
	f->base_fds = count_fds();
	f->base_maps = count_maps();
	assert_int_equal(vu_dev_init(&f->d, "t", OFFERED, QUEUE_PAIRS, &ops, f), 0);
	fx_connect(f);
	*state = f;
	return 0;
}

static inline int fx_teardown(void **state)
{
	struct fx *f = *state;
	int base_fds = f->base_fds, base_maps = f->base_maps;
	char violation[sizeof(f->violation)];
	bool all_closed;

	vu_dev_detach(&f->d);
	/* vu_dev_detach: "stop rings, unmap memory, close every fd". */
	all_closed = f->d.fd == -1 && f->d.nregions == 0 && f->d.nfds == 0;
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++) {
		const struct vu_vring *vr = &f->d.vrings[i];

		all_closed &= vr->kick_fd == -1 && vr->call_fd == -1 && vr->err_fd == -1 && !atomic_load(&vr->live);
	}
	vu_dev_fini(&f->d);
	close(f->peer);
	if (f->mem)
		munmap(f->mem, MEM_SIZE);
	snprintf(violation, sizeof(violation), "%s", f->violation_reported ? "" : f->violation);
	free(f);
	/* Checked after freeing, so that a failure here leaks nothing either. */
	if (violation[0])
		fail_msg("the ops saw: %s", violation);
	assert_true(all_closed);
	assert_int_equal(count_fds(), base_fds);
	assert_int_equal(count_maps(), base_maps);
	return 0;
}

/* ---- the QEMU-like session, in steps the tests reuse ---- */

/* GET/SET_FEATURES and the protocol features, as QEMU's vhost_user_backend_init() does. */
static inline void negotiate(struct fx *f, uint64_t features, uint64_t protocol)
{
	uint64_t p = protocol;

	assert_int_equal(get_u64(f, VHOST_USER_GET_FEATURES), OFFERED | F_PROTO | F_LOG_ALL);
	if (features & F_PROTO) {
		assert_int_equal(get_u64(f, VHOST_USER_GET_PROTOCOL_FEATURES), PROTO_OFFERED);
		/* No need_reply: REPLY_ACK is not negotiated before this message is handled. */
		assert_int_equal(xfer(f, VHOST_USER_SET_PROTOCOL_FEATURES, V, &p, sizeof(p), NULL, 0), 0);
		expect_no_reply(f);
		assert_int_equal(f->d.protocol, protocol);
	}
	if (protocol & P(MQ))
		assert_int_equal(get_u64(f, VHOST_USER_GET_QUEUE_NUM), QUEUE_PAIRS);
	if (protocol & P(CONFIGURE_MEM_SLOTS))
		assert_int_equal(get_u64(f, VHOST_USER_GET_MAX_MEM_SLOTS), VU_MAX_MEM_SLOTS);
	if (protocol & P(REPLY_ACK)) {
		ok_u64(f, VHOST_USER_SET_OWNER, 0);
		ok_u64(f, VHOST_USER_SET_FEATURES, features);
	} else {
		assert_int_equal(xfer(f, VHOST_USER_SET_OWNER, V, NULL, 0, NULL, 0), 0);
		assert_int_equal(xfer(f, VHOST_USER_SET_FEATURES, V, &features, 8, NULL, 0), 0);
		expect_no_reply(f);
	}
	assert_int_equal(f->d.features, features);
	assert_true(f->d.features_set);
}

/* SET_MEM_TABLE with the session's one region (the test maps it too, at f->mem). */
static inline void mem_table(struct fx *f)
{
	struct vhost_user_memory mt = {
		.nregions = 1,
		.regions[0] = { .gpa = GPA, .size = MEM_SIZE, .uaddr = UADDR, .mmap_offset = 0 },
	};
	int fd = new_memfd(MEM_SIZE);
	uint32_t size = 8 + sizeof(mt.regions[0]);

	if (f->mem)
		munmap(f->mem, MEM_SIZE);
	f->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(f->mem != MAP_FAILED);
	assert_int_equal(xfer(f, VHOST_USER_SET_MEM_TABLE, ACK, &mt, size, &fd, 1), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_SET_MEM_TABLE), 0);
	close(fd);
	assert_int_equal(f->d.nregions, 1);
	assert_true(f->d.regions[0].gpa == GPA && f->d.regions[0].size == MEM_SIZE &&
		    f->d.regions[0].uaddr == UADDR);
}

static inline void vring_addr(struct fx *f, unsigned i, uint64_t desc, uint64_t avail, uint64_t used, uint32_t flags)
{
	struct vhost_user_vring_addr a = {
		.index = i, .desc_uaddr = desc, .avail_uaddr = avail, .used_uaddr = used,
	};

	assert_int_equal(xfer(f, VHOST_USER_SET_VRING_ADDR, flags, &a, sizeof(a), NULL, 0), 0);
	if (flags & VHOST_USER_NEED_REPLY_MASK)
		assert_int_equal(expect_u64_reply(f, VHOST_USER_SET_VRING_ADDR), 0);
}

/* An eventfd for SET_VRING_KICK/CALL/ERR of vring @i; 0 or what the device said. */
static inline int vring_fd(struct fx *f, uint32_t req, unsigned i, uint32_t flags)
{
	uint64_t v = i;
	int fd = new_eventfd(), rc;

	rc = xfer(f, req, flags, &v, sizeof(v), &fd, 1);
	close(fd);
	return rc;
}

/* SET_VRING_NUM/ADDR/BASE/CALL/KICK of vring @i at RING(i), as QEMU's vhost_virtqueue_start(). */
static inline void vring_start(struct fx *f, unsigned i, unsigned num)
{
	ok_state(f, VHOST_USER_SET_VRING_NUM, i, num);
	vring_addr(f, i, RING(i), RING(i) + 0x1000, RING(i) + 0x2000, ACK);
	ok_state(f, VHOST_USER_SET_VRING_BASE, i, vu_has_feature(&f->d, VIRTIO_F_RING_PACKED) ? 0x80008000u : 0);
	assert_int_equal(vring_fd(f, VHOST_USER_SET_VRING_CALL, i, ACK), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_SET_VRING_CALL), 0);
	assert_int_equal(vring_fd(f, VHOST_USER_SET_VRING_KICK, i, ACK), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_SET_VRING_KICK), 0);
	assert_true(f->d.vrings[i].started);
	assert_true(fd_is_open(f->d.vrings[i].kick_fd) && fd_is_open(f->d.vrings[i].call_fd));
}

static inline uint64_t full_features(void)
{
	return VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |
	       VIRTIO_BIT(VIRTIO_NET_F_MTU) | VIRTIO_BIT(VIRTIO_NET_F_STATUS) | F_PROTO;
}

/* The whole QEMU sequence up to both vrings of queue pair 0 live. */
static inline void session_live(struct fx *f, uint64_t features)
{
	negotiate(f, features, PROTO_OFFERED);
	ok_u64(f, VHOST_USER_NET_SET_MTU, 1500);
	mem_table(f);
	for (unsigned i = 0; i < 2; i++) {
		vring_start(f, i, RING_NUM);
		/* PROTOCOL_FEATURES negotiated: rings start disabled until SET_VRING_ENABLE. */
		assert_false(atomic_load(&f->d.vrings[i].live));
	}
	for (unsigned i = 0; i < 2; i++) {
		ok_state(f, VHOST_USER_SET_VRING_ENABLE, i, 1);
		assert_true(atomic_load(&f->d.vrings[i].live));
	}
}

/* The SIGBUS guard keeps one memfd open for the life of the process: made before any test counts fds. */
static inline int group_setup(void **state)
{
	return vu_memguard_init();
}

#endif
