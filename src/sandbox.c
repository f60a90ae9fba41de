/*
 * sandbox.c: the seccomp allowlists per thread kind, capabilities and rlimits (sandbox.h,
 * docs/security.md).
 *
 * The lists come from strace -f of real runs (NICs with every uplink, the control socket,
 * the console, the exit log, the bench device) and from reading each thread's code: what a
 * thread kind calls itself, plus what the device code it runs calls (a vCPU thread runs every
 * device's MMIO/PIO handler, so it writes the exit log, pcap files and eventfds and raises
 * interrupts through KVM). docs/security.md shows them as sandbox_print_rules() prints them;
 * tests/unit/test_sandbox.c fails when the two differ.
 *
 * Hazards: the SIGSYS handler runs under the faulting thread's own filter, so it only uses
 * what every list has (write, ioctl TCSETS for the terminal, exit_group); a forbidden call in
 * it would kill the process without the message. glibc's stdio on stderr (unbuffered) is
 * write(2) only.
 */
#include <dirent.h>
#include <sched.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"
#include "exitlog.h"
#include "minivmm/errmsg.h"
#include "minivmm/util.h"
#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANDBOX_SANITIZER 1
#endif
#endif

struct ioctl_req {
    unsigned long req;
    const char *name;
};
#define IOCTL(r) {r, #r}

struct kind_rules {
    const char *name;
    const char *const *syscalls;   /* NULL-terminated */
    const struct ioctl_req *ioctl; /* {0, NULL}-terminated; NULL: none beyond the common ones */
};

/* Every thread: thread exit, signals (the kick handler, the fatal-signal handler of
 * console.c: sigaction, tgkill), locks, malloc (glibc's per-thread arenas: mmap, mprotect to
 * grow, madvise/munmap to trim), clocks and sleeps (max_tx_rate), messages on stderr, eventfd
 * writes, kicks (vm_stop: tgkill), and sysinfo: glibc's qsort asks it for the machine's memory
 * size (sysconf(_SC_PHYS_PAGES)) before sorting more than 1 KiB, as the end-of-run summary of
 * a Linux guest does (its many ports and addresses). */
static const char *const sys_common[] = {
    "exit", "exit_group", "rt_sigreturn", "rt_sigprocmask", "rt_sigaction", "restart_syscall",
    "futex", "write", "mmap", "munmap", "mprotect", "madvise", "brk", "clock_gettime",
    "clock_nanosleep", "nanosleep", "gettid", "getpid", "tgkill", "sched_yield", "sysinfo",
    NULL};
/* Every thread: the terminal restored on a fatal signal or a violation (tcsetattr). */
static const struct ioctl_req ioctl_common[] = {IOCTL(TCSETS), {0, NULL}};

/* Interrupts a device raises from the thread it runs on: an MSI route of our IOAPIC (split
 * irqchip), KVM's own IOAPIC pin (kernel irqchip), a redirection entry the guest programmed. */
#define IOCTL_IRQ IOCTL(KVM_SIGNAL_MSI), IOCTL(KVM_IRQ_LINE), IOCTL(KVM_SET_GSI_ROUTING)

/* vCPU: KVM_RUN, the register dump of a crash, and every device handler (no reads: a
 * handler's input is the run area and guest memory). */
static const char *const sys_vcpu[] = {NULL};
static const struct ioctl_req ioctl_vcpu[] = {IOCTL(KVM_RUN), IOCTL(KVM_GET_REGS),
                                              IOCTL(KVM_GET_SREGS), IOCTL(KVM_TRANSLATE),
                                              IOCTL_IRQ, {0, NULL}};
/* I/O worker: poll the ioeventfds, read a kick, run the queues (frames to the switch and the
 * uplink, interrupts). */
static const char *const sys_io[] = {"read", "poll", NULL};
static const struct ioctl_req ioctl_irq[] = {IOCTL_IRQ, {0, NULL}};
/* Uplink: poll its socket or tap, read frames, deliver them through the switch. */
static const char *const sys_uplink[] = {"read", "poll", NULL};
/* Console input: poll stdin, read it, feed the UART (its interrupt). */
static const char *const sys_console_in[] = {"read", "poll", NULL};
/* Console output: poll stdout and its eventfd, write. */
static const char *const sys_console_out[] = {"read", "poll", NULL};
/* Control socket: accept, read and answer requests (SO_SNDTIMEO per reply), close; its
 * commands pause the vCPUs and change VFs (link-state interrupts). */
