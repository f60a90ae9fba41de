#!/bin/sh
# net_setmac.sh: the control virtqueue end to end (guest/net/virtio_net.c virtio_net_ctrl(),
# devices/virtio_net.c): net.setmac asks for a new MAC on vf1 with VIRTIO_NET_CTRL_MAC_ADDR_SET.
# A trusted VF gets it: vf0 reaches vf1 at the new MAC, the old one goes unanswered, and the
# switch's anti-spoof MAC follows (no tx-spoof drops). An untrusted VF is refused and keeps
# working with its old MAC. Both in the ioeventfd and in the notify=exit path.
. "$(dirname "$0")/lib.sh"
need_kvm
scratch

# 1. Trusted vf1: accepted.
for notify in ioeventfd exit; do
    run_vm "$d/out" "$d/err" run -k "$KERNEL" --nic "vfs=2,vf1.trust=on,notify=$notify" -- \
        net.setmac net.vf=1 net.expect=1
    expect_status 0 "net.setmac, trusted vf1, notify=$notify"
    expect_line "$d/out" '^net\.setmac: vf1 mac ([0-9a-f]{2}:){5}[0-9a-f]{2} -> ([0-9a-f]{2}:){5}[0-9a-f]{2}: ok$' "accepted"
    expect_line "$d/out" '^net\.setmac: vf0 ping vf1 at its mac: ok' "vf0 pings vf1 at the new MAC"
    expect_line "$d/out" '^net\.setmac: vf0 ping vf1 at the old mac: ok \(no reply\)' "old MAC unanswered"
    expect_line "$d/out" '^net\.setmac: vf1 ping vf0: ok' "vf1 pings vf0 from the new MAC"
    expect_line "$d/out" '^SUCCESS$' "SUCCESS"
    expect_line "$d/err" '^minivmm: nic: vf0 rx [0-9]+ tx [0-9]+[^;]*; vf1 rx [0-9]+ tx [0-9]+' "nic line"
    expect_no_line "$d/err" '^minivmm: nic: .*vf1 [^;]*tx-spoof' "no spoof drops for vf1"
done

# 2. Untrusted vf1: refused; its frames still pass with the old MAC.
run_vm "$d/out" "$d/err" run -k "$KERNEL" --nic vfs=2 -- net.setmac net.vf=1 net.expect=0
expect_status 0 "net.setmac, untrusted vf1"
expect_line "$d/out" '^net\.setmac: vf1 mac .*: refused$' "refused"
expect_line "$d/out" '^net\.setmac: vf0 ping vf1 at its mac: ok' "vf0 pings vf1 at the old MAC"
expect_line "$d/out" '^net\.setmac: vf1 ping vf0: ok' "vf1 pings vf0 from the old MAC"
expect_line "$d/out" '^SUCCESS$' "SUCCESS (refused)"
expect_no_line "$d/err" '^minivmm: nic: .*vf1 [^;]*tx-spoof' "no spoof drops for vf1 (refused)"

# 3. A wrong expectation fails: the untrusted VF is refused, net.expect=1 wanted it.
run_vm "$d/out" "$d/err" run -k "$KERNEL" --quiet --nic vfs=2 -- net.setmac net.vf=1
expect_status 1 "net.setmac expecting ok on an untrusted VF"
expect_line "$d/out" 'expected ok: FAILED' "expectation message"
pass "net-setmac"
