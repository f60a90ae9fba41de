/*
 * test_apisock.c: unit tests of the control socket (cmd/ctl/apisock*.c; its JSON reader has
 * test_json.c): line framing (oversized lines discarded up to their
 * newline, one error each), command dispatch against fake VM ops (vf list / vf set / pause /
 * resume / stop / status, bad VF numbers, wrong types), random bytes never crash the reader or
 * the dispatcher, and the server end to end on a socket (mode 0600, stale socket replaced, a
 * regular file refused, the connection usable after errors). CK_FORK.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "apisock.h"
#include "ck_loop.h"
#include "ctl.h"
#include "minivmm/util.h"

static struct json j;
static char err[256];

/* ---- Lines ---- */

struct lines {
    unsigned n, oversized;
    char last[APISOCK_MAX_LINE + 1];
};

static void on_line(void *opaque, const char *line, size_t len, bool oversized)
{
    struct lines *l = opaque;
    l->n++;
    if (oversized) {
        l->oversized++;
        return;
    }
    memcpy(l->last, line, len);
    l->last[len] = '\0';
}

START_TEST(lines_split)
{
    static struct apisock_linebuf lb;
    struct lines l = {0};
    apisock_linebuf_feed(&lb, "ab", 2, on_line, &l);
    ck_assert_uint_eq(l.n, 0);
    apisock_linebuf_feed(&lb, "c\nde\n\nf", 7, on_line, &l);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_str_eq(l.last, "");
    apisock_linebuf_feed(&lb, "\n", 1, on_line, &l);
    ck_assert_str_eq(l.last, "f");
}
END_TEST

START_TEST(lines_oversized)
{
    static struct apisock_linebuf lb;
    static char big[100 * 1024];
    struct lines l = {0};
    memset(big, 'x', sizeof(big));
    /* Exactly APISOCK_MAX_LINE bytes is fine. */
    apisock_linebuf_feed(&lb, big, APISOCK_MAX_LINE, on_line, &l);
    apisock_linebuf_feed(&lb, "\n", 1, on_line, &l);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_uint_eq(l.oversized, 0);
    ck_assert_uint_eq(strlen(l.last), APISOCK_MAX_LINE);
    /* 100 KiB in pieces: one oversized report at its newline, then the next line is whole. */
    for (size_t off = 0; off < sizeof(big); off += 1000)
        apisock_linebuf_feed(&lb, big + off, sizeof(big) - off < 1000 ? sizeof(big) - off : 1000,
                             on_line, &l);
    ck_assert_uint_eq(l.n, 1);
    apisock_linebuf_feed(&lb, "tail\nok\n", 8, on_line, &l);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_uint_eq(l.oversized, 1);
    ck_assert_str_eq(l.last, "ok");
}
END_TEST

/* ---- Commands against fake ops ---- */

struct fake {
    int nvfs;
    struct nic_vf_info vf[4];
    bool paused, stopping;
    unsigned stops;
    char last_key[32], last_value[64];
};

static struct fake fk;

static int f_vf_count(void *o)
{
    return ((struct fake *)o)->nvfs;
}

static int f_vf_info(void *o, unsigned vf, struct nic_vf_info *out)
{
    struct fake *f = o;
    if ((int)vf >= f->nvfs)
        return -EINVAL;
    *out = f->vf[vf];
    return 0;
}

static int f_vf_set(void *o, unsigned vf, const char *key, const char *value, char *e, size_t elen)
{
    struct fake *f = o;
    snprintf(f->last_key, sizeof(f->last_key), "%s", key);
    snprintf(f->last_value, sizeof(f->last_value), "%s", value);
    if (strcmp(key, "vlan") == 0) {
        char *end;
        long v = strtol(value, &end, 10);
        if (*end || v < 0 || v > 4094) {
            snprintf(e, elen, "vlan: '%s' is not a VLAN ID (0-4094)", value);
            return -EINVAL;
        }
        f->vf[vf].vlan = (unsigned)v;
        return 0;
    }
    if (strcmp(key, "spoofchk") == 0 || strcmp(key, "trust") == 0) {
        if (strcmp(value, "on") && strcmp(value, "off")) {
            snprintf(e, elen, "%s: '%s' is not on or off", key, value);
            return -EINVAL;
        }
        return 0;
    }
    snprintf(e, elen, "unknown key '%s'", key);
    return -EINVAL;
}

