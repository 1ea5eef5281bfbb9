"""Refunds through the provider (Stripe, Flutterwave, the mobile_money
gateway, the sandbox), disputes with the hold and the creator receivable,
and status polling, against the local stand-ins of the providers' APIs."""
import json
import time
import uuid

import pytest

from test_payments import mm_webhook
from test_providers import flw_deliver, initiate, stripe_deliver
from tzclient import assert_problem, register


@pytest.fixture
def pair(new_client):
    return register(new_client(), role="creator", full_name="Chanda"), register(new_client())


def balance(api, creator):
    return api.get("/wallets/me", token=creator["access_token"]).json["balance"]


def payment(api, admin, pid):
    return api.get(f"/payments/{pid}", token=admin["access_token"]).json


def refund(api, admin, pid, amount=None, key=None, reason="asked by the fan"):
    body = {"reason": reason}
    if amount is not None:
        body["amount"] = amount
    return api.post(f"/payments/{pid}/refund", token=admin["access_token"], json=body,
                    headers={"X-Idempotency-Key": key or uuid.uuid4().hex})


def wait_for(fn, seconds=20):
    deadline = time.time() + seconds
    value = fn()
    while not value and time.time() < deadline:
        time.sleep(0.3)
        value = fn()
    return value


def accounts(stack, creator_id):
    """{kind: balance} of the creator's wallet and receivable (ZMW)."""
    rows = stack.psql(f"SELECT kind, balance FROM accounts WHERE owner_id = '{creator_id}'"
                      " AND currency = 'ZMW'")
    return {k: int(b) for k, b in rows}


def refund_entries(stack, pid):
    return int(stack.psql(f"SELECT count(*) FROM journal_entries WHERE payment_id = '{pid}'"
                          " AND kind = 'refund'")[0][0])


def reconciled(stack):
    r = stack.tipzedctl("reconcile")
    return r.returncode == 0, r.stdout


# ------------------------------------------------------------------ Stripe

def stripe_paid(api, stack, stripe, fan, creator, amount=2500):
    """A Stripe payment credited through checkout.session.completed; returns
    (payment, PaymentIntent id)."""
    p = initiate(api, fan, creator, "stripe", amount=amount).json
    pi = f"pi_{uuid.uuid4().hex[:14]}"
    evt = {"id": f"evt_{uuid.uuid4().hex}", "type": "checkout.session.completed",
           "data": {"object": {"id": stripe.session_for(p["id"]), "object": "checkout.session",
                               "client_reference_id": p["id"], "metadata": {"payment_id": p["id"]},
                               "amount_total": amount, "currency": "zmw",
                               "payment_status": "paid", "payment_intent": pi}}}
    assert stripe_deliver(api, stack, evt).status == 200
    return p, pi


def stripe_event(kind, obj):
    return {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": kind,
            "data": {"object": obj}}


def test_stripe_full_refund_through_the_provider(api, stack, stripe, pair, admin):
    creator, fan = pair
    p, pi = stripe_paid(api, stack, stripe, fan, creator)
    assert balance(api, creator) == 2125
    key = uuid.uuid4().hex
    r = refund(api, admin, p["id"], key=key)
    assert r.status == 200 and r.json["status"] == "refunded", r
    assert r.json["refund"]["amount"] == 2500 and r.json["refund"]["fee"] == 375
    sent = [x for x in stripe.requests if x["path"] == "/v1/refunds"][-1]
    form = dict(__import__("urllib.parse").parse.parse_qsl(sent["body"].decode()))
    assert form["payment_intent"] == pi and form["amount"] == "2500"
    assert form["metadata[refund_id]"] == r.json["refund"]["id"]
    assert sent["headers"]["Idempotency-Key"] == f"tipzed-refund-{r.json['refund']['id']}"
    assert balance(api, creator) == 0
    # Stripe's own charge.refunded, matched by the PaymentIntent: nothing more moves
    charge = {"id": "ch_1", "object": "charge", "payment_intent": pi, "amount": 2500,
              "amount_refunded": 2500, "refunded": True, "currency": "zmw",
              "metadata": {"payment_id": str(uuid.uuid4())}}  # metadata is never trusted
    assert stripe_deliver(api, stack, stripe_event("charge.refunded", charge)).status == 200
    assert refund_entries(stack, p["id"]) == 1 and balance(api, creator) == 0
    again = refund(api, admin, p["id"], key=key)
    assert again.status == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert_problem(refund(api, admin, p["id"]), 409, "not_refundable")
    assert reconciled(stack)[0]


