/* switch_sec.c - port security: per-port options and the check of a secured port's frames on a private copy. */
#include "switch/switch_sec.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "packet/batch.h"
#include "switch/switch_vlan.h"

#define ETH_HLEN PKT_ETH_HLEN
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_RARP 0x8035	/* QEMU's announcement after a migration */
#define ETHERTYPE_IPV6 0x86dd
#define IPV4_SRC (ETH_HLEN + 12)
#define IPV6_SRC (ETH_HLEN + 8)
#define ARP_SHA (ETH_HLEN + 8)
#define ARP_SPA (ETH_HLEN + 14)
#define ARP_END (ETH_HLEN + 28)
#define PASS DROP__COUNT	/* "no drop" where a drop reason is expected */

_Static_assert(PKT_HEAD_COPY >= ARP_END && PKT_HEAD_COPY >= IPV6_SRC + 16, "the head holds every field checked");

void switch_port_cfg_default(struct switch_port_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->mac_limit = SWITCH_DEFAULT_MAC_LIMIT;
	c->flood_rate_pps = SWITCH_DEFAULT_FLOOD_RATE;
	c->vlan_mode = SWITCH_VLAN_TRUNK; /* 0: also what memset gave */
}

static void mac_str(char *buf, size_t len, const uint8_t m[6])
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/*
 * Forget slot @port's FDB entries: O(1), the port's generation moves on
 * (fdb_flush_port()), skipped when the slot owns none, no learned entry
 * counted and no MAC locked to it by its configuration, to leave the
 * generations to the flushes that need them.  Only the control thread
 * locks MACs, and no worker learns for a slot being attached or detached,
 * so the counts are exact here.
 */
static void flush_slot(struct vswitch *sw, unsigned port)
{
	if (fdb_port_entries(&sw->fdb, port) || sw->sp[port].cfg.n_macs)
		fdb_flush_port(&sw->fdb, port);
}

int switch_port_attach(struct vswitch *sw, unsigned port, const struct switch_port_cfg *c, char *err,
		       size_t errlen)
{
	struct switch_port *sp = &sw->sp[port];
	uint64_t depth;

	flush_slot(sw, port);
	for (unsigned i = 0; i < c->n_macs; i++) {
		unsigned owner = 0;
		/* An access or native port's MACs are locked in its VLAN, a trunk's in VLAN 0 (its untagged frames'). */
		int rc = fdb_lock_vlan(&sw->fdb, c->macs[i], c->vlan_mode == SWITCH_VLAN_TRUNK ? 0 : c->tag, port,
				       atomic_load(&sw->now_s), &owner);
		char mac[18];

		if (rc == 0)
			continue;
		mac_str(mac, sizeof(mac), c->macs[i]);
		if (rc == -EEXIST) {
			struct port *o = atomic_load(&sw->ports[owner]);

			snprintf(err, errlen, "MAC %s is locked to port %s", mac, o ? o->name : "(being added)");
		} else {
			snprintf(err, errlen, "no room in the FDB to lock MAC %s", mac);
		}
		fdb_flush_port(&sw->fdb, port);
		return -1;
	}
	fdb_set_limit(&sw->fdb, port, c->mac_limit);
	sp->cfg = *c;
	sp->secured = c->n_macs || c->ip_lock;
	/* Counted before the port is published: a worker that sees the port sees VLANs on. */
	if (sp->vlan != switch_vlan_cfg_on(c))
		atomic_fetch_add(&sw->vlan_ports, sp->vlan ? -1u : 1u);
	sp->vlan = switch_vlan_cfg_on(c);
	/* GCRA: each frame pushes the bucket's "empty at" time one interval on; depth frames may be in flight. */
	depth = c->flood_rate_pps / 10 > PKT_BURST ? c->flood_rate_pps / 10 : PKT_BURST;
	sp->flood_interval_ns = c->flood_rate_pps ? 1000000000ull / c->flood_rate_pps : 0;
	sp->flood_burst_ns = (depth - 1) * sp->flood_interval_ns;
	atomic_store(&sp->flood_tat_ns, 0);
	for (unsigned i = 0; i < SWC__COUNT; i++)
		atomic_store(&sp->counters[i], 0);
	return 0;
}

