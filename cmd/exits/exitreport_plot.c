/*
 * exitreport_plot.c: draws the exits report with gnuplot (exitreport_plot(), exitreport.h): the
 * timeline of exits per reason above a histogram of handling times, from a data file and a
 * script on gnuplot's stdin.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitreport_int.h"
#include "minivmm/errmsg.h"
#include "minivmm/util.h"

extern char **environ;

/* A gnuplot single-quoted string: quotes doubled, nothing else is special. */
static void gp_str(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

struct plot_ctx {
    FILE *f;
    unsigned nreasons;
    uint64_t bucket_ns;
    uint64_t last_t;
};

static void plot_row(void *opaque, uint64_t t_ns, const uint64_t *counts, uint64_t total)
{
    struct plot_ctx *c = opaque;
    char t[32];

    out_fixed(t, sizeof(t), t_ns, NS_PER_MS, 6);
    fprintf(c->f, "%s %" PRIu64, t, total);
    for (unsigned j = 0; j < c->nreasons; j++)
        fprintf(c->f, " %" PRIu64, counts[j]);
    fputc('\n', c->f);
    c->last_t = t_ns;
}

/* Power-of-two bin of a handling time: 0 for 0 ns, k for [2^(k-1), 2^k). */
static unsigned log2_bin(uint64_t ns)
{
    return ns ? 64u - (unsigned)__builtin_clzll(ns) : 0;
}

static void bin_label(char *buf, size_t len, unsigned k)
{
    uint64_t lo = k ? 1ull << (k - 1) : 0;

    if (lo < NS_PER_US)
        snprintf(buf, len, "%" PRIu64 "ns", lo);
    else if (lo < NS_PER_MS)
        snprintf(buf, len, "%.3gus", (double)lo / NS_PER_US);
    else if (lo < NS_PER_S)
        snprintf(buf, len, "%.3gms", (double)lo / NS_PER_MS);
    else
        snprintf(buf, len, "%.3gs", (double)lo / NS_PER_S);
}

/* The data file: index 0 the timeline (t_ms total per-reason...), index 1 the histogram (bin
 * label, per-reason counts). 0 or -errno. */
static int write_plot_data(struct exitreport *r, FILE *f, const unsigned *order, unsigned n)
{
    uint64_t(*hist)[NREASONS + 1] = calloc(65, sizeof(*hist));
    unsigned lo = 64, hi = 0;
    char label[32];

    if (!hist)
        return -ENOMEM;
    fputs("# t_ms total", f);
    for (unsigned j = 0; j < n; j++)
        fprintf(f, " %s", exitreport_reason_label(order[j], label, sizeof(label)));
    fputc('\n', f);
    struct plot_ctx ctx = {.f = f, .nreasons = n, .bucket_ns = r->bucket_ns};
    if (exitreport_timeline_walk(r, order, n, true, plot_row, &ctx)) {
        free(hist);
        return -ENOMEM;
    }
    /* A closing empty bucket, so that `with steps` draws the last one. */
    uint64_t zero[NREASONS + 1] = {0};
    plot_row(&ctx, ctx.last_t + r->bucket_ns, zero, 0);

    fputs("\n\n# bin", f);
    for (unsigned j = 0; j < n; j++) {
        const struct reason_stat *rs = &r->reasons[order[j]];

        fprintf(f, " %s", exitreport_reason_label(order[j], label, sizeof(label)));
        for (size_t i = 0; i < rs->len; i++) {
            unsigned k = log2_bin(rs->ns[i]);

            hist[k][j]++;
            lo = k < lo ? k : lo;
            hi = k > hi ? k : hi;
        }
    }
    fputc('\n', f);
    for (unsigned k = lo; k <= hi; k++) {
        bin_label(label, sizeof(label), k);
        fprintf(f, "\"%s\"", label);
        for (unsigned j = 0; j < n; j++)
            fprintf(f, " %" PRIu64, hist[k][j]);
        fputc('\n', f);
    }
    free(hist);
    return ferror(f) ? -EIO : 0;
}

static void write_plot_script(const struct exitreport *r, FILE *f, const char *png,
                              const char *data, const unsigned *order, unsigned n)
{
    char label[32], bucket[32], title[512];

    fputs("if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
          "  set terminal pngcairo size 1000,800 noenhanced font ',10'\n"
          "} else {\n"
          "  set terminal png size 1000,800 noenhanced\n"
          "}\n"
          "set output ",
          f);
    gp_str(f, png);
    snprintf(title, sizeof(title), "minivmm exits: %s (%" PRIu64 " exits)", r->o.path, r->total.n);
    fputs("\nset multiplot layout 2,1 title ", f);
    gp_str(f, title);
    exitreport_fmt_duration(bucket, sizeof(bucket), r->bucket_ns);
    fprintf(f,
            "\nset title 'exits per %s bucket, by reason'\n"
            "set xlabel 'time since the vCPUs started (ms)'\n"
            "set ylabel 'exits'\n"
            "set grid ytics\n"
            "set key top right\n"
            "plot ",
            bucket);
    for (unsigned j = 0; j < n; j++) {
        fputs(j ? ", '' " : "", f);
        if (j == 0)
            gp_str(f, data);
        fprintf(f, " index 0 using 1:%u with steps lw 2 title ", 3 + j);
        gp_str(f, exitreport_reason_label(order[j], label, sizeof(label)));
    }
    fputs("\nset title 'handling time (power-of-two bins, labelled by their start), by reason'\n"
          "set xlabel 'handling time'\n"
          "set ylabel 'exits (log scale)'\n"
          "set logscale y\n"
          "set yrange [0.8:*]\n"
          "set style data histograms\n"
          "set style histogram clustered gap 1\n"
          "set style fill solid 0.8 border -1\n"
          "set boxwidth 0.8\n"
          "set xtics rotate by -45 scale 0\n"
          "plot ",
          f);
    for (unsigned j = 0; j < n; j++) {
        fputs(j ? ", '' " : "", f);
        if (j == 0)
            gp_str(f, data);
        fprintf(f, " index 1 using %u%s title ", 2 + j, j == 0 ? ":xtic(1)" : "");
        gp_str(f, exitreport_reason_label(order[j], label, sizeof(label)));
    }
    fputs("\nunset multiplot\nset output\n", f);
}

static int not_found(const char *prog, char *err, size_t errlen)
{
    return errmsg_fail(err, errlen, -ENOENT,
                       "--plot: %s not found (install gnuplot, e.g. apt-get install gnuplot-nox)",
                       prog);
}

/* Runs gnuplot with the script on its stdin (its stdout goes to our stderr, so that a report on
 * our stdout stays clean); 0, -ENOENT when it is missing, -EIO when it failed. */
static int run_gnuplot(const char *prog, const char *script, size_t len, char *err, size_t errlen)
{
    posix_spawn_file_actions_t fa;
    char *argv[] = {(char *)prog, NULL};
    sigset_t pipe_set, old;
    int p[2], status, ret;
    pid_t pid;

    if (pipe2(p, O_CLOEXEC) < 0) {
        ret = -errno;
        errmsg_set(err, errlen, "--plot: cannot create a pipe: %s", strerror(errno));
        return ret;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
    ret = -posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[0]);
    if (ret) {
        close(p[1]);
        if (ret == -ENOENT)
            return not_found(prog, err, errlen);
        errmsg_set(err, errlen, "--plot: cannot run %s: %s", prog, strerror(-ret));
        return ret;
    }
    /* If gnuplot dies early, the write fails with EPIPE instead of killing us. */
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ret = write_all(p[1], script, len);
    if (ret == -EPIPE) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(p[1]);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            errmsg_set(err, errlen, "--plot: waiting for %s: %s", prog, strerror(errno));
            return -errno;
        }
    }
    /* 127: the exec failed in the child. posix_spawnp returns that error itself only where the
     * child shares the parent's memory (glibc's clone(CLONE_VM)); where that is emulated with a
     * plain fork (valgrind, qemu-user) the spawn succeeds and the child exits 127. */
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return not_found(prog, err, errlen);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        errmsg_set(err, errlen, "--plot: %s failed (%s %d; its messages are above)", prog,
               WIFEXITED(status) ? "exit status" : "signal",
               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return -EIO;
    }
    if (ret) {
        errmsg_set(err, errlen, "--plot: writing the script to %s: %s", prog, strerror(-ret));
        return ret;
    }
    return 0;
}

