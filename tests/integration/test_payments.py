"""Payments (idempotency, the payment states, crediting): the sandbox
flow, the generic signed webhook, the state machine, refunds, isolation."""
import hashlib
import hmac
import json
import os
import re
import threading
import time
import uuid

import pytest

from tzclient import assert_problem, register


def initiate(api, fan, creator_id, amount=2500, key=None, provider="sandbox", **extra):
    body = dict(creator_id=creator_id, amount=amount, currency="ZMW", message="great show",
                provider=provider, **extra)
    return api.post("/payments/initiate", token=fan["access_token"], json=body,
                    headers={"X-Idempotency-Key": key or uuid.uuid4().hex})


def sign(secret, body, t=None):
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def mm_webhook(api, stack, payload, t=None, secret=None):
    body = json.dumps(payload).encode()
    secret = secret or stack.secret("webhook_mobile_money")
    return api.post("/payments/webhook", body=body, headers={
        "Content-Type": "application/json", "X-Tipzed-Signature": sign(secret, body, t)})


def sandbox_deliveries(api, url):
    page = api.get(url)
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html"), page
    return json.loads(re.search(rb'id="tipzed-sandbox">(.*?)</script>', page.body).group(1))


def post_delivery(api, page, which):
    d = page[which]
    return api.post(page["webhook"], body=d["body"].encode(), headers={
        "Content-Type": "application/json", "X-Tipzed-Signature": d["signature"]})


@pytest.fixture
def pair(api, new_client):
    return register(new_client(), role="creator", full_name="Chanda"), register(new_client())


def wallet(api, creator):
    return api.get("/wallets/me", token=creator["access_token"]).json


def test_sandbox_flow_credits_net_of_fee(api, stack, pair):
    creator, fan = pair
    r = initiate(api, fan, creator["user"]["id"])
    assert r.status == 201, r
    p = r.json
    assert p["status"] == "pending" and p["payment_id"] == p["id"] and p["provider"] == "sandbox"
    assert (p["amount"], p["fee"], p["net"], p["currency"]) == (2500, 375, 2125, "ZMW")
    d = sandbox_deliveries(api, p["mobile_money_url"])
    assert post_delivery(api, d, "approve").json == {"status": "success"}
    w = wallet(api, creator)
    assert w["balance"] == 2125
    line = w["transactions"][0]
    assert (line["type"], line["amount"], line["gross"], line["fee"], line["status"]) == \
        ("payment", 2125, 2500, 375, "succeeded")
    assert line["payment_id"] == p["id"]
    assert api.get(f"/creators/{creator['user']['id']}").json["earnings"] == 2125
    got = api.get(f"/payments/{p['id']}", token=fan["access_token"]).json
    assert got["status"] == "succeeded" and got["provider_transaction_id"].startswith("sbx_")
    # decline after success changes nothing
    assert post_delivery(api, d, "decline").status == 200
    assert api.get(f"/payments/{p['id']}", token=fan["access_token"]).json["status"] == "succeeded"
    assert wallet(api, creator)["balance"] == 2125


def test_sandbox_decline_fails_payment(api, pair):
    creator, fan = pair
    p = initiate(api, fan, creator["user"]["id"]).json
    d = sandbox_deliveries(api, p["mobile_money_url"])
    assert post_delivery(api, d, "decline").status == 200
    assert api.get(f"/payments/{p['id']}", token=fan["access_token"]).json["status"] == "failed"
    # a success for a failed payment goes to review, nothing credited
    assert post_delivery(api, d, "approve").status == 200
    got = api.get(f"/payments/{p['id']}", token=fan["access_token"]).json
    assert (got["status"], got["review_reason"]) == ("review", "success reported for a failed payment")
    assert wallet(api, creator)["balance"] == 0


