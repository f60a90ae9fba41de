/*
 * ne2000.c: the NE2000 driver (NS DP8390 core + the NE2000 remote-DMA "ASIC", as QEMU's
 * hw/net/ne2000.c and Linux's drivers/net/ethernet/8390/ne.c drive it; register layout in
 * minivmm/ne2000_regs.h), behind the same struct netdev_ops as the virtio-net VFs.
 *
 * Card memory (16 KiB, pages 0x40-0x7f): one transmit buffer at pages 0x40-0x45 (1536 bytes)
 * and the receive ring at 0x46..0x80 (PSTART..PSTOP). Every packet byte moves through the data
 * port by remote DMA, 16 bits at a time (DCR.WTS): `rep outsw` of the whole frame to send,
 * `rep insw` of the 4-byte ring header and then of the frame to receive. That is the NE2000's
 * cost: one port exit per word on our hosts (~757 for a 1514-byte frame), and it is what
 * `minivmm bench io` measures, so the rest of the per-frame work is kept to a few register
 * writes: 5 to set up a remote DMA, TBCR only when the length changes, CR.TXP, one ISR read
 * and one ISR write per transmitted frame.
 *
 * Invariants and rules:
 * - CR selects page 0 except inside read_curr(), which runs with interrupts off, as all of the
 *   net code does; the interrupt handler (only ever entered from net_wait's `sti; hlt`) may
 *   therefore touch page-0 registers without saving CR.
 * - The IRQ is edge-triggered: the line is (ISR & IMR) != 0, so an edge comes only when it
 *   goes from 0 to 1. ISR bits are acknowledged (written back) as soon as they are read and
 *   collected in `pending`; a bit that arrives between our read and our write keeps the line
 *   high with no new edge, so enable_cb() lets net_wait sleep only after a read of ISR
 *   returned 0 (the line is low then, and the next event makes an edge).
 * - One frame in flight: tx() marks the transmitter busy; PTX or TXE (seen by any ISR read)
 *   frees it, and tx_buf() waits for that before the buffer in card memory is overwritten.
 * - next_pkt is the ring page of the next unread frame; BNRY = next_pkt - 1 (wrapping), so
 *   the NIC never overwrites unread frames.
 */
#include <minivmm/abi.h>
#include <minivmm/ne2000_regs.h>

#include "../config.h"
#include "../fdt.h"
#include "../ioapic.h"
#include "../kernel.h"
#include "../lapic.h"
#include "../traps.h"
#include "../tsc.h"
#include "../x86.h"
#include "net.h"

#define TX_PAGE NE2000_PAGE_FIRST         /* 0x40: 6 pages, one 1518-byte frame */
#define RX_PSTART (NE2000_PAGE_FIRST + 6) /* 0x46 */
#define RX_PSTOP NE2000_PAGE_END          /* 0x80 */
#define IMR_BITS                                                                                   \
    (NE2000_ISR_PRX | NE2000_ISR_PTX | NE2000_ISR_RXE | NE2000_ISR_TXE | NE2000_ISR_OVW)
#define RX_BITS (NE2000_ISR_PRX | NE2000_ISR_RXE | NE2000_ISR_OVW)
#define RESET_TIMEOUT_US 20000
#define TX_TIMEOUT_US 20000
#define BUF_SIZE 1536 /* >= NE2000_MAX_FRAME rounded up to a word */

static struct ne2000 {
    struct netdev nd;
    uint16_t base;
    unsigned int irq;
    uint8_t next_pkt;         /* ring page of the next frame to read */
    volatile uint8_t pending; /* ISR bits read and acknowledged, not yet handled by poll */
    volatile bool tx_busy;    /* a frame is being sent from the transmit buffer */
    bool tx_taken;            /* tx_buf handed out the buffer */
    uint16_t tbcr;            /* what TBCR holds (0: unknown) */
    uint32_t tag;
    uint64_t rx_overflows, tx_errors;
    uint8_t txbuf[BUF_SIZE] __aligned(16);
    uint8_t rxbuf[BUF_SIZE] __aligned(16);
} ne;

struct netdev *net_ne2000;

