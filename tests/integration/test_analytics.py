"""GET /creators/me/analytics: a creator's earnings by UTC day, week or
month from the per-day rollups (schema step 024), which the posting
functions keep in the transaction of each credit, refund and dispute.

The test stack's fee is 15% (round half up), its cashback 1%; tips here are
paid from funded wallets (credited at once) and through the sandbox
provider, and a membership is charged from the wallet when it starts."""
import datetime

import pytest

from test_billing import plan, subscribe
from test_payments import post_delivery, sandbox_deliveries
from test_wallet_payments import fund, refund, tip
from tzclient import Client, assert_problem, next_source_ip, register

DAY = datetime.timedelta(days=1)


def fee(amount):
    return (amount * 1500 + 5000) // 10000


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def analytics(api, user, **params):
    q = "&".join(f"{k}={v}" for k, v in params.items())
    return api.get(f"/creators/me/analytics?{q}", token=user["access_token"])


def follow(api, fan, creator):
    r = api.post(f"/creators/{creator['user']['id']}/follow", token=fan["access_token"])
    assert r.status in (200, 201, 204), r


def make_scene(stack):
    """A creator paid by three fans today: f1 tips 1000 from its wallet and
    3000 through the sandbox, f2 tips 2000 from its wallet and pays a
    membership of 1000, f3 only follows."""
    api = Client(stack.api_url, source_ip=next_source_ip())
    creator = register(api, role="creator", full_name="Natasha Creator")
    f1, f2, f3 = (register(api, full_name=n) for n in ("Fan One", "Fan Two", "Fan Three"))
    for f in (f1, f2):
        fund(stack, f["user"]["id"], 20000)
    cid = creator["user"]["id"]
    assert tip(api, f1, cid, 1000).status == 201
    p = tip(api, f1, cid, 3000, source="provider", provider="sandbox").json
    assert post_delivery(api, sandbox_deliveries(api, p["payment_url"]), "approve").status == 200
    w2 = tip(api, f2, cid, 2000)
    assert w2.status == 201, w2
    pl = plan(api, creator, amount=1000)
    assert subscribe(api, f2, pl["id"]).status == 201
    follow(api, f3, creator)
    return {"creator": creator, "fans": (f1, f2, f3), "provider_tip": p["id"],
            "wallet_tip": w2.json["id"]}


@pytest.fixture(scope="module")
def scene(stack):
    """One scene for the tests that only read it."""
    return make_scene(stack)


def test_a_day_counts_what_the_fans_paid(api, scene):
    c, (f1, f2, f3) = scene["creator"], scene["fans"]
    r = analytics(api, c, **{"from": today() - DAY, "to": today() + 2 * DAY, "interval": "day"})
    assert r.status == 200, r
    a = r.json
    assert a["currency"] == "ZMW" and a["interval"] == "day"
    assert a["from"] == f"{today() - DAY}T00:00:00Z" and a["to"] == f"{today() + 2 * DAY}T00:00:00Z"
    # every bucket is there, the empty ones with zeros
    assert [b["start"] for b in a["series"]] == [f"{today() + n * DAY}T00:00:00Z" for n in (-1, 0, 1)]
    for empty in (a["series"][0], a["series"][2]):
        assert all(v == 0 for k, v in empty.items() if k != "start"), empty
    b = a["series"][1]
    gross = 1000 + 3000 + 2000 + 1000
    fees = fee(1000) + fee(3000) + fee(2000) + fee(1000)
    assert (b["gross"], b["fees"], b["refunds"], b["net"]) == (gross, fees, 0, gross - fees)
    assert b["tips"] == 3 and b["supporters"] == 2 and b["new_followers"] == 1
    assert b["subscription_revenue"] == 1000
    # the totals are the buckets' sums (supporters: distinct fans of the range)
    for k in ("gross", "fees", "refunds", "net", "tips", "new_followers", "subscription_revenue"):
        assert a["totals"][k] == sum(x[k] for x in a["series"]), k
    assert a["totals"]["supporters"] == 2
    assert a["top_supporters"] == [
        {"fan_id": f1["user"]["id"], "name": "Fan One", "total": 4000, "payments": 2},
        {"fan_id": f2["user"]["id"], "name": "Fan Two", "total": 3000, "payments": 2}]
    # net over all time is the earnings the profile shows
    assert api.get("/creators/me", token=c["access_token"]).json["earnings"] == a["totals"]["net"]


def test_a_refund_counts_on_its_day_and_moves_net_with_earnings(api, stack, admin):
    scene = make_scene(stack)
    c = scene["creator"]
    r = refund(api, admin, scene["wallet_tip"])
    assert r.status == 200 and r.json["status"] == "refunded", r
    a = analytics(api, c, **{"from": today(), "to": today() + DAY}).json
    b = a["series"][0]
    assert b["refunds"] == 2000 - fee(2000)
    assert b["net"] == b["gross"] - b["fees"] - b["refunds"]
    assert b["gross"] == 7000 and b["tips"] == 3  # what was paid stays what was paid
    assert api.get("/creators/me", token=c["access_token"]).json["earnings"] == b["net"]


