"""The creator cache shared by several nodes through Redis
(TipzedCreatorCache redis:..., mod_socache_redis; README, "Running
several nodes"): two Apache nodes on one PostgreSQL and one private
redis-server (started here on a free port, in a temp dir).  A profile read
on one node is a hit on the other; a write on one node drops the entry for
both; Redis stopped, the profile is still served (from the database)."""
import os
import subprocess
import uuid

import pytest

from tzclient import Client, next_source_ip, register
from tznode import free_port, redis_ping, started_nodes


@pytest.fixture(scope="module")
def redis(stack):
    d = os.path.join(stack.dir, f"redis-{uuid.uuid4().hex[:6]}")
    os.makedirs(d)
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port),
                             "--dir", d, "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert redis_ping(port), "redis-server did not start"
    yield port, proc
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def nodes(stack, redis):
    with started_nodes(stack, "cache", f"""
LoadModule socache_redis_module /usr/lib/apache2/modules/mod_socache_redis.so
TipzedCreatorCache redis:127.0.0.1:{redis[0]} 30s
""") as out:
        yield out


def on(node):
    return Client(f"http://127.0.0.1:{node.port}/api/v1", source_ip=next_source_ip())


def profile(node, cid):
    r = on(node).get(f"/creators/{cid}")
    assert r.status == 200, r
    return r.headers["x-tipzed-cache"], r.json


def test_a_read_on_one_node_is_a_hit_on_the_other_and_a_write_drops_it(api, nodes):
    c = register(api, role="creator")
    cid = c["user"]["id"]
    assert profile(nodes[0], cid)[0] == "miss"
    assert profile(nodes[1], cid)[0] == "hit"
    # a write through the first node: the second serves the new profile at
    # once, not the cached one (30 s TTL)
    r = on(nodes[0]).put("/creators/me", token=c["access_token"], json={"bio": "Shared bio"})
    assert r.status == 200, r
    state, body = profile(nodes[1], cid)
    assert state == "miss" and body["bio"] == "Shared bio", (state, body)
    assert profile(nodes[0], cid) == ("hit", body)


def test_redis_stopped_the_profile_comes_from_the_database(api, nodes, redis):
    """The last test of the module: it stops the module's Redis."""
    c = register(api, role="creator")
    cid = c["user"]["id"]
    redis[1].terminate()
    redis[1].wait(timeout=20)
    for n in nodes:
        state, body = profile(n, cid)
        assert state == "miss" and body["id"] == cid, (state, body)
