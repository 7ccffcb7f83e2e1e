/* virtq_hostile.h - the fixture the hostile-driver tests of the device side share: one guest memory, one ring. */
#ifndef VSW_TESTS_VIRTQ_HOSTILE_H
#define VSW_TESTS_VIRTQ_HOSTILE_H

/*
 * Included by test_virtq_hostile.c (chains a lying driver writes) and
 * test_virtq_race.c (a driver rewriting them while the device reads),
 * after <cmocka.h>.  Each test binary is one of them: the statics here are
 * its own.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vsw/virtq.h"

#include "../lib/raw_ring.h"

#define NUM 8u			/* queue size of most tests */
#define IOV_CAP 256u		/* never the reason a chain fails unless a test says so */

#define F_NEXT VIRTQ_DESC_F_NEXT
#define F_WRITE VIRTQ_DESC_F_WRITE
#define F_INDIRECT VIRTQ_DESC_F_INDIRECT
#define F_AVAIL VIRTQ_DESC_F_AVAIL
#define F_USED VIRTQ_DESC_F_USED
#define BUF(i) RR_BUF_GPA(i)
#define TBL(i) RR_TABLE_GPA(i)

struct fx {
	struct rr_mem mem;
	struct rr_ring r;
	struct vq q;
	struct vq_elem e;
	struct iovec iov[IOV_CAP];
};

static struct fx *fx;		/* one mapping for the whole group */
static bool verbose;

/* ---- fixture ---------------------------------------------------------- */

static int group_setup(void **state)
{
	const char *v = getenv("VSW_TEST_VERBOSE");

	verbose = v && *v && *v != '0';
	fx = calloc(1, sizeof(*fx));
	if (!fx || rr_mem_init(&fx->mem, true))
		return -1;
	if (!fx->mem.huge)
		print_message("note: 8 GiB reservation failed; huge-length tests skip\n");
	*state = fx;
	return 0;
}

static int group_teardown(void **state)
{
	rr_mem_fini(&fx->mem);
	free(fx);
	fx = NULL;
	return 0;
}

static int test_setup(void **state)
{
	rr_mem_clear(&fx->mem);
	memset(&fx->q, 0, sizeof(fx->q));
	memset(&fx->e, 0, sizeof(fx->e));
	memset(fx->iov, 0, sizeof(fx->iov));
	*state = fx;
	return 0;
}

static int pop_n(struct fx *f, unsigned iov_max)
{
	return vq_pop(&f->q, &f->e, f->iov, iov_max);
}

static int pop(struct fx *f)
{
	return pop_n(f, IOV_CAP);
}

#endif
