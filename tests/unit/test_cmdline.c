/*
 * test_cmdline.c: size and count arguments, and the guest command line.
 *
 * cmdline_parse_size() and cmdline_parse_uint() are table-driven: each row is an input string
 * and either the value it must give or the error, so a new suffix or a new rejection is one
 * line. Errors must leave the output alone. cmdline_build() is checked for each way of
 * combining --cmdline with the words after `--` (single spaces, nothing added), for the exact
 * fit against outlen (NUL included) in exact-size heap buffers that ASan watches, and for the
 * refusal of empty words and control characters.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "minivmm/util.h"

#define N(a) ((int)(ARRAY_SIZE(a)))
#define SENTINEL 0x5a5a5a5a5a5a5a5aull

/* ---- sizes ---- */

static const struct {
    const char *s;
    int ret;
    uint64_t val;
} size_cases[] = {
    {"128M", 0, 128ull << 20},
    {"1G", 0, 1ull << 30},
    {"4096K", 0, 4096ull << 10},
    {"2g", 0, 2ull << 30},
    {"1GiB", 0, 1ull << 30},
    {"1gib", 0, 1ull << 30},
    {"64MB", 0, 64ull << 20},
    {"64mb", 0, 64ull << 20},
    {"1k", 0, 1024},
    {"1KiB", 0, 1024},
    {"1T", 0, 1ull << 40},
    {"1048576", 0, 1048576},
    {"1", 0, 1},
    {"007M", 0, 7ull << 20},
    {"18446744073709551615", 0, UINT64_MAX},
    {"16777215T", 0, 16777215ull << 40}, /* largest T that fits */
    {"16777216T", -ERANGE, 0},           /* 2^64 */
    {"17179869184G", -ERANGE, 0},        /* 2^64 */
    {"99999999999T", -ERANGE, 0},
    {"18446744073709551616", -ERANGE, 0},
    {"99999999999999999999999M", -ERANGE, 0},
    {"", -EINVAL, 0},
    {"M", -EINVAL, 0},
    {"G1", -EINVAL, 0},
    {"12X", -EINVAL, 0},
    {"12MX", -EINVAL, 0},
    {"12MiBB", -EINVAL, 0},
    {"12Mi", -EINVAL, 0},
    {"12iB", -EINVAL, 0}, /* "iB"/"B" only after a K/M/G/T suffix */
    {"12B", -EINVAL, 0},
    {"1.5G", -EINVAL, 0},
    {"0x10", -EINVAL, 0},
    {"-1", -EINVAL, 0},
    {"+1", -EINVAL, 0},
    {"0", -EINVAL, 0},
    {"0M", -EINVAL, 0},
    {"000", -EINVAL, 0},
    {" 1M", -EINVAL, 0},
    {"1M ", -EINVAL, 0},
    {"1 M", -EINVAL, 0},
    {"1M\n", -EINVAL, 0},
};

START_TEST(test_parse_size)
{
    uint64_t out = SENTINEL;
    int ret = cmdline_parse_size(size_cases[_i].s, &out);
    ck_assert_msg(ret == size_cases[_i].ret, "\"%s\": got %d, want %d", size_cases[_i].s, ret,
                  size_cases[_i].ret);
    if (ret == 0)
        ck_assert_msg(out == size_cases[_i].val, "\"%s\": got %llu, want %llu", size_cases[_i].s,
                      (unsigned long long)out, (unsigned long long)size_cases[_i].val);
    else
        ck_assert_msg(out == SENTINEL, "\"%s\": output written on error", size_cases[_i].s);
}
END_TEST

START_TEST(test_parse_size_null)
{
    uint64_t out = SENTINEL;
    ck_assert_int_eq(cmdline_parse_size(NULL, &out), -EINVAL);
    ck_assert_uint_eq(out, SENTINEL);
}
END_TEST

/* ---- counts ---- */

