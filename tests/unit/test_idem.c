#include "tz_test.h"
#include "tz_idem.h"
#include "tz_json.h"
#include <string.h>

static json_t *parse(const char *s)
{
    const char *err;
    return tz_json_parse(tz_tp, s, strlen(s), &err);
}

START_TEST(same_request_same_fingerprint)
{
    const char *a = tz_idem_fingerprint(tz_tp, "POST", "/payments/initiate",
                                        parse("{\"amount\":100,\"currency\":\"ZMW\"}"));
    const char *b = tz_idem_fingerprint(tz_tp, "POST", "/payments/initiate",
                                        parse("{ \"currency\" : \"ZMW\", \"amount\": 100 }"));
    ck_assert_str_eq(a, b);
    ck_assert_uint_eq(strlen(a), 64);
}
END_TEST

START_TEST(any_difference_changes_fingerprint)
{
    json_t *body = parse("{\"amount\":100,\"currency\":\"ZMW\"}");
    const char *base = tz_idem_fingerprint(tz_tp, "POST", "/payments/initiate", body);
    ck_assert_str_ne(base, tz_idem_fingerprint(tz_tp, "POST", "/payments/initiate",
                                               parse("{\"amount\":101,\"currency\":\"ZMW\"}")));
    ck_assert_str_ne(base, tz_idem_fingerprint(tz_tp, "POST", "/payouts/request", body));
    ck_assert_str_ne(base, tz_idem_fingerprint(tz_tp, "PUT", "/payments/initiate", body));
    ck_assert_str_ne(base, tz_idem_fingerprint(tz_tp, "POST", "/payments/initiate",
                                               parse("{\"amount\":100,\"currency\":\"ZMW\",\"message\":\"\"}")));
    ck_assert_str_ne(base, tz_idem_fingerprint(tz_tp, "POST", "/payments/initiate", NULL));
}
END_TEST

static Suite *idem_suite(void)
{
    Suite *s = suite_create("idempotency");
    TCase *tc = tz_tcase("fingerprint");
    tcase_add_test(tc, same_request_same_fingerprint);
    tcase_add_test(tc, any_difference_changes_fingerprint);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(idem_suite)
