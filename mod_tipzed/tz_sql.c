#include "tz_sql.h"

/* Order must follow tz_query_e; tz_sql_check() in the unit tests verifies it. */
const tz_stmt_t tz_statements[TZ_Q__COUNT] = {
    [TZ_Q_PING] = {"tipzed_ping", "SELECT 1", 0},
    [TZ_Q_SCHEMA_VERSION] = {"tipzed_get_schema_version",
        "SELECT coalesce(max(version), 0)::text FROM tz_schema_migrations", 0},
    [TZ_Q_REGISTER] = {"tipzed_insert_user",
        "SELECT tz_register(%s, %s, %s, %s)::text", 4},
    [TZ_Q_USER_BY_EMAIL] = {"tipzed_get_user_by_email",
        "SELECT id::text, role, password_hash, tz_user_json(u)::text"
        " FROM users u WHERE lower(email) = lower(%s)", 1},
    [TZ_Q_USER_BY_ID] = {"tipzed_get_user_by_id",
        "SELECT tz_user_json(u)::text FROM users u WHERE id = %s::uuid", 1},
    [TZ_Q_REFRESH_ISSUE] = {"tipzed_insert_refresh",
        "SELECT tz_refresh_issue(%s::uuid, %s, %s::bigint)::text", 3},
    [TZ_Q_REFRESH_ROTATE] = {"tipzed_rotate_refresh",
        "SELECT tz_refresh_rotate(%s, %s, %s::bigint)::text", 3},
    [TZ_Q_LOGOUT] = {"tipzed_revoke_refresh",
        "SELECT tz_logout(%s, %s::uuid)::text", 2},
    [TZ_Q_CREATOR_PUBLIC] = {"tipzed_get_creator",
        "SELECT tz_api_creator_public(%s::uuid, %s)::text", 2},
    [TZ_Q_CREATOR_ME] = {"tipzed_get_creator_me",
        "SELECT tz_api_creator_me(%s::uuid, %s)::text", 2},
    [TZ_Q_CREATOR_UPDATE] = {"tipzed_update_creator",
        "SELECT tz_api_creator_update(%s::uuid, %s, %s, %s, %s, %s, %s)::text", 7},
    [TZ_Q_FOLLOW] = {"tipzed_set_follow",
        "SELECT tz_api_follow(%s::uuid, %s::uuid, %s::boolean)::text", 3},
    [TZ_Q_WALLET] = {"tipzed_get_wallet",
        "SELECT tz_api_wallet(%s::uuid, %s)::text", 2},
    [TZ_Q_WALLET_TRANSACTIONS] = {"tipzed_list_wallet_transactions",
        "SELECT tz_api_wallet_transactions(%s::uuid, %s, %s::int, %s::bigint)::text", 4},
};
