/* capture.c - a port's frames, filtered by BPF, into a pcap file; libpcap does the filter and the format. */
#include "port/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct capture {
	pthread_mutex_t lock;		/* serialises the workers feeding this capture */
	pcap_t *dead;			/* no device: link type and snap length for pcap_compile and pcap_dump */
	pcap_dumper_t *dumper;
	struct bpf_program prog;
	bool filtered;			/* prog holds a compiled program */
	unsigned dir;
	uint64_t count;
	/* Under lock. */
	uint64_t captured, dropped;
	int write_errno;		/* the file failed (0: fine): nothing more is written */
	uint8_t frame[CAPTURE_SNAPLEN];	/* scratch: one frame made contiguous */
};

FILE *capture_file_create(const char *path, char *err, size_t errlen)
{
	FILE *f;
	int fd;

	/*
	 * A new file only: an existing one (perhaps another user's, who could
	 * read what vswd writes) is not reused, and a symlink in its place is
	 * not followed (it could name any file vswd may write).
	 */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
			 errno == EEXIST ? " (vswd writes only new files: remove it first)" : "");
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
	}
	return f;
}

FILE *capture_file_adopt(int fd, const char *name, char *err, size_t errlen)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);
	FILE *f;

	/* What the client opened: a regular file (a FIFO would block the worker), open for writing. */
	if (fl < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (fl & O_ACCMODE) == O_RDONLY) {
		snprintf(err, errlen, "%s: the file passed is not a regular file open for writing", name);
		return NULL;
	}
	if (fl & O_APPEND) {
		snprintf(err, errlen, "%s: the file passed is in append mode", name);
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f)
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
	return f;
}

struct capture *capture_open(const struct capture_config *cfg, char *err, size_t errlen)
{
	struct capture *c;
	FILE *f;

	if (!cfg->use_fd && (!cfg->path || !cfg->path[0])) {
		snprintf(err, errlen, "capture needs a file");
		return NULL;
	}
	if (cfg->dir == 0 || (cfg->dir & ~(unsigned)CAPTURE_BOTH)) {
		snprintf(err, errlen, "capture direction must be rx, tx or both");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto out_nomem;
	c->dir = cfg->dir;
	c->count = cfg->count;
	c->dead = pcap_open_dead(DLT_EN10MB, CAPTURE_SNAPLEN);
	if (!c->dead)
		goto out_nomem;
	if (cfg->filter && cfg->filter[0]) {
		if (pcap_compile(c->dead, &c->prog, cfg->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			snprintf(err, errlen, "filter \"%.64s\": %s", cfg->filter, pcap_geterr(c->dead));
			goto out_close_dead;
		}
		c->filtered = true;
	}
	f = cfg->use_fd ? capture_file_adopt(cfg->fd, cfg->path ? cfg->path : "capture file", err, errlen)
			 : capture_file_create(cfg->path, err, errlen);
	if (!f)
		goto out_free_prog;
	/* On failure libpcap has closed f (it could not write the file header). */
	c->dumper = pcap_dump_fopen(c->dead, f);
	if (!c->dumper) {
		snprintf(err, errlen, "%s: %s", cfg->path, pcap_geterr(c->dead));
		goto out_free_prog;
	}
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		snprintf(err, errlen, "cannot create a lock");
		goto out_close_dumper;
	}
	return c;

out_close_dumper:
	pcap_dump_close(c->dumper);
out_free_prog:
	if (c->filtered)
		pcap_freecode(&c->prog);
out_close_dead:
	pcap_close(c->dead);
	free(c);
	return NULL;

out_nomem:
	snprintf(err, errlen, "out of memory");
	free(c);
	return NULL;
}

int capture_close(struct capture *c, struct capture_stats *st, char *err, size_t errlen)
{
	int rc = 0;

	if (st)
		capture_get_stats(c, st);
	if (pcap_dump_flush(c->dumper) < 0 && !c->write_errno)
		c->write_errno = errno ? errno : EIO;
	if (c->write_errno) {
		rc = -c->write_errno;
		snprintf(err, errlen, "capture file write failed: %s", strerror(c->write_errno));
	}
	pcap_dump_close(c->dumper);
	if (c->filtered)
		pcap_freecode(&c->prog);
	pcap_close(c->dead);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return rc;
}

void capture_get_stats(struct capture *c, struct capture_stats *st)
{
	pthread_mutex_lock(&c->lock);
	st->captured = c->captured;
	st->dropped = c->dropped;
	pthread_mutex_unlock(&c->lock);
}

static bool capture_full(const struct capture *c)
{
	return c->write_errno || (c->count && c->captured >= c->count);
}

bool capture_done(struct capture *c)
{
	bool done;

	pthread_mutex_lock(&c->lock);
	done = capture_full(c);
	pthread_mutex_unlock(&c->lock);
	return done;
}

/* One frame (under lock): contiguous copy, filter, append. */
static void capture_one(struct capture *c, const struct pkt *p, const struct timeval *ts)
{
	struct pcap_pkthdr h = { .ts = *ts, .len = p->len };
	size_t want = p->len < CAPTURE_SNAPLEN ? p->len : CAPTURE_SNAPLEN;

	/* The head from the packet, the rest from the view; less than the frame when a source's iovecs are short. */
	h.caplen = (bpf_u_int32)pkt_to_buf(p, c->frame, want);
	if (c->filtered && !pcap_offline_filter(&c->prog, &h, c->frame))
		return;
	if (c->write_errno) {
		c->dropped++;
		return;
	}
	/* Into the stdio buffer; a full buffer means one write(2), the only syscall here. */
	pcap_dump((u_char *)c->dumper, &h, c->frame);
	if (ferror(pcap_dump_file(c->dumper))) {
		c->write_errno = errno ? errno : EIO;
		c->dropped++;
		return;
	}
	c->captured++;
}

static void capture_now(struct timeval *tv)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts); /* vDSO: no syscall */
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
}

void capture_rx(struct capture *c, const struct pkt *pkts, unsigned n)
{
	struct timeval tv;

	if (!(c->dir & CAPTURE_RX) || n == 0)
		return;
	capture_now(&tv);
	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < n && !(c->count && c->captured >= c->count); i++)
		capture_one(c, &pkts[i], &tv);
	pthread_mutex_unlock(&c->lock);
}

void capture_tx(struct capture *c, struct pkt *const *pkts, unsigned n)
{
	struct timeval tv;

	if (!(c->dir & CAPTURE_TX) || n == 0)
		return;
	capture_now(&tv);
	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < n && !(c->count && c->captured >= c->count); i++)
		capture_one(c, pkts[i], &tv);
	pthread_mutex_unlock(&c->lock);
}
