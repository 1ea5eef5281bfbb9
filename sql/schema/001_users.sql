-- 001: users and refresh tokens.
--
-- Schema steps hold tables, indexes, constraints and data changes only; they
-- are applied once, in order, and never edited afterwards.  Functions and
-- triggers live in sql/functions/ (see docs/database.md).

CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  full_name     text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
  role          text NOT NULL CHECK (role IN ('fan', 'creator', 'admin')),
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
-- Emails are unique regardless of case.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- Refresh tokens are stored only as SHA-256 hashes.  A family is the chain of
-- tokens rotated from one login; presenting a rotated token again revokes the
-- whole family (the token was stolen or replayed).
CREATE TABLE refresh_tokens (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id     uuid NOT NULL REFERENCES users (id),
  family_id   uuid NOT NULL,
  token_hash  text NOT NULL UNIQUE,
  expires_at  timestamptz NOT NULL,
  rotated_at  timestamptz,
  revoked_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
