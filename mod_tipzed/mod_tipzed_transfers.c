/* /wallets/me/transfers: a user moves money from its main wallet to
 * another user's (TipzedTransfers decides to whom), within
 * TipzedTransferLimit; the limit and the balance are checked by the SQL
 * function in the transaction that posts the entry. */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_operator.h"
#include "mod_tipzed_list.h"
#include "mod_tipzed_idempotency.h"
#include "tz_parse.h"
#include "tz_problem.h"
#include "tz_schema.h"
#include "tz_transfer.h"

/* The recipient roles the server's policy allows, as a SQL text[] literal. */
static const char *allowed_roles(tz_req_t *q)
{
    const char *list = "";
    for (int i = 0; tz_user_roles[i]; i++)
        if (tz_transfer_policy_ok(q->cfg->transfer_policy, tz_user_roles[i]))
            list = apr_pstrcat(q->r->pool, list, *list ? "," : "", tz_user_roles[i], NULL);
    return apr_pstrcat(q->r->pool, "{", list, "}", NULL);
}

static int transfer_failed(tz_req_t *q, json_t *res, const char *err)
{
    request_rec *r = q->r;
    if (tz_is_refusal(err))
        return tz_send_refusal(r, err);
    if (strcmp(err, "recipient_not_found") == 0)
        return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "no such recipient");
    if (strcmp(err, "self_transfer") == 0)
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "self_transfer", "recipient_id",
                                     "is your own account");
    if (strcmp(err, "recipient_not_allowed") == 0)
        return tz_send_problem(r, HTTP_FORBIDDEN, "recipient_not_allowed",
                               "transfers on this server may go only to creators");
    if (strcmp(err, "insufficient_funds") == 0)
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "insufficient_funds", "amount",
                                     "exceeds the wallet balance");
    if (strcmp(err, "limit_exceeded") == 0) {
        json_int_t left = json_integer_value(json_object_get(res, "remaining"));
        json_int_t limit = json_integer_value(json_object_get(res, "limit"));
        /* apr's formatter has no %lld: JSON_INTEGER_FORMAT cannot be used */
        const char *msg = apr_psprintf(r->pool, "exceeds what is left of the transfer limit: %"
                                       APR_INT64_T_FMT " of %" APR_INT64_T_FMT
                                       " per %" APR_INT64_T_FMT " seconds", (apr_int64_t)left,
                                       (apr_int64_t)limit, q->cfg->transfer_window);
        json_t *p = tz_problem_new(r->pool, HTTP_UNPROCESSABLE_ENTITY, "limit_exceeded",
                                   apr_pstrcat(r->pool, "amount ", msg, NULL),
                                   tz_problem_field(r->pool, "amount", msg));
        json_object_set_new(p, "remaining", json_integer(left));
        json_object_set_new(p, "limit", json_integer(limit));
        json_object_set_new(p, "window_seconds", json_integer(q->cfg->transfer_window));
        return tz_send_problem_json(r, HTTP_UNPROCESSABLE_ENTITY, p);
    }
    return tz_send_db_unavailable(r);
}

int tz_h_transfer_create(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *cur, *rcpt, *args[10], *err;
    tz_idem_key_t key;
    json_t *res;
    if (q->cfg->transfer_policy == TZ_TRANSFERS_NONE)
        return tz_send_problem(r, HTTP_FORBIDDEN, "transfers_disabled",
                               "transfers between wallets are disabled on this server");
    if (tz_validate_or_422(q, &tz_schema_transfer))
        return OK;
    rcpt = tz_json_str(q->body, "recipient_id");
    cur = tz_json_str(q->body, "currency");
    if (!tz_is_uuid(rcpt))
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                     "recipient_id", "is not a user id");
    if (cur && !tz_cfg_currency_ok(q->cfg, cur))
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed", "currency",
                                     "is not an accepted currency");
    if (tz_idem_begin(q, "/wallets/me/transfers", &key, NULL) != OK)
        return OK;
    args[0] = tz_uuid4(r->pool);
    args[1] = q->user.id;
    args[2] = rcpt;
    args[3] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)tz_json_int(q->body, "amount", 0));
    args[4] = cur ? cur : q->cfg->default_currency;
    args[5] = tz_json_str(q->body, "note");
    args[6] = allowed_roles(q);
    args[7] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, q->cfg->transfer_limit);
    args[8] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, q->cfg->transfer_window);
    args[9] = key.key;
    if (tz_db_json(r, TZ_Q_TRANSFER_CREATE, args, &res) != OK || !res) {
        tz_idem_release(q, &key);
        return tz_send_db_unavailable(r);
    }
    if ((err = tz_json_str(res, "error"))) {
        tz_idem_release(q, &key);
        return transfer_failed(q, res, err);
    }
    return tz_send_json(r, HTTP_CREATED, res);
}

int tz_h_transfers_list(tz_req_t *q)
{
    static const tz_list_t list = {TZ_Q_TRANSFERS_LIST, "transfers", TZ_CURSOR_UUID,
                                   NULL, 0, NULL, NULL};
    const char *args[4] = {q->user.id, NULL, NULL, NULL};
    return tz_list(q, &list, args, 4);
}
