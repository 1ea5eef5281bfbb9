"""Invoices and credit notes: one per credited payment and per confirmed
refund, issued in the transaction that moves the money; gapless numbers
per issuer and year under concurrent payments and rolled-back ones; the
tax (TipzedTax) included in the price, or added to it (a second Apache
instance on the same database, configured exclusive); who may read them;
the tax rule in SQL against the cases the C rule answers.

The test stack runs TipzedTax VAT 16% inclusive, a fee of 15% and 1%
cashback."""
import datetime
import json
import os
import subprocess
import threading
import uuid

import pytest

from test_billing import plan, reconciled, subscribe
from test_billing_nodes import Node
from test_payments import post_delivery, sandbox_deliveries
from test_wallet_payments import fund
from tzclient import assert_problem, register

CASES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tax_cases.json")
YEAR = datetime.datetime.now(datetime.timezone.utc).year


def key():
    return {"X-Idempotency-Key": uuid.uuid4().hex}


def vat_in(total, bps=1600):
    """The tax within a price that includes it, round half up."""
    return (total * bps * 2 + 10000 + bps) // (2 * (10000 + bps))


def wallet_tip(api, fan, creator_id, amount, **extra):
    r = api.post("/payments/initiate", token=fan["access_token"], headers=key(),
                 json={"creator_id": creator_id, "amount": amount, "currency": "ZMW",
                       "source": "wallet", **extra})
    assert r.status == 201, r
    return r.json


def invoice_of(api, user, payment_id):
    found = [i for i in api.get("/invoices?limit=100", token=user["access_token"]).json["data"]
             if i["payment_id"] == payment_id and i["kind"] == "invoice"]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def people(new_client):
    return (register(new_client(), role="creator", full_name="Chipo Mwansa-Ngoma"),
            register(new_client(), role="fan", full_name="Zoë Łukasz Banda"))


def test_a_tip_through_a_provider_has_its_invoice(api, admin, people, new_client):
    creator, fan = people
    r = api.post("/payments/initiate", token=fan["access_token"], headers=key(),
                 json={"creator_id": creator["user"]["id"], "amount": 2500, "currency": "ZMW",
                       "provider": "sandbox"})
    assert r.status == 201 and r.json["tax"] == vat_in(2500) and r.json["amount"] == 2500, r
    assert api.get("/invoices", token=fan["access_token"]).json["data"] == []  # not paid yet
    assert post_delivery(api, sandbox_deliveries(api, r.json["payment_url"]),
                         "approve").status == 200
    inv = invoice_of(api, fan, r.json["id"])
    tax = vat_in(2500)
    assert (inv["number"], inv["status"], inv["currency"]) == (f"TZ-{YEAR}-000001", "paid", "ZMW")
    assert inv["seller"] == {"id": creator["user"]["id"], "name": "Chipo Mwansa-Ngoma"}
    assert inv["buyer"] == {"id": fan["user"]["id"], "name": "Zoë Łukasz Banda",
                            "email": fan["email"]}
    assert inv["lines"] == [{"description": "Tip for Chipo Mwansa-Ngoma", "quantity": 1,
                             "unit_amount": 2500 - tax, "amount": 2500 - tax}]
    assert (inv["subtotal"], inv["tax"], inv["total"]) == (2500 - tax, tax, 2500)
    assert (inv["tax_name"], inv["tax_rate_bps"], inv["tax_inclusive"]) == ("VAT", 1600, True)
    assert inv["paid_at"] and inv["issued_at"] and inv["credit_for"] is None
    # the ledger entry behind it, which anyone can check without an account
    receipt = api.get(f"/receipts/{inv['entry_hash']}")
    assert receipt.status == 200 and receipt.json["in_chain"] is True, receipt
    assert "Zoë" not in receipt.text and fan["user"]["id"] not in receipt.text
    # the buyer, the seller and admins read it; anyone else gets 404
    for who in (fan, creator, admin):
        got = api.get(f"/invoices/{inv['id']}", token=who["access_token"])
        assert got.status == 200 and got.json == inv, got
    stranger = register(new_client(), role="fan")
    assert_problem(api.get(f"/invoices/{inv['id']}", token=stranger["access_token"]), 404)
    assert_problem(api.get("/invoices/not-an-id", token=fan["access_token"]), 404)
    assert_problem(api.get(f"/invoices/{inv['id']}"), 401)
    assert [i["id"] for i in api.get("/invoices", token=creator["access_token"]).json["data"]] \
        == [inv["id"]]


