/* vu_msg.c - vhost-user message intake: socket reads with fds, and the one table every message is checked against. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vhost_user/vu_dev.h"

/*
 * Security model.
 *
 * The front end (QEMU, a DPDK app, anything that connects) is untrusted.
 * Every message is checked here, before any handler runs, against one row
 * of the table below:
 *   - the request is one we implement (anything else breaks the session);
 *   - the version bits are 1 and the reply bit is clear;
 *   - the payload size lies in [min_size, max_size] (its bytes were read
 *     into a buffer of VHOST_USER_PAYLOAD_MAX, so a size above that was
 *     already refused before reading);
 *   - the number of fds lies in [min_fds, max_fds]; fds beyond the cmsg
 *     buffer make the kernel truncate, which is refused too;
 *   - a vring index carried in the payload is below 2 * max_queue_pairs;
 *   - a message gated by a protocol feature needs that feature negotiated.
 * Handlers then check meaning (sizes, addresses, states).  Every fd that
 * arrives is owned: a handler that keeps one takes it (sets it to -1 in the
 * array), the rest are closed after the handler returns.  Any violation
 * records a reason, and the caller closes the session; the daemon and the
 * other ports go on.  Guest memory itself is mapped only after the region
 * table passed these checks and each fd is large enough for its region.
 */

#define U64 sizeof(uint64_t)
#define STATE sizeof(struct vhost_user_vring_state)
#define ADDR sizeof(struct vhost_user_vring_addr)
#define SINGLE sizeof(struct vhost_user_mem_single)
#define LOG sizeof(struct vhost_user_log)
#define MEMTAB_MIN (2 * sizeof(uint32_t))
#define MEMTAB_MAX sizeof(struct vhost_user_memory)

static const struct vu_msg_rule rules[VHOST_USER_REQUEST_MAX] = {
	[VHOST_USER_GET_FEATURES] = { "GET_FEATURES", 0, U64, 0, 0, VU_IDX_NONE, true, -1, vu_get_features },
	[VHOST_USER_SET_FEATURES] = { "SET_FEATURES", U64, U64, 0, 0, VU_IDX_NONE, false, -1, vu_set_features },
	[VHOST_USER_SET_OWNER] = { "SET_OWNER", 0, U64, 0, 0, VU_IDX_NONE, false, -1, vu_set_owner },
	[VHOST_USER_RESET_OWNER] = { "RESET_OWNER", 0, U64, 0, 0, VU_IDX_NONE, false, -1, vu_reset_owner },
	[VHOST_USER_SET_MEM_TABLE] = { "SET_MEM_TABLE", MEMTAB_MIN, MEMTAB_MAX, 1, VHOST_USER_MEM_TABLE_MAX,
				       VU_IDX_NONE, false, -1, vu_set_mem_table },
	/* Only the shared-memory form (LOG_SHMFD): the legacy one names a front-end address we cannot reach. */
	[VHOST_USER_SET_LOG_BASE] = { "SET_LOG_BASE", LOG, LOG, 1, 1, VU_IDX_NONE, true,
				      VHOST_USER_PROTOCOL_F_LOG_SHMFD, vu_set_log_base },
	[VHOST_USER_SET_VRING_NUM] = { "SET_VRING_NUM", STATE, STATE, 0, 0, VU_IDX_STATE, false, -1, vu_set_vring_num },
	[VHOST_USER_SET_VRING_ADDR] = { "SET_VRING_ADDR", ADDR, ADDR, 0, 0, VU_IDX_ADDR, false, -1, vu_set_vring_addr },
	[VHOST_USER_SET_VRING_BASE] = { "SET_VRING_BASE", STATE, STATE, 0, 0, VU_IDX_STATE, false, -1, vu_set_vring_base },
	[VHOST_USER_GET_VRING_BASE] = { "GET_VRING_BASE", STATE, STATE, 0, 0, VU_IDX_STATE, true, -1, vu_get_vring_base },
	[VHOST_USER_SET_VRING_KICK] = { "SET_VRING_KICK", U64, U64, 0, 1, VU_IDX_U64, false, -1, vu_set_vring_fd },
	[VHOST_USER_SET_VRING_CALL] = { "SET_VRING_CALL", U64, U64, 0, 1, VU_IDX_U64, false, -1, vu_set_vring_fd },
	[VHOST_USER_SET_VRING_ERR] = { "SET_VRING_ERR", U64, U64, 0, 1, VU_IDX_U64, false, -1, vu_set_vring_fd },
	[VHOST_USER_GET_PROTOCOL_FEATURES] = { "GET_PROTOCOL_FEATURES", 0, U64, 0, 0, VU_IDX_NONE, true, -1,
					       vu_get_protocol_features },
	[VHOST_USER_SET_PROTOCOL_FEATURES] = { "SET_PROTOCOL_FEATURES", U64, U64, 0, 0, VU_IDX_NONE, false, -1,
					       vu_set_protocol_features },
	[VHOST_USER_GET_QUEUE_NUM] = { "GET_QUEUE_NUM", 0, U64, 0, 0, VU_IDX_NONE, true,
				       VHOST_USER_PROTOCOL_F_MQ, vu_get_queue_num },
	[VHOST_USER_SET_VRING_ENABLE] = { "SET_VRING_ENABLE", STATE, STATE, 0, 0, VU_IDX_STATE, false, -1,
					  vu_set_vring_enable },
	[VHOST_USER_SEND_RARP] = { "SEND_RARP", U64, U64, 0, 0, VU_IDX_NONE, false,
				   VHOST_USER_PROTOCOL_F_RARP, vu_send_rarp },
	[VHOST_USER_NET_SET_MTU] = { "NET_SET_MTU", U64, U64, 0, 0, VU_IDX_NONE, false,
				     VHOST_USER_PROTOCOL_F_NET_MTU, vu_net_set_mtu },
	[VHOST_USER_RESET_DEVICE] = { "RESET_DEVICE", 0, U64, 0, 0, VU_IDX_NONE, false, -1, vu_reset_device },
	[VHOST_USER_GET_MAX_MEM_SLOTS] = { "GET_MAX_MEM_SLOTS", 0, U64, 0, 0, VU_IDX_NONE, true,
					   VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS, vu_get_max_mem_slots },
	[VHOST_USER_ADD_MEM_REG] = { "ADD_MEM_REG", SINGLE, SINGLE, 1, 1, VU_IDX_NONE, false,
				     VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS, vu_add_mem_reg },
	/* vhost-user.rst: "the back-end MAY accept messages with one file descriptor" and closes it. */
	[VHOST_USER_REM_MEM_REG] = { "REM_MEM_REG", SINGLE, SINGLE, 0, 1, VU_IDX_NONE, false,
				     VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS, vu_rem_mem_reg },
	[VHOST_USER_SET_STATUS] = { "SET_STATUS", U64, U64, 0, 0, VU_IDX_NONE, false,
				    VHOST_USER_PROTOCOL_F_STATUS, vu_set_status },
	[VHOST_USER_GET_STATUS] = { "GET_STATUS", 0, U64, 0, 0, VU_IDX_NONE, true,
				    VHOST_USER_PROTOCOL_F_STATUS, vu_get_status },
};

