/* scrypt password hashes in a self-describing string:
 *   $scrypt$ln=15,r=8,p=3$<b64url salt>$<b64url hash>
 * The KDF is fetched once (PITFALLS 17) and given an explicit memory limit,
 * since OpenSSL's 32 MB default refuses N=2^15, r=8 (PITFALLS 16). */
#include <string.h>
#include <stdio.h>
#include <pthread.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include "tz_password.h"
#include "tz_crypto.h"
#include "apr_strings.h"

#define TZ_SALT_LEN 16
#define TZ_HASH_LEN 32

const tz_scrypt_params_t tz_scrypt_default = {15, 8, 3};

static EVP_KDF *tz_kdf;
static pthread_once_t tz_kdf_once = PTHREAD_ONCE_INIT;

static void fetch_kdf(void)
{
    tz_kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
}

static int derive(const char *pw, const unsigned char *salt, size_t saltlen,
                  const tz_scrypt_params_t *sp, unsigned char *out, size_t outlen)
{
    uint64_t n = (uint64_t)1 << sp->ln, maxmem = 128 * n * sp->r * 2 + (1 << 20) * (uint64_t)sp->p;
    uint32_t r = sp->r, p = sp->p;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pw, strlen(pw)),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
        OSSL_PARAM_construct_end()};
    EVP_KDF_CTX *ctx;
    int ok;
    pthread_once(&tz_kdf_once, fetch_kdf);
    if (!tz_kdf || !(ctx = EVP_KDF_CTX_new(tz_kdf)))
        return -1;
    ok = EVP_KDF_derive(ctx, out, outlen, params) == 1;
    EVP_KDF_CTX_free(ctx);
    return ok ? 0 : -1;
}

char *tz_password_hash_with(apr_pool_t *p, const char *password, const tz_scrypt_params_t *sp)
{
    unsigned char salt[TZ_SALT_LEN], hash[TZ_HASH_LEN];
    if (tz_random_bytes(salt, sizeof salt) != 0 ||
        derive(password, salt, sizeof salt, sp, hash, sizeof hash) != 0)
        return NULL;
    return apr_psprintf(p, "$scrypt$ln=%u,r=%u,p=%u$%s$%s", sp->ln, sp->r, sp->p,
                        tz_b64url_encode(p, salt, sizeof salt),
                        tz_b64url_encode(p, hash, sizeof hash));
}

char *tz_password_hash(apr_pool_t *p, const char *password)
{
    return tz_password_hash_with(p, password, &tz_scrypt_default);
}

/* Splits a stored hash into parameters, salt and hash text. */
static int split(const char *stored, tz_scrypt_params_t *sp, char *salt, char *hash)
{
    int used = 0;
    if (!stored || strlen(stored) > 256 ||
        sscanf(stored, "$scrypt$ln=%2u,r=%2u,p=%2u$%64[A-Za-z0-9_-]$%64[A-Za-z0-9_-]%n",
               &sp->ln, &sp->r, &sp->p, salt, hash, &used) != 5 ||
        stored[used] != '\0')
        return -1;
    if (sp->ln < 10 || sp->ln > 22 || sp->r < 1 || sp->r > 32 || sp->p < 1 || sp->p > 16)
        return -1;
    return 0;
}

int tz_password_parse(const char *stored, tz_scrypt_params_t *out)
{
    char salt[65], hash[65];
    return split(stored, out, salt, hash);
}

int tz_password_verify(apr_pool_t *p, const char *password, const char *stored)
{
    tz_scrypt_params_t sp;
    char salt64[65], hash64[65];
    unsigned char *salt, *want, got[64];
    size_t saltlen, wantlen;
    if (split(stored, &sp, salt64, hash64) != 0 ||
        tz_b64url_decode(p, salt64, &salt, &saltlen) != 0 ||
        tz_b64url_decode(p, hash64, &want, &wantlen) != 0 || wantlen < 16 ||
        wantlen > sizeof got)
        return -1;
    if (derive(password, salt, saltlen, &sp, got, wantlen) != 0)
        return -1;
    int ok = CRYPTO_memcmp(got, want, wantlen) == 0;
    OPENSSL_cleanse(got, sizeof got);
    return ok;
}

int tz_password_burn(apr_pool_t *p, const char *password)
{
    static const char dummy[] =
        "$scrypt$ln=15,r=8,p=3$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    tz_password_verify(p, password, dummy);
    return 0;
}
