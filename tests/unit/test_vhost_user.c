/* test_vhost_user.c - unit tests of the vhost-user device: a QEMU-like session over a socketpair, then every hostile message the validation must refuse. */

/*
 * Each test drives one struct vu_dev in-process, the way vswd's control
 * thread does, with this file playing the front end:
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

#include <cmocka.h>

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

static int count_fds(void)
{
	int n = proc_count_fds();

	assert_true(n >= 0);
	return n;
}

/* Mappings of the test memfds in this process (the device's and the test's). */
static int count_maps(void)
{
	int n = proc_count_memfd_maps(MEMFD_NAME);

	assert_true(n >= 0);
	return n;
}

static bool fd_is_open(int fd)
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
__attribute__((format(printf, 2, 3))) static void violation(struct fx *f, const char *fmt, ...)
{
	va_list ap;

	if (f->violation[0])
		return;
	va_start(ap, fmt);
	vsnprintf(f->violation, sizeof(f->violation), fmt, ap);
	va_end(ap);
}

static void op_quiesce(void *arg)
{
	struct fx *f = arg;

	/* vu_dev.h: "rings already not live". */
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		if (atomic_load(&f->d.vrings[i].live))
			violation(f, "quiesce with vring %u live", i);
	f->quiesces++;
}

/* Every ring area of a live vring is inside the current mappings (workers and the owner touch them). */
static bool live_vq_inside(const struct vu_dev *d, unsigned i)
{
	const struct vq *q = &d->vrings[i].vq;

	if (q->packed)
		return vu_regions_hold(d, q->ring.packed.desc, 16ull * q->num) &&
		       vu_regions_hold(d, q->ring.packed.driver_event, 4) && vu_regions_hold(d, q->ring.packed.device_event, 4);
	return vu_regions_hold(d, q->ring.split.desc, 16ull * q->num) &&
	       vu_regions_hold(d, q->ring.split.avail, 6 + 2ull * q->num) &&
	       vu_regions_hold(d, q->ring.split.used, 6 + 8ull * q->num);
}

static void op_rings_changed(void *arg)
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
static void send_raw(int sock, const void *buf, size_t len, const int *fds, unsigned nfds)
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
static size_t build_msg(uint8_t *wire, uint32_t req, uint32_t flags, const void *payload, uint32_t size)
{
	struct vhost_user_hdr h = { .request = req, .flags = flags, .size = size };

	memcpy(wire, &h, sizeof(h));
	if (size)
		memcpy(wire + sizeof(h), payload, size);
	return sizeof(h) + size;
}

static void send_msg(struct fx *f, uint32_t req, uint32_t flags, const void *payload, uint32_t size,
		     const int *fds, unsigned nfds)
{
	uint8_t wire[VHOST_USER_HDR_SIZE + 4096];

	assert_true(size <= 4096);
	send_raw(f->peer, wire, build_msg(wire, req, flags, payload, size), fds, nfds);
}

/* Bytes waiting in the device's end of the socket. */
static int unread(const struct fx *f)
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
static int pump(struct fx *f)
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
static int xfer(struct fx *f, uint32_t req, uint32_t flags, const void *payload, uint32_t size, const int *fds,
		unsigned nfds)
{
	send_msg(f, req, flags, payload, size, fds, nfds);
	return pump(f);
}

/* The next reply must be for @req with exactly @size payload bytes, copied to @payload. */
static void expect_reply(struct fx *f, uint32_t req, void *payload, uint32_t size)
{
	struct vhost_user_hdr h;

	assert_int_equal(recv(f->peer, &h, sizeof(h), MSG_DONTWAIT), (ssize_t)sizeof(h));
	assert_int_equal(h.request, req);
	assert_int_equal(h.flags, REPLY);
	assert_int_equal(h.size, size);
	if (size)
		assert_int_equal(recv(f->peer, payload, size, MSG_DONTWAIT), (ssize_t)size);
}

static uint64_t expect_u64_reply(struct fx *f, uint32_t req)
{
	uint64_t v = ~0ull;

	expect_reply(f, req, &v, sizeof(v));
	return v;
}

