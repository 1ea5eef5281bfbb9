/* OpenSSL 3.0 primitives.  Algorithms are fetched once (PITFALLS 17). */
#include <string.h>
#include <pthread.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include "tz_crypto.h"
#include "apr_strings.h"

static EVP_MD *tz_md_sha256;
static EVP_MAC *tz_mac_hmac;
static EVP_CIPHER *tz_cipher_gcm;
static pthread_once_t tz_once = PTHREAD_ONCE_INIT;

static void fetch_all(void)
{
    tz_md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    tz_mac_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    tz_cipher_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

int tz_crypto_init(void)
{
    pthread_once(&tz_once, fetch_all);
    return tz_md_sha256 && tz_mac_hmac && tz_cipher_gcm ? 0 : -1;
}

int tz_random_bytes(unsigned char *buf, size_t n)
{
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
    if (!hex || strlen(hex) != outlen * 2)
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
    unsigned char *buf = apr_palloc(p, nbytes);
    return tz_random_bytes(buf, nbytes) == 0 ? tz_hex_encode(p, buf, nbytes) : NULL;
}

char *tz_uuid4(apr_pool_t *p)
{
    unsigned char b[16];
    if (tz_random_bytes(b, sizeof b) != 0)
        return NULL;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    char *h = tz_hex_encode(p, b, sizeof b);
    return apr_psprintf(p, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

char *tz_sha256_hex(apr_pool_t *p, const void *data, size_t n)
{
    unsigned char md[TZ_SHA256_LEN];
    unsigned int len = 0;
    tz_crypto_init();
    if (!EVP_Digest(data, n, md, &len, tz_md_sha256, NULL))
        return NULL;
    return tz_hex_encode(p, md, len);
}

int tz_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                   unsigned char out[TZ_SHA256_LEN])
{
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
                           OSSL_PARAM_construct_end()};
    EVP_MAC_CTX *ctx;
    size_t outl = 0;
    int ok;
    tz_crypto_init();
    if (!(ctx = EVP_MAC_CTX_new(tz_mac_hmac)))
        return -1;
    ok = EVP_MAC_init(ctx, key, keylen, params) && EVP_MAC_update(ctx, data, len) &&
         EVP_MAC_final(ctx, out, &outl, TZ_SHA256_LEN) && outl == TZ_SHA256_LEN;
    EVP_MAC_CTX_free(ctx);
    return ok ? 0 : -1;
}

int tz_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
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
    size_t n = strlen(s), o = 0;
    uint32_t acc = 0;
    int bits = 0;
    unsigned char *buf;
    if (n % 4 == 1)
        return -1;
    buf = apr_palloc(p, n * 3 / 4 + 1);
    for (size_t i = 0; i < n; i++) {
        int v = b64val(s[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        if ((bits += 6) >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)(acc >> bits);
        }
    }
    *out = buf;
    *outlen = o;
    return 0;
}

#define TZ_GCM_NONCE 12
#define TZ_GCM_TAG 16

const char *tz_aead_key_from_hex(const char *hex, tz_aead_key_t *out)
{
    char buf[TZ_AEAD_KEY_LEN * 2 + 1];
    size_t n = hex ? strlen(hex) : 0;
    unsigned char md[TZ_SHA256_LEN];
    unsigned int mdlen = 0;
    if (n && hex[n - 1] == '\n')
        n--;
    if (n != TZ_AEAD_KEY_LEN * 2)
        return "the key must be exactly 64 hex characters";
    memcpy(buf, hex, n);
    buf[n] = '\0';
    if (tz_hex_decode(buf, out->key, TZ_AEAD_KEY_LEN) != 0)
        return "the key must be hex characters only";
    /* The id names the key without revealing it. */
    unsigned char tagged[14 + TZ_AEAD_KEY_LEN];
    memcpy(tagged, "tipzed-key-id:", 14);
    memcpy(tagged + 14, out->key, TZ_AEAD_KEY_LEN);
    tz_crypto_init();
    if (!EVP_Digest(tagged, sizeof tagged, md, &mdlen, tz_md_sha256, NULL))
        return "cannot derive the key id";
    OPENSSL_cleanse(tagged, sizeof tagged);
    for (int i = 0; i < TZ_KEY_ID_LEN / 2; i++)
        snprintf(out->id + 2 * i, 3, "%02x", md[i]);
    return NULL;
}

/* One GCM pass; enc = 1 seals (writes tag), 0 opens (checks tag). */
static int gcm(int enc, const tz_aead_key_t *k, const unsigned char *nonce,
               const unsigned char *in, int inlen, unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, ok;
    tz_crypto_init();
    ok = ctx && EVP_CipherInit_ex2(ctx, tz_cipher_gcm, k->key, nonce, enc, NULL) &&
         EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)k->id, TZ_KEY_ID_LEN) &&
         EVP_CipherUpdate(ctx, out, &len, in, inlen);
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TZ_GCM_TAG, tag) > 0;
    ok = ok && EVP_CipherFinal_ex(ctx, out + len, &len);
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TZ_GCM_TAG, tag) > 0;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

char *tz_aead_seal(apr_pool_t *p, const tz_aead_key_t *key, const char *plain, size_t len)
{
    size_t total = TZ_GCM_NONCE + len + TZ_GCM_TAG;
    unsigned char *buf = apr_palloc(p, total);
    if (len > 1 << 20 || tz_random_bytes(buf, TZ_GCM_NONCE) != 0 ||
        gcm(1, key, buf, (const unsigned char *)plain, (int)len, buf + TZ_GCM_NONCE,
            buf + TZ_GCM_NONCE + len) != 0)
        return NULL;
    return apr_pstrcat(p, "v1.", key->id, ".", tz_b64url_encode(p, buf, total), NULL);
}

int tz_aead_open(apr_pool_t *p, const tz_aead_key_t *keys, size_t nkeys, const char *sealed,
                 char **out, size_t *outlen)
{
    const tz_aead_key_t *k = NULL;
    unsigned char *raw;
    size_t rawlen, len;
    if (!sealed || strncmp(sealed, "v1.", 3) != 0 || strlen(sealed) < 3 + TZ_KEY_ID_LEN + 1 ||
        sealed[3 + TZ_KEY_ID_LEN] != '.')
        return -1;
    for (size_t i = 0; i < nkeys && !k; i++)
        if (strncmp(keys[i].id, sealed + 3, TZ_KEY_ID_LEN) == 0)
            k = &keys[i];
    if (!k || tz_b64url_decode(p, sealed + 4 + TZ_KEY_ID_LEN, &raw, &rawlen) != 0 ||
        rawlen < TZ_GCM_NONCE + TZ_GCM_TAG)
        return -1;
    len = rawlen - TZ_GCM_NONCE - TZ_GCM_TAG;
    *out = apr_palloc(p, len + 1);
    if (gcm(0, k, raw, raw + TZ_GCM_NONCE, (int)len, (unsigned char *)*out,
            raw + TZ_GCM_NONCE + len) != 0)
        return -1;
    (*out)[len] = '\0';
    if (outlen)
        *outlen = len;
    return 0;
}
