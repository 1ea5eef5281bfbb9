/* /creators/me/plans and /creators/{id}/plans: the membership plans a
 * creator sells.  A plan's price, currency and interval never change (a
 * new price is a new plan); its name, description and availability do.
 * An inactive plan takes no new subscribers, and its subscriptions go on
 * (sql/functions/55_billing.sql). */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_idempotency.h"
#include "mod_tipzed_payments.h"
#include "tz_parse.h"
#include "tz_schema.h"
#include "tz_split.h"

int tz_h_plan_create(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[10], *why;
    tz_split_t s[TZ_SPLIT_MAX];
    size_t n;
    tz_idem_key_t key;
    json_t *res;
    int64_t amount = tz_json_int(q->body, "amount", 0);
    if (tz_validate_or_422(q, &tz_schema_plan) ||
        tz_payment_amount_ok(q, amount, tz_json_str(q->body, "currency")) != OK)
        return OK;
    if (!tz_interval_ok(tz_json_str(q->body, "interval"), 1))
        return tz_send_invalid(r, "interval", "must be \"week\", \"month\", \"quarter\" or \"year\"");
    if ((why = tz_split_parse(r->pool, json_object_get(q->body, "splits"), q->user.id, s, &n)))
        return tz_send_invalid(r, "splits", why);
    if (tz_idem_begin(q, "/creators/me/plans", &key, NULL) != OK)
        return OK;
    args[0] = tz_uuid4(r->pool);
    args[1] = q->user.id;
    args[2] = tz_json_str(q->body, "name");
    args[3] = tz_json_str(q->body, "description");
    args[4] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)amount);
    args[5] = tz_json_str(q->body, "currency");
    args[6] = tz_json_str(q->body, "interval");
    args[7] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                           (apr_int64_t)tz_json_int(q->body, "trial_days", 0));
    args[8] = tz_split_json(r->pool, s, n);
    args[9] = key.key;
    if (tz_db_json(r, TZ_Q_PLAN_CREATE, args, &res) != OK || !res) {
        tz_idem_release(q, &key);
        return tz_send_db_unavailable(r);
    }
    if (tz_json_str(res, "error")) {
        tz_idem_release(q, &key);
        return tz_send_invalid(r, "splits", tz_json_str(res, "message"));
    }
    return tz_send_json(r, HTTP_CREATED, res);
}

/* A change can be sent again as it is: no idempotency key. */
int tz_h_plan_update(tz_req_t *q)
{
    request_rec *r = q->r;
    json_t *active = json_object_get(q->body, "active"), *res;
    const char *args[5] = {q->id, q->user.id, tz_json_str(q->body, "name"),
                           tz_json_str(q->body, "description"),
                           active ? (json_is_true(active) ? "true" : "false") : NULL};
    if (tz_validate_or_422(q, &tz_schema_plan_patch))
        return OK;
    if (json_object_size(q->body) == 0)
        return tz_send_invalid(r, "body", "must name at least one of name, description, active");
    if (!tz_is_uuid(q->id))
        return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "no such plan");
    if (tz_db_json(r, TZ_Q_PLAN_UPDATE, args, &res) != OK || !res)
        return tz_send_db_unavailable(r);
    if (tz_json_str(res, "error"))
        return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "no such plan of yours");
    return tz_send_json(r, HTTP_OK, res);
}

static int plans_of(tz_req_t *q, const char *creator, const char *all)
{
    const char *args[2] = {creator, all};
    json_t *res;
    if (!tz_is_uuid(creator))
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such creator");
    if (tz_db_json(q->r, TZ_Q_PLANS_LIST, args, &res) != OK)
        return tz_send_db_unavailable(q->r);
    if (!res)
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such creator");
    return tz_send_json(q->r, HTTP_OK, res);
}

/* GET /creators/{id}/plans: the active plans, for anyone. */
int tz_h_plans_list(tz_req_t *q)
{
    return plans_of(q, q->id, "false");
}

/* GET /creators/me/plans: every plan of the caller's, inactive ones too. */
int tz_h_plans_mine(tz_req_t *q)
{
    return plans_of(q, q->user.id, "true");
}
