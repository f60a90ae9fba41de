#!/bin/sh
# ne2000.sh: the guest's NE2000 driver (guest/net/ne2000.c) end to end.
#
#   ne2000.sh minivmm  (suites integration, kvm) under `minivmm run --nic vfs=1,ne2000=on`,
#                      one VM: net.selftest makes vf0 and the NE2000 ARP-resolve and ping each
#                      other through the PF switch; net.ping from the NE2000 to vf0 (net.dev);
#                      net.tx over the NE2000 into the sink uplink (counts and checksum agree,
#                      every word through the data port); net.dev errors.
#   ne2000.sh qemu     (suites integration, qemu) under QEMU microvm with ne2k_isa at 0x300,
#                      IRQ 9 and user networking: net.ping to the slirp gateway 10.0.2.2 (no
#                      device tree: the guest probes the port), alone and beside a virtio-net
#                      VF; net.echo's UDP echo across the receive ring's wrap
#                      (ne2000_qemu_echo.py); skips when QEMU is missing.
. "$(dirname "$0")/lib.sh"
need_kvm
scratch

if [ "${1:-minivmm}" = qemu ]; then
    command -v qemu-system-x86_64 >/dev/null ||
        { echo "SKIP: qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"; exit 77; }
    qemu() { # DEVICE-ARGS... -- APPEND
        status=0
        timeout -s KILL 60 qemu-system-x86_64 -M microvm,acpi=off -accel kvm -nodefaults \
            -no-user-config -nographic -serial stdio -device isa-debug-exit "$@" \
            -kernel "$KERNEL" -append "$app" >"$d/out" 2>"$d/err" </dev/null || status=$?
        out=$d/out; err=$d/err
    }
    app="net.dev=ne2000 net.ping=10.0.2.2 net.count=3"
    qemu -device ne2k_isa,netdev=n,iobase=0x300,irq=9 -netdev user,id=n
    expect_status 1 "qemu ne2k_isa net.ping ((0<<1)|1)"
    expect_line "$d/out" '^net: ne2000 mac 52:54:00:12:34:56 ip 10\.0\.2\.15$' "ne2000 line"
    expect_line "$d/out" '^net\.ping: 10\.0\.2\.2 is at ' "ARP over the NE2000"
    expect_line "$d/out" '^net\.ping: 10\.0\.2\.2: 3 sent, 3 received' "3 replies"
    # Beside a virtio-net VF the NE2000 is addressed after it; net.dev picks it for the ping.
    app="net.dev=ne2000 net.ping=10.0.2.2 net.count=1"
    qemu -global virtio-mmio.force-legacy=false -device virtio-net-device,netdev=v \
        -netdev user,id=v -device ne2k_isa,netdev=n,iobase=0x300,irq=9,mac=52:54:00:12:34:57 \
        -netdev user,id=n
    expect_status 1 "qemu virtio-net + ne2k_isa, net.dev=ne2000"
    expect_line "$d/out" '^net: vf0 mac .* ip 10\.0\.2\.15$' "vf0 line"
    expect_line "$d/out" '^net: ne2000 mac .* ip 10\.0\.2\.16$' "ne2000 after vf0"
    expect_line "$d/out" '^net\.ping: 10\.0\.2\.2: 1 sent, 1 received' "reply over the NE2000"
    # net.echo: UDP echo of 1-1472-byte payloads across the ring's wrap, and a burst.
    python3 "$(dirname "$0")/ne2000_qemu_echo.py" "$KERNEL" "$d" || fail "net.echo over ne2k_isa"
    pass "ne2000-qemu"
    exit 0
fi

# 1. One VM: vf0 <-> NE2000 through the switch, both directions.
run_vm "$d/out" "$d/err" run -k "$KERNEL" --nic vfs=1,ne2000=on -- net.selftest
expect_status 0 "net.selftest, vf0 + ne2000"
expect_line "$d/out" '^net: vf0 mac .* ip 10\.0\.2\.15$' "vf0 line"
expect_line "$d/out" '^net: ne2000 mac ([0-9a-f]{2}:){5}[0-9a-f]{2} ip 10\.0\.2\.16$' "ne2000 line"
expect_line "$d/out" '^net\.selftest: vf0 ping ne2000: ok' "vf0 pings the NE2000"
expect_line "$d/out" '^net\.selftest: ne2000 ping vf0: ok' "the NE2000 pings vf0"

