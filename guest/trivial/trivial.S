/*
 * trivial.S: the smallest useful PVH guest, for boot benchmarks: it prints
 * "trivial: hello" on COM1 (polled, no interrupts), writes status 0 to the exit port and
 * halts. It stays in 32-bit protected mode, so it measures the VMM's boot path and not the
 * guest's: no page tables, no long mode, a few dozen emulated instructions per character.
 *
 * It marks the boot phases entry and done (abi.h) so that exit logs of both guests line up.
 */
#include <minivmm/uart16550.h>

/* abi.h is C: the preprocessor still defines its macros, gas skips the declarations. */
.if 0
#include <minivmm/abi.h>
.endif

	.section .note.Xen, "a"
	.balign 4
	.long 4				/* namesz */
	.long 4				/* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.long pvh_entry
	.long 0, 0, 0			/* empty note: QEMU 7.2 reads the entry as 8 bytes */

	.section .text, "ax"
	.code32
	.globl pvh_entry
pvh_entry:
	movb $MINIVMM_PHASE_ENTRY, %al
	outb %al, $MINIVMM_PHASE_PORT
	movl $message, %esi
next_char:
	movb (%esi), %bl
	testb %bl, %bl
	jz done
	movw $(UART_COM1_BASE + UART_LSR), %dx
wait_thre:
	inb %dx, %al
	testb $UART_LSR_THRE, %al
	jz wait_thre
	movw $(UART_COM1_BASE + UART_THR), %dx
	movb %bl, %al
	outb %al, %dx
	incl %esi
	jmp next_char
done:
	movb $MINIVMM_PHASE_DONE, %al
	outb %al, $MINIVMM_PHASE_PORT
	movb $MINIVMM_STATUS_OK, %al
	movw $MINIVMM_EXIT_PORT, %dx
	outb %al, %dx
halt:
	cli
	hlt
	jmp halt

message:
	.asciz "trivial: hello\r\n"
