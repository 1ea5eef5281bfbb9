-- 029: two-factor authentication (TOTP) and sessions (docs/accounts.md).
--
-- A user's TOTP secret is sealed with TipzedEncryptionKeyFile's current key
-- (AES-256-GCM, bound to "totp:<user id>"): the server must compute codes,
-- so it cannot be a hash.  It is written at setup and counts only once
-- totp_enabled_at is set (a code proved the app holds it).  totp_last_step
-- is the last TOTP step accepted: a code of that step or an earlier one is
-- refused (replay).  Recovery codes, login challenges (mfa_tokens) and
-- refresh tokens are stored as SHA-256 hashes only.

ALTER TABLE users ADD COLUMN IF NOT EXISTS totp_secret_enc text;
ALTER TABLE users ADD COLUMN IF NOT EXISTS totp_enabled_at timestamptz;
ALTER TABLE users ADD COLUMN IF NOT EXISTS totp_last_step bigint;
ALTER TABLE users ADD CONSTRAINT users_totp_enabled_has_secret
  CHECK (totp_enabled_at IS NULL OR totp_secret_enc IS NOT NULL);

CREATE TABLE totp_recovery_codes (
  user_id    uuid NOT NULL REFERENCES users (id),
  code_hash  text NOT NULL,
  used_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, code_hash)
);

-- The second step of a login: issued once the password was right, good for
-- one successful code within its lifetime, burnt after five wrong ones.
CREATE TABLE mfa_tokens (
  token_hash text PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users (id),
  expires_at timestamptz NOT NULL,
  attempts   int NOT NULL DEFAULT 0,
  used_at    timestamptz,
  ip         text,
  user_agent text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mfa_tokens_expires_idx ON mfa_tokens (expires_at);

-- Sessions are refresh-token families: where each token was issued from.
ALTER TABLE refresh_tokens ADD COLUMN IF NOT EXISTS ip text;
ALTER TABLE refresh_tokens ADD COLUMN IF NOT EXISTS user_agent text;

-- New signatures: the client's address and user agent, and the family's id
-- chosen by the caller (it is the session's id in access tokens).
DROP FUNCTION IF EXISTS tz_api_refresh_issue(uuid, text, bigint);
DROP FUNCTION IF EXISTS tz_api_refresh_rotate(text, text, bigint);
