/*
 * test_nicopt.c: unit tests of the --nic option parser (src/nicopt.c).
 *
 * A table of good strings with the fields they must produce and a table of bad ones with a
 * substring their one-line error must contain (the key and the offending value), run with
 * tcase_add_loop_test; plus the default MAC base rules and the help text. CK_FORK.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nicopt.h"
#include "minivmm/util.h"

struct good {
    const char *s;
    unsigned vfs;
    enum nic_uplink uplink;
    const char *uplink_pcap;
    enum nic_notify notify;
    bool event_idx;
    int vf;             /* a VF to check, or -1 */
    const char *vf_mac; /* expected MAC of that VF, or NULL */
    unsigned vf_vlan;
    bool vf_spoofchk, vf_trust;
    const char *vf_pcap;
};

static const struct good goods[] = {
    {"vfs=1", 1, NIC_UPLINK_SINK, NULL, NIC_NOTIFY_IOEVENTFD, true, 0, NULL, 0, true, false, NULL},
    {"vfs=8,uplink=sink", 8, NIC_UPLINK_SINK, NULL, NIC_NOTIFY_IOEVENTFD, true, 7, NULL, 0, true,
     false, NULL},
    {"uplink=pcap:/tmp/x.pcap,vfs=2", 2, NIC_UPLINK_PCAP, "/tmp/x.pcap", NIC_NOTIFY_IOEVENTFD, true,
     -1, NULL, 0, true, false, NULL},
    {"vfs=4,mac=02:00:00:00:00:10", 4, NIC_UPLINK_SINK, NULL, NIC_NOTIFY_IOEVENTFD, true, 3,
     "02:00:00:00:00:13", 0, true, false, NULL},
    {"vfs=3,mac=06:00:00:00:00:ff", 3, NIC_UPLINK_SINK, NULL, NIC_NOTIFY_IOEVENTFD, true, 2,
     "06:00:00:00:01:01", 0, true, false, NULL}, /* carries within the low octets */
    {"vfs=2,notify=exit,event_idx=off", 2, NIC_UPLINK_SINK, NULL, NIC_NOTIFY_EXIT, false, -1, NULL,
     0, true, false, NULL},
    {"vfs=2,vf1.vlan=4094,vf1.spoofchk=off,vf1.trust=on,vf1.pcap=vf1.pcap", 2, NIC_UPLINK_SINK,
     NULL, NIC_NOTIFY_IOEVENTFD, true, 1, NULL, 4094, false, true, "vf1.pcap"},
    {"vfs=2,vf0.mac=0A:BB:cc:dd:EE:ff,mac=02:00:00:00:00:00", 2, NIC_UPLINK_SINK, NULL,
     NIC_NOTIFY_IOEVENTFD, true, 0, "0a:bb:cc:dd:ee:ff", 0, true, false, NULL},
    {"vfs=2,vf0.mac=0A:BB:cc:dd:EE:ff,mac=02:00:00:00:00:00", 2, NIC_UPLINK_SINK, NULL,
     NIC_NOTIFY_IOEVENTFD, true, 1, "02:00:00:00:00:01", 0, true, false, NULL},
    {"vf0.vlan=0,vfs=1,uplink=pcap:a,vf0.pcap=b", 1, NIC_UPLINK_PCAP, "a", NIC_NOTIFY_IOEVENTFD,
     true, 0, NULL, 0, true, false, "b"},
};

struct bad {
    const char *s;
    const char *err; /* substring */
};

