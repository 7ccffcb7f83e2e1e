/* test_vhost_user.c - unit tests of the vhost-user device: QEMU-like sessions, vrings stopped and restarted, resets, REPLY_ACK, the MTU, SEND_RARP. */

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

/* ---- the owner announces: SEND_RARP ---- */

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
		T(test_reset_device),
		T(test_reset_device_acked),
		T(test_reset_owner),
		T(test_reply_ack_rules),
		T(test_mtu_bounds),
		T(test_send_rarp),
	};
#undef T
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
