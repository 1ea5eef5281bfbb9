-- 007 rewrote the per-request LANGUAGE sql functions into PL/pgSQL so that
-- their statement plans are cached per session.  Those functions are now
-- written in PL/pgSQL directly in sql/functions/; this step is kept so that
-- databases which recorded version 7 and fresh ones number their steps alike.
SELECT 1;
