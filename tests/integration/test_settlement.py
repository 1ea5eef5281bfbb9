"""Settlement reconciliation: Stripe payments and a refund made through
the local stand-in, the stand-in's own balance export (the Dashboard's
balance transactions CSV) edited to miss a payment, carry a payout line
unknown to us and a fee other than the terms, then imported with
`tipzedctl settlement import`: each finding by id, the same file twice,
a corrected re-export, a malformed file, and the admin report."""
import csv
import io
import urllib.request
import uuid

import pytest

from test_providers import initiate, stripe_deliver
from test_refunds_disputes import refund
from tzclient import assert_problem, register


@pytest.fixture
def pair(new_client):
    return register(new_client(), role="creator", full_name="Mutale"), register(new_client())


def stripe_paid(api, stack, stripe, fan, creator, amount):
    """A Stripe payment paid at the stand-in (its session completed) and
    credited through checkout.session.completed."""
    p = initiate(api, fan, creator, "stripe", amount=amount).json
    sid, pi = stripe.session_for(p["id"]), f"pi_{uuid.uuid4().hex[:14]}"
    session = stripe.complete_session(sid, pi)
    evt = {"id": f"evt_{uuid.uuid4().hex}", "type": "checkout.session.completed",
           "data": {"object": {k: session[k] for k in ("id", "object", "client_reference_id",
                                                        "metadata", "amount_total", "currency",
                                                        "payment_status", "payment_intent")}}}
    assert stripe_deliver(api, stack, evt).status == 200
    return p


