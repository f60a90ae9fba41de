/*
 * barekvm.c: the bare-KVM reference for `minivmm bench exits`: runs our guest kernel's
 * `bench.exits` loops with nothing between KVM_RUN and the next KVM_RUN but a switch.
 *
 *   usage: barekvm [--irqchip none|split] [--ioeventfd] KERNEL [GUEST-WORDS...]
 *
 * One vCPU on the main thread, 128 MiB (minivmm's default), PVH boot by minipvh.c, CPUID as
 * KVM offers it plus the TSC-rate leaf 0x40000010 the guest reads (as minivmm gives it).
 * No bus, no devices, no exit log, no timing of exits. Exits are answered inline:
 *   - bench device (abi.h MINIVMM_BENCH_*): EXIT/KICK writes do nothing, ID and FLAGS read;
 *   - COM1: THR writes to stdout, LSR reads "transmitter empty", other registers read 0;
 *   - exit port: its byte is the exit status;
 *   - anything else: reads give all-ones (0 in the LAPIC page without an in-kernel LAPIC,
 *     so the guest sees APIC ID 0), writes are ignored.
 * --irqchip split (KVM_CAP_SPLIT_IRQCHIP: LAPIC in KVM, nothing in userspace) is only for
 * the timer loop, which needs a LAPIC; without an irqchip a guest `hlt` ends the run.
 * --ioeventfd registers one eventfd on the PIO and MMIO KICK registers (4 bytes, no
 * datamatch) and drains it from a second thread, as minivmm --bench-device=ioeventfd does.
 * Exit status: the guest's status byte; 1 on errors, 2 when the guest halts or crashes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "minipvh.h"
#include "minivmm/abi.h"
#include "minivmm/memmap.h"
#include "minivmm/uart16550.h"

#define RAM_SIZE (128u << 20)
#define CPUID_TIMING_LEAF 0x40000010
#define APIC_BUS_KHZ 1000000

static uint32_t bench_flags;

static void *drain(void *arg)
{
    int fd = *(int *)arg;
    uint64_t n;

    while (read(fd, &n, sizeof(n)) == (ssize_t)sizeof(n) || errno == EINTR)
        ;
    return NULL;
}

static void add_ioeventfds(const struct minipvh *p)
{
    static int fd;
    pthread_t t;

    fd = eventfd(0, EFD_CLOEXEC);
    struct kvm_ioeventfd pio = {.addr = MINIVMM_BENCH_PORT + MINIVMM_BENCH_KICK,
                                .len = 4,
                                .fd = fd,
                                .flags = KVM_IOEVENTFD_FLAG_PIO};
    struct kvm_ioeventfd mmio = {
        .addr = MEMMAP_BENCH_BASE + MINIVMM_BENCH_KICK, .len = 4, .fd = fd};
    if (fd < 0 || ioctl(p->vm_fd, KVM_IOEVENTFD, &pio) < 0 ||
        ioctl(p->vm_fd, KVM_IOEVENTFD, &mmio) < 0)
        minipvh_die("KVM: ioeventfd set-up failed: %s", strerror(errno));
    if (pthread_create(&t, NULL, drain, &fd) != 0)
        minipvh_die("cannot start the ioeventfd thread");
    pthread_setname_np(t, "bench-drain"); /* as minivmm's: `minivmm bench` places it by name */
    bench_flags |= MINIVMM_BENCH_F_IOEVENTFD;
}

