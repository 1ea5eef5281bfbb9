/* Password hashing with scrypt in a self-describing string:
 *   $scrypt$ln=15,r=8,p=3$<base64url salt>$<base64url 32-byte hash>
 * so the cost can be raised later without breaking stored hashes. */
#ifndef TZ_PASSWORD_H
#define TZ_PASSWORD_H
#include <apr_pools.h>

typedef struct {
    unsigned ln;  /* log2(N) */
    unsigned r;
    unsigned p;
} tz_scrypt_params_t;

/* The cost used for new hashes: the OWASP floor N=2^15, r=8, p=3. */
extern const tz_scrypt_params_t tz_scrypt_default;

/* Hashes password with a random 16-byte salt; NULL on failure. */
char *tz_password_hash(apr_pool_t *p, const char *password);
char *tz_password_hash_with(apr_pool_t *p, const char *password, const tz_scrypt_params_t *params);

/* Parses the parameters of a stored hash.  0 on success, -1 if malformed or
 * outside sane bounds (ln 10..22, r 1..32, p 1..16). */
int tz_password_parse(const char *stored, tz_scrypt_params_t *out);

/* 1 when password matches stored, 0 when it does not, -1 when stored is malformed. */
int tz_password_verify(apr_pool_t *p, const char *password, const char *stored);

/* Verifies against a fixed dummy hash, so an unknown email costs as much as a
 * wrong password. Always returns 0. */
int tz_password_burn(apr_pool_t *p, const char *password);

/* Bounds the hashes computed at once by this process (each holds 32 MiB
 * at the default cost); 0 removes the bound.  Waiting callers block. */
void tz_password_set_concurrency(unsigned n);
/* The most hashes computed at once since the last set_concurrency (tests). */
unsigned tz_password_peak_concurrency(void);

#endif
