/*
 * test_gmem.c: the guest RAM layout and the checked guest-address accessor.
 *
 * gmem_layout() must put up to 3 GiB at 0 and the rest at 4 GiB (memfd offset 3 GiB), and
 * refuse sizes below 16 MiB, above 1 TiB or not page-sized. gmem_ptr() is the one door from a
 * guest address to a host pointer, so its edges are tested byte by byte: the whole of RAM is
 * reachable, nothing past the end, in the 3-4 GiB hole or across a region boundary is, empty
 * and wrapping ranges are refused. The >3 GiB layouts are checked without allocating: gm.host
 * is set to a fake address that is only compared, never dereferenced. A small real gmem checks
 * that memory starts zeroed, is shared with the memfd, and that gmem_read/gmem_write copy or
 * fail with -EFAULT without touching anything.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "minivmm/hw/gmem.h"
#include "minivmm/memmap.h"
#include "minivmm/util.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define TiB (1ull << 40)

#define SMALL (16 * MiB)

/* Never dereferenced: only differences from it are compared. */
#define FAKE_HOST ((uint8_t *)(uintptr_t)0x100000000000ull)

#define NO_PTR UINT64_MAX /* expected: gmem_ptr returns NULL */

#define N(a) ((int)(ARRAY_SIZE(a)))

/* ---- layout ---- */

static const struct {
    uint64_t size;
    unsigned nregions;
    uint64_t r0_size;
    uint64_t r1_size; /* region 1 is always at 4 GiB, memfd offset 3 GiB */
    uint64_t end;
} layout_cases[] = {
    {16 * MiB, 1, 16 * MiB, 0, 16 * MiB},
    {128 * MiB, 1, 128 * MiB, 0, 128 * MiB},
    {128 * MiB + 4 * KiB, 1, 128 * MiB + 4 * KiB, 0, 128 * MiB + 4 * KiB},
    {3 * GiB - 4 * KiB, 1, 3 * GiB - 4 * KiB, 0, 3 * GiB - 4 * KiB},
    {3 * GiB, 1, 3 * GiB, 0, 3 * GiB},
    {3 * GiB + 4 * KiB, 2, 3 * GiB, 4 * KiB, 4 * GiB + 4 * KiB},
    {4 * GiB, 2, 3 * GiB, 1 * GiB, 5 * GiB},
    {8 * GiB, 2, 3 * GiB, 5 * GiB, 9 * GiB},
    {TiB, 2, 3 * GiB, TiB - 3 * GiB, TiB + 1 * GiB},
};

START_TEST(test_layout_table)
{
    struct gmem gm;
    memset(&gm, 0x5a, sizeof(gm));
    uint64_t size = layout_cases[_i].size;
    ck_assert_int_eq(gmem_layout(&gm, size), 0);
    ck_assert_uint_eq(gm.size, size);
    ck_assert_int_eq(gm.fd, -1);
    ck_assert_ptr_null(gm.host);
    ck_assert_uint_eq(gm.nregions, layout_cases[_i].nregions);
    ck_assert_uint_eq(gm.regions[0].gpa, 0);
    ck_assert_uint_eq(gm.regions[0].offset, 0);
    ck_assert_uint_eq(gm.regions[0].size, layout_cases[_i].r0_size);
    if (layout_cases[_i].nregions == 2) {
        ck_assert_uint_eq(gm.regions[1].gpa, MEMMAP_HOLE_END);
        ck_assert_uint_eq(gm.regions[1].gpa, 4 * GiB);
        ck_assert_uint_eq(gm.regions[1].offset, 3 * GiB);
        ck_assert_uint_eq(gm.regions[1].size, layout_cases[_i].r1_size);
        ck_assert_uint_eq(gm.regions[0].size + gm.regions[1].size, size);
    }
    ck_assert_uint_eq(gmem_end(&gm), layout_cases[_i].end);
    /* A layout has no memory: the accessor refuses everything. */
    ck_assert_ptr_null(gmem_ptr(&gm, 0, 1));
}
END_TEST

static const uint64_t bad_sizes[] = {
    0,
    4 * KiB,
    16 * MiB - 4 * KiB,
    128 * MiB + 1,
    128 * MiB + 0x800,
    128 * MiB - 1,
    3 * GiB + 1,
    TiB + 4 * KiB,
    2 * TiB,
    UINT64_MAX,
    UINT64_MAX - 0xfff, /* page multiple, far too large */
};

