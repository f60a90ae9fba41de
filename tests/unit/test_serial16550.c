/*
 * test_serial16550.c: unit tests of the 16550A UART model (devices/serial16550.c).
 *
 * Drives the model through its bus callbacks as the vCPU loop does, with a tx callback that
 * records the output and a fake irq line that records every level change. Values come from
 * the PC16550D data sheet (reset values, IIR codes, trigger levels, loopback wiring) and from
 * what Linux's 8250 driver checks at probe (IIR bits 7:6, MSR 0x90 with MCR 0x1a in loopback).
 * Each test runs in its own process (CK_FORK), so a crash is a failed test.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "serial16550.h"
#include "minivmm/util.h"

#define TEST_GSI 4

static struct serial16550 s;
static uint8_t txbuf[64];
static size_t ntx;
static int levels[64];
static size_t nlevels;

static void fake_tx(void *opaque, uint8_t byte)
{
    ck_assert_ptr_eq(opaque, &ntx);
    ck_assert_uint_lt(ntx, sizeof(txbuf));
    txbuf[ntx++] = byte;
}

static void fake_set_level(void *opaque, unsigned gsi, int level)
{
    ck_assert_ptr_eq(opaque, &nlevels);
    ck_assert_uint_eq(gsi, TEST_GSI);
    ck_assert_uint_lt(nlevels, ARRAY_SIZE(levels));
    levels[nlevels++] = level;
}

static const struct irq_line_ops fake_line_ops = {.set_level = fake_set_level};

static void setup(void)
{
    struct irq_line line = {.ops = &fake_line_ops, .opaque = &nlevels, .gsi = TEST_GSI};
    ntx = 0;
    nlevels = 0;
    ck_assert_int_eq(serial16550_init(&s, &line, fake_tx, &ntx), 0);
}

static void teardown(void)
{
    serial16550_destroy(&s);
}

static uint8_t rd(unsigned off)
{
    uint8_t d = 0;
    serial16550_bus_ops.read(&s, 0, off, &d, 1);
    return d;
}

static void wr(unsigned off, uint8_t v)
{
    serial16550_bus_ops.write(&s, 1, off, &v, 1);
}

static void wr_str(const char *str)
{
    while (*str)
        wr(UART_THR, (uint8_t)*str++);
}

static void receive_str(const char *str, size_t expect_taken)
{
    ck_assert_uint_eq(serial16550_receive(&s, (const uint8_t *)str, strlen(str)), expect_taken);
}

/* The recorded irq levels as a string of '0'/'1', for compact asserts. */
static const char *level_log(void)
{
    static char buf[80];
    size_t i;
    for (i = 0; i < nlevels && i + 1 < sizeof(buf); i++)
        buf[i] = levels[i] ? '1' : '0';
    buf[i] = '\0';
    return buf;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- reset ---------------------------------------------------------------------------- */

/* PC16550D Table IV, and MSR inputs of a present host (DCD, DSR, CTS). */
static const struct {
    unsigned off;
    uint8_t val;
} reset_values[] = {
    {UART_RBR, 0x00}, {UART_IER, 0x00}, {UART_IIR, 0x01}, {UART_LCR, 0x00},
    {UART_MCR, 0x00}, {UART_LSR, 0x60}, {UART_MSR, 0xb0}, {UART_SCR, 0x00},
};

START_TEST(test_reset_value)
{
    ck_assert_uint_eq(rd(reset_values[_i].off), reset_values[_i].val);
}
END_TEST

START_TEST(test_reset_quiet)
{
    /* No irq level driven at init; host input not connected until the receiver is set up. */
    ck_assert_uint_eq(nlevels, 0);
    ck_assert_uint_eq(serial16550_rx_room(&s), 0);
    wr(UART_LCR, UART_LCR_DLAB);
    ck_assert_uint_eq(rd(UART_DLL), 12);
    ck_assert_uint_eq(rd(UART_DLM), 0);
}
END_TEST

START_TEST(test_iir_fifo_bits)
{
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    ck_assert_uint_eq(rd(UART_IIR), 0xc1);
    wr(UART_FCR, 0);
    ck_assert_uint_eq(rd(UART_IIR), 0x01);
}
END_TEST

/* Linux's probe: IER keeps exactly the low 4 bits (bit 6 would mean an XScale UART). */
START_TEST(test_ier_low_bits)
{
    wr(UART_IER, 0xff);
    ck_assert_uint_eq(rd(UART_IER), 0x0f);
    wr(UART_MCR, 0xff);
    ck_assert_uint_eq(rd(UART_MCR), 0x1f);
    wr(UART_SCR, 0x5a);
    ck_assert_uint_eq(rd(UART_SCR), 0x5a);
    wr(UART_LCR, 0x1b);
    ck_assert_uint_eq(rd(UART_LCR), 0x1b);
}
END_TEST

static const struct bus_reg expect_regs[] = {
    {0, "RBR", "THR"}, {1, "IER", "IER"}, {2, "IIR", "FCR"}, {3, "LCR", "LCR"},
    {4, "MCR", "MCR"}, {5, "LSR", NULL},  {6, "MSR", "MSR"}, {7, "SCR", "SCR"},
};

START_TEST(test_reg_names)
{
    const struct bus_reg *r = &serial16550_regs[_i], *e = &expect_regs[_i];
    ck_assert_uint_eq(serial16550_nregs, 8);
    ck_assert_uint_eq(r->off, e->off);
    ck_assert_str_eq(r->rd, e->rd);
    if (e->wr)
        ck_assert_str_eq(r->wr, e->wr);
    else
        ck_assert_ptr_null(r->wr);
    ck_assert_uint_le(strlen(r->rd), 15);
}
END_TEST

/* ---- transmit ------------------------------------------------------------------------- */

START_TEST(test_tx_in_order)
{
    wr_str("hello\n");
    ck_assert_uint_eq(ntx, 6);
    ck_assert_mem_eq(txbuf, "hello\n", 6);
    ck_assert_uint_eq(s.tx_bytes, 6);
    ck_assert_uint_eq(rd(UART_LSR), 0x60); /* THR never stays full */
}
END_TEST

START_TEST(test_tx_wide_access)
{
    uint8_t four[4] = {'A', 'B', 'C', 'D'}, two[2] = {0, 0};
    serial16550_bus_ops.write(&s, 0, UART_THR, four, 4);
    ck_assert_uint_eq(ntx, 1);
    ck_assert_uint_eq(txbuf[0], 'A');
    serial16550_bus_ops.read(&s, 0, UART_LSR, two, 2);
    ck_assert_uint_eq(two[0], 0x60);
    ck_assert_uint_eq(two[1], 0xff);
}
END_TEST

START_TEST(test_tx_null_callback)
{
    struct serial16550 u;
    uint8_t b = 'x';
    ck_assert_int_eq(serial16550_init(&u, NULL, NULL, NULL), 0);
    serial16550_bus_ops.write(&u, 0, UART_THR, &b, 1);
    ck_assert_uint_eq(u.tx_bytes, 1);
    serial16550_destroy(&u);
}
END_TEST

/* ---- divisor latch -------------------------------------------------------------------- */

START_TEST(test_dlab_round_trip)
{
    wr(UART_LCR, 0x83);
    wr(UART_DLL, 0x01);
    wr(UART_DLM, 0x02);
    ck_assert_uint_eq(rd(UART_DLL), 0x01);
    ck_assert_uint_eq(rd(UART_DLM), 0x02);
    ck_assert_uint_eq(rd(UART_LCR), 0x83);
    wr(UART_LCR, 0x03);
    ck_assert_uint_eq(rd(UART_IER), 0x00);
    wr(UART_LCR, 0x83);
    ck_assert_uint_eq(rd(UART_DLL), 0x01);
    ck_assert_uint_eq(rd(UART_DLM), 0x02);
}
END_TEST

START_TEST(test_dlab_hides_rbr_thr_ier)
{
    wr(UART_IER, 0x05);
    receive_str("r", 1);
    wr(UART_LCR, UART_LCR_DLAB);
    ck_assert_uint_eq(rd(UART_IER), 0x00); /* DLM, not IER */
    wr(UART_THR, 'x');                     /* goes to DLL */
    ck_assert_uint_eq(ntx, 0);
    ck_assert_uint_eq(rd(UART_RBR), 'x'); /* DLL, not RBR */
    ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_DR, UART_LSR_DR);
    wr(UART_LCR, 0);
    ck_assert_uint_eq(rd(UART_IER), 0x05);
    ck_assert_uint_eq(rd(UART_RBR), 'r');
    ck_assert_uint_eq(rd(UART_LSR), 0x60);
}
END_TEST

