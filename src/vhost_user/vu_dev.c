/* vu_dev.c - vhost-user message handlers: features, guest memory, vrings and their state. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "vhost_user/vu_dev.h"
#include "vhost_user/vu_memguard.h"
#include "vsw/virtio_net.h"
#include "vsw/virtio_spec.h"

int vu_dev_fail(struct vu_dev *d, const char *fmt, ...)
{
	va_list ap;

	if (!d->error[0]) {
		va_start(ap, fmt);
		vsnprintf(d->error, sizeof(d->error), fmt, ap);
		va_end(ap);
	}
	return -EPROTO;
}

static void vring_reset(struct vu_vring *vr)
{
	vr->num = 0;
	vr->addr_set = false;
	vr->base = 0;
	vr->kick_fd = vr->call_fd = vr->err_fd = -1;
	vr->started = vr->enabled = vr->mapped = false;
	atomic_store(&vr->live, false);
}

int vu_dev_init(struct vu_dev *d, const char *name, uint64_t features, unsigned max_queue_pairs,
		const struct vu_dev_ops *ops, void *ops_arg)
{
	memset(d, 0, sizeof(*d));
	d->mem = calloc(1, sizeof(*d->mem));
	if (!d->mem)
		return -ENOMEM;
	gmem_init(d->mem);
	d->name = name;
	d->fd = -1;
	d->ops = ops;
	d->ops_arg = ops_arg;
	d->log_guard = -1;
	/* Every write into guest memory goes through src/virtio, which logs it: LOG_ALL with LOG_SHMFD. */
	d->features_offered = features | (1ull << VHOST_USER_F_PROTOCOL_FEATURES) | (1ull << VHOST_F_LOG_ALL);
	d->protocol_offered = 1ull << VHOST_USER_PROTOCOL_F_MQ | 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK |
			      1ull << VHOST_USER_PROTOCOL_F_NET_MTU |
			      1ull << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS |
			      1ull << VHOST_USER_PROTOCOL_F_STATUS | 1ull << VHOST_USER_PROTOCOL_F_LOG_SHMFD;
	if (ops && ops->send_rarp)
		d->protocol_offered |= 1ull << VHOST_USER_PROTOCOL_F_RARP;
	d->max_queue_pairs = max_queue_pairs < 1 ? 1 : max_queue_pairs > VU_MAX_QUEUE_PAIRS ? VU_MAX_QUEUE_PAIRS
											      : max_queue_pairs;
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		vring_reset(&d->vrings[i]);
	return 0;
}

void vu_dev_fini(struct vu_dev *d)
{
	free(d->mem);
	d->mem = NULL;
}

unsigned vu_dev_net_hdr_len(const struct vu_dev *d)
{
	return vu_has_feature(d, VIRTIO_F_VERSION_1) || vu_has_feature(d, VIRTIO_NET_F_MRG_RXBUF) ? 12 : 10;
}

bool vu_dev_logging(const struct vu_dev *d)
{
	return vu_has_feature(d, VHOST_F_LOG_ALL) && d->log.bits;
}

/* Take every vring off the data path and wait for the workers to let go. */
static void dp_stop(struct vu_dev *d)
{
	bool any = false;

	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		any |= atomic_exchange(&d->vrings[i].live, false);
	if (any && d->ops)
		d->ops->quiesce(d->ops_arg);
}

/* Translate a front-end user address (ring addresses are those) to guest physical. */
static int uaddr_to_gpa(const struct vu_dev *d, uint64_t uaddr, uint64_t *gpa)
{
	for (unsigned i = 0; i < d->nregions; i++) {
		const struct vu_region *r = &d->regions[i];

		if (uaddr >= r->uaddr && uaddr - r->uaddr < r->size) {
			*gpa = r->gpa + (uaddr - r->uaddr);
			return 0;
		}
	}
	return -EFAULT;
}

/*
 * (Re)build the device-side queue of a vring from its addresses, at @base.
 * Returns 0, -ENXIO when a ring address is in no region, -EFAULT when a
 * ring does not lie whole inside guest memory, or -EINVAL for sizes and
 * alignment; on failure the vring is not
 * mapped, so no worker can use a half-built queue.
 */
