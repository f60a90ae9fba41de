/*
 * out.c: one table, three formats (out.h): the emitter behind `minivmm exits` (cmd/exits/),
 * for any command that prints tables.
 *
 * The table format buffers a window of at most OUT_TABLE_WINDOW rows of formatted cells to
 * size its columns, then prints it; so its memory is bounded whatever the number of rows (a
 * `--timeline 1us` report can have millions). A table that fits in one window is aligned
 * exactly; a longer one keeps the widths of its windows so far, widened (never narrowed) by
 * each later window, so a column may shift right where a wider cell first appears. CSV and
 * JSON stream. Every cell goes through one formatter (fmt_num), so the formats cannot
 * drift apart.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minivmm/json.h"
#include "minivmm/out.h"
#include "minivmm/util.h"

#define OUT_NS_PER_US UINT64_C(1000)
#define OUT_NS_PER_MS UINT64_C(1000000)

/* Grows *v (elements of size sz) to hold one more than *len; 0 or -ENOMEM. */

/* ns in `unit` with `digits` decimals, rounded, in integer arithmetic. */
void out_fixed(char *buf, size_t len, uint64_t ns, uint64_t unit, unsigned digits)
{
    uint64_t scale = 1;

    for (unsigned i = 0; i < digits; i++)
        scale *= 10;
    uint64_t step = unit / scale; /* >= 1 for the units and digits used here */
    uint64_t q = ns / step + (ns % step >= (step + 1) / 2);
    if (digits)
        snprintf(buf, len, "%" PRIu64 ".%0*" PRIu64, q / scale, (int)digits, q % scale);
    else
        snprintf(buf, len, "%" PRIu64, q);
}

