/*
 * ne2000_regs.h: NE2000 (NS DP8390 core + NE2000 "ASIC") register layout, shared by the device
 * model (devices/ne2000.c) and the guest driver. Sources: QEMU hw/net/ne2000.c, Linux
 * drivers/net/ethernet/8390/8390.h and ne.c.
 *
 * Offsets are from the I/O base (MINIVMM_NE2000_PORT in abi.h). 0x00-0x0f are the DP8390
 * registers, paged by CR.PS1:PS0 (CR itself is at offset 0 on every page); 0x10 is the
 * remote-DMA data port (8-bit or 16-bit per DCR.WTS); 0x1f is the reset port.
 *
 * On-card memory, reached only through remote DMA (RSAR/RBCR + the data port):
 *   0x0000-0x001f  address PROM (read-only): byte 2i and 2i+1 both hold MAC byte i (i = 0..5),
 *                  bytes 28-31 hold 0x57 ("WW", the NE2000 signature); so a word-mode read of
 *                  word i returns MAC byte i in its low byte, and PROM "byte" 14/15 (after
 *                  undoubling) are 0x57.
 *   0x4000-0x7fff  16 KiB packet buffer = 64 pages of 256 bytes, pages 0x40-0x7f
 *                  (PSTART/PSTOP/TPSR/BNRY/CURR are page numbers in 0x40..0x80).
 * Everything else reads 0xff and ignores writes.
 *
 * Remote DMA: set RBCR and RSAR, then CR = STA | RREAD (or RWRITE), then move the bytes through
 * NE2000_DATAPORT. With DCR.WTS every data-port access moves 2 bytes (use inw/outw; an odd RBCR
 * moves one byte more), without it 1 byte. RSAR wraps from PSTOP*256 to PSTART*256 (so a frame
 * that wraps in the ring reads on in one transfer) and RBCR reaching 0 sets ISR.RDC.
 *
 * Receive ring: pages PSTART..PSTOP-1. Each received frame starts at a page boundary with a
 * 4-byte header (struct ne2000_rx_header) followed by the frame; the frame wraps from PSTOP to
 * PSTART. The driver reads from page BNRY+1 (wrapping) while that page != CURR, and after each
 * frame sets BNRY = next - 1 (wrapping to PSTOP-1 when next == PSTART).
 */
#ifndef MINIVMM_NE2000_REGS_H
#define MINIVMM_NE2000_REGS_H

#include <stdint.h>

/* Ports relative to the I/O base. */
#define NE2000_IO_SIZE 0x20
#define NE2000_DATAPORT 0x10 /* remote-DMA window, 1 or 2 bytes per access */
#define NE2000_RESET 0x1f    /* read: reset the NIC (ISR.RST set); write: ignored */

/* Command register, offset 0 on all pages. */
#define NE2000_CR 0x00
#define NE2000_CR_STP 0x01 /* stop */
#define NE2000_CR_STA 0x02 /* start */
#define NE2000_CR_TXP 0x04 /* transmit the packet at TPSR, TBCR bytes */
#define NE2000_CR_RD0 0x08 /* RD2..0 = 001: remote read */
#define NE2000_CR_RD1 0x10 /* RD2..0 = 010: remote write */
#define NE2000_CR_RD2 0x20 /* RD2..0 = 1xx: abort/complete remote DMA */
#define NE2000_CR_RD_MASK 0x38
#define NE2000_CR_RREAD 0x08
#define NE2000_CR_RWRITE 0x10
#define NE2000_CR_SENDPKT 0x18
#define NE2000_CR_NODMA 0x20
#define NE2000_CR_PS0 0x40 /* page select bits 7:6 */
#define NE2000_CR_PS1 0x80
#define NE2000_CR_PS_MASK 0xc0
#define NE2000_CR_PAGE0 0x00
#define NE2000_CR_PAGE1 0x40
#define NE2000_CR_PAGE2 0x80

/* Page 0, write side. */
#define NE2000_PSTART 0x01 /* first ring page */
#define NE2000_PSTOP 0x02  /* ring end page + 1 */
#define NE2000_BNRY 0x03   /* boundary: last page the driver consumed (read/write) */
#define NE2000_TPSR 0x04   /* transmit start page */
#define NE2000_TBCR0 0x05  /* transmit byte count, low */
#define NE2000_TBCR1 0x06  /* transmit byte count, high */
#define NE2000_ISR 0x07    /* interrupt status (read/write; write 1s to clear) */
#define NE2000_RSAR0 0x08  /* remote start address, low */
#define NE2000_RSAR1 0x09  /* remote start address, high */
#define NE2000_RBCR0 0x0a  /* remote byte count, low */
#define NE2000_RBCR1 0x0b  /* remote byte count, high */
#define NE2000_RCR 0x0c    /* receive configuration */
#define NE2000_TCR 0x0d    /* transmit configuration */
#define NE2000_DCR 0x0e    /* data configuration */
#define NE2000_IMR 0x0f    /* interrupt mask */