static int f_pause(void *o)
{
    struct fake *f = o;
    if (f->stopping)
        return -ESHUTDOWN;
    f->paused = true;
    return 0;
}

static int f_resume(void *o)
{
    struct fake *f = o;
    if (f->stopping)
        return -ESHUTDOWN;
    f->paused = false;
    return 0;
}

static void f_stop(void *o)
{
    struct fake *f = o;
    f->stopping = true;
    f->stops++;
}

static void f_status(void *o, struct apisock_status *st)
{
    struct fake *f = o;
    st->state = f->stopping ? "stopping" : f->paused ? "paused" : "running";
    st->vcpus = 2;
    st->uptime_ms = 1234;
    st->paused_ms = 5;
}

static const struct apisock_ops fake_ops = {f_vf_count, f_vf_info, f_vf_set, f_pause,
                                            f_resume,   f_stop,    f_status};

static char reply[APISOCK_MAX_REPLY];

static void setup(void)
{
    memset(&fk, 0, sizeof(fk));
    fk.nvfs = 2;
    for (int i = 0; i < 2; i++) {
        fk.vf[i] = (struct nic_vf_info){.index = (unsigned)i,
                                        .mac = {2, 0, 0, 0, 0, (uint8_t)i},
                                        .spoofchk = true,
                                        .state_name = "auto",
                                        .link_up = true,
                                        .tx_packets = 7};
    }
    fk.vf[1].tx_drops[0] = 3;
}

/* Runs one request; the reply must be one line that our reader accepts. */
static const char *req(const char *s)
{
    static struct json r;
    size_t n = apisock_handle(&fake_ops, &fk, s, strlen(s), reply, sizeof(reply));
    ck_assert_uint_eq(n, strlen(reply));
    ck_assert_msg(n > 0 && reply[n - 1] == '\n' && !memchr(reply, '\n', n - 1), "'%s'", reply);
    ck_assert_msg(json_parse(reply, n - 1, true, &r, err, sizeof(err)) == 0, "reply '%s': %s",
                  reply, err);
    return reply;
}

static void want(const char *request, const char *substr)
{
    req(request);
    ck_assert_msg(strstr(reply, substr), "%s -> %s (want '%s')", request, reply, substr);
}

START_TEST(cmd_status_pause_resume_stop)
{
    want("{\"cmd\":\"status\"}", "{\"ok\":true,\"state\":\"running\",\"vcpus\":2,\"vfs\":2,"
                                 "\"uptime_ms\":1234,\"paused_ms\":5}");
    want("{\"cmd\":\"pause\"}", "{\"ok\":true,\"state\":\"paused\"}");
    ck_assert(fk.paused);
    want("{\"cmd\":\"status\"}", "\"state\":\"paused\"");
    want("{\"cmd\":\"resume\"}", "{\"ok\":true,\"state\":\"running\"}");
    want("{\"cmd\":\"stop\"}", "{\"ok\":true,\"state\":\"stopping\"}");
    ck_assert_uint_eq(fk.stops, 1);
    want("{\"cmd\":\"pause\"}", "{\"ok\":false,\"error\":\"pause: the VM is stopping\"}");
    want("{\"cmd\":\"resume\"}", "the VM is stopping");
    want("{\"cmd\":\"status\"}", "\"state\":\"stopping\"");
}
END_TEST

