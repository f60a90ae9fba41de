# linux_net_init.sh: the Linux side of linux_net.sh, appended to tools/linux-guest's /init
# prologue (busybox installed; /proc, /sys, /dev mounted). Debian's own virtio_mmio and
# virtio_net drive minivmm's VFs, found through the DSDT. Every result is a "t: ..." line on
# the console for linux_net.sh to check; "t: ...-wait" lines ask the host to act (it watches
# the console). The machine (linux_net.sh):
#   eth0 nic0 vf0 52:54:00:00:01:00 trusted, pcap  10.0.2.15  dgram uplink: our guest, QEMU's
#   eth1 nic0 vf1 52:54:00:00:01:01 untrusted      (no IP)
#   eth2 nic1 vf0 52:54:00:00:02:00                10.0.9.15  tap uplink: the namespace's 10.0.9.1
#   eth3 nic1 vf1 52:54:00:00:02:01 vlan 10                       10.0.8.15
#   eth4 nic1 vf2 52:54:00:00:02:02 max_tx_rate 2 Mbit/s, sends nothing else   10.0.7.15
say() { echo "t: $*"; }
# waitfor SECONDS CMD...: until CMD succeeds, at most SECONDS; 1 on timeout.
waitfor() {
    n=$1; shift
    while ! "$@" >/dev/null 2>&1; do
        n=$((n - 1)); [ "$n" -gt 0 ] || return 1; sleep 1
    done
}
# pingn IP N [SIZE]: how many of N echo requests (SIZE payload bytes) were answered.
pingn() {
    ping -c "$2" -W 2 ${3:+-s $3} "$1" 2>/dev/null |
        sed -n 's/.* \([0-9]*\) packets received.*/\1/p'
}
rx() { cat "/sys/class/net/$1/statistics/rx_packets"; }
# The ICMP echo requests this kernel answered (/proc/net/snmp, Icmp: InEchos).
inechos() {
    awk '/^Icmp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "InEchos") c = i; h = 1 }
                    else print $c }' /proc/net/snmp
}
echos_at_least() { [ "$(inechos)" -ge "$1" ]; }
carrier_is() { [ "$(cat /sys/class/net/eth0/carrier)" = "$1" ]; }

# No IPv6: its router and neighbour solicitations would add frames to every count below.
echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6
echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
# eth0 and eth1 share a switch: only the interface that holds an address answers ARP for it
# (Linux's default answers on every interface, so eth1 would claim 10.0.2.15 too).
echo 1 >/proc/sys/net/ipv4/conf/all/arp_ignore
echo 2 >/proc/sys/net/ipv4/conf/all/arp_announce
modprobe virtio_mmio && modprobe virtio_net && modprobe 8021q || say "modprobe failed"
waitfor 30 test -e /sys/class/net/eth4 || say "fewer than 5 interfaces"
for i in eth0 eth1 eth2 eth3 eth4; do say "mac $i $(cat /sys/class/net/$i/address)"; done
say "features $(cat /sys/class/net/eth0/device/features)"
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up
ip link set eth1 up
ip addr add 10.0.9.15/24 dev eth2 && ip link set eth2 up
ip addr add 10.0.8.15/24 dev eth3 && ip link set eth3 up
ip addr add 10.0.7.15/24 dev eth4 && ip link set eth4 up
waitfor 30 carrier_is 1 || say "eth0 has no carrier"

# 1. Our own guest (net.echo, 10.0.2.20) over the dgram uplink: ICMP, every frame size from 60
# to 1514 bytes (ICMP payload 18-1472: each size up to 60, then every 29th), UDP echo.
waitfor 120 ping -c 1 -W 1 10.0.2.20 || say "our guest does not answer"
say "ping-guest $(pingn 10.0.2.20 3)/3"
ok=0 n=0 bad=""
for s in $(seq 18 60) $(seq 61 29 1471) 1472; do
    n=$((n + 1))
    if [ "$(pingn 10.0.2.20 1 "$s")" = 1 ]; then ok=$((ok + 1)); else bad="$bad $s"; fi
done
say "sizes $ok/$n${bad:+ lost:$bad}"
say "udp-echo-guest $(netsend echo eth0 10.0.2.20 7 60 5) $(netsend echo eth0 10.0.2.20 7 1514 5)"

# 2. The reverse: the host replaces the echo guest by one that pings us 3 times.
say "echo-requests-wait"
waitfor 180 echos_at_least 3 || say "no echo requests from our guest"
say "echo-requests $(inechos)"

# 3. QEMU's guest (net.echo at 10.0.2.21, QEMU's virtio-net-device over the same dgram pair).
waitfor 180 ping -c 1 -W 1 10.0.2.21 || say "QEMU's guest does not answer"
say "ping-qemu $(pingn 10.0.2.21 3)/3"
say "udp-echo-qemu $(netsend echo eth0 10.0.2.21 7 60 5) $(netsend echo eth0 10.0.2.21 7 1514 5)"

