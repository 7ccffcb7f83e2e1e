/* port_pcap.c - pcap port: a file's frames replayed into the switch, the switch's frames recorded to a file. */
#include "port/port_pcap.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "port/capture.h"
#include "port/port_types.h"

/*
 *   read=FILE:  pcap_next_ex --copy--> pool --pkt views--> switch   (queue 0, one worker)
 *   write=FILE: switch --tx_burst--> contiguous copy --pcap_dump--> FILE   (any worker, under wr_lock)
 *
 * A file has no fd that becomes readable, so the replay queue is polled:
 * rx_fd is -1 and rx_arm says "work waiting" until the replay is over
 * (after one pass, or never with loop=1).  Frames are copied from libpcap's
 * buffer (valid only until the next pcap_next_ex) into a per-port pool that
 * holds one burst; the views point there until rx_done.  With pps set,
 * frames are released on a clock (CLOCK_MONOTONIC), and a worker spins
 * between them.  libpcap does every byte of the file format.
 */

#define PP_POOL_BYTES (PKT_BURST_BYTES + PKT_MAX_FRAME) /* a burst stops at PKT_BURST_BYTES: the last frame fits */
#define PP_PPS_MAX 100000000u
#define PP_STALL_NS 100000000ull /* further behind the clock than this: restart it rather than burst */

struct pcap_port {
	struct port port;

	/* Replay: state of the one worker polling queue 0. */
	pcap_t *rd;
	char *read_path;
	bool loop;
	unsigned pps;
	long rd_start;			/* file offset of the first record: where a new pass starts */
	uint64_t gap_ns, next_ns;	/* pacing: one frame every gap_ns, the next one due at next_ns */
	uint64_t pass_records;		/* records read in the current pass */
	size_t pool_used;
	uint8_t *pool;			/* PP_POOL_BYTES */
	struct iovec rx_iov[PKT_BURST];
	/* Replay: what the control thread may read. */
	atomic_bool rd_done;
	atomic_bool rd_error_set;	/* rd_error is written once, before this is set */
	char rd_error[PCAP_ERRBUF_SIZE];
	atomic_uint_least64_t frames_read, passes, truncated;

	/* Record: tx_burst from any worker, tick from the control thread. */
	pthread_mutex_t wr_lock;
	pcap_t *wr_dead;
	pcap_dumper_t *wr;
	char *write_path;
	uint64_t frames_written;	/* under wr_lock */
	int wr_errno;			/* under wr_lock: the file failed, nothing more is written */
	uint8_t *wr_frame;		/* PKT_MAX_FRAME of scratch, under wr_lock */
};

static struct pcap_port *pp_of(struct port *p) { return (struct pcap_port *)p; }

/* ---- data path: replay ---- */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* How many of @max frames the pps clock lets out now. */
static unsigned pp_due(struct pcap_port *pp, unsigned max)
{
	uint64_t now = mono_ns(), due;

	if (pp->next_ns == 0 || now > pp->next_ns + PP_STALL_NS)
		pp->next_ns = now; /* first frame, or a stall: no burst of saved-up credit */
	if (now < pp->next_ns)
		return 0;
	due = (now - pp->next_ns) / pp->gap_ns + 1;
	return due < max ? (unsigned)due : max;
}

/* Written once by the worker, read by describe() after rd_error_set. */
static void pp_rd_error(struct pcap_port *pp, const char *msg)
{
	if (atomic_load_explicit(&pp->rd_error_set, memory_order_relaxed))
		return;
	snprintf(pp->rd_error, sizeof(pp->rd_error), "%s", msg);
	atomic_store_explicit(&pp->rd_error_set, true, memory_order_release);
}

/*
 * The end of the file (or a read error) ends a pass: start the next one for
 * loop=1, else the replay is over.  True when there are frames to read.
 */
static bool pp_end_of_pass(struct pcap_port *pp, int rc)
{
	if (rc == PCAP_ERROR)
		pp_rd_error(pp, pcap_geterr(pp->rd)); /* a truncated last record, typically */
	atomic_fetch_add_explicit(&pp->passes, 1, memory_order_relaxed);
	/* The savefile reader reads the FILE sequentially: seeking back to the first record starts over. */
	if (!pp->loop || pp->pass_records == 0 || fseek(pcap_file(pp->rd), pp->rd_start, SEEK_SET) != 0) {
		atomic_store_explicit(&pp->rd_done, true, memory_order_release);
		return false;
	}
	pp->pass_records = 0;
	return true;
}

