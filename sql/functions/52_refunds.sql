-- Refunds through the provider, full or partial.
--
--   POST /payments/{id}/refund   tz_api_refund_begin() records a pending
--                                refund (the payment is refund_pending),
--                                the module asks the provider, and
--                                tz_api_refund_answer() records the answer
--   provider webhooks            tz_api_apply_refund_event()
--   the watchdog                 tz_api_refunds_due() for refunds whose
--                                answer was lost or is still pending
--
-- The ledger moves once, when the provider confirms (its answer or its
-- webhook, whichever comes first): provider_clearing +A, platform_fees -f,
-- and -(A-f) from the creator (the wallet as far as it goes, the rest
-- owed as a receivable; tz_creator_legs()).  A split tip's A-f is taken
-- from each of its creators by the split rule applied to the net taken
-- back in all (tz_split_takeback(), 53_splits.sql), so that partial
-- refunds add up per creator to exactly what a full refund takes.  A
-- refusal moves nothing and the payment goes back to succeeded or
-- partially_refunded.
--
-- Fee reversal is proportional: after refunds (and disputes) that took back
-- R of a payment of gross G and fee F, the fee reversed in total is
-- round-half-up(F * R / G), and each refund reverses the difference between
-- that total after it and before it.  So partial refunds add up to exactly
-- the fee a full refund reverses, never a ngwee more or less.

CREATE OR REPLACE FUNCTION tz_refund_json(rf refunds) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', rf.id, 'payment_id', rf.payment_id, 'amount', rf.amount, 'fee', rf.fee,
    'status', rf.status, 'reason', rf.reason, 'provider_refund_id', rf.provider_refund_id,
    'failure_reason', rf.failure_reason, 'created_at', tz_ts(rf.created_at),
    'updated_at', tz_ts(rf.updated_at))
$$;

-- The fee share of taking back p_more more of payment p (see above).
CREATE OR REPLACE FUNCTION tz_fee_share(p payments, p_more bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  taken bigint := p.refunded_amount + p.disputed_amount + p_more;
  share bigint;
BEGIN
  share := floor(p.fee::numeric * taken / p.amount + 0.5)::bigint
           - (p.refunded_fee + p.disputed_fee);
  RETURN greatest(0, least(share, p_more, p.fee - p.refunded_fee - p.disputed_fee));
END $$;

-- What can still be taken back of a payment.
CREATE OR REPLACE FUNCTION tz_payment_left(p payments) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT p.amount - p.refunded_amount - p.disputed_amount
$$;

-- The state a credited payment is in, given its refunds.
CREATE OR REPLACE FUNCTION tz_refund_state(p payments) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM refunds WHERE payment_id = p.id AND status = 'pending') THEN
    RETURN 'refund_pending';
  ELSIF p.refunded_amount >= p.amount THEN
    RETURN 'refunded';
  ELSIF p.refunded_amount > 0 THEN
    RETURN 'partially_refunded';
  END IF;
  RETURN 'succeeded';
END $$;

