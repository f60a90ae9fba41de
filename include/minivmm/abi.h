/*
 * abi.h: the host/guest ABI of minivmm, version MINIVMM_ABI_VERSION.
 *
 * Self-contained C99 (only <stdint.h>), included by the VMM, its device models and the guest,
 * so that the two sides cannot drift apart. Addresses of boot structures are in memmap.h.
 *
 * Boot: the VMM boots the kernel by PVH (hvm_start_info version 1 in %ebx, memory map and
 * command line filled in). When the VMM builds a flattened device tree it passes it as a PVH
 * module whose command line is MINIVMM_FDT_MODULE_CMDLINE ("minivmm,fdt"): module 0, or
 * module 1 when an initrd (--initrd) is module 0, as Linux takes module 0 for its initrd. The
 * guest finds the FDT by that string, wherever it is in the list, and checks the FDT magic. A guest that ignores modules still boots, and a VMM
 * that passes no FDT (QEMU microvm) leaves the guest on its defaults: 1 CPU, COM1 at 0x3f8/IRQ 4,
 * exit port 0x501.
 *
 * Ports:
 *   0x501 exit port (QEMU isa-debug-exit's address): the guest writes one status byte v.
 *         minivmm exits with status v (0 = success); QEMU's isa-debug-exit exits with (v<<1)|1.
 *   0x80  boot-phase port (the PC POST-code port): the guest writes one MINIVMM_PHASE_* byte;
 *         the VMM records it as a marker in the exit log.
 *   0x520 bench device (MINIVMM_BENCH_*, below): only with `minivmm run --bench-device`.
 */
#ifndef MINIVMM_ABI_H
#define MINIVMM_ABI_H

#include <stdint.h>

#define MINIVMM_ABI_VERSION 1

#define MINIVMM_EXIT_PORT 0x501
#define MINIVMM_PHASE_PORT 0x80

/*
 * The ACPI PM device (devices/acpi_pm.c): the sleep and reset registers of hardware-reduced
 * ACPI, which the FADT points at (src/acpi.c; ACPI 6.5 §4.8.3.7 sleep control and status,
 * §4.8.3.6 reset register). 8-bit I/O ports from MINIVMM_ACPI_PM_PORT:
 *   +0 SLEEP_CONTROL  write SLP_EN | SLP_TYP << 2: with SLP_TYP 5 (the DSDT's \_S5) the VM
 *                     powers off; other sleep types are ignored (no \_S1-\_S4 is offered)
 *   +1 SLEEP_STATUS   read: WAK_STS (bit 7), never set (no sleep state returns); write 1 to
 *                     clear it
 *   +2 RESET          write MINIVMM_ACPI_PM_RESET_VALUE (the FADT's RESET_VALUE): the VM ends
 *                     as a reboot
 * Reads of SLEEP_CONTROL and RESET return 0.
 */
#define MINIVMM_ACPI_PM_PORT 0x600
#define MINIVMM_ACPI_PM_PORT_SIZE 4
#define MINIVMM_ACPI_PM_SLEEP_CONTROL 0
#define MINIVMM_ACPI_PM_SLEEP_STATUS 1
#define MINIVMM_ACPI_PM_RESET 2
#define MINIVMM_ACPI_PM_SLP_EN 0x20
#define MINIVMM_ACPI_PM_SLP_TYP_SHIFT 2
#define MINIVMM_ACPI_PM_SLP_TYP_MASK 0x1c
#define MINIVMM_ACPI_PM_SLP_TYP_S5 5
#define MINIVMM_ACPI_PM_WAK_STS 0x80
#define MINIVMM_ACPI_PM_RESET_VALUE 0x01

/*
 * The bench device, for `minivmm bench exits` (docs/BENCHMARKS.md). Present only when the VM
 * is started with `minivmm run --bench-device[=ioeventfd]`, never in normal runs. The same two
 * 32-bit registers sit at MINIVMM_BENCH_PORT (PIO) and at MEMMAP_BENCH_BASE (MMIO, memmap.h):
 *   +0 EXIT  write: an exit to the VMM, whose device does nothing with the value;
 *            read: MINIVMM_BENCH_ID (all-ones when the device is absent)
 *   +4 KICK  write: with --bench-device=ioeventfd a KVM ioeventfd (no exit to the VMM; a VMM
 *            thread drains the eventfd), otherwise the same as EXIT; read: MINIVMM_BENCH_F_*
 */
#define MINIVMM_BENCH_PORT 0x520
#define MINIVMM_BENCH_PORT_SIZE 8
#define MINIVMM_BENCH_EXIT 0
#define MINIVMM_BENCH_KICK 4
#define MINIVMM_BENCH_ID 0x6d766d62u     /* "bmvm" in memory order */
#define MINIVMM_BENCH_F_IOEVENTFD 0x1u   /* KICK writes (PIO and MMIO) go to ioeventfds */

/* Status bytes the guest writes to the exit port. */
#define MINIVMM_STATUS_OK 0      /* command succeeded */
#define MINIVMM_STATUS_FAIL 1    /* command ran and a check failed */
#define MINIVMM_STATUS_PANIC 3   /* CPU exception or kernel panic */

