/* afxdp_sock.c - one AF_XDP socket set up by hand: UMEM registration (with tx metadata room when the kernel has it), four rings, bind (a busy queue waited for); an interface's rx queues. */
#include "port/afxdp_sock.h"

#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

/* struct xdp_umem_reg with tx_metadata_len (Linux 6.8); an older kernel reads the first 28 bytes and the zero after. */
struct afxdp_umem_reg {
	uint64_t addr;
	uint64_t len;
	uint32_t chunk_size;
	uint32_t headroom;
	uint32_t flags;
	uint32_t tx_metadata_len;
};

enum { RING_FILL, RING_COMP, RING_RX, RING_TX };

/* Register @c's UMEM on @fd, with tx metadata room when asked and taken.  0 or -errno; sets @s->tx_meta_bytes. */
static int umem_register(struct afxdp_sock *s, int fd, const struct afxdp_sock_config *c)
{
	struct afxdp_umem_reg mr = {
		.addr = (uintptr_t)c->umem,
		.len = c->umem_bytes,
		.chunk_size = c->frame_bytes,
		.headroom = 0,
	};

	s->tx_meta_bytes = 0;
	if (c->tx_meta) {
		mr.flags = XDP_UMEM_TX_METADATA_LEN;
		mr.tx_metadata_len = AFXDP_TX_META_BYTES;
		if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)) == 0) {
			s->tx_meta_bytes = AFXDP_TX_META_BYTES;
			return 0;
		}
		/* EINVAL: a kernel without the flag (before 6.11): the same registration without metadata. */
		if (errno != EINVAL)
			return -errno;
		mr.flags = 0;
		mr.tx_metadata_len = 0;
	}
	return setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)) == 0 ? 0 : -errno;
}

/* Map ring @which of @fd (@entries of @entry_bytes after the kernel's offsets @o at page offset @pgoff). */
static int ring_map(struct afxdp_sock *s, int which, int fd, const struct xdp_ring_offset *o, unsigned entries,
		    size_t entry_bytes, off_t pgoff, struct xsk_ring_prod *prod, struct xsk_ring_cons *cons)
{
	size_t bytes = o->desc + entries * entry_bytes;
	char *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, pgoff);

	if (m == MAP_FAILED)
		return -errno;
	s->ring_map[which] = m;
	s->ring_bytes[which] = bytes;
	/* Both structs are libxdp's DEFINE_XSK_RING: the same fields, the same meaning. */
	if (prod) {
		prod->mask = entries - 1;
		prod->size = entries;
		prod->producer = (uint32_t *)(m + o->producer);
		prod->consumer = (uint32_t *)(m + o->consumer);
		prod->ring = m + o->desc;
		prod->flags = (uint32_t *)(m + o->flags);
		/* A producer's cached consumer runs one ring ahead (xsk_prod_nb_free()'s free = cached_cons - cached_prod). */
		prod->cached_prod = __atomic_load_n(prod->producer, __ATOMIC_RELAXED);
		prod->cached_cons = __atomic_load_n(prod->consumer, __ATOMIC_RELAXED) + entries;
	} else {
		cons->mask = entries - 1;
		cons->size = entries;
		cons->producer = (uint32_t *)(m + o->producer);
		cons->consumer = (uint32_t *)(m + o->consumer);
		cons->ring = m + o->desc;
		cons->flags = (uint32_t *)(m + o->flags);
		cons->cached_prod = __atomic_load_n(cons->producer, __ATOMIC_RELAXED);
		cons->cached_cons = __atomic_load_n(cons->consumer, __ATOMIC_RELAXED);
	}
	return 0;
}

