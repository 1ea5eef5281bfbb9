-- Subscriptions and schedules as the API makes, reads and changes them
-- (docs/billing.md); their charges are 55_billing.sql's.
--
-- Subscription states: trialing -> active (the trial's end charged) |
-- past_due; incomplete (the first payment, through a provider, pending)
-- -> active | incomplete_expired; active -> past_due -> active (the wallet
-- or the offered link paid) | canceled (the grace ran out); any live state
-- -> canceled (cancel now, or at the period's end).
-- Schedule states: active -> past_due -> active | failed; active ->
-- completed (count reached); active <-> paused; live -> canceled.

CREATE OR REPLACE FUNCTION tz_subscription_json(s subscriptions) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT json_build_object(
      'id', s.id, 'plan_id', s.plan_id, 'creator_id', s.creator_id, 'fan_id', s.fan_id,
      'status', s.status, 'source', s.source, 'amount', s.amount, 'currency', s.currency,
      'interval', s.interval, 'period', s.period,
      'current_period_start', tz_ts(s.current_period_start),
      'current_period_end', tz_ts(s.current_period_end), 'trial_end', tz_ts(s.trial_end),
      'cancel_at_period_end', s.cancel_at_period_end, 'canceled_at', tz_ts(s.canceled_at),
      'ended_at', tz_ts(s.ended_at), 'past_due_since', tz_ts(s.past_due_since),
      'next_charge_at', CASE WHEN s.status IN ('trialing', 'active', 'past_due')
                              AND NOT s.cancel_at_period_end THEN tz_ts(s.next_attempt_at) END,
      'pending_payment_id', l.id, 'payment_url', l.mobile_money_url,
      'created_at', tz_ts(s.created_at), 'updated_at', tz_ts(s.updated_at))
      FROM (SELECT NULL) x
      LEFT JOIN payments l ON l.id = s.link_payment_id AND l.status = 'pending');
END $$;

CREATE OR REPLACE FUNCTION tz_schedule_json(c schedules) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT json_build_object(
      'id', c.id, 'fan_id', c.fan_id, 'creator_id', c.creator_id, 'amount', c.amount,
      'currency', c.currency, 'interval', c.interval, 'count', c.count, 'message', c.message,
      'splits', c.splits, 'status', c.status, 'source', c.source, 'start_at', tz_ts(c.start_at),
      'next_charge_at', CASE WHEN c.status IN ('active', 'past_due') THEN tz_ts(c.next_attempt_at) END,
      'charges_made', c.charges_made, 'past_due_since', tz_ts(c.past_due_since),
      'pending_payment_id', l.id, 'payment_url', l.mobile_money_url,
      'created_at', tz_ts(c.created_at), 'updated_at', tz_ts(c.updated_at))
      FROM (SELECT NULL) x
      LEFT JOIN payments l ON l.id = c.link_payment_id AND l.status = 'pending');
END $$;

-- POST /subscriptions {plan_id, source} + key.  A plan's trial is given
-- once per fan and plan.  Without a trial, source wallet charges the first
-- period now (refused when the wallet cannot cover it); source provider
-- makes the subscription incomplete, and answers "_offer": true for the
-- module to offer the first payment's link (tz_api_billing_offer) and
-- then store the answer (tz_api_billing_answer).  Errors: plan_not_found
-- (unknown or inactive), own_plan, invalid_splits (the plan's splits name
-- the payer), already_subscribed (with subscription_id),
-- insufficient_funds (with available).
CREATE OR REPLACE FUNCTION tz_api_subscription_create(p_id uuid, p_fan uuid, p_plan uuid,
                                                      p_source text, p_provider text,
                                                      p_phone text, p_api_url text,
                                                      p_sandbox boolean,
                                                      p_fee_bps int, p_cashback_bps int,
                                                      p_cashback_cap bigint,
                                                      p_referral_bonus bigint,
                                                      p_reserve_bps int, p_reserve_days int,
                                                      p_key text, p_tax json)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t timestamptz := tz_clock(p_sandbox);
  pl plans;
  s subscriptions;
  b record;
  trial timestamptz;
  refused json;
