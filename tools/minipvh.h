/*
 * minipvh.h: the least a program needs to boot a PVH ELF on KVM, shared by the two reference
 * programs of `minivmm bench` (barekvm.c, pvhboot.c). Deliberately not minivmm's code: no
 * bus, no devices, no log, no checks beyond keeping every copy inside guest RAM.
 *
 * Guest RAM is one anonymous mapping at guest-physical 0; the boot structures use minivmm's
 * addresses (memmap.h) so that both sides hand the guest the same layout. Errors end the
 * program with a message ("barekvm: KVM: ioctl (CREATE_VM) failed: ...") and status 1.
 */
#ifndef MINIVMM_TOOLS_MINIPVH_H
#define MINIVMM_TOOLS_MINIPVH_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

struct minipvh {
    int kvm_fd;
    int vm_fd;
    int vcpu_fd;
    uint8_t *mem;
    size_t mem_size;
    struct kvm_run *run;
};

/* The program's name for messages (set by main). */
extern const char *minipvh_prog;

void minipvh_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Opens /dev/kvm, creates the VM and maps mem_size bytes of RAM at guest-physical 0. */
void minipvh_create_vm(struct minipvh *p, size_t mem_size);
/* Loads the ELF64's PT_LOAD segments, writes hvm_start_info (version 1) with the command
 * line and the memory map; returns the PVH entry (XEN_ELFNOTE_PHYS32_ENTRY). */
uint32_t minipvh_load(struct minipvh *p, const char *path, const char *cmdline);
/* Creates vCPU 0 in the PVH entry state: flat 32-bit protected mode, EBX = start info. */
void minipvh_create_vcpu(struct minipvh *p, uint32_t entry);

#endif
