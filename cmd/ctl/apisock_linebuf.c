/*
 * apisock_linebuf.c: the control socket's line framing (apisock.h): a byte stream into lines of
 * at most APISOCK_MAX_LINE bytes; a longer line is discarded up to its newline and reported
 * once, so one bad request never desynchronises the ones after it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "apisock.h"

void apisock_linebuf_feed(struct apisock_linebuf *lb, const char *data, size_t n,
                          apisock_line_fn fn, void *opaque)
{
    while (n) {
        const char *nl = memchr(data, '\n', n);
        size_t take = nl ? (size_t)(nl - data) : n;
        if (!lb->discarding) {
            if (lb->len + take > APISOCK_MAX_LINE) {
                lb->discarding = true;
                lb->len = 0;
            } else {
                memcpy(lb->buf + lb->len, data, take);
                lb->len += take;
            }
        }
        if (!nl)
            return;
        if (lb->discarding)
            fn(opaque, NULL, 0, true);
        else
            fn(opaque, lb->buf, lb->len, false);
        lb->len = 0;
        lb->discarding = false;
        data = nl + 1;
        n -= take + 1;
    }
}
