/*
 * fuzz_ctl.c: libFuzzer harness of the control socket as a client sees it: an input is the
 * byte stream of one connection. It is split into lines (cmd/ctl/apisock_linebuf.c, fed in
 * two pieces at a point the first byte picks), each line runs as a request
 * (cmd/ctl/apisock_cmds.c, JSON from lib/json.c) against a fake VM of eight VFs whose
 * `vf set` goes through the real --nic value parser, and every reply must be one line of
 * valid JSON that the client's reader (json_parse with arrays, json_array_next) accepts.
 * Each line is also parsed as a reply would be, and the JSON string writer must give back what
 * it was given.
 */
#include <errno.h>
#include <inttypes.h>

#include "apisock.h"
#include "fuzz.h"
#include "minivmm/json.h"
#include "nicopt.h"

#define NVF 8

struct fake_vm {
    struct nic_vf_config vf[NVF];
    bool paused, stopping;
    unsigned replies;
};

static int f_vf_count(void *opaque)
{
    return NVF;
}

static int f_vf_info(void *opaque, unsigned vf, struct nic_vf_info *out)
{
    static const char *const names[] = {"auto", "enable", "disable"};
    struct fake_vm *vm = opaque;
    if (vf >= NVF)
        return -EINVAL;
    const struct nic_vf_config *c = &vm->vf[vf];
    *out = (struct nic_vf_info){.nic = vf / 4, .index = vf % 4, .vlan = c->vlan,
                                .spoofchk = c->spoofchk, .trust = c->trust,
                                .state = (enum nic_vf_state)(c->state % 3),
                                .state_name = names[c->state % 3], .link_up = c->state != 2,
                                .max_tx_rate = c->max_tx_rate,
                                /* u64 counters beyond INT64_MAX, as a long run may show */
                                .rx_packets = UINT64_MAX, .rx_bytes = UINT64_MAX - vf,
                                .tx_packets = (uint64_t)INT64_MAX + 1, .tx_bytes = vf,
                                .rate_waits = 3, .rate_wait_us = UINT64_MAX / 3};
    memcpy(out->mac, c->mac, 6);
    for (unsigned i = 0; i < NIC_DROP_NR; i++)
        out->tx_drops[i] = out->rx_drops[i] = (uint64_t)1 << (8 * i);
    return 0;
}

static int f_vf_set(void *opaque, unsigned vf, const char *key, const char *value, char *err,
                    size_t errlen)
{
    struct fake_vm *vm = opaque;
    if (vf >= NVF) {
        snprintf(err, errlen, "no VF %u", vf);
        return -EINVAL;
    }
    if (strcmp(key, "pcap") == 0) {
        snprintf(err, errlen, "pcap: not a run-time key");
        return -EINVAL;
    }
    return nicopt_parse_vf_value(key, value, &vm->vf[vf], err, errlen);
}

static int f_pause(void *opaque)
{
    struct fake_vm *vm = opaque;
    if (vm->stopping)
        return -ESHUTDOWN;
    vm->paused = true;
    return 0;
}

static int f_resume(void *opaque)
{
    struct fake_vm *vm = opaque;
    if (vm->stopping)
        return -ESHUTDOWN;
    vm->paused = false;
    return 0;
}

static void f_stop(void *opaque)
{
    ((struct fake_vm *)opaque)->stopping = true;
}

static void f_status(void *opaque, struct apisock_status *st)
{
    struct fake_vm *vm = opaque;
    *st = (struct apisock_status){
        .state = vm->stopping ? "stopping" : vm->paused ? "paused" : "running",
        .vcpus = 4,
        .uptime_ms = UINT64_MAX,
        .paused_ms = 12345};
}

static const struct apisock_ops fake_ops = {
    .vf_count = f_vf_count,
    .vf_info = f_vf_info,
    .vf_set = f_vf_set,
    .pause = f_pause,
    .resume = f_resume,
    .stop = f_stop,
    .status = f_status,
};