static unsigned pp_rx_burst(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max)
{
	struct pcap_port *pp = pp_of(p);
	unsigned n = 0, budget = max, truncated = 0;
	uint64_t bytes = 0;

	pp->pool_used = 0;
	if (!pp->rd || atomic_load_explicit(&pp->rd_done, memory_order_relaxed))
		return 0;
	if (pp->pps)
		budget = pp_due(pp, max);
	/* At most 2 * max records per burst, so a file of runts cannot keep us here. */
	for (unsigned reads = 0; n < budget && bytes < PKT_BURST_BYTES && reads < 2 * max; reads++) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int rc = pcap_next_ex(pp->rd, &h, &data);

		if (rc != 1) {
			if (!pp_end_of_pass(pp, rc))
				break;
			continue;
		}
		pp->pass_records++;
		if (h->caplen < PKT_ETH_HLEN) {
			port_count_drop(p, DROP_RUNT, 1);
			continue;
		}
		if (h->caplen > PKT_MAX_FRAME) {
			port_count_drop(p, DROP_TOO_BIG, 1);
			continue;
		}
		/* A record cut short by the capturing snap length is replayed as recorded. */
		truncated += h->caplen < h->len;
		memcpy(pp->pool + pp->pool_used, data, h->caplen);
		pp->rx_iov[n] = (struct iovec){ pp->pool + pp->pool_used, h->caplen };
		pkt_rx_init(&pkts[n], &pp->rx_iov[n], 1, h->caplen, p->id);
		pp->pool_used += h->caplen;
		bytes += h->caplen;
		n++;
	}
	if (pp->pps)
		pp->next_ns += n * pp->gap_ns;
	atomic_fetch_add_explicit(&pp->frames_read, n, memory_order_relaxed);
	if (truncated)
		atomic_fetch_add_explicit(&pp->truncated, truncated, memory_order_relaxed);
	port_count(&p->stats.rx_packets, n);
	port_count(&p->stats.rx_bytes, bytes);
	return n;
}

static void pp_rx_done(struct port *p, unsigned q, struct port_io *io)
{
	pp_of(p)->pool_used = 0; /* the views are gone: the pool is free for the next burst */
}

static unsigned pp_rx_queues(struct port *p) { return pp_of(p)->rd ? 1 : 0; }
static int pp_rx_fd(struct port *p, unsigned q) { return -1; }

static bool pp_rx_arm(struct port *p, unsigned q)
{
	struct pcap_port *pp = pp_of(p);

	/* No wake-up will ever come: poll while there is something to replay. */
	return pp->rd && !atomic_load_explicit(&pp->rd_done, memory_order_relaxed);
}

static void pp_rx_disarm(struct port *p, unsigned q) {}

/* ---- data path: record ---- */

static void pp_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	struct pcap_port *pp = pp_of(p);
	struct pcap_pkthdr h = { 0 };
	unsigned sent = 0, failed = 0;
	struct timespec ts;
	uint64_t bytes = 0;

	if (!pp->wr) {
		port_count_drop(p, DROP_PORT_DOWN, n); /* a replay-only port takes no frames */
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	h.ts.tv_sec = ts.tv_sec;
	h.ts.tv_usec = ts.tv_nsec / 1000;
	pthread_mutex_lock(&pp->wr_lock);
	for (unsigned i = 0; i < n && !pp->wr_errno; i++) {
		const struct pkt *pk = pkts[i];

		h.len = pk->len;
		h.caplen = (bpf_u_int32)pkt_to_buf(pk, pp->wr_frame, PKT_MAX_FRAME);
		/* Into the stdio buffer; a full buffer is one write(2). */
		pcap_dump((u_char *)pp->wr, &h, pp->wr_frame);
		if (ferror(pcap_dump_file(pp->wr))) {
			pp->wr_errno = errno ? errno : EIO;
			break;
		}
		pp->frames_written++;
		sent++;
		bytes += pk->len;
	}
	failed = n - sent;
	pthread_mutex_unlock(&pp->wr_lock);
	port_count(&p->stats.tx_packets, sent);
	port_count(&p->stats.tx_bytes, bytes);
	if (failed)
		port_count_drop(p, DROP_PORT_BROKEN, failed);
}

