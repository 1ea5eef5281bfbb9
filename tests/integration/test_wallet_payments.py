"""Money into and out of fans' wallets: top-ups (by amount and by credit
package, with the bonus from promotions), tips paid from the wallet
(cashback balance first, one entry, succeeded at once), wallet_first, the
fee quote that matches what is posted, cashback within its monthly cap
under concurrency, and refunds that take back bonus and cashback.

The test stack runs with TipzedCashback 1% 500, TipzedReferralBonus 500 and
no TipzedTopupFee."""
import threading
import uuid

import pytest

from test_payments import post_delivery, sandbox_deliveries
from tzclient import assert_problem, register


def key():
    return {"X-Idempotency-Key": uuid.uuid4().hex}


def fund(stack, user_id, amount, kind="wallet", currency="ZMW"):
    """Credits a wallet's main (or cashback) balance through the posting path."""
    stack.psql(f"SELECT tz_post_entry('test:{uuid.uuid4()}', 'adjustment', NULL, NULL, '{currency}',"
               f" ARRAY[tz_account('adjustments', NULL, NULL, '{currency}'),"
               f" tz_account('{kind}', '{user_id}', NULL, '{currency}')],"
               f" ARRAY[-{amount}, {amount}]::bigint[])")


def wallet(api, user):
    return api.get("/wallets/me", token=user["access_token"]).json


def balances(api, user):
    w = wallet(api, user)
    return w["balance"], w["cashback_balance"]


def topup(api, user, headers=None, **body):
    return api.post("/wallets/me/topup", token=user["access_token"], json=body,
                    headers=headers or key())


def tip(api, fan, creator_id, amount, source="wallet", headers=None, **extra):
    body = dict(creator_id=creator_id, amount=amount, currency="ZMW", source=source, **extra)
    return api.post("/payments/initiate", token=fan["access_token"], json=body,
                    headers=headers or key())


def approve(api, payment):
    return post_delivery(api, sandbox_deliveries(api, payment["payment_url"]), "approve")


def refund(api, admin, payment_id, amount=None):
    body = {"reason": "asked by the fan", **({"amount": amount} if amount else {})}
    return api.post(f"/payments/{payment_id}/refund", token=admin["access_token"], json=body,
                    headers=key())


def package(api, admin, amount, bonus, active=True):
    """A credit package made by an admin (deactivated afterwards unless active)."""
    r = api.post("/admin/packages", token=admin["access_token"], headers=key(),
                 json={"name": f"pack {uuid.uuid4().hex[:8]}", "amount": amount,
                       "currency": "ZMW", "bonus": bonus})
    assert r.status == 201, r
    if not active:
        off = api.request("PATCH", f"/admin/packages/{r.json['id']}", token=admin["access_token"],
                          json={"active": False})
        assert off.status == 200, off
    return r.json["id"]


def reconciled(api, admin):
    rec = api.get("/admin/reconciliation", token=admin["access_token"]).json
    return rec["ok"], [c for c in rec["checks"] if not c["ok"]]


@pytest.fixture
def people(new_client):
    return (register(new_client(), full_name="Mwila Fan"),
            register(new_client(), role="creator", full_name="Chanda Creator"))


def test_topup_by_amount_credits_the_wallet_once(api, stack, people):
    fan, _ = people
    h = key()
    r = topup(api, fan, headers=h, amount=5000, provider="sandbox")
    assert r.status == 201, r
    p = r.json
    assert (p["purpose"], p["source"], p["status"], p["amount"], p["fee"], p["bonus"]) == (
        "topup", "provider", "pending", 5000, 0, 0)
    assert p["payment_url"] == p["mobile_money_url"] and p["creator_id"] is None
    again = topup(api, fan, headers=h, amount=5000, provider="sandbox")
    assert again.status == 201 and again.json["id"] == p["id"], again
    assert approve(api, p).status == 200
    assert approve(api, p).status == 200  # a second delivery credits nothing
    assert balances(api, fan) == (5000, 0)
    line = wallet(api, fan)["transactions"][0]
    assert (line["type"], line["amount"], line["payment_id"]) == ("topup", 5000, p["id"])
    got = api.get(f"/payments/{p['id']}", token=fan["access_token"]).json
    assert got["status"] == "succeeded" and got["cashback"] == 0  # top-ups earn no cashback


