/* JWT accept/reject table (PITFALLS 9-11). Malicious tokens are built by
 * hand: base64url(header).base64url(claims).base64url(HMAC). */
#include "tz_test.h"
#include "tz_jwt.h"
#include "tz_crypto.h"
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static const char *KEY = "0123456789abcdef0123456789abcdef-test";
static const long long NOW = 1800000000;

static tz_jwt_cfg_t cfg(void)
{
    tz_jwt_cfg_t c = {(const unsigned char *)KEY, strlen(KEY), "tipzed", "tipzed-api"};
    return c;
}

static char *b64(const char *s)
{
    return tz_b64url_encode(tz_tp, (const unsigned char *)s, strlen(s));
}

/* header and claims JSON; alg names the HMAC ("HS256", "HS512") or none. */
static char *forge(const char *header, const char *claims, const char *alg, const char *key)
{
    char *signing = apr_pstrcat(tz_tp, b64(header), ".", b64(claims), NULL);
    unsigned char mac[64];
    unsigned int len = 0;
    if (!alg)
        return apr_pstrcat(tz_tp, signing, ".", NULL);
    HMAC(strcmp(alg, "HS512") == 0 ? EVP_sha512() : EVP_sha256(), key, (int)strlen(key),
         (const unsigned char *)signing, strlen(signing), mac, &len);
    return apr_pstrcat(tz_tp, signing, ".", tz_b64url_encode(tz_tp, mac, len), NULL);
}

#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define CLAIMS(exp, extra) "{\"sub\":\"u1\",\"role\":\"fan\",\"jti\":\"j\",\"iat\":1799999000," \
    "\"exp\":" exp ",\"iss\":\"tipzed\",\"aud\":\"tipzed-api\"" extra "}"

START_TEST(issue_then_verify)
{
    tz_jwt_cfg_t c = cfg();
    tz_claims_t cl;
    char *tok = tz_jwt_issue(tz_tp, &c, "user-1", "creator", "jti-1", NOW, 900);
    ck_assert_ptr_nonnull(tok);
    ck_assert_int_eq(tz_jwt_verify(tz_tp, &c, tok, NOW, &cl), TZ_JWT_OK);
    ck_assert_str_eq(cl.sub, "user-1");
    ck_assert_str_eq(cl.role, "creator");
    ck_assert_int_eq(cl.exp, NOW + 900);
    ck_assert_int_eq(tz_jwt_verify(tz_tp, &c, tok, NOW + 900, &cl), TZ_JWT_EXPIRED);
}
END_TEST

START_TEST(reject_table)
{
    tz_jwt_cfg_t c = cfg();
    tz_claims_t cl;
    char *good = forge(HS256, CLAIMS("1800000600", ""), "HS256", KEY);
    ck_assert_int_eq(tz_jwt_verify(tz_tp, &c, good, NOW, &cl), TZ_JWT_OK);
    struct { const char *name; char *token; } bad[] = {
        {"tampered payload", apr_pstrcat(tz_tp, b64("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"), ".",
                                         b64(CLAIMS("1800000600", ",\"role\":\"admin\"")),
                                         strrchr(good, '.'), NULL)},
        {"tampered signature", apr_pstrcat(tz_tp, apr_pstrndup(tz_tp, good, strlen(good) - 2), "AA", NULL)},
        {"alg none", forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", CLAIMS("1800000600", ""), NULL, KEY)},
        {"HS512", forge("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", CLAIMS("1800000600", ""), "HS512", KEY)},
        {"wrong key", forge(HS256, CLAIMS("1800000600", ""), "HS256", "another-key-another-key-another-key")},
        {"missing exp", forge(HS256, "{\"sub\":\"u1\",\"role\":\"fan\",\"jti\":\"j\",\"iat\":1,\"iss\":\"tipzed\",\"aud\":\"tipzed-api\"}", "HS256", KEY)},
        {"string exp", forge(HS256, CLAIMS("\"1800000600\"", ""), "HS256", KEY)},
        {"real exp", forge(HS256, CLAIMS("1800000600.5", ""), "HS256", KEY)},
        {"expired", forge(HS256, CLAIMS("1799999999", ""), "HS256", KEY)},
        {"wrong iss", forge(HS256, "{\"sub\":\"u1\",\"role\":\"fan\",\"jti\":\"j\",\"iat\":1,\"exp\":1800000600,\"iss\":\"x\",\"aud\":\"tipzed-api\"}", "HS256", KEY)},
        {"wrong aud", forge(HS256, "{\"sub\":\"u1\",\"role\":\"fan\",\"jti\":\"j\",\"iat\":1,\"exp\":1800000600,\"iss\":\"tipzed\",\"aud\":\"x\"}", "HS256", KEY)},
        {"missing sub", forge(HS256, "{\"role\":\"fan\",\"jti\":\"j\",\"iat\":1,\"exp\":1800000600,\"iss\":\"tipzed\",\"aud\":\"tipzed-api\"}", "HS256", KEY)},
        {"missing role", forge(HS256, "{\"sub\":\"u\",\"jti\":\"j\",\"iat\":1,\"exp\":1800000600,\"iss\":\"tipzed\",\"aud\":\"tipzed-api\"}", "HS256", KEY)},
        {"garbage", apr_pstrdup(tz_tp, "not.a.jwt")},
        {"empty", apr_pstrdup(tz_tp, "")},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(tz_jwt_verify(tz_tp, &c, bad[i].token, NOW, &cl) != TZ_JWT_OK,
                      "accepted: %s", bad[i].name);
}
END_TEST

START_TEST(short_or_empty_key_refused)
{
    tz_jwt_cfg_t c = cfg();
    tz_claims_t cl;
    char *tok = tz_jwt_issue(tz_tp, &c, "u", "fan", "j", NOW, 60);
    c.keylen = 31;
    ck_assert_ptr_null(tz_jwt_issue(tz_tp, &c, "u", "fan", "j", NOW, 60));
    ck_assert_int_eq(tz_jwt_verify(tz_tp, &c, tok, NOW, &cl), TZ_JWT_NO_KEY);
    c.key = NULL;
    c.keylen = 0;
    ck_assert_int_eq(tz_jwt_verify(tz_tp, &c, forge("{\"alg\":\"none\"}", CLAIMS("1800000600", ""), NULL, ""),
                                   NOW, &cl), TZ_JWT_NO_KEY);
}
END_TEST

static Suite *jwt_suite(void)
{
    Suite *s = suite_create("jwt");
    TCase *tc = tz_tcase("jwt");
    tcase_add_test(tc, issue_then_verify);
    tcase_add_test(tc, reject_table);
    tcase_add_test(tc, short_or_empty_key_refused);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(jwt_suite)
