#!/usr/bin/env python3
"""console_tty.py [abort]: the console on a terminal: raw mode while the guest runs (the guest
sees each key at once, Ctrl-C included, no local echo), Ctrl-A x quits with status 0, and the
terminal's settings are restored afterwards. Runs minivmm on a pseudo-terminal. With `abort`,
minivmm is killed with SIGABRT instead (a fatal signal skips atexit): it must still die of
that signal with the terminal's settings restored."""
import os
import pty
import resource
import select
import signal
import sys
import termios
import time

minivmm, kernel = os.environ["MINIVMM"], os.environ["KERNEL"]
# Like every KVM test: skip (77) with the reason only where /dev/kvm is unusable.
if os.system(os.environ["KVM_USABLE"]) != 0:
    sys.exit(77)


def fail(msg, out=b""):
    sys.stdout.write(out.decode(errors="replace"))
    print(f"FAIL: {msg}")
    sys.exit(1)


def read_until(fd, what, out, timeout=60):
    end = time.time() + timeout
    while what not in out:
        left = end - time.time()
        if left <= 0:
            fail(f"timed out waiting for {what!r}", out)
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                fail(f"terminal closed before {what!r}", out)
            if not chunk:
                fail(f"EOF before {what!r}", out)
            out += chunk
    return out


master, slave = pty.openpty()
before = termios.tcgetattr(slave)
pid = os.fork()
if pid == 0:
    os.setsid()
    os.dup2(slave, 0)
    os.dup2(slave, 1)
    os.dup2(slave, 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.execv(minivmm, [minivmm, "run", "-k", kernel, "--", "echo"])
out = read_until(master, b"type lines", b"")
# Raw mode: no local echo of what we type; the guest echoes whole lines itself.
during = termios.tcgetattr(slave)
if during[3] & termios.ICANON or during[3] & termios.ECHO:
    fail("terminal not in raw mode while the guest runs", out)
os.write(master, b"abc\r")
out = read_until(master, b"abc", out)
if len(sys.argv) > 1 and sys.argv[1] == "abort":
    os.kill(pid, signal.SIGABRT)
    _, status = os.waitpid(pid, 0)
    if not os.WIFSIGNALED(status) or os.WTERMSIG(status) != signal.SIGABRT:
        fail(f"SIGABRT: status {status:#x}, want death by SIGABRT", out)
    after = termios.tcgetattr(slave)
    if after != before:
        fail(f"terminal settings not restored after SIGABRT: {before} -> {after}", out)
    print("PASS: tty raw mode, restored on SIGABRT")
    sys.exit(0)
os.write(master, b"\x01x")
_, status = os.waitpid(pid, 0)
try:
    while select.select([master], [], [], 0.2)[0]:
        out += os.read(master, 4096)
except OSError:
    pass
if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
    fail(f"Ctrl-A x: status {status:#x}, want exit 0", out)
if b"quit (Ctrl-A x)" not in out:
    fail("no quit message", out)
after = termios.tcgetattr(slave)
if after != before:
    fail(f"terminal settings not restored: {before} -> {after}", out)
print("PASS: tty raw mode, Ctrl-A x, restore")
