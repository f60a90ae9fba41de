/*
 * nicopt.c: the --nic option parser (grammar in nicopt.h and nicopt_help).
 *
 * Table-driven: every key is one line of `keys[]` naming its type (count, on/off, one of a list,
 * MAC, file, uplink) and the field it fills, so a later key (vfK.state, vfK.max_tx_rate, ne2000)
 * is one table line plus its struct field. Keys starting "vfK." are per VF.
 *
 * The input is untrusted: values are checked strictly (decimal without sign or leading zeros,
 * MACs as exactly six two-digit hex groups), every error is one line naming the key and the
 * value, and values are quoted with control characters replaced and long ones cut, so an error
 * message cannot smuggle terminal escapes. Checks that need the whole string (K < vfs, the MAC
 * base not overflowing, two VFs with one MAC, two captures on one file) run after the split.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "minivmm/abi.h"
#include "nicopt.h"
#include "minivmm/util.h"

const char *const nicopt_help =
    "  --nic vfs=N[,uplink=U][,mac=BASE][,notify=ioeventfd|exit][,event_idx=on|off]\n"
    "        [,vfK.mac=M][,vfK.vlan=ID][,vfK.spoofchk=on|off][,vfK.trust=on|off][,vfK.pcap=FILE]\n"
    "        [,vfK.state=auto|enable|disable][,vfK.max_tx_rate=MBIT][,ne2000=on|off]\n"
"        [,ne2000.port=0xNNN][,ne2000.irq=N]\n"
    "      An SR-IOV-style NIC: N virtio-net VFs (1-8) on the PF's embedded switch, plus an\n"
    "      uplink. May be given more than once. Each key at most once; FILE cannot contain ','.\n"
    "      vfs=N            number of VFs, 1-8 (required)\n"
    "      uplink=sink      the uplink counts and drops frames (default)\n"
    "      uplink=pcap:FILE also write every frame crossing the uplink to FILE (pcap; needs\n"
    "                       libpcap.so.0.8 at run time)\n"
    "      uplink=dgram:L:R UDP on 127.0.0.1: one frame per datagram, from local port L to\n"
    "                       remote port R (QEMU's -netdev dgram with inet addresses)\n"
    "      uplink=tap:NAME  the Linux tap device NAME (created if missing; CAP_NET_ADMIN)\n"
    "      uplink=tap-fd:N  an open tap file descriptor N inherited from the caller\n"
    "      mac=BASE         VF n gets BASE + n (default: random, locally administered)\n"
    "      notify=M         queue notifications by ioeventfd (default) or by vCPU exit\n"
    "      event_idx=on|off offer VIRTIO_F_EVENT_IDX (default on)\n"
    "      vfK.mac=M        VF K's MAC (unicast, xx:xx:xx:xx:xx:xx); K < N\n"
    "      vfK.vlan=ID      port VLAN ID 0-4094 (0 = none, the default): tagged toward the\n"
    "                       uplink, stripped toward the VF; VF K reaches only its VLAN\n"
    "      vfK.spoofchk=on|off  drop frames whose source MAC is not VF K's (default on)\n"
    "      vfK.trust=on|off     let the guest change the MAC and go promiscuous (default off)\n"
    "      vfK.pcap=FILE    capture every frame VF K sends or receives to FILE\n"
    "      vfK.state=S      link auto (follow the uplink, default), enable (up even when the\n"
    "                       uplink is down) or disable (down: traffic dropped both ways)\n"
    "      vfK.max_tx_rate=MBIT  cap VF K's transmit rate in Mbit/s (0 = unlimited, the\n"
    "                       default): over the rate its TX waits, nothing is dropped\n"
    "      ne2000=on|off    also an emulated NE2000 (DP8390) on this switch, MAC BASE + N,\n"
    "                       ISA I/O 0x300, IRQ 9 (default off; one NIC per VM at most)\n"
    "      ne2000.port=0xNNN, ne2000.irq=N\n"
    "                       its I/O base (0x200-0x3c0, steps of 0x20) and IRQ (3, 5, 7,\n"
    "                       9, 10, 11, 12, 15); a guest without a device tree probes 0x300/9\n";

enum key_type { K_UINT, K_BOOL, K_ENUM, K_MAC, K_PATH, K_UPLINK, K_ISA_PORT, K_ISA_IRQ };

struct key {
    const char *name; /* without "vfK." for per-VF keys */
    bool per_vf;
    enum key_type type;
    size_t off;               /* in struct nic_config, or in struct nic_vf_config when per_vf */
    unsigned min, max;        /* K_UINT */
    const char *what;         /* K_UINT: "is not <what>" */
    const char *const *names; /* K_ENUM: NULL-terminated, value = index */
};

