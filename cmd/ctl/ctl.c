/*
 * ctl.c: `minivmm ctl [--json] PATH COMMAND...` (ctl.h): turns the words into one request line
 * of the control socket protocol (src/apisock.h), sends it, reads the one reply line and prints
 * it for people (`vf list` like the vf lines of `ip -s link show`; the server's strings with
 * control characters escaped, safe()) or, with --json, as it came.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "apisock.h"
#include "cmdline.h"
#include "ctl.h"
#include "minivmm/errmsg.h"
#include "minivmm/util.h"

const char *const ctl_help =
    "minivmm ctl [--json] [--timeout SECONDS] PATH COMMAND: control a VM started with\n"
    "--api-sock PATH.\n"
    "  vf list                 per-VF MAC, VLAN, spoof checking, link state, trust, rate and\n"
    "                          counters\n"
    "  vf set N KEY VALUE [KEY VALUE...]\n"
    "                          keys mac, vlan, spoofchk, trust, state (auto|enable|disable),\n"
    "                          max_tx_rate (Mbit/s, 0 = unlimited)\n"
    "  pause | resume          stop and restart all vCPUs\n"
    "  stop                    stop the VM (`minivmm run` exits with status 0)\n"
    "  status                  running/paused, vCPUs, uptime\n"
    "  --json                  print the server's reply as it came (one JSON object)\n"
    "  --timeout SECONDS       wait at most this long for the reply (default 10; decimals\n"
    "                          allowed, e.g. 0.5), then fail with status 1\n";

/* The request for the command words, or 1 after a message. */
static int build_request(char **w, int n, char *req, size_t size)
{
    size_t k = 0;
    unsigned vf;
    if (n == 2 && strcmp(w[0], "vf") == 0 && strcmp(w[1], "list") == 0) {
        snprintf(req, size, "{\"cmd\":\"vf list\"}\n");
        return 0;
    }
    if (n >= 2 && strcmp(w[0], "vf") == 0 && strcmp(w[1], "set") == 0) {
        if (n < 5 || (n - 3) % 2)
            return errmsg_print("ctl", "usage: vf set N KEY VALUE [KEY VALUE...]");
        if (cmdline_parse_uint(w[2], 0, 0x7fffffff, &vf))
            return errmsg_print("ctl", "vf set: '%s' is not a VF number", w[2]);
        k = (size_t)snprintf(req, size, "{\"cmd\":\"vf set\",\"vf\":%u", vf);
        for (int i = 3; i + 1 < n; i += 2) {
            for (int h = 0; h < 2; h++) {
                if (k + 4 >= size)
                    break;
                req[k++] = h ? ':' : ',';
                json_str(req, size, &k, w[i + h], 0);
            }
            if (k + 4 >= size)
                return errmsg_print("ctl", "vf set: request longer than %d bytes",
                                    APISOCK_MAX_LINE);
        }
        snprintf(req + k, size - k, "}\n");
        return 0;
    }
    static const char *const simple[] = {"pause", "resume", "stop", "status"};
    for (size_t i = 0; n == 1 && i < ARRAY_SIZE(simple); i++)
        if (strcmp(w[0], simple[i]) == 0) {
            snprintf(req, size, "{\"cmd\":\"%s\"}\n", simple[i]);
            return 0;
        }
    return errmsg_print("ctl",
                        "unknown command '%s' (vf list, vf set, pause, resume, stop, status; see "
                        "minivmm ctl --help)",
                        w[0]);
}

/* The server's numbers are all unsigned (u64 counters up to UINT64_MAX). */
static uint64_t num(const struct json *o, const char *key)
{
    const struct json_member *m = json_get(o, key);
    return m && m->type == JSON_INT ? m->unum : 0;
}

static const char *onoff(const struct json *o, const char *key)
{
    const struct json_member *m = json_get(o, key);
    return m && m->type == JSON_BOOL && m->b ? "on" : "off";
}

/* Server-provided text made safe for a terminal: C0 control characters and DEL as \xNN, C1
 * ones (U+0080-U+009F, which some terminals obey too: U+009B is CSI) as \u00NN, so that a
 * server cannot send escape sequences to the user's terminal. The result lives until the
 * fourth call after. */
