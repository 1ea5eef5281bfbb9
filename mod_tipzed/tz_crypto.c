/* OpenSSL 3.0 primitives: randomness, SHA-256, HMAC-SHA256, AES-256-GCM and
 * the hex / base64url encodings around them.
 *
 * Algorithms are fetched once: an implicit fetch such as
 * EVP_sha256() inside a convenience call takes the method-store lock on every
 * call, which serialises a threaded MPM.  HMAC is the subtle one: setting the
 * "digest" parameter on an EVP_MAC_CTX fetches SHA-256 again, so a keyed
 * template context is built once and duplicated per call instead. */
#include <string.h>
#include <limits.h>
#include <stdint.h>
#include <pthread.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include "tz_crypto.h"
#include "apr_strings.h"

#define TZ_GCM_NONCE 12
#define TZ_GCM_TAG 16
/* Sealed values are short (bank accounts); the cap keeps lengths within int. */
#define TZ_AEAD_MAX_PLAIN (1u << 20)

static EVP_MD *tz_md_sha256;
static EVP_CIPHER *tz_cipher_gcm;
static EVP_MAC_CTX *tz_hmac_template; /* HMAC with SHA-256 selected, dummy key */
static EVP_MAC_CTX *tz_hmac1_template; /* HMAC with SHA-1 (TOTP, RFC 6238), dummy key */
static int tz_init_ok;
static pthread_once_t tz_once = PTHREAD_ONCE_INIT;

/* Builds an HMAC template: the only place a digest name is resolved. */
static EVP_MAC_CTX *hmac_template(const char *digest)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_end()};
    static const unsigned char dummy[1];
    EVP_MAC_free(mac); /* the context keeps its own reference */
    if (ctx && !EVP_MAC_init(ctx, dummy, sizeof dummy, params)) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

static void fetch_all(void)
{
    tz_md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    tz_cipher_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    tz_hmac_template = hmac_template("SHA256");
    tz_hmac1_template = hmac_template("SHA1");
    tz_init_ok = tz_md_sha256 && tz_cipher_gcm && tz_hmac_template && tz_hmac1_template;
}

int tz_crypto_init(void)
{
    pthread_once(&tz_once, fetch_all);
    return tz_init_ok ? 0 : -1;
}

