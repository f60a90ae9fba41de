#!/bin/sh
# bench_net_linux.sh: `minivmm bench net --linux` end to end with a small count: Linux's own
# virtio_net sends through minivmm's VF and through QEMU's virtio-net-device (one warm-up and
# one timed round, 1514-byte frames); both rows have figures (minivmm's with exits per KiB
# from netsend's phase markers), minivmm's has the ratio to QEMU, the exit status is 0. A
# missing --initrd is a usage error. No timing is asserted: docs/BENCHMARKS.md has the figures.
. "$(dirname "$0")/lib.sh"
need_kvm
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 missing (tools/deps installs it)"
scratch
tools=$(cd "$(dirname "$0")/../../tools" && pwd)
"$tools/linux-guest" --init netsend --out "$d/netsend.cpio" >"$d/paths" 2>"$d/prep" ||
    { cat "$d/prep"; fail "tools/linux-guest --init netsend"; }
. "$d/paths"

run_vm "$d/out" "$d/err" bench net --linux "$BZIMAGE"
expect_status 1 "--linux without --initrd"
expect_line "$d/err" '--linux and --initrd go together' "usage message"

n='[0-9]+'
f='[0-9]+\.[0-9]+'
status=0
timeout -s KILL 1200 "$MINIVMM" bench net --linux "$BZIMAGE" --initrd "$d/netsend.cpio" \
    --count 300 --sizes 1514 --rounds 1 -v >"$d/out" 2>"$d/err" </dev/null || status=$?
out=$d/out err=$d/err
expect_status 0 "bench net --linux"
expect_line "$d/out" "^ +1514 minivmm +$n +$f +$f +$f +${f}x\$" "minivmm row"
expect_line "$d/out" "^ +1514 QEMU microvm +$n +$f +- +$f *\$" "QEMU row"
pass "bench-net-linux"
