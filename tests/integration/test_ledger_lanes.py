"""The ledger's lanes (docs/design.md, "Lanes"; schema step 039): a
posting transaction takes one lane's chain head and system sub-balances,
so concurrent credits land on several lanes; each lane's chain stays whole,
a transaction's entries stay in its one lane, system balances are the sum
of their sub-balances, and reconciliation and verify-chain pass.

Corrupting or lane-pinning tests run on a scratch database."""
import re
import threading
import time
import uuid

import pytest

from test_payments import initiate
from test_receipts import approve, entry_hash
from test_wallet_payments import fund, tip
from tzclient import register

SCRATCH = "tz_scratch_lanes"


@pytest.fixture
def scratch(stack):
    conninfo = stack.scratch_db(SCRATCH)
    stack.psql("SELECT tz_account('adjustments', NULL, NULL, 'ZMW'),"
               " tz_account('platform_fees', NULL, NULL, 'ZMW')", db=SCRATCH)
    yield conninfo
    stack.drop_db(SCRATCH)


def post(n, amount=100):
    return (f"SELECT tz_post_entry('lanes:{n}', 'adjustment', NULL, NULL, 'ZMW',"
            f" ARRAY[tz_account('adjustments', NULL, NULL, 'ZMW'),"
            f" tz_account('platform_fees', NULL, NULL, 'ZMW')], ARRAY[-{amount}, {amount}]::bigint[])")


def lane_of(stack, reference, db="tipzed"):
    return stack.psql(f"SELECT lane FROM journal_entries WHERE reference = '{reference}'", db=db)[0][0]


def test_a_posting_takes_a_lane_no_other_transaction_holds(stack, scratch):
    """While one transaction holds its lane (it posted and has not
    committed), another posting takes another lane instead of waiting."""
    holder = threading.Thread(target=lambda: stack.psql_script(
        f"BEGIN; {post(1)}; SELECT pg_sleep(3) AS lanes_holder; COMMIT;", db=SCRATCH))
    holder.start()
    try:
        for _ in range(200):
            if stack.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%AS lanes_holder%'"
                          " AND state = 'active' AND pid <> pg_backend_pid()", db=SCRATCH)[0][0] == "1":
                break
            time.sleep(0.05)
        held = stack.psql("SELECT l.lane FROM chain_lanes l WHERE NOT EXISTS"
                          " (SELECT 1 FROM chain_lanes x WHERE x.lane = l.lane FOR UPDATE SKIP LOCKED)",
                          db=SCRATCH)
        assert len(held) == 1, held
        stack.psql(post(2), db=SCRATCH)
    finally:
        holder.join()
    assert lane_of(stack, "lanes:2", SCRATCH) != lane_of(stack, "lanes:1", SCRATCH) == held[0][0]
    rows = stack.psql("SELECT a.kind, l.lane, l.balance FROM account_lanes l"
                      " JOIN accounts a ON a.id = l.account_id WHERE l.balance <> 0"
                      " ORDER BY a.kind, l.lane", db=SCRATCH)
    lanes = sorted([lane_of(stack, "lanes:1", SCRATCH), lane_of(stack, "lanes:2", SCRATCH)], key=int)
    assert rows == [("adjustments", lanes[0], "-100"), ("adjustments", lanes[1], "-100"),
                    ("platform_fees", lanes[0], "100"), ("platform_fees", lanes[1], "100")]
    fees = stack.psql("SELECT tz_balance(tz_account('platform_fees', NULL, NULL, 'ZMW')),"
                      " balance FROM accounts WHERE kind = 'platform_fees'", db=SCRATCH)
    assert fees == [("200", "0")]
    assert stack.psql("SELECT * FROM tz_reconcile_ledger()", db=SCRATCH) == []
    r = stack.tipzedctl("verify-chain", conninfo=scratch)
    assert r.returncode == 0 and "chain: ok, 2 entries" in r.stdout, r.stdout + r.stderr


