/*
 * exitlog.h: the VM-exit log, the contract that `minivmm exits` and later tools read.
 *
 * File format, version EXITLOG_VERSION, all integers little-endian:
 *
 *   header   char magic[8] = "MVMMXLOG"; u32 version; u32 header_bytes (whole header,
 *            bus map included); u64 start_realtime_ns (CLOCK_REALTIME at start, for humans);
 *            u32 ncpus; u32 ndevs; then ndevs device entries:
 *   device   u8 space (0 PIO, 1 MMIO); u8 nregs; u16 reserved; u64 base; u64 size;
 *            char name[24] (NUL-padded); then nregs register entries:
 *   register u32 off; char rd[16]; char wr[16]  (NUL-padded; empty = none)
 *
 *   records follow until end of file; each starts with u16 type, u16 bytes (whole record):
 *   exit   (type 1, 48 bytes) u64 t_ns (CLOCK_MONOTONIC ns since the vCPUs started); u32 vcpu;
 *          u32 reason (KVM_EXIT_*); u64 addr (port or GPA); u8 size; u8 dir (0 none, 1 read,
 *          2 write); u8 space (0 PIO, 1 MMIO, 255 none); u8 flags (bit 0: no device claimed
 *          it); u64 value (bytes read or written, little-endian, zero-extended); u64 handle_ns
 *          (time from KVM_RUN's return to the next KVM_RUN)
 *   marker (type 2, 24 bytes) u64 t_ns; u32 vcpu; u32 code (MINIVMM_PHASE_*); u32 reserved
 *   stats  (type 3, 72 bytes) u64 t_ns; u32 vcpu; char name[48]; u64 value
 *          (KVM's binary statistics, written at the end of a run)
 *
 *   Byte offsets within a record (the 4-byte type/bytes prefix included, no implicit padding):
 *     exit   0 type, 2 bytes, 4 t_ns, 12 vcpu, 16 reason, 20 addr, 28 size, 29 dir, 30 space,
 *            31 flags, 32 value, 40 handle_ns, 48 end
 *     marker 0 type, 2 bytes, 4 t_ns, 12 vcpu, 16 code, 20 reserved (0), 24 end
 *     stats  0 type, 2 bytes, 4 t_ns, 12 vcpu, 16 name, 64 value, 72 end
 *   Header: 0 magic, 8 version, 12 header_bytes, 16 start_realtime_ns, 24 ncpus, 28 ndevs,
 *   32 first device (44 bytes + 36 per register). A record whose `bytes` exceeds its type's
 *   size carries fields a later version added; readers ignore the excess.
 *
 * Readers skip record types they do not know (using `bytes`), so new types stay compatible;
 * a truncated last record (a crashed run) is reported and the rest used. A record of a known
 * type whose vcpu is not below the header's ncpus is corrupt: the reader stops there with an
 * error naming its offset.
 *
 * The writer is safe to call from every vCPU thread. It buffers, and flushes on
 * exitlog_flush() and exitlog_close(), which every exit path of `minivmm run` calls.
 * With path "-" it writes one text line per record to stderr instead.
 */
#ifndef MINIVMM_EXITLOG_H
#define MINIVMM_EXITLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "minivmm/hw/bus.h"

#define EXITLOG_MAGIC "MVMMXLOG"
#define EXITLOG_VERSION 1

enum { EXITLOG_REC_EXIT = 1, EXITLOG_REC_MARKER = 2, EXITLOG_REC_STATS = 3 };
enum { EXITLOG_DIR_NONE = 0, EXITLOG_DIR_READ = 1, EXITLOG_DIR_WRITE = 2 };
enum { EXITLOG_SPACE_PIO = 0, EXITLOG_SPACE_MMIO = 1, EXITLOG_SPACE_NONE = 255 };
#define EXITLOG_F_UNCLAIMED 0x01

#define EXITLOG_NAME_MAX 24
#define EXITLOG_REGNAME_MAX 16
#define EXITLOG_STATNAME_MAX 48
#define EXITLOG_MAX_DEVS 64
#define EXITLOG_MAX_REGS 64

struct exitlog_exit {
    uint64_t t_ns;
    uint32_t vcpu;
    uint32_t reason;
    uint64_t addr;
    uint8_t size;
    uint8_t dir;
    uint8_t space;
    uint8_t flags;
    uint64_t value;
    uint64_t handle_ns;
};

struct exitlog_marker {
    uint64_t t_ns;
    uint32_t vcpu;
    uint32_t code;
};

struct exitlog_stat {
    uint64_t t_ns;
    uint32_t vcpu;
    char name[EXITLOG_STATNAME_MAX];
    uint64_t value;
};

