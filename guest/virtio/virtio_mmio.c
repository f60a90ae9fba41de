/*
 * virtio_mmio.c: virtio-mmio (version 2) discovery and the generic part of device
 * initialisation (virtio 1.x §4.2.2, §4.2.3, §3.1.1).
 *
 * Discovery: a device tree's "virtio,mmio" nodes (minivmm puts them under its "minivmm,sriov-pf"
 * node, each with reg, interrupts <pin 1> and "minivmm,vf-index"), else Linux's command-line
 * form virtio_mmio.device=<size>@<base>:<irq> (minivmm appends these too; QEMU microvm passes
 * them with acpi=off). Every register is a 32-bit aligned access (§4.2.2.2); each one is an
 * MMIO exit to the VMM (~8 us here), so probing reads only magic, version and device ID.
 */
#include "virtio_mmio.h"

#include <minivmm/abi.h>
#include <minivmm/virtio.h>

#include "../fdt.h"
#include "../kernel.h"
#include "../x86.h"

#define EIO 5

uint32_t virtio_mmio_read(const struct virtio_mmio_dev *d, uint32_t off)
{
    return mmio_read32(d->base + off);
}

void virtio_mmio_write(const struct virtio_mmio_dev *d, uint32_t off, uint32_t v)
{
    mmio_write32(d->base + off, v);
}

/* Add (base, irq, vf) unless base is already there. */
static void add_window(struct virtio_mmio_dev *devs, unsigned int *n, unsigned int max,
                       uint64_t base, unsigned int irq, int vf)
{
    for (unsigned int i = 0; i < *n; i++)
        if (devs[i].base == base)
            return;
    if (*n == max) {
        kprintf("virtio: more than %u windows, ignoring 0x%llx\n", max, (unsigned long long)base);
        return;
    }
    devs[*n].base = base;
    devs[*n].irq = irq;
    devs[*n].vf_index = vf;
    devs[*n].device_id = 0;
    devs[*n].features = 0;
    (*n)++;
}

static void probe_fdt(const void *blob, uint64_t size, struct virtio_mmio_dev *devs,
                      unsigned int *n, unsigned int max)
{
    struct fdt fdt;
    int node = -1;

    if (fdt_init(&fdt, blob, size))
        return;
    while ((node = fdt_find_compatible(&fdt, node, MINIVMM_FDT_COMPAT_VIRTIO)) >= 0) {
        uint64_t addr, sz;
        uint32_t len;
        const void *irq = fdt_getprop(&fdt, node, "interrupts", &len);
        const void *vf;
        int vf_index = -1;

        if (fdt_read_reg(&fdt, node, 0, &addr, &sz) || !irq || len < 4) {
            kprintf("virtio: %s: no usable reg or interrupts, skipped\n", fdt_get_name(&fdt, node));
            continue;
        }
        vf = fdt_getprop(&fdt, node, MINIVMM_FDT_VF_INDEX, &len);
        if (vf && len == 4)
            vf_index = (int)fdt_read_cells(vf, 1);
        add_window(devs, n, max, addr, (unsigned int)fdt_read_cells(irq, 1), vf_index);
    }
}

/* Linux's syntax: <size>[KMG]@<base>:<irq>[:<id>]; sizes are not needed here. */
static int parse_device_word(const char *v, size_t len, uint64_t *base, uint64_t *irq)
{
    size_t at = 0, colon, end;

    while (at < len && v[at] != '@')
        at++;
    if (at == len)
        return -1;
    for (colon = at + 1; colon < len && v[colon] != ':'; colon++)
        ;
    if (colon == len)
        return -1;
    for (end = colon + 1; end < len && v[end] != ':'; end++)
        ;
    if (parse_u64(v + at + 1, colon - at - 1, base) ||
        parse_u64(v + colon + 1, end - colon - 1, irq))
        return -1;
    return 0;
}

static void probe_cmdline(const struct cmdline *cl, struct virtio_mmio_dev *devs, unsigned int *n,
                          unsigned int max)
{
    for (unsigned int i = 0; i < cl->nr_params; i++) {
        uint64_t base, irq;

        if (strcmp(cl->params[i].name, "virtio_mmio.device") != 0)
            continue;
        if (parse_device_word(cl->params[i].val, cl->params[i].val_len, &base, &irq) || irq > 255) {
            kprintf("virtio: bad word 'virtio_mmio.device=%.*s' ignored\n",
                    (int)cl->params[i].val_len, cl->params[i].val);
            continue;
        }
        add_window(devs, n, max, base, (unsigned int)irq, -1);
    }
}

unsigned int virtio_mmio_probe(const void *fdt, uint64_t fdt_size, const struct cmdline *cl,
                               struct virtio_mmio_dev *devs, unsigned int max)
{
    unsigned int n = 0, kept = 0;

