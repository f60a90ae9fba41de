#!/bin/sh
# echo.sh: console input from a pipe reaches the guest (interrupt-driven UART RX through the
# IOAPIC) and comes back; more than a FIFO's worth of bytes arrive without loss.
. "$(dirname "$0")/lib.sh"
need_kvm
scratch
line="the quick brown fox jumps over the lazy dog 0123456789"
status=0
printf '%s\nsecond line\nquit\n' "$line" |
    timeout -s KILL 120 "$MINIVMM" run -k "$KERNEL" --quiet -- echo >"$d/out" 2>"$d/err" ||
    status=$?
out=$d/out; err=$d/err
expect_status 0 "echo"
expect_line "$d/out" "^$line\$" "first line echoed"
expect_line "$d/out" '^second line$' "second line echoed"
expect_line "$d/out" 'echo: bye' "quit"
pass "echo"
