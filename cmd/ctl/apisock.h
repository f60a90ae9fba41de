/*
 * apisock.h: the control socket of `minivmm run --api-sock PATH`, and the small strict JSON
 * reader that it and `minivmm ctl` (src/ctl.c) share.
 *
 * Protocol (docs/nic.md, "Control socket"): a UNIX stream socket; the client writes one JSON
 * object per line, the server answers each with one JSON object on one line, in order:
 * {"ok":true,...} or {"ok":false,"error":"..."}. Requests are flat objects (string, integer
 * and boolean members) of at most APISOCK_MAX_LINE bytes; a longer line is discarded up to its
 * newline and answered with an error. Commands: "vf list", "vf set", "pause", "resume", "stop",
 * "status". Blank lines are ignored.
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

#include "nic.h"

#define APISOCK_MAX_LINE 4096 /* bytes of one request, newline excluded */
#define APISOCK_MAX_CONNS 8
#define APISOCK_MAX_REPLY 16384

/* ---- The JSON reader ---- */

#define APISOCK_JSON_MAX_MEMBERS 48

enum apisock_json_type {
    APISOCK_JSON_STRING,
    APISOCK_JSON_INT,
    APISOCK_JSON_BOOL,
    APISOCK_JSON_ARRAY
};

struct apisock_json_member {
    const char *key; /* NUL-terminated, in the object's text buffer */
    enum apisock_json_type type;
    const char *str; /* STRING: decoded, NUL-terminated (no NUL inside: \u0000 is refused) */
    int64_t num;     /* INT */
    bool b;          /* BOOL */
    const char *arr; /* ARRAY: the raw text from '[' to its ']', into the parsed input */
    size_t arrlen;
};

struct apisock_json {
    unsigned n;
    struct apisock_json_member m[APISOCK_JSON_MAX_MEMBERS];
    char text[APISOCK_MAX_LINE + 1]; /* decoded keys and strings */
};

/* Parses s[0..len) as one JSON object (RFC 8259) whose members are strings, integers (no
 * fraction or exponent, int64 range) or booleans; with allow_arrays also arrays of such flat
 * objects (replies of `vf list`; their elements are read with apisock_json_array_next()).
 * Surrounding whitespace is allowed; duplicate keys, null, nesting and trailing bytes are not.
 * 0, or -EINVAL with one line in err. */
int apisock_json_parse(const char *s, size_t len, bool allow_arrays, struct apisock_json *o,
                       char *err, size_t errlen);
/* The member `key`, or NULL. */
const struct apisock_json_member *apisock_json_get(const struct apisock_json *o, const char *key);
/* Walks an ARRAY member: *pos starts at 0; parses the next element into *o. 1 = an element,
 * 0 = end, -EINVAL with err. */
int apisock_json_array_next(const struct apisock_json_member *arr, size_t *pos,
                            struct apisock_json *o, char *err, size_t errlen);
/* Appends `s` as a JSON string (quotes and escapes) at buf + *n; never overflows. */
void apisock_json_str(char *buf, size_t size, size_t *n, const char *s);

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
struct apisock_vm {
    struct vm *vm;
    struct nics *nics;
};
extern const struct apisock_ops apisock_vm_ops;
/* Starts the server thread. 0 or -errno. */
int apisock_start(struct apisock *s);
/* Stops the thread, closes the connections and removes the socket file. NULL is ignored. */
void apisock_destroy(struct apisock *s);

#endif
