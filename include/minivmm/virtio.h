/*
 * virtio.h: the virtio 1.x ABI shared by minivmm's device models and a guest driver:
 * virtio-mmio (version 2) register offsets, device status bits, feature bits, the split
 * virtqueue structures and the virtio-net header and config space.
 *
 * Self-contained C99 (only <stdint.h>). Names follow Linux's uapi headers (virtio_mmio.h,
 * virtio_config.h, virtio_ring.h, virtio_net.h) where the spec has none of its own; section
 * numbers are those of the OASIS virtio 1.2/1.3 specification. Every multi-byte field is
 * little-endian for a VERSION_1 device; host and guest are both x86-64 here, so
 * the structs use plain integers and must not be used on a big-endian side without byte
 * swapping. The structs are naturally aligned and contain no padding; their sizes are fixed
 * by the spec and listed beside them.
 */
#ifndef MINIVMM_VIRTIO_H
#define MINIVMM_VIRTIO_H

#include <stdint.h>

/* ---- virtio-mmio register map, version 2 (spec §4.2.2) ---- */

#define VIRTIO_MMIO_MAGIC_VALUE 0x000         /* R: VIRTIO_MMIO_MAGIC */
#define VIRTIO_MMIO_VERSION 0x004             /* R: 2 */
#define VIRTIO_MMIO_DEVICE_ID 0x008           /* R: VIRTIO_ID_* (0: no device) */
#define VIRTIO_MMIO_VENDOR_ID 0x00c           /* R */
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010     /* R: 32 bits selected by DEVICE_FEATURES_SEL */
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014 /* W: 0 = bits 0-31, 1 = bits 32-63 */
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020     /* W */
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024 /* W */
#define VIRTIO_MMIO_QUEUE_SEL 0x030           /* W */
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034       /* R: QueueSizeMax; 0 = no such queue */
#define VIRTIO_MMIO_QUEUE_NUM 0x038           /* W: QueueSize, power of 2 <= QueueNumMax */
#define VIRTIO_MMIO_QUEUE_READY 0x044         /* RW */
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050        /* W: queue index */
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060    /* R: VIRTIO_MMIO_INT_* */
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064       /* W: bits to clear */
#define VIRTIO_MMIO_STATUS 0x070              /* RW: VIRTIO_CONFIG_S_*; writing 0 resets */
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080      /* W: Descriptor Area */
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_AVAIL_LOW 0x090 /* W: Driver Area (spec: QueueDriverLow) */
#define VIRTIO_MMIO_QUEUE_AVAIL_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_USED_LOW 0x0a0 /* W: Device Area (spec: QueueDeviceLow) */
#define VIRTIO_MMIO_QUEUE_USED_HIGH 0x0a4
#define VIRTIO_MMIO_SHM_SEL 0x0ac     /* W */
#define VIRTIO_MMIO_SHM_LEN_LOW 0x0b0 /* R: all-ones = no such region */
#define VIRTIO_MMIO_SHM_LEN_HIGH 0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW 0x0b8 /* R: all-ones = no such region */
#define VIRTIO_MMIO_SHM_BASE_HIGH 0x0bc
#define VIRTIO_MMIO_QUEUE_RESET 0x0c0       /* RW, only with VIRTIO_F_RING_RESET */
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc /* R */
#define VIRTIO_MMIO_CONFIG 0x100            /* device-specific configuration space */

#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" in memory order */
#define VIRTIO_MMIO_VERSION_2 2u
/* Registers 0x000-0x0fc are 32-bit and must be accessed with aligned 32-bit accesses
 * (§4.2.2.2); config space with accesses of its fields' widths. */
#define VIRTIO_MMIO_WINDOW_SIZE 0x1000

/* InterruptStatus / InterruptACK bits (§4.2.2). */
#define VIRTIO_MMIO_INT_VRING 0x1  /* Used Buffer Notification */
#define VIRTIO_MMIO_INT_CONFIG 0x2 /* Configuration Change Notification */

/* minivmm's VendorID. */
#define MINIVMM_VIRTIO_VENDOR_ID 0x6d766d6du /* "mmvm" in memory order */

/* ---- device status (spec §2.1) ---- */

#define VIRTIO_CONFIG_S_ACKNOWLEDGE 0x01
#define VIRTIO_CONFIG_S_DRIVER 0x02
#define VIRTIO_CONFIG_S_DRIVER_OK 0x04
#define VIRTIO_CONFIG_S_FEATURES_OK 0x08
#define VIRTIO_CONFIG_S_NEEDS_RESET 0x40 /* set by the device only */
#define VIRTIO_CONFIG_S_FAILED 0x80

/* ---- device types (spec §5) ---- */

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4

/* ---- device-independent feature bits (spec §6), as bit numbers ---- */

#define VIRTIO_TRANSPORT_F_START 24 /* bits 24-41: transport and ring features (§2.2) */
#define VIRTIO_TRANSPORT_F_END 42
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34
#define VIRTIO_F_IN_ORDER 35
#define VIRTIO_F_ORDER_PLATFORM 36
#define VIRTIO_F_SR_IOV 37
#define VIRTIO_F_NOTIFICATION_DATA 38
#define VIRTIO_F_NOTIF_CONFIG_DATA 39
#define VIRTIO_F_RING_RESET 40
#define VIRTIO_F_ADMIN_VQ 41

#define VIRTIO_BIT(b) (1ull << (b))

/* ---- split virtqueue (spec §2.7) ---- */

#define VIRTQ_MAX_SIZE 32768 /* queue size: power of 2, at most this (§2.7) */

