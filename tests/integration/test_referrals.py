"""Referral codes and the referral bonus.

Over HTTP: every user's code in the register, login and /auth/me answers,
codes unique, registering with a code (any case) records the referrer, bad
and unknown codes are a 422 naming referral_code.

In SQL, as the owner role (the payment code calls tz_referral_reward() in
the transaction that credits a payment): the bonus goes from promotions to
the referrer's cashback once per referred user, also when two connections
settle the referral at once; no referrer, no bonus; the first success
settles the referral even with a bonus of 0; the referrer sees the line in
the wallet history; reconciliation names a referral entry that is not what
it should be."""
import json
import random
import re
import threading
import time
import uuid

import pytest

from tzclient import assert_problem, login, register, unique_email

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE = re.compile(r"^[A-HJ-NP-Z2-9]{8}$")
SCRATCH = "tz_scratch_referrals"


def register_with(api, code, role="fan", email=None):
    return api.post("/auth/register", json={"email": email or unique_email("ref"),
                                            "password": "correct horse battery",
                                            "full_name": "Referred User", "role": role,
                                            "referral_code": code})


def referred(api, referrer):
    """A new fan registered with referrer's code: its session."""
    r = register_with(api, referrer["user"]["referral_code"])
    assert r.status == 201, r
    return dict(r.json)


def reward(stack, user_id, bonus, payment=None, db="tipzed"):
    pay = f"'{payment}'" if payment else "NULL"
    return int(stack.psql(f"SELECT tz_referral_reward('{user_id}', 'ZMW', {bonus}, {pay})",
                          db=db)[0][0])


def entries(stack, user_id, db="tipzed"):
    """The referral entries of a referred user: [(kind, payment_id)]."""
    return stack.psql(f"SELECT kind, coalesce(payment_id::text, '') FROM journal_entries"
                      f" WHERE reference = 'referral:{user_id}'", db=db)


def cashback(stack, user_id, db="tipzed"):
    rows = stack.psql(f"SELECT balance FROM accounts WHERE kind = 'cashback'"
                      f" AND owner_id = '{user_id}' AND currency = 'ZMW'", db=db)
    return int(rows[0][0]) if rows else None


def settled(stack, user_id, db="tipzed"):
    """Whether the user's referral is settled (referral_rewarded_at set)."""
    return stack.psql(f"SELECT referral_rewarded_at IS NOT NULL FROM users"
                      f" WHERE id = '{user_id}'", db=db) == [("t",)]


# -- codes over HTTP -------------------------------------------------------------
def test_every_user_has_a_code_in_every_answer(api):
    s = register(api)
    code = s["user"]["referral_code"]
    assert CODE.match(code), code
    r = login(api, s["email"], s["password"])
    assert r.status == 200 and r.json["user"]["referral_code"] == code
    me = api.get("/auth/me", token=s["access_token"])
    assert me.status == 200 and me.json == s["user"]


def test_codes_are_unique(api, stack):
    codes = {register(api)["user"]["referral_code"] for _ in range(6)}
    assert len(codes) == 6
    assert stack.psql("SELECT count(*) = count(DISTINCT referral_code), bool_and(referral_code"
                      " ~ '^[A-HJ-NP-Z2-9]{8}$') FROM users") == [("t", "t")]


def test_registering_with_a_code_records_the_referrer(api, stack):
    a = register(api, role="creator")
    b = register_with(api, a["user"]["referral_code"].lower())   # any case
    assert b.status == 201, b
    b_id = b.json["user"]["id"]
    assert b.json["user"]["referral_code"] != a["user"]["referral_code"]
    assert stack.psql(f"SELECT referred_by, referral_rewarded_at IS NULL FROM users"
                      f" WHERE id = '{b_id}'") == [(a["user"]["id"], "t")]
    # without a code (or with null) there is no referrer
    for c in (register(api), register_with(api, None).json):
        assert stack.psql(f"SELECT referred_by IS NULL FROM users"
                          f" WHERE id = '{c['user']['id']}'") == [("t",)]


def test_unknown_or_malformed_codes_are_refused(api, stack):
    taken = register(api)
    free = taken["user"]["referral_code"]
    while stack.psql(f"SELECT count(*) FROM users WHERE referral_code = '{free}'") != [("0",)]:
        free = "".join(random.choice(ALPHABET) for _ in range(8))
    for code, message in [(free, "is not a known referral code"),
                          (free.lower(), "is not a known referral code"),
                          ("ABCD234", "is not a referral code"), ("O0O0O0O0", "is not a referral code"),
                          ("ABCD 234", "is not a referral code"), ("ABCD2345X", "is not a referral code"),
                          ("ABC\u00c9D234", "is not a referral code"), ("", "must not be empty"),
                          ("A" * 33, "must be at most 32 characters"), (12345678, "must be a string"),
                          (["ABCD2345"], "must be a string")]:
        email = unique_email("badref")
        p = assert_problem(register_with(api, code, email=email), 422, "validation_failed",
                           field="referral_code")
        assert p["errors"][0]["message"] == message, (code, p)
        assert stack.psql(f"SELECT count(*) FROM users WHERE email = '{email}'") == [("0",)]
    # a taken email with a good code is still a conflict
    r = register_with(api, taken["user"]["referral_code"], email=taken["email"])
    assert_problem(r, 409, "email_taken", field="email")


