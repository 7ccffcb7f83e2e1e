/* raw_ring.c - hand-laid split and packed rings in test guest memory, bypassing the driver library. */
#include "raw_ring.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t rr_page(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (size_t)p : 4096;
}

int rr_mem_init(struct rr_mem *m, bool huge)
{
	size_t page = rr_page();
	int rc;

	memset(m, 0, sizeof(*m));
	gmem_init(&m->gmem);
	m->map_len = RR_R0_SIZE + page + RR_R1_SIZE + page;
	m->map = mmap(NULL, m->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->map == MAP_FAILED) {
		m->map = NULL;
		return -errno;
	}
	m->r0 = m->map;
	m->r1 = m->map + RR_R0_SIZE + page;
	/* Guards make a buffer that wrongly assumed R0 and R1 contiguous fault. */
	if (mprotect(m->r0 + RR_R0_SIZE, page, PROT_NONE) ||
	    mprotect(m->r1 + RR_R1_SIZE, page, PROT_NONE)) {
		rc = -errno;
		goto out_unmap;
	}
	rc = gmem_add(&m->gmem, RR_R0_GPA, RR_R0_SIZE, m->r0);
	if (!rc)
		rc = gmem_add(&m->gmem, RR_R1_GPA, RR_R1_SIZE, m->r1);
	if (rc)
		goto out_unmap;
	if (huge) {
		/*
		 * NORESERVE: no commit charge; pages appear only when touched.
		 * Readable, because a hostile chain may legitimately place an
		 * indirect table here (reads map the shared zero page).
		 */
		void *p = mmap(NULL, RR_HUGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p == MAP_FAILED) {
			rc = -errno;
			fprintf(stderr, "raw_ring: cannot reserve the %llu-byte sparse region: %s\n",
				(unsigned long long)RR_HUGE_SIZE, strerror(errno));
			goto out_unmap;
		}
		m->huge = p;
		rc = gmem_add(&m->gmem, RR_HUGE_GPA, RR_HUGE_SIZE, m->huge);
		if (rc)
			goto out_unmap;
	}
	return 0;

out_unmap:
	rr_mem_fini(m);
	return rc;
}

void rr_mem_fini(struct rr_mem *m)
{
	if (m->huge)
		munmap(m->huge, RR_HUGE_SIZE);
	if (m->map)
		munmap(m->map, m->map_len);
	m->huge = NULL;
	m->map = NULL;
	gmem_init(&m->gmem);
}

void rr_mem_clear(struct rr_mem *m)
{
	memset(m->r0, 0, RR_R0_SIZE);
	memset(m->r1, 0, RR_R1_SIZE);
}

void *rr_hva_any(const struct rr_mem *m, uint64_t gpa)
{
	if (gpa >= RR_R0_GPA && gpa < RR_R0_GPA + RR_R0_SIZE)
		return m->r0 + (gpa - RR_R0_GPA);
	if (gpa >= RR_R1_GPA && gpa < RR_R1_GPA + RR_R1_SIZE)
		return m->r1 + (gpa - RR_R1_GPA);
	if (m->huge && gpa >= RR_HUGE_GPA && gpa - RR_HUGE_GPA < RR_HUGE_SIZE)
		return m->huge + (gpa - RR_HUGE_GPA);
	return NULL;
}

void *rr_hva(const struct rr_mem *m, uint64_t gpa)
{
	if (gpa >= RR_R0_GPA && gpa < RR_R0_GPA + RR_R0_SIZE)
		return m->r0 + (gpa - RR_R0_GPA);
	if (gpa >= RR_R1_GPA && gpa < RR_R1_GPA + RR_R1_SIZE)
		return m->r1 + (gpa - RR_R1_GPA);
	fprintf(stderr, "raw_ring: test wrote to unmapped gpa 0x%llx\n",
		(unsigned long long)gpa);
	abort();
}

/* Does [@base, @base + @len) lie inside [@start, @start + @size)? */
static bool rr_within(const void *base, size_t len, const uint8_t *start, uint64_t size)
{
	uintptr_t b = (uintptr_t)base, s = (uintptr_t)start;

	return start && b >= s && b - s <= size && len <= size - (b - s);
}

bool rr_inside(const struct rr_mem *m, const void *base, size_t len)
{
	return rr_within(base, len, m->r0, RR_R0_SIZE) ||
	       rr_within(base, len, m->r1, RR_R1_SIZE) ||
	       rr_within(base, len, m->huge, RR_HUGE_SIZE);
}

void rr_ring_init(struct rr_ring *r, struct rr_mem *m, unsigned num, bool packed)
{
	if (num == 0 || num > RR_MAX_NUM) {
		fprintf(stderr, "raw_ring: queue size %u not supported\n", num);
		abort();
	}
	memset(r, 0, sizeof(*r));
	r->mem = m;
	r->num = num;
	r->packed = packed;
	r->desc_gpa = RR_DESC_GPA;
	r->driver_gpa = RR_DRIVER_GPA;
	r->device_gpa = RR_DEVICE_GPA;
	memset(rr_hva(m, RR_DESC_GPA), 0, 16ull * RR_MAX_NUM);
	memset(rr_hva(m, RR_DRIVER_GPA), 0, 0x1000);
	memset(rr_hva(m, RR_DEVICE_GPA), 0, 0x1000);
	if (packed) {
		r->pdesc = rr_hva(m, r->desc_gpa);
		r->driver_event = rr_hva(m, r->driver_gpa);
		r->device_event = rr_hva(m, r->device_gpa);
	} else {
		r->desc = rr_hva(m, r->desc_gpa);
		r->avail = rr_hva(m, r->driver_gpa);
		r->used = rr_hva(m, r->device_gpa);
	}
}