static const char *const sys_api[] = {"read", "poll", "accept4", "recvfrom", "sendto",
                                      "setsockopt", "close", NULL};
/* Bench device: read its eventfd. */
static const char *const sys_bench[] = {"read", NULL};
/* Main: wait on the signalfd and the stop eventfd, the live view, then teardown: KVM's
 * statistics (a descriptor per vCPU, read with pread), the summary, closing files and
 * captures, removing the control socket (lstat, unlink). */
static const char *const sys_main[] = {"read", "poll", "pread64", "close", "newfstatat",
                                       "unlink", NULL};
static const struct ioctl_req ioctl_main[] = {IOCTL(KVM_GET_STATS_FD), IOCTL(KVM_IRQFD),
                                              IOCTL(TCGETS), {0, NULL}};

static const struct kind_rules rules[HW_THREAD_NKINDS] = {
    [HW_THREAD_MAIN] = {"main", sys_main, ioctl_main},
    [HW_THREAD_VCPU] = {"vcpu", sys_vcpu, ioctl_vcpu},
    [HW_THREAD_IO] = {"io", sys_io, ioctl_irq},
    [HW_THREAD_UPLINK] = {"uplink", sys_uplink, ioctl_irq},
    [HW_THREAD_CONSOLE_IN] = {"console-in", sys_console_in, ioctl_irq},
    [HW_THREAD_CONSOLE_OUT] = {"console-out", sys_console_out, NULL},
    [HW_THREAD_API] = {"api", sys_api, ioctl_irq},
    [HW_THREAD_BENCH] = {"bench", sys_bench, NULL},
};

#ifdef SANDBOX_SANITIZER
/* Sanitizer builds (-Dsanitize=true: ASan/UBSan; TSan too): the runtime's own calls, on any thread: its alternate
 * signal stack, its allocator, the reports (/proc/self/maps, symbolizing), and LeakSanitizer at
 * exit (a tracer process that ptrace-attaches to every thread). */
static const char *const sys_sanitizer[] = {
    "sigaltstack", "prctl", "prlimit64", "getrlimit", "sched_getaffinity", "readlink",
    "openat", "close", "read", "pread64", "getdents64", "clone", "ptrace", "wait4", "mincore",
    "newfstatat", "lseek", "uname", "getppid", "pipe2", "dup2", "execve", "open", "stat",
    "lstat", "fstat", "readlinkat", "getdents", "kill", "process_vm_readv", "rt_sigtimedwait",
    "arch_prctl", NULL};
#endif

/* ---- names ---- */

#define SANDBOX_MAX_NR 512
static char *sys_names[SANDBOX_MAX_NR];

const char *sandbox_syscall_name(int nr)
{
    if (nr >= 0 && nr < SANDBOX_MAX_NR && sys_names[nr])
        return sys_names[nr];
    return "?";
}

static void resolve_names(void)
{
    for (int nr = 0; nr < SANDBOX_MAX_NR; nr++)
        if (!sys_names[nr])
            sys_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
}

const char *sandbox_kind_name(enum hw_thread_kind kind)
{
    return (unsigned)kind < HW_THREAD_NKINDS ? rules[kind].name : NULL;
}

int sandbox_kind_from_name(const char *name)
{
    for (int k = 0; k < HW_THREAD_NKINDS; k++)
        if (strcmp(rules[k].name, name) == 0)
            return k;
    return -1;
}

/* ---- filters ---- */

static int add_syscalls(scmp_filter_ctx ctx, const char *const *list)
{
    for (; *list; list++) {
        int nr = seccomp_syscall_resolve_name(*list);
        if (nr == __NR_SCMP_ERROR)
            return -EINVAL;
        int ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        if (ret)
            return ret;
    }
    return 0;
}

static int add_ioctls(scmp_filter_ctx ctx, const struct ioctl_req *list)
{
    for (; list && list->name; list++) {
        /* Every field named: SCMP_A1() leaves datum_b out, which clang's
         * -Wmissing-field-initializers (the fuzz build) refuses. */
        const struct scmp_arg_cmp cmp = {.arg = 1, .op = SCMP_CMP_EQ, .datum_a = list->req,
                                         .datum_b = 0};
        int ret = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, &cmp);
        if (ret)
            return ret;
    }
    return 0;
}

