-- Payouts:
--
--   pending -> approved -> processing -> completed
--   pending | approved -> rejected;  processing -> failed;  pending -> cancelled
--
-- Requesting moves the amount wallet -> payout_hold in the same transaction
-- as the balance check (the posting path refuses an overdraft), so
-- concurrent requests can never overdraw.  Completing moves hold ->
-- payouts_settled; rejecting, failing and cancelling return hold -> wallet.

-- The sealed bank account is returned for the module to mask.
CREATE OR REPLACE FUNCTION tz_payout_json(o payouts) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', o.id, 'creator_id', o.creator_id, 'amount', o.amount, 'currency', o.currency,
    'status', o.status, 'bank_account_enc', o.bank_account_enc, 'account_name', o.account_name,
    'note', o.note, 'reason', o.reason, 'provider_reference', o.provider_reference,
    'created_at', tz_ts(o.created_at), 'updated_at', tz_ts(o.updated_at))
$$;

CREATE OR REPLACE FUNCTION tz_payout_move(o payouts, p_step text) RETURNS void
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

-- {"error": "below_minimum" | "no_bank_account" | "insufficient_funds"},
-- {"error": "first_payout_delayed", "opens_at": ...} (TipzedFirstPayoutDelay,
-- p_first_delay days: tz_payout_opens_at, 63_reserves.sql) or the payout
-- plus payout_id, stored under the creator's idempotency key p_key in the
-- transaction of the hold.
CREATE OR REPLACE FUNCTION tz_api_payout_request(p_id uuid, p_creator uuid, p_amount bigint,
                                                 p_currency text, p_bank_enc text,
                                                 p_account_name text, p_min bigint, p_key text,
                                                 p_first_delay int)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  o payouts;
  prof creator_profiles;
  opens timestamptz := tz_payout_opens_at(p_creator, p_first_delay);
BEGIN
  IF tz_ops_refusal(p_creator, NULL, true) IS NOT NULL THEN
    RETURN tz_ops_refused(p_creator, NULL, true);
  ELSIF p_amount < p_min THEN
    RETURN json_build_object('error', 'below_minimum');
  ELSIF opens IS NOT NULL THEN
    RETURN json_build_object('error', 'first_payout_delayed', 'opens_at', tz_ts(opens));
  END IF;
  SELECT * INTO prof FROM creator_profiles WHERE user_id = p_creator;
  IF coalesce(p_bank_enc, prof.bank_account_enc) IS NULL THEN
    RETURN json_build_object('error', 'no_bank_account');
  END IF;
  IF NOT tz_email_verified(p_creator) THEN  -- docs/accounts.md
    RETURN json_build_object('error', 'email_unverified');
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
  RETURN tz_idem_store(p_creator, p_key, 201,
                       (tz_payout_json(o)::jsonb || jsonb_build_object('payout_id', o.id))::json);
END $$;

-- One lifecycle step.  {"error": "not_found"} or {"error": "conflict",
-- "status": <current>} when the lifecycle does not allow it.  Steps taken by
-- an admin are written to the audit log in the same transaction.
CREATE OR REPLACE FUNCTION tz_api_payout_action(p_id uuid, p_action text, p_actor uuid,
                                                p_role text, p_text text, p_request text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
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
  ELSIF p_action IN ('approve', 'process', 'complete')
        AND tz_ops_refusal(o.creator_id, NULL, true) IS NOT NULL THEN
    -- a suspended creator is not paid out, nor one whose wallet is frozen:
    -- the hold stays until reinstated, unfrozen or rejected
    RETURN json_build_object('error', replace(tz_ops_refusal(o.creator_id, NULL, true),
                                              'account_', 'creator_'));
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
    PERFORM tz_api_audit(p_actor, 'payout.' || p_action, 'payout', p_id::text, p_text, p_request);
  END IF;
  RETURN tz_payout_json(o);
END $$;

CREATE OR REPLACE FUNCTION tz_payout_status(p_id uuid) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT status FROM payouts WHERE id = p_id);
END $$;

-- What a creator's wallet has on hold for payouts not yet settled or returned.
CREATE OR REPLACE FUNCTION tz_pending_payouts(p_user uuid, p_currency text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT coalesce(sum(amount), 0)::bigint FROM payouts
           WHERE creator_id = p_user AND currency = p_currency
             AND status IN ('pending', 'approved', 'processing'));
END $$;

-- GET /payouts/me (p_creator) and /admin/payouts (NULL: every creator's),
-- newest first; keyset after p_after (in the same list).
CREATE OR REPLACE FUNCTION tz_api_payouts_list(p_creator uuid, p_status text, p_limit int,
                                               p_offset bigint, p_after uuid)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c_at timestamptz := 'infinity'; c_id uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
BEGIN
  IF p_after IS NOT NULL THEN
    SELECT created_at, id INTO c_at, c_id FROM payouts
     WHERE id = p_after AND (p_creator IS NULL OR creator_id = p_creator);
    IF NOT FOUND THEN RETURN json_build_object('error', 'starting_after'); END IF;
  END IF;
  RETURN (WITH page AS (
    SELECT tz_payout_json(o) AS j, row_number() OVER () AS n FROM (
      SELECT * FROM payouts
       WHERE (p_creator IS NULL OR creator_id = p_creator) AND (p_status IS NULL OR status = p_status)
         AND (created_at, id) < (c_at, c_id)
       ORDER BY created_at DESC, id DESC LIMIT p_limit + 1 OFFSET p_offset) o
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit));
END $$;
