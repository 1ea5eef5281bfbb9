"""Rolling reserves and the first payout's delay (docs/risk.md, "Reserves").

A second Apache instance on the stack's database runs with
`TipzedReserve 10 30` and `TipzedFirstPayoutDelay 7`; payments created
through it carry those terms (as they carry the fee), so the stack itself
and every other test keep the reserve off.  Time is the sandbox's clock
(POST /sandbox/clock), which the reserve reads for both the hold and its
release: the tests move it forward instead of waiting days, and the
release is made by the watchdogs themselves (every 5 seconds, on both
nodes), so the tests wait for it with a deadline.  Memberships and
schedules made through the node charge on its terms too; their renewals
are left out: either node's billing engine may make them, each on its own
terms."""
import time
import uuid

import pytest

from test_billing import advance, approve, plan, schedule, subscribe
from test_providers import stripe_deliver
from test_refunds_disputes import dispute, drain, refund, stripe_event, stripe_paid, wait_for
from test_wallet_payments import fund
from tzclient import assert_problem, ensure_verified, register
from tznode import Node


@pytest.fixture(scope="module")
def node(stack):
    n = Node(stack, f"reserve-{uuid.uuid4().hex[:6]}",
             "TipzedReserve 10% 30\nTipzedFirstPayoutDelay 7")
    n.start()
    yield n
    n.stop()


@pytest.fixture
def pair(new_client):
    creator = register(new_client(), role="creator", full_name="Mwila")
    r = new_client().put("/creators/me", token=creator["access_token"],
                         json={"bank_account": "ZM0012345678", "account_name": "Mwila B"})
    assert r.status == 200, r
    return creator, register(new_client())


def wallet(api, creator):
    r = api.get("/wallets/me", token=creator["access_token"])
    assert r.status == 200, r
    return r.json


def ledger(stack, cid):
    rows = stack.psql(f"SELECT kind, balance FROM accounts WHERE owner_id = '{cid}'"
                      " AND currency = 'ZMW'")
    return {k: int(b) for k, b in rows if int(b) != 0 or k == "wallet"}


def reconciled(stack):
    r = stack.tipzedctl("reconcile")
    assert r.returncode == 0, r.stdout
    return True


def payout(api, creator, amount):
    ensure_verified(api, creator)                    # payouts need a verified address
    return api.post("/payouts/request", token=creator["access_token"],
                    headers={"X-Idempotency-Key": uuid.uuid4().hex},
                    json={"amount": amount, "currency": "ZMW"})


def clock_day(api, admin):
    return api.get("/sandbox/clock", token=admin["access_token"]).json["now"][:10]


def test_the_split_rounds_the_reserve_down_and_sums_exactly(stack):
    cases = [(2125, 1000), (9, 1000), (10, 1000), (19999, 5000), (9223372036854775807, 1),
             (9223372036854775807, 10000), (12345, 0), (0, 2500)]
    for credit, bps in cases:
        got = int(stack.psql(f"SELECT tz_reserve_share({credit}, {bps})")[0][0])
        assert got == credit * bps // 10000, (credit, bps, got)


def test_a_tip_holds_the_reserve_until_the_job_releases_it(api, node, stack, stripe, pair,
                                                           admin):
    creator, fan = pair
    cid = creator["user"]["id"]
    p, _ = stripe_paid(node.api, stack, stripe, fan, creator)
    # net 2125: 212 held (10%, rounded down), 1913 payable
    w = wallet(api, creator)
    assert (w["balance"], w["reserved"]) == (1913, 212), w
    assert len(w["reserve_schedule"]) == 1 and w["reserve_schedule"][0]["amount"] == 212
    release_on = w["reserve_schedule"][0]["release_on"]
    assert release_on > clock_day(api, admin)
    assert ledger(stack, cid) == {"wallet": 1913, "reserve_hold": 212}
    # the credit line and the public figures count the whole share
    line = w["transactions"][0]
    assert (line["amount"], line["payment_id"], line["gross"]) == (1913, p["id"], 2500)
    assert api.get(f"/creators/{cid}").json["earnings"] == 2125
    # the reserve is not payable: a payout beyond the balance is refused
    assert_problem(payout(api, creator, 2000), 422, "insufficient_funds", "amount")
    reconciled(stack)

    advance(api, admin, "29d")
    time.sleep(6)                                    # a watchdog pass: not mature yet
    assert wallet(api, creator)["reserved"] == 212
    advance(api, admin, "2d")
    assert wait_for(lambda: wallet(api, creator)["reserved"] == 0, 30), wallet(api, creator)
    w = wallet(api, creator)
    assert (w["balance"], w["reserve_schedule"]) == (2125, []), w
    assert w["transactions"][0]["type"] == "reserve_release"
    assert w["transactions"][0]["amount"] == 212
    rows = stack.psql("SELECT count(*) FROM journal_entries e JOIN reserve_holds h"
                      " ON h.release_entry_id = e.id"
                      f" WHERE h.payment_id = '{p['id']}' AND e.kind = 'reserve_release'")
    assert rows == [("1",)]
    # run again by hand (as a second node would): nothing is released twice
    stack.psql("SELECT tz_api_reserve_release(100)")
    assert wallet(api, creator)["balance"] == 2125
    reconciled(stack)


