"""Lists: keyset pagination by starting_after beside limit/offset, and CSV
exports of the whole filtered list, streamed (docs/pagination.md)."""
import csv
import io
import time
import uuid

import pytest

from tzclient import assert_problem, ensure_verified, register


def fund_lines(stack, user_id, count, unit=1, currency="ZMW"):
    """count wallet lines of 1..count times unit minor units, posted in one
    statement through the ledger's own function (balanced entries)."""
    stack.psql(f"SELECT tz_post_entry('test:' || gen_random_uuid(), 'adjustment', NULL, NULL,"
               f" '{currency}', ARRAY[tz_account('adjustments', NULL, NULL, '{currency}'),"
               f" tz_account('wallet', '{user_id}', NULL, '{currency}')], ARRAY[-i * {unit}, i * {unit}]::bigint[])"
               f" FROM generate_series(1, {count}) i")


def get(api, user, path):
    r = api.get(path, token=user["access_token"])
    assert r.status == 200, r
    return r.json


def walk_keyset(api, user, path, limit):
    """Every page of path by starting_after: the pages, as lists of items."""
    sep = "&" if "?" in path else "?"
    pages, after = [], None
    while True:
        q = f"{path}{sep}limit={limit}" + (f"&starting_after={after}" if after else "")
        page = get(api, user, q)
        pages.append(page["data"])
        after = page["next_starting_after"]
        if not page["has_more"]:
            assert after is None
            return pages
        assert after == page["data"][-1]["id"]
        assert len(pages) < 100


def walk_offset(api, user, path, limit):
    sep = "&" if "?" in path else "?"
    items, offset = [], 0
    while True:
        page = get(api, user, f"{path}{sep}limit={limit}&offset={offset}")
        items += page["data"]
        if not page["has_more"]:
            return items
        offset += limit


def assert_walks_agree(api, user, path, limit, expected_count):
    pages = walk_keyset(api, user, path, limit)
    ids = [x["id"] for p in pages for x in p]
    assert len(ids) == expected_count and len(set(ids)) == expected_count  # complete, disjoint
    assert all(len(p) == limit for p in pages[:-1])
    assert ids == [x["id"] for x in walk_offset(api, user, path, limit)]  # the same order
    return ids


def export(api, user, path):
    sep = "&" if "?" in path else "?"
    r = api.get(f"{path}{sep}format=csv", token=user["access_token"])
    assert r.status == 200, r
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    return r, list(csv.DictReader(io.StringIO(r.body.decode("utf-8"), newline="")))


def test_wallet_lines_walk_by_cursor_as_by_offset(api, stack):
    fan = register(api)
    fund_lines(stack, fan["user"]["id"], 23)
    ids = assert_walks_agree(api, fan, "/wallets/me/transactions", 5, 23)
    amounts = [x["amount"] for x in get(api, fan, "/wallets/me/transactions?limit=100")["data"]]
    assert amounts == list(range(23, 0, -1))  # newest first
    page = get(api, fan, f"/wallets/me/transactions?limit=3&starting_after={ids[9]}")
    assert [x["id"] for x in page["data"]] == ids[10:13]
    assert page["next_starting_after"] == ids[12]
    last = get(api, fan, f"/wallets/me/transactions?starting_after={ids[-1]}")
    assert (last["data"], last["has_more"], last["next_starting_after"]) == ([], False, None)


def test_transfers_and_admin_lists_walk(api, stack, admin):
    fan = register(api)
    creator = register(api, role="creator")
    fund_lines(stack, fan["user"]["id"], 1, unit=10000)
    for i in range(7):
        r = api.post("/wallets/me/transfers", token=fan["access_token"],
                     json={"recipient_id": creator["user"]["id"], "amount": 1 + i},
                     headers={"X-Idempotency-Key": uuid.uuid4().hex})
        assert r.status == 201, r
    for who in (fan, creator):
        assert_walks_agree(api, who, "/wallets/me/transfers", 3, 7)
    # admin-wide lists: a walk of the first pages agrees with offsets too
    for path in ("/admin/audit-log", "/admin/wallets", "/admin/transactions"):
        total = len(walk_offset(api, admin, path, 100))
        if total:
            assert_walks_agree(api, admin, path, 4 if total < 40 else 50, total)


def test_audit_log_cursor_is_an_integer(api, admin):
    page = get(api, admin, "/admin/audit-log?limit=1")
    assert page["data"], "the admin's login is audited"
    first = page["data"][0]["id"]
    assert isinstance(first, int)
    assert_problem(api.get("/admin/audit-log?starting_after=abc", token=admin["access_token"]),
                   422, field="starting_after")
    assert_problem(api.get(f"/admin/audit-log?starting_after={uuid.uuid4()}",
                           token=admin["access_token"]), 422, field="starting_after")
    assert_problem(api.get("/admin/audit-log?starting_after=999999999999999",
                           token=admin["access_token"]), 422, field="starting_after")


