-- Billing: creators' plans, fans' subscriptions, schedules (recurring
-- payments and installments) and the billing engine's charges
-- (docs/billing.md).
--
-- Subscriptions and schedules are billing items, charged period by period.
-- Period k of an item starts at anchor + (k - anchor_period) intervals
-- (tz_period_start).  next_attempt_at is when the engine (the module's
-- watchdog, on every node) next acts on the item; each action is one call
-- of tz_api_billing_charge, which locks the item (skipping it when another
-- runner holds it), checks again that it is due, and moves it one step:
--
--   renewal     a paid period ended: the next one begins unpaid and is
--               charged from the payer's wallet (cashback balance first)
--   past_due    the wallet could not cover it: a provider payment link is
--               offered (tz_api_billing_offer) and the wallet is tried again
--               daily until TipzedBillingGrace has passed since the first
--               failure; then the subscription is canceled, the schedule
--               failed
--   ends        cancel at period end, a schedule's count reached, an
--               incomplete subscription whose first payment failed
--
-- A period is paid by exactly one payment: billing_charges' primary key
-- (item, period), written by tz_billing_paid in the transaction of the
-- payment's credit.  A period charged from the wallet is paid by the
-- payment tz_billing_payment_id(item, period), so its ledger entry's
-- reference (payment:<id>:credit) is unique per period too.  A provider
-- payment offered for a period that got paid otherwise, or for an item
-- that ended, becomes a top-up of its payer's wallet when it succeeds.
--
-- Time: the engine's "now" is tz_clock(p_sandbox): now(), plus the
-- sandbox's offset (billing_clock) on servers running TipzedSandbox On, so
-- that tests move a month forward in one call.

CREATE OR REPLACE FUNCTION tz_clock(p_sandbox boolean) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN CASE WHEN p_sandbox
              THEN now() + make_interval(secs => (SELECT offset_seconds FROM billing_clock))
              ELSE now() END;
END $$;

-- The start of the period p_steps intervals after p_anchor (UTC calendar:
-- a month after 31 January is the last day of February, two months after
-- it 31 March).
CREATE OR REPLACE FUNCTION tz_period_start(p_anchor timestamptz, p_interval text, p_steps int)
RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
  SELECT ((p_anchor AT TIME ZONE 'UTC') + CASE p_interval
            WHEN 'week' THEN make_interval(days => 7 * p_steps)
            WHEN 'month' THEN make_interval(months => p_steps)
            WHEN 'quarter' THEN make_interval(months => 3 * p_steps)
            ELSE make_interval(years => p_steps) END) AT TIME ZONE 'UTC'
$$;

-- The payment that charges period p_period of item p_item from the wallet.
CREATE OR REPLACE FUNCTION tz_billing_payment_id(p_item uuid, p_period int) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$
  SELECT md5('tipzed-billing:' || p_item::text || ':' || p_period::text)::uuid
$$;

-- ---------------------------------------------------------------- plans

CREATE OR REPLACE FUNCTION tz_plan_json(p plans) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', p.id, 'creator_id', p.creator_id, 'name', p.name, 'description', p.description,
    'amount', p.amount, 'currency', p.currency, 'interval', p.interval,
    'trial_days', p.trial_days, 'splits', p.splits, 'active', p.active,
    'created_at', tz_ts(p.created_at), 'updated_at', tz_ts(p.updated_at))
$$;

