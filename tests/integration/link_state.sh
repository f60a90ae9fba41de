#!/bin/sh
# link_state.sh: a VF's link set down at run time (`minivmm ctl PATH vf set 0 state disable`)
# is seen by the guest and its pings stop; after `state enable` they resume. One VM with two
# VFs (--nic vfs=2) and a control socket; the guest's net.ping from vf0 to vf1 (10.0.2.16,
# answered by the same guest while it waits) every 100 ms (net.interval_ms). While vf0 is
# down the switch drops its frames: every request in that window times out (1 s each).
. "$(dirname "$0")/lib.sh"
need_kvm
scratch
s=$d/s
out=$d/out; err=$d/err
ctl() { "$MINIVMM" ctl "$s" "$@"; }

# wait_line REGEX WHAT: up to 20 s for a console line.
wait_line() {
    i=0
    until tr -d '\r' <"$out" | grep -Eq -- "$1"; do
        i=$((i + 1))
        [ "$i" -lt 200 ] || { kill -9 "$pid" 2>/dev/null; cat "$out" "$err"; fail "$2"; }
        kill -0 "$pid" 2>/dev/null || { cat "$out" "$err"; fail "$2 (minivmm exited)"; }
        sleep 0.1
    done
}

timeout -s KILL "$(tmo 60)" "$MINIVMM" run -k "$KERNEL" --api-sock "$s" --nic vfs=2 \
    -- net.ping=10.0.2.16 net.count=60 net.interval_ms=100 </dev/null >"$out" 2>"$err" &
pid=$!
trap 'kill -9 $pid 2>/dev/null; rm -rf "$d"' EXIT

wait_line '^net\.ping: 64 bytes from 10\.0\.2\.16: icmp_seq=5 ' "no 5 replies before link down"
ctl vf set 0 state disable || fail "state disable"
wait_line '^net: vf0 link down$' "guest never saw vf0 link down"
# Two requests time out (1 s each) while the link is down.
i=0
until [ "$(tr -d '\r' <"$out" | sed -n '/^net: vf0 link down$/,$p' | grep -c ' timeout$')" -ge 2 ]; do
    i=$((i + 1))
    [ "$i" -lt 50 ] || { kill -9 "$pid"; cat "$out" "$err"; fail "no timeouts while vf0 was down"; }
    sleep 0.1
done
ctl vf set 0 state enable || fail "state enable"
wait_line '^net: vf0 link up$' "guest never saw vf0 link up"

status=0
wait "$pid" || status=$?
# Not every request was answered: net.ping exits 1.
expect_status 1 "net.ping across a link down"
tr -d '\r' <"$out" >"$d/con"
expect_line "$d/con" '^net\.ping: 10\.0\.2\.16: 60 sent, [0-9]+ received' "summary"
# Between link down and link up: only timeouts (the request in flight at the moment of the
# change may still have been answered before the guest saw the interrupt: it is printed first).
sed -n '/^net: vf0 link down$/,/^net: vf0 link up$/p' "$d/con" >"$d/down"
expect_no_line "$d/down" ' time=' "a reply while vf0 was down"
n=$(grep -c ' timeout$' "$d/down")
[ "$n" -ge 2 ] || { cat "$d/con"; fail "$n timeouts while down, want at least 2"; }
# After link up: replies again (the first request may have been sent while down), the last
# request answered.
sed -n '/^net: vf0 link up$/,$p' "$d/con" >"$d/up"
n=$(grep -c ' time=' "$d/up")
[ "$n" -ge 5 ] || { cat "$d/con"; fail "$n replies after link up, want at least 5"; }
expect_line "$d/up" '^net\.ping: 64 bytes from 10\.0\.2\.16: icmp_seq=60 time=' "last request answered"
# And before link down, every request was answered.
sed -n '1,/^net: vf0 link down$/p' "$d/con" >"$d/before"
expect_no_line "$d/before" ' timeout$' "a timeout before link down"
recv=$(sed -n 's/^net\.ping: 10\.0\.2\.16: 60 sent, \([0-9]*\) received.*/\1/p' "$d/con")
lost=$((60 - recv))
[ "$lost" -ge 2 ] || fail "$lost requests lost, want at least 2"
echo "vf0 down: $(grep -c ' timeout$' "$d/con") timeouts, $recv of 60 answered"
pass "link-state"
