"""GET /admin/overview: each number as docs/dashboard.md defines it, on a
day of its own (the test's payments, subscription and review are moved to
a past day no other test uses), and the refusals."""
import datetime
import random
import uuid

from dashboard_demo import creator_with_bank, tip, tip_to_review
from tzclient import assert_problem, register


def day_of_its_own():
    d = random.Random(uuid.uuid4().int).randrange(0, 3650)
    return datetime.date(1991, 1, 1) + datetime.timedelta(days=d)


def test_the_numbers_of_a_day(api, stack, admin, new_client):
    creator = creator_with_bank(new_client(), stack, balance=0)
    fan = register(new_client(), role="fan")
    cid = creator["user"]["id"]
    made = [tip(api, fan, cid, 2500), tip(api, fan, cid, 1000), tip(api, fan, cid, 1200, outcome="decline"),
            tip(api, fan, cid, 700, outcome=None)]
    review = tip_to_review(api, stack, fan, cid, amount=4000)
    plan = api.post("/creators/me/plans", token=creator["access_token"],
                    headers={"X-Idempotency-Key": uuid.uuid4().hex},
                    json={"name": "Backstage", "amount": 1000, "currency": "ZMW", "interval": "month",
                          "trial_days": 7})
    assert plan.status == 201, plan
    sub = api.post("/subscriptions", token=fan["access_token"], headers={"X-Idempotency-Key": uuid.uuid4().hex},
                   json={"plan_id": plan.json["id"], "source": "wallet"})
    assert sub.status == 201 and sub.json["status"] == "trialing", sub
    day = day_of_its_own()
    ids = ",".join(f"'{p['id']}'" for p in made + [review])
    stack.psql(f"UPDATE payments SET created_at = '{day} 12:00:00+00' WHERE id IN ({ids})")
    stack.psql(f"UPDATE webhook_events SET received_at = '{day} 13:00:00+00'"
               f" WHERE payment_id = '{review['id']}'")
    stack.psql(f"UPDATE subscriptions SET created_at = '{day} 10:00:00+00' WHERE id = '{sub.json['id']}'")
    # resolved now, long after the day: still open at the end of that day
    r = api.post(f"/admin/payments/{review['id']}/resolve", token=admin["access_token"],
                 headers={"X-Idempotency-Key": uuid.uuid4().hex}, json={"action": "credit", "reason": "seen"})
    assert r.status == 200, r

    before, after = day - datetime.timedelta(days=1), day + datetime.timedelta(days=1)
    o = api.get(f"/admin/overview?from={before}&to={after}", token=admin["access_token"])
    assert o.status == 200, o
    o = o.json
    assert (o["from"], o["to"]) == (str(before), str(after))
    assert [d["date"] for d in o["days"]] == [str(before), str(day), str(after)]
    first, mine, last = o["days"]
    # levels: what earlier runs on the same stack left on earlier days of
    # their own is the day before's; ours adds one subscription and one review
    base_subs, base_reviews = first["active_subscriptions"], first["open_review_items"]
    # the review payment was credited since: it counts as succeeded
    assert mine["payments"] == {"succeeded": 3, "failed": 1, "expired": 0, "review": 0, "pending": 1,
                                "total": 5}
    assert mine["volume"] == {"ZMW": 2500 + 1000 + 4000}
    assert mine["fees"] == {"ZMW": 375 + 150 + 600}
    assert mine["success_rate"] == 0.75
    assert (mine["active_subscriptions"], mine["open_review_items"]) == (base_subs + 1, base_reviews + 1)
    # resolved today, long after: still open at the end of the next day
    assert (last["active_subscriptions"], last["open_review_items"]) == (base_subs + 1, base_reviews + 1)
    t = o["totals"]
    assert t["payments"] == mine["payments"] and t["volume"] == mine["volume"] and t["fees"] == mine["fees"]
    assert t["success_rate"] == 0.75
    assert (t["active_subscriptions"], t["open_review_items"]) == (base_subs + 1, base_reviews + 1)


def test_refusals(api, admin, new_client):
    assert_problem(api.get("/admin/overview"), 401)
    fan = register(new_client(), role="fan")
    assert_problem(api.get("/admin/overview", token=fan["access_token"]), 403)
    for query, field in [("from=2026-13-01", "from"), ("from=2026-02-30", "from"), ("to=yesterday", "to"),
                         ("from=2026-02-02&to=2026-02-01", "from"), ("from=2024-01-01&to=2025-01-01", "to"),
                         ("from=2026-01-01T00:00:00Z", "from"), ("to=", "to")]:
        assert_problem(api.get("/admin/overview?" + query, token=admin["access_token"]), 422, field=field)
    r = api.get("/admin/overview?from=2024-01-01&to=2024-12-31", token=admin["access_token"])
    assert r.status == 200 and len(r.json["days"]) == 366


def test_default_range_is_the_last_thirty_days(api, admin):
    r = api.get("/admin/overview", token=admin["access_token"])
    assert r.status == 200 and len(r.json["days"]) == 30 and r.json["days"][-1]["date"] == r.json["to"]
