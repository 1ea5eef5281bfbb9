-- Creator analytics, wallet statements and the balance at an instant
-- (docs/analytics.md).
--
-- Analytics read the per-day rollups of schema step 024 (creator_daily,
-- creator_fan_daily), which the posting functions keep in the transaction
-- of the entry they count: tz_rollup_credit() is called by
-- tz_payment_credit() (50_payments.sql) and tz_rollup_takeback() beside
-- each tz_split_earnings() of a refund or a dispute (52_refunds.sql,
-- 54_disputes.sql).  So a day's row changes exactly when the creator's
-- earnings (creator_stats) do, by the same net, and the sum of net over
-- all days equals the earnings the profile shows.  Days are UTC dates of
-- the entry's time (now() of the posting transaction).
--
-- The rows are the creator's own: its wallet row, locked by the same
-- entry, already orders every transaction that reaches them, so they add
-- no wait between different creators (30_ledger.sql: they are taken after
-- the entry's first posting, like creator_stats).

-- The credit of payment p: p_creators (in share order) were credited
-- p_net; each one's gross is its share of the payment's amount by the
-- split rule (tz_payment_shares), its fees the rest.  Top-ups are not
-- earnings.  Rows are written in creator order.
CREATE OR REPLACE FUNCTION tz_rollup_credit(p payments, p_creators uuid[], p_net bigint[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  d date := (now() AT TIME ZONE 'UTC')::date;
  g bigint[];
BEGIN
  IF p.purpose = 'topup' THEN
    RETURN;
  END IF;
  SELECT array_agg(s.amount ORDER BY s.pos) INTO g FROM tz_payment_shares(p, p.amount) s;
  -- the fan's row of the day first: a new one (xmax = 0: inserted, not
  -- updated) is one more supporter of the day
  WITH fan AS (
    INSERT INTO creator_fan_daily AS c (creator_id, currency, day, fan_id, gross, payments)
    SELECT u.who, p.currency, d, p.fan_id, u.gross, 1
      FROM unnest(p_creators, g) AS u(who, gross) ORDER BY u.who
    ON CONFLICT (creator_id, currency, day, fan_id) DO UPDATE
       SET gross = c.gross + excluded.gross, payments = c.payments + 1
    RETURNING c.creator_id, (c.xmax = 0) AS fresh
  )
  INSERT INTO creator_daily AS c (creator_id, currency, day, gross, fees, net, tips, subscription,
                                  supporters)
  SELECT u.who, p.currency, d, u.gross, u.gross - u.net, u.net,
         CASE WHEN p.purpose IN ('tip', 'schedule') THEN 1 ELSE 0 END,
         CASE WHEN p.purpose = 'subscription' THEN u.gross ELSE 0 END,
         CASE WHEN fan.fresh THEN 1 ELSE 0 END
    FROM unnest(p_creators, p_net, g) AS u(who, net, gross) JOIN fan ON fan.creator_id = u.who
   ORDER BY u.who
  ON CONFLICT (creator_id, currency, day) DO UPDATE
     SET gross = c.gross + excluded.gross, fees = c.fees + excluded.fees,
         net = c.net + excluded.net, tips = c.tips + excluded.tips,
         subscription = c.subscription + excluded.subscription,
         supporters = c.supporters + excluded.supporters;
  INSERT INTO creator_fan_monthly AS c (creator_id, currency, month, fan_id, gross, payments)
  SELECT u.who, p.currency, date_trunc('month', d)::date, p.fan_id, u.gross, 1
    FROM unnest(p_creators, g) AS u(who, gross) ORDER BY u.who
  ON CONFLICT (creator_id, currency, month, fan_id) DO UPDATE
     SET gross = c.gross + excluded.gross, payments = c.payments + 1;
END $$;

-- A refund or a dispute moved p_creators' earnings by p_amounts (negative:
-- taken back; positive: a won dispute's release): counted as refunds of
-- the day it happens, not of the day of the credit.
CREATE OR REPLACE FUNCTION tz_rollup_takeback(p payments, p_creators uuid[], p_amounts bigint[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF p.purpose = 'topup' THEN
    RETURN;
  END IF;
  INSERT INTO creator_daily AS c (creator_id, currency, day, refunds, net)
  SELECT u.who, p.currency, (now() AT TIME ZONE 'UTC')::date, -u.a, u.a
    FROM unnest(p_creators, p_amounts) AS u(who, a) WHERE u.a <> 0 ORDER BY u.who
  ON CONFLICT (creator_id, currency, day) DO UPDATE
     SET refunds = c.refunds + excluded.refunds, net = c.net + excluded.net;
END $$;

-- GET /creators/me/analytics.  p_from and p_to are UTC dates aligned by
-- the module to p_interval's buckets (day, ISO week from Monday, calendar
-- month; tz_analytics.c), p_to exclusive.  Every bucket is listed, empty
-- ones with zeros.  supporters: distinct paying fans of the bucket (of
-- the range, in totals: not the sum of the buckets'); new_followers:
-- follows made in the bucket that still stand.
CREATE OR REPLACE FUNCTION tz_api_creator_analytics(p_creator uuid, p_currency text, p_from date,
                                                    p_to date, p_interval text)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
-- a few thousand rows at most: starting parallel workers would cost more
-- than they save
SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
  step interval := ('1 ' || p_interval)::interval;
  t0 timestamptz := p_from::timestamp AT TIME ZONE 'UTC';
  t1 timestamptz := p_to::timestamp AT TIME ZONE 'UTC';
  series json;
  totals json;
  top json;
  n_fans bigint;
  m0 date;
  m1 date;
BEGIN
  IF p_interval NOT IN ('day', 'week', 'month') OR p_to <= p_from THEN
    RAISE EXCEPTION 'analytics: % buckets from % to %', p_interval, p_from, p_to
      USING ERRCODE = '22023';
  END IF;
  -- one pass over the range's fan rows: the distinct fans (the totals'
  -- supporters) and the ten who paid the most
  -- whole months [m0, m1) from creator_fan_monthly, the days before m0
  -- and from m1 on from creator_fan_daily
  m0 := CASE WHEN date_trunc('month', p_from)::date = p_from THEN p_from
             ELSE (date_trunc('month', p_from) + interval '1 month')::date END;
  m1 := date_trunc('month', p_to)::date;
  IF m1 <= m0 THEN  -- no whole month: every day from creator_fan_daily
    m0 := p_to;
    m1 := p_to;
  END IF;
  SELECT json_agg(json_build_object('fan_id', t.fan_id, 'name', u.full_name, 'total', t.total,
                                    'payments', t.n) ORDER BY t.total DESC, t.fan_id),
         max(t.fans)
    INTO top, n_fans
    FROM (SELECT fan_id, sum(gross) AS total, sum(payments) AS n, count(*) OVER () AS fans
            FROM (SELECT fan_id, gross, payments FROM creator_fan_monthly
                   WHERE creator_id = p_creator AND currency = p_currency
                     AND month >= m0 AND month < m1
                  UNION ALL
                  SELECT fan_id, gross, payments FROM creator_fan_daily
                   WHERE creator_id = p_creator AND currency = p_currency
                     AND ((day >= p_from AND day < m0) OR (day >= m1 AND day < p_to))) f
           GROUP BY fan_id ORDER BY sum(gross) DESC, fan_id LIMIT 10) t
    JOIN users u ON u.id = t.fan_id;
  WITH buckets AS (
    SELECT s::date AS start FROM generate_series(p_from::timestamp, p_to::timestamp - step, step) s
  ), days AS (
    SELECT date_trunc(p_interval, day::timestamp)::date AS start, sum(gross) AS gross,
           sum(fees) AS fees, sum(refunds) AS refunds, sum(net) AS net, sum(tips) AS tips,
           sum(subscription) AS subscription, sum(supporters) AS supporters
      FROM creator_daily
     WHERE creator_id = p_creator AND currency = p_currency AND day >= p_from AND day < p_to
     GROUP BY 1
  ), fans AS (
    -- a day's supporters are stored, a month's are its rows of
    -- creator_fan_monthly, a week's the distinct fans of its days
    SELECT start, count(*) AS n FROM (
      SELECT date_trunc('week', day::timestamp)::date AS start, fan_id
        FROM creator_fan_daily
       WHERE p_interval = 'week' AND creator_id = p_creator AND currency = p_currency
         AND day >= p_from AND day < p_to
       GROUP BY 1, 2) f
     GROUP BY start
    UNION ALL
    SELECT month, count(*) FROM creator_fan_monthly
     WHERE p_interval = 'month' AND creator_id = p_creator AND currency = p_currency
       AND month >= p_from AND month < p_to
     GROUP BY month
  ), follows_in AS (
    SELECT date_trunc(p_interval, created_at AT TIME ZONE 'UTC')::date AS start, count(*) AS n
      FROM follows WHERE creator_id = p_creator AND created_at >= t0 AND created_at < t1
     GROUP BY 1
  ), rows AS (
    SELECT b.start, coalesce(d.gross, 0) AS gross, coalesce(d.fees, 0) AS fees,
           coalesce(d.refunds, 0) AS refunds, coalesce(d.net, 0) AS net,
           coalesce(d.tips, 0) AS tips,
           coalesce(CASE WHEN p_interval = 'day' THEN d.supporters ELSE f.n END, 0) AS supporters,
           coalesce(fl.n, 0) AS new_followers, coalesce(d.subscription, 0) AS subscription
      FROM buckets b LEFT JOIN days d USING (start) LEFT JOIN fans f USING (start)
      LEFT JOIN follows_in fl USING (start)
  )
  SELECT json_agg(json_build_object(
           'start', tz_ts(r.start::timestamp AT TIME ZONE 'UTC'), 'gross', r.gross, 'fees', r.fees,
           'refunds', r.refunds, 'net', r.net, 'tips', r.tips, 'supporters', r.supporters,
           'new_followers', r.new_followers, 'subscription_revenue', r.subscription)
           ORDER BY r.start),
         json_build_object(
           'gross', coalesce(sum(r.gross), 0), 'fees', coalesce(sum(r.fees), 0),
           'refunds', coalesce(sum(r.refunds), 0), 'net', coalesce(sum(r.net), 0),
           'tips', coalesce(sum(r.tips), 0), 'supporters', coalesce(n_fans, 0),
           'new_followers', coalesce(sum(r.new_followers), 0),
           'subscription_revenue', coalesce(sum(r.subscription), 0))
    INTO series, totals FROM rows r;
  RETURN json_build_object('currency', p_currency, 'interval', p_interval,
                           'from', tz_ts(t0), 'to', tz_ts(t1),
                           'series', coalesce(series, '[]'::json), 'totals', totals,
                           'top_supporters', coalesce(top, '[]'::json));
END $$;

-- Balances at an instant.  The balance of an account at T is balance_after
-- of its last posting, in ledger order (posting id: the order in which the
-- balance moved), among those stamped at or before T; 0 before the first.
-- The posting's id comes with it: a statement's lines are the postings
-- between two such cuts, so opening + lines = closing holds exactly.
CREATE OR REPLACE FUNCTION tz_balance_cut(p_account bigint, p_at timestamptz,
                                          OUT posting_id bigint, OUT balance bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  SELECT p.id, p.balance_after INTO posting_id, balance FROM postings p
   WHERE p.account_id = p_account AND p.created_at <= p_at
   ORDER BY p.id DESC LIMIT 1;
  posting_id := coalesce(posting_id, 0);
  balance := coalesce(balance, 0);
END $$;

-- GET /wallets/me/balance?at=: the main and the cashback balance at p_at.
CREATE OR REPLACE FUNCTION tz_api_wallet_balance_at(p_user uuid, p_currency text,
                                                    p_at timestamptz)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN json_build_object(
    'currency', p_currency, 'at', tz_ts(p_at),
    'balance', (SELECT balance FROM tz_balance_cut(
                  (SELECT id FROM accounts WHERE kind = 'wallet' AND owner_id = p_user
                      AND currency = p_currency), p_at)),
    'cashback_balance', (SELECT balance FROM tz_balance_cut(
                           (SELECT id FROM accounts WHERE kind = 'cashback' AND owner_id = p_user
                               AND currency = p_currency), p_at)));
END $$;

-- GET /wallets/me/statement, its head: the main balance (cashback is not
-- money the user may withdraw or transfer; /wallets/me/balance shows it)
-- at p_from (opening) and at p_to (closing), the totals in and out of the
-- postings between, and the two cuts (_after, _upto: posting ids) between
-- which the module then reads the lines, a page at a time
-- (tz_api_wallet_statement_lines).
CREATE OR REPLACE FUNCTION tz_api_wallet_statement(p_user uuid, p_currency text,
                                                   p_from timestamptz, p_to timestamptz)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  acct bigint := (SELECT id FROM accounts WHERE kind = 'wallet' AND owner_id = p_user
                     AND currency = p_currency);
  o record;
  c record;
  t record;
BEGIN
  o := tz_balance_cut(acct, p_from);
  c := tz_balance_cut(acct, p_to);
  SELECT coalesce(sum(amount) FILTER (WHERE amount > 0), 0) AS total_in,
         coalesce(-sum(amount) FILTER (WHERE amount < 0), 0) AS total_out, count(*) AS n
    INTO t FROM postings
   WHERE account_id = acct AND id > o.posting_id AND id <= c.posting_id;
  RETURN json_build_object(
    'currency', p_currency, 'account', 'main', 'from', tz_ts(p_from), 'to', tz_ts(p_to),
    'opening_balance', o.balance, 'total_in', t.total_in, 'total_out', t.total_out,
    'closing_balance', c.balance, 'lines_count', t.n,
    '_after', o.posting_id, '_upto', c.posting_id);
END $$;

-- Up to p_limit lines of the caller's main balance after posting p_after
-- and up to p_upto, oldest first, in the shape of /wallets/me/transactions,
-- as text the module sends as it is: the posting id to continue after
-- (empty at the end), a newline, then the lines' JSON texts separated by
-- commas (the members of the page's part of the statement's array).
CREATE OR REPLACE FUNCTION tz_api_wallet_statement_lines(p_user uuid, p_currency text,
                                                         p_after bigint, p_upto bigint,
                                                         p_limit int)
RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  acct bigint := (SELECT id FROM accounts WHERE kind = 'wallet' AND owner_id = p_user
                     AND currency = p_currency);
  ids bigint[] := ARRAY(SELECT id FROM postings WHERE account_id = acct AND id > p_after
                          AND id <= p_upto ORDER BY id LIMIT p_limit);
BEGIN
  RETURN coalesce(CASE WHEN cardinality(ids) = p_limit AND ids[p_limit] < p_upto
                       THEN ids[p_limit]::text END, '')
         || E'\n'
         || coalesce((SELECT string_agg(l.line, ',' ORDER BY l.id)
                        FROM tz_wallet_lines_text(ids) l), '');
END $$;

-- Reconciliation (80_reconcile.sql), analytics_rollups: creator id and
-- currency whose days' net does not sum to its earnings (creator_stats);
-- creator, currency and day whose paying fans' rows do not sum to the
-- day's gross, or are not as many as its supporters.  Whole-table passes over the rollups, admin-only.
CREATE OR REPLACE FUNCTION tz_reconcile_analytics() RETURNS TABLE (check_name text, id text,
                                                                   detail text)
LANGUAGE sql STABLE AS $$
  SELECT 'analytics_rollups', format('%s/%s', coalesce(s.creator_id, d.creator_id),
                                     coalesce(s.currency, d.currency)),
         format('earnings %s, days'' net %s', coalesce(s.earnings, 0), coalesce(d.net, 0))
    FROM creator_stats s
    FULL JOIN (SELECT creator_id, currency, sum(net) AS net FROM creator_daily
                GROUP BY creator_id, currency) d
      ON d.creator_id = s.creator_id AND d.currency = s.currency
   WHERE coalesce(s.earnings, 0) <> coalesce(d.net, 0)
  UNION ALL
  SELECT 'analytics_rollups', format('%s/%s/%s', coalesce(d.creator_id, f.creator_id),
                                     coalesce(d.currency, f.currency), coalesce(d.day, f.day)),
         format('gross %s and %s supporters, its fans'' rows: gross %s, %s rows',
                coalesce(d.gross, 0), coalesce(d.supporters, 0), coalesce(f.gross, 0),
                coalesce(f.n, 0))
    FROM creator_daily d
    FULL JOIN (SELECT creator_id, currency, day, sum(gross) AS gross, count(*) AS n
                 FROM creator_fan_daily GROUP BY creator_id, currency, day) f
      ON f.creator_id = d.creator_id AND f.currency = d.currency AND f.day = d.day
   WHERE coalesce(d.gross, 0) <> coalesce(f.gross, 0) OR coalesce(d.supporters, 0) <> coalesce(f.n, 0)
  UNION ALL
  SELECT 'analytics_rollups', format('%s/%s/%s/%s', coalesce(m.creator_id, f.creator_id),
                                     coalesce(m.currency, f.currency), coalesce(m.month, f.month),
                                     coalesce(m.fan_id, f.fan_id)),
         format('month: gross %s, %s payments; its days: gross %s, %s payments',
                m.gross, m.payments, f.gross, f.payments)
    FROM creator_fan_monthly m
    FULL JOIN (SELECT creator_id, currency, date_trunc('month', day)::date AS month, fan_id,
                      sum(gross) AS gross, sum(payments) AS payments
                 FROM creator_fan_daily GROUP BY 1, 2, 3, 4) f
      ON f.creator_id = m.creator_id AND f.currency = m.currency AND f.month = m.month
     AND f.fan_id = m.fan_id
   WHERE m.gross IS DISTINCT FROM f.gross OR m.payments IS DISTINCT FROM f.payments
$$;
