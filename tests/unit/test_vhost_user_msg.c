/* test_vhost_user_msg.c - unit tests of the vhost-user device's messages: framing over partial reads, every hostile message the validation must refuse, fds of refused messages. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "vhost_user_fx.h"

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

#define MT1(r) { .memory = { .nregions = 1, .regions = { r } } }
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

/* ---- fds of refused messages, fds split over reads ---- */

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

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_one_byte_writes),
		T(test_many_messages_one_write),
		T(test_one_call_handles_waiting_message),
		T(test_eof),
		T(test_detach_closes_everything),
		T(test_hostile_table),
		T(test_refused_fds_closed_at_once),
		T(test_fds_over_two_reads),
	};
#undef T
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
