/*
 * ck_loop.h: assertions for the hot loops of unit tests (fuzzers, models, index wrap-around).
 *
 * Every Check assertion that *passes* records its file and line for the report (_mark_point:
 * a write(2) to Check's message file, plus the parent reading it all back). That costs ~10 us
 * here and far more under valgrind, so a loop of 100000 ck_asserts takes seconds and hits the
 * per-test timeout on a slow machine. LOOP_ASSERT costs a compare when it passes and fails
 * the test the same way (ck_abort_msg, with the condition's text and a message) when it does
 * not. Outside loops, use Check's assertions: they say where the test last got to.
 */
#ifndef MINIVMM_TEST_CK_LOOP_H
#define MINIVMM_TEST_CK_LOOP_H

#include <check.h>

#define LOOP_ASSERT(cond)                                                                         \
    do {                                                                                          \
        if (!(cond))                                                                              \
            ck_abort_msg("Assertion '%s' failed", #cond);                                         \
    } while (0)

/* LOOP_ASSERT_MSG(n == want, "round %u: %zu bytes", i, n) */
#define LOOP_ASSERT_MSG(cond, fmt, ...)                                                           \
    do {                                                                                          \
        if (!(cond))                                                                              \
            ck_abort_msg("Assertion '%s' failed: " fmt, #cond, ##__VA_ARGS__);                    \
    } while (0)

#endif