#define CFG(f) offsetof(struct nic_config, f)
#define VFC(f) offsetof(struct nic_vf_config, f)

static const char *const notify_names[] = {"ioeventfd", "exit", NULL};
static const char *const state_names[] = {"auto", "enable", "disable", NULL};

static const struct key keys[] = {
    {"vfs", false, K_UINT, CFG(vfs), 1, NICOPT_MAX_VFS,
     "a VF count (1-8: the switch has 8 VF ports)", NULL},
    {"uplink", false, K_UPLINK, 0, 0, 0, NULL, NULL},
    {"mac", false, K_MAC, CFG(mac_base), 0, 0, NULL, NULL},
    {"notify", false, K_ENUM, CFG(notify), 0, 0, NULL, notify_names},
    {"event_idx", false, K_BOOL, CFG(event_idx), 0, 0, NULL, NULL},
    {"ne2000", false, K_BOOL, CFG(ne2000), 0, 0, NULL, NULL},
    {"ne2000.port", false, K_ISA_PORT, CFG(ne2000_port), 0x200, 0x3c0, NULL, NULL},
    {"ne2000.irq", false, K_ISA_IRQ, CFG(ne2000_irq), 3, 15, NULL, NULL},
    {"mac", true, K_MAC, VFC(mac), 0, 0, NULL, NULL},
    {"vlan", true, K_UINT, VFC(vlan), 0, 4094, "a VLAN ID (0-4094)", NULL},
    {"spoofchk", true, K_BOOL, VFC(spoofchk), 0, 0, NULL, NULL},
    {"trust", true, K_BOOL, VFC(trust), 0, 0, NULL, NULL},
    {"pcap", true, K_PATH, VFC(pcap), 0, 0, NULL, NULL},
    {"state", true, K_ENUM, VFC(state), 0, 0, NULL, state_names},
    {"max_tx_rate", true, K_UINT, VFC(max_tx_rate), 0, 1000000,
     "a rate in Mbit/s (0-1000000, 0 = unlimited)", NULL},
};
#define NKEYS (ARRAY_SIZE(keys))
#define KEY_VFS 0 /* keys[0]: the one required key */

_Static_assert(sizeof(enum nic_notify) == sizeof(unsigned),
               "K_ENUM fields are written as unsigned");

struct parse {
    const char *prefix; /* of messages: "--nic: " */
    struct nic_config *cfg;
    char *err;
    size_t errlen;
    bool seen[NKEYS];
    bool vf_seen[NICOPT_MAX_VFS][NKEYS];
    unsigned max_vf_used; /* highest K used + 1 */
    char max_vf_key[32];  /* the key that used it, for the error */
};

/* A value as it may appear in a message: control characters and non-ASCII as '?', cut at 48. */
static const char *quote(const char *v, char *buf, size_t len)
{
    size_t i;

    for (i = 0; v[i] && i + 4 < len && i < 48; i++)
        buf[i] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
    if (v[i] && i + 4 <= len) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = 0;
    return buf;
}

static int fail(struct parse *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parse *ps, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(ps->err, ps->errlen, "%s", ps->prefix);

    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < ps->errlen)
        vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Decimal, no sign, no leading zeros, at most 9 digits: 0 or -EINVAL. */