static int vring_setup_vq(struct vu_dev *d, unsigned idx, uint32_t base)
{
	struct vu_vring *vr = &d->vrings[idx];
	struct vq_config cfg = {
		.num = vr->num,
		.packed = vu_has_feature(d, VIRTIO_F_RING_PACKED),
		.event_idx = vu_has_feature(d, VIRTIO_F_EVENT_IDX),
		.indirect = vu_has_feature(d, VIRTIO_F_INDIRECT_DESC),
		.in_order = vu_has_feature(d, VIRTIO_F_IN_ORDER),
		/*
		 * 5.1.2: receiveqN is 2N, transmitqN 2N + 1.  The control queue,
		 * when negotiated, stays the front end's (vu_msg.c refuses a vring
		 * index past 2 x max_queue_pairs).
		 */
		.device_reads = idx % 2 == 1,
		.mem = d->mem,
		.log = vu_dev_logging(d) ? &d->log : NULL,
	};
	int rc;

	vr->mapped = false;
	if (!vr->addr_set || vr->num == 0)
		return -EINVAL;
	if (uaddr_to_gpa(d, vr->addr.desc_uaddr, &cfg.desc_gpa) < 0 ||
	    uaddr_to_gpa(d, vr->addr.avail_uaddr, &cfg.driver_gpa) < 0 ||
	    uaddr_to_gpa(d, vr->addr.used_uaddr, &cfg.device_gpa) < 0)
		return -ENXIO;
	/*
	 * vhost-user.rst, SET_VRING_ADDR: with VHOST_VRING_F_LOG "the back-end
	 * logs its writes to the used ring" at log_guest_addr, the guest
	 * physical address QEMU gives (its used_phys); without it the address
	 * we derived from the user address stands in.
	 */
	cfg.log_used_gpa = vr->addr.flags & (1u << VHOST_VRING_F_LOG) ? vr->addr.log_gaddr : cfg.device_gpa;
	rc = vq_init(&vr->vq, &cfg);
	if (rc < 0)
		return rc;
	vq_set_base(&vr->vq, base);
	vr->mapped = true;
	return 0;
}

/* The reason for a vring_setup_vq() failure, as the session's error. */
static int vring_setup_fail(struct vu_dev *d, unsigned idx, int rc)
{
	struct vu_vring *vr = &d->vrings[idx];

	if (!vr->addr_set || vr->num == 0)
		return vu_dev_fail(d, "vring %u started before its size and addresses were set", idx);
	if (rc == -ENXIO)
		return vu_dev_fail(d, "vring %u addresses outside guest memory", idx);
	if (rc == -EFAULT)
		return vu_dev_fail(d, "vring %u rejected: ring not inside guest memory", idx);
	return vu_dev_fail(d, "vring %u rejected: bad size or alignment (size %u)", idx, vr->num);
}

/* Recompute which vrings the workers may use, then tell the owner. */
static void dp_start(struct vu_dev *d)
{
	bool mem = d->nregions > 0;

	for (unsigned i = 0; i < 2 * d->max_queue_pairs; i++) {
		struct vu_vring *vr = &d->vrings[i];

		atomic_store(&vr->live, mem && vr->started && vr->mapped && vr->enabled && !vq_broken(&vr->vq));
	}
	if (d->ops)
		d->ops->rings_changed(d->ops_arg);
}

/*
 * After the memory map changed: started rings point into new mappings.
 * With ADD/REM_MEM_REG (@strict false) a ring whose memory is gone waits,
 * unmapped, until a region brings it back (hot-unplug and re-plug); a whole
 * new table (SET_MEM_TABLE, @strict) must hold every started ring.  A ring
 * that no longer passes vq_init's checks is an error either way.
 */
