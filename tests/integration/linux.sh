#!/bin/sh
# linux.sh KIND CPUS IRQCHIP [reboot]: Debian's own kernel (KIND bzimage: the package's vmlinuz; vmlinux:
# the ELF inside it, PVH entry) boots under minivmm with a busybox initramfs whose /init checks
# what a PC kernel needs from us (tools/linux-guest --init check) and powers off:
# nproc = CPUS; uptime advances by about 2 s across `sleep 2` (a working clock); the date is
# the host's; dmesg has no WARNING, BUG, Call Trace or "invalid magic"; Linux found the ACPI
# tables DSDT, FACP and APIC; the console's interrupts arrive on IOAPIC pin 4; `poweroff -f`
# (ACPI S5) ends minivmm with status 0 and "guest: power off". With `reboot`, the initramfs
# runs `reboot -f` instead, which must end minivmm with status 0 and "guest: reboot" (Linux
# restarts through the reset vector under hardware-reduced ACPI without EFI).
. "$(dirname "$0")/lib.sh"
kind=$1 cpus=$2 irqchip=$3 mode=${4:-check}
need_kvm
scratch
tools=$(cd "$(dirname "$0")/../../tools" && pwd)
"$tools/linux-guest" --init "$mode" --out "$d/init.cpio" >"$d/paths" 2>"$d/prep" ||
    { cat "$d/prep"; fail "tools/linux-guest could not provide the kernel and initramfs"; }
. "$d/paths"
case "$kind" in
bzimage) image=$BZIMAGE ;;
vmlinux) image=$VMLINUX ;;
*) fail "KIND $kind: want bzimage or vmlinux" ;;
esac
t0=$(date +%s.%N)
run_vm "$d/out" "$d/err" run -k "$image" -i "$d/init.cpio" -m 512M -c "$cpus" \
    --irqchip "$irqchip" --cmdline "console=ttyS0 quiet panic=-1"
t1=$(date +%s.%N)
host_now=$(date +%s)
echo "linux $kind -c $cpus --irqchip $irqchip: $(awk "BEGIN { print $t1 - $t0 }") s from start to power-off"
if [ "$mode" = reboot ]; then
    expect_status 0 "reboot"
    expect_line "$d/out" '^check: init started' "the initramfs ran"
    expect_line "$d/err" 'guest: reboot' "the reboot message"
    pass "linux $kind -c $cpus --irqchip $irqchip reboot"
    exit 0
fi
expect_status 0 "power-off"
expect_line "$d/err" 'guest: power off' "the power-off message"
expect_line "$d/out" '^check: done' "the checks finished"
expect_line "$d/out" "^check: nproc $cpus\$" "nproc"
tr -d '\r' <"$d/out" | awk -v now="$host_now" '
    /^check: uptime / { up = $4 - $3; seen_up = 1
        if (up < 1.5 || up > 5) { print "FAIL: uptime advanced " up " s across sleep 2"; bad = 1 } }
    /^check: date / { seen_date = 1; dt = now - $3
        if (dt < -10 || dt > 300) { print "FAIL: guest date " $3 ", host " now; bad = 1 } }
    END { if (!seen_up || !seen_date) { print "FAIL: no uptime or date line"; bad = 1 }
          exit bad }' || { cat "$d/out"; fail "clock"; }
for t in DSDT FACP APIC; do
    expect_line "$d/out" "^check: acpi .*\\b$t\\b" "ACPI table $t"
done
expect_line "$d/out" '^check: dmesg-bad 0$' "dmesg without WARNING/BUG/Call Trace/invalid magic"
# "24: 0 17 IO-APIC 4-edge ttyS0": Linux's IRQ number, a count per CPU, the IOAPIC pin.
tr -d '\r' <"$d/out" | grep -E '^check: serial-irqs' | tr ';' '\n' |
    awk '/IO-APIC +4-edge +ttyS0/ {
             for (i = 1; i <= NF && $i != "IO-APIC"; i++) { if (irq) n += $i; if ($i ~ /^[0-9]+:$/) irq = 1 } }
         END { exit !(n > 0) }' ||
    { cat "$d/out"; fail "no ttyS0 interrupts counted on IOAPIC pin 4"; }
pass "linux $kind -c $cpus --irqchip $irqchip"
