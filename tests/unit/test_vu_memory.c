/* test_vu_memory.c - unit tests of the vhost-user device's guest memory: hugetlb mappings, the SIGBUS guard, core dumps, vuser's sealed memfd. */

/*
 * The device maps each region of a front end's memory table (vu_dev.c
 * region_map) and watches the mapping with vu_memguard, so that a front end
 * truncating its file under live rings breaks its own session instead of
 * killing vswd with SIGBUS.  Each test drives one vu_dev over a socketpair,
 * as test_vhost_user.c does, on memory chosen to break the guard:
 *
 *   - a hugetlb memfd (2 MiB pages) with a region shorter than a page: the
 *     kernel maps a whole huge page, which must be unmapped and guarded
 *     whole (a hugetlb mapping cannot be split inside a page);
 *   - a sparse memfd of 1 TiB: guarding it must not need 1 TiB of memory;
 *   - every guard slot taken: the region is refused, never mapped unguarded.
 *
 * An access to truncated memory runs in a forked child, so that with a
 * broken guard the child, not the test run, dies of SIGBUS and the test
 * says so.  2 MiB hugepages are reserved here: nr_hugepages is raised by
 * the shortfall only, and lowered by as much when the tests end.
 */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../lib/proc_counts.h"
#include "../lib/vu_serve.h"
#include "vhost_user/vu_dev.h"
#include "vhost_user/vu_memguard.h"
#include "vsw/virtio_net.h"
#include "vsw/virtio_spec.h"
#include "vsw/vuser.h"

#define F_PROTO VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES)
#define FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | F_PROTO)
#define PROTOCOL (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK)
#define V VHOST_USER_VERSION
#define ACK (VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK)
#define REPLY (VHOST_USER_VERSION | VHOST_USER_REPLY_MASK)

/* Vring i at RING(i): descriptors, avail at +4 KiB, used at +8 KiB, 256 entries (split). */
#define GPA 0x100000ull
#define UADDR 0x7f1200000000ull
#define RING(i) (UADDR + (uint64_t)(i) * 0x4000)
#define RING_NUM 256
#define MEM_SIZE 0x10000ull
#define HUGE_PAGE (2ull << 20)
#define MEMFD_NAME "vsw-test-vumem"
#define HUGE_NAME "vsw-test-vuhuge"
#define HUGE_DIR "/sys/kernel/mm/hugepages/hugepages-2048kB/"
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21u << 26) /* linux/memfd.h: log2(2 MiB) << MFD_HUGE_SHIFT */
#endif

struct mx {
	struct vu_dev d;
	int peer;		/* the front end's end of the socket */
	int base_fds;		/* before the test */
};

/* How a child touching truncated memory ended (access_truncated_in_child). */
enum { CHILD_OK, CHILD_NOT_FAULTED, CHILD_MAPPING_LEFT, CHILD_UNHANDLED, CHILD_DUMPABLE };

/* The test run's process: a forked child that reaches a teardown got there through cmocka's signal handler. */
static pid_t test_pid;

/* ---- /proc and /sys readers ---- */

static int count_fds(void)
{
	int n = proc_count_fds();

	assert_true(n >= 0);
	return n;
}

/* Mappings of memfds named @name in this process. */
static int count_maps(const char *name)
{
	int n = proc_count_memfd_maps(name);

	assert_true(n >= 0);
	return n;
}

/* Does any mapping of this process overlap [base, base + len)?  (No cmocka: also called in children.) */
static bool mapped_in(const void *base, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	uintptr_t b = (uintptr_t)base, lo, hi;
	char line[512];
	bool any = false;

	if (!f)
		return true;
	while (!any && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo < b + len && b < hi)
			any = true;
	fclose(f);
	return any;
}

/* The VmFlags line of the smaps entry starting at @base, into @flags ("" if none). */
static void vm_flags(const void *base, char *flags, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool in = false;
	uintptr_t lo, hi;

	flags[0] = '\0';
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = lo == (uintptr_t)base;
		} else if (in && strncmp(line, "VmFlags:", 8) == 0) {
			line[strcspn(line, "\n")] = '\0';
			if (strlen(line + 8) < len)
				strcpy(flags, line + 8);
			break;
		}
	}
	fclose(f);
}

