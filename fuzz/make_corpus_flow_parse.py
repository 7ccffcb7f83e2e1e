#!/usr/bin/env python3
"""make_corpus_flow_parse.py - write the seed corpus of fuzz_flow_parse.

    fuzz/make_corpus_flow_parse.py [OUTDIR]     (default fuzz/corpus/flow_parse)

Each seed is one input in the format described at the top of
fuzz/fuzz_flow_parse.c: a byte for the command (add, modify, delete) and
port names, then flow text.  The flows are the examples of the Open vSwitch
documentation (ovs-actions(7), ovs-fields(7), ovs-ofctl(8), the advanced
tutorial's VLAN pipeline, ovs-ofctl dump-flows output) as written there,
those vsw refuses (ct, controller, sample...), every form of learn, and the edges of
every value syntax.  Python 3 standard library only; deterministic.
"""

import os
import sys

ADD, MODIFY, DELETE = 0, 1, 2
NAMES = 4

# Flows as the Open vSwitch documentation writes them.
OVS_DOCS = [
    # ovs-actions(7)
    "in_port=2,actions=in_port",
    "actions=2,3,4,5,6,in_port",
    "actions=all,in_port",
    "in_port=2,actions=load:0->in_port,2",
    "actions=load:0->in_port,2,3,4,5,6",
    "actions=push:in_port,load:0->in_port,2,3,4,5,6,pop:in_port",
    "actions=set_field:00:11:22:33:44:55->eth_src",
    "actions=load:0x001122334455->eth_src",
    "actions=load:0x001122334455->OXM_OF_ETH_SRC[]",
    "actions=set_field:01:00:00:00:00:00/01:00:00:00:00:00->eth_dst",
    "actions=load:1->eth_dst[40]",
    "actions=move:reg0[0..5]->reg1[26..31]",
    "actions=move:reg0[0..15]->vlan_tci",
    "actions=check_pkt_larger(1500)->reg0[0]",
    "table=0,priority=1,action=drop",
    "table=0,priority=10,arp,action=normal",
    "table=0,priority=100,ip,ct_state=-trk,action=ct(table=1)",
    "table=1,in_port=1,ip,ct_state=+trk+new,action=ct(commit),2",
    "table=1,in_port=1,ip,ct_state=+trk+est,action=2",
    "table=1,in_port=2,ip,ct_state=+trk+new,action=drop",
    "actions=push:reg2[0..5]",
    "actions=resubmit(,1)",
    "actions=resubmit:3",
    "actions=goto_table:1",
    "actions=write_metadata:0x1/0xff",
    "actions=note:00.11.22.33",
    "actions=clone(output:1)",
    "actions=dec_ttl",
    "actions=dec_ttl(1,2)",
    "actions=set_tunnel:0x5",
    "actions=set_tunnel64:0x1122334455667788",
    "actions=strip_vlan",
    "actions=pop_vlan",
    "actions=push_vlan:0x8100",
    "actions=mod_vlan_vid:10",
    "actions=mod_vlan_pcp:7",
    "actions=controller",
    "actions=output:LOCAL",
    "actions=output(port=1,max_len=128)",
    "actions=enqueue:1:2",
    "actions=sample(probability=65535,collector_set_id=1)",
    # ovs-actions(7): learn
    "udp, actions=learn(dl_type=0x800, nw_proto=17, udp_dst=udp_src)",
    "actions=learn(table=1,hard_timeout=60,NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
    "output:NXM_OF_IN_PORT[])",
    "actions=learn(table=1,idle_timeout=10,priority=7,cookie=0x5,send_flow_rem,eth_dst=eth_src,load:0x7->reg1[],"
    "load:in_port->reg0[0..15],output:reg2[0..15],reg0[3..5]=5,in_port=3)",
    "ipv6,actions=learn(table=4,eth_type=0x86dd,ipv6_dst=ipv6_src,load:ipv6_src[64..127]->tun_ipv6_dst[0..63])",
    "actions=learn(),clone(learn(eth_dst))",
    "actions=learn(limit=10,result_dst=reg0[1],delete_learned,fin_idle_timeout=5,fin_hard_timeout=10)",
    "actions=learn(udp_dst=udp_src)",
    "actions=learn(eth_dst=01:02:03:04:05:06/ff:ff:ff:00:00:00,load:0x100->reg0[0..7])",
    # ovs-actions(7): the stack, exit, check_pkt_larger
    "actions=pop:reg2[0..5]",
    "actions=output:1,exit,output:2",
    "actions=check_pkt_larger(8000)->reg9[10]",
    "udp,actions=push:udp_src[],pop:udp_dst[],check_pkt_larger(64)->NXM_NX_REG0[31],exit",
    "actions=check_pkt_larger(1500)->reg0[0..1]",
    # ovs-fields(7): the VLAN chart, masks
    "vlan_tci=0,actions=drop",
    "vlan_tci=0x1000/0x1000,actions=drop",
    "vlan_tci=0xf123,actions=drop",
    "vlan_tci=0x1123/0x1fff,actions=drop",
    "vlan_tci=0x5000/0xf000,actions=drop",
    "vlan_tci=0/0xfff,actions=drop",
    "vlan_tci=0x5000/0xe000,actions=drop",
    "vlan_tci=0/0xefff,actions=drop",
    "dl_vlan=0xffff,actions=drop",
    "vlan_vid=0x1009,actions=drop",
    "vlan_vid=0x1001/0x1001,actions=drop",
    "ip,ip_frag=no,actions=drop",
    "ip,ip_frag=later,actions=drop",
    "ipv6,ip_frag=not_later,actions=drop",
    "tcp,tp_dst=0x1000/0xf000,actions=drop",
    "ip,nw_dst=10.0.0.0/8,actions=drop",
    "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=drop",
    # ovs-ofctl(8)
    "cookie=1/-1,cookie=2,actions=normal",
    "cookie=1,actions=normal",
    "priority=65535,idle_timeout=10,hard_timeout=30,in_port=1,actions=drop",
    "send_flow_rem,check_overlap,reset_counts,actions=drop",
    "out_port=2,cookie=0x5/0xff",
    "table=255",
    "cookie=0x0, duration=12.345s, table=0, n_packets=3, n_bytes=180, idle_age=3, priority=100,ip actions=NORMAL",
    # the advanced tutorial's VLAN pipeline
    "table=0, dl_src=01:00:00:00:00:00/01:00:00:00:00:00, actions=drop",
    "table=0, dl_dst=01:80:c2:00:00:00/ff:ff:ff:ff:ff:f0, actions=drop",
    "table=0, priority=0, actions=resubmit(,1)",
    "table=1, priority=0, actions=drop",
    "table=1, priority=99, in_port=1, actions=resubmit(,2)",
    "table=1, priority=99, in_port=2, vlan_tci=0, actions=mod_vlan_vid:20, resubmit(,2)",
    "table=1, priority=99, in_port=3, vlan_tci=0/0xfff, actions=mod_vlan_vid:30, resubmit(,2)",
    "table=2 actions=learn(table=10, NXM_OF_VLAN_TCI[0..11], NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[], "
    "load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15]), resubmit(,3)",
    "table=3 priority=50 actions=resubmit(,10), resubmit(,4)",
    "table=3 priority=99 dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=resubmit(,4)",
    "table=10, vlan_tci=0x0014/0x0fff,dl_dst=50:00:00:00:00:01 actions=load:0x1->NXM_NX_REG0[0..15]",
    "table=4 reg0=1 actions=1",
    "table=4 reg0=2 actions=strip_vlan,2",
    "table=4 reg0=0 priority=99 dl_vlan=20 actions=1,strip_vlan,2",
    "table=4 reg0=0 priority=99 dl_vlan=30 actions=1,strip_vlan,3,4",
    "table=4 reg0=0 priority=50            actions=1",
]