/* The client's view of a reply: one line, valid JSON, arrays walkable. */
static void check_reply(const char *reply, size_t n)
{
    static struct json j, e;
    char err[160];

    if (n == 0 || reply[n - 1] != '\n' || memchr(reply, '\n', n - 1) || strlen(reply) != n)
        abort();
    if (json_parse(reply, n - 1, true, &j, err, sizeof(err))) {
        fprintf(stderr, "fuzz_ctl: the server's reply is not valid JSON (%s): %s", err, reply);
        abort();
    }
    const struct json_member *ok = json_get(&j, "ok");
    if (!ok || ok->type != JSON_BOOL)
        abort();
    for (unsigned i = 0; i < j.n; i++) {
        if (j.m[i].type != JSON_ARRAY)
            continue;
        size_t pos = 0;
        int r;
        while ((r = json_array_next(&j.m[i], &pos, &e, err, sizeof(err))) == 1)
            ;
        if (r < 0) {
            fprintf(stderr, "fuzz_ctl: array in the reply not readable (%s): %s", err, reply);
            abort();
        }
    }
    fuzz_trace("reply ok=%d: %.*s", ok->b, (int)(n - 1), reply);
}

/* json_str's output, as a member value, parses back to the string (ASCII input: UTF-8 is
 * checked by the reader and \u escapes of JSON_ASCII do not round-trip byte for byte). */
static void roundtrip(const char *s, size_t len)
{
    static struct json j;
    char buf[3 * JSON_MAX_TEXT], err[160];
    char str[256];
    size_t n = 0, k = 0;

    for (size_t i = 0; i < len && k + 1 < sizeof(str); i++)
        if ((unsigned char)s[i] < 0x80 && s[i] != '\0')
            str[k++] = s[i];
    str[k] = '\0';
    json_str(buf, sizeof(buf), &n, "k", 0);
    buf[n++] = ':';
    json_str(buf, sizeof(buf), &n, str, k % 2 ? JSON_ASCII : 0);
    if (n + 2 >= sizeof(buf))
        abort();
    char doc[sizeof(buf) + 2];
    int dn = snprintf(doc, sizeof(doc), "{%s}", buf);
    if (json_parse(doc, (size_t)dn, false, &j, err, sizeof(err)) || j.n != 1 ||
        j.m[0].type != JSON_STRING || strcmp(j.m[0].str, str) != 0) {
        fprintf(stderr, "fuzz_ctl: json_str output does not read back: %s\n", doc);
        abort();
    }
}

struct conn {
    struct fake_vm vm;
    char reply[APISOCK_MAX_REPLY];
};

static void on_line(void *opaque, const char *line, size_t len, bool oversized)
{
    static struct json j;
    struct conn *c = opaque;
    char err[160];

    if (oversized) {
        fuzz_trace("line oversized");
        return;
    }
    if (len > APISOCK_MAX_LINE || memchr(line, '\n', len))
        abort();
    size_t n = apisock_handle(&fake_ops, &c->vm, line, len, c->reply, sizeof(c->reply));
    if (n >= sizeof(c->reply))
        abort();
    check_reply(c->reply, n);
    /* The same line as a reply the client reads. */
    int r = json_parse(line, len, true, &j, err, sizeof(err));
    if (r == 0) {
        for (unsigned i = 0; i < j.n; i++) {
            static struct json e;
            size_t pos = 0;
            if (j.m[i].type == JSON_ARRAY)
                while (json_array_next(&j.m[i], &pos, &e, err, sizeof(err)) == 1)
                    ;
        }
    }
    roundtrip(line, len);
    c->vm.replies++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct apisock_linebuf lb;
    static struct conn c;

    if (size < 1)
        return 0;
    memset(&lb, 0, sizeof(lb));
    memset(&c, 0, sizeof(c));
    for (unsigned i = 0; i < NVF; i++) {
        c.vm.vf[i].spoofchk = true;
        c.vm.vf[i].mac[0] = 0x02;
        c.vm.vf[i].mac[5] = (uint8_t)i;
    }
    size_t cut = size > 1 ? data[0] % size : 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    if (cut > n)
        cut = n;
    apisock_linebuf_feed(&lb, s, cut, on_line, &c);
    apisock_linebuf_feed(&lb, s + cut, n - cut, on_line, &c);
    fuzz_trace("lines %u", c.vm.replies);
    return 0;
}
