/*
 * ne2000.c: NE2000 (DP8390) NIC model after the National Semiconductor DP8390D data sheet, following QEMU's
 * hw/net/ne2000.c where the data sheet leaves room, and what Linux's 8390/ne.c relies on.
 *
 * Card memory: the 32-byte address PROM at 0x0000 (read-only) and 16 KiB of packet RAM at
 * 0x4000-0x7fff (pages 0x40-0x7f). All packet bytes move through remote DMA on the data port:
 * each access moves 1 byte (DCR.WTS = 0) or 2 bytes (WTS = 1; a 4-byte access moves 4, as in
 * QEMU), whatever the access width. RSAR advances per byte; at PSTOP*256 (with a valid ring) it
 * wraps to PSTART*256 as on the DP8390, and it wraps at 0x10000. RBCR counts down and saturates
 * at 0; when it reaches 0, ISR.RDC is set (an odd count in word mode moves one byte more and
 * still ends at 0). Accesses are not stopped at count 0 (QEMU does the same).
 *
 * Untrusted guest values never reach outside `prom`/`mem`: every card byte goes through
 * card_read()/card_write(), which map 0x0000-0x001f to the PROM (writes ignored), 0x4000-0x7fff
 * to the buffer and everything else to nothing (reads 0xff, writes dropped). The ring is used
 * only when 0x40 <= PSTART < PSTOP <= 0x80 and CURR is inside it; otherwise received frames
 * are dropped as overflows (rx_overflows, ISR.OVW). BNRY outside the ring counts as "no room".
 * Transmit needs 1 <= TBCR <= 1518 and TPSR*256 + TBCR inside the buffer (no wrap), else
 * ISR.TXE and TSR.ABT.
 *
 * Receive (DP8390 "buffer ring"): a frame takes ceil((4 + len) / 256) pages from CURR; the
 * NIC may use pages CURR..BNRY-1 (wrapping) and always leaves at least one page free, so CURR
 * never catches up with BNRY through a receive and unread frames are never overwritten. No room:
 * ISR.OVW, CNTR2 (missed packets) + 1, the frame dropped. The RCR filter follows QEMU:
 * broadcast needs AB, multicast needs AM and its MAR hash bit (CRC-32 top 6 bits), unicast must
 * match PAR, PRO accepts all. TCR loopback modes are ignored (frames always go to tx()).
 *
 * The IRQ line is ISR & IMR (bits 0-6) != 0, driven only on change: an edge-triggered pin sees
 * 0->1 when the first unmasked cause appears.
 *
 * Locking: see ne2000.h.
 */
#include <errno.h>
#include <string.h>

#include "ne2000.h"
#include "minivmm/util.h"

#define ISR_IRQ_MASK 0x7f /* RST is status only */

static void update_irq(struct ne2000 *nd)
{
    int level = (nd->isr & nd->imr & ISR_IRQ_MASK) != 0;
    if (level != nd->irq_level) {
        nd->irq_level = level;
        irq_line_set(&nd->irq, level);
    }
}

static bool ring_valid(const struct ne2000 *nd)
{
    return nd->pstart >= NE2000_PAGE_FIRST && nd->pstart < nd->pstop &&
           nd->pstop <= NE2000_PAGE_END;
}

static uint8_t card_read(const struct ne2000 *nd, uint16_t addr)
{
    if (addr < NE2000_PROM_SIZE)
        return nd->prom[addr];
    if (addr >= NE2000_MEM_START && addr < NE2000_MEM_END)
        return nd->mem[addr - NE2000_MEM_START];
    return 0xff;
}

static void card_write(struct ne2000 *nd, uint16_t addr, uint8_t v)
{
    if (addr >= NE2000_MEM_START && addr < NE2000_MEM_END)
        nd->mem[addr - NE2000_MEM_START] = v;
}

/* One byte of remote DMA done: advance RSAR (ring wrap, 16-bit wrap) and RBCR. */
static void dma_step(struct ne2000 *nd)
{
    nd->rsar++;
    if (ring_valid(nd) && nd->rsar == (uint16_t)(nd->pstop << 8))
        nd->rsar = (uint16_t)(nd->pstart << 8);
    if (nd->rbcr > 0 && --nd->rbcr == 0) {
        nd->isr |= NE2000_ISR_RDC;
        update_irq(nd);
    }
}

