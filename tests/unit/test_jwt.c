/* JWT accept/reject table.  Malicious tokens are built by
 * hand where libjwt cannot produce them:
 * base64url(header).base64url(claims).base64url(HMAC(key, signing input)). */
#include "tz_test.h"
#include "tz_jwt.h"
#include "tz_crypto.h"
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

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

/* A token from header and claims JSON; alg names the HMAC (HS256, HS384,
 * HS512), or NULL for an unsigned token with an empty signature. */
static char *forge(const char *header, const char *claims, const char *alg, const char *key)
{
    char *signing = apr_pstrcat(tz_tp, b64(header), ".", b64(claims), NULL);
    unsigned char mac[64];
    unsigned int len = 0;
    const EVP_MD *md;
    if (!alg)
        return apr_pstrcat(tz_tp, signing, ".", NULL);
    md = strcmp(alg, "HS512") == 0 ? EVP_sha512() : strcmp(alg, "HS384") == 0 ? EVP_sha384()
                                                                                : EVP_sha256();
    HMAC(md, key, (int)strlen(key), (const unsigned char *)signing, strlen(signing), mac, &len);
    return apr_pstrcat(tz_tp, signing, ".", tz_b64url_encode(tz_tp, mac, len), NULL);
}

#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
/* All claims, with exp given and extra members appended. */
#define CLAIMS(exp, extra) "{\"sub\":\"u1\",\"role\":\"fan\",\"jti\":\"j\",\"iat\":1799999000," \
    "\"exp\":" exp ",\"iss\":\"tipzed\",\"aud\":\"tipzed-api\"" extra "}"
/* All claims but one replaced: name/value pairs written out in full. */
#define BASE_NO_SUB "\"role\":\"fan\",\"jti\":\"j\",\"iat\":1,\"exp\":1800000600,\"iss\":\"tipzed\",\"aud\":\"tipzed-api\""
#define BASE_NO_ROLE "\"sub\":\"u1\",\"jti\":\"j\",\"iat\":1,\"exp\":1800000600,\"iss\":\"tipzed\",\"aud\":\"tipzed-api\""
#define BASE_NO_JTI "\"sub\":\"u1\",\"role\":\"fan\",\"iat\":1,\"exp\":1800000600,\"iss\":\"tipzed\",\"aud\":\"tipzed-api\""
#define BASE_NO_EXP "\"sub\":\"u1\",\"role\":\"fan\",\"jti\":\"j\",\"iat\":1,\"iss\":\"tipzed\",\"aud\":\"tipzed-api\""
#define BASE_NO_IAT "\"sub\":\"u1\",\"role\":\"fan\",\"jti\":\"j\",\"exp\":1800000600,\"iss\":\"tipzed\",\"aud\":\"tipzed-api\""
#define BASE_NO_ISS "\"sub\":\"u1\",\"role\":\"fan\",\"jti\":\"j\",\"iat\":1,\"exp\":1800000600,\"aud\":\"tipzed-api\""
#define BASE_NO_AUD "\"sub\":\"u1\",\"role\":\"fan\",\"jti\":\"j\",\"iat\":1,\"exp\":1800000600,\"iss\":\"tipzed\""

static char *signed256(const char *claims)
{
    return forge(HS256, claims, "HS256", KEY);
}

