/*
 * test_i8042.c: unit tests of the PS/2 controller model (devices/i8042.c).
 *
 * Drives the data window (0x60) and the status/command window (0x64) as the vCPU loop does,
 * with the command sequences of Linux 6.1's i8042 probe (i8042_controller_check, _selftest,
 * _init, i8042_check_aux) and of its keyboard-controller reboot (kb_wait, then 0xfe), and
 * counts on_reset calls. CK_FORK on.
 */
#include <check.h>

#include "i8042.h"
#include "minivmm/util.h"

static struct i8042 kbc;
static unsigned nresets;

static void on_reset(void *opaque)
{
    ck_assert_ptr_eq(opaque, &nresets);
    nresets++;
}

static void setup(void)
{
    nresets = 0;
    ck_assert_int_eq(i8042_init(&kbc, on_reset, &nresets), 0);
}

static void teardown(void)
{
    i8042_destroy(&kbc);
}

static uint8_t status(void)
{
    uint8_t v = 0;
    i8042_bus_ops_status.read(&kbc, 0, 0, &v, 1);
    return v;
}

static void cmd(uint8_t c)
{
    i8042_bus_ops_status.write(&kbc, 0, 0, &c, 1);
}

static void data_wr(uint8_t v)
{
    i8042_bus_ops_data.write(&kbc, 0, 0, &v, 1);
}

static uint8_t data_rd(void)
{
    uint8_t v = 0;
    i8042_bus_ops_data.read(&kbc, 0, 0, &v, 1);
    return v;
}

/* A command with an answer: it is in the output buffer at once. */
static uint8_t ask(uint8_t c)
{
    cmd(c);
    ck_assert_uint_eq(status() & I8042_STR_OBF, I8042_STR_OBF);
    uint8_t v = data_rd();
    ck_assert_uint_eq(status() & I8042_STR_OBF, 0);
    return v;
}

/* Idle: both buffers empty (never all-ones, which Linux reads as "no controller"), system
 * flag set. */
START_TEST(idle_status)
{
    uint8_t s = status();
    ck_assert_uint_eq(s & (I8042_STR_OBF | I8042_STR_IBF), 0);
    ck_assert_uint_eq(s & I8042_STR_SYSFLAG, I8042_STR_SYSFLAG);
    ck_assert_uint_ne(s, 0xff);
}
END_TEST

static const struct {
    uint8_t cmd, answer;
} answers[] = {
    {I8042_CMD_SELF_TEST, 0x55},
    {I8042_CMD_KBD_TEST, 0x00},
    {I8042_CMD_AUX_TEST, 0x00},
    {I8042_CMD_READ_CTR, I8042_CTR_KBDINT | I8042_CTR_SYSFLAG | I8042_CTR_XLATE},
    {I8042_CMD_READ_OUTP, 0x03},
};

START_TEST(command_answers)
{
    ck_assert_uint_eq(ask(answers[_i].cmd), answers[_i].answer);
    ck_assert_uint_eq(status() & I8042_STR_CMDDAT, I8042_STR_CMDDAT);
    ck_assert_uint_eq(nresets, 0);
}
END_TEST

START_TEST(write_ctr)
{
    cmd(I8042_CMD_WRITE_CTR);
    ck_assert_uint_eq(status() & (I8042_STR_OBF | I8042_STR_IBF), 0);
    data_wr(0x47);
    ck_assert_uint_eq(status() & I8042_STR_CMDDAT, 0);
    ck_assert_uint_eq(ask(I8042_CMD_READ_CTR), 0x47);
    /* Linux's i8042_controller_init reads the CTR twice and wants the same value. */
    ck_assert_uint_eq(ask(I8042_CMD_READ_CTR), 0x47);
    /* The system flag in the status follows the CTR. */
    ck_assert_uint_eq(status() & I8042_STR_SYSFLAG, I8042_STR_SYSFLAG);
    cmd(I8042_CMD_WRITE_CTR);
    data_wr(0x00);
    ck_assert_uint_eq(status() & I8042_STR_SYSFLAG, 0);
}
END_TEST

/* Enable/disable commands flip the CTR's disable bits (Linux's "bit assignment test"). */
START_TEST(port_enable_bits)
{
    cmd(I8042_CMD_AUX_DISABLE);
    ck_assert_uint_eq(ask(I8042_CMD_READ_CTR) & I8042_CTR_AUXDIS, I8042_CTR_AUXDIS);
    cmd(I8042_CMD_AUX_ENABLE);
    ck_assert_uint_eq(ask(I8042_CMD_READ_CTR) & I8042_CTR_AUXDIS, 0);
    cmd(I8042_CMD_KBD_DISABLE);
    ck_assert_uint_eq(ask(I8042_CMD_READ_CTR) & I8042_CTR_KBDDIS, I8042_CTR_KBDDIS);
    cmd(I8042_CMD_KBD_ENABLE);
    ck_assert_uint_eq(ask(I8042_CMD_READ_CTR) & I8042_CTR_KBDDIS, 0);
}
END_TEST

/* 0xd3 loops a byte back as aux data (AUXDATA set), 0xd2 as keyboard data. */
START_TEST(loopback)
{
    cmd(I8042_CMD_AUX_LOOP);
    data_wr(0x5a);
    ck_assert_uint_eq(status() & (I8042_STR_OBF | I8042_STR_AUXDATA),
                      I8042_STR_OBF | I8042_STR_AUXDATA);
    ck_assert_uint_eq(data_rd(), 0x5a);
    cmd(I8042_CMD_KBD_LOOP);
    data_wr(0xa5);
    ck_assert_uint_eq(status() & (I8042_STR_OBF | I8042_STR_AUXDATA), I8042_STR_OBF);
    ck_assert_uint_eq(data_rd(), 0xa5);
}
END_TEST

