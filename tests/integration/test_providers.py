"""Flutterwave and Stripe against local stand-ins of their APIs: checkout
creation, signed webhooks, verification, provider failures."""
import hashlib
import hmac
import json
import os
import time
import urllib.parse
import uuid

import pytest

from tzclient import assert_problem, register


@pytest.fixture
def pair(new_client):
    return register(new_client(), role="creator", full_name="Chanda"), register(new_client())


def initiate(api, fan, creator, provider, amount=2500):
    return api.post("/payments/initiate", token=fan["access_token"],
                    headers={"X-Idempotency-Key": uuid.uuid4().hex},
                    json={"creator_id": creator["user"]["id"], "amount": amount, "currency": "ZMW",
                          "provider": provider, "phone_number": "+260971234567"})


def balance(api, creator):
    return api.get("/wallets/me", token=creator["access_token"]).json["balance"]


def status(api, fan, pid):
    return api.get(f"/payments/{pid}", token=fan["access_token"]).json["status"]


# ---------------------------------------------------------------- Flutterwave

def flw_event(tx_id, tx_ref, amount, currency="ZMW", st="successful"):
    return json.dumps({"event": "charge.completed", "data": {
        "id": tx_id, "tx_ref": tx_ref, "flw_ref": f"FLW-MOCK-{tx_id}", "amount": amount,
        "currency": currency, "charged_amount": amount, "status": st,
        "customer": {"email": "fan@example.com"}}}).encode()


def flw_deliver(api, stack, body, secret=None):
    return api.post("/webhooks/flutterwave", body=body, headers={
        "Content-Type": "application/json",
        "verif-hash": (secret or stack.secret("webhook_flutterwave")).decode()})


def test_flutterwave_checkout_webhook_verify_credit(api, stack, flw, pair):
    creator, fan = pair
    r = initiate(api, fan, creator, "flutterwave")
    assert r.status == 201, r
    p = r.json
    assert p["mobile_money_url"] == f"{flw.base_url}/pay/{p['id']}"
    sent = [x for x in flw.requests if x["path"] == "/v3/payments"][-1]
    body = json.loads(sent["body"])
    assert body["tx_ref"] == p["id"] and body["amount"] == 25 and body["currency"] == "ZMW"
    assert body["customer"]["email"] == fan["email"]
    tx = int(time.time() * 1000) % 10 ** 9
    flw.verify[str(tx)] = {"status": "success", "message": "Transaction fetched successfully",
                           "data": {"id": tx, "tx_ref": p["id"], "amount": 25.0, "currency": "ZMW",
                                    "status": "successful"}}
    assert flw_deliver(api, stack, flw_event(tx, p["id"], 25)).status == 200
    assert status(api, fan, p["id"]) == "succeeded" and balance(api, creator) == 2125
    # the same delivery again changes nothing
    assert flw_deliver(api, stack, flw_event(tx, p["id"], 25)).status == 200
    assert balance(api, creator) == 2125


def test_flutterwave_verify_mismatch_goes_to_review(api, stack, flw, pair):
    creator, fan = pair
    p = initiate(api, fan, creator, "flutterwave").json
    tx = int(time.time() * 1000) % 10 ** 9 + 1
    flw.verify[str(tx)] = {"status": "success", "data": {
        "id": tx, "tx_ref": p["id"], "amount": 1.0, "currency": "ZMW", "status": "successful"}}
    # the webhook claims the full amount; the verification says otherwise
    assert flw_deliver(api, stack, flw_event(tx, p["id"], 25)).status == 200
    assert status(api, fan, p["id"]) == "review" and balance(api, creator) == 0
    # the provider's charge belongs to another payment: a contradiction too
    p2 = initiate(api, fan, creator, "flutterwave").json
    flw.verify[str(tx + 1)] = {"status": "success", "data": {
        "id": tx + 1, "tx_ref": p["id"], "amount": 25.0, "currency": "ZMW", "status": "successful"}}
    assert flw_deliver(api, stack, flw_event(tx + 1, p2["id"], 25)).status == 200
    assert status(api, fan, p2["id"]) == "review" and balance(api, creator) == 0


def verified(flw, tx, pid, st="successful", amount=25.0):
    flw.verify[str(tx)] = {"status": "success", "message": "Transaction fetched successfully",
                           "data": {"id": tx, "tx_ref": pid, "amount": amount, "currency": "ZMW",
                                    "status": st}}