static unsigned dma_width(const struct ne2000 *nd, unsigned len)
{
    if (len >= 4)
        return 4;
    return (nd->dcr & NE2000_DCR_WTS) ? 2 : 1;
}

static void data_read(struct ne2000 *nd, uint8_t *data, unsigned len)
{
    unsigned n = dma_width(nd, len);
    for (unsigned i = 0; i < n; i++) {
        uint8_t b = card_read(nd, nd->rsar);
        if (i < len)
            data[i] = b;
        dma_step(nd);
    }
}

static void data_write(struct ne2000 *nd, const uint8_t *data, unsigned len)
{
    unsigned n = dma_width(nd, len);
    for (unsigned i = 0; i < n; i++) {
        card_write(nd, nd->rsar, i < len ? data[i] : 0);
        dma_step(nd);
    }
}

static void reset_locked(struct ne2000 *nd)
{
    nd->cr = NE2000_CR_STP | NE2000_CR_NODMA;
    nd->isr = NE2000_ISR_RST;
    nd->imr = 0;
    nd->tsr = 0;
    nd->rsr = 0;
    nd->rbcr = 0;
    update_irq(nd);
}

/* ---- transmit ---- */

/* Called with the lock held; drops and retakes it around transmit() (netport.h lock rule). */
static void transmit_locked(struct ne2000 *nd)
{
    uint8_t frame[NE2000_MAX_FRAME];
    unsigned start = (unsigned)nd->tpsr << 8, len = nd->tbcr;

    if (len == 0 || len > NE2000_MAX_FRAME || start < NE2000_MEM_START ||
        start + len > NE2000_MEM_END) {
        nd->stats.tx_errors++;
        nd->tsr = NE2000_TSR_ABT;
        nd->isr |= NE2000_ISR_TXE;
        nd->cr &= (uint8_t)~NE2000_CR_TXP;
        update_irq(nd);
        return;
    }
    memcpy(frame, nd->mem + (start - NE2000_MEM_START), len);
    pthread_mutex_unlock(&nd->lock);
    if (nd->port.ops) /* set at init, never changed */
        nd->port.ops->transmit(&nd->port, frame, len);
    pthread_mutex_lock(&nd->lock);
    nd->stats.tx_packets++;
    nd->stats.tx_bytes += len;
    nd->tsr = NE2000_TSR_PTX;
    nd->isr |= NE2000_ISR_PTX;
    nd->cr &= (uint8_t)~NE2000_CR_TXP;
    update_irq(nd);
}

/* ---- receive ---- */

/* QEMU's net_crc32 (big-endian CRC-32 of the destination) >> 26: the MAR bit index. */
static unsigned mcast_index(const uint8_t *mac)
{
    uint32_t crc = 0xffffffffu;
    for (int i = 0; i < 6; i++) {
        uint8_t b = mac[i];
        for (int j = 0; j < 8; j++) {
            uint32_t carry = ((crc >> 31) & 1) ^ (b & 1);
            crc <<= 1;
            b >>= 1;
            if (carry)
                crc = (crc ^ 0x04c11db6u) | carry;
        }
    }
    return crc >> 26;
}

static bool rx_accept(const struct ne2000 *nd, const uint8_t *f, size_t len)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

    if (nd->rcr & NE2000_RCR_PRO)
        return true;
    if (len < 6)
        return false;
    if (memcmp(f, bcast, 6) == 0)
        return nd->rcr & NE2000_RCR_AB;
    if (f[0] & 1) {
        unsigned idx = mcast_index(f);
        return (nd->rcr & NE2000_RCR_AM) && (nd->mar[idx >> 3] & (1u << (idx & 7)));
    }
    return memcmp(f, nd->par, 6) == 0;
}

/* Free pages the NIC may fill from CURR up to (not including) BNRY; 0 when BNRY is outside. */
static unsigned ring_free_pages(const struct ne2000 *nd)
{
    unsigned n = (unsigned)nd->pstop - nd->pstart;
    if (nd->bnry < nd->pstart || nd->bnry >= nd->pstop)
        return 0;
    if (nd->curr < nd->bnry)
        return (unsigned)nd->bnry - nd->curr;
    return n - ((unsigned)nd->curr - nd->bnry);
}

