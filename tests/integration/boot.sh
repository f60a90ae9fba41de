#!/bin/sh
# boot.sh CPUS [IRQCHIP [MEMORY [initrd]]]: boots the guest's default command and checks the
# banner, one "cpu N: online" line per vCPU, the end marker and exit status 0. With `initrd`,
# a 1 MiB --initrd becomes PVH module 0 and the device tree module 1: the guest must still
# find it (it is where the vCPU count comes from).
. "$(dirname "$0")/lib.sh"
need_kvm
cpus=$1; irqchip=${2:-split}; mem=${3:-128M}
scratch
set --
if [ "${4:-}" = initrd ]; then
    head -c 1048576 /dev/urandom >"$d/initrd"
    set -- --initrd "$d/initrd"
fi
run_vm "$d/out" "$d/err" run -k "$KERNEL" -c "$cpus" --irqchip "$irqchip" -m "$mem" --quiet "$@"
expect_status 0 "boot -c $cpus --irqchip $irqchip -m $mem"
expect_line "$d/out" '^minivmm guest ' "banner"
i=0
while [ "$i" -lt "$cpus" ]; do
    expect_line "$d/out" "^cpu $i: online" "cpu $i"
    i=$((i + 1))
done
expect_no_line "$d/out" "^cpu $cpus: online" "no extra cpu"
expect_line "$d/out" '^hello: done' "end of hello"
[ ! -s "$d/err" ] || { cat "$d/err"; fail "--quiet printed on stderr"; }
pass "boot -c $cpus --irqchip $irqchip -m $mem"
