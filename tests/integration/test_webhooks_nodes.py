"""Two Apache instances on one database deliver each webhook attempt once:
both dispatchers claim endpoints under a lease with FOR UPDATE SKIP
LOCKED, so a delivery is never sent by both."""
import collections
import uuid

import pytest

from receiver import Receiver
from test_wallet_payments import fund, tip
from test_webhooks import deliveries, endpoint, wait_for
from tzclient import assert_problem, ensure_verified, register
from tznode import Node


@pytest.fixture
def node2(stack):
    n = Node(stack, f"hooks-{uuid.uuid4().hex[:6]}")
    n.start()
    yield n
    n.stop()


def test_two_nodes_send_each_delivery_once(api, stack, new_client, node2):
    rec = Receiver(delay=0.05)  # slow enough for both dispatchers to be at work at once
    try:
        creators = [register(new_client(), role="creator") for _ in range(8)]
        eps = [endpoint(api, c, f"{rec.url}?endpoint={i}", ["payment.succeeded", "invoice.issued"])
               for i, c in enumerate(creators)]
        fan = register(new_client())
        fund(stack, fan["user"]["id"], 100000)
        tips = [tip(api, fan, c["user"]["id"], 500 + i) for i, c in enumerate(creators * 3)]
        assert all(t.status == 201 for t in tips), tips
        want = len(tips) * 2  # each tip's payment.succeeded and its invoice.issued
        wait_for(lambda: len(rec.requests) >= want, 60)
        wait_for(lambda: False, 2)  # and then nothing more
        seen = collections.Counter((r["path"], r["headers"]["x-tipzed-event-id"])
                                   for r in rec.requests)
        assert len(seen) == want and set(seen.values()) == {1}, seen.most_common(3)
        for c, e in zip(creators, eps):
            log = deliveries(api, c, e["id"])
            assert len(log) == 6 and all(d["attempts"] == 1 and len(d["log"]) == 1 for d in log)
        assert "[tipzed:error]" not in node2.log()
    finally:
        rec.close()


def test_a_server_without_private_targets_refuses_them(stack, new_client):
    """TipzedWebhookAllowPrivate Off (the default): plain http and private,
    loopback and link-local literals are refused when an endpoint is made
    or changed; the same addresses reached through a name are refused at
    connect time (tests/unit/test_http_batch.c)."""
    node = Node(stack, f"private-{uuid.uuid4().hex[:6]}", extra="TipzedWebhookAllowPrivate Off")
    node.start()
    try:
        c = register(node.api, role="creator")
        refused = {"http://hooks.example.com/x": "must use https",
                   "https://127.0.0.1/x": "private", "https://10.1.2.3/x": "private",
                   "https://169.254.169.254/latest": "private", "https://[::1]/x": "private",
                   "https://localhost/x": "private", "https://0x7f000001/x": "private"}
        for url, why in refused.items():
            r = node.api.post("/webhook-endpoints", token=c["access_token"],
                              json={"url": url, "events": ["*"]})
            assert_problem(r, 422, field="url")
            assert why in r.json["errors"][0]["message"], (url, r.json)
        ensure_verified(node.api, c)
        ok = node.api.post("/webhook-endpoints", token=c["access_token"],
                           json={"url": "https://hooks.example.com/x", "events": ["*"]})
        assert ok.status == 201, ok
        r = node.api.patch(f"/webhook-endpoints/{ok.json['id']}", token=c["access_token"],
                           json={"url": "https://192.168.1.10/x"})
        assert_problem(r, 422, field="url")
        node.api.delete(f"/webhook-endpoints/{ok.json['id']}", token=c["access_token"])
    finally:
        node.stop()
