"""tipzedctl migrate: a database created by the releases that kept every
function in numbered migrations (schema version 8, frozen in
fixtures/schema_v8/) migrates forward to the split layout with its data
intact, ends up with exactly the schema a fresh database gets, and serves
the API; --check and status report what is pending; a failed migration
leaves nothing behind; a changed function file alone is re-applied."""
import os
import re
import shutil
import tempfile
import uuid

import pytest

from tzstack import SQL_DIR

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "schema_v8")
OLD_DB = "tz_scratch_upgrade_v8"
FRESH_DB = "tz_scratch_upgrade_fresh"
TABLES = ["users", "refresh_tokens", "accounts", "journal_entries", "postings", "follows",
          "creator_stats", "payments", "idempotency_keys", "webhook_events", "payouts", "audit_log"]
OLD_NAMES = ["tz_register", "tz_refresh_issue", "tz_refresh_rotate", "tz_logout", "tz_idem_begin",
             "tz_idem_finish", "tz_idem_abort", "tz_payment_checkout", "tz_apply_event",
             "tz_payment_public", "tz_payments_expire", "tz_audit"]


def build_v8(stack, db):
    """The database as the version-8 tipzedctl made it: each file in its own
    transaction with a row in tz_schema_migrations(version, name)."""
    conninfo = stack.empty_db(db)
    script = ["CREATE TABLE tz_schema_migrations (version int PRIMARY KEY, name text NOT NULL,"
              " applied_at timestamptz NOT NULL DEFAULT now());"]
    for name in sorted(os.listdir(FIXTURE)):
        if not name.endswith(".sql"):
            continue
        with open(os.path.join(FIXTURE, name)) as f:
            script.append(f"BEGIN;\n{f.read()}\n;INSERT INTO tz_schema_migrations (version, name)"
                          f" VALUES ({int(name[:3])}, '{name}');\nCOMMIT;")
    r = stack.psql_script("SET client_min_messages = warning;\n" + "\n".join(script), db=db)
    assert r.returncode == 0, r.stderr
    return conninfo


def q(stack, sql, db):
    return stack.psql(sql, db=db)


def fill_v8(stack, db):
    """Users, profiles, a follow, tokens, idempotency keys, payments in
    several states and payouts in several states, through the version-8
    functions."""
    ids = {k: str(uuid.uuid4()) for k in ("p_credit", "p_refund", "p_pending", "p_failed",
                                          "o_pending", "o_done", "o_rejected")}
    users = {}
    for key, role, name in [("a", "creator", "Registered Name"), ("b", "creator", "Bupe"),
                            ("f", "fan", "Fan One"), ("admin", "admin", "Root")]:
        row = q(stack, f"SELECT tz_register('{key}-{ids['p_credit'][:8]}@up.test', '{name}',"
                       f" '{role}', 'scrypt$x')::json->'user'->>'id'", db)
        users[key] = row[0][0]
    a, b, f, admin = users["a"], users["b"], users["f"], users["admin"]
    calls = [
        f"tz_api_creator_update('{a}', 'Chosen Name', 'bio', 'https://a.test/x.png', 'v1.k.enc',"
        f" 'Acct A', 'ZMW')",
        f"tz_api_follow('{f}', '{a}', true)",
        f"tz_refresh_issue('{f}', 'hash-{ids['p_credit']}', 3600)",
        f"tz_idem_begin('{f}', 'key-1', 'fp')",
        f"tz_idem_finish('{f}', 'key-1', 201, '{{}}')",
    ]
    for p in ("p_credit", "p_refund", "p_pending", "p_failed"):
        calls.append(f"tz_api_payment_create('{ids[p]}', '{f}', '{a}', 2500, 'ZMW', 'hi', 'sandbox',"
                     f" 1500, 1800, NULL)")
    calls += [
        f"tz_apply_event('sandbox', 'ev-1', '{ids['p_credit']}', 'success', 'tx1', 2500, 'ZMW')",
        f"tz_apply_event('sandbox', 'ev-2', '{ids['p_refund']}', 'success', 'tx2', 2500, 'ZMW')",
        f"tz_api_payment_refund('{ids['p_refund']}')",
        f"tz_apply_event('sandbox', 'ev-3', '{ids['p_failed']}', 'failed', NULL, NULL, NULL)",
        f"tz_audit('{admin}', 'payment.refund', 'payment', '{ids['p_refund']}', NULL, 'req-1')",
    ]
    for o in ("o_pending", "o_done", "o_rejected"):
        calls.append(f"tz_api_payout_request('{ids[o]}', '{a}', 500, 'ZMW', NULL, NULL, 100)")
    for action in ("approve", "process", "complete"):
        calls.append(f"tz_api_payout_action('{ids['o_done']}', '{action}', '{admin}', 'admin',"
                     f" 'BANK-1', 'req-2')")
    calls.append(f"tz_api_payout_action('{ids['o_rejected']}', 'reject', '{admin}', 'admin',"
                 f" 'no', 'req-3')")
    for call in calls:
        q(stack, f"SELECT {call}", db)
    return users, ids


