"""Operator controls (docs/accounts.md): an admin suspends and reinstates a
user, freezes and unfreezes a user's wallets, each with a reason, audited
and visible in GET /admin/users, GET /admin/wallets and GET /wallets/me.
A suspended creator is neither tipped nor paid out, a suspended fan cannot
pay, a suspended user cannot log in or refresh; a frozen wallet is never
debited (payouts, transfers, wallet payments) but by refunds and disputes,
which the ledger itself enforces whichever function posts."""
import uuid

import pytest

from tzclient import assert_problem, ensure_verified, login, register

SUSPEND_ROUTES = ["/admin/users/{}/suspend", "/admin/users/{}/reinstate",
                  "/admin/wallets/{}/freeze", "/admin/wallets/{}/unfreeze"]


def key():
    return {"X-Idempotency-Key": uuid.uuid4().hex}


def fund(stack, user_id, amount):
    stack.psql(f"SELECT tz_post_entry('test:{uuid.uuid4()}', 'adjustment', NULL, NULL, 'ZMW',"
               f" ARRAY[tz_account('adjustments', NULL, NULL, 'ZMW'),"
               f" tz_account('wallet', '{user_id}', NULL, 'ZMW')], ARRAY[-{amount}, {amount}]::bigint[])")


def act(api, admin, route, user_id, reason="test"):
    return api.post(route.format(user_id), token=admin["access_token"], json={"reason": reason})


def tip(api, fan, creator_id, amount=1000, source="wallet"):
    body = {"creator_id": creator_id, "amount": amount, "currency": "ZMW"}
    body.update({"source": source} if source == "wallet" else {"provider": source})
    return api.post("/payments/initiate", token=fan["access_token"], json=body, headers=key())


def payout(api, creator, amount=1000):
    ensure_verified(api, creator)
    return api.post("/payouts/request", token=creator["access_token"], json={"amount": amount},
                    headers=key())


def transfer(api, user, recipient_id, amount=100):
    return api.post("/wallets/me/transfers", token=user["access_token"], headers=key(),
                    json={"recipient_id": recipient_id, "amount": amount})


def balance(api, user):
    return api.get("/wallets/me", token=user["access_token"]).json["balance"]


@pytest.fixture
def people(stack, new_client):
    creator = register(new_client(), role="creator", full_name="Chanda Suspendable")
    other = register(new_client(), role="creator", full_name="Other Creator")
    fan = register(new_client(), full_name="Mwila Fan")
    r = new_client().put("/creators/me", token=creator["access_token"],
                         json={"bank_account": "ZM0012345678", "account_name": "Chanda"})
    assert r.status == 200, r
    fund(stack, fan["user"]["id"], 20000)
    fund(stack, creator["user"]["id"], 20000)
    return creator, other, fan


def audit_actions(api, admin, user_id):
    log = api.get("/admin/audit-log?limit=100", token=admin["access_token"]).json["data"]
    return [(e["action"], e["note"]) for e in log if e["target_id"] == user_id]


def test_suspended_creator_is_not_tipped_nor_paid_out(api, admin, people):
    creator, _, fan = people
    cid = creator["user"]["id"]
    pending = payout(api, creator, 1000)
    assert pending.status == 201, pending
    r = act(api, admin, "/admin/users/{}/suspend", cid, "chargeback fraud")
    assert r.status == 200, r
    assert r.json["status"] == "suspended" and r.json["status_reason"] == "chargeback fraud"
    assert_problem(act(api, admin, "/admin/users/{}/suspend", cid), 409, "invalid_transition")
    # tipped from a wallet or through a provider: refused, nothing moved
    before = balance(api, fan)
    assert_problem(tip(api, fan, cid), 409, "creator_suspended")
    assert_problem(tip(api, fan, cid, source="sandbox"), 409, "creator_suspended")
    assert balance(api, fan) == before
    # paid out: neither a new request nor the approval of a pending one
    assert_problem(payout(api, creator), 403, "account_suspended")
    assert_problem(api.post(f"/admin/payouts/{pending.json['id']}/approve",
                            token=admin["access_token"]), 409, "creator_suspended")
    # login and refresh refused, the password being right
    assert_problem(login(api, creator["email"], creator["password"]), 403, "account_suspended")
    r = api.post("/auth/refresh", json={"refresh_token": creator["refresh_token"]})
    assert_problem(r, 401, "invalid_token")
    listed = api.get("/admin/users?status=suspended&limit=100", token=admin["access_token"]).json
    assert cid in [u["id"] for u in listed["data"]]
    assert all(u["status"] == "suspended" for u in listed["data"])
    # reinstated: all of it works again
    r = act(api, admin, "/admin/users/{}/reinstate", cid, "cleared")
    assert r.status == 200 and r.json["status"] == "active", r
    assert tip(api, fan, cid).status == 201
    assert api.post(f"/admin/payouts/{pending.json['id']}/approve",
                    token=admin["access_token"]).json["status"] == "approved"
    assert login(api, creator["email"], creator["password"]).status == 200
    assert audit_actions(api, admin, cid)[:2] == [("user.reinstate", "cleared"),
                                                  ("user.suspend", "chargeback fraud")]