static const struct bad bads[] = {
    {"", "--nic: empty value"},
    {NULL, "--nic: empty value"},
    {"vfs=0", "--nic: vfs: '0' is not a VF count (1-8"},
    {"vfs=9", "vfs: '9' is not a VF count (1-8: the switch has 8 VF ports)"},
    {"vfs=-1", "vfs: '-1' is not a VF count"},
    {"vfs=02", "vfs: '02' is not"},
    {"vfs= 2", "vfs: ' 2' is not"},
    {"vfs=2x", "vfs: '2x' is not"},
    {"vfs=99999999999", "vfs: '99999999999' is not"},
    {"vfs", "--nic: 'vfs': expected key=value"},
    {"uplink=sink", "--nic: vfs: missing"},
    {"vfs=4,vf3.vlan=5000", "--nic: vf3.vlan: '5000' is not a VLAN ID (0-4094)"},
    {"vfs=4,vf3.vlan=4095", "--nic: vf3.vlan: '4095' is not a VLAN ID (0-4094)"},
    {"vfs=4,vf3.vlan=", "--nic: vf3.vlan: '' is not a VLAN ID"},
    {"vfs=2,vf2.mac=02:00:00:00:00:01", "--nic: vf2.mac: no VF 2 with vfs=2 (vf0..vf1)"},
    {"vf5.trust=on,vfs=3", "--nic: vf5.trust: no VF 5 with vfs=3"},
    {"vfs=2,vf8.trust=on", "--nic: vf8.trust: no VF 8 (at most 8 VFs"},
    {"vfs=2,vf01.trust=on", "'vf01.trust': bad VF number"},
    {"vfs=2,vf.trust=on", "'vf.trust': bad VF number"},
    {"vfs=2,vfx.trust=on", "'vfx.trust': bad VF number"},
    {"vfs=2,vf0.trust=yes", "--nic: vf0.trust: 'yes' is not on or off"},
    {"vfs=2,vf0.spoofchk=ON", "--nic: vf0.spoofchk: 'ON' is not on or off"},
    {"vfs=2,event_idx=1", "--nic: event_idx: '1' is not on or off"},
    {"vfs=2,notify=poll", "--nic: notify: 'poll' is not one of ioeventfd, exit"},
    {"vfs=2,uplink=tap",
     "--nic: uplink: 'tap' is not sink, pcap:FILE, dgram:L:R, tap:NAME or tap-fd:N"},
    {"vfs=2,uplink=pcap:", "--nic: uplink: 'pcap:' has no FILE"},
    {"vfs=2,vf0.mac=01:00:5e:00:00:01", "vf0.mac: '01:00:5e:00:00:01' is a multicast address"},
    {"vfs=2,mac=03:00:00:00:00:00", "mac: '03:00:00:00:00:00' is a multicast address"},
    {"vfs=2,vf0.mac=00:00:00:00:00:00", "vf0.mac: '00:00:00:00:00:00' is the all-zero address"},
    {"vfs=2,vf0.mac=02:00:00:00:00", "vf0.mac: '02:00:00:00:00' is not a MAC address"},
    {"vfs=2,vf0.mac=02:00:00:00:00:0g", "is not a MAC address (xx:xx:xx:xx:xx:xx)"},
    {"vfs=2,vf0.mac=02-00-00-00-00-01", "is not a MAC address"},
    {"vfs=2,vf0.mac=2:0:0:0:0:1", "is not a MAC address"},
    {"vfs=2,vf0.mac=02:00:00:00:00:011", "is not a MAC address"},
    {"vfs=8,mac=02:ff:ff:ff:ff:fc", "mac: '02:ff:ff:ff:ff:fc' + 7 VFs would carry into the first"},
    {"vfs=2,mac=02:00:00:00:00:10,vf1.mac=02:00:00:00:00:10",
     "vf1.mac: '02:00:00:00:00:10' is also vf0's MAC"},
    {"vfs=2,mac=02:00:00:00:00:10,vf0.mac=02:00:00:00:00:11",
     "vf0.mac: '02:00:00:00:00:11' is also vf1's MAC"},
    {"vfs=2,vfs=3", "--nic: vfs: given twice"},
    {"vfs=2,vf1.vlan=3,vf1.vlan=3", "--nic: vf1.vlan: given twice"},
    {"vfs=2,mac=02:00:00:00:00:10,mac=02:00:00:00:00:10", "--nic: mac: given twice"},
    {"vfs=2,speed=10", "--nic: 'speed': unknown key (known: vfs, uplink, mac"},
    {"vfs=2,vf0.min_tx_rate=100", "'vf0.min_tx_rate': unknown key"},
    {"vfs=2,ne2000=yes", "--nic: ne2000: 'yes' is not on or off"},
    {"vfs=2,ne2000=on,ne2000=off", "--nic: ne2000: given twice"},
    {"vfs=1,ne2000=on,ne2000.port=0x310", "ne2000.port: '0x310' is not an ISA I/O base"},
    {"vfs=1,ne2000=on,ne2000.port=0x3e0", "ne2000.port: '0x3e0' is not an ISA I/O base"},
    {"vfs=1,ne2000=on,ne2000.port=0x1e0", "ne2000.port: '0x1e0' is not an ISA I/O base"},
    {"vfs=1,ne2000=on,ne2000.port=", "ne2000.port: '' is not an ISA I/O base"},
    {"vfs=1,ne2000=on,ne2000.irq=4", "ne2000.irq: '4' is not an NE2000 IRQ"},
    {"vfs=1,ne2000=on,ne2000.irq=16", "ne2000.irq: '16' is not an NE2000 IRQ"},
    {"vfs=1,ne2000=on,ne2000.irq=09", "ne2000.irq: '09' is not an NE2000 IRQ"},
    /* the NE2000 takes base + vfs */
    {"vfs=3,ne2000=on,mac=02:ff:ff:ff:ff:fd", "mac: '02:ff:ff:ff:ff:fd' + 3 VFs would carry"},
    /* The NE2000 takes MAC base + vfs: a VF given that MAC clashes, refused at parse time. */
    {"vfs=2,ne2000=on,mac=02:00:00:00:01:00,vf0.mac=02:00:00:00:01:02",
     "vf0.mac: '02:00:00:00:01:02' is also the NE2000's MAC (MAC base + vfs)"},
    {"vfs=2,", "--nic: empty item"},
    {",vfs=2", "--nic: empty item"},
    {"vfs=2,,uplink=sink", "--nic: empty item"},
    {"vfs=2,vf0.pcap=", "--nic: vf0.pcap: empty file name"},
    {"vfs=2,uplink=pcap:x,vf1.pcap=x", "vf1.pcap: 'x' is also the uplink's capture file"},
    {"vfs=2,vf0.pcap=y,vf1.pcap=y", "vf1.pcap: 'y' is also vf0's capture file"},
    {"vfs=2,vf0.trust=\x1b[31mred", "vf0.trust: '?[31mred' is not on or off"},
    {"vfs=1,uplink=dgram:1", "uplink: 'dgram:1' is not dgram:LOCAL_PORT:REMOTE_PORT"},
    {"vfs=1,uplink=dgram:0:5", "is not dgram:LOCAL_PORT:REMOTE_PORT (ports 1-65535)"},
    {"vfs=1,uplink=dgram:5:65536", "is not dgram:LOCAL_PORT:REMOTE_PORT"},
    {"vfs=1,uplink=tap:", "uplink: 'tap:': a tap name has 1-15 characters"},
    {"vfs=1,uplink=tap:abcdefghijklmnop", "a tap name has 1-15 characters"},
    {"vfs=1,uplink=tap-fd:x", "is not tap-fd:N"},
    {"vfs=1,uplink=udp", "is not sink, pcap:FILE, dgram:L:R, tap:NAME or tap-fd:N"},
    {"vfs=1,vf0.state=down", "vf0.state: 'down' is not one of auto, enable, disable"},
    {"vfs=1,vf0.max_tx_rate=1000001", "vf0.max_tx_rate: '1000001' is not a rate in Mbit/s"},
    {"vfs=1,vf0.max_tx_rate=-1", "vf0.max_tx_rate: '-1' is not"},
    {"vfs=2,notify=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is not one of"},
};

