"""The ledger's invariants are enforced by PostgreSQL itself, so
these tests speak SQL to the stack's database, bypassing the module:
immutability, balanced entries at commit, non-negative wallets, idempotent
posting, lock ordering under concurrency, the fee rule, the stored creator
figures, and reconciliation (including its speed on a million postings).

SQLSTATEs: TZ001 insufficient_funds, TZ002 immutable row, TZ003 malformed
or unbalanced entry, 22023 fee outside its domain (sql/functions/30_ledger.sql)."""
import re
import threading
import uuid

import pytest

from tzclient import register

SCRATCH = "tz_scratch_ledger"


# -- helpers ---------------------------------------------------------------
def run_sql(stack, script, db="tipzed", user="tipzed"):
    """Runs a multi-statement script through psql (ON_ERROR_STOP, verbose
    errors).  Returns (ok, sqlstate or None, stderr)."""
    r = stack.psql_script("\\set VERBOSITY verbose\n" + script, db=db, user=user)
    m = re.search(r"ERROR:\s+([0-9A-Z]{5}):", r.stderr)
    return r.returncode == 0, (m.group(1) if m else None), r.stderr


def one(stack, sql, db="tipzed"):
    return stack.psql(sql, db=db)[0][0]


def accounts(stack, owner, currency="ZMW", db="tipzed"):
    """[provider_clearing(sandbox), the owner's wallet, platform_fees] ids."""
    row = stack.psql(
        f"SELECT tz_account('provider_clearing', NULL, 'sandbox', '{currency}'),"
        f" tz_account('wallet', '{owner}', NULL, '{currency}'),"
        f" tz_account('platform_fees', NULL, NULL, '{currency}')", db=db)[0]
    return [int(x) for x in row]


def post_sql(ref, accts, amounts, currency="ZMW", kind="adjustment"):
    return (f"SELECT entry_id, duplicate FROM tz_post_entry('{ref}', '{kind}', NULL, NULL,"
            f" '{currency}', ARRAY{list(accts)}::bigint[], ARRAY{list(amounts)}::bigint[])")


def post(stack, ref, accts, amounts, currency="ZMW", check=True, db="tipzed"):
    return stack.psql(post_sql(ref, accts, amounts, currency), check=check, db=db)


def post_state(stack, ref, accts, amounts, currency="ZMW", kind="adjustment"):
    """Posts and returns (ok, sqlstate, stderr)."""
    return run_sql(stack, post_sql(ref, accts, amounts, currency, kind) + ";")


def snapshot(stack, ids):
    """Balances of the accounts plus the ledger's row counts."""
    ids = ",".join(str(i) for i in ids)
    return stack.psql(f"SELECT (SELECT count(*) FROM journal_entries), (SELECT count(*) FROM postings),"
                      f" (SELECT string_agg(id || '=' || balance, ',' ORDER BY id) FROM accounts"
                      f"   WHERE id IN ({ids}))")[0]


def ref():
    return f"test:{uuid.uuid4()}"


def direct_entry(reference, kind="adjustment"):
    """An entry inserted by hand, bypassing tz_post_entry: it must name a
    hash (NOT NULL, UNIQUE); here one that links it to nothing, for tests
    of the other rules, whose entries never commit on the shared ledger."""
    return (f"INSERT INTO journal_entries (reference, kind, hash)"
            f" VALUES ('{reference}', '{kind}', sha256(convert_to('{reference}', 'UTF8')))")


@pytest.fixture
def wallet(stack, new_client):
    user = register(new_client(), role="creator")["user"]["id"]
    return user, accounts(stack, user)


def funded(stack, new_client, amount):
    """A new creator whose wallet holds `amount`: (user, clearing, wallet, fees)."""
    user = register(new_client(), role="creator")["user"]["id"]
    clearing, w, fees = accounts(stack, user)
    post(stack, ref(), [clearing, w], [-amount, amount])
    return user, clearing, w, fees


