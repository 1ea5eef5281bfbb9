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
    json.dumps({"creator_id": "123e4567-e89b-42d3-a456-426614174000", "amount": 500,
                "currency": "ZMW", "splits": [{"creator_id": "123e4567-e89b-42d3-a456-426614174000",
                                               "share_bps": 2 ** 63}]}).encode(),
    json.dumps({"splits": [[{"share_bps": -1}]] * 11, "amount": 500}).encode(),
    json.dumps({"splits": {"creator_id": "' OR 1=1 --", "share_bps": "10000"}}).encode(),
]


@pytest.fixture(scope="module")
def users(stack):
    from tzclient import Client, next_source_ip
    c = Client(stack.api_url, source_ip=next_source_ip())
    return {"fan": register(c), "creator": register(c, role="creator")}


@pytest.fixture(scope="module")
def package(stack, admin_account):
    from conftest import admin_session
    admin = admin_session(stack, admin_account)
    from tzclient import Client, next_source_ip
    c = Client(stack.api_url, source_ip=next_source_ip())
    r = c.post("/admin/packages", token=admin["access_token"],
               json={"name": f"Bad input {uuid.uuid4().hex[:8]}", "amount": 1000, "currency": "ZMW"},
               headers={"X-Idempotency-Key": uuid.uuid4().hex})
    assert r.status == 201, r
    return r.json


def write_routes(users, admin, package):
    fan, creator = users["fan"]["access_token"], users["creator"]["access_token"]
    pid = str(uuid.uuid4())
    return [("POST", "/auth/register", None), ("POST", "/auth/login", None),
            ("POST", "/auth/refresh", None), ("POST", "/auth/logout", fan),
            ("POST", "/auth/login/totp", None), ("POST", "/auth/totp/enable", fan),
            ("POST", "/auth/totp/disable", fan),
            ("PUT", "/creators/me", creator), ("POST", "/payments/initiate", fan),
            ("POST", "/payments/webhook", None), ("POST", "/webhooks/flutterwave", None),
            ("POST", "/webhooks/stripe", None), ("POST", f"/payments/{pid}/refund", admin),
            ("POST", "/payouts/request", creator), ("POST", f"/payouts/{pid}/cancel", creator),
            ("POST", f"/admin/payouts/{pid}/reject", admin), ("POST", f"/admin/payouts/{pid}/approve", admin),
            ("POST", "/admin/billers", admin), ("POST", f"/billers/{pid}/validate", fan),
            ("POST", "/bill-payments", creator),
            ("POST", "/wallets/me/transfers", fan), ("POST", "/wallets/me/transfers", creator),
            ("POST", "/wallets/me/topup", fan), ("POST", "/wallets/me/topup", creator),
            ("POST", f"/admin/wallets/{users['fan']['user']['id']}/adjustments", admin),
            ("POST", f"/admin/adjustments/{pid}/approve", admin),
            ("POST", f"/admin/adjustments/{pid}/reject", admin),
            ("POST", "/admin/packages", admin), ("PATCH", f"/admin/packages/{package['id']}", admin),
            ("PATCH", f"/admin/packages/{pid}", admin),
            ("POST", "/webhook-endpoints", creator), ("POST", "/webhook-endpoints", admin),
            ("PATCH", f"/webhook-endpoints/{pid}", creator),
            ("POST", f"/webhook-deliveries/{pid}/resend", creator),
            ("POST", f"/admin/users/{users['fan']['user']['id']}/suspend", admin),
            ("POST", f"/admin/users/{users['fan']['user']['id']}/reinstate", admin),
            ("POST", f"/admin/wallets/{users['fan']['user']['id']}/freeze", admin),
            ("POST", f"/admin/wallets/{users['fan']['user']['id']}/unfreeze", admin),
            ("POST", f"/admin/users/{pid}/suspend", admin),
            ("DELETE", "/auth/me", fan),
            ("POST", "/payments/initiate", None),  # a guest's tip
            ("POST", "/auth/email/verify", None), ("POST", "/auth/email/verify/send", fan),
            ("POST", "/auth/password/forgot", None), ("POST", "/auth/password/reset", None)]


def counts(stack):
    return stack.psql("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM payments),"
                      " (SELECT count(*) FROM payouts), (SELECT count(*) FROM postings),"
                      " (SELECT count(*) FROM billers), (SELECT count(*) FROM bill_payments),"
                      " (SELECT count(*) FROM transfers), (SELECT count(*) FROM adjustments),"
                      " (SELECT count(*) FROM packages), (SELECT count(*) FROM webhook_endpoints),"
                      " (SELECT max(updated_at)::text FROM packages)")[0]


