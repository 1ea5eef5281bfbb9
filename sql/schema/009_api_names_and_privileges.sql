-- 009: every function the module calls is named tz_api_<stem> and is the
-- only thing the runtime role may execute.
--
-- 1. The functions that were renamed are dropped here; sql/functions/
--    creates them under their new names in the same migration.  A migrated
--    database must not keep both: the old ones were executable by anyone.
DROP FUNCTION IF EXISTS tz_register(text, text, text, text);
DROP FUNCTION IF EXISTS tz_refresh_issue(uuid, text, bigint);
DROP FUNCTION IF EXISTS tz_refresh_rotate(text, text, bigint);
DROP FUNCTION IF EXISTS tz_logout(text, uuid);
DROP FUNCTION IF EXISTS tz_idem_begin(uuid, text, text);
DROP FUNCTION IF EXISTS tz_idem_finish(uuid, text, int, text);
DROP FUNCTION IF EXISTS tz_idem_abort(uuid, text);
DROP FUNCTION IF EXISTS tz_payment_checkout(uuid, text, boolean);
DROP FUNCTION IF EXISTS tz_apply_event(text, text, uuid, text, text, bigint, text);
DROP FUNCTION IF EXISTS tz_payment_public(uuid);
DROP FUNCTION IF EXISTS tz_payments_expire();
DROP FUNCTION IF EXISTS tz_audit(uuid, text, text, text, text, text);

-- 2. Nobody but the owner executes a function unless granted: PostgreSQL
--    grants EXECUTE to PUBLIC on every new function by default.  The grants
--    to the runtime role are made by tz_grant_runtime() on every migrate.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
-- No other role creates objects in the schema (already so on a database
-- created by PostgreSQL 15; a warning, not an error, where the owner of the
-- migrations does not own the schema).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
