/* "t=<unix>,v1=<hex>" webhook signatures (generic and Stripe) and
 * Flutterwave's verif-hash.  MACs compared in constant time. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "tz_sig.h"
#include "tz_crypto.h"
#include "apr_strings.h"

#define TZ_SIG_MAX_V1 8

static int parse_t(const char *s, size_t n, long long *t)
{
    long long v = 0;
    if (n == 0 || n > 12)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *t = v;
    return 0;
}

/* Splits the header into t and up to TZ_SIG_MAX_V1 decoded v1 MACs. */
static tz_sig_status_e parse_header(const char *h, long long *t,
                                    unsigned char v1[][TZ_SHA256_LEN], int *nv1)
{
    int have_t = 0;
    *nv1 = 0;
    while (*h) {
        const char *end = strchr(h, ','), *eq;
        size_t len = end ? (size_t)(end - h) : strlen(h);
        while (len && *h == ' ')
            h++, len--;
        eq = memchr(h, '=', len);
        if (eq && eq - h == 1 && *h == 't') {
            if (parse_t(eq + 1, len - 2, t) != 0)
                return TZ_SIG_MALFORMED;
            have_t = 1;
        } else if (eq && eq - h == 2 && strncmp(h, "v1", 2) == 0 && *nv1 < TZ_SIG_MAX_V1) {
            char hex[2 * TZ_SHA256_LEN + 1];
            if (len - 3 != 2 * TZ_SHA256_LEN)
                return TZ_SIG_MALFORMED;
            memcpy(hex, eq + 1, 2 * TZ_SHA256_LEN);
            hex[2 * TZ_SHA256_LEN] = '\0';
            if (tz_hex_decode(hex, v1[*nv1], TZ_SHA256_LEN) != 0)
                return TZ_SIG_MALFORMED;
            (*nv1)++;
        }
        h += len + (end ? 1 : 0);
    }
    return have_t && *nv1 ? TZ_SIG_OK : TZ_SIG_MALFORMED;
}

static int mac_tv1(const void *secret, size_t secretlen, long long t, const char *body,
                   size_t bodylen, unsigned char out[TZ_SHA256_LEN])
{
    char prefix[32];
    int n = snprintf(prefix, sizeof prefix, "%lld.", t);
    size_t total = (size_t)n + bodylen;
    char *msg = malloc(total ? total : 1);
    int rc;
    if (!msg)
        return -1;
    memcpy(msg, prefix, (size_t)n);
    if (bodylen)
        memcpy(msg + n, body, bodylen);
    rc = tz_hmac_sha256(secret, secretlen, msg, total, out);
    free(msg);
    return rc;
}

tz_sig_status_e tz_sig_verify_tv1(const char *header, const void *secret, size_t secretlen,
                                  const char *body, size_t bodylen, long long now,
                                  long long tolerance)
{
    unsigned char v1[TZ_SIG_MAX_V1][TZ_SHA256_LEN], want[TZ_SHA256_LEN];
    long long t = 0;
    int nv1, match = 0;
    tz_sig_status_e st;
    if (!header || !*header)
        return TZ_SIG_MISSING;
    if (!secret || secretlen == 0 || (st = parse_header(header, &t, v1, &nv1)) != TZ_SIG_OK)
        return TZ_SIG_MALFORMED;
    if (t > now + tolerance || t < now - tolerance)
        return TZ_SIG_STALE;
    if (mac_tv1(secret, secretlen, t, body, bodylen, want) != 0)
        return TZ_SIG_MISMATCH;
    for (int i = 0; i < nv1; i++)
        match |= tz_ct_equal(v1[i], TZ_SHA256_LEN, want, TZ_SHA256_LEN);
    return match ? TZ_SIG_OK : TZ_SIG_MISMATCH;
}

char *tz_sig_sign_tv1(apr_pool_t *p, const void *secret, size_t secretlen, const char *body,
                      size_t bodylen, long long t)
{
    unsigned char mac[TZ_SHA256_LEN];
    if (mac_tv1(secret, secretlen, t, body, bodylen, mac) != 0)
        return NULL;
    return apr_psprintf(p, "t=%" APR_INT64_T_FMT ",v1=%s", (apr_int64_t)t,
                        tz_hex_encode(p, mac, TZ_SHA256_LEN));
}

tz_sig_status_e tz_sig_verify_hash(const char *header, const void *secret, size_t secretlen)
{
    if (!header || !*header)
        return TZ_SIG_MISSING;
    if (!secret || secretlen == 0)
        return TZ_SIG_MALFORMED;
    return tz_ct_equal(header, strlen(header), secret, secretlen) ? TZ_SIG_OK : TZ_SIG_MISMATCH;
}

const char *tz_sig_status_str(tz_sig_status_e s)
{
    switch (s) {
    case TZ_SIG_OK: return "valid";
    case TZ_SIG_MISSING: return "the signature header is missing";
    case TZ_SIG_MALFORMED: return "the signature header is malformed";
    case TZ_SIG_STALE: return "the signature timestamp is outside the tolerance";
    default: return "the signature does not match";
    }
}