START_TEST(cmd_vf_list)
{
    want("{\"cmd\":\"vf list\"}", "{\"ok\":true,\"vfs\":[{\"vf\":0,\"nic\":0,\"index\":0,"
                                  "\"mac\":\"02:00:00:00:00:00\",\"vlan\":0,\"spoofchk\":true,"
                                  "\"trust\":false,\"state\":\"auto\",\"link_up\":true");
    want("{\"cmd\":\"vf list\"}", "\"mac\":\"02:00:00:00:00:01\"");
    want("{\"cmd\":\"vf list\"}", "\"tx_packets\":7");
    want("{\"cmd\":\"vf list\"}", "\"tx_dropped\":3");
    fk.nvfs = 0;
    want("{\"cmd\":\"vf list\"}", "{\"ok\":true,\"vfs\":[]}");
}
END_TEST

/* Counters near UINT64_MAX: the reply must still be one that our reader (and so `ctl`)
 * accepts; req() parses it. */
START_TEST(cmd_vf_list_u64)
{
    fk.vf[0].rx_bytes = UINT64_MAX;
    fk.vf[0].rate_wait_us = (uint64_t)INT64_MAX + 1;
    for (unsigned r = 0; r < NIC_DROP_NR; r++)
        fk.vf[0].tx_drops[r] = UINT64_MAX / NIC_DROP_NR;
    want("{\"cmd\":\"vf list\"}", "\"rx_bytes\":18446744073709551615,");
    want("{\"cmd\":\"vf list\"}", "\"rate_wait_us\":9223372036854775808");
    /* A VF number beyond int64 is named as it came. */
    want("{\"cmd\":\"vf set\",\"vf\":18446744073709551615,\"vlan\":1}",
         "no VF 18446744073709551615 (VFs are 0-1)");
}
END_TEST

/* Truncated messages cut at a character boundary: the reply stays valid JSON (req() parses
 * it; the reader refuses invalid UTF-8). */
START_TEST(cmd_utf8_truncation)
{
    static char r[2 * APISOCK_MAX_LINE];
    char euros[3 * 100 + 1] = "";
    for (int i = 0; i < 100; i++)
        strcat(euros, "\xe2\x82\xac"); /* U+20AC, 3 bytes */
    /* The unknown command's name is cut to 64 bytes: 21 euros and one byte of the 22nd. */
    snprintf(r, sizeof(r), "{\"cmd\":\"%.90s\"}", euros);
    req(r);
    ck_assert_msg(strstr(reply, "unknown command"), "%s", reply);
    /* The fake's error quotes the value in 256 bytes (as nic_vf_set's does): cut inside a
     * euro. */
    snprintf(r, sizeof(r), "{\"cmd\":\"vf set\",\"vf\":0,\"vlan\":\"%s\"}", euros);
    req(r);
    ck_assert_msg(strstr(reply, "is not a VLAN") == NULL && strstr(reply, "vlan: '\xe2\x82\xac"),
                  "%s", reply);
    /* A state name with a stray byte. */
    fk.vf[0].state_name = "au\xffto\xe2\x82";
    want("{\"cmd\":\"vf list\"}", "\"state\":\"au?to\"");
}
END_TEST

START_TEST(cmd_vf_set)
{
    want("{\"cmd\":\"vf set\",\"vf\":1,\"key\":\"vlan\",\"value\":\"10\"}",
         "{\"ok\":true,\"applied\":1}");
    ck_assert_uint_eq(fk.vf[1].vlan, 10);
    /* Integers and booleans become the text nic_vf_set() takes. */
    want("{\"cmd\":\"vf set\",\"vf\":0,\"vlan\":5,\"spoofchk\":false}",
         "{\"ok\":true,\"applied\":2}");
    ck_assert_uint_eq(fk.vf[0].vlan, 5);
    ck_assert_str_eq(fk.last_key, "spoofchk");
    ck_assert_str_eq(fk.last_value, "off");
    /* The first failure stops; the reply says how many were applied. */
    want("{\"cmd\":\"vf set\",\"vf\":0,\"vlan\":7,\"trust\":\"maybe\",\"vlan2\":1}",
         "{\"ok\":false,\"error\":\"vf set: vf 0: trust: 'maybe' is not on or off\","
         "\"applied\":1}");
    ck_assert_uint_eq(fk.vf[0].vlan, 7);
    want("{\"cmd\":\"vf set\",\"vf\":0,\"vlan\":\"x\"}", "'x' is not a VLAN ID");
}
END_TEST

