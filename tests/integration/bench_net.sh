#!/bin/sh
# bench_net.sh: `minivmm bench net` end to end with tiny counts: net.tx's transfer markers
# and the NIC's eventfd-read count in a plain run, then the harness (every variant and size
# has a row of numbers, every ping variant its replies, in one VM and across a dgram uplink to
# a net.echo VM (minivmm, and QEMU when installed), a failed run is counted and makes the
# exit status 1). No timing is asserted: docs/BENCHMARKS.md has the figures.
. "$(dirname "$0")/lib.sh"
need_kvm
scratch

n='[0-9]+'
f='[0-9]+\.[0-9]+'

# The guest's part: exactly net.size-byte frames, the xfer-start/xfer-done phases in the
# summary, and with ioeventfd the I/O thread's reads in the end-of-run line.
run_vm "$d/out" "$d/err" run -k "$KERNEL" --nic vfs=1,notify=ioeventfd -- net.tx net.count=20 \
    net.size=100
expect_status 0 "net.tx"
expect_line "$d/out" '^net\.tx: 20 packets, 2000 bytes in [0-9]+ us' "net.tx result"
expect_line "$d/err" "^  xfer-start +$f +$f +$n\$" "xfer-start phase"
expect_line "$d/err" "^  xfer-done +$f +$f +$n\$" "xfer-done phase"
expect_line "$d/err" "^minivmm: nic: vf0 rx $n tx 20 .*ioeventfd-reads [1-9]" "eventfd reads"

run_vm "$d/out" "$d/err" bench net --count 16 --rounds 1 --pings 2
expect_status 0 "bench net"
for v in exit ioeventfd; do
    for e in on off; do
        efd=$f
        [ $v = exit ] && efd='-'
        for s in 64 1514; do
            expect_line "$d/out" "^notify=$v,event_idx=$e +$s +$n +$f +$f +$f +$efd +$f%\$" \
                "tx row $v $e $s"
        done
        expect_line "$d/out" "^notify=$v,event_idx=$e +2 +$n +$n +$n\$" "ping row $v $e"
    done
done
if command -v qemu-system-x86_64 >/dev/null; then
    for s in 64 1514; do
        expect_line "$d/out" "^QEMU microvm, -netdev dgram +$s +$n +$f +$f +- +- +$f%\$" \
            "QEMU row $s"
    done
    expect_line "$d/out" "^QEMU -> dgram -> minivmm +2 +$n +$n +$n\$" "QEMU ping row"
fi
expect_line "$d/out" "^minivmm -> dgram -> minivmm +2 +$n +$n +$n\$" "dgram ping row"
expect_no_line "$d/out" 'runs? failed' "no failed run"

# Options: other sizes, no QEMU, no pings; bad values are usage errors.
run_vm "$d/out" "$d/err" bench net --count 8 --rounds 1 --pings 0 --sizes 60 --no-qemu
expect_status 0 "bench net --sizes 60 --no-qemu --pings 0"
expect_line "$d/out" "^notify=exit,event_idx=on +60 " "size 60 row"
expect_no_line "$d/out" '^QEMU|^net\.ping' "QEMU and ping left out"
run_vm "$d/out" "$d/err" bench net --sizes 59
expect_status 1 "bench net --sizes 59"
expect_line "$d/err" "sizes: '59' is not a frame size" "bad size named"

# A guest that cannot run is a failed run, counted, and exit status 1.
: >"$d/empty.elf"
run_vm "$d/out" "$d/err" bench net --count 4 --rounds 1 --pings 1 --no-qemu --kernel "$d/empty.elf"
expect_status 1 "bench net with a broken guest"
expect_line "$d/err" 'failed: non-zero exit status' "failure reported"
expect_line "$d/out" '^[0-9]+ runs failed' "failures counted"
pass "bench-net"
