"""Auth endpoints: every success and error path."""
import base64
import hashlib
import hmac
import json
import threading
import time

from tzclient import assert_problem, login, register, unique_email


def test_register_creates_user_and_session(api):
    s = register(api, role="creator", full_name="Mwila Banda")
    assert s["token_type"] == "Bearer"
    assert s["expires_in"] == 900
    u = s["user"]
    assert set(u) == {"id", "email", "full_name", "role", "referral_code", "email_verified",
                      "created_at"}
    assert u["email_verified"] is False  # until the mail's link is followed (test_accounts_email.py)
    assert u["role"] == "creator" and u["full_name"] == "Mwila Banda"
    assert u["created_at"].endswith("Z") and "T" in u["created_at"]
    assert len(s["refresh_token"]) == 64  # 256-bit opaque value


def test_register_duplicate_email_any_case(api):
    email = unique_email("dup")
    register(api, email=email)
    r = api.post("/auth/register", json={"email": email.upper(), "password": "correct horse",
                                         "full_name": "X", "role": "fan"})
    assert_problem(r, 409, "email_taken", field="email")


def test_register_admin_refused(api):
    r = api.post("/auth/register", json={"email": unique_email("adm"), "password": "correct horse",
                                         "full_name": "X", "role": "admin"})
    assert_problem(r, 422, field="role")


def test_register_validation_names_fields(api):
    cases = [
        ({"password": "correct horse", "full_name": "X", "role": "fan"}, "email"),
        ({"email": "nobody", "password": "correct horse", "full_name": "X", "role": "fan"}, "email"),
        ({"email": unique_email("v"), "password": "short", "full_name": "X", "role": "fan"}, "password"),
        ({"email": unique_email("v"), "password": "x" * 129, "full_name": "X", "role": "fan"}, "password"),
        ({"email": unique_email("v"), "password": "correct horse", "full_name": "", "role": "fan"}, "full_name"),
        ({"email": unique_email("v"), "password": "correct horse", "full_name": 7, "role": "fan"}, "full_name"),
        ({"email": unique_email("v"), "password": "correct horse", "full_name": "X", "role": "fan", "extra": 1}, "extra"),
    ]
    for body, field in cases:
        assert_problem(api.post("/auth/register", json=body), 422, field=field)


def test_login_success_and_wrong_password_same_message(api):
    s = register(api)
    r = login(api, s["email"], s["password"])
    assert r.status == 200 and r.json["user"]["id"] == s["user"]["id"]
    # case-insensitive email
    assert login(api, s["email"].upper(), s["password"]).status == 200
    bad = login(api, s["email"], "wrong password!")
    unknown = login(api, unique_email("ghost"), "wrong password!")
    assert_problem(bad, 401, "invalid_credentials")
    assert_problem(unknown, 401, "invalid_credentials")
    assert bad.json["detail"] == unknown.json["detail"]


def test_me_requires_bearer(api):
    r = api.get("/auth/me")
    assert_problem(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="tipzed"'
    r = api.get("/auth/me", token="not-a-jwt")
    assert_problem(r, 401, "invalid_token")
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]


def test_me_returns_user(api):
    s = register(api)
    r = api.get("/auth/me", token=s["access_token"])
    assert r.status == 200 and r.json == s["user"]


def _forge(stack, claims, alg="HS256", key=None):
    def b64(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    key = key if key is not None else stack.jwt_key()
    head = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}.get(alg)
    sig = b64(hmac.new(key, f"{head}.{body}".encode(), digest).digest()) if digest else ""
    return f"{head}.{body}.{sig}"


def test_forged_and_expired_tokens_rejected(api, stack):
    s = register(api)
    now = int(time.time())
    good = {"sub": s["user"]["id"], "role": "fan", "iat": now, "exp": now + 600,
            "iss": "tipzed", "aud": "tipzed-api", "jti": "abc"}
    assert api.get("/auth/me", token=_forge(stack, good)).status == 200
    bad = [
        _forge(stack, dict(good, exp=now - 1)),
        _forge(stack, dict(good, iss="other")),
        _forge(stack, dict(good, aud="other")),
        _forge(stack, {k: v for k, v in good.items() if k != "exp"}),
        _forge(stack, dict(good, exp=str(now + 600))),
        _forge(stack, good, alg="HS512"),
        _forge(stack, good, alg="none"),
        _forge(stack, dict(good, role="admin"), key=b"x" * 48),
    ]
    for tok in bad:
        assert_problem(api.get("/auth/me", token=tok), 401, "invalid_token")


