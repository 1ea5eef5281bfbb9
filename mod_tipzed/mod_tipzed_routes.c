/* The API's one route table and the dispatcher that applies the API's
 * order of checks: route (404), method (405), authentication (401), role
 * (403), body size (413), content type (415), JSON syntax (400); handlers
 * validate (422).  The order is the contract clients rely on: a client
 * without a token learns nothing about a route's body rules. */
#include "mod_tipzed_routes.h"
#include "mod_tipzed_auth.h"
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_metrics.h"
#include "tz_query.h"
#include "tz_router.h"
#include "mod_tipzed_schema.h"
#include "tz_validate.h"

#define R(m, pat, fn, fl) {m, pat, &(const tz_route_data_t){fn, fl}}

static const tz_route_t tz_routes[] = {
    R("GET", "/health", tz_h_health, TZ_R_PUBLIC),
    R("GET", "/health/detailed", tz_h_health_detailed, TZ_R_PUBLIC),
    R("GET", "/openapi.json", tz_h_openapi, TZ_R_PUBLIC),
    /* public in the table, guarded by TipzedMetricsAccess in its handler */
    R("GET", "/metrics", tz_h_metrics, TZ_R_PUBLIC),
    R("POST", "/auth/register", tz_h_register, TZ_R_JSON),
    R("POST", "/auth/login", tz_h_login, TZ_R_JSON),
    R("POST", "/auth/refresh", tz_h_refresh, TZ_R_JSON),
    R("POST", "/auth/logout", tz_h_logout, TZ_R_USER | TZ_R_JSON),
    R("GET", "/auth/me", tz_h_me, TZ_R_USER),
    R("POST", "/auth/login/totp", tz_h_login_totp, TZ_R_JSON),
    R("POST", "/auth/totp/setup", tz_h_totp_setup, TZ_R_USER),
    R("POST", "/auth/totp/enable", tz_h_totp_enable, TZ_R_USER | TZ_R_JSON),
    R("POST", "/auth/totp/disable", tz_h_totp_disable, TZ_R_USER | TZ_R_JSON),
    R("GET", "/auth/sessions", tz_h_sessions_list, TZ_R_USER),
    R("DELETE", "/auth/sessions/{id}", tz_h_session_revoke, TZ_R_USER),
    R("POST", "/auth/logout/all", tz_h_logout_all, TZ_R_USER),
    R("POST", "/auth/email/verify", tz_h_email_verify, TZ_R_JSON),
    R("POST", "/auth/email/verify/send", tz_h_email_verify_send, TZ_R_USER | TZ_R_JSON | TZ_R_OPTJSON),
    R("POST", "/auth/password/forgot", tz_h_password_forgot, TZ_R_JSON),
    R("POST", "/auth/password/reset", tz_h_password_reset, TZ_R_JSON),
    R("GET", "/creators/me", tz_h_creator_me, TZ_R_CREATOR),
    R("PUT", "/creators/me", tz_h_creator_update, TZ_R_CREATOR | TZ_R_JSON),
    R("GET", "/creators/me/analytics", tz_h_creator_analytics, TZ_R_CREATOR),
    R("GET", "/creators/me/plans", tz_h_plans_mine, TZ_R_CREATOR),
    R("POST", "/creators/me/plans", tz_h_plan_create, TZ_R_CREATOR | TZ_R_JSON),
    R("PATCH", "/creators/me/plans/{id}", tz_h_plan_update, TZ_R_CREATOR | TZ_R_JSON),
    R("GET", "/creators/{id}", tz_h_creator_get, TZ_R_PUBLIC),
    R("GET", "/creators/{id}/plans", tz_h_plans_list, TZ_R_PUBLIC),
    R("POST", "/creators/{id}/follow", tz_h_follow, TZ_R_FAN),
    R("DELETE", "/creators/{id}/follow", tz_h_unfollow, TZ_R_FAN),
    R("GET", "/wallets/me", tz_h_wallet, TZ_R_USER),
    R("GET", "/wallets/me/transactions", tz_h_wallet_transactions, TZ_R_USER),
    R("GET", "/wallets/me/statement", tz_h_wallet_statement, TZ_R_USER),
    R("GET", "/wallets/me/balance", tz_h_wallet_balance_at, TZ_R_USER),
    R("GET", "/wallets/me/transfers", tz_h_transfers_list, TZ_R_USER),
    R("POST", "/wallets/me/transfers", tz_h_transfer_create, TZ_R_USER | TZ_R_JSON),
    R("POST", "/wallets/me/topup", tz_h_wallet_topup, TZ_R_USER | TZ_R_JSON),
    R("POST", "/payments/initiate", tz_h_payment_initiate, TZ_R_FAN | TZ_R_GUEST | TZ_R_JSON),
    R("GET", "/payments/quote", tz_h_payment_quote, TZ_R_FAN),
    R("POST", "/payments/webhook", tz_h_webhook_generic, TZ_R_RAW),
    R("POST", "/webhooks/{name}", tz_h_webhook, TZ_R_RAW),
    R("PUT", "/webhooks/{name}", tz_h_webhook, TZ_R_RAW), /* MTN MoMo calls back with PUT */
    R("GET", "/payments", tz_h_payments_list, TZ_R_USER),
    R("GET", "/payments/{id}", tz_h_payment_get, TZ_R_USER),
    R("POST", "/payments/{id}/refund", tz_h_payment_refund, TZ_R_ADMIN | TZ_R_JSON),
    R("GET", "/payments/{id}/return", tz_h_payment_return, TZ_R_PUBLIC),
    R("GET", "/receipts/{hash}", tz_h_receipt, TZ_R_PUBLIC),
    R("GET", "/sandbox/checkout/{id}", tz_h_sandbox_checkout, TZ_R_PUBLIC),
    R("POST", "/payouts/request", tz_h_payout_request, TZ_R_CREATOR | TZ_R_JSON),
    R("GET", "/payouts/me", tz_h_payouts_me, TZ_R_CREATOR),
    R("POST", "/payouts/{id}/cancel", tz_h_payout_cancel, TZ_R_CREATOR | TZ_R_JSON | TZ_R_OPTJSON),
    R("POST", "/admin/payments/{id}/resolve", tz_h_payment_resolve, TZ_R_ADMIN | TZ_R_JSON),
    R("GET", "/admin/transactions", tz_h_admin_transactions, TZ_R_ADMIN),
    R("GET", "/admin/overview", tz_h_admin_overview, TZ_R_ADMIN),
    R("GET", "/admin/payouts", tz_h_admin_payouts, TZ_R_ADMIN),
    R("POST", "/admin/payouts/{id}/approve", tz_h_admin_payout_approve, TZ_R_ADMIN | TZ_R_JSON | TZ_R_OPTJSON),
    R("POST", "/admin/payouts/{id}/reject", tz_h_admin_payout_reject, TZ_R_ADMIN | TZ_R_JSON),
    R("POST", "/admin/payouts/{id}/process", tz_h_admin_payout_process, TZ_R_ADMIN | TZ_R_JSON | TZ_R_OPTJSON),
    R("POST", "/admin/payouts/{id}/complete", tz_h_admin_payout_complete, TZ_R_ADMIN | TZ_R_JSON | TZ_R_OPTJSON),
    R("POST", "/admin/payouts/{id}/fail", tz_h_admin_payout_fail, TZ_R_ADMIN | TZ_R_JSON),
    R("GET", "/admin/disputes", tz_h_admin_disputes, TZ_R_ADMIN),
    R("GET", "/admin/reconciliation", tz_h_admin_reconciliation, TZ_R_ADMIN),
    R("GET", "/admin/audit-log", tz_h_admin_audit_log, TZ_R_ADMIN),
    R("GET", "/admin/wallets", tz_h_admin_wallets, TZ_R_ADMIN),
    R("POST", "/admin/billers", tz_h_biller_create, TZ_R_ADMIN | TZ_R_JSON),
    R("GET", "/billers", tz_h_billers_list, TZ_R_USER),
    R("POST", "/billers/{id}/validate", tz_h_biller_validate, TZ_R_USER | TZ_R_JSON),
    R("POST", "/bill-payments", tz_h_bill_pay, TZ_R_USER | TZ_R_JSON),
    R("GET", "/bill-payments", tz_h_bills_list, TZ_R_USER),
    R("GET", "/bill-payments/{id}", tz_h_bill_get, TZ_R_USER),
    R("POST", "/admin/wallets/{id}/adjustments", tz_h_admin_adjustment_create, TZ_R_ADMIN | TZ_R_JSON),
    R("GET", "/admin/adjustments", tz_h_admin_adjustments, TZ_R_ADMIN),
    R("POST", "/admin/adjustments/{id}/approve", tz_h_admin_adjustment_approve, TZ_R_ADMIN | TZ_R_JSON | TZ_R_OPTJSON),
    R("POST", "/admin/adjustments/{id}/reject", tz_h_admin_adjustment_reject, TZ_R_ADMIN | TZ_R_JSON),
    R("GET", "/packages", tz_h_packages_list, TZ_R_PUBLIC),
    R("POST", "/admin/packages", tz_h_admin_package_create, TZ_R_ADMIN | TZ_R_JSON),
    R("PATCH", "/admin/packages/{id}", tz_h_admin_package_update, TZ_R_ADMIN | TZ_R_JSON | TZ_R_OPTJSON),
    R("POST", "/subscriptions", tz_h_subscription_create, TZ_R_FAN | TZ_R_JSON),
    R("GET", "/subscriptions", tz_h_subscriptions_list, TZ_R_USER),
    R("GET", "/subscriptions/{id}", tz_h_subscription_get, TZ_R_USER),
    R("POST", "/subscriptions/{id}/cancel", tz_h_subscription_cancel, TZ_R_USER | TZ_R_JSON | TZ_R_OPTJSON),
    R("POST", "/subscriptions/{id}/resume", tz_h_subscription_resume, TZ_R_USER | TZ_R_JSON | TZ_R_OPTJSON),
    R("POST", "/schedules", tz_h_schedule_create, TZ_R_FAN | TZ_R_JSON),
    R("GET", "/schedules", tz_h_schedules_list, TZ_R_USER),
    R("GET", "/schedules/{id}", tz_h_schedule_get, TZ_R_USER),
    R("POST", "/schedules/{id}/pause", tz_h_schedule_pause, TZ_R_USER | TZ_R_JSON | TZ_R_OPTJSON),
    R("POST", "/schedules/{id}/resume", tz_h_schedule_resume, TZ_R_USER | TZ_R_JSON | TZ_R_OPTJSON),
    R("POST", "/schedules/{id}/cancel", tz_h_schedule_cancel, TZ_R_USER | TZ_R_JSON | TZ_R_OPTJSON),
    R("GET", "/sandbox/clock", tz_h_clock_get, TZ_R_ADMIN),
    R("POST", "/sandbox/clock", tz_h_clock_advance, TZ_R_ADMIN | TZ_R_JSON),
    R("POST", "/sandbox/billing/run", tz_h_billing_run, TZ_R_ADMIN | TZ_R_JSON | TZ_R_OPTJSON),
    R("GET", "/invoices", tz_h_invoices_list, TZ_R_USER),
    R("GET", "/invoices/{id}", tz_h_invoice_get, TZ_R_USER),
    R("GET", "/invoices/{id}/pdf", tz_h_invoice_pdf, TZ_R_USER),
    R("POST", "/webhook-endpoints", tz_h_endpoint_create, TZ_R_CREATOR | TZ_R_ADMIN | TZ_R_JSON),
    R("GET", "/webhook-endpoints", tz_h_endpoints_list, TZ_R_CREATOR | TZ_R_ADMIN),
    R("GET", "/webhook-endpoints/{id}", tz_h_endpoint_get, TZ_R_CREATOR | TZ_R_ADMIN),
    R("PATCH", "/webhook-endpoints/{id}", tz_h_endpoint_update, TZ_R_CREATOR | TZ_R_ADMIN | TZ_R_JSON),
    R("DELETE", "/webhook-endpoints/{id}", tz_h_endpoint_delete, TZ_R_CREATOR | TZ_R_ADMIN),
    R("GET", "/webhook-endpoints/{id}/deliveries", tz_h_endpoint_deliveries, TZ_R_CREATOR | TZ_R_ADMIN),
    R("GET", "/webhook-deliveries", tz_h_deliveries_list, TZ_R_CREATOR | TZ_R_ADMIN),
    R("POST", "/webhook-deliveries/{id}/resend", tz_h_delivery_resend, TZ_R_CREATOR | TZ_R_ADMIN | TZ_R_JSON | TZ_R_OPTJSON),
    R("GET", "/admin/risk/velocity", tz_h_admin_velocity, TZ_R_ADMIN),
    R("GET", "/admin/users", tz_h_admin_users, TZ_R_ADMIN),
    R("POST", "/admin/users/{id}/suspend", tz_h_admin_user_suspend, TZ_R_ADMIN | TZ_R_JSON),
    R("POST", "/admin/users/{id}/reinstate", tz_h_admin_user_reinstate, TZ_R_ADMIN | TZ_R_JSON),
    R("POST", "/admin/wallets/{id}/freeze", tz_h_admin_wallet_freeze, TZ_R_ADMIN | TZ_R_JSON),
    R("POST", "/admin/wallets/{id}/unfreeze", tz_h_admin_wallet_unfreeze, TZ_R_ADMIN | TZ_R_JSON),
    R("GET", "/auth/me/export", tz_h_me_export, TZ_R_USER),
    R("DELETE", "/auth/me", tz_h_me_delete, TZ_R_USER | TZ_R_JSON),
};

