/*
 * test_exitreport.c: unit tests of `minivmm exits`' full report (cmd/exits/exitreport*.c): argument and
 * value parsing, percentile math, each filter, timeline buckets, boot phases, the CSV and JSON
 * output (JSON checked by a small validating parser), KVM's counts beside ours and the note
 * where they disagree, truncated logs, and the gnuplot PNG.
 *
 * Every test writes its own synthetic log through the real writer (exitlog_open, exitlog_exit,
 * exitlog_marker, exitlog_stat) into a temporary file, then runs the report as `minivmm exits`
 * would: exitreport_parse_args on an argument string, exitreport_build, exitreport_print into
 * memory. CK_FORK is on, so a crash fails one test.
 */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "exitlog.h"
#include "exitreport.h"
#include "minivmm/abi.h"
#include "minivmm/out.h"
#include "minivmm/util.h"

#define US 1000ull
#define MS 1000000ull

/* ---- helpers ---- */

static void tmp_path(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/test_exitreport.XXXXXX");
    int fd = mkstemp(buf);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

static void set_reg(struct exitlog_reg *r, uint32_t off, const char *rd, const char *wr)
{
    r->off = off;
    snprintf(r->rd, sizeof(r->rd), "%s", rd);
    snprintf(r->wr, sizeof(r->wr), "%s", wr);
}

/* serial at port 0x3f8 (RBR/THR, LSR), ioapic at 0xfec00000 (IOREGSEL, IOWIN), phase at 0x80;
 * `serial_name` renames the serial device (for escaping tests). */
static struct exitlog_busmap *test_map(const char *serial_name)
{
    struct exitlog_busmap *m = calloc(1, sizeof(*m));
    ck_assert_ptr_nonnull(m);

    struct exitlog_dev *d = &m->devs[0];
    d->space = EXITLOG_SPACE_PIO;
    d->base = 0x3f8;
    d->size = 8;
    snprintf(d->name, sizeof(d->name), "%s", serial_name);
    set_reg(&d->regs[0], 0, "RBR", "THR");
    set_reg(&d->regs[1], 5, "LSR", "");
    d->nregs = 2;

    d = &m->devs[1];
    d->space = EXITLOG_SPACE_MMIO;
    d->base = 0xfec00000;
    d->size = 0x1000;
    snprintf(d->name, sizeof(d->name), "ioapic");
    set_reg(&d->regs[0], 0x00, "IOREGSEL", "IOREGSEL");
    set_reg(&d->regs[1], 0x10, "IOWIN", "IOWIN");
    d->nregs = 2;

    d = &m->devs[2];
    d->space = EXITLOG_SPACE_PIO;
    d->base = 0x80;
    d->size = 1;
    snprintf(d->name, sizeof(d->name), "phase");
    set_reg(&d->regs[0], 0, "", "PHASE");
    d->nregs = 1;
    m->ndevs = 3;
    return m;
}

static struct exitlog *open_log(const char *path, const char *serial_name, unsigned ncpus)
{
    struct exitlog_busmap *map = test_map(serial_name);
    struct exitlog *log;

    ck_assert_int_eq(exitlog_open(&log, path, map, ncpus), 0);
    free(map);
    return log;
}

static void io(struct exitlog *log, uint64_t t, uint32_t vcpu, uint64_t port, uint8_t dir,
               uint64_t handle, bool unclaimed)
{
    struct exitlog_exit e = {.t_ns = t,
                             .vcpu = vcpu,
                             .reason = KVM_EXIT_IO,
                             .addr = port,
                             .size = 1,
                             .dir = dir,
                             .space = EXITLOG_SPACE_PIO,
                             .flags = unclaimed ? EXITLOG_F_UNCLAIMED : 0,
                             .handle_ns = handle};
    exitlog_exit(log, &e);
}

static void mmio(struct exitlog *log, uint64_t t, uint32_t vcpu, uint64_t addr, uint8_t dir,
                 uint64_t handle)
{
    struct exitlog_exit e = {.t_ns = t,
                             .vcpu = vcpu,
                             .reason = KVM_EXIT_MMIO,
                             .addr = addr,
                             .size = 4,
                             .dir = dir,
                             .space = EXITLOG_SPACE_MMIO,
                             .handle_ns = handle};
    exitlog_exit(log, &e);
}

static void plain(struct exitlog *log, uint64_t t, uint32_t vcpu, uint32_t reason, uint64_t handle)
{
    struct exitlog_exit e = {.t_ns = t,
                             .vcpu = vcpu,
                             .reason = reason,
                             .space = EXITLOG_SPACE_NONE,
                             .handle_ns = handle};
    exitlog_exit(log, &e);
}

static void marker(struct exitlog *log, uint64_t t, uint32_t code)
{
    struct exitlog_marker m = {.t_ns = t, .vcpu = 0, .code = code};
    exitlog_marker(log, &m);
}

static void stat(struct exitlog *log, uint32_t vcpu, const char *name, uint64_t value)
{
    struct exitlog_stat s = {.t_ns = 60 * MS, .vcpu = vcpu, .value = value};
    snprintf(s.name, sizeof(s.name), "%s", name);
    exitlog_stat(log, &s);
}

/*
 * The standard log, 2 vCPUs, 116 exits:
 *   vCPU 0: 100 IO writes to 0x3f8 (serial THR) at t = i * 100 us, handled in (i+1) us, i < 100
 *   vCPU 1: 10 MMIO reads of 0xfec00010 (ioapic IOWIN) at t = 20 ms + j ms, 500 ns each
 *   vCPU 1: 5 IO reads of port 0x60 (no device) at t = 40 ms + j ms, 200 ns each
 *   vCPU 0: 1 HLT at 50 ms, 0 ns
 * markers: entry at 4.95 ms (50 exits before it), done at 30 ms (60 between), 6 after.
 * KVM's statistics: exits 150/20, io_exits 0/0, mmio_exits 0/10 (vCPU 0/1).
 */
static void write_standard(const char *path)
{
    struct exitlog *log = open_log(path, "serial", 2);

    for (unsigned i = 0; i < 100; i++) {
        io(log, i * 100 * US, 0, 0x3f8, EXITLOG_DIR_WRITE, (i + 1) * US, false);
        if (i == 49)
            marker(log, 4950 * US, MINIVMM_PHASE_ENTRY);
    }
    for (unsigned j = 0; j < 10; j++)
        mmio(log, 20 * MS + j * MS, 1, 0xfec00010, EXITLOG_DIR_READ, 500);
    marker(log, 30 * MS, MINIVMM_PHASE_DONE);
    for (unsigned j = 0; j < 5; j++)
        io(log, 40 * MS + j * MS, 1, 0x60, EXITLOG_DIR_READ, 200, true);
    plain(log, 50 * MS, 0, KVM_EXIT_HLT, 0);
    stat(log, 0, "exits", 150);
    stat(log, 0, "io_exits", 0);
    stat(log, 0, "mmio_exits", 0);
    stat(log, 1, "exits", 20);
    stat(log, 1, "io_exits", 0);
    stat(log, 1, "mmio_exits", 10);
    ck_assert_int_eq(exitlog_close(log), 0);
}

/* Runs `minivmm exits` on an argument string (words split at spaces; "%s" is the log). Returns
 * exitreport_build's result; *out is the printed report (free it) when it succeeded. */
static int report(const char *path, const char *args, char **out, char *err, size_t errlen)
{
    char line[1024], *argv[32];
    int argc = 0;
    struct exitreport_opts o;
    struct exitreport *r;

    const char *at = strstr(args, "%s");
    ck_assert_ptr_nonnull(at);
    snprintf(line, sizeof(line), "%.*s%s%s", (int)(at - args), args, path, at + 2);
    for (char *w = strtok(line, " "); w && argc < 31; w = strtok(NULL, " "))
        argv[argc++] = w;
    argv[argc] = NULL;
    ck_assert_int_eq(exitreport_parse_args(argc, argv, &o, err, errlen), 0);
    int ret = exitreport_build(&r, &o, err, errlen);
    *out = NULL;
    if (ret)
        return ret;
    size_t len;
    FILE *f = open_memstream(out, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(exitreport_print(r, f), 0);
    fclose(f);
    exitreport_free(r);
    return 0;
}

static char *report_ok(const char *path, const char *args)
{
    char err[512], *out;
    int ret = report(path, args, &out, err, sizeof(err));
    ck_assert_msg(ret == 0, "%s: %d %s", args, ret, err);
    return out;
}

/* The CSV "log" row's `counted` column: how many exits passed the filters. */
static uint64_t counted(const char *path, const char *filters)
{
    char args[512];
    snprintf(args, sizeof(args), "exits %%s --format csv %s", filters);
    char *out = report_ok(path, args);
    const char *row = strstr(out, "\nlog,");
    ck_assert_ptr_nonnull(row);
    const char *p = row + 1;
    for (int i = 0; i < 7; i++) { /* table,path,version,ncpus,records,skipped,exits,counted */
        p = strchr(p, ',');
        ck_assert_ptr_nonnull(p);
        p++;
    }
    uint64_t n = strtoull(p, NULL, 10);
    free(out);
    return n;
}

#define ck_assert_has(hay, needle)                                                                 \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "missing \"%s\" in:\n%s", (needle), (hay))
#define ck_assert_hasnt(hay, needle)                                                               \
    ck_assert_msg(strstr((hay), (needle)) == NULL, "unexpected \"%s\" in:\n%s", (needle), (hay))

/* ---- a small validating JSON parser (RFC 8259 syntax, no semantics) ---- */

static const char *json_value(const char *p);

static const char *json_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static const char *json_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    while (*p != '"') {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)p[i]))
                        return NULL;
                p += 4;
            } else if (!strchr("\"\\/bfnrt", *p) || !*p) {
                return NULL;
            }
        }
        p++;
    }
    return p + 1;
}

