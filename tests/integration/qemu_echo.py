"""qemu_echo.py: what the QEMU echo tests share: our guest's net.echo under QEMU microvm with
user networking, a host UDP port forwarded to the guest's port 7, and one echo round trip.
Imported by net_qemu_echo.py and ne2000_qemu_echo.py (same directory).
"""
import contextlib
import socket
import subprocess
import time


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def echo_cmd(kernel, port, nic_args, extra=()):
    """QEMU microvm running `net.echo quiet`, NIC `nic_args`, udp 127.0.0.1:port -> guest :7."""
    return (["qemu-system-x86_64", "-M", "microvm,acpi=off", "-accel", "kvm", "-nodefaults",
             "-no-user-config", "-nographic", "-serial", "stdio", "-device", "isa-debug-exit"]
            + list(nic_args)
            + ["-netdev", f"user,id=n,hostfwd=udp:127.0.0.1:{port}-:7"]
            + list(extra)
            + ["-kernel", kernel, "-append", "net.echo quiet"])


@contextlib.contextmanager
def running(cmd, out_path):
    """Starts QEMU with its console in out_path and waits for net.echo; yields True when the
    guest answers, False when it never started. QEMU is killed on leaving."""
    with open(out_path, "wb") as out:
        qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 20
            started = True
            while b"net.echo: answering" not in open(out_path, "rb").read():
                if time.time() > deadline or qemu.poll() is not None:
                    print("FAIL: net.echo did not start")
                    started = False
                    break
                time.sleep(0.05)
            yield started
        finally:
            qemu.kill()
            qemu.wait()


def echo(sock, port, msg):
    """Sends msg to the forwarded port; the reply, or None on the socket's timeout."""
    sock.sendto(msg, ("127.0.0.1", port))
    try:
        return sock.recvfrom(2048)[0]
    except socket.timeout:
        return None
