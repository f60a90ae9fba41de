#!/bin/sh
# bench.sh: the benchmark machinery end to end with tiny counts: the guest's bench.exits
# command in every mode under plain `minivmm run --bench-device`, then `minivmm bench exits`
# and `minivmm bench boot` (tables complete, every figure a number, failures counted).
# No timing is asserted: performance is measured by the benchmarks (docs/BENCHMARKS.md).
. "$(dirname "$0")/lib.sh"
need_kvm
scratch

number='[0-9]+\.[0-9]'

# The guest command, one mode at a time; the device's counts (stderr, not quiet) show where
# the writes went: to the VMM, or to the ioeventfd and its thread.
for m in 1:pio 2:mmio 4:pio-ioeventfd 8:mmio-ioeventfd 16:timer; do
    bit=${m%%:*} name=${m#*:} dev=--bench-device io=0
    case $name in *-ioeventfd) dev=--bench-device=ioeventfd io=1 ;; esac
    run_vm "$d/out" "$d/err" run -k "$KERNEL" "$dev" -- bench.exits bench.mode="$bit" \
        bench.iters=64 quiet
    expect_status 0 "bench.exits $name"
    expect_line "$d/out" "^bench: mode=$name iters=64 dev=1 ioeventfd=$io tsc_khz=[1-9][0-9]* \
tsc_total=[0-9]+ median_tsc_per_iter=[0-9]+ batches=[0-9]+ ns_per_iter=$number+ \
ns_median=$number+ ns_best=$number+" "result line of $name"
    case $name in
    pio | mmio) expect_line "$d/err" 'bench device: 64 writes exited to the VMM, 0 ioeventfd' \
        "$name writes reach the device" ;;
    *-ioeventfd)
        expect_line "$d/err" 'bench device: 0 writes exited to the VMM, 64 ioeventfd kicks' \
            "$name writes go to the ioeventfd" ;;
    timer) expect_line "$d/out" "delta_us=20 min_ns=[0-9]+ max_ns=[0-9]+" "timer extremes" ;;
    esac
done

# Without the device the loops still run (unclaimed exits) and say so.
run_vm "$d/out" "$d/err" run -k "$KERNEL" -q -- bench.exits bench.mode=3 bench.iters=8
expect_status 0 "bench.exits without the device"
expect_line "$d/out" '^bench: no bench device' "note without the device"
expect_line "$d/out" '^bench: mode=mmio iters=8 dev=0 ioeventfd=0 ' "dev=0 without the device"
# Bad values: the guest refuses them, the VMM refuses an unknown --bench-device mode.
run_vm "$d/out" "$d/err" run -k "$KERNEL" -q --bench-device -- bench.exits bench.mode=32
expect_status 1 "bench.mode out of range"
expect_line "$d/out" '^bench: bench.mode must be' "bench.mode message"
run_vm "$d/out" "$d/err" run -k "$KERNEL" -q --bench-device=fast -- bench.exits
expect_status 1 "--bench-device=fast"
expect_line "$d/err" "bench-device: 'fast' is not ioeventfd" "--bench-device message"

# The harness: every mode has a row of numbers, and a verdict line.
run_vm "$d/out" "$d/err" bench exits --rounds 1 --iters 64 --wakes 8
expect_status 0 "bench exits"
for name in pio mmio pio-ioeventfd mmio-ioeventfd timer; do
    v='(ok|MISSED)'
    case $name in pio | mmio) ;; *) v='n/a' ;; esac # no exit reaches the VMM: not judged
    pct="[-+]$number+%"
    expect_line "$d/out" "^$name +$number+ +$number+ +$number+ +$number+% +$pct $v +$pct $v" \
        "bench exits row $name"
done
expect_line "$d/out" '^targets: (met|MISSED)' "bench exits verdict"
expect_line "$d/out" '^kvm: ((vmx|svm)\+(ept|npt|shadow)( \(nested\))?|pvm \(shadow paging(, nested)?\))$' \
    "bench exits kvm line"
run_vm "$d/out" "$d/err" bench exits --rounds 1 --iters 64 --mode timer,pio --no-pin
expect_status 0 "bench exits --mode --no-pin"
expect_no_line "$d/out" '^mmio ' "only the modes asked for"
run_vm "$d/out" "$d/err" bench exits --tools "$d/nowhere"
expect_status 1 "bench exits without barekvm"
expect_line "$d/err" 'barekvm\) not found at .*/nowhere/barekvm' "missing tool named"
run_vm "$d/out" "$d/err" bench exits --mode pio,fast
expect_status 1 "bench exits --mode with an unknown mode"

run_vm "$d/out" "$d/err" bench boot --runs 2
expect_status 0 "bench boot"
expect_line "$d/out" "^bare-KVM \(pvhboot\) +$number+ +$number+ +$number+ +1\.00x" "pvhboot row"
expect_line "$d/out" "^minivmm run -q +$number+ +$number+ +$number+ +$number+x +<= 1\.3x" \
    "minivmm row"
if command -v qemu-system-x86_64 >/dev/null; then
    expect_line "$d/out" "^QEMU microvm +$number+ .* minivmm $number+x faster" "QEMU row"
fi
expect_line "$d/out" '^targets: (met|MISSED)' "bench boot verdict"
# A guest that prints the wrong thing is a failed run, not a time.
run_vm "$d/out" "$d/err" bench boot --runs 1 --no-qemu --kernel "$KERNEL"
expect_status 1 "bench boot with the wrong guest"
expect_line "$d/err" "failed: .*trivial: hello' is missing|failed: wrong exit status" \
    "failure reported"
expect_line "$d/out" '^[0-9]+ runs failed' "failures counted"
pass "bench"
