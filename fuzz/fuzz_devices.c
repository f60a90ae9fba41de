/*
 * fuzz_devices.c: libFuzzer harness of a hostile guest against every device model, through
 * the real bus (lib/bus.c), with no KVM: two virtio-net VFs (devices/virtio_net.c over
 * virtio_mmio.c and virtqueue.c) and an NE2000 on one PF switch (pfswitch.c) with a sink
 * uplink (uplink.c), the 16550, the IOAPIC (every device's interrupt line goes through it),
 * the CMOS RTC, the i8042 and the ACPI PM registers, laid out as `minivmm run` lays them out
 * (src/board.c, src/nic.c).
 *
 * An input is a program: a first byte of options (bit 0: VIRTIO_F_EVENT_IDX offered), then
 * operations, each an opcode byte and its operands (fuzz.h reads zeros past the end):
 *   PIO/MMIO read or write   device, offset, size, value (a device index past the table:
 *                            a raw address, so unclaimed accesses are tried too)
 *   guest memory write       16-bit address, length, bytes (descriptors, rings, frames)
 *   uplink frame             length, bytes (a frame from the network toward the switch)
 *   console input            length, bytes (host input into the 16550)
 *   worker kick              a VF's queues processed as its I/O thread would (notify=ioeventfd;
 *                            QueueNotify writes process them in the exit, notify=exit)
 *   EOI                      vector, as KVM reports a level-triggered EOI
 *   host control             a switch or link setting the host may change at run time
 *   descriptor, avail entry  a driver's ring writes at the rings a VF's queue was given: one
 *                            descriptor (index, address, length, flags, next), or a head
 *                            appended to the avail ring (its idx advanced), so that chains of
 *                            any shape are a few bytes of input
 * Guest RAM is 64 KiB; RAM and every device are allocated, created and destroyed per input.
 * Checks: no crash, leak or sanitizer report; the switch's counters account for every frame
 * (offered + replicas = delivered + dropped).
 */
#include <errno.h>
#include <inttypes.h>
#include <time.h>

#include "acpi_pm.h"
#include "fuzz.h"
#include "i8042.h"
#include "ioapic.h"
#include "minivmm/abi.h"
#include "minivmm/hw/bus.h"
#include "minivmm/hw/gmem.h"
#include "minivmm/memmap.h"
#include "minivmm/uart16550.h"
#include "ne2000.h"
#include "pfswitch.h"
#include "rtc_cmos.h"
#include "serial16550.h"
#include "uplink.h"
#include "virtio_net.h"

#define RAM_SIZE 0x10000u
#define NVF 2
#define MAX_OPS 4096
#define SERIAL_IRQ 4

enum {
    OP_PIO_WRITE,
    OP_PIO_READ,
    OP_MMIO_WRITE,
    OP_MMIO_READ,
    OP_MEM,
    OP_UPLINK_RX,
    OP_CONSOLE_IN,
    OP_KICK,
    OP_EOI,
    OP_HOST,
    OP_DESC,
    OP_AVAIL,
    OP_NR
};

/* Each device is an allocation of its own, so that ASan's redzones sit between them and an
 * access past the end of one is reported rather than landing in its neighbour. */
struct machine_fz {
    struct gmem gm;
    struct bus bus;
    struct ioapic *io;
    struct serial16550 *uart;
    struct rtc_cmos *rtc;
    struct i8042 *kbd;
    struct acpi_pm *pm;
    struct pfswitch *sw;
    struct uplink *up;
    struct virtio_net *vn[NVF];
    struct ne2000 *ne;
    uint64_t delivered, routes, uart_tx, resets, power_offs, clock_ns;
};

static uint8_t *ram; /* RAM_SIZE bytes, allocated per input */
static struct machine_fz m;

static const uint8_t VF_MAC[NVF][6] = {{0x02, 0, 0, 0, 0x10, 0}, {0x02, 0, 0, 0, 0x10, 1}};
static const uint8_t NE_MAC[6] = {0x02, 0, 0, 0, 0x10, 2};

static void io_route(void *opaque, unsigned pin, const struct ioapic_msi *msi, bool masked)
{
    m.routes++;
}

static int io_deliver(void *opaque, unsigned pin, const struct ioapic_msi *msi)
{
    m.delivered++;
    return 0;
}

static const struct ioapic_ops io_ops = {.route = io_route, .deliver = io_deliver};

static void uart_tx(void *opaque, uint8_t byte)
{
    m.uart_tx++;
}

/* A clock that advances with the program, so that RTC reads are deterministic. */
static void rtc_clock(void *opaque, struct timespec *now)
{
    uint64_t t = UINT64_C(1700000000000000000) + m.clock_ns;
    now->tv_sec = (time_t)(t / 1000000000);
    now->tv_nsec = (long)(t % 1000000000);
}

