/* Provider events applied to payments (see mod_tipzed_events.h): the
 * outcome of a payment (tz_api_apply_event), news of a refund
 * (tz_api_apply_refund_event) or of a dispute (tz_api_apply_dispute_event),
 * each a single transaction recorded under the provider's event id. */
#include "mod_tipzed_events.h"
#include "mod_tipzed_cache.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_metrics.h"

static const char *const tz_event_kinds[] = {"success", "failed", "refund", "ignored",
                                             "unverified", "dispute", "pending"};

static const char *tz_i64(apr_pool_t *p, int has, int64_t v)
{
    return has ? apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)v) : NULL;
}

/* The statement and its arguments for ev. */
static tz_query_e tz_event_args(apr_pool_t *p, const char *provider, const tz_event_t *ev,
                                const char **a)
{
    const char *amount = tz_i64(p, ev->has_amount, ev->amount);
    a[0] = provider;
    a[1] = ev->event_id;
    a[2] = ev->payment_id;
    if (ev->kind == TZ_EV_REFUND) {
        a[3] = ev->provider_tx_id, a[4] = ev->refund_id, a[5] = ev->provider_refund_id;
        a[6] = ev->refund_status, a[7] = amount;
        a[8] = tz_i64(p, ev->has_refunded_total, ev->refunded_total);
        a[9] = ev->reason;
        return TZ_Q_APPLY_REFUND_EVENT;
    }
    if (ev->kind == TZ_EV_DISPUTE) {
        a[3] = ev->provider_tx_id, a[4] = ev->dispute_id, a[5] = ev->dispute_status;
        a[6] = amount, a[7] = ev->reason;
        return TZ_Q_APPLY_DISPUTE_EVENT;
    }
    a[3] = tz_event_kinds[ev->kind], a[4] = ev->provider_tx_id, a[5] = amount;
    a[6] = ev->currency;
    return TZ_Q_APPLY_EVENT;
}

int tz_event_record(apr_pool_t *p, server_rec *s, request_rec *r, const char *provider,
                    const tz_event_t *ev, json_t **res)
{
    const char *args[10];
    tz_query_e q = tz_event_args(p, provider, ev, args);
    int rc = r ? tz_db_json(r, q, args, res) : tz_db_server_json(p, s, q, args, res);
    const char *outcome = *res ? tz_json_str(*res, "outcome") : NULL;
    if (rc == OK && !outcome)
        rc = HTTP_SERVICE_UNAVAILABLE;
    if (rc == OK)
        tz_metrics_event(provider, outcome);
    if (rc == OK)
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APLOGNO(10550)
                     "tipzed: %s event %s (%s) for payment %s: %s", provider, ev->event_id,
                     tz_event_kinds[ev->kind],
                     ev->payment_id ? ev->payment_id : tz_json_str(*res, "payment_id"), outcome);
    return rc;
}

int tz_apply_event(tz_req_t *q, const char *provider, const tz_event_t *ev)
{
    request_rec *r = q->r;
    json_t *res = NULL;
    const char *outcome;
    if (ev->kind == TZ_EV_IGNORED || ev->kind == TZ_EV_PENDING)
        return tz_send_json_text(r, HTTP_OK, "{\"status\":\"ignored\"}");
    if (tz_event_record(r->pool, r->server, r, provider, ev, &res) != OK)
        return tz_send_problem(r, HTTP_SERVICE_UNAVAILABLE, "database_unavailable",
                               "not recorded; deliver again");
    outcome = tz_json_str(res, "outcome");
    if (strcmp(outcome, "not_found") == 0)
        return tz_send_problem(r, HTTP_NOT_FOUND, "payment_not_found", "no such payment");
    if (strcmp(outcome, "duplicate") != 0 && strcmp(outcome, "noop") != 0)
        tz_cache_forget_payment(q, res); /* earnings may have changed */
    return tz_send_json_text(r, HTTP_OK, "{\"status\":\"success\"}");
}
