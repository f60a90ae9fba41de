/*
 * fuzz.h: what the libFuzzer harnesses of fuzz/ share (docs/fuzzing.md): a reader that takes
 * little-endian fields from the input (zeros once it is used up, so that every input is a
 * program), and the trace that fuzz/check_seeds.py reads to check that a seed reaches the path
 * it was written for.
 *
 * Each harness is one file, fuzz_<target>.c, with LLVMFuzzerTestOneInput. Harnesses create and
 * destroy their state per input (or reset it), so a run is deterministic and leak-checked.
 */
#ifndef MINIVMM_FUZZ_H
#define MINIVMM_FUZZ_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

struct fuzz_in {
    const uint8_t *p;
    size_t n;
};

static inline bool fuzz_left(const struct fuzz_in *in)
{
    return in->n > 0;
}

static inline uint64_t fuzz_uint(struct fuzz_in *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        if (in->n) {
            v |= (uint64_t)in->p[0] << (8 * i);
            in->p++;
            in->n--;
        }
    }
    return v;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
    return (uint8_t)fuzz_uint(in, 1);
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
    return (uint16_t)fuzz_uint(in, 2);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
    return (uint32_t)fuzz_uint(in, 4);
}

/* Up to len bytes (fewer when the input ends): a pointer into the input and their count. */
static inline const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t len, size_t *got)
{
    const uint8_t *p = in->p;
    if (len > in->n)
        len = in->n;
    in->p += len;
    in->n -= len;
    *got = len;
    return p;
}

/* Trace lines on stderr when MINIVMM_FUZZ_TRACE is set (fuzz/check_seeds.py), else nothing. */
static inline bool fuzz_tracing(void)
{
    static int on = -1;
    if (on < 0)
        on = getenv("MINIVMM_FUZZ_TRACE") != NULL;
    return on;
}

static inline void fuzz_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void fuzz_trace(const char *fmt, ...)
{
    va_list ap;
    if (!fuzz_tracing())
        return;
    va_start(ap, fmt);
    fputs("trace: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

#endif