def snapshot(stack, db):
    """Every row of every table, as text; users without full_name,
    creator_profiles without name, payments without the refund, dispute
    and polling columns, journal entries without their hashes and refresh
    tokens without their address and user agent (the columns the migration
    changes)."""
    snap = {t: q(stack, f"SELECT t::text FROM {t} t ORDER BY 1", db) for t in TABLES
            if t not in ("users", "payments", "journal_entries", "refresh_tokens", "accounts",
                         "postings")}
    # a system account's balance moves to its lanes (balances are compared
    # by test_system_balances_move_to_lane_0)
    snap["accounts"] = q(stack, "SELECT (id, kind, owner_id, provider, currency,"
                                " CASE WHEN owner_id IS NULL THEN NULL ELSE balance END)::text"
                                " FROM accounts ORDER BY 1", db)
    snap["postings"] = q(stack, "SELECT (id, entry_id, account_id, amount, currency, balance_after)::text"
                                " FROM postings ORDER BY 1", db)
    snap["refresh_tokens"] = q(stack, "SELECT (id, user_id, family_id, token_hash, expires_at,"
                                      " rotated_at, revoked_at, created_at)::text"
                                      " FROM refresh_tokens ORDER BY 1", db)
    snap["journal_entries"] = q(stack, "SELECT (id, reference, kind, payment_id, payout_id,"
                                       " created_at)::text FROM journal_entries ORDER BY 1", db)
    snap["payments"] = q(stack, "SELECT (id, fan_id, creator_id, amount, currency, fee_bps, fee, net,"
                                " status, provider, provider_transaction_id, message,"
                                " mobile_money_url, review_reason, expires_at, created_at,"
                                " updated_at)::text FROM payments ORDER BY 1", db)
    snap["users"] = q(stack, "SELECT (id, email, role, password_hash, created_at)::text"
                             " FROM users ORDER BY 1", db)
    snap["creator_profiles"] = q(stack, "SELECT (user_id, bio, avatar_url, bank_account_enc,"
                                        " account_name, followers, updated_at)::text"
                                        " FROM creator_profiles ORDER BY 1", db)
    return snap


def definitions(stack, db):
    """What the schema is made of, in comparable text: functions with their
    definitions and privileges, columns, constraints, indexes, triggers."""
    return {
        "functions": q(stack, "SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid),"
                              " coalesce(p.proacl::text, '') FROM pg_proc p"
                              " WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1", db),
        "columns": q(stack, "SELECT table_name, column_name, data_type, is_nullable,"
                            " coalesce(column_default, '') FROM information_schema.columns"
                            " WHERE table_schema = 'public' ORDER BY 1, 2", db),
        "constraints": q(stack, "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
                                " FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
                                " ORDER BY 1, 2", db),
        "indexes": q(stack, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
                            " ORDER BY 1", db),
        "triggers": q(stack, "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger"
                             " WHERE NOT tgisinternal ORDER BY 1", db),
        "tables": q(stack, "SELECT relname, relkind, coalesce(relacl::text, '') FROM pg_class"
                           " WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'S', 'v')"
                           " ORDER BY 1", db),
    }


