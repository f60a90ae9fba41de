#!/usr/bin/env python3
"""gen.py BUILD_DIR STAMP: writes the seed corpus of every fuzz target (docs/fuzzing.md).

Seeds go to BUILD_DIR/seeds/<target>/<name>; BUILD_DIR/seeds/<target>.expect lists, one line
per seed, "<name>\t<text>": a trace line (MINIVMM_FUZZ_TRACE, fuzz/fuzz.h) that the harness
must print for that seed, which check_seeds.py verifies. BUILD_DIR/work/<target>/ (the corpus
that fuzzing grows) and BUILD_DIR/artifacts/ are created when missing. STAMP is touched last.

Each seed is built from the formats' specifications, as the harness reads them: a PVH ELF64 and
ELF32 and a bzImage (boot protocol 2.15) for the loader, exit logs after src/exitlog.h, command
lines, control-socket sessions, and device programs after fuzz/fuzz_devices.c (a virtio-net
driver bring-up and a TX through the switch, an NE2000 transmit, the 16550, RTC, i8042, ACPI PM
and IOAPIC registers).
"""
import os
import struct
import sys

build, stamp = sys.argv[1], sys.argv[2]
seeds = {}  # target -> list of (name, bytes, expected trace text)


def seed(target, name, data, expect):
    seeds.setdefault(target, []).append((name, bytes(data), expect))


# ---- elf_loader -------------------------------------------------------------------------

def pvh_elf(elfclass, load=0x100000, with_note=True, bss=0x2000):
    """A PVH kernel: a text PT_LOAD at `load`, a PT_NOTE with the Xen PVH entry note."""
    code = bytes([0xB0, 0x00, 0x66, 0xBA, 0x01, 0x05, 0xEE, 0xF4]).ljust(0x40, b"\x90")
    code_off = 0x400
    note = struct.pack("<III", 4, 4, 18) + b"Xen\0" + struct.pack("<I", load) if with_note else b""
    phnum = 2 if note else 1
    if elfclass == 64:
        ehsize, phentsize = 64, 56
        note_off = ehsize + phnum * phentsize
        eh = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
        eh += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, load, ehsize, 0, 0, ehsize, phentsize,
                          phnum, 0, 0, 0)
        ph = struct.pack("<IIQQQQQQ", 1, 5, code_off, load, load, len(code), len(code) + bss,
                         0x1000)
        if note:
            ph += struct.pack("<IIQQQQQQ", 4, 4, note_off, 0, 0, len(note), len(note), 4)
    else:
        ehsize, phentsize = 52, 32
        note_off = ehsize + phnum * phentsize
        eh = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)
        eh += struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, load, ehsize, 0, 0, ehsize, phentsize,
                          phnum, 0, 0, 0)
        ph = struct.pack("<IIIIIIII", 1, code_off, load, load, len(code), len(code) + bss, 5,
                         0x1000)
        if note:
            ph += struct.pack("<IIIIIIII", 4, note_off, 0, 0, len(note), len(note), 4, 4)
    return (eh + ph + note).ljust(code_off, b"\0") + code


