#!/usr/bin/env python3
"""Screenshots of every page of the operator's dashboard, with demo data,
into docs/dashboard-<page>.png (the README shows them).

    tests/stack/stack.sh up /tmp/shots --sandbox
    TZ_STACK_DIR=/tmp/shots /usr/bin/python3 tests/integration/dashboard_screenshots.py [OUTDIR]
    tests/stack/stack.sh down /tmp/shots

Use a fresh stack: the demo data is added to whatever it holds.  The data
is made through the API (sandbox tips approved, declined or left pending,
one sent to review, payouts at each step, a webhook endpoint); only the
payments' dates are then spread over the last two weeks, as owner in SQL,
so that the charts have days to show."""
import os
import random
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dashboard_demo import creator_with_bank, payout, tip, tip_to_review  # noqa: E402
import tzclient  # noqa: E402
from tzclient import Client, create_admin, fresh_totp, login_totp, register  # noqa: E402
from tzstack import REPO, Stack  # noqa: E402
from webdriver import Browser  # noqa: E402

PAGES = ["overview", "payments", "payouts", "review", "wallets", "webhooks", "reconciliation"]


def demo(stack, api):
    rnd = random.Random(7)
    creators = [creator_with_bank(api, stack, name) for name in ("Ana Phiri", "Mwila Banda", "Kondwani Tembo")]
    fans = [register(api, role="fan", full_name=n) for n in ("Ben Zulu", "Cleo Mumba", "Dalitso Ngoma")]
    for i in range(36):
        outcome = rnd.choices(["approve", "decline", None], [8, 2, 1])[0]
        tip(api, rnd.choice(fans), rnd.choice(creators)["user"]["id"], rnd.choice([1000, 2500, 5000, 7500, 12000]),
            outcome=outcome, message=rnd.choice(["great show", "for the new single", "thank you", ""]))
    tip_to_review(api, stack, fans[0], creators[0]["user"]["id"])
    stack.psql("UPDATE payments SET created_at = created_at - (floor(random() * 14) || ' days')::interval"
               " WHERE status <> 'review'")
    return creators


def payouts(stack, api, admin, creators):
    made = [payout(api, c, amount) for c in creators for amount in (20000, 35000)]
    token = admin["access_token"]
    steps = [("approve",), ("approve", "process"), ("approve", "process", "complete")]
    for p, path in zip(made[:3], steps):
        for step in path:
            r = api.post(f"/admin/payouts/{p['id']}/{step}", token=token, json={})
            assert r.status == 200, r
    api.post("/webhook-endpoints", token=token, json={"url": "https://books.example.com/tipzed",
                                                      "events": ["payment.succeeded", "payout.*"]})


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "docs")
    stack = Stack(os.environ["TZ_STACK_DIR"])
    api = Client(stack.api_url)
    # no SMTP sink here: the demo creators' addresses are marked verified
    tzclient.VERIFY_BY_SQL = lambda uid: stack.psql(
        f"UPDATE users SET email_verified_at = now() WHERE id = '{uid}'")
    email, password = f"operator-{uuid.uuid4().hex[:8]}@example.com", "operator password 123"
    secret = create_admin(stack, email, password, name="Operator")["totp_secret"]
    admin = login_totp(api, email, password, secret).json
    creators = demo(stack, api)
    payouts(stack, api, admin, creators)
    with Browser.start(window=(1400, 900)) as b:
        b.get(stack.base_url + "/dashboard/")
        b.wait_for("#login-email").send_keys(email)
        b.find("#login-password").send_keys(password)
        b.find("#login-submit").click()
        b.wait(lambda: b.script("return !document.getElementById('login-code-row').hidden"),
               "the code step")
        b.find("#login-code").send_keys(fresh_totp(secret))
        b.find("#login-submit").click()
        b.wait_for("#overview-tiles")
        for page in PAGES:
            b.script("location.hash = arguments[0]", "#" + page)
            b.wait_for(f"#page-{page}")
            b.wait(lambda: b.script("return document.body.dataset.loaded") == page, f"{page} loaded")
            path = os.path.join(out, f"dashboard-{page}.png")
            b.screenshot(path)
            print(path)


if __name__ == "__main__":
    main()