/* Minimum alignments of the three areas (§2.7 table). */
#define VIRTQ_DESC_ALIGN 16
#define VIRTQ_AVAIL_ALIGN 2
#define VIRTQ_USED_ALIGN 4

/* struct vring_desc flags (§2.7.5). */
#define VIRTQ_DESC_F_NEXT 1     /* `next` continues the chain */
#define VIRTQ_DESC_F_WRITE 2    /* device-writable (otherwise device-readable) */
#define VIRTQ_DESC_F_INDIRECT 4 /* addr/len is a table of struct vring_desc (§2.7.5.3) */

/* A descriptor (§2.7.5): 16 bytes. */
struct vring_desc {
    uint64_t addr; /* guest-physical */
    uint32_t len;
    uint16_t flags; /* VIRTQ_DESC_F_* */
    uint16_t next;
};

/* Driver area (§2.7.6): 6 + 2*N bytes. used_event follows ring[N] (EVENT_IDX only). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct vring_avail {
    uint16_t flags; /* VIRTQ_AVAIL_F_*; ignored with EVENT_IDX */
    uint16_t idx;   /* free-running, where the driver puts the next entry */
    uint16_t ring[];
};

/* Device area (§2.7.8): 6 + 8*N bytes. avail_event follows ring[N] (EVENT_IDX only). */
#define VIRTQ_USED_F_NO_NOTIFY 1

struct vring_used_elem {
    uint32_t id;  /* head descriptor index of the chain */
    uint32_t len; /* bytes written into the device-writable part */
};

struct vring_used {
    uint16_t flags; /* VIRTQ_USED_F_*; ignored with EVENT_IDX */
    uint16_t idx;   /* free-running, where the device puts the next entry */
    struct vring_used_elem ring[];
};

/* Sizes of the three areas for a queue of `num` entries, event fields included. */
static inline uint64_t vring_desc_size(uint32_t num)
{
    return 16ull * num;
}

static inline uint64_t vring_avail_size(uint32_t num)
{
    return 6ull + 2ull * num;
}

static inline uint64_t vring_used_size(uint32_t num)
{
    return 6ull + 8ull * num;
}

/* Byte offsets of used_event in the driver area and avail_event in the device area. */
static inline uint64_t vring_used_event_off(uint32_t num)
{
    return 4ull + 2ull * num;
}

static inline uint64_t vring_avail_event_off(uint32_t num)
{
    return 4ull + 8ull * num;
}

/* EVENT_IDX (§2.7.7, Appendix A, Linux's vring_need_event): after moving an index from
 * `old_idx` to `new_idx`, notify iff the other side's event index lies in [old, new). */
static inline int vring_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
    return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

/* ---- virtio-net (spec §5.1) ---- */

/* Feature bits (§5.1.3). */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_CTRL_RX 18
#define VIRTIO_NET_F_CTRL_VLAN 19
#define VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_NET_F_CTRL_MAC_ADDR 23
#define VIRTIO_NET_F_SPEED_DUPLEX 63

/* Virtqueues (§5.1.2) of a single-pair device. */
#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1
#define VIRTIO_NET_CTRLQ 2 /* with VIRTIO_NET_F_CTRL_VQ (and no MQ) */

/* Control virtqueue (§5.1.6.5): device-readable {u8 class; u8 command; data}, then a
 * device-writable u8 ack. */
#define VIRTIO_NET_OK 0
#define VIRTIO_NET_ERR 1
#define VIRTIO_NET_CTRL_RX 0
#define VIRTIO_NET_CTRL_RX_PROMISC 0
#define VIRTIO_NET_CTRL_RX_ALLMULTI 1
#define VIRTIO_NET_CTRL_MAC 1
#define VIRTIO_NET_CTRL_MAC_TABLE_SET 0
#define VIRTIO_NET_CTRL_MAC_ADDR_SET 1

/* Config space (§5.1.4), at VIRTIO_MMIO_CONFIG; read-only for the driver. */
#define VIRTIO_NET_S_LINK_UP 1
#define VIRTIO_NET_S_ANNOUNCE 2

struct virtio_net_config {
    uint8_t mac[6];               /* 0x00, valid with VIRTIO_NET_F_MAC */
    uint16_t status;              /* 0x06, VIRTIO_NET_S_*, valid with VIRTIO_NET_F_STATUS */
    uint16_t max_virtqueue_pairs; /* 0x08, with VIRTIO_NET_F_MQ */
    uint16_t mtu;                 /* 0x0a, with VIRTIO_NET_F_MTU */
    uint32_t speed;               /* 0x0c, Mbit/s, with VIRTIO_NET_F_SPEED_DUPLEX */
    uint8_t duplex;               /* 0x10: 1 full, 0 half, 0xff unknown (Linux's values) */
    uint8_t pad[3];               /* keeps sizeof at 20; fields after duplex not offered */
};

/* The header before every packet on both queues (§5.1.6): 12 bytes for VERSION_1 devices
 * without HASH_REPORT, whether or not MRG_RXBUF is negotiated. The device must not assume
 * it sits in a descriptor of its own (§2.7.4.1). */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_F_RSC_INFO 4

#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_UDP 3
#define VIRTIO_NET_HDR_GSO_TCPV6 4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#define VIRTIO_NET_HDR_GSO_ECN 0x80

struct virtio_net_hdr_v1 {
    uint8_t flags;    /* VIRTIO_NET_HDR_F_* */
    uint8_t gso_type; /* VIRTIO_NET_HDR_GSO_* */
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers; /* RX: buffers merged (1 without MRG_RXBUF); TX: 0 */
};

#endif
