"""Two-factor (TOTP) and sessions: an admin without TOTP is refused (and
allowed on a node with TipzedAdminTOTP Off), an admin logs in with a code,
a replayed or wrong code is refused, a recovery code works once, the second
step is single use and burnt by wrong codes; a creator enrols, enables and
disables TOTP, and a payout then needs a fresh code; sessions are listed
with address and user agent, one is ended (its refresh token refused),
another user's is 404, and logout everywhere ends them all."""
import os
import time
import uuid

from tzclient import (assert_problem, create_admin, ensure_verified, fresh_totp, login, login_totp,
                      parse_enrolment, register, totp_code, unique_email)
from tznode import Node

PASSWORD = "admin password 123"


def second_step(api, mfa_token, **body):
    return api.post("/auth/login/totp", json={"mfa_token": mfa_token, **body})


def challenge(api, email, password):
    r = login(api, email, password)
    assert r.status == 200 and r.json["mfa_required"] is True, r
    assert r.json["methods"] == ["totp", "recovery"] and "access_token" not in r.json, r
    return r.json["mfa_token"]


def wrong_code(secret):
    """A well-formed code that is not the code of any step near now."""
    near = {totp_code(secret, int(time.time()) // 30 + d) for d in range(-2, 3)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444", "555555")
                if c not in near)


def test_admin_without_totp_is_refused_until_enrolled(api, stack):
    email = unique_email("admin")
    r = stack.tipzedctl("create-admin", "--email", email, input=PASSWORD + "\n")
    assert r.returncode == 0 and "admin-totp" in r.stderr, r
    assert_problem(login(api, email, PASSWORD), 403, "totp_enrolment_required")
    r = stack.tipzedctl("admin-totp", "--email", email, "--key-file",
                        os.path.join(stack.secrets, "enc.key"))
    assert r.returncode == 0, r
    a = parse_enrolment(r.stdout)
    assert a["otpauth_uri"].startswith("otpauth://totp/Tipzed:") and a["totp_secret"] in a["otpauth_uri"]
    assert len(a["recovery_codes"]) == 10
    r = login_totp(api, email, PASSWORD, a["totp_secret"])
    assert r.status == 200 and r.json["user"]["role"] == "admin", r
    assert api.get("/admin/overview", token=r.json["access_token"]).status == 200
    # the secret is stored sealed, never as given
    stored = stack.psql(f"SELECT totp_secret_enc FROM users WHERE email = '{email}'")[0][0]
    assert a["totp_secret"] not in stored and stored.startswith("v2.")
    # a fan or creator is no admin to enrol
    assert stack.tipzedctl("admin-totp", "--email", register(api)["email"], "--key-file",
                           os.path.join(stack.secrets, "enc.key")).returncode != 0


def test_admin_totp_off_on_a_node_allows_password_alone(stack):
    email = unique_email("admin")
    assert stack.tipzedctl("create-admin", "--email", email, input=PASSWORD + "\n").returncode == 0
    node = Node(stack, f"nototp-{uuid.uuid4().hex[:6]}", extra="TipzedAdminTOTP Off")
    node.start()
    try:
        r = login(node.api, email, PASSWORD)
        assert r.status == 200 and r.json["access_token"], r
    finally:
        node.stop()


def test_admin_code_replay_wrong_code_and_single_use_challenge(api, stack, new_client):
    a = create_admin(stack, unique_email("admin"), PASSWORD)
    secret = a["totp_secret"]
    tok = challenge(api, a["email"], PASSWORD)
    assert_problem(second_step(api, tok, code=wrong_code(secret)), 401, "invalid_code", "code")
    code = fresh_totp(secret)
    r = second_step(api, tok, code=code)
    assert r.status == 200 and r.json["access_token"] and r.json["refresh_token"], r
    assert r.json["user"]["role"] == "admin"
    # the challenge succeeded once
    assert_problem(second_step(api, tok, code=fresh_totp(secret)), 401, "invalid_token", "mfa_token")
    # the same code again, on a new challenge: a replay
    tok2 = challenge(new_client(), a["email"], PASSWORD)
    p = assert_problem(second_step(new_client(), tok2, code=code), 401, "invalid_code", "code")
    assert "used" in p["errors"][0]["message"]
    # malformed second steps are 422 naming the field
    assert_problem(second_step(api, tok2), 422, "validation_failed", "code")
    assert_problem(second_step(api, tok2, code=code, recovery_code="abcde-fghij"), 422,
                   "validation_failed", "code")
    assert_problem(api.post("/auth/login/totp", json={"code": code}), 422, None, "mfa_token")
    assert_problem(second_step(api, "no-such-token", code=code), 401, "invalid_token")


def test_recovery_code_works_once(api, stack, new_client):
    a = create_admin(stack, unique_email("admin"), PASSWORD)
    rc = a["recovery_codes"][3]
    r = second_step(api, challenge(api, a["email"], PASSWORD), recovery_code=rc.upper())
    assert r.status == 200 and r.json["access_token"], r
    c2 = new_client()
    assert_problem(second_step(c2, challenge(c2, a["email"], PASSWORD), recovery_code=rc), 401,
                   "invalid_code", "recovery_code")
    c3 = new_client()
    r = second_step(c3, challenge(c3, a["email"], PASSWORD), recovery_code=a["recovery_codes"][4])
    assert r.status == 200, r
    assert stack.psql("SELECT count(*) FROM totp_recovery_codes c JOIN users u ON u.id = c.user_id"
                      f" WHERE u.email = '{a['email']}' AND c.used_at IS NOT NULL") == [("2",)]


def test_wrong_codes_burn_the_challenge_and_are_rate_limited(api, stack, new_client):
    a = create_admin(stack, unique_email("admin"), PASSWORD)
    tok = challenge(api, a["email"], PASSWORD)
    bad = wrong_code(a["totp_secret"])
    for _ in range(5):
        assert_problem(second_step(new_client(), tok, code=bad), 401, "invalid_code")
    # five wrong codes burn it: even the right code cannot use it now
    assert_problem(second_step(api, tok, code=fresh_totp(a["totp_secret"])), 401, "invalid_token")
    # and the account's second steps wait, whatever the address
    c = new_client()
    r = second_step(c, challenge(c, a["email"], PASSWORD), code=fresh_totp(a["totp_secret"]))
    assert_problem(r, 429, "too_many_attempts")
    assert int(r.headers["Retry-After"]) > 0


def fund(stack, creator_id, amount):
    stack.psql(f"SELECT tz_post_entry('test:{uuid.uuid4()}', 'adjustment', NULL, NULL, 'ZMW',"
               f" ARRAY[tz_account('provider_clearing', NULL, 'sandbox', 'ZMW'),"
               f" tz_account('wallet', '{creator_id}', NULL, 'ZMW')], ARRAY[-{amount}, {amount}]::bigint[])")


def payout(api, c, **extra):
    ensure_verified(api, c)
    return api.post("/payouts/request", token=c["access_token"],
                    json={"amount": 5000, "bank_account": "ZM0012345678", "account_name": "C M",
                          **extra}, headers={"X-Idempotency-Key": uuid.uuid4().hex})


def test_creator_enrols_and_payouts_need_a_fresh_code(api, stack, new_client):
    c = register(api, role="creator")
    tok = c["access_token"]
    fund(stack, c["user"]["id"], 100000)
    assert_problem(api.post("/auth/totp/enable", token=tok, json={"code": "123456"}), 409,
                   "totp_not_set_up")
    r = api.post("/auth/totp/setup", token=tok)
    assert r.status == 200 and r.json["otpauth_uri"].startswith("otpauth://totp/Tipzed:"), r
    secret = r.json["secret"]
    # a second setup replaces the pending secret: the first one's codes no longer enable
    secret = api.post("/auth/totp/setup", token=tok).json["secret"]
    assert_problem(api.post("/auth/totp/enable", token=tok, json={"code": wrong_code(secret)}), 422,
                   "invalid_code", "code")
    assert_problem(api.post("/auth/totp/enable", token=tok, json={}), 422, None, "code")
    r = api.post("/auth/totp/enable", token=tok, json={"code": fresh_totp(secret)})
    assert r.status == 200 and len(r.json["recovery_codes"]) == 10, r
    assert len(set(r.json["recovery_codes"])) == 10
    assert_problem(api.post("/auth/totp/setup", token=tok), 409, "totp_enabled")
    # the login now has a second step
    assert login(new_client(), c["email"], c["password"]).json["mfa_required"] is True
    # payouts need a fresh code
    assert_problem(payout(api, c), 403, "totp_required", "totp_code")
    assert_problem(payout(api, c, totp_code=wrong_code(secret)), 403, "invalid_code", "totp_code")
    code = fresh_totp(secret)
    r = payout(api, c, totp_code=code)
    assert r.status == 201, r
    assert_problem(payout(api, c, totp_code=code), 403, "invalid_code", "totp_code")  # replay
    # disable needs a code too
    assert_problem(api.post("/auth/totp/disable", token=tok, json={"code": wrong_code(secret)}),
                   422, "invalid_code", "code")
    assert api.post("/auth/totp/disable", token=tok, json={"code": fresh_totp(secret)}).status == 204
    assert_problem(api.post("/auth/totp/disable", token=tok, json={"code": "123456"}), 409,
                   "totp_not_enabled")
    r = login(new_client(), c["email"], c["password"])
    assert r.status == 200 and r.json["access_token"], r
    assert payout(api, c).status == 201


def test_an_admin_cannot_turn_totp_off(api, admin):
    r = api.post("/auth/totp/disable", token=admin["access_token"],
                 json={"code": fresh_totp(admin["totp_secret"])})
    assert_problem(r, 403, "forbidden")


def sessions(api, tok):
    r = api.get("/auth/sessions", token=tok)
    assert r.status == 200, r
    return r.json["sessions"]


def test_sessions_listed_ended_and_logout_everywhere(api, new_client):
    c = register(api, role="fan")
    phone = new_client()
    r = phone.post("/auth/login", json={"email": c["email"], "password": c["password"]},
                   headers={"User-Agent": "TipzedPhone/1.0"})
    assert r.status == 200, r
    other = r.json
    laptop = new_client()
    r = laptop.post("/auth/login", json={"email": c["email"], "password": c["password"]},
                    headers={"User-Agent": "Laptop browser"})
    mine = r.json
    listed = sessions(laptop, mine["access_token"])
    assert len(listed) == 3
    by_ua = {s["user_agent"]: s for s in listed}
    assert by_ua["TipzedPhone/1.0"]["ip"] == phone.source_ip
    assert by_ua["Laptop browser"]["ip"] == laptop.source_ip and by_ua["Laptop browser"]["current"]
    assert [s["current"] for s in listed].count(True) == 1
    for s in listed:
        assert s["created_at"] and s["last_used_at"] and s["expires_at"]
    # a refresh keeps the session and moves its last use
    r = laptop.post("/auth/refresh", json={"refresh_token": mine["refresh_token"]},
                    headers={"User-Agent": "Laptop browser"})
    assert r.status == 200, r
    mine.update(r.json)
    listed = sessions(laptop, mine["access_token"])
    assert len(listed) == 3 and [s for s in listed if s["current"]][0]["user_agent"] == "Laptop browser"
    # another user cannot end them: 404
    stranger = register(new_client())
    sid = by_ua["TipzedPhone/1.0"]["id"]
    assert_problem(api.delete(f"/auth/sessions/{sid}", token=stranger["access_token"]), 404)
    assert_problem(api.delete(f"/auth/sessions/{uuid.uuid4()}", token=mine["access_token"]), 404)
    assert api.delete(f"/auth/sessions/{sid}", token=mine["access_token"]).status == 204
    assert_problem(api.delete(f"/auth/sessions/{sid}", token=mine["access_token"]), 404)
    assert_problem(phone.post("/auth/refresh", json={"refresh_token": other["refresh_token"]}), 401)
    assert len(sessions(laptop, mine["access_token"])) == 2
    # logout everywhere
    assert api.post("/auth/logout/all", token=mine["access_token"]).status == 204
    assert_problem(laptop.post("/auth/refresh", json={"refresh_token": mine["refresh_token"]}), 401)
    assert_problem(api.post("/auth/refresh", json={"refresh_token": c["refresh_token"]}), 401)
    assert sessions(laptop, mine["access_token"]) == []
    assert_problem(api.get("/auth/sessions"), 401)
