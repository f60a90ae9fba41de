/*
 * sandbox.h: what `minivmm run` gives up once the machine is built (sandbox.c,
 * docs/security.md).
 *
 * Every thread runs under a seccomp filter of its own kind (include/minivmm/hw/thread.h): an
 * allowlist of system calls (and of ioctl requests); anything else traps, and the SIGSYS
 * handler prints `minivmm: sandbox: thread KIND made forbidden syscall NAME (NR)` and ends the
 * process with status 1. Each thread installs its filter itself, first thing (hw_thread_enter),
 * with PR_SET_NO_NEW_PRIVS and no capabilities left; the main thread does the same once
 * bring-up is done and every other thread runs (sandbox_seal), so no thread inherits the main
 * thread's filter. Process-wide: RLIMIT_CORE 0 from sandbox_init (guest memory never ends up in
 * a core file), RLIMIT_NOFILE down to what is open plus a margin at sandbox_seal.
 *
 * Filters and capabilities are per thread in Linux: that is why every thread drops them itself.
 */
#ifndef MINIVMM_SANDBOX_H
#define MINIVMM_SANDBOX_H

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "minivmm/hw/thread.h"

/* The test-only trigger: MINIVMM_SANDBOX_TEST=KIND makes every thread of KIND call socket(2),
 * which no kind may, right after its filter is in (tests/integration/sandbox.sh). */
#define SANDBOX_TEST_ENV "MINIVMM_SANDBOX_TEST"

/* Files open beyond the highest descriptor at sandbox_seal(): control-socket connections, KVM's
 * statistics descriptors at exit, a sanitizer's report. */
#define SANDBOX_NOFILE_MARGIN 64

/* Sets up the sandbox for this process (main thread, before any other thread): RLIMIT_CORE 0,
 * the SIGSYS handler, syscall names for its message, and the thread-start hook. With
 * enabled = false (--no-sandbox) only the test trigger stays (it then goes through). 0, or
 * -EINVAL with a reason for a bad MINIVMM_SANDBOX_TEST. */
int sandbox_init(bool enabled, char *err, size_t errlen);
/* The exit log to flush on a violation (NULL: none; returns once no SIGSYS handler can still
 * be using the previous one, so the caller may then close it). */
struct exitlog;
void sandbox_set_exitlog(struct exitlog *log);
/* The main thread, once every other thread started: RLIMIT_NOFILE, then its own filter.
 * 0 or -errno with a reason (nothing else has been dropped then). */
int sandbox_seal(char *err, size_t errlen);

/* The pieces, for tests. */
/* "main", "vcpu", "io", "uplink", "console-in", "console-out", "api", "bench"; NULL out of range. */
const char *sandbox_kind_name(enum hw_thread_kind kind);
/* The kind called `name`, or -1. */
int sandbox_kind_from_name(const char *name);
/* The filter of `kind`: default action SIGSYS, its allowlist. 0 or -errno (-EINVAL: a syscall
 * name this libseccomp does not know). The caller releases it. */
int sandbox_filter_build(enum hw_thread_kind kind, scmp_filter_ctx *out);
/* "name" of syscall `nr` on this architecture, or "?" (no allocation: signal-safe after
 * sandbox_init). */
const char *sandbox_syscall_name(int nr);
/* The allowlists, one line per kind, as docs/security.md shows them. */
void sandbox_print_rules(FILE *f);

#endif