def test_every_write_endpoint_refuses_bad_bodies(api, stack, users, admin, package):
    before = counts(stack)
    for method, path, token in write_routes(users, admin["access_token"], package):
        for body in SHAPES:
            if path == "/auth/email/verify/send" and body == b"":
                continue  # no body is the request itself
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


# Query parameters PostgreSQL would refuse (a cast, a range) are checked in C
# first: 422 naming the parameter, never a 503 from the database.
BAD_QUERIES = [
    ("/admin/transactions", "from", ["2026-13-45T99:99:99Z", "2026-02-30", "2026-01-01T24:00:00Z",
                                     "99999-01-01", "2026-01-01T00:00:00", "yesterday", "1969-12-31"]),
    ("/admin/transactions", "to", ["2026-04-31T00:00:00Z", "0000-00-00"]),
    ("/admin/transactions", "creator_id", ["not-a-uuid", "123e4567-e89b-42d3-a456-42661417400g"]),
    ("/admin/transactions", "status", ["Succeeded", "x;y", "1"]),
    ("/admin/transactions", "limit", ["0", "101", "-1", "1e2", "99999999999999999999"]),
    ("/admin/payouts", "status", ["done", "PENDING"]),
    ("/admin/audit-log", "offset", ["-1", "x", "9223372036854775808"]),
    ("/packages", "currency", ["USD", "zmw", "", "ZMWX", "ZM", "%27ZMW"]),
    ("/webhook-endpoints", "limit", ["0", "101", "x"]),
    ("/admin/risk/velocity", "since", ["2026-13-45T99:99:99Z", "yesterday", "1969-12-31",
                                       "2999-01-01T00:00:00Z", "2026-01-01T00:00:00"]),
    ("/admin/risk/velocity", "kind", ["card", "IP", "x;y"]),
    ("/admin/risk/velocity", "limit", ["0", "101", "x", "99999999999999999999"]),
    ("/admin/users", "status", ["gone", "SUSPENDED", ""]),
    ("/admin/users", "frozen", ["yes", "1", ""]),
    ("/admin/users", "starting_after", ["not-a-uuid", "42"]),
]


def test_query_parameters_are_checked_before_postgresql(api, admin):
    for path, name, values in BAD_QUERIES:
        for v in values:
            r = api.get(f"{path}?{name}={v}", token=admin["access_token"])
            assert r.status == 422, (path, name, v, r)
            assert r.json["errors"][0]["field"] == name, (path, name, v, r.json)
    ok = api.get("/admin/transactions?from=2026-01-01&to=2026-12-31T23:59:59%2B02:00",
                 token=admin["access_token"])
    assert ok.status == 200, ok


QUOTE_CID = "123e4567-e89b-42d3-a456-426614174000"
BAD_QUOTES = [
    ("", "amount", ["0", "-5", "1e3", "x", "99999999999999999999", "", "%00"]),
    ("amount=500&", "currency", ["zmw", "XXX", "Z%0D%0AW", ""]),
    ("amount=500&", "creator_id", ["nope", "123e4567-e89b-42d3-a456-42661417400g", ""]),
    (f"amount=500&creator_id={QUOTE_CID}&", "source", ["card", "WALLET", ""]),
]


def test_quote_parameters_are_checked(api, users):
    for prefix, name, values in BAD_QUOTES:
        for v in values:
            r = api.get(f"/payments/quote?{prefix}{name}={v}", token=users["fan"]["access_token"])
            assert 400 <= r.status < 500 and r.status != 404, (name, v, r)
            if r.status == 422:
                assert r.json["errors"][0]["field"] == name, (name, v, r.json)


def test_payout_bank_account_and_currency_follow_the_profile_rules(api, users):
    creator = users["creator"]["access_token"]
    for body, field in [({"amount": 1000, "bank_account": "<b>\u202eabcd"}, "bank_account"),
                        ({"amount": 1000, "bank_account": "12.34.56"}, "bank_account"),
                        ({"amount": 1000, "currency": "USD", "bank_account": "1234"}, "currency"),
                        ({"amount": 1000, "currency": "zmw", "bank_account": "1234"}, "currency")]:
        r = api.post("/payouts/request", token=creator, json=body,
                     headers={"X-Idempotency-Key": uuid.uuid4().hex})
        assert r.status == 422, (body, r)
        assert r.json["errors"][0]["field"] == field, (body, r.json)


