-- Payments into and out of users' wallets, and what the promotions account
-- gives with them.
--
--   top-up          POST /wallets/me/topup: a payment of purpose topup whose
--                   recipient is the payer's own wallet, through a provider
--                   like a tip; its credit adds a package's bonus from
--                   promotions (50_payments.sql, tz_payment_credit)
--   wallet payment  POST /payments/initiate with source wallet: the
--                   payer's cashback balance first, then the main one, in
--                   the payment's one entry, succeeded at once
--   quote           GET /payments/quote: what a payment made now would post
--   cashback        a share of each tip a fan pays, from promotions into the
--                   fan's cashback balance, within a monthly cap
--   referral bonus  the first success of a referred user's payments pays the
--                   referrer's cashback balance (tz_referral_reward)
--
-- Taking back: a refund or a lost dispute takes back the same share of the
-- bonus and the cashback as of the payment (rounded half up on the running
-- total, so that partial refunds add up to exactly the whole), from the
-- user's cashback balance (cashback only), then the main balance; what
-- neither holds is owed (the receivable, recovered from the user's next
-- credits), so promotions is made whole whatever was spent.

-- The calendar month a cashback grant counts in (UTC).
CREATE OR REPLACE FUNCTION tz_cashback_month() RETURNS date
LANGUAGE sql STABLE AS $$
  SELECT date_trunc('month', now() AT TIME ZONE 'UTC')::date
$$;

-- What a tip of p_amount paid now by p_user earns: p_bps of it rounded
-- down, within what the month's cap leaves; only fans earn cashback.
CREATE OR REPLACE FUNCTION tz_cashback_due(p_user uuid, p_currency text, p_amount bigint,
                                           p_bps int, p_cap bigint)
RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN CASE WHEN p_bps <= 0 OR p_cap <= 0
                OR (SELECT role FROM users WHERE id = p_user) IS DISTINCT FROM 'fan' THEN 0
         ELSE greatest(0, least(p_amount * p_bps / 10000,
                                p_cap - coalesce((SELECT granted FROM cashback_months
                                                   WHERE user_id = p_user
                                                     AND currency = p_currency::bpchar
                                                     AND month = tz_cashback_month()), 0)))
         END;
END $$;

-- Grants a credited payment's cashback (a tip, a subscription's or a
-- schedule's charge; never a top-up): the month's row is locked first, so
-- that concurrent grants queue and the cap holds.
CREATE OR REPLACE FUNCTION tz_cashback_grant(p payments) RETURNS payments
LANGUAGE plpgsql AS $$
DECLARE
  m date := tz_cashback_month();
  c bigint;
BEGIN
  IF p.purpose = 'topup' OR p.cashback_bps = 0 OR p.cashback_cap = 0 THEN
    RETURN p;
  END IF;
  INSERT INTO cashback_months (user_id, currency, month) VALUES (p.fan_id, p.currency, m)
  ON CONFLICT DO NOTHING;
  PERFORM 1 FROM cashback_months WHERE user_id = p.fan_id AND currency = p.currency AND month = m
     FOR UPDATE;
  c := tz_cashback_due(p.fan_id, p.currency, p.amount, p.cashback_bps, p.cashback_cap);
  IF c > 0 THEN
    UPDATE cashback_months SET granted = granted + c
     WHERE user_id = p.fan_id AND currency = p.currency AND month = m;
    PERFORM tz_post_entry('payment:' || p.id || ':cashback', 'cashback', p.id, NULL, p.currency,
                          ARRAY[tz_account('promotions', NULL, NULL, p.currency),
                                tz_account('cashback', p.fan_id, NULL, p.currency)],
                          ARRAY[-c, c]);
    UPDATE payments SET cashback = c WHERE id = p.id RETURNING * INTO p;
  END IF;
  RETURN p;
END $$;

-- What follows a payment's credit, in its transaction: the payer's
-- cashback, the referrer's bonus if this is the payer's first success,
-- and the payment's invoice (67_invoices.sql).
CREATE OR REPLACE FUNCTION tz_payment_succeeded(p payments) RETURNS payments
LANGUAGE plpgsql AS $$
BEGIN
  p := tz_cashback_grant(p);
  PERFORM tz_referral_reward(p.fan_id, p.currency, p.referral_bonus, p.id);
  PERFORM tz_invoice_issue(p);
  RETURN p;
END $$;

