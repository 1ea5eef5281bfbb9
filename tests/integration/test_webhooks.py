"""Outbound webhooks from the transactional outbox: endpoints, signed
deliveries in order, retries with their log, resend, the private-address
guard, redirects refused, an endpoint disabled after three days of
failures, and events written only by committed changes.

The stack runs with TipzedWebhookAllowPrivate On (the receivers listen on
127.0.0.1) and TipzedWebhookRetry 8 1s, so retries come within a second;
each node's dispatcher runs every second."""
import json
import time
import uuid

import pytest

from receiver import Receiver, signature_ok
from test_payouts_admin import act, request as payout_request
from test_wallet_payments import fund, tip
from tzclient import assert_problem, ensure_verified, register


def endpoint(api, user, url, events, **extra):
    ensure_verified(api, user)
    r = api.post("/webhook-endpoints", token=user["access_token"],
                 json={"url": url, "events": events, **extra})
    assert r.status == 201, r
    return r.json


def deliveries(api, user, endpoint_id, **query):
    q = "&".join(f"{k}={v}" for k, v in query.items())
    r = api.get(f"/webhook-endpoints/{endpoint_id}/deliveries?{q}", token=user["access_token"])
    assert r.status == 200, r
    return r.json["data"]


def wait_for(what, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        got = what()
        if got:
            return got
        time.sleep(0.2)
    return what()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def banked_creator(stack, new_client):
    c = register(new_client(), role="creator", full_name="Chanda Hooks")
    r = new_client().put("/creators/me", token=c["access_token"],
                         json={"bank_account": "ZM0012345678", "account_name": "Chanda H"})
    assert r.status == 200, r
    return c


def test_endpoint_api_shows_the_secret_once_and_keeps_to_its_owner(api, new_client, admin):
    c = register(new_client(), role="creator")
    other = register(new_client(), role="creator")
    fan = register(new_client())
    e = endpoint(api, c, "https://hooks.example.com/tipzed", ["payment.*", "payout.completed"],
                 description="books")
    assert e["secret"].startswith("whsec_") and len(e["secret"]) == 70
    assert e["events"] == ["payment.*", "payout.completed"] and e["enabled"] is True
    got = api.get(f"/webhook-endpoints/{e['id']}", token=c["access_token"])
    assert got.status == 200 and "secret" not in got.json and "secret_enc" not in got.json
    assert [x["id"] for x in api.get("/webhook-endpoints", token=c["access_token"]).json["data"]] \
        == [e["id"]]
    # another creator sees nothing of it; a fan may not use the API at all
    assert_problem(api.get(f"/webhook-endpoints/{e['id']}", token=other["access_token"]), 404)
    assert_problem(api.patch(f"/webhook-endpoints/{e['id']}", token=other["access_token"],
                             json={"enabled": False}), 404)
    assert_problem(api.delete(f"/webhook-endpoints/{e['id']}", token=other["access_token"]), 404)
    assert_problem(api.get("/webhook-endpoints", token=fan["access_token"]), 403)
    assert_problem(api.post("/webhook-endpoints", token=fan["access_token"],
                            json={"url": "https://x.example", "events": ["*"]}), 403)
    # an admin sees every endpoint
    ids = [x["id"] for x in api.get("/webhook-endpoints?limit=100",
                                    token=admin["access_token"]).json["data"]]
    assert e["id"] in ids
    r = api.patch(f"/webhook-endpoints/{e['id']}", token=c["access_token"],
                  json={"events": ["*"], "enabled": False})
    assert r.status == 200 and r.json["events"] == ["*"] and r.json["enabled"] is False
    assert r.json["disabled_reason"] == "disabled by its owner"
    assert api.delete(f"/webhook-endpoints/{e['id']}", token=c["access_token"]).status == 204
    assert_problem(api.get(f"/webhook-endpoints/{e['id']}", token=c["access_token"]), 404)


@pytest.mark.parametrize("body,field", [
    ({"url": "https://h.example", "events": ["payment.exploded"]}, "events"),
    ({"url": "https://h.example", "events": ["nothing.*"]}, "events"),
    ({"url": "https://h.example", "events": []}, "events"),
    ({"url": "https://h.example", "events": "payment.succeeded"}, "events"),
    ({"url": "https://h.example", "events": [7]}, "events"),
    ({"url": "ftp://h.example/x", "events": ["*"]}, "url"),
    ({"url": "https://user:pw@h.example/x", "events": ["*"]}, "url"),
    ({"url": "not a url", "events": ["*"]}, "url"),
    ({"events": ["*"]}, "url"),
])
def test_bad_endpoints_are_refused_by_name(api, creator, body, field):
    assert_problem(api.post("/webhook-endpoints", token=creator["access_token"], json=body),
                   422, field=field)


def test_a_tip_and_a_payout_arrive_signed_and_in_order(api, stack, new_client, admin, receiver,
                                                       banked_creator):
    c, fan = banked_creator, register(new_client())
    e = endpoint(api, c, receiver.url, ["payment.succeeded", "payout.*"])
    fund(stack, fan["user"]["id"], 50000)
    t = tip(api, fan, c["user"]["id"], 20000)
    assert t.status == 201, t
    p = payout_request(api, c, 10000)
    assert p.status == 201, p
    for step in ("approve", "process", "complete"):
        assert act(api, admin, p.json["id"], step, {}).status == 200
    want = ["payment.succeeded", "payout.pending", "payout.approved", "payout.processing",
            "payout.completed"]
    got = receiver.wait(lambda ev: len(ev) >= len(want))
    assert [x["type"] for x in got] == want
    assert got[0]["data"]["id"] == t.json["id"] and got[0]["data"]["amount"] == 20000
    assert all(x["data"]["id"] == p.json["id"] for x in got[1:])
    assert "bank_account_enc" not in got[1]["data"]
    for req, ev in zip(receiver.requests, got):
        assert signature_ok(e["secret"], req)
        assert req["headers"]["x-tipzed-event-id"] == ev["id"]
        assert req["headers"]["x-tipzed-event-type"] == ev["type"]
        assert req["headers"]["content-type"] == "application/json"
    log = deliveries(api, c, e["id"])
    assert len(log) == 5 and all(d["status"] == "succeeded" and d["attempts"] == 1 for d in log)


def test_a_failing_receiver_gets_the_same_event_until_it_answers(api, stack, new_client, creator):
    rec = Receiver(fail_first=5)
    try:
        fan = register(new_client())
        e = endpoint(api, creator, rec.url, ["payment.succeeded"])
        fund(stack, fan["user"]["id"], 5000)
        assert tip(api, fan, creator["user"]["id"], 1000).status == 201
        wait_for(lambda: len(rec.requests) >= 6)
        time.sleep(1.5)  # nothing more comes once it answered
        assert len(rec.requests) == 6
        assert len({r["body"] for r in rec.requests}) == 1  # the very same event, each time
        assert len({r["headers"]["x-tipzed-event-id"] for r in rec.requests}) == 1
        assert [r["headers"]["x-tipzed-attempt"] for r in rec.requests] == \
            ["1", "2", "3", "4", "5", "6"]
        assert all(signature_ok(e["secret"], r) for r in rec.requests)
        [d] = wait_for(lambda: [d for d in deliveries(api, creator, e["id"])
                                if d["status"] == "succeeded"])
        assert d["attempts"] == 6 and d["last_status"] == 200
        assert [a["status_code"] for a in d["log"]] == [500] * 5 + [200]
        assert [a["attempt"] for a in d["log"]] == [1, 2, 3, 4, 5, 6]
        assert all(isinstance(a["latency_ms"], int) for a in d["log"])
        # backed off: the attempts are spread out, not fired at once
        gaps = [b["at"] - a["at"] for a, b in zip(rec.requests, rec.requests[1:])]
        assert min(gaps) >= 0.4
    finally:
        rec.close()


def test_resend_sends_the_event_once_more(api, stack, new_client, creator, receiver):
    fan, other = register(new_client()), register(new_client(), role="creator")
    e = endpoint(api, creator, receiver.url, ["payment.succeeded"])
    fund(stack, fan["user"]["id"], 5000)
    assert tip(api, fan, creator["user"]["id"], 1000).status == 201
    [d] = wait_for(lambda: [d for d in deliveries(api, creator, e["id"])
                            if d["status"] == "succeeded"])
    assert_problem(api.post(f"/webhook-deliveries/{d['id']}/resend",
                            token=other["access_token"]), 404)
    assert_problem(api.post(f"/webhook-deliveries/{d['id']}/resend",
                            token=fan["access_token"]), 403)
    assert_problem(api.post(f"/webhook-deliveries/{uuid.uuid4()}/resend",
                            token=creator["access_token"]), 404)
    r = api.post(f"/webhook-deliveries/{d['id']}/resend", token=creator["access_token"])
    assert r.status == 202 and r.json["status"] == "pending"
    got = receiver.wait(lambda ev: len(ev) >= 2)
    assert len(got) == 2 and got[0] == got[1]
    [d] = wait_for(lambda: [x for x in deliveries(api, creator, e["id"])
                            if x["status"] == "succeeded" and x["attempts"] == 2])
    assert [a["attempt"] for a in d["log"]] == [1, 2]
    # a disabled endpoint's deliveries wait for it to be enabled
    api.patch(f"/webhook-endpoints/{e['id']}", token=creator["access_token"],
              json={"enabled": False})
    assert_problem(api.post(f"/webhook-deliveries/{d['id']}/resend",
                            token=creator["access_token"]), 409, "endpoint_disabled")


def test_a_redirect_is_a_failure_and_is_not_followed(api, stack, new_client, creator, receiver):
    bouncer = Receiver(answer=302, location=receiver.url)
    try:
        fan = register(new_client())
        e = endpoint(api, creator, bouncer.url, ["payment.succeeded"])
        fund(stack, fan["user"]["id"], 5000)
        assert tip(api, fan, creator["user"]["id"], 1000).status == 201
        wait_for(lambda: len(bouncer.requests) >= 2)
        [d] = deliveries(api, creator, e["id"])
        assert d["log"][0]["status_code"] == 302 and d["status"] == "pending"
        assert receiver.requests == []
    finally:
        api.delete(f"/webhook-endpoints/{e['id']}", token=creator["access_token"])
        bouncer.close()


def test_only_events_of_committed_changes_exist(api, stack, new_client, creator):
    fan = register(new_client())
    fund(stack, fan["user"]["id"], 1500)
    ok = tip(api, fan, creator["user"]["id"], 1000)
    short = tip(api, fan, creator["user"]["id"], 1000)  # 500 left: refused, rolled back
    assert ok.status == 201 and short.status == 422
    rows = stack.psql("SELECT type, data->>'id' FROM outbox_events"
                      f" WHERE '{fan['user']['id']}' = ANY (user_ids)"
                      " AND type LIKE 'payment.%' ORDER BY seq")
    assert rows == [("payment.succeeded", ok.json["id"])]
    # every succeeded payment of the fan has exactly one payment.succeeded
    assert stack.psql(
        "SELECT count(*) FROM payments p WHERE p.status = 'succeeded'"
        f" AND p.fan_id = '{fan['user']['id']}' AND (SELECT count(*) FROM outbox_events v"
        " WHERE v.type = 'payment.succeeded' AND v.data->>'id' = p.id::text) <> 1") == [("0",)]
    credited = stack.psql("SELECT data->>'amount', data->>'wallet' FROM outbox_events"
                          f" WHERE type = 'wallet.credited' AND data->>'payment_id' = '{ok.json['id']}'"
                          f" AND '{creator['user']['id']}' = ANY (user_ids)")
    assert credited == [(str(ok.json["net"]), "wallet")]


def test_three_days_of_failures_disable_the_endpoint(api, stack, new_client, admin, smtp):
    c = register(new_client(), role="creator")
    rec = Receiver(answer=500)
    try:
        fan = register(new_client())
        e = endpoint(api, c, rec.url, ["payment.succeeded"])
        fund(stack, fan["user"]["id"], 5000)
        assert tip(api, fan, c["user"]["id"], 1000).status == 201
        wait_for(lambda: len(rec.requests) >= 1)
        # the failure is written once the receiver's answer is read, after it was received
        assert wait_for(lambda: api.get(f"/webhook-endpoints/{e['id']}",
                                        token=c["access_token"]).json["failing_since"])
        r = api.post("/sandbox/clock", token=admin["access_token"], json={"advance": "3d"})
        assert r.status == 200, r
        got = wait_for(lambda: not api.get(f"/webhook-endpoints/{e['id']}",
                                           token=c["access_token"]).json["enabled"])
        assert got
        ep = api.get(f"/webhook-endpoints/{e['id']}", token=c["access_token"]).json
        assert ep["disabled_reason"].startswith("every delivery failed for three days")
        assert stack.psql("SELECT count(*) FROM outbox_events WHERE type ="
                          f" 'webhook_endpoint.disabled' AND data->>'id' = '{e['id']}'") == [("1",)]
        if smtp is not None:
            mail = smtp.wait_for(lambda m: m.to == [c["email"]] and e["id"] in m.text(), 30)
            assert mail.message["Subject"] == "Your webhook endpoint has been disabled"
            assert rec.url in mail.text()
        n = len(rec.requests)
        time.sleep(2)
        assert len(rec.requests) == n  # nothing is sent to a disabled endpoint
    finally:
        rec.close()


def test_an_admin_endpoint_receives_every_creators_events(api, stack, new_client, admin,
                                                          receiver):
    e = endpoint(api, admin, receiver.url, ["transfer.completed"])
    try:
        a, b = register(new_client()), register(new_client(), role="creator")
        fund(stack, a["user"]["id"], 5000)
        r = api.post("/wallets/me/transfers", token=a["access_token"],
                     json={"recipient_id": b["user"]["id"], "amount": 700, "currency": "ZMW"},
                     headers={"X-Idempotency-Key": uuid.uuid4().hex})
        assert r.status == 201, r
        got = receiver.wait(lambda ev: any(x["data"]["id"] == r.json["id"] for x in ev))
        [ev] = [x for x in got if x["data"]["id"] == r.json["id"]]
        assert ev["type"] == "transfer.completed" and ev["data"]["amount"] == 700
        assert json.loads(json.dumps(ev))["data"]["recipient_id"] == b["user"]["id"]
    finally:
        api.delete(f"/webhook-endpoints/{e['id']}", token=admin["access_token"])
