/* The request-body schemas of every JSON endpoint, as tz_json_validate
 * tables.  No httpd types, so the unit tests and the fuzzers see exactly
 * the tables the handlers use. */
#ifndef TZ_SCHEMA_H
#define TZ_SCHEMA_H
#include <stddef.h>
#include "tz_json.h"

typedef struct {
    const char *name;         /* e.g. "register" */
    const tz_field_t *fields;
    size_t n;
} tz_schema_t;

extern const tz_schema_t tz_schema_register;        /* POST /auth/register */
extern const tz_schema_t tz_schema_login;           /* POST /auth/login */
extern const tz_schema_t tz_schema_refresh;         /* POST /auth/refresh */
extern const tz_schema_t tz_schema_forgot;          /* POST /auth/password/forgot */
extern const tz_schema_t tz_schema_reset;           /* POST /auth/password/reset */
extern const tz_schema_t tz_schema_email_token;     /* POST /auth/email/verify */
extern const tz_schema_t tz_schema_profile;         /* PUT /creators/me */
extern const tz_schema_t tz_schema_initiate;        /* POST /payments/initiate */
extern const tz_schema_t tz_schema_payout_request;  /* POST /payouts/request */
extern const tz_schema_t tz_schema_admin_note;      /* POST /admin/payouts/{id}/approve */
extern const tz_schema_t tz_schema_admin_reason;    /* .../reject, .../fail */
extern const tz_schema_t tz_schema_admin_ref;       /* .../process, .../complete */
extern const tz_schema_t tz_schema_resolve;         /* POST /admin/payments/{id}/resolve */
extern const tz_schema_t tz_schema_refund;          /* POST /payments/{id}/refund */
extern const tz_schema_t tz_schema_biller;          /* POST /admin/billers */
extern const tz_schema_t tz_schema_bill_customer;   /* POST /billers/{id}/validate */
extern const tz_schema_t tz_schema_bill_pay;        /* POST /bill-payments */
extern const tz_schema_t tz_schema_transfer;        /* POST /wallets/me/transfers */
extern const tz_schema_t tz_schema_adjustment;      /* POST /admin/wallets/{id}/adjustments */
extern const tz_schema_t tz_schema_topup;           /* POST /wallets/me/topup */
extern const tz_schema_t tz_schema_package;         /* POST /admin/packages */
extern const tz_schema_t tz_schema_package_patch;   /* PATCH /admin/packages/{id} */
extern const tz_schema_t tz_schema_plan;            /* POST /creators/me/plans */
extern const tz_schema_t tz_schema_plan_patch;      /* PATCH /creators/me/plans/{id} */
extern const tz_schema_t tz_schema_subscribe;       /* POST /subscriptions */
extern const tz_schema_t tz_schema_cancel;          /* POST /subscriptions/{id}/cancel */
extern const tz_schema_t tz_schema_schedule;        /* POST /schedules */
extern const tz_schema_t tz_schema_clock;           /* POST /sandbox/clock */
extern const tz_schema_t tz_schema_endpoint;        /* POST /webhook-endpoints */
extern const tz_schema_t tz_schema_endpoint_patch;  /* PATCH /webhook-endpoints/{id} */
extern const tz_schema_t tz_schema_login_totp;      /* POST /auth/login/totp */
extern const tz_schema_t tz_schema_totp_code;       /* POST /auth/totp/enable, .../disable */
extern const tz_schema_t tz_schema_ops_reason;      /* POST /admin/users/{id}/suspend, ... */
extern const tz_schema_t tz_schema_me_delete;       /* DELETE /auth/me */

/* Every schema above, for tests and fuzzers. */
extern const tz_schema_t *const tz_schemas[];
extern const size_t tz_schemas_n;

#endif
