#!/bin/sh
# acpi.sh: --dump-acpi writes ACPI tables that ACPICA's disassembler decodes without errors,
# describing the machine asked for (docs/acpi.md).
. "$(dirname "$0")/lib.sh"
need_kvm
command -v iasl >/dev/null || { echo "SKIP: iasl (acpica-tools) not installed"; exit 77; }
scratch
mkdir "$d/t"
run_vm "$d/out" "$d/err" run -k "$KERNEL" -c 3 -m 256M --dump-acpi "$d/t" -q
expect_status 0 "dump-acpi"
for t in rsdp xsdt facp apic dsdt; do
    [ -s "$d/t/$t.dat" ] || fail "no $t.dat"
done
# The RSDP has no table header: iasl -d takes the others.
(cd "$d/t" && iasl -vi -d xsdt.dat facp.dat apic.dat dsdt.dat) >"$d/iasl" 2>&1 ||
    { cat "$d/iasl"; fail "iasl -d failed"; }
expect_no_line "$d/iasl" '[Ee]rror|[Ww]arning' "iasl errors or warnings"
expect_line "$d/t/dsdt.dsl" 'Device \(COM1\)' "COM1 in the DSDT"
expect_line "$d/t/dsdt.dsl" 'EisaId \("PNP0501"\)' "COM1's _HID"
expect_line "$d/t/dsdt.dsl" 'Name \(\\_S5, Package' '\_S5'
expect_line "$d/t/facp.dsl" 'Hardware Reduced \(V5\) : 1' "hardware-reduced FADT"
expect_line "$d/t/facp.dsl" 'Address : 0000000000000602' "reset register at 0x602"
[ "$(grep -c 'Subtable Type : 00 \[Processor Local APIC\]' "$d/t/apic.dsl")" = 3 ] ||
    fail "not 3 Local APICs in the MADT"
expect_line "$d/t/apic.dsl" 'Address : FEC00000' "the IOAPIC"
pass "acpi"
