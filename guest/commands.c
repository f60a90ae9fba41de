/*
 * commands.c: the guest's commands, one function each; abi.h's MINIVMM_GUEST_COMMANDS is
 * the list of names, and a name without a function here fails with a message rather than
 * at build time, so the ABI table can grow ahead of the guest.
 *
 *   hello  boot and report (the banner and "cpu N: online" lines come from main.c)
 *   panic  write to an address beyond the 4 GiB identity map: #PF, register dump, status 3
 *   echo   read console lines and print them back until "quit"
 *   bench.exits  timed loops of VM exits (bench.c)
 *   mm.selftest, mm.demo, mm.bench  memory management (kmm/mmcmd.c)
 *   net.ping, net.echo, net.tx, net.selftest, net.setmac  networking (net/netcmd.c)
 *   net.hostile  hostile virtio descriptors on vf0: NEEDS_RESET, isolation, reset (net/hostile.c)
 *   serial.tx  a checksummed payload through the UART for `minivmm bench io` (iocmd.c)
 */
#include "commands.h"

#include <minivmm/abi.h>

#include "bench.h"
#include "console.h"
#include "iocmd.h"
#include "kernel.h"
#include "kmm/mmcmd.h"
#include "net/netcmd.h"

/* Canonical, but beyond the 4 GiB boot.S maps, so any access takes #PF. */
#define UNMAPPED_ADDR 0x7f0000000000ull

#define ECHO_LINE_MAX 256

static int cmd_hello(const struct cmdline *cl)
{
    (void)cl;
    kprintf("hello: done\n");
    return MINIVMM_STATUS_OK;
}

static int cmd_panic(const struct cmdline *cl)
{
    (void)cl;
    kprintf("panic: writing to unmapped address 0x%llx\n", UNMAPPED_ADDR);
    *(volatile uint64_t *)(uintptr_t)UNMAPPED_ADDR = 0;
    return MINIVMM_STATUS_FAIL; /* not reached: the fault handler exits */
}

static int cmd_echo(const struct cmdline *cl)
{
    char line[ECHO_LINE_MAX];

    (void)cl;
    kprintf("echo: type lines, 'quit' to end\n");
    for (;;) {
        console_read_line(line, sizeof(line));
        if (strcmp(line, "quit") == 0)
            break;
        kprintf("%s\n", line);
    }
    kprintf("echo: bye\n");
    return MINIVMM_STATUS_OK;
}

static const struct command {
    const char *name;
    int (*run)(const struct cmdline *cl);
} commands[] = {
    {"hello", cmd_hello},
    {"panic", cmd_panic},
    {"echo", cmd_echo},
    {"bench.exits", cmd_bench_exits},
    {"mm.selftest", cmd_mm_selftest},
    {"mm.demo", cmd_mm_demo},
    {"mm.bench", cmd_mm_bench},
    {"net.ping", cmd_net_ping},
    {"net.echo", cmd_net_echo},
    {"net.tx", cmd_net_tx},
    {"net.selftest", cmd_net_selftest},
    {"net.setmac", cmd_net_setmac},
    {"net.hostile", cmd_net_hostile},
    {"serial.tx", cmd_serial_tx},
};

int command_run(const struct cmdline *cl)
{
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        if (strcmp(commands[i].name, cl->command) == 0)
            return commands[i].run(cl);
    kprintf("%s: command not implemented by this guest\n", cl->command);
    return MINIVMM_STATUS_FAIL;
}
