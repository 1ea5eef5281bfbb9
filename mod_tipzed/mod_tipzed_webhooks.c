/* Provider callbacks, one handler for every provider of the table:
 * POST /webhooks/{provider}, and /payments/webhook for the providers that
 * speak the generic protocol (the gateway's address since the first
 * release).  The signature is checked on the raw body before it is parsed;
 * a provider with a verify operation is asked about the event before it is
 * applied; every delivery is recorded under its event id, so duplicates,
 * however many and however concurrent, change nothing. */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_events.h"
#include "mod_tipzed_metrics.h"
#include "mod_tipzed_providers.h"

static tz_sig_status_e check_signature(tz_req_t *q, const tz_provider_t *pv)
{
    tz_webhook_t in = {pv->signature_header ? apr_table_get(q->r->headers_in, pv->signature_header)
                                            : NULL, q->raw, q->rawlen,
                       apr_time_sec(apr_time_now())};
    return pv->verify_signature(tz_provider_cfg(q->cfg, pv), &in);
}

/* Folds the provider's answer about ev into ev.  Only a 2xx answer that
 * parses is a verdict; a transport error, a timeout, 429, 5xx or any other
 * status means the provider cannot be trusted yet: HTTP_BAD_GATEWAY, and
 * nothing is recorded, so the provider delivers again.  An answer that the
 * payment is not final yet makes the event TZ_EV_PENDING: nothing to
 * record, the status polling asks again. */
static int confirm(tz_req_t *q, const tz_provider_t *pv, tz_event_t *ev)
{
    tz_http_resp_t resp;
    tz_event_t v;
    if (tz_provider_op(q->r->pool, q->r->server, q->cfg, pv, tz_build_verify, ev, &resp) != 0 ||
        resp.status < 200 || resp.status > 299 ||
        pv->verify_answer(q->r->pool, resp.body, resp.bodylen, &v) != TZ_PARSE_OK)
        return HTTP_BAD_GATEWAY;
    if (v.kind == TZ_EV_PENDING && (!v.payment_id || strcmp(v.payment_id, ev->payment_id) == 0)) {
        ev->kind = TZ_EV_PENDING;
        return OK;
    }
    if (!v.payment_id || strcmp(v.payment_id, ev->payment_id) != 0) {
        ev->kind = TZ_EV_UNVERIFIED; /* the provider's charge belongs to another payment */
        ev->has_amount = 0;
    } else if (v.kind == TZ_EV_SUCCESS || v.kind == TZ_EV_FAILED) {
        ev->kind = v.kind; /* the provider's word, whatever the webhook said */
        if (v.event_id)
            ev->event_id = v.event_id; /* the fact confirmed, not the one announced */
        if (v.provider_tx_id)
            ev->provider_tx_id = v.provider_tx_id;
        ev->has_amount = v.has_amount;
        ev->amount = v.amount;
        ev->currency = v.currency;
    } else if (ev->kind == TZ_EV_SUCCESS) {
        ev->kind = TZ_EV_UNVERIFIED; /* a success the provider does not confirm */
        ev->has_amount = 0;
    } else {
        return HTTP_BAD_GATEWAY; /* a failure the provider has not settled yet */
    }
    return OK;
}

/* An unsigned callback names a payment of ours through this provider that
 * is not final yet, or it is not worth a call to the provider: anyone can
 * send one.  OK to go on; DONE with the answer sent. */
static int unsigned_worth_asking(tz_req_t *q, const tz_provider_t *pv, const tz_event_t *ev)
{
    const char *args[1] = {ev->payment_id}, *st;
    json_t *p;
    if (tz_db_json(q->r, TZ_Q_PAYMENT_PUBLIC, args, &p) != OK)
        return tz_send_db_unavailable(q->r), DONE;
    if (!p || strcmp(tz_json_str(p, "provider"), pv->name) != 0)
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "payment_not_found", "no such payment"), DONE;
    st = tz_json_str(p, "status");
    if (strcmp(st, "pending") != 0 && strcmp(st, "expired") != 0 && strcmp(st, "failed") != 0)
        return tz_send_json_text(q->r, HTTP_OK, "{\"status\":\"success\"}"), DONE;
    return OK;
}

/* The signed delivery's event: parsed, confirmed, applied. */
static int handle_event(tz_req_t *q, const tz_provider_t *pv)
{
    tz_event_t ev;
    switch (pv->parse_event(q->r->pool, q->raw, q->rawlen, &ev)) {
    case TZ_PARSE_MALFORMED:
        return tz_send_problem(q->r, HTTP_BAD_REQUEST, "invalid_json",
                               "the body is not a JSON object");
    case TZ_PARSE_INVALID:
        return tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "invalid_event",
                                     ev.bad_field, "is missing or not valid");
    case TZ_PARSE_OK:
        break;
    }
    if (!pv->signature_header && ev.kind != TZ_EV_IGNORED && unsigned_worth_asking(q, pv, &ev) != OK)
        return OK;
    if (pv->verify && (ev.kind == TZ_EV_SUCCESS || ev.kind == TZ_EV_FAILED ||
                       (ev.kind == TZ_EV_PENDING && !pv->signature_header)) &&
        confirm(q, pv, &ev) != OK)
        return tz_send_problem(q->r, HTTP_BAD_GATEWAY, "provider_unavailable",
                               "the event could not be verified with the provider; deliver again");
    return tz_apply_event(q, pv->name, &ev);
}

int tz_h_webhook(tz_req_t *q)
{
    const tz_provider_t *pv = tz_provider_enabled(q->cfg, q->id);
    tz_sig_status_e st;
    if (!pv)
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found",
                               "no such provider is enabled on this server");
    if ((st = check_signature(q, pv)) != TZ_SIG_OK) {
        tz_metrics_webhook_rejected(pv->name);
        return tz_send_problem(q->r, HTTP_UNAUTHORIZED, "invalid_signature", tz_sig_status_str(st));
    }
    return handle_event(q, pv);
}

/* The one generic provider enabled, which a refused delivery at the
 * generic address was meant for; NULL when several could have been. */
static const char *sole_generic(const tz_cfg_t *c)
{
    const char *name = NULL;
    for (int i = 0; i < TZ_PROV__COUNT; i++)
        if (tz_providers[i]->generic && c->providers[i].enabled) {
            if (name)
                return NULL;
            name = tz_providers[i]->name;
        }
    return name;
}

/* The generic protocol's address: whichever enabled generic provider's
 * secret signed the body.  A header that is missing, malformed or stale
 * fails for every secret alike, so only a mismatch tries the next one. */
int tz_h_webhook_generic(tz_req_t *q)
{
    tz_sig_status_e st = TZ_SIG_MISSING;
    for (int i = 0; i < TZ_PROV__COUNT && (st == TZ_SIG_MISSING || st == TZ_SIG_MISMATCH); i++) {
        const tz_provider_t *pv = tz_providers[i];
        if (!pv->generic || !q->cfg->providers[i].enabled)
            continue;
        if ((st = check_signature(q, pv)) == TZ_SIG_OK)
            return handle_event(q, pv);
    }
    tz_metrics_webhook_rejected(sole_generic(q->cfg));
    return tz_send_problem(q->r, HTTP_UNAUTHORIZED, "invalid_signature", tz_sig_status_str(st));
}
