"""The SQL you read is the SQL that runs: every function has one
definition, in sql/functions/, and the body PostgreSQL holds is that text;
schema steps hold no functions and nothing rewrites a function's source."""
import glob
import os
import re

from tzstack import SQL_DIR

DEFINITION = re.compile(r"CREATE\s+(OR\s+REPLACE\s+)?FUNCTION\s+([a-z_0-9]+)\s*\(", re.I)


def texts(sub):
    return {os.path.basename(p): open(p).read()
            for p in sorted(glob.glob(os.path.join(SQL_DIR, sub, "*.sql")))}


def defined():
    """{function name: [files defining it]}."""
    out = {}
    for name, text in texts("functions").items():
        for m in DEFINITION.finditer(text):
            assert m.group(1), f"{name}: {m.group(2)} must be CREATE OR REPLACE"
            out.setdefault(m.group(2).lower(), []).append(name)
    return out


def test_one_definition_per_function():
    twice = {f: files for f, files in defined().items() if len(files) > 1}
    assert twice == {}


def test_schema_steps_define_no_functions_and_nothing_rewrites_source():
    for name, text in texts("schema").items():
        assert not DEFINITION.search(text) and "CREATE TRIGGER" not in text.upper(), name
    for name, text in {**texts("schema"), **texts("functions")}.items():
        assert not re.search(r"prosrc|pg_get_functiondef|replace\s*\(\s*f\.", text, re.I), name


def test_the_database_runs_the_files(stack):
    """Each function in the database is defined in the files, and its body
    is their text, byte for byte."""
    source = "".join(texts("functions").values())
    rows = stack.psql("SELECT proname, encode(convert_to(prosrc, 'UTF8'), 'hex') FROM pg_proc"
                      " WHERE pronamespace = 'public'::regnamespace")
    files = defined()
    assert sorted({name for name, _ in rows}) == sorted(files)
    for name, body in rows:
        text = bytes.fromhex(body).decode()
        assert text in source, f"{name}: the body in the database is not the one in sql/functions/"


# Every scalar LANGUAGE sql function, prepared with a generic plan: the
# names of those still called in the plan, i.e. not inlined.
NOT_INLINED = """
CREATE FUNCTION pg_temp.tz_not_inlined() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  f record;
  line text;
  hit boolean;
BEGIN
  SET LOCAL plan_cache_mode = force_generic_plan;
  FOR f IN SELECT p.proname, p.pronargs,
                  (SELECT string_agg(format_type(t, NULL), ', ' ORDER BY i)
                     FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, i)) AS types,
                  (SELECT string_agg('$' || g, ', ') FROM generate_series(1, p.pronargs) g) AS params,
                  (SELECT string_agg('NULL', ', ') FROM generate_series(1, p.pronargs) g) AS nulls
             FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
            WHERE p.pronamespace = 'public'::regnamespace AND l.lanname = 'sql'
              AND NOT p.proretset AND p.prorettype <> 'trigger'::regtype
            ORDER BY p.proname
  LOOP
    IF f.pronargs = 0 THEN
      EXECUTE format('PREPARE tz_inlined AS SELECT %I()', f.proname);
    ELSE
      EXECUTE format('PREPARE tz_inlined(%s) AS SELECT %I(%s)', f.types, f.proname, f.params);
    END IF;
    hit := false;
    FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) EXECUTE tz_inlined'
                        || CASE WHEN f.pronargs > 0 THEN '(' || f.nulls || ')' ELSE '' END LOOP
      hit := hit OR position(f.proname || '(' IN line) > 0;
    END LOOP;
    DEALLOCATE tz_inlined;
    IF hit THEN
      RETURN NEXT f.proname;
    END IF;
  END LOOP;
END $$;
SELECT * FROM pg_temp.tz_not_inlined();"""


def test_sql_helpers_are_inlined(stack):
    """A LANGUAGE sql helper that the planner does not inline is parsed and
    planned again in every transaction that calls it (a third of a webhook
    credit's time once): a scalar one must inline (one expression, no
    subquery, declared no less volatile than its body), or be PL/pgSQL."""
    assert stack.psql(NOT_INLINED) == []
