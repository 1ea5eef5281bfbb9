-- Disputes (chargebacks) reported by providers.
--
--   opened  the disputed amount D leaves the creator and the platform for
--           dispute_hold: dispute_hold +D, platform_fees -f, and -(D-f)
--           from the creator (its reserve first, 63_reserves.sql; then
--           the wallet as far as it goes, the rest owed
--           as a receivable, recovered from the creator's later credits
--           before the wallet sees them; wallets never go negative)
--   won     released: dispute_hold -D, platform_fees +f, +(D-f) to the
--           creator (repaying the receivable first)
--   lost    settled: dispute_hold -D, provider_clearing +D (the provider
--           took the money back)
--
-- A split tip's creators each give (and get back) their part of D-f, as
-- for a refund (tz_split_takeback(), 53_splits.sql).
--
-- Fee policy: a dispute is a refund the payer forced, so the platform's fee
-- is shared the way a refund shares it (proportionally, 52_refunds.sql);
-- the provider's own dispute fee is a cost of the platform outside this
-- ledger.  A dispute takes back at most what is left of the payment (less
-- a refund in flight); one that finds nothing left (the payment was
-- refunded, or taken by an earlier dispute) is recorded with amount 0 and
-- moves nothing, so that admins still see it.  Its figures are kept in
-- payments.disputed_amount / disputed_fee while it is open or lost.

CREATE OR REPLACE FUNCTION tz_dispute_json(d disputes) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN json_build_object(
    'id', d.id, 'payment_id', d.payment_id, 'provider', d.provider,
    'provider_dispute_id', d.provider_dispute_id, 'amount', d.amount, 'fee', d.fee,
    'currency', (SELECT currency FROM payments WHERE id = d.payment_id), 'status', d.status,
    'reason', d.reason, 'created_at', tz_ts(d.created_at), 'updated_at', tz_ts(d.updated_at));
END $$;

-- Every account a dispute event of payment p may post to: the hold, the
-- release or the settlement, and what a lost dispute takes back of the
-- bonus and the cashback.  Locked before the event's first entry, since
-- no account may be locked after a transaction's first posting
-- (30_ledger.sql, the chain), and an event may open and close a dispute.
CREATE OR REPLACE FUNCTION tz_dispute_accounts(p payments) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
  acc bigint[] := ARRAY[tz_account('dispute_hold', NULL, NULL, p.currency),
                        tz_account('platform_fees', NULL, NULL, p.currency),
                        tz_account('provider_clearing', NULL, p.provider, p.currency)];
  c uuid;
BEGIN
  FOR c IN SELECT p.creator_id UNION SELECT creator_id FROM payment_splits WHERE payment_id = p.id
  LOOP
    acc := acc || ARRAY[tz_account('wallet', c, NULL, p.currency),
                        tz_account('creator_receivable', c, NULL, p.currency)];
  END LOOP;
  RETURN acc || tz_takeback_accounts(p) || tz_reserve_accounts(p);
END $$;

-- Opens a dispute of payment p (locked by the caller): the hold.
CREATE OR REPLACE FUNCTION tz_dispute_open(p payments, p_provider text, p_dispute text,
                                           p_amount bigint, p_reason text)
RETURNS disputes LANGUAGE plpgsql AS $$
DECLARE
  d disputes;
  pending bigint := coalesce((SELECT amount FROM refunds
                               WHERE payment_id = p.id AND status = 'pending'), 0);
  amt bigint := greatest(0, least(coalesce(p_amount, p.amount), tz_payment_left(p) - pending));
  f bigint := tz_fee_share(p, amt);
BEGIN
  INSERT INTO disputes (payment_id, provider, provider_dispute_id, amount, fee, reason)
  VALUES (p.id, p_provider, p_dispute, amt, f, left(p_reason, 500)) RETURNING * INTO d;
  IF amt = 0 THEN
    RETURN d;
  END IF;
  PERFORM tz_creator_debit(p, 'dispute:' || d.id || ':hold', 'dispute_hold',
                           tz_account('dispute_hold', NULL, NULL, p.currency), amt - f, f);
  UPDATE payments SET disputed_amount = disputed_amount + amt, disputed_fee = disputed_fee + f,
                      updated_at = now()
   WHERE id = p.id;
  RETURN d;
END $$;

