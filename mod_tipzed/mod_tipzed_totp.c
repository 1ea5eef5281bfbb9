/* Two-factor authentication: POST /auth/login/totp (the login's second
 * step), POST /auth/totp/setup|enable|disable, the code a payout needs;
 * and the sessions: GET /auth/sessions, DELETE /auth/sessions/{id},
 * POST /auth/logout/all.  The TOTP rules are tz_totp.c's; secrets are
 * sealed with TipzedEncryptionKeyFile bound to "totp:<user id>". */
#include "mod_tipzed_totp.h"
#include "mod_tipzed_auth.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_ratelimit.h"
#include "tz_schema.h"
#include "tz_totp.h"

#define TZ_MFA_TTL 300    /* seconds a login's second step stays open */
#define TZ_MFA_BYTES 32

/* 1 when code is a right code of the sealed secret (*step: its step), 0
 * when not, -1 when the secret does not open (logged: a key removed from
 * TipzedEncryptionKeyFile, a tampered row). */
static int code_matches(tz_req_t *q, const char *user_id, const char *sealed, const char *code,
                        long long *step)
{
    request_rec *r = q->r;
    char *b32;
    unsigned char *key;
    size_t len;
    if (!sealed || tz_aead_open(r->pool, (const tz_aead_key_t *)q->cfg->enc_keys->elts,
                                (size_t)q->cfg->enc_keys->nelts, tz_totp_context(r->pool, user_id),
                                sealed, &b32, &len) != 0 ||
        tz_base32_decode(r->pool, b32, &key, &len) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APLOGNO(10740)
                      "tipzed: the TOTP secret of user %s does not open", user_id);
        return -1;
    }
    return tz_totp_match(key, len, code, apr_time_sec(apr_time_now()), step);
}

static int secret_broken(request_rec *r)
{
    return tz_send_problem(r, HTTP_INTERNAL_SERVER_ERROR, "internal",
                           "the two-factor secret cannot be read");
}

int tz_totp_challenge(tz_req_t *q, const char *user_id)
{
    request_rec *r = q->r;
    const char *token = tz_random_hex(r->pool, TZ_MFA_BYTES), *args[5], *ignored;
    if (!token)
        return tz_send_problem(r, HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot issue tokens");
    args[0] = user_id;
    args[1] = tz_sha256_hex(r->pool, token, strlen(token));
    args[2] = apr_psprintf(r->pool, "%d", TZ_MFA_TTL);
    args[3] = tz_client_ip(r);
    args[4] = apr_table_get(r->headers_in, "User-Agent");
    if (tz_db_value(r, TZ_Q_MFA_ISSUE, args, &ignored) != OK)
        return tz_send_db_unavailable(r);
    return tz_send_json(r, HTTP_OK, tz_json_pool(r->pool, json_pack(
        "{s:b, s:s, s:[s,s], s:i}", "mfa_required", 1, "mfa_token", token, "methods", "totp",
        "recovery", "expires_in", TZ_MFA_TTL)));
}

/* The second step's answer to a code or recovery code: finish in SQL with
 * the matched step, the recovery code's hash, or neither (wrong). */
static int finish_args(tz_req_t *q, json_t *peek, const char *code, const char *recovery,
                       const char **args)
{
    long long step;
    const char *norm;
    args[1] = args[2] = NULL;
    if (code) {
        int m = code_matches(q, tz_json_str(peek, "user_id"), tz_json_str(peek, "secret_enc"),
                             code, &step);
        if (m < 0)
            return -1;
        if (m)
            args[1] = apr_psprintf(q->r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)step);
    } else if ((norm = tz_recovery_code_normalize(q->r->pool, recovery))) {
        args[2] = tz_sha256_hex(q->r->pool, norm, strlen(norm));
    }
    return 0;
}

