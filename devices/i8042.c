/*
 * i8042.c: a PS/2 controller with no devices attached (i8042.h), after the 8042 command set
 * that Linux's drivers/input/serio/i8042.c and arch/x86/kernel/reboot.c use.
 *
 * The controller answers at once: the input buffer is never full (IBF is always 0), so a
 * guest's "wait until the controller takes the byte" loop (Linux's kb_wait before a reboot,
 * i8042_wait_write) ends on its first status read, and a command's answer is in the output
 * buffer (OBF) as soon as the command is written. Answers (8042 data sheets; Linux checks
 * these values):
 *   0x20 read CTR -> CTR          0x60 write CTR <- next data byte
 *   0xaa self-test -> 0x55        0xab / 0xa9 keyboard / aux interface test -> 0x00 (no fault)
 *   0xad / 0xae, 0xa7 / 0xa8 disable / enable the keyboard / aux port: CTR bit 4 / bit 5
 *   0xd0 read output port -> it   0xd1 write output port <- next byte (bit 0 clear: reset)
 *   0xd2 / 0xd3 "write keyboard / aux output buffer" <- next byte, which is then read back
 *     from 0x60 as if the keyboard / aux device had sent it (Linux's AUX loopback test)
 *   0xd4 send the next byte to the aux device: dropped (no mouse)
 *   0xf0-0xff pulse output lines 0-3 for each bit that is 0: line 0 is the CPU's reset, so
 *     0xfe (and every even value) calls on_reset
 * Unknown commands are ignored. A data byte with no command pending goes to the keyboard,
 * which is absent: no answer (i8042.h says why this differs from Firecracker).
 */
#include <errno.h>
#include <string.h>

#include "i8042.h"
#include "minivmm/util.h"

int i8042_init(struct i8042 *k, void (*on_reset)(void *opaque), void *opaque)
{
    memset(k, 0, sizeof(*k));
    int e = pthread_mutex_init(&k->lock, NULL);
    if (e)
        return -e;
    k->ctr = I8042_CTR_KBDINT | I8042_CTR_SYSFLAG | I8042_CTR_XLATE;
    k->outp = 0x03;
    k->on_reset = on_reset;
    k->opaque = opaque;
    return 0;
}

void i8042_destroy(struct i8042 *k)
{
    pthread_mutex_destroy(&k->lock);
}

static void put_out(struct i8042 *k, uint8_t v, bool aux)
{
    k->out = v;
    k->obf = true;
    k->out_aux = aux;
}

static void reset(struct i8042 *k)
{
    k->resets++;
    if (k->on_reset)
        k->on_reset(k->opaque);
}

static void command(struct i8042 *k, uint8_t cmd)
{
    k->cmd_last = true;
    k->pending = 0;
    switch (cmd) {
    case I8042_CMD_READ_CTR:
        put_out(k, k->ctr, false);
        break;
    case I8042_CMD_WRITE_CTR:
    case I8042_CMD_WRITE_OUTP:
    case I8042_CMD_KBD_LOOP:
    case I8042_CMD_AUX_LOOP:
    case I8042_CMD_AUX_SEND:
        k->pending = cmd;
        break;
    case I8042_CMD_SELF_TEST:
        put_out(k, I8042_SELF_TEST_OK, false);
        break;
    case I8042_CMD_KBD_TEST:
    case I8042_CMD_AUX_TEST:
        put_out(k, I8042_PORT_TEST_OK, false);
        break;
    case I8042_CMD_KBD_DISABLE:
        k->ctr |= I8042_CTR_KBDDIS;
        break;
    case I8042_CMD_KBD_ENABLE:
        k->ctr &= (uint8_t)~I8042_CTR_KBDDIS;
        break;
    case I8042_CMD_AUX_DISABLE:
        k->ctr |= I8042_CTR_AUXDIS;
        break;
    case I8042_CMD_AUX_ENABLE:
        k->ctr &= (uint8_t)~I8042_CTR_AUXDIS;
        break;
    case I8042_CMD_READ_OUTP:
        put_out(k, k->outp, false);
        break;
    default:
        if (cmd >= 0xf0 && !(cmd & 0x01))
            reset(k);
        break;
    }
}

static void data(struct i8042 *k, uint8_t v)
{
    uint8_t cmd = k->pending;
    k->cmd_last = false;
    k->pending = 0;
    switch (cmd) {
    case I8042_CMD_WRITE_CTR:
        k->ctr = v;
        break;
    case I8042_CMD_WRITE_OUTP:
        k->outp = v;
        if (!(v & 0x01))
            reset(k);
        break;
    case I8042_CMD_KBD_LOOP:
        put_out(k, v, false);
        break;
    case I8042_CMD_AUX_LOOP:
        put_out(k, v, true);
        break;
    default:
        break; /* to the keyboard (0) or the mouse (0xd4): nobody is there */
    }
}

static uint8_t status(const struct i8042 *k)
{
    uint8_t s = 0x10; /* bit 4: keyboard not inhibited (no key lock) */
    if (k->obf)
        s |= I8042_STR_OBF;
    if (k->obf && k->out_aux)
        s |= I8042_STR_AUXDATA;
    if (k->ctr & I8042_CTR_SYSFLAG)
        s |= I8042_STR_SYSFLAG;
    if (k->cmd_last)
        s |= I8042_STR_CMDDAT;
    return s;
}

static void rd(void *opaque, uint64_t off, uint8_t *d, unsigned len)
{
    struct i8042 *k = opaque;
    memset(d, 0xff, len);
    if (len == 0 || off != 0)
        return;
    pthread_mutex_lock(&k->lock);
    d[0] = k->out; /* an empty buffer reads the last byte again */
    k->obf = false;
    pthread_mutex_unlock(&k->lock);
}

static void data_read(void *opaque, unsigned vcpu, uint64_t off, uint8_t *d, unsigned len)
{
    (void)vcpu;
    rd(opaque, off, d, len);
}

static void data_write(void *opaque, unsigned vcpu, uint64_t off, const uint8_t *d,
                       unsigned len)
{
    struct i8042 *k = opaque;
    (void)vcpu;
    if (len == 0 || off != 0)
        return;
    pthread_mutex_lock(&k->lock);
    data(k, d[0]);
    pthread_mutex_unlock(&k->lock);
}

static void status_read(void *opaque, unsigned vcpu, uint64_t off, uint8_t *d, unsigned len)
{
    struct i8042 *k = opaque;
    (void)vcpu;
    memset(d, 0xff, len);
    if (len == 0 || off != 0)
        return;
    pthread_mutex_lock(&k->lock);
    d[0] = status(k);
    pthread_mutex_unlock(&k->lock);
}

static void status_write(void *opaque, unsigned vcpu, uint64_t off, const uint8_t *d,
                         unsigned len)
{
    struct i8042 *k = opaque;
    (void)vcpu;
    if (len == 0 || off != 0)
        return;
    pthread_mutex_lock(&k->lock);
    command(k, d[0]);
    pthread_mutex_unlock(&k->lock);
}

const struct bus_dev_ops i8042_bus_ops_data = {.read = data_read, .write = data_write};
const struct bus_dev_ops i8042_bus_ops_status = {.read = status_read, .write = status_write};

const struct bus_reg i8042_data_regs[] = {{0, "DATA", "DATA"}};
const unsigned i8042_data_nregs = ARRAY_SIZE(i8042_data_regs);
const struct bus_reg i8042_status_regs[] = {{0, "STATUS", "COMMAND"}};
const unsigned i8042_status_nregs = ARRAY_SIZE(i8042_status_regs);
