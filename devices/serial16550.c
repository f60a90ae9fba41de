/*
 * serial16550.c: 16550A UART model (National PC16550D data sheet, "PC16550D Universal
 * Asynchronous Receiver/Transmitter with FIFOs", June 1995), checked against the behaviour
 * Linux's 8250 driver relies on.
 *
 * Model: transmission is instantaneous. A byte written to THR goes to tx() (or, in loopback,
 * into the RX FIFO) during the write, so LSR.THRE and LSR.TEMT are always set; Linux waits
 * for them before every byte and at probe, and would stall if LSR did not reset to 0x60.
 * The receiver holds up to 16 bytes with FIFOs on and 1 byte (the RBR) in 16450 mode.
 *
 * Interrupt identification (PC16550D Table V), highest priority first:
 *   RLS   (IIR 0x06) LSR.OE set                          cleared by reading LSR
 *   RDA   (IIR 0x04) data at or above the trigger level  cleared when it drops below
 *   CTI   (IIR 0x0c) data below the trigger level        cleared by reading RBR / emptying
 *   THRE  (IIR 0x02) THR emptied, or IER.THRI turned on while THR is empty (the 8250 rule
 *                    Linux's UART_BUG_THRE probe checks); cleared by reading IIR while it is
 *                    the reported source, or by writing THR
 *   MSR   (IIR 0x00) a delta bit in MSR                  cleared by reading MSR
 * A real UART reports CTI only after four character times without FIFO activity; we report
 * it as soon as data below the trigger level is waiting (no timers). In 16450 mode any data
 * is RDA. With FIFOs on, IIR bits 7:6 read 11.
 *
 * The interrupt pin: asserted when an enabled source is pending AND MCR.OUT2 is set AND the
 * UART is not in loopback. PC-compatible boards gate the UART's INTRPT output with the OUT2
 * pin, and loopback forces OUT2 inactive (PC16550D: "Loop mode operation holds this signal in
 * its inactive (high) state"). QEMU ignores OUT2; we follow the PC, as Linux's 8250 driver
 * sets OUT2 for every port with an IRQ. A guest driver must set MCR.OUT2 to get interrupts.
 * irq_line_set() is called only when the level changes. A THR write while THRE is pending
 * lowers and re-raises the pin (THR empties again at once), so an edge-triggered IOAPIC pin
 * sees a new edge, as with a real UART whose THR empties a character time later.
 *
 * Loopback (MCR bit 4): THR bytes go to the RX FIFO, not to tx(); the modem inputs follow the
 * outputs (CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2) and their changes set MSR delta bits; the
 * serial input is disconnected, so host input waits (rx_room is 0) until loopback ends. A THR
 * write to a full FIFO in loopback is the only overrun (LSR.OE, rx_overruns): receive() never
 * takes more than the room.
 *
 * Host input is connected only once the guest's driver has set up the receiver (FIFO enabled
 * or the receive interrupt enabled): driver set-up empties the FIFOs (a FIFO mode change
 * clears them), and bytes pushed before it would be lost. Until then rx_room is 0 and host
 * input waits in its pipe, so nothing piped on stdin is lost.
 *
 * Locking: see serial16550.h. The room condvar is broadcast whenever the room may have grown
 * (RBR read, FIFO clear, FIFO mode change, leaving loopback).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "serial16550.h"
#include "minivmm/util.h"

#define LSR_ERRORS (UART_LSR_OE | 0x04 /* PE */ | 0x08 /* FE */ | UART_LSR_BI)
#define MSR_DELTAS (UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_TERI | UART_MSR_DDCD)
#define MSR_NOT_LOOP (UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS) /* a present, ready host */
#define DIVISOR_RESET 12 /* 9600 baud at 1.8432 MHz; the data sheet leaves it undefined */

static bool fifo_on(const struct serial16550 *s)
{
    return s->fcr & UART_FCR_ENABLE_FIFO;
}

static bool loopback(const struct serial16550 *s)
{
    return s->mcr & UART_MCR_LOOP;
}

static unsigned rx_capacity(const struct serial16550 *s)
{
    return fifo_on(s) ? UART_FIFO_SIZE : 1;
}

