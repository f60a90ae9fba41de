/*
 * apisock_vm.c: the control socket's commands acting on a running VM (apisock_vm_ops,
 * apisock.h): the NIC's VF functions and vm_pause/vm_resume/vm_stop, all thread-safe, called
 * from the server thread.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "apisock.h"
#include "minivmm/util.h"
#include "nic.h"
#include "vm.h"

static int vm_vf_count(void *opaque)
{
    struct apisock_vm *a = opaque;
    return nic_vf_count(a->nics);
}

static int vm_vf_info(void *opaque, unsigned vf, struct nic_vf_info *out)
{
    struct apisock_vm *a = opaque;
    return nic_vf_info(a->nics, vf, out);
}

static int vm_vf_set(void *opaque, unsigned vf, const char *key, const char *value, char *err,
                     size_t errlen)
{
    struct apisock_vm *a = opaque;
    return nic_vf_set(a->nics, vf, key, value, err, errlen);
}

static int vm_op_pause(void *opaque)
{
    struct apisock_vm *a = opaque;
    return vm_pause(a->vm);
}

static int vm_op_resume(void *opaque)
{
    struct apisock_vm *a = opaque;
    return vm_resume(a->vm);
}

static void vm_op_stop(void *opaque)
{
    struct apisock_vm *a = opaque;
    if (!a->vm->quiet)
        fprintf(stderr, "minivmm: stop requested on the control socket\n");
    vm_stop(a->vm, 0);
}

static void vm_op_status(void *opaque, struct apisock_status *st)
{
    struct apisock_vm *a = opaque;
    bool paused;
    uint64_t paused_ns = vm_paused_ns(a->vm, &paused);
    st->state = __atomic_load_n(&a->vm->stopping, __ATOMIC_ACQUIRE) ? "stopping"
                : paused                                            ? "paused"
                                                                    : "running";
    st->vcpus = a->vm->ncpus;
    st->uptime_ms = (now_ns() - a->vm->t0_ns) / 1000000;
    st->paused_ms = paused_ns / 1000000;
}

const struct apisock_ops apisock_vm_ops = {
    .vf_count = vm_vf_count,
    .vf_info = vm_vf_info,
    .vf_set = vm_vf_set,
    .pause = vm_op_pause,
    .resume = vm_op_resume,
    .stop = vm_op_stop,
    .status = vm_op_status,
};
