/* guest_mem.c - guest physical address translation; the only way vsw reaches guest memory. */
#include "vsw/guest_mem.h"

#include <errno.h>
#include <string.h>

void gmem_init(struct gmem *m)
{
	m->nregions = 0;
}

/* Index of the first region whose end is above @gpa (binary search). */
static unsigned gmem_lower_bound(const struct gmem *m, uint64_t gpa)
{
	unsigned lo = 0, hi = m->nregions;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct gmem_region *r = &m->regions[mid];

		/* r->gpa + r->size cannot wrap: gmem_add() refuses such regions. */
		if (r->gpa + r->size <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int gmem_add(struct gmem *m, uint64_t gpa, uint64_t size, void *hva)
{
	unsigned i;

	if (size == 0 || gpa + size < gpa || hva == NULL)
		return -EINVAL;
	if (m->nregions == GMEM_MAX_REGIONS)
		return -ENOSPC;
	i = gmem_lower_bound(m, gpa);
	if (i < m->nregions && m->regions[i].gpa < gpa + size)
		return -EEXIST;
	memmove(&m->regions[i + 1], &m->regions[i], (m->nregions - i) * sizeof(m->regions[0]));
	m->regions[i] = (struct gmem_region){ .gpa = gpa, .size = size, .hva = hva };
	m->nregions++;
	return 0;
}

int gmem_remove(struct gmem *m, uint64_t gpa, uint64_t size)
{
	unsigned i = gmem_lower_bound(m, gpa);

	if (i == m->nregions || m->regions[i].gpa != gpa || m->regions[i].size != size)
		return -ENOENT;
	memmove(&m->regions[i], &m->regions[i + 1], (m->nregions - i - 1) * sizeof(m->regions[0]));
	m->nregions--;
	return 0;
}

/* gmem_translate() trying region *@hint first (where the last lookup landed); updates *@hint. */
static void *translate_hinted(const struct gmem *m, unsigned *hint, uint64_t gpa, uint64_t len, uint64_t *avail)
{
	unsigned i = *hint;
	const struct gmem_region *r;
	uint64_t off;

	/* Unsigned wrap makes this one test of gpa >= r->gpa && gpa < r->gpa + r->size. */
	if (i >= m->nregions || gpa - m->regions[i].gpa >= m->regions[i].size) {
		i = gmem_lower_bound(m, gpa);
		if (i == m->nregions || m->regions[i].gpa > gpa)
			return NULL;
		*hint = i;
	}
	r = &m->regions[i];
	off = gpa - r->gpa;
	*avail = r->size - off < len ? r->size - off : len;
	return r->hva + off;
}

void *gmem_translate(const struct gmem *m, uint64_t gpa, uint64_t len, uint64_t *avail)
{
	unsigned hint = GMEM_MAX_REGIONS;

	return translate_hinted(m, &hint, gpa, len, avail);
}

void *gmem_translate_whole(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	uint64_t avail;
	void *p;

	if (gpa + len < gpa)
		return NULL;
	p = gmem_translate(m, gpa, len, &avail);
	return p && avail == len ? p : NULL;
}

int gmem_to_iov(const struct gmem *m, uint64_t gpa, uint64_t len,
		struct iovec *iov, unsigned iov_max, unsigned *niov)
{
	unsigned hint = GMEM_MAX_REGIONS;

	return gmem_to_iov_hinted(m, &hint, gpa, len, iov, iov_max, niov);
}

int gmem_to_iov_hinted(const struct gmem *m, unsigned *hint, uint64_t gpa, uint64_t len,
		       struct iovec *iov, unsigned iov_max, unsigned *niov)
{
	if (gpa + len < gpa)
		return -EFAULT;
	while (len > 0) {
		uint64_t avail;
		void *p = translate_hinted(m, hint, gpa, len, &avail);

		if (!p)
			return -EFAULT;
		if (*niov >= iov_max)
			return -E2BIG;
		iov[*niov].iov_base = p;
		iov[*niov].iov_len = avail;
		(*niov)++;
		gpa += avail;
		len -= avail;
	}
	return 0;
}

int gmem_read(const struct gmem *m, uint64_t gpa, void *dst, uint64_t len)
{
	uint8_t *out = dst;

	if (gpa + len < gpa)
		return -EFAULT;
	while (len > 0) {
		uint64_t avail;
		const void *p = gmem_translate(m, gpa, len, &avail);

		if (!p)
			return -EFAULT;
		memcpy(out, p, avail);
		out += avail;
		gpa += avail;
		len -= avail;
	}
	return 0;
}

bool gmem_is_mapped(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	if (gpa + len < gpa)
		return false;
	while (len > 0) {
		uint64_t avail;

		if (!gmem_translate(m, gpa, len, &avail))
			return false;
		gpa += avail;
		len -= avail;
	}
	return true;
}

bool gmem_gpa_of(const struct gmem *m, const void *hva, uint64_t *gpa)
{
	uintptr_t h = (uintptr_t)hva;

	for (unsigned i = 0; i < m->nregions; i++) {
		const struct gmem_region *r = &m->regions[i];

		if (h - (uintptr_t)r->hva < r->size) {
			*gpa = r->gpa + (h - (uintptr_t)r->hva);
			return true;
		}
	}
	return false;
}
