#!/bin/sh
# net_uplink.sh: the NIC's network uplinks (devices/uplink.c) end to end.
#  1. dgram: two minivmm processes on 127.0.0.1, one running net.echo (net.ip=10.0.2.20), the
#     other pinging it three times through both switches and both UDP sockets.
#  2. dgram to QEMU: our guest under QEMU (-netdev dgram, net.echo) pinged from our guest under
#     minivmm (skipped with the reason when qemu-system-x86_64 is missing).
#  3. tap: inside a network namespace this test creates (unshare -n), the host pings the guest
#     (ICMP from a raw socket: no ping binary needed) and the guest pings the host; tap-fd:N
#     with a descriptor inherited from the shell. Skipped with the reason only where a
#     namespace or a tap cannot be created.
# All traffic stays on loopback or inside the namespace.
. "$(dirname "$0")/lib.sh"
need_kvm
scratch

bg_pid=
stop_bg() {
    [ -n "$bg_pid" ] && kill "$bg_pid" 2>/dev/null && wait "$bg_pid" 2>/dev/null
    bg_pid=
}
trap 'stop_bg; rm -rf "$d"' EXIT

# 1. minivmm <-> minivmm over dgram.
set -- $(free_ports 4)
pa=$1 pb=$2 qa=$3 qb=$4
timeout -s KILL "$(tmo 60)" "$MINIVMM" run -k "$KERNEL" --nic "vfs=1,uplink=dgram:$pa:$pb" \
    -- net.echo net.ip=10.0.2.20 >"$d/echo.out" 2>"$d/echo.err" </dev/null &
bg_pid=$!
wait_line "$d/echo.out" '^net\.echo: answering' ||
    { cat "$d/echo.out" "$d/echo.err"; fail "the net.echo guest did not start"; }
run_vm "$d/out" "$d/err" run -k "$KERNEL" --nic "vfs=1,uplink=dgram:$pb:$pa" \
    -- net.ping=10.0.2.20 net.count=3
stop_bg
expect_status 0 "net.ping over dgram"
expect_line "$d/out" '^net\.ping: 10\.0\.2\.20 is at ' "ARP through the dgram uplinks"
expect_line "$d/out" '^net\.ping: 10\.0\.2\.20: 3 sent, 3 received' "3 replies"
expect_line "$d/err" '^minivmm: nic: vf0 rx [1-9][0-9]* tx [1-9].*; uplink0 dgram rx [1-9][0-9]* tx [1-9]' \
    "uplink counters in the end-of-run line"
pass "dgram: minivmm <-> minivmm"

# A bad uplink fails before the guest runs: the port is taken by the pinging side's peer.
# The binder says when it holds the port (python may take seconds to start on a slow machine).
python3 -c "import socket,sys,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('127.0.0.1',$qa)); open(sys.argv[1],'w').close(); time.sleep(120)" "$d/bound" &
busy=$!
i=0
while [ ! -e "$d/bound" ]; do
    i=$((i + 1)); [ "$i" -le 600 ] || fail "the port binder did not start"; sleep 0.1
done
run_vm "$d/out" "$d/err" run -k "$KERNEL" --nic "vfs=1,uplink=dgram:$qa:$qb" -- hello
kill $busy 2>/dev/null; wait $busy 2>/dev/null
expect_status 1 "dgram on a busy port"
expect_line "$d/err" "cannot bind 127\.0\.0\.1:$qa: Address already in use" "busy port message"

# 2. QEMU's -netdev dgram: our guest under QEMU answers our guest under minivmm.
if command -v qemu-system-x86_64 >/dev/null; then
    qemu_dgram_guest "$qa" "$qb" 60 "$d/qemu.out" "$d/qemu.err" "net.echo net.ip=10.0.2.20"
    bg_pid=$!
    wait_line "$d/qemu.out" '^net\.echo: answering' ||
        { cat "$d/qemu.out" "$d/qemu.err"; fail "net.echo under QEMU did not start"; }
    run_vm "$d/out" "$d/err" run -k "$KERNEL" --nic "vfs=1,uplink=dgram:$qb:$qa" \
        -- net.ping=10.0.2.20 net.count=3
    stop_bg
    expect_status 0 "net.ping to QEMU over dgram"
    expect_line "$d/out" '^net\.ping: 10\.0\.2\.20 is at 52:54:00:12:34:56' "QEMU's NIC answers ARP"
    expect_line "$d/out" '^net\.ping: 10\.0\.2\.20: 3 sent, 3 received' "3 replies from QEMU"
    pass "dgram: minivmm <-> QEMU"
