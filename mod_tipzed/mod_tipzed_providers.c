/* The provider table as the module drives it: which providers are on,
 * outbound calls with the configured timeouts and the provider's token,
 * and checkouts. */
#include "mod_tipzed_providers.h"

const tz_provider_t *tz_provider_enabled(const tz_cfg_t *c, const char *name)
{
    int i = tz_provider_id(name);
    return i >= 0 && c->providers[i].enabled ? tz_providers[i] : NULL;
}

const tz_prov_cfg_t *tz_provider_cfg(const tz_cfg_t *c, const tz_provider_t *pv)
{
    return &c->providers[tz_provider_id(pv->name)];
}

int tz_provider_call(apr_pool_t *p, server_rec *s, const tz_cfg_t *c, const tz_out_req_t *req,
                     tz_http_resp_t *resp)
{
    tz_http_opts_t opts = {3000, (long)c->provider_timeout * 1000};
    int rc = tz_http_perform(p, req, &opts, resp);
    /* the URL only: query strings and bodies may carry what logs must not */
    if (rc != 0)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APLOGNO(10570)
                     "tipzed: provider call %s %s failed: %s", req->method,
                     req->url ? req->url : "(no URL)", resp->error);
    else if (resp->status >= 300)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APLOGNO(10571)
                     "tipzed: provider call %s %s answered %d", req->method, req->url,
                     resp->status);
    return rc;
}

int tz_provider_op(apr_pool_t *p, server_rec *s, const tz_cfg_t *c, const tz_provider_t *pv,
                   tz_build_fn build, const void *arg, tz_http_resp_t *resp)
{
    tz_prov_cfg_t pc;
    tz_out_req_t req;
    const char *refused = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (tz_oauth_cfg(p, s, c, pv, refused, &pc) != 0)
            return -1;
        build(p, pv, &pc, arg, &req);
        if (tz_provider_call(p, s, c, &req, resp) != 0)
            return -1;
        if (resp->status != HTTP_UNAUTHORIZED || !pv->token)
            break;
        refused = pc.api_secret; /* fetched anew, and the call made once more */
    }
    return 0;
}

void tz_build_checkout(apr_pool_t *p, const tz_provider_t *pv, const tz_prov_cfg_t *cfg,
                       const void *arg, tz_out_req_t *out)
{
    pv->checkout(p, cfg, arg, out);
}

void tz_build_verify(apr_pool_t *p, const tz_provider_t *pv, const tz_prov_cfg_t *cfg,
                     const void *arg, tz_out_req_t *out)
{
    pv->verify(p, cfg, arg, out);
}

void tz_build_refund(apr_pool_t *p, const tz_provider_t *pv, const tz_prov_cfg_t *cfg,
                     const void *arg, tz_out_req_t *out)
{
    pv->refund(p, cfg, arg, out);
}

void tz_build_status(apr_pool_t *p, const tz_provider_t *pv, const tz_prov_cfg_t *cfg,
                     const void *arg, tz_out_req_t *out)
{
    pv->status(p, cfg, arg, out);
}

const char *tz_provider_checkout(apr_pool_t *p, server_rec *s, const tz_cfg_t *c,
                                 const tz_provider_t *pv, const tz_checkout_req_t *cr,
                                 const char **ref)
{
    tz_http_resp_t resp;
    *ref = NULL;
    if (pv->checkout_link)
        return pv->checkout_link(p, tz_provider_cfg(c, pv), cr);
    if (!pv->checkout || !pv->checkout_answer)
        return NULL;
    if (tz_provider_op(p, s, c, pv, tz_build_checkout, cr, &resp) != 0 || resp.status < 200 ||
        resp.status > 299)
        return NULL;
    return pv->checkout_answer(p, resp.body, resp.bodylen, ref);
}

tz_checkout_req_t tz_checkout_urls(apr_pool_t *p, const tz_cfg_t *c, const tz_provider_t *pv,
                                   const char *api, const char *payment_id)
{
    const char *ret = c->return_url;
    tz_checkout_req_t cr = {payment_id, 0, NULL, NULL, NULL, NULL, api,
        pv->generic ? apr_pstrcat(p, api, "/payments/webhook", NULL)
                    : apr_pstrcat(p, api, "/webhooks/", pv->name, NULL),
        ret ? apr_pstrcat(p, ret, strchr(ret, '?') ? "&" : "?", "payment_id=", payment_id, NULL)
            : apr_pstrcat(p, api, "/payments/", payment_id, "/return", NULL)};
    return cr;
}

const tz_provider_t *tz_provider_choose(const tz_cfg_t *c, const char *wanted)
{
    if (wanted || c->default_provider)
        return tz_provider_enabled(c, wanted ? wanted : c->default_provider);
    for (int i = 0; i < TZ_PROV__COUNT; i++)
        if (c->providers[i].enabled)
            return tz_providers[i];
    return NULL;
}

static int tz_provider_has(const tz_provider_t *pv, char op)
{
    switch (op) {
    case 'S': return pv->status != NULL;
    case 'r': return pv->refund && pv->refund_retry_safe;
    case 'L': return pv->refund_local;
    case 'A': return pv->refund || pv->refund_local;
    }
    return 0;
}

const char *tz_provider_list(apr_pool_t *p, const tz_cfg_t *c, char op)
{
    const char *list = NULL;
    for (int i = 0; i < TZ_PROV__COUNT; i++)
        if (c->providers[i].enabled && tz_provider_has(tz_providers[i], op))
            list = list ? apr_pstrcat(p, list, ",", tz_providers[i]->name, NULL)
                        : tz_providers[i]->name;
    return apr_pstrcat(p, "{", list ? list : "", "}", NULL);
}