def test_bad_cursors_and_formats_are_422(api, stack):
    fan = register(api)
    other = register(api)
    fund_lines(stack, fan["user"]["id"], 2)
    fund_lines(stack, other["user"]["id"], 2)
    theirs = get(api, other, "/wallets/me/transactions")["data"][0]["id"]
    mine = get(api, fan, "/wallets/me/transactions")["data"][0]["id"]
    t = fan["access_token"]
    for query, field in ((f"starting_after={theirs}", "starting_after"),  # another user's line
                         (f"starting_after={uuid.uuid4()}", "starting_after"),  # unknown
                         ("starting_after=not-an-id", "starting_after"),
                         ("starting_after=", "starting_after"),
                         (f"starting_after={mine}&offset=0", "offset"),
                         (f"starting_after={mine}&offset=5", "offset"),
                         ("format=xml", "format"), ("format=", "format"),
                         ("limit=0", "limit"), ("limit=101", "limit")):
        p = assert_problem(api.get(f"/wallets/me/transactions?{query}", token=t), 422,
                           field=field)
        assert p["errors"][0]["field"] == field, (query, p)
    p = assert_problem(api.get(f"/wallets/me/transactions?starting_after={theirs}", token=t), 422)
    assert p["errors"][0]["message"] == "is not found in this list"


def test_foreign_cursor_in_payments_and_transfers(api, stack, admin):
    fan = register(api)
    a = register(api, role="creator")
    fund_lines(stack, fan["user"]["id"], 1, unit=100)
    r = api.post("/wallets/me/transfers", token=fan["access_token"],
                 json={"recipient_id": a["user"]["id"], "amount": 1},
                 headers={"X-Idempotency-Key": uuid.uuid4().hex})
    assert r.status == 201, r
    outsider = register(api)
    assert_problem(api.get(f"/wallets/me/transfers?starting_after={r.json['id']}",
                           token=outsider["access_token"]), 422, field="starting_after")
    # a transfer's id is no payment of the caller's
    assert_problem(api.get(f"/payments?starting_after={r.json['id']}",
                           token=fan["access_token"]), 422, field="starting_after")
    # the admin's list of payouts knows no such payout either
    assert_problem(api.get(f"/admin/payouts?starting_after={r.json['id']}",
                           token=admin["access_token"]), 422, field="starting_after")


def test_csv_export_is_the_whole_list_across_internal_pages(api, stack):
    fan = register(api)
    fund_lines(stack, fan["user"]["id"], 1203)  # more than one internal page of 500
    r, rows = export(api, fan, "/wallets/me/transactions?limit=5&offset=3")
    assert r.headers["content-disposition"].startswith(
        'attachment; filename="wallet-transactions-')
    assert r.headers["content-disposition"].endswith('.csv"')
    assert "content-length" not in r.headers  # streamed
    assert r.body.startswith(b"id,created_at,type,account,amount,balance_after,")
    assert r.body.endswith(b"\r\n")
    assert len(rows) == 1203  # limit and offset do not apply to an export
    assert [int(x["amount"]) for x in rows] == list(range(1203, 0, -1))
    assert len({x["id"] for x in rows}) == 1203
    json_first = get(api, fan, "/wallets/me/transactions?limit=100")["data"]
    for row, item in zip(rows, json_first):
        assert (row["id"], row["type"], int(row["balance_after"]), row["created_at"]) == (
            item["id"], item["type"], item["balance_after"], item["created_at"])


def test_csv_export_filters_and_formula_guard(api, stack, admin):
    fan = register(api)
    prefix = f"csv-{uuid.uuid4().hex[:8]}"
    creators = [register(api, role="creator", email=f"{prefix}-{i}@example.com")
                for i in range(3)]
    fund_lines(stack, fan["user"]["id"], 1, unit=100)
    for c in creators:
        r = api.post("/wallets/me/transfers", token=fan["access_token"],
                     json={"recipient_id": c["user"]["id"], "amount": 1,
                           "note": "=HYPERLINK(\"http://evil.example\")"},
                     headers={"X-Idempotency-Key": uuid.uuid4().hex})
        assert r.status == 201, r
    _, rows = export(api, fan, "/wallets/me/transfers")
    assert len(rows) == 3
    assert all(x["note"] == "'=HYPERLINK(\"http://evil.example\")" for x in rows)
    assert [x["id"] for x in rows] == [x["id"] for x in get(api, fan, "/wallets/me/transfers")["data"]]
    # admin wallets: the email prefix, role and currency filters apply to the export
    r, rows = export(api, admin, f"/admin/wallets?q={prefix.upper()}&role=creator&currency=ZMW")
    assert 'filename="wallets-' in r.headers["content-disposition"]
    assert sorted(x["owner_id"] for x in rows) == sorted(c["user"]["id"] for c in creators)
    assert all(x["role"] == "creator" and x["kind"] == "wallet" and x["balance"] == "1"
               for x in rows)
    page = get(api, admin, f"/admin/wallets?q={prefix}&limit=2")
    assert len(page["data"]) == 2 and page["has_more"]
    rest = get(api, admin, f"/admin/wallets?q={prefix}&starting_after={page['next_starting_after']}")
    assert len(rest["data"]) == 1 and not rest["has_more"]
    assert get(api, admin, f"/admin/wallets?q={prefix}&role=fan")["data"] == []
    assert get(api, admin, "/admin/wallets?q=%25")["data"] == []  # % is no wildcard
    # an empty export is still a header line
    r, rows = export(api, admin, "/admin/wallets?q=nobody-has-this-prefix")
    assert rows == [] and r.body == b"id,owner_id,email,role,kind,currency,balance,created_at,frozen\r\n"


