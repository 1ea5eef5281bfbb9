"""The ledger's invariants are enforced by PostgreSQL itself (SPEC §4):
immutability, balanced entries, non-negative wallets, idempotent posting,
the fee rule, and reconciliation."""
import uuid

import pytest

from tzclient import register


def accounts(stack, owner, currency="ZMW"):
    row = stack.psql(
        f"SELECT tz_account('provider_clearing', NULL, 'sandbox', '{currency}'),"
        f" tz_account('wallet', '{owner}', NULL, '{currency}'),"
        f" tz_account('platform_fees', NULL, NULL, '{currency}')")[0]
    return [int(x) for x in row]


def post(stack, ref, accts, amounts, currency="ZMW", check=True):
    sql = (f"SELECT entry_id, duplicate FROM tz_post_entry('{ref}', 'adjustment', NULL, NULL,"
           f" '{currency}', ARRAY{accts}::bigint[], ARRAY{amounts}::bigint[])")
    return stack.psql(sql, check=check)


@pytest.fixture
def wallet(stack, new_client):
    user = register(new_client(), role="creator")["user"]["id"]
    return user, accounts(stack, user)


def test_postings_and_entries_are_immutable(stack, wallet):
    _, (clearing, w, fees) = wallet
    post(stack, f"t:{uuid.uuid4()}", [clearing, w], [-100, 100])
    for sql in ["UPDATE postings SET amount = amount + 1 WHERE account_id = %d" % w,
                "DELETE FROM postings WHERE account_id = %d" % w,
                "UPDATE journal_entries SET kind = 'refund' WHERE id = (SELECT max(id) FROM journal_entries)",
                "DELETE FROM journal_entries WHERE id = (SELECT max(id) FROM journal_entries)",
                "TRUNCATE postings CASCADE"]:
        r = stack.psql(sql, check=False)
        assert r.returncode != 0 and "immutable" in r.stderr, sql


def test_unbalanced_entry_fails_at_commit(stack, wallet):
    _, (clearing, w, _) = wallet
    before = stack.psql("SELECT count(*) FROM postings")[0][0]
    r = stack.psql_script(f"""
      BEGIN;
      INSERT INTO journal_entries (reference, kind) VALUES ('t:{uuid.uuid4()}', 'adjustment');
      INSERT INTO postings (entry_id, account_id, amount, currency, balance_after)
        VALUES (currval('journal_entries_id_seq'), {w}, 100, 'ZMW', 100);
      INSERT INTO postings (entry_id, account_id, amount, currency, balance_after)
        VALUES (currval('journal_entries_id_seq'), {clearing}, -99, 'ZMW', -99);
      COMMIT;""")
    assert r.returncode != 0 and "unbalanced" in r.stderr
    assert stack.psql("SELECT count(*) FROM postings")[0][0] == before
    # a single-leg entry is refused too
    r = post(stack, f"t:{uuid.uuid4()}", [w], [0], check=False)
    assert r.returncode != 0


def test_wallet_never_negative(stack, wallet):
    owner, (clearing, w, _) = wallet
    post(stack, f"t:{uuid.uuid4()}", [clearing, w], [-500, 500])
    r = post(stack, f"t:{uuid.uuid4()}", [w, clearing], [-501, 501], check=False)
    assert r.returncode != 0 and "insufficient_funds" in r.stderr
    assert stack.psql(f"SELECT balance FROM accounts WHERE id = {w}")[0][0] == "500"
    # even a direct write of the cached balance cannot go below zero
    r = stack.psql(f"UPDATE accounts SET balance = -1 WHERE id = {w}", check=False)
    assert r.returncode != 0 and "wallet_not_negative" in r.stderr


def test_same_reference_posts_once(stack, wallet):
    _, (clearing, w, _) = wallet
    ref = f"payment:{uuid.uuid4()}:credit"
    first = post(stack, ref, [clearing, w], [-300, 300])
    second = post(stack, ref, [clearing, w], [-300, 300])
    assert first[0][1] == "f" and second[0][1] == "t" and first[0][0] == second[0][0]
    assert stack.psql(f"SELECT count(*) FROM postings p JOIN journal_entries e ON e.id = p.entry_id"
                      f" WHERE e.reference = '{ref}'")[0][0] == "2"
    assert stack.psql(f"SELECT balance FROM accounts WHERE id = {w}")[0][0] == "300"


def test_concurrent_debits_cannot_overdraw(stack, wallet):
    import threading
    _, (clearing, w, _) = wallet
    post(stack, f"t:{uuid.uuid4()}", [clearing, w], [-1000, 1000])
    results = []

    def debit():
        r = post(stack, f"t:{uuid.uuid4()}", [w, clearing], [-300, 300], check=False)
        results.append(r.returncode)

    threads = [threading.Thread(target=debit) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(0) == 3
    assert stack.psql(f"SELECT balance FROM accounts WHERE id = {w}")[0][0] == "100"


@pytest.mark.parametrize("gross,bps,fee", [
    (100, 1500, 15), (3, 1500, 0), (10, 1500, 2), (1, 250, 0), (20, 250, 1), (19, 250, 0),
    (2 ** 53, 10000, 2 ** 53), (2 ** 53, 0, 0), (12345, 1500, 1852), (333, 1500, 50)])
def test_sql_fee_rule(stack, gross, bps, fee):
    assert stack.psql(f"SELECT tz_fee({gross}, {bps})")[0][0] == str(fee)


def test_sql_fee_refuses_bad_input(stack):
    for args in ["0, 1500", "-5, 1500", "100, 10001", "100, -1"]:
        assert stack.psql(f"SELECT tz_fee({args})", check=False).returncode != 0


def test_reconcile_clean_then_names_corruption(stack, new_client):
    r = stack.tipzedctl("reconcile")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "reconciliation: ok" in r.stdout
    conninfo = stack.scratch_db("tz_scratch_reconcile")
    db = "tz_scratch_reconcile"
    stack.psql("INSERT INTO users (email, full_name, role, password_hash)"
               " VALUES ('s@example.com', 'S', 'creator', 'x')", db=db)
    uid = stack.psql("SELECT id FROM users", db=db)[0][0]
    acc = stack.psql(f"SELECT tz_account('provider_clearing', NULL, 'sandbox', 'ZMW'),"
                     f" tz_account('wallet', '{uid}', NULL, 'ZMW')", db=db)[0]
    stack.psql(f"SELECT tz_post_entry('x1', 'adjustment', NULL, NULL, 'ZMW',"
               f" ARRAY[{acc[0]}, {acc[1]}]::bigint[], ARRAY[-700, 700]::bigint[])", db=db)
    assert stack.tipzedctl("reconcile", conninfo=conninfo).returncode == 0
    stack.psql(f"UPDATE accounts SET balance = 650 WHERE id = {acc[1]}", db=db)
    r = stack.tipzedctl("reconcile", conninfo=conninfo)
    assert r.returncode == 1
    assert f"cached_balances\t{acc[1]}\tcached 650, postings sum to 700" in r.stdout
