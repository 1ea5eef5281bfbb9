"""Memberships and schedules: creators' plans, fans' subscriptions (trial,
renewal from the wallet, past due with a provider link, the daily retry
within TipzedBillingGrace, cancel at period end, resume), schedules
(installments, pause, resume, cancel, splits), the charges as payments
with fee and cashback, at most one charge per period, refunds of a charge,
and reconciliation.

Time is the sandbox's billing clock (POST /sandbox/clock), moved forward by
the tests; POST /sandbox/billing/run runs the engine's pass at once instead
of waiting for the watchdog (which runs the same pass every 5 seconds, so
the tests assert states, never how many items a pass acted on).  The test
stack's fee is 15% (round half up), its cashback 1% (cap 500 a month)."""
import uuid

import pytest

from test_payments import post_delivery, sandbox_deliveries
from test_wallet_payments import balances, fund
from tzclient import assert_problem, register

DAY = 86400


def key():
    return {"X-Idempotency-Key": uuid.uuid4().hex}


def fee(amount):
    return (amount * 1500 + 5000) // 10000


def advance(api, admin, duration):
    r = api.post("/sandbox/clock", token=admin["access_token"], json={"advance": duration})
    assert r.status == 200, r
    return r.json


def run(api, admin):
    r = api.post("/sandbox/billing/run", token=admin["access_token"])
    assert r.status == 200, r
    return r.json


def plan(api, creator, amount=1000, interval="month", trial_days=0, **extra):
    body = {"name": f"Plan {uuid.uuid4().hex[:6]}", "amount": amount, "currency": "ZMW",
            "interval": interval, "trial_days": trial_days, **extra}
    r = api.post("/creators/me/plans", token=creator["access_token"], json=body, headers=key())
    assert r.status == 201, r
    return r.json


def subscribe(api, fan, plan_id, source="wallet", headers=None, **extra):
    return api.post("/subscriptions", token=fan["access_token"],
                    json={"plan_id": plan_id, "source": source, **extra}, headers=headers or key())


def sub_of(api, user, sid):
    r = api.get(f"/subscriptions/{sid}", token=user["access_token"])
    assert r.status == 200, r
    return r.json


def charges(stack, item):
    """[(period, payment purpose, source, amount)] of an item's charges."""
    return [(int(n), pu, so, int(a)) for n, pu, so, a in stack.psql(
        f"SELECT b.period, p.purpose, p.source, p.amount FROM billing_charges b"
        f" JOIN payments p ON p.id = b.payment_id WHERE b.item_id = '{item}' ORDER BY b.period")]


def reconciled(api, admin):
    r = api.get("/admin/reconciliation", token=admin["access_token"])
    assert r.status == 200 and r.json["ok"], [c for c in r.json["checks"] if not c["ok"]]


def approve(api, url, which="approve"):
    assert post_delivery(api, sandbox_deliveries(api, url), which).status == 200


@pytest.fixture
def people(new_client):
    return (register(new_client(), role="creator", full_name="Mwila Creator"),
            register(new_client(), role="fan", full_name="Bupe Fan"))


# -- plans -----------------------------------------------------------------

def test_plans_are_made_listed_and_changed_by_their_creator(api, people, new_client):
    creator, fan = people
    p = plan(api, creator, amount=2500, interval="quarter", trial_days=14, description="Extras")
    assert {k: p[k] for k in ("creator_id", "amount", "currency", "interval", "trial_days",
                              "active", "description")} == {
        "creator_id": creator["user"]["id"], "amount": 2500, "currency": "ZMW",
        "interval": "quarter", "trial_days": 14, "active": True, "description": "Extras"}
    public = api.get(f"/creators/{creator['user']['id']}/plans")
    assert public.status == 200 and [x["id"] for x in public.json["data"]] == [p["id"]]
    r = api.patch(f"/creators/me/plans/{p['id']}", token=creator["access_token"],
                  json={"active": False, "name": "Old extras"})
    assert r.status == 200 and r.json["active"] is False and r.json["name"] == "Old extras", r
    assert r.json["amount"] == 2500
    assert api.get(f"/creators/{creator['user']['id']}/plans").json["data"] == []
    mine = api.get("/creators/me/plans", token=creator["access_token"])
    assert [x["id"] for x in mine.json["data"]] == [p["id"]]
    other = register(new_client(), role="creator")
    assert_problem(api.patch(f"/creators/me/plans/{p['id']}", token=other["access_token"],
                             json={"active": True}), 404, "not_found")
    assert_problem(api.get(f"/creators/{uuid.uuid4()}/plans"), 404, "not_found")


