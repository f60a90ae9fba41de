/*
 * i8042.h: a PS/2 controller (Intel 8042) with nothing attached, just large enough for Linux:
 * its i8042 driver's probe finishes at once and its reboot (`reboot=k`, and the fallback of
 * every other method) ends the VM through the pulse-reset command.
 *
 * Ports: data 0x60 and status/command 0x64, two 1-port bus windows. No keyboard or mouse is
 * attached and no interrupt is wired (IRQ 1/12 are not modelled): bytes the guest sends to
 * the keyboard get no answer, as from an unplugged port.
 * (Firecracker instead ACKs them with 0xFA and raises IRQ 1: it emulates a keyboard for its
 * Ctrl-Alt-Del; without an interrupt an ACK would only sit in the output buffer.)
 *
 * Locking: every entry point takes `lock`; on_reset is called with it held and must not call
 * back into the device.
 */
#ifndef MINIVMM_I8042_H
#define MINIVMM_I8042_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "minivmm/hw/bus.h"

#define I8042_DATA_PORT 0x60
#define I8042_STATUS_PORT 0x64

/* Status register (read at 0x64). */
#define I8042_STR_OBF 0x01     /* output buffer full: a byte waits at 0x60 */
#define I8042_STR_IBF 0x02     /* input buffer full: never, we consume at once */
#define I8042_STR_SYSFLAG 0x04 /* system flag: self-test passed (POST done) */
#define I8042_STR_CMDDAT 0x08  /* last write was to 0x64 (a command) */
#define I8042_STR_AUXDATA 0x20 /* the byte at 0x60 is from the aux port */

/* Controller commands (written to 0x64). */
#define I8042_CMD_READ_CTR 0x20
#define I8042_CMD_WRITE_CTR 0x60
#define I8042_CMD_AUX_DISABLE 0xa7
#define I8042_CMD_AUX_ENABLE 0xa8
#define I8042_CMD_AUX_TEST 0xa9
#define I8042_CMD_SELF_TEST 0xaa
#define I8042_CMD_KBD_TEST 0xab
#define I8042_CMD_KBD_DISABLE 0xad
#define I8042_CMD_KBD_ENABLE 0xae
#define I8042_CMD_READ_OUTP 0xd0
#define I8042_CMD_WRITE_OUTP 0xd1
#define I8042_CMD_KBD_LOOP 0xd2
#define I8042_CMD_AUX_LOOP 0xd3
#define I8042_CMD_AUX_SEND 0xd4
#define I8042_CMD_PULSE_RESET 0xfe /* pulse output line 0 (the CPU's reset) low */

/* Controller command byte (CTR). */
#define I8042_CTR_KBDINT 0x01
#define I8042_CTR_AUXINT 0x02
#define I8042_CTR_SYSFLAG 0x04
#define I8042_CTR_KBDDIS 0x10
#define I8042_CTR_AUXDIS 0x20
#define I8042_CTR_XLATE 0x40

#define I8042_SELF_TEST_OK 0x55
#define I8042_PORT_TEST_OK 0x00

struct i8042 {
    pthread_mutex_t lock;
    uint8_t ctr;
    uint8_t outp;     /* output port (bit 0: reset line, high = running; bit 1: A20) */
    uint8_t out;      /* the byte at 0x60 when OBF */
    bool obf;
    bool out_aux;     /* the byte came from the aux port (loopback 0xd3) */
    bool cmd_last;    /* CMDDAT: the last write went to 0x64 */
    uint8_t pending;  /* a command waiting for its parameter at 0x60, or 0 */
    uint64_t resets;  /* pulse-reset commands seen */
    void (*on_reset)(void *opaque); /* NULL: reset ignored (counted) */
    void *opaque;
};

/* Reset state: CTR = KBDINT | SYSFLAG | XLATE (a PC BIOS's), output port 0x03 (reset high,
 * A20 on), output buffer empty. 0 or -errno. */
int i8042_init(struct i8042 *k, void (*on_reset)(void *opaque), void *opaque);
void i8042_destroy(struct i8042 *k);

/* Bus callbacks for two 1-port windows, 0x60 (i8042_bus_ops_data) and 0x64
 * (i8042_bus_ops_status), both with the struct as opaque. Accesses wider than a byte act on
 * their first byte (the others read 0xff). */
extern const struct bus_dev_ops i8042_bus_ops_data;
extern const struct bus_dev_ops i8042_bus_ops_status;
extern const struct bus_reg i8042_data_regs[];
extern const unsigned i8042_data_nregs;
extern const struct bus_reg i8042_status_regs[];
extern const unsigned i8042_status_nregs;

#endif
