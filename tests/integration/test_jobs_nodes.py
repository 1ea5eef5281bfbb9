"""The watchdog's jobs on two Apache instances sharing one database
(docs/scale.md, "Periodic jobs on N nodes"): payment expiry, status
polling, refund retries, bill checks and mail each claim their work in
PostgreSQL, so that two nodes running them at once act on each item
once.  (The billing engine, the webhook dispatcher, the reserve release
and the outbox's retention have tests of their own on two instances:
test_billing_nodes.py, test_webhooks_nodes.py, test_reserve.py,
test_outbox_retention.py.)

The jobs run by themselves here (every few seconds on each node): the
tests wait for the states they expect, with a deadline, and count rows."""
import collections
import uuid

from fakebiller import FakeBiller
from test_billing_nodes import node2, wait_for  # noqa: F401 (node2: the second node)
from test_bills import entries as bill_entries, fund as bill_fund, pay as bill_pay
from test_momo import tip as momo_tip
from test_providers import initiate
from test_refunds_disputes import refund, refund_entries, stripe_paid
from test_wallet_payments import fund, tip
from tzclient import register


def statuses(stack, ids):
    rows = stack.psql("SELECT id, status FROM payments WHERE id IN (%s)"
                      % ", ".join(f"'{i}'" for i in ids))
    return dict(rows)


def quiet(log):
    """A node's error log without errors nor deadlocks."""
    return "[tipzed:error]" not in log and "deadlock" not in log


def test_two_nodes_expire_the_stale_payments_and_only_those(api, stack, stripe, new_client,
                                                            node2):
    """Sixteen stale checkouts (their expiry moved into the past) and four
    fresh ones: both nodes' watchdogs expire the stale ones, side by side,
    and leave the fresh ones pending."""
    creator = register(new_client(), role="creator")
    fans = [register(new_client()) for _ in range(4)]
    made = [initiate(api, fans[i % 4], creator, "stripe", amount=1000 + i) for i in range(20)]
    assert all(r.status == 201 for r in made), made
    ids = [r.json["id"] for r in made]
    stale, fresh = ids[:16], ids[16:]
    stack.psql("UPDATE payments SET expires_at = now() - interval '1 minute' WHERE id IN (%s)"
               % ", ".join(f"'{i}'" for i in stale))
    got = wait_for(lambda: (lambda s: s if all(s[i] == "expired" for i in stale) else None)(
        statuses(stack, stale)))
    assert got and set(got.values()) == {"expired"}, got
    assert set(statuses(stack, fresh).values()) == {"pending"}
    # and nothing was announced for an expiry (no event, no mail)
    assert stack.psql("SELECT count(*) FROM outbox_events WHERE data->>'id' IN (%s)"
                      % ", ".join(f"'{i}'" for i in ids)) == [("0",)]
    assert quiet(node2.log())


def test_two_nodes_ask_the_provider_once_per_claim_and_credit_once(api, stack, momo, new_client,
                                                                   node2):
    """Twelve MoMo payments whose callback never comes, confirmed at
    MoMo: both nodes' status polling finds them, every status call made is
    one claim's (a payment is never asked by both nodes on one claim), and
    each is credited once, announced once."""
    creator = register(new_client(), role="creator")
    fans = [register(new_client()) for _ in range(3)]
    made = [momo_tip(api, fans[i % 3], creator, amount=2000 + i) for i in range(12)]
    assert all(r.status == 201 for r in made), made
    ids = [r.json["id"] for r in made]
    for i in ids:
        momo.approve(i)
    got = wait_for(lambda: (lambda s: s if all(s[i] == "succeeded" for i in ids) else None)(
        statuses(stack, ids)))
    assert got and set(got.values()) == {"succeeded"}, got
    quoted = ", ".join(f"'{i}'" for i in ids)
    calls = collections.Counter(r["path"].rsplit("/", 1)[1] for r in momo.requests
                                if r["method"] == "GET" and r["path"].rsplit("/", 1)[1] in ids)
    claims = dict((i, int(n)) for i, n in stack.psql(
        f"SELECT id, poll_attempts FROM payments WHERE id IN ({quoted})"))
    assert all(1 <= calls[i] <= claims[i] for i in ids), (calls, claims)
    credits = stack.psql(f"SELECT count(*), count(DISTINCT reference) FROM journal_entries"
                         f" WHERE reference IN (SELECT 'payment:' || id || ':credit'"
                         f" FROM payments WHERE id IN ({quoted}))")
    assert credits == [("12", "12")]
    events = stack.psql(f"SELECT data->>'id', count(*) FROM outbox_events"
                        f" WHERE type = 'payment.succeeded' AND data->>'id' IN ({quoted})"
                        f" GROUP BY 1")
    assert sorted(events) == sorted((i, "1") for i in ids)
    assert quiet(node2.log())


