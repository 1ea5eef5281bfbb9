/* Digests, MACs, encodings, randomness and AES-256-GCM with key ids. */
#include "tz_test.h"
#include "tz_crypto.h"
#include <string.h>

#define KEY_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static char *hex(const unsigned char *b, size_t n)
{
    return tz_hex_encode(tz_tp, b, n);
}

/* Bytes of a hex literal, from the test pool. */
static unsigned char *unhex(const char *h, size_t *n)
{
    *n = strlen(h) / 2;
    unsigned char *b = apr_palloc(tz_tp, *n + 1);
    ck_assert_int_eq(tz_hex_decode(h, b, *n), 0);
    return b;
}

START_TEST(init_is_idempotent)
{
    ck_assert_int_eq(tz_crypto_init(), 0);
    ck_assert_int_eq(tz_crypto_init(), 0);
}
END_TEST

START_TEST(sha256_vectors)
{
    static const struct { const char *in, *out; } t[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    for (size_t i = 0; i < LEN(t); i++)
        ck_assert_str_eq(tz_sha256_hex(tz_tp, t[i].in, strlen(t[i].in)), t[i].out);
}
END_TEST

START_TEST(hmac_rfc4231_vectors)
{
    /* RFC 4231 test cases 1, 2 and 6 (key longer than the block), plus the
     * empty key and message. */
    static const struct { const char *key_hex, *data, *mac; } t[] = {
        {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"4a656665", "what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {NULL, "Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {"", "", "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"},
    };
    for (size_t i = 0; i < LEN(t); i++) {
        unsigned char mac[TZ_SHA256_LEN], *key, big[131];
        size_t keylen;
        if (t[i].key_hex) {
            key = unhex(t[i].key_hex, &keylen);
        } else {
            memset(big, 0xaa, sizeof big);
            key = big;
            keylen = sizeof big;
        }
        ck_assert_int_eq(tz_hmac_sha256(key, keylen, t[i].data, strlen(t[i].data), mac), 0);
        ck_assert_msg(strcmp(hex(mac, sizeof mac), t[i].mac) == 0, "vector %zu", i);
    }
}
END_TEST

START_TEST(hex_table)
{
    unsigned char buf[4];
    ck_assert_str_eq(hex((const unsigned char *)"\x00\x01\xab\xff", 4), "0001abff");
    ck_assert_str_eq(hex((const unsigned char *)"", 0), "");
    ck_assert_int_eq(tz_hex_decode("DEADbeef", buf, 4), 0);
    ck_assert(buf[0] == 0xde && buf[1] == 0xad && buf[2] == 0xbe && buf[3] == 0xef);
    static const char *bad[] = {"deadbee", "deadbeef0", "deadbeeg", "dead beef", "0x01020304",
                                "", "de\nadbeef"};
    for (size_t i = 0; i < LEN(bad); i++)
        ck_assert_msg(tz_hex_decode(bad[i], buf, 4) == -1, "decoded %s", bad[i]);
    ck_assert_int_eq(tz_hex_decode(NULL, buf, 4), -1);
    ck_assert_int_eq(tz_hex_decode("", buf, 0), 0);
}
END_TEST

START_TEST(b64url_table)
{
    /* RFC 4648 section 10 vectors, unpadded, and the two URL-safe characters. */
    static const struct { const char *in, *out; } t[] = {
        {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"},
        {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"},
    };
    unsigned char *out;
    size_t len;
    for (size_t i = 0; i < LEN(t); i++) {
        size_t n = strlen(t[i].in);
        ck_assert_str_eq(tz_b64url_encode(tz_tp, (const unsigned char *)t[i].in, n), t[i].out);
        ck_assert_int_eq(tz_b64url_decode(tz_tp, t[i].out, &out, &len), 0);
        ck_assert_uint_eq(len, n);
        ck_assert(memcmp(out, t[i].in, n) == 0);
    }
    /* standard alphabet, padding, impossible lengths, non-canonical tails */
    static const char *bad[] = {"a+b/", "Zg==", "Zg=", "Z", "Zm9vY", "Zh", "Zm9", "-_9", "Zm 9v"};
    for (size_t i = 0; i < LEN(bad); i++)
        ck_assert_msg(tz_b64url_decode(tz_tp, bad[i], &out, &len) == -1, "decoded %s", bad[i]);
    ck_assert_int_eq(tz_b64url_decode(tz_tp, NULL, &out, &len), -1);
}
END_TEST

START_TEST(b64url_round_trip_all_lengths)
{
    unsigned char buf[70], *out;
    size_t len;
    for (size_t n = 0; n <= sizeof buf; n++) {
        ck_assert_int_eq(tz_random_bytes(buf, n), 0);
        char *s = tz_b64url_encode(tz_tp, buf, n);
        ck_assert_uint_eq(strlen(s), (n * 4 + 2) / 3);
        ck_assert_int_eq(tz_b64url_decode(tz_tp, s, &out, &len), 0);
        ck_assert_uint_eq(len, n);
        ck_assert(n == 0 || memcmp(out, buf, n) == 0);
    }
}
END_TEST

START_TEST(ct_equal_table)
{
    static const struct { const char *a; size_t alen; const char *b; size_t blen; int eq; } t[] = {
        {"abc", 3, "abc", 3, 1}, {"abc", 3, "abd", 3, 0}, {"abc", 3, "abcd", 4, 0},
        {"", 0, "", 0, 1}, {"a\0b", 3, "a\0c", 3, 0}, {"a\0b", 3, "a\0b", 3, 1},
        {"xbc", 3, "abc", 3, 0},
    };
    for (size_t i = 0; i < LEN(t); i++)
        ck_assert_msg(tz_ct_equal(t[i].a, t[i].alen, t[i].b, t[i].blen) == t[i].eq, "row %zu", i);
}
END_TEST

static int is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

START_TEST(uuid4_format)
{
    char *prev = NULL;
    for (int n = 0; n < 200; n++) {
        char *u = tz_uuid4(tz_tp);
        ck_assert_ptr_nonnull(u);
        ck_assert_uint_eq(strlen(u), 36);
        for (int i = 0; i < 36; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23)
                ck_assert_msg(u[i] == '-', "%s", u);
            else
                ck_assert_msg(is_lower_hex(u[i]), "%s", u);
        }
        ck_assert_msg(u[14] == '4' && strchr("89ab", u[19]), "%s", u);
        ck_assert(!prev || strcmp(prev, u) != 0);
        prev = u;
    }
}
END_TEST

START_TEST(random_hex_format)
{
    char *a = tz_random_hex(tz_tp, 32), *b = tz_random_hex(tz_tp, 32);
    ck_assert_uint_eq(strlen(a), 64);
    for (int i = 0; i < 64; i++)
        ck_assert(is_lower_hex(a[i]));
    ck_assert_str_ne(a, b);
    ck_assert_str_eq(tz_random_hex(tz_tp, 0), "");
}
END_TEST

START_TEST(key_parsing)
{
    tz_aead_key_t k1, k2;
    ck_assert_ptr_null(tz_aead_key_from_hex(KEY_A, &k1));
    ck_assert_uint_eq(strlen(k1.id), TZ_KEY_ID_LEN);
    for (int i = 0; i < TZ_KEY_ID_LEN; i++)
        ck_assert(is_lower_hex(k1.id[i]));
    ck_assert_uint_eq(k1.key[0], 0x00);
    ck_assert_uint_eq(k1.key[31], 0x1f);
    /* one trailing newline and upper case name the same key */
    ck_assert_ptr_null(tz_aead_key_from_hex(KEY_A "\n", &k2));
    ck_assert_str_eq(k1.id, k2.id);
    ck_assert_ptr_null(tz_aead_key_from_hex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", &k2));
    ck_assert_str_eq(k1.id, k2.id);
    ck_assert(memcmp(k1.key, k2.key, TZ_AEAD_KEY_LEN) == 0);
    ck_assert_ptr_null(tz_aead_key_from_hex(KEY_B, &k2));
    ck_assert_str_ne(k1.id, k2.id);
}
END_TEST

START_TEST(bad_keys_refused)
{
    tz_aead_key_t k;
    static const char *bad[] = {
        "", "abcd", "\n", KEY_A "00", KEY_A "\n\n", KEY_A "\r\n", " " KEY_A, KEY_A " ",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1",  /* 63 */
        "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        "00010203040506070809 a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    };
    for (size_t i = 0; i < LEN(bad); i++)
        ck_assert_msg(tz_aead_key_from_hex(bad[i], &k) != NULL, "accepted key %zu", i);
    ck_assert_ptr_nonnull(tz_aead_key_from_hex(NULL, &k));
}
END_TEST

START_TEST(aead_round_trip)
{
    tz_aead_key_t k;
    static const size_t lens[] = {0, 1, 9, 15, 16, 17, 255, 4096};
    char plainbuf[4096], *plain;
    size_t len;
    ck_assert_ptr_null(tz_aead_key_from_hex(KEY_A, &k));
    for (size_t i = 0; i < sizeof plainbuf; i++)
        plainbuf[i] = (char)('a' + i % 26);
    plainbuf[3] = '\0'; /* binary-safe: the length, not a NUL, ends the value */
    for (size_t i = 0; i < LEN(lens); i++) {
        char *s = tz_aead_seal(tz_tp, &k, NULL, plainbuf, lens[i]);
        ck_assert_ptr_nonnull(s);
        ck_assert(strncmp(s, "v1.", 3) == 0 && strncmp(s + 3, k.id, TZ_KEY_ID_LEN) == 0 &&
                  s[3 + TZ_KEY_ID_LEN] == '.');
        ck_assert_int_eq(tz_aead_open(tz_tp, &k, 1, NULL, s, &plain, &len), 0);
        ck_assert_uint_eq(len, lens[i]);
        ck_assert(memcmp(plain, plainbuf, len) == 0 && plain[len] == '\0');
    }
    /* a fresh nonce per write */
    ck_assert_str_ne(tz_aead_seal(tz_tp, &k, NULL, "ZM12 3456", 9), tz_aead_seal(tz_tp, &k, NULL, "ZM12 3456", 9));
    /* the length argument may be omitted */
    ck_assert_int_eq(tz_aead_open(tz_tp, &k, 1, NULL, tz_aead_seal(tz_tp, &k, NULL, "x", 1), &plain, NULL), 0);
    ck_assert_str_eq(plain, "x");
    ck_assert_ptr_null(tz_aead_seal(tz_tp, &k, NULL, NULL, 5));
    ck_assert_ptr_null(tz_aead_seal(tz_tp, &k, NULL, plainbuf, (1u << 20) + 1));
}
END_TEST

START_TEST(aead_key_rotation)
{
    tz_aead_key_t a, b;
    char *plain;
    size_t len;
    tz_aead_key_from_hex(KEY_A, &a);
    tz_aead_key_from_hex(KEY_B, &b);
    char *sa = tz_aead_seal(tz_tp, &a, NULL, "ZM12 3456", 9);
    char *sb = tz_aead_seal(tz_tp, &b, NULL, "ZM99 0000", 9);
    tz_aead_key_t rotated[2] = {b, a}; /* the new key first, the old one still reads */
    ck_assert_int_eq(tz_aead_open(tz_tp, rotated, 2, NULL, sa, &plain, &len), 0);
    ck_assert_str_eq(plain, "ZM12 3456");
    ck_assert_int_eq(tz_aead_open(tz_tp, rotated, 2, NULL, sb, &plain, &len), 0);
    ck_assert_str_eq(plain, "ZM99 0000");
    /* a retired key's values no longer open */
    ck_assert_int_eq(tz_aead_open(tz_tp, &b, 1, NULL, sa, &plain, &len), -1);
    ck_assert_ptr_null(plain);
    ck_assert_int_eq(tz_aead_open(tz_tp, NULL, 0, NULL, sa, &plain, &len), -1);
}
END_TEST

START_TEST(aead_wrong_key_under_known_id)
{
    tz_aead_key_t a, b;
    char *plain;
    size_t len;
    tz_aead_key_from_hex(KEY_A, &a);
    tz_aead_key_from_hex(KEY_B, &b);
    char *sa = tz_aead_seal(tz_tp, &a, NULL, "secret", 6);
    /* relabelled to B's id: B's key fails to authenticate (and the id is AAD) */
    char *relabelled = apr_pstrcat(tz_tp, "v1.", b.id, sa + 3 + TZ_KEY_ID_LEN, NULL);
    tz_aead_key_t both[2] = {a, b};
    ck_assert_int_eq(tz_aead_open(tz_tp, both, 2, NULL, relabelled, &plain, &len), -1);
    /* a key carrying A's id but other bytes */
    tz_aead_key_t impostor = b;
    memcpy(impostor.id, a.id, sizeof a.id);
    ck_assert_int_eq(tz_aead_open(tz_tp, &impostor, 1, NULL, sa, &plain, &len), -1);
    ck_assert_ptr_null(plain);
}
END_TEST

START_TEST(aead_rejects_tampering)
{
    tz_aead_key_t k;
    char *plain;
    size_t len, rawlen;
    unsigned char *raw;
    tz_aead_key_from_hex(KEY_A, &k);
    char *s = tz_aead_seal(tz_tp, &k, NULL, "1234567890", 10);
    const char *body = s + 4 + TZ_KEY_ID_LEN;
    ck_assert_int_eq(tz_b64url_decode(tz_tp, body, &raw, &rawlen), 0);
    ck_assert_uint_eq(rawlen, 12 + 10 + 16);
    /* one flipped bit anywhere: nonce (0..11), ciphertext (12..21), tag (22..37) */
    for (size_t pos = 0; pos < rawlen; pos++) {
        for (int bit = 0; bit < 8; bit += 7) {
            unsigned char *t = apr_pmemdup(tz_tp, raw, rawlen);
            t[pos] ^= (unsigned char)(1 << bit);
            char *forged = apr_pstrcat(tz_tp, "v1.", k.id, ".", tz_b64url_encode(tz_tp, t, rawlen), NULL);
            ck_assert_msg(tz_aead_open(tz_tp, &k, 1, NULL, forged, &plain, &len) == -1, "byte %zu", pos);
            ck_assert_ptr_null(plain);
        }
    }
    /* any changed character of the text form */
    for (size_t pos = 0; s[pos]; pos++) {
        char *t = apr_pstrdup(tz_tp, s);
        t[pos] = t[pos] == 'A' ? 'B' : 'A';
        ck_assert_msg(tz_aead_open(tz_tp, &k, 1, NULL, t, &plain, &len) == -1, "char %zu", pos);
    }
}
END_TEST

START_TEST(aead_malformed)
{
    tz_aead_key_t k;
    char *plain;
    size_t len;
    tz_aead_key_from_hex(KEY_A, &k);
    char *s = tz_aead_seal(tz_tp, &k, NULL, "1234567890", 10);
    size_t n = strlen(s);
    const char *bad[] = {
        "", "plaintext", "v1.", "v1.00000000.AAAA", apr_pstrndup(tz_tp, s, n - 4),
        apr_pstrndup(tz_tp, s, 4 + TZ_KEY_ID_LEN), apr_pstrndup(tz_tp, s, 3 + TZ_KEY_ID_LEN),
        apr_pstrcat(tz_tp, "v2", s + 2, NULL), apr_pstrcat(tz_tp, s, "A", NULL),
        apr_pstrcat(tz_tp, s, "=", NULL), apr_pstrcat(tz_tp, "v1.", k.id, "x", s + 11, NULL),
        apr_pstrcat(tz_tp, "v1.", k.id, ".", tz_b64url_encode(tz_tp, (const unsigned char *)"short", 5), NULL),
    };
    for (size_t i = 0; i < LEN(bad); i++) {
        ck_assert_msg(tz_aead_open(tz_tp, &k, 1, NULL, bad[i], &plain, &len) == -1, "opened %s", bad[i]);
        ck_assert_ptr_null(plain);
    }
    ck_assert_int_eq(tz_aead_open(tz_tp, &k, 1, NULL, NULL, &plain, &len), -1);
}
END_TEST

/* A value bound to its owner opens only for that owner: a database writer
 * who swaps two creators' sealed bank accounts gets nothing to open. */
START_TEST(aead_bound_to_context)
{
    tz_aead_key_t k, b;
    char *plain;
    size_t len;
    tz_aead_key_from_hex(KEY_A, &k);
    tz_aead_key_from_hex(KEY_B, &b);
    char *sa = tz_aead_seal(tz_tp, &k, "owner-a", "ZM12 3456", 9);
    ck_assert(strncmp(sa, "v2.", 3) == 0);
    ck_assert_int_eq(tz_aead_open(tz_tp, &k, 1, "owner-a", sa, &plain, &len), 0);
    ck_assert_str_eq(plain, "ZM12 3456");
    ck_assert_int_eq(tz_aead_open(tz_tp, &k, 1, "owner-b", sa, &plain, &len), -1);
    ck_assert_ptr_null(plain);
    ck_assert_int_eq(tz_aead_open(tz_tp, &k, 1, "owner-", sa, &plain, &len), -1);
    ck_assert_int_eq(tz_aead_open(tz_tp, &k, 1, "", sa, &plain, &len), -1);
    ck_assert_int_eq(tz_aead_open(tz_tp, &k, 1, NULL, sa, &plain, &len), -1);
    /* relabelled as a v1 value it does not open either (the context is AAD) */
    ck_assert_int_eq(tz_aead_open(tz_tp, &k, 1, "owner-a", apr_pstrcat(tz_tp, "v1", sa + 2, NULL),
                                  &plain, &len), -1);
    /* a v1 value (sealed before contexts) still opens, whatever the context */
    char *old = tz_aead_seal(tz_tp, &k, NULL, "ZM12 3456", 9);
    ck_assert_int_eq(tz_aead_open(tz_tp, &k, 1, "owner-a", old, &plain, &len), 0);
    ck_assert_str_eq(plain, "ZM12 3456");
    /* rotation keeps the binding */
    tz_aead_key_t rotated[2] = {b, k};
    ck_assert_int_eq(tz_aead_open(tz_tp, rotated, 2, "owner-a", sa, &plain, &len), 0);
    ck_assert_int_eq(tz_aead_open(tz_tp, rotated, 2, "owner-b", sa, &plain, &len), -1);
    /* an oversized context is refused at sealing */
    char big[TZ_AEAD_MAX_CONTEXT + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_ptr_null(tz_aead_seal(tz_tp, &k, big, "x", 1));
}
END_TEST

static Suite *crypto_suite(void)
{
    Suite *s = suite_create("crypto");
    TCase *tc = tz_tcase("primitives");
    tcase_add_test(tc, init_is_idempotent);
    tcase_add_test(tc, sha256_vectors);
    tcase_add_test(tc, hmac_rfc4231_vectors);
    tcase_add_test(tc, hex_table);
    tcase_add_test(tc, b64url_table);
    tcase_add_test(tc, b64url_round_trip_all_lengths);
    tcase_add_test(tc, ct_equal_table);
    tcase_add_test(tc, uuid4_format);
    tcase_add_test(tc, random_hex_format);
    suite_add_tcase(s, tc);
    tc = tz_tcase("aead");
    tcase_add_test(tc, key_parsing);
    tcase_add_test(tc, bad_keys_refused);
    tcase_add_test(tc, aead_round_trip);
    tcase_add_test(tc, aead_key_rotation);
    tcase_add_test(tc, aead_wrong_key_under_known_id);
    tcase_add_test(tc, aead_rejects_tampering);
    tcase_add_test(tc, aead_malformed);
    tcase_add_test(tc, aead_bound_to_context);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(crypto_suite)
