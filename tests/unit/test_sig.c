/* Webhook signature vectors: "t=..,v1=.." (generic and Stripe) and verif-hash. */
#include "tz_test.h"
#include "tz_sig.h"
#include "tz_crypto.h"
#include <string.h>

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *SECRET = "whsec_test_secret_0123456789";
static const char *BODY = "{\"payment_id\":\"p\",\"status\":\"success\"}";
static const long long NOW = 1800000000;
static const char *TS = "1800000000"; /* NOW in a header */

static tz_sig_status_e verify(const char *header, const char *body)
{
    return tz_sig_verify_tv1(header, SECRET, strlen(SECRET), body, strlen(body), NOW, 300);
}

static char *sign_at(const char *secret, const char *body, long long t)
{
    return tz_sig_sign_tv1(tz_tp, secret, strlen(secret), body, strlen(body), t);
}

/* The hex MAC of a header made by tz_sig_sign_tv1. */
static const char *v1_of(const char *header)
{
    return strstr(header, "v1=") + 3;
}

START_TEST(known_vector)
{
    /* Independent of the signer: HMAC-SHA256(secret, "1800000000." || body). */
    unsigned char mac[TZ_SHA256_LEN];
    char *msg = apr_pstrcat(tz_tp, "1800000000.", BODY, NULL);
    ck_assert_int_eq(tz_hmac_sha256(SECRET, strlen(SECRET), msg, strlen(msg), mac), 0);
    char *h = apr_pstrcat(tz_tp, "t=1800000000,v1=", tz_hex_encode(tz_tp, mac, sizeof mac), NULL);
    ck_assert_str_eq(sign_at(SECRET, BODY, NOW), h);
    ck_assert_int_eq(verify(h, BODY), TZ_SIG_OK);
}
END_TEST

START_TEST(tolerance_edges)
{
    static const struct { long long dt; tz_sig_status_e want; } t[] = {
        {0, TZ_SIG_OK},      {-300, TZ_SIG_OK},    {300, TZ_SIG_OK},
        {-301, TZ_SIG_STALE}, {301, TZ_SIG_STALE}, {-86400, TZ_SIG_STALE},
        {86400, TZ_SIG_STALE}, {-NOW, TZ_SIG_STALE},
    };
    for (size_t i = 0; i < LEN(t); i++)
        ck_assert_msg(verify(sign_at(SECRET, BODY, NOW + t[i].dt), BODY) == t[i].want, "dt %lld", t[i].dt);
    /* a zero tolerance still accepts the very second */
    char *h = sign_at(SECRET, BODY, NOW);
    ck_assert_int_eq(tz_sig_verify_tv1(h, SECRET, strlen(SECRET), BODY, strlen(BODY), NOW, 0), TZ_SIG_OK);
    ck_assert_int_eq(tz_sig_verify_tv1(h, SECRET, strlen(SECRET), BODY, strlen(BODY), NOW + 1, 0), TZ_SIG_STALE);
    ck_assert_int_eq(tz_sig_verify_tv1(h, SECRET, strlen(SECRET), BODY, strlen(BODY), NOW, -1), TZ_SIG_STALE);
    /* an extreme clock or tolerance does not overflow */
    ck_assert_int_eq(tz_sig_verify_tv1(h, SECRET, strlen(SECRET), BODY, strlen(BODY), INT64_MIN, 300), TZ_SIG_STALE);
    ck_assert_int_eq(tz_sig_verify_tv1(h, SECRET, strlen(SECRET), BODY, strlen(BODY), NOW, INT64_MAX), TZ_SIG_OK);
}
END_TEST

START_TEST(wrong_secret_and_tampering)
{
    char *h = sign_at(SECRET, BODY, NOW);
    ck_assert_int_eq(verify(sign_at("another_secret_abcdefghijkl", BODY, NOW), BODY), TZ_SIG_MISMATCH);
    ck_assert_int_eq(verify(h, "{\"payment_id\":\"p\",\"status\":\"failed\"}"), TZ_SIG_MISMATCH);
    ck_assert_int_eq(verify(h, apr_pstrcat(tz_tp, BODY, " ", NULL)), TZ_SIG_MISMATCH);
    ck_assert_int_eq(verify(h, ""), TZ_SIG_MISMATCH);
    /* the timestamp is signed too */
    ck_assert_int_eq(verify(apr_psprintf(tz_tp, "t=%" APR_INT64_T_FMT ",v1=%s", (apr_int64_t)(NOW + 1), v1_of(h)),
                            BODY), TZ_SIG_MISMATCH);
    /* a flipped hex digit of the MAC */
    char *flipped = apr_pstrdup(tz_tp, h);
    char *last = flipped + strlen(flipped) - 1;
    *last = *last == '0' ? '1' : '0';
    ck_assert_int_eq(verify(flipped, BODY), TZ_SIG_MISMATCH);
    /* without a secret nothing matches, not even a MAC made with an empty key */
    char *empty_key = tz_sig_sign_tv1(tz_tp, "", 0, BODY, strlen(BODY), NOW);
    ck_assert_ptr_null(empty_key);
    ck_assert_int_eq(tz_sig_verify_tv1(h, NULL, 0, BODY, strlen(BODY), NOW, 300), TZ_SIG_MISMATCH);
    ck_assert_int_eq(tz_sig_verify_tv1(h, "", 0, BODY, strlen(BODY), NOW, 300), TZ_SIG_MISMATCH);
}
END_TEST