static int rings_remap(struct vu_dev *d, bool strict)
{
	int first = 0;

	for (unsigned i = 0; i < 2 * d->max_queue_pairs; i++) {
		struct vu_vring *vr = &d->vrings[i];
		uint32_t base = vr->mapped ? vq_get_base(&vr->vq) : vr->base;
		int rc;

		if (!vr->started)
			continue;
		vr->base = base;
		rc = vring_setup_vq(d, i, base);
		if (rc < 0 && (strict || (rc != -EFAULT && rc != -ENXIO)) && !first)
			first = vring_setup_fail(d, i, rc);
	}
	return first;
}

static void regions_rebuild_gmem(struct vu_dev *d)
{
	gmem_init(d->mem);
	for (unsigned i = 0; i < d->nregions; i++)
		gmem_add(d->mem, d->regions[i].gpa, d->regions[i].size, d->regions[i].hva);
}

/* Unwatch and unmap one region; a mapping munmap() refuses is logged (it stays, leaked). */
static void region_unmap(struct vu_dev *d, struct vu_region *r)
{
	vu_memguard_unwatch(r->guard);
	if (r->mmap_base && munmap(r->mmap_base, r->mmap_len) < 0)
		log_warn("vhost-user %s: cannot unmap guest memory at %p (%zu bytes): %s", d->name, r->mmap_base,
			 r->mmap_len, strerror(errno));
	memset(r, 0, sizeof(*r));
}

static void regions_unmap_all(struct vu_dev *d)
{
	for (unsigned i = 0; i < d->nregions; i++)
		region_unmap(d, &d->regions[i]);
	d->nregions = 0;
	gmem_init(d->mem);
}

/*
 * The unit a mapping of this file is made of: st_blksize, which is the
 * huge page size for hugetlbfs and hugetlb memfds (the kernel maps, and
 * can only unmap or replace, whole huge pages there), else the page size.
 * Values that are no power of two or beyond the largest huge page (16 GiB
 * on ppc64) come from file systems whose mappings split anywhere: pages.
 */
static size_t map_block(const struct stat *st)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), b = (size_t)st->st_blksize;

	if (st->st_blksize <= 0 || b < page || (b & (b - 1)) || b > (16ull << 30))
		return page;
	return b;
}

/*
 * Map one region after checking it: non-empty, no overflow, no overlap
 * with the regions we have (guest or user addresses), and an fd at least
 * as large as offset + size, so no access through the mapping can fault
 * unless the front end shrinks the file later; vu_memguard turns that
 * fault into a broken session, and a region it cannot watch is refused.
 * The mapping runs from offset 0 to offset + size rounded up to the
 * file's block (map_block()), which is what munmap() and the guard take
 * back, and is left out of core dumps (MADV_DONTDUMP).
 */
static int region_map(struct vu_dev *d, const struct vhost_user_mem_region *in, int fd, struct vu_region *out)
{
	struct stat st;
	uint64_t end, len;
	size_t block;
	void *base;
	int guard;

	/*
	 * QEMU and DPDK send page-aligned regions; anything else would put rings
	 * at host addresses whose alignment differs from the guest's.
	 */
	if ((in->gpa | in->uaddr | in->mmap_offset) & 4095)
		return vu_dev_fail(d, "memory region not page aligned");
	if (in->size == 0 || __builtin_add_overflow(in->gpa, in->size, &end) ||
	    __builtin_add_overflow(in->uaddr, in->size, &end) ||
	    __builtin_add_overflow(in->mmap_offset, in->size, &end) || end > SIZE_MAX)
		return vu_dev_fail(d, "memory region with bad size or offset");
	for (unsigned i = 0; i < d->nregions; i++) {
		const struct vu_region *r = &d->regions[i];

		if (in->gpa < r->gpa + r->size && r->gpa < in->gpa + in->size)
			return vu_dev_fail(d, "memory regions overlap in guest physical space");
		if (in->uaddr < r->uaddr + r->size && r->uaddr < in->uaddr + in->size)
			return vu_dev_fail(d, "memory regions overlap in user address space");
	}
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < in->mmap_offset + in->size)
		return vu_dev_fail(d, "memory region larger than its file");
	block = map_block(&st);
	len = (in->mmap_offset + in->size + block - 1) & ~(uint64_t)(block - 1);
	if (len < in->mmap_offset + in->size || len > SIZE_MAX)
		return vu_dev_fail(d, "memory region with bad size or offset");
	base = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return vu_dev_fail(d, "cannot map memory region: %s", strerror(errno));
	/* Guest memory is the guests' data: not ours to put in a core file. */
	if (madvise(base, (size_t)len, MADV_DONTDUMP) < 0) {
		vu_dev_fail(d, "cannot keep memory region out of core dumps: %s", strerror(errno));
		goto out_unmap;
	}
	guard = vu_memguard_watch(base, (size_t)len);
	if (guard < 0) {
		vu_dev_fail(d, "cannot guard memory region against truncation: %s",
			    guard == -ENOSPC ? "all guard slots in use" : strerror(-guard));
		goto out_unmap;
	}
	*out = (struct vu_region){
		.gpa = in->gpa, .size = in->size, .uaddr = in->uaddr,
		.mmap_base = base, .mmap_len = (size_t)len,
		.hva = (uint8_t *)base + in->mmap_offset,
		.guard = guard,
		.adds = 1,
	};
	return 0;

