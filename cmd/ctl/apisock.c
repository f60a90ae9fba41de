/*
 * apisock.c: the control socket of `minivmm run --api-sock PATH` (apisock.h): a strict JSON
 * reader for flat objects, line framing, the commands, and the server thread.
 *
 * Hazards. Every byte on the socket is untrusted: the reader bounds every loop by the end of
 * the line, decodes strings into a buffer no smaller than the line (a decoded string is never
 * longer than its encoding), and refuses what it does not know instead of guessing. A client
 * that stops reading cannot stall the server for long: replies are written with a 2 s send
 * timeout, after which the connection is dropped. The server thread is the only one that
 * touches the connections; it leaves when apisock_destroy() writes its stop eventfd, after
 * finishing (and answering) the request at hand, so the reply to "stop" is always sent.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "apisock.h"
#include "minivmm/errmsg.h"
#include "vm.h"
#include "minivmm/util.h"

/* ---- Lines ---- */

void apisock_linebuf_feed(struct apisock_linebuf *lb, const char *data, size_t n,
                          apisock_line_fn fn, void *opaque)
{
    while (n) {
        const char *nl = memchr(data, '\n', n);
        size_t take = nl ? (size_t)(nl - data) : n;
        if (!lb->discarding) {
            if (lb->len + take > APISOCK_MAX_LINE) {
                lb->discarding = true;
                lb->len = 0;
            } else {
                memcpy(lb->buf + lb->len, data, take);
                lb->len += take;
            }
        }
        if (!nl)
            return;
        if (lb->discarding)
            fn(opaque, NULL, 0, true);
        else
            fn(opaque, lb->buf, lb->len, false);
        lb->len = 0;
        lb->discarding = false;
        data = nl + 1;
        n -= take + 1;
    }
}

/* ---- Commands ---- */

struct out {
    char *buf;
    size_t size, n;
};

static void outf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outf(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(o->buf + (o->n < o->size ? o->n : o->size),
                      o->n < o->size ? o->size - o->n : 0, fmt, ap);
    va_end(ap);
    if (r > 0)
        o->n += (size_t)r;
}

static void out_str(struct out *o, const char *s)
{
    if (o->n < o->size)
        json_str(o->buf, o->size, &o->n, s, 0);
    else
        o->n += 2 + strlen(s);
}

