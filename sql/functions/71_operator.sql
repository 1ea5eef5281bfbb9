-- Operator controls (suspend and reinstate a user, freeze and unfreeze a
-- user's wallets, the users listing) and privacy (a user's export of what
-- is stored about them, the deletion of their account).  What the money
-- movements read is in 26_account_status.sql; docs/accounts.md says why.

-- A user as GET /admin/users and the export show it (no secret): the
-- profile and the operators' state.
CREATE OR REPLACE FUNCTION tz_ops_user_json(u users) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT (tz_user_json(u)::jsonb || jsonb_build_object(
            'status', u.status, 'status_reason', u.status_reason,
            'status_changed_at', tz_ts(u.status_changed_at),
            'wallet_frozen', u.wallet_frozen_at IS NOT NULL,
            'wallet_frozen_at', tz_ts(u.wallet_frozen_at),
            'wallet_freeze_reason', u.wallet_freeze_reason))::json
$$;

-- POST /admin/users/{id}/suspend | reinstate.  {"error": "not_found" |
-- "own_account"}, {"error": "conflict", "status"} (suspending a suspended
-- user, reinstating an active one, either on a deleted one), or the user.
-- A suspension ends every session of the user (its refresh tokens are
-- revoked in this transaction); audited with the reason.
CREATE OR REPLACE FUNCTION tz_api_admin_user_status(p_user uuid, p_action text, p_admin uuid,
                                                    p_reason text, p_request text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  u users;
  from_status text := CASE p_action WHEN 'suspend' THEN 'active' ELSE 'suspended' END;
BEGIN
  SELECT * INTO u FROM users WHERE id = p_user FOR UPDATE;
  IF u.id IS NULL OR p_action NOT IN ('suspend', 'reinstate') THEN
    RETURN json_build_object('error', 'not_found');
  ELSIF p_user = p_admin THEN
    RETURN json_build_object('error', 'own_account');
  ELSIF u.status <> from_status THEN
    RETURN json_build_object('error', 'conflict', 'status', u.status);
  END IF;
  UPDATE users SET status = CASE p_action WHEN 'suspend' THEN 'suspended' ELSE 'active' END,
                   status_reason = p_reason, status_changed_at = now()
   WHERE id = p_user RETURNING * INTO u;
  IF p_action = 'suspend' THEN
    UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = p_user AND revoked_at IS NULL;
  END IF;
  PERFORM tz_api_audit(p_admin, 'user.' || p_action, 'user', p_user::text, p_reason, p_request);
  RETURN tz_ops_user_json(u);
END $$;

-- POST /admin/wallets/{user_id}/freeze | unfreeze: every wallet of the
-- user, in every currency.  The user's wallet accounts are locked first
-- (in id order, as tz_post_entry locks them), so a debit already under
-- way completes before the freeze and none starts after it unnoticed.
-- Errors and answer as tz_api_admin_user_status.
CREATE OR REPLACE FUNCTION tz_api_admin_wallet_freeze(p_user uuid, p_action text, p_admin uuid,
                                                      p_reason text, p_request text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  u users;
BEGIN
  PERFORM 1 FROM accounts WHERE owner_id = p_user AND kind IN ('wallet', 'cashback')
    ORDER BY id FOR UPDATE;
  SELECT * INTO u FROM users WHERE id = p_user FOR UPDATE;
  IF u.id IS NULL OR p_action NOT IN ('freeze', 'unfreeze') THEN
    RETURN json_build_object('error', 'not_found');
  ELSIF p_user = p_admin THEN
    RETURN json_build_object('error', 'own_account');
  ELSIF (u.wallet_frozen_at IS NOT NULL) = (p_action = 'freeze') THEN
    RETURN json_build_object('error', 'conflict', 'status',
                             CASE WHEN u.wallet_frozen_at IS NULL THEN 'unfrozen' ELSE 'frozen' END);
  END IF;
  UPDATE users SET wallet_frozen_at = CASE p_action WHEN 'freeze' THEN now() END,
                   wallet_freeze_reason = CASE p_action WHEN 'freeze' THEN p_reason END
   WHERE id = p_user RETURNING * INTO u;
  PERFORM tz_api_audit(p_admin, 'wallet.' || p_action, 'user', p_user::text, p_reason, p_request);
  RETURN tz_ops_user_json(u);
END $$;

-- GET /admin/users?status=&role=&frozen=&q= (q: an email prefix, any
-- case), newest first; keyset after p_after (any user).
CREATE OR REPLACE FUNCTION tz_api_admin_users(p_status text, p_role text, p_frozen boolean,
                                              p_q text, p_limit int, p_offset bigint,
                                              p_after uuid)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c_at timestamptz := 'infinity'; c_id uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
  v_prefix text := replace(replace(replace(lower(p_q), '\', '\\'), '%', '\%'), '_', '\_') || '%';
BEGIN
  IF p_after IS NOT NULL THEN
    SELECT created_at, id INTO c_at, c_id FROM users WHERE id = p_after;
    IF NOT FOUND THEN RETURN json_build_object('error', 'starting_after'); END IF;
  END IF;
  RETURN (WITH page AS (
    SELECT tz_ops_user_json(u) AS j, row_number() OVER () AS n FROM (
      SELECT * FROM users
       WHERE (p_status IS NULL OR status = p_status) AND (p_role IS NULL OR role = p_role)
         AND (p_frozen IS NULL OR (wallet_frozen_at IS NOT NULL) = p_frozen)
         AND (p_q IS NULL OR lower(email) LIKE v_prefix) AND (created_at, id) < (c_at, c_id)
       ORDER BY created_at DESC, id DESC LIMIT p_limit + 1 OFFSET p_offset) u
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit));
END $$;

-- DELETE /auth/me needs the caller's password hash to check it (NULL for
-- an unknown or deleted account); nothing else reads it by id.
CREATE OR REPLACE FUNCTION tz_api_me_password(p_user uuid) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (SELECT password_hash FROM users WHERE id = p_user AND status <> 'deleted');
END $$;

-- The caller's wallet accounts (main, cashback, receivable) with every
-- posting, oldest first.
CREATE OR REPLACE FUNCTION tz_export_wallets(p_user uuid) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT coalesce(json_agg(json_build_object(
             'kind', a.kind, 'currency', a.currency, 'balance', a.balance,
             'created_at', tz_ts(a.created_at),
             'entries', coalesce((SELECT json_agg(json_build_object(
                           'id', p.uid, 'entry_kind', e.kind, 'reference', e.reference,
                           'amount', p.amount, 'balance_after', p.balance_after,
                           'payment_id', e.payment_id, 'payout_id', e.payout_id,
                           'created_at', tz_ts(e.created_at)) ORDER BY p.id)
                         FROM postings p JOIN journal_entries e ON e.id = p.entry_id
                        WHERE p.account_id = a.id), '[]'::json)) ORDER BY a.id), '[]'::json)
      FROM accounts a WHERE a.owner_id = p_user);
END $$;

-- GET /auth/me/export: everything stored about the caller, without any
-- secret (password hash, token hashes, sealed bank details, webhook
-- signing secrets) and without other users' personal data.
CREATE OR REPLACE FUNCTION tz_api_me_export(p_user uuid) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  u users;
BEGIN
  SELECT * INTO u FROM users WHERE id = p_user;
  IF u.id IS NULL THEN
    RETURN NULL;
  END IF;
  RETURN json_build_object(
    'exported_at', tz_ts(now()),
    'profile', tz_ops_user_json(u),
    'creator_profile', (SELECT json_build_object('bio', c.bio,
                                                 'avatar_url', c.avatar_url,
                                                 'account_name', c.account_name,
                                                 'bank_account_on_file', c.bank_account_enc IS NOT NULL,
                                                 'followers', c.followers,
                                                 'updated_at', tz_ts(c.updated_at))
                          FROM creator_profiles c WHERE c.user_id = p_user),
    'follows', coalesce((SELECT json_agg(json_build_object('creator_id', f.creator_id,
                                                           'created_at', tz_ts(f.created_at))
                                         ORDER BY f.created_at)
                           FROM follows f WHERE f.fan_id = p_user), '[]'::json),
    'payments', coalesce((SELECT json_agg(tz_payment_json(p) ORDER BY p.created_at, p.id)
                            FROM payments p
                           WHERE p.fan_id = p_user OR p.creator_id = p_user
                              OR p.id IN (SELECT payment_id FROM payment_splits
                                           WHERE creator_id = p_user)), '[]'::json),
    'payouts', coalesce((SELECT json_agg((tz_payout_json(o)::jsonb - 'bank_account_enc')
                                         ORDER BY o.created_at)
                           FROM payouts o WHERE o.creator_id = p_user), '[]'::json),
    'subscriptions', coalesce((SELECT json_agg(tz_subscription_json(s) ORDER BY s.created_at)
                                 FROM subscriptions s
                                WHERE s.fan_id = p_user OR s.creator_id = p_user), '[]'::json),
    'schedules', coalesce((SELECT json_agg(tz_schedule_json(c) ORDER BY c.created_at)
                             FROM schedules c
                            WHERE c.fan_id = p_user OR c.creator_id = p_user), '[]'::json),
    'wallets', tz_export_wallets(p_user),
    'transfers', coalesce((SELECT json_agg(tz_transfer_json(t) ORDER BY t.created_at)
                             FROM transfers t
                            WHERE t.sender_id = p_user OR t.recipient_id = p_user), '[]'::json),
    'bill_payments', coalesce((SELECT json_agg(tz_bill_json(b) ORDER BY b.created_at)
                                 FROM bill_payments b WHERE b.user_id = p_user), '[]'::json),
    'invoices', coalesce((SELECT json_agg(tz_invoice_json(i) ORDER BY i.issued_at, i.id)
                            FROM invoices i
                           WHERE tz_invoice_party(i, p_user)), '[]'::json),
    'webhook_endpoints', coalesce((SELECT json_agg(json_build_object(
                                     'id', w.id, 'url', w.url, 'description', w.description,
                                     'events', w.events, 'enabled', w.enabled,
                                     'disabled_reason', w.disabled_reason,
                                     'created_at', tz_ts(w.created_at)) ORDER BY w.created_at)
                                     FROM webhook_endpoints w WHERE w.owner_id = p_user),
                                  '[]'::json),
    'sessions', coalesce((SELECT json_agg(json_build_object(
                            'id', s.family_id, 'created_at', tz_ts(s.created_at),
                            'last_used_at', tz_ts(s.last_at), 'expires_at', tz_ts(s.expires_at),
                            'revoked_at', tz_ts(s.revoked_at), 'ip', s.ip,
                            'user_agent', s.user_agent) ORDER BY s.created_at)
                            FROM (SELECT family_id, min(created_at) AS created_at,
                                         max(created_at) AS last_at, max(expires_at) AS expires_at,
                                         max(revoked_at) AS revoked_at,
                                         (array_agg(ip ORDER BY created_at DESC))[1] AS ip,
                                         (array_agg(user_agent ORDER BY created_at DESC))[1]
                                           AS user_agent
                                    FROM refresh_tokens WHERE user_id = p_user
                                   GROUP BY family_id) s), '[]'::json),
    -- whether two-factor is on and how many recovery codes are left; never
    -- the secret or the codes
    'two_factor', json_build_object(
                    'enabled', u.totp_enabled_at IS NOT NULL,
                    'enabled_at', tz_ts(u.totp_enabled_at),
                    'recovery_codes_left', (SELECT count(*) FROM totp_recovery_codes r
                                             WHERE r.user_id = p_user AND r.used_at IS NULL
                                               AND u.totp_enabled_at IS NOT NULL)),
    -- the guest tips this account claimed by verifying their address
    'claimed_guests', coalesce((SELECT json_agg(json_build_object(
                                  'id', g.id, 'email', g.email, 'name', g.full_name,
                                  'created_at', tz_ts(g.created_at)) ORDER BY g.created_at)
                                  FROM users g WHERE g.claimed_by = p_user), '[]'::json),
    'account_events', coalesce((SELECT json_agg(json_build_object(
                                  'action', a.action, 'note', a.note,
                                  'created_at', tz_ts(a.created_at)) ORDER BY a.id)
                                  FROM audit_log a
                                 WHERE a.target_type = 'user' AND a.target_id = p_user::text),
                               '[]'::json));
END $$;

-- DELETE /auth/me, once the module has checked the caller's password.
-- {"error": "not_found"} (deleted already), {"error": "admin_account"},
-- {"error": "balance_not_zero",
-- "accounts": [{kind, currency, balance}]} (a main wallet not at
-- zero), {"error": "payout_open"}, or {"deleted": true}.
-- The account is anonymised in place: its id stays, so the ledger, the
-- payments and the invoices keep pointing to it.
CREATE OR REPLACE FUNCTION tz_api_me_delete(p_user uuid, p_request text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  u users;
  open_accounts json;
BEGIN
  PERFORM 1 FROM accounts WHERE owner_id = p_user ORDER BY id FOR UPDATE;
  SELECT * INTO u FROM users WHERE id = p_user FOR UPDATE;
  IF u.id IS NULL OR u.status = 'deleted' THEN
    RETURN json_build_object('error', 'not_found');
  ELSIF u.role = 'admin' THEN
    RETURN json_build_object('error', 'admin_account'); -- the platform's, not a person's
  END IF;
  -- the main wallet only: unspent cashback (promotional credit, spendable
  -- on tips only) and what the user owes stay on the anonymised account
  SELECT json_agg(json_build_object('kind', kind, 'currency', currency, 'balance', balance)
                  ORDER BY id)
    INTO open_accounts FROM accounts WHERE owner_id = p_user AND kind = 'wallet' AND balance <> 0;
  IF open_accounts IS NOT NULL THEN
    RETURN json_build_object('error', 'balance_not_zero', 'accounts', open_accounts);
  ELSIF EXISTS (SELECT 1 FROM payouts WHERE creator_id = p_user
                   AND status IN ('pending', 'approved', 'processing')) THEN
    RETURN json_build_object('error', 'payout_open');
  END IF;
  PERFORM tz_me_erase(u);
  PERFORM tz_api_audit(p_user, 'user.delete', 'user', p_user::text, NULL, p_request);
  RETURN json_build_object('deleted', true);
END $$;

-- What deleting an account does, apart from the checks: the personal data
-- replaced, login impossible (no password hash matches '!'), sessions
-- ended, follows removed, subscriptions and schedules (as fan or as
-- creator) canceled now, plans withdrawn, webhook endpoints disabled.
CREATE OR REPLACE FUNCTION tz_me_erase(u users) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE users SET email = 'deleted-' || u.id || '@deleted.invalid',
                   full_name = 'Deleted user', password_hash = '!',
                   status = 'deleted', status_reason = NULL, status_changed_at = now()
   WHERE id = u.id;
  UPDATE creator_profiles SET bio = '', avatar_url = NULL,
                              bank_account_enc = NULL, account_name = NULL, updated_at = now()
   WHERE user_id = u.id;
  UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = u.id AND revoked_at IS NULL;
  UPDATE creator_profiles c SET followers = greatest(c.followers - 1, 0)
   WHERE c.user_id IN (SELECT creator_id FROM follows WHERE fan_id = u.id);
  DELETE FROM follows WHERE fan_id = u.id OR creator_id = u.id;
  UPDATE creator_profiles SET followers = 0 WHERE user_id = u.id;
  UPDATE subscriptions SET status = 'canceled', canceled_at = now(), ended_at = now(),
                           next_attempt_at = NULL, updated_at = now()
   WHERE (fan_id = u.id OR creator_id = u.id)
     AND status IN ('trialing', 'incomplete', 'active', 'past_due');
  UPDATE schedules SET status = 'canceled', next_attempt_at = NULL, updated_at = now()
   WHERE (fan_id = u.id OR creator_id = u.id) AND status IN ('active', 'past_due', 'paused');
  UPDATE plans SET active = false WHERE creator_id = u.id AND active;
  UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'account deleted'
   WHERE owner_id = u.id AND enabled;
END $$;
