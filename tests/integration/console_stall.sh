#!/bin/sh
# console_stall.sh: the guest prints without end into a pipe nobody reads. The vCPU must not
# block on stdout: SIGTERM still ends the run within seconds with status 143 (128 + 15), and
# the guest output that could not be written is counted on stderr, not lost silently.
. "$(dirname "$0")/lib.sh"
need_kvm
scratch
mkfifo "$d/out"
# The reader holds the fifo open and never reads from it.
sleep 600 <"$d/out" &
reader=$!
"$MINIVMM" run -k "$KERNEL" -- serial.tx io.bytes=1000000000 >"$d/out" 2>"$d/err" &
pid=$!
out=$d/err; err=$d/err
# Wait until the pipe is full (FIONREAD on a second, non-blocking read end that reads nothing):
# from then on a vCPU writing to stdout itself would block.
filled=0
python3 - "$d/out" "$pid" <<'PYEOF' || filled=$?
import array, fcntl, os, sys, termios, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
end = time.time() + 240
while time.time() < end:
    n = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, n)
    if n[0] >= 60000:
        sys.exit(0)
    try:
        os.kill(int(sys.argv[2]), 0)
    except ProcessLookupError:
        sys.exit(1)
    time.sleep(0.1)
sys.exit(1)
PYEOF
[ "$filled" -eq 0 ] || { kill -9 "$pid" "$reader"; cat "$d/err"; fail "pipe never filled"; }
sleep 2 # the guest keeps printing: the console's buffer fills and overflows
# running PID: true until PID exits (a zombie, not yet waited for, counts as exited).
running() {
    st=Z
    { read -r _ _ st _ <"/proc/$1/stat"; } 2>/dev/null || return 1
    [ "$st" != Z ]
}
kill -TERM "$pid"
i=0
while running "$pid"; do
    i=$((i + 1))
    if [ "$i" -ge 150 ]; then
        kill -9 "$pid" "$reader"
        cat "$d/err"
        fail "minivmm still running 15 s after SIGTERM (vCPU blocked on stdout?)"
    fi
    sleep 0.1
done
status=0
wait "$pid" || status=$?
kill "$reader" 2>/dev/null
expect_status 143 "SIGTERM with stdout not read"
expect_line "$d/err" 'terminating on signal 15' "signal message"
expect_line "$d/err" \
    '^minivmm: console: [0-9]+ bytes of guest output dropped \(stdout not reading\)' \
    "dropped output counted"
expect_line "$d/err" '^exits:' "summary after signal"
pass "console-stall"