static int parse_dec(const char *s, unsigned *out)
{
    unsigned v = 0;
    size_t n = strlen(s);

    if (n == 0 || n > 9 || (n > 1 && s[0] == '0'))
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int nicopt_parse_mac(const char *s, uint8_t mac[6])
{
    uint8_t m[6];

    if (strlen(s) != 17)
        return -EINVAL;
    for (int i = 0; i < 6; i++) {
        int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
            return -EINVAL;
        m[i] = (uint8_t)(hi << 4 | lo);
    }
    memcpy(mac, m, 6);
    return 0;
}

static void fill_random(uint8_t *buf, size_t len)
{
    ssize_t n = getrandom(buf, len, GRND_NONBLOCK);

    if (n != (ssize_t)len) { /* no entropy yet, or seccomp: the clock is good enough here */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30);
        for (size_t i = 0; i < len; i++, x = x * 6364136223846793005ull + 1442695040888963407ull)
            buf[i] = (uint8_t)(x >> 56);
    }
}

void nicopt_default_mac_base(uint8_t mac[6])
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static unsigned nic_count;
    uint8_t rnd[2];
    unsigned pid = (unsigned)getpid(), n;

    pthread_mutex_lock(&lock);
    n = nic_count++;
    pthread_mutex_unlock(&lock);
    fill_random(rnd, sizeof(rnd));
    mac[0] = (uint8_t)((rnd[0] & 0xfc) | 0x02); /* locally administered, unicast */
    mac[1] = rnd[1];
    mac[2] = (uint8_t)(pid >> 16); /* pid_max <= 2^22 */
    mac[3] = (uint8_t)(pid >> 8);
    mac[4] = (uint8_t)pid;
    mac[5] = (uint8_t)((n & 0x1f) << 3); /* bits 2:0: the VF index */
}

static int parse_mac_value(struct parse *ps, const char *key, const char *v, uint8_t *mac, bool vf)
{
    static const uint8_t zero[6];
    char q[64];

    if (nicopt_parse_mac(v, mac))
        return fail(ps, "%s: '%s' is not a MAC address (xx:xx:xx:xx:xx:xx)", key,
                    quote(v, q, sizeof(q)));
    if (mac[0] & 1)
        return fail(ps, "%s: '%s' is a multicast address (%s a unicast MAC)", key,
                    quote(v, q, sizeof(q)), vf ? "a VF needs" : "the VF MACs derived from it need");
    if (memcmp(mac, zero, 6) == 0)
        return fail(ps, "%s: '%s' is the all-zero address (not a station address)", key,
                    quote(v, q, sizeof(q)));
    return 0;
}

