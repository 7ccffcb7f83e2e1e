/* vsw-bench.c - load generator and sink on vsw's virtio-net front end: throughput, loss, round-trip latency. */
#include <assert.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "frontend/tcp_stream.h"
#include "lib/cycles.h"
#include "packet/csum.h"
#include "packet/vnet_hdr.h"
#include "vsw/virtio_net.h"
#include "vsw/virtio_spec.h"
#include "vsw/vuser.h"

/*
 * Two front-end ports, A and B, attached to a switch (or any two vhost-user
 * back ends that join them).  One thread:
 *
 *   throughput:  A sends UDP frames (N flows) flat out or at --rate, B counts
 *                them; loss = sent - received after a drain, by sequence number;
 *                --dst-flows N: up to 16 M flows as testpmd's flowgen makes
 *                them, each frame rewritten in six bytes (struct dst_flows);
 *                a frame A's full ring refused is sent as it is next time
 *                Fixed buffers (vuser_config.fixed) unless --copy: each
 *                buffer stays behind its descriptor and keeps its frame, so
 *                a frame costs the generator its stamp and ring entries,
 *                not a copy and a descriptor (the generator must outrun
 *                the switch it measures, on a CPU of its own);
 *                --in-flight N: a closed loop, as testpmd's `start
 *                tx_first` makes one: at most N frames sent and not yet
 *                received, so the switch finds at most N on A's ring (a
 *                light load at one burst, full rings when N is over what
 *                the rings hold)
 *   ping-pong:   A sends one frame, B answers it, A receives the answer:
 *                round-trip percentiles
 *
 * B first sends one broadcast so a learning switch knows where B is.
 *
 * At scale (--idle FMT --idle-count N): N more ports on sockets FMT % i,
 * small rings (--idle-queue-size, default 64) and a small memfd each,
 * opened before the run and kept idle (a switch with N + 2 ports, two of
 * them busy), or put to work:
 *
 *   --flood          A sends broadcasts; B and every idle port are drained
 *                    in turn and counted (min and max per port)
 *   --flood-rate R   during a throughput run, the first idle port sends R
 *                    broadcasts per second (nobody drains the others)
 *   --hold           connect everything, print one line, wait for SIGTERM
 *                    (a switch at scale for a control-plane benchmark)
 *
 * TSO (--tso): A and B ack CSUM + HOST_TSO4 and GUEST_CSUM + GUEST_TSO4
 * (B only the first two with --no-guest-tso) and A sends one TCP/IPv4
 * stream of 64 KiB frames (--size, default 45 segments of --mss 1448
 * bytes) with a virtio-net header asking for the checksum and the
 * segmentation (frontend/tcp_stream.h), as a guest's TCP stack with TSO
 * does.  B checks what arrives, whole sends or the switch's segments, and
 * counts payload bytes: Gbit/s of payload beside frames per second.  As a
 * TCP sender keeps to its peer's window, A keeps at most --window sends
 * in flight (default 4: B's 256 receive buffers of 4 KiB hold 16 sends,
 * and a burst of 8 joined sends keeps its buffers until the next one), so the
 * switch moves frames instead of dropping them for want of rx buffers; in
 * flight bytes that make no progress for 50 ms are written off as lost.
 */

#define BURST 32
#define STALL_NS 50000000ull	/* what is out and made no progress this long is written off (--tso, --in-flight) */
#define MAX_FRAME 9018

struct opts {
	const char *a, *b;
	unsigned size, flows, seconds, samples;
	double rate;
	bool pingpong, json, packed, no_mrg, in_order, server;
	unsigned queue_size;
	int warmup;			/* ping-pong: rounds not counted; -1: two rings' worth */
	unsigned gap_us;		/* ping-pong: idle time before each ping (a sparse request stream) */
	const char *idle_fmt;		/* printf pattern of the idle ports' sockets (one %u) */
	unsigned idle_count, idle_first, idle_queue_size;
	bool flood, hold;
	double flood_rate;		/* throughput: broadcasts per second from the first idle port */
	bool tso, no_guest_tso;		/* --tso: 64 KiB TCP sends with a header; B takes them segmented */
	unsigned mss;
	unsigned verify_every;		/* --tso: checksums and payload of one frame received in this many */
	unsigned window;		/* --tso: sends in flight at most (0: open loop) */
	unsigned lead_in;		/* --tso, throughput: seconds of traffic before the counted ones */
	unsigned dst_flows;		/* throughput: flowgen's flows (10.253.0.0 + i), 0: --flows instead */
	bool copy;			/* --copy: throughput through the copying bursts, not fixed buffers */
	unsigned in_flight;		/* throughput: frames sent and not yet received at most (0: open loop) */
	bool fixed;			/* A and B opened with fixed buffers (throughput, not --copy) */
};

/* The idle ports (--idle), opened after A and B. */
static struct vuser **idle;
static unsigned nidle;

static volatile sig_atomic_t stop;

static void on_signal(int s) { stop = 1; }

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Locally administered; A's flows vary the last two bytes, which B's prefix never shares. */
static const uint8_t MAC_A[6] = { 0x02, 0x76, 0x73, 0x0a, 0x00, 0x00 };
static const uint8_t MAC_B[6] = { 0x02, 0x76, 0x73, 0x0b, 0x00, 0x00 };
static const uint8_t MAC_C[6] = { 0x02, 0x76, 0x73, 0x0c, 0x00, 0x00 };	/* the first idle port's broadcasts */

/*
 * An Ethernet/IPv4/UDP frame of @size bytes (no FCS) for flow @flow:
 * the flow picks the source MAC, IP and UDP port.  Payload: sequence and
 * send time, 8 bytes each, at offset 42.
 */
static void frame_build(uint8_t *f, unsigned size, const uint8_t dst[6], const uint8_t src[6], unsigned flow)
{
	unsigned ip_len = size - 14;

	memset(f, 0, size);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[10] = (uint8_t)(flow >> 8);
	f[11] = (uint8_t)flow;
	f[12] = 0x08;
	f[13] = 0x00;
	f[14] = 0x45;
	f[16] = (uint8_t)(ip_len >> 8);
	f[17] = (uint8_t)ip_len;
	f[22] = 64;
	f[23] = 17;
	/* 198.18.0.0/15, the benchmarking range (RFC 2544): never routed anywhere */
	f[26] = 198, f[27] = 18, f[28] = (uint8_t)(flow >> 8), f[29] = (uint8_t)flow;
	f[30] = 198, f[31] = 19, f[32] = 0, f[33] = 1;
	{
		uint16_t c = csum_ipv4_hdr(f + 14, 20);

		memcpy(f + 24, &c, 2); /* memory byte order, as csum.h returns it */
	}
	f[34] = (uint8_t)((1024 + flow) >> 8), f[35] = (uint8_t)(1024 + flow);
	f[36] = 0x04, f[37] = 0xd2;
	f[38] = (uint8_t)((ip_len - 20) >> 8), f[39] = (uint8_t)(ip_len - 20);
}

