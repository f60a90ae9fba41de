/*
 * exitlog.c: the VM-exit log: a buffered, thread-safe writer of the binary format described in
 * exitlog.h (or of text lines on stderr), its streaming reader, and the naming helpers
 * (exit reasons, boot phases, bus-map registers) that the summaries and `minivmm exits` share.
 *
 * Invariants and locking: every record is packed byte by byte, little-endian, into a local
 * array (or formatted into a local line) before the lock is taken; under log->lock it is only
 * appended to log->buf, which is written with write(2) when the next record would not fit, on
 * exitlog_flush() and on exitlog_close(). Records are never split across a failed write: after
 * the first write error (kept as -errno in log->err) the buffer is dropped and later records are
 * discarded, so the file ends at a record boundary or, at worst, with one truncated record, which
 * the reader reports and tolerates. The header (with the bus map) is written at open, so a
 * crashed run still leaves a readable file.
 *
 * The reader streams through stdio with a 64 KiB buffer and one record-sized scratch buffer, so
 * its memory use does not grow with the file. It trusts nothing in the file: every length is
 * checked before it is used and every name is force-terminated.
 */
#include "minivmm/errmsg.h"
#include "exitlog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "minivmm/abi.h"
#include "minivmm/files.h"
#include "minivmm/util.h"

#define HDR_FIXED 32 /* magic .. ndevs */
#define HDR_DEV 44   /* one device entry without its registers */
#define HDR_REG 36   /* one register entry */
#define REC_PREFIX 4 /* u16 type, u16 bytes */
#define REC_EXIT_SIZE 48
#define REC_MARKER_SIZE 24
#define REC_STATS_SIZE 72
#define REC_MAX 0xffff /* `bytes` is a u16 */
#define BUF_SIZE 65536
#define LINE_MAX_LEN 256

/* KVM_EXIT_* numbers are ABI; newer ones are spelled out so logs read the same on hosts with
 * older kernel headers. */
#ifndef KVM_EXIT_LOONGARCH_IOCSR
#define KVM_EXIT_LOONGARCH_IOCSR 38
#endif
#ifndef KVM_EXIT_MEMORY_FAULT
#define KVM_EXIT_MEMORY_FAULT 39
#endif
#ifndef KVM_EXIT_TDX
#define KVM_EXIT_TDX 40
#endif

/* Copies a C string into a fixed field: at most len-1 chars, NUL-padded. */
static void put_name(uint8_t *p, const char *s, size_t len)
{
    size_t n = s ? strnlen(s, len - 1) : 0;

    memset(p, 0, len);
    memcpy(p, s, n);
}

/* Copies a fixed on-disk field into a C string, force-terminated. */
static void get_name(char *dst, const uint8_t *p, size_t len)
{
    memcpy(dst, p, len);
    dst[len - 1] = '\0';
}

/* ---- names ---- */

