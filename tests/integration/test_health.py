"""Health, routing and the API's HTTP conventions."""
from tzclient import assert_problem


def test_health_no_database(api):
    r = api.get("/health")
    assert r.status == 200 and r.json == {"status": "ok"}
    assert r.headers["Content-Type"].startswith("application/json")
    assert api.get("/health/").json == {"status": "ok"}


def test_health_detailed(api):
    r = api.get("/health/detailed")
    assert r.status == 200, r
    assert r.json["database"]["status"] == "ok"
    assert r.json["database"]["schema_version"] >= 5
    # milliseconds as measured (to the microsecond), not a 17-digit binary fraction
    import re
    assert re.search(rb'"round_trip_ms":\d+(\.\d{1,3})?[,}]', r.body), r.body


def test_unknown_route_404_problem(api):
    assert_problem(api.get("/nope"), 404, "not_found")
    assert_problem(api.get("/creators/not-a-uuid"), 404, "not_found")


def test_wrong_method_405_with_allow(api):
    r = api.delete("/auth/login")
    assert_problem(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "POST"
    r = api.post("/creators/me")
    assert_problem(r, 405)
    assert set(r.headers["Allow"].split(", ")) == {"GET", "PUT"}


def test_body_too_large_413(api):
    r = api.post("/auth/login", body=b"{" + b" " * (70 * 1024) + b"}",
                 headers={"Content-Type": "application/json"})
    assert_problem(r, 413, "payload_too_large")


def test_non_json_415(api):
    r = api.post("/auth/login", body=b"email=a", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_problem(r, 415, "unsupported_media_type")
    r = api.post("/auth/login", body=b"{}", headers={"Content-Type": "application/json; charset=latin1"})
    assert_problem(r, 415)


def test_bad_json_400(api):
    for raw in [b"{", b"[1,2", b'{"email":"a","email":"b"}', b'{"a":1} x', b"\xff\xfe",
                b'{"amount": 99999999999999999999999}']:
        r = api.post("/auth/login", body=raw, headers={"Content-Type": "application/json"})
        assert_problem(r, 400, "invalid_json")
    r = api.post("/auth/login", body=b"[1]", headers={"Content-Type": "application/json"})
    assert_problem(r, 400)


def test_order_of_checks_auth_before_body(api):
    # 401 comes before 415/400 for protected routes
    r = api.put("/creators/me", body=b"garbage", headers={"Content-Type": "text/plain"})
    assert_problem(r, 401)


def test_cors_preflight(api):
    ok = api.request("OPTIONS", "/auth/login", headers={
        "Origin": "https://app.tipzed.test", "Access-Control-Request-Method": "POST"})
    assert ok.status == 204
    assert ok.headers["Access-Control-Allow-Origin"] == "https://app.tipzed.test"
    assert "POST" in ok.headers["Access-Control-Allow-Methods"]
    bad = api.request("OPTIONS", "/auth/login", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert bad.status == 403
    assert "Access-Control-Allow-Origin" not in bad.headers
    simple = api.get("/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in simple.headers
