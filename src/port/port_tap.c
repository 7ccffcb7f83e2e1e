/* port_tap.c - tap port: the host stack reaches the switch through /dev/net/tun (IFF_TAP, IFF_VNET_HDR). */
#include "port/port_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "packet/vnet_hdr.h"
#include "port/port_types.h"
#include "vsw/virtio_net.h"

/*
 * The kernel's tun_get_user / tun_put_user are the other side: every frame
 * read or written is preceded by a 12-byte virtio-net header (TUNSETVNETHDRSZ).
 * Offloads pass through it whole: TUNSETOFFLOAD says what we read from the
 * host stack (partial checksums, TSO4/6 with ECN, and USO4/6 where the
 * kernel knows them), and the kernel takes every request we write
 * (tun_get_user: virtio_net_hdr_to_skb()), so the port takes them all
 * (tx_offload; USO only with USO read offloads, the mark of a kernel that
 * knows GSO_UDP_L4).
 *
 *   host stack -> tap -> read() into a slot -> pkt view -> switch
 *   switch -> writev(header, pkt head, rest of the view) -> tap -> host stack (netif_rx)
 *
 * One read or write per frame: tap has no batched interface.
 */

/*
 * A slot: the header, the largest frame anything here carries, and one
 * byte more.  The kernel copies at most the slot and returns at most what
 * it copied (tun_chr_read_iter), so a read that fills the spare byte was a
 * frame too big for us, cut short: tap_rx_burst() drops it.  (At the tap's
 * largest MTU, 65521, a VLAN-tagged frame is 65539 bytes.)
 */
#define TAP_HDR_LEN 12u
#define TAP_SLOT (TAP_HDR_LEN + PKT_MAX_FRAME + 1)
#define TAP_TX_IOV 64
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20		/* linux/if_tun.h since 6.2 */
#define TUN_F_USO6 0x40
#endif
#define TAP_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)

struct tap_port {
	struct port port;
	int fd;
	char ifname[IFNAMSIZ];
	bool created;
	bool drained;			/* the last rx burst ended on EAGAIN */
	uint8_t *slots;			/* PKT_BURST receive slots */
	struct iovec rx_iov[PKT_BURST];
	unsigned rx_accept;		/* VNET_ACCEPT_*: what TUNSETOFFLOAD lets the kernel hand us */
	pthread_spinlock_t tx_lock;
	uint8_t tx_hdr[TAP_HDR_LEN];
};

static struct tap_port *tap_of(struct port *p) { return (struct tap_port *)p; }

static unsigned tap_rx_burst(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max)
{
	struct tap_port *t = tap_of(p);
	unsigned n = 0, i = 0;
	uint64_t bytes = 0;

	t->drained = false;
	for (; i < max && bytes < PKT_BURST_BYTES; i++) {
		uint8_t *slot = t->slots + (size_t)n * TAP_SLOT;
		struct vnet_info vi;
		enum vnet_bad why;
		ssize_t len = read(t->fd, slot, TAP_SLOT);

		if (len < 0) {
			t->drained = true; /* EAGAIN, or the device went away: nothing more now */
			break;
		}
		if ((size_t)len < TAP_HDR_LEN + PKT_ETH_HLEN) {
			port_count_drop(p, DROP_RUNT, 1);
			continue;
		}
		if ((size_t)len > TAP_HDR_LEN + PKT_MAX_FRAME) {
			/* Truncated at the slot's end (or, from a kernel that said more, past it): never a view. */
			port_count_drop(p, DROP_TOO_BIG, 1);
			continue;
		}
		/* The slot is ours: the header is read from private memory. */
		why = vnet_hdr_parse(slot, (size_t)len - TAP_HDR_LEN, t->rx_accept, &vi);
		if (why != VNET_OK) {
			port_count_bad_header(p, why); /* should not happen */
			continue;
		}
		t->rx_iov[n] = (struct iovec){ slot + TAP_HDR_LEN, (size_t)len - TAP_HDR_LEN };
		pkt_rx_init(&pkts[n], &t->rx_iov[n], 1, (uint32_t)(len - TAP_HDR_LEN), p->id);
		vnet_to_pkt(&vi, &pkts[n]);
		if (vnet_requests(&vi) && !port_offload_rx_ok(p, &pkts[n]))
			continue;
		bytes += pkts[n].len;
		n++;
	}
	port_count(&p->stats.rx_packets, n);
	port_count(&p->stats.rx_bytes, bytes);
	return n;
}

static void tap_rx_done(struct port *p, unsigned q, struct port_io *io)
{
	/* The slots are ours and reused by the next burst. */
}