int exitreport_plot(struct exitreport *r, const char *png, const char *gnuplot, char *err,
                    size_t errlen)
{
    unsigned order[NREASONS + 1];
    unsigned n = exitreport_reason_order(r, order);
    const char *tmpdir = getenv("TMPDIR");
    char data[PATH_MAX];
    char *script = NULL;
    size_t script_len = 0;
    int fd, ret;

    if (!gnuplot)
        gnuplot = "gnuplot";
    if (!r->bucket_ns) {
        errmsg_set(err, errlen, "--plot: the report was built without a timeline");
        return -EINVAL;
    }
    if (r->total.n == 0) {
        errmsg_set(err, errlen, "--plot: no exits to plot (the filters leave none)");
        return -EINVAL;
    }
    /* Create the PNG ourselves first, for a plain error when its directory is wrong. */
    fd = open(png, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ret = -errno;
        errmsg_set(err, errlen, "--plot: %s: cannot create: %s", png, strerror(errno));
        return ret;
    }
    close(fd);

    snprintf(data, sizeof(data), "%s/minivmm-plot.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    fd = mkstemp(data);
    if (fd < 0) {
        ret = -errno;
        errmsg_set(err, errlen, "--plot: cannot create a temporary file in %s: %s",
               tmpdir && *tmpdir ? tmpdir : "/tmp", strerror(errno));
        goto err_png;
    }
    FILE *df = fdopen(fd, "w");
    if (!df) {
        ret = -errno;
        close(fd);
        errmsg_set(err, errlen, "--plot: %s: %s", data, strerror(-ret));
        goto err_data;
    }
    exitreport_sort_times(r);
    ret = write_plot_data(r, df, order, n);
    if (fclose(df) != 0 && ret == 0)
        ret = -errno;
    if (ret) {
        errmsg_set(err, errlen, "--plot: cannot write %s: %s", data, strerror(-ret));
        goto err_data;
    }
    FILE *sf = open_memstream(&script, &script_len);
    if (!sf) {
        ret = -ENOMEM;
        errmsg_set(err, errlen, "--plot: out of memory");
        goto err_data;
    }
    write_plot_script(r, sf, png, data, order, n);
    if (fclose(sf) != 0) {
        ret = -ENOMEM;
        errmsg_set(err, errlen, "--plot: out of memory");
        goto err_data;
    }
    ret = run_gnuplot(gnuplot, script, script_len, err, errlen);
    if (ret)
        goto err_data;
    free(script);
    unlink(data);
    return 0;

err_data:
    free(script);
    unlink(data);
err_png:
    unlink(png);
    return ret;
}
