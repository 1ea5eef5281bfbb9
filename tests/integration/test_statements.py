"""GET /wallets/me/statement (JSON and CSV) and GET /wallets/me/balance?at=:
balances at instants read from the postings, exact against the ledger.

The balance at T is the main (or cashback) balance after every posting
stamped at or before T; a statement from F to T has the balance at F as
its opening, the postings after F up to T as its lines (oldest first), and
the balance at T as its closing.  Instants in the API are whole seconds and
postings are stamped to the microsecond, so the tests leave more than a
second between the movements they tell apart."""
import csv
import datetime
import io
import time

import pytest

from test_wallet_payments import fund, tip
from tzclient import Client, assert_problem, next_source_ip, register


def ts(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def parse(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def statement(api, user, frm, to, **params):
    q = "&".join(f"{k}={v}" for k, v in {"from": frm, "to": to, **params}.items())
    return api.get(f"/wallets/me/statement?{q}", token=user["access_token"])


def balance_at(api, user, at, **params):
    q = "&".join(f"{k}={v}" for k, v in {"at": at, **params}.items())
    return api.get(f"/wallets/me/balance?{q}", token=user["access_token"])


def ledger_lines(stack, user_id):
    """(uid, amount, balance_after) of the user's main balance, in ledger order."""
    return [(u, int(a), int(b)) for u, a, b in stack.psql(
        "SELECT p.uid, p.amount, p.balance_after FROM postings p JOIN accounts a ON a.id = p.account_id"
        f" WHERE a.kind = 'wallet' AND a.owner_id = '{user_id}' ORDER BY p.id")]


@pytest.fixture(scope="module")
def one_user(stack):
    """A user for the tests that only read (and 422s)."""
    return register(Client(stack.api_url, source_ip=next_source_ip()))


@pytest.fixture(scope="module")
def history(stack):
    """A fan funded with 10000, then (more than a second later) tipping 1000
    from its wallet, then (again) 500; the creator it tips."""
    api = Client(stack.api_url, source_ip=next_source_ip())
    fan = register(api, full_name="Statement Fan")
    creator = register(api, role="creator", full_name="Statement Creator")
    start = now() - datetime.timedelta(seconds=2)
    fund(stack, fan["user"]["id"], 10000)
    time.sleep(1.2)
    assert tip(api, fan, creator["user"]["id"], 1000).status == 201
    time.sleep(1.2)
    assert tip(api, fan, creator["user"]["id"], 500).status == 201
    return fan, creator, start


def test_a_statement_reconciles_with_the_ledger_and_the_balances(api, stack, history):
    fan, creator, start = history
    end = now() + datetime.timedelta(seconds=5)
    r = statement(api, fan, ts(start), ts(end))
    assert r.status == 200 and r.headers["Content-Type"].startswith("application/json"), r
    s = r.json
    assert s["opening_balance"] == 0 and s["currency"] == "ZMW" and s["account"] == "main"
    assert (s["from"], s["to"]) == (ts(start), ts(end))
    amounts = [line["amount"] for line in s["lines"]]
    assert s["opening_balance"] + sum(amounts) == s["closing_balance"]
    assert s["lines_count"] == len(s["lines"]) == 3
    assert s["total_in"] == sum(a for a in amounts if a > 0) == 10000
    assert s["total_out"] == -sum(a for a in amounts if a < 0)
    # line by line the ledger's own postings, oldest first, each balance a running sum
    assert [(x["id"], x["amount"], x["balance_after"]) for x in s["lines"]] == \
        ledger_lines(stack, fan["user"]["id"])
    assert [x["type"] for x in s["lines"]] == ["adjustment", "tip_sent", "tip_sent"]
    # each line field for field as the wallet's transactions show it
    txs = api.get("/wallets/me/transactions", token=fan["access_token"]).json["data"]
    assert s["lines"] == [x for x in reversed(txs) if x["account"] == "main"]
    assert [(x["status"], x["gross"]) for x in s["lines"]] == \
        [(None, None), ("succeeded", 1000), ("succeeded", 500)]
    assert s["lines"][1]["payment_id"] and s["lines"][1]["fee"] is not None
    run = s["opening_balance"]
    for line in s["lines"]:
        run += line["amount"]
        assert line["balance_after"] == run
    # the closing balance is the balance at `to`, and the balance now is GET /wallets/me's
    at_end = balance_at(api, fan, ts(end)).json
    assert at_end == {"currency": "ZMW", "at": ts(end), "balance": s["closing_balance"],
                      "cashback_balance": at_end["cashback_balance"]}
    w = api.get("/wallets/me", token=fan["access_token"]).json
    assert (w["balance"], w["cashback_balance"]) == (at_end["balance"], at_end["cashback_balance"])
    assert at_end["cashback_balance"] > 0  # the first tip earned cashback


def test_balances_across_a_postings_instant(api, history):
    fan, creator, start = history
    lines = statement(api, fan, ts(start), ts(now() + datetime.timedelta(seconds=5))).json["lines"]
    fund_line, tip1, tip2 = lines
    t1 = parse(tip1["created_at"])  # the second the tip was posted in, rounded down
    assert balance_at(api, fan, ts(start)).json["balance"] == 0
    # the posting is not yet there at the start of its second, and is one second later
    assert balance_at(api, fan, ts(t1)).json["balance"] == fund_line["balance_after"]
    assert balance_at(api, fan, ts(t1 + datetime.timedelta(seconds=1))).json["balance"] == \
        tip1["balance_after"]
    # a statement of that one second holds that one line
    s = statement(api, fan, ts(t1), ts(t1 + datetime.timedelta(seconds=1))).json
    assert s["opening_balance"] == fund_line["balance_after"]
    assert [x["id"] for x in s["lines"]] == [tip1["id"]]
    assert s["closing_balance"] == tip1["balance_after"]
    # an empty range: opening = closing, no lines
    before = statement(api, fan, ts(start - datetime.timedelta(days=30)), ts(start)).json
    assert before["lines"] == [] and before["opening_balance"] == before["closing_balance"] == 0
    # an offset is read as the instant it names
    off = balance_at(api, fan, "2026-01-01T02:00:00%2B02:00").json
    assert off["at"] == "2026-01-01T00:00:00Z"
    # a date means its midnight UTC
    day = balance_at(api, fan, now().date().isoformat()).json
    assert day["at"] == f"{now().date()}T00:00:00Z" and day["balance"] == 0


def test_the_csv_statement(api, history):
    fan, creator, start = history
    end = now() + datetime.timedelta(seconds=5)
    r = statement(api, fan, ts(start), ts(end), format="csv")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/csv"), r
    assert r.headers["Content-Disposition"] == \
        f'attachment; filename="statement-ZMW-{start.date()}-{end.date()}.csv"'
    rows = list(csv.DictReader(io.StringIO(r.body.decode())))
    js = statement(api, fan, ts(start), ts(end)).json
    assert rows[0]["type"] == "opening_balance" and rows[0]["created_at"] == ts(start)
    assert int(rows[0]["balance_after"]) == js["opening_balance"] and rows[0]["amount"] == ""
    assert rows[-1]["type"] == "closing_balance" and rows[-1]["created_at"] == ts(end)
    assert int(rows[-1]["balance_after"]) == js["closing_balance"]
    body = rows[1:-1]
    assert [x["id"] for x in body] == [x["id"] for x in js["lines"]]
    assert int(rows[0]["balance_after"]) + sum(int(x["amount"]) for x in body) == \
        int(rows[-1]["balance_after"])


def test_a_long_statement_streams_in_pages(api, stack, new_client):
    """1,200 postings (more than two of the pages the module reads at a
    time) come out whole, in order, summing to the closing balance."""
    fan = register(new_client())
    start = now() - datetime.timedelta(seconds=2)
    stack.psql("SELECT count(tz_post_entry('test:' || gen_random_uuid(), 'adjustment', NULL, NULL,"
               " 'ZMW', ARRAY[tz_account('adjustments', NULL, NULL, 'ZMW'),"
               f" tz_account('wallet', '{fan['user']['id']}', NULL, 'ZMW')],"
               " ARRAY[-g, g]::bigint[])) FROM generate_series(1, 1200) g")
    end = now() + datetime.timedelta(seconds=5)
    s = statement(api, fan, ts(start), ts(end)).json
    assert [x["amount"] for x in s["lines"]] == list(range(1, 1201))
    assert s["closing_balance"] == sum(range(1, 1201)) == s["total_in"]
    assert len({x["id"] for x in s["lines"]}) == 1200 == s["lines_count"]
    rows = list(csv.DictReader(io.StringIO(statement(api, fan, ts(start), ts(end), format="csv")
                                           .body.decode())))
    assert len(rows) == 1202 and [int(x["amount"]) for x in rows[1:-1]] == list(range(1, 1201))


def test_nobody_sees_another_wallet(api, history, new_client):
    fan, creator, start = history
    end = ts(now() + datetime.timedelta(seconds=5))
    # the creator's statement holds its credits, not the fan's lines
    s = statement(api, creator, ts(start), end).json
    assert [x["type"] for x in s["lines"]] == ["payment", "payment"]
    assert s["closing_balance"] == 1000 - 150 + 500 - 75
    fan_ids = {x["id"] for x in statement(api, fan, ts(start), end).json["lines"]}
    assert not fan_ids & {x["id"] for x in s["lines"]}
    stranger = register(new_client())
    empty = statement(api, stranger, ts(start), end).json
    assert empty["lines"] == [] and empty["closing_balance"] == 0
    assert balance_at(api, stranger, end).json["balance"] == 0
    assert api.get(f"/wallets/me/statement?from={ts(start)}&to={end}").status == 401
    assert api.get(f"/wallets/me/balance?at={end}").status == 401


@pytest.mark.parametrize("params,field", [
    ({"to": "2026-01-02"}, "from"),
    ({"from": "2026-01-01"}, "to"),
    ({"from": "1%20Jan%202026", "to": "2026-01-02"}, "from"),
    ({"from": "2026-01-01", "to": "2026-01-01T24:00:00Z"}, "to"),
    ({"from": "2026-01-02", "to": "2026-01-01"}, "to"),
    ({"from": "2026-01-01T10:00:00Z", "to": "2026-01-01T10:00:00Z"}, "to"),
    ({"from": "2025-01-01", "to": "2026-01-03"}, "to"),
    ({"from": "2026-01-01", "to": "2026-01-02", "format": "xml"}, "format"),
    ({"from": "2026-01-01", "to": "2026-01-02", "format": "CSV"}, "format"),
    ({"from": "2026-01-01", "to": "2026-01-02", "currency": "usd"}, "currency"),
])
def test_bad_statements_are_422_naming_the_field(api, one_user, params, field):
    u = one_user
    q = "&".join(f"{k}={v}" for k, v in params.items())
    assert_problem(api.get(f"/wallets/me/statement?{q}", token=u["access_token"]), 422,
                   "validation_failed", field)


@pytest.mark.parametrize("q,field", [("", "at"), ("at=soon", "at"), ("at=2026-02-30", "at"),
                                     ("at=2026-01-01T00:00:00Z&currency=XYZ", "currency")])
def test_bad_balance_instants_are_422(api, one_user, q, field):
    u = one_user
    assert_problem(api.get(f"/wallets/me/balance?{q}", token=u["access_token"]), 422,
                   "validation_failed", field)