-- Money given back to a creator's payer (a refund) or taken by a dispute:
-- -p_net from the creator (its reserve, tz_reserve_draw(); then wallet, then receivable; a split tip's
-- creators each their part, tz_split_takeback()), -p_fee from the
-- platform's fees, +(p_net + p_fee) on p_to (split as p_to_amounts, when
-- the payer's side is several accounts).  The accounts are locked in id
-- order before the wallets' balances are read, with those that taking
-- back the bonus and the cashback may post to next (tz_takeback_accounts).
-- p is the payment before the movement's figures are added to it.
CREATE OR REPLACE FUNCTION tz_creator_debit_to(p payments, p_reference text, p_kind text,
                                               p_to bigint[], p_to_amounts bigint[],
                                               p_net bigint, p_fee bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  who uuid[];
  moved bigint[];
  r record;
  rsv record;
BEGIN
  SELECT array_agg(t.creator_id), array_agg(-t.amount) INTO who, moved
    FROM tz_split_takeback(p, p_net) t;
  -- the reserve first: a refund draws on its payment's hold, a dispute on
  -- the creator's holds (63_reserves.sql)
  rsv := tz_reserve_draw(p, who, moved, p_kind = 'dispute_hold');
  SELECT * INTO r FROM tz_post_creator_entry(
    p_reference, p_kind, p.id, p.currency,
    p_to || tz_account('platform_fees', NULL, NULL, p.currency) || rsv.acc,
    p_to_amounts || -p_fee || rsv.amt, who, rsv.rest, tz_takeback_accounts(p), true);
  IF NOT r.duplicate THEN
    PERFORM tz_split_earnings(p, who, moved);
    PERFORM tz_rollup_takeback(p, who, moved);
  END IF;
END $$;

CREATE OR REPLACE FUNCTION tz_creator_debit(p payments, p_reference text, p_kind text,
                                            p_to bigint, p_net bigint, p_fee bigint)
RETURNS void LANGUAGE sql AS $$
  SELECT tz_creator_debit_to(p, p_reference, p_kind, ARRAY[p_to], ARRAY[p_net + p_fee],
                             p_net, p_fee)
$$;

-- Posts a confirmed refund: the fee share is fixed now (disputes may have
-- moved since it was asked), the ledger moves, the payment's totals and
-- state follow, and the shares of its bonus and cashback go back to
-- promotions.  A payment from the wallet is given back to the wallet: to
-- the cashback balance as far as it paid, then to the main balance.  The
-- refund's credit note is issued (67_invoices.sql).  The payment row is
-- locked by the caller.
CREATE OR REPLACE FUNCTION tz_refund_post(p payments, rf refunds) RETURNS payments
LANGUAGE plpgsql AS $$
DECLARE
  f bigint := tz_fee_share(p, rf.amount);
  back_cb bigint := 0;
BEGIN
  UPDATE refunds SET status = 'succeeded', fee = f, next_try_at = NULL, updated_at = now()
   WHERE id = rf.id;
  IF p.source = 'wallet' THEN
    back_cb := least(rf.amount, p.from_cashback - p.cashback_returned);
    PERFORM tz_creator_debit_to(p, 'refund:' || rf.id, 'refund',
                                ARRAY[tz_account('cashback', p.fan_id, NULL, p.currency),
                                      tz_account('wallet', p.fan_id, NULL, p.currency)],
                                ARRAY[back_cb, rf.amount - back_cb], rf.amount - f, f);
  ELSE
    PERFORM tz_creator_debit(p, 'refund:' || rf.id, 'refund',
                             tz_account('provider_clearing', NULL, p.provider, p.currency),
                             rf.amount - f, f);
  END IF;
  UPDATE payments SET refunded_amount = refunded_amount + rf.amount,
                      refunded_fee = refunded_fee + f, cashback_returned = cashback_returned + back_cb,
                      updated_at = now()
   WHERE id = p.id RETURNING * INTO p;
  UPDATE payments SET status = tz_refund_state(p) WHERE id = p.id RETURNING * INTO p;
  PERFORM tz_invoice_credit(p, rf.id, NULL, rf.amount);
  RETURN tz_payment_takeback(p, 'refund:' || rf.id);
END $$;

-- Applies the provider's word on a pending refund, once: succeeded posts
-- it, failed gives the payment its state back, pending (or unknown: no
-- answer) waits and is asked again at p_retry (NULL: only the webhook will
-- tell).  A refund no longer pending is left as it is.
CREATE OR REPLACE FUNCTION tz_refund_settle(p_refund uuid, p_status text, p_provider_refund text,
                                            p_reason text, p_retry timestamptz)
RETURNS refunds LANGUAGE plpgsql AS $$
DECLARE
  p payments;
  rf refunds;
BEGIN
  SELECT * INTO p FROM payments
   WHERE id = (SELECT payment_id FROM refunds WHERE id = p_refund) FOR UPDATE;
  SELECT * INTO rf FROM refunds WHERE id = p_refund FOR UPDATE;
  IF rf.id IS NULL OR rf.status <> 'pending' THEN
    RETURN rf;
  END IF;
  UPDATE refunds SET provider_refund_id = coalesce(p_provider_refund, provider_refund_id),
                     failure_reason = CASE WHEN p_status = 'failed' THEN p_reason END,
                     updated_at = now()
   WHERE id = rf.id RETURNING * INTO rf;
  IF p_status = 'succeeded' THEN
    PERFORM tz_refund_post(p, rf);
  ELSIF p_status = 'failed' THEN
    UPDATE refunds SET status = 'failed', next_try_at = NULL WHERE id = rf.id;
    UPDATE payments SET updated_at = now() WHERE id = p.id RETURNING * INTO p;
    UPDATE payments SET status = tz_refund_state(p) WHERE id = p.id;
  ELSE
    UPDATE refunds SET next_try_at = coalesce(p_retry, next_try_at) WHERE id = rf.id;
  END IF;
  SELECT * INTO rf FROM refunds WHERE id = rf.id;
  RETURN rf;
END $$;

-- POST /payments/{id}/refund {amount?, reason}: checks and records the
-- refund as pending.  Errors: not_found; not_refundable (with status);
-- refund_pending; disputed (a dispute is open); amount_too_large (with
-- left); insufficient_funds (the creator's wallet cannot cover the net
-- part, or a split tip's creator its part of it: an admin does not
-- advance the platform's money); refund_unsupported
-- (with the provider as status: it is not among p_refundable, the enabled
-- providers that can refund).  For a provider that refunds in the ledger
-- alone (p_local) the refund is confirmed here and the answer stored under
-- the admin's key; otherwise the answer is {refund, provider,
-- provider_transaction_id, currency} for the module to ask the provider.
CREATE OR REPLACE FUNCTION tz_api_refund_begin(p_id uuid, p_refund uuid, p_admin uuid,
                                               p_amount bigint, p_reason text, p_request text,
                                               p_key text, p_local text[], p_refundable text[])
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  p payments;
  rf refunds;
  amt bigint;
  f bigint;
BEGIN
  SELECT * INTO p FROM payments WHERE id = p_id FOR UPDATE;
  IF p.id IS NULL THEN
    RETURN json_build_object('error', 'not_found');
  ELSIF p.status = 'refund_pending' THEN
    RETURN json_build_object('error', 'refund_pending', 'status', p.status);
  ELSIF p.status NOT IN ('succeeded', 'partially_refunded') THEN
    RETURN json_build_object('error', 'not_refundable', 'status', p.status);
  ELSIF EXISTS (SELECT 1 FROM disputes WHERE payment_id = p.id AND status = 'open') THEN
    RETURN json_build_object('error', 'disputed', 'status', p.status);
  ELSIF NOT (p.provider = ANY (p_refundable) OR p.source = 'wallet') THEN
    RETURN json_build_object('error', 'refund_unsupported', 'status', p.provider);
  END IF;
  amt := coalesce(p_amount, tz_payment_left(p));
  IF amt <= 0 OR amt > tz_payment_left(p) THEN
    RETURN json_build_object('error', 'amount_too_large', 'left', tz_payment_left(p));
  END IF;
  f := tz_fee_share(p, amt);
  -- a top-up's recipient also gives back the bonus's share
  IF EXISTS (SELECT 1 FROM tz_split_takeback(p, amt - f) t
              WHERE coalesce((SELECT balance FROM accounts WHERE kind = 'wallet'
                                 AND owner_id = t.creator_id AND currency = p.currency), 0)
                    < t.amount + CASE WHEN t.creator_id = p.creator_id
                                      THEN tz_takeback_share(p.bonus, p.bonus_reversed, p.amount,
                                                             tz_payment_taken(p) + amt)
                                      ELSE 0 END)
  THEN
    RETURN json_build_object('error', 'insufficient_funds');
  END IF;
  INSERT INTO refunds (id, payment_id, amount, fee, reason, requested_by, prior_status)
  VALUES (p_refund, p.id, amt, f, p_reason, p_admin, p.status) RETURNING * INTO rf;
  UPDATE payments SET status = 'refund_pending', updated_at = now() WHERE id = p.id;
  PERFORM tz_api_audit(p_admin, 'payment.refund', 'payment', p_id::text,
                       format('%s %s: %s', amt, p.currency, p_reason), p_request);
  IF p.provider = ANY (p_local) OR p.source = 'wallet' THEN
    RETURN tz_api_refund_answer(rf.id, 'succeeded', NULL, NULL, p_admin, p_key);
  END IF;
  RETURN json_build_object('refund', tz_refund_json(rf), 'provider', p.provider,
                           'provider_transaction_id', p.provider_transaction_id,
                           'currency', p.currency);
END $$;

-- The provider's answer to the refund call (p_status succeeded, pending,
-- failed, or unknown: no usable answer), applied once, and the admin's
-- answer: the payment with its refund, code 200 (confirmed), 202 (waiting
-- for the provider) or 409 (refused: not stored, the key is released by
-- the module so that the admin may try again).  p_retry_in: seconds until
-- a pending or unknown refund is asked about again (NULL: not asked).
CREATE OR REPLACE FUNCTION tz_api_refund_answer(p_refund uuid, p_status text,
                                                p_provider_refund text, p_reason text,
                                                p_admin uuid, p_key text,
                                                p_retry_in bigint DEFAULT NULL)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  rf refunds;
  answer json;
  code int;
