/*
 * test_nic.c: the run-time control API of the NICs (src/nic.h: nic_vf_count, nic_vf_info,
 * nic_vf_set, nic_uplink_set_link) on NICs built by nic_create_all() without /dev/kvm:
 * notify=exit (no ioeventfd, no vm_fd), a split-mode irqchip whose IOAPIC delivers nowhere, a
 * plain bus and 16 MiB of guest memory. Checks VF numbering across NICs, values with the --nic
 * syntax and their one-line errors, link state (disable, enable, auto following the uplink) and
 * max_tx_rate read back, and a dgram uplink opened through --nic. CK_FORK.
 */
#include <arpa/inet.h>
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "minivmm/hw/bus.h"
#include "minivmm/hw/gmem.h"
#include "ioapic.h"
#include "irqchip.h"
#include "machine.h"
#include "minivmm/util.h"
#include "nic.h"

static struct gmem gm;
static struct bus bus;
static struct machine mach;
static struct ioapic ioapic;
static struct irqchip ic;
static struct nics *nics;
static char err[256];

static void fake_route(void *opaque, unsigned pin, const struct ioapic_msi *msi, bool masked)
{
}

static int fake_deliver(void *opaque, unsigned pin, const struct ioapic_msi *msi)
{
    return 0;
}

static const struct ioapic_ops fake_ioapic = {.route = fake_route, .deliver = fake_deliver};

/* ---- which mutexes were initialised: the unwinding test's witness ----
 * The test binary's pthread_mutex_init/destroy stand in for libc's (the code under test is
 * linked in statically, so its calls land here) and, while `mutex_watch` is set, count
 * destroys of mutexes that were never initialised: glibc accepts those silently. */
static bool mutex_watch;
static pthread_mutex_t *mutex_live[4096];
static unsigned mutex_nlive, mutex_bad_destroys;

int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
    static int (*real)(pthread_mutex_t *, const pthread_mutexattr_t *);
    if (!real)
        real = (int (*)(pthread_mutex_t *, const pthread_mutexattr_t *))dlsym(
            RTLD_NEXT, "pthread_mutex_init");
    if (mutex_watch && mutex_nlive < ARRAY_SIZE(mutex_live))
        mutex_live[mutex_nlive++] = m;
    return real(m, a);
}

int pthread_mutex_destroy(pthread_mutex_t *m)
{
    static int (*real)(pthread_mutex_t *);
    if (!real)
        real = (int (*)(pthread_mutex_t *))dlsym(RTLD_NEXT, "pthread_mutex_destroy");
    if (mutex_watch) {
        unsigned i = 0;
        while (i < mutex_nlive && mutex_live[i] != m)
            i++;
        if (i == mutex_nlive)
            mutex_bad_destroys++;
        else
            mutex_live[i] = mutex_live[--mutex_nlive];
    }
    return real(m);
}

static void setup(void)
{
    ck_assert_int_eq(gmem_init(&gm, 16u << 20), 0);
    bus_init(&bus);
    memset(&ic, 0, sizeof(ic));
    ic.mode = KVM_IRQCHIP_SPLIT;
    ic.vm_fd = -1;
    ic.ioapic = &ioapic;
    ck_assert_int_eq(ioapic_init(&ioapic, &fake_ioapic, NULL), 0);
    machine_init(&mach, 1, &gm, &bus);
    nics = NULL;
}

static void teardown(void)
{
    ck_assert_int_eq(nic_destroy_all(nics, NULL), 0);
    gmem_destroy(&gm);
}

static void create(const char *a, const char *b)
{
    const char *specs[2] = {a, b};
    int r = nic_create_all(&nics, specs, b ? 2 : 1, &mach, &ic, &gm, -1, err, sizeof(err));
    ck_assert_msg(r == 0, "nic_create_all: %s", err);
}

static struct nic_vf_info info(unsigned vf)
{
    struct nic_vf_info v;
    ck_assert_int_eq(nic_vf_info(nics, vf, &v), 0);
    return v;
}

