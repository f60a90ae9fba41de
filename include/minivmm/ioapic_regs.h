/*
 * ioapic_regs.h: I/O APIC register layout (Intel 82093AA data sheet), shared by the device
 * model and the guest driver. Indirect access: write the register index to IOREGSEL, then read
 * or write IOWIN. Redirection entry n is the 64-bit pair of registers 0x10+2n (low), 0x11+2n.
 */
#ifndef MINIVMM_IOAPIC_REGS_H
#define MINIVMM_IOAPIC_REGS_H

#define IOAPIC_NUM_PINS 24

#define IOAPIC_REGSEL 0x00
#define IOAPIC_IOWIN 0x10
#define IOAPIC_EOI 0x40 /* version 0x20 only: write a vector to clear its Remote IRR */

#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REG_ARB 0x02
#define IOAPIC_REG_REDTBL 0x10

#define IOAPIC_VERSION 0x20

/* Redirection entry bits. */
#define IOAPIC_RTE_VECTOR_MASK 0xffull
#define IOAPIC_RTE_DELMODE_SHIFT 8 /* 0 fixed, 1 lowest prio, 2 SMI, 4 NMI, 5 INIT, 7 ExtINT */
#define IOAPIC_RTE_DELMODE_MASK (7ull << 8)
#define IOAPIC_RTE_DESTMODE (1ull << 11) /* 1 = logical */
#define IOAPIC_RTE_DELIVS (1ull << 12)   /* read-only: delivery pending */
#define IOAPIC_RTE_POLARITY (1ull << 13) /* 1 = active low */
#define IOAPIC_RTE_REMOTE_IRR (1ull << 14)
#define IOAPIC_RTE_LEVEL (1ull << 15) /* trigger mode: 1 = level */
#define IOAPIC_RTE_MASKED (1ull << 16)
#define IOAPIC_RTE_DEST_SHIFT 56

#endif