int afxdp_sock_open(struct afxdp_sock *s, const struct afxdp_sock_config *c, struct xsk_ring_prod *fill,
		    struct xsk_ring_cons *comp, struct xsk_ring_cons *rx, struct xsk_ring_prod *tx)
{
	int rx_entries = (int)c->rx_entries, tx_entries = (int)c->tx_entries, rc;
	struct xdp_mmap_offsets off;
	socklen_t optlen = sizeof(off);
	struct sockaddr_xdp sxdp = {
		.sxdp_family = AF_XDP,
		.sxdp_flags = c->bind_flags,
		.sxdp_ifindex = c->ifindex,
		.sxdp_queue_id = c->qid,
	};

	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	rc = umem_register(s, s->fd, c);
	if (rc)
		goto out_close;
	if (setsockopt(s->fd, SOL_XDP, XDP_UMEM_FILL_RING, &rx_entries, sizeof(rx_entries)) < 0 ||
	    setsockopt(s->fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &tx_entries, sizeof(tx_entries)) < 0 ||
	    setsockopt(s->fd, SOL_XDP, XDP_RX_RING, &rx_entries, sizeof(rx_entries)) < 0 ||
	    setsockopt(s->fd, SOL_XDP, XDP_TX_RING, &tx_entries, sizeof(tx_entries)) < 0 ||
	    getsockopt(s->fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &optlen) < 0) {
		rc = -errno;
		goto out_close;
	}
	if (optlen < sizeof(off)) {
		rc = -EOPNOTSUPP; /* a kernel before 5.4 (no ring flags): not supported */
		goto out_close;
	}
	rc = ring_map(s, RING_FILL, s->fd, &off.fr, c->rx_entries, sizeof(uint64_t), XDP_UMEM_PGOFF_FILL_RING,
		      fill, NULL);
	if (!rc)
		rc = ring_map(s, RING_COMP, s->fd, &off.cr, c->tx_entries, sizeof(uint64_t),
			      XDP_UMEM_PGOFF_COMPLETION_RING, NULL, comp);
	if (!rc)
		rc = ring_map(s, RING_RX, s->fd, &off.rx, c->rx_entries, sizeof(struct xdp_desc), XDP_PGOFF_RX_RING,
			      NULL, rx);
	if (!rc)
		rc = ring_map(s, RING_TX, s->fd, &off.tx, c->tx_entries, sizeof(struct xdp_desc), XDP_PGOFF_TX_RING,
			      tx, NULL);
	if (rc)
		goto out_close;
	if (bind(s->fd, (struct sockaddr *)&sxdp, sizeof(sxdp)) < 0) {
		rc = -errno;
		goto out_close;
	}
	return 0;

out_close:
	afxdp_sock_close(s);
	return rc;
}

void afxdp_sock_close(struct afxdp_sock *s)
{
	for (unsigned i = 0; i < 4; i++) {
		if (s->ring_map[i])
			munmap(s->ring_map[i], s->ring_bytes[i]);
		s->ring_map[i] = NULL;
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

int afxdp_sock_open_busy(struct afxdp_sock *s, const struct afxdp_sock_config *c, struct xsk_ring_prod *fill,
			 struct xsk_ring_cons *comp, struct xsk_ring_cons *rx, struct xsk_ring_prod *tx)
{
	for (unsigned tries = 0;; tries++) {
		/* A failed bind leaves the socket unusable, so every attempt starts from a new one. */
		int rc = afxdp_sock_open(s, c, fill, comp, rx, tx);

		if (rc != -EBUSY || tries == AFXDP_BUSY_TRIES)
			return rc;
		usleep(AFXDP_BUSY_WAIT_US);
	}
}

unsigned afxdp_if_rx_queues(int ioctl_fd, const char *ifname, unsigned ifindex)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = { 0 };
	char path[80];
	unsigned n = 0, sys_ifindex = 0;
	struct dirent *de;
	FILE *f;
	DIR *d;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	if (ioctl_fd >= 0 && ioctl(ioctl_fd, SIOCETHTOOL, &ifr) == 0 && ch.combined_count + ch.rx_count > 0)
		return ch.combined_count + ch.rx_count;
	snprintf(path, sizeof(path), "/sys/class/net/%s/ifindex", ifname);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%u", &sys_ifindex) != 1)
		sys_ifindex = 0;
	fclose(f);
	if (sys_ifindex != ifindex)
		return 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, "rx-", 3) == 0;
	closedir(d);
	return n;
}
