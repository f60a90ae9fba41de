#!/usr/bin/env python3
"""ne2000_qemu_echo.py: the guest's NE2000 receive ring under QEMU microvm (ne2k_isa at 0x300,
IRQ 9) with user networking, through net.echo's UDP echo (port 7).

Datagrams of every size up to the largest frame (1472-byte payload = a 1514-byte frame, six
ring pages) and varying contents go to a host port that slirp forwards to the guest; each must
come back unchanged. The 58-page ring wraps many times and multi-page frames straddle its end,
so the driver's split remote-DMA read is exercised. Then a burst of 16 full-size datagrams is
sent without waiting: more than the ring holds (9 such frames), and QEMU refuses frames while
it is full, which slirp drops ("Slirp: Failed to send packet"); whatever comes back must be
intact, at least 8 (a ringful is 9), and one more echo afterwards must work.
Usage: ne2000_qemu_echo.py KERNEL SCRATCH_DIR; exit 0 on success, 1 on failure.
"""
import os
import socket
import sys

import qemu_echo


def payload(i, n):
    return bytes((i * 7 + j * 13) & 0xff for j in range(n))


def main():
    kernel, scratch = sys.argv[1], sys.argv[2]
    port = qemu_echo.free_udp_port()
    out_path = os.path.join(scratch, "ne2000-echo.out")
    cmd = qemu_echo.echo_cmd(kernel, port, ["-device", "ne2k_isa,netdev=n,iobase=0x300,irq=9"])
    ok = True
    with qemu_echo.running(cmd, out_path) as started:
        if not started:
            return 1
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        sizes = [1, 18, 200, 253, 254, 700, 1000, 1471, 1472] * 4
        for i, n in enumerate(sizes):
            msg = payload(i, n)
            data = qemu_echo.echo(s, port, msg)
            if data != msg:
                print(f"FAIL: udp echo {i} ({n} bytes): "
                      f"got {None if data is None else len(data)} bytes, different")
                ok = False
                break
        if ok:
            print(f"ok: {len(sizes)} udp echoes of 1-1472 bytes")
            burst = [payload(100 + i, 1472) for i in range(16)]
            for msg in burst:
                s.sendto(msg, ("127.0.0.1", port))
            got = []
            s.settimeout(1)  # the refused ones never come
            try:
                while len(got) < len(burst):
                    got.append(s.recvfrom(2048)[0])
            except socket.timeout:
                pass
            intact = sum(1 for g in got if g in burst)
            if intact != len(got) or intact < 8:
                print(f"FAIL: burst of {len(burst)}: {len(got)} came back, {intact} intact")
                ok = False
            else:
                print(f"ok: burst of {len(burst)} full-size datagrams: {intact} echoed")
            s.settimeout(5)
            msg = payload(200, 1472)
            data = qemu_echo.echo(s, port, msg)
            if data != msg:
                print("FAIL: no echo after the burst")
                ok = False
            else:
                print("ok: echo after the burst")
    out = open(out_path, "rb").read().decode(errors="replace")
    if "ring reset" in out:
        print("FAIL: the driver reset its ring")
        ok = False
    if not ok:
        sys.stdout.write(out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
