#!/bin/sh
# echo.sh: console input from a pipe reaches the guest (interrupt-driven UART RX through the
# IOAPIC) and comes back; 40 lines (about 2.5 KiB, many FIFOs' worth) arrive without loss.
. "$(dirname "$0")/lib.sh"
need_kvm
scratch
i=0
: >"$d/in"
while [ "$i" -lt 40 ]; do
    echo "line $i: the quick brown fox jumps over the lazy dog" >>"$d/in"
    i=$((i + 1))
done
echo quit >>"$d/in"
status=0
timeout -s KILL "$(tmo 120)" "$MINIVMM" run -k "$KERNEL" --quiet -- echo <"$d/in" >"$d/out" 2>"$d/err" ||
    status=$?
out=$d/out; err=$d/err
expect_status 0 "echo"
i=0
while [ "$i" -lt 40 ]; do
    expect_line "$d/out" "^line $i: the quick brown fox jumps over the lazy dog\$" "line $i echoed"
    i=$((i + 1))
done
expect_line "$d/out" 'echo: bye' "quit"
pass "echo"
