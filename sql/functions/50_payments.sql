-- Payments: idempotency keys, creation, the provider's checkout answer, the
-- one function that applies a provider event (state machine + ledger entry
-- in one transaction), refunds, reads and expiry.
--
-- Payment states: pending -> succeeded | failed | expired; succeeded |
-- partially_refunded -> refund_pending -> refunded | partially_refunded (or
-- back when the provider refuses: sql/functions/52_refunds.sql); review is
-- entered when money and record disagree.  Terminal states never go back,
-- except that a verified success for an expired payment still credits (the
-- money was taken).

CREATE OR REPLACE FUNCTION tz_payment_json(p payments) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN json_build_object(
    'id', p.id, 'fan_id', p.fan_id,
    'creator_id', CASE WHEN p.purpose <> 'topup' THEN p.creator_id END, 'amount', p.amount,
    'currency', p.currency, 'fee', p.fee, 'net', p.net, 'status', p.status,
    'review_reason', p.review_reason, 'provider', p.provider,
    'provider_transaction_id', p.provider_transaction_id, 'message', p.message, 'mobile_money_url', p.mobile_money_url,
    'refunded_amount', p.refunded_amount, 'disputed_amount', p.disputed_amount,
    'purpose', p.purpose, 'source', p.source, 'payment_url', p.mobile_money_url,
    'package_id', p.package_id, 'bonus', p.bonus, 'from_cashback', p.from_cashback,
    'tax', p.tax, 'tax_name', p.tax_name,
    'subscription_id', p.subscription_id, 'schedule_id', p.schedule_id, 'period', p.period,
    'cashback', p.cashback - p.cashback_reversed,
    'splits', (SELECT json_agg(json_build_object('creator_id', s.creator_id,
                                                 'share_bps', s.share_bps, 'amount', s.amount)
                               ORDER BY s.position)
                 FROM payment_splits s WHERE s.payment_id = p.id),
    'created_at', tz_ts(p.created_at), 'updated_at', tz_ts(p.updated_at));
END $$;

