#!/bin/sh
# net.sh: the NIC end to end (src/nic.c, devices/virtio_net.c, the guest's net.selftest):
# VFs on one PF switch ARP-resolve and ping each other; the uplink capture shows the ARP
# broadcasts; anti-spoofing drops forged source MACs (and does not with spoofchk=off); VLANs
# separate VFs and tag frames toward the uplink; notify=exit and event_idx=off work too; the
# FDT and the command line describe the VFs; `hello` still boots with NICs; bad --nic fails.
. "$(dirname "$0")/lib.sh"
need_kvm
scratch

# pcap_frames FILE: one line per frame, "dst src ethertype [vlan-ethertype]" in hex.
pcap_frames() {
    python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
assert struct.unpack('<I', d[:4])[0] == 0xa1b2c3d4, 'not a pcap file'
assert struct.unpack('<I', d[20:24])[0] == 1, 'not LINKTYPE_ETHERNET'
off = 24
while off + 16 <= len(d):
    incl = struct.unpack('<IIII', d[off:off + 16])[2]
    f = d[off + 16:off + 16 + incl]
    off += 16 + incl
    et = f[12:14].hex()
    print(f[0:6].hex(), f[6:12].hex(), et, f[16:18].hex() if et == '8100' else '')
PY
}

# 1. Two VFs, ioeventfd (default): SUCCESS, and the capture shows an ARP broadcast.
run_vm "$d/out" "$d/err" run -k "$KERNEL" --quiet --nic "vfs=2,uplink=pcap:$d/x.pcap" -- net.selftest
expect_status 0 "net.selftest, 2 VFs"
expect_line "$d/out" '^net\.selftest: vf0 ping vf1: ok' "vf0 pings vf1"
expect_line "$d/out" '^net\.selftest: vf1 ping vf0: ok' "vf1 pings vf0"
expect_line "$d/out" '^SUCCESS$' "SUCCESS"
pcap_frames "$d/x.pcap" >"$d/frames" || fail "cannot read the uplink capture"
expect_line "$d/frames" '^ffffffffffff [0-9a-f]{12} 0806 $' "ARP broadcast on the uplink"

# 2. Three VFs, notify=exit, event_idx=off, per-VF capture.
run_vm "$d/out" "$d/err" run -k "$KERNEL" --quiet \
    --nic "vfs=3,notify=exit,event_idx=off,vf2.pcap=$d/vf2.pcap" -- net.selftest
expect_status 0 "net.selftest, 3 VFs, notify=exit"
expect_line "$d/out" '^net\.selftest: vf2 ping vf0: ok' "vf2 pings vf0"
pcap_frames "$d/vf2.pcap" >"$d/frames" || fail "cannot read the vf2 capture"
expect_line "$d/frames" ' 0800 $' "IPv4 in vf2's capture"

# 3. Anti-spoofing: forged source MACs are dropped (and counted in the VMM's summary).
run_vm "$d/out" "$d/err" run -k "$KERNEL" --nic vfs=2 -- net.selftest net.spoof=1
expect_status 0 "net.selftest net.spoof=1"
expect_line "$d/out" 'spoofed-MAC pings to vf0: 3 sent, 0 answered: ok' "spoofed pings dropped"
expect_line "$d/err" '^minivmm: nic: vf0 rx [0-9]+ tx [0-9]+[^;]*; vf1 .* tx-spoof 3' "spoof drops counted"
run_vm "$d/out" "$d/err" run -k "$KERNEL" --nic vfs=2,vf1.spoofchk=off -- net.selftest net.spoof=1
expect_status 0 "net.selftest net.spoof=1, spoofchk off"
expect_no_line "$d/err" 'tx-spoof' "no spoof drops with spoofchk=off"

# 4. VLANs: VFs in different VLANs cannot talk; in the same one they can, tagged on the uplink.
run_vm "$d/out" "$d/err" run -k "$KERNEL" --quiet --nic vfs=2,vf0.vlan=10 -- net.selftest
expect_status 1 "VFs in different VLANs"
expect_line "$d/out" '^net\.selftest: vf0 arp .*FAILED' "no ARP across VLANs"
run_vm "$d/out" "$d/err" run -k "$KERNEL" --quiet \
    --nic "vfs=2,vf0.vlan=10,vf1.vlan=10,uplink=pcap:$d/v.pcap" -- net.selftest
expect_status 0 "VFs in one VLAN"
pcap_frames "$d/v.pcap" >"$d/frames" || fail "cannot read the VLAN capture"
expect_line "$d/frames" '^ffffffffffff [0-9a-f]{12} 8100 0806$' "tagged ARP on the uplink"

# 5. FDT and command line; hello still boots; two NICs share the windows.
command -v dtc >/dev/null || { echo "SKIP: dtc (device-tree-compiler) not installed"; exit 77; }
run_vm "$d/out" "$d/err" run -k "$KERNEL" -q --nic vfs=1 --nic vfs=2 --dump-dtb "$d/n.dtb" -- hello
expect_status 0 "dump-dtb with NICs"
dtc -q -I dtb -O dts "$d/n.dtb" >"$d/n.dts" || fail "dtc cannot decode the dtb"
expect_line "$d/n.dts" 'bootargs = "hello virtio_mmio.device=4K@0xfeb00000:16 virtio_mmio.device=4K@0xfeb01000:17 virtio_mmio.device=4K@0xfeb02000:18"' "command-line words"
expect_line "$d/n.dts" 'pf@feb00000 \{' "first PF"
expect_line "$d/n.dts" 'pf@feb01000 \{' "second PF"
expect_line "$d/n.dts" 'compatible = "minivmm,sriov-pf\\0simple-bus"' "PF compatible"
expect_line "$d/n.dts" 'virtio_mmio@feb02000 \{' "third VF"
expect_line "$d/n.dts" 'interrupts = <0x12 0x01>' "pin 18, level high"
expect_line "$d/n.dts" 'minivmm,vf-index = <0x02>' "vf-index (window number)"
run_vm "$d/out" "$d/err" run -k "$KERNEL" --quiet --nic vfs=2 -- hello
expect_status 0 "hello with --nic vfs=2"

# 6. Bad options fail before the guest runs.
run_vm "$d/out" "$d/err" run -k "$KERNEL" --quiet --nic vfs=9 -- hello
expect_status 1 "vfs=9"
expect_line "$d/err" '^minivmm: --nic: vfs' "vfs=9 message"
run_vm "$d/out" "$d/err" run -k "$KERNEL" --quiet --nic vfs=5 --nic vfs=4 -- hello
expect_status 1 "9 VFs in all"
expect_line "$d/err" 'more than the 8 virtio-mmio windows' "too many VFs message"
pass "net"
