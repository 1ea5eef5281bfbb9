-- Counters shared by every node (TipzedSharedCounters database): the
-- rules of the module's shared-memory counters (mod_tipzed/tz_ratelimit.c),
-- on rows of rate_counters, so a burst split over all the nodes is cut at
-- the limit exactly.  docs/risk.md, "Counters shared by several nodes".

-- Counts one attempt against every limit of p_limits ([{k, l, w}]: key,
-- limit (0 never blocks), window in seconds) unless one is reached:
-- {wait: 0} when counted, else the longest wait with nothing counted and
-- which (0-based) limit waits longest.  Every key's row is locked, in the
-- order of the digests, before any is read: two attempts sharing keys
-- queue on them and never wait on each other in a cycle.  One call in
-- 256 also drops up to 1000 rows whose window ended (rows locked by
-- another attempt are skipped).
CREATE OR REPLACE FUNCTION tz_api_counter_attempt(p_store text, p_limits json, p_now bigint)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  e record;
  c rate_counters;
  v_wait bigint := 0;
  v_which int := 0;
  v_w bigint;
  v_d bytea[] := '{}';
  v_win bigint[] := '{}';
  k int;
BEGIN
  IF random() < 1.0 / 256 THEN
    DELETE FROM rate_counters WHERE (store, key_digest) IN
      (SELECT store, key_digest FROM rate_counters WHERE window_end <= p_now
        ORDER BY window_end LIMIT 1000 FOR UPDATE SKIP LOCKED);
  END IF;
  FOR e IN SELECT (i - 1)::int AS i, sha256(convert_to(x.k, 'UTF8')) AS d, x.l, x.w
             FROM ROWS FROM (json_to_recordset(p_limits) AS (k text, l int, w bigint))
                  WITH ORDINALITY AS x(k, l, w, i)
            ORDER BY 2, 1 LOOP
    LOOP
      SELECT * INTO c FROM rate_counters WHERE store = p_store AND key_digest = e.d FOR UPDATE;
      EXIT WHEN FOUND;
      INSERT INTO rate_counters VALUES (p_store, e.d, 0, 0) ON CONFLICT DO NOTHING;
    END LOOP;
    v_d := v_d || e.d;
    v_win := v_win || e.w;
    IF e.l > 0 AND c.window_end > p_now AND c.count >= e.l THEN
      -- a clock stepped backwards must not stretch a block beyond one window
      v_w := least(c.window_end - p_now, greatest(e.w, 1));
      IF v_w > v_wait OR (v_w = v_wait AND e.i < v_which) THEN
        v_wait := v_w;
        v_which := e.i;
      END IF;
    END IF;
  END LOOP;
  IF v_wait > 0 THEN
    RETURN json_build_object('wait', v_wait, 'which', v_which);
  END IF;
  -- one indexed update per key (a join with the JSON would scan the table)
  FOR k IN 1 .. coalesce(array_length(v_d, 1), 0) LOOP
    UPDATE rate_counters
       SET count = CASE WHEN window_end <= p_now THEN 1 ELSE count + 1 END,
           window_end = CASE WHEN window_end <= p_now THEN p_now + greatest(v_win[k], 0)
                             ELSE window_end END
     WHERE store = p_store AND key_digest = v_d[k];
  END LOOP;
  RETURN json_build_object('wait', 0, 'which', 0);
END $$;

-- Takes back one attempt of p_undo counted in its current window and
-- forgets p_clear (either NULL).
CREATE OR REPLACE FUNCTION tz_api_counter_undo(p_store text, p_undo text, p_clear text,
                                               p_now bigint)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE rate_counters SET count = count - 1
   WHERE store = p_store AND key_digest = sha256(convert_to(p_undo, 'UTF8'))
     AND window_end > p_now AND count > 0;
  DELETE FROM rate_counters
   WHERE store = p_store AND key_digest = sha256(convert_to(p_clear, 'UTF8'));
  RETURN json_build_object('done', true);
END $$;
