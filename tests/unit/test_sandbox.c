/*
 * test_sandbox.c: unit tests of the sandbox (src/sandbox.c) that need no KVM: every kind's
 * filter builds, kind and syscall names resolve, a confined thread keeps its allowed calls and
 * dies with the one-line message and status 1 on a forbidden one (in a forked child), the test
 * trigger, and docs/security.md shows the allowlists the code has. CK_FORK.
 *
 * `test_sandbox --rules` prints the allowlists as docs/security.md must show them.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "minivmm/hw/thread.h"
#include "sandbox.h"

START_TEST(test_filter_builds)
{
    scmp_filter_ctx ctx;
    ck_assert_int_eq(sandbox_filter_build((enum hw_thread_kind)_i, &ctx), 0);
    ck_assert_ptr_nonnull(ctx);
    /* The BPF program exists and is small enough for the kernel (4096 instructions). */
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(seccomp_export_bpf(ctx, fileno(f)), 0);
    off_t len = lseek(fileno(f), 0, SEEK_END);
    ck_assert_int_gt(len, 0);
    ck_assert_int_lt(len / 8, 4096);
    fclose(f);
    seccomp_release(ctx);
}
END_TEST

START_TEST(test_kind_names)
{
    for (int k = 0; k < HW_THREAD_NKINDS; k++) {
        const char *n = sandbox_kind_name((enum hw_thread_kind)k);
        ck_assert_ptr_nonnull(n);
        ck_assert_int_eq(sandbox_kind_from_name(n), k);
    }
    ck_assert_str_eq(sandbox_kind_name(HW_THREAD_VCPU), "vcpu");
    ck_assert_str_eq(sandbox_kind_name(HW_THREAD_CONSOLE_OUT), "console-out");
    ck_assert_ptr_null(sandbox_kind_name(HW_THREAD_NKINDS));
    ck_assert_int_eq(sandbox_kind_from_name("vcpus"), -1);
    ck_assert_int_eq(sandbox_kind_from_name(""), -1);
}
END_TEST

START_TEST(test_syscall_names)
{
    char err[256];
    /* Resolved once by sandbox_init (the SIGSYS handler must not allocate). */
    ck_assert_str_eq(sandbox_syscall_name(SYS_socket), "?");
    unsetenv(SANDBOX_TEST_ENV);
    ck_assert_int_eq(sandbox_init(false, err, sizeof(err)), 0);
    ck_assert_str_eq(sandbox_syscall_name(SYS_socket), "?"); /* off: nothing resolved */
    ck_assert_int_eq(sandbox_init(true, err, sizeof(err)), 0);
    ck_assert_str_eq(sandbox_syscall_name(SYS_socket), "socket");
    ck_assert_str_eq(sandbox_syscall_name(SYS_execve), "execve");
    ck_assert_str_eq(sandbox_syscall_name(SYS_ioctl), "ioctl");
    ck_assert_str_eq(sandbox_syscall_name(-1), "?");
    ck_assert_str_eq(sandbox_syscall_name(100000), "?");
    struct rlimit core;
    ck_assert_int_eq(getrlimit(RLIMIT_CORE, &core), 0);
    ck_assert_uint_eq(core.rlim_cur, 0);
    ck_assert_uint_eq(core.rlim_max, 0);
}
END_TEST

START_TEST(test_bad_test_kind)
{
    char err[256];
    setenv(SANDBOX_TEST_ENV, "hypervisor", 1);
    ck_assert_int_eq(sandbox_init(true, err, sizeof(err)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "'hypervisor' is not a thread kind"));
}
END_TEST

/* ---- confined children ---- */

enum child_act { ACT_ALLOWED, ACT_GETCWD, ACT_SOCKET, ACT_IOCTL, ACT_THREAD_SOCKET };

static enum child_act act;

static void *thread_body(void *arg)
{
    hw_thread_enter(HW_THREAD_VCPU);
    syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    return NULL;
}

/* Runs in the child: confined as an I/O worker unless `thread`, then acts. */
static void child(bool enabled, const char *test_kind)
{
    char err[256];
    if (test_kind)
        setenv(SANDBOX_TEST_ENV, test_kind, 1);
    else
        unsetenv(SANDBOX_TEST_ENV);
    if (sandbox_init(enabled, err, sizeof(err)))
        _exit(10);
    if (act == ACT_THREAD_SOCKET) {
        pthread_t t;
        if (pthread_create(&t, NULL, thread_body, NULL))
            _exit(11);
        pthread_join(t, NULL);
        _exit(0);
    }
    int p[2];
    if (pipe(p) < 0)
        _exit(12);
    hw_thread_enter(HW_THREAD_IO);
    switch (act) {
    case ACT_ALLOWED: {
        /* What an I/O worker does: write, read, poll, malloc, clocks. */
        char c = 'x';
        struct pollfd pfd = {.fd = p[0], .events = POLLIN};
        if (write(p[1], &c, 1) != 1 || poll(&pfd, 1, 1000) != 1 || read(p[0], &c, 1) != 1)
            _exit(13);
        void *big = malloc(1 << 20);
        if (!big)
            _exit(14);
        free(big);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        _exit(0);
    }
    case ACT_GETCWD:
        syscall(SYS_getcwd, (char[64]){0}, 64);
        _exit(0);
    case ACT_SOCKET:
        syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
        _exit(0);
    case ACT_IOCTL:
        syscall(SYS_ioctl, 0, 0x5401 /* TCGETS: not an I/O worker's */, NULL);
        _exit(0);
    default:
        _exit(15);
    }
}

