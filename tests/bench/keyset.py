"""The keyset scenario of make bench: one creator with 100,000 wallet lines
(tests/bench/keyset.sql); the first page of /wallets/me/transactions
against the page at depth 90,000 found by starting_after, and, for the
record, the same page found by offset.  The target: the deep page by
starting_after within 2x of the first page (ratio = deep/first req/s
>= 0.5).

Run alone: python3 tests/bench/bench.py keyset (its own stack, only this
scenario); bench.py's full run calls scenarios() on its stack."""
import os
import subprocess

CREATOR = "00000000-0000-4000-c000-000000000001"
DEPTH = 90000
LIMIT = 20


def seed(d, stack, sh):
    here = os.path.dirname(os.path.abspath(__file__))
    text = "".join(open(os.path.join(here, f)).read() for f in ("entries.sql", "keyset.sql"))
    sh(stack, "psql", d, "-q", "-v", "ON_ERROR_STOP=1", input=text, timeout=1800)


def cursor_at(d, stack, depth):
    """The id of the line at this depth (0: the newest): the page after it
    is the page at depth + 1."""
    out = subprocess.run([stack, "psql", d, "-qAt", "-c",
                          f"SELECT p.uid FROM postings p WHERE p.account_id = "
                          f"tz_account('wallet', '{CREATOR}', NULL, 'ZMW') "
                          f"ORDER BY p.id DESC OFFSET {depth} LIMIT 1"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def scenarios(d, env, key, stack, sh, jwt, wrk, duration, conc=8):
    """{keyset_first, keyset_deep, offset_deep}: wrk results (the same
    page size, one token), the ratio of each deep page to the first."""
    seed(d, stack, sh)
    token = jwt(key, CREATOR, "creator")
    after = cursor_at(d, stack, DEPTH - 1)
    base = "/api/v1/wallets/me/transactions"
    paths = {"keyset_first": f"{base}?limit={LIMIT}",
             "keyset_deep": f"{base}?limit={LIMIT}&starting_after={after}",
             "offset_deep": f"{base}?limit={LIMIT}&offset={DEPTH}"}
    r = {}
    for name, path in paths.items():
        f = os.path.join(d, f"{name}.txt")
        with open(f, "w") as out:
            out.write(path + "\n")
        # a short pass first: plans and pooled connections at working size
        wrk(env["TZ_BASE_URL"], "random_get.lua", {"BENCH_PATHS": f, "BENCH_TOKEN": token}, 2, conc)
        r[name] = wrk(env["TZ_BASE_URL"], "random_get.lua", {"BENCH_PATHS": f, "BENCH_TOKEN": token},
                      duration, conc)
    for name in ("keyset_deep", "offset_deep"):
        first = r["keyset_first"]["rps"]
        r[name]["ratio"] = round(r[name]["rps"] / first, 3) if first else None
    return r


def targets(r):
    return {"keyset: the page at depth 90,000 by starting_after within 2x of the first page":
            (r["keyset_deep"].get("ratio") or 0) >= 0.5}


def report(r):
    print(f"\nkeyset: /wallets/me/transactions?limit={LIMIT} of a wallet with 100,000 lines")
    print(f"{'page':<22}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'ratio':>8}")
    for name in ("keyset_first", "keyset_deep", "offset_deep"):
        v = r[name]
        ratio = v.get("ratio")
        print(f"{name:<22}{v['rps']:>10.0f}{v['p50_ms'] or 0:>9.2f}{v['p99_ms'] or 0:>9.2f}"
              f"{v['non_2xx']:>9d}{ratio if ratio is not None else '-':>8}")
    ok = targets(r)
    for t, met in ok.items():
        print(f"  [{'met' if met else 'MISSED'}] {t}")
    return ok
