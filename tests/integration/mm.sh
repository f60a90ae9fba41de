#!/bin/sh
# mm.sh COMMAND CPUS MEMORY: boots the guest's mm.selftest or mm.demo and checks the result,
# the exit status and the /proc/buddyinfo and zone report formats line by line. With more
# than 3 GiB of RAM ZONE_NORMAL must exist (RAM above the 3-4 GiB hole).
. "$(dirname "$0")/lib.sh"
need_kvm
cmd=$1; cpus=$2; mem=$3
scratch
run_vm "$d/out" "$d/err" run -k "$KERNEL" -c "$cpus" -m "$mem" --quiet -- "mm.$cmd"
what="mm.$cmd -c $cpus -m $mem"
expect_status 0 "$what"
tr -d '\r' <"$d/out" >"$d/txt"

# /proc/buddyinfo: "Node %d, zone %8s " then "%6lu " for each of the 11 orders.
count='[ 0-9]{5}[0-9] '
# "%8s" right-aligns the zone name in 8 columns after "zone ".
row="^Node 0, zone ( {5}DMA| {3}DMA32| {2}Normal) ($count){11}\$"
grep '^Node 0, zone' "$d/txt" | grep -v '^Node 0, zone *[A-Za-z0-9]*$' >"$d/rows"
[ -s "$d/rows" ] || { cat "$d/txt"; fail "$what: no buddyinfo rows"; }
while IFS= read -r line; do
    printf '%s\n' "$line" | grep -Eq -- "$row" || fail "$what: bad buddyinfo row '$line'"
done <"$d/rows"
expect_line "$d/txt" "^Node 0, zone {6}DMA ($count){11}\$" "buddyinfo DMA row"
expect_line "$d/txt" "^Node 0, zone {4}DMA32 ($count){11}\$" "buddyinfo DMA32 row"
case $mem in
*G) gib=${mem%G} ;;
*) gib=0 ;;
esac
if [ "$gib" -gt 3 ]; then
    expect_line "$d/txt" "^Node 0, zone {3}Normal ($count){11}\$" "buddyinfo Normal row"
else
    expect_no_line "$d/txt" "^Node 0, zone {3}Normal" "no Normal zone below 3 GiB"
fi

case $cmd in
selftest)
    # The zone report: a header per zone, then the counters.
    expect_line "$d/txt" '^Node 0, zone {6}DMA$' "zoneinfo DMA header"
    expect_line "$d/txt" '^Node 0, zone {4}DMA32$' "zoneinfo DMA32 header"
    for f in 'pages free' '      min' '      low' '      high' '      spanned' '      present' \
             '      managed' '      pcp'; do
        expect_line "$d/txt" "^  $f +[0-9]+\$" "zoneinfo '$f'"
    done
    expect_line "$d/txt" '^        protection: \([0-9]+, [0-9]+, [0-9]+\)$' "zoneinfo protection"
    expect_line "$d/txt" "^mm: ok: concurrent alloc/free on $cpus CPUs: " "concurrent check"
    expect_line "$d/txt" '^mm: ok: merge: after freeing everything buddyinfo equals' "merge"
    expect_line "$d/txt" '^BUG: double free of page pfn 0x[0-9a-f]+ order 1 caller 0x[0-9a-f]+' \
        "double-free report"
    expect_no_line "$d/txt" '^mm: FAIL' "failed checks"
    expect_line "$d/txt" '^SUCCESS$' "SUCCESS marker"
    ;;
demo)
    expect_line "$d/txt" '^__get_free_pages\(GFP_KERNEL, 3\) = 0x[0-9a-f]+: 8192 ints, sum 33550336$' \
        "order-3 block"
    expect_line "$d/txt" "^per-cpu counter: sum $cpus over $cpus cpus\$" "per-cpu counter"
    if grep -q '^could not allocate' "$d/txt"; then
        expect_line "$d/txt" '^could not allocate [0-9]+ bytes$' "kmalloc failure line"
        if grep -q '^vmalloc(' "$d/txt"; then
            expect_line "$d/txt" '^vmalloc\([0-9]+\) = 0x[0-9a-f]+: ok$' "vmalloc of the failed size"
        fi
        expect_line "$d/txt" '^lkp-cache: object 0x[0-9a-f]+ = \{42, 42\}, object 0x[0-9a-f]+ = \{43, 43\}$' \
            "lkp-cache objects"
    fi
    ;;
esac
[ ! -s "$d/err" ] || { cat "$d/err"; fail "--quiet printed on stderr"; }
pass "$what"
