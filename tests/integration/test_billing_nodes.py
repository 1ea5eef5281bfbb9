"""The billing engine on several nodes: a second Apache instance on the same
PostgreSQL runs its own watchdog beside the stack's, and every period is
charged once; an engine killed in the middle of a charge (its Apache
instance SIGKILLed, its transaction cut off) leaves nothing half done, and
the next pass charges what is left, once.

Unlike test_billing.py, the charges here are made by the watchdogs
themselves (every 5 seconds on each node); the tests wait for the states
they expect, with a deadline."""
import os
import subprocess
import threading
import time
import uuid

import pytest

from test_billing import advance, charges, plan, reconciled, subscribe, sub_of
from test_wallet_payments import fund
from tzclient import register
from tznode import Node

STACK_SH = os.path.join(os.path.dirname(__file__), "..", "stack", "stack.sh")


@pytest.fixture
def node2(stack):
    n = Node(stack, f"node2-{uuid.uuid4().hex[:6]}")
    n.start()
    yield n
    n.stop()


def wait_for(what, seconds=40):
    deadline = time.time() + seconds
    while time.time() < deadline:
        got = what()
        if got:
            return got
        time.sleep(0.3)
    return what()


def run_on(node_api, admin, out, i):
    r = node_api.post("/sandbox/billing/run", token=admin["access_token"])
    out[i] = r.json["acted"] if r.status == 200 else None


def test_two_nodes_on_one_database_charge_each_period_once(api, admin, stack, node2,
                                                           new_client):
    """Thirty weekly subscriptions fall due at once on two nodes: both
    nodes' engines (their watchdogs, and a pass asked of each at the same
    moment) work through the same items together, and each period is
    charged exactly once."""
    creator = register(new_client(), role="creator")
    weekly = plan(api, creator, amount=500, interval="week")
    subs = []
    for _ in range(30):
        fan = register(new_client(), role="fan")
        fund(stack, fan["user"]["id"], 1500)
        subs.append((fan, subscribe(api, fan, weekly["id"]).json["id"]))
    acted = []
    for week in (2, 3):
        advance(api, admin, "7d")
        out = [None, None]
        threads = [threading.Thread(target=run_on, args=(a, admin, out, i))
                   for i, a in enumerate((api, node2.api))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        acted.append(out)
        assert wait_for(lambda: all(sub_of(api, f, s)["period"] == week and
                                    sub_of(api, f, s)["status"] == "active" for f, s in subs)), \
            [sub_of(api, f, s) for f, s in subs]
    for fan, sid in subs:
        assert [c[0] for c in charges(stack, sid)] == [1, 2, 3]
        rows = stack.psql(f"SELECT count(*) FROM journal_entries e JOIN payments p"
                          f" ON e.reference = 'payment:' || p.id || ':credit'"
                          f" WHERE p.subscription_id = '{sid}'")
        assert rows == [("3",)]
        w = api.get("/wallets/me", token=fan["access_token"]).json
        assert w["balance"] + w["cashback_balance"] == 1500 - 3 * 500 + 3 * 5, w
    assert all(a is not None for week in acted for a in week), acted
    assert sum(week[1] for week in acted) > 0, acted  # the second node charged some
    reconciled(api, admin)


def killed_run(node, admin):
    """A pass asked of the node, which dies before answering."""
    try:
        node.api.post("/sandbox/billing/run", token=admin["access_token"])
    except OSError:
        pass


def blocked_backends(stack):
    """(pid, application_name) of the module's connections waiting on a lock."""
    return stack.psql("SELECT pid, application_name FROM pg_stat_activity"
                      " WHERE usename = 'tipzed_app' AND wait_event_type = 'Lock'",
                      user="postgres")


def test_an_engine_killed_mid_charge_leaves_each_period_charged_once(api, admin, stack,
                                                                      node2, new_client):
    """Three subscriptions fall due; the second fan's wallet is locked by
    another session, so the engine that takes it stops in the middle of
    its charge.  That engine's node is SIGKILLed and its transaction cut
    off; once the lock is gone and the node is back, every period has
    exactly one charge and the ledger is whole."""
    creator = register(new_client(), role="creator")
    monthly = plan(api, creator, amount=600)
    fans = []
    for _ in range(3):
        fan = register(new_client(), role="fan")
        fund(stack, fan["user"]["id"], 1200)
        fans.append((fan, subscribe(api, fan, monthly["id"]).json["id"]))
    wallet = stack.psql(f"SELECT id FROM accounts WHERE kind = 'wallet' AND currency = 'ZMW'"
                        f" AND owner_id = '{fans[1][0]['user']['id']}'")[0][0]
    holder = subprocess.Popen(
        [STACK_SH, "psql", stack.dir, "-U", "tipzed", "-d", "tipzed", "-qAt", "-c",
         f"BEGIN; SELECT 1 FROM accounts WHERE id = {wallet} FOR UPDATE; "
         f"SELECT pg_sleep(600); COMMIT;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: stack.psql("SELECT 1 FROM pg_stat_activity WHERE"
                                           " query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()"
                                           " AND state = 'active'", user="postgres"), 20)
        advance(api, admin, "31d")
        runner = threading.Thread(target=killed_run, args=(node2, admin), daemon=True)
        runner.start()
        blocked = wait_for(lambda: blocked_backends(stack))
        assert blocked, ("no engine blocked on the locked wallet", stack.psql(
            "SELECT pid, usename, application_name, state, wait_event_type, wait_event,"
            " left(query, 60) FROM pg_stat_activity WHERE datname = 'tipzed'", user="postgres"))
        node2.kill()
        for pid, _ in blocked:
            stack.psql(f"SELECT pg_terminate_backend({pid})", user="postgres")
        assert charges(stack, fans[1][1]) == [(1, "subscription", "wallet", 600)]
    finally:
        holder.kill()
        holder.wait()
        stack.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                   " WHERE query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()",
                   user="postgres")
    node2.start()
    assert wait_for(lambda: all(len(charges(stack, s)) == 2 for _, s in fans)), \
        [charges(stack, s) for _, s in fans]
    for fan, sid in fans:
        assert [c[0] for c in charges(stack, sid)] == [1, 2]
        assert sub_of(api, fan, sid)["status"] == "active"
        w = api.get("/wallets/me", token=fan["access_token"]).json
        assert w["balance"] + w["cashback_balance"] == 1200 - 2 * 600 + 2 * 6, w  # 1% cashback
    reconciled(api, admin)
