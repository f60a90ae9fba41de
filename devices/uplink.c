/*
 * uplink.c: the switch's uplink back-ends (sink, pcap:FILE) and the pcap writer, which loads
 * libpcap at run time with dlopen.
 *
 * libpcap is resolved once per process, under load_lock, the first time a capture is opened:
 * pcap_open_dead, pcap_dump_open, pcap_dump, pcap_dump_flush, pcap_dump_close, pcap_close
 * (required) and pcap_geterr (optional, for the error text). The handle is never dlclosed: a
 * capture may outlive any one caller. The function pointer types come from <pcap/pcap.h> via
 * __typeof__, so a prototype change breaks the build rather than the stack.
 *
 * Invariants: a capture's file holds whole records only, each flushed before uplink_pcap_write()
 * returns (a crash loses nothing already written); frames longer than the snap length are
 * truncated in the file with their original length recorded, as libpcap does. Locking:
 * uplink.h (per-object leaf mutexes).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "uplink.h"

static struct {
    __typeof__(&pcap_open_dead) open_dead;
    __typeof__(&pcap_dump_open) dump_open;
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
    SYM(dump_open, "pcap_dump_open");
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
    errno = 0;
    cap->dumper = lp.dump_open(cap->dead, path);
    if (!cap->dumper) {
        int e = errno ? errno : EIO;
        snprintf(err, errlen, "pcap: cannot create capture file: %s",
                 lp.geterr ? lp.geterr(cap->dead) : strerror(e));
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

static int sink_tx(struct uplink *up, const void *frame, size_t len)
{
    return 0;
}

static void sink_close(struct uplink *up)
{
}

static const struct uplink_ops sink_ops = {.name = "sink", .tx = sink_tx, .close = sink_close};
static const struct uplink_ops pcap_ops = {.name = "pcap", .tx = sink_tx, .close = sink_close};

static int uplink_init(struct uplink *up, const struct uplink_ops *ops)
{
    memset(up, 0, sizeof(*up));
    up->ops = ops;
    return -pthread_mutex_init(&up->lock, NULL);
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
