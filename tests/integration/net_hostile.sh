#!/bin/sh
# net_hostile.sh: a guest that breaks the virtio rules on vf0's transmit queue (net.hostile,
# guest/net/hostile.c): a buffer outside guest RAM (case 1), an address + length that wraps
# (2), a descriptor loop (3), avail idx jumping past the queue size (4). Each time the device
# must set DEVICE_NEEDS_RESET and raise a config interrupt, the other VFs must keep working,
# vf0 must work again after a reset, and the VMM must run on until the guest exits 0.
. "$(dirname "$0")/lib.sh"
need_kvm
scratch

# pcap_frames FILE: one line per frame, "dst src ethertype" in hex.
pcap_frames() {
    python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
assert struct.unpack('<I', d[:4])[0] == 0xa1b2c3d4, 'not a pcap file'
off = 24
while off + 16 <= len(d):
    incl = struct.unpack('<IIII', d[off:off + 16])[2]
    f = d[off + 16:off + 16 + incl]
    off += 16 + incl
    print(f[0:6].hex(), f[6:12].hex(), f[12:14].hex())
PY
}

# hostile_ok WHAT: the checks every successful run passes.
hostile_ok() {
    expect_status 0 "$1"
    expect_line "$d/out" "^net\\.hostile: case $c: NEEDS_RESET set: ok" "$1: NEEDS_RESET"
    expect_line "$d/out" "^net\\.hostile: case $c: config interrupt: ok" "$1: config interrupt"
    expect_line "$d/out" '^net\.hostile: vf1 status 0x[0-9a-f]+: ok' "$1: vf1 unaffected"
    expect_line "$d/out" '^net\.hostile: vf0 reset: ok' "$1: vf0 reset"
    expect_line "$d/out" '^net\.hostile: vf0 ping vf1 after reset: ok' "$1: vf0 works after reset"
    expect_line "$d/out" '^SUCCESS$' "$1: SUCCESS"
    expect_no_line "$d/out" 'FAIL' "$1: no failed check"
    # The VMM tore down normally and counted the violation on vf0 only.
    expect_line "$d/err" '^minivmm: nic: vf0 [^;]* needs-reset 1( |;|$)' "$1: vf0's needs-reset count"
    expect_no_line "$d/err" '; vf[1-9][^;]* needs-reset' "$1: no needs-reset on other VFs"
    # No sanitizer or assertion report.
    expect_no_line "$d/err" 'Sanitizer|Assertion|assert|Aborted|Segmentation' "$1: no crash"
}

# 1. Each case with 3 VFs (ioeventfd kicks, handled on a VMM thread): vf1 pings vf2.
for c in 1 2 3 4; do
    run_vm "$d/out" "$d/err" run -k "$KERNEL" --nic vfs=3 -- net.hostile net.case=$c
    hostile_ok "case $c"
    expect_line "$d/out" '^net\.hostile: vf2 status 0x[0-9a-f]+: ok' "case $c: vf2 unaffected"
    expect_line "$d/out" '^net\.hostile: vf1 ping vf2: ok' "case $c: vf1 pings vf2"
done

# 2. notify=exit: the kick is handled in the vCPU's own MMIO exit.
for c in 1 3; do
    run_vm "$d/out" "$d/err" run -k "$KERNEL" --nic vfs=3,notify=exit -- net.hostile net.case=$c
    hostile_ok "case $c, notify=exit"
done

# 3. Two VFs: vf1's broadcast, sent while vf0 needs a reset, reaches the uplink.
c=4
run_vm "$d/out" "$d/err" run -k "$KERNEL" --nic "vfs=2,uplink=pcap:$d/u.pcap" -- net.hostile \
    net.case=4
hostile_ok "case 4, 2 VFs"
expect_line "$d/out" '^net\.hostile: vf1 sent a broadcast to the uplink: ok' "vf1 broadcast"
mac1=$(tr -d '\r' <"$d/out" | sed -n 's/^net: vf1 mac \([0-9a-f:]*\) .*/\1/p' | tr -d ':')
[ -n "$mac1" ] || fail "no vf1 MAC in the output"
pcap_frames "$d/u.pcap" >"$d/frames" || fail "cannot read the uplink capture"
expect_line "$d/frames" "^ffffffffffff $mac1 0800\$" "vf1's broadcast on the uplink"

# 4. A bad case number fails cleanly.
run_vm "$d/out" "$d/err" run -k "$KERNEL" --quiet --nic vfs=3 -- net.hostile net.case=9
expect_status 1 "net.case=9"
expect_line "$d/out" '^net\.hostile: usage' "usage message"
pass "net-hostile"
