/*
 * rtc_cmos.h: the PC's MC146818 CMOS real-time clock and its 128 bytes of CMOS RAM.
 *
 * Two ports (PC/AT: 0x70 index, 0x71 data). The index port's bit 7 masks NMI on a PC (we
 * have no NMI source; the bit is kept, not acted on); bits 6:0 select one of 128 bytes. The
 * clock reads the host clock (CLOCK_REALTIME, UTC, unless a test supplies its own) plus an
 * offset the guest sets by writing the time registers. No interrupts: periodic, alarm and
 * update-ended interrupts are not implemented (register C always reads 0), so the row has no
 * use for IRQ 8 besides describing it.
 *
 * Locking: every entry point takes `lock` (either vCPU may use the ports).
 */
#ifndef MINIVMM_RTC_CMOS_H
#define MINIVMM_RTC_CMOS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "minivmm/hw/bus.h"

#define RTC_CMOS_PORT 0x70 /* index; data at +1 */
#define RTC_CMOS_IRQ 8

/* MC146818 registers (data sheet, "Address Map"), and the PC's century byte (0x32, as
 * ACPI's FADT CENTURY field names it on PCs). */
#define RTC_SECONDS 0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES 0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS 0x04
#define RTC_HOURS_ALARM 0x05
#define RTC_DAY_OF_WEEK 0x06
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32
#define RTC_CMOS_SIZE 128

#define RTC_A_UIP 0x80    /* update in progress (read-only) */
#define RTC_A_DV_MASK 0x70
#define RTC_A_DV_32K 0x20 /* divider: 32.768 kHz time base, clock running */
#define RTC_B_SET 0x80    /* updates inhibited while the guest sets the time */
#define RTC_B_DM_BINARY 0x04
#define RTC_B_24H 0x02
#define RTC_D_VRT 0x80    /* valid RAM and time: the battery is good */
#define RTC_HOUR_PM 0x80  /* 12-hour mode: bit 7 of the hour is PM */

/* UIP is set this long before each once-a-second update (MC146818: t_BUC = 244 us). */
#define RTC_UIP_NS 244000

typedef void (*rtc_cmos_clock_fn)(void *opaque, struct timespec *now);

struct rtc_cmos {
    pthread_mutex_t lock;
    uint8_t index;    /* bits 6:0 of the last index write */
    bool nmi_masked;  /* bit 7 of the last index write */
    uint8_t ram[RTC_CMOS_SIZE]; /* alarms, A, B and the RAM bytes; time fields unused */
    int64_t offset_s; /* guest time = clock + offset_s */
    rtc_cmos_clock_fn clock;
    void *clock_opaque;
};

/* Reset state: A = 0x26 (32.768 kHz, 1024 Hz rate), B = 0x02 (24-hour, BCD), C = 0,
 * D = VRT, RAM zero, offset 0. clock NULL: CLOCK_REALTIME. 0 or -errno. */
int rtc_cmos_init(struct rtc_cmos *r, rtc_cmos_clock_fn clock, void *clock_opaque);
void rtc_cmos_destroy(struct rtc_cmos *r);

/* Bus callbacks on 2 ports. Accesses wider than a byte act on their first byte (the other
 * bytes read 0xff). The index port reads 0xff (write-only on a PC). */
extern const struct bus_dev_ops rtc_cmos_bus_ops;
extern const struct bus_reg rtc_cmos_regs[];
extern const unsigned rtc_cmos_nregs;

#endif
