-- 028: accounts by email (docs/accounts.md): verified addresses, single-use
-- tokens for verification and password reset, mail that belongs to no
-- event, and guests (payers without an account).

-- When the address was proven to be the user's (a verification or a
-- password reset completed through it); NULL: not proven.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

-- A guest is a user row that only pays: role 'guest', no usable password
-- ('!' is no password hash, so no login can ever match it).  An address
-- may have one account and, beside it, one guest row; once the account's
-- owner verifies the address, the guest's history becomes the account's
-- and the guest row records by whom it was claimed.
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
  CHECK (role IN ('fan', 'creator', 'admin', 'guest'));
ALTER TABLE users ADD COLUMN claimed_by uuid REFERENCES users (id);
ALTER TABLE users ADD CONSTRAINT users_claimed_guest CHECK (claimed_by IS NULL OR role = 'guest');
DROP INDEX users_email_lower_key;
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email)) WHERE role <> 'guest';
CREATE UNIQUE INDEX users_guest_email_key ON users (lower(email)) WHERE role = 'guest';

-- Tokens mailed to a user: stored only as the SHA-256 of the token, used
-- once, expiring at expires_at (on the sandbox clock when the sandbox is
-- on).  email is the address the token was sent to: a verification proves
-- that address only.
CREATE TABLE account_tokens (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id     uuid NOT NULL REFERENCES users (id),
  purpose     text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
  email       text NOT NULL,
  token_hash  text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_tokens_user_idx ON account_tokens (user_id, purpose, created_at);

-- Mail of no event (a verification or reset link): its own data, and the
-- token sealed (AES-256-GCM under TipzedEncryptionKeyFile, bound to the
-- mail's id) until the mail is sent or given up, then erased.
ALTER TABLE mail_outbox ALTER COLUMN event_id DROP NOT NULL;
ALTER TABLE mail_outbox ADD COLUMN data jsonb;
ALTER TABLE mail_outbox ADD COLUMN secret_enc text;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_event_or_data
  CHECK (event_id IS NOT NULL OR data IS NOT NULL);
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_secret_pending
  CHECK (secret_enc IS NULL OR status = 'pending');