static void mac_str(const uint8_t *m, char *buf)
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

START_TEST(test_good)
{
    const struct good *g = &goods[_i];
    struct nic_config c;
    char err[256] = "";

    ck_assert_msg(nicopt_parse(g->s, &c, err, sizeof(err)) == 0, "'%s': %s", g->s, err);
    ck_assert_uint_eq(c.vfs, g->vfs);
    ck_assert_int_eq(c.uplink, g->uplink);
    if (g->uplink_pcap)
        ck_assert_str_eq(c.uplink_pcap, g->uplink_pcap);
    else
        ck_assert_ptr_null(c.uplink_pcap);
    ck_assert_int_eq(c.notify, g->notify);
    ck_assert_int_eq(c.event_idx, g->event_idx);
    if (g->vf >= 0) {
        const struct nic_vf_config *v = &c.vf[g->vf];
        char m[18];
        if (g->vf_mac) {
            mac_str(v->mac, m);
            ck_assert_str_eq(m, g->vf_mac);
        }
        ck_assert_uint_eq(v->vlan, g->vf_vlan);
        ck_assert_int_eq(v->spoofchk, g->vf_spoofchk);
        ck_assert_int_eq(v->trust, g->vf_trust);
        if (g->vf_pcap)
            ck_assert_str_eq(v->pcap, g->vf_pcap);
        else
            ck_assert_ptr_null(v->pcap);
    }
    /* every VF gets a unicast, non-zero MAC, all distinct */
    for (unsigned a = 0; a < c.vfs; a++) {
        ck_assert_uint_eq(c.vf[a].mac[0] & 1, 0);
        for (unsigned b = 0; b < a; b++)
            ck_assert(memcmp(c.vf[a].mac, c.vf[b].mac, 6) != 0);
    }
    nicopt_free(&c);
    nicopt_free(&c); /* idempotent */
}
END_TEST

