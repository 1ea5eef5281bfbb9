"""Velocity limits on payments (docs/risk.md, "Velocity limits"), on a node
of their own with low limits, so no other test meets them: a burst from one
address cut exactly at the limit across the node's children, the fan's,
the creator's and the payer MSISDN's limits, 429 velocity_limit with
Retry-After, the refusals counted in the metrics by kind, the offenders'
list for admins only."""
import os
import re
import threading
import uuid

import pytest

from test_payments import initiate
from test_wallet_payments import fund
from tzclient import Client, assert_problem, next_source_ip, register
from tznode import Node

IP_LIMIT, FAN_LIMIT, CREATOR_LIMIT, INSTRUMENT_LIMIT = 6, 12, 8, 3


@pytest.fixture(scope="module")
def node(stack):
    name = f"velocity-{uuid.uuid4().hex[:6]}"
    pids = os.path.join(stack.dir, name, "pids.log")
    # four children of two threads: a burst of parallel requests is
    # served by several of them, which share the counters
    n = Node(stack, name, f"""
StartServers 4
ServerLimit 4
ThreadsPerChild 2
MaxRequestWorkers 8
MinSpareThreads 2
MaxSpareThreads 8
CustomLog "{pids}" "%P %m %U %>s"
TipzedPaymentVelocity ip {IP_LIMIT} 1m
TipzedPaymentVelocity fan {FAN_LIMIT} 1m
TipzedPaymentVelocity creator {CREATOR_LIMIT} 1h
TipzedPaymentVelocity instrument {INSTRUMENT_LIMIT} 10m
""")
    n.pids_log = pids
    n.start()
    yield n
    n.stop()


def client(node):
    return Client(f"http://127.0.0.1:{node.port}/api/v1", source_ip=next_source_ip())


def refused(r, kind):
    """A 429 velocity_limit naming kind, with a Retry-After within the
    rule's window; the problem, or a failed assertion."""
    p = assert_problem(r, 429, "velocity_limit")
    assert p["kind"] == kind, p
    wait = int(r.headers["Retry-After"])
    assert 1 <= wait <= 3600 and p["retry_after"] == wait, (wait, p)
    return p


def refusals(c):
    text = c.get("/metrics").text
    return {k: int(v) for k, v in
            re.findall(r'^tipzed_velocity_refusals_total\{kind="(\w+)"\} (\d+)$', text, re.M)}


def offenders(c, admin, **q):
    query = "&".join(f"{k}={v}" for k, v in q.items())
    r = c.get(f"/admin/risk/velocity?{query}", token=admin["access_token"])
    assert r.status == 200, r
    return r.json["data"]


