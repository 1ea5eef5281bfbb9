/* scrypt password hashes in a self-describing string:
 *   $scrypt$ln=15,r=8,p=3$<b64url salt>$<b64url hash>
 * The cost lives in the string, so raising it later only affects new hashes.
 *
 * The scrypt KDF is fetched once (EVP_PBE_scrypt() would fetch
 * it on every call) and always given an explicit memory limit, since
 * OpenSSL's 32 MB default refuses N=2^15, r=8 unless maxmem is passed. */
#include <string.h>
#include <stdint.h>
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
/* Accepted sizes when reading stored hashes (bytes). */
#define TZ_SALT_MIN 8
#define TZ_SALT_MAX 64
#define TZ_HASH_MIN 16
#define TZ_HASH_MAX 64
#define TZ_PREFIX "$scrypt$"

const tz_scrypt_params_t tz_scrypt_default = {15, 8, 3};

static EVP_KDF *tz_kdf;
static pthread_once_t tz_kdf_once = PTHREAD_ONCE_INIT;

static void fetch_kdf(void)
{
    tz_kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
}

static int params_ok(const tz_scrypt_params_t *sp)
{
    return sp && sp->ln >= 10 && sp->ln <= 22 && sp->r >= 1 && sp->r <= 32 && sp->p >= 1 &&
           sp->p <= 16;
}

/* OpenSSL needs 128*r*p bytes for B and 128*r*(N+2) for V; the limit is
 * exactly that plus slack, so a hash cannot ask for more than it uses. */
static uint64_t scrypt_maxmem(const tz_scrypt_params_t *sp)
{
    uint64_t n = (uint64_t)1 << sp->ln;
    return 128 * (uint64_t)sp->r * (n + 2 + sp->p) + (1 << 16);
}

/* At most gate_limit derivations at once in this process (0: no limit).
 * Each scrypt call holds 128*r*N bytes (32 MiB at the default cost), so a
 * burst of logins on every worker thread would otherwise cost a child
 * threads x 32 MiB; more hashes at once than cores buys no throughput. */
static pthread_mutex_t gate_mx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static unsigned gate_limit, gate_busy, gate_peak;

void tz_password_set_concurrency(unsigned n)
{
    pthread_mutex_lock(&gate_mx);
    gate_limit = n;
    gate_peak = gate_busy;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mx);
}

unsigned tz_password_peak_concurrency(void)
{
    unsigned peak;
    pthread_mutex_lock(&gate_mx);
    peak = gate_peak;
    pthread_mutex_unlock(&gate_mx);
    return peak;
}

static void gate_enter(void)
{
    pthread_mutex_lock(&gate_mx);
    while (gate_limit && gate_busy >= gate_limit)
        pthread_cond_wait(&gate_cv, &gate_mx);
    if (++gate_busy > gate_peak)
        gate_peak = gate_busy;
    pthread_mutex_unlock(&gate_mx);
}

static void gate_leave(void)
{
    pthread_mutex_lock(&gate_mx);
    gate_busy--;
    pthread_cond_signal(&gate_cv);
    pthread_mutex_unlock(&gate_mx);
}

static int derive(const char *pw, const unsigned char *salt, size_t saltlen,
                  const tz_scrypt_params_t *sp, unsigned char *out, size_t outlen)
{
    uint64_t n = (uint64_t)1 << sp->ln, maxmem = scrypt_maxmem(sp);
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
    gate_enter();
    ok = EVP_KDF_derive(ctx, out, outlen, params) == 1;
    gate_leave();
    EVP_KDF_CTX_free(ctx);
    return ok ? 0 : -1;
}

char *tz_password_hash_with(apr_pool_t *p, const char *password, const tz_scrypt_params_t *sp)
{
    unsigned char salt[TZ_SALT_LEN], hash[TZ_HASH_LEN];
    char *out = NULL;
    if (!password || !params_ok(sp))
        return NULL;
    if (tz_random_bytes(salt, sizeof salt) == 0 &&
        derive(password, salt, sizeof salt, sp, hash, sizeof hash) == 0)
        out = apr_psprintf(p, TZ_PREFIX "ln=%u,r=%u,p=%u$%s$%s", sp->ln, sp->r, sp->p,
                           tz_b64url_encode(p, salt, sizeof salt),
                           tz_b64url_encode(p, hash, sizeof hash));
    OPENSSL_cleanse(hash, sizeof hash);
    return out;
}