static int set_value(struct parse *ps, const struct key *k, const char *key, const char *v,
                     void *field)
{
    char q[64];

    switch (k->type) {
    case K_UINT: {
        unsigned x;
        if (parse_dec(v, &x) || x < k->min || x > k->max)
            return fail(ps, "%s: '%s' is not %s", key, quote(v, q, sizeof(q)), k->what);
        *(unsigned *)field = x;
        return 0;
    }
    case K_ISA_PORT: {
        /* NE2000 cards jumper their base in 0x20 steps; 0x3c0 keeps clear of COM1 at 0x3f8. */
        char *end;
        errno = 0;
        unsigned long x = strtoul(v, &end, 0);
        if (!*v || *end || errno || x < k->min || x > k->max || x % 0x20)
            return fail(ps, "%s: '%s' is not an ISA I/O base (0x200-0x3c0 in steps of 0x20)",
                        key, quote(v, q, sizeof(q)));
        *(unsigned *)field = (unsigned)x;
        return 0;
    }
    case K_ISA_IRQ: {
        /* The IRQs an NE2000 offers that our machine has free (4 is COM1's). */
        static const unsigned ok[] = {3, 5, 7, 9, 10, 11, 12, 15};
        unsigned x;
        bool good = false;
        if (!parse_dec(v, &x))
            for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
                good |= ok[i] == x;
        if (!good)
            return fail(ps, "%s: '%s' is not an NE2000 IRQ (3, 5, 7, 9, 10, 11, 12 or 15)", key,
                        quote(v, q, sizeof(q)));
        *(unsigned *)field = x;
        return 0;
    }
    case K_BOOL:
        if (strcmp(v, "on") && strcmp(v, "off"))
            return fail(ps, "%s: '%s' is not on or off", key, quote(v, q, sizeof(q)));
        *(bool *)field = strcmp(v, "on") == 0;
        return 0;
    case K_ENUM: {
        char list[128] = "";
        for (unsigned i = 0; k->names[i]; i++)
            if (strcmp(v, k->names[i]) == 0) {
                *(unsigned *)field = i;
                return 0;
            }
        for (unsigned i = 0; k->names[i]; i++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "", k->names[i]);
        }
        return fail(ps, "%s: '%s' is not one of %s", key, quote(v, q, sizeof(q)), list);
    }
    case K_MAC:
        return parse_mac_value(ps, key, v, field, k->per_vf);
    case K_PATH:
        if (!*v)
            return fail(ps, "%s: empty file name", key);
        if (!(*(char **)field = strdup(v)))
            return fail(ps, "%s: out of memory", key);
        return 0;
    case K_UPLINK:
        if (strcmp(v, "sink") == 0) {
            ps->cfg->uplink = NIC_UPLINK_SINK;
            return 0;
        }
        if (strncmp(v, "pcap:", 5) == 0) {
            if (!v[5])
                return fail(ps, "%s: 'pcap:' has no FILE (uplink=pcap:FILE)", key);
            ps->cfg->uplink = NIC_UPLINK_PCAP;
            if (!(ps->cfg->uplink_pcap = strdup(v + 5)))
                return fail(ps, "%s: out of memory", key);
            return 0;
        }
        if (strncmp(v, "dgram:", 6) == 0) {
            char *colon = strchr(v + 6, ':');
            if (colon) {
                *colon = 0;
                int bad = parse_dec(v + 6, &ps->cfg->dgram_local) ||
                          parse_dec(colon + 1, &ps->cfg->dgram_remote);
                *colon = ':';
                if (!bad && ps->cfg->dgram_local && ps->cfg->dgram_local <= 65535 &&
                    ps->cfg->dgram_remote && ps->cfg->dgram_remote <= 65535) {
                    ps->cfg->uplink = NIC_UPLINK_DGRAM;
                    return 0;
                }
            }
            return fail(ps, "%s: '%s' is not dgram:LOCAL_PORT:REMOTE_PORT (ports 1-65535)", key,
                        quote(v, q, sizeof(q)));
        }
        if (strncmp(v, "tap:", 4) == 0) {
            if (!v[4] || strlen(v + 4) > 15)
                return fail(ps, "%s: '%s': a tap name has 1-15 characters", key,
                            quote(v, q, sizeof(q)));
            ps->cfg->uplink = NIC_UPLINK_TAP;
            if (!(ps->cfg->uplink_tap = strdup(v + 4)))
                return fail(ps, "%s: out of memory", key);
            return 0;
        }
        if (strncmp(v, "tap-fd:", 7) == 0) {
            unsigned fd;
            if (parse_dec(v + 7, &fd) || fd > 65535)
                return fail(ps, "%s: '%s' is not tap-fd:N (a file descriptor number)", key,
                            quote(v, q, sizeof(q)));
            ps->cfg->uplink = NIC_UPLINK_TAP_FD;
            ps->cfg->tap_fd = (int)fd;
            return 0;
        }
        return fail(ps, "%s: '%s' is not sink, pcap:FILE, dgram:L:R, tap:NAME or tap-fd:N", key,
                    quote(v, q, sizeof(q)));
    }
    return fail(ps, "%s: internal error: bad key type", key);
}

static int unknown_key(struct parse *ps, const char *key)
{
    char list[512] = "", q[64];

    for (unsigned i = 0; i < NKEYS; i++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof(list) - l, "%s%s%s", i ? ", " : "", keys[i].per_vf ? "vfK." : "",
                 keys[i].name);
    }
    return fail(ps, "'%s': unknown key (known: %s)", quote(key, q, sizeof(q)), list);
}