static const char *safe(const char *s)
{
    static char bufs[4][4 * JSON_MAX_TEXT + 1]; /* \xNN: 4 bytes a byte at most */
    static unsigned next;
    char *d = bufs[next++ % ARRAY_SIZE(bufs)];
    size_t k = 0, size = sizeof(bufs[0]);
    for (const unsigned char *p = (const unsigned char *)s; *p && k + 7 < size; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            k += (size_t)snprintf(d + k, size - k, "\\x%02x", *p);
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            k += (size_t)snprintf(d + k, size - k, "\\u%04x", p[1]);
            p++;
        } else {
            d[k++] = (char)*p;
        }
    }
    d[k] = '\0';
    return d;
}

static const char *str(const struct json *o, const char *key)
{
    const struct json_member *m = json_get(o, key);
    return m && m->type == JSON_STRING ? safe(m->str) : "?";
}

/* Non-zero drops by reason: " (spoof 3, vlan 1)". */
static void drops(const struct json *o, const char *prefix)
{
    bool any = false;
    size_t pl = strlen(prefix);
    for (unsigned i = 0; i < o->n; i++) {
        const struct json_member *m = &o->m[i];
        if (strncmp(m->key, prefix, pl) != 0 || m->type != JSON_INT || !m->unum)
            continue;
        printf("%s%s %" PRIu64, any ? ", " : " (", safe(m->key + pl), m->unum);
        any = true;
    }
    if (any)
        printf(")");
}