static const char *json_number(const char *p)
{
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (isdigit((unsigned char)*p))
            p++;
    else
        return NULL;
    if (*p == '.') {
        if (!isdigit((unsigned char)*++p))
            return NULL;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return NULL;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return p;
}

static const char *json_seq(const char *p, char close, bool members)
{
    p = json_ws(p + 1);
    if (*p == close)
        return p + 1;
    for (;;) {
        if (members) {
            p = json_string(json_ws(p));
            if (!p)
                return NULL;
            p = json_ws(p);
            if (*p++ != ':')
                return NULL;
        }
        p = json_value(p);
        if (!p)
            return NULL;
        p = json_ws(p);
        if (*p == close)
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
}

static const char *json_value(const char *p)
{
    p = json_ws(p);
    switch (*p) {
    case '{':
        return json_seq(p, '}', true);
    case '[':
        return json_seq(p, ']', false);
    case '"':
        return json_string(p);
    case 't':
        return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
        return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
        return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:
        return json_number(p);
    }
}

static bool json_valid(const char *s)
{
    const char *end = json_value(s);
    return end && *json_ws(end) == '\0' && json_ws(s)[0] == '{';
}

/* ---- parsing ---- */

static const struct {
    const char *s;
    int ret;
    uint64_t ns;
} durations[] = {
    {"1", 0, 1000000000},
    {"1.5", 0, 1500000000},
    {"0.01s", 0, 10000000},
    {"0.01", 0, 10000000},
    {"10ms", 0, 10000000},
    {"1.25ms", 0, 1250000},
    {".5ms", 0, 500000},
    {"500us", 0, 500000},
    {"250ns", 0, 250},
    {"0", 0, 0},
    {"1.0000000019", 0, 1000000001}, /* beyond the nanosecond: dropped */
    {"18446744073.709551615", 0, UINT64_MAX},
    {"18446744073.709551616", -ERANGE, 0},
    {"18446744074", -ERANGE, 0},
    {"99999999999999999999999ms", -ERANGE, 0},
    {"", -EINVAL, 0},
    {"s", -EINVAL, 0},
    {".", -EINVAL, 0},
    {"1h", -EINVAL, 0},
    {"-1", -EINVAL, 0},
    {" 1", -EINVAL, 0},
    {"1 ms", -EINVAL, 0},
    {"1.2.3", -EINVAL, 0},
    {"1e3", -EINVAL, 0},
    {"1MS", -EINVAL, 0},
};

START_TEST(test_parse_duration)
{
    uint64_t ns = 12345;
    int ret = exitreport_parse_duration(durations[_i].s, &ns);

    ck_assert_msg(ret == durations[_i].ret, "'%s': %d", durations[_i].s, ret);
    if (ret == 0)
        ck_assert_uint_eq(ns, durations[_i].ns);
    else
        ck_assert_uint_eq(ns, 12345); /* untouched on error */
}
END_TEST

static const struct {
    const char *s;
    int ret;
    uint32_t reason;
} reasons[] = {
    {"io", 0, KVM_EXIT_IO},
    {"IO", 0, KVM_EXIT_IO},
    {"mmio", 0, KVM_EXIT_MMIO},
    {"Hlt", 0, KVM_EXIT_HLT},
    {"kvm_exit_shutdown", 0, KVM_EXIT_SHUTDOWN},
    {"ioapic_eoi", 0, KVM_EXIT_IOAPIC_EOI},
    {"IRQ_WINDOW_OPEN", 0, KVM_EXIT_IRQ_WINDOW_OPEN},
    {"unknown", 0, KVM_EXIT_UNKNOWN},
    {"2", 0, 2},
    {"127", 0, 127},
    {"128", -EINVAL, 0},
    {"foo", -EINVAL, 0},
    {"", -EINVAL, 0},
    {"i o", -EINVAL, 0},
    {"kvm_exit_", -EINVAL, 0},
};

START_TEST(test_parse_reason)
{
    uint32_t r = 999;
    int ret = exitreport_parse_reason(reasons[_i].s, &r);

    ck_assert_msg(ret == reasons[_i].ret, "'%s': %d", reasons[_i].s, ret);
    if (ret == 0)
        ck_assert_uint_eq(r, reasons[_i].reason);
}
END_TEST

/* The options point into argv: `line` is static so that they outlive the call. */
static int parse(const char *args, struct exitreport_opts *o, char *err, size_t errlen)
{
    static char line[512];
    char *argv[32];
    int argc = 0;

    snprintf(line, sizeof(line), "%s", args);
    for (char *w = strtok(line, " "); w && argc < 31; w = strtok(NULL, " "))
        argv[argc++] = w;
    argv[argc] = NULL;
    return exitreport_parse_args(argc, argv, o, err, errlen);
}

START_TEST(test_parse_args)
{
    struct exitreport_opts o;
    char err[256];

    /* Options before and after FILE (getopt_long permutes). */
    ck_assert_int_eq(parse("exits --vcpu 1 x.log --reason MMIO --device serial --since 1ms "
                           "--until 0.5 --format json --timeline 500us --plot p.png",
                           &o, err, sizeof(err)),
                     0);
    ck_assert_str_eq(o.path, "x.log");
    ck_assert(o.filter.by_vcpu);
    ck_assert_uint_eq(o.filter.vcpu, 1);
    ck_assert(o.filter.by_reason);
    ck_assert_uint_eq(o.filter.reason, KVM_EXIT_MMIO);
    ck_assert_str_eq(o.filter.device, "serial");
    ck_assert_uint_eq(o.filter.since_ns, 1 * MS);
    ck_assert_uint_eq(o.filter.until_ns, 500 * MS);
    ck_assert_int_eq(o.format, EXITREPORT_JSON);
    ck_assert_uint_eq(o.timeline_ns, 500 * US);
    ck_assert_str_eq(o.plot, "p.png");

    /* Defaults. */
    ck_assert_int_eq(parse("exits x.log", &o, err, sizeof(err)), 0);
    ck_assert(!o.filter.by_vcpu && !o.filter.by_reason && !o.filter.device);
    ck_assert_uint_eq(o.filter.since_ns, 0);
    ck_assert_uint_eq(o.filter.until_ns, UINT64_MAX);
    ck_assert_int_eq(o.format, EXITREPORT_TABLE);
    ck_assert_uint_eq(o.timeline_ns, 0);
    ck_assert_ptr_null(o.plot);
    ck_assert_int_eq(parse("exits x.log --format csv", &o, err, sizeof(err)), 0);
    ck_assert_int_eq(o.format, EXITREPORT_CSV);

    ck_assert_int_eq(parse("exits --help", &o, err, sizeof(err)), 1);
    ck_assert_int_eq(parse("exits x.log -h", &o, err, sizeof(err)), 1);
}
END_TEST

static const struct {
    const char *args;
    const char *msg;
} bad_args[] = {
    {"exits", "no log file given"},
    {"exits a.log b.log", "unexpected argument 'b.log'"},
    {"exits x.log --vcpu", "'--vcpu' needs a value"},
    {"exits x.log --vcpu -1", "--vcpu: '-1' is not a vCPU number"},
    {"exits x.log --vcpu 1x", "--vcpu: '1x'"},
    {"exits x.log --reason bogus", "--reason: 'bogus' is not a KVM exit reason"},
    {"exits x.log --since 1h", "--since: '1h'"},
    {"exits x.log --until soon", "--until: 'soon'"},
    {"exits x.log --since 2 --until 1", "--since must be before --until"},
    {"exits x.log --since 1s --until 1000ms", "--since must be before --until"},
    {"exits x.log --format xml", "--format: 'xml' is not table, csv or json"},
    {"exits x.log --timeline 0", "--timeline: '0' is not a bucket length above zero"},
    {"exits x.log --timeline fast", "--timeline: 'fast'"},
    {"exits x.log --frobnicate", "unknown option '--frobnicate'"},
    {"exits x.log -z", "unknown option"},
};

START_TEST(test_parse_args_bad)
{
    struct exitreport_opts o;
    char err[256] = "";

    ck_assert_int_eq(parse(bad_args[_i].args, &o, err, sizeof(err)), -EINVAL);
    ck_assert_msg(strstr(err, bad_args[_i].msg), "'%s': '%s'", bad_args[_i].args, err);
    ck_assert_ptr_null(strchr(err, '\n')); /* one line */
}
END_TEST

/* ---- percentiles ---- */

START_TEST(test_percentile_math)
{
    uint64_t v[100];

    for (unsigned i = 0; i < 100; i++)
        v[i] = i + 1;
    ck_assert_uint_eq(exitreport_percentile(v, 100, 50), 50);
    ck_assert_uint_eq(exitreport_percentile(v, 100, 99), 99);
    ck_assert_uint_eq(exitreport_percentile(v, 100, 100), 100);
    ck_assert_uint_eq(exitreport_percentile(v, 100, 0), 1);
    ck_assert_uint_eq(exitreport_percentile(v, 100, 1), 1);
    ck_assert_uint_eq(exitreport_percentile(v, 100, 150), 100);
    /* Nearest rank: ceil(p * n / 100). */
    uint64_t four[] = {10, 20, 30, 40};
    ck_assert_uint_eq(exitreport_percentile(four, 4, 50), 20);
    ck_assert_uint_eq(exitreport_percentile(four, 4, 51), 30);
    ck_assert_uint_eq(exitreport_percentile(four, 4, 99), 40);
    ck_assert_uint_eq(exitreport_percentile(four, 4, 25), 10);
    uint64_t one[] = {7};
    ck_assert_uint_eq(exitreport_percentile(one, 1, 50), 7);
    ck_assert_uint_eq(exitreport_percentile(one, 1, 99), 7);
    ck_assert_uint_eq(exitreport_percentile(NULL, 0, 50), 0);
    uint64_t ten[10];
    for (unsigned i = 0; i < 10; i++)
        ten[i] = 100 * (i + 1);
    ck_assert_uint_eq(exitreport_percentile(ten, 10, 50), 500);
    ck_assert_uint_eq(exitreport_percentile(ten, 10, 99), 1000);
    ck_assert_uint_eq(exitreport_percentile(ten, 10, 90), 900);
}
END_TEST

/* Handling times written in a scrambled order come out sorted: min/mean/p50/p99/max. */
START_TEST(test_percentiles_in_report)
{
    char path[64];
    tmp_path(path, sizeof(path));
    struct exitlog *log = open_log(path, "serial", 1);
    for (unsigned i = 0; i < 100; i++) {
        unsigned k = (i * 37) % 100; /* 37 is coprime with 100: a permutation */
        io(log, i * US, 0, 0x3f8, EXITLOG_DIR_WRITE, (k + 1) * US, false);
    }
    ck_assert_int_eq(exitlog_close(log), 0);

    char *out = report_ok(path, "exits %s --format csv");
    /* samples, %, time%, total, min, mean, p50, p99, max */
    ck_assert_has(out, "\nreasons,IO,2,100,100.00,100.00,5050.000,1.000,50.500,50.000,99.000,"
                       "100.000\n");
    free(out);
    out = report_ok(path, "exits %s");
    ck_assert_has(out, "p50(us)");
    ck_assert_has(out, "p99(us)");
    ck_assert_has(out, "50.00");
    ck_assert_has(out, "99.00");
    free(out);
    out = report_ok(path, "exits %s --format json");
    ck_assert_has(out, "\"p50_us\": 50.000, \"p99_us\": 99.000, \"max_us\": 100.000");
    free(out);
    unlink(path);
}
END_TEST

/* The standard log's IO exits of vCPU 0 are 1..100 us. */
START_TEST(test_percentiles_standard)
{
    char path[64];
    tmp_path(path, sizeof(path));
    write_standard(path);
    char *out = report_ok(path, "exits %s --format csv --vcpu 0 --reason io");
    ck_assert_has(out, "\nreasons,IO,2,100,100.00,100.00,5050.000,1.000,50.500,50.000,99.000,"
                       "100.000\n");
    free(out);
    /* All IO: the five 0.2 us reads join the bottom. */
    out = report_ok(path, "exits %s --format csv");
    ck_assert_has(out, "\nreasons,IO,2,105,");
    ck_assert_has(out, ",0.200,48.104,48.000,99.000,100.000\n");
    ck_assert_has(out, "\nreasons,MMIO,6,10,");
    ck_assert_has(out, "\nreasons,HLT,5,1,");
    free(out);
    unlink(path);
}
END_TEST

/* ---- filters ---- */

START_TEST(test_filter_vcpu)
{
    char path[64];
    tmp_path(path, sizeof(path));
    write_standard(path);
    ck_assert_uint_eq(counted(path, ""), 116);
    ck_assert_uint_eq(counted(path, "--vcpu 0"), 101);
    ck_assert_uint_eq(counted(path, "--vcpu 1"), 15);
    char *out = report_ok(path, "exits %s --vcpu 1 --format csv");
    ck_assert_has(out, "\nvcpus,1,15,");
    ck_assert_hasnt(out, "\nvcpus,0,");
    free(out);

    char err[256], *o2;
    ck_assert_int_eq(report(path, "exits %s --vcpu 2", &o2, err, sizeof(err)), -EINVAL);
    ck_assert_has(err, "--vcpu: 2 is not a vCPU of this log (it has 2: 0 to 1)");
    unlink(path);
}
END_TEST

START_TEST(test_filter_reason)
{
    char path[64];
    tmp_path(path, sizeof(path));
    write_standard(path);
    ck_assert_uint_eq(counted(path, "--reason io"), 105);
    ck_assert_uint_eq(counted(path, "--reason MMIO"), 10);
    ck_assert_uint_eq(counted(path, "--reason hlt"), 1);
    ck_assert_uint_eq(counted(path, "--reason shutdown"), 0);
    ck_assert_uint_eq(counted(path, "--reason io --vcpu 1"), 5);
    char *out = report_ok(path, "exits %s --reason mmio");
    ck_assert_has(out, "filters: reason MMIO");
    ck_assert_has(out, "exits: 10 of 116");
    ck_assert_hasnt(out, "serial THR");
    free(out);
    unlink(path);
}
END_TEST

START_TEST(test_filter_device)
{
    char path[64];
    tmp_path(path, sizeof(path));
    write_standard(path);
    ck_assert_uint_eq(counted(path, "--device serial"), 100);
    ck_assert_uint_eq(counted(path, "--device SERIAL"), 100);
    ck_assert_uint_eq(counted(path, "--device ioapic"), 10);
    ck_assert_uint_eq(counted(path, "--device phase"), 0);
    ck_assert_uint_eq(counted(path, "--device none"), 5); /* port 0x60; the HLT has no address */
    char *out = report_ok(path, "exits %s --device none --format csv");
    ck_assert_has(out, "\naddresses,0x60,pio,read,(none),(none) read,5,");
    ck_assert_has(out, "\ndevices,(none),,,,5,");
    ck_assert_hasnt(out, "\ndevices,serial,");
    free(out);
    out = report_ok(path, "exits %s --device ioapic --format csv");
    ck_assert_has(out, "\ndevices,ioapic,mmio,0xfec00000,0x1000,10,");
    ck_assert_hasnt(out, "\ndevices,serial,");
    free(out);

    char err[256], *o2;
    ck_assert_int_eq(report(path, "exits %s --device virtio", &o2, err, sizeof(err)), -EINVAL);
    ck_assert_has(err, "--device: 'virtio' is not in the log's bus map (serial, ioapic, phase, "
                       "none)");
    unlink(path);
}
END_TEST

START_TEST(test_filter_time)
{
    char path[64];
    tmp_path(path, sizeof(path));
    write_standard(path);
    /* since is inclusive, until exclusive: [20 ms, 40 ms) holds the 10 MMIO exits only. */
    ck_assert_uint_eq(counted(path, "--since 20ms --until 40ms"), 10);
    ck_assert_uint_eq(counted(path, "--since 0.02 --until 0.04"), 10);
    ck_assert_uint_eq(counted(path, "--since 20000us --until 40001us"), 11);
    ck_assert_uint_eq(counted(path, "--since 40ms"), 6);
    ck_assert_uint_eq(counted(path, "--until 100us"), 1);
    ck_assert_uint_eq(counted(path, "--until 1ms"), 10);
    ck_assert_uint_eq(counted(path, "--since 1s"), 0);
    char *out = report_ok(path, "exits %s --since 20ms --until 40ms");
    ck_assert_has(out, "filters: since 20.000 ms, until 40.000 ms (exclusive)");
    ck_assert_has(out, "from 20.000 to 29.000 ms");
    free(out);
    unlink(path);
}
END_TEST

/* ---- timeline ---- */

START_TEST(test_timeline_buckets)
{
    char path[64];
    tmp_path(path, sizeof(path));
    write_standard(path);
    char *out = report_ok(path, "exits %s --format csv --timeline 10ms");
    /* Columns: total, then reasons by samples: IO, MMIO, HLT. Empty buckets (10 and 30 ms)
     * are left out. */
    ck_assert_has(out, "\ntable,t_ms,bucket_us,total,IO,MMIO,HLT\n"
                       "timeline,0.000000,10000.000,100,100,0,0\n"
                       "timeline,20.000000,10000.000,10,0,10,0\n"
                       "timeline,40.000000,10000.000,5,5,0,0\n"
                       "timeline,50.000000,10000.000,1,0,0,1\n");
    ck_assert_hasnt(out, "timeline,60.000000");
    free(out);

    /* Buckets start at the first counted exit's bucket; 500 us buckets of vCPU 0's IO. */
    out = report_ok(path, "exits %s --format csv --timeline 500us --reason io --vcpu 0");
    ck_assert_has(out, "\ntimeline,0.000000,500.000,5,5\n"
                       "timeline,0.500000,500.000,5,5\n");
    ck_assert_has(out, "\ntimeline,9.500000,500.000,5,5\n");
    ck_assert_hasnt(out, "timeline,10.000000");
    free(out);
    out = report_ok(path, "exits %s --format csv --timeline 0.01s --since 20ms");
    ck_assert_has(out, "\ntable,t_ms,bucket_us,total,MMIO,IO,HLT\n"
                       "timeline,20.000000,10000.000,10,10,0,0\n");
    free(out);

    out = report_ok(path, "exits %s --timeline 10ms");
    ck_assert_has(out, "timeline (exits per 10 ms bucket by reason; t: bucket start; empty "
                       "buckets are left out):");
    ck_assert_has(out, "t(ms)");
    free(out);
    out = report_ok(path, "exits %s --timeline 10ms --format json");
    ck_assert(json_valid(out));
    ck_assert_has(out, "\"timeline\": [");
    ck_assert_has(out, "{\"t_ms\": 20.000000, \"bucket_us\": 10000.000, \"total\": 10, "
                       "\"IO\": 0, \"MMIO\": 10, \"HLT\": 0}");
    free(out);
    out = report_ok(path, "exits %s --format json");
    ck_assert_hasnt(out, "\"timeline\"");
    free(out);

    char err[256], *o2;
    ck_assert_int_eq(report(path, "exits %s --timeline 1ns", &o2, err, sizeof(err)), -E2BIG);
    ck_assert_has(err, "give a longer bucket");
    unlink(path);
}
END_TEST

/* Two exits 999 ms apart in 1 us buckets: 999,001 buckets, two with exits. Only those two are
 * printed, in every format, and the table format does not hold a cell per empty bucket: a
 * forked child's peak RSS stays small. */
START_TEST(test_timeline_sparse)
{
    char path[64];
    tmp_path(path, sizeof(path));
    struct exitlog *log = open_log(path, "serial", 1);
    io(log, 0, 0, 0x3f8, EXITLOG_DIR_WRITE, 100, false);
    plain(log, UINT64_C(999000000), 0, KVM_EXIT_HLT, 100);
    ck_assert_int_eq(exitlog_close(log), 0);

    char *out = report_ok(path, "exits %s --format csv --timeline 1us");
    ck_assert_has(out, "\ntable,t_ms,bucket_us,total,IO,HLT\n"
                       "timeline,0.000000,1.000,1,1,0\n"
                       "timeline,999.000000,1.000,1,0,1\n");
    size_t rows = 0;
    for (const char *p = out; (p = strstr(p, "\ntimeline,")); p++)
        rows++;
    ck_assert_uint_eq(rows, 2);
    free(out);
    out = report_ok(path, "exits %s --format json --timeline 1us");
    ck_assert(json_valid(out));
    ck_assert_has(out, "\"timeline\": [\n    {\"t_ms\": 0.000000, \"bucket_us\": 1.000, "
                       "\"total\": 1, \"IO\": 1, \"HLT\": 0},\n    {\"t_ms\": 999.000000, "
                       "\"bucket_us\": 1.000, \"total\": 1, \"IO\": 0, \"HLT\": 1}\n  ]");
    free(out);

    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct rusage ru;
        close(fds[0]);
        char *t = report_ok(path, "exits %s --timeline 1us");
        long lines = 0;
        for (const char *p = t; (p = strchr(p, '\n')); p++)
            lines++;
        getrusage(RUSAGE_SELF, &ru);
        long res[2] = {ru.ru_maxrss, lines}; /* KiB */
        ck_assert_int_eq(write(fds[1], res, sizeof(res)), (int)sizeof(res));
        free(t);
        _exit(0);
    }
    close(fds[1]);
    long res[2] = {0, 0};
    ck_assert_int_eq(read(fds[0], res, sizeof(res)), (int)sizeof(res));
    close(fds[0]);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_msg(res[0] < 32 * 1024, "peak RSS %ld KiB", res[0]);
    ck_assert_msg(res[1] < 200, "%ld lines", res[1]);
    unlink(path);
}
END_TEST

/* The table format through lib/out.c directly: three windows and a bit. Its cell buffer never
 * holds more than one window (it held every cell of the table before), the heading is printed
 * once, every row is there, the first window is aligned and a wider cell later widens its
 * column from there on. */
START_TEST(test_table_window)
{
    static const struct out_col cols[] = {{"name", "name", OUT_STR, NULL},
                                          {"n", "n", OUT_U64, NULL},
                                          {"hidden", NULL, OUT_U64, NULL}};
    const size_t nrows = 3 * OUT_TABLE_WINDOW + 7;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    struct out o;
    size_t maxcap = 0;

    out_open(&o, f, OUT_TABLE);
    out_begin(&o, "t", "title", cols, 3, false);
    for (size_t i = 0; i < nrows; i++) {
        /* One cell wider than all before it, in the second window. */
        uint64_t n = i == OUT_TABLE_WINDOW + 5 ? UINT64_C(123456789012) : i;
        struct out_cell cells[] = {out_s("r"), out_u(n), out_u(i)};
        out_row(&o, cells);
        if (o.cap > maxcap)
            maxcap = o.cap;
    }
    out_end(&o);
    ck_assert_int_eq(out_close(&o), 0);
    fclose(f);
    ck_assert_msg(maxcap <= 2 * OUT_TABLE_WINDOW, "cell buffer of %zu for %zu rows", maxcap, nrows);

    size_t heads = 0, rows = 0;
    for (const char *p = text; (p = strstr(p, "\n  name")); p++)
        heads++;
    for (const char *p = text; (p = strstr(p, "\n  r ")); p++)
        rows++;
    ck_assert_uint_eq(heads, 1);
    ck_assert_uint_eq(rows, nrows);
    /* First window: sized by its widest number (4 digits: 4095). */
    ck_assert_has(text, "\n  name     n\n  r        0\n  r        1\n");
    /* From the wide cell on, 12 digits. */
    ck_assert_has(text, "\n  r     123456789012\n");
    char want[64];
    snprintf(want, sizeof(want), "\n  r     %12zu\n", nrows - 1);
    ck_assert_has(text, want);
    ck_assert_hasnt(text, " \n");
    free(text);
}
END_TEST

/* `--timeline 1us` on a log of 200000 exits 1 µs apart: 200000 rows of table. Printing them
 * (to /dev/null) must not raise the peak RSS (measured in a child after building the report)
 * by more than 8 MiB; buffering every cell took ~40 MiB. Not under ASan: its quarantine keeps
 * freed cells' memory on purpose. */
START_TEST(test_timeline_dense_bounded)
{
#if defined(__SANITIZE_ADDRESS__)
    return;
#else
    char path[64];
    tmp_path(path, sizeof(path));
    struct exitlog *log = open_log(path, "serial", 2);
    const unsigned n = 200000;
    for (unsigned i = 0; i < n; i++)
        plain(log, i * US, i % 2, i % 3 ? KVM_EXIT_HLT : KVM_EXIT_MMIO, 100);
    ck_assert_int_eq(exitlog_close(log), 0);

    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char a0[] = "exits", a2[] = "--timeline", a3[] = "1us", err[256];
        char *argv[] = {a0, path, a2, a3, NULL};
        struct exitreport_opts o;
        struct exitreport *r;
        struct rusage ru0, ru1;
        close(fds[0]);
        ck_assert_int_eq(exitreport_parse_args(4, argv, &o, err, sizeof(err)), 0);
        ck_assert_int_eq(exitreport_build(&r, &o, err, sizeof(err)), 0);
        FILE *f = fopen("/dev/null", "w");
        ck_assert_ptr_nonnull(f);
        getrusage(RUSAGE_SELF, &ru0);
        ck_assert_int_eq(exitreport_print(r, f), 0);
        getrusage(RUSAGE_SELF, &ru1);
        fclose(f);
        exitreport_free(r);
        long res[2] = {ru0.ru_maxrss, ru1.ru_maxrss}; /* KiB */
        ck_assert_int_eq(write(fds[1], res, sizeof(res)), (int)sizeof(res));
        _exit(0);
    }
    close(fds[1]);
    long res[2] = {0, 0};
    ck_assert_int_eq(read(fds[0], res, sizeof(res)), (int)sizeof(res));
    close(fds[0]);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_msg(res[1] - res[0] < 8 * 1024, "printing raised the peak RSS from %ld to %ld KiB",
                  res[0], res[1]);
    unlink(path);
#endif
}
END_TEST

