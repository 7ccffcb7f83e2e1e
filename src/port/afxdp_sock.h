/* afxdp_sock.h - one AF_XDP socket, its UMEM registration and its four rings, set up by hand so the UMEM can carry tx metadata (libxdp 1.3 cannot ask for it); an interface's rx queues. */
#ifndef VSW_PORT_AFXDP_SOCK_H
#define VSW_PORT_AFXDP_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xdp/xsk.h>

/*
 * What libxdp's xsk_umem__create() and xsk_socket__create() do, minus the
 * XDP program (the port attaches its own) and plus one thing: the UMEM is
 * registered with XDP_UMEM_TX_METADATA_LEN when asked, so each transmit
 * descriptor may carry a struct xsk_tx_metadata just before its data:
 *
 *   UMEM frame (chunk) of a transmit descriptor with AFXDP_TX_META_BYTES room:
 *   | xsk_tx_metadata (24) | frame bytes ...                               |
 *   ^ chunk start           ^ desc.addr (options XDP_TX_METADATA: the kernel
 *                             reads the metadata at desc.addr - 24)
 *
 * The kernel (net/xdp/xsk.c, xsk_skb_metadata) turns XDP_TXMD_FLAGS_CHECKSUM
 * into a CHECKSUM_PARTIAL skb in copy mode too (the skb path veth uses),
 * so the checksum is finished by whoever finishes it for the kernel's own
 * frames (on a veth: nobody, the peer's stack trusts it).  The kernels
 * that know XDP_UMEM_TX_METADATA_LEN (6.11, and the stable lines it was
 * backported to) all have that; older ones refuse the flag with EINVAL and
 * the socket is set up without metadata.
 *
 * The rings are libxdp's structs (its inline ring helpers stay in use),
 * filled here from the kernel's XDP_MMAP_OFFSETS.
 */

/* These came with Linux 6.8 and 6.11; the uapi header here may be older.  Values from include/uapi/linux/if_xdp.h. */
#ifndef XDP_UMEM_TX_METADATA_LEN
#define XDP_UMEM_TX_METADATA_LEN (1 << 2)	/* xdp_umem_reg.tx_metadata_len is meant */
#endif
#ifndef XDP_TX_METADATA
#define XDP_TX_METADATA (1 << 1)		/* xdp_desc.options: metadata precedes the data */
#endif
#ifndef XDP_TXMD_FLAGS_CHECKSUM
#define XDP_TXMD_FLAGS_CHECKSUM (1 << 1)	/* xsk_tx_metadata.flags: complete the checksum */
#endif

/* struct xsk_tx_metadata as 6.18 has it (request.launch_time was added last), under our own name. */
struct afxdp_tx_meta {
	uint64_t flags;
	uint16_t csum_start;	/* from the frame's first byte */
	uint16_t csum_offset;	/* the field, from csum_start */
	uint32_t pad;
	uint64_t launch_time;	/* unused: XDP_TXMD_FLAGS_LAUNCH_TIME is never set */
};

#define AFXDP_TX_META_BYTES 24u	/* room the UMEM registers before transmit data: the metadata, a multiple of 8 */
_Static_assert(sizeof(struct afxdp_tx_meta) == AFXDP_TX_META_BYTES, "the kernel's struct xsk_tx_metadata");

/* The socket's own fd and mappings (its UMEM area is the caller's). */
struct afxdp_sock {
	int fd;			/* -1: not open */
	unsigned tx_meta_bytes;	/* AFXDP_TX_META_BYTES, or 0: registered without tx metadata */
	void *ring_map[4];	/* fill, completion, rx, tx */
	size_t ring_bytes[4];
};

/* What a socket is to be. */
struct afxdp_sock_config {
	void *umem;		/* page-aligned area, the caller's */
	size_t umem_bytes;
	unsigned frame_bytes;	/* the chunk size */
	unsigned rx_entries;	/* the fill and rx rings, a power of two */
	unsigned tx_entries;	/* the tx and completion rings, a power of two */
	unsigned ifindex, qid;
	uint16_t bind_flags;	/* XDP_COPY, XDP_ZEROCOPY, XDP_USE_NEED_WAKEUP */
	bool tx_meta;		/* ask for AFXDP_TX_META_BYTES of tx metadata (fall back to none on EINVAL) */
};

/*
 * Create the socket, register the UMEM, make and map the four rings into
 * @fill, @comp, @rx, @tx and bind it to queue @c->qid.  0, or -errno with
 * nothing left open (@s->fd -1).
 */
int afxdp_sock_open(struct afxdp_sock *s, const struct afxdp_sock_config *c, struct xsk_ring_prod *fill,
		    struct xsk_ring_cons *comp, struct xsk_ring_cons *rx, struct xsk_ring_prod *tx);

/*
 * afxdp_sock_open(), retried while the queue is busy (EBUSY): a socket
 * closed a moment ago (a port just deleted) lets go of its queue only when
 * a kernel workqueue gets to it.  Sleeps: the control thread's, at
 * creation.
 */
#define AFXDP_BUSY_TRIES 50		/* a busy queue is retried this often ... */
#define AFXDP_BUSY_WAIT_US 10000	/* ... this far apart */
int afxdp_sock_open_busy(struct afxdp_sock *s, const struct afxdp_sock_config *c, struct xsk_ring_prod *fill,
			 struct xsk_ring_cons *comp, struct xsk_ring_cons *rx, struct xsk_ring_prod *tx);

/*
 * The rx queues interface @ifname (index @ifindex) has now: its channels
 * (ETHTOOL_GCHANNELS through @ioctl_fd, a datagram socket: combined plus
 * rx-only ones; veth reports its real_num_rx_queues as rx), else the rx-N
 * entries of /sys/class/net/IF/queues when that sysfs shows this
 * namespace's interface (same ifindex: sysfs shows the namespace it was
 * mounted in).  0 when neither says.
 */
unsigned afxdp_if_rx_queues(int ioctl_fd, const char *ifname, unsigned ifindex);

/* Unmap the rings and close the socket (which takes it out of any xsks map); a closed one is left alone. */
void afxdp_sock_close(struct afxdp_sock *s);

#endif
