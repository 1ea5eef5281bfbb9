/* Operator controls: suspend and reinstate a user, freeze and unfreeze a
 * user's wallets, list users; and privacy: the caller's export and the
 * deletion of their account.  The rules are in SQL (71_operator.sql, and
 * 26_account_status.sql for what the money movements read); here the
 * requests are checked and the answers mapped (docs/accounts.md). */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_list.h"
#include "mod_tipzed_operator.h"
#include "mod_tipzed_ratelimit.h"
#include "tz_password.h"
#include "tz_problem.h"
#include "tz_schema.h"
#include "tz_validate.h"

static const struct {
    const char *code;
    int status;
    const char *detail;
} refusals[] = {
    {"account_suspended", HTTP_FORBIDDEN, "your account is suspended"},
    {"account_closed", HTTP_FORBIDDEN, "your account is deleted"},
    {"wallet_frozen", HTTP_CONFLICT, "the wallet is frozen: nothing but refunds and disputes "
                                     "may be taken from it"},
    {"creator_suspended", HTTP_CONFLICT, "the creator's account is suspended"},
    {"creator_closed", HTTP_CONFLICT, "the creator's account is deleted"},
    {"recipient_suspended", HTTP_CONFLICT, "the recipient's account is suspended"},
    {"recipient_closed", HTTP_CONFLICT, "the recipient's account is deleted"},
};
#define N_REFUSALS (sizeof(refusals) / sizeof(refusals[0]))

static int refusal_at(const char *err)
{
    for (size_t i = 0; err && i < N_REFUSALS; i++)
        if (strcmp(err, refusals[i].code) == 0)
            return (int)i;
    return -1;
}

int tz_is_refusal(const char *err)
{
    return refusal_at(err) >= 0;
}

int tz_send_refusal(request_rec *r, const char *err)
{
    int i = refusal_at(err);
    if (i < 0)
        return tz_send_problem(r, HTTP_CONFLICT, "conflict", err);
    return tz_send_problem(r, refusals[i].status, refusals[i].code, refusals[i].detail);
}

/* One operator action on a user ({id}): suspend, reinstate, freeze,
 * unfreeze, with the body's reason; the user as GET /admin/users shows it. */
static int user_action(tz_req_t *q, tz_query_e query, const char *action)
{
    request_rec *r = q->r;
    const char *args[5], *err;
    json_t *res;
    if (tz_validate_or_422(q, &tz_schema_ops_reason))
        return OK;
    if (!tz_is_uuid(q->id))
        return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "no such user");
    args[0] = q->id;
    args[1] = action;
    args[2] = q->user.id;
    args[3] = tz_json_str(q->body, "reason");
    args[4] = q->request_id;
    if (tz_db_json(r, query, args, &res) != OK || !res)
        return tz_send_db_unavailable(r);
    if (!(err = tz_json_str(res, "error")))
        return tz_send_json(r, HTTP_OK, res);
    if (strcmp(err, "not_found") == 0)
        return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "no such user");
    if (strcmp(err, "own_account") == 0)
        return tz_send_problem(r, HTTP_FORBIDDEN, "own_account",
                               apr_psprintf(r->pool, "an admin cannot %s their own account",
                                            action));
    return tz_send_problem(r, HTTP_CONFLICT, "invalid_transition",
                           apr_psprintf(r->pool, "cannot %s: the user is %s", action,
                                        tz_json_str(res, "status")));
}

int tz_h_admin_user_suspend(tz_req_t *q)
{
    return user_action(q, TZ_Q_ADMIN_USER_STATUS, "suspend");
}

int tz_h_admin_user_reinstate(tz_req_t *q)
{
    return user_action(q, TZ_Q_ADMIN_USER_STATUS, "reinstate");
}

int tz_h_admin_wallet_freeze(tz_req_t *q)
{
    return user_action(q, TZ_Q_ADMIN_WALLET_FREEZE, "freeze");
}

int tz_h_admin_wallet_unfreeze(tz_req_t *q)
{
    return user_action(q, TZ_Q_ADMIN_WALLET_FREEZE, "unfreeze");
}

static const char *const user_cols[] = {"id", "email", "full_name", "role", "status",
                                        "status_reason", "status_changed_at", "wallet_frozen",
                                        "wallet_freeze_reason", "created_at"};

/* GET /admin/users?status=active|suspended|deleted&role=&frozen=true|false&q=
 * (q: an email prefix, any case), newest first. */