/* ---- boot phases ---- */

START_TEST(test_phases)
{
    char path[64];
    tmp_path(path, sizeof(path));
    write_standard(path);
    char *out = report_ok(path, "exits %s --format csv");
    ck_assert_has(out, "\ntable,phase,code,vcpu,at_ms,delta_ms,exits,time_us,mean_us\n"
                       "phases,entry,1,0,4.950000,4.950000,50,1275.000,25.500\n"
                       "phases,done,7,0,30.000000,25.050000,60,3780.000,63.000\n"
                       "phases,(after done),,,,,6,1.000,0.166\n");
    free(out);
    out = report_ok(path, "exits %s");
    ck_assert_has(out, "boot phases");
    ck_assert_has(out, "  entry ");
    ck_assert_has(out, "  (after done) ");
    free(out);
    /* Filters apply to the exits counted per phase. */
    out = report_ok(path, "exits %s --format csv --vcpu 1");
    ck_assert_has(out, "\nphases,entry,1,0,4.950000,4.950000,0,0.000,\n");
    ck_assert_has(out, "\nphases,done,7,0,30.000000,25.050000,10,");
    free(out);
    unlink(path);
}
END_TEST

/* Markers written out of time order are sorted; a log without markers has no phase rows. */
START_TEST(test_phases_unsorted_and_none)
{
    char path[64];
    tmp_path(path, sizeof(path));
    struct exitlog *log = open_log(path, "serial", 1);
    marker(log, 3 * MS, MINIVMM_PHASE_LONG_MODE);
    io(log, 1 * MS, 0, 0x3f8, EXITLOG_DIR_WRITE, 100, false);
    io(log, 2 * MS, 0, 0x3f8, EXITLOG_DIR_WRITE, 100, false);
    marker(log, 1500 * US, MINIVMM_PHASE_ENTRY);
    marker(log, 4 * MS, 42); /* a code without a name */
    ck_assert_int_eq(exitlog_close(log), 0);
    char *out = report_ok(path, "exits %s --format csv");
    ck_assert_has(out, "\nphases,entry,1,0,1.500000,1.500000,1,");
    ck_assert_has(out, "\nphases,long-mode,2,0,3.000000,1.500000,1,");
    ck_assert_has(out, "\nphases,phase 42,42,0,4.000000,1.000000,0,");
    ck_assert_has(out, "\nphases,(after phase 42),,,,,0,");
    free(out);

    tmp_path(path, sizeof(path));
    log = open_log(path, "serial", 1);
    io(log, 1 * MS, 0, 0x3f8, EXITLOG_DIR_WRITE, 100, false);
    ck_assert_int_eq(exitlog_close(log), 0);
    out = report_ok(path, "exits %s --format csv");
    ck_assert_has(out, "\ntable,phase,code,vcpu,at_ms,delta_ms,exits,time_us,mean_us\n\n");
    free(out);
    out = report_ok(path, "exits %s --format json");
    ck_assert(json_valid(out));
    ck_assert_has(out, "\"phases\": []");
    free(out);
    unlink(path);
}
END_TEST

