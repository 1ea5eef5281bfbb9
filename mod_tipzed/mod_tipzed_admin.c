/* /admin: payments, payouts and their lifecycle, reconciliation, the
 * audit log.  Every route is admin-only (the route table says so). */
#include "mod_tipzed.h"
#include "tz_parse.h"
#include "apr_lib.h"

void tz_audit(tz_req_t *q, const char *actor, const char *action, const char *type,
              const char *target, const char *note)
{
    const char *args[6] = {actor, action, type, target, note, q->request_id}, *ignored;
    if (tz_db_value(q->r, TZ_Q_AUDIT, args, &ignored) != OK)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, q->r, APLOGNO(10580)
                      "tipzed: audit entry %s for %s was not written", action, target);
}

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
        return tz_send_problem(q->r, HTTP_SERVICE_UNAVAILABLE, "database_unavailable", "please retry");
    return tz_send_json(q->r, HTTP_OK, res);
}

static const char *const payout_states[] = {"pending", "approved", "processing", "completed",
                                            "rejected", "failed", "cancelled", NULL};

int tz_h_admin_payouts(tz_req_t *q)
{
    const char *status = tz_query_arg(q->r, "status"), *args[4] = {NULL, status, NULL, NULL};
    int known = !status;
    for (int i = 0; status && payout_states[i]; i++)
        known |= strcmp(status, payout_states[i]) == 0;
    if (!known)
        return tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                     "status", "is not a payout status");
    if (tz_page_or_422(q, &args[2], &args[3]) != OK)
        return OK;
    return tz_h_payouts_page(q, args);
}

/* RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" (or a date): 1 when s has that shape. */
static int timestamp_ok(const char *s)
{
    size_t n = strlen(s);
    if (n != 10 && n != 20)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char want = "0000-00-00T00:00:00Z"[i];
        if (want == '0' ? !apr_isdigit(s[i]) : s[i] != want)
            return 0;
    }
    return 1;
}

int tz_h_admin_transactions(tz_req_t *q)
{
    static const char *const names[] = {"status", "creator_id", "fan_id", "from", "to"};
    const char *args[7];
    for (int i = 0; i < 5; i++) {
        const char *v = args[i] = tz_query_arg(q->r, names[i]);
        int ok = !v || (i == 0 ? strspn(v, "abcdefghijklmnopqrstuvwxyz") == strlen(v)
                        : i < 3 ? tz_is_uuid(v) : timestamp_ok(v));
        if (!ok)
            return tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                         names[i], "is not valid");
    }
    if (tz_page_or_422(q, &args[5], &args[6]) != OK)
        return OK;
    return send_result(q, TZ_Q_ADMIN_TRANSACTIONS, args);
}

int tz_h_admin_reconciliation(tz_req_t *q)
{
    return send_result(q, TZ_Q_RECONCILIATION, NULL);
}

int tz_h_admin_audit_log(tz_req_t *q)
{
    const char *args[2];
    if (tz_page_or_422(q, &args[0], &args[1]) != OK)
        return OK;
    return send_result(q, TZ_Q_AUDIT_LOG, args);
}
