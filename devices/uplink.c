/*
 * uplink.c: the switch's uplink back-ends (sink, pcap:FILE, dgram:L:R, tap:NAME, tap-fd:N) and
 * the pcap writer, which loads libpcap at run time with dlopen.
 *
 * The RX thread of a socket/tap uplink polls {fd, stop_fd}; it holds no lock while it waits
 * and calls uplink_input() (uplink lock, then the switch) per frame. uplink_close() writes
 * stop_fd and joins before closing the fd, so the thread never sees a closed descriptor.
 *
 * libpcap is resolved once per process, under load_lock, the first time a capture is opened:
 * pcap_open_dead, pcap_dump_fopen, pcap_dump, pcap_dump_flush, pcap_dump_close, pcap_close
 * (required) and pcap_geterr (optional, for the error text). The handle is never dlclosed: a
 * capture may outlive any one caller. The function pointer types come from <pcap/pcap.h> via
 * __typeof__, so a prototype change breaks the build rather than the stack.
 *
 * Invariants: a capture's file holds whole records only, each flushed before uplink_pcap_write()
 * returns (a crash loses nothing already written); frames longer than the snap length are
 * truncated in the file with their original length recorded, as libpcap does. Locking:
 * uplink.h (per-object leaf mutexes).
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "minivmm/files.h"
#include "minivmm/hw/thread.h"
#include "minivmm/util.h"
#include "uplink.h"

static struct {
    __typeof__(&pcap_open_dead) open_dead;
    __typeof__(&pcap_dump_fopen) dump_fopen;
    __typeof__(&pcap_dump) dump;
    __typeof__(&pcap_dump_flush) dump_flush;
    __typeof__(&pcap_dump_close) dump_close;
    __typeof__(&pcap_close) close;
    __typeof__(&pcap_geterr) geterr; /* may be NULL */
} lp;
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static bool lp_loaded;
static const char *lp_soname = UPLINK_PCAP_SONAME;

struct uplink_pcap {
    pthread_mutex_t lock;
    pcap_t *dead;
    pcap_dumper_t *dumper;
    uint64_t frames, errors;
};

void uplink_pcap_set_library(const char *soname)
{
    pthread_mutex_lock(&load_lock);
    lp_soname = soname ? soname : UPLINK_PCAP_SONAME;
    pthread_mutex_unlock(&load_lock);
}

static int load_libpcap(char *err, size_t errlen)
{
    void *h;
    int r = 0;

    pthread_mutex_lock(&load_lock);
    if (lp_loaded)
        goto out;
    h = dlopen(lp_soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, errlen,
                 "pcap: capturing needs libpcap at run time: %s (install the libpcap0.8 package, "
                 "or drop the pcap options)",
                 dlerror());
        r = -ENOENT;
        goto out;
    }
#define SYM(field, name)                                                                           \
    do {                                                                                           \
        lp.field = (__typeof__(lp.field))dlsym(h, name);                                           \
        if (!lp.field) {                                                                           \
            snprintf(err, errlen, "pcap: %s has no %s: libpcap too old or not libpcap", lp_soname, \
                     name);                                                                        \
            r = -ENOENT;                                                                           \
            goto err_close;                                                                        \
        }                                                                                          \
    } while (0)
    SYM(open_dead, "pcap_open_dead");
    SYM(dump_fopen, "pcap_dump_fopen");
    SYM(dump, "pcap_dump");
    SYM(dump_flush, "pcap_dump_flush");
    SYM(dump_close, "pcap_dump_close");
    SYM(close, "pcap_close");
#undef SYM
    lp.geterr = (__typeof__(lp.geterr))dlsym(h, "pcap_geterr");
    lp_loaded = true;
    goto out;

err_close:
    memset(&lp, 0, sizeof(lp));
    dlclose(h);
out:
    pthread_mutex_unlock(&load_lock);
    return r;
}

