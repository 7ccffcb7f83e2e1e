/* vu_memguard.c - the SIGBUS handler that turns a truncated guest memory file into a broken port. */
#include "vhost_user/vu_memguard.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define GUARD_SLOTS 8192	/* two regions for each of PORT_MAX (4096) vhost-user ports */
/*
 * Each slot's range of the stand-in file: 128 TiB, all the user address
 * space of x86-64 with 4-level page tables, so any mapping fits; 8,192 of
 * them make a sparse file of 2^60 bytes (tmpfs allows 2^63).  Less under
 * a file size limit (RLIMIT_FSIZE): a larger ftruncate would raise SIGXFSZ.
 */
#define SLOT_SPAN_MAX (1ull << 47)

struct guard {
	_Atomic uintptr_t base;		/* 0: free; 1: being claimed */
	_Atomic size_t len;
	atomic_bool faulted;
};

static struct guard guards[GUARD_SLOTS];
/* watch and unwatch (control threads); the handler only reads the atomics and these two. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int standin_fd = -1;
static uint64_t slot_span;		/* bytes of the stand-in per slot */
static struct sigaction prev_action;	/* SIGBUS before ours: where faults outside guest memory go */

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t addr = (uintptr_t)si->si_addr;

	for (unsigned i = 0; i < GUARD_SLOTS; i++) {
		uintptr_t b = atomic_load_explicit(&guards[i].base, memory_order_acquire);
		size_t len = atomic_load_explicit(&guards[i].len, memory_order_relaxed);
		void *p = (void *)b;

		if (b <= 1 || addr - b >= len)
			continue;
		/*
		 * The slot's stand-in pages over the whole VMA: the access
		 * completes on zeroes.  Only the VMA itself is allocated here
		 * (the file, its size and the range were made at watch time).
		 */
		if (mmap(p, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, standin_fd, (off_t)(i * slot_span)) ==
		    MAP_FAILED)
			break;
		/* What workers write there from now on stays out of core dumps too (best effort). */
		(void)madvise(p, len, MADV_DONTDUMP);
		atomic_store(&guards[i].faulted, true);
		return;
	}
	/* Not guest memory (or no stand-in): a real bug.  Returning re-faults into the previous action. */
	sigaction(SIGBUS, &prev_action, NULL);
}

/* Make sure on_sigbus handles SIGBUS (a handler installed after ours, a test framework's, would hide guest faults). */
static int claim_sigbus(void)
{
	struct sigaction cur, sa;

	if (sigaction(SIGBUS, NULL, &cur) < 0)
		return -errno;
	if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_sigbus)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	prev_action = cur;
	return sigaction(SIGBUS, &sa, NULL) < 0 ? -errno : 0;
}

/* The sparse stand-in file, made once: every slot's range exists before any fault. */
static int standin_make(void)
{
	uint64_t span = SLOT_SPAN_MAX;
	struct rlimit lim;
	int fd;

	if (standin_fd >= 0)
		return 0;
	if (getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur / GUARD_SLOTS < span)
		span = (lim.rlim_cur / GUARD_SLOTS) & ~(uint64_t)(sysconf(_SC_PAGESIZE) - 1);
	if (span == 0)
		return -EFBIG;
	fd = memfd_create("vsw-memguard", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)(GUARD_SLOTS * span)) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	slot_span = span;
	standin_fd = fd;
	return 0;
}

int vu_memguard_init(void)
{
	int rc;

	pthread_mutex_lock(&lock);
	rc = standin_make();
	if (rc == 0)
		rc = claim_sigbus();
	pthread_mutex_unlock(&lock);
	return rc;
}

int vu_memguard_watch(void *base, size_t len)
{
	int rc, slot = -ENOSPC;

	pthread_mutex_lock(&lock);
	rc = standin_make();
	if (rc == 0)
		rc = len > slot_span ? -EFBIG : claim_sigbus();
	if (rc < 0)
		goto out_unlock;
	for (unsigned i = 0; i < GUARD_SLOTS; i++) {
		if (atomic_load(&guards[i].base) != 0)
			continue;
		/* Claimed (1), then the range, then the base that makes the handler look at it. */
		atomic_store(&guards[i].base, 1);
		atomic_store(&guards[i].faulted, false);
		atomic_store(&guards[i].len, len);
		atomic_store_explicit(&guards[i].base, (uintptr_t)base, memory_order_release);
		slot = (int)i;
		break;
	}
	rc = slot;
out_unlock:
	pthread_mutex_unlock(&lock);
	return rc;
}

void vu_memguard_unwatch(int slot)
{
	struct guard *g;

	if (slot < 0 || slot >= GUARD_SLOTS)
		return;
	g = &guards[slot];
	pthread_mutex_lock(&lock);
	if (atomic_load(&g->base) > 1) {
		atomic_store(&g->base, 1);
		/* Free what the workers wrote into the stand-in, so the slot's next user starts on zeroes. */
		if (atomic_load(&g->faulted))
			(void)fallocate(standin_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)(slot * slot_span), (off_t)atomic_load(&g->len));
		atomic_store(&g->len, 0);
		atomic_store(&g->base, 0);
	}
	pthread_mutex_unlock(&lock);
}

bool vu_memguard_faulted(int slot)
{
	return slot >= 0 && slot < GUARD_SLOTS && atomic_load(&guards[slot].faulted);
}