def test_stripe_partial_refunds_reverse_the_fee_proportionally(api, stack, stripe, pair, admin):
    creator, fan = pair
    p, pi = stripe_paid(api, stack, stripe, fan, creator, amount=1001)   # fee 150, net 851
    r = refund(api, admin, p["id"], amount=333)
    assert r.status == 200 and r.json["status"] == "partially_refunded", r
    assert r.json["refund"]["fee"] == 50          # round-half-up(150 * 333 / 1001) = 50
    assert r.json["refunded_amount"] == 333 and balance(api, creator) == 851 - 283
    assert_problem(refund(api, admin, p["id"], amount=669), 422, field="amount")
    r = refund(api, admin, p["id"])               # the rest: 668, fee 150 - 50
    assert r.status == 200 and r.json["status"] == "refunded", r
    assert r.json["refund"]["amount"] == 668 and r.json["refund"]["fee"] == 100
    assert balance(api, creator) == 0
    assert refund_entries(stack, p["id"]) == 2 and reconciled(stack)[0]


def test_stripe_refund_pending_then_confirmed_by_webhook(api, stack, stripe, pair, admin):
    creator, fan = pair
    p, pi = stripe_paid(api, stack, stripe, fan, creator)
    stripe.refund_next.append("pending")
    r = refund(api, admin, p["id"], amount=1000)
    assert r.status == 202 and r.json["status"] == "refund_pending", r
    assert balance(api, creator) == 2125 and refund_entries(stack, p["id"]) == 0
    assert_problem(refund(api, admin, p["id"], amount=100), 409, "refund_pending")
    rf = r.json["refund"]
    obj = {"id": rf["provider_refund_id"] or "re_x", "object": "refund", "amount": 1000,
           "currency": "zmw", "payment_intent": pi, "status": "succeeded",
           "metadata": {"refund_id": rf["id"]}}
    evt = stripe_event("charge.refund.updated", obj)
    assert stripe_deliver(api, stack, evt).status == 200
    assert stripe_deliver(api, stack, evt).status == 200     # a redelivery moves nothing
    assert payment(api, admin, p["id"])["status"] == "partially_refunded"
    assert balance(api, creator) == 2125 - 850 and refund_entries(stack, p["id"]) == 1
    assert reconciled(stack)[0]


def test_concurrent_refunds_of_one_payment_make_one(api, stack, stripe, pair, admin):
    """Two admins refunding the same payment at once: one refund is recorded
    and sent to the provider, the other is refused while it waits."""
    import threading
    creator, fan = pair
    p, pi = stripe_paid(api, stack, stripe, fan, creator)
    stripe.refund_next.extend(["pending", "pending"])
    got = []
    threads = [threading.Thread(target=lambda: got.append(refund(api, admin, p["id"])))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status for r in got)
    assert codes == [202, 409], got
    assert [r for r in got if r.status == 409][0].json["code"] in ("refund_pending",)
    assert stack.psql(f"SELECT count(*) FROM refunds WHERE payment_id = '{p['id']}'") == [("1",)]
    stripe.refund_next.clear()
    assert balance(api, creator) == 2125 and refund_entries(stack, p["id"]) == 0