int uplink_pcap_open(struct uplink_pcap **out, const char *path, char *err, size_t errlen)
{
    struct uplink_pcap *cap;
    int r;

    if (!path || !*path) {
        snprintf(err, errlen, "pcap: no file name");
        return -EINVAL;
    }
    r = load_libpcap(err, errlen);
    if (r)
        return r;
    cap = calloc(1, sizeof(*cap));
    if (!cap) {
        snprintf(err, errlen, "pcap: %s: out of memory", path);
        return -ENOMEM;
    }
    r = -pthread_mutex_init(&cap->lock, NULL);
    if (r) {
        snprintf(err, errlen, "pcap: %s: mutex: %s", path, strerror(-r));
        goto err_free;
    }
    cap->dead = lp.open_dead(DLT_EN10MB, UPLINK_PCAP_SNAPLEN);
    if (!cap->dead) {
        snprintf(err, errlen, "pcap: %s: pcap_open_dead failed", path);
        r = -ENOMEM;
        goto err_mutex;
    }
    /* Our own open (private, no symlinks: open_private), then libpcap writes through it. */
    int fd = open_private(path);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        r = fd < 0 ? fd : -errno;
        if (fd >= 0)
            close(fd);
        snprintf(err, errlen, "pcap: cannot create capture file %s: %s", path,
                 r == -ELOOP ? "it is a symbolic link (refused)" : strerror(-r));
        goto err_close_dead;
    }
    errno = 0;
    cap->dumper = lp.dump_fopen(cap->dead, f);
    if (!cap->dumper) {
        int e = errno ? errno : EIO;
        snprintf(err, errlen, "pcap: cannot create capture file: %s",
                 lp.geterr ? lp.geterr(cap->dead) : strerror(e));
        fclose(f);
        r = -e;
        goto err_close_dead;
    }
    if (lp.dump_flush(cap->dumper)) { /* the file header: an empty capture is a valid file */
        snprintf(err, errlen, "pcap: %s: cannot write the file header", path);
        r = -EIO;
        goto err_close_dumper;
    }
    *out = cap;
    return 0;

err_close_dumper:
    lp.dump_close(cap->dumper);
err_close_dead:
    lp.close(cap->dead);
err_mutex:
    pthread_mutex_destroy(&cap->lock);
err_free:
    free(cap);
    return r;
}

int uplink_pcap_write(struct uplink_pcap *cap, const void *frame, size_t len)
{
    struct pcap_pkthdr h;
    struct timespec ts;
    int r = 0;

    clock_gettime(CLOCK_REALTIME, &ts);
    memset(&h, 0, sizeof(h));
    h.ts.tv_sec = ts.tv_sec;
    h.ts.tv_usec = ts.tv_nsec / 1000;
    h.len = len > UINT32_MAX ? UINT32_MAX : (bpf_u_int32)len;
    h.caplen = len > UPLINK_PCAP_SNAPLEN ? UPLINK_PCAP_SNAPLEN : (bpf_u_int32)len;
    pthread_mutex_lock(&cap->lock);
    lp.dump((u_char *)cap->dumper, &h, frame);
    if (lp.dump_flush(cap->dumper)) {
        cap->errors++;
        r = -EIO;
    } else {
        cap->frames++;
    }
    pthread_mutex_unlock(&cap->lock);
    return r;
}

void uplink_pcap_tap(void *opaque, const void *frame, size_t len)
{
    uplink_pcap_write(opaque, frame, len); /* failures are counted in cap->errors */
}

void uplink_pcap_counts(struct uplink_pcap *cap, uint64_t *frames, uint64_t *errors)
{
    pthread_mutex_lock(&cap->lock);
    *frames = cap->frames;
    *errors = cap->errors;
    pthread_mutex_unlock(&cap->lock);
}

int uplink_pcap_close(struct uplink_pcap *cap)
{
    int r;

    if (!cap)
        return 0;
    r = cap->errors || lp.dump_flush(cap->dumper) ? -EIO : 0;
    lp.dump_close(cap->dumper);
    lp.close(cap->dead);
    pthread_mutex_destroy(&cap->lock);
    free(cap);
    return r;
}

/* ---- uplinks ---- */

/* The sink keeps guest/iocmd.c's iosum over every frame in order (`minivmm bench io`). */
static int sink_tx(struct uplink *up, const void *frame, size_t len)
{
    const uint8_t *p = frame;
    uint32_t s1, s2;

    pthread_mutex_lock(&up->lock);
    s1 = up->sink_s1;
    s2 = up->sink_s2;
    for (size_t i = 0; i < len; i++) {
        s1 += p[i];
        s2 += s1;
    }
    up->sink_s1 = s1;
    up->sink_s2 = s2;
    pthread_mutex_unlock(&up->lock);
    return 0;
}

static void sink_close(struct uplink *up)
{
}

static const struct uplink_ops sink_ops = {.name = "sink", .tx = sink_tx, .close = sink_close};
static const struct uplink_ops pcap_ops = {.name = "pcap", .tx = sink_tx, .close = sink_close};