def test_a_user_cannot_refer_themselves(stack, api):
    a = register(api)["user"]["id"]
    r = stack.psql(f"UPDATE users SET referred_by = id WHERE id = '{a}'", check=False)
    assert r.returncode != 0 and "users_not_self_referred" in r.stderr, r.stderr


# -- the bonus, in SQL ---------------------------------------------------------------
def test_the_bonus_is_posted_once(api, stack, new_client):
    a = register(new_client(), role="creator")
    b = referred(new_client(), a)
    a_id, b_id = a["user"]["id"], b["user"]["id"]
    payment = str(uuid.uuid4())
    assert reward(stack, b_id, 500, payment) == 500
    assert reward(stack, b_id, 500, str(uuid.uuid4())) == 0
    assert reward(stack, b_id, 500) == 0
    assert entries(stack, b_id) == [("referral_bonus", payment)]
    assert cashback(stack, a_id) == 500 and cashback(stack, b_id) is None
    legs = stack.psql(f"SELECT a.kind, coalesce(a.owner_id::text, ''), q.amount FROM postings q"
                      f" JOIN accounts a ON a.id = q.account_id JOIN journal_entries e"
                      f" ON e.id = q.entry_id WHERE e.reference = 'referral:{b_id}' ORDER BY q.amount")
    assert legs == [("promotions", "", "-500"), ("cashback", a_id, "500")]
    assert settled(stack, b_id)
    assert stack.psql("SELECT * FROM tz_reconcile_referrals()") == []
    # the referrer sees it: the cashback balance and a referral_bonus line naming no payment
    w = api.get("/wallets/me", token=a["access_token"]).json
    assert (w["balance"], w["cashback_balance"]) == (0, 500)
    line = api.get("/wallets/me/transactions", token=a["access_token"]).json["data"][0]
    assert (line["type"], line["account"], line["amount"], line["balance_after"]) == \
        ("referral_bonus", "cashback", 500, 500)
    assert line["payment_id"] is None and line["gross"] is None
    assert api.get("/wallets/me/transactions", token=b["access_token"]).json["data"] == []


def test_a_concurrent_second_call_waits_and_posts_nothing(stack, new_client):
    """The first call keeps its transaction open; the second, from another
    connection, waits for it on the user's row and then finds the referral
    settled."""
    a = register(new_client())
    b_id = referred(new_client(), a)["user"]["id"]
    call = f"SELECT tz_referral_reward('{b_id}', 'ZMW', 500, NULL);"
    out = {}

    def first():
        out["first"] = stack.psql_script(
            "\\pset tuples_only on\n\\pset format unaligned\n"
            f"BEGIN;\n{call}\nSELECT pg_sleep(1.5);\nCOMMIT;\n")

    def second():
        out["second"] = stack.psql_script(f"\\pset tuples_only on\n\\pset format unaligned\n{call}\n")
    t1 = threading.Thread(target=first)
    t1.start()
    # the first call has run and holds the user's row once its session sleeps
    deadline = time.monotonic() + 30
    while not stack.psql("SELECT 1 FROM pg_stat_activity WHERE state = 'active'"
                         " AND query LIKE '%pg_sleep(1.5)%' AND pid <> pg_backend_pid()",
                         user="postgres") and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    second()
    waited = time.monotonic() - started
    t1.join()
    for r in out.values():
        assert r.returncode == 0, r.stderr
    assert out["first"].stdout.split()[0] == "500"
    assert out["second"].stdout.split() == ["0"]
    assert waited > 0.5, waited   # it waited for the first to commit
    assert len(entries(stack, b_id)) == 1 and cashback(stack, a["user"]["id"]) == 500


def test_a_burst_of_calls_posts_one_bonus(stack, new_client):
    a = register(new_client())
    b_id = referred(new_client(), a)["user"]["id"]
    results = []
    start = threading.Barrier(8)

    def run():
        start.wait()
        results.append(reward(stack, b_id, 500))
    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0] * 7 + [500]
    assert len(entries(stack, b_id)) == 1 and cashback(stack, a["user"]["id"]) == 500


def test_no_referrer_no_bonus(stack, new_client):
    c_id = register(new_client())["user"]["id"]
    before = stack.psql("SELECT count(*) FROM journal_entries")
    assert reward(stack, c_id, 500) == 0
    assert entries(stack, c_id) == [] and not settled(stack, c_id)
    assert cashback(stack, c_id) is None
    assert reward(stack, str(uuid.uuid4()), 500) == 0     # an unknown user
    assert stack.psql("SELECT count(*) FROM journal_entries") == before


def test_the_first_success_settles_even_without_a_bonus(stack, new_client):
    a = register(new_client())
    b_id = referred(new_client(), a)["user"]["id"]
    assert reward(stack, b_id, 0) == 0
    assert settled(stack, b_id)
    assert reward(stack, b_id, 500) == 0
    assert entries(stack, b_id) == [] and cashback(stack, a["user"]["id"]) is None


