"""Payouts (the payout lifecycle), the admin API, the audit log and
full reconciliation."""
import threading
import uuid

import pytest

from tzclient import assert_problem, ensure_verified, login_totp, register


def fund(stack, creator_id, amount):
    stack.psql(f"SELECT tz_post_entry('test:{uuid.uuid4()}', 'adjustment', NULL, NULL, 'ZMW',"
               f" ARRAY[tz_account('provider_clearing', NULL, 'sandbox', 'ZMW'),"
               f" tz_account('wallet', '{creator_id}', NULL, 'ZMW')], ARRAY[-{amount}, {amount}]::bigint[])")


@pytest.fixture
def creator(stack, new_client):
    c = register(new_client(), role="creator", full_name="Chanda")
    api = new_client()
    r = api.put("/creators/me", token=c["access_token"],
                json={"bank_account": "ZM0012345678", "account_name": "Chanda M"})
    assert r.status == 200
    fund(stack, c["user"]["id"], 100000)
    return c


def request(api, creator, amount, key=None, **extra):
    ensure_verified(api, creator)
    return api.post("/payouts/request", token=creator["access_token"], json={"amount": amount, **extra},
                    headers={"X-Idempotency-Key": key or uuid.uuid4().hex})


def wallet(api, creator):
    w = api.get("/wallets/me", token=creator["access_token"]).json
    return w["balance"], w["pending_payouts"]


def act(api, admin, pid, action, body=None):
    return api.post(f"/admin/payouts/{pid}/{action}", token=admin["access_token"], json=body)


def test_full_lifecycle(api, stack, creator, admin):
    r = request(api, creator, 30000)
    assert r.status == 201, r
    p = r.json
    assert p["status"] == "pending" and p["payout_id"] == p["id"] and p["bank_account"] == "****5678"
    assert p["account_name"] == "Chanda M"
    assert wallet(api, creator) == (70000, 30000)
    assert act(api, admin, p["id"], "approve", {"note": "ok"}).json["status"] == "approved"
    assert wallet(api, creator) == (70000, 30000)
    assert act(api, admin, p["id"], "process").json["status"] == "processing"
    done = act(api, admin, p["id"], "complete", {"provider_reference": "BANK-REF-1"})
    assert done.json["status"] == "completed" and done.json["provider_reference"] == "BANK-REF-1"
    assert wallet(api, creator) == (70000, 0)
    lines = api.get("/wallets/me/transactions", token=creator["access_token"]).json["data"]
    assert (lines[0]["type"], lines[0]["amount"], lines[0]["status"]) == ("payout", -30000, "completed")
    mine = api.get("/payouts/me", token=creator["access_token"]).json["data"]
    assert mine[0]["id"] == p["id"] and mine[0]["bank_account"] == "****5678"
    log = api.get("/admin/audit-log", token=admin["access_token"]).json["data"]
    actions = [(e["action"], e["target_id"]) for e in log]
    for a in ("payout.approve", "payout.process", "payout.complete"):
        assert (a, p["id"]) in actions


def test_illegal_transitions_409(api, creator, admin):
    p = request(api, creator, 5000).json
    for action in ("process", "complete", "fail"):
        assert_problem(act(api, admin, p["id"], action, {"reason": "x"} if action == "fail" else None),
                       409, "invalid_transition")
    act(api, admin, p["id"], "approve")
    assert_problem(api.post(f"/payouts/{p['id']}/cancel", token=creator["access_token"]), 409)
    act(api, admin, p["id"], "reject", {"reason": "bank details unclear"})
    for action in ("approve", "reject", "process", "complete"):
        assert_problem(act(api, admin, p["id"], action, {"reason": "x"} if action == "reject" else None), 409)
    assert_problem(act(api, admin, str(uuid.uuid4()), "approve"), 404)