def export(stripe, since):
    """The stand-in's balance export since a Unix time: (header, rows)."""
    req = urllib.request.Request(f"{stripe.base_url}/v1/reporting/balance_history.csv"
                                 f"?created_gte={since}",
                                 headers={"Authorization": f"Bearer {stripe.secret}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.headers["Content-Type"] == "text/csv"
        text = r.read().decode()
    reader = csv.DictReader(io.StringIO(text))
    return reader.fieldnames, list(reader)


def write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, lineterminator="\r\n")
        w.writeheader()
        w.writerows(rows)
    return str(path)


def settle(stack, *args):
    """tipzedctl settlement ...: (exit status, summary JSON line or None, findings)."""
    r = stack.tipzedctl("settlement", *args)
    lines = r.stdout.splitlines()
    summary = lines[0] if lines and lines[0].startswith("{") else None
    findings = {tuple(x.split("\t")[:2]) for x in lines if x.count("\t") == 2}
    return r.returncode, summary, findings, r


def of_ids(findings, ids):
    return {f for f in findings if f[1] in ids}


def test_stripe_settlement_report_by_id(api, stack, stripe, pair, admin, tmp_path):
    creator, fan = pair
    since = int(__import__("time").time()) - 1
    p1 = stripe_paid(api, stack, stripe, fan, creator, 2500)
    p2 = stripe_paid(api, stack, stripe, fan, creator, 1001)
    p3 = stripe_paid(api, stack, stripe, fan, creator, 4000)
    r = refund(api, admin, p3["id"], amount=1000)
    assert r.status == 200 and r.json["status"] == "partially_refunded", r
    rid = r.json["refund"]["id"]

    header, rows = export(stripe, since)
    mine = {x["payment_id (metadata)"]: x for x in rows if x["Type"] == "charge"}
    assert {p1["id"], p2["id"], p3["id"]} <= set(mine)
    assert mine[p1["id"]]["Amount"] == "25.00" and mine[p1["id"]]["Fee"] == "1.03"
    refund_row = next(x for x in rows if x["refund_id (metadata)"] == rid)
    assert refund_row["Amount"] == "-10.00"
    rows = [x for x in rows if x["payment_id (metadata)"] in (p1["id"], p2["id"], p3["id"])]
    ours = {x["id"] for x in rows}
    # the edits: p2 never paid out, p1 charged another fee, a charge not ours
    rows = [x for x in rows if x is not mine[p2["id"]]]
    mine[p1["id"]]["Fee"], mine[p1["id"]]["Net"] = "1.50", "23.50"
    unknown = dict(mine[p3["id"]], id=f"txn_{uuid.uuid4().hex[:24]}", Source="ch_not_ours",
                   Amount="12.00", Fee="0.65", Net="11.35", **{"payment_id (metadata)": ""})
    rows.append(unknown)
    path = write(tmp_path / "balance.csv", header, rows)

    rc, summary, found, out = settle(stack, "import", "--days", "0", "--fee", "2.9%+30",
                                     "stripe", path)
    assert rc == 1, out
    assert '"already_imported" : false' in summary or '"already_imported": false' in summary, out
    p1_line, p3_lines = mine[p1["id"]]["id"], {mine[p3["id"]]["id"], refund_row["id"]}
    assert ("settlement_fee", p1_line) in found
    assert ("settlement_unknown", unknown["id"]) in found
    assert ("settlement_unsettled", p2["id"]) in found
    # everything else of ours settles: nothing about p1 but its fee, nothing about p3
    assert of_ids(found, {p1["id"], p3["id"]} | p3_lines) == set()
    assert of_ids(found, {p1_line}) == {("settlement_fee", p1_line)}

    # the same file again: nothing changes, the same report
    rc2, summary2, found2, out2 = settle(stack, "import", "--days", "0", "--fee", "2.9%+30",
                                         "stripe", path)
    assert rc2 == 1 and found2 == found, out2
    assert "true" in summary2.split("already_imported")[1][:10], out2
    assert summary2.split(",")[0] == summary.split(",")[0]  # the same import id

    # a corrected re-export changing one line: the first version is kept,
    # the change reported as a conflict by the line's id
    changed = [dict(x, Amount="-12.00", Net="-12.00") if x["id"] == refund_row["id"] else x
               for x in rows]
    rc3, _, found3, out3 = settle(stack, "import", "--days", "0", "stripe",
                                  write(tmp_path / "corrected.csv", header, changed))
    assert rc3 == 1, out3
    assert found3 - found == {("settlement_conflict", refund_row["id"])}, out3

    # a malformed file imports nothing
    bad = tmp_path / "bad.csv"
    bad.write_text("id,Type,Amount,Fee,Currency\r\ntxn_x,charge,\"12.00,0,zmw\r\n")
    r = stack.tipzedctl("settlement", "import", "stripe", str(bad))
    assert r.returncode == 2 and "nothing was imported" in r.stderr, r
    assert "line 2: a quoted field is never closed" in r.stderr

    # the admin report: a settlement section with the same findings by id
    rep = api.get("/admin/reconciliation", token=admin["access_token"])
    assert rep.status == 200, rep
    s = rep.json["settlement"]
    assert s["ok"] is False
    checks = {c["name"]: {m["id"] for m in c["mismatches"]} for c in s["checks"]}
    assert p1_line in checks["settlement_fee"] and unknown["id"] in checks["settlement_unknown"]
    assert p2["id"] in checks["settlement_unsettled"]
    assert refund_row["id"] in checks["settlement_conflict"]
    assert all(c["ok"] == (not c["mismatches"]) for c in s["checks"])
    latest = s["imports"][0]
    assert latest["provider"] == "stripe" and latest["lines"] == len(rows)
    assert latest["new"] == 0 and latest["conflicting"] == 1
    assert [i["file_name"] for i in s["imports"][:2]] == [str(tmp_path / "corrected.csv"), path]
    assert_problem(api.get("/admin/reconciliation", token=fan["access_token"]), 403)
    assert_problem(api.get("/admin/reconciliation", token=creator["access_token"]), 403)


def test_settlement_import_usage(stack, tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("line_id,type,reference,payment_id,refund_id,amount,fee,currency,created_at\r\n")
    for args in (["import", "momo", str(f)], ["import", "--days", "-1", "stripe", str(f)],
                 ["import", "--fee", "2.999%", "stripe", str(f)], ["import", "stripe"],
                 ["export"]):
        r = stack.tipzedctl("settlement", *args)
        assert r.returncode == 2 and "usage:" in r.stderr, (args, r)
    r = stack.tipzedctl("settlement", "import", "stripe", str(tmp_path / "missing.csv"))
    assert r.returncode == 2 and "cannot read" in r.stderr
    r = stack.tipzedctl("settlement", "import", "mobile_money", str(f))  # a header, no lines
    assert r.returncode in (0, 1) and '"lines"' in r.stdout, r


def test_gateway_settlement_lines_matched_by_reference(api, stack, gateway, pair, admin,
                                                       tmp_path):
    """The generic gateway's CSV (docs/settlement.md), in integer minor units:
    lines matched by our payment id, by the gateway's transaction id, by its
    refund id; an amount other than ours and a dispute unknown to us are
    reported by line id, a payout line never is."""
    import time
    from test_payments import mm_webhook
    creator, fan = pair
    paid = []
    for amount in (2500, 3000):
        p = initiate(api, fan, creator, "mobile_money", amount=amount).json
        tx = f"mm-{uuid.uuid4().hex[:12]}"
        assert mm_webhook(api, stack, {"payment_id": p["id"], "status": "success",
                                       "timestamp": int(time.time()), "amount": amount,
                                       "currency": "ZMW",
                                       "provider_transaction_id": tx}).status == 200
        paid.append((p, tx))
    (p1, tx1), (p2, tx2) = paid
    r = refund(api, admin, p1["id"], amount=500)
    assert r.status == 200 and r.json["status"] == "partially_refunded", r
    gw_refund = next(x for x in gateway.refunds if x.get("refund_id") == r.json["refund"]["id"])
    n = uuid.uuid4().hex[:8]
    ids = [f"S-{n}-{i}" for i in range(1, 6)]
    path = tmp_path / "gateway.csv"
    path.write_text(
        "line_id,type,reference,payment_id,refund_id,amount,fee,currency,created_at\r\n"
        f"{ids[0]},payment,{tx1},{p1['id']},,2500,50,ZMW,{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\r\n"
        f"{ids[1]},payment,{tx2},,,2900,58,ZMW,\r\n"
        f"{ids[2]},refund,{gw_refund['answer']['provider_refund_id']},,,-500,0,ZMW,\r\n"
        f"{ids[3]},dispute,gw-d-{n},,,-700,0,ZMW,\r\n"
        f"{ids[4]},payout,,,,-4242,0,ZMW,\r\n")
    rc, summary, found, out = settle(stack, "import", "--days", "0", "mobile_money", str(path))
    assert rc == 1 and '"new"' in summary, out
    assert of_ids(found, set(ids)) == {("settlement_amount", ids[1]),
                                       ("settlement_unknown", ids[3])}, out
    assert of_ids(found, {p1["id"], p2["id"]}) == set(), out