const struct vu_msg_rule *vu_msg_rule(uint32_t request)
{
	if (request >= VHOST_USER_REQUEST_MAX || !rules[request].handle)
		return NULL;
	return &rules[request];
}

void vu_close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int vu_msg_validate(struct vu_dev *d, const struct vhost_user_msg *m, unsigned nfds)
{
	const struct vu_msg_rule *r = vu_msg_rule(m->hdr.request);
	uint32_t idx;

	if (!r)
		return vu_dev_fail(d, "unsupported request %u", m->hdr.request);
	if (m->hdr.size < r->min_size || m->hdr.size > r->max_size)
		return vu_dev_fail(d, "%s: payload of %u bytes, expected %u to %u", r->name, m->hdr.size,
				   r->min_size, r->max_size);
	if (nfds < r->min_fds || nfds > r->max_fds)
		return vu_dev_fail(d, "%s: %u file descriptors, expected %u to %u", r->name, nfds, r->min_fds,
				   r->max_fds);
	if (r->protocol_bit >= 0 && !(d->protocol & (1ull << r->protocol_bit)))
		return vu_dev_fail(d, "%s without its protocol feature", r->name);
	switch (r->idx) {
	case VU_IDX_STATE:
		idx = m->payload.state.index;
		break;
	case VU_IDX_ADDR:
		idx = m->payload.addr.index;
		break;
	case VU_IDX_U64:
		idx = (uint32_t)(m->payload.u64 & VHOST_USER_VRING_IDX_MASK);
		/* The fd count must agree with the "no fd" flag. */
		if (!!(m->payload.u64 & VHOST_USER_VRING_NOFD_MASK) == (nfds == 1))
			return vu_dev_fail(d, "%s: fd count disagrees with its no-fd flag", r->name);
		break;
	default:
		return 0;
	}
	if (idx >= 2 * d->max_queue_pairs)
		return vu_dev_fail(d, "%s: vring index %u out of range", r->name, idx);
	return 0;
}

int vu_msg_reply(struct vu_dev *d, const struct vhost_user_msg *req, const void *payload, uint32_t size)
{
	struct vhost_user_hdr hdr = {
		.request = req->hdr.request,
		.flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK,
		.size = size,
	};
	uint8_t wire[VHOST_USER_HDR_SIZE + VHOST_USER_PAYLOAD_MAX];
	size_t len = VHOST_USER_HDR_SIZE + size;
	ssize_t n;

	memcpy(wire, &hdr, sizeof(hdr));
	memcpy(wire + VHOST_USER_HDR_SIZE, payload, size);
	/* Never block the control thread on a front end that does not read. */
	n = send(d->fd, wire, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n != (ssize_t)len)
		return vu_dev_fail(d, "cannot send reply to %s: %s", vu_msg_rule(req->hdr.request)->name,
				   n < 0 ? strerror(errno) : "short write");
	return 0;
}

