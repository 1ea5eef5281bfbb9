-- 020: memberships, recurring payments and installments (docs/billing.md).
--
-- A creator's plans; fans' subscriptions to them; schedules (a recurring
-- payment to a creator, an installment plan being a schedule with a
-- count).  Both are "billing items", charged period by period by the
-- billing engine.  billing_charges holds the one payment that paid each
-- (item, period): its primary key is what makes a period paid at most
-- once, whatever restarts, retries or nodes run the engine.

-- The sandbox's movable clock: the billing engine's "now" is now() plus
-- this offset on servers running TipzedSandbox On (and now() elsewhere).
CREATE TABLE billing_clock (
  id     boolean PRIMARY KEY DEFAULT true CHECK (id),
  offset_seconds bigint NOT NULL DEFAULT 0 CHECK (offset_seconds >= 0)
);
INSERT INTO billing_clock DEFAULT VALUES;

CREATE TABLE plans (
  id          uuid PRIMARY KEY,
  creator_id  uuid NOT NULL REFERENCES users (id),
  name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 1000),
  amount      bigint NOT NULL CHECK (amount > 0),
  currency    char(3) NOT NULL,
  interval    text NOT NULL CHECK (interval IN ('week', 'month', 'quarter', 'year')),
  trial_days  int NOT NULL DEFAULT 0 CHECK (trial_days BETWEEN 0 AND 365),
  -- [{creator_id, share_bps}, ...] copied onto each charge, or NULL
  splits      json,
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX plans_creator_idx ON plans (creator_id, created_at);

