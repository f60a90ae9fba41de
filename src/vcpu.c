/*
 * vcpu.c: vCPU creation, the per-vCPU thread, and the exit loop.
 *
 * Each exit is timed from KVM_RUN's return to the dispatch's end and counted in the vCPU's
 * own exitsum (no locks on the hot path); when an exit log is open, a record is written too.
 * Host facts: an AP's KVM_RUN returns EAGAIN when it leaves wait-for-SIPI, and EINTR when
 * kicked: both are retried. On hosts without batched string I/O each `rep outsb` element is
 * its own exit; on bare-metal KVM io.count > 1 and the elements sit back to back in the run
 * area: both are handled by walking io.count.
 */
#include <cpuid.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest_cpuid.h"
#include "exitlog.h"
#include "bzimage.h"
#include "pvh.h"
#include "vcpu.h"
#include "minivmm/hw/thread.h"
#include "minivmm/util.h"

#define KICK_SIGNAL VM_KICK_SIGNAL

static __thread struct kvm_run *this_run;

static void kick_handler(int sig)
{
    (void)sig;
    if (this_run)
        this_run->immediate_exit = 1;
}

int vcpu_signals_init(void)
{
    struct sigaction sa = {.sa_handler = kick_handler};
    sigemptyset(&sa.sa_mask);
    return sigaction(KICK_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

/* Whether this host intercepts its guests' XSETBV: read from its own CPUID hypervisor
 * signature (guest_cpuid_host_xsetbv_exits). */
static bool host_xsetbv_exits(void)
{
    unsigned a, b, c, d;
    char sig[12] = {0};
    if (__get_cpuid(1, &a, &b, &c, &d) && (c >> 31) & 1) {
        __cpuid(0x40000000, a, b, c, d);
        memcpy(sig, &b, 4);
        memcpy(sig + 4, &c, 4);
        memcpy(sig + 8, &d, 4);
    }
    return guest_cpuid_host_xsetbv_exits(sig);
}

struct kvm_cpuid2 *vcpu_supported_cpuid(int sys_fd, char *err, size_t errlen)
{
    for (unsigned n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
        if (!c)
            break;
        c->nent = n;
        if (ioctl(sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
            return c;
        int e = errno;
        free(c);
        if (e != E2BIG) {
            snprintf(err, errlen, "KVM: ioctl (GET_SUPPORTED_CPUID) failed: %s", strerror(e));
            return NULL;
        }
    }
    snprintf(err, errlen, "KVM: ioctl (GET_SUPPORTED_CPUID) failed: too many entries");
    return NULL;
}

static int set_cpuid(struct vcpu *v, const struct kvm_cpuid2 *sup, char *err, size_t errlen)
{
    size_t sz = sizeof(*sup) + (sup->nent + 1) * sizeof(sup->entries[0]);
    struct kvm_cpuid2 *c = malloc(sz);
    if (!c) {
        snprintf(err, errlen, "vcpu %u: out of memory", v->id);
        return -ENOMEM;
    }
    memcpy(c, sup, sz - sizeof(sup->entries[0]));
    int tsc_khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
    struct guest_cpuid_opts o = {
        .vcpu = v->id,
        .ncpus = v->vm->ncpus,
        .tsc_deadline = ioctl(v->vm->kvm.sys_fd, KVM_CHECK_EXTENSION,
                              KVM_CAP_TSC_DEADLINE_TIMER) > 0,
        .tsc_khz = tsc_khz > 0 ? (uint32_t)tsc_khz : 0,
        .xsetbv_exits = host_xsetbv_exits(),
    };
    guest_cpuid_fixup(c, &o);
    int ret = 0;
    if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0) {
        ret = -errno;
        snprintf(err, errlen, "KVM: ioctl (SET_CPUID2) failed for vcpu %u: %s", v->id,
                 strerror(-ret));
    }
    free(c);
    return ret;
}

int vcpu_create(struct vcpu *v, struct vm *vm, unsigned id, const struct kvm_cpuid2 *cpuid,
                char *err, size_t errlen)
{
    int ret;
    memset(v, 0, sizeof(*v));
    v->vm = vm;
    v->id = id;
    exitsum_init(&v->sum);
    v->fd = ioctl(vm->kvm.vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
    if (v->fd < 0) {
        ret = -errno;
        snprintf(err, errlen, "KVM: ioctl (CREATE_VCPU %u) failed: %s", id, strerror(-ret));
        return ret;
    }
    v->run = mmap(NULL, (size_t)vm->kvm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (v->run == MAP_FAILED) {
        ret = -errno;
        snprintf(err, errlen, "KVM: mmap of vcpu %u run area failed: %s", id, strerror(-ret));
        goto err_close;
    }
    ret = set_cpuid(v, cpuid, err, errlen);
    if (ret)
        goto err_unmap;
    return 0;

err_unmap:
    munmap(v->run, (size_t)vm->kvm.run_size);
err_close:
    close(v->fd);
    v->fd = -1;
    v->run = NULL;
    return ret;
}

/* Both entries: KVM's sregs first, so that the fields we do not set keep its values. */
static int set_entry(struct vcpu *v, bool linux64, uint64_t entry, char *err, size_t errlen)
{
    struct kvm_sregs sregs;
    struct kvm_regs regs;
    if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
        goto fail;
    if (!linux64)
        pvh_entry_state((uint32_t)entry, &regs, &sregs);
    else
        bzimage_entry_state(entry, &regs, &sregs);
    if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "KVM: setting vcpu %u registers failed: %s", v->id, strerror(errno));
    return -errno;
}

int vcpu_set_pvh_entry(struct vcpu *v, uint32_t entry, char *err, size_t errlen)
{
    return set_entry(v, false, entry, err, errlen);
}

int vcpu_set_linux64_entry(struct vcpu *v, uint64_t entry, char *err, size_t errlen)
{
    return set_entry(v, true, entry, err, errlen);
}

void vcpu_dump(struct vcpu *v, FILE *f)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
        fprintf(f, "vcpu %u: registers unavailable: %s\n", v->id, strerror(errno));
        return;
    }
    fprintf(f,
            "vcpu %u registers:\n"
            " rip=%016llx rflags=%016llx\n"
            " rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
            " rsi=%016llx rdi=%016llx rbp=%016llx rsp=%016llx\n"
            " r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n"
            " r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n"
            " cs=%04x (base %llx l=%u db=%u) ss=%04x ds=%04x es=%04x fs=%04x gs=%04x tr=%04x\n"
            " cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%016llx\n"
            " gdt=%016llx/%04x idt=%016llx/%04x apic_base=%016llx\n",
            v->id, r.rip, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8,
            r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, s.cs.selector, s.cs.base, s.cs.l,
            s.cs.db, s.ss.selector, s.ds.selector, s.es.selector, s.fs.selector, s.gs.selector,
            s.tr.selector, s.cr0, s.cr2, s.cr3, s.cr4, s.efer, s.gdt.base, s.gdt.limit,
            s.idt.base, s.idt.limit, s.apic_base);
}

/* Prints the instruction bytes at the guest's RIP (translated through its page tables). */
static void dump_insn(struct vcpu *v, FILE *f)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
        return;
    struct kvm_translation t = {.linear_address = s.cs.base + r.rip};
    if (ioctl(v->fd, KVM_TRANSLATE, &t) < 0 || !t.valid) {
        fprintf(f, " instruction bytes at rip: unmapped\n");
        return;
    }
    const uint8_t *p = gmem_ptr(&v->vm->gm, t.physical_address, 15);
    if (!p) {
        fprintf(f, " instruction bytes at rip (gpa %llx): outside RAM\n", t.physical_address);
        return;
    }
    fprintf(f, " instruction bytes at rip (gpa %llx):", t.physical_address);
    for (int i = 0; i < 15; i++)
        fprintf(f, " %02x", p[i]);
    fprintf(f, "\n");
}

static void report_internal_error(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    fprintf(stderr, "guest: emulation failure on vcpu %u (KVM_EXIT_INTERNAL_ERROR, suberror %u)\n",
            v->id, run->internal.suberror);
#ifdef KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES
    if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
        (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
        unsigned n = run->emulation_failure.insn_size;
        if (n > sizeof(run->emulation_failure.insn_bytes))
            n = sizeof(run->emulation_failure.insn_bytes);
        fprintf(stderr, " instruction bytes (from KVM):");
        for (unsigned i = 0; i < n; i++)
            fprintf(stderr, " %02x", run->emulation_failure.insn_bytes[i]);
        fprintf(stderr, "\n");
    }
#endif
    dump_insn(v, stderr);
    vcpu_dump(v, stderr);
}

static uint64_t load_le(const uint8_t *p, unsigned len)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < len && i < 8; i++)
        x |= (uint64_t)p[i] << (8 * i);
    return x;
}

