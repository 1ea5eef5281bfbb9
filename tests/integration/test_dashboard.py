"""The operator's dashboard (/dashboard/) end to end in headless Chromium,
driven over the W3C WebDriver protocol (webdriver.py): log-in (admins
only), the overview against the API, approving a payout, a CSV export, the
Content-Security-Policy.  One browser for the module; waits are bounded
polls."""
import csv
import io
import json
import os
import time
import urllib.request

import pytest

from dashboard_demo import creator_with_bank, payout, tip, tip_to_review
from tzclient import create_admin, fresh_totp, register, totp_code, totp_ready
from webdriver import Browser, chromium_paths

if not all(chromium_paths()) and not os.environ.get("CI"):
    pytest.skip("chromium and chromium-driver are not installed (Debian: apt-get install chromium "
                "chromium-driver); in CI this test runs", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with Browser.start() as b:
        yield b


@pytest.fixture(scope="module")
def url(stack):
    return stack.base_url + "/dashboard/"


def open_login(b, url, page=""):
    """A fresh page: the previous session (kept in memory only) is gone.
    The query differs each time, so that a new fragment still loads the
    page anew."""
    open_login.loads = getattr(open_login, "loads", 0) + 1
    b.get(f"{url}?load={open_login.loads}" + (f"#{page}" if page else ""))
    b.wait_for("#login-email")
    b.log()  # start each test's console record here


def log_in(b, url, email, password, page="", secret=None):
    """The password step; with secret, the TOTP step too (a fresh code)."""
    open_login(b, url, page)
    b.find("#login-email").send_keys(email)
    b.find("#login-password").send_keys(password)
    b.find("#login-submit").click()
    if secret:
        enter_code(b, lambda: fresh_totp(secret))


def enter_code(b, code):
    """Types code (or what code() gives, taken once the field is shown, so a
    TOTP code is fresh when it reaches the server)."""
    b.wait(lambda: b.script("return !document.getElementById('login-code-row').hidden"),
           "the code step")
    b.find("#login-code").send_keys(code() if callable(code) else code)
    b.find("#login-submit").click()


# An admin has three codes a half minute (one step either side of now, each
# good once), and each log-in in the browser spends one: the module's
# log-ins take turns over a few admins instead of waiting for the clock.
ADMINS = []


@pytest.fixture(scope="module", autouse=True)
def admin_pool(stack):
    tag = os.urandom(4).hex()
    ADMINS[:] = [create_admin(stack, f"dash-{tag}-{i}@example.com", "dashboard admin pw 1")
                 for i in range(4)]
    yield ADMINS


def as_admin(b, url, admin, page="overview"):
    """Logs in as admin, or as another admin of the pool when admin has no
    unused code left this half minute."""
    who = next((a for a in [admin] + ADMINS if totp_ready(a["totp_secret"])), admin)
    log_in(b, url, who["email"], who["password"], page, secret=who["totp_secret"])
    # A refused log-in fails here with the page's own words, not a time-out.
    b.wait(lambda: b.find_all(f"#page-{page}") or b.script(
        "const e = document.getElementById('login-error');"
        " return e && !e.hidden && e.textContent"), f"#page-{page} or a log-in error")
    assert b.find_all(f"#page-{page}"), b.find("#login-error").text


def ready(b, css):
    """Waits until the block under css says it has loaded."""
    b.wait(lambda: b.script("const e = document.querySelector(arguments[0]);"
                            " return e && e.dataset.state", css) == "ready", f"{css} loaded")


def csp_messages(entries):
    return [e["message"] for e in entries if "Content Security Policy" in e["message"]]


def test_a_fan_cannot_log_in(browser, url, api):
    fan = register(api, role="fan")
    log_in(browser, url, fan["email"], fan["password"])
    err = browser.wait_for("#login-error")
    assert "not an administrator" in err.text
    assert browser.script("return document.getElementById('app-view').hidden") is True
    assert browser.find_all("#page-overview") == []


def test_an_admin_logs_in_with_a_code_and_a_wrong_code_is_refused(browser, url, admin):
    log_in(browser, url, admin["email"], admin["password"])
    now = int(time.time()) // 30
    near = {totp_code(admin["totp_secret"], now + d) for d in range(-2, 3)}
    enter_code(browser, next(c for c in ("000000", "111111", "222222") if c not in near))
    assert "Wrong or already used code" in browser.wait_for("#login-error").text
    assert browser.script("return document.getElementById('app-view').hidden") is True
    enter_code(browser, lambda: fresh_totp(admin["totp_secret"]))
    browser.wait_for("#page-overview")


def test_wrong_password_is_refused(browser, url, admin):
    log_in(browser, url, admin["email"], "not the password at all")
    assert "Wrong email or password" in browser.wait_for("#login-error").text
    assert browser.script("return document.getElementById('app-view').hidden") is True


def test_overview_tiles_equal_the_api(browser, url, api, stack, admin, new_client):
    creator = creator_with_bank(new_client(), stack)
    fan = register(new_client(), role="fan")
    tip(api, fan, creator["user"]["id"], 2500)
    tip(api, fan, creator["user"]["id"], 1200, outcome="decline")
    as_admin(browser, url, admin)
    ready(browser, "#overview-body")
    frm, to = (browser.find(f"#overview-{k}").prop("value") for k in ("from", "to"))
    r = api.get(f"/admin/overview?from={frm}&to={to}", token=admin["access_token"])
    assert r.status == 200, r
    totals = r.json["totals"]
    assert totals["volume"].get("ZMW", 0) >= 2500 and totals["payments"]["failed"] >= 1
    shown = browser.script(
        "return Object.fromEntries([...document.querySelectorAll('#overview-tiles .tile')]"
        ".map(t => [t.id, JSON.parse(t.dataset.value)]))")
    assert shown == {"tile-volume": totals["volume"], "tile-fees": totals["fees"],
                     "tile-success-rate": totals["success_rate"],
                     "tile-payments": totals["payments"]["total"],
                     "tile-subscriptions": totals["active_subscriptions"],
                     "tile-review": totals["open_review_items"]}
    assert browser.find("#tile-payments .value").text == str(totals["payments"]["total"])
    assert browser.find("#tile-success-rate .value").text == f"{totals['success_rate'] * 100:.1f}%"
    # one row per day in the table beside the charts, and five charts drawn
    assert len(browser.find_all("#table-overview-days tbody tr")) == len(r.json["days"])
    assert len(browser.find_all(".chart canvas")) == 5


def test_approve_a_pending_payout(browser, url, api, stack, admin, new_client):
    creator = creator_with_bank(new_client(), stack)
    p = payout(api, creator, 15000)
    as_admin(browser, url, admin, "payouts")
    ready(browser, '[data-table="payouts"]')
    row = f'#table-payouts tr[data-id="{p["id"]}"]'
    browser.wait_for(row).find('button[data-action="approve"]').click()
    browser.wait(lambda: "approve done" in browser.find("#app-notice").text, "the approval's notice")
    mine = api.get("/payouts/me", token=creator["access_token"]).json["data"]
    assert [(x["id"], x["status"]) for x in mine] == [(p["id"], "approved")]
    # the pending queue no longer lists it
    ready(browser, '[data-table="payouts"]')
    assert browser.find_all(row) == []


def test_export_payments_as_csv(browser, url, api, stack, admin, new_client):
    creator = creator_with_bank(new_client(), stack)
    fan = register(new_client(), role="fan")
    message = '=HYPERLINK("x"), "quoted" <img src=x>'
    paid = tip(api, fan, creator["user"]["id"], 3100, message=message)
    as_admin(browser, url, admin, "payments")
    ready(browser, '[data-table="payments"]')
    browser.find('[data-table="payments"] input[name="creator_id"]').send_keys(creator["user"]["id"])
    browser.find('[data-table="payments"] button[type="submit"]').click()
    row = browser.wait_for(f'#table-payments tr[data-id="{paid["id"]}"]')
    # what a payer typed is shown as text, never as HTML
    assert browser.script("return arguments[0].lastElementChild.textContent", row) == message
    assert browser.find_all("#table-payments img") == []
    # keep the Blob the page hands to the browser's download
    browser.script("window.tzBlobs = []; const make = URL.createObjectURL;"
                   "URL.createObjectURL = b => { window.tzBlobs.push(b); return make.call(URL, b); };")
    browser.find('[data-table="payments"] button.csv').click()
    browser.wait(lambda: browser.script(
        "return document.querySelector('[data-table=\"payments\"]').dataset.export") == "done", "the export")
    text = browser.async_script("const done = arguments[arguments.length - 1];"
                                " window.tzBlobs[0].text().then(done);")
    assert text.endswith("\r\n")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [(r["id"], r["amount"], r["status"]) for r in rows] == [(paid["id"], "3100", "succeeded")]
    # quoted as RFC 4180 says, and the formula a payer typed is not one in a spreadsheet
    assert rows[0]["message"] == "'" + message


def test_csp_header_and_no_violations(browser, url, stack, admin):
    with urllib.request.urlopen(url) as resp:
        csp = resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    for page in ("overview", "payouts", "reconciliation"):
        as_admin(browser, url, admin, page)
        browser.wait(lambda: browser.script("return document.body.dataset.loaded") == page, page)
        entries = browser.log()
        assert csp_messages(entries) == [], page
        # and no script error either
        assert [e for e in entries if e.get("source") == "javascript"] == [], page
    # the policy is enforced: an inline script injected now does not run
    browser.script("const s = document.createElement('script'); s.textContent = 'window.tzInline = 1';"
                   " document.body.append(s);")
    assert browser.script("return window.tzInline === undefined") is True
    assert browser.wait(lambda: csp_messages(browser.log()), "the browser's report of the violation")


def test_the_api_stays_closed_to_other_origins(stack, admin):
    req = urllib.request.Request(stack.api_url + "/admin/overview", headers={
        "Authorization": "Bearer " + admin["access_token"], "Origin": "https://evil.example"})
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 200 and resp.headers["Access-Control-Allow-Origin"] is None


def test_resolve_a_payment_in_review(browser, url, api, stack, admin, new_client):
    creator = creator_with_bank(new_client(), stack, balance=0)
    fan = register(new_client(), role="fan")
    p = tip_to_review(api, stack, fan, creator["user"]["id"], amount=4000)
    as_admin(browser, url, admin, "review")
    ready(browser, '[data-table="review"]')
    browser.wait_for(f'#table-review tr[data-id="{p["id"]}"]').find('button[data-action="credit"]').click()
    browser.wait(lambda: browser.accept_alert("the money reached the gateway") or True, "the reason's prompt")
    browser.wait(lambda: "credit" in browser.find("#app-notice").text, "the resolution's notice")
    assert api.get(f"/payments/{p['id']}", token=fan["access_token"]).json["status"] == "succeeded"
    assert api.get("/wallets/me", token=creator["access_token"]).json["balance"] == 4000 - 600
    audit = api.get("/admin/audit-log?limit=100", token=admin["access_token"]).json["data"]
    assert any(a["action"] == "payment.resolve" and a["target_id"] == p["id"]
               and a["note"] and "the money reached the gateway" in a["note"] for a in audit), audit[:3]


# Wraps the page's fetch: records every call (method, path, body) and
# answers 401 itself to the calls the test names, as an expired access
# token or refresh token would get.
SPY = """
window.tzCalls = []; window.tzFail = arguments[0];
const real = window.fetch;
window.fetch = (url, init) => {
  const path = new URL(url).pathname.replace(/^.*\\/api\\/v1/, "");
  const auth = (init.headers || {}).Authorization || null;
  window.tzCalls.push({method: init.method, path, body: init.body || null, auth});
  const i = window.tzFail.indexOf(path);
  if (i >= 0) {
    window.tzFail.splice(i, 1);
    return Promise.resolve(new Response('{"status":401}', {status: 401,
      headers: {"Content-Type": "application/problem+json"}}));
  }
  return real(url, init);
};
"""


def test_a_401_refreshes_the_session_once(browser, url, api, admin):
    as_admin(browser, url, admin, "payments")
    ready(browser, '[data-table="payments"]')
    browser.script(SPY, ["/admin/transactions"])
    browser.find('[data-table="payments"] button[type="submit"]').click()
    ready(browser, '[data-table="payments"]')
    browser.wait(lambda: len(browser.script("return window.tzCalls")) >= 3, "the retried call")
    calls = browser.script("return window.tzCalls")
    assert [(c["method"], c["path"]) for c in calls] == [
        ("GET", "/admin/transactions"), ("POST", "/auth/refresh"), ("GET", "/admin/transactions")]
    assert calls[1]["auth"] is None and calls[0]["auth"] != calls[2]["auth"]  # a new access token
    assert browser.script("return document.getElementById('login-view').hidden") is True


def test_a_failed_refresh_and_log_out_end_the_session(browser, url, api, admin):
    as_admin(browser, url, admin, "payments")
    ready(browser, '[data-table="payments"]')
    browser.script(SPY, [])
    browser.find("#logout").click()
    browser.wait_for("#login-form")
    out = [c for c in browser.script("return window.tzCalls") if c["path"] == "/auth/logout"]
    assert len(out) == 1
    token = json.loads(out[0]["body"])["refresh_token"]
    # the refresh token the page held is revoked
    assert api.post("/auth/refresh", json={"refresh_token": token}).status == 401
    # a session whose refresh is refused goes back to the form
    as_admin(browser, url, admin, "payments")
    ready(browser, '[data-table="payments"]')
    browser.script(SPY, ["/admin/transactions", "/auth/refresh"])
    browser.find('[data-table="payments"] button[type="submit"]').click()
    assert "session ended" in browser.wait_for("#login-error").text
    assert browser.script("return document.getElementById('app-view').hidden") is True


def test_wallets_and_webhook_deliveries_pages(browser, url, api, stack, admin, new_client):
    token = admin["access_token"]
    # an admin endpoint takes every event: a tip makes its deliveries (the
    # name does not resolve here, so they stay pending, with their attempts)
    ep = api.post("/webhook-endpoints", token=token, json={"url": "https://books.example.com/tipzed",
                                                           "events": ["*"]})
    assert ep.status == 201, ep
    creator = creator_with_bank(new_client(), stack, balance=0)
    tip(api, register(new_client(), role="fan"), creator["user"]["id"], 1500)
    as_admin(browser, url, admin, "wallets")
    browser.wait(lambda: browser.script("return document.body.dataset.loaded") == "wallets", "wallets")
    first = api.get("/admin/wallets?limit=1", token=token).json["data"][0]
    browser.wait_for(f'#table-wallets tr[data-id="{first["id"]}"]')
    deadline = time.time() + 30
    while not (listed := api.get(f"/webhook-deliveries?endpoint_id={ep.json['id']}&limit=1",
                                 token=token).json["data"]) and time.time() < deadline:
        time.sleep(0.2)
    assert listed, "no delivery was made for the admin's endpoint"
    browser.script("location.hash = '#webhooks'")
    browser.wait(lambda: browser.script("return document.body.dataset.loaded") == "webhooks", "webhooks")
    ready(browser, '[data-table="deliveries"]')
    assert browser.find("#table-deliveries thead").text.startswith("created")
    browser.wait_for(f'#table-deliveries tr[data-id="{listed[0]["id"]}"]')


def test_pages_next_and_previous(browser, url, api, stack, admin, new_client):
    creator = creator_with_bank(new_client(), stack, balance=0)
    fan = register(new_client(), role="fan")
    paid = [tip(api, fan, creator["user"]["id"], 1000 + i)["id"] for i in range(3)]
    as_admin(browser, url, admin, "payments")
    ready(browser, '[data-table="payments"]')
    table = '[data-table="payments"]'
    browser.find(f'{table} input[name="creator_id"]').send_keys(creator["user"]["id"])
    # two rows a page (an option the operator's menu does not offer)
    browser.script("const s = document.querySelector(arguments[0]);"
                   " s.append(new Option('2', '2')); s.value = '2';", f'{table} select[name="limit"]')
    browser.find(f'{table} button[type="submit"]').click()

    def shown():
        ready(browser, table)
        return [r.attr("data-id") for r in browser.find_all("#table-payments tbody tr")]
    browser.wait(lambda: shown() == paid[::-1][:2], "the first page (newest first)")
    browser.find(f"{table} .pager button:nth-child(2)").click()   # Next
    browser.wait(lambda: shown() == paid[:1], "the second page")
    assert browser.find(f"{table} .pager button:nth-child(2)").prop("disabled") is True
    browser.find(f"{table} .pager button:nth-child(1)").click()   # Previous
    browser.wait(lambda: shown() == paid[::-1][:2], "the first page again")


def test_suspend_a_user_and_freeze_a_wallet(browser, url, api, stack, admin, new_client):
    """The users page suspends and reinstates, the wallets page freezes and
    unfreezes, each asking for its reason (kept in the audit log)."""
    fan = register(new_client(), role="fan")
    fid, token = fan["user"]["id"], admin["access_token"]
    as_admin(browser, url, admin, "users")
    ready(browser, '[data-table="users"]')
    browser.find('[data-table="users"] input[name="q"]').send_keys(fan["email"])
    browser.find('[data-table="users"] button[type="submit"]').click()
    row = f'#table-users tr[data-id="{fid}"]'
    browser.wait_for(row).find('button[data-action="suspend"]').click()
    browser.wait(lambda: browser.accept_alert("card testing") or True, "the reason's prompt")
    browser.wait_for(f'{row} button[data-action="reinstate"]')
    assert api.get(f"/admin/users?q={fan['email']}", token=token).json["data"][0]["status"] == "suspended"
    browser.find(f'{row} button[data-action="reinstate"]').click()
    browser.wait(lambda: browser.accept_alert("false alarm") or True, "the reason's prompt")
    browser.wait_for(f'{row} button[data-action="suspend"]')
    assert api.get(f"/admin/users?q={fan['email']}", token=token).json["data"][0]["status"] == "active"
    # the wallets page (newest first): the fan's new wallet frozen, then unfrozen
    stack.psql(f"SELECT tz_account('wallet', '{fid}', NULL, 'ZMW')")
    wid = api.get(f"/admin/wallets?q={fan['email']}", token=token).json["data"][0]["id"]
    browser.script("location.hash = '#wallets'")
    browser.wait(lambda: browser.script("return document.body.dataset.loaded") == "wallets", "wallets")
    wrow = f'#table-wallets tr[data-id="{wid}"]'
    browser.wait_for(wrow).find('button[data-action="freeze"]').click()
    browser.wait(lambda: browser.accept_alert("chargeback storm") or True, "the reason's prompt")
    browser.wait_for(f'{wrow} button[data-action="unfreeze"]')
    assert api.get("/wallets/me", token=fan["access_token"]).json["frozen"] is True
    browser.find(f'{wrow} button[data-action="unfreeze"]').click()
    browser.wait(lambda: browser.accept_alert("reviewed") or True, "the reason's prompt")
    browser.wait_for(f'{wrow} button[data-action="freeze"]')
    assert api.get("/wallets/me", token=fan["access_token"]).json["frozen"] is False
    audit = api.get("/admin/audit-log?limit=100", token=token).json["data"]
    mine = [(a["action"], a["note"]) for a in audit if a["target_id"] == fid]
    assert mine[:4] == [("wallet.unfreeze", "reviewed"), ("wallet.freeze", "chargeback storm"),
                        ("user.reinstate", "false alarm"), ("user.suspend", "card testing")]


def test_reconciliation_shows_the_settlement_report(browser, url, api, stack, admin, tmp_path):
    """An imported settlement report with a line unknown to the ledger: the
    page lists the import and the settlement check naming that line."""
    line = f"S-{os.urandom(4).hex()}"
    path = tmp_path / "gateway.csv"
    path.write_text("line_id,type,reference,payment_id,refund_id,amount,fee,currency,created_at\r\n"
                    f"{line},dispute,gw-{line},,,-700,0,ZMW,\r\n")
    r = stack.tipzedctl("settlement", "import", "mobile_money", str(path))
    assert r.returncode == 1, r
    imported = json.loads(r.stdout.splitlines()[0])["import_id"]
    as_admin(browser, url, admin, "reconciliation")
    ready(browser, '[data-table="settlement-checks"]')
    assert "mismatch" in browser.find("#settlement-verdict").text
    browser.wait_for(f'#table-settlement-imports tr[data-id="{imported}"]')
    rows = [tr.text for tr in browser.find_all("#table-settlement-checks tbody tr")]
    assert any(t.startswith("settlement_unknown") and line in t for t in rows), rows
