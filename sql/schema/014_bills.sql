-- 014: bill payments.  A user pays a biller (electricity, water, airtime)
-- from their main wallet: the amount and the biller's fee are held in
-- biller_clearing (account and entry kinds from step 013) until the biller
-- settles or refuses the payment.

CREATE TABLE billers (
  id               uuid PRIMARY KEY,
  name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  category         text NOT NULL CHECK (length(category) BETWEEN 1 AND 50),
  base_url         text NOT NULL CHECK (base_url ~ '^https?://'),
  fee              bigint NOT NULL DEFAULT 0 CHECK (fee >= 0),
  currency         char(3) NOT NULL,
  customer_pattern text NOT NULL,    -- POSIX regular expression a customer reference matches
  active           boolean NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billers_active_idx ON billers (name, id) WHERE active;

CREATE TABLE bill_payments (
  id               uuid PRIMARY KEY,
  user_id          uuid NOT NULL REFERENCES users (id),
  biller_id        uuid NOT NULL REFERENCES billers (id),
  customer         text NOT NULL CHECK (length(customer) BETWEEN 1 AND 100),
  amount           bigint NOT NULL CHECK (amount > 0),
  fee              bigint NOT NULL CHECK (fee >= 0),
  currency         char(3) NOT NULL,
  status           text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'succeeded', 'failed')),
  biller_reference text,
  failure_reason   text,
  attempts         integer NOT NULL DEFAULT 0,
  next_check_at    timestamptz,       -- when the watchdog next asks the biller (pending only)
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bill_payments_user_idx ON bill_payments (user_id, created_at DESC, id DESC);
CREATE INDEX bill_payments_due_idx ON bill_payments (next_check_at) WHERE status = 'pending';