@pytest.fixture(scope="module")
def upgraded(stack):
    conninfo = build_v8(stack, OLD_DB)
    users, ids = fill_v8(stack, OLD_DB)
    assert stack.tipzedctl("reconcile", conninfo=conninfo).returncode == 0
    before = snapshot(stack, OLD_DB)
    balances = q(stack, "SELECT id, balance FROM accounts WHERE owner_id IS NULL ORDER BY id", OLD_DB)
    names_before = dict(q(stack, "SELECT u.id, p.name FROM creator_profiles p"
                                 " JOIN users u ON u.id = p.user_id", OLD_DB))
    check = stack.tipzedctl("migrate", "--check", SQL_DIR, conninfo=conninfo)
    migrate = stack.tipzedctl("migrate", "--runtime-role", stack.app_role, SQL_DIR, conninfo=conninfo)
    yield {"conninfo": conninfo, "users": users, "ids": ids, "before": before, "balances": balances,
           "names_before": names_before, "check": check, "migrate": migrate}
    stack.drop_db(OLD_DB)
    stack.drop_db(FRESH_DB)


def test_check_lists_what_a_version_8_database_lacks(upgraded):
    r = upgraded["check"]
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert "pending: schema/009_api_names_and_privileges.sql" in lines
    assert "pending: schema/010_creator_name.sql" in lines
    assert not any(re.match(r"pending: schema/00[1-8]_", line) for line in lines), r.stdout
    funcs = sorted(n for n in os.listdir(os.path.join(SQL_DIR, "functions")) if n.endswith(".sql"))
    assert all(f"pending: functions/{n}" in lines for n in funcs), r.stdout


def test_version_8_migrates_with_data_intact(stack, upgraded):
    r = upgraded["migrate"]
    assert r.returncode == 0, r.stdout + r.stderr
    assert "applied schema/001" not in r.stdout and "applied schema/009" in r.stdout
    after = snapshot(stack, OLD_DB)
    for table, rows in upgraded["before"].items():
        assert after[table] == rows, f"{table} changed by the migration"
    assert stack.tipzedctl("reconcile", conninfo=upgraded["conninfo"]).returncode == 0
    steps = sorted(int(n[:3]) for n in os.listdir(os.path.join(SQL_DIR, "schema")) if n.endswith(".sql"))
    assert [v for v, in q(stack, "SELECT version FROM tz_schema_migrations ORDER BY 1", OLD_DB)] == \
        [str(v) for v in steps]
    again = stack.tipzedctl("migrate", "--check", SQL_DIR, conninfo=upgraded["conninfo"])
    assert again.returncode == 0 and "schema: up to date" in again.stdout, again.stdout


def test_system_balances_move_to_lane_0(stack, upgraded):
    """Step 039 moves each system account's balance to its lane 0
    sub-balance; the other lanes start at 0 and accounts.balance stays 0."""
    assert upgraded["migrate"].returncode == 0
    lanes = q(stack, "SELECT a.id, l.lane, l.balance, a.balance FROM accounts a"
                     " JOIN account_lanes l ON l.account_id = a.id"
                     " WHERE a.owner_id IS NULL ORDER BY a.id, l.lane", OLD_DB)
    old = dict(upgraded["balances"])
    assert old and any(int(b) != 0 for b in old.values())
    for account, before in old.items():
        mine = [(lane, b, cached) for a, lane, b, cached in lanes if a == account]
        assert [lane for lane, _, _ in mine] == [str(i) for i in range(16)]
        assert mine[0][1] == before and all(b == "0" for _, b, _ in mine[1:])
        assert all(cached == "0" for _, _, cached in mine)


def test_a_creator_keeps_the_name_last_chosen(stack, upgraded):
    names = dict(q(stack, "SELECT id, full_name FROM users", OLD_DB))
    users = upgraded["users"]
    assert names[users["a"]] == "Chosen Name" == upgraded["names_before"][users["a"]]
    assert names[users["b"]] == "Bupe" and names[users["f"]] == "Fan One"
    assert q(stack, "SELECT count(*) FROM information_schema.columns WHERE table_name ="
                    " 'creator_profiles' AND column_name = 'name'", OLD_DB) == [("0",)]