/* Boot phases, written to MINIVMM_PHASE_PORT, in the order a normal boot passes them. */
#define MINIVMM_PHASE_ENTRY 1         /* first instruction of the PVH entry */
#define MINIVMM_PHASE_LONG_MODE 2     /* running 64-bit code */
#define MINIVMM_PHASE_MEMORY_READY 3  /* memory map parsed, allocators (if any) ready */
#define MINIVMM_PHASE_DEVICES_READY 4 /* console, interrupt controllers ready */
#define MINIVMM_PHASE_CPUS_UP 5       /* every vCPU online */
#define MINIVMM_PHASE_COMMAND 6       /* the selected command starts */
#define MINIVMM_PHASE_DONE 7          /* command finished, about to write the exit port */
/* Within a command, around its timed part (net.tx; `minivmm bench net` counts the exits
 * between the two): after COMMAND, before DONE. */
#define MINIVMM_PHASE_XFER_START 8
#define MINIVMM_PHASE_XFER_DONE 9
#define MINIVMM_PHASE_MAX 9

#define MINIVMM_PHASE_NAMES                                                                       \
    { "", "entry", "long-mode", "memory-ready", "devices-ready", "cpus-up", "command", "done",    \
      "xfer-start", "xfer-done" }

/*
 * NICs (SR-IOV-style, docs/nic.md when written): each virtual function is a virtio-mmio
 * virtio-net device in a 4 KiB window at MEMMAP_VIRTIO_BASE + n * MEMMAP_VIRTIO_STRIDE,
 * interrupting on IOAPIC pin MEMMAP_VIRTIO_IRQ_BASE + n (level-triggered, active high).
 * Device tree: a node /pf@<base> (compatible "minivmm,sriov-pf", "simple-bus";
 * #address-cells 2, #size-cells 2, ranges) with one child virtio_mmio@<addr> per VF
 * (compatible "virtio,mmio"; reg <hi lo 0 0x1000>; interrupts <pin 1> in the CE4100 IOAPIC
 * binding, 1 = level high; "minivmm,vf-index" <n>). The VMM also appends Linux's
 * `virtio_mmio.device=4K@0x<addr>:<pin>` words to the command line; a guest uses the FDT
 * when present, else those words, de-duplicated by base address.
 */
#define MINIVMM_FDT_COMPAT_PF "minivmm,sriov-pf"
#define MINIVMM_FDT_COMPAT_VIRTIO "virtio,mmio"
#define MINIVMM_FDT_VF_INDEX "minivmm,vf-index"

/*
 * The emulated NE2000 (DP8390) NIC, a port on the PF switch beside the VFs (--nic ...,ne2000=on):
 * ISA I/O at MINIVMM_NE2000_PORT (0x20 ports: DP8390 registers 0x00-0x0f, data port 0x10,
 * reset port 0x1f), edge-triggered active-high IRQ MINIVMM_NE2000_IRQ. Device tree: a node
 * /isa/ethernet@i300 (compatible MINIVMM_FDT_COMPAT_NE2000; reg <1 0x300 0x20>;
 * interrupts <9 3>; local-mac-address). Without a device tree a guest probes 0x300 / IRQ 9.
 * Register layout: ne2000_regs.h.
 */
#define MINIVMM_NE2000_PORT 0x300
#define MINIVMM_NE2000_PORT_SIZE 0x20
#define MINIVMM_NE2000_IRQ 9
#define MINIVMM_FDT_COMPAT_NE2000 "minivmm,ne2000"

/* The FDT module's command line. */
#define MINIVMM_FDT_MODULE_CMDLINE "minivmm,fdt"

/* Device-tree compatible strings of minivmm's own devices. */
#define MINIVMM_FDT_COMPAT_EXIT "minivmm,exit-port"
#define MINIVMM_FDT_COMPAT_PHASE "minivmm,phase-port"
#define MINIVMM_FDT_COMPAT_IOAPIC "intel,ce4100-ioapic"
#define MINIVMM_FDT_COMPAT_UART "ns16550a"

/*
 * Guest command line: the first word whose key (text before any '=') names a command selects
 * it, its value (if any) being the argument; other key=value words are parameters; unknown
 * words are ignored with a warning. The tables below are the single source for the guest's
 * parser and for `minivmm --help`.
 *
 * X(name, argument, help)
 */
