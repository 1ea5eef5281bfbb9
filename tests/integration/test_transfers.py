"""Transfers between users' main wallets: the default policy (only to
creators), validation, idempotency, history lines, and concurrent
transfers that together would exceed the balance or the limit."""
import contextlib
import threading
import time
import uuid

import pytest

from tzclient import Client, assert_problem, next_source_ip, register


def fund(stack, user_id, amount, currency="ZMW"):
    """Credits a wallet through the posting path, from the adjustments account."""
    stack.psql(f"SELECT tz_post_entry('test:{uuid.uuid4()}', 'adjustment', NULL, NULL, '{currency}',"
               f" ARRAY[tz_account('adjustments', NULL, NULL, '{currency}'),"
               f" tz_account('wallet', '{user_id}', NULL, '{currency}')],"
               f" ARRAY[-{amount}, {amount}]::bigint[])")


def send(api, user, recipient_id, amount, key=None, **extra):
    return api.post("/wallets/me/transfers", token=user["access_token"],
                    json={"recipient_id": recipient_id, "amount": amount, **extra},
                    headers={"X-Idempotency-Key": key or uuid.uuid4().hex})


def balance(api, user):
    return api.get("/wallets/me", token=user["access_token"]).json["balance"]


@pytest.fixture
def people(new_client, stack):
    fan = register(new_client(), full_name="Mwila Fan")
    creator = register(new_client(), role="creator", full_name="Chanda Creator")
    fund(stack, fan["user"]["id"], 10000)
    return fan, creator


def test_fan_sees_its_wallet(api, people):
    fan, _ = people
    w = api.get("/wallets/me", token=fan["access_token"])
    assert w.status == 200, w
    assert (w.json["balance"], w.json["cashback_balance"], w.json["currency"]) == (10000, 0, "ZMW")


def test_fan_transfers_to_creator(api, stack, people):
    fan, creator = people
    r = send(api, fan, creator["user"]["id"], 2500, note="for the song")
    assert r.status == 201, r
    t = r.json
    assert set(t) == {"id", "sender_id", "recipient_id", "amount", "currency", "note", "created_at"}
    assert (t["sender_id"], t["recipient_id"], t["amount"], t["currency"], t["note"]) == (
        fan["user"]["id"], creator["user"]["id"], 2500, "ZMW", "for the song")
    assert balance(api, fan) == 7500 and balance(api, creator) == 2500
    out = api.get("/wallets/me/transactions", token=fan["access_token"]).json["data"][0]
    assert (out["type"], out["amount"], out["balance_after"]) == ("transfer_out", -2500, 7500)
    into = api.get("/wallets/me/transactions", token=creator["access_token"]).json["data"][0]
    assert (into["type"], into["amount"], into["balance_after"]) == ("transfer_in", 2500, 2500)
    for who, direction in ((fan, "sent"), (creator, "received")):
        page = api.get("/wallets/me/transfers", token=who["access_token"]).json
        assert page["data"][0]["id"] == t["id"] and page["data"][0]["direction"] == direction
        assert (page["limit"], page["offset"], page["has_more"]) == (20, 0, False)
    rows = stack.psql(f"SELECT e.kind, count(p.id), sum(p.amount) FROM journal_entries e"
                      f" JOIN postings p ON p.entry_id = e.id WHERE e.reference = 'transfer:{t['id']}'"
                      f" GROUP BY e.kind")
    assert rows == [("transfer", "2", "0")]


def test_transfers_list_newest_first_and_paginated(api, people):
    fan, creator = people
    ids = [send(api, fan, creator["user"]["id"], 100 + i).json["id"] for i in range(3)]
    page = api.get("/wallets/me/transfers?limit=2", token=fan["access_token"]).json
    assert [x["id"] for x in page["data"]] == ids[::-1][:2] and page["has_more"] is True
    rest = api.get("/wallets/me/transfers?limit=2&offset=2", token=fan["access_token"]).json
    assert [x["id"] for x in rest["data"]] == ids[:1] and rest["has_more"] is False
    assert_problem(api.get("/wallets/me/transfers?limit=0", token=fan["access_token"]), 422)


def test_to_fan_refused_under_default_policy(api, new_client, people):
    fan, _ = people
    other = register(new_client())
    assert_problem(send(api, fan, other["user"]["id"], 100), 403, "recipient_not_allowed")
    assert balance(api, fan) == 10000 and balance(api, other) == 0


def test_refusals(api, people):
    fan, creator = people
    cid = creator["user"]["id"]
    assert_problem(send(api, fan, fan["user"]["id"], 100), 422, "self_transfer", field="recipient_id")
    assert_problem(send(api, fan, cid, 10001), 422, "insufficient_funds", field="amount")
    assert_problem(send(api, fan, str(uuid.uuid4()), 100), 404, "not_found")
    assert_problem(send(api, fan, "not-a-uuid", 100), 422, field="recipient_id")
    for amount in (0, -5, "10", 1.5):
        assert_problem(send(api, fan, cid, amount), 422, field="amount")
    assert_problem(send(api, fan, cid, 100, currency="USD"), 422, field="currency")
    assert_problem(send(api, fan, cid, 100, note="x" * 281), 422, field="note")
    assert send(api, fan, cid, 100, note="x" * 280).status == 201
    assert_problem(send(api, fan, cid, 100, surprise=1), 422, field="surprise")
    r = api.post("/wallets/me/transfers", token=fan["access_token"],
                 json={"recipient_id": cid, "amount": 100})
    assert_problem(r, 400, "idempotency_key_required")
    assert_problem(api.post("/wallets/me/transfers", json={"recipient_id": cid, "amount": 1}), 401)
    assert balance(api, fan) == 9900