def test_weeks_and_months_hold_the_same_days(api, scene):
    c = scene["creator"]
    day = analytics(api, c, **{"from": today(), "to": today() + DAY}).json["totals"]
    week = analytics(api, c, **{"from": today(), "to": today() + DAY, "interval": "week"}).json
    monday = today() - datetime.timedelta(days=today().weekday())
    assert [b["start"] for b in week["series"]] == [f"{monday}T00:00:00Z"]
    assert week["to"] == f"{monday + 7 * DAY}T00:00:00Z"
    month = analytics(api, c, **{"from": today(), "to": today() + DAY, "interval": "month"}).json
    assert month["series"][0]["start"] == f"{today().replace(day=1)}T00:00:00Z"
    assert week["totals"] == day == month["totals"]
    # an instant inside a day widens the range to the whole day
    inside = analytics(api, c, **{"from": f"{today()}T10:30:00Z", "to": f"{today()}T10:30:01Z"}).json
    assert inside["from"] == f"{today()}T00:00:00Z" and inside["totals"] == day


def test_top_supporters_of_a_range_with_whole_and_partial_months(api, scene):
    """A range reads its whole months from the monthly rollup and its
    partial months by day: the figures are the same either way."""
    c = scene["creator"]
    first = today().replace(day=1)
    start = (first - 40 * DAY)  # inside the month before last
    a = analytics(api, c, **{"from": start, "to": today() + DAY}).json
    b = analytics(api, c, **{"from": first, "to": today() + DAY}).json
    assert a["top_supporters"] == b["top_supporters"] and len(a["top_supporters"]) == 2
    # this whole month: read from the monthly rows
    following = (first + 32 * DAY).replace(day=1)
    whole = analytics(api, c, **{"from": first, "to": following}).json
    assert whole["top_supporters"] == a["top_supporters"] and whole["totals"]["supporters"] == 2
    assert a["totals"]["supporters"] == b["totals"]["supporters"] == 2
    m = analytics(api, c, **{"from": start, "to": today() + DAY, "interval": "month"}).json
    assert m["series"][-1]["supporters"] == 2 and m["top_supporters"] == a["top_supporters"]


def test_nobody_sees_another_creators_figures(api, scene, new_client):
    other = register(new_client(), role="creator")
    a = analytics(api, other, **{"from": today(), "to": today() + DAY}).json
    assert a["top_supporters"] == [] and all(v == 0 for v in a["totals"].values())
    fan = scene["fans"][0]
    assert_problem(analytics(api, fan, **{"from": today(), "to": today() + DAY}), 403)
    assert api.get(f"/creators/me/analytics?from={today()}&to={today() + DAY}").status == 401
    # another currency is another set of rows
    zmw_only = analytics(api, scene["creator"], **{"from": today(), "to": today() + DAY,
                                                   "currency": "ZMW"}).json
    assert zmw_only["totals"]["gross"] == 7000


@pytest.fixture(scope="module")
def a_creator(stack):
    return register(Client(stack.api_url, source_ip=next_source_ip()), role="creator")


@pytest.mark.parametrize("params,field", [
    ({"to": "2026-01-02"}, "from"),
    ({"from": "2026-01-01"}, "to"),
    ({"from": "last-week", "to": "2026-01-02"}, "from"),
    ({"from": "2026-01-01", "to": "2026-02-30"}, "to"),
    ({"from": "2026-01-02", "to": "2026-01-02"}, "to"),
    ({"from": "2026-01-03", "to": "2026-01-02"}, "to"),
    ({"from": "2025-01-01", "to": "2026-01-03"}, "to"),
    ({"from": "2020-01-01", "to": "2025-01-03", "interval": "month"}, "to"),
    ({"from": "2026-01-01", "to": "2026-01-02", "interval": "hour"}, "interval"),
    ({"from": "2026-01-01", "to": "2026-01-02", "currency": "XYZ"}, "currency"),
])
def test_bad_ranges_are_422_naming_the_field(api, a_creator, params, field):
    c = a_creator
    assert_problem(analytics(api, c, **params), 422, "validation_failed", field)


