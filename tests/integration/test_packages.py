"""The credit-package catalogue: admins add and change packages (audited,
idempotent), anyone lists the active ones; two active packages never
share a name in a currency; a package is never deleted."""
import re
import threading
import uuid

import pytest

from tzclient import assert_problem, register

MIN_PAYMENT, MAX_PAYMENT = 100, 10000000  # the stack's TipzedMinPayment / TipzedMaxPayment


def unique(prefix="Pack"):
    return f"{prefix} {uuid.uuid4().hex[:10]}"


def create(api, admin, key=None, **body):
    body = {"name": unique(), "amount": 5000, "currency": "ZMW", **body}
    return api.post("/admin/packages", token=admin["access_token"], json=body,
                    headers={"X-Idempotency-Key": key or uuid.uuid4().hex})


def patch(api, admin, pid, body, key=None):
    return api.request("PATCH", f"/admin/packages/{pid}", token=admin["access_token"], json=body,
                       headers={"X-Idempotency-Key": key} if key else None)


def listed(api, query=""):
    r = api.get("/packages" + query)
    assert r.status == 200, r
    return r.json["data"]


def ids(packages):
    return [p["id"] for p in packages]


def audit(stack, pid):
    return stack.psql(f"SELECT action, actor_id, note, request_id FROM audit_log"
                      f" WHERE target_type = 'package' AND target_id = '{pid}' ORDER BY id")


def test_admin_creates_and_anyone_lists(api, stack, admin):
    r = create(api, admin, amount=5000, bonus=500)
    assert r.status == 201, r
    p = r.json
    assert set(p) == {"id", "name", "amount", "currency", "credit", "bonus", "active",
                      "created_at", "updated_at"}
    assert (p["amount"], p["credit"], p["bonus"], p["currency"], p["active"]) == (
        5000, 5000, 500, "ZMW", True)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", p["created_at"]), p
    assert p["updated_at"] == p["created_at"]
    # the defaults: no bonus, active
    d = create(api, admin, amount=2000).json
    assert (d["bonus"], d["active"], d["credit"]) == (0, True, 2000)
    hidden = create(api, admin, amount=3000, active=False).json
    assert hidden["active"] is False
    # public: no token needed, and the inactive package is not shown
    everything = listed(api)
    assert {p["id"], d["id"]} <= set(ids(everything)) and hidden["id"] not in ids(everything)
    assert [x for x in everything if x["id"] == p["id"]] == [p]
    assert all(x["active"] and x["credit"] == x["amount"] for x in everything)
    order = [(x["currency"], x["amount"], x["id"]) for x in everything]
    assert order == sorted(order)
    assert ids(listed(api, "?currency=ZMW")) == ids(everything)
    # a token changes nothing
    fan = register(api)
    assert ids(api.get("/packages", token=fan["access_token"]).json["data"]) == ids(everything)


def test_the_catalogue_shows_accepted_currencies_only(api, stack, admin):
    """A package in a currency the server does not accept (written outside
    the API, or left from an earlier TipzedCurrencies) cannot be bought here."""
    pid = str(uuid.uuid4())
    stack.psql(f"INSERT INTO packages (id, name, amount, currency) VALUES ('{pid}', '{unique()}', 1000, 'USD')")
    assert pid not in ids(listed(api)) and pid not in ids(listed(api, "?currency=ZMW"))
    assert_problem(api.get("/packages?currency=USD"), 422, "validation_failed", field="currency")