#define TZ_ROUTES_N (sizeof(tz_routes) / sizeof(tz_routes[0]))

size_t tz_route_count(void)
{
    return TZ_ROUTES_N;
}

const tz_route_t *tz_route_at(size_t i)
{
    return i < TZ_ROUTES_N ? &tz_routes[i] : NULL;
}

/* CORS: listed origins get the Allow-* headers; a preflight from any other
 * origin is refused with 403 and grants nothing. */
static int tz_cors(request_rec *r, tz_cfg_t *c, int *handled)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    int allowed = 0;
    *handled = 0;
    if (!origin)
        return OK;
    for (int i = 0; c->cors_origins && i < c->cors_origins->nelts; i++)
        if (strcmp(origin, APR_ARRAY_IDX(c->cors_origins, i, const char *)) == 0)
            allowed = 1;
    apr_table_mergen(r->headers_out, "Vary", "Origin");
    if (allowed) {
        apr_table_setn(r->headers_out, "Access-Control-Allow-Origin", origin);
        apr_table_setn(r->headers_out, "Access-Control-Expose-Headers",
                       "Idempotent-Replayed, Retry-After, WWW-Authenticate");
    }
    if (r->method_number != M_OPTIONS ||
        !apr_table_get(r->headers_in, "Access-Control-Request-Method"))
        return OK;
    *handled = 1;
    if (!allowed)
        return tz_send_problem(r, HTTP_FORBIDDEN, "cors_origin_denied",
                               "this origin is not allowed");
    apr_table_setn(r->headers_out, "Access-Control-Allow-Methods",
                   "GET, POST, PUT, PATCH, DELETE, OPTIONS");
    apr_table_setn(r->headers_out, "Access-Control-Allow-Headers",
                   "Authorization, Content-Type, X-Idempotency-Key, Idempotency-Key");
    apr_table_setn(r->headers_out, "Access-Control-Max-Age", "600");
    return tz_send_no_content(r);
}