static const struct {
    const char *req, *err;
} cmd_errors[] = {
    {"{\"cmd\":\"vf set\",\"vf\":99,\"key\":\"vlan\",\"value\":\"5\"}", "no VF 99 (VFs are 0-1)"},
    {"{\"cmd\":\"vf set\",\"vf\":-1,\"vlan\":5}", "no VF -1"},
    {"{\"cmd\":\"vf set\",\"vf\":\"1\",\"vlan\":5}", "\\\"vf\\\" must be an integer"},
    {"{\"cmd\":\"vf set\",\"vlan\":5}", "\\\"vf\\\" must be an integer"},
    {"{\"cmd\":\"vf set\",\"vf\":1}", "nothing to set"},
    {"{\"cmd\":\"vf set\",\"vf\":1,\"key\":5,\"value\":\"5\"}", "\\\"key\\\" must be a string"},
    {"{\"cmd\":\"vf set\",\"vf\":1,\"key\":\"vlan\"}", "without \\\"value\\\""},
    {"{\"cmd\":\"vf set\",\"vf\":1,\"key\":\"vlan\",\"value\":\"5\",\"x\":1}",
     "unexpected member \\\"x\\\""},
    {"{\"cmd\":\"vf set\",\"vf\":1,\"mtu\":\"5\"}", "unknown key 'mtu'"},
    {"{\"cmd\":\"vf list\",\"vf\":1}", "vf list: unexpected member \\\"vf\\\""},
    {"{\"cmd\":\"pause\",\"now\":true}", "pause: unexpected member"},
    {"{\"cmd\":\"reboot\"}", "unknown command \\\"reboot\\\""},
    {"{\"cmd\":5}", "missing \\\"cmd\\\""},
    {"{\"vf\":1}", "missing \\\"cmd\\\""},
    {"garbage", "bad JSON at byte 0: expected an object"},
    {"{\"cmd\":\"status\"", "bad JSON"},
};

START_TEST(cmd_error)
{
    want(cmd_errors[_i].req, "{\"ok\":false,\"error\":\"");
    ck_assert_msg(strstr(reply, cmd_errors[_i].err), "%s -> %s (want '%s')", cmd_errors[_i].req,
                  reply, cmd_errors[_i].err);
    ck_assert_uint_eq(fk.stops, 0);
}
END_TEST

/* ---- Random bytes ---- */

