/*
 * mmcmd.h: the memory-management commands of the guest (mmcmd.c): mm.selftest, mm.demo,
 * mm.bench (abi.h MINIVMM_GUEST_COMMANDS).
 */
#ifndef KMM_MMCMD_H
#define KMM_MMCMD_H

#include "../cmdline.h"

int cmd_mm_selftest(const struct cmdline *cl);
int cmd_mm_demo(const struct cmdline *cl);
int cmd_mm_bench(const struct cmdline *cl);

#endif