/* Byte `off` from the start of page CURR, wrapping inside the ring. */
static void ring_put(struct ne2000 *nd, unsigned off, const uint8_t *src, size_t len)
{
    unsigned ring = ((unsigned)nd->pstop - nd->pstart) << 8;
    unsigned base = (unsigned)nd->pstart << 8;
    unsigned pos = (((unsigned)nd->curr << 8) - base + off) % ring;

    for (size_t i = 0; i < len; i++) {
        nd->mem[base + pos - NE2000_MEM_START] = src[i];
        if (++pos == ring)
            pos = 0;
    }
}

static int receive_locked(struct ne2000 *nd, const uint8_t *f, size_t len)
{
    static const uint8_t zero[NE2000_MIN_FRAME];
    struct ne2000_rx_header h;
    uint8_t hdr[NE2000_RX_HEADER_SIZE];

    if (nd->cr & NE2000_CR_STP) {
        nd->stats.rx_stopped++;
        return -ENOBUFS;
    }
    if (len > NE2000_MAX_FRAME) {
        nd->stats.rx_filtered++;
        return -EMSGSIZE;
    }
    if (!rx_accept(nd, f, len)) {
        nd->stats.rx_filtered++;
        return -EPERM;
    }
    size_t wire = len < NE2000_MIN_FRAME ? NE2000_MIN_FRAME : len;
    unsigned total = (unsigned)wire + NE2000_RX_HEADER_SIZE;
    unsigned pages = (total + NE2000_PAGE_SIZE - 1) / NE2000_PAGE_SIZE;

    if (!ring_valid(nd) || nd->curr < nd->pstart || nd->curr >= nd->pstop ||
        pages >= ring_free_pages(nd)) {
        nd->stats.rx_overflows++;
        if (nd->cntr[2] < 0xff && ++nd->cntr[2] == 0x80)
            nd->isr |= NE2000_ISR_CNT;
        nd->rsr = NE2000_RSR_MPA;
        nd->isr |= NE2000_ISR_OVW;
        update_irq(nd);
        return -ENOBUFS;
    }
    unsigned next = nd->curr + pages;
    if (next >= nd->pstop)
        next -= (unsigned)nd->pstop - nd->pstart;
    h.status = NE2000_RSR_RXOK | ((f[0] & 1) ? NE2000_RSR_PHY : 0);
    h.next = (uint8_t)next;
    h.len = (uint16_t)total;
    hdr[0] = h.status;
    hdr[1] = h.next;
    hdr[2] = (uint8_t)total;
    hdr[3] = (uint8_t)(total >> 8);
    ring_put(nd, 0, hdr, sizeof(hdr));
    ring_put(nd, NE2000_RX_HEADER_SIZE, f, len);
    if (wire > len)
        ring_put(nd, NE2000_RX_HEADER_SIZE + (unsigned)len, zero, wire - len);
    nd->curr = h.next;
    nd->rsr = h.status;
    nd->stats.rx_packets++;
    nd->stats.rx_bytes += len;
    nd->isr |= NE2000_ISR_PRX;
    update_irq(nd);
    return 0;
}

int ne2000_receive(struct ne2000 *nd, const void *frame, size_t len)
{
    pthread_mutex_lock(&nd->lock);
    int r = receive_locked(nd, frame, len);
    pthread_mutex_unlock(&nd->lock);
    return r;
}

static int port_deliver(void *opaque, const void *frame, size_t len)
{
    return ne2000_receive(opaque, frame, len);
}

int ne2000_attach(struct ne2000 *nd)
{
    if (!nd->port.ops)
        return -ENOTCONN;
    int ret = nd->port.ops->set_allmulti(&nd->port, true);
    if (!ret)
        ret = nd->port.ops->attach(&nd->port, port_deliver, nd);
    return ret;
}

void ne2000_detach(struct ne2000 *nd)
{
    if (nd->port.ops)
        nd->port.ops->attach(&nd->port, NULL, NULL);
}

/* ---- registers ---- */