def test_the_schema_steps_backfill_rebuilds_the_same_rollups(stack, scene):
    """The backfill of step 024, run again from the ledger, gives exactly
    the rows the posting functions wrote (in a transaction rolled back)."""
    import os
    from tzstack import SQL_DIR
    text = open(os.path.join(SQL_DIR, "schema", "024_analytics.sql")).read()
    backfill = text[text.index("-- Backfill."):]
    r = stack.psql_script(
        "\\pset tuples_only on\n\\pset format unaligned\n"
        "BEGIN; CREATE TEMP TABLE kept_d AS SELECT * FROM creator_daily;"
        " CREATE TEMP TABLE kept_f AS SELECT * FROM creator_fan_daily;"
        " CREATE TEMP TABLE kept_m AS SELECT * FROM creator_fan_monthly;"
        " DELETE FROM creator_fan_monthly; DELETE FROM creator_fan_daily; DELETE FROM creator_daily;\n"
        + backfill +
        "\nSELECT 'rollups', (SELECT count(*) FROM kept_d), (SELECT count(*) FROM"
        " ((TABLE kept_d EXCEPT TABLE creator_daily) UNION ALL"
        "  (TABLE creator_daily EXCEPT TABLE kept_d)) x),"
        " (SELECT count(*) FROM ((TABLE kept_f EXCEPT TABLE creator_fan_daily) UNION ALL"
        "  (TABLE creator_fan_daily EXCEPT TABLE kept_f)) y),"
        " (SELECT count(*) FROM ((TABLE kept_m EXCEPT TABLE creator_fan_monthly) UNION ALL"
        "  (TABLE creator_fan_monthly EXCEPT TABLE kept_m)) z); ROLLBACK;\n")
    assert r.returncode == 0, r.stderr
    line = [x for x in r.stdout.splitlines() if x.startswith("rollups|")][0]
    kept, diff_d, diff_f, diff_m = (int(v) for v in line.split("|")[1:])
    assert kept > 0 and diff_d == 0 and diff_f == 0 and diff_m == 0, line


def test_a_split_tip_counts_each_creators_share(api, stack):
    """A wallet tip of 3001 split 20/30/50: each creator's gross is its share
    of the amount by the split rule, its net what it was credited; the
    shares add up to the payment's amount, fee and net."""
    from test_splits import rule, tip as split_tip
    c = Client(stack.api_url, source_ip=next_source_ip())
    fan = register(c, full_name="Split Supporter")
    team = [register(c, role="creator", full_name=f"Split {n}") for n in "ABC"]
    fund(stack, fan["user"]["id"], 10000)
    bps = [2000, 3000, 5000]
    assert split_tip(c, fan, team, 3001, bps, source="wallet").status == 201
    got = [analytics(api, x, **{"from": today(), "to": today() + DAY}).json["totals"] for x in team]
    assert [g["gross"] for g in got] == rule(3001, bps)
    assert [g["net"] for g in got] == rule(3001 - fee(3001), bps)
    assert sum(g["fees"] for g in got) == fee(3001)
    assert all(g["tips"] == 1 and g["supporters"] == 1 for g in got)
    tops = [analytics(api, x, **{"from": today(), "to": today() + DAY}).json["top_supporters"]
            for x in team]
    assert [t[0]["total"] for t in tops] == rule(3001, bps)
    assert all(t[0]["fan_id"] == fan["user"]["id"] for t in tops)


def test_concurrent_credits_to_one_creator_all_count(stack):
    """Twenty wallet tips at once to one creator, from five fans paying
    four times each: the day's row and each fan's rows are written by
    concurrent transactions, and none of them loses another's figures."""
    import concurrent.futures
    c = Client(stack.api_url, source_ip=next_source_ip())
    creator = register(c, role="creator", full_name="Busy Creator")
    fans = [register(c, full_name=f"Crowd Fan {n}") for n in range(5)]
    for f in fans:
        fund(stack, f["user"]["id"], 50000)
    cid = creator["user"]["id"]
    jobs = [(f, 100 * (i + 1) + j) for i, f in enumerate(fans) for j in range(4)]

    def pay(job):
        fan, amount = job
        return tip(Client(stack.api_url, source_ip=next_source_ip()), fan, cid, amount).status

    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        assert list(pool.map(pay, jobs)) == [201] * len(jobs)
    a = analytics(c, creator, **{"from": today(), "to": today() + DAY}).json
    gross = sum(amount for _, amount in jobs)
    t = a["totals"]
    assert (t["gross"], t["tips"], t["supporters"]) == (gross, len(jobs), len(fans))
    assert t["fees"] == sum(fee(amount) for _, amount in jobs)
    assert sorted((s["fan_id"], s["total"], s["payments"]) for s in a["top_supporters"]) == sorted(
        (f["user"]["id"], sum(x for g, x in jobs if g is f), 4) for f in fans)
    assert c.get("/creators/me", token=creator["access_token"]).json["earnings"] == t["net"]

    assert stack.psql("SELECT * FROM tz_reconcile() WHERE check_name IN"
                      " ('analytics_rollups', 'entries_balanced', 'cached_balances')") == []
