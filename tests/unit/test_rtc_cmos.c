/*
 * test_rtc_cmos.c: unit tests of the MC146818 CMOS RTC model (devices/rtc_cmos.c).
 *
 * Drives the model through its two ports as the vCPU loop does (index at offset 0, data at
 * offset 1) with a fake clock, so every time is known: 2026-12-07 21:05:09 UTC (a Monday) is
 * 1796677509 s. Values come from the MC146818A data sheet (BCD and binary formats, 12-hour
 * hours with bit 7 = PM, UIP 244 us before the update, VRT in register D). CK_FORK on.
 */
#include <check.h>
#include <string.h>

#include "ck_loop.h"
#include "minivmm/util.h"
#include "rtc_cmos.h"

#define T_BASE 1796677509 /* 2026-12-07 21:05:09 UTC, Monday */

static struct rtc_cmos rtc;
static struct timespec fake_now;

static void fake_clock(void *opaque, struct timespec *now)
{
    ck_assert_ptr_eq(opaque, &fake_now);
    *now = fake_now;
}

static void setup(void)
{
    fake_now = (struct timespec){.tv_sec = T_BASE, .tv_nsec = 0};
    ck_assert_int_eq(rtc_cmos_init(&rtc, fake_clock, &fake_now), 0);
}

static void teardown(void)
{
    rtc_cmos_destroy(&rtc);
}

static void outb(unsigned off, uint8_t v)
{
    rtc_cmos_bus_ops.write(&rtc, 0, off, &v, 1);
}

static uint8_t inb(unsigned off)
{
    uint8_t v = 0;
    rtc_cmos_bus_ops.read(&rtc, 0, off, &v, 1);
    return v;
}

static uint8_t cmos_rd(uint8_t idx)
{
    outb(0, idx);
    return inb(1);
}

static void cmos_wr(uint8_t idx, uint8_t v)
{
    outb(0, idx);
    outb(1, v);
}

START_TEST(reset_state)
{
    ck_assert_uint_eq(cmos_rd(RTC_REG_A), 0x26);
    ck_assert_uint_eq(cmos_rd(RTC_REG_B), RTC_B_24H);
    ck_assert_uint_eq(cmos_rd(RTC_REG_C), 0);
    ck_assert_uint_eq(cmos_rd(RTC_REG_D), RTC_D_VRT);
}
END_TEST

/* Reset format: BCD, 24-hour. */
START_TEST(bcd_24h)
{
    ck_assert_uint_eq(cmos_rd(RTC_SECONDS), 0x09);
    ck_assert_uint_eq(cmos_rd(RTC_MINUTES), 0x05);
    ck_assert_uint_eq(cmos_rd(RTC_HOURS), 0x21);
    ck_assert_uint_eq(cmos_rd(RTC_DAY_OF_WEEK), 2); /* Monday; Sunday = 1 */
    ck_assert_uint_eq(cmos_rd(RTC_DAY_OF_MONTH), 0x07);
    ck_assert_uint_eq(cmos_rd(RTC_MONTH), 0x12);
    ck_assert_uint_eq(cmos_rd(RTC_YEAR), 0x26);
    ck_assert_uint_eq(cmos_rd(RTC_CENTURY), 0x20);
}
END_TEST

START_TEST(binary_24h)
{
    cmos_wr(RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY);
    ck_assert_uint_eq(cmos_rd(RTC_SECONDS), 9);
    ck_assert_uint_eq(cmos_rd(RTC_HOURS), 21);
    ck_assert_uint_eq(cmos_rd(RTC_MONTH), 12);
    ck_assert_uint_eq(cmos_rd(RTC_YEAR), 26);
    ck_assert_uint_eq(cmos_rd(RTC_CENTURY), 20);
}
END_TEST

/* 12-hour mode: 1-12 with bit 7 for PM, in either format; midnight and noon read 12. */
static const struct {
    int64_t secs_into_day;
    uint8_t bcd, bin;
} hours12[] = {
    {0, 0x12, 12},                          /* 00:xx -> 12 AM */
    {1 * 3600, 0x01, 1},                    /* 01:xx -> 1 AM */
    {11 * 3600, 0x11, 11},                  /* 11 AM */
    {12 * 3600, 0x12 | RTC_HOUR_PM, 12 | RTC_HOUR_PM}, /* noon -> 12 PM */
    {13 * 3600, 0x01 | RTC_HOUR_PM, 1 | RTC_HOUR_PM},
    {23 * 3600, 0x11 | RTC_HOUR_PM, 11 | RTC_HOUR_PM},
};