def test_refused_refund_leaves_the_ledger_unchanged(api, stack, stripe, pair, admin):
    creator, fan = pair
    p, pi = stripe_paid(api, stack, stripe, fan, creator)
    before = stack.psql("SELECT count(*) FROM journal_entries")[0][0]
    stripe.refund_next.append(400)
    key = uuid.uuid4().hex
    r = refund(api, admin, p["id"], key=key)
    assert_problem(r, 409, "refund_refused")
    assert payment(api, admin, p["id"])["status"] == "succeeded"
    assert balance(api, creator) == 2125
    assert stack.psql("SELECT count(*) FROM journal_entries")[0][0] == before
    assert stack.psql(f"SELECT status FROM refunds WHERE payment_id = '{p['id']}'") == [("failed",)]
    # the key was not spent on the refusal: the admin may try again with it
    r = refund(api, admin, p["id"], key=key)
    assert r.status == 200 and r.json["status"] == "refunded", r


def test_refund_without_an_answer_is_asked_again_by_the_watchdog(api, stack, stripe, pair, admin):
    creator, fan = pair
    p, pi = stripe_paid(api, stack, stripe, fan, creator)
    stripe.refund_next.append(503)
    r = refund(api, admin, p["id"])
    assert r.status == 202 and r.json["status"] == "refund_pending", r
    rid = r.json["refund"]["id"]
    # the next ask (same idempotency key at Stripe) gets the verdict
    stack.psql(f"UPDATE refunds SET next_try_at = now() WHERE id = '{rid}'")
    assert wait_for(lambda: payment(api, admin, p["id"])["status"] == "refunded")
    asked = [x for x in stripe.requests if x["path"] == "/v1/refunds"
             and x["headers"].get("Idempotency-Key") == f"tipzed-refund-{rid}"]
    assert len(asked) >= 2 and balance(api, creator) == 0
    assert refund_entries(stack, p["id"]) == 1


def test_refund_made_in_the_stripe_dashboard_is_recorded(api, stack, stripe, pair, admin):
    creator, fan = pair
    p, pi = stripe_paid(api, stack, stripe, fan, creator)
    charge = {"id": "ch_2", "object": "charge", "payment_intent": pi, "amount": 2500,
              "amount_refunded": 500, "refunded": False, "currency": "zmw"}
    assert stripe_deliver(api, stack, stripe_event("charge.refunded", charge)).status == 200
    got = payment(api, admin, p["id"])
    assert got["status"] == "partially_refunded" and got["refunded_amount"] == 500
    assert balance(api, creator) == 2125 - 425


# ------------------------------------------------------------ Flutterwave

def flw_paid(api, stack, flw, fan, creator, amount=2500):
    p = initiate(api, fan, creator, "flutterwave", amount=amount).json
    tx = int(time.time() * 1000) % 10**9 + int(uuid.uuid4().int % 1000)
    flw.verify[str(tx)] = {"status": "success", "message": "Transaction fetched", "data": {
        "id": tx, "tx_ref": p["id"], "amount": amount / 100, "currency": "ZMW",
        "status": "successful"}}
    body = json.dumps({"event": "charge.completed", "data": {
        "id": tx, "tx_ref": p["id"], "amount": amount / 100, "currency": "ZMW",
        "status": "successful"}}).encode()
    assert flw_deliver(api, stack, body).status == 200
    return p, tx


def test_flutterwave_full_and_partial_refunds(api, stack, flw, pair, admin):
    creator, fan = pair
    p, tx = flw_paid(api, stack, flw, fan, creator)
    r = refund(api, admin, p["id"], amount=1000)
    assert r.status == 200 and r.json["status"] == "partially_refunded", r
    sent = [x for x in flw.requests if x["path"] == f"/v3/transactions/{tx}/refund"][-1]
    assert json.loads(sent["body"])["amount"] == 10 and sent["method"] == "POST"
    assert balance(api, creator) == 2125 - 850
    r = refund(api, admin, p["id"])
    assert r.status == 200 and r.json["status"] == "refunded", r
    assert json.loads(flw.requests[-1]["body"])["amount"] == 15
    assert balance(api, creator) == 0 and reconciled(stack)[0]


