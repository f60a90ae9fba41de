/*
 * run.c: `minivmm run`, bring-up in order (run.h).
 *
 * run_vm() reads top to bottom as the machine comes up: open KVM, create the VM and its
 * interrupt controller, map memory, load the kernel, create the devices (each a row of the
 * machine description, machine.h), build the device tree, the ACPI tables and boot info from
 * it, create vCPUs, start them, wait, tear down in reverse. Every failure is one line on stderr.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <libfdt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "acpi.h"
#include "acpi_pm.h"
#include "benchdev.h"
#include "board.h"
#include "console.h"
#include "exitlog.h"
#include "exitport.h"
#include "exitsum.h"
#include "i8042.h"
#include "fdt_build.h"
#include "loader.h"
#include "machine.h"
#include "minivmm/abi.h"
#include "minivmm/errmsg.h"
#include "minivmm/memmap.h"
#include "minivmm/uart16550.h"
#include "minivmm/util.h"
#include "nic.h"
#include "phaseport.h"
#include "pvh.h"
#include "rtc_cmos.h"
#include "run.h"
#include "runreport.h"
#include "sandbox.h"
#include "serial16550.h"
#include "vcpu.h"
#include "vm.h"

/* ---- callbacks from devices ---- */

static void on_exit_port(void *opaque, unsigned vcpu, uint8_t status)
{
    (void)vcpu;
    vm_stop(opaque, status);
}

static void on_phase(void *opaque, unsigned vcpu, uint8_t code)
{
    struct vm *vm = opaque;
    struct exitlog_marker m = {.t_ns = now_ns() - vm->t0_ns, .vcpu = vcpu, .code = code};
    pthread_mutex_lock(&vm->marker_lock);
    exitsum_add_marker(&vm->markers, &m, runreport_exits(vm, NULL));
    if (code == MINIVMM_PHASE_XFER_START || code == MINIVMM_PHASE_XFER_DONE) {
        unsigned k = code == MINIVMM_PHASE_XFER_DONE;
        irqchip_delivered(&vm->ic, vm->xfer_irqs[k]);
        vm->xfer_kicks[k] = nic_kicks_total(vm->nics);
        vm->xfer_seen[k] = true;
    }
    pthread_mutex_unlock(&vm->marker_lock);
    if (vm->log)
        exitlog_marker(vm->log, &m);
}

/* The i8042's pulse-reset (Linux's reboot=k, and its fallback for every reboot method). */
static void on_i8042_reset(void *opaque)
{
    vm_power(opaque, VM_REBOOT);
}

/* The ACPI PM registers: S5 through the sleep control register, the reset register. */
static void on_power_off(void *opaque, unsigned vcpu)
{
    (void)vcpu;
    vm_power(opaque, VM_POWER_OFF);
}

static void on_reset(void *opaque, unsigned vcpu)
{
    (void)vcpu;
    vm_power(opaque, VM_REBOOT);
}

static void on_console_quit(void *opaque)
{
    struct vm *vm = opaque;
    if (!vm->quiet)
        fprintf(stderr, "\r\nminivmm: quit (Ctrl-A x)\n");
    vm_stop(vm, 0);
}