static void expect_no_reply(struct fx *f)
{
	char c;

	assert_int_equal(recv(f->peer, &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

/* A request with a u64 payload, need_reply set; the device must take it and ack 0. */
static void ok_u64(struct fx *f, uint32_t req, uint64_t v)
{
	assert_int_equal(xfer(f, req, ACK, &v, sizeof(v), NULL, 0), 0);
	assert_int_equal(expect_u64_reply(f, req), 0);
	assert_string_equal(f->d.error, "");
}

static void ok_state(struct fx *f, uint32_t req, uint32_t index, uint32_t num)
{
	struct vhost_user_vring_state s = { .index = index, .num = num };

	assert_int_equal(xfer(f, req, ACK, &s, sizeof(s), NULL, 0), 0);
	assert_int_equal(expect_u64_reply(f, req), 0);
	assert_string_equal(f->d.error, "");
}

/* A GET_* without payload; returns its u64 reply. */
static uint64_t get_u64(struct fx *f, uint32_t req)
{
	assert_int_equal(xfer(f, req, V, NULL, 0, NULL, 0), 0);
	return expect_u64_reply(f, req);
}

/* The device must refuse what it just read: -EPROTO, a reason naming @why, no reply. */
static void expect_broken(struct fx *f, int rc, const char *why)
{
	if (rc != -EPROTO || !strstr(f->d.error, why))
		fail_msg("%s: returned %d, error \"%s\", expected -EPROTO and \"%s\"", current_case, rc, f->d.error,
			 why);
	expect_no_reply(f);
}

static int new_memfd(uint64_t size)
{
	int fd = memfd_create(MEMFD_NAME, MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static int new_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	assert_true(fd >= 0);
	return fd;
}

static void close_all(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
}

/* ---- fixture ---- */

static void fx_connect(struct fx *f)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	f->peer = sv[1];
	vu_dev_attach(&f->d, sv[0]);
}

/* End the session and start a fresh one on a new socket (same device). */
static void fx_reconnect(struct fx *f)
{
	vu_dev_detach(&f->d);
	close(f->peer);
	fx_connect(f);
}

static int fx_setup(void **state)
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

static int fx_teardown(void **state)
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
static void negotiate(struct fx *f, uint64_t features, uint64_t protocol)
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
static void mem_table(struct fx *f)
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

static void vring_addr(struct fx *f, unsigned i, uint64_t desc, uint64_t avail, uint64_t used, uint32_t flags)
{
	struct vhost_user_vring_addr a = {
		.index = i, .desc_uaddr = desc, .avail_uaddr = avail, .used_uaddr = used,
	};

	assert_int_equal(xfer(f, VHOST_USER_SET_VRING_ADDR, flags, &a, sizeof(a), NULL, 0), 0);
	if (flags & VHOST_USER_NEED_REPLY_MASK)
		assert_int_equal(expect_u64_reply(f, VHOST_USER_SET_VRING_ADDR), 0);
}

/* An eventfd for SET_VRING_KICK/CALL/ERR of vring @i; 0 or what the device said. */
static int vring_fd(struct fx *f, uint32_t req, unsigned i, uint32_t flags)
{
	uint64_t v = i;
	int fd = new_eventfd(), rc;

	rc = xfer(f, req, flags, &v, sizeof(v), &fd, 1);
	close(fd);
	return rc;
}

/* SET_VRING_NUM/ADDR/BASE/CALL/KICK of vring @i at RING(i), as QEMU's vhost_virtqueue_start(). */
static void vring_start(struct fx *f, unsigned i, unsigned num)
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

static uint64_t full_features(void)
{
	return VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |
	       VIRTIO_BIT(VIRTIO_NET_F_MTU) | VIRTIO_BIT(VIRTIO_NET_F_STATUS) | F_PROTO;
}

/* The whole QEMU sequence up to both vrings of queue pair 0 live. */
static void session_live(struct fx *f, uint64_t features)
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

/* ---- valid sessions ---- */

/* QEMU's setup, split ring: every step acked, both vrings live, memory shared with the test. */
static void test_qemu_session_split(void **state)
{
	struct fx *f = *state;
	uint64_t *hva;
	uint64_t avail;
	int fds_live;

	session_live(f, full_features());
	assert_int_equal(f->d.mtu, 1500);
	assert_int_equal(f->d.protocol, PROTO_OFFERED);
	assert_int_equal(vu_dev_net_hdr_len(&f->d), 12);
	assert_false(atomic_load(&f->d.vrings[2].live));
	assert_true(f->changes > 0);
	/* The device's guest memory is the test's memfd: a store on one side shows on the other. */
	hva = gmem_translate(f->d.mem, GPA + 0x8000, 8, &avail);
	assert_non_null(hva);
	assert_int_equal(avail, 8);
	memcpy(f->mem + 0x8000, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	assert_memory_equal(hva, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	assert_null(gmem_translate(f->d.mem, GPA + MEM_SIZE, 1, &avail));
	/* The device holds 4 eventfds (2 kick, 2 call) and no memfd: it closes that after mmap. */
	fds_live = count_fds();
	assert_int_equal(fds_live, f->base_fds + 1 /* the test's peer socket */ + 1 /* the device's */ + 4);

	/* SET_STATUS / GET_STATUS (PROTOCOL_F_STATUS). */
	ok_u64(f, VHOST_USER_SET_STATUS, 0x0f);
	assert_int_equal(get_u64(f, VHOST_USER_GET_STATUS), 0x0f);
	assert_int_equal(f->d.status, 0x0f);
	assert_true(f->d.messages > 20);
}

/* The same with a packed ring of a size that is not a power of 2 (allowed for packed, 2.8). */
static void test_qemu_session_packed(void **state)
{
	struct fx *f = *state;

	negotiate(f, full_features() | VIRTIO_BIT(VIRTIO_F_RING_PACKED), PROTO_OFFERED);
	mem_table(f);
	vring_start(f, 0, 100);
	vring_start(f, 1, RING_NUM);
	ok_state(f, VHOST_USER_SET_VRING_ENABLE, 0, 1);
	ok_state(f, VHOST_USER_SET_VRING_ENABLE, 1, 1);
	assert_true(atomic_load(&f->d.vrings[0].live) && atomic_load(&f->d.vrings[1].live));
	assert_true(f->d.vrings[0].vq.packed);
	/* GET_VRING_BASE gives back the packed base QEMU sent (both wrap counters set). */
	struct vhost_user_vring_state s = { .index = 0 };

	assert_int_equal(xfer(f, VHOST_USER_GET_VRING_BASE, V, &s, sizeof(s), NULL, 0), 0);
	expect_reply(f, VHOST_USER_GET_VRING_BASE, &s, sizeof(s));
	assert_int_equal(s.index, 0);
	assert_int_equal(s.num, 0x80008000u);
}

/* Without PROTOCOL_FEATURES (a legacy front end) a ring is enabled from the start: live at SET_VRING_KICK. */
static void test_legacy_session_no_protocol_features(void **state)
{
	struct fx *f = *state;
	struct vhost_user_memory mt = { .nregions = 1, .regions[0] = { GPA, MEM_SIZE, UADDR, 0 } };
	struct vhost_user_vring_state s = { .index = 1, .num = RING_NUM };
	int fd = new_memfd(MEM_SIZE);

	negotiate(f, VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF), 0);
	assert_int_equal(f->d.protocol, 0);
	assert_int_equal(vu_dev_net_hdr_len(&f->d), 12);
	/* need_reply without REPLY_ACK negotiated: no ack. */
	assert_int_equal(xfer(f, VHOST_USER_SET_MEM_TABLE, ACK, &mt, 8 + 32, &fd, 1), 0);
	close(fd);
	expect_no_reply(f);
	assert_int_equal(xfer(f, VHOST_USER_SET_VRING_NUM, V, &s, sizeof(s), NULL, 0), 0);
	vring_addr(f, 1, RING(1), RING(1) + 0x1000, RING(1) + 0x2000, V);
	s.num = 0;
	assert_int_equal(xfer(f, VHOST_USER_SET_VRING_BASE, V, &s, sizeof(s), NULL, 0), 0);
	assert_false(atomic_load(&f->d.vrings[1].live));
	assert_int_equal(vring_fd(f, VHOST_USER_SET_VRING_KICK, 1, V), 0);
	expect_no_reply(f);
	assert_true(f->d.vrings[1].enabled);
	assert_true(atomic_load(&f->d.vrings[1].live));
	assert_false(atomic_load(&f->d.vrings[0].live));
	assert_string_equal(f->d.error, "");
	/* Without VERSION_1 and MRG_RXBUF the header is the legacy 10 bytes. */
	fx_reconnect(f);
	negotiate(f, 0, 0);
	assert_int_equal(vu_dev_net_hdr_len(&f->d), 10);
}

/* GET_VRING_BASE stops a live ring and closes its kick fd; SET_VRING_KICK restarts it at the saved base. */
static void test_stop_and_restart_vring(void **state)
{
	struct fx *f = *state;
	struct vhost_user_vring_state s = { .index = 1 };
	unsigned q0;

	session_live(f, full_features());
	q0 = f->quiesces;
	assert_int_equal(xfer(f, VHOST_USER_GET_VRING_BASE, V, &s, sizeof(s), NULL, 0), 0);
	expect_reply(f, VHOST_USER_GET_VRING_BASE, &s, sizeof(s));
	assert_int_equal(s.index, 1);
	assert_int_equal(s.num, 0);
	assert_false(f->d.vrings[1].started);
	assert_false(atomic_load(&f->d.vrings[1].live));
	assert_int_equal(f->d.vrings[1].kick_fd, -1);
	assert_true(atomic_load(&f->d.vrings[0].live));
	assert_true(f->quiesces > q0); /* a live ring went off the data path */

	/* Stopped: size and base may change again. */
	ok_state(f, VHOST_USER_SET_VRING_NUM, 1, 128);
	ok_state(f, VHOST_USER_SET_VRING_BASE, 1, 7);
	assert_int_equal(vring_fd(f, VHOST_USER_SET_VRING_KICK, 1, ACK), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_SET_VRING_KICK), 0);
	assert_true(f->d.vrings[1].started);
	assert_true(atomic_load(&f->d.vrings[1].live));
	assert_int_equal(f->d.vrings[1].vq.num, 128);
	s = (struct vhost_user_vring_state){ .index = 1 };
	assert_int_equal(xfer(f, VHOST_USER_GET_VRING_BASE, V, &s, sizeof(s), NULL, 0), 0);
	expect_reply(f, VHOST_USER_GET_VRING_BASE, &s, sizeof(s));
	assert_int_equal(s.num, 7);

	/* SET_VRING_ENABLE 0 takes a ring off the data path without stopping it. */
	ok_state(f, VHOST_USER_SET_VRING_ENABLE, 0, 0);
	assert_true(f->d.vrings[0].started);
	assert_false(atomic_load(&f->d.vrings[0].live));
	/* A started ring keeps its size and base. */
	s = (struct vhost_user_vring_state){ .index = 0, .num = 64 };
	expect_broken(f, xfer(f, VHOST_USER_SET_VRING_NUM, V, &s, sizeof(s), NULL, 0), "started");
}

/* SET_VRING_BASE on a started ring is refused. */
static void test_set_base_on_started_ring(void **state)
{
	struct fx *f = *state;
	struct vhost_user_vring_state s = { .index = 0, .num = 3 };

	session_live(f, full_features());
	expect_broken(f, xfer(f, VHOST_USER_SET_VRING_BASE, V, &s, sizeof(s), NULL, 0), "started");
}

/* A new kick/call/err fd replaces (and closes) the old one; "no fd" (bit 8) means polling. */
static void test_vring_fd_replace(void **state)
{
	struct fx *f = *state;
	uint64_t nofd = 0 | VHOST_USER_VRING_NOFD_MASK;
	int before;

	session_live(f, full_features());
	before = count_fds();
	assert_int_equal(vring_fd(f, VHOST_USER_SET_VRING_CALL, 0, V), 0);
	assert_int_equal(vring_fd(f, VHOST_USER_SET_VRING_KICK, 0, V), 0);
	assert_int_equal(count_fds(), before);
	assert_int_equal(vring_fd(f, VHOST_USER_SET_VRING_ERR, 0, ACK), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_SET_VRING_ERR), 0);
	assert_int_equal(count_fds(), before + 1);
	assert_true(fd_is_open(f->d.vrings[0].err_fd));
	ok_u64(f, VHOST_USER_SET_VRING_CALL, nofd);
	assert_int_equal(f->d.vrings[0].call_fd, -1);
	assert_int_equal(count_fds(), before);
	assert_true(atomic_load(&f->d.vrings[0].live));
}

/* ADD_MEM_REG / REM_MEM_REG (CONFIGURE_MEM_SLOTS): hot-plug around live rings, up to 32 slots. */
static void test_add_rem_mem_reg(void **state)
{
	struct fx *f = *state;
	struct vhost_user_mem_single one = { .region = { GPA + 0x100000, MEM_SIZE, UADDR + 0x100000, 0 } };
	struct vhost_user_mem_single ring_reg = { .region = { GPA, MEM_SIZE, UADDR, 0 } };
	int fd = new_memfd(MEM_SIZE), maps;

	session_live(f, full_features());
	maps = count_maps();
	assert_int_equal(xfer(f, VHOST_USER_ADD_MEM_REG, ACK, &one, sizeof(one), &fd, 1), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_ADD_MEM_REG), 0);
	assert_int_equal(f->d.nregions, 2);
	assert_int_equal(count_maps(), maps + 1);
	assert_true(atomic_load(&f->d.vrings[0].live));
	/* REM_MEM_REG may carry an fd, which the device closes ("mmap offset is ignored"). */
	one.region.mmap_offset = 0x1234;
	assert_int_equal(xfer(f, VHOST_USER_REM_MEM_REG, ACK, &one, sizeof(one), &fd, 1), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_REM_MEM_REG), 0);
	assert_int_equal(f->d.nregions, 1);
	assert_int_equal(count_maps(), maps);
	assert_true(atomic_load(&f->d.vrings[0].live));

	/* Removing the rings' memory takes them off the data path; adding it back brings them back. */
	assert_int_equal(xfer(f, VHOST_USER_REM_MEM_REG, ACK, &ring_reg, sizeof(ring_reg), NULL, 0), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_REM_MEM_REG), 0);
	assert_int_equal(f->d.nregions, 0);
	assert_false(atomic_load(&f->d.vrings[0].live) || atomic_load(&f->d.vrings[1].live));
	assert_int_equal(xfer(f, VHOST_USER_ADD_MEM_REG, ACK, &ring_reg, sizeof(ring_reg), &fd, 1), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_ADD_MEM_REG), 0);
	assert_true(atomic_load(&f->d.vrings[0].live) && atomic_load(&f->d.vrings[1].live));

	/* Fill every slot, then one more. */
	for (unsigned i = 1; i < VU_MAX_MEM_SLOTS; i++) {
		struct vhost_user_mem_single r = { .region = { GPA + i * 0x100000ull, 0x1000, UADDR + i * 0x100000ull,
							       0x1000 } };

		assert_int_equal(xfer(f, VHOST_USER_ADD_MEM_REG, V, &r, sizeof(r), &fd, 1), 0);
	}
	assert_int_equal(f->d.nregions, VU_MAX_MEM_SLOTS);
	one.region.gpa = 0x40000000;
	one.region.uaddr = 0x40000000;
	expect_broken(f, xfer(f, VHOST_USER_ADD_MEM_REG, V, &one, sizeof(one), &fd, 1), "slots");
	close(fd);
}

