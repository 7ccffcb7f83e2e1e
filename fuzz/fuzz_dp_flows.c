/* fuzz_dp_flows.c - libFuzzer target: hostile frames through the pipeline's flow lookup stage (keys, cache, actions, verdicts, copies). */

/*
 * A batch of frames from a guest or the wire goes through dp_forward()
 * with flow tables published (dp/flows.c): rewrites on the packet's head,
 * pushes into its headroom, outputs to ports, normal, flood, clones with
 * other header versions, copies from the worker's pools.  Every frame a
 * port is handed is read whole as a tx path reads it (pkt_to_buf, pkt_segs
 * and a fresh parse), so a head or view out of bounds, a length that does
 * not add up or a copy that outlived its pool is found by ASan or by the
 * checks:
 *
 *   - the head lies inside the packet's buffer, holds at most the frame's
 *     length, and the view holds the rest from view_off on;
 *   - when no rule of the program changes lengths, every frame sent is
 *     as long as the frame received, and the batch's drops and sends
 *     account for at least every frame.
 *
 * Input format:
 *
 *   byte 0: the program (the ingress port: 1 + byte % NPORTS): which rules match
 *   byte 1: bits 0-5: frames in the batch (the same frame, 1 to 64);
 *           bit 6: the frames' L4 checksum is partial (virtio NEEDS_CSUM);
 *           bit 7: the rule set without the length-changing rules
 *   then the frame (at most FRAME_MAX bytes; at least 14, as a port hands over).
 *
 * fuzz/make_corpus_dp_flows.py writes the seed corpus.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp/flows.h"
#include "dp/pipeline.h"
#include "flow/parse.h"
#include "flow/table.h"
#include "switch/switch.h"

#define FRAME_MAX 1600
#define NPORTS 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The rules by ingress port; ports 1-4 exist, 5-6 do not (outputs there:
 * no_destination).  Numbers start at 1 as vswd gives them (OpenFlow port
 * 0 is reserved: the parser refuses it).
 */
static const char *const rules[] = {
	"priority=10,in_port=1,actions=output:2,mod_dl_dst:02:00:00:00:00:bb,output:3,clone(output:4),normal",
	"priority=10,in_port=2,ip,actions=mod_nw_dst:10.9.9.9,mod_nw_tos:32,output:1,dec_ttl,mod_tp_dst:7,output:3,flood",
	"priority=10,in_port=2,ipv6,actions=set_field:2001:db8::1->ipv6_src,dec_ttl,all,in_port",
	"priority=5,in_port=2,actions=normal",
	("priority=10,in_port=3,actions=push_vlan:0x8100,mod_vlan_vid:5,output:1,strip_vlan,output:2,"
	 "mod_vlan_pcp:3,output:4,push_vlan:0x88a8,clone(strip_vlan,strip_vlan,output:1),output:6"),
	"priority=10,in_port=4,actions=resubmit(,1),output:5",
	"table=1,priority=10,tcp,actions=mod_tp_src:1,output:1,goto_table:2",
	"table=1,priority=5,actions=drop",
	"table=2,actions=normal,output:2,output:2,output:2",
	"priority=10,in_port=5,actions=output:2",
	"priority=1,actions=normal",
};

/* The same without a rule that changes lengths (VLAN push and pop). */
static const char *const rules_fixed[] = {
	"priority=10,in_port=1,actions=output:2,mod_dl_dst:02:00:00:00:00:bb,output:3,clone(output:4),normal",
	"priority=10,in_port=2,ip,actions=mod_nw_dst:10.9.9.9,output:1,dec_ttl,mod_tp_dst:7,output:3,flood",
	"priority=10,in_port=3,tcp,actions=mod_tp_src:1,output:1,output:4,output:2",
	"priority=10,in_port=4,actions=output:6,resubmit(,1)",
	"table=1,actions=normal,mod_dl_src:02:00:00:00:00:01,all",
	"priority=1,actions=drop",
};

struct fport {
	struct port port;
	uint64_t sent;
};

static struct vswitch sw;
static struct dp_ctx *ctx;
static struct flow_db *dbs[2];
static struct fport ports[4];	/* ports[i] is port i + 1 */
static struct pkt *pkts;
static uint8_t frame[FRAME_MAX];
static size_t frame_len;
static struct iovec iov;
static bool lengths_fixed;

static void fake_tx_burst(struct port *p, struct port_io *io, struct pkt *const *out, unsigned n)
{
	static uint8_t buf[FRAME_MAX + 64 * 4];
	struct iovec segs[8];

	for (unsigned i = 0; i < n; i++) {
		struct pkt *q = out[i];

		if (q->head_off + q->head_len > sizeof(q->buf) || q->head_len > q->len ||
		    q->len - q->head_len + q->view_off != frame_len)
			abort();
		if (lengths_fixed && q->len != frame_len)
			abort();
		if (pkt_to_buf(q, buf, sizeof(buf)) != q->len)
			abort();
		if (pkt_segs(q, segs, 8) < 1)
			abort();
		pkt_parsed(q);
		((struct fport *)p)->sent++;
	}
}

