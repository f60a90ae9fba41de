/*
 * apisock_cmds.c: the control socket's commands (apisock_handle(), apisock.h): one request line
 * in, one reply object out, acting on the VM through struct apisock_ops (the VM's in
 * apisock_vm.c, fakes in the unit test).
 *
 * Hazards. Every byte of a request is untrusted: it is parsed by the strict JSON reader
 * (minivmm/json.h), members a command does not know are refused, and the reply is built in a
 * fixed buffer that never overflows (a reply that would is replaced by an error). Strings in a
 * reply go through utf8_clean(): a message cut by snprintf (ours, or a device's error text
 * quoting a long request value) must not end in half a UTF-8 character, or the reply would
 * not be JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "apisock.h"
#include "minivmm/json.h"
#include "minivmm/util.h"
#include "vm.h" /* VM_PAUSE_TIMEOUT_S, for the message */

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

/* The length of the well-formed UTF-8 sequence at p (lead byte >= 0x80; no overlongs,
 * surrogates or code points above U+10FFFF), 0 when it is not one; *cut is set when it is the
 * start of one that the string's end (a NUL) cuts short. */
static size_t utf8_seq_len(const unsigned char *p, bool *cut)
{
    uint32_t cp, min;
    size_t n;
    *cut = false;
    if ((p[0] & 0xe0) == 0xc0)
        n = 2, cp = p[0] & 0x1f, min = 0x80;
    else if ((p[0] & 0xf0) == 0xe0)
        n = 3, cp = p[0] & 0x0f, min = 0x800;
    else if ((p[0] & 0xf8) == 0xf0)
        n = 4, cp = p[0] & 0x07, min = 0x10000;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if (!p[i]) {
            *cut = true;
            return 0;
        }
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    return cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0 : n;
}

/* Copies s into d (size bytes) as valid UTF-8, for a reply any JSON reader accepts: a
 * sequence cut short at the end (a message truncated by snprintf, ours or a device's) is
 * dropped, so a cut falls on a character boundary; other invalid bytes become '?'. A longer
 * s is cut at a character boundary too. */
static void utf8_clean(char *d, size_t size, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t k = 0;
    while (*p) {
        bool cut = false;
        size_t n = *p < 0x80 ? 1 : utf8_seq_len(p, &cut);
        if (cut)
            break;
        if (k + (n ? n : 1) >= size)
            break;
        if (n) {
            memcpy(d + k, p, n);
            k += n;
            p += n;
        } else {
            d[k++] = '?';
            p++;
        }
    }
    d[k] = '\0';
}

static void out_str(struct out *o, const char *s)
{
    static __thread char clean[APISOCK_MAX_REPLY]; /* not on a small thread's stack */
    utf8_clean(clean, sizeof(clean), s);
    if (o->n < o->size)
        json_str(o->buf, o->size, &o->n, clean, 0);
    else
        o->n += 2 + strlen(clean);
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
    else if (m->type == JSON_INT && m->num < 0)
        snprintf(buf, size, "%" PRId64, m->num);
    else if (m->type == JSON_INT)
        snprintf(buf, size, "%" PRIu64, m->unum);
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
    if (vfm->num < 0 || vfm->num >= n) {
        char num[24];
        value_text(vfm, num, sizeof(num));
        return n ? out_error(r->o, "vf set: no VF %s (VFs are 0-%d)", num, n - 1)
                 : out_error(r->o, "vf set: no VF %s (this VM has no NICs)", num);
    }
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
