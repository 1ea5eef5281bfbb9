-- The audit log (append-only: who did what, when: admin actions, refunds,
-- admin logins) and the admin listings.

DROP TRIGGER IF EXISTS audit_log_immutable ON audit_log;
CREATE TRIGGER audit_log_immutable BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION tz_ledger_immutable();
DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION tz_ledger_immutable();

CREATE OR REPLACE FUNCTION tz_api_audit(p_actor uuid, p_action text, p_type text, p_target text,
                                        p_note text, p_request text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO audit_log (actor_id, action, target_type, target_id, note, request_id)
  VALUES (p_actor, p_action, p_type, p_target, p_note, p_request);
END $$;

-- GET /admin/transactions: payments with filters (creator_id: the
-- payments it received, split tips it has a share of among them), newest
-- first; keyset after p_after (any payment).
CREATE OR REPLACE FUNCTION tz_api_admin_transactions(p_status text, p_creator uuid, p_fan uuid,
                                                     p_from timestamptz, p_to timestamptz,
                                                     p_limit int, p_offset bigint, p_after uuid)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c_at timestamptz := 'infinity'; c_id uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
BEGIN
  IF p_after IS NOT NULL THEN
    SELECT created_at, id INTO c_at, c_id FROM payments WHERE id = p_after;
    IF NOT FOUND THEN RETURN json_build_object('error', 'starting_after'); END IF;
  END IF;
  RETURN (WITH page AS (
    SELECT tz_payment_json(p) AS j, row_number() OVER () AS n FROM (
      SELECT * FROM payments
       WHERE (p_status IS NULL OR status = p_status)
         AND (p_creator IS NULL OR creator_id = p_creator
              OR id IN (SELECT payment_id FROM payment_splits WHERE creator_id = p_creator))
         AND (p_fan IS NULL OR fan_id = p_fan) AND (p_from IS NULL OR created_at >= p_from)
         AND (p_to IS NULL OR created_at < p_to) AND (created_at, id) < (c_at, c_id)
       ORDER BY created_at DESC, id DESC LIMIT p_limit + 1 OFFSET p_offset) p
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit));
END $$;

-- GET /admin/audit-log: newest first (keyset: entries older than p_after).
CREATE OR REPLACE FUNCTION tz_api_audit_log(p_limit int, p_offset bigint, p_after bigint)
RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF p_after IS NOT NULL AND NOT EXISTS (SELECT 1 FROM audit_log WHERE id = p_after) THEN
    RETURN json_build_object('error', 'starting_after');
  END IF;
  RETURN (WITH page AS (
    SELECT json_build_object('id', a.id, 'actor_id', a.actor_id, 'action', a.action,
                             'target_type', a.target_type, 'target_id', a.target_id,
                             'note', a.note, 'request_id', a.request_id,
                             'created_at', tz_ts(a.created_at)) AS j,
           row_number() OVER (ORDER BY a.id DESC) AS n
      FROM (SELECT * FROM audit_log WHERE id < coalesce(p_after, 9223372036854775807)
             ORDER BY id DESC LIMIT p_limit + 1 OFFSET p_offset) a
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit));
END $$;