START_TEST(binary_and_empty_bodies)
{
    static const char bin[] = "a\0b\0c";
    char *h = tz_sig_sign_tv1(tz_tp, SECRET, strlen(SECRET), bin, sizeof bin - 1, NOW);
    ck_assert_int_eq(tz_sig_verify_tv1(h, SECRET, strlen(SECRET), bin, sizeof bin - 1, NOW, 300), TZ_SIG_OK);
    ck_assert_int_eq(tz_sig_verify_tv1(h, SECRET, strlen(SECRET), bin, 1, NOW, 300), TZ_SIG_MISMATCH);
    char *e = tz_sig_sign_tv1(tz_tp, SECRET, strlen(SECRET), NULL, 0, NOW);
    ck_assert_int_eq(tz_sig_verify_tv1(e, SECRET, strlen(SECRET), "", 0, NOW, 300), TZ_SIG_OK);
}
END_TEST

START_TEST(several_v1_and_other_schemes)
{
    char *good = sign_at(SECRET, BODY, NOW);
    char *old = sign_at("old_secret_0123456789abcdef", BODY, NOW);
    const char *zero = "0000000000000000000000000000000000000000000000000000000000000000";
    char *upper = apr_pstrdup(tz_tp, v1_of(good));
    for (char *c = upper; *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'f' ? *c - 'a' + 'A' : *c);
    struct { const char *name; const char *h; tz_sig_status_e want; } t[] = {
        {"good one second", apr_psprintf(tz_tp, "t=%s,v1=%s,v1=%s", TS, v1_of(old), v1_of(good)), TZ_SIG_OK},
        {"good one first", apr_psprintf(tz_tp, "t=%s,v1=%s,v1=%s", TS, v1_of(good), v1_of(old)), TZ_SIG_OK},
        {"v0 ignored", apr_psprintf(tz_tp, "t=%s,v0=abc,v1=%s", TS, v1_of(good)), TZ_SIG_OK},
        {"v0 with the good MAC", apr_psprintf(tz_tp, "t=%s,v0=%s,v1=%s", TS, v1_of(good), zero), TZ_SIG_MISMATCH},
        {"v1 before t", apr_psprintf(tz_tp, "v1=%s,t=%s", v1_of(good), TS), TZ_SIG_OK},
        {"spaces after commas", apr_psprintf(tz_tp, "t=%s, v1=%s", TS, v1_of(good)), TZ_SIG_OK},
        {"upper-case hex", apr_psprintf(tz_tp, "t=%s,v1=%s", TS, upper), TZ_SIG_OK},
        {"unknown keys", apr_psprintf(tz_tp, "x=1,t=%s,v2=zz,v1=%s,", TS, v1_of(good)), TZ_SIG_OK},
        {"only old secret", apr_psprintf(tz_tp, "t=%s,v1=%s", TS, v1_of(old)), TZ_SIG_MISMATCH},
        {"eight v1, good last", apr_psprintf(tz_tp, "t=%s,v1=%s,v1=%s,v1=%s,v1=%s,v1=%s,v1=%s,v1=%s,v1=%s", TS,
                                             zero, zero, zero, zero, zero, zero, zero, v1_of(good)), TZ_SIG_OK},
        {"nine v1", apr_psprintf(tz_tp, "t=%s,v1=%s,v1=%s,v1=%s,v1=%s,v1=%s,v1=%s,v1=%s,v1=%s,v1=%s", TS,
                                 zero, zero, zero, zero, zero, zero, zero, zero, v1_of(good)), TZ_SIG_MALFORMED},
    };
    for (size_t i = 0; i < LEN(t); i++)
        ck_assert_msg(verify(t[i].h, BODY) == t[i].want, "%s: %s", t[i].name, t[i].h);
}
END_TEST