def test_flutterwave_chargeback_lost(api, stack, flw, pair, admin):
    creator, fan = pair
    p, tx = flw_paid(api, stack, flw, fan, creator)
    cb = {"id": 2221, "amount": 25, "status": "initiated", "stage": "new", "transaction_id": tx,
          "tx_ref": p["id"], "flw_ref": "FLW-1"}
    cb["id"] = int(uuid.uuid4().int % 10**6)
    body = json.dumps({"event": "chargeback.created", "data": cb}).encode()
    assert flw_deliver(api, stack, body).status == 200
    assert balance(api, creator) == 0
    cb["status"] = "lost"
    body = json.dumps({"event": "chargeback.updated", "data": cb}).encode()
    assert flw_deliver(api, stack, body).status == 200
    d = [x for x in api.get("/admin/disputes", token=admin["access_token"]).json["data"]
         if x["payment_id"] == p["id"]]
    assert d and d[0]["status"] == "lost" and d[0]["amount"] == 2500
    assert balance(api, creator) == 0 and reconciled(stack)[0]


# ------------------------------------------------ the mobile_money gateway

def mm_paid(api, stack, fan, creator, amount=2500):
    p = initiate(api, fan, creator, "mobile_money", amount=amount).json
    assert mm_webhook(api, stack, {"payment_id": p["id"], "status": "success",
                                   "timestamp": int(time.time()), "amount": amount,
                                   "currency": "ZMW", "provider_transaction_id": "MM1"}).status == 200
    return p


def test_gateway_full_and_partial_refunds(api, stack, gateway, pair, admin):
    creator, fan = pair
    p = mm_paid(api, stack, fan, creator)
    r = refund(api, admin, p["id"], amount=500)
    assert r.status == 200 and r.json["status"] == "partially_refunded", r
    sent = [x for x in gateway.requests if x["path"].endswith("/refunds")][-1]
    body = json.loads(sent["body"])
    assert body["payment_id"] == p["id"] and body["amount"] == 500
    assert body["refund_id"] == r.json["refund"]["id"] and "X-Tipzed-Signature" in sent["headers"]
    r = refund(api, admin, p["id"])
    assert r.status == 200 and r.json["status"] == "refunded", r
    assert balance(api, creator) == 0 and reconciled(stack)[0]


def test_sandbox_refunds_at_once_and_momo_cannot(api, stack, pair, admin):
    creator, fan = pair
    from test_payments import post_delivery, sandbox_deliveries
    p = initiate(api, fan, creator, "sandbox").json
    post_delivery(api, sandbox_deliveries(api, p["mobile_money_url"]), "approve")
    r = refund(api, admin, p["id"], amount=100)
    assert r.status == 200 and r.json["status"] == "partially_refunded", r
    assert_problem(refund(api, admin, p["id"], amount=2401), 422, field="amount")
    assert_problem(refund(api, admin, p["id"], amount=0), 422, field="amount")
    pid = str(uuid.uuid4())
    stack.psql(f"INSERT INTO payments (id, fan_id, creator_id, amount, currency, fee_bps, fee,"
               f" net, provider, status, expires_at) VALUES ('{pid}', '{fan['user']['id']}',"
               f" '{creator['user']['id']}', 2500, 'ZMW', 1500, 375, 2125, 'momo', 'review', now())")
    stack.psql(f"SELECT tz_api_payment_resolve('{pid}', 'credit', 'test', '{admin['user']['id']}',"
               f" NULL, NULL)")
    assert_problem(refund(api, admin, pid), 409, "refund_unsupported")
    assert reconciled(stack)[0]


# ---------------------------------------------------------------- disputes

def drain(stack, creator_id, amount):
    """Moves money out of the creator's wallet (as a completed payout does)."""
    stack.psql(f"SELECT tz_post_entry('test:{uuid.uuid4()}', 'adjustment', NULL, NULL, 'ZMW',"
               f" ARRAY[tz_account('wallet', '{creator_id}', NULL, 'ZMW'),"
               f" tz_account('payouts_settled', NULL, NULL, 'ZMW')], ARRAY[-{amount}, {amount}]::bigint[])")


def dispute(pi, dp, status, amount=2500):
    return {"id": dp, "object": "dispute", "amount": amount, "currency": "zmw",
            "payment_intent": pi, "status": status, "reason": "fraudulent"}


