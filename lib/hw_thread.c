/*
 * hw_thread.c: the thread-start hook of include/minivmm/hw/thread.h.
 *
 * The hook is set by the main thread before it starts any other thread (pthread_create orders
 * the store before the new thread's load), and read by each thread once at its start.
 */
#include <stddef.h>

#include "minivmm/hw/thread.h"

static hw_thread_hook hook;

void hw_thread_set_hook(hw_thread_hook h)
{
    hook = h;
}

void hw_thread_enter(enum hw_thread_kind kind)
{
    if (hook)
        hook(kind);
}