/* ---- output formats ---- */

START_TEST(test_table_format)
{
    char path[64];
    tmp_path(path, sizeof(path));
    write_standard(path);
    char *out = report_ok(path, "exits %s");
    ck_assert_has(out, "exit log ");
    ck_assert_has(out, "version 1, 2 vCPUs");
    ck_assert_has(out, "\nexits: 116 of 116 in ");
    ck_assert_has(out, "exit reasons");
    ck_assert_has(out, "samples%");
    ck_assert_has(out, "time%");
    ck_assert_has(out, "0x3f8       serial THR write");
    ck_assert_has(out, "0xfec00010  ioapic IOWIN read");
    ck_assert_has(out, "0x60        (none) read");
    ck_assert_has(out, "vCPUs:");
    ck_assert_has(out, "devices");
    ck_assert_has(out, "KVM's counts");
    /* Nothing in decimal where an address belongs. */
    ck_assert_hasnt(out, " 1016 ");
    ck_assert_hasnt(out, "4273995792");
    /* No trailing blanks. */
    ck_assert_hasnt(out, " \n");
    free(out);
    unlink(path);
}
END_TEST

/* More than EXITREPORT_TOP_ADDRS addresses: the table folds the rest into one row; CSV and JSON
 * list them all. */
START_TEST(test_top_addresses)
{
    char path[64];
    tmp_path(path, sizeof(path));
    struct exitlog *log = open_log(path, "serial", 1);
    for (unsigned a = 0; a < 30; a++)
        for (unsigned k = 0; k <= a; k++)
            mmio(log, (a * 100 + k) * US, 0, 0xd0000000 + a * 4, EXITLOG_DIR_WRITE, 100);
    ck_assert_int_eq(exitlog_close(log), 0);
    char *out = report_ok(path, "exits %s");
    ck_assert_has(out, "0xd0000074"); /* the busiest (30 hits) first */
    ck_assert_has(out, "(10 other addresses)");
    ck_assert_hasnt(out, "0xd0000000 ");
    free(out);
    out = report_ok(path, "exits %s --format csv");
    ck_assert_has(out, "\naddresses,0xd0000000,mmio,write,(none),(none) write,1,");
    ck_assert_hasnt(out, "other addresses");
    free(out);
    unlink(path);
}
END_TEST

