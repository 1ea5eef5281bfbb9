/* Mailed tokens (tz_token.h). */
#include "tz_token.h"
#include "tz_crypto.h"
#include <apr_strings.h>
#include <string.h>

int tz_token_new(apr_pool_t *p, const char **token, const char **hash)
{
    unsigned char raw[TZ_TOKEN_BYTES];
    if (tz_random_bytes(raw, sizeof raw) != 0)
        return -1;
    *token = tz_b64url_encode(p, raw, sizeof raw);
    *hash = tz_sha256_hex(p, raw, sizeof raw);
    memset(raw, 0, sizeof raw);
    return *token && *hash ? 0 : -1;
}

const char *tz_token_hash(apr_pool_t *p, const char *token)
{
    unsigned char *raw;
    size_t n;
    /* 32 bytes are 43 characters; checked first so no long input is decoded */
    if (!token || strlen(token) != (TZ_TOKEN_BYTES * 4 + 2) / 3 ||
        tz_b64url_decode(p, token, &raw, &n) != 0 || n != TZ_TOKEN_BYTES)
        return NULL;
    return tz_sha256_hex(p, raw, n);
}

const char *tz_token_link(apr_pool_t *p, const char *base, const char *page, const char *token)
{
    if (!base || !*base || !page || !token)
        return "";
    return apr_pstrcat(p, base, "/", page, "#token=", token, NULL);
}
