/*
 * run.h: `minivmm run`: one VM from a run configuration, brought up, run and torn down
 * (run.c). main.c turns the command line into a struct run_config.
 */
#ifndef MINIVMM_RUN_H
#define MINIVMM_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "benchdev.h"
#include "kvm.h"
#include "minivmm/memmap.h"

struct vm;
struct nics;

/* The control socket of --api-sock, as `minivmm run` sees it: created before the vCPUs start,
 * started once they run, destroyed first at teardown (its commands kick the vCPUs). It lives
 * with `minivmm ctl` (cmd/ctl/apisock_vm.c); main.c passes it in, so the VMM does not depend
 * on the subcommands. */
struct run_service_ops {
    int (*create)(void **out, const char *path, struct vm *vm, struct nics *nics, char *err,
                  size_t errlen);
    int (*start)(void *svc);
    void (*destroy)(void *svc); /* NULL svc is ignored */
};

struct run_config {
    const char *kernel; /* -k: a PVH ELF or a bzImage */
    const char *initrd; /* -i/--initrd, or NULL */
    uint64_t mem;
    unsigned cpus;
    const char *cmdline; /* --cmdline as given (bootargs holds the whole command line) */
    enum kvm_irqchip_mode irqchip;
    const char *exit_log;
    const char *dump_dtb;
    const char *dump_acpi; /* --dump-acpi DIR */
    double stats_interval; /* --exit-stats-interval, seconds; 0 = off */
    bool quiet;
    bool no_sandbox; /* --no-sandbox: no seccomp filters, capabilities and rlimits kept */
    enum benchdev_mode bench_device;     /* --bench-device[=ioeventfd], for `minivmm bench` */
    const char *nics[MEMMAP_VIRTIO_MAX]; /* --nic SPEC, in order */
    unsigned nnics;
    bool no_virtio_cmdline; /* --no-virtio-cmdline: the VFs only in the DTB and the DSDT */
    const char *api_sock;                  /* --api-sock PATH: the control socket */
    const struct run_service_ops *api_ops; /* required with api_sock */
    char bootargs[MEMMAP_CMDLINE_MAX];     /* --cmdline and the words after `--` */
};

/* Runs the VM: the exit status of `minivmm run` (the guest's status byte, VM_STATUS_* on
 * errors and crashes, 128+N on signal N). Errors are printed as one line on stderr. */
int run_vm(const struct run_config *cfg);

#endif