/* REM_MEM_REG of a region that is not mapped (same start, other size). */
static void test_rem_mem_reg_unknown(void **state)
{
	struct fx *f = *state;
	struct vhost_user_mem_single r = { .region = { GPA, MEM_SIZE - 0x1000, UADDR, 0 } };

	session_live(f, full_features());
	expect_broken(f, xfer(f, VHOST_USER_REM_MEM_REG, V, &r, sizeof(r), NULL, 0), "not mapped");
}

/* ADD_MEM_REG overlapping a mapped region in guest physical space; the old region stays. */
static void test_add_mem_reg_overlap(void **state)
{
	struct fx *f = *state;
	struct vhost_user_mem_single r = { .region = { GPA + MEM_SIZE - 0x1000, MEM_SIZE, UADDR + 0x100000, 0 } };
	int fd = new_memfd(MEM_SIZE);

	session_live(f, full_features());
	expect_broken(f, xfer(f, VHOST_USER_ADD_MEM_REG, V, &r, sizeof(r), &fd, 1), "overlap");
	assert_int_equal(f->d.nregions, 1);
	close(fd);
}

/*
 * QEMU 7.2 sends ADD_MEM_REG and REM_MEM_REG once per queue pair: the same
 * region added twice is mapped once and stays until the second removal.
 */
static void test_add_mem_reg_per_queue_pair(void **state)
{
	struct fx *f = *state;
	struct vhost_user_mem_single one = { .region = { GPA + 0x100000, MEM_SIZE, UADDR + 0x100000, 0 } };
	int fd = new_memfd(MEM_SIZE), maps;

	session_live(f, full_features());
	maps = count_maps();
	for (int pair = 0; pair < 2; pair++) {
		assert_int_equal(xfer(f, VHOST_USER_ADD_MEM_REG, ACK, &one, sizeof(one), &fd, 1), 0);
		assert_int_equal(expect_u64_reply(f, VHOST_USER_ADD_MEM_REG), 0);
		assert_int_equal(f->d.nregions, 2);
		assert_int_equal(count_maps(), maps + 1);
	}
	assert_int_equal(xfer(f, VHOST_USER_REM_MEM_REG, ACK, &one, sizeof(one), NULL, 0), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_REM_MEM_REG), 0);
	assert_int_equal(f->d.nregions, 2);
	assert_int_equal(xfer(f, VHOST_USER_REM_MEM_REG, ACK, &one, sizeof(one), NULL, 0), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_REM_MEM_REG), 0);
	assert_int_equal(f->d.nregions, 1);
	assert_int_equal(count_maps(), maps);
	assert_true(atomic_load(&f->d.vrings[0].live));
	/* The same addresses at another offset of the file are another region: an overlap. */
	assert_int_equal(xfer(f, VHOST_USER_ADD_MEM_REG, V, &one, sizeof(one), &fd, 1), 0);
	one.region.mmap_offset = 0x1000;
	expect_broken(f, xfer(f, VHOST_USER_ADD_MEM_REG, V, &one, sizeof(one), &fd, 1), "overlap");
	close(fd);
}

/* RESET_DEVICE: back to a fresh connection, every fd closed and the memory unmapped. */
static void test_reset_device(void **state)
{
	struct fx *f = *state;
	int maps;

	session_live(f, full_features());
	maps = count_maps();
	assert_int_equal(xfer(f, VHOST_USER_RESET_DEVICE, V, NULL, 0, NULL, 0), 0);
	assert_string_equal(f->d.error, "");
	assert_int_equal(f->d.features, 0);
	assert_int_equal(f->d.protocol, 0);
	assert_int_equal(f->d.nregions, 0);
	assert_int_equal(f->d.mtu, 0);
	assert_int_equal(count_maps(), maps - 1);
	assert_int_equal(count_fds(), f->base_fds + 2); /* just the socketpair */
	for (unsigned i = 0; i < NVRINGS; i++)
		assert_false(f->d.vrings[i].started || atomic_load(&f->d.vrings[i].live));
	/* And the session can be set up again on the same socket. */
	munmap(f->mem, MEM_SIZE);
	f->mem = NULL;
	session_live(f, full_features());
}

/*
 * vhost-user.rst, REPLY_ACK: when need_reply is set on a message without a
 * reply of its own, "the back-end must respond with a Reply Message" (the
 * front end blocks for it).  RESET_DEVICE with need_reply, sent while
 * REPLY_ACK is negotiated, must be acked even though the reset forgets the
 * protocol features.
 */
static void test_reset_device_acked(void **state)
{
	struct fx *f = *state;

	session_live(f, full_features());
	assert_int_equal(xfer(f, VHOST_USER_RESET_DEVICE, ACK, NULL, 0, NULL, 0), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_RESET_DEVICE), 0);
}

/* RESET_OWNER (deprecated) disables every ring. */
static void test_reset_owner(void **state)
{
	struct fx *f = *state;

	session_live(f, full_features());
	assert_int_equal(xfer(f, VHOST_USER_RESET_OWNER, V, NULL, 0, NULL, 0), 0);
	for (unsigned i = 0; i < NVRINGS; i++)
		assert_false(f->d.vrings[i].enabled || atomic_load(&f->d.vrings[i].live));
}

/* A message with a reply of its own gets exactly that reply, never an extra ack; a failed handler acks 1. */
static void test_reply_ack_rules(void **state)
{
	struct fx *f = *state;
	uint64_t mtu = 10;

	negotiate(f, full_features(), PROTO_OFFERED);
	assert_int_equal(xfer(f, VHOST_USER_GET_FEATURES, ACK, NULL, 0, NULL, 0), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_GET_FEATURES), OFFERED | F_PROTO | F_LOG_ALL);
	expect_no_reply(f);
	/* The front end learns of the failure from the ack before the session ends. */
	assert_int_equal(xfer(f, VHOST_USER_NET_SET_MTU, ACK, &mtu, 8, NULL, 0), -EPROTO);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_NET_SET_MTU), 1);
	assert_non_null(strstr(f->d.error, "NET_SET_MTU"));
}

/* NET_SET_MTU bounds: 68 and 65535 pass. */
static void test_mtu_bounds(void **state)
{
	struct fx *f = *state;

	negotiate(f, full_features(), PROTO_OFFERED);
	ok_u64(f, VHOST_USER_NET_SET_MTU, 68);
	ok_u64(f, VHOST_USER_NET_SET_MTU, 65535);
	assert_int_equal(f->d.mtu, 65535);
}

/* ---- framing: partial reads, several messages per read, EOF ---- */

