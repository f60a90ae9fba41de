/*
 * test_fdt_build.c: the device tree and the PVH boot structures given to the guest.
 *
 * fdt_build() output is read back with libfdt, never compared as bytes: every node and property
 * the guest relies on (bootargs, memory regions for 128 MiB and for >4 GiB, one cpu@N per vCPU
 * with reg = APIC ID, the IOAPIC, the ISA serial, exit and phase ports, stdout-path) is checked
 * by value. Every buffer size below the tree's size must give -ENOSPC without writing past the
 * buffer. pvh_write_boot_info() is checked on a small gmem by reading hvm_start_info, the
 * memory map, the command line, the modules (the FDT as module 0, or as module 1 after an
 * initrd) and the GDT back out of guest RAM, and the GDT descriptors are cross-checked against
 * the segment state pvh_entry_state() gives KVM.
 */
#include <check.h>
#include <errno.h>
#include <libfdt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ck_loop.h"
#include "board.h"
#include "fdt_build.h"
#include "machine.h"
#include "nic.h"
#include "minivmm/hw/gmem.h"
#include "minivmm/abi.h"
#include "minivmm/memmap.h"
#include "minivmm/uart16550.h"
#include "pvh.h"
#include "minivmm/util.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

#define BOOTARGS "console=ttyS0 hello cpus=2"

#define N(a) ((int)(ARRAY_SIZE(a)))

static uint8_t fdtbuf[MEMMAP_FDT_MAX];

/* The machine every VM has: the board's rows (board.c), no bus behind them. */
static void machine(struct machine *m, const struct gmem *gm, unsigned ncpus)
{
    char err[256];
    struct board_devs b = {0};
    machine_init(m, ncpus, gm, NULL);
    ck_assert_msg(board_add(m, &b, err, sizeof(err)) == 0, "%s", err);
}

static int node(const void *fdt, const char *path)
{
    int off = fdt_path_offset(fdt, path);
    ck_assert_msg(off >= 0, "%s: %s", path, fdt_strerror(off));
    return off;
}

static const void *prop(const void *fdt, const char *path, const char *name, int *len)
{
    int l = -1;
    const void *p = fdt_getprop(fdt, node(fdt, path), name, &l);
    ck_assert_msg(p != NULL, "%s:%s missing (%s)", path, name, fdt_strerror(l));
    if (len)
        *len = l;
    return p;
}

static uint32_t prop_u32(const void *fdt, const char *path, const char *name)
{
    int len;
    const fdt32_t *p = prop(fdt, path, name, &len);
    ck_assert_msg(len == 4, "%s:%s has length %d", path, name, len);
    return fdt32_to_cpu(*p);
}

/* Checks a property holding exactly the n cells in want. */
static void prop_cells(const void *fdt, const char *path, const char *name, const uint32_t *want,
                       int n)
{
    int len;
    const fdt32_t *p = prop(fdt, path, name, &len);
    ck_assert_msg(len == n * 4, "%s:%s has length %d, want %d", path, name, len, n * 4);
    for (int i = 0; i < n; i++)
        ck_assert_msg(fdt32_to_cpu(p[i]) == want[i], "%s:%s cell %d = 0x%x, want 0x%x", path, name,
                      i, fdt32_to_cpu(p[i]), want[i]);
}

static void prop_str(const void *fdt, const char *path, const char *name, const char *want)
{
    int len;
    const char *p = prop(fdt, path, name, &len);
    ck_assert_int_eq(len, (int)strlen(want) + 1);
    ck_assert_str_eq(p, want);
}

/* ---- the tree ---- */

/* _i: ncpus 1, 4, 16 crossed with 128 MiB and 6 GiB. */
static const unsigned cpu_counts[] = {1, 4, 16};
static const uint64_t mem_sizes[] = {128 * MiB, 6 * GiB};