def test_a_burst_from_one_address_is_cut_at_the_limit_across_children(api, stack, node, admin):
    # two fans and one creator: no other limit is within reach of the six
    # payments the address may make
    fans = [register(api) for _ in range(2)]
    creator = register(api, role="creator")["user"]["id"]
    burst = client(node)  # one source address, one connection per request
    before = refusals(burst)
    out, go = [None] * 24, threading.Barrier(24)

    def pay(i):
        go.wait()
        out[i] = initiate(burst, fans[i % 2], creator)

    threads = [threading.Thread(target=pay, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r for r in out if r.status == 201]
    assert len(ok) == IP_LIMIT, [r.status for r in out]
    for r in out:
        if r.status != 201:
            p = refused(r, "ip")
            assert burst.source_ip not in r.text, p  # the key is never echoed
    # the burst was served by several children, which counted together
    with open(node.pids_log) as f:
        served = {line.split()[0] for line in f if " POST " in line and "/payments/initiate" in line}
    assert len(served) >= 2, served
    after = refusals(burst)
    assert after["ip"] - before.get("ip", 0) == 24 - IP_LIMIT, (before, after)
    # 18 refusals, one breach: written once per key and window
    row = [o for o in offenders(burst, admin, kind="ip") if o["key"] == burst.source_ip]
    assert len(row) == 1 and row[0]["breaches"] == 1, row
    assert row[0]["first_seen"] <= row[0]["last_seen"]


def test_the_fans_limit_counts_provider_payments_and_top_ups_not_wallet_ones(api, stack, node):
    fan = register(api)
    creators = [register(api, role="creator")["user"]["id"] for _ in range(2)]
    creator = creators[0]
    fund(stack, fan["user"]["id"], 100000)
    first = uuid.uuid4().hex
    for i in range(FAN_LIMIT):  # from other addresses to two creators: the fan's rule only
        r = initiate(client(node), fan, creators[i % 2], key=first if i == 0 else None)
        assert r.status == 201, r
    key = uuid.uuid4().hex
    c = client(node)
    p = refused(initiate(c, fan, creator, key=key), "fan")
    assert "payer" in p["detail"], p
    # the refusal released the idempotency key: the same request is refused
    # again, not answered 409 in flight
    refused(initiate(c, fan, creator, key=key), "fan")
    # a replayed answer is not a new payment: not counted, not refused
    again = initiate(c, fan, creators[0], key=first)
    assert again.status == 201 and again.headers["Idempotent-Replayed"] == "true", again
    topup = c.post("/wallets/me/topup", token=fan["access_token"],
                   json={"amount": 5000, "currency": "ZMW", "provider": "sandbox"},
                   headers={"X-Idempotency-Key": uuid.uuid4().hex})
    refused(topup, "fan")
    # paying from the wallet moves money already paid in: not counted
    wallet = initiate(c, fan, creator, source="wallet")
    assert wallet.status == 201 and wallet.json["status"] == "succeeded", wallet


def test_the_creators_limit_holds_whoever_pays(api, node, admin):
    creator, fan, other = register(api, role="creator")["user"]["id"], register(api), register(api)
    for _ in range(CREATOR_LIMIT):  # each from another address, below the fan's limit
        assert initiate(client(node), fan, creator).status == 201
    c = client(node)
    refused(initiate(c, other, creator), "creator")
    # another creator is not concerned
    assert initiate(c, other, register(api, role="creator")["user"]["id"]).status == 201
    assert [o for o in offenders(c, admin, kind="creator") if o["key"] == creator]


def test_the_payers_msisdn_is_counted_and_never_shown_whole(api, node, admin):
    digits = "26097" + str(uuid.uuid4().int)[:7]
    creator, fan = register(api, role="creator")["user"]["id"], register(api)
    for i in range(INSTRUMENT_LIMIT):  # spelled differently, one number
        phone = "+" + digits if i % 2 else digits
        r = initiate(client(node), fan, creator, phone_number=phone)
        assert r.status == 201, r
    c = client(node)
    r = initiate(c, register(api), creator, phone_number="+" + digits)
    refused(r, "instrument")
    assert digits not in r.text and digits[-4:] not in r.text
    rows = offenders(c, admin, kind="instrument", limit=100)
    shown = "msisdn:***" + digits[-4:]
    assert [o for o in rows if o["key"] == shown], rows
    assert not [o for o in rows if digits in o["key"]]
    assert refusals(c)["instrument"] >= 1


def test_the_offenders_list_is_for_admins_and_checks_its_query(api, node, admin):
    c = client(node)
    for role in ("fan", "creator"):
        assert_problem(c.get("/admin/risk/velocity", token=register(api, role=role)["access_token"]),
                       403, "forbidden")
    assert_problem(c.get("/admin/risk/velocity"), 401)
    for q, field in (("since=yesterday", "since"), ("since=2000-01-01", "since"),
                     ("kind=card", "kind"), ("limit=0", "limit")):
        assert_problem(c.get(f"/admin/risk/velocity?{q}", token=admin["access_token"]),
                       422, "validation_failed", field)
    r = c.get("/admin/risk/velocity?limit=1", token=admin["access_token"])
    assert r.status == 200 and len(r.json["data"]) <= 1 and r.json["since"], r