/* ---- loopback ------------------------------------------------------------------------- */

START_TEST(test_loopback_thr_to_rbr)
{
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    wr(UART_MCR, UART_MCR_LOOP);
    wr_str("abc");
    ck_assert_uint_eq(ntx, 0);
    ck_assert_uint_eq(rd(UART_LSR), 0x61);
    ck_assert_uint_eq(rd(UART_RBR), 'a');
    ck_assert_uint_eq(rd(UART_RBR), 'b');
    ck_assert_uint_eq(rd(UART_RBR), 'c');
    ck_assert_uint_eq(rd(UART_LSR), 0x60);
    wr(UART_MCR, 0);
    wr_str("d");
    ck_assert_uint_eq(ntx, 1);
    ck_assert_uint_eq(rd(UART_LSR), 0x60);
}
END_TEST

/* PC16550D MCR bit 4: CTS<-RTS, DSR<-DTR, RI<-OUT1, DCD<-OUT2. */
static const struct {
    uint8_t mcr, msr_status;
} loop_msr[] = {
    {0x10, 0x00}, {0x11, 0x20}, {0x12, 0x10}, {0x14, 0x40},
    {0x18, 0x80}, {0x1f, 0xf0}, {0x1a, 0x90}, /* 0x1a -> 0x90: Linux's autoconfig check */
};

