/* TOTP and its pieces: RFC 4226 Appendix D (HOTP) and RFC 6238 Appendix B
 * (TOTP, SHA-1) test vectors, the ±1-step window and the step it reports,
 * malformed codes, base32 both ways (RFC 4648 section 10), the otpauth://
 * URI, and recovery codes (shape, normalisation, refusals). */
#include "tz_test.h"
#include "tz_totp.h"
#include "tz_crypto.h"
#include <string.h>

#define NELTS(a) (sizeof(a) / sizeof((a)[0]))
static const unsigned char rfc_key[] = "12345678901234567890";
#define RFC_KEYLEN 20

START_TEST(hotp_rfc4226_vectors)
{
    static const char *want[] = {"755224", "287082", "359152", "969429", "338314",
                                 "254676", "287922", "162583", "399871", "520489"};
    char out[9];
    for (unsigned i = 0; i < NELTS(want); i++) {
        ck_assert_int_eq(tz_hotp(rfc_key, RFC_KEYLEN, i, 6, out), 0);
        ck_assert_str_eq(out, want[i]);
    }
    ck_assert_int_eq(tz_hotp(rfc_key, RFC_KEYLEN, 0, 5, out), -1);
    ck_assert_int_eq(tz_hotp(rfc_key, RFC_KEYLEN, 0, 9, out), -1);
}
END_TEST

