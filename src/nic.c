/*
 * nic.c: the NICs of `minivmm run` (nic.h): config -> switch, uplink, captures, VF devices on
 * the bus, ioeventfds and I/O threads; teardown in reverse. Only wiring: each NIC model gets
 * its switch port as a struct netport (minivmm/hw/netport.h), the ioeventfd work runs on a
 * devices/virtio_worker.h thread, and the report reads the parts' own stats accessors.
 *
 * Threads: the I/O thread of a NIC (a virtio worker) only calls virtio_net_process() on its
 * VFs; nic_destroy_all() stops it, after the vCPUs are joined.
 * A dgram/tap uplink has its own RX thread (devices/uplink.c), stopped in uplink_close().
 * max_tx_rate waits happen inside pfswitch_tx_from_vf(), i.e. on the thread doing the VF's TX:
 * with notify=ioeventfd a throttled VF also delays the other VFs of its NIC (one I/O thread).
 *
 * Run-time control (nic_vf_*): `ctl_lock` of the NIC serialises setters, so a state change and
 * the link bit the guest sees (virtio_net_set_link) are applied in one order. Lock order:
 * ctl_lock -> switch -> device cfg_lock/transport. Readers take only the switch's lock.
 */
#include <errno.h>
#include <inttypes.h>
#include <libfdt.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "minivmm/abi.h"
#include "minivmm/util.h"
#include "minivmm/memmap.h"
#include "minivmm/virtio.h"
#include "ne2000.h"
#include "nic.h"
#include "nicopt.h"
#include "pfswitch.h"
#include "uplink.h"
#include "virtio_net.h"
#include "virtio_worker.h"

struct nic {
    struct nic_config cfg;
    bool cfg_parsed;
    struct pfswitch sw;
    bool sw_init;
    struct uplink up;
    bool up_open;
    struct uplink_pcap *tap[NICOPT_MAX_VFS];
    unsigned first; /* first virtio-mmio window */
    struct virtio_net *vf[NICOPT_MAX_VFS];
    int kick[NICOPT_MAX_VFS]; /* the VF's entry in `io` (notify=ioeventfd), or -1 */
    struct virtio_worker io;  /* the I/O thread */
    pthread_mutex_t ctl_lock;
    unsigned window[NICOPT_MAX_VFS]; /* VF k's virtio-mmio window: its abi.h index */
    struct ne2000 *ne; /* ne2000=on: an extra switch port after the VFs */
    unsigned ne_port;
    uint8_t ne_mac[6];
};

_Static_assert(NIC_DROP_NR == PFSWITCH_DROP_NR, "nic.h's NIC_DROP_NR");
_Static_assert(NICOPT_MAX_VFS <= VIRTIO_WORKER_MAX, "one I/O thread per NIC");

struct nics {
    unsigned n;
    unsigned nvfs; /* windows used */
    char names[MEMMAP_VIRTIO_MAX][8];
    uint8_t vf_nic[MEMMAP_VIRTIO_MAX]; /* window -> NIC */
    struct nic nic[MEMMAP_VIRTIO_MAX];
};

static uint64_t window_base(unsigned w)
{
    return MEMMAP_VIRTIO_BASE + (uint64_t)w * MEMMAP_VIRTIO_STRIDE;
}

static void process_vf(void *dev)
{
    virtio_net_process(dev);
}

static int setup_vf_port(struct nic *nic, unsigned k, char *err, size_t errlen)
{
    const struct nic_vf_config *v = &nic->cfg.vf[k];
    int ret = pfswitch_set_mac(&nic->sw, k, v->mac, false);
    if (!ret)
        ret = pfswitch_set_vlan(&nic->sw, k, v->vlan);
    if (!ret)
        ret = pfswitch_set_spoofchk(&nic->sw, k, v->spoofchk);
    if (!ret)
        ret = pfswitch_set_trust(&nic->sw, k, v->trust);
    if (!ret)
        ret = pfswitch_set_link_state(&nic->sw, k, (enum pfswitch_link_state)v->state);
    if (!ret)
        ret = pfswitch_set_max_tx_rate(&nic->sw, k, v->max_tx_rate);
    if (ret) {
        snprintf(err, errlen, "--nic: vf%u: cannot configure the switch port: %s", k,
                 strerror(-ret));
        return ret;
    }
    if (v->pcap) {
        ret = uplink_pcap_open(&nic->tap[k], v->pcap, err, errlen);
        if (ret)
            return ret;
        pfswitch_set_tap(&nic->sw, k, uplink_pcap_tap, nic->tap[k]);
    }
    return 0;
}