/* A message arriving one byte per read, its fd with the first byte, is handled once complete. */
static void test_one_byte_writes(void **state)
{
	struct fx *f = *state;
	struct vhost_user_memory mt = { .nregions = 1, .regions[0] = { GPA, MEM_SIZE, UADDR, 0 } };
	uint8_t wire[VHOST_USER_HDR_SIZE + sizeof(mt)];
	size_t len;
	int fd = new_memfd(MEM_SIZE);

	negotiate(f, full_features(), PROTO_OFFERED);
	len = build_msg(wire, VHOST_USER_SET_MEM_TABLE, ACK, &mt, 8 + 32);
	for (size_t i = 0; i < len; i++) {
		send_raw(f->peer, wire + i, 1, &fd, i == 0);
		assert_int_equal(vu_dev_on_readable(&f->d), 0);
		if (i + 1 < len) {
			assert_int_equal(f->d.nregions, 0);
			expect_no_reply(f);
		}
	}
	close(fd);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_SET_MEM_TABLE), 0);
	assert_int_equal(f->d.nregions, 1);
	assert_string_equal(f->d.error, "");

	/* A header-only request too: the reply comes with the 12th byte. */
	len = build_msg(wire, VHOST_USER_GET_QUEUE_NUM, V, NULL, 0);
	for (size_t i = 0; i < len; i++) {
		send_raw(f->peer, wire + i, 1, NULL, 0);
		assert_int_equal(vu_dev_on_readable(&f->d), 0);
		if (i + 1 < len)
			expect_no_reply(f);
	}
	assert_int_equal(expect_u64_reply(f, VHOST_USER_GET_QUEUE_NUM), QUEUE_PAIRS);
}

/* Many messages in one write: all handled, 64 per call (the budget), none lost. */
static void test_many_messages_one_write(void **state)
{
	struct fx *f = *state;
	static uint8_t wire[100 * VHOST_USER_HDR_SIZE];
	uint64_t before = f->d.messages;
	size_t len = 0;

	for (int i = 0; i < 100; i++)
		len += build_msg(wire + len, i == 99 ? VHOST_USER_GET_FEATURES : VHOST_USER_SET_OWNER, V, NULL, 0);
	send_raw(f->peer, wire, len, NULL, 0);
	assert_int_equal(vu_dev_on_readable(&f->d), 0);
	assert_int_equal(f->d.messages - before, 64);
	expect_no_reply(f);
	assert_int_equal(vu_dev_on_readable(&f->d), 0);
	assert_int_equal(f->d.messages - before, 100);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_GET_FEATURES), OFFERED | F_PROTO | F_LOG_ALL);
	assert_int_equal(vu_dev_on_readable(&f->d), 0); /* nothing left: EAGAIN is not an error */
}

/*
 * vu_dev.h: vu_dev_on_readable() "Read[s] and handle[s] every complete
 * message waiting on the socket": one call must do, also for messages with
 * a payload (an event loop with edge-triggered readiness, or a front end
 * that sends one message and waits for its ack, relies on it).
 */
static void test_one_call_handles_waiting_message(void **state)
{
	struct fx *f = *state;
	uint64_t v = VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);

	send_msg(f, VHOST_USER_SET_FEATURES, V, &v, sizeof(v), NULL, 0);
	assert_int_equal(vu_dev_on_readable(&f->d), 0);
	assert_int_equal(unread(f), 0);
	assert_true(f->d.features_set);
	assert_int_equal(f->d.features, v);
}

/* The front end hanging up: -ECONNRESET and no error text, also in the middle of a message. */
static void test_eof(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vu_dev_on_readable(&f->d), 0);
	shutdown(f->peer, SHUT_WR);
	assert_int_equal(vu_dev_on_readable(&f->d), -ECONNRESET);
	assert_string_equal(f->d.error, "");

	fx_reconnect(f);
	send_raw(f->peer, "\x01\x00\x00\x00\x01", 5, NULL, 0);
	assert_int_equal(vu_dev_on_readable(&f->d), 0);
	shutdown(f->peer, SHUT_WR);
	assert_int_equal(vu_dev_on_readable(&f->d), -ECONNRESET);
	assert_string_equal(f->d.error, "");
}

/* A session with rings live, then detach: every fd the device took is closed, all memory unmapped. */
static void test_detach_closes_everything(void **state)
{
	struct fx *f = *state;
	int fd = new_memfd(MEM_SIZE), ev = new_eventfd();
	uint64_t v = 2;

	session_live(f, full_features());
	assert_int_equal(xfer(f, VHOST_USER_SET_VRING_ERR, V, &v, 8, &ev, 1), 0);
	close(ev);
	/* Half a SET_MEM_TABLE with its fd: the device holds that fd too. */
	send_raw(f->peer, "\x05\x00\x00\x00\x01\x00\x00\x00\x28\x00\x00\x00\x01", 13, &fd, 1);
	close(fd);
	assert_int_equal(vu_dev_on_readable(&f->d), 0);
	assert_int_equal(f->d.nfds, 1);
	assert_int_equal(count_fds(), f->base_fds + 2 + 4 + 1 + 1);
	vu_dev_detach(&f->d);
	assert_int_equal(count_fds(), f->base_fds + 1); /* the test's peer socket */
	assert_int_equal(count_maps(), f->base_maps + 1); /* the test's own mapping */
	/* Attach again: a new session from scratch on the same device. */
	close(f->peer);
	fx_connect(f);
	munmap(f->mem, MEM_SIZE);
	f->mem = NULL;
	session_live(f, full_features());
}

/* ---- hostile messages, table-driven: each on a fresh session after a prelude ---- */

enum prelude { PRE_NONE, PRE_NEGOTIATED, PRE_MEM };
enum fdkind { FD_NONE, FD_EVENT, FD_MEM };

struct hostile {
	const char *name;
	enum prelude pre;
	uint32_t req, flags, size;	/* size: header field; payload bytes sent are min(size, 264) */
	union vhost_user_payload p;
	enum fdkind fdk;
	unsigned nfds;
	uint64_t memfd_size;		/* FD_MEM: 0 means MEM_SIZE */
	const char *why;		/* must appear in d->error */
};

#define REG(g, s, u, o) { .gpa = (g), .size = (s), .uaddr = (u), .mmap_offset = (o) }
#define MT1(r) { .memory = { .nregions = 1, .regions = { r } } }
#define MT_SIZE(n) (8 + 32 * (n))
#define ST(i, n) { .state = { .index = (i), .num = (n) } }
#define U(v) { .u64 = (v) }
#define LOG(sz, off) { .log = { .mmap_size = (sz), .mmap_offset = (off) } }