def test_suspended_fan_cannot_pay_nor_log_in(api, admin, people):
    creator, _, fan = people
    fid = fan["user"]["id"]
    assert act(api, admin, "/admin/users/{}/suspend", fid, "stolen cards").status == 200
    assert_problem(tip(api, fan, creator["user"]["id"]), 403, "account_suspended")
    assert_problem(tip(api, fan, creator["user"]["id"], source="sandbox"), 403, "account_suspended")
    assert_problem(transfer(api, fan, creator["user"]["id"]), 403, "account_suspended")
    assert_problem(login(api, fan["email"], fan["password"]), 403, "account_suspended")
    # a wrong password still reads as a wrong password: the status is not told
    assert_problem(login(api, fan["email"], "not the password"), 401, "invalid_credentials")
    assert act(api, admin, "/admin/users/{}/reinstate", fid).status == 200
    assert tip(api, fan, creator["user"]["id"]).status == 201
    assert login(api, fan["email"], fan["password"]).status == 200


def test_frozen_wallet_is_not_debited_but_refunds_post(api, stack, admin, people):
    creator, other, fan = people
    cid, fid = creator["user"]["id"], fan["user"]["id"]
    paid = tip(api, fan, cid, 3000)
    assert paid.status == 201, paid
    r = act(api, admin, "/admin/wallets/{}/freeze", cid, "under review")
    assert r.status == 200 and r.json["wallet_frozen"] is True, r
    assert_problem(act(api, admin, "/admin/wallets/{}/freeze", cid), 409, "invalid_transition")
    mine = api.get("/wallets/me", token=creator["access_token"]).json
    assert mine["frozen"] is True
    listed = api.get("/admin/wallets?q=" + creator["email"][:20], token=admin["access_token"]).json
    assert [w["frozen"] for w in listed["data"] if w["owner_id"] == cid] == [True, True] or \
        [w["frozen"] for w in listed["data"] if w["owner_id"] == cid] == [True]
    before = balance(api, creator)
    assert_problem(payout(api, creator), 409, "wallet_frozen")
    assert_problem(transfer(api, creator, other["user"]["id"]), 409, "wallet_frozen")
    assert balance(api, creator) == before
    # the creator can still be tipped (a credit), and a refund still takes back
    assert tip(api, fan, cid, 500).status == 201
    r = api.post(f"/payments/{paid.json['id']}/refund", token=admin["access_token"], headers=key(),
                 json={"reason": "asked by the fan"})
    assert r.status in (200, 201) and r.json["status"] == "refunded", r
    assert balance(api, creator) < before + 500
    # a frozen fan cannot pay from the wallet
    assert act(api, admin, "/admin/wallets/{}/freeze", fid, "odd pattern").status == 200
    assert_problem(tip(api, fan, cid), 409, "wallet_frozen")
    assert_problem(transfer(api, fan, cid), 409, "wallet_frozen")
    # unfrozen: debits work again
    assert act(api, admin, "/admin/wallets/{}/unfreeze", cid, "reviewed").status == 200
    assert act(api, admin, "/admin/wallets/{}/unfreeze", fid, "reviewed").status == 200
    assert payout(api, creator).status == 201
    assert tip(api, fan, cid).status == 201
    assert api.get("/wallets/me", token=creator["access_token"]).json["frozen"] is False
    assert ("wallet.freeze", "under review") in audit_actions(api, admin, cid)
    assert ("wallet.unfreeze", "reviewed") in audit_actions(api, admin, cid)
    rec = api.get("/admin/reconciliation", token=admin["access_token"]).json
    assert rec["ok"], [c for c in rec["checks"] if not c["ok"]]


