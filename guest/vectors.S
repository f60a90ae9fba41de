/*
 * vectors.S: the interrupt entry stubs, the common entry path, and the IDT.
 *
 * Every one of the 256 vectors has a 16-byte stub that makes the stack uniform (a zero for
 * vectors whose exception pushes no error code, then the vector number) and jumps to
 * isr_common, which saves all general registers as a struct trap_frame (traps.h), calls
 * trap_dispatch() and returns with iretq.
 *
 * The IDT is static data like the page tables (a run-time loop over 256 gates would cost
 * ~1 ms of emulated instructions): gate n points at VECTORS_ADDR + 16 n, which works because
 * kernel.ld places .text.vectors first in the image, at MEMMAP_HIMEM_START, and checks
 * that it did (vectors_link_addr). All gates are 64-bit interrupt gates (IF cleared on
 * entry), DPL 0, no IST: there is no TSS, so a fault on a bad kernel stack triple-faults.
 */
#include <minivmm/memmap.h>

#include "config.h"

#define VECTORS_ADDR MEMMAP_HIMEM_START
#define STUB_SIZE 16

	.globl vectors_link_addr
	.set vectors_link_addr, VECTORS_ADDR

	.section .text.vectors, "ax"
	.code64
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.org isr_stubs + vec * STUB_SIZE, 0x90
	/* Exceptions with an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX. */
	.if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	pushq $0
	.endif
	pushq $vec
	/* Always the 5-byte form, so every stub has the same, known size. */
	.byte 0xe9
	.long isr_common - . - 4
	.set vec, vec + 1
	.endr
	.org isr_stubs + 256 * STUB_SIZE, 0x90

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	/* 15 registers + vector + error + 5-word CPU frame = 176 bytes: %rsp is 16-aligned. */
	movq %rsp, %rdi
	call trap_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp			/* vector, error code */
	iretq

	.section .rodata.idt, "a"
	.balign 16
idt_table:
	.set vec, 0
	.rept 256
	.word (VECTORS_ADDR + vec * STUB_SIZE) & 0xffff
	.word KERNEL_CS
	.word 0x8e00			/* present, DPL 0, 64-bit interrupt gate, IST 0 */
	.word (VECTORS_ADDR + vec * STUB_SIZE) >> 16
	.long 0				/* offset bits 63:32 */
	.long 0
	.set vec, vec + 1
	.endr

	.balign 8
	.globl idt_desc
idt_desc:
	.word 256 * 16 - 1
	.quad idt_table