-- Closes an open dispute: won releases the hold (to each creator what the
-- release gives back of its part, p being the payment with the dispute
-- still counted), lost settles it.
CREATE OR REPLACE FUNCTION tz_dispute_close(p payments, d disputes, p_status text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  who uuid[];
  back bigint[];
  r record;
BEGIN
  IF d.amount = 0 THEN
    NULL;  -- nothing was held
  ELSIF p_status = 'won' THEN
    SELECT array_agg(t.creator_id), array_agg(-t.amount) INTO who, back
      FROM tz_split_takeback(p, -(d.amount - d.fee)) t;
    SELECT * INTO r FROM tz_post_creator_entry(
      'dispute:' || d.id || ':release', 'dispute_release', p.id, p.currency,
      ARRAY[tz_account('dispute_hold', NULL, NULL, p.currency),
            tz_account('platform_fees', NULL, NULL, p.currency)],
      ARRAY[-d.amount, d.fee], who, back, NULL, true);
    IF NOT r.duplicate THEN
      PERFORM tz_split_earnings(p, who, back);
      PERFORM tz_rollup_takeback(p, who, back);
    END IF;
    UPDATE payments SET disputed_amount = disputed_amount - d.amount,
                        disputed_fee = disputed_fee - d.fee, updated_at = now()
     WHERE id = p.id;
  ELSE
    PERFORM tz_post_entry('dispute:' || d.id || ':settle', 'dispute_settle', p.id, NULL,
                          p.currency,
                          ARRAY[tz_account('dispute_hold', NULL, NULL, p.currency),
                                tz_account('provider_clearing', NULL, p.provider, p.currency)],
                          ARRAY[-d.amount, d.amount]);
  END IF;
  UPDATE disputes SET status = p_status, updated_at = now() WHERE id = d.id;
  IF p_status = 'lost' AND d.amount > 0 THEN
    PERFORM tz_invoice_credit(p, NULL, d.id, d.amount);
    -- for good: the bonus's and the cashback's shares go back to promotions
    PERFORM tz_payment_takeback((SELECT x FROM payments x WHERE x.id = p.id), 'dispute:' || d.id);
  END IF;
END $$;

-- A provider's dispute event, applied once (recorded under its event id):
-- the first news of a dispute opens it (whatever its state), a final state
-- closes it.  A dispute of a payment never credited moves nothing.
-- Outcomes: not_found, duplicate, dispute_opened, dispute_won,
-- dispute_lost, not_credited, noop (several at once are joined by '+').
CREATE OR REPLACE FUNCTION tz_api_apply_dispute_event(p_provider text, p_event_id text,
                                                      p_payment uuid, p_provider_tx text,
                                                      p_dispute text, p_status text,
                                                      p_amount bigint, p_reason text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  p payments;
  d disputes;
  v_outcome text := 'noop';
BEGIN
  p := tz_event_payment(p_provider, p_event_id, p_payment, p_provider_tx, 'dispute');
  IF p.id IS NULL OR p.status IS NULL THEN
    RETURN json_build_object('outcome', CASE WHEN p.id IS NULL THEN 'not_found' ELSE 'duplicate' END,
                             'status', tz_payment_status(p.id));
  END IF;
  SELECT * INTO d FROM disputes WHERE provider = p_provider AND provider_dispute_id = p_dispute
     FOR UPDATE;
  IF (d.id IS NULL AND p.status IN ('succeeded', 'refund_pending', 'partially_refunded', 'refunded'))
     OR (d.status = 'open' AND p_status IN ('won', 'lost')) THEN
    PERFORM tz_lock_accounts(tz_dispute_accounts(p));
  END IF;
  IF d.id IS NULL THEN
    IF p.status NOT IN ('succeeded', 'refund_pending', 'partially_refunded', 'refunded') THEN
      v_outcome := 'not_credited';
    ELSE
      d := tz_dispute_open(p, p_provider, p_dispute, p_amount, p_reason);
      v_outcome := 'dispute_opened';
    END IF;
  END IF;
  IF d.status = 'open' AND p_status IN ('won', 'lost') THEN
    SELECT * INTO p FROM payments WHERE id = p.id;
    PERFORM tz_dispute_close(p, d, p_status);
    v_outcome := CASE WHEN v_outcome = 'noop' THEN '' ELSE v_outcome || '+' END
                 || 'dispute_' || p_status;
  END IF;
  UPDATE webhook_events SET outcome = v_outcome
   WHERE provider = p_provider AND event_id = p_event_id;
  RETURN json_build_object('outcome', v_outcome, 'status', p.status, 'creator_id', p.creator_id,
                           'creator_ids', tz_payment_creator_ids(p.id), 'payment_id', p.id);
END $$;

-- GET /admin/disputes?status=: disputes, newest first (keyset: after p_after).
CREATE OR REPLACE FUNCTION tz_api_admin_disputes(p_status text, p_limit int, p_offset bigint,
                                                 p_after uuid)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c_at timestamptz := 'infinity'; c_id uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
BEGIN
  IF p_after IS NOT NULL THEN
    SELECT created_at, id INTO c_at, c_id FROM disputes WHERE id = p_after;
    IF NOT FOUND THEN RETURN json_build_object('error', 'starting_after'); END IF;
  END IF;
  RETURN (WITH page AS (
    SELECT tz_dispute_json(d) AS j, row_number() OVER () AS n FROM (
      SELECT * FROM disputes WHERE (p_status IS NULL OR status = p_status)
         AND (created_at, id) < (c_at, c_id)
       ORDER BY created_at DESC, id DESC LIMIT p_limit + 1 OFFSET p_offset) d
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit));
END $$;
