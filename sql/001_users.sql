-- 001: users, refresh tokens, and the shared helpers of every later migration.
--
-- Business operations are single SQL function calls so the module never runs a
-- multi-statement transaction through the driver (one round trip, atomic).
-- Functions return JSON that the module sends on, or {"error": "<code>"}.

-- RFC 3339 UTC with a Z, the only timestamp format of the API.
CREATE FUNCTION tz_ts(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  full_name     text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
  role          text NOT NULL CHECK (role IN ('fan', 'creator', 'admin')),
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
-- Emails are unique regardless of case.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- Refresh tokens are stored only as SHA-256 hashes.  A family is the chain of
-- tokens rotated from one login; presenting a rotated token again revokes the
-- whole family (the token was stolen or replayed).
CREATE TABLE refresh_tokens (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id     uuid NOT NULL REFERENCES users (id),
  family_id   uuid NOT NULL,
  token_hash  text NOT NULL UNIQUE,
  expires_at  timestamptz NOT NULL,
  rotated_at  timestamptz,
  revoked_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE FUNCTION tz_user_json(u users) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', u.id, 'email', u.email, 'full_name', u.full_name,
                           'role', u.role, 'created_at', tz_ts(u.created_at))
$$;

-- Creates a user; {"user": {...}} or {"error": "email_taken"}.
CREATE FUNCTION tz_register(p_email text, p_full_name text, p_role text, p_hash text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
  u users;
BEGIN
  INSERT INTO users (email, full_name, role, password_hash)
  VALUES (p_email, p_full_name, p_role, p_hash)
  ON CONFLICT ((lower(email))) DO NOTHING
  RETURNING * INTO u;
  IF u.id IS NULL THEN
    RETURN json_build_object('error', 'email_taken');
  END IF;
  RETURN json_build_object('user', tz_user_json(u));
END $$;

-- Starts a new token family for a fresh login.
CREATE FUNCTION tz_refresh_issue(p_user uuid, p_hash text, p_ttl bigint)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
  VALUES (p_user, gen_random_uuid(), p_hash, now() + make_interval(secs => p_ttl))
$$;

-- Rotates a refresh token: {"user": {...}} on success, {"error": "invalid"}
-- for unknown/expired/revoked tokens, {"error": "reuse"} when a rotated token
-- comes back (the family is then revoked, and stays revoked: no exception
-- rolls the revocation back).
CREATE FUNCTION tz_refresh_rotate(p_old_hash text, p_new_hash text, p_ttl bigint)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
  t refresh_tokens;
  u users;
BEGIN
  SELECT * INTO t FROM refresh_tokens WHERE token_hash = p_old_hash FOR UPDATE;
  IF t.id IS NULL OR t.revoked_at IS NOT NULL OR t.expires_at <= now() THEN
    RETURN json_build_object('error', 'invalid');
  END IF;
  IF t.rotated_at IS NOT NULL THEN
    UPDATE refresh_tokens SET revoked_at = now()
     WHERE family_id = t.family_id AND revoked_at IS NULL;
    RETURN json_build_object('error', 'reuse');
  END IF;
  UPDATE refresh_tokens SET rotated_at = now() WHERE id = t.id;
  INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
  VALUES (t.user_id, t.family_id, p_new_hash, now() + make_interval(secs => p_ttl));
  SELECT * INTO u FROM users WHERE id = t.user_id;
  RETURN json_build_object('user', tz_user_json(u));
END $$;

-- Logout ends the session the token belongs to (its whole family), but only
-- for the token's owner; anything else is a silent no-op.
CREATE FUNCTION tz_logout(p_hash text, p_user uuid) RETURNS void
LANGUAGE sql AS $$
  UPDATE refresh_tokens SET revoked_at = now()
   WHERE revoked_at IS NULL
     AND family_id = (SELECT family_id FROM refresh_tokens
                       WHERE token_hash = p_hash AND user_id = p_user)
$$;