static int parse_item(struct parse *ps, char *item)
{
    char *eq = strchr(item, '='), *sub = item, q[64];
    const char *v;
    unsigned vf = 0;
    bool per_vf = false;
    void *base = ps->cfg;

    if (!eq)
        return fail(ps, "'%s': expected key=value", quote(item, q, sizeof(q)));
    *eq = 0;
    v = eq + 1;
    if (strncmp(item, "vf", 2) == 0 && strchr(item, '.')) {
        char *dot = strchr(item, '.');
        *dot = 0;
        int bad = parse_dec(item + 2, &vf);
        *dot = '.';
        if (bad)
            return fail(ps, "'%s': bad VF number (vf0.., no leading zeros)",
                        quote(item, q, sizeof(q)));
        per_vf = true;
        sub = dot + 1;
    }
    for (unsigned i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];
        bool *seen;
        if (k->per_vf != per_vf || strcmp(k->name, sub))
            continue;
        if (per_vf) {
            if (vf >= NICOPT_MAX_VFS)
                return fail(ps, "%s: no VF %u (at most %d VFs: vf0..vf%d)", item, vf,
                            NICOPT_MAX_VFS, NICOPT_MAX_VFS - 1);
            if (vf + 1 > ps->max_vf_used) {
                ps->max_vf_used = vf + 1;
                snprintf(ps->max_vf_key, sizeof(ps->max_vf_key), "%s", item);
            }
            seen = &ps->vf_seen[vf][i];
            base = &ps->cfg->vf[vf];
        } else {
            seen = &ps->seen[i];
        }
        if (*seen)
            return fail(ps, "%s: given twice", item);
        *seen = true;
        if (per_vf && k->type == K_MAC)
            ps->cfg->vf[vf].mac_set = true;
        if (!per_vf && k->type == K_MAC)
            ps->cfg->mac_base_set = true;
        return set_value(ps, k, item, v, (char *)base + k->off);
    }
    return unknown_key(ps, item);
}

static bool same_mac(const uint8_t *a, const uint8_t *b)
{
    return memcmp(a, b, 6) == 0;
}

/* The checks that need every item. */
static int finish(struct parse *ps)
{
    struct nic_config *c = ps->cfg;
    char q[64], m[24];

    if (!ps->seen[KEY_VFS])
        return fail(ps, "vfs: missing (vfs=1..%d is required)", NICOPT_MAX_VFS);
    if (ps->max_vf_used > c->vfs)
        return fail(ps, "%s: no VF %u with vfs=%u (vf0..vf%u)", ps->max_vf_key, ps->max_vf_used - 1,
                    c->vfs, c->vfs - 1);
    if (!c->mac_base_set)
        nicopt_default_mac_base(c->mac_base);
    /* VF n = base + n as a 48-bit number; the first octet (I/G and U/L bits) must not change. */
    uint64_t base = 0;
    for (int i = 0; i < 6; i++)
        base = base << 8 | c->mac_base[i];
    if (((base + c->vfs - !c->ne2000) >> 40) != c->mac_base[0]) { /* NE2000: base + vfs */
        snprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x", c->mac_base[0], c->mac_base[1],
                 c->mac_base[2], c->mac_base[3], c->mac_base[4], c->mac_base[5]);
        return fail(ps, "mac: '%s' + %u VFs would carry into the first octet", m,
                    c->vfs - !c->ne2000);
    }
    for (unsigned n = 0; n < c->vfs; n++) {
        if (c->vf[n].mac_set)
            continue;
        uint64_t x = base + n;
        for (int i = 5; i >= 0; i--, x >>= 8)
            c->vf[n].mac[i] = (uint8_t)x;
    }
    if (c->ne2000) {
        uint64_t x = base + c->vfs;
        for (int i = 5; i >= 0; i--, x >>= 8)
            c->ne2000_mac[i] = (uint8_t)x;
        for (unsigned a = 0; a < c->vfs; a++)
            if (same_mac(c->vf[a].mac, c->ne2000_mac)) {
                const uint8_t *x6 = c->ne2000_mac;
                snprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x", x6[0], x6[1], x6[2],
                         x6[3], x6[4], x6[5]);
                return fail(ps, "vf%u.mac: '%s' is also the NE2000's MAC (MAC base + vfs)", a, m);
            }
    }
    for (unsigned a = 0; a < c->vfs; a++)
        for (unsigned b = 0; b < a; b++)
            if (same_mac(c->vf[a].mac, c->vf[b].mac)) {
                unsigned who = c->vf[a].mac_set ? a : b;
                const uint8_t *x = c->vf[a].mac;
                snprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x", x[0], x[1], x[2], x[3],
                         x[4], x[5]);
                return fail(ps, "vf%u.mac: '%s' is also vf%u's MAC", who, m, who == a ? b : a);
            }
    for (unsigned a = 0; a < c->vfs; a++) {
        const char *p = c->vf[a].pcap;
        if (!p)
            continue;
        if (c->uplink_pcap && strcmp(p, c->uplink_pcap) == 0)
            return fail(ps, "vf%u.pcap: '%s' is also the uplink's capture file", a,
                        quote(p, q, sizeof(q)));
        for (unsigned b = 0; b < a; b++)
            if (c->vf[b].pcap && strcmp(p, c->vf[b].pcap) == 0)
                return fail(ps, "vf%u.pcap: '%s' is also vf%u's capture file", a,
                            quote(p, q, sizeof(q)), b);
    }
    return 0;
}