-- POST /creators/me/plans.  {"error": "invalid_splits", "message"}.
CREATE OR REPLACE FUNCTION tz_api_plan_create(p_id uuid, p_creator uuid, p_name text,
                                              p_description text, p_amount bigint,
                                              p_currency text, p_interval text,
                                              p_trial_days int, p_splits json, p_key text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  refused json := tz_splits_check(p_creator, NULL, p_splits);
  p plans;
BEGIN
  IF refused IS NOT NULL THEN
    RETURN refused;
  END IF;
  INSERT INTO plans (id, creator_id, name, description, amount, currency, interval, trial_days,
                     splits)
  VALUES (p_id, p_creator, p_name, coalesce(p_description, ''), p_amount, p_currency,
          p_interval, coalesce(p_trial_days, 0), p_splits)
  RETURNING * INTO p;
  RETURN tz_idem_store(p_creator, p_key, 201, tz_plan_json(p));
END $$;

-- PATCH /creators/me/plans/{id}: name, description, active (NULL: kept).
-- A price is never changed: a new price is a new plan.  An inactive plan
-- takes no new subscribers; its subscriptions go on.  {"error": "not_found"}.
CREATE OR REPLACE FUNCTION tz_api_plan_update(p_id uuid, p_creator uuid, p_name text,
                                              p_description text, p_active boolean)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  p plans;
BEGIN
  UPDATE plans SET name = coalesce(p_name, name), description = coalesce(p_description, description),
                   active = coalesce(p_active, active), updated_at = now()
   WHERE id = p_id AND creator_id = p_creator
  RETURNING * INTO p;
  IF p.id IS NULL THEN
    RETURN json_build_object('error', 'not_found');
  END IF;
  RETURN tz_plan_json(p);
END $$;

-- GET /creators/{id}/plans (active ones) and GET /creators/me/plans (p_all:
-- every one), oldest first; NULL when p_creator is not a creator.
CREATE OR REPLACE FUNCTION tz_api_plans_list(p_creator uuid, p_all boolean) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM creator_profiles WHERE user_id = p_creator) THEN
    RETURN NULL;
  END IF;
  RETURN json_build_object('data', coalesce((
    SELECT json_agg(tz_plan_json(p) ORDER BY p.created_at, p.id) FROM plans p
     WHERE p.creator_id = p_creator AND (p_all OR p.active)), '[]'::json));
END $$;

-- ------------------------------------------------------ wallet charges

-- Locks what a payment from p_fan's wallet to p_creator (and the creators
-- of p_splits) posts to, in the one global order, with the accounts of the
-- referral bonus it may pay; answers the payer's two balances.
CREATE OR REPLACE FUNCTION tz_wallet_payment_lock(p_fan uuid, p_creator uuid, p_currency text,
                                                  p_splits json, p_referral_bonus bigint,
                                                  OUT cashback bigint, OUT main bigint)
LANGUAGE plpgsql AS $$
DECLARE
  acc bigint[] := tz_wallet_payment_accounts(p_fan, p_creator, p_currency);
BEGIN
  IF p_splits IS NOT NULL THEN
    acc := acc || ARRAY(SELECT tz_account(k, (e->>'creator_id')::uuid, NULL, p_currency)
                          FROM json_array_elements(p_splits) e,
                               unnest(ARRAY['wallet', 'creator_receivable']) k);
  END IF;
  -- the creators' reserves the credit may hold in, if they exist
  acc := acc || ARRAY(SELECT id FROM accounts
                       WHERE kind = 'reserve_hold' AND currency = p_currency::bpchar
                         AND owner_id IN (SELECT p_creator UNION
                                          SELECT (e->>'creator_id')::uuid
                                            FROM json_array_elements(p_splits) e));
  PERFORM tz_lock_accounts(acc || CASE WHEN p_referral_bonus > 0
                                       THEN tz_referral_accounts(p_fan, p_currency)
                                       ELSE '{}'::bigint[] END);
  SELECT balance INTO cashback FROM accounts WHERE id = acc[1];
  SELECT balance INTO main FROM accounts WHERE id = acc[2];
END $$;

-- The terms a charge is made on, as the module passes them: the fee, the
-- cashback rate and cap, the referral bonus, the rolling reserve
-- (TipzedReserve: bps and days, 0 0 when off), the tax (TipzedTax, or
-- NULL).  They are the terms of the server making the charge at the time
-- it is made, for a renewal as for a first charge: an item does not keep
-- the terms it was created on (docs/risk.md, "Reserves").
CREATE OR REPLACE FUNCTION tz_billing_terms(p_fee_bps int, p_cashback_bps int,
                                            p_cashback_cap bigint, p_referral_bonus bigint,
                                            p_reserve_bps int, p_reserve_days int,
                                            p_tax json)