START_TEST(fuzz_random)
{
    static char buf[APISOCK_MAX_LINE + 64];
    static const char alphabet[] = "{}[]\":,\\u0123456789abcdefnrt -+.eE\x80\xc3\xa9\xff\x00\n";
    static const char *const seeds[] = {
        "{\"cmd\":\"vf set\",\"vf\":1,\"key\":\"vlan\",\"value\":\"10\"}",
        "{\"cmd\":\"vf list\"}",
        "{\"e\":\"\\ud83d\\ude00\\u00e9\"}",
    };
    srand(1234);
    for (int it = 0; it < 200000; it++) {
        size_t n;
        if (it % 3 == 0) { /* bytes of any value */
            n = (size_t)rand() % 200;
            for (size_t i = 0; i < n; i++)
                buf[i] = (char)rand();
        } else if (it % 3 == 1) { /* JSON-ish tokens */
            n = (size_t)rand() % 200;
            for (size_t i = 0; i < n; i++)
                buf[i] = alphabet[(size_t)rand() % (sizeof(alphabet) - 1)];
        } else { /* a good request, mutated or cut */
            const char *s = seeds[(size_t)rand() % 3];
            n = strlen(s);
            memcpy(buf, s, n);
            for (int k = rand() % 4; k >= 0; k--)
                buf[(size_t)rand() % n] = (char)rand();
            n = (size_t)rand() % (n + 1);
        }
        /* The parse result does not matter; not crashing (ASan, UBSan) and one line back do. */
        json_parse(buf, n, (it & 1) != 0, &j, err, sizeof(err));
        size_t r = apisock_handle(&fake_ops, &fk, buf, n, reply, sizeof(reply));
        LOOP_ASSERT_MSG(r > 0 && reply[r - 1] == '\n', "round %d", it);
    }
    /* A maximal line of garbage too. */
    memset(buf, '[', APISOCK_MAX_LINE);
    apisock_handle(&fake_ops, &fk, buf, APISOCK_MAX_LINE, reply, sizeof(reply));
    ck_assert(strstr(reply, "\"ok\":false"));
}
END_TEST

/* ---- The server on a real socket ---- */

static char dir[64], path[96];

static void sock_setup(void)
{
    setup();
    snprintf(dir, sizeof(dir), "/tmp/test_apisock.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/s", dir);
}

static void sock_teardown(void)
{
    unlink(path);
    rmdir(dir);
}

static int connect_to(const char *p)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", p);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        ck_assert_int_gt(w, 0);
        s += w;
        n -= (size_t)w;
    }
}

/* Reads one reply line into reply. */
static void recv_line(int fd)
{
    size_t n = 0;
    while (n < sizeof(reply) - 1) {
        ssize_t r = read(fd, reply + n, 1);
        ck_assert_int_eq(r, 1);
        if (reply[n++] == '\n')
            break;
    }
    reply[n] = '\0';
}

START_TEST(server_roundtrip)
{
    struct apisock *s;
    struct stat st;
    static char big[100 * 1024];

    ck_assert_int_eq(apisock_create(&s, path, &fake_ops, &fk, err, sizeof(err)), 0);
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(apisock_start(s), 0);
    int fd = connect_to(path);
    send_all(fd, "{\"cmd\":\"status\"}\n", 17);
    recv_line(fd);
    ck_assert_str_eq(reply, "{\"ok\":true,\"state\":\"running\",\"vcpus\":2,\"vfs\":2,"
                            "\"uptime_ms\":1234,\"paused_ms\":5}\n");
    /* Garbage, a blank line (ignored), a 100 KiB line, then a good request on the same
     * connection. */
    memset(big, 'x', sizeof(big));
    send_all(fd, "garbage\n\n", 9);
    recv_line(fd);
    ck_assert(strstr(reply, "\"ok\":false"));
    send_all(fd, big, sizeof(big));
    send_all(fd, "\n{\"cmd\":\"pause\"}\n", 17);
    recv_line(fd);
    ck_assert_str_eq(reply, "{\"ok\":false,\"error\":\"request longer than 4096 bytes\"}\n");
    recv_line(fd);
    ck_assert_str_eq(reply, "{\"ok\":true,\"state\":\"paused\"}\n");
    /* Requests split across writes. */
    send_all(fd, "{\"cmd\":\"res", 11);
    usleep(10000);
    send_all(fd, "ume\"}\n", 6);
    recv_line(fd);
    ck_assert_str_eq(reply, "{\"ok\":true,\"state\":\"running\"}\n");
    close(fd);
    /* A second VMM on the same path is refused while this one serves. */
    struct apisock *s2;
    ck_assert_int_eq(apisock_create(&s2, path, &fake_ops, &fk, err, sizeof(err)), -EADDRINUSE);
    ck_assert_msg(strstr(err, "in use"), "%s", err);
    apisock_destroy(s);
    ck_assert_int_eq(lstat(path, &st), -1); /* removed */
}
END_TEST

