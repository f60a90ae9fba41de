/*
 * uplink.h: the PF switch's uplink back-ends and the pcap writer used for captures.
 *
 * An uplink is a struct uplink with a small const ops struct {tx, close}:
 *   sink        counts and drops every frame (the default);
 *   pcap:FILE   a sink that also writes every frame crossing the uplink, both directions, to
 *               FILE as a pcap file (LINKTYPE_ETHERNET, microsecond timestamps);
 *   dgram:L:R   UDP on 127.0.0.1 only: bound to port L, sends to port R; one Ethernet frame per
 *               datagram, no header (QEMU's `-netdev dgram` with inet local/remote addresses);
 *   tap:NAME    a Linux tap device (/dev/net/tun, IFF_TAP | IFF_NO_PI), existing or created;
 *   tap-fd:N    an already open tap file descriptor (inherited; closed at the end).
 * The socket and tap back-ends receive on their own thread, started by uplink_start() and
 * stopped by uplink_close(): each datagram or read is one frame, handed to uplink_input().
 * Datagrams shorter than an Ethernet header (runt) or longer than PFSWITCH_MAX_FRAME
 * (oversize) are counted in the uplink and not offered to the switch. Sends never block: a
 * full socket or tap queue, or no peer listening, is an -EAGAIN/-ECONNREFUSED the switch counts
 * as an `error` drop on the uplink.
 * The switch sends frames with uplink_tx() (connect it with pfswitch_attach(sw, PFSWITCH_UPLINK,
 * &uplink_port_ops, up)); a back-end that receives frames from a network hands them to the
 * switch with uplink_input(), which captures them first.
 *
 * Captures (struct uplink_pcap) load libpcap with dlopen("libpcap.so.0.8") on first use, so the
 * VMM does not link libpcap (it pulls in 8 more shared libraries and 1.5-1.9 ms of start-up)
 * and runs without it unless a capture is configured. Each frame is flushed to the file as it
 * is written, so the file is complete whatever way the process ends; close functions free.
 * uplink_pcap_tap() fits pfswitch_set_tap() for per-VF captures (`vfK.pcap=FILE`).
 *
 * Locking: an uplink and a capture each have their own mutex, taken last (leaf locks: the switch
 * calls uplink_tx() and taps with its lock held). uplink_input() takes the uplink's lock only
 * around the capture and the counters, not across the call into the switch.
 */
#ifndef MINIVMM_UPLINK_H
#define MINIVMM_UPLINK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pfswitch.h"

#define UPLINK_PCAP_SONAME "libpcap.so.0.8"
#define UPLINK_PCAP_SNAPLEN 65535

struct uplink;
struct uplink_pcap;

struct uplink_ops {
    const char *name;
    /* The switch sends a frame out: 0 or -errno (counted by the switch as a drop). */
    int (*tx)(struct uplink *up, const void *frame, size_t len);
    void (*close)(struct uplink *up);
};

struct uplink {
    const struct uplink_ops *ops;
    pthread_mutex_t lock;
    struct uplink_pcap *cap;       /* NULL: no capture */
    uint64_t tx_packets, tx_bytes; /* switch -> network */
    uint64_t rx_packets, rx_bytes; /* network -> switch */
    uint64_t rx_runt, rx_oversize; /* bad datagrams/reads, not offered */
    uint32_t sink_s1, sink_s2;     /* sink/pcap: iosum of the frames taken (guest/iocmd.h) */
    int fd;                        /* socket or tap, -1 for sink/pcap */
    int stop_fd;                   /* eventfd stopping the RX thread, -1 */
    struct pfswitch *sw;           /* where the RX thread sends frames */
    pthread_t thread;
    bool thread_started;
};

/* A sink. 0 or -errno. */
int uplink_open_sink(struct uplink *up);
/* A sink capturing to `path` (created or truncated). 0 or -errno with a one-line message in err
 * (libpcap missing, file not writable). */
int uplink_open_pcap(struct uplink *up, const char *path, char *err, size_t errlen);
/* dgram:local:remote on 127.0.0.1. 0 or -errno with a one-line message (port in use ...). */
int uplink_open_dgram(struct uplink *up, unsigned local_port, unsigned remote_port, char *err,
                      size_t errlen);
/* tap:NAME (created if missing; needs CAP_NET_ADMIN) or, with name NULL, tap-fd:fd. */
int uplink_open_tap(struct uplink *up, const char *name, int fd, char *err, size_t errlen);
/* Starts the RX thread (dgram, tap) feeding `sw`; a no-op for sink and pcap. 0 or -errno. */
int uplink_start(struct uplink *up, struct pfswitch *sw, const char *thread_name);
/* Closes the back-end and its capture (flushing it). 0, or -EIO if capture writes failed. */
int uplink_close(struct uplink *up);

/* What the end-of-run report shows of an uplink, read under its lock. */
struct uplink_stats {
    const char *name;              /* "sink", "pcap", "dgram", "tap" (static) */
    bool network;                  /* dgram/tap: frames cross a socket or tap; sink/pcap: not */
    uint64_t tx_packets, tx_bytes; /* switch -> network */
    uint64_t rx_packets, rx_bytes; /* network -> switch */
    uint64_t rx_runt, rx_oversize; /* bad datagrams/reads, not offered */
    uint64_t sink_sum;             /* sink/pcap: iosum of the frames taken, s2 << 32 | s1 */
};
void uplink_get_stats(struct uplink *up, struct uplink_stats *st);

int uplink_tx(struct uplink *up, const void *frame, size_t len);
/* A frame from the network: captured, counted, then pfswitch_rx_from_uplink(). */
int uplink_input(struct uplink *up, struct pfswitch *sw, const void *frame, size_t len);

/* Port ops for PFSWITCH_UPLINK; the opaque is the struct uplink. */
extern const struct pfswitch_port_ops uplink_port_ops;

/* A pcap writer. 0 or -errno with a one-line message in err. */
int uplink_pcap_open(struct uplink_pcap **out, const char *path, char *err, size_t errlen);
/* One frame (truncated to UPLINK_PCAP_SNAPLEN in the file, its length recorded), timestamped
 * now and flushed. 0 or -EIO. */
int uplink_pcap_write(struct uplink_pcap *cap, const void *frame, size_t len);
/* uplink_pcap_write() for pfswitch_set_tap(): opaque is the struct uplink_pcap. */
void uplink_pcap_tap(void *opaque, const void *frame, size_t len);
/* Frames written and write errors so far. */
void uplink_pcap_counts(struct uplink_pcap *cap, uint64_t *frames, uint64_t *errors);
/* Flush and close; NULL is a no-op. 0, or -EIO if any write or the final flush failed. */
int uplink_pcap_close(struct uplink_pcap *cap);

/* Tests: the library name the next first load uses (default UPLINK_PCAP_SONAME). */
void uplink_pcap_set_library(const char *soname);

#endif