START_TEST(test_csv_format)
{
    char path[64];
    tmp_path(path, sizeof(path));
    write_standard(path);
    char *out = report_ok(path, "exits %s --format csv --timeline 10ms");
    /* One section per table, a header line each, the table's name in the first column. */
    const char *sections[] = {"log",         "filters", "reasons", "addresses",
                              "vcpus",       "devices", "phases",  "kvm_stats",
                              "kvm_compare", "notes",   "timeline"};
    const char *prev = out;
    for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
        char row[64];
        snprintf(row, sizeof(row), "\n%s,", sections[i]);
        const char *at = strstr(out, row);
        if (strcmp(sections[i], "log") == 0) {
            ck_assert(strncmp(out, "table,path,", 11) == 0);
            continue;
        }
        ck_assert_msg(at && at > prev, "section %s missing or out of order", sections[i]);
        prev = at;
    }
    /* Every section is: header ("table,...") then rows; sections apart by one empty line. */
    for (const char *p = out; *p;) {
        ck_assert(strncmp(p, "table,", 6) == 0);
        const char *end = strstr(p, "\n\n");
        p = end ? end + 2 : p + strlen(p);
    }
    ck_assert_has(out, "\ntable,address,space,dir,device,name,samples,samples_pct,time_pct,"
                       "total_us,min_us,mean_us,max_us\n");
    ck_assert_has(out, "\naddresses,0x3f8,pio,write,serial,serial THR write,100,86.21,");
    ck_assert_has(out, "\naddresses,0xfec00010,mmio,read,ioapic,ioapic IOWIN read,10,");
    ck_assert_has(out, "\ndevices,serial,pio,0x3f8,0x8,100,");
    ck_assert_has(out, "\nvcpus,0,101,");
    ck_assert_has(out, "\nlog,");
    ck_assert_has(out, ",116,116,"); /* exits, counted */
    ck_assert_has(out, ",false,\n"); /* not truncated, no offset */
    free(out);
    unlink(path);
}
END_TEST