out_unmap:
	if (munmap(base, (size_t)len) < 0)
		log_warn("vhost-user %s: cannot unmap refused memory region: %s", d->name, strerror(errno));
	return -EPROTO;
}

bool vu_dev_log_faulted(const struct vu_dev *d)
{
	return d->log_guard >= 0 && vu_memguard_faulted(d->log_guard);
}

bool vu_dev_mem_faulted(const struct vu_dev *d)
{
	for (unsigned i = 0; i < d->nregions; i++)
		if (vu_memguard_faulted(d->regions[i].guard))
			return true;
	return false;
}

void vu_dev_attach(struct vu_dev *d, int fd)
{
	d->fd = fd;
	d->error[0] = '\0';
	d->told_blocking_call = false;
	d->messages = 0;
	d->have = 0;
	d->nfds = 0;
}

/* Drop the dirty log mapping (queues must not be using it: after dp_stop()). */
static void log_unmap(struct vu_dev *d)
{
	if (d->log_guard >= 0)
		vu_memguard_unwatch(d->log_guard);
	if (d->log_map && munmap(d->log_map, d->log_map_len) < 0)
		log_warn("vhost-user %s: cannot unmap the dirty log: %s", d->name, strerror(errno));
	d->log_guard = -1;
	d->log_map = NULL;
	d->log_map_len = 0;
	d->log.bits = NULL;
	d->log.size_bytes = 0;
	d->log.missed = 0;
}

/* Bytes of log the current memory map needs: one bit per page up to the highest region end. */
static uint64_t log_bytes_needed(const struct vu_dev *d)
{
	uint64_t end = 0;

	for (unsigned i = 0; i < d->nregions; i++)
		if (d->regions[i].gpa + d->regions[i].size > end)
			end = d->regions[i].gpa + d->regions[i].size;
	return (((end + (1ull << VQ_LOG_PAGE_SHIFT) - 1) >> VQ_LOG_PAGE_SHIFT) + 7) / 8;
}

/* Back to the state of a fresh connection (keeps the socket). */
static void dev_reset_state(struct vu_dev *d)
{
	dp_stop(d);
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++) {
		struct vu_vring *vr = &d->vrings[i];
		int fds[3] = { vr->kick_fd, vr->call_fd, vr->err_fd };

		vu_close_fds(fds, 3);
		vring_reset(vr);
	}
	regions_unmap_all(d);
	log_unmap(d);
	d->features = 0;
	d->protocol = 0;
	d->features_set = false;
	d->mtu = 0;
	d->status = 0;
	if (d->ops)
		d->ops->rings_changed(d->ops_arg);
}

