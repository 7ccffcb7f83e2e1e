/* vu_dev.h - one vhost-user connection and the virtio device state it configures. */
#ifndef VSW_VHOST_USER_VU_DEV_H
#define VSW_VHOST_USER_VU_DEV_H

/*
 * A vu_dev is the back-end half of one vhost-user session.  The control
 * thread feeds it bytes from the socket (vu_dev_on_readable); complete
 * messages are validated against one table (vu_msg.c) and handled here
 * (vu_dev.c).  Worker threads only look at vrings whose `live` flag is set
 * and use their struct vq; the control thread clears `live`, waits for the
 * workers to let go (ops->quiesce), changes the vring or memory, and sets
 * `live` again when the ring is started, enabled and usable.
 *
 *   ring state (vhost-user.rst "Ring states"):
 *
 *     stopped --SET_VRING_KICK--> started --GET_VRING_BASE--> stopped
 *     enabled: by SET_VRING_ENABLE when PROTOCOL_FEATURES was negotiated,
 *              from the start otherwise
 *     mapped: vq_init() accepted the ring over the current memory map; a
 *             started ring whose memory goes away waits, unmapped, for it
 *     live = started && enabled && mapped
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vsw/guest_mem.h"
#include "vsw/vhost_user.h"
#include "vsw/virtq.h"

#define VU_MAX_QUEUE_PAIRS 8
#define VU_MAX_VRINGS (2 * VU_MAX_QUEUE_PAIRS)
#define VU_MAX_MEM_SLOTS 32

struct vu_region {
	uint64_t gpa, size, uaddr;
	void *mmap_base;	/* what munmap() gets back */
	size_t mmap_len;	/* offset + size rounded up to the file's block (huge page for hugetlb) */
	uint8_t *hva;		/* mmap_base + mmap_offset */
	int guard;		/* vu_memguard slot */
	unsigned adds;		/* ADD_MEM_REGs naming it, less REM_MEM_REGs (1 from SET_MEM_TABLE) */
};

struct vu_vring {
	unsigned num;
	struct vhost_user_vring_addr addr;
	bool addr_set;
	uint32_t base;
	int kick_fd, call_fd, err_fd;	/* -1: none */
	bool started, enabled;
	bool mapped;			/* vq set up over the current memory map */
	atomic_bool live;
	struct vq vq;
};

struct vu_dev;

/* What the owner (the vhost-user port) does for the device. */
struct vu_dev_ops {
	/* Wait until no worker uses any vring of the device (rings already not live). */
	void (*quiesce)(void *arg);
	/* Rings became live or stopped, or their fds changed: re-arm workers. */
	void (*rings_changed)(void *arg);
	/* SEND_RARP: announce @mac from the guest's port (may be NULL: not offered). */
	void (*send_rarp)(void *arg, const uint8_t mac[6]);
};

struct vu_dev {
	const char *name;
	int fd;				/* the session's socket, -1 when none */
	const struct vu_dev_ops *ops;
	void *ops_arg;

	uint64_t features_offered, features;
	uint64_t protocol_offered, protocol;
	bool features_set;
	unsigned max_queue_pairs;
	uint32_t mtu;			/* NET_SET_MTU, 0 when not set */
	uint64_t status;

	struct vu_region regions[VU_MAX_MEM_SLOTS];
	unsigned nregions;
	struct gmem *mem;		/* rebuilt from regions; read by workers */

	struct vu_vring vrings[VU_MAX_VRINGS];

	/*
	 * Dirty page log (SET_LOG_BASE): the mapping, and what the queues get
	 * while VHOST_F_LOG_ALL is negotiated (vring_setup_vq).  log.bits is
	 * NULL when there is none.
	 */
	struct vq_log log;
	void *log_map;
	size_t log_map_len;
	int log_guard;			/* vu_memguard slot, -1 none */

	/* Partly received message: wire bytes, then the aligned copy handlers get. */
	uint8_t wire[VHOST_USER_HDR_SIZE + VHOST_USER_PAYLOAD_MAX];
	size_t have;
	struct vhost_user_msg msg;
	int fds[VHOST_USER_MAX_FDS];
	unsigned nfds;

	bool told_blocking_call;	/* logged that a call eventfd was made non-blocking, this session */
	char error[160];		/* why the session was broken, "" if not */
	uint64_t messages;		/* handled, for stats */
};

/* Set up an idle device offering @features; 0 or -ENOMEM. */
int vu_dev_init(struct vu_dev *d, const char *name, uint64_t features, unsigned max_queue_pairs,
		const struct vu_dev_ops *ops, void *ops_arg);

/* Start a session on the connected socket @fd (taken over). */
void vu_dev_attach(struct vu_dev *d, int fd);

/*
 * Read and handle every complete message waiting on the socket.  Returns 0
 * while the session goes on, -ECONNRESET when the front end hung up, or
 * another -errno when it broke the protocol (d->error says how).  In both
 * error cases the caller calls vu_dev_detach().
 */
int vu_dev_on_readable(struct vu_dev *d);

/* End the session: stop rings, unmap memory, close every fd. */
void vu_dev_detach(struct vu_dev *d);

/* Release what vu_dev_init() allocated (after vu_dev_detach()). */
void vu_dev_fini(struct vu_dev *d);

/* Record why the session broke (first reason wins); returns -EPROTO. */
int vu_dev_fail(struct vu_dev *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Did guest memory shrink under one of our mappings (the front end truncated its file)? */
bool vu_dev_mem_faulted(const struct vu_dev *d);

/* The same for the dirty log's mapping. */
bool vu_dev_log_faulted(const struct vu_dev *d);

/* Header length the negotiated features imply (5.1.6). */
unsigned vu_dev_net_hdr_len(const struct vu_dev *d);

static inline bool vu_has_feature(const struct vu_dev *d, unsigned bit) { return d->features & (1ull << bit); }

/* vu_msg.c: the validation table and the socket I/O. */
struct vu_msg_rule {
	const char *name;
	uint32_t min_size, max_size;	/* payload bytes */
	uint8_t min_fds, max_fds;
	enum { VU_IDX_NONE, VU_IDX_STATE, VU_IDX_ADDR, VU_IDX_U64 } idx;
	bool reply;			/* has a reply of its own */
	int8_t protocol_bit;		/* protocol feature it needs, -1 none */
	int (*handle)(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
};
const struct vu_msg_rule *vu_msg_rule(uint32_t request);
int vu_msg_validate(struct vu_dev *d, const struct vhost_user_msg *m, unsigned nfds);
int vu_msg_reply(struct vu_dev *d, const struct vhost_user_msg *req, const void *payload, uint32_t size);
void vu_close_fds(int *fds, unsigned n);

/* vu_dev.c handlers named in the table. */
int vu_get_features(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_set_features(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_set_owner(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_reset_owner(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_set_mem_table(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_set_vring_num(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_set_vring_addr(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_set_vring_base(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_get_vring_base(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_set_vring_fd(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_get_protocol_features(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_set_protocol_features(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_get_queue_num(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_set_vring_enable(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_net_set_mtu(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_reset_device(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_get_max_mem_slots(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_add_mem_reg(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_rem_mem_reg(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_set_status(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_get_status(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_set_log_base(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);
int vu_send_rarp(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds);

/* Is the device logging its writes now (LOG_ALL negotiated and a log mapped)? */
bool vu_dev_logging(const struct vu_dev *d);

#endif
