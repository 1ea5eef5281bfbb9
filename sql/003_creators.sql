-- 003: creator profiles, follows, and the per-creator figures of the public
-- profile (GET /creators/{id}: id, name, bio, avatar, earnings, followers).
--
-- A creator's id is its user id.  A profile exists from registration on:
-- the users_creator_profile trigger creates it, named after users.full_name,
-- in the registering transaction.
--
-- The public profile is on the hot read path, so its figures are stored,
-- not computed per request; reading a profile is two primary-key lookups
-- (creator_profiles, creator_stats), whatever the size of the ledger:
--
--   followers  creator_profiles.followers: the number of distinct fans in
--              follows; changed by the follow/unfollow function in the
--              statement that inserts or deletes the follows row (only when
--              a row was actually inserted or deleted), never below zero.
--   earnings   creator_stats(creator_id, currency).earnings: the net (gross
--              less the platform fee) of every succeeded payment credited to
--              the creator's wallet in that currency, less the net of those
--              later refunded (a refund reverses its credit).  Payouts do
--              not reduce earnings: they spend the wallet, not what was
--              earned.  The payment-credit and refund functions change it in
--              the transaction that posts the ledger entry, and only when
--              the entry was new (not a duplicate), so it always equals the
--              sum of the wallet's postings of entries of kind 'payment' and
--              'refund'.  The API shows the default currency's figure.
--
-- bank_account_enc holds the payout bank account sealed by the module with
-- AES-256-GCM ("v1.<key id>.<data>"); the database never sees it in clear.

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

CREATE FUNCTION tz_creator_profile_on_register() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.role = 'creator' THEN
    INSERT INTO creator_profiles (user_id, name) VALUES (NEW.id, NEW.full_name);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER users_creator_profile AFTER INSERT ON users
  FOR EACH ROW EXECUTE FUNCTION tz_creator_profile_on_register();