void vu_dev_detach(struct vu_dev *d)
{
	dev_reset_state(d);
	vu_close_fds(d->fds, d->nfds);
	d->nfds = 0;
	d->have = 0;
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

/* ---- handlers, in request order; the table in vu_msg.c checked sizes, fds and indexes ---- */

int vu_get_features(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	return vu_msg_reply(d, m, &d->features_offered, sizeof(uint64_t));
}

int vu_set_features(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	uint64_t f = m->payload.u64;
	int rc;

	if (f & ~d->features_offered)
		return vu_dev_fail(d, "SET_FEATURES 0x%llx asks for features not offered (0x%llx)",
				   (unsigned long long)f, (unsigned long long)d->features_offered);
	/*
	 * QEMU maps the log (SET_LOG_BASE) before it asks for LOG_ALL
	 * (vhost_dev_set_log); a log that misses part of guest memory would
	 * let pages we write go uncopied: refuse rather than corrupt the guest.
	 */
	if ((f & (1ull << VHOST_F_LOG_ALL)) && !d->log.bits)
		return vu_dev_fail(d, "SET_FEATURES: VHOST_F_LOG_ALL without a log (SET_LOG_BASE)");
	if ((f & (1ull << VHOST_F_LOG_ALL)) && d->log.size_bytes < log_bytes_needed(d))
		return vu_dev_fail(d, "SET_FEATURES: VHOST_F_LOG_ALL with a log of %llu bytes, guest memory needs %llu",
				   (unsigned long long)d->log.size_bytes, (unsigned long long)log_bytes_needed(d));
	dp_stop(d);
	if ((f ^ d->features) & (1ull << VHOST_F_LOG_ALL))
		log_info("port %s: dirty page logging %s (live migration)", d->name,
			 f & (1ull << VHOST_F_LOG_ALL) ? "on" : "off");
	d->features = f;
	d->features_set = true;
	/*
	 * vhost-user.rst: without PROTOCOL_FEATURES "the ring starts directly
	 * in the enabled state".
	 */
	if (!(f & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)))
		for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
			d->vrings[i].enabled = true;
	rc = rings_remap(d, true);
	dp_start(d);
	return rc;
}

int vu_set_owner(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	return 0;
}

/* Deprecated; vhost-user.rst recommends ignoring it or disabling all rings: we disable. */
int vu_reset_owner(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	dp_stop(d);
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		d->vrings[i].enabled = false;
	dp_start(d);
	return 0;
}

int vu_reset_device(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	dev_reset_state(d);
	return 0;
}

int vu_set_mem_table(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	const struct vhost_user_memory *mt = &m->payload.memory;
	struct vu_region fresh[VHOST_USER_MEM_TABLE_MAX];
	unsigned n = mt->nregions;
	int rc = 0;

	if (n == 0 || n > VHOST_USER_MEM_TABLE_MAX || n != nfds ||
	    m->hdr.size < 2 * sizeof(uint32_t) + n * sizeof(struct vhost_user_mem_region))
		return vu_dev_fail(d, "SET_MEM_TABLE: %u regions with %u fds in %u bytes", n, nfds, m->hdr.size);
	dp_stop(d);
	regions_unmap_all(d);
	for (unsigned i = 0; i < n && rc == 0; i++) {
		rc = region_map(d, &mt->regions[i], fds[i], &fresh[i]);
		if (rc == 0)
			d->regions[d->nregions++] = fresh[i];
	}
	if (rc < 0)
		regions_unmap_all(d);
	regions_rebuild_gmem(d);
	if (rc == 0)
		rc = rings_remap(d, true);
	dp_start(d);
	return rc;
}

int vu_get_max_mem_slots(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	uint64_t slots = VU_MAX_MEM_SLOTS;

	return vu_msg_reply(d, m, &slots, sizeof(slots));
}

/*
 * The mapped region ADD_MEM_REG or REM_MEM_REG @in names: same guest and user
 * address, size and (@with_offset) offset in its file; NULL if none.
 */
static struct vu_region *region_find(struct vu_dev *d, const struct vhost_user_mem_region *in, bool with_offset)
{
	for (unsigned i = 0; i < d->nregions; i++) {
		struct vu_region *r = &d->regions[i];

		if (r->gpa == in->gpa && r->uaddr == in->uaddr && r->size == in->size &&
		    (!with_offset || (uint64_t)(r->hva - (uint8_t *)r->mmap_base) == in->mmap_offset))
			return r;
	}
	return NULL;
}

