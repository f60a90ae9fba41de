/*
 * test_uplink.c: unit tests of the switch's uplinks and the pcap writer (devices/uplink.c).
 *
 * The writer goes through the dlopen'ed libpcap exactly as the VMM does; this test links libpcap
 * itself only to read the files back (pcap_open_offline), so each check is "what libpcap, and
 * so tshark, would read". Also: the sink counts, the pcap uplink sees both directions, per-VF
 * taps, frames are on disk before close, and the errors for a missing libpcap and an unwritable
 * file. Each test runs in its own process (CK_FORK), so each starts with libpcap not loaded.
 * The dgram uplink: two uplinks on 127.0.0.1 in one process, each feeding its own switch,
 * carry frames both ways; runt and oversize datagrams are counted and not offered.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pfswitch.h"
#include "uplink.h"

static char dir[64];
static char path[128];

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/test_uplink.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/cap.pcap", dir);
}

static void teardown(void)
{
    unlink(path);
    rmdir(dir);
}

static size_t mkframe(uint8_t *buf, const uint8_t *dst, const uint8_t *src, size_t len,
                      uint8_t fill)
{
    memset(buf, fill, len);
    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    buf[12] = 0x08;
    buf[13] = 0x06;
    return len;
}

struct rec {
    uint32_t caplen, len;
    uint8_t data[256];
};

/* Read back every record of `file` with libpcap: the count, or -1. */
static int read_back(const char *file, struct rec *recs, int max)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(file, err);
    struct pcap_pkthdr *h;
    const u_char *data;
    int n = 0, r;

    ck_assert_msg(p != NULL, "pcap_open_offline: %s", err);
    ck_assert_int_eq(pcap_datalink(p), DLT_EN10MB);
    ck_assert_int_eq(pcap_snapshot(p), UPLINK_PCAP_SNAPLEN);
    while ((r = pcap_next_ex(p, &h, &data)) == 1) {
        if (n < max) {
            recs[n].caplen = h->caplen;
            recs[n].len = h->len;
            memcpy(recs[n].data, data, h->caplen < 256 ? h->caplen : 256);
            ck_assert(h->ts.tv_sec > 1600000000); /* a wall-clock time stamp */
        }
        n++;
    }
    ck_assert_int_eq(r, PCAP_ERROR_BREAK); /* a clean end, not a truncated record */
    pcap_close(p);
    return n;
}

static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t VF0[6] = {0x02, 0, 0, 0, 0, 0x10};
static const uint8_t VF1[6] = {0x02, 0, 0, 0, 0, 0x11};
static const uint8_t EXT[6] = {0x02, 0xdd, 0, 0, 0, 1};

START_TEST(test_pcap_writer_round_trip)
{
    struct uplink_pcap *cap;
    char err[256] = "";
    static uint8_t big[70000];
    uint8_t f[100];
    struct rec recs[8];
    uint64_t frames, errors;

    ck_assert_msg(uplink_pcap_open(&cap, path, err, sizeof(err)) == 0, "%s", err);
    mkframe(f, BCAST, VF0, 60, 0x11);
    ck_assert_int_eq(uplink_pcap_write(cap, f, 60), 0);
    mkframe(f, VF1, VF0, 100, 0x22);
    ck_assert_int_eq(uplink_pcap_write(cap, f, 100), 0);
    mkframe(big, BCAST, VF0, sizeof(big), 0x33);
    ck_assert_int_eq(uplink_pcap_write(cap, big, sizeof(big)), 0); /* beyond the snap length */
    ck_assert_int_eq(uplink_pcap_write(cap, NULL, 0), 0);
    uplink_pcap_counts(cap, &frames, &errors);
    ck_assert_uint_eq(frames, 4);
    ck_assert_uint_eq(errors, 0);
    ck_assert_int_eq(uplink_pcap_close(cap), 0);
    ck_assert_int_eq(uplink_pcap_close(NULL), 0);

    ck_assert_int_eq(read_back(path, recs, 8), 4);
    ck_assert_uint_eq(recs[0].caplen, 60);
    ck_assert_mem_eq(recs[0].data, BCAST, 6);
    ck_assert_uint_eq(recs[0].data[59], 0x11);
    ck_assert_uint_eq(recs[1].len, 100);
    ck_assert_mem_eq(recs[1].data, VF1, 6);
    ck_assert_uint_eq(recs[2].len, sizeof(big));
    ck_assert_uint_eq(recs[2].caplen, UPLINK_PCAP_SNAPLEN);
    ck_assert_uint_eq(recs[3].len, 0);
}
END_TEST

