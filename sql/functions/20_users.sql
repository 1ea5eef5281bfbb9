-- Users, registration, login lookups and refresh tokens.

CREATE OR REPLACE FUNCTION tz_user_json(u users) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', u.id, 'email', u.email, 'full_name', u.full_name,
                           'role', u.role, 'referral_code', u.referral_code,
                           'email_verified', u.role = 'admin' OR u.email_verified_at IS NOT NULL,
                           'created_at', tz_ts(u.created_at))
$$;

-- Creates a user; {"user": {...}} or {"error": "email_taken" |
-- "referral_code_unknown"}.  p_referral_code (any case, or NULL) names the
-- referrer, stored in referred_by.  The new user's own code is drawn by the
-- column's default; in the unlikely case that it is taken already, the
-- insert is tried again with a new draw.
CREATE OR REPLACE FUNCTION tz_api_register(p_email text, p_full_name text, p_role text,
                                           p_hash text, p_referral_code text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  u users;
  referrer uuid;
  taken text;
BEGIN
  IF p_referral_code IS NOT NULL THEN
    SELECT id INTO referrer FROM users WHERE referral_code = upper(p_referral_code);
    IF referrer IS NULL THEN
      RETURN json_build_object('error', 'referral_code_unknown');
    END IF;
  END IF;
  FOR attempt IN 1 .. 5 LOOP
    BEGIN
      INSERT INTO users (email, full_name, role, password_hash, referred_by)
      VALUES (p_email, p_full_name, p_role, p_hash, referrer)
      ON CONFLICT ((lower(email))) WHERE role <> 'guest' DO NOTHING
      RETURNING * INTO u;
      EXIT;
    EXCEPTION WHEN unique_violation THEN
      GET STACKED DIAGNOSTICS taken = CONSTRAINT_NAME;
      IF taken IS DISTINCT FROM 'users_referral_code_key' OR attempt = 5 THEN
        RAISE;
      END IF;
    END;
  END LOOP;
  IF u.id IS NULL THEN
    RETURN json_build_object('error', 'email_taken');
  END IF;
  RETURN json_build_object('user', tz_user_json(u));
END $$;

-- What login needs, by email in any case: {"id", "role", "password_hash",
-- "totp" (two-factor on), "status", "user": {...}}, or NULL for an unknown
-- email (a guest's too: guests have no password and never log in).
CREATE OR REPLACE FUNCTION tz_api_user_by_email(p_email text) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (SELECT json_build_object('id', u.id, 'role', u.role, 'password_hash', u.password_hash,
                                   'totp', u.totp_enabled_at IS NOT NULL,
                                   'status', u.status, 'user', tz_user_json(u))
            FROM users u WHERE lower(u.email) = lower(p_email) AND u.role <> 'guest');
END $$;

CREATE OR REPLACE FUNCTION tz_api_user_by_id(p_id uuid) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (SELECT tz_user_json(u) FROM users u WHERE u.id = p_id);
END $$;

-- Starts a new token family (a session, p_family: its id) for a fresh
-- login, from the client's address and user agent.
CREATE OR REPLACE FUNCTION tz_api_refresh_issue(p_user uuid, p_hash text, p_ttl bigint,
                                                p_family uuid, p_ip text, p_ua text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, ip, user_agent)
  VALUES (p_user, p_family, p_hash, now() + make_interval(secs => p_ttl), p_ip, left(p_ua, 512));
END $$;

-- Rotates a refresh token: {"user": {...}, "family_id"} on success (the new
-- token remembers the address and user agent it went to), {"error": "invalid"}
-- for unknown/expired/revoked tokens, {"error": "reuse"} when a rotated token
-- comes back (the family is then revoked, and stays revoked: no exception
-- rolls the revocation back).
CREATE OR REPLACE FUNCTION tz_api_refresh_rotate(p_old_hash text, p_new_hash text, p_ttl bigint,
                                                 p_ip text, p_ua text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t refresh_tokens;
  u users;
BEGIN
  SELECT * INTO t FROM refresh_tokens WHERE token_hash = p_old_hash FOR UPDATE;
  IF t.id IS NULL OR t.revoked_at IS NOT NULL OR t.expires_at <= now()
     OR (SELECT status FROM users WHERE id = t.user_id) <> 'active' THEN -- suspended, deleted
    RETURN json_build_object('error', 'invalid');
  END IF;
  IF t.rotated_at IS NOT NULL THEN
    UPDATE refresh_tokens SET revoked_at = now()
     WHERE family_id = t.family_id AND revoked_at IS NULL;
    RETURN json_build_object('error', 'reuse');
  END IF;
  UPDATE refresh_tokens SET rotated_at = now() WHERE id = t.id;
  INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, ip, user_agent)
  VALUES (t.user_id, t.family_id, p_new_hash, now() + make_interval(secs => p_ttl), p_ip,
          left(p_ua, 512));
  SELECT * INTO u FROM users WHERE id = t.user_id;
  RETURN json_build_object('user', tz_user_json(u), 'family_id', t.family_id);
END $$;

-- Logout ends the session the token belongs to (its whole family), but only
-- for the token's owner; anything else is a silent no-op.
CREATE OR REPLACE FUNCTION tz_api_logout(p_hash text, p_user uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE refresh_tokens SET revoked_at = now()
   WHERE revoked_at IS NULL
     AND family_id = (SELECT family_id FROM refresh_tokens
                       WHERE token_hash = p_hash AND user_id = p_user);
END $$;
