/*
 * apisock.c: the control socket's server (apisock.h): the listening socket of
 * `minivmm run --api-sock PATH` and its thread, which reads requests in lines
 * (apisock_linebuf.c), runs them (apisock_cmds.c) and writes the replies.
 *
 * Hazards. Every byte on the socket is untrusted (the framing and the commands bound what they
 * read). A client that stops reading cannot stall the server for long: replies are written
 * with a 2 s send timeout, after which the connection is dropped. The server thread is the
 * only one that touches the connections; it leaves when apisock_destroy() writes its stop
 * eventfd, after finishing (and answering) the request at hand, so the reply to "stop" is
 * always sent.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
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
#include "minivmm/hw/thread.h"
#include "minivmm/util.h"

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

    hw_thread_enter(HW_THREAD_API);
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
