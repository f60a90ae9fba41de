/*
 * netsend: a static Linux program for the Linux guests of the tests and of `minivmm bench net
 * --linux` (tools/linux-guest puts it in the initramfs as /bin/netsend). Busybox has no traffic
 * generator and cannot forge a frame, so:
 *
 *   netsend udp IFACE DST-IP PORT FRAME-BYTES COUNT [phase]
 *       COUNT UDP datagrams whose Ethernet frames are FRAME-BYTES long (14 + 20 + 8 + payload;
 *       60-1514), sent from IFACE's address to DST-IP:PORT as fast as the socket takes them
 *       (a full socket buffer blocks: nothing is dropped by us), then waits until the device
 *       has taken them all (SIOCOUTQ reads 0: every skb was freed); prints
 *       "netsend: udp COUNT frames BYTES bytes NS ns" (CLOCK_MONOTONIC from the first send to
 *       the drained queue). With `phase`, it also writes MINIVMM_PHASE_XFER_START and
 *       _XFER_DONE to minivmm's phase port (0x80) around that time, so the run summary counts
 *       the VMM's exits of the transfer alone (`minivmm bench net --linux`); elsewhere a write
 *       to port 0x80 is the PC's POST code, ignored.
 *   netsend echo IFACE DST-IP PORT FRAME-BYTES COUNT
 *       COUNT UDP datagrams of that frame size to an echo server (our guest's net.echo answers
 *       port 7), one at a time, each awaited for 2 s and compared byte for byte; prints
 *       "netsend: echo GOOD/COUNT" and fails unless every one came back intact.
 *   netsend raw IFACE SRC-MAC DST-MAC COUNT
 *       COUNT raw Ethernet frames (EtherType 0x88b5, local experimental; 60 bytes) with the
 *       given source MAC, through an AF_PACKET socket: what a guest spoofing its MAC sends.
 *
 * Exit status: 0 when every frame was handed to the kernel, 1 on any error (one line on stderr),
 * 2 on bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define ETH_UDP_OVERHEAD (14 + 20 + 8)
#define MIN_FRAME 60
#define MAX_FRAME 1514
#define PHASE_PORT 0x80       /* MINIVMM_PHASE_PORT (include/minivmm/abi.h) */
#define PHASE_XFER_START 8    /* MINIVMM_PHASE_XFER_START */
#define PHASE_XFER_DONE 9     /* MINIVMM_PHASE_XFER_DONE */
#define DRAIN_TIMEOUT_NS 10000000000ull

static int usage(void)
{
    fprintf(stderr, "usage: netsend udp IFACE DST-IP PORT FRAME-BYTES COUNT [phase]\n"
                    "       netsend echo IFACE DST-IP PORT FRAME-BYTES COUNT\n"
                    "       netsend raw IFACE SRC-MAC DST-MAC COUNT\n");
    return 2;
}

static int parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static int parse_mac(const char *s, unsigned char mac[6])
{
    unsigned v[6];
    char tail;
    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
        return -1;
    for (int i = 0; i < 6; i++) {
        if (v[i] > 0xff)
            return -1;
        mac[i] = (unsigned char)v[i];
    }
    return 0;
}

static unsigned long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/* Until the socket's queued bytes (skbs not yet freed by the driver) are 0: -1 after 10 s. */
static int drain(int fd)
{
    unsigned long long t0 = now_ns();
    for (;;) {
        int queued = 0;
        if (ioctl(fd, SIOCOUTQ, &queued) < 0)
            return -1;
        if (queued == 0)
            return 0;
        if (now_ns() - t0 > DRAIN_TIMEOUT_NS)
            return -1;
        usleep(100);
    }
}

/* IFACE DST-IP PORT FRAME-BYTES COUNT (argv[0..4]) of `udp` and `echo`: a UDP socket bound to
 * IFACE, the destination, the frame size and the count. The socket, or -2 on bad arguments,
 * -1 after saying why. Not connected: `udp` must not see ICMP errors as send failures. */
