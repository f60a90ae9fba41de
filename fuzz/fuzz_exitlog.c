/*
 * fuzz_exitlog.c: libFuzzer harness of the exit-log reader (src/exitlog.c) and the report of
 * `minivmm exits` (cmd/exits/): an input is a log file. It is read and reported one of four
 * ways (the input's size modulo 4 picks which), the report printed to /dev/null: the table with
 * no filter; CSV with a 1 us timeline; JSON with every filter (vCPU 0, reason IO, device
 * "none", since 1 us, until 1 s) and a 1 ms timeline; the table with the first device of the
 * bus map as the filter and a 1 ns timeline.
 * --plot is left out (it runs gnuplot).
 *
 * The log is handed to the reader as /proc/self/fd/N of a memfd, rewritten per input.
 */
#include <errno.h>
#include <inttypes.h>
#include <sys/mman.h>
#include <unistd.h>

#include "exitreport.h"
#include "fuzz.h"

static int fd = -1;
static char path[64];
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fd = memfd_create("fuzz-exitlog", MFD_CLOEXEC);
    devnull = fopen("/dev/null", "w");
    if (fd < 0 || !devnull) {
        fprintf(stderr, "fuzz_exitlog: cannot create the log or open /dev/null\n");
        abort();
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    return 0;
}

static void report(const char *what, const struct exitreport_opts *o)
{
    struct exitreport *r;
    char err[512];

    int ret = exitreport_build(&r, o, err, sizeof(err));
    if (ret) {
        if (strchr(err, '\n'))
            abort(); /* one line, always */
        fuzz_trace("%s: refused (%d): %s", what, ret, err);
        return;
    }
    const struct exitlog_info *info = exitreport_info(r);
    ret = exitreport_print(r, devnull);
    fuzz_trace("%s: %" PRIu64 " records, %u vCPUs, %u devices, truncated %d, print %d", what,
               info->nrecords, info->ncpus, info->map.ndevs, info->truncated, ret);
    exitreport_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct exitreport_opts o = {.path = path, .filter.until_ns = UINT64_MAX};
    char dev[EXITLOG_NAME_MAX];

    if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
        abort();
    /* One report an input (each allocates and clears ~150 KiB of bus map, a cost of page
     * faults on our hosts): the input's size picks which, so every log meets all four as the
     * fuzzer grows and shrinks it. */
    switch (size % 4) {
    case 0:
        report("table", &o);
        break;
    case 1:
        o.format = EXITREPORT_CSV;
        o.timeline_ns = 1000;
        report("csv timeline 1us", &o);
        break;
    case 2:
        o.format = EXITREPORT_JSON;
        o.timeline_ns = 1000000;
        o.filter = (struct exitreport_filter){.by_vcpu = true,
                                              .vcpu = 0,
                                              .by_reason = true,
                                              .reason = 2 /* KVM_EXIT_IO */,
                                              .device = "none",
                                              .since_ns = 1000,
                                              .until_ns = 1000000000};
        report("json filtered", &o);
        break;
    case 3:
        /* The name of the log's first device (header offset 32 + 20, exitlog.h). */
        snprintf(dev, sizeof(dev), "%.*s", size >= 76 ? EXITLOG_NAME_MAX - 1 : 0,
                 size >= 76 ? (const char *)data + 52 : "");
        o.filter.device = dev;
        o.timeline_ns = 1;
        report("table device timeline 1ns", &o);
        break;
    }
    return 0;
}
