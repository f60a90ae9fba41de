/*
 * fuzz_cli.c: libFuzzer harness of the command-line parsers: the --nic grammar
 * (src/nicopt.c: whole values, the run-time per-VF values of `ctl vf set`, MACs), sizes and
 * integers (-m, -c; src/cmdline.c), the guest command line assembly, and `minivmm exits`'s
 * options, times and exit reasons (cmd/exits/exitreport_args.c).
 *
 * Input: one selector byte, then the text. For the argv-shaped parsers the text is split at
 * newlines into words.
 */
#include <errno.h>
#include <inttypes.h>

#include "cmdline.h"
#include "exitreport.h"
#include "fuzz.h"
#include "nicopt.h"

#define MAX_WORDS 64

enum { SEL_NIC, SEL_VF_VALUE, SEL_MAC, SEL_SIZE, SEL_TIME, SEL_BUILD, SEL_EXITS_ARGS, SEL_NR };

/* Splits text at newlines into at most MAX_WORDS words (in place). */
static int split(char *text, char **w)
{
    int n = 0;
    char *p = text;
    while (n < MAX_WORDS) {
        w[n++] = p;
        p = strchr(p, '\n');
        if (!p)
            break;
        *p++ = '\0';
    }
    return n;
}

static void nic(const char *s)
{
    struct nic_config cfg;
    char err[256];
    int ret = nicopt_parse(s, &cfg, err, sizeof(err));
    if (ret) {
        if (!memchr(err, '\0', sizeof(err)) || strchr(err, '\n'))
            abort(); /* one line, always */
        fuzz_trace("nic: refused: %s", err);
        return;
    }
    /* Parsed: VF MACs are unicast and distinct, none equal to the NE2000's. */
    for (unsigned i = 0; i < cfg.vfs; i++) {
        if (cfg.vf[i].mac[0] & 1)
            abort();
        for (unsigned j = 0; j < i; j++)
            if (!memcmp(cfg.vf[i].mac, cfg.vf[j].mac, 6))
                abort();
        if (cfg.ne2000 && !memcmp(cfg.vf[i].mac, cfg.ne2000_mac, 6))
            abort();
    }
    fuzz_trace("nic: vfs %u uplink %d ne2000 %d", cfg.vfs, (int)cfg.uplink, cfg.ne2000);
    nicopt_free(&cfg);
}

static void vf_value(char *s)
{
    struct nic_vf_config vf = {.spoofchk = true};
    char err[256];
    char *eq = strchr(s, '=');
    const char *value = "";
    if (eq) {
        *eq = '\0';
        value = eq + 1;
    }
    int ret = nicopt_parse_vf_value(s, value, &vf, err, sizeof(err));
    fuzz_trace("vf value: %s=%s: %d", s, value, ret);
}

static void mac(const char *s)
{
    uint8_t m[6];
    int ret = nicopt_parse_mac(s, m);
    fuzz_trace("mac: %d", ret);
}

static void size(const char *s)
{
    uint64_t v;
    unsigned u;
    int ret = cmdline_parse_size(s, &v);
    if (ret == 0)
        fuzz_trace("size: %" PRIu64, v);
    else
        fuzz_trace("size: refused %d", ret);
    ret = cmdline_parse_uint(s, 1, 64, &u);
    if (ret == 0 && (u < 1 || u > 64))
        abort();
    fuzz_trace("uint: %d", ret);
}

static void times(const char *s)
{
    uint64_t ns;
    uint32_t reason;
    int ret = exitreport_parse_duration(s, &ns);
    if (ret == 0)
        fuzz_trace("duration: %" PRIu64 " ns", ns);
    else
        fuzz_trace("duration: refused %d", ret);
    ret = exitreport_parse_reason(s, &reason);
    fuzz_trace("reason: %d", ret);
}

static void build(char *text)
{
    char *w[MAX_WORDS];
    char out[512];
    int n = split(text, w);
    /* The first word is the base (--cmdline), the others the words after `--`. */
    int ret = cmdline_build(out, sizeof(out), w[0], w + 1, n - 1);
    if (ret >= 0 && (size_t)ret != strlen(out))
        abort();
    fuzz_trace("cmdline: %d", ret);
}

static void exits_args(char *text)
{
    char *argv[MAX_WORDS + 2];
    struct exitreport_opts o;
    char err[256];
    argv[0] = (char *)"exits";
    int n = split(text, argv + 1);
    argv[n + 1] = NULL;
    int ret = exitreport_parse_args(n + 1, argv, &o, err, sizeof(err));
    if (ret == 0 && !o.path)
        abort();
    fuzz_trace("exits args: %d", ret);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size_)
{
    if (size_ < 1)
        return 0;
    char *text = malloc(size_);
    if (!text)
        return 0;
    memcpy(text, data + 1, size_ - 1);
    text[size_ - 1] = '\0';

    switch (data[0] % SEL_NR) {
    case SEL_NIC:
        nic(text);
        break;
    case SEL_VF_VALUE:
        vf_value(text);
        break;
    case SEL_MAC:
        mac(text);
        break;
    case SEL_SIZE:
        size(text);
        break;
    case SEL_TIME:
        times(text);
        break;
    case SEL_BUILD:
        build(text);
        break;
    case SEL_EXITS_ARGS:
        exits_args(text);
        break;
    }
    free(text);
    return 0;
}