def test_flutterwave_verify_outage_is_no_verdict(api, stack, flw, pair):
    """A verify call that cannot be trusted yet (transport error, 429, 5xx,
    an unexpected 4xx such as 404 for a transaction not yet visible)
    answers 502 and records nothing: the redelivery after the provider
    recovers still credits."""
    creator, fan = pair
    p = initiate(api, fan, creator, "flutterwave").json
    tx = int(time.time() * 1000) % 10 ** 9 + 3
    assert_problem(flw_deliver(api, stack, flw_event(tx, p["id"], 25)), 502, "provider_unavailable")
    for code in (429, 500, 503, 401, 403, 400):
        flw.verify_fail.append(code)
        assert_problem(flw_deliver(api, stack, flw_event(tx, p["id"], 25)), 502)
    assert status(api, fan, p["id"]) == "pending" and balance(api, creator) == 0
    verified(flw, tx, p["id"])
    assert flw_deliver(api, stack, flw_event(tx, p["id"], 25)).status == 200
    assert status(api, fan, p["id"]) == "succeeded" and balance(api, creator) == 2125


def test_flutterwave_failure_events_are_verified(api, stack, flw, pair):
    """A reported failure is checked with the provider too: the provider's
    word wins, so a charge that in fact succeeded is credited, and a
    failure the provider has not settled is retried later."""
    creator, fan = pair
    p = initiate(api, fan, creator, "flutterwave").json
    tx = int(time.time() * 1000) % 10 ** 9 + 5
    verified(flw, tx, p["id"], st="pending")
    assert_problem(flw_deliver(api, stack, flw_event(tx, p["id"], 25, st="failed")), 502)
    assert status(api, fan, p["id"]) == "pending"
    verified(flw, tx, p["id"], st="successful")
    assert flw_deliver(api, stack, flw_event(tx, p["id"], 25, st="failed")).status == 200
    assert status(api, fan, p["id"]) == "succeeded" and balance(api, creator) == 2125
    p2 = initiate(api, fan, creator, "flutterwave").json
    verified(flw, tx + 1, p2["id"], st="failed")
    assert flw_deliver(api, stack, flw_event(tx + 1, p2["id"], 25, st="failed")).status == 200
    assert status(api, fan, p2["id"]) == "failed"


def test_unknown_or_disabled_provider_webhook_is_404(api):
    for name in ("paypal", "mtn", "x"):
        assert_problem(api.post(f"/webhooks/{name}", body=b"{}"), 404, "not_found")
    assert_problem(api.post("/webhooks/Stripe", body=b"{}"), 404)


def test_flutterwave_webhook_auth_and_shape(api, stack, flw, pair):
    creator, fan = pair
    p = initiate(api, fan, creator, "flutterwave").json
    body = flw_event(99, p["id"], 25)
    assert_problem(flw_deliver(api, stack, body, secret=b"wrong-hash-0123456789"), 401)
    assert_problem(api.post("/webhooks/flutterwave", body=body), 401)
    assert_problem(flw_deliver(api, stack, b"{not json"), 400, "invalid_json")
    r = flw_deliver(api, stack, json.dumps({"event": "charge.completed", "data": {
        "id": 5, "tx_ref": p["id"], "amount": "25", "currency": "ZMW", "status": "successful"}}).encode())
    assert_problem(r, 422, "invalid_event")
    assert r.json["errors"][0]["field"] == "data.amount"
    other = json.dumps({"event": "transfer.completed", "data": {}}).encode()
    assert flw_deliver(api, stack, other).status == 200
    assert status(api, fan, p["id"]) == "pending"


def test_provider_down_or_slow_gives_502_and_failed_payment(api, stack, flw, stripe, pair):
    creator, fan = pair
    flw.fail_next(500)
    r = initiate(api, fan, creator, "flutterwave")
    assert_problem(r, 502, "provider_unavailable")
    stripe.hang_next()
    assert_problem(initiate(api, fan, creator, "stripe"), 502, "provider_unavailable")
    mine = api.get("/payments", token=fan["access_token"]).json["data"]
    assert [x["status"] for x in mine] == ["failed", "failed"]
    assert balance(api, creator) == 0


# ---------------------------------------------------------------- Stripe

def stripe_deliver(api, stack, event, t=None, secret=None):
    body = json.dumps(event).encode()
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret or stack.secret("webhook_stripe"), f"{t}.".encode() + body,
                   hashlib.sha256).hexdigest()
    return api.post("/webhooks/stripe", body=body, headers={
        "Content-Type": "application/json", "Stripe-Signature": f"t={t},v1={mac},v0=ignored"})


def session_completed(pid, amount=2500, currency="zmw", evt=None):
    return {"id": evt or f"evt_{uuid.uuid4().hex}", "object": "event", "type": "checkout.session.completed",
            "data": {"object": {"id": f"cs_test_{uuid.uuid4().hex[:8]}", "object": "checkout.session",
                                "client_reference_id": pid, "metadata": {"payment_id": pid},
                                "amount_total": amount, "currency": currency, "payment_status": "paid",
                                "payment_intent": f"pi_{uuid.uuid4().hex[:12]}"}}}


