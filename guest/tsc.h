/*
 * tsc.h: time from the TSC, for bounded waits.
 */
#ifndef GUEST_TSC_H
#define GUEST_TSC_H

#include <stdint.h>

/* TSC ticks per second (cached after the first call). */
uint64_t tsc_hz(void);
/* The TSC value `us` microseconds from now. */
uint64_t tsc_deadline_us(uint64_t us);

#endif
