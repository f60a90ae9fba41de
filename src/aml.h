/*
 * aml.h: a small encoder for ACPI Machine Language (ACPI 6.5 §20, "ACPI Machine Language
 * Specification") and resource descriptors (§6.4), enough for a DSDT of Devices with names,
 * integers, strings, packages and method-free _CRS resource templates.
 *
 * The encoder writes into a caller-provided buffer. Errors are sticky: once the buffer is full
 * or the nesting too deep, every later call does nothing and aml_finish() reports the first
 * error, so a builder can emit a whole table and check once. Objects with a PkgLength (Scope,
 * Device, Package, Buffer) are opened with aml_*_begin() and closed with aml_end(), which
 * writes the PkgLength in its shortest encoding (§20.2.4) and moves the body down.
 */
#ifndef MINIVMM_AML_H
#define MINIVMM_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 8

struct aml {
    uint8_t *buf;
    size_t len, cap;
    int err; /* 0, -ENOSPC (buffer full), -EINVAL (bad name, unbalanced begin/end) */
    unsigned depth;
    size_t open[AML_MAX_DEPTH]; /* offset of each open object's reserved PkgLength */
};

void aml_init(struct aml *a, void *buf, size_t cap);
/* The encoded length, or the first error (-ENOSPC, -EINVAL; -EINVAL if objects are open). */
long aml_finish(const struct aml *a);

/* Bytes with no AML meaning of their own (table headers, descriptor bodies). */
void aml_bytes(struct aml *a, const void *p, size_t n);
/* A NameString: "\\_SB_", "COM1", "_HID". Segments of 1-4 characters [A-Z_][A-Z0-9_]* are
 * padded with '_' (§20.2.2); one leading '\\' for the root. */
void aml_name_string(struct aml *a, const char *name);
/* True if s is a valid 4-character NameSeg. */
bool aml_valid_nameseg(const char *s);

/* Data objects (§20.2.3): the shortest integer encoding (Zero, One, Byte/Word/DWord/QWord
 * prefixes), a NUL-terminated ASCII string. */
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
/* EISAID("PNP0501") as the 32-bit compressed EISA id (§6.1.5), or -EINVAL-> 0xffffffff. */
uint32_t aml_eisaid(const char *id);
/* True if id looks like an EISA id: 3 letters A-Z and 4 hex digits ("PNP0501"). */
bool aml_is_eisaid(const char *id);

/* Name(name, <object follows>) */
void aml_name(struct aml *a, const char *name);
/* Scope(name) { ... }, Device(name) { ... }: close with aml_end(). */
void aml_scope_begin(struct aml *a, const char *name);
void aml_device_begin(struct aml *a, const char *name);
/* Package(n) { ... } with n elements to follow; close with aml_end(). */
void aml_package_begin(struct aml *a, unsigned n);
/* Buffer() { ... }: the size is written at aml_end() as a DWord, so that the body may be any
 * length; close with aml_end(). */
void aml_buffer_begin(struct aml *a);
void aml_end(struct aml *a);

/* Resource descriptors (§6.4), for the body of a _CRS Buffer. */
/* IO(Decode16, base, base, 1, len) (§6.4.2.5): fixed 16-bit port range. */
void aml_res_io(struct aml *a, uint16_t base, uint8_t len);
/* Memory32Fixed(ReadWrite, base, len) (§6.4.3.4). */
void aml_res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len);
/* Interrupt(ResourceConsumer, edge|level, ActiveHigh|ActiveLow, Exclusive) { gsi }
 * (Extended Interrupt Descriptor, §6.4.3.6). */
void aml_res_interrupt(struct aml *a, uint32_t gsi, bool edge, bool active_low);
/* EndTag (§6.4.2.9), checksum 0 ("treated as if the checksum is valid"). */
void aml_res_end(struct aml *a);

#endif
