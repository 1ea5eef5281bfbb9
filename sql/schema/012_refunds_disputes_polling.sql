-- 012: refunds through the provider (partial ones too), disputes with a
-- hold and a creator receivable, and status polling of pending payments.
--
-- Payment states: pending -> succeeded | failed | expired | review;
-- succeeded | partially_refunded -> refund_pending -> refunded |
-- partially_refunded, or back to where it was when the provider refuses.

ALTER TABLE payments DROP CONSTRAINT IF EXISTS payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
  CHECK (status IN ('pending', 'succeeded', 'failed', 'expired', 'review', 'refund_pending',
                    'partially_refunded', 'refunded'));
ALTER TABLE payments
  -- what has been given back to the payer, and the platform fee reversed with it
  ADD COLUMN refunded_amount bigint NOT NULL DEFAULT 0,
  ADD COLUMN refunded_fee    bigint NOT NULL DEFAULT 0,
  -- what open or lost disputes have taken back, and their fee share
  ADD COLUMN disputed_amount bigint NOT NULL DEFAULT 0,
  ADD COLUMN disputed_fee    bigint NOT NULL DEFAULT 0,
  -- the provider's name of the checkout (Stripe: the Checkout Session id)
  ADD COLUMN provider_ref    text,
  -- the payer's MSISDN, for providers that push the payment to a phone
  ADD COLUMN phone_number    text,
  -- status polling: when the provider is asked next, how often it was
  -- asked, and when it was last asked
  ADD COLUMN next_poll_at    timestamptz,
  ADD COLUMN poll_attempts   int NOT NULL DEFAULT 0,
  ADD COLUMN polled_at       timestamptz,
  ADD CONSTRAINT payments_returned_check
    CHECK (refunded_amount >= 0 AND disputed_amount >= 0
           AND refunded_amount + disputed_amount <= amount
           AND refunded_fee >= 0 AND disputed_fee >= 0 AND refunded_fee + disputed_fee <= fee);
-- Payments refunded in full before this step.
UPDATE payments SET refunded_amount = amount, refunded_fee = fee WHERE status = 'refunded';

-- Refunds and disputes name the payment by the provider's transaction id.
CREATE INDEX payments_provider_tx_idx ON payments (provider, provider_transaction_id)
  WHERE provider_transaction_id IS NOT NULL;
CREATE INDEX payments_poll_idx ON payments (next_poll_at) WHERE status = 'pending';

-- Ledger: a dispute's money waits in dispute_hold; what a creator's wallet
-- could not cover is the creator's receivable (a balance <= 0: what the
-- creator owes), recovered from that creator's later credits.
ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_kind_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check
  CHECK (kind IN ('wallet', 'platform_fees', 'provider_clearing', 'payout_hold',
                  'payouts_settled', 'dispute_hold', 'creator_receivable'));
ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_owner_check
  CHECK ((kind IN ('wallet', 'creator_receivable')) = (owner_id IS NOT NULL));
ALTER TABLE accounts ADD CONSTRAINT receivable_not_positive
  CHECK (kind <> 'creator_receivable' OR balance <= 0);
DROP INDEX IF EXISTS accounts_system_key;
CREATE UNIQUE INDEX accounts_system_key
  ON accounts (kind, coalesce(provider, ''), currency) WHERE owner_id IS NULL;
CREATE UNIQUE INDEX accounts_receivable_key ON accounts (owner_id, currency)
  WHERE kind = 'creator_receivable';

ALTER TABLE journal_entries DROP CONSTRAINT IF EXISTS journal_entries_kind_check;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check
  CHECK (kind IN ('payment', 'refund', 'payout_hold', 'payout_settle', 'payout_release',
                  'adjustment', 'dispute_hold', 'dispute_release', 'dispute_settle'));

-- One row per refund, asked by an admin or made at the provider.
CREATE TABLE refunds (
  id                 uuid PRIMARY KEY,
  payment_id         uuid NOT NULL REFERENCES payments (id),
  amount             bigint NOT NULL CHECK (amount > 0),
  fee                bigint NOT NULL CHECK (fee >= 0 AND fee <= amount),
  status             text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'succeeded', 'failed')),
  reason             text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  requested_by       uuid REFERENCES users (id),   -- NULL: made at the provider
  prior_status       text NOT NULL,                -- the payment's state to go back to
  provider_refund_id text,
  failure_reason     text,
  attempts           int NOT NULL DEFAULT 0,
  next_try_at        timestamptz,                  -- a lost answer: ask again then
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
-- At most one refund of a payment is in flight.
CREATE UNIQUE INDEX refunds_one_pending ON refunds (payment_id) WHERE status = 'pending';
CREATE UNIQUE INDEX refunds_provider_key ON refunds (payment_id, provider_refund_id)
  WHERE provider_refund_id IS NOT NULL;
CREATE INDEX refunds_retry_idx ON refunds (next_try_at) WHERE status = 'pending';

-- Payments refunded in full before this step, as the one refund each had.
INSERT INTO refunds (id, payment_id, amount, fee, status, reason, prior_status, created_at,
                     updated_at)
SELECT gen_random_uuid(), id, amount, fee, 'succeeded', 'refunded (recorded before step 012)',
       'succeeded', updated_at, updated_at
  FROM payments WHERE status = 'refunded';

-- One row per dispute (chargeback) the provider reported.
CREATE TABLE disputes (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  payment_id          uuid NOT NULL REFERENCES payments (id),
  provider            text NOT NULL,
  provider_dispute_id text NOT NULL CHECK (length(provider_dispute_id) BETWEEN 1 AND 200),
  -- 0 when nothing was left of the payment to take back (refunded, or
  -- taken by an earlier dispute): the dispute is still listed
  amount              bigint NOT NULL CHECK (amount >= 0),
  fee                 bigint NOT NULL CHECK (fee >= 0 AND fee <= amount),
  status              text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
  reason              text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, provider_dispute_id)
);
CREATE INDEX disputes_status_idx ON disputes (status, created_at);
CREATE INDEX disputes_payment_idx ON disputes (payment_id);

-- The admin refund takes an amount and a reason now; the full reversal it
-- made is a refund like any other (sql/functions/52_refunds.sql).
DROP FUNCTION IF EXISTS tz_api_payment_refund(uuid, uuid, text, text);
DROP FUNCTION IF EXISTS tz_payment_reverse(payments);
DROP FUNCTION IF EXISTS tz_api_payments_expire();
DROP FUNCTION IF EXISTS tz_api_payment_checkout(uuid, text, boolean, text);
DROP FUNCTION IF EXISTS tz_api_payment_create(uuid, uuid, uuid, bigint, text, text, text, int,
                                              bigint, text, text);
