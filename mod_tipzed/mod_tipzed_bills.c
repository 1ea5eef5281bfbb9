/* Bill payments: the billers (admin), a customer's check at the biller,
 * paying a bill from the main wallet and reading bill payments.  The
 * biller protocol is tz_biller.c (docs/bills.md); the watchdog asks about
 * payments left pending (tz_check_bills, mod_tipzed_poller.c). */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_bills.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_operator.h"
#include "mod_tipzed_list.h"
#include "mod_tipzed_idempotency.h"
#include "mod_tipzed_providers.h"
#include "tz_biller.h"
#include "tz_parse.h"
#include "tz_problem.h"
#include "tz_schema.h"

/* Seconds before a payment the biller left undecided is first asked about
 * again; doubled at each ask, up to 15 minutes (tz_api_bills_due). */
apr_int64_t tz_bill_check_base(const tz_cfg_t *c)
{
    return c->status_poll > 0 ? c->status_poll : 60;
}

int tz_biller_call(apr_pool_t *p, server_rec *s, const tz_cfg_t *c, const char *base_url,
                   const char *op, const char *body, tz_http_resp_t *resp)
{
    tz_out_req_t req;
    memset(resp, 0, sizeof(*resp));
    if (!c->biller_secret)
        return -1;
    tz_biller_request(p, base_url, op, body, c->biller_secret, c->biller_secret_len,
                      apr_time_sec(apr_time_now()), &req);
    return tz_provider_call(p, s, c, &req, resp);
}

static int unavailable(request_rec *r)
{
    return tz_send_problem(r, HTTP_BAD_GATEWAY, "biller_unavailable",
                           "the biller could not be reached; please retry");
}

int tz_h_biller_create(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[9], *err;
    json_t *res;
    if (tz_validate_or_422(q, &tz_schema_biller))
        return OK;
    if (!tz_biller_url_ok(tz_json_str(q->body, "base_url")))
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed", "base_url",
                                     "must be an absolute http:// or https:// URL");
    if (!tz_cfg_currency_ok(q->cfg, tz_json_str(q->body, "currency")))
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed", "currency",
                                     "is not an accepted currency");
    args[0] = tz_uuid4(r->pool);
    args[1] = tz_json_str(q->body, "name");
    args[2] = tz_json_str(q->body, "category");
    args[3] = tz_json_str(q->body, "base_url");
    args[4] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)tz_json_int(q->body, "fee", 0));
    args[5] = tz_json_str(q->body, "currency");
    args[6] = tz_json_str(q->body, "customer_pattern");
    args[7] = q->user.id;
    args[8] = q->request_id;
    if (tz_db_json(r, TZ_Q_BILLER_CREATE, args, &res) != OK || !res)
        return tz_send_db_unavailable(r);
    if ((err = tz_json_str(res, "error")))
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                     "customer_pattern", "is not a valid regular expression");
    return tz_send_json(r, HTTP_CREATED, res);
}

int tz_h_billers_list(tz_req_t *q)
{
    json_t *res;
    if (tz_db_json(q->r, TZ_Q_BILLERS_LIST, NULL, &res) != OK || !res)
        return tz_send_db_unavailable(q->r);
    return tz_send_json(q->r, HTTP_OK, res);
}

int tz_h_biller_validate(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *customer, *args[2], *name;
    json_t *biller, *out;
    tz_http_resp_t resp;
    if (tz_validate_or_422(q, &tz_schema_bill_customer))
        return OK;
    customer = tz_json_str(q->body, "customer");
    args[0] = q->id;
    args[1] = customer;
    if (tz_db_json(r, TZ_Q_BILLER_GET, args, &biller) != OK)
        return tz_send_db_unavailable(r);
    if (!biller)
        return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "no such biller");
    if (!json_is_true(json_object_get(biller, "customer_ok")))
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed", "customer",
                                     "is not a reference this biller accepts");
    if (tz_biller_call(r->pool, r->server, q->cfg, tz_json_str(biller, "base_url"), "validate",
                       tz_biller_validate_body(r->pool, customer), &resp) != 0)
        return unavailable(r);
    switch (tz_biller_customer(r->pool, resp.status, resp.body, resp.bodylen, &name)) {
    case TZ_BILL_CUSTOMER_OK: {
        int rc;
        if (!(out = json_pack("{s:s, s:s}", "customer", customer, "name", name)))
            return unavailable(r);
        rc = tz_send_json(r, HTTP_OK, out);
        json_decref(out);
        return rc;
    }
    case TZ_BILL_CUSTOMER_UNKNOWN:
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "unknown_customer", "customer",
                                     "is not known to the biller");
    default:
        return unavailable(r);
    }
}

