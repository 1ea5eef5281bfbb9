/* JWT HS256 through libjwt 1.10, failing closed (PITFALLS 9-11): the
 * algorithm must be HS256, and exp/iat/iss/aud/sub/role/jti are checked
 * here because libjwt 1.10 validates no claim itself. */
#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include <jwt.h>
#include "tz_jwt.h"
#include "tz_json.h"
#include "apr_strings.h"

#define TZ_JWT_MAX_LEN 8192

char *tz_jwt_issue(apr_pool_t *p, const tz_jwt_cfg_t *cfg, const char *sub,
                   const char *role, const char *jti, long long now, long long ttl)
{
    jwt_t *jwt = NULL;
    char *s = NULL, *out = NULL;
    if (!cfg->key || cfg->keylen < TZ_JWT_MIN_KEY || !sub || !role || !jti)
        return NULL;
    if (jwt_new(&jwt) == 0 &&
        jwt_set_alg(jwt, JWT_ALG_HS256, cfg->key, (int)cfg->keylen) == 0 &&
        jwt_add_grant(jwt, "sub", sub) == 0 && jwt_add_grant(jwt, "role", role) == 0 &&
        jwt_add_grant(jwt, "iss", cfg->iss) == 0 && jwt_add_grant(jwt, "aud", cfg->aud) == 0 &&
        jwt_add_grant(jwt, "jti", jti) == 0 && jwt_add_grant_int(jwt, "iat", now) == 0 &&
        jwt_add_grant_int(jwt, "exp", now + ttl) == 0)
        s = jwt_encode_str(jwt);
    if (s)
        out = apr_pstrdup(p, s);
    free(s);
    jwt_free(jwt);
    return out;
}

/* Reads the claims as JSON so their types can be checked: libjwt's
 * jwt_get_grant_int() reads strings and reals as 0. */
static tz_jwt_status_e check_claims(apr_pool_t *p, const tz_jwt_cfg_t *cfg, jwt_t *jwt,
                                    long long now, tz_claims_t *out)
{
    char *text = jwt_get_grants_json(jwt, NULL);
    const char *err;
    json_t *g = text ? tz_json_parse(p, text, strlen(text), &err) : NULL;
    free(text);
    if (!g || !json_is_object(g))
        return TZ_JWT_MALFORMED;
    json_t *exp = json_object_get(g, "exp"), *iat = json_object_get(g, "iat");
    const char *iss = tz_json_str(g, "iss"), *aud = tz_json_str(g, "aud");
    out->sub = tz_json_str(g, "sub");
    out->role = tz_json_str(g, "role");
    out->jti = tz_json_str(g, "jti");
    if (!json_is_integer(exp) || !json_is_integer(iat) || !out->sub || !out->role || !out->jti ||
        !iss || !aud || strcmp(iss, cfg->iss) != 0 || strcmp(aud, cfg->aud) != 0)
        return TZ_JWT_BAD_CLAIMS;
    out->exp = json_integer_value(exp);
    out->iat = json_integer_value(iat);
    if (out->exp <= now)
        return TZ_JWT_EXPIRED;
    out->sub = apr_pstrdup(p, out->sub);
    out->role = apr_pstrdup(p, out->role);
    out->jti = apr_pstrdup(p, out->jti);
    return TZ_JWT_OK;
}

tz_jwt_status_e tz_jwt_verify(apr_pool_t *p, const tz_jwt_cfg_t *cfg, const char *token,
                              long long now, tz_claims_t *out)
{
    jwt_t *jwt = NULL;
    tz_jwt_status_e st;
    if (!cfg->key || cfg->keylen < TZ_JWT_MIN_KEY)
        return TZ_JWT_NO_KEY;
    if (!token || strlen(token) > TZ_JWT_MAX_LEN || strchr(token, ' '))
        return TZ_JWT_MALFORMED;
    if (jwt_decode(&jwt, token, cfg->key, (int)cfg->keylen) != 0 || !jwt)
        return TZ_JWT_MALFORMED;
    if (jwt_get_alg(jwt) != JWT_ALG_HS256)
        st = TZ_JWT_BAD_ALG;
    else
        st = check_claims(p, cfg, jwt, now, out);
    jwt_free(jwt);
    return st;
}