static void reg_write(unsigned int reg, uint8_t v)
{
    outb((uint16_t)(ne.base + reg), v);
}

static uint8_t reg_read(unsigned int reg)
{
    return inb((uint16_t)(ne.base + reg));
}

static void insw(uint16_t port, void *buf, uint32_t words)
{
    __asm__ volatile("rep insw" : "+D"(buf), "+c"(words) : "d"(port) : "memory");
}

static void outsw(uint16_t port, const void *buf, uint32_t words)
{
    __asm__ volatile("rep outsw" : "+S"(buf), "+c"(words) : "d"(port) : "memory");
}

/* Program a remote DMA of `count` bytes (even) at card address `addr`; cmd RREAD or RWRITE. */
static void remote_dma(uint16_t addr, uint32_t count, uint8_t cmd)
{
    reg_write(NE2000_RBCR0, (uint8_t)count);
    reg_write(NE2000_RBCR1, (uint8_t)(count >> 8));
    reg_write(NE2000_RSAR0, (uint8_t)addr);
    reg_write(NE2000_RSAR1, (uint8_t)(addr >> 8));
    reg_write(NE2000_CR, cmd | NE2000_CR_STA);
}

/* Read n bytes (rounded up to a word: buf needs one spare byte) from card address addr. */
static void dma_read(uint16_t addr, void *buf, uint32_t n)
{
    n = (n + 1) & ~1u;
    remote_dma(addr, n, NE2000_CR_RREAD);
    insw((uint16_t)(ne.base + NE2000_DATAPORT), buf, n / 2);
}

/*
 * Read ISR, acknowledge what it shows and note it in `pending`; frees the transmitter on PTX
 * or TXE. RST is a state, not an event (writing it clears nothing), so it is left out.
 */
static uint8_t ack_isr(void)
{
    uint8_t v = reg_read(NE2000_ISR) & (uint8_t)~NE2000_ISR_RST;

    if (!v)
        return 0;
    reg_write(NE2000_ISR, v);
    if (v & NE2000_ISR_TXE)
        ne.tx_errors++;
    if (v & (NE2000_ISR_PTX | NE2000_ISR_TXE))
        ne.tx_busy = false;
    ne.pending |= v;
    return v;
}

static void ne2000_interrupt(void)
{
    ack_isr();
    lapic_eoi();
}

/* CURR lives on page 1: the only place CR leaves page 0. */
static uint8_t read_curr(void)
{
    uint8_t curr;

    reg_write(NE2000_CR, NE2000_CR_PAGE1 | NE2000_CR_NODMA | NE2000_CR_STA);
    curr = reg_read(NE2000_CURR);
    reg_write(NE2000_CR, NE2000_CR_PAGE0 | NE2000_CR_NODMA | NE2000_CR_STA);
    return curr;
}

static void set_bnry(uint8_t next)
{
    reg_write(NE2000_BNRY, next == RX_PSTART ? RX_PSTOP - 1 : next - 1);
}

/* ---- struct netdev_ops ---- */

static uint8_t *ne2000_tx_buf(struct netdev *nd, int *id)
{
    uint64_t deadline = 0;

    (void)nd;
    if (ne.tx_taken)
        return NULL;
    /* The previous frame must have left card memory before the next one is written there. */
    while (ne.tx_busy) {
        ack_isr();
        if (!ne.tx_busy)
            break;
        if (!deadline) {
            deadline = tsc_deadline_us(TX_TIMEOUT_US);
        } else if ((int64_t)(rdtsc() - deadline) >= 0) {
            kprintf("net: ne2000: transmit timeout (no PTX or TXE)\n");
            ne.tx_errors++;
            ne.tx_busy = false;
        }
    }
    ne.tx_taken = true;
    *id = 0;
    return ne.txbuf;
}

static void ne2000_tx_put(struct netdev *nd, int id)
{
    (void)nd;
    (void)id;
    ne.tx_taken = false;
}