START_TEST(test_tree_contents)
{
    unsigned ncpus = cpu_counts[_i % N(cpu_counts)];
    uint64_t size = mem_sizes[_i / N(cpu_counts)];
    struct gmem gm;
    ck_assert_int_eq(gmem_layout(&gm, size), 0); /* fdt_build only reads the layout */
    struct machine m;
    machine(&m, &gm, ncpus);
    ck_assert_int_eq(fdt_build(fdtbuf, sizeof(fdtbuf), &m, BOOTARGS), 0);
    const void *fdt = fdtbuf;
    ck_assert_int_eq(fdt_check_header(fdt), 0);
    ck_assert_uint_le(fdt_totalsize(fdt), sizeof(fdtbuf));

    /* root */
    ck_assert_uint_eq(prop_u32(fdt, "/", "#address-cells"), 2);
    ck_assert_uint_eq(prop_u32(fdt, "/", "#size-cells"), 2);
    prop_str(fdt, "/", "compatible", "minivmm,pvh");
    ck_assert_uint_eq(prop_u32(fdt, "/", "minivmm,abi-version"), MINIVMM_ABI_VERSION);

    /* /chosen */
    prop_str(fdt, "/chosen", "bootargs", BOOTARGS);
    prop_str(fdt, "/chosen", "stdout-path", "/isa/serial@i3f8");
    const char *stdout_path = prop(fdt, "/chosen", "stdout-path", NULL);
    int uart = fdt_path_offset(fdt, stdout_path);
    ck_assert_int_ge(uart, 0);
    ck_assert_int_eq(uart, node(fdt, "/isa/serial@i3f8"));
    ck_assert_int_eq(fdt_node_check_compatible(fdt, uart, "ns16550a"), 0);

    /* /memory@0 */
    prop_str(fdt, "/memory@0", "device_type", "memory");
    if (size == 128 * MiB) {
        static const uint32_t reg[] = {0, 0, 0, 128 * MiB};
        prop_cells(fdt, "/memory@0", "reg", reg, 4);
    } else {
        /* 3 GiB at 0, 3 GiB at 4 GiB */
        static const uint32_t reg[] = {0, 0, 0, 0xc0000000u, 1, 0, 0, 0xc0000000u};
        prop_cells(fdt, "/memory@0", "reg", reg, 8);
    }

    /* /cpus */
    ck_assert_uint_eq(prop_u32(fdt, "/cpus", "#address-cells"), 1);
    ck_assert_uint_eq(prop_u32(fdt, "/cpus", "#size-cells"), 0);
    int cpus = node(fdt, "/cpus");
    unsigned count = 0;
    int sub;
    for (sub = fdt_first_subnode(fdt, cpus); sub >= 0; sub = fdt_next_subnode(fdt, sub)) {
        const char *name = fdt_get_name(fdt, sub, NULL);
        ck_assert_msg(strncmp(name, "cpu@", 4) == 0, "unexpected node /cpus/%s", name);
        int len;
        const fdt32_t *reg = fdt_getprop(fdt, sub, "reg", &len);
        ck_assert_ptr_nonnull(reg);
        ck_assert_int_eq(len, 4);
        ck_assert_uint_eq(fdt32_to_cpu(*reg), count); /* in order, reg = index */
        char want[16];
        snprintf(want, sizeof(want), "cpu@%x", count); /* unit address = reg, in hex */
        ck_assert_str_eq(name, want);
        const char *dt = fdt_getprop(fdt, sub, "device_type", &len);
        ck_assert_ptr_nonnull(dt);
        ck_assert_str_eq(dt, "cpu");
        count++;
    }
    ck_assert_uint_eq(count, ncpus);
    char last[32];
    snprintf(last, sizeof(last), "/cpus/cpu@%x", ncpus - 1);
    ck_assert_uint_eq(prop_u32(fdt, last, "reg"), ncpus - 1);

    /* /ioapic@fec00000 */
    const char *ioapic_path = "/ioapic@fec00000";
    prop_str(fdt, ioapic_path, "compatible", "intel,ce4100-ioapic");
    static const uint32_t ioreg[] = {0, 0xfec00000u, 0, 0x1000};
    prop_cells(fdt, ioapic_path, "reg", ioreg, 4);
    int len = -1;
    ck_assert_ptr_nonnull(fdt_getprop(fdt, node(fdt, ioapic_path), "interrupt-controller", &len));
    ck_assert_int_eq(len, 0);
    ck_assert_uint_eq(prop_u32(fdt, ioapic_path, "#interrupt-cells"), 2);
    uint32_t ioapic_phandle = fdt_get_phandle(fdt, node(fdt, ioapic_path));
    ck_assert_uint_ne(ioapic_phandle, 0);

    /* /isa and its devices */
    prop_str(fdt, "/isa", "compatible", "isa");
    ck_assert_uint_eq(prop_u32(fdt, "/isa", "#address-cells"), 2);
    ck_assert_uint_eq(prop_u32(fdt, "/isa", "#size-cells"), 1);
    ck_assert_uint_eq(prop_u32(fdt, "/isa", "interrupt-parent"), ioapic_phandle);

    static const uint32_t serial_reg[] = {1, 0x3f8, 8};
    prop_cells(fdt, "/isa/serial@i3f8", "reg", serial_reg, 3);
    /* CE4100 cells: pin 4, type 3 = edge, active high (Linux's of_ioapic_type[3]). */
    static const uint32_t serial_irq[] = {4, 3};
    prop_cells(fdt, "/isa/serial@i3f8", "interrupts", serial_irq, 2);
    ck_assert_uint_eq(prop_u32(fdt, "/isa/serial@i3f8", "clock-frequency"), 1843200);

    prop_str(fdt, "/isa/exit-port@i501", "compatible", "minivmm,exit-port");
    static const uint32_t exit_reg[] = {1, 0x501, 1};
    prop_cells(fdt, "/isa/exit-port@i501", "reg", exit_reg, 3);
    ck_assert_ptr_null(fdt_getprop(fdt, node(fdt, "/isa/exit-port@i501"), "interrupts", NULL));

    prop_str(fdt, "/isa/phase-port@i80", "compatible", "minivmm,phase-port");
    static const uint32_t phase_reg[] = {1, 0x80, 1};
    prop_cells(fdt, "/isa/phase-port@i80", "reg", phase_reg, 3);

    /* The CMOS RTC: ports 0x70-0x71, IRQ 8 edge. The i8042 is on the bus only. */
    prop_str(fdt, "/isa/rtc@i70", "compatible", "motorola,mc146818");
    static const uint32_t rtc_reg[] = {1, 0x70, 2};
    prop_cells(fdt, "/isa/rtc@i70", "reg", rtc_reg, 3);
    static const uint32_t rtc_irq[] = {8, 3};
    prop_cells(fdt, "/isa/rtc@i70", "interrupts", rtc_irq, 2);
    ck_assert_int_lt(fdt_path_offset(fdt, "/isa/i8042@i60"), 0);
    ck_assert_int_lt(fdt_path_offset(fdt, "/isa/i8042@i64"), 0);
}
END_TEST