/* 409 bill_refused with the payment (its hold returned to the wallet). */
static int send_refused(request_rec *r, json_t *bill)
{
    json_t *p = tz_problem_new(r->pool, HTTP_CONFLICT, "bill_refused",
                               apr_pstrcat(r->pool, "the biller refused the payment: ",
                                           tz_json_str(bill, "failure_reason"), NULL), NULL);
    const char *text;
    json_object_set(p, "bill_payment", bill);
    text = tz_json_dump(r->pool, p);
    r->status = HTTP_CONFLICT;
    ap_set_content_type(r, "application/problem+json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, (apr_off_t)strlen(text));
    if (!r->header_only)
        ap_rputs(text, r);
    return OK;
}

static int pay_failed(tz_req_t *q, const char *err)
{
    if (tz_is_refusal(err))
        return tz_send_refusal(q->r, err);
    if (strcmp(err, "insufficient_funds") == 0)
        return tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "insufficient_funds", "amount",
                                     "with the biller's fee exceeds the wallet balance");
    if (strcmp(err, "customer") == 0)
        return tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                     "customer", "is not a reference this biller accepts");
    return tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed", "biller_id",
                                 "is not an active biller");
}

int tz_h_bill_pay(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[7], *err, *id, *status;
    tz_idem_key_t key;
    tz_http_resp_t resp;
    tz_bill_answer_t a;
    json_t *bill, *res = NULL;
    if (tz_validate_or_422(q, &tz_schema_bill_pay))
        return OK;
    if (!tz_is_uuid(tz_json_str(q->body, "biller_id")))
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed", "biller_id",
                                     "must be a UUID");
    if (!q->cfg->biller_secret)
        return unavailable(r);
    if (tz_idem_begin(q, "/bill-payments", &key, NULL) != OK)
        return OK;
    id = tz_uuid4(r->pool);
    args[0] = id;
    args[1] = q->user.id;
    args[2] = tz_json_str(q->body, "biller_id");
    args[3] = tz_json_str(q->body, "customer");
    args[4] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                           (apr_int64_t)tz_json_int(q->body, "amount", 0));
    args[5] = key.key;
    /* never asked about before this request's own /pay call has ended: a
     * biller that has not seen the payment yet would answer "unknown" */
    args[6] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                           tz_bill_check_base(q->cfg) + q->cfg->provider_timeout + 3);
    if (tz_db_json(r, TZ_Q_BILL_PAY, args, &bill) != OK || !bill) {
        tz_idem_release(q, &key);
        return tz_send_db_unavailable(r);
    }
    if ((err = tz_json_str(bill, "error"))) {
        tz_idem_release(q, &key);
        return pay_failed(q, err);
    }
    /* the money is held: from here on the payment exists, whatever the biller says */
    if (tz_biller_call(r->pool, r->server, q->cfg, tz_json_str(bill, "base_url"), "pay",
                       tz_biller_pay_body(r->pool, id, tz_json_str(bill, "customer"),
                                          tz_json_int(bill, "amount", 0),
                                          tz_json_str(bill, "currency")), &resp) != 0)
        resp.status = 0;
    tz_biller_answer(r->pool, resp.status, resp.body, resp.bodylen, &a);
    json_object_del(bill, "base_url");
    if (a.verdict == TZ_BILL_SUCCEEDED || a.verdict == TZ_BILL_FAILED) {
        const char *aargs[5] = {id, a.verdict == TZ_BILL_SUCCEEDED ? "succeeded" : "failed",
                                a.reference, a.reason, key.key};
        if (tz_db_json(r, TZ_Q_BILL_ANSWER, aargs, &res) == OK && res)
            bill = res; /* else still pending here: the watchdog asks /status */
    }
    status = tz_json_str(bill, "status");
    if (status && strcmp(status, "succeeded") == 0)
        return tz_send_json(r, HTTP_CREATED, bill);
    if (status && strcmp(status, "failed") == 0)
        return send_refused(r, bill);
    return tz_send_json(r, HTTP_ACCEPTED, bill);
}

int tz_h_bills_list(tz_req_t *q)
{
    static const tz_list_t list = {TZ_Q_BILLS_LIST, "bill-payments", TZ_CURSOR_UUID,
                                   NULL, 0, NULL, NULL};
    const char *args[4] = {q->user.id, NULL, NULL, NULL};
    return tz_list(q, &list, args, 4);
}

int tz_h_bill_get(tz_req_t *q)
{
    const char *args[3] = {q->id, q->user.id, q->user.role};
    json_t *out;
    if (tz_db_json(q->r, TZ_Q_BILL_GET, args, &out) != OK)
        return tz_send_db_unavailable(q->r);
    if (!out)
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such bill payment");
    return tz_send_json(q->r, HTTP_OK, out);
}