int tz_random_bytes(unsigned char *buf, size_t n)
{
    if (n > INT_MAX)
        return -1;
    return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

char *tz_hex_encode(apr_pool_t *p, const unsigned char *buf, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char *out = apr_palloc(p, n * 2 + 1);
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[buf[i] >> 4];
        out[2 * i + 1] = hex[buf[i] & 15];
    }
    out[n * 2] = '\0';
    return out;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int tz_hex_decode(const char *hex, unsigned char *out, size_t outlen)
{
    /* strnlen: a longer string is rejected without reading all of it. */
    if (!hex || strnlen(hex, outlen * 2 + 1) != outlen * 2)
        return -1;
    for (size_t i = 0; i < outlen; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

char *tz_random_hex(apr_pool_t *p, size_t nbytes)
{
    unsigned char *buf = apr_palloc(p, nbytes ? nbytes : 1);
    return tz_random_bytes(buf, nbytes) == 0 ? tz_hex_encode(p, buf, nbytes) : NULL;
}

char *tz_uuid4(apr_pool_t *p)
{
    unsigned char b[16];
    if (tz_random_bytes(b, sizeof b) != 0)
        return NULL;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    char *h = tz_hex_encode(p, b, sizeof b);
    return apr_psprintf(p, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

/* SHA-256 with the fetched digest; 0 on success. */
static int sha256(const void *data, size_t n, unsigned char md[TZ_SHA256_LEN])
{
    unsigned int len = 0;
    if (tz_crypto_init() != 0)
        return -1;
    return EVP_Digest(data, n, md, &len, tz_md_sha256, NULL) && len == TZ_SHA256_LEN ? 0 : -1;
}

char *tz_sha256_hex(apr_pool_t *p, const void *data, size_t n)
{
    unsigned char md[TZ_SHA256_LEN];
    return sha256(data, n, md) == 0 ? tz_hex_encode(p, md, TZ_SHA256_LEN) : NULL;
}

/* One HMAC from a template context (which names the digest), outlen bytes. */
static int hmac_with(EVP_MAC_CTX *const *tmpl, const void *key, size_t keylen, const void *data,
                     size_t len, unsigned char *out, size_t outlen)
{
    static const unsigned char empty[1];
    EVP_MAC_CTX *ctx;
    size_t outl = 0;
    int ok;
    if ((!key && keylen) || (!data && len) || tz_crypto_init() != 0 ||
        !(ctx = EVP_MAC_CTX_dup(*tmpl)))
        return -1;
    /* A NULL key would mean "keep the template's key": pass a real empty key. */
    ok = EVP_MAC_init(ctx, keylen ? key : empty, keylen, NULL) &&
         EVP_MAC_update(ctx, len ? data : empty, len) &&
         EVP_MAC_final(ctx, out, &outl, outlen) && outl == outlen;
    EVP_MAC_CTX_free(ctx);
    return ok ? 0 : -1;
}

int tz_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                   unsigned char out[TZ_SHA256_LEN])
{
    return hmac_with(&tz_hmac_template, key, keylen, data, len, out, TZ_SHA256_LEN);
}

int tz_hmac_sha1(const void *key, size_t keylen, const void *data, size_t len,
                 unsigned char out[TZ_SHA1_LEN])
{
    return hmac_with(&tz_hmac1_template, key, keylen, data, len, out, TZ_SHA1_LEN);
}

int tz_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    /* Lengths are not secret (MACs have a fixed size); the bytes are. */
    return alen == blen && CRYPTO_memcmp(a, b, alen) == 0;
}

char *tz_b64url_encode(apr_pool_t *p, const unsigned char *buf, size_t n)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = apr_palloc(p, (n + 2) / 3 * 4 + 1), *o = out;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)buf[i] << 16 | (i + 1 < n ? (uint32_t)buf[i + 1] << 8 : 0) |
                     (i + 2 < n ? buf[i + 2] : 0);
        *o++ = al[v >> 18 & 63];
        *o++ = al[v >> 12 & 63];
        if (i + 1 < n) *o++ = al[v >> 6 & 63];
        if (i + 2 < n) *o++ = al[v & 63];
    }
    *o = '\0';
    return out;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

int tz_b64url_decode(apr_pool_t *p, const char *s, unsigned char **out, size_t *outlen)
{
    size_t n, o = 0;
    uint32_t acc = 0;
    int bits = 0;
    unsigned char *buf;
    if (!s || (n = strlen(s)) % 4 == 1)
        return -1;
    buf = apr_palloc(p, n / 4 * 3 + 3);
    for (size_t i = 0; i < n; i++) {
        int v = b64val(s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        if ((bits += 6) >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* Canonical form only: leftover bits must be zero, so no two strings
     * decode to the same bytes (sealed values and tokens are not malleable). */
    if (bits && (acc & ((1u << bits) - 1)) != 0)
        return -1;
    *out = buf;
    *outlen = o;
    return 0;
}

/* Copies hex, less one trailing newline, into buf of 2*TZ_AEAD_KEY_LEN+1. */
static const char *key_text(const char *hex, char *buf)
{
    size_t n = hex ? strnlen(hex, TZ_AEAD_KEY_LEN * 2 + 2) : 0;
    if (n && hex[n - 1] == '\n')
        n--;
    if (n != TZ_AEAD_KEY_LEN * 2)
        return "the key must be exactly 64 hex characters";
    memcpy(buf, hex, n);
    buf[n] = '\0';
    return NULL;
}

const char *tz_aead_key_from_hex(const char *hex, tz_aead_key_t *out)
{
    char buf[TZ_AEAD_KEY_LEN * 2 + 1];
    unsigned char tagged[14 + TZ_AEAD_KEY_LEN], md[TZ_SHA256_LEN];
    const char *err = key_text(hex, buf);
    if (!err && tz_hex_decode(buf, out->key, TZ_AEAD_KEY_LEN) != 0)
        err = "the key must be hex characters only";
    OPENSSL_cleanse(buf, sizeof buf);
    if (err)
        return err;
    /* The id names the key in stored values without revealing it. */
    memcpy(tagged, "tipzed-key-id:", 14);
    memcpy(tagged + 14, out->key, TZ_AEAD_KEY_LEN);
    if (sha256(tagged, sizeof tagged, md) != 0)
        err = "cannot derive the key id";
    OPENSSL_cleanse(tagged, sizeof tagged);
    if (err) {
        OPENSSL_cleanse(out->key, sizeof out->key);
        return err;
    }
    for (int i = 0; i < TZ_KEY_ID_LEN / 2; i++) {
        out->id[2 * i] = "0123456789abcdef"[md[i] >> 4];
        out->id[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
    }
    out->id[TZ_KEY_ID_LEN] = '\0';
    return NULL;
}

/* One GCM pass; enc = 1 seals (writes tag), 0 opens (checks tag).  The key
 * id is authenticated as AAD, so a value cannot be relabelled to another key. */
/* AES-256-GCM over in[0..inlen) with the key id, and for v2 values a NUL
 * and the context, as authenticated data. */
static int gcm(int enc, const tz_aead_key_t *k, const char *context, const unsigned char *nonce,
               const unsigned char *in, int inlen, unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *ctx;
    int len = 0, fin = 0, ok;
    if (tz_crypto_init() != 0 || !(ctx = EVP_CIPHER_CTX_new()))
        return -1;
    ok = EVP_CipherInit_ex2(ctx, tz_cipher_gcm, k->key, nonce, enc, NULL) &&
         EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)k->id, TZ_KEY_ID_LEN) &&
         (!context || (EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)"", 1) &&
                       EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)context,
                                        (int)strlen(context)))) &&
         (inlen == 0 || EVP_CipherUpdate(ctx, out, &len, in, inlen));
    if (inlen == 0)
        len = 0;
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TZ_GCM_TAG, tag) > 0;
    ok = ok && EVP_CipherFinal_ex(ctx, out + len, &fin);
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TZ_GCM_TAG, tag) > 0;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

