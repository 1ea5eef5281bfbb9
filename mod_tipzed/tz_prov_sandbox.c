/* The sandbox provider (TipzedSandbox On): a checkout page served by the
 * module itself (mod_tipzed_sandbox.c), whose Approve / Decline buttons
 * post correctly signed events of the generic protocol, so the whole flow
 * runs on one machine with no network, like a provider's test mode.  Its
 * webhook secret is derived from the JWT key: nothing to configure. */
#include <string.h>
#include "tz_provider.h"
#include "tz_crypto.h"
#include "apr_strings.h"

const char *tz_sandbox_checkout_link(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                                     const tz_checkout_req_t *req)
{
    return apr_pstrcat(p, req->api_url ? req->api_url : "", "/sandbox/checkout/",
                       tz_url_escape(p, req->payment_id), NULL);
}

const char *tz_sandbox_secret(apr_pool_t *p, const void *jwt_key, size_t jwt_keylen,
                              size_t *len)
{
    static const char label[] = "tipzed-sandbox-webhook";
    unsigned char mac[TZ_SHA256_LEN];
    if (tz_hmac_sha256(jwt_key, jwt_keylen, label, sizeof label - 1, mac) != 0)
        return NULL;
    *len = 2 * TZ_SHA256_LEN;
    return tz_hex_encode(p, mac, TZ_SHA256_LEN);
}

const tz_provider_t tz_provider_sandbox = {
    .name = "sandbox",
    .signature_header = "X-Tipzed-Signature",
    .generic = 1,
    .checkout_link = tz_sandbox_checkout_link,
    .verify_signature = tz_generic_verify_signature,
    .parse_event = tz_generic_parse_event,
    .refund_local = 1, /* no money moved: the ledger alone is the truth */
};