def test_numbers_are_gapless_under_concurrency_and_rollback(api, admin, stack, new_client):
    """Twenty fans tip one creator at once from their wallets; a payment
    whose transaction rolls back gives its number back."""
    creator = register(new_client(), role="creator")
    fans = [register(new_client(), role="fan") for _ in range(20)]
    for f in fans:
        fund(stack, f["user"]["id"], 5000)
    # a payment made and rolled back in one transaction: its number is not kept
    stack.psql_script(
        "BEGIN;\n"
        f"SELECT tz_api_payment_wallet('{uuid.uuid4()}', '{fans[0]['user']['id']}',"
        f" '{creator['user']['id']}', 500, 'ZMW', NULL, 1500, 0, 0, 0, NULL, NULL, NULL, 0, 0);\n"
        "ROLLBACK;\n")
    answers = [None] * len(fans)

    def pay(i):
        answers[i] = new_client().post(
            "/payments/initiate", token=fans[i]["access_token"], headers=key(),
            json={"creator_id": creator["user"]["id"], "amount": 1000 + i, "currency": "ZMW",
                  "source": "wallet"})
    threads = [threading.Thread(target=pay, args=(i,)) for i in range(len(fans))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(a is not None and a.status == 201 for a in answers), answers
    numbers = sorted(i["number"] for i in api.get("/invoices?limit=100",
                                                   token=creator["access_token"]).json["data"])
    assert numbers == [f"TZ-{YEAR}-{n:06d}" for n in range(1, 21)], numbers
    reconciled(api, admin)


def test_refunds_issue_credit_notes_whose_tax_adds_up(api, admin, people, stack):
    creator, fan = people
    fund(stack, fan["user"]["id"], 10000)
    p = wallet_tip(api, fan, creator["user"]["id"], 2501)
    inv = invoice_of(api, fan, p["id"])
    notes = []
    for amount in (1000, 1501):
        r = api.post(f"/payments/{p['id']}/refund", token=admin["access_token"], headers=key(),
                     json={"reason": "asked", "amount": amount})
        assert r.status == 200, r
        notes = [i for i in api.get("/invoices?limit=100", token=fan["access_token"]).json["data"]
                 if i["kind"] == "credit_note" and i["payment_id"] == p["id"]]
    notes.sort(key=lambda i: i["number"])
    assert [n["number"] for n in notes] == [f"CN-{YEAR}-000001", f"CN-{YEAR}-000002"]
    assert [n["total"] for n in notes] == [-1000, -1501]
    assert sum(n["tax"] for n in notes) == -inv["tax"]
    assert notes[0]["tax"] == -((inv["tax"] * 1000 * 2 + 2501) // (2 * 2501))  # its share, half up
    assert all(n["credit_for"] == {"id": inv["id"], "number": inv["number"]} for n in notes)
    assert all(n["subtotal"] + n["tax"] == n["total"] for n in notes)
    assert api.get(f"/invoices/{inv['id']}", token=fan["access_token"]).json["status"] == \
        "refunded"
    reconciled(api, admin)


def test_top_ups_are_sold_by_the_platform_without_tax(api, people):
    _, fan = people
    r = api.post("/wallets/me/topup", token=fan["access_token"], headers=key(),
                 json={"amount": 5000, "provider": "sandbox"})
    assert r.status == 201, r
    assert post_delivery(api, sandbox_deliveries(api, r.json["payment_url"]),
                         "approve").status == 200
    inv = invoice_of(api, fan, r.json["id"])
    assert inv["seller"] == {"id": None, "name": "Tipzed"}
    assert (inv["tax"], inv["total"], inv["lines"][0]["description"]) == (0, 5000, "Wallet top-up")


def test_a_membership_charge_has_its_invoice(api, people, stack):
    creator, fan = people
    fund(stack, fan["user"]["id"], 1000)
    p = plan(api, creator, amount=1000)
    s = subscribe(api, fan, p["id"])
    assert s.status == 201, s
    pid = stack.psql(f"SELECT id FROM payments WHERE subscription_id = '{s.json['id']}'")[0][0]
    inv = invoice_of(api, fan, pid)
    assert inv["lines"][0]["description"].startswith(f"{p['name']} membership of Chipo")
    assert (inv["total"], inv["tax"]) == (1000, vat_in(1000))


def test_the_sql_tax_rule_answers_the_shared_cases(stack):
    with open(CASES) as f:
        cases = json.load(f)["cases"]
    values = ",".join(f"({c['price']}, {c['bps']}, {str(c['inclusive']).lower()})" for c in cases)
    rows = stack.psql(f"SELECT t.amount, t.tax FROM (VALUES {values}) v(price, bps, inc),"
                      " tz_tax_apply(v.price, json_build_object('name', 'VAT', 'bps', v.bps,"
                      " 'inclusive', v.inc)) t")
    assert [(int(a), int(t)) for a, t in rows] == [(c["amount"], c["tax"]) for c in cases]


@pytest.fixture
def exclusive(stack):
    """A second node whose prices exclude the tax (the same database)."""
    n = Node(stack, f"exclusive-{uuid.uuid4().hex[:6]}", extra="TipzedTax VAT 16% exclusive\n"
             "TipzedInvoiceIssuer \"Tipzed Zambia Ltd\"")
    n.start()
    yield n
    n.stop()


def test_an_exclusive_tax_is_added_to_what_is_paid(api, admin, people, stack, exclusive):
    creator, fan = people
    fund(stack, fan["user"]["id"], 2000)
    node = exclusive.api
    q = node.get(f"/payments/quote?amount=1000&creator_id={creator['user']['id']}&source=wallet",
                 token=fan["access_token"])
    assert q.status == 200 and (q.json["price"], q.json["tax"], q.json["amount"]) == \
        (1000, 160, 1160), q
    r = node.post("/payments/initiate", token=fan["access_token"], headers=key(),
                  json={"creator_id": creator["user"]["id"], "amount": 1000, "currency": "ZMW",
                        "source": "wallet"})
    assert r.status == 201 and (r.json["amount"], r.json["tax"]) == (1160, 160), r
    assert r.json["fee"] == (1160 * 1500 + 5000) // 10000  # the fee is on what is paid
    inv = invoice_of(api, fan, r.json["id"])
    assert (inv["subtotal"], inv["tax"], inv["total"], inv["tax_inclusive"]) == \
        (1000, 160, 1160, False)
    assert inv["lines"][0]["unit_amount"] == 1000
    w = api.get("/wallets/me", token=fan["access_token"]).json
    assert w["balance"] + w["cashback_balance"] == 2000 - 1160 + 11  # 1% cashback of 1160
    # a provider's checkout asks for the taxed amount too
    r = node.post("/payments/initiate", token=fan["access_token"], headers=key(),
                  json={"creator_id": creator["user"]["id"], "amount": 500, "currency": "ZMW",
                        "provider": "sandbox"})
    assert r.status == 201 and r.json["amount"] == 580, r
    page = sandbox_deliveries(api, r.json["payment_url"])
    assert json.loads(page["approve"]["body"])["amount"] == 580
    top = node.post("/wallets/me/topup", token=fan["access_token"], headers=key(),
                    json={"amount": 5000, "provider": "sandbox"})
    assert top.status == 201 and (top.json["amount"], top.json["tax"]) == (5000, 0), top
    assert post_delivery(api, sandbox_deliveries(api, top.json["payment_url"]),
                         "approve").status == 200
    assert invoice_of(api, fan, top.json["id"])["seller"]["name"] == "Tipzed Zambia Ltd"
    reconciled(api, admin)


def pdf_text(body):
    """The text of a PDF, as pdftotext (poppler-utils) reads it."""
    r = subprocess.run(["pdftotext", "-layout", "-", "-"], input=body, capture_output=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode("utf-8")


def test_the_pdf_shows_every_field(api, people, stack, new_client):
    creator, fan = people
    fund(stack, fan["user"]["id"], 3000)
    p = wallet_tip(api, fan, creator["user"]["id"], 2500, message="For the Lusaka show")
    inv = invoice_of(api, fan, p["id"])
    r = api.get(f"/invoices/{inv['id']}/pdf", token=fan["access_token"])
    assert r.status == 200 and r.headers["Content-Type"] == "application/pdf", r
    assert r.headers["Content-Disposition"] == f'inline; filename="{inv["number"]}.pdf"'
    assert r.body.startswith(b"%PDF-")
    text = pdf_text(r.body)
    tax = vat_in(2500)
    for want in (inv["number"], "Chipo Mwansa-Ngoma", "Zoë Łukasz Banda", fan["email"],
                 "Tip for Chipo Mwansa-Ngoma", f"{(2500 - tax) / 100:.2f} ZMW",
                 f"{tax / 100:.2f} ZMW", "25.00 ZMW", "VAT 16%", p["id"], "Paid",
                 inv["entry_hash"][:16]):
        assert want in text, (want, text)
    assert creator["user"]["id"] in text or "Chipo" in text
    assert api.get(f"/invoices/{inv['id']}/pdf", token=creator["access_token"]).status == 200
    stranger = register(new_client(), role="fan")
    assert_problem(api.get(f"/invoices/{inv['id']}/pdf", token=stranger["access_token"]), 404)


def test_split_co_creators_read_its_invoice_and_admins_list_all(api, admin, stack, new_client):
    """A tip split between two creators: the co-creator reads and lists its
    invoice and credit note, a stranger does not; an admin's list holds
    documents the admin is no party to, with a working cursor."""
    from test_splits import tip as split_tip
    from test_wallet_payments import refund
    lead, co = (register(new_client(), role="creator", full_name=n) for n in ("Lead", "Co"))
    fan, stranger = (register(new_client(), role="fan") for _ in range(2))
    fund(stack, fan["user"]["id"], 10000)
    p = split_tip(api, fan, [lead, co], 3000, [6000, 4000], source="wallet")
    assert p.status == 201, p
    inv = invoice_of(api, fan, p.json["id"])
    assert inv["seller"]["id"] == lead["user"]["id"]
    assert refund(api, admin, p.json["id"], 1000).status == 200
    docs = sorted(d["id"] for d in api.get("/invoices?limit=100", token=fan["access_token"]).json["data"]
                  if d["payment_id"] == p.json["id"])
    assert len(docs) == 2  # the invoice and its credit note
    for who in (lead, co):
        listed = api.get("/invoices?limit=100", token=who["access_token"]).json["data"]
        assert sorted(d["id"] for d in listed if d["payment_id"] == p.json["id"]) == docs
        for d in docs:
            assert api.get(f"/invoices/{d}", token=who["access_token"]).status == 200
    assert_problem(api.get(f"/invoices/{inv['id']}", token=stranger["access_token"]), 404)
    assert api.get("/invoices", token=stranger["access_token"]).json["data"] == []
    first = api.get("/invoices?limit=1", token=admin["access_token"]).json
    assert first["has_more"] and first["data"][0]["buyer"]["id"] != admin["user"]["id"]
    after = api.get(f"/invoices?limit=100&starting_after={first['data'][0]['id']}",
                    token=admin["access_token"]).json["data"]
    assert first["data"][0]["id"] not in [d["id"] for d in after]
    assert set(docs) <= {d["id"] for d in [first["data"][0]] + after}
