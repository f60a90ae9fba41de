/*
 * commands.h: running the command the command line selected.
 */
#ifndef GUEST_COMMANDS_H
#define GUEST_COMMANDS_H

#include "cmdline.h"

/* Run cl->command; returns the exit-port status (MINIVMM_STATUS_*). */
int command_run(const struct cmdline *cl);

#endif