static int fd_tx(struct uplink *up, const void *frame, size_t len)
{
    ssize_t n = write(up->fd, frame, len); /* non-blocking fd: never waits */
    return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

static void fd_close(struct uplink *up)
{
    if (up->fd >= 0)
        close(up->fd);
    up->fd = -1;
}

static const struct uplink_ops dgram_ops = {.name = "dgram", .tx = fd_tx, .close = fd_close};
static const struct uplink_ops tap_ops = {.name = "tap", .tx = fd_tx, .close = fd_close};

static int uplink_init(struct uplink *up, const struct uplink_ops *ops)
{
    memset(up, 0, sizeof(*up));
    up->ops = ops;
    up->fd = -1;
    up->stop_fd = -1;
    return -pthread_mutex_init(&up->lock, NULL);
}

int uplink_open_dgram(struct uplink *up, unsigned local_port, unsigned remote_port, char *err,
                      size_t errlen)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int r;

    if (!local_port || local_port > 65535 || !remote_port || remote_port > 65535) {
        snprintf(err, errlen, "uplink: dgram: ports must be 1-65535");
        return -EINVAL;
    }
    r = uplink_init(up, &dgram_ops);
    if (r) {
        snprintf(err, errlen, "uplink: mutex: %s", strerror(-r));
        return r;
    }
    up->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (up->fd < 0) {
        r = -errno;
        snprintf(err, errlen, "uplink: dgram: socket failed: %s", strerror(-r));
        goto err_mutex;
    }
    a.sin_port = htons((uint16_t)local_port);
    if (bind(up->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        r = -errno;
        snprintf(err, errlen, "uplink: dgram: cannot bind 127.0.0.1:%u: %s (choose another port)",
                 local_port, strerror(-r));
        goto err_close;
    }
    /* Connected: send() goes to the peer, and only the peer's datagrams are received. */
    a.sin_port = htons((uint16_t)remote_port);
    if (connect(up->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        r = -errno;
        snprintf(err, errlen, "uplink: dgram: cannot connect to 127.0.0.1:%u: %s", remote_port,
                 strerror(-r));
        goto err_close;
    }
    return 0;

err_close:
    close(up->fd);
err_mutex:
    pthread_mutex_destroy(&up->lock);
    return r;
}

int uplink_open_tap(struct uplink *up, const char *name, int fd, char *err, size_t errlen)
{
    int r = uplink_init(up, &tap_ops);

    if (r) {
        snprintf(err, errlen, "uplink: mutex: %s", strerror(-r));
        return r;
    }
    if (!name) {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
            r = -errno;
            snprintf(err, errlen, "uplink: tap-fd:%d: not an open file descriptor: %s", fd,
                     strerror(-r));
            goto err_mutex;
        }
        struct ifreq cur;
        memset(&cur, 0, sizeof(cur));
        /* Frames must be bare Ethernet: a tun, or a tap without IFF_NO_PI (4-byte header). */
        if (ioctl(fd, TUNGETIFF, &cur) < 0 ||
            (cur.ifr_flags & (IFF_TAP | IFF_TUN | IFF_NO_PI)) != (IFF_TAP | IFF_NO_PI)) {
            snprintf(err, errlen,
                     "uplink: tap-fd:%d: not a tap opened with IFF_TAP | IFF_NO_PI (TUNSETIFF)",
                     fd);
            r = -EINVAL;
            goto err_mutex;
        }
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        up->fd = fd;
        return 0;
    }
    struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};
    if (!*name || strlen(name) >= sizeof(ifr.ifr_name)) {
        snprintf(err, errlen, "uplink: tap: '%s': a name of 1-%zu characters", name,
                 sizeof(ifr.ifr_name) - 1);
        r = -EINVAL;
        goto err_mutex;
    }
    memcpy(ifr.ifr_name, name, strlen(name));
    up->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (up->fd < 0) {
        r = -errno;
        snprintf(err, errlen, "uplink: tap:%s: cannot open /dev/net/tun: %s", name, strerror(-r));
        goto err_mutex;
    }
    if (ioctl(up->fd, TUNSETIFF, &ifr) < 0) {
        r = -errno;
        snprintf(err, errlen,
                 "uplink: tap:%s: TUNSETIFF failed: %s (needs CAP_NET_ADMIN, or a tap owned by "
                 "this user; not a tun device)",
                 name, strerror(-r));
        close(up->fd);
        goto err_mutex;
    }
    return 0;

err_mutex:
    pthread_mutex_destroy(&up->lock);
    return r;
}