static const struct {
    const char *s;
    unsigned min, max;
    int ret;
    unsigned val;
} uint_cases[] = {
    {"0", 0, 10, 0, 0},
    {"10", 0, 10, 0, 10},
    {"11", 0, 10, -ERANGE, 0},
    {"4", 4, 8, 0, 4},
    {"8", 4, 8, 0, 8},
    {"3", 4, 8, -ERANGE, 0},
    {"9", 4, 8, -ERANGE, 0},
    {"0", 1, 64, -ERANGE, 0},
    {"1", 1, 64, 0, 1},
    {"64", 1, 64, 0, 64},
    {"65", 1, 64, -ERANGE, 0},
    {"007", 1, 64, 0, 7},
    {"5", 5, 5, 0, 5},
    {"4294967295", 0, UINT_MAX, 0, UINT_MAX},
    {"4294967296", 0, UINT_MAX, -ERANGE, 0}, /* fits unsigned long, not unsigned */
    {"18446744073709551616", 0, UINT_MAX, -ERANGE, 0},
    {"99999999999999999999999", 0, UINT_MAX, -ERANGE, 0},
    {"", 0, 10, -EINVAL, 0},
    {"-1", 0, 10, -EINVAL, 0},
    {"+1", 0, 10, -EINVAL, 0},
    {" 1", 0, 10, -EINVAL, 0},
    {"1 ", 0, 10, -EINVAL, 0},
    {"1x", 0, 10, -EINVAL, 0},
    {"0x1", 0, 10, -EINVAL, 0},
    {"1M", 0, UINT_MAX, -EINVAL, 0},
    {"two", 0, 10, -EINVAL, 0},
};

START_TEST(test_parse_uint)
{
    unsigned out = 0xdeadbeef;
    int ret = cmdline_parse_uint(uint_cases[_i].s, uint_cases[_i].min, uint_cases[_i].max, &out);
    ck_assert_msg(ret == uint_cases[_i].ret, "\"%s\" in [%u, %u]: got %d, want %d",
                  uint_cases[_i].s, uint_cases[_i].min, uint_cases[_i].max, ret,
                  uint_cases[_i].ret);
    if (ret == 0)
        ck_assert_uint_eq(out, uint_cases[_i].val);
    else
        ck_assert_msg(out == 0xdeadbeef, "\"%s\": output written on error", uint_cases[_i].s);
}
END_TEST

START_TEST(test_parse_uint_null)
{
    unsigned out = 7;
    ck_assert_int_eq(cmdline_parse_uint(NULL, 0, 10, &out), -EINVAL);
    ck_assert_uint_eq(out, 7);
}
END_TEST

/* ---- the guest command line ---- */

/* Runs cmdline_build into an exact outlen-byte heap buffer; returns its result and copies the
 * output (when it succeeded) to res. */
static int build(size_t outlen, const char *base, char *const words[], int nwords, char *res,
                 size_t reslen)
{
    char *out = malloc(outlen ? outlen : 1);
    ck_assert_ptr_nonnull(out);
    memset(out, '#', outlen ? outlen : 1);
    int ret = cmdline_build(out, outlen, base, words, nwords);
    if (ret >= 0) {
        ck_assert_msg(memchr(out, 0, outlen) != NULL, "result not terminated");
        ck_assert_int_eq((int)strlen(out), ret);
        ck_assert_uint_lt(strlen(out), reslen);
        strcpy(res, out);
    }
    free(out);
    return ret;
}

START_TEST(test_base_only)
{
    char res[64];
    ck_assert_int_eq(build(64, "console=ttyS0 hello", NULL, 0, res, sizeof(res)), 19);
    ck_assert_str_eq(res, "console=ttyS0 hello");
}
END_TEST

START_TEST(test_words_only)
{
    char res[64];
    char *words[] = {(char[]){"hello"}, (char[]){"cpus=2"}, (char[]){"quiet"}};
    ck_assert_int_eq(build(64, NULL, words, 3, res, sizeof(res)), 18);
    ck_assert_str_eq(res, "hello cpus=2 quiet");
    ck_assert_int_eq(build(64, "", words, 1, res, sizeof(res)), 5);
    ck_assert_str_eq(res, "hello");
}
END_TEST

START_TEST(test_base_and_words)
{
    char res[64];
    char *words[] = {(char[]){"panic"}, (char[]){"quiet"}};
    ck_assert_int_eq(build(64, "console=ttyS0 cpus=4", words, 2, res, sizeof(res)), 32);
    ck_assert_str_eq(res, "console=ttyS0 cpus=4 panic quiet");
}
END_TEST

START_TEST(test_nothing)
{
    char res[8];
    ck_assert_int_eq(build(1, NULL, NULL, 0, res, sizeof(res)), 0);
    ck_assert_str_eq(res, "");
    ck_assert_int_eq(build(8, "", NULL, 0, res, sizeof(res)), 0);
    ck_assert_str_eq(res, "");
}
END_TEST

START_TEST(test_utf8_accepted)
{
    char res[32];
    char *words[] = {(char[]){"name=\xc3\xa9t\xc3\xa9"}};
    ck_assert_int_eq(build(32, NULL, words, 1, res, sizeof(res)), 10);
    ck_assert_str_eq(res, "name=\xc3\xa9t\xc3\xa9");
}
END_TEST