/*
 * QEMU 7.2 (Debian 12) sends ADD_MEM_REG and REM_MEM_REG once per queue
 * pair: each of its per-pair vhost devices keeps its own copy of the table
 * (later QEMU sends them once per device).  A region added again exactly as
 * it is mapped only counts one more add, and is unmapped when the last
 * REM_MEM_REG for it comes; any other overlap still ends the session.
 */
int vu_add_mem_reg(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	struct vu_region r, *same = region_find(d, &m->payload.mem_single.region, true);
	int rc;

	if (same) {
		same->adds++;
		return 0;
	}
	if (d->nregions == VU_MAX_MEM_SLOTS)
		return vu_dev_fail(d, "ADD_MEM_REG beyond %d slots", VU_MAX_MEM_SLOTS);
	rc = region_map(d, &m->payload.mem_single.region, fds[0], &r);
	if (rc < 0)
		return rc;
	dp_stop(d);
	d->regions[d->nregions++] = r;
	regions_rebuild_gmem(d);
	rc = rings_remap(d, false);
	dp_start(d);
	return rc;
}

int vu_rem_mem_reg(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	/* "identified by its guest address, user address and size. The mmap offset is ignored." */
	struct vu_region *r = region_find(d, &m->payload.mem_single.region, false);
	int rc;

	if (!r)
		return vu_dev_fail(d, "REM_MEM_REG of a region that is not mapped");
	if (--r->adds > 0)
		return 0; /* added once per queue pair by QEMU 7.2 (vu_add_mem_reg) */
	dp_stop(d);
	region_unmap(d, r);
	*r = d->regions[--d->nregions];
	regions_rebuild_gmem(d);
	rc = rings_remap(d, false);
	dp_start(d);
	return rc;
}

int vu_set_vring_num(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	struct vu_vring *vr = &d->vrings[m->payload.state.index];
	uint32_t num = m->payload.state.num;

	if (num == 0 || num > VIRTQ_MAX_SIZE)
		return vu_dev_fail(d, "SET_VRING_NUM: size %u", num);
	if (vr->started)
		return vu_dev_fail(d, "SET_VRING_NUM on a started vring");
	vr->num = num;
	return 0;
}

int vu_set_vring_addr(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	unsigned idx = m->payload.addr.index;
	struct vu_vring *vr = &d->vrings[idx];
	int rc = 0;

	dp_stop(d);
	if (vr->mapped)
		vr->base = vq_get_base(&vr->vq);
	vr->addr = m->payload.addr;
	vr->addr_set = true;
	if (vr->started) {
		rc = vring_setup_vq(d, idx, vr->base);
		if (rc < 0)
			rc = vring_setup_fail(d, idx, rc);
	}
	dp_start(d);
	return rc;
}

int vu_set_vring_base(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	struct vu_vring *vr = &d->vrings[m->payload.state.index];

	if (vr->started)
		return vu_dev_fail(d, "SET_VRING_BASE on a started vring");
	vr->base = m->payload.state.num;
	return 0;
}

/* Stops the ring (vhost-user.rst: "stop ring upon receiving VHOST_USER_GET_VRING_BASE"). */
int vu_get_vring_base(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	unsigned idx = m->payload.state.index;
	struct vu_vring *vr = &d->vrings[idx];
	struct vhost_user_vring_state st = { .index = idx, .num = vr->base };

	dp_stop(d);
	if (vr->started && vr->mapped)
		vr->base = vq_get_base(&vr->vq);
	st.num = vr->base;
	vr->started = false;
	vr->mapped = false;
	if (vr->kick_fd >= 0)
		close(vr->kick_fd);
	vr->kick_fd = -1;
	dp_start(d);
	return vu_msg_reply(d, m, &st, sizeof(st));
}