START_TEST(issue_then_verify)
{
    tz_jwt_cfg_t c = cfg();
    tz_claims_t cl;
    char *tok = tz_jwt_issue(tz_tp, &c, "user-1", "creator", "jti-1", NOW, 900);
    ck_assert_ptr_nonnull(tok);
    ck_assert_int_eq(tz_jwt_verify(tz_tp, &c, tok, NOW, &cl), TZ_JWT_OK);
    ck_assert_str_eq(cl.sub, "user-1");
    ck_assert_str_eq(cl.role, "creator");
    ck_assert_str_eq(cl.jti, "jti-1");
    ck_assert_int_eq(cl.iat, NOW);
    ck_assert_int_eq(cl.exp, NOW + 900);
    ck_assert_int_eq(tz_jwt_verify(tz_tp, &c, tok, NOW + 899, &cl), TZ_JWT_OK);
    ck_assert_int_eq(tz_jwt_verify(tz_tp, &c, tok, NOW + 900, &cl), TZ_JWT_EXPIRED);
    ck_assert_ptr_null(cl.sub); /* nothing leaks out of a refused token */
    /* the header names HS256 */
    unsigned char *hdr;
    size_t hlen;
    char *dot = strchr(tok, '.');
    ck_assert_int_eq(tz_b64url_decode(tz_tp, apr_pstrndup(tz_tp, tok, (size_t)(dot - tok)), &hdr, &hlen), 0);
    ck_assert_ptr_nonnull(strstr(apr_pstrndup(tz_tp, (char *)hdr, hlen), "\"HS256\""));
    /* another issuer or audience does not accept it */
    tz_jwt_cfg_t other = c;
    other.aud = "another-api";
    ck_assert_int_eq(tz_jwt_verify(tz_tp, &other, tok, NOW, &cl), TZ_JWT_BAD_CLAIMS);
    other = c;
    other.iss = "someone-else";
    ck_assert_int_eq(tz_jwt_verify(tz_tp, &other, tok, NOW, &cl), TZ_JWT_BAD_CLAIMS);
}
END_TEST

START_TEST(forged_valid_token_accepted)
{
    tz_jwt_cfg_t c = cfg();
    tz_claims_t cl;
    ck_assert_int_eq(tz_jwt_verify(tz_tp, &c, signed256(CLAIMS("1800000600", "")), NOW, &cl), TZ_JWT_OK);
    ck_assert_str_eq(cl.sub, "u1");
    ck_assert_str_eq(cl.role, "fan");
    ck_assert_str_eq(cl.jti, "j");
    ck_assert_int_eq(cl.iat, 1799999000);
    ck_assert_int_eq(cl.exp, 1800000600);
    /* unknown extra claims are carried, not fatal; one second left is enough */
    ck_assert_int_eq(tz_jwt_verify(tz_tp, &c, signed256(CLAIMS("1800000001", ",\"x\":[1]")), NOW, &cl),
                     TZ_JWT_OK);
}
END_TEST

