"""Accounts by email (docs/accounts.md): verification of the address and
reset of a forgotten password by single-use, expiring tokens sent by mail
(read here from the SMTP sink), payouts and webhook endpoints refused to
unverified addresses, and guest tips: without an account, limited per
client IP, with the receipt by mail, claimed by a registration with the
same address only once that address is verified."""
import base64
import datetime
import hashlib
import json
import re
import secrets
import uuid

import pytest

from test_billing import advance
from test_payouts_admin import fund
from tzclient import (PASSWORD, assert_problem, login, mail_token, register, unique_email,
                      verify_email)

VERIFY = "Confirm your email"
RESET = "Reset your password"


@pytest.fixture(autouse=True)
def _needs_the_sink(smtp):
    if smtp is None:
        pytest.skip("no SMTP sink on this stack (TZ_SMTP_PORT)")


def key():
    return {"X-Idempotency-Key": uuid.uuid4().hex}


def forgot(api, email):
    return api.post("/auth/password/forgot", json={"email": email})


def reset(api, token, password="a brand new password"):
    return api.post("/auth/password/reset", json={"token": token, "password": password})


def test_registration_mails_a_single_use_verification_link(api, stack, smtp):
    u = register(api, full_name="Mwila Banda")
    assert u["user"]["email_verified"] is False
    m = smtp.wait_for(lambda m: m.to == [u["email"]] and VERIFY in m.message["Subject"], 30)
    t = mail_token(smtp, u["email"], VERIFY)
    assert "Hello Mwila Banda" in m.text()
    assert f"/verify-email#token={t}" in m.text() and m.text().count(t) == 2
    # the token is stored only as the SHA-256 of its bytes, and the mail's
    # sealed copy is erased once it is sent
    digest = hashlib.sha256(base64.urlsafe_b64decode(t + "=")).hexdigest()
    assert stack.psql(f"SELECT count(*) FROM account_tokens WHERE token_hash = '{digest}'"
                      f" AND user_id = '{u['user']['id']}'")[0][0] == "1"
    assert stack.psql(f"""SELECT count(*) FROM mail_outbox m JOIN users u ON u.id = m.user_id
                           WHERE u.email = '{u["email"]}' AND m.status = 'sent'
                             AND m.secret_enc IS NULL""")[0][0] == "1"
    r = api.post("/auth/email/verify", json={"token": t})
    assert r.status == 200 and r.json["id"] == u["user"]["id"] and r.json["email_verified"] is True
    assert api.get("/auth/me", token=u["access_token"]).json["email_verified"] is True
    # used once: the second time it is refused like any unknown token
    assert_problem(api.post("/auth/email/verify", json={"token": t}), 400, "invalid_token",
                   field="token")
    # the token never reaches a log line
    assert t not in stack.error_log_text()


def test_wrong_and_malformed_tokens_are_refused(api):
    never_sent = secrets.token_urlsafe(32)
    for path in ("/auth/email/verify", "/auth/password/reset"):
        body = {"password": "a brand new password"} if "reset" in path else {}
        for t in (never_sent, "abc", never_sent + "=", never_sent[:-1] + "!"):
            assert_problem(api.post(path, json={**body, "token": t}), 400, "invalid_token",
                           field="token")
        assert_problem(api.post(path, json=body), 422, field="token")
        assert_problem(api.post(path, json={**body, "token": "x" * 65}), 422, field="token")
        assert_problem(api.post(path, json={**body, "token": 7}), 422, field="token")
    assert_problem(api.post("/auth/password/reset", json={"token": never_sent, "password": "short"}),
                   422, field="password")


