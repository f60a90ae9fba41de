/*
 * minipvh.c: minimal PVH boot on KVM (minipvh.h): VM, RAM, ELF64 segments, start info,
 * entry state. Spec: Xen docs/misc/pvh.pandoc; structures in minivmm/abi.h.
 *
 * What PVH requires and nothing more: no GDT in memory (the entry state is loaded straight
 * into the segment registers' hidden parts; a guest must load its own GDT before reloading a
 * segment, as ours do), no CPUID set-up, no irqchip, no TSS area. RAM comes zeroed from
 * mmap, so .bss needs no clearing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <elf.h>

#include "minipvh.h"
#include "minivmm/abi.h"
#include "minivmm/memmap.h"

const char *minipvh_prog = "minipvh";

void minipvh_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", minipvh_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void minipvh_create_vm(struct minipvh *p, size_t mem_size)
{
    memset(p, 0, sizeof(*p));
    p->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (p->kvm_fd < 0)
        minipvh_die("KVM: cannot open /dev/kvm: %s", strerror(errno));
    p->vm_fd = ioctl(p->kvm_fd, KVM_CREATE_VM, 0);
    if (p->vm_fd < 0)
        minipvh_die("KVM: ioctl (CREATE_VM) failed: %s", strerror(errno));
    p->mem_size = mem_size;
    p->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p->mem == MAP_FAILED)
        minipvh_die("cannot map %zu MiB of guest RAM: %s", mem_size >> 20, strerror(errno));
    struct kvm_userspace_memory_region r = {.slot = 0,
                                            .guest_phys_addr = 0,
                                            .memory_size = mem_size,
                                            .userspace_addr = (uint64_t)(uintptr_t)p->mem};
    if (ioctl(p->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
        minipvh_die("KVM: ioctl (SET_USER_MEMORY_REGION) failed: %s", strerror(errno));
}

/* Guest RAM [gpa, gpa+len) as a host pointer; dies when any of it is outside RAM. */
static void *guest(const struct minipvh *p, uint64_t gpa, uint64_t len)
{
    if (gpa > p->mem_size || len > p->mem_size - gpa)
        minipvh_die("guest range 0x%llx+0x%llx is outside RAM", (unsigned long long)gpa,
                    (unsigned long long)len);
    return p->mem + gpa;
}

/* Finds XEN_ELFNOTE_PHYS32_ENTRY in a PT_NOTE segment; 0 when absent. */
static uint32_t pvh_note(const uint8_t *f, size_t size, const Elf64_Phdr *ph)
{
    if (ph->p_offset > size || ph->p_filesz > size - ph->p_offset)
        return 0;
    const uint8_t *n = f + ph->p_offset, *end = n + ph->p_filesz;
    while (end - n >= (long)sizeof(Elf64_Nhdr)) {
        const Elf64_Nhdr *h = (const Elf64_Nhdr *)n;
        size_t name = (h->n_namesz + 3ull) & ~3ull, desc = (h->n_descsz + 3ull) & ~3ull;
        size_t avail = (size_t)(end - n) - sizeof(*h);
        if (name > avail || desc > avail - name)
            return 0;
        const uint8_t *d = n + sizeof(*h) + name;
        if (h->n_type == XEN_ELFNOTE_PHYS32_ENTRY && h->n_namesz == 4 &&
            memcmp(n + sizeof(*h), "Xen", 4) == 0 && h->n_descsz >= 4) {
            uint32_t e;
            memcpy(&e, d, 4);
            return e;
        }
        n = d + desc;
    }
    return 0;
}

