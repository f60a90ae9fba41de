#!/bin/sh
# sandbox.sh: the seccomp sandbox (src/sandbox.c, docs/security.md). For every thread kind,
# MINIVMM_SANDBOX_TEST=KIND makes its threads call socket(2), which no kind may: minivmm must
# die with status 1 and `minivmm: sandbox: thread KIND made forbidden syscall socket (41)`;
# with --no-sandbox the same run goes through and the guest finishes (status 0). Then, on a
# running VM with every thread kind but the bench device's: each thread has a seccomp filter,
# no_new_privs and no capabilities, the process has RLIMIT_CORE 0 and a small RLIMIT_NOFILE;
# with --no-sandbox, no filter.
. "$(dirname "$0")/lib.sh"
need_kvm
scratch
s=$d/s
port=$((20000 + $$ % 20000))

# One VM with every kind of thread: vCPU, I/O worker (notify=ioeventfd), uplink (dgram),
# console in and out, control socket, bench device (ioeventfd), main.
every_kind() {
    run_vm "$d/out" "$d/err" run -k "$KERNEL" -q --api-sock "$s" --bench-device=ioeventfd \
        --nic "vfs=1,uplink=dgram:$port:$((port + 1))" "$@" -- hello
    rm -f "$s"
}

for kind in main vcpu io uplink console-in console-out api bench; do
    export MINIVMM_SANDBOX_TEST=$kind
    every_kind
    expect_status 1 "$kind: forbidden syscall"
    expect_line "$d/err" "^minivmm: sandbox: test: thread $kind calls socket\\(2\\)$" "$kind: trigger ran"
    expect_line "$d/err" "^minivmm: sandbox: thread $kind made forbidden syscall socket \\(41\\)$" \
        "$kind: message"
    every_kind --no-sandbox
    expect_status 0 "$kind with --no-sandbox"
    expect_line "$d/err" "^minivmm: sandbox: test: thread $kind: socket\\(2\\) went through \\(no sandbox\\)$" \
        "$kind with --no-sandbox: went through"
    expect_line "$d/out" "hello: done" "$kind with --no-sandbox: guest ran"
    pass "$kind: refused, and let through with --no-sandbox"
done
unset MINIVMM_SANDBOX_TEST

# A bad kind is refused before the VM exists.
MINIVMM_SANDBOX_TEST=hypervisor run_vm "$d/out" "$d/err" run -k "$KERNEL" -- hello
expect_status 1 "bad MINIVMM_SANDBOX_TEST"
expect_line "$d/err" "'hypervisor' is not a thread kind" "bad kind message"

# What a running VM's threads hold. net.echo runs until stopped; the control socket stops it.
# $1: --no-sandbox or nothing. Sets $pid, leaves the threads' status files in $d/task.
start_echo() {
    timeout -s KILL 120 "$MINIVMM" run -k "$KERNEL" -c 2 --api-sock "$s" --nic vfs=1 "$@" \
        -- net.echo </dev/null >"$d/out" 2>"$d/err" &
    tpid=$!
    i=0
    until grep -q "net.echo: answering" "$d/out" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -lt 600 ] || { kill -9 "$tpid"; cat "$d/out" "$d/err"; fail "net.echo never started"; }
        sleep 0.1
    done
    pid=$(cat /proc/"$tpid"/task/"$tpid"/children) # timeout's child: minivmm
    pid=${pid% }
    sleep 0.5 # the main thread seals once the vCPUs run
    rm -rf "$d/task"
    mkdir "$d/task"
    for t in /proc/"$pid"/task/*; do
        cp "$t/status" "$d/task/$(basename "$t")" 2>/dev/null || true
    done
    cp /proc/"$pid"/limits "$d/limits"
    "$MINIVMM" ctl "$s" stop || fail "ctl stop"
    status=0
    wait "$tpid" || status=$?
    out=$d/out; err=$d/err
    expect_status 0 "net.echo stopped over the control socket $*"
}

start_echo
n=$(ls "$d/task" | wc -l)
# main, 2 vCPUs, the NIC's I/O worker, console output, the control socket: 6 (console input
# ended at EOF on /dev/null).
[ "$n" -ge 6 ] || fail "only $n threads seen"
for t in "$d"/task/*; do
    grep -Eq '^Seccomp:[[:space:]]+2$' "$t" || { cat "$t"; fail "thread $(basename "$t"): no seccomp filter"; }
    grep -Eq '^NoNewPrivs:[[:space:]]+1$' "$t" || fail "thread $(basename "$t"): no_new_privs off"
    grep -Eq '^CapEff:[[:space:]]+0+$' "$t" || fail "thread $(basename "$t"): effective capabilities left"
    grep -Eq '^CapPrm:[[:space:]]+0+$' "$t" || fail "thread $(basename "$t"): permitted capabilities left"
    if [ "$(id -u)" -eq 0 ]; then
        grep -Eq '^CapBnd:[[:space:]]+0+$' "$t" || fail "thread $(basename "$t"): bounding set left"
    fi
done
grep -Eq '^Max core file size +0 +0 ' "$d/limits" || { cat "$d/limits"; fail "RLIMIT_CORE not 0"; }
nofile=$(awk '/^Max open files/ {print $5}' "$d/limits")
[ "$nofile" -le 200 ] || { cat "$d/limits"; fail "RLIMIT_NOFILE hard limit $nofile"; }
pass "$n threads confined; core 0, open files <= $nofile"

start_echo --no-sandbox
for t in "$d"/task/*; do
    grep -Eq '^Seccomp:[[:space:]]+0$' "$t" || { cat "$t"; fail "--no-sandbox: thread $(basename "$t") filtered"; }
done
pass "--no-sandbox: no filter"
