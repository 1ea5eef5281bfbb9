-- 030: operator controls and privacy (docs/accounts.md).
--
-- An account is active, suspended by an operator (it may not log in, pay,
-- be paid or be paid out until reinstated) or deleted by its owner (its
-- personal data replaced, login impossible; its ledger rows stay).  A
-- user's wallets may be frozen by an operator apart from the account's
-- status: no debit of them but refunds and disputes.  Who did what, and
-- why, is in audit_log; the columns hold only the current state.

ALTER TABLE users
  ADD COLUMN status text NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'suspended', 'deleted')),
  ADD COLUMN status_reason text CHECK (length(status_reason) <= 500),
  ADD COLUMN status_changed_at timestamptz,
  ADD COLUMN wallet_frozen_at timestamptz,
  ADD COLUMN wallet_freeze_reason text CHECK (length(wallet_freeze_reason) <= 500);

-- GET /admin/users?status=suspended reads few rows out of many.
CREATE INDEX users_status_idx ON users (status, created_at) WHERE status <> 'active';
CREATE INDEX users_frozen_idx ON users (id) WHERE wallet_frozen_at IS NOT NULL;