START_TEST(test_pcap_on_disk_before_close)
{
    struct uplink_pcap *cap;
    char err[256] = "";
    uint8_t f[64];
    struct rec recs[4];

    ck_assert_msg(uplink_pcap_open(&cap, path, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(read_back(path, recs, 4), 0); /* an empty capture is a valid file */
    mkframe(f, BCAST, VF0, 64, 0x44);
    ck_assert_int_eq(uplink_pcap_write(cap, f, 64), 0);
    ck_assert_int_eq(read_back(path, recs, 4), 1); /* a crash now would lose nothing */
    ck_assert_int_eq(uplink_pcap_close(cap), 0);
}
END_TEST

START_TEST(test_pcap_missing_library)
{
    struct uplink_pcap *cap = NULL;
    struct uplink up;
    char err[512] = "";

    uplink_pcap_set_library("libpcap-not-installed.so.0.8");
    ck_assert_int_eq(uplink_pcap_open(&cap, path, err, sizeof(err)), -ENOENT);
    ck_assert_ptr_null(cap);
    ck_assert_msg(strstr(err, "needs libpcap") && strstr(err, "libpcap-not-installed.so.0.8") &&
                      strstr(err, "install the libpcap0.8 package"),
                  "%s", err);
    ck_assert_ptr_null(strchr(err, '\n'));
    ck_assert_int_eq(uplink_open_pcap(&up, path, err, sizeof(err)), -ENOENT);
    ck_assert_int_eq(access(path, F_OK), -1); /* nothing created */
    /* the default name works again afterwards */
    uplink_pcap_set_library(NULL);
    ck_assert_int_eq(uplink_pcap_open(&cap, path, err, sizeof(err)), 0);
    ck_assert_int_eq(uplink_pcap_close(cap), 0);
}
END_TEST

START_TEST(test_pcap_unwritable)
{
    struct uplink_pcap *cap = NULL;
    char err[512] = "", bad[160];

    snprintf(bad, sizeof(bad), "%s/no-such-dir/x.pcap", dir);
    ck_assert_int_lt(uplink_pcap_open(&cap, bad, err, sizeof(err)), 0);
    ck_assert_ptr_null(cap);
    ck_assert_msg(strstr(err, "pcap: cannot create capture file") && strstr(err, "no-such-dir"),
                  "%s", err);
    ck_assert_int_eq(uplink_pcap_open(&cap, "", err, sizeof(err)), -EINVAL);
}
END_TEST

/* Captures hold guest frames: created 0600 whatever the umask, an existing capture made
 * private, and a symbolic link at the path refused with its target left alone. */
START_TEST(test_pcap_private)
{
    struct uplink_pcap *cap = NULL;
    char err[512] = "", target[160];
    struct stat st;

    mode_t old = umask(0);
    ck_assert_msg(uplink_pcap_open(&cap, path, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(uplink_pcap_close(cap), 0);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(chmod(path, 0644), 0);
    ck_assert_int_eq(uplink_pcap_open(&cap, path, err, sizeof(err)), 0);
    ck_assert_int_eq(uplink_pcap_close(cap), 0);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    umask(old);

    snprintf(target, sizeof(target), "%s/target", dir);
    FILE *f = fopen(target, "w");
    ck_assert_ptr_nonnull(f);
    fputs("precious", f);
    fclose(f);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(symlink(target, path), 0);
    cap = NULL;
    ck_assert_int_eq(uplink_pcap_open(&cap, path, err, sizeof(err)), -ELOOP);
    ck_assert_ptr_null(cap);
    ck_assert_msg(strstr(err, "symbolic link"), "%s", err);
    ck_assert_int_eq(stat(target, &st), 0);
    ck_assert_int_eq(st.st_size, 8); /* not truncated */
    unlink(target);
}
END_TEST

START_TEST(test_sink_counts)
{
    struct uplink up;
    struct pfswitch sw;
    uint8_t f[60];

    ck_assert_int_eq(uplink_open_sink(&up), 0);
    ck_assert_str_eq(up.ops->name, "sink");
    ck_assert_int_eq(pfswitch_init(&sw, 2), 0);
    ck_assert_int_eq(pfswitch_attach(&sw, PFSWITCH_UPLINK, &uplink_port_ops, &up), 0);
    ck_assert_int_eq(pfswitch_set_mac(&sw, 0, VF0, false), 0);
    mkframe(f, BCAST, VF0, 60, 0);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(pfswitch_tx_from_vf(&sw, 0, f, 60), 0);
    ck_assert_uint_eq(up.tx_packets, 5);
    ck_assert_uint_eq(up.tx_bytes, 300);
    mkframe(f, VF0, EXT, 60, 0);
    ck_assert_int_eq(uplink_input(&up, &sw, f, 60), 0);
    ck_assert_uint_eq(up.rx_packets, 1);
    struct uplink_stats us;
    uplink_get_stats(&up, &us);
    ck_assert_str_eq(us.name, "sink");
    ck_assert(!us.network);
    ck_assert_uint_eq(us.tx_packets, 5);
    ck_assert_uint_eq(us.tx_bytes, 300);
    ck_assert_uint_eq(us.rx_packets, 1);
    ck_assert_uint_eq(us.sink_sum, (uint64_t)up.sink_s2 << 32 | up.sink_s1);
    struct pfswitch_port_stats st;
    ck_assert_int_eq(pfswitch_stats(&sw, PFSWITCH_UPLINK, &st), 0);
    ck_assert_uint_eq(st.rx_packets, 5); /* the switch counted them delivered */
    ck_assert_uint_eq(st.tx_packets, 1);
    ck_assert_int_eq(uplink_close(&up), 0);
    pfswitch_destroy(&sw);
}
END_TEST

/* ---- dgram ---- */

/* A free UDP port on 127.0.0.1 (the kernel's pick; a race with other programs is unlikely). */
static unsigned free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    return ntohs(a.sin_port);
}

struct sinkport {
    pthread_mutex_t lock;
    unsigned n;
    size_t len;
    uint8_t last[PFSWITCH_MAX_FRAME];
};

static int sinkport_deliver(void *opaque, const void *frame, size_t len)
{
    struct sinkport *sp = opaque;
    pthread_mutex_lock(&sp->lock);
    sp->n++;
    sp->len = len;
    memcpy(sp->last, frame, len);
    pthread_mutex_unlock(&sp->lock);
    return 0;
}

static const struct pfswitch_port_ops sinkport_ops = {.deliver = sinkport_deliver};

/* Waits up to 2 s for sp->n >= n. */
static unsigned wait_frames(struct sinkport *sp, unsigned n)
{
    unsigned got = 0;
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&sp->lock);
        got = sp->n;
        pthread_mutex_unlock(&sp->lock);
        if (got >= n)
            break;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    return got;
}

struct side {
    struct uplink up;
    struct pfswitch sw;
    struct sinkport vf;
};

static void side_open(struct side *s, unsigned local, unsigned remote, const uint8_t *mac)
{
    char err[256];
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->vf.lock, NULL);
    ck_assert_int_eq(pfswitch_init(&s->sw, 1), 0);
    ck_assert_int_eq(pfswitch_set_mac(&s->sw, 0, mac, false), 0);
    ck_assert_int_eq(pfswitch_attach(&s->sw, 0, &sinkport_ops, &s->vf), 0);
    int r = uplink_open_dgram(&s->up, local, remote, err, sizeof(err));
    ck_assert_msg(r == 0, "uplink_open_dgram: %s", err);
    ck_assert_str_eq(s->up.ops->name, "dgram");
    ck_assert_int_eq(pfswitch_attach(&s->sw, PFSWITCH_UPLINK, &uplink_port_ops, &s->up), 0);
    ck_assert_int_eq(uplink_start(&s->up, &s->sw, "test-rx"), 0);
}

static void side_close(struct side *s)
{
    ck_assert_int_eq(uplink_close(&s->up), 0);
    pfswitch_destroy(&s->sw);
}

START_TEST(test_dgram_both_ways)
{
    unsigned pa = free_port(), pb = free_port();
    struct side a, b;
    uint8_t f[1514];

    ck_assert_uint_ne(pa, pb);
    side_open(&a, pa, pb, VF0);
    side_open(&b, pb, pa, VF1);
    /* A -> B: unicast to B's VF (unknown in A's switch: out of A's uplink). */
    mkframe(f, VF1, VF0, 1514, 0xa5);
    ck_assert_int_eq(pfswitch_tx_from_vf(&a.sw, 0, f, 1514), 0);
    ck_assert_uint_eq(wait_frames(&b.vf, 1), 1);
    ck_assert_uint_eq(b.vf.len, 1514);
    ck_assert_mem_eq(b.vf.last, f, 1514);
    /* B -> A: a broadcast, then a minimum frame. */
    mkframe(f, BCAST, VF1, 60, 0x5a);
    ck_assert_int_eq(pfswitch_tx_from_vf(&b.sw, 0, f, 60), 0);
    mkframe(f, VF0, VF1, 14, 0);
    ck_assert_int_eq(pfswitch_tx_from_vf(&b.sw, 0, f, 14), 0);
    ck_assert_uint_eq(wait_frames(&a.vf, 2), 2);
    ck_assert_uint_eq(a.vf.len, 14);
    ck_assert_uint_eq(a.up.rx_packets, 2);
    ck_assert_uint_eq(b.up.tx_packets, 2);
    side_close(&a);
    side_close(&b);
}
END_TEST

START_TEST(test_dgram_bad_datagrams)
{
    unsigned pa = free_port(), pb = free_port();
    struct side a;
    static uint8_t big[PFSWITCH_MAX_FRAME + 1];
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_in from = to;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    side_open(&a, pa, pb, VF0);
    from.sin_port = htons((uint16_t)pb); /* the connected uplink accepts only its peer */
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
    to.sin_port = htons((uint16_t)pa);
    mkframe(big, VF0, EXT, sizeof(big), 1);
    ck_assert_int_eq(sendto(fd, big, 13, 0, (struct sockaddr *)&to, sizeof(to)), 13);
    ck_assert_int_eq(sendto(fd, big, 0, 0, (struct sockaddr *)&to, sizeof(to)), 0);
    ck_assert_int_eq(sendto(fd, big, sizeof(big), 0, (struct sockaddr *)&to, sizeof(to)),
                     (ssize_t)sizeof(big));
    ck_assert_int_eq(sendto(fd, big, 60, 0, (struct sockaddr *)&to, sizeof(to)), 60);
    ck_assert_uint_eq(wait_frames(&a.vf, 1), 1); /* datagrams arrive in order */
    pthread_mutex_lock(&a.up.lock);
    ck_assert_uint_eq(a.up.rx_runt, 2);
    ck_assert_uint_eq(a.up.rx_oversize, 1);
    ck_assert_uint_eq(a.up.rx_packets, 1);
    pthread_mutex_unlock(&a.up.lock);
    struct uplink_stats us;
    uplink_get_stats(&a.up, &us);
    ck_assert_str_eq(us.name, "dgram");
    ck_assert(us.network);
    ck_assert_uint_eq(us.rx_runt, 2);
    ck_assert_uint_eq(us.rx_oversize, 1);
    close(fd);
    side_close(&a);
}
END_TEST

START_TEST(test_dgram_bad_ports)
{
    struct uplink up;
    char err[256];
    unsigned p = free_port();
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)p)};

    ck_assert_int_eq(uplink_open_dgram(&up, 0, 5, err, sizeof(err)), -EINVAL);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(uplink_open_dgram(&up, p, p + 1, err, sizeof(err)), -EADDRINUSE);
    ck_assert_ptr_nonnull(strstr(err, "cannot bind 127.0.0.1"));
    close(fd);
}
END_TEST

