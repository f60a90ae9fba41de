/*
 * test_json.c: unit tests of the JSON reader and writer (lib/json.c): tables of good and bad
 * objects, member values, arrays of objects, the text buffer's limit, and the string writer
 * (escapes, truncation, JSON_ASCII, the buffer and stream forms agreeing on every byte).
 * CK_FORK.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ck_loop.h"
#include "minivmm/json.h"
#include "minivmm/util.h"

static struct json j;
static char err[256];

static int parse(const char *s)
{
    return json_parse(s, strlen(s), false, &j, err, sizeof(err));
}

static const char *const goods[] = {
    "{}",
    " {\"cmd\":\"status\"} ",
    "{\"cmd\":\"vf set\",\"vf\":1,\"key\":\"vlan\",\"value\":\"10\"}\r",
    "{\"a\":-9223372036854775808,\"b\":9223372036854775807,\"c\":0,\"d\":-0}",
    "{\"u\":9223372036854775808,\"v\":18446744073709551615}",
    "{\"t\":true,\"f\":false}",
    "{\"e\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}",
    "{\"u\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}",
    "\t\n{ \"k\" : \"v\" , \"n\" : 1 }\n",
};

START_TEST(json_good)
{
    ck_assert_msg(parse(goods[_i]) == 0, "'%s': %s", goods[_i], err);
}
END_TEST

static const struct {
    const char *s;
    const char *err; /* substring */
} bads[] = {
    {"", "expected an object"},
    {"[]", "expected an object"},
    {"{", "expected a member name"},
    {"{\"a\":1", "expected ',' or '}'"},
    {"{\"a\":1,}", "expected a member name"},
    {"{\"a\" 1}", "expected ':'"},
    {"{\"a\":1}x", "trailing bytes"},
    {"{\"a\":1}{}", "trailing bytes"},
    {"{\"a\":null}", "null is not allowed"},
    {"{\"a\":{}}", "nested objects"},
    {"{\"a\":[]}", "arrays are not allowed"},
    {"{\"a\":1.5}", "integers"},
    {"{\"a\":1e3}", "integers"},
    {"{\"a\":01}", "leading zero"},
    {"{\"a\":-}", "bad number"},
    {"{\"a\":18446744073709551616}", "out of range"},
    {"{\"a\":99999999999999999999}", "out of range"},
    {"{\"a\":-9223372036854775809}", "out of range"},
    {"{\"a\":tru}", "bad literal"},
    {"{\"a\":\"x}", "unterminated string"},
    {"{\"a\":\"x\ty\"}", "control character"},
    {"{\"a\":\"\\x\"}", "bad escape"},
    {"{\"a\":\"\\u12\"}", "\\u escape"},
    {"{\"a\":\"\\u0000\"}", "\\u0000"},
    {"{\"a\":\"\\ud800\"}", "lone high surrogate"},
    {"{\"a\":\"\\udc00\"}", "lone low surrogate"},
    {"{\"a\":\"\xc0\xaf\"}", "invalid UTF-8"},     /* overlong '/' */
    {"{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8"}, /* encoded surrogate */
    {"{\"a\":\"\xff\"}", "invalid UTF-8"},
    {"{\"a\":1,\"a\":2}", "duplicate"},
    {"{'a':1}", "expected a member name"},
    {"{\"a\":+1}", "expected a value"},
};

START_TEST(json_bad)
{
    ck_assert_msg(parse(bads[_i].s) == -EINVAL, "'%s' parsed", bads[_i].s);
    ck_assert_msg(strstr(err, bads[_i].err), "'%s': error '%s', want '%s'", bads[_i].s, err,
                  bads[_i].err);
    ck_assert_msg(strncmp(err, "bad JSON at byte ", 17) == 0, "'%s'", err);
}
END_TEST

START_TEST(json_values)
{
    ck_assert_int_eq(parse("{\"s\":\"a\\u00e9\\ud83d\\ude00\",\"n\":-42,\"b\":true}"), 0);
    ck_assert_uint_eq(j.n, 3);
    const struct json_member *m = json_get(&j, "s");
    ck_assert_int_eq(m->type, JSON_STRING);
    ck_assert_str_eq(m->str, "a\xc3\xa9\xf0\x9f\x98\x80");
    m = json_get(&j, "n");
    ck_assert_int_eq(m->type, JSON_INT);
    ck_assert_int_eq(m->num, -42);
    m = json_get(&j, "b");
    ck_assert_int_eq(m->type, JSON_BOOL);
    ck_assert(m->b);
    ck_assert_ptr_null(json_get(&j, "x"));
    /* Unsigned 64-bit counters (the server prints u64): unum holds them, num saturates. */
    ck_assert_int_eq(parse("{\"a\":18446744073709551615,\"b\":9223372036854775807,\"c\":-1}"), 0);
    m = json_get(&j, "a");
    ck_assert_int_eq(m->type, JSON_INT);
    ck_assert(m->unum == UINT64_MAX);
    ck_assert(m->num == INT64_MAX);
    m = json_get(&j, "b");
    ck_assert(m->unum == (uint64_t)INT64_MAX && m->num == INT64_MAX);
    m = json_get(&j, "c");
    ck_assert(m->num == -1 && m->unum == 0);
    /* An embedded NUL is a control character, not the end of the line. */
    ck_assert_int_eq(json_parse("{\"a\":\"x\0\"}", 9, false, &j, err, sizeof(err)), -EINVAL);
}
END_TEST