static void frame_stamp(uint8_t *f, uint64_t seq, uint64_t t)
{
	memcpy(f + 42, &seq, 8);
	memcpy(f + 50, &t, 8);
}

/*
 * --dst-flows N: the flows testpmd's flowgen engine sends (DPDK 22.11,
 * app/test-pmd/flowgen.c), so that a rule set treats the frames of both
 * generators alike: 10.254.0.0 port 1000 -> 10.253.0.0 + i port 1001 for
 * flow i < N (a million flows reach 11.12.66.63), TTL 64, UDP checksum 0.
 *
 * Frame to frame only the destination address and the IP header checksum
 * change, so a frame is a template with those six bytes rewritten: the
 * checksum is the folded sum of the header's other words (constant, summed
 * once) plus the new address's two words.  flowgen builds every frame anew
 * and goes through its flows in order 0, 1, 2, ...; here flow i + 1 is the
 * one @stride after flow i, a stride coprime with N near N / 1.618, so
 * every flow comes once every N frames and frames in a row are far apart
 * in the address space (no run of neighbours for a cache or a prefix tree
 * to exploit).
 */
struct dst_flows {
	unsigned n, stride, next;	/* flows; step; the flow of the next frame */
	uint32_t base;			/* 10.253.0.0, host order */
	uint32_t hdr_sum;		/* the IP header's words but the destination and the checksum, unfolded */
};

#define DST_FLOWS_MAX (1u << 24)	/* 10.253.0.0 + 2^24 - 1 = 11.252.255.255, still inside 10.0.0.0/7 */

static unsigned gcd(unsigned a, unsigned b)
{
	while (b) {
		unsigned t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* The template of @size bytes in @f, and the state that rewrites it for each of @n flows. */
static void dst_flows_init(struct dst_flows *d, uint8_t *f, unsigned size, unsigned n)
{
	frame_build(f, size, MAC_B, MAC_A, 0);
	f[26] = 10, f[27] = 254, f[28] = 0, f[29] = 0;
	memset(f + 30, 0, 4);
	memset(f + 24, 0, 2);
	f[34] = 1000 >> 8, f[35] = 1000 & 0xff;
	f[36] = 1001 >> 8, f[37] = 1001 & 0xff;
	d->n = n;
	d->next = 0;
	d->base = 10u << 24 | 253u << 16;
	d->hdr_sum = 0;
	for (unsigned i = 0; i < 20; i += 2)
		d->hdr_sum += (uint32_t)f[14 + i] << 8 | f[15 + i];
	d->stride = (unsigned)((double)n * 0.6180339887);
	while (gcd(d->stride, n) != 1)
		d->stride++;
}

/* Rewrite @f (from dst_flows_init()) for the next flow. */
static void dst_flows_write(struct dst_flows *d, uint8_t *f)
{
	unsigned flow = d->next;
	uint32_t dst = d->base + flow, sum = d->hdr_sum + (dst >> 16) + (dst & 0xffff);

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (uint16_t)~(sum + (sum >> 16));
	f[24] = (uint8_t)(sum >> 8), f[25] = (uint8_t)sum;
	f[30] = (uint8_t)(dst >> 24), f[31] = (uint8_t)(dst >> 16), f[32] = (uint8_t)(dst >> 8), f[33] = (uint8_t)dst;
	d->next += d->stride;
	if (d->next >= d->n)
		d->next -= d->n;
}

/* Our invariant: the incremental checksum of the last flow's frame is the one csum_ipv4_hdr() gives. */
static bool dst_flows_sum_ok(const struct dst_flows *d, const uint8_t *tmpl)
{
	struct dst_flows last = *d;
	uint8_t f[42];
	uint16_t want;

	memcpy(f, tmpl, sizeof(f));
	last.next = d->n - 1;
	dst_flows_write(&last, f);
	want = csum_ipv4_hdr(f + 14, 20);
	return memcmp(&want, f + 24, 2) == 0;
}

static struct vuser *open_port_sized(const struct opts *o, const char *path, unsigned queue_size, char *err,
				     size_t errlen)
{
	struct vuser_config c = {
		.path = path, .server = o->server, .packed = o->packed, .no_mrg_rxbuf = o->no_mrg,
		.in_order = o->in_order,
		.queue_size = queue_size, .mtu = o->size > 1500 ? o->size : 1500, .connect_timeout_ms = 10000,
		.tso4 = o->tso, .no_guest_offload = o->no_guest_tso && path == o->b,
		.fixed = o->fixed && (path == o->a || path == o->b),
	};

	return vuser_open(&c, err, errlen);
}

static struct vuser *open_port(const struct opts *o, const char *path, char *err, size_t errlen)
{
	return open_port_sized(o, path, o->queue_size, err, errlen);
}

/* One burst either way A and B were opened: the copying bursts, or through fixed buffers (copied in). */
static unsigned port_tx(const struct opts *o, struct vuser *u, const struct vuser_frame *f, unsigned n)
{
	uint8_t *buf[BURST];
	unsigned k;

	if (!o->fixed)
		return vuser_tx_burst(u, 0, f, n);
	k = vuser_fixed_tx_bufs(u, 0, buf, n < BURST ? n : BURST);
	for (unsigned i = 0; i < k; i++)
		memcpy(buf[i], f[i].data, f[i].len);
	return k ? vuser_fixed_tx_send(u, 0, k, f[0].len) : 0;	/* one length: the callers send one frame */
}

static unsigned port_rx(const struct opts *o, struct vuser *u, struct vuser_frame *f, unsigned max)
{
	return o->fixed ? vuser_fixed_rx(u, 0, f, max) : vuser_rx_burst(u, 0, f, max);
}

/* The --idle ports, on FMT % (first + i); 0, or 1 with a message. */
static int open_idle(const struct opts *o)
{
	char path[256], err[256];

	idle = calloc(o->idle_count ? o->idle_count : 1, sizeof(*idle));
	if (!idle)
		return 1;
	for (nidle = 0; nidle < o->idle_count && !stop; nidle++) {
		const char *at = strstr(o->idle_fmt, "%u");

		/* FMT is the user's: its %u filled in by hand, never used as a format. */
		snprintf(path, sizeof(path), "%.*s%u%s", (int)(at - o->idle_fmt), o->idle_fmt, o->idle_first + nidle,
			 at + 2);
		idle[nidle] = open_port_sized(o, path, o->idle_queue_size, err, sizeof(err));
		if (!idle[nidle]) {
			fprintf(stderr, "vsw-bench: idle port %u, %s: %s\n", nidle, path, err);
			return 1;
		}
	}
	return stop;
}

static void close_idle(void)
{
	for (unsigned i = 0; i < nidle; i++)
		vuser_close(idle[i]);
	free(idle);
}

/* Each port holds a socket, a memfd and four eventfds: a thousand need more than the usual 1024. */
static void raise_fd_limit(void)
{
	struct rlimit lim;

	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
		lim.rlim_cur = lim.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &lim) < 0)
			fprintf(stderr, "vsw-bench: cannot raise the open file limit: %s\n", strerror(errno));
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int run_pingpong(const struct opts *o, struct vuser *a, struct vuser *b)
{
	uint64_t *rtt = calloc(o->samples, sizeof(*rtt));
	uint8_t ping[MAX_FRAME], pong[MAX_FRAME];
	struct vuser_frame f;
	unsigned got = 0, lost = 0;

	frame_build(ping, o->size, MAC_B, MAC_A, 0);
	frame_build(pong, o->size, MAC_A, MAC_B, 0);
	/*
	 * Warm-up rounds first, not counted: until every buffer of both rings
	 * went round once, a back end may still be taking first-touch page
	 * faults on guest memory (vswd maps it on demand, as DPDK does), which
	 * is start-up, not the steady state the percentiles describe.
	 */
	unsigned warmup = o->warmup >= 0 ? (unsigned)o->warmup : 2 * o->queue_size;

	for (unsigned i = 0; i < warmup + o->samples && !stop; i++) {
		uint64_t t0 = now_ns(), deadline = t0 + 1000000000ull;
		struct vuser_frame out = { ping, o->size }, back = { pong, o->size };
		bool ok = false;

		if (o->gap_us) {
			struct timespec ts = { o->gap_us / 1000000, (long)(o->gap_us % 1000000) * 1000 };

			while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop)
				;
			t0 = now_ns();
			deadline = t0 + 1000000000ull;
		}
		frame_stamp(ping, i, t0);
		if (vuser_tx_burst(a, 0, &out, 1) != 1)
			break;
		while (now_ns() < deadline && !ok)
			ok = vuser_rx_burst(b, 0, &f, 1) == 1;
		if (ok) {
			ok = false;
			vuser_tx_burst(b, 0, &back, 1);
			while (now_ns() < deadline && !ok)
				ok = vuser_rx_burst(a, 0, &f, 1) == 1;
		}
		if (i < warmup)
			continue;
		if (ok)
			rtt[got++] = now_ns() - t0;
		else
			lost++;
	}
	qsort(rtt, got, sizeof(*rtt), cmp_u64);
#define PCT(p) (got ? rtt[(size_t)((got - 1) * (p))] / 1000.0 : 0.0)
	if (o->json)
		printf("{\"mode\":\"pingpong\",\"size\":%u,\"warmup\":%u,\"gap_us\":%u,\"samples\":%u,\"lost\":%u,"
		       "\"p50_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,\"min_us\":%.2f,\"max_us\":%.2f}\n",
		       o->size, warmup, o->gap_us, got, lost, PCT(0.5), PCT(0.99), PCT(0.999), PCT(0.0), PCT(1.0));
	else
		printf("pingpong %u B%s: %u samples, %u lost; round trip p50 %.2f us, p99 %.2f us, p99.9 %.2f us "
		       "(min %.2f, max %.2f)\n",
		       o->size, o->gap_us ? ", sparse" : "", got, lost, PCT(0.5), PCT(0.99), PCT(0.999), PCT(0.0),
		       PCT(1.0));
#undef PCT
	free(rtt);
	return got ? 0 : 1;
}