def test_mobile_money_url_and_generic_webhook(api, stack, pair):
    creator, fan = pair
    p = initiate(api, fan, creator["user"]["id"], provider="mobile_money").json
    url = p["mobile_money_url"]
    base = os.environ.get("TZ_MM_URL", f"{stack.base_url}/mm-checkout")
    assert url.startswith(f"{base}?reference={p['id']}&amount=2500&currency=ZMW&callback=")
    assert "callback=http%3A%2F%2F127.0.0.1" in url and "%2Fapi%2Fv1%2Fpayments%2Fwebhook" in url
    ok = {"payment_id": p["id"], "status": "success", "timestamp": int(time.time()),
          "provider_transaction_id": f"mm-{uuid.uuid4().hex[:8]}", "amount": 2500, "currency": "ZMW"}
    assert mm_webhook(api, stack, ok).status == 200
    assert wallet(api, creator)["balance"] == 2125


def test_webhook_signature_failures_401(api, stack, pair):
    creator, fan = pair
    p = initiate(api, fan, creator["user"]["id"], provider="mobile_money").json
    payload = {"payment_id": p["id"], "status": "success", "timestamp": int(time.time())}
    body = json.dumps(payload).encode()
    secret = stack.secret("webhook_mobile_money")
    cases = {
        "missing": {},
        "malformed": {"X-Tipzed-Signature": "garbage"},
        "wrong secret": {"X-Tipzed-Signature": sign(b"not-the-secret-0123456789", body)},
        "stale": {"X-Tipzed-Signature": sign(secret, body, int(time.time()) - 301)},
        "future": {"X-Tipzed-Signature": sign(secret, body, int(time.time()) + 301)},
        "tampered": {"X-Tipzed-Signature": sign(secret, body + b" ")},
    }
    for name, h in cases.items():
        r = api.post("/payments/webhook", body=body, headers={"Content-Type": "application/json", **h})
        assert_problem(r, 401, "invalid_signature")
    assert api.get(f"/payments/{p['id']}", token=fan["access_token"]).json["status"] == "pending"


def test_webhook_unknown_payment_and_malformed(api, stack):
    r = mm_webhook(api, stack, {"payment_id": str(uuid.uuid4()), "status": "success", "timestamp": 1})
    assert_problem(r, 404)
    pid = str(uuid.uuid4())
    for bad, field in [({"status": "success", "timestamp": 1}, "payment_id"),
                       ({"payment_id": "x", "status": "success", "timestamp": 1}, "payment_id"),
                       ({"payment_id": pid, "status": "weird", "timestamp": 1}, "status"),
                       ({"payment_id": pid, "status": "success"}, "timestamp"),
                       ({"payment_id": pid, "status": "success", "timestamp": "yesterday"}, "timestamp"),
                       ({"payment_id": pid, "status": "success", "timestamp": 1, "amount": 10.5}, "amount"),
                       ({"payment_id": pid, "status": "success", "timestamp": 1, "currency": 5}, "currency")]:
        r = mm_webhook(api, stack, bad)
        assert_problem(r, 422, "invalid_event")
        assert r.json["errors"][0]["field"] == field, (bad, r.json)
    for body in (b"not json", b"[]", b'{"a":1,"a":2}'):
        r = api.post("/payments/webhook", body=body, headers={
            "X-Tipzed-Signature": sign(stack.secret("webhook_mobile_money"), body)})
        assert_problem(r, 400, "invalid_json")


def test_webhook_timestamp_rfc3339_credits(api, stack, pair):
    creator, fan = pair
    p = initiate(api, fan, creator["user"]["id"], provider="mobile_money").json
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    assert mm_webhook(api, stack, {"payment_id": p["id"], "status": "success",
                                   "timestamp": now}).status == 200
    assert wallet(api, creator)["balance"] == 2125