# 4. The host through the tap, both ways.
say "ping-host $(pingn 10.0.9.1 3)/3"
e=$(inechos)
say "tap-wait"
waitfor 120 echos_at_least $((e + 3)) || say "no echo requests from the host"
say "host-echo-requests $(($(inechos) - e))"

# 5. max_tx_rate 2 Mbit/s on eth4: 300 frames of 1514 bytes (3.6 Mbit) to a neighbour that
# does not exist (a static ARP entry, as busybox's `ip neigh` cannot add one: no ARP frames),
# out through the tap. eth4 sends nothing else, so the switch's tx-bytes/tx-us for it is the
# rate of these frames alone.
arp -i eth4 -s 10.0.7.1 02:00:00:00:07:01 || say "arp -s failed"
say "rate $(netsend udp eth4 10.0.7.1 9 1514 300)"

# 6. VLANs: eth0 and eth1 share VLAN 0, eth3 is on VLAN 10, eth2 on 0: broadcasts cross
# only within a VLAN; a tagged frame from a VF (eth0.10) is dropped by the switch.
r=$(rx eth0); netsend raw eth1 52:54:00:00:01:01 ff:ff:ff:ff:ff:ff 3 >/dev/null; sleep 1
say "vlan-same $(($(rx eth0) - r))"
r=$(rx eth2); netsend raw eth3 52:54:00:00:02:01 ff:ff:ff:ff:ff:ff 3 >/dev/null; sleep 1
say "vlan-10-to-0 $(($(rx eth2) - r))"
r=$(rx eth3); netsend raw eth2 52:54:00:00:02:00 ff:ff:ff:ff:ff:ff 3 >/dev/null; sleep 1
say "vlan-0-to-10 $(($(rx eth3) - r))"
ip link add link eth0 name eth0.10 type vlan id 10 && ip link set eth0.10 up &&
    netsend raw eth0.10 52:54:00:00:01:00 ff:ff:ff:ff:ff:ff 4 >/dev/null
ip link del eth0.10

# 7. Carrier: the host disables VF 0 (minivmm ctl vf set 0 state disable), then enables it.
say "carrier-wait 0"
waitfor 120 carrier_is 0 && say "carrier $(cat /sys/class/net/eth0/carrier)"
say "carrier-wait 1"
waitfor 120 carrier_is 1 && say "carrier $(cat /sys/class/net/eth0/carrier)"

# 8. MAC changes obey trust: eth0 (trusted) may, eth1 may not; eth0 then works at its new MAC.
ip link set eth0 address 52:54:00:00:01:80 && say "setmac eth0 ok" || say "setmac eth0 refused"
say "ping-after-setmac $(pingn 10.0.2.21 2)/2"
ip link set eth1 address 52:54:00:00:01:81 2>/dev/null && say "setmac eth1 ok" ||
    say "setmac eth1 refused"
say "mac-now eth1 $(cat /sys/class/net/eth1/address)"

# 9. Spoofing: 5 frames from eth1 with a source MAC that is not its own (the switch drops them).
netsend raw eth1 02:00:00:00:00:99 ff:ff:ff:ff:ff:ff 5 >/dev/null

# 10. Promiscuous mode obeys trust: unknown unicast reaches trusted eth0 when it asks, never
# the untrusted eth1.
ip link set eth1 promisc on
r=$(rx eth1); netsend raw eth0 52:54:00:00:01:80 02:00:00:00:00:77 3 >/dev/null; sleep 1
say "promisc-untrusted $(($(rx eth1) - r))"
ip link set eth0 promisc on
r=$(rx eth0); netsend raw eth1 52:54:00:00:01:01 02:00:00:00:00:77 3 >/dev/null; sleep 1
say "promisc-trusted $(($(rx eth0) - r))"
ip link set eth0 promisc off
ip link set eth1 promisc off

# 11. The driver resets the device and probes it again: no stale state.
rmmod virtio_net && modprobe virtio_net || say "rmmod/modprobe failed"
waitfor 30 test -e /sys/class/net/eth4 || say "interfaces did not come back"
for i in eth0 eth1 eth2 eth3 eth4; do say "mac-reprobe $i $(cat /sys/class/net/$i/address)"; done
ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up
waitfor 30 carrier_is 1
say "ping-after-reprobe $(pingn 10.0.2.21 3)/3"

# 12. Nothing in the log says our device broke a rule.
complaints() {
    dmesg | grep -E 'WARNING|BUG|Call Trace|([Vv]irtio|eth[0-9]).*([Uu]nexpected|[Bb]ad |NEEDS_RESET|[Bb]roken|[Ee]rror)'
}
complaints | sed 's/^/t: dmesg: /'
say "dmesg-bad $(complaints | wc -l)"
dmesg | grep -iE 'virtio|eth[0-9]' | sed 's/^/t: log: /'
say "done"
poweroff -f