START_TEST(test_numbering_and_start_values)
{
    create("vfs=2,notify=exit,mac=02:00:00:00:01:00,vf1.state=disable,vf0.max_tx_rate=5",
           "vfs=1,notify=exit,vf0.state=enable,vf0.vlan=7");
    ck_assert_int_eq(nic_vf_count(nics), 3);
    ck_assert_int_eq(nic_vf_count(NULL), 0);
    struct nic_vf_info v = info(0);
    ck_assert_uint_eq(v.nic, 0);
    ck_assert_uint_eq(v.index, 0);
    ck_assert_uint_eq(v.mac[5], 0);
    ck_assert_uint_eq(v.max_tx_rate, 5);
    ck_assert_str_eq(v.state_name, "auto");
    ck_assert(v.link_up);
    ck_assert(v.spoofchk);
    ck_assert(!v.trust);
    v = info(1);
    ck_assert_uint_eq(v.mac[5], 1);
    ck_assert_int_eq(v.state, NIC_VF_STATE_DISABLE);
    ck_assert_str_eq(v.state_name, "disable");
    ck_assert(!v.link_up);
    v = info(2);
    ck_assert_uint_eq(v.nic, 1);
    ck_assert_uint_eq(v.index, 0);
    ck_assert_uint_eq(v.vlan, 7);
    ck_assert_int_eq(v.state, NIC_VF_STATE_ENABLE);
    ck_assert_int_eq(nic_vf_info(nics, 3, &v), -EINVAL);
    ck_assert_int_eq(nic_vf_info(NULL, 0, &v), -EINVAL);
    ck_assert_str_eq(nic_drop_name(0), "spoof");
    ck_assert_ptr_null(nic_drop_name(NIC_DROP_NR));
}
END_TEST

START_TEST(test_set_values)
{
    create("vfs=2,notify=exit,mac=02:00:00:00:01:00", NULL);
    ck_assert_int_eq(nic_vf_set(nics, 0, "max_tx_rate", "250", err, sizeof(err)), 0);
    ck_assert_uint_eq(info(0).max_tx_rate, 250);
    ck_assert_int_eq(nic_vf_set(nics, 0, "vlan", "12", err, sizeof(err)), 0);
    ck_assert_uint_eq(info(0).vlan, 12);
    ck_assert_int_eq(nic_vf_set(nics, 1, "spoofchk", "off", err, sizeof(err)), 0);
    ck_assert(!info(1).spoofchk);
    ck_assert_int_eq(nic_vf_set(nics, 1, "trust", "on", err, sizeof(err)), 0);
    ck_assert(info(1).trust);
    ck_assert_int_eq(nic_vf_set(nics, 1, "mac", "02:00:00:00:02:09", err, sizeof(err)), 0);
    ck_assert_uint_eq(info(1).mac[4], 2);
    ck_assert_uint_eq(info(1).mac[5], 9);
    /* The same MAC in the same VLAN: refused, with a reason. */
    ck_assert_int_eq(nic_vf_set(nics, 0, "vlan", "0", err, sizeof(err)), 0);
    ck_assert_int_eq(nic_vf_set(nics, 0, "mac", "02:00:00:00:02:09", err, sizeof(err)),
                     -EADDRINUSE);
    ck_assert_str_eq(err, "vf0: mac: '02:00:00:00:02:09' is used by another VF in the same VLAN");
}
END_TEST

START_TEST(test_set_errors)
{
    create("vfs=1,notify=exit", NULL);
    ck_assert_int_eq(nic_vf_set(nics, 0, "max_tx_rate", "fast", err, sizeof(err)), -EINVAL);
    ck_assert_str_eq(err, "max_tx_rate: 'fast' is not a rate in Mbit/s (0-1000000, 0 = unlimited)");
    ck_assert_int_eq(nic_vf_set(nics, 0, "state", "up", err, sizeof(err)), -EINVAL);
    ck_assert_str_eq(err, "state: 'up' is not one of auto, enable, disable");
    ck_assert_int_eq(nic_vf_set(nics, 0, "pcap", "/tmp/x", err, sizeof(err)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "'pcap': unknown key"));
    ck_assert_int_eq(nic_vf_set(nics, 0, "mac", "01:00:00:00:00:01", err, sizeof(err)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "multicast"));
    ck_assert_int_eq(nic_vf_set(nics, 1, "vlan", "1", err, sizeof(err)), -EINVAL);
    ck_assert_str_eq(err, "vf1: no such VF (1 VFs)");
    ck_assert_int_eq(nic_vf_set(nics, 0, "vlan", NULL, err, sizeof(err)), -EINVAL);
    ck_assert_int_eq(nic_vf_set(NULL, 0, "vlan", "1", err, sizeof(err)), -EINVAL);
    ck_assert(!strchr(err, '\n'));
}
END_TEST