static void on_reset(void *opaque)
{
    m.resets++;
}

static void pm_power_off(void *opaque, unsigned vcpu)
{
    m.power_offs++;
}

static void pm_reset(void *opaque, unsigned vcpu)
{
    m.resets++;
}

static void *zalloc(size_t n)
{
    void *p = calloc(1, n);
    if (!p)
        abort();
    return p;
}

static void reg(const char *name, enum bus_space space, uint64_t base, uint64_t size,
                const struct bus_dev_ops *ops, void *opaque)
{
    struct bus_dev d = {.name = name, .space = space, .base = base, .size = size, .ops = ops,
                        .opaque = opaque};
    if (bus_register(&m.bus, &d))
        abort();
}

static void line(struct irq_line *l, unsigned pin)
{
    *l = (struct irq_line){.ops = &ioapic_irq_ops, .opaque = m.io, .gsi = pin};
}

static void create(bool event_idx)
{
    struct irq_line l;
    struct netport np;
    unsigned ne_port;

    memset(&m, 0, sizeof(m));
    ram = zalloc(RAM_SIZE);
    m.io = zalloc(sizeof(*m.io));
    m.uart = zalloc(sizeof(*m.uart));
    m.rtc = zalloc(sizeof(*m.rtc));
    m.kbd = zalloc(sizeof(*m.kbd));
    m.pm = zalloc(sizeof(*m.pm));
    m.sw = zalloc(sizeof(*m.sw));
    m.up = zalloc(sizeof(*m.up));
    m.ne = zalloc(sizeof(*m.ne));
    for (unsigned k = 0; k < NVF; k++)
        m.vn[k] = zalloc(sizeof(*m.vn[k]));
    m.gm = (struct gmem){.fd = -1, .host = ram, .size = RAM_SIZE, .nregions = 1,
                         .regions = {{.gpa = 0, .size = RAM_SIZE, .offset = 0}}};
    bus_init(&m.bus);
    if (ioapic_init(m.io, &io_ops, NULL))
        abort();
    line(&l, SERIAL_IRQ);
    if (serial16550_init(m.uart, &l, uart_tx, NULL) || rtc_cmos_init(m.rtc, rtc_clock, NULL) ||
        i8042_init(m.kbd, on_reset, NULL))
        abort();
    *m.pm = (struct acpi_pm){.on_power_off = pm_power_off, .on_reset = pm_reset};

    if (pfswitch_init(m.sw, NVF) || uplink_open_sink(m.up) ||
        pfswitch_attach(m.sw, PFSWITCH_UPLINK, &uplink_port_ops, m.up))
        abort();
    for (unsigned k = 0; k < NVF; k++) {
        line(&l, MEMMAP_VIRTIO_IRQ_BASE + k);
        if (pfswitch_set_mac(m.sw, k, VF_MAC[k], false) || pfswitch_netport(m.sw, k, &np) ||
            virtio_net_init(m.vn[k], &m.gm, &l, &np, event_idx) || virtio_net_attach(m.vn[k]))
            abort();
        virtio_net_set_mac(m.vn[k], VF_MAC[k]);
    }
    line(&l, MINIVMM_NE2000_IRQ);
    if (pfswitch_add_port(m.sw, &ne_port) || pfswitch_set_mac(m.sw, ne_port, NE_MAC, false) ||
        pfswitch_netport(m.sw, ne_port, &np) || ne2000_init(m.ne, NE_MAC, &l, &np) ||
        ne2000_attach(m.ne))
        abort();

    reg("serial", BUS_PIO, UART_COM1_BASE, 8, &serial16550_bus_ops, m.uart);
    reg("rtc", BUS_PIO, RTC_CMOS_PORT, 2, &rtc_cmos_bus_ops, m.rtc);
    reg("i8042", BUS_PIO, I8042_DATA_PORT, 1, &i8042_bus_ops_data, m.kbd);
    reg("i8042", BUS_PIO, I8042_STATUS_PORT, 1, &i8042_bus_ops_status, m.kbd);
    reg("acpi-pm", BUS_PIO, MINIVMM_ACPI_PM_PORT, MINIVMM_ACPI_PM_PORT_SIZE, &acpi_pm_bus_ops,
        m.pm);
    reg("ne2000", BUS_PIO, MINIVMM_NE2000_PORT, NE2000_IO_SIZE, &ne2000_bus_ops, m.ne);
    reg("ioapic", BUS_MMIO, MEMMAP_IOAPIC_BASE, MEMMAP_IOAPIC_SIZE, &ioapic_bus_ops, m.io);
    for (unsigned k = 0; k < NVF; k++)
        reg("virtio", BUS_MMIO, MEMMAP_VIRTIO_BASE + k * MEMMAP_VIRTIO_STRIDE,
            VIRTIO_MMIO_WINDOW_SIZE, &virtio_mmio_bus_ops, &m.vn[k]->t);
}

