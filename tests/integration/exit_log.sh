#!/bin/sh
# exit_log.sh: --exit-log FILE records exits and boot phases that `minivmm exits` reads back;
# --exit-log - streams text lines; the end-of-run summary and banner appear without --quiet.
. "$(dirname "$0")/lib.sh"
need_kvm
scratch
run_vm "$d/out" "$d/err" run -k "$KERNEL" -c 2 --exit-log "$d/x.log"
expect_status 0 "run with exit log"
expect_line "$d/err" '^minivmm [0-9.]+: 2 vCPUs' "banner"
expect_line "$d/err" 'MMU: ' "MMU line"
expect_line "$d/err" '^exits: [0-9]+' "summary"
expect_line "$d/err" '0x3f8' "top port in hex"
expect_line "$d/err" 'long-mode' "boot phases in the summary"
"$MINIVMM" exits "$d/x.log" >"$d/rep" 2>&1 || { cat "$d/rep"; fail "minivmm exits"; }
expect_line "$d/rep" '^exits: [0-9]+' "report"
expect_line "$d/rep" 'IO' "IO exits"
expect_line "$d/rep" '0x3f8 +serial THR write' "serial THR named"
for p in entry long-mode devices-ready cpus-up command done; do
    expect_line "$d/rep" "^ +$p " "phase $p"
done
# Text stream.
run_vm "$d/out" "$d/err" run -k "$KERNEL" --quiet --exit-log -
expect_status 0 "run with --exit-log -"
expect_line "$d/err" '^exit .*port=0x3f8 .*serial THR write' "text exit record"
expect_line "$d/err" '^exit .*port=0x501 .*exit STATUS write' "exit port named"
expect_line "$d/err" '^marker .*long-mode' "text marker record"
expect_line "$d/err" '^stats vcpu=0 name=exits value=[0-9]+' "KVM's statistics as stats records"
# KVM's counts beside ours in the summary, and the live view.
run_vm "$d/out" "$d/err" run -k "$KERNEL" -c 2 --exit-stats-interval 0.002
expect_status 0 "run with --exit-stats-interval"
expect_line "$d/err" "^KVM's counts \(all vCPUs\): exits [0-9]+" "KVM's counts"
expect_line "$d/err" '^minivmm: \[ *[0-9.]+s\] +[0-9]+ exits/s' "live view line"
run_vm "$d/out" "$d/err" run -k "$KERNEL" --exit-stats-interval 0
expect_status 1 "bad --exit-stats-interval"
pass "exit log"
