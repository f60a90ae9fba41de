/*
 * boot.S: the PVH entry point, the way from 32-bit protected mode into long mode (for the
 * BSP and, via trampoline.S, for the APs), and the GDT and page tables they share.
 *
 * PVH entry state (Xen's HVM direct boot ABI, as QEMU and minivmm implement it): 32-bit
 * protected mode, paging off, flat CS/DS, %ebx = physical address of hvm_start_info, no
 * usable stack, interrupts off. Interrupts stay off until long mode: a 32-bit `iret` kills
 * the VM under KVM's emulator.
 *
 * The page tables are static data, built by the assembler: every guest instruction costs
 * ~1 us of emulation on our hosts, so the 512-entry loop of a run-time build would cost
 * ~2 ms of boot. They identity-map 0-4 GiB with 2 MiB pages, except:
 *   - the first 2 MiB uses a 4 KiB page table whose page 0 is not present (NULL faults);
 *   - the 4th GiB (0xc0000000-0xffffffff, the MMIO hole: IOAPIC, LAPIC) is PCD|PWT.
 * Accessed/dirty bits are preset so the page walker never writes the tables.
 */
#include <minivmm/memmap.h>

#include "config.h"

/* abi.h is C: the preprocessor still defines its macros, gas skips the declarations. */
.if 0
#include <minivmm/abi.h>
.endif

#define PTE_P 0x001
#define PTE_W 0x002
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_A 0x020
#define PTE_D 0x040
#define PTE_PS 0x080
#define PTE_TABLE (PTE_P | PTE_W | PTE_A)
#define PTE_LARGE (PTE_P | PTE_W | PTE_A | PTE_D | PTE_PS)
#define PTE_PAGE (PTE_P | PTE_W | PTE_A | PTE_D)

/*
 * The PVH note: the 32-bit physical entry address. QEMU 7.2 reads this descriptor as 8
 * bytes on a 64-bit ELF, so the empty note after it supplies a zero upper half.
 */
	.section .note.Xen, "a"
	.balign 4
	.long 4				/* namesz */
	.long 4				/* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.long pvh_entry
	.long 0, 0, 0			/* empty note: namesz 0, descsz 0, type 0 */

/*
 * Enter long mode from 32-bit protected mode with paging off, and jump to `target` in the
 * 64-bit code segment. Clobbers eax, ebx, ecx, edx, esi.
 */
.macro ENTER_LONG_MODE target
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	/*
	 * NXE only if the CPU has NX: setting it otherwise raises #GP, and with no IDT yet that
	 * is a triple fault. Leaf 0x80000001 only counts if leaf 0x80000000 lists it.
	 */
	xorl %esi, %esi
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb 2f
	movl $0x80000001, %eax
	cpuid
	movl %edx, %esi
2:	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	btl $CPUID_80000001_EDX_NX, %esi
	jnc 1f
	orl $EFER_NXE, %eax
1:	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP | CR0_PE), %eax
	movl %eax, %cr0
	ljmp $KERNEL_CS, $\target
.endm

	.section .text.boot, "ax"
	.code32
	.globl pvh_entry
pvh_entry:
	movb $MINIVMM_PHASE_ENTRY, %al
	outb %al, $MINIVMM_PHASE_PORT
	movl %ebx, pvh_start_info_pa
	lgdt gdt_desc
	ENTER_LONG_MODE bsp_long_mode

/* trampoline.S jumps here in 32-bit protected mode with CS = KERNEL_CS32. */
	.globl ap_entry32
ap_entry32:
	movl $KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	ENTER_LONG_MODE ap_long_mode

	.code64
bsp_long_mode:
	movl $KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	leaq bsp_stack + STACK_SIZE(%rip), %rsp
	movb $MINIVMM_PHASE_LONG_MODE, %al
	outb %al, $MINIVMM_PHASE_PORT
	/* %gs -> cpu_info[0] before any C code: smp_processor_id() reads %gs:0. */
	movl $MSR_GS_BASE, %ecx
	movl $cpu_info, %eax
	xorl %edx, %edx
	wrmsr
	movl pvh_start_info_pa(%rip), %edi
	call kernel_main
	jmp halt_forever

ap_long_mode:
	movl $KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	/* Our APIC ID picks our stack: no hand-over from the BSP that a late AP could race. */
	movl $MSR_APIC_BASE, %ecx
	rdmsr
	andl $0xfffff000, %eax
	shlq $32, %rdx
	orq %rdx, %rax
	movl 0x20(%rax), %edi		/* LAPIC ID register, xAPIC: ID in bits 31:24 */
	shrl $24, %edi
	cmpl $NR_CPUS, %edi
	jae halt_forever
	leal 1(%edi), %eax
	shlq $STACK_SHIFT, %rax
	leaq ap_stacks(%rip), %rsp
	addq %rax, %rsp
	call ap_main			/* ap_main(apic_id) */
halt_forever:
	cli
	hlt
	jmp halt_forever

	.section .data.boot, "aw"
	.balign 8
	/* Accessed bits preset: the CPU would otherwise write them on the first load. */
	.globl gdt, gdt_limit
gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* KERNEL_CS: 64-bit code */
	.quad 0x00cf93000000ffff	/* KERNEL_DS: flat data */
	.quad 0x00cf9b000000ffff	/* KERNEL_CS32: 32-bit code */
gdt_end:
	.set gdt_limit, gdt_end - gdt - 1	/* absolute, for trampoline.S */
	.balign 8
gdt_desc:
	.word gdt_limit
	.quad gdt

pvh_start_info_pa:
	.long 0

	.section .data.pgtable, "aw"
	.balign 4096
pml4:
	.quad pdpt + PTE_TABLE
	.fill 511, 8, 0
pdpt:
	.quad pd + PTE_TABLE
	.quad pd + 0x1000 + PTE_TABLE
	.quad pd + 0x2000 + PTE_TABLE
	.quad pd + 0x3000 + PTE_TABLE
	.fill 508, 8, 0
pd:
	.quad pt0 + PTE_TABLE
	.set pde_addr, 0x200000
	.rept 512 * 3 - 1
	.quad pde_addr + PTE_LARGE
	.set pde_addr, pde_addr + 0x200000
	.endr
	.rept 512
	.quad pde_addr + PTE_LARGE + PTE_PCD + PTE_PWT
	.set pde_addr, pde_addr + 0x200000
	.endr
pt0:
	.quad 0				/* page 0: not present */
	.set pte_addr, 0x1000
	.rept 511
	.quad pte_addr + PTE_PAGE
	.set pte_addr, pte_addr + 0x1000
	.endr

	.section .bss.stack, "aw", @nobits
	.balign 16
bsp_stack:
	.skip STACK_SIZE
	/* One per APIC ID: the stack of APIC ID n grows down from ap_stacks + (n+1)*STACK_SIZE. */
	.balign 16
ap_stacks:
	.skip STACK_SIZE * NR_CPUS