-- Claims an idempotency key.  {"state": "new"} when this request owns it;
-- "replay" with the stored status and response; "mismatch" when the key was
-- used for a different request; "in_flight" while the first is running.
-- A key left in flight for over 5 minutes (its request died) is taken over.
CREATE OR REPLACE FUNCTION tz_api_idem_begin(p_user uuid, p_key text, p_fingerprint text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  k idempotency_keys;
BEGIN
  DELETE FROM idempotency_keys
   WHERE user_id = p_user AND key = p_key AND created_at < now() - interval '24 hours';
  INSERT INTO idempotency_keys (user_id, key, fingerprint)
  VALUES (p_user, p_key, p_fingerprint)
  ON CONFLICT DO NOTHING RETURNING * INTO k;
  IF k.user_id IS NOT NULL THEN
    RETURN json_build_object('state', 'new');
  END IF;
  SELECT * INTO k FROM idempotency_keys WHERE user_id = p_user AND key = p_key FOR UPDATE;
  IF k.fingerprint <> p_fingerprint THEN
    RETURN json_build_object('state', 'mismatch');
  ELSIF k.state = 'done' THEN
    RETURN json_build_object('state', 'replay', 'status', k.status, 'response', k.response);
  ELSIF k.created_at < now() - interval '5 minutes' THEN
    UPDATE idempotency_keys SET created_at = now() WHERE user_id = p_user AND key = p_key;
    RETURN json_build_object('state', 'new');
  END IF;
  RETURN json_build_object('state', 'in_flight');
END $$;

-- Stores the answer under the caller's key, in the transaction of the
-- money movement it describes: once that commits, the same key can only
-- replay it, whatever happens to the connection or the child before the
-- answer is sent.  Returns p_response, for the caller to return.
CREATE OR REPLACE FUNCTION tz_idem_store(p_user uuid, p_key text, p_status int, p_response json)
RETURNS json LANGUAGE plpgsql AS $$
BEGIN
  IF p_key IS NOT NULL THEN
    UPDATE idempotency_keys SET state = 'done', status = p_status, response = p_response::text
     WHERE user_id = p_user AND key = p_key AND state = 'in_flight';
  END IF;
  RETURN p_response;
END $$;

-- Releases a key whose request failed for a retryable reason (5xx).
CREATE OR REPLACE FUNCTION tz_api_idem_abort(p_user uuid, p_key text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  DELETE FROM idempotency_keys WHERE user_id = p_user AND key = p_key AND state = 'in_flight';
END $$;

-- Creates a pending payment; the fee is fixed at creation with tz_fee().
-- {"error": "creator_not_found"} unless creator_id is a creator.  With a
-- checkout link (p_url: a redirect gateway's) the answer is complete and is
-- stored under the fan's idempotency key p_key in this transaction; an API
-- checkout stores it with tz_api_payment_checkout instead.  p_poll: seconds
-- until the provider is first asked about the payment if no webhook came
-- (NULL: the provider cannot be asked).  p_cashback_bps, p_cashback_cap:
-- the cashback the payment earns its payer once credited (0: none);
-- p_referral_bonus: what the payer's referrer receives should this be
-- the payer's first success.  p_splits: the tip's splits
-- ([{creator_id, share_bps}, ...], NULL: none; 53_splits.sql), refused
-- with {"error": "invalid_splits", "message": ...}.  p_tax: TipzedTax
-- ({"name", "bps", "inclusive"} or NULL): p_amount is the price, and the
-- payment's amount is what is paid (tz_tax_apply).  p_reserve_bps,
-- p_reserve_days: TipzedReserve (0 0: off), held at the credit
-- (63_reserves.sql).
CREATE OR REPLACE FUNCTION tz_api_payment_create(p_id uuid, p_fan uuid, p_creator uuid,
                                                 p_amount bigint, p_currency text,
                                                 p_message text, p_provider text,
                                                 p_fee_bps int, p_expiry bigint, p_url text,
                                                 p_key text, p_phone text, p_poll bigint,
                                                 p_cashback_bps int, p_cashback_cap bigint,
                                                 p_referral_bonus bigint, p_splits json,
                                                 p_tax json, p_reserve_bps int,
                                                 p_reserve_days int)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  p payments;
  fee bigint;
  answer jsonb;
  refused json;
  t record := tz_tax_apply(p_amount, p_tax);
BEGIN
  PERFORM 1 FROM creator_profiles WHERE user_id = p_creator;
  IF NOT FOUND THEN
    RETURN json_build_object('error', 'creator_not_found');
  END IF;
  refused := coalesce(tz_splits_check(p_creator, NULL, p_splits),
                      tz_ops_refused(p_fan, p_creator, false, p_splits));
  IF refused IS NOT NULL THEN
    RETURN refused;
  END IF;
  fee := tz_fee(t.amount, p_fee_bps);
  INSERT INTO payments (id, fan_id, creator_id, amount, currency, fee_bps, fee, net, provider,
                        message, mobile_money_url, expires_at, phone_number, next_poll_at,
                        cashback_bps, cashback_cap, referral_bonus, tax_name, tax_bps,
                        tax_inclusive, tax, reserve_bps, reserve_days)
  VALUES (p_id, p_fan, p_creator, t.amount, p_currency, p_fee_bps, fee, t.amount - fee,
          p_provider, coalesce(p_message, ''), p_url, now() + make_interval(secs => p_expiry),
          p_phone, now() + make_interval(secs => p_poll), p_cashback_bps, p_cashback_cap,
          p_referral_bonus, p_tax->>'name', coalesce((p_tax->>'bps')::int, 0),
          coalesce((p_tax->>'inclusive')::boolean, true), t.tax, p_reserve_bps, p_reserve_days)
  RETURNING * INTO p;
  PERFORM tz_splits_store(p.id, p_splits);
  answer := tz_payment_json(p)::jsonb || jsonb_build_object('payment_id', p.id);
  IF p_url IS NOT NULL THEN
    PERFORM tz_idem_store(p_fan, p_key, 201, answer::json);
  END IF;
  -- _fan_email and _creator_name feed the provider's checkout; the module
  -- removes them before answering (the stored answer never had them).
  RETURN (answer || jsonb_build_object(
            '_fan_email', (SELECT email FROM users WHERE id = p_fan),
            '_creator_name', (SELECT full_name FROM users WHERE id = p_creator)))::json;
END $$;

-- Records what the provider's checkout API answered; a link (NULL for a
-- checkout confirmed on the payer's phone) completes the answer, stored
-- under the fan's idempotency key in this transaction.  p_ref: the
-- provider's name of the checkout, for status calls.
CREATE OR REPLACE FUNCTION tz_api_payment_checkout(p_id uuid, p_url text, p_failed boolean,
                                                   p_key text, p_ref text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  p payments;
BEGIN
  UPDATE payments SET mobile_money_url = CASE WHEN p_failed THEN mobile_money_url ELSE p_url END,
                      status = CASE WHEN p_failed AND status = 'pending' THEN 'failed' ELSE status END,
                      provider_ref = coalesce(p_ref, provider_ref), updated_at = now()
   WHERE id = p_id
  RETURNING * INTO p;
  IF p.id IS NULL THEN
    RETURN NULL;
  ELSIF p_failed THEN
    RETURN tz_payment_json(p);
  END IF;
  RETURN tz_idem_store(p.fan_id, p_key, 201,
                       (tz_payment_json(p)::jsonb || jsonb_build_object('payment_id', p.id))::json);
END $$;

-- Posts the credit of a succeeded payment with gross G and fee F, in one
-- entry: the payer's side -G (provider_clearing; or, paid from the wallet,
-- the payer's cashback balance, then main), platform_fees +F, and G-F to
-- the recipient (a top-up's recipient is the payer's own wallet, which
-- also receives the bonus from promotions).  A split tip's G-F is shared
-- among its creators by tz_split_amounts(), one wallet leg each
-- (53_splits.sql).  A recipient who owes (a receivable from a dispute or a
-- refund the wallet could not cover) repays from what is credited first:
-- the receivable takes its share before the wallet sees the rest.  Then
-- the payer's cashback and the referrer's bonus (tz_payment_succeeded).
-- Under a rolling reserve (payments.reserve_bps) a share of each
-- creator's share is held in its reserve_hold account, in this entry
-- (63_reserves.sql).
-- A subscription's or a schedule's charge first pays its period
-- (tz_billing_paid, 55_billing.sql), or becomes a top-up of its payer.
CREATE OR REPLACE FUNCTION tz_payment_credit(p payments) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  acc bigint[];
  amt bigint[];
  who uuid[];
  share bigint[];
  extra bigint[] := '{}';
  rsv record;
BEGIN
  p := tz_billing_paid(p);
  IF p.source = 'wallet' THEN
    acc := ARRAY[tz_account('cashback', p.fan_id, NULL, p.currency),
                 tz_account('wallet', p.fan_id, NULL, p.currency)];
    amt := ARRAY[-p.from_cashback, -(p.amount - p.from_cashback)];
  ELSE
    acc := ARRAY[tz_account('provider_clearing', NULL, p.provider, p.currency)];
    amt := ARRAY[-p.amount];
  END IF;
  IF p.bonus > 0 THEN
    acc := acc || tz_account('promotions', NULL, NULL, p.currency);
    amt := amt || -p.bonus;
  END IF;
  acc := acc || tz_account('platform_fees', NULL, NULL, p.currency);
  amt := amt || p.fee;
  -- each creator's share of the net (a top-up's recipient: with the bonus)
  SELECT array_agg(s.creator_id ORDER BY s.pos),
         array_agg(s.amount + CASE WHEN s.creator_id = p.creator_id THEN p.bonus ELSE 0 END
                   ORDER BY s.pos)
    INTO who, share FROM tz_payment_shares(p, p.net) s;
  -- the accounts the cashback grant and the referral bonus will post to
  -- are locked with these, in the one global order
  IF p.purpose <> 'topup' AND p.cashback_bps > 0 AND p.cashback_cap > 0 THEN
    extra := ARRAY[tz_account('promotions', NULL, NULL, p.currency),
                   tz_account('cashback', p.fan_id, NULL, p.currency)];
  END IF;
  IF p.referral_bonus > 0 THEN
    extra := extra || tz_referral_accounts(p.fan_id, p.currency);
  END IF;
  -- the reserve's share of each creator's share is held (63_reserves.sql)
  rsv := tz_reserve_credit_legs(p, who, share);
  SELECT * INTO r FROM tz_post_creator_entry('payment:' || p.id || ':credit',
                                             CASE p.source WHEN 'wallet' THEN 'wallet_payment'
                                                           ELSE 'payment' END,
                                             p.id, p.currency, acc || rsv.acc, amt || rsv.amt,
                                             who, (SELECT array_agg(s - h ORDER BY i)
                                                     FROM unnest(share, rsv.held)
                                                          WITH ORDINALITY AS u(s, h, i)),
                                             extra, false);
  IF NOT r.duplicate THEN
    -- (a tip has no bonus: its shares are what its creators earned)
    UPDATE payment_splits s SET amount = u.a FROM unnest(who, share) AS u(c, a)
     WHERE s.payment_id = p.id AND s.creator_id = u.c;
    PERFORM tz_reserve_record(p, who, rsv.held);
    PERFORM tz_split_earnings(p, who, share);
    PERFORM tz_rollup_credit(p, who, share);
    PERFORM tz_payment_succeeded(p);
  END IF;
END $$;

-- Applies one provider event to its payment, atomically: the delivery is
-- recorded under its event id (a duplicate changes nothing), the state
-- machine decides, and a success posts the credit in the same transaction.
-- Kinds: success, failed, unverified (a reported success the provider's
-- verification contradicts).  Refunds and disputes have functions of their
-- own (52_refunds.sql, 54_disputes.sql).
-- Outcomes: duplicate, not_found, credited, review, failed, noop.
-- The answer names the payment's creator, and all its creators
-- (creator_ids: a split tip has several), so that the module can drop
-- their cached public profiles (earnings) after a credit.
CREATE OR REPLACE FUNCTION tz_api_apply_event(p_provider text, p_event_id text, p_payment uuid,
                                              p_kind text, p_provider_tx text, p_amount bigint,
                                              p_currency text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  p payments;
  v_outcome text;
  mismatch boolean;
BEGIN
  SELECT * INTO p FROM payments WHERE id = p_payment AND provider = p_provider FOR UPDATE;
  IF p.id IS NULL THEN
    RETURN json_build_object('outcome', 'not_found');
  END IF;
  mismatch := (p_amount IS NOT NULL AND p_amount <> p.amount)
              OR (p_currency IS NOT NULL AND p_currency <> p.currency);
  v_outcome := CASE
    WHEN p_kind = 'success' AND p.status IN ('pending', 'expired') AND mismatch THEN 'review'
    WHEN p_kind = 'success' AND p.status IN ('pending', 'expired') THEN 'credited'
    WHEN p_kind = 'success' AND p.status = 'failed' THEN 'review'
    WHEN p_kind = 'unverified' AND p.status IN ('pending', 'expired', 'failed') THEN 'review'
    WHEN p_kind = 'failed' AND p.status = 'pending' THEN 'failed'
    ELSE 'noop' END;
  -- the outcome follows from the payment as locked and the event alone, so
  -- the event's row is written once, with it (the transaction is whole or
  -- nothing: a credit that fails takes the row with it)
  INSERT INTO webhook_events (provider, event_id, payment_id, kind, outcome)
  VALUES (p_provider, p_event_id, p_payment, p_kind, v_outcome) ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    RETURN json_build_object('outcome', 'duplicate', 'status', p.status);
  END IF;
  IF v_outcome = 'credited' THEN
    PERFORM tz_payment_credit(p);
  END IF;
  IF v_outcome <> 'noop' THEN
    UPDATE payments SET
      status = CASE v_outcome WHEN 'credited' THEN 'succeeded' ELSE v_outcome END,
      provider_transaction_id = coalesce(p_provider_tx, provider_transaction_id),
      review_reason = CASE WHEN v_outcome = 'review' THEN
        CASE WHEN mismatch THEN 'amount or currency differs from the payment'
             WHEN p_kind = 'unverified' THEN 'the provider did not confirm the charge'
             ELSE 'success reported for a failed payment' END END,
      updated_at = now()
     WHERE id = p.id RETURNING * INTO p;
  END IF;
  RETURN json_build_object('outcome', v_outcome, 'status', p.status, 'creator_id', p.creator_id,
                           'creator_ids', tz_payment_creator_ids(p.id));
END $$;

-- An admin resolves a payment in review: credit (the money was taken) or
-- fail (it was not); the state, the ledger entry, the audit row and the
-- answer under the admin's idempotency key, one transaction.
-- {"error": "not_found"} or {"error": "conflict", "status": <current>}.
CREATE OR REPLACE FUNCTION tz_api_payment_resolve(p_id uuid, p_action text, p_reason text,
                                                  p_admin uuid, p_request text, p_key text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  p payments;
BEGIN
  SELECT * INTO p FROM payments WHERE id = p_id FOR UPDATE;
  IF p.id IS NULL THEN
    RETURN json_build_object('error', 'not_found');
  ELSIF p.status <> 'review' OR p_action NOT IN ('credit', 'fail') THEN
    RETURN json_build_object('error', 'conflict', 'status', p.status);
  END IF;
  IF p_action = 'credit' THEN
    PERFORM tz_payment_credit(p);
  END IF;
  UPDATE payments SET status = CASE p_action WHEN 'credit' THEN 'succeeded' ELSE 'failed' END,
                      updated_at = now()
   WHERE id = p_id RETURNING * INTO p;
  PERFORM tz_api_audit(p_admin, 'payment.resolve', 'payment', p_id::text,
                         p_action || ': ' || p_reason, p_request);
  RETURN tz_idem_store(p_admin, p_key, 200, tz_payment_json(p));
END $$;

-- A payment as its payer, its recipients (a split tip's creators too) or
-- an admin sees it; NULL for anyone else (the API answers 404: existence
-- does not leak).
CREATE OR REPLACE FUNCTION tz_api_payment_get(p_id uuid, p_user uuid, p_role text) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (SELECT tz_payment_json(p) FROM payments p
           WHERE p.id = p_id
             AND (p_role = 'admin' OR p.fan_id = p_user OR p.creator_id = p_user
                  OR EXISTS (SELECT 1 FROM payment_splits s
                              WHERE s.payment_id = p.id AND s.creator_id = p_user)));
END $$;

-- The sandbox checkout page's view (no caller: the page is the payer's link).
CREATE OR REPLACE FUNCTION tz_api_payment_public(p_id uuid) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (SELECT json_build_object('id', p.id, 'amount', p.amount, 'currency', p.currency,
                                   'status', p.status, 'provider', p.provider,
                                   'creator', (SELECT full_name FROM users WHERE id = p.creator_id))
            FROM payments p WHERE p.id = p_id);
END $$;

-- GET /payments: those the user paid, received, or has a share of, newest
-- first.  Keyset: after the payment p_after (one of the caller's), else
-- from the top; each of the three ways a payment is the user's is read in
-- the list's order on its own index, at most one page (plus p_offset) each.
CREATE OR REPLACE FUNCTION tz_api_payments_list(p_user uuid, p_limit int, p_offset bigint,
                                                p_after uuid)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c_at timestamptz := 'infinity'; c_id uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
  v_n bigint := p_limit + 1 + p_offset;
BEGIN
  IF p_after IS NOT NULL THEN
    SELECT created_at, id INTO c_at, c_id FROM payments
     WHERE id = p_after AND (fan_id = p_user OR creator_id = p_user
                             OR id IN (SELECT payment_id FROM payment_splits
                                        WHERE creator_id = p_user));
    IF NOT FOUND THEN RETURN json_build_object('error', 'starting_after'); END IF;
  END IF;
  RETURN (WITH page AS (
    SELECT tz_payment_json(p) AS j, row_number() OVER (ORDER BY p.created_at DESC, p.id DESC) AS n
      FROM payments p
     WHERE p.id IN (
       SELECT id FROM (
         (SELECT id, created_at FROM payments
           WHERE fan_id = p_user AND (created_at, id) < (c_at, c_id)
           ORDER BY created_at DESC, id DESC LIMIT v_n)
         UNION
         (SELECT id, created_at FROM payments
           WHERE creator_id = p_user AND (created_at, id) < (c_at, c_id)
           ORDER BY created_at DESC, id DESC LIMIT v_n)
         UNION
         (SELECT x.id, x.created_at FROM payment_splits s JOIN payments x ON x.id = s.payment_id
           WHERE s.creator_id = p_user AND (x.created_at, x.id) < (c_at, c_id)
           ORDER BY x.created_at DESC, x.id DESC LIMIT v_n)) mine
        ORDER BY created_at DESC, id DESC LIMIT p_limit + 1 OFFSET p_offset)
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit));
END $$;

-- Stale pending payments expire (run by the module's watchdog); returns how
-- many did.  A payment of a provider that can be asked about it
-- (p_pollable) expires only once the provider was asked after its expiry
-- time and still had no verdict -- or a day later, if the provider could
-- not be reached all that time.
CREATE OR REPLACE FUNCTION tz_api_payments_expire(p_pollable text[]) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  n int;
BEGIN
  -- Every node's watchdog runs this: the payments are claimed FOR UPDATE
  -- SKIP LOCKED, so that a node skips the rows another node is expiring
  -- (two plain UPDATEs of one set may lock its rows in different orders
  -- and deadlock) and those a credit is settling; a payment skipped is
  -- looked at again at the next tick, by whichever node comes first.
  UPDATE payments p SET status = 'expired', updated_at = now()
   WHERE p.id IN (SELECT id FROM payments
                   WHERE status = 'pending' AND expires_at < now()
                     AND (provider <> ALL (coalesce(p_pollable, '{}')) OR polled_at >= expires_at
                          OR expires_at < now() - interval '1 day')
                     FOR UPDATE SKIP LOCKED);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