/* The bus map as stored in a log (decoupled from struct bus so a reader needs no devices). */
struct exitlog_reg {
    uint32_t off;
    char rd[EXITLOG_REGNAME_MAX];
    char wr[EXITLOG_REGNAME_MAX];
};

struct exitlog_dev {
    uint8_t space;
    uint64_t base;
    uint64_t size;
    char name[EXITLOG_NAME_MAX];
    unsigned nregs;
    struct exitlog_reg regs[EXITLOG_MAX_REGS];
};

struct exitlog_busmap {
    unsigned ndevs;
    struct exitlog_dev devs[EXITLOG_MAX_DEVS];
};

/* Fill a bus map from a live bus. */
void exitlog_busmap_from_bus(struct exitlog_busmap *map, const struct bus *bus);
/* "serial THR write"-style naming of an access; returns buf. Only the device/register part:
 * the caller prints the hex address itself. A claimed offset without a register name gives
 * "serial+0x3 write", an unclaimed address "(none) write"; EXITLOG_DIR_NONE drops the direction
 * word. A NULL map names nothing ("(none)"). Never longer than buflen-1. */
const char *exitlog_busmap_name(const struct exitlog_busmap *map, uint8_t space, uint64_t addr,
                                uint8_t dir, char *buf, size_t buflen);
/* The device index holding addr, or -1. */
int exitlog_busmap_find(const struct exitlog_busmap *map, uint8_t space, uint64_t addr);

/* Name of a KVM_EXIT_* reason ("IO", "MMIO", "SHUTDOWN", ...), or "UNKNOWN". */
const char *exitlog_reason_name(uint32_t reason);
/* Name of a MINIVMM_PHASE_* code ("entry", "long-mode", ...), or NULL if it has none. */
const char *exitlog_phase_name(uint32_t code);

/* ---- writer ---- */
struct exitlog;

/* Opens the log ("-" = text lines on stderr). 0 or -errno; *out is NULL on failure.
 * map may be NULL (an empty bus map); -EINVAL if it holds more than EXITLOG_MAX_DEVS devices
 * or a device more than EXITLOG_MAX_REGS registers. The record functions take the lock, never
 * fail (a write error is kept for flush/close, later records are dropped) and accept a NULL
 * log as "logging off"; exitlog_now_ns(NULL) is 0. */
int exitlog_open(struct exitlog **out, const char *path, const struct exitlog_busmap *map,
                 unsigned ncpus);
uint64_t exitlog_now_ns(const struct exitlog *log); /* monotonic ns since open */
void exitlog_exit(struct exitlog *log, const struct exitlog_exit *rec);
void exitlog_marker(struct exitlog *log, const struct exitlog_marker *rec);
void exitlog_stat(struct exitlog *log, const struct exitlog_stat *rec);
int exitlog_flush(struct exitlog *log);
/* For a process about to die (the sandbox's SIGSYS handler): writes what is buffered if the
 * lock is free at once (no wait: the lock may be held by the caller's own thread), so the file
 * holds every record appended so far. 0, -EBUSY, or the first write error. Uses write(2) only. */
int exitlog_flush_try(struct exitlog *log);
/* Flushes and closes; 0 or the first write error (-errno). NULL is a no-op. */
int exitlog_close(struct exitlog *log);

/* ---- reader ---- */
struct exitlog_visitor {
    void (*exit)(void *opaque, const struct exitlog_exit *rec);
    void (*marker)(void *opaque, const struct exitlog_marker *rec);
    void (*stat)(void *opaque, const struct exitlog_stat *rec);
};

struct exitlog_info {
    uint32_t version;
    uint64_t start_realtime_ns;
    unsigned ncpus;
    struct exitlog_busmap map;
    uint64_t nrecords;   /* complete records of known type, passed to the visitor */
    uint64_t nskipped;   /* records of unknown type */
    bool truncated;      /* the last record was cut short */
    uint64_t trunc_offset;
};

/* Reads a whole log, calling the visitor per record. 0, or -errno with a one-line reason in
 * err (e.g. "x.log: not a minivmm exit log (bad magic)"). A truncated tail is not an error:
 * info->truncated says so. -EINVAL: not an exit log, corrupt header or record; -ENOTSUP:
 * another format version; other -errno: open/read failed. A record whose vCPU id is not below
 * the header's ncpus is -EINVAL ("x.log: corrupt record at offset N (vCPU V, but the header has
 * C vCPUs)"), so that readers keep per-vCPU state only for the header's vCPUs. Visitor
 * members may be NULL; err may be NULL. Streams the file (memory use does not grow with its size). */
int exitlog_read(const char *path, struct exitlog_info *info, const struct exitlog_visitor *v,
                 void *opaque, char *err, size_t errlen);

#endif
