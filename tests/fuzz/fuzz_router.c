/* Route matching over a copy of the module's route table
 * (mod_tipzed/mod_tipzed_routes.c).  The input is "<method> <path>" (space,
 * newline or NUL separates them). */
#include "fuzz_common.h"
#include "tz_router.h"
#include "tz_parse.h"

static const tz_route_t routes[] = {
    {"GET", "/health", NULL},
    {"GET", "/health/detailed", NULL},
    {"GET", "/openapi.json", NULL},
    {"GET", "/metrics", NULL},
    {"POST", "/auth/register", NULL},
    {"POST", "/auth/login", NULL},
    {"POST", "/auth/refresh", NULL},
    {"POST", "/auth/logout", NULL},
    {"GET", "/auth/me", NULL},
    {"POST", "/auth/login/totp", NULL},
    {"POST", "/auth/totp/setup", NULL},
    {"POST", "/auth/totp/enable", NULL},
    {"POST", "/auth/totp/disable", NULL},
    {"GET", "/auth/sessions", NULL},
    {"DELETE", "/auth/sessions/{id}", NULL},
    {"POST", "/auth/logout/all", NULL},
    {"POST", "/auth/email/verify", NULL},
    {"POST", "/auth/email/verify/send", NULL},
    {"POST", "/auth/password/forgot", NULL},
    {"POST", "/auth/password/reset", NULL},
    {"GET", "/creators/me", NULL},
    {"PUT", "/creators/me", NULL},
    {"GET", "/creators/me/analytics", NULL},
    {"GET", "/creators/me/plans", NULL},
    {"POST", "/creators/me/plans", NULL},
    {"PATCH", "/creators/me/plans/{id}", NULL},
    {"GET", "/creators/{id}", NULL},
    {"GET", "/creators/{id}/plans", NULL},
    {"POST", "/creators/{id}/follow", NULL},
    {"DELETE", "/creators/{id}/follow", NULL},
    {"GET", "/wallets/me", NULL},
    {"GET", "/wallets/me/transactions", NULL},
    {"GET", "/wallets/me/statement", NULL},
    {"GET", "/wallets/me/balance", NULL},
    {"GET", "/wallets/me/transfers", NULL},
    {"POST", "/wallets/me/transfers", NULL},
    {"POST", "/wallets/me/topup", NULL},
    {"POST", "/payments/initiate", NULL},
    {"GET", "/payments/quote", NULL},
    {"POST", "/payments/webhook", NULL},
    {"POST", "/webhooks/{name}", NULL},
    {"PUT", "/webhooks/{name}", NULL},
    {"GET", "/payments", NULL},
    {"GET", "/payments/{id}", NULL},
    {"POST", "/payments/{id}/refund", NULL},
    {"GET", "/payments/{id}/return", NULL},
    {"GET", "/receipts/{hash}", NULL},
    {"GET", "/sandbox/checkout/{id}", NULL},
    {"POST", "/payouts/request", NULL},
    {"GET", "/payouts/me", NULL},
    {"POST", "/payouts/{id}/cancel", NULL},
    {"POST", "/admin/payments/{id}/resolve", NULL},
    {"GET", "/admin/transactions", NULL},
    {"GET", "/admin/overview", NULL},
    {"GET", "/admin/payouts", NULL},
    {"POST", "/admin/payouts/{id}/approve", NULL},
    {"POST", "/admin/payouts/{id}/reject", NULL},
    {"POST", "/admin/payouts/{id}/process", NULL},
    {"POST", "/admin/payouts/{id}/complete", NULL},
    {"POST", "/admin/payouts/{id}/fail", NULL},
    {"GET", "/admin/disputes", NULL},
    {"GET", "/admin/reconciliation", NULL},
    {"GET", "/admin/audit-log", NULL},
    {"GET", "/admin/wallets", NULL},
    {"POST", "/admin/billers", NULL},
    {"GET", "/billers", NULL},
    {"POST", "/billers/{id}/validate", NULL},
    {"POST", "/bill-payments", NULL},
    {"GET", "/bill-payments", NULL},
    {"GET", "/bill-payments/{id}", NULL},
    {"POST", "/admin/wallets/{id}/adjustments", NULL},
    {"GET", "/admin/adjustments", NULL},
    {"POST", "/admin/adjustments/{id}/approve", NULL},
    {"POST", "/admin/adjustments/{id}/reject", NULL},
    {"GET", "/packages", NULL},
    {"POST", "/admin/packages", NULL},
    {"PATCH", "/admin/packages/{id}", NULL},
    {"POST", "/subscriptions", NULL},
    {"GET", "/subscriptions", NULL},
    {"GET", "/subscriptions/{id}", NULL},
    {"POST", "/subscriptions/{id}/cancel", NULL},
    {"POST", "/subscriptions/{id}/resume", NULL},
    {"POST", "/schedules", NULL},
    {"GET", "/schedules", NULL},
    {"GET", "/schedules/{id}", NULL},
    {"POST", "/schedules/{id}/pause", NULL},
    {"POST", "/schedules/{id}/resume", NULL},
    {"POST", "/schedules/{id}/cancel", NULL},
    {"GET", "/sandbox/clock", NULL},
    {"POST", "/sandbox/clock", NULL},
    {"POST", "/sandbox/billing/run", NULL},
    {"GET", "/invoices", NULL},
    {"GET", "/invoices/{id}", NULL},
    {"GET", "/invoices/{id}/pdf", NULL},
    {"POST", "/webhook-endpoints", NULL},
    {"GET", "/webhook-endpoints", NULL},
    {"GET", "/webhook-endpoints/{id}", NULL},
    {"PATCH", "/webhook-endpoints/{id}", NULL},
    {"DELETE", "/webhook-endpoints/{id}", NULL},
    {"GET", "/webhook-endpoints/{id}/deliveries", NULL},
    {"GET", "/webhook-deliveries", NULL},
    {"POST", "/webhook-deliveries/{id}/resend", NULL},
    {"GET", "/admin/risk/velocity", NULL},
    {"GET", "/admin/users", NULL},
    {"POST", "/admin/users/{id}/suspend", NULL},
    {"POST", "/admin/users/{id}/reinstate", NULL},
    {"POST", "/admin/wallets/{id}/freeze", NULL},
    {"POST", "/admin/wallets/{id}/unfreeze", NULL},
    {"GET", "/auth/me/export", NULL},
    {"DELETE", "/auth/me", NULL},
};
#define NROUTES (sizeof routes / sizeof routes[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = tz_fuzz_pool();
    tz_route_match_t m;
    size_t i = 0;
    while (i < size && data[i] != ' ' && data[i] != '\n' && data[i] != '\0')
        i++;
    char *method = apr_pstrmemdup(p, (const char *)data, i);
    char *path = i < size ? apr_pstrmemdup(p, (const char *)data + i + 1, size - i - 1)
                          : apr_pstrdup(p, "");
    memset(&m, 0xa5, sizeof m);
    switch (tz_route_match(p, routes, NROUTES, path, method, &m)) {
    case TZ_ROUTE_FOUND:
        TZ_FUZZ_ASSERT(m.route >= routes && m.route < routes + NROUTES);
        TZ_FUZZ_ASSERT(strcmp(m.route->method, method) == 0 ||
                       (strcmp(method, "HEAD") == 0 && strcmp(m.route->method, "GET") == 0));
        TZ_FUZZ_ASSERT(memchr(m.id, '\0', sizeof m.id) != NULL);
        if (strstr(m.route->pattern, "{id}")) {
            TZ_FUZZ_ASSERT(tz_is_uuid(m.id));
            for (const char *c = m.id; *c; c++)
                TZ_FUZZ_ASSERT(!(*c >= 'A' && *c <= 'Z'));
        } else if (strstr(m.route->pattern, "{hash}")) {
            TZ_FUZZ_ASSERT(strlen(m.id) == 64 && strspn(m.id, "0123456789abcdef") == 64);
        } else if (strstr(m.route->pattern, "{name}")) {
            TZ_FUZZ_ASSERT(m.id[0] && strlen(m.id) <= 32 &&
                           strspn(m.id, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(m.id));
        } else {
            TZ_FUZZ_ASSERT(m.id[0] == '\0');
        }
        break;
    case TZ_ROUTE_BAD_METHOD:
        TZ_FUZZ_ASSERT(m.allow && *m.allow);
        (void)strlen(m.allow);
        break;
    case TZ_ROUTE_NOT_FOUND:
        break;
    default:
        TZ_FUZZ_ASSERT(0);
    }
    apr_pool_destroy(p);
    return 0;
}
