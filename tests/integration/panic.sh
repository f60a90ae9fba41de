#!/bin/sh
# panic.sh: the guest's deliberate page fault gives a register dump and status 3.
. "$(dirname "$0")/lib.sh"
need_kvm
scratch
run_vm "$d/out" "$d/err" run -k "$KERNEL" --quiet -- panic
expect_status 3 "panic"
expect_line "$d/out" 'PANIC' "panic line"
expect_line "$d/out" '#PF' "exception name"
expect_line "$d/out" '[Rr][Ii][Pp][=:]' "register dump (rip)"
expect_line "$d/out" '[Cc][Rr]2[=:]' "register dump (cr2)"
pass "panic"
