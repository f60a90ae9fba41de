/*
 * bench.c: the guest half of `minivmm bench exits`: loops of VM exits, timed with the TSC.
 *
 * Each loop does bench.iters round trips in up to 32 timed batches and prints one line that
 * the host harness parses (fields in this order; ns figures are for people):
 *
 *   bench: mode=pio iters=4096 dev=1 ioeventfd=0 tsc_khz=2600000 tsc_total=... \
 *          median_tsc_per_iter=... batches=32 ns_per_iter=7612.3 ns_median=7590.0 ns_best=...
 *
 * ns_per_iter is the mean over all round trips, ns_median the median of the batches' means
 * (what `minivmm bench exits` reports: a shared host stalls some batches, not all), ns_best
 * the fastest batch.
 *
 * Modes (bench.mode is a sum of their bits):
 *   1 pio             outl to the bench device's EXIT port: an exit to the VMM and back
 *   2 mmio            32-bit store to its EXIT register in the MMIO hole: the same, as MMIO
 *   4 pio-ioeventfd   outl to its KICK port: with --bench-device=ioeventfd KVM signals an
 *                     eventfd and re-enters the guest without leaving the kernel
 *   8 mmio-ioeventfd  the same with a store to the KICK register
 *  16 timer           arm the LAPIC TSC-deadline timer bench.delta_us ahead, `sti; hlt`;
 *                     a round trip's figure is its lateness, TSC at the interrupt handler -
 *                     deadline, so it includes the guest's own interrupt entry (vectors.S,
 *                     ~25 emulated instructions here); min_ns/max_ns of single wake-ups follow
 *
 * Cost model (docs/host-notes.md): every CPL0 instruction is emulated (~0.8 us), so the
 * exit loops are unrolled 8 times and a round trip carries 1/8 of the loop's dec/jnz; the
 * same guest runs under every VMM being compared, so the comparison is fair even though the
 * absolute figure includes that. iters is rounded up to whole batches of a multiple of 8.
 *
 * The device (abi.h MINIVMM_BENCH_*) exists only under `minivmm run --bench-device`; without
 * it the loops still run (the accesses exit, unclaimed) and the line says dev=0, and the
 * ioeventfd modes say ioeventfd=0 unless the VMM registered the eventfds: the harness checks
 * both. The loops work under QEMU too (there the accesses hit nothing).
 */
#include "bench.h"

#include <minivmm/abi.h>
#include <minivmm/memmap.h>

#include "config.h"
#include "kernel.h"
#include "lapic.h"
#include "traps.h"
#include "x86.h"

#define BENCH_UNROLL 8
#define BENCH_DEFAULT_MODES 31
#define BENCH_DEFAULT_ITERS 1000
#define BENCH_DEFAULT_DELTA_US 20
#define BENCH_BATCHES 32
#define BENCH_MAX_ITERS 1000000000ull

/* A local-APIC vector of its own, as Linux's LOCAL_TIMER_VECTOR (0xec): above the ISA IRQs
 * (config.h: IRQ_VECTOR_BASE + 0..23), below the spurious vector. */
#define BENCH_TIMER_VECTOR 0xec

#define MSR_TSC_DEADLINE 0x6e0
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_MASKED 0x10000u
#define APIC_LVT_TSC_DEADLINE (2u << 17) /* SDM 11.5.4.1: timer mode bits 18:17 = 10b */
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ull
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_TIMING_LEAF 0x40000010 /* EAX = TSC kHz (minivmm, QEMU's vmware-cpuid-freq) */

enum { MODE_PIO, MODE_MMIO, MODE_PIO_IOEVENTFD, MODE_MMIO_IOEVENTFD, MODE_TIMER, NR_MODES };

static const char *const mode_names[NR_MODES] = {"pio", "mmio", "pio-ioeventfd", "mmio-ioeventfd",
                                                 "timer"};