BEGIN
  SELECT * INTO pl FROM plans WHERE id = p_plan;
  IF pl.id IS NULL OR NOT pl.active THEN
    RETURN json_build_object('error', 'plan_not_found');
  ELSIF pl.creator_id = p_fan THEN
    RETURN json_build_object('error', 'own_plan');
  END IF;
  refused := coalesce(tz_splits_check(pl.creator_id, p_fan, pl.splits),
                      tz_ops_refused(p_fan, pl.creator_id, p_source = 'wallet', pl.splits));
  IF refused IS NOT NULL THEN
    RETURN refused;
  END IF;
  SELECT * INTO s FROM subscriptions
   WHERE fan_id = p_fan AND plan_id = p_plan
     AND status IN ('trialing', 'incomplete', 'active', 'past_due');
  IF s.id IS NOT NULL THEN
    RETURN json_build_object('error', 'already_subscribed', 'subscription_id', s.id);
  END IF;
  IF pl.trial_days > 0 AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE fan_id = p_fan
                                          AND plan_id = p_plan AND trial_end IS NOT NULL) THEN
    trial := t + make_interval(days => pl.trial_days);
  ELSIF p_source = 'wallet' THEN
    b := tz_wallet_payment_lock(p_fan, pl.creator_id, pl.currency, pl.splits, p_referral_bonus);
    IF b.cashback + b.main < (tz_tax_apply(pl.amount, p_tax)).amount THEN
      RETURN json_build_object('error', 'insufficient_funds', 'available', b.cashback + b.main);
    END IF;
  END IF;
  BEGIN
    INSERT INTO subscriptions (id, plan_id, creator_id, fan_id, status, source, provider,
                               phone_number, api_url, amount, currency, interval, anchor, period, paid,
                               current_period_start, current_period_end, trial_end,
                               next_attempt_at)
    VALUES (p_id, p_plan, pl.creator_id, p_fan,
            CASE WHEN trial IS NOT NULL THEN 'trialing'
                 WHEN p_source = 'wallet' THEN 'active' ELSE 'incomplete' END,
            p_source, p_provider, p_phone, p_api_url, pl.amount, pl.currency, pl.interval,
            coalesce(trial, t), CASE WHEN trial IS NOT NULL THEN 0 ELSE 1 END, trial IS NOT NULL,
            t, coalesce(trial, tz_period_start(t, pl.interval, 1)), trial,
            CASE WHEN trial IS NOT NULL THEN trial
                 WHEN p_source = 'wallet' THEN NULL ELSE t + interval '1 hour' END)
    RETURNING * INTO s;
  EXCEPTION WHEN unique_violation THEN
    RETURN json_build_object('error', 'already_subscribed', 'subscription_id',
                             (SELECT id FROM subscriptions WHERE fan_id = p_fan AND plan_id = p_plan
                                 AND status IN ('trialing', 'incomplete', 'active', 'past_due')));
  END;
  IF trial IS NULL AND p_source = 'wallet' THEN
    PERFORM tz_billing_wallet_charge('subscription', s.id, 1, p_fan, pl.creator_id, pl.amount,
                                     pl.currency, NULL, pl.splits,
                                     tz_billing_terms(p_fee_bps, p_cashback_bps, p_cashback_cap,
                                                      p_referral_bonus, p_reserve_bps,
                                                      p_reserve_days, p_tax));
    SELECT * INTO s FROM subscriptions WHERE id = p_id;
  END IF;
  IF s.status = 'incomplete' THEN
    RETURN (tz_subscription_json(s)::jsonb || '{"_offer": true}')::json;
  END IF;
  RETURN tz_idem_store(p_fan, p_key, 201, tz_subscription_json(s));
END $$;

