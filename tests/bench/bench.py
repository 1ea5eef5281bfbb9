"""make bench: throughput and latency of the hot paths against ceilings
measured in the same run on the same machine (see README, "Benchmarks").

A private stack is started (tests/stack), seeded with 10,000 creators,
1,000 fans with funded wallets and 1,000,000 ledger postings, then each
scenario runs under wrk at a fixed concurrency for a fixed duration (each
write path beside its ceiling: the same SQL function under pgbench).
Results are printed as one table and written as JSON under tests/results/
(git-ignored), with reconciliation and the hash chain checked after the
run."""
import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid

import analytics
import keyset
import reads

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
STACK = os.path.join(REPO, "tests", "stack", "stack.sh")
CONC = int(os.environ.get("BENCH_CONNECTIONS", "32"))
DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
THREADS = 2


def sh(*args, **kw):
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True, **kw)


def bench_sql(name):
    """A data set's SQL, after the bulk ledger loader it calls (entries.sql)."""
    return "".join(open(os.path.join(HERE, f)).read() for f in ("entries.sql", name))


def read_env(d):
    env = {}
    for line in open(os.path.join(d, "env")):
        k, _, v = line.strip().partition("=")
        if k:
            env[k] = v.strip("'\"")
    return env


def jwt(key, sub, role, ttl=3600):
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    now = int(time.time())
    head = b64(b'{"alg":"HS256","typ":"JWT"}')
    body = b64(json.dumps({"sub": sub, "role": role, "iat": now, "exp": now + ttl, "iss": "tipzed",
                           "aud": "tipzed-api", "jti": uuid.uuid4().hex}).encode())
    sig = b64(hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


def wrk(url, script, env, duration=DURATION, conc=CONC):
    out = subprocess.run(["wrk", "-t", str(THREADS), "-c", str(conc), "-d", f"{duration}s",
                          "--latency", "-s", os.path.join(HERE, script), url],
                         capture_output=True, text=True, env={**os.environ, **env}, timeout=duration + 60)
    text = out.stdout

    def ms(label):
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if not m:
            return None
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    total = int(re.search(r"(\d+) requests in", text).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    statuses = re.search(r"^statuses: (.*)$", text, re.M)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    cache = re.search(r"cache: (\d+) hits, (\d+) misses", text)
    return {"rps": rps, "requests": total, "p50_ms": ms("50%"), "p99_ms": ms("99%"),
            **({"cache_hits": int(cache.group(1)), "cache_misses": int(cache.group(2))}
               if cache and (int(cache.group(1)) or int(cache.group(2))) else {}),
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            **({"non_2xx_by_status": dict(x.split("=") for x in statuses.group(1).split())}
               if statuses else {}),
            "socket_errors": sum(map(int, errs.groups())) if errs else 0,
            "socket_errors_by_kind": dict(zip(("connect", "read", "write", "timeout"),
                                              map(int, errs.groups()))) if errs else {}}


def children_rss_kb(env):
    """The Apache children's resident memory, once requests in flight have
    finished (wrk stops with requests outstanding; a login's password hash
    maps 32 MiB for its duration): the smallest of a few samples."""
    pid = open(env["TZ_PIDFILE"]).read().strip()
    time.sleep(2)
    samples = []
    for _ in range(3):
        out = subprocess.run(["ps", "--ppid", pid, "-o", "rss="], capture_output=True, text=True).stdout
        samples.append(sum(int(x) for x in out.split()))
        time.sleep(1)
    return min(samples)


def pgbench_ceiling(d, env, name, sql):
    """A path's SQL transaction straight against PostgreSQL: the pgbench
    script sql (name.pgbench), at wrk's concurrency for as long."""
    script = os.path.join(d, name + ".pgbench")
    with open(script, "w") as f:
        f.write(sql)
    os.chmod(script, 0o644)
    os.chmod(d, 0o755)
    cmd = ["pgbench", "-n", "-h", env["TZ_PGHOST"], "-U", "tipzed", "-c", str(CONC), "-j", str(THREADS),
           "-T", str(DURATION), "-f", script, "tipzed"]
    if env.get("TZ_PGUSER_OS"):
        cmd = ["runuser", "-u", env["TZ_PGUSER_OS"], "--"] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=DURATION + 60, cwd="/").stdout
    tps = re.search(r"tps = ([\d.]+)", out)
    lat = re.search(r"latency average = ([\d.]+) ms", out)
    return {"rps": float(tps.group(1)) if tps else 0.0, "avg_ms": float(lat.group(1)) if lat else None}


# seeded user n as SQL, from a pgbench variable
FAN_SQL = "('00000000-0000-4000-b000-' || lpad(to_hex(:{}), 12, '0'))::uuid"
CREATOR_SQL = "('00000000-0000-4000-a000-' || lpad(to_hex(:{}), 12, '0'))::uuid"
WALLET_TIP = {"creator_id": "{creator}", "amount": 2500, "currency": "ZMW", "source": "wallet"}
# small enough that no sender reaches TipzedTransferLimit's default
# (500000 a day) in the whole run, pgbench's transfers included
TRANSFER = {"recipient_id": "{creator}", "amount": 100}


def credit_sql(table, first, last):
    """A webhook's credit of a random pending payment of table (n in
    first..last), as the webhook handler calls it."""
    return (f"\\set n random({first}, {last})\n"
            "SELECT tz_api_apply_event('sandbox', 'pgb-' || :n || '-' || :client_id || '-' || random(),"
            f" (SELECT id FROM {table} WHERE n = :n), 'success', NULL, NULL, NULL);\n")


# PostgreSQL's group-commit ceiling: one small INSERT per transaction
# (synchronous_commit on, as the stack runs), the most commits per second
# the machine can make at this concurrency whatever the SQL
GROUP_COMMIT_SQL = "\\set n random(1, 1000000)\nINSERT INTO bench_commit (n) VALUES (:n);\n"


def wallet_tip_sql(d):
    """POST /payments/initiate source wallet's call, with the terms the
    module passed (fee, cashback rate and cap, referral bonus: read from a
    wallet payment it made), and no splits."""
    terms = sh(STACK, "psql", d, "-qAt", "-F", ",", "-c",
               "SELECT fee_bps, cashback_bps, cashback_cap, referral_bonus FROM payments"
               " WHERE source = 'wallet' LIMIT 1").stdout.strip()
    if not terms:
        raise RuntimeError("no wallet payment was made: the wallet tips all failed")
    return ("\\set f random(1, 1000)\n\\set c random(1, 10000)\n"
            f"SELECT tz_api_payment_wallet(gen_random_uuid(), {FAN_SQL.format('f')}, {CREATOR_SQL.format('c')},"
            f" {WALLET_TIP['amount']}, 'ZMW', NULL, {terms}, 'pgb-' || gen_random_uuid(), NULL, NULL, 0, 0);\n")


def transfer_sql():
    """POST /wallets/me/transfers' call under the default policy
    (to-creators) and limit (500000 per 86400 s)."""
    return ("\\set f random(1, 1000)\n\\set c random(1, 10000)\n"
            f"SELECT tz_api_transfer_create(gen_random_uuid(), {FAN_SQL.format('f')}, {CREATOR_SQL.format('c')},"
            f" {TRANSFER['amount']}, 'ZMW', NULL, '{{creator}}', 500000, 86400, 'pgb-' || gen_random_uuid());\n")


def webhook_lines(key, d, table, lo, count, warm_from, path, warm_path):
    """Signed sandbox success deliveries for the pending payments of table
    with lo < n <= count, one a line; from the warm_from'th line on for the
    warm-up."""
    secret = hmac.new(key, b"tipzed-sandbox-webhook", hashlib.sha256).hexdigest().encode()
    ids = sh(STACK, "psql", d, "-qAt", "-c",
             f"SELECT id FROM {table} WHERE n > {lo} AND n <= {count} ORDER BY n").stdout.split()
    now = int(time.time())
    with open(path, "w") as f, open(warm_path, "w") as warm:
        for i, pid in enumerate(ids):
            b = json.dumps({"payment_id": pid, "status": "success", "timestamp": now,
                            "provider_transaction_id": "bench-" + pid}, separators=(",", ":"))
            mac = hmac.new(secret, f"{now}.{b}".encode(), hashlib.sha256).hexdigest()
            (warm if i >= warm_from else f).write(f"t={now},v1={mac}\t{b}\n")


def prepare(d, env):
    base = env["TZ_BASE_URL"]
    key = open(os.path.join(env["TZ_SECRETS"], "jwt.key"), "rb").read().rstrip(b"\n")
    heavy = "00000000-0000-4000-a000-000000000001"
    fan = "00000000-0000-4000-b000-000000000001"
    files = {}
    files["creators"] = os.path.join(d, "creators.txt")
    with open(files["creators"], "w") as f:
        for i in range(1, 10001):
            f.write(f"/api/v1/creators/00000000-0000-4000-a000-{i:012x}\n")
    files["tx"] = os.path.join(d, "tx.txt")
    with open(files["tx"], "w") as f:
        for off in (0, 20, 100, 1000, 10000, 50000, 99000):
            f.write(f"/api/v1/wallets/me/transactions?limit=20&offset={off}\n")
    # the same bytes as a static file, served by the same Apache
    body = subprocess.run(["curl", "-s", f"{base}/api/v1/creators/{heavy}"], capture_output=True).stdout
    os.makedirs(os.path.join(d, "static"), exist_ok=True)
    with open(os.path.join(d, "static", "creator.json"), "wb") as f:
        f.write(body)
    files["static"] = os.path.join(d, "static.txt")
    with open(files["static"], "w") as f:
        f.write("/static/creator.json\n")
    # the webhook credits' payments: 1..100000 for the credits alone,
    # 100001..200000 for the credits while the outbox delivers
    for name, table, lo, count in (("webhook", "bench_pending", 0, 100000),
                                   ("webhook_outbox", "bench_pending", 100000, 200000),
                                   ("topup", "bench_topups", 0, 100000)):
        files[name] = os.path.join(d, name + ".txt")
        files[name + "_warm"] = os.path.join(d, name + "-warm.txt")
        webhook_lines(key, d, table, lo, count, count - lo - 10000, files[name], files[name + "_warm"])
    for name, prefix, count in (("initiate", "bench", 300000), ("initiate_warm", "warm", 20000)):
        files[name] = os.path.join(d, name + ".txt")
        with open(files[name], "w") as f:
            for i in range(count):
                c = f"00000000-0000-4000-a000-{i % 10000 + 1:012x}"
                f.write(f"{prefix}-{i}\t" + json.dumps({"creator_id": c, "amount": 2500, "currency": "ZMW",
                                                         "provider": "sandbox"}) + "\n")
    files["login"] = os.path.join(d, "login.txt")
    with open(files["login"], "w") as f:
        f.write("\t" + json.dumps({"email": "bench-login@bench.test", "password": "bench password 1"}) + "\n")
    # every seeded fan, for the wallet tips and transfers
    files["fans"] = os.path.join(d, "fans.txt")
    with open(files["fans"], "w") as f:
        for i in range(1, 1001):
            f.write(jwt(key, f"00000000-0000-4000-b000-{i:012x}", "fan") + "\n")
    tokens = {"creator": jwt(key, heavy, "creator"), "fan": jwt(key, fan, "fan")}
    return files, tokens


def credit_scenarios(d, env, files, r, post, warm):
    """The webhook credits, their pgbench ceiling and the group-commit ceiling."""
    r["webhook_credit"] = post("/api/v1/payments/webhook", "X-Tipzed-Signature",
                               files["webhook" + ("_warm" if warm else "")])
    if not warm:
        r["pgbench_ceiling"] = pgbench_ceiling(d, env, "webhook", credit_sql("bench_pending", 200001, 400000))
        r["group_commit_ceiling"] = pgbench_ceiling(d, env, "group_commit", GROUP_COMMIT_SQL)


def scenarios(d, env, files, tokens, duration=DURATION, warm=False, login=True, only_credits=False):
    """Every scenario in turn; warm=True is the short warm-up pass on data
    of its own (other webhook deliveries, other idempotency keys)."""
    base = env["TZ_BASE_URL"]
    get = lambda paths, token=None: wrk(base, "random_get.lua", {"BENCH_PATHS": paths, **({"BENCH_TOKEN": token} if token else {})}, duration)
    post = lambda path, header, bodies, token=None, conc=CONC: wrk(base, "post_lines.lua", {
        "BENCH_PATH": path, "BENCH_HEADER": header, "BENCH_BODIES": bodies,
        "BENCH_THREADS": str(THREADS), **({"BENCH_TOKEN": token} if token else {})}, duration, conc)
    # as a random fan to a random creator, a fresh key each request
    rpost = lambda path, body: wrk(base, "random_post.lua", {
        "BENCH_PATH": path, "BENCH_TOKENS": files["fans"], "BENCH_BODY": json.dumps(body),
        "BENCH_CREATORS": "10000", "BENCH_RUN": uuid.uuid4().hex[:12]}, duration)
    suffix = "_warm" if warm else ""
    r = {}
    if only_credits:
        credit_scenarios(d, env, files, r, post, warm)
        return r
    r["static_ceiling"] = get(files["static"])
    r["creator_profile"] = get(files["creators"])
    r["wallet_transactions"] = get(files["tx"], tokens["creator"])
    credit_scenarios(d, env, files, r, post, warm)
    r["initiate"] = post("/api/v1/payments/initiate", "X-Idempotency-Key", files["initiate" + suffix], tokens["fan"])
    r["wallet_tip"] = rpost("/api/v1/payments/initiate", WALLET_TIP)
    if not warm:
        r["pgbench_wallet_tip"] = pgbench_ceiling(d, env, "wallet_tip", wallet_tip_sql(d))
    r["topup_credit"] = post("/api/v1/payments/webhook", "X-Tipzed-Signature", files["topup" + suffix])
    if not warm:
        r["pgbench_topup"] = pgbench_ceiling(d, env, "topup", credit_sql("bench_topups", 100001, 200000))
    r["transfer"] = rpost("/api/v1/wallets/me/transfers", TRANSFER)
    if not warm:
        r["pgbench_transfer"] = pgbench_ceiling(d, env, "transfer", transfer_sql())
    # scrypt takes ~0.3 s of one core: two connections keep both cores busy
    # without queueing requests past wrk's timeout
    if login:
        r["login"] = post("/api/v1/auth/login", "X-Unused", files["login"], conc=THREADS)
    return r


def outbox_admin(d, env):
    """An admin (tipzedctl create-admin, enrolled in two-factor) and its
    access token, through both steps of the login."""
    from tzclient import fresh_totp, parse_enrolment
    email = f"bench-admin-{uuid.uuid4().hex[:8]}@bench.test"
    made = subprocess.run([os.path.join(env["TZ_BUILD"], "tipzedctl"), "-d", env["TZ_CONNINFO"],
                           "create-admin", "--email", email, "--name", "Bench Admin", "--key-file",
                           os.path.join(env["TZ_SECRETS"], "enc.key")],
                          input="bench admin password\n", text=True, capture_output=True, check=True)
    secret = parse_enrolment(made.stdout)["totp_secret"]

    def post(path, body):
        return json.loads(subprocess.run(
            ["curl", "-s", "-X", "POST", env["TZ_BASE_URL"] + "/api/v1" + path, "-H",
             "Content-Type: application/json", "-d", json.dumps(body)],
            capture_output=True, text=True, check=True).stdout)
    mfa = post("/auth/login", {"email": email, "password": "bench admin password"})["mfa_token"]
    return post("/auth/login/totp", {"mfa_token": mfa, "code": fresh_totp(secret)})["access_token"]


def endpoint(env, token, url):
    out = subprocess.run(["curl", "-s", "-X", "POST", env["TZ_BASE_URL"] + "/api/v1/webhook-endpoints",
                          "-H", "Content-Type: application/json", "-H", f"Authorization: Bearer {token}",
                          "-d", json.dumps({"url": url, "events": ["*"]})],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["id"]


def delivered(d):
    return int(sh(STACK, "psql", d, "-qAt", "-c",
                  "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'").stdout)


def outbox_scenarios(d, env, files, r):
    """What delivery costs the webhook credit path: the same credits while
    an admin's endpoint takes every event (a payment.succeeded, a
    wallet.credited and an invoice.issued a credit), delivered to a local
    receiver as they come; then the dispatcher alone, draining 20,000
    deliveries to 8 endpoints."""
    from receiver import Receiver
    hooks = Receiver()
    try:
        token = outbox_admin(d, env)
        endpoint(env, token, hooks.url)
        post = lambda bodies: wrk(env["TZ_BASE_URL"], "post_lines.lua", {
            "BENCH_PATH": "/api/v1/payments/webhook", "BENCH_HEADER": "X-Tipzed-Signature",
            "BENCH_BODIES": bodies, "BENCH_THREADS": str(THREADS)}, DURATION)
        before = delivered(d)
        r["webhook_credit_delivering"] = post(files["webhook_outbox"])
        r["webhook_credit_delivering"]["delivered_during"] = delivered(d) - before
        eps = [endpoint(env, token, f"{hooks.url}?n={i}") for i in range(8)]
        start, before = time.monotonic(), delivered(d)
        sh(STACK, "psql", d, "-q", "-c", "INSERT INTO webhook_deliveries (endpoint_id, event_id, event_seq)"
           " SELECT e.id, v.id, v.seq FROM (SELECT id, seq FROM outbox_events ORDER BY seq LIMIT 2500) v,"
           f" webhook_endpoints e WHERE e.id IN ({','.join(repr(x) for x in eps)})")
        while delivered(d) - before < 20000 and time.monotonic() - start < 300:
            time.sleep(0.5)
        took = time.monotonic() - start
        r["outbox_drain"] = {"rps": round((delivered(d) - before) / took, 1), "requests": delivered(d) - before,
                             "seconds": round(took, 1), "receiver_requests": len(hooks.requests)}
    finally:
        hooks.close()


# each write path and its pgbench ceiling (the same SQL function)
WRITE_CEILINGS = (("webhook_credit", "pgbench_ceiling"), ("wallet_tip", "pgbench_wallet_tip"),
                  ("topup_credit", "pgbench_topup"), ("transfer", "pgbench_transfer"))


def report(r, mem, reconcile_ok, chain_ok):
    ratio = lambda a, b: round(r[a]["rps"] / r[b]["rps"], 3) if r[b]["rps"] else None
    r["creator_profile"]["ratio"] = ratio("creator_profile", "static_ceiling")
    reads.ratios(r)
    for path, ceiling in WRITE_CEILINGS:
        r[path]["ratio"] = ratio(path, ceiling)
    r["webhook_credit"]["of_group_commit"] = ratio("webhook_credit", "group_commit_ceiling")
    r["webhook_credit_delivering"]["ratio"] = ratio("webhook_credit_delivering", "webhook_credit")
    print(f"\nmake bench: {CONC} connections, {DURATION}s per scenario\n")
    print(f"{'scenario':<22}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'errors':>8}{'ratio':>8}")
    for name, v in r.items():
        fmt = lambda x, spec: format(x, spec) if isinstance(x, (int, float)) else "-".rjust(int(re.match(r"\d+", spec).group()))
        print(f"{name:<22}{fmt(v['rps'], '10.0f')}{fmt(v.get('p50_ms'), '9.2f')}{fmt(v.get('p99_ms'), '9.2f')}"
              f"{fmt(v.get('non_2xx'), '9d')}{fmt(v.get('socket_errors'), '8d')}{fmt(v.get('ratio'), '8.2f')}"
              + (f"  {v['non_2xx_by_status']}" if v.get("non_2xx_by_status") else ""))
    cp = r["creator_profile"]
    if "cache_hits" in cp:
        print(f"\ncreator cache: {cp['cache_hits']} hits, {cp['cache_misses']} misses")
    print(f"\nlogin is bound by scrypt: {r['login']['rps']:.1f} hashes/s")
    w, o = r["webhook_credit_delivering"], r["outbox_drain"]
    print(f"outbox: {w['delivered_during']} deliveries made during the credits with an endpoint taking every"
          f" event; the dispatcher alone: {o['requests']} deliveries to 8 endpoints in {o['seconds']} s"
          f" ({o['rps']:.0f}/s)")
    f = mem["first_phase"]
    print(f"Apache children RSS, first phase: {f['before_kb']} KiB before, {f['after_kb']} KiB after "
          f"{f['requests']} requests (growth {f['after_kb'] - f['before_kb']} KiB)")
    for label, ph in (("second", mem.get("second_phase")), ("third", mem if "second_phase" in mem else None)):
        if ph:
            print(f"Apache children RSS, {label} phase: {ph['before_kb']} KiB before, {ph['after_kb']} KiB after "
                  f"{ph['requests']} requests (growth {ph['after_kb'] - ph['before_kb']} KiB)")
    for line in reads.report(r):
        print(line)
    print(f"reconciliation after the run: {'clean' if reconcile_ok else 'MISMATCHES'}"
          f" ({mem['reconcile_s']} s over the whole ledger)")
    print(f"hash chain after the run: {'whole' if chain_ok else 'BROKEN'}"
          f" ({mem['verify_chain_s']} s to verify: {mem['verify_chain']})")
    targets = {
        "reads >= 85% of the static ceiling": (r["creator_profile"]["ratio"] or 0) >= 0.85,
        "reads p99 < 20 ms": (r["creator_profile"]["p99_ms"] or 1e9) < 20,
        **{f"{path} >= 70% of {ceiling}": (r[path]["ratio"] or 0) >= 0.70
           for path, ceiling in WRITE_CEILINGS},
        "webhook_credit >= 70% of the group-commit ceiling": (r["webhook_credit"]["of_group_commit"] or 0) >= 0.70,
        "webhook credits while delivering >= 90% of without": (r["webhook_credit_delivering"]["ratio"] or 0) >= 0.90,
        "child memory growth < 2 MB": mem["after_kb"] - mem["before_kb"] < 2048,
        "no unexpected errors": all(v.get("non_2xx", 0) == 0 and v.get("socket_errors", 0) == 0
                                    for k, v in r.items() if k not in ("login",)),
    }
    targets.update(analytics.report(r, mem["analytics"]))
    targets.update(reads.targets(r))
    for t, ok in targets.items():
        print(f"  [{'met' if ok else 'MISSED'}] {t}")
    return targets


def report_credits(r, mem, reconcile_ok, chain_ok):
    """bench.py credits: the webhook credits against both ceilings."""
    ratio = lambda a, b: round(r[a]["rps"] / r[b]["rps"], 3) if r[b]["rps"] else None
    w = r["webhook_credit"]
    w["ratio"], w["of_group_commit"] = ratio("webhook_credit", "pgbench_ceiling"), ratio("webhook_credit", "group_commit_ceiling")
    print(f"\nbench.py credits: {CONC} connections, {DURATION}s per scenario\n")
    for name, v in r.items():
        print(f"{name:<22}{v['rps']:>10.0f} req/s" + (f"  non-2xx {v['non_2xx']}" if v.get("non_2xx") else ""))
    print(f"reconciliation after the run: {'clean' if reconcile_ok else 'MISMATCHES'}; hash chain: "
          f"{'whole' if chain_ok else 'BROKEN'} ({mem['verify_chain']})")
    targets = {"webhook_credit >= 70% of pgbench_ceiling": (w["ratio"] or 0) >= 0.70,
               "webhook_credit >= 70% of the group-commit ceiling": (w["of_group_commit"] or 0) >= 0.70,
               "no unexpected errors": all(v.get("non_2xx", 0) == 0 and v.get("socket_errors", 0) == 0
                                           for v in r.values())}
    for t, ok in targets.items():
        print(f"  [{'met' if ok else 'MISSED'}] {t}")
    return targets


def report_analytics(r, mem, reconcile_ok, chain_ok):
    """bench.py analytics: that scenario, reconciliation and the chain."""
    targets = analytics.report(r, mem["analytics"])
    print(f"reconciliation after the run: {'clean' if reconcile_ok else 'MISMATCHES'}"
          f" ({mem['reconcile_s']} s); hash chain: {'whole' if chain_ok else 'BROKEN'}"
          f" ({mem['verify_chain_s']} s)")
    for t, ok in targets.items():
        print(f"  [{'met' if ok else 'MISSED'}] {t}")
    return targets


def report_reads(r, mem, reconcile_ok, chain_ok):
    """bench.py reads: the read and engine scenarios, reconciliation and
    the chain."""
    print(f"\nbench.py reads: {CONC} connections, {DURATION}s per scenario\n")
    reads.ratios(r)
    for name, v in r.items():
        print(f"{name:<30}{v['rps']:>10.1f} req/s  p50 {v.get('p50_ms') or 0:.2f} ms  p99 {v.get('p99_ms') or 0:.2f} ms"
              f"  non-2xx {v.get('non_2xx', 0)}  errors {v.get('socket_errors', 0)}"
              + (f"  ratio {v['ratio']:.2f}" if v.get("ratio") is not None else ""))
    for line in reads.report(r):
        print(line)
    print(f"reconciliation after the run: {'clean' if reconcile_ok else 'MISMATCHES'}"
          f" ({mem['reconcile_s']} s); hash chain: {'whole' if chain_ok else 'BROKEN'}"
          f" ({mem['verify_chain_s']} s)")
    targets = reads.targets(r)
    for t, ok in targets.items():
        print(f"  [{'met' if ok else 'MISSED'}] {t}")
    return targets


def reads_scenarios(d, env, files, tokens, key, r):
    """Statements, invoice PDFs, renewals (reads.py)."""
    r.update(reads.statements(env, tokens["creator"], wrk, DURATION, lambda: children_rss_kb(env)))
    r.update(reads.invoice_pdfs(STACK, d, env, key, jwt, wrk, DURATION))
    r.update(reads.renewals(STACK, d, env, outbox_admin(d, env)))


def keyset_only(d, env):
    """bench.py keyset: only the keyset scenario, on a stack without the
    bench's seed."""
    key = open(os.path.join(env["TZ_SECRETS"], "jwt.key"), "rb").read().rstrip(b"\n")
    print("seeding one creator with 100,000 wallet lines ...", flush=True)
    ok = keyset.report(keyset.scenarios(d, env, key, STACK, sh, jwt, wrk, DURATION))
    return 0 if all(ok.values()) else 1


def main():
    only = sys.argv[1:]
    if only not in ([], ["keyset"], ["analytics"], ["credits"], ["reads"]):
        sys.exit("usage: bench.py [keyset | analytics | credits | reads]")
    d = tempfile.mkdtemp(prefix="tipzed-bench.")
    os.chmod(d, 0o755)
    os.makedirs(os.path.join(d, "static"))
    extra = (f"LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so\n"
             f"Alias /static \"{d}/static\"\n<Directory \"{d}/static\">\n  Require all granted\n</Directory>\n"
             "TipzedLoginRateLimit 1000000 1s\n"
             # the outbox's receiver listens on 127.0.0.1
             "TipzedWebhookAllowPrivate On\n"
             # wrk keeps its connections open; httpd's default closes each
             # after 100 requests, which costs handshakes and read errors
             "MaxKeepAliveRequests 0\n"
             # event MPM sized for wrk's 32 connections: no child needs to
             # close kept-alive connections when all its workers are busy
             "ThreadsPerChild 32\nMaxRequestWorkers 64\nAsyncRequestWorkerFactor 4\n"
             # each worker thread's allocator keeps at most 256 KiB of freed
             # blocks (httpd's default lets 64 threads keep 2 MiB each)
             "MaxMemFree 256\n"
             # room for all 10,000 profiles (~200 bytes each) in every subcache;
             # API writes drop entries themselves, so the TTL is only a
             # backstop: 5 minutes (at 30 s, profiles cached by the warm-up
             # expire in the middle of the measured run)
             f"TipzedCreatorCache \"shmcb:{d}/creators.shm(16777216)\" 5m\n")
    subprocess.run([STACK, "up", d, "--sandbox"], check=True, env=dict(os.environ, TZ_EXTRA_CONF=extra))
    try:
        env = read_env(d)
        if only == ["keyset"]:
            return keyset_only(d, env)
        entries = 10000 if only == ["credits"] else 500000
        print(f"seeding 10,000 creators, 1,000 funded fans, {2 * entries} postings ...", flush=True)
        sh(STACK, "psql", d, "-q", "-v", "ON_ERROR_STOP=1", "-v", f"entries={entries}",
           input=bench_sql("seed.sql"), timeout=1800)
        if only == ["credits"]:
            # the webhook credits and their ceilings alone, after a warm-up pass
            files, tokens = prepare(d, env)
            scenarios(d, env, files, tokens, duration=3, warm=True, only_credits=True)
            return finish(scenarios(d, env, files, tokens, only_credits=True), {}, env, only="credits")
        subprocess.run(["curl", "-s", "-o", "/dev/null", "-X", "POST", env["TZ_BASE_URL"] + "/api/v1/auth/register",
                        "-H", "Content-Type: application/json", "-d", json.dumps({
                            "email": "bench-login@bench.test", "password": "bench password 1",
                            "full_name": "Bench", "role": "fan"})], check=True)
        print("seeding a year of tips for the analytics scenario ...", flush=True)
        info = analytics.seed(d)
        files, tokens = prepare(d, env)
        if only == ["analytics"]:
            # that scenario alone (after a warm-up pass)
            analytics.scenarios(d, env, tokens["creator"], wrk, DURATION, warm=True)
            r, mem = analytics.scenarios(d, env, tokens["creator"], wrk, DURATION), {}
            info["answer_ok"] = analytics.check_answer(env, tokens["creator"])
            mem["analytics"] = info
            return finish(r, mem, env, only="analytics")
        key = open(os.path.join(env["TZ_SECRETS"], "jwt.key"), "rb").read().rstrip(b"\n")
        if only == ["reads"]:
            # these scenarios alone, after the warm-up pass (whose credits
            # issue the invoices)
            scenarios(d, env, files, tokens, duration=3, warm=True, login=False)
            get = lambda paths: wrk(env["TZ_BASE_URL"], "random_get.lua", {"BENCH_PATHS": paths})
            r = {"static_ceiling": get(files["static"]), "creator_profile": get(files["creators"])}
            reads_scenarios(d, env, files, tokens, key, r)
            r.update(reads.uncached(STACK, d, env, files, wrk, DURATION, CONC))
            return finish(r, {}, env, only="reads")
        # Every path once before the baseline: pooled connections, prepared
        # statements, PostgreSQL's plan caches and each worker thread's
        # allocator reach their working size, which is not growth.
        scenarios(d, env, files, tokens, duration=3, warm=True)
        # every profile once, as a cache in service has seen them
        wrk(env["TZ_BASE_URL"], "random_get.lua", {"BENCH_PATHS": files["creators"], "BENCH_SEQ": "1"}, 4)
        analytics.scenarios(d, env, tokens["creator"], wrk, DURATION, warm=True)
        r = scenarios(d, env, files, tokens)
        r.update(analytics.scenarios(d, env, tokens["creator"], wrk, DURATION))
        info["answer_ok"] = analytics.check_answer(env, tokens["creator"])
        outbox_scenarios(d, env, files, r)
        reads_scenarios(d, env, files, tokens, key, r)
        ks = keyset.scenarios(d, env, key, STACK, sh, jwt, wrk, DURATION)
        # Memory in steady state: after every scenario has run (each worker
        # thread's allocator and every pooled connection at working size),
        # then over 200,000 more requests of every kind but login.
        # Three such phases: a leak grows in each by about as much, a
        # working set that is still settling grows less in each.
        phases = []
        for _ in range(3):
            before, served = children_rss_kb(env), 0
            while served < 200000:
                again = scenarios(d, env, files, tokens, duration=5, warm=True, login=False)
                served += sum(v.get("requests", 0) for v in again.values())
                served += wrk(env["TZ_BASE_URL"], "random_get.lua", {"BENCH_PATHS": files["creators"]}, 10)["requests"]
            phases.append({"before_kb": before, "after_kb": children_rss_kb(env), "requests": served})
        mem = dict(phases[-1], first_phase=phases[0], second_phase=phases[1], analytics=info)
        # the profile read with the cache off: after the memory phases, since
        # it restarts the children (gracefully) twice
        r.update(reads.uncached(STACK, d, env, files, wrk, DURATION, CONC))
        return finish(r, mem, env, ks=ks)
    finally:
        subprocess.run([STACK, "down", d], capture_output=True)


def finish(r, mem, env, ks=None, only=None):
    """Reconciliation and the chain after the run, the report, the JSON;
    ks: the keyset scenario's figures, reported after the others."""
    t = time.monotonic()
    rec = subprocess.run([os.path.join(env["TZ_BUILD"], "tipzedctl"), "-d", env["TZ_CONNINFO"], "reconcile"],
                         capture_output=True, text=True)
    mem["reconcile_s"] = round(time.monotonic() - t, 2)
    t = time.monotonic()
    chain = subprocess.run([os.path.join(env["TZ_BUILD"], "tipzedctl"), "-d", env["TZ_CONNINFO"],
                            "verify-chain"], capture_output=True, text=True)
    mem["verify_chain_s"] = round(time.monotonic() - t, 2)
    mem["verify_chain"] = (chain.stdout.strip().splitlines() or [chain.stderr.strip()])[-1]
    targets = {"analytics": report_analytics, "credits": report_credits,
               "reads": report_reads}.get(only, report)(
        r, mem, rec.returncode == 0, chain.returncode == 0)
    if ks is not None:
        targets.update(keyset.report(ks))
        r.update(ks)
    out = os.path.join(REPO, "tests", "results")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, time.strftime("bench-%Y%m%d-%H%M%S.json"))
    with open(path, "w") as f:
        json.dump({"connections": CONC, "seconds": DURATION, "scenarios": r, "memory": mem,
                   "reconciliation_clean": rec.returncode == 0,
                   "chain_whole": chain.returncode == 0, "targets": targets}, f, indent=2)
    print(f"\nresults: {path}")
    return 0 if rec.returncode == 0 and chain.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
