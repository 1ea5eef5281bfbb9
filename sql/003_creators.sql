-- 003: creator profiles, follows, and the per-creator figures the public
-- profile shows.  creator_stats is maintained in the same transactions
-- that change what it counts (follows here; earnings by the payment and
-- refund functions), so the hot public read is one index lookup instead of
-- a sum over the ledger.

CREATE TABLE creator_profiles (
  user_id          uuid PRIMARY KEY REFERENCES users (id),
  name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  bio              text NOT NULL DEFAULT '' CHECK (length(bio) <= 1000),
  avatar_url       text CHECK (length(avatar_url) <= 2048),
  bank_account_enc text,        -- AES-256-GCM "v1.<key id>.<data>", sealed by the module
  account_name     text CHECK (length(account_name) <= 200),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE follows (
  fan_id     uuid NOT NULL REFERENCES users (id),
  creator_id uuid NOT NULL REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (fan_id, creator_id)
);
CREATE INDEX follows_creator_idx ON follows (creator_id);

CREATE TABLE creator_stats (
  creator_id uuid NOT NULL REFERENCES users (id),
  currency   char(3) NOT NULL,
  earnings   bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (creator_id, currency)
);

ALTER TABLE creator_profiles ADD COLUMN followers bigint NOT NULL DEFAULT 0
  CHECK (followers >= 0);

-- A creator profile exists from registration on.
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