def test_patch_changes_and_hides(api, stack, admin):
    p = create(api, admin, amount=8000).json
    r = patch(api, admin, p["id"], {"bonus": 2000})
    assert r.status == 200, r
    assert (r.json["bonus"], r.json["amount"], r.json["credit"], r.json["name"]) == (
        2000, 8000, 8000, p["name"])
    assert r.json["updated_at"] >= p["updated_at"] and r.json["created_at"] == p["created_at"]
    assert [x["bonus"] for x in listed(api) if x["id"] == p["id"]] == [2000]
    # amount and name; credit follows the amount
    new_name = unique("Renamed")
    r = patch(api, admin, p["id"], {"amount": 9000, "name": new_name})
    assert (r.json["amount"], r.json["credit"], r.json["bonus"], r.json["name"]) == (
        9000, 9000, 2000, new_name)
    # deactivated: hidden from the catalogue, but the row stays
    r = patch(api, admin, p["id"], {"active": False})
    assert r.status == 200 and r.json["active"] is False
    assert p["id"] not in ids(listed(api))
    assert stack.psql(f"SELECT active FROM packages WHERE id = '{p['id']}'") == [("f",)]
    # and shown again when reactivated
    assert patch(api, admin, p["id"], {"active": True}).json["active"] is True
    assert p["id"] in ids(listed(api))
    # an empty body (no body, or {}) changes nothing: 422
    assert_problem(patch(api, admin, p["id"], {}), 422, "validation_failed", field="body")
    r = api.request("PATCH", f"/admin/packages/{p['id']}", token=admin["access_token"])
    assert_problem(r, 422, "validation_failed", field="body")


def test_roles_and_authentication(api, admin, new_client):
    p = create(api, admin).json
    fan = register(new_client())
    creator = register(new_client(), role="creator")
    body = {"name": unique(), "amount": 1000, "currency": "ZMW"}
    for user in (fan, creator):
        assert_problem(api.post("/admin/packages", token=user["access_token"], json=body,
                                headers={"X-Idempotency-Key": uuid.uuid4().hex}), 403, "forbidden")
        assert_problem(api.request("PATCH", f"/admin/packages/{p['id']}", token=user["access_token"],
                                   json={"active": False}), 403, "forbidden")
    r = api.post("/admin/packages", json=body, headers={"X-Idempotency-Key": uuid.uuid4().hex})
    assert_problem(r, 401)
    assert r.headers["WWW-Authenticate"].startswith('Bearer realm="tipzed"')
    assert_problem(api.request("PATCH", f"/admin/packages/{p['id']}", json={"active": False}), 401)
    assert p["id"] in ids(listed(api))  # nothing changed
    # the catalogue's methods
    r = api.delete(f"/admin/packages/{p['id']}", token=admin["access_token"])
    assert_problem(r, 405)
    assert r.headers["Allow"] == "PATCH"
    assert_problem(api.post("/packages", json={}), 405)


def test_unknown_package_is_404(api, admin):
    assert_problem(patch(api, admin, str(uuid.uuid4()), {"active": False}), 404, "not_found")
    assert_problem(patch(api, admin, str(uuid.uuid4()), {"bonus": 1}, key=uuid.uuid4().hex), 404)
    assert_problem(patch(api, admin, "not-a-uuid", {"active": False}), 404)


@pytest.mark.parametrize("body, field", [
    ({"name": ""}, "name"), ({"name": "x" * 101}, "name"), ({"name": 5}, "name"),
    ({"name": None}, "name"), ({"amount": MIN_PAYMENT - 1}, "amount"),
    ({"amount": MAX_PAYMENT + 1}, "amount"), ({"amount": 0}, "amount"), ({"amount": -100}, "amount"),
    ({"amount": 1500.5}, "amount"), ({"amount": "1500"}, "amount"), ({"amount": 2 ** 53 + 1}, "amount"),
    ({"currency": "USD"}, "currency"), ({"currency": "zmw"}, "currency"),
    ({"currency": "ZMWX"}, "currency"), ({"currency": None}, "currency"),
    ({"bonus": -1}, "bonus"), ({"bonus": 5001}, "bonus"), ({"bonus": 1.5}, "bonus"),
    ({"bonus": "10"}, "bonus"), ({"active": "yes"}, "active"), ({"active": 1}, "active"),
    ({"active": None}, "active"), ({"credit": 5000}, "credit"), ({"extra": 1}, "extra"),
])
def test_create_validation(api, stack, admin, body, field):
    before = stack.psql("SELECT count(*) FROM packages")
    assert_problem(create(api, admin, **body), 422, "validation_failed", field=field)
    assert stack.psql("SELECT count(*) FROM packages") == before


