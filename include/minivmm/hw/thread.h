/*
 * thread.h: what a thread of the VMM is, as the sandbox sees it (lib/hw_thread.c).
 *
 * Every thread minivmm starts calls hw_thread_enter() with its kind first thing, before it
 * does any work for the guest: `minivmm run` installs a hook (src/sandbox.c) that confines the
 * calling thread to its kind's system calls (a seccomp filter per thread, docs/security.md).
 * Without a hook (unit tests, --no-sandbox) the call does nothing. Devices see this header
 * only: they cannot include the VMM's.
 */
#ifndef MINIVMM_HW_THREAD_H
#define MINIVMM_HW_THREAD_H

enum hw_thread_kind {
    HW_THREAD_MAIN,        /* src/run.c: waits, live view, summary, teardown */
    HW_THREAD_VCPU,        /* src/vcpu.c: KVM_RUN and the exit handlers */
    HW_THREAD_IO,          /* devices/virtio_worker.c: ioeventfd queue work */
    HW_THREAD_UPLINK,      /* devices/uplink.c: frames in from a socket or tap */
    HW_THREAD_CONSOLE_IN,  /* src/console.c: stdin to the UART */
    HW_THREAD_CONSOLE_OUT, /* src/console.c: the UART's output buffer to stdout */
    HW_THREAD_API,         /* cmd/ctl/apisock.c: the control socket's server */
    HW_THREAD_BENCH,       /* devices/benchdev.c: drains the bench device's ioeventfd */
    HW_THREAD_NKINDS
};

typedef void (*hw_thread_hook)(enum hw_thread_kind kind);

/* Called by the thread itself, once, before it does anything else. */
void hw_thread_enter(enum hw_thread_kind kind);
/* The VMM's hook (NULL: none). Set before any thread starts. */
void hw_thread_set_hook(hw_thread_hook hook);

#endif
