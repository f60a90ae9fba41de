#!/bin/sh
# linux_net.sh: Debian's own kernel drives minivmm's VFs with its own virtio_mmio and virtio_net
# (found through the DSDT: LNRO0005), and meets three other implementations through the PF
# switch, inside a network namespace this test creates (nothing leaves it):
#   - our guest (net.echo, then net.ping) in a second minivmm over the dgram uplink,
#   - QEMU's virtio-net-device (our guest under QEMU, net.echo) over the same dgram pair,
#   - the namespace's kernel through a tap.
# The Linux side (linux_net_init.sh; five VFs on two NICs) prints "t: ..." results: frames of every size from 60 to
# 1514 bytes, UDP echo, VLAN isolation, max_tx_rate, carrier changes made with `minivmm ctl`,
# MAC changes and promiscuous mode against trust, spoofed frames, rmmod/modprobe; its dmesg must
# not complain about our device. The VF 0 capture must read cleanly in tshark.
. "$(dirname "$0")/lib.sh"
need_kvm
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 missing (tools/deps installs it)"
command -v tshark >/dev/null || fail "tshark missing (tools/deps installs it)"
if [ -z "${LINUX_NET_NS:-}" ]; then
    unshare -n true 2>/dev/null ||
        { echo "SKIP: cannot create a network namespace (unshare -n: needs CAP_SYS_ADMIN)"; exit 77; }
    LINUX_NET_NS=1 exec unshare -n sh "$0" "$@"
fi
scratch
here=$(cd "$(dirname "$0")" && pwd)
tools=$(cd "$here/../../tools" && pwd)
netsend=$(dirname "$MINIVMM")/tools/netsend
"$tools/linux-guest" --script "$here/linux_net_init.sh" --add "$netsend" --out "$d/init.cpio" \
    >"$d/paths" 2>"$d/prep" || { cat "$d/prep"; fail "tools/linux-guest could not provide the kernel and initramfs"; }
. "$d/paths"

ip link set lo up
ip tuntap add dev mvtap0 mode tap || fail "cannot create a tap in the namespace"
ip addr add 10.0.9.1/24 dev mvtap0 && ip link set mvtap0 up || fail "cannot configure mvtap0"

bg_pids=
cleanup() {
    rc=$?
    [ "$rc" -eq 0 ] || { echo "--- the Linux guest's console"; cat "$d/lx.out" "$d/lx.err" 2>/dev/null; }
    for p in $bg_pids; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$d"
}
trap cleanup EXIT
set -- $(free_ports 2)
pa=$1 pb=$2

# Our guest answers at 10.0.2.20 until the Linux side is done with it.
timeout -s KILL 900 "$MINIVMM" run -k "$KERNEL" --nic "vfs=1,uplink=dgram:$pa:$pb" \
    -- net.echo net.ip=10.0.2.20 >"$d/echo.out" 2>"$d/echo.err" </dev/null &
echo_pid=$!
bg_pids="$echo_pid"
wait_line "$d/echo.out" '^net\.echo: answering' 60 "$echo_pid" ||
    { cat "$d/echo.out" "$d/echo.err"; fail "the net.echo guest did not start"; }

timeout -s KILL 1500 "$MINIVMM" run -k "$BZIMAGE" -i "$d/init.cpio" -m 512M \
    --api-sock "$d/api" \
    --nic "vfs=2,uplink=dgram:$pb:$pa,mac=52:54:00:00:01:00,vf0.trust=on,vf0.pcap=$d/vf0.pcap" \
    --nic "vfs=3,uplink=tap:mvtap0,mac=52:54:00:00:02:00,vf1.vlan=10,vf2.max_tx_rate=2" \
    --cmdline "console=ttyS0 quiet panic=-1 pci=off" >"$d/lx.out" 2>"$d/lx.err" </dev/null &
lx=$!
bg_pids="$bg_pids $lx"
# step REGEX WHAT: the Linux side got to a line (boot and TCG make this slow in kvmbox).
step() {
    wait_line "$d/lx.out" "$1" 900 "$lx" ||
        { echo "--- linux"; cat "$d/lx.out" "$d/lx.err"; fail "linux: $2"; }
}

step '^t: echo-requests-wait' "never finished with our echo guest"
kill "$echo_pid"; wait "$echo_pid" 2>/dev/null
run_vm "$d/ping.out" "$d/ping.err" run -k "$KERNEL" --nic "vfs=1,uplink=dgram:$pa:$pb" \
    -- net.ping=10.0.2.15 net.ip=10.0.2.20 net.count=3
expect_status 0 "our guest pings Linux"
expect_line "$d/ping.out" '^net\.ping: 10\.0\.2\.15 is at 52:54:00:00:01:00' "Linux answers ARP"
expect_line "$d/ping.out" '^net\.ping: 10\.0\.2\.15: 3 sent, 3 received' "Linux answers 3 pings"

qemu_dgram_guest "$pa" "$pb" 900 "$d/qemu.out" "$d/qemu.err" "net.echo net.ip=10.0.2.21"
bg_pids="$bg_pids $!"

step '^t: tap-wait' "never reached the tap step"
icmp_ping 10.0.9.15 3 >"$d/icmp.out" 2>&1 || { cat "$d/icmp.out"; fail "the namespace pings Linux over the tap"; }

