/* The httpd glue's shared types: the module record, the server
 * configuration and the per-request types the handlers receive.  Each glue
 * concern declares its own functions in its own header (mod_tipzed_*.h);
 * the core (tz_*.c) never includes any of them. */
#ifndef MOD_TIPZED_H
#define MOD_TIPZED_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

#include "tz_crypto.h"
#include "tz_json.h"
#include "tz_jwt.h"
#include "tz_metrics.h"
#include "tz_provider.h"
#include "tz_validate.h"

extern module AP_MODULE_DECLARE_DATA tipzed_module;
/* Every glue file logs as the module: lines read "[tipzed:level]" and obey
 * "LogLevel tipzed:debug".  The module record's file gets the same from
 * AP_DECLARE_MODULE, and may not declare it twice. */
#ifndef TZ_MODULE_RECORD
APLOG_USE_MODULE(tipzed);
#endif

#define TZ_UNSET (-1)
#include "tz_version.h" /* TZ_MODULE_VERSION, generated from debian/changelog */

/* Server configuration.  Fields start unset (NULL / TZ_UNSET) so merging can
 * tell "not given" from an explicit value; tz_cfg_finalize() applies the
 * defaults after the merge (mod_tipzed_config.c, docs/directives.md). */
typedef struct {
    const char *jwt_key;            /* secret file content */
    apr_size_t jwt_keylen;
    const char *jwt_iss, *jwt_aud;
    apr_int64_t access_ttl, refresh_ttl;
    int fee_bps;
    int topup_fee_bps;              /* TipzedTopupFee */
    int cashback_bps;               /* TipzedCashback: 0 off */
    apr_int64_t cashback_cap;       /* ... per payer, currency and calendar month */
    const char *default_currency;
    apr_array_header_t *currencies; /* const char * */
    apr_int64_t min_payment, max_payment, min_payout;
    int transfer_policy;            /* TipzedTransfers: tz_transfer_policy_e */
    apr_int64_t transfer_limit;     /* TipzedTransferLimit: per sender and currency ... */
    apr_int64_t transfer_window;    /* ... within this many seconds (sliding) */
    apr_int64_t payment_expiry;
    apr_int64_t billing_grace;      /* TipzedBillingGrace: seconds a past-due item is retried */
    int reserve_bps, reserve_days;  /* TipzedReserve: share held of each credit, for days */
    int first_payout_delay;         /* TipzedFirstPayoutDelay: days after the first credit */
    const char *tax_json;           /* TipzedTax as the SQL functions take it, or NULL: none */
    const char *tax_name;
    int tax_bps, tax_inclusive;
    const char *invoice_issuer;     /* TipzedInvoiceIssuer */
    const char *invoice_font;       /* TipzedInvoiceFont */
    apr_int64_t referral_bonus;     /* TipzedReferralBonus: minor units credited to a
                                       referrer's cashback when the referred user's
                                       first payment succeeds; 0: off */
    tz_prov_cfg_t providers[TZ_PROV__COUNT]; /* indexed by tz_provider_id_e */
    unsigned providers_set;         /* bit i: provider i configured in this server */
    const char *default_provider;
    int sandbox_mixed;              /* TipzedSandbox On mixed: live providers too */
    const char *public_url;         /* TipzedPublicURL, no trailing slash */
    const char *return_url;         /* TipzedCheckoutReturnURL, or NULL: our page */
    apr_int64_t webhook_tolerance;
    apr_int64_t provider_timeout;   /* seconds, total per outbound call */
    apr_int64_t status_poll;        /* seconds before a pending payment is first asked
                                       about at its provider; 0: never */
    apr_array_header_t *enc_keys;   /* tz_aead_key_t; first one seals */
    const char *biller_secret;      /* TipzedBillerSecretFile content, or NULL */
    apr_size_t biller_secret_len;
    int webhook_retries;            /* TipzedWebhookRetry: attempts of a delivery in all ... */
    apr_int64_t webhook_retry_max;  /* ... and the longest wait between two, seconds */
    int webhook_private;            /* TipzedWebhookAllowPrivate */
    int webhook_concurrency;        /* TipzedWebhookConcurrency: deliveries at once per node */
    apr_int64_t webhook_timeout;    /* TipzedWebhookTimeout: one attempt, seconds */
    apr_int64_t outbox_retention;   /* TipzedOutboxRetention: seconds, 0 = keep all */
    const char *smtp_url;           /* TipzedSMTP, or NULL: no mail */
    const char *smtp_from;
    const char *mail_dir;           /* TipzedMailTemplates, or NULL: the shipped ones */
    apr_int64_t max_body;
    apr_array_header_t *cors_origins; /* const char * */
    int rl_count;
    apr_int64_t rl_window;
    apr_int64_t verify_ttl;         /* TipzedEmailTokenLifetime: verification links, s */
    apr_int64_t reset_ttl;          /* ... and password-reset links, s */
    const char *account_url;        /* TipzedAccountURL, or NULL: TipzedPublicURL */
    int guest_rl_count;             /* TipzedGuestRateLimit: guest tips per client IP ... */
    apr_int64_t guest_rl_window;    /* ... per window, s */
    tz_metrics_acl_t *metrics_acl;  /* TipzedMetricsAccess; default loopback only */
    apr_array_header_t *velocity;   /* tz_vel_rule_t: TipzedPaymentVelocity lines, or NULL */
    int admin_totp;                 /* TipzedAdminTOTP: admins need a TOTP code (default 1) */
    tz_jwt_cfg_t jwt;               /* derived at finalize */
    int active;                     /* 0: no Tipzed directives in this server */
    int told_inactive;              /* the "not configured" warning was logged */
} tz_cfg_t;

static inline tz_cfg_t *tz_cfg(const request_rec *r)
{
    return ap_get_module_config(r->server->module_config, &tipzed_module);
}

/* 1 when cur is one of TipzedCurrencies. */
static inline int tz_cfg_currency_ok(const tz_cfg_t *c, const char *cur)
{
    return tz_currency_accepted((const char *const *)c->currencies->elts,
                                (size_t)c->currencies->nelts, cur);
}

/* The authenticated caller. */
typedef struct {
    const char *id;
    const char *role;
    const char *session;     /* the session (refresh-token family) of the access token, or NULL */
} tz_principal_t;

/* One request as the API handlers see it. */
typedef struct {
    request_rec *r;
    tz_cfg_t *cfg;
    const char *id;          /* the {id} or {name} path segment, or NULL */
    tz_principal_t user;     /* set when the route requires auth */
    const char *raw;         /* raw body (NUL-terminated copy) and its length */
    apr_size_t rawlen;
    json_t *body;            /* parsed JSON object, for JSON routes */
    const char *request_id;  /* also sent as X-Request-Id */
} tz_req_t;

typedef int (*tz_handler_fn)(tz_req_t *q);

/* A route's handler and its tz_router.h flags (TZ_R_*). */
typedef struct {
    tz_handler_fn fn;
    unsigned flags;
} tz_route_data_t;

#endif