static int print_vf_list(const struct json *reply)
{
    static struct json v;
    const struct json_member *arr = json_get(reply, "vfs");
    char err[160];
    size_t pos = 0;
    int r;
    if (!arr || arr->type != JSON_ARRAY)
        return errmsg_print("ctl", "vf list: the reply has no \"vfs\" array");
    while ((r = json_array_next(arr, &pos, &v, err, sizeof(err))) == 1) {
        printf("vf %-5" PRIu64 " link/ether %s", num(&v, "vf"), str(&v, "mac"));
        if (num(&v, "vlan"))
            printf(", vlan %" PRIu64, num(&v, "vlan"));
        printf(", spoof checking %s, link-state %s, trust %s, max_tx_rate %" PRIu64 "Mbps\n",
               onoff(&v, "spoofchk"), str(&v, "state"), onoff(&v, "trust"), num(&v, "max_tx_rate"));
        printf("    link %s, nic %" PRIu64 " vf%" PRIu64 "\n",
               strcmp(onoff(&v, "link_up"), "on") ? "down" : "up", num(&v, "nic"),
               num(&v, "index"));
        printf("    RX: packets %" PRIu64 " bytes %" PRIu64 " dropped %" PRIu64,
               num(&v, "rx_packets"), num(&v, "rx_bytes"), num(&v, "rx_dropped"));
        drops(&v, "rx_drop_");
        printf("\n    TX: packets %" PRIu64 " bytes %" PRIu64 " dropped %" PRIu64,
               num(&v, "tx_packets"), num(&v, "tx_bytes"), num(&v, "tx_dropped"));
        drops(&v, "tx_drop_");
        if (num(&v, "rate_waits"))
            printf(", rate-limit waits %" PRIu64 " (%" PRIu64 " us)", num(&v, "rate_waits"),
                   num(&v, "rate_wait_us"));
        printf("\n");
    }
    return r < 0 ? errmsg_print("ctl", "vf list: bad reply: %s", err) : 0;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Reads one line (newline excluded) into buf, waiting at most timeout_ms in all for it (a
 * server that accepts and never answers must not hang us). 0, or 1 after a message. */
static int read_line(int fd, const char *path, int64_t timeout_ms, char *buf, size_t size,
                     size_t *len)
{
    int64_t deadline = now_ms() + timeout_ms;
    size_t n = 0;
    for (;;) {
        char *nl = memchr(buf, '\n', n);
        if (nl) {
            *len = (size_t)(nl - buf);
            return 0;
        }
        if (n == size)
            return errmsg_print("ctl", "%s: reply longer than %zu bytes", path, size);
        int64_t left = deadline - now_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int pr = left > 0 ? poll(&p, 1, (int)(left < 1000000 ? left : 1000000)) : 0;
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return errmsg_print("ctl", "%s: poll failed: %s", path, strerror(errno));
        if (pr == 0 && left <= 0)
            return errmsg_print("ctl", "%s: no reply within %.3g s (see --timeout)", path,
                                (double)timeout_ms / 1e3);
        if (pr == 0)
            continue; /* recompute what is left */
        ssize_t r = read(fd, buf + n, size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errmsg_print("ctl", "%s: read failed: %s", path, strerror(errno));
        if (r == 0)
            return errmsg_print("ctl", "%s: the VMM closed the connection without a reply", path);
        n += (size_t)r;
    }
}

int ctl_main(int argc, char **argv)
{
    static char req[APISOCK_MAX_LINE + 2], buf[APISOCK_MAX_REPLY];
    static struct json reply;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    char *words[64];
    const char *path = NULL;
    bool json = false;
    int64_t timeout_ms = CTL_TIMEOUT_MS;
    int nw = 0;
    char err[160];
    size_t len = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--timeout") == 0) {
            char *end = NULL;
            double t = i + 1 < argc ? strtod(argv[i + 1], &end) : 0;
            if (!end || end == argv[i + 1] || *end || !(t > 0 && t <= 86400))
                return errmsg_print("ctl", "--timeout: want seconds, more than 0 and at most "
                                           "86400 (e.g. 10 or 0.5)");
            timeout_ms = (int64_t)(t * 1000 + 0.5);
            if (!timeout_ms)
                timeout_ms = 1;
            i++;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(ctl_help, stdout);
            return 0;
        } else if (!path) {
            path = argv[i];
        } else if (nw < (int)(ARRAY_SIZE(words))) {
            words[nw++] = argv[i];
        } else {
            return errmsg_print("ctl", "too many words");
        }
    }
    if (!path || !nw)
        return errmsg_print("ctl",
                            "usage: minivmm ctl [--json] [--timeout SECONDS] PATH COMMAND... (see "
                            "minivmm ctl --help)");
    if (build_request(words, nw, req, sizeof(req)))
        return 1;
    if (strlen(path) >= sizeof(a.sun_path))
        return errmsg_print("ctl", "%s: a socket path is at most %zu bytes", path,
                            sizeof(a.sun_path) - 1);
    memcpy(a.sun_path, path, strlen(path) + 1);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errmsg_print("ctl", "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        int e = errno;
        close(fd);
        return errmsg_print(
            "ctl", "cannot connect to %s: %s%s", path, strerror(e),
            e == ECONNREFUSED || e == ENOENT ? " (is `minivmm run --api-sock` running?)" : "");
    }
    size_t rl = strlen(req);
    if (send(fd, req, rl, MSG_NOSIGNAL) != (ssize_t)rl) {
        close(fd);
        return errmsg_print("ctl", "%s: write failed: %s", path, strerror(errno));
    }
    int status = read_line(fd, path, timeout_ms, buf, sizeof(buf), &len);
    if (status) {
        close(fd);
        return status;
    }
    /* After "stop": wait (at most 10 s) until the VMM stops serving and closes the socket. */
    if (strcmp(words[0], "stop") == 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char c;
        while (poll(&p, 1, 10000) > 0 && read(fd, &c, 1) > 0)
            ;
    }
    close(fd);

    if (json_parse(buf, len, true, &reply, err, sizeof(err)))
        return errmsg_print("ctl", "%s: bad reply: %s", path, err);
    const struct json_member *ok = json_get(&reply, "ok");
    bool is_ok = ok && ok->type == JSON_BOOL && ok->b;
    if (json)
        printf("%.*s\n", (int)len, buf);
    if (!is_ok) {
        const struct json_member *e = json_get(&reply, "error");
        return errmsg_print("ctl", "%s", e && e->type == JSON_STRING ? safe(e->str) : "error");
    }
    if (json)
        return 0;
    if (strcmp(words[0], "vf") == 0 && strcmp(words[1], "list") == 0)
        return print_vf_list(&reply);
    if (strcmp(words[0], "status") == 0)
        printf("%s, %" PRIu64 " vCPU%s, %" PRIu64 " VF%s, up %.3fs, paused %.3fs\n",
               str(&reply, "state"), num(&reply, "vcpus"), num(&reply, "vcpus") == 1 ? "" : "s",
               num(&reply, "vfs"), num(&reply, "vfs") == 1 ? "" : "s",
               (double)num(&reply, "uptime_ms") / 1e3, (double)num(&reply, "paused_ms") / 1e3);
    return 0;
}
