/*
 * config.h: build-time limits and fixed vectors of the guest kernel.
 *
 * Plain #defines only: boot.S, trampoline.S and vectors.S include this file too.
 */
#ifndef GUEST_CONFIG_H
#define GUEST_CONFIG_H

/* MINIVMM_VERSION, the banner's version, is meson's project version (version_args in the
 * top-level meson.build), the VMM's too. */
#ifndef MINIVMM_VERSION
#error "MINIVMM_VERSION is not defined: the guest is built by guest/meson.build"
#endif

#define NR_CPUS 64          /* APIC IDs at or above this never leave the trampoline */
#define STACK_SHIFT 13
#define STACK_SIZE (1 << STACK_SHIFT) /* per CPU: the BSP's boot stack, each AP's stack */

/* GDT selectors (boot.S builds the GDT). */
#define KERNEL_CS 0x08      /* 64-bit code */
#define KERNEL_DS 0x10      /* flat data, valid in 32- and 64-bit mode */
#define KERNEL_CS32 0x18    /* 32-bit code: the AP trampoline's way into boot.S */

/* Interrupt vectors: exceptions 0-31, ISA IRQ n at IRQ_VECTOR_BASE + n, spurious last. */
#define IRQ_VECTOR_BASE 0x20
#define SPURIOUS_VECTOR 0xff
#define CALL_FUNCTION_VECTOR 0xf0 /* smp_call_function(): wake an idle AP */
#define TLB_FLUSH_VECTOR 0xf1 /* vfree(): flush a vmalloc range on the other CPUs */

/* Control registers and MSRs used from assembly. */
#define CR0_PE 0x00000001
#define CR0_WP 0x00010000
#define CR0_PG 0x80000000
#define CR4_PAE 0x00000020
#define MSR_APIC_BASE 0x0000001b
#define MSR_EFER 0xc0000080
#define MSR_GS_BASE 0xc0000101
#define EFER_LME 0x00000100
#define EFER_NXE 0x00000800
#define CPUID_80000001_EDX_NX 20 /* bit number */

#endif
