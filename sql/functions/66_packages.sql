-- The credit-package catalogue of fan wallets: paying a package's amount
-- credits the wallet with credit (= amount) plus bonus, the bonus funded by
-- the promotions account.  Admins add and change packages (each change
-- audited in its transaction); anyone reads the active ones.  A package is
-- never deleted, only deactivated: payments refer to it.  Two active
-- packages never share a name in one currency (the partial unique index
-- packages_active_name_idx, whoever writes the row).

CREATE OR REPLACE FUNCTION tz_package_json(p packages) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', p.id, 'name', p.name, 'amount', p.amount, 'currency', p.currency,
    'credit', p.amount, 'bonus', p.bonus, 'active', p.active,
    'created_at', tz_ts(p.created_at), 'updated_at', tz_ts(p.updated_at))
$$;

-- For top-ups: the active package p_id as it is now, or NULL (no such
-- package, or deactivated).  The caller copies the amount and bonus it
-- uses into its own rows: an admin may change the package afterwards.
CREATE OR REPLACE FUNCTION tz_package_for_topup(p_id uuid) RETURNS packages
LANGUAGE plpgsql STABLE AS $$
DECLARE
  p packages;
BEGIN
  SELECT * INTO p FROM packages WHERE id = p_id AND active;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  RETURN p;
END $$;

-- GET /packages[?currency=]: the active packages in p_currencies (the one
-- asked for, or every currency the server accepts), by currency, amount, id.
CREATE OR REPLACE FUNCTION tz_api_packages_list(p_currencies text[]) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN json_build_object('data', coalesce(
    (SELECT json_agg(tz_package_json(p) ORDER BY p.currency, p.amount, p.id)
       FROM packages p
      WHERE p.active AND p.currency = ANY (p_currencies::bpchar[])),
    '[]'::json));
END $$;

-- POST /admin/packages: {"error": "package_exists"} when an active package
-- of that name and currency exists; else the package, audited and stored
-- under the admin's idempotency key p_key in one transaction.
CREATE OR REPLACE FUNCTION tz_api_package_create(p_id uuid, p_name text, p_amount bigint,
                                                 p_currency text, p_bonus bigint,
                                                 p_active boolean, p_admin uuid,
                                                 p_request text, p_key text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  p packages;
  violated text;
BEGIN
  BEGIN
    INSERT INTO packages (id, name, amount, currency, bonus, active)
    VALUES (p_id, p_name, p_amount, p_currency, p_bonus, p_active)
    RETURNING * INTO p;
  EXCEPTION WHEN unique_violation THEN
    GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
    IF violated <> 'packages_active_name_idx' THEN
      RAISE;
    END IF;
    RETURN json_build_object('error', 'package_exists');
  END;
  PERFORM tz_api_audit(p_admin, 'package.create', 'package', p.id::text,
                       format('%s: %s %s, bonus %s%s', p.name, p.amount, p.currency, p.bonus,
                              CASE WHEN p.active THEN '' ELSE ', inactive' END),
                       p_request);
  RETURN tz_idem_store(p_admin, p_key, 201, tz_package_json(p));
END $$;

-- What a change does to a package, for the audit log: "bonus 500 -> 800;
-- active true -> false", or "no change".
CREATE OR REPLACE FUNCTION tz_package_changes(a packages, b packages) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(concat_ws('; ',
    CASE WHEN a.name <> b.name THEN format('name %s -> %s', a.name, b.name) END,
    CASE WHEN a.amount <> b.amount THEN format('amount %s -> %s', a.amount, b.amount) END,
    CASE WHEN a.bonus <> b.bonus THEN format('bonus %s -> %s', a.bonus, b.bonus) END,
    CASE WHEN a.active <> b.active
         THEN format('active %s -> %s', a.active::text, b.active::text) END), ''), 'no change')
$$;

-- PATCH /admin/packages/{id}: the fields given (not NULL) replace the
-- package's.  {"error": "not_found" | "package_exists"}, {"error":
-- "bonus_above_amount", "amount", "bonus"} (the bonus the package would
-- have exceeds its amount), or the package, audited with what changed and
-- stored under p_key (when the admin sent one) in one transaction.
CREATE OR REPLACE FUNCTION tz_api_package_update(p_id uuid, p_name text, p_amount bigint,
                                                 p_bonus bigint, p_active boolean,
                                                 p_admin uuid, p_request text, p_key text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  old packages;
  p packages;
  violated text;
BEGIN
  SELECT * INTO old FROM packages WHERE id = p_id FOR UPDATE;
  IF old.id IS NULL THEN
    RETURN json_build_object('error', 'not_found');
  END IF;
  p := old;
  p.name := coalesce(p_name, old.name);
  p.amount := coalesce(p_amount, old.amount);
  p.bonus := coalesce(p_bonus, old.bonus);
  p.active := coalesce(p_active, old.active);
  IF p.bonus > p.amount THEN
    RETURN json_build_object('error', 'bonus_above_amount', 'amount', p.amount, 'bonus', p.bonus);
  END IF;
  IF (p.name, p.amount, p.bonus, p.active) IS DISTINCT FROM
     (old.name, old.amount, old.bonus, old.active) THEN
    BEGIN
      UPDATE packages SET name = p.name, amount = p.amount, bonus = p.bonus, active = p.active,
                          updated_at = now()
       WHERE id = p_id RETURNING * INTO p;
    EXCEPTION WHEN unique_violation THEN
      GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
      IF violated <> 'packages_active_name_idx' THEN
        RAISE;
      END IF;
      RETURN json_build_object('error', 'package_exists');
    END;
  END IF;
  PERFORM tz_api_audit(p_admin, 'package.update', 'package', p.id::text,
                       tz_package_changes(old, p), p_request);
  RETURN tz_idem_store(p_admin, p_key, 200, tz_package_json(p));
END $$;
