/* /admin/wallets/{user_id}/adjustments and /admin/adjustments: an admin
 * proposes a signed change of a user's wallet, another admin approves it
 * (the entry posts) or rejects it.  The database refuses a decision by the
 * adjustment's creator (a CHECK on the table, and the SQL function). */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_operator.h"
#include "mod_tipzed_list.h"
#include "mod_tipzed_idempotency.h"
#include "tz_parse.h"
#include "tz_schema.h"

int tz_h_admin_adjustment_create(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *cur, *args[8], *err;
    tz_idem_key_t key;
    json_t *res;
    if (!tz_is_uuid(q->id))
        return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "no such user");
    if (tz_validate_or_422(q, &tz_schema_adjustment))
        return OK;
    if (tz_json_int(q->body, "amount", 0) == 0)
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed", "amount",
                                     "must not be 0");
    cur = tz_json_str(q->body, "currency");
    if (!tz_cfg_currency_ok(q->cfg, cur))
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed", "currency",
                                     "is not an accepted currency");
    if (tz_idem_begin(q, apr_pstrcat(r->pool, "/admin/wallets/", q->id, "/adjustments", NULL),
                      &key, NULL) != OK)
        return OK;
    args[0] = tz_uuid4(r->pool);
    args[1] = q->id;
    args[2] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)tz_json_int(q->body, "amount", 0));
    args[3] = cur;
    args[4] = tz_json_str(q->body, "reason");
    args[5] = q->user.id;
    args[6] = q->request_id;
    args[7] = key.key;
    if (tz_db_json(r, TZ_Q_ADJUSTMENT_CREATE, args, &res) != OK || !res) {
        tz_idem_release(q, &key);
        return tz_send_db_unavailable(r);
    }
    if ((err = tz_json_str(res, "error"))) {
        tz_idem_release(q, &key);
        return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "no such user");
    }
    return tz_send_json(r, HTTP_CREATED, res);
}

static int decide(tz_req_t *q, const char *action, const tz_schema_t *schema)
{
    request_rec *r = q->r;
    const char *args[6], *err;
    tz_idem_key_t key = {NULL};
    int keyed = strcmp(action, "approve") == 0;
    json_t *res;
    q->body = q->body ? q->body : tz_json_pool(r->pool, json_object());
    if (tz_validate_or_422(q, schema))
        return OK;
    if (!tz_is_uuid(q->id))
        return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "no such adjustment");
    if (keyed && tz_idem_begin(q, apr_pstrcat(r->pool, "/admin/adjustments/", q->id, "/approve",
                                              NULL), &key, NULL) != OK)
        return OK;
    args[0] = q->id;
    args[1] = action;
    args[2] = q->user.id;
    args[3] = tz_json_str(q->body, schema->fields[0].name);
    args[4] = q->request_id;
    args[5] = key.key;
    if (tz_db_json(r, TZ_Q_ADJUSTMENT_DECIDE, args, &res) != OK || !res) {
        if (keyed)
            tz_idem_release(q, &key);
        return tz_send_db_unavailable(r);
    }
    if ((err = tz_json_str(res, "error"))) {
        if (keyed)
            tz_idem_release(q, &key);
        if (strcmp(err, "not_found") == 0)
            return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "no such adjustment");
        if (tz_is_refusal(err))
            return tz_send_refusal(r, err);
        if (strcmp(err, "same_admin") == 0)
            return tz_send_problem(r, HTTP_FORBIDDEN, "same_admin",
                                   "an adjustment is decided by an admin other than its creator");
        if (strcmp(err, "insufficient_funds") == 0)
            return tz_send_problem(r, HTTP_CONFLICT, "insufficient_funds",
                                   "the wallet cannot cover the adjustment; it stays pending");
        return tz_send_problem(r, HTTP_CONFLICT, "invalid_transition",
                               apr_psprintf(r->pool, "cannot %s an adjustment that is %s", action,
                                            tz_json_str(res, "status")));
    }
    return tz_send_json(r, HTTP_OK, res);
}

int tz_h_admin_adjustment_approve(tz_req_t *q) { return decide(q, "approve", &tz_schema_admin_note); }
int tz_h_admin_adjustment_reject(tz_req_t *q) { return decide(q, "reject", &tz_schema_admin_reason); }

int tz_h_admin_adjustments(tz_req_t *q)
{
    static const tz_list_t list = {TZ_Q_ADJUSTMENTS_LIST, "adjustments", TZ_CURSOR_UUID, NULL, 0,
                                   NULL, NULL};
    const char *status = tz_query_arg(q->r, "status"), *args[4] = {status, NULL, NULL, NULL};
    if (status && strcmp(status, "pending") && strcmp(status, "approved") &&
        strcmp(status, "rejected"))
        return tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                     "status", "must be pending, approved or rejected");
    return tz_list(q, &list, args, 4);
}
