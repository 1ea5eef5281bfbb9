/* Platform fee: round half up, integers only, overflow refused. */
#include "tz_test.h"
#include "tz_fee.h"

START_TEST(fee_table)
{
    static const struct { int64_t gross; int32_t bps; int64_t fee; } t[] = {
        {100, 1500, 15}, {3, 1500, 0}, {10, 1500, 2}, {1, 250, 0}, {20, 250, 1},
        {19, 250, 0}, {1, 5000, 1}, {1, 4999, 0}, {12345, 1500, 1852}, {333, 1500, 50},
        {100, 0, 0}, {100, 10000, 100}, {INT64_C(9007199254740992), 10000, INT64_C(9007199254740992)},
        {INT64_C(9007199254740992), 1500, INT64_C(1351079888211149)},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int64_t fee = -1, net = -1;
        ck_assert_int_eq(tz_fee_compute(t[i].gross, t[i].bps, &fee, &net), 0);
        ck_assert_msg(fee == t[i].fee, "fee(%lld, %d) = %lld", (long long)t[i].gross, t[i].bps, (long long)fee);
        ck_assert_int_eq(net, t[i].gross - t[i].fee);
    }
}
END_TEST

START_TEST(fee_refusals)
{
    int64_t fee, net;
    ck_assert_int_eq(tz_fee_compute(INT64_MAX, 1500, &fee, &net), -1);
    ck_assert_int_eq(tz_fee_compute(TZ_FEE_MAX_AMOUNT + 1, 1500, &fee, &net), -1);
    ck_assert_int_eq(tz_fee_compute(0, 1500, &fee, &net), -1);
    ck_assert_int_eq(tz_fee_compute(-100, 1500, &fee, &net), -1);
    ck_assert_int_eq(tz_fee_compute(100, -1, &fee, &net), -1);
    ck_assert_int_eq(tz_fee_compute(100, 10001, &fee, &net), -1);
}
END_TEST

static Suite *fee_suite(void)
{
    Suite *s = suite_create("fee");
    TCase *tc = tz_tcase("fee");
    tcase_add_test(tc, fee_table);
    tcase_add_test(tc, fee_refusals);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(fee_suite)