-- The answer to the creation of an item whose first payment was offered
-- through a provider, stored under the payer's key: the item as it is now,
-- with the payment's link.  When the provider could not make the link, the
-- item ends at once (incomplete_expired, failed: nothing was paid, and the
-- fan may try again) and {"error": "provider_failed"} is answered.
CREATE OR REPLACE FUNCTION tz_api_billing_answer(p_kind text, p_item uuid, p_user uuid,
                                                 p_key text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  link text := (SELECT p.status FROM payments p
                 WHERE p.id = (SELECT link_payment_id FROM subscriptions WHERE id = p_item
                               UNION ALL SELECT link_payment_id FROM schedules WHERE id = p_item));
BEGIN
  IF link IS NULL OR link = 'failed' THEN
    UPDATE subscriptions SET status = 'incomplete_expired', ended_at = now(),
                             next_attempt_at = NULL, updated_at = now()
     WHERE id = p_item AND status = 'incomplete';
    UPDATE schedules SET status = 'failed', next_attempt_at = NULL, updated_at = now()
     WHERE id = p_item AND status = 'active' AND charges_made = 0;
    RETURN json_build_object('error', 'provider_failed');
  END IF;
  RETURN tz_idem_store(p_user, p_key, 201,
                       CASE p_kind WHEN 'subscription'
                         THEN (SELECT tz_subscription_json(s) FROM subscriptions s WHERE id = p_item)
                         ELSE (SELECT tz_schedule_json(c) FROM schedules c WHERE id = p_item) END);
END $$;

-- A subscription as its fan, its creator or an admin sees it, else NULL.
CREATE OR REPLACE FUNCTION tz_api_subscription_get(p_id uuid, p_user uuid, p_role text)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (SELECT tz_subscription_json(s) FROM subscriptions s
           WHERE s.id = p_id AND (p_role = 'admin' OR p_user IN (s.fan_id, s.creator_id)));
END $$;

-- GET /subscriptions: the caller's own, as fan, and, for a creator, its
-- subscribers' (p_status: only those in that state), newest first; keyset
-- after p_after (one of the caller's).
CREATE OR REPLACE FUNCTION tz_api_subscriptions_list(p_user uuid, p_status text, p_limit int,
                                                     p_offset bigint, p_after uuid)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c_at timestamptz := 'infinity'; c_id uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
  v_n bigint := p_limit + 1 + p_offset;
BEGIN
  IF p_after IS NOT NULL THEN
    SELECT created_at, id INTO c_at, c_id FROM subscriptions
     WHERE id = p_after AND p_user IN (fan_id, creator_id);
    IF NOT FOUND THEN RETURN json_build_object('error', 'starting_after'); END IF;
  END IF;
  RETURN (WITH page AS (
    SELECT tz_subscription_json(s) AS j, row_number() OVER () AS n FROM (
      SELECT * FROM subscriptions
       WHERE id IN (SELECT id FROM (
               (SELECT id, created_at FROM subscriptions
                 WHERE fan_id = p_user AND (p_status IS NULL OR status = p_status)
                   AND (created_at, id) < (c_at, c_id)
                 ORDER BY created_at DESC, id DESC LIMIT v_n)
               UNION
               (SELECT id, created_at FROM subscriptions
                 WHERE creator_id = p_user AND (p_status IS NULL OR status = p_status)
                   AND (created_at, id) < (c_at, c_id)
                 ORDER BY created_at DESC, id DESC LIMIT v_n)) both_ways
              ORDER BY created_at DESC, id DESC LIMIT p_limit + 1 OFFSET p_offset)
       ORDER BY created_at DESC, id DESC) s
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit));
END $$;

-- POST /subscriptions/{id}/cancel: at the period's end (the default: the
-- subscription runs to it, then ends without a charge) or now.  A
-- subscription owing its current period (incomplete, past due) ends now.
-- POST /subscriptions/{id}/resume undoes a cancel at the period's end.
-- Only its fan (or an admin) does either.  {"error": "not_found"} or
-- {"error": "conflict", "status"}.
CREATE OR REPLACE FUNCTION tz_api_subscription_action(p_id uuid, p_user uuid, p_role text,
                                                      p_action text, p_at_period_end boolean,
                                                      p_sandbox boolean)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t timestamptz := tz_clock(p_sandbox);
  s subscriptions;
BEGIN
  SELECT * INTO s FROM subscriptions WHERE id = p_id FOR UPDATE;
  IF s.id IS NULL OR (p_role <> 'admin' AND s.fan_id <> p_user) THEN
    RETURN json_build_object('error', 'not_found');
  END IF;
  IF p_action = 'resume' THEN
    IF s.status NOT IN ('trialing', 'active') OR NOT s.cancel_at_period_end THEN
      RETURN json_build_object('error', 'conflict', 'status', s.status);
    END IF;
    UPDATE subscriptions SET cancel_at_period_end = false, canceled_at = NULL, updated_at = now()
     WHERE id = p_id RETURNING * INTO s;
  ELSIF s.status NOT IN ('trialing', 'incomplete', 'active', 'past_due') THEN
    RETURN json_build_object('error', 'conflict', 'status', s.status);
  ELSIF p_at_period_end AND s.status IN ('trialing', 'active') AND s.paid THEN
    UPDATE subscriptions SET cancel_at_period_end = true, canceled_at = t, updated_at = now()
     WHERE id = p_id RETURNING * INTO s;
  ELSE
    UPDATE subscriptions SET status = 'canceled', canceled_at = t, ended_at = t,
                             next_attempt_at = NULL, updated_at = now()
     WHERE id = p_id RETURNING * INTO s;
  END IF;
  RETURN tz_subscription_json(s);
END $$;

-- POST /schedules + key: p_start NULL or not after now charges the first
-- period now (source wallet: from the wallet, refused when it cannot
-- cover it; source provider: "_offer": true, as for subscriptions); a
-- later p_start is the first charge's time, made by the engine.  Errors:
-- creator_not_found, own_schedule, start_in_past, invalid_splits,
-- insufficient_funds (with available).
CREATE OR REPLACE FUNCTION tz_api_schedule_create(p_id uuid, p_fan uuid, p_creator uuid,
                                                  p_amount bigint, p_currency text,
                                                  p_interval text, p_count int,
                                                  p_start timestamptz, p_source text,
                                                  p_provider text, p_phone text,
                                                  p_api_url text, p_message text,
                                                  p_splits json,
                                                  p_sandbox boolean, p_fee_bps int,
                                                  p_cashback_bps int, p_cashback_cap bigint,
                                                  p_referral_bonus bigint, p_reserve_bps int,
                                                  p_reserve_days int, p_key text, p_tax json)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t timestamptz := tz_clock(p_sandbox);
  later boolean := p_start IS NOT NULL AND p_start > t;
  c schedules;
  b record;
  refused json;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM creator_profiles WHERE user_id = p_creator) THEN
    RETURN json_build_object('error', 'creator_not_found');
  ELSIF p_creator = p_fan THEN
    RETURN json_build_object('error', 'own_schedule');
  ELSIF p_start IS NOT NULL AND p_start < t - interval '5 minutes' THEN
    RETURN json_build_object('error', 'start_in_past', 'now', tz_ts(t));
  END IF;
  refused := coalesce(tz_splits_check(p_creator, p_fan, p_splits),
                      tz_ops_refused(p_fan, p_creator, p_source = 'wallet', p_splits));
  IF refused IS NOT NULL THEN
    RETURN refused;
  END IF;
  IF NOT later AND p_source = 'wallet' THEN
    b := tz_wallet_payment_lock(p_fan, p_creator, p_currency, p_splits, p_referral_bonus);
    IF b.cashback + b.main < (tz_tax_apply(p_amount, p_tax)).amount THEN
      RETURN json_build_object('error', 'insufficient_funds', 'available', b.cashback + b.main);
    END IF;
  END IF;
  INSERT INTO schedules (id, fan_id, creator_id, amount, currency, interval, count, message,
                         splits, status, source, provider, phone_number, api_url, start_at, anchor,
                         period, paid, next_attempt_at)
  VALUES (p_id, p_fan, p_creator, p_amount, p_currency, p_interval, p_count,
          coalesce(p_message, ''), p_splits, 'active', p_source, p_provider, p_phone, p_api_url,
          CASE WHEN later THEN p_start ELSE t END, CASE WHEN later THEN p_start ELSE t END,
          CASE WHEN later THEN 0 ELSE 1 END, later,
          CASE WHEN later THEN p_start WHEN p_source = 'provider' THEN t + interval '1 day' END)
  RETURNING * INTO c;
  IF NOT later AND p_source = 'wallet' THEN
    PERFORM tz_billing_wallet_charge('schedule', c.id, 1, p_fan, p_creator, p_amount,
                                     p_currency, c.message, p_splits,
                                     tz_billing_terms(p_fee_bps, p_cashback_bps, p_cashback_cap,
                                                      p_referral_bonus, p_reserve_bps,
                                                      p_reserve_days, p_tax));
    SELECT * INTO c FROM schedules WHERE id = p_id;
  ELSIF NOT later THEN
    RETURN (tz_schedule_json(c)::jsonb || '{"_offer": true}')::json;
  END IF;
  RETURN tz_idem_store(p_fan, p_key, 201, tz_schedule_json(c));
