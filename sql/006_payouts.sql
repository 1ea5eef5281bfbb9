-- 006: payouts (seed 001's lifecycle) and the append-only audit log.
--
--   pending -> approved -> processing -> completed
--   pending | approved -> rejected;  processing -> failed;  pending -> cancelled
--
-- Requesting moves the amount wallet -> payout_hold in the same transaction
-- as the balance check (the posting path refuses an overdraft), so
-- concurrent requests can never overdraw.  Completing moves hold ->
-- payouts_settled; rejecting, failing and cancelling return hold -> wallet.

CREATE TABLE payouts (
  id                 uuid PRIMARY KEY,
  creator_id         uuid NOT NULL REFERENCES users (id),
  amount             bigint NOT NULL CHECK (amount > 0),
  currency           char(3) NOT NULL,
  status             text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'approved', 'processing', 'completed',
                                       'rejected', 'failed', 'cancelled')),
  bank_account_enc   text NOT NULL,
  account_name       text,
  note               text,
  reason             text,
  provider_reference text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payouts_creator_idx ON payouts (creator_id, created_at DESC);
CREATE INDEX payouts_status_idx ON payouts (status, created_at DESC);

-- Who did what, when: admin actions, refunds, admin logins.  Append-only.
CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  actor_id    uuid,
  action      text NOT NULL,
  target_type text,
  target_id   text,
  note        text,
  request_id  text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER audit_log_immutable BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION tz_ledger_immutable();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION tz_ledger_immutable();

CREATE FUNCTION tz_audit(p_actor uuid, p_action text, p_type text, p_target text, p_note text,
                         p_request text) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO audit_log (actor_id, action, target_type, target_id, note, request_id)
  VALUES (p_actor, p_action, p_type, p_target, p_note, p_request)
$$;

-- The sealed bank account is returned for the module to mask.
CREATE FUNCTION tz_payout_json(o payouts) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', o.id, 'creator_id', o.creator_id, 'amount', o.amount, 'currency', o.currency,
    'status', o.status, 'bank_account_enc', o.bank_account_enc, 'account_name', o.account_name,
    'note', o.note, 'reason', o.reason, 'provider_reference', o.provider_reference,
    'created_at', tz_ts(o.created_at), 'updated_at', tz_ts(o.updated_at))
$$;