def test_create_requires_every_field_it_has_no_default_for(api, admin):
    for missing in ("name", "amount", "currency"):
        body = {"name": unique(), "amount": 5000, "currency": "ZMW"}
        del body[missing]
        r = api.post("/admin/packages", token=admin["access_token"], json=body,
                     headers={"X-Idempotency-Key": uuid.uuid4().hex})
        assert_problem(r, 422, "validation_failed", field=missing)
    # the bounds themselves are accepted; the bonus may equal the amount
    assert create(api, admin, amount=MIN_PAYMENT, bonus=MIN_PAYMENT).status == 201
    assert create(api, admin, amount=MAX_PAYMENT).status == 201


@pytest.mark.parametrize("body, field", [
    ({"name": ""}, "name"), ({"name": "x" * 101}, "name"), ({"amount": MIN_PAYMENT - 1}, "amount"),
    ({"amount": MAX_PAYMENT + 1}, "amount"), ({"amount": "5000"}, "amount"),
    ({"bonus": -5}, "bonus"), ({"bonus": 1.5}, "bonus"), ({"active": "false"}, "active"),
    ({"currency": "ZMW"}, "currency"), ({"credit": 1}, "credit"), ({"amount": 1000, "bonus": 1001}, "bonus"),
    # against the package's own figures: amount 5000, bonus 1000
    ({"bonus": 5001}, "bonus"), ({"amount": 999}, "amount"), ({"name": None}, "name"),
])
def test_patch_validation(api, stack, admin, body, field):
    p = create(api, admin, amount=5000, bonus=1000).json
    assert_problem(patch(api, admin, p["id"], body), 422, "validation_failed", field=field)
    after = stack.psql(f"SELECT name, amount, bonus, active, updated_at = created_at FROM packages"
                       f" WHERE id = '{p['id']}'")
    assert after == [(p["name"], "5000", "1000", "t", "t")]


def test_two_active_packages_never_share_a_name(api, stack, admin):
    name = unique("Gold")
    first = create(api, admin, name=name)
    assert first.status == 201, first
    assert_problem(create(api, admin, name=name, amount=9000), 409, "package_exists")
    # an inactive package may share it
    old = create(api, admin, name=name, active=False)
    assert old.status == 201, old
    assert_problem(patch(api, admin, old.json["id"], {"active": True}), 409, "package_exists")
    # nor may another package be renamed to it while it is active
    other = create(api, admin).json
    assert_problem(patch(api, admin, other["id"], {"name": name}), 409, "package_exists")
    # once the first is deactivated the name is free again
    assert patch(api, admin, first.json["id"], {"active": False}).status == 200
    again = create(api, admin, name=name)
    assert again.status == 201, again
    assert [x["id"] for x in listed(api) if x["name"] == name] == [again.json["id"]]
    # the database refuses it whoever writes the row
    with pytest.raises(AssertionError, match="packages_active_name_idx"):
        stack.psql(f"UPDATE packages SET active = true WHERE id = '{first.json['id']}'")


def test_concurrent_creations_of_one_name_make_one_package(stack, admin, new_client):
    name, answers = unique("Race"), []

    def post():
        answers.append(create(new_client(), admin, name=name).status)
    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [201] + [409] * 5, answers
    assert stack.psql(f"SELECT count(*) FROM packages WHERE name = '{name}'") == [("1",)]


