/*
 * vm.h: one virtual machine: everything `minivmm run` brings up, and how it stops.
 *
 * Stopping: the first vm_stop() wins and fixes the exit status and reason; it sets `stopping`,
 * kicks every vCPU out of KVM_RUN (SIGUSR1 + immediate_exit) and wakes the main thread through
 * `stop_fd` (an eventfd), which then tears down in reverse bring-up order.
 */
#ifndef MINIVMM_VM_H
#define MINIVMM_VM_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "console.h"
#include "exitlog.h"
#include "exitsum.h"
#include "irqchip.h"
#include "kvm.h"
#include "machine.h"
#include "minivmm/hw/bus.h"
#include "minivmm/hw/gmem.h"

/* Exit statuses of `minivmm run` other than the guest's own status byte. */
#define VM_STATUS_ERROR 1        /* bad input, VMM failure */
#define VM_STATUS_GUEST_CRASH 2  /* triple fault, emulation failure, failed entry */

#define VM_MAX_CPUS 64

/* Kicks a vCPU thread out of KVM_RUN (its handler sets immediate_exit: vcpu.c). */
#define VM_KICK_SIGNAL SIGUSR1

struct vcpu;
struct serial16550;
struct exitport;
struct phaseport;
struct benchdev;
struct rtc_cmos;
struct i8042;
struct acpi_pm;

/* The machine-wide state holds devices by pointer: no device struct is embedded here. */
struct vm {
    struct kvm kvm;
    struct gmem gm;
    struct bus bus;
    struct machine mach; /* the device table: bus map, device tree, command-line words */
    struct irqchip ic;
    struct serial16550 *uart;
    struct console console;
    struct exitport *exitp;
    struct phaseport *phasep;
    struct rtc_cmos *rtc;
    struct i8042 *i8042; /* its pulse-reset command ends the VM: vm_power(VM_REBOOT) */
    struct acpi_pm *pm;     /* the ACPI sleep and reset registers */
    struct benchdev *bench; /* NULL without --bench-device */
    struct exitlog *log;            /* NULL without --exit-log */
    struct exitlog_busmap map;
    bool quiet;
    unsigned ncpus;
    struct vcpu *vcpus;
    /* The vCPU threads, for kicks (vm_stop, vm_pause); set by vcpu_start() before it returns. */
    pthread_t vcpu_thread[VM_MAX_CPUS];
    bool vcpu_started[VM_MAX_CPUS];

    /* Monotonic clock at VM start; exit records are relative to it. */
    uint64_t t0_ns;
    /* Boot-phase markers, under marker_lock. */
    pthread_mutex_t marker_lock;
    struct exitsum markers;
    /* The IOAPIC's per-pin delivered counts at the xfer-start [0] and xfer-done [1] markers
     * (split irqchip), under marker_lock: `minivmm bench io`'s interrupts per KiB. */
    uint64_t xfer_irqs[2][IOAPIC_NUM_PINS];
    bool xfer_seen[2];
    uint64_t xfer_kicks[2]; /* nic_kicks_total() at the same markers */
    struct nics *nics;      /* NULL without --nic */

    /* Stop state. */
    pthread_mutex_t stop_lock;
    bool stopping;
    int status;
    int stop_fd;

    /* Pause state (vm_pause), under pause_lock; vCPU threads read `paused` without it before
     * each KVM_RUN. pause_cond: parked vCPUs wait on it for resume or stop, vm_pause() for
     * every vCPU to park. */
    pthread_mutex_t pause_lock;
    pthread_cond_t pause_cond;
    bool paused;
    unsigned parked;
    uint64_t pause_t0_ns, paused_ns; /* start of this pause; total of the finished ones */
};

/* What the guest asked for when it ends the VM itself (ACPI S5 and reset register, the i8042's
 * reset command). */
enum vm_power_event { VM_POWER_OFF, VM_REBOOT };
/* Ends the VM at the guest's request: "minivmm: guest: power off" (or "reboot") on stderr
 * unless quiet, and vm_stop(vm, 0). Safe from any thread. */
void vm_power(struct vm *vm, enum vm_power_event ev);
/* Forces every started vCPU out of KVM_RUN. */
void vm_kick_vcpus(struct vm *vm);
/* Requests the VM to stop with `status`; the first request wins. Safe from any thread. */
void vm_stop(struct vm *vm, int status);

/* Pausing (the control socket's pause/resume). vm_pause() kicks every vCPU out of KVM_RUN and
 * returns once all of them are parked in vm_park(), so no guest code runs; vm_resume() lets
 * them go. Both return 0, or -ESHUTDOWN once the VM is stopping (vm_stop() also releases
 * parked vCPUs). A kick that interrupts KVM_RUN is not an exit (KVM_RUN fails with EINTR):
 * pauses add nothing to the exit counts or the exit log; KVM's own `signal_exits` statistic
 * does count them. Guest time (TSC, LAPIC timer) runs on while paused. Safe from any thread
 * but a vCPU's. */
int vm_pause(struct vm *vm);
/* vm_pause() waits this long for the vCPUs to park, then returns -ETIMEDOUT (the pause stays
 * requested: the late vCPUs park when they get back to their loop). */
#define VM_PAUSE_TIMEOUT_S 5
int vm_resume(struct vm *vm);
/* Called by a vCPU thread that saw `paused`: waits until resumed or stopping. */
void vm_park(struct vm *vm);
/* Total time paused so far (the current pause included); *paused: paused now. */
uint64_t vm_paused_ns(struct vm *vm, bool *paused);

#endif
