/*
 * net.c: a tiny network stack over the NICs (virtio-net VFs, the NE2000; struct netdev_ops):
 * Ethernet II, ARP (RFC 826: replies and resolution with a small cache), IPv4 (RFC 791: no
 * options sent, no fragments: fragments are dropped), ICMP echo (RFC 792) and UDP echo on
 * port 7 (RFC 862).
 *
 * Frames are parsed in their receive buffer; replies are built directly in a transmit buffer
 * (a copy of the request's payload is the only copy). Multi-byte header fields are big-endian
 * and may be unaligned (the frame follows a 12-byte virtio-net header): they are read and
 * written byte by byte.
 *
 * The waiting loop (net_wait) runs with interrupts off and sleeps in `sti; hlt`, bounded by a
 * LAPIC one-shot timer (KVM's APIC bus clock is 1 GHz: one tick per ns, divide by 1).
 */
#include "net.h"

#include "../kernel.h"
#include "../lapic.h"
#include "../traps.h"
#include "../tsc.h"
#include "../x86.h"

#define ARP_CACHE_SIZE 16
#define IPPROTO_ICMP 1
#define IPPROTO_UDP 17
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8
#define UDP_ECHO_PORT 7
#define PING_PAYLOAD 56

#define NET_TIMER_VECTOR 0xe0
#define APIC_LVT_TIMER 0x320
#define APIC_TMICT 0x380
#define APIC_TDCR 0x3e0
#define APIC_TDCR_DIV1 0xb
#define MSR_APIC_BASE 0x1b
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ull