char *tz_aead_seal(apr_pool_t *p, const tz_aead_key_t *key, const char *context,
                   const char *plain, size_t len)
{
    unsigned char *buf;
    size_t total = TZ_GCM_NONCE + len + TZ_GCM_TAG;
    if (!key || (len && !plain) || len > TZ_AEAD_MAX_PLAIN ||
        (context && strlen(context) > TZ_AEAD_MAX_CONTEXT))
        return NULL;
    buf = apr_palloc(p, total);
    /* A fresh random 96-bit nonce per value: never reused under one key
     * for any realistic number of writes (2^32 values keep the risk < 2^-32). */
    if (tz_random_bytes(buf, TZ_GCM_NONCE) != 0 ||
        gcm(1, key, context, buf, (const unsigned char *)plain, (int)len, buf + TZ_GCM_NONCE,
            buf + TZ_GCM_NONCE + len) != 0)
        return NULL;
    return apr_pstrcat(p, context ? "v2." : "v1.", key->id, ".", tz_b64url_encode(p, buf, total),
                       NULL);
}

/* The key whose id the sealed value names, or NULL. */
static const tz_aead_key_t *find_key(const tz_aead_key_t *keys, size_t nkeys, const char *id)
{
    for (size_t i = 0; keys && i < nkeys; i++)
        if (memcmp(keys[i].id, id, TZ_KEY_ID_LEN) == 0)
            return &keys[i];
    return NULL;
}

int tz_aead_open(apr_pool_t *p, const tz_aead_key_t *keys, size_t nkeys, const char *context,
                 const char *sealed, char **out, size_t *outlen)
{
    const tz_aead_key_t *k;
    unsigned char *raw, *plain;
    size_t rawlen, len;
    int v2 = sealed && strncmp(sealed, "v2.", 3) == 0;
    *out = NULL;
    /* a v2 value opens only with its context; a v1 value predates contexts */
    if (!sealed || (!v2 && strncmp(sealed, "v1.", 3) != 0) || (v2 && !context) ||
        strnlen(sealed + 3, TZ_KEY_ID_LEN + 1) < TZ_KEY_ID_LEN + 1 ||
        sealed[3 + TZ_KEY_ID_LEN] != '.' || !(k = find_key(keys, nkeys, sealed + 3)))
        return -1;
    if (tz_b64url_decode(p, sealed + 4 + TZ_KEY_ID_LEN, &raw, &rawlen) != 0 ||
        rawlen < TZ_GCM_NONCE + TZ_GCM_TAG || rawlen - TZ_GCM_NONCE - TZ_GCM_TAG > TZ_AEAD_MAX_PLAIN)
        return -1;
    len = rawlen - TZ_GCM_NONCE - TZ_GCM_TAG;
    plain = apr_palloc(p, len + 1);
    if (gcm(0, k, v2 ? context : NULL, raw, raw + TZ_GCM_NONCE, (int)len, plain,
            raw + TZ_GCM_NONCE + len) != 0) {
        /* Never hand out unauthenticated plaintext. */
        OPENSSL_cleanse(plain, len + 1);
        return -1;
    }
    plain[len] = '\0';
    *out = (char *)plain;
    if (outlen)
        *outlen = len;
    return 0;
}