/* ---- control plane ---- */

static void pp_tick(struct port *p)
{
	struct pcap_port *pp = pp_of(p);

	/* Once a second the file catches up with the frames, for readers of a live file. */
	if (!pp->wr)
		return;
	pthread_mutex_lock(&pp->wr_lock);
	if (!pp->wr_errno && pcap_dump_flush(pp->wr) < 0)
		pp->wr_errno = errno ? errno : EIO;
	pthread_mutex_unlock(&pp->wr_lock);
}

static void pp_describe(struct port *p, char *buf, size_t len)
{
	struct pcap_port *pp = pp_of(p);
	size_t off = 0;

	buf[0] = '\0';
	if (pp->rd) {
		bool done = atomic_load_explicit(&pp->rd_done, memory_order_acquire);
		uint64_t passes = atomic_load_explicit(&pp->passes, memory_order_relaxed);
		uint64_t trunc = atomic_load_explicit(&pp->truncated, memory_order_relaxed);

		off += (size_t)snprintf(buf, len, "read %s: %llu frames%s, %s", pp->read_path,
					(unsigned long long)atomic_load(&pp->frames_read),
					pp->loop ? ", looping" : "", done ? "done" : "replaying");
		if (pp->loop && off < len)
			off += (size_t)snprintf(buf + off, len - off, " (%llu passes)", (unsigned long long)passes);
		if (trunc && off < len)
			off += (size_t)snprintf(buf + off, len - off, ", %llu truncated", (unsigned long long)trunc);
		if (atomic_load_explicit(&pp->rd_error_set, memory_order_acquire) && off < len)
			off += (size_t)snprintf(buf + off, len - off, " (%s)", pp->rd_error);
	}
	if (pp->wr && off < len) {
		uint64_t written;
		int wr_errno;

		pthread_mutex_lock(&pp->wr_lock);
		written = pp->frames_written;
		wr_errno = pp->wr_errno;
		pthread_mutex_unlock(&pp->wr_lock);
		off += (size_t)snprintf(buf + off, len - off, "%swrite %s: %llu frames", off ? "; " : "",
					pp->write_path, (unsigned long long)written);
		if (wr_errno && off < len)
			snprintf(buf + off, len - off, ", write error: %s", strerror(wr_errno));
	}
}

static void pp_destroy(struct port *p)
{
	struct pcap_port *pp = pp_of(p);

	if (pp->rd)
		pcap_close(pp->rd);
	if (pp->wr)
		pcap_dump_close(pp->wr); /* flushes */
	if (pp->wr_dead)
		pcap_close(pp->wr_dead);
	pthread_mutex_destroy(&pp->wr_lock);
	free(pp->read_path);
	free(pp->write_path);
	free(pp->pool);
	free(pp->wr_frame);
	free(pp);
}

static const struct port_ops pcap_port_ops = {
	.type = "pcap",
	.rx_burst = pp_rx_burst,
	.rx_done = pp_rx_done,
	.tx_burst = pp_tx_burst,
	.rx_queues = pp_rx_queues,
	.rx_fd = pp_rx_fd,
	.rx_arm = pp_rx_arm,
	.rx_disarm = pp_rx_disarm,
	.describe = pp_describe,
	.tick = pp_tick,
	.destroy = pp_destroy,
};

