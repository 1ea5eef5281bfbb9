/* POST /payments/{id}/refund {amount?, reason} (admin, idempotency key):
 * the refund is recorded as pending (the payment refund_pending), the
 * provider is asked, and its word recorded -- succeeded: the ledger moves
 * (200); pending or no usable answer: the refund waits for the provider's
 * webhook or the watchdog's next ask (202); refused: nothing moved (409,
 * and the key is free for another try).  Providers that refund in the
 * ledger alone (the sandbox) are confirmed in the first transaction. */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_cache.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_idempotency.h"
#include "mod_tipzed_providers.h"
#include "mod_tipzed_refunds.h"
#include "tz_schema.h"

/* Seconds until a refund whose answer is pending or lost is asked again. */
#define TZ_REFUND_RETRY 30

void tz_refund_ask(apr_pool_t *p, server_rec *s, const tz_cfg_t *c, const tz_provider_t *pv,
                   const tz_refund_req_t *rq, tz_refund_word_t *w)
{
    tz_http_resp_t resp;
    tz_event_t v;
    tz_parse_status_e st = TZ_PARSE_MALFORMED;
    int answered = tz_provider_op(p, s, c, pv, tz_build_refund, rq, &resp) == 0;
    memset(&v, 0, sizeof v);
    if (answered && resp.status >= 200 && resp.status <= 299)
        st = pv->refund_answer(p, resp.body, resp.bodylen, &v);
    w->status = tz_refund_verdict(answered, answered ? resp.status : 0, st, &v);
    w->provider_refund_id = v.provider_refund_id;
    w->reason = v.reason;
    if (strcmp(w->status, "failed") == 0 && !w->reason && answered)
        w->reason = tz_provider_message(p, resp.body, resp.bodylen);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APLOGNO(10607)
                 "tipzed: %s refund %s of payment %s: %s%s%s", pv->name, rq->refund_id,
                 rq->payment_id, w->status, w->reason ? ": " : "", w->reason ? w->reason : "");
}

/* 404, 409 or 422 naming what stands in the way of the refund. */
static int refund_refused(tz_req_t *q, json_t *res)
{
    request_rec *r = q->r;
    const char *err = tz_json_str(res, "error"), *st = tz_json_str(res, "status");
    if (strcmp(err, "not_found") == 0)
        return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "no such payment");
    if (strcmp(err, "amount_too_large") == 0)
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed", "amount",
                                     apr_psprintf(r->pool, "must be between 1 and what is left of "
                                                  "the payment (%" APR_INT64_T_FMT ")",
                                                  (apr_int64_t)tz_json_int(res, "left", 0)));
    if (strcmp(err, "insufficient_funds") == 0)
        return tz_send_problem(r, HTTP_CONFLICT, "insufficient_funds",
                               "the creator's wallet cannot cover the refund");
    if (strcmp(err, "refund_unsupported") == 0)
        return tz_send_problem(r, HTTP_CONFLICT, "refund_unsupported",
                               apr_psprintf(r->pool, "payments through %s cannot be refunded "
                                            "through the provider on this server", st));
    if (strcmp(err, "refund_pending") == 0)
        return tz_send_problem(r, HTTP_CONFLICT, "refund_pending",
                               "a refund of this payment is waiting for the provider");
    if (strcmp(err, "disputed") == 0)
        return tz_send_problem(r, HTTP_CONFLICT, "disputed",
                               "the payment is disputed; the provider decides the dispute first");
    return tz_send_problem(r, HTTP_CONFLICT, "not_refundable",
                           apr_psprintf(r->pool, "the payment is %s; only succeeded and partially "
                                        "refunded payments can be refunded", st));
}

/* Sends what tz_api_refund_answer() answered ({code, answer, creator_id,
 * creator_ids}). */
static int refund_answered(tz_req_t *q, tz_idem_key_t *key, json_t *res, const char *reason)
{
    int code = (int)tz_json_int(res, "code", 0);
    if (code == HTTP_CONFLICT) {
        tz_idem_release(q, key);
        return tz_send_problem(q->r, HTTP_CONFLICT, "refund_refused",
                               apr_pstrcat(q->r->pool, "the provider refused the refund",
                                           reason ? ": " : "", reason ? reason : "", NULL));
    }
    if (code == HTTP_OK)
        tz_cache_forget_payment(q, res); /* earnings changed */
    return tz_send_json(q->r, code, json_object_get(res, "answer"));
}

/* Asks the payment's provider and records its word. */
static int refund_through_provider(tz_req_t *q, tz_idem_key_t *key, const char *refund_id,
                                   json_t *begun)
{
    request_rec *r = q->r;
    json_t *rf = json_object_get(begun, "refund"), *res;
    const tz_provider_t *pv = tz_provider_enabled(q->cfg, tz_json_str(begun, "provider"));
    tz_refund_req_t rq = {refund_id, q->id, tz_json_str(begun, "provider_transaction_id"),
                          tz_json_int(rf, "amount", 0), tz_json_str(begun, "currency"),
                          tz_json_str(rf, "reason"), apr_time_sec(apr_time_now())};
    tz_refund_word_t w = {"unknown", NULL, NULL};
    const char *args[7];
    if (pv && pv->refund)
        tz_refund_ask(r->pool, r->server, q->cfg, pv, &rq, &w);
    args[0] = refund_id, args[1] = w.status, args[2] = w.provider_refund_id, args[3] = w.reason;
    args[4] = q->user.id, args[5] = key->key;
    args[6] = pv && pv->refund_retry_safe ? apr_itoa(r->pool, TZ_REFUND_RETRY) : NULL;
    if (tz_db_json(r, TZ_Q_REFUND_ANSWER, args, &res) != OK || !res) {
        /* the refund stays pending: its webhook or an admin settles it */
        tz_idem_release(q, key);
        return tz_send_db_unavailable(r);
    }
    return refund_answered(q, key, res, w.reason);
}

int tz_h_payment_refund(tz_req_t *q)
{
    request_rec *r = q->r;
    tz_idem_key_t key;
    json_t *res, *amount;
    const char *refund_id = tz_uuid4(r->pool), *args[9];
    if (tz_validate_or_422(q, &tz_schema_refund))
        return OK;
    if (tz_idem_begin(q, apr_pstrcat(r->pool, "/payments/", q->id, "/refund", NULL), &key,
                      NULL) != OK)
        return OK;
    amount = json_object_get(q->body, "amount");
    args[0] = q->id, args[1] = refund_id, args[2] = q->user.id;
    args[3] = amount ? apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                    (apr_int64_t)json_integer_value(amount)) : NULL;
    args[4] = tz_json_str(q->body, "reason"), args[5] = q->request_id, args[6] = key.key;
    args[7] = tz_provider_list(r->pool, q->cfg, 'L');
    args[8] = tz_provider_list(r->pool, q->cfg, 'A');
    if (tz_db_json(r, TZ_Q_REFUND_BEGIN, args, &res) != OK || !res) {
        tz_idem_release(q, &key);
        return tz_send_db_unavailable(r);
    }
    if (tz_json_str(res, "error")) {
        tz_idem_release(q, &key);
        return refund_refused(q, res);
    }
    if (json_object_get(res, "code"))
        return refund_answered(q, &key, res, NULL); /* refunded in the ledger alone */
    return refund_through_provider(q, &key, refund_id, res);
}
