"""MTN MoMo Collections (provider momo) against a local stand-in of its
API: a tip from request to credit, callbacks never trusted as sent, the
OAuth token, status polling, and what MoMo cannot do (refunds)."""
import threading
import time
import uuid

import pytest

from tzclient import assert_problem, register

PHONE = "+260971234567"


@pytest.fixture
def pair(new_client):
    return register(new_client(), role="creator", full_name="Mutale"), register(new_client())


def tip(api, fan, creator, phone=PHONE, amount=2500):
    body = {"creator_id": creator["user"]["id"], "amount": amount, "currency": "ZMW",
            "provider": "momo", "message": "for the song"}
    if phone is not None:
        body["phone_number"] = phone
    return api.post("/payments/initiate", token=fan["access_token"], json=body,
                    headers={"X-Idempotency-Key": uuid.uuid4().hex})


def status(api, fan, pid):
    return api.get(f"/payments/{pid}", token=fan["access_token"]).json["status"]


def balance(api, creator):
    return api.get("/wallets/me", token=creator["access_token"]).json["balance"]


def wait_status(api, fan, pid, want, seconds=20):
    deadline = time.time() + seconds
    while status(api, fan, pid) != want and time.time() < deadline:
        time.sleep(0.3)
    return status(api, fan, pid)


def test_momo_tip_from_request_to_credit(api, stack, momo, pair):
    creator, fan = pair
    r = tip(api, fan, creator)
    assert r.status == 201, r
    p = r.json
    assert p["status"] == "pending" and p["provider"] == "momo" and p["mobile_money_url"] is None
    req = [x for x in momo.requests if x["path"] == "/collection/v1_0/requesttopay"
           and x["method"] == "POST"][-1]
    h = {k.lower(): v for k, v in req["headers"].items()}
    assert h["x-reference-id"] == p["id"] and h["x-target-environment"] == "sandbox"
    assert h["x-callback-url"] == f"{stack.api_url}/webhooks/momo"
    assert h["authorization"].startswith("Bearer ")
    body = __import__("json").loads(req["body"])
    assert body["payer"] == {"partyIdType": "MSISDN", "partyId": "260971234567"}
    assert body["externalId"] == p["id"] and body["currency"] == "ZMW"
    assert momo.payment(p["id"])["status"] == "PENDING"
    # the fan confirms on the phone; MoMo calls back; we ask MoMo before crediting
    momo.approve(p["id"])
    code, _ = momo.callback(p["id"])
    assert code == 200
    assert status(api, fan, p["id"]) == "succeeded" and balance(api, creator) == 2125
    asked = [x for x in momo.requests if x["method"] == "GET"
             and x["path"] == f"/collection/v1_0/requesttopay/{p['id']}"]
    assert asked
    code, _ = momo.callback(p["id"])           # delivered again: nothing more
    assert code == 200 and balance(api, creator) == 2125
    assert stack.tipzedctl("reconcile").returncode == 0


def test_momo_callback_is_never_trusted_as_sent(api, stack, momo, pair):
    creator, fan = pair
    p = tip(api, fan, creator).json
    # a forged "SUCCESSFUL" while MoMo still says PENDING credits nothing
    forged = {"externalId": p["id"], "amount": "25", "currency": "ZMW", "status": "SUCCESSFUL",
              "financialTransactionId": "999", "payer": {"partyIdType": "MSISDN",
                                                          "partyId": "260971234567"}}
    r = api.post("/webhooks/momo", json=forged)
    assert r.status == 200, r
    assert status(api, fan, p["id"]) == "pending" and balance(api, creator) == 0
    # MoMo's word is that it failed: the payment fails, whatever the callback said
    momo.decline(p["id"])
    assert api.post("/webhooks/momo", json=forged).status == 200
    assert status(api, fan, p["id"]) == "failed" and balance(api, creator) == 0
    assert_problem(api.post("/webhooks/momo", body=b"not json",
                            headers={"Content-Type": "application/json"}), 400)
    assert_problem(api.post("/webhooks/momo", json={"externalId": "nope", "status": "SUCCESSFUL"}),
                   422)
    unknown = dict(forged, externalId=str(uuid.uuid4()))
    asked = len(momo.requests)
    assert_problem(api.post("/webhooks/momo", json=unknown), 404)
    assert len(momo.requests) == asked        # nobody's callback makes us call MoMo for nothing


def test_momo_amount_mismatch_goes_to_review(api, stack, momo, pair):
    creator, fan = pair
    p = tip(api, fan, creator).json
    momo.approve(p["id"])
    momo.set_amount(p["id"], "2.50")
    assert momo.callback(p["id"])[0] == 200
    assert status(api, fan, p["id"]) == "review" and balance(api, creator) == 0


def test_momo_payment_without_callback_is_credited_by_polling(api, stack, momo, pair):
    creator, fan = pair
    p = tip(api, fan, creator).json
    momo.approve(p["id"])                      # the callback never comes
    assert wait_status(api, fan, p["id"], "succeeded") == "succeeded"
    assert balance(api, creator) == 2125


def test_momo_needs_a_valid_msisdn(api, momo, pair):
    creator, fan = pair
    for phone in (None, "0971234567", "+26097", "260-971-234567"):
        assert_problem(tip(api, fan, creator, phone=phone), 422, field="phone_number")


def test_momo_token_is_cached_and_renewed_when_refused(api, stack, momo, pair):
    """One token per Apache child, fetched once however many requests need
    it at the same moment, and fetched anew once when MoMo refuses it."""
    creator, fan = pair
    assert tip(api, fan, creator).status == 201
    momo.revoke_tokens()                       # MoMo refuses every token issued so far
    before = momo.token_requests
    results = []
    threads = [threading.Thread(target=lambda: results.append(tip(api, fan, creator).status))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [201] * 8, results
    # at most one new token per child (the stack runs two), not one per request
    assert 1 <= momo.token_requests - before <= 2, momo.token_requests - before
    before = momo.token_requests
    for _ in range(4):
        assert tip(api, fan, creator).status == 201
    assert momo.token_requests == before      # cached until it expires


def test_momo_outage_fails_the_payment_with_502(api, momo, pair):
    creator, fan = pair
    momo.fail_next(500)
    assert_problem(tip(api, fan, creator), 502, "provider_unavailable")


def test_momo_payments_cannot_be_refunded_through_collections(api, stack, momo, pair, admin):
    creator, fan = pair
    p = tip(api, fan, creator).json
    momo.approve(p["id"])
    assert momo.callback(p["id"])[0] == 200
    r = api.post(f"/payments/{p['id']}/refund", token=admin["access_token"],
                 json={"reason": "asked"}, headers={"X-Idempotency-Key": uuid.uuid4().hex})
    assert_problem(r, 409, "refund_unsupported")
    assert balance(api, creator) == 2125
