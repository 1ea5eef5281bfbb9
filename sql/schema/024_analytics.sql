-- 024: creator analytics rollups (docs/analytics.md).
--
-- Two tables per creator, currency and UTC day, written in the transaction
-- that posts the credit, refund or dispute they count (sql/functions/
-- 68_analytics.sql, tz_rollup_credit and tz_rollup_takeback), so that
-- GET /creators/me/analytics reads at most one row per day of its range
-- whatever the size of the ledger:
--
--   creator_daily      gross, fees, refunds, net, tips, subscription
--                      revenue, supporters: the day's figures of one
--                      creator
--   creator_fan_daily  one row per fan who paid the creator that day (the
--                      supporters of a day, a week or a month are the
--                      distinct fans of its days; top supporters sum them)
--   creator_fan_monthly  the same per calendar month, so that a long
--                      range reads its whole months there
--
-- Both rows belong to one creator, as its wallet row does, which the same
-- transaction has locked already: they add no lock that another creator's
-- posting waits for.  Follows are counted from the follows table itself
-- (indexed here by creator and time).
--
-- Existing databases: the rows are computed from the ledger and payments
-- below (the credit entries of payments other than top-ups, and the
-- creators' legs of refund and dispute entries), as the functions would
-- have written them.

CREATE TABLE creator_daily (
  creator_id   uuid NOT NULL REFERENCES users (id),
  currency     char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  day          date NOT NULL,                 -- UTC
  gross        bigint NOT NULL DEFAULT 0,     -- the creator's share of what fans paid
  fees         bigint NOT NULL DEFAULT 0,     -- the platform fee on that share
  refunds      bigint NOT NULL DEFAULT 0,     -- net taken back (refunds, disputes)
  net          bigint NOT NULL DEFAULT 0,     -- gross - fees - refunds
  tips         int NOT NULL DEFAULT 0,        -- tips and scheduled tips credited
  subscription bigint NOT NULL DEFAULT 0,     -- the part of gross from memberships
  supporters   int NOT NULL DEFAULT 0,        -- its creator_fan_daily rows: distinct paying fans
  PRIMARY KEY (creator_id, currency, day),
  CONSTRAINT creator_daily_net CHECK (net = gross - fees - refunds)
);

CREATE TABLE creator_fan_daily (
  creator_id uuid NOT NULL REFERENCES users (id),
  currency   char(3) NOT NULL,
  day        date NOT NULL,                   -- UTC
  fan_id     uuid NOT NULL REFERENCES users (id),
  gross      bigint NOT NULL DEFAULT 0,       -- what the fan paid the creator (its share)
  payments   int NOT NULL DEFAULT 0,
  PRIMARY KEY (creator_id, currency, day, fan_id)
);

-- The same per calendar month (UTC): a range's distinct fans and top
-- supporters read the months it covers whole here, the days of its partial
-- months in creator_fan_daily (a year: at most 12 rows per fan and 60 days).
CREATE TABLE creator_fan_monthly (
  creator_id uuid NOT NULL REFERENCES users (id),
  currency   char(3) NOT NULL,
  month      date NOT NULL CHECK (extract(day FROM month) = 1),
  fan_id     uuid NOT NULL REFERENCES users (id),
  gross      bigint NOT NULL DEFAULT 0,
  payments   int NOT NULL DEFAULT 0,
  PRIMARY KEY (creator_id, currency, month, fan_id)
);

CREATE INDEX follows_creator_time_idx ON follows (creator_id, created_at);

-- Backfill.  A credit's shares: its creator alone (gross, fee, net), or
-- each split creator's share of the gross by the largest-remainder rule
-- (53_splits.sql, spelt out here: the function files are applied after the
-- schema steps) and its credited net (payment_splits.amount).
CREATE TEMP TABLE rollup_credits ON COMMIT DROP AS
WITH credits AS (
  SELECT p.*, (e.created_at AT TIME ZONE 'UTC')::date AS day
    FROM journal_entries e JOIN payments p ON p.id = e.payment_id
   WHERE e.kind IN ('payment', 'wallet_payment') AND e.reference = 'payment:' || p.id || ':credit'
     AND p.purpose <> 'topup'
), split_base AS (
  SELECT c.id, c.amount AS total, s.creator_id, s.position, s.amount AS net_share,
         (c.amount / 10000) * s.share_bps + (c.amount % 10000) * s.share_bps / 10000 AS base,
         (c.amount % 10000) * s.share_bps % 10000 AS rem
    FROM credits c JOIN payment_splits s ON s.payment_id = c.id
), split_gross AS (
  SELECT id, creator_id, net_share,
         base + CASE WHEN row_number() OVER (PARTITION BY id ORDER BY rem DESC, position)
                          <= total - sum(base) OVER (PARTITION BY id)
                     THEN 1 ELSE 0 END AS gross_share
    FROM split_base b
)
SELECT c.day, c.currency, c.fan_id, c.purpose, s.creator_id, s.gross_share AS gross,
       s.gross_share - s.net_share AS fees
  FROM credits c JOIN split_gross s ON s.id = c.id
UNION ALL
SELECT c.day, c.currency, c.fan_id, c.purpose, c.creator_id, c.amount, c.fee
  FROM credits c WHERE NOT EXISTS (SELECT 1 FROM payment_splits s WHERE s.payment_id = c.id);

CREATE TEMP TABLE rollup_takebacks ON COMMIT DROP AS
SELECT a.owner_id AS creator_id, e.created_at AT TIME ZONE 'UTC' AS at_utc,
       p.currency, -sum(l.amount) AS taken
  FROM journal_entries e
  JOIN payments p ON p.id = e.payment_id
  JOIN postings l ON l.entry_id = e.id
  JOIN accounts a ON a.id = l.account_id
 WHERE e.kind IN ('refund', 'dispute_hold', 'dispute_release')
   AND a.kind IN ('wallet', 'creator_receivable') AND p.purpose <> 'topup'
   AND (a.owner_id = p.creator_id
        OR a.owner_id IN (SELECT s.creator_id FROM payment_splits s WHERE s.payment_id = p.id))
 GROUP BY e.id, a.owner_id, p.currency;

INSERT INTO creator_daily (creator_id, currency, day, gross, fees, refunds, net, tips, subscription,
                           supporters)
SELECT creator_id, currency, day, sum(gross), sum(fees), sum(refunds),
       sum(gross) - sum(fees) - sum(refunds), sum(tips), sum(subscription), count(DISTINCT fan_id)
  FROM (SELECT creator_id, currency, day, gross, fees, 0 AS refunds,
               CASE WHEN purpose IN ('tip', 'schedule') THEN 1 ELSE 0 END AS tips,
               CASE WHEN purpose = 'subscription' THEN gross ELSE 0 END AS subscription, fan_id
          FROM rollup_credits
        UNION ALL
        SELECT creator_id, currency, at_utc::date, 0, 0, taken, 0, 0, NULL FROM rollup_takebacks) x
 GROUP BY creator_id, currency, day;

INSERT INTO creator_fan_daily (creator_id, currency, day, fan_id, gross, payments)
SELECT creator_id, currency, day, fan_id, sum(gross), count(*)
  FROM rollup_credits GROUP BY creator_id, currency, day, fan_id;

INSERT INTO creator_fan_monthly (creator_id, currency, month, fan_id, gross, payments)
SELECT creator_id, currency, date_trunc('month', day)::date, fan_id, sum(gross), sum(payments)
  FROM creator_fan_daily GROUP BY 1, 2, 3, 4;