static unsigned fake_rx_burst(struct port *p, unsigned q, struct port_io *io, struct pkt *b, unsigned max)
{
	return 0;
}

static void fake_rx_done(struct port *p, unsigned q, struct port_io *io) {}

static const struct port_ops fake_ops = {
	.type = "fake", .rx_burst = fake_rx_burst, .rx_done = fake_rx_done, .tx_burst = fake_tx_burst,
};

static struct flow_db *make_db(const char *const *r, size_t n)
{
	struct flow_db *db = flow_db_create();
	char err[FLOW_ERR_MAX];

	for (size_t i = 0; db && i < n; i++) {
		struct flow_mod mod;

		if (flow_parse(r[i], FLOW_CMD_ADD, NULL, &mod, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: %s\n", r[i], err);
			abort();
		}
		if (flow_db_add(db, &mod) < 0)
			abort();
	}
	if (!db || flow_db_commit(db) < 0)
		abort();
	return db;
}

static void setup(void)
{
	if (switch_init(&sw, SWITCH_LEARNING, 300, 4096) < 0)
		abort();
	ctx = aligned_alloc(64, (sizeof(*ctx) + 63) & ~(size_t)63);
	pkts = aligned_alloc(64, PKT_BURST * sizeof(*pkts));
	if (!ctx || !pkts)
		abort();
	memset(ctx, 0, sizeof(*ctx));
	ctx->flow = dp_flow_ctx_new();
	if (!ctx->flow)
		abort();
	for (unsigned i = 0; i < 4; i++) {
		snprintf(ports[i].port.name, sizeof(ports[i].port.name), "p%u", i + 1);
		ports[i].port.id = i + 1;
		ports[i].port.ops = &fake_ops;
		switch_port_set(&sw, i + 1, &ports[i].port);
	}
	dbs[0] = make_db(rules, sizeof(rules) / sizeof(rules[0]));
	dbs[1] = make_db(rules_fixed, sizeof(rules_fixed) / sizeof(rules_fixed[0]));
}

/* An ingress port of the program: a real one, or a struct standing in for a slot with no port. */
static struct port *ingress(unsigned id)
{
	static struct fport ghosts[NPORTS + 1];

	if (id >= 1 && id <= 4)
		return &ports[id - 1].port;
	ghosts[id].port.id = id;
	ghosts[id].port.ops = &fake_ops;
	return &ghosts[id].port;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned in, n, m = 0;
	bool partial;
	uint64_t before = 0, after = 0;
	struct port *p;

	if (!ctx)
		setup();
	if (size < 2 + 14 || size > 2 + FRAME_MAX)
		return 0;
	in = 1 + data[0] % NPORTS;
	n = (data[1] & 0x3f) + 1;
	partial = data[1] & 0x40;
	lengths_fixed = data[1] & 0x80;
	frame_len = size - 2;
	memcpy(frame, data + 2, frame_len);
	iov = (struct iovec){ frame, frame_len };
	p = ingress(in);
	for (unsigned i = 0; i < DROP__COUNT; i++)
		before += atomic_load(&p->stats.drops[i]);
	for (unsigned i = 0; i < 4; i++)
		before += ports[i].sent;
	/* As a port does: a frame with an offload request is loaded and checked at rx, or dropped there. */
	for (unsigned i = 0; i < n; i++) {
		pkt_rx_init(&pkts[m], &iov, 1, (uint32_t)frame_len, in);
		if (partial) {
			pkts[m].csum = PKT_CSUM_PARTIAL;
			pkts[m].csum_start = 34;
			pkts[m].csum_offset = 16;
			if (!port_offload_rx_ok(p, &pkts[m]))
				continue;
		}
		m++;
	}
	atomic_store(&sw.flows, flow_db_tables(dbs[lengths_fixed]));
	dp_round_start(ctx, 1);
	if (m)
		dp_forward(&sw, ctx, p, pkts, m);
	for (unsigned i = 0; i < DROP__COUNT; i++)
		after += atomic_load(&p->stats.drops[i]);
	for (unsigned i = 0; i < 4; i++)
		after += ports[i].sent;
	/* every frame was sent somewhere or dropped for a reason (a flood to nobody and a copy past its pool count too) */
	if (after - before < n)
		abort();
	/* the source frame is never written: its bytes are what came in */
	if (memcmp(frame, data + 2, frame_len))
		abort();
	return 0;
}
