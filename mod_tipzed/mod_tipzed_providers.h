/* The provider table (tz_provider.h) as the module drives it: which
 * providers are on, outbound calls with the configured timeouts and the
 * provider's OAuth token, and checkouts.  Usable from requests and from the
 * watchdog alike (pool + server, no request_rec). */
#ifndef MOD_TIPZED_PROVIDERS_H
#define MOD_TIPZED_PROVIDERS_H
#include "mod_tipzed.h"
#include "tz_http_client.h"

/* The enabled provider called name, or NULL. */
const tz_provider_t *tz_provider_enabled(const tz_cfg_t *c, const char *name);
/* The configuration of provider row pv. */
const tz_prov_cfg_t *tz_provider_cfg(const tz_cfg_t *c, const tz_provider_t *pv);
/* Performs an adapter's request with the configured timeouts; 0, or -1
 * after logging a transport failure (resp->error says which). */
int tz_provider_call(apr_pool_t *p, server_rec *s, const tz_cfg_t *c, const tz_out_req_t *req,
                     tz_http_resp_t *resp);

/* Builds one outbound request of an adapter for the per-call configuration
 * cfg (which carries the OAuth token of providers that have one). */
typedef void (*tz_build_fn)(apr_pool_t *p, const tz_provider_t *pv, const tz_prov_cfg_t *cfg,
                            const void *arg, tz_out_req_t *out);
/* One operation of pv: the token first when pv has one (cached per child
 * until it expires; a 401 answer refreshes it and the call is made once
 * more), then the request.  0 with resp filled, or -1 when no answer came
 * (transport failure, or no token). */
int tz_provider_op(apr_pool_t *p, server_rec *s, const tz_cfg_t *c, const tz_provider_t *pv,
                   tz_build_fn build, const void *arg, tz_http_resp_t *resp);

/* The request builders of the adapters' operations, as tz_build_fn. */
void tz_build_checkout(apr_pool_t *p, const tz_provider_t *pv, const tz_prov_cfg_t *cfg,
                       const void *arg, tz_out_req_t *out);
void tz_build_verify(apr_pool_t *p, const tz_provider_t *pv, const tz_prov_cfg_t *cfg,
                     const void *arg, tz_out_req_t *out);
void tz_build_refund(apr_pool_t *p, const tz_provider_t *pv, const tz_prov_cfg_t *cfg,
                     const void *arg, tz_out_req_t *out);
void tz_build_status(apr_pool_t *p, const tz_provider_t *pv, const tz_prov_cfg_t *cfg,
                     const void *arg, tz_out_req_t *out);

/* The payer's checkout link for a payment through pv: built locally for
 * redirect gateways, else created by the provider's API ("" when the
 * checkout has no link: the payer confirms on their phone; *ref names the
 * provider's checkout, or stays NULL).  NULL when the provider failed,
 * timed out or answered something unusable. */
const char *tz_provider_checkout(apr_pool_t *p, server_rec *s, const tz_cfg_t *c,
                                 const tz_provider_t *pv, const tz_checkout_req_t *cr,
                                 const char **ref);
/* A checkout request of payment_id through pv with its URLs filled in from
 * the API's absolute base URL api: the webhook endpoint, and where the
 * payer comes back (TipzedCheckoutReturnURL, else the payment's /return
 * page); the caller sets the amount, payer and description. */
tz_checkout_req_t tz_checkout_urls(apr_pool_t *p, const tz_cfg_t *c, const tz_provider_t *pv,
                                   const char *api, const char *payment_id);
/* The provider a payment goes through: wanted if enabled (NULL when it is
 * not), else TipzedDefaultProvider, else the first enabled in table order
 * (the sandbox last). */
const tz_provider_t *tz_provider_choose(const tz_cfg_t *c, const char *wanted);

/* The OAuth token cache (mod_tipzed_oauth.c): created in each child. */
void tz_oauth_child_init(apr_pool_t *p, server_rec *s);
/* *out = pv's configuration, with api_secret = a valid access token for
 * providers that have a token operation (fetched at most once at a time
 * per child and provider; refused: a token the provider refused, replaced
 * unless another thread has already done so).  0, or -1 when no token
 * could be had. */
int tz_oauth_cfg(apr_pool_t *p, server_rec *s, const tz_cfg_t *c, const tz_provider_t *pv,
                 const char *refused, tz_prov_cfg_t *out);

/* A comma-free SQL array literal ("{a,b}") of the enabled providers that
 * have operation op: 'S' status, 'r' refund calls safe to
 * repeat, 'L' local refunds, 'A' any refund (call or local). */
const char *tz_provider_list(apr_pool_t *p, const tz_cfg_t *c, char op);

#endif