START_TEST(reject_table)
{
    tz_jwt_cfg_t c = cfg();
    tz_claims_t cl;
    char *good = signed256(CLAIMS("1800000600", ""));
    const char *good_sig = strrchr(good, '.');
    struct { const char *name; const char *token; tz_jwt_status_e want; } t[] = {
        {"tampered payload", apr_pstrcat(tz_tp, b64(HS256), ".", b64(CLAIMS("1800000600", ",\"role\":\"admin\"")),
                                         good_sig, NULL), TZ_JWT_MALFORMED},
        {"tampered exp", apr_pstrcat(tz_tp, b64(HS256), ".", b64(CLAIMS("1900000600", "")), good_sig, NULL),
         TZ_JWT_MALFORMED},
        {"tampered signature", apr_pstrcat(tz_tp, apr_pstrndup(tz_tp, good, strlen(good) - 2), "AA", NULL),
         TZ_JWT_MALFORMED},
        {"signature removed", apr_pstrndup(tz_tp, good, (size_t)(good_sig - good) + 1), TZ_JWT_MALFORMED},
        {"wrong key", forge(HS256, CLAIMS("1800000600", ""), "HS256", "another-key-another-key-another-key"),
         TZ_JWT_MALFORMED},
        {"HS512 with the same key", forge("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", CLAIMS("1800000600", ""), "HS512", KEY),
         TZ_JWT_BAD_ALG},
        {"HS384 with the same key", forge("{\"alg\":\"HS384\",\"typ\":\"JWT\"}", CLAIMS("1800000600", ""), "HS384", KEY),
         TZ_JWT_BAD_ALG},
        {"missing exp", signed256("{" BASE_NO_EXP "}"), TZ_JWT_BAD_CLAIMS},
        {"string exp", signed256(CLAIMS("\"1800000600\"", "")), TZ_JWT_BAD_CLAIMS},
        {"real exp", signed256(CLAIMS("1800000600.5", "")), TZ_JWT_BAD_CLAIMS},
        {"real exp, integral", signed256(CLAIMS("1.8000006e9", "")), TZ_JWT_BAD_CLAIMS},
        {"null exp", signed256(CLAIMS("null", "")), TZ_JWT_BAD_CLAIMS},
        {"boolean exp", signed256(CLAIMS("true", "")), TZ_JWT_BAD_CLAIMS},
        {"expired", signed256(CLAIMS("1799999999", "")), TZ_JWT_EXPIRED},
        {"expires now", signed256(CLAIMS("1800000000", "")), TZ_JWT_EXPIRED},
        {"missing iat", signed256("{" BASE_NO_IAT "}"), TZ_JWT_BAD_CLAIMS},
        {"string iat", signed256("{" BASE_NO_IAT ",\"iat\":\"1\"}"), TZ_JWT_BAD_CLAIMS},
        {"wrong iss", signed256("{" BASE_NO_ISS ",\"iss\":\"x\"}"), TZ_JWT_BAD_CLAIMS},
        {"missing iss", signed256("{" BASE_NO_ISS "}"), TZ_JWT_BAD_CLAIMS},
        {"iss prefix", signed256("{" BASE_NO_ISS ",\"iss\":\"tipzed2\"}"), TZ_JWT_BAD_CLAIMS},
        {"wrong aud", signed256("{" BASE_NO_AUD ",\"aud\":\"x\"}"), TZ_JWT_BAD_CLAIMS},
        {"missing aud", signed256("{" BASE_NO_AUD "}"), TZ_JWT_BAD_CLAIMS},
        {"aud array", signed256("{" BASE_NO_AUD ",\"aud\":[\"tipzed-api\"]}"), TZ_JWT_BAD_CLAIMS},
        {"missing sub", signed256("{" BASE_NO_SUB "}"), TZ_JWT_BAD_CLAIMS},
        {"empty sub", signed256("{" BASE_NO_SUB ",\"sub\":\"\"}"), TZ_JWT_BAD_CLAIMS},
        {"numeric sub", signed256("{" BASE_NO_SUB ",\"sub\":42}"), TZ_JWT_BAD_CLAIMS},
        {"missing role", signed256("{" BASE_NO_ROLE "}"), TZ_JWT_BAD_CLAIMS},
        {"null role", signed256("{" BASE_NO_ROLE ",\"role\":null}"), TZ_JWT_BAD_CLAIMS},
        {"missing jti", signed256("{" BASE_NO_JTI "}"), TZ_JWT_BAD_CLAIMS},
        {"claims not an object", signed256("[1,2]"), TZ_JWT_MALFORMED},
        {"claims not JSON", signed256("{\"sub\":"), TZ_JWT_MALFORMED},
    };
    for (size_t i = 0; i < LEN(t); i++) {
        tz_jwt_status_e got = tz_jwt_verify(tz_tp, &c, t[i].token, NOW, &cl);
        ck_assert_msg(got == t[i].want, "%s: got %d, want %d", t[i].name, got, t[i].want);
        ck_assert_ptr_null(cl.sub);
    }
}
END_TEST