START_TEST(test_layout_rejects)
{
    struct gmem gm;
    memset(&gm, 0x5a, sizeof(gm));
    ck_assert_msg(gmem_layout(&gm, bad_sizes[_i]) == -EINVAL, "size 0x%llx accepted",
                  (unsigned long long)bad_sizes[_i]);
    /* Left in a state gmem_destroy accepts. */
    ck_assert_int_eq(gm.fd, -1);
    ck_assert_ptr_null(gm.host);
    gmem_destroy(&gm);
}
END_TEST

START_TEST(test_init_rejects_bad_size)
{
    struct gmem gm;
    ck_assert_int_eq(gmem_init(&gm, 16 * MiB + 1), -EINVAL);
    ck_assert_int_eq(gm.fd, -1);
    ck_assert_ptr_null(gm.host);
    gmem_destroy(&gm);
}
END_TEST

/* ---- accessor on a >3 GiB layout, without memory ---- */

static const struct {
    uint64_t gpa, len;
    uint64_t host_off; /* expected host - FAKE_HOST, or NO_PTR */
} hole_cases[] = {
    /* 4 GiB of RAM: [0, 3G) at offset 0, [4G, 5G) at offset 3G. */
    {0, 1, 0},
    {0, 3 * GiB, 0},
    {0, 3 * GiB + 1, NO_PTR},
    {3 * GiB - 1, 1, 3 * GiB - 1},
    {3 * GiB - 4, 4, 3 * GiB - 4},
    {3 * GiB - 1, 2, NO_PTR}, /* crosses into the hole */
    {3 * GiB, 1, NO_PTR},     /* first hole byte */
    {MEMMAP_IOAPIC_BASE, 4, NO_PTR},
    {4 * GiB - 1, 1, NO_PTR}, /* last hole byte */
    {4 * GiB - 1, 2, NO_PTR}, /* crosses out of the hole */
    {4 * GiB, 1, 3 * GiB},    /* first byte above the hole */
    {4 * GiB, 1 * GiB, 3 * GiB},
    {4 * GiB, 1 * GiB + 1, NO_PTR},
    {3 * GiB - 4 * KiB, 1 * GiB + 8 * KiB, NO_PTR}, /* spans the hole */
    {0, 5 * GiB, NO_PTR},
    {5 * GiB - 1, 1, 4 * GiB - 1}, /* last byte of RAM */
    {5 * GiB - 8, 8, 4 * GiB - 8},
    {5 * GiB - 1, 2, NO_PTR},
    {5 * GiB, 1, NO_PTR},
    {4 * GiB, 0, NO_PTR},
    {UINT64_MAX - 1, 4, NO_PTR},
    {4 * GiB, UINT64_MAX, NO_PTR},
    {4 * GiB + 16, UINT64_MAX - 8, NO_PTR}, /* wraps to a small address */
};

START_TEST(test_hole_table)
{
    struct gmem gm;
    ck_assert_int_eq(gmem_layout(&gm, 4 * GiB), 0);
    gm.host = FAKE_HOST;
    uint64_t gpa = hole_cases[_i].gpa, len = hole_cases[_i].len;
    uint8_t *p = gmem_ptr(&gm, gpa, len);
    if (hole_cases[_i].host_off == NO_PTR) {
        ck_assert_msg(p == NULL, "[0x%llx, +0x%llx) accepted at host offset 0x%llx",
                      (unsigned long long)gpa, (unsigned long long)len,
                      (unsigned long long)((uintptr_t)p - (uintptr_t)FAKE_HOST));
    } else {
        ck_assert_msg(p != NULL, "[0x%llx, +0x%llx) refused", (unsigned long long)gpa,
                      (unsigned long long)len);
        ck_assert_uint_eq((uintptr_t)p - (uintptr_t)FAKE_HOST, hole_cases[_i].host_off);
    }
    ck_assert_uint_eq(gmem_end(&gm), 5 * GiB);
}
END_TEST

