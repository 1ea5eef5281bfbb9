/* Every SQL statement of the module: one table of labelled statements,
 * registered with mod_dbd at config time and prepared on each pooled
 * connection.  Placeholders are apr_dbd's (%s = text, cast in SQL).
 *
 * One name stem per statement: enum TZ_Q_<STEM>, label tipzed_<stem>, and
 * the SQL function it calls, tz_api_<stem> (sql/functions/), which returns
 * exactly one value: every statement answers one row of one text column.
 * TZ_Q_PING alone calls no function. */
#ifndef TZ_SQL_H
#define TZ_SQL_H

typedef enum {
    TZ_Q_PING,
    TZ_Q_SCHEMA_STATE,
    TZ_Q_REGISTER,
    TZ_Q_USER_BY_EMAIL,
    TZ_Q_USER_BY_ID,
    TZ_Q_REFRESH_ISSUE,
    TZ_Q_REFRESH_ROTATE,
    TZ_Q_LOGOUT,
    TZ_Q_CREATOR_PUBLIC,
    TZ_Q_CREATOR_ME,
    TZ_Q_CREATOR_UPDATE,
    TZ_Q_FOLLOW,
    TZ_Q_CREATOR_ANALYTICS,
    TZ_Q_WALLET_BALANCE_AT,
    TZ_Q_WALLET_STATEMENT,
    TZ_Q_WALLET_STATEMENT_LINES,
    TZ_Q_WALLET,
    TZ_Q_WALLET_TRANSACTIONS,
    TZ_Q_IDEM_BEGIN,
    TZ_Q_IDEM_ABORT,
    TZ_Q_PAYMENT_CREATE,
    TZ_Q_TOPUP_CREATE,
    TZ_Q_PACKAGE_TOPUP,
    TZ_Q_PAYMENT_WALLET,
    TZ_Q_PAYMENT_QUOTE,
    TZ_Q_PAYMENT_CHECKOUT,
    TZ_Q_APPLY_EVENT,
    TZ_Q_APPLY_REFUND_EVENT,
    TZ_Q_APPLY_DISPUTE_EVENT,
    TZ_Q_REFUND_BEGIN,
    TZ_Q_REFUND_ANSWER,
    TZ_Q_REFUNDS_DUE,
    TZ_Q_POLL_DUE,
    TZ_Q_POLL_ANSWERED,
    TZ_Q_ADMIN_DISPUTES,
    TZ_Q_PAYMENT_RESOLVE,
    TZ_Q_PAYMENT_GET,
    TZ_Q_PAYMENT_PUBLIC,
    TZ_Q_PAYMENTS_LIST,
    TZ_Q_PAYMENTS_EXPIRE,
    TZ_Q_PAYOUT_REQUEST,
    TZ_Q_PAYOUT_ACTION,
    TZ_Q_PAYOUTS_LIST,
    TZ_Q_BILLER_CREATE,
    TZ_Q_BILLERS_LIST,
    TZ_Q_BILLER_GET,
    TZ_Q_BILL_PAY,
    TZ_Q_BILL_ANSWER,
    TZ_Q_BILLS_DUE,
    TZ_Q_BILL_GET,
    TZ_Q_BILLS_LIST,
    TZ_Q_RECONCILIATION,
    TZ_Q_RECEIPT,
    TZ_Q_ADMIN_TRANSACTIONS,
    TZ_Q_ADMIN_OVERVIEW,
    TZ_Q_AUDIT_LOG,
    TZ_Q_AUDIT,
    TZ_Q_TRANSFER_CREATE,
    TZ_Q_TRANSFERS_LIST,
    TZ_Q_ADJUSTMENT_CREATE,
    TZ_Q_ADJUSTMENT_DECIDE,
    TZ_Q_ADJUSTMENTS_LIST,
    TZ_Q_PACKAGES_LIST,
    TZ_Q_PACKAGE_CREATE,
    TZ_Q_PACKAGE_UPDATE,
    TZ_Q_PLAN_CREATE,
    TZ_Q_PLAN_UPDATE,
    TZ_Q_PLANS_LIST,
    TZ_Q_SUBSCRIPTION_CREATE,
    TZ_Q_SUBSCRIPTION_GET,
    TZ_Q_SUBSCRIPTIONS_LIST,
    TZ_Q_SUBSCRIPTION_ACTION,
    TZ_Q_SCHEDULE_CREATE,
    TZ_Q_SCHEDULE_GET,
    TZ_Q_SCHEDULES_LIST,
    TZ_Q_SCHEDULE_ACTION,
    TZ_Q_BILLING_ANSWER,
    TZ_Q_BILLING_DUE,
    TZ_Q_BILLING_CHARGE,
    TZ_Q_BILLING_OFFER,
    TZ_Q_CLOCK,
    TZ_Q_INVOICE_GET,
    TZ_Q_INVOICES_LIST,
    TZ_Q_ENDPOINT_CREATE,
    TZ_Q_ENDPOINTS_LIST,
    TZ_Q_ENDPOINT_GET,
    TZ_Q_ENDPOINT_UPDATE,
    TZ_Q_ENDPOINT_DELETE,
    TZ_Q_ENDPOINT_DELIVERIES,
    TZ_Q_DELIVERIES_LIST,
    TZ_Q_ADMIN_WALLETS,
    TZ_Q_DELIVERY_RESEND,
    TZ_Q_OUTBOX_FANOUT,
    TZ_Q_OUTBOX_CLAIM,
    TZ_Q_OUTBOX_REPORT,
    TZ_Q_MAIL_CLAIM,
    TZ_Q_MAIL_REPORT,
    TZ_Q_OUTBOX_PRUNE,
    TZ_Q_METRICS,
    TZ_Q__COUNT
} tz_query_e;

typedef struct {
    const char *label; /* tipzed_<stem> */
    const char *sql;   /* SELECT tz_api_<stem>(...)::text */
    int nargs;
    const char *stem;  /* <STEM> of TZ_Q_<STEM>, as spelled in the enum */
} tz_stmt_t;

extern const tz_stmt_t tz_statements[TZ_Q__COUNT];

#endif
