/*
 * bench_common.c: what every `minivmm bench` benchmark uses (bench_common.h): usage errors,
 * paths next to the executable, child processes with captured output, a timeout and a thread
 * placement, medians, option values, parsers of a run's output and table cells.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "kvm.h"
#include "minivmm/errmsg.h"
#include "minivmm/util.h"
#include "pfswitch.h"

extern char **environ;

int bench_usage_error(const char *fmt, ...)
{
    char *msg;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return errmsg_print("bench", "out of memory");
    errmsg_print("bench", "%s (see minivmm bench --help)", msg);
    free(msg);
    return 1;
}

int bench_option_error(int ch, char *const argv[])
{
    if (ch == ':')
        return bench_usage_error("option '%s' needs a value", argv[optind - 1]);
    return bench_usage_error("unknown option '%s'", argv[optind - 1]);
}

/* ---- paths ---- */

/* dir/name into buf; a path too long for buf becomes "" (and then is not found). */
const char *bench_join(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= len)
        buf[0] = '\0';
    return buf;
}

int bench_find_self(struct bench_paths *p)
{
    ssize_t n = readlink("/proc/self/exe", p->self, sizeof(p->self) - 1);
    if (n <= 0) {
        errmsg_print("bench", "cannot find my own executable (/proc/self/exe): %s",
                     strerror(errno));
        return -1;
    }
    p->self[n] = '\0';
    snprintf(p->dir, sizeof(p->dir), "%s", p->self);
    char *slash = strrchr(p->dir, '/');
    if (slash)
        *slash = '\0';
    bench_join(p->tools, sizeof(p->tools), p->dir, "tools");
    return 0;
}

/* `what` must exist (and be executable when `exec`); the message says where it was sought. */
int bench_need_file(const char *path, bool exec, const char *what, const char *option)
{
    if (access(path, exec ? X_OK : R_OK) == 0)
        return 0;
    fprintf(stderr,
            "minivmm bench: %s not found at %s: %s\n"
            "  (it is built with minivmm: run ninja in the build directory, or pass %s)\n",
            what, path, strerror(errno), option);
    return -1;
}

/* The first executable `name` on $PATH, or NULL. */
const char *bench_search_path(const char *name, char *buf, size_t len)
{
    const char *path = getenv("PATH");
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        if (n > 0 && (size_t)snprintf(buf, len, "%.*s/%s", (int)n, path, name) < len &&
            access(buf, X_OK) == 0)
            return buf;
        path = end ? end + 1 : NULL;
    }
    return NULL;
}

/* ---- children ---- */

static void take(int fd, char *buf, size_t *len, size_t max, bool *open_)
{
    char scratch[4096];
    ssize_t n;
    if (*len < max)
        n = read(fd, buf + *len, max - *len);
    else
        n = read(fd, scratch, sizeof(scratch)); /* over the cap: drain and drop */
    if (n > 0 && *len < max)
        *len += (size_t)n;
    else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
        *open_ = false;
}

static void one_cpu(cpu_set_t *s, int cpu)
{
    CPU_ZERO(s);
    CPU_SET(cpu, s);
}

/* Moves pid's thread called "bench-drain" to `cpu`; false while there is none. */
static bool place_drain(pid_t pid, int cpu)
{
    char path[64], comm[32];
    bool found = false;
    struct dirent *e;

    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return false;
    while (!found && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/%d/task/%.16s/comm", (int)pid, e->d_name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        if (fgets(comm, sizeof(comm), f) && strcmp(comm, "bench-drain\n") == 0) {
            cpu_set_t s;
            one_cpu(&s, cpu);
            found = sched_setaffinity((pid_t)atoi(e->d_name), sizeof(s), &s) == 0;
        }
        fclose(f);
    }
    closedir(d);
    return found;
}

/* Runs argv (argv[0] a path) with stdin from /dev/null, stdout and stderr captured; with
 * `pl`, places its threads (struct bench_placement). */
void bench_run_child(const char *const argv[], int timeout_ms, const struct bench_placement *pl,
                     struct bench_child *c)
{
    cpu_set_t saved;
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    pid_t pid;