def test_register_refuses_bad_referral_codes(api, stack):
    """A referral code of the wrong shape, or one nobody holds, is a 422
    naming referral_code, and no user is created."""
    before = counts(stack)
    bad = [7, True, ["ABCD2345"], {"code": "ABCD2345"}, "", "ABCD234", "ABCD23456", "ABCD 234",
           "O0I1O0I1", "ABCD\u00e9234", "' OR 1=1", "A" * 33, "2222222Z" * 4]
    for code in bad:
        r = api.post("/auth/register", json={"email": f"ref-{uuid.uuid4().hex[:12]}@example.com",
                                             "password": "correct horse battery",
                                             "full_name": "X", "role": "fan", "referral_code": code})
        assert r.status == 422, (code, r)
        assert r.headers.get("content-type", "").startswith("application/problem+json"), r
        assert r.json["errors"][0]["field"] == "referral_code", (code, r.json)
    assert counts(stack) == before


def test_initiate_refuses_bad_splits(api, stack, users):
    """Splits of the wrong shape, or that do not add up, are a 422 naming
    splits and saying what is wrong; no payment is created."""
    fan, creator = users["fan"], users["creator"]["user"]["id"]
    other = str(uuid.uuid4())

    def share(cid, bps):
        return {"creator_id": cid, "share_bps": bps}
    bad = [
        ("must be an array", "all"), ("must be an array", {"creator_id": creator}),
        ("at least one creator", []),
        ("at most 10 creators", [share(str(uuid.uuid4()), 1000) for _ in range(11)]),
        ("they sum to 9999", [share(creator, 9999)]),
        ("they sum to 20000", [share(creator, 10000), share(other, 10000)]),
        ("more than once", [share(creator, 5000), share(creator, 5000)]),
        ("must include the payment's creator_id", [share(other, 10000)]),
        ("is not a creator", [share(creator, 5000), share(other, 5000)]),
        ("is not a creator", [share(creator, 5000), share(fan["user"]["id"], 5000)]),
        ("share_bps must be an integer", [share(creator, 10000.0)]),
        ("share_bps must be an integer", [share(creator, 2 ** 53)]),
        ("share_bps must be an integer", [share(creator, None)]),
        ("creator_id must be a UUID", [share("' OR 1=1 --", 10000)]),
        ("creator_id must be a UUID", [share(None, 10000)]),
        ("is not a known field", [{**share(creator, 10000), "amount": 1}]),
        ("must be an object", [None]),
    ]
    before = counts(stack)
    for message, splits in bad:
        r = api.post("/payments/initiate", token=fan["access_token"],
                     headers={"X-Idempotency-Key": uuid.uuid4().hex},
                     json={"creator_id": creator, "amount": 500, "currency": "ZMW",
                           "provider": "sandbox", "splits": splits})
        assert r.status == 422, (splits, r)
        assert r.headers.get("content-type", "").startswith("application/problem+json"), r
        assert r.json["errors"][0]["field"] == "splits", (splits, r.json)
        assert message in r.json["errors"][0]["message"], (splits, r.json)
    assert counts(stack) == before


def test_two_factor_and_session_inputs_are_refused_by_field(api, users):
    from tzclient import assert_problem
    fan = users["fan"]["access_token"]
    for code in ("", "12345", "1234567", "12a456", "x" * 17, 123456, None, ["123456"]):
        r = api.post("/auth/totp/enable", token=fan, json={"code": code})
        assert r.status in (409, 422), (code, r)  # nothing set up (409), or the field named
        if r.status == 422:
            assert_problem(r, 422, field="code")
    for body in ({"mfa_token": "", "code": "123456"}, {"mfa_token": 5, "code": "123456"},
                 {"mfa_token": "t" * 129, "code": "123456"},
                 {"mfa_token": "t", "code": "123456", "recovery_code": "abcde-fghij"},
                 {"mfa_token": "t", "recovery_code": "r" * 33}, {"mfa_token": "t", "extra": 1}):
        p = assert_problem(api.post("/auth/login/totp", json=body), 422)
        assert p.get("errors"), p
    # an unknown challenge is 401 naming it, whatever the code's shape
    assert_problem(api.post("/auth/login/totp", json={"mfa_token": "t", "code": "abc"}), 401,
                   "invalid_token", "mfa_token")
    for bad in ("not-a-uuid", "1", "%27%20OR%201%3D1"):
        assert_problem(api.delete(f"/auth/sessions/{bad}", token=fan), 404)
    r = api.post("/payouts/request", token=users["creator"]["access_token"],
                 json={"amount": 1000, "totp_code": 123456}, headers={"X-Idempotency-Key": uuid.uuid4().hex})
    assert_problem(r, 422, field="totp_code")
