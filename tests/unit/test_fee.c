/* Platform fee: round half up, integers only, overflow and range refused. */
#include "tz_test.h"
#include "tz_fee.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX53 INT64_C(9007199254740992) /* 2^53 */

START_TEST(fee_table)
{
    static const struct { int64_t gross; int32_t bps; int64_t fee; } t[] = {
        {100, 1500, 15},             /* 15% of 100 */
        {3, 1500, 0},                /* 0.45 rounds down */
        {10, 1500, 2},               /* 1.5 rounds up */
        {1, 250, 0},                 /* 2.5% of 1 = 0.025 */
        {20, 250, 1},                /* 0.5 rounds up */
        {19, 250, 0},                /* 0.475 */
        {60, 250, 2},                /* 1.5 rounds up */
        {1, 5000, 1},                /* 0.5 of the smallest unit */
        {1, 4999, 0},                /* 0.4999 */
        {1, 1, 0},                   /* 0.0001 */
        {5000, 1, 1},                /* exactly 0.5 */
        {4999, 1, 0},                /* 0.4999 */
        {12345, 1500, 1852},         /* 1851.75 */
        {333, 1500, 50},             /* 49.95 */
        {2500, 1500, 375},           /* K25.00 at 15% */
        {9999, 1500, 1500},          /* 1499.85 */
        {10001, 1500, 1500},         /* 1500.15 */
        {100, 0, 0},                 /* no fee */
        {1, 0, 0},
        {100, 10000, 100},           /* everything */
        {1, 10000, 1},
        {MAX53, 10000, MAX53},       /* the largest amount, whole */
        {MAX53, 1500, INT64_C(1351079888211149)}, /* 1351079888211148.8 */
        {MAX53, 1, INT64_C(900719925474)},        /* 900719925474.0992 */
        {MAX53 - 1, 9999, INT64_C(9006298534815517)}, /* ...516.9009 */
    };
    for (size_t i = 0; i < LEN(t); i++) {
        int64_t fee = -1, net = -1;
        ck_assert_msg(tz_fee_compute(t[i].gross, t[i].bps, &fee, &net) == 0, "row %zu refused", i);
        ck_assert_msg(fee == t[i].fee, "fee(%lld, %d) = %lld, want %lld", (long long)t[i].gross,
                      t[i].bps, (long long)fee, (long long)t[i].fee);
        ck_assert_int_eq(net, t[i].gross - t[i].fee);
        ck_assert(fee >= 0 && net >= 0);
    }
}
END_TEST

/* The definition, computed with 128-bit integers, against the 64-bit code. */
START_TEST(matches_definition)
{
    static const int32_t bps[] = {0, 1, 99, 250, 1234, 1500, 4999, 5000, 9999, 10000};
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int n = 0; n < 20000; n++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift: reproducible */
        int64_t gross = n < 10000 ? n + 1 : (int64_t)(x % (uint64_t)MAX53) + 1;
        int32_t b = bps[(size_t)n % LEN(bps)];
        __int128 want = ((__int128)gross * b + 5000) / 10000;
        int64_t fee, net;
        ck_assert_int_eq(tz_fee_compute(gross, b, &fee, &net), 0);
        ck_assert_msg((__int128)fee == want, "fee(%lld, %d)", (long long)gross, b);
        ck_assert_int_eq(fee + net, gross);
    }
}
END_TEST

START_TEST(fee_refusals)
{
    static const struct { int64_t gross; int32_t bps; } t[] = {
        {INT64_MAX, 1500},      /* would overflow a naive G * bps */
        {MAX53 + 1, 1500},      /* beyond the largest amount */
        {MAX53 + 1, 0},
        {INT64_MAX, 10000},
        {0, 1500},              /* gross must be positive */
        {-1, 1500},
        {-100, 1500},
        {INT64_MIN, 1500},
        {100, -1},              /* bps within 0..10000 */
        {100, 10001},
        {100, INT32_MAX},
        {100, INT32_MIN},
    };
    for (size_t i = 0; i < LEN(t); i++) {
        int64_t fee = 7, net = 7;
        ck_assert_msg(tz_fee_compute(t[i].gross, t[i].bps, &fee, &net) == -1, "row %zu accepted", i);
        ck_assert(fee == 7 && net == 7); /* outputs untouched on refusal */
    }
    int64_t fee;
    ck_assert_int_eq(tz_fee_compute(100, 1500, NULL, &fee), -1);
    ck_assert_int_eq(tz_fee_compute(100, 1500, &fee, NULL), -1);
}
END_TEST

static Suite *fee_suite(void)
{
    Suite *s = suite_create("fee");
    TCase *tc = tz_tcase("fee");
    tcase_add_test(tc, fee_table);
    tcase_add_test(tc, matches_definition);
    tcase_add_test(tc, fee_refusals);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(fee_suite)