/* The devices every VM has, created and described in the machine table (board.c). */
static int create_board(struct vm *vm, char *err, size_t errlen)
{
    struct irq_line uart_irq;
    int ret;

    vm->uart = calloc(1, sizeof(*vm->uart));
    vm->exitp = calloc(1, sizeof(*vm->exitp));
    vm->phasep = calloc(1, sizeof(*vm->phasep));
    vm->pm = calloc(1, sizeof(*vm->pm));
    struct rtc_cmos *rtc = calloc(1, sizeof(*rtc));
    struct i8042 *kbc = calloc(1, sizeof(*kbc));
    if (!vm->uart || !vm->exitp || !vm->phasep || !vm->pm || !rtc || !kbc) {
        free(rtc);
        free(kbc);
        return errmsg_fail(err, errlen, -ENOMEM, "out of memory");
    }
    ret = rtc_cmos_init(rtc, NULL, NULL);
    if (ret) {
        free(rtc);
        free(kbc);
        return errmsg_fail(err, errlen, ret, "rtc: init failed: %s", strerror(-ret));
    }
    vm->rtc = rtc;
    ret = i8042_init(kbc, on_i8042_reset, vm);
    if (ret) {
        free(kbc);
        return errmsg_fail(err, errlen, ret, "i8042: init failed: %s", strerror(-ret));
    }
    vm->i8042 = kbc;
    irqchip_line(&vm->ic, UART_COM1_IRQ, &uart_irq);
    console_init(&vm->console, STDIN_FILENO, STDOUT_FILENO);
    ret = serial16550_init(vm->uart, &uart_irq, console_tx, &vm->console);
    if (ret) {
        free(vm->uart); /* not initialised: destroy_board must not destroy it */
        vm->uart = NULL;
        return errmsg_fail(err, errlen, ret, "serial: init failed: %s", strerror(-ret));
    }
    *vm->exitp = (struct exitport){.on_exit = on_exit_port, .opaque = vm};
    *vm->phasep = (struct phaseport){.on_phase = on_phase, .opaque = vm};
    *vm->pm = (struct acpi_pm){.on_power_off = on_power_off, .on_reset = on_reset, .opaque = vm};
    struct board_devs b = {vm->uart, vm->exitp, vm->phasep, vm->ic.ioapic,
                           vm->rtc,  vm->i8042, vm->pm};
    return board_add(&vm->mach, &b, err, errlen);
}

