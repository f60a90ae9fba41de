/*
 * test_exitlog.c: unit tests of the exit log (writer, reader, bus-map naming) and of the exit
 * summary built from it.
 *
 * Each test works on its own temporary files (CK_FORK is on, so a crash fails one test and
 * stderr redirections stay inside the forked child). The fuzz cases feed the reader random
 * bytes, every truncation and bit flips of a valid log: they pass when the reader neither
 * crashes (run them under -fsanitize=address,undefined) nor accepts an impossible file silently.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "ck_loop.h"
#include "exitlog.h"
#include "exitsum.h"
#include "minivmm/abi.h"
#include "minivmm/util.h"

/* ---- helpers ---- */

static void tmp_path(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/test_exitlog.XXXXXX");
    int fd = mkstemp(buf);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* For the fuzzers, which rewrite and reread a file thousands of times: a memfd, named for
 * exitlog_read by /proc/self/fd/N, so that no disk file system is involved. */
static int mem_file(char *path, size_t len)
{
    int fd = memfd_create("test_exitlog", MFD_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    snprintf(path, len, "/proc/self/fd/%d", fd);
    return fd;
}

static void mem_write(int fd, const void *p, size_t n)
{
    LOOP_ASSERT(ftruncate(fd, 0) == 0);
    LOOP_ASSERT(pwrite(fd, p, n, 0) == (ssize_t)n);
}

static uint8_t *read_whole(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long sz = ftell(f);
    ck_assert_int_ge(sz, 0);
    rewind(f);
    uint8_t *p = malloc((size_t)sz + 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(fread(p, 1, (size_t)sz, f), (size_t)sz);
    p[sz] = 0;
    fclose(f);
    *n = (size_t)sz;
    return p;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic, so a failure reproduces. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static void set_reg(struct exitlog_reg *r, uint32_t off, const char *rd, const char *wr)
{
    r->off = off;
    snprintf(r->rd, sizeof(r->rd), "%s", rd);
    snprintf(r->wr, sizeof(r->wr), "%s", wr);
}

/* serial at 0x3f8 (RBR/THR, IER, LSR named; 0x3 not), ioapic at 0xfec00000 (IOREGSEL, IOWIN),
 * a register-less PIO device at 0x80. */
static struct exitlog_busmap *test_map(void)
{
    struct exitlog_busmap *m = calloc(1, sizeof(*m));
    ck_assert_ptr_nonnull(m);

    struct exitlog_dev *d = &m->devs[0];
    d->space = EXITLOG_SPACE_PIO;
    d->base = 0x3f8;
    d->size = 8;
    snprintf(d->name, sizeof(d->name), "serial");
    set_reg(&d->regs[0], 0, "RBR", "THR");
    set_reg(&d->regs[1], 1, "IER", "IER");
    set_reg(&d->regs[2], 5, "LSR", "");
    d->nregs = 3;

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
    d->nregs = 0;
    m->ndevs = 3;
    return m;
}

static void assert_maps_equal(const struct exitlog_busmap *a, const struct exitlog_busmap *b)
{
    ck_assert_uint_eq(a->ndevs, b->ndevs);
    for (unsigned i = 0; i < a->ndevs; i++) {
        const struct exitlog_dev *x = &a->devs[i], *y = &b->devs[i];

        ck_assert_uint_eq(x->space, y->space);
        ck_assert_uint_eq(x->base, y->base);
        ck_assert_uint_eq(x->size, y->size);
        ck_assert_str_eq(x->name, y->name);
        ck_assert_uint_eq(x->nregs, y->nregs);
        for (unsigned r = 0; r < x->nregs; r++) {
            ck_assert_uint_eq(x->regs[r].off, y->regs[r].off);
            ck_assert_str_eq(x->regs[r].rd, y->regs[r].rd);
            ck_assert_str_eq(x->regs[r].wr, y->regs[r].wr);
        }
    }
}

/* Everything a read delivered, in order. */
struct collect {
    struct exitlog_exit *exits;
    size_t nexits, capexits;
    struct exitlog_marker *markers;
    size_t nmarkers, capmarkers;
    struct exitlog_stat *stats;
    size_t nstats, capstats;
    char order[4096]; /* 'e', 'm', 's' per record, while it fits */
    size_t norder;
};

#define PUSH(arr, n, cap, val)                                                                     \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            (cap) = (cap) ? 2 * (cap) : 64;                                                        \
            (arr) = realloc((arr), (cap) * sizeof(*(arr)));                                        \
            ck_assert_ptr_nonnull(arr);                                                            \
        }                                                                                          \
        (arr)[(n)++] = (val);                                                                      \
    } while (0)

static void note(struct collect *c, char k)
{
    if (c->norder < sizeof(c->order) - 1)
        c->order[c->norder++] = k;
}

static void on_exit_rec(void *opaque, const struct exitlog_exit *r)
{
    struct collect *c = opaque;
    PUSH(c->exits, c->nexits, c->capexits, *r);
    note(c, 'e');
}

static void on_marker(void *opaque, const struct exitlog_marker *r)
{
    struct collect *c = opaque;
    PUSH(c->markers, c->nmarkers, c->capmarkers, *r);
    note(c, 'm');
}

static void on_stat(void *opaque, const struct exitlog_stat *r)
{
    struct collect *c = opaque;
    PUSH(c->stats, c->nstats, c->capstats, *r);
    note(c, 's');
}

static const struct exitlog_visitor collect_visitor = {on_exit_rec, on_marker, on_stat};

static void collect_free(struct collect *c)
{
    free(c->exits);
    free(c->markers);
    free(c->stats);
    memset(c, 0, sizeof(*c));
}

/* The header's vCPU count in the random round trip: records name vCPUs below it (the reader
 * rejects others), which leaves random ids almost the whole 32-bit range. */
#define RAND_NCPUS UINT32_MAX

static struct exitlog_exit rand_exit(unsigned i)
{
    struct exitlog_exit e = {
        .t_ns = rnd(),
        .vcpu = (uint32_t)(rnd() % RAND_NCPUS),
        .reason = (uint32_t)rnd(),
        .addr = rnd(),
        .size = (uint8_t)rnd(),
        .dir = (uint8_t)(i % 3),
        .space = (uint8_t)rnd(),
        .flags = (uint8_t)rnd(),
        .value = rnd(),
        .handle_ns = rnd(),
    };
    return e;
}

static struct exitlog_stat rand_stat(unsigned i)
{
    struct exitlog_stat s = {
        .t_ns = rnd(), .vcpu = (uint32_t)(rnd() % RAND_NCPUS), .value = rnd()};
    /* Up to the longest name that fits (47 chars). */
    int len = (int)(i % EXITLOG_STATNAME_MAX);
    for (int k = 0; k < len; k++)
        s.name[k] = (char)('a' + (rnd() % 26));
    return s;
}

/* Called for thousands of records: LOOP_ASSERT (ck_loop.h). */
static void assert_exit_eq(const struct exitlog_exit *a, const struct exitlog_exit *b)
{
#define FIELD_EQ(f) LOOP_ASSERT_MSG(a->f == b->f, "%ju vs %ju", (uintmax_t)a->f, (uintmax_t)b->f)
    FIELD_EQ(t_ns);
    FIELD_EQ(vcpu);
    FIELD_EQ(reason);
    FIELD_EQ(addr);
    FIELD_EQ(size);
    FIELD_EQ(dir);
    FIELD_EQ(space);
    FIELD_EQ(flags);
    FIELD_EQ(value);
    FIELD_EQ(handle_ns);
#undef FIELD_EQ
}

/* A small valid log: header with test_map, then 3 exits, 2 markers, 1 stat (interleaved).
 * Returns the size of the header in *hdr. */
static void write_small_log(const char *path, size_t *hdr)
{
    struct exitlog_busmap *m = test_map();
    struct exitlog *log;

    ck_assert_int_eq(exitlog_open(&log, path, m, 2), 0);
    struct exitlog_exit e = {.t_ns = 1000,
                             .vcpu = 0,
                             .reason = KVM_EXIT_IO,
                             .addr = 0x3f8,
                             .size = 1,
                             .dir = EXITLOG_DIR_WRITE,
                             .space = EXITLOG_SPACE_PIO,
                             .value = 0x41,
                             .handle_ns = 3200};
    struct exitlog_marker mk = {.t_ns = 500, .vcpu = 0, .code = MINIVMM_PHASE_ENTRY};
    struct exitlog_stat st = {.t_ns = 9000, .vcpu = 1, .value = 77};
    snprintf(st.name, sizeof(st.name), "exits");
    exitlog_marker(log, &mk);
    exitlog_exit(log, &e);
    e.t_ns = 2000;
    e.vcpu = 1;
    exitlog_exit(log, &e);
    mk.t_ns = 2500;
    mk.code = MINIVMM_PHASE_LONG_MODE;
    exitlog_marker(log, &mk);
    e.t_ns = 3000;
    exitlog_exit(log, &e);
    exitlog_stat(log, &st);
    ck_assert_int_eq(exitlog_close(log), 0);
    if (hdr) {
        *hdr = 32;
        for (unsigned i = 0; i < m->ndevs; i++)
            *hdr += 44 + 36 * (size_t)m->devs[i].nregs;
    }
    free(m);
}

#define SMALL_LOG_RECORDS_SIZE (2 * 24 + 3 * 48 + 72)

static int read_log(const char *path, struct exitlog_info *info, struct collect *c, char *err,
                    size_t errlen)
{
    return exitlog_read(path, info, &collect_visitor, c, err, errlen);
}

/* ---- round trip ---- */

START_TEST(test_round_trip)
{
    char path[64];
    tmp_path(path, sizeof(path));
    struct exitlog_busmap *m = test_map();
    struct exitlog *log;
    enum { N = 5000 }; /* several 64 KiB buffer flushes */
    static struct exitlog_exit ex[N];
    static struct exitlog_marker mk[N];
    static struct exitlog_stat st[N];
    char want_order[3 * N + 1];

    ck_assert_int_eq(exitlog_open(&log, path, m, RAND_NCPUS), 0);
    size_t no = 0;
    for (unsigned i = 0; i < N; i++) {
        ex[i] = rand_exit(i);
        mk[i] = (struct exitlog_marker){
            .t_ns = rnd(), .vcpu = (uint32_t)(rnd() % RAND_NCPUS), .code = (uint32_t)rnd()};
        st[i] = rand_stat(i);
        exitlog_exit(log, &ex[i]);
        want_order[no++] = 'e';
        if (i % 3 == 0) {
            exitlog_marker(log, &mk[i]);
            want_order[no++] = 'm';
        }
        if (i % 7 == 0) {
            exitlog_stat(log, &st[i]);
            want_order[no++] = 's';
        }
    }
    ck_assert_int_eq(exitlog_flush(log), 0);
    ck_assert_int_eq(exitlog_close(log), 0);

    struct exitlog_info *info = calloc(1, sizeof(*info));
    struct collect c = {0};
    char err[256];
    ck_assert_int_eq(read_log(path, info, &c, err, sizeof(err)), 0);
    ck_assert_uint_eq(info->version, EXITLOG_VERSION);
    ck_assert_uint_eq(info->ncpus, RAND_NCPUS);
    ck_assert_uint_gt(info->start_realtime_ns, 1500000000ull * 1000000000ull); /* after 2017 */
    ck_assert(!info->truncated);
    ck_assert_uint_eq(info->nskipped, 0);
    assert_maps_equal(m, &info->map);
    ck_assert_uint_eq(c.nexits, N);
    ck_assert_uint_eq(c.nmarkers, (N + 2) / 3);
    ck_assert_uint_eq(c.nstats, (N + 6) / 7);
    ck_assert_uint_eq(info->nrecords, c.nexits + c.nmarkers + c.nstats);
    for (unsigned i = 0; i < N; i++)
        assert_exit_eq(&c.exits[i], &ex[i]);
    for (unsigned i = 0, k = 0; i < N; i += 3, k++) {
        LOOP_ASSERT_MSG(c.markers[k].t_ns == mk[i].t_ns, "marker %u", k);
        LOOP_ASSERT_MSG(c.markers[k].vcpu == mk[i].vcpu, "marker %u", k);
        LOOP_ASSERT_MSG(c.markers[k].code == mk[i].code, "marker %u", k);
    }
    for (unsigned i = 0, k = 0; i < N; i += 7, k++) {
        LOOP_ASSERT_MSG(c.stats[k].t_ns == st[i].t_ns, "stat %u", k);
        LOOP_ASSERT_MSG(c.stats[k].vcpu == st[i].vcpu, "stat %u", k);
        LOOP_ASSERT_MSG(strcmp(c.stats[k].name, st[i].name) == 0, "stat %u: '%s' vs '%s'", k,
                        c.stats[k].name, st[i].name);
        LOOP_ASSERT_MSG(c.stats[k].value == st[i].value, "stat %u", k);
    }
    ck_assert_mem_eq(c.order, want_order, c.norder);

    /* The file is exactly header + packed records: nothing else, no struct padding. */
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    size_t hdr = 32 + 3 * 44 + 5 * 36;
    ck_assert_uint_eq((uint64_t)sb.st_size,
                      hdr + 48ull * N + 24ull * c.nmarkers + 72ull * c.nstats);
    collect_free(&c);
    free(info);
    free(m);
    unlink(path);
}
END_TEST

/* Byte-exact layout of the header and of each record type (the documented offsets). */
START_TEST(test_layout)
{
    char path[64];
    tmp_path(path, sizeof(path));
    struct exitlog_busmap *m = calloc(1, sizeof(*m));
    struct exitlog *log;

    m->ndevs = 1;
    m->devs[0] = (struct exitlog_dev){.space = 1, .base = 0x1122334455667788ull, .size = 0x10};
    snprintf(m->devs[0].name, sizeof(m->devs[0].name), "dev");
    set_reg(&m->devs[0].regs[0], 0xa0b0c0d0, "R", "W");
    m->devs[0].nregs = 1;
    ck_assert_int_eq(exitlog_open(&log, path, m, 3), 0);
    exitlog_exit(log, &(struct exitlog_exit){.t_ns = 0x0102030405060708ull,
                                             .vcpu = 0x11223344,
                                             .reason = 6,
                                             .addr = 0xfec00010,
                                             .size = 4,
                                             .dir = 2,
                                             .space = 1,
                                             .flags = 1,
                                             .value = 0xdeadbeef,
                                             .handle_ns = 0x99});
    exitlog_marker(log, &(struct exitlog_marker){.t_ns = 5, .vcpu = 6, .code = 7});
    struct exitlog_stat st = {.t_ns = 8, .vcpu = 9, .value = 0xabcdef};
    snprintf(st.name, sizeof(st.name), "halt_exits");
    exitlog_stat(log, &st);
    ck_assert_int_eq(exitlog_close(log), 0);

    size_t n;
    uint8_t *p = read_whole(path, &n);
    size_t hdr = 32 + 44 + 36;
    ck_assert_uint_eq(n, hdr + 48 + 24 + 72);
    static const uint8_t want_hdr[] = {'M', 'V', 'M', 'M', 'X',          'L', 'O', 'G',
                                       1,   0,   0,   0,   32 + 44 + 36, 0,   0,   0};
    ck_assert_mem_eq(p, want_hdr, sizeof(want_hdr));
    ck_assert_mem_eq(p + 24, "\3\0\0\0\1\0\0\0", 8);
    static const uint8_t want_dev[] = {1,    1,    0,    0,    0x88, 0x77, 0x66, 0x55,
                                       0x44, 0x33, 0x22, 0x11, 0x10, 0,    0,    0,
                                       0,    0,    0,    0,    'd',  'e',  'v',  0};
    ck_assert_mem_eq(p + 32, want_dev, sizeof(want_dev));
    ck_assert_mem_eq(p + 76, "\xd0\xc0\xb0\xa0R\0", 6);
    ck_assert_mem_eq(p + 96, "W\0", 2);

    const uint8_t *r = p + hdr;
    static const uint8_t want_exit[48] = {
        1,    0,    48,   0,    8,    7, 6,    5,    4,    3, 2, 1, 0x44, 0x33, 0x22, 0x11,
        6,    0,    0,    0,    0x10, 0, 0xc0, 0xfe, 0,    0, 0, 0, 4,    2,    1,    1,
        0xef, 0xbe, 0xad, 0xde, 0,    0, 0,    0,    0x99, 0, 0, 0, 0,    0,    0,    0};
    ck_assert_mem_eq(r, want_exit, 48);
    static const uint8_t want_marker[24] = {2, 0, 24, 0, 5, 0, 0, 0, 0, 0, 0, 0,
                                            6, 0, 0,  0, 7, 0, 0, 0, 0, 0, 0, 0};
    ck_assert_mem_eq(r + 48, want_marker, 24);
    const uint8_t *s = r + 72;
    ck_assert_mem_eq(s, "\3\0\x48\0\x08\0\0\0\0\0\0\0\x09\0\0\0halt_exits\0", 27);
    ck_assert_mem_eq(s + 64, "\xef\xcd\xab\0\0\0\0\0", 8);
    free(p);
    free(m);
    unlink(path);
}
END_TEST

/* ---- names ---- */

static const struct {
    uint32_t reason;
    const char *name;
} reasons[] = {
    {KVM_EXIT_UNKNOWN, "UNKNOWN"},
    {KVM_EXIT_EXCEPTION, "EXCEPTION"},
    {KVM_EXIT_IO, "IO"},
    {KVM_EXIT_HYPERCALL, "HYPERCALL"},
    {KVM_EXIT_DEBUG, "DEBUG"},
    {KVM_EXIT_HLT, "HLT"},
    {KVM_EXIT_MMIO, "MMIO"},
    {KVM_EXIT_IRQ_WINDOW_OPEN, "IRQ_WINDOW_OPEN"},
    {KVM_EXIT_SHUTDOWN, "SHUTDOWN"},
    {KVM_EXIT_FAIL_ENTRY, "FAIL_ENTRY"},
    {KVM_EXIT_INTR, "INTR"},
    {KVM_EXIT_SET_TPR, "SET_TPR"},
    {KVM_EXIT_TPR_ACCESS, "TPR_ACCESS"},
    {KVM_EXIT_NMI, "NMI"},
    {KVM_EXIT_INTERNAL_ERROR, "INTERNAL_ERROR"},
    {KVM_EXIT_SYSTEM_EVENT, "SYSTEM_EVENT"},
    {KVM_EXIT_IOAPIC_EOI, "IOAPIC_EOI"},
    {KVM_EXIT_X86_RDMSR, "X86_RDMSR"},
    {KVM_EXIT_X86_WRMSR, "X86_WRMSR"},
    {KVM_EXIT_X86_BUS_LOCK, "X86_BUS_LOCK"},
    {KVM_EXIT_NOTIFY, "NOTIFY"},
    {39, "MEMORY_FAULT"},
    {1000, "UNKNOWN"},
    {UINT32_MAX, "UNKNOWN"},
};

START_TEST(test_reason_names)
{
    ck_assert_str_eq(exitlog_reason_name(reasons[_i].reason), reasons[_i].name);
}
END_TEST

START_TEST(test_reason_names_complete)
{
    /* Every number up to the newest one the header defines has a name of its own. */
    for (uint32_t r = 1; r <= KVM_EXIT_NOTIFY; r++)
        ck_assert_str_ne(exitlog_reason_name(r), "UNKNOWN");
}
END_TEST

START_TEST(test_phase_names)
{
    ck_assert_str_eq(exitlog_phase_name(MINIVMM_PHASE_ENTRY), "entry");
    ck_assert_str_eq(exitlog_phase_name(MINIVMM_PHASE_LONG_MODE), "long-mode");
    ck_assert_str_eq(exitlog_phase_name(MINIVMM_PHASE_DONE), "done");
    ck_assert_ptr_null(exitlog_phase_name(0));
    ck_assert_ptr_null(exitlog_phase_name(MINIVMM_PHASE_MAX + 1));
    ck_assert_ptr_null(exitlog_phase_name(UINT32_MAX));
}
END_TEST

static const struct {
    uint8_t space;
    uint64_t addr;
    uint8_t dir;
    const char *name;
    int dev;
} names[] = {
    {EXITLOG_SPACE_PIO, 0x3f8, EXITLOG_DIR_WRITE, "serial THR write", 0},
    {EXITLOG_SPACE_PIO, 0x3f8, EXITLOG_DIR_READ, "serial RBR read", 0},
    {EXITLOG_SPACE_PIO, 0x3fd, EXITLOG_DIR_READ, "serial LSR read", 0},
    {EXITLOG_SPACE_PIO, 0x3fd, EXITLOG_DIR_WRITE, "serial+0x5 write", 0}, /* no write name */
    {EXITLOG_SPACE_PIO, 0x3fb, EXITLOG_DIR_WRITE, "serial+0x3 write", 0},
    {EXITLOG_SPACE_PIO, 0x3ff, EXITLOG_DIR_READ, "serial+0x7 read", 0},
    {EXITLOG_SPACE_PIO, 0x3f9, EXITLOG_DIR_NONE, "serial IER", 0},
    {EXITLOG_SPACE_PIO, 0x400, EXITLOG_DIR_WRITE, "(none) write", -1},
    {EXITLOG_SPACE_PIO, 0x3f7, EXITLOG_DIR_READ, "(none) read", -1},
    {EXITLOG_SPACE_PIO, 0x80, EXITLOG_DIR_WRITE, "phase+0x0 write", 2},
    {EXITLOG_SPACE_MMIO, 0xfec00010, EXITLOG_DIR_READ, "ioapic IOWIN read", 1},
    {EXITLOG_SPACE_MMIO, 0xfec00000, EXITLOG_DIR_WRITE, "ioapic IOREGSEL write", 1},
    {EXITLOG_SPACE_MMIO, 0xfec00040, EXITLOG_DIR_WRITE, "ioapic+0x40 write", 1},
    {EXITLOG_SPACE_MMIO, 0xfec01000, EXITLOG_DIR_WRITE, "(none) write", -1},
    {EXITLOG_SPACE_MMIO, 0x3f8, EXITLOG_DIR_WRITE, "(none) write", -1}, /* wrong space */
    {EXITLOG_SPACE_PIO, 0xfec00010, EXITLOG_DIR_READ, "(none) read", -1},
    {EXITLOG_SPACE_NONE, 0x3f8, EXITLOG_DIR_NONE, "(none)", -1},
};

START_TEST(test_busmap_name)
{
    struct exitlog_busmap *m = test_map();
    char buf[64];

    ck_assert_str_eq(
        exitlog_busmap_name(m, names[_i].space, names[_i].addr, names[_i].dir, buf, sizeof(buf)),
        names[_i].name);
    ck_assert_int_eq(exitlog_busmap_find(m, names[_i].space, names[_i].addr), names[_i].dev);
    free(m);
}
END_TEST

START_TEST(test_busmap_edges)
{
    struct exitlog_busmap *m = test_map();
    char buf[64];

    /* Short buffers truncate, never overflow. */
    memset(buf, 'x', sizeof(buf));
    ck_assert_str_eq(exitlog_busmap_name(m, EXITLOG_SPACE_PIO, 0x3f8, EXITLOG_DIR_WRITE, buf, 7),
                     "serial");
    ck_assert_int_eq(buf[7], 'x');
    ck_assert_ptr_eq(exitlog_busmap_name(m, EXITLOG_SPACE_PIO, 0x3f8, 1, buf, 0), buf);
    /* Unknown direction values still produce text. */
    ck_assert_str_eq(exitlog_busmap_name(m, EXITLOG_SPACE_PIO, 0x3f8, 9, buf, sizeof(buf)),
                     "serial RBR dir?");
    /* A device ending at 2^64 does not wrap. */
    m->devs[3] = (struct exitlog_dev){.space = 1, .base = UINT64_MAX - 0xfff, .size = 0x1000};
    snprintf(m->devs[3].name, sizeof(m->devs[3].name), "top");
    m->ndevs = 4;
    ck_assert_int_eq(exitlog_busmap_find(m, 1, UINT64_MAX), 3);
    ck_assert_int_eq(exitlog_busmap_find(m, 1, UINT64_MAX - 0x1000), -1);
    ck_assert_str_eq(exitlog_busmap_name(m, 1, UINT64_MAX, 1, buf, sizeof(buf)), "top+0xfff read");
    /* Names that fill their field without a NUL do not run off. */
    memset(m->devs[0].name, 'S', sizeof(m->devs[0].name));
    memset(m->devs[0].regs[0].wr, 'T', sizeof(m->devs[0].regs[0].wr));
    char big[128];
    exitlog_busmap_name(m, EXITLOG_SPACE_PIO, 0x3f8, EXITLOG_DIR_WRITE, big, sizeof(big));
    ck_assert_uint_eq(strlen(big), 24 + 1 + 16 + 6);
    /* NULL map: nothing is named. */
    ck_assert_str_eq(exitlog_busmap_name(NULL, 0, 0x3f8, 2, buf, sizeof(buf)), "(none) write");
    ck_assert_int_eq(exitlog_busmap_find(NULL, 0, 0x3f8), -1);
    free(m);
}
END_TEST

static void nop_read(void *o, unsigned v, uint64_t off, uint8_t *d, unsigned l)
{
    (void)o, (void)v, (void)off, (void)d, (void)l;
}

START_TEST(test_busmap_from_bus)
{
    static const struct bus_dev_ops ops = {.read = nop_read};
    static const struct bus_reg uart_regs[] = {
        {0, "RBR", "THR"}, {1, "IER", "IER"}, {5, "LSR", NULL}, {7, NULL, NULL}};
    static const struct bus_reg ioapic_regs[] = {{0x00, "IOREGSEL", "IOREGSEL"},
                                                 {0x10, "IOWIN", "IOWIN"}};
    struct bus bus;
    memset(&bus, 0, sizeof(bus));
    bus.devs[0] = (struct bus_dev){.name = "serial",
                                   .space = BUS_PIO,
                                   .base = 0x3f8,
                                   .size = 8,
                                   .ops = &ops,
                                   .regs = uart_regs,
                                   .nregs = 4};
    bus.devs[1] = (struct bus_dev){.name = "ioapic",
                                   .space = BUS_MMIO,
                                   .base = 0xfec00000,
                                   .size = 0x1000,
                                   .ops = &ops,
                                   .regs = ioapic_regs,
                                   .nregs = 2};
    bus.devs[2] = (struct bus_dev){.name = "a-name-much-longer-than-24-chars",
                                   .space = BUS_PIO,
                                   .base = 0x80,
                                   .size = 1,
                                   .ops = &ops};
    bus.ndevs = 3;

    struct exitlog_busmap *m = malloc(sizeof(*m));
    memset(m, 0xa5, sizeof(*m));
    exitlog_busmap_from_bus(m, &bus);
    ck_assert_uint_eq(m->ndevs, 3);
    ck_assert_uint_eq(m->devs[0].space, EXITLOG_SPACE_PIO);
    ck_assert_uint_eq(m->devs[1].space, EXITLOG_SPACE_MMIO);
    ck_assert_uint_eq(m->devs[1].base, 0xfec00000);
    ck_assert_uint_eq(m->devs[1].size, 0x1000);
    ck_assert_str_eq(m->devs[0].name, "serial");
    ck_assert_uint_eq(m->devs[0].nregs, 4);
    ck_assert_str_eq(m->devs[0].regs[2].rd, "LSR");
    ck_assert_str_eq(m->devs[0].regs[2].wr, "");
    ck_assert_str_eq(m->devs[2].name, "a-name-much-longer-than"); /* 23 chars + NUL */
    ck_assert_uint_eq(m->devs[2].nregs, 0);

    char buf[64];
    ck_assert_str_eq(exitlog_busmap_name(m, 0, 0x3f8, 2, buf, sizeof(buf)), "serial THR write");
    ck_assert_str_eq(exitlog_busmap_name(m, 0, 0x3fd, 2, buf, sizeof(buf)), "serial+0x5 write");
    ck_assert_str_eq(exitlog_busmap_name(m, 0, 0x3ff, 1, buf, sizeof(buf)), "serial+0x7 read");
    ck_assert_str_eq(exitlog_busmap_name(m, 1, 0xfec00010, 1, buf, sizeof(buf)),
                     "ioapic IOWIN read");
    ck_assert_str_eq(exitlog_busmap_name(m, 0, 0x60, 1, buf, sizeof(buf)), "(none) read");

    exitlog_busmap_from_bus(m, NULL);
    ck_assert_uint_eq(m->ndevs, 0);
    free(m);
}
END_TEST

/* ---- reader: compatibility and damage ---- */

START_TEST(test_unknown_record_skipped)
{
    char path[64];
    size_t hdr, n;
    tmp_path(path, sizeof(path));
    write_small_log(path, &hdr);
    uint8_t *p = read_whole(path, &n);

    /* Insert an unknown type-99 record of 10 bytes and a type-200 record of 4 bytes after the
     * first record (a 24-byte marker), and grow the second record (an exit) to 56 bytes as a
     * later version might. */
    uint8_t *q = calloc(1, n + 14 + 8);
    size_t k = 0;
    memcpy(q, p, hdr + 24);
    k = hdr + 24;
    put_le16(q + k, 99);
    put_le16(q + k + 2, 10);
    memset(q + k + 4, 0xee, 6);
    k += 10;
    put_le16(q + k, 200);
    put_le16(q + k + 2, 4);
    k += 4;
    memcpy(q + k, p + hdr + 24, 48);
    put_le16(q + k + 2, 56);
    memset(q + k + 48, 0x77, 8);
    k += 56;
    memcpy(q + k, p + hdr + 24 + 48, n - hdr - 24 - 48);
    k += n - hdr - 24 - 48;
    write_file(path, q, k);

    struct exitlog_info *info = calloc(1, sizeof(*info));
    struct collect c = {0};
    char err[256];
    ck_assert_int_eq(read_log(path, info, &c, err, sizeof(err)), 0);
    ck_assert_uint_eq(info->nskipped, 2);
    ck_assert_uint_eq(info->nrecords, 6);
    ck_assert(!info->truncated);
    ck_assert_uint_eq(c.nexits, 3);
    ck_assert_uint_eq(c.exits[0].addr, 0x3f8);
    ck_assert_uint_eq(c.exits[0].value, 0x41);
    ck_assert_uint_eq(c.exits[0].handle_ns, 3200);
    ck_assert_uint_eq(c.exits[1].t_ns, 2000);
    ck_assert_uint_eq(c.nmarkers, 2);
    ck_assert_uint_eq(c.markers[1].code, MINIVMM_PHASE_LONG_MODE);
    ck_assert_uint_eq(c.nstats, 1);
    ck_assert_str_eq(c.stats[0].name, "exits");
    ck_assert_uint_eq(c.stats[0].value, 77);
    ck_assert_mem_eq(c.order, "meemes", 6);
    collect_free(&c);
    free(info);
    free(p);
    free(q);
    unlink(path);
}
END_TEST

START_TEST(test_truncated_tail)
{
    char path[64];
    size_t hdr, n;
    tmp_path(path, sizeof(path));
    write_small_log(path, &hdr);
    uint8_t *p = read_whole(path, &n);
    ck_assert_uint_eq(n, hdr + SMALL_LOG_RECORDS_SIZE);

    /* Record boundaries: marker 24, exit 48, exit 48, marker 24, exit 48, stat 72. */
    static const size_t sizes[] = {24, 48, 48, 24, 48, 72};
    struct exitlog_info *info = calloc(1, sizeof(*info));
    char err[256];
    char mpath[64];
    int fd = mem_file(mpath, sizeof(mpath));
    for (size_t cut = hdr; cut <= n; cut++) {
        size_t start = hdr, whole = 0;
        while (whole < 6 && start + sizes[whole] <= cut)
            start += sizes[whole++];
        mem_write(fd, p, cut);
        struct collect c = {0};
        LOOP_ASSERT_MSG(read_log(mpath, info, &c, err, sizeof(err)) == 0, "cut %zu: %s", cut, err);
        LOOP_ASSERT_MSG(info->nrecords == whole, "cut %zu", cut);
        LOOP_ASSERT_MSG(c.nexits + c.nmarkers + c.nstats == whole, "cut %zu", cut);
        LOOP_ASSERT_MSG(info->truncated == (cut != start), "cut %zu", cut);
        if (info->truncated)
            LOOP_ASSERT_MSG(info->trunc_offset == start, "cut %zu", cut);
        collect_free(&c);
    }
    close(fd);
    free(info);
    free(p);
    unlink(path);
}
END_TEST

static void expect_error(const char *path, int want_rc, const char *want_suffix)
{
    char err[256], want[512];
    struct exitlog_info *info = calloc(1, sizeof(*info));
    struct collect c = {0};

    ck_assert_int_eq(read_log(path, info, &c, err, sizeof(err)), want_rc);
    snprintf(want, sizeof(want), "%s: %s", path, want_suffix);
    ck_assert_str_eq(err, want);
    collect_free(&c);
    free(info);
}

START_TEST(test_error_too_short)
{
    char path[64];
    tmp_path(path, sizeof(path));
    expect_error(path, -EINVAL, "not a minivmm exit log (too short)");
    write_file(path, "MVMM", 4);
    expect_error(path, -EINVAL, "not a minivmm exit log (too short)");
    write_file(path, "MVMMXLOG\1\0\0\0\x20\0\0", 15);
    expect_error(path, -EINVAL, "not a minivmm exit log (too short)");
    unlink(path);
}
END_TEST

START_TEST(test_error_bad_magic)
{
    char path[64];
    size_t n;
    tmp_path(path, sizeof(path));
    write_small_log(path, NULL);
    uint8_t *p = read_whole(path, &n);
    p[3] = 'm';
    write_file(path, p, n);
    expect_error(path, -EINVAL, "not a minivmm exit log (bad magic)");
    write_file(path, "#!/bin/sh\necho hello\n", 21);
    expect_error(path, -EINVAL, "not a minivmm exit log (bad magic)");
    free(p);
    unlink(path);
}
END_TEST

START_TEST(test_error_version)
{
    char path[64];
    size_t n;
    tmp_path(path, sizeof(path));
    write_small_log(path, NULL);
    uint8_t *p = read_whole(path, &n);
    put_le32(p + 8, 2);
    write_file(path, p, n);
    expect_error(path, -ENOTSUP, "exit log version 2 not supported (this minivmm reads version 1)");
    put_le32(p + 8, 0);
    write_file(path, p, n);
    expect_error(path, -ENOTSUP, "exit log version 0 not supported (this minivmm reads version 1)");
    free(p);
    unlink(path);
}
END_TEST

START_TEST(test_error_corrupt_record)
{
    char path[64];
    size_t hdr, n;
    char want[64];
    tmp_path(path, sizeof(path));
    write_small_log(path, &hdr);
    uint8_t *p = read_whole(path, &n);

    /* Second record (an exit at hdr+24) claims 3 bytes: shorter than its own prefix. */
    put_le16(p + hdr + 24 + 2, 3);
    write_file(path, p, n);
    snprintf(want, sizeof(want), "corrupt record at offset %zu", hdr + 24);
    expect_error(path, -EINVAL, want);
    /* ... or 47 bytes, one short of an exit record. */
    put_le16(p + hdr + 24 + 2, 47);
    write_file(path, p, n);
    expect_error(path, -EINVAL, want);
    /* An unknown type with bytes 0 would loop forever if accepted. */
    put_le16(p + hdr + 24, 1234);
    put_le16(p + hdr + 24 + 2, 0);
    write_file(path, p, n);
    expect_error(path, -EINVAL, want);
    /* A stat record of 71 bytes (last record). */
    put_le16(p + hdr + 24, 1);
    put_le16(p + hdr + 24 + 2, 48);
    put_le16(p + n - 72 + 2, 71);
    write_file(path, p, n);
    snprintf(want, sizeof(want), "corrupt record at offset %zu", n - 72);
    expect_error(path, -EINVAL, want);
    /* A marker of 23 bytes (first record). */
    put_le16(p + n - 72 + 2, 72);
    put_le16(p + hdr + 2, 23);
    write_file(path, p, n);
    snprintf(want, sizeof(want), "corrupt record at offset %zu", hdr);
    expect_error(path, -EINVAL, want);
    free(p);
    unlink(path);
}
END_TEST

/* A record names a vCPU the header does not have (write_small_log's header: 2 vCPUs): corrupt,
 * at its offset, whatever its type, so that a log cannot make readers keep state for 2^32
 * vCPUs. */
START_TEST(test_error_vcpu_beyond_header)
{
    char path[64];
    size_t hdr, n;
    char want[96];
    struct exitlog_info info;
    struct collect c = {0};
    char err[256];
    tmp_path(path, sizeof(path));
    write_small_log(path, &hdr);
    uint8_t *p = read_whole(path, &n);

    /* vCPU 1, the header's last, is fine. */
    put_le32(p + hdr + 24 + 12, 1);
    write_file(path, p, n);
    ck_assert_int_eq(read_log(path, &info, &c, err, sizeof(err)), 0);
    ck_assert_uint_eq(info.ncpus, 2);
    collect_free(&c);
    /* The second record, an exit at hdr+24, on vCPU 2. */
    put_le32(p + hdr + 24 + 12, 2);
    write_file(path, p, n);
    snprintf(want, sizeof(want), "corrupt record at offset %zu (vCPU 2, but the header has 2 vCPUs)",
             hdr + 24);
    expect_error(path, -EINVAL, want);
    /* A marker (the first record) on vCPU 0xffffffff. */
    put_le32(p + hdr + 24 + 12, 0);
    put_le32(p + hdr + 12, 0xffffffffu);
    write_file(path, p, n);
    snprintf(want, sizeof(want),
             "corrupt record at offset %zu (vCPU 4294967295, but the header has 2 vCPUs)", hdr);
    expect_error(path, -EINVAL, want);
    /* A stat (the last record) on vCPU 7. */
    put_le32(p + hdr + 12, 0);
    put_le32(p + n - 72 + 12, 7);
    write_file(path, p, n);
    snprintf(want, sizeof(want), "corrupt record at offset %zu (vCPU 7, but the header has 2 vCPUs)",
             n - 72);
    expect_error(path, -EINVAL, want);
    /* A header of 0 vCPUs has no record that is valid. */
    put_le32(p + n - 72 + 12, 0);
    put_le32(p + 24, 0);
    write_file(path, p, n);
    snprintf(want, sizeof(want), "corrupt record at offset %zu (vCPU 0, but the header has 0 vCPUs)",
             hdr);
    expect_error(path, -EINVAL, want);
    free(p);
    unlink(path);
}
END_TEST

START_TEST(test_error_header)
{
    char path[64];
    size_t hdr, n;
    tmp_path(path, sizeof(path));
    write_small_log(path, &hdr);
    uint8_t *p = read_whole(path, &n);
    uint8_t *q = malloc(n);
    char want[160];

    /* header_bytes one too large or too small. */
    memcpy(q, p, n);
    put_le32(q + 12, (uint32_t)hdr + 1);
    write_file(path, q, n);
    snprintf(want, sizeof(want),
             "corrupt exit log header (header_bytes %zu does not match its bus map)", hdr + 1);
    expect_error(path, -EINVAL, want);
    put_le32(q + 12, (uint32_t)hdr - 1);
    write_file(path, q, n);
    snprintf(want, sizeof(want),
             "corrupt exit log header (header_bytes %zu does not match its bus map)", hdr - 1);
    expect_error(path, -EINVAL, want);
    put_le32(q + 12, 0);
    write_file(path, q, n);
    expect_error(path, -EINVAL,
                 "corrupt exit log header (header_bytes 0 does not match its bus map)");

    /* Too many devices. */
    memcpy(q, p, n);
    put_le32(q + 28, EXITLOG_MAX_DEVS + 1);
    write_file(path, q, n);
    expect_error(path, -EINVAL, "corrupt exit log header (65 devices, at most 64)");
    put_le32(q + 28, UINT32_MAX);
    write_file(path, q, n);
    expect_error(path, -EINVAL, "corrupt exit log header (4294967295 devices, at most 64)");

    /* Too many registers in device 1 (its nregs byte is at 32 + 44 + 3 * 36 + 1). */
    memcpy(q, p, n);
    q[32 + 44 + 3 * 36 + 1] = EXITLOG_MAX_REGS + 1;
    write_file(path, q, n);
    expect_error(path, -EINVAL, "corrupt exit log header (device 1: 65 registers, at most 64)");

    /* A bad address space. */
    memcpy(q, p, n);
    q[32] = 7;
    write_file(path, q, n);
    expect_error(path, -EINVAL, "corrupt exit log header (device 0: space 7)");

    /* The file ends inside the bus map. */
    write_file(path, p, hdr - 10);
    snprintf(want, sizeof(want), "exit log header truncated (file ends before byte %zu)", hdr);
    expect_error(path, -EINVAL, want);

    /* Missing file. */
    unlink(path);
    expect_error(path, -ENOENT, "cannot open: No such file or directory");
    free(p);
    free(q);
}
END_TEST

START_TEST(test_names_force_terminated)
{
    char path[64];
    size_t hdr, n;
    tmp_path(path, sizeof(path));
    write_small_log(path, &hdr);
    uint8_t *p = read_whole(path, &n);

    memset(p + 32 + 20, 'N', EXITLOG_NAME_MAX);         /* device 0 name */
    memset(p + 32 + 44 + 4, 'R', EXITLOG_REGNAME_MAX);  /* its register 0 rd */
    memset(p + 32 + 44 + 20, 'W', EXITLOG_REGNAME_MAX); /* and wr */
    memset(p + n - 72 + 16, 'S', EXITLOG_STATNAME_MAX); /* the stat's name */
    write_file(path, p, n);

    struct exitlog_info *info = calloc(1, sizeof(*info));
    struct collect c = {0};
    char err[256];
    ck_assert_int_eq(read_log(path, info, &c, err, sizeof(err)), 0);
    ck_assert_uint_eq(strlen(info->map.devs[0].name), EXITLOG_NAME_MAX - 1);
    ck_assert_uint_eq(strlen(info->map.devs[0].regs[0].rd), EXITLOG_REGNAME_MAX - 1);
    ck_assert_uint_eq(strlen(info->map.devs[0].regs[0].wr), EXITLOG_REGNAME_MAX - 1);
    ck_assert_uint_eq(c.nstats, 1);
    ck_assert_uint_eq(strlen(c.stats[0].name), EXITLOG_STATNAME_MAX - 1);
    ck_assert_str_eq(info->map.devs[1].name, "ioapic");
    collect_free(&c);
    free(info);
    free(p);
    unlink(path);
}
END_TEST

START_TEST(test_read_null_args)
{
    char path[64];
    tmp_path(path, sizeof(path));
    write_small_log(path, NULL);
    /* No info, no visitor, no err buffer: still reads. */
    ck_assert_int_eq(exitlog_read(path, NULL, NULL, NULL, NULL, 0), 0);
    struct exitlog_visitor only_exits = {.exit = on_exit_rec};
    struct collect c = {0};
    ck_assert_int_eq(exitlog_read(path, NULL, &only_exits, &c, NULL, 0), 0);
    ck_assert_uint_eq(c.nexits, 3);
    ck_assert_uint_eq(c.nmarkers, 0);
    collect_free(&c);
    unlink(path);
}
END_TEST

/* ---- fuzzing the reader ---- */

static void count_exit(void *o, const struct exitlog_exit *r)
{
    /* Touch every field so UBSan/ASan see them used. */
    uint64_t *n = o;
    *n += r->t_ns ^ r->vcpu ^ r->reason ^ r->addr ^ r->size ^ r->dir ^ r->space ^ r->flags ^
          r->value ^ r->handle_ns;
}

static void count_marker(void *o, const struct exitlog_marker *r)
{
    uint64_t *n = o;
    *n += r->t_ns ^ r->vcpu ^ r->code;
}

static void count_stat(void *o, const struct exitlog_stat *r)
{
    uint64_t *n = o;
    *n += strlen(r->name) + r->value;
}

static const struct exitlog_visitor fuzz_visitor = {count_exit, count_marker, count_stat};

/* Reads path, feeding an exitsum and naming every exit like `minivmm exits` would. */
static int fuzz_read(const char *path, struct exitlog_info *info)
{
    char err[256];
    uint64_t acc = 0;
    err[0] = 'x';
    int r = exitlog_read(path, info, &fuzz_visitor, &acc, err, sizeof(err));
    if (r < 0) {
        LOOP_ASSERT_MSG(strlen(err) > strlen(path) + 2, "%s", err);
        LOOP_ASSERT_MSG(strncmp(err, path, strlen(path)) == 0, "%s", err);
    } else {
        LOOP_ASSERT_MSG(r == 0, "%d", r);
        LOOP_ASSERT(info->map.ndevs <= EXITLOG_MAX_DEVS);
        for (unsigned i = 0; i < info->map.ndevs; i++) {
            LOOP_ASSERT(info->map.devs[i].nregs <= EXITLOG_MAX_REGS);
            LOOP_ASSERT(strlen(info->map.devs[i].name) < EXITLOG_NAME_MAX);
        }
    }
    return r;
}

START_TEST(test_fuzz_random)
{
    char path[64];
    int fd = mem_file(path, sizeof(path));
    struct exitlog_info *info = calloc(1, sizeof(*info));
    uint8_t buf[2048];

    for (int iter = 0; iter < 2000; iter++) {
        size_t n = rnd() % sizeof(buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)rnd();
        /* Half of them get a plausible header so the fuzzing reaches the records. */
        if (iter % 2 && n >= 32) {
            memcpy(buf, EXITLOG_MAGIC, 8);
            put_le32(buf + 8, 1);
            put_le32(buf + 28, (uint32_t)(rnd() % 3));
            put_le32(buf + 12, (uint32_t)(32 + rnd() % 400));
            if (iter % 4 == 1) {
                put_le32(buf + 28, 0);
                put_le32(buf + 12, 32);
            }
        }
        mem_write(fd, buf, n);
        fuzz_read(path, info);
    }
    free(info);
    close(fd);
}
END_TEST

START_TEST(test_fuzz_truncate_and_flip)
{
    char path[64], path2[64];
    size_t hdr, n;
    tmp_path(path, sizeof(path));
    int fd = mem_file(path2, sizeof(path2));
    write_small_log(path, &hdr);
    uint8_t *p = read_whole(path, &n);
    struct exitlog_info *info = calloc(1, sizeof(*info));

    /* Every truncation: an error inside the header, a (possibly truncated) log after it. */
    for (size_t cut = 0; cut <= n; cut++) {
        mem_write(fd, p, cut);
        int r = fuzz_read(path2, info);
        LOOP_ASSERT_MSG((r < 0) == (cut < hdr), "cut at %zu: %d", cut, r);
    }
    /* Every single-bit flip. */
    for (size_t bit = 0; bit < n * 8; bit++) {
        p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        mem_write(fd, p, n);
        fuzz_read(path2, info);
        p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* Random multi-byte damage plus truncation. */
    uint8_t *q = malloc(n);
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(q, p, n);
        int k = 1 + (int)(rnd() % 8);
        for (int j = 0; j < k; j++)
            q[rnd() % n] = (uint8_t)rnd();
        mem_write(fd, q, n - rnd() % (n / 4));
        fuzz_read(path2, info);
    }
    free(q);
    free(info);
    free(p);
    unlink(path);
    close(fd);
}
END_TEST

/* ---- writer behaviour ---- */

/* Exit logs hold guest data (every PIO value, console input included): created 0600 whatever
 * the umask, an existing log made private, a symbolic link at the path refused (-ELOOP) with
 * its target left alone. */
/* exitlog_flush_try (the sandbox's SIGSYS handler): buffered records reach the file. */
START_TEST(test_flush_try)
{
    char dir[] = "/tmp/test_exitlog.XXXXXX", path[64];
    struct exitlog *log = NULL;
    struct stat before, after;
    struct exitlog_busmap *m = test_map();

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/x.log", dir);
    ck_assert_int_eq(exitlog_open(&log, path, m, 1), 0);
    ck_assert_int_eq(stat(path, &before), 0);
    struct exitlog_exit rec = {.t_ns = 1, .reason = KVM_EXIT_IO, .space = EXITLOG_SPACE_PIO};
    exitlog_exit(log, &rec);
    ck_assert_int_eq(stat(path, &after), 0);
    ck_assert_int_eq(after.st_size, before.st_size); /* still buffered */
    ck_assert_int_eq(exitlog_flush_try(log), 0);
    ck_assert_int_eq(stat(path, &after), 0);
    ck_assert_int_gt(after.st_size, before.st_size);
    ck_assert_int_eq(exitlog_close(log), 0);
    unlink(path);
    rmdir(dir);
    free(m);
}
END_TEST

START_TEST(test_open_private)
{
    char dir[] = "/tmp/test_exitlog.XXXXXX", path[64], target[64];
    struct exitlog *log = NULL;
    struct stat st;
    struct exitlog_busmap *m = test_map();

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/x.log", dir);
    snprintf(target, sizeof(target), "%s/target", dir);
    mode_t old = umask(0);
    ck_assert_int_eq(exitlog_open(&log, path, m, 1), 0);
    ck_assert_int_eq(exitlog_close(log), 0);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(chmod(path, 0644), 0);
    ck_assert_int_eq(exitlog_open(&log, path, m, 1), 0);
    ck_assert_int_eq(exitlog_close(log), 0);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    umask(old);
    FILE *f = fopen(target, "w");
    ck_assert_ptr_nonnull(f);
    fputs("precious", f);
    fclose(f);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(symlink(target, path), 0);
    log = (struct exitlog *)&log;
    ck_assert_int_eq(exitlog_open(&log, path, m, 1), -ELOOP);
    ck_assert_ptr_null(log);
    ck_assert_int_eq(stat(target, &st), 0);
    ck_assert_int_eq(st.st_size, 8);
    unlink(path);
    unlink(target);
    rmdir(dir);
    free(m);
}
END_TEST

START_TEST(test_open_errors)
{
    struct exitlog *log = (struct exitlog *)&log;
    struct exitlog_busmap *m = test_map();

    ck_assert_int_eq(exitlog_open(&log, "/nonexistent-dir/x.log", m, 1), -ENOENT);
    ck_assert_ptr_null(log);
    m->ndevs = EXITLOG_MAX_DEVS + 1;
    ck_assert_int_eq(exitlog_open(&log, "/tmp/never-created.log", m, 1), -EINVAL);
    m->ndevs = 1;
    m->devs[0].nregs = EXITLOG_MAX_REGS + 1;
    ck_assert_int_eq(exitlog_open(&log, "/tmp/never-created.log", m, 1), -EINVAL);
    ck_assert_int_eq(exitlog_open(&log, NULL, NULL, 1), -EINVAL);
    /* /dev/full: the header write fails at open. */
    ck_assert_int_eq(exitlog_open(&log, "/dev/full", NULL, 1), -ENOSPC);
    ck_assert_ptr_null(log);
    free(m);

    /* A NULL log is "logging off". */
    exitlog_exit(NULL, &(struct exitlog_exit){0});
    exitlog_marker(NULL, &(struct exitlog_marker){0});
    exitlog_stat(NULL, &(struct exitlog_stat){0});
    ck_assert_uint_eq(exitlog_now_ns(NULL), 0);
    ck_assert_int_eq(exitlog_flush(NULL), 0);
    ck_assert_int_eq(exitlog_close(NULL), 0);
}
END_TEST

START_TEST(test_write_error_remembered)
{
    char path[64];
    tmp_path(path, sizeof(path));
    struct exitlog *log;

    /* A file size limit makes write(2) fail with EFBIG once the buffer is flushed. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {.rlim_cur = 4096, .rlim_max = RLIM_INFINITY};
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    ck_assert_int_eq(exitlog_open(&log, path, NULL, 1), 0);
    struct exitlog_exit e = {.reason = KVM_EXIT_HLT, .space = EXITLOG_SPACE_NONE};
    for (int i = 0; i < 100; i++)
        exitlog_exit(log, &e);
    ck_assert_int_eq(exitlog_flush(log), -EFBIG);
    /* Later records are dropped, the error stays the first one. */
    for (int i = 0; i < 100000; i++)
        exitlog_exit(log, &e);
    ck_assert_int_eq(exitlog_flush(log), -EFBIG);
    ck_assert_int_eq(exitlog_close(log), -EFBIG);

    /* The file stops at a record boundary or mid-record: either way it reads. */
    struct exitlog_info *info = calloc(1, sizeof(*info));
    char err[256];
    ck_assert_int_eq(exitlog_read(path, info, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_uint_le(info->nrecords, 4096 / 48);
    free(info);
    unlink(path);
}
END_TEST

START_TEST(test_now_ns)
{
    char path[64];
    tmp_path(path, sizeof(path));
    struct exitlog *log;

    ck_assert_int_eq(exitlog_open(&log, path, NULL, 1), 0);
    uint64_t a = exitlog_now_ns(log);
    usleep(2000);
    uint64_t b = exitlog_now_ns(log);
    ck_assert_uint_lt(a, 1000000000ull); /* since open, not since boot */
    ck_assert_uint_ge(b - a, 2000000);
    ck_assert_int_eq(exitlog_close(log), 0);
    unlink(path);
}
END_TEST

START_TEST(test_text_mode)
{
    char path[64];
    tmp_path(path, sizeof(path));
    int fd = open(path, O_WRONLY | O_TRUNC);
    ck_assert_int_ge(fd, 0);
    int saved = dup(STDERR_FILENO);
    ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
    close(fd);

    struct exitlog_busmap *m = test_map();
    struct exitlog *log;
    ck_assert_int_eq(exitlog_open(&log, "-", m, 2), 0);
    free(m); /* the log keeps its own copy */
    exitlog_exit(log, &(struct exitlog_exit){.t_ns = 12345678901ull,
                                             .vcpu = 0,
                                             .reason = KVM_EXIT_IO,
                                             .addr = 0x3f8,
                                             .size = 1,
                                             .dir = EXITLOG_DIR_WRITE,
                                             .space = EXITLOG_SPACE_PIO,
                                             .value = 0x41,
                                             .handle_ns = 3250});
    exitlog_exit(log, &(struct exitlog_exit){.t_ns = 1000,
                                             .vcpu = 1,
                                             .reason = KVM_EXIT_MMIO,
                                             .addr = 0xfec00010,
                                             .size = 4,
                                             .dir = EXITLOG_DIR_READ,
                                             .space = EXITLOG_SPACE_MMIO,
                                             .value = 0x20,
                                             .handle_ns = 999});
    exitlog_exit(log, &(struct exitlog_exit){.t_ns = 2000000,
                                             .vcpu = 1,
                                             .reason = KVM_EXIT_IO,
                                             .addr = 0x60,
                                             .size = 1,
                                             .dir = EXITLOG_DIR_READ,
                                             .space = EXITLOG_SPACE_PIO,
                                             .flags = EXITLOG_F_UNCLAIMED,
                                             .value = 0xff,
                                             .handle_ns = 100});
    exitlog_exit(log, &(struct exitlog_exit){.t_ns = 3000000,
                                             .vcpu = 2,
                                             .reason = KVM_EXIT_HLT,
                                             .space = EXITLOG_SPACE_NONE,
                                             .handle_ns = 0});
    exitlog_marker(
        log, &(struct exitlog_marker){.t_ns = 5000000, .vcpu = 0, .code = MINIVMM_PHASE_LONG_MODE});
    exitlog_marker(log, &(struct exitlog_marker){.t_ns = 6000000, .vcpu = 0, .code = 42});
    struct exitlog_stat st = {.t_ns = 7, .vcpu = 0, .value = 123};
    snprintf(st.name, sizeof(st.name), "exits");
    exitlog_stat(log, &st);
    /* Text lines are written at once, not at flush. */
    size_t n;
    char *out = (char *)read_whole(path, &n);
    ck_assert_ptr_nonnull(strstr(out, "stats vcpu=0 name=exits value=123\n"));
    free(out);
    ck_assert_int_eq(exitlog_close(log), 0);

    dup2(saved, STDERR_FILENO);
    close(saved);
    out = (char *)read_whole(path, &n);
    ck_assert_str_eq(out,
                     "exit t=12.345678 vcpu=0 IO port=0x3f8 write size=1 value=0x41 handle=3.2us "
                     "serial THR write\n"
                     "exit t=0.000001 vcpu=1 MMIO addr=0xfec00010 read size=4 value=0x20 "
                     "handle=0.9us ioapic IOWIN read\n"
                     "exit t=0.002000 vcpu=1 IO port=0x60 read size=1 value=0xff handle=0.1us "
                     "(none) read\n"
                     "exit t=0.003000 vcpu=2 HLT handle=0.0us\n"
                     "marker t=0.005000 vcpu=0 phase=long-mode (2)\n"
                     "marker t=0.006000 vcpu=0 phase=unknown (42)\n"
                     "stats vcpu=0 name=exits value=123\n");
    free(out);
    unlink(path);
}
END_TEST

/* ---- thread safety ---- */

enum { THREADS = 4, PER_THREAD = 10000 };

struct thread_arg {
    struct exitlog *log;
    unsigned id;
};

static void *writer_thread(void *p)
{
    struct thread_arg *a = p;

    for (unsigned i = 0; i < PER_THREAD; i++) {
        struct exitlog_exit e = {.t_ns = exitlog_now_ns(a->log),
                                 .vcpu = a->id,
                                 .reason = KVM_EXIT_IO,
                                 .addr = 0x3f8,
                                 .size = 1,
                                 .dir = EXITLOG_DIR_WRITE,
                                 .space = EXITLOG_SPACE_PIO,
                                 .value = i,
                                 .handle_ns = ~(uint64_t)i};
        exitlog_exit(a->log, &e);
        if (i % 1000 == 0)
            exitlog_marker(a->log, &(struct exitlog_marker){.vcpu = a->id, .code = i});
    }
    return NULL;
}

struct seen {
    unsigned next[THREADS]; /* per thread, the next sequence number expected */
    unsigned markers;
    int bad;
};

static void seen_exit(void *o, const struct exitlog_exit *r)
{
    struct seen *s = o;
    /* Each thread's records arrive complete and in its own order. */
    if (r->vcpu >= THREADS || r->value != s->next[r->vcpu] || r->handle_ns != ~r->value ||
        r->addr != 0x3f8)
        s->bad++;
    else
        s->next[r->vcpu]++;
}

static void seen_marker(void *o, const struct exitlog_marker *r)
{
    struct seen *s = o;
    (void)r;
    s->markers++;
}

START_TEST(test_threads)
{
    char path[64];
    tmp_path(path, sizeof(path));
    struct exitlog *log;
    pthread_t th[THREADS];
    struct thread_arg args[THREADS];

    ck_assert_int_eq(exitlog_open(&log, path, NULL, THREADS), 0);
    for (unsigned i = 0; i < THREADS; i++) {
        args[i] = (struct thread_arg){log, i};
        ck_assert_int_eq(pthread_create(&th[i], NULL, writer_thread, &args[i]), 0);
    }
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    ck_assert_int_eq(exitlog_close(log), 0);

    struct seen s = {0};
    struct exitlog_visitor v = {.exit = seen_exit, .marker = seen_marker};
    struct exitlog_info *info = calloc(1, sizeof(*info));
    char err[256];
    ck_assert_int_eq(exitlog_read(path, info, &v, &s, err, sizeof(err)), 0);
    ck_assert_int_eq(s.bad, 0);
    for (unsigned i = 0; i < THREADS; i++)
        ck_assert_uint_eq(s.next[i], PER_THREAD);
    ck_assert_uint_eq(s.markers, THREADS * PER_THREAD / 1000);
    ck_assert_uint_eq(info->nrecords, THREADS * PER_THREAD + s.markers);
    ck_assert(!info->truncated);
    free(info);
    unlink(path);
}
END_TEST

/* ---- exitsum ---- */

static struct exitlog_exit io(uint64_t t, uint32_t vcpu, uint64_t port, uint8_t dir,
                              uint64_t handle)
{
    return (struct exitlog_exit){.t_ns = t,
                                 .vcpu = vcpu,
                                 .reason = KVM_EXIT_IO,
                                 .addr = port,
                                 .size = 1,
                                 .dir = dir,
                                 .space = EXITLOG_SPACE_PIO,
                                 .handle_ns = handle};
}

static const struct exitsum_addr *find_addr(const struct exitsum *s, uint8_t space, uint64_t addr,
                                            uint8_t dir)
{
    for (unsigned i = 0; i < s->naddrs; i++)
        if (s->addrs[i].space == space && s->addrs[i].addr == addr && s->addrs[i].dir == dir)
            return &s->addrs[i];
    return NULL;
}

START_TEST(test_sum_counts)
{
    struct exitsum *s = malloc(sizeof(*s));
    exitsum_init(s);

    for (int i = 0; i < 800; i++) {
        struct exitlog_exit e =
            io(1000 + (uint64_t)i, (uint32_t)(i % 2), 0x3f8, EXITLOG_DIR_WRITE, 5000);
        exitsum_add_exit(s, &e);
    }
    for (int i = 0; i < 380; i++) {
        struct exitlog_exit e = io(5000, 0, 0x3fd, EXITLOG_DIR_READ, 1000);
        exitsum_add_exit(s, &e);
    }
    struct exitlog_exit e = io(10, 300, 0x60, EXITLOG_DIR_READ, 7); /* vcpu out of range */
    e.flags = EXITLOG_F_UNCLAIMED;
    exitsum_add_exit(s, &e);
    e = (struct exitlog_exit){
        .t_ns = 9999, .vcpu = 3, .reason = 5000, .space = EXITLOG_SPACE_NONE, .handle_ns = 1};
    exitsum_add_exit(s, &e);
    e.reason = KVM_EXIT_HLT;
    exitsum_add_exit(s, &e);

    ck_assert_uint_eq(s->total.n, 800 + 380 + 3);
    ck_assert_uint_eq(s->total.ns, 800 * 5000 + 380 * 1000 + 7 + 2);
    ck_assert_uint_eq(s->reasons[KVM_EXIT_IO].n, 1181);
    ck_assert_uint_eq(s->reasons[KVM_EXIT_HLT].n, 1);
    ck_assert_uint_eq(s->reasons[EXITSUM_MAX_REASONS].n, 1);
    ck_assert_uint_eq(s->naddrs, 3); /* HLT/unknown have no address */
    ck_assert_uint_eq(find_addr(s, 0, 0x3f8, EXITLOG_DIR_WRITE)->c.n, 800);
    ck_assert_uint_eq(find_addr(s, 0, 0x3f8, EXITLOG_DIR_WRITE)->c.ns, 800 * 5000);
    ck_assert_uint_eq(find_addr(s, 0, 0x3fd, EXITLOG_DIR_READ)->c.n, 380);
    ck_assert_ptr_null(find_addr(s, 0, 0x3fd, EXITLOG_DIR_WRITE));
    ck_assert_uint_eq(s->ncpus, 4);
    ck_assert_uint_eq(s->cpus[0].n, 400 + 380);
    ck_assert_uint_eq(s->cpus[1].n, 400);
    ck_assert_uint_eq(s->cpus[3].n, 2);
    ck_assert_uint_eq(s->unclaimed, 1);
    ck_assert_uint_eq(s->first_ns, 10);
    ck_assert_uint_eq(s->last_ns, 9999);
    free(s);
}
END_TEST

START_TEST(test_sum_addr_overflow)
{
    struct exitsum *s = malloc(sizeof(*s));
    exitsum_init(s);

    for (unsigned i = 0; i < EXITSUM_MAX_ADDRS + 10; i++) {
        struct exitlog_exit e = io(i, 0, 0x1000 + i, EXITLOG_DIR_READ, 10);
        exitsum_add_exit(s, &e);
        exitsum_add_exit(s, &e);
    }
    ck_assert_uint_eq(s->naddrs, EXITSUM_MAX_ADDRS);
    ck_assert_uint_eq(s->other_addrs.n, 20);
    ck_assert_uint_eq(s->other_addrs.ns, 200);
    uint64_t sum = s->other_addrs.n;
    for (unsigned i = 0; i < s->naddrs; i++) {
        ck_assert_uint_eq(s->addrs[i].c.n, 2);
        sum += s->addrs[i].c.n;
    }
    ck_assert_uint_eq(sum, s->total.n);
    /* Known addresses still count once the table is full. */
    struct exitlog_exit e = io(0, 0, 0x1000, EXITLOG_DIR_READ, 10);
    exitsum_add_exit(s, &e);
    ck_assert_uint_eq(find_addr(s, 0, 0x1000, EXITLOG_DIR_READ)->c.n, 3);
    ck_assert_uint_eq(s->other_addrs.n, 20);
    free(s);
}
END_TEST

START_TEST(test_sum_merge)
{
    struct exitsum *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)), *e0 = malloc(sizeof(*e0));
    exitsum_init(a);
    exitsum_init(b);
    exitsum_init(e0);

    struct exitlog_exit e = io(100, 0, 0x3f8, EXITLOG_DIR_WRITE, 10);
    for (int i = 0; i < 5; i++)
        exitsum_add_exit(a, &e);
    e = io(50, 1, 0x3f8, EXITLOG_DIR_WRITE, 20);
    for (int i = 0; i < 3; i++)
        exitsum_add_exit(b, &e);
    e = io(900, 1, 0x3fd, EXITLOG_DIR_READ, 30);
    exitsum_add_exit(b, &e);
    e.flags = EXITLOG_F_UNCLAIMED;
    e.addr = 0x61;
    exitsum_add_exit(a, &e);
    exitsum_add_marker(a, &(struct exitlog_marker){.t_ns = 300, .code = 2}, 4);
    exitsum_add_marker(a, &(struct exitlog_marker){.t_ns = 700, .code = 4}, 5);
    exitsum_add_marker(b, &(struct exitlog_marker){.t_ns = 60, .vcpu = 1, .code = 1}, 1);
    exitsum_add_marker(b, &(struct exitlog_marker){.t_ns = 500, .vcpu = 1, .code = 3}, 3);

    exitsum_merge(a, e0); /* merging an empty summary changes nothing */
    ck_assert_uint_eq(a->first_ns, 100);
    exitsum_merge(a, b);
    ck_assert_uint_eq(a->total.n, 10);
    ck_assert_uint_eq(a->total.ns, 5 * 10 + 3 * 20 + 30 + 30);
    ck_assert_uint_eq(a->reasons[KVM_EXIT_IO].n, 10);
    ck_assert_uint_eq(a->naddrs, 3);
    ck_assert_uint_eq(find_addr(a, 0, 0x3f8, EXITLOG_DIR_WRITE)->c.n, 8);
    ck_assert_uint_eq(find_addr(a, 0, 0x3f8, EXITLOG_DIR_WRITE)->c.ns, 110);
    ck_assert_uint_eq(find_addr(a, 0, 0x3fd, EXITLOG_DIR_READ)->c.n, 1);
    ck_assert_uint_eq(find_addr(a, 0, 0x61, EXITLOG_DIR_READ)->c.n, 1);
    ck_assert_uint_eq(a->ncpus, 2);
    ck_assert_uint_eq(a->cpus[0].n, 5);
    ck_assert_uint_eq(a->cpus[1].n, 5);
    ck_assert_uint_eq(a->unclaimed, 1);
    ck_assert_uint_eq(a->first_ns, 50);
    ck_assert_uint_eq(a->last_ns, 900);
    ck_assert_uint_eq(a->nmarkers, 4);
    static const uint32_t codes[] = {1, 2, 3, 4};
    static const uint64_t exits[] = {1, 4, 3, 5};
    for (unsigned i = 0; i < 4; i++) {
        ck_assert_uint_eq(a->markers[i].code, codes[i]);
        ck_assert_uint_eq(a->marker_exits[i], exits[i]);
        if (i)
            ck_assert_uint_le(a->markers[i - 1].t_ns, a->markers[i].t_ns);
    }
    free(a);
    free(b);
    free(e0);
}
END_TEST

START_TEST(test_sum_markers_full)
{
    struct exitsum *s = malloc(sizeof(*s));
    exitsum_init(s);

    /* Out of order and more than fit: the earliest EXITSUM_MAX_MARKERS stay, sorted. */
    for (unsigned i = 0; i < 2 * EXITSUM_MAX_MARKERS; i++) {
        uint64_t t = (i * 37) % (2 * EXITSUM_MAX_MARKERS);
        exitsum_add_marker(s, &(struct exitlog_marker){.t_ns = t, .code = (uint32_t)t}, t);
    }
    ck_assert_uint_eq(s->nmarkers, EXITSUM_MAX_MARKERS);
    for (unsigned i = 0; i < EXITSUM_MAX_MARKERS; i++) {
        ck_assert_uint_eq(s->markers[i].t_ns, i);
        ck_assert_uint_eq(s->marker_exits[i], i);
    }
    free(s);
}
END_TEST

static char *print_to_string(const struct exitsum *s, const struct exitlog_busmap *m, uint64_t wall)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    exitsum_print(f, s, m, wall);
    ck_assert_int_eq(fclose(f), 0);
    return buf;
}

START_TEST(test_sum_print)
{
    struct exitsum *s = malloc(sizeof(*s));
    struct exitlog_busmap *m = test_map();
    exitsum_init(s);

    exitsum_add_marker(s, &(struct exitlog_marker){.t_ns = 120000, .code = 1}, 3);
    for (int i = 0; i < 800; i++) {
        struct exitlog_exit e = io(100000 + (uint64_t)i, 0, 0x3f8, EXITLOG_DIR_WRITE, 6000);
        exitsum_add_exit(s, &e);
    }
    for (int i = 0; i < 380; i++) {
        struct exitlog_exit e = io(200000, 1, 0x3fd, EXITLOG_DIR_READ, 2000);
        exitsum_add_exit(s, &e);
    }
    for (int i = 0; i < 20; i++) {
        struct exitlog_exit e = {.t_ns = 300000,
                                 .vcpu = 1,
                                 .reason = KVM_EXIT_MMIO,
                                 .addr = 0xfec00010,
                                 .size = 4,
                                 .dir = EXITLOG_DIR_WRITE,
                                 .space = EXITLOG_SPACE_MMIO,
                                 .handle_ns = 5900};
        exitsum_add_exit(s, &e);
    }
    exitsum_add_marker(s, &(struct exitlog_marker){.t_ns = 400000, .code = 2}, 1203);
    exitsum_add_marker(s, &(struct exitlog_marker){.t_ns = 500000, .code = 99}, 1203);

    char *out = print_to_string(s, m, 66000000);
    /* 800*6000 + 380*2000 + 20*5900 = 5678000 ns */
    ck_assert_ptr_nonnull(strstr(out, "exits: 1200 in 5.7 ms handling (8.6% of 66.0 ms wall)\n"));
    ck_assert_ptr_nonnull(
        strstr(out, "  IO                    1180   98.3      5.560       4.7\n"));
    ck_assert_ptr_nonnull(
        strstr(out, "  MMIO                    20    1.7      0.118       5.9\n"));
    ck_assert_ptr_nonnull(strstr(out, "top ports/addresses:"));
    ck_assert_ptr_nonnull(strstr(out, "  0x3f8      serial THR write                   800"));
    ck_assert_ptr_nonnull(strstr(out, "  0x3fd      serial LSR read                    380"));
    ck_assert_ptr_nonnull(strstr(out, "  0xfec00010 ioapic IOWIN write                  20"));
    /* Sorted by count. */
    ck_assert(strstr(out, "0x3f8 ") < strstr(out, "0x3fd "));
    ck_assert(strstr(out, "0x3fd ") < strstr(out, "0xfec00010 "));
    ck_assert_ptr_nonnull(strstr(out, "vcpus: 0: 800 exits, 1: 400 exits\n"));
    ck_assert_ptr_nonnull(strstr(out, "boot phases:"));
    ck_assert_ptr_nonnull(
        strstr(out, "  entry                              0.020     0.020         3\n"));
    ck_assert_ptr_nonnull(
        strstr(out, "  long-mode                          0.300     0.280      1200\n"));
    ck_assert_ptr_nonnull(
        strstr(out, "  phase 99                           0.400     0.100         0\n"));
    ck_assert_ptr_null(strstr(out, "unclaimed"));
    free(out);

    /* No wall time: no share; an empty summary prints one line only. */
    out = print_to_string(s, m, 0);
    ck_assert_ptr_nonnull(strstr(out, "exits: 1200 in 5.7 ms handling\n"));
    free(out);
    exitsum_init(s);
    out = print_to_string(s, m, 0);
    ck_assert_str_eq(out, "exits: 0 in 0.0 ms handling\n");
    free(out);
    free(s);
    free(m);
}
END_TEST

START_TEST(test_sum_print_top10)
{
    struct exitsum *s = malloc(sizeof(*s));
    exitsum_init(s);

    /* 15 ports with 1..15 exits, plus an unknown reason and an unclaimed access. */
    for (unsigned p = 1; p <= 15; p++)
        for (unsigned k = 0; k < p; k++) {
            struct exitlog_exit e = io(0, 0, 0x100 + p, EXITLOG_DIR_READ, 1000);
            exitsum_add_exit(s, &e);
        }
    struct exitlog_exit e = {.reason = 77, .space = EXITLOG_SPACE_NONE};
    exitsum_add_exit(s, &e);
    e = io(0, 0, 0x60, EXITLOG_DIR_WRITE, 0);
    e.flags = EXITLOG_F_UNCLAIMED;
    exitsum_add_exit(s, &e);

    char *out = print_to_string(s, NULL, 0);
    ck_assert_ptr_nonnull(strstr(out, "0x10f "));
    ck_assert_ptr_nonnull(strstr(out, "0x106 "));
    ck_assert_ptr_null(strstr(out, "0x105 ")); /* 6th from the bottom: not in the top 10 */
    ck_assert_ptr_null(strstr(out, "0x60 "));
    /* 1+2+3+4+5 exits of the five smallest ports, plus 0x60. */
    ck_assert_ptr_nonnull(strstr(out, "(other addresses)                   16"));
    ck_assert_ptr_nonnull(strstr(out, "  reason 77"));
    ck_assert_ptr_nonnull(strstr(out, "unclaimed accesses: 1"));
    ck_assert_ptr_null(strstr(out, "boot phases"));
    free(out);
    free(s);
}
END_TEST

/* The whole path of `minivmm exits FILE`: read a log into a summary and print it. */
struct sum_ctx {
    struct exitsum *s;
};

static void sum_exit(void *o, const struct exitlog_exit *r)
{
    exitsum_add_exit(((struct sum_ctx *)o)->s, r);
}

static void sum_marker(void *o, const struct exitlog_marker *r)
{
    struct exitsum *s = ((struct sum_ctx *)o)->s;
    exitsum_add_marker(s, r, s->total.n);
}

START_TEST(test_sum_from_log)
{
    char path[64];
    tmp_path(path, sizeof(path));
    write_small_log(path, NULL);
    struct exitsum *s = malloc(sizeof(*s));
    struct exitlog_info *info = calloc(1, sizeof(*info));
    struct sum_ctx ctx = {s};
    struct exitlog_visitor v = {.exit = sum_exit, .marker = sum_marker};
    char err[256];

    exitsum_init(s);
    ck_assert_int_eq(exitlog_read(path, info, &v, &ctx, err, sizeof(err)), 0);
    ck_assert_uint_eq(s->total.n, 3);
    ck_assert_uint_eq(s->nmarkers, 2);
    ck_assert_uint_eq(s->marker_exits[0], 0);
    ck_assert_uint_eq(s->marker_exits[1], 2);
    char *out = print_to_string(s, &info->map, 0);
    ck_assert_ptr_nonnull(strstr(out, "0x3f8"));
    ck_assert_ptr_nonnull(strstr(out, "serial THR write"));
    ck_assert_ptr_nonnull(strstr(out, "entry"));
    ck_assert_ptr_nonnull(strstr(out, "long-mode"));
    free(out);
    free(info);
    free(s);
    unlink(path);
}
END_TEST

static Suite *exitlog_suite(void)
{
    Suite *s = suite_create("exitlog");
    TCase *tc;

    tc = tcase_create("format");
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_layout);
    suite_add_tcase(s, tc);

    tc = tcase_create("names");
    tcase_add_loop_test(tc, test_reason_names, 0, ARRAY_SIZE(reasons));
    tcase_add_test(tc, test_reason_names_complete);
    tcase_add_test(tc, test_phase_names);
    tcase_add_loop_test(tc, test_busmap_name, 0, ARRAY_SIZE(names));
    tcase_add_test(tc, test_busmap_edges);
    tcase_add_test(tc, test_busmap_from_bus);
    suite_add_tcase(s, tc);

    tc = tcase_create("reader");
    tcase_add_test(tc, test_unknown_record_skipped);
    tcase_add_test(tc, test_truncated_tail);
    tcase_add_test(tc, test_error_too_short);
    tcase_add_test(tc, test_error_bad_magic);
    tcase_add_test(tc, test_error_version);
    tcase_add_test(tc, test_error_corrupt_record);
    tcase_add_test(tc, test_error_vcpu_beyond_header);
    tcase_add_test(tc, test_error_header);
    tcase_add_test(tc, test_names_force_terminated);
    tcase_add_test(tc, test_read_null_args);
    suite_add_tcase(s, tc);

    tc = tcase_create("fuzz");
    /* ~10000 damaged logs: ~0.2 s here (memfds, LOOP_ASSERT), 1.3 s under valgrind. */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_fuzz_random);
    tcase_add_test(tc, test_fuzz_truncate_and_flip);
    suite_add_tcase(s, tc);

    tc = tcase_create("writer");
    /* Threads, a real-clock wait and disk writes: ~20 ms here, 0.5 s under valgrind. */
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_open_errors);
    tcase_add_test(tc, test_open_private);
    tcase_add_test(tc, test_flush_try);
    tcase_add_test(tc, test_write_error_remembered);
    tcase_add_test(tc, test_now_ns);
    tcase_add_test(tc, test_text_mode);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);

    tc = tcase_create("summary");
    tcase_add_test(tc, test_sum_counts);
    tcase_add_test(tc, test_sum_addr_overflow);
    tcase_add_test(tc, test_sum_merge);
    tcase_add_test(tc, test_sum_markers_full);
    tcase_add_test(tc, test_sum_print);
    tcase_add_test(tc, test_sum_print_top10);
    tcase_add_test(tc, test_sum_from_log);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(exitlog_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