START_TEST(test_loopback_msr_mirrors_mcr)
{
    wr(UART_MCR, loop_msr[_i].mcr);
    ck_assert_uint_eq(rd(UART_MSR) & 0xf0, loop_msr[_i].msr_status);
    ck_assert_uint_eq(rd(UART_MSR), loop_msr[_i].msr_status); /* deltas cleared by the read */
}
END_TEST

START_TEST(test_loopback_msr_deltas)
{
    wr(UART_MCR, UART_MCR_LOOP); /* CTS, DSR, DCD drop */
    ck_assert_uint_eq(rd(UART_MSR), UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
    ck_assert_uint_eq(rd(UART_MSR), 0x00);
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1); /* RI rises: no TERI */
    ck_assert_uint_eq(rd(UART_MSR), UART_MSR_RI);
    wr(UART_MCR, UART_MCR_LOOP); /* RI falls: TERI */
    ck_assert_uint_eq(rd(UART_MSR), UART_MSR_TERI);
    wr(UART_MCR, 0); /* back to the host's DCD|DSR|CTS */
    ck_assert_uint_eq(rd(UART_MSR), 0xbb);
    ck_assert_uint_eq(rd(UART_MSR), 0xb0);
}
END_TEST

START_TEST(test_loopback_holds_host_input)
{
    wr(UART_IER, UART_IER_RDI); /* connects host input, 16450 mode */
    wr(UART_MCR, UART_MCR_LOOP);
    ck_assert_uint_eq(serial16550_rx_room(&s), 0);
    receive_str("h", 0);
    ck_assert_uint_eq(rd(UART_LSR), 0x60);
    wr(UART_MCR, 0);
    ck_assert_uint_eq(serial16550_rx_room(&s), 1);
    receive_str("h", 1);
}
END_TEST

