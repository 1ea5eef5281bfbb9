-- 023: the transactional outbox, webhook endpoints and their deliveries,
-- and mail (docs/webhooks.md).
--
-- An event is inserted by the transaction that makes the change it
-- announces (triggers and tz_post_entry, sql/functions/75_outbox.sql), so
-- it exists if and only if that change committed.  The dispatcher of each
-- node (mod_tipzed_outbox.c) then fans events out, once, into deliveries
-- (one per subscribed endpoint) and mails, and sends those; every claim is
-- made with FOR UPDATE SKIP LOCKED and a lease, so nodes sharing the
-- database never send one attempt twice.

CREATE TABLE outbox_events (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seq        bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  type       text NOT NULL,
  -- the users the event concerns: its creators, its fan, the wallet's owner
  user_ids   uuid[] NOT NULL,
  data       json NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- true until the dispatcher has made its deliveries and mail
  pending    boolean NOT NULL DEFAULT true
);
CREATE INDEX outbox_events_pending_idx ON outbox_events (seq) WHERE pending;
CREATE INDEX outbox_events_type_idx ON outbox_events (type, created_at);

-- An endpoint of a creator receives the events that concern the creator;
-- an admin's, every event.  events: the types it takes ("*" and "kind.*"
-- patterns allowed).  The signing secret is sealed with TipzedEncryptionKey
-- (bound to the endpoint's id), as bank details are.
CREATE TABLE webhook_endpoints (
  id              uuid PRIMARY KEY,
  owner_id        uuid NOT NULL REFERENCES users (id),
  owner_role      text NOT NULL CHECK (owner_role IN ('creator', 'admin')),
  url             text NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2048),
  description     text NOT NULL DEFAULT '' CHECK (char_length(description) <= 200),
  events          text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 50),
  secret_enc      text NOT NULL,
  enabled         boolean NOT NULL DEFAULT true,
  disabled_reason text,
  -- the first failure of the current run of failures (NULL: the last
  -- attempt succeeded); three days of failures disable the endpoint
  failing_since   timestamptz,
  -- the node delivering to it now, until lease_until
  lease_token     text,
  lease_until     timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_owner_idx ON webhook_endpoints (owner_id, created_at);

-- One delivery per endpoint and event; its attempts are logged apart.
--   status   pending (to be sent at next_at), succeeded, failed (gave up
--            after TipzedWebhookRetry's count of attempts)
CREATE TABLE webhook_deliveries (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  endpoint_id  uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id     uuid NOT NULL REFERENCES outbox_events (id),
  event_seq    bigint NOT NULL,
  status       text NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts     int NOT NULL DEFAULT 0,
  next_at      timestamptz NOT NULL DEFAULT now(),
  last_status  int,
  last_error   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (endpoint_id, event_seq)
  WHERE status = 'pending';
CREATE INDEX webhook_deliveries_next_idx ON webhook_deliveries (next_at)
  WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (endpoint_id, created_at DESC);

CREATE TABLE webhook_attempts (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempt     int NOT NULL,
  at          timestamptz NOT NULL DEFAULT now(),
  status_code int,
  latency_ms  int,
  error       text,
  resend      boolean NOT NULL DEFAULT false
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);

-- A mail made from an event (TipzedSMTP), sent and retried like a delivery.
CREATE TABLE mail_outbox (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id    uuid NOT NULL REFERENCES outbox_events (id),
  user_id     uuid NOT NULL REFERENCES users (id),
  template    text NOT NULL,
  status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts    int NOT NULL DEFAULT 0,
  next_at     timestamptz NOT NULL DEFAULT now(),
  lease_token text,
  lease_until timestamptz,
  last_error  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz,
  UNIQUE (event_id, user_id, template)
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_at) WHERE status = 'pending';