START_TEST(test_json_format)
{
    char path[64];
    tmp_path(path, sizeof(path));
    write_standard(path);
    char *out = report_ok(path, "exits %s --format json --timeline 10ms");
    ck_assert_msg(json_valid(out), "invalid JSON:\n%s", out);
    const char *keys[] = {"\"log\": {",          "\"filters\": {",   "\"reasons\": [",
                          "\"addresses\": [",    "\"vcpus\": [",     "\"devices\": [",
                          "\"phases\": [",       "\"kvm_stats\": {", "\"timeline\": [",
                          "\"truncated\": false"};
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
        ck_assert_has(out, keys[i]);
    ck_assert_has(out, "{\"address\": \"0x3f8\", \"space\": \"pio\", \"dir\": \"write\", "
                       "\"device\": \"serial\", \"name\": \"serial THR write\", \"samples\": 100,");
    ck_assert_has(out, "\"address\": \"0xfec00010\"");
    ck_assert_has(out, "\"address\": \"0x60\"");
    ck_assert_has(out, "\"base\": \"0xfec00000\", \"size\": \"0x1000\"");
    ck_assert_has(out, "{\"reason\": \"IO\", \"code\": 2, \"samples\": 105,");
    ck_assert_has(out, "\"filters\": {\"vcpu\": null, \"reason\": null, \"device\": null, "
                       "\"since_ms\": null, \"until_ms\": null, \"timeline_bucket_us\": "
                       "10000.000}");
    free(out);

    out = report_ok(path, "exits %s --format json --vcpu 1 --reason io --device none --since 1ms "
                          "--until 1s");
    ck_assert_msg(json_valid(out), "invalid JSON:\n%s", out);
    ck_assert_has(out, "\"filters\": {\"vcpu\": 1, \"reason\": \"IO\", \"device\": \"none\", "
                       "\"since_ms\": 1.000000, \"until_ms\": 1000.000000");
    free(out);
    unlink(path);
}
END_TEST

/* Names from the file are escaped: CSV quotes, JSON backslashes, tables lose control bytes. */
START_TEST(test_escaping)
{
    char path[64];
    tmp_path(path, sizeof(path));
    struct exitlog *log = open_log(path, "se\"r,ial\x01", 1);
    io(log, 1 * MS, 0, 0x3f8, EXITLOG_DIR_WRITE, 100, false);
    ck_assert_int_eq(exitlog_close(log), 0);
    char *out = report_ok(path, "exits %s --format csv");
    ck_assert_has(out, "\naddresses,0x3f8,pio,write,\"se\"\"r,ial\x01\",\"se\"\"r,ial\x01 THR "
                       "write\",1,");
    free(out);
    out = report_ok(path, "exits %s --format json");
    ck_assert_msg(json_valid(out), "invalid JSON:\n%s", out);
    ck_assert_has(out, "\"device\": \"se\\\"r,ial\\u0001\"");
    free(out);
    out = report_ok(path, "exits %s");
    ck_assert_has(out, "se\"r,ial? THR write");
    free(out);
    unlink(path);
}
END_TEST

/* An empty log (header only) still gives a full, valid report. */
START_TEST(test_empty_log)
{
    char path[64];
    tmp_path(path, sizeof(path));
    struct exitlog *log = open_log(path, "serial", 1);
    ck_assert_int_eq(exitlog_close(log), 0);
    char *out = report_ok(path, "exits %s");
    ck_assert_has(out, "exits: 0 of 0");
    ck_assert_has(out, "(none)");
    ck_assert_has(out, "KVM's counts: none in this log");
    free(out);
    out = report_ok(path, "exits %s --format json --timeline 1ms");
    ck_assert_msg(json_valid(out), "invalid JSON:\n%s", out);
    ck_assert_has(out, "\"reasons\": []");
    ck_assert_has(out, "\"timeline\": []");
    ck_assert_has(out, "\"kvm_stats\": {\"present\": false");
    free(out);
    out = report_ok(path, "exits %s --format csv");
    ck_assert_has(out, "\ntable,reason,code,samples,");
    free(out);
    unlink(path);
}
END_TEST

/* ---- KVM's counts ---- */