struct bench_ctx {
    uint64_t iters;
    uint64_t tsc_khz; /* 0 when the VMM does not say */
    bool dev;         /* the bench device answered its ID */
    bool ioeventfd;   /* its KICK registers are ioeventfds */
};

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;

    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* blocks * BENCH_UNROLL 32-bit OUTs to `port`. */
static void loop_pio(uint16_t port, uint64_t blocks)
{
    __asm__ volatile("1:\n\t"
                     ".rept 8\n\t"
                     "outl %%eax, %%dx\n\t"
                     ".endr\n\t"
                     "dec %0\n\t"
                     "jnz 1b"
                     : "+r"(blocks)
                     : "a"(1u), "d"(port)
                     : "memory", "cc");
}

/* blocks * BENCH_UNROLL 32-bit stores to guest-physical `addr` (identity-mapped by boot.S). */
static void loop_mmio(uint64_t addr, uint64_t blocks)
{
    __asm__ volatile("1:\n\t"
                     ".rept 8\n\t"
                     "movl %%eax, (%1)\n\t"
                     ".endr\n\t"
                     "dec %0\n\t"
                     "jnz 1b"
                     : "+r"(blocks)
                     : "r"(addr), "a"(1u)
                     : "memory", "cc");
}

static uint64_t tsc_khz_from_cpuid(void)
{
    uint32_t a, b, c, d;

    cpuid(0x40000000, &a, &b, &c, &d);
    if (a < CPUID_TIMING_LEAF || a >= 0x40000100)
        return 0;
    cpuid(CPUID_TIMING_LEAF, &a, &b, &c, &d);
    return a;
}

static uint64_t tsc_to_ns(uint64_t tsc, uint64_t khz)
{
    if (!khz)
        return 0;
    return tsc / khz * 1000000 + tsc % khz * 1000000 / khz;
}

/* "1234.5": ns for tsc/iters, one decimal. */
static void print_ns(const char *key, uint64_t tsc, uint64_t iters, uint64_t khz)
{
    uint64_t ns10 = tsc_to_ns(tsc, khz) * 10 / iters;

    kprintf(" %s=%llu.%llu", key, (unsigned long long)(ns10 / 10), (unsigned long long)(ns10 % 10));
}

/* One batch of n round trips in an exit mode (n a multiple of BENCH_UNROLL): TSC spent. */
static uint64_t batch_exits(const struct bench_ctx *b, int mode, uint64_t n)
{
    uint64_t blocks = n / BENCH_UNROLL, t0;

    (void)b;
    t0 = rdtsc();
    switch (mode) {
    case MODE_PIO:
        loop_pio(MINIVMM_BENCH_PORT + MINIVMM_BENCH_EXIT, blocks);
        break;
    case MODE_MMIO:
        loop_mmio(MEMMAP_BENCH_BASE + MINIVMM_BENCH_EXIT, blocks);
        break;
    case MODE_PIO_IOEVENTFD:
        loop_pio(MINIVMM_BENCH_PORT + MINIVMM_BENCH_KICK, blocks);
        break;
    default:
        loop_mmio(MEMMAP_BENCH_BASE + MINIVMM_BENCH_KICK, blocks);
        break;
    }
    return rdtsc() - t0;
}

static volatile uint64_t wake_tsc, cur_deadline;
static volatile int timer_armed;
static uint64_t lapic_base, timer_delta, timer_backstop, wake_min, wake_max, backstop_wakes;

/* How long a halted loop may wait after its wake-up was taken early (see below). */
#define TIMER_BACKSTOP_US 10000

/*
 * First thing on the timer vector: the time, then the EOI (the LAPIC is in KVM).
 * The wait below relies on sti's interrupt shadow covering hlt. Where that shadow is lost
 * (QEMU 7.2's emulated SVM drops it across a #VMEXIT/VMRUN of this guest, as tools/kvmbox
 * showed: 1 hang in ~30 runs), the interrupt is taken just before hlt and hlt then sleeps
 * for good. So the ISR arms a backstop deadline TIMER_BACKSTOP_US later; the next
 * iteration's deadline replaces it, timer_stop() clears it, and an interrupt before the
 * current deadline (the old backstop racing a new arm) is not a wake-up.
 */
