/*
 * ne2000.h: an NE2000-compatible NIC (NS DP8390 core + the NE2000 remote-DMA "ASIC"),
 * after the DP8390D data sheet and QEMU's hw/net/ne2000.c; register layout in
 * minivmm/ne2000_regs.h.
 *
 * The VMM holds a struct ne2000 on a network port (minivmm/hw/netport.h; in the VMM an extra
 * port of the PF switch), registers ne2000_bus_ops on NE2000_IO_SIZE PIO ports
 * (MINIVMM_NE2000_PORT) and calls ne2000_attach(): frames the guest transmits go to the port's
 * transmit(), frames from the port enter through ne2000_receive() (the deliver callback). A
 * DP8390 filters multicast itself (RCR.AM and the MAR hash), so attaching asks the port for all
 * multicast.
 *
 * Locking: every entry point takes `lock`; the irq line is driven with it held (lock order:
 * device, then whatever sits behind the line, e.g. the IOAPIC). transmit() is called WITHOUT
 * the lock (the frame is first copied out of card memory), so netport.h's rule holds: the port
 * delivers with its own lock held, and ne2000_receive() then takes the device lock.
 */
#ifndef MINIVMM_NE2000_H
#define MINIVMM_NE2000_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minivmm/hw/bus.h"
#include "minivmm/hw/irq.h"
#include "minivmm/hw/netport.h"
#include "minivmm/ne2000_regs.h"

struct ne2000_stats {
    uint64_t tx_packets, tx_bytes; /* frames handed to the port */
    uint64_t tx_errors;            /* TXP refused: TBCR 0 or > 1518, frame outside the buffer */
    uint64_t rx_packets, rx_bytes; /* frames written into the ring */
    uint64_t rx_overflows;         /* dropped: ring full (ISR.OVW), or no valid ring */
    uint64_t rx_stopped;           /* dropped: NIC stopped (CR.STP) */
    uint64_t rx_filtered;          /* dropped by RCR/PAR/MAR, or longer than 1518 */
};

struct ne2000 {
    pthread_mutex_t lock;

    uint8_t cr, isr, imr, dcr, rcr, tcr, tsr, rsr;
    uint8_t pstart, pstop, bnry, curr, tpsr;
    uint16_t tbcr, rsar, rbcr; /* rsar advances during remote DMA (it is also CRDA) */
    uint8_t par[6], mar[8];
    uint8_t cntr[3]; /* tallies; cleared when read */
    int irq_level;

    uint8_t prom[NE2000_PROM_SIZE];
    uint8_t mem[NE2000_MEM_SIZE]; /* card address NE2000_MEM_START + i */

    struct irq_line irq;
    struct netport port; /* ops NULL: unconnected */
    struct ne2000_stats stats;
};

/* Power-on state (CR = STP|RD2 0x21, ISR = RST, IMR = 0: the line is low), the PROM filled from
 * `mac` (doubled bytes, "WW" signature), PAR preset to `mac` as a convenience (drivers copy the
 * PROM into PAR themselves). `irq` and `port` are copied (NULL: unconnected; without a port,
 * frames are dropped after PTX). 0 or -errno. */
int ne2000_init(struct ne2000 *nd, const uint8_t mac[6], const struct irq_line *irq,
                const struct netport *port);
/* Connects ne2000_receive() to the port and asks it for all multicast. 0 or -errno. */
int ne2000_attach(struct ne2000 *nd);
/* Disconnects it (the port delivers nothing more once this returns). */
void ne2000_detach(struct ne2000 *nd);
/* No thread may be inside any ne2000_* call. */
void ne2000_destroy(struct ne2000 *nd);

/* The reset port's effect (a read of base+0x1f): CR = 0x21, ISR = RST, IMR = 0, remote DMA
 * idle. Card memory, PAR, MAR and the ring registers are kept (as on a DP8390). */
void ne2000_reset(struct ne2000 *nd);

/* A frame from the wire: 0 when written into the ring (ISR.PRX); -ENOBUFS when the NIC is
 * stopped or the ring has no room (ring full: ISR.OVW, CNTR2 and rx_overflows; unread data is
 * never overwritten); -EPERM when the receive filter refuses it; -EMSGSIZE when longer than
 * NE2000_MAX_FRAME. Frames shorter than NE2000_MIN_FRAME are zero-padded. */
int ne2000_receive(struct ne2000 *nd, const void *frame, size_t len);

void ne2000_get_stats(struct ne2000 *nd, struct ne2000_stats *st);

/* Bus callbacks on NE2000_IO_SIZE ports: 1-byte accesses to 0x00-0x0f (wider ones act on the
 * low byte), 1/2/4-byte accesses to the data port 0x10, 1-byte reads of the reset port 0x1f.
 * Anything else reads all-ones and is ignored. */
extern const struct bus_dev_ops ne2000_bus_ops;
extern const struct bus_reg ne2000_regs[];
extern const unsigned ne2000_nregs;

#endif