START_TEST(test_loopback_overrun)
{
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    wr(UART_MCR, UART_MCR_LOOP);
    wr_str("0123456789abcdefX"); /* 17 bytes into a 16-byte FIFO */
    ck_assert_uint_eq(s.rx_overruns, 1);
    ck_assert_uint_eq(rd(UART_LSR), 0x63); /* DR|OE|THRE|TEMT */
    ck_assert_uint_eq(rd(UART_LSR), 0x61); /* OE clears on read */
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(rd(UART_RBR), (uint8_t) "0123456789abcdef"[i]);
    ck_assert_uint_eq(rd(UART_LSR), 0x60);
}
END_TEST

/* ---- receive FIFO --------------------------------------------------------------------- */

START_TEST(test_rx_takes_at_most_room)
{
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    ck_assert_uint_eq(serial16550_rx_room(&s), 16);
    receive_str("ABCDEFGHIJKLMNOPQRST", 16);
    ck_assert_uint_eq(serial16550_rx_room(&s), 0);
    receive_str("Z", 0);
    ck_assert_uint_eq(s.rx_overruns, 0); /* receive() never overruns */
    ck_assert_uint_eq(rd(UART_LSR), 0x61);
    ck_assert_uint_eq(rd(UART_RBR), 'A');
    ck_assert_uint_eq(serial16550_rx_room(&s), 1);
    for (char c = 'B'; c <= 'P'; c++)
        ck_assert_uint_eq(rd(UART_RBR), (uint8_t)c);
    ck_assert_uint_eq(rd(UART_LSR), 0x60);
    ck_assert_uint_eq(rd(UART_RBR), 'P'); /* an empty RBR repeats the last byte */
    ck_assert_uint_eq(s.rx_bytes, 16);
    ck_assert_uint_eq(serial16550_rx_room(&s), 16);
}
END_TEST

START_TEST(test_rx_16450_mode_one_byte)
{
    wr(UART_IER, UART_IER_RDI);
    receive_str("xy", 1);
    ck_assert_uint_eq(serial16550_rx_room(&s), 0);
    ck_assert_uint_eq(rd(UART_RBR), 'x');
    receive_str("y", 1);
    ck_assert_uint_eq(rd(UART_RBR), 'y');
}
END_TEST

START_TEST(test_rx_fifo_mode_change_empties)
{
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    receive_str("hello", 5);
    wr(UART_FCR, 0);
    ck_assert_uint_eq(rd(UART_LSR), 0x60);
    ck_assert_uint_eq(serial16550_rx_room(&s), 1);
    ck_assert_uint_eq(rd(UART_IIR), 0x01);
}
END_TEST

/* ---- FCR ------------------------------------------------------------------------------ */

START_TEST(test_fcr_clear_rcvr)
{
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    wr(UART_IER, UART_IER_RDI);
    receive_str("hello", 5);
    wr(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
    ck_assert_uint_eq(rd(UART_LSR), 0x60);
    ck_assert_uint_eq(serial16550_rx_room(&s), 16);
    ck_assert_uint_eq(rd(UART_IIR), 0xc1); /* FIFOs still on, nothing pending */
}
END_TEST

/* FCR bits 7:6 -> trigger level (PC16550D Table III). Below it: character timeout (CTI). */
static const struct {
    uint8_t fcr;
    unsigned trigger;
} triggers[] = {{0x01, 1}, {0x41, 4}, {0x81, 8}, {0xc1, 14}};

START_TEST(test_fcr_trigger_levels)
{
    wr(UART_FCR, triggers[_i].fcr);
    wr(UART_IER, UART_IER_RDI);
    wr(UART_MCR, UART_MCR_OUT2);
    for (unsigned n = 1; n < triggers[_i].trigger; n++) {
        receive_str("c", 1);
        ck_assert_uint_eq(rd(UART_IIR), 0xc0 | UART_IIR_CTI);
    }
    receive_str("t", 1);
    ck_assert_uint_eq(rd(UART_IIR), 0xc0 | UART_IIR_RDI);
    ck_assert_str_eq(level_log(), "1");
    rd(UART_RBR);
    if (triggers[_i].trigger > 1)
        ck_assert_uint_eq(rd(UART_IIR), 0xc0 | UART_IIR_CTI);
    else
        ck_assert_uint_eq(rd(UART_IIR), 0xc1);
}
END_TEST

/* ---- interrupts ----------------------------------------------------------------------- */

START_TEST(test_irq_rdi)
{
    wr(UART_IER, UART_IER_RDI);
    wr(UART_MCR, UART_MCR_OUT2);
    ck_assert_str_eq(level_log(), "");
    receive_str("a", 1);
    ck_assert_str_eq(level_log(), "1");
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_RDI);
    ck_assert_uint_eq(rd(UART_RBR), 'a');
    ck_assert_str_eq(level_log(), "10");
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_NO_INT);
}
END_TEST