@pytest.mark.parametrize("body, field", [
    ({"interval": "day"}, "interval"),
    ({"amount": 0}, "amount"),
    ({"amount": 10 ** 12}, "amount"),
    ({"currency": "XXX"}, "currency"),
    ({"trial_days": 400}, "trial_days"),
    ({"name": ""}, "name"),
    ({"splits": [{"creator_id": str(uuid.uuid4()), "share_bps": 10000}]}, "splits"),
])
def test_a_bad_plan_is_refused_naming_the_field(api, people, body, field):
    creator, _ = people
    full = {"name": "Gold", "amount": 1000, "currency": "ZMW", "interval": "month", **body}
    assert_problem(api.post("/creators/me/plans", token=creator["access_token"], json=full,
                            headers=key()), 422, field=field)


def test_only_creators_make_plans_and_a_price_never_changes(api, people):
    creator, fan = people
    assert_problem(api.post("/creators/me/plans", token=fan["access_token"],
                            json={"name": "x", "amount": 1000, "currency": "ZMW",
                                  "interval": "month"}, headers=key()), 403)
    p = plan(api, creator)
    assert_problem(api.patch(f"/creators/me/plans/{p['id']}", token=creator["access_token"],
                             json={"amount": 5}), 422, field="amount")
    assert_problem(api.patch(f"/creators/me/plans/{p['id']}", token=creator["access_token"],
                             json={}), 422, field="body")


# -- subscriptions ---------------------------------------------------------

def test_trial_renewal_past_due_retry_and_cancel_at_period_end(api, admin, people, stack):
    """The whole life of a membership, on the moved clock."""
    creator, fan = people
    p = plan(api, creator, amount=1000, trial_days=7)
    r = subscribe(api, fan, p["id"], provider="sandbox")
    assert r.status == 201, r
    s = r.json
    assert s["status"] == "trialing" and s["period"] == 0 and s["trial_end"] == s["next_charge_at"]
    assert s["trial_end"] == s["current_period_end"]
    sid = s["id"]
    fund(stack, fan["user"]["id"], 1500)

    # the trial ends: the wallet pays the first period
    advance(api, admin, "7d")
    run(api, admin)
    s = sub_of(api, fan, sid)
    assert s["status"] == "active" and s["period"] == 1, s
    assert s["current_period_start"] == s["trial_end"]
    assert balances(api, fan) == (500, 10)  # 1% cashback of the charge
    assert charges(stack, sid) == [(1, "subscription", "wallet", 1000)]
    pay = api.get("/payments", token=creator["access_token"]).json["data"][0]
    assert (pay["purpose"], pay["subscription_id"], pay["period"], pay["fee"], pay["net"]) == (
        "subscription", sid, 1, fee(1000), 1000 - fee(1000))

    # the month ends and the wallet cannot cover it: past due, a link offered
    advance(api, admin, "31d")
    run(api, admin)
    s = sub_of(api, fan, sid)
    assert s["status"] == "past_due" and s["period"] == 2 and s["past_due_since"], s
    assert s["payment_url"] and s["pending_payment_id"], s
    assert len(charges(stack, sid)) == 1

    # a top-up, and the daily retry restores it
    fund(stack, fan["user"]["id"], 1000)
    advance(api, admin, "1d")
    run(api, admin)
    s = sub_of(api, fan, sid)
    assert s["status"] == "active" and s["past_due_since"] is None, s
    assert [c[0] for c in charges(stack, sid)] == [1, 2]

    # cancel at the period's end, resume, cancel again: it runs to its end
    r = api.post(f"/subscriptions/{sid}/cancel", token=fan["access_token"])
    assert r.status == 200 and r.json["cancel_at_period_end"] and r.json["status"] == "active"
    assert r.json["next_charge_at"] is None
    r = api.post(f"/subscriptions/{sid}/resume", token=fan["access_token"])
    assert r.status == 200 and not r.json["cancel_at_period_end"], r
    assert api.post(f"/subscriptions/{sid}/cancel", token=fan["access_token"],
                    json={"at_period_end": True}).status == 200
    fund(stack, fan["user"]["id"], 5000)
    before = balances(api, fan)
    advance(api, admin, "31d")
    run(api, admin)
    s = sub_of(api, fan, sid)
    assert s["status"] == "canceled" and s["ended_at"] == s["current_period_end"], s
    assert balances(api, fan) == before and len(charges(stack, sid)) == 2
    assert_problem(api.post(f"/subscriptions/{sid}/resume", token=fan["access_token"]),
                   409, "invalid_state")
    # the offered link of the period the wallet paid becomes the fan's money if paid late
    reconciled(api, admin)


