/*
 * rtc_cmos.c: MC146818 CMOS RTC (Motorola MC146818A data sheet) as PCs and Linux's
 * drivers/rtc/rtc-cmos.c and arch/x86/kernel/rtc.c use it.
 *
 * Model: the time registers are computed at each read from the clock plus offset_s, in the
 * format register B selects (BCD or binary, 12- or 24-hour), so there is no update timer.
 * Register A's UIP bit behaves as on the chip: it reads 1 during the last RTC_UIP_NS of each
 * second (the chip sets it 244 us before the update and the time registers must not be read
 * then); a guest that waits for UIP to clear (Linux's mc146818_get_time) waits at most that
 * long. With B.SET or a divider other than 32.768 kHz the chip does not update, so UIP reads 0.
 *
 * Writes to the time registers (seconds, minutes, hours, day of month, month, year, century)
 * are accepted as a change of offset_s: the written field replaces that field of the current
 * guest time and the rest is kept, so setting the time field by field (as Linux does, under
 * B.SET) ends at the time written. The day of week is derived from the date: writes to it are
 * ignored. The alarm registers, A (but UIP), B and the bytes 0x0e-0x7f other than the century
 * are plain RAM; C reads 0 (no interrupt flags: no interrupts are modelled) and D reads VRT.
 */
#include <errno.h>
#include <string.h>

#include "minivmm/util.h"
#include "rtc_cmos.h"

static void realtime(void *opaque, struct timespec *now)
{
    (void)opaque;
    clock_gettime(CLOCK_REALTIME, now);
}

int rtc_cmos_init(struct rtc_cmos *r, rtc_cmos_clock_fn clock, void *clock_opaque)
{
    memset(r, 0, sizeof(*r));
    int e = pthread_mutex_init(&r->lock, NULL);
    if (e)
        return -e;
    r->ram[RTC_REG_A] = RTC_A_DV_32K | 0x06;
    r->ram[RTC_REG_B] = RTC_B_24H;
    r->ram[RTC_REG_D] = RTC_D_VRT;
    r->clock = clock ? clock : realtime;
    r->clock_opaque = clock_opaque;
    return 0;
}

void rtc_cmos_destroy(struct rtc_cmos *r)
{
    pthread_mutex_destroy(&r->lock);
}

static bool binary(const struct rtc_cmos *r)
{
    return r->ram[RTC_REG_B] & RTC_B_DM_BINARY;
}