START_TEST(totp_rfc6238_sha1_vectors)
{
    static const struct { long long t; const char *code; } v[] = {
        {59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"},
        {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000LL, "65353130"}};
    char out[9];
    for (size_t i = 0; i < NELTS(v); i++) {
        ck_assert_int_eq(tz_hotp(rfc_key, RFC_KEYLEN, (unsigned long long)tz_totp_step(v[i].t), 8, out), 0);
        ck_assert_msg(strcmp(out, v[i].code) == 0, "T=%lld: %s, want %s", v[i].t, out, v[i].code);
        /* the six-digit code is the low six digits of the same value */
        long long step = -1;
        ck_assert_int_eq(tz_totp_match(rfc_key, RFC_KEYLEN, v[i].code + 2, v[i].t, &step), 1);
        ck_assert_int_eq(step, tz_totp_step(v[i].t));
    }
}
END_TEST

START_TEST(window_is_one_step_either_side)
{
    const long long t = 1111111111, s = tz_totp_step(t);
    char code[9];
    long long step;
    for (int d = -3; d <= 3; d++) {
        ck_assert_int_eq(tz_hotp(rfc_key, RFC_KEYLEN, (unsigned long long)(s + d), 6, code), 0);
        step = -1;
        int m = tz_totp_match(rfc_key, RFC_KEYLEN, code, t, &step);
        if (d >= -1 && d <= 1) {
            ck_assert_msg(m == 1, "offset %d refused", d);
            ck_assert_int_eq(step, s + d);
        } else {
            ck_assert_msg(m == 0, "offset %d accepted", d);
        }
    }
    /* step 0 at the epoch has no previous step */
    ck_assert_int_eq(tz_hotp(rfc_key, RFC_KEYLEN, 0, 6, code), 0);
    ck_assert_int_eq(tz_totp_match(rfc_key, RFC_KEYLEN, code, 5, &step), 1);
    ck_assert_int_eq(step, 0);
}
END_TEST

START_TEST(malformed_codes_refused)
{
    static const char *bad[] = {"", "12345", "1234567", "12a456", " 81804", "081804 ",
                                "+81804", "０８１８０４"};
    long long step = 42;
    for (size_t i = 0; i < NELTS(bad); i++)
        ck_assert_msg(tz_totp_match(rfc_key, RFC_KEYLEN, bad[i], 1111111109, &step) == 0,
                      "'%s' accepted", bad[i]);
    ck_assert_int_eq(tz_totp_match(rfc_key, RFC_KEYLEN, NULL, 1111111109, &step), 0);
    ck_assert_int_eq(step, 42); /* untouched when nothing matched */
    /* the right code of another key does not match */
    ck_assert_int_eq(tz_totp_match((const unsigned char *)"another key 12345678", 20, "081804",
                                   1111111109, &step), 0);
}
END_TEST

START_TEST(base32_rfc4648_and_round_trip)
{
    static const struct { const char *plain, *enc; } v[] = {
        {"f", "MY"}, {"fo", "MZXQ"}, {"foo", "MZXW6"}, {"foob", "MZXW6YQ"},
        {"fooba", "MZXW6YTB"}, {"foobar", "MZXW6YTBOI"}};
    unsigned char *out;
    size_t n;
    for (size_t i = 0; i < NELTS(v); i++) {
        ck_assert_str_eq(tz_base32_encode(tz_tp, (const unsigned char *)v[i].plain,
                                          strlen(v[i].plain)), v[i].enc);
        ck_assert_int_eq(tz_base32_decode(tz_tp, v[i].enc, &out, &n), 0);
        ck_assert_int_eq(n, strlen(v[i].plain));
        ck_assert(memcmp(out, v[i].plain, n) == 0);
    }
    /* lower case, spaces and padding as apps and people write them */
    ck_assert_int_eq(tz_base32_decode(tz_tp, "mzxw 6ytb oi======", &out, &n), 0);
    ck_assert_int_eq(n, 6);
    ck_assert(memcmp(out, "foobar", 6) == 0);
    ck_assert_int_eq(tz_base32_decode(tz_tp, "MZXW1", &out, &n), -1);   /* 1 is not base32 */
    ck_assert_int_eq(tz_base32_decode(tz_tp, "", &out, &n), -1);
    ck_assert_int_eq(tz_base32_decode(tz_tp, "M", &out, &n), -1);       /* dangling group */
    ck_assert_int_eq(tz_base32_decode(tz_tp, "MZ", &out, &n), -1);      /* non-zero pad bits */
    /* the RFC key as an app would receive it */
    ck_assert_str_eq(tz_base32_encode(tz_tp, rfc_key, RFC_KEYLEN), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}
END_TEST

START_TEST(secret_and_uri)
{
    unsigned char *k;
    size_t n;
    char *a = tz_totp_secret_new(tz_tp), *b = tz_totp_secret_new(tz_tp);
    ck_assert_int_eq(strlen(a), 32);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(tz_base32_decode(tz_tp, a, &k, &n), 0);
    ck_assert_int_eq(n, TZ_TOTP_SECRET_BYTES);
    ck_assert_str_eq(tz_totp_uri(tz_tp, "Tip Zed", "ann+1@example.com", "ABC"),
                     "otpauth://totp/Tip%20Zed:ann%2B1%40example.com?secret=ABC&issuer=Tip%20Zed"
                     "&algorithm=SHA1&digits=6&period=30");
}
END_TEST

START_TEST(recovery_codes)
{
    char *seen[50];
    for (int i = 0; i < 50; i++) {
        char *c = tz_recovery_code_new(tz_tp);
        ck_assert_int_eq(strlen(c), TZ_RECOVERY_LEN + 1);
        ck_assert_int_eq(c[5], '-');
        char *norm = tz_recovery_code_normalize(tz_tp, c);
        ck_assert_ptr_nonnull(norm);
        ck_assert_int_eq(strlen(norm), TZ_RECOVERY_LEN);
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(seen[j], norm);
        seen[i] = norm;
    }
    ck_assert_str_eq(tz_recovery_code_normalize(tz_tp, "ABCDE-FGH27"), "abcdefgh27");
    ck_assert_str_eq(tz_recovery_code_normalize(tz_tp, " abc de fgh 27 "), "abcdefgh27");
    ck_assert_ptr_null(tz_recovery_code_normalize(tz_tp, "abcde-fgh2"));    /* short */
    ck_assert_ptr_null(tz_recovery_code_normalize(tz_tp, "abcde-fgh277"));  /* long */
    ck_assert_ptr_null(tz_recovery_code_normalize(tz_tp, "abcde-fgh21"));   /* 1: not base32 */
    ck_assert_ptr_null(tz_recovery_code_normalize(tz_tp, ""));
}
END_TEST

START_TEST(recovery_code_sets)
{
    const char *codes[TZ_RECOVERY_CODES], *hashes;
    ck_assert_int_eq(tz_recovery_codes_new(tz_tp, codes, &hashes), 0);
    /* "{h1,...,h10}": ten 64-hex hashes, each the hash of its code's canonical form */
    ck_assert_int_eq(strlen(hashes), 2 + TZ_RECOVERY_CODES * 65 - 1);
    for (int i = 0; i < TZ_RECOVERY_CODES; i++) {
        const char *norm = tz_recovery_code_normalize(tz_tp, codes[i]);
        ck_assert_ptr_nonnull(strstr(hashes, tz_sha256_hex(tz_tp, norm, strlen(norm))));
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(codes[i], codes[j]);
    }
    ck_assert_str_eq(tz_totp_context(tz_tp, "abc"), "totp:abc");
}
END_TEST

static Suite *totp_suite(void)
{
    Suite *s = suite_create("totp");
    TCase *tc = tz_tcase("totp");
    tcase_add_test(tc, hotp_rfc4226_vectors);
    tcase_add_test(tc, totp_rfc6238_sha1_vectors);
    tcase_add_test(tc, window_is_one_step_either_side);
    tcase_add_test(tc, malformed_codes_refused);
    tcase_add_test(tc, base32_rfc4648_and_round_trip);
    tcase_add_test(tc, secret_and_uri);
    tcase_add_test(tc, recovery_codes);
    tcase_add_test(tc, recovery_code_sets);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(totp_suite)