START_TEST(test_bad)
{
    const struct bad *b = &bads[_i];
    struct nic_config c;
    char err[256] = "";

    ck_assert_int_eq(nicopt_parse(b->s, &c, err, sizeof(err)), -EINVAL);
    ck_assert_msg(strstr(err, b->err) != NULL, "'%s': got \"%s\", want \"%s\"", b->s, err, b->err);
    ck_assert_msg(strncmp(err, "--nic: ", 7) == 0, "no --nic: prefix: %s", err);
    ck_assert_ptr_null(strchr(err, '\n'));
    ck_assert_ptr_null(strchr(err, '\x1b'));
    ck_assert_ptr_null(c.uplink_pcap); /* nothing left to free */
    for (unsigned i = 0; i < NICOPT_MAX_VFS; i++)
        ck_assert_ptr_null(c.vf[i].pcap);
}
END_TEST

START_TEST(test_small_err_buffer)
{
    struct nic_config c;
    char err[8];
    memset(err, 'x', sizeof(err));
    ck_assert_int_eq(nicopt_parse("vfs=4,vf3.vlan=5000", &c, err, sizeof(err)), -EINVAL);
    ck_assert_uint_eq(strlen(err), 7);
    ck_assert_int_eq(nicopt_parse("vfs=4,vf3.vlan=5000", &c, NULL, 0), -EINVAL);
}
END_TEST

