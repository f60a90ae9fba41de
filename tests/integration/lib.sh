# lib.sh: shared helpers for the integration tests (POSIX sh, sourced).
# Environment from meson: MINIVMM, KERNEL, KVM_USABLE, TESTDIR (scratch directory),
# TIMEOUT_MULT (3 in a sanitizer build: the scripts' own deadlines are scaled by it: tmo N).
set -u

# tmo SECONDS: a deadline for `timeout`, scaled for sanitizer builds.
tmo() { echo $(( $1 * ${TIMEOUT_MULT:-1} )); }

fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "PASS: $*"; }

need_kvm() {
    "$KVM_USABLE" || exit 77
}

# run_vm OUT ERR [args...]: runs minivmm with a timeout, stdin from /dev/null unless
# redirected by the caller; sets $status.
run_vm() {
    out=$1; err=$2; shift 2
    status=0
    timeout -s KILL "$(tmo 120)" "$MINIVMM" "$@" >"$out" 2>"$err" </dev/null || status=$?
}

expect_status() {
    [ "$status" -eq "$1" ] || { echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err";
        fail "$2: exit status $status, want $1"; }
}

# The guest's console ends lines with CR LF; matching ignores the CRs.
expect_line() { # FILE REGEX WHAT
    tr -d '\r' <"$1" | grep -Eq -- "$2" || { echo "--- $1"; cat "$1"; fail "$3: no line matching '$2'"; }
}

expect_no_line() {
    ! tr -d '\r' <"$1" | grep -Eq -- "$2" || { echo "--- $1"; cat "$1"; fail "$3: unexpected '$2'"; }
}

# scratch: sets $d to a fresh directory removed when the test exits.
scratch() {
    d=$(mktemp -d "${TMPDIR:-/tmp}/minivmm-test.XXXXXX") || fail "mktemp"
    trap 'rm -rf "$d"' EXIT
}

# free_ports N: N free UDP ports on 127.0.0.1, chosen by the kernel (no clash with parallel runs).
free_ports() {
    python3 - "$1" <<'PY'
import socket, sys
ss = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    ss.append(s)
print(' '.join(str(s.getsockname()[1]) for s in ss))
PY
}

# wait_line FILE REGEX [SECONDS [PID]]: until a line matching REGEX appears in FILE (a background
# VM got that far), at most SECONDS (default 20); 1 on timeout or when process PID ended first.
wait_line() {
    i=0
    while ! { [ -f "$1" ] && tr -d '\r' <"$1" | grep -Eq -- "$2"; }; do
        i=$((i + 1))
        [ $i -le $((${3:-20} * 10)) ] || return 1
        [ -z "${4:-}" ] || kill -0 "$4" 2>/dev/null || return 1
        sleep 0.1
    done
}

# icmp_ping IP N: N ICMP echo requests from a raw socket (no ping binary needed; root);
# prints "R received", 0 when all came back.
icmp_ping() {
    python3 "$(dirname "$0")/icmp_ping.py" "$@"
}

# qemu_dgram_guest LOCAL REMOTE SECONDS OUT ERR GUEST-WORDS: starts our guest in the background
# under QEMU microvm with a virtio-net-device on -netdev dgram from 127.0.0.1:LOCAL to
# 127.0.0.1:REMOTE (docs/nic.md), killed after SECONDS; $! is its timeout(1), which passes a
# SIGTERM on to QEMU.
qemu_dgram_guest() {
    (exec timeout -s KILL "$3" qemu-system-x86_64 -M microvm,acpi=off -accel kvm -nodefaults \
        -no-user-config -nographic -serial stdio -device isa-debug-exit \
        -global virtio-mmio.force-legacy=false -device virtio-net-device,netdev=n \
        -netdev "dgram,id=n,local.type=inet,local.host=127.0.0.1,local.port=$1,remote.type=inet,remote.host=127.0.0.1,remote.port=$2" \
        -kernel "$KERNEL" -append "$6" >"$4" 2>"$5" </dev/null) &
}
