#!/bin/sh
# mmu.sh: minivmm's "MMU:" line says what this host's KVM really does, read independently here
# from KVM's module parameters: NPT or EPT when kvm_amd's npt / kvm_intel's ept is on, shadow
# paging when it is off, PVM's shadow paging where only kvm_pvm is loaded. In tools/kvmbox
# (kvm_amd, npt=Y) it must say NPT.
. "$(dirname "$0")/lib.sh"
need_kvm
scratch
param() { [ -r "/sys/module/$1/parameters/$2" ] && cat "/sys/module/$1/parameters/$2"; }
want=""
if v=$(param kvm_amd npt); then
    case $v in Y | 1) want="NPT" ;; *) want="shadow paging \(NPT off\)" ;; esac
elif v=$(param kvm_intel ept); then
    case $v in Y | 1) want="EPT" ;; *) want="shadow paging \(EPT off\)" ;; esac
elif [ -d /sys/module/kvm_pvm ]; then
    want="shadow paging \(PVM: no EPT/NPT\)"
fi
[ -n "$want" ] || { echo "SKIP: no kvm_amd, kvm_intel or kvm_pvm module parameters here"; exit 77; }
run_vm "$d/out" "$d/err" run -k "$KERNEL"
expect_status 0 "boot"
expect_line "$d/err" "^minivmm: MMU: $want\$" "MMU line"
grep 'MMU:' "$d/err"
pass "MMU line: $want"
