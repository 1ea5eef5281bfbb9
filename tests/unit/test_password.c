/* scrypt hashes: known answer, round trip, stored format, strict parsing. */
#include "tz_test.h"
#include "tz_password.h"
#include "tz_crypto.h"
#include <string.h>
#include <pthread.h>

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SALT22 "AAAAAAAAAAAAAAAAAAAAAA"                      /* 16 bytes */
#define HASH43 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" /* 32 bytes */

START_TEST(rfc7914_known_answer)
{
    /* RFC 7914 section 12: P="pleaseletmein", S="SodiumChloride", N=16384,
     * r=8, p=1, 64 bytes.  Proves the stored format maps onto real scrypt. */
    static const char dk[] = "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
                             "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887";
    unsigned char raw[64];
    ck_assert_int_eq(tz_hex_decode(dk, raw, sizeof raw), 0);
    char *stored = apr_pstrcat(tz_tp, "$scrypt$ln=14,r=8,p=1$",
                               tz_b64url_encode(tz_tp, (const unsigned char *)"SodiumChloride", 14),
                               "$", tz_b64url_encode(tz_tp, raw, sizeof raw), NULL);
    ck_assert_int_eq(tz_password_verify(tz_tp, "pleaseletmein", stored), 1);
    ck_assert_int_eq(tz_password_verify(tz_tp, "pleaseletmeiN", stored), 0);
}
END_TEST

START_TEST(round_trip_at_owasp_floor)
{
    char *h = tz_password_hash(tz_tp, "correct horse battery");
    tz_scrypt_params_t sp;
    ck_assert_ptr_nonnull(h);
    ck_assert(strncmp(h, "$scrypt$ln=15,r=8,p=3$", 22) == 0);
    ck_assert_int_eq(tz_password_parse(h, &sp), 0);
    ck_assert(sp.ln == 15 && sp.r == 8 && sp.p == 3);
    ck_assert(tz_scrypt_default.ln == 15 && tz_scrypt_default.r == 8 && tz_scrypt_default.p == 3);
    /* 16-byte salt and 32-byte hash, base64url without padding */
    const char *salt = h + 22, *hash = strchr(salt, '$');
    ck_assert_ptr_nonnull(hash);
    ck_assert_int_eq(hash - salt, 22);
    ck_assert_uint_eq(strlen(hash + 1), 43);
    ck_assert_int_eq(tz_password_verify(tz_tp, "correct horse battery", h), 1);
    ck_assert_int_eq(tz_password_verify(tz_tp, "correct horse batterY", h), 0);
    ck_assert_int_eq(tz_password_verify(tz_tp, "correct horse battery ", h), 0);
    ck_assert_int_eq(tz_password_verify(tz_tp, "", h), 0);
    ck_assert_int_eq(tz_password_verify(tz_tp, NULL, h), 0);
}
END_TEST

START_TEST(same_password_hashes_differ)
{
    tz_scrypt_params_t cheap = {10, 8, 1};
    char *a = tz_password_hash_with(tz_tp, "pw-1234567", &cheap);
    char *b = tz_password_hash_with(tz_tp, "pw-1234567", &cheap);
    ck_assert_str_ne(a, b); /* salted */
    ck_assert_int_eq(tz_password_verify(tz_tp, "pw-1234567", a), 1);
    ck_assert_int_eq(tz_password_verify(tz_tp, "pw-1234567", b), 1);
}
END_TEST

START_TEST(other_params_still_verify)
{
    static const tz_scrypt_params_t t[] = {{10, 8, 1}, {11, 4, 2}, {10, 1, 1}};
    for (size_t i = 0; i < LEN(t); i++) {
        char *h = tz_password_hash_with(tz_tp, "pw-1234567", &t[i]);
        char *prefix = apr_psprintf(tz_tp, "$scrypt$ln=%u,r=%u,p=%u$", t[i].ln, t[i].r, t[i].p);
        tz_scrypt_params_t sp;
        ck_assert_ptr_nonnull(h);
        ck_assert(strncmp(h, prefix, strlen(prefix)) == 0);
        ck_assert_int_eq(tz_password_parse(h, &sp), 0);
        ck_assert(sp.ln == t[i].ln && sp.r == t[i].r && sp.p == t[i].p);
        ck_assert_int_eq(tz_password_verify(tz_tp, "pw-1234567", h), 1);
        ck_assert_int_eq(tz_password_verify(tz_tp, "pw-1234568", h), 0);
    }
    ck_assert_str_eq(tz_password_hash_with(tz_tp, "", &t[0]) ? "ok" : "null", "ok");
}
END_TEST