START_TEST(test_irq_thri_enable_and_iir_read)
{
    wr(UART_MCR, UART_MCR_OUT2);
    wr(UART_IER, UART_IER_THRI);
    ck_assert_str_eq(level_log(), "1");
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_THRI);
    ck_assert_str_eq(level_log(), "10");
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_NO_INT); /* cleared by the read */
    wr(UART_THR, 'x');                                /* THR empties again: THRE again */
    ck_assert_str_eq(level_log(), "101");
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_THRI);
    ck_assert_str_eq(level_log(), "1010");
    /* Linux's UART_BUG_THRE probe: IER 0 then THRI again re-raises THRE. */
    wr(UART_IER, 0);
    wr(UART_IER, UART_IER_THRI);
    ck_assert_str_eq(level_log(), "10101");
    wr(UART_IER, UART_IER_THRI); /* not newly enabled: no change */
    ck_assert_str_eq(level_log(), "10101");
    wr(UART_IER, 0);
    ck_assert_str_eq(level_log(), "101010");
}
END_TEST

START_TEST(test_irq_thr_write_pulses)
{
    wr(UART_MCR, UART_MCR_OUT2);
    wr(UART_IER, UART_IER_THRI);
    wr_str("ab"); /* each write clears THRE, then THR is empty again: a new edge each */
    ck_assert_str_eq(level_log(), "10101");
    ck_assert_uint_eq(ntx, 2);
}
END_TEST

START_TEST(test_irq_out2_gating)
{
    wr(UART_IER, UART_IER_THRI);
    ck_assert_str_eq(level_log(), "");
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_THRI); /* pending, but the pin is gated */
    wr(UART_IER, 0);
    wr(UART_IER, UART_IER_THRI);
    wr(UART_MCR, UART_MCR_OUT2);
    ck_assert_str_eq(level_log(), "1");
    wr(UART_MCR, 0);
    ck_assert_str_eq(level_log(), "10");
    wr(UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP); /* loopback forces OUT2 inactive */
    ck_assert_str_eq(level_log(), "10");
    wr(UART_MCR, UART_MCR_OUT2);
    ck_assert_str_eq(level_log(), "101");
}
END_TEST

/* RLS > RDA > THRE > MSR (PC16550D Table V). */
START_TEST(test_irq_priority)
{
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    wr(UART_IER, 0x0f);
    wr(UART_MCR, UART_MCR_LOOP); /* sets MSR deltas */
    wr_str("0123456789abcdefX"); /* overrun: OE */
    ck_assert_uint_eq(rd(UART_IIR), 0xc0 | UART_IIR_RLSI);
    rd(UART_LSR);
    ck_assert_uint_eq(rd(UART_IIR), 0xc0 | UART_IIR_RDI);
    for (int i = 0; i < 16; i++)
        rd(UART_RBR);
    ck_assert_uint_eq(rd(UART_IIR), 0xc0 | UART_IIR_THRI);
    ck_assert_uint_eq(rd(UART_IIR), 0xc0 | UART_IIR_MSI);
    rd(UART_MSR);
    ck_assert_uint_eq(rd(UART_IIR), 0xc0 | UART_IIR_NO_INT);
    ck_assert_str_eq(level_log(), ""); /* loopback: the pin never rose */
}
END_TEST