static const struct hostile hostile[] = {
	/* the header */
	{ "unknown request 99", PRE_NONE, 99, V, 0, U(0), FD_NONE, 0, 0, "unsupported request 99" },
	{ "request 0", PRE_NONE, 0, V, 0, U(0), FD_NONE, 0, 0, "unsupported request 0" },
	{ "SET_LOG_FD (not implemented)", PRE_NONE, VHOST_USER_SET_LOG_FD, V, 0, U(0), FD_EVENT, 1, 0,
	  "unsupported request 7" },
	{ "request 0xffffffff", PRE_NONE, 0xffffffffu, V, 0, U(0), FD_NONE, 0, 0, "unsupported" },
	{ "version 0", PRE_NONE, VHOST_USER_GET_FEATURES, 0, 0, U(0), FD_NONE, 0, 0, "bad header flags" },
	{ "version 2", PRE_NONE, VHOST_USER_GET_FEATURES, 2, 0, U(0), FD_NONE, 0, 0, "bad header flags" },
	{ "version 3", PRE_NONE, VHOST_USER_GET_FEATURES, 3, 0, U(0), FD_NONE, 0, 0, "bad header flags" },
	{ "reply flag", PRE_NONE, VHOST_USER_GET_FEATURES, REPLY, 0, U(0), FD_NONE, 0, 0, "bad header flags" },
	{ "size 0x10000", PRE_NONE, VHOST_USER_SET_FEATURES, V, 0x10000, U(0), FD_NONE, 0, 0, "too large" },
	{ "size 0xffffffff", PRE_NONE, VHOST_USER_SET_OWNER, V, 0xffffffffu, U(0), FD_NONE, 0, 0, "too large" },
	{ "size 265", PRE_NONE, VHOST_USER_SET_MEM_TABLE, V, 265, U(0), FD_MEM, 1, 0, "too large" },
	{ "SET_FEATURES size 4", PRE_NONE, VHOST_USER_SET_FEATURES, V, 4, U(0), FD_NONE, 0, 0, "payload of 4" },
	{ "SET_FEATURES size 16", PRE_NONE, VHOST_USER_SET_FEATURES, V, 16, U(0), FD_NONE, 0, 0, "payload of 16" },
	{ "GET_FEATURES size 9", PRE_NONE, VHOST_USER_GET_FEATURES, V, 9, U(0), FD_NONE, 0, 0, "payload of 9" },
	{ "SET_VRING_ADDR size 8", PRE_NONE, VHOST_USER_SET_VRING_ADDR, V, 8, U(0), FD_NONE, 0, 0, "payload of 8" },
	{ "SET_VRING_NUM size 0", PRE_NONE, VHOST_USER_SET_VRING_NUM, V, 0, U(0), FD_NONE, 0, 0, "payload of 0" },
	{ "ADD_MEM_REG size 32", PRE_NEGOTIATED, VHOST_USER_ADD_MEM_REG, V, 32, U(0), FD_MEM, 1, 0, "payload of 32" },
	/* fds */
	{ "GET_FEATURES with 2 fds", PRE_NONE, VHOST_USER_GET_FEATURES, V, 0, U(0), FD_EVENT, 2, 0,
	  "2 file descriptors" },
	{ "SET_FEATURES with 1 fd", PRE_NONE, VHOST_USER_SET_FEATURES, V, 8, U(0), FD_MEM, 1, 0,
	  "1 file descriptors" },
	{ "SET_VRING_NUM with 8 fds", PRE_NONE, VHOST_USER_SET_VRING_NUM, V, 8, ST(0, 256), FD_EVENT, 8, 0,
	  "8 file descriptors" },
	{ "SET_VRING_KICK with 2 fds", PRE_NEGOTIATED, VHOST_USER_SET_VRING_KICK, V, 8, U(0), FD_EVENT, 2, 0,
	  "2 file descriptors" },
	{ "SET_VRING_KICK no-fd flag and an fd", PRE_NEGOTIATED, VHOST_USER_SET_VRING_KICK, V, 8,
	  U(VHOST_USER_VRING_NOFD_MASK), FD_EVENT, 1, 0, "no-fd flag" },
	{ "SET_VRING_CALL without fd or flag", PRE_NEGOTIATED, VHOST_USER_SET_VRING_CALL, V, 8, U(1), FD_NONE, 0, 0,
	  "no-fd flag" },
	{ "9 fds", PRE_NONE, VHOST_USER_SET_MEM_TABLE, V, MT_SIZE(8), U(0), FD_MEM, 9, 0, "more than 8" },
	{ "250 fds", PRE_NONE, VHOST_USER_GET_FEATURES, V, 0, U(0), FD_EVENT, 250, 0, "more than 8" },
	{ "ADD_MEM_REG without fd", PRE_NEGOTIATED, VHOST_USER_ADD_MEM_REG, V, 40, U(0), FD_NONE, 0, 0,
	  "0 file descriptors" },
	/* vring indexes: 2 queue pairs are vrings 0-3 */
	{ "SET_VRING_NUM index 4", PRE_NONE, VHOST_USER_SET_VRING_NUM, V, 8, ST(4, 256), FD_NONE, 0, 0,
	  "index 4 out of range" },
	{ "SET_VRING_BASE index 16", PRE_NONE, VHOST_USER_SET_VRING_BASE, V, 8, ST(16, 0), FD_NONE, 0, 0,
	  "index 16 out of range" },
	{ "GET_VRING_BASE index 0xffffffff", PRE_NONE, VHOST_USER_GET_VRING_BASE, V, 8, ST(0xffffffffu, 0), FD_NONE,
	  0, 0, "out of range" },
	{ "SET_VRING_ENABLE index 5", PRE_NEGOTIATED, VHOST_USER_SET_VRING_ENABLE, V, 8, ST(5, 1), FD_NONE, 0, 0,
	  "index 5 out of range" },
	{ "SET_VRING_ADDR index 4", PRE_NONE, VHOST_USER_SET_VRING_ADDR, V, sizeof(struct vhost_user_vring_addr),
	  { .addr = { .index = 4 } }, FD_NONE, 0, 0, "index 4 out of range" },
	{ "SET_VRING_KICK index 4", PRE_NEGOTIATED, VHOST_USER_SET_VRING_KICK, V, 8, U(4), FD_EVENT, 1, 0,
	  "index 4 out of range" },
	{ "SET_VRING_CALL index 255", PRE_NEGOTIATED, VHOST_USER_SET_VRING_CALL, V, 8,
	  U(255 | VHOST_USER_VRING_NOFD_MASK), FD_NONE, 0, 0, "index 255 out of range" },
	/* features */
	{ "SET_FEATURES not offered (bit 0, CSUM)", PRE_NONE, VHOST_USER_SET_FEATURES, V, 8,
	  U(VIRTIO_BIT(VIRTIO_NET_F_CSUM)), FD_NONE, 0, 0, "not offered" },
	{ "SET_FEATURES not offered (bit 63)", PRE_NONE, VHOST_USER_SET_FEATURES, V, 8, U(1ull << 63), FD_NONE, 0, 0,
	  "not offered" },
	{ "SET_PROTOCOL_FEATURES BACKEND_REQ", PRE_NONE, VHOST_USER_SET_PROTOCOL_FEATURES, V, 8, U(P(BACKEND_REQ)),
	  FD_NONE, 0, 0, "not offered" },
	{ "SET_PROTOCOL_FEATURES RARP (owner has no send_rarp)", PRE_NONE, VHOST_USER_SET_PROTOCOL_FEATURES, V, 8,
	  U(P(RARP)), FD_NONE, 0, 0, "not offered" },
	/* the dirty log */
	{ "SET_LOG_BASE without LOG_SHMFD", PRE_NONE, VHOST_USER_SET_LOG_BASE, V, 16, LOG(4096, 0), FD_MEM, 1, 0,
	  "without its protocol feature" },
	{ "SET_LOG_BASE legacy u64 payload", PRE_NEGOTIATED, VHOST_USER_SET_LOG_BASE, V, 8, U(0x1000), FD_MEM, 1, 0,
	  "payload of 8 bytes" },
	{ "SET_LOG_BASE without fd", PRE_NEGOTIATED, VHOST_USER_SET_LOG_BASE, V, 16, LOG(4096, 0), FD_NONE, 0, 0,
	  "0 file descriptors" },
	{ "SET_LOG_BASE size 0", PRE_NEGOTIATED, VHOST_USER_SET_LOG_BASE, V, 16, LOG(0, 0), FD_MEM, 1, 0,
	  "bad size" },
	{ "SET_LOG_BASE offset+size overflows", PRE_NEGOTIATED, VHOST_USER_SET_LOG_BASE, V, 16,
	  LOG(0x1000, UINT64_MAX - 0xfff), FD_MEM, 1, 0, "bad size" },
	{ "SET_LOG_BASE size 2^64-1", PRE_NEGOTIATED, VHOST_USER_SET_LOG_BASE, V, 16, LOG(UINT64_MAX, 0), FD_MEM, 1,
	  0, "bad size" },
	{ "SET_LOG_BASE larger than its memfd", PRE_NEGOTIATED, VHOST_USER_SET_LOG_BASE, V, 16,
	  LOG(2 * MEM_SIZE, 0), FD_MEM, 1, 0, "larger than its file" },
	{ "SET_LOG_BASE offset past its memfd", PRE_NEGOTIATED, VHOST_USER_SET_LOG_BASE, V, 16,
	  LOG(0x1000, MEM_SIZE), FD_MEM, 1, 0, "larger than its file" },
	{ "SET_LOG_BASE on an eventfd", PRE_NEGOTIATED, VHOST_USER_SET_LOG_BASE, V, 16, LOG(4096, 0), FD_EVENT, 1,
	  0, "larger than its file" },
	{ "SET_FEATURES LOG_ALL without a log", PRE_NONE, VHOST_USER_SET_FEATURES, V, 8, U(F_LOG_ALL), FD_NONE, 0, 0,
	  "without a log" },
	{ "SEND_RARP without RARP", PRE_NEGOTIATED, VHOST_USER_SEND_RARP, V, 8, U(0x0102030405), FD_NONE, 0, 0,
	  "without its protocol feature" },
	{ "SET_PROTOCOL_FEATURES RESET_DEVICE", PRE_NONE, VHOST_USER_SET_PROTOCOL_FEATURES, V, 8,
	  U(P(RESET_DEVICE)), FD_NONE, 0, 0, "not offered" },
	{ "GET_QUEUE_NUM without MQ", PRE_NONE, VHOST_USER_GET_QUEUE_NUM, V, 0, U(0), FD_NONE, 0, 0,
	  "without its protocol feature" },
	{ "NET_SET_MTU without NET_MTU", PRE_NONE, VHOST_USER_NET_SET_MTU, V, 8, U(1500), FD_NONE, 0, 0,
	  "without its protocol feature" },
	{ "ADD_MEM_REG without CONFIGURE_MEM_SLOTS", PRE_NONE, VHOST_USER_ADD_MEM_REG, V, 40, U(0), FD_MEM, 1, 0,
	  "without its protocol feature" },
	{ "GET_STATUS without STATUS", PRE_NONE, VHOST_USER_GET_STATUS, V, 0, U(0), FD_NONE, 0, 0,
	  "without its protocol feature" },
	/* the memory table */
	{ "SET_MEM_TABLE 0 regions", PRE_NEGOTIATED, VHOST_USER_SET_MEM_TABLE, V, MT_SIZE(1), U(0), FD_MEM, 1, 0,
	  "0 regions" },
	{ "SET_MEM_TABLE 9 regions", PRE_NEGOTIATED, VHOST_USER_SET_MEM_TABLE, V, MT_SIZE(8),
	  { .memory = { .nregions = 9 } }, FD_MEM, 8, 0, "9 regions" },
	{ "SET_MEM_TABLE 2 regions 1 fd", PRE_NEGOTIATED, VHOST_USER_SET_MEM_TABLE, V, MT_SIZE(2),
	  { .memory = { .nregions = 2, .regions = { REG(GPA, 0x1000, UADDR, 0), REG(0, 0x1000, 0, 0) } } }, FD_MEM, 1,
	  0, "2 regions with 1 fds" },
	{ "SET_MEM_TABLE 1 region 2 fds", PRE_NEGOTIATED, VHOST_USER_SET_MEM_TABLE, V, MT_SIZE(2),
	  MT1(REG(GPA, 0x1000, UADDR, 0)), FD_MEM, 2, 0, "1 regions with 2 fds" },
	{ "SET_MEM_TABLE 2 regions in 1 region's bytes", PRE_NEGOTIATED, VHOST_USER_SET_MEM_TABLE, V, MT_SIZE(1),
	  { .memory = { .nregions = 2 } }, FD_MEM, 2, 0, "2 regions with 2 fds in 40 bytes" },
	{ "SET_MEM_TABLE without fd", PRE_NEGOTIATED, VHOST_USER_SET_MEM_TABLE, V, MT_SIZE(1),
	  MT1(REG(GPA, 0x1000, UADDR, 0)), FD_NONE, 0, 0, "0 file descriptors" },
	{ "region larger than its memfd", PRE_NEGOTIATED, VHOST_USER_SET_MEM_TABLE, V, MT_SIZE(1),
	  MT1(REG(GPA, 2 * MEM_SIZE, UADDR, 0)), FD_MEM, 1, 0, "larger than its file" },
	{ "region offset past its memfd", PRE_NEGOTIATED, VHOST_USER_SET_MEM_TABLE, V, MT_SIZE(1),
	  MT1(REG(GPA, 0x2000, UADDR, MEM_SIZE - 0x1000)), FD_MEM, 1, 0, "larger than its file" },
	{ "region on an empty memfd", PRE_NEGOTIATED, VHOST_USER_SET_MEM_TABLE, V, MT_SIZE(1),
	  MT1(REG(GPA, 0x1000, UADDR, 0)), FD_MEM, 1, 1 /* truncated to 0 below */, "larger than its file" },
	{ "region on an eventfd", PRE_NEGOTIATED, VHOST_USER_SET_MEM_TABLE, V, MT_SIZE(1),
	  MT1(REG(GPA, 0x1000, UADDR, 0)), FD_EVENT, 1, 0, "larger than its file" },
	{ "region size 0", PRE_NEGOTIATED, VHOST_USER_SET_MEM_TABLE, V, MT_SIZE(1), MT1(REG(GPA, 0, UADDR, 0)),
	  FD_MEM, 1, 0, "bad size" },
	{ "region gpa+size overflows", PRE_NEGOTIATED, VHOST_USER_SET_MEM_TABLE, V, MT_SIZE(1),
	  MT1(REG(UINT64_MAX - 0xfff, 0x2000, UADDR, 0)), FD_MEM, 1, 0, "bad size" },
	{ "region uaddr+size overflows", PRE_NEGOTIATED, VHOST_USER_SET_MEM_TABLE, V, MT_SIZE(1),
	  MT1(REG(GPA, 0x2000, UINT64_MAX - 0xfff, 0)), FD_MEM, 1, 0, "bad size" },
	{ "region offset+size overflows", PRE_NEGOTIATED, VHOST_USER_SET_MEM_TABLE, V, MT_SIZE(1),
	  MT1(REG(GPA, 0x2000, UADDR, UINT64_MAX - 0xfff)), FD_MEM, 1, 0, "bad size" },
	{ "regions overlap in gpa", PRE_NEGOTIATED, VHOST_USER_SET_MEM_TABLE, V, MT_SIZE(2),
	  { .memory = { .nregions = 2, .regions = { REG(GPA, 0x2000, UADDR, 0),
						    REG(GPA + 0x1000, 0x2000, UADDR + 0x100000, 0) } } },
	  FD_MEM, 2, 0, "overlap in guest physical" },
	{ "regions overlap in uaddr", PRE_NEGOTIATED, VHOST_USER_SET_MEM_TABLE, V, MT_SIZE(2),
	  { .memory = { .nregions = 2, .regions = { REG(GPA, 0x2000, UADDR + 0x1000, 0),
						    REG(GPA + 0x100000, 0x2000, UADDR, 0) } } },
	  FD_MEM, 2, 0, "overlap in user address" },
	{ "identical regions", PRE_NEGOTIATED, VHOST_USER_SET_MEM_TABLE, V, MT_SIZE(3),
	  { .memory = { .nregions = 3, .regions = { REG(GPA + 0x100000, 0x1000, UADDR + 0x100000, 0),
						    REG(GPA, 0x1000, UADDR, 0), REG(GPA, 0x1000, UADDR, 0) } } },
	  FD_MEM, 3, 0, "overlap" },
	/* vring and device values */
	{ "SET_VRING_NUM 0", PRE_NEGOTIATED, VHOST_USER_SET_VRING_NUM, V, 8, ST(0, 0), FD_NONE, 0, 0, "size 0" },
	{ "SET_VRING_NUM 65536", PRE_NEGOTIATED, VHOST_USER_SET_VRING_NUM, V, 8, ST(0, 65536), FD_NONE, 0, 0,
	  "size 65536" },
	{ "SET_VRING_NUM 0xffffffff", PRE_NEGOTIATED, VHOST_USER_SET_VRING_NUM, V, 8, ST(1, 0xffffffffu), FD_NONE, 0,
	  0, "size 4294967295" },
	{ "NET_SET_MTU 10", PRE_NEGOTIATED, VHOST_USER_NET_SET_MTU, V, 8, U(10), FD_NONE, 0, 0, "out of range" },
	{ "NET_SET_MTU 67", PRE_NEGOTIATED, VHOST_USER_NET_SET_MTU, V, 8, U(67), FD_NONE, 0, 0, "out of range" },
	{ "NET_SET_MTU 70000", PRE_NEGOTIATED, VHOST_USER_NET_SET_MTU, V, 8, U(70000), FD_NONE, 0, 0,
	  "out of range" },
	{ "NET_SET_MTU 2^32+1500", PRE_NEGOTIATED, VHOST_USER_NET_SET_MTU, V, 8, U((1ull << 32) + 1500), FD_NONE, 0, 0,
	  "out of range" },
	{ "SET_VRING_ENABLE 2", PRE_NEGOTIATED, VHOST_USER_SET_VRING_ENABLE, V, 8, ST(0, 2), FD_NONE, 0, 0,
	  "SET_VRING_ENABLE with 2" },
	{ "SET_VRING_KICK before SET_MEM_TABLE", PRE_NEGOTIATED, VHOST_USER_SET_VRING_KICK, V, 8, U(0), FD_EVENT, 1,
	  0, "before the memory table" },
	{ "SET_VRING_KICK before SET_VRING_ADDR", PRE_MEM, VHOST_USER_SET_VRING_KICK, V, 8, U(0), FD_EVENT, 1, 0,
	  "before its size and addresses" },
};