START_TEST(out_of_bounds_params_not_hashed)
{
    static const tz_scrypt_params_t t[] = {{9, 8, 1}, {23, 8, 1}, {10, 0, 1}, {10, 33, 1},
                                           {10, 8, 0}, {10, 8, 17}};
    for (size_t i = 0; i < LEN(t); i++)
        ck_assert_ptr_null(tz_password_hash_with(tz_tp, "pw", &t[i]));
    ck_assert_ptr_null(tz_password_hash_with(tz_tp, "pw", NULL));
    ck_assert_ptr_null(tz_password_hash(tz_tp, NULL));
}
END_TEST

START_TEST(bounds_edges_parse)
{
    static const struct { const char *s; unsigned ln, r, p; } ok[] = {
        {"$scrypt$ln=10,r=1,p=1$" SALT22 "$" HASH43, 10, 1, 1},
        {"$scrypt$ln=22,r=32,p=16$" SALT22 "$" HASH43, 22, 32, 16},
        {"$scrypt$ln=15,r=8,p=3$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", 15, 8, 3}, /* 8 and 16 bytes */
    };
    for (size_t i = 0; i < LEN(ok); i++) {
        tz_scrypt_params_t sp = {0, 0, 0};
        ck_assert_msg(tz_password_parse(ok[i].s, &sp) == 0, "refused %s", ok[i].s);
        ck_assert(sp.ln == ok[i].ln && sp.r == ok[i].r && sp.p == ok[i].p);
    }
}
END_TEST

START_TEST(malformed_hashes)
{
    tz_scrypt_params_t sp;
    const char *bad[] = {
        "", "plain", "$scrypt$", "$scrypt$ln=15,r=8,p=3$", "$scrypt$ln=15,r=8$AAAA$AAAA",
        "$scrypt$ln=15,r=8,p=3$" SALT22 "$", "$scrypt$ln=15,r=8,p=3$$" HASH43,
        "$scrypt$ln=15,r=8,p=3$" SALT22, "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        "$SCRYPT$ln=15,r=8,p=3$" SALT22 "$" HASH43,
        /* out of bounds */
        "$scrypt$ln=9,r=8,p=3$" SALT22 "$" HASH43, "$scrypt$ln=23,r=8,p=3$" SALT22 "$" HASH43,
        "$scrypt$ln=15,r=0,p=3$" SALT22 "$" HASH43, "$scrypt$ln=15,r=33,p=3$" SALT22 "$" HASH43,
        "$scrypt$ln=15,r=8,p=0$" SALT22 "$" HASH43, "$scrypt$ln=15,r=8,p=17$" SALT22 "$" HASH43,
        "$scrypt$ln=15,r=8,p=99$" SALT22 "$" HASH43,
        "$scrypt$ln=4294967311,r=8,p=3$" SALT22 "$" HASH43,
        /* numbers: signs, spaces, leading zeros, empty, too many digits */
        "$scrypt$ln=-15,r=8,p=3$" SALT22 "$" HASH43, "$scrypt$ln=+15,r=8,p=3$" SALT22 "$" HASH43,
        "$scrypt$ln= 15,r=8,p=3$" SALT22 "$" HASH43, "$scrypt$ln=015,r=8,p=3$" SALT22 "$" HASH43,
        "$scrypt$ln=15,r=08,p=3$" SALT22 "$" HASH43, "$scrypt$ln=,r=8,p=3$" SALT22 "$" HASH43,
        "$scrypt$ln=15,r=8,p=3 $" SALT22 "$" HASH43, "$scrypt$ln=1e1,r=8,p=3$" SALT22 "$" HASH43,
        /* parameter names and order */
        "$scrypt$r=8,ln=15,p=3$" SALT22 "$" HASH43, "$scrypt$ln=15,p=3,r=8$" SALT22 "$" HASH43,
        "$scrypt$ln=15,r=8,p=3,x=1$" SALT22 "$" HASH43, "$scrypt$n=32768,r=8,p=3$" SALT22 "$" HASH43,
        /* salt and hash encodings and sizes */
        "$scrypt$ln=15,r=8,p=3$AAAA!AAA$AAAA", "$scrypt$ln=15,r=8,p=3$" SALT22 "==$" HASH43,
        "$scrypt$ln=15,r=8,p=3$AAAAAAAA+AAAAAAAAAAAAA$" HASH43,
        "$scrypt$ln=15,r=8,p=3$AAAAAAAAAA$" HASH43,            /* 7-byte salt */
        "$scrypt$ln=15,r=8,p=3$" SALT22 "$AAAAAAAAAAAAAAAAAAAA", /* 15-byte hash */
        "$scrypt$ln=15,r=8,p=3$" SALT22 "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", /* non-canonical */
        "$scrypt$ln=15,r=8,p=3$" SALT22 "$" HASH43 "$extra",
        "$scrypt$ln=15,r=8,p=3$" SALT22 "$" HASH43 "\n",
        "$scrypt$ln=15,r=8,p=3$" SALT22 "$" HASH43 HASH43 HASH43, /* 96-byte hash */
    };
    for (size_t i = 0; i < LEN(bad); i++) {
        ck_assert_msg(tz_password_parse(bad[i], &sp) == -1, "parsed: %s", bad[i]);
        ck_assert_msg(tz_password_verify(tz_tp, "x", bad[i]) == -1, "verified: %s", bad[i]);
    }
    ck_assert_int_eq(tz_password_parse(NULL, &sp), -1);
    ck_assert_int_eq(tz_password_verify(tz_tp, "x", NULL), -1);
    char *huge = apr_pstrcat(tz_tp, "$scrypt$ln=15,r=8,p=3$", SALT22, "$", HASH43, NULL);
    for (int i = 0; i < 10; i++)
        huge = apr_pstrcat(tz_tp, huge, HASH43, NULL);
    ck_assert_int_eq(tz_password_parse(huge, &sp), -1);
}
END_TEST