def test_the_grace_runs_out_and_the_subscription_is_canceled(api, admin, people, stack):
    creator, fan = people
    fund(stack, fan["user"]["id"], 700)
    p = plan(api, creator, amount=700, interval="week")
    s = subscribe(api, fan, p["id"]).json
    assert s["status"] == "active" and s["period"] == 1, s
    advance(api, admin, "7d")
    run(api, admin)
    assert sub_of(api, fan, s["id"])["status"] == "past_due"
    for _ in range(2):
        advance(api, admin, "1d")
        run(api, admin)
        assert sub_of(api, fan, s["id"])["status"] == "past_due"
    advance(api, admin, "1d")  # TipzedBillingGrace 3d since the first failure
    run(api, admin)
    s = sub_of(api, fan, s["id"])
    assert s["status"] == "canceled" and s["ended_at"], s
    assert charges(stack, s["id"]) == [(1, "subscription", "wallet", 700)]
    reconciled(api, admin)


def test_a_past_due_period_is_paid_by_its_link_once(api, admin, people, stack):
    """The provider link pays the period; a second link payment, or one paid
    after the wallet covered the period, lands in the fan's wallet."""
    creator, fan = people
    fund(stack, fan["user"]["id"], 800)
    p = plan(api, creator, amount=800, interval="week")
    sid = subscribe(api, fan, p["id"], provider="sandbox").json["id"]
    advance(api, admin, "7d")
    run(api, admin)
    s = sub_of(api, fan, sid)
    assert s["status"] == "past_due" and s["payment_url"], s
    approve(api, s["payment_url"])
    s = sub_of(api, fan, sid)
    assert s["status"] == "active" and s["payment_url"] is None, s
    assert charges(stack, sid) == [(1, "subscription", "wallet", 800),
                                   (2, "subscription", "provider", 800)]

    # next week: past due again; the wallet is topped up and the retry pays
    advance(api, admin, "7d")
    run(api, admin)
    link = sub_of(api, fan, sid)["payment_url"]
    assert link
    fund(stack, fan["user"]["id"], 800)
    advance(api, admin, "1d")
    run(api, admin)
    assert sub_of(api, fan, sid)["status"] == "active"
    main_before, _ = balances(api, fan)
    approve(api, link)  # paid after the wallet covered the period
    main_after, _ = balances(api, fan)
    assert main_after - main_before == 800  # all of it, no fee
    assert [c[0] for c in charges(stack, sid)] == [1, 2, 3]
    pid = link.rsplit("/", 1)[1]
    pay = api.get(f"/payments/{pid}", token=fan["access_token"]).json
    assert (pay["purpose"], pay["status"], pay["fee"], pay["subscription_id"]) == (
        "topup", "succeeded", 0, sid), pay
    reconciled(api, admin)


def test_a_subscription_paid_through_a_provider_starts_incomplete(api, admin, people, stack):
    creator, fan = people
    p = plan(api, creator, amount=1200)
    r = subscribe(api, fan, p["id"], source="provider", provider="sandbox")
    assert r.status == 201 and r.json["status"] == "incomplete" and r.json["payment_url"], r
    approve(api, r.json["payment_url"])
    s = sub_of(api, fan, r.json["id"])
    assert s["status"] == "active" and s["period"] == 1, s
    assert charges(stack, s["id"]) == [(1, "subscription", "provider", 1200)]

    # a declined first payment: the subscription expires, and may be made again
    other = plan(api, creator, amount=900)
    r = subscribe(api, fan, other["id"], source="provider", provider="sandbox")
    approve(api, r.json["payment_url"], "decline")
    advance(api, admin, "2h")
    run(api, admin)
    assert sub_of(api, fan, r.json["id"])["status"] == "incomplete_expired"
    assert subscribe(api, fan, other["id"], source="provider", provider="sandbox").status == 201
    reconciled(api, admin)