def bzimage(version=0x020F, pref=0x200000, init_size=0x400000, setup_sects=1, pm=0x400):
    """A bzImage after Linux's Documentation/arch/x86/boot.rst (as tests/unit/test_bzimage.c)."""
    setup = (setup_sects + 1) * 512
    img = bytearray(setup + pm)
    img[0x1F1] = setup_sects
    struct.pack_into("<I", img, 0x1F4, pm // 16)       # syssize
    struct.pack_into("<H", img, 0x1FE, 0xAA55)         # boot_flag
    img[0x200:0x202] = b"\xeb\x6a"                      # jmp over the header
    img[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", img, 0x206, version)
    img[0x211] = 0x01                                   # loadflags: LOADED_HIGH
    struct.pack_into("<I", img, 0x214, 0x100000)       # code32_start
    struct.pack_into("<I", img, 0x22C, 0x7FFFFFFF)     # initrd_addr_max
    struct.pack_into("<I", img, 0x230, 0x200000)       # kernel_alignment
    img[0x234] = 1                                      # relocatable_kernel
    struct.pack_into("<H", img, 0x236, 0x0003)         # XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G
    struct.pack_into("<I", img, 0x238, 2047)           # cmdline_size
    struct.pack_into("<Q", img, 0x258, pref)           # pref_address
    struct.pack_into("<I", img, 0x260, init_size)      # init_size
    for i in range(pm):
        img[setup + i] = (i * 7 + 1) & 0xFF
    return bytes(img)


seed("elf_loader", "pvh-elf64", pvh_elf(64), "pvh loaded: ELF64 entry 0x100000 segments 1")
seed("elf_loader", "pvh-elf32", pvh_elf(32), "pvh loaded: ELF32 entry 0x100000 segments 1")
seed("elf_loader", "pvh-elf64-high", pvh_elf(64, load=0xC00000),
     "pvh loaded: ELF64 entry 0xc00000")
seed("elf_loader", "pvh-no-note", pvh_elf(64, with_note=False), "refused (-8): no PVH entry note")
seed("elf_loader", "pvh-outside-ram", pvh_elf(64, load=0x4000000), "lies outside guest RAM")
seed("elf_loader", "bzimage-2.15", bzimage(), "bzimage loaded: version 0x020f load 0x200000")
seed("elf_loader", "bzimage-2.12-1mib", bzimage(version=0x020C, pref=0),
     "bzimage loaded: version 0x020c load 0x100000")
seed("elf_loader", "bzimage-too-old", bzimage(version=0x0206), "refused")
seed("elf_loader", "not-a-kernel", b"hello, world\n" * 8, "not an ELF file nor a bzImage")

# ---- exitlog ----------------------------------------------------------------------------

def name(s, n):
    return s.encode().ljust(n, b"\0")[:n]


def exitlog(records, ncpus=2, devs=None):
    """A log after src/exitlog.h: header, bus map, then the records."""
    if devs is None:
        devs = [(0, 0x3F8, 8, "serial", [(0, "RBR", "THR"), (5, "LSR", None)]),
                (1, 0xFEB00000, 0x1000, "virtio", [(0x50, None, "QueueNotify")])]
    body = b""
    for space, base, size, dname, regs in devs:
        body += struct.pack("<BBHQQ", space, len(regs), 0, base, size) + name(dname, 24)
        for off, rd, wr in regs:
            body += struct.pack("<I", off) + name(rd or "", 16) + name(wr or "", 16)
    hdr_bytes = 32 + len(body)
    hdr = b"MVMMXLOG" + struct.pack("<IIQII", 1, hdr_bytes, 1700000000000000000, ncpus, len(devs))
    return hdr + body + b"".join(records)


def rec_exit(t, vcpu, reason, addr=0, size=0, dir_=0, space=255, flags=0, value=0, handle=500):
    return struct.pack("<HHQIIQBBBBQQ", 1, 48, t, vcpu, reason, addr, size, dir_, space, flags,
                       value, handle)


def rec_marker(t, vcpu, code):
    return struct.pack("<HHQIII", 2, 24, t, vcpu, code, 0)


def rec_stat(t, vcpu, sname, value):
    return struct.pack("<HHQI", 3, 72, t, vcpu) + name(sname, 48) + struct.pack("<Q", value)


KVM_EXIT_IO, KVM_EXIT_HLT, KVM_EXIT_MMIO = 2, 5, 6
recs = [rec_marker(0, 0, 1), rec_marker(1000, 0, 2)]
for i in range(24):
    t = 2000 + i * 1700
    recs.append(rec_exit(t, i % 2, KVM_EXIT_IO, 0x3F8, 1, 2, 0, 0, 0x41 + i, 300 + 10 * i))
    recs.append(rec_exit(t + 50, i % 2, KVM_EXIT_MMIO, 0xFEB00050, 4, 2, 1, 0, 1, 900))
recs.append(rec_exit(50000, 1, KVM_EXIT_IO, 0x80, 1, 2, 0, 1, 5, 100))  # no device claims it
recs.append(rec_exit(60000, 0, KVM_EXIT_HLT))
recs.append(rec_marker(70000, 0, 7))
recs += [rec_stat(80000, v, "exits", 100 + v) for v in range(2)]
recs += [rec_stat(80000, v, "io_exits", 50 + v) for v in range(2)]
REPORTS = ["table", "csv timeline 1us", "json filtered", "table device timeline 1ns"]
n = len(recs)


def log_for(report):
    """The log with a record of a type from a later version, sized so that the harness (which
    picks its report by the input's size modulo 4) makes `report` of it."""
    for pad in range(4):
        log = exitlog(recs + [struct.pack("<HH", 99, 8 + pad) + b"\0" * (4 + pad)])
        if REPORTS[len(log) % 4] == report:
            return log


seed("exitlog", "log-table", log_for("table"),
     f"table: {n} records, 2 vCPUs, 2 devices, truncated 0, print 0")
seed("exitlog", "log-csv-timeline", log_for("csv timeline 1us"),
     f"csv timeline 1us: {n} records, 2 vCPUs, 2 devices, truncated 0, print 0")
seed("exitlog", "log-json-filters", log_for("json filtered"),
     f"json filtered: {n} records, 2 vCPUs, 2 devices, truncated 0, print 0")
seed("exitlog", "log-device-filter", log_for("table device timeline 1ns"),
     f"table device timeline 1ns: {n} records, 2 vCPUs, 2 devices, truncated 0, print 0")
seed("exitlog", "log-truncated", log_for("table")[:-30], "truncated 1")
seed("exitlog", "log-empty", exitlog([]), "0 records, 2 vCPUs, 2 devices")
seed("exitlog", "log-bad-vcpu", exitlog([rec_exit(10, 7, KVM_EXIT_HLT)]), "vCPU 7")
seed("exitlog", "not-a-log", b"MVMMXLOG" + b"\xff" * 40, "not supported")

# ---- cli --------------------------------------------------------------------------------

SEL_NIC, SEL_VF_VALUE, SEL_MAC, SEL_SIZE, SEL_TIME, SEL_BUILD, SEL_EXITS_ARGS = range(7)


def cli(sel, text):
    return bytes([sel]) + text.encode()


seed("cli", "nic-full", cli(SEL_NIC, "vfs=2,uplink=sink,mac=02:00:00:00:10:00,notify=exit,"
                                     "event_idx=off,vf1.vlan=10,vf0.trust=on,vf0.spoofchk=off,"
                                     "vf1.state=disable,vf1.max_tx_rate=100,ne2000=on,"
                                     "ne2000.port=0x320,ne2000.irq=5"),
     "nic: vfs 2 uplink 0 ne2000 1")
seed("cli", "nic-pcap", cli(SEL_NIC, "vfs=8,uplink=pcap:/tmp/x.pcap,vf7.pcap=/tmp/v.pcap"),
     "nic: vfs 8 uplink 1")
seed("cli", "nic-dgram", cli(SEL_NIC, "vfs=1,uplink=dgram:4000:4001"), "nic: vfs 1 uplink 2")
seed("cli", "nic-tap", cli(SEL_NIC, "vfs=1,uplink=tap:tap0,vf0.mac=02:aa:bb:cc:dd:ee"),
     "nic: vfs 1 uplink 3")
seed("cli", "nic-clash", cli(SEL_NIC, "vfs=2,mac=02:00:00:00:00:00,vf0.mac=02:00:00:00:00:02,"
                                      "ne2000=on"), "nic: refused")
seed("cli", "vf-value", cli(SEL_VF_VALUE, "vlan=100"), "vf value: vlan=100: 0")
seed("cli", "vf-value-rate", cli(SEL_VF_VALUE, "max_tx_rate=1000"), "vf value: max_tx_rate=1000: 0")
seed("cli", "mac", cli(SEL_MAC, "02:AA:bb:cc:dd:ee"), "mac: 0")
seed("cli", "size", cli(SEL_SIZE, "128M"), "size: 134217728")
seed("cli", "size-gib", cli(SEL_SIZE, "4GiB"), "size: 4294967296")
seed("cli", "time-ms", cli(SEL_TIME, "10ms"), "duration: 10000000 ns")
seed("cli", "time-s", cli(SEL_TIME, "0.000000001"), "duration: 1 ns")
seed("cli", "reason", cli(SEL_TIME, "kvm_exit_hlt"), "reason: 0")
seed("cli", "cmdline", cli(SEL_BUILD, "console=ttyS0\nhello\nnet.ping=10.0.2.2"), "cmdline: 37")
seed("cli", "exits-args", cli(SEL_EXITS_ARGS, "x.log\n--vcpu\n1\n--reason\nio\n--device\nserial\n"
                                             "--format\njson\n--timeline\n1ms\n--since\n0.5\n"
                                             "--until\n2s\n--plot\nx.png"), "exits args: 0")
seed("cli", "exits-help", cli(SEL_EXITS_ARGS, "-h"), "exits args: 1")

# ---- ctl --------------------------------------------------------------------------------

def ctl(cut, lines):
    return bytes([cut]) + "".join(line + "\n" for line in lines).encode()


seed("ctl", "vf-list", ctl(5, ['{"cmd":"vf list"}']), 'reply ok=1: {"ok":true,"vfs":[')
seed("ctl", "vf-set", ctl(0, ['{"cmd":"vf set","vf":1,"key":"vlan","value":"10"}',
                              '{"cmd":"vf set","vf":2,"trust":true,"spoofchk":false,'
                              '"max_tx_rate":100,"mac":"02:00:00:00:00:09"}',
                              '{"cmd":"vf list"}']),
     'reply ok=1: {"ok":true,"applied":4}')
seed("ctl", "vf-set-bad", ctl(9, ['{"cmd":"vf set","vf":9,"key":"vlan","value":"10"}',
                                  '{"cmd":"vf set","vf":0,"key":"vlan","value":"x\u00e9\\u00e9"}']),
     "reply ok=0")
seed("ctl", "pause-resume", ctl(3, ['{"cmd":"pause"}', '  ', '{"cmd":"status"}',
                                    '{"cmd":"resume"}', '{"cmd":"stop"}', '{"cmd":"pause"}']),
     'reply ok=1: {"ok":true,"state":"paused"')
seed("ctl", "bad-json", ctl(1, ['{"cmd":', '[1,2]', '{"cmd":"nope"}', '{"cmd":"status","x":null}',
                                '{"a":"\\ud83d\\ude00","b":-9223372036854775808,'
                                '"c":18446744073709551615,"cmd":"status"}']),
     "reply ok=0")
seed("ctl", "oversized", ctl(200, ['{"cmd":"status","pad":"' + "x" * 5000 + '"}',
                                   '{"cmd":"status"}']), "line oversized")

# ---- devices ----------------------------------------------------------------------------

OP_PIO_WRITE, OP_PIO_READ, OP_MMIO_WRITE, OP_MMIO_READ, OP_MEM, OP_UPLINK_RX, OP_CONSOLE_IN, \
    OP_KICK, OP_EOI, OP_HOST, OP_DESC, OP_AVAIL = range(12)
PIO_SERIAL, PIO_RTC, PIO_I8042_DATA, PIO_I8042_STATUS, PIO_ACPI_PM, PIO_NE2000 = range(6)
MMIO_VF0, MMIO_VF1, MMIO_IOAPIC = range(3)
SIZE = {1: 0, 2: 1, 4: 2, 8: 3}


class Prog:
    def __init__(self, event_idx=False):
        self.b = bytearray([1 if event_idx else 0])

    def pio_w(self, dev, off, val, size=1):
        self.b += bytes([OP_PIO_WRITE, dev]) + struct.pack("<HB", off, SIZE[size])
        self.b += val.to_bytes(size, "little")

    def pio_r(self, dev, off, size=1):
        self.b += bytes([OP_PIO_READ, dev]) + struct.pack("<HB", off, SIZE[size])

    def mmio_w(self, dev, off, val, size=4):
        self.b += bytes([OP_MMIO_WRITE, dev]) + struct.pack("<HB", off, SIZE[size])
        self.b += val.to_bytes(size, "little")

    def mmio_r(self, dev, off, size=4):
        self.b += bytes([OP_MMIO_READ, dev]) + struct.pack("<HB", off, SIZE[size])

    def mem(self, gpa, data):
        for i in range(0, len(data), 255):
            chunk = data[i:i + 255]
            self.b += bytes([OP_MEM]) + struct.pack("<HB", gpa + i, len(chunk)) + chunk

    def uplink(self, frame):
        self.b += bytes([OP_UPLINK_RX]) + struct.pack("<H", len(frame)) + frame

    def console(self, data):
        self.b += bytes([OP_CONSOLE_IN, len(data)]) + data

    def kick(self, vf):
        self.b += bytes([OP_KICK, vf])

    def eoi(self, vector):
        self.b += bytes([OP_EOI, vector])

    def host(self, what, v):
        self.b += bytes([OP_HOST, what, v])

    def desc(self, vf, q, idx, addr, length, flags, nxt):
        self.b += bytes([OP_DESC, vf, q, idx]) + struct.pack("<HHBB", addr, length, flags, nxt)

    def avail(self, vf, q, head):
        self.b += bytes([OP_AVAIL, vf, q, head])


# virtio-mmio registers (include/minivmm/virtio.h) and the layout of one VF's rings in RAM.
STATUS, DFSEL, DRFEAT, DRFSEL, QSEL, QNUM, QREADY, QNOTIFY, QDESC, QAVAIL, QUSED = \
    0x70, 0x14, 0x20, 0x24, 0x30, 0x38, 0x44, 0x50, 0x80, 0x90, 0xA0
INT_ACK = 0x64
S_ACK, S_DRV, S_FEAT_OK, S_DRV_OK = 1, 2, 8, 4
QN = 8
VF_MAC = [bytes([2, 0, 0, 0, 0x10, k]) for k in range(2)]
NE_MAC = bytes([2, 0, 0, 0, 0x10, 2])


def ring(vf, q):  # 0x1000 per queue: desc at +0, avail at +0x400, used at +0x800
    return 0x1000 + (vf * 3 + q) * 0x1000


def buf(vf, q, i):
    return 0x8000 + (vf * 3 + q) * 0x1000 + i * 0x200


def vf_up(p, vf, features=(1 << 32) | (1 << 5) | (1 << 16)):
    """Linux's virtio_net probe in short: status, features (VERSION_1, MAC, STATUS), 3 queues."""
    p.mmio_w(vf, STATUS, 0)
    p.mmio_w(vf, STATUS, S_ACK)
    p.mmio_w(vf, STATUS, S_ACK | S_DRV)
    p.mmio_w(vf, DRFSEL, 0)
    p.mmio_w(vf, DRFEAT, features & 0xFFFFFFFF)
    p.mmio_w(vf, DRFSEL, 1)
    p.mmio_w(vf, DRFEAT, features >> 32)
    p.mmio_w(vf, STATUS, S_ACK | S_DRV | S_FEAT_OK)
    for q in range(3):
        base = ring(vf, q)
        p.mmio_w(vf, QSEL, q)
        p.mmio_w(vf, QNUM, QN)
        p.mmio_w(vf, QDESC, base)
        p.mmio_w(vf, QDESC + 4, 0)
        p.mmio_w(vf, QAVAIL, base + 0x400)
        p.mmio_w(vf, QAVAIL + 4, 0)
        p.mmio_w(vf, QUSED, base + 0x800)
        p.mmio_w(vf, QUSED + 4, 0)
        p.mmio_w(vf, QREADY, 1)
    p.mmio_w(vf, STATUS, S_ACK | S_DRV | S_FEAT_OK | S_DRV_OK)


def ioapic_unmask(p, pins):
    """Redirection entries: vector 0x20 + pin, fixed, to APIC 0; pins 9 and up level-triggered."""
    for pin in pins:
        p.mmio_w(MMIO_IOAPIC, 0x00, 0x10 + 2 * pin)
        p.mmio_w(MMIO_IOAPIC, 0x10, 0x20 + pin | (0x8000 if pin >= 9 else 0))
        p.mmio_w(MMIO_IOAPIC, 0x00, 0x11 + 2 * pin)
        p.mmio_w(MMIO_IOAPIC, 0x10, 0)


def desc(addr, length, flags, nxt):
    return struct.pack("<QIHH", addr, length, flags, nxt)


def post(p, vf, q, chains, avail_idx=0):
    """Writes descriptor chains (lists of (addr, len, writable)) and the avail ring."""
    base = ring(vf, q)
    table = b""
    heads = []
    i = 0
    for chain in chains:
        heads.append(i)
        for k, (addr, length, w) in enumerate(chain):
            flags = (2 if w else 0) | (1 if k + 1 < len(chain) else 0)
            table += desc(addr, length, flags, i + 1)
            i += 1
    p.mem(base, table)
    avail = struct.pack("<HH", 0, avail_idx + len(heads)) + b"".join(
        struct.pack("<H", h) for h in heads)
    p.mem(base + 0x400, avail)


def frame(dst, src, payload=b"fuzz seed frame ", ethertype=b"\x08\x00"):
    return (dst + src + ethertype + payload * 4)[:60].ljust(60, b"\0")


# 1. Both VFs up, vf1 posts RX buffers, vf0 transmits to vf1 and broadcasts: through the switch.
p = Prog()
ioapic_unmask(p, (16, 17))
vf_up(p, 0)
vf_up(p, 1)
post(p, 1, 0, [[(buf(1, 0, i), 0x200, True)] for i in range(4)])
p.mmio_w(1, QNOTIFY, 0)
f1 = frame(VF_MAC[1], VF_MAC[0])
fb = frame(b"\xff" * 6, VF_MAC[0])
p.mem(buf(0, 1, 0), bytes(12))
p.mem(buf(0, 1, 0) + 0x10, f1)
p.mem(buf(0, 1, 1), bytes(12) + fb)
post(p, 0, 1, [[(buf(0, 1, 0), 12, False), (buf(0, 1, 0) + 0x10, len(f1), False)],
               [(buf(0, 1, 1), 12 + len(fb), False)]])
p.mmio_w(0, QNOTIFY, 1)
p.mmio_r(1, 0x60)
p.mmio_w(1, INT_ACK, 1)
p.eoi(0x31)
p.mmio_r(0, 0x100, 4)  # config: MAC
p.mmio_r(0, 0x106, 2)  # config: status
seed("devices", "virtio-tx-through-switch", p.b, "vf0 tx_frames 2 rx_frames 0")
seed("devices", "virtio-rx-from-vf0", p.b, "vf1 tx_frames 0 rx_frames 2")
seed("devices", "virtio-interrupts", p.b, "ioapic delivered 2")

# 2. The same with EVENT_IDX and a frame from the uplink, processed by a worker kick.
p = Prog(event_idx=True)
ioapic_unmask(p, (16,))
vf_up(p, 0, (1 << 32) | (1 << 5) | (1 << 16) | (1 << 29) | (1 << 28) | (1 << 15))
post(p, 0, 0, [[(buf(0, 0, i), 0x200, True)] for i in range(4)])
p.kick(0)
p.uplink(frame(VF_MAC[0], b"\x02\xdd\xdd\xdd\xdd\x01"))
p.uplink(frame(b"\xff" * 6, b"\x02\xdd\xdd\xdd\xdd\x01"))
p.host(0, 0)     # link down and up again: a config change
p.host(0, 0x80)
p.host(1, 0x81)  # vf1 in VLAN 10
seed("devices", "virtio-event-idx-uplink", p.b, "vf0 tx_frames 0 rx_frames 2")

# 3. The control queue: VIRTIO_NET_CTRL_RX promisc on (refused for an untrusted VF, still used).
p = Prog()
vf_up(p, 0, (1 << 32) | (1 << 5) | (1 << 17) | (1 << 18) | (1 << 23))
p.mem(buf(0, 2, 0), bytes([0, 0, 1]))  # class RX, cmd PROMISC, on: refused (untrusted)
p.mem(buf(0, 2, 1), bytes([0, 1, 1]))  # class RX, cmd ALLMULTI, on
post(p, 0, 2, [[(buf(0, 2, 0), 3, False), (buf(0, 2, 0) + 0x100, 1, True)],
               [(buf(0, 2, 1), 3, False), (buf(0, 2, 1) + 0x100, 1, True)]])
p.mmio_w(0, QNOTIFY, 2)
seed("devices", "virtio-ctrl", p.b, "vf0 tx_frames 0 rx_frames 0 ctrl_ok 1 ctrl_err 1")

# 3b. The same commands through the descriptor and avail operations, and a TX chain of three.
p = Prog()
vf_up(p, 0, (1 << 32) | (1 << 5) | (1 << 17) | (1 << 18) | (1 << 23))
p.mem(buf(0, 2, 0), bytes([0, 1, 1]))
p.desc(0, 2, 0, buf(0, 2, 0), 3, 1, 1)
p.desc(0, 2, 1, buf(0, 2, 0) + 0x100, 1, 2, 0)
p.avail(0, 2, 0)
p.mmio_w(0, QNOTIFY, 2)
f2 = frame(b"\xff" * 6, VF_MAC[0])
p.mem(buf(0, 1, 0), bytes(12) + f2)
p.desc(0, 1, 0, buf(0, 1, 0), 6, 1, 1)
p.desc(0, 1, 1, buf(0, 1, 0) + 6, 6, 1, 2)
p.desc(0, 1, 2, buf(0, 1, 0) + 12, len(f2), 0, 0)
p.avail(0, 1, 0)
p.kick(0)
seed("devices", "virtio-desc-ops", p.b, "vf0 tx_frames 1 rx_frames 0 ctrl_ok 1 ctrl_err 0")

# 4. NE2000: reset, init as Linux's ne.c does, remote-DMA a frame in, transmit it to vf0.
p = Prog()
ioapic_unmask(p, (9, 16))
vf_up(p, 0)
post(p, 0, 0, [[(buf(0, 0, i), 0x200, True)] for i in range(2)])
p.mmio_w(0, QNOTIFY, 0)
NE = PIO_NE2000
p.pio_r(NE, 0x1F)            # reset port
p.pio_w(NE, 0x00, 0x21)      # CR: STP, abort DMA
p.pio_w(NE, 0x0E, 0x49)      # DCR: word, 8-byte FIFO
p.pio_w(NE, 0x0A, 0)
p.pio_w(NE, 0x0B, 0)
p.pio_w(NE, 0x0C, 0x04)      # RCR: broadcast
p.pio_w(NE, 0x0D, 0x02)      # TCR: loopback for now
p.pio_w(NE, 0x01, 0x46)      # PSTART
p.pio_w(NE, 0x02, 0x80)      # PSTOP
p.pio_w(NE, 0x03, 0x46)      # BNRY
p.pio_w(NE, 0x07, 0xFF)      # ISR: clear
p.pio_w(NE, 0x0F, 0x3F)      # IMR
p.pio_w(NE, 0x00, 0x61)      # CR: page 1, STP
for i in range(6):
    p.pio_w(NE, 0x01 + i, NE_MAC[i])  # PAR
p.pio_w(NE, 0x07, 0x47)      # CURR
p.pio_w(NE, 0x00, 0x22)      # CR: page 0, STA
p.pio_w(NE, 0x0D, 0x00)      # TCR: normal
ff = frame(VF_MAC[0], NE_MAC)
p.pio_w(NE, 0x0A, len(ff) & 0xFF)  # RBCR
p.pio_w(NE, 0x0B, len(ff) >> 8)
p.pio_w(NE, 0x08, 0x00)      # RSAR: 0x4000
p.pio_w(NE, 0x09, 0x40)
p.pio_w(NE, 0x00, 0x12)      # CR: remote write, STA
for i in range(0, len(ff), 2):
    p.pio_w(NE, 0x10, ff[i] | ff[i + 1] << 8, 2)
p.pio_r(NE, 0x07)            # ISR: RDC
p.pio_w(NE, 0x04, 0x40)      # TPSR
p.pio_w(NE, 0x05, len(ff) & 0xFF)
p.pio_w(NE, 0x06, len(ff) >> 8)
p.pio_w(NE, 0x00, 0x26)      # CR: TXP
p.uplink(frame(b"\xff" * 6, b"\x02\xdd\xdd\xdd\xdd\x01"))  # into the NE2000's ring
p.pio_r(NE, 0x07)
p.pio_w(NE, 0x07, 0xFF)
p.eoi(0x29)
seed("devices", "ne2000-tx", p.b, "ne2000 tx_packets 1 rx_packets 1")

# 5. The 16550, the RTC, the i8042, the ACPI PM and the IOAPIC registers.
p = Prog()
p.pio_w(PIO_SERIAL, 3, 0x80)  # LCR: DLAB
p.pio_w(PIO_SERIAL, 0, 0x01)  # DLL
p.pio_w(PIO_SERIAL, 1, 0x00)  # DLM
p.pio_w(PIO_SERIAL, 3, 0x03)  # 8N1
p.pio_w(PIO_SERIAL, 2, 0xC7)  # FCR
p.pio_w(PIO_SERIAL, 4, 0x0B)  # MCR: DTR RTS OUT2
p.pio_w(PIO_SERIAL, 1, 0x0F)  # IER
for c in b"hi\n":
    p.pio_w(PIO_SERIAL, 0, c)
p.console(b"typed\r")
for _ in range(3):
    p.pio_r(PIO_SERIAL, 5)
    p.pio_r(PIO_SERIAL, 0)
p.pio_r(PIO_SERIAL, 2)
p.pio_w(PIO_SERIAL, 4, 0x1B)  # loopback
p.pio_w(PIO_SERIAL, 0, 0x55)
p.pio_r(PIO_SERIAL, 0)
for reg in (0x0A, 0x0B, 0x0C, 0x0D, 0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32, 0x40):
    p.pio_w(PIO_RTC, 0, reg)
    p.pio_r(PIO_RTC, 1)
p.pio_w(PIO_RTC, 0, 0x0B)
p.pio_w(PIO_RTC, 1, 0x82)     # SET, 24 h
p.pio_w(PIO_RTC, 0, 0x00)
p.pio_w(PIO_RTC, 1, 0x30)
p.pio_w(PIO_RTC, 0, 0x0B)
p.pio_w(PIO_RTC, 1, 0x02)
p.pio_w(PIO_I8042_STATUS, 0, 0xAA)  # self test
p.pio_r(PIO_I8042_STATUS, 0)
p.pio_r(PIO_I8042_DATA, 0)
p.pio_w(PIO_I8042_STATUS, 0, 0x60)  # write CTR
p.pio_w(PIO_I8042_DATA, 0, 0x47)
p.pio_w(PIO_I8042_STATUS, 0, 0x20)
p.pio_r(PIO_I8042_DATA, 0)
p.pio_w(PIO_I8042_STATUS, 0, 0xD3)  # aux loopback
p.pio_w(PIO_I8042_DATA, 0, 0x99)
p.pio_r(PIO_I8042_DATA, 0)
p.pio_w(PIO_I8042_STATUS, 0, 0xFE)  # pulse reset
p.pio_r(PIO_ACPI_PM, 1)
p.pio_w(PIO_ACPI_PM, 2, 0x01)       # reset register
p.pio_w(PIO_ACPI_PM, 0, 0x20 | (5 << 2))  # SLP_EN, S5
ioapic_unmask(p, (4, 9, 16))  # the serial, NE2000 and vf0 pins
p.mmio_w(MMIO_IOAPIC, 0x00, 0x01)
p.mmio_r(MMIO_IOAPIC, 0x10)
p.pio_w(PIO_SERIAL, 0, 0x41)
p.console(b"x")
p.eoi(0x24)
seed("devices", "legacy-devices", p.b, "resets 2 power_offs 1")
seed("devices", "legacy-serial", p.b, "serial tx_bytes 3")

# 6. One short program per legacy device: short inputs put the mutations where they matter.
p = Prog()
ioapic_unmask(p, (4,))
for reg in (0x00, 0x01, 0x02, 0x10, 0x11, 0x3E, 0x3F):
    p.mmio_w(MMIO_IOAPIC, 0x00, reg)
    p.mmio_r(MMIO_IOAPIC, 0x10)
p.mmio_w(MMIO_IOAPIC, 0x00, 0x00)
p.mmio_w(MMIO_IOAPIC, 0x10, 0x0F000000)  # APIC ID
p.mmio_w(MMIO_IOAPIC, 0x40, 0x24)  # EOI register
p.pio_w(PIO_SERIAL, 1, 0x01)        # the 16550 interrupts on received data
p.pio_w(PIO_SERIAL, 4, 0x08)
p.console(b"!")
p.eoi(0x24)
seed("devices", "ioapic", p.b, "ioapic delivered 1")
p = Prog()
for reg in range(0, 0x0E):
    p.pio_w(PIO_RTC, 0, reg | (0x80 if reg == 0x0D else 0))
    p.pio_r(PIO_RTC, 1)
p.pio_w(PIO_RTC, 0, 0x0B)
p.pio_w(PIO_RTC, 1, 0x06)  # binary, 24 h
p.pio_w(PIO_RTC, 0, 0x04)
p.pio_r(PIO_RTC, 1)
p.pio_w(PIO_RTC, 0, 0x7F)
p.pio_w(PIO_RTC, 1, 0x5A)
seed("devices", "rtc", p.b, "rtc index 0x7f")
p = Prog()
for cmd in (0xAA, 0xAB, 0xA9, 0x20, 0xD0, 0xAD, 0xAE, 0xA7, 0xA8):
    p.pio_w(PIO_I8042_STATUS, 0, cmd)
    p.pio_r(PIO_I8042_STATUS, 0)
    p.pio_r(PIO_I8042_DATA, 0)
for cmd, arg in ((0x60, 0x65), (0xD1, 0x03), (0xD2, 0x11), (0xD3, 0x22), (0xD4, 0xFF)):
    p.pio_w(PIO_I8042_STATUS, 0, cmd)
    p.pio_w(PIO_I8042_DATA, 0, arg)
    p.pio_r(PIO_I8042_DATA, 0)
p.pio_w(PIO_I8042_DATA, 0, 0xFF)
p.pio_w(PIO_I8042_STATUS, 0, 0xFE)
seed("devices", "i8042", p.b, "resets 1 power_offs 0")
p = Prog()
p.pio_r(PIO_ACPI_PM, 0)
p.pio_r(PIO_ACPI_PM, 1)
p.pio_w(PIO_ACPI_PM, 1, 0x80)
p.pio_w(PIO_ACPI_PM, 0, 0x20 | (5 << 2))
p.pio_w(PIO_ACPI_PM, 0, 0x20 | (3 << 2))
p.pio_w(PIO_ACPI_PM, 2, 0x01)
seed("devices", "acpi-pm", p.b, "resets 1 power_offs 1")
p = Prog()
ioapic_unmask(p, (4,))
p.pio_w(PIO_SERIAL, 1, 0x0F)
p.pio_w(PIO_SERIAL, 4, 0x08)
p.pio_w(PIO_SERIAL, 2, 0x07)
p.console(b"0123456789abcdefXYZ")
for r in range(8):
    p.pio_r(PIO_SERIAL, r)
p.pio_w(PIO_SERIAL, 0, 0x42)
p.pio_r(PIO_SERIAL, 2)
p.pio_w(PIO_SERIAL, 7, 0x99)
p.pio_r(PIO_SERIAL, 7)
seed("devices", "serial", p.b, "serial tx_bytes 1 rx_bytes 1")

# ---- write ------------------------------------------------------------------------------

for target, items in seeds.items():
    d = os.path.join(build, "seeds", target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    with open(os.path.join(build, "seeds", target + ".expect"), "w") as ex:
        for nm, data, expect in items:
            with open(os.path.join(d, nm), "wb") as f:
                f.write(data)
            ex.write(f"{nm}\t{expect}\n")
    os.makedirs(os.path.join(build, "work", target), exist_ok=True)
os.makedirs(os.path.join(build, "artifacts"), exist_ok=True)
with open(stamp, "w") as f:
    f.write("".join(f"{t} {len(v)}\n" for t, v in sorted(seeds.items())))
