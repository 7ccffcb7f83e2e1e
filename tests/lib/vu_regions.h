/* vu_regions.h - test-side check of a vhost-user device's memory table: does a range lie in one mapping? */
#ifndef VSW_TESTS_VU_REGIONS_H
#define VSW_TESTS_VU_REGIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost_user/vu_dev.h"

/*
 * [p, p + len) lies inside one mapped region of @d's current memory table.
 * Written here, not taken from the device, so that the tests and the fuzz
 * target check the device against an independent statement.
 */
static inline bool vu_regions_hold(const struct vu_dev *d, const void *p, uint64_t len)
{
	const uint8_t *b = p;

	for (unsigned i = 0; i < d->nregions; i++) {
		const struct vu_region *r = &d->regions[i];

		if (b && b >= r->hva && len <= r->size && (uint64_t)(b - r->hva) <= r->size - len)
			return true;
	}
	return false;
}

#endif
