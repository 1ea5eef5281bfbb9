/* Access-token verification (tz_jwt_verify, libjwt 1.10) with a fixed
 * 48-byte key at a fixed clock.  The first byte picks the mode:
 *   0: the rest is the token as received;
 *   1: the rest is "<header JSON>\n<payload JSON>", base64url-encoded and
 *      signed with HMAC-SHA256 under the key, so libjwt's header and claim
 *      handling is reached with a valid signature;
 *   2: the rest is "<sub>\n<role>"-ish text used to issue a token with
 *      tz_jwt_issue, which must then verify with the same claims. */
#include "fuzz_common.h"
#include "fuzz_keys.h"
#include "tz_jwt.h"
#include "tz_crypto.h"

static const tz_jwt_cfg_t cfg = {(const unsigned char *)TZ_FUZZ_JWT_KEY,
                                 sizeof TZ_FUZZ_JWT_KEY - 1, TZ_FUZZ_ISS, TZ_FUZZ_AUD};

static char *b64url(apr_pool_t *p, const unsigned char *in, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = apr_palloc(p, (n + 2) / 3 * 4 + 1), *o = out;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        *o++ = tab[v >> 18 & 63];
        *o++ = tab[v >> 12 & 63];
        if (i + 1 < n)
            *o++ = tab[v >> 6 & 63];
        if (i + 2 < n)
            *o++ = tab[v & 63];
    }
    *o = '\0';
    return out;
}

static void check(tz_jwt_status_e st, const tz_claims_t *c)
{
    TZ_FUZZ_ASSERT(st >= TZ_JWT_OK && st <= TZ_JWT_NO_KEY);
    if (st == TZ_JWT_OK) {
        TZ_FUZZ_ASSERT(c->sub && *c->sub && c->role && *c->role && c->jti && *c->jti);
        TZ_FUZZ_ASSERT(c->exp > TZ_FUZZ_NOW);
    } else {
        TZ_FUZZ_ASSERT(!c->sub && !c->role && !c->jti);
    }
}

static tz_jwt_status_e signed_token(apr_pool_t *p, const char *hdr, const char *payload,
                                    size_t plen, tz_claims_t *c)
{
    unsigned char mac[TZ_SHA256_LEN];
    char *input = apr_pstrcat(p, b64url(p, (const unsigned char *)hdr, strlen(hdr)), ".",
                              b64url(p, (const unsigned char *)payload, plen), NULL);
    TZ_FUZZ_ASSERT(tz_hmac_sha256(cfg.key, cfg.keylen, input, strlen(input), mac) == 0);
    return tz_jwt_verify(p, &cfg, apr_pstrcat(p, input, ".", b64url(p, mac, sizeof mac), NULL),
                         TZ_FUZZ_NOW, c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    tz_claims_t c;
    char *a, *b;
    size_t blen;
    if (size < 1)
        return 0;
    p = tz_fuzz_pool();
    switch (data[0] % 3) {
    case 0:
        check(tz_jwt_verify(p, &cfg, apr_pstrmemdup(p, (const char *)data + 1, size - 1),
                            TZ_FUZZ_NOW, &c), &c);
        break;
    case 1:
        tz_fuzz_split(p, data + 1, size - 1, &a, &b, &blen);
        check(signed_token(p, a, b, blen, &c), &c);
        break;
    case 2: {
        tz_fuzz_split(p, data + 1, size - 1, &a, &b, &blen);
        /* (tokens beyond 8 KiB are refused by design) */
        char *tok = strlen(a) + blen < 2048
                        ? tz_jwt_issue(p, &cfg, a, b, "jti-1", TZ_FUZZ_NOW, 900) : NULL;
        if (tok) {
            tz_jwt_status_e st = tz_jwt_verify(p, &cfg, tok, TZ_FUZZ_NOW, &c);
            /* Whatever was issued must verify and read back unchanged. */
            TZ_FUZZ_ASSERT(st == TZ_JWT_OK);
            TZ_FUZZ_ASSERT(strcmp(c.sub, a) == 0 && strcmp(c.role, b) == 0);
            TZ_FUZZ_ASSERT(c.exp == TZ_FUZZ_NOW + 900 && c.iat == TZ_FUZZ_NOW);
        }
        break;
    }
    }
    apr_pool_destroy(p);
    return 0;
}
