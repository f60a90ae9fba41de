/*
 * apisock_vm.c: the control socket's commands acting on a running VM (apisock_vm_ops,
 * apisock.h): the NIC's VF functions and vm_pause/vm_resume/vm_stop, all thread-safe, called
 * from the server thread.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "apisock.h"
#include "minivmm/util.h"
#include "nic.h"
#include "run.h"
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

/* ---- the control socket as `minivmm run`'s service (run.h) ---- */

struct run_api {
    struct apisock_vm vm; /* the ops' opaque: must live as long as the server */
    struct apisock *sock;
};

static int svc_create(void **out, const char *path, struct vm *vm, struct nics *nics, char *err,
                      size_t errlen)
{
    struct run_api *a = calloc(1, sizeof(*a));
    *out = NULL;
    if (!a) {
        snprintf(err, errlen, "--api-sock: out of memory");
        return -ENOMEM;
    }
    a->vm = (struct apisock_vm){.vm = vm, .nics = nics};
    int ret = apisock_create(&a->sock, path, &apisock_vm_ops, &a->vm, err, errlen);
    if (ret) {
        free(a);
        return ret;
    }
    *out = a;
    return 0;
}

static int svc_start(void *svc)
{
    return apisock_start(((struct run_api *)svc)->sock);
}

static void svc_destroy(void *svc)
{
    struct run_api *a = svc;
    if (!a)
        return;
    apisock_destroy(a->sock);
    free(a);
}

const struct run_service_ops apisock_run_service = {
    .create = svc_create, .start = svc_start, .destroy = svc_destroy};
