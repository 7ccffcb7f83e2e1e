/* test_vring_fds.c - unit tests of the fds a front end hands over for vrings: eventfds only, never one that can block a worker. */

/*
 * A worker notifies a vring by write()ing its call eventfd.  A front end
 * that hands over a pipe it never reads, or a blocking eventfd whose
 * counter is one below its maximum, would block that worker for ever (and
 * with it every grace period, so the control thread too).  So:
 *
 *   SET_VRING_CALL / _KICK / _ERR with      the device
 *   an eventfd, non-blocking                 takes it
 *   an eventfd, blocking (crosvm's kind)     takes it and makes it non-blocking
 *   a pipe, a socket, a memfd, /dev/null     refuses it: the session breaks,
 *                                            d->error says "not an eventfd"
 *
 * The device is driven in-process over a socketpair, as in
 * test_vhost_user.c; every test checks at teardown that no fd leaked.
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
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../lib/proc_counts.h"
#include "vhost_user/vu_dev.h"
#include "vsw/virtio_spec.h"

#define V VHOST_USER_VERSION

struct fx {
	struct vu_dev d;
	int peer;		/* the front end's end of the socket */
	int base_fds;
};

static void op_quiesce(void *arg) {}
static void op_rings_changed(void *arg) {}
static const struct vu_dev_ops ops = { .quiesce = op_quiesce, .rings_changed = op_rings_changed };

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];

	assert_non_null(f);
	f->base_fds = proc_count_fds();
	assert_true(f->base_fds > 0);
	assert_int_equal(vu_dev_init(&f->d, "t", VIRTIO_BIT(VIRTIO_F_VERSION_1), 1, &ops, f), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	f->peer = sv[1];
	vu_dev_attach(&f->d, sv[0]);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	int base = f->base_fds;

	vu_dev_detach(&f->d);
	vu_dev_fini(&f->d);
	close(f->peer);
	free(f);
	assert_int_equal(proc_count_fds(), base);
	return 0;
}

/* Send SET_VRING_KICK/CALL/ERR of vring 0 carrying @fd; what vu_dev_on_readable() returned. */
static int send_vring_fd(struct fx *f, uint32_t req, int fd)
{
	struct {
		struct vhost_user_hdr h;
		uint64_t u64;
	} __attribute__((packed)) m = { { .request = req, .flags = V, .size = 8 }, 0 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctrl;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.buf,
			     .msg_controllen = sizeof(ctrl.buf) };
	struct cmsghdr *c;

	memset(&ctrl, 0, sizeof(ctrl));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	assert_int_equal(sendmsg(f->peer, &mh, MSG_NOSIGNAL), (ssize_t)sizeof(m));
	return vu_dev_on_readable(&f->d);
}

static const uint32_t vring_fd_reqs[] = { VHOST_USER_SET_VRING_CALL, VHOST_USER_SET_VRING_KICK,
					  VHOST_USER_SET_VRING_ERR };

static int *vring_slot(struct fx *f, uint32_t req)
{
	struct vu_vring *vr = &f->d.vrings[0];

	return req == VHOST_USER_SET_VRING_CALL ? &vr->call_fd : req == VHOST_USER_SET_VRING_KICK ? &vr->kick_fd
												 : &vr->err_fd;
}

/* @fd (the test keeps its copy) must be refused for every one of the three requests, on fresh sessions. */
static void expect_refused(struct fx *f, int fd, const char *what)
{
	for (unsigned i = 0; i < sizeof(vring_fd_reqs) / sizeof(vring_fd_reqs[0]); i++) {
		int rc, sv[2];

		rc = send_vring_fd(f, vring_fd_reqs[i], fd);
		if (rc != -EPROTO || !strstr(f->d.error, "not an eventfd"))
			fail_msg("%s as fd of request %u: returned %d, error \"%s\"; expected -EPROTO and \"not an eventfd\"",
				 what, vring_fd_reqs[i], rc, f->d.error);
		assert_int_equal(*vring_slot(f, vring_fd_reqs[i]), -1);
		/* A new session for the next request, as the port would after the broken one. */
		vu_dev_detach(&f->d);
		close(f->peer);
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
		assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
		f->peer = sv[1];
		vu_dev_attach(&f->d, sv[0]);
	}
}

/* The write end of a pipe (full, never read): refused as call, kick and err fd. */
static void test_pipe_refused(void **state)
{
	struct fx *f = *state;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	expect_refused(f, p[1], "a pipe");
	close(p[0]);
	close(p[1]);
}

static void test_socket_refused(void **state)
{
	struct fx *f = *state;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	expect_refused(f, sv[0], "a socket");
	close(sv[0]);
	close(sv[1]);
}

static void test_memfd_and_devnull_refused(void **state)
{
	struct fx *f = *state;
	int m = memfd_create("vsw-test-notanevent", MFD_CLOEXEC), n = open("/dev/null", O_WRONLY | O_CLOEXEC);

	assert_true(m >= 0 && n >= 0);
	expect_refused(f, m, "a memfd");
	expect_refused(f, n, "/dev/null");
	close(m);
	close(n);
}

/* A blocking eventfd is taken, and from then on a write to it cannot block: EAGAIN when the counter is full. */
static void test_blocking_call_eventfd_made_nonblocking(void **state)
{
	struct fx *f = *state;
	int ev = eventfd(0, EFD_CLOEXEC), ours;
	uint64_t one = 1;

	assert_true(ev >= 0);
	assert_int_equal(eventfd_write(ev, 0xfffffffffffffffeull), 0);
	assert_int_equal(send_vring_fd(f, VHOST_USER_SET_VRING_CALL, ev), 0);
	assert_string_equal(f->d.error, "");
	ours = f->d.vrings[0].call_fd;
	assert_true(ours >= 0);
	if (!(fcntl(ours, F_GETFL) & O_NONBLOCK))
		fail_msg("the call eventfd the device keeps is still blocking: a full counter would block a worker");
	/* The description is shared: the front end sees the flag too (documented in vu_dev.c). */
	assert_true(fcntl(ev, F_GETFL) & O_NONBLOCK);
	assert_int_equal(write(ours, &one, sizeof(one)), -1);
	assert_int_equal(errno, EAGAIN);
	close(ev);
}

/*
 * Non-blocking eventfds (what QEMU and DPDK send) are taken as they are.
 * (A kick fd starts the ring, which needs a memory table: test_vhost_user.c
 * covers kick eventfds in whole sessions.)
 */
static void test_eventfds_taken(void **state)
{
	static const uint32_t reqs[] = { VHOST_USER_SET_VRING_CALL, VHOST_USER_SET_VRING_ERR };
	struct fx *f = *state;

	for (unsigned i = 0; i < 2; i++) {
		int ev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

		assert_true(ev >= 0);
		assert_int_equal(send_vring_fd(f, reqs[i], ev), 0);
		assert_string_equal(f->d.error, "");
		assert_true(*vring_slot(f, reqs[i]) >= 0);
		close(ev);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pipe_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_socket_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_memfd_and_devnull_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_blocking_call_eventfd_made_nonblocking, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_eventfds_taken, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
