/*
 * netcmd.h: the net.* guest commands (abi.h MINIVMM_GUEST_COMMANDS).
 */
#ifndef GUEST_NETCMD_H
#define GUEST_NETCMD_H

#include "../cmdline.h"

int cmd_net_ping(const struct cmdline *cl);
int cmd_net_echo(const struct cmdline *cl);
int cmd_net_tx(const struct cmdline *cl);
int cmd_net_selftest(const struct cmdline *cl);
int cmd_net_setmac(const struct cmdline *cl);
int cmd_net_hostile(const struct cmdline *cl); /* hostile.c */

#endif