# Every field and action vsw has, and the edges of the value syntaxes.
VSW = [
    "in_port=vm1,dl_src=02:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,actions=output:vm2",
    "arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/24,arp_sha=02:00:00:00:00:01,arp_tha=00:00:00:00:00:00/ff:00:00:00:00:00,"
    "actions=move:arp_sha[]->arp_tha[],load:2->arp_op,in_port",
    "arp,nw_src=10.0.0.1,nw_proto=2,actions=flood",
    "rarp,actions=normal",
    "icmp,icmp_type=8,icmp_code=0,actions=set_field:0->icmp_type,in_port",
    "icmp6,icmpv6_type=135,icmpv6_code=0,actions=normal",
    "tcp6,ipv6_src=2001:db8::/32,ipv6_dst=fe80::1/::ffff,tp_src=22,actions=set_field:2001:db8::1->ipv6_src,output:1",
    "udp6,udp_dst=547,actions=mod_tp_dst:546,output:2",
    "udp,udp_src=68,udp_dst=67,actions=all",
    "tcp,tcp_src=1024/0xfc00,tcp_dst=443,actions=mod_tp_src:80,output:3",
    "ip,nw_tos=184,nw_ecn=3,nw_ttl=1,actions=mod_nw_tos:0,mod_nw_ecn:0,mod_nw_ttl:64,dec_ttl,output:1",
    "ip,ip_dscp=46,nw_src=192.168.0.0/255.255.0.255,actions=mod_nw_src:192.0.2.1,mod_nw_dst:198.51.100.1,normal",
    "dl_type=0x0800,nw_proto=6,actions=drop",
    "eth_type=0x86dd,actions=drop",
    "dl_type=0x05ff,actions=drop",
    "tun_id=0x5/0xff,tun_src=192.0.2.1,tun_dst=192.0.2.0/24,actions=set_tunnel:0xffffffff,output:1",
    "metadata=0x8000000000000000/0x8000000000000000,actions=write_metadata:0xffffffffffffffff",
    "reg0=0xffffffff,reg1=0/0x1,reg2=5,reg3=6,reg4=7,reg5=8,reg6=9,reg7=0x10/0xf0,actions=output:reg0[0..15]",
    "reg3[4..7]=0xa,reg7[31]=1,actions=move:reg7[]->metadata[32..63]",
    "dl_vlan=4095,dl_vlan_pcp=7,actions=mod_vlan_vid:0,push_vlan:0x88a8,output:1",
    "vlan_pcp=3,actions=set_field:4100->vlan_vid,set_field:2->vlan_pcp,set_field:7->dl_vlan,output:2",
    "actions=clone(clone(clone(clone(output:1))))",
    "actions=clone(clone(clone(clone(clone(output:1)))))",
    "actions=clone(),note:",
    "actions=resubmit(vm1,253),resubmit(,0),resubmit(1,)",
    "table=252,actions=goto_table:253",
    "table=253,priority=0,actions=drop",
    "priority=0 actions=NORMAL",
    "actions=FLOOD,ALL,IN_PORT,NORMAL",
    "actions=load:0xffff->NXM_OF_IN_PORT[],output:NXM_OF_IN_PORT[]",
    "actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],move:NXM_NX_IPV6_SRC[0..63]->NXM_NX_IPV6_DST[64..127]",
    "ipv6,actions=move:NXM_NX_IPV6_SRC[0..63]->NXM_NX_IPV6_DST[64..127]",
    "ip,actions=move:NXM_OF_IP_SRC[]->NXM_OF_IP_DST[],load:0xa000001->NXM_OF_IP_SRC[]",
    # refusals and edges
    "tp_dst=80,actions=drop",
    "ip,tp_dst=80,actions=drop",
    "nw_src=1.2.3.4,actions=drop",
    "tcp,udp,actions=drop",
    "ip,nw_tos=5,actions=drop",
    "ip,nw_dst=10.0.0.0/33,actions=drop",
    "ip,nw_dst=10.0.0.256,actions=drop",
    "dl_src=00:11:22:33:44,actions=drop",
    "priority=65536,actions=drop",
    "table=254,actions=drop",
    "cookie=0x10000000000000000,actions=drop",
    "actions=load:0x10000->reg0[0..15]",
    "actions=move:reg0[0..3]->reg1[0..4]",
    "actions=drop,output:1",
    "actions=goto_table:3,output:1",
    "actions=clone(output:1",
    "actions=output:1)",
    "actions=((()))",
    "actions=",
    "actions",
    "action=output:1 actions=output:2",
    "reg0[=1,actions=drop",
    "reg0[0..]=1,actions=drop",
    "reg0[5..4]=1,actions=drop",
    "ipv6_src=::/129,ipv6,actions=drop",
    "ipv6,ipv6_src=::ffff:1.2.3.4/::ffff:ffff:0,actions=drop",
    "=,=,=actions=drop",
    ",,,, \t\r\n actions=drop",
    # the destination VTEP from the flows (a vxlan port with remote=flow), appended: the seeds above keep their names
    "ip,nw_dst=10.9.0.2,actions=set_field:172.31.0.2->tun_dst,output:vx0",
    "actions=load:0xc0000207->NXM_NX_TUN_IPV4_DST[],set_tunnel:0x64,output:1,set_field:0.0.0.0->tun_dst,output:2",
    "actions=move:reg0[]->tun_dst[],move:NXM_NX_TUN_IPV4_SRC[]->NXM_NX_TUN_IPV4_DST[],load:7->tun_dst[0..7]",
    "actions=set_field:192.0.2.0/255.255.255.0->tun_dst,set_field:1.2.3.4.5->tun_dst",
    # IPv6 underlays (tun_ipv6_src, tun_ipv6_dst), appended likewise
    "tun_ipv6_src=fd00::1,tun_ipv6_dst=fd00::/64,actions=set_field:fd00::2->tun_ipv6_dst,output:1",
    "actions=move:NXM_NX_TUN_IPV6_SRC[0..63]->tun_ipv6_dst[64..127],load:2->tun_ipv6_dst[0..7],output:1",
    "actions=set_field:fd00::9->tun_ipv6_src,output:1",
    "tcp,tcp_flags=+syn-ack,actions=drop",
    "tcp6,tcp_flags=syn|ack|0x100,actions=move:tcp_flags[0..7]->reg0[0..7],normal",
    "tcp,NXM_NX_TCP_FLAGS=0x002/0x012,tcp_flags=+syn+[800]-rst,actions=normal",
    "tcp,tcp_flags=+syn+syn,tcp_flags=syn||,tcp_flags=0x1000,actions=drop",
    "tcp,tcp_flags[12]=1,tcp_flags[0..4]=0x2/0x12,tcp_flags[]=0x12,actions=drop",
    "icmp6,icmp_type=135,icmp_code=0,actions=set_field:136->icmpv6_type,normal",
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "flow_parse")
    os.makedirs(out, exist_ok=True)
    seeds = {}
    for i, flow in enumerate(OVS_DOCS):
        seeds["ovs_%03d" % i] = bytes([ADD]) + flow.encode()
    for i, flow in enumerate(VSW):
        seeds["vsw_%03d" % i] = bytes([ADD | NAMES]) + flow.encode()
    # The match halves as modify and delete filters, with names.
    for i, flow in enumerate(OVS_DOCS + VSW):
        match = flow.split("action")[0].rstrip(", ")
        seeds["del_%03d" % i] = bytes([DELETE | NAMES]) + match.encode()
        seeds["mod_%03d" % i] = bytes([MODIFY]) + flow.encode()
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(data)
    print("%d seeds in %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