START_TEST(test_irq_disabled_sources)
{
    wr(UART_FCR, UART_FCR_ENABLE_FIFO); /* connects host input ... */
    wr(UART_FCR, 0);                    /* ... which stays connected in 16450 mode */
    wr(UART_MCR, UART_MCR_OUT2);
    receive_str("a", 1);
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_NO_INT);
    ck_assert_str_eq(level_log(), "");
    wr(UART_IER, UART_IER_RDI);
    ck_assert_str_eq(level_log(), "1");
    wr(UART_FCR, UART_FCR_ENABLE_FIFO); /* mode change empties the RBR */
    ck_assert_str_eq(level_log(), "10");
}
END_TEST

START_TEST(test_rx_held_until_receiver_set_up)
{
    /* Driver set-up clears the FIFOs, so host input waits until the receiver is set up. */
    receive_str("a", 0);
    ck_assert_uint_eq(serial16550_wait_room(&s, 0), 0);
    wr(UART_LCR, 0x03);
    wr(UART_MCR, UART_MCR_OUT2);
    ck_assert_uint_eq(serial16550_rx_room(&s), 0);
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    ck_assert_uint_eq(serial16550_rx_room(&s), 16);
    receive_str("ab", 2);
    ck_assert_uint_eq(rd(UART_RBR), 'a');
}
END_TEST

START_TEST(test_rx_connected_by_rdi)
{
    wr(UART_IER, UART_IER_THRI);
    ck_assert_uint_eq(serial16550_rx_room(&s), 0);
    wr(UART_IER, UART_IER_RDI);
    ck_assert_uint_eq(serial16550_rx_room(&s), 1);
    wr(UART_IER, 0); /* stays connected */
    ck_assert_uint_eq(serial16550_rx_room(&s), 1);
}
END_TEST

static void *connect_later(void *arg)
{
    (void)arg;
    usleep(20000);
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    return NULL;
}

START_TEST(test_wait_room_woken_by_connect)
{
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, connect_later, NULL), 0);
    double t0 = now_s();
    ck_assert_uint_eq(serial16550_wait_room(&s, 5000), 16);
    ck_assert_double_lt(now_s() - t0, 4.0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
}
END_TEST

/* ---- wait_room ------------------------------------------------------------------------ */

START_TEST(test_wait_room_immediate)
{
    wr(UART_IER, UART_IER_RDI);
    ck_assert_uint_eq(serial16550_wait_room(&s, 0), 1);
    ck_assert_uint_eq(serial16550_wait_room(&s, 1000), 1);
    ck_assert_uint_eq(serial16550_wait_room(&s, -1), 1);
}
END_TEST

START_TEST(test_wait_room_timeout)
{
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    receive_str("0123456789abcdef", 16);
    ck_assert_uint_eq(serial16550_wait_room(&s, 0), 0);
    double t0 = now_s();
    ck_assert_uint_eq(serial16550_wait_room(&s, 50), 0);
    double dt = now_s() - t0;
    ck_assert_double_ge(dt, 0.045);
    ck_assert_double_lt(dt, 2.0);
}
END_TEST

struct waiter {
    size_t room;
    double waited;
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    double t0 = now_s();
    w->room = serial16550_wait_room(&s, 5000);
    w->waited = now_s() - t0;
    return NULL;
}

START_TEST(test_wait_room_woken_by_read)
{
    pthread_t t;
    struct waiter w = {0, 0};
    wr(UART_IER, UART_IER_RDI);
    receive_str("q", 1);
    ck_assert_int_eq(pthread_create(&t, NULL, wait_thread, &w), 0);
    usleep(20000);
    ck_assert_uint_eq(rd(UART_RBR), 'q');
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_uint_eq(w.room, 1);
    ck_assert_double_lt(w.waited, 4.0);
}
END_TEST

