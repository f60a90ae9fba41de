#!/usr/bin/env python3
"""mkelf.py KIND OUT: writes a small ELF64 PVH test image.

KIND: nonote (no PVH note), outside (segment beyond 128 MiB of RAM), lowseg (segment over the
boot structures), triple (PVH entry that loads an empty IDT and executes ud2: #UD cannot be
delivered, so the CPU triple-faults).
"""
import struct
import sys

kind, out = sys.argv[1], sys.argv[2]
load = 0x100000
if kind == "outside":
    load = 0x40000000  # 1 GiB, beyond -m 128M
if kind == "lowseg":
    load = 0x1000
code_off = 0x1000
entry = load
# lidt [load+0x20]; ud2; (IDT descriptor at +0x20: limit 0, base 0)
code = bytes([0x0F, 0x01, 0x1D]) + struct.pack("<I", load + 0x20) + bytes([0x0F, 0x0B])
code = code.ljust(0x20, b"\x90") + struct.pack("<HI", 0, 0)
note = b""
if kind != "nonote":
    note = struct.pack("<III", 4, 4, 18) + b"Xen\0" + struct.pack("<I", entry)
phnum = 2 if note else 1
ehsize, phentsize = 64, 56
note_off = ehsize + phnum * phentsize
eh = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
eh += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, ehsize, 0, 0, ehsize, phentsize, phnum,
                  0, 0, 0)
ph = struct.pack("<IIQQQQQQ", 1, 5, code_off, load, load, len(code), len(code), 0x1000)
if note:
    ph += struct.pack("<IIQQQQQQ", 4, 4, note_off, 0, 0, len(note), len(note), 4)
img = (eh + ph + note).ljust(code_off, b"\0") + code
with open(out, "wb") as f:
    f.write(img)