def test_subscribing_is_refused_with_reasons(api, people, stack, new_client):
    creator, fan = people
    p = plan(api, creator, amount=1000)
    assert_problem(subscribe(api, fan, p["id"]), 422, "insufficient_funds", "source")
    assert_problem(subscribe(api, fan, str(uuid.uuid4())), 422, field="plan_id")
    assert_problem(subscribe(api, fan, "nope"), 422, field="plan_id")
    assert_problem(subscribe(api, fan, p["id"], source="card"), 422, field="source")
    assert_problem(subscribe(api, creator, p["id"]), 403)
    fund(stack, fan["user"]["id"], 3000)
    h = key()
    first = subscribe(api, fan, p["id"], headers=h)
    assert first.status == 201, first
    again = subscribe(api, fan, p["id"], headers=h)
    assert again.status == 201 and again.json == first.json  # replayed
    assert_problem(subscribe(api, fan, p["id"]), 409, "already_subscribed")
    assert balances(api, fan)[0] == 2000
    api.patch(f"/creators/me/plans/{p['id']}", token=creator["access_token"],
              json={"active": False})
    other_fan = register(new_client(), role="fan")
    fund(stack, other_fan["user"]["id"], 3000)
    assert_problem(subscribe(api, other_fan, p["id"]), 422, field="plan_id")
    # the inactive plan's subscription goes on
    assert sub_of(api, fan, first.json["id"])["status"] == "active"


def test_who_sees_and_changes_a_subscription(api, people, stack, new_client, admin):
    creator, fan = people
    fund(stack, fan["user"]["id"], 1000)
    sid = subscribe(api, fan, plan(api, creator)["id"]).json["id"]
    stranger = register(new_client(), role="fan")
    assert_problem(api.get(f"/subscriptions/{sid}", token=stranger["access_token"]), 404)
    assert sub_of(api, creator, sid)["fan_id"] == fan["user"]["id"]
    listed = api.get("/subscriptions?status=active", token=creator["access_token"]).json["data"]
    assert [x["id"] for x in listed] == [sid]
    assert api.get("/subscriptions?status=canceled", token=fan["access_token"]).json["data"] == []
    assert_problem(api.get("/subscriptions?status=bogus", token=fan["access_token"]), 422,
                   field="status")
    assert_problem(api.post(f"/subscriptions/{sid}/cancel", token=creator["access_token"]), 404)
    assert_problem(api.post(f"/subscriptions/{sid}/cancel", token=fan["access_token"],
                            json={"at_period_end": "yes"}), 422, field="at_period_end")
    r = api.post(f"/subscriptions/{sid}/cancel", token=fan["access_token"],
                 json={"at_period_end": False})
    assert r.status == 200 and r.json["status"] == "canceled" and r.json["ended_at"], r
    assert_problem(api.post(f"/subscriptions/{sid}/cancel", token=fan["access_token"]), 409,
                   "invalid_state")


def test_a_trial_is_given_once_per_fan_and_plan(api, people, stack):
    creator, fan = people
    p = plan(api, creator, amount=500, trial_days=3)
    s = subscribe(api, fan, p["id"]).json
    assert s["status"] == "trialing"
    api.post(f"/subscriptions/{s['id']}/cancel", token=fan["access_token"],
             json={"at_period_end": False})
    fund(stack, fan["user"]["id"], 500)
    again = subscribe(api, fan, p["id"]).json
    assert again["status"] == "active" and again["trial_end"] is None, again


