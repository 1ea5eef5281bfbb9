/* Digests, MACs, encodings and AES-256-GCM with key ids. */
#include "tz_test.h"
#include "tz_crypto.h"
#include <string.h>

#define KEY_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

START_TEST(known_vectors)
{
    unsigned char mac[32];
    ck_assert_str_eq(tz_sha256_hex(tz_tp, "abc", 3),
                     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* RFC 4231 test case 2 */
    ck_assert_int_eq(tz_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac), 0);
    ck_assert_str_eq(tz_hex_encode(tz_tp, mac, 32),
                     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
END_TEST

START_TEST(encodings)
{
    unsigned char buf[4], *out;
    size_t len;
    ck_assert_int_eq(tz_hex_decode("DEADbeef", buf, 4), 0);
    ck_assert_uint_eq(buf[0], 0xde);
    ck_assert_int_eq(tz_hex_decode("deadbee", buf, 4), -1);
    ck_assert_int_eq(tz_hex_decode("deadbeeg", buf, 4), -1);
    ck_assert_str_eq(tz_b64url_encode(tz_tp, (const unsigned char *)"\xfb\xff", 2), "-_8");
    ck_assert_int_eq(tz_b64url_decode(tz_tp, "-_8", &out, &len), 0);
    ck_assert_uint_eq(len, 2);
    ck_assert_int_eq(tz_b64url_decode(tz_tp, "a+b/", &out, &len), -1);
    ck_assert(tz_ct_equal("abc", 3, "abc", 3));
    ck_assert(!tz_ct_equal("abc", 3, "abd", 3));
    ck_assert(!tz_ct_equal("abc", 3, "abcd", 4));
    char *u = tz_uuid4(tz_tp);
    ck_assert_uint_eq(strlen(u), 36);
    ck_assert(u[14] == '4' && strchr("89ab", u[19]));
    ck_assert_uint_eq(strlen(tz_random_hex(tz_tp, 32)), 64);
}
END_TEST

START_TEST(aead_round_trip_and_rotation)
{
    tz_aead_key_t keys[2];
    char *plain;
    size_t len;
    ck_assert_ptr_null(tz_aead_key_from_hex(KEY_A "\n", &keys[0]));
    ck_assert_ptr_null(tz_aead_key_from_hex(KEY_B, &keys[1]));
    ck_assert_str_ne(keys[0].id, keys[1].id);
    char *s1 = tz_aead_seal(tz_tp, &keys[0], "ZM12 3456", 9);
    char *s2 = tz_aead_seal(tz_tp, &keys[0], "ZM12 3456", 9);
    ck_assert_str_ne(s1, s2); /* fresh nonce per write */
    ck_assert(strncmp(s1, "v1.", 3) == 0 && strstr(s1, keys[0].id));
    ck_assert_int_eq(tz_aead_open(tz_tp, keys, 1, s1, &plain, &len), 0);
    ck_assert_str_eq(plain, "ZM12 3456");
    /* after rotation: new key first, the old one still opens old data */
    tz_aead_key_t rotated[2] = {keys[1], keys[0]};
    ck_assert_int_eq(tz_aead_open(tz_tp, rotated, 2, s1, &plain, &len), 0);
    /* unknown key id */
    ck_assert_int_eq(tz_aead_open(tz_tp, &keys[1], 1, s1, &plain, &len), -1);
}
END_TEST

START_TEST(aead_rejects_tampering)
{
    tz_aead_key_t k;
    char *plain;
    size_t len;
    tz_aead_key_from_hex(KEY_A, &k);
    char *s = tz_aead_seal(tz_tp, &k, "1234567890", 10);
    size_t n = strlen(s);
    for (size_t pos = 12; pos < n; pos += 3) { /* nonce, ciphertext and tag bytes */
        char *t = apr_pstrdup(tz_tp, s);
        t[pos] = t[pos] == 'A' ? 'B' : 'A';
        ck_assert_int_eq(tz_aead_open(tz_tp, &k, 1, t, &plain, &len), -1);
    }
    ck_assert_int_eq(tz_aead_open(tz_tp, &k, 1, apr_pstrndup(tz_tp, s, n - 4), &plain, &len), -1);
    ck_assert_int_eq(tz_aead_open(tz_tp, &k, 1, "v1.00000000.AAAA", &plain, &len), -1);
    ck_assert_int_eq(tz_aead_open(tz_tp, &k, 1, "plaintext", &plain, &len), -1);
}
END_TEST

START_TEST(bad_keys_refused)
{
    tz_aead_key_t k;
    ck_assert_ptr_nonnull(tz_aead_key_from_hex("abcd", &k));
    ck_assert_ptr_nonnull(tz_aead_key_from_hex(KEY_A "00", &k));
    ck_assert_ptr_nonnull(tz_aead_key_from_hex("zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", &k));
    ck_assert_ptr_nonnull(tz_aead_key_from_hex("", &k));
}
END_TEST

static Suite *crypto_suite(void)
{
    Suite *s = suite_create("crypto");
    TCase *tc = tz_tcase("crypto");
    tcase_add_test(tc, known_vectors);
    tcase_add_test(tc, encodings);
    tcase_add_test(tc, aead_round_trip_and_rotation);
    tcase_add_test(tc, aead_rejects_tampering);
    tcase_add_test(tc, bad_keys_refused);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(crypto_suite)