/* Forks a child that runs child(); its status in *status, its stderr in buf. */
static void run_child(bool enabled, const char *test_kind, int *status, char *buf, size_t len)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(p[1], STDERR_FILENO);
        close(p[0]);
        close(p[1]);
        child(enabled, test_kind);
    }
    close(p[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < len && (r = read(p[0], buf + n, len - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    close(p[0]);
    ck_assert_int_eq(waitpid(pid, status, 0), pid);
}

START_TEST(test_forbidden_syscall_exits_with_message)
{
    char buf[1024];
    int st;
    act = ACT_SOCKET;
    run_child(true, NULL, &st, buf, sizeof(buf));
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %#x, stderr: %s", st, buf);
    char want[128];
    snprintf(want, sizeof(want), "minivmm: sandbox: thread io made forbidden syscall socket (%d)\n",
             SYS_socket);
    ck_assert_str_eq(buf, want);
}
END_TEST

START_TEST(test_ioctl_requests_filtered)
{
    char buf[1024];
    int st;
    act = ACT_IOCTL;
    run_child(true, NULL, &st, buf, sizeof(buf));
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %#x, stderr: %s", st, buf);
    ck_assert_ptr_nonnull(strstr(buf, "thread io made forbidden syscall ioctl"));
}
END_TEST

START_TEST(test_allowed_calls_go_through)
{
    char buf[1024];
    int st;
    act = ACT_ALLOWED;
    run_child(true, NULL, &st, buf, sizeof(buf));
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x, stderr: %s", st, buf);
    ck_assert_str_eq(buf, "");
    /* getcwd is not an I/O worker's: the child dies on it with the message... */
    act = ACT_GETCWD;
    run_child(true, NULL, &st, buf, sizeof(buf));
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %#x, stderr: %s", st, buf);
    ck_assert_ptr_nonnull(strstr(buf, "forbidden syscall getcwd"));
    /* ...and does its work without the sandbox. */
    run_child(false, NULL, &st, buf, sizeof(buf));
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x, stderr: %s", st, buf);
    ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_filter_is_per_thread)
{
    char buf[1024];
    int st;
    act = ACT_THREAD_SOCKET;
    run_child(true, NULL, &st, buf, sizeof(buf));
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %#x, stderr: %s", st, buf);
    ck_assert_ptr_nonnull(strstr(buf, "thread vcpu made forbidden syscall socket"));
}
END_TEST

START_TEST(test_trigger)
{
    char buf[1024];
    int st;
    act = ACT_ALLOWED;
    /* With the sandbox: the trigger's socket(2) is refused. */
    run_child(true, "io", &st, buf, sizeof(buf));
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %#x, stderr: %s", st, buf);
    ck_assert_ptr_nonnull(strstr(buf, "minivmm: sandbox: test: thread io calls socket(2)\n"));
    ck_assert_ptr_nonnull(strstr(buf, "thread io made forbidden syscall socket"));
    /* Without: it goes through and says so. */
    run_child(false, "io", &st, buf, sizeof(buf));
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x, stderr: %s", st, buf);
    ck_assert_ptr_nonnull(strstr(buf, "socket(2) went through (no sandbox)"));
    /* A trigger for another kind does nothing here. */
    run_child(false, "vcpu", &st, buf, sizeof(buf));
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x, stderr: %s", st, buf);
    ck_assert_str_eq(buf, "");
}
END_TEST

/* ---- docs/security.md ---- */

START_TEST(test_docs_show_the_rules)
{
    char *rules = NULL, *doc = NULL;
    size_t rlen = 0, dlen = 0;
    FILE *m = open_memstream(&rules, &rlen);
    ck_assert_ptr_nonnull(m);
    sandbox_print_rules(m);
    fclose(m);

    FILE *f = fopen(SOURCE_ROOT "/docs/security.md", "r");
    ck_assert_msg(f != NULL, "cannot open docs/security.md");
    m = open_memstream(&doc, &dlen);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        fwrite(buf, 1, n, m);
    fclose(f);
    fclose(m);
    ck_assert_msg(strstr(doc, rules) != NULL,
                  "docs/security.md does not show the allowlists; replace its block with "
                  "the output of build/tests/unit/test_sandbox --rules:\n%s",
                  rules);
    free(rules);
    free(doc);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sandbox");
    TCase *tc = tcase_create("filters");
    tcase_add_loop_test(tc, test_filter_builds, 0, HW_THREAD_NKINDS);
    tcase_add_test(tc, test_kind_names);
    tcase_add_test(tc, test_syscall_names);
    tcase_add_test(tc, test_bad_test_kind);
    suite_add_tcase(s, tc);
    tc = tcase_create("confined");
    tcase_add_test(tc, test_forbidden_syscall_exits_with_message);
    tcase_add_test(tc, test_ioctl_requests_filtered);
    tcase_add_test(tc, test_allowed_calls_go_through);
    tcase_add_test(tc, test_filter_is_per_thread);
    tcase_add_test(tc, test_trigger);
    suite_add_tcase(s, tc);
    tc = tcase_create("docs");
    tcase_add_test(tc, test_docs_show_the_rules);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--rules") == 0) {
        sandbox_print_rules(stdout);
        return 0;
    }
    SRunner *sr = srunner_create(suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
