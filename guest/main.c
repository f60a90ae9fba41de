/*
 * main.c: the guest kernel's bring-up, in order. boot.S enters kernel_main() on the BSP in
 * long mode with the PVH start info's address; each step below is one line, and the boot
 * phases (abi.h) mark the milestones for the VMM's exit log:
 *
 *   entry, long-mode (boot.S) -> memory-ready -> devices-ready -> cpus-up -> command -> done
 *
 * Everything runs with interrupts off except the `sti; hlt` idles (console input, APs).
 */
#include <minivmm/abi.h>

#include "bootinfo.h"
#include "cmdline.h"
#include "commands.h"
#include "ioapic.h"
#include "kernel.h"
#include "lapic.h"
#include "machine.h"
#include "kmm/mm_boot.h"
#include "net/net.h"
#include "platform.h"
#include "smp.h"
#include "traps.h"
#include "uart.h"
#include "x86.h"

void kernel_main(uint32_t start_info_pa) __noreturn;

static void print_banner(const char *line)
{
    uint64_t ram = bootinfo.ram_bytes ? bootinfo.ram_bytes : platform.ram_bytes;
    unsigned int n = smp_nr_cpus();

    /* RAM rounded to the nearest MiB: the map excludes the legacy hole below 1 MiB. */
    kprintf("minivmm guest %s (abi %d): %u cpu%s, %llu MiB RAM, cmdline \"%s\"\n",
            MINIVMM_VERSION, MINIVMM_ABI_VERSION, n, n == 1 ? "" : "s",
            (unsigned long long)((ram + (1u << 19)) >> 20), line ? line : "");
}

void kernel_main(uint32_t start_info_pa)
{
    struct cmdline cl;
    const char *line;
    int mm_init_ret;

    lidt(idt_desc);                          /* from here a fault prints a register dump */
    bootinfo_parse(start_info_pa);           /* PVH start info: command line, memory map, FDT */
    platform_probe(bootinfo.fdt, bootinfo.fdt_size); /* CPUs, UART, IOAPIC, exit port */
    uart_set_base(platform.uart_port);
    machine_set_exit_port(platform.exit_port);
    line = bootinfo.cmdline ? bootinfo.cmdline : platform.bootargs;
    cmdline_parse(line, &cl);
    mm_init_ret = mm_boot_init();            /* buddy allocator, direct map above 4 GiB */
    machine_phase(MINIVMM_PHASE_MEMORY_READY);

    lapic_init();                            /* BSP's LAPIC: spurious vector, EOI */
    ioapic_init(platform.ioapic_base);       /* all pins masked */
    uart_init(platform.uart_irq, lapic_id()); /* FIFOs, receive interrupt to the BSP */
    machine_phase(MINIVMM_PHASE_DEVICES_READY);

    smp_prepare(platform.apic_ids, platform.have_fdt ? platform.nr_cpus : 0, cl.cpus);
    if (!cl.quiet) {
        print_banner(line);
        bootinfo_print_memmap();
    }
    platform_print_notes();
    cmdline_print_warnings(&cl);
    if (mm_init_ret)
        kprintf("mm: memory set-up failed (%d): no page allocator\n", mm_init_ret);
    else
        virtio_net_init(bootinfo.fdt, bootinfo.fdt_size, &cl); /* "net: vfN mac M ip A" */
    ne2000_init(bootinfo.fdt, bootinfo.fdt_size, &cl); /* "net: ne2000 mac M ip A" */
    smp_boot_cpus();                         /* "cpu N: online", N = 0, 1, ... */
    machine_phase(MINIVMM_PHASE_CPUS_UP);

    machine_phase(MINIVMM_PHASE_COMMAND);
    machine_exit((uint8_t)command_run(&cl));
}
