-- 003: creator profiles, follows, and the stored per-creator figures of the
-- public profile (what they mean: sql/functions/40_creators.sql).
--
-- creator_profiles.name was dropped by 010: a creator's name is
-- users.full_name.

CREATE TABLE creator_profiles (
  user_id          uuid PRIMARY KEY REFERENCES users (id),
  name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  bio              text NOT NULL DEFAULT '' CHECK (length(bio) <= 1000),
  avatar_url       text CHECK (length(avatar_url) <= 2048),
  bank_account_enc text,
  account_name     text CHECK (length(account_name) <= 200),
  followers        bigint NOT NULL DEFAULT 0 CHECK (followers >= 0),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE follows (
  fan_id     uuid NOT NULL REFERENCES users (id),
  creator_id uuid NOT NULL REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (fan_id, creator_id),
  CHECK (fan_id <> creator_id)
);
CREATE INDEX follows_creator_idx ON follows (creator_id);

CREATE TABLE creator_stats (
  creator_id uuid NOT NULL REFERENCES users (id),
  currency   char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  earnings   bigint NOT NULL DEFAULT 0 CHECK (earnings >= 0),
  PRIMARY KEY (creator_id, currency)
);