START_TEST(hours_12h)
{
    const int64_t midnight = T_BASE - (21 * 3600 + 5 * 60 + 9);
    fake_now.tv_sec = midnight + hours12[_i].secs_into_day;
    cmos_wr(RTC_REG_B, 0); /* BCD, 12-hour */
    ck_assert_uint_eq(cmos_rd(RTC_HOURS), hours12[_i].bcd);
    cmos_wr(RTC_REG_B, RTC_B_DM_BINARY);
    ck_assert_uint_eq(cmos_rd(RTC_HOURS), hours12[_i].bin);
}
END_TEST

/* UIP: set only in the last 244 us of a second, and never while SET inhibits updates. */
START_TEST(uip)
{
    fake_now.tv_nsec = 0;
    ck_assert_uint_eq(cmos_rd(RTC_REG_A) & RTC_A_UIP, 0);
    fake_now.tv_nsec = 1000000000L - RTC_UIP_NS - 1;
    ck_assert_uint_eq(cmos_rd(RTC_REG_A) & RTC_A_UIP, 0);
    fake_now.tv_nsec = 1000000000L - RTC_UIP_NS;
    ck_assert_uint_eq(cmos_rd(RTC_REG_A) & RTC_A_UIP, RTC_A_UIP);
    fake_now.tv_nsec = 999999999;
    ck_assert_uint_eq(cmos_rd(RTC_REG_A), 0x26 | RTC_A_UIP);
    cmos_wr(RTC_REG_B, RTC_B_24H | RTC_B_SET);
    ck_assert_uint_eq(cmos_rd(RTC_REG_A) & RTC_A_UIP, 0);
    cmos_wr(RTC_REG_B, RTC_B_24H);
    cmos_wr(RTC_REG_A, 0x70 | RTC_A_UIP); /* divider chain reset; UIP is read-only */
    ck_assert_uint_eq(cmos_rd(RTC_REG_A), 0x70);
}
END_TEST

/* A guest waiting for UIP to clear, as Linux's mc146818_get_time does, sees it clear once
 * the clock passes the second boundary. */
START_TEST(uip_wait_ends)
{
    fake_now.tv_nsec = 999900000;
    ck_assert_uint_eq(cmos_rd(RTC_REG_A) & RTC_A_UIP, RTC_A_UIP);
    fake_now.tv_sec++;
    fake_now.tv_nsec = 100000;
    ck_assert_uint_eq(cmos_rd(RTC_REG_A) & RTC_A_UIP, 0);
    ck_assert_uint_eq(cmos_rd(RTC_SECONDS), 0x10);
}
END_TEST

/* Bit 7 of the index masks NMI and does not select a register. */
START_TEST(nmi_bit)
{
    outb(0, 0x80 | RTC_MINUTES);
    ck_assert(rtc.nmi_masked);
    ck_assert_uint_eq(inb(1), 0x05);
    outb(0, RTC_SECONDS);
    ck_assert(!rtc.nmi_masked);
    ck_assert_uint_eq(inb(1), 0x09);
    ck_assert_uint_eq(inb(0), 0xff); /* the index port is write-only */
}
END_TEST

/* Bytes 0x0e-0x7f other than the century, and the alarms, are RAM; C and D are read-only. */
START_TEST(ram)
{
    for (unsigned i = 0x0e; i < RTC_CMOS_SIZE; i++)
        if (i != RTC_CENTURY)
            cmos_wr((uint8_t)i, (uint8_t)(i ^ 0xa5));
    for (unsigned i = 0x0e; i < RTC_CMOS_SIZE; i++)
        if (i != RTC_CENTURY)
            ck_assert_uint_eq(cmos_rd((uint8_t)i), (uint8_t)(i ^ 0xa5));
    cmos_wr(RTC_SECONDS_ALARM, 0x42);
    cmos_wr(RTC_MINUTES_ALARM, 0x43);
    cmos_wr(RTC_HOURS_ALARM, 0xc0);
    ck_assert_uint_eq(cmos_rd(RTC_SECONDS_ALARM), 0x42);
    ck_assert_uint_eq(cmos_rd(RTC_MINUTES_ALARM), 0x43);
    ck_assert_uint_eq(cmos_rd(RTC_HOURS_ALARM), 0xc0);
    cmos_wr(RTC_REG_C, 0xff);
    cmos_wr(RTC_REG_D, 0x00);
    ck_assert_uint_eq(cmos_rd(RTC_REG_C), 0);
    ck_assert_uint_eq(cmos_rd(RTC_REG_D), RTC_D_VRT);
}
END_TEST

