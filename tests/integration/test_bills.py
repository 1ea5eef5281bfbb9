"""Bill payments: billers (admin), checking a customer at the biller,
paying from the main wallet (hold, settle, release), the watchdog's
/status checks after a timeout, idempotency, concurrency, the wallet
history and reconciliation.  The biller is tests/integration/fakebiller.py."""
import threading
import time
import uuid

import pytest

from fakebiller import FakeBiller
from tzclient import assert_problem, register

FEE = 150


@pytest.fixture(scope="module")
def fb(stack):
    b = FakeBiller(stack.secret("biller").rstrip(b"\n"))
    b.customers.update({"04123456": "Mwila Banda", "04999999": "Chipo Phiri"})
    yield b
    b.close()


@pytest.fixture(scope="module")
def biller(stack, fb, admin_account):
    from conftest import admin_session
    admin = admin_session(stack, admin_account)
    from tzclient import Client, next_source_ip
    api = Client(stack.api_url, source_ip=next_source_ip())
    r = api.post("/admin/billers", token=admin["access_token"], json={
        "name": f"ZESCO {uuid.uuid4().hex[:6]}", "category": "electricity", "base_url": fb.url,
        "fee": FEE, "currency": "ZMW", "customer_pattern": "^0[0-9]{7}$"})
    assert r.status == 201, r
    return r.json


def fund(stack, user_id, amount):
    stack.psql(f"SELECT tz_post_entry('test:{uuid.uuid4()}', 'adjustment', NULL, NULL, 'ZMW',"
               f" ARRAY[tz_account('adjustments', NULL, NULL, 'ZMW'),"
               f" tz_account('wallet', '{user_id}', NULL, 'ZMW')], ARRAY[-{amount}, {amount}]::bigint[])")


def balance(stack, kind, owner=None):
    own = f"= '{owner}'" if owner else "IS NULL"
    return int(stack.psql(f"SELECT coalesce(sum(tz_balance(id)), 0) FROM accounts WHERE kind = '{kind}'"
                          f" AND owner_id {own} AND currency = 'ZMW'")[0][0])


def entries(stack, bill_id):
    rows = stack.psql(f"SELECT kind FROM journal_entries WHERE reference LIKE 'bill:{bill_id}:%' ORDER BY id")
    return [r[0] for r in rows]


def pay(api, user, biller, customer, amount, key=None):
    return api.post("/bill-payments", token=user["access_token"],
                    json={"biller_id": biller["id"], "customer": customer, "amount": amount},
                    headers={"X-Idempotency-Key": key or uuid.uuid4().hex})


@pytest.fixture
def payer(stack, new_client):
    u = register(new_client(), role="creator", full_name="Mwila Banda")
    fund(stack, u["user"]["id"], 10000)
    return u