-- The share of p_total (a bonus or a cashback of a payment of p_amount)
-- still to take back once p_taken of the payment has been taken back in
-- all, p_done of it being taken back already.
CREATE OR REPLACE FUNCTION tz_takeback_share(p_total bigint, p_done bigint, p_amount bigint,
                                             p_taken bigint)
RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT greatest(0, least(floor(p_total::numeric * p_taken / p_amount + 0.5)::bigint - p_done,
                           p_total - p_done))
$$;

-- What refunds and lost disputes have taken back of a payment.
CREATE OR REPLACE FUNCTION tz_payment_taken(p payments) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN p.refunded_amount + coalesce((SELECT sum(amount) FROM disputes
                                        WHERE payment_id = p.id AND status = 'lost'), 0);
END $$;

-- Gives p_amount back to promotions from p_user: the cashback balance first
-- when p_cashback_first, then the main balance, the rest owed.
CREATE OR REPLACE FUNCTION tz_promotions_back(p payments, p_user uuid, p_reference text,
                                              p_kind text, p_amount bigint,
                                              p_cashback_first boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  acc bigint[];
  from_cb bigint := 0;
  legs record;
BEGIN
  acc := ARRAY[tz_account('promotions', NULL, NULL, p.currency),
               tz_account('cashback', p_user, NULL, p.currency),
               tz_account('wallet', p_user, NULL, p.currency),
               tz_account('creator_receivable', p_user, NULL, p.currency)];
  PERFORM tz_lock_accounts(acc);
  IF p_cashback_first THEN
    from_cb := least(p_amount, (SELECT balance FROM accounts WHERE id = acc[2]));
  END IF;
  legs := tz_creator_legs(acc[3], acc[4], -(p_amount - from_cb));
  PERFORM tz_post_entry(p_reference, p_kind, p.id, NULL, p.currency, acc,
                        ARRAY[p_amount, -from_cb, legs.wallet_leg, legs.receivable_leg]);
END $$;

-- The accounts tz_payment_takeback() may post to for payment p (the
-- user's of the bonus, the payer's of the cashback, and promotions), for
-- a refund or a dispute to lock with its first entry's: no account may be
-- locked after a transaction's first posting (30_ledger.sql, the chain).
CREATE OR REPLACE FUNCTION tz_takeback_accounts(p payments) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
  acc bigint[] := '{}';
  who uuid[] := '{}';
BEGIN
  IF p.bonus > p.bonus_reversed THEN
    who := who || p.creator_id;
  END IF;
  IF p.cashback > p.cashback_reversed THEN
    who := who || p.fan_id;
  END IF;
  FOR i IN 1 .. cardinality(who) LOOP
    acc := acc || ARRAY[tz_account('promotions', NULL, NULL, p.currency),
                        tz_account('cashback', who[i], NULL, p.currency),
                        tz_account('wallet', who[i], NULL, p.currency),
                        tz_account('creator_receivable', who[i], NULL, p.currency)];
  END LOOP;
  RETURN acc;
END $$;

-- After a refund or a lost dispute (p_reference names it): the bonus's
-- and the cashback's shares go back to promotions.
CREATE OR REPLACE FUNCTION tz_payment_takeback(p payments, p_reference text) RETURNS payments
LANGUAGE plpgsql AS $$
DECLARE
  taken bigint := tz_payment_taken(p);
  b bigint := tz_takeback_share(p.bonus, p.bonus_reversed, p.amount, taken);
  c bigint := tz_takeback_share(p.cashback, p.cashback_reversed, p.amount, taken);
BEGIN
  IF b > 0 THEN
    PERFORM tz_promotions_back(p, p.creator_id, p_reference || ':bonus', 'bonus_reversal', b,
                               false);
  END IF;
  IF c > 0 THEN
    PERFORM tz_promotions_back(p, p.fan_id, p_reference || ':cashback', 'cashback_reversal', c,
                               true);
  END IF;
  IF b > 0 OR c > 0 THEN
    UPDATE payments SET bonus_reversed = bonus_reversed + b,
                        cashback_reversed = cashback_reversed + c
     WHERE id = p.id RETURNING * INTO p;
  END IF;
  RETURN p;
END $$;

-- POST /wallets/me/topup: a pending payment of purpose topup into the
-- payer's own wallet, of a package (p_package: its amount, currency and
-- bonus, which must still be what the module read) or of an amount.
-- Errors: package_not_found (inactive or unknown), package_changed.  The
-- rest is tz_api_payment_create's (the checkout and its answer).  A top-up
-- is stored value, not a sale: no tax; its invoice's seller is the
-- platform, p_issuer (TipzedInvoiceIssuer).
CREATE OR REPLACE FUNCTION tz_api_topup_create(p_id uuid, p_user uuid, p_package uuid,
                                               p_amount bigint, p_currency text, p_bonus bigint,
                                               p_provider text, p_fee_bps int, p_expiry bigint,
                                               p_url text, p_key text, p_phone text,
                                               p_poll bigint, p_referral_bonus bigint,
                                               p_issuer text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  k packages;
  p payments;
  fee bigint := tz_fee(p_amount, p_fee_bps);
  answer jsonb;
BEGIN
  IF tz_ops_refusal(p_user, NULL, false) IS NOT NULL THEN
    RETURN tz_ops_refused(p_user, NULL, false);
  END IF;
  IF p_package IS NOT NULL THEN
    k := tz_package_for_topup(p_package);
    IF k.id IS NULL THEN
      RETURN json_build_object('error', 'package_not_found');
    ELSIF k.amount <> p_amount OR k.currency <> p_currency::bpchar OR k.bonus <> p_bonus THEN
      RETURN json_build_object('error', 'package_changed');
    END IF;
  END IF;
  INSERT INTO payments (id, fan_id, creator_id, amount, currency, fee_bps, fee, net, provider,
                        mobile_money_url, expires_at, phone_number, next_poll_at, purpose,
                        package_id, bonus, referral_bonus, issuer_name)
  VALUES (p_id, p_user, p_user, p_amount, p_currency, p_fee_bps, fee, p_amount - fee, p_provider,
          p_url, now() + make_interval(secs => p_expiry), p_phone,
          now() + make_interval(secs => p_poll), 'topup', p_package, coalesce(k.bonus, 0),
          p_referral_bonus, p_issuer)
  RETURNING * INTO p;
  answer := tz_payment_json(p)::jsonb || jsonb_build_object('payment_id', p.id);
  IF p_url IS NOT NULL THEN
    PERFORM tz_idem_store(p_user, p_key, 201, answer::json);
  END IF;
  RETURN (answer || jsonb_build_object(
            '_fan_email', (SELECT email FROM users WHERE id = p_user),
            '_creator_name', (SELECT full_name FROM users WHERE id = p_user)))::json;
END $$;

-- A package as the top-up handler reads it (active only), or NULL.
CREATE OR REPLACE FUNCTION tz_api_package_topup(p_id uuid) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  k packages := tz_package_for_topup(p_id);
BEGIN
  IF k.id IS NULL THEN
    RETURN NULL;
  END IF;
  RETURN json_build_object('id', k.id, 'amount', k.amount, 'currency', k.currency,
                           'bonus', k.bonus);
END $$;

-- Every account a wallet payment may post to, locked at once in the one
-- global order: the payer's cashback and main balances, the creator's
-- wallet and receivable, fees, and promotions (the cashback it earns).
CREATE OR REPLACE FUNCTION tz_wallet_payment_accounts(p_fan uuid, p_creator uuid,
                                                      p_currency text)
RETURNS bigint[] LANGUAGE sql AS $$
  SELECT ARRAY[tz_account('cashback', p_fan, NULL, p_currency),
               tz_account('wallet', p_fan, NULL, p_currency),
               tz_account('wallet', p_creator, NULL, p_currency),
               tz_account('platform_fees', NULL, NULL, p_currency),
               tz_account('creator_receivable', p_creator, NULL, p_currency),
               tz_account('promotions', NULL, NULL, p_currency)]
$$;

-- POST /payments/initiate with source wallet: checks, debits and credits
-- in one transaction, the answer stored under the payer's key.  Errors:
-- creator_not_found, own_wallet, invalid_splits (with message; a split
-- naming the payer is one), insufficient_funds (with available).  The
-- wallets and receivables of a split tip's other creators are locked with
-- the rest (tz_wallet_payment_lock, 55_billing.sql).  p_tax as for
-- tz_api_payment_create: p_amount is the price.
CREATE OR REPLACE FUNCTION tz_api_payment_wallet(p_id uuid, p_fan uuid, p_creator uuid,
                                                 p_amount bigint, p_currency text,
                                                 p_message text, p_fee_bps int,
                                                 p_cashback_bps int, p_cashback_cap bigint,
                                                 p_referral_bonus bigint, p_key text,
                                                 p_splits json, p_tax json, p_reserve_bps int,
                                                 p_reserve_days int)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  b record;
  p payments;
  t record := tz_tax_apply(p_amount, p_tax);
  fee bigint := tz_fee(t.amount, p_fee_bps);
  refused json;
BEGIN
  PERFORM 1 FROM creator_profiles WHERE user_id = p_creator;
  IF NOT FOUND THEN
    RETURN json_build_object('error', 'creator_not_found');
  ELSIF p_creator = p_fan THEN
    RETURN json_build_object('error', 'own_wallet');
  END IF;
  refused := coalesce(tz_splits_check(p_creator, p_fan, p_splits),
                      tz_ops_refused(p_fan, p_creator, true, p_splits));
  IF refused IS NOT NULL THEN
    RETURN refused;
  END IF;
  b := tz_wallet_payment_lock(p_fan, p_creator, p_currency, p_splits, p_referral_bonus);
  IF b.cashback + b.main < t.amount THEN
    RETURN json_build_object('error', 'insufficient_funds', 'available', b.cashback + b.main);
  END IF;
  INSERT INTO payments (id, fan_id, creator_id, amount, currency, fee_bps, fee, net, provider,
                        source, status, message, expires_at, from_cashback, cashback_bps,
                        cashback_cap, referral_bonus, tax_name, tax_bps, tax_inclusive, tax,
                        reserve_bps, reserve_days)
  VALUES (p_id, p_fan, p_creator, t.amount, p_currency, p_fee_bps, fee, t.amount - fee,
          'wallet', 'wallet', 'succeeded', coalesce(p_message, ''), now(),
          least(b.cashback, t.amount), p_cashback_bps, p_cashback_cap, p_referral_bonus,
          p_tax->>'name', coalesce((p_tax->>'bps')::int, 0),
          coalesce((p_tax->>'inclusive')::boolean, true), t.tax, p_reserve_bps, p_reserve_days)
  RETURNING * INTO p;
  PERFORM tz_splits_store(p.id, p_splits);
  PERFORM tz_payment_credit(p);
  SELECT * INTO p FROM payments WHERE id = p_id;
  RETURN tz_idem_store(p_fan, p_key, 201,
                       (tz_payment_json(p)::jsonb || jsonb_build_object('payment_id', p.id))::json);
END $$;

-- GET /payments/quote: what a tip made now would post, by the same
-- functions the posting uses.  p_source wallet_first is answered with
-- the source it would take.  p_amount is the price (p_tax: TipzedTax);
-- "amount" what would be paid.  {"error": "creator_not_found"}.
CREATE OR REPLACE FUNCTION tz_api_payment_quote(p_user uuid, p_creator uuid, p_amount bigint,
                                                p_currency text, p_source text, p_fee_bps int,
                                                p_cashback_bps int, p_cashback_cap bigint,
                                                p_tax json)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t record := tz_tax_apply(p_amount, p_tax);
  total bigint := t.amount;
  fee bigint := tz_fee(t.amount, p_fee_bps);
  cb bigint := coalesce((SELECT balance FROM accounts WHERE kind = 'cashback'
                          AND owner_id = p_user AND currency = p_currency::bpchar), 0);
  main bigint := coalesce((SELECT balance FROM accounts WHERE kind = 'wallet'
                            AND owner_id = p_user AND currency = p_currency::bpchar), 0);
  src text := p_source;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM creator_profiles WHERE user_id = p_creator) THEN
    RETURN json_build_object('error', 'creator_not_found');
  END IF;
  IF src = 'wallet_first' THEN
    src := CASE WHEN cb + main >= total AND p_creator <> p_user THEN 'wallet' ELSE 'provider' END;
  END IF;
  RETURN json_build_object(
    'amount', total, 'price', p_amount, 'tax', t.tax, 'tax_name', p_tax->>'name',
    'currency', p_currency, 'fee', fee, 'fee_bps', p_fee_bps, 'net', total - fee,
    'cashback', tz_cashback_due(p_user, p_currency, total, p_cashback_bps, p_cashback_cap),
    'source', src,
    'from_cashback', CASE WHEN src = 'wallet' THEN least(cb, total) ELSE 0 END,
    'from_balance', CASE WHEN src = 'wallet' THEN least(main, total - least(cb, total))
                         ELSE 0 END,
    'wallet_covers', cb + main >= total);
END $$;
