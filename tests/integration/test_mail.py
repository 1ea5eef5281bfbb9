"""Mail from the outbox (TipzedSMTP, to the tests' SMTP sink): a fan's
receipt with its invoice attached as a PDF, a creator's payout notices,
and nothing mailed about a change that was rolled back."""
import os
import subprocess
import tempfile

import pytest

from test_payouts_admin import act, request as payout_request
from test_wallet_payments import fund, tip
from tzclient import register

pytestmark = pytest.mark.skipif(not os.environ.get("TZ_SMTP_PORT"),
                                reason="needs make test's SMTP sink (TZ_SMTP_PORT)")


def pdf_text(data):
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        return subprocess.run(["pdftotext", "-layout", f.name, "-"], capture_output=True,
                              text=True, check=True).stdout


def receipt(m):
    return "receipt" in m.message["Subject"]


def verification(m):
    return m.message["Subject"] == "Confirm your email address"


def test_a_fan_gets_the_receipt_with_the_invoice_attached(api, stack, new_client, smtp):
    fan = register(new_client(), full_name="Mwila Bwalya")
    creator = register(new_client(), role="creator", full_name="Chanda Ngoma")
    fund(stack, fan["user"]["id"], 5000)
    t = tip(api, fan, creator["user"]["id"], 2550, message="for the song")
    assert t.status == 201, t
    m = smtp.wait_for(lambda m: m.to == [fan["email"]] and "receipt" in m.message["Subject"], 30)
    inv = api.get("/invoices?limit=5", token=fan["access_token"]).json["data"]
    [inv] = [i for i in inv if i["payment_id"] == t.json["id"]]
    assert m.message["Subject"] == f"Your receipt {inv['number']} from Chanda Ngoma"
    assert m.message["From"] == "Tipzed <no-reply@tipzed.test>"
    text = m.text()
    assert "Hello Mwila Bwalya" in text and "ZMW 25.50" in text and "Tip for Chanda Ngoma" in text
    assert inv["number"] in text and t.json["id"] in text and "for the song" in text
    [(name, ctype, data)] = m.attachments()
    assert (name, ctype) == (f"{inv['number']}.pdf", "application/pdf")
    page = pdf_text(data)
    assert inv["number"] in page and "Chanda Ngoma" in page and "25.50" in page
    # one receipt for one payment (beside the mail of registration)
    assert sum(1 for x in smtp.messages if x.to == [fan["email"]] and receipt(x)) == 1


def test_a_creator_hears_of_each_payout_step(api, stack, new_client, admin, smtp):
    c = register(new_client(), role="creator", full_name="Chanda Payee")
    assert api.put("/creators/me", token=c["access_token"],
                   json={"bank_account": "ZM0012345678", "account_name": "C P"}).status == 200
    fund(stack, c["user"]["id"], 50000)
    p = payout_request(api, c, 12000).json
    act(api, admin, p["id"], "approve", {})
    act(api, admin, p["id"], "process", {})
    act(api, admin, p["id"], "complete", {})
    q = payout_request(api, c, 1500).json
    act(api, admin, q["id"], "reject", {"reason": "bank details to check"})
    got = [smtp.wait_for(lambda m, s=s: m.to == [c["email"]] and s in m.message["Subject"], 30)
           for s in ("has been approved", "has been sent", "was not approved")]
    assert "ZMW 120.00" in got[0].text() and p["id"] in got[1].text()
    assert "bank details to check" in got[2].text() and "ZMW 15.00" in got[2].text()
    # no mail for the request itself, nor for processing (beside the
    # verification of the address, which payouts need)
    assert sum(1 for m in smtp.messages if m.to == [c["email"]] and not verification(m)) == 3


def test_nothing_is_mailed_about_a_refused_payment(api, stack, new_client, smtp):
    fan = register(new_client())
    creator = register(new_client(), role="creator")
    fund(stack, fan["user"]["id"], 500)
    assert tip(api, fan, creator["user"]["id"], 1000).status == 422
    ok = tip(api, fan, creator["user"]["id"], 400)
    assert ok.status == 201
    smtp.wait_for(lambda m: m.to == [fan["email"]] and receipt(m), 30)
    mails = [m for m in smtp.messages if m.to == [fan["email"]] and not verification(m)]
    assert len(mails) == 1 and ok.json["id"] in mails[0].text()


def test_a_member_hears_when_a_period_cannot_be_paid(api, stack, new_client, admin, smtp):
    from test_billing import advance, plan, run, sub_of, subscribe
    fan = register(new_client(), full_name="Mwila Member")
    creator = register(new_client(), role="creator", full_name="Chanda Plans")
    p = plan(api, creator, amount=1000, interval="week")
    fund(stack, fan["user"]["id"], 1000)  # the first week, and nothing for the second
    s = subscribe(api, fan, p["id"])
    assert s.status == 201 and s.json["status"] == "active", s
    advance(api, admin, "7d")
    run(api, admin)
    assert sub_of(api, fan, s.json["id"])["status"] == "past_due"
    m = smtp.wait_for(lambda m: m.to == [fan["email"]] and "past due" in m.message["Subject"], 30)
    assert m.message["Subject"] == "Your membership with Chanda Plans is past due"
    assert "ZMW 10.00" in m.text() and s.json["id"] in m.text()


@pytest.mark.skipif(not os.environ.get("TZ_MAIL_DIR"),
                    reason="needs make test's TipzedMailTemplates directory (TZ_MAIL_DIR)")
def test_an_operators_template_replaces_the_shipped_one(api, stack, new_client, smtp):
    from test_billing import plan, subscribe
    fan = register(new_client(), full_name="Mwila Leaver")
    creator = register(new_client(), role="creator", full_name="Chanda Gone")
    fund(stack, fan["user"]["id"], 1000)
    s = subscribe(api, fan, plan(api, creator, amount=1000)["id"]).json
    r = api.post(f"/subscriptions/{s['id']}/cancel", token=fan["access_token"],
                 json={"at_period_end": False})
    assert r.status == 200 and r.json["status"] == "canceled", r
    m = smtp.wait_for(lambda m: m.to == [fan["email"]] and "Membership" in m.message["Subject"], 30)
    assert m.message["Subject"] == "Membership over: Chanda Gone"  # TZ_MAIL_DIR's, not the shipped
    assert f"your membership {s['id']} with Chanda Gone has ended." in m.text()
