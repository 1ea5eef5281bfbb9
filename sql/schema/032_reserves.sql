-- Rolling reserves and the first payout's delay (docs/risk.md, "Reserves").
--
-- A share of each credit to a creator (TipzedReserve percent days) is
-- held in the creator's reserve_hold account, one reserve_holds row per
-- payment and creator, until release_at; the release job then moves what
-- is left of it (amount - drawn: refunds and disputes draw on it first)
-- to the creator's wallet in an entry of kind reserve_release.  The terms
-- are fixed on the payment when it is created, as its fee is.

ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_kind_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check
  CHECK (kind IN ('wallet', 'platform_fees', 'provider_clearing', 'payout_hold',
                  'payouts_settled', 'dispute_hold', 'creator_receivable', 'cashback',
                  'promotions', 'biller_clearing', 'bills_settled', 'adjustments',
                  'reserve_hold'));
ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_owner_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_owner_check
  CHECK ((kind IN ('wallet', 'creator_receivable', 'cashback', 'reserve_hold'))
         = (owner_id IS NOT NULL));
ALTER TABLE accounts ADD CONSTRAINT reserve_not_negative
  CHECK (kind <> 'reserve_hold' OR balance >= 0);
CREATE UNIQUE INDEX accounts_reserve_key ON accounts (owner_id, currency)
  WHERE kind = 'reserve_hold';

ALTER TABLE journal_entries DROP CONSTRAINT IF EXISTS journal_entries_kind_check;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check
  CHECK (kind IN ('payment', 'refund', 'payout_hold', 'payout_settle', 'payout_release',
                  'adjustment', 'dispute_hold', 'dispute_release', 'dispute_settle',
                  'wallet_payment', 'cashback', 'cashback_reversal', 'referral_bonus',
                  'transfer', 'bill_hold', 'bill_settle', 'bill_release', 'bonus_reversal',
                  'reserve_release'));

ALTER TABLE payments
  ADD COLUMN reserve_bps int NOT NULL DEFAULT 0 CHECK (reserve_bps BETWEEN 0 AND 10000),
  ADD COLUMN reserve_days int NOT NULL DEFAULT 0 CHECK (reserve_days BETWEEN 0 AND 3660);

CREATE TABLE reserve_holds (
  id               bigserial PRIMARY KEY,
  payment_id       uuid NOT NULL REFERENCES payments (id),
  creator_id       uuid NOT NULL REFERENCES users (id),
  currency         char(3) NOT NULL,
  amount           bigint NOT NULL CHECK (amount > 0),
  drawn            bigint NOT NULL DEFAULT 0,
  release_at       timestamptz NOT NULL,
  released_at      timestamptz,
  release_entry_id bigint REFERENCES journal_entries (id),
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (payment_id, creator_id),
  CONSTRAINT reserve_drawn_within CHECK (drawn BETWEEN 0 AND amount),
  CONSTRAINT reserve_released_once CHECK (release_entry_id IS NULL OR released_at IS NOT NULL)
);
CREATE INDEX reserve_holds_due ON reserve_holds (release_at) WHERE released_at IS NULL;
CREATE INDEX reserve_holds_open ON reserve_holds (creator_id, currency, release_at)
  WHERE released_at IS NULL;

-- TipzedFirstPayoutDelay counts from a creator's first payment credit, on
-- the reserve's clock (tz_reserve_clock); creators credited before this
-- step count from their first credit entry.
ALTER TABLE creator_profiles ADD COLUMN first_credit_at timestamptz;
UPDATE creator_profiles c SET first_credit_at = x.t
  FROM (SELECT a.owner_id, min(q.created_at) AS t
          FROM postings q JOIN accounts a ON a.id = q.account_id
          JOIN journal_entries e ON e.id = q.entry_id
         WHERE q.amount > 0 AND a.kind IN ('wallet', 'creator_receivable')
           AND e.kind IN ('payment', 'wallet_payment')
         GROUP BY a.owner_id) x
 WHERE x.owner_id = c.user_id;

-- Signatures that gained the reserve's terms, and the payout request its delay.
DROP FUNCTION IF EXISTS tz_api_payment_create(uuid, uuid, uuid, bigint, text, text, text, int,
                                              bigint, text, text, text, bigint, int, bigint,
                                              bigint, json, json);
DROP FUNCTION IF EXISTS tz_api_payment_wallet(uuid, uuid, uuid, bigint, text, text, int, int,
                                              bigint, bigint, text, json, json);
DROP FUNCTION IF EXISTS tz_api_payout_request(uuid, uuid, bigint, text, text, text, bigint,
                                              text);