def test_package_topup_adds_the_bonus_and_refund_takes_it_back(api, stack, people, admin):
    fan, _ = people
    pid = package(api, admin, 10000, 1500)
    r = topup(api, fan, package_id=pid, provider="sandbox")
    assert r.status == 201, r
    assert (r.json["amount"], r.json["bonus"], r.json["package_id"]) == (10000, 1500, pid)
    approve(api, r.json)
    assert balances(api, fan) == (11500, 0)
    legs = stack.psql(f"SELECT a.kind, q.amount FROM journal_entries e JOIN postings q"
                      f" ON q.entry_id = e.id JOIN accounts a ON a.id = q.account_id"
                      f" WHERE e.reference = 'payment:{r.json['id']}:credit' ORDER BY a.kind")
    assert legs == [("promotions", "-1500"), ("provider_clearing", "-10000"), ("wallet", "11500")]
    # a partial refund takes back its share of the bonus, the rest takes the rest
    assert refund(api, admin, r.json["id"], 4000).json["status"] == "partially_refunded"
    assert balances(api, fan) == (11500 - 4000 - 600, 0)
    assert refund(api, admin, r.json["id"]).json["status"] == "refunded"
    assert balances(api, fan) == (0, 0)
    types = [x["type"] for x in wallet(api, fan)["transactions"]]
    assert types[:4] == ["bonus_reversal", "refund", "bonus_reversal", "refund"]
    assert reconciled(api, admin)[1] == []


def test_topup_refund_refused_when_the_wallet_was_spent(api, stack, people, admin):
    fan, creator = people
    r = topup(api, fan, package_id=package(api, admin, 10000, 1000), provider="sandbox")
    approve(api, r.json)
    assert tip(api, fan, creator["user"]["id"], 10500).status == 201
    assert_problem(refund(api, admin, r.json["id"]), 409, "insufficient_funds")
    assert balances(api, fan) == (500, 105)


def test_topup_validation(api, stack, people, admin):
    fan, _ = people
    assert_problem(topup(api, fan, amount=5000, package_id=package(api, admin, 5000, 0)), 422,
                   field="package_id")
    assert_problem(topup(api, fan, provider="sandbox"), 422, field="package_id")
    assert_problem(topup(api, fan, package_id="nope"), 422, field="package_id")
    assert_problem(topup(api, fan, package_id=package(api, admin, 5000, 0, active=False)), 422,
                   field="package_id")
    assert_problem(topup(api, fan, package_id=str(uuid.uuid4())), 422, field="package_id")
    assert_problem(topup(api, fan, package_id=package(api, admin, 5000, 0), currency="USD"), 422,
                   field="currency")
    assert_problem(topup(api, fan, amount=5000, currency="XXX"), 422, field="currency")
    assert_problem(topup(api, fan, amount=5, provider="sandbox"), 422, field="amount")
    assert_problem(topup(api, fan, amount=5000, provider="nowhere"), 422, field="provider")
    assert_problem(topup(api, fan, amount="5000"), 422, field="amount")
    assert_problem(api.post("/wallets/me/topup", json={"amount": 5000}, headers=key()), 401)
    assert_problem(api.post("/wallets/me/topup", token=fan["access_token"],
                            json={"amount": 5000, "provider": "sandbox"}), 400)
    assert stack.psql(f"SELECT count(*) FROM payments WHERE fan_id = '{fan['user']['id']}'") == [("0",)]


def test_wallet_tip_spends_cashback_first_in_one_entry(api, stack, people, admin):
    fan, creator = people
    fund(stack, fan["user"]["id"], 3000)
    fund(stack, fan["user"]["id"], 400, kind="cashback")
    r = tip(api, fan, creator["user"]["id"], 2500, message="from my wallet")
    assert r.status == 201, r
    p = r.json
    assert (p["status"], p["source"], p["provider"], p["from_cashback"]) == (
        "succeeded", "wallet", "wallet", 400)
    assert (p["fee"], p["net"], p["cashback"]) == (375, 2125, 25)
    assert balances(api, fan) == (3000 - 2100, 25)
    assert wallet(api, creator)["balance"] == 2125
    assert api.get(f"/creators/{creator['user']['id']}").json["earnings"] == 2125
    entries = stack.psql(f"SELECT kind, count(*) FROM journal_entries WHERE payment_id = '{p['id']}'"
                         f" GROUP BY kind ORDER BY kind")
    assert entries == [("cashback", "1"), ("wallet_payment", "1")]
    lines = {(x["type"], x["account"]): x["amount"] for x in wallet(api, fan)["transactions"]}
    assert lines[("tip_sent", "main")] == -2100 and lines[("tip_sent", "cashback")] == -400
    assert lines[("cashback", "cashback")] == 25
    assert reconciled(api, admin)[1] == []