START_TEST(json_arrays)
{
    static struct json e;
    const char *s = "{\"ok\":true,\"vfs\":[{\"vf\":0},{\"vf\":1,\"mac\":\"x\"}]}";
    ck_assert_int_eq(json_parse(s, strlen(s), true, &j, err, sizeof(err)), 0);
    const struct json_member *a = json_get(&j, "vfs");
    ck_assert_int_eq(a->type, JSON_ARRAY);
    size_t pos = 0;
    ck_assert_int_eq(json_array_next(a, &pos, &e, err, sizeof(err)), 1);
    ck_assert_int_eq(json_get(&e, "vf")->num, 0);
    ck_assert_int_eq(json_array_next(a, &pos, &e, err, sizeof(err)), 1);
    ck_assert_str_eq(json_get(&e, "mac")->str, "x");
    ck_assert_int_eq(json_array_next(a, &pos, &e, err, sizeof(err)), 0);
    const char *bad[] = {"{\"a\":[1]}", "{\"a\":[{}}", "{\"a\":[[]]}", "{\"a\":[{\"b\":[]}]}",
                         "{\"a\":[{},]}"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        ck_assert_msg(json_parse(bad[i], strlen(bad[i]), true, &j, err, sizeof(err)), "'%s' parsed",
                      bad[i]);
}
END_TEST

START_TEST(json_str_escapes)
{
    char buf[64];
    size_t n = 0;
    json_str(buf, sizeof(buf), &n, "a\"b\\c\nd\x01", 0);
    ck_assert_str_eq(buf, "\"a\\\"b\\\\c\\u000ad\\u0001\"");
    ck_assert_uint_eq(n, strlen(buf));
    /* Too small: truncated, NUL-terminated, and n says how much was needed. */
    char small[4];
    n = 0;
    json_str(small, sizeof(small), &n, "abcdef", 0);
    ck_assert_uint_eq(n, 8);
    ck_assert_uint_eq(strlen(small), 3);
}
END_TEST

START_TEST(json_text_limit)
{
    /* One string member whose decoded text (key, value, NULs) fills the buffer's
     * JSON_MAX_TEXT + 1 bytes fits; one byte more is refused. */
    static char s[JSON_MAX_TEXT + 64];
    for (int extra = 0; extra <= 1; extra++) {
        size_t vlen = JSON_MAX_TEXT + 1 - 2 /* "k" */ - 1 /* NUL */ + (size_t)extra;
        size_t n = (size_t)snprintf(s, sizeof(s), "{\"k\":\"");
        memset(s + n, 'v', vlen);
        n += vlen;
        n += (size_t)snprintf(s + n, sizeof(s) - n, "\"}");
        int r = json_parse(s, n, false, &j, err, sizeof(err));
        if (extra) {
            ck_assert_int_eq(r, -EINVAL);
            ck_assert_ptr_nonnull(strstr(err, "strings too long"));
        } else {
            ck_assert_int_eq(r, 0);
            ck_assert_uint_eq(strlen(json_get(&j, "k")->str), vlen);
        }
    }
}
END_TEST

START_TEST(json_str_ascii)
{
    char buf[64];
    size_t n = 0;
    /* DEL is escaped either way; UTF-8 passes through unless JSON_ASCII. */
    json_str(buf, sizeof(buf), &n, "\x7f\xc3\xa9", 0);
    ck_assert_str_eq(buf, "\"\\u007f\xc3\xa9\"");
    n = 0;
    json_str(buf, sizeof(buf), &n, "\x7f\xc3\xa9", JSON_ASCII);
    ck_assert_str_eq(buf, "\"\\u007f\\u00c3\\u00a9\"");
    /* What the writer writes, the reader reads back (without JSON_ASCII: as the bytes). */
    char obj[96];
    n = 0;
    snprintf(obj, sizeof(obj), "{\"k\":");
    n = strlen(obj);
    json_str(obj, sizeof(obj), &n, "q\"b\\\n\x01\xc3\xa9", 0);
    snprintf(obj + n, sizeof(obj) - n, "}");
    ck_assert_int_eq(json_parse(obj, strlen(obj), false, &j, err, sizeof(err)), 0);
    ck_assert_str_eq(json_get(&j, "k")->str, "q\"b\\\n\x01\xc3\xa9");
}
END_TEST

/* json_fput_str writes what json_str does, byte for byte, for every byte value and flag (one
 * test, not a loop test: 510 forks cost ~50 s under the sanitizers). */
START_TEST(json_fput_same)
{
    for (unsigned i = 2; i < 512; i++) {
        unsigned flags = i & 1;
        unsigned char c = (unsigned char)(i >> 1);
        char in[4] = {'a', (char)c, 'z', '\0'};
        char want[32], got[32] = {0};
        size_t n = 0;
        json_str(want, sizeof(want), &n, in, flags);
        FILE *f = fmemopen(got, sizeof(got), "w");
        ck_assert_ptr_nonnull(f);
        json_fput_str(f, in, flags);
        fclose(f);
        ck_assert_msg(strcmp(got, want) == 0, "byte 0x%02x flags %u: '%s' vs '%s'", c, flags, got,
                      want);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("reader");
    tcase_add_loop_test(tc, json_good, 0, ARRAY_SIZE(goods));
    tcase_add_loop_test(tc, json_bad, 0, ARRAY_SIZE(bads));
    tcase_add_test(tc, json_values);
    tcase_add_test(tc, json_arrays);
    tcase_add_test(tc, json_text_limit);
    suite_add_tcase(s, tc);
    tc = tcase_create("writer");
    tcase_add_test(tc, json_str_escapes);
    tcase_add_test(tc, json_str_ascii);
    tcase_add_test(tc, json_fput_same);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
