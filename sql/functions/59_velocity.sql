-- Velocity limits on payments: the record of breaches and the operators'
-- list of offenders (docs/risk.md, "Velocity limits").  The counting is the
-- module's (shared memory, or 24_counters.sql's with TipzedSharedCounters
-- database); a breach is written here once per key and counting window, so
-- a flood of refused requests costs one write per window, not one per
-- request.

-- One breach of a limit: the row of its kind, key and hour created or
-- counted up.  Rows older than 30 days are dropped on the way (the list
-- reads at most that far back).
CREATE OR REPLACE FUNCTION tz_api_velocity_breach(p_kind text, p_digest text, p_shown text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t timestamptz := now();
BEGIN
  INSERT INTO velocity_breaches AS v (kind, key_digest, key_shown, hour, first_at, last_at)
  VALUES (p_kind, p_digest, p_shown, date_trunc('hour', t), t, t)
  ON CONFLICT (kind, key_digest, hour) DO UPDATE
    SET breaches = v.breaches + 1, last_at = greatest(v.last_at, t), key_shown = p_shown;
  DELETE FROM velocity_breaches WHERE hour < date_trunc('hour', t) - interval '30 days';
  RETURN json_build_object('recorded', true);
END $$;

-- GET /admin/risk/velocity: the keys with the most breaches since p_since
-- (hours that overlap it count whole), most first, then the latest seen.
CREATE OR REPLACE FUNCTION tz_api_velocity_offenders(p_since timestamptz, p_kind text,
                                                     p_limit int)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN json_build_object(
    'since', tz_ts(p_since),
    'data', coalesce((SELECT json_agg(json_build_object(
                               'kind', kind, 'key', key_shown, 'breaches', n,
                               'first_seen', tz_ts(f), 'last_seen', tz_ts(l))
                             ORDER BY n DESC, l DESC, kind, d)
                        FROM (SELECT kind, key_digest AS d, (array_agg(key_shown ORDER BY hour DESC))[1]
                                     AS key_shown, sum(breaches) AS n, min(first_at) AS f,
                                     max(last_at) AS l
                                FROM velocity_breaches
                               WHERE hour >= date_trunc('hour', p_since)
                                 AND (p_kind IS NULL OR kind = p_kind)
                               GROUP BY kind, key_digest
                               ORDER BY n DESC, l DESC, kind, key_digest
                               LIMIT p_limit) top), '[]'::json));
END $$;
