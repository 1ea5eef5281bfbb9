/* /auth: register, login, refresh (rotation with reuse detection), logout,
 * me; and bearer-token authentication for every protected route. */
#include "mod_tipzed_auth.h"
#include "mod_tipzed_accounts.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_ratelimit.h"
#include "mod_tipzed_totp.h"
#include "tz_password.h"
#include "tz_schema.h"
#include "tz_validate.h"

#define TZ_REFRESH_BYTES 32 /* 256-bit opaque refresh tokens */

static int unauthorized(request_rec *r, int invalid, const char *detail)
{
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   invalid ? "Bearer realm=\"tipzed\", error=\"invalid_token\""
                           : "Bearer realm=\"tipzed\"");
    tz_send_problem(r, HTTP_UNAUTHORIZED, invalid ? "invalid_token" : "unauthorized", detail);
    return HTTP_UNAUTHORIZED;
}

int tz_authenticate(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *h = apr_table_get(r->headers_in, "Authorization");
    tz_claims_t cl;
    if (!h || !*h)
        return unauthorized(r, 0, "authentication is required");
    if (strncasecmp(h, "Bearer ", 7) != 0)
        return unauthorized(r, 1, "use a Bearer access token");
    if (tz_jwt_verify(r->pool, &q->cfg->jwt, h + 7, apr_time_sec(apr_time_now()), &cl) != TZ_JWT_OK)
        return unauthorized(r, 1, "the access token is invalid or expired");
    q->user.id = cl.sub;
    q->user.role = cl.role;
    q->user.session = tz_jti_session(r->pool, cl.jti);
    apr_table_setn(r->notes, "tipzed-user", cl.sub);
    return OK;
}

/* An access token's jti is "<session id>.<random>": the session (refresh
 * token family) it was issued for, so that GET /auth/sessions can say which
 * session is the caller's without another claim. */
static char *issue_access(tz_req_t *q, const char *id, const char *role, const char *family)
{
    const char *jti = apr_pstrcat(q->r->pool, family, ".", tz_random_hex(q->r->pool, 16), NULL);
    return tz_jwt_issue(q->r->pool, &q->cfg->jwt, id, role, jti, apr_time_sec(apr_time_now()),
                        q->cfg->access_ttl);
}

const char *tz_jti_session(apr_pool_t *p, const char *jti)
{
    const char *dot = jti ? strchr(jti, '.') : NULL;
    return dot && dot - jti == 36 ? apr_pstrmemdup(p, jti, 36) : NULL;
}

/* Issues an access token and a new refresh token family (a session) for
 * user, then answers {access_token, refresh_token, token_type, expires_in,
 * user}. */
int tz_auth_new_session(tz_req_t *q, json_t *user, int status)
{
    request_rec *r = q->r;
    const char *id = json_string_value(json_object_get(user, "id"));
    const char *role = json_string_value(json_object_get(user, "role"));
    const char *refresh = tz_random_hex(r->pool, TZ_REFRESH_BYTES);
    const char *args[6], *ignored;
    int rc;
    if (!id || !role || !refresh || !(args[3] = tz_uuid4(r->pool)))
        return tz_send_problem(r, HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot issue tokens");
    args[0] = id;
    args[1] = tz_sha256_hex(r->pool, refresh, strlen(refresh));
    args[2] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, q->cfg->refresh_ttl);
    args[4] = tz_client_ip(r);
    args[5] = apr_table_get(r->headers_in, "User-Agent");
    if ((rc = tz_db_value(r, TZ_Q_REFRESH_ISSUE, args, &ignored)) != OK)
        return tz_send_db_unavailable(r);
    char *access = issue_access(q, id, role, args[3]);
    if (!access)
        return tz_send_problem(r, HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot issue tokens");
    json_t *out = tz_json_pool(r->pool, json_pack("{s:s, s:s, s:s, s:I, s:O}",
        "access_token", access, "refresh_token", refresh, "token_type", "Bearer",
        "expires_in", (json_int_t)q->cfg->access_ttl, "user", user));
    return tz_send_json(r, status, out);
}

/* The referrer's code, if the body names one: args[4] is it in upper case,
 * or NULL.  1 after answering 422 for a string that cannot be a code. */
static int referral_arg(tz_req_t *q, const char **args)
{
    const char *code = tz_json_str(q->body, "referral_code");
    args[4] = code ? tz_referral_code_normalize(q->r->pool, code) : NULL;
    if (code && !args[4]) {
        tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                              "referral_code", "is not a referral code");
        return 1;
    }
    return 0;
}

int tz_h_register(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[5], *role, *err;
    json_t *res;
    int rc;
    if (tz_validate_or_422(q, &tz_schema_register))
        return OK;
    args[0] = tz_json_str(q->body, "email");
    role = tz_json_str(q->body, "role");
    if (!tz_email_ok(args[0]))
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                     "email", "is not a valid email address");
    if (strcmp(role, "fan") != 0 && strcmp(role, "creator") != 0)
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                     "role", "must be \"fan\" or \"creator\"");
    if (referral_arg(q, args))
        return OK;
    args[1] = tz_json_str(q->body, "full_name");
    args[2] = role;
    args[3] = tz_password_hash(r->pool, tz_json_str(q->body, "password"));
    if (!args[3])
        return tz_send_problem(r, HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot hash password");
    if ((rc = tz_db_json(r, TZ_Q_REGISTER, args, &res)) != OK || !res)
        return tz_send_db_unavailable(r);
    if ((err = tz_json_str(res, "error")) && strcmp(err, "referral_code_unknown") == 0)
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                     "referral_code", "is not a known referral code");
    if (err)
        return tz_send_field_problem(r, HTTP_CONFLICT, "email_taken", "email",
                                     "is already registered");
    /* the address is proven by the mail (docs/accounts.md); a mail that
     * could not be queued is logged, and the user can ask for it again */
    tz_accounts_send_verification(q, tz_json_str(json_object_get(res, "user"), "id"));
    return tz_auth_new_session(q, json_object_get(res, "user"), HTTP_CREATED);
}