/* The NE2000's node: its MAC (abi.h). */
static int ne2000_fdt_props(void *fdt, const struct machine_dev *d)
{
    return fdt_property(fdt, "local-mac-address", d->data, 6);
}

/* A VF's node: its window number across all NICs, as the VMM names the VF (abi.h). */
static int vf_fdt_props(void *fdt, const struct machine_dev *d)
{
    return fdt_property_u32(fdt, MINIVMM_FDT_VF_INDEX, *(const unsigned *)d->data);
}

/* The DSDT names of the windows: \_SB.VR00... as QEMU's microvm names its virtio-mmio
 * devices; _HID LNRO0005 is what Linux's virtio_mmio driver matches in ACPI. */
static const char *const vf_acpi_names[] = {"VR00", "VR01", "VR02", "VR03",
                                            "VR04", "VR05", "VR06", "VR07"};
_Static_assert(ARRAY_SIZE(vf_acpi_names) == MEMMAP_VIRTIO_MAX, "one ACPI name per window");

void nic_vf_row(struct machine_dev *d, const char *name, const unsigned *window, unsigned nic,
                void *transport)
{
    *d = (struct machine_dev){
        .bus = {name, BUS_MMIO, window_base(*window), VIRTIO_MMIO_WINDOW_SIZE,
                &virtio_mmio_bus_ops, transport, virtio_mmio_regs, virtio_mmio_nregs},
        .kind = MACHINE_VIRTIO_MMIO, .node = "virtio_mmio", .compat = MINIVMM_FDT_COMPAT_VIRTIO,
        .irq = (int)(MEMMAP_VIRTIO_IRQ_BASE + *window), .group = nic,
        .acpi_hid = *window < MEMMAP_VIRTIO_MAX ? "LNRO0005" : NULL,
        .acpi_name = *window < MEMMAP_VIRTIO_MAX ? vf_acpi_names[*window] : NULL,
        .fdt_props = vf_fdt_props, .data = window};
}

void nic_ne2000_row(struct machine_dev *d, unsigned port, unsigned irq, void *dev,
                    const uint8_t *mac)
{
    *d = (struct machine_dev){
        .bus = {"ne2000", BUS_PIO, port, MINIVMM_NE2000_PORT_SIZE, &ne2000_bus_ops, dev,
                ne2000_regs, ne2000_nregs},
        .kind = MACHINE_ISA, .node = "ethernet", .compat = MINIVMM_FDT_COMPAT_NE2000,
        .irq = (int)irq, .fdt_props = ne2000_fdt_props, .data = mac};
}

/* ne2000=on: switch port nvfs with MAC base + vfs, ISA I/O and IRQ from the options
 * (defaults from abi.h). */
static int create_ne2000(struct nic *nic, struct machine *mach, struct irqchip *ic, char *err,
                         size_t errlen)
{
    const uint8_t *mac = nic->cfg.ne2000_mac; /* nicopt: base + vfs, no VF's */
    memcpy(nic->ne_mac, mac, 6);
    struct netport port;
    int ret = pfswitch_add_port(&nic->sw, &nic->ne_port);
    if (!ret)
        ret = pfswitch_set_mac(&nic->sw, nic->ne_port, mac, false);
    if (!ret)
        ret = pfswitch_netport(&nic->sw, nic->ne_port, &port);
    if (ret) {
        snprintf(err, errlen, "--nic: ne2000: cannot configure the switch port: %s",
                 strerror(-ret));
        return ret;
    }
    if (!(nic->ne = calloc(1, sizeof(*nic->ne)))) {
        snprintf(err, errlen, "--nic: out of memory");
        return -ENOMEM;
    }
    struct irq_line line;
    irqchip_line(ic, nic->cfg.ne2000_irq, &line);
    ret = ne2000_init(nic->ne, mac, &line, &port);
    if (ret) {
        free(nic->ne);
        nic->ne = NULL;
        snprintf(err, errlen, "--nic: ne2000: cannot create the device: %s", strerror(-ret));
        return ret;
    }
    ret = ne2000_attach(nic->ne); /* also asks the port for all multicast (ne2000.h) */
    if (ret) {
        snprintf(err, errlen, "--nic: ne2000: cannot configure the switch port: %s",
                 strerror(-ret));
        return ret;
    }
    struct machine_dev d;
    nic_ne2000_row(&d, nic->cfg.ne2000_port, nic->cfg.ne2000_irq, nic->ne, nic->ne_mac);
    ret = machine_add(mach, &d, err, errlen);
    if (ret == -EEXIST) {
        size_t n = strlen(err);
        snprintf(err + n, errlen - n, " (ne2000=on is allowed on one --nic only)");
    }
    return ret;
}