START_TEST(burn_returns_zero)
{
    ck_assert_int_eq(tz_password_burn(tz_tp, "anything"), 0);
    ck_assert_int_eq(tz_password_burn(tz_tp, ""), 0);
    ck_assert_int_eq(tz_password_burn(tz_tp, NULL), 0);
}
END_TEST

static void *hash_once(void *arg)
{
    static const tz_scrypt_params_t cheap = {12, 8, 1};
    apr_pool_t *p;
    apr_pool_create(&p, NULL);
    *(int *)arg = tz_password_hash_with(p, "pw", &cheap) != NULL;
    apr_pool_destroy(p);
    return NULL;
}

static unsigned peak_with_limit(unsigned limit)
{
    pthread_t t[6];
    int ok[6];
    tz_password_set_concurrency(limit);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, hash_once, &ok[i]), 0);
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(ok[i], 1);
    }
    return tz_password_peak_concurrency();
}

START_TEST(concurrency_bound_holds)
{
    /* six threads hashing at once never exceed the bound */
    ck_assert_uint_eq(peak_with_limit(1), 1);
    ck_assert_uint_le(peak_with_limit(2), 2);
    ck_assert_uint_ge(peak_with_limit(0), 1);
    tz_password_set_concurrency(0);
}
END_TEST

static Suite *password_suite(void)
{
    Suite *s = suite_create("password");
    TCase *tc = tz_tcase("scrypt");
    tcase_add_test(tc, rfc7914_known_answer);
    tcase_add_test(tc, round_trip_at_owasp_floor);
    tcase_add_test(tc, same_password_hashes_differ);
    tcase_add_test(tc, other_params_still_verify);
    tcase_add_test(tc, out_of_bounds_params_not_hashed);
    tcase_add_test(tc, bounds_edges_parse);
    tcase_add_test(tc, malformed_hashes);
    tcase_add_test(tc, burn_returns_zero);
    tcase_add_test(tc, concurrency_bound_holds);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(password_suite)