def test_the_ledger_refuses_any_other_debit_of_a_frozen_wallet(api, stack, admin, people):
    """Whatever function posts it: a transfer entry debiting a frozen wallet
    fails with TZ021, a dispute hold against it posts.  Each entry is rolled
    back: a bare entry would be a transfer without its transfer row."""
    creator, other, _ = people
    cid = creator["user"]["id"]
    assert act(api, admin, "/admin/wallets/{}/freeze", cid).status == 200

    def post(kind):
        return stack.psql(
            f"BEGIN; SELECT tz_post_entry('test:{uuid.uuid4()}', '{kind}', NULL, NULL, 'ZMW',"
            f" ARRAY[tz_account('wallet', '{cid}', NULL, 'ZMW'),"
            f" tz_account('wallet', '{other['user']['id']}', NULL, 'ZMW')],"
            f" ARRAY[-100, 100]::bigint[]); ROLLBACK;", check=False)
    r = post("transfer")
    assert r.returncode != 0 and "wallet_frozen" in r.stderr, r.stderr
    assert post("dispute_hold").returncode == 0
    assert act(api, admin, "/admin/wallets/{}/unfreeze", cid).status == 200
    assert post("transfer").returncode == 0


def test_users_list_filters_and_validation(api, admin, people):
    creator, _, _ = people
    page = api.get("/admin/users?role=creator&limit=5", token=admin["access_token"])
    assert page.status == 200 and all(u["role"] == "creator" for u in page.json["data"]), page
    assert "password_hash" not in page.text
    found = api.get("/admin/users?q=" + creator["email"], token=admin["access_token"]).json["data"]
    assert [u["id"] for u in found] == [creator["user"]["id"]]
    for bad in ("status=gone", "role=root", "frozen=maybe", "q="):
        assert_problem(api.get("/admin/users?" + bad, token=admin["access_token"]), 422,
                       "validation_failed")


def test_refusals_of_the_actions(api, admin, people):
    creator, _, fan = people
    cid = creator["user"]["id"]
    for route in SUSPEND_ROUTES:
        # non-admins: 403; no token: 401
        assert_problem(act(api, fan, route, cid), 403, "forbidden")
        assert_problem(act(api, creator, route, cid), 403, "forbidden")
        assert_problem(api.post(route.format(cid), json={"reason": "x"}), 401)
        # unknown user 404, no reason 422, an admin's own account 403
        assert_problem(act(api, admin, route, str(uuid.uuid4())), 404, "not_found")
        assert_problem(api.post(route.format(cid), token=admin["access_token"], json={}), 422,
                       "validation_failed", "reason")
        assert_problem(act(api, admin, route, admin["user"]["id"]), 403, "own_account")
    assert_problem(act(api, admin, "/admin/users/{}/reinstate", cid), 409, "invalid_transition")
    assert_problem(act(api, admin, "/admin/wallets/{}/unfreeze", cid), 409, "invalid_transition")
    assert_problem(api.get("/admin/users", token=fan["access_token"]), 403, "forbidden")


def test_renewals_wait_while_the_creator_is_suspended(api, stack, admin, people):
    """A subscription to a suspended creator is not charged nor offered a
    link: past due, as a wallet that cannot pay; reinstated within the
    grace, the daily retry charges it."""
    from test_billing import advance, charges, plan, run, sub_of, subscribe
    creator, _, fan = people
    p = plan(api, creator, amount=700, interval="week")
    later = plan(api, creator, amount=500)
    s = subscribe(api, fan, p["id"], provider="sandbox").json
    assert s["status"] == "active" and s["period"] == 1, s
    assert act(api, admin, "/admin/users/{}/suspend", creator["user"]["id"]).status == 200
    assert_problem(subscribe(api, fan, later["id"]), 409, "creator_suspended")
    advance(api, admin, "7d")
    run(api, admin)
    s = sub_of(api, fan, s["id"])
    assert s["status"] == "past_due" and not s["payment_url"], s
    assert len(charges(stack, s["id"])) == 1
    assert act(api, admin, "/admin/users/{}/reinstate", creator["user"]["id"]).status == 200
    advance(api, admin, "1d")
    run(api, admin)
    s = sub_of(api, fan, s["id"])
    assert s["status"] == "active" and [c[0] for c in charges(stack, s["id"])] == [1, 2], s