static int tz_read_request_body(tz_req_t *q, unsigned flags)
{
    request_rec *r = q->r;
    const char *err;
    int rc = tz_read_body(r, q->cfg->max_body, (char **)&q->raw, &q->rawlen);
    if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE)
        return tz_send_problem(r, rc, "payload_too_large",
                               apr_psprintf(r->pool, "the body exceeds %" APR_INT64_T_FMT
                                            " bytes", q->cfg->max_body)), DONE;
    if (rc != OK)
        return tz_send_problem(r, HTTP_BAD_REQUEST, "bad_body", "the body could not be read"), DONE;
    if (!(flags & TZ_R_JSON) || ((flags & TZ_R_OPTJSON) && q->rawlen == 0))
        return OK;
    if (!tz_is_json_content_type(apr_table_get(r->headers_in, "Content-Type")))
        return tz_send_problem(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                               "the body must be application/json (UTF-8)"), DONE;
    q->body = tz_json_parse(r->pool, q->raw, q->rawlen, &err);
    if (!q->body)
        return tz_send_problem(r, HTTP_BAD_REQUEST, "invalid_json", err), DONE;
    if (!json_is_object(q->body))
        return tz_send_problem(r, HTTP_BAD_REQUEST, "invalid_json",
                               "the body must be a JSON object"), DONE;
    return OK;
}

