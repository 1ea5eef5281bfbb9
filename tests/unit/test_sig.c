/* Webhook signature vectors: "t=..,v1=.." (generic and Stripe) and verif-hash. */
#include "tz_test.h"
#include "tz_sig.h"
#include <string.h>

static const char *SECRET = "whsec_test_secret_0123456789";
static const char *BODY = "{\"payment_id\":\"p\",\"status\":\"success\"}";
static const long long NOW = 1800000000;

static tz_sig_status_e verify(const char *header, const char *body)
{
    return tz_sig_verify_tv1(header, SECRET, strlen(SECRET), body, strlen(body), NOW, 300);
}

START_TEST(valid_and_tolerance_edges)
{
    ck_assert_int_eq(verify(tz_sig_sign_tv1(tz_tp, SECRET, strlen(SECRET), BODY, strlen(BODY), NOW), BODY), TZ_SIG_OK);
    ck_assert_int_eq(verify(tz_sig_sign_tv1(tz_tp, SECRET, strlen(SECRET), BODY, strlen(BODY), NOW - 300), BODY), TZ_SIG_OK);
    ck_assert_int_eq(verify(tz_sig_sign_tv1(tz_tp, SECRET, strlen(SECRET), BODY, strlen(BODY), NOW + 300), BODY), TZ_SIG_OK);
    ck_assert_int_eq(verify(tz_sig_sign_tv1(tz_tp, SECRET, strlen(SECRET), BODY, strlen(BODY), NOW - 301), BODY), TZ_SIG_STALE);
    ck_assert_int_eq(verify(tz_sig_sign_tv1(tz_tp, SECRET, strlen(SECRET), BODY, strlen(BODY), NOW + 301), BODY), TZ_SIG_STALE);
}
END_TEST

START_TEST(wrong_secret_and_tampered_body)
{
    const char *other = "another_secret_abcdefghijkl";
    ck_assert_int_eq(verify(tz_sig_sign_tv1(tz_tp, other, strlen(other), BODY, strlen(BODY), NOW), BODY), TZ_SIG_MISMATCH);
    char *h = tz_sig_sign_tv1(tz_tp, SECRET, strlen(SECRET), BODY, strlen(BODY), NOW);
    ck_assert_int_eq(verify(h, "{\"payment_id\":\"p\",\"status\":\"failed\"}"), TZ_SIG_MISMATCH);
    /* the timestamp is signed too */
    char *moved = apr_psprintf(tz_tp, "t=%" APR_INT64_T_FMT ",%s", (apr_int64_t)(NOW + 1), strchr(h, ',') + 1);
    ck_assert_int_eq(verify(moved, BODY), TZ_SIG_MISMATCH);
}
END_TEST

START_TEST(several_v1_and_other_schemes)
{
    const char *old = "old_secret_0123456789abcdef";
    char *good = tz_sig_sign_tv1(tz_tp, SECRET, strlen(SECRET), BODY, strlen(BODY), NOW);
    char *stale = tz_sig_sign_tv1(tz_tp, old, strlen(old), BODY, strlen(BODY), NOW);
    char *h = apr_psprintf(tz_tp, "t=%" APR_INT64_T_FMT ",v0=abc,v1=%s,v1=%s", (apr_int64_t)NOW, strstr(stale, "v1=") + 3,
                           strstr(good, "v1=") + 3);
    ck_assert_int_eq(verify(h, BODY), TZ_SIG_OK);
}
END_TEST

START_TEST(malformed_headers)
{
    const char *bad[] = {"t=", "t=abc,v1=00", "v1=0011", "t=1800000000", "t=1800000000,v1=",
                         "t=1800000000,v1=abc", "garbage", ",,,", "t=1800000000,v1=zz"
                         "00000000000000000000000000000000000000000000000000000000000000"};
    ck_assert_int_eq(verify(NULL, BODY), TZ_SIG_MISSING);
    ck_assert_int_eq(verify("", BODY), TZ_SIG_MISSING);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(verify(bad[i], BODY) == TZ_SIG_MALFORMED, "header: %s", bad[i]);
}
END_TEST

START_TEST(verif_hash)
{
    ck_assert_int_eq(tz_sig_verify_hash("flw-hash-123", "flw-hash-123", 12), TZ_SIG_OK);
    ck_assert_int_eq(tz_sig_verify_hash("flw-hash-124", "flw-hash-123", 12), TZ_SIG_MISMATCH);
    ck_assert_int_eq(tz_sig_verify_hash("flw-hash-12", "flw-hash-123", 12), TZ_SIG_MISMATCH);
    ck_assert_int_eq(tz_sig_verify_hash(NULL, "flw-hash-123", 12), TZ_SIG_MISSING);
}
END_TEST

static Suite *sig_suite(void)
{
    Suite *s = suite_create("signatures");
    TCase *tc = tz_tcase("tv1");
    tcase_add_test(tc, valid_and_tolerance_edges);
    tcase_add_test(tc, wrong_secret_and_tampered_body);
    tcase_add_test(tc, several_v1_and_other_schemes);
    tcase_add_test(tc, malformed_headers);
    tcase_add_test(tc, verif_hash);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(sig_suite)