static int create_nic(struct nics *ns, struct nic *nic, const char *spec, struct machine *mach,
                      struct irqchip *ic, const struct gmem *gm, int vm_fd, char *err,
                      size_t errlen)
{
    int ret = nicopt_parse(spec, &nic->cfg, err, errlen);
    if (ret)
        return ret;
    nic->cfg_parsed = true;
    if (ns->nvfs + nic->cfg.vfs > MEMMAP_VIRTIO_MAX) {
        snprintf(err, errlen, "--nic: %u VFs in all, more than the %d virtio-mmio windows",
                 ns->nvfs + nic->cfg.vfs, MEMMAP_VIRTIO_MAX);
        return -EINVAL;
    }
    nic->first = ns->nvfs;
    ret = pfswitch_init(&nic->sw, nic->cfg.vfs);
    if (ret) {
        snprintf(err, errlen, "--nic: cannot create the switch: %s", strerror(-ret));
        return ret;
    }
    nic->sw_init = true;
    if (nic->cfg.uplink == NIC_UPLINK_PCAP)
        ret = uplink_open_pcap(&nic->up, nic->cfg.uplink_pcap, err, errlen);
    else if (nic->cfg.uplink == NIC_UPLINK_DGRAM)
        ret = uplink_open_dgram(&nic->up, nic->cfg.dgram_local, nic->cfg.dgram_remote, err, errlen);
    else if (nic->cfg.uplink == NIC_UPLINK_TAP)
        ret = uplink_open_tap(&nic->up, nic->cfg.uplink_tap, -1, err, errlen);
    else if (nic->cfg.uplink == NIC_UPLINK_TAP_FD)
        ret = uplink_open_tap(&nic->up, NULL, nic->cfg.tap_fd, err, errlen);
    else if ((ret = uplink_open_sink(&nic->up)) != 0)
        snprintf(err, errlen, "--nic: cannot open the uplink: %s", strerror(-ret));
    if (ret)
        return ret;
    nic->up_open = true;
    pfswitch_attach(&nic->sw, PFSWITCH_UPLINK, &uplink_port_ops, &nic->up);

    bool ioeventfd = nic->cfg.notify == NIC_NOTIFY_IOEVENTFD;
    for (unsigned k = 0; k < nic->cfg.vfs; k++) {
        unsigned w = nic->first + k;
        ret = setup_vf_port(nic, k, err, errlen);
        if (ret)
            return ret;
        struct irq_line line;
        irqchip_line(ic, MEMMAP_VIRTIO_IRQ_BASE + w, &line);
        ret = irqchip_enable_irqfd(ic, MEMMAP_VIRTIO_IRQ_BASE + w, err, errlen);
        if (ret)
            return ret;
        struct netport port;
        ret = pfswitch_netport(&nic->sw, k, &port);
        if (ret) {
            snprintf(err, errlen, "--nic: vf%u: no switch port: %s", k, strerror(-ret));
            return ret;
        }
        /* nic->vf[k] set means initialised: nic_destroy_all() destroys what it finds. */
        struct virtio_net *vn = calloc(1, sizeof(*vn));
        if (!vn) {
            snprintf(err, errlen, "--nic: out of memory");
            return -ENOMEM;
        }
        ret = virtio_net_init(vn, gm, &line, &port, nic->cfg.event_idx);
        if (ret) {
            free(vn);
            snprintf(err, errlen, "--nic: vf%u: cannot create the device: %s", k, strerror(-ret));
            return ret;
        }
        nic->vf[k] = vn;
        virtio_net_attach(nic->vf[k]);
        snprintf(ns->names[w], sizeof(ns->names[w]), "vf%u", w);
        nic->window[k] = w;
        struct machine_dev d;
        nic_vf_row(&d, ns->names[w], &nic->window[k], (unsigned)(nic - ns->nic), &nic->vf[k]->t);
        ret = machine_add(mach, &d, err, errlen);
        if (ret)
            return ret;
        ns->nvfs++;
        ns->vf_nic[w] = (uint8_t)(nic - ns->nic);
        if (!ioeventfd)
            continue;
        int efd;
        unsigned slot;
        ret = virtio_worker_add(&nic->io, process_vf, nic->vf[k], &efd, &slot);
        if (ret) {
            snprintf(err, errlen, "nic: eventfd failed: %s", strerror(-ret));
            return ret;
        }
        nic->kick[k] = (int)slot;
        /* No datamatch: any queue's kick wakes the thread, which processes TX and ctrl. The VM
         * keeps its own reference; VM teardown removes the registration. */
        struct kvm_ioeventfd io = {
            .addr = window_base(w) + VIRTIO_MMIO_QUEUE_NOTIFY, .len = 4, .fd = efd};
        if (ioctl(vm_fd, KVM_IOEVENTFD, &io) < 0) {
            ret = -errno;
            snprintf(err, errlen, "KVM: ioctl (IOEVENTFD) for %s failed: %s", ns->names[w],
                     strerror(-ret));
            return ret;
        }
    }
    if (nic->cfg.ne2000 && (ret = create_ne2000(nic, mach, ic, err, errlen)) != 0)
        return ret;
    char tname[16];
    snprintf(tname, sizeof(tname), "nic%u-uplink", (unsigned)(nic - ns->nic));
    ret = uplink_start(&nic->up, &nic->sw, tname);
    if (ret) {
        snprintf(err, errlen, "nic: cannot start the uplink's thread: %s", strerror(-ret));
        return ret;
    }
    if (!ioeventfd)
        return 0;
    snprintf(tname, sizeof(tname), "nic%u-io", (unsigned)(nic - ns->nic));
    ret = virtio_worker_start(&nic->io, tname);
    if (ret)
        snprintf(err, errlen, "nic: cannot start the I/O thread: %s", strerror(-ret));
    return ret;
}