def test_a_lost_dispute_draws_on_the_reserve_before_the_wallet(api, node, stack, stripe, pair,
                                                                admin):
    creator, fan = pair
    cid = creator["user"]["id"]
    p, pi = stripe_paid(node.api, stack, stripe, fan, creator)
    drain(stack, cid, 1000)                          # 913 left in the wallet, 212 held
    dp = f"dp_{uuid.uuid4().hex[:12]}"
    created = stripe_event("charge.dispute.created", dispute(pi, dp, "needs_response"))
    assert stripe_deliver(api, stack, created).status == 200
    # 2125 taken: the reserve's 212 first, the wallet's 913, the rest owed
    assert ledger(stack, cid) == {"wallet": 0, "creator_receivable": -1000}
    w = wallet(api, creator)
    assert (w["reserved"], w["reserve_schedule"]) == (0, []), w
    closed = stripe_event("charge.dispute.closed", dispute(pi, dp, "lost"))
    assert stripe_deliver(api, stack, closed).status == 200
    assert ledger(stack, cid) == {"wallet": 0, "creator_receivable": -1000}
    drawn = stack.psql(f"SELECT amount, drawn FROM reserve_holds WHERE payment_id = '{p['id']}'")
    assert drawn == [("212", "212")]
    reconciled(stack)


def test_a_dispute_draws_on_the_creators_other_holds_too(api, node, stack, stripe, pair):
    creator, fan = pair
    cid = creator["user"]["id"]
    stripe_paid(node.api, stack, stripe, fan, creator)            # holds 212
    p, pi = stripe_paid(node.api, stack, stripe, fan, creator, amount=1000)  # net 850, holds 85
    drain(stack, cid, 1913 + 765)                                # the wallet is empty
    assert ledger(stack, cid) == {"wallet": 0, "reserve_hold": 297}
    created = stripe_event("charge.dispute.created",
                           dispute(pi, f"dp_{uuid.uuid4().hex[:12]}", "needs_response", 1000))
    assert stripe_deliver(api, stack, created).status == 200
    # 850 taken: its own hold's 85, then 212 of the other, then owed
    assert ledger(stack, cid) == {"wallet": 0, "creator_receivable": -553}
    reconciled(stack)


def test_a_refund_draws_on_its_payments_hold_first(api, node, stack, stripe, pair, admin):
    creator, fan = pair
    cid = creator["user"]["id"]
    p, _ = stripe_paid(node.api, stack, stripe, fan, creator)
    r = refund(api, admin, p["id"], amount=1000)     # fee share 150: 850 from the creator
    assert r.status == 200 and r.json["status"] == "partially_refunded", r
    assert ledger(stack, cid) == {"wallet": 1913 - 638}
    assert wallet(api, creator)["reserved"] == 0
    reconciled(stack)


def test_the_first_payout_waits_for_its_delay(api, node, stack, stripe, pair, admin):
    creator, fan = pair
    stripe_paid(node.api, stack, stripe, fan, creator)
    r = payout(node.api, creator, 1000)
    assert_problem(r, 403, "first_payout_delayed")
    assert r.json["opens_at"][:10] > clock_day(api, admin)
    # the stack's node has no delay: the rule is the configuration's
    advance(api, admin, "8d")
    r = payout(node.api, creator, 1000)
    assert r.status == 201, r
    assert wallet(api, creator)["balance"] == 913
    reconciled(stack)


