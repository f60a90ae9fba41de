/*
 * cmdline.h: parsing of the VMM's own argument values and assembly of the guest command line.
 */
#ifndef MINIVMM_CMDLINE_H
#define MINIVMM_CMDLINE_H

#include <stddef.h>
#include <stdint.h>

/* "128M", "1G", "4096K", "134217728": bytes; K/M/G/T suffixes (binary), optional "B"/"iB".
 * 0 or -EINVAL (empty, junk, zero) / -ERANGE (overflow). */
int cmdline_parse_size(const char *s, uint64_t *out);
/* A decimal integer in [min, max]: 0 or -EINVAL / -ERANGE. */
int cmdline_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out);
/* The guest command line: `base` (may be NULL or empty) followed by each of words[0..n),
 * separated by single spaces, written NUL-terminated to out. Returns the length, or -E2BIG
 * when it does not fit in outlen bytes (NUL included), or -EINVAL when a word is empty or
 * holds a control character. */
int cmdline_build(char *out, size_t outlen, const char *base, char *const words[], int nwords);

#endif