static unsigned make_fds(const struct hostile *h, int *fds)
{
	for (unsigned i = 0; i < h->nfds; i++) {
		if (h->fdk == FD_MEM)
			fds[i] = new_memfd(h->memfd_size == 1 ? 0 : h->memfd_size ? h->memfd_size : MEM_SIZE);
		else
			fds[i] = new_eventfd();
	}
	return h->nfds;
}

static void prelude(struct fx *f, enum prelude pre)
{
	if (pre == PRE_NONE)
		return;
	negotiate(f, full_features(), PROTO_OFFERED);
	if (pre == PRE_MEM) {
		mem_table(f);
		munmap(f->mem, MEM_SIZE);
		f->mem = NULL;
	}
}

/* Every case of the table: refused with its reason, its fds closed, no reply, no mapping left. */
static void test_hostile_table(void **state)
{
	struct fx *f = *state;
	static int fds[253];

	for (size_t k = 0; k < sizeof(hostile) / sizeof(hostile[0]); k++) {
		const struct hostile *h = &hostile[k];
		uint8_t wire[VHOST_USER_HDR_SIZE + VHOST_USER_PAYLOAD_MAX];
		uint32_t sent = h->size < VHOST_USER_PAYLOAD_MAX ? h->size : VHOST_USER_PAYLOAD_MAX;
		unsigned n;

		current_case = h->name;
		fx_reconnect(f);
		prelude(f, h->pre);
		n = make_fds(h, fds);
		memcpy(wire, &(struct vhost_user_hdr){ h->req, h->flags, h->size }, VHOST_USER_HDR_SIZE);
		memcpy(wire + VHOST_USER_HDR_SIZE, &h->p, sent);
		send_raw(f->peer, wire, VHOST_USER_HDR_SIZE + sent, fds, n);
		close_all(fds, n);
		expect_broken(f, pump(f), h->why);
		vu_dev_detach(&f->d);
		assert_int_equal(count_maps(), f->base_maps);
		/* Only the test's end of the socket is left: every fd sent was closed. */
		if (count_fds() != f->base_fds + 1)
			fail_msg("%s: %d fds open after detach, expected %d", h->name, count_fds(), f->base_fds + 1);
		close(f->peer);
		fx_connect(f);
	}
}