# -- append-only -------------------------------------------------------------
def test_postings_and_entries_are_immutable(stack, wallet):
    _, (clearing, w, _) = wallet
    post(stack, ref(), [clearing, w], [-100, 100])
    before = snapshot(stack, [clearing, w])
    for sql in [f"UPDATE postings SET amount = amount + 1 WHERE account_id = {w}",
                f"UPDATE postings SET balance_after = 0 WHERE account_id = {w}",
                f"DELETE FROM postings WHERE account_id = {w}",
                "UPDATE journal_entries SET kind = 'refund' WHERE id = (SELECT max(id) FROM journal_entries)",
                "DELETE FROM journal_entries WHERE id = (SELECT max(id) FROM journal_entries)",
                "TRUNCATE postings",
                "TRUNCATE journal_entries CASCADE",
                "TRUNCATE accounts CASCADE"]:
        ok, state, err = run_sql(stack, sql + ";")
        assert not ok and state == "TZ002" and "immutable" in err, (sql, err)
    assert snapshot(stack, [clearing, w]) == before


# -- balanced at commit ------------------------------------------------------
def test_unbalanced_entry_fails_at_commit(stack, wallet):
    _, (clearing, w, _) = wallet
    before = snapshot(stack, [clearing, w])
    r = stack.psql_script(f"""
      \\set VERBOSITY verbose
      BEGIN;
      {direct_entry(ref())};
      INSERT INTO postings (entry_id, account_id, amount, currency, balance_after)
        VALUES (currval('journal_entries_id_seq'), {w}, 100, 'ZMW', 100);
      INSERT INTO postings (entry_id, account_id, amount, currency, balance_after)
        VALUES (currval('journal_entries_id_seq'), {clearing}, -99, 'ZMW', -99);
      \\echo inserted, committing
      COMMIT;""")
    # every statement passed; the commit refused the entry
    assert "inserted, committing" in r.stdout, r.stdout + r.stderr
    assert r.returncode != 0 and "ERROR:  TZ003: journal entry" in r.stderr and "unbalanced" in r.stderr
    assert snapshot(stack, [clearing, w]) == before


def test_entry_needs_two_postings(stack, wallet):
    _, (clearing, w, _) = wallet
    before = snapshot(stack, [clearing, w])
    # an entry without postings, committed alone
    ok, state, err = run_sql(stack, f"{direct_entry(ref())};")
    assert not ok and state == "TZ003" and "0 posting(s)" in err, err
    # a single posting
    ok, state, err = run_sql(stack, f"""
      BEGIN;
      {direct_entry(ref())};
      INSERT INTO postings (entry_id, account_id, amount, currency, balance_after)
        VALUES (currval('journal_entries_id_seq'), {clearing}, 5, 'ZMW', 5);
      COMMIT;""")
    assert not ok and state == "TZ003", err
    assert snapshot(stack, [clearing, w]) == before


def test_postings_added_to_a_committed_entry_are_checked(stack, wallet):
    _, (clearing, w, _) = wallet
    entry = post(stack, ref(), [clearing, w], [-100, 100])[0][0]
    ok, state, err = run_sql(stack, f"INSERT INTO postings (entry_id, account_id, amount, currency,"
                                    f" balance_after) VALUES ({entry}, {clearing}, 1, 'ZMW', 0);")
    assert not ok and state == "TZ003" and "unbalanced" in err, err
    assert one(stack, f"SELECT count(*) FROM postings WHERE entry_id = {entry}") == "2"


def test_malformed_entries_are_refused_by_the_posting_function(stack, wallet):
    user, (clearing, w, fees) = wallet
    usd = accounts(stack, user, "USD")[1]
    before = snapshot(stack, [clearing, w, fees, usd])
    for accts, amounts, why in [
            ([w], [0], "at least two"),
            ([clearing, w], [0, 0], "at least two"),
            ([clearing, w, fees], [-100, 100, 0], None),          # zero leg skipped: valid
            ([clearing, w], [-100, 99], "sum to"),
            ([clearing, w], [-100], "equal length"),
            ([clearing, usd], [-100, 100], "not in ZMW"),         # currency of the account
            ([clearing, 2 ** 62], [-100, 100], "unknown")]:
        ok, state, err = post_state(stack, ref(), accts, amounts)
        if why is None:
            assert ok, err
            before = snapshot(stack, [clearing, w, fees, usd])
            continue
        assert not ok and state == "TZ003" and why in err, (accts, amounts, err)
        assert snapshot(stack, [clearing, w, fees, usd]) == before
    # a direct posting in another currency than its account's
    entry = one(stack, "SELECT max(id) FROM journal_entries")
    ok, state, err = run_sql(stack, f"INSERT INTO postings (entry_id, account_id, amount, currency,"
                                    f" balance_after) VALUES ({entry}, {usd}, 5, 'ZMW', 5);")
    assert not ok and state == "23503", err