static const char *const reason_names[] = {
    [KVM_EXIT_UNKNOWN] = "UNKNOWN",
    [KVM_EXIT_EXCEPTION] = "EXCEPTION",
    [KVM_EXIT_IO] = "IO",
    [KVM_EXIT_HYPERCALL] = "HYPERCALL",
    [KVM_EXIT_DEBUG] = "DEBUG",
    [KVM_EXIT_HLT] = "HLT",
    [KVM_EXIT_MMIO] = "MMIO",
    [KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
    [KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
    [KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
    [KVM_EXIT_INTR] = "INTR",
    [KVM_EXIT_SET_TPR] = "SET_TPR",
    [KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
    [KVM_EXIT_S390_SIEIC] = "S390_SIEIC",
    [KVM_EXIT_S390_RESET] = "S390_RESET",
    [KVM_EXIT_DCR] = "DCR",
    [KVM_EXIT_NMI] = "NMI",
    [KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
    [KVM_EXIT_OSI] = "OSI",
    [KVM_EXIT_PAPR_HCALL] = "PAPR_HCALL",
    [KVM_EXIT_S390_UCONTROL] = "S390_UCONTROL",
    [KVM_EXIT_WATCHDOG] = "WATCHDOG",
    [KVM_EXIT_S390_TSCH] = "S390_TSCH",
    [KVM_EXIT_EPR] = "EPR",
    [KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
    [KVM_EXIT_S390_STSI] = "S390_STSI",
    [KVM_EXIT_IOAPIC_EOI] = "IOAPIC_EOI",
    [KVM_EXIT_HYPERV] = "HYPERV",
    [KVM_EXIT_ARM_NISV] = "ARM_NISV",
    [KVM_EXIT_X86_RDMSR] = "X86_RDMSR",
    [KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
    [KVM_EXIT_DIRTY_RING_FULL] = "DIRTY_RING_FULL",
    [KVM_EXIT_AP_RESET_HOLD] = "AP_RESET_HOLD",
    [KVM_EXIT_X86_BUS_LOCK] = "X86_BUS_LOCK",
    [KVM_EXIT_XEN] = "XEN",
    [KVM_EXIT_RISCV_SBI] = "RISCV_SBI",
    [KVM_EXIT_RISCV_CSR] = "RISCV_CSR",
    [KVM_EXIT_NOTIFY] = "NOTIFY",
    [KVM_EXIT_LOONGARCH_IOCSR] = "LOONGARCH_IOCSR",
    [KVM_EXIT_MEMORY_FAULT] = "MEMORY_FAULT",
    [KVM_EXIT_TDX] = "TDX",
};

const char *exitlog_reason_name(uint32_t reason)
{
    if (reason < ARRAY_SIZE(reason_names) && reason_names[reason])
        return reason_names[reason];
    return "UNKNOWN";
}

static const char *const phase_names[] = MINIVMM_PHASE_NAMES;

const char *exitlog_phase_name(uint32_t code)
{
    if (code < ARRAY_SIZE(phase_names) && phase_names[code][0])
        return phase_names[code];
    return NULL;
}

static const char *dir_word(uint8_t dir)
{
    switch (dir) {
    case EXITLOG_DIR_NONE:
        return "";
    case EXITLOG_DIR_READ:
        return "read";
    case EXITLOG_DIR_WRITE:
        return "write";
    default:
        return "dir?";
    }
}

/* ---- bus map ---- */

void exitlog_busmap_from_bus(struct exitlog_busmap *map, const struct bus *bus)
{
    memset(map, 0, sizeof(*map));
    if (!bus)
        return;
    unsigned ndevs = bus->ndevs;
    if (ndevs > BUS_MAX_DEVS)
        ndevs = BUS_MAX_DEVS;
    if (ndevs > EXITLOG_MAX_DEVS)
        ndevs = EXITLOG_MAX_DEVS;
    for (unsigned i = 0; i < ndevs; i++) {
        const struct bus_dev *bd = &bus->devs[i];
        struct exitlog_dev *d = &map->devs[i];

        d->space = bd->space == BUS_MMIO ? EXITLOG_SPACE_MMIO : EXITLOG_SPACE_PIO;
        d->base = bd->base;
        d->size = bd->size;
        if (bd->name)
            snprintf(d->name, sizeof(d->name), "%s", bd->name);
        d->nregs = bd->regs ? bd->nregs : 0;
        if (d->nregs > EXITLOG_MAX_REGS)
            d->nregs = EXITLOG_MAX_REGS;
        for (unsigned r = 0; r < d->nregs; r++) {
            const struct bus_reg *br = &bd->regs[r];

            d->regs[r].off = br->off;
            if (br->rd)
                snprintf(d->regs[r].rd, sizeof(d->regs[r].rd), "%s", br->rd);
            if (br->wr)
                snprintf(d->regs[r].wr, sizeof(d->regs[r].wr), "%s", br->wr);
        }
    }
    map->ndevs = ndevs;
}

int exitlog_busmap_find(const struct exitlog_busmap *map, uint8_t space, uint64_t addr)
{
    if (!map || space == EXITLOG_SPACE_NONE)
        return -1;
    unsigned ndevs = map->ndevs < EXITLOG_MAX_DEVS ? map->ndevs : EXITLOG_MAX_DEVS;
    for (unsigned i = 0; i < ndevs; i++) {
        const struct exitlog_dev *d = &map->devs[i];

        /* addr - base < size, not addr < base + size: a device may end at 2^64. */
        if (d->space == space && addr >= d->base && addr - d->base < d->size)
            return (int)i;
    }
    return -1;
}

const char *exitlog_busmap_name(const struct exitlog_busmap *map, uint8_t space, uint64_t addr,
                                uint8_t dir, char *buf, size_t buflen)
{
    if (!buf || buflen == 0)
        return buf;
    const char *dw = dir_word(dir);
    const char *sep = dw[0] ? " " : "";
    int i = exitlog_busmap_find(map, space, addr);
    if (i < 0) {
        snprintf(buf, buflen, "(none)%s%s", sep, dw);
        return buf;
    }

    const struct exitlog_dev *d = &map->devs[i];
    uint64_t off = addr - d->base;
    const char *reg = NULL;
    unsigned nregs = d->nregs < EXITLOG_MAX_REGS ? d->nregs : EXITLOG_MAX_REGS;
    for (unsigned r = 0; r < nregs && !reg; r++) {
        const struct exitlog_reg *rg = &d->regs[r];

        if (rg->off != off)
            continue;
        if (dir == EXITLOG_DIR_READ)
            reg = rg->rd;
        else if (dir == EXITLOG_DIR_WRITE)
            reg = rg->wr;
        else
            reg = rg->rd[0] ? rg->rd : rg->wr;
        if (reg && !reg[0])
            reg = NULL;
    }
    /* %.*s: names in a map built by hand may lack their NUL. */
    if (reg)
        snprintf(buf, buflen, "%.*s %.*s%s%s", EXITLOG_NAME_MAX, d->name, EXITLOG_REGNAME_MAX, reg,
                 sep, dw);
    else
        snprintf(buf, buflen, "%.*s+0x%" PRIx64 "%s%s", EXITLOG_NAME_MAX, d->name, off, sep, dw);
    return buf;
}

/* ---- writer ---- */

struct exitlog {
    pthread_mutex_t lock;
    int fd;
    bool text;
    int err;    /* first write error, -errno; 0 while healthy */
    size_t len; /* bytes pending in buf */
    struct timespec t0;
    struct exitlog_busmap *map; /* text mode only: names for the lines */
    uint8_t buf[BUF_SIZE];
};

/* Called with log->lock held. */
static void flush_locked(struct exitlog *log)
{
    if (log->len == 0)
        return;
    if (log->err == 0) {
        int r = write_all(log->fd, log->buf, log->len);
        if (r < 0)
            log->err = r;
    }
    log->len = 0;
}

static void append(struct exitlog *log, const void *p, size_t n)
{
    pthread_mutex_lock(&log->lock);
    if (log->err == 0) {
        if (log->len + n > sizeof(log->buf))
            flush_locked(log);
        memcpy(log->buf + log->len, p, n);
        log->len += n;
        /* Text lines go out at once: stderr is read live, and interleaves with other messages. */
        if (log->text)
            flush_locked(log);
    }
    pthread_mutex_unlock(&log->lock);
}

static size_t header_size(const struct exitlog_busmap *map)
{
    size_t n = HDR_FIXED;

    for (unsigned i = 0; map && i < map->ndevs; i++)
        n += HDR_DEV + (size_t)map->devs[i].nregs * HDR_REG;
    return n;
}

static int write_header(int fd, const struct exitlog_busmap *map, unsigned ncpus)
{
    size_t n = header_size(map);
    uint8_t *h = calloc(1, n);
    if (!h)
        return -ENOMEM;

    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    memcpy(h, EXITLOG_MAGIC, 8);
    put_le32(h + 8, EXITLOG_VERSION);
    put_le32(h + 12, (uint32_t)n);
    put_le64(h + 16, (uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec);
    put_le32(h + 24, ncpus);
    put_le32(h + 28, map ? map->ndevs : 0);
    uint8_t *p = h + HDR_FIXED;
    for (unsigned i = 0; map && i < map->ndevs; i++) {
        const struct exitlog_dev *d = &map->devs[i];

        p[0] = d->space;
        p[1] = (uint8_t)d->nregs;
        put_le16(p + 2, 0);
        put_le64(p + 4, d->base);
        put_le64(p + 12, d->size);
        put_name(p + 20, d->name, EXITLOG_NAME_MAX);
        p += HDR_DEV;
        for (unsigned r = 0; r < d->nregs; r++) {
            put_le32(p, d->regs[r].off);
            put_name(p + 4, d->regs[r].rd, EXITLOG_REGNAME_MAX);
            put_name(p + 4 + EXITLOG_REGNAME_MAX, d->regs[r].wr, EXITLOG_REGNAME_MAX);
            p += HDR_REG;
        }
    }
    int r = write_all(fd, h, n);
    free(h);
    return r;
}

int exitlog_open(struct exitlog **out, const char *path, const struct exitlog_busmap *map,
                 unsigned ncpus)
{
    int r;

    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!path || !path[0])
        return -EINVAL;
    if (map) {
        if (map->ndevs > EXITLOG_MAX_DEVS)
            return -EINVAL;
        for (unsigned i = 0; i < map->ndevs; i++)
            if (map->devs[i].nregs > EXITLOG_MAX_REGS)
                return -EINVAL;
    }

    struct exitlog *log = calloc(1, sizeof(*log));
    if (!log)
        return -ENOMEM;
    r = pthread_mutex_init(&log->lock, NULL);
    if (r) {
        r = -r;
        goto err_free;
    }
    clock_gettime(CLOCK_MONOTONIC, &log->t0);

    if (strcmp(path, "-") == 0) {
        log->text = true;
        log->fd = STDERR_FILENO;
        log->map = calloc(1, sizeof(*log->map));
        if (!log->map) {
            r = -ENOMEM;
            goto err_mutex;
        }
        if (map)
            *log->map = *map;
    } else {
        log->fd = open_private(path);
        if (log->fd < 0) {
            r = log->fd;
            goto err_mutex;
        }
        r = write_header(log->fd, map, ncpus);
        if (r < 0)
            goto err_close;
    }
    *out = log;
    return 0;

err_close:
    close(log->fd);
err_mutex:
    pthread_mutex_destroy(&log->lock);
err_free:
    free(log);
    return r;
}

uint64_t exitlog_now_ns(const struct exitlog *log)
{
    struct timespec now;

    if (!log)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ns =
        (int64_t)(now.tv_sec - log->t0.tv_sec) * 1000000000 + (now.tv_nsec - log->t0.tv_nsec);
    return ns > 0 ? (uint64_t)ns : 0;
}

/* "12.345678": seconds with microseconds, integer arithmetic only. */
static void fmt_secs(char *buf, size_t len, uint64_t ns)
{
    snprintf(buf, len, "%" PRIu64 ".%06" PRIu64, ns / 1000000000u, ns % 1000000000u / 1000u);
}

static void text_exit(struct exitlog *log, const struct exitlog_exit *rec)
{
    char line[LINE_MAX_LEN], t[32], name[EXITLOG_NAME_MAX + EXITLOG_REGNAME_MAX + 32];
    int n;

    fmt_secs(t, sizeof(t), rec->t_ns);
    n = snprintf(line, sizeof(line), "exit t=%s vcpu=%" PRIu32 " %s", t, rec->vcpu,
                 exitlog_reason_name(rec->reason));
    if (rec->space == EXITLOG_SPACE_PIO || rec->space == EXITLOG_SPACE_MMIO) {
        n += snprintf(line + n, sizeof(line) - (size_t)n, " %s=0x%" PRIx64,
                      rec->space == EXITLOG_SPACE_PIO ? "port" : "addr", rec->addr);
    } else if (rec->addr) {
        n += snprintf(line + n, sizeof(line) - (size_t)n, " addr=0x%" PRIx64, rec->addr);
    }
    if (rec->dir != EXITLOG_DIR_NONE)
        n += snprintf(line + n, sizeof(line) - (size_t)n, " %s size=%u value=0x%" PRIx64,
                      dir_word(rec->dir), rec->size, rec->value);
    n += snprintf(line + n, sizeof(line) - (size_t)n, " handle=%" PRIu64 ".%" PRIu64 "us",
                  rec->handle_ns / 1000u, rec->handle_ns % 1000u / 100u);
    if (rec->space == EXITLOG_SPACE_PIO || rec->space == EXITLOG_SPACE_MMIO) {
        exitlog_busmap_name(log->map, rec->space, rec->addr, rec->dir, name, sizeof(name));
        n += snprintf(line + n, sizeof(line) - (size_t)n, " %s", name);
        if ((rec->flags & EXITLOG_F_UNCLAIMED) &&
            exitlog_busmap_find(log->map, rec->space, rec->addr) >= 0)
            n += snprintf(line + n, sizeof(line) - (size_t)n, " (unclaimed)");
    }
    snprintf(line + n, sizeof(line) - (size_t)n, "\n");
    append(log, line, strlen(line));
}

void exitlog_exit(struct exitlog *log, const struct exitlog_exit *rec)
{
    uint8_t b[REC_EXIT_SIZE];

    if (!log || !rec)
        return;
    if (log->text) {
        text_exit(log, rec);
        return;
    }
    put_le16(b, EXITLOG_REC_EXIT);
    put_le16(b + 2, REC_EXIT_SIZE);
    put_le64(b + 4, rec->t_ns);
    put_le32(b + 12, rec->vcpu);
    put_le32(b + 16, rec->reason);
    put_le64(b + 20, rec->addr);
    b[28] = rec->size;
    b[29] = rec->dir;
    b[30] = rec->space;
    b[31] = rec->flags;
    put_le64(b + 32, rec->value);
    put_le64(b + 40, rec->handle_ns);
    append(log, b, sizeof(b));
}

void exitlog_marker(struct exitlog *log, const struct exitlog_marker *rec)
{
    uint8_t b[REC_MARKER_SIZE];

    if (!log || !rec)
        return;
    if (log->text) {
        char line[LINE_MAX_LEN], t[32];
        const char *name = exitlog_phase_name(rec->code);

        fmt_secs(t, sizeof(t), rec->t_ns);
        snprintf(line, sizeof(line), "marker t=%s vcpu=%" PRIu32 " phase=%s (%" PRIu32 ")\n", t,
                 rec->vcpu, name ? name : "unknown", rec->code);
        append(log, line, strlen(line));
        return;
    }
    put_le16(b, EXITLOG_REC_MARKER);
    put_le16(b + 2, REC_MARKER_SIZE);
    put_le64(b + 4, rec->t_ns);
    put_le32(b + 12, rec->vcpu);
    put_le32(b + 16, rec->code);
    put_le32(b + 20, 0);
    append(log, b, sizeof(b));
}

void exitlog_stat(struct exitlog *log, const struct exitlog_stat *rec)
{
    uint8_t b[REC_STATS_SIZE];

    if (!log || !rec)
        return;
    if (log->text) {
        char line[LINE_MAX_LEN];

        snprintf(line, sizeof(line), "stats vcpu=%" PRIu32 " name=%.*s value=%" PRIu64 "\n",
                 rec->vcpu, EXITLOG_STATNAME_MAX, rec->name, rec->value);
        append(log, line, strlen(line));
        return;
    }
    put_le16(b, EXITLOG_REC_STATS);
    put_le16(b + 2, REC_STATS_SIZE);
    put_le64(b + 4, rec->t_ns);
    put_le32(b + 12, rec->vcpu);
    put_name(b + 16, rec->name, EXITLOG_STATNAME_MAX);
    put_le64(b + 64, rec->value);
    append(log, b, sizeof(b));
}

int exitlog_flush(struct exitlog *log)
{
    int r;

    if (!log)
        return 0;
    pthread_mutex_lock(&log->lock);
    flush_locked(log);
    r = log->err;
    pthread_mutex_unlock(&log->lock);
    return r;
}

int exitlog_flush_try(struct exitlog *log)
{
    if (pthread_mutex_trylock(&log->lock) != 0)
        return -EBUSY;
    flush_locked(log);
    int r = log->err;
    pthread_mutex_unlock(&log->lock);
    return r;
}

int exitlog_close(struct exitlog *log)
{
    int r;

    if (!log)
        return 0;
    r = exitlog_flush(log);
    if (!log->text && close(log->fd) < 0 && r == 0)
        r = -errno;
    pthread_mutex_destroy(&log->lock);
    free(log->map);
    free(log);
    return r;
}

/* ---- reader ---- */


/* Reads n bytes. 0: all read; 1: end of file first (*got says how many); -errno: I/O error. */
static int read_bytes(FILE *fp, uint8_t *p, size_t n, size_t *got)
{
    size_t g = fread(p, 1, n, fp);

    if (got)
        *got = g;
    if (g == n)
        return 0;
    if (ferror(fp))
        return errno ? -errno : -EIO;
    return 1;
}

static int read_header(FILE *fp, const char *path, struct exitlog_info *info, char *err,
                       size_t errlen)
{
    uint8_t h[HDR_FIXED];
    size_t got;
    int r = read_bytes(fp, h, sizeof(h), &got);

    if (r < 0) {
        errmsg_set(err, errlen, "%s: read failed: %s", path, strerror(-r));
        return r;
    }
    if (got < 8) {
        errmsg_set(err, errlen, "%s: not a minivmm exit log (too short)", path);
        return -EINVAL;
    }
    if (memcmp(h, EXITLOG_MAGIC, 8) != 0) {
        errmsg_set(err, errlen, "%s: not a minivmm exit log (bad magic)", path);
        return -EINVAL;
    }
    if (got < sizeof(h)) {
        errmsg_set(err, errlen, "%s: not a minivmm exit log (too short)", path);
        return -EINVAL;
    }
    info->version = get_le32(h + 8);
    if (info->version != EXITLOG_VERSION) {
        errmsg_set(err, errlen,
               "%s: exit log version %" PRIu32 " not supported (this minivmm reads version %d)",
               path, info->version, EXITLOG_VERSION);
        return -ENOTSUP;
    }
    uint32_t header_bytes = get_le32(h + 12);
    info->start_realtime_ns = get_le64(h + 16);
    info->ncpus = get_le32(h + 24);
    uint32_t ndevs = get_le32(h + 28);
    if (ndevs > EXITLOG_MAX_DEVS) {
        errmsg_set(err, errlen, "%s: corrupt exit log header (%" PRIu32 " devices, at most %d)", path,
               ndevs, EXITLOG_MAX_DEVS);
        return -EINVAL;
    }

    uint64_t off = HDR_FIXED;
    for (uint32_t i = 0; i < ndevs; i++) {
        struct exitlog_dev *d = &info->map.devs[i];
        uint8_t b[HDR_DEV > HDR_REG ? HDR_DEV : HDR_REG];

        if (off + HDR_DEV > header_bytes)
            goto err_size;
        r = read_bytes(fp, b, HDR_DEV, NULL);
        if (r != 0)
            goto err_read;
        off += HDR_DEV;
        d->space = b[0];
        d->nregs = b[1];
        d->base = get_le64(b + 4);
        d->size = get_le64(b + 12);
        get_name(d->name, b + 20, EXITLOG_NAME_MAX);
        if (d->space != EXITLOG_SPACE_PIO && d->space != EXITLOG_SPACE_MMIO) {
            errmsg_set(err, errlen, "%s: corrupt exit log header (device %" PRIu32 ": space %u)", path,
                   i, d->space);
            return -EINVAL;
        }
        if (d->nregs > EXITLOG_MAX_REGS) {
            errmsg_set(err, errlen,
                   "%s: corrupt exit log header (device %" PRIu32 ": %u registers, at most %d)",
                   path, i, d->nregs, EXITLOG_MAX_REGS);
            return -EINVAL;
        }
        for (unsigned k = 0; k < d->nregs; k++) {
            if (off + HDR_REG > header_bytes)
                goto err_size;
            r = read_bytes(fp, b, HDR_REG, NULL);
            if (r != 0)
                goto err_read;
            off += HDR_REG;
            d->regs[k].off = get_le32(b);
            get_name(d->regs[k].rd, b + 4, EXITLOG_REGNAME_MAX);
            get_name(d->regs[k].wr, b + 4 + EXITLOG_REGNAME_MAX, EXITLOG_REGNAME_MAX);
        }
        info->map.ndevs = i + 1;
    }
    if (off != header_bytes)
        goto err_size;
    return 0;

err_size:
    errmsg_set(err, errlen,
           "%s: corrupt exit log header (header_bytes %" PRIu32 " does not match its bus map)",
           path, header_bytes);
    return -EINVAL;
err_read:
    if (r < 0) {
        errmsg_set(err, errlen, "%s: read failed: %s", path, strerror(-r));
        return r;
    }
    errmsg_set(err, errlen, "%s: exit log header truncated (file ends before byte %" PRIu32 ")", path,
           header_bytes);
    return -EINVAL;
}

static size_t rec_fixed_size(uint16_t type)
{
    switch (type) {
    case EXITLOG_REC_EXIT:
        return REC_EXIT_SIZE;
    case EXITLOG_REC_MARKER:
        return REC_MARKER_SIZE;
    case EXITLOG_REC_STATS:
        return REC_STATS_SIZE;
    default:
        return 0;
    }
}

static void dispatch(const uint8_t *b, uint16_t type, const struct exitlog_visitor *v, void *opaque)
{
    switch (type) {
    case EXITLOG_REC_EXIT: {
        struct exitlog_exit e = {
            .t_ns = get_le64(b + 4),
            .vcpu = get_le32(b + 12),
            .reason = get_le32(b + 16),
            .addr = get_le64(b + 20),
            .size = b[28],
            .dir = b[29],
            .space = b[30],
            .flags = b[31],
            .value = get_le64(b + 32),
            .handle_ns = get_le64(b + 40),
        };
        if (v && v->exit)
            v->exit(opaque, &e);
        break;
    }
    case EXITLOG_REC_MARKER: {
        struct exitlog_marker m = {
            .t_ns = get_le64(b + 4),
            .vcpu = get_le32(b + 12),
            .code = get_le32(b + 16),
        };
        if (v && v->marker)
            v->marker(opaque, &m);
        break;
    }
    case EXITLOG_REC_STATS: {
        struct exitlog_stat s = {
            .t_ns = get_le64(b + 4),
            .vcpu = get_le32(b + 12),
            .value = get_le64(b + 64),
        };
        get_name(s.name, b + 16, EXITLOG_STATNAME_MAX);
        if (v && v->stat)
            v->stat(opaque, &s);
        break;
    }
    }
}

int exitlog_read(const char *path, struct exitlog_info *info, const struct exitlog_visitor *v,
                 void *opaque, char *err, size_t errlen)
{
    struct exitlog_info *own = NULL;
    uint8_t *rec = NULL;
    FILE *fp;
    int r;

    errmsg_set(err, errlen, "%s", "");
    if (!path)
        return -EINVAL;
    if (!info) {
        info = own = malloc(sizeof(*own));
        if (!info) {
            errmsg_set(err, errlen, "%s: out of memory", path);
            return -ENOMEM;
        }
    }
    memset(info, 0, sizeof(*info));

    fp = fopen(path, "rbe");
    if (!fp) {
        r = -errno;
        errmsg_set(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        goto err_free;
    }
    setvbuf(fp, NULL, _IOFBF, BUF_SIZE);
    rec = malloc(REC_MAX);
    if (!rec) {
        r = -ENOMEM;
        errmsg_set(err, errlen, "%s: out of memory", path);
        goto err_close;
    }

    r = read_header(fp, path, info, err, errlen);
    if (r < 0)
        goto err_close;

    /* read_header checked that the bus map fills exactly header_bytes. */
    uint64_t off = header_size(&info->map);
    for (;;) {
        size_t got;

        r = read_bytes(fp, rec, REC_PREFIX, &got);
        if (r < 0)
            goto err_io;
        if (r > 0) {
            if (got > 0) {
                info->truncated = true;
                info->trunc_offset = off;
            }
            break;
        }
        uint16_t type = get_le16(rec);
        uint16_t bytes = get_le16(rec + 2);
        size_t fixed = rec_fixed_size(type);
        if (bytes < REC_PREFIX || bytes < fixed) {
            errmsg_set(err, errlen, "%s: corrupt record at offset %" PRIu64, path, off);
            r = -EINVAL;
            goto err_close;
        }
        r = read_bytes(fp, rec + REC_PREFIX, (size_t)bytes - REC_PREFIX, NULL);
        if (r < 0)
            goto err_io;
        if (r > 0) {
            info->truncated = true;
            info->trunc_offset = off;
            break;
        }
        if (fixed && get_le32(rec + 12) >= info->ncpus) {
            /* Every known record names its vCPU at offset 12; an id the header does not
             * have would make readers keep per-vCPU state for ids no run produced. */
            errmsg_set(err, errlen,
                       "%s: corrupt record at offset %" PRIu64 " (vCPU %" PRIu32
                       ", but the header has %u vCPUs)",
                       path, off, get_le32(rec + 12), info->ncpus);
            r = -EINVAL;
            goto err_close;
        }
        if (fixed) {
            dispatch(rec, type, v, opaque);
            info->nrecords++;
        } else {
            info->nskipped++;
        }
        off += bytes;
    }
    r = 0;
    goto out;

err_io:
    errmsg_set(err, errlen, "%s: read failed: %s", path, strerror(-r));
err_close:
out: /* success and failure both release the file and the scratch buffer */
    free(rec);
    fclose(fp);
err_free:
    free(own);
    return r;
}