static int tz_run_route(tz_req_t *q, const tz_route_data_t *rd)
{
    const char *err;
    int rc;
    /* a guest route serves callers without any token as guests; a token
     * given is checked as anywhere else */
    if ((rd->flags & TZ_R_AUTH) &&
        !((rd->flags & TZ_R_GUEST) && !apr_table_get(q->r->headers_in, "Authorization"))) {
        if ((rc = tz_authenticate(q)) != OK)
            return OK; /* 401 sent */
        if (!tz_role_allowed(rd->flags, q->user.role))
            return tz_send_problem(q->r, HTTP_FORBIDDEN, "forbidden",
                                   "your role may not use this endpoint");
    }
    if ((err = tz_query_check(q->r->args)) != NULL)
        return tz_send_problem(q->r, HTTP_BAD_REQUEST, "invalid_query",
                               apr_pstrcat(q->r->pool, "the query string ", err, NULL));
    if (rd->flags & (TZ_R_JSON | TZ_R_RAW)) {
        if (tz_read_request_body(q, rd->flags) != OK)
            return OK;
    } else if (ap_discard_request_body(q->r) != OK) {
        return OK;
    }
    return rd->fn(q);
}

int tz_dispatch(request_rec *r, const char *path)
{
    tz_cfg_t *c = tz_cfg(r);
    tz_route_match_t m;
    tz_req_t q = {r, c, NULL, {NULL, NULL, NULL}, NULL, 0, NULL, NULL};
    int handled, rc;
    tz_metrics_mark(r, -1); /* counted as unmatched until a route matches */
    if (!c->active) {
        /* once per child and server: say why, without a line per request */
        if (!__atomic_exchange_n(&c->told_inactive, 1, __ATOMIC_RELAXED))
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APLOGNO(10590)
                          "tipzed: %s is mounted here but this server has no "
                          "TipzedJWTSecretFile nor TipzedEncryptionKeyFile: every request "
                          "answers 503 not_configured", r->uri);
        return tz_send_problem(r, HTTP_SERVICE_UNAVAILABLE, "not_configured",
                               "the API is not configured on this server");
    }
    rc = tz_cors(r, c, &handled);
    if (handled)
        return rc;
    switch (tz_route_match(r->pool, tz_routes, TZ_ROUTES_N, path, r->method, &m)) {
    case TZ_ROUTE_NOT_FOUND:
        return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "no such resource");
    case TZ_ROUTE_BAD_METHOD:
        apr_table_setn(r->headers_out, "Allow", m.allow);
        return tz_send_problem(r, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                               apr_psprintf(r->pool, "allowed: %s", m.allow));
    case TZ_ROUTE_FOUND:
        break;
    }
    tz_metrics_mark(r, (int)(m.route - tz_routes));
    if (tz_schema_ready(r, ((const tz_route_data_t *)m.route->data)->fn) != OK)
        return DONE;
    q.id = m.id[0] ? apr_pstrdup(r->pool, m.id) : NULL;
    q.request_id = tz_random_hex(r->pool, 8);
    apr_table_setn(r->headers_out, "X-Request-Id", q.request_id);
    return tz_run_route(&q, m.route->data);
}