START_TEST(other_algorithms_refused)
{
    /* Whatever libjwt makes of them, none of these may pass. */
    tz_jwt_cfg_t c = cfg();
    tz_claims_t cl;
    const char *claims = CLAIMS("1800000600", "");
    struct { const char *name; const char *token; } t[] = {
        {"alg none, no signature", forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", claims, NULL, KEY)},
        {"alg none, HS256 signature", forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", claims, "HS256", KEY)},
        {"alg None", forge("{\"alg\":\"None\"}", claims, NULL, KEY)},
        {"alg hs256 lower case", forge("{\"alg\":\"hs256\"}", claims, "HS256", KEY)},
        {"alg RS256 signed with HMAC", forge("{\"alg\":\"RS256\"}", claims, "HS256", KEY)},
        {"alg ES256 signed with HMAC", forge("{\"alg\":\"ES256\"}", claims, "HS256", KEY)},
        {"no alg", forge("{\"typ\":\"JWT\"}", claims, "HS256", KEY)},
        {"numeric alg", forge("{\"alg\":256}", claims, "HS256", KEY)},
        {"HS256 header, no signature", forge(HS256, claims, NULL, KEY)},
    };
    for (size_t i = 0; i < LEN(t); i++) {
        tz_jwt_status_e got = tz_jwt_verify(tz_tp, &c, t[i].token, NOW, &cl);
        ck_assert_msg(got == TZ_JWT_MALFORMED || got == TZ_JWT_BAD_ALG, "%s: got %d", t[i].name, got);
    }
}
END_TEST

START_TEST(garbage_refused)
{
    tz_jwt_cfg_t c = cfg();
    tz_claims_t cl;
    char *good = signed256(CLAIMS("1800000600", ""));
    const char *bad[] = {
        "", "not.a.jwt", "a.b", "a.b.c.d", "...", "..", ".", "abc", "Bearer x.y.z", "ab.cd.",
        ".ab.cd", "ab..cd", "a.bc.de", "ab.c.de", "ab.cd.e",
        apr_pstrcat(tz_tp, good, " ", NULL), apr_pstrcat(tz_tp, " ", good, NULL),
        apr_pstrcat(tz_tp, good, ".", NULL), apr_pstrcat(tz_tp, good, "=", NULL),
        apr_pstrcat(tz_tp, "x", good, NULL), apr_pstrcat(tz_tp, good, "\n", NULL),
        apr_pstrcat(tz_tp, b64("not json"), ".", strchr(good, '.') + 1, NULL),
    };
    for (size_t i = 0; i < LEN(bad); i++)
        ck_assert_msg(tz_jwt_verify(tz_tp, &c, bad[i], NOW, &cl) == TZ_JWT_MALFORMED, "token %zu", i);
    ck_assert_int_eq(tz_jwt_verify(tz_tp, &c, NULL, NOW, &cl), TZ_JWT_MALFORMED);
}
END_TEST

START_TEST(segment_shapes)
{
    /* Every arrangement of 1 to 4 segments drawn from empty, odd-sized,
     * non-JSON and genuine pieces: only the genuine token passes, and none
     * crashes or overruns (libjwt 1.10 mishandles empty segments). */
    tz_jwt_cfg_t c = cfg();
    tz_claims_t cl;
    char *good = signed256(CLAIMS("1800000600", ""));
    char *d1 = strchr(good, '.'), *d2 = strrchr(good, '.');
    const char *piece[] = {"", "e", "eyJ", "eyJh", "e30", "AAAA", "_-_-",
                           apr_pstrndup(tz_tp, good, (size_t)(d1 - good)),
                           apr_pstrndup(tz_tp, d1 + 1, (size_t)(d2 - d1 - 1)), d2 + 1};
    size_t np = LEN(piece), accepted = 0;
    for (size_t a = 0; a < np; a++)
        for (size_t b = 0; b < np; b++)
            for (size_t d = 0; d < np; d++) {
                const char *toks[] = {
                    piece[a], apr_pstrcat(tz_tp, piece[a], ".", piece[b], NULL),
                    apr_pstrcat(tz_tp, piece[a], ".", piece[b], ".", piece[d], NULL),
                    apr_pstrcat(tz_tp, piece[a], ".", piece[b], ".", piece[d], ".", piece[d], NULL)};
                for (size_t k = 0; k < LEN(toks); k++)
                    if (tz_jwt_verify(tz_tp, &c, toks[k], NOW, &cl) == TZ_JWT_OK) {
                        ck_assert_str_eq(toks[k], good);
                        accepted++;
                    }
            }
    ck_assert_uint_eq(accepted, 1);
}
END_TEST

/* A correctly signed token padded by an extra claim to about n characters. */
static char *padded(size_t pad)
{
    char *fill = apr_palloc(tz_tp, pad + 1);
    memset(fill, 'p', pad);
    fill[pad] = '\0';
    return signed256(apr_pstrcat(tz_tp, "{" BASE_NO_EXP ",\"exp\":1800000600,\"pad\":\"", fill, "\"}", NULL));
}

START_TEST(length_limit)
{
    tz_jwt_cfg_t c = cfg();
    tz_claims_t cl;
    size_t longest_ok = 0, shortest_bad = 1 << 20;
    for (size_t pad = 5800; pad < 6300; pad++) {
        char *tok = padded(pad);
        size_t n = strlen(tok);
        tz_jwt_status_e got = tz_jwt_verify(tz_tp, &c, tok, NOW, &cl);
        if (n <= 8192) {
            ck_assert_msg(got == TZ_JWT_OK, "length %zu refused", n);
            longest_ok = n > longest_ok ? n : longest_ok;
        } else {
            ck_assert_msg(got == TZ_JWT_MALFORMED, "length %zu accepted", n);
            shortest_bad = n < shortest_bad ? n : shortest_bad;
        }
    }
    ck_assert(longest_ok >= 8190 && shortest_bad <= 8194);
}
END_TEST

START_TEST(short_or_empty_key_refused)
{
    tz_jwt_cfg_t c = cfg();
    tz_claims_t cl;
    char *tok = tz_jwt_issue(tz_tp, &c, "u", "fan", "j", NOW, 60);
    ck_assert_ptr_nonnull(tok);
    c.keylen = 31;
    ck_assert_ptr_null(tz_jwt_issue(tz_tp, &c, "u", "fan", "j", NOW, 60));
    ck_assert_int_eq(tz_jwt_verify(tz_tp, &c, tok, NOW, &cl), TZ_JWT_NO_KEY);
    c.keylen = 32; /* the minimum is enough */
    char *tok32 = tz_jwt_issue(tz_tp, &c, "u", "fan", "j", NOW, 60);
    ck_assert_ptr_nonnull(tok32);
    ck_assert_int_eq(tz_jwt_verify(tz_tp, &c, tok32, NOW, &cl), TZ_JWT_OK);
    c.keylen = 0;
    ck_assert_ptr_null(tz_jwt_issue(tz_tp, &c, "u", "fan", "j", NOW, 60));
    ck_assert_int_eq(tz_jwt_verify(tz_tp, &c, tok, NOW, &cl), TZ_JWT_NO_KEY);
    c.key = NULL;
    ck_assert_ptr_null(tz_jwt_issue(tz_tp, &c, "u", "fan", "j", NOW, 60));
    ck_assert_int_eq(tz_jwt_verify(tz_tp, &c, forge("{\"alg\":\"none\"}", CLAIMS("1800000600", ""), NULL, ""),
                                   NOW, &cl), TZ_JWT_NO_KEY);
    c.key = (const unsigned char *)"";
    ck_assert_int_eq(tz_jwt_verify(tz_tp, &c, forge(HS256, CLAIMS("1800000600", ""), "HS256", ""), NOW, &cl),
                     TZ_JWT_NO_KEY);
    ck_assert_ptr_null(tz_jwt_issue(tz_tp, NULL, "u", "fan", "j", NOW, 60));
    ck_assert_int_eq(tz_jwt_verify(tz_tp, NULL, tok, NOW, &cl), TZ_JWT_NO_KEY);
}
END_TEST

START_TEST(issue_refuses_bad_input)
{
    tz_jwt_cfg_t c = cfg();
    ck_assert_ptr_null(tz_jwt_issue(tz_tp, &c, NULL, "fan", "j", NOW, 60));
    ck_assert_ptr_null(tz_jwt_issue(tz_tp, &c, "", "fan", "j", NOW, 60));
    ck_assert_ptr_null(tz_jwt_issue(tz_tp, &c, "u", NULL, "j", NOW, 60));
    ck_assert_ptr_null(tz_jwt_issue(tz_tp, &c, "u", "", "j", NOW, 60));
    ck_assert_ptr_null(tz_jwt_issue(tz_tp, &c, "u", "fan", NULL, NOW, 60));
    ck_assert_ptr_null(tz_jwt_issue(tz_tp, &c, "u", "fan", "j", NOW, 0));
    ck_assert_ptr_null(tz_jwt_issue(tz_tp, &c, "u", "fan", "j", NOW, -60));
    ck_assert_ptr_null(tz_jwt_issue(tz_tp, &c, "u", "fan", "j", INT64_MAX - 10, 60));
    c.iss = NULL;
    ck_assert_ptr_null(tz_jwt_issue(tz_tp, &c, "u", "fan", "j", NOW, 60));
}
END_TEST

static Suite *jwt_suite(void)
{
    Suite *s = suite_create("jwt");
    TCase *tc = tz_tcase("jwt");
    tcase_add_test(tc, issue_then_verify);
    tcase_add_test(tc, forged_valid_token_accepted);
    tcase_add_test(tc, reject_table);
    tcase_add_test(tc, other_algorithms_refused);
    tcase_add_test(tc, garbage_refused);
    tcase_add_test(tc, segment_shapes);
    tcase_add_test(tc, length_limit);
    tcase_add_test(tc, short_or_empty_key_refused);
    tcase_add_test(tc, issue_refuses_bad_input);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(jwt_suite)
