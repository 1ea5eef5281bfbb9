-- 017: referral codes and who referred whom.
--
-- Every user has a referral_code: 8 characters of an alphabet without the
-- look-alikes 0/O and 1/I, drawn by the column's default (so every insert,
-- the API's, tipzedctl's or a bulk load's, gets one), unique.  A user
-- registered with another's code stores that user in referred_by (never
-- themselves: CHECK users_not_self_referred); referral_rewarded_at is set
-- by the referred user's first successful payment, once (the referral is
-- then settled, with or without a bonus).

ALTER TABLE users
  ADD COLUMN referral_code text
    DEFAULT (substr('ABCDEFGHJKLMNPQRSTUVWXYZ23456789', 1 + floor(random() * 32)::int, 1)
          || substr('ABCDEFGHJKLMNPQRSTUVWXYZ23456789', 1 + floor(random() * 32)::int, 1)
          || substr('ABCDEFGHJKLMNPQRSTUVWXYZ23456789', 1 + floor(random() * 32)::int, 1)
          || substr('ABCDEFGHJKLMNPQRSTUVWXYZ23456789', 1 + floor(random() * 32)::int, 1)
          || substr('ABCDEFGHJKLMNPQRSTUVWXYZ23456789', 1 + floor(random() * 32)::int, 1)
          || substr('ABCDEFGHJKLMNPQRSTUVWXYZ23456789', 1 + floor(random() * 32)::int, 1)
          || substr('ABCDEFGHJKLMNPQRSTUVWXYZ23456789', 1 + floor(random() * 32)::int, 1)
          || substr('ABCDEFGHJKLMNPQRSTUVWXYZ23456789', 1 + floor(random() * 32)::int, 1)),
  ADD COLUMN referred_by uuid REFERENCES users (id),
  ADD COLUMN referral_rewarded_at timestamptz;

-- Backfill: the volatile default gave every existing user a code of its
-- own draw; the (unlikely) duplicates draw again until none is left.
DO $$
BEGIN
  LOOP
    UPDATE users SET referral_code = DEFAULT
     WHERE id IN (SELECT id FROM (
             SELECT id, row_number() OVER (PARTITION BY referral_code ORDER BY created_at, id) AS n
               FROM users) d
            WHERE n > 1);
    EXIT WHEN NOT FOUND;
  END LOOP;
END $$;

CREATE UNIQUE INDEX users_referral_code_key ON users (referral_code);
ALTER TABLE users ALTER COLUMN referral_code SET NOT NULL;
ALTER TABLE users
  ADD CONSTRAINT users_referral_code_check CHECK (referral_code ~ '^[A-HJ-NP-Z2-9]{8}$'),
  ADD CONSTRAINT users_not_self_referred CHECK (referred_by <> id),
  ADD CONSTRAINT users_referral_rewarded_check
    CHECK (referral_rewarded_at IS NULL OR referred_by IS NOT NULL);
-- who a user referred
CREATE INDEX users_referred_by_idx ON users (referred_by) WHERE referred_by IS NOT NULL;

-- registration takes the referral code: the old signature goes
DROP FUNCTION IF EXISTS tz_api_register(text, text, text, text);
