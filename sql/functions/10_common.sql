-- Helpers shared by every later file.
--
-- Every function, trigger function and view has exactly one definition, in
-- one file of sql/functions/, written as CREATE OR REPLACE; tipzedctl migrate
-- re-applies a file whenever its text changes (docs/database.md).
--
-- Functions the module calls are named tz_api_<stem>, run as their owner
-- (SECURITY DEFINER) with a fixed search_path, and are the only functions
-- the runtime role may execute.  They return JSON that the module sends on,
-- or {"error": "<code>"}; each is one call, so the module never runs a
-- multi-statement transaction through the driver.
--
-- Per-request functions are PL/pgSQL: PostgreSQL 15 plans the body of a
-- LANGUAGE sql function again on every call unless it can inline it, while
-- PL/pgSQL keeps each statement's plan for the life of the session (and
-- mod_dbd's connections live long).  Measured on the public profile's
-- function with pgbench: 3,000 calls/s as SQL, 8,000-9,500 as PL/pgSQL.
-- A scalar helper stays LANGUAGE sql only where the planner inlines it: one
-- SELECT of one expression, with no subquery and no FROM, and no more
-- volatile than it is declared (tz_ts, the row formatters without a
-- subquery).  Any other SQL helper is parsed and planned again in every
-- transaction that calls it: a webhook credit spent about a third of its
-- time so (tz_payment_json and tz_invoice_json alone 0.25-0.65 ms a call
-- against a few hundredths as PL/pgSQL), so those helpers are PL/pgSQL.
-- track_functions shows which helpers are not inlined: an inlined function
-- is never counted in pg_stat_user_functions.

-- RFC 3339 UTC with a Z, the only timestamp format of the API.  STABLE,
-- as to_char on a timestamp is: declared IMMUTABLE it would never be
-- inlined.
CREATE OR REPLACE FUNCTION tz_ts(t timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- The platform fee, the only place its rule is written: round half up of
-- gross * bps / 10000 in exact arithmetic, for gross in 1 .. 2^53 (the
-- largest amount the API accepts) and bps in 0 .. 10000; anything else
-- raises 22023.
CREATE OR REPLACE FUNCTION tz_fee(p_gross bigint, p_bps int) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
  IF p_gross <= 0 OR p_gross > 9007199254740992 OR p_bps < 0 OR p_bps > 10000 THEN
    RAISE EXCEPTION 'fee of % at % bps is undefined', p_gross, p_bps USING ERRCODE = '22023';
  END IF;
  RETURN div(p_gross::numeric * p_bps + 5000, 10000)::bigint;
END $$;

-- The tax rule (TipzedTax), the only place it is written besides
-- mod_tipzed/tz_tax.c (tests/fixtures/tax_cases.json holds both to the
-- same answers).  p_tax: {"name", "bps", "inclusive"}, or NULL (no tax).
-- A price that includes the tax (inclusive) is what is paid, and the tax
-- within it is round half up of price * bps / (10000 + bps); a price
-- before tax (exclusive) is paid with the tax added, round half up of
-- price * bps / 10000.  Exact for every price of the API.
CREATE OR REPLACE FUNCTION tz_tax_apply(p_price bigint, p_tax json, OUT amount bigint,
                                        OUT tax bigint)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  bps int := coalesce((p_tax->>'bps')::int, 0);
BEGIN
  IF p_tax IS NULL OR bps = 0 THEN
    amount := p_price;
    tax := 0;
  ELSIF (p_tax->>'inclusive')::boolean THEN
    amount := p_price;
    tax := div(p_price::numeric * bps * 2 + 10000 + bps, 2 * (10000 + bps))::bigint;
  ELSE
    tax := div(p_price::numeric * bps + 5000, 10000)::bigint;
    amount := p_price + tax;
  END IF;
END $$;
