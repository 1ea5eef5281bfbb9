/* "t=<unix>,v1=<hex>" webhook signatures (generic and Stripe) and
 * Flutterwave's verif-hash.
 *
 * The header is parsed strictly but, like Stripe's own libraries, keys other
 * than t and v1 (v0, future schemes) are ignored and several v1 values are
 * accepted so a provider can rotate its secret.  The MAC covers the raw body
 * bytes, and every candidate is compared in constant time. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "tz_sig.h"
#include "tz_crypto.h"
#include "apr_strings.h"

/* More v1 values than any rotation needs is an abuse, not a rotation. */
#define TZ_SIG_MAX_V1 8
/* Unix seconds of up to 12 digits reach year 33658: enough, and no overflow. */
#define TZ_SIG_T_DIGITS 12

typedef struct {
    long long t;
    int have_t;
    int nv1;
    unsigned char v1[TZ_SIG_MAX_V1][TZ_SHA256_LEN];
} tz_sig_hdr_t;

static int parse_t(const char *s, size_t n, long long *t)
{
    long long v = 0;
    if (n == 0 || n > TZ_SIG_T_DIGITS)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *t = v;
    return 0;
}

static int parse_v1(const char *s, size_t n, unsigned char out[TZ_SHA256_LEN])
{
    char hex[2 * TZ_SHA256_LEN + 1];
    if (n != 2 * TZ_SHA256_LEN)
        return -1;
    memcpy(hex, s, n);
    hex[n] = '\0';
    return tz_hex_decode(hex, out, TZ_SHA256_LEN);
}

/* One "key=value" item (leading spaces already skipped); 0 or -1. */
static int parse_item(const char *item, size_t len, tz_sig_hdr_t *h)
{
    const char *eq = memchr(item, '=', len);
    size_t klen = eq ? (size_t)(eq - item) : len, vlen = eq ? len - klen - 1 : 0;
    if (klen == 1 && item[0] == 't') {
        /* A second t would make the signed timestamp ambiguous. */
        if (!eq || h->have_t || parse_t(eq + 1, vlen, &h->t) != 0)
            return -1;
        h->have_t = 1;
    } else if (klen == 2 && memcmp(item, "v1", 2) == 0) {
        if (!eq || h->nv1 == TZ_SIG_MAX_V1 || parse_v1(eq + 1, vlen, h->v1[h->nv1]) != 0)
            return -1;
        h->nv1++;
    }
    return 0; /* other schemes are ignored */
}

static tz_sig_status_e parse_header(const char *s, tz_sig_hdr_t *h)
{
    memset(h, 0, sizeof *h);
    while (*s) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        while (len && (*s == ' ' || *s == '\t'))
            s++, len--;
        if (len && parse_item(s, len, h) != 0)
            return TZ_SIG_MALFORMED;
        s += len + (end ? 1 : 0);
    }
    return h->have_t && h->nv1 ? TZ_SIG_OK : TZ_SIG_MALFORMED;
}

/* HMAC-SHA256(secret, "<t>.<body>"). */
static int mac_tv1(const void *secret, size_t secretlen, long long t, const char *body,
                   size_t bodylen, unsigned char out[TZ_SHA256_LEN])
{
    char prefix[32];
    int n = snprintf(prefix, sizeof prefix, "%lld.", t);
    size_t total;
    char *msg;
    int rc;
    if (n <= 0 || (size_t)n >= sizeof prefix || (bodylen && !body))
        return -1;
    total = (size_t)n + bodylen;
    if (!(msg = malloc(total)))
        return -1;
    memcpy(msg, prefix, (size_t)n);
    if (bodylen)
        memcpy(msg + n, body, bodylen);
    rc = tz_hmac_sha256(secret, secretlen, msg, total, out);
    free(msg);
    return rc;
}

/* |now - t| > tolerance, in either direction, without overflow. */
static int stale(long long t, long long now, long long tolerance)
{
    long long d;
    if (tolerance < 0 || __builtin_sub_overflow(now, t, &d))
        return 1;
    return d > tolerance || d < -tolerance;
}

tz_sig_status_e tz_sig_verify_tv1(const char *header, const void *secret, size_t secretlen,
                                  const char *body, size_t bodylen, long long now,
                                  long long tolerance)
{
    tz_sig_hdr_t h;
    unsigned char want[TZ_SHA256_LEN];
    int match = 0;
    if (!header || !*header)
        return TZ_SIG_MISSING;
    if (parse_header(header, &h) != TZ_SIG_OK)
        return TZ_SIG_MALFORMED;
    if (stale(h.t, now, tolerance))
        return TZ_SIG_STALE;
    /* Without a secret nothing can match: an empty key would let anyone sign. */
    if (!secret || secretlen == 0 || mac_tv1(secret, secretlen, h.t, body, bodylen, want) != 0)
        return TZ_SIG_MISMATCH;
    /* Every candidate is compared, so timing does not say which one matched. */
    for (int i = 0; i < h.nv1; i++)
        match |= tz_ct_equal(h.v1[i], TZ_SHA256_LEN, want, TZ_SHA256_LEN);
    return match ? TZ_SIG_OK : TZ_SIG_MISMATCH;
}

char *tz_sig_sign_tv1(apr_pool_t *p, const void *secret, size_t secretlen, const char *body,
                      size_t bodylen, long long t)
{
    unsigned char mac[TZ_SHA256_LEN];
    if (!secret || secretlen == 0 || mac_tv1(secret, secretlen, t, body, bodylen, mac) != 0)
        return NULL;
    /* APR's formatter knows no %lld: use its 64-bit format. */
    return apr_psprintf(p, "t=%" APR_INT64_T_FMT ",v1=%s", (apr_int64_t)t,
                        tz_hex_encode(p, mac, TZ_SHA256_LEN));
}

tz_sig_status_e tz_sig_verify_hash(const char *header, const void *secret, size_t secretlen)
{
    if (!header || !*header)
        return TZ_SIG_MISSING;
    if (!secret || secretlen == 0)
        return TZ_SIG_MISMATCH;
    return tz_ct_equal(header, strlen(header), secret, secretlen) ? TZ_SIG_OK : TZ_SIG_MISMATCH;
}

const char *tz_sig_status_str(tz_sig_status_e s)
{
    switch (s) {
    case TZ_SIG_OK: return "valid";
    case TZ_SIG_MISSING: return "the signature header is missing";
    case TZ_SIG_MALFORMED: return "the signature header is malformed";
    case TZ_SIG_STALE: return "the signature timestamp is outside the tolerance";
    case TZ_SIG_MISMATCH: return "the signature does not match";
    }
    return "the signature does not match";
}
