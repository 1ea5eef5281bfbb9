/* /auth/email and /auth/password: verification of an address and reset of
 * a forgotten password, by single-use expiring tokens sent by mail
 * (docs/accounts.md).  A token is made here (tz_token.c), stored only as
 * its hash, and travels to the mail dispatcher sealed to its mail's id;
 * no token, nor its hash, is ever logged. */
#include "mod_tipzed_accounts.h"
#include "mod_tipzed_billing.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_ratelimit.h"
#include "tz_password.h"
#include "tz_schema.h"
#include "tz_token.h"
#include "tz_validate.h"

/* Verification mails one account may ask for per window, on top of the
 * one of registration: enough for a lost mail, too few to flood a box. */
#define TZ_VERIFY_MAILS 3
#define TZ_VERIFY_WINDOW (15 * 60)

/* A new token for a mail: the hash to store, the mail's id, and the token
 * sealed to that id (args[0..2]).  -1 when randomness fails. */
static int mailed_token(tz_req_t *q, const char **args)
{
    apr_pool_t *p = q->r->pool;
    const char *token, *hash, *id = tz_uuid4(p);
    if (!id || tz_token_new(p, &token, &hash) != 0)
        return -1;
    args[0] = hash;
    args[1] = id;
    args[2] = tz_aead_seal(p, (const tz_aead_key_t *)q->cfg->enc_keys->elts,
                           apr_pstrcat(p, "mail:", id, NULL), token, strlen(token));
    return args[2] ? 0 : -1;
}

/* The mail's token, its lifetime and the clock: args of the _send and
 * _forgot statements after their first one.  -1 on failure. */
static int token_args(tz_req_t *q, const char **args, apr_int64_t ttl)
{
    if (mailed_token(q, args) != 0)
        return -1;
    args[3] = apr_psprintf(q->r->pool, "%" APR_INT64_T_FMT, ttl);
    args[4] = tz_billing_sandbox(q->cfg);
    return 0;
}

static int no_randomness(request_rec *r)
{
    return tz_send_problem(r, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                           "no randomness for a token now; try again");
}

int tz_send_email_unverified(request_rec *r)
{
    return tz_send_problem(r, HTTP_FORBIDDEN, "email_unverified",
                           "verify your email address first (POST /auth/email/verify/send "
                           "sends the mail again)");
}

int tz_accounts_send_verification(tz_req_t *q, const char *user_id)
{
    const char *args[6] = {user_id};
    json_t *res;
    if (token_args(q, args + 1, q->cfg->verify_ttl) != 0 ||
        tz_db_json(q->r, TZ_Q_EMAIL_VERIFY_SEND, args, &res) != OK || !res) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, q->r, APLOGNO(10730)
                      "tipzed: the verification mail of user %s was not queued; "
                      "the user may ask for it again", user_id);
        return DONE;
    }
    return OK;
}

/* POST /auth/email/verify/send: the verification mail again, at most
 * TZ_VERIFY_MAILS per TZ_VERIFY_WINDOW -> 202 {"status": "sent"}. */
int tz_h_email_verify_send(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[6] = {q->user.id}, *key = apr_pstrcat(r->pool, "verify-mail:", q->user.id,
                                                            NULL), *err;
    apr_int64_t wait;
    json_t *res;
    if (q->body && json_object_size(q->body))
        return tz_send_invalid(r, json_object_iter_key(json_object_iter(q->body)),
                               "is not a known field");
    if ((wait = tz_rl_begin(r, &key, 1, TZ_VERIFY_MAILS, TZ_VERIFY_WINDOW))) {
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_psprintf(r->pool, "%" APR_INT64_T_FMT, wait));
        return tz_send_problem(r, HTTP_TOO_MANY_REQUESTS, "too_many_requests",
                               "too many verification mails; retry later");
    }
    if (token_args(q, args + 1, q->cfg->verify_ttl) != 0)
        return no_randomness(r);
    if (tz_db_json(r, TZ_Q_EMAIL_VERIFY_SEND, args, &res) != OK || !res)
        return tz_send_db_unavailable(r);
    if ((err = tz_json_str(res, "error")) && strcmp(err, "already_verified") == 0)
        return tz_send_problem(r, HTTP_CONFLICT, "already_verified",
                               "the email address is verified already");
    if (err)
        return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "the account no longer exists");
    return tz_send_json(r, HTTP_ACCEPTED, res);
}

/* 400 invalid_token: one answer for a token never issued, used, expired
 * or malformed. */
static int invalid_token(request_rec *r)
{
    return tz_send_field_problem(r, HTTP_BAD_REQUEST, "invalid_token", "token",
                                 "is invalid, expired or already used");
}

/* Uses the body's token: its hash as args[0], the clock as args[last],
 * then the statement.  OK with *res, or DONE with the answer sent. */
static int use_token(tz_req_t *q, tz_query_e stmt, const char **args, int last, json_t **res)
{
    request_rec *r = q->r;
    if (!(args[0] = tz_token_hash(r->pool, tz_json_str(q->body, "token"))))
        return invalid_token(r), DONE;
    args[last] = tz_billing_sandbox(q->cfg);
    if (tz_db_json(r, stmt, args, res) != OK || !*res)
        return tz_send_db_unavailable(r), DONE;
    if (tz_json_str(*res, "error"))
        return invalid_token(r), DONE;
    return OK;
}

/* POST /auth/email/verify {token} -> 200 the user, email_verified true. */
int tz_h_email_verify(tz_req_t *q)
{
    const char *args[2];
    json_t *res;
    if (tz_validate_or_422(q, &tz_schema_email_token) ||
        use_token(q, TZ_Q_EMAIL_VERIFY, args, 1, &res) != OK)
        return OK;
    return tz_send_json(q->r, HTTP_OK, json_object_get(res, "user"));
}

/* POST /auth/password/forgot {email} -> 202, the same answer whether the
 * address has an account or not; both ways make a token, seal it and make
 * the one database call, so the time taken tells nothing either. */
int tz_h_password_forgot(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[6];
    json_t *res;
    if (tz_validate_or_422(q, &tz_schema_forgot))
        return OK;
    args[0] = tz_json_str(q->body, "email");
    if (!tz_email_ok(args[0])) /* no account can have it: this tells nothing */
        return tz_send_invalid(r, "email", "is not a valid email address");
    if (token_args(q, args + 1, q->cfg->reset_ttl) != 0)
        return no_randomness(r);
    if (tz_db_json(r, TZ_Q_PASSWORD_FORGOT, args, &res) != OK || !res)
        return tz_send_db_unavailable(r);
    return tz_send_json(r, HTTP_ACCEPTED, tz_json_pool(r->pool, json_pack(
        "{s:s, s:s}", "status", "accepted", "detail",
        "if an account has this address, a reset link is on its way")));
}

/* POST /auth/password/reset {token, password} -> 204; every session of the
 * account ends.  The password is hashed before the token is looked at, so
 * a wrong token costs the same time as a right one. */
int tz_h_password_reset(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[3], *id;
    json_t *res;
    if (tz_validate_or_422(q, &tz_schema_reset))
        return OK;
    args[1] = tz_password_hash(r->pool, tz_json_str(q->body, "password"));
    if (!args[1])
        return tz_send_problem(r, HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot hash password");
    if (use_token(q, TZ_Q_PASSWORD_RESET, args, 2, &res) != OK)
        return OK;
    id = tz_json_str(res, "user_id");
    apr_table_setn(r->notes, "tipzed-user", id);
    tz_audit(q, id, "user.password_reset", "user", id, tz_client_ip(r));
    return tz_send_no_content(r);
}
