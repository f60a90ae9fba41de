/*
 * main.c: the minivmm command line: usage, the subcommand table, and the `run` options
 * parsed into one struct run_config (run.h), which run.c brings up.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apisock.h"
#include "bench.h"
#include "cmdline.h"
#include "ctl.h"
#include "exits.h"
#include "minivmm/errmsg.h"
#include "minivmm/abi.h"
#include "minivmm/memmap.h"
#include "nicopt.h"
#include "run.h"
#include "minivmm/util.h"
#include "vm.h"


static void usage(FILE *f)
{
    fprintf(f,
"usage: minivmm run -k KERNEL [options] [-- GUEST-WORDS...]\n"
"       minivmm exits FILE [options]\n"
"       minivmm ctl [--json] PATH COMMAND...   (minivmm ctl --help)\n"
"       minivmm bench exits|boot|net|io [options]   (minivmm bench --help)\n"
"       minivmm help | --help | version | --version\n"
"\n"
"minivmm run: boot a kernel on KVM: a PVH ELF (ELF64 or ELF32) or a Linux bzImage.\n"
"  -k, --kernel FILE       the kernel to boot (e.g. build/guest/kernel.elf): recognised by\n"
"                          content; a bzImage (boot protocol 2.12+, 64-bit) is entered at\n"
"                          its 64-bit entry with a zero page (Linux's boot protocol)\n"
"  -i, --initrd FILE       an initial RAM disk, placed page-aligned as high as the kernel\n"
"                          allows below 3 GiB: PVH module 0 (the device tree follows it),\n"
"                          or a bzImage's ramdisk_image/ramdisk_size\n"
"  -m, --memory SIZE       guest RAM, K/M/G suffixes (default 128M; above 3G, RAM\n"
"                          continues at 4 GiB past the MMIO hole)\n"
"  -c, --cpus N            vCPUs, one thread each (default 1, at most %d)\n"
"      --cmdline STRING    guest command line; words after `--` are appended,\n"
"                          nothing else is added\n"
"      --irqchip MODE      split (default: LAPIC in KVM, IOAPIC in minivmm) or kernel\n"
"                          (KVM's full irqchip; slower VM start on some hosts)\n"
"      --exit-log FILE     write every VM exit to FILE (binary, read by `minivmm exits`);\n"
"                          `-` streams one text line per record to stderr\n"
"      --dump-dtb FILE     write the device tree to FILE and exit (dtc -I dtb -O dts FILE)\n"
"      --dump-acpi DIR     write the ACPI tables to DIR/<table>.dat (rsdp, xsdt, facp,\n"
"                          apic, dsdt) and exit (iasl -d DIR/dsdt.dat)\n"
"      --exit-stats-interval SEC\n"
"                          print exits per second by reason every SEC seconds while the\n"
"                          guest runs (on stderr)\n"
"      --api-sock PATH     serve the control socket at PATH (mode 0600; JSON lines; see\n"
"                          minivmm ctl --help and docs/nic.md)\n"
"      --no-virtio-cmdline do not append the virtio_mmio.device= words of --nic to the\n"
"                          command line (the VFs stay in the device tree and the DSDT)\n"
"  -q, --quiet             no banner, no summary, no VMM chatter (guest console only)\n"
"      --no-sandbox        for debugging: no seccomp filters, capabilities and rlimits\n"
"                          kept (by default every thread runs under an allowlist of system\n"
"                          calls; a forbidden call ends minivmm with status %d and a line\n"
"                          naming it: docs/security.md)\n"
"%s"
"\n"
"Exit status: the byte the guest writes to port 0x%x (0 = success); 0 when the guest powers\n"
"off or reboots (ACPI S5 or reset register, i8042 reset: \"guest: power off\"/\"reboot\");\n"
"%d on VMM errors and bad input; %d when the guest crashed (triple fault, emulation\n"
"failure); 128+N on signal N.\n"
"Console: guest serial (COM1) on stdin/stdout; when stdin is a terminal, Ctrl-A x quits.\n"
"\n"
"minivmm exits FILE: report on an exit log, like `perf kvm stat report`: per exit reason\n"
"samples, %% of samples, %% of handling time, min/mean/p50/p99/max handling us; top ports\n"
"and MMIO addresses named by device and register; per vCPU; per device; boot phases;\n"
"KVM's own counts (stats records) beside ours, with a note where they disagree.\n"
"  Filters (they combine; with --reason, --device, --since or --until, KVM's whole-run\n"
"  counts are shown but not compared):\n"
"      --vcpu N            exits of vCPU N only\n"
"      --reason NAME       one KVM exit reason: io, mmio, hlt, shutdown, ioapic_eoi, ...\n"
"      --device NAME       PIO/MMIO exits at a bus-map device (serial, ioapic, ...);\n"
"                          `none`: accesses no device claims\n"
"      --since T, --until T  exits with since <= t < until, t since the vCPUs started;\n"
"                          seconds (0.5) or with a unit: 20ms, 500us, 1.5s\n"
"  Output:\n"
"      --format FMT        table (default), csv or json. Ports and addresses are hex\n"
"                          (\"0x3f8\") in all three. csv: one section per table (log,\n"
"                          filters, reasons, addresses, vcpus, devices, phases, kvm_stats,\n"
"                          kvm_compare, notes, timeline), each a header line then rows,\n"
"                          sections apart by an empty line; the first column holds the\n"
"                          table's name (\"table\" on header lines). json: one object with\n"
"                          log, filters, reasons, addresses, vcpus, devices, phases,\n"
"                          kvm_stats, timeline (when asked), truncated. Times: *_us, *_ms.\n"
"      --timeline BUCKET   exits per time bucket per reason (1ms, 500us, 0.01s); empty\n"
"                          buckets are left out\n"
"      --plot FILE.png     draw the timeline and a handling-time histogram with gnuplot\n"
"                          (package gnuplot-nox); the report still goes to stdout\n"
"\n"
"Commands of our guest (build/guest/kernel.elf), given on its command line:\n",
            VM_MAX_CPUS, VM_STATUS_ERROR, nicopt_help, MINIVMM_EXIT_PORT, VM_STATUS_ERROR, VM_STATUS_GUEST_CRASH);
#define CMD(name, arg, help) fprintf(f, "  %-22s %s\n", name arg, help);
    MINIVMM_GUEST_COMMANDS(CMD)
#undef CMD
    fprintf(f, "Guest parameters:\n");
#define PARAM(name, val, help)                                                                    \
    fprintf(f, "  %s%s%-*s %s\n", name, val[0] ? "=" : "", (int)(22 - strlen(name) - (val[0] ? 1 : 0)), \
            val, help);
    MINIVMM_GUEST_PARAMS(PARAM)
#undef PARAM
}

enum { OPT_CMDLINE = 256, OPT_IRQCHIP, OPT_EXIT_LOG, OPT_DUMP_DTB, OPT_DUMP_ACPI,
       OPT_STATS_INTERVAL, OPT_BENCH_DEVICE, OPT_NIC, OPT_API_SOCK, OPT_NO_VIRTIO_CMDLINE,
       OPT_NO_SANDBOX };

static int parse_run(int argc, char **argv, struct run_config *o)
{
    static const struct option longopts[] = {
        {"kernel", required_argument, NULL, 'k'},
        {"initrd", required_argument, NULL, 'i'},
        {"memory", required_argument, NULL, 'm'},
        {"cpus", required_argument, NULL, 'c'},
        {"cmdline", required_argument, NULL, OPT_CMDLINE},
        {"irqchip", required_argument, NULL, OPT_IRQCHIP},
        {"exit-log", required_argument, NULL, OPT_EXIT_LOG},
        {"dump-dtb", required_argument, NULL, OPT_DUMP_DTB},
        {"dump-acpi", required_argument, NULL, OPT_DUMP_ACPI},
        {"bench-device", optional_argument, NULL, OPT_BENCH_DEVICE}, /* docs/BENCHMARKS.md */
        {"exit-stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
        {"nic", required_argument, NULL, OPT_NIC}, /* src/nic.h */
        {"api-sock", required_argument, NULL, OPT_API_SOCK}, /* src/apisock.h */
        {"no-virtio-cmdline", no_argument, NULL, OPT_NO_VIRTIO_CMDLINE},
        {"quiet", no_argument, NULL, 'q'},
        {"no-sandbox", no_argument, NULL, OPT_NO_SANDBOX}, /* src/sandbox.h */
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, r;

    *o = (struct run_config){.mem = 128ull << 20, .cpus = 1, .irqchip = KVM_IRQCHIP_SPLIT};
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":k:i:m:c:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'k':
            o->kernel = optarg;
            break;
        case 'i':
            o->initrd = optarg;
            break;
        case 'm':
            r = cmdline_parse_size(optarg, &o->mem);
            if (r == 0 && (o->mem < GMEM_MIN_SIZE || o->mem > GMEM_MAX_SIZE))
                r = -ERANGE;
            if (r == 0 && (o->mem & 0xfff))
                r = -EINVAL;
            if (r)
                return errmsg_print(NULL, "-m/--memory: '%s' is not a size between 16M and 1T in whole "
                              "4 KiB pages (e.g. 128M, 2G)", optarg);
            break;
        case 'c':
            if (cmdline_parse_uint(optarg, 1, VM_MAX_CPUS, &o->cpus))
                return errmsg_print(NULL, "-c/--cpus: '%s' is not a number between 1 and %d", optarg,
                              VM_MAX_CPUS);
            break;
        case OPT_CMDLINE:
            o->cmdline = optarg;
            break;
        case OPT_IRQCHIP:
            if (strcmp(optarg, "split") == 0)
                o->irqchip = KVM_IRQCHIP_SPLIT;
            else if (strcmp(optarg, "kernel") == 0)
                o->irqchip = KVM_IRQCHIP_KERNEL;
            else
                return errmsg_print(NULL, "--irqchip: '%s' is not split or kernel", optarg);
            break;
        case OPT_EXIT_LOG:
            o->exit_log = optarg;
            break;
        case OPT_DUMP_DTB:
            o->dump_dtb = optarg;
            break;
        case OPT_DUMP_ACPI:
            o->dump_acpi = optarg;
            break;
        case OPT_BENCH_DEVICE:
            if (!optarg)
                o->bench_device = BENCHDEV_EXITS;
            else if (strcmp(optarg, "ioeventfd") == 0)
                o->bench_device = BENCHDEV_IOEVENTFD;
            else
                return errmsg_print(NULL, "--bench-device: '%s' is not ioeventfd", optarg);
            break;
        case OPT_STATS_INTERVAL: {
            char *end;
            o->stats_interval = strtod(optarg, &end);
            if (end == optarg || *end || !(o->stats_interval >= 0.001) ||
                o->stats_interval > 86400)
                return errmsg_print(NULL, "--exit-stats-interval: '%s' is not a number of seconds between "
                              "0.001 and 86400", optarg);
            break;
        }
        case OPT_NIC:
            if (o->nnics == MEMMAP_VIRTIO_MAX)
                return errmsg_print(NULL, "--nic: at most %d NICs", MEMMAP_VIRTIO_MAX);
            o->nics[o->nnics++] = optarg;
            break;
        case OPT_API_SOCK:
            o->api_sock = optarg;
            break;
        case OPT_NO_VIRTIO_CMDLINE:
            o->no_virtio_cmdline = true;
            break;
        case 'q':
            o->quiet = true;
            break;
        case OPT_NO_SANDBOX:
            o->no_sandbox = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case ':':
            return errmsg_print(NULL, "option '%s' needs a value (see minivmm --help)", argv[optind - 1]);
        default:
            return errmsg_print(NULL, "unknown option '%s' (see minivmm --help)", argv[optind - 1]);
        }
    }
    if (!o->kernel)
        return errmsg_print(NULL, "run: no kernel given (-k FILE; e.g. -k build/guest/kernel.elf)");
    /* Words after `--` (getopt stops there) go to the guest; any other word is a mistake. */
    if (optind < argc && strcmp(argv[optind - 1], "--") != 0)
        return errmsg_print(NULL, "run: unexpected argument '%s' (guest words go after `--`)",
                      argv[optind]);
    r = cmdline_build(o->bootargs, sizeof(o->bootargs), o->cmdline, argv + optind,
                      argc - optind);
    if (r == -E2BIG)
        return errmsg_print(NULL, "guest command line longer than %d bytes", MEMMAP_CMDLINE_MAX - 1);
    if (r < 0)
        return errmsg_print(NULL, "guest command line has an empty word or a control character");
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    static struct run_config cfg;
    if (parse_run(argc, argv, &cfg))
        return VM_STATUS_ERROR;
    cfg.api_ops = &apisock_run_service; /* cmd/ctl/ */
    return run_vm(&cfg);
}


/* ---- the commands ---- */

static int cmd_exits(int argc, char **argv)
{
    return exits_main(argc, argv, usage);
}

static int cmd_help(int argc, char **argv)
{
    usage(stdout);
    return 0;
}

static int cmd_version(int argc, char **argv)
{
    printf("minivmm %s (guest ABI %d)\n", MINIVMM_VERSION, MINIVMM_ABI_VERSION);
    return 0;
}

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv); /* argv[0] is the command's name; returns the status */
} commands[] = {
    {"run", cmd_run},      /* src/run.c */
    {"exits", cmd_exits},  /* cmd/exits/ */
    {"bench", bench_main}, /* cmd/bench/ */
    {"ctl", ctl_main},     /* cmd/ctl/ */
    {"help", cmd_help},       {"--help", cmd_help},       {"-h", cmd_help},
    {"version", cmd_version}, {"--version", cmd_version}, {"-V", cmd_version},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return VM_STATUS_ERROR;
    }
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    return errmsg_print(NULL, "unknown command '%s' (see minivmm --help)", argv[1]);
}
