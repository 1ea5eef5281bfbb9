-- 008: tz_apply_event() also names the payment's creator, so the module
-- can drop the creator's cached public profile (earnings) after a credit
-- or a refund (mod_tipzed_cache.c).  Only its final RETURN changes; the
-- body is otherwise the one of 004, patched in place and checked.
DO $migration$
DECLARE
  f record;
  old text := 'RETURN json_build_object(''outcome'', v_outcome, ''status'', p.status);';
  new text := 'RETURN json_build_object(''outcome'', v_outcome, ''status'', p.status,'
              ' ''creator_id'', p.creator_id);';
BEGIN
  SELECT p.oid, p.prosrc, pg_get_function_arguments(p.oid) AS args INTO f
    FROM pg_proc p WHERE p.proname = 'tz_apply_event' AND p.pronamespace = 'public'::regnamespace;
  IF f.oid IS NULL OR position(old IN f.prosrc) = 0 THEN
    RAISE EXCEPTION 'tz_apply_event does not end as 004 wrote it; rewrite 008 by hand';
  END IF;
  EXECUTE format('CREATE OR REPLACE FUNCTION tz_apply_event(%s) RETURNS json LANGUAGE plpgsql AS %L',
                 f.args, replace(f.prosrc, old, new));
END
$migration$;
