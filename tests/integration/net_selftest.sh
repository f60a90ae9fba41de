#!/bin/sh
# net_selftest.sh: the guest's virtio-net driver and stack on minivmm's NIC (--nic vfs=N):
# every VF resolves and pings every other through the PF's switch, and vf1's pings with a
# forged source MAC go unanswered (net.spoof=1). Needs the VMM's --nic wiring (src/nic.c).
. "$(dirname "$0")/lib.sh"
need_kvm
scratch
run_vm "$d/out" "$d/err" run -k "$KERNEL" --nic vfs=3 -- net.selftest net.spoof=1 net.ip=10.1.0.5
expect_status 0 "net.selftest vfs=3"
expect_line "$d/out" '^net: vf0 mac ([0-9a-f]{2}:){5}[0-9a-f]{2} ip 10\.1\.0\.5$' "vf0 line"
expect_line "$d/out" '^net: vf2 mac ([0-9a-f]{2}:){5}[0-9a-f]{2} ip 10\.1\.0\.7$' "vf2 line"
expect_line "$d/out" '^net\.selftest: vf2 ping vf1: ok' "vf2 pings vf1"
expect_line "$d/out" '^net\.selftest: vf1 spoofed-MAC pings to vf0: 3 sent, 0 answered: ok' \
    "spoofed pings dropped"
expect_line "$d/out" '^SUCCESS$' "SUCCESS"
expect_no_line "$d/out" 'FAILED' "no failed check"
expect_no_line "$d/out" 'unknown word' "virtio_mmio.device words consumed"
# One VF has nobody to ping: FAIL, status 1.
run_vm "$d/out" "$d/err" run -k "$KERNEL" --nic vfs=1 -- net.selftest
expect_status 1 "net.selftest vfs=1"
expect_line "$d/out" '^FAIL$' "FAIL with one VF"
pass "net-selftest"
