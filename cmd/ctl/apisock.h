/*
 * apisock.h: the control socket of `minivmm run --api-sock PATH`; its client is `minivmm ctl`
 * (ctl.c), and both read JSON with lib/json.c (minivmm/json.h).
 *
 * Protocol (docs/nic.md, "Control socket"): a UNIX stream socket; the client writes one JSON
 * object per line, the server answers each with one JSON object on one line, in order:
 * {"ok":true,...} or {"ok":false,"error":"..."}. Requests are flat objects (string, integer
 * and boolean members) of at most APISOCK_MAX_LINE bytes; a longer line is discarded up to its
 * newline and answered with an error. Commands: "vf list", "vf set", "pause", "resume", "stop",
 * "status". Blank lines are ignored.
 *
 * Files: apisock_linebuf.c (framing), apisock_cmds.c (the commands), apisock_vm.c (the
 * commands' ops on a running VM), apisock.c (the socket and its thread).
 *
 * Threads: one server thread ("apisock") polls the listening socket and up to
 * APISOCK_MAX_CONNS connections and runs every command itself; the commands call thread-safe
 * functions (nic_vf_*, vm_pause/vm_resume/vm_stop).
 */
#ifndef MINIVMM_APISOCK_H
#define MINIVMM_APISOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minivmm/json.h"
#include "nic.h"

/* Bytes of one request, newline excluded: a request always fits the JSON reader's buffer. */
#define APISOCK_MAX_LINE JSON_MAX_TEXT
#define APISOCK_MAX_CONNS 8
#define APISOCK_MAX_REPLY 16384

/* ---- Lines ---- */

/* Splits a byte stream into lines of at most APISOCK_MAX_LINE bytes; longer lines are
 * discarded up to their newline and reported once, as `oversized`. */
struct apisock_linebuf {
    size_t len;
    bool discarding;
    char buf[APISOCK_MAX_LINE + 1];
};

typedef void (*apisock_line_fn)(void *opaque, const char *line, size_t len, bool oversized);

/* Feeds n bytes; calls fn for every line they complete (newline excluded). */
void apisock_linebuf_feed(struct apisock_linebuf *lb, const char *data, size_t n,
                          apisock_line_fn fn, void *opaque);

/* ---- Commands ---- */

struct apisock_status {
    const char *state; /* "running", "paused", "stopping" */
    unsigned vcpus;
    uint64_t uptime_ms; /* since the vCPUs started, pauses included */
    uint64_t paused_ms; /* total time paused */
};

/* What the commands act on: the VM's functions in `minivmm run`, fakes in the unit test. */
struct apisock_ops {
    int (*vf_count)(void *opaque);
    int (*vf_info)(void *opaque, unsigned vf, struct nic_vf_info *out);
    int (*vf_set)(void *opaque, unsigned vf, const char *key, const char *value, char *err,
                  size_t errlen);
    int (*pause)(void *opaque);  /* 0, or -errno (-ESHUTDOWN: the VM is stopping) */
    int (*resume)(void *opaque); /* same */
    void (*stop)(void *opaque);
    void (*status)(void *opaque, struct apisock_status *st);
};

/* Runs one request line and writes the reply (one JSON object, newline included) to reply;
 * returns its length. Never fails: bad requests get {"ok":false,"error":...}. */
size_t apisock_handle(const struct apisock_ops *ops, void *opaque, const char *line, size_t len,
                      char *reply, size_t size);

/* ---- The server ---- */

struct apisock;
struct vm;

/* Creates, binds and listens on `path` with mode 0600 (a stale socket there is replaced;
 * any other file is refused). Serves nothing until apisock_start(). 0 or -errno with one line
 * in err. */
int apisock_create(struct apisock **out, const char *path, const struct apisock_ops *ops,
                   void *opaque, char *err, size_t errlen);
/* The ops of a running VM (opaque: a struct apisock_vm). */
struct run_service_ops;

struct apisock_vm {
    struct vm *vm;
    struct nics *nics;
};
extern const struct apisock_ops apisock_vm_ops;
/* The server as `minivmm run --api-sock` starts it (struct run_service_ops, src/run.h). */
extern const struct run_service_ops apisock_run_service;
/* Starts the server thread. 0 or -errno. */
int apisock_start(struct apisock *s);
/* Stops the thread, closes the connections and removes the socket file. NULL is ignored. */
void apisock_destroy(struct apisock *s);

#endif