char *tz_password_hash(apr_pool_t *p, const char *password)
{
    return tz_password_hash_with(p, password, &tz_scrypt_default);
}

/* Reads "<name>=<1 or 2 digits, no leading zero>" then the separator sep. */
static const char *param(const char *s, const char *name, char sep, unsigned *out)
{
    size_t nl = strlen(name);
    unsigned v = 0;
    int digits = 0;
    if (strncmp(s, name, nl) != 0 || s[nl] != '=')
        return NULL;
    for (s += nl + 1; *s >= '0' && *s <= '9' && digits < 3; s++, digits++)
        v = v * 10 + (unsigned)(*s - '0');
    if (digits == 0 || digits > 2 || (digits == 2 && s[-2] == '0') || *s != sep)
        return NULL;
    *out = v;
    return s + 1;
}

/* Decodes one base64url field of s up to the terminator end into out. */
static const char *field(apr_pool_t *p, const char *s, char end, size_t min, size_t max,
                         unsigned char **out, size_t *outlen)
{
    const char *stop = strchr(s, end);
    size_t n = stop ? (size_t)(stop - s) : 0;
    if (!stop || n == 0 || n > (max * 4 + 2) / 3)
        return NULL;
    if (tz_b64url_decode(p, apr_pstrmemdup(p, s, n), out, outlen) != 0 || *outlen < min ||
        *outlen > max)
        return NULL;
    return stop + 1;
}

/* Strict reader of the whole stored string: prefix, parameters in order,
 * salt and hash of sane sizes, nothing after. 0 on success. */
static int split(apr_pool_t *p, const char *stored, tz_scrypt_params_t *sp,
                 unsigned char **salt, size_t *saltlen, unsigned char **hash, size_t *hashlen)
{
    const char *s = stored;
    if (!s || strnlen(s, 256) >= 256 || strncmp(s, TZ_PREFIX, strlen(TZ_PREFIX)) != 0)
        return -1;
    s += strlen(TZ_PREFIX);
    if (!(s = param(s, "ln", ',', &sp->ln)) || !(s = param(s, "r", ',', &sp->r)) ||
        !(s = param(s, "p", '$', &sp->p)) || !params_ok(sp))
        return -1;
    if (!(s = field(p, s, '$', TZ_SALT_MIN, TZ_SALT_MAX, salt, saltlen)) ||
        !field(p, s, '\0', TZ_HASH_MIN, TZ_HASH_MAX, hash, hashlen))
        return -1;
    return 0;
}

int tz_password_parse(const char *stored, tz_scrypt_params_t *out)
{
    apr_pool_t *p;
    unsigned char *salt, *hash;
    size_t saltlen, hashlen;
    tz_scrypt_params_t sp;
    int rc;
    if (apr_pool_create(&p, NULL) != APR_SUCCESS)
        return -1;
    rc = split(p, stored, &sp, &salt, &saltlen, &hash, &hashlen);
    apr_pool_destroy(p);
    if (rc == 0 && out)
        *out = sp;
    return rc;
}

int tz_password_verify(apr_pool_t *p, const char *password, const char *stored)
{
    tz_scrypt_params_t sp;
    unsigned char *salt, *want, got[TZ_HASH_MAX];
    size_t saltlen, wantlen;
    int ok;
    if (split(p, stored, &sp, &salt, &saltlen, &want, &wantlen) != 0)
        return -1;
    if (derive(password ? password : "", salt, saltlen, &sp, got, wantlen) != 0)
        return -1;
    ok = CRYPTO_memcmp(got, want, wantlen) == 0;
    OPENSSL_cleanse(got, sizeof got);
    /* A missing password never matches, but costs the same as a wrong one. */
    return ok && password ? 1 : 0;
}

int tz_password_burn(apr_pool_t *p, const char *password)
{
    /* Same cost as a real verification at the current default. */
    static const char salt[] = "tipzed-burn-salt";
    unsigned char got[TZ_HASH_LEN];
    (void)p;
    derive(password ? password : "", (const unsigned char *)salt, TZ_SALT_LEN,
           &tz_scrypt_default, got, sizeof got);
    OPENSSL_cleanse(got, sizeof got);
    return 0;
}