static void ne2000_tx(struct netdev *nd, int id, uint32_t len, bool kick)
{
    (void)id;
    (void)kick; /* the frame leaves at once: there is nothing to batch */
    ne.tx_taken = false;
    if (len > NE2000_MAX_FRAME)
        return;
    /* The DP8390 sends what TBCR says: pad runts to the Ethernet minimum ourselves. */
    for (; len < NE2000_MIN_FRAME; len++)
        ne.txbuf[len] = 0;
    /* The last word may carry a byte past the frame: harmless, TBCR has the length. */
    remote_dma(TX_PAGE << 8, (len + 1) & ~1u, NE2000_CR_RWRITE);
    outsw((uint16_t)(ne.base + NE2000_DATAPORT), ne.txbuf, (len + 1) / 2);
    /* No wait for ISR.RDC: the copy is complete when the last OUT returns (emulated device). */
    if (len != ne.tbcr) {
        reg_write(NE2000_TBCR0, (uint8_t)len);
        reg_write(NE2000_TBCR1, (uint8_t)(len >> 8));
        ne.tbcr = (uint16_t)len;
    }
    ne.tx_busy = true;
    reg_write(NE2000_CR, NE2000_CR_NODMA | NE2000_CR_TXP | NE2000_CR_STA);
    nd->tx_packets++;
    nd->tx_bytes += len;
}

static void ne2000_kick(struct netdev *nd)
{
    (void)nd;
}

static uint32_t *ne2000_tag(struct netdev *nd, int id)
{
    (void)nd;
    (void)id;
    return &ne.tag;
}

/* Drain the receive ring up to CURR. */
static bool ne2000_poll(struct netdev *nd)
{
    uint8_t curr;

    if (!(ne.pending & RX_BITS))
        return false;
    if (ne.pending & NE2000_ISR_OVW)
        ne.rx_overflows++; /* the NIC dropped a frame; the ring itself is intact */
    ne.pending &= (uint8_t)~RX_BITS;
    curr = read_curr();
    while (ne.next_pkt != curr) {
        struct ne2000_rx_header h;
        uint32_t len, first;
        uint16_t addr = (uint16_t)(ne.next_pkt << 8);

        dma_read(addr, &h, NE2000_RX_HEADER_SIZE);
        len = h.len - NE2000_RX_HEADER_SIZE;
        if (h.next < RX_PSTART || h.next >= RX_PSTOP || h.len < NE2000_RX_HEADER_SIZE + ETH_HLEN ||
            len > NE2000_MAX_FRAME) {
            /* A corrupt header: give up on everything the NIC has written so far. */
            kprintf("net: ne2000: bad ring header at page 0x%x (next 0x%x, len %u): ring reset\n",
                    ne.next_pkt, h.next, h.len);
            nd->rx_dropped++;
            ne.next_pkt = curr;
            set_bnry(curr);
            break;
        }
        if (h.status & NE2000_RSR_RXOK) {
            /* The frame wraps from PSTOP to PSTART: read it in two parts when it does. */
            addr += NE2000_RX_HEADER_SIZE;
            first = (uint32_t)(RX_PSTOP << 8) - addr;
            if (len <= first) {
                dma_read(addr, ne.rxbuf, len);
            } else {
                dma_read(addr, ne.rxbuf, first); /* even: addr and PSTOP*256 are */
                dma_read(RX_PSTART << 8, ne.rxbuf + first, len - first);
            }
            nd->rx_packets++;
            net_rx(nd, ne.rxbuf, len);
        } else {
            nd->rx_dropped++;
        }
        ne.next_pkt = h.next;
        set_bnry(h.next);
    }
    return true;
}

static bool ne2000_enable_cb(struct netdev *nd)
{
    (void)nd;
    /* Any bit read means the line may still be high: poll and read again before sleeping. */
    return ack_isr() != 0 || (ne.pending & RX_BITS);
}

static bool ne2000_tx_idle(struct netdev *nd)
{
    (void)nd;
    if (ne.tx_busy)
        ack_isr();
    return !ne.tx_busy;
}

static const struct netdev_ops ne2000_ops = {
    .tx_buf = ne2000_tx_buf,
    .tx_put = ne2000_tx_put,
    .tx = ne2000_tx,
    .kick = ne2000_kick,
    .tag = ne2000_tag,
    .poll = ne2000_poll,
    .enable_cb = ne2000_enable_cb,
    .tx_idle = ne2000_tx_idle,
};

