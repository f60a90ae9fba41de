/*
 * pvhboot.c: the bare-KVM reference for `minivmm bench boot`: boots a PVH ELF and does
 * nothing else.
 *
 *   usage: pvhboot KERNEL [COMMAND-LINE]
 *
 * One vCPU run from the main thread, 128 MiB of RAM (minivmm's default), no irqchip, no
 * devices, no log, no threads. COM1's THR writes go to stdout with plain write(2)s, LSR
 * reads say "transmitter empty", a byte written to the exit port (0x501) becomes the exit
 * status; every other port read gives 0xff and every other write is ignored. Anything else
 * the guest does (a halt, a crash, MMIO) ends the run with status 2.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "minipvh.h"
#include "minivmm/abi.h"
#include "minivmm/uart16550.h"

#define RAM_SIZE (128u << 20)

int main(int argc, char **argv)
{
    struct minipvh p;

    minipvh_prog = "pvhboot";
    if (argc < 2 || argc > 3 || argv[1][0] == '-') {
        fprintf(stderr, "usage: pvhboot KERNEL [COMMAND-LINE]\n");
        return 1;
    }
    minipvh_create_vm(&p, RAM_SIZE);
    minipvh_create_vcpu(&p, minipvh_load(&p, argv[1], argc > 2 ? argv[2] : ""));

    for (;;) {
        struct kvm_run *run = p.run;
        if (ioctl(p.vcpu_fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            minipvh_die("KVM: ioctl (RUN) failed: %s", strerror(errno));
        }
        if (run->exit_reason != KVM_EXIT_IO) {
            fprintf(stderr, "pvhboot: guest stopped with exit reason %u\n", run->exit_reason);
            return 2;
        }
        uint8_t *data = (uint8_t *)run + run->io.data_offset;
        size_t n = (size_t)run->io.size * run->io.count;
        if (run->io.direction == KVM_EXIT_IO_IN) {
            memset(data,
                   run->io.port == UART_COM1_BASE + UART_LSR ? UART_LSR_THRE | UART_LSR_TEMT : 0xff,
                   n);
        } else if (run->io.port == UART_COM1_BASE + UART_THR) {
            if (write(STDOUT_FILENO, data, n) < 0 && errno != EAGAIN)
                minipvh_die("stdout: %s", strerror(errno));
        } else if (run->io.port == MINIVMM_EXIT_PORT) {
            return data[0];
        }
    }
}
