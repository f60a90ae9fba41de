/*
 * exits.h: `minivmm exits FILE [options]`, the report on an exit log (exitreport.h).
 */
#ifndef MINIVMM_EXITS_H
#define MINIVMM_EXITS_H

#include <stdio.h>

/* argv[0] is "exits". Prints the report on stdout; `help` prints the usage (--help, which
 * stays with minivmm's own in src/main.c). Exit status: 0, or 1 with a message on stderr. */
int exits_main(int argc, char **argv, void (*help)(FILE *f));

#endif