int tz_h_admin_users(tz_req_t *q)
{
    static const tz_list_t list = {TZ_Q_ADMIN_USERS, "users", TZ_CURSOR_UUID, user_cols, 10,
                                   NULL, NULL};
    const char *args[7] = {tz_query_arg(q->r, "status"), tz_query_arg(q->r, "role"),
                           tz_query_arg(q->r, "frozen"), tz_query_arg(q->r, "q"), NULL, NULL,
                           NULL};
    if (args[0] && strcmp(args[0], "active") && strcmp(args[0], "suspended")
        && strcmp(args[0], "deleted"))
        return tz_send_invalid(q->r, "status", "must be active, suspended or deleted");
    if (args[1] && strcmp(args[1], "fan") && strcmp(args[1], "creator") && strcmp(args[1], "admin"))
        return tz_send_invalid(q->r, "role", "must be fan, creator or admin");
    if (args[2] && strcmp(args[2], "true") && strcmp(args[2], "false"))
        return tz_send_invalid(q->r, "frozen", "must be true or false");
    if (args[3] && (!*args[3] || strlen(args[3]) > 254))
        return tz_send_invalid(q->r, "q", "must be 1 to 254 characters");
    return tz_list(q, &list, args, 7);
}

/* GET /auth/me/export: one JSON document, offered as a file. */
int tz_h_me_export(tz_req_t *q)
{
    const char *args[1] = {q->user.id};
    json_t *res;
    if (tz_db_json(q->r, TZ_Q_ME_EXPORT, args, &res) != OK)
        return tz_send_db_unavailable(q->r);
    if (!res)
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "the account no longer exists");
    apr_table_setn(q->r->headers_out, "Content-Disposition",
                   "attachment; filename=\"tipzed-export.json\"");
    return tz_send_json(q->r, HTTP_OK, res);
}

/* Checks the body's password against the caller's, counted like logins
 * (per account); 1 when it matches, else 0 with the problem sent. */
static int reauthenticated(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *key = apr_pstrcat(r->pool, "reauth:", q->user.id, NULL);
    const char *args[1] = {q->user.id}, *hash;
    apr_int64_t wait;
    if ((wait = tz_rl_begin(r, &key, 1, (unsigned)q->cfg->rl_count, q->cfg->rl_window))) {
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_psprintf(r->pool, "%" APR_INT64_T_FMT, wait));
        return tz_send_problem(r, HTTP_TOO_MANY_REQUESTS, "too_many_attempts",
                               "too many wrong passwords; retry later"), 0;
    }
    if (tz_db_value(r, TZ_Q_ME_PASSWORD, args, &hash) != OK)
        return tz_send_db_unavailable(r), 0;
    if (!hash)
        return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "the account no longer exists"), 0;
    if (tz_password_verify(r->pool, tz_json_str(q->body, "password"), hash) != 1)
        return tz_send_field_problem(r, HTTP_FORBIDDEN, "invalid_password", "password",
                                     "is not your password"), 0;
    tz_rl_succeeded(r, key, key);
    return 1;
}

/* DELETE /auth/me {password}: the account anonymised (71_operator.sql). */
int tz_h_me_delete(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[2] = {q->user.id, q->request_id}, *err;
    json_t *res;
    if (tz_validate_or_422(q, &tz_schema_me_delete) || !reauthenticated(q))
        return OK;
    if (tz_db_json(r, TZ_Q_ME_DELETE, args, &res) != OK || !res)
        return tz_send_db_unavailable(r);
    if (!(err = tz_json_str(res, "error")))
        return tz_send_no_content(r);
    if (strcmp(err, "balance_not_zero") == 0) {
        json_t *p = tz_problem_new(r->pool, HTTP_CONFLICT, err,
                                   "a wallet balance is not zero: spend, "
                                   "transfer or pay it out first", NULL);
        json_object_set(p, "accounts", json_object_get(res, "accounts"));
        return tz_send_problem_json(r, HTTP_CONFLICT, p);
    }
    if (strcmp(err, "payout_open") == 0)
        return tz_send_problem(r, HTTP_CONFLICT, err,
                               "a payout is pending, approved or processing: wait for it or "
                               "cancel it first");
    if (strcmp(err, "admin_account") == 0)
        return tz_send_problem(r, HTTP_CONFLICT, err,
                               "an admin account cannot delete itself");
    return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "the account no longer exists");
}
