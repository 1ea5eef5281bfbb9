/* The biller protocol: request bodies, signing, URLs and the verdict rule. */
#include "tz_test.h"
#include "tz_biller.h"
#include "tz_sig.h"
#include <string.h>

static const char *SECRET = "biller_secret_0123456789abcdef";

static tz_bill_verdict_e answer(int status, const char *body, tz_bill_answer_t *a)
{
    return tz_biller_answer(tz_tp, status, body, body ? strlen(body) : 0, a);
}

START_TEST(bodies)
{
    ck_assert_str_eq(tz_biller_validate_body(tz_tp, "04123"), "{\"customer\":\"04123\"}");
    ck_assert_str_eq(tz_biller_pay_body(tz_tp, "p1", "04123", 1500, "ZMW"),
                     "{\"payment_id\":\"p1\",\"customer\":\"04123\",\"amount\":1500,"
                     "\"currency\":\"ZMW\"}");
    ck_assert_str_eq(tz_biller_status_body(tz_tp, "p1"), "{\"payment_id\":\"p1\"}");
    /* quotes and control characters are escaped, never spliced */
    ck_assert_str_eq(tz_biller_validate_body(tz_tp, "a\"b\n"), "{\"customer\":\"a\\\"b\\n\"}");
}
END_TEST

START_TEST(signed_request)
{
    tz_out_req_t rq;
    const char *body = tz_biller_status_body(tz_tp, "p1"), *sig = NULL;
    tz_biller_request(tz_tp, "http://127.0.0.1:9/api/", "status", body, SECRET, strlen(SECRET),
                      1800000000, &rq);
    ck_assert_str_eq(rq.method, "POST");
    ck_assert_str_eq(rq.url, "http://127.0.0.1:9/api/status");
    ck_assert_str_eq(rq.body, body);
    ck_assert_uint_eq(rq.bodylen, strlen(body));
    for (int i = 0; i < rq.headers->nelts; i++) {
        const char *h = APR_ARRAY_IDX(rq.headers, i, const char *);
        if (strncmp(h, "X-Tipzed-Signature: ", 20) == 0)
            sig = h + 20;
    }
    ck_assert_ptr_nonnull(sig);
    ck_assert_int_eq(tz_sig_verify_tv1(sig, SECRET, strlen(SECRET), body, strlen(body),
                                       1800000000, 300), TZ_SIG_OK);
    ck_assert_int_eq(tz_sig_verify_tv1(sig, "other-secret-0123456789", 23, body, strlen(body),
                                       1800000000, 300), TZ_SIG_MISMATCH);
    tz_biller_request(tz_tp, "http://b.example", "pay", "{}", SECRET, strlen(SECRET), 1, &rq);
    ck_assert_str_eq(rq.url, "http://b.example/pay");
    tz_biller_request(tz_tp, "ftp://b.example", "pay", "{}", SECRET, strlen(SECRET), 1, &rq);
    ck_assert_ptr_null(rq.url);
}
END_TEST

START_TEST(urls)
{
    ck_assert_int_eq(tz_biller_url_ok("https://biller.example/v1"), 1);
    ck_assert_int_eq(tz_biller_url_ok("http://127.0.0.1:8080"), 1);
    ck_assert_int_eq(tz_biller_url_ok("ftp://x"), 0);
    ck_assert_int_eq(tz_biller_url_ok("http://"), 0);
    ck_assert_int_eq(tz_biller_url_ok("https:///path"), 0);
    ck_assert_int_eq(tz_biller_url_ok("http://a b"), 0);
    ck_assert_int_eq(tz_biller_url_ok("javascript:alert(1)"), 0);
    ck_assert_int_eq(tz_biller_url_ok(NULL), 0);
}
END_TEST

