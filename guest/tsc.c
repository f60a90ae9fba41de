/*
 * tsc.c: TSC frequency for bounded waits (AP start-up, UART set-up).
 *
 * The rate comes from KVM's timing leaf 0x40000010 (EAX = TSC kHz) when the VMM provides it;
 * otherwise we assume 3 GHz, which makes waits ~20% long on our 2.45 GHz hosts and short on
 * faster ones: fine for timeouts, never use it to measure. (There is no PIT to calibrate
 * against, and a calibration loop would itself be emulated.)
 */
#include "tsc.h"

#include "x86.h"

#define DEFAULT_TSC_HZ 3000000000ull

static uint64_t hz;

uint64_t tsc_hz(void)
{
    uint32_t a, b, c, d;

    if (hz)
        return hz;
    hz = DEFAULT_TSC_HZ;
    cpuid(0x40000000, &a, &b, &c, &d);
    if (a >= 0x40000010 && a < 0x40000100) {
        cpuid(0x40000010, &a, &b, &c, &d);
        if (a)
            hz = (uint64_t)a * 1000;
    }
    return hz;
}

uint64_t tsc_deadline_us(uint64_t us)
{
    return rdtsc() + tsc_hz() / 1000000 * us;
}