/* Replaces whatever was written with {"ok":false,"error":MSG}. */
static void out_error(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_error(struct out *o, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    o->n = 0;
    outf(o, "{\"ok\":false,\"error\":");
    out_str(o, msg);
    outf(o, "}");
}

struct req {
    const struct apisock_ops *ops;
    void *opaque;
    const struct json *j;
    struct out *o;
};

/* Refuses members other than cmd and the `allowed` ones (NULL-terminated). */
static bool only_members(struct req *r, const char *cmd, const char *const *allowed)
{
    for (unsigned i = 0; i < r->j->n; i++) {
        const char *k = r->j->m[i].key;
        bool ok = strcmp(k, "cmd") == 0;
        for (const char *const *a = allowed; !ok && *a; a++)
            ok = strcmp(k, *a) == 0;
        if (!ok) {
            out_error(r->o, "%s: unexpected member \"%s\"", cmd, k);
            return false;
        }
    }
    return true;
}

static const char *const no_members[] = {NULL};

static void vf_json(struct out *o, unsigned vf, const struct nic_vf_info *v)
{
    uint64_t txd = 0, rxd = 0;
    for (unsigned r = 0; r < NIC_DROP_NR; r++) {
        txd += v->tx_drops[r];
        rxd += v->rx_drops[r];
    }
    outf(o,
         "{\"vf\":%u,\"nic\":%u,\"index\":%u,\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\","
         "\"vlan\":%u,\"spoofchk\":%s,\"trust\":%s,\"state\":",
         vf, v->nic, v->index, v->mac[0], v->mac[1], v->mac[2], v->mac[3], v->mac[4], v->mac[5],
         v->vlan, v->spoofchk ? "true" : "false", v->trust ? "true" : "false");
    out_str(o, v->state_name ? v->state_name : "?");
    outf(o,
         ",\"link_up\":%s,\"max_tx_rate\":%u,\"rx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64
         ",\"tx_packets\":%" PRIu64 ",\"tx_bytes\":%" PRIu64 ",\"rx_dropped\":%" PRIu64
         ",\"tx_dropped\":%" PRIu64 ",\"rate_waits\":%" PRIu64 ",\"rate_wait_us\":%" PRIu64,
         v->link_up ? "true" : "false", v->max_tx_rate, v->rx_packets, v->rx_bytes, v->tx_packets,
         v->tx_bytes, rxd, txd, v->rate_waits, v->rate_wait_us);
    /* Drops by reason as tx_drop_<name> / rx_drop_<name> ('-' in names becomes '_'). */
    for (unsigned r = 0; r < NIC_DROP_NR; r++) {
        const char *name = nic_drop_name(r);
        char key[32];
        snprintf(key, sizeof(key), "%s", name ? name : "other");
        for (char *c = key; *c; c++)
            if (*c == '-')
                *c = '_';
        outf(o, ",\"tx_drop_%s\":%" PRIu64 ",\"rx_drop_%s\":%" PRIu64, key, v->tx_drops[r], key,
             v->rx_drops[r]);
    }
    outf(o, "}");
}

static void cmd_vf_list(struct req *r)
{
    if (!only_members(r, "vf list", no_members))
        return;
    int n = r->ops->vf_count(r->opaque);
    outf(r->o, "{\"ok\":true,\"vfs\":[");
    for (int i = 0; i < n; i++) {
        struct nic_vf_info v;
        memset(&v, 0, sizeof(v));
        if (r->ops->vf_info(r->opaque, (unsigned)i, &v)) {
            out_error(r->o, "vf list: cannot read vf %d", i);
            return;
        }
        if (i)
            outf(r->o, ",");
        vf_json(r->o, (unsigned)i, &v);
    }
    outf(r->o, "]}");
}

/* A member's value as the text nic_vf_set() takes: strings as they are, integers in decimal,
 * booleans as on/off. */
static void value_text(const struct json_member *m, char *buf, size_t size)
{
    if (m->type == JSON_STRING)
        snprintf(buf, size, "%s", m->str);
    else if (m->type == JSON_INT)
        snprintf(buf, size, "%" PRId64, m->num);
    else
        snprintf(buf, size, "%s", m->b ? "on" : "off");
}

static void cmd_vf_set(struct req *r)
{
    const struct json_member *vfm = json_get(r->j, "vf");
    const struct json_member *key = json_get(r->j, "key");
    const struct json_member *val = json_get(r->j, "value");
    int n = r->ops->vf_count(r->opaque);
    /* The pairs to set: "key"/"value", or every member other than cmd and vf. */
    const struct json_member *pairs[JSON_MAX_MEMBERS][2];
    unsigned np = 0;

    if (!vfm || vfm->type != JSON_INT)
        return out_error(r->o, "vf set: \"vf\" must be an integer (the VF number)");
    if (vfm->num < 0 || vfm->num >= n)
        return n ? out_error(r->o, "vf set: no VF %" PRId64 " (VFs are 0-%d)", vfm->num, n - 1)
                 : out_error(r->o, "vf set: no VF %" PRId64 " (this VM has no NICs)", vfm->num);
    if (key || val) {
        static const char *const kv[] = {"vf", "key", "value", NULL};
        if (!only_members(r, "vf set", kv))
            return;
        if (!key || key->type != JSON_STRING)
            return out_error(r->o, "vf set: \"key\" must be a string");
        if (!val)
            return out_error(r->o, "vf set: \"key\" without \"value\"");
        pairs[np][0] = key;
        pairs[np++][1] = val;
    } else {
        for (unsigned i = 0; i < r->j->n; i++) {
            const struct json_member *m = &r->j->m[i];
            if (strcmp(m->key, "cmd") == 0 || strcmp(m->key, "vf") == 0)
                continue;
            pairs[np][0] = m;
            pairs[np++][1] = m;
        }
    }
    if (!np)
        return out_error(r->o, "vf set: nothing to set (\"key\" and \"value\", or KEY: VALUE "
                               "members)");
    /* Applied in order; the first failure stops, and the reply says how many were applied. */
    for (unsigned i = 0; i < np; i++) {
        const char *k = pairs[i][0] == pairs[i][1] ? pairs[i][0]->key : pairs[i][0]->str;
        char value[APISOCK_MAX_LINE + 1], err[256] = "";
        value_text(pairs[i][1], value, sizeof(value));
        int ret = r->ops->vf_set(r->opaque, (unsigned)vfm->num, k, value, err, sizeof(err));
        if (ret) {
            out_error(r->o, "vf set: vf %" PRId64 ": %s", vfm->num, err[0] ? err : strerror(-ret));
            if (r->o->n && i) { /* ,"applied":i before the closing brace */
                r->o->n--;
                outf(r->o, ",\"applied\":%u}", i);
            }
            return;
        }
    }
    outf(r->o, "{\"ok\":true,\"applied\":%u}", np);
}

static void state_reply(struct req *r)
{
    struct apisock_status st = {0};
    r->ops->status(r->opaque, &st);
    outf(r->o, "{\"ok\":true,\"state\":\"%s\"}", st.state);
}

static void cmd_pause(struct req *r)
{
    if (!only_members(r, "pause", no_members))
        return;
    int ret = r->ops->pause(r->opaque);
    if (ret)
        return ret == -ETIMEDOUT
                   ? out_error(r->o,
                               "pause: the vCPUs did not all stop within %d s (the pause "
                               "stays requested; resume cancels it)",
                               VM_PAUSE_TIMEOUT_S)
                   : out_error(r->o, "pause: %s",
                               ret == -ESHUTDOWN ? "the VM is stopping" : strerror(-ret));
    state_reply(r);
}

static void cmd_resume(struct req *r)
{
    if (!only_members(r, "resume", no_members))
        return;
    int ret = r->ops->resume(r->opaque);
    if (ret)
        return out_error(r->o, "resume: %s",
                         ret == -ESHUTDOWN ? "the VM is stopping" : strerror(-ret));
    state_reply(r);
}

static void cmd_stop(struct req *r)
{
    if (!only_members(r, "stop", no_members))
        return;
    r->ops->stop(r->opaque);
    state_reply(r);
}

static void cmd_status(struct req *r)
{
    struct apisock_status st = {0};
    if (!only_members(r, "status", no_members))
        return;
    r->ops->status(r->opaque, &st);
    outf(r->o,
         "{\"ok\":true,\"state\":\"%s\",\"vcpus\":%u,\"vfs\":%d,\"uptime_ms\":%" PRIu64
         ",\"paused_ms\":%" PRIu64 "}",
         st.state, st.vcpus, r->ops->vf_count(r->opaque), st.uptime_ms, st.paused_ms);
}

static const struct {
    const char *name;
    void (*fn)(struct req *r);
} commands[] = {
    {"vf list", cmd_vf_list}, {"vf set", cmd_vf_set}, {"pause", cmd_pause},
    {"resume", cmd_resume},   {"stop", cmd_stop},     {"status", cmd_status},
};

size_t apisock_handle(const struct apisock_ops *ops, void *opaque, const char *line, size_t len,
                      char *reply, size_t size)
{
    static __thread struct json j;                   /* 5 KiB: not on the stack of a small thread */
    struct out o = {.buf = reply, .size = size - 1}; /* room for the newline */
    struct req r = {.ops = ops, .opaque = opaque, .j = &j, .o = &o};
    char err[160];

    if (json_parse(line, len, false, &j, err, sizeof(err))) {
        out_error(&o, "%s", err);
    } else {
        const struct json_member *cmd = json_get(&j, "cmd");
        size_t i, nc = ARRAY_SIZE(commands);
        if (!cmd || cmd->type != JSON_STRING) {
            out_error(&o, "missing \"cmd\" (a string)");
        } else {
            for (i = 0; i < nc && strcmp(commands[i].name, cmd->str) != 0; i++)
                ;
            if (i < nc)
                commands[i].fn(&r);
            else
                out_error(&o,
                          "unknown command \"%.64s\" (vf list, vf set, pause, resume, stop, "
                          "status)",
                          cmd->str);
        }
    }
    if (o.n >= o.size)
        out_error(&o, "reply too long");
    reply[o.n++] = '\n';
    reply[o.n] = '\0';
    return o.n;
}

/* ---- The VM's ops ---- */

static int vm_vf_count(void *opaque)
{
    struct apisock_vm *a = opaque;
    return nic_vf_count(a->nics);
}

static int vm_vf_info(void *opaque, unsigned vf, struct nic_vf_info *out)
{
    struct apisock_vm *a = opaque;
    return nic_vf_info(a->nics, vf, out);
}

static int vm_vf_set(void *opaque, unsigned vf, const char *key, const char *value, char *err,
                     size_t errlen)
{
    struct apisock_vm *a = opaque;
    return nic_vf_set(a->nics, vf, key, value, err, errlen);
}

static int vm_op_pause(void *opaque)
{
    struct apisock_vm *a = opaque;
    return vm_pause(a->vm);
}

static int vm_op_resume(void *opaque)
{
    struct apisock_vm *a = opaque;
    return vm_resume(a->vm);
}

static void vm_op_stop(void *opaque)
{
    struct apisock_vm *a = opaque;
    if (!a->vm->quiet)
        fprintf(stderr, "minivmm: stop requested on the control socket\n");
    vm_stop(a->vm, 0);
}

static void vm_op_status(void *opaque, struct apisock_status *st)
{
    struct apisock_vm *a = opaque;
    bool paused;
    uint64_t paused_ns = vm_paused_ns(a->vm, &paused);
    st->state = __atomic_load_n(&a->vm->stopping, __ATOMIC_ACQUIRE) ? "stopping"
                : paused                                            ? "paused"
                                                                    : "running";
    st->vcpus = a->vm->ncpus;
    st->uptime_ms = (now_ns() - a->vm->t0_ns) / 1000000;
    st->paused_ms = paused_ns / 1000000;
}

const struct apisock_ops apisock_vm_ops = {
    .vf_count = vm_vf_count,
    .vf_info = vm_vf_info,
    .vf_set = vm_vf_set,
    .pause = vm_op_pause,
    .resume = vm_op_resume,
    .stop = vm_op_stop,
    .status = vm_op_status,
};

/* ---- The server ---- */

struct conn {
    int fd;
    bool dead;
    struct apisock_linebuf lb;
};

struct apisock {
    const struct apisock_ops *ops;
    void *opaque;
    int lfd, stop_fd;
    char *path;
    dev_t dev;
    ino_t ino;
    pthread_t thread;
    bool started;
    struct conn conns[APISOCK_MAX_CONNS];
    char reply[APISOCK_MAX_REPLY];
};

static bool send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false; /* includes the send timeout (EAGAIN) */
        p += w;
        n -= (size_t)w;
    }
    return true;
}