START_TEST(test_tap_errors)
{
    struct uplink up;
    char err[256];

    ck_assert_int_eq(uplink_open_tap(&up, NULL, 999, err, sizeof(err)), -EBADF);
    ck_assert_ptr_nonnull(strstr(err, "tap-fd:999"));
    ck_assert_int_eq(uplink_open_tap(&up, "a-name-much-too-long", -1, err, sizeof(err)), -EINVAL);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(uplink_open_tap(&up, NULL, p[0], err, sizeof(err)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "not a tap opened with IFF_TAP | IFF_NO_PI"));
    close(p[0]);
    close(p[1]);
}
END_TEST

START_TEST(test_pcap_uplink_both_directions)
{
    struct uplink up;
    struct pfswitch sw;
    char err[256] = "";
    uint8_t f[80];
    struct rec recs[8];

    ck_assert_msg(uplink_open_pcap(&up, path, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(up.ops->name, "pcap");
    ck_assert_int_eq(pfswitch_init(&sw, 2), 0);
    ck_assert_int_eq(pfswitch_attach(&sw, PFSWITCH_UPLINK, &uplink_port_ops, &up), 0);
    ck_assert_int_eq(pfswitch_set_mac(&sw, 0, VF0, false), 0);
    ck_assert_int_eq(pfswitch_set_mac(&sw, 1, VF1, false), 0);
    ck_assert_int_eq(pfswitch_set_vlan(&sw, 1, 42), 0);

    mkframe(f, EXT, VF0, 60, 0x55); /* VF 0 out: untagged */
    ck_assert_int_eq(pfswitch_tx_from_vf(&sw, 0, f, 60), 0);
    mkframe(f, EXT, VF1, 70, 0x66); /* VF 1 out: tagged 42 */
    ck_assert_int_eq(pfswitch_tx_from_vf(&sw, 1, f, 70), 0);
    mkframe(f, VF0, EXT, 80, 0x77); /* in from the network */
    ck_assert_int_eq(uplink_input(&up, &sw, f, 80), 0);
    mkframe(f, VF0, VF1, 60, 0x00); /* VF to VF: never crosses the uplink */
    ck_assert_int_eq(pfswitch_set_vlan(&sw, 1, 0), 0);
    ck_assert_int_eq(pfswitch_tx_from_vf(&sw, 1, f, 60), 0);
    ck_assert_int_eq(uplink_close(&up), 0);
    pfswitch_destroy(&sw);

    ck_assert_int_eq(read_back(path, recs, 8), 3);
    ck_assert_uint_eq(recs[0].len, 60);
    ck_assert_mem_eq(recs[0].data + 6, VF0, 6);
    ck_assert_uint_eq(recs[1].len, 74);
    ck_assert_uint_eq(recs[1].data[12], 0x81);
    ck_assert_uint_eq(recs[1].data[15], 42);
    ck_assert_uint_eq(recs[2].len, 80);
    ck_assert_mem_eq(recs[2].data + 6, EXT, 6);
}
END_TEST

static int swallow(void *opaque, const void *frame, size_t len)
{
    return 0;
}

START_TEST(test_per_vf_capture)
{
    static const struct pfswitch_port_ops ops = {.deliver = swallow};
    struct uplink_pcap *cap;
    struct pfswitch sw;
    char err[256] = "";
    uint8_t f[64];
    struct rec recs[8];

    ck_assert_msg(uplink_pcap_open(&cap, path, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(pfswitch_init(&sw, 2), 0);
    ck_assert_int_eq(pfswitch_attach(&sw, 0, &ops, NULL), 0);
    ck_assert_int_eq(pfswitch_attach(&sw, 1, &ops, NULL), 0);
    ck_assert_int_eq(pfswitch_attach(&sw, PFSWITCH_UPLINK, &ops, NULL), 0);
    ck_assert_int_eq(pfswitch_set_mac(&sw, 0, VF0, false), 0);
    ck_assert_int_eq(pfswitch_set_mac(&sw, 1, VF1, false), 0);
    ck_assert_int_eq(pfswitch_set_tap(&sw, 1, uplink_pcap_tap, cap), 0);
    mkframe(f, VF1, VF0, 64, 1); /* into VF 1 */
    ck_assert_int_eq(pfswitch_tx_from_vf(&sw, 0, f, 64), 0);
    mkframe(f, BCAST, VF1, 62, 2); /* out of VF 1 */
    ck_assert_int_eq(pfswitch_tx_from_vf(&sw, 1, f, 62), 0);
    mkframe(f, EXT, VF0, 64, 3); /* not VF 1's business */
    ck_assert_int_eq(pfswitch_tx_from_vf(&sw, 0, f, 64), 0);
    pfswitch_destroy(&sw);
    ck_assert_int_eq(uplink_pcap_close(cap), 0);

    ck_assert_int_eq(read_back(path, recs, 8), 2);
    ck_assert_uint_eq(recs[0].len, 64);
    ck_assert_uint_eq(recs[1].len, 62);
}
END_TEST

static Suite *uplink_suite(void)
{
    Suite *s = suite_create("uplink");
    TCase *tc = tcase_create("pcap_writer");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_pcap_writer_round_trip);
    tcase_add_test(tc, test_pcap_on_disk_before_close);
    tcase_add_test(tc, test_pcap_missing_library);
    tcase_add_test(tc, test_pcap_unwritable);
    tcase_add_test(tc, test_pcap_private);
    suite_add_tcase(s, tc);
    tc = tcase_create("uplinks");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_sink_counts);
    tcase_add_test(tc, test_pcap_uplink_both_directions);
    tcase_add_test(tc, test_per_vf_capture);
    suite_add_tcase(s, tc);
    tc = tcase_create("dgram");
    tcase_add_test(tc, test_dgram_both_ways);
    tcase_add_test(tc, test_dgram_bad_datagrams);
    tcase_add_test(tc, test_dgram_bad_ports);
    tcase_add_test(tc, test_tap_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(uplink_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