BEGIN
  rf := tz_refund_settle(p_refund, p_status, p_provider_refund, p_reason,
                         now() + make_interval(secs => p_retry_in));
  IF rf.id IS NULL THEN
    RETURN NULL;
  END IF;
  code := CASE rf.status WHEN 'succeeded' THEN 200 WHEN 'pending' THEN 202 ELSE 409 END;
  answer := (SELECT tz_payment_json(p)::jsonb || jsonb_build_object('refund', tz_refund_json(rf))
               FROM payments p WHERE p.id = rf.payment_id)::json;
  IF code <> 409 THEN
    PERFORM tz_idem_store(p_admin, p_key, code, answer);
  END IF;
  RETURN json_build_object('code', code, 'answer', answer, 'creator_id',
                           (SELECT creator_id FROM payments WHERE id = rf.payment_id),
                           'creator_ids', tz_payment_creator_ids(rf.payment_id));
END $$;

-- The payment a provider's refund or dispute event names: ours by id, or
-- the provider's transaction id stored at payment time.
CREATE OR REPLACE FUNCTION tz_payment_by_ref(p_provider text, p_payment uuid, p_provider_tx text)
RETURNS uuid LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN coalesce(
    (SELECT id FROM payments WHERE id = p_payment AND provider = p_provider),
    (SELECT id FROM payments WHERE p_payment IS NULL AND provider = p_provider
        AND provider_transaction_id = p_provider_tx ORDER BY created_at LIMIT 1));