/* Collect SCM_RIGHTS fds; more than we can hold is a violation. */
static int take_fds(struct vu_dev *d, struct msghdr *mh)
{
	int rc = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		unsigned n;
		int *p;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		p = (int *)CMSG_DATA(c);
		for (unsigned i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, p + i, sizeof(fd));
			if (d->nfds < VHOST_USER_MAX_FDS)
				d->fds[d->nfds++] = fd;
			else {
				close(fd);
				rc = -EPROTO;
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		rc = -EPROTO;
	return rc ? vu_dev_fail(d, "more than %d file descriptors with one message", VHOST_USER_MAX_FDS) : 0;
}

/*
 * Read more of the current message without blocking.  Returns 1 when a
 * whole message is in d->msg (fds in d->fds), 0 when more bytes are needed,
 * or a -errno.
 */
static int recv_chunk(struct vu_dev *d)
{
	union {
		char buf[CMSG_SPACE(VHOST_USER_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctrl;
	size_t want = d->have < VHOST_USER_HDR_SIZE ? VHOST_USER_HDR_SIZE : VHOST_USER_HDR_SIZE + d->msg.hdr.size;
	struct iovec iov = { .iov_base = d->wire + d->have, .iov_len = want - d->have };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.buf,
			     .msg_controllen = sizeof(ctrl.buf) };
	ssize_t n;
	int rc;

	if (want == d->have)
		return 1; /* header only, size 0 */
	n = recvmsg(d->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	rc = take_fds(d, &mh);
	if (rc < 0)
		return rc;
	d->have += (size_t)n;
	if (d->have == VHOST_USER_HDR_SIZE) {
		memcpy(&d->msg.hdr, d->wire, VHOST_USER_HDR_SIZE);
		memset(&d->msg.payload, 0, sizeof(d->msg.payload));
		const struct vu_msg_rule *r = vu_msg_rule(d->msg.hdr.request);

		if ((d->msg.hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION ||
		    (d->msg.hdr.flags & VHOST_USER_REPLY_MASK))
			return vu_dev_fail(d, "bad header flags 0x%x", d->msg.hdr.flags);
		if (!r)
			return vu_dev_fail(d, "unsupported request %u", d->msg.hdr.request);
		if (d->msg.hdr.size > VHOST_USER_PAYLOAD_MAX)
			return vu_dev_fail(d, "%s: payload of %u bytes is too large", r->name, d->msg.hdr.size);
		return d->msg.hdr.size == 0 ? 1 : 0;
	}
	if (d->have < VHOST_USER_HDR_SIZE + d->msg.hdr.size)
		return 0;
	memcpy(&d->msg.payload, d->wire + VHOST_USER_HDR_SIZE, d->msg.hdr.size);
	return 1;
}

/* Header, then payload, in as many reads as it takes while bytes are waiting. */
static int recv_some(struct vu_dev *d)
{
	for (;;) {
		size_t before = d->have;
		int rc = recv_chunk(d);

		if (rc != 0 || d->have == before)
			return rc;
	}
}

int vu_dev_on_readable(struct vu_dev *d)
{
	for (int budget = 64; budget > 0; budget--) {
		const struct vu_msg_rule *r;
		int rc = recv_some(d);

		if (rc <= 0) {
			if (rc < 0 && rc != -ECONNRESET && !d->error[0])
				vu_dev_fail(d, "socket error: %s", strerror(-rc));
			return rc;
		}
		rc = vu_msg_validate(d, &d->msg, d->nfds);
		if (rc == 0) {
			bool ack;

			r = vu_msg_rule(d->msg.hdr.request);
			/*
			 * REPLY_ACK: a u64 of 0 (success) or 1 unless the message has its
			 * own reply; decided before the handler, which may reset the
			 * protocol features (RESET_DEVICE).
			 */
			ack = !r->reply && (d->msg.hdr.flags & VHOST_USER_NEED_REPLY_MASK) &&
			      (d->protocol & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK));
			rc = r->handle(d, &d->msg, d->fds, d->nfds);
			d->messages++;
			if (ack) {
				uint64_t v = rc < 0;
				int rrc = vu_msg_reply(d, &d->msg, &v, sizeof(v));

				if (rc == 0)
					rc = rrc;
			}
		}
		vu_close_fds(d->fds, d->nfds);
		d->nfds = 0;
		d->have = 0;
		if (rc < 0)
			return rc;
	}
	return 0;
}
