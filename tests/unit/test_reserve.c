/* Rolling reserves: the share held of a credit (rounded down, exact), and
 * the spellings of TipzedReserve and TipzedFirstPayoutDelay. */
#include "tz_test.h"
#include "tz_reserve.h"
#include <stdint.h>

#define NELTS(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(split_rounds_the_reserve_down)
{
    static const struct { int64_t credit; int32_t bps; int64_t reserve; } t[] = {
        {2125, 1000, 212}, {2125, 1500, 318}, {9, 1000, 0}, {10, 1000, 1}, {0, 1000, 0},
        {1, 10000, 1}, {12345, 0, 0}, {12345, 10000, 12345}, {9999, 1, 0}, {10000, 1, 1},
        {19999, 5000, 9999}, {3, 3333, 0}, {INT64_MAX, 10000, INT64_MAX},
        {INT64_MAX, 5000, INT64_MAX / 2}, {INT64_MAX, 1, INT64_MAX / 10000}};
    for (size_t i = 0; i < NELTS(t); i++) {
        int64_t r = -1, p = -1;
        ck_assert_int_eq(tz_reserve_split(t[i].credit, t[i].bps, &r, &p), 0);
        ck_assert_msg(r == t[i].reserve, "case %zu: reserve %lld", i, (long long)r);
        ck_assert_msg(r + p == t[i].credit, "case %zu: the sum is not exact", i);
    }
}
END_TEST

/* The creator never gets less than credit - credit * bps / 10000 (exact
 * rational), over a sweep of small credits and every tenth of a percent. */
START_TEST(split_never_shorts_the_creator)
{
    for (int64_t c = 0; c <= 3000; c += 7)
        for (int32_t b = 0; b <= 10000; b += 10) {
            int64_t r, p;
            ck_assert_int_eq(tz_reserve_split(c, b, &r, &p), 0);
            ck_assert(r >= 0 && p >= 0 && r + p == c);
            ck_assert(p * 10000 >= c * (10000 - b));       /* payable >= exact share */
            ck_assert((r + 1) * 10000 > c * b);            /* and r is the floor */
        }
}
END_TEST

START_TEST(split_refuses_outside_its_domain)
{
    int64_t r = 5, p = 6;
    ck_assert_int_eq(tz_reserve_split(-1, 1000, &r, &p), -1);
    ck_assert_int_eq(tz_reserve_split(100, -1, &r, &p), -1);
    ck_assert_int_eq(tz_reserve_split(100, 10001, &r, &p), -1);
    ck_assert(r == 5 && p == 6);
}
END_TEST

START_TEST(directive_spellings)
{
    static const struct { const char *rate, *days; int ok; int32_t bps, n; } t[] = {
        {"10", "90", 1, 1000, 90}, {"10%", "90", 1, 1000, 90}, {"2.5%", "7", 1, 250, 7},
        {"100", "3660", 1, 10000, 3660}, {"Off", NULL, 1, 0, 0}, {"off", NULL, 1, 0, 0},
        {"10", NULL, 0, 0, 0}, {"0", "90", 0, 0, 0}, {"10", "0", 0, 0, 0},
        {"10", "3661", 0, 0, 0}, {"10", "-5", 0, 0, 0}, {"10", "9d", 0, 0, 0},
        {"10", "", 0, 0, 0}, {"101", "90", 0, 0, 0}, {"ten", "90", 0, 0, 0},
        {"Off", "90", 0, 0, 0}};
    for (size_t i = 0; i < NELTS(t); i++) {
        int32_t b = -7, n = -7;
        const char *why = tz_reserve_parse(t[i].rate, t[i].days, &b, &n);
        ck_assert_msg((why == NULL) == t[i].ok, "case %zu: %s", i, why ? why : "accepted");
        if (t[i].ok)
            ck_assert(b == t[i].bps && n == t[i].n);
    }
}
END_TEST

START_TEST(days_spellings)
{
    int32_t n = -1;
    ck_assert_ptr_null(tz_parse_days("0", &n));
    ck_assert_int_eq(n, 0);
    ck_assert_ptr_null(tz_parse_days("30", &n));
    ck_assert_int_eq(n, 30);
    ck_assert_ptr_nonnull(tz_parse_days("+3", &n));
    ck_assert_ptr_nonnull(tz_parse_days("3 ", &n));
    ck_assert_ptr_nonnull(tz_parse_days("030", &n));
    ck_assert_ptr_nonnull(tz_parse_days("99999999999999999999", &n));
    ck_assert_ptr_nonnull(tz_parse_days(NULL, &n));
}
END_TEST

static Suite *reserve_suite(void)
{
    Suite *s = suite_create("reserve");
    TCase *tc = tz_tcase("reserve");
    tcase_add_test(tc, split_rounds_the_reserve_down);
    tcase_add_test(tc, split_never_shorts_the_creator);
    tcase_add_test(tc, split_refuses_outside_its_domain);
    tcase_add_test(tc, directive_spellings);
    tcase_add_test(tc, days_spellings);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(reserve_suite)
