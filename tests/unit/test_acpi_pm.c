/*
 * test_acpi_pm.c: the ACPI PM device: which writes power off, which reset, which do nothing.
 *
 * Writes to the sleep control register are tried with every byte value: exactly those with
 * SLP_EN and SLP_TYP 5 call on_power_off (ACPI 6.5 §4.8.3.7); writes to the reset register
 * call on_reset only with MINIVMM_ACPI_PM_RESET_VALUE. WAK_STS is write-1-to-clear and the
 * other registers read 0. Register names for the exit log cover every register.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "acpi_pm.h"
#include "ck_loop.h"
#include "minivmm/abi.h"
#include "minivmm/util.h"

struct counts {
    unsigned off, reset, vcpu;
};

static void on_off(void *opaque, unsigned vcpu)
{
    struct counts *c = opaque;
    c->off++;
    c->vcpu = vcpu;
}

static void on_reset(void *opaque, unsigned vcpu)
{
    struct counts *c = opaque;
    c->reset++;
    c->vcpu = vcpu;
}

static void wr(struct acpi_pm *pm, unsigned off, uint8_t v)
{
    acpi_pm_bus_ops.write(pm, 3, off, &v, 1);
}

static uint8_t rd(struct acpi_pm *pm, unsigned off)
{
    uint8_t v = 0xaa;
    acpi_pm_bus_ops.read(pm, 0, off, &v, 1);
    return v;
}

/* Every byte value in one test (a forked test per value is slow under the sanitizers). */
START_TEST(test_sleep_control)
{
    for (unsigned v = 0; v < 256; v++) {
        struct counts c = {0};
        struct acpi_pm pm = {.on_power_off = on_off, .on_reset = on_reset, .opaque = &c};
        wr(&pm, MINIVMM_ACPI_PM_SLEEP_CONTROL, (uint8_t)v);
        bool s5 = (v & 0x20) && ((v >> 2) & 7) == 5;
        LOOP_ASSERT_MSG(c.off == (s5 ? 1u : 0u), "value 0x%x", v);
        LOOP_ASSERT_MSG(c.reset == 0, "value 0x%x", v);
        LOOP_ASSERT_MSG(!s5 || c.vcpu == 3, "value 0x%x", v);
    }
}
END_TEST

START_TEST(test_reset)
{
    for (unsigned v = 0; v < 256; v++) {
        struct counts c = {0};
        struct acpi_pm pm = {.on_power_off = on_off, .on_reset = on_reset, .opaque = &c};
        wr(&pm, MINIVMM_ACPI_PM_RESET, (uint8_t)v);
        LOOP_ASSERT_MSG(c.reset == (v == MINIVMM_ACPI_PM_RESET_VALUE ? 1u : 0u), "value 0x%x", v);
        LOOP_ASSERT_MSG(c.off == 0, "value 0x%x", v);
    }
}
END_TEST

START_TEST(test_linux_power_off_sequence)
{
    /* Linux's acpi_hw_extended_sleep(): clear WAK_STS, then SLP_TYP << 2 | SLP_EN. A 16-bit
     * write lands on the first byte's register only. */
    struct counts c = {0};
    struct acpi_pm pm = {.on_power_off = on_off, .on_reset = on_reset, .opaque = &c};
    wr(&pm, MINIVMM_ACPI_PM_SLEEP_STATUS, MINIVMM_ACPI_PM_WAK_STS);
    ck_assert_uint_eq(c.off, 0);
    wr(&pm, MINIVMM_ACPI_PM_SLEEP_CONTROL, (5 << 2) | 0x20);
    ck_assert_uint_eq(c.off, 1);
    uint8_t w[2] = {(5 << 2) | 0x20, MINIVMM_ACPI_PM_RESET_VALUE};
    acpi_pm_bus_ops.write(&pm, 0, MINIVMM_ACPI_PM_SLEEP_CONTROL, w, 2);
    ck_assert_uint_eq(c.off, 2);
    ck_assert_uint_eq(c.reset, 0);
}
END_TEST

START_TEST(test_no_callbacks)
{
    struct acpi_pm pm = {0};
    wr(&pm, MINIVMM_ACPI_PM_SLEEP_CONTROL, (5 << 2) | 0x20);
    wr(&pm, MINIVMM_ACPI_PM_RESET, MINIVMM_ACPI_PM_RESET_VALUE);
    wr(&pm, 3, 0xff); /* the spare byte */
}
END_TEST

START_TEST(test_reads)
{
    struct acpi_pm pm = {0};
    ck_assert_uint_eq(rd(&pm, MINIVMM_ACPI_PM_SLEEP_CONTROL), 0);
    ck_assert_uint_eq(rd(&pm, MINIVMM_ACPI_PM_SLEEP_STATUS), 0);
    ck_assert_uint_eq(rd(&pm, MINIVMM_ACPI_PM_RESET), 0);
    pm.sleep_status = MINIVMM_ACPI_PM_WAK_STS | 0x01;
    ck_assert_uint_eq(rd(&pm, MINIVMM_ACPI_PM_SLEEP_STATUS), 0x81);
    wr(&pm, MINIVMM_ACPI_PM_SLEEP_STATUS, MINIVMM_ACPI_PM_WAK_STS); /* write 1 to clear */
    ck_assert_uint_eq(rd(&pm, MINIVMM_ACPI_PM_SLEEP_STATUS), 0x01);
    uint8_t w[4];
    memset(w, 0xaa, sizeof(w));
    acpi_pm_bus_ops.read(&pm, 0, 0, w, 4);
    ck_assert_uint_eq(get_le32(w), 0);
}
END_TEST

START_TEST(test_register_names)
{
    ck_assert_uint_eq(acpi_pm_nregs, 3);
    for (unsigned r = 0; r < 3; r++) {
        ck_assert_uint_eq(acpi_pm_regs[r].off, r);
        ck_assert_ptr_nonnull(acpi_pm_regs[r].wr);
    }
    ck_assert_str_eq(acpi_pm_regs[MINIVMM_ACPI_PM_RESET].wr, "RESET");
}
END_TEST

static Suite *acpi_pm_suite(void)
{
    Suite *s = suite_create("acpi_pm");
    TCase *tc = tcase_create("registers");
    tcase_add_test(tc, test_sleep_control);
    tcase_add_test(tc, test_reset);
    tcase_add_test(tc, test_linux_power_off_sequence);
    tcase_add_test(tc, test_no_callbacks);
    tcase_add_test(tc, test_reads);
    tcase_add_test(tc, test_register_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(acpi_pm_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
