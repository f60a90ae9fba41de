#!/bin/sh
# no_kvm.sh: with /dev/kvm hidden (a private mount namespace over /dev) or not a KVM device,
# `minivmm run` prints exactly one line naming the problem and exits 1.
. "$(dirname "$0")/lib.sh"
need_kvm
if ! unshare -m true 2>/dev/null; then
    echo "SKIP: cannot create a mount namespace here (unshare -m)"; exit 77
fi
scratch
status=0
unshare -m sh -c 'mount -t tmpfs none /dev && exec "$0" run -k "$1"' "$MINIVMM" "$KERNEL" \
    >"$d/out" 2>"$d/err" </dev/null || status=$?
out=$d/out; err=$d/err
expect_status 1 "no /dev/kvm"
[ "$(wc -l <"$d/err")" -eq 1 ] || { cat "$d/err"; fail "more than one line"; }
expect_line "$d/err" '^minivmm: KVM: /dev/kvm missing' "missing message"
status=0
unshare -m sh -c 'mount --bind /dev/null /dev/kvm && exec "$0" run -k "$1"' "$MINIVMM" "$KERNEL" \
    >"$d/out" 2>"$d/err" </dev/null || status=$?
expect_status 1 "/dev/kvm not KVM"
[ "$(wc -l <"$d/err")" -eq 1 ] || { cat "$d/err"; fail "more than one line"; }
expect_line "$d/err" '^minivmm: KVM: ' "not-KVM message"
cat "$d/err"
pass "no kvm"
