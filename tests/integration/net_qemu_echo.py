#!/usr/bin/env python3
"""net_qemu_echo.py: the guest's net.echo under QEMU microvm with user networking.

UDP datagrams sent to a host port that slirp forwards to the guest's port 7 must come back
unchanged (slirp first resolves 10.0.2.15 by ARP, so the guest's ARP reply is exercised too);
then `set_link n off` / `on` on QEMU's monitor must make the guest print
"net: vf0 link down" / "net: vf0 link up" (VIRTIO_NET_F_STATUS, config-change interrupt).
Usage: net_qemu_echo.py KERNEL SCRATCH_DIR; exit 0 on success, 1 on failure.
"""
import os
import socket
import sys
import time

import qemu_echo


def main():
    kernel, scratch = sys.argv[1], sys.argv[2]
    port = qemu_echo.free_udp_port()
    mon = os.path.join(scratch, "mon.sock")
    out_path = os.path.join(scratch, "echo.out")
    cmd = qemu_echo.echo_cmd(
        kernel, port,
        ["-global", "virtio-mmio.force-legacy=false", "-device", "virtio-net-device,netdev=n"],
        ["-monitor", f"unix:{mon},server=on,wait=off"])
    ok = True
    with qemu_echo.running(cmd, out_path) as started:
        if not started:
            return 1
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        for i in range(3):
            msg = b"minivmm udp echo %d" % i
            data = qemu_echo.echo(s, port, msg)
            if data != msg:
                print(f"FAIL: udp echo {i}: sent {msg!r}, got {data!r}")
                ok = False
            else:
                print(f"ok: udp echo {i}")
        m = socket.socket(socket.AF_UNIX)
        m.connect(mon)
        for state in ("off", "on"):
            m.sendall(f"set_link n {state}\n".encode())
            want = b"net: vf0 link " + (b"down" if state == "off" else b"up")
            deadline = time.time() + 5
            while want not in open(out_path, "rb").read():
                if time.time() > deadline:
                    print(f"FAIL: no '{want.decode()}' after set_link n {state}")
                    ok = False
                    break
                time.sleep(0.05)
            else:
                print(f"ok: {want.decode()}")
        m.close()
    if not ok:
        sys.stdout.write(open(out_path, "rb").read().decode(errors="replace"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
