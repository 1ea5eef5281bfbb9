"""Admin adjustments of wallets, maker-checker: one admin proposes, another
approves (the entry posts) or rejects; the database itself refuses a
decision by the adjustment's creator."""
import uuid

import pytest

from tzclient import (Client, assert_problem, create_admin, login_totp, next_source_ip, register,
                      unique_email)
from test_transfers import fund


@pytest.fixture(scope="module")
def checker(stack):
    """A second admin, to decide what the first one proposes."""
    a = create_admin(stack, unique_email("checker"), "checker password 123", name="Checker")
    resp = login_totp(Client(stack.api_url, source_ip=next_source_ip()), a["email"], a["password"],
                      a["totp_secret"])
    assert resp.status == 200, resp
    return {"access_token": resp.json["access_token"], "user": resp.json["user"]}


def propose(api, admin, user_id, amount, key=None, **extra):
    body = {"amount": amount, "currency": "ZMW", "reason": "goodwill credit", **extra}
    return api.post(f"/admin/wallets/{user_id}/adjustments", token=admin["access_token"], json=body,
                    headers={"X-Idempotency-Key": key or uuid.uuid4().hex})


def approve(api, admin, aid, key=None):
    return api.post(f"/admin/adjustments/{aid}/approve", token=admin["access_token"],
                    headers={"X-Idempotency-Key": key or uuid.uuid4().hex})


def reject(api, admin, aid, reason="not justified"):
    return api.post(f"/admin/adjustments/{aid}/reject", token=admin["access_token"],
                    json={"reason": reason})


def balance(api, user):
    return api.get("/wallets/me", token=user["access_token"]).json["balance"]


def entries(stack, aid):
    return stack.psql(f"SELECT count(*) FROM journal_entries WHERE reference = 'adjustment:{aid}'"
                      " AND kind = 'adjustment'")[0][0]


def test_maker_checker_approval(api, stack, admin, checker, fan):
    r = propose(api, admin, fan["user"]["id"], 3000)
    assert r.status == 201, r
    a = r.json
    assert (a["status"], a["amount"], a["user_id"], a["created_by"], a["decided_by"]) == (
        "pending", 3000, fan["user"]["id"], admin["user"]["id"], None)
    assert balance(api, fan) == 0
    # the same admin may not decide, through the API ...
    assert_problem(approve(api, admin, a["id"]), 403, "same_admin")
    assert_problem(reject(api, admin, a["id"]), 403, "same_admin")
    # ... nor through the database: the table's CHECK and the function refuse it
    with pytest.raises(AssertionError, match="adjustments_maker_checker"):
        stack.psql(f"UPDATE adjustments SET status = 'approved', decided_by = created_by,"
                   f" decided_at = now() WHERE id = '{a['id']}'")
    answer = stack.psql(f"SELECT tz_api_adjustment_decide('{a['id']}', 'approve',"
                        f" '{admin['user']['id']}', NULL, NULL, NULL)")[0][0]
    assert '"same_admin"' in answer
    assert entries(stack, a["id"]) == "0" and balance(api, fan) == 0
    pending = api.get("/admin/adjustments?status=pending", token=checker["access_token"]).json["data"]
    assert a["id"] in [x["id"] for x in pending]
    items = api.get("/admin/reconciliation", token=admin["access_token"]).json["open_items"]
    assert ("adjustment_pending", a["id"]) in [(i["kind"], i["id"]) for i in items]
    # another admin approves: the entry posts, once
    key = uuid.uuid4().hex
    done = approve(api, checker, a["id"], key=key)
    assert done.status == 200, done
    assert (done.json["status"], done.json["decided_by"]) == ("approved", checker["user"]["id"])
    again = approve(api, checker, a["id"], key=key)
    assert again.status == 200 and again.json == done.json
    assert_problem(approve(api, checker, a["id"]), 409, "invalid_transition")
    assert_problem(reject(api, checker, a["id"]), 409, "invalid_transition")
    assert entries(stack, a["id"]) == "1" and balance(api, fan) == 3000
    line = api.get("/wallets/me/transactions", token=fan["access_token"]).json["data"][0]
    assert (line["type"], line["amount"]) == ("adjustment", 3000)
    log = api.get("/admin/audit-log", token=admin["access_token"]).json["data"]
    acts = {(e["action"], e["target_id"]) for e in log}
    assert {("adjustment.create", a["id"]), ("adjustment.approve", a["id"])} <= acts
    approved = api.get("/admin/adjustments?status=approved", token=admin["access_token"]).json["data"]
    assert a["id"] in [x["id"] for x in approved]


def test_reject(api, stack, admin, checker, fan):
    a = propose(api, admin, fan["user"]["id"], 500).json
    assert_problem(api.post(f"/admin/adjustments/{a['id']}/reject", token=checker["access_token"],
                            json={}), 422, field="reason")
    r = reject(api, checker, a["id"], "duplicate request")
    assert r.status == 200, r
    assert (r.json["status"], r.json["decision_reason"]) == ("rejected", "duplicate request")
    assert entries(stack, a["id"]) == "0" and balance(api, fan) == 0
    assert_problem(approve(api, checker, a["id"]), 409, "invalid_transition")
    log = api.get("/admin/audit-log", token=admin["access_token"]).json["data"]
    assert ("adjustment.reject", a["id"]) in {(e["action"], e["target_id"]) for e in log}


def test_negative_adjustment_beyond_the_balance_is_409(api, stack, admin, checker, new_client):
    user = register(new_client(), role="creator")
    fund(stack, user["user"]["id"], 1000)
    a = propose(api, admin, user["user"]["id"], -1500).json
    assert a["amount"] == -1500
    assert_problem(approve(api, checker, a["id"]), 409, "insufficient_funds")
    got = api.get("/admin/adjustments?status=pending", token=admin["access_token"]).json["data"]
    assert a["id"] in [x["id"] for x in got] and balance(api, user) == 1000
    # the wallet can cover a smaller debit
    b = propose(api, admin, user["user"]["id"], -400).json
    assert approve(api, checker, b["id"]).json["status"] == "approved"
    assert balance(api, user) == 600
    assert reject(api, checker, a["id"]).status == 200


def test_validation(api, admin, fan):
    uid = fan["user"]["id"]
    for body, field in [({"amount": 0}, "amount"), ({"amount": 1.5}, "amount"),
                        ({"amount": "5"}, "amount"), ({"currency": "USD"}, "currency"),
                        ({"reason": ""}, "reason"), ({"extra": 1}, "extra")]:
        assert_problem(propose(api, admin, uid, **{"amount": 100, **body}), 422, field=field)
    assert_problem(propose(api, admin, str(uuid.uuid4()), 100), 404)
    assert_problem(api.post(f"/admin/wallets/{uid}/adjustments", token=admin["access_token"],
                            json={"amount": 1, "currency": "ZMW", "reason": "x"}),
                   400, "idempotency_key_required")
    assert_problem(api.get("/admin/adjustments?status=done", token=admin["access_token"]), 422,
                   field="status")
    assert_problem(approve(api, admin, str(uuid.uuid4())), 404)
    assert_problem(propose(api, fan, uid, 100), 403, "forbidden")


def test_reconciliation_clean_after_adjustments(stack):
    r = stack.tipzedctl("reconcile")
    assert r.returncode == 0, r.stdout
