/* bench_vxlan.c - cycles per packet of a vxlan port's encap and decap points, over loopback. */

/*
 * What is measured
 *
 *   one thread, two vxlan ports on loopback (127.0.0.1 -> 127.0.0.2, as
 *   tests/unit/test_vxlan.c: needs root for the raw socket), the sender's
 *   tx_burst() called with bursts of --burst 60-byte UDP/IPv4 frames
 *   (64 with the FCS) spread over --flows inner flows (source ports), the
 *   receiver's rx_burst() draining them after each burst.  The figures
 *   are the pipeline's `encap` point (lib/perf.h, DP_PT_ENCAP): the
 *   cycles the sender spends building a burst's messages (source port
 *   hash, tunnel table lookup, outer UDP + VXLAN header, outer checksum
 *   with csum=on, iovecs), the sendmmsg syscalls left out; and its
 *   `decap` point (DP_PT_DECAP) on the receiver: the checks of each
 *   datagram after recvmmsg (remote, VXLAN header, VNI), the views of the
 *   inner frames, the tunnel metadata and the learning of the inner
 *   sources, the syscall left out.  The same points `vswctl perf show`
 *   reports and scripts/bench-vxlan.py reads on a live switch (issue 16,
 *   item 6: target <= 25 cycles per packet each).  Next to them,
 *   tx_burst()'s whole cost per packet, syscalls included, for scale.
 *   With -t the frames are 64 KiB TCP/IPv4 sends asking for CSUM and TSO4
 *   (45 segments of 1448 bytes), 4 a burst: the encap point then cuts
 *   them into UDP GSO payloads (csum=on only: a csum=off port has no UDP
 *   GSO, the pipeline segments a TSO frame before it, outside the point),
 *   the receiver's GRO merges them back, and the figures are per inner
 *   segment.
 *
 *   The frames are parsed once (pkt_load) before the run, as a pipeline
 *   with flow tables leaves them; with -u only their heads are loaded
 *   (pkt_load_head), as the learning switch leaves them (it reads the
 *   MACs alone; the encap point then parses what its flow hash needs,
 *   as in vswd's `normal` path); the syscall between bursts evicts what it evicts,
 *   as it does in vswd.  Samples alternate csum=on and csum=off ports
 *   (-c on, -c off: one of them alone, for a profile of one case, as
 *   `valgrind --tool=callgrind`'s); the median of --samples (min-max) is
 *   printed per case.
 */

#include <arpa/inet.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cycles.h"
#include "lib/perf.h"
#include "packet/csum.h"
#include "packet/gso.h"
#include "packet/pkt.h"
#include "packet/vnet_hdr.h"
#include "port/port.h"
#include "port/port_vxlan.h"

#define TSO_MSS 1448
#define TSO_PAYLOAD (45 * TSO_MSS)
#define TSO_FRAME (14 + 20 + 20 + TSO_PAYLOAD) /* 65,214 bytes: 45 segments */
#define DSTPORT 47891 /* csum=on's; csum=off's the next but one */
#define FRAME 60

struct side {
	struct port *tx, *rx;
};

static struct port *vx_port(const char *name, const char *local, const char *remote, const char *csum, int dstport)
{
	struct json_object *o = json_object_new_object();
	struct port_env env = { 0 };
	char err[256] = "";
	struct port *p;

	json_object_object_add(o, "local", json_object_new_string(local));
	json_object_object_add(o, "remote", json_object_new_string(remote));
	json_object_object_add(o, "vni", json_object_new_int(4242));
	json_object_object_add(o, "dstport", json_object_new_int(dstport));
	json_object_object_add(o, "csum", json_object_new_string(csum));
	p = port_vxlan_create(name, o, &env, err, sizeof(err));
	json_object_put(o);
	if (!p) {
		fprintf(stderr, "bench_vxlan: port %s: %s (root and a loopback with 127.0.0.2 are needed)\n", name,
			err);
		exit(1);
	}
	return p;
}

