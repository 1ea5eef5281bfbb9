-- Bill payments:
--
--   pending -> succeeded | failed
--
-- Paying holds amount + fee: wallet -> biller_clearing, in the same
-- transaction as the balance check (the posting path refuses an overdraft),
-- so concurrent payments can never overdraw.  The biller's definite answer
-- settles the hold (biller_clearing -> bills_settled the amount,
-- platform_fees the fee) or releases it back to the wallet, exactly once:
-- the entries have unique references bill:<id>:hold|settle|release and the
-- answer is applied only to a pending payment, under its row lock.  When the
-- biller's answer is unknown (no answer, timeout, 5xx) the payment stays
-- pending and the watchdog asks the biller's /status later (tz_api_bills_due).

CREATE OR REPLACE FUNCTION tz_biller_json(b billers) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', b.id, 'name', b.name, 'category', b.category, 'fee', b.fee, 'currency', b.currency,
    'customer_pattern', b.customer_pattern, 'active', b.active, 'created_at', tz_ts(b.created_at))
$$;

CREATE OR REPLACE FUNCTION tz_bill_json(o bill_payments) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', o.id, 'user_id', o.user_id, 'biller_id', o.biller_id, 'customer', o.customer,
    'amount', o.amount, 'fee', o.fee, 'total', o.amount + o.fee, 'currency', o.currency,
    'status', o.status, 'biller_reference', o.biller_reference,
    'failure_reason', o.failure_reason, 'created_at', tz_ts(o.created_at),
    'updated_at', tz_ts(o.updated_at))
$$;