static void record(struct vcpu *v, struct exitlog_exit *rec, uint64_t t_ret, uint64_t t_done)
{
    rec->t_ns = t_ret - v->vm->t0_ns;
    rec->vcpu = v->id;
    rec->handle_ns = t_done - t_ret;
    exitsum_add_exit(&v->sum, rec);
    unsigned r = rec->reason < EXITSUM_MAX_REASONS ? rec->reason : EXITSUM_MAX_REASONS;
    /* Single writer: a plain relaxed load and store, no locked instruction. */
    __atomic_store_n(&v->live[r], __atomic_load_n(&v->live[r], __ATOMIC_RELAXED) + 1,
                     __ATOMIC_RELAXED);
    if (v->vm->log)
        exitlog_exit(v->vm->log, rec);
}

static void handle_io(struct vcpu *v, struct exitlog_exit *rec)
{
    struct kvm_run *run = v->run;
    unsigned size = run->io.size;
    bool wr = run->io.direction == KVM_EXIT_IO_OUT;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    int dev = 0;

    rec->space = EXITLOG_SPACE_PIO;
    rec->addr = run->io.port;
    rec->size = (uint8_t)size;
    rec->dir = wr ? EXITLOG_DIR_WRITE : EXITLOG_DIR_READ;
    /* The data area lies inside the run mapping; refuse anything KVM should never produce. */
    if (size == 0 || size > 4 || run->io.count == 0 ||
        run->io.data_offset >= (uint64_t)v->vm->kvm.run_size ||
        (uint64_t)run->io.count * size > (uint64_t)v->vm->kvm.run_size - run->io.data_offset) {
        rec->flags |= EXITLOG_F_UNCLAIMED;
        return;
    }
    for (uint32_t i = 0; i < run->io.count; i++, data += size)
        dev = bus_access(&v->vm->bus, BUS_PIO, v->id, run->io.port, data, size, wr);
    if (dev < 0)
        rec->flags |= EXITLOG_F_UNCLAIMED;
    rec->value = load_le(data - size, size); /* the last element */
}