static void destroy_board(struct vm *vm)
{
    if (vm->uart)
        serial16550_destroy(vm->uart);
    free(vm->uart);
    free(vm->exitp);
    free(vm->phasep);
    if (vm->rtc)
        rtc_cmos_destroy(vm->rtc);
    free(vm->rtc);
    if (vm->i8042)
        i8042_destroy(vm->i8042);
    free(vm->i8042);
    free(vm->pm);
    vm->rtc = NULL;
    vm->i8042 = NULL;
    vm->pm = NULL;
    vm->uart = NULL;
    vm->exitp = NULL;
    vm->phasep = NULL;
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

/* --dump-acpi: DIR/<signature>.dat per table, the names acpidump -b gives (iasl -d reads
 * them). */
static int dump_acpi(const char *dir, const struct acpi_tables *t, char *err, size_t errlen)
{
    for (unsigned i = 0; i < t->n; i++) {
        char path[4096], name[5];
        for (int k = 0; k < 5; k++)
            name[k] = (char)tolower((unsigned char)t->t[i].sig[k]);
        if ((size_t)snprintf(path, sizeof(path), "%s/%s.dat", dir, name) >= sizeof(path))
            return errmsg_fail(err, errlen, -ENAMETOOLONG, "--dump-acpi: %s: path too long", dir);
        int ret = write_file(path, t->buf + t->t[i].off, t->t[i].len);
        if (ret)
            return errmsg_fail(err, errlen, ret, "--dump-acpi: %s: %s", path, strerror(-ret));
    }
    return 0;
}

int run_vm(const struct run_config *cfg)
{
    struct run_config o = *cfg; /* o.bootargs grows by the --nic words */
    char err[512];
    int ret, status = VM_STATUS_ERROR;
    struct kvm_cpuid2 *cpuid = NULL;
    static char fdt[MEMMAP_FDT_MAX];
    static struct acpi_tables acpi;
    struct kernel_image img;
    gpa_t initrd = 0;
    uint64_t initrd_size = 0;
    struct nics *nics = NULL;
    void *api = NULL;
    sigset_t sigs;
    int sig_fd = -1;

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

    /* 0. The sandbox's set-up (no core files; the hook every thread calls at its start). */
    if (sandbox_init(!o.no_sandbox, err, sizeof(err)))
        goto err_print;

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
    /* 4. Load the kernel (a PVH ELF or a bzImage, by content) and the initrd above it. */
    ret = loader_load_kernel(o.kernel, &vm->gm, &img, err, sizeof(err));
    if (ret)
        goto err_print_mem;
    if (o.initrd) {
        gpa_t limit = img.format == KERNEL_BZIMAGE ? (gpa_t)img.bz.initrd_addr_max + 1
                                                   : MEMMAP_HOLE_START;
        ret = loader_load_initrd(o.initrd, &vm->gm, img.end, limit, &initrd, &initrd_size, err,
                                 sizeof(err));
        if (ret)
            goto err_print_mem;
    }
    /* 5. Devices: each one a row of the machine description, registered on the buses. */
    machine_init(&vm->mach, o.cpus, &vm->gm, &vm->bus);
    ret = create_board(vm, err, sizeof(err));
    if (ret)
        goto err_print_uart;
    if (o.bench_device != BENCHDEV_OFF) { /* only for `minivmm bench exits` */
        ret = benchdev_create(&vm->bench, vm->kvm.vm_fd, o.bench_device, err, sizeof(err));
        if (!ret)
            ret = board_add_bench(&vm->mach, vm->bench, err, sizeof(err));
        if (ret)
            goto err_print_uart;
    }
    /* 5b. NICs (--nic): switch, uplink, one virtio-net VF per virtio-mmio window. */
    if (o.nnics) {
        ret = nic_create_all(&nics, o.nics, o.nnics, &vm->mach, &vm->ic, &vm->gm, vm->kvm.vm_fd,
                             err, sizeof(err));
        if (!ret && !o.no_virtio_cmdline &&
            machine_cmdline(&vm->mach, o.bootargs, sizeof(o.bootargs))) {
            snprintf(err, sizeof(err),
                     "guest command line longer than %d bytes with the "
                     "virtio_mmio.device= words of --nic",
                     MEMMAP_CMDLINE_MAX - 1);
            ret = -E2BIG;
        }
        if (ret)
            goto err_print_uart;
        vm->nics = nics;
    }
    /* 6. Device tree (from the machine description) and the boot information: PVH's start
     * info with the FDT as a module, or a bzImage's zero page. */
    ret = fdt_build(fdt, sizeof(fdt), &vm->mach, o.bootargs);
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
    /* 6b. ACPI tables (from the same description) at MEMMAP_ACPI, the RSDP first. */
    ret = acpi_build(&acpi, &vm->mach, MEMMAP_ACPI);
    if (ret) {
        snprintf(err, sizeof(err), "acpi: cannot build the tables: %s", strerror(-ret));
        goto err_print_uart;
    }
    if (o.dump_acpi) {
        if (dump_acpi(o.dump_acpi, &acpi, err, sizeof(err)))
            goto err_print_uart;
        status = 0;
        goto out_uart;
    }
    if (gmem_write(&vm->gm, MEMMAP_ACPI, acpi.buf, acpi.len) ||
        loader_write_reset_vector(&vm->gm)) {
        snprintf(err, sizeof(err), "firmware: cannot write the ACPI tables or the reset vector: %s", strerror(EFAULT));
        goto err_print_uart;
    }
    if (img.format == KERNEL_PVH_ELF) {
        ret = pvh_write_boot_info(&vm->gm, o.bootargs, fdt, fdt_totalsize(fdt), initrd,
                                  initrd_size);
        if (!ret)
            ret = pvh_set_rsdp(&vm->gm, MEMMAP_ACPI);
        if (ret) {
            snprintf(err, sizeof(err), "pvh: cannot write boot information: %s", strerror(-ret));
            goto err_print_uart;
        }
    } else {
        ret = bzimage_write_boot_params(&vm->gm, &img.bz, o.bootargs, initrd, initrd_size,
                                        MEMMAP_ACPI);
        if (ret == -E2BIG) {
            snprintf(err, sizeof(err),
                     "kernel: %s: the command line (%zu bytes) is longer than the kernel "
                     "accepts (cmdline_size %u)",
                     o.kernel, strlen(o.bootargs), img.bz.cmdline_size);
            goto err_print_uart;
        }
        if (ret) {
            snprintf(err, sizeof(err), "bzimage: cannot write the zero page: %s", strerror(-ret));
            goto err_print_uart;
        }
    }
    /* 7. The exit log, with the bus map in its header. */
    exitlog_busmap_from_bus(&vm->map, &vm->bus);
    if (o.exit_log) {
        ret = exitlog_open(&vm->log, o.exit_log, &vm->map, o.cpus);
        if (ret) {
            snprintf(err, sizeof(err), "--exit-log: %s: %s", o.exit_log,
                     ret == -ELOOP ? "it is a symbolic link (refused)" : strerror(-ret));
            goto err_print_uart;
        }
        sandbox_set_exitlog(vm->log); /* flushed if a thread breaks the sandbox */
    }
    /* 8. vCPUs: per-vCPU CPUID; the BSP starts at the kernel's entry, APs wait for SIPI. */
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
    if (img.format == KERNEL_PVH_ELF)
        ret = vcpu_set_pvh_entry(&vm->vcpus[0], img.elf.pvh_entry, err, sizeof(err));
    else
        ret = vcpu_set_linux64_entry(&vm->vcpus[0], img.bz.entry64, err, sizeof(err));
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
        char kdesc[96], idesc[64] = "";
        if (img.format == KERNEL_PVH_ELF)
            snprintf(kdesc, sizeof(kdesc), "ELF%d, PVH entry 0x%x", img.elf.elfclass,
                     img.elf.pvh_entry);
        else
            snprintf(kdesc, sizeof(kdesc),
                     "bzImage, boot protocol %u.%02u, 64-bit entry 0x%" PRIx64,
                     img.bz.version >> 8, img.bz.version & 0xff, img.bz.entry64);
        if (initrd_size)
            snprintf(idesc, sizeof(idesc), ", initrd %" PRIu64 " KiB at 0x%" PRIx64,
                     (initrd_size + 1023) >> 10, initrd);
        fprintf(stderr, "minivmm %s: %u vCPU%s, %" PRIu64 " MiB, %s irqchip, kernel %s (%s)%s\n",
                MINIVMM_VERSION, o.cpus, o.cpus > 1 ? "s" : "", o.mem >> 20,
                o.irqchip == KVM_IRQCHIP_SPLIT ? "split" : "kernel", o.kernel, kdesc, idesc);
        fprintf(stderr, "minivmm: MMU: %s\n", mmu ? mmu : "unknown (cannot tell on this host)");
    }

    /* 9. The control socket (served once the vCPUs run), the console, then the vCPUs. */
    if (o.api_sock) {
        ret = o.api_ops->create(&api, o.api_sock, vm, nics, err, sizeof(err));
        if (ret)
            goto err_print_vcpus;
    }
    ret = console_start(&vm->console, vm->uart, on_console_quit, vm);
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
    if (api && (ret = o.api_ops->start(api))) {
        fprintf(stderr, "minivmm: --api-sock: cannot start its thread: %s\n", strerror(-ret));
        vm_stop(vm, VM_STATUS_ERROR);
    }
    /* 9b. Every thread runs under its own filter; now the main thread (sandbox.h). */
    if (sandbox_seal(err, sizeof(err))) {
        errmsg_print(NULL, "%s", err);
        vm_stop(vm, VM_STATUS_ERROR);
    }

    /* 10. Run until the guest exits, crashes, or we are told to stop. */
    runreport_wait(vm, sig_fd, o.stats_interval);
    uint64_t wall = now_ns() - vm->t0_ns;

    /* 11. Tear down in reverse; the control socket first, as its commands kick the vCPUs. */
    if (api)
        o.api_ops->destroy(api);
    api = NULL;
    vm_kick_vcpus(vm);
    for (unsigned i = 0; i < vm->ncpus; i++)
        vcpu_join(&vm->vcpus[i]);
    console_stop(&vm->console);
    status = vm->status;
    struct kvm_stat_ctx kst = {0};
    if (vm->log || !o.quiet) /* only someone who will see them pays for reading them */
        runreport_collect_kvm_stats(vm, &kst);
    if (!o.quiet)
        runreport_summary(vm, wall, &kst);
    sandbox_set_exitlog(NULL);
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
    if (api)
        o.api_ops->destroy(api);
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
    sandbox_set_exitlog(NULL);
    exitlog_close(vm->log);
    goto out_uart;
err_print_uart:
    errmsg_print(NULL, "%s", err);
out_uart:
    /* The per-VF counters, once the guest ran. */
    ret = nic_destroy_all(nics, o.quiet || !vm->t0_ns ? NULL : stderr);
    if (ret && status == 0)
        status = errmsg_print(NULL, "--nic: a capture failed to write");
    benchdev_destroy(vm->bench, o.quiet ? NULL : stderr);
    destroy_board(vm);
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