/* SET_LOG_BASE (mmap size and offset, memfd): mapped, replied 0; the log length is checked against memory. */
static int log_base(struct fx *f, uint64_t size, uint64_t offset, uint64_t file_size)
{
	struct vhost_user_log l = { .mmap_size = size, .mmap_offset = offset };
	int fd = new_memfd(file_size), rc;

	rc = xfer(f, VHOST_USER_SET_LOG_BASE, V, &l, sizeof(l), &fd, 1);
	close(fd);
	return rc;
}

/* Is guest physical @gpa's page marked in the log the device maps (the test reads it through the device)? */
static bool log_dirty(const struct fx *f, uint64_t gpa)
{
	uint64_t p = gpa >> 12;

	return f->d.log.bits[p / 8] >> (p % 8) & 1;
}

/*
 * QEMU's migration sequence (vhost_dev_set_log): SET_LOG_BASE, SET_FEATURES
 * with LOG_ALL, SET_VRING_ADDR with VHOST_VRING_F_LOG; and back.  Writes
 * are logged only in between; the used ring's at log_guest_addr.
 */
static void test_dirty_log_session(void **state)
{
	struct fx *f = *state;
	struct vhost_user_vring_addr a = {
		.index = 0, .flags = 1u << VHOST_VRING_F_LOG, .desc_uaddr = RING(0), .avail_uaddr = RING(0) + 0x1000,
		.used_uaddr = RING(0) + 0x2000, .log_gaddr = GPA + 0xe000, /* a page no ring uses */
	};
	uint64_t used_gpa = GPA + 0x2000;
	int maps;

	session_live(f, full_features());
	maps = count_maps();
	/* A log too small for guest memory is fine until logging starts. */
	assert_int_equal(log_base(f, 1, 0, 4096), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_SET_LOG_BASE), 0);
	/* 34 bytes cover 0x110000 bytes of guest physical space; QEMU's log sits at offset 0, ours at 64. */
	assert_int_equal(log_base(f, 34, 64, 4096), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_SET_LOG_BASE), 0);
	assert_int_equal(count_maps(), maps + 1); /* the first log was unmapped */
	assert_int_equal(f->d.log.size_bytes, 34);

	/* Mapped but LOG_ALL not negotiated: nothing is logged. */
	assert_null(vq_logging(&f->d.vrings[0].vq));
	assert_false(vq_kick_enable(&f->d.vrings[0].vq)); /* writes avail_event into the used ring */
	for (unsigned i = 0; i < 34; i++)
		assert_int_equal(f->d.log.bits[i], 0);

	ok_u64(f, VHOST_USER_SET_FEATURES, full_features() | F_LOG_ALL);
	assert_true(vu_dev_logging(&f->d));
	assert_non_null(vq_logging(&f->d.vrings[0].vq));
	assert_false(vq_kick_enable(&f->d.vrings[0].vq));
	assert_true(log_dirty(f, used_gpa)); /* no VHOST_VRING_F_LOG yet: the used ring's own address */
	memset(f->d.log.bits, 0, 34);
	assert_int_equal(xfer(f, VHOST_USER_SET_VRING_ADDR, ACK, &a, sizeof(a), NULL, 0), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_SET_VRING_ADDR), 0);
	assert_true(atomic_load(&f->d.vrings[0].live));
	assert_false(vq_kick_enable(&f->d.vrings[0].vq));
	assert_true(log_dirty(f, GPA + 0xe000));
	assert_false(log_dirty(f, used_gpa));

	/* While logging, a log that no longer covers memory is refused. */
	assert_int_equal(log_base(f, 1, 0, 4096), -EPROTO);
	assert_non_null(strstr(f->d.error, "guest memory needs 34"));
	expect_no_reply(f);
	f->d.error[0] = '\0';

	/* Migration over (or cancelled): LOG_ALL cleared, nothing logged any more. */
	ok_u64(f, VHOST_USER_SET_FEATURES, full_features());
	assert_null(vq_logging(&f->d.vrings[0].vq));
	memset(f->d.log.bits, 0, 34);
	assert_false(vq_kick_enable(&f->d.vrings[0].vq));
	for (unsigned i = 0; i < 34; i++)
		assert_int_equal(f->d.log.bits[i], 0);
	/* The teardown checks the log's mapping goes with the session. */
}

/* LOG_ALL with a log that does not reach the end of guest memory is refused (pages would go uncopied). */
static void test_log_all_log_too_small(void **state)
{
	struct fx *f = *state;
	uint64_t feat = full_features() | F_LOG_ALL;

	session_live(f, full_features());
	assert_int_equal(log_base(f, 33, 0, 4096), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_SET_LOG_BASE), 0);
	expect_broken(f, xfer(f, VHOST_USER_SET_FEATURES, V, &feat, sizeof(feat), NULL, 0), "guest memory needs 34");
}

static uint8_t rarp_mac[6];
static unsigned rarps;

static void op_send_rarp(void *arg, const uint8_t mac[6])
{
	memcpy(rarp_mac, mac, sizeof(rarp_mac));
	rarps++;
}

/* An owner that can announce gets the RARP protocol feature offered, and SEND_RARP hands it the MAC. */
static void test_send_rarp(void **state)
{
	static const struct vu_dev_ops ops_rarp = {
		.quiesce = op_quiesce, .rings_changed = op_rings_changed, .send_rarp = op_send_rarp,
	};
	struct fx *f = *state;
	uint64_t proto = PROTO_OFFERED | P(RARP), mac = 0;

	vu_dev_detach(&f->d);
	vu_dev_fini(&f->d);
	close(f->peer);
	assert_int_equal(vu_dev_init(&f->d, "t", OFFERED, QUEUE_PAIRS, &ops_rarp, f), 0);
	fx_connect(f);
	assert_int_equal(get_u64(f, VHOST_USER_GET_PROTOCOL_FEATURES), proto);
	assert_int_equal(xfer(f, VHOST_USER_SET_PROTOCOL_FEATURES, V, &proto, sizeof(proto), NULL, 0), 0);
	/* QEMU's vhost_user_migration_done(): the MAC in the first 6 bytes of the u64. */
	memcpy(&mac, "\x52\x54\x00\x12\x34\x56", 6);
	rarps = 0;
	ok_u64(f, VHOST_USER_SEND_RARP, mac);
	assert_int_equal(rarps, 1);
	assert_memory_equal(rarp_mac, "\x52\x54\x00\x12\x34\x56", 6);
}

/* A refused message's fds are closed at once, not only at detach. */
static void test_refused_fds_closed_at_once(void **state)
{
	struct fx *f = *state;
	int fds[3] = { new_eventfd(), new_eventfd(), new_memfd(MEM_SIZE) };

	send_msg(f, VHOST_USER_SET_OWNER, V, NULL, 0, fds, 3);
	close_all(fds, 3);
	expect_broken(f, pump(f), "3 file descriptors");
	assert_int_equal(f->d.nfds, 0);
	assert_int_equal(count_fds(), f->base_fds + 2);
}

/* More than 8 fds spread over the reads of one message (the kernel cannot truncate those). */
static void test_fds_over_two_reads(void **state)
{
	struct fx *f = *state;
	struct vhost_user_memory mt = { .nregions = 8 };
	uint8_t wire[VHOST_USER_HDR_SIZE + sizeof(mt)];
	size_t len = build_msg(wire, VHOST_USER_SET_MEM_TABLE, V, &mt, MT_SIZE(8));
	int fds[10];

	negotiate(f, full_features(), PROTO_OFFERED);
	for (int i = 0; i < 10; i++)
		fds[i] = new_memfd(MEM_SIZE);
	send_raw(f->peer, wire, 6, fds, 5);
	assert_int_equal(vu_dev_on_readable(&f->d), 0);
	send_raw(f->peer, wire + 6, len - 6, fds + 5, 5);
	close_all(fds, 10);
	expect_broken(f, pump(f), "more than 8");
	assert_int_equal(f->d.nregions, 0);
	/* The teardown checks that the 8 the device kept are closed at detach. */
}

/* A refused table after a valid one: the old memory is gone too, nothing half-mapped stays. */
static void test_bad_table_replaces_good(void **state)
{
	struct fx *f = *state;
	struct vhost_user_memory mt = {
		.nregions = 2,
		.regions = { REG(GPA, MEM_SIZE, UADDR, 0), REG(GPA + 0x100000, 4 * MEM_SIZE, UADDR + 0x100000, 0) },
	};
	int fds[2] = { new_memfd(MEM_SIZE), new_memfd(MEM_SIZE) };

	session_live(f, full_features());
	munmap(f->mem, MEM_SIZE);
	f->mem = NULL;
	expect_broken(f, xfer(f, VHOST_USER_SET_MEM_TABLE, V, &mt, MT_SIZE(2), fds, 2), "larger than its file");
	close_all(fds, 2);
	assert_int_equal(f->d.nregions, 0);
	assert_int_equal(f->d.mem->nregions, 0);
	assert_false(atomic_load(&f->d.vrings[0].live) || atomic_load(&f->d.vrings[1].live));
	assert_int_equal(count_maps(), f->base_maps);
}

