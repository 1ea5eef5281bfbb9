"""Counters shared by several nodes (TipzedSharedCounters database;
docs/risk.md, "Counters shared by several nodes"): two Apache nodes on one
PostgreSQL count the login rate limit and the payment velocity together,
so a burst split over both is cut at the limit exactly, and a node
restarted keeps the counts; a socache provider is refused by name."""
import os
import subprocess
import threading
import time
import uuid

import pytest

from test_payments import initiate
from tzclient import Client, assert_problem, login, next_source_ip, register
from tznode import Node, started_nodes

IP_LIMIT = 6
LOGIN_LIMIT = 5  # TipzedLoginRateLimit 5 1m, the stack's


@pytest.fixture(scope="module")
def nodes(stack):
    with started_nodes(stack, "shared", f"""
TipzedSharedCounters database
TipzedPaymentVelocity ip {IP_LIMIT} 1m
""") as out:
        yield out


def on(node, source_ip=None):
    return Client(f"http://127.0.0.1:{node.port}/api/v1",
                  source_ip=source_ip or next_source_ip())


def restart(node):
    """Stops node, waits for its parent to be gone, starts it again."""
    node.stop()
    deadline = time.time() + 30
    while os.path.exists(node.pidfile) and time.time() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(node.pidfile), node.log()
    node.start()


def burst(calls):
    """Runs every call at once; their answers in order."""
    out, go = [None] * len(calls), threading.Barrier(len(calls))

    def run(i):
        go.wait()
        out[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_a_login_burst_split_over_two_nodes_is_cut_at_the_limit(api, nodes):
    """30 wrong passwords for one email at once, half on each node, each
    from its own address: exactly 5 are checked (401), 25 refused (429)
    -- with each node counting alone, up to 10 would be checked."""
    s = register(api)
    calls = [lambda n=nodes[i % 2]: login(on(n), s["email"], "wrong password!").status
             for i in range(30)]
    statuses = burst(calls)
    assert sorted(statuses) == [401] * LOGIN_LIMIT + [429] * (30 - LOGIN_LIMIT), statuses
    # the right password, from a fresh address on either node: still refused
    for n in nodes:
        assert_problem(login(on(n), s["email"], s["password"]), 429, "too_many_attempts")


def test_a_restarted_node_keeps_the_counts(api, nodes):
    """The counts are the database's, not the node's memory: a node
    stopped and started again still refuses the email blocked through the
    other node."""
    s = register(api)
    for _ in range(LOGIN_LIMIT):
        assert login(on(nodes[0]), s["email"], "wrong password!").status == 401
    restart(nodes[1])
    assert_problem(login(on(nodes[1]), s["email"], s["password"]), 429, "too_many_attempts")
    # another email is not concerned
    other = register(api)
    assert login(on(nodes[1]), other["email"], other["password"]).status == 200


def test_a_velocity_burst_split_over_two_nodes_is_cut_at_the_limit(api, nodes):
    """24 payments at once from one address, alternately on each node:
    exactly the address's limit pass, the others are refused 429
    velocity_limit naming the kind."""
    fans = [register(api) for _ in range(2)]
    creator = register(api, role="creator")["user"]["id"]
    ip = next_source_ip()
    out = burst([lambda i=i: initiate(on(nodes[i % 2], ip), fans[i % 2], creator)
                 for i in range(24)])
    assert sorted(r.status for r in out) == [201] * IP_LIMIT + [429] * (24 - IP_LIMIT), out
    for r in out:
        if r.status == 429:
            p = assert_problem(r, 429, "velocity_limit")
            assert p["kind"] == "ip" and ip not in r.text, p
    # the refusal comes from either node: both read the same counts
    for n in nodes:
        assert_problem(initiate(on(n, ip), fans[0], creator), 429, "velocity_limit")


def test_a_socache_provider_is_refused_with_the_reason(stack):
    """A redis or shmcb spec cannot hold a limit across nodes (no atomic
    increment): the configuration is refused, saying so."""
    n = Node(stack, f"shared-bad-{uuid.uuid4().hex[:6]}",
             "TipzedSharedCounters redis:127.0.0.1:6379")
    r = subprocess.run(["apache2", "-f", n.conf, "-t"], env=n.env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0, r.stdout + r.stderr
    assert "TipzedSharedCounters" in r.stderr and "atomic increment" in r.stderr, r.stderr