START_TEST(test_default_mac_base)
{
    struct nic_config a, b;
    char err[256];

    ck_assert_int_eq(nicopt_parse("vfs=8", &a, err, sizeof(err)), 0);
    ck_assert_int_eq(nicopt_parse("vfs=8", &b, err, sizeof(err)), 0);
    ck_assert(!a.mac_base_set);
    /* locally administered, unicast, VF index in the low bits: no carry */
    ck_assert_uint_eq(a.mac_base[0] & 3, 2);
    ck_assert_uint_eq(a.mac_base[5] & 7, 0);
    for (unsigned n = 0; n < 8; n++) {
        ck_assert_mem_eq(a.vf[n].mac, a.mac_base, 5);
        ck_assert_uint_eq(a.vf[n].mac[5], a.mac_base[5] + n);
    }
    /* the process ID is in octets 2..4 */
    unsigned pid = (unsigned)getpid();
    ck_assert_uint_eq(a.mac_base[2], (pid >> 16) & 0xff);
    ck_assert_uint_eq(a.mac_base[3], (pid >> 8) & 0xff);
    ck_assert_uint_eq(a.mac_base[4], pid & 0xff);
    /* two NICs of one process differ */
    ck_assert(memcmp(a.mac_base, b.mac_base, 6) != 0);
    for (unsigned i = 0; i < 8; i++)
        for (unsigned j = 0; j < 8; j++)
            ck_assert(memcmp(a.vf[i].mac, b.vf[j].mac, 6) != 0);
    nicopt_free(&a);
    nicopt_free(&b);
}
END_TEST

START_TEST(test_parse_mac)
{
    uint8_t m[6];
    ck_assert_int_eq(nicopt_parse_mac("fe:dc:ba:98:76:54", m), 0);
    ck_assert_mem_eq(m, ((uint8_t[]){0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54}), 6);
    ck_assert_int_eq(nicopt_parse_mac("fe:dc:ba:98:76:54:", m), -EINVAL);
    ck_assert_int_eq(nicopt_parse_mac("fe:dc:ba:98:76", m), -EINVAL);
    ck_assert_int_eq(nicopt_parse_mac("fe:dc:ba:98:76:5", m), -EINVAL);
    ck_assert_int_eq(nicopt_parse_mac("fe.dc.ba.98.76.54", m), -EINVAL);
    ck_assert_int_eq(nicopt_parse_mac("", m), -EINVAL);
}
END_TEST

START_TEST(test_help_mentions_every_key)
{
    const char *keys[] = {"vfs=",
                          "uplink=sink",
                          "pcap:FILE",
                          "mac=BASE",
                          "notify=",
                          "ioeventfd",
                          "event_idx=",
                          "vfK.mac=",
                          "vfK.vlan=",
                          "vfK.spoofchk=",
                          "vfK.trust=",
                          "vfK.pcap=",
                          "1-8",
                          "0-4094",
                          "dgram:L:R",
                          "tap:NAME",
                          "tap-fd:N",
                          "vfK.state=auto|enable|disable",
                          "vfK.max_tx_rate=MBIT"};
    for (unsigned i = 0; i < ARRAY_SIZE(keys); i++)
        ck_assert_msg(strstr(nicopt_help, keys[i]), "help lacks %s", keys[i]);
    ck_assert(nicopt_help[strlen(nicopt_help) - 1] == '\n');
}
END_TEST

START_TEST(test_new_uplinks_and_vf_keys)
{
    struct nic_config c;
    char err[256];

    ck_assert_int_eq(nicopt_parse("vfs=2,uplink=dgram:4000:4001,vf1.state=disable,"
                                  "vf0.max_tx_rate=25,vf0.state=enable",
                                  &c, err, sizeof(err)),
                     0);
    ck_assert_int_eq(c.uplink, NIC_UPLINK_DGRAM);
    ck_assert_uint_eq(c.dgram_local, 4000);
    ck_assert_uint_eq(c.dgram_remote, 4001);
    ck_assert_uint_eq(c.vf[0].state, 1);
    ck_assert_uint_eq(c.vf[1].state, 2);
    ck_assert_uint_eq(c.vf[0].max_tx_rate, 25);
    ck_assert_uint_eq(c.vf[1].max_tx_rate, 0);
    nicopt_free(&c);
    ck_assert_int_eq(nicopt_parse("vfs=1,uplink=tap:mvtap0", &c, err, sizeof(err)), 0);
    ck_assert_int_eq(c.uplink, NIC_UPLINK_TAP);
    ck_assert_str_eq(c.uplink_tap, "mvtap0");
    nicopt_free(&c);
    ck_assert_int_eq(nicopt_parse("vfs=1,uplink=tap-fd:3", &c, err, sizeof(err)), 0);
    ck_assert_int_eq(c.uplink, NIC_UPLINK_TAP_FD);
    ck_assert_int_eq(c.tap_fd, 3);
    nicopt_free(&c);
}
END_TEST

