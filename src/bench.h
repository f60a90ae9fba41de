/*
 * bench.h: `minivmm bench exits|boot`, the benchmark harness (bench.c, docs/BENCHMARKS.md).
 */
#ifndef MINIVMM_BENCH_H
#define MINIVMM_BENCH_H

/* argv[0] is "bench". Returns the exit status: 0, or 1 when a run failed or on bad usage. */
int bench_main(int argc, char **argv);

#endif
