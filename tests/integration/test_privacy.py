"""Privacy (docs/accounts.md): GET /auth/me/export answers everything stored
about the caller and nothing secret nor anyone else's; DELETE /auth/me
{password} anonymises the account (login impossible, sessions ended,
follows removed, subscriptions canceled, webhook endpoints disabled) while
its ledger entries stay and still reconcile; an account holding money or
an open payout is not deleted (409 naming why)."""
import json

import pytest

from test_operator_controls import fund, key
from tzclient import assert_problem, ensure_verified, login, register


def delete_me(api, user, password=None):
    return api.delete("/auth/me", token=user["access_token"],
                      json={"password": password or user["password"]})


@pytest.fixture
def people(stack, new_client):
    creator = register(new_client(), role="creator", full_name="Chanda Private")
    fan = register(new_client(), full_name="Mwila Private")
    return creator, fan


def test_export_holds_the_callers_data_and_no_secret(api, stack, people):
    creator, fan = people
    cid, fid = creator["user"]["id"], fan["user"]["id"]
    assert api.put("/creators/me", token=creator["access_token"],
                   json={"bank_account": "ZM0099998888", "account_name": "Chanda P"}).status == 200
    assert api.post(f"/creators/{cid}/follow", token=fan["access_token"]).status in (200, 201, 204)
    fund(stack, fid, 5000)
    paid = api.post("/payments/initiate", token=fan["access_token"], headers=key(),
                    json={"creator_id": cid, "amount": 1500, "currency": "ZMW", "source": "wallet"})
    assert paid.status == 201, paid
    r = api.get("/auth/me/export", token=fan["access_token"])
    assert r.status == 200 and "attachment" in r.headers.get("content-disposition", ""), r
    e = r.json
    assert e["profile"]["id"] == fid and e["profile"]["email"] == fan["email"]
    assert e["creator_profile"] is None
    assert [f["creator_id"] for f in e["follows"]] == [cid]
    assert [p["id"] for p in e["payments"]] == [paid.json["id"]]
    main = [w for w in e["wallets"] if w["kind"] == "wallet"][0]
    assert main["balance"] == 3500 and [x["amount"] for x in main["entries"]] == [5000, -1500]
    assert len(e["sessions"]) >= 1 and "token_hash" not in json.dumps(e["sessions"])
    assert all(x["ip"].startswith("127.") and "user_agent" in x for x in e["sessions"])
    assert e["two_factor"] == {"enabled": False, "enabled_at": None, "recovery_codes_left": 0}
    assert e["claimed_guests"] == []
    text = r.text
    for secret in ("password_hash", "token_hash", "secret", "bank_account_enc", "scrypt"):
        assert secret not in text, secret
    # the invoices are the documents the fan was issued (GET /invoices shows
    # them to the fan, seller named); elsewhere nobody else's personal data
    own = api.get("/invoices", token=fan["access_token"]).json["data"]
    assert [i["id"] for i in e["invoices"]] == [i["id"] for i in own]
    rest = json.dumps({k: v for k, v in e.items() if k != "invoices"})
    assert creator["email"] not in rest and "Chanda Private" not in rest
    c = api.get("/auth/me/export", token=creator["access_token"]).json
    assert c["creator_profile"]["account_name"] == "Chanda P"
    assert c["creator_profile"]["bank_account_on_file"] is True
    c_rest = json.dumps({k: v for k, v in c.items() if k != "invoices"})
    assert "ZM0099998888" not in json.dumps(c) and fan["email"] not in c_rest
    assert [p["id"] for p in c["payments"]] == [paid.json["id"]]
    assert_problem(api.get("/auth/me/export"), 401)


def test_deletion_refused_while_money_is_held(api, stack, people):
    creator, fan = people
    fund(stack, creator["user"]["id"], 3000)
    p = assert_problem(delete_me(api, creator), 409, "balance_not_zero")
    assert p["accounts"] == [{"kind": "wallet", "currency": "ZMW", "balance": 3000}]
    assert api.put("/creators/me", token=creator["access_token"],
                   json={"bank_account": "ZM0012345678"}).status == 200
    ensure_verified(api, creator)
    out = api.post("/payouts/request", token=creator["access_token"], json={"amount": 3000},
                   headers=key())
    assert out.status == 201, out
    assert_problem(delete_me(api, creator), 409, "payout_open")
    assert login(api, creator["email"], creator["password"]).status == 200


def test_deletion_needs_the_password(api, people):
    _, fan = people
    assert_problem(delete_me(api, fan, "not the password"), 403, "invalid_password", "password")
    assert_problem(api.delete("/auth/me", token=fan["access_token"], json={}), 422,
                   "validation_failed", "password")
    assert_problem(api.delete("/auth/me", json={"password": fan["password"]}), 401)
    assert api.get("/auth/me", token=fan["access_token"]).json["email"] == fan["email"]


def test_deleted_fan_is_anonymised_and_the_ledger_reconciles(api, stack, admin, people):
    creator, fan = people
    cid, fid = creator["user"]["id"], fan["user"]["id"]
    assert api.post(f"/creators/{cid}/follow", token=fan["access_token"]).status in (200, 201, 204)
    fund(stack, fid, 2000)
    paid = api.post("/payments/initiate", token=fan["access_token"], headers=key(),
                    json={"creator_id": cid, "amount": 2000, "currency": "ZMW", "source": "wallet"})
    assert paid.status == 201, paid
    r = delete_me(api, fan)
    assert r.status == 204, r
    # login impossible, sessions ended
    assert_problem(login(api, fan["email"], fan["password"]), 401, "invalid_credentials")
    assert_problem(api.post("/auth/refresh", json={"refresh_token": fan["refresh_token"]}), 401)
    assert_problem(delete_me(api, fan), 404, "not_found")
    # anonymised in place: the id stays, the personal data is gone
    (row,) = stack.psql(f"SELECT email, full_name, status FROM users WHERE id = '{fid}'")
    assert row == (f"deleted-{fid}@deleted.invalid", "Deleted user", "deleted")
    assert stack.psql(f"SELECT count(*) FROM follows WHERE fan_id = '{fid}'") == [("0",)]
    assert api.get(f"/creators/{cid}").json.get("followers", 0) == 0
    # the ledger keeps the entries of the account, and reconciles
    n = stack.psql(f"SELECT count(*) FROM postings p JOIN accounts a ON a.id = p.account_id"
                   f" WHERE a.owner_id = '{fid}'")
    assert int(n[0][0]) >= 2
    mine = api.get(f"/payments/{paid.json['id']}", token=creator["access_token"]).json
    assert mine["fan_id"] == fid and mine["status"] == "succeeded"
    rec = api.get("/admin/reconciliation", token=admin["access_token"]).json
    assert rec["ok"], [c for c in rec["checks"] if not c["ok"]]
    listed = api.get("/admin/users?status=deleted&limit=100", token=admin["access_token"]).json
    assert fid in [u["id"] for u in listed["data"]]
    audit = api.get("/admin/audit-log?limit=100", token=admin["access_token"]).json["data"]
    assert ("user.delete", fid) in [(a["action"], a["target_id"]) for a in audit]
    # a deleted creator (none of whose money is held) is not tipped
    gone = register(api, role="creator", full_name="Gone Creator")
    other = register(api, full_name="Another Fan")
    fund(stack, other["user"]["id"], 1000)
    assert delete_me(api, gone).status == 204
    r = api.post("/payments/initiate", token=other["access_token"], headers=key(),
                 json={"creator_id": gone["user"]["id"], "amount": 500, "currency": "ZMW",
                       "source": "wallet"})
    assert_problem(r, 409, "creator_closed")