def test_the_verification_mail_again_is_rate_limited(api, new_client, smtp):
    u = register(api)
    first = mail_token(smtp, u["email"], VERIFY)
    assert_problem(api.post("/auth/email/verify/send"), 401)
    r = api.post("/auth/email/verify/send", token=u["access_token"])
    assert r.status == 202 and r.json == {"status": "sent"}, r
    second = mail_token(smtp, u["email"], VERIFY, skip={first})
    assert second != first
    # either token works (each once)
    assert api.post("/auth/email/verify", json={"token": second}).status == 200
    assert_problem(api.post("/auth/email/verify/send", token=u["access_token"]), 409,
                   "already_verified")
    assert_problem(api.post("/auth/email/verify/send", token=u["access_token"],
                            json={"email": "x@example.com"}), 422, field="email")
    other = register(new_client())
    statuses = [api.post("/auth/email/verify/send", token=other["access_token"]).status
                for _ in range(4)]
    assert statuses == [202, 202, 202, 429], statuses
    r = api.post("/auth/email/verify/send", token=other["access_token"])
    assert_problem(r, 429, "too_many_requests")
    assert 0 < int(r.headers["Retry-After"]) <= 900


def test_forgot_answers_the_same_for_an_unknown_address(api, new_client, smtp):
    u = register(api)
    nobody = unique_email("nobody")
    known, unknown = forgot(new_client(), u["email"].upper()), forgot(new_client(), nobody)
    assert known.status == unknown.status == 202
    assert known.body == unknown.body
    assert mail_token(smtp, u["email"], RESET)
    assert not [m for m in smtp.messages if m.to == [nobody]]
    assert_problem(forgot(api, "not an address"), 422)


def test_reset_sets_the_password_and_ends_every_session(api, new_client, smtp):
    u = register(api)
    other_session = login(new_client(), u["email"], PASSWORD).json
    assert forgot(api, u["email"]).status == 202
    t = mail_token(smtp, u["email"], RESET)
    r = reset(api, t)
    assert r.status == 204, r
    # every refresh-token family of the account is revoked
    for s in (u, other_session):
        assert_problem(api.post("/auth/refresh", json={"refresh_token": s["refresh_token"]}), 401)
    assert_problem(login(new_client(), u["email"], PASSWORD), 401, "invalid_credentials")
    fresh = login(new_client(), u["email"], "a brand new password")
    assert fresh.status == 200, fresh
    # the reset went through the mailbox: the address is verified too
    assert fresh.json["user"]["email_verified"] is True
    # a reset token is single use
    assert_problem(reset(api, t, "yet another password"), 400, "invalid_token")
    assert login(new_client(), u["email"], "a brand new password").status == 200


def test_a_new_reset_link_ends_the_older_ones_once_one_is_used(api, smtp):
    u = register(api)
    forgot(api, u["email"])
    a = mail_token(smtp, u["email"], RESET)
    forgot(api, u["email"])
    b = mail_token(smtp, u["email"], RESET, skip={a})
    assert reset(api, b).status == 204
    assert_problem(reset(api, a, "a third password!"), 400, "invalid_token")


def test_expired_tokens_are_refused(api, admin, smtp):
    """Reset links work an hour, verification links 48 hours (the
    defaults); the sandbox clock moves past both."""
    u = register(api)
    v = mail_token(smtp, u["email"], VERIFY)
    forgot(api, u["email"])
    t = mail_token(smtp, u["email"], RESET)
    advance(api, admin, "2h")
    assert_problem(reset(api, t), 400, "invalid_token")
    advance(api, admin, "47h")
    assert_problem(api.post("/auth/email/verify", json={"token": v}), 400, "invalid_token")
    assert api.get("/auth/me", token=u["access_token"]).json["email_verified"] is False


def test_payouts_and_endpoints_need_a_verified_address(api, stack, smtp):
    c = register(api, role="creator")
    assert api.put("/creators/me", token=c["access_token"],
                   json={"bank_account": "ZM0012345678", "account_name": "C M"}).status == 200
    fund(stack, c["user"]["id"], 50000)
    payout = lambda: api.post("/payouts/request", token=c["access_token"],  # noqa: E731
                              json={"amount": 2000}, headers=key())
    hook = lambda: api.post("/webhook-endpoints", token=c["access_token"],  # noqa: E731
                            json={"url": "https://hooks.example.com/x", "events": ["*"]})
    assert_problem(payout(), 403, "email_unverified")
    assert_problem(hook(), 403, "email_unverified")
    # nothing was held by the refused request
    assert api.get("/wallets/me", token=c["access_token"]).json["pending_payouts"] == 0
    verify_email(api, c, smtp)
    assert payout().status == 201
    assert hook().status == 201


