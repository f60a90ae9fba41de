/*
 * bench.h: `minivmm bench exits|boot|net|io`, the benchmark harness (bench.c, docs/BENCHMARKS.md).
 * bench.c runs exits and boot itself and hands net and io to benchnet.c and benchio.c; what
 * they share is in bench_common.h.
 */
#ifndef MINIVMM_BENCH_H
#define MINIVMM_BENCH_H

/* argv[0] is "bench". Returns the exit status: 0, or 1 when a run failed or on bad usage. */
int bench_main(int argc, char **argv);

#endif
