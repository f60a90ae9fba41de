/*
 * main.c: the minivmm command line, and `minivmm run` bring-up in order.
 *
 * cmd_run() reads top to bottom as the machine comes up: open KVM, create the VM and its
 * interrupt controller, map memory, load the kernel, create devices, build the device tree
 * and boot info, create vCPUs, start them, wait, tear down in reverse. Only this file turns
 * errors into messages and exit statuses.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libfdt.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "apisock.h"
#include "bench.h"
#include "benchdev.h"
#include "cmdline.h"
#include "console.h"
#include "ctl.h"
#include "elf_loader.h"
#include "exitlog.h"
#include "exits.h"
#include "exitsum.h"
#include "fdt_build.h"
#include "kvmstats.h"
#include "minivmm/abi.h"
#include "minivmm/errmsg.h"
#include "minivmm/memmap.h"
#include "minivmm/uart16550.h"
#include "nic.h"
#include "nicopt.h"
#include "pvh.h"
#include "vcpu.h"
#include "vm.h"
#include "minivmm/util.h"

#define MINIVMM_VERSION "0.1.0"

struct run_opts {
    const char *kernel;
    uint64_t mem;
    unsigned cpus;
    const char *cmdline;
    enum kvm_irqchip_mode irqchip;
    const char *exit_log;
    const char *dump_dtb;
    double stats_interval; /* --exit-stats-interval, seconds; 0 = off */
    bool quiet;
    enum benchdev_mode bench_device; /* --bench-device[=ioeventfd], for `minivmm bench` */
    const char *nics[MEMMAP_VIRTIO_MAX]; /* --nic SPEC, in order */
    unsigned nnics;
    const char *api_sock; /* --api-sock PATH: the control socket (cmd/ctl/apisock.h) */
    char bootargs[MEMMAP_CMDLINE_MAX];
};

