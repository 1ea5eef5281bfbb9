"""Least privilege: the runtime role (the one in DBDParams) can call the
tz_api_* functions and nothing else.  Each refusal is proved by connecting
as that role through the stack's socket, as an attacker with SQL through
the module would."""
import os
import re

import pytest

from tzstack import REPO

LEDGER_TABLES = ["journal_entries", "postings", "accounts", "payments", "payouts", "audit_log"]
INSUFFICIENT_PRIVILEGE = "42501"


def as_app(stack, sql):
    """Runs sql as the runtime role: (ok, sqlstate, stderr)."""
    r = stack.psql_script("\\set VERBOSITY verbose\n" + sql + ";\n", user=stack.app_role)
    m = re.search(r"ERROR:\s+([0-9A-Z]{5}):", r.stderr)
    return r.returncode == 0, (m.group(1) if m else None), r.stderr


def refused(stack, sql):
    ok, state, err = as_app(stack, sql)
    assert not ok and state == INSUFFICIENT_PRIVILEGE, (sql, err)


def api_stems():
    """The stems of the statement table (mod_tipzed/tz_sql.c)."""
    with open(os.path.join(REPO, "mod_tipzed", "tz_sql.c")) as f:
        pairs = re.findall(r"^\s+TZ_API\(([A-Z_]+), ([a-z_]+),", f.read(), re.M)
    assert pairs and all(upper.lower() == lower for upper, lower in pairs), pairs
    return sorted(lower for _, lower in pairs)


@pytest.mark.parametrize("table", LEDGER_TABLES)
def test_runtime_role_cannot_write_ledger_tables(stack, table):
    cols = stack.psql(f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'"
                      f" ORDER BY ordinal_position LIMIT 1")[0][0]
    refused(stack, f"INSERT INTO {table} DEFAULT VALUES")
    refused(stack, f"UPDATE {table} SET {cols} = {cols}")
    refused(stack, f"DELETE FROM {table}")
    refused(stack, f"TRUNCATE {table}")
    refused(stack, f"SELECT count(*) FROM {table}")


def test_runtime_role_cannot_read_users(stack):
    refused(stack, "SELECT email, password_hash FROM users")
    refused(stack, "SELECT * FROM refresh_tokens")


def test_runtime_role_has_no_ddl(stack):
    refused(stack, "CREATE TABLE public.tz_attack (id int)")
    refused(stack, "CREATE FUNCTION public.tz_attack() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    refused(stack, "ALTER TABLE postings DISABLE TRIGGER postings_immutable")
    refused(stack, "ALTER TABLE journal_entries DISABLE TRIGGER ALL")
    refused(stack, "DROP TRIGGER postings_immutable ON postings")
    refused(stack, "ALTER TABLE accounts DROP CONSTRAINT wallet_not_negative")
    refused(stack, "CREATE OR REPLACE FUNCTION tz_fee(p_gross bigint, p_bps int) RETURNS bigint"
                   " LANGUAGE sql AS 'SELECT 0::bigint'")
    refused(stack, "SET session_replication_role = replica")


def test_runtime_role_cannot_call_internal_functions(stack):
    refused(stack, "SELECT tz_post_entry('attack', 'adjustment', NULL, NULL, 'ZMW',"
                   " ARRAY[1, 2]::bigint[], ARRAY[-1, 1]::bigint[])")
    refused(stack, "SELECT tz_account('platform_fees', NULL, NULL, 'ZMW')")
    refused(stack, "SELECT tz_fee(100::bigint, 1500)")
    refused(stack, "SELECT * FROM tz_reconcile()")
    refused(stack, "SELECT tz_grant_runtime('tipzed_app')")


def test_runtime_role_can_call_the_api_functions(stack):
    ok, _, err = as_app(stack, "SELECT tz_api_schema_state(); SELECT tz_api_user_by_id(gen_random_uuid())")
    assert ok, err
    assert stack.psql("SELECT tz_api_user_by_email('nobody@nowhere.test') IS NULL",
                      user=stack.app_role) == [("t",)]


def test_runtime_role_privileges_are_exactly_the_api(stack):
    """EXECUTE on every tz_api_* function and nothing else in the schema;
    every tz_api_* function runs as its owner with a fixed search_path, and
    they are exactly the functions of the module's statement table."""
    role = stack.app_role
    executable = [r[0] for r in stack.psql(
        f"SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace"
        f" AND has_function_privilege('{role}', p.oid, 'EXECUTE') ORDER BY 1")]
    assert executable == ["tz_api_" + s for s in api_stems()]
    assert stack.psql(
        "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace"
        " AND p.proname LIKE 'tz\\_api\\_%' AND NOT (p.prosecdef"
        " AND p.proconfig @> ARRAY['search_path=public, pg_temp'])") == []
    assert stack.psql(
        f"SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace"
        f" AND (has_table_privilege('{role}', c.oid, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,"
        f"REFERENCES,TRIGGER') OR c.relowner = '{role}'::regrole) AND c.relkind IN ('r', 'v', 'p')") == []
    assert stack.psql(f"SELECT has_schema_privilege('{role}', 'public', 'CREATE'),"
                      f" rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles"
                      f" WHERE rolname = '{role}'") == [("f", "f", "f", "f", "f")]


def test_migrate_refuses_an_overprivileged_runtime_role(stack):
    for role in ["tipzed", "postgres"]:
        r = stack.tipzedctl("migrate", "--runtime-role", role, os.path.join(REPO, "sql"))
        assert r.returncode == 1 and "must be neither" in r.stderr, r.stdout + r.stderr
    r = stack.tipzedctl("migrate", "--runtime-role", "no_such_role_x", os.path.join(REPO, "sql"))
    assert r.returncode == 1 and "does not exist" in r.stderr, r.stderr
    assert stack.psql("SELECT value FROM tz_settings WHERE key = 'runtime_role'") == [(stack.app_role,)]