def test_dispute_lost_becomes_a_receivable_recovered_from_the_next_tip(
        api, stack, stripe, pair, admin):
    creator, fan = pair
    cid = creator["user"]["id"]
    p, pi = stripe_paid(api, stack, stripe, fan, creator)
    drain(stack, cid, 2000)                     # paid out: 125 left in the wallet
    dp = f"dp_{uuid.uuid4().hex[:12]}"
    created = stripe_event("charge.dispute.created", dispute(pi, dp, "needs_response"))
    assert stripe_deliver(api, stack, created).status == 200
    assert stripe_deliver(api, stack, created).status == 200     # redelivered: nothing more
    assert accounts(stack, cid) == {"wallet": 0, "creator_receivable": -2000}
    open_ = api.get("/admin/disputes?status=open", token=admin["access_token"]).json["data"]
    assert [d["provider_dispute_id"] for d in open_ if d["payment_id"] == p["id"]] == [dp]
    assert_problem(refund(api, admin, p["id"]), 409, "disputed")
    items = api.get("/admin/reconciliation", token=admin["access_token"]).json["open_items"]
    assert any(i["kind"] == "dispute_open" for i in items)
    closed = stripe_event("charge.dispute.closed", dispute(pi, dp, "lost"))
    assert stripe_deliver(api, stack, closed).status == 200
    assert accounts(stack, cid) == {"wallet": 0, "creator_receivable": -2000}
    assert stripe_deliver(api, stack, closed).status == 200     # redelivered: nothing more
    # the chargeback's credit note, and the invoice void: nothing of the payment is left
    docs = {d["kind"]: d for d in api.get("/invoices?limit=100", token=fan["access_token"]).json["data"]
            if d["payment_id"] == p["id"]}
    d_id = [d["id"] for d in api.get("/admin/disputes?status=lost&limit=100",
                                     token=admin["access_token"]).json["data"]
            if d["provider_dispute_id"] == dp]
    note, inv = docs["credit_note"], docs["invoice"]
    assert (note["dispute_id"], note["refund_id"], note["total"], note["tax"]) == \
        (d_id[0], None, -2500, -inv["tax"]) and inv["status"] == "void"
    assert note["lines"][0]["description"].startswith("Chargeback: ")
    assert api.get(f"/receipts/{note['entry_hash']}").status == 200
    # the next tip repays the receivable before the wallet sees anything
    stripe_paid(api, stack, stripe, fan, creator)
    assert accounts(stack, cid) == {"wallet": 125, "creator_receivable": 0}
    ok, out = reconciled(stack)
    assert ok, out


def test_a_refund_then_a_lost_dispute_of_the_rest_void_the_invoice(
        api, stack, stripe, pair, admin):
    """Credit notes of a refund and of a chargeback: their totals and taxes
    add up to minus the invoice's (the tax taken by the running rule)."""
    creator, fan = pair
    p, pi = stripe_paid(api, stack, stripe, fan, creator, amount=2501)
    assert refund(api, admin, p["id"], amount=1000).status == 200
    dp = f"dp_{uuid.uuid4().hex[:12]}"
    for kind, status in (("charge.dispute.created", "needs_response"),
                         ("charge.dispute.closed", "lost")):
        assert stripe_deliver(api, stack, stripe_event(kind, dispute(pi, dp, status, 1501))).status == 200
    docs = [d for d in api.get("/invoices?limit=100", token=fan["access_token"]).json["data"]
            if d["payment_id"] == p["id"]]
    inv = [d for d in docs if d["kind"] == "invoice"][0]
    notes = [d for d in docs if d["kind"] == "credit_note"]
    assert sorted((n["refund_id"] is None, n["total"]) for n in notes) == [(False, -1000), (True, -1501)]
    assert sum(n["tax"] for n in notes) == -inv["tax"] and inv["status"] == "void"
    assert reconciled(stack)[0]


