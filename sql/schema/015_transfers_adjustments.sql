-- 015: transfers between users' main wallets, and admin adjustments of
-- wallets decided by a second admin (maker-checker).

CREATE TABLE transfers (
  id           uuid PRIMARY KEY,
  sender_id    uuid NOT NULL REFERENCES users (id),
  recipient_id uuid NOT NULL REFERENCES users (id),
  amount       bigint NOT NULL CHECK (amount > 0),
  currency     char(3) NOT NULL,
  note         text CHECK (note IS NULL OR char_length(note) <= 280),
  created_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT transfers_not_to_self CHECK (sender_id <> recipient_id)
);
-- the sender's window sum (the transfer limit) and both parties' listings
CREATE INDEX transfers_sender_idx ON transfers (sender_id, currency, created_at);
CREATE INDEX transfers_recipient_idx ON transfers (recipient_id, created_at);

-- An adjustment is created pending by one admin and approved or rejected by
-- another: the CHECK holds even for statements that bypass the API.
CREATE TABLE adjustments (
  id              uuid PRIMARY KEY,
  user_id         uuid NOT NULL REFERENCES users (id),
  amount          bigint NOT NULL CHECK (amount <> 0),
  currency        char(3) NOT NULL,
  reason          text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 1000),
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'approved', 'rejected')),
  created_by      uuid NOT NULL REFERENCES users (id),
  decided_by      uuid REFERENCES users (id),
  decision_reason text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  decided_at      timestamptz,
  CONSTRAINT adjustments_maker_checker CHECK (decided_by <> created_by),
  CONSTRAINT adjustments_decided CHECK ((status = 'pending') = (decided_by IS NULL)
                                        AND (status = 'pending') = (decided_at IS NULL))
);
CREATE INDEX adjustments_status_idx ON adjustments (status, created_at);
