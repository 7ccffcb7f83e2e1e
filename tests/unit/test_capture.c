/* test_capture.c - unit tests of capture, the switch's capture hooks and the pcap port, files read back by libpcap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dp/dp.h"
#include "dp/pipeline.h"
#include "packet/iov.h"
#include "port/capture.h"
#include "port/port_pcap.h"
#include "switch/switch.h"
#include "../lib/zalloc.h"

#define MAX_FRAMES 64

static char dir[64];

/* ---- frames ---- */

enum proto { P_ICMP = 1, P_UDP = 17, P_ARP = 0 };

struct frame {
	uint8_t b[1600];
	uint32_t len;
};

/* An Ethernet frame of @len bytes: IPv4 carrying @proto (ICMP, UDP), or ARP; @seq marks the payload. */
static void make_frame(struct frame *f, enum proto proto, unsigned seq, uint32_t len)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x02 }, src[6] = { 0x02, 0, 0, 0, 0, 0x01 };

	memset(f, 0, sizeof(*f));
	f->len = len;
	memcpy(f->b, dst, 6);
	memcpy(f->b + 6, src, 6);
	if (proto == P_ARP) {
		f->b[12] = 0x08, f->b[13] = 0x06;
	} else {
		f->b[12] = 0x08, f->b[13] = 0x00;
		f->b[14] = 0x45;			/* IPv4, IHL 5 */
		f->b[16] = (uint8_t)((len - 14) >> 8);	/* total length */
		f->b[17] = (uint8_t)(len - 14);
		f->b[22] = 64;				/* TTL */
		f->b[23] = (uint8_t)proto;
		f->b[26] = 10, f->b[29] = 1, f->b[30] = 10, f->b[33] = 2;
	}
	for (uint32_t i = 42; i < len; i++)
		f->b[i] = (uint8_t)(seq * 7 + i);
	if (len >= 42) {
		f->b[40] = (uint8_t)(seq >> 8);
		f->b[41] = (uint8_t)seq;
	}
}

/* A view of @f split into three iovecs (a source port's scatter-gather list). */
struct view {
	struct pkt pkt;
	struct iovec iov[3];
};

static void make_view(struct view *v, struct frame *f, unsigned in_port)
{
	uint32_t a = f->len / 3, b = f->len / 2;

	v->iov[0] = (struct iovec){ f->b, a };
	v->iov[1] = (struct iovec){ f->b + a, b - a };
	v->iov[2] = (struct iovec){ f->b + b, f->len - b };
	pkt_rx_init(&v->pkt, v->iov, 3, f->len, in_port);
	pkt_load(&v->pkt); /* the parse stage's part: the head the capture and the ports take the first bytes from */
}

/* ---- files ---- */

static char *tmp_path(const char *name)
{
	static char paths[8][128];
	static unsigned next;
	char *p = paths[next++ % 8];

	snprintf(p, 128, "%s/%s", dir, name);
	return p;
}

/* Read a pcap file with libpcap: its frames into @out (at most @max); returns the count, -1 when unreadable. */
static int read_back(const char *path, struct frame *out, int max, int *linktype)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	struct pcap_pkthdr *h;
	const u_char *data;
	int n = 0;

	if (!p)
		return -1;
	if (linktype)
		*linktype = pcap_datalink(p);
	while (pcap_next_ex(p, &h, &data) == 1) {
		if (n < max) {
			assert_true(h->caplen <= sizeof(out[n].b));
			assert_int_equal(h->caplen, h->len);
			memcpy(out[n].b, data, h->caplen);
			out[n].len = h->caplen;
		}
		n++;
	}
	pcap_close(p);
	return n;
}