int tz_h_login_totp(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *code, *recovery, *tok, *args[3], *keys[2], *id, *err;
    json_t *peek, *res;
    apr_int64_t wait;
    if (tz_validate_or_422(q, &tz_schema_login_totp))
        return OK;
    code = tz_json_str(q->body, "code");
    recovery = tz_json_str(q->body, "recovery_code");
    if (!code == !recovery)
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed", "code",
                                     "give exactly one of code and recovery_code");
    tok = tz_json_str(q->body, "mfa_token");
    args[0] = tz_sha256_hex(r->pool, tok, strlen(tok));
    if (tz_db_json(r, TZ_Q_MFA_PEEK, args, &peek) != OK)
        return tz_send_db_unavailable(r);
    if (!peek)
        return tz_send_field_problem(r, HTTP_UNAUTHORIZED, "invalid_token", "mfa_token",
                                     "is unknown, used, expired or burnt by wrong codes");
    id = tz_json_str(peek, "user_id");
    keys[0] = apr_pstrcat(r->pool, "ip:", tz_client_ip(r), NULL);
    keys[1] = apr_pstrcat(r->pool, "totp:", id, NULL);
    if ((wait = tz_rl_begin(r, keys, 2, (unsigned)q->cfg->rl_count, q->cfg->rl_window)))
        return tz_too_many(r, wait);
    if (finish_args(q, peek, code, recovery, args) != 0)
        return secret_broken(r);
    if (tz_db_json(r, TZ_Q_MFA_FINISH, args, &res) != OK || !res)
        return tz_send_db_unavailable(r);
    if ((err = tz_json_str(res, "error")))
        return tz_send_field_problem(r, HTTP_UNAUTHORIZED, "invalid_code",
                                     code ? "code" : "recovery_code",
                                     strcmp(err, "replay") == 0 ? "was used already"
                                     : strcmp(err, "invalid") == 0 ? "cannot be checked: the "
                                     "mfa_token is no longer valid" : "is wrong");
    tz_rl_succeeded(r, keys[0], keys[1]);
    apr_table_setn(r->notes, "tipzed-user", id);
    if (strcmp(tz_json_str(peek, "role"), "admin") == 0)
        tz_audit(q, id, "admin.login", "user", id, tz_client_ip(r));
    return tz_auth_new_session(q, json_object_get(res, "user"), HTTP_OK);
}

/* The caller's two-factor state ({role, email, secret_enc, enabled}), or
 * NULL after answering 503 / 401. */
static json_t *state_of(tz_req_t *q)
{
    const char *args[1] = {q->user.id};
    json_t *st;
    if (tz_db_json(q->r, TZ_Q_TOTP_STATE, args, &st) != OK) {
        tz_send_db_unavailable(q->r);
        return NULL;
    }
    if (!st)
        tz_send_problem(q->r, HTTP_UNAUTHORIZED, "invalid_token", "the account no longer exists");
    return st;
}

int tz_h_totp_setup(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[2], *secret = tz_totp_secret_new(r->pool), *err;
    json_t *st, *res;
    if (!(st = state_of(q)))
        return OK;
    if (!secret || !(args[1] = tz_aead_seal(r->pool, (const tz_aead_key_t *)q->cfg->enc_keys->elts,
                                            tz_totp_context(r->pool, q->user.id), secret,
                                            strlen(secret))))
        return tz_send_problem(r, HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot make a secret");
    args[0] = q->user.id;
    if (tz_db_json(r, TZ_Q_TOTP_SETUP, args, &res) != OK || !res)
        return tz_send_db_unavailable(r);
    if ((err = tz_json_str(res, "error")))
        return tz_send_problem(r, HTTP_CONFLICT, "totp_enabled",
                               "two-factor is on already: disable it first");
    return tz_send_json(r, HTTP_OK, tz_json_pool(r->pool, json_pack("{s:s, s:s, s:i, s:i, s:s}",
        "secret", secret, "otpauth_uri", tz_totp_uri(r->pool, TZ_TOTP_ISSUER,
                                                     tz_json_str(st, "email"), secret),
        "digits", TZ_TOTP_DIGITS, "period", TZ_TOTP_PERIOD, "algorithm", "SHA1")));
}

/* TZ_RECOVERY_CODES fresh codes: *codes (a JSON array, shown once) and
 * their hashes as a PostgreSQL array literal (NULL on failure). */
static const char *recovery_codes(apr_pool_t *p, json_t **codes)
{
    const char *c[TZ_RECOVERY_CODES], *hashes;
    if (tz_recovery_codes_new(p, c, &hashes) != 0)
        return NULL;
    *codes = tz_json_pool(p, json_array());
    for (int i = 0; i < TZ_RECOVERY_CODES; i++)
        json_array_append_new(*codes, json_string(c[i]));
    return hashes;
}

/* A code given to enable or disable: 1 with *step, or 0 after answering. */
static int code_step(tz_req_t *q, const char *sealed, long long *step)
{
    int m = code_matches(q, q->user.id, sealed, tz_json_str(q->body, "code"), step);
    if (m < 0)
        return secret_broken(q->r), 0;
    if (!m)
        return tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "invalid_code", "code",
                                     "is not the current code of the authenticator"), 0;
    return 1;
}

static int used_code(request_rec *r)
{
    return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "invalid_code", "code",
                                 "was used already: wait for the next one");
}

