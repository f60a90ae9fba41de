/*
 * benchnet.h: `minivmm bench net`, the NIC benchmark (benchnet.c, docs/BENCHMARKS.md).
 */
#ifndef MINIVMM_BENCHNET_H
#define MINIVMM_BENCHNET_H

/* argv[0] is "net". Returns the exit status: 0, or 1 when a run failed or on bad usage. */
int benchnet_main(int argc, char **argv);

#endif