/* Frame @i of the run: UDP/IPv4 from 10.0.0.1 to 10.0.0.2, inner flow @flow (its source port). */
static void frame_build(uint8_t *b, unsigned flow)
{
	static const uint8_t hdr[] = {
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0, 0, 46, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0, 0, 0, 53, 0, 26, 0, 0,
	};
	unsigned sport = 1024 + flow % 60000;

	memset(b, 0, FRAME);
	memcpy(b, hdr, sizeof(hdr));
	b[34] = (uint8_t)(sport >> 8);
	b[35] = (uint8_t)sport;
}

/* Frame of -t: TCP/IPv4 of TSO_PAYLOAD bytes from 10.0.0.1 to 10.0.0.2 in flow @flow, as a guest's TSO send. */
static void tso_build(struct pkt *p, struct iovec *iov, uint8_t *b, unsigned flow, uint32_t seq)
{
	static const uint8_t hdr[] = {
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0, 0, 0x14, 0x51, 0, 0, 0, 0, 0, 0, 0, 1, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0,
	};
	unsigned sport = 1024 + flow % 60000;
	uint32_t sum;
	uint16_t c;

	memcpy(b, hdr, sizeof(hdr));
	b[16] = (uint8_t)((TSO_FRAME - 14) >> 8);
	b[17] = (uint8_t)(TSO_FRAME - 14);
	b[34] = (uint8_t)(sport >> 8);
	b[35] = (uint8_t)sport;
	b[38] = (uint8_t)(seq >> 24);
	b[39] = (uint8_t)(seq >> 16);
	b[40] = (uint8_t)(seq >> 8);
	b[41] = (uint8_t)seq;
	c = csum_ipv4_hdr(b + 14, 20); /* memory order, as every sum here */
	memcpy(b + 24, &c, 2);
	/* NEEDS_CSUM: the field holds the pseudo header's sum, as a guest's stack leaves it */
	sum = csum_pseudo_ipv4(b + 26, b + 30, 6, 20 + TSO_PAYLOAD);
	c = csum_fold(sum);
	memcpy(b + 50, &c, 2);
	*iov = (struct iovec){ b, TSO_FRAME };
	pkt_rx_init(p, iov, 1, TSO_FRAME, 0);
	pkt_load(p);
	p->csum = PKT_CSUM_PARTIAL;
	p->csum_start = 34;
	p->csum_offset = 16;
	p->gso_type = VNET_GSO_TCPV4;
	p->gso_size = TSO_MSS;
	if (gso_check(p) != GSO_OK) { /* what a port's rx does with an offload request (port_offload_rx_ok()) */
		fprintf(stderr, "bench_vxlan: the TSO frame fails gso_check(): %d\n", (int)gso_check(p));
		exit(1);
	}
}

/* The receiver's socket emptied through its rx_burst(); returns the frames it gave. */
static uint64_t drain(struct port *rx, struct pkt *pkts, struct dp_perf *pf)
{
	struct port_io io = { .perf = pf };
	uint64_t got = 0;

	for (int k = 0; k < 64; k++) {
		unsigned n = rx->ops->rx_burst(rx, 0, &io, pkts, PKT_BURST);

		rx->ops->rx_done(rx, 0, &io);
		for (unsigned i = 0; i < n; i++)
			got += pkts[i].gso_size ? (pkts[i].len - pkts[i].csum_start - 20u + pkts[i].gso_size - 1) /
							  pkts[i].gso_size
						: 1; /* segments: a merged TSO frame stands for its own */
		if (!n)
			break;
	}
	return got;
}