int nic_create_all(struct nics **out, const char *const *specs, unsigned nspecs,
                   struct machine *mach, struct irqchip *ic, const struct gmem *gm, int vm_fd,
                   char *err, size_t errlen)
{
    *out = NULL;
    if (nspecs == 0 || nspecs > MEMMAP_VIRTIO_MAX) {
        snprintf(err, errlen, "--nic: at most %d NICs", MEMMAP_VIRTIO_MAX);
        return -EINVAL;
    }
    struct nics *ns = calloc(1, sizeof(*ns));
    if (!ns) {
        snprintf(err, errlen, "--nic: out of memory");
        return -ENOMEM;
    }
    for (unsigned i = 0; i < MEMMAP_VIRTIO_MAX; i++) {
        virtio_worker_init(&ns->nic[i].io);
        pthread_mutex_init(&ns->nic[i].ctl_lock, NULL);
        for (unsigned k = 0; k < NICOPT_MAX_VFS; k++)
            ns->nic[i].kick[k] = -1;
    }
    for (unsigned i = 0; i < nspecs; i++) {
        ns->n = i + 1; /* destroy undoes what create_nic did of this one too */
        int ret = create_nic(ns, &ns->nic[i], specs[i], mach, ic, gm, vm_fd, err, errlen);
        if (ret) {
            nic_destroy_all(ns, NULL);
            return ret;
        }
    }
    *out = ns;
    return 0;
}