END $$;

-- The payment a provider's refund or dispute event is about, locked, with
-- the delivery recorded under its event id: NULL when there is no such
-- payment; only its id (status NULL) when the event was recorded before (a
-- duplicate delivery, which changes nothing).
CREATE OR REPLACE FUNCTION tz_event_payment(p_provider text, p_event_id text, p_payment uuid,
                                            p_provider_tx text, p_kind text)
RETURNS payments LANGUAGE plpgsql AS $$
DECLARE
  p payments;
BEGIN
  SELECT * INTO p FROM payments WHERE id = tz_payment_by_ref(p_provider, p_payment, p_provider_tx)
     FOR UPDATE;
  IF p.id IS NOT NULL THEN
    INSERT INTO webhook_events (provider, event_id, payment_id, kind, outcome)
    VALUES (p_provider, p_event_id, p.id, p_kind, 'received') ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
      p.status := NULL;
    END IF;
  END IF;
  RETURN p;
END $$;

CREATE OR REPLACE FUNCTION tz_payment_status(p_id uuid) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT status FROM payments WHERE id = p_id);
END $$;

-- A refund made at the provider without us (its dashboard) is recorded
-- and posted as it happened, up to what is left of the payment.
CREATE OR REPLACE FUNCTION tz_refund_external(p payments, p_amount bigint, p_provider_refund text,
                                              p_reason text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  rf refunds;
  pending bigint := coalesce((SELECT amount FROM refunds
                               WHERE payment_id = p.id AND status = 'pending'), 0);
  amt bigint := least(p_amount, tz_payment_left(p) - pending);
BEGIN
  IF amt <= 0 THEN
    RETURN;
  END IF;
  -- inserted as succeeded: the provider has done it (and one of ours may
  -- be pending beside it)
  INSERT INTO refunds (id, payment_id, amount, fee, status, reason, prior_status,
                       provider_refund_id)
  VALUES (gen_random_uuid(), p.id, amt, 0, 'succeeded',
          left(coalesce(nullif(p_reason, ''), 'refunded at the provider'), 500), p.status,
          p_provider_refund)
  ON CONFLICT (payment_id, provider_refund_id) WHERE provider_refund_id IS NOT NULL DO NOTHING
  RETURNING * INTO rf;
  IF rf.id IS NOT NULL THEN
    PERFORM tz_refund_post(p, rf);
  END IF;
END $$;

-- A provider's refund event, applied once (recorded under its event id).
-- The refund is ours when the event names it (our id or the provider's),
-- else the payment's pending one; a success with nothing of ours pending
-- is a refund made at the provider.  p_total (everything refunded so far,
-- when the provider says it) settles what it covers: our pending refund,
-- then the rest as a refund made at the provider.
-- Outcomes: not_found, duplicate, refunded, refund_failed, noop.
CREATE OR REPLACE FUNCTION tz_api_apply_refund_event(p_provider text, p_event_id text,
                                                     p_payment uuid, p_provider_tx text,
                                                     p_refund uuid, p_provider_refund text,
                                                     p_status text, p_amount bigint,
                                                     p_total bigint, p_reason text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  p payments;
  rf refunds;
  v_outcome text := 'noop';
  before bigint;
BEGIN
  p := tz_event_payment(p_provider, p_event_id, p_payment, p_provider_tx, 'refund');
  IF p.id IS NULL OR p.status IS NULL THEN
    RETURN json_build_object('outcome', CASE WHEN p.id IS NULL THEN 'not_found' ELSE 'duplicate' END,
                             'status', tz_payment_status(p.id));
  END IF;
  SELECT * INTO rf FROM refunds
   WHERE payment_id = p.id AND (id = p_refund OR provider_refund_id = p_provider_refund)
   ORDER BY (id = p_refund) DESC NULLS LAST LIMIT 1;
  IF rf.id IS NULL THEN
    SELECT * INTO rf FROM refunds WHERE payment_id = p.id AND status = 'pending'
       AND (p_amount IS NULL OR amount = p_amount OR p_total IS NOT NULL);
  END IF;
  before := p.refunded_amount;
  IF p.status NOT IN ('succeeded', 'refund_pending', 'partially_refunded', 'refunded') THEN
    v_outcome := 'noop';  -- never credited: there is nothing to take back
  ELSIF p_status = 'failed' AND rf.status = 'pending' THEN
    PERFORM tz_refund_settle(rf.id, 'failed', p_provider_refund, p_reason, NULL);
    v_outcome := 'refund_failed';
  ELSIF p_status = 'succeeded' THEN
    IF rf.status = 'pending' AND (p_total IS NULL OR p_total >= p.refunded_amount + rf.amount) THEN
      PERFORM tz_refund_settle(rf.id, 'succeeded', p_provider_refund, NULL, NULL);
    END IF;
    SELECT * INTO p FROM payments WHERE id = p.id;
    IF p_total IS NOT NULL THEN
      PERFORM tz_refund_external(p, p_total - p.refunded_amount, NULL, p_reason);
    ELSIF rf.id IS NULL AND p_amount IS NOT NULL THEN
      PERFORM tz_refund_external(p, p_amount, p_provider_refund, p_reason);
    END IF;
    SELECT * INTO p FROM payments WHERE id = p.id;
    IF p.refunded_amount > before THEN
      v_outcome := 'refunded';
    END IF;
  ELSIF p_status = 'pending' AND rf.status = 'pending' AND p_provider_refund IS NOT NULL THEN
    UPDATE refunds SET provider_refund_id = p_provider_refund, updated_at = now()
     WHERE id = rf.id AND provider_refund_id IS NULL;
  END IF;
  SELECT * INTO p FROM payments WHERE id = p.id;
  UPDATE webhook_events SET outcome = v_outcome
   WHERE provider = p_provider AND event_id = p_event_id;
  RETURN json_build_object('outcome', v_outcome, 'status', p.status, 'creator_id', p.creator_id,
                           'creator_ids', tz_payment_creator_ids(p.id), 'payment_id', p.id);
END $$;

-- The watchdog's refunds to ask about again: pending ones of providers
-- whose refund call is safe to repeat (p_providers), whose time has come;
-- each is claimed (next try pushed back, doubling up to an hour) so that
-- no two runners ask at once.
CREATE OR REPLACE FUNCTION tz_api_refunds_due(p_providers text[], p_limit int) RETURNS json
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  answer json;
BEGIN
  WITH due AS (
    SELECT r.id FROM refunds r JOIN payments p ON p.id = r.payment_id
     WHERE r.status = 'pending' AND r.next_try_at <= now() AND p.provider = ANY (p_providers)
     ORDER BY r.next_try_at LIMIT p_limit FOR UPDATE OF r SKIP LOCKED
  ), claimed AS (
    UPDATE refunds r SET attempts = attempts + 1,
                         next_try_at = now() + least(interval '1 hour',
                                                     interval '30 seconds' * power(2, least(attempts, 7)))
      FROM due WHERE r.id = due.id RETURNING r.*
  )
  SELECT coalesce(json_agg(json_build_object(
           'refund_id', c.id, 'payment_id', c.payment_id, 'provider', p.provider,
           'provider_transaction_id', p.provider_transaction_id, 'amount', c.amount,
           'currency', p.currency, 'reason', c.reason)), '[]'::json)
    INTO answer
    FROM claimed c JOIN payments p ON p.id = c.payment_id;
  RETURN answer;
END $$;