/* Open the replay file: a regular file (a FIFO would block the control thread), Ethernet frames. */
static int pp_open_read(struct pcap_port *pp, const char *path, struct stat *st, char *err, size_t errlen)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	FILE *f;

	if (fd < 0) {
		snprintf(err, errlen, "pcap: %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "pcap: %s: not a regular file", path);
		close(fd);
		return -1;
	}
	f = fdopen(fd, "r");
	if (!f) {
		snprintf(err, errlen, "pcap: %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	pp->rd = pcap_fopen_offline(f, errbuf);
	if (!pp->rd) {
		snprintf(err, errlen, "pcap: %s: %s", path, errbuf);
		fclose(f); /* not taken over on failure */
		return -1;
	}
	if (pcap_datalink(pp->rd) != DLT_EN10MB) {
		const char *lt = pcap_datalink_val_to_name(pcap_datalink(pp->rd));

		snprintf(err, errlen, "pcap: %s: link type %s (%d), not Ethernet", path, lt ? lt : "unknown",
			 pcap_datalink(pp->rd));
		return -1;
	}
	pp->rd_start = ftell(pcap_file(pp->rd));
	if (pp->rd_start < 0) {
		snprintf(err, errlen, "pcap: %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Create the record file; refuses the replay file itself (@rd_st, when replaying). */
static int pp_open_write(struct pcap_port *pp, const char *path, const struct stat *rd_st, char *err, size_t errlen)
{
	struct stat st;
	FILE *f;

	if (rd_st && stat(path, &st) == 0 && st.st_dev == rd_st->st_dev && st.st_ino == rd_st->st_ino) {
		snprintf(err, errlen, "pcap: read= and write= name the same file");
		return -1;
	}
	pp->wr_dead = pcap_open_dead(DLT_EN10MB, PKT_MAX_FRAME);
	if (!pp->wr_dead) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	f = capture_file_create(path, err, errlen);
	if (!f)
		return -1;
	/* On failure libpcap has closed f (it could not write the file header). */
	pp->wr = pcap_dump_fopen(pp->wr_dead, f);
	if (!pp->wr) {
		snprintf(err, errlen, "pcap: %s: %s", path, pcap_geterr(pp->wr_dead));
		return -1;
	}
	return 0;
}

/* loop= as 0/1 (what vswctl sends) or a JSON boolean (what a config file may say). */
static int pp_param_loop(struct json_object *params, bool *loop, char *err, size_t errlen)
{
	struct json_object *f;
	unsigned v;

	if (json_object_object_get_ex(params, "loop", &f) && json_object_is_type(f, json_type_boolean)) {
		*loop = json_object_get_boolean(f);
		return 0;
	}
	if (port_param_uint(params, "loop", 0, 1, 0, &v, err, errlen) < 0)
		return -1;
	*loop = v;
	return 0;
}

struct port *port_pcap_create(const char *name, struct json_object *params, const struct port_env *env, char *err,
			      size_t errlen)
{
	const char *rpath = port_param_str(params, "read"), *wpath = port_param_str(params, "write");
	struct stat rd_st;
	struct pcap_port *pp;

	if ((!rpath || !rpath[0]) && (!wpath || !wpath[0])) {
		snprintf(err, errlen, "pcap port needs read=FILE and/or write=FILE");
		return NULL;
	}
	pp = calloc(1, sizeof(*pp));
	if (!pp) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(pp->port.name, sizeof(pp->port.name), "%s", name);
	pp->port.ops = &pcap_port_ops;
	pthread_mutex_init(&pp->wr_lock, NULL);
	if (pp_param_loop(params, &pp->loop, err, errlen) < 0 ||
	    port_param_uint(params, "pps", 0, PP_PPS_MAX, 0, &pp->pps, err, errlen) < 0)
		goto out_destroy;
	if ((pp->loop || pp->pps) && !rpath) {
		snprintf(err, errlen, "pcap: loop= and pps= need read=FILE");
		goto out_destroy;
	}
	if (pp->pps)
		pp->gap_ns = 1000000000ull / pp->pps;
	if (rpath && rpath[0]) {
		if (!(pp->read_path = strdup(rpath)) || !(pp->pool = malloc(PP_POOL_BYTES)))
			goto out_nomem;
		if (pp_open_read(pp, rpath, &rd_st, err, errlen) < 0)
			goto out_destroy;
	}
	if (wpath && wpath[0]) {
		if (!(pp->write_path = strdup(wpath)) || !(pp->wr_frame = malloc(PKT_MAX_FRAME)))
			goto out_nomem;
		if (pp_open_write(pp, wpath, pp->rd ? &rd_st : NULL, err, errlen) < 0)
			goto out_destroy;
	}
	return &pp->port;

out_nomem:
	snprintf(err, errlen, "out of memory");
out_destroy:
	pp_destroy(&pp->port);
	return NULL;
}