else
    echo "SKIP (part 2): qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
fi

# 3. tap inside a network namespace of our own.
if ! unshare -n true 2>/dev/null; then
    echo "SKIP (part 3): cannot create a network namespace (unshare -n: needs CAP_SYS_ADMIN)"
    pass "net-uplink (tap part skipped)"
    exit 0
fi
cat >"$d/ns.sh" <<'NS'
# Runs inside the new network namespace; $1 = scratch dir. Exit 77: no tap possible here.
set -u
d=$1
ip link set lo up
ip tuntap add dev mvtap0 mode tap 2>"$d/tuntap.err" || exit 77
ip addr add 10.0.2.1/24 dev mvtap0 && ip link set mvtap0 up || exit 3
# host -> guest: the guest echoes; a raw-socket ICMP ping from the namespace.
timeout -s KILL 60 "$MINIVMM" run -k "$KERNEL" --nic "vfs=1,uplink=tap:mvtap0" \
    -- net.echo net.ip=10.0.2.20 >"$d/tap-echo.out" 2>"$d/tap-echo.err" </dev/null &
pid=$!
i=0
until [ -f "$d/tap-echo.out" ] && tr -d '\r' <"$d/tap-echo.out" | grep -q '^net\.echo: answering'; do
    i=$((i + 1)); [ $i -le 200 ] || { kill $pid; exit 4; }; sleep 0.1
done
python3 "$ICMP_PING" 10.0.2.20 3 >"$d/icmp.out" 2>&1; r=$?
kill $pid; wait $pid
[ $r -eq 0 ] || exit 5
# guest -> host: the namespace's kernel answers ARP and ICMP on mvtap0.
timeout -s KILL 60 "$MINIVMM" run -k "$KERNEL" --nic "vfs=1,uplink=tap:mvtap0" \
    -- net.ping=10.0.2.1 net.count=3 >"$d/tap-ping.out" 2>"$d/tap-ping.err" </dev/null || exit 6
# tap-fd:N: the same, with the tap opened by someone else (here python) and inherited as fd 5.
python3 - "$d" <<'PY' || exit 7
import fcntl, os, struct, subprocess, sys
d = sys.argv[1]
fd = os.open('/dev/net/tun', os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', b'mvtap0', 0x0002 | 0x1000))  # TUNSETIFF TAP|NO_PI
os.dup2(fd, 5); os.set_inheritable(5, True)
with open(d + '/tapfd.out', 'w') as o, open(d + '/tapfd.err', 'w') as e:
    r = subprocess.run(['timeout', '-s', 'KILL', '60', os.environ['MINIVMM'], 'run', '-k',
                        os.environ['KERNEL'], '--nic', 'vfs=1,uplink=tap-fd:5', '--',
                        'net.ping=10.0.2.1', 'net.count=2'], stdout=o, stderr=e,
                       stdin=subprocess.DEVNULL, pass_fds=(5,))
sys.exit(r.returncode)
PY
exit 0
NS
status=0
ICMP_PING="$(dirname "$0")/icmp_ping.py" MINIVMM=$MINIVMM KERNEL=$KERNEL unshare -n sh "$d/ns.sh" "$d" ||
    status=$?
case $status in
0) ;;
77) echo "SKIP (part 3): cannot create a tap in the namespace: $(cat "$d/tuntap.err")"
    pass "net-uplink (tap part skipped)"; exit 0 ;;
4) cat "$d/tap-echo.out" "$d/tap-echo.err"; fail "tap: net.echo did not start" ;;
5) cat "$d/icmp.out" "$d/tap-echo.err"; fail "tap: host -> guest ping" ;;
6) cat "$d/tap-ping.out" "$d/tap-ping.err"; fail "tap: guest -> host ping" ;;
7) cat "$d/tapfd.out" "$d/tapfd.err"; fail "tap-fd: guest -> host ping" ;;
*) fail "tap: namespace set-up failed (status $status)" ;;
esac
expect_line "$d/icmp.out" '^3 received$' "host -> guest: 3 replies"
expect_line "$d/tap-ping.out" '^net\.ping: 10\.0\.2\.1: 3 sent, 3 received' "guest -> host: 3 replies"
expect_line "$d/tap-ping.err" '; uplink0 tap rx [1-9][0-9]* tx [1-9]' "tap uplink counters"
expect_line "$d/tapfd.out" '^net\.ping: 10\.0\.2\.1: 2 sent, 2 received' "tap-fd: 2 replies"
pass "net-uplink"