/* Indices wrap at 128 (bit 7 is the NMI mask); wide and out-of-window accesses. */
START_TEST(bad_indices)
{
    cmos_wr(0x7f, 0x5a);
    outb(0, 0xff); /* NMI mask + index 0x7f */
    ck_assert_uint_eq(inb(1), 0x5a);
    uint8_t w[4] = {0};
    rtc_cmos_bus_ops.read(&rtc, 0, 1, w, 4);
    ck_assert_uint_eq(w[0], 0x5a);
    ck_assert_uint_eq(w[1], 0xff);
    uint8_t v = 0x11;
    rtc_cmos_bus_ops.write(&rtc, 0, 2, &v, 1); /* beyond the window: ignored */
    ck_assert_uint_eq(cmos_rd(0x7f), 0x5a);
    rtc_cmos_bus_ops.read(&rtc, 0, 2, &v, 1);
    ck_assert_uint_eq(v, 0xff);
    rtc_cmos_bus_ops.write(&rtc, 0, 1, &v, 0); /* zero length: ignored */
    ck_assert_uint_eq(cmos_rd(0x7f), 0x5a);
}
END_TEST

/* Writing the time is kept as an offset from the host clock, which keeps running. */
START_TEST(set_time)
{
    cmos_wr(RTC_REG_B, RTC_B_24H | RTC_B_SET);
    cmos_wr(RTC_SECONDS, 0x30);
    cmos_wr(RTC_MINUTES, 0x59);
    cmos_wr(RTC_HOURS, 0x23);
    cmos_wr(RTC_DAY_OF_MONTH, 0x31);
    cmos_wr(RTC_MONTH, 0x12);
    cmos_wr(RTC_YEAR, 0x99);
    cmos_wr(RTC_CENTURY, 0x19);
    cmos_wr(RTC_REG_B, RTC_B_24H);
    ck_assert_uint_eq(cmos_rd(RTC_YEAR), 0x99);
    ck_assert_uint_eq(cmos_rd(RTC_CENTURY), 0x19);
    ck_assert_uint_eq(cmos_rd(RTC_HOURS), 0x23);
    fake_now.tv_sec += 30; /* 1999-12-31 23:59:30 + 30 s */
    ck_assert_uint_eq(cmos_rd(RTC_SECONDS), 0x00);
    ck_assert_uint_eq(cmos_rd(RTC_MINUTES), 0x00);
    ck_assert_uint_eq(cmos_rd(RTC_HOURS), 0x00);
    ck_assert_uint_eq(cmos_rd(RTC_DAY_OF_MONTH), 0x01);
    ck_assert_uint_eq(cmos_rd(RTC_MONTH), 0x01);
    ck_assert_uint_eq(cmos_rd(RTC_YEAR), 0x00);
    ck_assert_uint_eq(cmos_rd(RTC_CENTURY), 0x20);
    ck_assert_uint_eq(cmos_rd(RTC_DAY_OF_WEEK), 7); /* 2000-01-01 was a Saturday */
    /* 12-hour binary write: 3 PM. */
    cmos_wr(RTC_REG_B, RTC_B_DM_BINARY);
    cmos_wr(RTC_HOURS, 3 | RTC_HOUR_PM);
    cmos_wr(RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY);
    ck_assert_uint_eq(cmos_rd(RTC_HOURS), 15);
    cmos_wr(RTC_DAY_OF_WEEK, 3); /* derived: ignored */
    ck_assert_uint_eq(cmos_rd(RTC_DAY_OF_WEEK), 7);
}
END_TEST