def test_admin_wallets_access_and_validation(api, admin):
    fan = register(api)
    assert_problem(api.get("/admin/wallets", token=fan["access_token"]), 403)
    t = admin["access_token"]
    assert_problem(api.get("/admin/wallets?role=owner", token=t), 422, field="role")
    assert_problem(api.get("/admin/wallets?currency=XXX", token=t), 422, field="currency")
    assert_problem(api.get("/admin/wallets?q=", token=t), 422, field="q")
    assert_problem(api.get(f"/admin/wallets?starting_after={uuid.uuid4()}", token=t), 422,
                   field="starting_after")


def test_review_queue_is_a_list(api, admin):
    page = get(api, admin, "/admin/transactions?status=review")
    assert all(x["status"] == "review" for x in page["data"])
    assert "next_starting_after" in page
    r, _ = export(api, admin, "/admin/transactions?status=review")
    assert r.body.startswith(b"id,created_at,status,purpose,")


def test_webhook_deliveries_list(api, stack, admin):
    fan = register(api)
    creator = register(api, role="creator")
    other = register(api, role="creator")
    assert_problem(api.get("/webhook-deliveries", token=fan["access_token"]), 403)
    eps = []
    for who in (creator, other):
        ensure_verified(api, who)
        r = api.post("/webhook-endpoints", token=who["access_token"],
                     json={"url": "http://127.0.0.1:9/hook", "events": ["wallet.credited"]})
        assert r.status == 201, r
        eps.append(r.json["id"])
        fund_lines(stack, who["user"]["id"], 3)
    deadline = time.time() + 30
    while time.time() < deadline:  # the dispatcher fans the events out to deliveries
        mine = get(api, creator, "/webhook-deliveries")["data"]
        theirs = get(api, admin, f"/webhook-deliveries?endpoint_id={eps[1]}")["data"]
        if len(mine) == 3 and len(theirs) == 3:
            break
        time.sleep(0.5)
    assert len(mine) == 3 and {d["endpoint_id"] for d in mine} == {eps[0]}
    assert all(d["event_type"] == "wallet.credited" for d in mine)
    assert [d["id"] for d in mine] == [
        d["id"] for d in get(api, creator, f"/webhook-endpoints/{eps[0]}/deliveries")["data"]]
    assert_walks_agree(api, creator, "/webhook-deliveries", 2, 3)
    assert_walks_agree(api, creator, f"/webhook-endpoints/{eps[0]}/deliveries", 2, 3)
    # another creator's delivery is not in this creator's list
    assert len(theirs) == 3 and {d["endpoint_id"] for d in theirs} == {eps[1]}
    assert_problem(api.get(f"/webhook-deliveries?starting_after={theirs[0]['id']}",
                           token=creator["access_token"]), 422, field="starting_after")
    assert_problem(api.get(f"/webhook-endpoints/{eps[0]}/deliveries?starting_after="
                           f"{theirs[0]['id']}", token=admin["access_token"]), 422,
                   field="starting_after")
    assert get(api, creator, f"/webhook-deliveries?endpoint_id={eps[1]}")["data"] == []
    assert get(api, admin, f"/webhook-deliveries?endpoint_id={eps[1]}&event_type=payout.paid"
               )["data"] == []
    t = admin["access_token"]
    assert_problem(api.get("/webhook-deliveries?status=lost", token=t), 422, field="status")
    assert_problem(api.get("/webhook-deliveries?endpoint_id=x", token=t), 422,
                   field="endpoint_id")
    assert_problem(api.get("/webhook-deliveries?event_type=A;B", token=t), 422,
                   field="event_type")
    r, rows = export(api, admin, f"/webhook-deliveries?endpoint_id={eps[1]}")
    assert 'filename="webhook-deliveries-' in r.headers["content-disposition"]
    assert [x["id"] for x in rows] == [d["id"] for d in theirs]
    assert rows[0]["event_type"] == "wallet.credited"


@pytest.mark.parametrize("path", ["/payments", "/payouts/me", "/bill-payments", "/subscriptions",
                                  "/schedules", "/invoices", "/webhook-endpoints",
                                  "/wallets/me/transfers"])
def test_every_list_takes_the_cursor_and_csv(api, path):
    creator = register(api, role="creator")
    t = creator["access_token"]
    page = get(api, creator, path)
    assert page["next_starting_after"] is None
    assert_problem(api.get(f"{path}?starting_after={uuid.uuid4()}", token=t), 422,
                   field="starting_after")
    assert_problem(api.get(f"{path}?format=pdf", token=t), 422, field="format")
    r = api.get(f"{path}?format=csv", token=t)
    assert r.status == 200 and r.headers["content-type"] == "text/csv; charset=utf-8", r
    assert r.headers["content-disposition"].startswith("attachment; filename=")