START_TEST(server_paths)
{
    struct apisock *s;
    /* A stale socket (nobody listening) is replaced. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    close(fd);
    ck_assert_int_eq(apisock_create(&s, path, &fake_ops, &fk, err, sizeof(err)), 0);
    apisock_destroy(s); /* never started: fine */
    /* A regular file is not clobbered. */
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(apisock_create(&s, path, &fake_ops, &fk, err, sizeof(err)), -EEXIST);
    ck_assert_msg(strstr(err, "is not a socket"), "%s", err);
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    /* Too long a path. */
    char longp[200];
    memset(longp, 'a', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    ck_assert_int_eq(apisock_create(&s, longp, &fake_ops, &fk, err, sizeof(err)), -ENAMETOOLONG);
}
END_TEST

/* ---- `minivmm ctl` against a scripted server ---- */

/* Accepts one connection on lfd; with a reply, reads the request line and answers it;
 * without, never answers (holds the connection until the client closes it). */
struct script {
    int lfd;
    const char *reply;
};

static void *script_thread(void *opaque)
{
    struct script *sc = opaque;
    char c;
    int fd = accept(sc->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    while (sc->reply && read(fd, &c, 1) == 1 && c != '\n')
        ;
    if (sc->reply) {
        ssize_t w = write(fd, sc->reply, strlen(sc->reply));
        (void)w; /* a short write shows in the client's status */
    }
    while (read(fd, &c, 1) > 0)
        ;
    close(fd);
    return NULL;
}

static char ctl_err[4096], ctl_out[4096];

/* Reads back and removes the file behind fd into buf. */
static void slurp(int fd, const char *name, char *buf, size_t size)
{
    ssize_t n = pread(fd, buf, size - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(name);
}

/* Runs ctl_main(argv) against a server answering `answer` (NULL: never); its stderr goes to
 * ctl_err, its stdout to ctl_out. Returns its status. */
static int run_ctl(const char *answer, int argc, char **argv)
{
    struct script sc = {.reply = answer};
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    pthread_t t;
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    sc.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(sc.lfd, 0);
    ck_assert_int_eq(bind(sc.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(sc.lfd, 1), 0);
    ck_assert_int_eq(pthread_create(&t, NULL, script_thread, &sc), 0);

    char errpath[128], outpath[128];
    snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
    snprintf(outpath, sizeof(outpath), "%s/stdout", dir);
    int efd = open(errpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
    int ofd = open(outpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(efd, 0);
    ck_assert_int_ge(ofd, 0);
    fflush(stderr);
    fflush(stdout);
    int saved_err = dup(2), saved_out = dup(1);
    dup2(efd, 2);
    dup2(ofd, 1);
    int status = ctl_main(argc, argv);
    fflush(stderr);
    fflush(stdout);
    dup2(saved_err, 2);
    dup2(saved_out, 1);
    close(saved_err);
    close(saved_out);
    slurp(efd, errpath, ctl_err, sizeof(ctl_err));
    slurp(ofd, outpath, ctl_out, sizeof(ctl_out));
    pthread_join(t, NULL);
    close(sc.lfd);
    unlink(path);
    return status;
}

/* A server that accepts and never answers: ctl gives up after --timeout with one line and
 * status 1 (the default is CTL_TIMEOUT_MS; the test uses 0.3 s to stay fast). */
START_TEST(ctl_timeout)
{
    char c0[] = "ctl", c1[] = "--timeout", c2[] = "0.3", c4[] = "status", zero[] = "0";
    char *argv[] = {c0, c1, c2, path, c4, NULL};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(run_ctl(NULL, 5, argv), 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ck_assert_msg(s >= 0.29 && s < 3, "%.3f s", s);
    ck_assert_msg(strstr(ctl_err, "no reply within 0.3 s"), "'%s'", ctl_err);
    ck_assert_msg(strchr(ctl_err, '\n') == ctl_err + strlen(ctl_err) - 1, "'%s'", ctl_err);
    /* A server that answers in time is unaffected. */
    ck_assert_int_eq(run_ctl("{\"ok\":true,\"state\":\"running\",\"vcpus\":1,\"vfs\":0,"
                             "\"uptime_ms\":1,\"paused_ms\":0}\n",
                             5, argv),
                     0);
    ck_assert_str_eq(ctl_err, "");
    /* Bad values are refused. */
    char *bad[] = {c0, c1, zero, path, c4, NULL};
    ck_assert_int_eq(ctl_main(5, bad), 1);
}
END_TEST

/* The server's strings reach the terminal with control characters escaped: an error with
 * ESC, BEL and a C1 CSI (U+009B), and a VF state name with an OSC sequence. */
START_TEST(ctl_escapes)
{
    char c0[] = "ctl", c3[] = "status", c4[] = "vf", c5[] = "list";
    char *argv[] = {c0, path, c3, NULL};
    ck_assert_int_eq(
        run_ctl("{\"ok\":false,\"error\":\"\\u001b[31mred\\u0007 \\u009b2J caf\\u00e9\"}\n", 3,
                argv),
        1);
    ck_assert_str_eq(ctl_err, "minivmm ctl: \\x1b[31mred\\x07 \\u009b2J caf\xc3\xa9\n");
    char *vargv[] = {c0, path, c4, c5, NULL};
    ck_assert_int_eq(run_ctl("{\"ok\":true,\"vfs\":[{\"vf\":0,\"mac\":\"\\u001b]0;x\\u0007\","
                             "\"state\":\"a\\u007fb\",\"rx_drop_\\u001bz\":1}]}\n",
                             4, vargv),
                     0);
    ck_assert_msg(!strchr(ctl_out, 0x1b) && !strchr(ctl_out, 0x07) && !strchr(ctl_out, 0x7f),
                  "'%s'", ctl_out);
    ck_assert_msg(strstr(ctl_out, "link/ether \\x1b]0;x\\x07, spoof"), "'%s'", ctl_out);
    ck_assert_msg(strstr(ctl_out, "link-state a\\x7fb,"), "'%s'", ctl_out);
    ck_assert_msg(strstr(ctl_out, "(\\x1bz 1)"), "'%s'", ctl_out);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("apisock");
    TCase *tc = tcase_create("lines");
    tcase_add_test(tc, lines_split);
    tcase_add_test(tc, lines_oversized);
    suite_add_tcase(s, tc);
    tc = tcase_create("commands");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, cmd_status_pause_resume_stop);
    tcase_add_test(tc, cmd_vf_list);
    tcase_add_test(tc, cmd_vf_list_u64);
    tcase_add_test(tc, cmd_vf_set);
    tcase_add_test(tc, cmd_utf8_truncation);
    tcase_add_loop_test(tc, cmd_error, 0, ARRAY_SIZE(cmd_errors));
    suite_add_tcase(s, tc);
    tc = tcase_create("fuzz");
    tcase_add_checked_fixture(tc, setup, NULL);
    /* 200000 requests: ~0.3 s here, 4 s under valgrind. */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, fuzz_random);
    suite_add_tcase(s, tc);
    tc = tcase_create("server");
    tcase_add_checked_fixture(tc, sock_setup, sock_teardown);
    tcase_add_test(tc, server_roundtrip);
    tcase_add_test(tc, server_paths);
    suite_add_tcase(s, tc);
    tc = tcase_create("ctl");
    tcase_add_checked_fixture(tc, sock_setup, sock_teardown);
    tcase_set_timeout(tc, 20); /* before --timeout, ctl_timeout hung here */
    tcase_add_test(tc, ctl_timeout);
    tcase_add_test(tc, ctl_escapes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