/*
 * A new table that no longer holds the started rings (the old memory is
 * unmapped) breaks the session, and the rings must not be live in between:
 * the owner's rings_changed() and the workers would touch the old mapping.
 * The new region is larger so that it is not mapped where the old one was.
 */
static void test_table_moves_away_from_rings(void **state)
{
	struct fx *f = *state;
	struct vhost_user_memory mt = { .nregions = 1, .regions = { REG(GPA, 4 * MEM_SIZE, UADDR + 0x100000, 0) } };
	int fd = new_memfd(4 * MEM_SIZE);

	session_live(f, full_features());
	send_msg(f, VHOST_USER_SET_MEM_TABLE, V, &mt, MT_SIZE(1), &fd, 1);
	close(fd);
	expect_broken(f, pump(f), "outside guest memory");
	assert_false(atomic_load(&f->d.vrings[0].live) || atomic_load(&f->d.vrings[1].live));
}

/* Ring addresses the memory cannot hold: SET_VRING_KICK must fail and the ring never go live. */
static void test_ring_outside_memory(void **state)
{
	static const struct {
		const char *name;
		uint64_t desc, avail, used;
		unsigned num;
		const char *why;
	} cases[] = {
		{ "desc past the end", UADDR + MEM_SIZE, RING(0) + 0x1000, RING(0) + 0x2000, 256, "outside guest memory" },
		{ "avail below the start", RING(0), UADDR - 0x1000, RING(0) + 0x2000, 256, "outside guest memory" },
		{ "used at uaddr 0", RING(0), RING(0) + 0x1000, 0, 256, "outside guest memory" },
		{ "desc straddles the end", UADDR + MEM_SIZE - 0x800, RING(0) + 0x1000, RING(0) + 0x2000, 256,
		  "not inside guest memory" },
		{ "used straddles the end", RING(0), RING(0) + 0x1000, UADDR + MEM_SIZE - 0x400, 256,
		  "not inside guest memory" },
		{ "desc misaligned", RING(0) + 8, RING(0) + 0x1000, RING(0) + 0x2000, 256, "alignment" },
		{ "split size 100", RING(0), RING(0) + 0x1000, RING(0) + 0x2000, 100, "bad size" },
		{ "ring of 32768 in 64 KiB", RING(0), RING(0) + 0x1000, RING(0) + 0x2000, 32768, "not inside" },
	};
	struct fx *f = *state;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		current_case = cases[k].name;
		fx_reconnect(f);
		negotiate(f, full_features(), PROTO_OFFERED);
		mem_table(f);
		munmap(f->mem, MEM_SIZE);
		f->mem = NULL;
		ok_state(f, VHOST_USER_SET_VRING_NUM, 0, cases[k].num);
		vring_addr(f, 0, cases[k].desc, cases[k].avail, cases[k].used, V);
		assert_string_equal(f->d.error, "");
		expect_broken(f, vring_fd(f, VHOST_USER_SET_VRING_KICK, 0, V), cases[k].why);
		assert_false(f->d.vrings[0].started);
		assert_false(atomic_load(&f->d.vrings[0].live));
	}
}

/*
 * A region whose mmap_offset is odd maps an aligned guest address to an
 * odd host address.  The rings are accessed through typed, atomic loads
 * and stores (2.7.1 alignment; an unaligned atomic faults on arm64): the
 * device must refuse the region or the ring, never run it misaligned.
 * (Found by fuzz_vhost_user_msg.)
 */
static void test_odd_mmap_offset(void **state)
{
	struct fx *f = *state;
	struct vhost_user_memory mt = { .nregions = 1, .regions = { REG(GPA, 0x8000, UADDR, 2) } };
	int fd = new_memfd(MEM_SIZE), rc;

	negotiate(f, full_features(), PROTO_OFFERED);
	rc = xfer(f, VHOST_USER_SET_MEM_TABLE, V, &mt, MT_SIZE(1), &fd, 1);
	close(fd);
	if (rc < 0)
		return; /* refused: fine */
	ok_state(f, VHOST_USER_SET_VRING_NUM, 0, RING_NUM);
	vring_addr(f, 0, RING(0), RING(0) + 0x1000, RING(0) + 0x2000, V);
	if (vring_fd(f, VHOST_USER_SET_VRING_KICK, 0, V) < 0)
		return; /* refused: fine */
	assert_true(((uintptr_t)f->d.vrings[0].vq.ring.split.desc & 15) == 0);
	assert_true(((uintptr_t)f->d.vrings[0].vq.ring.split.avail & 1) == 0);
	assert_true(((uintptr_t)f->d.vrings[0].vq.ring.split.used & 3) == 0);
}

/*
 * SET_VRING_ADDR moving a started ring out of memory, or to an address
 * vq_init() refuses, breaks the session at once, and the ring must not be
 * live in between (the owner's rings_changed and the workers touch live
 * rings before the caller gets to detach).
 */
static void test_started_ring_moved_out(void **state)
{
	static const struct {
		const char *name;
		uint64_t desc;
		const char *why;
	} cases[] = {
		{ "desc outside memory", UADDR + 2 * MEM_SIZE, "outside guest memory" },
		{ "desc misaligned", RING(1) + 8, "alignment" },
		{ "desc straddles the end", UADDR + MEM_SIZE - 0x800, "not inside guest memory" },
	};
	struct fx *f = *state;
	int bad = 0;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct vhost_user_vring_addr a = { .index = 1, .desc_uaddr = cases[k].desc,
						   .avail_uaddr = RING(1) + 0x1000, .used_uaddr = RING(1) + 0x2000 };

		current_case = cases[k].name;
		fx_reconnect(f);
		if (f->mem)
			munmap(f->mem, MEM_SIZE);
		f->mem = NULL;
		session_live(f, full_features());
		expect_broken(f, xfer(f, VHOST_USER_SET_VRING_ADDR, V, &a, sizeof(a), NULL, 0), cases[k].why);
		if (atomic_load(&f->d.vrings[1].live)) {
			print_error("started ring: %s: vring 1 still live after the session broke\n", cases[k].name);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* REM_MEM_REG of the region holding live rings while another region stays: the rings must go off. */
static void test_rem_ring_region_keeps_other(void **state)
{
	struct fx *f = *state;
	struct vhost_user_mem_single other = { .region = { GPA + 0x100000, MEM_SIZE, UADDR + 0x100000, 0 } };
	struct vhost_user_mem_single ring_reg = { .region = { GPA, MEM_SIZE, UADDR, 0 } };
	int fd = new_memfd(MEM_SIZE), rc;

	session_live(f, full_features());
	assert_int_equal(xfer(f, VHOST_USER_ADD_MEM_REG, V, &other, sizeof(other), &fd, 1), 0);
	close(fd);
	rc = xfer(f, VHOST_USER_REM_MEM_REG, V, &ring_reg, sizeof(ring_reg), NULL, 0);
	/* Either refused, or accepted with the rings off the data path; never live on unmapped memory. */
	assert_true(rc == 0 || rc == -EPROTO);
	assert_false(atomic_load(&f->d.vrings[0].live) || atomic_load(&f->d.vrings[1].live));
}

/* The SIGBUS guard keeps one memfd open for the life of the process: made before any test counts fds. */
static int group_setup(void **state)
{
	return vu_memguard_init();
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_qemu_session_split),
		T(test_qemu_session_packed),
		T(test_legacy_session_no_protocol_features),
		T(test_stop_and_restart_vring),
		T(test_set_base_on_started_ring),
		T(test_vring_fd_replace),
		T(test_add_rem_mem_reg),
		T(test_rem_mem_reg_unknown),
		T(test_add_mem_reg_overlap),
		T(test_add_mem_reg_per_queue_pair),
		T(test_reset_device),
		T(test_reset_device_acked),
		T(test_reset_owner),
		T(test_reply_ack_rules),
		T(test_mtu_bounds),
		T(test_one_byte_writes),
		T(test_many_messages_one_write),
		T(test_one_call_handles_waiting_message),
		T(test_eof),
		T(test_detach_closes_everything),
		T(test_hostile_table),
		T(test_refused_fds_closed_at_once),
		T(test_fds_over_two_reads),
		T(test_bad_table_replaces_good),
		T(test_table_moves_away_from_rings),
		T(test_ring_outside_memory),
		T(test_started_ring_moved_out),
		T(test_rem_ring_region_keeps_other),
		T(test_odd_mmap_offset),
		T(test_dirty_log_session),
		T(test_log_all_log_too_small),
		T(test_send_rarp),
	};
#undef T
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
