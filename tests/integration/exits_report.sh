#!/bin/sh
# exits_report.sh: `minivmm exits` on the log of a real boot: the table, CSV and JSON formats
# (ports and addresses in hex everywhere), each filter, --timeline, KVM's counts beside ours,
# a truncated log, bad options (one line, status 1), and --plot (a PNG) when gnuplot exists.
. "$(dirname "$0")/lib.sh"
need_kvm
scratch
run_vm "$d/out" "$d/err" run -k "$KERNEL" -c 2 --quiet --exit-log "$d/x.log"
expect_status 0 "run with exit log"

# report FILE ARGS...: runs `minivmm exits` into $d/rep (stdout) and $d/rerr (stderr).
report() {
    rstatus=0
    "$MINIVMM" exits "$@" >"$d/rep" 2>"$d/rerr" || rstatus=$?
    [ "$rstatus" -eq 0 ] || { cat "$d/rep" "$d/rerr"; fail "exits $*: status $rstatus"; }
}

# Table (the default).
report "$d/x.log"
expect_line "$d/rep" '^exit log .*: version 1, 2 vCPUs' "log line"
expect_line "$d/rep" '^exits: [0-9]+ of [0-9]+ in ' "totals"
expect_line "$d/rep" 'samples +samples% +time% +min\(us\) +mean\(us\) +p50\(us\) +p99\(us\) +max\(us\)' \
    "perf-style reason columns"
expect_line "$d/rep" '^  IO +[0-9]+ +[0-9.]+ +[0-9.]+ ' "IO row"
expect_line "$d/rep" '^  0x3f8 +serial THR write +[0-9]+' "serial THR named, hex port"
expect_line "$d/rep" '^  0x501 +exit STATUS write' "exit port named"
expect_line "$d/rep" '^  0xfec00000 +ioapic IOREGSEL write' "IOAPIC MMIO named, hex address"
expect_line "$d/rep" '^vCPUs:' "per-vCPU table"
expect_line "$d/rep" '^  +1 +[0-9]+ ' "vCPU 1 row"
expect_line "$d/rep" '^  serial +pio +0x3f8 +[0-9]+' "per-device row"
expect_line "$d/rep" '^  rtc +pio +0x70 +0 ' "the bus map's CMOS RTC (our guest leaves it alone)"
expect_line "$d/rep" '^  i8042 +pio +0x60 +0 ' "the bus map's i8042 data port"
expect_line "$d/rep" '^  i8042 +pio +0x64 +0 ' "the bus map's i8042 status port"
for p in entry long-mode devices-ready cpus-up command done; do
    expect_line "$d/rep" "^  $p +[0-9.]+ +[0-9.]+ +[0-9]+" "phase $p"
done
expect_line "$d/rep" '^  \(after done\)' "exits after the last marker"
expect_line "$d/rep" "^KVM's counts" "KVM's counts"
expect_no_line "$d/rep" '^  [0-9]{3,} +serial' "a port in decimal"
# Where the host has KVM's binary statistics the log carries them: then IO is compared with
# io_exits, and a 0 from KVM (PVM hosts) must be explained.
if grep -q "^KVM's counts beside minivmm's" "$d/rep"; then
    expect_line "$d/rep" '^  io_exits +IO +all ' "io_exits beside IO"
    kio=$(sed -n 's/^  io_exits  *IO  *all  *\([0-9]*\) .*/\1/p' "$d/rep")
    if [ "$kio" = 0 ]; then
        expect_line "$d/rep" "^note: KVM counts 0 PIO exits \(io_exits\), minivmm logged [1-9][0-9]* \(IO\): on PVM hosts" \
            "PVM note"
    fi
else
    expect_line "$d/rep" "^KVM's counts: none in this log" "no stats records"
fi

# CSV: one section per table, a header line each, hex strings for ports and addresses.
report "$d/x.log" --format csv --timeline 1ms
[ "$(grep -c '^table,' "$d/rep")" -eq 11 ] || { cat "$d/rep"; fail "csv: want 11 sections"; }
for t in log reasons addresses vcpus devices phases timeline; do
    expect_line "$d/rep" "^$t," "csv $t rows"
done
expect_line "$d/rep" '^table,reason,code,samples,samples_pct,time_pct,total_us,min_us,mean_us,p50_us,p99_us,max_us$' \
    "reasons header"
expect_line "$d/rep" '^addresses,0x3f8,pio,write,serial,serial THR write,[0-9]+,' "csv port"
expect_line "$d/rep" '^addresses,0xfec00000,mmio,write,ioapic,ioapic IOREGSEL write,' "csv MMIO"
expect_line "$d/rep" '^devices,ioapic,mmio,0xfec00000,0x1000,' "csv device base"
expect_line "$d/rep" '^table,t_ms,bucket_us,total,IO' "timeline header"
expect_line "$d/rep" '^timeline,[0-9.]+,1000\.000,[0-9]+,' "timeline rows"