CREATE OR REPLACE FUNCTION tz_bill_move(o bill_payments, p_step text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  wallet bigint := tz_account('wallet', o.user_id, NULL, o.currency);
  clearing bigint := tz_account('biller_clearing', NULL, NULL, o.currency);
BEGIN
  IF p_step = 'hold' THEN
    PERFORM tz_post_entry('bill:' || o.id || ':hold', 'bill_hold', NULL, NULL, o.currency,
                          ARRAY[wallet, clearing], ARRAY[-(o.amount + o.fee), o.amount + o.fee]);
  ELSIF p_step = 'settle' THEN
    PERFORM tz_post_entry('bill:' || o.id || ':settle', 'bill_settle', NULL, NULL, o.currency,
                          ARRAY[clearing, tz_account('bills_settled', NULL, NULL, o.currency),
                                tz_account('platform_fees', NULL, NULL, o.currency)],
                          ARRAY[-(o.amount + o.fee), o.amount, o.fee]);
  ELSE
    PERFORM tz_post_entry('bill:' || o.id || ':release', 'bill_release', NULL, NULL, o.currency,
                          ARRAY[clearing, wallet], ARRAY[-(o.amount + o.fee), o.amount + o.fee]);
  END IF;
END $$;

-- POST /admin/billers.  {"error": "customer_pattern"} when the pattern is
-- not a valid regular expression; the biller otherwise (audited).
CREATE OR REPLACE FUNCTION tz_api_biller_create(p_id uuid, p_name text, p_category text,
                                                p_base_url text, p_fee bigint, p_currency text,
                                                p_pattern text, p_actor uuid, p_request text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  b billers;
BEGIN
  BEGIN
    PERFORM '' ~ p_pattern;
  EXCEPTION WHEN invalid_regular_expression THEN
    RETURN json_build_object('error', 'customer_pattern');
  END;
  INSERT INTO billers (id, name, category, base_url, fee, currency, customer_pattern)
  VALUES (p_id, p_name, p_category, p_base_url, p_fee, p_currency, p_pattern)
  RETURNING * INTO b;
  PERFORM tz_api_audit(p_actor, 'biller.create', 'biller', p_id::text, p_name, p_request);
  RETURN tz_biller_json(b);
END $$;

-- GET /billers: the active billers, by name.
CREATE OR REPLACE FUNCTION tz_api_billers_list() RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN json_build_object('data', coalesce((SELECT json_agg(tz_biller_json(b) ORDER BY b.name, b.id)
                                               FROM billers b WHERE b.active), '[]'::json));
END $$;

-- An active biller with its base_url, and whether p_customer (when given)
-- matches its pattern; NULL when there is no such active biller.
CREATE OR REPLACE FUNCTION tz_api_biller_get(p_id uuid, p_customer text) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  b billers;
BEGIN
  SELECT * INTO b FROM billers WHERE id = p_id AND active;
  IF b.id IS NULL THEN
    RETURN NULL;
  END IF;
  RETURN (tz_biller_json(b)::jsonb || jsonb_build_object(
           'base_url', b.base_url,
           'customer_ok', p_customer IS NOT NULL AND p_customer ~ b.customer_pattern))::json;
END $$;

-- POST /bill-payments: creates the pending payment and holds amount + fee.
-- {"error": "not_found" | "customer" | "insufficient_funds"} or the payment
-- plus the biller's base_url.  The pending answer (202) is stored under the
-- user's idempotency key p_key in the transaction of the hold; the biller's
-- answer replaces it (tz_api_bill_answer).  p_base: seconds until the
-- watchdog first asks the biller about a payment still pending.
CREATE OR REPLACE FUNCTION tz_api_bill_pay(p_id uuid, p_user uuid, p_biller uuid, p_customer text,
                                           p_amount bigint, p_key text, p_base bigint)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  b billers;
  o bill_payments;
BEGIN
  SELECT * INTO b FROM billers WHERE id = p_biller AND active;
  IF b.id IS NULL THEN
    RETURN json_build_object('error', 'not_found');
  ELSIF NOT p_customer ~ b.customer_pattern THEN
    RETURN json_build_object('error', 'customer');
  ELSIF tz_ops_refusal(p_user, NULL, true) IS NOT NULL THEN
    RETURN tz_ops_refused(p_user, NULL, true);
  END IF;
  INSERT INTO bill_payments (id, user_id, biller_id, customer, amount, fee, currency, next_check_at)
  VALUES (p_id, p_user, b.id, p_customer, p_amount, b.fee, b.currency,
          now() + make_interval(secs => p_base))
  RETURNING * INTO o;
  BEGIN
    PERFORM tz_bill_move(o, 'hold');
  EXCEPTION WHEN SQLSTATE 'TZ001' THEN
    DELETE FROM bill_payments WHERE id = p_id;
    RETURN json_build_object('error', 'insufficient_funds');
  END;
  PERFORM tz_idem_store(p_user, p_key, 202, tz_bill_json(o));
  RETURN (tz_bill_json(o)::jsonb || jsonb_build_object('base_url', b.base_url))::json;
END $$;

-- The biller's answer about a payment (p_status succeeded | failed, or
-- anything else for "not decided yet").  Applied to a pending payment
-- only, so a payment is settled or released exactly once whoever answers
-- first (the request or the watchdog); returns the payment as it is then
-- (NULL when there is none).  With p_key (the paying request) the answer
-- stored under the user's key becomes the final one: 201 succeeded, 409
-- refused, 202 still pending.
CREATE OR REPLACE FUNCTION tz_api_bill_answer(p_id uuid, p_status text, p_reference text,
                                              p_reason text, p_key text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  o bill_payments;
  answer json;
BEGIN
  SELECT * INTO o FROM bill_payments WHERE id = p_id FOR UPDATE;
  IF o.id IS NULL THEN
    RETURN NULL;
  END IF;
  IF o.status = 'pending' AND p_status IN ('succeeded', 'failed') THEN
    PERFORM tz_bill_move(o, CASE WHEN p_status = 'succeeded' THEN 'settle' ELSE 'release' END);
    UPDATE bill_payments SET status = p_status, updated_at = now(), next_check_at = NULL,
           biller_reference = coalesce(left(p_reference, 200), biller_reference),
           failure_reason = CASE WHEN p_status = 'failed'
                                 THEN coalesce(left(p_reason, 500), 'refused by the biller') END
     WHERE id = p_id RETURNING * INTO o;
  END IF;
  answer := tz_bill_json(o);
  IF p_key IS NOT NULL THEN
    UPDATE idempotency_keys
       SET status = CASE o.status WHEN 'succeeded' THEN 201 WHEN 'failed' THEN 409 ELSE 202 END,
           response = CASE WHEN o.status = 'failed' THEN json_build_object(
                        'type', 'https://tipzed.dev/problems/bill_refused', 'title', 'Conflict',
                        'status', 409, 'code', 'bill_refused',
                        'detail', 'the biller refused the payment: ' || o.failure_reason,
                        'bill_payment', answer)::text ELSE answer::text END
     WHERE user_id = o.user_id AND key = p_key;
  END IF;
  RETURN answer;
END $$;

-- The watchdog: claims the pending payments due for a status call (the
-- next call pushed back with a doubling delay from p_base seconds up to 15
-- minutes, so that a second runner skips them).
CREATE OR REPLACE FUNCTION tz_api_bills_due(p_base bigint, p_limit int)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  answer json;
BEGIN
  WITH due AS (
    SELECT id FROM bill_payments
     WHERE status = 'pending' AND next_check_at <= now()
     ORDER BY next_check_at LIMIT p_limit FOR UPDATE SKIP LOCKED
  ), claimed AS (
    UPDATE bill_payments o SET attempts = o.attempts + 1,
      next_check_at = now() + least(interval '15 minutes',
                                    make_interval(secs => p_base * power(2, least(o.attempts, 10))))
      FROM due WHERE o.id = due.id RETURNING o.*
  )
  SELECT coalesce(json_agg(json_build_object('id', c.id, 'base_url', b.base_url)), '[]'::json)
    INTO answer
    FROM claimed c JOIN billers b ON b.id = c.biller_id;
  RETURN answer;
END $$;

-- GET /bill-payments/{id}: the owner's or, for an admin, anyone's.
CREATE OR REPLACE FUNCTION tz_api_bill_get(p_id uuid, p_user uuid, p_role text) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (SELECT tz_bill_json(o) FROM bill_payments o
           WHERE o.id = p_id AND (o.user_id = p_user OR p_role = 'admin'));
END $$;

-- GET /bill-payments: the caller's, newest first (keyset: after p_after).
CREATE OR REPLACE FUNCTION tz_api_bills_list(p_user uuid, p_limit int, p_offset bigint,
                                             p_after uuid)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c_at timestamptz := 'infinity'; c_id uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
BEGIN
  IF p_after IS NOT NULL THEN
    SELECT created_at, id INTO c_at, c_id FROM bill_payments
     WHERE id = p_after AND user_id = p_user;
    IF NOT FOUND THEN RETURN json_build_object('error', 'starting_after'); END IF;
  END IF;
  RETURN (WITH page AS (
    SELECT tz_bill_json(o) AS j, row_number() OVER () AS n FROM (
      SELECT * FROM bill_payments WHERE user_id = p_user AND (created_at, id) < (c_at, c_id)
       ORDER BY created_at DESC, id DESC LIMIT p_limit + 1 OFFSET p_offset) o
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit));
END $$;
