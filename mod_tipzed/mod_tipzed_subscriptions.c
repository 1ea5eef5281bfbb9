/* /subscriptions: fans subscribe to creators' plans, read them (a creator
 * reads its subscribers'), cancel and resume them.  Renewals are the
 * billing engine's (mod_tipzed_billing.c); the states and their rules are
 * sql/functions/57_subscriptions.sql's. */
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

/* What tz_api_subscription_create refused. */
static int subscribe_refused(tz_req_t *q, json_t *res)
{
    request_rec *r = q->r;
    const char *err = tz_json_str(res, "error");
    if (tz_is_refusal(err))
        return tz_send_refusal(r, err);
    if (strcmp(err, "already_subscribed") == 0)
        return tz_send_problem(r, HTTP_CONFLICT, "already_subscribed",
                               apr_pstrcat(r->pool, "you have a live subscription to this plan: ",
                                           tz_json_str(res, "subscription_id"), NULL));
    if (strcmp(err, "insufficient_funds") == 0)
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "insufficient_funds", "source",
                                     apr_psprintf(r->pool, "the wallet holds %" APR_INT64_T_FMT
                                                  ", less than the plan's first period",
                                                  (apr_int64_t)tz_json_int(res, "available", 0)));
    if (strcmp(err, "own_plan") == 0)
        return tz_send_invalid(r, "plan_id", "is your own plan");
    if (strcmp(err, "invalid_splits") == 0)
        return tz_send_invalid(r, "plan_id", apr_pstrcat(r->pool, "cannot be subscribed to: its "
                                                         "splits ", tz_json_str(res, "message"), NULL));
    return tz_send_invalid(r, "plan_id", "is not an active plan");
}

int tz_h_subscription_create(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[16], *source, *phone;
    const tz_provider_t *pv;
    tz_idem_key_t key;
    json_t *res;
    if (tz_validate_or_422(q, &tz_schema_subscribe) || tz_billing_source_ok(q, &source) != OK)
        return OK;
    if (!tz_is_uuid(tz_json_str(q->body, "plan_id")))
        return tz_send_invalid(r, "plan_id", "must be a UUID");
    if (tz_billing_provider_ok(q, source, &pv, &phone) != OK ||
        tz_idem_begin(q, "/subscriptions", &key, NULL) != OK)
        return OK;
    args[0] = tz_uuid4(r->pool);
    args[1] = q->user.id;
    args[2] = tz_json_str(q->body, "plan_id");
    args[3] = source;
    args[4] = pv ? pv->name : NULL;
    args[5] = phone;
    args[6] = tz_api_url(r);
    args[7] = tz_billing_sandbox(q->cfg);
    tz_billing_terms(r->pool, q->cfg, &args[8]);
    args[14] = key.key;
    args[15] = q->cfg->tax_json;
    if (tz_db_json(r, TZ_Q_SUBSCRIPTION_CREATE, args, &res) != OK || !res) {
        tz_idem_release(q, &key);
        return tz_send_db_unavailable(r);
    }
    if (tz_json_str(res, "error")) {
        tz_idem_release(q, &key);
        return subscribe_refused(q, res);
    }
    tz_cache_forget(q, tz_json_str(res, "creator_id")); /* a first charge: earnings changed */
    return tz_billing_created(q, "subscription", res, pv, phone, &key);
}

int tz_h_subscription_get(tz_req_t *q)
{
    const char *args[3] = {q->id, q->user.id, q->user.role};
    json_t *res;
    if (!tz_is_uuid(q->id))
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such subscription");
    if (tz_db_json(q->r, TZ_Q_SUBSCRIPTION_GET, args, &res) != OK)
        return tz_send_db_unavailable(q->r);
    if (!res)
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such subscription");
    return tz_send_json(q->r, HTTP_OK, res);
}

static int status_ok(const char *s)
{
    static const char *const states[] = {"trialing", "incomplete", "active", "past_due",
                                         "canceled", "incomplete_expired"};
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        if (strcmp(s, states[i]) == 0)
            return 1;
    return 0;
}

/* GET /subscriptions[?status=]: the caller's, as fan and as creator. */
int tz_h_subscriptions_list(tz_req_t *q)
{
    static const tz_list_t list = {TZ_Q_SUBSCRIPTIONS_LIST, "subscriptions", TZ_CURSOR_UUID, NULL,
                                   0, NULL, NULL};
    const char *args[5] = {q->user.id, tz_query_arg(q->r, "status"), NULL, NULL, NULL};
    if (args[1] && !status_ok(args[1]))
        return tz_send_invalid(q->r, "status", "must be one of trialing, incomplete, active, "
                               "past_due, canceled, incomplete_expired");
    return tz_list(q, &list, args, 5);
}

static int subscription_action(tz_req_t *q, const char *action, const char *at_end,
                               const char *verb)
{
    const char *args[6] = {q->id, q->user.id, q->user.role, action, at_end,
                           tz_billing_sandbox(q->cfg)};
    json_t *res;
    if (!tz_is_uuid(q->id))
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such subscription");
    if (tz_db_json(q->r, TZ_Q_SUBSCRIPTION_ACTION, args, &res) != OK || !res)
        return tz_send_db_unavailable(q->r);
    if (tz_json_str(res, "error"))
        return tz_billing_action_refused(q, res, "subscription", verb);
    return tz_send_json(q->r, HTTP_OK, res);
}

/* POST /subscriptions/{id}/cancel {at_period_end: true (default) | false} */
int tz_h_subscription_cancel(tz_req_t *q)
{
    json_t *at_end;
    if (q->body && tz_validate_or_422(q, &tz_schema_cancel))
        return OK;
    at_end = q->body ? json_object_get(q->body, "at_period_end") : NULL;
    return subscription_action(q, "cancel", at_end && json_is_false(at_end) ? "false" : "true",
                               "canceled");
}

/* POST /subscriptions/{id}/resume: undoes a cancel at the period's end. */
int tz_h_subscription_resume(tz_req_t *q)
{
    return subscription_action(q, "resume", "false", "resumed (only a subscription set to "
                               "cancel at its period's end is)");
}