START_TEST(verdicts_from_2xx)
{
    tz_bill_answer_t a;
    ck_assert_int_eq(answer(200, "{\"status\":\"succeeded\",\"reference\":\"R1\"}", &a),
                     TZ_BILL_SUCCEEDED);
    ck_assert_str_eq(a.reference, "R1");
    ck_assert_int_eq(answer(201, "{\"status\":\"failed\",\"reason\":\"meter blocked\"}", &a),
                     TZ_BILL_FAILED);
    ck_assert_str_eq(a.reason, "meter blocked");
    ck_assert_int_eq(answer(200, "{\"status\":\"failed\"}", &a), TZ_BILL_FAILED);
    ck_assert_ptr_nonnull(a.reason);
    ck_assert_int_eq(answer(202, "{\"status\":\"pending\"}", &a), TZ_BILL_PENDING);
    /* unreadable 2xx answers decide nothing */
    ck_assert_int_eq(answer(200, "{\"status\":\"done\"}", &a), TZ_BILL_UNKNOWN);
    ck_assert_int_eq(answer(200, "{\"status\":1}", &a), TZ_BILL_UNKNOWN);
    ck_assert_int_eq(answer(200, "[]", &a), TZ_BILL_UNKNOWN);
    ck_assert_int_eq(answer(200, "not json", &a), TZ_BILL_UNKNOWN);
    ck_assert_int_eq(answer(200, "", &a), TZ_BILL_UNKNOWN);
    ck_assert_int_eq(answer(200, NULL, &a), TZ_BILL_UNKNOWN);
    /* a reference that is not a string is ignored, the verdict kept */
    ck_assert_int_eq(answer(200, "{\"status\":\"succeeded\",\"reference\":5}", &a),
                     TZ_BILL_SUCCEEDED);
    ck_assert_ptr_null(a.reference);
}
END_TEST

START_TEST(verdicts_from_status)
{
    tz_bill_answer_t a;
    static const int refusals[] = {400, 401, 403, 404, 410, 422, 499};
    static const int unknown[] = {0, 100, 301, 408, 409, 425, 429, 500, 502, 503, 504};
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        ck_assert_int_eq(answer(refusals[i], "", &a), TZ_BILL_FAILED);
        ck_assert_ptr_nonnull(a.reason);
    }
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        ck_assert_int_eq(answer(unknown[i], "{\"status\":\"succeeded\"}", &a), TZ_BILL_UNKNOWN);
    ck_assert_int_eq(answer(422, "{\"reason\":\"amount too small\"}", &a), TZ_BILL_FAILED);
    ck_assert_str_eq(a.reason, "amount too small");
}
END_TEST

START_TEST(validate_answers)
{
    const char *name;
    const char *ok = "{\"customer\":\"04123\",\"name\":\"Mwila Banda\"}";
    ck_assert_int_eq(tz_biller_customer(tz_tp, 200, ok, strlen(ok), &name), TZ_BILL_CUSTOMER_OK);
    ck_assert_str_eq(name, "Mwila Banda");
    ck_assert_int_eq(tz_biller_customer(tz_tp, 404, "", 0, &name), TZ_BILL_CUSTOMER_UNKNOWN);
    ck_assert_int_eq(tz_biller_customer(tz_tp, 422, "{}", 2, &name), TZ_BILL_CUSTOMER_UNKNOWN);
    ck_assert_int_eq(tz_biller_customer(tz_tp, 500, ok, strlen(ok), &name), TZ_BILL_UNAVAILABLE);
    ck_assert_int_eq(tz_biller_customer(tz_tp, 0, NULL, 0, &name), TZ_BILL_UNAVAILABLE);
    ck_assert_int_eq(tz_biller_customer(tz_tp, 200, "{\"name\":3}", 10, &name), TZ_BILL_UNAVAILABLE);
    ck_assert_int_eq(tz_biller_customer(tz_tp, 200, "x", 1, &name), TZ_BILL_UNAVAILABLE);
}
END_TEST

static Suite *biller_suite(void)
{
    Suite *s = suite_create("biller");
    TCase *tc = tz_tcase("requests");
    tcase_add_test(tc, bodies);
    tcase_add_test(tc, signed_request);
    tcase_add_test(tc, urls);
    suite_add_tcase(s, tc);
    tc = tz_tcase("answers");
    tcase_add_test(tc, verdicts_from_2xx);
    tcase_add_test(tc, verdicts_from_status);
    tcase_add_test(tc, validate_answers);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(biller_suite)
