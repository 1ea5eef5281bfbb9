/* /auth: register, login, refresh (rotation with reuse detection), logout,
 * me; and bearer-token authentication for every protected route. */
#include "mod_tipzed.h"
#include "tz_password.h"

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
    apr_table_setn(r->notes, "tipzed-user", cl.sub);
    return OK;
}

/* Issues an access token and a new refresh token family for user, then
 * answers {access_token, refresh_token, token_type, expires_in, user}. */
static int send_new_session(tz_req_t *q, json_t *user, int status)
{
    request_rec *r = q->r;
    const char *id = json_string_value(json_object_get(user, "id"));
    const char *role = json_string_value(json_object_get(user, "role"));
    const char *refresh = tz_random_hex(r->pool, TZ_REFRESH_BYTES);
    const char *args[3], *ignored;
    int rc;
    if (!id || !role || !refresh)
        return tz_send_problem(r, HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot issue tokens");
    args[0] = id;
    args[1] = tz_sha256_hex(r->pool, refresh, strlen(refresh));
    args[2] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, q->cfg->refresh_ttl);
    if ((rc = tz_db_value(r, TZ_Q_REFRESH_ISSUE, args, &ignored)) != OK)
        return tz_send_problem(r, rc, "database_unavailable", "please retry");
    char *access = tz_jwt_issue(r->pool, &q->cfg->jwt, id, role, tz_random_hex(r->pool, 16),
                                apr_time_sec(apr_time_now()), q->cfg->access_ttl);
    if (!access)
        return tz_send_problem(r, HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot issue tokens");
    json_t *out = tz_json_pool(r->pool, json_pack("{s:s, s:s, s:s, s:I, s:O}",
        "access_token", access, "refresh_token", refresh, "token_type", "Bearer",
        "expires_in", (json_int_t)q->cfg->access_ttl, "user", user));
    return tz_send_json(r, status, out);
}

/* A deliberately plain address check: one '@', a dot in the domain, no
 * spaces or control characters.  Deliverability is the mailer's business. */
static int email_ok(const char *e)
{
    const char *at = strchr(e, '@');
    if (!at || at == e || strchr(at + 1, '@') || !strchr(at + 1, '.'))
        return 0;
    for (const unsigned char *s = (const unsigned char *)e; *s; s++)
        if (*s <= ' ' || *s == 0x7f)
            return 0;
    const char *last = strrchr(e, '.');
    return last[1] != '\0' && at[1] != '.';
}

int tz_h_register(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[4], *role;
    json_t *res;
    int rc;
    if (tz_validate_or_422(q, &tz_schema_register))
        return OK;
    args[0] = tz_json_str(q->body, "email");
    role = tz_json_str(q->body, "role");
    if (!email_ok(args[0]))
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                     "email", "is not a valid email address");
    if (strcmp(role, "fan") != 0 && strcmp(role, "creator") != 0)
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                     "role", "must be \"fan\" or \"creator\"");
    args[1] = tz_json_str(q->body, "full_name");
    args[2] = role;
    args[3] = tz_password_hash(r->pool, tz_json_str(q->body, "password"));
    if (!args[3])
        return tz_send_problem(r, HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot hash password");
    if ((rc = tz_db_json(r, TZ_Q_REGISTER, args, &res)) != OK || !res)
        return tz_send_problem(r, HTTP_SERVICE_UNAVAILABLE, "database_unavailable", "please retry");
    if (json_object_get(res, "error"))
        return tz_send_field_problem(r, HTTP_CONFLICT, "email_taken", "email",
                                     "is already registered");
    return send_new_session(q, json_object_get(res, "user"), HTTP_CREATED);
}

static int too_many(request_rec *r, apr_int64_t wait)
{
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT, wait));
    return tz_send_problem(r, HTTP_TOO_MANY_REQUESTS, "too_many_attempts",
                           "too many failed logins; retry later");
}

/* One answer for an unknown email and a wrong password. */
static int login_failed(tz_req_t *q, const char *ipkey, const char *emailkey)
{
    tz_rl_record_failure(q->r, ipkey, q->cfg->rl_window);
    tz_rl_record_failure(q->r, emailkey, q->cfg->rl_window);
    return tz_send_problem(q->r, HTTP_UNAUTHORIZED, "invalid_credentials",
                           "the email or password is wrong");
}