START_TEST(test_other_uart_and_empty_bootargs)
{
    struct gmem gm;
    ck_assert_int_eq(gmem_layout(&gm, 128 * MiB), 0);
    struct machine m;
    machine(&m, &gm, 2);
    ck_assert_str_eq(m.devs[0].bus.name, "serial");
    m.devs[0].bus.base = 0x2f8;
    m.devs[0].irq = 3;
    ck_assert_int_eq(fdt_build(fdtbuf, sizeof(fdtbuf), &m, NULL), 0);
    const void *fdt = fdtbuf;
    ck_assert_int_eq(fdt_check_header(fdt), 0);
    prop_str(fdt, "/chosen", "bootargs", "");
    prop_str(fdt, "/chosen", "stdout-path", "/isa/serial@i2f8");
    static const uint32_t reg[] = {1, 0x2f8, 8};
    prop_cells(fdt, "/isa/serial@i2f8", "reg", reg, 3);
    static const uint32_t irq[] = {3, 3};
    prop_cells(fdt, "/isa/serial@i2f8", "interrupts", irq, 2);
    ck_assert_int_lt(fdt_path_offset(fdt, "/isa/serial@i3f8"), 0);
}
END_TEST

/* Two NICs: windows 0 and 1-2, each a /pf@ node with virtio_mmio children (abi.h). */
START_TEST(test_nics)
{
    struct gmem gm;
    ck_assert_int_eq(gmem_layout(&gm, 128 * MiB), 0);
    struct machine m;
    machine(&m, &gm, 1);
    static const unsigned windows[] = {0, 1, 2};
    static const unsigned nic_of[] = {0, 1, 1};
    char err[256];
    for (unsigned w = 0; w < 3; w++) {
        struct machine_dev d;
        nic_vf_row(&d, "vf", &windows[w], nic_of[w], NULL);
        ck_assert_msg(machine_add(&m, &d, err, sizeof(err)) == 0, "%s", err);
    }
    ck_assert_int_eq(fdt_build(fdtbuf, sizeof(fdtbuf), &m, BOOTARGS), 0);
    const void *fdt = fdtbuf;
    int len;
    const char *compat = prop(fdt, "/pf@feb01000", "compatible", &len);
    ck_assert_int_eq(len, (int)sizeof(MINIVMM_FDT_COMPAT_PF "\0simple-bus"));
    ck_assert_mem_eq(compat, MINIVMM_FDT_COMPAT_PF "\0simple-bus", (size_t)len);
    ck_assert_uint_eq(prop_u32(fdt, "/pf@feb01000", "#address-cells"), 2);
    ck_assert_uint_eq(prop_u32(fdt, "/pf@feb01000", "#size-cells"), 2);
    prop(fdt, "/pf@feb01000", "ranges", &len);
    ck_assert_int_eq(len, 0);
    prop_str(fdt, "/pf@feb01000/virtio_mmio@feb02000", "compatible", MINIVMM_FDT_COMPAT_VIRTIO);
    static const uint32_t reg[] = {0, 0xfeb02000, 0, 0x1000};
    prop_cells(fdt, "/pf@feb01000/virtio_mmio@feb02000", "reg", reg, 4);
    static const uint32_t irq[] = {MEMMAP_VIRTIO_IRQ_BASE + 2, 1};
    prop_cells(fdt, "/pf@feb01000/virtio_mmio@feb02000", "interrupts", irq, 2);
    ck_assert_uint_eq(prop_u32(fdt, "/pf@feb01000/virtio_mmio@feb02000", MINIVMM_FDT_VF_INDEX), 2);
    ck_assert_uint_eq(prop_u32(fdt, "/pf@feb00000/virtio_mmio@feb00000", MINIVMM_FDT_VF_INDEX), 0);
    ck_assert_int_lt(fdt_path_offset(fdt, "/pf@feb00000/virtio_mmio@feb01000"), 0);
    /* The same rows give the guest command line's words, in window order. */
    char args[MEMMAP_CMDLINE_MAX] = "quiet";
    ck_assert_int_eq(machine_cmdline(&m, args, sizeof(args)), 0);
    ck_assert_str_eq(args, "quiet virtio_mmio.device=4K@0xfeb00000:16 "
                           "virtio_mmio.device=4K@0xfeb01000:17 virtio_mmio.device=4K@0xfeb02000:18");
    char small[40] = "quiet";
    ck_assert_int_eq(machine_cmdline(&m, small, sizeof(small)), -E2BIG);
    ck_assert_str_eq(small, "quiet");
}
END_TEST