def wait_status(api, user, bill_id, want, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        b = api.get(f"/bill-payments/{bill_id}", token=user["access_token"]).json
        if b["status"] == want:
            return b
        time.sleep(0.5)
    raise AssertionError(f"bill payment {bill_id} did not become {want}: {b}")


def test_admin_creates_billers_and_users_list_them(api, admin, fan, biller, fb):
    r = api.post("/admin/billers", token=fan["access_token"], json={
        "name": "Water", "category": "water", "base_url": fb.url, "fee": 0, "currency": "ZMW",
        "customer_pattern": "^[0-9]+$"})
    assert_problem(r, 403)
    good = {"name": "Water", "category": "water", "base_url": fb.url, "fee": 0,
            "currency": "ZMW", "customer_pattern": "^[0-9]+$"}
    for field, value in [("base_url", "ftp://x"), ("base_url", "not a url"), ("fee", -1),
                         ("currency", "XXX"), ("customer_pattern", "(["), ("name", ""),
                         ("category", 5), ("fee", "10")]:
        r = api.post("/admin/billers", token=admin["access_token"], json={**good, field: value})
        assert_problem(r, 422, field=field)
    r = api.post("/admin/billers", token=admin["access_token"], json={**good, "extra": 1})
    assert_problem(r, 422, field="extra")
    listed = api.get("/billers", token=fan["access_token"])
    assert listed.status == 200, listed
    mine = [b for b in listed.json["data"] if b["id"] == biller["id"]]
    assert mine and mine[0]["fee"] == FEE and "base_url" not in mine[0]
    assert_problem(api.get("/billers"), 401)


def test_validate_customer(api, fan, biller, fb):
    r = api.post(f"/billers/{biller['id']}/validate", token=fan["access_token"],
                 json={"customer": "04123456"})
    assert r.status == 200, r
    assert r.json == {"customer": "04123456", "name": "Mwila Banda"}
    r = api.post(f"/billers/{biller['id']}/validate", token=fan["access_token"],
                 json={"customer": "04000000"})
    assert_problem(r, 422, "unknown_customer", field="customer")
    r = api.post(f"/billers/{biller['id']}/validate", token=fan["access_token"],
                 json={"customer": "abc"})
    assert_problem(r, 422, field="customer")
    r = api.post(f"/billers/{uuid.uuid4()}/validate", token=fan["access_token"],
                 json={"customer": "04123456"})
    assert_problem(r, 404)
    assert fb.bad_signatures == 0


def test_validate_when_the_biller_is_down(api, admin, fan):
    r = api.post("/admin/billers", token=admin["access_token"], json={
        "name": "Down", "category": "airtime", "base_url": "http://127.0.0.1:9/x", "fee": 0,
        "currency": "ZMW", "customer_pattern": "^[0-9]+$"})
    assert r.status == 201, r
    r = api.post(f"/billers/{r.json['id']}/validate", token=fan["access_token"],
                 json={"customer": "123"})
    assert_problem(r, 502, "biller_unavailable")


def test_pay_success(api, stack, payer, biller, fb):
    uid = payer["user"]["id"]
    fees, settled = balance(stack, "platform_fees"), balance(stack, "bills_settled")
    r = pay(api, payer, biller, "04123456", 2000)
    assert r.status == 201, r
    b = r.json
    assert b["status"] == "succeeded" and b["fee"] == FEE and b["total"] == 2000 + FEE
    assert b["biller_reference"].startswith("REF-")
    assert balance(stack, "wallet", uid) == 10000 - 2000 - FEE
    assert balance(stack, "platform_fees") - fees == FEE
    assert balance(stack, "bills_settled") - settled == 2000
    assert entries(stack, b["id"]) == ["bill_hold", "bill_settle"]
    assert fb.paid(b["id"])[0] == {"payment_id": b["id"], "customer": "04123456", "amount": 2000,
                                   "currency": "ZMW"}
    got = api.get(f"/bill-payments/{b['id']}", token=payer["access_token"])
    assert got.status == 200 and got.json["status"] == "succeeded"
    listed = api.get("/bill-payments?limit=5", token=payer["access_token"]).json
    assert listed["data"][0]["id"] == b["id"] and listed["limit"] == 5
    lines = api.get("/wallets/me/transactions", token=payer["access_token"]).json["data"]
    assert lines[0]["type"] == "bill_payment" and lines[0]["amount"] == -(2000 + FEE)
    assert lines[0]["bill_payment_id"] == b["id"]


def test_bill_payment_is_private(api, new_client, admin, payer, biller):
    b = pay(api, payer, biller, "04123456", 500).json
    other = register(new_client())
    assert_problem(api.get(f"/bill-payments/{b['id']}", token=other["access_token"]), 404)
    assert api.get(f"/bill-payments/{b['id']}", token=admin["access_token"]).status == 200
    assert api.get("/bill-payments", token=other["access_token"]).json["data"] == []


def test_refusal_returns_the_hold(api, stack, payer, biller, fb):
    uid = payer["user"]["id"]
    fb.plan("04999999", "failed")
    r = pay(api, payer, biller, "04999999", 3000)
    p = assert_problem(r, 409, "bill_refused")
    b = p["bill_payment"]
    assert b["status"] == "failed" and b["failure_reason"] == "account closed"
    assert balance(stack, "wallet", uid) == 10000
    assert entries(stack, b["id"]) == ["bill_hold", "bill_release"]
    lines = api.get("/wallets/me/transactions", token=payer["access_token"]).json["data"]
    assert [(line["type"], line["amount"]) for line in lines[:2]] == [
        ("bill_payment", 3000 + FEE), ("bill_payment", -(3000 + FEE))]


def test_http_4xx_is_a_refusal(api, stack, payer, biller, fb):
    fb.customers["04400400"] = "Four Hundred"
    fb.plan("04400400", 400)
    r = pay(api, payer, biller, "04400400", 1000)
    b = assert_problem(r, 409, "bill_refused")["bill_payment"]
    assert balance(stack, "wallet", payer["user"]["id"]) == 10000
    assert entries(stack, b["id"]) == ["bill_hold", "bill_release"]


@pytest.mark.parametrize("later", ["succeeded", "failed"])
def test_timeout_then_the_watchdog_decides(api, stack, payer, biller, fb, later):
    customer = "0455" + ("1111" if later == "succeeded" else "2222")
    fb.customers[customer] = "Slow"
    fb.plan(customer, "hang")
    fb.status[customer] = "pending"
    t0 = time.time()
    r = pay(api, payer, biller, customer, 1000)
    assert r.status == 202, r
    assert time.time() - t0 < 4
    b = r.json
    assert b["status"] == "pending"
    assert balance(stack, "wallet", payer["user"]["id"]) == 10000 - 1000 - FEE
    time.sleep(1)
    fb.status[customer] = later
    done = wait_status(api, payer, b["id"], later)
    want = ["bill_hold", "bill_settle"] if later == "succeeded" else ["bill_hold", "bill_release"]
    assert entries(stack, b["id"]) == want
    expect = 10000 - 1000 - FEE if later == "succeeded" else 10000
    assert balance(stack, "wallet", payer["user"]["id"]) == expect
    if later == "succeeded":
        assert done["biller_reference"]
    # later answers change nothing
    time.sleep(6)
    assert entries(stack, b["id"]) == want


def test_5xx_leaves_it_pending(api, stack, payer, biller, fb):
    fb.customers["04500500"] = "Five"
    fb.plan("04500500", 503)
    fb.status["04500500"] = "succeeded"
    r = pay(api, payer, biller, "04500500", 700)
    assert r.status == 202, r
    wait_status(api, payer, r.json["id"], "succeeded")
    assert entries(stack, r.json["id"]) == ["bill_hold", "bill_settle"]


def test_idempotent_replay(api, stack, payer, biller, fb):
    key = uuid.uuid4().hex
    first = pay(api, payer, biller, "04123456", 1200, key=key)
    assert first.status == 201, first
    again = pay(api, payer, biller, "04123456", 1200, key=key)
    assert again.status == 201 and again.headers.get("idempotent-replayed") == "true"
    assert again.json["id"] == first.json["id"]
    assert balance(stack, "wallet", payer["user"]["id"]) == 10000 - 1200 - FEE
    assert len(fb.paid(first.json["id"])) == 1
    assert_problem(pay(api, payer, biller, "04123456", 1300, key=key), 422, "idempotency_key_reused")


def test_bad_input(api, payer, biller):
    assert_problem(pay(api, payer, biller, "04123456", 20000), 422, "insufficient_funds", field="amount")
    assert_problem(pay(api, payer, biller, "x", 100), 422, field="customer")
    assert_problem(pay(api, payer, {"id": str(uuid.uuid4())}, "04123456", 100), 422, field="biller_id")
    assert_problem(pay(api, payer, {"id": "nope"}, "04123456", 100), 422, field="biller_id")
    assert_problem(pay(api, payer, biller, "04123456", 0), 422, field="amount")
    r = api.post("/bill-payments", token=payer["access_token"],
                 json={"biller_id": biller["id"], "customer": "04123456", "amount": 100})
    assert_problem(r, 400, "idempotency_key_required")
    assert_problem(api.get("/bill-payments?limit=0", token=payer["access_token"]), 422)


def test_insufficient_funds_moves_nothing(api, stack, payer, biller):
    r = pay(api, payer, biller, "04123456", 10000 - FEE + 1)
    assert_problem(r, 422, "insufficient_funds")
    assert balance(stack, "wallet", payer["user"]["id"]) == 10000
    r = pay(api, payer, biller, "04123456", 10000 - FEE)
    assert r.status == 201, r
    assert balance(stack, "wallet", payer["user"]["id"]) == 0


def test_concurrent_payments_never_overdraw(api, new_client, stack, payer, biller):
    results = []

    def one():
        results.append(pay(new_client(), payer, biller, "04123456", 6000).status)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 422], results
    assert balance(stack, "wallet", payer["user"]["id"]) == 10000 - 6000 - FEE


def test_reconciliation_clean(api, stack, admin, biller):
    r = stack.tipzedctl("reconcile")
    assert r.returncode == 0, r.stdout + r.stderr
    rep = api.get("/admin/reconciliation", token=admin["access_token"]).json
    names = {c["name"]: c for c in rep["checks"]}
    assert names["bill_entries"]["ok"], names["bill_entries"]


def test_reconciliation_finds_a_missing_settlement(stack, payer, biller, api):
    b = pay(api, payer, biller, "04123456", 100).json
    stack.psql(f"UPDATE bill_payments SET status = 'failed' WHERE id = '{b['id']}'")
    try:
        r = stack.tipzedctl("reconcile")
        assert r.returncode == 1 and f"bill_entries\t{b['id']}" in r.stdout, r.stdout
    finally:
        stack.psql(f"UPDATE bill_payments SET status = 'succeeded' WHERE id = '{b['id']}'")