def test_wallet_tip_refused_when_both_balances_fall_short(api, stack, people):
    fan, creator = people
    fund(stack, fan["user"]["id"], 1000)
    fund(stack, fan["user"]["id"], 400, kind="cashback")
    assert_problem(tip(api, fan, creator["user"]["id"], 1401), 422, "insufficient_funds",
                   field="amount")
    assert balances(api, fan) == (1000, 400)
    assert tip(api, fan, creator["user"]["id"], 1400).status == 201
    assert balances(api, fan) == (0, 14)
    assert_problem(tip(api, fan, fan["user"]["id"], 100), 422, field="creator_id")
    assert_problem(tip(api, fan, creator["user"]["id"], 100, source="card"), 422, field="source")
    assert_problem(tip(api, creator, creator["user"]["id"], 100), 403)


def test_wallet_first_uses_the_wallet_only_when_it_covers(api, stack, people):
    fan, creator = people
    fund(stack, fan["user"]["id"], 1000)
    r = tip(api, fan, creator["user"]["id"], 1500, source="wallet_first", provider="sandbox")
    assert r.status == 201, r
    assert (r.json["source"], r.json["status"], r.json["amount"]) == ("provider", "pending", 1500)
    assert r.json["payment_url"]
    assert balances(api, fan) == (1000, 0)
    r = tip(api, fan, creator["user"]["id"], 1000, source="wallet_first", provider="sandbox")
    assert (r.json["source"], r.json["status"]) == ("wallet", "succeeded"), r
    assert balances(api, fan) == (0, 10)


