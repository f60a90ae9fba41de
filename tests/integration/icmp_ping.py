"""icmp_ping.py IP N: N ICMP echo requests from a raw socket (root; no ping binary needed), each
awaited for 2 s; prints "R received" and exits 0 when all N came back intact."""
import os
import socket
import struct
import sys
import time


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def main():
    ip, n = sys.argv[1], int(sys.argv[2])
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(2)
    ident, got = os.getpid() & 0xffff, 0
    for seq in range(1, n + 1):
        body = b'minivmm-icmp-ping' * 2
        h = struct.pack('!BBHHH', 8, 0, 0, ident, seq)
        s.sendto(struct.pack('!BBHHH', 8, 0, csum(h + body), ident, seq) + body, (ip, 0))
        end = time.time() + 2
        while time.time() < end:
            try:
                d, a = s.recvfrom(2048)
            except socket.timeout:
                break
            ihl = (d[0] & 15) * 4
            t, _, _, i, q = struct.unpack('!BBHHH', d[ihl:ihl + 8])
            if a[0] == ip and t == 0 and i == ident and q == seq and d[ihl + 8:] == body:
                got += 1
                break
    print('%d received' % got)
    return 0 if got == n else 1


if __name__ == '__main__':
    sys.exit(main())