struct line_ctx {
    struct apisock *s;
    struct conn *c;
};

static void on_line(void *opaque, const char *line, size_t len, bool oversized)
{
    struct line_ctx *x = opaque;
    struct apisock *s = x->s;
    size_t n;
    if (x->c->dead)
        return;
    if (oversized) {
        n = (size_t)snprintf(s->reply, sizeof(s->reply),
                             "{\"ok\":false,\"error\":\"request longer than %d bytes\"}\n",
                             APISOCK_MAX_LINE);
    } else {
        size_t k = 0;
        while (k < len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r'))
            k++;
        if (k == len)
            return; /* blank line */
        n = apisock_handle(s->ops, s->opaque, line, len, s->reply, sizeof(s->reply));
    }
    if (!send_all(x->c->fd, s->reply, n))
        x->c->dead = true;
}

static void accept_conn(struct apisock *s)
{
    int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    for (unsigned i = 0; i < APISOCK_MAX_CONNS; i++)
        if (s->conns[i].fd < 0) {
            s->conns[i].fd = fd;
            s->conns[i].dead = false;
            s->conns[i].lb.len = 0;
            s->conns[i].lb.discarding = false;
            return;
        }
    static const char busy[] = "{\"ok\":false,\"error\":\"too many connections\"}\n";
    send_all(fd, busy, sizeof(busy) - 1);
    close(fd);
}

static void *server_thread(void *arg)
{
    struct apisock *s = arg;
    struct pollfd p[APISOCK_MAX_CONNS + 2];
    char buf[4096];

    for (;;) {
        unsigned map[APISOCK_MAX_CONNS], np = 2;
        p[0] = (struct pollfd){.fd = s->stop_fd, .events = POLLIN};
        p[1] = (struct pollfd){.fd = s->lfd, .events = POLLIN};
        for (unsigned i = 0; i < APISOCK_MAX_CONNS; i++)
            if (s->conns[i].fd >= 0) {
                map[np - 2] = i;
                p[np++] = (struct pollfd){.fd = s->conns[i].fd, .events = POLLIN};
            }
        if (poll(p, np, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents)
            break;
        for (unsigned k = 2; k < np; k++) {
            struct conn *c = &s->conns[map[k - 2]];
            if (!p[k].revents)
                continue;
            ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n > 0) {
                struct line_ctx x = {s, c};
                apisock_linebuf_feed(&c->lb, buf, (size_t)n, on_line, &x);
            }
            if (n <= 0 || c->dead) {
                close(c->fd);
                c->fd = -1;
            }
        }
        if (p[1].revents & POLLIN)
            accept_conn(s);
    }
    return NULL;
}

/* A socket at `path` that nobody accepts on is stale; anything else is someone's. */
static int check_path(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT
                   ? 0
                   : errmsg_fail(err, errlen, -errno, "--api-sock: %s: %s", path, strerror(errno));
    if (!S_ISSOCK(st.st_mode))
        return errmsg_fail(err, errlen, -EEXIST,
                           "--api-sock: %s exists and is not a socket; not replacing it", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errmsg_fail(err, errlen, -errno, "--api-sock: socket: %s", strerror(errno));
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, path, strlen(path) + 1);
    int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
    int e = errno;
    close(fd);
    if (r == 0)
        return errmsg_fail(err, errlen, -EADDRINUSE,
                           "--api-sock: %s is in use by a running process", path);
    if (e != ECONNREFUSED)
        return errmsg_fail(err, errlen, -e, "--api-sock: %s: %s", path, strerror(e));
    if (unlink(path) < 0)
        return errmsg_fail(err, errlen, -errno, "--api-sock: cannot remove the stale socket %s: %s",
                           path, strerror(errno));
    return 0;
}

int apisock_create(struct apisock **out, const char *path, const struct apisock_ops *ops,
                   void *opaque, char *err, size_t errlen)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    struct stat st;
    int ret;

    *out = NULL;
    if (!path[0] || strlen(path) >= sizeof(a.sun_path))
        return errmsg_fail(err, errlen, -ENAMETOOLONG,
                           "--api-sock: '%s': a socket path is 1 to %zu bytes", path,
                           sizeof(a.sun_path) - 1);
    memcpy(a.sun_path, path, strlen(path) + 1);
    struct apisock *s = calloc(1, sizeof(*s));
    if (!s)
        return errmsg_fail(err, errlen, -ENOMEM, "--api-sock: out of memory");
    s->ops = ops;
    s->opaque = opaque;
    s->stop_fd = -1;
    for (unsigned i = 0; i < APISOCK_MAX_CONNS; i++)
        s->conns[i].fd = -1;
    s->path = strdup(path);
    s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (!s->path || s->lfd < 0) {
        ret = errmsg_fail(err, errlen, s->path ? -errno : -ENOMEM, "--api-sock: socket: %s",
                          s->path ? strerror(errno) : "out of memory");
        goto err_free;
    }
    ret = check_path(path, err, errlen);
    if (ret)
        goto err_close;
    /* The file gets 0777 & ~umask at bind(): owner-only from the start, no window. */
    mode_t old = umask(0177);
    ret = bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ? -errno : 0;
    umask(old);
    if (ret) {
        errmsg_set(err, errlen, "--api-sock: cannot bind %s: %s", path, strerror(-ret));
        goto err_close;
    }
    if (lstat(path, &st) < 0 || chmod(path, 0600) < 0 || listen(s->lfd, APISOCK_MAX_CONNS) < 0) {
        ret = -errno;
        errmsg_set(err, errlen, "--api-sock: %s: %s", path, strerror(errno));
        goto err_unlink;
    }
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (s->stop_fd < 0) {
        ret = -errno;
        errmsg_set(err, errlen, "--api-sock: eventfd: %s", strerror(errno));
        goto err_unlink;
    }
    *out = s;
    return 0;

err_unlink:
    unlink(path);
err_close:
    close(s->lfd);
err_free:
    free(s->path);
    free(s);
    return ret;
}

int apisock_start(struct apisock *s)
{
    int ret = pthread_create(&s->thread, NULL, server_thread, s);
    if (ret)
        return -ret;
    pthread_setname_np(s->thread, "apisock");
    s->started = true;
    return 0;
}

void apisock_destroy(struct apisock *s)
{
    struct stat st;
    if (!s)
        return;
    if (s->started) {
        uint64_t one = 1;
        if (write(s->stop_fd, &one, sizeof(one)) < 0) {
            /* One write cannot overflow the eventfd. */
        }
        pthread_join(s->thread, NULL);
    }
    for (unsigned i = 0; i < APISOCK_MAX_CONNS; i++)
        if (s->conns[i].fd >= 0)
            close(s->conns[i].fd);
    close(s->stop_fd);
    close(s->lfd);
    /* Only our own socket: someone may have replaced the path meanwhile. */
    if (lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
        unlink(s->path);
    free(s->path);
    free(s);
}
