-- 005: payments, idempotency keys, webhook deliveries, and the one
-- function that applies a provider event (state machine + ledger entry in
-- one transaction).
--
-- Payment states: pending -> succeeded | failed | expired; succeeded ->
-- refunded; review is entered when money and record disagree.  Terminal
-- states never go back, except that a verified success for an expired
-- payment still credits (the money was taken).

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

CREATE FUNCTION tz_payment_json(p payments) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', p.id, 'fan_id', p.fan_id, 'creator_id', p.creator_id, 'amount', p.amount,
    'currency', p.currency, 'fee', p.fee, 'net', p.net, 'status', p.status,
    'provider', p.provider, 'provider_transaction_id', p.provider_transaction_id,
    'message', p.message, 'mobile_money_url', p.mobile_money_url,
    'created_at', tz_ts(p.created_at), 'updated_at', tz_ts(p.updated_at))
$$;

-- Claims an idempotency key.  {"state": "new"} when this request owns it;
-- "replay" with the stored status and response; "mismatch" when the key was
-- used for a different request; "in_flight" while the first is running.
-- A key left in flight for over 5 minutes (its request died) is taken over.
CREATE FUNCTION tz_idem_begin(p_user uuid, p_key text, p_fingerprint text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
  k idempotency_keys;
BEGIN
  DELETE FROM idempotency_keys
   WHERE user_id = p_user AND key = p_key AND created_at < now() - interval '24 hours';
  INSERT INTO idempotency_keys (user_id, key, fingerprint)
  VALUES (p_user, p_key, p_fingerprint)
  ON CONFLICT DO NOTHING RETURNING * INTO k;
  IF k.user_id IS NOT NULL THEN
    RETURN json_build_object('state', 'new');
  END IF;
  SELECT * INTO k FROM idempotency_keys WHERE user_id = p_user AND key = p_key FOR UPDATE;
  IF k.fingerprint <> p_fingerprint THEN
    RETURN json_build_object('state', 'mismatch');
  ELSIF k.state = 'done' THEN
    RETURN json_build_object('state', 'replay', 'status', k.status, 'response', k.response);
  ELSIF k.created_at < now() - interval '5 minutes' THEN
    UPDATE idempotency_keys SET created_at = now() WHERE user_id = p_user AND key = p_key;
    RETURN json_build_object('state', 'new');
  END IF;
  RETURN json_build_object('state', 'in_flight');
END $$;

CREATE FUNCTION tz_idem_finish(p_user uuid, p_key text, p_status int, p_response text)
RETURNS void LANGUAGE sql AS $$
  UPDATE idempotency_keys SET state = 'done', status = p_status, response = p_response
   WHERE user_id = p_user AND key = p_key
$$;

-- Releases a key whose request failed for a retryable reason (5xx).
CREATE FUNCTION tz_idem_abort(p_user uuid, p_key text) RETURNS void
LANGUAGE sql AS $$
  DELETE FROM idempotency_keys WHERE user_id = p_user AND key = p_key AND state = 'in_flight'
$$;