    if (fdt)
        probe_fdt(fdt, fdt_size, devs, &n, max);
    if (n == 0)
        probe_cmdline(cl, devs, &n, max);
    /* Insertion sort by (vf_index given first, vf_index, base). */
    for (unsigned int i = 1; i < n; i++) {
        struct virtio_mmio_dev t = devs[i];
        unsigned int j = i;

        while (j > 0 && (devs[j - 1].vf_index > t.vf_index ||
                         (devs[j - 1].vf_index == t.vf_index && devs[j - 1].base > t.base))) {
            devs[j] = devs[j - 1];
            j--;
        }
        devs[j] = t;
    }
    for (unsigned int i = 0; i < n; i++) {
        struct virtio_mmio_dev *d = &devs[i];
        uint32_t magic = virtio_mmio_read(d, VIRTIO_MMIO_MAGIC_VALUE);
        uint32_t version = virtio_mmio_read(d, VIRTIO_MMIO_VERSION);

        if (magic != VIRTIO_MMIO_MAGIC || version != VIRTIO_MMIO_VERSION_2) {
            kprintf("virtio: 0x%llx: magic 0x%x version %u: not a virtio-mmio v2 window, "
                    "skipped%s\n",
                    (unsigned long long)d->base, magic, version,
                    version == 1 ? " (legacy: QEMU needs -global virtio-mmio.force-legacy=false)"
                                 : "");
            continue;
        }
        d->device_id = virtio_mmio_read(d, VIRTIO_MMIO_DEVICE_ID);
        if (d->device_id == 0)
            continue; /* an empty slot */
        if (d->vf_index < 0)
            d->vf_index = (int)kept;
        devs[kept++] = *d;
    }
    return kept;
}

static void set_status(struct virtio_mmio_dev *d, uint32_t bits)
{
    virtio_mmio_write(d, VIRTIO_MMIO_STATUS, virtio_mmio_read(d, VIRTIO_MMIO_STATUS) | bits);
}

void virtio_mmio_fail(struct virtio_mmio_dev *d)
{
    set_status(d, VIRTIO_CONFIG_S_FAILED);
}

int virtio_mmio_negotiate(struct virtio_mmio_dev *d, uint64_t wanted, uint64_t required)
{
    uint64_t dev;

    virtio_mmio_write(d, VIRTIO_MMIO_STATUS, 0); /* reset (§4.2.3.1) */
    set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    set_status(d, VIRTIO_CONFIG_S_DRIVER);
    virtio_mmio_write(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    dev = (uint64_t)virtio_mmio_read(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
    virtio_mmio_write(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    dev |= virtio_mmio_read(d, VIRTIO_MMIO_DEVICE_FEATURES);
    d->features = dev & wanted;
    if ((d->features & required) != required) {
        kprintf("virtio: 0x%llx: device features 0x%llx lack required 0x%llx\n",
                (unsigned long long)d->base, (unsigned long long)dev,
                (unsigned long long)(required & ~d->features));
        virtio_mmio_fail(d);
        return -EIO;
    }
    virtio_mmio_write(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    virtio_mmio_write(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(d->features >> 32));
    virtio_mmio_write(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    virtio_mmio_write(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)d->features);
    set_status(d, VIRTIO_CONFIG_S_FEATURES_OK);
    if (!(virtio_mmio_read(d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK)) {
        kprintf("virtio: 0x%llx: device refused features 0x%llx\n", (unsigned long long)d->base,
                (unsigned long long)d->features);
        virtio_mmio_fail(d);
        return -EIO;
    }
    return 0;
}

int virtio_mmio_setup_vq(struct virtio_mmio_dev *d, struct virtqueue *vq, unsigned int index,
                         unsigned int max_num)
{
    uint32_t qmax;
    unsigned int num = 1;
    uint64_t a;
    int err;

    virtio_mmio_write(d, VIRTIO_MMIO_QUEUE_SEL, index);
    if (virtio_mmio_read(d, VIRTIO_MMIO_QUEUE_READY))
        return -EIO;
    qmax = virtio_mmio_read(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
    if (qmax == 0)
        return -EIO;
    while (num * 2 <= qmax && num * 2 <= max_num)
        num *= 2;
    err = vring_create(vq, index, num, (d->features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX)) != 0);
    if (err)
        return err;
    virtio_mmio_write(d, VIRTIO_MMIO_QUEUE_NUM, num);
    a = virt_to_phys(vq->desc);
    virtio_mmio_write(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)a);
    virtio_mmio_write(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(a >> 32));
    a = virt_to_phys(vq->avail);
    virtio_mmio_write(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)a);
    virtio_mmio_write(d, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(a >> 32));
    a = virt_to_phys(vq->used);
    virtio_mmio_write(d, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)a);
    virtio_mmio_write(d, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(a >> 32));
    virtio_mmio_write(d, VIRTIO_MMIO_QUEUE_READY, 1);
    return 0;
}

void virtio_mmio_driver_ok(struct virtio_mmio_dev *d)
{
    set_status(d, VIRTIO_CONFIG_S_DRIVER_OK);
}

uint32_t virtio_mmio_ack_irq(const struct virtio_mmio_dev *d)
{
    uint32_t st = virtio_mmio_read(d, VIRTIO_MMIO_INTERRUPT_STATUS);

    if (st)
        virtio_mmio_write(d, VIRTIO_MMIO_INTERRUPT_ACK, st);
    return st;
}
