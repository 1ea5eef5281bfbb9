-- 002: the double-entry ledger's tables.  The rules they obey, and which
-- object enforces each, are listed at the top of sql/functions/30_ledger.sql;
-- the append-only and balanced-entry triggers are declared there too.
--
-- Amounts are signed integers of the currency's minor unit (bigint), never
-- floating point.

CREATE TABLE accounts (
  id         bigserial PRIMARY KEY,
  kind       text NOT NULL CHECK (kind IN ('wallet', 'platform_fees', 'provider_clearing',
                                           'payout_hold', 'payouts_settled')),
  owner_id   uuid REFERENCES users (id),   -- wallets only: the user
  provider   text,                         -- provider_clearing only: the provider
  currency   char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  balance    bigint NOT NULL DEFAULT 0,    -- cache of sum(postings.amount)
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'wallet') = (owner_id IS NOT NULL)),
  CHECK ((kind = 'provider_clearing') = (provider IS NOT NULL)),
  CONSTRAINT wallet_not_negative CHECK (kind <> 'wallet' OR balance >= 0),
  UNIQUE (id, currency)                    -- target of the postings' currency key
);
-- One account per (kind, owner or provider, currency): a wallet per user
-- and currency, a system account per kind, provider and currency.  The
-- wallet key is on plain columns so that every wallet read by owner is an
-- index lookup.
CREATE UNIQUE INDEX accounts_wallet_key ON accounts (owner_id, currency) WHERE kind = 'wallet';
CREATE UNIQUE INDEX accounts_system_key
  ON accounts (kind, coalesce(provider, ''), currency) WHERE kind <> 'wallet';

CREATE TABLE journal_entries (
  id         bigserial PRIMARY KEY,
  reference  text NOT NULL UNIQUE CHECK (length(reference) BETWEEN 1 AND 200),
  kind       text NOT NULL CHECK (kind IN ('payment', 'refund', 'payout_hold', 'payout_settle',
                                           'payout_release', 'adjustment')),
  payment_id uuid,
  payout_id  uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX journal_entries_payment_idx ON journal_entries (payment_id) WHERE payment_id IS NOT NULL;
CREATE INDEX journal_entries_payout_idx ON journal_entries (payout_id) WHERE payout_id IS NOT NULL;

CREATE TABLE postings (
  id            bigserial PRIMARY KEY,
  uid           uuid NOT NULL DEFAULT gen_random_uuid(),  -- the id the API shows
  entry_id      bigint NOT NULL REFERENCES journal_entries (id),
  account_id    bigint NOT NULL,
  amount        bigint NOT NULL CHECK (amount <> 0),
  currency      char(3) NOT NULL,
  balance_after bigint NOT NULL,     -- the account's balance right after this posting
  created_at    timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (account_id, currency) REFERENCES accounts (id, currency)
);
-- Both indexes cover what the commit-time check and reconciliation read, so
-- those run as index-only scans streamed in order (no sort, no hash of a
-- million rows).  The wallet history reads postings_account_idx backwards
-- (newest first).
CREATE INDEX postings_entry_idx ON postings (entry_id) INCLUDE (currency, amount);
CREATE INDEX postings_account_idx ON postings (account_id, id) INCLUDE (amount, balance_after);
