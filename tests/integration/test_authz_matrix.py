"""Authorization matrix over the whole route table: every protected route
refuses anonymous callers (401) and every role it does not name (403).
Object-level isolation (another user's objects are 404) is tested next to
each resource."""
import re
import uuid

from test_openapi import REPO
from tzclient import assert_problem, register

ROLES = {"TZ_R_FAN": "fan", "TZ_R_CREATOR": "creator", "TZ_R_ADMIN": "admin"}


def protected_routes():
    with open(f"{REPO}/mod_tipzed/mod_tipzed_routes.c") as f:
        src = f.read()
    for method, path, flags in re.findall(r'R\("([A-Z]+)", "([^"]+)", \w+, ([^)]*)\)', src):
        roles = {ROLES[f] for f in ROLES if f in flags}
        if "TZ_R_USER" in flags or roles:
            yield method, path.replace("{id}", str(uuid.uuid4())), roles, "TZ_R_GUEST" in flags


def test_every_protected_route(api, new_client, admin):
    tokens = {"fan": register(new_client())["access_token"],
              "creator": register(new_client(), role="creator")["access_token"],
              "admin": admin["access_token"]}
    routes = list(protected_routes())
    assert len(routes) >= 20
    assert [p for _, p, _, guest in routes if guest] == ["/payments/initiate"]
    for method, path, roles, guest in routes:
        body = {} if method in ("POST", "PUT", "PATCH") else None
        r = api.request(method, path, json=body)
        if guest:  # served without a token as a guest: its body is checked instead
            assert_problem(r, 422)
            assert_problem(api.request(method, path, json=body, token="not.a.token"), 401)
        else:
            assert_problem(r, 401)
            assert r.headers["WWW-Authenticate"].startswith('Bearer realm="tipzed"')
        for role, token in tokens.items():
            if roles and role not in roles:
                assert_problem(api.request(method, path, json=body, token=token), 403, "forbidden")


def test_wallets_serve_every_role_payouts_stay_creator_only(api, new_client, admin):
    tokens = {"fan": register(new_client())["access_token"],
              "creator": register(new_client(), role="creator")["access_token"],
              "admin": admin["access_token"]}
    for role, token in tokens.items():
        for path in ("/wallets/me", "/wallets/me/transactions", "/wallets/me/transfers"):
            assert api.get(path, token=token).status == 200, (role, path)
        if role != "creator":
            assert_problem(api.get("/payouts/me", token=token), 403, "forbidden")
            assert_problem(api.post("/payouts/request", token=token, json={"amount": 1000},
                                    headers={"X-Idempotency-Key": uuid.uuid4().hex}), 403, "forbidden")


def test_sessions_and_two_factor_serve_every_role(api, new_client, admin):
    tokens = {"fan": register(new_client())["access_token"],
              "creator": register(new_client(), role="creator")["access_token"],
              "admin": admin["access_token"]}
    for role, token in tokens.items():
        r = api.get("/auth/sessions", token=token)
        assert r.status == 200 and r.json["sessions"], (role, r)
    for role in ("fan", "creator"):
        r = api.post("/auth/totp/setup", token=tokens[role])
        assert r.status == 200 and r.json["secret"], (role, r)
    # an admin has two-factor on already
    assert_problem(api.post("/auth/totp/setup", token=tokens["admin"]), 409, "totp_enabled")


def test_operator_and_privacy_routes(api, new_client, admin):
    """The operator's routes are an admin's only; every role exports its own
    data and may ask for its deletion."""
    fan, creator = register(new_client()), register(new_client(), role="creator")
    uid = fan["user"]["id"]
    admin_only = [("GET", "/admin/users", None)] + [
        ("POST", f"/admin/{what}/{uid}/{action}", {"reason": "x"})
        for what, action in (("users", "suspend"), ("users", "reinstate"),
                             ("wallets", "freeze"), ("wallets", "unfreeze"))]
    for method, path, body in admin_only:
        for user in (fan, creator):
            assert_problem(api.request(method, path, json=body, token=user["access_token"]),
                           403, "forbidden")
        assert_problem(api.request(method, path, json=body), 401)
    for token in (fan["access_token"], creator["access_token"], admin["access_token"]):
        assert api.get("/auth/me/export", token=token).status == 200
        assert_problem(api.delete("/auth/me", token=token, json={"password": "wrong password"}),
                       403, "invalid_password")
    assert_problem(api.get("/auth/me/export"), 401)
    assert_problem(api.delete("/auth/me", json={"password": "x"}), 401)
