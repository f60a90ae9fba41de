/*
 * virtio_mmio.c: virtio-mmio transport, version 2 (virtio 1.x spec §4.2), with status and
 * feature negotiation (§2.1, §2.2, §3.1), queue set-up (§4.2.3.2) and the interrupt line
 * (§4.2.3.4).
 *
 * Invariants:
 *  - The irq line is high exactly while interrupt_status != 0 (irq_level mirrors what was last
 *    driven; the line is only driven on a change).
 *  - status only gains bits until a reset, except FEATURES_OK, which the device refuses
 *    (leaves clear) when the driver acked an unoffered feature or not VERSION_1 (§2.2.2,
 *    §6.1). NEEDS_RESET is the device's bit: the driver can neither set nor clear it, only a
 *    reset does. DRIVER_OK is refused without FEATURES_OK.
 *  - A queue is live (may be popped, pushed, signalled) iff QueueReady is 1 and its virtqueue
 *    passed virtqueue_enable(), the status has DRIVER_OK (§2.1.2: no buffers consumed and no
 *    used notifications before it) and not NEEDS_RESET.
 *  - While QueueReady is 1 the queue's QueueNum and address registers are frozen (§4.2.2:
 *    the driver must not write them); such writes are ignored and counted.
 *  - A reset (Status = 0) puts back the state of virtio_mmio_init(), ConfigGeneration apart
 *    (it keeps counting, so a driver can never see an old value come back), disables every
 *    virtqueue (bumping its epoch) and lowers the line.
 *
 * Locking: see virtio_mmio.h. Bus writes collect the device callback they trigger (notify,
 * driver_ok, reset) and call it after dropping the lock.
 */
#include <errno.h>
#include <string.h>

#include "virtio_mmio.h"
#include "minivmm/util.h"

#define STATUS_DEVICE_BITS VIRTIO_CONFIG_S_NEEDS_RESET

/* A device callback to make once the lock is dropped. */
struct deferred {
    enum { CB_NONE, CB_NOTIFY, CB_DRIVER_OK, CB_RESET } cb;
    unsigned queue;
    uint64_t features;
};

static bool is_pow2(uint32_t v)
{
    return v && !(v & (v - 1));
}

static void update_irq(struct virtio_mmio *t)
{
    int level = t->interrupt_status != 0;
    if (level != t->irq_level) {
        t->irq_level = level;
        irq_line_set(&t->irq, level);
    }
}

static void raise_interrupt(struct virtio_mmio *t, uint32_t bits)
{
    t->interrupt_status |= bits;
    update_irq(t);
}

/* §2.1.2: set DEVICE_NEEDS_RESET and, if DRIVER_OK, send a config-change notification. */
static void needs_reset_locked(struct virtio_mmio *t)
{
    t->guest_errors++;
    if (t->status & VIRTIO_CONFIG_S_NEEDS_RESET)
        return;
    t->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    if (t->status & VIRTIO_CONFIG_S_DRIVER_OK)
        raise_interrupt(t, VIRTIO_MMIO_INT_CONFIG);
}

static void reset_locked(struct virtio_mmio *t)
{
    t->driver_features = 0;
    t->driver_features_extra = false;
    t->device_features_sel = t->driver_features_sel = 0;
    t->queue_sel = 0;
    t->status = 0;
    t->interrupt_status = 0;
    update_irq(t);
    for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
        struct virtio_mmio_queue *q = &t->queues[i];
        q->num = 0;
        q->ready = false;
        q->desc = q->driver = q->device = 0;
        virtqueue_disable(&q->vq);
    }
}

int virtio_mmio_init(struct virtio_mmio *t, const struct virtio_dev_ops *ops, void *dev,
                     const struct gmem *gm, const struct irq_line *irq)
{
    memset(t, 0, sizeof(*t));
    if (!ops || !gm || ops->device_id == 0 || ops->num_queues == 0 ||
        ops->num_queues > VIRTIO_MMIO_MAX_QUEUES || !is_pow2(ops->queue_max) ||
        ops->queue_max > VIRTQ_MAX_SIZE || ops->config_size > 0x1000 - VIRTIO_MMIO_CONFIG ||
        (ops->config_size && !ops->config_read) || !ops->queue_notify)
        return -EINVAL;
    int ret = pthread_mutex_init(&t->lock, NULL);
    if (ret)
        return -ret;
    t->ops = ops;
    t->dev = dev;
    t->gm = gm;
    if (irq)
        t->irq = *irq;
    /* Keep the device's own bits (0-23, 50-63) and the transport bits we implement. */
    uint64_t transport_mask = 0;
    for (unsigned b = VIRTIO_TRANSPORT_F_START; b < VIRTIO_TRANSPORT_F_END; b++)
        transport_mask |= VIRTIO_BIT(b);
    t->device_features = (ops->features & ~transport_mask) |
                         (ops->features & VIRTIO_MMIO_TRANSPORT_FEATURES) |
                         VIRTIO_BIT(VIRTIO_F_VERSION_1);
    for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
        virtqueue_init(&t->queues[i].vq, gm);
    reset_locked(t);
    return 0;
}