uint32_t minipvh_load(struct minipvh *p, const char *path, const char *cmdline)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        minipvh_die("%s: %s", path, strerror(errno));
    size_t size = (size_t)st.st_size;
    const uint8_t *f = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    close(fd);
    if (f == MAP_FAILED)
        minipvh_die("%s: cannot map the file", path);
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f;
    if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
        eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64 ||
        eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > size ||
        (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > size - eh->e_phoff)
        minipvh_die("%s: not an x86-64 ELF64 file", path);
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(f + eh->e_phoff);
    uint32_t entry = 0;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_NOTE && !entry)
            entry = pvh_note(f, size, &ph[i]);
        if (ph[i].p_type != PT_LOAD)
            continue;
        if (ph[i].p_offset > size || ph[i].p_filesz > size - ph[i].p_offset ||
            ph[i].p_filesz > ph[i].p_memsz || ph[i].p_paddr < MEMMAP_BOOT_END)
            minipvh_die("%s: bad PT_LOAD segment %u", path, i);
        guest(p, ph[i].p_paddr, ph[i].p_memsz); /* the whole segment must fit */
        memcpy(guest(p, ph[i].p_paddr, ph[i].p_filesz), f + ph[i].p_offset, ph[i].p_filesz);
    }
    munmap((void *)f, size);
    if (!entry)
        minipvh_die("%s: no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)", path);

    /* Start info, command line and a memory map (Linux refuses PVH without one). */
    size_t len = strlen(cmdline) + 1;
    if (len > MEMMAP_CMDLINE_MAX)
        minipvh_die("command line longer than %d bytes", MEMMAP_CMDLINE_MAX - 1);
    memcpy(guest(p, MEMMAP_CMDLINE, len), cmdline, len);
    const struct hvm_memmap_table_entry map[] = {
        {0, MEMMAP_EBDA_START, HVM_MEMMAP_TYPE_RAM, 0},
        {MEMMAP_EBDA_START, MEMMAP_HIMEM_START - MEMMAP_EBDA_START, HVM_MEMMAP_TYPE_RESERVED, 0},
        {MEMMAP_HIMEM_START, p->mem_size - MEMMAP_HIMEM_START, HVM_MEMMAP_TYPE_RAM, 0},
    };
    memcpy(guest(p, MEMMAP_E820, sizeof(map)), map, sizeof(map));
    const struct hvm_start_info si = {.magic = HVM_START_MAGIC_VALUE,
                                      .version = 1,
                                      .cmdline_paddr = MEMMAP_CMDLINE,
                                      .memmap_paddr = MEMMAP_E820,
                                      .memmap_entries = 3};
    memcpy(guest(p, MEMMAP_START_INFO, sizeof(si)), &si, sizeof(si));
    return entry;
}

static void flat(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
    *s = (struct kvm_segment){.base = 0,
                              .limit = 0xffffffff,
                              .selector = sel,
                              .type = type,
                              .present = 1,
                              .db = 1,
                              .s = 1,
                              .g = 1};
}

void minipvh_create_vcpu(struct minipvh *p, uint32_t entry)
{
    p->vcpu_fd = ioctl(p->vm_fd, KVM_CREATE_VCPU, 0ul);
    if (p->vcpu_fd < 0)
        minipvh_die("KVM: ioctl (CREATE_VCPU) failed: %s", strerror(errno));
    int sz = ioctl(p->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (sz < (int)sizeof(struct kvm_run))
        minipvh_die("KVM: bad KVM_GET_VCPU_MMAP_SIZE");
    p->run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, p->vcpu_fd, 0);
    if (p->run == MAP_FAILED)
        minipvh_die("KVM: cannot map the vCPU's run area: %s", strerror(errno));

    /* pvh.pandoc: flat 32-bit CS (execute/read) and data segments, TR a 32-bit TSS with base
     * 0 and limit 0x67, CR0 = PE, CR4 = 0, EFER = 0, EBX = start info, EIP = entry. */
    struct kvm_sregs s;
    if (ioctl(p->vcpu_fd, KVM_GET_SREGS, &s) < 0)
        minipvh_die("KVM: ioctl (GET_SREGS) failed: %s", strerror(errno));
    flat(&s.cs, 0x08, 0xb);
    flat(&s.ds, 0x10, 0x3);
    s.es = s.fs = s.gs = s.ss = s.ds;
    s.tr = (struct kvm_segment){.limit = 0x67, .selector = 0x18, .type = 0xb, .present = 1};
    s.cr0 = 0x11; /* PE | ET */
    s.cr4 = 0;
    s.efer = 0;
    struct kvm_regs r = {.rip = entry, .rbx = MEMMAP_START_INFO, .rflags = 2};
    if (ioctl(p->vcpu_fd, KVM_SET_SREGS, &s) < 0 || ioctl(p->vcpu_fd, KVM_SET_REGS, &r) < 0)
        minipvh_die("KVM: setting the vCPU's registers failed: %s", strerror(errno));
}