def test_a_split_plan_credits_each_creator_its_share(api, admin, people, stack, new_client):
    creator, fan = people
    partner = register(new_client(), role="creator")
    p = plan(api, creator, amount=1001, splits=[
        {"creator_id": creator["user"]["id"], "share_bps": 7000},
        {"creator_id": partner["user"]["id"], "share_bps": 3000}])
    fund(stack, fan["user"]["id"], 1001)
    sid = subscribe(api, fan, p["id"]).json["id"]
    net = 1001 - fee(1001)
    got = {c: int(b) for c, b in stack.psql(
        "SELECT a.owner_id, q.amount FROM payments p JOIN journal_entries e"
        " ON e.reference = 'payment:' || p.id || ':credit' JOIN postings q ON q.entry_id = e.id"
        f" JOIN accounts a ON a.id = q.account_id WHERE p.subscription_id = '{sid}'"
        " AND a.kind = 'wallet' AND q.amount > 0")}
    assert got == {creator["user"]["id"]: net * 7000 // 10000 + 1,
                   partner["user"]["id"]: net * 3000 // 10000}, got
    assert sum(got.values()) == net
    reconciled(api, admin)


def test_a_refunded_charge_gives_the_fan_its_money_back(api, admin, people, stack):
    creator, fan = people
    fund(stack, fan["user"]["id"], 2000)
    sid = subscribe(api, fan, plan(api, creator, amount=2000)["id"]).json["id"]
    pid = stack.psql(f"SELECT id FROM payments WHERE subscription_id = '{sid}'")[0][0]
    r = api.post(f"/payments/{pid}/refund", token=admin["access_token"],
                 json={"reason": "did not want it"}, headers=key())
    assert r.status == 200 and r.json["status"] == "refunded", r
    assert balances(api, fan) == (2000, 0)
    assert sub_of(api, fan, sid)["status"] == "active"  # the membership itself goes on
    reconciled(api, admin)


# -- schedules -------------------------------------------------------------

def schedule(api, fan, creator_id, headers=None, **body):
    full = {"creator_id": creator_id, "amount": 1000, "currency": "ZMW", "interval": "week",
            **body}
    return api.post("/schedules", token=fan["access_token"], json=full, headers=headers or key())


def sched_of(api, user, cid):
    r = api.get(f"/schedules/{cid}", token=user["access_token"])
    assert r.status == 200, r
    return r.json


def test_an_installment_schedule_of_three_completes(api, admin, people, stack):
    creator, fan = people
    fund(stack, fan["user"]["id"], 3000)
    r = schedule(api, fan, creator["user"]["id"], count=3, message="Guitar, in three")
    assert r.status == 201 and r.json["charges_made"] == 1 and r.json["status"] == "active", r
    cid = r.json["id"]
    for n in (2, 3):
        advance(api, admin, "7d")
        run(api, admin)
        assert sched_of(api, fan, cid)["charges_made"] == n
    c = sched_of(api, fan, cid)
    assert c["status"] == "completed" and c["next_charge_at"] is None, c
    assert [(x["period"], x["amount"], x["status"]) for x in c["charges"]] == [
        (1, 1000, "succeeded"), (2, 1000, "succeeded"), (3, 1000, "succeeded")]
    advance(api, admin, "30d")
    run(api, admin)
    # each charge's 1% cashback is spent first by the next one
    assert len(charges(stack, cid)) == 3 and balances(api, fan) == (20, 10)
    assert sched_of(api, creator, cid)["charges_made"] == 3  # the creator sees it too
    reconciled(api, admin)


def test_a_schedule_pauses_resumes_and_cancels(api, admin, people, stack):
    creator, fan = people
    fund(stack, fan["user"]["id"], 10000)
    cid = schedule(api, fan, creator["user"]["id"], interval="month").json["id"]
    r = api.post(f"/schedules/{cid}/pause", token=fan["access_token"])
    assert r.status == 200 and r.json["status"] == "paused" and r.json["next_charge_at"] is None
    assert_problem(api.post(f"/schedules/{cid}/pause", token=fan["access_token"]), 409,
                   "invalid_state")
    advance(api, admin, "70d")
    run(api, admin)
    assert sched_of(api, fan, cid)["charges_made"] == 1  # nothing while paused
    r = api.post(f"/schedules/{cid}/resume", token=fan["access_token"])
    assert r.status == 200 and r.json["status"] == "active", r
    run(api, admin)  # the missed charge is made once, not made up twice
    assert sched_of(api, fan, cid)["charges_made"] == 2
    assert_problem(api.post(f"/schedules/{cid}/cancel", token=creator["access_token"]), 404)
    r = api.post(f"/schedules/{cid}/cancel", token=fan["access_token"])
    assert r.status == 200 and r.json["status"] == "canceled"
    advance(api, admin, "40d")
    run(api, admin)
    assert sched_of(api, fan, cid)["charges_made"] == 2
    reconciled(api, admin)


def test_a_schedule_starting_later_fails_after_its_grace(api, admin, people, stack):
    creator, fan = people
    now = api.get("/sandbox/clock", token=admin["access_token"]).json["now"]
    assert_problem(schedule(api, fan, creator["user"]["id"], start_at="2001-01-01T00:00:00Z"),
                   422, field="start_at")
    later = schedule(api, fan, creator["user"]["id"], start_at=_plus(now, 2 * DAY),
                     provider="sandbox")
    assert later.status == 201 and later.json["charges_made"] == 0, later
    cid = later.json["id"]
    advance(api, admin, "2d")
    run(api, admin)
    c = sched_of(api, fan, cid)
    assert c["status"] == "past_due" and c["payment_url"], c
    advance(api, admin, "3d")
    for _ in range(4):
        run(api, admin)
    advance(api, admin, "1d")
    run(api, admin)
    assert sched_of(api, fan, cid)["status"] == "failed"
    assert charges(stack, cid) == []


def _plus(ts, seconds):
    import datetime
    t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ") + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("body, field", [
    ({"interval": "year"}, "interval"),
    ({"count": 0}, "count"),
    ({"count": 121}, "count"),
    ({"start_at": "tomorrow"}, "start_at"),
    ({"amount": -5}, "amount"),
    ({"creator_id": "nope"}, "creator_id"),
    ({"source": "bank"}, "source"),
    ({"source": "provider", "provider": "nowhere"}, "provider"),
])
def test_a_bad_schedule_is_refused_naming_the_field(api, people, body, field):
    creator, fan = people
    body = {"creator_id": creator["user"]["id"], **body}
    assert_problem(schedule(api, fan, **body), 422, field=field)


