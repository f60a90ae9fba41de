/*
 * benchlinux.c: `minivmm bench boot --linux`: how long a Linux guest takes to boot under
 * minivmm and under QEMU microvm, the same kernel, initramfs and command line.
 *
 * Each run is one process, spawned with the console on a pipe: the first time is when the
 * console holds the initramfs's first line (the kernel booted and ran /init), the second
 * when the process is reaped (the initramfs powered off: ACPI S5, which ends both VMMs with
 * status 0). Runs are interleaved, the order rotated each round, after one untimed warm-up
 * round. Both VMMs get -m 512M, the same vCPU count and "console=ttyS0 quiet"; QEMU runs
 * `-M microvm` with its ACPI tables on (acpi=on), KVM, `-cpu host`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "benchlinux.h"

#define LINUX_TIMEOUT_MS 120000
#define LINUX_CMDLINE "console=ttyS0 quiet"

enum { LV_MINI, LV_QEMU, LV_N };
static const char *const lv_names[LV_N] = {"minivmm", "QEMU microvm"};

static void row(const char *name, const double *first, const double *exit_, unsigned long n,
                double ref_first, double ref_exit)
{
    char cb[4][32];
    double f = bench_median(first, n), e = bench_median(exit_, n);
    printf("%-14s %12s %12s %12s %12s\n", name, bench_cell(cb[0], 32, f, 1, false, ""),
           bench_cell(cb[1], 32, e, 1, false, ""),
           bench_cell(cb[2], 32, f / ref_first, 2, false, "x"),
           bench_cell(cb[3], 32, e / ref_exit, 2, false, "x"));
}

int benchlinux_run(const struct bench_paths *p, const struct benchlinux_opts *o)
{
    char cpus[16];
    int nv = o->qemu ? LV_N : 1, status = 1;
    struct bench_child *c = calloc(1, sizeof(*c));
    double *first = malloc(sizeof(double) * LV_N * o->runs);
    double *done = malloc(sizeof(double) * LV_N * o->runs);

    if (!c || !first || !done)
        goto out;
    snprintf(cpus, sizeof(cpus), "%u", o->cpus);
    const char *av[LV_N][BENCH_MAX_ARGS] = {
        {p->self, "run", "-k", o->kernel, "-i", o->initrd, "-m", "512M", "-c", cpus, "-q",
         "--cmdline", LINUX_CMDLINE, NULL},
        {o->qemu,
         "-M",
         "microvm,acpi=on",
         "-accel",
         "kvm",
         "-cpu",
         "host",
         "-m",
         "512M",
         "-smp",
         cpus,
         "-nodefaults",
         "-no-user-config",
         "-nographic",
         "-serial",
         "stdio",
         "-no-reboot",
         "-kernel",
         o->kernel,
         "-initrd",
         o->initrd,
         "-append",
         LINUX_CMDLINE,
         NULL},
    };
    for (size_t i = 0; i < LV_N * o->runs; i++)
        first[i] = done[i] = __builtin_nan("");
    printf("minivmm bench boot --linux: %s, initrd %s, %u vCPU%s, %lu timed run%s each%s\n",
           o->kernel, o->initrd, o->cpus, o->cpus == 1 ? "" : "s", o->runs, o->runs == 1 ? "" : "s",
           o->qemu ? "" : " (QEMU left out: not found or --no-qemu)");
    bench_print_kvm();
    fflush(stdout);
    c->mark = o->mark;
    unsigned failed = 0;
    for (unsigned long r = 0; r <= o->runs; r++) { /* round 0: warm-up */
        for (int k = 0; k < nv; k++) {
            int v = (int)((k + r) % (unsigned long)nv);
            const char *why = NULL;
            bench_run_child(av[v], LINUX_TIMEOUT_MS, NULL, c);
            if (c->timed_out)
                why = "timed out";
            else if (c->status != 0)
                why = "exit status not 0 (the initramfs must power off)";
            else if (!c->mark_ns)
                why = "the initramfs's first line never appeared on the console";
            if (why) {
                char what[96];
                snprintf(what, sizeof(what), "%s (%s)", lv_names[v], r ? "timed run" : "warm-up");
                bench_print_failure(what, av[v], c, why);
                failed++;
                continue;
            }
            if (r == 0)
                continue;
            first[(size_t)v * o->runs + r - 1] = (double)c->mark_ns / 1e6;
            done[(size_t)v * o->runs + r - 1] = (double)c->ns / 1e6;
            if (o->verbose)
                printf("  run %lu %-14s first line %9.1f ms, exit %9.1f ms\n", r, lv_names[v],
                       (double)c->mark_ns / 1e6, (double)c->ns / 1e6);
        }
    }
    printf("\nmedians over %lu run%s, ms from spawn: to '%s' on the console, to exit reaped\n\n",
           o->runs, o->runs == 1 ? "" : "s", o->mark);
    printf("%-14s %12s %12s %12s %12s\n", "variant", "first line", "exit", "vs minivmm", "(exit)");
    double rf = bench_median(first, o->runs), re = bench_median(done, o->runs);
    for (int v = 0; v < nv; v++)
        row(lv_names[v], first + (size_t)v * o->runs, done + (size_t)v * o->runs, o->runs, rf, re);
    printf("\n");
    if (failed)
        printf("%u run%s failed (see above)\n", failed, failed == 1 ? "" : "s");
    status = failed ? 1 : 0;
out:
    free(done);
    free(first);
    free(c);
    return status;
}
