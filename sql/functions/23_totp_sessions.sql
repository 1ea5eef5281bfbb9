-- Two-factor authentication (TOTP) and sessions (docs/accounts.md).
--
-- The module opens the sealed secret and checks a code itself (the key is
-- in its configuration); these functions keep the state: the step a code
-- matched is "taken" once (tz_totp_take), so a code is never accepted twice,
-- recovery codes are used once, and a login's second step (mfa_tokens)
-- succeeds once.

-- Takes a TOTP step for a user: true when it is later than every step
-- taken before (then it is the last one), false for a replay.
CREATE OR REPLACE FUNCTION tz_totp_take(p_user uuid, p_step bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE users SET totp_last_step = p_step
   WHERE id = p_user AND (totp_last_step IS NULL OR totp_last_step < p_step);
  RETURN FOUND;
END $$;

-- Turns two-factor on with a sealed secret and the hashes of fresh recovery
-- codes (which replace any earlier ones).  Used by the API once a code
-- proved the enrolment, and by `tipzedctl create-admin` / `admin-totp`.
CREATE OR REPLACE FUNCTION tz_totp_enrol(p_user uuid, p_secret_enc text, p_hashes text[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE users SET totp_secret_enc = p_secret_enc, totp_enabled_at = now() WHERE id = p_user;
  DELETE FROM totp_recovery_codes WHERE user_id = p_user;
  INSERT INTO totp_recovery_codes (user_id, code_hash)
  SELECT p_user, h FROM unnest(p_hashes) AS h ON CONFLICT DO NOTHING;
END $$;

-- What a two-factor check needs: {"role", "email", "secret_enc" (or null),
-- "enabled"}, or NULL for an unknown user.
CREATE OR REPLACE FUNCTION tz_api_totp_state(p_user uuid) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (SELECT json_build_object('role', u.role, 'email', u.email,
                                   'secret_enc', u.totp_secret_enc,
                                   'enabled', u.totp_enabled_at IS NOT NULL)
            FROM users u WHERE u.id = p_user);
END $$;

-- Setup: stores a new secret, pending until enabled.  {"error": "enabled"}
-- when two-factor is on already (disable it first).
CREATE OR REPLACE FUNCTION tz_api_totp_setup(p_user uuid, p_secret_enc text) RETURNS json
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE users SET totp_secret_enc = p_secret_enc
   WHERE id = p_user AND totp_enabled_at IS NULL;
  IF NOT FOUND THEN
    RETURN json_build_object('error', 'enabled');
  END IF;
  RETURN json_build_object('ok', true);
END $$;

-- Enable: the code matched step p_step of the pending secret p_secret_enc
-- (the one the module opened: a setup in between makes this fail).
-- {"ok"} or {"error": "enabled" | "no_setup" | "replay"}.
CREATE OR REPLACE FUNCTION tz_api_totp_enable(p_user uuid, p_secret_enc text, p_step bigint,
                                              p_hashes text[])
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  u users;
BEGIN
  SELECT * INTO u FROM users WHERE id = p_user FOR UPDATE;
  IF u.totp_enabled_at IS NOT NULL THEN
    RETURN json_build_object('error', 'enabled');
  END IF;
  IF u.totp_secret_enc IS DISTINCT FROM p_secret_enc THEN
    RETURN json_build_object('error', 'no_setup');
  END IF;
  IF NOT tz_totp_take(p_user, p_step) THEN
    RETURN json_build_object('error', 'replay');
  END IF;
  PERFORM tz_totp_enrol(p_user, p_secret_enc, p_hashes);
  RETURN json_build_object('ok', true);
END $$;

-- Uses a code of the enabled secret (a payout, disabling): {"ok"} or
-- {"error": "not_enabled" | "replay"}.  With p_disable, two-factor is then
-- turned off and the recovery codes dropped (the last step is kept, so the
-- same code cannot enable it again).
CREATE OR REPLACE FUNCTION tz_api_totp_use(p_user uuid, p_step bigint, p_disable boolean)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM 1 FROM users WHERE id = p_user AND totp_enabled_at IS NOT NULL FOR UPDATE;
  IF NOT FOUND THEN
    RETURN json_build_object('error', 'not_enabled');
  END IF;
  IF NOT tz_totp_take(p_user, p_step) THEN
    RETURN json_build_object('error', 'replay');
  END IF;
  IF p_disable THEN
    UPDATE users SET totp_secret_enc = NULL, totp_enabled_at = NULL WHERE id = p_user;
    DELETE FROM totp_recovery_codes WHERE user_id = p_user;
  END IF;
  RETURN json_build_object('ok', true);
END $$;

-- A login's second step begins: the token's hash, its lifetime, and where
-- the login came from.  Challenges a day past their end are removed.
CREATE OR REPLACE FUNCTION tz_api_mfa_issue(p_user uuid, p_hash text, p_ttl bigint, p_ip text,
                                            p_ua text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  DELETE FROM mfa_tokens WHERE expires_at < now() - interval '1 day';
  INSERT INTO mfa_tokens (token_hash, user_id, expires_at, ip, user_agent)
  VALUES (p_hash, p_user, now() + make_interval(secs => p_ttl), p_ip, left(p_ua, 512));
END $$;

-- The challenge, while it can still succeed: {"user_id", "role",
-- "secret_enc"}, or NULL (unknown, used, expired, too many wrong codes).
CREATE OR REPLACE FUNCTION tz_api_mfa_peek(p_hash text) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (SELECT json_build_object('user_id', u.id, 'role', u.role,
                                   'secret_enc', u.totp_secret_enc)
            FROM mfa_tokens m JOIN users u ON u.id = m.user_id
           WHERE m.token_hash = p_hash AND m.used_at IS NULL AND m.expires_at > now()
             AND m.attempts < 5 AND u.totp_enabled_at IS NOT NULL);
END $$;

-- Ends a challenge: with p_step (the module matched a code) the step is
-- taken; with p_recovery (a recovery code's hash) the code is used; with
-- neither, the module found the code wrong.  {"user": {...}} once, else
-- {"error": "invalid" | "replay" | "wrong"}; each failure counts against
-- the challenge (five burn it).
CREATE OR REPLACE FUNCTION tz_api_mfa_finish(p_hash text, p_step bigint, p_recovery text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  m mfa_tokens;
  u users;
  err text;
BEGIN
  SELECT * INTO m FROM mfa_tokens WHERE token_hash = p_hash FOR UPDATE;
  IF m.user_id IS NULL OR m.used_at IS NOT NULL OR m.expires_at <= now() OR m.attempts >= 5 THEN
    RETURN json_build_object('error', 'invalid');
  END IF;
  IF p_step IS NOT NULL THEN
    err := CASE WHEN tz_totp_take(m.user_id, p_step) THEN NULL ELSE 'replay' END;
  ELSIF p_recovery IS NOT NULL THEN
    UPDATE totp_recovery_codes SET used_at = now()
     WHERE user_id = m.user_id AND code_hash = p_recovery AND used_at IS NULL;
    err := CASE WHEN FOUND THEN NULL ELSE 'wrong' END;
  ELSE
    err := 'wrong';
  END IF;
  IF err IS NOT NULL THEN
    UPDATE mfa_tokens SET attempts = attempts + 1 WHERE token_hash = p_hash;
    RETURN json_build_object('error', err);
  END IF;
  UPDATE mfa_tokens SET used_at = now() WHERE token_hash = p_hash;
  SELECT * INTO u FROM users WHERE id = m.user_id;
  RETURN json_build_object('user', tz_user_json(u),
    'recovery_codes_left', (SELECT count(*) FROM totp_recovery_codes
                             WHERE user_id = u.id AND used_at IS NULL));
END $$;

-- The caller's sessions: every refresh-token family with a live token,
-- newest use first; "current" marks p_current (the caller's own).
CREATE OR REPLACE FUNCTION tz_api_sessions_list(p_user uuid, p_current uuid) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (SELECT coalesce(json_agg(json_build_object(
             'id', s.family_id, 'created_at', tz_ts(s.created_at),
             'last_used_at', tz_ts(s.last_used_at), 'expires_at', tz_ts(s.expires_at),
             'ip', s.ip, 'user_agent', s.user_agent,
             'current', s.family_id = p_current) ORDER BY s.last_used_at DESC, s.family_id), '[]')
            FROM (SELECT f.family_id, f.created_at, live.created_at AS last_used_at,
                         live.expires_at, live.ip, live.user_agent
                    FROM (SELECT family_id, min(created_at) AS created_at FROM refresh_tokens
                           WHERE user_id = p_user GROUP BY family_id) f
                    JOIN refresh_tokens live ON live.family_id = f.family_id
                     AND live.user_id = p_user AND live.revoked_at IS NULL
                     AND live.rotated_at IS NULL AND live.expires_at > now()) s);
END $$;

-- Ends one of the caller's sessions: {"revoked": n}, n = 0 when the family
-- is not the caller's or is over already.
CREATE OR REPLACE FUNCTION tz_api_session_revoke(p_user uuid, p_family uuid) RETURNS json
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  n int;
BEGIN
  UPDATE refresh_tokens SET revoked_at = now()
   WHERE user_id = p_user AND family_id = p_family AND revoked_at IS NULL
     AND rotated_at IS NULL AND expires_at > now();
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n > 0 THEN
    UPDATE refresh_tokens SET revoked_at = now()
     WHERE family_id = p_family AND revoked_at IS NULL;
  END IF;
  RETURN json_build_object('revoked', n);
END $$;

-- Logout everywhere: every session of the caller ends.  {"revoked": n}.
CREATE OR REPLACE FUNCTION tz_api_sessions_revoke_all(p_user uuid) RETURNS json
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  n int;
BEGIN
  UPDATE refresh_tokens SET revoked_at = now()
   WHERE user_id = p_user AND revoked_at IS NULL AND rotated_at IS NULL AND expires_at > now();
  GET DIAGNOSTICS n = ROW_COUNT;
  UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = p_user AND revoked_at IS NULL;
  RETURN json_build_object('revoked', n);
END $$;