/* Write @n frames with libpcap, link type @dlt; a record's length is @wire_len[i] when given. */
static void write_file(const char *path, const struct frame *f, int n, int dlt, const uint32_t *wire_len)
{
	pcap_t *dead = pcap_open_dead(dlt, 65535);
	pcap_dumper_t *d = pcap_dump_open(dead, path);

	assert_non_null(d);
	for (int i = 0; i < n; i++) {
		struct pcap_pkthdr h = { .ts = { 1700000000 + i, 0 }, .caplen = f[i].len,
					 .len = wire_len ? wire_len[i] : f[i].len };

		pcap_dump((u_char *)d, &h, f[i].b);
	}
	pcap_dump_close(d);
	pcap_close(dead);
}

static void assert_same(const struct frame *a, const struct frame *b)
{
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->b, b->b, a->len);
}

/* ---- the capture object ---- */

static struct capture *open_capture(const char *path, const char *filter, unsigned dirs, uint64_t count)
{
	struct capture_config cc = { .path = path, .filter = filter, .dir = dirs, .count = count };
	char err[256] = "";
	struct capture *c = capture_open(&cc, err, sizeof(err));

	if (!c)
		fail_msg("capture_open: %s", err);
	return c;
}

/* Four frames: ICMP, UDP, ARP, ICMP; views in vs[], pointers in ps[]. */
struct mix {
	struct frame f[4];
	struct view v[4];
	struct pkt pkts[4];
	struct pkt *ps[4];
};

static void make_mix(struct mix *m)
{
	make_frame(&m->f[0], P_ICMP, 1, 98);
	make_frame(&m->f[1], P_UDP, 2, 300);
	make_frame(&m->f[2], P_ARP, 3, 60);
	make_frame(&m->f[3], P_ICMP, 4, 1514);
	for (int i = 0; i < 4; i++) {
		make_view(&m->v[i], &m->f[i], 0);
		m->pkts[i] = m->v[i].pkt;
		m->ps[i] = &m->v[i].pkt;
	}
}

/* A filter keeps what matches; an rx capture ignores tx frames; the file holds exact copies. */
static void test_capture_filter_rx(void **state)
{
	const char *path = tmp_path("filter.pcap");
	static struct frame back[MAX_FRAMES];
	struct capture_stats st;
	char err[128];
	struct mix m;
	int lt = 0;
	struct capture *c = open_capture(path, "icmp", CAPTURE_RX, 0);

	make_mix(&m);
	capture_rx(c, m.pkts, 4);
	capture_tx(c, m.ps, 4);
	capture_get_stats(c, &st);
	assert_int_equal(st.captured, 2);
	assert_false(capture_done(c));
	assert_int_equal(capture_close(c, &st, err, sizeof(err)), 0);
	assert_int_equal(st.captured, 2);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(read_back(path, back, MAX_FRAMES, &lt), 2);
	assert_int_equal(lt, DLT_EN10MB);
	assert_same(&back[0], &m.f[0]);
	assert_same(&back[1], &m.f[3]);
}

/* tx takes only tx frames, both takes both; no filter takes every frame. */
static void test_capture_directions(void **state)
{
	static struct frame back[MAX_FRAMES];
	struct capture_stats st;
	char err[128];
	struct mix m;
	struct capture *c;

	make_mix(&m);
	c = open_capture(tmp_path("tx.pcap"), NULL, CAPTURE_TX, 0);
	capture_rx(c, m.pkts, 4);
	capture_tx(c, m.ps + 1, 2);
	assert_int_equal(capture_close(c, &st, err, sizeof(err)), 0);
	assert_int_equal(st.captured, 2);
	assert_int_equal(read_back(tmp_path("tx.pcap"), back, MAX_FRAMES, NULL), 2);
	assert_same(&back[0], &m.f[1]);
	assert_same(&back[1], &m.f[2]);

	c = open_capture(tmp_path("both.pcap"), "", CAPTURE_BOTH, 0);
	capture_rx(c, m.pkts, 4);
	capture_tx(c, m.ps, 4);
	assert_int_equal(capture_close(c, &st, err, sizeof(err)), 0);
	assert_int_equal(st.captured, 8);
	assert_int_equal(read_back(tmp_path("both.pcap"), back, MAX_FRAMES, NULL), 8);
	for (int i = 0; i < 8; i++)
		assert_same(&back[i], &m.f[i % 4]);
}