RETURNS json LANGUAGE sql STABLE AS $$
  SELECT json_build_object('fee_bps', p_fee_bps, 'cashback_bps', p_cashback_bps,
                           'cashback_cap', p_cashback_cap, 'referral_bonus', p_referral_bonus,
                           'reserve_bps', coalesce(p_reserve_bps, 0),
                           'reserve_days', coalesce(p_reserve_days, 0), 'tax', p_tax)
$$;

-- Charges period p_period of an item (p_kind subscription or schedule)
-- from its payer's wallet, in the caller's transaction: the payment (the
-- price p_amount with the terms' tax), its credit, the period marked paid
-- (tz_billing_paid, from the credit).  NULL when the wallet cannot cover
-- it.
CREATE OR REPLACE FUNCTION tz_billing_wallet_charge(p_kind text, p_item uuid, p_period int,
                                                    p_fan uuid, p_creator uuid,
                                                    p_amount bigint, p_currency text,
                                                    p_message text, p_splits json,
                                                    p_terms json)
RETURNS payments LANGUAGE plpgsql AS $$
DECLARE
  bonus bigint := (p_terms->>'referral_bonus')::bigint;
  tx json := p_terms->'tax';
  t record := tz_tax_apply(p_amount, tx);
  b record;
  p payments;
  fee bigint := tz_fee(t.amount, (p_terms->>'fee_bps')::int);
BEGIN
  -- a suspended fan or creator, or a frozen wallet: not charged, as when
  -- the wallet cannot pay (past due, ended after the grace)
  IF tz_ops_refusal(p_fan, p_creator, true, p_splits) IS NOT NULL THEN
    RETURN NULL;
  END IF;
  b := tz_wallet_payment_lock(p_fan, p_creator, p_currency, p_splits, bonus);
  IF b.cashback + b.main < t.amount THEN
    RETURN NULL;
  END IF;
  INSERT INTO payments (id, fan_id, creator_id, amount, currency, fee_bps, fee, net, provider,
                        source, status, message, expires_at, from_cashback, cashback_bps,
                        cashback_cap, referral_bonus, purpose, subscription_id, schedule_id,
                        period, tax_name, tax_bps, tax_inclusive, tax, reserve_bps,
                        reserve_days)
  VALUES (tz_billing_payment_id(p_item, p_period), p_fan, p_creator, t.amount, p_currency,
          (p_terms->>'fee_bps')::int, fee, t.amount - fee, 'wallet', 'wallet', 'succeeded',
          coalesce(p_message, ''), now(), least(b.cashback, t.amount),
          (p_terms->>'cashback_bps')::int, (p_terms->>'cashback_cap')::bigint, bonus, p_kind,
          CASE WHEN p_kind = 'subscription' THEN p_item END,
          CASE WHEN p_kind = 'schedule' THEN p_item END, p_period, tx->>'name',
          coalesce((tx->>'bps')::int, 0), coalesce((tx->>'inclusive')::boolean, true), t.tax,
          (p_terms->>'reserve_bps')::int, (p_terms->>'reserve_days')::int)
  RETURNING * INTO p;
  PERFORM tz_splits_store(p.id, p_splits);
  PERFORM tz_payment_credit(p);
  SELECT * INTO p FROM payments WHERE id = p.id;
  RETURN p;
END $$;

-- Called by tz_payment_credit before it posts: a charge pays its item's
-- period (billing_charges, the item moved on), unless the period is paid
-- already or the item ended -- then the payment becomes a top-up of its
-- payer's wallet (no fee, no splits, no tax: stored value) and is credited
-- as one.
CREATE OR REPLACE FUNCTION tz_billing_paid(p payments) RETURNS payments
LANGUAGE plpgsql AS $$
DECLARE
  item uuid := coalesce(p.subscription_id, p.schedule_id);
  s subscriptions;
  c schedules;
  payable boolean;
BEGIN
  IF p.purpose NOT IN ('subscription', 'schedule')
     OR EXISTS (SELECT 1 FROM billing_charges WHERE payment_id = p.id) THEN
    RETURN p;
  END IF;
  IF p.purpose = 'subscription' THEN
    SELECT * INTO s FROM subscriptions WHERE id = item FOR UPDATE;
    payable := s.period = p.period AND NOT s.paid
               AND s.status IN ('trialing', 'incomplete', 'active', 'past_due');
  ELSE
    SELECT * INTO c FROM schedules WHERE id = item FOR UPDATE;
    payable := c.period = p.period AND NOT c.paid AND c.status IN ('active', 'past_due', 'paused');
  END IF;
  IF NOT payable THEN
    DELETE FROM payment_splits WHERE payment_id = p.id;
    UPDATE payments SET purpose = 'topup', creator_id = fan_id, fee_bps = 0, fee = 0, net = amount,
                        tax_name = NULL, tax_bps = 0, tax = 0, updated_at = now()
     WHERE id = p.id RETURNING * INTO p;
    RETURN p;
  END IF;
  INSERT INTO billing_charges (item_id, period, kind, payment_id)
  VALUES (item, p.period, p.purpose, p.id);
  IF p.purpose = 'subscription' THEN
    UPDATE subscriptions SET paid = true, status = 'active', past_due_since = NULL,
                             next_attempt_at = current_period_end, updated_at = now()
     WHERE id = item;
  ELSE
    UPDATE schedules SET paid = true, charges_made = charges_made + 1, past_due_since = NULL,
                         status = CASE WHEN count = charges_made + 1 THEN 'completed'
                                       WHEN status = 'paused' THEN 'paused' ELSE 'active' END,
                         next_attempt_at = CASE WHEN count = charges_made + 1 OR status = 'paused'
                                                THEN NULL
                                                ELSE tz_period_start(anchor, interval,
                                                                     period + 1 - anchor_period)
                                           END,
                         updated_at = now()
     WHERE id = item;
  END IF;
  RETURN p;
END $$;

-- --------------------------------------------------------- the engine

-- Items whose next action is due, oldest first (at most p_limit of each
-- kind): [{kind, id}, ...].
CREATE OR REPLACE FUNCTION tz_api_billing_due(p_sandbox boolean, p_limit int) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t timestamptz := tz_clock(p_sandbox);
BEGIN
  RETURN coalesce((SELECT json_agg(json_build_object('kind', kind, 'id', id) ORDER BY at) FROM (
    (SELECT 'subscription' AS kind, id, next_attempt_at AS at FROM subscriptions
      WHERE next_attempt_at <= t ORDER BY next_attempt_at LIMIT p_limit)
    UNION ALL
    (SELECT 'schedule', id, next_attempt_at FROM schedules
      WHERE next_attempt_at <= t ORDER BY next_attempt_at LIMIT p_limit)) x), '[]'::json);
END $$;

-- Tries the wallet for an item's unpaid period; on failure the item is
-- past due (retried daily), or, once TipzedBillingGrace has passed since
-- its first failure, ended: p_end_status (canceled or failed).
-- {"outcome": "charged" | "past_due" | "ended", "offer": whether a
-- provider link should be offered, "creator_ids"}.
CREATE OR REPLACE FUNCTION tz_billing_attempt(p_kind text, p_item uuid, p_t timestamptz,
                                              p_grace bigint, p_terms json)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
  s subscriptions;
  c schedules;
  p payments;
  since timestamptz;
  link text;
BEGIN
  IF p_kind = 'subscription' THEN
    SELECT * INTO s FROM subscriptions WHERE id = p_item;
    p := tz_billing_wallet_charge(p_kind, s.id, s.period, s.fan_id, s.creator_id, s.amount,
                                  s.currency, NULL,
                                  (SELECT splits FROM plans WHERE id = s.plan_id), p_terms);
    since := s.past_due_since;
    link := (SELECT status FROM payments WHERE id = s.link_payment_id);
  ELSE
    SELECT * INTO c FROM schedules WHERE id = p_item;
    p := tz_billing_wallet_charge(p_kind, c.id, c.period, c.fan_id, c.creator_id, c.amount,
                                  c.currency, c.message, c.splits, p_terms);
    since := c.past_due_since;
    link := (SELECT status FROM payments WHERE id = c.link_payment_id);
  END IF;
  IF p.id IS NOT NULL THEN
    RETURN json_build_object('outcome', 'charged', 'payment_id', p.id,
                             'creator_ids', tz_payment_creator_ids(p.id));
  END IF;
  IF since IS NOT NULL AND p_t >= since + make_interval(secs => p_grace) THEN
    IF p_kind = 'subscription' THEN
      UPDATE subscriptions SET status = 'canceled', canceled_at = p_t, ended_at = p_t,
                               next_attempt_at = NULL, updated_at = now()
       WHERE id = p_item;
    ELSE
      UPDATE schedules SET status = 'failed', next_attempt_at = NULL, updated_at = now()
       WHERE id = p_item;
    END IF;
    RETURN json_build_object('outcome', 'ended');
  END IF;
  since := coalesce(since, p_t);
  IF p_kind = 'subscription' THEN
    UPDATE subscriptions SET status = 'past_due', past_due_since = since,
                             next_attempt_at = least(p_t + interval '1 day',
                                                     since + make_interval(secs => p_grace)),
                             updated_at = now()
     WHERE id = p_item;
  ELSE
    UPDATE schedules SET status = 'past_due', past_due_since = since,
                         next_attempt_at = least(p_t + interval '1 day',
                                                 since + make_interval(secs => p_grace)),
                         updated_at = now()
     WHERE id = p_item;
  END IF;
  RETURN json_build_object('outcome', 'past_due', 'offer', link IS DISTINCT FROM 'pending');
END $$;

-- One step of a due subscription.
CREATE OR REPLACE FUNCTION tz_subscription_step(s subscriptions, p_t timestamptz, p_grace bigint,
                                                p_terms json)
RETURNS json LANGUAGE plpgsql AS $$
BEGIN
  IF s.status = 'incomplete' THEN
    -- the first payment, through a provider: waited for while pending
    IF (SELECT status FROM payments WHERE id = s.link_payment_id) = 'pending' THEN
      UPDATE subscriptions SET next_attempt_at = p_t + interval '1 hour' WHERE id = s.id;
      RETURN json_build_object('outcome', 'waiting');
    END IF;
    UPDATE subscriptions SET status = 'incomplete_expired', ended_at = p_t,
                             next_attempt_at = NULL, updated_at = now()
     WHERE id = s.id;
    RETURN json_build_object('outcome', 'ended');
  ELSIF s.status = 'past_due' THEN
    RETURN tz_billing_attempt('subscription', s.id, p_t, p_grace, p_terms);
  ELSIF s.status NOT IN ('trialing', 'active') OR NOT s.paid THEN
    UPDATE subscriptions SET next_attempt_at = NULL WHERE id = s.id;
    RETURN json_build_object('outcome', 'noop');
  ELSIF s.cancel_at_period_end THEN
    UPDATE subscriptions SET status = 'canceled', ended_at = current_period_end,
                             next_attempt_at = NULL, updated_at = now()
     WHERE id = s.id;
    RETURN json_build_object('outcome', 'ended');
  END IF;
  -- renewal: the next period begins, unpaid
  UPDATE subscriptions
     SET period = period + 1, paid = false,
         current_period_start = tz_period_start(anchor, interval, period + 1 - anchor_period),
         current_period_end = tz_period_start(anchor, interval, period + 2 - anchor_period),
         updated_at = now()
   WHERE id = s.id;
  RETURN tz_billing_attempt('subscription', s.id, p_t, p_grace, p_terms);
END $$;

-- One step of a due schedule.
CREATE OR REPLACE FUNCTION tz_schedule_step(c schedules, p_t timestamptz, p_grace bigint,
                                            p_terms json)
RETURNS json LANGUAGE plpgsql AS $$
BEGIN
  IF c.status NOT IN ('active', 'past_due') THEN
    UPDATE schedules SET next_attempt_at = NULL WHERE id = c.id;
    RETURN json_build_object('outcome', 'noop');
  ELSIF c.paid THEN
    -- the next charge (a schedule whose count is reached is completed)
    UPDATE schedules SET period = period + 1, paid = false, updated_at = now() WHERE id = c.id;
  END IF;
  RETURN tz_billing_attempt('schedule', c.id, p_t, p_grace, p_terms);
END $$;

-- The engine's one action on a due item (p_kind subscription|schedule),
-- in one transaction.  p_grace: TipzedBillingGrace in seconds; the terms
-- of a charge as tz_billing_terms.  Outcomes: busy (another runner holds
-- the item), not_due, waiting, noop, charged, past_due, ended.  A past
-- due item without a pending link answers "offer": what the module needs
-- to offer one (tz_api_billing_offer).
CREATE OR REPLACE FUNCTION tz_api_billing_charge(p_kind text, p_id uuid, p_sandbox boolean,
                                                 p_grace bigint, p_fee_bps int,
                                                 p_cashback_bps int, p_cashback_cap bigint,
                                                 p_referral_bonus bigint, p_reserve_bps int,
                                                 p_reserve_days int, p_tax json)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t timestamptz := tz_clock(p_sandbox);
  terms json := tz_billing_terms(p_fee_bps, p_cashback_bps, p_cashback_cap, p_referral_bonus,
                                 p_reserve_bps, p_reserve_days, p_tax);
  s subscriptions;
  c schedules;
  res jsonb;
BEGIN
  IF p_kind = 'subscription' THEN
    SELECT * INTO s FROM subscriptions WHERE id = p_id FOR UPDATE SKIP LOCKED;
    IF s.id IS NULL THEN
      RETURN json_build_object('outcome', 'busy');
    ELSIF s.next_attempt_at IS NULL OR s.next_attempt_at > t THEN
      RETURN json_build_object('outcome', 'not_due');
    END IF;
    res := tz_subscription_step(s, t, p_grace, terms)::jsonb;
  ELSE
    SELECT * INTO c FROM schedules WHERE id = p_id FOR UPDATE SKIP LOCKED;
    IF c.id IS NULL THEN
      RETURN json_build_object('outcome', 'busy');
    ELSIF c.next_attempt_at IS NULL OR c.next_attempt_at > t THEN
      RETURN json_build_object('outcome', 'not_due');
    END IF;
    res := tz_schedule_step(c, t, p_grace, terms)::jsonb;
  END IF;
  IF (res->>'offer')::boolean THEN
    res := res || jsonb_build_object('offer', (
      SELECT json_build_object('amount', amount, 'currency', currency, 'provider', provider,
                               'phone_number', phone_number, 'api_url', api_url)
        FROM (SELECT amount, currency, provider, phone_number, api_url FROM subscriptions
               WHERE id = p_id
              UNION ALL
              SELECT amount, currency, provider, phone_number, api_url FROM schedules
               WHERE id = p_id) i));
  ELSE
    res := res - 'offer';
  END IF;
  RETURN res::json;
END $$;

-- Offers a provider payment for an item's unpaid period: a pending
-- payment p_id of purpose p_kind through p_provider (p_url: a redirect
-- gateway's link; the item's price with p_tax's tax, tz_tax_apply; the
-- fee, rewards and reserve of tz_billing_terms), unless the period is paid, the item ended, or a link
-- is pending already.  {"offered": false} or {"offered": true, the
-- payment, with _fan_email and _creator_name for the checkout, and the
-- item's phone_number}.
CREATE OR REPLACE FUNCTION tz_api_billing_offer(p_kind text, p_item uuid, p_id uuid,
                                                p_provider text, p_fee_bps int,
                                                p_cashback_bps int, p_cashback_cap bigint,
                                                p_referral_bonus bigint, p_reserve_bps int,
                                                p_reserve_days int, p_expiry bigint,
                                                p_poll bigint, p_url text, p_tax json)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  tx record;
  s subscriptions;
  c schedules;
  p payments;
  fan uuid;
  creator uuid;
  amount bigint;
  cur text;
  per int;
  msg text := '';
  splits json;
  phone text;
BEGIN
  IF p_kind = 'subscription' THEN
    SELECT * INTO s FROM subscriptions WHERE id = p_item FOR UPDATE;
    IF s.paid OR s.status NOT IN ('incomplete', 'trialing', 'active', 'past_due')
       OR (SELECT status FROM payments WHERE id = s.link_payment_id) = 'pending' THEN
      RETURN json_build_object('offered', false);
    END IF;
    SELECT s.fan_id, s.creator_id, s.amount, s.currency, s.period, s.phone_number, pl.splits
      INTO fan, creator, amount, cur, per, phone, splits FROM plans pl WHERE pl.id = s.plan_id;
  ELSE
    SELECT * INTO c FROM schedules WHERE id = p_item FOR UPDATE;
    IF c.paid OR c.status NOT IN ('active', 'past_due')
       OR (SELECT status FROM payments WHERE id = c.link_payment_id) = 'pending' THEN
      RETURN json_build_object('offered', false);
    END IF;
    SELECT c.fan_id, c.creator_id, c.amount, c.currency, c.period, c.phone_number, c.splits,
           c.message INTO fan, creator, amount, cur, per, phone, splits, msg;
  END IF;
  IF tz_ops_refusal(fan, creator, false, splits) IS NOT NULL THEN
    RETURN json_build_object('offered', false); -- a suspended fan or creator
  END IF;
  tx := tz_tax_apply(amount, p_tax);
  INSERT INTO payments (id, fan_id, creator_id, amount, currency, fee_bps, fee, net, provider,
                        message, mobile_money_url, expires_at, phone_number, next_poll_at,
                        cashback_bps, cashback_cap, referral_bonus, purpose, subscription_id,
                        schedule_id, period, tax_name, tax_bps, tax_inclusive, tax, reserve_bps,
                        reserve_days)
  VALUES (p_id, fan, creator, tx.amount, cur, p_fee_bps, tz_fee(tx.amount, p_fee_bps),
          tx.amount - tz_fee(tx.amount, p_fee_bps), p_provider, msg, p_url,
          now() + make_interval(secs => p_expiry), phone, now() + make_interval(secs => p_poll),
          p_cashback_bps, p_cashback_cap, p_referral_bonus, p_kind,
          CASE WHEN p_kind = 'subscription' THEN p_item END,
          CASE WHEN p_kind = 'schedule' THEN p_item END, per, p_tax->>'name',
          coalesce((p_tax->>'bps')::int, 0), coalesce((p_tax->>'inclusive')::boolean, true),
          tx.tax, coalesce(p_reserve_bps, 0), coalesce(p_reserve_days, 0))
  RETURNING * INTO p;
  PERFORM tz_splits_store(p.id, splits);
  IF p_kind = 'subscription' THEN
    UPDATE subscriptions SET link_payment_id = p.id, updated_at = now() WHERE id = p_item;
  ELSE
    UPDATE schedules SET link_payment_id = p.id, updated_at = now() WHERE id = p_item;
  END IF;
  RETURN (tz_payment_json(p)::jsonb || jsonb_build_object(
            'offered', true, 'phone_number', phone,
            '_fan_email', (SELECT email FROM users WHERE id = fan),
            '_creator_name', (SELECT full_name FROM users WHERE id = creator)))::json;
END $$;

-- ------------------------------------------------------ the sandbox clock

-- GET/POST /sandbox/clock (servers running TipzedSandbox On only): moves
-- the billing engine's clock p_advance seconds forward (NULL: reads it).
CREATE OR REPLACE FUNCTION tz_api_clock(p_advance bigint) RETURNS json
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  o bigint;
BEGIN
  UPDATE billing_clock SET offset_seconds = offset_seconds + coalesce(p_advance, 0)
  RETURNING offset_seconds INTO o;
  RETURN json_build_object('now', tz_ts(now() + make_interval(secs => o)), 'offset_seconds', o);
END $$;
