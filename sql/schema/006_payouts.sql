-- 006: payouts and the append-only audit log (its immutability triggers are
-- declared in sql/functions/70_admin.sql).

CREATE TABLE payouts (
  id                 uuid PRIMARY KEY,
  creator_id         uuid NOT NULL REFERENCES users (id),
  amount             bigint NOT NULL CHECK (amount > 0),
  currency           char(3) NOT NULL,
  status             text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'approved', 'processing', 'completed',
                                       'rejected', 'failed', 'cancelled')),
  bank_account_enc   text NOT NULL,
  account_name       text,
  note               text,
  reason             text,
  provider_reference text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payouts_creator_idx ON payouts (creator_id, created_at DESC);
CREATE INDEX payouts_status_idx ON payouts (status, created_at DESC);

-- Who did what, when: admin actions, refunds, admin logins.
CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  actor_id    uuid,
  action      text NOT NULL,
  target_type text,
  target_id   text,
  note        text,
  request_id  text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