    c->status = -1;
    c->timed_out = false;
    c->placed = false;
    c->outlen = c->errlen = 0;
    c->out[0] = c->err[0] = '\0';
    c->ns = 0;
    c->mark_ns = 0;
    if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
        snprintf(c->err, sizeof(c->err), "pipe: %s", strerror(errno));
        c->errlen = strlen(c->err);
        goto out_close;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, pe[1], STDERR_FILENO);
    if (pl) { /* the child inherits our affinity at spawn */
        cpu_set_t s;
        one_cpu(&s, pl->main_cpu);
        if (sched_getaffinity(0, sizeof(saved), &saved) < 0 ||
            sched_setaffinity(0, sizeof(s), &s) < 0)
            pl = NULL;
    }
    uint64_t t0 = now_ns();
    /* posix_spawn takes char *const[] for historical reasons; it does not write them. */
    int r = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    if (pl)
        sched_setaffinity(0, sizeof(saved), &saved);
    posix_spawn_file_actions_destroy(&fa);
    close(po[1]);
    close(pe[1]);
    po[1] = pe[1] = -1;
    if (r != 0) {
        snprintf(c->err, sizeof(c->err), "cannot run %s: %s", argv[0], strerror(r));
        c->errlen = strlen(c->err);
        goto out_close;
    }
    bool oo = true, eo = true;
    uint64_t deadline = t0 + (uint64_t)timeout_ms * 1000000u;
    while (oo || eo) {
        struct pollfd pf[2] = {{.fd = oo ? po[0] : -1, .events = POLLIN},
                               {.fd = eo ? pe[0] : -1, .events = POLLIN}};
        uint64_t t = now_ns();
        if (t >= deadline) {
            kill(pid, SIGKILL);
            c->timed_out = true;
            break;
        }
        if (pl && !c->placed)
            c->placed = place_drain(pid, pl->drain_cpu);
        int wait_ms = (int)((deadline - t) / 1000000u) + 1;
        int n = poll(pf, 2, pl && !c->placed ? 1 : wait_ms); /* look again in 1 ms */
        if (n < 0 && errno != EINTR)
            break;
        if (n <= 0)
            continue;
        if (pf[0].revents) {
            size_t seen = c->outlen;
            take(po[0], c->out, &c->outlen, BENCH_OUT_MAX, &oo);
            if (c->mark && !c->mark_ns) {
                /* Only the new bytes, and the mark's length - 1 before them, can hold it. */
                size_t back = strlen(c->mark) - 1, from = seen > back ? seen - back : 0;
                c->out[c->outlen] = '\0';
                if (strstr(c->out + from, c->mark))
                    c->mark_ns = now_ns() - t0;
            }
        }
        if (pf[1].revents)
            take(pe[0], c->err, &c->errlen, BENCH_ERR_MAX, &eo);
    }
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    c->ns = now_ns() - t0;
    c->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : -1;
out_close:
    c->out[c->outlen] = '\0';
    c->err[c->errlen] = '\0';
    for (int i = 0; i < 2; i++) {
        if (po[i] >= 0)
            close(po[i]);
        if (pe[i] >= 0)
            close(pe[i]);
    }
}

void bench_print_failure(const char *what, const char *const argv[], const struct bench_child *c,
                         const char *why)
{
    fprintf(stderr, "minivmm bench: %s failed: %s\n  command:", what, why);
    for (int i = 0; argv[i]; i++)
        fprintf(stderr, " %s", argv[i]);
    fprintf(stderr, "\n");
    if (c->timed_out)
        fprintf(stderr, "  killed after the timeout\n");
    else
        fprintf(stderr, "  exit status %d\n", c->status);
    /* The ends of the output are where the reason is. */
    const char *o = c->outlen > 800 ? c->out + c->outlen - 800 : c->out;
    const char *e = c->errlen > 800 ? c->err + c->errlen - 800 : c->err;
    if (*o)
        fprintf(stderr, "  --- stdout (end)\n%s\n", o);
    if (*e)
        fprintf(stderr, "  --- stderr (end)\n%s\n", e);
}