static void destroy(void)
{
    for (unsigned k = 0; k < NVF; k++)
        virtio_net_detach(m.vn[k]);
    ne2000_detach(m.ne);
    for (unsigned k = 0; k < NVF; k++)
        virtio_net_destroy(m.vn[k]);
    ne2000_destroy(m.ne);
    pfswitch_destroy(m.sw);
    uplink_close(m.up);
    i8042_destroy(m.kbd);
    rtc_cmos_destroy(m.rtc);
    serial16550_destroy(m.uart);
    ioapic_destroy(m.io);
    for (unsigned k = 0; k < NVF; k++)
        free(m.vn[k]);
    free(m.ne);
    free(m.up);
    free(m.sw);
    free(m.pm);
    free(m.kbd);
    free(m.rtc);
    free(m.uart);
    free(m.io);
    free(ram);
}

/* Port bases the PIO operations pick by index; past the table, the offset byte pair is the
 * port itself. */
static const uint16_t pio_base[] = {UART_COM1_BASE, RTC_CMOS_PORT, I8042_DATA_PORT,
                                    I8042_STATUS_PORT, MINIVMM_ACPI_PM_PORT, MINIVMM_NE2000_PORT};
#define NPIO (sizeof(pio_base) / sizeof(pio_base[0]))

static uint64_t mmio_base(unsigned i)
{
    return i < NVF ? MEMMAP_VIRTIO_BASE + i * MEMMAP_VIRTIO_STRIDE : MEMMAP_IOAPIC_BASE;
}

static void access(struct fuzz_in *in, enum bus_space space, bool write)
{
    uint8_t dev = fuzz_u8(in);
    uint16_t off = fuzz_u16(in);
    unsigned len = 1u << (fuzz_u8(in) % (space == BUS_PIO ? 3 : 4));
    uint64_t addr;
    uint8_t data[8];

    if (space == BUS_PIO)
        addr = dev % (NPIO + 1) < NPIO ? pio_base[dev % (NPIO + 1)] + (off & 0x1f) : off;
    else
        addr = dev % (NVF + 2) <= NVF ? mmio_base(dev % (NVF + 2)) + (off & 0xfff)
                                      : MEMMAP_VIRTIO_BASE + off; /* across the windows */
    if (write) {
        uint64_t v = fuzz_uint(in, len);
        memcpy(data, &v, sizeof(data));
    } else {
        memset(data, 0, sizeof(data));
    }
    bus_access(&m.bus, space, 0, addr, data, len, write);
}

static void host_control(struct fuzz_in *in)
{
    uint8_t what = fuzz_u8(in), v = fuzz_u8(in);
    unsigned port = v % (NVF + 1); /* the VFs and the NE2000 */

    switch (what % 8) {
    case 0:
        virtio_net_set_link(m.vn[v % NVF], v & 0x80);
        break;
    case 1:
        pfswitch_set_vlan(m.sw, port, (v & 0x80) ? 10 : 0);
        break;
    case 2:
        pfswitch_set_trust(m.sw, port, v & 0x80);
        break;
    case 3:
        pfswitch_set_spoofchk(m.sw, port, v & 0x80);
        break;
    case 4:
        pfswitch_set_link_state(m.sw, port, (enum pfswitch_link_state)((v >> 4) % 3));
        break;
    case 5:
        pfswitch_set_mtu(m.sw, PFSWITCH_MTU_MIN + v * 40u);
        break;
    case 6:
        pfswitch_set_uplink_link(m.sw, v & 0x80);
        break;
    case 7:
        ne2000_reset(m.ne);
        break;
    }
}

/* The guest address of a queue's ring area, or 0 when the driver has not given one. */
static struct virtio_mmio_queue *queue(struct fuzz_in *in)
{
    struct virtio_net *vn = m.vn[fuzz_u8(in) % NVF];
    struct virtio_mmio_queue *q = &vn->t.queues[fuzz_u8(in) % VIRTIO_NET_NUM_QUEUES];
    return q->num ? q : NULL;
}

static void ram_write(uint64_t gpa, const void *p, size_t n)
{
    if (gpa < RAM_SIZE && n <= RAM_SIZE - gpa)
        memcpy(ram + gpa, p, n);
}

static void desc_op(struct fuzz_in *in)
{
    struct virtio_mmio_queue *q = queue(in);
    uint8_t idx = fuzz_u8(in);
    struct vring_desc d = {.addr = fuzz_u16(in), .len = fuzz_u16(in), .flags = fuzz_u8(in) & 7,
                           .next = fuzz_u8(in)};
    if (q)
        ram_write(q->desc + (uint64_t)(idx % q->num) * sizeof(d), &d, sizeof(d));
}

