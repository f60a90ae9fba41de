#!/bin/sh
# dtb.sh: --dump-dtb writes a device tree that dtc decodes, describing the machine asked for.
. "$(dirname "$0")/lib.sh"
need_kvm
command -v dtc >/dev/null || { echo "SKIP: dtc (device-tree-compiler) not installed"; exit 77; }
scratch
run_vm "$d/out" "$d/err" run -k "$KERNEL" -c 3 -m 256M --cmdline "hello quiet" --dump-dtb "$d/m.dtb" -q
expect_status 0 "dump-dtb"
dtc -q -I dtb -O dts "$d/m.dtb" >"$d/m.dts" || fail "dtc cannot decode the dtb"
expect_line "$d/m.dts" 'bootargs = "hello quiet"' "bootargs"
expect_line "$d/m.dts" 'cpu@2 \{' "third cpu"
expect_no_line "$d/m.dts" 'cpu@3 \{' "no fourth cpu"
expect_line "$d/m.dts" 'reg = <0x00 0x00 0x00 0x10000000>' "256 MiB of memory"
expect_line "$d/m.dts" 'serial@i3f8' "uart"
expect_line "$d/m.dts" 'ioapic@fec00000' "ioapic"
expect_line "$d/m.dts" 'rtc@i70' "cmos rtc"
expect_line "$d/m.dts" 'compatible = "motorola,mc146818"' "rtc compatible"
expect_no_line "$d/m.dts" 'i8042' "i8042 not described (probed at its fixed ports)"
pass "dtb"