static void tap_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	struct tap_port *t = tap_of(p);
	unsigned drops[DROP__COUNT] = { 0 }, sent = 0;
	struct iovec iov[TAP_TX_IOV + 1];
	uint64_t bytes = 0;

	pthread_spin_lock(&t->tx_lock);
	for (unsigned i = 0; i < n; i++) {
		struct pkt *pk = pkts[i];
		int nseg = pkt_segs(pk, &iov[1], TAP_TX_IOV); /* the head, then the rest of the view */
		struct vnet_info vi;
		ssize_t w;

		if (nseg < 0) {
			drops[DROP_TOO_BIG]++;
			continue;
		}
		/* The frame's requests, whole: the host stack finishes them (num_buffers stays 0). */
		vnet_from_pkt(pk, false, &vi);
		vnet_hdr_build(t->tx_hdr, &vi);
		iov[0] = (struct iovec){ t->tx_hdr, TAP_HDR_LEN };
		w = writev(t->fd, iov, nseg + 1);
		if (w < 0) {
			drops[errno == EAGAIN || errno == ENOBUFS ? DROP_NO_RX_BUFFER
				: errno == EIO		    ? DROP_PORT_DOWN /* link down */
				: errno == EINVAL	    ? DROP_TOO_BIG
							    : DROP_PORT_BROKEN]++;
			continue;
		}
		sent++;
		bytes += pk->len;
	}
	pthread_spin_unlock(&t->tx_lock);
	port_count(&p->stats.tx_packets, sent);
	port_count(&p->stats.tx_bytes, bytes);
	port_count_drops(p, drops);
}

static unsigned tap_rx_queues(struct port *p) { return 1; }
static int tap_rx_fd(struct port *p, unsigned q) { return tap_of(p)->fd; }

static bool tap_rx_arm(struct port *p, unsigned q)
{
	/* Edge-triggered: only an empty queue will signal new frames. */
	return !tap_of(p)->drained;
}

static void tap_rx_disarm(struct port *p, unsigned q) {}

static void tap_describe(struct port *p, char *buf, size_t len)
{
	struct tap_port *t = tap_of(p);

	snprintf(buf, len, "tap %s (%s)", t->ifname, t->created ? "created" : "attached");
}

static void tap_destroy(struct port *p)
{
	struct tap_port *t = tap_of(p);

	if (t->fd >= 0)
		close(t->fd); /* a tap we created (not persistent) goes away with it */
	pthread_spin_destroy(&t->tx_lock);
	free(t->slots);
	free(t);
}

static const struct port_ops tap_port_ops = {
	.type = "tap",
	.rx_burst = tap_rx_burst,
	.rx_done = tap_rx_done,
	.tx_burst = tap_tx_burst,
	.rx_queues = tap_rx_queues,
	.rx_fd = tap_rx_fd,
	.rx_arm = tap_rx_arm,
	.rx_disarm = tap_rx_disarm,
	.describe = tap_describe,
	.destroy = tap_destroy,
};

/* Bring @ifname up (a tap we created starts down). */
static int link_up(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1;

	if (s < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	return rc;
}

struct port *port_tap_create(const char *name, struct json_object *params, const struct port_env *env, char *err,
			     size_t errlen)
{
	const char *ifname = port_param_str(params, "ifname");
	struct ifreq ifr = { 0 };
	int hdr_len = TAP_HDR_LEN;
	struct tap_port *t;

	if (!ifname)
		ifname = name;
	if (strlen(ifname) >= IFNAMSIZ) {
		snprintf(err, errlen, "tap: ifname %s longer than %d bytes", ifname, IFNAMSIZ - 1);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t || !(t->slots = malloc((size_t)PKT_BURST * TAP_SLOT))) {
		snprintf(err, errlen, "out of memory");
		goto out_free;
	}
	snprintf(t->port.name, sizeof(t->port.name), "%s", name);
	snprintf(t->ifname, sizeof(t->ifname), "%s", ifname);
	t->port.ops = &tap_port_ops;
	t->created = if_nametoindex(ifname) == 0;
	t->drained = true;
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		snprintf(err, errlen, "tap %s: /dev/net/tun: %s", ifname, strerror(errno));
		goto out_free;
	}
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		snprintf(err, errlen, "tap %s: TUNSETIFF: %s%s", ifname, strerror(errno),
			 errno == EBUSY ? " (in use by another process, or not a single-queue tap)" : "");
		goto out_close;
	}
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
		snprintf(err, errlen, "tap %s: vnet header setup: %s", ifname, strerror(errno));
		goto out_close;
	}
	/* USO where the kernel has it (EINVAL before 6.2), else the TCP offloads alone. */
	t->rx_accept = VNET_ACCEPT_DATA_VALID | VNET_ACCEPT_CSUM | VNET_ACCEPT_TSO4 | VNET_ACCEPT_TSO6 | VNET_ACCEPT_ECN;
	if (ioctl(t->fd, TUNSETOFFLOAD, TAP_OFFLOADS | TUN_F_USO4 | TUN_F_USO6) == 0) {
		t->rx_accept |= VNET_ACCEPT_USO;
		atomic_init(&t->port.tx_offload, GSO_TX_ALL);
	} else if (ioctl(t->fd, TUNSETOFFLOAD, TAP_OFFLOADS) == 0) {
		atomic_init(&t->port.tx_offload, GSO_TX_ALL & ~GSO_TX_USO);
	} else {
		snprintf(err, errlen, "tap %s: TUNSETOFFLOAD: %s", ifname, strerror(errno));
		goto out_close;
	}
	t->port.rx_offload = true;
	if (t->created && link_up(ifname) < 0) {
		snprintf(err, errlen, "tap %s: cannot bring it up: %s", ifname, strerror(errno));
		goto out_close;
	}
	pthread_spin_init(&t->tx_lock, PTHREAD_PROCESS_PRIVATE);
	return &t->port;

out_close:
	close(t->fd);
out_free:
	if (t)
		free(t->slots);
	free(t);
	return NULL;
}
