/*
 * trampoline.S: the first instructions of an application processor, in real mode.
 *
 * smp.c copies [trampoline_start, trampoline_end) to MEMMAP_AP_TRAMPOLINE and sends a SIPI
 * with vector MEMMAP_AP_TRAMPOLINE >> 12, so the AP starts here with CS = 0x0800, IP = 0.
 * The code is position-independent within its page: data is addressed relative to CS, and it
 * leaves at once for boot.S's ap_entry32 (in the kernel image above 1 MiB) through the
 * kernel's own GDT. It lives in .rodata because it only ever runs from the copy.
 */
#include "config.h"

	.section .rodata.trampoline, "a"
	.code16
	.globl trampoline_start, trampoline_end
trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl (tramp_gdt_desc - trampoline_start)
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $KERNEL_CS32, $ap_entry32

	.balign 8
tramp_gdt_desc:
	.word gdt_limit
	.long gdt
trampoline_end:
