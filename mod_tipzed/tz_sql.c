#include "tz_sql.h"

/* The label and the function name are made from the enum's stem, so the
 * three cannot disagree; tests/unit/test_sql.c checks the lower-case
 * spelling against the enum's. */
#define TZ_API(STEM, stem, args, n) \
    [TZ_Q_##STEM] = {"tipzed_" #stem, "SELECT tz_api_" #stem "(" args ")::text", n, #STEM}

const tz_stmt_t tz_statements[TZ_Q__COUNT] = {
    [TZ_Q_PING] = {"tipzed_ping", "SELECT 1", 0, "PING"},
    TZ_API(SCHEMA_STATE, schema_state, "", 0),
    TZ_API(REGISTER, register, "%s, %s, %s, %s", 4),
    TZ_API(USER_BY_EMAIL, user_by_email, "%s", 1),
    TZ_API(USER_BY_ID, user_by_id, "%s::uuid", 1),
    TZ_API(REFRESH_ISSUE, refresh_issue, "%s::uuid, %s, %s::bigint", 3),
    TZ_API(REFRESH_ROTATE, refresh_rotate, "%s, %s, %s::bigint", 3),
    TZ_API(LOGOUT, logout, "%s, %s::uuid", 2),
    TZ_API(CREATOR_PUBLIC, creator_public, "%s::uuid, %s", 2),
    TZ_API(CREATOR_ME, creator_me, "%s::uuid, %s", 2),
    TZ_API(CREATOR_UPDATE, creator_update, "%s::uuid, %s, %s, %s, %s, %s, %s", 7),
    TZ_API(FOLLOW, follow, "%s::uuid, %s::uuid, %s::boolean", 3),
    TZ_API(WALLET, wallet, "%s::uuid, %s", 2),
    TZ_API(WALLET_TRANSACTIONS, wallet_transactions, "%s::uuid, %s, %s::int, %s::bigint", 4),
    TZ_API(IDEM_BEGIN, idem_begin, "%s::uuid, %s, %s", 3),
    TZ_API(IDEM_ABORT, idem_abort, "%s::uuid, %s", 2),
    TZ_API(PAYMENT_CREATE, payment_create,
           "%s::uuid, %s::uuid, %s::uuid, %s::bigint, %s, %s, %s, %s::int, %s::bigint, %s, %s, %s, "
           "%s::bigint", 13),
    TZ_API(PAYMENT_CHECKOUT, payment_checkout, "%s::uuid, %s, %s::boolean, %s, %s", 5),
    TZ_API(APPLY_EVENT, apply_event, "%s, %s, %s::uuid, %s, %s, %s::bigint, %s", 7),
    TZ_API(APPLY_REFUND_EVENT, apply_refund_event,
           "%s, %s, %s::uuid, %s, %s::uuid, %s, %s, %s::bigint, %s::bigint, %s", 10),
    TZ_API(APPLY_DISPUTE_EVENT, apply_dispute_event,
           "%s, %s, %s::uuid, %s, %s, %s, %s::bigint, %s", 8),
    TZ_API(REFUND_BEGIN, refund_begin,
           "%s::uuid, %s::uuid, %s::uuid, %s::bigint, %s, %s, %s, %s::text[], %s::text[]", 9),
    TZ_API(REFUND_ANSWER, refund_answer, "%s::uuid, %s, %s, %s, %s::uuid, %s, %s::bigint", 7),
    TZ_API(REFUNDS_DUE, refunds_due, "%s::text[], %s::int", 2),
    TZ_API(POLL_DUE, poll_due, "%s::text[], %s::bigint, %s::int", 3),
    TZ_API(POLL_ANSWERED, poll_answered, "%s::uuid", 1),
    TZ_API(ADMIN_DISPUTES, admin_disputes, "%s, %s::int, %s::bigint", 3),
    TZ_API(PAYMENT_RESOLVE, payment_resolve, "%s::uuid, %s, %s, %s::uuid, %s, %s", 6),
    TZ_API(PAYMENT_GET, payment_get, "%s::uuid, %s::uuid, %s", 3),
    TZ_API(PAYMENT_PUBLIC, payment_public, "%s::uuid", 1),
    TZ_API(PAYMENTS_LIST, payments_list, "%s::uuid, %s::int, %s::bigint", 3),
    TZ_API(PAYMENTS_EXPIRE, payments_expire, "%s::text[]", 1),
    TZ_API(PAYOUT_REQUEST, payout_request,
           "%s::uuid, %s::uuid, %s::bigint, %s, %s, %s, %s::bigint, %s", 8),
    TZ_API(PAYOUT_ACTION, payout_action, "%s::uuid, %s, %s::uuid, %s, %s, %s", 6),
    TZ_API(PAYOUTS_LIST, payouts_list, "%s::uuid, %s, %s::int, %s::bigint", 4),
    TZ_API(RECONCILIATION, reconciliation, "", 0),
    TZ_API(ADMIN_TRANSACTIONS, admin_transactions,
           "%s, %s::uuid, %s::uuid, %s::timestamptz, %s::timestamptz, %s::int, %s::bigint", 7),
    TZ_API(AUDIT_LOG, audit_log, "%s::int, %s::bigint", 2),
    TZ_API(AUDIT, audit, "%s::uuid, %s, %s, %s, %s, %s", 6),
};
