/* The provider table as the request path drives it: which providers are
 * on, outbound calls with the configured timeouts, checkouts, and applying
 * a provider's event to its payment. */
#include "mod_tipzed_providers.h"
#include "mod_tipzed_cache.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"

const tz_provider_t *tz_provider_enabled(const tz_cfg_t *c, const char *name)
{
    int i = tz_provider_id(name);
    return i >= 0 && c->providers[i].enabled ? tz_providers[i] : NULL;
}

const tz_prov_cfg_t *tz_provider_cfg(const tz_cfg_t *c, const tz_provider_t *pv)
{
    return &c->providers[tz_provider_id(pv->name)];
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

const char *tz_provider_checkout(tz_req_t *q, const tz_provider_t *pv, const tz_checkout_req_t *cr)
{
    const tz_prov_cfg_t *pc = tz_provider_cfg(q->cfg, pv);
    tz_out_req_t req;
    tz_http_resp_t resp;
    const char *ref = NULL;
    if (pv->checkout_link)
        return pv->checkout_link(q->r->pool, pc, cr);
    if (!pv->checkout || !pv->checkout_answer)
        return NULL;
    pv->checkout(q->r->pool, pc, cr, &req);
    if (tz_provider_call(q->r, q->cfg, &req, &resp) != 0 || resp.status < 200 || resp.status > 299)
        return NULL;
    return pv->checkout_answer(q->r->pool, resp.body, resp.bodylen, &ref);
}

static const char *const tz_event_kinds[] = {"success", "failed", "refund", "ignored",
                                             "unverified", "dispute", "pending"};

int tz_apply_event(tz_req_t *q, const char *provider, const tz_event_t *ev)
{
    request_rec *r = q->r;
    json_t *res;
    const char *outcome, *args[7] = {
        provider, ev->event_id, ev->payment_id, tz_event_kinds[ev->kind], ev->provider_tx_id,
        ev->has_amount ? apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)ev->amount) : NULL,
        ev->currency};
    if (ev->kind == TZ_EV_IGNORED)
        return tz_send_json_text(r, HTTP_OK, "{\"status\":\"ignored\"}");
    if (tz_db_json(r, TZ_Q_APPLY_EVENT, args, &res) != OK || !res)
        return tz_send_problem(r, HTTP_SERVICE_UNAVAILABLE, "database_unavailable",
                               "not recorded; deliver again");
    outcome = tz_json_str(res, "outcome");
    if (strcmp(outcome, "not_found") == 0)
        return tz_send_problem(r, HTTP_NOT_FOUND, "payment_not_found", "no such payment");
    if (strcmp(outcome, "credited") == 0 || strcmp(outcome, "refunded") == 0)
        tz_cache_forget(q, tz_json_str(res, "creator_id")); /* earnings changed */
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APLOGNO(10550)
                  "tipzed: %s event %s for payment %s: %s", provider, ev->event_id,
                  ev->payment_id, outcome);
    return tz_send_json_text(r, HTTP_OK, "{\"status\":\"success\"}");
}