/* Exact fit: the result plus its NUL fills outlen; one byte less is -E2BIG. */
static const struct {
    const char *what;
    const char *base;
    int nwords;
    const char *words[3];
    const char *want;
} fit_cases[] = {
    {"base only", "abcd", 0, {NULL}, "abcd"},
    {"one word", NULL, 1, {"abc"}, "abc"},
    {"base and word", "abc", 1, {"de"}, "abc de"},
    {"three words", NULL, 3, {"a", "bb", "ccc"}, "a bb ccc"},
    {"base and three words", "x=1", 3, {"a", "bb", "ccc"}, "x=1 a bb ccc"},
};

START_TEST(test_exact_fit)
{
    char res[64];
    char *words[3];
    for (int i = 0; i < fit_cases[_i].nwords; i++)
        words[i] = (char *)fit_cases[_i].words[i];
    size_t len = strlen(fit_cases[_i].want);

    int ret = build(len + 1, fit_cases[_i].base, words, fit_cases[_i].nwords, res, sizeof(res));
    ck_assert_msg(ret == (int)len, "%s: outlen %zu gave %d", fit_cases[_i].what, len + 1, ret);
    ck_assert_str_eq(res, fit_cases[_i].want);

    for (size_t outlen = 0; outlen <= len; outlen++) {
        ret = build(outlen, fit_cases[_i].base, words, fit_cases[_i].nwords, res, sizeof(res));
        ck_assert_msg(ret == -E2BIG, "%s: outlen %zu gave %d", fit_cases[_i].what, outlen, ret);
    }
}
END_TEST

START_TEST(test_outlen_zero_untouched)
{
    char out = '#';
    ck_assert_int_eq(cmdline_build(&out, 0, "a", NULL, 0), -E2BIG);
    ck_assert_int_eq(out, '#');
}
END_TEST

static const struct {
    const char *what;
    const char *base;
    const char *word;
} bad_cases[] = {
    {"empty word", NULL, ""},
    {"empty word after base", "console=ttyS0", ""},
    {"newline in word", NULL, "a\nb"},
    {"tab in word", NULL, "a\tb"},
    {"carriage return in word", NULL, "quiet\r"},
    {"escape in word", NULL, "\x1b[2J"},
    {"DEL in word", NULL, "a\x7f"},
    {"\\x01 in word", "ok", "\x01"},
    {"newline in base", "console=ttyS0\nquiet", "hello"},
    {"tab in base", "a\tb", "hello"},
    {"DEL in base", "\x7f", "hello"},
};

START_TEST(test_bad_input)
{
    char out[64];
    char *words[] = {(char *)bad_cases[_i].word};
    int ret = cmdline_build(out, sizeof(out), bad_cases[_i].base, words, 1);
    ck_assert_msg(ret == -EINVAL, "%s: got %d", bad_cases[_i].what, ret);
}
END_TEST

START_TEST(test_bad_word_after_good_ones)
{
    char out[64];
    char *words[] = {(char[]){"hello"}, (char[]){"quiet"}, (char[]){""}};
    ck_assert_int_eq(cmdline_build(out, sizeof(out), NULL, words, 3), -EINVAL);
    ck_assert_int_eq(cmdline_build(out, sizeof(out), "base", words, 3), -EINVAL);
}
END_TEST

static Suite *cmdline_suite(void)
{
    Suite *s = suite_create("cmdline");
    TCase *tc;

    tc = tcase_create("size suffixes and rejections");
    tcase_add_loop_test(tc, test_parse_size, 0, N(size_cases));
    tcase_add_test(tc, test_parse_size_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("counts within bounds");
    tcase_add_loop_test(tc, test_parse_uint, 0, N(uint_cases));
    tcase_add_test(tc, test_parse_uint_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("guest command line joins with single spaces");
    tcase_add_test(tc, test_base_only);
    tcase_add_test(tc, test_words_only);
    tcase_add_test(tc, test_base_and_words);
    tcase_add_test(tc, test_nothing);
    tcase_add_test(tc, test_utf8_accepted);
    suite_add_tcase(s, tc);

    tc = tcase_create("guest command line fits or is refused");
    tcase_add_loop_test(tc, test_exact_fit, 0, N(fit_cases));
    tcase_add_test(tc, test_outlen_zero_untouched);
    suite_add_tcase(s, tc);

    tc = tcase_create("empty words and control characters refused");
    tcase_add_loop_test(tc, test_bad_input, 0, N(bad_cases));
    tcase_add_test(tc, test_bad_word_after_good_ones);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cmdline_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