START_TEST(missing_header)
{
    ck_assert_int_eq(verify(NULL, BODY), TZ_SIG_MISSING);
    ck_assert_int_eq(verify("", BODY), TZ_SIG_MISSING);
}
END_TEST

START_TEST(malformed_headers)
{
    const char *mac = v1_of(sign_at(SECRET, BODY, NOW));
    const char *bad[] = {
        "t=", "t", "t=abc,v1=00", apr_psprintf(tz_tp, "t=abc,v1=%s", mac),
        apr_psprintf(tz_tp, "v1=%s", mac), "t=1800000000", "t=1800000000,v1=", "t=1800000000,v1",
        "t=1800000000,v1=abc", "t=1800000000,v0=abc", "garbage", ",,,", " ",
        "t=1800000000,v1=zz00000000000000000000000000000000000000000000000000000000000000",
        apr_psprintf(tz_tp, "t=1800000000,v1=%s0", mac),             /* odd length */
        apr_psprintf(tz_tp, "t=1800000000,v1=%.63s", mac),           /* odd length */
        apr_psprintf(tz_tp, "t=1800000000,v1=%s00", mac),            /* too long */
        apr_psprintf(tz_tp, "t=-1800000000,v1=%s", mac), apr_psprintf(tz_tp, "t=+1800000000,v1=%s", mac),
        apr_psprintf(tz_tp, "t=1800000000.5,v1=%s", mac), apr_psprintf(tz_tp, "t= 1800000000,v1=%s", mac),
        apr_psprintf(tz_tp, "t=1800000000 ,v1=%s", mac), apr_psprintf(tz_tp, "t=0x6B49D200,v1=%s", mac),
        apr_psprintf(tz_tp, "t=1234567890123,v1=%s", mac),          /* 13 digits */
        apr_psprintf(tz_tp, "t=1800000000,t=1800000000,v1=%s", mac), /* t twice */
        apr_psprintf(tz_tp, "t=1800000000;v1=%s", mac),
    };
    for (size_t i = 0; i < LEN(bad); i++)
        ck_assert_msg(verify(bad[i], BODY) == TZ_SIG_MALFORMED, "header: %s", bad[i]);
}
END_TEST

START_TEST(verif_hash)
{
    static const struct { const char *header; const char *secret; tz_sig_status_e want; } t[] = {
        {"flw-hash-123", "flw-hash-123", TZ_SIG_OK},
        {"flw-hash-124", "flw-hash-123", TZ_SIG_MISMATCH},
        {"Flw-hash-123", "flw-hash-123", TZ_SIG_MISMATCH},
        {"flw-hash-12", "flw-hash-123", TZ_SIG_MISMATCH},
        {"flw-hash-1234", "flw-hash-123", TZ_SIG_MISMATCH},
        {"flw-hash-123 ", "flw-hash-123", TZ_SIG_MISMATCH},
        {NULL, "flw-hash-123", TZ_SIG_MISSING},
        {"", "flw-hash-123", TZ_SIG_MISSING},
        {"x", "", TZ_SIG_MISMATCH},
    };
    for (size_t i = 0; i < LEN(t); i++)
        ck_assert_msg(tz_sig_verify_hash(t[i].header, t[i].secret, strlen(t[i].secret)) == t[i].want,
                      "row %zu", i);
    ck_assert_int_eq(tz_sig_verify_hash("x", NULL, 0), TZ_SIG_MISMATCH);
}
END_TEST

START_TEST(status_strings)
{
    static const tz_sig_status_e all[] = {TZ_SIG_OK, TZ_SIG_MISSING, TZ_SIG_MALFORMED, TZ_SIG_STALE,
                                          TZ_SIG_MISMATCH};
    for (size_t i = 0; i < LEN(all); i++)
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(tz_sig_status_str(all[i]), tz_sig_status_str(all[j]));
}
END_TEST

static Suite *sig_suite(void)
{
    Suite *s = suite_create("signatures");
    TCase *tc = tz_tcase("tv1");
    tcase_add_test(tc, known_vector);
    tcase_add_test(tc, tolerance_edges);
    tcase_add_test(tc, wrong_secret_and_tampering);
    tcase_add_test(tc, binary_and_empty_bodies);
    tcase_add_test(tc, several_v1_and_other_schemes);
    tcase_add_test(tc, missing_header);
    tcase_add_test(tc, malformed_headers);
    suite_add_tcase(s, tc);
    tc = tz_tcase("verif-hash");
    tcase_add_test(tc, verif_hash);
    tcase_add_test(tc, status_strings);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(sig_suite)
