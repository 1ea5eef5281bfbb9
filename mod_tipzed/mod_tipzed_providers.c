/* Outbound provider calls from the request path: checkout creation for
 * API-style providers (Flutterwave, Stripe) with the configured timeouts. */
#include "mod_tipzed.h"

tz_prov_cfg_t tz_prov_cfg(const tz_cfg_t *c, tz_provider_e which)
{
    const tz_provider_cfg_t *pc = &c->providers[which];
    tz_prov_cfg_t out = {pc->base_url, pc->api_secret, pc->webhook_secret,
                         pc->webhook_secret_len, c->webhook_tolerance};
    return out;
}

int tz_provider_call(request_rec *r, const tz_cfg_t *c, const tz_out_req_t *req,
                     tz_http_resp_t *resp)
{
    tz_http_opts_t opts = {3000, (long)c->provider_timeout * 1000};
    int rc = tz_http_perform(r->pool, req, &opts, resp);
    if (rc != 0)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APLOGNO(10570)
                      "tipzed: provider call %s %s failed: %s", req->method, req->url, resp->error);
    else if (resp->status >= 300)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APLOGNO(10571)
                      "tipzed: provider call %s %s answered %d", req->method, req->url, resp->status);
    return rc;
}

/* Creates the provider's checkout for payment id; its URL, or NULL when
 * the provider failed, timed out or answered something unusable. */
const char *tz_provider_checkout(tz_req_t *q, const char *provider, const tz_checkout_req_t *cr)
{
    int stripe = strcmp(provider, "stripe") == 0;
    tz_prov_cfg_t pc = tz_prov_cfg(q->cfg, stripe ? TZ_PROV_STRIPE : TZ_PROV_FLUTTERWAVE);
    tz_out_req_t req;
    tz_http_resp_t resp;
    if (stripe)
        tz_stripe_checkout_request(q->r->pool, &pc, cr, &req);
    else
        tz_flw_checkout_request(q->r->pool, &pc, cr, &req);
    if (tz_provider_call(q->r, q->cfg, &req, &resp) != 0 || resp.status < 200 || resp.status > 299)
        return NULL;
    return stripe ? tz_stripe_checkout_url(q->r->pool, resp.body, resp.bodylen)
                  : tz_flw_checkout_link(q->r->pool, resp.body, resp.bodylen);
}
