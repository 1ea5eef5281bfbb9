/* JWT HS256 through libjwt 1.10, failing closed.
 *
 * libjwt takes the algorithm from the token and validates no claim, so:
 * keys shorter than 32 bytes are refused before libjwt sees them (with an
 * empty key it would accept "alg":"none"), the algorithm must be HS256 after
 * decoding, and exp/iat/iss/aud/sub/role/jti are checked here with their
 * JSON types (jwt_get_grant_int() reads strings and reals as 0).  Every
 * jwt_t and every string libjwt returns is freed on every path. */
#include <string.h>
#include <stdlib.h>
#include <jwt.h>
#include <jansson.h>
#include "tz_jwt.h"
#include "apr_strings.h"

/* Access tokens are a few hundred bytes; anything far larger is refused
 * before libjwt allocates for it. */
#define TZ_JWT_MAX_LEN 8192

static int key_ok(const tz_jwt_cfg_t *cfg)
{
    return cfg && cfg->key && cfg->keylen >= TZ_JWT_MIN_KEY && cfg->keylen <= 1 << 20;
}

/* Adds every claim; 0 on success. */
static int add_claims(jwt_t *jwt, const tz_jwt_cfg_t *cfg, const char *sub, const char *role,
                      const char *jti, long long now, long long exp)
{
    return jwt_add_grant(jwt, "sub", sub) || jwt_add_grant(jwt, "role", role) ||
           jwt_add_grant(jwt, "iss", cfg->iss) || jwt_add_grant(jwt, "aud", cfg->aud) ||
           jwt_add_grant(jwt, "jti", jti) || jwt_add_grant_int(jwt, "iat", now) ||
           jwt_add_grant_int(jwt, "exp", exp);
}

char *tz_jwt_issue(apr_pool_t *p, const tz_jwt_cfg_t *cfg, const char *sub,
                   const char *role, const char *jti, long long now, long long ttl)
{
    jwt_t *jwt = NULL;
    char *s = NULL, *out = NULL;
    long long exp;
    if (!key_ok(cfg) || !cfg->iss || !cfg->aud || !sub || !*sub || !role || !*role || !jti ||
        !*jti || ttl <= 0 || __builtin_add_overflow(now, ttl, &exp))
        return NULL;
    if (jwt_new(&jwt) == 0 && jwt_set_alg(jwt, JWT_ALG_HS256, cfg->key, (int)cfg->keylen) == 0 &&
        add_claims(jwt, cfg, sub, role, jti, now, exp) == 0)
        s = jwt_encode_str(jwt);
    if (s)
        out = apr_pstrdup(p, s);
    free(s);
    jwt_free(jwt);
    return out;
}

/* A claim that must be a non-empty JSON string. */
static const char *str_claim(json_t *g, const char *name)
{
    json_t *v = json_object_get(g, name);
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    return s && *s ? s : NULL;
}

/* Checks the claims object; on TZ_JWT_OK copies them into *out from p. */
static tz_jwt_status_e check_object(apr_pool_t *p, const tz_jwt_cfg_t *cfg, json_t *g,
                                    long long now, tz_claims_t *out)
{
    json_t *exp = json_object_get(g, "exp"), *iat = json_object_get(g, "iat");
    const char *iss = str_claim(g, "iss"), *aud = str_claim(g, "aud");
    const char *sub = str_claim(g, "sub"), *role = str_claim(g, "role");
    const char *jti = str_claim(g, "jti");
    if (!json_is_integer(exp) || !json_is_integer(iat) || !sub || !role || !jti || !iss ||
        !aud || !cfg->iss || !cfg->aud || strcmp(iss, cfg->iss) != 0 ||
        strcmp(aud, cfg->aud) != 0)
        return TZ_JWT_BAD_CLAIMS;
    if (json_integer_value(exp) <= now)
        return TZ_JWT_EXPIRED;
    out->sub = apr_pstrdup(p, sub);
    out->role = apr_pstrdup(p, role);
    out->jti = apr_pstrdup(p, jti);
    out->iat = json_integer_value(iat);
    out->exp = json_integer_value(exp);
    return TZ_JWT_OK;
}

/* Reads the claims back as JSON so their types can be checked. */
static tz_jwt_status_e check_claims(apr_pool_t *p, const tz_jwt_cfg_t *cfg, jwt_t *jwt,
                                    long long now, tz_claims_t *out)
{
    char *text = jwt_get_grants_json(jwt, NULL);
    json_t *g = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
    tz_jwt_status_e st = json_is_object(g) ? check_object(p, cfg, g, now, out)
                                           : TZ_JWT_MALFORMED;
    json_decref(g);
    free(text);
    return st;
}

/* Three non-empty base64url segments of possible lengths, at most TZ_JWT_MAX_LEN in all.
 * Checked before libjwt sees the token: libjwt 1.10 decodes an empty
 * segment into a malloc(0) buffer and writes past it, and copies each
 * segment onto the stack (alloca) whatever its length. */
static int shape_ok(const char *token)
{
    static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                 "0123456789-_";
    size_t total = 0;
    if (!token || strnlen(token, TZ_JWT_MAX_LEN + 1) > TZ_JWT_MAX_LEN)
        return 0;
    for (int seg = 0; seg < 3; seg++) {
        size_t n = strspn(token + total, b64url);
        char sep = token[total + n];
        /* a length of 4k+1 is never base64 */
        if (n == 0 || n % 4 == 1 || sep != (seg < 2 ? '.' : '\0'))
            return 0;
        total += n + 1;
    }
    return 1;
}

/* The algorithm libjwt verified with, and the header's own spelling of it:
 * libjwt reads "alg" case-insensitively, RFC 7515 names are case-sensitive. */
static int alg_is_hs256(jwt_t *jwt)
{
    const char *alg = jwt_get_header(jwt, "alg");
    return jwt_get_alg(jwt) == JWT_ALG_HS256 && alg && strcmp(alg, "HS256") == 0;
}

tz_jwt_status_e tz_jwt_verify(apr_pool_t *p, const tz_jwt_cfg_t *cfg, const char *token,
                              long long now, tz_claims_t *out)
{
    jwt_t *jwt = NULL;
    tz_jwt_status_e st;
    if (out)
        memset(out, 0, sizeof *out);
    if (!key_ok(cfg))
        return TZ_JWT_NO_KEY;
    if (!out || !shape_ok(token))
        return TZ_JWT_MALFORMED;
    if (jwt_decode(&jwt, token, cfg->key, (int)cfg->keylen) != 0 || !jwt)
        st = TZ_JWT_MALFORMED;
    else if (!alg_is_hs256(jwt))
        st = TZ_JWT_BAD_ALG;
    else
        st = check_claims(p, cfg, jwt, now, out);
    jwt_free(jwt); /* NULL-safe; libjwt frees its own partial object on error */
    if (st != TZ_JWT_OK)
        memset(out, 0, sizeof *out);
    return st;
}
