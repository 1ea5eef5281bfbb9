/* Provider callbacks.  Signatures are checked on the raw body before it
 * is parsed; every delivery is recorded under the provider's event id, so
 * duplicates, however many and however concurrent, change nothing. */
#include "mod_tipzed.h"
#include "tz_sig.h"

static const char *const tz_event_kinds[] = {"success", "failed", "refunded", "ignored",
                                             "unverified"};

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

/* Which generic secret signed the body: the mobile-money gateway's or the
 * sandbox's.  NULL (and *st set) when none did. */
static const char *generic_signer(tz_req_t *q, tz_sig_status_e *st)
{
    tz_cfg_t *c = q->cfg;
    const char *h = apr_table_get(q->r->headers_in, "X-Tipzed-Signature");
    long long now = apr_time_sec(apr_time_now());
    tz_provider_cfg_t *mm = &c->providers[TZ_PROV_MOBILE_MONEY];
    *st = TZ_SIG_MISSING;
    if (mm->webhook_secret) {
        *st = tz_sig_verify_tv1(h, mm->webhook_secret, mm->webhook_secret_len, q->raw,
                                q->rawlen, now, c->webhook_tolerance);
        if (*st == TZ_SIG_OK)
            return "mobile_money";
    }
    if (c->sandbox && *st != TZ_SIG_STALE) {
        apr_size_t len;
        const char *secret = tz_sandbox_secret(q->r->pool, c, &len);
        *st = tz_sig_verify_tv1(h, secret, len, q->raw, q->rawlen, now, c->webhook_tolerance);
        if (*st == TZ_SIG_OK)
            return "sandbox";
    }
    return NULL;
}

int tz_h_webhook_generic(tz_req_t *q)
{
    tz_sig_status_e st;
    tz_event_t ev;
    const char *provider = generic_signer(q, &st);
    if (!provider)
        return tz_send_problem(q->r, HTTP_UNAUTHORIZED, "invalid_signature", tz_sig_status_str(st));
    if (tz_generic_parse_event(q->r->pool, q->raw, q->rawlen, &ev) != TZ_PARSE_OK)
        return tz_send_problem(q->r, HTTP_BAD_REQUEST, "invalid_event",
                               "expected {payment_id, status: success|failed, timestamp, ...}");
    return tz_apply_event(q, provider, &ev);
}

int tz_h_webhook_stripe(tz_req_t *q)
{
    tz_prov_cfg_t pc = tz_prov_cfg(q->cfg, TZ_PROV_STRIPE);
    tz_event_t ev;
    tz_sig_status_e st;
    if (!q->cfg->providers[TZ_PROV_STRIPE].enabled || !pc.webhook_secret)
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "stripe is not enabled");
    st = tz_stripe_verify_webhook(&pc, apr_table_get(q->r->headers_in, "Stripe-Signature"),
                                  q->raw, q->rawlen, apr_time_sec(apr_time_now()));
    if (st != TZ_SIG_OK)
        return tz_send_problem(q->r, HTTP_UNAUTHORIZED, "invalid_signature", tz_sig_status_str(st));
    if (tz_stripe_parse_event(q->r->pool, q->raw, q->rawlen, &ev) != TZ_PARSE_OK)
        return tz_send_problem(q->r, HTTP_BAD_REQUEST, "invalid_event", "not a Stripe event");
    return tz_apply_event(q, "stripe", &ev);
}

/* Flutterwave: the webhook is only a hint.  The charge is verified with
 * GET /v3/transactions/{id}/verify, and credited only when the verified
 * status, tx_ref, amount and currency all match; a contradiction sends the
 * payment to review. */
static int flw_verify(tz_req_t *q, tz_prov_cfg_t *pc, tz_event_t *ev)
{
    tz_out_req_t req;
    tz_http_resp_t resp;
    tz_event_t v;
    tz_flw_verify_request(q->r->pool, pc, ev->provider_tx_id, &req);
    if (tz_provider_call(q->r, q->cfg, &req, &resp) != 0 || resp.status >= 500)
        return HTTP_BAD_GATEWAY;
    if (resp.status != 200 ||
        tz_flw_parse_verify(q->r->pool, resp.body, resp.bodylen, &v) != TZ_PARSE_OK ||
        v.kind != TZ_EV_SUCCESS || strcmp(v.payment_id, ev->payment_id) != 0) {
        ev->kind = TZ_EV_UNVERIFIED;
        ev->has_amount = 0;
        return OK;
    }
    ev->amount = v.amount;
    ev->currency = v.currency;
    return OK;
}

int tz_h_webhook_flutterwave(tz_req_t *q)
{
    tz_prov_cfg_t pc = tz_prov_cfg(q->cfg, TZ_PROV_FLUTTERWAVE);
    tz_event_t ev;
    tz_sig_status_e st;
    if (!q->cfg->providers[TZ_PROV_FLUTTERWAVE].enabled || !pc.webhook_secret)
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "flutterwave is not enabled");
    st = tz_flw_verify_webhook(&pc, apr_table_get(q->r->headers_in, "verif-hash"));
    if (st != TZ_SIG_OK)
        return tz_send_problem(q->r, HTTP_UNAUTHORIZED, "invalid_signature", tz_sig_status_str(st));
    if (tz_flw_parse_event(q->r->pool, q->raw, q->rawlen, &ev) != TZ_PARSE_OK)
        return tz_send_problem(q->r, HTTP_BAD_REQUEST, "invalid_event", "not a Flutterwave event");
    if (ev.kind == TZ_EV_SUCCESS && flw_verify(q, &pc, &ev) != OK)
        return tz_send_problem(q->r, HTTP_BAD_GATEWAY, "provider_unavailable",
                               "the charge could not be verified; deliver again");
    return tz_apply_event(q, "flutterwave", &ev);
}