END $$;

-- A schedule with its charges, as its fan, its creators or an admin sees
-- it, else NULL.
CREATE OR REPLACE FUNCTION tz_api_schedule_get(p_id uuid, p_user uuid, p_role text)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (SELECT (tz_schedule_json(c)::jsonb || jsonb_build_object('charges', coalesce((
            SELECT json_agg(json_build_object('period', b.period, 'payment_id', b.payment_id,
                                              'amount', p.amount, 'status', p.status,
                                              'charged_at', tz_ts(b.charged_at))
                            ORDER BY b.period)
              FROM billing_charges b JOIN payments p ON p.id = b.payment_id
             WHERE b.item_id = c.id), '[]'::json)))::json
            FROM schedules c
           WHERE c.id = p_id
             AND (p_role = 'admin' OR p_user IN (c.fan_id, c.creator_id)
                  OR EXISTS (SELECT 1 FROM json_array_elements(c.splits) e
                              WHERE (e->>'creator_id')::uuid = p_user)));
END $$;

-- GET /schedules: those the caller pays or receives, newest first (keyset: after p_after).
CREATE OR REPLACE FUNCTION tz_api_schedules_list(p_user uuid, p_limit int, p_offset bigint,
                                                 p_after uuid)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c_at timestamptz := 'infinity'; c_id uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
  v_n bigint := p_limit + 1 + p_offset;
