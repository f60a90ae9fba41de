/*
 * bench.h: the guest half of `minivmm bench exits`: timed loops of VM exits (bench.c).
 */
#ifndef GUEST_BENCH_H
#define GUEST_BENCH_H

#include "cmdline.h"

/* The `bench.exits` command: runs the loops bench.mode selects, bench.iters round trips
 * each, and prints one "bench: mode=..." line per loop. Returns MINIVMM_STATUS_*. */
int cmd_bench_exits(const struct cmdline *cl);

#endif
