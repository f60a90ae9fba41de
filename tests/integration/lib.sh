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