/* KVM's supported CPUID plus the timing leaf (EAX = TSC kHz, EBX = LAPIC timer kHz). */
static void set_cpuid(const struct minipvh *p)
{
    struct kvm_cpuid2 *c = NULL;
    for (unsigned n = 64; n <= 4096; n *= 2) {
        free(c);
        c = calloc(1, sizeof(*c) + (n + 1) * sizeof(c->entries[0]));
        if (!c)
            minipvh_die("out of memory");
        c->nent = n;
        if (ioctl(p->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
            break;
        if (errno != E2BIG)
            minipvh_die("KVM: ioctl (GET_SUPPORTED_CPUID) failed: %s", strerror(errno));
    }
    /* TSC-deadline is not in KVM's supported list; set it from the capability, as minivmm
     * and QEMU do (see vcpu.c). */
    if (ioctl(p->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
        for (unsigned i = 0; i < c->nent; i++)
            if (c->entries[i].function == 1)
                c->entries[i].ecx |= 1u << 24;
    int khz = ioctl(p->vcpu_fd, KVM_GET_TSC_KHZ, 0);
    if (khz > 0) {
        for (unsigned i = 0; i < c->nent; i++)
            if (c->entries[i].function == 0x40000000 && c->entries[i].eax < CPUID_TIMING_LEAF)
                c->entries[i].eax = CPUID_TIMING_LEAF;
        c->entries[c->nent++] = (struct kvm_cpuid_entry2){
            .function = CPUID_TIMING_LEAF, .eax = (uint32_t)khz, .ebx = APIC_BUS_KHZ};
    }
    if (ioctl(p->vcpu_fd, KVM_SET_CPUID2, c) < 0)
        minipvh_die("KVM: ioctl (SET_CPUID2) failed: %s", strerror(errno));
    free(c);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: barekvm [--irqchip none|split] [--ioeventfd] KERNEL [GUEST-WORDS...]\n");
    exit(1);
}

/* The bench device's registers as minivmm's answer them (benchdev.c). */
static uint32_t bench_read(uint64_t off)
{
    return off == MINIVMM_BENCH_EXIT   ? MINIVMM_BENCH_ID
           : off == MINIVMM_BENCH_KICK ? bench_flags
                                       : 0xffffffffu;
}

static void put(uint8_t *data, unsigned len, uint32_t v)
{
    for (unsigned i = 0; i < len; i++)
        data[i] = i < 4 ? (uint8_t)(v >> (8 * i)) : 0xff;
}

int main(int argc, char **argv)
{
    bool split = false, ioeventfd = false;
    char cmdline[MEMMAP_CMDLINE_MAX] = "";
    struct minipvh p;
    int i;

    minipvh_prog = "barekvm";
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--ioeventfd") == 0)
            ioeventfd = true;
        else if (strcmp(argv[i], "--irqchip") == 0 && i + 1 < argc &&
                 (strcmp(argv[i + 1], "split") == 0 || strcmp(argv[i + 1], "none") == 0))
            split = strcmp(argv[++i], "split") == 0;
        else
            usage();
    }
    if (i >= argc)
        usage();
    const char *kernel = argv[i++];
    for (size_t len = 0; i < argc; i++) {
        int n = snprintf(cmdline + len, sizeof(cmdline) - len, "%s%s", len ? " " : "", argv[i]);
        if (n < 0 || (size_t)n >= sizeof(cmdline) - len)
            minipvh_die("guest command line too long");
        len += (size_t)n;
    }

    minipvh_create_vm(&p, RAM_SIZE);
    if (split) {
        struct kvm_enable_cap cap = {.cap = KVM_CAP_SPLIT_IRQCHIP, .args = {24}};
        if (ioctl(p.vm_fd, KVM_ENABLE_CAP, &cap) < 0)
            minipvh_die("KVM: split irqchip failed: %s", strerror(errno));
    }
    if (ioeventfd)
        add_ioeventfds(&p);
    minipvh_create_vcpu(&p, minipvh_load(&p, kernel, cmdline));
    set_cpuid(&p);

    struct kvm_run *run = p.run;
    for (;;) {
        if (ioctl(p.vcpu_fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            minipvh_die("KVM: ioctl (RUN) failed: %s", strerror(errno));
        }
        switch (run->exit_reason) {
        case KVM_EXIT_IO: {
            uint8_t *data = (uint8_t *)run + run->io.data_offset;
            unsigned port = run->io.port; /* unsigned: port - base wraps below base */
            if (run->io.direction == KVM_EXIT_IO_OUT) {
                if (port - MINIVMM_BENCH_PORT < MINIVMM_BENCH_PORT_SIZE)
                    break; /* the loop under test: nothing to do */
                if (port == UART_COM1_BASE + UART_THR &&
                    write(STDOUT_FILENO, data, (size_t)run->io.size * run->io.count) < 0)
                    minipvh_die("stdout: %s", strerror(errno));
                if (port == MINIVMM_EXIT_PORT)
                    return data[0];
                break;
            }
            for (uint32_t k = 0; k < run->io.count; k++, data += run->io.size) {
                if (port - MINIVMM_BENCH_PORT < MINIVMM_BENCH_PORT_SIZE)
                    put(data, run->io.size, bench_read(port - MINIVMM_BENCH_PORT));
                else if (port == UART_COM1_BASE + UART_LSR)
                    put(data, run->io.size, UART_LSR_THRE | UART_LSR_TEMT);
                else if (port - UART_COM1_BASE < 8)
                    put(data, run->io.size, 0);
                else
                    put(data, run->io.size, 0xffffffffu);
            }
            break;
        }
        case KVM_EXIT_MMIO: {
            uint64_t a = run->mmio.phys_addr;
            unsigned len = run->mmio.len <= 8 ? run->mmio.len : 8;
            if (run->mmio.is_write)
                break;
            if (a - MEMMAP_BENCH_BASE < MEMMAP_BENCH_SIZE)
                put(run->mmio.data, len, bench_read(a - MEMMAP_BENCH_BASE));
            else if (a - MEMMAP_LAPIC_BASE < MEMMAP_LAPIC_SIZE)
                put(run->mmio.data, len, 0);
            else
                put(run->mmio.data, len, 0xffffffffu);
            break;
        }
        case KVM_EXIT_IOAPIC_EOI:
        case KVM_EXIT_INTR:
            break;
        case KVM_EXIT_HLT:
            fprintf(stderr, "barekvm: guest halted%s\n",
                    split ? "" : " (a timer loop needs --irqchip split)");
            return 2;
        default:
            fprintf(stderr, "barekvm: guest stopped with exit reason %u\n", run->exit_reason);
            return 2;
        }
    }
}