def test_existing_users_get_their_own_referral_codes(stack, upgraded):
    """Step 017 gives every user a code (unique, of the codes' alphabet)
    and none a referrer."""
    rows = q(stack, "SELECT referral_code, referred_by IS NULL, referral_rewarded_at IS NULL"
                    " FROM users", OLD_DB)
    assert len(rows) == len(upgraded["users"])
    assert len({code for code, _, _ in rows}) == len(rows)
    assert all(re.fullmatch(r"[A-HJ-NP-Z2-9]{8}", code) and none == unsettled == "t"
               for code, none, unsettled in rows), rows


def test_old_function_names_are_gone(stack, upgraded):
    names = ", ".join(f"'{n}'" for n in OLD_NAMES)
    assert q(stack, f"SELECT proname FROM pg_proc WHERE proname IN ({names})", OLD_DB) == []


def test_migrated_schema_equals_a_fresh_one(stack, upgraded):
    stack.scratch_db(FRESH_DB)
    fresh, migrated = definitions(stack, FRESH_DB), definitions(stack, OLD_DB)
    for part in fresh:
        assert migrated[part] == fresh[part], part


def test_the_api_works_on_the_migrated_database(stack, upgraded):
    """A new payment, created and credited by the runtime role."""
    a, f = upgraded["users"]["a"], upgraded["users"]["f"]
    p = str(uuid.uuid4())
    before = int(q(stack, f"SELECT balance FROM accounts WHERE owner_id = '{a}'", OLD_DB)[0][0])
    for call in [f"tz_api_payment_create('{p}', '{f}', '{a}', 1000, 'ZMW', '', 'sandbox', 1500,"
                 f" 1800, NULL, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, 0, 0)",
                 f"tz_api_apply_event('sandbox', 'ev-new', '{p}', 'success', 'tx9', 1000, 'ZMW')"]:
        stack.psql(f"SELECT {call}", db=OLD_DB, user=stack.app_role)
    assert q(stack, f"SELECT status FROM payments WHERE id = '{p}'", OLD_DB) == [("succeeded",)]
    after = int(q(stack, f"SELECT balance FROM accounts WHERE owner_id = '{a}'", OLD_DB)[0][0])
    assert after == before + 850
    public = stack.psql(f"SELECT tz_api_creator_public('{a}', 'ZMW')::json->>'name'",
                        db=OLD_DB, user=stack.app_role)
    assert public == [("Chosen Name",)]
    assert stack.tipzedctl("reconcile", conninfo=upgraded["conninfo"]).returncode == 0


def test_the_entries_made_before_021_form_a_chain_that_verifies(stack, upgraded):
    """Step 021 chains the existing entries in id order, with the canonical
    text it spells out; tz_verify_chain() recomputes them with the functions
    of sql/functions/ (the same text, or this fails), and the entries posted
    after the migration link onto them."""
    rows = q(stack, "SELECT id, encode(hash, 'hex'), coalesce(encode(prev_hash, 'hex'), '')"
                    " FROM journal_entries WHERE lane = 0 ORDER BY id", OLD_DB)
    old_ids = [i for i, in q(stack, "SELECT id FROM journal_entries ORDER BY id", OLD_DB)][:5]
    # step 039 keeps the chain made before it as lane 0's history
    assert len(rows) >= 5 and rows[0][2] == "" and [i for i, _, _ in rows[:5]] == old_ids
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for _, h, _ in rows)
    assert [p for _, _, p in rows[1:]] == [h for _, h, _ in rows[:-1]]
    assert q(stack, "SELECT entry_id, encode(hash, 'hex') FROM chain_lanes WHERE lane = 0", OLD_DB) == \
        [rows[-1][:2]]
    n = q(stack, "SELECT count(*) FROM journal_entries", OLD_DB)[0][0]
    r = stack.tipzedctl("verify-chain", conninfo=upgraded["conninfo"])
    assert r.returncode == 0 and f"chain: ok, {n} entries" in r.stdout, r.stdout + r.stderr


def test_a_refund_made_before_012_is_recorded_as_one(stack, upgraded):
    """Step 012 gives the payment refunded in full before it its refund row
    and totals, so that reconciliation and partial refunds see it."""
    p = upgraded["ids"]["p_refund"]
    assert q(stack, f"SELECT status, refunded_amount, refunded_fee FROM payments WHERE id = '{p}'",
             OLD_DB) == [("refunded", "2500", "375")]
    assert q(stack, f"SELECT amount, fee, status FROM refunds WHERE payment_id = '{p}'",
             OLD_DB) == [("2500", "375", "succeeded")]