int tz_h_login(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[1], *cols[3], *email, *ipkey, *emailkey;
    apr_int64_t wait;
    json_t *found, *user;
    int rc;
    if (tz_validate_or_422(q, &tz_schema_login))
        return OK;
    email = tz_json_str(q->body, "email");
    ipkey = apr_pstrcat(r->pool, "ip:", tz_client_ip(r), NULL);
    emailkey = apr_pstrcat(r->pool, "email:", email, NULL);
    ap_str_tolower((char *)emailkey);
    wait = tz_rl_check(r, ipkey, (unsigned)q->cfg->rl_count, q->cfg->rl_window);
    if (!wait)
        wait = tz_rl_check(r, emailkey, (unsigned)q->cfg->rl_count, q->cfg->rl_window);
    if (wait)
        return too_many(r, wait);
    args[0] = email;
    if ((rc = tz_db_json(r, TZ_Q_USER_BY_EMAIL, args, &found)) != OK)
        return tz_send_problem(r, rc, "database_unavailable", "please retry");
    cols[0] = found ? json_string_value(json_object_get(found, "id")) : NULL;
    cols[1] = found ? json_string_value(json_object_get(found, "role")) : NULL;
    cols[2] = found ? json_string_value(json_object_get(found, "password_hash")) : NULL;
    user = found ? json_object_get(found, "user") : NULL;
    if (!cols[0] || !cols[2] || !json_is_object(user)) {
        tz_password_burn(r->pool, tz_json_str(q->body, "password"));
        return login_failed(q, ipkey, emailkey);
    }
    if (tz_password_verify(r->pool, tz_json_str(q->body, "password"), cols[2]) != 1)
        return login_failed(q, ipkey, emailkey);
    tz_rl_clear(r, emailkey);
    apr_table_setn(r->notes, "tipzed-user", cols[0]);
    if (cols[1] && strcmp(cols[1], "admin") == 0)
        tz_audit(q, cols[0], "admin.login", "user", cols[0], tz_client_ip(r));
    return send_new_session(q, user, HTTP_OK);
}

int tz_h_refresh(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[3], *fresh, *old;
    json_t *res, *user;
    int rc;
    if (tz_validate_or_422(q, &tz_schema_refresh))
        return OK;
    old = tz_json_str(q->body, "refresh_token");
    fresh = tz_random_hex(r->pool, TZ_REFRESH_BYTES);
    args[0] = tz_sha256_hex(r->pool, old, strlen(old));
    args[1] = tz_sha256_hex(r->pool, fresh, strlen(fresh));
    args[2] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, q->cfg->refresh_ttl);
    if ((rc = tz_db_json(r, TZ_Q_REFRESH_ROTATE, args, &res)) != OK || !res)
        return tz_send_problem(r, HTTP_SERVICE_UNAVAILABLE, "database_unavailable", "please retry");
    user = json_object_get(res, "user");
    if (!user)
        return unauthorized(r, 1, "the refresh token is invalid, expired or revoked"), OK;
    const char *id = json_string_value(json_object_get(user, "id"));
    const char *role = json_string_value(json_object_get(user, "role"));
    char *access = tz_jwt_issue(r->pool, &q->cfg->jwt, id, role, tz_random_hex(r->pool, 16),
                                apr_time_sec(apr_time_now()), q->cfg->access_ttl);
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
        return tz_send_problem(r, rc, "database_unavailable", "please retry");
    return tz_send_no_content(r);
}

int tz_h_me(tz_req_t *q)
{
    json_t *user;
    const char *args[1] = {q->user.id};
    int rc = tz_db_json(q->r, TZ_Q_USER_BY_ID, args, &user);
    if (rc != OK)
        return tz_send_problem(q->r, rc, "database_unavailable", "please retry");
    if (!user)
        return unauthorized(q->r, 1, "the account no longer exists"), OK;
    return tz_send_json(q->r, HTTP_OK, user);
}
