"""Fan-verifiable receipts: the ledger's hash chain (docs/receipts.md).

A credited tip's entry has a hash that GET /receipts/{hash} finds and
verifies, showing what it credited to whom and never the payer; malformed
and unknown hashes are 404 problems; concurrent postings keep the chain
linear; `tipzedctl verify-chain` passes on the live ledger and names the
entry whose content or link was changed behind the ledger's back.

The stack is shared by every test: corruptions of its ledger happen inside
a transaction that is rolled back, and the tool's exit status on a broken
chain is checked on a scratch database."""
import hashlib
import json
import re
import threading
import time
import uuid

import pytest

from test_payments import initiate, post_delivery, sandbox_deliveries
from test_wallet_payments import fund, tip
from tzclient import assert_problem, register

SCRATCH = "tz_scratch_chain"
HEX64 = re.compile(r"[0-9a-f]{64}")


def entry_hash(stack, reference):
    rows = stack.psql(f"SELECT encode(hash, 'hex') FROM journal_entries WHERE reference = '{reference}'")
    assert len(rows) == 1, (reference, rows)
    return rows[0][0]


def hash_before(stack, h):
    """The hash of the entry before the one with hash h, in chain order (id
    order within its lane)."""
    rows = stack.psql(f"SELECT encode(j.hash, 'hex') FROM journal_entries j, journal_entries e"
                      f" WHERE e.hash = decode('{h}', 'hex') AND j.lane = e.lane AND j.id < e.id"
                      f" ORDER BY j.id DESC LIMIT 1")
    return rows[0][0] if rows else None


def approve(api, payment):
    d = sandbox_deliveries(api, payment["mobile_money_url"])
    assert post_delivery(api, d, "approve").json == {"status": "success"}


def verify_chain(stack, conninfo=None):
    r = stack.tipzedctl("verify-chain", conninfo=conninfo)
    return r.returncode, r.stdout + r.stderr


@pytest.fixture
def tipped(api, new_client, stack):
    """A fan's sandbox tip of 25.00 to a creator, credited: (fan, creator, payment)."""
    tag = uuid.uuid4().hex[:6]
    creator = register(new_client(), role="creator", full_name=f"Thandiwe Creator {tag}")
    fan = register(new_client(), role="fan", full_name=f"Mutale Fan {tag}")
    r = initiate(api, fan, creator["user"]["id"])
    assert r.status == 201, r
    approve(api, r.json)
    return fan, creator, r.json


def test_a_credited_tip_has_a_receipt_that_verifies(api, stack, tipped):
    fan, creator, p = tipped
    h = entry_hash(stack, f"payment:{p['id']}:credit")
    assert HEX64.fullmatch(h)
    r = api.get(f"/receipts/{h}")
    assert r.status == 200 and r.headers["Content-Type"].startswith("application/json"), r
    got = r.json
    assert got["hash"] == h and got["in_chain"] is True and got["verified"] is True, got
    assert got["previous_hash"] == hash_before(stack, h)
    e = got["entry"]
    assert (e["kind"], e["amount"], e["currency"]) == ("payment", 2125, "ZMW"), e
    assert e["recipient"] == creator["user"]["full_name"]
    assert e["recipients"] == [{"name": creator["user"]["full_name"], "amount": 2125}]
    posted = stack.psql(f"SELECT floor(extract(epoch FROM created_at))::bigint FROM journal_entries"
                        f" WHERE encode(hash, 'hex') = '{h}'")[0][0]
    assert e["time"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(posted)))
    # nothing names the payer, nor the payment that would lead to it
    body = r.text
    for secret in (fan["user"]["full_name"], fan["email"], fan["user"]["id"], p["id"],
                   fan["user"].get("referral_code", "-")):
        assert secret not in body, secret
    assert set(got) == {"hash", "in_chain", "entry", "previous_hash", "verified"}
    assert set(e) == {"kind", "amount", "currency", "time", "recipient", "recipients"}
    # the hash is read in either case; the answer spells it in lower case
    upper = api.get(f"/receipts/{h.upper()}")
    assert upper.status == 200 and upper.json == got
    # the fan's cashback (an entry of its own) credits only the payer: nobody is named
    cb = stack.psql(f"SELECT encode(hash, 'hex') FROM journal_entries"
                    f" WHERE reference = 'payment:{p['id']}:cashback'")
    if cb:
        c = api.get(f"/receipts/{cb[0][0]}").json
        assert c["verified"] and c["entry"]["recipients"] == [] and c["entry"]["amount"] == 0, c
        assert c["entry"]["recipient"] is None and fan["user"]["full_name"] not in str(c)