def test_a_creator_with_no_credit_is_refused_for_funds_not_the_delay(node, pair):
    creator, _ = pair
    assert_problem(payout(node.api, creator, 1000), 422, "insufficient_funds")


def test_a_wallet_tip_holds_the_reserve_too(api, node, stack, pair):
    creator, fan = pair
    fund(stack, fan["user"]["id"], 1000)
    r = node.api.post("/payments/initiate", token=fan["access_token"],
                      headers={"X-Idempotency-Key": uuid.uuid4().hex},
                      json={"creator_id": creator["user"]["id"], "amount": 1000,
                            "currency": "ZMW", "source": "wallet"})
    assert r.status == 201, r
    w = wallet(api, creator)
    assert (w["balance"], w["reserved"]) == (765, 85), w
    reconciled(stack)


def reserve_terms(stack, where):
    return stack.psql(f"SELECT reserve_bps, reserve_days FROM payments WHERE {where}")


def test_a_membership_charge_holds_the_reserve_until_the_job_releases_it(api, node, stack,
                                                                          pair, admin):
    creator, fan = pair
    cid = creator["user"]["id"]
    fund(stack, fan["user"]["id"], 1000)
    r = subscribe(node.api, fan, plan(api, creator)["id"])
    assert r.status == 201 and r.json["status"] == "active", r
    sid = r.json["id"]
    # the first charge from the wallet, on the node's terms: of the net 850, 85 held
    assert reserve_terms(stack, f"subscription_id = '{sid}'") == [("1000", "30")]
    w = wallet(api, creator)
    assert (w["balance"], w["reserved"]) == (765, 85), w
    assert ledger(stack, cid) == {"wallet": 765, "reserve_hold": 85}
    # a first payment through a provider carries the terms from its offer to its credit
    r = subscribe(node.api, fan, plan(api, creator)["id"], source="provider", provider="sandbox")
    assert r.status == 201 and r.json["status"] == "incomplete", r
    link = r.json["id"]
    assert reserve_terms(stack, f"subscription_id = '{link}'") == [("1000", "30")]
    approve(api, r.json["payment_url"])
    assert wallet(api, creator)["reserved"] == 170
    for s in (sid, link):                            # no renewal: nothing else is charged
        r = api.post(f"/subscriptions/{s}/cancel", token=fan["access_token"],
                     json={"at_period_end": False})
        assert r.status == 200 and r.json["status"] == "canceled", r
    reconciled(stack)

    advance(api, admin, "31d")
    assert wait_for(lambda: wallet(api, creator)["reserved"] == 0, 30), wallet(api, creator)
    w = wallet(api, creator)
    assert (w["balance"], w["reserve_schedule"]) == (1700, []), w
    assert [t["type"] for t in w["transactions"][:2]] == ["reserve_release"] * 2
    assert ledger(stack, cid) == {"wallet": 1700}
    reconciled(stack)


def test_a_schedule_charge_holds_the_reserve_too(api, node, stack, pair):
    creator, fan = pair
    fund(stack, fan["user"]["id"], 1000)
    r = schedule(node.api, fan, creator["user"]["id"], count=1)
    assert r.status == 201 and r.json["status"] == "completed", r
    assert reserve_terms(stack, f"schedule_id = '{r.json['id']}'") == [("1000", "30")]
    w = wallet(api, creator)
    assert (w["balance"], w["reserved"]) == (765, 85), w
    reconciled(stack)


def test_charges_made_by_a_server_without_the_reserve_hold_nothing(api, stack, pair):
    creator, fan = pair
    fund(stack, fan["user"]["id"], 1000)
    r = subscribe(api, fan, plan(api, creator)["id"])
    assert r.status == 201 and r.json["status"] == "active", r
    assert reserve_terms(stack, f"subscription_id = '{r.json['id']}'") == [("0", "0")]
    w = wallet(api, creator)
    assert (w["balance"], w["reserved"]) == (850, 0), w
