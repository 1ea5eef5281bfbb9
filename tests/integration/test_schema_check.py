"""The module serves only the schema it was built for: when the database's
schema is behind (here: another function digest recorded, as after a
release whose migration was not run), the API answers 503 schema_behind
naming `tipzedctl migrate`, /health still answers, /health/detailed says
so; after `tipzedctl migrate` the same server serves again, without a
restart.  Also: a creator has one name."""
import time
import uuid

from tzclient import assert_problem, register
from tzstack import SQL_DIR

BEHIND = "0" * 64


def poll(fn, seconds=30):
    """Calls fn until it returns something true; that value, or None."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.3)
    return None


def recorded_digest(stack):
    return stack.psql("SELECT value FROM tz_settings WHERE key = 'functions_digest'")[0][0]


def test_status_is_up_to_date_on_the_stack(stack, api):
    r = stack.tipzedctl("status", SQL_DIR)
    assert r.returncode == 0 and "schema: up to date" in r.stdout, r.stdout + r.stderr
    assert f"runtime role: {stack.app_role}" in r.stdout
    r = stack.tipzedctl("migrate", "--check", SQL_DIR)
    assert r.returncode == 0, r.stdout
    health = api.get("/health/detailed")
    assert health.status == 200 and health.json["database"]["schema_behind"] is False, health
    assert health.json["database"]["schema_version"] == health.json["database"]["schema_expected"]
    assert health.json["database"]["functions_digest"] == recorded_digest(stack)


def test_schema_behind_answers_503_until_migrated(stack, api):
    path = f"/creators/{uuid.uuid4()}"
    good = recorded_digest(stack)
    log_start = len(stack.error_log_text())
    try:
        stack.psql(f"UPDATE tz_settings SET value = '{BEHIND}' WHERE key = 'functions_digest'")
        behind = poll(lambda: (lambda r: r if r.status == 503 else None)(api.get(path)))
        assert behind is not None, "the API kept serving a schema that is behind"
        p = assert_problem(behind, 503, "schema_behind")
        assert "tipzedctl migrate" in p["detail"] and behind.headers.get("Retry-After"), p
        assert api.get("/health").status == 200
        detailed = api.get("/health/detailed")
        assert detailed.status == 503 and detailed.json["database"]["schema_behind"] is True
        assert detailed.json["status"] == "schema_behind"
        check = stack.tipzedctl("migrate", "--check", SQL_DIR)
        assert check.returncode == 1 and "pending: functions digest" in check.stdout, check.stdout
        # what an operator does: run the migration
        r = stack.tipzedctl("migrate", SQL_DIR)
        assert r.returncode == 0, r.stdout + r.stderr
        assert recorded_digest(stack) == good
        served = poll(lambda: all(api.get(path).status == 404 for _ in range(6)))
        assert served, "the server did not serve again after tipzedctl migrate"
    finally:
        stack.psql(f"UPDATE tz_settings SET value = '{good}' WHERE key = 'functions_digest'")
        # a child that answered "behind" reads the state again on its first
        # request after 2 s: wait that out, so no later test meets a stale one
        time.sleep(2.5)
    # each child that saw "behind" logs its recovery when a request reaches it
    recovered = poll(lambda: (api.get(path), "AH10601" in stack.error_log_text()[log_start:])[1])
    log = stack.error_log_text()[log_start:]
    # one line per change of state and child process, not one per request
    behind_lines = log.count("AH10602")
    assert 1 <= behind_lines <= 4 and "tipzedctl migrate" in log, log[-2000:]
    assert recovered, log[-2000:]


def test_a_creator_has_one_name(api, new_client):
    """PUT /creators/me {full_name} is the name /auth/me, the public
    profile and the owner's profile all show."""
    c = register(new_client(), role="creator", full_name="First Name")
    token, cid = c["access_token"], c["user"]["id"]
    r = api.put("/creators/me", token=token, json={"full_name": "Second Name"})
    assert r.status == 200 and r.json["name"] == "Second Name", r
    assert api.get("/auth/me", token=token).json["full_name"] == "Second Name"
    assert api.get(f"/creators/{cid}").json["name"] == "Second Name"
    assert api.get("/creators/me", token=token).json["name"] == "Second Name"
    r = api.put("/creators/me", token=token, json={"bio": "only the bio"})
    assert r.status == 200 and r.json["name"] == "Second Name"
    assert api.get("/auth/me", token=token).json["full_name"] == "Second Name"