static uint8_t to_guest(const struct rtc_cmos *r, unsigned v)
{
    return binary(r) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static unsigned from_guest(const struct rtc_cmos *r, uint8_t v)
{
    return binary(r) ? v : (v >> 4) * 10u + (v & 0xf);
}

/* Hours 0-23 as the guest sees them: 24-hour, or 1-12 with bit 7 for PM. */
static uint8_t hour_to_guest(const struct rtc_cmos *r, int h)
{
    if (r->ram[RTC_REG_B] & RTC_B_24H)
        return to_guest(r, (unsigned)h);
    unsigned h12 = h % 12 == 0 ? 12u : (unsigned)h % 12;
    return to_guest(r, h12) | (h >= 12 ? RTC_HOUR_PM : 0);
}

static int hour_from_guest(const struct rtc_cmos *r, uint8_t v)
{
    if (r->ram[RTC_REG_B] & RTC_B_24H)
        return (int)from_guest(r, v);
    int h = (int)from_guest(r, v & ~RTC_HOUR_PM) % 12;
    return (v & RTC_HOUR_PM) ? h + 12 : h;
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (the "days from civil"
 * algorithms of H. Hinnant, chrono-Compatible Low-Level Date Algorithms). Used instead of
 * gmtime_r/timegm: glibc's take a process-wide lock and read the time zone files on first
 * use (milliseconds on a vCPU's exit path). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, struct tm *tm)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    tm->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    tm->tm_mon = (int)m - 1;
    tm->tm_year = (int)((int64_t)yoe + era * 400 + (m <= 2)) - 1900;
}

static void to_tm(int64_t t, struct tm *tm)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    memset(tm, 0, sizeof(*tm));
    civil_from_days(days, tm);
    tm->tm_hour = (int)(secs / 3600);
    tm->tm_min = (int)(secs / 60 % 60);
    tm->tm_sec = (int)(secs % 60);
    tm->tm_wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
}

/* Out-of-range fields carry over, as with timegm (month 13 is January of the next year). */
static int64_t from_tm(const struct tm *tm)
{
    int64_t y = (int64_t)tm->tm_year + 1900 + tm->tm_mon / 12;
    int mon = tm->tm_mon % 12;
    if (mon < 0) {
        mon += 12;
        y--;
    }
    int64_t days = days_from_civil(y, (unsigned)mon + 1, 1) + tm->tm_mday - 1;
    return days * 86400 + (int64_t)tm->tm_hour * 3600 + (int64_t)tm->tm_min * 60 + tm->tm_sec;
}

static void guest_now(const struct rtc_cmos *r, struct timespec *host, struct tm *tm)
{
    r->clock(r->clock_opaque, host);
    to_tm((int64_t)host->tv_sec + r->offset_s, tm);
}

static bool updating(const struct rtc_cmos *r)
{
    return !(r->ram[RTC_REG_B] & RTC_B_SET) &&
           (r->ram[RTC_REG_A] & RTC_A_DV_MASK) == RTC_A_DV_32K;
}

static uint8_t read_reg(struct rtc_cmos *r, uint8_t idx)
{
    struct timespec host;
    struct tm tm;
    switch (idx) {
    case RTC_SECONDS:
    case RTC_MINUTES:
    case RTC_HOURS:
    case RTC_DAY_OF_WEEK:
    case RTC_DAY_OF_MONTH:
    case RTC_MONTH:
    case RTC_YEAR:
    case RTC_CENTURY:
        guest_now(r, &host, &tm);
        break;
    default:
        break;
    }
    switch (idx) {
    case RTC_SECONDS:
        return to_guest(r, (unsigned)tm.tm_sec);
    case RTC_MINUTES:
        return to_guest(r, (unsigned)tm.tm_min);
    case RTC_HOURS:
        return hour_to_guest(r, tm.tm_hour);
    case RTC_DAY_OF_WEEK:
        return to_guest(r, (unsigned)tm.tm_wday + 1); /* 1 = Sunday */
    case RTC_DAY_OF_MONTH:
        return to_guest(r, (unsigned)tm.tm_mday);
    case RTC_MONTH:
        return to_guest(r, (unsigned)tm.tm_mon + 1);
    case RTC_YEAR:
        return to_guest(r, (unsigned)(tm.tm_year + 1900) % 100);
    case RTC_CENTURY:
        return to_guest(r, (unsigned)(tm.tm_year + 1900) / 100);
    case RTC_REG_A: {
        uint8_t a = r->ram[RTC_REG_A] & ~RTC_A_UIP;
        if (updating(r)) {
            r->clock(r->clock_opaque, &host);
            if (host.tv_nsec >= 1000000000L - RTC_UIP_NS)
                a |= RTC_A_UIP;
        }
        return a;
    }
    case RTC_REG_C:
        return 0;
    case RTC_REG_D:
        return RTC_D_VRT;
    default:
        return r->ram[idx];
    }
}

/* A written time field replaces that field of the current guest time. */
static void write_time(struct rtc_cmos *r, uint8_t idx, uint8_t v)
{
    struct timespec host;
    struct tm tm;
    guest_now(r, &host, &tm);
    int year = tm.tm_year + 1900;
    switch (idx) {
    case RTC_SECONDS:
        tm.tm_sec = (int)from_guest(r, v);
        break;
    case RTC_MINUTES:
        tm.tm_min = (int)from_guest(r, v);
        break;
    case RTC_HOURS:
        tm.tm_hour = hour_from_guest(r, v);
        break;
    case RTC_DAY_OF_MONTH:
        tm.tm_mday = (int)from_guest(r, v);
        break;
    case RTC_MONTH:
        tm.tm_mon = (int)from_guest(r, v) - 1;
        break;
    case RTC_YEAR:
        year = year / 100 * 100 + (int)from_guest(r, v) % 100;
        break;
    case RTC_CENTURY:
        year = (int)from_guest(r, v) * 100 + year % 100;
        break;
    default:
        return;
    }
    tm.tm_year = year - 1900;
    r->offset_s = from_tm(&tm) - (int64_t)host.tv_sec;
}

static void write_reg(struct rtc_cmos *r, uint8_t idx, uint8_t v)
{
    switch (idx) {
    case RTC_SECONDS:
    case RTC_MINUTES:
    case RTC_HOURS:
    case RTC_DAY_OF_MONTH:
    case RTC_MONTH:
    case RTC_YEAR:
    case RTC_CENTURY:
        write_time(r, idx, v);
        break;
    case RTC_DAY_OF_WEEK:
    case RTC_REG_C:
    case RTC_REG_D:
        break; /* derived or read-only */
    case RTC_REG_A:
        r->ram[idx] = v & ~RTC_A_UIP;
        break;
    default:
        r->ram[idx] = v;
        break;
    }
}

static void rtc_read(void *opaque, unsigned vcpu, uint64_t off, uint8_t *data, unsigned len)
{
    struct rtc_cmos *r = opaque;
    (void)vcpu;
    memset(data, 0xff, len);
    if (off != 1 || len == 0)
        return; /* the index port is write-only */
    pthread_mutex_lock(&r->lock);
    data[0] = read_reg(r, r->index);
    pthread_mutex_unlock(&r->lock);
}

static void rtc_write(void *opaque, unsigned vcpu, uint64_t off, const uint8_t *data,
                      unsigned len)
{
    struct rtc_cmos *r = opaque;
    (void)vcpu;
    if (len == 0 || off > 1)
        return;
    pthread_mutex_lock(&r->lock);
    if (off == 0) {
        r->index = data[0] & 0x7f;
        r->nmi_masked = data[0] & 0x80;
    } else {
        write_reg(r, r->index, data[0]);
    }
    pthread_mutex_unlock(&r->lock);
}

const struct bus_dev_ops rtc_cmos_bus_ops = {
    .read = rtc_read,
    .write = rtc_write,
};

const struct bus_reg rtc_cmos_regs[] = {
    {0, NULL, "INDEX"},
    {1, "DATA", "DATA"},
};
const unsigned rtc_cmos_nregs = ARRAY_SIZE(rtc_cmos_regs);
