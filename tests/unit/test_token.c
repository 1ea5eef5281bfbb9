/* Mailed tokens: shape, hash of the bytes, refusal of anything not sent. */
#include "tz_test.h"
#include "tz_token.h"
#include "tz_crypto.h"
#include <string.h>

START_TEST(new_tokens_are_43_chars_and_hash_back)
{
    const char *t1, *h1, *t2, *h2;
    ck_assert_int_eq(tz_token_new(tz_tp, &t1, &h1), 0);
    ck_assert_int_eq(tz_token_new(tz_tp, &t2, &h2), 0);
    ck_assert_uint_eq(strlen(t1), 43);
    ck_assert_uint_eq(strlen(h1), 64);
    ck_assert_str_ne(t1, t2);
    ck_assert_str_ne(h1, h2);
    ck_assert_str_eq(tz_token_hash(tz_tp, t1), h1);
    ck_assert_str_eq(tz_token_hash(tz_tp, t2), h2);
    /* the stored hash is not the token's text's hash: the bytes are hashed */
    ck_assert_str_ne(h1, tz_sha256_hex(tz_tp, t1, strlen(t1)));
}
END_TEST

START_TEST(hash_of_known_bytes)
{
    unsigned char zero[TZ_TOKEN_BYTES] = {0};
    const char *t = tz_b64url_encode(tz_tp, zero, sizeof zero);
    ck_assert_str_eq(t, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    ck_assert_str_eq(tz_token_hash(tz_tp, t),
                     "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925");
}
END_TEST

START_TEST(refuses_what_was_never_sent)
{
    const char *t, *h;
    ck_assert_int_eq(tz_token_new(tz_tp, &t, &h), 0);
    ck_assert_ptr_null(tz_token_hash(tz_tp, NULL));
    ck_assert_ptr_null(tz_token_hash(tz_tp, ""));
    ck_assert_ptr_null(tz_token_hash(tz_tp, apr_pstrcat(tz_tp, t, "=", NULL)));
    ck_assert_ptr_null(tz_token_hash(tz_tp, apr_pstrcat(tz_tp, t, "A", NULL)));
    ck_assert_ptr_null(tz_token_hash(tz_tp, apr_pstrndup(tz_tp, t, 42)));
    /* another alphabet: '+' is base64, not base64url */
    ck_assert_ptr_null(tz_token_hash(tz_tp, "+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    /* a last character with leftover bits set is not canonical */
    ck_assert_ptr_null(tz_token_hash(tz_tp, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB"));
}
END_TEST

START_TEST(links)
{
    ck_assert_str_eq(tz_token_link(tz_tp, "https://tipzed.example", "verify-email", "abc"),
                     "https://tipzed.example/verify-email#token=abc");
    ck_assert_str_eq(tz_token_link(tz_tp, NULL, "verify-email", "abc"), "");
    ck_assert_str_eq(tz_token_link(tz_tp, "", "reset-password", "abc"), "");
}
END_TEST

static Suite *token_suite(void)
{
    Suite *s = suite_create("token");
    TCase *tc = tz_tcase("token");
    tcase_add_test(tc, new_tokens_are_43_chars_and_hash_back);
    tcase_add_test(tc, hash_of_known_bytes);
    tcase_add_test(tc, refuses_what_was_never_sent);
    tcase_add_test(tc, links);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(token_suite)