# JSON: valid, the promised members, addresses as hex strings.
report "$d/x.log" --format json --timeline 500us
if command -v python3 >/dev/null 2>&1; then
    python3 - "$d/rep" <<'EOF' || fail "json check"
import json, sys
r = json.load(open(sys.argv[1]))
for k in ("reasons", "addresses", "vcpus", "devices", "phases", "kvm_stats", "timeline",
          "truncated"):
    assert k in r, k
assert r["truncated"] is False
assert any(a["address"] == "0x3f8" and a["name"] == "serial THR write" for a in r["addresses"])
assert all(a["address"].startswith("0x") for a in r["addresses"])
assert all(d["base"].startswith("0x") for d in r["devices"])
io = [x for x in r["reasons"] if x["reason"] == "IO"][0]
assert io["min_us"] <= io["p50_us"] <= io["p99_us"] <= io["max_us"], io
assert sum(b["total"] for b in r["timeline"]) == r["log"]["counted"]
assert [p["phase"] for p in r["phases"]][:2] == ["entry", "long-mode"], r["phases"]
EOF
else
    expect_line "$d/rep" '"address": "0x3f8"' "json hex port"
fi

# Filters.
report "$d/x.log" --vcpu 1 --format csv
expect_line "$d/rep" '^vcpus,1,' "vCPU 1 only"
expect_no_line "$d/rep" '^vcpus,0,' "vCPU 0 filtered out"
report "$d/x.log" --reason MMIO
expect_line "$d/rep" '^filters: reason MMIO' "reason filter shown"
expect_no_line "$d/rep" '^  IO ' "IO filtered out"
expect_line "$d/rep" '^  0xfec00010 +ioapic IOWIN read' "MMIO kept"
report "$d/x.log" --device serial --format csv
expect_no_line "$d/rep" '^addresses,0x(80|501|fec)' "other devices filtered out"
expect_line "$d/rep" '^addresses,0x3f8,' "serial kept"
report "$d/x.log" --device none
expect_line "$d/rep" '^exits: 0 of ' "nothing unclaimed in a normal boot"
report "$d/x.log" --since 0 --until 1ms --format csv
report "$d/x.log" --since 1s
expect_line "$d/rep" '^exits: 0 of ' "nothing a second after a short boot"
report "$d/x.log" --timeline 0.001s
expect_line "$d/rep" '^timeline \(exits per 1 ms bucket' "table timeline"

# A truncated log: a note, and the report still comes.
size=$(wc -c <"$d/x.log")
head -c $((size - 3)) "$d/x.log" >"$d/t.log"
report "$d/t.log"
expect_line "$d/rerr" 'last record truncated at offset' "truncation on stderr"
expect_line "$d/rep" '^note: the log is truncated' "truncation in the report"
expect_line "$d/rep" '^exits: [1-9]' "report of a truncated log"

# Bad options and values: one line, status 1.
for args in "--vcpu x" "--vcpu 9" "--reason nope" "--device nope" "--since 5h" \
    "--since 2 --until 1" "--format xml" "--timeline 0" "--frob"; do
    st=0
    # shellcheck disable=SC2086
    "$MINIVMM" exits "$d/x.log" $args >"$d/rep" 2>"$d/rerr" || st=$?
    [ "$st" -eq 1 ] || fail "exits $args: status $st, want 1"
    [ "$(wc -l <"$d/rerr")" -eq 1 ] || { cat "$d/rerr"; fail "exits $args: not one line"; }
    expect_line "$d/rerr" '^minivmm: ' "exits $args: message"
done
st=0
"$MINIVMM" exits "$d/out" >/dev/null 2>"$d/rerr" || st=$?
[ "$st" -eq 1 ] || fail "garbage log: status $st"
expect_line "$d/rerr" 'not a minivmm exit log' "garbage log message"

# --plot: a PNG when gnuplot is there (tools/deps installs gnuplot-nox); a clear error without.
st=0
PATH=/nonexistent "$MINIVMM" exits "$d/x.log" --plot "$d/none.png" >/dev/null 2>"$d/rerr" || st=$?
[ "$st" -eq 1 ] || fail "--plot without gnuplot: status $st"
expect_line "$d/rerr" 'gnuplot not found' "--plot without gnuplot"
if command -v gnuplot >/dev/null 2>&1; then
    report "$d/x.log" --plot "$d/x.png" --format json
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$d/rep" 2>/dev/null ||
        ! command -v python3 >/dev/null || fail "--plot spoilt the JSON on stdout"
    [ "$(head -c 8 "$d/x.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
        fail "--plot: $d/x.png is not a PNG"
    report "$d/x.log" --plot "$d/y.png" --reason io --timeline 2ms
    [ -s "$d/y.png" ] || fail "--plot with filters"
else
    echo "SKIP: --plot (gnuplot not installed; tools/deps installs gnuplot-nox)"
fi
pass "exits report"
