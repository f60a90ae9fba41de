#!/usr/bin/env python3
"""mkbzimage.py OUT: writes a small bzImage (Linux boot protocol 2.15) whose 64-bit entry
checks the zero page ("HdrS" at 0x202, type_of_loader 0xff), prints a line, the command line
(cmd_line_ptr) and the initrd's bytes (ramdisk_image, ramdisk_size) to COM1, and writes status
0 to the exit port (1 when a check fails). It runs only in long mode: RIP-relative addressing
and 64-bit pushes/returns decode differently in 32-bit mode.

The code, assembled with GNU as (--64) and kept here as bytes:
    cmpl $0x53726448, 0x202(%rsi); jne fail     # the setup header is in the zero page
    cmpb $0xff, 0x210(%rsi); jne fail           # type_of_loader
    movq $0x80000, %rsp                         # a stack in free low RAM
    leaq msg(%rip), %rbx; call puts
    movl 0x228(%rsi), %ebx; call puts           # cmd_line_ptr
    leaq nl(%rip), %rbx; call puts
    movl 0x218(%rsi), %ebx; movl 0x21c(%rsi), %ecx; call putn   # ramdisk_image, _size
    xorl %eax, %eax; movw $0x501, %dx; outb %al, %dx; hlt
fail: movb $1, %al; movw $0x501, %dx; outb %al, %dx; hlt
puts: NUL-terminated string at %rbx to port 0x3f8;  putn: %ecx bytes at %rbx
msg: "bzimage: long mode, zero page ok\\ncmdline: "; nl: "\\n"
"""
import struct
import sys

CODE = bytes.fromhex(
    "81be0202000048647253754c80be10020000ff754348c7c400000800488d1d61000000e838000000"
    "8b9e28020000e82d000000488d1d75000000e8210000008b9e180200008b8e1c020000e821000000"
    "31c066ba0105eef4b00166ba0105eef466baf8038a0384c07406ee48ffc3ebf4c366baf80385c974"
    "0a8a03ee48ffc3ffc9ebf2c3627a696d6167653a206c6f6e67206d6f64652c207a65726f20706167"
    "65206f6b0a636d646c696e653a20000a00")

SETUP_SECTS = 4
pm = (b"\xf4" * 0x200 + CODE).ljust(0x1000, b"\0")  # 32-bit entry at +0: hlt
setup = bytearray((SETUP_SECTS + 1) * 512)
setup[0x1F1] = SETUP_SECTS
struct.pack_into("<I", setup, 0x1F4, len(pm) // 16)  # syssize
struct.pack_into("<H", setup, 0x1FE, 0xAA55)  # boot_flag
setup[0x200:0x202] = bytes([0xEB, 0x6A])  # jump: the header ends at 0x26c
setup[0x202:0x206] = b"HdrS"
struct.pack_into("<H", setup, 0x206, 0x020F)  # version 2.15
setup[0x211] = 0x01  # loadflags: LOADED_HIGH
struct.pack_into("<I", setup, 0x214, 0x100000)  # code32_start
struct.pack_into("<I", setup, 0x22C, 0x7FFFFFFF)  # initrd_addr_max
struct.pack_into("<I", setup, 0x230, 0x200000)  # kernel_alignment
setup[0x234] = 1  # relocatable_kernel
struct.pack_into("<H", setup, 0x236, 0x0003)  # xloadflags: KERNEL_64 | CAN_BE_LOADED_ABOVE_4G
struct.pack_into("<I", setup, 0x238, 255)  # cmdline_size
struct.pack_into("<Q", setup, 0x258, 0x1000000)  # pref_address
struct.pack_into("<I", setup, 0x260, 0x200000)  # init_size
with open(sys.argv[1], "wb") as f:
    f.write(bytes(setup) + pm)
