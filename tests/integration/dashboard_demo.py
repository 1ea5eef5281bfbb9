"""Data for the dashboard's tests and screenshots, made through the API as
users would (the sandbox provider), except the creator's starting balance,
posted by the ledger's own function."""
import hashlib
import hmac
import json
import re
import time
import uuid

from tzclient import ensure_verified, register


def _key():
    return "dash-" + uuid.uuid4().hex


def fund(stack, user_id, amount, currency="ZMW"):
    stack.psql(f"SELECT tz_post_entry('test:{uuid.uuid4()}', 'adjustment', NULL, NULL, '{currency}',"
               f" ARRAY[tz_account('provider_clearing', NULL, 'sandbox', '{currency}'),"
               f" tz_account('wallet', '{user_id}', NULL, '{currency}')], ARRAY[-{amount}, {amount}]::bigint[])")


def creator_with_bank(api, stack, name="Chanda Mulenga", balance=200000):
    c = register(api, role="creator", full_name=name)
    r = api.put("/creators/me", token=c["access_token"],
                json={"bank_account": "ZM0012345678", "account_name": name})
    assert r.status == 200, r
    if balance:
        fund(stack, c["user"]["id"], balance)
    return c


def tip(api, fan, creator_id, amount, outcome="approve", message="great show"):
    """A sandbox tip; outcome: approve, decline, or None (left pending)."""
    r = api.post("/payments/initiate", token=fan["access_token"], headers={"X-Idempotency-Key": _key()},
                 json={"creator_id": creator_id, "amount": amount, "currency": "ZMW",
                       "message": message, "provider": "sandbox"})
    assert r.status == 201, r
    p = r.json
    if outcome:
        page = api.get(p["mobile_money_url"])
        d = json.loads(re.search(rb'id="tipzed-sandbox">(.*?)</script>', page.body).group(1))
        step = d[outcome]
        resp = api.post(d["webhook"], body=step["body"].encode(), headers={
            "Content-Type": "application/json", "X-Tipzed-Signature": step["signature"]})
        assert resp.status == 200, resp
    return p


def tip_to_review(api, stack, fan, creator_id, amount=4000):
    """A mobile_money tip whose provider reports another amount: review."""
    r = api.post("/payments/initiate", token=fan["access_token"], headers={"X-Idempotency-Key": _key()},
                 json={"creator_id": creator_id, "amount": amount, "currency": "ZMW",
                       "provider": "mobile_money"})
    assert r.status == 201, r
    body = json.dumps({"payment_id": r.json["id"], "status": "success", "timestamp": int(time.time()),
                       "amount": amount - 1, "currency": "ZMW"}).encode()
    t = int(time.time())
    mac = hmac.new(stack.secret("webhook_mobile_money"), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    resp = api.post("/payments/webhook", body=body, headers={
        "Content-Type": "application/json", "X-Tipzed-Signature": f"t={t},v1={mac}"})
    assert resp.status == 200, resp
    return r.json


def payout(api, creator, amount):
    ensure_verified(api, creator)
    r = api.post("/payouts/request", token=creator["access_token"], json={"amount": amount},
                 headers={"X-Idempotency-Key": _key()})
    assert r.status == 201, r
    return r.json