START_TEST(test_kvm_disagree_pvm)
{
    char path[64];
    tmp_path(path, sizeof(path));
    write_standard(path);
    char *out = report_ok(path, "exits %s");
    ck_assert_has(out, "KVM's counts");
    ck_assert_has(out, "KVM's counts beside minivmm's");
    ck_assert_has(out, "note: KVM counts 0 PIO exits (io_exits), minivmm logged 105 (IO): on PVM "
                       "hosts KVM's statistics do not count PIO exits\n");
    /* MMIO agrees in total and per vCPU: no note. */
    ck_assert_hasnt(out, "MMIO exits (mmio_exits)");
    ck_assert_hasnt(out, "MMIO exits agree");
    /* KVM's "exits" is larger: it handles some itself. */
    ck_assert_has(out, "note: KVM counts 170 exits (exits), minivmm logged 116 (all reasons): KVM "
                       "also counts the exits it handles itself");
    free(out);

    out = report_ok(path, "exits %s --format csv");
    ck_assert_has(out, "\ntable,name,total,vcpu0,vcpu1\n"
                       "kvm_stats,exits,170,150,20\n"
                       "kvm_stats,io_exits,0,0,0\n"
                       "kvm_stats,mmio_exits,10,0,10\n");
    ck_assert_has(out, "\nkvm_compare,io_exits,IO,,0,105\n"
                       "kvm_compare,io_exits,IO,0,0,100\n"
                       "kvm_compare,io_exits,IO,1,0,5\n");
    ck_assert_has(out, "\nkvm_compare,mmio_exits,MMIO,,10,10\n");
    ck_assert_has(out, "\nnotes,\"KVM counts 0 PIO exits (io_exits)");
    free(out);

    out = report_ok(path, "exits %s --format json");
    ck_assert_msg(json_valid(out), "invalid JSON:\n%s", out);
    ck_assert_has(out, "\"kvm_stats\": {\"present\": true, \"compared\": true, \"stats\": [");
    ck_assert_has(out, "{\"name\": \"io_exits\", \"total\": 0, \"vcpu0\": 0, \"vcpu1\": 0}");
    ck_assert_has(out, "{\"statistic\": \"io_exits\", \"reason\": \"IO\", \"vcpu\": null, "
                       "\"kvm\": 0, \"minivmm\": 105}");
    ck_assert_has(out, "\"notes\": [\"KVM counts 170 exits");
    ck_assert_has(out, "on PVM hosts KVM's statistics do not count PIO exits\"");
    free(out);

    /* One vCPU: its statistics only. */
    out = report_ok(path, "exits %s --vcpu 1 --format csv");
    ck_assert_has(out, "\ntable,name,total,vcpu1\nkvm_stats,exits,20,20\n");
    ck_assert_has(out, "\nkvm_compare,io_exits,IO,,0,5\n");
    ck_assert_has(out, "\nnotes,\"KVM counts 0 PIO exits (io_exits), minivmm logged 5 (IO)");
    free(out);

    /* Filtered by reason/device/time: shown, not compared. */
    out = report_ok(path, "exits %s --reason mmio");
    ck_assert_has(out, "KVM's counts (its binary statistics");
    ck_assert_has(out, "not compared");
    ck_assert_hasnt(out, "note: KVM counts");
    free(out);
    out = report_ok(path, "exits %s --since 1ms --format json");
    ck_assert_has(out, "\"compared\": false");
    ck_assert_has(out, "\"compare\": [], \"notes\": []");
    free(out);
    unlink(path);
}
END_TEST

/* KVM's count nonzero but different; equal totals split differently across vCPUs; a later record
 * of the same counter replaces the earlier one. */
START_TEST(test_kvm_disagree_other)
{
    char path[64];
    tmp_path(path, sizeof(path));
    struct exitlog *log = open_log(path, "serial", 2);
    for (unsigned i = 0; i < 10; i++) {
        io(log, i * US, 0, 0x3f8, EXITLOG_DIR_WRITE, 100, false);
        mmio(log, i * US, 1, 0xfec00000, EXITLOG_DIR_WRITE, 100);
    }
    stat(log, 0, "io_exits", 3);
    stat(log, 0, "io_exits", 12); /* the last record of a counter wins */
    stat(log, 1, "io_exits", 0);
    stat(log, 0, "mmio_exits", 4);
    stat(log, 1, "mmio_exits", 6);
    stat(log, 0, "signal_exits", 0);
    stat(log, 1, "signal_exits", 1);
    stat(log, 0, "request_irq_exits", 0);
    ck_assert_int_eq(exitlog_close(log), 0);
    char *out = report_ok(path, "exits %s");
    ck_assert_has(out, "note: KVM counts 12 PIO exits (io_exits), minivmm logged 10 (IO): KVM "
                       "also counts one intercept per rep ins/outs that does no I/O");
    ck_assert_has(out, "note: MMIO exits agree in total (10) but not per vCPU: vCPU 0 KVM 4, "
                       "minivmm 0; vCPU 1 KVM 6, minivmm 10\n");
    ck_assert_has(out, "note: KVM counts 1 signal exits (signal_exits), minivmm logged 0 (INTR): "
                       "a KVM_RUN interrupted by a signal");
    ck_assert_hasnt(out, "IRQ-window");
    ck_assert_hasnt(out, "PVM");
    free(out);
    out = report_ok(path, "exits %s --format csv");
    ck_assert_has(out, "\nkvm_stats,io_exits,12,12,0\n");
    ck_assert_has(out, "\nkvm_compare,request_irq_exits,IRQ_WINDOW_OPEN,,0,0\n");
    free(out);
    unlink(path);

    /* Fewer in KVM's count than we logged, KVM's nonzero: the difference, no excuse. */
    tmp_path(path, sizeof(path));
    log = open_log(path, "serial", 1);
    for (unsigned i = 0; i < 10; i++)
        mmio(log, i * US, 0, 0xfec00000, EXITLOG_DIR_WRITE, 100);
    stat(log, 0, "mmio_exits", 7);
    ck_assert_int_eq(exitlog_close(log), 0);
    out = report_ok(path, "exits %s");
    ck_assert_has(out, "note: KVM counts 7 MMIO exits (mmio_exits), minivmm logged 10 (MMIO): 3 "
                       "fewer in KVM's count\n");
    free(out);
    unlink(path);

    /* KVM counts none, but the PVM explanation belongs to PIO exits only. */
    tmp_path(path, sizeof(path));
    log = open_log(path, "serial", 1);
    for (unsigned i = 0; i < 10; i++)
        mmio(log, i * US, 0, 0xfec00000, EXITLOG_DIR_WRITE, 100);
    stat(log, 0, "mmio_exits", 0);
    ck_assert_int_eq(exitlog_close(log), 0);
    out = report_ok(path, "exits %s");
    ck_assert_has(out, "note: KVM counts 0 MMIO exits (mmio_exits), minivmm logged 10 (MMIO): "
                       "KVM's statistics count none of them on this host\n");
    ck_assert_hasnt(out, "PVM");
    free(out);
    unlink(path);
}
END_TEST

START_TEST(test_kvm_none)
{
    char path[64];
    tmp_path(path, sizeof(path));
    struct exitlog *log = open_log(path, "serial", 1);
    io(log, 1 * MS, 0, 0x3f8, EXITLOG_DIR_WRITE, 100, false);
    ck_assert_int_eq(exitlog_close(log), 0);
    char *out = report_ok(path, "exits %s");
    ck_assert_has(out, "KVM's counts: none in this log");
    ck_assert_hasnt(out, "note:");
    free(out);
    out = report_ok(path, "exits %s --format json");
    ck_assert(json_valid(out));
    ck_assert_has(out, "\"kvm_stats\": {\"present\": false, \"compared\": false, \"stats\": [], "
                       "\"compare\": [], \"notes\": []}");
    free(out);
    unlink(path);
}
END_TEST

/* ---- truncated logs ---- */

START_TEST(test_truncated)
{
    char path[64];
    tmp_path(path, sizeof(path));
    write_standard(path);
    FILE *f = fopen(path, "rb+");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    fclose(f);
    ck_assert_int_eq(truncate(path, size - 5), 0); /* cut into the last stats record */

    struct exitreport_opts o = {.path = path, .filter.until_ns = UINT64_MAX};
    struct exitreport *r;
    char err[256];
    ck_assert_int_eq(exitreport_build(&r, &o, err, sizeof(err)), 0);
    ck_assert(exitreport_info(r)->truncated);
    exitreport_free(r);

    char *out = report_ok(path, "exits %s");
    ck_assert_has(out, "note: the log is truncated at offset ");
    ck_assert_has(out, "exits: 116 of 116");
    ck_assert_has(out, "0x3f8       serial THR write");
    /* vCPU 1's mmio_exits record is gone: KVM's MMIO count is now vCPU 0's only. */
    ck_assert_has(out, "(the log is truncated: minivmm's count misses its end)");
    free(out);
    out = report_ok(path, "exits %s --format json");
    ck_assert_msg(json_valid(out), "invalid JSON:\n%s", out);
    ck_assert_has(out, "\"truncated\": true\n}");
    free(out);
    out = report_ok(path, "exits %s --format csv");
    ck_assert_has(out, ",true,");
    free(out);

    /* Cut in the middle of the exits: the ones before the cut are reported. */
    ck_assert_int_eq(truncate(path, 1300), 0);
    ck_assert_int_eq(exitreport_build(&r, &o, err, sizeof(err)), 0);
    ck_assert(exitreport_info(r)->truncated);
    exitreport_free(r);
    unlink(path);
}
END_TEST