def test_referral_accounts_for_locking(stack, new_client):
    a = register(new_client())
    b_id = referred(new_client(), a)["user"]["id"]
    ids = stack.psql(f"SELECT unnest(tz_referral_accounts('{b_id}', 'ZMW'))")
    kinds = [stack.psql(f"SELECT kind, coalesce(owner_id::text, '') FROM accounts WHERE id = {i}")[0]
             for i, in ids]
    assert kinds == [("promotions", ""), ("cashback", a["user"]["id"])]
    reward(stack, b_id, 500)
    assert stack.psql(f"SELECT cardinality(tz_referral_accounts('{b_id}', 'ZMW'))") == [("0",)]
    assert stack.psql(f"SELECT cardinality(tz_referral_accounts('{a['user']['id']}', 'ZMW'))") \
        == [("0",)]


def test_the_runtime_role_cannot_reward(stack, new_client):
    a = register(new_client())
    b_id = referred(new_client(), a)["user"]["id"]
    r = stack.psql(f"SELECT tz_referral_reward('{b_id}', 'ZMW', 500, NULL)", check=False,
                   user=stack.app_role)
    assert r.returncode != 0 and "permission denied" in r.stderr, r.stderr
    assert entries(stack, b_id) == []


def test_reconciliation_lists_the_check(api, admin):
    rec = api.get("/admin/reconciliation", token=admin["access_token"]).json
    check = [c for c in rec["checks"] if c["name"] == "referral_entries"]
    assert check == [{"name": "referral_entries", "ok": True, "mismatches": []}], rec


# -- a scratch database: reconciliation and the code's draw --------------------------
@pytest.fixture
def scratch(stack):
    conninfo = stack.scratch_db(SCRATCH)
    yield conninfo
    stack.drop_db(SCRATCH)


def new_user(stack, name, referrer=None, db=SCRATCH):
    ref = f"'{referrer}'" if referrer else "NULL"
    return stack.psql(f"INSERT INTO users (email, full_name, role, password_hash, referred_by)"
                      f" VALUES ('{name}@example.com', '{name}', 'fan', 'x', {ref}) RETURNING id",
                      db=db)[0][0]


def test_reconcile_names_a_wrong_referral_entry(stack, scratch):
    a = new_user(stack, "a")
    b, d = new_user(stack, "b", a), new_user(stack, "d", a)
    c = new_user(stack, "c")
    assert reward(stack, b, 500, db=SCRATCH) == 500
    assert stack.tipzedctl("reconcile", conninfo=scratch).returncode == 0

    def post(user, owner, kind="referral_bonus"):
        stack.psql(f"SELECT tz_post_entry('referral:{user}', '{kind}', NULL, NULL, 'ZMW',"
                   f" ARRAY[tz_account('promotions', NULL, NULL, 'ZMW'),"
                   f" tz_account('cashback', '{owner}', NULL, 'ZMW')], ARRAY[-300, 300]::bigint[])",
                   db=SCRATCH)
        return stack.psql(f"SELECT id FROM journal_entries WHERE reference = 'referral:{user}'",
                          db=SCRATCH)[0][0]
    to_no_referral = post(c, a)                 # c was referred by no one
    stack.psql(f"UPDATE users SET referral_rewarded_at = now() WHERE id = '{d}'", db=SCRATCH)
    to_the_wrong_user = post(d, d)              # d's own cashback, not its referrer's
    wrong_kind = post(new_user(stack, "e", a), a, kind="cashback")  # not settled, wrong kind
    found = {(i, detail) for name, i, detail in stack.psql("SELECT * FROM tz_reconcile()", db=SCRATCH)
             if name == "referral_entries"}
    assert {i for i, _ in found} == {to_no_referral, to_the_wrong_user, wrong_kind}, found
    assert any("the user was referred by no one" in detail for _, detail in found), found
    r = stack.tipzedctl("reconcile", conninfo=scratch)
    assert r.returncode == 1 and f"referral_entries\t{to_the_wrong_user}\t" in r.stdout, r.stdout


def test_a_drawn_code_that_is_taken_is_drawn_again(stack, scratch):
    """The column's default is made to draw AAAAAAAA (taken) first, then
    BBBBBBBB: registration tries again and succeeds."""
    stack.psql("UPDATE users SET referral_code = 'AAAAAAAA' WHERE id = '%s'" % new_user(stack, "a"),
               db=SCRATCH)
    stack.psql("CREATE SEQUENCE tz_probe_draws; ALTER TABLE users ALTER COLUMN referral_code SET"
               " DEFAULT (CASE nextval('tz_probe_draws') WHEN 1 THEN 'AAAAAAAA' ELSE 'BBBBBBBB' END)",
               db=SCRATCH)
    answer = stack.psql("SELECT tz_api_register('b@example.com', 'B', 'fan', 'x', 'aaaaaaaa')",
                        db=SCRATCH)[0][0]
    assert json.loads(answer)["user"]["referral_code"] == "BBBBBBBB", answer
    assert stack.psql("SELECT nextval('tz_probe_draws')", db=SCRATCH) == [("3",)]