int sandbox_filter_build(enum hw_thread_kind kind, scmp_filter_ctx *out)
{
    int ret;
    *out = NULL;
    if ((unsigned)kind >= HW_THREAD_NKINDS)
        return -EINVAL;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
    if (!ctx)
        return -ENOMEM;
    ret = add_syscalls(ctx, sys_common);
    if (!ret)
        ret = add_syscalls(ctx, rules[kind].syscalls);
    if (!ret)
        ret = add_ioctls(ctx, ioctl_common);
    if (!ret)
        ret = add_ioctls(ctx, rules[kind].ioctl);
#ifdef SANDBOX_SANITIZER
    if (!ret)
        ret = add_syscalls(ctx, sys_sanitizer);
#endif
    if (ret) {
        seccomp_release(ctx);
        return ret;
    }
    *out = ctx;
    return 0;
}

void sandbox_print_rules(FILE *f)
{
    for (int k = -1; k < HW_THREAD_NKINDS; k++) {
        const char *const *sys = k < 0 ? sys_common : rules[k].syscalls;
        const struct ioctl_req *io = k < 0 ? ioctl_common : rules[k].ioctl;
        fprintf(f, "%s:", k < 0 ? "every thread" : rules[k].name);
        for (; *sys; sys++)
            fprintf(f, " %s", *sys);
        if (io && io->name) {
            fprintf(f, " ioctl(");
            for (const char *sep = ""; io->name; io++, sep = " ")
                fprintf(f, "%s%s", sep, io->name);
            fprintf(f, ")");
        }
        fprintf(f, "\n");
    }
}

/* ---- violations ---- */

static bool sandbox_on;
static int test_kind = -1;
static __thread int this_kind = -1;
/* The exit log a violation flushes, and how many SIGSYS handlers may be using it: a Dekker
 * pair (sequentially consistent), so that sandbox_set_exitlog(NULL) returns only once no
 * handler can touch the log. A handler never returns (it ends the process). */
static struct exitlog *violation_log;
static unsigned violation_busy;

void sandbox_set_exitlog(struct exitlog *log)
{
    __atomic_store_n(&violation_log, log, __ATOMIC_SEQ_CST);
    if (!log)
        while (__atomic_load_n(&violation_busy, __ATOMIC_SEQ_CST))
            sched_yield(); /* a thread is ending the process: wait for it */
}

static void put(char *buf, size_t *n, size_t cap, const char *s)
{
    while (*s && *n < cap)
        buf[(*n)++] = *s++;
}

static void put_num(char *buf, size_t *n, size_t cap, unsigned long v)
{
    char d[24];
    int i = (int)sizeof(d);
    d[--i] = '\0';
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v && i > 0);
    put(buf, n, cap, d + i);
}

/* Async-signal-safe: no stdio, no allocation. The exit log is flushed only if its lock is free
 * (it may be held by this very thread, mid-record). */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    char msg[160];
    size_t n = 0;
    const char *kind = this_kind >= 0 ? sandbox_kind_name(this_kind) : "?";
    put(msg, &n, sizeof(msg), "minivmm: sandbox: thread ");
    put(msg, &n, sizeof(msg), kind);
    put(msg, &n, sizeof(msg), " made forbidden syscall ");
    put(msg, &n, sizeof(msg), sandbox_syscall_name(si->si_syscall));
    put(msg, &n, sizeof(msg), " (");
    put_num(msg, &n, sizeof(msg), (unsigned long)(unsigned)si->si_syscall);
    put(msg, &n, sizeof(msg), ")\n");
    ssize_t w = write(STDERR_FILENO, msg, n);
    (void)w;
    __atomic_fetch_add(&violation_busy, 1, __ATOMIC_SEQ_CST);
    struct exitlog *log = __atomic_load_n(&violation_log, __ATOMIC_SEQ_CST);
    if (log)
        exitlog_flush_try(log);
    console_restore_tty();
    _exit(1);
}

/* ---- dropping ---- */

/* This thread's capabilities: bounding set (needs CAP_SETPCAP, which root has: EPERM
 * otherwise, and then there is nothing to keep anyway), ambient, then permitted, effective
 * and inheritable. */