START_TEST(test_exactly_3g_has_no_high_region)
{
    struct gmem gm;
    ck_assert_int_eq(gmem_layout(&gm, 3 * GiB), 0);
    gm.host = FAKE_HOST;
    ck_assert_uint_eq((uintptr_t)gmem_ptr(&gm, 3 * GiB - 1, 1) - (uintptr_t)FAKE_HOST, 3 * GiB - 1);
    ck_assert_ptr_null(gmem_ptr(&gm, 3 * GiB, 1));
    ck_assert_ptr_null(gmem_ptr(&gm, 4 * GiB, 1));
}
END_TEST

START_TEST(test_3g_plus_4k)
{
    struct gmem gm;
    ck_assert_int_eq(gmem_layout(&gm, 3 * GiB + 4 * KiB), 0);
    gm.host = FAKE_HOST;
    ck_assert_uint_eq((uintptr_t)gmem_ptr(&gm, 4 * GiB, 4 * KiB) - (uintptr_t)FAKE_HOST, 3 * GiB);
    ck_assert_uint_eq((uintptr_t)gmem_ptr(&gm, 4 * GiB + 4 * KiB - 1, 1) - (uintptr_t)FAKE_HOST,
                      3 * GiB + 4 * KiB - 1);
    ck_assert_ptr_null(gmem_ptr(&gm, 4 * GiB, 4 * KiB + 1));
    ck_assert_ptr_null(gmem_ptr(&gm, 4 * GiB + 4 * KiB, 1));
}
END_TEST

/* ---- accessor on real memory ---- */

static const struct {
    uint64_t gpa, len;
    uint64_t host_off; /* or NO_PTR */
} small_cases[] = {
    {0, SMALL, 0},
    {0, 1, 0},
    {SMALL - 1, 1, SMALL - 1},
    {SMALL - 4096, 4096, SMALL - 4096},
    {0x1234, 0x10, 0x1234},
    {0, 0, NO_PTR},
    {SMALL - 1, 0, NO_PTR},
    {SMALL, 0, NO_PTR},
    {SMALL, 1, NO_PTR},     /* last byte + 1 */
    {SMALL - 1, 2, NO_PTR}, /* crosses the end */
    {SMALL - 4, 8, NO_PTR},
    {0, SMALL + 1, NO_PTR},
    {1, SMALL, NO_PTR},
    {UINT64_MAX - 1, 4, NO_PTR}, /* wraps */
    {UINT64_MAX, 1, NO_PTR},
    {1, UINT64_MAX, NO_PTR}, /* wraps to 0 */
    {0x1000, UINT64_MAX - 0x800, NO_PTR},
    {MEMMAP_HOLE_START, 1, NO_PTR},
    {MEMMAP_IOAPIC_BASE, 4, NO_PTR},
    {MEMMAP_HOLE_END, 1, NO_PTR},
};

START_TEST(test_small_table)
{
    struct gmem gm;
    ck_assert_int_eq(gmem_init(&gm, SMALL), 0);
    uint64_t gpa = small_cases[_i].gpa, len = small_cases[_i].len;
    uint8_t *p = gmem_ptr(&gm, gpa, len);
    if (small_cases[_i].host_off == NO_PTR)
        ck_assert_msg(p == NULL, "[0x%llx, +0x%llx) accepted", (unsigned long long)gpa,
                      (unsigned long long)len);
    else
        ck_assert_ptr_eq(p, gm.host + small_cases[_i].host_off);
    gmem_destroy(&gm);
}
END_TEST

START_TEST(test_init_maps_zeroed_shared_memory)
{
    struct gmem gm;
    ck_assert_int_eq(gmem_init(&gm, SMALL), 0);
    ck_assert_int_ge(gm.fd, 0);
    ck_assert_ptr_nonnull(gm.host);
    ck_assert_uint_eq(gm.size, SMALL);
    ck_assert_uint_eq(gm.nregions, 1);
    ck_assert_uint_eq(gmem_end(&gm), SMALL);
    ck_assert_uint_eq(gm.host[0], 0);
    ck_assert_uint_eq(gm.host[SMALL / 2], 0);
    ck_assert_uint_eq(gm.host[SMALL - 1], 0);

    /* The mapping is the memfd (MAP_SHARED): what is written is what KVM sees. */
    static const uint8_t pat[4] = {1, 2, 3, 4};
    ck_assert_int_eq(gmem_write(&gm, SMALL - 4, pat, 4), 0);
    uint8_t back[4] = {0};
    ck_assert_int_eq(pread(gm.fd, back, 4, (off_t)(SMALL - 4)), 4);
    ck_assert_mem_eq(back, pat, 4);

    gmem_destroy(&gm);
    ck_assert_ptr_null(gm.host);
    ck_assert_int_eq(gm.fd, -1);
    gmem_destroy(&gm); /* twice is harmless */
}
END_TEST

