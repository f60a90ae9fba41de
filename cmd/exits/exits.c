/*
 * exits.c: `minivmm exits FILE [options]`: parse the options, build the report from the log,
 * then draw it (--plot) or print it on stdout (exitreport.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "exitreport.h"
#include "exits.h"
#include "minivmm/errmsg.h"

int exits_main(int argc, char **argv, void (*help)(FILE *f))
{
    struct exitreport_opts o;
    struct exitreport *r;
    char err[512];
    int ret;

    ret = exitreport_parse_args(argc, argv, &o, err, sizeof(err));
    if (ret == 1) {
        help(stdout);
        return 0;
    }
    if (ret)
        return errmsg_print(NULL, "%s", err);
    if (exitreport_build(&r, &o, err, sizeof(err)))
        return errmsg_print(NULL, "%s", err);
    const struct exitlog_info *info = exitreport_info(r);
    if (info->truncated)
        fprintf(stderr,
                "minivmm: %s: last record truncated at offset %" PRIu64
                " (the run did not finish writing); using the %" PRIu64 " records before it\n",
                o.path, info->trunc_offset, info->nrecords);
    int status = 0;
    if (o.plot && exitreport_plot(r, o.plot, NULL, err, sizeof(err)))
        status = errmsg_print(NULL, "%s", err);
    else if ((ret = exitreport_print(r, stdout)))
        status = errmsg_print(NULL, "exits: cannot write the report: %s", strerror(-ret));
    exitreport_free(r);
    return status;
}