BEGIN
  IF p_after IS NOT NULL THEN
    SELECT created_at, id INTO c_at, c_id FROM schedules
     WHERE id = p_after AND p_user IN (fan_id, creator_id);
    IF NOT FOUND THEN RETURN json_build_object('error', 'starting_after'); END IF;
  END IF;
  RETURN (WITH page AS (
    SELECT tz_schedule_json(c) AS j, row_number() OVER () AS n FROM (
      SELECT * FROM schedules
       WHERE id IN (SELECT id FROM (
               (SELECT id, created_at FROM schedules
                 WHERE fan_id = p_user AND (created_at, id) < (c_at, c_id)
                 ORDER BY created_at DESC, id DESC LIMIT v_n)
               UNION
               (SELECT id, created_at FROM schedules
                 WHERE creator_id = p_user AND (created_at, id) < (c_at, c_id)
                 ORDER BY created_at DESC, id DESC LIMIT v_n)) both_ways
              ORDER BY created_at DESC, id DESC LIMIT p_limit + 1 OFFSET p_offset)
       ORDER BY created_at DESC, id DESC) c
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit));
END $$;

-- POST /schedules/{id}/pause|resume|cancel, by its fan (cancel: or an
-- admin).  Pausing stops the charges; resuming makes the charge that was
-- next (now, if its time passed while paused; missed ones are not made
-- up) and goes on from it.  {"error": "not_found"} or {"error":
-- "conflict", "status"}.
CREATE OR REPLACE FUNCTION tz_api_schedule_action(p_id uuid, p_user uuid, p_role text,
                                                  p_action text, p_sandbox boolean)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t timestamptz := tz_clock(p_sandbox);
  c schedules;
  next_at timestamptz;
BEGIN
  SELECT * INTO c FROM schedules WHERE id = p_id FOR UPDATE;
  IF c.id IS NULL OR (c.fan_id <> p_user AND NOT (p_role = 'admin' AND p_action = 'cancel')) THEN
    RETURN json_build_object('error', 'not_found');
  END IF;
  IF p_action = 'pause' AND c.status = 'active' THEN
    UPDATE schedules SET status = 'paused', next_attempt_at = NULL, updated_at = now()
     WHERE id = p_id RETURNING * INTO c;
  ELSIF p_action = 'resume' AND c.status = 'paused' THEN
    next_at := CASE WHEN c.paid THEN greatest(t, tz_period_start(c.anchor, c.interval,
                                                                 c.period + 1 - c.anchor_period))
                    ELSE t END;
    UPDATE schedules SET status = 'active', updated_at = now(), next_attempt_at = next_at,
                         anchor = CASE WHEN c.paid THEN next_at ELSE anchor END,
                         anchor_period = CASE WHEN c.paid THEN c.period + 1 ELSE anchor_period END
     WHERE id = p_id RETURNING * INTO c;
  ELSIF p_action = 'cancel' AND c.status IN ('active', 'past_due', 'paused') THEN
    UPDATE schedules SET status = 'canceled', next_attempt_at = NULL, updated_at = now()
     WHERE id = p_id RETURNING * INTO c;
  ELSE
    RETURN json_build_object('error', 'conflict', 'status', c.status);
  END IF;
  RETURN tz_schedule_json(c);
END $$;
