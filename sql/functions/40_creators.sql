-- Creator profiles and follows: GET/PUT /creators/me, GET /creators/{id},
-- follow and unfollow.
--
-- A creator's id is its user id, and its name is users.full_name (the one
-- /auth/me shows too).  A profile exists from registration on: the
-- users_creator_profile trigger creates it in the registering transaction.
--
-- The public profile is on the hot read path, so its figures are stored,
-- not computed per request; reading a profile is three primary-key lookups
-- (creator_profiles, users, creator_stats), whatever the size of the ledger:
--
--   followers  creator_profiles.followers: the number of distinct fans in
--              follows; changed by tz_api_follow() in the statement that
--              inserts or deletes the follows row (only when a row was
--              actually inserted or deleted), never below zero.
--   earnings   creator_stats(creator_id, currency).earnings: the net (gross
--              less the platform fee) of every payment credited to the
--              creator in that currency (its share of a split tip's,
--              53_splits.sql), less the net part of every refund and of
--              every open or lost dispute (its part of a split tip's; a won
--              dispute gives it back).  Payouts do not reduce earnings:
--              they spend the wallet, not what was earned.  The functions
--              that post those entries change it in the same transaction,
--              and only when the entry was new (not a duplicate), so it
--              always equals the sum of the creator's wallet and receivable
--              postings of entries of kind 'payment', 'wallet_payment',
--              'refund', 'dispute_hold' and 'dispute_release'.
--              The API shows the default currency's figure.
--
-- bank_account_enc holds the payout bank account sealed by the module with
-- AES-256-GCM ("v1.<key id>.<data>"); the database never sees it in clear.

CREATE OR REPLACE FUNCTION tz_creator_profile_on_register() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.role = 'creator' THEN
    INSERT INTO creator_profiles (user_id) VALUES (NEW.id);
  END IF;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS users_creator_profile ON users;
CREATE TRIGGER users_creator_profile AFTER INSERT ON users
  FOR EACH ROW EXECUTE FUNCTION tz_creator_profile_on_register();

-- The public profile as the final JSON text, in the compact form of every
-- other answer (json_build_object writes "key" : value): the module sends
-- it, and the creator cache keeps it, as it is, without parsing it.  One
-- statement of three primary-key lookups, planned once per session; the
-- profile's text is written only here (the owner's view adds to it).
CREATE OR REPLACE FUNCTION tz_api_creator_public(p_id uuid, p_currency text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (SELECT '{"id":"' || p.user_id || '","name":' || to_json(u.full_name)
                 || ',"bio":' || coalesce(to_json(p.bio)::text, 'null')
                 || ',"avatar":' || coalesce(to_json(p.avatar_url)::text, 'null')
                 || ',"earnings":' || coalesce(s.earnings, 0)
                 || ',"followers":' || p.followers || '}'
            FROM creator_profiles p JOIN users u ON u.id = p.user_id
            LEFT JOIN creator_stats s ON s.creator_id = p.user_id AND s.currency = p_currency
           WHERE p.user_id = p_id);
END $$;

-- The owner's view: the public fields plus the sealed bank account (the
-- module decrypts it) and the account name.
CREATE OR REPLACE FUNCTION tz_api_creator_me(p_id uuid, p_currency text) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (SELECT (tz_api_creator_public(p_id, p_currency)::jsonb
                  || jsonb_build_object('bank_account_enc', p.bank_account_enc,
                                        'account_name', p.account_name))::json
            FROM creator_profiles p WHERE p.user_id = p_id);
END $$;

-- Partial update: NULL keeps a field; an empty avatar_url removes it.  The
-- name is the user's full_name.
CREATE OR REPLACE FUNCTION tz_api_creator_update(p_id uuid, p_name text, p_bio text,
                                                 p_avatar text, p_bank_enc text,
                                                 p_account_name text, p_currency text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF p_name IS NOT NULL THEN
    UPDATE users SET full_name = p_name WHERE id = p_id AND role = 'creator';
  END IF;
  UPDATE creator_profiles SET
    bio = coalesce(p_bio, bio),
    avatar_url = CASE WHEN p_avatar IS NULL THEN avatar_url
                      WHEN p_avatar = '' THEN NULL ELSE p_avatar END,
    bank_account_enc = coalesce(p_bank_enc, bank_account_enc),
    account_name = coalesce(p_account_name, account_name),
    updated_at = now()
   WHERE user_id = p_id;
  RETURN tz_api_creator_me(p_id, p_currency);
END $$;

-- Follow (p_on) or unfollow; idempotent; followers counts distinct fans.
CREATE OR REPLACE FUNCTION tz_api_follow(p_fan uuid, p_creator uuid, p_on boolean) RETURNS json
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  changed int;
  n bigint;
BEGIN
  PERFORM 1 FROM creator_profiles WHERE user_id = p_creator;
  IF NOT FOUND THEN
    RETURN json_build_object('error', 'not_found');
  END IF;
  IF p_on THEN
    INSERT INTO follows (fan_id, creator_id) VALUES (p_fan, p_creator) ON CONFLICT DO NOTHING;
  ELSE
    DELETE FROM follows WHERE fan_id = p_fan AND creator_id = p_creator;
  END IF;
  GET DIAGNOSTICS changed = ROW_COUNT;
  UPDATE creator_profiles
     SET followers = followers + CASE WHEN changed = 0 THEN 0 WHEN p_on THEN 1 ELSE -1 END
   WHERE user_id = p_creator RETURNING followers INTO n;
  RETURN json_build_object('creator_id', p_creator, 'following', p_on, 'followers', n);
END $$;