static void *rx_thread(void *arg)
{
    struct uplink *up = arg;
    uint8_t buf[65536]; /* > any UDP payload: read() never truncates a datagram */
    struct pollfd pfd[2] = {{.fd = up->fd, .events = POLLIN},
                            {.fd = up->stop_fd, .events = POLLIN}};

    hw_thread_enter(HW_THREAD_UPLINK);
    for (;;) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[1].revents)
            break;
        for (;;) {
            ssize_t n = read(up->fd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                break; /* EAGAIN, or ECONNREFUSED from an earlier send: nothing to read */
            if ((size_t)n < PFSWITCH_ETH_HLEN || (size_t)n > PFSWITCH_MAX_FRAME) {
                pthread_mutex_lock(&up->lock);
                if ((size_t)n < PFSWITCH_ETH_HLEN)
                    up->rx_runt++;
                else
                    up->rx_oversize++;
                pthread_mutex_unlock(&up->lock);
                continue;
            }
            uplink_input(up, up->sw, buf, (size_t)n);
        }
        if (pfd[0].revents & (POLLHUP | POLLNVAL))
            break; /* the tap went away (POLLERR, a pending ICMP error, was consumed by read) */
    }
    return NULL;
}

int uplink_start(struct uplink *up, struct pfswitch *sw, const char *thread_name)
{
    int r;

    if (up->fd < 0)
        return 0;
    up->sw = sw;
    up->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (up->stop_fd < 0)
        return -errno;
    r = -pthread_create(&up->thread, NULL, rx_thread, up);
    if (r) {
        close(up->stop_fd);
        up->stop_fd = -1;
        return r;
    }
    up->thread_started = true;
    if (thread_name)
        pthread_setname_np(up->thread, thread_name);
    return 0;
}

int uplink_open_sink(struct uplink *up)
{
    return uplink_init(up, &sink_ops);
}

int uplink_open_pcap(struct uplink *up, const char *path, char *err, size_t errlen)
{
    int r = uplink_init(up, &pcap_ops);

    if (r) {
        snprintf(err, errlen, "uplink: mutex: %s", strerror(-r));
        return r;
    }
    r = uplink_pcap_open(&up->cap, path, err, errlen);
    if (r)
        pthread_mutex_destroy(&up->lock);
    return r;
}

int uplink_close(struct uplink *up)
{
    int r;

    if (up->thread_started) {
        uint64_t one = 1;
        if (write(up->stop_fd, &one, sizeof(one)) != sizeof(one))
            abort(); /* cannot fail for a fresh eventfd; a hung join is worse */
        pthread_join(up->thread, NULL);
        up->thread_started = false;
    }
    if (up->stop_fd >= 0)
        close(up->stop_fd);
    up->stop_fd = -1;
    up->ops->close(up);
    r = uplink_pcap_close(up->cap);
    up->cap = NULL;
    pthread_mutex_destroy(&up->lock);
    return r;
}

int uplink_tx(struct uplink *up, const void *frame, size_t len)
{
    pthread_mutex_lock(&up->lock);
    up->tx_packets++;
    up->tx_bytes += len;
    if (up->cap)
        uplink_pcap_write(up->cap, frame, len);
    pthread_mutex_unlock(&up->lock);
    return up->ops->tx(up, frame, len);
}

int uplink_input(struct uplink *up, struct pfswitch *sw, const void *frame, size_t len)
{
    pthread_mutex_lock(&up->lock);
    up->rx_packets++;
    up->rx_bytes += len;
    if (up->cap)
        uplink_pcap_write(up->cap, frame, len);
    pthread_mutex_unlock(&up->lock);
    return pfswitch_rx_from_uplink(sw, frame, len);
}

static int port_deliver(void *opaque, const void *frame, size_t len)
{
    return uplink_tx(opaque, frame, len);
}

const struct pfswitch_port_ops uplink_port_ops = {.deliver = port_deliver};

void uplink_get_stats(struct uplink *up, struct uplink_stats *st)
{
    pthread_mutex_lock(&up->lock);
    st->name = up->ops->name;
    st->network = up->fd >= 0;
    st->tx_packets = up->tx_packets;
    st->tx_bytes = up->tx_bytes;
    st->rx_packets = up->rx_packets;
    st->rx_bytes = up->rx_bytes;
    st->rx_runt = up->rx_runt;
    st->rx_oversize = up->rx_oversize;
    st->sink_sum = (uint64_t)up->sink_s2 << 32 | up->sink_s1;
    pthread_mutex_unlock(&up->lock);
}
