#!/bin/sh
# signal.sh: SIGTERM while the guest waits for input: clean teardown, status 143, the exit
# log flushed (its records read back), the terminal untouched.
. "$(dirname "$0")/lib.sh"
need_kvm
scratch
mkfifo "$d/in"
# Keep the fifo's write end open so the guest sees no EOF while we wait.
sleep 60 >"$d/in" &
holder=$!
"$MINIVMM" run -k "$KERNEL" --exit-log "$d/x.log" -- echo <"$d/in" >"$d/out" 2>"$d/err" &
pid=$!
i=0
until grep -q "type lines" "$d/out" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -lt 600 ] || { kill -9 "$pid" "$holder"; cat "$d/out" "$d/err"; fail "guest never prompted"; }
    sleep 0.1
done
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
kill "$holder" 2>/dev/null
out=$d/out; err=$d/err
expect_status 143 "SIGTERM"
expect_line "$d/err" 'terminating on signal 15' "signal message"
expect_line "$d/err" '^exits:' "summary after signal"
"$MINIVMM" exits "$d/x.log" >"$d/rep" 2>&1 || { cat "$d/rep"; fail "exits after SIGTERM"; }
expect_line "$d/rep" 'command' "command phase flushed to the log"
expect_no_line "$d/rep" 'truncated' "complete log"
pass "signal"