static const uint8_t broadcast_mac[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct ping_state ping_state;
struct netdev *net_ifaces[NET_MAX_IFACES];
unsigned int nr_net_ifaces;

static struct {
    uint32_t ip;
    uint8_t mac[ETH_ALEN];
    bool valid;
} arp_cache[ARP_CACHE_SIZE];
static unsigned int arp_next;

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void copy(uint8_t *d, const uint8_t *s, size_t n)
{
    while (n--)
        *d++ = *s++;
}

/* RFC 1071 Internet checksum over n bytes. */
static uint16_t csum(const uint8_t *p, size_t n)
{
    uint32_t sum = 0;

    for (; n > 1; n -= 2, p += 2)
        sum += get16(p);
    if (n)
        sum += (uint32_t)p[0] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

int net_parse_ip(const char *s, size_t len, uint32_t *ip)
{
    uint32_t v = 0;
    size_t i = 0;

    for (int part = 0; part < 4; part++) {
        uint64_t n;
        size_t start = i;

        while (i < len && s[i] != '.')
            i++;
        if (i == start || i - start > 3 || parse_u64(s + start, i - start, &n) || n > 255)
            return -1;
        v = v << 8 | (uint32_t)n;
        if (part < 3) {
            if (i == len)
                return -1;
            i++;
        }
    }
    if (i != len)
        return -1;
    *ip = v;
    return 0;
}

uint32_t net_base_ip(const struct cmdline *cl)
{
    size_t len;
    const char *s = cmdline_param(cl, "net.ip", &len);
    uint32_t ip;

    return s && net_parse_ip(s, len, &ip) == 0 ? ip : 0x0a00020fu; /* 10.0.2.15 */
}

void net_register(struct netdev *nd)
{
    if (nr_net_ifaces < NET_MAX_IFACES)
        net_ifaces[nr_net_ifaces++] = nd;
}

void net_format_ip(char *buf, uint32_t ip)
{
    ksnprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

static void arp_learn(uint32_t ip, const uint8_t *mac)
{
    unsigned int slot = arp_next;

    for (unsigned int i = 0; i < ARP_CACHE_SIZE; i++)
        if (arp_cache[i].valid && arp_cache[i].ip == ip) {
            slot = i;
            break;
        }
    if (slot == arp_next)
        arp_next = (arp_next + 1) % ARP_CACHE_SIZE;
    arp_cache[slot].ip = ip;
    copy(arp_cache[slot].mac, mac, ETH_ALEN);
    arp_cache[slot].valid = true;
}

void net_arp_forget(uint32_t ip)
{
    for (unsigned int i = 0; i < ARP_CACHE_SIZE; i++)
        if (arp_cache[i].valid && arp_cache[i].ip == ip)
            arp_cache[i].valid = false;
}

static bool arp_lookup(uint32_t ip, uint8_t *mac)
{
    for (unsigned int i = 0; i < ARP_CACHE_SIZE; i++)
        if (arp_cache[i].valid && arp_cache[i].ip == ip) {
            copy(mac, arp_cache[i].mac, ETH_ALEN);
            return true;
        }
    return false;
}

static void eth_header(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
    copy(f, dst, ETH_ALEN);
    copy(f + 6, src, ETH_ALEN);
    put16(f + 12, type);
}

/* ARP packet (28 bytes) after the Ethernet header; pads the frame to 60 bytes. */
static int arp_send(struct netdev *nd, uint16_t op, const uint8_t *dst_mac, const uint8_t *tha,
                    uint32_t tpa)
{
    int id;
    uint8_t *f = netdev_tx_buf(nd, &id);
    uint8_t *a;

    if (!f)
        return -1;
    *netdev_tag(nd, id) = 0;
    eth_header(f, dst_mac, nd->mac, ETH_P_ARP);
    a = f + ETH_HLEN;
    put16(a, 1); /* Ethernet */
    put16(a + 2, ETH_P_IP);
    a[4] = ETH_ALEN;
    a[5] = 4;
    put16(a + 6, op);
    copy(a + 8, nd->mac, ETH_ALEN);
    put32(a + 14, nd->ip);
    copy(a + 18, tha, ETH_ALEN);
    put32(a + 24, tpa);
    for (int i = ETH_HLEN + 28; i < 60; i++)
        f[i] = 0;
    netdev_tx(nd, id, 60, true);
    return 0;
}

static void arp_rx(struct netdev *nd, const uint8_t *a, uint32_t len)
{
    uint16_t op;
    uint32_t spa, tpa;

    if (len < 28 || get16(a) != 1 || get16(a + 2) != ETH_P_IP || a[4] != ETH_ALEN || a[5] != 4)
        return;
    op = get16(a + 6);
    spa = get32(a + 14);
    tpa = get32(a + 24);
    if (tpa != nd->ip)
        return;
    arp_learn(spa, a + 8);
    if (op == 1)
        arp_send(nd, 2, a + 8, a + 8, spa);
}

/* IPv4 header (20 bytes, no options) at f + ETH_HLEN; returns the payload pointer. */
static uint8_t *ip_header(struct netdev *nd, uint8_t *f, uint32_t dst_ip, uint8_t proto,
                          uint32_t payload_len)
{
    static uint16_t ip_id;
    uint8_t *ip = f + ETH_HLEN;

    ip[0] = 0x45;
    ip[1] = 0;
    put16(ip + 2, (uint16_t)(20 + payload_len));
    put16(ip + 4, ip_id++);
    put16(ip + 6, 0x4000); /* DF */
    ip[8] = 64;
    ip[9] = proto;
    put16(ip + 10, 0);
    put32(ip + 12, nd->ip);
    put32(ip + 16, dst_ip);
    put16(ip + 10, csum(ip, 20));
    return ip + 20;
}

static void icmp_rx(struct netdev *nd, const uint8_t *eth_src, uint32_t src, const uint8_t *p,
                    uint32_t len)
{
    if (len < 8 || csum(p, len) != 0)
        return;
    if (p[0] == ICMP_ECHO_REQUEST && len <= ETH_FRAME_MAX - ETH_HLEN - 20) {
        int id;
        uint8_t *f = netdev_tx_buf(nd, &id), *r;

        if (!f)
            return;
        *netdev_tag(nd, id) = 0;
        eth_header(f, eth_src, nd->mac, ETH_P_IP);
        r = ip_header(nd, f, src, IPPROTO_ICMP, len);
        copy(r, p, len);
        r[0] = ICMP_ECHO_REPLY;
        put16(r + 2, 0);
        put16(r + 2, csum(r, len));
        netdev_tx(nd, id, ETH_HLEN + 20 + len, true);
    } else if (p[0] == ICMP_ECHO_REPLY && get16(p + 4) == ping_state.id &&
               get16(p + 6) == ping_state.seq && !ping_state.got) {
        ping_state.tsc = rdtsc();
        ping_state.from = src;
        ping_state.got = true;
    }
}

static void udp_rx(struct netdev *nd, const uint8_t *eth_src, uint32_t src, const uint8_t *p,
                   uint32_t len)
{
    uint32_t ulen;
    int id;
    uint8_t *f, *r;

    if (len < 8 || get16(p + 2) != UDP_ECHO_PORT)
        return;
    ulen = get16(p + 4);
    if (ulen < 8 || ulen > len)
        return;
    f = netdev_tx_buf(nd, &id);
    if (!f)
        return;
    *netdev_tag(nd, id) = 0;
    eth_header(f, eth_src, nd->mac, ETH_P_IP);
    r = ip_header(nd, f, src, IPPROTO_UDP, ulen);
    copy(r + 8, p + 8, ulen - 8);
    put16(r, UDP_ECHO_PORT);
    put16(r + 2, get16(p));
    put16(r + 4, (uint16_t)ulen);
    put16(r + 6, 0); /* no checksum (allowed for IPv4) */
    netdev_tx(nd, id, ETH_HLEN + 20 + ulen, true);
}

static void ip_rx(struct netdev *nd, const uint8_t *f, const uint8_t *ip, uint32_t len)
{
    uint32_t ihl, total, src, dst;

    if (len < 20 || (ip[0] >> 4) != 4)
        return;
    ihl = (ip[0] & 0xf) * 4u;
    total = get16(ip + 2);
    if (ihl < 20 || total < ihl || total > len || csum(ip, ihl) != 0)
        return;
    if (get16(ip + 6) & 0x3fff) /* MF or a fragment offset: no reassembly */
        return;
    src = get32(ip + 12);
    dst = get32(ip + 16);
    if (dst != nd->ip)
        return;
    if (ip[9] == IPPROTO_ICMP)
        icmp_rx(nd, f + 6, src, ip + ihl, total - ihl);
    else if (ip[9] == IPPROTO_UDP)
        udp_rx(nd, f + 6, src, ip + ihl, total - ihl);
}

void net_rx(struct netdev *nd, uint8_t *frame, uint32_t len)
{
    uint16_t type;

    if (len < ETH_HLEN)
        return;
    if (memcmp(frame, nd->mac, ETH_ALEN) != 0 && memcmp(frame, broadcast_mac, ETH_ALEN) != 0)
        return;
    type = get16(frame + 12);
    if (type == ETH_P_ARP)
        arp_rx(nd, frame + ETH_HLEN, len - ETH_HLEN);
    else if (type == ETH_P_IP)
        ip_rx(nd, frame, frame + ETH_HLEN, len - ETH_HLEN);
}

int net_send_ping(struct netdev *nd, const uint8_t dst_mac[ETH_ALEN], uint32_t dst_ip, uint16_t id,
                  uint16_t seq, const uint8_t *src_mac)
{
    int tid;
    uint8_t *f = netdev_tx_buf(nd, &tid), *p;

    if (!f)
        return -1;
    *netdev_tag(nd, tid) = 0;
    eth_header(f, dst_mac, src_mac ? src_mac : nd->mac, ETH_P_IP);
    p = ip_header(nd, f, dst_ip, IPPROTO_ICMP, 8 + PING_PAYLOAD);
    p[0] = ICMP_ECHO_REQUEST;
    p[1] = 0;
    put16(p + 2, 0);
    put16(p + 4, id);
    put16(p + 6, seq);
    for (int i = 0; i < PING_PAYLOAD; i++)
        p[8 + i] = (uint8_t)i;
    put16(p + 2, csum(p, 8 + PING_PAYLOAD));
    netdev_tx(nd, tid, ETH_HLEN + 20 + 8 + PING_PAYLOAD, true);
    return 0;
}

uint32_t net_build_udp(struct netdev *nd, uint8_t *frame, const uint8_t dst_mac[ETH_ALEN],
                       uint32_t dst_ip, uint16_t sport, uint16_t dport, uint32_t size)
{
    uint32_t ulen = size - ETH_HLEN - 20;
    uint8_t *u;

    eth_header(frame, dst_mac, nd->mac, ETH_P_IP);
    u = ip_header(nd, frame, dst_ip, IPPROTO_UDP, ulen);
    put16(u, sport);
    put16(u + 2, dport);
    put16(u + 4, (uint16_t)ulen);
    put16(u + 6, 0);
    for (uint32_t i = 8; i < ulen; i++)
        u[i] = (uint8_t)i;
    return size;
}

/* ---- waiting ---- */

static uint64_t lapic_base;

static void net_timer_isr(void)
{
    lapic_eoi();
}

static void arm_timer(uint64_t deadline)
{
    uint64_t now = rdtsc(), ns;

    if (!lapic_base) {
        lapic_base = rdmsr(MSR_APIC_BASE) & APIC_BASE_ADDR_MASK;
        irq_set_handler(NET_TIMER_VECTOR, net_timer_isr);
        mmio_write32(lapic_base + APIC_TDCR, APIC_TDCR_DIV1);
    }
    if ((int64_t)(deadline - now) <= 0)
        ns = 1;
    else
        ns = (deadline - now) * 1000000 / (tsc_hz() / 1000);
    if (ns > 500000000)
        ns = 500000000; /* wake at least every 0.5 s; the loop re-checks the time */
    mmio_write32(lapic_base + APIC_LVT_TIMER, NET_TIMER_VECTOR); /* one-shot */
    mmio_write32(lapic_base + APIC_TMICT, (uint32_t)(ns ? ns : 1));
}

bool net_wait(bool (*done)(void *), void *arg, uint64_t deadline)
{
    for (;;) {
        bool work = false;

        for (unsigned int i = 0; i < nr_net_ifaces; i++)
            work |= net_ifaces[i]->ops->poll(net_ifaces[i]);
        if (done && done(arg))
            return true;
        if (deadline && (int64_t)(rdtsc() - deadline) >= 0)
            return false;
        if (work)
            continue;
        for (unsigned int i = 0; i < nr_net_ifaces; i++)
            work |= net_ifaces[i]->ops->enable_cb(net_ifaces[i]);
        if (work)
            continue;
        if (deadline)
            arm_timer(deadline);
        safe_halt(); /* the NIC's interrupt or the timer */
        local_irq_disable();
    }
}

static bool arp_done(void *arg)
{
    uint8_t mac[ETH_ALEN];

    return arp_lookup(*(uint32_t *)arg, mac);
}

int net_arp_resolve(struct netdev *nd, uint32_t ip, uint8_t mac[ETH_ALEN])
{
    static const uint8_t zero[ETH_ALEN];

    for (int tries = 0; tries < 3; tries++) {
        if (arp_lookup(ip, mac))
            return 0;
        if (arp_send(nd, 1, broadcast_mac, zero, ip))
            continue;
        net_wait(arp_done, &ip, tsc_deadline_us(1000000));
    }
    return arp_lookup(ip, mac) ? 0 : -1;
}
