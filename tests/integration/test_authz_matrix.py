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
            yield method, path.replace("{id}", str(uuid.uuid4())), roles


def test_every_protected_route(api, new_client, admin):
    tokens = {"fan": register(new_client())["access_token"],
              "creator": register(new_client(), role="creator")["access_token"],
              "admin": admin["access_token"]}
    routes = list(protected_routes())
    assert len(routes) >= 20
    for method, path, roles in routes:
        body = {} if method in ("POST", "PUT", "PATCH") else None
        r = api.request(method, path, json=body)
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
