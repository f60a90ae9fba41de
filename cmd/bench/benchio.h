/*
 * benchio.h: `minivmm bench io`, one payload through every guest I/O path (benchio.c,
 * docs/BENCHMARKS.md).
 */
#ifndef MINIVMM_BENCHIO_H
#define MINIVMM_BENCHIO_H

/* argv[0] is "io". Returns the exit status: 0, or 1 when a mode was not verified or on bad
 * usage. */
int benchio_main(int argc, char **argv);

#endif