def documented_hash(stack, reference):
    """The entry's hash recomputed from its stored rows by the rule as
    docs/receipts.md states it (a reimplementation, not the code's)."""
    e = stack.psql(f"SELECT id, kind, coalesce(payment_id::text, '-'), coalesce(payout_id::text, '-'),"
                   f" to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
                   f" coalesce(encode(prev_hash, 'hex'), '') FROM journal_entries"
                   f" WHERE reference = '{reference}'")[0]
    legs = stack.psql(f"SELECT account_id, amount, currency FROM postings WHERE entry_id = {e[0]}"
                      f" ORDER BY id")
    text = (f"tipzed-entry-v1\nid {e[0]}\nreference {json.dumps(reference, ensure_ascii=False)}\n"
            f"kind {e[1]}\npayment {e[2]}\npayout {e[3]}\n"
            f"currency {','.join(sorted({c for _, _, c in legs}))}\ncreated_at {e[4]}\n"
            + "".join(f"posting {a} {m}\n" for a, m, _ in legs))
    return hashlib.sha256(text.encode() + bytes.fromhex(e[5])).hexdigest()


def test_the_hash_is_the_documented_rule(stack, tipped):
    _, _, p = tipped
    for suffix in ("credit", "cashback"):
        ref = f"payment:{p['id']}:{suffix}"
        assert documented_hash(stack, ref) == entry_hash(stack, ref), ref


def test_a_split_tip_names_each_creator_with_its_share(api, stack, new_client):
    tag = uuid.uuid4().hex[:6]
    a = register(new_client(), role="creator", full_name=f"Ana Split {tag}")
    b = register(new_client(), role="creator", full_name=f"Bupe Split {tag}")
    fan = register(new_client(), role="fan", full_name=f"Hidden Payer {tag}")
    r = initiate(api, fan, b["user"]["id"], splits=[
        {"creator_id": a["user"]["id"], "share_bps": 7000},
        {"creator_id": b["user"]["id"], "share_bps": 3000}])
    assert r.status == 201, r
    approve(api, r.json)
    got = api.get(f"/receipts/{entry_hash(stack, 'payment:' + r.json['id'] + ':credit')}").json
    assert got["verified"] is True, got
    e = got["entry"]
    # the split's order, each creator's share of the net; the creator of record is b
    assert e["recipients"] == [{"name": a["user"]["full_name"], "amount": 1488},
                               {"name": b["user"]["full_name"], "amount": 637}], e
    assert e["amount"] == 2125 and e["recipient"] == b["user"]["full_name"]
    assert fan["user"]["full_name"] not in str(got) and fan["user"]["id"] not in str(got)


