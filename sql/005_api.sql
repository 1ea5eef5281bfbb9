-- 005: the JSON read/write functions behind /creators and /wallets.  Each
-- endpoint is one call; the module only adds what SQL cannot know
-- (decrypting the bank account for its owner).

CREATE FUNCTION tz_creator_public_json(p creator_profiles, p_currency text) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', p.user_id, 'name', p.name, 'bio', p.bio, 'avatar', p.avatar_url,
    'earnings', coalesce((SELECT earnings FROM creator_stats
                           WHERE creator_id = p.user_id AND currency = p_currency), 0),
    'followers', p.followers)
$$;

CREATE FUNCTION tz_api_creator_public(p_id uuid, p_currency text) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT tz_creator_public_json(p, p_currency) FROM creator_profiles p WHERE p.user_id = p_id
$$;

-- The owner's view: the public fields plus the sealed bank account (the
-- module decrypts it) and the account name.
CREATE FUNCTION tz_api_creator_me(p_id uuid, p_currency text) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT (tz_creator_public_json(p, p_currency)::jsonb
          || jsonb_build_object('bank_account_enc', p.bank_account_enc,
                                'account_name', p.account_name))::json
    FROM creator_profiles p WHERE p.user_id = p_id
$$;

-- Partial update: NULL keeps a field; an empty avatar_url removes it.
CREATE FUNCTION tz_api_creator_update(p_id uuid, p_name text, p_bio text, p_avatar text,
                                      p_bank_enc text, p_account_name text, p_currency text)
RETURNS json LANGUAGE sql AS $$
  UPDATE creator_profiles SET
    name = coalesce(p_name, name),
    bio = coalesce(p_bio, bio),
    avatar_url = CASE WHEN p_avatar IS NULL THEN avatar_url
                      WHEN p_avatar = '' THEN NULL ELSE p_avatar END,
    bank_account_enc = coalesce(p_bank_enc, bank_account_enc),
    account_name = coalesce(p_account_name, account_name),
    updated_at = now()
   WHERE user_id = p_id;
  SELECT tz_api_creator_me(p_id, p_currency);
$$;

-- Follow (p_on) or unfollow; idempotent; followers counts distinct fans.
CREATE FUNCTION tz_api_follow(p_fan uuid, p_creator uuid, p_on boolean) RETURNS json
LANGUAGE plpgsql AS $$
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

-- What a posting on a wallet means to its owner.
CREATE FUNCTION tz_wallet_line(p postings, e journal_entries) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
  pay payments;
  st text;
BEGIN
  IF e.payment_id IS NOT NULL THEN
    SELECT * INTO pay FROM payments WHERE id = e.payment_id;
    st := pay.status;
  END IF;
  IF e.payout_id IS NOT NULL THEN
    st := tz_payout_status(e.payout_id);
  END IF;
  RETURN json_build_object(
    'id', p.uid, 'amount', p.amount,
    'type', CASE e.kind WHEN 'payment' THEN 'payment' WHEN 'refund' THEN 'refund'
                        WHEN 'payout_hold' THEN 'payout' WHEN 'payout_release' THEN 'payout_reversal'
                        ELSE e.kind END,
    'status', st, 'payment_id', e.payment_id, 'payout_id', e.payout_id,
    'gross', pay.amount, 'fee', pay.fee, 'balance_after', p.balance_after,
    'created_at', tz_ts(p.created_at));
END $$;

-- Payouts arrive with a later migration, which replaces this.
CREATE FUNCTION tz_payout_status(p_id uuid) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT NULL::text $$;

CREATE FUNCTION tz_pending_payouts(p_user uuid, p_currency text) RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT 0::bigint $$;

-- The page is chosen on the (account_id, id DESC) index first; only its
-- rows are turned into JSON, so deep offsets stay cheap.
CREATE FUNCTION tz_wallet_lines(p_user uuid, p_currency text, p_limit int, p_offset bigint)
RETURNS SETOF json LANGUAGE sql STABLE AS $$
  SELECT tz_wallet_line(p, e)
    FROM (SELECT p.id FROM postings p
           WHERE p.account_id = (SELECT id FROM accounts WHERE kind = 'wallet'
                                  AND owner_id = p_user AND currency = p_currency)
           ORDER BY p.id DESC LIMIT p_limit OFFSET p_offset) page
    JOIN postings p ON p.id = page.id
    JOIN journal_entries e ON e.id = p.entry_id
   ORDER BY p.id DESC
$$;

CREATE FUNCTION tz_api_wallet(p_user uuid, p_currency text) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'balance', coalesce((SELECT balance FROM accounts WHERE kind = 'wallet'
                          AND owner_id = p_user AND currency = p_currency), 0),
    'currency', p_currency,
    'pending_payouts', tz_pending_payouts(p_user, p_currency),
    'transactions', coalesce((SELECT json_agg(l) FROM tz_wallet_lines(p_user, p_currency, 20, 0) l),
                             '[]'::json))
$$;

CREATE FUNCTION tz_api_wallet_transactions(p_user uuid, p_currency text, p_limit int,
                                           p_offset bigint)
RETURNS json LANGUAGE sql STABLE AS $$
  WITH page AS (
    SELECT l FROM tz_wallet_lines(p_user, p_currency, p_limit + 1, p_offset) l
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(l) FROM (SELECT l FROM page LIMIT p_limit) x), '[]'::json),
    'limit', p_limit, 'offset', p_offset,
    'has_more', (SELECT count(*) FROM page) > p_limit)
$$;