void switch_port_detach(struct vswitch *sw, unsigned port)
{
	struct switch_port *sp = &sw->sp[port];

	flush_slot(sw, port);
	fdb_set_limit(&sw->fdb, port, 0);
	sp->secured = false;
	if (sp->vlan)
		atomic_fetch_sub(&sw->vlan_ports, 1);
	sp->vlan = false;
	memset(&sp->cfg, 0, sizeof(sp->cfg));
	sp->flood_interval_ns = 0;
}

static bool mac_allowed(const struct switch_port_cfg *c, const uint8_t *mac)
{
	for (unsigned i = 0; i < c->n_macs; i++)
		if (memcmp(c->macs[i], mac, 6) == 0)
			return true;
	return false;
}

static bool ip4_allowed(const struct switch_port_cfg *c, const uint8_t *ip)
{
	static const uint8_t any[4];

	for (unsigned i = 0; i < c->n_ip4; i++)
		if (memcmp(c->ip4[i], ip, 4) == 0)
			return true;
	return memcmp(ip, any, 4) == 0; /* DHCP discover, ARP probe (RFC 5227) */
}

static bool ip6_allowed(const struct switch_port_cfg *c, const uint8_t *ip)
{
	static const uint8_t any[16];

	for (unsigned i = 0; i < c->n_ip6; i++)
		if (memcmp(c->ip6[i], ip, 16) == 0)
			return true;
	return memcmp(ip, any, 16) == 0; /* duplicate address detection */
}

/* The verdict on one frame of a secured port, from the private copy @h of its first @len bytes. */
static enum port_drop sec_check(const struct switch_port_cfg *c, const uint8_t *h, uint32_t len)
{
	static const uint8_t arp_ipv4_eth[6] = { 0, 1, 8, 0, 6, 4 }; /* htype 1, ptype IPv4, hlen 6, plen 4 */
	uint16_t type = (uint16_t)(h[12] << 8 | h[13]);

	if (c->n_macs && !mac_allowed(c, h + 6))
		return DROP_SRC_MAC;
	if (type == ETHERTYPE_ARP) {
		if (len < ARP_END || memcmp(h + ETH_HLEN, arp_ipv4_eth, 6) != 0)
			return c->ip_lock ? DROP_ETHERTYPE : PASS;
		if (c->n_macs && memcmp(h + ARP_SHA, h + 6, 6) != 0)
			return DROP_SRC_MAC; /* claims another MAC in the sender field */
		if (c->ip_lock && !ip4_allowed(c, h + ARP_SPA))
			return DROP_SRC_IP;
		return PASS;
	}
	if (!c->ip_lock || type == ETHERTYPE_RARP)
		return PASS;
	if (type == ETHERTYPE_IPV4) {
		if (len < IPV4_SRC + 4)
			return DROP_ETHERTYPE;
		return ip4_allowed(c, h + IPV4_SRC) ? PASS : DROP_SRC_IP;
	}
	if (type == ETHERTYPE_IPV6) {
		if (len < IPV6_SRC + 16)
			return DROP_ETHERTYPE;
		return ip6_allowed(c, h + IPV6_SRC) ? PASS : DROP_SRC_IP;
	}
	return DROP_ETHERTYPE;
}

void switch_sec_check(const struct switch_port *sp, struct pkt_batch *b)
{
	for (unsigned i = 0; i < b->n; i++) {
		const struct pkt *p = &b->pkts[i];
		/* The head: at least the Ethernet header (ports hand over no runt), at most PKT_HEAD_LONG. */
		enum port_drop why = sec_check(&sp->cfg, pkt_head(p), p->head_len);

		if (why != PASS)
			pkt_batch_drop(b, i, why);
		else
			b->dest[i] = PKT_DEST_UNSET;
	}
}