static bool has_flag(const char *flags, const char *flag)
{
	size_t n = strlen(flag);

	for (const char *p = flags; (p = strstr(p, flag)); p += n)
		if ((p == flags || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

/* A number from one of the 2 MiB pool's files in sysfs, or -1. */
static long huge_read(const char *file)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), HUGE_DIR "%s", file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static bool huge_write_nr(long n)
{
	FILE *f = fopen(HUGE_DIR "nr_hugepages", "w");
	bool ok;

	if (!f)
		return false;
	ok = fprintf(f, "%ld\n", n) > 0;
	return fclose(f) == 0 && ok;
}

/* 2 MiB pages free and not reserved: what a new hugetlb mapping can have. */
static long huge_available(void)
{
	return huge_read("free_hugepages") - huge_read("resv_hugepages");
}

/* This process's hugetlb pages (kB): pages mapped by any of its mappings. */
static long self_hugetlb_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugetlbPages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* ---- hugepages: raised by the shortfall, given back at the end ---- */

static long huge_raised;

/* At least @pages 2 MiB pages available, or fail saying why. */
static void hugepages_need(long pages)
{
	long have = huge_available(), nr = huge_read("nr_hugepages"), got;

	if (nr < 0 || have < 0)
		fail_msg("no 2 MiB hugepage pool (" HUGE_DIR "): the hugetlb tests cannot run");
	if (have >= pages)
		return;
	if (!huge_write_nr(nr + pages - have))
		fail_msg("cannot raise " HUGE_DIR "nr_hugepages from %ld to %ld: %s (the test runs as root)", nr,
			 nr + pages - have, strerror(errno));
	got = huge_read("nr_hugepages") - nr;
	if (got > 0)
		huge_raised += got;
	if (huge_available() < pages)
		fail_msg("%ld 2 MiB hugepages available after raising nr_hugepages by %ld, %ld needed", huge_available(),
			 got, pages);
}

static void hugepages_give_back(void)
{
	long nr = huge_read("nr_hugepages");

	if (huge_raised > 0 && nr >= huge_raised)
		huge_write_nr(nr - huge_raised);
	huge_raised = 0;
}

/* ---- the front end's side of the socket ---- */

static void send_msg(struct mx *f, uint32_t req, uint32_t flags, const void *payload, uint32_t size, const int *fds,
		     unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(VHOST_USER_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctrl;
	uint8_t wire[VHOST_USER_HDR_SIZE + 512];
	struct vhost_user_hdr h = { .request = req, .flags = flags, .size = size };
	struct iovec iov = { .iov_base = wire, .iov_len = sizeof(h) + size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	assert_true(size <= 512 && nfds <= VHOST_USER_MAX_FDS);
	memcpy(wire, &h, sizeof(h));
	if (size)
		memcpy(wire + sizeof(h), payload, size);
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctrl, 0, sizeof(ctrl));
		mh.msg_control = ctrl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	assert_int_equal(sendmsg(f->peer, &mh, MSG_NOSIGNAL), (ssize_t)iov.iov_len);
}

/* Let the device handle everything waiting; what vu_dev_on_readable() returned last. */
static int pump(struct mx *f)
{
	for (int i = 0; i < 100; i++) {
		int rc = vu_dev_on_readable(&f->d), n = 0;

		assert_int_equal(ioctl(f->d.fd, FIONREAD, &n), 0);
		if (rc != 0 || n == 0)
			return rc;
	}
	fail_msg("the device does not consume its socket");
	return 0;
}

static int xfer(struct mx *f, uint32_t req, uint32_t flags, const void *payload, uint32_t size, const int *fds,
		unsigned nfds)
{
	send_msg(f, req, flags, payload, size, fds, nfds);
	return pump(f);
}

static uint64_t reply_u64(struct mx *f, uint32_t req)
{
	struct vhost_user_hdr h;
	uint64_t v = ~0ull;

	assert_int_equal(recv(f->peer, &h, sizeof(h), MSG_DONTWAIT), (ssize_t)sizeof(h));
	assert_int_equal(h.request, req);
	assert_int_equal(h.flags, REPLY);
	assert_int_equal(h.size, sizeof(v));
	assert_int_equal(recv(f->peer, &v, sizeof(v), MSG_DONTWAIT), (ssize_t)sizeof(v));
	return v;
}

static void ok(struct mx *f, uint32_t req, const void *payload, uint32_t size, int fd)
{
	int rc = xfer(f, req, V, payload, size, &fd, fd >= 0);

	if (rc != 0)
		fail_msg("request %u refused: %s", req, f->d.error);
}

/* Features, protocol features (REPLY_ACK) and owner, as QEMU does before the memory table. */
static void negotiate(struct mx *f)
{
	uint64_t feat = FEATURES, proto = PROTOCOL;

	assert_int_equal(xfer(f, VHOST_USER_GET_FEATURES, V, NULL, 0, NULL, 0), 0);
	assert_int_equal(reply_u64(f, VHOST_USER_GET_FEATURES) & FEATURES, FEATURES);
	assert_int_equal(xfer(f, VHOST_USER_GET_PROTOCOL_FEATURES, V, NULL, 0, NULL, 0), 0);
	(void)reply_u64(f, VHOST_USER_GET_PROTOCOL_FEATURES);
	ok(f, VHOST_USER_SET_PROTOCOL_FEATURES, &proto, 8, -1);
	ok(f, VHOST_USER_SET_OWNER, NULL, 0, -1);
	ok(f, VHOST_USER_SET_FEATURES, &feat, 8, -1);
}

/* SET_MEM_TABLE with one region of @size bytes at offset 0 of @memfd, acked; 0 or what the device said. */
static int mem_table(struct mx *f, int memfd, uint64_t size)
{
	struct vhost_user_memory mt = { .nregions = 1, .regions[0] = { GPA, size, UADDR, 0 } };
	int rc = xfer(f, VHOST_USER_SET_MEM_TABLE, ACK, &mt, 8 + sizeof(mt.regions[0]), &memfd, 1);

	assert_int_equal(reply_u64(f, VHOST_USER_SET_MEM_TABLE), rc == 0 ? 0 : 1);
	return rc;
}

/* Vrings 0 and 1 at RING(i), started and enabled: live. */
static void rings_live(struct mx *f)
{
	for (unsigned i = 0; i < 2; i++) {
		struct vhost_user_vring_state num = { i, RING_NUM }, base = { i, 0 }, on = { i, 1 };
		struct vhost_user_vring_addr a = { .index = i, .desc_uaddr = RING(i), .avail_uaddr = RING(i) + 0x1000,
						   .used_uaddr = RING(i) + 0x2000 };
		uint64_t idx = i;
		int call = eventfd(0, EFD_CLOEXEC), kick = eventfd(0, EFD_CLOEXEC);

		assert_true(call >= 0 && kick >= 0);
		ok(f, VHOST_USER_SET_VRING_NUM, &num, sizeof(num), -1);
		ok(f, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), -1);
		ok(f, VHOST_USER_SET_VRING_BASE, &base, sizeof(base), -1);
		ok(f, VHOST_USER_SET_VRING_CALL, &idx, 8, call);
		ok(f, VHOST_USER_SET_VRING_KICK, &idx, 8, kick);
		ok(f, VHOST_USER_SET_VRING_ENABLE, &on, sizeof(on), -1);
		close(call);
		close(kick);
		assert_true(atomic_load(&f->d.vrings[i].live));
	}
}

static int new_memfd(uint64_t size)
{
	int fd = memfd_create(MEMFD_NAME, MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

/* A hugetlb memfd of one 2 MiB page (memfd_create needs no hugetlbfs mount). */
static int new_huge_memfd(void)
{
	int fd;

	hugepages_need(1);
	fd = memfd_create(HUGE_NAME, MFD_CLOEXEC | MFD_HUGETLB | MFD_HUGE_2MB);
	if (fd < 0)
		fail_msg("memfd_create(MFD_HUGETLB | MFD_HUGE_2MB): %s", strerror(errno));
	assert_int_equal(ftruncate(fd, (off_t)HUGE_PAGE), 0);
	return fd;
}

/* ---- fixture ---- */

static void mx_connect(struct mx *f)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	f->peer = sv[1];
	vu_dev_attach(&f->d, sv[0]);
}

static void mx_reconnect(struct mx *f)
{
	vu_dev_detach(&f->d);
	close(f->peer);
	mx_connect(f);
}

static int mx_setup(void **state)
{
	struct mx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->base_fds = count_fds();
	assert_int_equal(vu_dev_init(&f->d, "t", FEATURES, 1, NULL, NULL), 0);
	mx_connect(f);
	*state = f;
	return 0;
}

static int mx_teardown(void **state)
{
	struct mx *f = *state;
	int base_fds = f->base_fds;

	if (getpid() != test_pid)
		_exit(CHILD_UNHANDLED); /* a child of access_truncated_in_child(), after cmocka caught its signal */

	vu_dev_detach(&f->d);
	vu_dev_fini(&f->d);
	close(f->peer);
	free(f);
	assert_int_equal(count_fds(), base_fds);
	assert_int_equal(count_maps(MEMFD_NAME), 0);
	assert_int_equal(count_maps(HUGE_NAME), 0);
	return 0;
}

/* The guard's stand-in memfd is the process's for good: made before any test counts fds. */
static int group_setup(void **state)
{
	return vu_memguard_init();
}

static int group_teardown(void **state)
{
	hugepages_give_back();
	return 0;
}

/* ---- the SIGBUS guard ---- */


/*
 * In a child: touch vring 1 as a worker would (read the avail index, write
 * the used flags) after the front end truncated its memory, check the guard
 * recorded the fault, that what replaced the memory stays out of core
 * dumps, and that detaching leaves nothing mapped where the region was.
 * Fails with how the child ended.
 */
static void access_truncated_in_child(struct mx *f, const char *what)
{
	uint8_t *base = f->d.regions[0].mmap_base;
	size_t len = f->d.regions[0].mmap_len;
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct vq *q = &f->d.vrings[1].vq;
		char flags[256];

		(void)vq_has_avail(q);
		(void)vq_kick_enable(q);
		if (!vu_dev_mem_faulted(&f->d))
			_exit(CHILD_NOT_FAULTED);
		vm_flags(base, flags, sizeof(flags));
		if (!has_flag(flags, "dd"))
			_exit(CHILD_DUMPABLE);
		vu_dev_detach(&f->d);
		_exit(mapped_in(base, len) ? CHILD_MAPPING_LEFT : CHILD_OK);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_UNHANDLED)
		fail_msg("%s: touching the truncated memory raised a SIGBUS the guard did not handle", what);
	if (WIFSIGNALED(status))
		fail_msg("%s: touching the truncated memory killed the process with signal %d (%s)", what,
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	if (WEXITSTATUS(status) == CHILD_NOT_FAULTED)
		fail_msg("%s: the access completed but the guard recorded no fault", what);
	if (WEXITSTATUS(status) == CHILD_DUMPABLE)
		fail_msg("%s: what replaced the truncated memory would be in a core dump (no dd)", what);
	if (WEXITSTATUS(status) == CHILD_MAPPING_LEFT)
		fail_msg("%s: after detach something is still mapped at %p (+%zu)", what, (void *)base, len);
	assert_int_equal(WEXITSTATUS(status), CHILD_OK);
}

/* Live rings on @memfd (a region of @size bytes), the file truncated to 0, then a worker's access. */
static void truncate_under_live_rings(struct mx *f, int memfd, uint64_t size, const char *what)
{
	negotiate(f);
	if (mem_table(f, memfd, size) != 0)
		fail_msg("%s: memory table refused: %s", what, f->d.error);
	rings_live(f);
	assert_int_equal(ftruncate(memfd, 0), 0);
	access_truncated_in_child(f, what);
	close(memfd);
}

/* The control case: a 64 KiB memfd of 4 KiB pages truncated under live rings. */
static void test_truncated_memfd(void **state)
{
	truncate_under_live_rings(*state, new_memfd(MEM_SIZE), MEM_SIZE, "4 KiB-page memfd of 64 KiB");
}

/*
 * A hugetlb memfd whose region (64 KiB) is shorter than its 2 MiB page:
 * the mapping is a whole huge page, and a replacement over the region's
 * 64 KiB alone cannot split it.  (Before the fix: SIGBUS.)
 */
static void test_truncated_hugetlb_short_region(void **state)
{
	truncate_under_live_rings(*state, new_huge_memfd(), MEM_SIZE, "hugetlb memfd, 64 KiB region of a 2 MiB page");
}

/*
 * A sparse memfd of 1 TiB (ftruncate only: no memory used) truncated under
 * live rings: replacing the mapping must not need 1 TiB of commit, more
 * than RAM and swap.  (Before the fix: the private replacement failed, SIGBUS.)
 */
static void test_truncated_sparse_terabyte(void **state)
{
	truncate_under_live_rings(*state, new_memfd(1ull << 40), 1ull << 40, "sparse memfd of 1 TiB");
}

/* A truncated memfd of @len bytes mapped and watched: (slot, mapping); no cmocka, for children. */
static int watch_truncated(size_t len, uint8_t **map)
{
	int fd = memfd_create(MEMFD_NAME, MFD_CLOEXEC), slot;

	if (fd < 0 || ftruncate(fd, (off_t)len) < 0)
		_exit(10);
	*map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*map == MAP_FAILED || ftruncate(fd, 0) < 0)
		_exit(11);
	close(fd);
	slot = vu_memguard_watch(*map, len);
	if (slot < 0)
		_exit(12);
	return slot;
}

/*
 * What workers wrote over a faulted region (through the stand-in) is gone
 * when its slot is given back: the next region guarded by that slot reads
 * zeroes, not the last session's bytes.  Directly on vu_memguard, in a child.
 */
static void test_standin_emptied_between_sessions(void **state)
{
	int status, slot1, slot2;
	uint8_t *a, *b;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		slot1 = watch_truncated(0x10000, &a);
		a[0x1234] = 0x5a; /* faults: the stand-in takes the store */
		if (!vu_memguard_faulted(slot1) || a[0x1234] != 0x5a)
			_exit(1);
		vu_memguard_unwatch(slot1);
		munmap(a, 0x10000);
		slot2 = watch_truncated(0x10000, &b);
		if (slot2 != slot1)
			_exit(2);
		_exit(b[0x1234] == 0 && vu_memguard_faulted(slot2) ? 0 : 3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("the child died of signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	if (WEXITSTATUS(status) == 2)
		fail_msg("the slot was not reused: nothing tested");
	if (WEXITSTATUS(status) == 3)
		fail_msg("a region guarded by a reused slot read the previous session's byte");
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Every guard slot taken: the region is refused (and not mapped), never mapped unguarded. */
static void test_guard_slots_exhausted(void **state)
{
	static int slots[16384];
	struct mx *f = *state;
	int memfd = new_memfd(MEM_SIZE), rc;
	unsigned n = 0;

	negotiate(f);
	/* Ranges nothing maps: they only fill the table. */
	while (n < 16384 && (slots[n] = vu_memguard_watch((void *)(uintptr_t)(0x10000ull * (n + 1)), 0x1000)) >= 0)
		n++;
	rc = mem_table(f, memfd, MEM_SIZE);
	for (unsigned i = 0; i < n; i++)
		vu_memguard_unwatch(slots[i]);
	close(memfd);
	if (n == 16384)
		fail_msg("the guard took 16384 ranges: no limit to test");
	if (rc == 0)
		fail_msg("with all %u guard slots in use the region was mapped anyway (unguarded)", n);
	assert_int_equal(rc, -EPROTO);
	assert_non_null(strstr(f->d.error, "guard"));
	assert_int_equal(f->d.nregions, 0);
	assert_int_equal(count_maps(MEMFD_NAME), 0);
	/* A slot free again: the same region is taken. */
	mx_reconnect(f);
	negotiate(f);
	memfd = new_memfd(MEM_SIZE);
	assert_int_equal(mem_table(f, memfd, MEM_SIZE), 0);
	close(memfd);
}

/* ---- unmapping hugetlb regions ---- */

/*
 * 50 sessions, each with a 4 KiB region of its own 2 MiB hugetlb memfd
 * that both sides touched: after each, no mapping of it is left, and at
 * the end the process maps no hugetlb page and the pool is where it was
 * (give or take what other processes took meanwhile).
 * (Before the fix munmap of the 4 KiB length failed: one page per session.)
 */
static void test_hugetlb_sessions_leave_nothing(void **state)
{
	struct mx *f = *state;
	long pool0, self0, pool1 = -1;

	hugepages_need(2);
	pool0 = huge_available();
	self0 = self_hugetlb_kb();
	for (unsigned i = 0; i < 50; i++) {
		int memfd = new_huge_memfd();
		uint8_t *front = mmap(NULL, HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);

		assert_true(front != MAP_FAILED);
		front[0] = (uint8_t)(i + 1); /* the front end writes its memory */
		negotiate(f);
		if (mem_table(f, memfd, 0x1000) != 0)
			fail_msg("session %u: memory table refused: %s", i, f->d.error);
		/* The back end reads it through its own mapping. */
		assert_int_equal(*(volatile uint8_t *)f->d.regions[0].hva, (uint8_t)(i + 1));
		munmap(front, HUGE_PAGE);
		close(memfd);
		mx_reconnect(f);
		if (count_maps(HUGE_NAME) != 0)
			fail_msg("session %u: %d mapping(s) of the hugetlb memfd left after detach", i,
				 count_maps(HUGE_NAME));
	}
	/* Exact: the device read each page, so a mapping it kept would still count here. */
	if (self_hugetlb_kb() != self0)
		fail_msg("hugetlb pages mapped by this process: %ld kB before 50 sessions, %ld kB after", self0,
			 self_hugetlb_kb());
	/*
	 * The pool is host-wide and other processes (testpmd) take and give
	 * pages meanwhile: wait for it to come back, and fail on a drop of
	 * half the sessions' pages or more (a leak takes one per session).
	 */
	for (int t = 0; t < 30 && (pool1 = huge_available()) != pool0; t++)
		usleep(100 * 1000);
	if (pool1 <= pool0 - 25)
		fail_msg("2 MiB hugepages available: %ld before 50 sessions, %ld after", pool0, pool1);
	if (pool1 != pool0)
		print_message("2 MiB hugepages available: %ld before, %ld after (other processes)\n", pool0, pool1);
}

/* ---- core dumps ---- */

/* Every guest mapping is MADV_DONTDUMP: "dd" in its VmFlags, 4 KiB pages and hugetlb alike. */
static void test_guest_memory_not_dumped(void **state)
{
	struct mx *f = *state;
	const char *what[2] = { "memfd", "hugetlb memfd" };

	for (unsigned k = 0; k < 2; k++) {
		int memfd = k == 0 ? new_memfd(MEM_SIZE) : new_huge_memfd();
		char flags[256];

		mx_reconnect(f);
		negotiate(f);
		assert_int_equal(mem_table(f, memfd, MEM_SIZE), 0);
		close(memfd);
		vm_flags(f->d.regions[0].mmap_base, flags, sizeof(flags));
		if (!flags[0])
			fail_msg("%s: no smaps entry at the region's mapping %p", what[k], f->d.regions[0].mmap_base);
		if (!has_flag(flags, "dd"))
			fail_msg("%s: guest mapping would be in a core dump: VmFlags \"%s\" lack dd", what[k], flags);
	}
}

/* ---- vuser: its memfd is sealed against shrinking and growing ---- */

/* The fd of this process whose link names memfd @name, or -1. */
static int find_memfd(const char *name)
{
	char want[64], link[128], path[64];

	snprintf(want, sizeof(want), "/memfd:%s ", name);
	for (int fd = 0; fd < 1024; fd++) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strncmp(link, want, strlen(want)) == 0)
			return fd;
	}
	return -1;
}

/*
 * vuser's guest memory, as the back end gets it: F_SEAL_SHRINK (truncating
 * it under the back end's mappings is the SIGBUS attack), F_SEAL_GROW and
 * F_SEAL_SEAL.  The device serves vuser_open() from this thread.
 */
static void test_vuser_memfd_sealed(void **state)
{
	struct vuser_config cfg = { 0 };
	struct mx *f = *state;
	struct vuser *u;
	char err[400];
	int memfd, seals;

	vu_dev_detach(&f->d);
	close(f->peer);
	f->peer = -1;
	u = vu_serve_open(&f->d, &cfg, err, sizeof(err));
	if (!u)
		fail_msg("%s", err);
	memfd = find_memfd("vuser");
	seals = memfd >= 0 ? fcntl(memfd, F_GET_SEALS) : -1;
	vuser_close(u);
	vu_dev_detach(&f->d);
	mx_connect(f); /* the teardown's socket */
	if (memfd < 0)
		fail_msg("no memfd named vuser among this process's fds");
	if ((seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) != (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL))
		fail_msg("vuser's memfd seals 0x%x, expected SHRINK|GROW|SEAL (0x%x)", seals,
			 F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
}

/* Runs every test, or those matching argv[1] (a cmocka filter, e.g. "test_truncated_*"). */
int main(int argc, char **argv)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, mx_setup, mx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_truncated_memfd),
		T(test_truncated_hugetlb_short_region),
		T(test_truncated_sparse_terabyte),
		T(test_standin_emptied_between_sessions),
		T(test_guard_slots_exhausted),
		T(test_hugetlb_sessions_leave_nothing),
		T(test_guest_memory_not_dumped),
		T(test_vuser_memfd_sealed),
	};
#undef T
	test_pid = getpid();
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
