/* The provider table (tz_provider.h) as the request path drives it:
 * which providers are on, outbound calls with the configured timeouts,
 * checkouts, and applying a provider's event to its payment. */
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
int tz_provider_call(request_rec *r, const tz_cfg_t *c, const tz_out_req_t *req,
                     tz_http_resp_t *resp);
/* The payer's checkout link for a payment through pv: built locally for
 * redirect gateways, else created by the provider's API.  NULL when the
 * provider failed, timed out or answered something unusable. */
const char *tz_provider_checkout(tz_req_t *q, const tz_provider_t *pv,
                                 const tz_checkout_req_t *cr);
/* Applies a verified provider event to its payment and sends the answer. */
int tz_apply_event(tz_req_t *q, const char *provider, const tz_event_t *ev);

#endif