# The port and IRQ are options; the guest takes them from the device tree.
run_vm "$d/out" "$d/err" run -k "$KERNEL" --nic vfs=1,ne2000=on,ne2000.port=0x280,ne2000.irq=10 \
    --exit-log "$d/alt.log" -- net.selftest
expect_status 0 "net.selftest with the NE2000 at 0x280, IRQ 10"
expect_line "$d/out" '^net\.selftest: ne2000 ping vf0: ok' "the NE2000 at 0x280 pings vf0"
"$MINIVMM" exits "$d/alt.log" >"$d/alt.rep" 2>&1 || fail "exits on the 0x280 run"
expect_line "$d/alt.rep" '0x28[0-9a-f] +ne2000 ' "the NE2000's registers at 0x280 in the bus map"
expect_line "$d/out" '^SUCCESS$' "SUCCESS"
expect_line "$d/err" '^minivmm: nic: .*ne2000 rx [1-9][0-9]* tx [1-9]' "VMM counts NE2000 frames"

# 2. net.ping over the NE2000 (vf0 of the same guest answers), net.ip moves both addresses;
#    70 replies of one ring page each take the receive ring (58 pages) past its wrap.
run_vm "$d/out" "$d/err" run -k "$KERNEL" --nic vfs=1,ne2000=on -- \
    net.dev=ne2000 net.ping=10.0.3.1 net.count=70 net.ip=10.0.3.1
expect_status 0 "net.ping from the NE2000 to vf0"
expect_line "$d/out" '^net: ne2000 mac .* ip 10\.0\.3\.2$' "ne2000 at net.ip + 1"
expect_line "$d/out" '^net\.ping: 10\.0\.3\.1: 70 sent, 70 received' "70 replies"
expect_no_line "$d/out" 'ring reset' "ring headers all valid"

# 3. net.tx over the NE2000 into the sink: the sink's bytes and sum are the guest's; every
#    frame went word by word through the data port (757 OUTs for 1514 bytes) between the markers.
run_vm "$d/out" "$d/err" run -k "$KERNEL" --nic vfs=1,uplink=sink,ne2000=on -- \
    net.tx net.dev=ne2000 net.count=10 net.size=1514
expect_status 0 "net.tx over the NE2000"
expect_line "$d/out" '^net\.tx: 10 packets, 15140 bytes in [0-9]+ us' "10 frames sent"
sum=$(tr -d '\r' <"$d/out" | sed -n 's/^net\.tx: payload 15140 bytes, sum \(0x[0-9a-f]*\)$/\1/p')
[ -n "$sum" ] || { cat "$d/out"; fail "no net.tx payload line"; }
expect_line "$d/err" "sink-bytes 15140 sink-sum $sum" "the sink got the same bytes"
expect_line "$d/err" '^  0x310 +ne2000 DATA write +75[0-9]{2} ' "rep outsw: one exit per word"
expect_line "$d/err" '^  xfer-done ' "xfer markers"

# 4. net.dev: no NE2000, or a bad name, fails with a message.
run_vm "$d/out" "$d/err" run -k "$KERNEL" --quiet --nic vfs=1 -- net.dev=ne2000 net.ping=10.0.2.2
expect_status 1 "net.dev=ne2000 without one"
expect_line "$d/out" '^net\.ping: no NE2000 ' "no-NE2000 message"
run_vm "$d/out" "$d/err" run -k "$KERNEL" --quiet --nic vfs=1,ne2000=on -- net.dev=e1000 net.tx
expect_status 1 "net.dev=e1000"
expect_line "$d/out" '^net\.tx: net\.dev=e1000: want ne2000 or virtio' "bad net.dev message"
pass "ne2000"
