#!/bin/sh
# qemu.sh: the same kernel.elf boots under QEMU's microvm (no device tree: 1 CPU, COM1, exit
# port 0x501), for `hello` and `panic`; isa-debug-exit turns status v into (v<<1)|1.
# Skips when qemu-system-x86_64 is not installed (it is only a reference, not a dependency).
. "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null ||
    { echo "SKIP: qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"; exit 77; }
need_kvm
scratch
qemu() {
    status=0
    timeout -s KILL 120 qemu-system-x86_64 -M microvm,acpi=off -accel kvm -nodefaults \
        -no-user-config -nographic -serial stdio -device isa-debug-exit \
        -kernel "$KERNEL" -append "$1" >"$d/out" 2>"$d/err" </dev/null || status=$?
    out=$d/out; err=$d/err
}
qemu hello
expect_status 1 "qemu hello ((0<<1)|1)"
expect_line "$d/out" '^minivmm guest ' "banner"
expect_line "$d/out" 'no device tree' "fallback note"
expect_line "$d/out" '^cpu 0: online' "cpu 0"
expect_line "$d/out" '^hello: done' "hello done"
qemu panic
expect_status 7 "qemu panic ((3<<1)|1)"
expect_line "$d/out" 'PANIC' "panic"
pass "qemu"