-- Shared by subscriptions and schedules: the item's status, the period
-- being charged, and a past-due item's retries.
--   anchor, anchor_period  period k (k >= anchor_period) starts at
--                          anchor + (k - anchor_period) intervals (months
--                          counted from the anchor, so the 31st stays the
--                          31st where a month has one)
--   period                 the item's current period (0: a trial, or a
--                          schedule before its first charge)
--   paid                   the current period is paid (or owes nothing)
--   past_due_since         when the current period's charge first failed
--   next_attempt_at        when the engine next acts on the item
--   link_payment_id        the provider payment offered for the period
--   provider, phone_number the provider (NULL: the server's default) and
--                          the payer's phone its links are made with
CREATE TABLE subscriptions (
  id                   uuid PRIMARY KEY,
  plan_id              uuid NOT NULL REFERENCES plans (id),
  creator_id           uuid NOT NULL REFERENCES users (id),
  fan_id               uuid NOT NULL REFERENCES users (id),
  status               text NOT NULL CHECK (status IN ('trialing', 'incomplete', 'active',
                                                       'past_due', 'canceled',
                                                       'incomplete_expired')),
  source               text NOT NULL CHECK (source IN ('wallet', 'provider')),
  provider             text,
  phone_number         text,
  -- the API's absolute base URL, for the links offered to the payer
  api_url              text,
  amount               bigint NOT NULL CHECK (amount > 0),
  currency             char(3) NOT NULL,
  interval             text NOT NULL,
  anchor               timestamptz NOT NULL,
  anchor_period        int NOT NULL DEFAULT 1,
  period               int NOT NULL DEFAULT 0 CHECK (period >= 0),
  paid                 boolean NOT NULL,
  current_period_start timestamptz NOT NULL,
  current_period_end   timestamptz NOT NULL,
  trial_end            timestamptz,
  cancel_at_period_end boolean NOT NULL DEFAULT false,
  canceled_at          timestamptz,
  ended_at             timestamptz,
  past_due_since       timestamptz,
  next_attempt_at      timestamptz,
  link_payment_id      uuid,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT subscriptions_not_own CHECK (fan_id <> creator_id)
);
-- one live subscription per fan and plan
CREATE UNIQUE INDEX subscriptions_live_idx ON subscriptions (fan_id, plan_id)
  WHERE status IN ('trialing', 'incomplete', 'active', 'past_due');
CREATE INDEX subscriptions_fan_idx ON subscriptions (fan_id, created_at);
CREATE INDEX subscriptions_creator_idx ON subscriptions (creator_id, created_at);
-- the engine's work list
CREATE INDEX subscriptions_due_idx ON subscriptions (next_attempt_at)
  WHERE next_attempt_at IS NOT NULL;

CREATE TABLE schedules (
  id                uuid PRIMARY KEY,
  fan_id            uuid NOT NULL REFERENCES users (id),
  creator_id        uuid NOT NULL REFERENCES users (id),
  amount            bigint NOT NULL CHECK (amount > 0),
  currency          char(3) NOT NULL,
  interval          text NOT NULL CHECK (interval IN ('week', 'month', 'quarter')),
  count             int CHECK (count BETWEEN 1 AND 120),
  message           text NOT NULL DEFAULT '',
  splits            json,
  status            text NOT NULL CHECK (status IN ('active', 'past_due', 'paused', 'completed',
                                                    'canceled', 'failed')),
  source            text NOT NULL CHECK (source IN ('wallet', 'provider')),
  provider          text,
  phone_number      text,
  api_url           text,
  start_at          timestamptz NOT NULL,
  anchor            timestamptz NOT NULL,
  anchor_period     int NOT NULL DEFAULT 1,
  period            int NOT NULL DEFAULT 0 CHECK (period >= 0),
  paid              boolean NOT NULL DEFAULT true,
  charges_made      int NOT NULL DEFAULT 0 CHECK (charges_made >= 0),
  past_due_since    timestamptz,
  next_attempt_at   timestamptz,
  link_payment_id   uuid,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schedules_not_own CHECK (fan_id <> creator_id),
  CONSTRAINT schedules_within_count CHECK (count IS NULL OR charges_made <= count)
);
CREATE INDEX schedules_fan_idx ON schedules (fan_id, created_at);
CREATE INDEX schedules_creator_idx ON schedules (creator_id, created_at);
CREATE INDEX schedules_due_idx ON schedules (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- The payment that paid each period of an item: at most one.
CREATE TABLE billing_charges (
  item_id    uuid NOT NULL,
  period     int NOT NULL CHECK (period >= 1),
  kind       text NOT NULL CHECK (kind IN ('subscription', 'schedule')),
  payment_id uuid NOT NULL UNIQUE REFERENCES payments (id),
  charged_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (item_id, period)
);

-- A charge is a payment of purpose subscription or schedule, naming its
-- item and period.  A provider payment offered for a period that was paid
-- otherwise in the meantime becomes a top-up of its payer's wallet when
-- it succeeds (the money is the payer's), and keeps naming the item.
ALTER TABLE payments DROP CONSTRAINT IF EXISTS payments_purpose_check;
ALTER TABLE payments
  ADD CONSTRAINT payments_purpose_check
    CHECK (purpose IN ('tip', 'topup', 'subscription', 'schedule')),
  ADD COLUMN subscription_id uuid REFERENCES subscriptions (id),
  ADD COLUMN schedule_id     uuid REFERENCES schedules (id),
  ADD COLUMN period          int CHECK (period >= 1),
  ADD CONSTRAINT payments_billing_item CHECK (CASE purpose
    WHEN 'subscription' THEN subscription_id IS NOT NULL AND schedule_id IS NULL
                             AND period IS NOT NULL
    WHEN 'schedule' THEN schedule_id IS NOT NULL AND subscription_id IS NULL AND period IS NOT NULL
    WHEN 'topup' THEN subscription_id IS NULL OR schedule_id IS NULL
    ELSE subscription_id IS NULL AND schedule_id IS NULL AND period IS NULL END);
CREATE INDEX payments_subscription_idx ON payments (subscription_id, period)
  WHERE subscription_id IS NOT NULL;
CREATE INDEX payments_schedule_idx ON payments (schedule_id, period) WHERE schedule_id IS NOT NULL;
