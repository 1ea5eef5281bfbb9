"""make bench's read and engine scenarios beyond the hot write paths:

- creator_profile_uncached: GET /creators/{id} with TipzedCreatorCache none
  (the same stack, its configuration changed and gracefully restarted),
  beside the static ceiling measured again right before it;
- statement_month, statement_year: GET /wallets/me/statement for the heavy
  creator over a month and a year of analytics.sql's tips (statements());
- invoice_pdf: GET /invoices/{id}/pdf over the invoices of one buyer, at 4
  connections (each a rendered PDF: CPU-bound);
- renewals: N trial subscriptions of funded fans end together when the
  sandbox clock moves past them; POST /sandbox/billing/run's engine charges
  each from its wallet: renewals per second until all were charged.

`bench.py reads` runs these alone (after the seed and a short warm-up)."""
import datetime
import json
import os
import subprocess
import time

REPORT_CONN = 4
RENEWALS = 2000  # 1,000 fans x 2 plans


def _psql(stack, d, sql):
    return subprocess.run([stack, "psql", d, "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, check=True).stdout.strip()


def _graceful(stack, d, env, cache_on):
    """Turns the creator cache off (or back on) by the last line of
    httpd.conf and restarts gracefully; returns once the new children
    answer as configured."""
    conf = env["TZ_HTTPD_CONF"]
    text = open(conf).read().replace("\nTipzedCreatorCache none\n", "\n")
    with open(conf, "w") as f:
        f.write(text if cache_on else text + "\nTipzedCreatorCache none\n")
    subprocess.run([stack, "apachectl", d, "-k", "graceful"], check=True, capture_output=True)
    url = env["TZ_BASE_URL"] + "/api/v1/creators/00000000-0000-4000-a000-000000000002"
    for _ in range(100):
        time.sleep(0.2)
        out = subprocess.run(["curl", "-s", "-D", "-", "-o", "/dev/null", url], capture_output=True, text=True).stdout
        if out.startswith("HTTP/1.1 200") and ("X-Tipzed-Cache" in out) == cache_on:
            return
    raise RuntimeError("the graceful restart did not apply the creator cache setting")


def uncached(stack, d, env, files, wrk, duration, conc):
    """The static ceiling and the profile read with the cache off, back to
    back on the same children (after a warm-up of each)."""
    get = lambda paths, secs: wrk(env["TZ_BASE_URL"], "random_get.lua", {"BENCH_PATHS": paths}, secs, conc)
    _graceful(stack, d, env, cache_on=False)
    try:
        get(files["creators"], 3)
        r = {"static_ceiling_uncached_run": get(files["static"], duration),
             "creator_profile_uncached": get(files["creators"], duration)}
    finally:
        _graceful(stack, d, env, cache_on=True)
    return r


def statements(env, token, wrk, duration, rss_kb=None):
    """The heavy creator's statement over a month of analytics.sql's tips
    (about 5,000 lines) under wrk, and over a year: the year's cut is by
    posting, and the bulk-loaded year of tips has later ids than the seed's
    100,000 lines stamped today, so its statement holds those too (about
    160,000 lines), longer than wrk's 2 s timeout: it is timed alone, three
    requests one after another, with the Apache children's memory (rss_kb())
    read before and after them."""
    today = datetime.datetime.now(datetime.timezone.utc).date()
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"bench-statement-{os.getpid()}.txt")
    with open(path, "w") as f:
        f.write(statement_path(today, 61, 31) + "\n")
    r = {"statement_month": wrk(env["TZ_BASE_URL"], "random_get.lua", {"BENCH_PATHS": path, "BENCH_TOKEN": token},
                                duration, REPORT_CONN)}
    os.unlink(path)
    r["statement_month"]["lines"] = _statement(env, token, statement_path(today, 61, 31))[1]
    took = []
    rss = rss_kb() if rss_kb else None
    for _ in range(3):
        t = time.monotonic()
        ok, lines = _statement(env, token, statement_path(today, 366, 1))
        took.append((time.monotonic() - t) * 1000)
    took.sort()
    r["statement_year"] = {"rps": round(1000 / took[1], 2), "requests": 3, "p50_ms": round(took[1], 1),
                           "p99_ms": round(took[2], 1), "non_2xx": 0 if ok else 1, "lines": lines}
    if rss is not None:
        # a statement streams a page at a time: its length is not memory
        r["statement_year"]["children_rss_growth_kb"] = rss_kb() - rss
    return r


def _statement(env, token, path):
    """(answered a whole statement: JSON holding as many lines as its
    lines_count, its lines_count)."""
    out = subprocess.run(["curl", "-s", "-m", "120", "-H", f"Authorization: Bearer {token}",
                          env["TZ_BASE_URL"] + path], capture_output=True, text=True).stdout
    try:
        s = json.loads(out)
        return len(s["lines"]) == s["lines_count"], s["lines_count"]
    except (ValueError, KeyError):
        return False, None


def statement_path(today, first, last):
    """From first days ago to last days ago, at midnight UTC."""
    return (f"/api/v1/wallets/me/statement?from={today - datetime.timedelta(days=first)}T00:00:00Z"
            f"&to={today - datetime.timedelta(days=last)}T00:00:00Z")


def invoice_pdfs(stack, d, env, key, jwt, wrk, duration):
    """The PDFs of the buyer with the most invoices (credits issue them)."""
    rows = _psql(stack, d, "SELECT i.buyer_id, u.role, i.id FROM invoices i JOIN users u ON u.id = i.buyer_id"
                 " WHERE i.buyer_id = (SELECT buyer_id FROM invoices GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)"
                 " LIMIT 500").splitlines()
    if not rows:
        return {}
    buyer, role = rows[0].split("|")[:2]
    path = os.path.join(d, "invoices.txt")
    with open(path, "w") as f:
        for row in rows:
            f.write(f"/api/v1/invoices/{row.split('|')[2]}/pdf\n")
    r = wrk(env["TZ_BASE_URL"], "random_get.lua", {"BENCH_PATHS": path, "BENCH_TOKEN": jwt(key, buyer, role)},
            duration, REPORT_CONN)
    r["invoices"] = len(rows)
    return {"invoice_pdf": r}


RENEWAL_SEED = """
INSERT INTO plans (id, creator_id, name, amount, currency, interval)
SELECT ('00000000-0000-4000-c000-' || lpad(to_hex(g), 12, '0'))::uuid,
       ('00000000-0000-4000-a000-' || lpad(to_hex(g + 1), 12, '0'))::uuid, 'Bench plan ' || g, 500, 'ZMW', 'month'
  FROM generate_series(1, 2) g;
-- as POST /subscriptions makes a trial: period 0, owing nothing, charged
-- when the trial ends (anchor = trial_end = next_attempt_at)
INSERT INTO subscriptions (id, plan_id, creator_id, fan_id, status, source, amount, currency, interval,
                           anchor, period, paid, current_period_start, current_period_end, trial_end,
                           next_attempt_at)
SELECT gen_random_uuid(), pl.id, pl.creator_id, f.id, 'trialing', 'wallet', 500, 'ZMW', 'month',
       c.t + interval '7 days', 0, true, c.t, c.t + interval '7 days', c.t + interval '7 days',
       c.t + interval '7 days'
  FROM plans pl, users f, (SELECT tz_clock(true) AS t) c
 WHERE pl.name LIKE 'Bench plan %' AND f.email LIKE 'fan%@bench.test';
"""


def renewals(stack, d, env, admin_token):
    """RENEWALS trials end at once: the clock moves 8 days, then the engine
    runs (POST /sandbox/billing/run, passes until nothing is due; the
    watchdog's passes may take some too): renewals per second until every
    one was charged, checked in billing_charges."""
    _psql(stack, d, RENEWAL_SEED)
    charged = lambda: int(_psql(stack, d, "SELECT count(*) FROM billing_charges c JOIN subscriptions s"
                                " ON s.id = c.item_id JOIN plans p ON p.id = s.plan_id"
                                " WHERE p.name LIKE 'Bench plan %'"))

    def post(path, body):
        return subprocess.run(["curl", "-s", "-m", "600", "-X", "POST", env["TZ_BASE_URL"] + "/api/v1" + path,
                               "-H", "Content-Type: application/json", "-H", f"Authorization: Bearer {admin_token}",
                               "-d", json.dumps(body)], capture_output=True, text=True, check=True).stdout
    post("/sandbox/clock", {"advance": "8d"})
    start = time.monotonic()
    runs = []
    while charged() < RENEWALS and time.monotonic() - start < 600:
        runs.append(post("/sandbox/billing/run", {}))
    took = time.monotonic() - start
    n = charged()
    return {"renewals": {"rps": round(n / took, 1), "requests": n, "seconds": round(took, 1),
                         "runs": len(runs), "last_run": runs[-1][:200] if runs else None}}


def ratios(r):
    """The uncached read's ratio to the static ceiling of its own run."""
    if "creator_profile_uncached" in r:
        s, u = r["static_ceiling_uncached_run"], r["creator_profile_uncached"]
        u["ratio"] = round(u["rps"] / s["rps"], 3) if s["rps"] else None
    if "creator_profile" in r and "static_ceiling" in r and r["static_ceiling"]["rps"]:
        r["creator_profile"]["ratio"] = round(r["creator_profile"]["rps"] / r["static_ceiling"]["rps"], 3)


def report(r):
    """Lines of the report after the table."""
    lines = []
    for name in ("statement_month", "statement_year"):
        if name in r:
            lines.append(f"{name}: {r[name]['lines']} lines a statement")
    if "children_rss_growth_kb" in r.get("statement_year", {}):
        lines.append(f"statement_year: the Apache children's memory grew by"
                     f" {r['statement_year']['children_rss_growth_kb']} KiB over its three requests")
    if "invoice_pdf" in r:
        lines.append(f"invoice_pdf: over {r['invoice_pdf']['invoices']} invoices of one buyer")
    if "renewals" in r:
        v = r["renewals"]
        lines.append(f"renewals: {v['requests']} trials charged in {v['seconds']} s ({v['rps']}/s),"
                     f" {v['runs']} calls of POST /sandbox/billing/run")
    return lines


def targets(r):
    if "creator_profile_uncached" not in r:
        return {}
    return {"uncached reads >= 50% of the static ceiling": (r["creator_profile_uncached"]["ratio"] or 0) >= 0.5}