def test_a_transactions_entries_share_its_lane(stack, scratch):
    """Entries posted in one transaction are in one lane and chained in
    it, whatever other sessions do; a session may name its lane."""
    r = stack.psql_script(f"BEGIN; {post(1)}; {post(2)}; {post(3)}; COMMIT;"
                          f" SET tipzed.lane = 5; {post(4)};", db=SCRATCH)
    assert r.returncode == 0, r.stderr
    rows = stack.psql("SELECT reference, lane, coalesce(encode(prev_hash, 'hex'), ''),"
                      " encode(hash, 'hex') FROM journal_entries ORDER BY id", db=SCRATCH)
    assert len({lane for _, lane, _, _ in rows[:3]}) == 1 and rows[3][1] == "5"
    assert rows[1][2] == rows[0][3] and rows[2][2] == rows[1][3] and rows[3][2] == ""
    heads = stack.psql("SELECT lane, encode(hash, 'hex') FROM chain_lanes WHERE entry_id IS NOT NULL"
                       " ORDER BY lane", db=SCRATCH)
    assert heads == sorted([(rows[2][1], rows[2][3]), ("5", rows[3][3])], key=lambda x: int(x[0]))
    # a lane that does not exist is refused, and nothing is posted
    r = stack.psql(f"SET tipzed.lane = 99; {post(5)}", db=SCRATCH, check=False)
    assert r.returncode != 0 and "lane 99 has no head" in r.stderr, r.stderr
    assert stack.psql("SELECT count(*) FROM journal_entries", db=SCRATCH) == [("4",)]


def test_verify_chain_names_a_moved_entry_and_a_missing_lane_head(stack, scratch):
    """An entry moved to another lane breaks its new lane's links; a lane
    whose head row is gone is named."""
    for n in (1, 2, 3):
        stack.psql(f"SET tipzed.lane = 2; {post(n)}", db=SCRATCH)
    ids = [i for i, in stack.psql("SELECT id FROM journal_entries ORDER BY id", db=SCRATCH)]
    r = stack.psql_script(f"""
      ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_immutable;
      UPDATE journal_entries SET lane = 3 WHERE id = {ids[1]};
      ALTER TABLE journal_entries ENABLE TRIGGER journal_entries_immutable;""", db=SCRATCH)
    assert r.returncode == 0, r.stderr
    r = stack.tipzedctl("verify-chain", conninfo=scratch)
    assert r.returncode == 1, r.stdout
    assert re.search(rf"^broken\t{ids[1]}\tlanes:2\tit is the first entry of lane 3, yet its prev_hash"
                     r" is [0-9a-f]{64}$", r.stdout, re.M), r.stdout
    assert re.search(rf"^broken\t{ids[2]}\tlanes:3\tits prev_hash [0-9a-f]{{64}} is not the hash"
                     rf" [0-9a-f]{{64}} of the entry before it, {ids[0]}$", r.stdout, re.M), r.stdout
    stack.psql("DELETE FROM account_lanes WHERE lane = 2", db=SCRATCH)
    stack.psql("DELETE FROM chain_lanes WHERE lane = 2", db=SCRATCH)
    r = stack.tipzedctl("verify-chain", conninfo=scratch)
    assert r.returncode == 1 and re.search(rf"^broken\t{ids[2]}\tlanes:3\tits lane 2 has no head$",
                                           r.stdout, re.M), r.stdout


def test_concurrent_credits_keep_every_lane_whole(api, stack, new_client):
    """Concurrent tips and webhook credits through the API: every entry of
    one payment is in one lane, receipts verify, each lane's head names its
    last entry, the chain verifies and reconciliation is clean."""
    tag = uuid.uuid4().hex[:6]
    creators = [register(new_client(), role="creator", full_name=f"L{i} {tag}") for i in range(4)]
    fans = [register(new_client(), role="fan", full_name=f"G{i} {tag}") for i in range(4)]
    for f in fans:
        fund(stack, f["user"]["id"], 100000)
    pending = [initiate(api, fans[i % 4], creators[i % 4]["user"]["id"]).json for i in range(8)]
    results = []

    def one(i):
        if i < 8:
            approve(api, pending[i])
            results.append(pending[i]["id"])
        else:
            r = tip(new_client(), fans[i % 4], creators[(i // 4) % 4]["user"]["id"], 1000)
            assert r.status == 201, r
            results.append(r.json["id"])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 24
    ids = ",".join(f"'{p}'" for p in results)
    per_payment = stack.psql(f"SELECT payment_id, count(DISTINCT lane) FROM journal_entries"
                             f" WHERE payment_id IN ({ids}) GROUP BY payment_id")
    assert len(per_payment) == 24 and all(n == "1" for _, n in per_payment), per_payment
    heads = stack.psql("SELECT lane, entry_id FROM chain_lanes WHERE entry_id IS NOT NULL ORDER BY lane")
    assert heads == stack.psql("SELECT DISTINCT ON (lane) lane, id FROM journal_entries"
                               " ORDER BY lane, id DESC")
    for p in results[:4] + results[-4:]:
        h = entry_hash(stack, f"payment:{p}:credit")
        assert api.get(f"/receipts/{h}").json["verified"] is True
    r = stack.tipzedctl("verify-chain")
    assert r.returncode == 0 and re.search(r"^chain: ok, \d+ entries$", r.stdout, re.M), r.stdout
    assert stack.psql("SELECT * FROM tz_reconcile_ledger()") == []