static int udp_open(char **argv, unsigned long max_count, struct sockaddr_in *dst,
                    unsigned long *frame, unsigned long *count)
{
    unsigned long port;

    *dst = (struct sockaddr_in){.sin_family = AF_INET};
    if (inet_pton(AF_INET, argv[1], &dst->sin_addr) != 1 || parse_ulong(argv[2], 1, 65535, &port) ||
        parse_ulong(argv[3], MIN_FRAME, MAX_FRAME, frame) ||
        parse_ulong(argv[4], 1, max_count, count))
        return -2;
    dst->sin_port = htons((unsigned short)port);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, argv[0], strlen(argv[0]) + 1)) {
        fprintf(stderr, "netsend: socket on %s: %s\n", argv[0], strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int send_udp(char **argv, int phase)
{
    unsigned long frame, count;
    struct sockaddr_in dst;
    static char payload[MAX_FRAME];

    int fd = udp_open(argv, 1000000000, &dst, &frame, &count);
    if (fd < 0)
        return fd == -2 ? usage() : 1;
    if (phase && ioperm(PHASE_PORT, 1, 1)) {
        fprintf(stderr, "netsend: ioperm(0x%x): %s\n", PHASE_PORT, strerror(errno));
        close(fd);
        return 1;
    }
    size_t len = frame - ETH_UDP_OVERHEAD;
    if (phase)
        outb(PHASE_XFER_START, PHASE_PORT);
    unsigned long long t0 = now_ns();
    for (unsigned long i = 0; i < count; i++) {
        memcpy(payload, &i, sizeof(i));
        while (sendto(fd, payload, len, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
            if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
                continue; /* the qdisc or the device queue is full: try again */
            fprintf(stderr, "netsend: sendto: %s\n", strerror(errno));
            close(fd);
            return 1;
        }
    }
    if (drain(fd)) {
        fprintf(stderr, "netsend: the device did not take every frame within 10 s\n");
        close(fd);
        return 1;
    }
    unsigned long long t1 = now_ns();
    if (phase)
        outb(PHASE_XFER_DONE, PHASE_PORT);
    close(fd);
    printf("netsend: udp %lu frames %llu bytes %llu ns\n", count,
           (unsigned long long)count * frame, t1 - t0);
    return 0;
}

static int echo_udp(char **argv)
{
    unsigned long frame, count, good = 0;
    struct sockaddr_in dst;
    static unsigned char out[MAX_FRAME], in[MAX_FRAME + 1];
    struct timeval tv = {.tv_sec = 2};

    int fd = udp_open(argv, 1000000, &dst, &frame, &count);
    if (fd < 0)
        return fd == -2 ? usage() : 1;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
        connect(fd, (struct sockaddr *)&dst, sizeof(dst))) {
        fprintf(stderr, "netsend: socket on %s: %s\n", argv[0], strerror(errno));
        close(fd);
        return 1;
    }
    size_t len = frame - ETH_UDP_OVERHEAD;
    for (unsigned long i = 0; i < count; i++) {
        for (size_t k = 0; k < len; k++)
            out[k] = (unsigned char)(i * 31 + k);
        if (send(fd, out, len, 0) < 0) {
            fprintf(stderr, "netsend: send: %s\n", strerror(errno));
            break;
        }
        ssize_t n = recv(fd, in, sizeof(in), 0);
        if (n == (ssize_t)len && memcmp(in, out, len) == 0)
            good++;
        else if (n < 0)
            fprintf(stderr, "netsend: echo %lu: %s\n", i, strerror(errno));
        else
            fprintf(stderr, "netsend: echo %lu: %zd bytes back, not the %zu sent\n", i, n, len);
    }
    close(fd);
    printf("netsend: echo %lu/%lu\n", good, count);
    return good == count ? 0 : 1;
}

static int send_raw(char **argv)
{
    unsigned char frame[MIN_FRAME] = {0};
    unsigned long count;
    struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_halen = 6};

    if (parse_mac(argv[1], frame + 6) || parse_mac(argv[2], frame) ||
        parse_ulong(argv[3], 1, 1000000, &count))
        return usage();
    frame[12] = 0x88;
    frame[13] = 0xb5;
    memcpy(frame + 14, "minivmm netsend raw", 19);
    ll.sll_ifindex = (int)if_nametoindex(argv[0]);
    memcpy(ll.sll_addr, frame, 6);
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (!ll.sll_ifindex || fd < 0) {
        fprintf(stderr, "netsend: raw socket on %s: %s\n", argv[0], strerror(errno));
        return 1;
    }
    for (unsigned long i = 0; i < count; i++) {
        if (sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
            fprintf(stderr, "netsend: sendto: %s\n", strerror(errno));
            close(fd);
            return 1;
        }
    }
    close(fd);
    printf("netsend: raw %lu frames\n", count);
    return 0;
}

int main(int argc, char **argv)
{
    if ((argc == 7 || (argc == 8 && strcmp(argv[7], "phase") == 0)) &&
        strcmp(argv[1], "udp") == 0)
        return send_udp(argv + 2, argc == 8);
    if (argc == 7 && strcmp(argv[1], "echo") == 0)
        return echo_udp(argv + 2);
    if (argc == 6 && strcmp(argv[1], "raw") == 0)
        return send_raw(argv + 2);
    return usage();
}
