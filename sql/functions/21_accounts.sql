-- Accounts by email (docs/accounts.md): verification and password-reset
-- tokens, their mail, and guests (payers without an account) and the claim
-- of a guest's history by the verified owner of its address.

-- Payouts and webhook endpoints need an address proven to be the user's.
-- Admins are made by an operator (tipzedctl), who vouches for them.
CREATE OR REPLACE FUNCTION tz_email_verified(p_user uuid) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN coalesce((SELECT role = 'admin' OR email_verified_at IS NOT NULL
                     FROM users WHERE id = p_user), false);
END $$;

-- A mail's sealed token is erased once the mail leaves the queue (sent,
-- failed or expired): from then on only the token's hash is stored.
CREATE OR REPLACE FUNCTION tz_mail_forget_secret() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status <> 'pending' THEN
    NEW.secret_enc := NULL;
  END IF;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS mail_outbox_forget_secret ON mail_outbox;
CREATE TRIGGER mail_outbox_forget_secret BEFORE UPDATE ON mail_outbox
  FOR EACH ROW WHEN (NEW.secret_enc IS NOT NULL) EXECUTE FUNCTION tz_mail_forget_secret();

-- Stores a token's hash for u and queues its mail (p_mail_id, the token
-- sealed to that id as p_secret_enc).  The link's page is the purpose's.
CREATE OR REPLACE FUNCTION tz_account_token_issue(u users, p_purpose text, p_hash text,
                                                  p_mail_id uuid, p_secret_enc text,
                                                  p_ttl bigint, p_sandbox boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  expires timestamptz := tz_clock(p_sandbox) + make_interval(secs => p_ttl);
BEGIN
  INSERT INTO account_tokens (user_id, purpose, email, token_hash, expires_at)
  VALUES (u.id, p_purpose, u.email, p_hash, expires);
  INSERT INTO mail_outbox (id, event_id, user_id, template, data, secret_enc)
  VALUES (p_mail_id, NULL, u.id,
          CASE p_purpose WHEN 'verify_email' THEN 'email_verification' ELSE 'password_reset' END,
          jsonb_build_object('link_path', CASE p_purpose WHEN 'verify_email' THEN 'verify-email'
                                                          ELSE 'reset-password' END,
                             'expires_at', tz_ts(expires)),
          p_secret_enc);
END $$;

-- The verification mail for p_user: {"status": "sent"}, or {"error":
-- "already_verified"} / {"error": "not_found"}.
CREATE OR REPLACE FUNCTION tz_api_email_verify_send(p_user uuid, p_hash text, p_mail_id uuid,
                                                    p_secret_enc text, p_ttl bigint,
                                                    p_sandbox boolean)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  u users;
BEGIN
  SELECT * INTO u FROM users WHERE id = p_user AND role <> 'guest';
  IF u.id IS NULL THEN
    RETURN json_build_object('error', 'not_found');
  ELSIF u.email_verified_at IS NOT NULL THEN
    RETURN json_build_object('error', 'already_verified');
  END IF;
  PERFORM tz_account_token_issue(u, 'verify_email', p_hash, p_mail_id, p_secret_enc, p_ttl,
                                 p_sandbox);
  RETURN json_build_object('status', 'sent');
END $$;

-- A reset mail for the account of p_email, if there is one, and if it was
-- sent fewer than 5 in the last hour: the answer is the same in every case
-- ({}), so it tells nobody whether the address has an account.
CREATE OR REPLACE FUNCTION tz_api_password_forgot(p_email text, p_hash text, p_mail_id uuid,
                                                  p_secret_enc text, p_ttl bigint,
                                                  p_sandbox boolean)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  u users;
BEGIN
  SELECT * INTO u FROM users WHERE lower(email) = lower(p_email) AND role <> 'guest' FOR UPDATE;
  IF u.id IS NOT NULL
     AND (SELECT count(*) FROM account_tokens
           WHERE user_id = u.id AND purpose = 'reset_password'
             AND created_at > now() - interval '1 hour') < 5 THEN
    PERFORM tz_account_token_issue(u, 'reset_password', p_hash, p_mail_id, p_secret_enc,
                                   p_ttl, p_sandbox);
  END IF;
  RETURN '{}'::json;
END $$;

-- Uses a token of p_purpose once: the token row, locked and marked used,
-- or NULL when it is unknown, used or expired.
CREATE OR REPLACE FUNCTION tz_account_token_use(p_hash text, p_purpose text, p_sandbox boolean)
RETURNS account_tokens LANGUAGE plpgsql AS $$
DECLARE
  t account_tokens;
BEGIN
  SELECT * INTO t FROM account_tokens
   WHERE token_hash = p_hash AND purpose = p_purpose FOR UPDATE;
  IF t.id IS NULL OR t.used_at IS NOT NULL OR t.expires_at <= tz_clock(p_sandbox) THEN
    RETURN NULL;
  END IF;
  UPDATE account_tokens SET used_at = now() WHERE id = t.id RETURNING * INTO t;
  RETURN t;
END $$;

-- Marks u's address verified (when it is still the one the token was sent
-- to) and claims the guest history of that address.
CREATE OR REPLACE FUNCTION tz_email_proven(p_user uuid, p_email text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE users SET email_verified_at = coalesce(email_verified_at, now())
   WHERE id = p_user AND lower(email) = lower(p_email);
  IF FOUND THEN
    PERFORM tz_guest_claim(p_user);
  END IF;
END $$;

-- POST /auth/email/verify: {"user": {...}} or {"error": "invalid_token"}.
CREATE OR REPLACE FUNCTION tz_api_email_verify(p_hash text, p_sandbox boolean)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t account_tokens := tz_account_token_use(p_hash, 'verify_email', p_sandbox);
BEGIN
  IF t.id IS NULL THEN
    RETURN json_build_object('error', 'invalid_token');
  END IF;
  PERFORM tz_email_proven(t.user_id, t.email);
  RETURN json_build_object('user', (SELECT tz_user_json(u) FROM users u WHERE u.id = t.user_id));
END $$;

-- POST /auth/password/reset: the new password hash; every session of the
-- account (every refresh-token family) ends, and so do the account's other
-- reset tokens.  The reset went through the mailbox, so it also proves
-- the address.  {"user_id": ...} or {"error": "invalid_token"}.
CREATE OR REPLACE FUNCTION tz_api_password_reset(p_hash text, p_password_hash text,
                                                 p_sandbox boolean)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t account_tokens := tz_account_token_use(p_hash, 'reset_password', p_sandbox);
BEGIN
  IF t.id IS NULL THEN
    RETURN json_build_object('error', 'invalid_token');
  END IF;
  UPDATE users SET password_hash = p_password_hash WHERE id = t.user_id;
  UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = t.user_id AND revoked_at IS NULL;
  UPDATE account_tokens SET used_at = now()
   WHERE user_id = t.user_id AND purpose = 'reset_password' AND used_at IS NULL;
  PERFORM tz_email_proven(t.user_id, t.email);
  RETURN json_build_object('user_id', t.user_id);
END $$;

-- ---- guests ----------------------------------------------------------------

-- The payer of a guest tip from p_email: the guest row of that address
-- (made on its first tip; a name given renames it), or, once the verified
-- owner of the address claimed it, that account.  {"id": ...}.
CREATE OR REPLACE FUNCTION tz_api_guest_fan(p_email text, p_name text) RETURNS json
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  g users;
  owner users;
BEGIN
  INSERT INTO users (email, full_name, role, password_hash)
  VALUES (p_email, coalesce(p_name, 'Guest'), 'guest', '!')
  ON CONFLICT ((lower(email))) WHERE role = 'guest' DO NOTHING
  RETURNING * INTO g;
  IF g.id IS NULL THEN
    UPDATE users SET full_name = coalesce(p_name, full_name)
     WHERE lower(email) = lower(p_email) AND role = 'guest'
    RETURNING * INTO g;
  END IF;
  IF g.claimed_by IS NULL THEN
    -- an address verified before its first guest tip: claimed at once
    SELECT * INTO owner FROM users
     WHERE lower(email) = lower(p_email) AND role <> 'guest' AND email_verified_at IS NOT NULL;
    IF owner.id IS NOT NULL THEN
      PERFORM tz_guest_claim(owner.id);
      RETURN json_build_object('id', owner.id);
    END IF;
  END IF;
  RETURN json_build_object('id', coalesce(g.claimed_by, g.id));
END $$;

-- The verified owner p_user of an address takes the history of its guest:
-- the payments become the account's, and so do the per-fan rollups of the
-- analytics (merged into the account's rows), so that lists, receipts,
-- refunds, analytics and reconciliation read one payer before and after.
-- Invoices stay as issued (a document names the buyer as it was then).
-- Guest tips earn no cashback (no wallet to credit), so no ledger account
-- of the guest has to move.  The number of payments claimed.
CREATE OR REPLACE FUNCTION tz_guest_claim(p_user uuid) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  g users;
  n int;
BEGIN
  SELECT x.* INTO g FROM users x JOIN users u ON lower(x.email) = lower(u.email)
   WHERE u.id = p_user AND x.role = 'guest' AND x.claimed_by IS NULL
     FOR UPDATE OF x;
  IF g.id IS NULL THEN
    RETURN 0;
  END IF;
  UPDATE payments SET fan_id = p_user WHERE fan_id = g.id;
  GET DIAGNOSTICS n = ROW_COUNT;
  INSERT INTO creator_fan_daily AS c (creator_id, currency, day, fan_id, gross, payments)
  SELECT creator_id, currency, day, p_user, gross, payments FROM creator_fan_daily
   WHERE fan_id = g.id
  ON CONFLICT (creator_id, currency, day, fan_id) DO UPDATE
    SET gross = c.gross + EXCLUDED.gross, payments = c.payments + EXCLUDED.payments;
  DELETE FROM creator_fan_daily WHERE fan_id = g.id;
  INSERT INTO creator_fan_monthly AS c (creator_id, currency, month, fan_id, gross, payments)
  SELECT creator_id, currency, month, p_user, gross, payments FROM creator_fan_monthly
   WHERE fan_id = g.id
  ON CONFLICT (creator_id, currency, month, fan_id) DO UPDATE
    SET gross = c.gross + EXCLUDED.gross, payments = c.payments + EXCLUDED.payments;
  DELETE FROM creator_fan_monthly WHERE fan_id = g.id;
  UPDATE users SET claimed_by = p_user WHERE id = g.id;
  RETURN n;
END $$;