START_TEST(test_link_state)
{
    create("vfs=2,notify=exit", NULL);
    ck_assert_int_eq(nic_vf_set(nics, 0, "state", "disable", err, sizeof(err)), 0);
    ck_assert(!info(0).link_up);
    ck_assert_int_eq(nic_vf_set(nics, 0, "state", "auto", err, sizeof(err)), 0);
    ck_assert(info(0).link_up);
    ck_assert_int_eq(nic_vf_set(nics, 1, "state", "enable", err, sizeof(err)), 0);
    /* The uplink goes down: auto follows it, enable stays up. */
    ck_assert_int_eq(nic_uplink_set_link(nics, 0, false), 0);
    ck_assert(!info(0).link_up);
    ck_assert(info(1).link_up);
    ck_assert_int_eq(nic_uplink_set_link(nics, 0, true), 0);
    ck_assert(info(0).link_up);
    ck_assert_int_eq(nic_uplink_set_link(nics, 1, true), -EINVAL);
}
END_TEST

static unsigned free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    return ntohs(a.sin_port);
}

START_TEST(test_dgram_uplink_via_nic)
{
    char spec[96];
    unsigned p = free_port();

    snprintf(spec, sizeof(spec), "vfs=1,notify=exit,uplink=dgram:%u:%u", p, p + 1);
    create(spec, NULL);
    /* The port is taken now: a second NIC on it fails with the reason, and frees everything. */
    struct nics *other = NULL;
    const char *specs[1] = {spec};
    static struct bus bus2;
    static struct machine mach2;
    bus_init(&bus2);
    machine_init(&mach2, 1, &gm, &bus2);
    ck_assert_int_eq(nic_create_all(&other, specs, 1, &mach2, &ic, &gm, -1, err, sizeof(err)),
                     -EADDRINUSE);
    ck_assert_ptr_null(other);
    ck_assert_ptr_nonnull(strstr(err, "cannot bind 127.0.0.1"));
}
END_TEST

/* A VF's irqfd cannot be set up (KVM refuses: here no VM fd): nic_create_all() fails with the
 * reason and its unwinding destroys only what it created, no device that was never initialised. */
START_TEST(test_irqfd_failure_unwinds)
{
    const char *specs[1] = {"vfs=2,notify=exit"};
    for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++)
        ic.irqfd[i] = -1; /* none bound yet: irqchip_enable_irqfd() asks KVM */
    mutex_watch = true;
    int r = nic_create_all(&nics, specs, 1, &mach, &ic, &gm, -1, err, sizeof(err));
    mutex_watch = false;
    ck_assert_int_eq(r, -EBADF);
    ck_assert_ptr_null(nics);
    ck_assert_ptr_nonnull(strstr(err, "IRQFD"));
    ck_assert_uint_eq(mutex_bad_destroys, 0);
    ck_assert_uint_eq(mutex_nlive, 0); /* and everything it created was destroyed */
}
END_TEST

static Suite *nic_suite(void)
{
    Suite *s = suite_create("nic");
    TCase *tc = tcase_create("control");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_numbering_and_start_values);
    tcase_add_test(tc, test_set_values);
    tcase_add_test(tc, test_set_errors);
    tcase_add_test(tc, test_link_state);
    tcase_add_test(tc, test_dgram_uplink_via_nic);
    tcase_add_test(tc, test_irqfd_failure_unwinds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(nic_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
