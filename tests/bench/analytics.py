"""The analytics scenario of make bench: GET /creators/me/analytics for a
year by day, for the heavy creator of a ledger of over 1,400,000 postings
(seed.sql's 1,000,000 and a year of 120,000 credited tips, analytics.sql),
against a trivial authenticated read by the same creator (GET /auth/me)
measured in the same run at the same concurrency.

The rollups are built by schema step 024's own backfill, timed here: what
migrating a database with that history costs.  `bench.py analytics` runs
this scenario alone (bench.py)."""
import datetime
import json
import os
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
STACK = os.path.join(REPO, "tests", "stack", "stack.sh")
STEP = os.path.join(REPO, "sql", "schema", "024_analytics.sql")

# A report is not a hot path: both sides run at 4 connections (at the
# bench's 32, two shared cores only measure the queue in front of them).
CONN = 4
# the limits: a year by day, on a ledger of 1.4 million postings
MAX_P50_MS = 150
MAX_P99_MS = 400


def psql(d, sql, timeout=1800):
    return subprocess.run([STACK, "psql", d, "-q", "-v", "ON_ERROR_STOP=1"], input=sql, text=True,
                          capture_output=True, check=True, timeout=timeout)


def seed(d):
    """The year of tips, then the rollups by the schema step's backfill;
    the seconds each took and the postings in the ledger."""
    t = time.monotonic()
    with open(os.path.join(HERE, "analytics.sql")) as f:
        psql(d, f.read())
    load_s = time.monotonic() - t
    text = open(STEP).read()
    t = time.monotonic()
    psql(d, "BEGIN;\n" + text[text.index("-- Backfill."):] + "\nCOMMIT;\nVACUUM ANALYZE creator_daily;\n"
         "VACUUM ANALYZE creator_fan_daily;\n")
    backfill_s = time.monotonic() - t
    out = subprocess.run([STACK, "psql", d, "-qAt", "-c",
                          "SELECT (SELECT count(*) FROM postings), (SELECT count(*) FROM creator_daily),"
                          " (SELECT count(*) FROM creator_fan_daily)"],
                         capture_output=True, text=True, check=True).stdout.strip().split("|")
    return {"load_s": round(load_s, 1), "backfill_s": round(backfill_s, 1), "postings": int(out[0]),
            "daily_rows": int(out[1]), "fan_daily_rows": int(out[2])}


def year_path():
    """A year (366 days, to the end of today) by day."""
    today = datetime.datetime.now(datetime.timezone.utc).date()
    return (f"/api/v1/creators/me/analytics?from={today - datetime.timedelta(days=365)}"
            f"&to={today + datetime.timedelta(days=1)}&interval=day")


def files(d):
    """The request of each side: a year by day, and /auth/me."""
    year = os.path.join(d, "analytics.txt")
    with open(year, "w") as f:
        f.write(year_path() + "\n")
    trivial = os.path.join(d, "trivial.txt")
    with open(trivial, "w") as f:
        f.write("/api/v1/auth/me\n")
    return year, trivial


def scenarios(d, env, token, wrk, duration, warm=False):
    """{"analytics_year": ..., "trivial_read": ...} from wrk (bench.wrk)."""
    year, trivial = files(d)
    get = lambda path: wrk(env["TZ_BASE_URL"], "random_get.lua",
                           {"BENCH_PATHS": path, "BENCH_TOKEN": token}, 3 if warm else duration,
                           conc=CONN)
    return {"trivial_read": get(trivial), "analytics_year": get(year)}


def check_answer(env, token):
    """The year's answer, once: 366 buckets, and totals that are the sums."""
    out = subprocess.run(["curl", "-s", "-H", f"Authorization: Bearer {token}",
                          env["TZ_BASE_URL"] + year_path()], capture_output=True, text=True).stdout
    a = json.loads(out)
    return len(a["series"]) == 366 and a["totals"]["gross"] == sum(b["gross"] for b in a["series"]) > 0


def report(r, info):
    a, t = r["analytics_year"], r["trivial_read"]
    a["ratio"] = round(a["rps"] / t["rps"], 3) if t["rps"] else None
    a["p50_vs_trivial"] = round(a["p50_ms"] / t["p50_ms"], 1) if a["p50_ms"] and t["p50_ms"] else None
    print(f"\nanalytics: {info['postings']} postings; a year of tips loaded in {info['load_s']} s;"
          f" step 024's backfill built {info['daily_rows']} day rows and {info['fan_daily_rows']}"
          f" fan-day rows in {info['backfill_s']} s")
    print(f"analytics, a year by day ({CONN} connections): p50 {a['p50_ms']} ms, p99 {a['p99_ms']} ms,"
          f" {a['rps']:.0f} req/s; GET /auth/me: p50 {t['p50_ms']} ms, p99 {t['p99_ms']} ms,"
          f" {t['rps']:.0f} req/s (analytics p50 = {a['p50_vs_trivial']} x the trivial read's)")
    return {f"analytics year by day p50 < {MAX_P50_MS} ms": (a["p50_ms"] or 1e9) < MAX_P50_MS,
            f"analytics year by day p99 < {MAX_P99_MS} ms": (a["p99_ms"] or 1e9) < MAX_P99_MS,
            "analytics answers 366 buckets summing to the totals": info.get("answer_ok", False),
            "no unexpected analytics errors": all(v.get("non_2xx", 0) == 0 and v.get("socket_errors", 0) == 0
                                                  for v in (a, t))}