int tz_h_totp_enable(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[4], *sealed, *err;
    json_t *st, *res, *codes;
    long long step;
    if (tz_validate_or_422(q, &tz_schema_totp_code) || !(st = state_of(q)))
        return OK;
    if (json_is_true(json_object_get(st, "enabled")))
        return tz_send_problem(r, HTTP_CONFLICT, "totp_enabled", "two-factor is on already");
    if (!(sealed = tz_json_str(st, "secret_enc")))
        return tz_send_problem(r, HTTP_CONFLICT, "totp_not_set_up",
                               "call POST /auth/totp/setup first");
    if (!code_step(q, sealed, &step))
        return OK;
    if (!(args[3] = recovery_codes(r->pool, &codes)))
        return tz_send_problem(r, HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot make codes");
    args[0] = q->user.id;
    args[1] = sealed;
    args[2] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)step);
    if (tz_db_json(r, TZ_Q_TOTP_ENABLE, args, &res) != OK || !res)
        return tz_send_db_unavailable(r);
    if ((err = tz_json_str(res, "error")) && strcmp(err, "replay") == 0)
        return used_code(r);
    if (err)
        return tz_send_problem(r, HTTP_CONFLICT, "totp_changed",
                               "the setup changed meanwhile: set up again");
    return tz_send_json(r, HTTP_OK, tz_json_pool(r->pool, json_pack("{s:b, s:O}", "enabled", 1,
                                                                     "recovery_codes", codes)));
}

/* Uses a fresh code of the caller's enabled secret, and with disable
 * turns two-factor off: OK, or DONE once answered. */
static int use_code(tz_req_t *q, json_t *st, const char *code, int disable)
{
    request_rec *r = q->r;
    const char *args[3], *err;
    const char *field = disable ? "code" : "totp_code";
    json_t *res;
    long long step;
    int m = code_matches(q, q->user.id, tz_json_str(st, "secret_enc"), code, &step);
    if (m < 0)
        return secret_broken(r), DONE;
    if (!m)
        return tz_send_field_problem(r, disable ? HTTP_UNPROCESSABLE_ENTITY : HTTP_FORBIDDEN,
                                     "invalid_code", field,
                                     "is not the current code of the authenticator"), DONE;
    args[0] = q->user.id;
    args[1] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)step);
    args[2] = disable ? "true" : "false";
    if (tz_db_json(r, TZ_Q_TOTP_USE, args, &res) != OK || !res)
        return tz_send_db_unavailable(r), DONE;
    if ((err = tz_json_str(res, "error")) && strcmp(err, "replay") == 0)
        return tz_send_field_problem(r, disable ? HTTP_UNPROCESSABLE_ENTITY : HTTP_FORBIDDEN,
                                     "invalid_code", field,
                                     "was used already: wait for the next one"), DONE;
    if (err)
        return tz_send_problem(r, HTTP_CONFLICT, "totp_not_enabled", "two-factor is off"), DONE;
    return OK;
}

int tz_h_totp_disable(tz_req_t *q)
{
    json_t *st;
    if (tz_validate_or_422(q, &tz_schema_totp_code) || !(st = state_of(q)))
        return OK;
    if (!json_is_true(json_object_get(st, "enabled")))
        return tz_send_problem(q->r, HTTP_CONFLICT, "totp_not_enabled", "two-factor is off");
    /* an admin keeps two-factor while TipzedAdminTOTP is On: without it the
     * account could no longer log in */
    if (strcmp(tz_json_str(st, "role"), "admin") == 0 && q->cfg->admin_totp)
        return tz_send_problem(q->r, HTTP_FORBIDDEN, "forbidden",
                               "an admin cannot turn two-factor off (TipzedAdminTOTP On)");
    if (use_code(q, st, tz_json_str(q->body, "code"), 1) != OK)
        return OK;
    return tz_send_no_content(q->r);
}

int tz_totp_require(tz_req_t *q, const char *code)
{
    json_t *st = state_of(q);
    if (!st)
        return DONE;
    if (!json_is_true(json_object_get(st, "enabled")))
        return OK;
    if (!code) {
        tz_send_field_problem(q->r, HTTP_FORBIDDEN, "totp_required", "totp_code",
                              "is required: two-factor is on for this account");
        return DONE;
    }
    return use_code(q, st, code, 0);
}

int tz_h_sessions_list(tz_req_t *q)
{
    const char *args[2] = {q->user.id, q->user.session};
    json_t *res;
    if (tz_db_json(q->r, TZ_Q_SESSIONS_LIST, args, &res) != OK || !res)
        return tz_send_db_unavailable(q->r);
    return tz_send_json(q->r, HTTP_OK,
                        tz_json_pool(q->r->pool, json_pack("{s:O}", "sessions", res)));
}

int tz_h_session_revoke(tz_req_t *q)
{
    const char *args[2] = {q->user.id, q->id};
    json_t *res;
    if (tz_db_json(q->r, TZ_Q_SESSION_REVOKE, args, &res) != OK || !res)
        return tz_send_db_unavailable(q->r);
    if (tz_json_int(res, "revoked", 0) == 0)
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such session");
    return tz_send_no_content(q->r);
}

int tz_h_logout_all(tz_req_t *q)
{
    const char *args[1] = {q->user.id};
    json_t *res;
    if (tz_db_json(q->r, TZ_Q_SESSIONS_REVOKE_ALL, args, &res) != OK || !res)
        return tz_send_db_unavailable(q->r);
    return tz_send_no_content(q->r);
}