def test_idempotent_creation(api, stack, admin):
    key, name = uuid.uuid4().hex, unique("Replay")
    first = create(api, admin, key=key, name=name, bonus=100)
    assert first.status == 201 and "Idempotent-Replayed" not in first.headers, first
    again = create(api, admin, key=key, name=name, bonus=100)
    assert again.status == 201 and again.json == first.json, again
    assert again.headers["Idempotent-Replayed"] == "true"
    assert stack.psql(f"SELECT count(*) FROM packages WHERE name = '{name}'") == [("1",)]
    # the same key for another body
    assert_problem(create(api, admin, key=key, name=name, bonus=200), 422, "idempotency_key_reused")
    # no key
    r = api.post("/admin/packages", token=admin["access_token"],
                 json={"name": unique(), "amount": 1000, "currency": "ZMW"})
    assert_problem(r, 400, "idempotency_key_required")
    # a refused request frees its key: the corrected retry is processed
    key = uuid.uuid4().hex
    assert_problem(create(api, admin, key=key, name=name), 409, "package_exists")
    assert create(api, admin, key=key, name=name, active=False).status == 201


def test_idempotent_change(api, admin):
    p = create(api, admin, bonus=0).json
    key = uuid.uuid4().hex
    first = patch(api, admin, p["id"], {"bonus": 300}, key=key)
    assert first.status == 200 and first.json["bonus"] == 300, first
    assert patch(api, admin, p["id"], {"bonus": 400}).json["bonus"] == 400  # without a key
    again = patch(api, admin, p["id"], {"bonus": 300}, key=key)
    assert again.status == 200 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert_problem(patch(api, admin, p["id"], {"bonus": 500}, key=key), 422, "idempotency_key_reused")
    assert [x["bonus"] for x in listed(api) if x["id"] == p["id"]] == [400]


def test_every_change_is_audited(api, stack, admin):
    r = create(api, admin, amount=4000, bonus=400)
    p = r.json
    changed = patch(api, admin, p["id"], {"bonus": 800, "active": False})
    patch(api, admin, p["id"], {"active": False})  # no change: still audited
    rows = audit(stack, p["id"])
    assert [(a, actor) for a, actor, _, _ in rows] == [
        ("package.create", admin["user"]["id"]), ("package.update", admin["user"]["id"]),
        ("package.update", admin["user"]["id"])]
    assert rows[0][2] == f"{p['name']}: 4000 ZMW, bonus 400"
    assert rows[1][2] == "bonus 400 -> 800; active true -> false" and rows[2][2] == "no change"
    assert (rows[0][3], rows[1][3]) == (r.headers["X-Request-Id"], changed.headers["X-Request-Id"])
    log = api.get("/admin/audit-log", token=admin["access_token"]).json["data"]
    assert ("package.update", p["id"]) in {(e["action"], e["target_id"]) for e in log}
    # refused requests write nothing
    assert_problem(patch(api, admin, p["id"], {"bonus": 5000}), 422)
    assert len(audit(stack, p["id"])) == 3


def test_packages_for_top_ups(api, stack, admin):
    """tz_package_for_topup: the active package row, or NULL."""
    p = create(api, admin, amount=6000, bonus=600).json

    def topup(pid):
        return stack.psql(f"SELECT t.id, t.amount, t.bonus, t.currency, tz_package_for_topup('{pid}') IS NULL"
                          f" FROM tz_package_for_topup('{pid}') t")[0]
    assert topup(p["id"]) == (p["id"], "6000", "600", "ZMW", "f")
    patch(api, admin, p["id"], {"active": False})
    assert topup(p["id"]) == ("", "", "", "", "t")
    assert topup(uuid.uuid4()) == ("", "", "", "", "t")


def test_a_package_is_never_deleted_by_the_module(stack, admin, api):
    """The runtime role holds no privilege on the table: only the SQL
    functions write it, and none deletes."""
    p = create(api, admin).json
    r = stack.psql_script(f"DELETE FROM packages WHERE id = '{p['id']}';\n", user=stack.app_role)
    assert r.returncode != 0 and "permission denied" in r.stderr, r.stderr
    r = stack.psql_script(f"SELECT tz_package_for_topup('{p['id']}');\n", user=stack.app_role)
    assert r.returncode != 0 and "permission denied" in r.stderr, r.stderr
    assert stack.psql(f"SELECT count(*) FROM packages WHERE id = '{p['id']}'") == [("1",)]