step '^t: carrier-wait 0' "never reached the carrier step"
"$MINIVMM" ctl "$d/api" vf set 0 state disable >"$d/ctl.out" 2>&1 || { cat "$d/ctl.out"; fail "ctl: disable"; }
step '^t: carrier-wait 1' "never saw the carrier drop"
"$MINIVMM" ctl "$d/api" vf set 0 state auto >"$d/ctl.out" 2>&1 || { cat "$d/ctl.out"; fail "ctl: auto"; }
step '^t: done' "never finished"
"$MINIVMM" ctl --json "$d/api" vf list >"$d/vfs.json" 2>&1 || true

wait "$lx"; status=$?
out=$d/lx.out err=$d/lx.err
expect_status 0 "Linux powers off"
expect_line "$d/lx.err" 'guest: power off' "the power-off message"
r() { expect_line "$d/lx.out" "^t: $1" "$2"; }
r 'mac eth0 52:54:00:00:01:00$' "eth0 is VF 0 with its MAC"
r 'mac eth1 52:54:00:00:01:01$' "eth1 is VF 1"
r 'mac eth2 52:54:00:00:02:00$' "eth2 is NIC 1's VF 0"
r 'mac eth3 52:54:00:00:02:01$' "eth3 is NIC 1's VF 1"
r 'mac eth4 52:54:00:00:02:02$' "eth4 is NIC 1's VF 2"
r 'ping-guest 3/3$' "Linux pings our guest"
r 'sizes 93/93$' "every frame size from 60 to 1514 bytes"
r 'udp-echo-guest netsend: echo 5/5 netsend: echo 5/5$' "UDP echo from our guest"
r 'echo-requests [3-9]' "our guest's pings reached Linux"
r 'ping-qemu 3/3$' "Linux pings QEMU's guest"
r 'udp-echo-qemu netsend: echo 5/5 netsend: echo 5/5$' "UDP echo from QEMU's guest"
r 'ping-host 3/3$' "Linux pings the namespace over the tap"
r 'host-echo-requests [3-9]' "the namespace's pings reached Linux"
r 'rate netsend: udp 300 frames 454200 bytes' "the rate-limited sender finished"
r 'vlan-same 3$' "VLAN 0 to VLAN 0 broadcasts arrive"
r 'vlan-10-to-0 0$' "VLAN 10 does not reach VLAN 0"
r 'vlan-0-to-10 0$' "VLAN 0 does not reach VLAN 10"
r 'carrier 0$' "the carrier drops with state disable"
r 'carrier 1$' "the carrier returns with state auto"
r 'setmac eth0 ok$' "the trusted VF changes its MAC"
r 'ping-after-setmac 2/2$' "eth0 works at its new MAC"
r 'setmac eth1 refused$' "the untrusted VF may not change its MAC"
r 'mac-now eth1 52:54:00:00:01:01$' "eth1 keeps its MAC"
r 'promisc-untrusted 0$' "no unknown unicast for the untrusted VF"
r 'promisc-trusted 3$' "unknown unicast for the trusted, promiscuous VF"
r 'mac-reprobe eth0 52:54:00:00:01:00$' "after a reset VF 0 has its assigned MAC again"
r 'mac-reprobe eth1 52:54:00:00:01:01$' "after a reset VF 1 has its MAC"
r 'ping-after-reprobe 3/3$' "the VF works after rmmod/modprobe"
r 'dmesg-bad 0$' "Linux's log has no complaint about our device"
expect_line "$d/icmp.out" '^3 received$' "the namespace pings Linux over the tap"
expect_no_line "$d/lx.out" '^t: .*(failed|fewer|no carrier|does not answer|no echo|did not come)' \
    "every step of the Linux side"
# The end-of-run line: spoofed and tagged frames were dropped and counted; the rate held.
line=$(grep '^minivmm: nic: ' "$d/lx.err") || { cat "$d/lx.err"; fail "no end-of-run NIC line"; }
echo "$line"
vf() { echo "$line" | sed 's/^minivmm: nic: //' | tr ';' '\n' | grep -E "^ ?vf$1 "; }
vf 1 | grep -q ' tx-spoof 5\b' || fail "vf1: want tx-spoof 5: $(vf 1)"
vf 0 | grep -q ' tx-vlan 4\b' || fail "vf0: want tx-vlan 4 (eth0.10's tagged frames): $(vf 0)"
vf 4 | awk '{ for (i = 1; i < NF; i++) { if ($i == "tx-bytes") b = $(i + 1); if ($i == "tx-us") u = $(i + 1)
                                          if ($i == "rate-waits") w = $(i + 1) } }
            END { r = 8 * b / u; printf "vf4: %d bytes in %d us: %.2f Mbit/s, %d rate waits\n", b, u, r, w
                  exit !(b >= 454200 && r <= 2.2 && w > 0) }' ||
    fail "vf4 (max_tx_rate 2): $(vf 4)"
# The capture of VF 0 reads cleanly in tshark and holds the largest frames both ways.
tshark -r "$d/vf0.pcap" -q >"$d/tshark.out" 2>&1 || { cat "$d/tshark.out"; fail "tshark cannot read the capture"; }
n=$(tshark -r "$d/vf0.pcap" -Y 'frame.len == 1514 && icmp' 2>/dev/null | wc -l)
[ "$n" -ge 2 ] || fail "the capture has $n ICMP frames of 1514 bytes, want both directions"
pass "linux-net"