/* No keyboard and no mouse: bytes sent to them get no answer. */
START_TEST(no_devices)
{
    data_wr(0xff); /* keyboard reset */
    ck_assert_uint_eq(status() & I8042_STR_OBF, 0);
    cmd(I8042_CMD_AUX_SEND);
    data_wr(0xf2); /* mouse get ID */
    ck_assert_uint_eq(status() & I8042_STR_OBF, 0);
    ck_assert_uint_eq(nresets, 0);
}
END_TEST

/* Linux's keyboard-controller reboot: kb_wait (status until IBF clear), then 0xfe. */
START_TEST(reboot)
{
    unsigned polls = 0;
    while (status() & I8042_STR_IBF)
        ck_assert_uint_lt(++polls, 2);
    cmd(I8042_CMD_PULSE_RESET);
    ck_assert_uint_eq(nresets, 1);
    cmd(0xf0); /* pulse lines 0-3: line 0 is reset */
    ck_assert_uint_eq(nresets, 2);
    cmd(0xff); /* pulse nothing */
    ck_assert_uint_eq(nresets, 2);
    cmd(I8042_CMD_WRITE_OUTP);
    data_wr(0x02); /* output port bit 0 low: reset */
    ck_assert_uint_eq(nresets, 3);
    ck_assert_uint_eq(kbc.resets, 3);
}
END_TEST

START_TEST(reset_without_callback)
{
    struct i8042 k;
    ck_assert_int_eq(i8042_init(&k, NULL, NULL), 0);
    uint8_t c = I8042_CMD_PULSE_RESET;
    i8042_bus_ops_status.write(&k, 0, 0, &c, 1);
    ck_assert_uint_eq(k.resets, 1);
    i8042_destroy(&k);
}
END_TEST

/* Unknown commands are ignored; odd widths and offsets neither crash nor act. */
START_TEST(odd_accesses)
{
    cmd(0x01);
    ck_assert_uint_eq(status() & I8042_STR_OBF, 0);
    uint8_t w[4] = {I8042_CMD_SELF_TEST, 0, 0, 0};
    i8042_bus_ops_status.write(&kbc, 0, 1, w, 1); /* outside the 1-port window */
    ck_assert_uint_eq(status() & I8042_STR_OBF, 0);
    i8042_bus_ops_status.write(&kbc, 0, 0, w, 4); /* wide: its first byte */
    i8042_bus_ops_data.read(&kbc, 0, 0, w, 4);
    ck_assert_uint_eq(w[0], 0x55);
    ck_assert_uint_eq(w[1], 0xff);
    i8042_bus_ops_status.write(&kbc, 0, 0, w, 0);
    ck_assert_uint_eq(data_rd(), 0x55); /* an empty buffer repeats its last byte */
    ck_assert_uint_eq(nresets, 0);
}
END_TEST

/* Linux 6.1's probe, in order, answered without a single timeout. */
START_TEST(linux_probe)
{
    /* i8042_controller_check / i8042_flush: status not 0xff, nothing to flush. */
    ck_assert_uint_ne(status(), 0xff);
    ck_assert_uint_eq(status() & I8042_STR_OBF, 0);
    ck_assert_uint_eq(ask(I8042_CMD_SELF_TEST), I8042_SELF_TEST_OK);
    uint8_t ctr = ask(I8042_CMD_READ_CTR);
    ck_assert_uint_eq(ask(I8042_CMD_READ_CTR), ctr);
    ctr |= I8042_CTR_KBDDIS;
    ctr &= (uint8_t)~I8042_CTR_KBDINT;
    cmd(I8042_CMD_WRITE_CTR);
    data_wr(ctr);
    /* i8042_check_aux: loopback 0x5a, then the bit-assignment test. */
    cmd(I8042_CMD_AUX_LOOP);
    data_wr(0x5a);
    ck_assert_uint_eq(data_rd(), 0x5a);
    cmd(I8042_CMD_AUX_DISABLE);
    ck_assert_uint_ne(ask(I8042_CMD_READ_CTR) & I8042_CTR_AUXDIS, 0);
    cmd(I8042_CMD_AUX_ENABLE);
    ck_assert_uint_eq(ask(I8042_CMD_READ_CTR) & I8042_CTR_AUXDIS, 0);
    ck_assert_uint_eq(ask(I8042_CMD_KBD_TEST), I8042_PORT_TEST_OK);
    ck_assert_uint_eq(nresets, 0);
}
END_TEST

static Suite *i8042_suite(void)
{
    Suite *s = suite_create("i8042");
    TCase *tc = tcase_create("controller");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, idle_status);
    tcase_add_loop_test(tc, command_answers, 0, ARRAY_SIZE(answers));
    tcase_add_test(tc, write_ctr);
    tcase_add_test(tc, port_enable_bits);
    tcase_add_test(tc, loopback);
    tcase_add_test(tc, no_devices);
    tcase_add_test(tc, odd_accesses);
    tcase_add_test(tc, linux_probe);
    suite_add_tcase(s, tc);
    tc = tcase_create("reset");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, reboot);
    tcase_add_test(tc, reset_without_callback);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(i8042_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