/*
 * Check a vring fd before taking it: an eventfd, nothing else.  A worker
 * write()s the call fd to notify the driver and epoll watches the kick
 * fd; a pipe the front end never reads (or a socket, a FIFO, a tty) would
 * block that worker, and with it every grace period.
 *
 * A call eventfd must also not block when its counter is full
 * (0xfffffffffffffffe): it is made non-blocking here.  O_NONBLOCK lives in
 * the file description, which we share with the front end, so the front
 * end sees the flag too.  That is the lesser evil: QEMU, DPDK and
 * rust-vmm front ends create their eventfds non-blocking anyway (no
 * change for them), a front end reads its call fd when poll() says so,
 * and the kernel's own vhost never blocks on it either (eventfd_signal()).
 * Nothing else gives a write that cannot block: RWF_NOWAIT is refused on
 * eventfds, a dup shares the description, and a reopen through /proc is
 * not the same eventfd.  A front end can clear the flag again; the data
 * path watchdog (dp.h) covers that.  Kick and err fds are never written,
 * so they are left as they are.
 */
static int vring_fd_check(struct vu_dev *d, const char *req, unsigned idx, int fd)
{
	char path[40], target[64];
	ssize_t n;
	int fl;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return vu_dev_fail(d, "%s: vring %u: cannot tell what its fd is (%s): %s", req, idx, path,
				   strerror(errno));
	target[n] = '\0';
	if (strcmp(target, "anon_inode:[eventfd]") != 0)
		return vu_dev_fail(d, "%s: vring %u: fd is not an eventfd (%s)", req, idx, target);
	if (strcmp(req, "SET_VRING_CALL") != 0)
		return 0;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0))
		return vu_dev_fail(d, "%s: vring %u: cannot make the eventfd non-blocking: %s", req, idx, strerror(errno));
	if (!(fl & O_NONBLOCK) && !d->told_blocking_call) {
		log_info("port %s: vring %u: the call eventfd was blocking: made non-blocking (shared with the front end)",
			 d->name, idx);
		d->told_blocking_call = true; /* once a session */
	}
	return 0;
}

/* SET_VRING_KICK, _CALL and _ERR: an eventfd, or none (bit 8: polling). */
int vu_set_vring_fd(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	unsigned idx = (unsigned)(m->payload.u64 & VHOST_USER_VRING_IDX_MASK);
	struct vu_vring *vr = &d->vrings[idx];
	int fd = nfds ? fds[0] : -1, *slot;
	int rc = 0;

	/* Refused: the fd stays in @fds, and the caller closes it. */
	if (fd >= 0 && (rc = vring_fd_check(d, vu_msg_rule(m->hdr.request)->name, idx, fd)) < 0)
		return rc;
	if (nfds)
		fds[0] = -1; /* taken */
	dp_stop(d);
	switch (m->hdr.request) {
	case VHOST_USER_SET_VRING_KICK:
		slot = &vr->kick_fd;
		break;
	case VHOST_USER_SET_VRING_CALL:
		slot = &vr->call_fd;
		break;
	default:
		slot = &vr->err_fd;
		break;
	}
	/* The workers' epoll watches its own dup of a kick fd (dp.c): closing ours first is fine. */
	if (*slot >= 0)
		close(*slot);
	*slot = fd;
	/* The ring starts with its kick fd (vhost-user.rst "Ring states"). */
	if (m->hdr.request == VHOST_USER_SET_VRING_KICK && !vr->started) {
		if (d->nregions == 0) {
			rc = vu_dev_fail(d, "vring %u started before the memory table", idx);
		} else {
			rc = vring_setup_vq(d, idx, vr->base);
			if (rc < 0)
				rc = vring_setup_fail(d, idx, rc);
			vr->started = rc == 0;
		}
	}
	dp_start(d);
	return rc;
}

int vu_get_protocol_features(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	return vu_msg_reply(d, m, &d->protocol_offered, sizeof(uint64_t));
}

int vu_set_protocol_features(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	if (m->payload.u64 & ~d->protocol_offered)
		return vu_dev_fail(d, "SET_PROTOCOL_FEATURES asks for features not offered");
	d->protocol = m->payload.u64;
	return 0;
}

int vu_get_queue_num(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	uint64_t n = d->max_queue_pairs;

	return vu_msg_reply(d, m, &n, sizeof(n));
}

