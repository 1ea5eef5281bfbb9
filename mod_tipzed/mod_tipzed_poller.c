/* The watchdog's provider work: pending payments whose webhook has not
 * come are asked about at their provider (status polling), and refunds
 * whose answer was lost or is still pending are asked again where the
 * provider's refund call is safe to repeat.  Claims are made in SQL
 * (tz_api_poll_due, tz_api_refunds_due), so however many runners there
 * are, a payment or a refund is asked about by one at a time.  Bill
 * payments a biller left undecided are asked about at its /status the same
 * way (tz_api_bills_due). */
#include "mod_tipzed_watchdog.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_events.h"
#include "mod_tipzed_providers.h"
#include "mod_tipzed_refunds.h"
#include "mod_tipzed_bills.h"
#include "tz_biller.h"

/* Payments and refunds handled per tick: a tick asks each at most once. */
#define TZ_POLL_BATCH "20"

/* The provider's answer about one pending payment, applied when final. */
static void tz_poll_one(apr_pool_t *p, server_rec *s, const tz_cfg_t *c, json_t *item)
{
    const char *id = tz_json_str(item, "id"), *args[1] = {id};
    const tz_provider_t *pv = tz_provider_enabled(c, tz_json_str(item, "provider"));
    tz_status_req_t rq = {id, tz_json_str(item, "provider_ref"),
                          tz_json_str(item, "provider_transaction_id"), apr_time_sec(apr_time_now())};
    tz_http_resp_t resp;
    tz_event_t v;
    json_t *res;
    const char *done;
    if (!pv || !pv->status ||
        tz_provider_op(p, s, c, pv, tz_build_status, &rq, &resp) != 0 || resp.status < 200 ||
        resp.status > 299 || pv->status_answer(p, resp.body, resp.bodylen, &v) != TZ_PARSE_OK)
        return; /* no verdict: asked again later */
    if (v.kind == TZ_EV_PENDING) {
        tz_db_server_value(p, s, TZ_Q_POLL_ANSWERED, args, &done);
        return;
    }
    if ((v.kind != TZ_EV_SUCCESS && v.kind != TZ_EV_FAILED) ||
        (v.payment_id && strcmp(v.payment_id, id) != 0)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APLOGNO(10608)
                     "tipzed: %s's status answer for payment %s is not about it; ignored",
                     pv->name, id);
        return;
    }
    v.payment_id = id;
    v.event_id = apr_pstrcat(p, "poll:", id, v.kind == TZ_EV_SUCCESS ? ":success" : ":failed",
                             NULL);
    tz_event_record(p, s, NULL, pv->name, &v, &res);
}

void tz_poll_payments(apr_pool_t *p, server_rec *s, const tz_cfg_t *c)
{
    const char *list = tz_provider_list(p, c, 'S'), *args[3];
    json_t *due;
    size_t i;
    if (c->status_poll <= 0 || strcmp(list, "{}") == 0)
        return;
    args[0] = list;
    args[1] = apr_psprintf(p, "%" APR_INT64_T_FMT, c->status_poll);
    args[2] = TZ_POLL_BATCH;
    if (tz_db_server_json(p, s, TZ_Q_POLL_DUE, args, &due) != OK || !json_is_array(due))
        return;
    for (i = 0; i < json_array_size(due); i++)
        tz_poll_one(p, s, c, json_array_get(due, i));
}

/* One refund asked again, and the provider's word recorded. */
static void tz_retry_one(apr_pool_t *p, server_rec *s, const tz_cfg_t *c, json_t *item)
{
    const tz_provider_t *pv = tz_provider_enabled(c, tz_json_str(item, "provider"));
    tz_refund_req_t rq = {tz_json_str(item, "refund_id"), tz_json_str(item, "payment_id"),
                          tz_json_str(item, "provider_transaction_id"),
                          tz_json_int(item, "amount", 0), tz_json_str(item, "currency"),
                          tz_json_str(item, "reason"), apr_time_sec(apr_time_now())};
    tz_refund_word_t w = {"unknown", NULL, NULL};
    const char *args[7];
    json_t *res;
    if (!pv || !pv->refund)
        return;
    tz_refund_ask(p, s, c, pv, &rq, &w);
    args[0] = rq.refund_id, args[1] = w.status, args[2] = w.provider_refund_id;
    args[3] = w.reason, args[4] = NULL, args[5] = NULL, args[6] = NULL;
    tz_db_server_json(p, s, TZ_Q_REFUND_ANSWER, args, &res);
}

void tz_retry_refunds(apr_pool_t *p, server_rec *s, const tz_cfg_t *c)
{
    const char *list = tz_provider_list(p, c, 'r'), *args[2];
    json_t *due;
    size_t i;
    if (strcmp(list, "{}") == 0)
        return;
    args[0] = list;
    args[1] = TZ_POLL_BATCH;
    if (tz_db_server_json(p, s, TZ_Q_REFUNDS_DUE, args, &due) != OK || !json_is_array(due))
        return;
    for (i = 0; i < json_array_size(due); i++)
        tz_retry_one(p, s, c, json_array_get(due, i));
}

/* One bill payment the biller left undecided: its /status asked, and a
 * definite answer applied (once: tz_api_bill_answer acts on a pending
 * payment only).  No answer, a pending or an unreadable one: asked again
 * later, as tz_api_bills_due scheduled. */
static void tz_check_bill(apr_pool_t *p, server_rec *s, const tz_cfg_t *c, json_t *item)
{
    const char *id = tz_json_str(item, "id"), *args[5];
    tz_http_resp_t resp;
    tz_bill_answer_t a;
    json_t *res;
    if (tz_biller_call(p, s, c, tz_json_str(item, "base_url"), "status",
                       tz_biller_status_body(p, id), &resp) != 0)
        return;
    tz_biller_answer(p, resp.status, resp.body, resp.bodylen, &a);
    if (a.verdict != TZ_BILL_SUCCEEDED && a.verdict != TZ_BILL_FAILED)
        return;
    args[0] = id, args[1] = a.verdict == TZ_BILL_SUCCEEDED ? "succeeded" : "failed";
    args[2] = a.reference, args[3] = a.reason, args[4] = NULL;
    if (tz_db_server_json(p, s, TZ_Q_BILL_ANSWER, args, &res) == OK)
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APLOGNO(10620)
                     "tipzed: bill payment %s: the biller's status is %s", id, args[1]);
}

void tz_check_bills(apr_pool_t *p, server_rec *s, const tz_cfg_t *c)
{
    const char *args[2];
    json_t *due;
    size_t i;
    if (!c->biller_secret)
        return;
    args[0] = apr_psprintf(p, "%" APR_INT64_T_FMT, tz_bill_check_base(c));
    args[1] = TZ_POLL_BATCH;
    if (tz_db_server_json(p, s, TZ_Q_BILLS_DUE, args, &due) != OK || !json_is_array(due))
        return;
    for (i = 0; i < json_array_size(due); i++)
        tz_check_bill(p, s, c, json_array_get(due, i));
}
