/*
 * ctl.h: `minivmm ctl PATH COMMAND...`, the client of the control socket (apisock.h).
 */
#ifndef MINIVMM_CTL_H
#define MINIVMM_CTL_H

#include <stdio.h>

extern const char *const ctl_help;

/* How long `ctl` waits for the reply unless --timeout SECONDS says otherwise. */
#define CTL_TIMEOUT_MS 10000

/* argv[0] is "ctl". Exit status: 0 when the server said ok, 1 otherwise (the reason on
 * stderr, one line), including no reply within the timeout (--timeout). */
int ctl_main(int argc, char **argv);

#endif
