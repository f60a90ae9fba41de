#!/bin/sh
# net_qemu.sh: the guest's virtio-mmio probe, virtio-net driver and stack under QEMU microvm
# with user networking (slirp): net.ping to the slirp gateway 10.0.2.2 (ARP, then ICMP echo;
# no packet leaves the machine). QEMU finds the device through the virtio_mmio.device= word
# microvm adds with acpi=off; isa-debug-exit turns status v into (v<<1)|1.
# Then net.echo (net_qemu_echo.py): UDP echo and link status changes.
# Skips when qemu-system-x86_64 is not installed.
. "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null ||
    { echo "SKIP: qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"; exit 77; }
need_kvm
scratch
qemu() {
    status=0
    timeout -s KILL 60 qemu-system-x86_64 -M microvm,acpi=off -accel kvm -nodefaults \
        -no-user-config -nographic -serial stdio -device isa-debug-exit \
        -global virtio-mmio.force-legacy=false \
        -device virtio-net-device,netdev=n -netdev user,id=n \
        -kernel "$KERNEL" -append "$1" >"$d/out" 2>"$d/err" </dev/null || status=$?
    out=$d/out; err=$d/err
}
qemu "net.ping=10.0.2.2 net.count=3"
expect_status 1 "qemu net.ping ((0<<1)|1)"
expect_line "$d/out" '^net: vf0 mac 52:54:00:12:34:56 ip 10\.0\.2\.15$' "vf0 line"
expect_no_line "$d/out" "unknown word 'virtio_mmio" "virtio_mmio.device consumed"
expect_line "$d/out" '^net\.ping: 10\.0\.2\.2 is at ' "ARP"
expect_line "$d/out" 'icmp_seq=3 time=[0-9]+ us' "third reply"
expect_line "$d/out" '^net\.ping: 10\.0\.2\.2: 3 sent, 3 received' "summary"
# net.ip moves the address; an address nobody answers fails with status 1.
qemu "net.ping=10.0.2.99 net.count=1 net.ip=10.0.2.20"
expect_status 3 "qemu net.ping to a silent address ((1<<1)|1)"
expect_line "$d/out" '^net: vf0 mac .* ip 10\.0\.2\.20$' "net.ip"
expect_line "$d/out" '^net\.ping: 10\.0\.2\.99: (no ARP reply|icmp_seq=1 timeout)' "no reply"
# net.echo: UDP echo through slirp's port forwarding, and link down/up from QEMU's monitor.
python3 "$(dirname "$0")/net_qemu_echo.py" "$KERNEL" "$d" || fail "net.echo under QEMU"
pass "net-qemu"