/* FCR bits 7:6 -> RCVR FIFO trigger level (PC16550D Table III). */
static unsigned rx_trigger(const struct serial16550 *s)
{
    static const unsigned level[4] = {1, 4, 8, 14};
    return level[(s->fcr & UART_FCR_TRIGGER_MASK) >> 6];
}

static size_t room_locked(const struct serial16550 *s)
{
    if (!s->rx_connected || loopback(s))
        return 0;
    return rx_capacity(s) - s->rx_count;
}

static uint8_t lsr_value(const struct serial16550 *s)
{
    /* Bit 7 (error in RCVR FIFO) counts PE/FE/BI only, which this model never produces. */
    return (uint8_t)(s->lsr_err | UART_LSR_THRE | UART_LSR_TEMT | (s->rx_count ? UART_LSR_DR : 0));
}

/* The interrupt ID (IIR bits 3:0) of the highest-priority enabled pending source. */
static uint8_t pending_id(const struct serial16550 *s)
{
    if ((s->ier & UART_IER_RLSI) && (s->lsr_err & LSR_ERRORS))
        return UART_IIR_RLSI;
    if ((s->ier & UART_IER_RDI) && s->rx_count) {
        if (!fifo_on(s) || s->rx_count >= rx_trigger(s))
            return UART_IIR_RDI;
        return UART_IIR_CTI;
    }
    if ((s->ier & UART_IER_THRI) && s->thr_ipending)
        return UART_IIR_THRI;
    if ((s->ier & UART_IER_MSI) && (s->msr & MSR_DELTAS))
        return UART_IIR_MSI;
    return UART_IIR_NO_INT;
}

static void update_irq(struct serial16550 *s)
{
    int level = pending_id(s) != UART_IIR_NO_INT && (s->mcr & UART_MCR_OUT2) && !loopback(s);
    if (level != s->irq_level) {
        s->irq_level = level;
        irq_line_set(&s->irq, level);
    }
}

/* Recomputes MSR bits 7:4 from the modem inputs and sets the delta bits for what changed
 * (PC16550D MSR: DCTS/DDSR/DDCD on any change, TERI on RI's trailing edge only). */