/* ---- statistics ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of the n finite values among v[0..n) (failed runs are NAN); NAN when none. */
double bench_median(const double *v, size_t n)
{
    double s[n > 0 ? n : 1];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] == v[i])
            s[k++] = v[i];
    if (k == 0)
        return __builtin_nan("");
    qsort(s, k, sizeof(s[0]), cmp_double);
    return k % 2 ? s[k / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
}

int bench_parse_count(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int bench_count_arg(const char *option, const char *s, unsigned long lo, unsigned long hi,
                    const char *range, unsigned long *out)
{
    if (bench_parse_count(s, lo, hi, out))
        return bench_usage_error("%s: '%s' is not %s", option, s, range);
    return 0;
}

/* The first two CPUs we may run on, for a placement; false when there is only one. */
bool bench_two_cpus(struct bench_placement *pl)
{
    cpu_set_t s;
    int n = 0;
    if (sched_getaffinity(0, sizeof(s), &s) < 0)
        return false;
    for (int i = 0; i < CPU_SETSIZE && n < 2; i++)
        if (CPU_ISSET(i, &s))
            *(n++ ? &pl->drain_cpu : &pl->main_cpu) = i;
    return n == 2;
}

/* The first line starting with `key` in text, or NULL. */
const char *bench_find_line(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *l = text; (l = strstr(l, key)) != NULL; l += klen)
        if (l == text || l[-1] == '\n')
            return l;
    return NULL;
}

/* Exits between xfer-start and xfer-done, from the summary's phase table; -1 if absent. */
int64_t bench_xfer_exits(const struct bench_child *c)
{
    const char *l = bench_find_line(c->err, "  xfer-done ");
    double at, delta;
    uint64_t exits;
    if (!l || sscanf(l, "  xfer-done %lf %lf %" SCNu64, &at, &delta, &exits) != 3)
        return -1;
    return (int64_t)exits;
}

/* From "minivmm: nic: vf0 rx R tx T ...": T, whether a drop is listed, and the eventfd reads
 * (-1 when not shown). 0, or -1 without the line. */
int bench_parse_nic(const struct bench_child *c, uint64_t *tx, bool *drops, int64_t *reads)
{
    const char *l = bench_find_line(c->err, "minivmm: nic: vf0 ");
    uint64_t rx;
    if (!l || sscanf(l, "minivmm: nic: vf0 rx %" SCNu64 " tx %" SCNu64, &rx, tx) != 2)
        return -1;
    const char *end = strchr(l, '\n');
    size_t n = end ? (size_t)(end - l) : strlen(l);
    char line[512];
    snprintf(line, sizeof(line), "%.*s", (int)n, l);
    /* A drop is listed as " tx-<reason> N"; other " tx-" words (tx-bytes) are not drops. */
    *drops = strstr(line, " tx-oversize ") || strstr(line, " tx-bad-header ");
    for (int d = 0; d < PFSWITCH_DROP_NR; d++) {
        char word[48];
        snprintf(word, sizeof(word), " tx-%s ", pfswitch_drop_name(d));
        *drops = *drops || strstr(line, word);
    }
    const char *r = strstr(line, " ioeventfd-reads ");
    uint64_t v;
    *reads = r && sscanf(r, " ioeventfd-reads %" SCNu64, &v) == 1 ? (int64_t)v : -1;
    return 0;
}

/* v with `prec` decimals (and a sign when `sign`) then `unit`, or "-" when no run gave a
 * figure. */
const char *bench_cell(char *buf, size_t len, double v, int prec, bool sign, const char *unit)
{
    if (v != v)
        snprintf(buf, len, "-");
    else if (sign)
        snprintf(buf, len, "%+.*f%s", prec, v, unit);
    else
        snprintf(buf, len, "%.*f%s", prec, v, unit);
    return buf;
}

void bench_print_kvm(void)
{
    char kind[96];
    printf("kvm: %s\n", kvm_host_kind(kind, sizeof(kind)));
}