START_TEST(test_bad_files)
{
    char path[64], err[256];
    struct exitreport_opts o = {.path = "/nonexistent/x.log", .filter.until_ns = UINT64_MAX};
    struct exitreport *r = (struct exitreport *)&o;

    ck_assert_int_eq(exitreport_build(&r, &o, err, sizeof(err)), -ENOENT);
    ck_assert_ptr_null(r);
    ck_assert_has(err, "/nonexistent/x.log: cannot open");
    tmp_path(path, sizeof(path));
    FILE *f = fopen(path, "wb");
    fputs("this is not an exit log at all", f);
    fclose(f);
    o.path = path;
    ck_assert_int_eq(exitreport_build(&r, &o, err, sizeof(err)), -EINVAL);
    ck_assert_has(err, "not a minivmm exit log");
    unlink(path);
}
END_TEST

/* ---- size ---- */

/* A few hundred thousand exits: counts and percentiles stay exact. */
START_TEST(test_large_log)
{
    char path[64];
    tmp_path(path, sizeof(path));
    struct exitlog *log = open_log(path, "serial", 4);
    const unsigned n = 300000;
    for (unsigned i = 0; i < n; i++)
        io(log, i * US, i % 4, 0x3f8 + i % 8, EXITLOG_DIR_WRITE, 1 + (i * 7919u) % 1000, false);
    ck_assert_int_eq(exitlog_close(log), 0);
    char *out = report_ok(path, "exits %s --format csv --timeline 10ms");
    ck_assert_has(out, "\nreasons,IO,2,300000,100.00,100.00,");
    /* Times 1..1000 ns, each 300 times: p50 = 500 ns, p99 = 990 ns. */
    ck_assert_has(out, ",0.001,0.500,0.500,0.990,1.000\n");
    ck_assert_has(out, "\nvcpus,3,75000,25.00,");
    ck_assert_has(out, "\ntimeline,290.000000,10000.000,10000,10000\n");
    free(out);
    unlink(path);
}
END_TEST

/* ---- plot ---- */

static bool have_gnuplot(void)
{
    return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

static struct exitreport *build_for_plot(const char *path, const char *filters)
{
    char args[256], err[256];
    struct exitreport_opts o;
    struct exitreport *r;

    snprintf(args, sizeof(args), "exits %s --plot unused.png %s", path, filters);
    ck_assert_int_eq(parse(args, &o, err, sizeof(err)), 0);
    ck_assert_int_eq(exitreport_build(&r, &o, err, sizeof(err)), 0);
    return r;
}

START_TEST(test_plot_missing_gnuplot)
{
    char path[64], png[80], err[256];
    tmp_path(path, sizeof(path));
    write_standard(path);
    snprintf(png, sizeof(png), "%s.png", path);
    struct exitreport *r = build_for_plot(path, "");
    ck_assert_int_eq(exitreport_plot(r, png, "/nonexistent/gnuplot", err, sizeof(err)), -ENOENT);
    ck_assert_has(err, "--plot: /nonexistent/gnuplot not found (install gnuplot");
    ck_assert_int_ne(access(png, F_OK), 0); /* no empty PNG left behind */
    ck_assert_int_eq(exitreport_plot(r, "/nonexistent/dir/x.png", NULL, err, sizeof(err)), -ENOENT);
    ck_assert_has(err, "--plot: /nonexistent/dir/x.png: cannot create");
    exitreport_free(r);

    r = build_for_plot(path, "--reason shutdown");
    ck_assert_int_eq(exitreport_plot(r, png, NULL, err, sizeof(err)), -EINVAL);
    ck_assert_has(err, "no exits to plot");
    exitreport_free(r);
    unlink(path);
}
END_TEST

/* gnuplot that fails: its status is reported and the PNG removed. */
START_TEST(test_plot_failing_gnuplot)
{
    char path[64], png[80], err[256];
    tmp_path(path, sizeof(path));
    write_standard(path);
    snprintf(png, sizeof(png), "%s.png", path);
    struct exitreport *r = build_for_plot(path, "");
    ck_assert_int_eq(exitreport_plot(r, png, "false", err, sizeof(err)), -EIO);
    ck_assert_has(err, "--plot: false failed (exit status 1");
    ck_assert_int_ne(access(png, F_OK), 0);
    exitreport_free(r);
    unlink(path);
}
END_TEST

START_TEST(test_plot_png)
{
    char path[64], png[80], err[256];
    static const unsigned char magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    if (!have_gnuplot()) {
        fprintf(stderr, "test_plot_png: gnuplot not installed, only the error path tested\n");
        return;
    }
    tmp_path(path, sizeof(path));
    write_standard(path);
    snprintf(png, sizeof(png), "%s.png", path);
    const char *filters[] = {"", "--timeline 5ms", "--reason mmio", "--vcpu 1 --since 1ms"};
    for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
        struct exitreport *r = build_for_plot(path, filters[i]);
        ck_assert_msg(exitreport_plot(r, png, NULL, err, sizeof(err)) == 0, "%s: %s", filters[i],
                      err);
        exitreport_free(r);
        unsigned char head[8] = {0};
        FILE *f = fopen(png, "rb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fread(head, 1, 8, f), 8);
        fclose(f);
        ck_assert_mem_eq(head, magic, 8);
        unlink(png);
    }
    unlink(path);
}
END_TEST

static Suite *exitreport_suite(void)
{
    Suite *s = suite_create("exitreport");
    TCase *tc;

    tc = tcase_create("parse");
    tcase_add_loop_test(tc, test_parse_duration, 0, ARRAY_SIZE(durations));
    tcase_add_loop_test(tc, test_parse_reason, 0, ARRAY_SIZE(reasons));
    tcase_add_test(tc, test_parse_args);
    tcase_add_loop_test(tc, test_parse_args_bad, 0, ARRAY_SIZE(bad_args));
    suite_add_tcase(s, tc);

    tc = tcase_create("percentiles");
    tcase_add_test(tc, test_percentile_math);
    tcase_add_test(tc, test_percentiles_in_report);
    tcase_add_test(tc, test_percentiles_standard);
    suite_add_tcase(s, tc);

    tc = tcase_create("filters");
    tcase_add_test(tc, test_filter_vcpu);
    tcase_add_test(tc, test_filter_reason);
    tcase_add_test(tc, test_filter_device);
    tcase_add_test(tc, test_filter_time);
    suite_add_tcase(s, tc);

    tc = tcase_create("timeline");
    tcase_add_test(tc, test_timeline_buckets);
    tcase_add_test(tc, test_timeline_sparse);
    suite_add_tcase(s, tc);

    tc = tcase_create("phases");
    tcase_add_test(tc, test_phases);
    tcase_add_test(tc, test_phases_unsorted_and_none);
    suite_add_tcase(s, tc);

    tc = tcase_create("formats");
    tcase_add_test(tc, test_table_format);
    tcase_add_test(tc, test_top_addresses);
    tcase_add_test(tc, test_csv_format);
    tcase_add_test(tc, test_json_format);
    tcase_add_test(tc, test_escaping);
    tcase_add_test(tc, test_empty_log);
    tcase_add_test(tc, test_table_window);
    suite_add_tcase(s, tc);

    tc = tcase_create("kvm_stats");
    tcase_add_test(tc, test_kvm_disagree_pvm);
    tcase_add_test(tc, test_kvm_disagree_other);
    tcase_add_test(tc, test_kvm_none);
    suite_add_tcase(s, tc);

    tc = tcase_create("files");
    /* test_large_log writes and reports 300000 exits: ~0.15 s here, 1.6 s under valgrind. */
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_bad_files);
    tcase_add_test(tc, test_large_log);
    tcase_add_test(tc, test_timeline_dense_bounded);
    suite_add_tcase(s, tc);

    tc = tcase_create("plot");
    /* Each test starts gnuplot (or a stand-in): up to ~0.4 s here, 0.7 s under valgrind. */
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_plot_missing_gnuplot);
    tcase_add_test(tc, test_plot_failing_gnuplot);
    tcase_add_test(tc, test_plot_png);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(exitreport_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