/* The run-time values (nic_vf_set) use the same table and messages, without "--nic: ". */
START_TEST(test_ne2000_key)
{
    struct nic_config c;
    char err[256] = "";

    ck_assert_int_eq(nicopt_parse("vfs=2", &c, err, sizeof(err)), 0);
    ck_assert(!c.ne2000);
    ck_assert_uint_eq(c.ne2000_port, 0x300); /* abi.h's defaults */
    ck_assert_uint_eq(c.ne2000_irq, 9);
    nicopt_free(&c);
    ck_assert_int_eq(
        nicopt_parse("vfs=1,ne2000=on,ne2000.port=0x280,ne2000.irq=10", &c, err, sizeof(err)), 0);
    ck_assert_uint_eq(c.ne2000_port, 0x280);
    ck_assert_uint_eq(c.ne2000_irq, 10);
    nicopt_free(&c);
    ck_assert_int_eq(nicopt_parse("vfs=1,ne2000=on,ne2000.port=640", &c, err, sizeof(err)), 0);
    ck_assert_uint_eq(c.ne2000_port, 0x280); /* decimal accepted too */
    nicopt_free(&c);
    ck_assert_int_eq(nicopt_parse("vfs=3,ne2000=on,mac=02:ff:ff:ff:ff:fc", &c, err, sizeof(err)),
                     0);
    ck_assert(c.ne2000);
    nicopt_free(&c);
}
END_TEST

START_TEST(test_vf_values)
{
    struct nic_vf_config v;
    char err[256];

    memset(&v, 0, sizeof(v));
    ck_assert_int_eq(nicopt_parse_vf_value("max_tx_rate", "100", &v, err, sizeof(err)), 0);
    ck_assert_uint_eq(v.max_tx_rate, 100);
    ck_assert_int_eq(nicopt_parse_vf_value("state", "disable", &v, err, sizeof(err)), 0);
    ck_assert_uint_eq(v.state, 2);
    ck_assert_int_eq(nicopt_parse_vf_value("mac", "02:00:00:00:00:07", &v, err, sizeof(err)), 0);
    ck_assert_uint_eq(v.mac[5], 7);
    ck_assert_int_eq(nicopt_parse_vf_value("vlan", "4095", &v, err, sizeof(err)), -EINVAL);
    ck_assert_str_eq(err, "vlan: '4095' is not a VLAN ID (0-4094)");
    ck_assert_int_eq(nicopt_parse_vf_value("spoofchk", "yes", &v, err, sizeof(err)), -EINVAL);
    ck_assert_str_eq(err, "spoofchk: 'yes' is not on or off");
    ck_assert_int_eq(nicopt_parse_vf_value("pcap", "/tmp/x", &v, err, sizeof(err)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "unknown key"));
    ck_assert_ptr_null(v.pcap);
}
END_TEST

static Suite *nicopt_suite(void)
{
    Suite *s = suite_create("nicopt");
    TCase *tc = tcase_create("good");
    tcase_add_loop_test(tc, test_good, 0, ARRAY_SIZE(goods));
    tcase_add_test(tc, test_default_mac_base);
    tcase_add_test(tc, test_parse_mac);
    tcase_add_test(tc, test_help_mentions_every_key);
    tcase_add_test(tc, test_new_uplinks_and_vf_keys);
    tcase_add_test(tc, test_vf_values);
    tcase_add_test(tc, test_ne2000_key);
    suite_add_tcase(s, tc);
    tc = tcase_create("bad");
    tcase_add_loop_test(tc, test_bad, 0, ARRAY_SIZE(bads));
    tcase_add_test(tc, test_small_err_buffer);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(nicopt_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