def test_dispute_won_releases_the_hold(api, stack, stripe, pair, admin):
    creator, fan = pair
    cid = creator["user"]["id"]
    p, pi = stripe_paid(api, stack, stripe, fan, creator)
    dp = f"dp_{uuid.uuid4().hex[:12]}"
    assert stripe_deliver(api, stack, stripe_event("charge.dispute.created",
                                                   dispute(pi, dp, "needs_response"))).status == 200
    assert balance(api, creator) == 0 and payment(api, admin, p["id"])["disputed_amount"] == 2500
    assert stripe_deliver(api, stack, stripe_event("charge.dispute.closed",
                                                   dispute(pi, dp, "won"))).status == 200
    assert balance(api, creator) == 2125 and payment(api, admin, p["id"])["disputed_amount"] == 0
    assert [d["kind"] for d in api.get("/invoices?limit=100", token=fan["access_token"]).json["data"]
            if d["payment_id"] == p["id"]] == ["invoice"]      # a won dispute issues nothing
    won = api.get("/admin/disputes?status=won", token=admin["access_token"]).json["data"]
    assert any(d["provider_dispute_id"] == dp for d in won)
    assert_problem(api.get("/admin/disputes?status=maybe", token=admin["access_token"]), 422,
                   field="status")
    assert reconciled(stack)[0]


# ----------------------------------------------------------- status polling

def test_stripe_payment_rescued_by_polling_after_its_webhook_was_lost(
        api, stack, stripe, pair, admin):
    creator, fan = pair
    p = initiate(api, fan, creator, "stripe").json
    sid = stripe.session_for(p["id"])
    stripe.complete_session(sid, f"pi_{uuid.uuid4().hex[:14]}")   # paid; the webhook never comes
    assert wait_for(lambda: payment(api, admin, p["id"])["status"] == "succeeded")
    assert balance(api, creator) == 2125
    assert any(x["path"] == f"/v1/checkout/sessions/{sid}" for x in stripe.requests)


def test_gateway_payment_polled_then_expired_only_after_asking(api, stack, gateway, pair, admin):
    creator, fan = pair
    p = initiate(api, fan, creator, "mobile_money").json
    # the gateway says "pending": asked before its expiry time, the payment
    # is asked once more at it, and only then expires (the watchdog runs
    # every 5 s)
    stack.psql(f"UPDATE payments SET expires_at = now() + interval '8 seconds',"
               f" next_poll_at = now() WHERE id = '{p['id']}'")
    assert wait_for(lambda: payment(api, admin, p["id"])["status"] == "expired")
    asked = [x for x in gateway.requests if x["path"].endswith("/status")
             and json.loads(x["body"]).get("payment_id") == p["id"]]
    assert len(asked) >= 2
    # a later verdict of success still credits the expired payment
    q = initiate(api, fan, creator, "mobile_money").json
    gateway.status_answers[q["id"]] = {"payment_id": q["id"], "status": "success",
                                       "amount": 2500, "currency": "ZMW",
                                       "provider_transaction_id": "MM-POLL"}
    assert wait_for(lambda: payment(api, admin, q["id"])["status"] == "succeeded")
    assert payment(api, admin, q["id"])["provider_transaction_id"] == "MM-POLL"


def test_dispute_of_a_refunded_payment_is_listed_and_takes_nothing(
        api, stack, stripe, pair, admin):
    creator, fan = pair
    p, pi = stripe_paid(api, stack, stripe, fan, creator)
    assert refund(api, admin, p["id"]).status == 200
    dp = f"dp_{uuid.uuid4().hex[:12]}"
    assert stripe_deliver(api, stack, stripe_event("charge.dispute.created",
                                                   dispute(pi, dp, "needs_response"))).status == 200
    listed = [d for d in api.get("/admin/disputes", token=admin["access_token"]).json["data"]
              if d["provider_dispute_id"] == dp]
    assert listed and listed[0]["amount"] == 0 and listed[0]["status"] == "open"
    assert stripe_deliver(api, stack, stripe_event("charge.dispute.closed",
                                                   dispute(pi, dp, "lost"))).status == 200
    assert balance(api, creator) == 0 and payment(api, admin, p["id"])["disputed_amount"] == 0
    assert reconciled(stack)[0]