static void handle_mmio(struct vcpu *v, struct exitlog_exit *rec)
{
    struct kvm_run *run = v->run;
    unsigned len = run->mmio.len;
    bool wr = run->mmio.is_write;

    rec->space = EXITLOG_SPACE_MMIO;
    rec->addr = run->mmio.phys_addr;
    rec->size = (uint8_t)len;
    rec->dir = wr ? EXITLOG_DIR_WRITE : EXITLOG_DIR_READ;
    if (len == 0 || len > sizeof(run->mmio.data)) {
        rec->flags |= EXITLOG_F_UNCLAIMED;
        return;
    }
    if (bus_access(&v->vm->bus, BUS_MMIO, v->id, run->mmio.phys_addr, run->mmio.data, len, wr) <
        0)
        rec->flags |= EXITLOG_F_UNCLAIMED;
    rec->value = load_le(run->mmio.data, len);
}

/* Handles one exit; returns false when the vCPU must stop. */
static bool handle_exit(struct vcpu *v, struct exitlog_exit *rec)
{
    struct kvm_run *run = v->run;
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        handle_io(v, rec);
        return true;
    case KVM_EXIT_MMIO:
        handle_mmio(v, rec);
        return true;
    case KVM_EXIT_IOAPIC_EOI:
        rec->value = run->eoi.vector;
        irqchip_eoi(&v->vm->ic, run->eoi.vector);
        return true;
    case KVM_EXIT_INTR:
        return true;
    case KVM_EXIT_SHUTDOWN:
        fprintf(stderr, "guest: shutdown (triple fault) on vcpu %u\n", v->id);
        vcpu_dump(v, stderr);
        vm_stop(v->vm, VM_STATUS_GUEST_CRASH);
        return false;
    case KVM_EXIT_INTERNAL_ERROR:
        report_internal_error(v);
        vm_stop(v->vm, VM_STATUS_GUEST_CRASH);
        return false;
    case KVM_EXIT_FAIL_ENTRY:
        fprintf(stderr, "guest: vcpu %u failed to enter (hardware reason 0x%llx)\n", v->id,
                (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        vcpu_dump(v, stderr);
        vm_stop(v->vm, VM_STATUS_GUEST_CRASH);
        return false;
    case KVM_EXIT_SYSTEM_EVENT:
        fprintf(stderr, "guest: system event %u (%s) on vcpu %u\n", run->system_event.type,
                run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN ? "shutdown"
                : run->system_event.type == KVM_SYSTEM_EVENT_RESET  ? "reset"
                                                                    : "other",
                v->id);
        vm_stop(v->vm, VM_STATUS_GUEST_CRASH);
        return false;
    case KVM_EXIT_HLT:
        /* Only without an in-kernel LAPIC, which minivmm always has. */
        fprintf(stderr, "guest: vcpu %u halted\n", v->id);
        vm_stop(v->vm, VM_STATUS_GUEST_CRASH);
        return false;
    default:
        fprintf(stderr, "minivmm: vcpu %u: unhandled exit reason %u (%s)\n", v->id,
                run->exit_reason, exitlog_reason_name(run->exit_reason));
        vcpu_dump(v, stderr);
        vm_stop(v->vm, VM_STATUS_ERROR);
        return false;
    }
}

static void *vcpu_thread(void *arg)
{
    struct vcpu *v = arg;
    struct vm *vm = v->vm;
    sigset_t set;

    hw_thread_enter(HW_THREAD_VCPU); /* before the first KVM_RUN */
    this_run = v->run;
    sigemptyset(&set);
    sigaddset(&set, KICK_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);

    while (!__atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE)) {
        if (__atomic_load_n(&vm->paused, __ATOMIC_ACQUIRE)) {
            vm_park(vm); /* not an exit: nothing is recorded (vm.h) */
            continue;
        }
        int r = ioctl(v->fd, KVM_RUN, 0);
        uint64_t t_ret = now_ns();
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                v->run->immediate_exit = 0;
                continue;
            }
            fprintf(stderr, "KVM: ioctl (RUN) failed on vcpu %u: %s\n", v->id, strerror(errno));
            vm_stop(vm, VM_STATUS_ERROR);
            break;
        }
        struct exitlog_exit rec = {.reason = v->run->exit_reason, .space = EXITLOG_SPACE_NONE};
        bool go_on = handle_exit(v, &rec);
        record(v, &rec, t_ret, now_ns());
        if (!go_on)
            break;
    }
    this_run = NULL;
    return NULL;
}

int vcpu_start(struct vcpu *v)
{
    int ret = pthread_create(&v->thread, NULL, vcpu_thread, v);
    if (ret)
        return -ret;
    v->started = true;
    if (v->id < VM_MAX_CPUS) {
        v->vm->vcpu_thread[v->id] = v->thread;
        __atomic_store_n(&v->vm->vcpu_started[v->id], true, __ATOMIC_RELEASE);
    }
    return 0;
}

void vcpu_kick(struct vcpu *v)
{
    if (v->started)
        pthread_kill(v->thread, KICK_SIGNAL);
}

void vcpu_join(struct vcpu *v)
{
    if (v->id < VM_MAX_CPUS)
        __atomic_store_n(&v->vm->vcpu_started[v->id], false, __ATOMIC_RELEASE);
    if (v->started)
        pthread_join(v->thread, NULL);
    v->started = false;
}

void vcpu_destroy(struct vcpu *v)
{
    if (v->run)
        munmap(v->run, (size_t)v->vm->kvm.run_size);
    if (v->fd >= 0)
        close(v->fd);
    v->run = NULL;
    v->fd = -1;
}