void virtio_mmio_destroy(struct virtio_mmio *t)
{
    if (t->ops)
        pthread_mutex_destroy(&t->lock);
    t->ops = NULL;
}

static bool queue_live(const struct virtio_mmio *t, unsigned q)
{
    return q < t->ops->num_queues && t->queues[q].ready && t->queues[q].vq.ready &&
           (t->status & (VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_NEEDS_RESET)) ==
               VIRTIO_CONFIG_S_DRIVER_OK;
}

/* ---- the device's side ---- */

int virtio_mmio_pop(struct virtio_mmio *t, unsigned q, struct vq_chain *chain)
{
    int ret = -ENODEV;
    pthread_mutex_lock(&t->lock);
    if (queue_live(t, q)) {
        ret = virtqueue_pop(&t->queues[q].vq, chain);
        if (ret == -EINVAL)
            needs_reset_locked(t);
        else if (ret == 0)
            t->queues[q].stats.popped++;
    }
    pthread_mutex_unlock(&t->lock);
    return ret;
}

int virtio_mmio_push(struct virtio_mmio *t, unsigned q, const struct vq_chain *chain, uint32_t len)
{
    int ret;
    pthread_mutex_lock(&t->lock);
    if (q >= t->ops->num_queues || chain->epoch != t->queues[q].vq.epoch)
        ret = -ESTALE;
    else if (!queue_live(t, q))
        ret = -ENODEV;
    else if (len > chain->in_len)
        ret = -EINVAL;
    else if ((ret = virtqueue_push(&t->queues[q].vq, chain->head, len)) == 0)
        t->queues[q].stats.used++;
    pthread_mutex_unlock(&t->lock);
    return ret;
}

int virtio_mmio_unpop(struct virtio_mmio *t, unsigned q, const struct vq_chain *first, unsigned n)
{
    int ret;
    pthread_mutex_lock(&t->lock);
    if (q >= t->ops->num_queues || first->epoch != t->queues[q].vq.epoch)
        ret = -ESTALE;
    else if (!queue_live(t, q))
        ret = -ENODEV;
    else if ((ret = virtqueue_unpop(&t->queues[q].vq, n)) == 0)
        t->queues[q].stats.returned += n;
    pthread_mutex_unlock(&t->lock);
    return ret;
}

void virtio_mmio_get_stats(struct virtio_mmio *t, struct virtio_mmio_stats *st)
{
    memset(st, 0, sizeof(*st));
    pthread_mutex_lock(&t->lock);
    st->bad_width = t->bad_width;
    st->bad_reg = t->bad_reg;
    st->ignored = t->ignored;
    st->guest_errors = t->guest_errors;
    st->notifies = t->notifies;
    st->num_queues = t->ops->num_queues;
    for (unsigned i = 0; i < st->num_queues; i++)
        st->queue[i] = t->queues[i].stats;
    pthread_mutex_unlock(&t->lock);
}

bool virtio_mmio_signal_used(struct virtio_mmio *t, unsigned q)
{
    bool fire = false;
    pthread_mutex_lock(&t->lock);
    if (queue_live(t, q) && virtqueue_should_notify(&t->queues[q].vq)) {
        raise_interrupt(t, VIRTIO_MMIO_INT_VRING);
        fire = true;
    }
    pthread_mutex_unlock(&t->lock);
    return fire;
}

bool virtio_mmio_enable_notify(struct virtio_mmio *t, unsigned q)
{
    bool more = false;
    pthread_mutex_lock(&t->lock);
    if (queue_live(t, q))
        more = virtqueue_enable_notify(&t->queues[q].vq);
    pthread_mutex_unlock(&t->lock);
    return more;
}