START_TEST(test_read_write_round_trip)
{
    struct gmem gm;
    ck_assert_int_eq(gmem_init(&gm, SMALL), 0);
    uint8_t out[64], in[64];
    for (unsigned i = 0; i < sizeof(out); i++)
        out[i] = (uint8_t)(i * 7 + 1);

    static const uint64_t where[] = {0, 0x30000, 0x100000 - 32, SMALL - 64};
    for (unsigned w = 0; w < 4; w++) {
        memset(in, 0, sizeof(in));
        ck_assert_int_eq(gmem_write(&gm, where[w], out, sizeof(out)), 0);
        ck_assert_mem_eq(gm.host + where[w], out, sizeof(out));
        ck_assert_int_eq(gmem_read(&gm, where[w], in, sizeof(in)), 0);
        ck_assert_mem_eq(in, out, sizeof(out));
    }
    /* Neighbours untouched. */
    ck_assert_uint_eq(gm.host[0x30000 - 1], 0);
    ck_assert_uint_eq(gm.host[0x30000 + 64], 0);
    gmem_destroy(&gm);
}
END_TEST

START_TEST(test_read_write_efault)
{
    struct gmem gm;
    ck_assert_int_eq(gmem_init(&gm, SMALL), 0);
    uint8_t buf[16];
    memset(buf, 0x77, sizeof(buf));

    /* A write that would cross the end fails and writes nothing, not even the part in RAM. */
    ck_assert_int_eq(gmem_write(&gm, SMALL - 8, buf, 16), -EFAULT);
    for (unsigned i = 0; i < 8; i++)
        ck_assert_uint_eq(gm.host[SMALL - 8 + i], 0);
    ck_assert_int_eq(gmem_write(&gm, SMALL, buf, 1), -EFAULT);
    ck_assert_int_eq(gmem_write(&gm, MEMMAP_HOLE_START, buf, 4), -EFAULT);
    ck_assert_int_eq(gmem_write(&gm, UINT64_MAX - 1, buf, 4), -EFAULT);
    ck_assert_int_eq(gmem_write(&gm, 0, buf, 0), -EFAULT);

    /* A failed read leaves the destination alone. */
    ck_assert_int_eq(gmem_read(&gm, SMALL - 8, buf, 16), -EFAULT);
    ck_assert_int_eq(gmem_read(&gm, UINT64_MAX, buf, 1), -EFAULT);
    ck_assert_int_eq(gmem_read(&gm, SMALL, buf, 1), -EFAULT);
    for (unsigned i = 0; i < sizeof(buf); i++)
        ck_assert_uint_eq(buf[i], 0x77);
    gmem_destroy(&gm);
}
END_TEST

static Suite *gmem_suite(void)
{
    Suite *s = suite_create("gmem");
    TCase *tc;

    tc = tcase_create("layout splits at the 3 GiB hole");
    tcase_add_loop_test(tc, test_layout_table, 0, N(layout_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("layout rejects bad sizes");
    tcase_add_loop_test(tc, test_layout_rejects, 0, N(bad_sizes));
    tcase_add_test(tc, test_init_rejects_bad_size);
    suite_add_tcase(s, tc);

    tc = tcase_create("accessor refuses the hole and region edges");
    tcase_add_loop_test(tc, test_hole_table, 0, N(hole_cases));
    tcase_add_test(tc, test_exactly_3g_has_no_high_region);
    tcase_add_test(tc, test_3g_plus_4k);
    suite_add_tcase(s, tc);

    tc = tcase_create("accessor accepts exactly RAM");
    tcase_add_loop_test(tc, test_small_table, 0, N(small_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("read and write copy or fail whole");
    tcase_add_test(tc, test_init_maps_zeroed_shared_memory);
    tcase_add_test(tc, test_read_write_round_trip);
    tcase_add_test(tc, test_read_write_efault);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(gmem_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