CREATE FUNCTION tz_payout_move(o payouts, p_step text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  wallet bigint := tz_account('wallet', o.creator_id, NULL, o.currency);
  hold bigint := tz_account('payout_hold', NULL, NULL, o.currency);
BEGIN
  IF p_step = 'hold' THEN
    PERFORM tz_post_entry('payout:' || o.id || ':hold', 'payout_hold', NULL, o.id, o.currency,
                          ARRAY[wallet, hold], ARRAY[-o.amount, o.amount]);
  ELSIF p_step = 'settle' THEN
    PERFORM tz_post_entry('payout:' || o.id || ':settle', 'payout_settle', NULL, o.id, o.currency,
                          ARRAY[hold, tz_account('payouts_settled', NULL, NULL, o.currency)],
                          ARRAY[-o.amount, o.amount]);
  ELSE
    PERFORM tz_post_entry('payout:' || o.id || ':release', 'payout_release', NULL, o.id, o.currency,
                          ARRAY[hold, wallet], ARRAY[-o.amount, o.amount]);
  END IF;
END $$;

-- {"error": "below_minimum" | "no_bank_account" | "insufficient_funds"} or
-- the payout plus payout_id.
CREATE FUNCTION tz_api_payout_request(p_id uuid, p_creator uuid, p_amount bigint, p_currency text,
                                      p_bank_enc text, p_account_name text, p_min bigint)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
  o payouts;
  prof creator_profiles;
BEGIN
  IF p_amount < p_min THEN
    RETURN json_build_object('error', 'below_minimum');
  END IF;
  SELECT * INTO prof FROM creator_profiles WHERE user_id = p_creator;
  IF coalesce(p_bank_enc, prof.bank_account_enc) IS NULL THEN
    RETURN json_build_object('error', 'no_bank_account');
  END IF;
  INSERT INTO payouts (id, creator_id, amount, currency, bank_account_enc, account_name)
  VALUES (p_id, p_creator, p_amount, p_currency, coalesce(p_bank_enc, prof.bank_account_enc),
          coalesce(p_account_name, prof.account_name))
  RETURNING * INTO o;
  BEGIN
    PERFORM tz_payout_move(o, 'hold');
  EXCEPTION WHEN SQLSTATE 'TZ001' THEN
    DELETE FROM payouts WHERE id = p_id;
    RETURN json_build_object('error', 'insufficient_funds');
  END;
  RETURN (tz_payout_json(o)::jsonb || jsonb_build_object('payout_id', o.id))::json;
END $$;

-- One lifecycle step.  {"error": "not_found"} or {"error": "conflict",
-- "status": <current>} when the lifecycle does not allow it.
CREATE FUNCTION tz_api_payout_action(p_id uuid, p_action text, p_actor uuid, p_role text,
                                     p_text text, p_request text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
  o payouts;
  allowed text[];
  target text;
BEGIN
  SELECT * INTO o FROM payouts WHERE id = p_id FOR UPDATE;
  IF o.id IS NULL OR (p_role <> 'admin' AND o.creator_id <> p_actor) THEN
    RETURN json_build_object('error', 'not_found');
  END IF;
  SELECT f, t INTO allowed, target FROM (VALUES
    ('approve', ARRAY['pending'], 'approved'), ('reject', ARRAY['pending', 'approved'], 'rejected'),
    ('process', ARRAY['approved'], 'processing'), ('complete', ARRAY['processing'], 'completed'),
    ('fail', ARRAY['processing'], 'failed'), ('cancel', ARRAY['pending'], 'cancelled')) AS m(a, f, t)
   WHERE a = p_action;
  IF target IS NULL OR NOT o.status = ANY (allowed) THEN
    RETURN json_build_object('error', 'conflict', 'status', o.status);
  END IF;
  IF target = 'completed' THEN
    PERFORM tz_payout_move(o, 'settle');
  ELSIF target IN ('rejected', 'failed', 'cancelled') THEN
    PERFORM tz_payout_move(o, 'release');
  END IF;
  UPDATE payouts SET status = target, updated_at = now(),
         note = CASE WHEN p_action = 'approve' THEN coalesce(p_text, note) ELSE note END,
         reason = CASE WHEN p_action IN ('reject', 'fail') THEN p_text ELSE reason END,
         provider_reference = CASE WHEN p_action IN ('process', 'complete')
                                   THEN coalesce(p_text, provider_reference) ELSE provider_reference END
   WHERE id = p_id RETURNING * INTO o;
  IF p_role = 'admin' THEN
    PERFORM tz_audit(p_actor, 'payout.' || p_action, 'payout', p_id::text, p_text, p_request);
  END IF;
  RETURN tz_payout_json(o);
END $$;

CREATE OR REPLACE FUNCTION tz_payout_status(p_id uuid) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT status FROM payouts WHERE id = p_id $$;

CREATE OR REPLACE FUNCTION tz_pending_payouts(p_user uuid, p_currency text) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT coalesce(sum(amount), 0)::bigint FROM payouts
   WHERE creator_id = p_user AND currency = p_currency
     AND status IN ('pending', 'approved', 'processing')
$$;

CREATE FUNCTION tz_api_payouts_list(p_creator uuid, p_status text, p_limit int, p_offset bigint)
RETURNS json LANGUAGE sql STABLE AS $$
  WITH page AS (
    SELECT tz_payout_json(o) AS j, row_number() OVER () AS n FROM (
      SELECT * FROM payouts
       WHERE (p_creator IS NULL OR creator_id = p_creator) AND (p_status IS NULL OR status = p_status)
       ORDER BY created_at DESC, id DESC LIMIT p_limit + 1 OFFSET p_offset) o
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit)
$$;

-- Payouts against the ledger: a hold for every payout, a settlement only
-- for completed ones, a release only for rejected, failed or cancelled ones.
CREATE FUNCTION tz_reconcile_payouts() RETURNS TABLE (check_name text, id text, detail text)
LANGUAGE sql STABLE AS $$
  SELECT 'payout_entries', o.id::text,
         format('status %s with %s hold, %s settle, %s release entries', o.status,
                count(*) FILTER (WHERE e.kind = 'payout_hold'),
                count(*) FILTER (WHERE e.kind = 'payout_settle'),
                count(*) FILTER (WHERE e.kind = 'payout_release'))
    FROM payouts o LEFT JOIN journal_entries e ON e.payout_id = o.id
   GROUP BY o.id
  HAVING count(*) FILTER (WHERE e.kind = 'payout_hold') <> 1
      OR count(*) FILTER (WHERE e.kind = 'payout_settle') <> (o.status = 'completed')::int
      OR count(*) FILTER (WHERE e.kind = 'payout_release')
         <> (o.status IN ('rejected', 'failed', 'cancelled'))::int
$$;

CREATE OR REPLACE FUNCTION tz_reconcile() RETURNS TABLE (check_name text, id text, detail text)
LANGUAGE sql STABLE AS $$
  SELECT * FROM tz_reconcile_ledger()
  UNION ALL SELECT * FROM tz_reconcile_payments()
  UNION ALL SELECT * FROM tz_reconcile_payouts()
$$;

-- GET /admin/reconciliation: every check with its mismatches.
CREATE FUNCTION tz_api_reconciliation() RETURNS json
LANGUAGE sql STABLE AS $$
  WITH checks(name) AS (VALUES ('entries_balanced'), ('cached_balances'), ('no_negative_wallets'),
                               ('payments_credited'), ('payment_amounts'), ('payments_refunded'),
                               ('payout_entries')),
       m AS (SELECT * FROM tz_reconcile())
  SELECT json_build_object(
    'ok', NOT EXISTS (SELECT 1 FROM m), 'checked_at', tz_ts(now()),
    'checks', (SELECT json_agg(json_build_object(
        'name', c.name, 'ok', NOT EXISTS (SELECT 1 FROM m WHERE m.check_name = c.name),
        'mismatches', coalesce((SELECT json_agg(json_build_object('id', m.id, 'detail', m.detail))
                                  FROM m WHERE m.check_name = c.name), '[]'::json)))
        FROM checks c))
$$;

-- GET /admin/transactions: payments with filters.
CREATE FUNCTION tz_api_admin_transactions(p_status text, p_creator uuid, p_fan uuid,
                                          p_from timestamptz, p_to timestamptz,
                                          p_limit int, p_offset bigint)
RETURNS json LANGUAGE sql STABLE AS $$
  WITH page AS (
    SELECT tz_payment_json(p) AS j, row_number() OVER () AS n FROM (
      SELECT * FROM payments
       WHERE (p_status IS NULL OR status = p_status) AND (p_creator IS NULL OR creator_id = p_creator)
         AND (p_fan IS NULL OR fan_id = p_fan) AND (p_from IS NULL OR created_at >= p_from)
         AND (p_to IS NULL OR created_at < p_to)
       ORDER BY created_at DESC, id DESC LIMIT p_limit + 1 OFFSET p_offset) p
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit)
$$;

CREATE FUNCTION tz_api_audit_log(p_limit int, p_offset bigint) RETURNS json
LANGUAGE sql STABLE AS $$
  WITH page AS (
    SELECT json_build_object('id', a.id, 'actor_id', a.actor_id, 'action', a.action,
                             'target_type', a.target_type, 'target_id', a.target_id,
                             'note', a.note, 'request_id', a.request_id,
                             'created_at', tz_ts(a.created_at)) AS j,
           row_number() OVER (ORDER BY a.id DESC) AS n
      FROM (SELECT * FROM audit_log ORDER BY id DESC LIMIT p_limit + 1 OFFSET p_offset) a
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit)
$$;