/* A token bucket of frames at @rate per second (0: none), holding at most @cap. */
struct pace {
	double rate, credit, cap;
	uint64_t last;
};

/* At time @t: how many frames (up to @most) may go now; pace_sent() takes back what did. */
static unsigned pace_want(struct pace *p, uint64_t t, unsigned most)
{
	if (p->rate <= 0)
		return most;
	p->credit += (double)(t - p->last) * p->rate / 1e9;
	p->last = t;
	if (p->credit > p->cap)
		p->credit = p->cap;
	return p->credit < most ? (unsigned)p->credit : most;
}

static void pace_sent(struct pace *p, unsigned n)
{
	p->credit -= n;
}

/* Frame @f (A's template, or the frame it last held) made frame number @seq: its flow, then its stamp. */
static void frame_next(const struct opts *o, struct dst_flows *df, uint8_t *f, uint64_t seq)
{
	if (o->dst_flows)
		dst_flows_write(df, f);
	else if (o->flows > 1)
		frame_build(f, o->size, MAC_B, MAC_A, (unsigned)(seq % o->flows));
	frame_stamp(f, seq, 0);
}

/*
 * --in-flight: the frames still out after @seq were sent: those after the
 * newest stamp B saw (@expect: the switch keeps A's order, so older ones
 * are lost) or after the last write-off (@floor_seq).
 */
static inline uint64_t frames_out(uint64_t seq, uint64_t expect, uint64_t floor_seq)
{
	return seq - (expect > floor_seq ? expect : floor_seq);
}

/*
 * A sends flat out (or at --rate), B counts what arrives and checks the
 * sequence stamps.  Rates over the counted window (after --lead-in);
 * loss and order over the whole run.  Who set the pace: the TSC cycles of
 * the loop's rounds that moved a frame (busy: the generator's work, per
 * frame B received and per such round), and of the rounds in which A's
 * ring had no room for the whole burst (full: the generator waited for
 * the switch).  Full near 0: the switch kept up, and the generator may be
 * what limits the rate.
 */
