/* virtio_spec.h - ring layouts, flags and feature bits of the virtio spec. */
#ifndef VSW_VIRTIO_SPEC_H
#define VSW_VIRTIO_SPEC_H

/*
 * Everything here is wire format shared with the other side of a virtqueue,
 * as defined by the virtio 1.3 specification (section numbers are 1.3's;
 * 1.1 and 1.2 number the split ring 2.6 and the packed ring 2.7).  All
 * fields are little-endian; vsw only builds on little-endian hosts.
 *
 * Split virtqueue (2.7): three areas, written by one side each.
 *
 *   descriptor table (driver writes)   available ring (driver writes)
 *   +------+-----+-------+------+      +-------+-----+---------+---------+------------+
 *   | addr | len | flags | next | x N  | flags | idx | ring[0] ... ring[N-1] | used_event |
 *   +------+-----+-------+------+      +-------+-----+---------+---------+------------+
 *     u64    u32   u16     u16           u16     u16   u16 each                u16
 *
 *   used ring (device writes)
 *   +-------+-----+-------------------------------+-------------+
 *   | flags | idx | ring[0..N-1] = {id u32, len u32} | avail_event |
 *   +-------+-----+-------------------------------+-------------+
 *
 * Packed virtqueue (2.8): one descriptor ring both sides write, plus two
 * 4-byte event suppression structures.
 *
 *   descriptor ring (driver makes available, device marks used, in place)
 *   +------+-----+----+-------+
 *   | addr | len | id | flags | x N     flags bit 7 = AVAIL, bit 15 = USED
 *   +------+-----+----+-------+
 *     u64    u32  u16   u16
 *   driver event suppression (driver writes) / device event suppression
 *   (device writes): { u16 off_wrap; u16 flags; }
 */

#include <stdbool.h>
#include <stdint.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "vsw accesses virtio's little-endian rings natively");

/* Feature bits (6 "Reserved Feature Bits", 5.1.3 for the net device). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_RING_PACKED 34
#define VIRTIO_F_IN_ORDER 35

#define VIRTIO_BIT(b) (1ULL << (b))

/* Largest queue size either layout allows (2.7: 32768 for split). */
#define VIRTQ_MAX_SIZE 32768u

/* Descriptor flags (2.7.5 split, 2.8.x packed). */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_DESC_F_AVAIL (1 << 7)
#define VIRTQ_DESC_F_USED (1 << 15)

/* Split ring suppression flags (2.7.7, 2.7.10). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

/* Packed ring event suppression flags (2.8.10). */
#define RING_EVENT_FLAGS_ENABLE 0x0
#define RING_EVENT_FLAGS_DISABLE 0x1
#define RING_EVENT_FLAGS_DESC 0x2

/* 2.7.5 */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* 2.7.6: followed in memory by ring[num] and used_event. */
struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

/* 2.7.8: followed in memory by ring[num] and avail_event. */
struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};

/* 2.8.13 */
struct pvirtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

/* 2.8.14 */
struct pvirtq_event_suppress {
	uint16_t off_wrap; /* bits 0-14 offset, bit 15 wrap counter */
	uint16_t flags;
};

/* Where the three areas of a queue are mapped, for either layout. */
union virtq_rings {
	struct {
		struct virtq_desc *desc;
		struct virtq_avail *avail;
		struct virtq_used *used;
	} split;
	struct {
		struct pvirtq_desc *desc;
		struct pvirtq_event_suppress *driver_event;
		struct pvirtq_event_suppress *device_event;
	} packed;
};

_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc is 16 bytes");
_Static_assert(sizeof(struct pvirtq_desc) == 16, "pvirtq_desc is 16 bytes");

/* Bytes each split ring area takes for a queue of @num entries (2.7). */
static inline uint64_t virtq_split_desc_size(unsigned num) { return 16ull * num; }
static inline uint64_t virtq_split_avail_size(unsigned num) { return 6ull + 2ull * num; }
static inline uint64_t virtq_split_used_size(unsigned num) { return 6ull + 8ull * num; }

/*
 * 2.7.7.2 / 2.7.10: with VIRTIO_F_EVENT_IDX, a side notifies when the index
 * it moved from @old to @new has passed the other side's @event, i.e. when
 * event lies in [old, new) modulo 2^16.
 */
static inline bool vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

#endif