def test_idempotent_replay(api, people):
    fan, creator = people
    key = uuid.uuid4().hex
    first = send(api, fan, creator["user"]["id"], 1200, key=key)
    assert first.status == 201, first
    again = send(api, fan, creator["user"]["id"], 1200, key=key)
    assert again.status == 201 and again.json == first.json
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert_problem(send(api, fan, creator["user"]["id"], 1300, key=key), 422, "idempotency_key_reused")
    assert balance(api, fan) == 8800 and balance(api, creator) == 1200
    # a refused transfer does not keep its key: the retry after funding succeeds
    key = uuid.uuid4().hex
    assert_problem(send(api, fan, creator["user"]["id"], 9000, key=key), 422, "insufficient_funds")


def concurrently(n, fn):
    results = [None] * n
    start = threading.Barrier(n)

    def run(i):
        start.wait()
        results[i] = fn(i)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_transfers_never_exceed_the_balance(stack, people):
    fan, creator = people  # 10000 in the wallet
    clients = [Client(stack.api_url, source_ip=next_source_ip()) for _ in range(12)]
    res = concurrently(12, lambda i: send(clients[i], fan, creator["user"]["id"], 1500))
    ok = [r for r in res if r.status == 201]
    assert len(ok) == 6, [r.status for r in res]
    for r in res:
        if r.status != 201:
            assert_problem(r, 422, "insufficient_funds")
    api = clients[0]
    assert balance(api, fan) == 1000 and balance(api, creator) == 9000


def test_concurrent_transfers_never_exceed_the_limit(stack, people):
    fan, creator = people
    fund(stack, fan["user"]["id"], 1000000)  # far more than the limit of 500000 a day
    clients = [Client(stack.api_url, source_ip=next_source_ip()) for _ in range(10)]
    res = concurrently(10, lambda i: send(clients[i], fan, creator["user"]["id"], 120000))
    ok = [r for r in res if r.status == 201]
    assert len(ok) == 4, [r.status for r in res]
    for r in res:
        if r.status != 201:
            p = assert_problem(r, 422, "limit_exceeded", field="amount")
            assert (p["remaining"], p["limit"]) == (20000, 500000)
    api = clients[0]
    assert balance(api, creator) == 480000
    assert send(api, fan, creator["user"]["id"], 20000).status == 201
    p = assert_problem(send(api, fan, creator["user"]["id"], 1), 422, "limit_exceeded")
    assert p["remaining"] == 0
    assert p["errors"][0]["message"] == ("exceeds what is left of the transfer limit:"
                                         " 0 of 500000 per 86400 seconds"), p
    total = stack.psql(f"SELECT sum(amount) FROM transfers WHERE sender_id = '{fan['user']['id']}'")
    assert total == [("500000",)]


def test_opposite_transfers_at_once_do_not_deadlock(stack, new_client):
    a = register(new_client(), role="creator")
    b = register(new_client(), role="creator")
    fund(stack, a["user"]["id"], 5000)
    fund(stack, b["user"]["id"], 5000)
    clients = [Client(stack.api_url, source_ip=next_source_ip()) for _ in range(10)]
    res = concurrently(10, lambda i: send(clients[i], (a, b)[i % 2], (b, a)[i % 2]["user"]["id"], 100))
    assert [r.status for r in res] == [201] * 10
    api = clients[0]
    assert balance(api, a) == 5000 and balance(api, b) == 5000


@contextlib.contextmanager
def configured(stack, lines):
    """The stack's server with extra directives (a graceful restart), then as it was."""
    conf = stack.env["TZ_HTTPD_CONF"]
    with open(conf) as f:
        text = f.read()
    assert "TipzedLoginRateLimit 5 1m" in text
    try:
        with open(conf, "w") as f:
            f.write(text.replace("TipzedLoginRateLimit 5 1m", "TipzedLoginRateLimit 5 1m\n" + lines))
        assert stack.apachectl("-k", "graceful").returncode == 0
        yield
    finally:
        with open(conf, "w") as f:
            f.write(text)
        stack.apachectl("-k", "graceful")
        assert stack.wait_healthy(20)


def until(fn, seconds=20):
    """fn() until it answers something true (the new generation of children)."""
    deadline = time.time() + seconds
    while True:
        r = fn()
        if r or time.time() > deadline:
            return r
        time.sleep(0.3)


def test_policy_any_and_none_and_a_configured_limit(api, stack, new_client, people):
    fan, creator = people
    other = register(new_client())
    with configured(stack, "TipzedTransfers any\nTipzedTransferLimit 3000 1h"):
        r = until(lambda: (lambda x: x if x.status == 201 else None)(
            send(api, fan, other["user"]["id"], 100)))
        assert r and r.status == 201, r
        assert balance(api, other) == 100
        assert send(api, fan, creator["user"]["id"], 2900).status == 201
        p = assert_problem(send(api, fan, other["user"]["id"], 1), 422, "limit_exceeded")
        assert (p["remaining"], p["limit"], p["window_seconds"]) == (0, 3000, 3600)
    with configured(stack, "TipzedTransfers none"):
        # a transfer to oneself: 422 while the previous children answer, 403 from the new ones
        r = until(lambda: (lambda x: x if x.status == 403 else None)(
            send(api, fan, fan["user"]["id"], 1)))
        assert_problem(r, 403, "transfers_disabled")
    assert balance(api, fan) == 7000
    # the default again: only to creators
    r = until(lambda: (lambda x: x if x.status == 201 else None)(
        send(api, fan, creator["user"]["id"], 1)))
    assert r and r.status == 201
    assert_problem(send(api, fan, other["user"]["id"], 1), 403, "recipient_not_allowed")


def test_reconciliation_clean_after_transfers(stack):
    r = stack.tipzedctl("reconcile")
    assert r.returncode == 0, r.stdout
