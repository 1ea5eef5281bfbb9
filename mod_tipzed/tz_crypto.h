/* Cryptographic primitives: randomness, digests, MACs, AES-256-GCM.
 * With tz_password.c, the only files that include OpenSSL.  No httpd types. */
#ifndef TZ_CRYPTO_H
#define TZ_CRYPTO_H
#include <stddef.h>
#include <apr_pools.h>

#define TZ_SHA256_LEN 32
#define TZ_SHA1_LEN 20
#define TZ_AEAD_KEY_LEN 32
#define TZ_KEY_ID_LEN 8 /* hex characters */

/* Fetches the algorithms once (an implicit fetch takes a lock on every
 * call under a threaded MPM).  Call before threads start;
 * idempotent.  Returns 0 on success. */
int tz_crypto_init(void);

/* 0 on success, -1 when the CSPRNG fails. */
int tz_random_bytes(unsigned char *buf, size_t n);

/* Lower-case hex of n bytes, NUL-terminated, from p. */
char *tz_hex_encode(apr_pool_t *p, const unsigned char *buf, size_t n);

/* Decodes exactly outlen bytes from a 2*outlen hex string (either case).
 * Returns 0, or -1 on bad length or characters. */
int tz_hex_decode(const char *hex, unsigned char *out, size_t outlen);

/* nbytes of CSPRNG output as lower-case hex (a refresh token, a jti). NULL on failure. */
char *tz_random_hex(apr_pool_t *p, size_t nbytes);

/* A random RFC 4122 version-4 UUID, lower case.  NULL on failure. */
char *tz_uuid4(apr_pool_t *p);

/* SHA-256 of data as lower-case hex. */
char *tz_sha256_hex(apr_pool_t *p, const void *data, size_t n);

/* HMAC-SHA256.  Returns 0 on success. */
int tz_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                   unsigned char out[TZ_SHA256_LEN]);

/* HMAC-SHA1, for TOTP (RFC 6238's default, what authenticator apps compute)
 * and nothing else.  Returns 0 on success. */
int tz_hmac_sha1(const void *key, size_t keylen, const void *data, size_t len,
                 unsigned char out[TZ_SHA1_LEN]);

/* Constant-time equality, lengths checked first: 1 when lengths and bytes are equal. */
int tz_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* AES-256-GCM with a key id so keys can rotate. */
typedef struct {
    char id[TZ_KEY_ID_LEN + 1];          /* first 8 hex of SHA-256("tipzed-key-id:" || key) */
    unsigned char key[TZ_AEAD_KEY_LEN];
} tz_aead_key_t;

/* Builds a key from 64 hex characters (one trailing newline allowed).
 * Returns NULL on success, else an error message (static string). */
const char *tz_aead_key_from_hex(const char *hex, tz_aead_key_t *out);

/* Longest context a sealed value can be bound to. */
#define TZ_AEAD_MAX_CONTEXT 256

/* Seals plaintext with a fresh random 96-bit nonce.  The key's id and the
 * context (e.g. the owner's id) are authenticated data, so a value moved to
 * another owner's row no longer opens.  Result from p:
 * "v2.<keyid>.<base64url(nonce || ciphertext || tag)>"; with a NULL context
 * "v1.<keyid>...", the form of values sealed before contexts existed.  NULL
 * on failure. */
char *tz_aead_seal(apr_pool_t *p, const tz_aead_key_t *key, const char *context,
                   const char *plain, size_t len);

/* Opens a sealed string with whichever of keys[0..nkeys) carries its id; a
 * v2 value only under the context it was sealed with (a v1 value under
 * any).  Returns 0 and a NUL-terminated *out from p; -1 on unknown key id,
 * malformed input, another context, or authentication failure. */
int tz_aead_open(apr_pool_t *p, const tz_aead_key_t *keys, size_t nkeys, const char *context,
                 const char *sealed, char **out, size_t *outlen);

/* base64url without padding, and its inverse (-1 on bad input). */
char *tz_b64url_encode(apr_pool_t *p, const unsigned char *buf, size_t n);
int tz_b64url_decode(apr_pool_t *p, const char *s, unsigned char **out, size_t *outlen);

#endif