static void bench_timer_isr(void)
{
    uint64_t t = rdtsc();

    if (timer_armed && t >= cur_deadline) {
        timer_armed = 0;
        wake_tsc = t;
        wrmsr(MSR_TSC_DEADLINE, t + timer_backstop);
    }
    lapic_eoi();
}

/* n timer wake-ups: the sum of their lateness (handler's TSC - deadline). */
static uint64_t batch_timer(const struct bench_ctx *b, int mode, uint64_t n)
{
    uint64_t sum = 0;

    (void)b;
    (void)mode;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t deadline, late;

        wake_tsc = 0;
        deadline = rdtsc() + timer_delta;
        cur_deadline = deadline;
        timer_armed = 1;
        wrmsr(MSR_TSC_DEADLINE, deadline);
        /* sti's shadow covers hlt, so the interrupt cannot slip in between (x86.h). */
        while (!wake_tsc) {
            safe_halt();
            local_irq_disable();
        }
        /* Woken this late, only by the backstop: the wake-up came before hlt. */
        if (rdtsc() - wake_tsc >= timer_backstop)
            backstop_wakes++;
        /* The LAPIC fires at or after the deadline; clamp in case of a skewed TSC. */
        late = (int64_t)(wake_tsc - deadline) > 0 ? wake_tsc - deadline : 0;
        sum += late;
        if (late < wake_min)
            wake_min = late;
        if (late > wake_max)
            wake_max = late;
    }
    return sum;
}

static int timer_start(const struct bench_ctx *b, uint64_t delta_us)
{
    uint32_t a, bx, c, d;

    cpuid(1, &a, &bx, &c, &d);
    if (!(c & CPUID_1_ECX_TSC_DEADLINE) || !b->tsc_khz) {
        kprintf("bench: mode=timer: %s\n", b->tsc_khz ? "no TSC-deadline timer (CPUID 1 ECX[24])"
                                                      : "TSC rate unknown (no CPUID 0x40000010)");
        return -1;
    }
    lapic_base = rdmsr(MSR_APIC_BASE) & APIC_BASE_ADDR_MASK;
    timer_delta = b->tsc_khz * delta_us / 1000;
    timer_backstop = b->tsc_khz * TIMER_BACKSTOP_US / 1000;
    wake_min = ~0ull;
    wake_max = 0;
    backstop_wakes = 0;
    irq_set_handler(BENCH_TIMER_VECTOR, bench_timer_isr);
    /* SDM 11.5.4.1: select TSC-deadline mode in the LVT before arming IA32_TSC_DEADLINE. */
    mmio_write32(lapic_base + APIC_LVT_TIMER, BENCH_TIMER_VECTOR | APIC_LVT_TSC_DEADLINE);
    return 0;
}

static void timer_stop(void)
{
    timer_armed = 0;
    wrmsr(MSR_TSC_DEADLINE, 0);
    mmio_write32(lapic_base + APIC_LVT_TIMER, APIC_LVT_MASKED);
    irq_set_handler(BENCH_TIMER_VECTOR, NULL);
}