static void write_cr(struct ne2000 *nd, uint8_t v)
{
    nd->cr = v;
    if (v & NE2000_CR_STP) {
        nd->isr |= NE2000_ISR_RST;
        return;
    }
    nd->isr &= (uint8_t)~NE2000_ISR_RST;
    unsigned rd = v & NE2000_CR_RD_MASK;
    /* QEMU: a remote read/write with RBCR = 0 completes at once. */
    if ((rd == NE2000_CR_RREAD || rd == NE2000_CR_RWRITE) && nd->rbcr == 0) {
        nd->isr |= NE2000_ISR_RDC;
        update_irq(nd);
    }
    if (v & NE2000_CR_TXP)
        transmit_locked(nd);
}

static uint8_t reg_read(struct ne2000 *nd, unsigned off)
{
    unsigned page = nd->cr & NE2000_CR_PS_MASK;
    uint8_t v;

    if (off == NE2000_CR)
        return nd->cr;
    if (page == NE2000_CR_PAGE1) {
        if (off <= 6)
            return nd->par[off - 1];
        if (off == NE2000_CURR)
            return nd->curr;
        return nd->mar[off - NE2000_MAR0];
    }
    if (page == NE2000_CR_PAGE2) {
        switch (off) {
        case NE2000_PSTART:
            return nd->pstart;
        case NE2000_PSTOP:
            return nd->pstop;
        case NE2000_TPSR:
            return nd->tpsr;
        case NE2000_RCR:
            return nd->rcr;
        case NE2000_TCR:
            return nd->tcr;
        case NE2000_DCR:
            return nd->dcr;
        case NE2000_IMR:
            return nd->imr;
        default:
            return 0xff;
        }
    }
    if (page != NE2000_CR_PAGE0)
        return 0xff;
    switch (off) {
    case NE2000_CLDA0:
        return 0;
    case NE2000_CLDA1:
        return nd->curr;
    case NE2000_BNRY:
        return nd->bnry;
    case NE2000_TSR:
        return nd->tsr;
    case NE2000_NCR:
        return 0;
    case NE2000_FIFO:
        return 0;
    case NE2000_ISR:
        return nd->isr;
    case NE2000_CRDA0:
        return (uint8_t)nd->rsar;
    case NE2000_CRDA1:
        return (uint8_t)(nd->rsar >> 8);
    case NE2000_RSR:
        return nd->rsr;
    case NE2000_CNTR0:
    case NE2000_CNTR1:
    case NE2000_CNTR2:
        v = nd->cntr[off - NE2000_CNTR0];
        nd->cntr[off - NE2000_CNTR0] = 0; /* tallies clear when read */
        return v;
    default:
        return 0xff; /* 0x0a/0x0b: no RTL8029 ID on an NE2000 */
    }
}

static void reg_write(struct ne2000 *nd, unsigned off, uint8_t v)
{
    unsigned page = nd->cr & NE2000_CR_PS_MASK;

    if (off == NE2000_CR) {
        write_cr(nd, v);
        return;
    }
    if (page == NE2000_CR_PAGE1) {
        if (off <= 6)
            nd->par[off - 1] = v;
        else if (off == NE2000_CURR)
            nd->curr = v;
        else
            nd->mar[off - NE2000_MAR0] = v;
        return;
    }
    if (page != NE2000_CR_PAGE0)
        return;
    switch (off) {
    case NE2000_PSTART:
        nd->pstart = v;
        break;
    case NE2000_PSTOP:
        nd->pstop = v;
        break;
    case NE2000_BNRY:
        nd->bnry = v;
        break;
    case NE2000_TPSR:
        nd->tpsr = v;
        break;
    case NE2000_TBCR0:
        nd->tbcr = (uint16_t)((nd->tbcr & 0xff00) | v);
        break;
    case NE2000_TBCR1:
        nd->tbcr = (uint16_t)((nd->tbcr & 0x00ff) | v << 8);
        break;
    case NE2000_ISR:
        nd->isr &= (uint8_t) ~(v & ISR_IRQ_MASK); /* RST reflects the stop state */
        update_irq(nd);
        break;
    case NE2000_RSAR0:
        nd->rsar = (uint16_t)((nd->rsar & 0xff00) | v);
        break;
    case NE2000_RSAR1:
        nd->rsar = (uint16_t)((nd->rsar & 0x00ff) | v << 8);
        break;
    case NE2000_RBCR0:
        nd->rbcr = (uint16_t)((nd->rbcr & 0xff00) | v);
        break;
    case NE2000_RBCR1:
        nd->rbcr = (uint16_t)((nd->rbcr & 0x00ff) | v << 8);
        break;
    case NE2000_RCR:
        nd->rcr = v & 0x3f;
        break;
    case NE2000_TCR:
        nd->tcr = v & 0x1f;
        break;
    case NE2000_DCR:
        nd->dcr = v & 0x7f;
        break;
    case NE2000_IMR:
        nd->imr = v & ISR_IRQ_MASK;
        update_irq(nd);
        break;
    default:
        break;
    }
}

