-- 018: payments into and out of fans' wallets.
--
-- A payment has a purpose: a tip to a creator, or a top-up of the payer's
-- own wallet (creator_id is then the payer: the wallet the money lands in,
-- so that crediting, refunds and disputes take the same path as tips).  It
-- has a source: a provider's checkout, or the payer's wallet (provider
-- 'wallet', succeeded at once, the cashback balance spent first).
--
-- What the posting functions need is fixed on the payment when it is made,
-- as the fee is: the package bonus, the cashback rate and monthly cap, the
-- referral bonus.  What has been taken back of them is kept beside, so that
-- partial refunds take back shares that add up exactly.

ALTER TABLE payments
  ADD COLUMN purpose           text NOT NULL DEFAULT 'tip' CHECK (purpose IN ('tip', 'topup')),
  ADD COLUMN source            text NOT NULL DEFAULT 'provider'
                               CHECK (source IN ('provider', 'wallet')),
  ADD COLUMN package_id        uuid REFERENCES packages (id),
  -- top-ups: the promotions account's gift, and what refunds took back of it
  ADD COLUMN bonus             bigint NOT NULL DEFAULT 0 CHECK (bonus >= 0),
  ADD COLUMN bonus_reversed    bigint NOT NULL DEFAULT 0,
  -- wallet payments: the part paid from the cashback balance, and the part
  -- of it refunds gave back to the cashback balance
  ADD COLUMN from_cashback     bigint NOT NULL DEFAULT 0 CHECK (from_cashback >= 0),
  ADD COLUMN cashback_returned bigint NOT NULL DEFAULT 0,
  -- the cashback the payment earns its payer (rate and cap of the moment it
  -- was made), what it earned when credited, and what refunds reversed
  ADD COLUMN cashback_bps      int NOT NULL DEFAULT 0 CHECK (cashback_bps BETWEEN 0 AND 10000),
  ADD COLUMN cashback_cap      bigint NOT NULL DEFAULT 0 CHECK (cashback_cap >= 0),
  ADD COLUMN cashback          bigint NOT NULL DEFAULT 0 CHECK (cashback >= 0),
  ADD COLUMN cashback_reversed bigint NOT NULL DEFAULT 0,
  -- the referrer's bonus should this be the payer's first success
  ADD COLUMN referral_bonus    bigint NOT NULL DEFAULT 0 CHECK (referral_bonus >= 0),
  ADD CONSTRAINT payments_wallet_source CHECK ((source = 'wallet') = (provider = 'wallet')),
  ADD CONSTRAINT payments_topup_self CHECK (purpose <> 'topup' OR creator_id = fan_id),
  ADD CONSTRAINT payments_topup_by_provider CHECK (purpose <> 'topup' OR source = 'provider'),
  ADD CONSTRAINT payments_bonus_on_topups CHECK (purpose = 'topup' OR bonus = 0),
  ADD CONSTRAINT payments_from_cashback CHECK (from_cashback <= amount
                                               AND (source = 'wallet' OR from_cashback = 0)),
  ADD CONSTRAINT payments_taken_back CHECK (bonus_reversed BETWEEN 0 AND bonus
                                            AND cashback_returned BETWEEN 0 AND from_cashback
                                            AND cashback_reversed BETWEEN 0 AND cashback);

-- The cashback granted per payer, currency and calendar month (UTC): the
-- row is locked while a grant is decided, so concurrent payments can never
-- take a month past its cap.  A reversal does not give the cap back.
CREATE TABLE cashback_months (
  user_id   uuid NOT NULL REFERENCES users (id),
  currency  char(3) NOT NULL,
  month     date NOT NULL,
  granted   bigint NOT NULL DEFAULT 0 CHECK (granted >= 0),
  PRIMARY KEY (user_id, currency, month)
);

-- The bonus of a refunded top-up goes back to promotions in an entry of
-- its own, as a reversed cashback does.
ALTER TABLE journal_entries DROP CONSTRAINT IF EXISTS journal_entries_kind_check;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check
  CHECK (kind IN ('payment', 'refund', 'payout_hold', 'payout_settle', 'payout_release',
                  'adjustment', 'dispute_hold', 'dispute_release', 'dispute_settle',
                  'wallet_payment', 'cashback', 'cashback_reversal', 'referral_bonus',
                  'transfer', 'bill_hold', 'bill_settle', 'bill_release', 'bonus_reversal'));

-- Payment creation learns the cashback and referral terms of the moment.
DROP FUNCTION IF EXISTS tz_api_payment_create(uuid, uuid, uuid, bigint, text, text, text, int,
                                              bigint, text, text, text, bigint);
