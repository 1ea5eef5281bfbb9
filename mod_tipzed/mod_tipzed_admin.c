/* /admin: payments, payouts and their lifecycle, reconciliation, the
 * audit log.  Every route is admin-only (the route table says so). */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_list.h"
#include "mod_tipzed_payments.h"
#include "mod_tipzed_payouts.h"
#include "tz_parse.h"
#include "tz_range.h"
#include "tz_schema.h"
#include "tz_validate.h"

/* Validates the optional body against a one-field schema and runs the step. */
static int step(tz_req_t *q, const char *action, const tz_schema_t *schema)
{
    q->body = q->body ? q->body : tz_json_pool(q->r->pool, json_object());
    if (tz_validate_or_422(q, schema))
        return OK;
    return tz_payout_step(q, action, tz_json_str(q->body, schema->fields[0].name));
}

int tz_h_admin_payout_approve(tz_req_t *q) { return step(q, "approve", &tz_schema_admin_note); }
int tz_h_admin_payout_reject(tz_req_t *q) { return step(q, "reject", &tz_schema_admin_reason); }
int tz_h_admin_payout_process(tz_req_t *q) { return step(q, "process", &tz_schema_admin_ref); }
int tz_h_admin_payout_complete(tz_req_t *q) { return step(q, "complete", &tz_schema_admin_ref); }
int tz_h_admin_payout_fail(tz_req_t *q) { return step(q, "fail", &tz_schema_admin_reason); }

static int send_result(tz_req_t *q, tz_query_e query, const char **args)
{
    json_t *res;
    if (tz_db_json(q->r, query, args, &res) != OK || !res)
        return tz_send_db_unavailable(q->r);
    return tz_send_json(q->r, HTTP_OK, res);
}

static const char *const payout_states[] = {"pending", "approved", "processing", "completed",
                                            "rejected", "failed", "cancelled", NULL};

int tz_h_admin_payouts(tz_req_t *q)
{
    const char *status = tz_query_arg(q->r, "status"), *args[5] = {NULL, status, NULL, NULL, NULL};
    int known = !status;
    for (int i = 0; status && payout_states[i]; i++)
        known |= strcmp(status, payout_states[i]) == 0;
    if (!known)
        return tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                     "status", "is not a payout status");
    return tz_payouts_list(q, args);
}

/* ?from and ?to: an RFC 3339 timestamp or a date (its midnight UTC),
 * passed on in the one spelling SQL reads the same everywhere. */
static int filter_time(tz_req_t *q, const char *v, const char **out)
{
    int64_t secs;
    if (tz_parse_timestamp(v, 1, &secs) != 0)
        return -1;
    *out = tz_format_timestamp(q->r->pool, secs);
    return 0;
}

/* ?status=review is the review queue. */
int tz_h_admin_transactions(tz_req_t *q)
{
    static const tz_list_t list = {TZ_Q_ADMIN_TRANSACTIONS, "transactions", TZ_CURSOR_UUID,
                                   tz_payment_cols, TZ_PAYMENT_NCOLS, NULL, NULL};
    static const char *const names[] = {"status", "creator_id", "fan_id", "from", "to"};
    const char *args[8];
    for (int i = 0; i < 5; i++) {
        const char *v = args[i] = tz_query_arg(q->r, names[i]);
        int ok = !v || (i == 0 ? strspn(v, "abcdefghijklmnopqrstuvwxyz") == strlen(v)
                        : i < 3 ? tz_is_uuid(v) : filter_time(q, v, &args[i]) == 0);
        if (!ok)
            return tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                         names[i], "is not valid");
    }
    return tz_list(q, &list, args, 8);
}

/* GET /admin/overview?from=&to=: per UTC day (both dates included, the
 * last 30 days by default); the rule of the range is tz_day_range's. */
int tz_h_admin_overview(tz_req_t *q)
{
    tz_day_range_t range;
    const char *field, *why, *args[2];
    if (tz_day_range(tz_query_arg(q->r, "from"), tz_query_arg(q->r, "to"),
                     apr_time_sec(apr_time_now()), &range, &field, &why) != 0)
        return tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                     field, why);
    /* "YYYY-MM-DD" of each midnight: what SQL reads as a date */
    args[0] = apr_pstrndup(q->r->pool, tz_format_timestamp(q->r->pool, range.first), 10);
    args[1] = apr_pstrndup(q->r->pool, tz_format_timestamp(q->r->pool, range.last), 10);
    return send_result(q, TZ_Q_ADMIN_OVERVIEW, args);
}

/* GET /admin/disputes?status=open|won|lost */
int tz_h_admin_disputes(tz_req_t *q)
{
    static const tz_list_t list = {TZ_Q_ADMIN_DISPUTES, "disputes", TZ_CURSOR_UUID, NULL, 0,
                                   NULL, NULL};
    const char *args[4];
    args[0] = tz_query_arg(q->r, "status");
    if (args[0] && strcmp(args[0], "open") && strcmp(args[0], "won") && strcmp(args[0], "lost"))
        return tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                     "status", "must be open, won or lost");
    return tz_list(q, &list, args, 4);
}

int tz_h_admin_reconciliation(tz_req_t *q)
{
    return send_result(q, TZ_Q_RECONCILIATION, NULL);
}

static const char *const audit_cols[] = {"id", "created_at", "actor_id", "action",
                                         "target_type", "target_id", "note", "request_id"};

int tz_h_admin_audit_log(tz_req_t *q)
{
    static const tz_list_t list = {TZ_Q_AUDIT_LOG, "audit-log", TZ_CURSOR_INT, audit_cols, 8,
                                   NULL, NULL};
    const char *args[3];
    return tz_list(q, &list, args, 3);
}