def test_stripe_checkout_and_signed_webhooks(api, stack, stripe, pair):
    creator, fan = pair
    r = initiate(api, fan, creator, "stripe")
    assert r.status == 201, r
    p = r.json
    assert p["mobile_money_url"].startswith(f"{stripe.base_url}/c/pay/cs_test_")
    form = dict(__import__("urllib.parse").parse.parse_qsl(stripe.requests[-1]["body"].decode()))
    assert form["client_reference_id"] == p["id"] and form["metadata[payment_id]"] == p["id"]
    assert form["line_items[0][price_data][unit_amount]"] == "2500"
    assert form["line_items[0][price_data][currency]"] == "zmw" and form["mode"] == "payment"
    evt = session_completed(p["id"])
    assert stripe_deliver(api, stack, evt).status == 200
    assert status(api, fan, p["id"]) == "succeeded" and balance(api, creator) == 2125
    assert stripe_deliver(api, stack, evt).status == 200  # replayed event: no change
    intent = {"id": f"evt_{uuid.uuid4().hex}", "type": "payment_intent.succeeded", "data": {"object": {
        "id": "pi_x", "amount_received": 2500, "currency": "zmw", "metadata": {"payment_id": p["id"]}}}}
    assert stripe_deliver(api, stack, intent).status == 200
    assert balance(api, creator) == 2125
    assert stripe_deliver(api, stack, {"id": "evt_other", "type": "customer.created",
                                       "data": {"object": {}}}).status == 200


def test_stripe_signature_failures(api, stack, stripe, pair):
    creator, fan = pair
    p = initiate(api, fan, creator, "stripe").json
    evt = session_completed(p["id"])
    assert_problem(stripe_deliver(api, stack, evt, secret=b"whsec_wrong_secret_123"), 401)
    assert_problem(stripe_deliver(api, stack, evt, t=int(time.time()) - 400), 401)
    assert_problem(stripe_deliver(api, stack, evt, t=int(time.time()) + 400), 401)
    assert_problem(api.post("/webhooks/stripe", body=json.dumps(evt).encode()), 401)
    assert status(api, fan, p["id"]) == "pending"


def test_stripe_amount_mismatch_and_failure(api, stack, stripe, pair):
    creator, fan = pair
    p = initiate(api, fan, creator, "stripe").json
    assert stripe_deliver(api, stack, session_completed(p["id"], amount=100)).status == 200
    assert status(api, fan, p["id"]) == "review" and balance(api, creator) == 0
    p2 = initiate(api, fan, creator, "stripe").json
    expired = {"id": f"evt_{uuid.uuid4().hex}", "type": "checkout.session.expired",
               "data": {"object": {"id": "cs_y", "client_reference_id": p2["id"],
                                   "amount_total": 2500, "currency": "zmw"}}}
    assert stripe_deliver(api, stack, expired).status == 200
    assert status(api, fan, p2["id"]) == "failed"


def test_stripe_card_declined_then_retried_in_the_same_session(api, stack, stripe, pair):
    """Checkout lets the payer try another card after a decline: the
    PaymentIntent's failure is not final, and the session's completion
    credits the payment instead of stranding it in review."""
    creator, fan = pair
    p = initiate(api, fan, creator, "stripe").json
    declined = {"id": f"evt_{uuid.uuid4().hex}", "type": "payment_intent.payment_failed",
                "data": {"object": {"id": "pi_z", "amount": 2500, "currency": "zmw",
                                    "metadata": {"payment_id": p["id"]}}}}
    r = stripe_deliver(api, stack, declined)
    assert r.status == 200 and r.json == {"status": "ignored"}, r
    assert status(api, fan, p["id"]) == "pending"
    assert stripe_deliver(api, stack, session_completed(p["id"])).status == 200
    assert status(api, fan, p["id"]) == "succeeded" and balance(api, creator) == 2125


def test_absolute_urls_come_from_tipzed_public_url(api, stack, stripe, pair):
    """A forged Host header changes no URL sent to a provider or a payer:
    TipzedPublicURL is their only source, and the payer comes back to the
    return page, never to the POST-only webhook."""
    creator, fan = pair
    public = stack.base_url + "/api/v1"

    def initiate_as(provider):
        r = api.post("/payments/initiate", token=fan["access_token"],
                     headers={"X-Idempotency-Key": uuid.uuid4().hex, "Host": "evil.example"},
                     json={"creator_id": creator["user"]["id"], "amount": 2500, "currency": "ZMW",
                           "provider": provider})
        assert r.status == 201, r
        return r.json

    link = initiate_as("mobile_money")["mobile_money_url"]
    assert "evil" not in link
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
    assert query["callback"] == [public + "/payments/webhook"]
    assert initiate_as("sandbox")["mobile_money_url"].startswith(public + "/sandbox/checkout/")
    p = initiate_as("stripe")
    form = [x for x in stripe.requests if x["path"] == "/v1/checkout/sessions"][-1]
    sent = dict(urllib.parse.parse_qsl(form["body"].decode()))
    assert sent["success_url"] == sent["cancel_url"] == f"{public}/payments/{p['id']}/return"
    assert b"evil" not in form["body"]