static void sort_u64(uint64_t *v, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {
        uint64_t x = v[i];
        unsigned j = i;

        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/*
 * Runs `iters` round trips as up to BENCH_BATCHES equal batches of a multiple of `unit`
 * (iters is rounded up to whole batches) and prints the result line: the mean over all, and
 * the median and the best of the batches' means. The median resists what a shared host does
 * to a run (a preempted vCPU thread stalls one batch, not all of them); the guest's own cost
 * of timing a batch is one rdtsc, under 0.1% of a batch.
 */
static int measure(const struct bench_ctx *b, int mode, unsigned unit,
                   uint64_t (*batch)(const struct bench_ctx *, int, uint64_t))
{
    uint64_t t[BENCH_BATCHES], total = 0, per, iters;
    unsigned nb = BENCH_BATCHES;

    if (b->iters / unit < nb)
        nb = b->iters / unit ? (unsigned)(b->iters / unit) : 1;
    per = (b->iters + nb - 1) / nb;
    per = (per + unit - 1) / unit * unit;
    iters = per * nb;
    for (unsigned i = 0; i < nb; i++) {
        t[i] = batch(b, mode, per);
        total += t[i];
    }
    sort_u64(t, nb);
    kprintf("bench: mode=%s iters=%llu dev=%d ioeventfd=%d tsc_khz=%llu tsc_total=%llu "
            "median_tsc_per_iter=%llu batches=%u",
            mode_names[mode], (unsigned long long)iters, b->dev, b->ioeventfd,
            (unsigned long long)b->tsc_khz, (unsigned long long)total,
            (unsigned long long)((t[(nb - 1) / 2] + t[nb / 2]) / 2 / per), nb);
    print_ns("ns_per_iter", total, iters, b->tsc_khz);
    print_ns("ns_median", (t[(nb - 1) / 2] + t[nb / 2]) / 2, per, b->tsc_khz);
    print_ns("ns_best", t[0], per, b->tsc_khz);
    return MINIVMM_STATUS_OK;
}

int cmd_bench_exits(const struct cmdline *cl)
{
    uint64_t modes = cmdline_param_u64(cl, "bench.mode", BENCH_DEFAULT_MODES);
    uint64_t delta_us = cmdline_param_u64(cl, "bench.delta_us", BENCH_DEFAULT_DELTA_US);
    struct bench_ctx b = {.iters = cmdline_param_u64(cl, "bench.iters", BENCH_DEFAULT_ITERS)};
    int status = MINIVMM_STATUS_OK;

    if (modes == 0 || modes >= (1u << NR_MODES) || b.iters == 0 || b.iters > BENCH_MAX_ITERS ||
        delta_us > 1000000) {
        kprintf("bench: bench.mode must be 1..%u, bench.iters 1..%llu, bench.delta_us at most "
                "1000000\n",
                (1u << NR_MODES) - 1, (unsigned long long)BENCH_MAX_ITERS);
        return MINIVMM_STATUS_FAIL;
    }
    b.tsc_khz = tsc_khz_from_cpuid();
    b.dev = inl(MINIVMM_BENCH_PORT + MINIVMM_BENCH_EXIT) == MINIVMM_BENCH_ID;
    b.ioeventfd =
        b.dev && (inl(MINIVMM_BENCH_PORT + MINIVMM_BENCH_KICK) & MINIVMM_BENCH_F_IOEVENTFD);
    if (!b.dev)
        kprintf("bench: no bench device (minivmm run --bench-device): accesses exit unclaimed\n");
    if (!b.tsc_khz)
        kprintf("bench: TSC rate unknown (no CPUID 0x40000010): ns figures are 0\n");
    for (int mode = 0; mode < NR_MODES; mode++) {
        if (!(modes & (1u << mode)))
            continue;
        if (mode != MODE_TIMER) {
            measure(&b, mode, BENCH_UNROLL, batch_exits);
            kprintf("\n");
            continue;
        }
        if (timer_start(&b, delta_us)) {
            status = MINIVMM_STATUS_FAIL;
            continue;
        }
        measure(&b, mode, 1, batch_timer);
        timer_stop();
        kprintf(" delta_us=%llu min_ns=%llu max_ns=%llu backstop_wakes=%llu\n",
                (unsigned long long)delta_us,
                (unsigned long long)tsc_to_ns(wake_min, b.tsc_khz),
                (unsigned long long)tsc_to_ns(wake_max, b.tsc_khz),
                (unsigned long long)backstop_wakes);
    }
    return status;
}