static void drop_caps(void)
{
    for (unsigned long cap = 0; cap < 64; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL)
            break;
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
    memset(d, 0, sizeof(d));
    syscall(SYS_capset, &h, d);
}

/* The calling thread: no capabilities, no new privileges, its kind's filter. */
static int confine(enum hw_thread_kind kind)
{
    scmp_filter_ctx ctx;
    drop_caps();
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -errno;
    int ret = sandbox_filter_build(kind, &ctx);
    if (ret)
        return ret;
    ret = seccomp_load(ctx);
    seccomp_release(ctx);
    return ret;
}

/* The test trigger: a call no kind may make. */
static void test_trigger(enum hw_thread_kind kind)
{
    fprintf(stderr, "minivmm: sandbox: test: thread %s calls socket(2)\n",
            sandbox_kind_name(kind));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        fprintf(stderr, "minivmm: sandbox: test: thread %s: socket(2) went through "
                        "(no sandbox)\n", sandbox_kind_name(kind));
        close(fd);
    }
}

static void thread_hook(enum hw_thread_kind kind)
{
    this_kind = kind;
    if (sandbox_on) {
        int ret = confine(kind);
        if (ret) {
            /* Fail closed: a thread that cannot be confined must not run guest work. */
            fprintf(stderr, "minivmm: sandbox: cannot confine thread %s: %s (--no-sandbox runs "
                            "without)\n", sandbox_kind_name(kind), strerror(-ret));
            console_restore_tty();
            _exit(1);
        }
    }
    if ((int)kind == test_kind)
        test_trigger(kind);
}

int sandbox_init(bool enabled, char *err, size_t errlen)
{
    const char *t = getenv(SANDBOX_TEST_ENV);
    if (t && *t) {
        test_kind = sandbox_kind_from_name(t);
        if (test_kind < 0)
            return errmsg_fail(err, errlen, -EINVAL,
                               "%s: '%s' is not a thread kind (main, vcpu, io, uplink, "
                               "console-in, console-out, api, bench)", SANDBOX_TEST_ENV, t);
    }
    sandbox_on = enabled;
    if (enabled) {
        struct rlimit core = {0, 0};
        if (setrlimit(RLIMIT_CORE, &core) < 0)
            return errmsg_fail(err, errlen, -errno, "sandbox: setrlimit (CORE): %s",
                               strerror(errno));
        resolve_names();
        struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGSYS, &sa, NULL) < 0)
            return errmsg_fail(err, errlen, -errno, "sandbox: sigaction (SIGSYS): %s",
                               strerror(errno));
    }
    if (enabled || test_kind >= 0)
        hw_thread_set_hook(thread_hook);
    return 0;
}

/* The highest open descriptor, or -errno. */
static int highest_fd(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -errno;
    int dfd = dirfd(d), max = 2;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end == '\0' && end != e->d_name && fd != dfd && fd > max)
            max = (int)fd;
    }
    closedir(d);
    return max;
}

int sandbox_seal(char *err, size_t errlen)
{
    if (sandbox_on) {
        int max = highest_fd();
        if (max < 0)
            return errmsg_fail(err, errlen, max, "sandbox: /proc/self/fd: %s", strerror(-max));
        struct rlimit nofile;
        if (getrlimit(RLIMIT_NOFILE, &nofile) < 0)
            return errmsg_fail(err, errlen, -errno, "sandbox: getrlimit (NOFILE): %s",
                               strerror(errno));
        rlim_t want = (rlim_t)max + 1 + SANDBOX_NOFILE_MARGIN;
        if (nofile.rlim_max == RLIM_INFINITY || nofile.rlim_max > want)
            nofile.rlim_max = want;
        if (nofile.rlim_cur == RLIM_INFINITY || nofile.rlim_cur > nofile.rlim_max)
            nofile.rlim_cur = nofile.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &nofile) < 0)
            return errmsg_fail(err, errlen, -errno, "sandbox: setrlimit (NOFILE): %s",
                               strerror(errno));
        this_kind = HW_THREAD_MAIN;
        int ret = confine(HW_THREAD_MAIN);
        if (ret)
            return errmsg_fail(err, errlen, ret,
                               "sandbox: cannot confine the main thread: %s (--no-sandbox "
                               "runs without)", strerror(-ret));
    }
    if (test_kind == HW_THREAD_MAIN)
        test_trigger(HW_THREAD_MAIN);
    return 0;
}