static uint64_t dropped(struct port *p)
{
	uint64_t n = 0;

	for (unsigned r = 0; r < DROP__COUNT; r++)
		n += atomic_load(&p->stats.drops[r]);
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	unsigned burst = 32, flows = 1024, bursts = 2000, samples = 9, per = 1;
	bool tso = false, burst_set = false, unparsed = false;
	unsigned k0 = 0, nk;	/* the ports measured, [k0, nk): csum=on and csum=off; with -t csum=on alone (csum=off
				 * has no UDP GSO: the pipeline segments a TSO frame before such a port, outside its
				 * encap point); -c: one of them, so that a profile (callgrind) holds one case */
	static const char *const names[2] = { "csum=on", "csum=off" };
	struct side s[2];
	struct pkt *pkts, *rxp, **list;
	uint8_t *frames;
	size_t fsize;
	struct iovec *iov;
	struct dp_perf *pf, *pf_rx;
	double encap[2][64], decap[2][64], whole[2][64];
	const char *only = NULL;
	int c;

	while ((c = getopt(argc, argv, "b:c:f:n:s:tuh")) != -1) {
		switch (c) {
		case 'b':
			burst = (unsigned)atoi(optarg);
			burst_set = true;
			break;
		case 'c': only = optarg; break;
		case 'f': flows = (unsigned)atoi(optarg); break;
		case 'n': bursts = (unsigned)atoi(optarg); break;
		case 's': samples = (unsigned)atoi(optarg); break;
		case 't': tso = true; break;
		case 'u': unparsed = true; break;
		default:
			fprintf(stderr, "usage: bench_vxlan [-b burst (1..%u)] [-c on|off] [-f inner flows] [-n bursts a sample] "
					"[-s samples (1..64)] [-t] [-u]\n"
					"  -c  the csum=on or the csum=off port alone (default: both in turn)\n"
					"  -t  TSO: each frame a 64 KiB TCP/IPv4 send (45 x 1448 bytes) asking for CSUM and TSO4\n"
					"  -u  the 64-byte frames' heads loaded, not parsed (as the learning switch hands them on)\n",
				PKT_BURST);
			return c == 'h' ? 0 : 2;
		}
	}
	if (tso && !burst_set)
		burst = 4; /* a TCP sender's burst of TSO sends: 180 segments */
	nk = tso ? 1 : 2;
	if (only && !strcmp(only, "off"))
		k0 = 1;
	else if (only && !strcmp(only, "on"))
		nk = 1;
	if (tso && unparsed) {
		fprintf(stderr, "bench_vxlan: -u is for the 64-byte frames: a TSO send is parsed by its port's checks\n");
		return 2;
	}
	if (!burst || burst > PKT_BURST || !flows || !bursts || !samples || samples > 64 || k0 >= nk ||
	    (only && strcmp(only, "on") && strcmp(only, "off"))) {
		fprintf(stderr, "bench_vxlan: bad argument\n");
		return 2;
	}
	s[0] = (struct side){ vx_port("on", "127.0.0.1", "127.0.0.2", "on", DSTPORT),
			      vx_port("on-rx", "127.0.0.2", "127.0.0.1", "on", DSTPORT) };
	s[1] = (struct side){ vx_port("off", "127.0.0.1", "127.0.0.2", "off", DSTPORT + 2),
			      vx_port("off-rx", "127.0.0.2", "127.0.0.1", "off", DSTPORT + 2) };
	pkts = aligned_alloc(64, (size_t)burst * sizeof(*pkts));
	rxp = aligned_alloc(64, PKT_BURST * sizeof(*rxp));
	list = calloc(burst, sizeof(*list));
	fsize = tso ? TSO_FRAME : FRAME;
	per = tso ? TSO_PAYLOAD / TSO_MSS : 1;
	frames = calloc(burst, fsize);
	iov = calloc(burst, sizeof(*iov));
	pf = aligned_alloc(64, sizeof(*pf));
	pf_rx = aligned_alloc(64, sizeof(*pf_rx));
	if (!pkts || !rxp || !list || !frames || !iov || !pf || !pf_rx) {
		fprintf(stderr, "bench_vxlan: out of memory\n");
		return 1;
	}
	memset(pkts, 0, (size_t)burst * sizeof(*pkts));
	memset(rxp, 0, PKT_BURST * sizeof(*rxp));
	for (unsigned smp = 0; smp < samples; smp++) {
		for (unsigned k = k0; k < nk; k++) {
			uint64_t t_all = 0, n_all = 0, f = smp * 7919u, sent = 0, got = 0;

			memset(pf, 0, sizeof(*pf));
			memset(pf_rx, 0, sizeof(*pf_rx));
			for (unsigned r = 0; r < bursts / 10 + bursts; r++) {
				struct port_io io = { .perf = r >= bursts / 10 ? pf : NULL };
				uint64_t t0;

				for (unsigned i = 0; i < burst; i++, f++) {
					uint8_t *b = frames + i * fsize;

					if (tso) {
						tso_build(&pkts[i], &iov[i], b, (unsigned)(f % flows), (uint32_t)(f * TSO_PAYLOAD));
					} else {
						frame_build(b, (unsigned)(f % flows));
						iov[i] = (struct iovec){ b, FRAME };
						pkt_rx_init(&pkts[i], &iov[i], 1, FRAME, 0);
						if (unparsed)
							pkt_load_head(&pkts[i]);
						else
							pkt_load(&pkts[i]);
					}
					list[i] = &pkts[i];
				}
				t0 = cycles_now();
				s[k].tx->ops->tx_burst(s[k].tx, &io, list, burst);
				if (io.perf) {
					t_all += cycles_now() - t0;
					n_all += burst * per;
				}
				sent += burst * per;
				got += drain(s[k].rx, rxp, io.perf ? pf_rx : NULL);
			}
			/* Loopback loses nothing a drained socket has room for: a shortfall is frames the port broke. */
			if (got < sent) {
				fprintf(stderr, "bench_vxlan: %s: %llu of %llu frames came back out of the receiving port "
						"(sender: %llu sent, %llu dropped)\n",
					names[k], (unsigned long long)got, (unsigned long long)sent,
					(unsigned long long)atomic_load(&s[k].tx->stats.tx_packets),
					(unsigned long long)dropped(s[k].tx));
				return 1;
			}
			if (!pf->pt[DP_PT_ENCAP].pkts || !pf_rx->pt[DP_PT_DECAP].pkts) {
				fprintf(stderr, "bench_vxlan: %s: no packet went through the encap or decap point\n", names[k]);
				return 1;
			}
			decap[k][smp] = (double)pf_rx->pt[DP_PT_DECAP].cycles / (double)pf_rx->pt[DP_PT_DECAP].pkts;
			encap[k][smp] = (double)pf->pt[DP_PT_ENCAP].cycles / (double)pf->pt[DP_PT_ENCAP].pkts;
			whole[k][smp] = (double)t_all / (double)n_all;
		}
	}
	printf("bench_vxlan: %u samples of %u bursts of %u %s over %u inner flows, loopback; cycles per %s\n",
	       samples, bursts, burst,
	       tso ? "64 KiB TCP/IPv4 TSO sends" : unparsed ? "60-byte UDP/IPv4 frames (unparsed)" : "60-byte UDP/IPv4 frames",
	       flows,
	       tso ? "inner segment (1448 bytes of payload)" : "packet");
	for (unsigned k = k0; k < nk; k++) {
		qsort(encap[k], samples, sizeof(double), cmp_double);
		qsort(decap[k], samples, sizeof(double), cmp_double);
		qsort(whole[k], samples, sizeof(double), cmp_double);
		printf("  %-9s encap %5.1f (%.1f-%.1f), decap %5.1f (%.1f-%.1f) cycles; "
		       "tx_burst with its syscalls %6.1f (%.1f-%.1f)\n",
		       names[k], encap[k][samples / 2], encap[k][0], encap[k][samples - 1], decap[k][samples / 2],
		       decap[k][0], decap[k][samples - 1], whole[k][samples / 2], whole[k][0], whole[k][samples - 1]);
	}
	for (unsigned k = 0; k < 2; k++) {
		s[k].tx->ops->destroy(s[k].tx);
		s[k].rx->ops->destroy(s[k].rx);
	}
	free(pf_rx);
	free(pf);
	free(iov);
	free(frames);
	free(list);
	free(rxp);
	free(pkts);
	return 0;
}