static int run_throughput(const struct opts *o, struct vuser *a, struct vuser *b)
{
	static uint8_t frames[BURST][MAX_FRAME];
	struct vuser_frame out[BURST], in[BURST];
	uint64_t tsc_hz = cycles_calibrate(10);		/* sleeps 10 ms: before the clock starts */
	uint64_t seq = 0, rx = 0, rx_bytes = 0, start = now_ns(), next_report = start + 1000000000ull;
	uint64_t counted_at = start + (uint64_t)o->lead_in * 1000000000ull, t_count = start;
	uint64_t end = counted_at + (uint64_t)o->seconds * 1000000000ull, last_tx = 0, last_rx = 0, out_of_order = 0;
	uint64_t expect = 0, flooded = 0, base_tx = 0, base_rx = 0, base_bytes = 0, t_end;
	uint64_t busy = 0, busy_rounds = 0, full = 0, c_last = cycles_now(), c_start = c_last;
	/*
	 * The loop's clock: nanoseconds from the cycle counter it reads anyway
	 * (a vDSO clock_gettime() a round was 5 % of the generator's time at
	 * full rings), as a 32.32 fixed-point rate; the counted window's ends
	 * come from the real clock.
	 */
	uint64_t ns_q32 = (uint64_t)(((unsigned __int128)1000000000u << 32) / tsc_hz);
	struct pace pace = { o->rate, 0, BURST * 4, start }, flood_pace = { o->flood_rate, 0, BURST, start };
	unsigned second = 0, ready = 0;	/* slot[0..ready): built and stamped, refused so far */
	uint8_t *slot[BURST];		/* the buffers behind out[], in the same order */
	bool counting = !o->lead_in, moved = false, short_tx = false;
	/* --in-flight: frames_out()'s mark, moved when all were out and none came for STALL_NS (lost at the tail). */
	uint64_t floor_seq = 0, stalls = 0, progress_at = start;
	unsigned max_in_flight = 0;
	static uint8_t bcast[MAX_FRAME];
	struct vuser_frame fl[BURST];
	struct dst_flows df = { 0 };

	for (unsigned i = 0; i < BURST; i++) {
		if (o->dst_flows)
			dst_flows_init(&df, frames[i], o->size, o->dst_flows);
		else
			frame_build(frames[i], o->size, MAC_B, MAC_A, 0);
		slot[i] = frames[i];
		out[i] = (struct vuser_frame){ frames[i], o->size };
		fl[i] = (struct vuser_frame){ bcast, o->size };
	}
	assert(!o->dst_flows || dst_flows_sum_ok(&df, frames[0]));
	vuser_fixed_tx_fill(a, 0, frames[0], o->size, NULL);	/* the template; nothing without fixed buffers */
	frame_build(bcast, o->size, (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, MAC_C, 0);
	while (!stop) {
		uint64_t c = cycles_now(), t = start + (uint64_t)((unsigned __int128)(c - c_start) * ns_q32 >> 32);
		unsigned want, n, got;

		if (counting) {
			busy += moved ? c - c_last : 0;
			busy_rounds += moved;
			full += short_tx ? c - c_last : 0;
		}
		c_last = c;
		if (t >= end)
			break;
		if (!counting && t >= counted_at) {
			counting = true;
			t_count = now_ns();
			base_tx = seq;
			base_rx = rx;
			base_bytes = rx_bytes;
		}
		want = pace_want(&pace, t, BURST);
		if (o->in_flight) {
			uint64_t out_now = frames_out(seq, expect, floor_seq);

			if (out_now >= o->in_flight && t - progress_at > STALL_NS) {
				floor_seq = seq;	/* written off: the loop starts again */
				progress_at = t;
				stalls++;
				out_now = 0;
			}
			out_now = out_now < o->in_flight ? out_now : o->in_flight;
			if (want > o->in_flight - out_now)
				want = o->in_flight - (unsigned)out_now;
		}
		if (o->fixed) {
			/* Free buffers still hold their last frame: only what changes is written. */
			uint8_t *fb[BURST];
			unsigned k = want ? vuser_fixed_tx_bufs(a, 0, fb, want) : 0;

			for (unsigned i = 0; i < k; i++)
				frame_next(o, &df, fb[i], seq + i);
			n = k ? vuser_fixed_tx_send(a, 0, k, o->size) : 0;
			short_tx = n < want;
			goto sent;
		}
		/*
		 * Only frames not built yet are built: those A's ring refused wait
		 * as they are, their flows and stamps still next in order, so a
		 * full ring costs no rewrites.
		 */
		for (unsigned i = ready; i < want; i++)
			frame_next(o, &df, slot[i], seq + i);
		ready = want > ready ? want : ready;
		n = want ? vuser_tx_burst(a, 0, out, want) : 0;
		short_tx = n < want;
		if (n && ready > n) {
			/* The sent buffers to the back, the refused ones to the front. */
			uint8_t *sent[BURST];

			memcpy(sent, slot, n * sizeof(*slot));
			memmove(slot, slot + n, (BURST - n) * sizeof(*slot));
			memcpy(slot + BURST - n, sent, n * sizeof(*slot));
			for (unsigned i = 0; i < BURST; i++)
				out[i].data = slot[i];
		}
		ready -= n;
sent:
		seq += n;
		pace_sent(&pace, n);
		if (o->in_flight) {
			uint64_t out_now = frames_out(seq, expect, floor_seq);

			if (out_now > max_in_flight)
				max_in_flight = (unsigned)(out_now < UINT_MAX ? out_now : UINT_MAX);
		}
		if (o->flood_rate > 0 && nidle) {
			unsigned k = pace_want(&flood_pace, t, BURST);

			if (k) {
				k = vuser_tx_burst(idle[0], 0, fl, k);
				flooded += k;
				pace_sent(&flood_pace, k);
			}
		}
		got = port_rx(o, b, in, BURST);
		for (unsigned i = 0; i < got; i++) {
			uint64_t s;

			if (in[i].len >= 50) {
				memcpy(&s, in[i].data + 42, 8);
				out_of_order += s < expect;
				expect = s + 1;
			}
			rx_bytes += in[i].len;
		}
		rx += got;
		moved = n || got;
		if (got)
			progress_at = t;
		if (t >= next_report) {
			if (!o->json)
				printf("%3u s: tx %.3f Mpps, rx %.3f Mpps\n", ++second, (seq - last_tx) / 1e6,
				       (rx - last_rx) / 1e6);
			fflush(stdout);
			last_tx = seq;
			last_rx = rx;
			next_report += 1000000000ull;
		}
	}
	t_end = now_ns();
	/* Drain: what is still in flight arrives within a few milliseconds. */
	for (uint64_t d = now_ns() + 200000000ull; now_ns() < d;)
		rx += port_rx(o, b, in, BURST);
	{
		double secs = (double)(t_end - t_count) / 1e9, window = (double)tsc_hz * secs;
		uint64_t lost = seq > rx ? seq - rx : 0, tx_c = seq - base_tx, rx_c = rx - base_rx;
		double cpf = rx_c ? (double)busy / (double)rx_c : 0.0;
		double per_round = busy_rounds ? (double)rx_c / (double)busy_rounds : 0.0;

		if (o->json)
			printf("{\"mode\":\"throughput\",\"size\":%u,\"flows\":%u,\"dst_flows\":%u,\"stride\":%u,"
			       "\"seconds\":%.3f,\"lead_in\":%u,\"tx\":%" PRIu64 ",\"rx\":%" PRIu64 ",\"lost\":%" PRIu64
			       ",\"out_of_order\":%" PRIu64 ",\"tx_mpps\":%.4f,\"rx_mpps\":%.4f,\"rx_gbps\":%.4f,"
			       "\"tx_all\":%" PRIu64 ",\"rx_all\":%" PRIu64 ",\"busy_cycles\":%" PRIu64
			       ",\"busy_share\":%.4f,\"cycles_per_rx\":%.1f,\"rx_per_busy_round\":%.2f"
			       ",\"tx_full_share\":%.4f,\"tsc_hz\":%" PRIu64 ",\"idle\":%u,\"flooded\":%" PRIu64
			       ",\"buffers\":\"%s\",\"in_flight\":%u,\"max_in_flight\":%u,\"stalls\":%" PRIu64 "}\n",
			       o->size, o->flows, o->dst_flows, df.stride, secs, o->lead_in, tx_c, rx_c, lost, out_of_order,
			       tx_c / secs / 1e6, rx_c / secs / 1e6, (rx_bytes - base_bytes) * 8 / secs / 1e9, seq, rx,
			       busy, busy / window, cpf, per_round, full / window, tsc_hz, nidle, flooded,
			       o->fixed ? "fixed" : "copy", o->in_flight, max_in_flight, stalls);
		else {
			printf("summary: %u B, %u flows, %.1f s: tx %" PRIu64 " (%.3f Mpps), rx %" PRIu64
			       " (%.3f Mpps, %.3f Gbit/s), lost %" PRIu64 " (%.4f %%), out of order %" PRIu64 "\n",
			       o->size, o->dst_flows ? o->dst_flows : o->flows, secs, tx_c, tx_c / secs / 1e6, rx_c,
			       rx_c / secs / 1e6, (rx_bytes - base_bytes) * 8 / secs / 1e9, lost,
			       seq ? 100.0 * (double)lost / (double)seq : 0.0, out_of_order);
			printf("generator (%s buffers): busy %.0f %% of the window, %.0f cycles per frame received (%.1f "
			       "frames a busy round); A's ring full %.0f %% of the window\n",
			       o->fixed ? "fixed" : "copying", 100 * busy / window, cpf, per_round, 100 * full / window);
			if (o->in_flight)
				printf("in flight: at most %u frames, %u reached, %" PRIu64 " write-offs after 50 ms "
				       "without progress\n", o->in_flight, max_in_flight, stalls);
		}
	}
	return rx ? 0 : 1;
}

/* Receive what is there on port @u; returns the frames. */
static unsigned drain(struct vuser *u)
{
	struct vuser_frame in[BURST];
	unsigned n, got = 0;

	while ((n = vuser_rx_burst(u, 0, in, BURST)) > 0 && got < 4 * BURST)
		got += n;
	return got;
}

/* A floods broadcasts (flat out or at --rate); B and the idle ports are drained in turn. */
static int run_flood(const struct opts *o, struct vuser *a, struct vuser *b)
{
	static uint8_t frame[MAX_FRAME];
	struct vuser_frame out[BURST];
	unsigned nrx = 1 + nidle;
	uint64_t *got = calloc(nrx, sizeof(*got)), tx = 0, rx = 0, start = now_ns();
	uint64_t end = start + (uint64_t)o->seconds * 1000000000ull, min = UINT64_MAX, max = 0;
	struct pace pace = { o->rate, 0, BURST * 4, start };
	double secs;

	if (!got)
		return 1;
	frame_build(frame, o->size, (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, MAC_A, 0);
	for (unsigned i = 0; i < BURST; i++)
		out[i] = (struct vuser_frame){ frame, o->size };
	while (!stop) {
		uint64_t t = now_ns();
		unsigned want;

		if (t >= end)
			break;
		want = pace_want(&pace, t, BURST);
		if (want) {
			unsigned n = vuser_tx_burst(a, 0, out, want);

			tx += n;
			pace_sent(&pace, n);
		}
		for (unsigned r = 0; r < nrx; r++)
			got[r] += drain(r ? idle[r - 1] : b);
	}
	for (uint64_t d = now_ns() + 200000000ull; now_ns() < d;)
		for (unsigned r = 0; r < nrx; r++)
			got[r] += drain(r ? idle[r - 1] : b);
	secs = (double)(now_ns() - start) / 1e9 - 0.2;
	for (unsigned r = 0; r < nrx; r++) {
		rx += got[r];
		min = got[r] < min ? got[r] : min;
		max = got[r] > max ? got[r] : max;
	}
	if (o->json)
		printf("{\"mode\":\"flood\",\"size\":%u,\"seconds\":%.3f,\"receivers\":%u,\"tx\":%" PRIu64
		       ",\"rx\":%" PRIu64 ",\"rx_min\":%" PRIu64 ",\"rx_max\":%" PRIu64
		       ",\"tx_pps\":%.1f,\"rx_pps\":%.1f}\n",
		       o->size, secs, nrx, tx, rx, min, max, tx / secs, rx / secs);
	else
		printf("flood %u B to %u ports, %.1f s: sent %" PRIu64 " (%.0f/s), received %" PRIu64
		       " copies (%.0f/s), per port %" PRIu64 " .. %" PRIu64 "\n",
		       o->size, nrx, secs, tx, tx / secs, rx, rx / secs, min, max);
	free(got);
	return tx && rx ? 0 : 1;
}

/* B's burst of the stream, with each frame's virtio-net header. */
static unsigned tso_rx(const struct opts *o, struct vuser *b, struct vuser_frame *in, struct vnet_info *vin)
{
	return o->fixed ? vuser_fixed_rx_vnet(b, 0, in, vin, BURST) : vuser_rx_burst_vnet(b, 0, in, vin, BURST);
}

/*
 * The TCP stream: A sends TSO frames flat out (or --rate sends a second),
 * B checks and counts what arrives.  Loss is in payload bytes.
 */
static int run_tso(const struct opts *o, struct vuser *a, struct vuser *b)
{
	static uint8_t frames[BURST][TCP_STREAM_FRAME_MAX];
	struct vuser_frame out[BURST], in[BURST];
	struct vnet_info vo[BURST], vin[BURST];
	struct tcp_stream_tx t = { .send = o->size - TCP_STREAM_HDR, .mss = o->mss, .seq = 0x10000000u };
	struct tcp_stream_rx r = { .send = t.send, .mss = o->mss, .isn = t.seq, .next_seq = t.seq,
				   .verify_every = o->verify_every };
	uint64_t sent = 0, start = now_ns(), next_report = start + 1000000000ull, bad = 0;
	uint64_t end = start + (uint64_t)(o->lead_in + o->seconds) * 1000000000ull, last_tx = 0, last_rx = 0;
	uint64_t counted_at = start + (uint64_t)o->lead_in * 1000000000ull;
	struct pace pace = { o->rate, 0, BURST * 4, start };
	struct tcp_stream_rx base = { 0 };	/* the counts when the lead-in ended */
	uint64_t base_sent = 0;
	bool counting = !o->lead_in, whole = vuser_features(b) & VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4);
	struct vuser_stats sb;
	unsigned second = 0;
	double secs, tx_bytes, lost;
	uint64_t written_off = 0, stalls = 0, progress_at = start, seen = 0;

	memcpy(t.dst, MAC_B, 6);
	memcpy(t.src, MAC_A, 6);
	memcpy(r.dst, MAC_B, 6);
	for (unsigned i = 0; i < BURST; i++)
		out[i] = (struct vuser_frame){ frames[i], (uint32_t)tcp_stream_build(&t, frames[i], &vo[i]) };
	/* Fixed buffers: every send is the template with its stamp: A rewrites 8 bytes a send, not 64 KiB. */
	vuser_fixed_tx_fill(a, 0, frames[0], out[0].len, &vo[0]);
	if (!o->json)
		printf("tso: %u B sends (%u payload, mss %u); B receives %s; %s buffers\n", o->size, t.send, o->mss,
		       whole ? "them whole (GUEST_TSO4)" : "segments (no GUEST_TSO4 acked)", o->fixed ? "fixed" : "copying");
	while (!stop) {
		uint64_t tnow = now_ns();
		unsigned want, n;

		if (tnow >= end)
			break;
		if (!counting && tnow >= counted_at) {
			counting = true;
			base = r;
			base_sent = sent;
			start = tnow;
		}
		want = pace_want(&pace, tnow, BURST);
		if (r.payload_bytes != seen) {
			seen = r.payload_bytes;
			progress_at = tnow;
		}
		if (o->window) {
			uint64_t acked = (r.payload_bytes + written_off) / t.send;
			uint64_t inflight = sent > acked ? sent - acked : 0;

			if (inflight >= o->window && tnow - progress_at > STALL_NS) {
				/* Lost on the way (or B's ring full for good): the window opens again. */
				written_off = sent * t.send - r.payload_bytes;
				progress_at = tnow;
				stalls++;
				inflight = 0;
			}
			if (want > o->window - (inflight < o->window ? inflight : o->window))
				want = o->window - (unsigned)(inflight < o->window ? inflight : o->window);
		}
		if (o->fixed) {
			uint8_t *fb[BURST];
			unsigned k = want ? vuser_fixed_tx_bufs(a, 0, fb, want) : 0;

			for (unsigned i = 0; i < k; i++)
				tcp_stream_stamp(&t, fb[i], i);
			n = k ? vuser_fixed_tx_send(a, 0, k, out[0].len) : 0;
		} else {
			for (unsigned i = 0; i < want; i++)
				tcp_stream_stamp(&t, frames[i], i);
			n = want ? vuser_tx_burst_vnet(a, 0, out, vo, want) : 0;
		}
		tcp_stream_sent(&t, n);
		sent += n;
		pace_sent(&pace, n);
		n = tso_rx(o, b, in, vin);
		for (unsigned i = 0; i < n; i++)
			tcp_stream_check(&r, in[i].data, in[i].len, &vin[i]);
		if (tnow >= next_report) {
			if (!o->json)
				printf("%3u s: tx %.3f Gbit/s, rx %.3f Gbit/s of payload\n", ++second,
				       (double)(sent - last_tx) * t.send * 8 / 1e9,
				       (double)(r.payload_bytes - last_rx) * 8 / 1e9);
			fflush(stdout);
			last_tx = sent;
			last_rx = r.payload_bytes;
			next_report += 1000000000ull;
		}
	}
	for (uint64_t d = now_ns() + 200000000ull; now_ns() < d;) {
		unsigned n = tso_rx(o, b, in, vin);

		for (unsigned i = 0; i < n; i++)
			tcp_stream_check(&r, in[i].data, in[i].len, &vin[i]);
	}
	vuser_get_stats(b, &sb);
	/* Rates over the counted window; loss and damage over the whole run. */
	r.frames -= base.frames;
	r.gso_frames -= base.gso_frames;
	r.segments -= base.segments;
	tx_bytes = (double)(sent - base_sent) * t.send;
	lost = (double)sent * t.send > (double)r.payload_bytes ? (double)sent * t.send - (double)r.payload_bytes : 0;
	r.payload_bytes -= base.payload_bytes;
	sent -= base_sent;
	for (unsigned k = 1; k < TCP_STREAM_BAD__COUNT; k++)
		bad += k == TCP_STREAM_OTHER ? 0 : r.bad[k];
	bad += sb.rx_bad_hdr;
	secs = (double)(now_ns() - start) / 1e9 - 0.2;
	if (o->json) {
		printf("{\"mode\":\"tso\",\"size\":%u,\"mss\":%u,\"seconds\":%.3f,\"peer_tso\":%s,\"tx\":%" PRIu64
		       ",\"tx_gbps\":%.4f,\"rx_frames\":%" PRIu64 ",\"rx_gso_frames\":%" PRIu64
		       ",\"rx_segments\":%" PRIu64 ",\"rx_payload_bytes\":%" PRIu64
		       ",\"rx_gbps\":%.4f,\"rx_mpps\":%.4f,\"rx_seg_mpps\":%.4f,\"lost_bytes\":%.0f"
		       ",\"rx_payload_all\":%" PRIu64 ",\"seed_without_length\":%" PRIu64 ",\"buffers\":\"%s\",\"window\":%u,\"lead_in\":%u,\"stalls\":%" PRIu64 ",\"out_of_order\":%" PRIu64 ",\"verified\":%" PRIu64
		       ",\"other\":%" PRIu64
		       ",\"bad\":%" PRIu64 ",\"bad_header\":%" PRIu64,
		       o->size, o->mss, secs, whole ? "true" : "false", sent, tx_bytes * 8 / secs / 1e9, r.frames,
		       r.gso_frames, r.segments, r.payload_bytes, (double)r.payload_bytes * 8 / secs / 1e9,
		       r.frames / secs / 1e6, r.segments / secs / 1e6, lost, base.payload_bytes + r.payload_bytes, r.seed_no_len, o->fixed ? "fixed" : "copy", o->window, o->lead_in, stalls, r.out_of_order, r.verified,
		       r.other, bad,
		       sb.rx_bad_hdr);
		for (unsigned k = TCP_STREAM_BAD_LEN; k < TCP_STREAM_BAD__COUNT; k++)
			printf(",\"bad_%s\":%" PRIu64, tcp_stream_bad_names[k], r.bad[k]);
		printf("}\n");
	} else {
		printf("summary: tso %u B, %.1f s: tx %" PRIu64 " sends (%.3f Gbit/s of payload), rx %" PRIu64
		       " frames (%" PRIu64 " whole sends, %.3f Mpps; %" PRIu64 " segments, %.3f Mpps), %.3f Gbit/s of "
		       "payload, lost %.0f B (%.4f %%, %" PRIu64 " window stalls), out of order %" PRIu64 ", checked %" PRIu64
		       ", bad %" PRIu64 ", not the stream's %" PRIu64 "\n",
		       o->size, secs, sent, tx_bytes * 8 / secs / 1e9, r.frames, r.gso_frames, r.frames / secs / 1e6,
		       r.segments, r.segments / secs / 1e6, (double)r.payload_bytes * 8 / secs / 1e9, lost,
		       sent ? 100.0 * lost / ((double)(sent + base_sent) * t.send) : 0.0, stalls, r.out_of_order, r.verified, bad, r.other);
		for (unsigned k = TCP_STREAM_BAD_LEN; k < TCP_STREAM_BAD__COUNT; k++)
			if (r.bad[k])
				printf("  bad %s: %" PRIu64 "\n", tcp_stream_bad_names[k], r.bad[k]);
		if (sb.rx_bad_hdr)
			printf("  bad virtio-net header (not acked): %" PRIu64 "\n", sb.rx_bad_hdr);
		if (r.seed_no_len)
			printf("  GSO frames with a TCP seed without the length (TSO hardware convention): %" PRIu64 "\n",
			       r.seed_no_len);
	}
	return r.payload_bytes && !bad ? 0 : 1;
}

/* --tso: both ports must have the send side of TSO, or the run would measure something else. */
static int tso_check(const char *name, struct vuser *u)
{
	uint64_t need = VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4);

	if ((vuser_features(u) & need) == need)
		return 0;
	fprintf(stderr, "vsw-bench: %s: the back end does not take TSO frames (CSUM and HOST_TSO4 not both offered; "
			"negotiated 0x%llx)\n", name, (unsigned long long)vuser_features(u));
	return 1;
}

