/* vu_memguard.c - the SIGBUS handler that turns a truncated guest memory file into a broken port. */
#include "vhost_user/vu_memguard.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define GUARD_SLOTS 1024

struct guard {
	_Atomic uintptr_t base;		/* 0: free */
	_Atomic size_t len;
	atomic_bool faulted;
};

static struct guard guards[GUARD_SLOTS];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t addr = (uintptr_t)si->si_addr;

	for (unsigned i = 0; i < GUARD_SLOTS; i++) {
		uintptr_t b = atomic_load_explicit(&guards[i].base, memory_order_acquire);
		size_t len = atomic_load_explicit(&guards[i].len, memory_order_relaxed);

		if (b && addr - b < len) {
			/* Zero pages in place of the vanished ones: the access completes. */
			if (mmap((void *)b, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
			    MAP_FAILED) {
				atomic_store(&guards[i].faulted, true);
				return;
			}
			break;
		}
	}
	/* Not guest memory: a real bug.  Returning re-faults with the default action. */
	signal(SIGBUS, SIG_DFL);
}

static void install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

int vu_memguard_watch(void *base, size_t len)
{
	pthread_once(&once, install);
	for (unsigned i = 0; i < GUARD_SLOTS; i++) {
		uintptr_t zero = 0;

		/* Claim the slot with a placeholder, then publish the real range. */
		if (atomic_load(&guards[i].base) == 0 && atomic_compare_exchange_strong(&guards[i].base, &zero, 1)) {
			atomic_store(&guards[i].faulted, false);
			atomic_store(&guards[i].len, 0);
			atomic_store_explicit(&guards[i].base, (uintptr_t)base, memory_order_relaxed);
			atomic_store_explicit(&guards[i].len, len, memory_order_release);
			return (int)i;
		}
	}
	return -1;
}

void vu_memguard_unwatch(int slot)
{
	if (slot >= 0 && slot < GUARD_SLOTS) {
		atomic_store(&guards[slot].len, 0);
		atomic_store(&guards[slot].base, 0);
	}
}

bool vu_memguard_faulted(int slot)
{
	return slot >= 0 && slot < GUARD_SLOTS && atomic_load(&guards[slot].faulted);
}