/* Page 0, read side (where it differs). */
#define NE2000_CLDA0 0x01 /* current local DMA address, low */
#define NE2000_CLDA1 0x02 /* current local DMA address, high */
#define NE2000_TSR 0x04   /* transmit status */
#define NE2000_NCR 0x05   /* number of collisions */
#define NE2000_FIFO 0x06
#define NE2000_CRDA0 0x08 /* current remote DMA address, low */
#define NE2000_CRDA1 0x09 /* current remote DMA address, high */
#define NE2000_RSR 0x0c   /* receive status */
#define NE2000_CNTR0 0x0d /* frame alignment error tally */
#define NE2000_CNTR1 0x0e /* CRC error tally */
#define NE2000_CNTR2 0x0f /* missed packet tally (frames dropped on a full ring) */

/* Page 1. */
#define NE2000_PAR0 0x01 /* physical address PAR0..PAR5 at 0x01..0x06 */
#define NE2000_CURR 0x07 /* current page the NIC writes received frames to */
#define NE2000_MAR0 0x08 /* multicast hash MAR0..MAR7 at 0x08..0x0f */

/* Page 2 (read only): PSTART 0x01, PSTOP 0x02, TPSR 0x04, RCR 0x0c, TCR 0x0d, DCR 0x0e,
 * IMR 0x0f; other offsets read 0xff. */

/* ISR / IMR bits. */
#define NE2000_ISR_PRX 0x01 /* packet received */
#define NE2000_ISR_PTX 0x02 /* packet transmitted */
#define NE2000_ISR_RXE 0x04 /* receive error */
#define NE2000_ISR_TXE 0x08 /* transmit error (here: bad TBCR, frame outside the buffer) */
#define NE2000_ISR_OVW 0x10 /* ring overflow: a frame was dropped, unread data kept */
#define NE2000_ISR_CNT 0x20 /* a tally counter's MSB set */
#define NE2000_ISR_RDC 0x40 /* remote DMA complete (RBCR reached 0) */
#define NE2000_ISR_RST 0x80 /* reset state / stopped (not an interrupt source) */

/* DCR bits. */
#define NE2000_DCR_WTS 0x01 /* word transfer select: data port moves 16 bits */
#define NE2000_DCR_BOS 0x02 /* byte order (ignored: little-endian) */
#define NE2000_DCR_LAS 0x04 /* long address (ignored) */
#define NE2000_DCR_LS 0x08  /* loopback select: 1 = normal operation */
#define NE2000_DCR_ARM 0x10 /* auto-initialise remote (ignored) */
#define NE2000_DCR_FT0 0x20 /* FIFO threshold (ignored) */
#define NE2000_DCR_FT1 0x40

/* RCR bits. */
#define NE2000_RCR_SEP 0x01 /* save errored packets */
#define NE2000_RCR_AR 0x02  /* accept runt packets */
#define NE2000_RCR_AB 0x04  /* accept broadcast */
#define NE2000_RCR_AM 0x08  /* accept multicast (hash-filtered through MAR0-7) */
#define NE2000_RCR_PRO 0x10 /* promiscuous */
#define NE2000_RCR_MON 0x20 /* monitor mode: check, do not buffer */

/* TCR bits. */
#define NE2000_TCR_CRC 0x01 /* inhibit CRC */
#define NE2000_TCR_LB0 0x02 /* loopback mode bits 2:1 (00 = normal) */
#define NE2000_TCR_LB1 0x04
#define NE2000_TCR_ATD 0x08  /* auto transmit disable */
#define NE2000_TCR_OFST 0x10 /* collision offset enable */

/* TSR bits. */
#define NE2000_TSR_PTX 0x01 /* packet transmitted */
#define NE2000_TSR_COL 0x04
#define NE2000_TSR_ABT 0x08 /* transmit aborted */

/* RSR bits (also the status byte of the receive header). */
#define NE2000_RSR_RXOK 0x01
#define NE2000_RSR_CRC 0x02
#define NE2000_RSR_FAE 0x04
#define NE2000_RSR_FO 0x08
#define NE2000_RSR_MPA 0x10 /* missed packet */
#define NE2000_RSR_PHY 0x20 /* multicast or broadcast destination */
#define NE2000_RSR_DIS 0x40
#define NE2000_RSR_DFR 0x80

/* On-card memory (remote-DMA addresses). */
#define NE2000_PROM_START 0x0000
#define NE2000_PROM_SIZE 32
#define NE2000_PROM_SIG 0x57 /* bytes 28..31 ("WW") */
#define NE2000_MEM_START 0x4000
#define NE2000_MEM_SIZE 0x4000 /* 16 KiB */
#define NE2000_MEM_END 0x8000
#define NE2000_PAGE_SIZE 256
#define NE2000_PAGE_FIRST 0x40 /* first buffer page */
#define NE2000_PAGE_END 0x80   /* one past the last buffer page */

/* Largest frame TBCR may ask for (no FCS); larger counts fail with ISR.TXE. */
#define NE2000_MAX_FRAME 1518
/* Received frames shorter than this are zero-padded (the minimum Ethernet frame without FCS). */
#define NE2000_MIN_FRAME 60

/*
 * The 4-byte header the NIC writes at the start of each received frame's first ring page.
 * len counts the header too (frame length = len - 4), little-endian.
 */
struct ne2000_rx_header {
    uint8_t status; /* RSR at receive time */
    uint8_t next;   /* page where the next frame starts (== CURR after this frame) */
    uint16_t len;   /* header + frame bytes */
};
#define NE2000_RX_HEADER_SIZE 4

#endif