/* The switch's drops at one port, by reason: " tx-spoof 3 rx-no-buffer 1". */
static void report_port_drops(FILE *f, const struct pfswitch_port_stats *st)
{
    for (int r = 0; r < PFSWITCH_DROP_NR; r++) {
        if (st->tx_drops[r])
            fprintf(f, " tx-%s %" PRIu64, pfswitch_drop_name(r), st->tx_drops[r]);
        if (st->rx_drops[r])
            fprintf(f, " rx-%s %" PRIu64, pfswitch_drop_name(r), st->rx_drops[r]);
    }
}

static void report_vf(FILE *f, struct nic *nic, unsigned k, unsigned w)
{
    struct pfswitch_port_stats st;
    struct virtio_net_stats vs = {0};
    if (pfswitch_stats(&nic->sw, k, &st))
        return;
    if (nic->vf[k])
        virtio_net_get_stats(nic->vf[k], &vs);
    fprintf(f, "%svf%u rx %" PRIu64 " tx %" PRIu64, w ? "; " : "", w, st.rx_packets, st.tx_packets);
    report_port_drops(f, &st);
    if (vs.tx_oversize)
        fprintf(f, " tx-oversize %" PRIu64, vs.tx_oversize);
    if (vs.tx_bad_hdr)
        fprintf(f, " tx-bad-header %" PRIu64, vs.tx_bad_hdr);
    if (vs.rx_small)
        fprintf(f, " rx-small-buffer %" PRIu64, vs.rx_small);
    if (vs.resets)
        fprintf(f, " needs-reset %" PRIu64, vs.resets);
    if (nic->kick[k] >= 0) /* `minivmm bench net` reads this */
        fprintf(f, " ioeventfd-reads %" PRIu64,
                virtio_worker_kicks(&nic->io, (unsigned)nic->kick[k]));
    fprintf(f, " tx-bytes %" PRIu64, st.tx_bytes);
    if (st.tx_packets > 1)
        fprintf(f, " tx-us %" PRIu64, (st.tx_last_ns - st.tx_first_ns) / 1000);
    if (st.rate_waits)
        fprintf(f, " rate-waits %" PRIu64 " rate-wait-us %" PRIu64, st.rate_waits,
                st.rate_wait_ns / 1000);
}

/* "; ne2000 rx N tx N" with the switch's drops and the DP8390's own (ring overflow etc.). */
static void report_ne2000(FILE *f, struct nic *nic)
{
    struct pfswitch_port_stats st;
    struct ne2000_stats ns;
    if (pfswitch_stats(&nic->sw, nic->ne_port, &st))
        return;
    ne2000_get_stats(nic->ne, &ns);
    fprintf(f, "; ne2000 rx %" PRIu64 " tx %" PRIu64, st.rx_packets, st.tx_packets);
    report_port_drops(f, &st);
    if (ns.rx_overflows)
        fprintf(f, " rx-overflow %" PRIu64, ns.rx_overflows);
    if (ns.rx_stopped)
        fprintf(f, " rx-stopped %" PRIu64, ns.rx_stopped);
    if (ns.rx_filtered)
        fprintf(f, " rx-filtered %" PRIu64, ns.rx_filtered);
    if (ns.tx_errors)
        fprintf(f, " tx-errors %" PRIu64, ns.tx_errors);
}

/* A sink's bytes and iosum (guest/iocmd.h): what `minivmm bench io` verifies. */
static void report_sink(FILE *f, const struct uplink_stats *us, unsigned i)
{
    fprintf(f, "; uplink%u %s sink-bytes %" PRIu64 " sink-sum 0x%016" PRIx64, i, us->name,
            us->tx_bytes, us->sink_sum);
}

