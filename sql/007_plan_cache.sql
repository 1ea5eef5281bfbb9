-- 007: per-request functions in PL/pgSQL, so their plans are cached.
--
-- PostgreSQL 15 plans the body of a LANGUAGE sql function again on every
-- call unless it can inline it (a single expression with no FROM and no
-- subquery), while PL/pgSQL keeps each statement's plan for the life of the
-- session -- and mod_dbd's connections live long.  Measured with pgbench on
-- GET /creators/{id}'s function: 3,000 calls/s as SQL, 8,000-9,500 as
-- PL/pgSQL.  The bodies stay where they were written (001-006); this
-- rewraps them unchanged:
--   SETOF ...               -> RETURN QUERY <body>
--   void, INSERT/UPDATE/DELETE -> <body>
--   a value, INSERT/UPDATE/DELETE ... RETURNING -> <body> INTO r; RETURN r
--   a value, SELECT / WITH ... SELECT           -> RETURN (<body>)
-- Pure-expression functions (tz_ts, tz_user_json, tz_payment_json,
-- tz_payout_json) stay SQL: the planner inlines them into their callers.
-- New per-request functions are written in PL/pgSQL directly.
DO $migration$
DECLARE
  names text[] := ARRAY[
    'tz_refresh_issue', 'tz_logout', 'tz_idem_finish', 'tz_idem_abort', 'tz_payment_checkout',
    'tz_api_payment_get', 'tz_payment_public', 'tz_api_payments_list',
    'tz_creator_public_json', 'tz_api_creator_public', 'tz_api_creator_me',
    'tz_payout_status', 'tz_pending_payouts', 'tz_wallet_lines', 'tz_api_wallet',
    'tz_api_wallet_transactions', 'tz_audit', 'tz_api_payouts_list',
    'tz_api_admin_transactions', 'tz_api_audit_log'];
  f record;
  body text;
  dml boolean;
  done int := 0;
BEGIN
  FOR f IN
    SELECT p.oid, p.proname, p.prosrc, p.proretset, p.prorettype = 'void'::regtype AS void,
           pg_get_function_arguments(p.oid) AS args, pg_get_function_result(p.oid) AS result,
           CASE p.provolatile WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END
             AS volatility
      FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
     WHERE p.pronamespace = 'public'::regnamespace AND p.proname = ANY (names)
       AND l.lanname = 'sql'
  LOOP
    body := btrim(f.prosrc, E' \t\n;');
    IF position(';' IN body) > 0 THEN
      RAISE EXCEPTION '%: more than one statement; rewrite it by hand', f.proname;
    END IF;
    dml := body ~* '^(INSERT|UPDATE|DELETE)\M';
    body := CASE
      WHEN f.proretset THEN format('BEGIN RETURN QUERY %s; END', body)
      WHEN f.void AND dml THEN format('BEGIN %s; END', body)
      WHEN dml THEN format('DECLARE r %s; BEGIN %s INTO r; RETURN r; END', f.result, body)
      WHEN body ~* '^(SELECT|WITH)\M' AND body !~* '\m(INSERT|UPDATE|DELETE)\M'
        THEN format('BEGIN RETURN (%s); END', body)
      END;
    IF body IS NULL THEN
      RAISE EXCEPTION '%: unexpected shape; rewrite it by hand', f.proname;
    END IF;
    EXECUTE format('CREATE OR REPLACE FUNCTION %I(%s) RETURNS %s LANGUAGE plpgsql %s AS %L',
                   f.proname, f.args, f.result, f.volatility, body);
    done := done + 1;
  END LOOP;
  IF done <> cardinality(names) THEN
    RAISE EXCEPTION 'converted % of % functions', done, cardinality(names);
  END IF;
END
$migration$;
