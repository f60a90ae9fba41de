/*
 * out.h: one table, three formats (lib/out.c): a command describes a table once (columns with
 * a key, a heading and a kind) and hands it rows of cells; out prints them as an aligned text
 * table, as CSV (one section per table) or as members of one JSON object, so that the formats
 * cannot drift apart. `minivmm exits` prints its report with it (cmd/exits/exitreport_print.c).
 *
 * Formats. Table: a table's title line, then two-space indented columns two spaces apart, text
 * and hex left-aligned, numbers right-aligned, "(none)" for no rows; columns without a heading
 * are CSV and JSON only; control characters in text become '?'. Rows are printed by windows
 * of OUT_TABLE_WINDOW (memory bounded whatever the row count): columns are sized by the
 * windows printed so far, so a wider cell after the first window widens its column from
 * there on. CSV: a header line "table,KEY,..."
 * then one line per row starting with the table's name; sections apart by an empty line. JSON:
 * one top-level object, a member per table holding an array of row objects (or one object),
 * ASCII only (json.h's JSON_ASCII); hex cells are strings ("0x3f8"), missing cells null.
 */
#ifndef MINIVMM_OUT_H
#define MINIVMM_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum out_format { OUT_TABLE, OUT_CSV, OUT_JSON };

/* Table format: rows buffered (to size the columns) before they are printed. */
#define OUT_TABLE_WINDOW 4096

enum out_kind { OUT_STR, OUT_HEX, OUT_U64, OUT_US, OUT_MS, OUT_PCT, OUT_BOOL };

struct out_col {
    const char *key;  /* CSV heading and JSON member */
    const char *head; /* table heading; NULL: CSV and JSON only */
    enum out_kind kind;
    const char *none; /* table text for a missing value; NULL: "-" */
};

struct out_cell {
    bool none; /* no value: the column's `none` in tables, empty in CSV, null in JSON */
    const char *s;
    uint64_t u; /* OUT_HEX, OUT_U64; ns for OUT_US and OUT_MS */
    double d;   /* OUT_PCT */
};

static inline struct out_cell out_s(const char *s) /* NULL: no value */
{
    return (struct out_cell){.s = s, .none = !s};
}

static inline struct out_cell out_u(uint64_t u)
{
    return (struct out_cell){.u = u};
}

static inline struct out_cell out_d(double d)
{
    return (struct out_cell){.d = d};
}

#define OUT_NONE ((struct out_cell){.none = true})

struct out {
    FILE *f;
    enum out_format fmt;
    unsigned nkeys;     /* JSON: members of the top-level object so far */
    unsigned nsections; /* CSV: sections so far */
    const char *name;
    const struct out_col *cols;
    unsigned ncols;
    bool one; /* JSON: a single object instead of an array of rows */
    uint64_t nrows;
    char **cells; /* table format: a window of formatted cells, row-major, shown columns */
    size_t ncells, cap;
    unsigned *map; /* table format: shown column j is cols[map[j]] */
    size_t *width; /* table format: shown column j's width so far */
    unsigned nshown;
    bool head_done; /* table format: the heading line is out */
    int err;
};

/* ns in `unit` ns with `digits` decimals, rounded, in integer arithmetic ("1.250"); unit /
 * 10^digits must be at least 1. */
void out_fixed(char *buf, size_t len, uint64_t ns, uint64_t unit, unsigned digits);

/* Starts the output on f; JSON opens its object. */
void out_open(struct out *o, FILE *f, enum out_format fmt);
/* Starts a table. name: CSV table name and JSON member (NULL in JSON: the caller wrote the
 * member name with out_json_key()); title: the table format's heading line (NULL: none);
 * one: JSON writes the (single) row as an object instead of an array of rows. */
void out_begin(struct out *o, const char *name, const char *title, const struct out_col *cols,
               unsigned ncols, bool one);
/* One row: cells[0..ncols). Out of memory sets o->err. */
void out_row(struct out *o, const struct out_cell *cells);
/* Ends the table (the table format prints it here). */
void out_end(struct out *o);
/* JSON: starts a member of the top-level object, for a value the caller writes to o->f. */
void out_json_key(struct out *o, const char *key);
/* Ends the output (JSON closes its object) and frees the buffers: 0, or o->err (-ENOMEM;
 * a caller may set it too). Write errors are the caller's to check on its FILE. */
int out_close(struct out *o);

#endif