int tz_too_many(request_rec *r, apr_int64_t wait)
{
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT, wait));
    return tz_send_problem(r, HTTP_TOO_MANY_REQUESTS, "too_many_attempts",
                           "too many failed logins; retry later");
}

/* One answer for an unknown email and a wrong password; the attempt was
 * counted before the password was checked. */
static int login_failed(tz_req_t *q)
{
    return tz_send_problem(q->r, HTTP_UNAUTHORIZED, "invalid_credentials",
                           "the email or password is wrong");
}

int tz_h_login(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[1], *email, *keys[2], *id, *role;
    apr_int64_t wait;
    json_t *found;
    if (tz_validate_or_422(q, &tz_schema_login))
        return OK;
    email = tz_json_str(q->body, "email");
    keys[0] = apr_pstrcat(r->pool, "ip:", tz_client_ip(r), NULL);
    keys[1] = apr_pstrcat(r->pool, "email:", email, NULL);
    ap_str_tolower((char *)keys[1]);
    if ((wait = tz_rl_begin(r, keys, 2, (unsigned)q->cfg->rl_count, q->cfg->rl_window)))
        return tz_too_many(r, wait);
    args[0] = email;
    if (tz_db_json(r, TZ_Q_USER_BY_EMAIL, args, &found) != OK)
        return tz_send_db_unavailable(r);
    if (!found) {
        tz_password_burn(r->pool, tz_json_str(q->body, "password"));
        return login_failed(q);
    }
    if (tz_password_verify(r->pool, tz_json_str(q->body, "password"),
                           tz_json_str(found, "password_hash")) != 1)
        return login_failed(q);
    /* told only to whoever knows the password */
    if (tz_json_str(found, "status") && strcmp(tz_json_str(found, "status"), "active") != 0)
        return tz_send_problem(r, HTTP_FORBIDDEN, "account_suspended",
                               "your account is suspended; contact support");
    /* the address keeps its other attempts; the account starts afresh */
    tz_rl_succeeded(r, keys[0], keys[1]);
    id = tz_json_str(found, "id");
    role = tz_json_str(found, "role");
    apr_table_setn(r->notes, "tipzed-user", id);
    /* with two-factor on, the password only opens the second step */
    if (json_is_true(json_object_get(found, "totp")))
        return tz_totp_challenge(q, id);
    if (role && strcmp(role, "admin") == 0 && q->cfg->admin_totp)
        return tz_send_problem(r, HTTP_FORBIDDEN, "totp_enrolment_required",
                               "an admin logs in with a TOTP code: enrol this account with "
                               "tipzedctl admin-totp");
    if (role && strcmp(role, "admin") == 0)
        tz_audit(q, id, "admin.login", "user", id, tz_client_ip(r));
    return tz_auth_new_session(q, json_object_get(found, "user"), HTTP_OK);
}

int tz_h_refresh(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[5], *fresh, *old;
    json_t *res, *user;
    int rc;
    if (tz_validate_or_422(q, &tz_schema_refresh))
        return OK;
    old = tz_json_str(q->body, "refresh_token");
    fresh = tz_random_hex(r->pool, TZ_REFRESH_BYTES);
    args[0] = tz_sha256_hex(r->pool, old, strlen(old));
    args[1] = tz_sha256_hex(r->pool, fresh, strlen(fresh));
    args[2] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, q->cfg->refresh_ttl);
    args[3] = tz_client_ip(r);
    args[4] = apr_table_get(r->headers_in, "User-Agent");
    if ((rc = tz_db_json(r, TZ_Q_REFRESH_ROTATE, args, &res)) != OK || !res)
        return tz_send_db_unavailable(r);
    user = json_object_get(res, "user");
    if (!user)
        return unauthorized(r, 1, "the refresh token is invalid, expired or revoked"), OK;
    const char *id = json_string_value(json_object_get(user, "id"));
    const char *role = json_string_value(json_object_get(user, "role"));
    const char *family = tz_json_str(res, "family_id");
    char *access = id && role && family ? issue_access(q, id, role, family) : NULL;
    if (!access)
        return tz_send_problem(r, HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot issue tokens");
    return tz_send_json(r, HTTP_OK, tz_json_pool(r->pool, json_pack(
        "{s:s, s:s, s:s, s:I}", "access_token", access, "refresh_token", fresh,
        "token_type", "Bearer", "expires_in", (json_int_t)q->cfg->access_ttl)));
}

int tz_h_logout(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[2], *ignored, *tok;
    int rc;
    if (tz_validate_or_422(q, &tz_schema_refresh))
        return OK;
    tok = tz_json_str(q->body, "refresh_token");
    args[0] = tz_sha256_hex(r->pool, tok, strlen(tok));
    args[1] = q->user.id;
    if ((rc = tz_db_value(r, TZ_Q_LOGOUT, args, &ignored)) != OK)
        return tz_send_db_unavailable(r);
    return tz_send_no_content(r);
}

int tz_h_me(tz_req_t *q)
{
    json_t *user;
    const char *args[1] = {q->user.id};
    int rc = tz_db_json(q->r, TZ_Q_USER_BY_ID, args, &user);
    if (rc != OK)
        return tz_send_db_unavailable(q->r);
    if (!user)
        return unauthorized(q->r, 1, "the account no longer exists"), OK;
    return tz_send_json(q->r, HTTP_OK, user);
}