def guest_tip(api, creator_id, email, name=None, amount=1500, headers=None, approve=True):
    body = {"creator_id": creator_id, "amount": amount, "currency": "ZMW",
            "provider": "sandbox", "email": email, "message": "from a guest"}
    if name:
        body["name"] = name
    r = api.post("/payments/initiate", json=body, headers=headers or key())
    if r.status == 201 and approve:
        page = api.get(r.json["mobile_money_url"])
        d = json.loads(re.search(rb'id="tipzed-sandbox">(.*?)</script>', page.body).group(1))
        ok = api.post(d["webhook"], body=d["approve"]["body"].encode(), headers={
            "Content-Type": "application/json", "X-Tipzed-Signature": d["approve"]["signature"]})
        assert ok.status == 200, ok
    return r


def test_a_guest_tips_and_gets_the_receipt_by_mail(api, new_client, smtp):
    creator = register(new_client(), role="creator", full_name="Chanda Ngoma")
    email = unique_email("guest")
    r = guest_tip(api, creator["user"]["id"], email, name="Bwalya Guest", amount=2500)
    assert r.status == 201, r
    assert r.json["status"] == "pending" and r.json["amount"] == 2500
    m = smtp.wait_for(lambda m: m.to == [email] and "receipt" in m.message["Subject"], 30)
    assert "Hello Bwalya Guest" in m.text() and "ZMW 25.00" in m.text()
    assert "from Chanda Ngoma" in m.message["Subject"] and r.json["id"] in m.text()
    # the creator sees the tip (net of the fee) like any other
    w = api.get("/wallets/me", token=creator["access_token"]).json
    assert w["balance"] == 2125
    # a guest has no password: its address cannot log in
    assert_problem(login(new_client(), email, PASSWORD), 401, "invalid_credentials")


def test_guest_tips_are_refused_what_needs_an_account(api, new_client):
    creator = register(new_client(), role="creator")
    cid = creator["user"]["id"]
    base = {"creator_id": cid, "amount": 1500, "currency": "ZMW", "provider": "sandbox"}
    assert_problem(api.post("/payments/initiate", json=base, headers=key()), 422, field="email")
    for bad in ("nobody", "a@b", "x" * 260 + "@example.com"):
        assert_problem(api.post("/payments/initiate", json={**base, "email": bad}, headers=key()),
                       422, field="email")
    assert_problem(api.post("/payments/initiate", headers=key(),
                            json={**base, "email": unique_email("g"), "source": "wallet"}),
                   422, field="source")
    assert_problem(api.post("/payments/initiate", headers=key(),
                            json={**base, "email": unique_email("g"), "name": ""}), 422, field="name")
    # with a token the fan tips as itself: a guest's fields are refused
    fan = register(new_client())
    assert_problem(api.post("/payments/initiate", token=fan["access_token"], headers=key(),
                            json={**base, "email": unique_email("g")}), 422, field="email")
    # a token given is checked as anywhere: a bad one is 401, a creator's 403
    assert_problem(api.post("/payments/initiate", token="nonsense", headers=key(),
                            json={**base, "email": unique_email("g")}), 401)
    assert_problem(api.post("/payments/initiate", token=creator["access_token"], headers=key(),
                            json=base), 403, "forbidden")


def test_guest_tips_are_limited_per_client_ip(new_client):
    """TipzedGuestRateLimit (default 10 per hour and client IP)."""
    creator = register(new_client(), role="creator")
    a, b = new_client(), new_client()
    statuses = [guest_tip(a, creator["user"]["id"], unique_email("g"), approve=False).status
                for _ in range(11)]
    assert statuses == [201] * 10 + [429], statuses
    r = guest_tip(a, creator["user"]["id"], unique_email("g"), approve=False)
    assert_problem(r, 429, "too_many_requests")
    assert 0 < int(r.headers["Retry-After"]) <= 3600
    assert guest_tip(b, creator["user"]["id"], unique_email("g"), approve=False).status == 201