#define MINIVMM_GUEST_COMMANDS(X)                                                                 \
    X("hello", "", "print the banner and the online CPUs, then exit 0 (the default)")            \
    X("panic", "", "take a deliberate page fault: register dump, exit status 3")                 \
    X("echo", "", "echo console input line by line until a line 'quit', then exit 0")            \
    X("bench.exits", "", "time guest loops of VM exits (bench.*; `minivmm bench exits`)")      \
    X("mm.selftest", "", "check the page allocator (and slab, vmalloc): SUCCESS or FAIL")       \
    X("mm.demo", "", "kmalloc/vmalloc/page/kmem_cache/per-CPU examples with buddyinfo")         \
    X("mm.bench", "", "alloc/free pairs of pages, a 64-byte cache, kmalloc-256 (mm.iters)")  \
    X("net.ping", "IP", "ARP-resolve IP from vf0 (net.dev) and send net.count ICMP echo "       \
      "requests: RTTs in us and a summary; exit 0 if every one was answered, else 1")           \
    X("net.echo", "", "answer ARP, ping and UDP echo (port 7) on every VF and the NE2000 "     \
      "until stopped")                                                                          \
    X("net.tx", "", "send net.count UDP frames of net.size bytes from vf0 (net.dev) to net.dst " \
      "(default broadcast) as fast as possible; print packets and bytes")                       \
    X("net.selftest", "", "with 2+ interfaces (VFs, NE2000): each ARP-resolves and pings the " \
      "others; with net.spoof=1 vf1 also pings vf0 with a forged source MAC (expect 0 "         \
      "replies): SUCCESS/FAIL")                                                                 \
    X("net.setmac", "", "vfN (net.vf) asks for a new MAC (last byte xor 0x80) over the control " \
      "queue; prints ok or refused, then vf0 pings vfN at its MAC and vfN pings vf0: exit 0 "   \
      "when the outcome is net.expect and the pings work")                                     \
    X("net.hostile", "", "post hostile TX descriptors on vf0 (net.case): check NEEDS_RESET, "   \
      "that vf1 still works, and that vf0 works again after a reset: SUCCESS/FAIL")           \
    X("serial.tx", "", "write io.bytes printable bytes to the UART in io.chunk-byte chunks "    \
      "between payload-start/end lines; print the byte count and checksum (bench io)")

/* X(name, value, help) */
#define MINIVMM_GUEST_PARAMS(X)                                                                   \
    X("quiet", "", "print only the command's own output")                                        \
    X("cpus", "N", "bring up at most N vCPUs (default: all in the device tree)")                 \
    X("bench.mode", "MASK", "bench.exits loops, a sum of 1 pio, 2 mmio, 4 pio-ioeventfd, "       \
      "8 mmio-ioeventfd, 16 timer (default 31: all)")                                            \
    X("bench.iters", "N", "bench.exits round trips (timer: wake-ups) per loop (default 1000)")   \
    X("bench.delta_us", "N", "bench.exits timer: deadline N us ahead (default 20)")             \
    X("mm.iters", "N", "mm.selftest concurrent alloc/free steps per CPU (default 1000), "        \
      "mm.bench pairs per loop (default 1000)")                                                  \
    X("net.ip", "A.B.C.D", "vf0's IPv4 address (default 10.0.2.15); vfN gets it plus N, "     \
      "the NE2000 plus (highest N + 1)")                                                        \
    X("net.dst", "A.B.C.D", "net.tx destination (default: broadcast)")                          \
    X("net.dev", "ne2000|virtio", "the NIC of net.ping, net.tx (and net.echo's check): "        \
      "virtio = vf0 (the default when present), ne2000 = the NE2000 (default without VFs)")     \
    X("net.count", "N", "net.ping requests (default 3), net.tx frames (default 1000), "        \
      "net.selftest spoofed pings (default 3)")                                                  \
    X("net.size", "S", "net.tx Ethernet frame size in bytes, 60-1514 (default 64)")            \
    X("net.interval_ms", "N", "net.ping: send each request N ms after the previous one "       \
      "(default 0: right after its reply or timeout)")                                          \
    X("net.spoof", "0|1", "net.selftest: 1 = vf1 also sends pings with a forged source MAC")   \
    X("net.vf", "N", "net.setmac: the VF whose MAC changes, 1 or more (default 1)")            \
    X("net.expect", "1|0", "net.setmac: 1 = the device accepts the MAC (default), 0 = refuses")\
    X("io.bytes", "N", "serial.tx payload bytes (default 65536)")                               \
    X("io.chunk", "F", "serial.tx bytes per uart write, 1-4096 (default 1514)")                 \
    X("net.case", "1-4", "net.hostile: 1 buffer outside RAM, 2 address+length wraps, "        \
      "3 descriptor loop, 4 avail idx jumps past the queue size")                                \
    X("virtio_mmio.device", "SIZE@ADDR:IRQ", "a virtio-mmio window (Linux's syntax; from the " \
      "VMM, or QEMU microvm with acpi=off); used when there is no device tree")

/* PVH start info (Xen public/arch-x86/hvm/start_info.h), version 1. */
#define HVM_START_MAGIC_VALUE 0x336ec578u
#define XEN_ELFNOTE_PHYS32_ENTRY 18

struct hvm_start_info {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr;
    uint32_t memmap_entries;
    uint32_t reserved;
};

struct hvm_modlist_entry {
    uint64_t paddr;
    uint64_t size;
    uint64_t cmdline_paddr;
    uint64_t reserved;
};

#define HVM_MEMMAP_TYPE_RAM 1
#define HVM_MEMMAP_TYPE_RESERVED 2

struct hvm_memmap_table_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
    uint32_t reserved;
};

#endif