void virtio_mmio_disable_notify(struct virtio_mmio *t, unsigned q)
{
    pthread_mutex_lock(&t->lock);
    if (queue_live(t, q))
        virtqueue_disable_notify(&t->queues[q].vq);
    pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_config_changed(struct virtio_mmio *t)
{
    pthread_mutex_lock(&t->lock);
    t->config_generation++;
    if (t->status & VIRTIO_CONFIG_S_DRIVER_OK)
        raise_interrupt(t, VIRTIO_MMIO_INT_CONFIG);
    pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_needs_reset(struct virtio_mmio *t)
{
    pthread_mutex_lock(&t->lock);
    needs_reset_locked(t);
    pthread_mutex_unlock(&t->lock);
}

uint64_t virtio_mmio_features(struct virtio_mmio *t)
{
    pthread_mutex_lock(&t->lock);
    uint64_t f = (t->status & VIRTIO_CONFIG_S_FEATURES_OK) ? t->driver_features : 0;
    pthread_mutex_unlock(&t->lock);
    return f;
}

/* ---- registers ---- */

static struct virtio_mmio_queue *selected_queue(struct virtio_mmio *t)
{
    return t->queue_sel < t->ops->num_queues ? &t->queues[t->queue_sel] : NULL;
}

static uint32_t read_reg(struct virtio_mmio *t, uint64_t off)
{
    struct virtio_mmio_queue *q = selected_queue(t);

    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE:
        return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION:
        return VIRTIO_MMIO_VERSION_2;
    case VIRTIO_MMIO_DEVICE_ID:
        return t->ops->device_id;
    case VIRTIO_MMIO_VENDOR_ID:
        return MINIVMM_VIRTIO_VENDOR_ID;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        if (t->device_features_sel > 1)
            return 0;
        return (uint32_t)(t->device_features >> (32 * t->device_features_sel));
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        return q ? t->ops->queue_max : 0;
    case VIRTIO_MMIO_QUEUE_READY:
        return q ? q->ready : 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        return t->interrupt_status;
    case VIRTIO_MMIO_STATUS:
        return t->status;
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH:
    case VIRTIO_MMIO_SHM_BASE_LOW:
    case VIRTIO_MMIO_SHM_BASE_HIGH:
        return 0xffffffffu; /* §4.2.2: no shared memory region */
    case VIRTIO_MMIO_QUEUE_RESET:
        return 0; /* VIRTIO_F_RING_RESET not offered */
    case VIRTIO_MMIO_CONFIG_GENERATION:
        return t->config_generation;
    default:
        t->bad_reg++; /* write-only or unknown: reads 0, as QEMU's */
        return 0;
    }
}

static bool features_acceptable(const struct virtio_mmio *t)
{
    /* §2.2.2: the driver acks a subset of what was offered; §6.1: VERSION_1 is mandatory
     * for a non-legacy (version 2) device. */
    return !(t->driver_features & ~t->device_features) && !t->driver_features_extra &&
           (t->driver_features & VIRTIO_BIT(VIRTIO_F_VERSION_1));
}

static void write_status(struct virtio_mmio *t, uint32_t v, struct deferred *d)
{
    if (v == 0) {
        reset_locked(t); /* §4.2.2.1: clears InterruptStatus and every QueueReady */
        d->cb = CB_RESET;
        return;
    }
    uint32_t old = t->status;
    uint32_t neu = (v & 0xff & ~STATUS_DEVICE_BITS) | (old & STATUS_DEVICE_BITS);
    if (old & ~STATUS_DEVICE_BITS & ~neu) {
        t->ignored++; /* §2.1: the driver must not clear bits, only reset */
        return;
    }
    if ((neu & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK) &&
        !features_acceptable(t))
        neu &= ~VIRTIO_CONFIG_S_FEATURES_OK; /* §3.1.1 step 6: refused, the driver sees it */
    if ((neu & VIRTIO_CONFIG_S_DRIVER_OK) && !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
        if (!(neu & VIRTIO_CONFIG_S_FEATURES_OK)) {
            t->ignored++;
            neu &= ~VIRTIO_CONFIG_S_DRIVER_OK;
        } else {
            d->cb = CB_DRIVER_OK;
            d->features = t->driver_features;
        }
    }
    t->status = neu;
}

static void write_queue_ready(struct virtio_mmio *t, struct virtio_mmio_queue *q, uint32_t v)
{
    if (v == 0) {
        q->ready = false;
        virtqueue_disable(&q->vq);
        return;
    }
    if (v != 1 || q->ready) {
        t->ignored++;
        return;
    }
    /* §4.2.3.2: queues are set up after FEATURES_OK; the size and the three areas must be
     * usable (§2.7), or the guest would have us write used entries outside RAM. */
    if (!(t->status & VIRTIO_CONFIG_S_FEATURES_OK) || q->num > t->ops->queue_max ||
        virtqueue_enable(&q->vq, q->num, q->desc, q->driver, q->device, t->driver_features)) {
        needs_reset_locked(t);
        return;
    }
    q->ready = true;
}

static void write_queue_notify(struct virtio_mmio *t, uint32_t v, struct deferred *d)
{
    if (t->status & VIRTIO_CONFIG_S_NEEDS_RESET) {
        t->ignored++;
        return;
    }
    if (v >= t->ops->num_queues || !t->queues[v].ready) {
        needs_reset_locked(t);
        return;
    }
    if (!(t->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
        t->ignored++; /* §3.1.1: no notifications before DRIVER_OK; old Linux did kick */
        return;
    }
    t->notifies++;
    t->queues[v].stats.notifies++;
    d->cb = CB_NOTIFY;
    d->queue = v;
}

/* Sets the low or high half of a 64-bit queue address register. */
static void set_half(uint64_t *reg, uint32_t v, bool high)
{
    if (high)
        *reg = (*reg & 0xffffffffull) | ((uint64_t)v << 32);
    else
        *reg = (*reg & ~0xffffffffull) | v;
}

static void write_reg(struct virtio_mmio *t, uint64_t off, uint32_t v, struct deferred *d)
{
    struct virtio_mmio_queue *q = selected_queue(t);

    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        t->device_features_sel = v;
        return;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (t->status & VIRTIO_CONFIG_S_FEATURES_OK) {
            t->ignored++; /* negotiation is over */
        } else if (t->driver_features_sel <= 1) {
            set_half(&t->driver_features, v, t->driver_features_sel == 1);
        } else if (v) {
            t->driver_features_extra = true; /* bits past 63 were never offered */
        }
        return;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        t->driver_features_sel = v;
        return;
    case VIRTIO_MMIO_QUEUE_SEL:
        t->queue_sel = v;
        return;
    case VIRTIO_MMIO_QUEUE_READY:
        if (!q)
            t->ignored++;
        else
            write_queue_ready(t, q, v);
        return;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        write_queue_notify(t, v, d);
        return;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        t->interrupt_status &= ~v;
        update_irq(t);
        return;
    case VIRTIO_MMIO_STATUS:
        write_status(t, v, d);
        return;
    case VIRTIO_MMIO_SHM_SEL:
        return;
    case VIRTIO_MMIO_QUEUE_RESET:
        t->ignored++; /* VIRTIO_F_RING_RESET not offered */
        return;
    case VIRTIO_MMIO_QUEUE_NUM:
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
    case VIRTIO_MMIO_QUEUE_USED_LOW:
    case VIRTIO_MMIO_QUEUE_USED_HIGH:
        break;
    default:
        t->bad_reg++; /* read-only or unknown */
        return;
    }

    /* Queue layout registers: frozen while the queue is ready (§4.2.2). */
    if (!q || q->ready) {
        t->ignored++;
        return;
    }
    switch (off) {
    case VIRTIO_MMIO_QUEUE_NUM:
        q->num = v > VIRTQ_MAX_SIZE ? 0 : (uint16_t)v; /* 0: refused at QueueReady */
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        set_half(&q->desc, v, off == VIRTIO_MMIO_QUEUE_DESC_HIGH);
        break;
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
        set_half(&q->driver, v, off == VIRTIO_MMIO_QUEUE_AVAIL_HIGH);
        break;
    default:
        set_half(&q->device, v, off == VIRTIO_MMIO_QUEUE_USED_HIGH);
        break;
    }
}

static bool is_reg_access(uint64_t off, unsigned len)
{
    return len == 4 && !(off & 3);
}

/* Config space [off, off+len) relative to 0x100, inside config_size. */
static bool config_range_ok(const struct virtio_mmio *t, uint64_t off, unsigned len)
{
    return off <= t->ops->config_size && len <= t->ops->config_size - off;
}

static void bus_read(void *opaque, unsigned vcpu, uint64_t off, uint8_t *data, unsigned len)
{
    struct virtio_mmio *t = opaque;

    memset(data, 0xff, len);
    pthread_mutex_lock(&t->lock);
    if (off >= VIRTIO_MMIO_CONFIG) {
        off -= VIRTIO_MMIO_CONFIG;
        if (config_range_ok(t, off, len))
            t->ops->config_read(t->dev, (uint32_t)off, data, len);
        else
            t->bad_width++;
    } else if (is_reg_access(off, len)) {
        uint32_t v = read_reg(t, off);
        memcpy(data, &v, 4); /* little-endian host */
    } else {
        t->bad_width++;
    }
    pthread_mutex_unlock(&t->lock);
}

static void bus_write(void *opaque, unsigned vcpu, uint64_t off, const uint8_t *data, unsigned len)
{
    struct virtio_mmio *t = opaque;
    struct deferred d = {.cb = CB_NONE};

    pthread_mutex_lock(&t->lock);
    if (off >= VIRTIO_MMIO_CONFIG) {
        off -= VIRTIO_MMIO_CONFIG;
        if (!config_range_ok(t, off, len))
            t->bad_width++;
        else if (!t->ops->config_write)
            t->ignored++;
        else
            t->ops->config_write(t->dev, (uint32_t)off, data, len);
    } else if (is_reg_access(off, len)) {
        uint32_t v;
        memcpy(&v, data, 4);
        write_reg(t, off, v, &d);
    } else {
        t->bad_width++;
    }
    pthread_mutex_unlock(&t->lock);

    switch (d.cb) {
    case CB_NOTIFY:
        t->ops->queue_notify(t->dev, d.queue);
        break;
    case CB_DRIVER_OK:
        if (t->ops->driver_ok)
            t->ops->driver_ok(t->dev, d.features);
        break;
    case CB_RESET:
        if (t->ops->reset)
            t->ops->reset(t->dev);
        break;
    case CB_NONE:
        break;
    }
}

const struct bus_dev_ops virtio_mmio_bus_ops = {.read = bus_read, .write = bus_write};

const struct bus_reg virtio_mmio_regs[] = {
    {VIRTIO_MMIO_MAGIC_VALUE, "MagicValue", NULL},
    {VIRTIO_MMIO_VERSION, "Version", NULL},
    {VIRTIO_MMIO_DEVICE_ID, "DeviceID", NULL},
    {VIRTIO_MMIO_VENDOR_ID, "VendorID", NULL},
    {VIRTIO_MMIO_DEVICE_FEATURES, "DeviceFeatures", NULL},
    {VIRTIO_MMIO_DEVICE_FEATURES_SEL, NULL, "DeviceFeaturesSel"},
    {VIRTIO_MMIO_DRIVER_FEATURES, NULL, "DriverFeatures"},
    {VIRTIO_MMIO_DRIVER_FEATURES_SEL, NULL, "DriverFeaturesSel"},
    {VIRTIO_MMIO_QUEUE_SEL, NULL, "QueueSel"},
    {VIRTIO_MMIO_QUEUE_NUM_MAX, "QueueNumMax", NULL},
    {VIRTIO_MMIO_QUEUE_NUM, NULL, "QueueNum"},
    {VIRTIO_MMIO_QUEUE_READY, "QueueReady", "QueueReady"},
    {VIRTIO_MMIO_QUEUE_NOTIFY, NULL, "QueueNotify"},
    {VIRTIO_MMIO_INTERRUPT_STATUS, "InterruptStatus", NULL},
    {VIRTIO_MMIO_INTERRUPT_ACK, NULL, "InterruptACK"},
    {VIRTIO_MMIO_STATUS, "Status", "Status"},
    {VIRTIO_MMIO_QUEUE_DESC_LOW, NULL, "QueueDescLow"},
    {VIRTIO_MMIO_QUEUE_DESC_HIGH, NULL, "QueueDescHigh"},
    {VIRTIO_MMIO_QUEUE_AVAIL_LOW, NULL, "QueueDriverLow"},
    {VIRTIO_MMIO_QUEUE_AVAIL_HIGH, NULL, "QueueDriverHigh"},
    {VIRTIO_MMIO_QUEUE_USED_LOW, NULL, "QueueDeviceLow"},
    {VIRTIO_MMIO_QUEUE_USED_HIGH, NULL, "QueueDeviceHigh"},
    {VIRTIO_MMIO_SHM_SEL, NULL, "SHMSel"},
    {VIRTIO_MMIO_SHM_LEN_LOW, "SHMLenLow", NULL},
    {VIRTIO_MMIO_SHM_LEN_HIGH, "SHMLenHigh", NULL},
    {VIRTIO_MMIO_SHM_BASE_LOW, "SHMBaseLow", NULL},
    {VIRTIO_MMIO_SHM_BASE_HIGH, "SHMBaseHigh", NULL},
    {VIRTIO_MMIO_QUEUE_RESET, "QueueReset", "QueueReset"},
    {VIRTIO_MMIO_CONFIG_GENERATION, "ConfigGeneration", NULL},
    {VIRTIO_MMIO_CONFIG, "Config", "Config"},
};
const unsigned virtio_mmio_nregs = ARRAY_SIZE(virtio_mmio_regs);