static void update_modem_inputs(struct serial16550 *s)
{
    uint8_t in;
    if (loopback(s)) {
        in = (uint8_t)(((s->mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0) |
                       ((s->mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
                       ((s->mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0) |
                       ((s->mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0));
    } else {
        in = MSR_NOT_LOOP;
    }
    uint8_t old = s->msr & 0xf0, changed = old ^ in, delta = s->msr & MSR_DELTAS;
    if (changed & UART_MSR_CTS)
        delta |= UART_MSR_DCTS;
    if (changed & UART_MSR_DSR)
        delta |= UART_MSR_DDSR;
    if ((old & UART_MSR_RI) && !(in & UART_MSR_RI))
        delta |= UART_MSR_TERI;
    if (changed & UART_MSR_DCD)
        delta |= UART_MSR_DDCD;
    s->msr = in | delta;
}

static void rx_clear(struct serial16550 *s)
{
    s->rx_head = 0;
    s->rx_count = 0;
    pthread_cond_broadcast(&s->room);
}

/* Appends one received byte; a full receiver overruns: the new byte is lost and LSR.OE set
 * (PC16550D LSR bit 1: the character in the shift register is overwritten). */
static void rx_push(struct serial16550 *s, uint8_t byte)
{
    if (s->rx_count >= rx_capacity(s)) {
        s->lsr_err |= UART_LSR_OE;
        s->rx_overruns++;
        return;
    }
    s->rx_fifo[(s->rx_head + s->rx_count) % UART_FIFO_SIZE] = byte;
    s->rx_count++;
}

static uint8_t reg_read(struct serial16550 *s, unsigned off)
{
    uint8_t v = 0xff;
    bool dlab = s->lcr & UART_LCR_DLAB;

    switch (off) {
    case UART_RBR: /* also DLL */
        if (dlab)
            return s->dll;
        if (s->rx_count) {
            s->rbr = s->rx_fifo[s->rx_head];
            s->rx_head = (s->rx_head + 1) % UART_FIFO_SIZE;
            s->rx_count--;
            s->rx_bytes++;
            pthread_cond_broadcast(&s->room);
        }
        v = s->rbr;
        break;
    case UART_IER: /* also DLM */
        return dlab ? s->dlm : s->ier;
    case UART_IIR: {
        uint8_t id = pending_id(s);
        /* Reading IIR clears a THRE interrupt only when THRE is what it reports. */
        if (id == UART_IIR_THRI)
            s->thr_ipending = false;
        v = (uint8_t)(id | (fifo_on(s) ? UART_IIR_FIFO_ENABLED : 0));
        break;
    }
    case UART_LCR:
        return s->lcr;
    case UART_MCR:
        return s->mcr;
    case UART_LSR:
        v = lsr_value(s);
        s->lsr_err &= (uint8_t)~LSR_ERRORS; /* OE, PE, FE, BI clear on read */
        break;
    case UART_MSR:
        v = s->msr;
        s->msr &= (uint8_t)~MSR_DELTAS; /* delta bits clear on read */
        break;
    case UART_SCR:
        return s->scr;
    default:
        return 0xff;
    }
    update_irq(s);
    return v;
}

static void connect_rx(struct serial16550 *s)
{
    if (!s->rx_connected) {
        s->rx_connected = true;
        pthread_cond_broadcast(&s->room);
    }
}

static void write_fcr(struct serial16550 *s, uint8_t val)
{
    bool was_on = fifo_on(s), on = val & UART_FCR_ENABLE_FIFO;

    /* Switching between FIFO and 16450 mode empties the FIFOs; without FCR0=1 the other
     * bits are not programmed (PC16550D FCR bit 0). */
    if (was_on != on)
        rx_clear(s);
    if (!on) {
        s->fcr &= (uint8_t)~UART_FCR_ENABLE_FIFO;
        return;
    }
    connect_rx(s);
    if (val & UART_FCR_CLEAR_RCVR)
        rx_clear(s); /* the shift register and LSR.OE are not cleared */
    /* CLEAR_XMIT: THR and the XMIT FIFO are always empty here; nothing to do, and no THRE
     * event: the transmitter was already empty. Bits 1-2 self-clear. */
    s->fcr = val & (UART_FCR_ENABLE_FIFO | 0x08 /* DMA mode */ | UART_FCR_TRIGGER_MASK);
}

static void reg_write(struct serial16550 *s, unsigned off, uint8_t val)
{
    bool dlab = s->lcr & UART_LCR_DLAB;

    switch (off) {
    case UART_THR: /* also DLL */
        if (dlab) {
            s->dll = val;
            return;
        }
        /* Writing THR clears a pending THRE interrupt ... */
        s->thr_ipending = false;
        update_irq(s);
        if (loopback(s)) {
            rx_push(s, val);
        } else {
            s->tx_bytes++;
            if (s->tx)
                s->tx(s->tx_opaque, val);
        }
        /* ... and the byte leaves THR at once, so THR is empty again. */
        s->thr_ipending = true;
        break;
    case UART_IER: /* also DLM */
        if (dlab) {
            s->dlm = val;
            return;
        }
        val &= 0x0f;
        /* Turning IER.THRI on while THR is empty raises THRE even if an IIR read had
         * cleared it (8250 behaviour; Linux probes it as UART_BUG_THRE). THR is always empty
         * here. */
        if ((val & ~s->ier) & UART_IER_THRI)
            s->thr_ipending = true;
        else if (!(val & UART_IER_THRI))
            s->thr_ipending = false;
        s->ier = val;
        if (val & UART_IER_RDI)
            connect_rx(s);
        break;
    case UART_FCR:
        write_fcr(s, val);
        break;
    case UART_LCR:
        s->lcr = val;
        return;
    case UART_MCR: {
        bool was_loop = loopback(s);
        s->mcr = val & 0x1f; /* bits 5-7 are 0 on a 16550A */
        update_modem_inputs(s);
        if (was_loop && !loopback(s))
            pthread_cond_broadcast(&s->room); /* host input is connected again */
        break;
    }
    case UART_LSR:
    case UART_MSR:
        /* "intended for read operations only"; writes are for factory test. Ignored. */
        return;
    case UART_SCR:
        s->scr = val;
        return;
    default:
        return;
    }
    update_irq(s);
}

static void serial_bus_read(void *opaque, unsigned vcpu, uint64_t off, uint8_t *data, unsigned len)
{
    struct serial16550 *s = opaque;
    (void)vcpu;
    if (len == 0)
        return;
    memset(data, 0xff, len);
    if (off > UART_SCR)
        return;
    pthread_mutex_lock(&s->lock);
    data[0] = reg_read(s, (unsigned)off);
    pthread_mutex_unlock(&s->lock);
}

static void serial_bus_write(void *opaque, unsigned vcpu, uint64_t off, const uint8_t *data,
                             unsigned len)
{
    struct serial16550 *s = opaque;
    (void)vcpu;
    if (len == 0 || off > UART_SCR)
        return;
    pthread_mutex_lock(&s->lock);
    reg_write(s, (unsigned)off, data[0]);
    pthread_mutex_unlock(&s->lock);
}

const struct bus_dev_ops serial16550_bus_ops = {
    .read = serial_bus_read,
    .write = serial_bus_write,
};

/* DLL/DLM (DLAB=1) share offsets 0 and 1; the table names the DLAB=0 registers. */
const struct bus_reg serial16550_regs[] = {
    {UART_RBR, "RBR", "THR"}, {UART_IER, "IER", "IER"}, {UART_IIR, "IIR", "FCR"},
    {UART_LCR, "LCR", "LCR"}, {UART_MCR, "MCR", "MCR"}, {UART_LSR, "LSR", NULL},
    {UART_MSR, "MSR", "MSR"}, {UART_SCR, "SCR", "SCR"},
};
const unsigned serial16550_nregs = ARRAY_SIZE(serial16550_regs);

int serial16550_init(struct serial16550 *s, const struct irq_line *irq,
                     void (*tx)(void *opaque, uint8_t byte), void *tx_opaque)
{
    pthread_condattr_t ca;
    int ret;

    memset(s, 0, sizeof(*s));
    ret = pthread_mutex_init(&s->lock, NULL);
    if (ret)
        return -ret;
    ret = pthread_condattr_init(&ca);
    if (ret)
        goto err_mutex;
    ret = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (!ret)
        ret = pthread_cond_init(&s->room, &ca);
    pthread_condattr_destroy(&ca);
    if (ret)
        goto err_mutex;

    if (irq)
        s->irq = *irq;
    s->tx = tx;
    s->tx_opaque = tx_opaque;
    s->msr = MSR_NOT_LOOP;
    s->dll = DIVISOR_RESET;
    s->dlm = 0;
    /* IIR = 0x01, LSR = 0x60 and the low pin follow from the zeroed state. */
    return 0;

err_mutex:
    pthread_mutex_destroy(&s->lock);
    return -ret;
}

void serial16550_destroy(struct serial16550 *s)
{
    pthread_cond_destroy(&s->room);
    pthread_mutex_destroy(&s->lock);
}

size_t serial16550_rx_room(struct serial16550 *s)
{
    pthread_mutex_lock(&s->lock);
    size_t room = room_locked(s);
    pthread_mutex_unlock(&s->lock);
    return room;
}

size_t serial16550_receive(struct serial16550 *s, const uint8_t *buf, size_t len)
{
    pthread_mutex_lock(&s->lock);
    size_t room = room_locked(s), n = len < room ? len : room;
    for (size_t i = 0; i < n; i++)
        rx_push(s, buf[i]);
    if (n)
        update_irq(s);
    pthread_mutex_unlock(&s->lock);
    return n;
}

void serial16550_release_waiters(struct serial16550 *s)
{
    pthread_mutex_lock(&s->lock);
    s->waiters_released = true;
    pthread_cond_broadcast(&s->room);
    pthread_mutex_unlock(&s->lock);
}

size_t serial16550_wait_room(struct serial16550 *s, int timeout_ms)
{
    struct timespec deadline;
    size_t room;

    if (timeout_ms > 0) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&s->lock);
    while ((room = room_locked(s)) == 0 && timeout_ms != 0 && !s->waiters_released) {
        int r = timeout_ms < 0 ? pthread_cond_wait(&s->room, &s->lock)
                               : pthread_cond_timedwait(&s->room, &s->lock, &deadline);
        if (r == ETIMEDOUT) {
            room = room_locked(s);
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return room;
}