static void report_uplink(FILE *f, struct nic *nic, const struct uplink_stats *us, unsigned i)
{
    struct pfswitch_port_stats st;
    if (pfswitch_stats(&nic->sw, PFSWITCH_UPLINK, &st))
        return;
    fprintf(f, "; uplink%u %s rx %" PRIu64 " tx %" PRIu64, i, us->name, st.tx_packets,
            st.rx_packets);
    for (int r = 0; r < PFSWITCH_DROP_NR; r++) {
        if (st.tx_drops[r])
            fprintf(f, " in-%s %" PRIu64, pfswitch_drop_name(r), st.tx_drops[r]);
        if (st.rx_drops[r])
            fprintf(f, " out-%s %" PRIu64, pfswitch_drop_name(r), st.rx_drops[r]);
    }
    if (us->rx_runt)
        fprintf(f, " bad-runt %" PRIu64, us->rx_runt);
    if (us->rx_oversize)
        fprintf(f, " bad-oversize %" PRIu64, us->rx_oversize);
}

/* ---- run-time control ---- */

static const char *const state_names[] = {"auto", "enable", "disable"};

const char *nic_drop_name(unsigned r)
{
    return r < NIC_DROP_NR ? pfswitch_drop_name((enum pfswitch_drop)r) : NULL;
}

uint64_t nic_kicks_total(const struct nics *n)
{
    uint64_t total = 0;
    if (!n)
        return 0;
    for (unsigned i = 0; i < n->n; i++)
        for (unsigned k = 0; k < NICOPT_MAX_VFS; k++)
            total += virtio_worker_kicks(&n->nic[i].io, k);
    return total;
}

int nic_vf_count(const struct nics *n)
{
    return n ? (int)n->nvfs : 0;
}

static struct nic *vf_lookup(const struct nics *n, unsigned vf, unsigned *k)
{
    if (!n || vf >= n->nvfs)
        return NULL;
    struct nic *nic = (struct nic *)&n->nic[n->vf_nic[vf]];
    *k = vf - nic->first;
    return nic->vf[*k] ? nic : NULL;
}

int nic_vf_info(const struct nics *n, unsigned vf, struct nic_vf_info *out)
{
    struct pfswitch_port_info pi;
    struct pfswitch_port_stats st;
    unsigned k;
    struct nic *nic = vf_lookup(n, vf, &k);

    if (!nic || pfswitch_port_info(&nic->sw, k, &pi) || pfswitch_stats(&nic->sw, k, &st))
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    out->nic = (unsigned)(nic - n->nic);
    out->index = k;
    memcpy(out->mac, pi.mac, 6);
    out->vlan = pi.vlan;
    out->spoofchk = pi.spoofchk;
    out->trust = pi.trust;
    out->state = (enum nic_vf_state)pi.link_state;
    out->state_name = state_names[pi.link_state];
    out->link_up = pi.link_up;
    out->max_tx_rate = pi.max_tx_rate;
    out->rx_packets = st.rx_packets;
    out->rx_bytes = st.rx_bytes;
    out->tx_packets = st.tx_packets;
    out->tx_bytes = st.tx_bytes;
    memcpy(out->tx_drops, st.tx_drops, sizeof(out->tx_drops));
    memcpy(out->rx_drops, st.rx_drops, sizeof(out->rx_drops));
    out->rate_waits = st.rate_waits;
    out->rate_wait_us = st.rate_wait_ns / 1000;
    return 0;
}

/* The guest's link bit of VF k = the switch's effective link. ctl_lock held. */
static void sync_link(struct nic *nic, unsigned k)
{
    struct pfswitch_port_info pi;
    if (!pfswitch_port_info(&nic->sw, k, &pi))
        virtio_net_set_link(nic->vf[k], pi.link_up); /* interrupts only on a change */
}

int nic_uplink_set_link(struct nics *n, unsigned i, bool up)
{
    if (!n || i >= n->n)
        return -EINVAL;
    struct nic *nic = &n->nic[i];
    pthread_mutex_lock(&nic->ctl_lock);
    pfswitch_set_uplink_link(&nic->sw, up);
    for (unsigned k = 0; k < nic->cfg.vfs; k++)
        if (nic->vf[k])
            sync_link(nic, k);
    pthread_mutex_unlock(&nic->ctl_lock);
    return 0;
}