/* abi.h: /isa/ethernet@i300, reg <1 0x300 0x20>, interrupts <9 3>, local-mac-address. */
START_TEST(test_ne2000_node)
{
    struct gmem gm;
    ck_assert_int_eq(gmem_layout(&gm, 128 * MiB), 0);
    struct machine m;
    machine(&m, &gm, 1);
    ck_assert_int_eq(fdt_build(fdtbuf, sizeof(fdtbuf), &m, BOOTARGS), 0);
    ck_assert_int_lt(fdt_path_offset(fdtbuf, "/isa/ethernet@i300"), 0);
    static const uint8_t mac6[6] = {2, 0, 0, 0, 0, 0x11};
    struct machine_dev d;
    char err[256];
    nic_ne2000_row(&d, MINIVMM_NE2000_PORT, MINIVMM_NE2000_IRQ, NULL, mac6);
    ck_assert_msg(machine_add(&m, &d, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(fdt_build(fdtbuf, sizeof(fdtbuf), &m, BOOTARGS), 0);
    const void *fdt = fdtbuf;
    prop_str(fdt, "/isa/ethernet@i300", "compatible", MINIVMM_FDT_COMPAT_NE2000);
    static const uint32_t reg[] = {1, 0x300, 0x20};
    prop_cells(fdt, "/isa/ethernet@i300", "reg", reg, 3);
    static const uint32_t irq[] = {9, 3};
    prop_cells(fdt, "/isa/ethernet@i300", "interrupts", irq, 2);
    int len;
    const void *mac = prop(fdt, "/isa/ethernet@i300", "local-mac-address", &len);
    ck_assert_int_eq(len, 6);
    ck_assert_mem_eq(mac, "\x02\x00\x00\x00\x00\x11", 6);
}
END_TEST

START_TEST(test_long_bootargs)
{
    struct gmem gm;
    ck_assert_int_eq(gmem_layout(&gm, 128 * MiB), 0);
    static char args[MEMMAP_CMDLINE_MAX];
    memset(args, 'a', sizeof(args) - 1);
    args[sizeof(args) - 1] = '\0';
    struct machine m;
    machine(&m, &gm, 1);
    ck_assert_int_eq(fdt_build(fdtbuf, sizeof(fdtbuf), &m, args), 0);
    prop_str(fdtbuf, "/chosen", "bootargs", args);
}
END_TEST

/* Every size below the tree's own gives -ENOSPC, in an exact-size heap buffer so that ASan
 * sees any write past it. */
START_TEST(test_too_small_buffer)
{
    struct gmem gm;
    ck_assert_int_eq(gmem_layout(&gm, 6 * GiB), 0);
    struct machine m;
    machine(&m, &gm, 4);
    ck_assert_int_eq(fdt_build(fdtbuf, sizeof(fdtbuf), &m, BOOTARGS), 0);
    size_t need = fdt_totalsize(fdtbuf);
    ck_assert_uint_gt(need, 64);

    size_t first_bad = 0, nbad = 0;
    int bad_ret = 0;
    for (size_t size = 0; size < need; size++) {
        uint8_t *buf = malloc(size ? size : 1);
        LOOP_ASSERT(buf);
        int ret = fdt_build(buf, size, &m, BOOTARGS);
        free(buf);
        if (ret != -ENOSPC && nbad++ == 0) {
            first_bad = size;
            bad_ret = ret;
        }
    }
    ck_assert_msg(nbad == 0,
                  "%zu of %zu too-small sizes did not give -ENOSPC; first: size %zu -> %d", nbad,
                  need, first_bad, bad_ret);

    uint8_t *buf = malloc(need);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(fdt_build(buf, need, &m, BOOTARGS), 0);
    ck_assert_int_eq(fdt_check_header(buf), 0);
    free(buf);
}
END_TEST

START_TEST(test_invalid_machine)
{
    struct gmem gm;
    ck_assert_int_eq(gmem_layout(&gm, 128 * MiB), 0);
    struct machine m;
    machine(&m, &gm, 0);
    ck_assert_int_eq(fdt_build(fdtbuf, sizeof(fdtbuf), &m, BOOTARGS), -EINVAL);
    machine(&m, NULL, 1);
    ck_assert_int_eq(fdt_build(fdtbuf, sizeof(fdtbuf), &m, BOOTARGS), -EINVAL);
    machine(&m, &gm, 1);
    ck_assert_int_eq(fdt_build(fdtbuf, (size_t)INT32_MAX + 1, &m, BOOTARGS), -EINVAL);
}
END_TEST

/* machine_add refuses rows that cannot be described, a full table, and (with a bus) overlaps,
 * with the device's name in the message; a refused row is not in the table. */
START_TEST(test_bad_rows)
{
    static const struct bus_dev_ops ops = {NULL, NULL};
    struct gmem g;
    ck_assert_int_eq(gmem_layout(&g, 128 * MiB), 0);
    struct machine m;
    char err[256];
    machine_init(&m, 1, &g, NULL);
    struct machine_dev pio_virtio = {.bus = {"v", BUS_PIO, 0x100, 0x1000, &ops, NULL, NULL, 0},
                                     .kind = MACHINE_VIRTIO_MMIO, .compat = "virtio,mmio", .irq = 5};
    ck_assert_int_eq(machine_add(&m, &pio_virtio, err, sizeof(err)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "device v"));
    struct machine_dev no_compat = {.bus = {"isa", BUS_PIO, 0x100, 8, &ops, NULL, NULL, 0},
                                    .kind = MACHINE_ISA, .irq = -1};
    ck_assert_int_eq(machine_add(&m, &no_compat, err, sizeof(err)), -EINVAL);
    ck_assert_uint_eq(m.ndevs, 0);
    struct machine_dev hidden = {.bus = {"h", BUS_PIO, 0, 1, &ops, NULL, NULL, 0}, .irq = -1};
    for (unsigned i = 0; i < MACHINE_MAX_DEVS; i++) {
        hidden.bus.base = i;
        ck_assert_int_eq(machine_add(&m, &hidden, err, sizeof(err)), 0);
    }
    ck_assert_int_eq(machine_add(&m, &hidden, err, sizeof(err)), -ENOSPC);

    static struct bus bus;
    bus_init(&bus);
    machine_init(&m, 1, &g, &bus);
    hidden.bus.base = 0x10;
    ck_assert_int_eq(machine_add(&m, &hidden, err, sizeof(err)), 0);
    hidden.bus.name = "again";
    ck_assert_int_eq(machine_add(&m, &hidden, err, sizeof(err)), -EEXIST);
    ck_assert_str_eq(err, "bus: cannot register again at 0x10: File exists");
    ck_assert_uint_eq(m.ndevs, 1);
    ck_assert_uint_eq(bus.ndevs, 1);
}
END_TEST

/* ---- PVH boot structures ---- */

static struct gmem gm;

static void ram_setup(void)
{
    ck_assert_int_eq(gmem_init(&gm, 16 * MiB), 0);
}

static void ram_teardown(void)
{
    gmem_destroy(&gm);
}

static void check_e820(const struct gmem *g, const struct hvm_start_info *si,
                       const struct hvm_memmap_table_entry *want, unsigned n)
{
    ck_assert_uint_eq(si->memmap_paddr, MEMMAP_E820);
    ck_assert_uint_eq(si->memmap_entries, n);
    struct hvm_memmap_table_entry e[8];
    ck_assert_int_eq(gmem_read(g, MEMMAP_E820, e, n * sizeof(e[0])), 0);
    for (unsigned i = 0; i < n; i++) {
        ck_assert_msg(
            e[i].addr == want[i].addr && e[i].size == want[i].size && e[i].type == want[i].type,
            "entry %u: [0x%llx, +0x%llx) type %u, want [0x%llx, +0x%llx) type %u", i,
            (unsigned long long)e[i].addr, (unsigned long long)e[i].size, e[i].type,
            (unsigned long long)want[i].addr, (unsigned long long)want[i].size, want[i].type);
        ck_assert_uint_eq(e[i].reserved, 0);
    }
}

START_TEST(test_boot_info_with_fdt)
{
    struct machine m;
    machine(&m, &gm, 2);
    ck_assert_int_eq(fdt_build(fdtbuf, sizeof(fdtbuf), &m, BOOTARGS), 0);
    size_t fdt_size = fdt_totalsize(fdtbuf);
    const char *cmdline = "console=ttyS0 quiet hello";
    ck_assert_int_eq(pvh_write_boot_info(&gm, cmdline, fdtbuf, fdt_size, 0, 0), 0);

    struct hvm_start_info si;
    ck_assert_int_eq(gmem_read(&gm, MEMMAP_START_INFO, &si, sizeof(si)), 0);
    ck_assert_uint_eq(si.magic, HVM_START_MAGIC_VALUE);
    ck_assert_uint_eq(si.magic, 0x336ec578u);
    ck_assert_uint_eq(si.version, 1);
    ck_assert_uint_eq(si.flags, 0);
    ck_assert_uint_eq(si.rsdp_paddr, 0);
    ck_assert_uint_eq(si.cmdline_paddr, MEMMAP_CMDLINE);
    ck_assert_str_eq((const char *)gmem_ptr(&gm, si.cmdline_paddr, strlen(cmdline) + 1), cmdline);

    static const struct hvm_memmap_table_entry want[] = {
        {0, 0x9fc00, HVM_MEMMAP_TYPE_RAM, 0},
        {0x9fc00, 0x100000 - 0x9fc00, HVM_MEMMAP_TYPE_RESERVED, 0},
        {0x100000, 16 * MiB - 0x100000, HVM_MEMMAP_TYPE_RAM, 0},
    };
    check_e820(&gm, &si, want, 3);

    ck_assert_uint_eq(si.nr_modules, 1);
    ck_assert_uint_eq(si.modlist_paddr, MEMMAP_MODLIST);
    struct hvm_modlist_entry mod;
    ck_assert_int_eq(gmem_read(&gm, si.modlist_paddr, &mod, sizeof(mod)), 0);
    ck_assert_uint_eq(mod.paddr, MEMMAP_FDT);
    ck_assert_uint_eq(mod.size, fdt_size);
    ck_assert_uint_eq(mod.reserved, 0);
    const char *modcmd = gmem_ptr(&gm, mod.cmdline_paddr, sizeof(MINIVMM_FDT_MODULE_CMDLINE));
    ck_assert_ptr_nonnull(modcmd);
    ck_assert_str_eq(modcmd, "minivmm,fdt");
    const void *gfdt = gmem_ptr(&gm, mod.paddr, mod.size);
    ck_assert_ptr_nonnull(gfdt);
    ck_assert_mem_eq(gfdt, fdtbuf, fdt_size);
    ck_assert_int_eq(fdt_check_header(gfdt), 0);
    prop_str(gfdt, "/chosen", "bootargs", BOOTARGS);

    /* The structures do not overlap each other. */
    ck_assert_uint_le(MEMMAP_START_INFO + sizeof(si), MEMMAP_MODLIST);
    ck_assert_uint_le(MEMMAP_FDT + fdt_size, MEMMAP_BOOT_END);
}
END_TEST

START_TEST(test_boot_info_initrd_then_fdt)
{
    /* An initrd is module 0 (Linux takes module 0 as its initrd), the FDT module 1, still
     * tagged with its command line. */
    struct machine m;
    machine(&m, &gm, 1);
    ck_assert_int_eq(fdt_build(fdtbuf, sizeof(fdtbuf), &m, BOOTARGS), 0);
    size_t fdt_size = fdt_totalsize(fdtbuf);
    ck_assert_int_eq(pvh_write_boot_info(&gm, "x", fdtbuf, fdt_size, 12 * MiB, 0x12345), 0);

    struct hvm_start_info si;
    ck_assert_int_eq(gmem_read(&gm, MEMMAP_START_INFO, &si, sizeof(si)), 0);
    ck_assert_uint_eq(si.nr_modules, 2);
    ck_assert_uint_eq(si.modlist_paddr, MEMMAP_MODLIST);
    struct hvm_modlist_entry mod[2];
    ck_assert_int_eq(gmem_read(&gm, si.modlist_paddr, mod, sizeof(mod)), 0);
    ck_assert_uint_eq(mod[0].paddr, 12 * MiB);
    ck_assert_uint_eq(mod[0].size, 0x12345);
    ck_assert_uint_eq(mod[0].cmdline_paddr, 0);
    ck_assert_uint_eq(mod[0].reserved, 0);
    ck_assert_uint_eq(mod[1].paddr, MEMMAP_FDT);
    ck_assert_uint_eq(mod[1].size, fdt_size);
    ck_assert_uint_eq(mod[1].reserved, 0);
    ck_assert_str_eq((const char *)gmem_ptr(&gm, mod[1].cmdline_paddr,
                                            sizeof(MINIVMM_FDT_MODULE_CMDLINE)),
                     MINIVMM_FDT_MODULE_CMDLINE);
    ck_assert_mem_eq(gmem_ptr(&gm, mod[1].paddr, fdt_size), fdtbuf, fdt_size);
    ck_assert_uint_le(MEMMAP_MODLIST + 2 * sizeof(mod[0]), MEMMAP_E820);
    ck_assert_uint_ge(MEMMAP_MODLIST_MAX, 2);

    /* An initrd without an FDT is module 0 alone; one outside RAM is refused. */
    ck_assert_int_eq(pvh_write_boot_info(&gm, "x", NULL, 0, 12 * MiB, 4096), 0);
    ck_assert_int_eq(gmem_read(&gm, MEMMAP_START_INFO, &si, sizeof(si)), 0);
    ck_assert_uint_eq(si.nr_modules, 1);
    ck_assert_int_eq(gmem_read(&gm, si.modlist_paddr, mod, sizeof(mod[0])), 0);
    ck_assert_uint_eq(mod[0].paddr, 12 * MiB);
    ck_assert_uint_eq(mod[0].size, 4096);
    ck_assert_int_eq(pvh_write_boot_info(&gm, "x", fdtbuf, fdt_size, 15 * MiB, 2 * MiB),
                     -EFAULT);
}
END_TEST

START_TEST(test_boot_info_without_fdt)
{
    ck_assert_int_eq(pvh_write_boot_info(&gm, "", NULL, 0, 0, 0), 0);
    struct hvm_start_info si;
    ck_assert_int_eq(gmem_read(&gm, MEMMAP_START_INFO, &si, sizeof(si)), 0);
    ck_assert_uint_eq(si.magic, HVM_START_MAGIC_VALUE);
    ck_assert_uint_eq(si.nr_modules, 0);
    ck_assert_uint_eq(si.modlist_paddr, 0);
    ck_assert_uint_eq(si.memmap_entries, 3);
    ck_assert_uint_eq(gm.host[MEMMAP_CMDLINE], 0);
}
END_TEST

START_TEST(test_boot_info_above_4g)
{
    /* 6 GiB laid out but not allocated: the boot structures all sit below MEMMAP_BOOT_END, so
     * an exact-size buffer stands in for RAM and ASan catches any write above it. */
    struct gmem big;
    ck_assert_int_eq(gmem_layout(&big, 6 * GiB), 0);
    big.host = calloc(1, MEMMAP_BOOT_END);
    ck_assert_ptr_nonnull(big.host);
    ck_assert_int_eq(pvh_write_boot_info(&big, "x", NULL, 0, 0, 0), 0);
    struct hvm_start_info si;
    ck_assert_int_eq(gmem_read(&big, MEMMAP_START_INFO, &si, sizeof(si)), 0);
    static const struct hvm_memmap_table_entry want[] = {
        {0, 0x9fc00, HVM_MEMMAP_TYPE_RAM, 0},
        {0x9fc00, 0x60400, HVM_MEMMAP_TYPE_RESERVED, 0},
        {0x100000, 3 * GiB - 0x100000, HVM_MEMMAP_TYPE_RAM, 0},
        {4 * GiB, 3 * GiB, HVM_MEMMAP_TYPE_RAM, 0},
    };
    check_e820(&big, &si, want, 4);
    free(big.host);
}
END_TEST

START_TEST(test_cmdline_limits)
{
    static char line[MEMMAP_CMDLINE_MAX + 1];
    /* 4095 characters + NUL: fits exactly. */
    memset(line, 'c', MEMMAP_CMDLINE_MAX - 1);
    line[MEMMAP_CMDLINE_MAX - 1] = '\0';
    ck_assert_int_eq(pvh_write_boot_info(&gm, line, NULL, 0, 0, 0), 0);
    ck_assert_uint_eq(gm.host[MEMMAP_CMDLINE + MEMMAP_CMDLINE_MAX - 2], 'c');
    ck_assert_uint_eq(gm.host[MEMMAP_CMDLINE + MEMMAP_CMDLINE_MAX - 1], 0);

    /* One more: -E2BIG, and nothing written (fresh RAM). */
    gmem_destroy(&gm);
    ram_setup();
    memset(line, 'c', MEMMAP_CMDLINE_MAX);
    line[MEMMAP_CMDLINE_MAX] = '\0';
    ck_assert_int_eq(pvh_write_boot_info(&gm, line, NULL, 0, 0, 0), -E2BIG);
    ck_assert_uint_eq(gm.host[MEMMAP_START_INFO], 0);
    ck_assert_uint_eq(gm.host[MEMMAP_CMDLINE], 0);

    /* An FDT larger than its slot. */
    ck_assert_int_eq(pvh_write_boot_info(&gm, "x", fdtbuf, MEMMAP_FDT_MAX + 1, 0, 0), -E2BIG);
    ck_assert_uint_eq(gm.host[MEMMAP_START_INFO], 0);
}
END_TEST

START_TEST(test_boot_info_ram_too_small)
{
    /* A gmem whose RAM ends below the boot structures: -EFAULT, not a wild write. */
    struct gmem tiny;
    ck_assert_int_eq(gmem_layout(&tiny, 16 * MiB), 0);
    tiny.host = calloc(1, 0x8000);
    ck_assert_ptr_nonnull(tiny.host);
    tiny.regions[0].size = 0x8000; /* hand-shrunk: only the GDT, start info and e820 fit */
    ck_assert_int_eq(pvh_write_boot_info(&tiny, "x", NULL, 0, 0, 0), -EFAULT);
    free(tiny.host);
}
END_TEST

/* The GDT descriptor for a selector, read from guest RAM. */
static uint64_t gdt_entry(uint16_t sel)
{
    uint64_t d;
    ck_assert_int_eq(gmem_read(&gm, MEMMAP_GDT + (sel & ~7u), &d, 8), 0);
    return d;
}

/* A descriptor and KVM's cached segment agree (Intel SDM vol. 3 §3.4.5). */
static void check_segment_matches_gdt(const struct kvm_segment *s, const char *what)
{
    uint64_t d = gdt_entry(s->selector);
    uint64_t base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
    uint32_t limit = (uint32_t)((d & 0xffff) | (((d >> 48) & 0xf) << 16));
    unsigned g = (d >> 55) & 1;
    if (g)
        limit = (limit << 12) | 0xfff;
    unsigned type = (d >> 40) & 0xf, sbit = (d >> 44) & 1, dpl = (d >> 45) & 3;
    unsigned p = (d >> 47) & 1, l = (d >> 53) & 1, db = (d >> 54) & 1;
    ck_assert_msg(s->type == type && s->s == sbit && s->present == p && s->dpl == dpl,
                  "%s: type %u S %u P %u DPL %u, but GDT[0x%x] = 0x%016llx has type %u S %u P %u "
                  "DPL %u",
                  what, s->type, s->s, s->present, s->dpl, s->selector, (unsigned long long)d, type,
                  sbit, p, dpl);
    ck_assert_msg(s->base == base && s->limit == limit && s->g == g && s->db == db && s->l == l,
                  "%s: base 0x%llx limit 0x%x G %u D/B %u L %u, but GDT[0x%x] = 0x%016llx has "
                  "base 0x%llx limit 0x%x G %u D/B %u L %u",
                  what, (unsigned long long)s->base, s->limit, s->g, s->db, s->l, s->selector,
                  (unsigned long long)d, (unsigned long long)base, limit, g, db, l);
}

static void check_flat(const struct kvm_segment *s, uint16_t sel, uint8_t type)
{
    ck_assert_uint_eq(s->selector, sel);
    ck_assert_uint_eq(s->base, 0);
    ck_assert_uint_eq(s->limit, 0xffffffffu);
    ck_assert_uint_eq(s->type, type);
    ck_assert_uint_eq(s->present, 1);
    ck_assert_uint_eq(s->dpl, 0);
    ck_assert_uint_eq(s->db, 1);
    ck_assert_uint_eq(s->s, 1);
    ck_assert_uint_eq(s->l, 0);
    ck_assert_uint_eq(s->g, 1);
    ck_assert_uint_eq(s->unusable, 0);
}

START_TEST(test_entry_state)
{
    ck_assert_int_eq(pvh_write_boot_info(&gm, "x", NULL, 0, 0, 0), 0);
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    memset(&regs, 0xcc, sizeof(regs));
    memset(&sregs, 0xcc, sizeof(sregs));
    sregs.apic_base = 0xfee00900;
    sregs.cr3 = 0x1234000;
    pvh_entry_state(0x1000c0, &regs, &sregs);

    ck_assert_uint_eq(regs.rip, 0x1000c0);
    ck_assert_uint_eq(regs.rbx, MEMMAP_START_INFO);
    ck_assert_uint_eq(regs.rbx, 0x6000);
    ck_assert_uint_eq(regs.rflags, 2);
    ck_assert_uint_eq(regs.rax, 0);
    ck_assert_uint_eq(regs.rsp, 0);
    ck_assert_uint_eq(regs.rsi, 0);

    ck_assert_uint_eq(sregs.cr0, 0x11);
    ck_assert_uint_eq(sregs.cr4, 0);
    ck_assert_uint_eq(sregs.efer, 0);
    check_flat(&sregs.cs, PVH_GDT_CODE32, 0xb);
    check_flat(&sregs.ds, PVH_GDT_DATA32, 0x3);
    check_flat(&sregs.es, PVH_GDT_DATA32, 0x3);
    check_flat(&sregs.fs, PVH_GDT_DATA32, 0x3);
    check_flat(&sregs.gs, PVH_GDT_DATA32, 0x3);
    check_flat(&sregs.ss, PVH_GDT_DATA32, 0x3);
    ck_assert_uint_eq(sregs.tr.selector, PVH_GDT_TSS);
    ck_assert_uint_eq(sregs.tr.type, 0xb); /* busy 32-bit TSS */
    ck_assert_uint_eq(sregs.tr.present, 1);
    ck_assert_uint_eq(sregs.tr.s, 0);
    ck_assert_uint_eq(sregs.tr.limit, 0x67);
    ck_assert_uint_eq(sregs.gdt.base, MEMMAP_GDT);
    ck_assert_uint_eq(sregs.gdt.limit, 4 * 8 - 1);

    /* Fields KVM owns keep their values. */
    ck_assert_uint_eq(sregs.apic_base, 0xfee00900);
    ck_assert_uint_eq(sregs.cr3, 0x1234000);

    /* The GDT in guest RAM says the same thing as the hidden segment state, so a reload of a
     * segment register by the guest changes nothing. */
    ck_assert_uint_eq(gdt_entry(0), 0);
    check_segment_matches_gdt(&sregs.cs, "cs");
    check_segment_matches_gdt(&sregs.ds, "ds");
    check_segment_matches_gdt(&sregs.ss, "ss");
    check_segment_matches_gdt(&sregs.tr, "tr");
}
END_TEST

static Suite *fdt_build_suite(void)
{
    Suite *s = suite_create("fdt_build");
    TCase *tc;

    tc = tcase_create("tree describes the machine");
    tcase_add_loop_test(tc, test_tree_contents, 0, N(cpu_counts) * N(mem_sizes));
    tcase_add_test(tc, test_other_uart_and_empty_bootargs);
    tcase_add_test(tc, test_long_bootargs);
    tcase_add_test(tc, test_nics);
    tcase_add_test(tc, test_ne2000_node);
    tcase_add_test(tc, test_bad_rows);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad buffers and machines are refused");
    /* A device tree into every size of buffer below the right one: ~10 ms here. */
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_too_small_buffer);
    tcase_add_test(tc, test_invalid_machine);
    suite_add_tcase(s, tc);

    tc = tcase_create("PVH boot info in guest RAM");
    tcase_add_checked_fixture(tc, ram_setup, ram_teardown);
    tcase_add_test(tc, test_boot_info_with_fdt);
    tcase_add_test(tc, test_boot_info_without_fdt);
    tcase_add_test(tc, test_boot_info_initrd_then_fdt);
    tcase_add_test(tc, test_boot_info_above_4g);
    tcase_add_test(tc, test_cmdline_limits);
    tcase_add_test(tc, test_boot_info_ram_too_small);
    suite_add_tcase(s, tc);

    tc = tcase_create("PVH entry state matches the GDT");
    tcase_add_checked_fixture(tc, ram_setup, ram_teardown);
    tcase_add_test(tc, test_entry_state);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fdt_build_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
