-- The schema's own state, and the runtime role's privileges.
--
-- tipzedctl keeps its records in tables it creates before anything else:
--   tz_schema_migrations(version, name, applied_at)  schema steps applied
--   tz_function_files(name, sha256, applied_at)      function files applied
--   tz_settings(key, value)  'functions_digest': the digest of the function
--                            files last applied; 'runtime_role': the role
--                            the module connects as

-- What the module compares with the schema it was built for: the highest
-- schema step applied and the digest of the function files applied.
CREATE OR REPLACE FUNCTION tz_api_schema_state() RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN json_build_object(
    'version', (SELECT coalesce(max(version), 0) FROM tz_schema_migrations),
    'digest', (SELECT value FROM tz_settings WHERE key = 'functions_digest'));
END $$;

-- Least privilege, re-established by every tipzedctl migrate, in its
-- transaction: PUBLIC holds nothing on the owner's functions, tables and
-- sequences; the runtime role holds EXECUTE on exactly the tz_api_*
-- functions and nothing else (so an attacker who gets SQL through it can
-- only do what the API does).  p_role NULL keeps the role remembered in
-- tz_settings; a new role takes over from the previous one, whose grants
-- are revoked.  The runtime role must be able to hold nothing more: not a
-- superuser, not a member of the owner role.
CREATE OR REPLACE FUNCTION tz_grant_runtime(p_role text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  prev text := (SELECT value FROM tz_settings WHERE key = 'runtime_role');
  rt text := coalesce(p_role, prev);
  o record;
BEGIN
  IF rt IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = rt) THEN
    RAISE EXCEPTION 'runtime role % does not exist: create it first (CREATE ROLE % LOGIN)', rt, rt
      USING ERRCODE = '42704';
  ELSIF rt IS NOT NULL AND (rt = current_user OR pg_has_role(rt, current_user, 'MEMBER')
                            OR (SELECT rolsuper FROM pg_roles WHERE rolname = rt)) THEN
    RAISE EXCEPTION 'runtime role % would hold more than EXECUTE on tz_api_*: it must be neither % nor a member of it, nor a superuser',
      rt, current_user USING ERRCODE = '42501';
  END IF;
  FOR o IN SELECT p.oid::regprocedure::text AS sig, p.proname LIKE 'tz\_api\_%' AS api
             FROM pg_proc p
            WHERE p.pronamespace = 'public'::regnamespace AND p.proowner = to_regrole(current_user) LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', o.sig);
    IF prev IS NOT NULL AND prev IS DISTINCT FROM rt
       AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = prev) THEN
      EXECUTE format('REVOKE ALL ON FUNCTION %s FROM %I', o.sig, prev);
    END IF;
    IF rt IS NOT NULL THEN
      EXECUTE format(CASE WHEN o.api THEN 'GRANT EXECUTE ON FUNCTION %s TO %I'
                          ELSE 'REVOKE ALL ON FUNCTION %s FROM %I' END, o.sig, rt);
    END IF;
  END LOOP;
  FOR o IN SELECT c.oid::regclass::text AS rel FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relowner = to_regrole(current_user)
              AND c.relkind IN ('r', 'p', 'v', 'm', 'S') LOOP
    EXECUTE format('REVOKE ALL ON %s FROM PUBLIC', o.rel);
    IF rt IS NOT NULL THEN
      EXECUTE format('REVOKE ALL ON %s FROM %I', o.rel, rt);
    END IF;
  END LOOP;
  IF rt IS NOT NULL THEN
    INSERT INTO tz_settings (key, value) VALUES ('runtime_role', rt)
    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
  END IF;
  RETURN rt;
END $$;