def test_webhook_event_id_names_the_payment(api, stack, pair):
    """One provider transaction id reused: a failure and a later success of
    one payment are two facts (the success reaches the state machine, which
    sends it to review), and two payments never collide on one id."""
    creator, fan = pair
    tx = f"mm-{uuid.uuid4().hex[:8]}"
    p = initiate(api, fan, creator["user"]["id"], provider="mobile_money").json
    ev = {"payment_id": p["id"], "timestamp": int(time.time()), "provider_transaction_id": tx}
    assert mm_webhook(api, stack, {**ev, "status": "failed"}).status == 200
    assert mm_webhook(api, stack, {**ev, "status": "success"}).status == 200
    assert api.get(f"/payments/{p['id']}", token=fan["access_token"]).json["status"] == "review"
    a = initiate(api, fan, creator["user"]["id"], provider="mobile_money").json
    b = initiate(api, fan, creator["user"]["id"], provider="mobile_money").json
    for q in (a, b):
        assert mm_webhook(api, stack, {"payment_id": q["id"], "status": "success", "amount": 2500,
                                       "timestamp": int(time.time()),
                                       "provider_transaction_id": "shared-tx-1"}).status == 200
    assert wallet(api, creator)["balance"] == 2 * 2125


def test_amount_mismatch_goes_to_review(api, stack, pair):
    creator, fan = pair
    p = initiate(api, fan, creator["user"]["id"], provider="mobile_money").json
    r = mm_webhook(api, stack, {"payment_id": p["id"], "status": "success", "timestamp": 1,
                                "amount": 100, "currency": "ZMW"})
    assert r.status == 200
    got = api.get(f"/payments/{p['id']}", token=fan["access_token"]).json
    assert (got["status"], got["review_reason"]) == ("review", "amount or currency differs from the payment")
    assert wallet(api, creator)["balance"] == 0


