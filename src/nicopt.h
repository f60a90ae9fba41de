/*
 * nicopt.h: the --nic option (an SR-IOV-style NIC: a PF switch with VFs and an uplink), parsed
 * from one untrusted string into a struct nic_config. Several --nic options make several NICs;
 * each string is parsed on its own.
 *
 * Grammar (nicopt_help has the user's version): comma-separated key=value items, each key at
 * most once, in any order:
 *   vfs=N                     1..NICOPT_MAX_VFS (required)
 *   uplink=sink|pcap:FILE|dgram:LOCAL_PORT:REMOTE_PORT|tap:NAME|tap-fd:N   default sink
 *   mac=BASE                  VF n gets BASE + n; default: a random locally administered base
 *   notify=ioeventfd|exit     how a guest's queue notification reaches the device
 *   event_idx=on|off          offer VIRTIO_F_EVENT_IDX
 *   vfK.mac=M  vfK.vlan=ID  vfK.spoofchk=on|off  vfK.trust=on|off  vfK.pcap=FILE   (K < vfs)
 *   vfK.state=auto|enable|disable  vfK.max_tx_rate=MBIT (0 = unlimited)
 *   ne2000=on|off             an emulated NE2000 on this switch (one per VM)
 *   ne2000.port=0xNNN         its ISA I/O base: 0x200-0x3c0 in steps of 0x20 (default 0x300)
 *   ne2000.irq=N              its IRQ: 3, 5, 7, 9, 10, 11, 12 or 15 (default 9)
 * FILE cannot contain ','. Errors are one line: "--nic: KEY: 'VALUE' ...".
 */
#ifndef MINIVMM_NICOPT_H
#define MINIVMM_NICOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NICOPT_MAX_VFS 8 /* = PFSWITCH_MAX_VFS */

enum nic_uplink {
    NIC_UPLINK_SINK,
    NIC_UPLINK_PCAP,
    NIC_UPLINK_DGRAM,
    NIC_UPLINK_TAP,
    NIC_UPLINK_TAP_FD
};
enum nic_notify { NIC_NOTIFY_IOEVENTFD, NIC_NOTIFY_EXIT };

struct nic_vf_config {
    uint8_t mac[6]; /* final: vfK.mac, or the base + K */
    bool mac_set;   /* vfK.mac was given */
    unsigned vlan;  /* 0 = none */
    bool spoofchk;  /* default on */
    bool trust;     /* default off */
    char *pcap;     /* vfK.pcap FILE or NULL (owned: nicopt_free) */
    unsigned state; /* 0 auto (default), 1 enable, 2 disable: enum nic_vf_state / IFLA order */
    unsigned max_tx_rate; /* Mbit/s, 0 = unlimited (default) */
};

struct nic_config {
    unsigned vfs;
    enum nic_uplink uplink;
    char *uplink_pcap;                  /* pcap:FILE (owned) */
    char *uplink_tap;                   /* tap:NAME (owned) */
    unsigned dgram_local, dgram_remote; /* dgram:L:R, 1-65535 */
    int tap_fd;                         /* tap-fd:N */
    uint8_t mac_base[6];
    bool mac_base_set;      /* mac= was given (else mac_base is the generated default) */
    enum nic_notify notify; /* default ioeventfd */
    bool event_idx;         /* default on */
    bool ne2000;            /* ne2000=on: an NE2000 port (MAC base + vfs) beside the VFs */
    unsigned ne2000_port;   /* ne2000.port=: ISA I/O base (default MINIVMM_NE2000_PORT) */
    unsigned ne2000_irq;    /* ne2000.irq=: IOAPIC pin (default MINIVMM_NE2000_IRQ) */
    uint8_t ne2000_mac[6];  /* with ne2000=on: MAC base + vfs, no VF's MAC */
    struct nic_vf_config vf[NICOPT_MAX_VFS];
};

extern const char *const nicopt_help;

/* Parse one --nic value. 0, or -EINVAL with one line (no newline) in err, and *cfg holds nothing
 * to free. On success release with nicopt_free(). */
int nicopt_parse(const char *s, struct nic_config *cfg, char *err, size_t errlen);
void nicopt_free(struct nic_config *cfg);

/* The default MAC base: first octet locally administered and unicast (0x02 set, 0x01 clear) with
 * random bits, the process ID in octets 2..4 (two live processes of one host never collide),
 * random bits and a per-process NIC counter in octet 5 (bits 7:3; bits 2:0 are the VF index,
 * so base + n never carries). getrandom(), falling back to the clock. */
void nicopt_default_mac_base(uint8_t mac[6]);

/* A run-time value for a per-VF key (mac, vlan, spoofchk, trust, state, max_tx_rate; not pcap)
 * with the syntax of --nic's vfK.<key>, stored into *vf (only that field changes). 0, or
 * -EINVAL with one line in err ("KEY: 'VALUE' is not ..."). */
int nicopt_parse_vf_value(const char *key, const char *value, struct nic_vf_config *vf, char *err,
                          size_t errlen);

/* "xx:xx:xx:xx:xx:xx", exactly (hex digits of either case): 0 or -EINVAL. */
int nicopt_parse_mac(const char *s, uint8_t mac[6]);

#endif
