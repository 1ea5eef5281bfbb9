/* Webhook signature schemes.  No httpd types.
 * "t=<unix>,v1=<hex>[,v1=<hex>...]" over "<t>.<raw body>" with HMAC-SHA256:
 * the generic X-Tipzed-Signature and Stripe-Signature share it (several v1
 * values accepted for secret rotation; other schemes such as v0 ignored). */
#ifndef TZ_SIG_H
#define TZ_SIG_H
#include <stddef.h>
#include <apr_pools.h>

typedef enum {
    TZ_SIG_OK = 0,
    TZ_SIG_MISSING,    /* no header */
    TZ_SIG_MALFORMED,  /* no t, non-numeric t, no v1, bad hex */
    TZ_SIG_STALE,      /* |now - t| > tolerance, past or future */
    TZ_SIG_MISMATCH    /* no v1 matches */
} tz_sig_status_e;

tz_sig_status_e tz_sig_verify_tv1(const char *header, const void *secret, size_t secretlen,
                                  const char *body, size_t bodylen, long long now,
                                  long long tolerance);

/* Builds a header value "t=<t>,v1=<hex>" (the sandbox and tests sign with it). */
char *tz_sig_sign_tv1(apr_pool_t *p, const void *secret, size_t secretlen,
                      const char *body, size_t bodylen, long long t);

/* Flutterwave's verif-hash: constant-time equality with the configured hash. */
tz_sig_status_e tz_sig_verify_hash(const char *header, const void *secret, size_t secretlen);

const char *tz_sig_status_str(tz_sig_status_e s);

#endif
