/* The tax rule on the cases of tests/fixtures/tax_cases.json (which the
 * SQL rule answers too, tests/integration/test_invoices.py), on the
 * halves that decide the rounding, and outside its domain. */
#include "tz_test.h"
#include "tz_tax.h"
#include <jansson.h>

#define MAX53 (INT64_C(1) << 53)

static void expect(int64_t price, int bps, int inclusive, int64_t amount, int64_t tax)
{
    int64_t a = -1, t = -1;
    ck_assert_int_eq(tz_tax_apply(price, bps, inclusive, &a, &t), 0);
    ck_assert_msg(a == amount && t == tax, "%lld at %d bps %s: %lld (tax %lld), not %lld (%lld)",
                  (long long)price, bps, inclusive ? "inclusive" : "exclusive", (long long)a,
                  (long long)t, (long long)amount, (long long)tax);
}

START_TEST(rounding_half_up)
{
    expect(1160, 1600, 1, 1160, 160);  /* exactly 160 */
    expect(1000, 1600, 0, 1160, 160);
    expect(101, 1600, 1, 101, 14);     /* 13.93 */
    expect(50, 100, 0, 51, 1);         /* 0.5 rounds up */
    expect(49, 100, 0, 49, 0);         /* 0.49 rounds down */
    expect(201, 10000, 1, 201, 101);   /* 100.5 rounds up */
    expect(0, 1600, 0, 0, 0);
    expect(12345, 0, 0, 12345, 0);     /* no tax */
    expect(MAX53, 10000, 0, 2 * MAX53, MAX53);
    expect(MAX53, 1, 1, MAX53, INT64_C(900629862488));
}
END_TEST

START_TEST(outside_the_domain)
{
    int64_t a = 7, t = 7;
    ck_assert_int_eq(tz_tax_apply(-1, 1600, 1, &a, &t), -1);
    ck_assert_int_eq(tz_tax_apply(MAX53 + 1, 1600, 1, &a, &t), -1);
    ck_assert_int_eq(tz_tax_apply(100, -1, 1, &a, &t), -1);
    ck_assert_int_eq(tz_tax_apply(100, 10001, 0, &a, &t), -1);
    ck_assert(a == 7 && t == 7);
}
END_TEST

START_TEST(the_shared_cases)
{
    json_error_t err;
    json_t *doc = json_load_file(TZ_FIXTURES_DIR "/tax_cases.json", 0, &err), *c;
    size_t i;
    ck_assert_msg(doc != NULL, "tax_cases.json: %s (line %d)", err.text, err.line);
    ck_assert(json_array_size(json_object_get(doc, "cases")) > 100);
    json_array_foreach(json_object_get(doc, "cases"), i, c)
        expect(json_integer_value(json_object_get(c, "price")),
               (int)json_integer_value(json_object_get(c, "bps")),
               json_is_true(json_object_get(c, "inclusive")),
               json_integer_value(json_object_get(c, "amount")),
               json_integer_value(json_object_get(c, "tax")));
    json_decref(doc);
}
END_TEST

static Suite *tax_suite(void)
{
    Suite *s = suite_create("tax");
    TCase *rule = tz_tcase("rule");
    tcase_add_test(rule, rounding_half_up);
    tcase_add_test(rule, outside_the_domain);
    tcase_add_test(rule, the_shared_cases);
    suite_add_tcase(s, rule);
    return s;
}

TZ_TEST_MAIN(tax_suite)