/* The calendar arithmetic agrees with glibc's gmtime_r from 1970 to 2199 (leap years 2000
 * and 2096, the non-leap 2100 included), and writing the date back leaves the offset at 0. */
START_TEST(calendar_matches_gmtime)
{
    cmos_wr(RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY);
    const int64_t end = 7258118400; /* 2200-01-01 */
    for (int64_t t = 0; t < end; t += 86400 * 7 + 3600 * 5 + 61) {
        fake_now.tv_sec = (time_t)t;
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        LOOP_ASSERT_MSG(cmos_rd(RTC_SECONDS) == tm.tm_sec, "t=%lld", (long long)t);
        LOOP_ASSERT_MSG(cmos_rd(RTC_MINUTES) == tm.tm_min, "t=%lld", (long long)t);
        LOOP_ASSERT_MSG(cmos_rd(RTC_HOURS) == tm.tm_hour, "t=%lld", (long long)t);
        LOOP_ASSERT_MSG(cmos_rd(RTC_DAY_OF_WEEK) == tm.tm_wday + 1, "t=%lld", (long long)t);
        LOOP_ASSERT_MSG(cmos_rd(RTC_DAY_OF_MONTH) == tm.tm_mday, "t=%lld", (long long)t);
        LOOP_ASSERT_MSG(cmos_rd(RTC_MONTH) == tm.tm_mon + 1, "t=%lld", (long long)t);
        LOOP_ASSERT_MSG(cmos_rd(RTC_YEAR) == (tm.tm_year + 1900) % 100, "t=%lld", (long long)t);
        LOOP_ASSERT_MSG(cmos_rd(RTC_CENTURY) == (tm.tm_year + 1900) / 100, "t=%lld",
                        (long long)t);
        cmos_wr(RTC_DAY_OF_MONTH, (uint8_t)tm.tm_mday);
        cmos_wr(RTC_MONTH, (uint8_t)(tm.tm_mon + 1));
        LOOP_ASSERT_MSG(rtc.offset_s == 0, "t=%lld offset %lld", (long long)t,
                        (long long)rtc.offset_s);
    }
    /* 2100 is not a leap year: Feb 28 + 1 day is Mar 1. */
    fake_now.tv_sec = 4107456000; /* 2100-02-28 00:00:00 */
    ck_assert_uint_eq(cmos_rd(RTC_MONTH), 2);
    ck_assert_uint_eq(cmos_rd(RTC_DAY_OF_MONTH), 28);
    fake_now.tv_sec += 86400;
    ck_assert_uint_eq(cmos_rd(RTC_MONTH), 3);
    ck_assert_uint_eq(cmos_rd(RTC_DAY_OF_MONTH), 1);
}
END_TEST

/* The default clock is the host's CLOCK_REALTIME. */
START_TEST(host_clock)
{
    struct rtc_cmos r;
    ck_assert_int_eq(rtc_cmos_init(&r, NULL, NULL), 0);
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    uint8_t v = RTC_YEAR;
    rtc_cmos_bus_ops.write(&r, 0, 0, &v, 1);
    rtc_cmos_bus_ops.read(&r, 0, 1, &v, 1);
    unsigned yy = (unsigned)(tm.tm_year + 1900) % 100;
    ck_assert_uint_eq(v, (yy / 10) << 4 | yy % 10);
    rtc_cmos_destroy(&r);
}
END_TEST

static Suite *rtc_suite(void)
{
    Suite *s = suite_create("rtc_cmos");
    TCase *tc = tcase_create("registers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, reset_state);
    tcase_add_test(tc, bcd_24h);
    tcase_add_test(tc, binary_24h);
    tcase_add_loop_test(tc, hours_12h, 0, ARRAY_SIZE(hours12));
    tcase_add_test(tc, ram);
    tcase_add_test(tc, nmi_bit);
    tcase_add_test(tc, bad_indices);
    suite_add_tcase(s, tc);
    tc = tcase_create("update");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, uip);
    tcase_add_test(tc, uip_wait_ends);
    tcase_add_test(tc, set_time);
    tcase_add_test(tc, host_clock);
    tcase_add_test(tc, calendar_matches_gmtime);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(rtc_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