static void bus_read(void *opaque, unsigned vcpu, uint64_t off, uint8_t *data, unsigned len)
{
    struct ne2000 *nd = opaque;
    (void)vcpu;

    pthread_mutex_lock(&nd->lock);
    if (off < NE2000_DATAPORT)
        data[0] = reg_read(nd, (unsigned)off);
    else if (off == NE2000_DATAPORT)
        data_read(nd, data, len);
    else if (off == NE2000_RESET && len == 1)
        reset_locked(nd); /* data[0] stays 0xff */
    pthread_mutex_unlock(&nd->lock);
}

static void bus_write(void *opaque, unsigned vcpu, uint64_t off, const uint8_t *data, unsigned len)
{
    struct ne2000 *nd = opaque;
    (void)vcpu;

    pthread_mutex_lock(&nd->lock);
    if (off < NE2000_DATAPORT)
        reg_write(nd, (unsigned)off, data[0]);
    else if (off == NE2000_DATAPORT)
        data_write(nd, data, len);
    pthread_mutex_unlock(&nd->lock);
}

const struct bus_dev_ops ne2000_bus_ops = {
    .read = bus_read,
    .write = bus_write,
};

/* Page-0 names (CR.PS selects pages 1 and 2 at the same offsets). */
const struct bus_reg ne2000_regs[] = {
    {NE2000_CR, "CR", "CR"},           {NE2000_PSTART, "CLDA0", "PSTART"},
    {NE2000_PSTOP, "CLDA1", "PSTOP"},  {NE2000_BNRY, "BNRY", "BNRY"},
    {NE2000_TPSR, "TSR", "TPSR"},      {NE2000_TBCR0, "NCR", "TBCR0"},
    {NE2000_TBCR1, "FIFO", "TBCR1"},   {NE2000_ISR, "ISR", "ISR"},
    {NE2000_RSAR0, "CRDA0", "RSAR0"},  {NE2000_RSAR1, "CRDA1", "RSAR1"},
    {NE2000_RBCR0, NULL, "RBCR0"},     {NE2000_RBCR1, NULL, "RBCR1"},
    {NE2000_RCR, "RSR", "RCR"},        {NE2000_TCR, "CNTR0", "TCR"},
    {NE2000_DCR, "CNTR1", "DCR"},      {NE2000_IMR, "CNTR2", "IMR"},
    {NE2000_DATAPORT, "DATA", "DATA"}, {NE2000_RESET, "RESET", NULL},
};
const unsigned ne2000_nregs = ARRAY_SIZE(ne2000_regs);

int ne2000_init(struct ne2000 *nd, const uint8_t mac[6], const struct irq_line *irq,
                const struct netport *port)
{
    memset(nd, 0, sizeof(*nd));
    int ret = pthread_mutex_init(&nd->lock, NULL);
    if (ret)
        return -ret;
    if (irq)
        nd->irq = *irq;
    if (port)
        nd->port = *port;
    for (int i = 0; i < 6; i++)
        nd->prom[2 * i] = nd->prom[2 * i + 1] = mac[i];
    for (int i = 28; i < NE2000_PROM_SIZE; i++)
        nd->prom[i] = NE2000_PROM_SIG;
    memcpy(nd->par, mac, 6);
    reset_locked(nd); /* the line starts low: irq_level is 0 and ISR & IMR is 0 */
    return 0;
}

void ne2000_destroy(struct ne2000 *nd)
{
    pthread_mutex_destroy(&nd->lock);
}

void ne2000_reset(struct ne2000 *nd)
{
    pthread_mutex_lock(&nd->lock);
    reset_locked(nd);
    pthread_mutex_unlock(&nd->lock);
}

void ne2000_get_stats(struct ne2000 *nd, struct ne2000_stats *st)
{
    pthread_mutex_lock(&nd->lock);
    *st = nd->stats;
    pthread_mutex_unlock(&nd->lock);
}
