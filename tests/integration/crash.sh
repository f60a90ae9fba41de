#!/bin/sh
# crash.sh: a guest that triple-faults gives "guest: shutdown (triple fault)", a register
# dump and status 2; the summary still prints and the exit log is complete.
. "$(dirname "$0")/lib.sh"
need_kvm
scratch
python3 "$(dirname "$0")/mkelf.py" triple "$d/triple"
run_vm "$d/out" "$d/err" run -k "$d/triple" --exit-log "$d/x.log"
if grep -q 'emulation failure' "$d/err"; then
    # Hosts whose instruction emulator cannot run lidt/ud2 report an emulation failure with
    # the instruction bytes instead: still a guest crash, status 2.
    expect_status 2 "crash"
    expect_line "$d/err" 'instruction bytes' "instruction bytes"
else
    expect_status 2 "triple fault"
    expect_line "$d/err" '^guest: shutdown \(triple fault\)' "shutdown line"
fi
expect_line "$d/err" 'rip=' "register dump"
expect_line "$d/err" '^exits:' "summary"
"$MINIVMM" exits "$d/x.log" >"$d/rep" 2>&1 || { cat "$d/rep"; fail "exits on crash log"; }
expect_line "$d/rep" 'SHUTDOWN|INTERNAL_ERROR' "crash exit in the log"
pass "crash"