# -- no overdraft ---------------------------------------------------------------
def test_wallet_never_negative_and_a_refused_entry_leaves_nothing(stack, wallet):
    _, (clearing, w, fees) = wallet
    post(stack, ref(), [clearing, w], [-500, 500])
    before = snapshot(stack, [clearing, w, fees])
    r = ref()
    ok, state, err = post_state(stack, r, [w, clearing], [-501, 501])
    assert not ok and state == "TZ001" and "insufficient_funds" in err, err
    # a debit leg after a credit leg of the same entry is refused too
    ok, state, err = post_state(stack, ref(), [fees, w, clearing], [1, -502, 501])
    assert not ok and state == "TZ001", err
    assert snapshot(stack, [clearing, w, fees]) == before
    assert one(stack, f"SELECT count(*) FROM journal_entries WHERE reference = '{r}'") == "0"
    # the refused reference stays free: a later, covered attempt posts
    ok, _, err = post_state(stack, r, [w, clearing], [-500, 500])
    assert ok, err
    assert one(stack, f"SELECT balance FROM accounts WHERE id = {w}") == "0"
    # even a direct write of the cached balance cannot go below zero
    ok, state, err = run_sql(stack, f"UPDATE accounts SET balance = -1 WHERE id = {w};")
    assert not ok and state == "23514" and "wallet_not_negative" in err, err


def test_balance_after_is_the_running_balance(stack, wallet):
    _, (clearing, w, fees) = wallet
    post(stack, ref(), [clearing, w, fees], [-1000, 850, 150])
    post(stack, ref(), [clearing, w, fees], [-100, 85, 15])
    post(stack, ref(), [w, clearing], [-900, 900])
    rows = stack.psql(f"SELECT amount, balance_after FROM postings WHERE account_id = {w} ORDER BY id")
    assert rows == [("850", "850"), ("85", "935"), ("-900", "35")]


# -- idempotent posting ----------------------------------------------------------
def test_same_reference_posts_once(stack, wallet):
    _, (clearing, w, _) = wallet
    r = f"payment:{uuid.uuid4()}:credit"
    first = post(stack, r, [clearing, w], [-300, 300])
    before = snapshot(stack, [clearing, w])
    second = post(stack, r, [clearing, w], [-300, 300])
    assert first[0][1] == "f" and second[0][1] == "t" and first[0][0] == second[0][0]
    assert snapshot(stack, [clearing, w]) == before
    assert one(stack, f"SELECT count(*) FROM postings p JOIN journal_entries e ON e.id = p.entry_id"
                      f" WHERE e.reference = '{r}'") == "2"
    assert one(stack, f"SELECT balance FROM accounts WHERE id = {w}") == "300"
    # the same reference for another kind of movement is a caller's error
    ok, state, err = post_state(stack, r, [w, clearing], [-300, 300], kind="refund")
    assert not ok and state == "TZ003" and "different movement" in err, err
    assert snapshot(stack, [clearing, w]) == before