def test_a_guests_idempotency_key_is_scoped_by_its_email(api, new_client):
    """The key is scoped by the guest row of the address (in any case)."""
    creator = register(new_client(), role="creator")
    email, h = unique_email("g"), key()
    first = guest_tip(api, creator["user"]["id"], email, headers=h, approve=False)
    again = guest_tip(api, creator["user"]["id"], email, headers=h, approve=False)
    assert first.status == again.status == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json == first.json
    assert_problem(guest_tip(api, creator["user"]["id"], email, amount=1600, headers=h,
                             approve=False), 422)
    # the same address in capitals is the same guest: the same key and another body
    assert_problem(guest_tip(api, creator["user"]["id"], email.upper(), headers=h,
                             approve=False), 422, "idempotency_key_reused")
    other = guest_tip(api, creator["user"]["id"], unique_email("g"), headers=h, approve=False)
    assert other.status == 201 and other.json["id"] != first.json["id"]


def test_registration_claims_the_guest_history_only_once_verified(api, new_client, smtp):
    creator = register(new_client(), role="creator", full_name="Chanda Claim")
    email = unique_email("g")
    paid = guest_tip(api, creator["user"]["id"], email, name="Guest G", amount=3000).json
    smtp.wait_for(lambda m: m.to == [email] and "receipt" in m.message["Subject"], 30)
    # anyone can register any address: registration alone claims nothing
    fan = register(new_client(), email=email)
    assert api.get("/payments", token=fan["access_token"]).json["data"] == []
    assert_problem(api.get(f"/payments/{paid['id']}", token=fan["access_token"]), 404)
    assert api.get("/invoices", token=fan["access_token"]).json["data"] == []
    # verified: the guest's payments are the account's
    verify_email(api, fan, smtp)
    # its invoice too, still naming the guest it was issued to
    [inv] = api.get("/invoices", token=fan["access_token"]).json["data"]
    assert inv["payment_id"] == paid["id"] and inv["buyer"]["name"] == "Guest G"
    assert api.get(f"/invoices/{inv['id']}", token=fan["access_token"]).status == 200
    export = api.get("/auth/me/export", token=fan["access_token"]).json
    assert [g["email"] for g in export["claimed_guests"]] == [email]
    assert [i["id"] for i in export["invoices"]] == [inv["id"]]
    [p] = api.get("/payments", token=fan["access_token"]).json["data"]
    assert p["id"] == paid["id"] and p["fan_id"] == fan["user"]["id"] and p["status"] == "succeeded"
    assert api.get(f"/payments/{paid['id']}", token=fan["access_token"]).status == 200
    # the creator's analytics count one supporter, the account
    today = datetime.datetime.now(datetime.timezone.utc).date()
    a = api.get(f"/creators/me/analytics?from={today}&to={today + datetime.timedelta(days=1)}"
                "&interval=day", token=creator["access_token"])
    assert a.status == 200, a
    assert [s["fan_id"] for s in a.json["top_supporters"]] == [fan["user"]["id"]]
    # later guest tips from the verified address are the account's at once
    later = guest_tip(api, creator["user"]["id"], email, amount=1200).json
    assert later["fan_id"] == fan["user"]["id"]


def test_a_guest_tip_from_an_address_verified_before_is_the_accounts(api, new_client, smtp):
    creator = register(new_client(), role="creator")
    fan = register(new_client())
    verify_email(api, fan, smtp)
    t = guest_tip(api, creator["user"]["id"], fan["email"].upper(), amount=1300).json
    assert t["fan_id"] == fan["user"]["id"]
    assert [p["id"] for p in api.get("/payments", token=fan["access_token"]).json["data"]] == [t["id"]]