static void avail_op(struct fuzz_in *in)
{
    struct virtio_mmio_queue *q = queue(in);
    uint16_t head = fuzz_u8(in), idx;
    if (!q || q->driver >= RAM_SIZE - 4)
        return;
    memcpy(&idx, ram + q->driver + 2, 2);
    ram_write(q->driver + 4 + (uint64_t)(idx % q->num) * 2, &head, 2);
    idx++;
    ram_write(q->driver + 2, &idx, 2);
}

static void run(struct fuzz_in *in)
{
    uint8_t buf[2048];
    size_t got;

    for (unsigned n = 0; n < MAX_OPS && fuzz_left(in); n++) {
        m.clock_ns += 1000000;
        switch (fuzz_u8(in) % OP_NR) {
        case OP_PIO_WRITE:
            access(in, BUS_PIO, true);
            break;
        case OP_PIO_READ:
            access(in, BUS_PIO, false);
            break;
        case OP_MMIO_WRITE:
            access(in, BUS_MMIO, true);
            break;
        case OP_MMIO_READ:
            access(in, BUS_MMIO, false);
            break;
        case OP_MEM: {
            uint16_t gpa = fuzz_u16(in);
            const uint8_t *p = fuzz_bytes(in, fuzz_u8(in), &got);
            if (got > RAM_SIZE - gpa)
                got = RAM_SIZE - gpa;
            memcpy(ram + gpa, p, got);
            break;
        }
        case OP_UPLINK_RX: {
            const uint8_t *p = fuzz_bytes(in, fuzz_u16(in) % sizeof(buf), &got);
            memcpy(buf, p, got); /* the uplink hands the switch its own copy */
            uplink_input(m.up, m.sw, buf, got);
            break;
        }
        case OP_CONSOLE_IN: {
            const uint8_t *p = fuzz_bytes(in, fuzz_u8(in) % 32, &got);
            serial16550_receive(m.uart, p, got);
            break;
        }
        case OP_KICK:
            virtio_net_process(m.vn[fuzz_u8(in) % NVF]);
            break;
        case OP_EOI:
            ioapic_eoi(m.io, fuzz_u8(in));
            break;
        case OP_HOST:
            host_control(in);
            break;
        case OP_DESC:
            desc_op(in);
            break;
        case OP_AVAIL:
            avail_op(in);
            break;
        }
    }
}

static void check_and_trace(void)
{
    struct pfswitch_totals t;
    pfswitch_get_totals(m.sw, &t);
    if (t.offered + t.replicas != t.delivered + t.dropped) {
        fprintf(stderr,
                "fuzz_devices: switch counters: offered %" PRIu64 " + replicas %" PRIu64
                " != delivered %" PRIu64 " + dropped %" PRIu64 "\n",
                t.offered, t.replicas, t.delivered, t.dropped);
        abort();
    }
    if (!fuzz_tracing())
        return;
    for (unsigned k = 0; k < NVF; k++) {
        struct virtio_net_stats st;
        virtio_net_get_stats(m.vn[k], &st);
        fuzz_trace("vf%u tx_frames %" PRIu64 " rx_frames %" PRIu64 " ctrl_ok %" PRIu64
                   " ctrl_err %" PRIu64 " resets %" PRIu64 " status 0x%x",
                   k, st.tx_frames, st.rx_frames, st.ctrl_ok, st.ctrl_err, st.resets,
                   m.vn[k]->t.status);
    }
    struct ne2000_stats ns;
    ne2000_get_stats(m.ne, &ns);
    struct uplink_stats us;
    uplink_get_stats(m.up, &us);
    fuzz_trace("ne2000 tx_packets %" PRIu64 " rx_packets %" PRIu64, ns.tx_packets, ns.rx_packets);
    fuzz_trace("uplink tx_packets %" PRIu64 " rx_packets %" PRIu64, us.tx_packets, us.rx_packets);
    fuzz_trace("switch offered %" PRIu64 " delivered %" PRIu64 " dropped %" PRIu64, t.offered,
               t.delivered, t.dropped);
    fuzz_trace("serial tx_bytes %" PRIu64 " rx_bytes %" PRIu64, m.uart_tx, m.uart->rx_bytes);
    fuzz_trace("ioapic delivered %" PRIu64 " routes %" PRIu64, m.delivered, m.routes);
    fuzz_trace("resets %" PRIu64 " power_offs %" PRIu64 " rtc index 0x%02x", m.resets,
               m.power_offs, m.rtc->index);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    if (size < 1)
        return 0;
    create(fuzz_u8(&in) & 1);
    run(&in);
    check_and_trace();
    destroy();
    return 0;
}
