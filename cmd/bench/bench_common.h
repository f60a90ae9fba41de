/*
 * bench_common.h: the helpers every benchmark of `minivmm bench` uses (bench_common.c): paths
 * next to the executable, child processes with captured output and a timeout, medians, option
 * values, parsers of a run's output, table cells. bench.c (exits, boot), benchnet.c (net) and
 * benchio.c (io) build on it and on nothing of each other's but their entry points.
 */
#ifndef MINIVMM_BENCH_COMMON_H
#define MINIVMM_BENCH_COMMON_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_OUT_MAX (4 * 1024 * 1024) /* bench io: the serial payload comes on stdout */
#define BENCH_ERR_MAX (16 * 1024)
#define BENCH_MAX_ARGS 32

struct bench_paths {
    char self[PATH_MAX];
    char dir[PATH_MAX]; /* where minivmm lives: the build directory */
    char tools[PATH_MAX];
    char tool[PATH_MAX]; /* scratch for one tool's path */
};

/*
 * Where an ioeventfd run's threads go: the child starts on main_cpu (every thread it creates
 * inherits that), and its thread named "bench-drain" (benchdev.h; barekvm names its own the
 * same) is moved to drain_cpu once it exists, before the guest's loop starts. Without this
 * the scheduler sometimes puts the drain thread beside the vCPU thread, each kick then
 * preempts the vCPU (~9 us here instead of ~0.6 us), and which of the two a run gets is
 * chance: docs/BENCHMARKS.md.
 */
struct bench_placement {
    int main_cpu, drain_cpu;
};


struct bench_child {
    const char *mark; /* non-empty, set by the caller (or NULL): when stdout first held it */
    uint64_t mark_ns; /* spawn to the mark; 0: never seen */
    int status; /* exit status; 128+N on signal N; -1 when it did not start */
    bool timed_out;
    bool placed; /* with a placement: the drain thread was found and moved */
    uint64_t ns; /* spawn to reaped */
    size_t outlen, errlen;
    char out[BENCH_OUT_MAX + 1];
    char err[BENCH_ERR_MAX + 1];
};

/* "minivmm bench: <message> (see minivmm bench --help)" on stderr; returns 1. */
int bench_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* After getopt_long with a leading ':' in its optstring: the usage error for its ':' (an
 * option without its value) or any other unhandled result (an unknown option); returns 1. */
int bench_option_error(int ch, char *const argv[]);
/* dir/name into buf; a path too long for buf becomes "" (and then is not found). */
const char *bench_join(char *buf, size_t len, const char *dir, const char *name);
/* Fills p from /proc/self/exe; 0, or -1 with a message. */
int bench_find_self(struct bench_paths *p);
/* 0 when `path` exists (and is executable when `exec`), else -1 with a message naming
 * `what` and the `option` that overrides it. */
int bench_need_file(const char *path, bool exec, const char *what, const char *option);
/* The first executable `name` on $PATH (in buf), or NULL. */
const char *bench_search_path(const char *name, char *buf, size_t len);
/* Runs argv (argv[0] a path) with stdin from /dev/null, stdout and stderr captured, killed
 * after timeout_ms; `pl` may be NULL. */
void bench_run_child(const char *const argv[], int timeout_ms, const struct bench_placement *pl,
                     struct bench_child *c);
/* "minivmm bench: WHAT failed: WHY", the command and the ends of its output, on stderr. */
void bench_print_failure(const char *what, const char *const argv[], const struct bench_child *c,
                         const char *why);
/* Median of the finite values among v[0..n) (failed runs are NAN); NAN when none. */
double bench_median(const double *v, size_t n);
/* A decimal in [lo, hi] into *out: 0, or -1. */
int bench_parse_count(const char *s, unsigned long lo, unsigned long hi, unsigned long *out);
/* An option's value by bench_parse_count: 0, or 1 after the usage error "OPTION: 'S' is not
 * RANGE" (range as "a number from 1 to 1000"). */
int bench_count_arg(const char *option, const char *s, unsigned long lo, unsigned long hi,
                    const char *range, unsigned long *out);
/* The header's second line, "kvm: " and kvm_host_kind() ("svm+npt (nested)", "vmx+ept", ...),
 * on stdout: figures from different kinds of host are not comparable. */
void bench_print_kvm(void);
/* v with `prec` decimals (and a sign when `sign`) then `unit`, or "-" for NAN. */
const char *bench_cell(char *buf, size_t len, double v, int prec, bool sign, const char *unit);

/* The first two CPUs we may run on, into pl: false when there is only one. */
bool bench_two_cpus(struct bench_placement *pl);

/* Over a run's captured output: */
/* The first line of text starting with key, or NULL. */
const char *bench_find_line(const char *text, const char *key);
/* Userspace exits between the guest's xfer-start and xfer-done markers (the run summary's
 * phase table); -1 when absent. */
int64_t bench_xfer_exits(const struct bench_child *c);
/* From "minivmm: nic: vf0 rx R tx T ...": T, whether a drop is listed, the ioeventfd reads (-1
 * when not shown). 0, or -1 without the line. */
int bench_parse_nic(const struct bench_child *c, uint64_t *tx, bool *drops, int64_t *reads);

#endif
