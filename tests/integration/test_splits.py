"""Split payments: a tip's net shared among several creators in one entry
(one leg per creator), by the largest-remainder rule; the same rule in SQL
as in C (tests/fixtures/split_cases.json, also read by
tests/unit/test_split.c); wallet-paid split tips; partial refunds and
disputes that give back each creator's part exactly; a creator who owes
repaying from its share; every creator's figures; the 422s; reconciliation.

The test stack's fee is 15% (round half up) and its cashback 1%."""
import json
import os
import random
import uuid

import pytest

from test_payments import post_delivery, sandbox_deliveries
from test_providers import stripe_deliver
from test_refunds_disputes import dispute, drain, stripe_event
from test_wallet_payments import fund
from tzclient import assert_problem, register

CASES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "split_cases.json")
MAX53 = 2 ** 53


def rule(total, bps):
    """The rule as docs/splits.md states it (a reimplementation, not the code's)."""
    base = [total * b // 10000 for b in bps]
    rem = [total * b % 10000 for b in bps]
    for i in sorted(range(len(bps)), key=lambda i: (-rem[i], i))[:total - sum(base)]:
        base[i] += 1
    return base


def fee(amount):
    return (amount * 1500 + 5000) // 10000


def key():
    return {"X-Idempotency-Key": uuid.uuid4().hex}


def tip(api, fan, creators, amount, bps, provider="sandbox", source=None, primary=0, **extra):
    """POST /payments/initiate of a tip to creators[primary] split by bps."""
    body = {"creator_id": creators[primary]["user"]["id"], "amount": amount, "currency": "ZMW",
            "provider": provider, "phone_number": "+260971234567",
            "splits": [{"creator_id": c["user"]["id"], "share_bps": b}
                       for c, b in zip(creators, bps)], **extra}
    if source:
        body["source"] = source
    return api.post("/payments/initiate", token=fan["access_token"], json=body, headers=key())


def approve(api, payment):
    assert post_delivery(api, sandbox_deliveries(api, payment["payment_url"]),
                         "approve").status == 200


def refund(api, admin, pid, amount=None):
    body = {"reason": "asked by the fan", **({"amount": amount} if amount else {})}
    r = api.post(f"/payments/{pid}/refund", token=admin["access_token"], json=body, headers=key())
    assert r.status == 200, r
    return r.json


def creator_legs(stack, reference):
    """{(owner, kind): amount} of the creators' legs of an entry, and its leg count."""
    rows = stack.psql(f"SELECT a.owner_id, a.kind, q.amount FROM journal_entries e"
                      f" JOIN postings q ON q.entry_id = e.id JOIN accounts a ON a.id = q.account_id"
                      f" WHERE e.reference = '{reference}'")
    return ({(o, k): int(m) for o, k, m in rows if k in ("wallet", "creator_receivable")},
            len(rows))


def held(stack, creator_id):
    """What the creator holds: {kind: balance} of its wallet and receivable."""
    rows = stack.psql(f"SELECT kind, balance FROM accounts WHERE owner_id = '{creator_id}'"
                      f" AND currency = 'ZMW' AND kind IN ('wallet', 'creator_receivable')")
    return {k: int(b) for k, b in rows}


def earnings(api, creator):
    return api.get(f"/creators/{creator['user']['id']}").json["earnings"]


def reconciled(api, admin):
    rec = api.get("/admin/reconciliation", token=admin["access_token"]).json
    split = [c for c in rec["checks"] if c["name"] == "split_entries"]
    assert split, rec
    return [c for c in rec["checks"] if not c["ok"]]


@pytest.fixture
def team(new_client):
    """A fan and three creators (fresh: their figures start at 0)."""
    return (register(new_client(), full_name="Split Fan"),
            [register(new_client(), role="creator", full_name=f"Creator {n}") for n in "ABC"])


# -- the rule ---------------------------------------------------------------------

def test_sql_rule_answers_the_shared_cases(stack):
    """tz_split_amounts answers every case of the file the C unit test reads,
    and refuses what the C function refuses."""
    with open(CASES) as f:
        doc = json.load(f)
    assert len(doc["cases"]) >= 30
    for c in doc["cases"]:
        assert rule(c["total"], c["bps"]) == c["amounts"], c["note"]
    values = ", ".join(f"({i}, {c['total']}::bigint, ARRAY{c['bps']}::int[])"
                       for i, c in enumerate(doc["cases"]))
    rows = stack.psql(f"SELECT i, tz_split_amounts(t, b)::text FROM (VALUES {values}) v(i, t, b)"
                      f" ORDER BY i")
    for (i, got), c in zip(rows, doc["cases"]):
        assert json.loads(got.replace("{", "[").replace("}", "]")) == c["amounts"], c["note"]
    for c in doc["invalid"]:
        r = stack.psql(f"SELECT tz_split_amounts({c['total']}, ARRAY{c['bps']}::int[])",
                       check=False)
        assert r.returncode != 0 and "cannot be split" in r.stderr, c["note"]


def test_sql_rule_matches_the_definition_on_random_shares(stack):
    rnd = random.Random(53)
    cases = []
    for k in range(1000):
        n = rnd.randint(1, 10)
        cuts = sorted(rnd.sample(range(1, 10000), n - 1))
        bps = [b - a for a, b in zip([0] + cuts, cuts + [10000])]
        total = rnd.choice([rnd.randint(0, 30), rnd.randint(0, 10 ** 7), rnd.randint(0, MAX53)])
        cases.append((total, bps))
    values = ", ".join(f"({i}, {t}::bigint, ARRAY{b}::int[])" for i, (t, b) in enumerate(cases))
    rows = stack.psql(f"SELECT tz_split_amounts(t, b)::text FROM (VALUES {values}) v(i, t, b)"
                      f" ORDER BY i")
    got = [[int(x) for x in r[0].strip("{}").split(",")] for r in rows]
    assert got == [rule(t, b) for t, b in cases]


# -- crediting -----------------------------------------------------------------------

def test_two_creators_are_credited_in_one_entry(api, stack, team, admin):
    fan, (a, b, c) = team
    ids = [a["user"]["id"], b["user"]["id"]]
    for x in (a, b):
        assert earnings(api, x) == 0       # cached now: a credit must drop it
    r = tip(api, fan, [a, b], 2500, [7000, 3000])
    assert r.status == 201, r
    p = r.json
    assert p["creator_id"] == ids[0] and (p["fee"], p["net"]) == (375, 2125)
    assert p["splits"] == [{"creator_id": ids[0], "share_bps": 7000, "amount": None},
                           {"creator_id": ids[1], "share_bps": 3000, "amount": None}]
    approve(api, p)
    # 1487.5 and 637.5: the ngwee left goes to the first listed
    legs, n = creator_legs(stack, f"payment:{p['id']}:credit")
    assert legs == {(ids[0], "wallet"): 1488, (ids[1], "wallet"): 637}
    assert n == 4   # provider_clearing, platform_fees, one wallet per creator
    assert stack.psql(f"SELECT count(*) FROM journal_entries WHERE payment_id = '{p['id']}'"
                      f" AND kind = 'payment'") == [("1",)]
    assert (earnings(api, a), earnings(api, b)) == (1488, 637)
    for x, share in ((a, 1488), (b, 637)):
        seen = api.get(f"/payments/{p['id']}", token=x["access_token"])
        assert seen.status == 200 and seen.json["splits"][0]["amount"] == 1488, seen
        listed = api.get("/payments", token=x["access_token"]).json["data"]
        assert [q["id"] for q in listed] == [p["id"]]
        line = api.get("/wallets/me", token=x["access_token"]).json["transactions"][0]
        assert (line["type"], line["amount"], line["payment_id"], line["gross"]) == \
            ("payment", share, p["id"], 2500)
    # a creator without a share does not see it
    assert_problem(api.get(f"/payments/{p['id']}", token=c["access_token"]), 404)
    assert api.get("/payments", token=c["access_token"]).json["data"] == []
    mine = api.get(f"/admin/transactions?creator_id={ids[1]}", token=admin["access_token"])
    assert [q["id"] for q in mine.json["data"]] == [p["id"]]
    assert reconciled(api, admin) == []


@pytest.mark.parametrize("amount,bps", [
    (100, [3333, 3333, 3334]),        # net 85: 28, 28, 29
    (119, [3333, 3333, 3334]),        # net 101 (fee 17.85 -> 18): 34, 33, 34
    (101, [1, 1, 9998]),              # net 86 (fee 15.15 -> 15)
    (7919, [2, 3, 9995]),             # primes
    (10000000, [3334, 3333, 3333]),   # the largest payment
    (1001, [5000, 2500, 2500]),
])
def test_three_creators_get_the_rule_share_of_awkward_amounts(api, stack, team, admin,
                                                              amount, bps):
    fan, creators = team
    p = tip(api, fan, creators, amount, bps).json
    approve(api, p)
    net = amount - fee(amount)
    want = rule(net, bps)
    assert sum(want) == net
    legs, _ = creator_legs(stack, f"payment:{p['id']}:credit")
    assert legs == {(c["user"]["id"], "wallet"): w for c, w in zip(creators, want) if w}
    got = api.get(f"/payments/{p['id']}", token=fan["access_token"]).json
    assert [s["amount"] for s in got["splits"]] == want
    assert [earnings(api, c) for c in creators] == want
    assert reconciled(api, admin) == []


def test_ten_creators_and_the_primary_in_any_place(api, stack, new_client, admin):
    fan = register(new_client())
    creators = [register(new_client(), role="creator") for _ in range(10)]
    bps = [1, 2, 3, 5, 8, 13, 21, 34, 55, 9858]
    p = tip(api, fan, creators, 1333, bps, primary=9).json
    assert p["creator_id"] == creators[9]["user"]["id"]
    approve(api, p)
    want = rule(1333 - 200, bps)
    legs, n = creator_legs(stack, f"payment:{p['id']}:credit")
    assert legs == {(c["user"]["id"], "wallet"): w for c, w in zip(creators, want) if w}
    assert n == 2 + sum(1 for w in want if w)   # a zero share posts no leg
    for c, w in zip(creators, want):
        assert api.get(f"/payments/{p['id']}", token=c["access_token"]).status == 200
        assert earnings(api, c) == w
    assert reconciled(api, admin) == []


def test_a_wallet_paid_split_tip(api, stack, team, admin):
    fan, (a, b, c) = team
    fund(stack, fan["user"]["id"], 10000)
    fund(stack, fan["user"]["id"], 100, kind="cashback")
    r = tip(api, fan, [a, b, c], 3001, [2000, 3000, 5000], source="wallet", primary=1)
    assert r.status == 201, r
    p = r.json
    net = 3001 - fee(3001)
    want = rule(net, [2000, 3000, 5000])
    assert (p["status"], p["source"], p["from_cashback"]) == ("succeeded", "wallet", 100)
    assert [s["amount"] for s in p["splits"]] == want
    legs, _ = creator_legs(stack, f"payment:{p['id']}:credit")
    assert legs == {(x["user"]["id"], "wallet"): w for x, w in zip((a, b, c), want)} | {
        (fan["user"]["id"], "wallet"): -(3001 - 100)}
    assert stack.psql(f"SELECT kind FROM journal_entries WHERE reference ="
                      f" 'payment:{p['id']}:credit'") == [("wallet_payment",)]
    assert [earnings(api, x) for x in (a, b, c)] == want
    w = api.get("/wallets/me", token=fan["access_token"]).json
    assert (w["balance"], w["cashback_balance"]) == (10000 - 2901, 30)   # 1% cashback back
    # a split naming the payer is refused, nothing debited
    r = tip(api, fan, [a, fan], 500, [5000, 5000], source="wallet")
    assert_problem(r, 422, field="splits")
    assert "names the payer" in r.json["errors"][0]["message"], r.json
    assert api.get("/wallets/me", token=fan["access_token"]).json["balance"] == 10000 - 2901
    assert reconciled(api, admin) == []


# -- taking back --------------------------------------------------------------------

def test_partial_refunds_then_the_rest_give_back_each_share_exactly(api, stack, team, admin):
    fan, creators = team
    bps = [3333, 3333, 3334]
    p = tip(api, fan, creators, 1001, bps).json          # net 851: 284, 283, 284
    approve(api, p)
    net, taken = 851, 0
    for amount in (333, 1, 250, None):                     # None: the rest
        r = refund(api, admin, p["id"], amount)
        taken += r["refund"]["amount"] - r["refund"]["fee"]
        left = rule(net - taken, bps)
        assert [held(stack, c["user"]["id"]).get("wallet") for c in creators] == left, amount
        assert [earnings(api, c) for c in creators] == left
        assert reconciled(api, admin) == []
    assert r["status"] == "refunded" and taken == net
    assert [held(stack, c["user"]["id"])["wallet"] for c in creators] == [0, 0, 0]
    # each creator gave back, over four refund entries, exactly what it got
    rows = stack.psql(f"SELECT a.owner_id, sum(q.amount) FROM journal_entries e"
                      f" JOIN postings q ON q.entry_id = e.id JOIN accounts a ON a.id = q.account_id"
                      f" WHERE e.payment_id = '{p['id']}' AND e.kind = 'refund'"
                      f" AND a.kind = 'wallet' GROUP BY a.owner_id")
    assert {o: int(s) for o, s in rows} == {c["user"]["id"]: -w
                                             for c, w in zip(creators, rule(net, bps))}


def test_a_refund_may_leave_a_creator_one_ngwee_more(api, stack, team, admin):
    """The rule's share of a smaller total is not always smaller: 1133 gives
    813/107/213 and 1132 gives 812/108/212.  A refund of 1 ngwee then takes
    one from A and C and leaves B one more; the rest takes back the rest,
    and no creator ever gives back more than it got."""
    fan, creators = team
    bps = [7175, 949, 1876]
    p = tip(api, fan, creators, 1333, bps).json          # fee 200, net 1133
    approve(api, p)
    assert [held(stack, c["user"]["id"])["wallet"] for c in creators] == [813, 107, 213]
    r = refund(api, admin, p["id"], 1)
    assert (r["refund"]["fee"], r["status"]) == (0, "partially_refunded")
    assert [held(stack, c["user"]["id"])["wallet"] for c in creators] == [812, 108, 212]
    assert [earnings(api, c) for c in creators] == [812, 108, 212]
    assert reconciled(api, admin) == []
    refund(api, admin, p["id"])
    assert [held(stack, c["user"]["id"])["wallet"] for c in creators] == [0, 0, 0]
    assert [earnings(api, c) for c in creators] == [0, 0, 0]
    assert reconciled(api, admin) == []


def test_refund_refused_when_a_creator_cannot_cover_its_part(api, stack, team, admin):
    fan, (a, b, c) = team
    p = tip(api, fan, [a, b], 2500, [5000, 5000]).json
    approve(api, p)
    drain(stack, b["user"]["id"], 1000)                   # B keeps 62 of its 1062
    r = api.post(f"/payments/{p['id']}/refund", token=admin["access_token"], headers=key(),
                 json={"reason": "asked", "amount": 1000})
    assert_problem(r, 409, "insufficient_funds")
    assert refund(api, admin, p["id"], 100)["status"] == "partially_refunded"
    assert reconciled(api, admin) == []


def stripe_split_tip(api, stack, stripe, fan, creators, amount, bps):
    """A split tip through Stripe, credited by checkout.session.completed;
    returns (payment, PaymentIntent id)."""
    p = tip(api, fan, creators, amount, bps, provider="stripe").json
    pi = f"pi_{uuid.uuid4().hex[:14]}"
    evt = {"id": f"evt_{uuid.uuid4().hex}", "type": "checkout.session.completed",
           "data": {"object": {"id": stripe.session_for(p["id"]), "object": "checkout.session",
                               "client_reference_id": p["id"], "metadata": {"payment_id": p["id"]},
                               "amount_total": amount, "currency": "zmw",
                               "payment_status": "paid", "payment_intent": pi}}}
    assert stripe_deliver(api, stack, evt).status == 200
    return p, pi


def test_a_lost_dispute_makes_a_creator_owe_and_its_next_share_repays(
        api, stack, stripe, team, admin):
    fan, (a, b, c) = team
    ida, idb = a["user"]["id"], b["user"]["id"]
    p, pi = stripe_split_tip(api, stack, stripe, fan, [a, b], 2500, [6000, 4000])  # 1275, 850
    drain(stack, idb, 800)                                 # B keeps 50
    dp = f"dp_{uuid.uuid4().hex[:12]}"
    assert stripe_deliver(api, stack, stripe_event("charge.dispute.created",
                                                   dispute(pi, dp, "needs_response"))).status == 200
    assert held(stack, ida) == {"wallet": 0, "creator_receivable": 0}
    assert held(stack, idb) == {"wallet": 0, "creator_receivable": -800}
    assert (earnings(api, a), earnings(api, b)) == (0, 0)
    assert stripe_deliver(api, stack, stripe_event("charge.dispute.closed",
                                                   dispute(pi, dp, "lost"))).status == 200
    assert reconciled(api, admin) == []
    # the next split tip: B's share repays what it owes before its wallet sees anything
    q, _ = stripe_split_tip(api, stack, stripe, fan, [c, b], 2500, [5000, 5000])   # 1063, 1062
    legs, _ = creator_legs(stack, f"payment:{q['id']}:credit")
    assert legs == {(c["user"]["id"], "wallet"): 1063, (idb, "wallet"): 262,
                    (idb, "creator_receivable"): 800}
    assert held(stack, idb) == {"wallet": 262, "creator_receivable": 0}
    assert (earnings(api, b), earnings(api, c)) == (1062, 1063)
    assert reconciled(api, admin) == []


def test_a_won_dispute_gives_each_creator_its_part_back(api, stack, stripe, team, admin):
    fan, creators = team
    bps = [3333, 3333, 3334]
    p, pi = stripe_split_tip(api, stack, stripe, fan, creators, 1001, bps)
    r = refund(api, admin, p["id"], 400)                   # 340 of the net
    dp = f"dp_{uuid.uuid4().hex[:12]}"
    assert stripe_deliver(api, stack, stripe_event("charge.dispute.created",
                                                   dispute(pi, dp, "needs_response", 601))).status == 200
    assert [held(stack, c["user"]["id"])["wallet"] for c in creators] == [0, 0, 0]
    assert reconciled(api, admin) == []
    assert stripe_deliver(api, stack, stripe_event("charge.dispute.closed",
                                                   dispute(pi, dp, "won", 601))).status == 200
    left = rule(851 - (400 - r["refund"]["fee"]), bps)
    assert [held(stack, c["user"]["id"])["wallet"] for c in creators] == left
    assert [earnings(api, c) for c in creators] == left
    assert reconciled(api, admin) == []


# -- what is refused ---------------------------------------------------------------

def test_bad_splits_are_422_naming_splits(api, stack, team, new_client):
    fan, (a, b, c) = team
    fan2 = register(new_client())
    A, B, C = (x["user"]["id"] for x in (a, b, c))

    def s(*pairs):
        return [{"creator_id": i, "share_bps": n} for i, n in pairs]
    bad = [
        ("x", "must be an array"),
        ({"creator_id": A}, "must be an array"),
        ([], "at least one creator"),
        (s(*[(str(uuid.uuid4()), 1000) for _ in range(10)] + [(A, 0)]), "at most 10 creators"),
        (s((A, 5000), (B, 4999)), "must sum to 10000 basis points; they sum to 9999"),
        (s((A, 6000), (B, 6000)), "they sum to 12000"),
        (s((A, 5000), (A, 5000)), f"names creator {A} more than once"),
        (s((A, 5000), (A.upper(), 5000)), f"names creator {A} more than once"),
        (s((B, 5000), (C, 5000)), "must include the payment's creator_id"),
        (s((A, 5000), (fan2["user"]["id"], 5000)), f"{fan2['user']['id']} is not a creator"),
        (s((A, 5000), (str(uuid.uuid4()), 5000)), "is not a creator"),
        (s((A, 0), (B, 10000)), "splits[0].share_bps must be an integer between 1 and 10000"),
        (s((A, 5000.5), (B, 4999.5)), "share_bps must be an integer"),
        (s((A, "5000"), (B, 5000)), "share_bps must be an integer"),
        (s(("nope", 5000), (A, 5000)), "splits[0].creator_id must be a UUID"),
        ([{"creator_id": A, "share_bps": 10000, "extra": 1}], "splits[0].extra is not a known field"),
        ([7], "splits[0] must be an object"),
    ]
    before = stack.psql("SELECT (SELECT count(*) FROM payments), (SELECT count(*) FROM payment_splits)")
    for splits, message in bad:
        for source in ("provider", "wallet"):
            r = api.post("/payments/initiate", token=fan["access_token"], headers=key(), json={
                "creator_id": A, "amount": 500, "currency": "ZMW", "provider": "sandbox",
                "source": source, "splits": splits})
            assert_problem(r, 422, field="splits")
            got = [e["message"] for e in r.json["errors"] if e["field"] == "splits"]
            assert any(message in m for m in got), (splits, source, r.json)
    # top-ups never split
    r = api.post("/wallets/me/topup", token=fan["access_token"], headers=key(),
                 json={"amount": 500, "provider": "sandbox", "splits": s((A, 10000))})
    assert_problem(r, 422, field="splits")
    assert stack.psql("SELECT (SELECT count(*) FROM payments),"
                      " (SELECT count(*) FROM payment_splits)") == before
    # null is no splits at all
    r = api.post("/payments/initiate", token=fan["access_token"], headers=key(), json={
        "creator_id": A, "amount": 500, "currency": "ZMW", "provider": "sandbox", "splits": None})
    assert r.status == 201 and r.json["splits"] is None, r


def test_reconciliation_finds_a_split_that_does_not_match(api, stack, team, admin):
    fan, creators = team
    p = tip(api, fan, creators[:2], 2500, [5000, 5000]).json
    approve(api, p)
    assert reconciled(api, admin) == []
    a, b = (c["user"]["id"] for c in creators[:2])
    try:
        stack.psql(f"UPDATE payment_splits SET share_bps = 6000"
                   f" WHERE payment_id = '{p['id']}' AND creator_id = '{a}'")
        stack.psql(f"UPDATE payment_splits SET share_bps = 4000"
                   f" WHERE payment_id = '{p['id']}' AND creator_id = '{b}'")
        bad = {c["name"]: c["mismatches"] for c in reconciled(api, admin)}
        assert list(bad) == ["split_entries"]
        assert {m["id"] for m in bad["split_entries"]} == {p["id"]}
        r = stack.tipzedctl("reconcile")
        assert r.returncode == 1 and f"split_entries\t{p['id']}\t" in r.stdout, r.stdout
    finally:
        stack.psql(f"UPDATE payment_splits SET share_bps = 5000 WHERE payment_id = '{p['id']}'")
    assert reconciled(api, admin) == []