def test_a_schedule_needs_the_first_charge_and_a_creator(api, people, new_client):
    creator, fan = people
    assert_problem(schedule(api, fan, creator["user"]["id"]), 422, "insufficient_funds", "source")
    assert_problem(schedule(api, fan, fan["user"]["id"]), 422, field="creator_id")
    assert_problem(schedule(api, fan, str(uuid.uuid4())), 422, field="creator_id")
    assert api.get("/schedules", token=fan["access_token"]).json["data"] == []


def test_the_clock_is_the_sandbox_admins_only(api, admin, people):
    _, fan = people
    for bad in ("0", "soon", "4000d"):
        assert_problem(api.post("/sandbox/clock", token=admin["access_token"],
                                json={"advance": bad}), 422, field="advance")
    assert_problem(api.post("/sandbox/clock", token=fan["access_token"],
                            json={"advance": "1d"}), 403)
    assert_problem(api.post("/sandbox/billing/run", token=fan["access_token"]), 403)


def test_a_split_schedule_shares_each_charge_and_its_refund(api, admin, people, stack,
                                                            new_client):
    creator, fan = people
    partner = register(new_client(), role="creator")
    fund(stack, fan["user"]["id"], 2000)
    r = schedule(api, fan, creator["user"]["id"], amount=999, interval="month", count=2,
                 splits=[{"creator_id": partner["user"]["id"], "share_bps": 5000},
                         {"creator_id": creator["user"]["id"], "share_bps": 5000}])
    assert r.status == 201 and r.json["splits"][0]["creator_id"] == partner["user"]["id"], r
    pid = stack.psql(f"SELECT id FROM payments WHERE schedule_id = '{r.json['id']}'")[0][0]
    pay = api.get(f"/payments/{pid}", token=partner["access_token"])  # a creator of it sees it
    assert pay.status == 200, pay
    net = 999 - fee(999)
    assert sorted(s["amount"] for s in pay.json["splits"]) == sorted(
        [net // 2 + net % 2, net // 2]), pay.json
    r = api.post(f"/payments/{pid}/refund", token=admin["access_token"],
                 json={"reason": "mistake"}, headers=key())
    assert r.status == 200 and r.json["status"] == "refunded", r
    for c in (creator, partner):
        assert api.get("/wallets/me", token=c["access_token"]).json["balance"] == 0
    reconciled(api, admin)


def test_concurrent_subscriptions_to_one_plan_make_one(api, people, stack, new_client):
    """Six requests with six keys at once: one subscription, one charge, and
    409 already_subscribed for the others."""
    import threading
    creator, fan = people
    fund(stack, fan["user"]["id"], 6000)
    p = plan(api, creator, amount=1000)
    answers = [None] * 6

    def go(i):
        answers[i] = subscribe(new_client(), fan, p["id"])
    threads = [threading.Thread(target=go, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(a.status for a in answers) == [201, 409, 409, 409, 409, 409], answers
    for a in answers:
        if a.status == 409:
            assert_problem(a, 409, "already_subscribed")
    assert balances(api, fan)[0] == 5000
    assert len(stack.psql(f"SELECT 1 FROM payments WHERE fan_id = '{fan['user']['id']}'"
                          " AND purpose = 'subscription'")) == 1
