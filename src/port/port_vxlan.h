/* port_vxlan.h - a VXLAN tunnel endpoint as a switch port: remote VTEPs in one VNI (or the flows'), over the kernel's UDP/IP. */
#ifndef VSW_PORT_PORT_VXLAN_H
#define VSW_PORT_PORT_VXLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;
struct vtep_entry;
struct vtep_flood;
struct port;
struct port_env;

/*
 * `port add NAME vxlan local=IP [remote=IP[,IP..]|flow] vni=N|flow [dstport=4789]
 * [csum=on|off] [ttl=N] [tos=N|inherit] [src_ports=LO-HI] [mtu=N]`: IPv4
 * or IPv6 underlay (local and remotes of one family); the remotes are the
 * port's flood list (none without remote=: per-VNI lists only); remote=flow
 * sends each frame to its tun_dst (IPv4) or tun_ipv6_dst instead (flows:
 * set_field->tun_dst, set_field->tun_ipv6_dst);
 * vni=flow takes the VNI from the frame's tunnel key (flows:
 * set_tunnel, tun_id); vlan_vni= instead of vni= maps VLANs to VNIs (the
 * port is a trunk of those VLANs to the switch: received frames get their
 * VNI's tag, sent frames lose theirs and go in their VLAN's VNI).  NULL
 * with a reason in @err.
 */
struct port *port_vxlan_create(const char *name, struct json_object *params, const struct port_env *env, char *err,
			       size_t errlen);


/*
 * vlan_vni="VID:VNI[,VID:VNI..]" (as `bridge vlan add dev vxlan0 vid VID
 * tunnel_info id VNI`): VLAN IDs 1..4094 to VNIs 0..16777215, one to one.
 * Up to @max pairs into @vids and @vnis; their count, or -1 with @err.
 */
int port_vxlan_vlan_vni_parse(const char *s, uint16_t *vids, uint32_t *vnis, unsigned max, char *err, size_t errlen);

/* Is @p a vxlan port (the calls below take only those)? */
bool port_is_vxlan(const struct port *p);
/* The VNI @p serves, or -1 for vni=flow and vlan_vni=. */
int port_vxlan_vni(const struct port *p);
/*
 * Control thread: inner @mac in @vni is behind VTEP @remote (an address
 * of local='s family; not in the flood list unless remote= named it), for
 * good: never aged, never overridden by learning.  The zero MAC
 * 00:00:00:00:00:00 instead adds @remote to @vni's own flood list (as
 * `bridge fdb append 00:00:00:00:00:00 ... dst IP vni N`): that VNI's
 * broadcast, multicast and unknown unicast go to its list, not the
 * port's.  0, or -errno with @err; refused (-ENOSPC above all), the port
 * is as before: @remote is not made a VTEP it receives from.
 */
int port_vxlan_fdb_add(struct port *p, const uint8_t mac[6], uint32_t vni, const char *remote, char *err,
		       size_t errlen);
/*
 * Control thread: forget (@vni, @mac), static or learned; for the zero
 * MAC, @remote out of @vni's flood list (all of the list when NULL).
 * 0 or -ENOENT.
 */
int port_vxlan_fdb_del(struct port *p, const uint8_t mac[6], uint32_t vni, const char *remote);
/* Control thread: up to @max live entries (port/vtep.h); their remote's address by port_vxlan_remote_str(). */
unsigned port_vxlan_fdb_dump(struct port *p, struct vtep_entry *out, unsigned max);
/* Control thread: up to @max per-VNI flood lists (port/vtep.h: a mask over the remote indexes). */
unsigned port_vxlan_flood_dump(struct port *p, struct vtep_flood *out, unsigned max);
const char *port_vxlan_remote_str(struct port *p, unsigned remote);

/* A remote VTEP whose underlay MTU is not the port's, as `show` lists it. */
struct port_vxlan_mtu {
	char remote[46];	/* its address (INET6_ADDRSTRLEN) */
	bool flow;		/* remote=flow: a destination of the cache, not one of remote= or the static entries' */
	unsigned route;		/* the kernel's route MTU to it */
	unsigned mtu;		/* the one used: that, capped by mtu= */
	unsigned frame_max;	/* its largest inner frame */
};

#define PORT_VXLAN_MTU_MAX (32 + 256)	/* the most port_vxlan_mtu_dump() lists: remotes and remote=flow's destinations */

/* Control thread: up to @max remotes of @p whose MTU differs from the port's (describe's `mtu U`) into @out; their count. */
unsigned port_vxlan_mtu_dump(struct port *p, struct port_vxlan_mtu *out, unsigned max);

#endif