def test_two_nodes_send_each_receipt_once(api, stack, smtp, new_client, node2):
    """Ten wallet tips by ten fans: both nodes send mail (TipzedSMTP on
    each), claiming mails under a lease, and each fan gets one receipt."""
    creator = register(new_client(), role="creator")
    fans = [register(new_client()) for _ in range(10)]
    for f in fans:
        fund(stack, f["user"]["id"], 5000)
    made = [tip(api, f, creator["user"]["id"], 700) for f in fans]
    assert all(r.status == 201 for r in made), made
    emails = {f["email"] for f in fans}

    def receipts():
        return collections.Counter(m.to[0] for m in smtp.messages
                                   if m.to and m.to[0] in emails
                                   and "receipt" in m.message["Subject"])
    assert wait_for(lambda: len(receipts()) == 10, 60), receipts()
    quoted = ", ".join(f"'{r.json['id']}'" for r in made)
    # every receipt's mail is written sent, once, by one node or the other
    assert wait_for(lambda: stack.psql(
        f"SELECT count(*) FROM mail_outbox m JOIN outbox_events e ON e.id = m.event_id"
        f" WHERE e.type = 'payment.succeeded' AND e.data->>'id' IN ({quoted})"
        f" AND m.status = 'sent'") == [("10",)])
    sent = stack.psql(f"SELECT count(*), sum(m.attempts) FROM mail_outbox m"
                      f" JOIN outbox_events e ON e.id = m.event_id"
                      f" WHERE e.type = 'payment.succeeded' AND e.data->>'id' IN ({quoted})")
    assert sent == [("10", "10")]
    assert set(receipts().values()) == {1}, receipts()
    assert quiet(node2.log())


def test_two_nodes_retry_each_lost_refund_once_per_claim(api, stack, stripe, new_client, admin,
                                                         node2):
    """Six refunds whose answer Stripe did not give (503): both nodes'
    watchdogs ask again, each refund's calls are its own claims' (the
    first call, then one per claim), and each payment is refunded once."""
    creator, fan = register(new_client(), role="creator"), register(new_client())
    paid = [stripe_paid(api, stack, stripe, fan, creator, amount=3000 + i)[0] for i in range(6)]
    stripe.refund_next.extend([503] * 6)
    asked = [refund(api, admin, p["id"]) for p in paid]
    assert all(r.status == 202 for r in asked), asked
    rids = [r.json["refund"]["id"] for r in asked]
    stack.psql("UPDATE refunds SET next_try_at = now() WHERE id IN (%s)"
               % ", ".join(f"'{i}'" for i in rids))
    got = wait_for(lambda: (lambda s: s if all(s[p["id"]] == "refunded" for p in paid) else None)(
        statuses(stack, [p["id"] for p in paid])))
    assert got and set(got.values()) == {"refunded"}, got
    claims = dict((i, int(n)) for i, n in stack.psql(
        "SELECT id, attempts FROM refunds WHERE id IN (%s)" % ", ".join(f"'{i}'" for i in rids)))
    for rid in rids:
        calls = [x for x in stripe.requests if x["path"] == "/v1/refunds"
                 and x["headers"].get("Idempotency-Key") == f"tipzed-refund-{rid}"]
        assert 2 <= len(calls) <= 1 + claims[rid], (rid, len(calls), claims[rid])
    assert [refund_entries(stack, p["id"]) for p in paid] == [1] * 6
    assert quiet(node2.log())


def test_two_nodes_check_each_pending_bill_once_per_claim(api, stack, admin, new_client, node2):
    """Eight bill payments the biller left pending (503): both nodes'
    watchdogs ask the biller, every status call is one claim's, and each
    bill is settled once."""
    fb = FakeBiller(stack.secret("biller").rstrip(b"\n"))
    try:
        r = api.post("/admin/billers", token=admin["access_token"], json={
            "name": f"LWSC {uuid.uuid4().hex[:6]}", "category": "water", "base_url": fb.url,
            "fee": 100, "currency": "ZMW", "customer_pattern": "^0[0-9]{7}$"})
        assert r.status == 201, r
        biller = r.json
        payer = register(new_client(), role="creator")
        bill_fund(stack, payer["user"]["id"], 20000)
        customers = [f"0777{i:04d}" for i in range(8)]
        for c in customers:
            fb.customers[c] = "Node Test"
            fb.plan(c, 503)
            fb.status[c] = "succeeded"
        made = [bill_pay(api, payer, biller, c, 500) for c in customers]
        assert all(m.status == 202 for m in made), made
        ids = [m.json["id"] for m in made]
        quoted = ", ".join(f"'{i}'" for i in ids)
        done = lambda: stack.psql(f"SELECT count(*) FROM bill_payments WHERE id IN ({quoted})"
                                  f" AND status = 'succeeded'") == [("8",)]
        assert wait_for(done, 60)
        claims = dict((i, int(n)) for i, n in stack.psql(
            f"SELECT id, attempts FROM bill_payments WHERE id IN ({quoted})"))
        with fb.lock:
            checks = collections.Counter(b.get("payment_id") for path, b in fb.calls
                                         if path.endswith("/status"))
        assert all(1 <= checks[i] <= claims[i] for i in ids), (checks, claims)
        assert [bill_entries(stack, i) for i in ids] == [["bill_hold", "bill_settle"]] * 8
        assert quiet(node2.log())
    finally:
        fb.close()