int nicopt_parse(const char *s, struct nic_config *cfg, char *err, size_t errlen)
{
    struct parse ps = {.prefix = "--nic: ", .cfg = cfg, .err = err, .errlen = errlen};
    char *copy, *item;
    int r = 0;

    memset(cfg, 0, sizeof(*cfg));
    cfg->uplink = NIC_UPLINK_SINK;
    cfg->notify = NIC_NOTIFY_IOEVENTFD;
    cfg->event_idx = true;
    cfg->ne2000_port = MINIVMM_NE2000_PORT;
    cfg->ne2000_irq = MINIVMM_NE2000_IRQ;
    for (unsigned i = 0; i < NICOPT_MAX_VFS; i++)
        cfg->vf[i].spoofchk = true;
    if (!s || !*s)
        return fail(&ps, "empty value (expected vfs=N,...)");
    if (!(copy = strdup(s)))
        return fail(&ps, "out of memory");
    item = copy;
    for (;;) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = 0;
        if (!*item) {
            r = fail(&ps, "empty item (a stray ',' at the start, the end or doubled)");
            break;
        }
        if ((r = parse_item(&ps, item)))
            break;
        if (!comma)
            break;
        item = comma + 1;
    }
    free(copy);
    if (!r)
        r = finish(&ps);
    if (r)
        nicopt_free(cfg);
    return r;
}

int nicopt_parse_vf_value(const char *key, const char *value, struct nic_vf_config *vf, char *err,
                          size_t errlen)
{
    struct nic_config dummy;
    struct parse ps = {.prefix = "", .cfg = &dummy, .err = err, .errlen = errlen};
    char q[64];

    for (unsigned i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];
        if (!k->per_vf || k->type == K_PATH || strcmp(k->name, key))
            continue;
        return set_value(&ps, k, key, value, (char *)vf + k->off);
    }
    return fail(&ps, "'%s': unknown key (known: mac, vlan, spoofchk, trust, state, max_tx_rate)",
                quote(key, q, sizeof(q)));
}

void nicopt_free(struct nic_config *cfg)
{
    free(cfg->uplink_pcap);
    cfg->uplink_pcap = NULL;
    free(cfg->uplink_tap);
    cfg->uplink_tap = NULL;
    for (unsigned i = 0; i < NICOPT_MAX_VFS; i++) {
        free(cfg->vf[i].pcap);
        cfg->vf[i].pcap = NULL;
    }
}
