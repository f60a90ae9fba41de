#!/bin/sh
# ctl.sh: the control socket end to end (cmd/ctl/apisock*.c, cmd/ctl/ctl.c): `minivmm run --api-sock`
# with two VFs under net.echo; `minivmm ctl` lists the VFs, sets a VLAN, pauses and resumes;
# garbage, a 100 KiB line, an unknown command and a bad VF get errors while the VMM keeps
# serving; pause parks both vCPUs; the socket is 0600; link state set at run time reaches the guest; `stop` ends the
# VMM with status 0 and removes the socket; a regular file at the path is never clobbered.
. "$(dirname "$0")/lib.sh"
need_kvm
scratch
s=$d/s
ctl() { "$MINIVMM" ctl "$s" "$@"; }

# A regular file at the path is refused before the guest runs.
: >"$s"
run_vm "$d/out" "$d/err" run -k "$KERNEL" --quiet --api-sock "$s" -- hello
expect_status 1 "--api-sock on a regular file"
expect_line "$d/err" 'is not a socket; not replacing it' "regular file message"
[ -f "$s" ] || fail "the regular file was removed"
rm -f "$s"

timeout -s KILL "$(tmo 120)" "$MINIVMM" run -k "$KERNEL" -c 2 --api-sock "$s" --nic vfs=2 -- net.echo \
    </dev/null >"$d/out" 2>"$d/err" &
pid=$!
out=$d/out; err=$d/err
i=0
until grep -q "net.echo: answering" "$d/out" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -lt 600 ] || { kill -9 "$pid"; cat "$d/out" "$d/err"; fail "guest never started net.echo"; }
    sleep 0.1
done
# Stop the VMM if a check fails.
trap 'kill -9 $pid 2>/dev/null; rm -rf "$d"' EXIT

# The socket: owner-only.
mode=$(stat -c '%A' "$s") || fail "no socket at $s"
[ "$mode" = "srw-------" ] || fail "socket mode $mode, want srw-------"

# vf list: two VFs, as ip link shows them.
ctl vf list >"$d/list" || { cat "$d/list"; fail "vf list"; }
expect_line "$d/list" '^vf 0 +link/ether [0-9a-f:]{17}, spoof checking on, link-state auto, trust off, max_tx_rate 0Mbps$' "vf 0 line"
expect_line "$d/list" '^vf 1 +link/ether ' "vf 1 line"
expect_no_line "$d/list" '^vf 2 ' "only two VFs"
expect_line "$d/list" '^ +TX: packets [0-9]+ bytes [0-9]+ dropped 0' "counters"

# vf set, then vf list shows it; --json gives the raw reply.
ctl vf set 1 vlan 5 || fail "vf set 1 vlan 5"
ctl vf list >"$d/list" || fail "vf list after vf set"
expect_line "$d/list" '^vf 1 +link/ether [0-9a-f:]{17}, vlan 5, spoof checking on' "vlan 5 on vf 1"
ctl --json vf list >"$d/json" || fail "vf list --json"
expect_line "$d/json" '^\{"ok":true,"vfs":\[\{"vf":0,.*\{"vf":1,.*"vlan":5,' "raw JSON reply"

# pause, status, resume.
ctl pause || fail "pause"
ctl status >"$d/st" || fail "status while paused"
expect_line "$d/st" '^paused, 2 vCPUs, 2 VFs, up [0-9.]+s, paused [0-9.]+s$' "status paused"
ctl resume || fail "resume"
ctl status >"$d/st" || fail "status after resume"
expect_line "$d/st" '^running, ' "status running"

# Errors: one line on stderr, status 1, and the VMM keeps serving.
ctl vf set 99 vlan 5 2>"$d/e" && fail "vf 99 accepted"
expect_line "$d/e" '^minivmm ctl: vf set: no VF 99 \(VFs are 0-1\)$' "vf 99 message"
ctl vf set 0 vlan 5000 2>"$d/e" && fail "vlan 5000 accepted"
expect_line "$d/e" '^minivmm ctl: vf set: vf 0: ' "bad vlan message"
ctl reboot 2>"$d/e" && fail "unknown ctl command accepted"
expect_line "$d/e" "unknown command 'reboot'" "ctl's own unknown command"
"$MINIVMM" ctl "$d/nosuch" status 2>"$d/e" && fail "connect to nothing"
expect_line "$d/e" "^minivmm ctl: cannot connect to $d/nosuch: No such file or directory" "connect error"
python3 - "$s" >"$d/raw" <<'PY' || { cat "$d/raw"; fail "raw requests"; }
import socket, sys
c = socket.socket(socket.AF_UNIX)
c.connect(sys.argv[1])
f = c.makefile('rb')
def ask(b):
    c.sendall(b)
    print(f.readline().decode().rstrip('\n'))
ask(b'garbage\n')
ask(b'\x00\xff{{{\n')
ask(b'{' + b'x' * 100 * 1024 + b'\n')
ask(b'{"cmd":"reboot"}\n')
ask(b'{"cmd":"vf set","vf":99,"key":"vlan","value":"5"}\n')
ask(b'{"cmd":"vf set","vf":"0","vlan":5}\n')
ask(b'{"cmd":"status"}\n')
PY
expect_line "$d/raw" '^\{"ok":false,"error":"bad JSON at byte 0: expected an object"\}$' "garbage"
expect_line "$d/raw" '^\{"ok":false,"error":"request longer than 4096 bytes"\}$' "100 KiB line"
expect_line "$d/raw" '^\{"ok":false,"error":"unknown command \\"reboot\\"' "unknown command"
expect_line "$d/raw" '^\{"ok":false,"error":"vf set: no VF 99' "vf 99"
expect_line "$d/raw" '^\{"ok":false,"error":"vf set: \\"vf\\" must be an integer' "wrong type"
expect_line "$d/raw" '^\{"ok":true,"state":"running","vcpus":2,"vfs":2,' "status on the same connection"
ctl status >"$d/st" || fail "status after bad requests"
expect_line "$d/st" '^running, ' "still running"

# Link state at run time reaches the guest (config-change interrupt).
ctl vf set 0 state disable || fail "state disable"
i=0
until tr -d '\r' <"$d/out" | grep -q '^net: vf0 link down'; do
    i=$((i + 1))
    [ "$i" -lt 100 ] || { cat "$d/out"; fail "guest never saw vf0 link down"; }
    sleep 0.1
done
ctl vf list >"$d/list" || fail "vf list after state disable"
expect_line "$d/list" 'link-state disable, ' "state disable listed"
ctl vf set 0 state enable || fail "state enable"
i=0
until tr -d '\r' <"$d/out" | grep -q '^net: vf0 link up'; do
    i=$((i + 1))
    [ "$i" -lt 100 ] || { cat "$d/out"; fail "guest never saw vf0 link up"; }
    sleep 0.1
done

# stop, while paused (stop releases the parked vCPUs): the VMM exits 0, its summary printed
# and the socket removed.
ctl pause || fail "pause before stop"
ctl stop || fail "stop"
status=0
wait "$pid" || status=$?
expect_status 0 "stop"
expect_line "$d/err" '^minivmm: stop requested on the control socket$' "stop message"
expect_line "$d/err" '^exits:' "summary after stop"
[ ! -e "$s" ] || fail "socket left behind"
pass "ctl"