/* ---- probe and bring-up ---- */

/* The NE2000's node in the device tree: 1 found (port, irq, maybe mac filled), 0 none. */
static int probe_fdt(const void *blob, uint64_t size, uint16_t *port, unsigned int *irq,
                     uint8_t mac[ETH_ALEN], bool *have_mac)
{
    struct fdt fdt;
    uint64_t addr, sz;
    uint32_t len;
    const void *p;
    int node;

    if (!blob || fdt_init(&fdt, blob, size))
        return 0;
    node = fdt_find_compatible(&fdt, -1, MINIVMM_FDT_COMPAT_NE2000);
    if (node < 0)
        return 0;
    p = fdt_getprop(&fdt, node, "interrupts", &len);
    if (fdt_read_reg(&fdt, node, 0, &addr, &sz) || !p || len < 4 ||
        (addr & 0xffffffffu) > 0xffff - NE2000_IO_SIZE) {
        kprintf("net: ne2000: %s: no usable reg or interrupts, skipped\n",
                fdt_get_name(&fdt, node));
        return 0;
    }
    *port = (uint16_t)addr; /* ISA I/O space: <1 port size> */
    *irq = (unsigned int)fdt_read_cells(p, 1);
    p = fdt_getprop(&fdt, node, "local-mac-address", &len);
    if (p && len == ETH_ALEN) {
        memcpy(mac, p, ETH_ALEN);
        *have_mac = true;
    }
    return 1;
}

/* Reset through the reset port and wait for ISR.RST: 0, or -1 if nothing answers. */
static int reset_nic(void)
{
    uint64_t deadline;

    if (reg_read(NE2000_CR) == 0xff) /* nothing on the bus (Linux ne.c's first test) */
        return -1;
    reg_write(NE2000_RESET, reg_read(NE2000_RESET)); /* the read resets; write back as ne.c */
    deadline = tsc_deadline_us(RESET_TIMEOUT_US);
    while (!(reg_read(NE2000_ISR) & NE2000_ISR_RST))
        if ((int64_t)(rdtsc() - deadline) >= 0)
            return -1;
    reg_write(NE2000_ISR, 0xff);
    return 0;
}

/* Stopped NIC, word mode; the MAC from the address PROM: 0, or -1 without the "WW" mark. */
static int read_prom(uint8_t mac[ETH_ALEN])
{
    uint16_t prom[NE2000_PROM_SIZE / 2];

    reg_write(NE2000_CR, NE2000_CR_PAGE0 | NE2000_CR_NODMA | NE2000_CR_STP);
    reg_write(NE2000_DCR, NE2000_DCR_WTS | NE2000_DCR_LS | NE2000_DCR_FT1);
    reg_write(NE2000_RBCR0, 0);
    reg_write(NE2000_RBCR1, 0);
    reg_write(NE2000_IMR, 0);
    reg_write(NE2000_ISR, 0xff);
    reg_write(NE2000_RCR, NE2000_RCR_MON);
    reg_write(NE2000_TCR, NE2000_TCR_LB0); /* internal loopback while we set up */
    /* Every PROM byte is doubled: word i holds byte i in both halves (bytes 28-31: "WW"). */
    dma_read(NE2000_PROM_START, prom, NE2000_PROM_SIZE);
    reg_write(NE2000_CR, NE2000_CR_PAGE0 | NE2000_CR_NODMA | NE2000_CR_STP);
    if ((prom[14] & 0xff) != NE2000_PROM_SIG || (prom[15] & 0xff) != NE2000_PROM_SIG)
        return -1;
    for (int i = 0; i < ETH_ALEN; i++)
        mac[i] = (uint8_t)prom[i];
    return 0;
}