def test_reject_fail_cancel_return_funds(api, creator, admin):
    a = request(api, creator, 1000).json
    assert_problem(act(api, admin, a["id"], "reject", {}), 422, field="reason")
    assert act(api, admin, a["id"], "reject", {"reason": "duplicate"}).json["reason"] == "duplicate"
    b = request(api, creator, 2000).json
    act(api, admin, b["id"], "approve")
    act(api, admin, b["id"], "process")
    assert_problem(act(api, admin, b["id"], "fail", {}), 422, field="reason")
    assert act(api, admin, b["id"], "fail", {"reason": "bank bounced"}).json["status"] == "failed"
    c = request(api, creator, 3000).json
    r = api.post(f"/payouts/{c['id']}/cancel", token=creator["access_token"])
    assert r.status == 200 and r.json["status"] == "cancelled"
    assert wallet(api, creator) == (100000, 0)


def test_request_validation(api, stack, creator, new_client):
    assert_problem(request(api, creator, 999), 422, "below_minimum", field="amount")
    assert_problem(request(api, creator, 100001), 422, "insufficient_funds", field="amount")
    assert_problem(request(api, creator, "1000"), 422, field="amount")
    assert_problem(api.post("/payouts/request", token=creator["access_token"], json={"amount": 1000}), 400)
    nobank = register(new_client(), role="creator")
    fund(stack, nobank["user"]["id"], 5000)
    assert_problem(request(api, nobank, 1000), 422, field="bank_account")
    ok = request(api, nobank, 1000, bank_account="GB82WEST12345698765432", account_name="N")
    assert ok.status == 201 and ok.json["bank_account"] == "****5432"


def test_idempotent_payout_replay(api, creator):
    key = uuid.uuid4().hex
    first = request(api, creator, 4000, key=key)
    again = request(api, creator, 4000, key=key)
    assert again.status == 201 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert wallet(api, creator) == (96000, 4000)
    assert_problem(request(api, creator, 4001, key=key), 422, "idempotency_key_reused")


def test_the_answer_is_stored_in_the_transaction_of_the_hold(api, stack, creator):
    """The key's answer and the payout (with its hold) are written by one
    transaction (one xmin): once the money moved, a retry with the key can
    only replay, whatever happened to the connection or the child before
    the answer was sent."""
    key = uuid.uuid4().hex
    r = request(api, creator, 3000, key=key)
    assert r.status == 201, r
    rows = stack.psql(
        "SELECT o.xmin::text = k.xmin::text, k.state, k.status FROM payouts o, idempotency_keys k"
        f" WHERE o.id = '{r.json['id']}' AND k.key = '{key}' AND k.user_id = '{creator['user']['id']}'")
    assert rows == [("t", "done", "201")], rows
    assert stack.psql("SELECT count(*) FROM journal_entries WHERE kind = 'payout_hold'"
                      f" AND payout_id = '{r.json['id']}'") == [("1",)]
    stored = stack.psql(f"SELECT response FROM idempotency_keys WHERE key = '{key}'")[0][0]
    assert r.json["payout_id"] in stored and "bank_account_enc" in stored  # masked when sent


