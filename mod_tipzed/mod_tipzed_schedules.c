/* /schedules: a fan's recurring payments to a creator (weekly, monthly or
 * quarterly), an installment plan being a schedule with a count.  The
 * charges are the billing engine's (mod_tipzed_billing.c); the states and
 * their rules are sql/functions/57_subscriptions.sql's. */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_billing.h"
#include "mod_tipzed_cache.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_operator.h"
#include "mod_tipzed_list.h"
#include "mod_tipzed_idempotency.h"
#include "mod_tipzed_payments.h"
#include "tz_parse.h"
#include "tz_schema.h"
#include "tz_split.h"

/* What tz_api_schedule_create refused. */
static int schedule_refused(tz_req_t *q, json_t *res)
{
    request_rec *r = q->r;
    const char *err = tz_json_str(res, "error");
    if (tz_is_refusal(err))
        return tz_send_refusal(r, err);
    if (strcmp(err, "insufficient_funds") == 0)
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "insufficient_funds", "source",
                                     apr_psprintf(r->pool, "the wallet holds %" APR_INT64_T_FMT
                                                  ", less than the first charge",
                                                  (apr_int64_t)tz_json_int(res, "available", 0)));
    if (strcmp(err, "start_in_past") == 0)
        return tz_send_invalid(r, "start_at", apr_pstrcat(r->pool, "is in the past (now is ",
                                                          tz_json_str(res, "now"), ")", NULL));
    if (strcmp(err, "invalid_splits") == 0)
        return tz_send_invalid(r, "splits", tz_json_str(res, "message"));
    if (strcmp(err, "own_schedule") == 0)
        return tz_send_invalid(r, "creator_id", "is yourself: a wallet cannot pay itself");
    return tz_send_invalid(r, "creator_id", "is not a creator");
}

/* The fields beyond the schema's types: the amount's bounds, the
 * interval, the start (RFC 3339), the splits.  OK, or DONE with a 422. */
static int schedule_fields_ok(tz_req_t *q, const char **start, const char **splits)
{
    request_rec *r = q->r;
    const char *given = tz_json_str(q->body, "start_at"), *why;
    tz_split_t s[TZ_SPLIT_MAX];
    size_t n;
    int64_t secs;
    if (tz_payment_amount_ok(q, tz_json_int(q->body, "amount", 0),
                             tz_json_str(q->body, "currency")) != OK)
        return DONE;
    if (!tz_interval_ok(tz_json_str(q->body, "interval"), 0))
        return tz_send_invalid(r, "interval", "must be \"week\", \"month\" or \"quarter\""), DONE;
    if (!tz_is_uuid(tz_json_str(q->body, "creator_id")))
        return tz_send_invalid(r, "creator_id", "must be a UUID"), DONE;
    if (given && tz_parse_timestamp(given, 0, &secs) != 0)
        return tz_send_invalid(r, "start_at", "must be an RFC 3339 date-time"), DONE;
    *start = given ? tz_format_timestamp(r->pool, secs) : NULL;
    if ((why = tz_split_parse(r->pool, json_object_get(q->body, "splits"),
                              tz_json_str(q->body, "creator_id"), s, &n)))
        return tz_send_invalid(r, "splits", why), DONE;
    *splits = tz_split_json(r->pool, s, n);
    return OK;
}

int tz_h_schedule_create(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[23], *source, *phone, *start, *splits;
    const tz_provider_t *pv;
    tz_idem_key_t key;
    json_t *res, *count;
    if (tz_validate_or_422(q, &tz_schema_schedule) || tz_billing_source_ok(q, &source) != OK ||
        schedule_fields_ok(q, &start, &splits) != OK ||
        tz_billing_provider_ok(q, source, &pv, &phone) != OK ||
        tz_idem_begin(q, "/schedules", &key, NULL) != OK)
        return OK;
    count = json_object_get(q->body, "count");
    args[0] = tz_uuid4(r->pool);
    args[1] = q->user.id;
    args[2] = tz_json_str(q->body, "creator_id");
    args[3] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                           (apr_int64_t)tz_json_int(q->body, "amount", 0));
    args[4] = tz_json_str(q->body, "currency");
    args[5] = tz_json_str(q->body, "interval");
    args[6] = json_is_integer(count) ? apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                                    (apr_int64_t)json_integer_value(count)) : NULL;
    args[7] = start;
    args[8] = source;
    args[9] = pv ? pv->name : NULL;
    args[10] = phone;
    args[11] = tz_api_url(r);
    args[12] = tz_json_str(q->body, "message");
    args[13] = splits;
    args[14] = tz_billing_sandbox(q->cfg);
    tz_billing_terms(r->pool, q->cfg, &args[15]);
    args[21] = key.key;
    args[22] = q->cfg->tax_json;
    if (tz_db_json(r, TZ_Q_SCHEDULE_CREATE, args, &res) != OK || !res) {
        tz_idem_release(q, &key);
        return tz_send_db_unavailable(r);
    }
    if (tz_json_str(res, "error")) {
        tz_idem_release(q, &key);
        return schedule_refused(q, res);
    }
    tz_cache_forget(q, args[2]); /* a first charge changed the creator's earnings */
    return tz_billing_created(q, "schedule", res, pv, phone, &key);
}

int tz_h_schedule_get(tz_req_t *q)
{
    const char *args[3] = {q->id, q->user.id, q->user.role};
    json_t *res;
    if (!tz_is_uuid(q->id))
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such schedule");
    if (tz_db_json(q->r, TZ_Q_SCHEDULE_GET, args, &res) != OK)
        return tz_send_db_unavailable(q->r);
    if (!res)
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such schedule");
    return tz_send_json(q->r, HTTP_OK, res);
}

int tz_h_schedules_list(tz_req_t *q)
{
    static const tz_list_t list = {TZ_Q_SCHEDULES_LIST, "schedules", TZ_CURSOR_UUID,
                                   NULL, 0, NULL, NULL};
    const char *args[4] = {q->user.id, NULL, NULL, NULL};
    return tz_list(q, &list, args, 4);
}

static int schedule_action(tz_req_t *q, const char *action, const char *verb)
{
    const char *args[5] = {q->id, q->user.id, q->user.role, action, tz_billing_sandbox(q->cfg)};
    json_t *res;
    if (!tz_is_uuid(q->id))
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such schedule");
    if (tz_db_json(q->r, TZ_Q_SCHEDULE_ACTION, args, &res) != OK || !res)
        return tz_send_db_unavailable(q->r);
    if (tz_json_str(res, "error"))
        return tz_billing_action_refused(q, res, "schedule", verb);
    return tz_send_json(q->r, HTTP_OK, res);
}

int tz_h_schedule_pause(tz_req_t *q)
{
    return schedule_action(q, "pause", "paused (only an active one is)");
}

int tz_h_schedule_resume(tz_req_t *q)
{
    return schedule_action(q, "resume", "resumed (only a paused one is)");
}

int tz_h_schedule_cancel(tz_req_t *q)
{
    return schedule_action(q, "cancel", "canceled");
}