def test_concurrent_same_reference_posts_once(stack, wallet):
    _, (clearing, w, _) = wallet
    r = ref()
    out = []
    threads = [threading.Thread(target=lambda: out.append(post(stack, r, [clearing, w], [-40, 40])))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(row[0][1] for row in out) == ["f"] + ["t"] * 5
    assert one(stack, f"SELECT balance FROM accounts WHERE id = {w}") == "40"


# -- concurrency -------------------------------------------------------------------
def test_concurrent_debits_cannot_overdraw(stack, new_client):
    _, clearing, w, _ = funded(stack, new_client, 1000)
    results = []

    def debit():
        results.append(post_state(stack, ref(), [w, clearing], [-300, 300]))

    threads = [threading.Thread(target=debit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(ok for ok, _, _ in results) == 3
    assert all(state == "TZ001" for ok, state, _ in results if not ok), results
    assert one(stack, f"SELECT balance FROM accounts WHERE id = {w}") == "100"


def test_opposite_transfers_do_not_deadlock(stack, new_client):
    """Accounts are locked in id order, so A->B and B->A at the same time
    queue instead of deadlocking (40P01)."""
    _, _, a, _ = funded(stack, new_client, 1000)
    _, _, b, _ = funded(stack, new_client, 1000)
    results = []

    def transfers(src, dst):
        script = "".join(post_sql(ref(), [src, dst], [-7, 7]) + ";\n" for _ in range(25))
        results.append(run_sql(stack, script))

    threads = [threading.Thread(target=transfers, args=(a, b) if i % 2 else (b, a)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(ok for ok, _, _ in results), [err for ok, _, err in results if not ok]
    assert stack.psql(f"SELECT balance FROM accounts WHERE id IN ({a}, {b}) ORDER BY id") == \
        [("1000",), ("1000",)]


def test_first_use_of_an_account_is_race_safe(stack, wallet):
    user, _ = wallet
    ids = []
    threads = [threading.Thread(target=lambda: ids.append(
        one(stack, f"SELECT tz_account('wallet', '{user}', NULL, 'NGN')"))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 1 and len(ids) == 6
    assert one(stack, f"SELECT count(*) FROM accounts WHERE owner_id = '{user}' AND currency = 'NGN'") == "1"


def test_account_identity(stack, wallet):
    user, (clearing, w, fees) = wallet
    assert accounts(stack, user) == [clearing, w, fees]           # one account per identity
    assert int(one(stack, f"SELECT tz_account('wallet', '{user}', NULL, 'USD')")) not in (w,)
    assert one(stack, "SELECT tz_account('provider_clearing', NULL, 'stripe', 'ZMW')") != str(clearing)
    for args, state in [(f"'platform_fees', '{user}', NULL, 'ZMW'", "22023"),
                        ("'wallet', NULL, NULL, 'ZMW'", "22023"),
                        (f"'wallet', '{user}', NULL, 'zmw'", "23514"),
                        ("'treasury', NULL, NULL, 'ZMW'", "23514")]:
        ok, got, err = run_sql(stack, f"SELECT tz_account({args});")
        assert not ok and got == state, (args, err)
    ok, got, err = run_sql(stack, "INSERT INTO accounts (kind, currency) VALUES ('platform_fees', 'ZMW');")
    assert not ok and got == "23505", err


# -- fee rule ---------------------------------------------------------------------
# tz_fee() is the one definition of the platform fee: F = round-half-up(G * bps
# / 10000) in exact integers, for G in 1 .. 2^53 and bps in 0 .. 10000.
MAX53 = 2 ** 53
FEE_TABLE = [
    (100, 1500, 15),             # 15% of 100
    (3, 1500, 0),                # 0.45 rounds down
    (10, 1500, 2),               # 1.5 rounds up
    (1, 250, 0),                 # 2.5% of 1 = 0.025
    (20, 250, 1),                # 0.5 rounds up
    (19, 250, 0),                # 0.475
    (60, 250, 2),                # 1.5 rounds up
    (1, 5000, 1),                # 0.5 of the smallest unit
    (1, 4999, 0),                # 0.4999
    (1, 1, 0),                   # 0.0001
    (5000, 1, 1),                # exactly 0.5
    (4999, 1, 0),                # 0.4999
    (12345, 1500, 1852),         # 1851.75
    (333, 1500, 50),             # 49.95
    (2500, 1500, 375),           # K25.00 at 15%
    (9999, 1500, 1500),          # 1499.85
    (10001, 1500, 1500),         # 1500.15
    (100, 0, 0),                 # no fee
    (1, 0, 0),
    (100, 10000, 100),           # everything
    (1, 10000, 1),
    (MAX53, 10000, MAX53),       # the largest amount, whole
    (MAX53, 1500, 1351079888211149),       # 1351079888211148.8
    (MAX53, 1, 900719925474),              # 900719925474.0992
    (MAX53 - 1, 9999, 9006298534815517)]   # ...516.9009
FEE_REFUSED = [
    (2 ** 63 - 1, 1500),         # would overflow a naive G * bps
    (MAX53 + 1, 1500),           # beyond the largest amount
    (MAX53 + 1, 0), (2 ** 63 - 1, 10000),
    (0, 1500), (-1, 1500), (-100, 1500), (-2 ** 63, 1500),   # gross must be positive
    (100, -1), (100, 10001), (100, 2 ** 31 - 1), (100, -2 ** 31)]   # bps within 0..10000


def fee_call(gross, bps):
    return f"tz_fee(({gross})::bigint, ({bps})::int)"


def test_fee_table(stack):
    sql = "SELECT " + ", ".join(fee_call(g, b) for g, b, _ in FEE_TABLE)
    assert list(stack.psql(sql)[0]) == [str(f) for _, _, f in FEE_TABLE]


def test_fee_matches_the_definition(stack):
    """round-half-up(G * bps / 10000) in exact integers, over the first
    thousands of amounts and random ones up to 2^53."""
    import random
    rnd = random.Random(7)
    bps = [0, 1, 99, 250, 1234, 1500, 4999, 5000, 9999, 10000]
    cases = [(n + 1, bps[n % len(bps)]) for n in range(2000)]
    cases += [(rnd.randint(1, 10 ** rnd.randint(1, 15)) if i % 2 else rnd.randint(1, MAX53),
               rnd.choice(bps + [rnd.randint(0, 10000)])) for i in range(2000)]
    values = ", ".join(f"({i}, {g}::bigint, {b})" for i, (g, b) in enumerate(cases))
    rows = stack.psql(f"SELECT i, tz_fee(g, b) FROM (VALUES {values}) v(i, g, b) ORDER BY i")
    assert [int(f) for _, f in rows] == [(g * b + 5000) // 10000 for g, b in cases]


def test_fee_refuses_what_is_outside_its_domain(stack):
    for gross, bps in FEE_REFUSED:
        ok, state, err = run_sql(stack, f"SELECT {fee_call(gross, bps)};")
        assert not ok and state == "22023", (gross, bps, err)


def test_payment_fee_is_tz_fee(stack, new_client):
    """A payment's stored fee and net come from tz_fee(), the only rule."""
    creator = register(new_client(), role="creator")["user"]["id"]
    fan = register(new_client(), role="fan")["user"]["id"]
    for gross, bps, fee in [(12345, 1500, 1852), (10, 1500, 2), (60, 250, 2)]:
        p = str(uuid.uuid4())
        stack.psql(f"SELECT tz_api_payment_create('{p}', '{fan}', '{creator}', {gross}, 'ZMW',"
                   f" '', 'sandbox', {bps}, 1800, NULL, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, 0, 0)")
        assert stack.psql(f"SELECT fee, net FROM payments WHERE id = '{p}'") == \
            [(str(fee), str(gross - fee))]


# -- creators ---------------------------------------------------------------------
def test_creator_profile_exists_from_registration(stack, new_client):
    creator = register(new_client(), role="creator", full_name="Mwila Banda")["user"]["id"]
    fan = register(new_client(), role="fan")["user"]["id"]
    assert stack.psql(f"SELECT u.full_name, p.bio, p.followers FROM creator_profiles p"
                      f" JOIN users u ON u.id = p.user_id WHERE p.user_id = '{creator}'") \
        == [("Mwila Banda", "", "0")]
    assert one(stack, f"SELECT count(*) FROM creator_profiles WHERE user_id = '{fan}'") == "0"
    for sql in [f"UPDATE creator_profiles SET bio = repeat('x', 1001) WHERE user_id = '{creator}'",
                f"UPDATE creator_profiles SET avatar_url = 'https://a/' || repeat('x', 2040)"
                f" WHERE user_id = '{creator}'",
                f"UPDATE creator_profiles SET followers = -1 WHERE user_id = '{creator}'",
                f"INSERT INTO follows (fan_id, creator_id) VALUES ('{creator}', '{creator}')"]:
        ok, state, err = run_sql(stack, sql + ";")
        assert not ok and state == "23514", (sql, err)
    ok, _, err = run_sql(stack, f"UPDATE creator_profiles SET bio = repeat('é', 1000)"
                                f" WHERE user_id = '{creator}';")
    assert ok, err


def test_stored_creator_figures_match_their_sources(stack, new_client):
    """earnings = the creator's postings (wallet, receivable and rolling
    reserve) of payment (from a provider or a wallet), refund and dispute
    entries, top-ups aside, and followers = rows
    of follows, for every creator; exercised here with a credited and a
    refunded payment and a follow (and whatever earlier tests left: wallet
    tips, memberships, a creator's own top-ups)."""
    creator = register(new_client(), role="creator")["user"]["id"]
    fan = register(new_client(), role="fan")["user"]["id"]
    payments = [str(uuid.uuid4()), str(uuid.uuid4())]
    for p in payments:
        stack.psql(f"SELECT tz_api_payment_create('{p}', '{fan}', '{creator}', 2500, 'ZMW', 'hi',"
                   f" 'sandbox', 1500, 1800, NULL, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, 0, 0)")
        stack.psql(f"SELECT tz_api_apply_event('sandbox', 'ev:{p}', '{p}', 'success', NULL, 2500, 'ZMW')")
    stack.psql(f"SELECT tz_api_refund_begin('{payments[1]}', '{uuid.uuid4()}', NULL, NULL, 'asked',"
               f" NULL, NULL, '{{sandbox}}', '{{sandbox}}')")
    stack.psql(f"SELECT tz_api_follow('{fan}', '{creator}', true)")
    assert stack.psql(f"SELECT s.earnings, p.followers FROM creator_profiles p"
                      f" JOIN creator_stats s ON s.creator_id = p.user_id AND s.currency = 'ZMW'"
                      f" WHERE p.user_id = '{creator}'") == [("2125", "1")]
    mismatches = stack.psql("""
      SELECT coalesce(s.creator_id, l.owner_id), s.earnings, l.total
        FROM creator_stats s
        FULL JOIN (SELECT a.owner_id, a.currency, sum(p.amount) AS total
                     FROM postings p JOIN journal_entries e ON e.id = p.entry_id
                     JOIN accounts a ON a.id = p.account_id
                     JOIN creator_profiles c ON c.user_id = a.owner_id
                     LEFT JOIN payments pay ON pay.id = e.payment_id
                    WHERE a.kind IN ('wallet', 'creator_receivable', 'reserve_hold')
                      AND e.kind IN ('payment', 'wallet_payment', 'refund', 'dispute_hold',
                                     'dispute_release')
                      AND pay.purpose IS DISTINCT FROM 'topup'
                    GROUP BY a.owner_id, a.currency) l
          ON l.owner_id = s.creator_id AND l.currency = s.currency
       WHERE coalesce(s.earnings, 0) <> coalesce(l.total, 0)
      UNION ALL
      SELECT p.user_id, p.followers, count(f.fan_id)
        FROM creator_profiles p LEFT JOIN follows f ON f.creator_id = p.user_id
       GROUP BY p.user_id HAVING p.followers <> count(f.fan_id)""")
    assert mismatches == []


# -- reconciliation -----------------------------------------------------------------
def test_reconcile_clean_on_the_live_ledger(stack):
    assert stack.psql("SELECT * FROM tz_reconcile_ledger()") == []
    r = stack.tipzedctl("reconcile")
    assert r.returncode == 0 and "reconciliation: ok" in r.stdout, r.stdout + r.stderr


def test_reconcile_names_each_corruption(stack):
    conninfo = stack.scratch_db(SCRATCH)
    db = SCRATCH
    stack.psql("INSERT INTO users (email, full_name, role, password_hash) VALUES"
               " ('s1@example.com', 'S', 'creator', 'x'), ('s2@example.com', 'T', 'creator', 'x')", db=db)
    u1, u2 = [r[0] for r in stack.psql("SELECT id FROM users ORDER BY email", db=db)]
    clearing, w1, fees = accounts(stack, u1, db=db)
    w2 = accounts(stack, u2, db=db)[1]
    for target in (w1, w2, w1, w2):
        post(stack, ref(), [clearing, target, fees], [-1000, 850, 150], db=db)
    assert stack.psql("SELECT * FROM tz_reconcile_ledger()", db=db) == []
    assert stack.tipzedctl("reconcile", conninfo=conninfo).returncode == 0

    # 1. a cached balance changed behind the ledger's back
    stack.psql(f"UPDATE accounts SET balance = 1650 WHERE id = {w1}", db=db)
    # 2. a posting's balance_after rewritten (guard disabled by the owner)
    bad_posting = one(stack, f"SELECT min(id) FROM postings WHERE account_id = {w2}", db=db)
    ok, _, err = run_sql(stack, f"""
      ALTER TABLE postings DISABLE TRIGGER postings_immutable;
      UPDATE postings SET balance_after = 9 WHERE id = {bad_posting};
      ALTER TABLE postings ENABLE TRIGGER postings_immutable;""", db=db)
    assert ok, err
    # 3. an unbalanced entry and 4. an entry without postings (checks disabled)
    ok, _, err = run_sql(stack, f"""
      ALTER TABLE postings DISABLE TRIGGER postings_balanced;
      ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_balanced;
      {direct_entry('bad-sum')};
      INSERT INTO postings (entry_id, account_id, amount, currency, balance_after)
        VALUES (currval('journal_entries_id_seq'), {clearing}, -5, 'ZMW',
                (SELECT balance - 5 FROM account_lanes WHERE account_id = {clearing} AND lane = 0)),
               (currval('journal_entries_id_seq'), {fees}, 4, 'ZMW',
                (SELECT balance + 4 FROM account_lanes WHERE account_id = {fees} AND lane = 0));
      {direct_entry('empty')};
      ALTER TABLE postings ENABLE TRIGGER postings_balanced;
      ALTER TABLE journal_entries ENABLE TRIGGER journal_entries_balanced;
      UPDATE account_lanes SET balance = balance - 5 WHERE account_id = {clearing} AND lane = 0;
      UPDATE account_lanes SET balance = balance + 4 WHERE account_id = {fees} AND lane = 0;""", db=db)
    assert ok, err
    # 6. a system account's sub-balance changed, and 7. its accounts.balance
    #    (kept at 0: the balance is the lanes')
    lane, sub = stack.psql(f"SELECT lane, balance FROM account_lanes WHERE account_id = {fees}"
                           " ORDER BY lane DESC LIMIT 1", db=db)[0]
    stack.psql(f"UPDATE account_lanes SET balance = balance + 1 WHERE account_id = {fees}"
               f" AND lane = {lane}", db=db)
    stack.psql(f"UPDATE accounts SET balance = 7 WHERE id = {clearing}", db=db)
    # 5. a negative wallet (its constraint dropped)
    ok, _, err = run_sql(stack, f"""
      ALTER TABLE accounts DROP CONSTRAINT wallet_not_negative;
      UPDATE accounts SET balance = -5 WHERE id = {w2};""", db=db)
    assert ok, err

    bad_sum, empty = [r[0] for r in stack.psql(
        "SELECT id FROM journal_entries WHERE reference IN ('bad-sum', 'empty') ORDER BY reference", db=db)]
    found = set(stack.psql("SELECT check_name, id, detail FROM tz_reconcile_ledger()", db=db))
    assert found == {
        ("entries_balanced", bad_sum, "2 posting(s); sums: ZMW -1"),
        ("entries_balanced", empty, "0 posting(s); sums: none"),
        ("cached_balances", str(w1), "cached 1650, postings sum to 1700"),
        ("cached_balances", str(w2), f"posting {bad_posting}: balance_after 9, running sum 850"),
        ("cached_balances", str(w2), "cached -5, postings sum to 1700"),
        ("no_negative_wallets", str(w2), "balance -5"),
        ("cached_balances", str(fees), f"lane {lane}: sub-balance {int(sub) + 1}, its postings sum to {sub}"),
        ("cached_balances", str(clearing), "a system account's balance is its lanes': accounts.balance"
                                           " is 7, not 0"),
    }, found
    r = stack.tipzedctl("reconcile", conninfo=conninfo)
    assert r.returncode == 1
    for check, id_, detail in found:
        assert f"{check}\t{id_}\t{detail}" in r.stdout, r.stdout


MILLION = """
-- 1,000,000 postings: 500,000 entries moving money from provider clearing
-- to one of 2,000 wallets, with cached balances and balance_after right.
SET session_replication_role = replica;   -- bulk load: triggers and keys off
INSERT INTO users (id, email, full_name, role, password_hash)
SELECT ('00000000-0000-4000-a000-' || lpad(to_hex(g), 12, '0'))::uuid,
       'c' || g || '@gen.test', 'C', 'creator', 'x'
  FROM generate_series(1, 2000) g;
SELECT tz_account('provider_clearing', NULL, 'sandbox', 'ZMW');
INSERT INTO accounts (kind, owner_id, currency) SELECT 'wallet', id, 'ZMW' FROM users ORDER BY id;
-- (hashes that chain nothing: reconciliation is what is measured here)
INSERT INTO journal_entries (id, reference, kind, hash) OVERRIDING SYSTEM VALUE
SELECT g, 'gen:' || g, 'adjustment', sha256(int8send(g)) FROM generate_series(1, 500000) g;
SELECT setval('journal_entries_id_seq', 500000);
CREATE TEMP TABLE legs AS
SELECT g AS entry_id, a AS account_id, CASE WHEN a = c THEN -m ELSE m END AS amount,
       2 * g + (a <> c)::int AS ord
  FROM (SELECT g, (SELECT id FROM accounts WHERE kind = 'provider_clearing') AS c,
               (SELECT min(id) FROM accounts WHERE kind = 'wallet') + g % 2000 AS w,
               100 + g % 900 AS m
          FROM generate_series(1, 500000) g) x, LATERAL (VALUES (c), (w)) v(a);
INSERT INTO postings (entry_id, account_id, amount, currency, balance_after)
SELECT entry_id, account_id, amount, 'ZMW',
       sum(amount) OVER (PARTITION BY account_id ORDER BY ord)
  FROM legs ORDER BY ord;
UPDATE accounts a SET balance = s.total
  FROM (SELECT account_id, sum(amount) AS total FROM legs GROUP BY account_id) s
 WHERE s.account_id = a.id AND a.owner_id IS NOT NULL;
-- the clearing account's sub-balances (its lanes; triggers are off): every
-- posting is of lane 0
INSERT INTO account_lanes (account_id, lane, balance)
SELECT a.id, l.lane, CASE WHEN l.lane = 0 THEN (SELECT sum(amount) FROM legs WHERE account_id = a.id)
                          ELSE 0 END
  FROM accounts a CROSS JOIN chain_lanes l WHERE a.kind = 'provider_clearing';
"""


def test_reconcile_a_million_postings_clean(stack):
    """Reconciliation at scale finds nothing on a consistent million-posting
    ledger (its speed is measured by make bench, not here)."""
    db = SCRATCH + "_1m"
    stack.scratch_db(db)
    try:
        r = stack.psql_script("BEGIN;\n" + MILLION + "COMMIT;\n", db=db, user="postgres")
        assert r.returncode == 0, r.stderr
        stack.psql("VACUUM ANALYZE accounts, journal_entries, postings", db=db)
        assert one(stack, "SELECT count(*) FROM postings", db=db) == "1000000"
        assert stack.psql("SELECT * FROM tz_reconcile_ledger()", db=db) == []
    finally:
        stack.psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)", db="postgres", user="postgres")