def test_concurrent_requests_never_overdraw(api, creator, new_client):
    # 100000 in the wallet; 20 requests of 30% each: exactly three fit
    results = []

    def go():
        results.append(request(new_client(), creator, 30000).status)

    threads = [threading.Thread(target=go) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(201) == 3 and results.count(422) == 17, results
    assert wallet(api, creator) == (10000, 90000)


def test_authorization_matrix(api, stack, creator, admin, new_client):
    fan = register(new_client())
    other = register(new_client(), role="creator")
    p = request(api, creator, 1000).json
    admin_routes = [("GET", "/admin/transactions"), ("GET", "/admin/payouts"),
                    ("GET", "/admin/reconciliation"), ("GET", "/admin/audit-log")] + \
                   [("POST", f"/admin/payouts/{p['id']}/{a}") for a in
                    ("approve", "reject", "process", "complete", "fail")]
    for method, path in admin_routes:
        assert_problem(api.request(method, path), 401)
        for who in (fan, creator):
            assert_problem(api.request(method, path, token=who["access_token"], json={} if method == "POST" else None), 403)
    for method, path in [("POST", "/payouts/request"), ("GET", "/payouts/me"), ("POST", f"/payouts/{p['id']}/cancel")]:
        assert_problem(api.request(method, path, token=fan["access_token"], json={} if method == "POST" else None), 403)
    # another creator can neither see nor cancel this payout
    assert api.get("/payouts/me", token=other["access_token"]).json["data"] == []
    assert_problem(api.post(f"/payouts/{p['id']}/cancel", token=other["access_token"]), 404)
    assert api.get("/admin/payouts?status=pending", token=admin["access_token"]).status == 200
    assert_problem(api.get("/admin/payouts?status=bogus", token=admin["access_token"]), 422, field="status")


def test_admin_transactions_and_reconciliation(api, stack, admin):
    r = api.get("/admin/transactions?limit=5", token=admin["access_token"])
    assert r.status == 200 and r.json["limit"] == 5
    assert_problem(api.get("/admin/transactions?creator_id=nope", token=admin["access_token"]), 422,
                   field="creator_id")
    assert_problem(api.get("/admin/transactions?from=yesterday", token=admin["access_token"]), 422,
                   field="from")
    rec = api.get("/admin/reconciliation", token=admin["access_token"]).json
    assert rec["ok"] is True, rec
    assert {c["name"] for c in rec["checks"]} >= {"entries_balanced", "cached_balances",
                                                  "no_negative_wallets", "payments_credited",
                                                  "payout_entries", "transfer_entries",
                                                  "adjustment_entries"}
    # an admin's login is audited (logged in now: earlier tests' actions fill the first page)
    assert login_totp(api, admin["email"], admin["password"], admin["totp_secret"]).status == 200
    log = api.get("/admin/audit-log", token=admin["access_token"]).json["data"]
    assert any(e["action"] == "admin.login" for e in log)


def test_reconcile_names_corrupted_payout(stack):
    db = "tz_scratch_payouts"
    conninfo = stack.scratch_db(db)
    stack.psql("INSERT INTO users (id, email, full_name, role, password_hash, email_verified_at)"
               " VALUES ('00000000-0000-4000-8000-000000000001', 'p@example.com', 'P', 'creator',"
               " 'x', now())", db=db)
    stack.psql("SELECT tz_post_entry('seed', 'adjustment', NULL, NULL, 'ZMW',"
               " ARRAY[tz_account('provider_clearing', NULL, 'sandbox', 'ZMW'),"
               " tz_account('wallet', '00000000-0000-4000-8000-000000000001', NULL, 'ZMW')],"
               " ARRAY[-5000, 5000]::bigint[])", db=db)
    pid = "00000000-0000-4000-8000-0000000000aa"
    stack.psql(f"SELECT tz_api_payout_request('{pid}', '00000000-0000-4000-8000-000000000001',"
               " 2000, 'ZMW', 'v1.x.y', 'P', 1000, NULL, 0)", db=db)
    assert stack.tipzedctl("reconcile", conninfo=conninfo).returncode == 0
    stack.psql(f"UPDATE payouts SET status = 'completed' WHERE id = '{pid}'", db=db)
    r = stack.tipzedctl("reconcile", conninfo=conninfo)
    assert r.returncode == 1 and f"payout_entries\t{pid}" in r.stdout
    # a payment marked succeeded without its credit entry is named too
    pay = "00000000-0000-4000-8000-0000000000bb"
    stack.psql("INSERT INTO users (id, email, full_name, role, password_hash) VALUES"
               " ('00000000-0000-4000-8000-000000000002', 'f@example.com', 'F', 'fan', 'x')", db=db)
    stack.psql(f"INSERT INTO payments (id, fan_id, creator_id, amount, currency, fee_bps, fee, net,"
               f" provider, status, expires_at) VALUES ('{pay}', '00000000-0000-4000-8000-000000000002',"
               f" '00000000-0000-4000-8000-000000000001', 2500, 'ZMW', 1500, 375, 2125, 'sandbox',"
               f" 'succeeded', now())", db=db)
    r = stack.tipzedctl("reconcile", conninfo=conninfo)
    assert f"payments_credited\t{pay}\tstatus succeeded with 0 credit entries" in r.stdout