/* The count limit: exactly that many frames, then done; later frames are not written. */
static void test_capture_count(void **state)
{
	static struct frame back[MAX_FRAMES];
	struct capture_stats st;
	char err[128];
	struct mix m;
	struct capture *c = open_capture(tmp_path("count.pcap"), "ip", CAPTURE_BOTH, 3);

	make_mix(&m);
	capture_rx(c, m.pkts, 2); /* ICMP, UDP */
	assert_false(capture_done(c));
	capture_tx(c, m.ps + 2, 2); /* ARP (filtered out), ICMP: the third */
	assert_true(capture_done(c));
	capture_rx(c, m.pkts, 4);
	assert_int_equal(capture_close(c, &st, err, sizeof(err)), 0);
	assert_int_equal(st.captured, 3);
	assert_int_equal(read_back(tmp_path("count.pcap"), back, MAX_FRAMES, NULL), 3);
	assert_same(&back[2], &m.f[3]);
}

/* Refusals: a bad filter, no direction, a directory, a FIFO (which must not block), a missing directory. */
static void test_capture_errors(void **state)
{
	struct capture_config cc = { .path = tmp_path("e.pcap"), .filter = "icmp and and", .dir = CAPTURE_RX };
	char err[256] = "";
	const char *fifo = tmp_path("fifo");

	assert_null(capture_open(&cc, err, sizeof(err)));
	assert_non_null(strstr(err, "filter"));
	assert_int_equal(access(cc.path, F_OK), -1); /* nothing created for a bad filter */
	cc.filter = NULL;
	cc.dir = 0;
	assert_null(capture_open(&cc, err, sizeof(err)));
	assert_non_null(strstr(err, "direction"));
	cc.dir = CAPTURE_RX;
	cc.path = dir;
	assert_null(capture_open(&cc, err, sizeof(err)));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	cc.path = fifo;
	err[0] = '\0';
	assert_null(capture_open(&cc, err, sizeof(err)));
	assert_true(err[0] != '\0');
	cc.path = tmp_path("no/such/dir.pcap");
	assert_null(capture_open(&cc, err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
	unlink(fifo);
}

/* Several workers on one capture: every frame written whole, none interleaved. */
struct worker_arg {
	struct capture *c;
	unsigned id;
};

#define CONC_THREADS 4
#define CONC_BURSTS 500
#define CONC_BURST 8

static void *conc_worker(void *arg)
{
	struct worker_arg *w = arg;
	static struct frame frames[CONC_THREADS][CONC_BURST];
	struct view views[CONC_BURST];
	struct pkt *ps[CONC_BURST];

	for (unsigned b = 0; b < CONC_BURSTS; b++) {
		for (unsigned i = 0; i < CONC_BURST; i++) {
			struct frame *f = &frames[w->id][i];

			make_frame(f, P_UDP, w->id * 10000 + b * CONC_BURST + i, 200 + w->id * 100 + i);
			make_view(&views[i], f, w->id);
			ps[i] = &views[i].pkt;
		}
		capture_tx(w->c, ps, CONC_BURST);
	}
	return NULL;
}

static void test_capture_concurrent(void **state)
{
	const char *path = tmp_path("conc.pcap");
	struct worker_arg args[CONC_THREADS];
	pthread_t th[CONC_THREADS];
	unsigned seen[CONC_THREADS] = { 0 };
	char errbuf[PCAP_ERRBUF_SIZE], err[128];
	struct capture_stats st;
	struct pcap_pkthdr *h;
	const u_char *data;
	struct capture *c = open_capture(path, NULL, CAPTURE_TX, 0);
	pcap_t *p;

	for (unsigned i = 0; i < CONC_THREADS; i++) {
		args[i] = (struct worker_arg){ c, i };
		pthread_create(&th[i], NULL, conc_worker, &args[i]);
	}
	for (unsigned i = 0; i < CONC_THREADS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(capture_close(c, &st, err, sizeof(err)), 0);
	assert_int_equal(st.captured, CONC_THREADS * CONC_BURSTS * CONC_BURST);
	p = pcap_open_offline(path, errbuf);
	assert_non_null(p);
	while (pcap_next_ex(p, &h, &data) == 1) {
		unsigned seq = (unsigned)data[40] << 8 | data[41], id = (h->caplen - 200) / 100;
		struct frame want;

		/* Each thread's frames arrive in its own order, each one intact. */
		assert_true(id < CONC_THREADS);
		make_frame(&want, P_UDP, id * 10000 + seen[id], h->caplen);
		assert_int_equal(seq, (uint16_t)(id * 10000 + seen[id]));
		assert_memory_equal(data, want.b, h->caplen);
		seen[id]++;
	}
	pcap_close(p);
	for (unsigned i = 0; i < CONC_THREADS; i++)
		assert_int_equal(seen[i], CONC_BURSTS * CONC_BURST);
}

/* ---- the hooks in the pipeline (dp_forward) ---- */

struct fake_port {
	struct port port;
	unsigned got;
};

static void fake_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	((struct fake_port *)p)->got += n;
}

static const struct port_ops fake_ops = { .type = "fake", .tx_burst = fake_tx_burst };

/* Port 0's rx and port 1's tx are captured; port 2's frames are not. */
static void test_switch_hooks(void **state)
{
	struct vswitch *sw = malloc(sizeof(*sw));
	struct dp_ctx *ctx = zalloc64(sizeof(*ctx));
	static struct fake_port ports[3];
	static struct frame back[MAX_FRAMES];
	struct capture_stats st;
	struct capture *crx, *ctx1;
	char err[128];
	struct mix m;

	assert_int_equal(switch_init(sw, SWITCH_HUB, 300, 4096), 0);
	for (unsigned i = 0; i < 3; i++) {
		memset(&ports[i], 0, sizeof(ports[i]));
		ports[i].port.id = i;
		ports[i].port.ops = &fake_ops;
		switch_port_set(sw, i, &ports[i].port);
	}
	make_mix(&m);
	crx = open_capture(tmp_path("hook_rx.pcap"), "udp or arp", CAPTURE_RX, 0);
	ctx1 = open_capture(tmp_path("hook_tx.pcap"), NULL, CAPTURE_BOTH, 0);
	atomic_store_explicit(&ports[0].port.capture, crx, memory_order_release);
	atomic_store_explicit(&ports[1].port.capture, ctx1, memory_order_release);

	dp_forward(sw, ctx, &ports[0].port, m.pkts, 4); /* hub: to ports 1 and 2 */
	for (unsigned i = 0; i < 4; i++)
		m.pkts[i].in_port = 2;
	dp_forward(sw, ctx, &ports[2].port, m.pkts, 2); /* to 0 and 1: port 0's tx is not captured */
	assert_int_equal(ports[1].got, 6);

	atomic_store(&ports[0].port.capture, NULL);
	atomic_store(&ports[1].port.capture, NULL);
	dp_forward(sw, ctx, &ports[0].port, m.pkts, 4); /* unhooked: nothing more */

	assert_int_equal(capture_close(crx, &st, err, sizeof(err)), 0);
	assert_int_equal(st.captured, 2);
	assert_int_equal(read_back(tmp_path("hook_rx.pcap"), back, MAX_FRAMES, NULL), 2);
	assert_same(&back[0], &m.f[1]);
	assert_same(&back[1], &m.f[2]);
	assert_int_equal(capture_close(ctx1, &st, err, sizeof(err)), 0);
	assert_int_equal(st.captured, 6);
	assert_int_equal(read_back(tmp_path("hook_tx.pcap"), back, MAX_FRAMES, NULL), 6);
	for (int i = 0; i < 6; i++)
		assert_same(&back[i], &m.f[i % 4]);
	switch_destroy(sw);
	free(sw);
	free(ctx);
}

/* ---- the pcap port ---- */

static struct port *pcap_port(const char *read, const char *write, int loop, int pps, char *err, size_t errlen)
{
	struct json_object *o = json_object_new_object();
	struct port *p;

	if (read)
		json_object_object_add(o, "read", json_object_new_string(read));
	if (write)
		json_object_object_add(o, "write", json_object_new_string(write));
	if (loop >= 0)
		json_object_object_add(o, "loop", json_object_new_int(loop));
	if (pps >= 0)
		json_object_object_add(o, "pps", json_object_new_int(pps));
	p = port_pcap_create("pc", o, NULL, err, errlen);
	json_object_put(o);
	return p;
}

/* The replay file: @n frames of varied sizes and protocols. */
static void replay_frames(struct frame *f, int n)
{
	for (int i = 0; i < n; i++)
		make_frame(&f[i], i % 3 == 0 ? P_ICMP : i % 3 == 1 ? P_UDP : P_ARP, (unsigned)i,
			   60 + (uint32_t)(i * 37) % 1455);
}

/* The next burst's frames must be @want[*next...] (wrapping at @n) as views, whole and in order. */
static unsigned check_burst(struct port *p, struct dp_ctx *ctx, const struct frame *want, int n, int *next)
{
	unsigned got = p->ops->rx_burst(p, 0, &ctx->io, ctx->pkts, PKT_BURST);

	for (unsigned i = 0; i < got; i++) {
		struct pkt *pk = &ctx->pkts[i];
		const struct frame *w = &want[*next % n];
		uint8_t buf[1600];

		assert_int_equal(pk->len, w->len);
		assert_int_equal(pk->in_port, p->id);
		assert_int_equal(iov_size(pk->iov, pk->niov), w->len);
		assert_int_equal(iov_to_buf(pk->iov, pk->niov, 0, buf, sizeof(buf)), w->len);
		assert_memory_equal(buf, w->b, w->len);
		pkt_load(pk);
		assert_int_equal(pk->head_len, w->len < PKT_HEAD_COPY ? w->len : PKT_HEAD_COPY);
		assert_memory_equal(pkt_head(pk), w->b, pk->head_len);
		(*next)++;
	}
	/* The views stay valid until rx_done: check the whole burst again after reading it. */
	for (unsigned i = 0; i < got; i++)
		assert_int_equal(ctx->pkts[i].len, want[(*next - (int)got + (int)i) % n].len);
	p->ops->rx_done(p, 0, &ctx->io);
	return got;
}

/* One pass: every frame as an identical view, in order; then done, and no more polling. */
static void test_pcap_replay(void **state)
{
	static struct frame f[MAX_FRAMES];
	struct dp_ctx *ctx = zalloc64(sizeof(*ctx));
	const char *path = tmp_path("replay.pcap");
	char err[256] = "", desc[256];
	int next = 0, rounds = 0;
	struct port *p;

	replay_frames(f, 50);
	write_file(path, f, 50, DLT_EN10MB, NULL);
	p = pcap_port(path, NULL, -1, -1, err, sizeof(err));
	assert_non_null(p);
	p->id = 5;
	assert_int_equal(p->ops->rx_queues(p), 1);
	assert_int_equal(p->ops->rx_fd(p, 0), -1);
	assert_true(p->ops->rx_arm(p, 0));
	while (p->ops->rx_arm(p, 0) && rounds++ < 100)
		check_burst(p, ctx, f, 50, &next);
	assert_int_equal(next, 50);
	assert_false(p->ops->rx_arm(p, 0));
	assert_int_equal(p->ops->rx_burst(p, 0, &ctx->io, ctx->pkts, PKT_BURST), 0);
	assert_int_equal(atomic_load(&p->stats.rx_packets), 50);
	p->ops->describe(p, desc, sizeof(desc));
	assert_non_null(strstr(desc, "50 frames"));
	assert_non_null(strstr(desc, "done"));
	assert_non_null(strstr(desc, "replay.pcap"));
	/* A replay-only port takes no frames: counted, not lost silently. */
	p->ops->tx_burst(p, &ctx->io, (struct pkt *const[]){ &ctx->pkts[0] }, 1);
	assert_int_equal(atomic_load(&p->stats.drops[DROP_PORT_DOWN]), 1);
	p->ops->destroy(p);
	free(ctx);
}

/* Runts are dropped and counted; a record cut short by a snap length is replayed as recorded. */
static void test_pcap_replay_runt_truncated(void **state)
{
	static struct frame f[4], want[3];
	struct dp_ctx *ctx = zalloc64(sizeof(*ctx));
	const char *path = tmp_path("runt.pcap");
	uint32_t wire[4] = { 98, 10, 1000, 60 };
	char err[256] = "", desc[256];
	int next = 0;
	struct port *p;

	make_frame(&f[0], P_ICMP, 0, 98);
	make_frame(&f[1], P_ICMP, 1, 98);
	f[1].len = 10;
	make_frame(&f[2], P_UDP, 2, 1000);
	f[2].len = 96; /* captured with -s 96 */
	make_frame(&f[3], P_ARP, 3, 60);
	write_file(path, f, 4, DLT_EN10MB, wire);
	want[0] = f[0], want[1] = f[2], want[2] = f[3];
	p = pcap_port(path, NULL, -1, -1, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(check_burst(p, ctx, want, 3, &next), 3);
	assert_false(p->ops->rx_arm(p, 0));
	assert_int_equal(atomic_load(&p->stats.drops[DROP_RUNT]), 1);
	p->ops->describe(p, desc, sizeof(desc));
	assert_non_null(strstr(desc, "1 truncated"));
	p->ops->destroy(p);
	free(ctx);
}

/* loop=1: the file again and again, never done. */
static void test_pcap_loop(void **state)
{
	static struct frame f[MAX_FRAMES];
	struct dp_ctx *ctx = zalloc64(sizeof(*ctx));
	const char *path = tmp_path("loop.pcap");
	char err[256] = "", desc[256];
	int next = 0;
	struct port *p;

	replay_frames(f, 7);
	write_file(path, f, 7, DLT_EN10MB, NULL);
	p = pcap_port(path, NULL, 1, -1, err, sizeof(err));
	assert_non_null(p);
	while (next < 7 * 10)
		assert_true(check_burst(p, ctx, f, 7, &next) > 0);
	assert_true(p->ops->rx_arm(p, 0));
	p->ops->describe(p, desc, sizeof(desc));
	assert_non_null(strstr(desc, "replaying"));
	assert_non_null(strstr(desc, "passes"));
	p->ops->destroy(p);
	free(ctx);

	/* An empty file with loop=1 ends instead of spinning. */
	write_file(tmp_path("empty.pcap"), f, 0, DLT_EN10MB, NULL);
	ctx = zalloc64(sizeof(*ctx));
	p = pcap_port(tmp_path("empty.pcap"), NULL, 1, -1, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(p->ops->rx_burst(p, 0, &ctx->io, ctx->pkts, PKT_BURST), 0);
	assert_false(p->ops->rx_arm(p, 0));
	p->ops->destroy(p);
	free(ctx);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* pps=10: one frame now, none right after, about one per 100 ms later. */
static void test_pcap_pps(void **state)
{
	static struct frame f[MAX_FRAMES];
	struct dp_ctx *ctx = zalloc64(sizeof(*ctx));
	const char *path = tmp_path("pps.pcap");
	char err[256] = "";
	int next = 0;
	unsigned got;
	uint64_t t0, slept;
	struct port *p;

	replay_frames(f, 20);
	write_file(path, f, 20, DLT_EN10MB, NULL);
	p = pcap_port(path, NULL, 0, 10, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(check_burst(p, ctx, f, 20, &next), 1);
	assert_int_equal(check_burst(p, ctx, f, 20, &next), 0);
	assert_true(p->ops->rx_arm(p, 0)); /* frames remain: keep polling */
	t0 = now_ms();
	sleep_ms(250);
	slept = now_ms() - t0;
	got = check_burst(p, ctx, f, 20, &next);
	/* 10 frames a second: 2 or 3 in 250 ms; a loaded machine may sleep longer, and a frame more is due each 100 ms. */
	assert_true(got >= 1 && got <= slept / 100 + 2);
	p->ops->destroy(p);
	free(ctx);
}

/* write=: every frame of every tx burst, whole, in order; counted. */
static void test_pcap_write(void **state)
{
	const char *path = tmp_path("write.pcap");
	static struct frame back[MAX_FRAMES];
	struct dp_ctx *ctx = zalloc64(sizeof(*ctx));
	char err[256] = "", desc[256];
	struct mix m;
	struct port *p = pcap_port(NULL, path, -1, -1, err, sizeof(err));
	struct stat st;

	assert_non_null(p);
	assert_int_equal(p->ops->rx_queues(p), 0);
	assert_false(p->ops->rx_arm(p, 0));
	make_mix(&m);
	p->ops->tx_burst(p, &ctx->io, m.ps, 4);
	p->ops->tx_burst(p, &ctx->io, m.ps + 1, 2);
	p->ops->tick(p);
	assert_int_equal(read_back(path, back, MAX_FRAMES, NULL), 6); /* flushed by the tick */
	assert_int_equal(atomic_load(&p->stats.tx_packets), 6);
	assert_int_equal(atomic_load(&p->stats.tx_bytes), 98 + 300 + 60 + 1514 + 300 + 60);
	p->ops->describe(p, desc, sizeof(desc));
	assert_non_null(strstr(desc, "write"));
	assert_non_null(strstr(desc, "6 frames"));
	p->ops->destroy(p);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(read_back(path, back, MAX_FRAMES, NULL), 6);
	for (int i = 0; i < 4; i++)
		assert_same(&back[i], &m.f[i]);
	assert_same(&back[4], &m.f[1]);
	assert_same(&back[5], &m.f[2]);
	free(ctx);
}

/* Replay -> switch -> record, with a capture on the way: the three files agree. */
static void test_pcap_through_switch(void **state)
{
	static struct frame f[MAX_FRAMES], back[MAX_FRAMES];
	struct vswitch *sw = malloc(sizeof(*sw));
	struct dp_ctx *ctx = zalloc64(sizeof(*ctx));
	const char *in = tmp_path("sw_in.pcap"), *out = tmp_path("sw_out.pcap"), *cap = tmp_path("sw_cap.pcap");
	char err[256] = "";
	struct capture_stats st;
	struct port *r, *w;
	struct capture *c;
	int n = 0, rounds = 0;

	replay_frames(f, 40);
	write_file(in, f, 40, DLT_EN10MB, NULL);
	assert_int_equal(switch_init(sw, SWITCH_LEARNING, 300, 4096), 0);
	r = pcap_port(in, NULL, -1, -1, err, sizeof(err));
	w = pcap_port(NULL, out, -1, -1, err, sizeof(err));
	assert_non_null(r);
	assert_non_null(w);
	r->id = 0;
	w->id = 1;
	switch_port_set(sw, 0, r);
	switch_port_set(sw, 1, w);
	c = open_capture(cap, "udp", CAPTURE_TX, 0);
	atomic_store_explicit(&w->capture, c, memory_order_release);
	while (r->ops->rx_arm(r, 0) && rounds++ < 100) {
		unsigned got = r->ops->rx_burst(r, 0, &ctx->io, ctx->pkts, PKT_BURST);

		if (got)
			dp_forward(sw, ctx, r, ctx->pkts, got);
		r->ops->rx_done(r, 0, &ctx->io);
	}
	atomic_store(&w->capture, NULL);
	assert_int_equal(capture_close(c, &st, err, sizeof(err)), 0);
	r->ops->destroy(r);
	w->ops->destroy(w);
	assert_int_equal(read_back(out, back, MAX_FRAMES, NULL), 40);
	for (int i = 0; i < 40; i++)
		assert_same(&back[i], &f[i]);
	assert_int_equal(st.captured, 13); /* i % 3 == 1 for i < 40 */
	assert_int_equal(read_back(cap, back, MAX_FRAMES, NULL), 13);
	for (int i = 1; i < 40; i += 3)
		assert_same(&back[n++], &f[i]);
	switch_destroy(sw);
	free(sw);
	free(ctx);
}

/* Refusals, each with a one-line reason. */
static void test_pcap_errors(void **state)
{
	static struct frame f[2];
	const char *raw = tmp_path("raw.pcap"), *ok = tmp_path("ok.pcap"), *fifo = tmp_path("rfifo");
	char err[256] = "";

	assert_null(pcap_port(tmp_path("missing.pcap"), NULL, -1, -1, err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
	replay_frames(f, 2);
	write_file(raw, f, 2, DLT_RAW, NULL);
	assert_null(pcap_port(raw, NULL, -1, -1, err, sizeof(err)));
	assert_non_null(strstr(err, "not Ethernet"));
	assert_null(pcap_port(NULL, NULL, -1, -1, err, sizeof(err)));
	assert_non_null(strstr(err, "read="));
	assert_null(pcap_port(NULL, ok, -1, 100, err, sizeof(err)));
	assert_non_null(strstr(err, "need read="));
	write_file(ok, f, 2, DLT_EN10MB, NULL);
	assert_null(pcap_port(ok, NULL, 2, -1, err, sizeof(err)));
	assert_non_null(strstr(err, "loop"));
	assert_null(pcap_port(ok, ok, -1, -1, err, sizeof(err)));
	assert_non_null(strstr(err, "same file"));
	assert_int_equal(read_back(ok, NULL, 0, NULL), 2); /* and the file is intact */
	assert_null(pcap_port(ok, dir, -1, -1, err, sizeof(err)));
	assert_null(pcap_port(dir, NULL, -1, -1, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_null(pcap_port(fifo, NULL, -1, -1, err, sizeof(err))); /* and did not block */
	assert_non_null(strstr(err, "not a regular file"));
	unlink(fifo);
	/* An unreadable file: not a pcap at all. */
	{
		FILE *g = fopen(tmp_path("junk.pcap"), "w");

		fputs("this is not a capture file, just text long enough\n", g);
		fclose(g);
		assert_null(pcap_port(tmp_path("junk.pcap"), NULL, -1, -1, err, sizeof(err)));
		assert_non_null(strstr(err, "junk.pcap"));
	}
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/vsw-test-capture.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_filter_rx),
		cmocka_unit_test(test_capture_directions),
		cmocka_unit_test(test_capture_count),
		cmocka_unit_test(test_capture_errors),
		cmocka_unit_test(test_capture_concurrent),
		cmocka_unit_test(test_switch_hooks),
		cmocka_unit_test(test_pcap_replay),
		cmocka_unit_test(test_pcap_replay_runt_truncated),
		cmocka_unit_test(test_pcap_loop),
		cmocka_unit_test(test_pcap_pps),
		cmocka_unit_test(test_pcap_write),
		cmocka_unit_test(test_pcap_through_switch),
		cmocka_unit_test(test_pcap_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