static void usage(FILE *f)
{
    fprintf(f,
"usage: minivmm run -k KERNEL [options] [-- GUEST-WORDS...]\n"
"       minivmm exits FILE [options]\n"
"       minivmm ctl [--json] PATH COMMAND...   (minivmm ctl --help)\n"
"       minivmm bench exits|boot|net [options]   (minivmm bench --help)\n"
"       minivmm help | --help | version | --version\n"
"\n"
"minivmm run: boot a PVH kernel (ELF64 or ELF32) on KVM.\n"
"  -k, --kernel FILE       the kernel to boot (e.g. build/guest/kernel.elf)\n"
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
"      --exit-stats-interval SEC\n"
"                          print exits per second by reason every SEC seconds while the\n"
"                          guest runs (on stderr)\n"
"      --api-sock PATH     serve the control socket at PATH (mode 0600; JSON lines; see\n"
"                          minivmm ctl --help and docs/nic.md)\n"
"  -q, --quiet             no banner, no summary, no VMM chatter (guest console only)\n"
"%s"
"\n"
"Exit status: the byte the guest writes to port 0x%x (0 = success); %d on VMM errors and\n"
"bad input; %d when the guest crashed (triple fault, emulation failure); 128+N on signal N.\n"
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
"      --timeline BUCKET   exits per time bucket per reason (1ms, 500us, 0.01s)\n"
"      --plot FILE.png     draw the timeline and a handling-time histogram with gnuplot\n"
"                          (package gnuplot-nox); the report still goes to stdout\n"
"\n"
"Commands of our guest (build/guest/kernel.elf), given on its command line:\n",
            VM_MAX_CPUS, nicopt_help, MINIVMM_EXIT_PORT, VM_STATUS_ERROR, VM_STATUS_GUEST_CRASH);
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

/* errmsg_print() returns 1 for every error the VMM reports. */
_Static_assert(VM_STATUS_ERROR == 1, "errmsg_print returns VM_STATUS_ERROR");

enum { OPT_CMDLINE = 256, OPT_IRQCHIP, OPT_EXIT_LOG, OPT_DUMP_DTB, OPT_STATS_INTERVAL,
       OPT_BENCH_DEVICE, OPT_NIC, OPT_API_SOCK };

static int parse_run(int argc, char **argv, struct run_opts *o)
{
    static const struct option longopts[] = {
        {"kernel", required_argument, NULL, 'k'},
        {"memory", required_argument, NULL, 'm'},
        {"cpus", required_argument, NULL, 'c'},
        {"cmdline", required_argument, NULL, OPT_CMDLINE},
        {"irqchip", required_argument, NULL, OPT_IRQCHIP},
        {"exit-log", required_argument, NULL, OPT_EXIT_LOG},
        {"dump-dtb", required_argument, NULL, OPT_DUMP_DTB},
        {"bench-device", optional_argument, NULL, OPT_BENCH_DEVICE}, /* docs/BENCHMARKS.md */
        {"exit-stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
        {"nic", required_argument, NULL, OPT_NIC}, /* src/nic.h */
        {"api-sock", required_argument, NULL, OPT_API_SOCK}, /* cmd/ctl/apisock.h */
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, r;

    *o = (struct run_opts){.mem = 128ull << 20, .cpus = 1, .irqchip = KVM_IRQCHIP_SPLIT};
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":k:m:c:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'k':
            o->kernel = optarg;
            break;
        case 'm':
            r = cmdline_parse_size(optarg, &o->mem);
            if (r == 0 && (o->mem < GMEM_MIN_SIZE || o->mem > GMEM_MAX_SIZE))
                r = -ERANGE;
            if (r == 0 && (o->mem & 0xfff))
                r = -EINVAL;
            if (r)
                return errmsg_print(NULL,
                                    "-m/--memory: '%s' is not a size between 16M and 1T in whole "
                                    "4 KiB pages (e.g. 128M, 2G)",
                                    optarg);
            break;
        case 'c':
            if (cmdline_parse_uint(optarg, 1, VM_MAX_CPUS, &o->cpus))
                return errmsg_print(NULL, "-c/--cpus: '%s' is not a number between 1 and %d",
                                    optarg, VM_MAX_CPUS);
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
                return errmsg_print(
                    NULL,
                    "--exit-stats-interval: '%s' is not a number of seconds between "
                    "0.001 and 86400",
                    optarg);
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
        case 'q':
            o->quiet = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case ':':
            return errmsg_print(NULL, "option '%s' needs a value (see minivmm --help)",
                                argv[optind - 1]);
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
        return errmsg_print(NULL, "guest command line longer than %d bytes",
                            MEMMAP_CMDLINE_MAX - 1);
    if (r < 0)
        return errmsg_print(NULL, "guest command line has an empty word or a control character");
    return 0;
}

/* ---- callbacks from devices ---- */

static void on_exit_port(void *opaque, unsigned vcpu, uint8_t status)
{
    (void)vcpu;
    vm_stop(opaque, status);
}

/* Exits so far, all vCPUs and reasons (relaxed reads of the live counters). */
static uint64_t exits_so_far(struct vm *vm, uint64_t *by_reason)
{
    uint64_t total = 0;
    if (by_reason)
        memset(by_reason, 0, (EXITSUM_MAX_REASONS + 1) * sizeof(*by_reason));
    for (unsigned i = 0; i < vm->ncpus; i++)
        for (unsigned r = 0; r <= EXITSUM_MAX_REASONS; r++) {
            uint64_t n = __atomic_load_n(&vm->vcpus[i].live[r], __ATOMIC_RELAXED);
            total += n;
            if (by_reason)
                by_reason[r] += n;
        }
    return total;
}

static void on_phase(void *opaque, unsigned vcpu, uint8_t code)
{
    struct vm *vm = opaque;
    struct exitlog_marker m = {.t_ns = now_ns() - vm->t0_ns, .vcpu = vcpu, .code = code};
    pthread_mutex_lock(&vm->marker_lock);
    exitsum_add_marker(&vm->markers, &m, exits_so_far(vm, NULL));
    if (code == MINIVMM_PHASE_XFER_START || code == MINIVMM_PHASE_XFER_DONE) {
        unsigned k = code == MINIVMM_PHASE_XFER_DONE;
        for (unsigned p = 0; p < IOAPIC_NUM_PINS; p++)
            vm->xfer_irqs[k][p] = __atomic_load_n(&vm->ic.ioapic.delivered[p], __ATOMIC_RELAXED);
        vm->xfer_kicks[k] = nic_kicks_total(vm->nics);
        vm->xfer_seen[k] = true;
    }
    pthread_mutex_unlock(&vm->marker_lock);
    if (vm->log)
        exitlog_marker(vm->log, &m);
}

static void on_console_quit(void *opaque)
{
    struct vm *vm = opaque;
    if (!vm->quiet)
        fprintf(stderr, "\r\nminivmm: quit (Ctrl-A x)\n");
    vm_stop(vm, 0);
}

static int register_devices(struct vm *vm, char *err, size_t errlen)
{
    struct irq_line uart_irq;
    int ret;

    irqchip_line(&vm->ic, UART_COM1_IRQ, &uart_irq);
    console_init(&vm->console, STDIN_FILENO, STDOUT_FILENO);
    ret = serial16550_init(&vm->uart, &uart_irq, console_tx, &vm->console);
    if (ret) {
        snprintf(err, errlen, "serial: init failed: %s", strerror(-ret));
        return ret;
    }
    vm->exitp = (struct exitport){.on_exit = on_exit_port, .opaque = vm};
    vm->phasep = (struct phaseport){.on_phase = on_phase, .opaque = vm};

    const struct bus_dev devs[] = {
        {"serial", BUS_PIO, UART_COM1_BASE, 8, &serial16550_bus_ops, &vm->uart,
         serial16550_regs, serial16550_nregs},
        {"exit", BUS_PIO, MINIVMM_EXIT_PORT, 1, &exitport_bus_ops, &vm->exitp, exitport_regs,
         exitport_nregs},
        {"phase", BUS_PIO, MINIVMM_PHASE_PORT, 1, &phaseport_bus_ops, &vm->phasep,
         phaseport_regs, phaseport_nregs},
        {"ioapic", BUS_MMIO, MEMMAP_IOAPIC_BASE, MEMMAP_IOAPIC_SIZE, &ioapic_bus_ops,
         &vm->ic.ioapic, ioapic_regs, ioapic_nregs},
    };
    for (size_t i = 0; i < ARRAY_SIZE(devs); i++) {
        /* With KVM's full irqchip the IOAPIC lives in KVM. */
        if (strcmp(devs[i].name, "ioapic") == 0 && vm->ic.mode != KVM_IRQCHIP_SPLIT)
            continue;
        ret = bus_register(&vm->bus, &devs[i]);
        if (ret) {
            snprintf(err, errlen, "bus: cannot register %s: %s", devs[i].name, strerror(-ret));
            return ret;
        }
    }
    return 0;
}

static int write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -errno;
    size_t n = fwrite(buf, 1, len, f);
    int ret = (n == len) ? 0 : -EIO;
    if (fclose(f) != 0 && ret == 0)
        ret = -errno;
    return ret;
}

/* One live-view line: exits per second by reason since the previous line. */
static void live_view(struct vm *vm, uint64_t *prev, uint64_t *prev_ns)
{
    uint64_t now[EXITSUM_MAX_REASONS + 1], t = now_ns();
    uint64_t total = exits_so_far(vm, now), prev_total = 0;
    double dt = (double)(t - *prev_ns) / 1e9;
    char line[512];
    int n = 0;

    for (unsigned r = 0; r <= EXITSUM_MAX_REASONS; r++)
        prev_total += prev[r];
    n += snprintf(line + n, sizeof(line) - (size_t)n, "minivmm: [%8.3fs] %9.0f exits/s",
                  (double)(t - vm->t0_ns) / 1e9, (double)(total - prev_total) / dt);
    for (unsigned r = 0; r <= EXITSUM_MAX_REASONS && n < (int)sizeof(line) - 40; r++) {
        if (now[r] == prev[r])
            continue;
        n += snprintf(line + n, sizeof(line) - (size_t)n, "  %s %.0f",
                      r == EXITSUM_MAX_REASONS ? "other" : exitlog_reason_name(r),
                      (double)(now[r] - prev[r]) / dt);
    }
    fprintf(stderr, "%s\n", line);
    memcpy(prev, now, sizeof(now));
    *prev_ns = t;
}

/* Waits for the VM to stop or for SIGINT/SIGTERM/SIGHUP; prints the live view meanwhile. */
static void wait_for_stop(struct vm *vm, int sig_fd, double interval)
{
    struct pollfd p[2] = {{.fd = vm->stop_fd, .events = POLLIN},
                          {.fd = sig_fd, .events = POLLIN}};
    uint64_t prev[EXITSUM_MAX_REASONS + 1] = {0}, prev_ns = vm->t0_ns;
    int timeout_ms = interval > 0 ? (int)(interval * 1000 + 0.5) : -1;
    uint64_t next_ns = vm->t0_ns + (uint64_t)(interval * 1e9);
    for (;;) {
        if (interval > 0) {
            uint64_t t = now_ns();
            if (t >= next_ns) {
                live_view(vm, prev, &prev_ns);
                next_ns += (uint64_t)(interval * 1e9);
                if (next_ns <= t)
                    next_ns = t + (uint64_t)(interval * 1e9);
            }
            /* A line slower than the interval leaves next_ns in the past: wait 0 ms then,
             * never a wrapped (huge or negative, i.e. endless) timeout. */
            uint64_t t_now = now_ns();
            timeout_ms = next_ns > t_now ? (int)((next_ns - t_now) / 1000000) + 1 : 0;
        }
        int r = poll(p, 2, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            continue;
        if (r < 0 || (p[0].revents & POLLIN))
            return;
        if (p[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (!vm->quiet)
                    fprintf(stderr, "minivmm: terminating on signal %u\n", si.ssi_signo);
                vm_stop(vm, 128 + (int)si.ssi_signo);
            }
            return;
        }
    }
}

/* KVM's own per-vCPU statistics: into the exit log as stats records, and a few totals for
 * the summary, printed beside our counts. */
static const char *const kvm_stat_names[] = {"exits", "io_exits", "mmio_exits",
                                             "halt_exits", "irq_exits", "insn_emulation"};
#define NR_KVM_STATS (ARRAY_SIZE(kvm_stat_names))

struct kvm_stat_ctx {
    struct vm *vm;
    unsigned vcpu;
    uint64_t t_ns;
    uint64_t totals[NR_KVM_STATS];
    bool seen[NR_KVM_STATS];
};

static void on_kvm_stat(void *opaque, const char *name, uint64_t value)
{
    struct kvm_stat_ctx *c = opaque;
    if (c->vm->log) {
        struct exitlog_stat st = {.t_ns = c->t_ns, .vcpu = c->vcpu, .value = value};
        snprintf(st.name, sizeof(st.name), "%s", name);
        exitlog_stat(c->vm->log, &st);
    }
    for (size_t i = 0; i < NR_KVM_STATS; i++)
        if (strcmp(name, kvm_stat_names[i]) == 0) {
            c->totals[i] += value;
            c->seen[i] = true;
        }
}

static void collect_kvm_stats(struct vm *vm, struct kvm_stat_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->vm = vm;
    c->t_ns = now_ns() - vm->t0_ns;
    if (!vm->kvm.has_stats)
        return;
    for (unsigned i = 0; i < vm->ncpus; i++) {
        c->vcpu = i;
        kvmstats_read(vm->vcpus[i].fd, on_kvm_stat, c);
    }
}

static void print_kvm_stats(const struct kvm_stat_ctx *c, const struct exitsum *ours)
{
    char line[256];
    int n = snprintf(line, sizeof(line), "KVM's counts (all vCPUs):");
    bool any = false;
    for (size_t i = 0; i < NR_KVM_STATS; i++)
        if (c->seen[i]) {
            n += snprintf(line + n, sizeof(line) - (size_t)n, " %s %llu", kvm_stat_names[i],
                          (unsigned long long)c->totals[i]);
            any = true;
        }
    if (!any)
        return;
    fprintf(stderr, "%s\n", line);
    /* KVM's io_exits against our IO count: they differ where KVM does not count PIO exits
     * (PVM hosts) or counts intercepts that never reach us (string PIO, ioeventfd). */
    uint64_t our_io = ours->reasons[KVM_EXIT_IO].n;
    if (c->seen[1] && c->totals[1] != our_io)
        fprintf(stderr, "note: KVM counts %llu PIO exits, minivmm handled %llu%s\n",
                (unsigned long long)c->totals[1], (unsigned long long)our_io,
                c->totals[1] == 0      ? " (on PVM hosts KVM's statistics do not count PIO exits)"
                : c->totals[1] > our_io ? " (" KVMSTATS_IO_EXITS_WHY_MORE ")"
                                        : "");
}

/* "minivmm: irqs: xfer N (pin P n, ...)": IOAPIC deliveries between the xfer markers. */
static void print_xfer_irqs(struct vm *vm)
{
    uint64_t total = 0;
    pthread_mutex_lock(&vm->marker_lock);
    if (vm->ic.mode == KVM_IRQCHIP_SPLIT && vm->xfer_seen[0] && vm->xfer_seen[1]) {
        for (unsigned p = 0; p < IOAPIC_NUM_PINS; p++)
            total += vm->xfer_irqs[1][p] - vm->xfer_irqs[0][p];
        fprintf(stderr, "minivmm: irqs: xfer %" PRIu64, total);
        for (unsigned p = 0, n = 0; p < IOAPIC_NUM_PINS; p++)
            if (vm->xfer_irqs[1][p] != vm->xfer_irqs[0][p])
                fprintf(stderr, "%spin %u %" PRIu64, n++ ? ", " : " (", p,
                        vm->xfer_irqs[1][p] - vm->xfer_irqs[0][p]);
        fprintf(stderr, "%s\n", total ? ")" : "");
    }
    if (vm->nics && vm->xfer_seen[0] && vm->xfer_seen[1])
        fprintf(stderr, "minivmm: kicks: xfer %" PRIu64 "\n", vm->xfer_kicks[1] - vm->xfer_kicks[0]);
    pthread_mutex_unlock(&vm->marker_lock);
}

static void print_summary(struct vm *vm, uint64_t wall_ns, const struct kvm_stat_ctx *kst)
{
    struct exitsum *all = malloc(sizeof(*all));
    if (!all)
        return;
    exitsum_init(all);
    for (unsigned i = 0; i < vm->ncpus; i++)
        exitsum_merge(all, &vm->vcpus[i].sum);
    exitsum_merge(all, &vm->markers);
    exitsum_print(stderr, all, &vm->map, wall_ns);
    print_xfer_irqs(vm);
    print_kvm_stats(kst, all);
    free(all);
}

static int cmd_run(int argc, char **argv)
{
    struct run_opts o;
    char err[512];
    int ret, status = VM_STATUS_ERROR;
    struct kvm_cpuid2 *cpuid = NULL;
    static char fdt[MEMMAP_FDT_MAX];
    struct elf_image img;
    struct benchdev *bench = NULL;
    struct nics *nics = NULL;
    struct apisock *api = NULL;
    struct apisock_vm api_vm = {0};
    sigset_t sigs;
    int sig_fd = -1;

    if (parse_run(argc, argv, &o))
        return VM_STATUS_ERROR;

    struct vm *vm = calloc(1, sizeof(*vm));
    if (!vm)
        return errmsg_print(NULL, "out of memory");
    vm->quiet = o.quiet;
    vm->ncpus = 0;
    vm->stop_fd = -1;
    vm->gm.fd = -1;
    pthread_mutex_init(&vm->stop_lock, NULL);
    pthread_mutex_init(&vm->marker_lock, NULL);
    pthread_mutex_init(&vm->pause_lock, NULL);
    pthread_cond_init(&vm->pause_cond, NULL);
    exitsum_init(&vm->markers);
    bus_init(&vm->bus);

    /* Signals: vCPU kicks go to vCPU threads only; SIGINT/SIGTERM/SIGHUP to a signalfd. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    sigdelset(&sigs, SIGUSR1);
    signal(SIGPIPE, SIG_IGN);

    /* 1. Open KVM and check what we rely on. */
    ret = kvm_open(&vm->kvm, o.irqchip, err, sizeof(err));
    if (ret)
        goto err_print;
    if (o.cpus > (unsigned)vm->kvm.max_vcpus) {
        snprintf(err, sizeof(err), "-c/--cpus: %u is more than KVM allows here (%d)", o.cpus,
                 vm->kvm.max_vcpus);
        goto err_print_kvm;
    }
    /* 2. Create the VM and its interrupt controller (split mode must precede vCPUs). */
    ret = kvm_create_vm(&vm->kvm, err, sizeof(err));
    if (ret)
        goto err_print_kvm;
    ret = irqchip_init(&vm->ic, &vm->kvm, o.irqchip, err, sizeof(err));
    if (ret)
        goto err_print_kvm;
    /* 3. Guest RAM from a memfd, one KVM slot per region. */
    ret = gmem_init(&vm->gm, o.mem);
    if (ret) {
        snprintf(err, sizeof(err), "memory: cannot allocate %" PRIu64 " MiB: %s", o.mem >> 20,
                 strerror(-ret));
        goto err_print_irq;
    }
    ret = kvm_map_memory(&vm->kvm, &vm->gm, err, sizeof(err));
    if (ret)
        goto err_print_mem;
    /* 4. Load the kernel. */
    ret = elf_load_pvh_file(o.kernel, &vm->gm, &img, err, sizeof(err));
    if (ret)
        goto err_print_mem;
    /* 5. Devices on the buses. */
    ret = register_devices(vm, err, sizeof(err));
    if (ret)
        goto err_print_mem;
    if (o.bench_device != BENCHDEV_OFF) { /* only for `minivmm bench exits` */
        ret = benchdev_create(&bench, &vm->bus, vm->kvm.vm_fd, o.bench_device, err, sizeof(err));
        if (ret)
            goto err_print_uart;
    }
    /* 5b. NICs (--nic): switch, uplink, one virtio-net VF per virtio-mmio window. */
    if (o.nnics) {
        ret = nic_create_all(&nics, o.nics, o.nnics, &vm->bus, &vm->ic, &vm->gm,
                             vm->kvm.vm_fd, err, sizeof(err));
        if (!ret && nic_append_cmdline(nics, o.bootargs, sizeof(o.bootargs))) {
            snprintf(err, sizeof(err), "guest command line longer than %d bytes with the "
                     "virtio_mmio.device= words of --nic", MEMMAP_CMDLINE_MAX - 1);
            ret = -E2BIG;
        }
        if (ret)
            goto err_print_uart;
        vm->nics = nics;
    }
    /* 6. Device tree and PVH boot information. */
    struct fdt_machine mach = {
        .ncpus = o.cpus, .gm = &vm->gm, .bootargs = o.bootargs, .uart_port = UART_COM1_BASE,
        .uart_irq = UART_COM1_IRQ, .exit_port = MINIVMM_EXIT_PORT,
        .phase_port = MINIVMM_PHASE_PORT};
    nic_fdt(nics, &mach);
    ret = fdt_build(fdt, sizeof(fdt), &mach);
    if (ret) {
        snprintf(err, sizeof(err), "fdt: cannot build the device tree: %s", strerror(-ret));
        goto err_print_uart;
    }
    if (o.dump_dtb) {
        ret = write_file(o.dump_dtb, fdt, fdt_totalsize(fdt));
        if (ret) {
            snprintf(err, sizeof(err), "--dump-dtb: %s: %s", o.dump_dtb, strerror(-ret));
            goto err_print_uart;
        }
        status = 0;
        goto out_uart;
    }
    ret = pvh_write_boot_info(&vm->gm, o.bootargs, fdt, fdt_totalsize(fdt));
    if (ret) {
        snprintf(err, sizeof(err), "pvh: cannot write boot information: %s", strerror(-ret));
        goto err_print_uart;
    }
    /* 7. The exit log, with the bus map in its header. */
    exitlog_busmap_from_bus(&vm->map, &vm->bus);
    if (o.exit_log) {
        ret = exitlog_open(&vm->log, o.exit_log, &vm->map, o.cpus);
        if (ret) {
            snprintf(err, sizeof(err), "--exit-log: %s: %s", o.exit_log, strerror(-ret));
            goto err_print_uart;
        }
    }
    /* 8. vCPUs: per-vCPU CPUID; the BSP starts at the PVH entry, APs wait for SIPI. */
    cpuid = vcpu_supported_cpuid(vm->kvm.sys_fd, err, sizeof(err));
    if (!cpuid)
        goto err_print_log;
    vm->vcpus = calloc(o.cpus, sizeof(*vm->vcpus));
    if (!vm->vcpus) {
        snprintf(err, sizeof(err), "out of memory");
        goto err_print_log;
    }
    for (unsigned i = 0; i < o.cpus; i++) {
        ret = vcpu_create(&vm->vcpus[i], vm, i, cpuid, err, sizeof(err));
        if (ret)
            goto err_print_vcpus;
        vm->ncpus = i + 1;
    }
    ret = vcpu_set_pvh_entry(&vm->vcpus[0], img.pvh_entry, err, sizeof(err));
    if (ret)
        goto err_print_vcpus;
    vm->stop_fd = eventfd(0, EFD_CLOEXEC);
    sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
    if (vm->stop_fd < 0 || sig_fd < 0 || vcpu_signals_init()) {
        snprintf(err, sizeof(err), "cannot set up signals: %s", strerror(errno));
        goto err_print_vcpus;
    }

    if (!o.quiet) {
        const char *mmu = kvm_mmu_mode();
        fprintf(stderr,
                "minivmm %s: %u vCPU%s, %" PRIu64 " MiB, %s irqchip, kernel %s (ELF%d, PVH entry "
                "0x%x)\n",
                MINIVMM_VERSION, o.cpus, o.cpus > 1 ? "s" : "", o.mem >> 20,
                o.irqchip == KVM_IRQCHIP_SPLIT ? "split" : "kernel", o.kernel, img.elfclass,
                img.pvh_entry);
        fprintf(stderr, "minivmm: MMU: %s\n", mmu ? mmu : "unknown (cannot tell on this host)");
    }

    /* 9. The control socket (served once the vCPUs run), the console, then the vCPUs. */
    if (o.api_sock) {
        api_vm = (struct apisock_vm){.vm = vm, .nics = nics};
        ret = apisock_create(&api, o.api_sock, &apisock_vm_ops, &api_vm, err, sizeof(err));
        if (ret)
            goto err_print_vcpus;
    }
    ret = console_start(&vm->console, &vm->uart, on_console_quit, vm);
    if (ret) {
        snprintf(err, sizeof(err), "console: cannot start: %s", strerror(-ret));
        goto err_print_vcpus;
    }
    vm->t0_ns = now_ns();
    for (unsigned i = 0; i < vm->ncpus; i++) {
        ret = vcpu_start(&vm->vcpus[i]);
        if (ret) {
            fprintf(stderr, "minivmm: cannot start vcpu %u: %s\n", i, strerror(-ret));
            vm_stop(vm, VM_STATUS_ERROR);
            break;
        }
    }
    if (api && (ret = apisock_start(api))) {
        fprintf(stderr, "minivmm: --api-sock: cannot start its thread: %s\n", strerror(-ret));
        vm_stop(vm, VM_STATUS_ERROR);
    }

    /* 10. Run until the guest exits, crashes, or we are told to stop. */
    wait_for_stop(vm, sig_fd, o.stats_interval);
    uint64_t wall = now_ns() - vm->t0_ns;

    /* 11. Tear down in reverse; the control socket first, as its commands kick the vCPUs. */
    apisock_destroy(api);
    api = NULL;
    for (unsigned i = 0; i < vm->ncpus; i++)
        vcpu_kick(&vm->vcpus[i]);
    for (unsigned i = 0; i < vm->ncpus; i++)
        vcpu_join(&vm->vcpus[i]);
    console_stop(&vm->console);
    status = vm->status;
    struct kvm_stat_ctx kst = {0};
    if (vm->log || !o.quiet) /* only someone who will see them pays for reading them */
        collect_kvm_stats(vm, &kst);
    if (!o.quiet)
        print_summary(vm, wall, &kst);
    ret = exitlog_close(vm->log);
    vm->log = NULL;
    if (ret && status == 0)
        status = errmsg_print(NULL, "--exit-log: %s: write failed: %s", o.exit_log, strerror(-ret));
    else if (ret)
        errmsg_print(NULL, "--exit-log: %s: write failed: %s", o.exit_log, strerror(-ret));
    goto out_vcpus;

err_print_vcpus:
    errmsg_print(NULL, "%s", err);
out_vcpus:
    apisock_destroy(api);
    for (unsigned i = 0; i < vm->ncpus; i++)
        vcpu_destroy(&vm->vcpus[i]);
    free(vm->vcpus);
    free(cpuid);
    if (sig_fd >= 0)
        close(sig_fd);
    if (vm->stop_fd >= 0)
        close(vm->stop_fd);
    goto out_log;
err_print_log:
    errmsg_print(NULL, "%s", err);
out_log:
    exitlog_close(vm->log);
    goto out_uart;
err_print_uart:
    errmsg_print(NULL, "%s", err);
out_uart:
    /* The per-VF counters, once the guest ran. */
    ret = nic_destroy_all(nics, o.quiet || !vm->t0_ns ? NULL : stderr);
    if (ret && status == 0)
        status = errmsg_print(NULL, "--nic: a capture failed to write");
    benchdev_destroy(bench, o.quiet ? NULL : stderr);
    serial16550_destroy(&vm->uart);
    goto out_mem;
err_print_mem:
    errmsg_print(NULL, "%s", err);
out_mem:
    gmem_destroy(&vm->gm);
    goto out_irq;
err_print_irq:
    errmsg_print(NULL, "%s", err);
out_irq:
    irqchip_destroy(&vm->ic);
    goto out_kvm;
err_print_kvm:
    errmsg_print(NULL, "%s", err);
out_kvm:
    kvm_close(&vm->kvm);
    goto out_free;
err_print:
    errmsg_print(NULL, "%s", err);
out_free:
    free(vm);
    return status;
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
    {"run", cmd_run},      /* this file */
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