struct vq_config rr_ring_config(const struct rr_ring *r, bool indirect)
{
	return (struct vq_config){
		.num = r->num,
		.packed = r->packed,
		.indirect = indirect,
		.desc_gpa = r->desc_gpa,
		.driver_gpa = r->driver_gpa,
		.device_gpa = r->device_gpa,
		.mem = &r->mem->gmem,
	};
}

void rr_split_desc(struct rr_ring *r, unsigned i, uint64_t addr, uint32_t len,
		   uint16_t flags, uint16_t next)
{
	struct virtq_desc *d = &r->desc[i];

	__atomic_store_n(&d->addr, addr, __ATOMIC_RELAXED);
	__atomic_store_n(&d->len, len, __ATOMIC_RELAXED);
	__atomic_store_n(&d->flags, flags, __ATOMIC_RELAXED);
	__atomic_store_n(&d->next, next, __ATOMIC_RELAXED);
}

void rr_split_set_slot(struct rr_ring *r, unsigned slot, uint16_t head)
{
	__atomic_store_n(&r->avail->ring[slot], head, __ATOMIC_RELAXED);
}

void rr_split_set_idx(struct rr_ring *r, uint16_t idx)
{
	/* Release: the descriptors and slots written before are visible first. */
	__atomic_store_n(&r->avail->idx, idx, __ATOMIC_RELEASE);
	r->avail_idx = idx;
}

void rr_split_avail(struct rr_ring *r, uint16_t head)
{
	rr_split_set_slot(r, r->avail_idx % r->num, head);
	rr_split_set_idx(r, (uint16_t)(r->avail_idx + 1));
}

void rr_packed_desc_raw(struct rr_ring *r, unsigned pos, uint64_t addr, uint32_t len,
			uint16_t id, uint16_t flags)
{
	struct pvirtq_desc *d = &r->pdesc[pos];

	__atomic_store_n(&d->addr, addr, __ATOMIC_RELAXED);
	__atomic_store_n(&d->len, len, __ATOMIC_RELAXED);
	__atomic_store_n(&d->id, id, __ATOMIC_RELAXED);
	/* Release: addr, len and id are visible before the flags that make it available. */
	__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
}

void rr_packed_desc(struct rr_ring *r, unsigned pos, uint64_t addr, uint32_t len,
		    uint16_t id, uint16_t flags, bool wrap)
{
	flags &= (uint16_t)~(VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);
	flags |= wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
	rr_packed_desc_raw(r, pos, addr, len, id, flags);
}

void rr_write(struct rr_mem *m, uint64_t gpa, const void *src, size_t len)
{
	const uint8_t *from = src;

	while (len > 0) {
		uint64_t end = gpa < RR_R1_GPA ? RR_R1_GPA : RR_HOLE_GPA;
		size_t n = end - gpa < len ? (size_t)(end - gpa) : len;

		memcpy(rr_hva(m, gpa), from, n);	/* rr_hva aborts outside R0/R1 */
		gpa += n;
		from += n;
		len -= n;
	}
}

void rr_split_table(struct rr_mem *m, uint64_t table_gpa, unsigned i, uint64_t addr,
		    uint32_t len, uint16_t flags, uint16_t next)
{
	const struct virtq_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };

	rr_write(m, table_gpa + 16ull * i, &d, sizeof(d));
}

void rr_packed_table(struct rr_mem *m, uint64_t table_gpa, unsigned i, uint64_t addr,
		     uint32_t len, uint16_t flags)
{
	const struct pvirtq_desc d = { .addr = addr, .len = len, .id = 0, .flags = flags };

	rr_write(m, table_gpa + 16ull * i, &d, sizeof(d));
}

const char *rr_elem_problem(const struct rr_mem *m, const struct vq_elem *e, const struct iovec *iov, unsigned cap)
{
	uint64_t out = 0, in = 0;
	unsigned i, n = (unsigned)e->out_num + e->in_num;

	if (n == 0)
		return "element without iovecs";
	if (n > cap)
		return "more iovecs than iov_max";
	for (i = 0; i < n; i++) {
		if (iov[i].iov_len == 0)
			return "empty iovec";
		if (!rr_inside(m, iov[i].iov_base, iov[i].iov_len))
			return "iovec outside guest memory";
		if (i < e->out_num)
			out += iov[i].iov_len;
		else
			in += iov[i].iov_len;
	}
	if (out != e->out_len)
		return "out_len is not the sum of the readable iovecs";
	if (in != e->in_len)
		return "in_len is not the sum of the writable iovecs";
	return NULL;
}