int nic_vf_set(struct nics *n, unsigned vf, const char *key, const char *value, char *err,
               size_t errlen)
{
    struct nic_vf_config v;
    unsigned k;
    struct nic *nic = vf_lookup(n, vf, &k);
    int r;

    if (!nic) {
        snprintf(err, errlen, "vf%u: no such VF (%d VFs)", vf, nic_vf_count(n));
        return -EINVAL;
    }
    if (!key || !value) {
        snprintf(err, errlen, "vf%u: no key or value", vf);
        return -EINVAL;
    }
    memset(&v, 0, sizeof(v));
    r = nicopt_parse_vf_value(key, value, &v, err, errlen);
    if (r)
        return r;
    pthread_mutex_lock(&nic->ctl_lock);
    if (strcmp(key, "mac") == 0) {
        r = pfswitch_set_mac(&nic->sw, k, v.mac, false);
        if (!r)
            virtio_net_set_mac(nic->vf[k], v.mac);
    } else if (strcmp(key, "vlan") == 0) {
        r = pfswitch_set_vlan(&nic->sw, k, v.vlan);
    } else if (strcmp(key, "spoofchk") == 0) {
        r = pfswitch_set_spoofchk(&nic->sw, k, v.spoofchk);
    } else if (strcmp(key, "trust") == 0) {
        r = pfswitch_set_trust(&nic->sw, k, v.trust);
    } else if (strcmp(key, "state") == 0) {
        r = pfswitch_set_link_state(&nic->sw, k, (enum pfswitch_link_state)v.state);
        if (!r)
            sync_link(nic, k);
    } else {
        r = pfswitch_set_max_tx_rate(&nic->sw, k, v.max_tx_rate);
    }
    pthread_mutex_unlock(&nic->ctl_lock);
    if (r == -EADDRINUSE)
        snprintf(err, errlen, "vf%u: %s: '%s' is used by another VF in the same VLAN", vf, key,
                 value);
    else if (r)
        snprintf(err, errlen, "vf%u: %s: cannot set: %s", vf, key, strerror(-r));
    return r;
}

int nic_destroy_all(struct nics *ns, FILE *report)
{
    int status = 0;
    if (!ns)
        return 0;
    if (report && ns->nvfs) {
        fprintf(report, "minivmm: nic: ");
        for (unsigned i = 0; i < ns->n; i++)
            for (unsigned k = 0; k < ns->nic[i].cfg.vfs && ns->nic[i].vf[k]; k++)
                report_vf(report, &ns->nic[i], k, ns->nic[i].first + k);
        for (unsigned i = 0; i < ns->n; i++)
            if (ns->nic[i].ne)
                report_ne2000(report, &ns->nic[i]);
        for (unsigned i = 0; i < ns->n; i++) {
            struct uplink_stats us;
            if (!ns->nic[i].up_open)
                continue;
            uplink_get_stats(&ns->nic[i].up, &us);
            if (us.network)
                report_uplink(report, &ns->nic[i], &us, i);
            else
                report_sink(report, &us, i);
        }
        fprintf(report, "\n");
    }
    for (unsigned i = ns->n; i-- > 0;) {
        struct nic *nic = &ns->nic[i];
        virtio_worker_destroy(&nic->io); /* stops the I/O thread, closes the ioeventfds */
        if (nic->ne) { /* the last port added */
            ne2000_detach(nic->ne);
            ne2000_destroy(nic->ne);
            free(nic->ne);
        }
        for (unsigned k = NICOPT_MAX_VFS; k-- > 0;) {
            if (nic->vf[k]) {
                virtio_net_detach(nic->vf[k]);
                virtio_net_destroy(nic->vf[k]);
                free(nic->vf[k]);
            }
            if (nic->tap[k]) {
                pfswitch_set_tap(&nic->sw, k, NULL, NULL);
                if (uplink_pcap_close(nic->tap[k]))
                    status = -EIO;
            }
        }
        if (nic->up_open) {
            pfswitch_attach(&nic->sw, PFSWITCH_UPLINK, NULL, NULL);
            if (uplink_close(&nic->up))
                status = -EIO;
        }
        if (nic->sw_init)
            pfswitch_destroy(&nic->sw);
        if (nic->cfg_parsed)
            nicopt_free(&nic->cfg);
    }
    for (unsigned i = 0; i < MEMMAP_VIRTIO_MAX; i++)
        pthread_mutex_destroy(&ns->nic[i].ctl_lock);
    free(ns);
    return status;
}