def test_idempotent_wallet_tip_debits_once(api, stack, people):
    fan, creator = people
    fund(stack, fan["user"]["id"], 5000)
    h = key()
    first = tip(api, fan, creator["user"]["id"], 2000, headers=h)
    again = tip(api, fan, creator["user"]["id"], 2000, headers=h)
    assert first.status == again.status == 201 and first.json["id"] == again.json["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert balances(api, fan) == (3000, 20)


def test_quote_matches_what_is_posted(api, stack, people):
    fan, creator = people
    fund(stack, fan["user"]["id"], 9000)
    fund(stack, fan["user"]["id"], 300, kind="cashback")
    cid = creator["user"]["id"]
    q = api.get(f"/payments/quote?amount=7777&currency=ZMW&creator_id={cid}&source=wallet",
                token=fan["access_token"])
    assert q.status == 200, q
    p = tip(api, fan, cid, 7777).json
    assert {k: q.json[k] for k in ("amount", "currency", "fee", "net", "cashback", "from_cashback")} \
        == {k: p[k] for k in ("amount", "currency", "fee", "net", "cashback", "from_cashback")}
    posted = stack.psql(f"SELECT fee_bps FROM payments WHERE id = '{p['id']}'")
    assert q.json["fee_bps"] == int(posted[0][0]) and q.json["source"] == "wallet"
    first = api.get(f"/payments/quote?amount=50000&creator_id={cid}&source=wallet_first",
                    token=fan["access_token"]).json
    assert (first["source"], first["wallet_covers"], first["currency"]) == ("provider", False, "ZMW")
    for bad, field in (("amount=0", "amount"), ("amount=x", "amount"), ("amount=100&currency=XXX",
                       "currency"), ("amount=100&creator_id=nope", "creator_id"),
                       (f"amount=100&creator_id={cid}&source=card", "source"),
                       (f"amount=100&creator_id={fan['user']['id']}", "creator_id")):
        assert_problem(api.get(f"/payments/quote?{bad}", token=fan["access_token"]), 422,
                       field=field)
    assert_problem(api.get(f"/payments/quote?amount=100&creator_id={cid}"), 401)


def test_cashback_stops_at_the_monthly_cap_under_concurrency(api, stack, people, new_client):
    fan, creator = people
    fund(stack, fan["user"]["id"], 200000)
    assert tip(api, fan, creator["user"]["id"], 20000).json["cashback"] == 200
    # ten concurrent tips that would earn 100 each: the 300 left of the cap, no more
    results = []

    def one():
        results.append(tip(new_client(), fan, creator["user"]["id"], 10000))
    threads = [threading.Thread(target=one) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status for r in results] == [201] * 10
    assert sum(r.json["cashback"] for r in results) == 300
    assert tip(api, fan, creator["user"]["id"], 10000).json["cashback"] == 0
    month = stack.psql(f"SELECT granted FROM cashback_months WHERE user_id = '{fan['user']['id']}'")
    assert month == [("500",)]


def test_provider_tip_earns_cashback_and_its_refund_reverses_it(api, stack, people, admin):
    fan, creator = people
    p = tip(api, fan, creator["user"]["id"], 30000, source="provider", provider="sandbox").json
    assert p["cashback"] == 0  # earned when credited
    approve(api, p)
    assert balances(api, fan) == (0, 300)
    got = api.get(f"/payments/{p['id']}", token=fan["access_token"]).json
    assert got["cashback"] == 300
    assert refund(api, admin, p["id"], 10000).status == 200
    assert balances(api, fan) == (0, 200)
    assert refund(api, admin, p["id"]).json["cashback"] == 0
    assert balances(api, fan) == (0, 0)
    assert reconciled(api, admin)[1] == []


def test_spent_cashback_reversal_is_owed(api, stack, people, admin):
    fan, creator = people
    p = tip(api, fan, creator["user"]["id"], 30000, source="provider", provider="sandbox").json
    approve(api, p)
    assert tip(api, fan, creator["user"]["id"], 300).status == 201  # spends the 300
    assert refund(api, admin, p["id"]).status == 200
    assert balances(api, fan) == (0, 0)  # the 3 earned meanwhile went first
    owed = stack.psql(f"SELECT balance FROM accounts WHERE kind = 'creator_receivable'"
                      f" AND owner_id = '{fan['user']['id']}'")
    assert owed == [("-297",)]
    # the next top-up repays it before the wallet sees the rest
    t = topup(api, fan, amount=1000, provider="sandbox").json
    approve(api, t)
    assert balances(api, fan) == (703, 0)
    assert reconciled(api, admin)[1] == []


def test_wallet_tip_refund_goes_back_to_the_wallet(api, stack, people, admin):
    fan, creator = people
    fund(stack, fan["user"]["id"], 5000)
    fund(stack, fan["user"]["id"], 1000, kind="cashback")
    p = tip(api, fan, creator["user"]["id"], 4000).json
    assert balances(api, fan) == (2000, 40)
    r = refund(api, admin, p["id"])
    assert r.status == 200 and r.json["status"] == "refunded", r
    # the cashback spent comes back to the cashback balance; the 40 earned goes
    assert balances(api, fan) == (5000, 1000)
    assert wallet(api, creator)["balance"] == 0
    assert reconciled(api, admin)[1] == []


def test_topup_of_a_package_changed_meanwhile_is_refused(api, stack, people, admin):
    """The module reads the package, then creates the payment: a change in
    between (here, the bonus read was 400 but is 500) is refused, not sold."""
    fan, _ = people
    pid = package(api, admin, 10000, 500)
    args = f"'{uuid.uuid4()}', '{fan['user']['id']}', '{pid}', 10000, 'ZMW'"
    tail = "'sandbox', 0, 1800, NULL, NULL, NULL, NULL, 0, NULL"
    assert stack.psql(f"SELECT tz_api_topup_create({args}, 400, {tail})") == \
        [('{"error" : "package_changed"}',)]
    assert stack.psql(f"SELECT tz_api_topup_create({args}, 500, {tail})::json->>'bonus'") == [("500",)]


def test_referrer_earns_the_bonus_on_the_first_success_only(api, stack, new_client, admin):
    """The test stack runs with TipzedReferralBonus 500."""
    referrer = register(new_client(), full_name="Referrer")
    code = referrer["user"]["referral_code"]
    r = new_client().post("/auth/register", json={
        "email": f"ref-{uuid.uuid4().hex[:10]}@example.com", "password": "correct horse battery",
        "full_name": "Referred Fan", "role": "fan", "referral_code": code.lower()})
    assert r.status == 201, r
    referred = r.json
    creator = register(new_client(), role="creator", full_name="Chanda Creator")
    pending = tip(api, referred, creator["user"]["id"], 1000, source="provider",
                  provider="sandbox").json
    assert balances(api, referrer) == (0, 0)  # nothing until a payment succeeds
    t = topup(api, referred, amount=5000, provider="sandbox").json
    approve(api, t)
    assert balances(api, referrer) == (0, 500)
    line = wallet(api, referrer)["transactions"][0]
    assert (line["type"], line["account"], line["amount"], line["payment_id"]) == (
        "referral_bonus", "cashback", 500, None)
    approve(api, pending)  # a second success pays nothing more
    assert tip(api, referred, creator["user"]["id"], 1000).status == 201
    assert balances(api, referrer) == (0, 500)
    assert reconciled(api, admin)[1] == []