static void csv_str(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

/* A number or hex cell as text; `table` picks the table's shorter decimals. */
static void fmt_num(char *buf, size_t len, enum out_kind kind, const struct out_cell *c, bool table)
{
    switch (kind) {
    case OUT_HEX:
        snprintf(buf, len, "0x%" PRIx64, c->u);
        break;
    case OUT_U64:
        snprintf(buf, len, "%" PRIu64, c->u);
        break;
    case OUT_US:
        out_fixed(buf, len, c->u, OUT_NS_PER_US, table ? 2 : 3);
        break;
    case OUT_MS:
        out_fixed(buf, len, c->u, OUT_NS_PER_MS, table ? 3 : 6);
        break;
    case OUT_PCT:
        snprintf(buf, len, "%.2f", c->d);
        break;
    case OUT_BOOL:
        snprintf(buf, len, "%s", c->u ? "true" : "false");
        break;
    case OUT_STR:
        snprintf(buf, len, "%s", c->s);
        break;
    }
}

void out_json_key(struct out *o, const char *key)
{
    fprintf(o->f, "%s\n  ", o->nkeys++ ? "," : "");
    json_fput_str(o->f, key, JSON_ASCII);
    fputs(": ", o->f);
}

void out_open(struct out *o, FILE *f, enum out_format fmt)
{
    *o = (struct out){.f = f, .fmt = fmt};
    if (fmt == OUT_JSON)
        fputc('{', f);
}

int out_close(struct out *o)
{
    if (o->fmt == OUT_JSON)
        fputs("\n}\n", o->f);
    for (size_t i = 0; i < o->ncells; i++)
        free(o->cells[i]);
    free(o->cells);
    free(o->map);
    free(o->width);
    o->cells = NULL;
    o->map = NULL;
    o->width = NULL;
    o->ncells = 0;
    return o->err;
}

/* Starts a table. name: CSV table name and JSON member (NULL in JSON: the caller wrote the
 * member name); title: the table format's heading line (NULL: none). */
void out_begin(struct out *o, const char *name, const char *title, const struct out_col *cols,
               unsigned ncols, bool one)
{
    o->name = name;
    o->cols = cols;
    o->ncols = ncols;
    o->one = one;
    o->nrows = 0;
    switch (o->fmt) {
    case OUT_TABLE:
        if (title)
            fprintf(o->f, "\n%s\n", title);
        o->nshown = 0;
        o->head_done = false;
        free(o->map);
        free(o->width);
        o->map = calloc(ncols ? ncols : 1, sizeof(*o->map));
        o->width = calloc(ncols ? ncols : 1, sizeof(*o->width));
        if (!o->map || !o->width) {
            o->err = -ENOMEM;
            break;
        }
        for (unsigned i = 0; i < ncols; i++)
            if (cols[i].head) {
                o->map[o->nshown] = i;
                o->width[o->nshown++] = strlen(cols[i].head);
            }
        break;
    case OUT_CSV:
        if (o->nsections++)
            fputc('\n', o->f);
        fputs("table", o->f);
        for (unsigned i = 0; i < ncols; i++) {
            fputc(',', o->f);
            csv_str(o->f, cols[i].key);
        }
        fputc('\n', o->f);
        break;
    case OUT_JSON:
        if (name)
            out_json_key(o, name);
        if (!one)
            fputc('[', o->f);
        break;
    }
}

static void print_cells(struct out *o);

void out_row(struct out *o, const struct out_cell *cells)
{
    char buf[64];

    if (o->fmt == OUT_TABLE) {
        if (o->err)
            return;
        for (unsigned i = 0; i < o->ncols; i++) {
            const struct out_col *c = &o->cols[i];
            const struct out_cell *v = &cells[i];
            char *s;

            if (!c->head)
                continue;
            if (array_grow((void **)&o->cells, &o->cap, o->ncells, sizeof(*o->cells), 64)) {
                o->err = -ENOMEM;
                return;
            }
            if (v->none) {
                s = strdup(c->none ? c->none : "-");
            } else if (c->kind == OUT_STR) {
                s = strdup(v->s);
                for (char *p = s; p && *p; p++) /* names from a file: no terminal controls */
                    if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = '?';
            } else {
                fmt_num(buf, sizeof(buf), c->kind, v, true);
                s = strdup(buf);
            }
            if (!s) {
                o->err = -ENOMEM;
                return;
            }
            o->cells[o->ncells++] = s;
        }
        if (o->nshown && o->ncells >= (size_t)OUT_TABLE_WINDOW * o->nshown)
            print_cells(o);
    } else if (o->fmt == OUT_CSV) {
        csv_str(o->f, o->name);
        for (unsigned i = 0; i < o->ncols; i++) {
            fputc(',', o->f);
            if (cells[i].none)
                continue;
            if (o->cols[i].kind == OUT_STR) {
                csv_str(o->f, cells[i].s);
            } else {
                fmt_num(buf, sizeof(buf), o->cols[i].kind, &cells[i], false);
                fputs(buf, o->f);
            }
        }
        fputc('\n', o->f);
    } else {
        fputs(o->one ? "{" : o->nrows ? ",\n    {" : "\n    {", o->f);
        for (unsigned i = 0; i < o->ncols; i++) {
            const struct out_col *c = &o->cols[i];

            if (i)
                fputs(", ", o->f);
            json_fput_str(o->f, c->key, JSON_ASCII);
            fputs(": ", o->f);
            if (cells[i].none) {
                fputs("null", o->f);
            } else if (c->kind == OUT_STR) {
                json_fput_str(o->f, cells[i].s, JSON_ASCII);
            } else {
                fmt_num(buf, sizeof(buf), c->kind, &cells[i], false);
                if (c->kind == OUT_HEX)
                    json_fput_str(o->f, buf, JSON_ASCII);
                else
                    fputs(buf, o->f);
            }
        }
        fputc('}', o->f);
    }
    o->nrows++;
}

/* Prints the buffered window of rows (the heading first, once) and frees its cells:
 * two-space indent, columns two spaces apart, text left-aligned, numbers right-aligned, no
 * trailing blanks. Widths only grow from one window to the next. */
static void print_cells(struct out *o)
{
    unsigned nshown = o->nshown;

    if (!nshown || o->err)
        goto out;
    for (size_t k = 0; k < o->ncells; k++) {
        size_t w = strlen(o->cells[k]);

        if (w > o->width[k % nshown])
            o->width[k % nshown] = w;
    }
    size_t nrows = o->ncells / nshown;
    for (size_t row = o->head_done ? 1 : 0; row <= nrows; row++) {
        fputs("  ", o->f);
        for (unsigned j = 0; j < nshown; j++) {
            const struct out_col *c = &o->cols[o->map[j]];
            const char *s = row == 0 ? c->head : o->cells[(row - 1) * nshown + j];
            bool left = c->kind == OUT_STR || c->kind == OUT_HEX;
            bool last = j + 1 == nshown;

            if (left && last)
                fputs(s, o->f);
            else
                fprintf(o->f, left ? "%-*s" : "%*s", (int)o->width[j], s);
            if (!last)
                fputs("  ", o->f);
        }
        fputc('\n', o->f);
    }
    o->head_done = true;
out:
    for (size_t i = 0; i < o->ncells; i++)
        free(o->cells[i]);
    o->ncells = 0;
}

void out_end(struct out *o)
{
    switch (o->fmt) {
    case OUT_TABLE:
        if (o->ncells || o->head_done)
            print_cells(o);
        else
            fputs("  (none)\n", o->f);
        free(o->map);
        free(o->width);
        o->map = NULL;
        o->width = NULL;
        break;
    case OUT_CSV:
        break;
    case OUT_JSON:
        if (!o->one)
            fputs(o->nrows ? "\n  ]" : "]", o->f);
        break;
    }
}