def test_malformed_and_unknown_hashes_are_404(api):
    unknown = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    p = assert_problem(api.get(f"/receipts/{unknown}"), 404, "not_found")
    assert "hash" in p["detail"], p
    for bad in ("xyz", unknown[:63], unknown + "0", unknown[:63] + "g", str(uuid.uuid4()),
                "%20" + unknown[:61], unknown + "/more"):
        assert_problem(api.get(f"/receipts/{bad}"), 404, "not_found")
    r = api.post(f"/receipts/{unknown}", json={})
    assert_problem(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "GET"


def chain_shape(stack):
    """(entries, genesis entries, prev_hash naming no entry, prev_hash shared
    by several entries, entries whose prev_hash is not the hash of the entry
    before them by id in their lane, lanes with entries)."""
    return stack.psql("""
      SELECT count(*),
             count(*) FILTER (WHERE prev_hash IS NULL),
             count(*) FILTER (WHERE prev_hash IS NOT NULL
                              AND NOT EXISTS (SELECT 1 FROM journal_entries x WHERE x.hash = e.prev_hash)),
             (SELECT count(*) FROM (SELECT prev_hash FROM journal_entries WHERE prev_hash IS NOT NULL
                                     GROUP BY prev_hash HAVING count(*) > 1) f),
             (SELECT count(*) FROM (SELECT prev_hash IS DISTINCT FROM
                                             lag(hash) OVER (PARTITION BY lane ORDER BY id) AS off
                                      FROM journal_entries) o WHERE off),
             count(DISTINCT lane)
        FROM journal_entries e""")[0]


def test_the_chain_stays_linear_under_concurrent_postings(api, stack, new_client):
    tag = uuid.uuid4().hex[:6]
    creators = [register(new_client(), role="creator", full_name=f"C{i} {tag}") for i in range(4)]
    fans = [register(new_client(), role="fan", full_name=f"F{i} {tag}") for i in range(4)]
    for f in fans:
        fund(stack, f["user"]["id"], 100000)
    before = int(stack.psql("SELECT count(*) FROM journal_entries")[0][0])
    results = []

    def one(i):
        results.append(tip(new_client(), fans[i % 4], creators[(i // 4) % 4]["user"]["id"], 1000))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status for r in results] == [201] * 20, [r for r in results if r.status != 201]
    entries, genesis, dangling, forks, off, lanes = chain_shape(stack)
    # each tip posts its credit and its cashback; one chain per lane
    assert int(entries) >= before + 40
    assert (genesis, dangling, forks, off) == (lanes, "0", "0", "0")
    heads = stack.psql("SELECT lane, entry_id, encode(hash, 'hex') FROM chain_lanes"
                       " WHERE entry_id IS NOT NULL ORDER BY lane")
    assert heads == stack.psql("SELECT DISTINCT ON (lane) lane, id, encode(hash, 'hex')"
                               " FROM journal_entries ORDER BY lane, id DESC")
    rc, out = verify_chain(stack)
    assert rc == 0 and re.search(r"^chain: ok, \d+ entries$", out, re.M), out
    for r in results:
        h = entry_hash(stack, f"payment:{r.json['id']}:credit")
        assert api.get(f"/receipts/{h}").json["verified"] is True


def test_verify_chain_names_a_changed_entry_of_the_live_ledger(api, stack, tipped):
    """The tip's credit entry is changed, and the chain verified, in one
    transaction that is rolled back: the shared ledger stays whole."""
    _, _, p = tipped
    ref = f"payment:{p['id']}:credit"
    rc, out = verify_chain(stack)
    assert rc == 0 and re.search(r"^chain: ok, \d+ entries$", out, re.M), out
    entry = stack.psql(f"SELECT id FROM journal_entries WHERE reference = '{ref}'")[0][0]
    r = stack.psql_script(f"""
      \\pset format unaligned
      \\pset tuples_only on
      BEGIN;
      ALTER TABLE postings DISABLE TRIGGER postings_immutable;
      UPDATE postings SET amount = amount + 100
       WHERE id = (SELECT max(id) FROM postings WHERE entry_id = {entry});
      \\echo BROKEN
      SELECT entry_id || '|' || reference || '|' || problem FROM tz_verify_chain();
      ROLLBACK;
      \\echo WHOLE
      SELECT count(*) FROM tz_verify_chain();
    """)
    assert r.returncode == 0, r.stderr
    broken, whole = r.stdout.split("WHOLE")
    lines = [line.strip() for line in broken.split("BROKEN")[1].splitlines() if "|" in line]
    assert len(lines) == 1 and lines[0].startswith(f"{entry}|{ref}|its hash "), lines
    assert "is not the hash of its content" in lines[0]
    assert whole.split()[-1] == "0"
    # the receipt of the live entry still verifies, and so does the whole chain
    assert api.get(f"/receipts/{entry_hash(stack, ref)}").json["verified"] is True
    rc, out = verify_chain(stack)
    assert rc == 0, out


@pytest.fixture
def scratch(stack):
    conninfo = stack.scratch_db(SCRATCH)
    yield conninfo
    stack.drop_db(SCRATCH)


def sq(stack, sql):
    return stack.psql(sql, db=SCRATCH)


def test_verify_chain_exits_1_naming_the_first_broken_link(stack, scratch):
    sq(stack, "SELECT tz_account('adjustments', NULL, NULL, 'ZMW'),"
              " tz_account('platform_fees', NULL, NULL, 'ZMW')")
    # each in its own session, all in lane 0 (a session may name its lane)
    for n in range(1, 5):
        sq(stack, f"SET tipzed.lane = 0; SELECT tz_post_entry('scratch:{n}', 'adjustment', NULL, NULL, 'ZMW',"
                  f" ARRAY[tz_account('adjustments', NULL, NULL, 'ZMW'),"
                  f" tz_account('platform_fees', NULL, NULL, 'ZMW')], ARRAY[-{n}00, {n}00]::bigint[])")
    ids = [int(i) for i, in sq(stack, "SELECT id FROM journal_entries ORDER BY id")]
    rc, out = verify_chain(stack, scratch)
    assert rc == 0 and "chain: ok, 4 entries" in out, out

    def owner(sql):
        r = stack.psql_script(f"""
          ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_immutable;
          ALTER TABLE postings DISABLE TRIGGER postings_immutable;
          {sql};
          ALTER TABLE postings ENABLE TRIGGER postings_immutable;
          ALTER TABLE journal_entries ENABLE TRIGGER journal_entries_immutable;""", db=SCRATCH)
        assert r.returncode == 0, r.stderr

    # 1. an amount changed: that entry's own hash no longer recomputes
    owner(f"UPDATE postings SET amount = 999 WHERE entry_id = {ids[1]} AND amount = 200")
    rc, out = verify_chain(stack, scratch)
    assert rc == 1, out
    assert re.search(rf"^broken\t{ids[1]}\tscratch:2\tits hash [0-9a-f]{{64}} is not the hash of its"
                     rf" content and prev_hash \([0-9a-f]{{64}}\)$", out, re.M), out
    assert f"chain: broken at entry {ids[1]} (scratch:2): its hash" in out
    assert "1 broken link(s) in 4 entries" in out
    owner(f"UPDATE postings SET amount = 200 WHERE entry_id = {ids[1]} AND amount = 999")
    assert verify_chain(stack, scratch)[0] == 0

    # 2. a field of an entry changed and its hash rewritten to match: the
    #    next entry's link no longer holds
    owner(f"""UPDATE journal_entries e SET kind = 'refund',
                hash = tz_entry_hash(tz_entry_canonical(e.id, e.reference, 'refund', NULL, NULL, 'ZMW',
                                     e.created_at, ARRAY(SELECT account_id FROM postings
                                                         WHERE entry_id = e.id ORDER BY id),
                                     ARRAY(SELECT amount FROM postings
                                            WHERE entry_id = e.id ORDER BY id)), e.prev_hash)
              WHERE id = {ids[2]}""")
    rc, out = verify_chain(stack, scratch)
    assert rc == 1, out
    assert re.search(rf"^broken\t{ids[3]}\tscratch:4\tits prev_hash [0-9a-f]{{64}} is not the hash"
                     rf" [0-9a-f]{{64}} of the entry before it, {ids[2]}$", out, re.M), out
    assert f"chain: broken at entry {ids[3]} (scratch:4)" in out

    # 3. the last entry removed: the head names an entry that is gone
    owner(f"DELETE FROM postings WHERE entry_id = {ids[3]}; DELETE FROM journal_entries WHERE id = {ids[3]}")
    rc, out = verify_chain(stack, scratch)
    assert rc == 1 and f"the head of lane 0 names entry {ids[3]}" in out, out
