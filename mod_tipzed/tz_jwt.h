/* Access tokens: JWT HS256 via libjwt 1.10 (the only file that includes jwt.h).
 * Verification fails closed: libjwt 1.10 takes the algorithm from the
 * token and checks no claim, so the header, exp, iss, aud and sub are all
 * checked here, and a missing claim is a failure. */
#ifndef TZ_JWT_H
#define TZ_JWT_H
#include <stddef.h>
#include <apr_pools.h>

#define TZ_JWT_MIN_KEY 32

typedef struct {
    const unsigned char *key;
    size_t keylen;
    const char *iss;
    const char *aud;
} tz_jwt_cfg_t;

typedef struct {
    const char *sub;
    const char *role;
    const char *jti;
    long long iat;
    long long exp;
} tz_claims_t;

typedef enum {
    TZ_JWT_OK = 0,
    TZ_JWT_MALFORMED,   /* not a JWT, bad base64/JSON, bad signature */
    TZ_JWT_BAD_ALG,     /* anything but HS256 */
    TZ_JWT_EXPIRED,
    TZ_JWT_BAD_CLAIMS,  /* missing/ill-typed exp, iat, sub, role, jti; wrong iss/aud */
    TZ_JWT_NO_KEY       /* key shorter than TZ_JWT_MIN_KEY */
} tz_jwt_status_e;

/* Issues a token with sub, role, iat=now, exp=now+ttl, iss, aud, jti.
 * NULL on failure (including a short key). */
char *tz_jwt_issue(apr_pool_t *p, const tz_jwt_cfg_t *cfg, const char *sub,
                   const char *role, const char *jti, long long now, long long ttl);

/* Verifies signature, alg == HS256, exp > now, iss, aud, and presence of
 * sub/role/jti.  On TZ_JWT_OK fills *out with strings from p. */
tz_jwt_status_e tz_jwt_verify(apr_pool_t *p, const tz_jwt_cfg_t *cfg, const char *token,
                              long long now, tz_claims_t *out);

#endif