START_TEST(test_wait_room_woken_by_fcr_clear)
{
    pthread_t t;
    struct waiter w = {0, 0};
    wr(UART_FCR, UART_FCR_ENABLE_FIFO);
    receive_str("0123456789abcdef", 16);
    ck_assert_int_eq(pthread_create(&t, NULL, wait_thread, &w), 0);
    usleep(20000);
    wr(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_uint_eq(w.room, 16);
    ck_assert_double_lt(w.waited, 4.0);
}
END_TEST

static Suite *serial_suite(void)
{
    Suite *su = suite_create("serial16550");
    TCase *tc;

#define TC(name)                                                                                   \
    tc = tcase_create(name);                                                                       \
    tcase_add_checked_fixture(tc, setup, teardown);                                                \
    suite_add_tcase(su, tc)

    TC("reset_values");
    tcase_add_loop_test(tc, test_reset_value, 0, ARRAY_SIZE(reset_values));
    tcase_add_test(tc, test_reset_quiet);
    tcase_add_test(tc, test_iir_fifo_bits);
    tcase_add_test(tc, test_ier_low_bits);
    tcase_add_loop_test(tc, test_reg_names, 0, ARRAY_SIZE(expect_regs));

    TC("transmit_calls_tx_in_order");
    tcase_add_test(tc, test_tx_in_order);
    tcase_add_test(tc, test_tx_wide_access);
    tcase_add_test(tc, test_tx_null_callback);

    TC("dlab_selects_divisor_latch");
    tcase_add_test(tc, test_dlab_round_trip);
    tcase_add_test(tc, test_dlab_hides_rbr_thr_ier);

    TC("loopback_wires_tx_to_rx");
    tcase_add_test(tc, test_loopback_thr_to_rbr);
    tcase_add_loop_test(tc, test_loopback_msr_mirrors_mcr, 0,
                        ARRAY_SIZE(loop_msr));
    tcase_add_test(tc, test_loopback_msr_deltas);
    tcase_add_test(tc, test_loopback_holds_host_input);
    tcase_add_test(tc, test_loopback_overrun);

    TC("rx_fifo_takes_only_room");
    tcase_add_test(tc, test_rx_takes_at_most_room);
    tcase_add_test(tc, test_rx_16450_mode_one_byte);
    tcase_add_test(tc, test_rx_held_until_receiver_set_up);
    tcase_add_test(tc, test_rx_connected_by_rdi);
    tcase_add_test(tc, test_rx_fifo_mode_change_empties);

    TC("fcr_clears_and_sets_trigger");
    tcase_add_test(tc, test_fcr_clear_rcvr);
    tcase_add_loop_test(tc, test_fcr_trigger_levels, 0, ARRAY_SIZE(triggers));

    TC("irq_line_follows_pending_sources");
    tcase_add_test(tc, test_irq_rdi);
    tcase_add_test(tc, test_irq_thri_enable_and_iir_read);
    tcase_add_test(tc, test_irq_thr_write_pulses);
    tcase_add_test(tc, test_irq_out2_gating);
    tcase_add_test(tc, test_irq_priority);
    tcase_add_test(tc, test_irq_disabled_sources);

    TC("wait_room_blocks_until_room");
    /* Real waits of 20-50 ms; a wake-up that never comes costs the 5 s wait_room timeout. */
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_wait_room_immediate);
    tcase_add_test(tc, test_wait_room_woken_by_connect);
    tcase_add_test(tc, test_wait_room_timeout);
    tcase_add_test(tc, test_wait_room_woken_by_read);
    tcase_add_test(tc, test_wait_room_woken_by_fcr_clear);
#undef TC
    return su;
}

int main(void)
{
    SRunner *sr = srunner_create(serial_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