# -- the tool itself ------------------------------------------------------------
@pytest.fixture
def sql_copy():
    d = tempfile.mkdtemp(prefix="tipzed-sql.")
    shutil.copytree(SQL_DIR, os.path.join(d, "sql"))
    os.chmod(d, 0o755)
    yield os.path.join(d, "sql")
    shutil.rmtree(d)


def test_only_a_changed_function_file_is_applied_again(stack, sql_copy):
    conninfo = stack.scratch_db("tz_scratch_migrate_tool")
    try:
        path = os.path.join(sql_copy, "functions", "50_payments.sql")
        with open(path, "a") as f:
            f.write("\n-- a comment is a change too\n")
        r = stack.tipzedctl("status", sql_copy, conninfo=conninfo)
        assert r.returncode == 1 and "pending: functions/50_payments.sql" in r.stdout, r.stdout
        assert r.stdout.count("pending: ") == 2, r.stdout     # the file and the digest
        r = stack.tipzedctl("migrate", sql_copy, conninfo=conninfo)
        assert r.returncode == 0, r.stdout + r.stderr
        assert [line for line in r.stdout.splitlines() if line.startswith("applied")] == \
            ["applied functions/50_payments.sql"]
        assert stack.tipzedctl("migrate", "--check", sql_copy, conninfo=conninfo).returncode == 0
        assert stack.tipzedctl("migrate", "--check", SQL_DIR, conninfo=conninfo).returncode == 1
    finally:
        stack.drop_db("tz_scratch_migrate_tool")


def test_a_failed_migration_applies_nothing(stack, sql_copy):
    conninfo = stack.scratch_db("tz_scratch_migrate_tool")
    try:
        with open(os.path.join(sql_copy, "schema", "998_good.sql"), "w") as f:
            f.write("CREATE TABLE tz_upgrade_probe (id int);\n")
        with open(os.path.join(sql_copy, "schema", "999_bad.sql"), "w") as f:
            f.write("ALTER TABLE no_such_table ADD COLUMN x int;\n")
        latest = max(int(n[:3]) for n in os.listdir(os.path.join(SQL_DIR, "schema"))
                     if n.endswith(".sql"))
        r = stack.tipzedctl("migrate", sql_copy, conninfo=conninfo)
        assert r.returncode == 1 and "nothing of it was applied" in r.stderr, r.stdout + r.stderr
        assert stack.psql("SELECT to_regclass('tz_upgrade_probe'),"
                          " (SELECT max(version) FROM tz_schema_migrations)",
                          db="tz_scratch_migrate_tool") == [("", str(latest))]
        r = stack.tipzedctl("status", sql_copy, conninfo=conninfo)
        assert r.returncode == 1 and "pending: schema/998_good.sql" in r.stdout, r.stdout
        assert "pending: functions/" not in r.stdout, r.stdout
    finally:
        stack.drop_db("tz_scratch_migrate_tool")


def test_a_function_changed_by_hand_is_pending_until_migrated(stack):
    db = "tz_scratch_migrate_tool"
    conninfo = stack.scratch_db(db)
    try:
        stack.psql("CREATE OR REPLACE FUNCTION tz_fee(p_gross bigint, p_bps int) RETURNS bigint"
                   " LANGUAGE sql IMMUTABLE AS 'SELECT 0::bigint'", db=db)
        r = stack.tipzedctl("status", SQL_DIR, conninfo=conninfo)
        assert r.returncode == 1 and "pending: tz_fee(bigint,integer) differs" in r.stdout, r.stdout
        r = stack.tipzedctl("migrate", SQL_DIR, conninfo=conninfo)
        assert r.returncode == 0 and "applied functions/10_common.sql" in r.stdout, r.stdout + r.stderr
        assert stack.psql("SELECT tz_fee(2500, 1500)", db=db) == [("375",)]
        assert stack.tipzedctl("status", SQL_DIR, conninfo=conninfo).returncode == 0
    finally:
        stack.drop_db(db)
