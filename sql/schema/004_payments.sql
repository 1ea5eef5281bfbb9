-- 004: payments, idempotency keys and webhook deliveries.
--
-- Payment states: pending -> succeeded | failed | expired; succeeded ->
-- refunded; review is entered when money and record disagree (the state
-- machine: tz_api_apply_event() in sql/functions/50_payments.sql).

CREATE TABLE payments (
  id                      uuid PRIMARY KEY,
  fan_id                  uuid NOT NULL REFERENCES users (id),
  creator_id              uuid NOT NULL REFERENCES users (id),
  amount                  bigint NOT NULL CHECK (amount > 0),
  currency                char(3) NOT NULL,
  fee_bps                 int NOT NULL CHECK (fee_bps BETWEEN 0 AND 10000),
  fee                     bigint NOT NULL CHECK (fee >= 0 AND fee <= amount),
  net                     bigint NOT NULL CHECK (net = amount - fee),
  status                  text NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'succeeded', 'failed', 'expired',
                                            'refunded', 'review')),
  provider                text NOT NULL,
  provider_transaction_id text,
  message                 text NOT NULL DEFAULT '' CHECK (length(message) <= 280),
  mobile_money_url        text,
  review_reason           text,
  expires_at              timestamptz NOT NULL,
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_fan_idx ON payments (fan_id, created_at DESC);
CREATE INDEX payments_creator_idx ON payments (creator_id, created_at DESC);
CREATE INDEX payments_pending_idx ON payments (expires_at) WHERE status = 'pending';
CREATE INDEX payments_status_idx ON payments (status, created_at DESC);

-- Idempotency keys are scoped to the caller and kept at least 24 hours.
CREATE TABLE idempotency_keys (
  user_id      uuid NOT NULL REFERENCES users (id),
  key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  fingerprint  text NOT NULL,
  state        text NOT NULL DEFAULT 'in_flight' CHECK (state IN ('in_flight', 'done')),
  status       int,
  response     text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_age_idx ON idempotency_keys (created_at);

-- Every webhook delivery, unique per provider event id: a duplicate
-- delivery, however concurrent, inserts nothing and changes nothing.
CREATE TABLE webhook_events (
  provider     text NOT NULL,
  event_id     text NOT NULL,
  payment_id   uuid,
  kind         text NOT NULL,
  outcome      text NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, event_id)
);