/* Linux's NS8390_init order: ring and station address with the NIC stopped, then start. */
static void start_nic(const uint8_t mac[ETH_ALEN])
{
    reg_write(NE2000_CR, NE2000_CR_PAGE0 | NE2000_CR_NODMA | NE2000_CR_STP);
    reg_write(NE2000_DCR, NE2000_DCR_WTS | NE2000_DCR_LS | NE2000_DCR_FT1);
    reg_write(NE2000_RBCR0, 0);
    reg_write(NE2000_RBCR1, 0);
    reg_write(NE2000_RCR, NE2000_RCR_MON);
    reg_write(NE2000_TCR, NE2000_TCR_LB0);
    reg_write(NE2000_TPSR, TX_PAGE);
    reg_write(NE2000_PSTART, RX_PSTART);
    reg_write(NE2000_BNRY, RX_PSTOP - 1);
    reg_write(NE2000_PSTOP, RX_PSTOP);
    reg_write(NE2000_ISR, 0xff);
    reg_write(NE2000_IMR, 0);
    reg_write(NE2000_CR, NE2000_CR_PAGE1 | NE2000_CR_NODMA | NE2000_CR_STP);
    for (int i = 0; i < ETH_ALEN; i++)
        reg_write(NE2000_PAR0 + (unsigned int)i, mac[i]);
    for (int i = 0; i < 8; i++)
        reg_write(NE2000_MAR0 + (unsigned int)i, 0);
    reg_write(NE2000_CURR, RX_PSTART);
    reg_write(NE2000_CR, NE2000_CR_PAGE0 | NE2000_CR_NODMA | NE2000_CR_STP);
    ne.next_pkt = RX_PSTART;
    ne.tbcr = 0;
    reg_write(NE2000_ISR, 0xff);
    reg_write(NE2000_IMR, IMR_BITS);
    reg_write(NE2000_CR, NE2000_CR_PAGE0 | NE2000_CR_NODMA | NE2000_CR_STA);
    reg_write(NE2000_TCR, 0);
    reg_write(NE2000_RCR, NE2000_RCR_AB); /* broadcast and our own address (PAR) */
}

void ne2000_init(const void *fdt, uint64_t fdt_size, const struct cmdline *cl)
{
    struct netdev *nd = &ne.nd;
    uint8_t prom_mac[ETH_ALEN];
    bool have_mac = false, from_fdt;
    uint16_t port = MINIVMM_NE2000_PORT;
    unsigned int irq = MINIVMM_NE2000_IRQ, next_vf = 0;
    char ipbuf[16];

    /* With a device tree its node is the only evidence; without one, probe ISA's default. */
    from_fdt = probe_fdt(fdt, fdt_size, &port, &irq, nd->mac, &have_mac);
    if (fdt && !from_fdt)
        return;
    ne.base = port;
    ne.irq = irq;
    if (reset_nic()) {
        if (from_fdt)
            kprintf("net: ne2000: no answer at port 0x%x\n", port);
        return;
    }
    if (read_prom(prom_mac)) {
        kprintf("net: ne2000: port 0x%x: no NE2000 signature in the address PROM\n", port);
        return;
    }
    if (irq >= 24) {
        kprintf("net: ne2000: IRQ %u beyond the IOAPIC, skipped\n", irq);
        return;
    }
    if (!have_mac)
        memcpy(nd->mac, prom_mac, ETH_ALEN);
    nd->ops = &ne2000_ops;
    memcpy(nd->name, "ne2000", 7);
    nd->vf = NET_NE2000_ID;
    /* Addressed like one more VF: net.ip + (highest VF index + 1). */
    for (unsigned int i = 0; i < nr_netdevs; i++)
        if (netdevs[i].vf + 1 > next_vf)
            next_vf = netdevs[i].vf + 1;
    nd->ip = net_base_ip(cl) + next_vf;
    nd->link_up = true;
    start_nic(nd->mac);
    irq_set_handler((uint8_t)(IRQ_VECTOR_BASE + irq), ne2000_interrupt);
    ioapic_route_irq(irq, (uint8_t)(IRQ_VECTOR_BASE + irq), lapic_id()); /* edge, high */
    net_ne2000 = nd;
    net_register(nd);
    net_format_ip(ipbuf, nd->ip);
    kprintf("net: ne2000 mac %02x:%02x:%02x:%02x:%02x:%02x ip %s\n", nd->mac[0], nd->mac[1],
            nd->mac[2], nd->mac[3], nd->mac[4], nd->mac[5], ipbuf);
}