def test_fifty_concurrent_deliveries_credit_once(api, stack, pair, new_client):
    creator, fan = pair
    p = initiate(api, fan, creator["user"]["id"]).json
    d = sandbox_deliveries(api, p["mobile_money_url"])
    statuses = []

    def deliver():
        statuses.append(post_delivery(new_client(), d, "approve").status)

    threads = [threading.Thread(target=deliver) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 50
    assert wallet(api, creator)["balance"] == 2125
    assert stack.psql(f"SELECT count(*) FROM journal_entries WHERE payment_id = '{p['id']}'"
                      f" AND kind = 'payment'")[0][0] == "1"


def test_idempotent_initiate(api, stack, pair):
    creator, fan = pair
    key = uuid.uuid4().hex
    first = initiate(api, fan, creator["user"]["id"], key=key)
    again = initiate(api, fan, creator["user"]["id"], key=key)
    assert first.status == again.status == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert_problem(initiate(api, fan, creator["user"]["id"], key=key, amount=2600), 422,
                   "idempotency_key_reused")
    # the Idempotency-Key spelling works too, and keys are per caller
    other = register(api)
    r = api.post("/payments/initiate", token=other["access_token"], headers={"Idempotency-Key": key},
                 json={"creator_id": creator["user"]["id"], "amount": 2500, "currency": "ZMW",
                       "message": "great show", "provider": "sandbox"})
    assert r.status == 201 and r.json["id"] != first.json["id"]
    assert stack.psql(f"SELECT count(*) FROM payments WHERE fan_id = '{fan['user']['id']}'")[0][0] == "1"


def test_idempotency_key_in_flight_409_and_missing_400(api, stack, pair):
    creator, fan = pair
    key = uuid.uuid4().hex
    body = {"creator_id": creator["user"]["id"], "amount": 2500, "currency": "ZMW",
            "message": "great show", "provider": "sandbox"}
    import hashlib as h
    fp = h.sha256(("POST /payments/initiate\n" + json.dumps(body, sort_keys=True, separators=(",", ":"))).encode()).hexdigest()
    stack.psql(f"INSERT INTO idempotency_keys (user_id, key, fingerprint) VALUES ('{fan['user']['id']}', '{key}', '{fp}')")
    assert_problem(initiate(api, fan, creator["user"]["id"], key=key), 409, "idempotency_key_in_use")
    r = api.post("/payments/initiate", token=fan["access_token"], json=body)
    assert_problem(r, 400, "idempotency_key_required")
    r = api.post("/payments/initiate", token=fan["access_token"], json=body,
                 headers={"X-Idempotency-Key": "x" * 256})
    assert_problem(r, 400, "idempotency_key_required")


def test_initiate_validation(api, pair):
    creator, fan = pair
    cid = creator["user"]["id"]
    cases = [({"amount": 99}, "amount"), ({"amount": 10000001}, "amount"), ({"amount": 0}, "amount"),
             ({"amount": 25.5}, "amount"), ({"amount": "2500"}, "amount"), ({"currency": "USD"}, "currency"),
             ({"message": "x" * 281}, "message"), ({"provider": "paypal"}, "provider"),
             ({"creator_id": "nope"}, "creator_id"), ({"creator_id": str(uuid.uuid4())}, "creator_id"),
             ({"creator_id": fan["user"]["id"]}, "creator_id"), ({"tip": 1}, "tip"),
             ({"phone_number": "call me"}, "phone_number")]
    for change, field in cases:
        body = {"creator_id": cid, "amount": 2500, "currency": "ZMW", "provider": "sandbox", **change}
        r = api.post("/payments/initiate", token=fan["access_token"], json=body,
                     headers={"X-Idempotency-Key": uuid.uuid4().hex})
        assert_problem(r, 422, field=field)
    assert_problem(initiate(api, creator, cid), 403)


def test_payments_are_private(api, pair, new_client):
    creator, fan = pair
    p = initiate(api, fan, creator["user"]["id"]).json
    stranger = register(new_client())
    assert_problem(api.get(f"/payments/{p['id']}", token=stranger["access_token"]), 404)
    assert api.get(f"/payments/{p['id']}", token=creator["access_token"]).status == 200
    assert [x["id"] for x in api.get("/payments", token=fan["access_token"]).json["data"]] == [p["id"]]
    assert [x["id"] for x in api.get("/payments", token=creator["access_token"]).json["data"]] == [p["id"]]
    assert api.get("/payments", token=stranger["access_token"]).json["data"] == []
    assert_problem(api.get("/payments?limit=0", token=fan["access_token"]), 422, field="limit")


def test_refund_reverses_credit(api, stack, pair, admin):
    creator, fan = pair
    p = initiate(api, fan, creator["user"]["id"]).json
    post_delivery(api, sandbox_deliveries(api, p["mobile_money_url"]), "approve")
    assert wallet(api, creator)["balance"] == 2125
    key = uuid.uuid4().hex
    why = {"reason": "asked by the fan"}
    assert_problem(api.post(f"/payments/{p['id']}/refund", token=fan["access_token"], json=why,
                            headers={"X-Idempotency-Key": key}), 403)
    assert_problem(api.post(f"/payments/{p['id']}/refund", token=admin["access_token"], json=why), 400)
    assert_problem(api.post(f"/payments/{p['id']}/refund", token=admin["access_token"], json={},
                            headers={"X-Idempotency-Key": key}), 422, field="reason")
    r = api.post(f"/payments/{p['id']}/refund", token=admin["access_token"], json=why,
                 headers={"X-Idempotency-Key": key})
    assert r.status == 200 and r.json["status"] == "refunded", r
    assert r.json["refunded_amount"] == 2500 and r.json["refund"]["amount"] == 2500
    assert r.json["refund"]["fee"] == 375 and r.json["refund"]["status"] == "succeeded"
    again = api.post(f"/payments/{p['id']}/refund", token=admin["access_token"], json=why,
                     headers={"X-Idempotency-Key": key})
    assert again.status == 200 and again.headers["Idempotent-Replayed"] == "true"
    w = wallet(api, creator)
    assert w["balance"] == 0 and w["transactions"][0]["type"] == "refund" and w["transactions"][0]["amount"] == -2125
    assert api.get(f"/creators/{creator['user']['id']}").json["earnings"] == 0
    log = api.get("/admin/audit-log", token=admin["access_token"]).json["data"]
    assert any(e["action"] == "payment.refund" and e["target_id"] == p["id"] and
               e["actor_id"] == admin["user"]["id"] for e in log)
    # the reversal, the audit row and the stored answer: one transaction
    same_tx = stack.psql(
        "SELECT p.xmin::text = a.xmin::text, p.xmin::text = k.xmin::text FROM payments p,"
        f" audit_log a, idempotency_keys k WHERE p.id = '{p['id']}' AND a.target_id = '{p['id']}'"
        f" AND a.action = 'payment.refund' AND k.key = '{key}'")
    assert same_tx == [("t", "t")], same_tx
    assert_problem(api.post(f"/payments/{p['id']}/refund", token=admin["access_token"], json=why,
                            headers={"X-Idempotency-Key": uuid.uuid4().hex}), 409, "not_refundable")
    assert_problem(api.post(f"/payments/{uuid.uuid4()}/refund", token=admin["access_token"],
                            json=why, headers={"X-Idempotency-Key": uuid.uuid4().hex}), 404)


def test_cached_profile_follows_credit_duplicate_and_refund(api, stack, pair, admin):
    """The creator cache (on in the test stack) never shows stale earnings
    after a money movement: a credit and a refund drop the cached profile;
    a duplicate delivery, which moves nothing, keeps it."""
    creator, fan = pair
    cid = creator["user"]["id"]
    profile = lambda: api.get(f"/creators/{cid}")
    assert profile().json["earnings"] == 0
    assert profile().headers["X-Tipzed-Cache"] == "hit"
    p = initiate(api, fan, cid).json
    d = sandbox_deliveries(api, p["mobile_money_url"])
    assert post_delivery(api, d, "approve").status == 200
    after = profile()
    assert after.json["earnings"] == 2125 and after.headers["X-Tipzed-Cache"] == "miss"
    assert post_delivery(api, d, "approve").status == 200  # duplicate: nothing moves
    assert profile().headers["X-Tipzed-Cache"] == "hit"
    r = api.post(f"/payments/{p['id']}/refund", token=admin["access_token"],
                 json={"reason": "duplicate tip"}, headers={"X-Idempotency-Key": uuid.uuid4().hex})
    assert r.status == 200, r
    refunded = profile()
    assert refunded.json["earnings"] == 0 and refunded.headers["X-Tipzed-Cache"] == "miss"


def test_refund_409_when_wallet_cannot_cover(api, stack, pair, admin):
    creator, fan = pair
    p = initiate(api, fan, creator["user"]["id"]).json
    post_delivery(api, sandbox_deliveries(api, p["mobile_money_url"]), "approve")
    # move the money out of the wallet through the posting path
    stack.psql(f"SELECT tz_post_entry('test:{uuid.uuid4()}', 'adjustment', NULL, NULL, 'ZMW',"
               f" ARRAY[tz_account('wallet', '{creator['user']['id']}', NULL, 'ZMW'),"
               f" tz_account('payouts_settled', NULL, NULL, 'ZMW')], ARRAY[-2000, 2000]::bigint[])")
    r = api.post(f"/payments/{p['id']}/refund", token=admin["access_token"],
                 json={"reason": "asked"}, headers={"X-Idempotency-Key": uuid.uuid4().hex})
    assert_problem(r, 409, "insufficient_funds")
    assert api.get(f"/payments/{p['id']}", token=fan["access_token"]).json["status"] == "succeeded"
    assert wallet(api, creator)["balance"] == 125


def test_expired_payment_still_credits_late_success(api, stack, pair):
    creator, fan = pair
    p = initiate(api, fan, creator["user"]["id"]).json
    d = sandbox_deliveries(api, p["mobile_money_url"])
    stack.psql(f"UPDATE payments SET expires_at = now() - interval '1 second' WHERE id = '{p['id']}'")
    stack.psql("SELECT tz_api_payments_expire('{}')")   # or the watchdog got there first
    assert api.get(f"/payments/{p['id']}", token=fan["access_token"]).json["status"] == "expired"
    assert post_delivery(api, d, "approve").status == 200
    assert api.get(f"/payments/{p['id']}", token=fan["access_token"]).json["status"] == "succeeded"
    assert wallet(api, creator)["balance"] == 2125


def test_reconciliation_clean_after_payments(stack):
    r = stack.tipzedctl("reconcile")
    assert r.returncode == 0, r.stdout


def test_watchdog_expires_stale_pending_payments(api, stack, pair):
    creator, fan = pair
    p = initiate(api, fan, creator["user"]["id"]).json
    stack.psql(f"UPDATE payments SET expires_at = now() - interval '1 second' WHERE id = '{p['id']}'")
    deadline = time.time() + 20
    status = "pending"
    while time.time() < deadline and status == "pending":
        time.sleep(0.5)
        status = api.get(f"/payments/{p['id']}", token=fan["access_token"]).json["status"]
    assert status == "expired"


TRANSITIONS = [
    # from, event kind, amount sent, expected outcome, expected status
    ("pending", "success", 2500, "credited", "succeeded"),
    ("pending", "success", 100, "review", "review"),
    ("pending", "failed", None, "failed", "failed"),
    ("pending", "unverified", None, "review", "review"),
    ("expired", "success", None, "credited", "succeeded"),
    ("expired", "failed", None, "noop", "expired"),
    ("failed", "success", None, "review", "review"),
    ("failed", "failed", None, "noop", "failed"),
    ("succeeded", "success", None, "noop", "succeeded"),
    ("succeeded", "failed", None, "noop", "succeeded"),
    ("refunded", "success", None, "noop", "refunded"),
    ("review", "success", None, "noop", "review"),
]


SM_DB = "tz_scratch_states"
FAN = "00000000-0000-4000-8000-00000000f001"
CREATOR = "00000000-0000-4000-8000-00000000c001"


@pytest.fixture(scope="module")
def states_db(stack):
    """A scratch database: payments in arbitrary states would make the
    shared ledger fail reconciliation on purpose."""
    stack.scratch_db(SM_DB)
    stack.psql("INSERT INTO users (id, email, full_name, role, password_hash) VALUES"
               f" ('{FAN}', 'f@example.com', 'F', 'fan', 'x'),"
               f" ('{CREATOR}', 'c@example.com', 'C', 'creator', 'x')", db=SM_DB)
    return SM_DB


@pytest.mark.parametrize("start,kind,amount,outcome,end", TRANSITIONS)
def test_state_machine_table(stack, states_db, start, kind, amount, outcome, end):
    """The transition table of tz_api_apply_event(), one row per case."""
    db = states_db
    pid = str(uuid.uuid4())
    stack.psql(f"INSERT INTO payments (id, fan_id, creator_id, amount, currency, fee_bps, fee, net,"
               f" provider, status, expires_at) VALUES ('{pid}', '{FAN}', '{CREATOR}', 2500, 'ZMW',"
               f" 1500, 375, 2125, 'sandbox', '{start}', now())", db=db)
    amt = "NULL" if amount is None else str(amount)
    call = (f"SELECT tz_api_apply_event('sandbox', 'evt-{pid}', '{pid}', '{kind}', NULL, {amt}, NULL)"
            "::json->>'outcome'")
    assert stack.psql(call, db=db)[0][0] == outcome
    assert stack.psql(f"SELECT status FROM payments WHERE id = '{pid}'", db=db)[0][0] == end
    credits = stack.psql(f"SELECT count(*) FROM journal_entries WHERE payment_id = '{pid}'", db=db)[0][0]
    assert credits == ("1" if outcome == "credited" else "0")
    assert stack.psql(call, db=db)[0][0] == "duplicate"  # the same event id changes nothing


def test_return_page_shows_the_state_and_polls_until_final(api, stack, pair):
    creator, fan = pair
    p = initiate(api, fan, creator["user"]["id"], provider="mobile_money").json
    page = api.get(f"/payments/{p['id']}/return")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html"), page
    assert page.headers["Content-Security-Policy"] == "default-src 'none'"
    assert b'http-equiv="refresh"' in page.body and b">pending<" in page.body
    assert b"Tip of 25.00 ZMW to Chanda" in page.body, page.body
    assert mm_webhook(api, stack, {"payment_id": p["id"], "status": "success",
                                   "timestamp": int(time.time())}).status == 200
    page = api.get(f"/payments/{p['id']}/return")
    assert b">succeeded<" in page.body and b'http-equiv="refresh"' not in page.body
    assert_problem(api.get(f"/payments/{uuid.uuid4()}/return"), 404)
    assert_problem(api.post(f"/payments/{p['id']}/return"), 405)


def review_payment(api, stack, fan, creator):
    p = initiate(api, fan, creator["user"]["id"], provider="mobile_money").json
    assert mm_webhook(api, stack, {"payment_id": p["id"], "status": "success", "timestamp": 1,
                                   "amount": 100, "currency": "ZMW"}).status == 200
    return p["id"]


def test_review_is_resolved_by_an_admin_and_listed_until_then(api, stack, pair, admin):
    """A payment in review is an open item of the reconciliation (with its
    age) until an admin resolves it: credit posts the entry, fail does not;
    the audit row and the answer under the key are in the same transaction."""
    creator, fan = pair
    tok = admin["access_token"]
    pid, other = review_payment(api, stack, fan, creator), review_payment(api, stack, fan, creator)
    items = {i["id"]: i for i in api.get("/admin/reconciliation", token=tok).json["open_items"]}
    assert items[pid]["kind"] == "payment_review" and items[pid]["age_seconds"] >= 0
    assert "amount" in items[pid]["detail"]
    out = stack.tipzedctl("reconcile")
    assert f"open\tpayment_review\t{pid}\t" in out.stdout, out.stdout
    url, key = f"/admin/payments/{pid}/resolve", uuid.uuid4().hex
    body = {"action": "credit", "reason": "the gateway confirmed K25.00 by phone"}
    assert_problem(api.post(url, token=fan["access_token"], json=body,
                            headers={"X-Idempotency-Key": key}), 403)
    assert_problem(api.post(url, token=tok, json={"action": "refund", "reason": "x"},
                            headers={"X-Idempotency-Key": key}), 422, field="action")
    assert_problem(api.post(url, token=tok, json={"action": "credit"},
                            headers={"X-Idempotency-Key": key}), 422, field="reason")
    assert_problem(api.post(url, token=tok, json=body), 400)
    r = api.post(url, token=tok, json=body, headers={"X-Idempotency-Key": key})
    assert r.status == 200 and r.json["status"] == "succeeded", r
    assert wallet(api, creator)["balance"] == 2125
    again = api.post(url, token=tok, json=body, headers={"X-Idempotency-Key": key})
    assert again.json == r.json and again.headers["Idempotent-Replayed"] == "true"
    assert wallet(api, creator)["balance"] == 2125
    assert_problem(api.post(url, token=tok, json=body, headers={"X-Idempotency-Key": uuid.uuid4().hex}),
                   409, "not_in_review")
    assert_problem(api.post(f"/admin/payments/{uuid.uuid4()}/resolve", token=tok, json=body,
                            headers={"X-Idempotency-Key": uuid.uuid4().hex}), 404)
    same_tx = stack.psql(
        "SELECT p.xmin::text = a.xmin::text, p.xmin::text = k.xmin::text FROM payments p,"
        f" audit_log a, idempotency_keys k WHERE p.id = '{pid}' AND a.target_id = '{pid}'"
        f" AND a.action = 'payment.resolve' AND k.key = '{key}'")
    assert same_tx == [("t", "t")], same_tx
    r = api.post(f"/admin/payments/{other}/resolve", token=tok, headers={"X-Idempotency-Key": key + "x"},
                 json={"action": "fail", "reason": "never paid"})
    assert r.status == 200 and r.json["status"] == "failed"
    assert wallet(api, creator)["balance"] == 2125
    open_now = {i["id"] for i in api.get("/admin/reconciliation", token=tok).json["open_items"]}
    assert pid not in open_now and other not in open_now
    assert stack.tipzedctl("reconcile").returncode == 0
