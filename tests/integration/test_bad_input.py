"""Bad input of any shape on every write endpoint gets a 4xx problem: no
500, no crash, nothing written (bad input of any shape gets a 4xx problem)."""
import json
import uuid

import pytest

from tzclient import register

SHAPES = [
    b"", b"null", b"[]", b'"str"', b"{", b'{"a":1,"a":2}', b"\xff\xfe\x00", b"{\"x\":\"\\u0000\"}",
    b"[" * 5000 + b"]" * 5000, b'{"amount": 99999999999999999999999}', b'{"amount": 1e400}',
    json.dumps({"email": "a' OR 1=1 --", "password": "x" * 100000}).encode(),
    json.dumps({"creator_id": "'; DROP TABLE payments; --", "amount": -1}).encode(),
    json.dumps({"full_name": "\u202e\ud7ff", "bio": ["nested", {"deep": [1, 2]}]}).encode(),
    json.dumps({"amount": 2 ** 53 + 1, "currency": "ZMW\r\nX-Injected: 1"}).encode(),
    json.dumps({"refresh_token": None, "reason": True, "note": 1.5}).encode(),
]


@pytest.fixture(scope="module")
def users(stack):
    from tzclient import Client, next_source_ip
    c = Client(stack.api_url, source_ip=next_source_ip())
    return {"fan": register(c), "creator": register(c, role="creator")}


def write_routes(users, admin):
    fan, creator = users["fan"]["access_token"], users["creator"]["access_token"]
    pid = str(uuid.uuid4())
    return [("POST", "/auth/register", None), ("POST", "/auth/login", None),
            ("POST", "/auth/refresh", None), ("POST", "/auth/logout", fan),
            ("PUT", "/creators/me", creator), ("POST", "/payments/initiate", fan),
            ("POST", "/payments/webhook", None), ("POST", "/webhooks/flutterwave", None),
            ("POST", "/webhooks/stripe", None), ("POST", f"/payments/{pid}/refund", admin),
            ("POST", "/payouts/request", creator), ("POST", f"/payouts/{pid}/cancel", creator),
            ("POST", f"/admin/payouts/{pid}/reject", admin), ("POST", f"/admin/payouts/{pid}/approve", admin)]


def counts(stack):
    return stack.psql("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM payments),"
                      " (SELECT count(*) FROM payouts), (SELECT count(*) FROM postings)")[0]


def test_every_write_endpoint_refuses_bad_bodies(api, stack, users, admin):
    before = counts(stack)
    for method, path, token in write_routes(users, admin["access_token"]):
        for body in SHAPES:
            for ctype in ("application/json", "text/plain"):
                r = api.request(method, path, body=body, token=token, headers={
                    "Content-Type": ctype, "X-Idempotency-Key": uuid.uuid4().hex,
                    "X-Tipzed-Signature": "t=1,v1=00", "Stripe-Signature": "t=1,v1=00",
                    "verif-hash": "nope"})
                assert 400 <= r.status < 500, (method, path, body[:60], ctype, r)
                assert r.headers.get("content-type", "").startswith("application/problem+json"), r
                assert "X-Injected" not in r.headers
    assert counts(stack) == before
    assert "Segmentation fault" not in stack.error_log_text()