/* Everything connected: say so, then wait for SIGTERM or SIGINT. */
static int run_hold(const struct opts *o)
{
	if (o->json)
		printf("{\"mode\":\"hold\",\"ports\":%u}\n", 2 + nidle);
	else
		printf("holding %u ports\n", 2 + nidle);
	fflush(stdout);
	while (!stop)
		pause();
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vsw-bench --a SOCK --b SOCK [options]\n"
		   "  --a SOCK, --b SOCK   the two vhost-user sockets (A sends, B receives)\n"
		   "  --server             listen on the sockets (the back end connects as client)\n"
		   "  --size BYTES         frame size without FCS (60..9018, default 64)\n"
		   "  --flows N            distinct MAC/IP/UDP sources (default 1)\n"
		   "  --dst-flows N        throughput: N IPv4/UDP flows as testpmd's flowgen sends them\n"
		   "                       (10.254.0.0:1000 -> 10.253.0.0 + i:1001, i < N <= 16777216),\n"
		   "                       in a stride coprime with N; a few cycles a frame\n"
		   "  --copy               throughput and --tso: copy each frame into a free buffer (a guest\n"
		   "                       driver's way) instead of fixed buffers rewritten in place, the\n"
		   "                       default where frames fit one receive buffer (--tso: always) and\n"
		   "                       the ring is not in-order\n"
		   "  --rate PPS           transmit rate (default: flat out)\n"
		   "  --in-flight N        throughput: at most N frames sent and not yet received (a closed\n"
		   "                       loop, as testpmd's tx_first; default 0: open loop)\n"
		   "  --seconds S          duration (default 5)\n"
		   "  --pingpong [N]       round-trip latency over N samples (default 10000)\n"
		   "  --warmup N           ping-pong rounds before the samples, not counted\n"
		   "                       (default: twice the queue size)\n"
		   "  --gap US             ping-pong: US microseconds idle before each ping (a sparse\n"
		   "                       request stream: the switch's ports idle between pings)\n"
		   "  --packed, --no-mrg   ring layout / mergeable rx buffers off\n"
		   "  --in-order           ask for VIRTIO_F_IN_ORDER (as testpmd's in_order=1)\n"
		   "  --queue-size N       ring size (default 256)\n"
		   "  --idle FMT           more ports, on sockets FMT %% i (one %%u), kept idle\n"
		   "  --idle-count N       how many (default 0), i from --idle-first (default 0)\n"
		   "  --idle-queue-size N  their ring size (default 64)\n"
		   "  --flood              A sends broadcasts; B and the idle ports receive them\n"
		   "  --flood-rate PPS     throughput: the first idle port floods at this rate meanwhile\n"
		   "  --hold               connect every port, print one line, wait for SIGTERM\n"
		   "  --tso                A sends 64 KiB TCP/IPv4 frames asking for CSUM and TSO4\n"
		   "                       (--size: the frame, default 65214: 45 x 1448 payload bytes);\n"
		   "                       B acks GUEST_CSUM + GUEST_TSO4, checks and counts what comes:\n"
		   "                       Gbit/s of payload (rx_gbps), frames and segments per second\n"
		   "  --mss BYTES          --tso: gso_size (default 1448)\n"
		   "  --no-guest-tso       --tso: B acks no receive offload (the switch must segment)\n"
		   "  --verify-every N     --tso: checksums and payload of 1 frame in N (power of 2, default 64)\n"
		   "  --window N           --tso: sends in flight at most (default 4; 0: open loop)\n"
		   "  --lead-in S          --tso and throughput: seconds of traffic before the counted ones\n"
		   "                       (default 0)\n"
		   "  --json               one JSON summary line\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "a", required_argument, NULL, 'a' }, { "b", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' }, { "flows", required_argument, NULL, 'f' },
		{ "rate", required_argument, NULL, 'r' }, { "seconds", required_argument, NULL, 't' },
		{ "pingpong", optional_argument, NULL, 'p' }, { "packed", no_argument, NULL, 'P' },
		{ "no-mrg", no_argument, NULL, 'M' }, { "json", no_argument, NULL, 'j' },
		{ "server", no_argument, NULL, 'S' }, { "queue-size", required_argument, NULL, 'q' },
		{ "warmup", required_argument, NULL, 'w' }, { "help", no_argument, NULL, 'h' },
		{ "idle", required_argument, NULL, 'i' }, { "idle-count", required_argument, NULL, 'n' },
		{ "idle-first", required_argument, NULL, 'F' }, { "idle-queue-size", required_argument, NULL, 'Q' },
		{ "flood", no_argument, NULL, 'L' }, { "flood-rate", required_argument, NULL, 'R' },
		{ "hold", no_argument, NULL, 'H' }, { "tso", no_argument, NULL, 'T' },
		{ "mss", required_argument, NULL, 'm' }, { "no-guest-tso", no_argument, NULL, 'G' },
		{ "verify-every", required_argument, NULL, 'V' }, { "window", required_argument, NULL, 'W' },
		{ "lead-in", required_argument, NULL, 'I' }, { "in-order", no_argument, NULL, 'O' },
		{ "dst-flows", required_argument, NULL, 'D' }, { "copy", no_argument, NULL, 'C' },
		{ "in-flight", required_argument, NULL, 'N' }, { "gap", required_argument, NULL, 'g' }, { 0 },
	};
	struct opts o = { .size = 64, .flows = 1, .seconds = 5, .samples = 10000, .queue_size = 256, .warmup = -1,
			  .idle_queue_size = 64, .mss = 1448, .verify_every = 64,
			  .window = 4 };
	bool size_set = false;
	struct vuser *a = NULL, *b = NULL;
	uint8_t hello[64];
	struct vuser_frame hf = { hello, sizeof(hello) };
	char err[256];
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'a': o.a = optarg; break;
		case 'b': o.b = optarg; break;
		case 's': o.size = (unsigned)atoi(optarg); size_set = true; break;
		case 'f': o.flows = (unsigned)atoi(optarg); break;
		case 'r': o.rate = atof(optarg); break;
		case 't': o.seconds = (unsigned)atoi(optarg); break;
		case 'p': o.pingpong = true; if (optarg) o.samples = (unsigned)atoi(optarg); break;
		case 'P': o.packed = true; break;
		case 'M': o.no_mrg = true; break;
		case 'O': o.in_order = true; break;
		case 'j': o.json = true; break;
		case 'S': o.server = true; break;
		case 'q': o.queue_size = (unsigned)atoi(optarg); break;
		case 'w': o.warmup = atoi(optarg); if (o.warmup < 0) o.warmup = 0; break;
		case 'g': o.gap_us = (unsigned)atoi(optarg); break;
		case 'i': o.idle_fmt = optarg; break;
		case 'n': o.idle_count = (unsigned)atoi(optarg); break;
		case 'F': o.idle_first = (unsigned)atoi(optarg); break;
		case 'Q': o.idle_queue_size = (unsigned)atoi(optarg); break;
		case 'L': o.flood = true; break;
		case 'R': o.flood_rate = atof(optarg); break;
		case 'H': o.hold = true; break;
		case 'T': o.tso = true; break;
		case 'm': o.mss = (unsigned)atoi(optarg); break;
		case 'G': o.no_guest_tso = true; break;
		case 'V': o.verify_every = (unsigned)atoi(optarg); break;
		case 'W': o.window = (unsigned)atoi(optarg); break;
		case 'I': o.lead_in = (unsigned)atoi(optarg); break;
		case 'D': o.dst_flows = (unsigned)strtoul(optarg, NULL, 10); if (!o.dst_flows) o.dst_flows = UINT_MAX; break;
		case 'C': o.copy = true; break;
		case 'N': o.in_flight = (unsigned)atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o.tso && !size_set)
		o.size = TCP_STREAM_HDR + 45 * o.mss;
	if (!o.a || !o.b || o.size < 60 || o.size > (o.tso ? TCP_STREAM_FRAME_MAX : MAX_FRAME) || o.flows < 1 ||
	    o.flows > 65535 || o.samples < 1 || (o.idle_count && (!o.idle_fmt || !strstr(o.idle_fmt, "%u"))) ||
	    o.pingpong + o.flood + o.hold + o.tso > 1 || (o.tso && (o.flows > 1 || o.flood_rate > 0)) || o.mss < 1 ||
	    o.mss > 9000 || !o.verify_every || (o.verify_every & (o.verify_every - 1)) ||
	    (o.dst_flows && (o.dst_flows > DST_FLOWS_MAX || o.flows > 1 || o.pingpong + o.flood + o.hold + o.tso)) ||
	    (o.in_flight && (o.pingpong + o.flood + o.hold + o.tso || o.rate > 0 || o.in_flight > 1u << 20)) ||
	    (o.gap_us && (!o.pingpong || o.gap_us > 1000000))) {
		usage(stderr);
		return 2;
	}
	/*
	 * Throughput and --tso through fixed buffers unless --copy: frames
	 * that fit one receive buffer (2 KiB with mergeable buffers) with a
	 * tag pushed on the way, or TSO sends (each receive buffer then holds
	 * a send whole), on rings the fixed way serves (not in-order).
	 */
	o.fixed = !o.copy && !(o.pingpong || o.flood || o.hold || o.in_order) &&
		  (o.tso || o.no_mrg || sizeof(struct virtio_net_hdr_v1) + o.size + 18 <= VUSER_RX_BUF_MRG);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	raise_fd_limit();
	a = open_port(&o, o.a, err, sizeof(err));
	if (!a) {
		fprintf(stderr, "vsw-bench: %s: %s\n", o.a, err);
		return 1;
	}
	b = open_port(&o, o.b, err, sizeof(err));
	if (!b) {
		fprintf(stderr, "vsw-bench: %s: %s\n", o.b, err);
		vuser_close(a);
		return 1;
	}
	if (o.tso && (tso_check(o.a, a) || tso_check(o.b, b))) {
		vuser_close(a);
		vuser_close(b);
		return 1;
	}
	if (o.idle_count && open_idle(&o)) {
		close_idle();
		vuser_close(a);
		vuser_close(b);
		return 1;
	}
	/* Let a learning switch see B, then let the rings settle. */
	frame_build(hello, sizeof(hello), (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, MAC_B, 0);
	port_tx(&o, b, &hf, 1);
	for (uint64_t d = now_ns() + 100000000ull; now_ns() < d;) {
		struct vuser_frame f[BURST];

		port_rx(&o, a, f, BURST);
	}
	rc = o.hold ? run_hold(&o) : o.flood ? run_flood(&o, a, b) : o.pingpong ? run_pingpong(&o, a, b)
						      : o.tso ? run_tso(&o, a, b) : run_throughput(&o, a, b);
	if (vuser_error(a) || vuser_error(b)) {
		fprintf(stderr, "vsw-bench: %s\n", vuser_error(a) ? vuser_error(a) : vuser_error(b));
		rc = 1;
	}
	for (unsigned i = 0; i < nidle; i++)
		if (vuser_error(idle[i])) {
			fprintf(stderr, "vsw-bench: idle port %u: %s\n", i, vuser_error(idle[i]));
			rc = 1;
		}
	close_idle();
	vuser_close(a);
	vuser_close(b);
	return rc;
}