int vu_set_vring_enable(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	struct vu_vring *vr = &d->vrings[m->payload.state.index];

	if (m->payload.state.num > 1)
		return vu_dev_fail(d, "SET_VRING_ENABLE with %u", m->payload.state.num);
	dp_stop(d);
	vr->enabled = m->payload.state.num;
	dp_start(d);
	return 0;
}

int vu_net_set_mtu(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	/* 68: the IPv4 minimum; 65535: what the virtio-net config field can hold. */
	if (m->payload.u64 < 68 || m->payload.u64 > 65535)
		return vu_dev_fail(d, "NET_SET_MTU %llu out of range", (unsigned long long)m->payload.u64);
	d->mtu = (uint32_t)m->payload.u64;
	return 0;
}

int vu_set_status(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	d->status = m->payload.u64 & 0xff;
	return 0;
}

int vu_get_status(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	return vu_msg_reply(d, m, &d->status, sizeof(uint64_t));
}

/*
 * SET_LOG_BASE with LOG_SHMFD: map the dirty log.  vhost-user.rst: "the
 * log memory fd is provided in the ancillary data ... the size and offset
 * of shared memory area provided in the message"; "the back-end must
 * respond with zero when ready for the log to be used".  Checked like a
 * memory region: size, overflow, the file's size, the mapping, the guard
 * against truncation.  A new log replaces the old one with the rings
 * quiesced (QEMU resizes the log when memory grows).
 */
int vu_set_log_base(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	const struct vhost_user_log *in = &m->payload.log;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t end, len, zero = 0;
	struct stat st;
	void *base;
	int guard;

	if (in->mmap_size == 0 || __builtin_add_overflow(in->mmap_size, in->mmap_offset, &end) ||
	    end > SIZE_MAX - page)
		return vu_dev_fail(d, "SET_LOG_BASE: bad size %llu or offset %llu", (unsigned long long)in->mmap_size,
				   (unsigned long long)in->mmap_offset);
	if (vu_has_feature(d, VHOST_F_LOG_ALL) && in->mmap_size < log_bytes_needed(d))
		return vu_dev_fail(d, "SET_LOG_BASE: log of %llu bytes while logging, guest memory needs %llu",
				   (unsigned long long)in->mmap_size, (unsigned long long)log_bytes_needed(d));
	if (fstat(fds[0], &st) < 0 || (uint64_t)st.st_size < end)
		return vu_dev_fail(d, "SET_LOG_BASE: log larger than its file");
	len = (end + page - 1) & ~(uint64_t)(page - 1);
	base = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	if (base == MAP_FAILED)
		return vu_dev_fail(d, "SET_LOG_BASE: cannot map the log: %s", strerror(errno));
	guard = vu_memguard_watch(base, (size_t)len);
	if (guard < 0) {
		if (munmap(base, (size_t)len) < 0)
			log_warn("vhost-user %s: cannot unmap refused log: %s", d->name, strerror(errno));
		return vu_dev_fail(d, "SET_LOG_BASE: cannot guard the log against truncation: %s",
				   guard == -ENOSPC ? "all guard slots in use" : strerror(-guard));
	}
	dp_stop(d);
	log_unmap(d);
	d->log_map = base;
	d->log_map_len = (size_t)len;
	d->log_guard = guard;
	d->log.bits = (uint8_t *)base + in->mmap_offset;
	d->log.size_bytes = in->mmap_size;
	/* Queues that log point at d->log, not at its bits: they see the new log when they go live again. */
	dp_start(d);
	return vu_msg_reply(d, m, &zero, sizeof(zero));
}

/* SEND_RARP: the MAC is in the first 6 bytes of the u64 (QEMU's vhost_user_migration_done). */
int vu_send_rarp(struct vu_dev *d, struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	uint8_t mac[6];

	memcpy(mac, &m->payload.u64, sizeof(mac));
	if (d->ops && d->ops->send_rarp)
		d->ops->send_rarp(d->ops_arg, mac);
	return 0;
}