def test_refresh_rotation_and_reuse_revokes_family(api):
    s = register(api)
    r1 = api.post("/auth/refresh", json={"refresh_token": s["refresh_token"]})
    assert r1.status == 200
    assert set(r1.json) == {"access_token", "refresh_token", "token_type", "expires_in"}
    t1 = r1.json["refresh_token"]
    assert t1 != s["refresh_token"]
    # the old token stops working; presenting it again revokes the family
    assert_problem(api.post("/auth/refresh", json={"refresh_token": s["refresh_token"]}), 401)
    assert_problem(api.post("/auth/refresh", json={"refresh_token": t1}), 401)
    # a fresh login is a new family and works
    r = login(api, s["email"], s["password"])
    assert api.post("/auth/refresh", json={"refresh_token": r.json["refresh_token"]}).status == 200


def test_refresh_unknown_and_malformed(api):
    assert_problem(api.post("/auth/refresh", json={"refresh_token": "0" * 64}), 401)
    assert_problem(api.post("/auth/refresh", json={}), 422, field="refresh_token")
    assert_problem(api.post("/auth/refresh", json={"refresh_token": 5}), 422, field="refresh_token")


def test_logout_ends_session(api):
    s = register(api)
    assert api.post("/auth/logout", json={"refresh_token": s["refresh_token"]}).status == 401
    r = api.post("/auth/logout", token=s["access_token"], json={"refresh_token": s["refresh_token"]})
    assert r.status == 204 and r.body == b""
    assert_problem(api.post("/auth/refresh", json={"refresh_token": s["refresh_token"]}), 401)


def test_logout_cannot_end_another_users_session(api):
    a, b = register(api), register(api)
    r = api.post("/auth/logout", token=b["access_token"], json={"refresh_token": a["refresh_token"]})
    assert r.status == 204
    assert api.post("/auth/refresh", json={"refresh_token": a["refresh_token"]}).status == 200


def test_login_rate_limit_per_email_from_parallel_clients(api, new_client):
    """Failures for one email from two clients (two IPs) in parallel add up:
    after 5 the right password is refused with 429 from a third address."""
    s = register(api)
    a, b, c = new_client(), new_client(), new_client()
    statuses = []

    def attempt(client):
        for _ in range(3):
            statuses.append(login(client, s["email"], "wrong password!").status)

    threads = [threading.Thread(target=attempt, args=(x,)) for x in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(statuses) <= {401, 429} and statuses.count(401) >= 5, statuses
    r = login(c, s["email"], s["password"])
    assert_problem(r, 429, "too_many_attempts")
    assert 0 < int(r.headers["Retry-After"]) <= 60


def test_login_rate_limit_holds_for_a_concurrent_burst(api, new_client):
    """30 wrong passwords for one email at once, from three addresses: the
    attempts are counted before the password is checked, so at most 5 are
    checked (401) and the rest are refused (429)."""
    s = register(api)
    clients = [new_client() for _ in range(3)]
    statuses, lock, go = [], threading.Lock(), threading.Event()

    def attempt(client):
        go.wait()
        st = login(client, s["email"], "wrong password!").status
        with lock:
            statuses.append(st)

    threads = [threading.Thread(target=attempt, args=(clients[i % 3],)) for i in range(30)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join()
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) <= 5 and statuses.count(429) >= 25, statuses


def test_successful_logins_do_not_use_up_the_address(api, new_client):
    """A success takes its attempt back: one address can log in more often
    than the limit, and a success clears the email's failures."""
    s = register(api)
    c = new_client()
    for _ in range(8):
        assert login(c, s["email"], s["password"]).status == 200
    for _ in range(4):
        assert login(c, s["email"], "wrong password!").status == 401
    assert login(c, s["email"], s["password"]).status == 200
    for _ in range(4):
        assert login(new_client(), s["email"], "wrong password!").status == 401
    assert login(new_client(), s["email"], s["password"]).status == 200


def test_login_rate_limit_per_client_ip(api, new_client):
    """One address failing on five different emails is blocked for all of
    them, while another address can still log in."""
    s = register(api)
    for _ in range(5):
        assert login(api, unique_email("nobody"), "wrong password!").status == 401
    assert_problem(login(api, s["email"], s["password"]), 429, "too_many_attempts")
    assert login(new_client(), s["email"], s["password"]).status == 200
