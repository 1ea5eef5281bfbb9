"""GET /metrics (docs/metrics.md): the Prometheus text format parses (a
small parser below checks its rules), the counters move by exactly what
was done between two scrapes (requests by route pattern, method and
status, latency histograms, a forged provider webhook, a credit), the
database's figures follow, every child process adds into the same
counters, and TipzedMetricsAccess refuses other addresses with a 403
problem (on a second node whose only allowed address is 127.0.0.1)."""
import math
import os
import re
import socket
import subprocess
import threading
import time
import uuid

import pytest

from test_payments import initiate, mm_webhook, post_delivery, sandbox_deliveries
from tzclient import Client, assert_problem, next_source_ip, register
from tznode import Node
from tzstack import STACK

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)\Z")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|\})')


def parse_labels(text):
    """{a="x",b="y\\"z"} -> (("a", "x"), ("b", 'y"z')), escapes undone."""
    if not text:
        return ()
    assert text[0] == "{", text
    pairs, pos = [], 1
    while pos < len(text):
        m = LABEL.match(text, pos)
        assert m, f"malformed labels at {pos}: {text}"
        value = re.sub(r"\\(.)", lambda e: "\n" if e.group(1) == "n" else e.group(1), m.group(2))
        pairs.append((m.group(1), value))
        pos = m.end()
        if m.group(3) == "}":
            break
    assert pos == len(text), f"trailing characters after labels: {text}"
    names = [k for k, _ in pairs]
    assert len(names) == len(set(names)), f"a label twice: {text}"
    return tuple(pairs)


def parse(text):
    """The exposition format 0.0.4, checked as Prometheus reads it: every
    sample belongs to a family declared by # TYPE (with # HELP) before it,
    once; no series twice; values are floats; histograms are cumulative and
    end with +Inf equal to _count.  Returns ({family: type},
    {(name, labels): value})."""
    types, helps, samples = {}, {}, {}
    assert text.endswith("\n"), "the last line must end with a newline"
    for line in text.split("\n")[:-1]:
        assert line, "no blank lines"
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            kind, name, rest = line[2:6], *line[7:].split(" ", 1)
            assert NAME.match(name), line
            table = helps if kind == "HELP" else types
            assert name not in table, f"{kind} twice for {name}"
            if kind == "TYPE":
                assert rest in ("counter", "gauge", "histogram"), line
                assert name in helps, f"TYPE before HELP for {name}"
            table[name] = rest
            continue
        assert not line.startswith("#"), line
        m = SAMPLE.match(line)
        assert m, f"malformed sample: {line!r}"
        name, labels, value = m.group(1), parse_labels(m.group(2)), m.group(3)
        assert family(name, types) in types, f"no TYPE for {name}"
        key = (name, labels)
        assert key not in samples, f"series twice: {line}"
        samples[key] = float(value)  # accepts NaN, +Inf, -Inf
    for name, kind in types.items():
        if kind == "counter":
            assert name.endswith("_total"), name
            assert all(v >= 0 and not math.isnan(v) for (n, _), v in samples.items() if n == name)
        if kind == "histogram":
            check_histogram(name, samples)
    return types, samples


def family(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and types.get(name[:-len(suffix)]) == "histogram":
            return name[:-len(suffix)]
    return name


def check_histogram(name, samples):
    series = {}
    for (n, labels), v in samples.items():
        if n == name + "_bucket":
            rest = tuple(p for p in labels if p[0] != "le")
            le = dict(labels)["le"]
            series.setdefault(rest, []).append((float(le), v))
    assert series, f"{name} has no buckets"
    for rest, buckets in series.items():
        buckets.sort()
        counts = [c for _, c in buckets]
        assert counts == sorted(counts), f"{name}{rest}: buckets not cumulative"
        assert buckets[-1][0] == math.inf, f"{name}{rest}: no +Inf bucket"
        assert samples[(name + "_count", rest)] == buckets[-1][1], f"{name}{rest}: _count"
        assert samples[(name + "_sum", rest)] >= 0


def scrape(api):
    r = api.get("/metrics")
    assert r.status == 200, r
    assert r.headers["Content-Type"] == CONTENT_TYPE, r.headers
    return parse(r.text)[1]


def wait_for(api, check, seconds=60):
    """Scrapes until check(samples) holds (then the assertions after it say
    exactly what moved): a request is counted once its response has been
    sent, so the scrape that follows it may come first; and the database's
    figures are kept a few seconds per child process."""
    deadline = time.time() + seconds
    while True:
        s = scrape(api)
        if check(s) or time.time() > deadline:
            return s
        time.sleep(0.2)


def get(samples, name, **labels):
    """The sample whose labels are exactly these (in any order), or 0."""
    want = set(labels.items())
    for (n, ls), v in samples.items():
        if n == name and set(ls) == want:
            return v
    return 0.0


def requests(samples, route, method, status):
    return get(samples, "tipzed_http_requests_total", route=route, method=method, status=str(status))


def test_the_exposition_parses_and_names_every_series(api):
    r = api.get("/metrics")
    assert r.status == 200, r
    assert r.headers["Content-Type"] == CONTENT_TYPE
    assert r.headers["Cache-Control"] == "no-store"
    types, samples = parse(r.text)
    for name, kind in {
        "tipzed_build_info": "gauge", "tipzed_http_requests_total": "counter",
        "tipzed_http_request_duration_seconds": "histogram",
        "tipzed_webhook_verification_failures_total": "counter",
        "tipzed_credits_total": "counter", "tipzed_provider_events_total": "counter", "tipzed_db_acquire_total": "counter",
        "tipzed_db_queries_total": "counter", "tipzed_db_connections_in_use": "gauge", "tipzed_db_errors_total": "counter",
        "tipzed_db_reconnects_total": "counter", "tipzed_db_conflict_retries_total": "counter",
        "tipzed_database_up": "gauge", "tipzed_payments": "gauge",
        "tipzed_payments_amount": "gauge", "tipzed_payouts": "gauge",
        "tipzed_subscriptions": "gauge", "tipzed_outbox_event_lag_seconds": "gauge",
        "tipzed_webhook_deliveries": "gauge", "tipzed_webhook_delivery_lag_seconds": "gauge",
        "tipzed_mail": "gauge", "tipzed_mail_lag_seconds": "gauge",
        "tipzed_child_processes": "gauge", "tipzed_metrics_start_time_seconds": "gauge",
    }.items():
        assert types.get(name) == kind, (name, types.get(name))
    assert get(samples, "tipzed_database_up") == 1
    assert any(n == "tipzed_build_info" and dict(ls).get("version") for (n, ls) in samples)
    assert get(samples, "tipzed_child_processes", state="serving") >= 1
    # every payment state is a series, 0 or not
    for st in ("pending", "succeeded", "failed", "expired", "review", "refunded"):
        assert ("tipzed_payments", (("status", st),)) in samples, st
    # HEAD is answered without a body, with the same type
    h = api.request("HEAD", "/metrics")
    assert h.status == 200 and h.body == b"" and h.headers["Content-Type"] == CONTENT_TYPE


def test_requests_are_counted_by_route_pattern_method_and_status(api, new_client):
    before = scrape(api)
    for _ in range(3):
        assert api.get("/health").status == 200
    pid = str(uuid.uuid4())
    assert_problem(api.get("/no/such/route"), 404)
    assert_problem(api.get(f"/payments/{pid}"), 401)
    assert_problem(api.request("DELETE", "/health"), 405)
    bad = api.post("/auth/register", json={"email": "not an email", "password": "x",
                                           "role": "fan", "full_name": "X"})
    assert_problem(bad, 422)
    fan = register(new_client())
    assert_problem(api.get(f"/payments/{pid}", token=fan["access_token"]), 404)
    expected = {("/health", "GET", 200): 3, ("unmatched", "GET", 404): 1,
                ("unmatched", "DELETE", 405): 1, ("/payments/{id}", "GET", 401): 1,
                ("/payments/{id}", "GET", 404): 1, ("/auth/register", "POST", 422): 1,
                ("/auth/register", "POST", 201): 1}
    moved = lambda s, k: requests(s, *k) - requests(before, *k)
    after = wait_for(api, lambda s: all(moved(s, k) >= n for k, n in expected.items()))
    assert {k: moved(after, k) for k in expected} == expected
    delta = lambda route, method, status: moved(after, (route, method, status))
    assert delta("/metrics", "GET", 200) >= 1  # the first scrape, counted once answered
    # the histogram counted the same requests, and their time
    hist = lambda s, n: get(s, "tipzed_http_request_duration_seconds_" + n, route="/health",
                            method="GET")
    assert hist(after, "count") - hist(before, "count") == 3
    assert hist(after, "sum") > hist(before, "sum")
    # labels are patterns, never what the client sent
    assert not any(pid in v or "/no/such" in v for (_, ls) in after for (_, v) in ls)


def test_a_forged_provider_webhook_is_counted_by_provider(api, stack):
    before = scrape(api)
    body = b'{"event_id": "evt_forged", "payment_id": "' + str(uuid.uuid4()).encode() + b'"}'
    r = api.post("/webhooks/mobile_money", body=body, headers={
        "Content-Type": "application/json", "X-Tipzed-Signature": "t=1,v1=" + "0" * 64})
    assert_problem(r, 401, "invalid_signature")
    r = mm_webhook(api, stack, {"event": "x"}, secret=b"not the secret at all, forged")
    assert_problem(r, 401, "invalid_signature")
    after = wait_for(api, lambda s: requests(s, "/payments/webhook", "POST", 401) >
                     requests(before, "/payments/webhook", "POST", 401))
    failures = lambda s, p: get(s, "tipzed_webhook_verification_failures_total", provider=p)
    # /payments/webhook speaks for every enabled generic provider (the
    # gateway and, on a sandbox stack, the sandbox): "generic" then
    generic = "generic" if stack.env.get("TZ_SANDBOX") == "On" else "mobile_money"
    assert failures(after, "mobile_money") - failures(before, "mobile_money") == \
        (2 if generic == "mobile_money" else 1)
    if generic == "generic":
        assert failures(after, "generic") - failures(before, "generic") == 1
    assert failures(after, "stripe") == failures(before, "stripe")
    assert get(after, "tipzed_credits_total", provider="mobile_money") == \
        get(before, "tipzed_credits_total", provider="mobile_money")


def test_a_credit_moves_the_credit_counter_and_the_payment_gauges(api, new_client, stack):
    if stack.env.get("TZ_SANDBOX") != "On":
        pytest.skip("needs the sandbox provider (stack.sh up --sandbox)")
    creator = register(new_client(), role="creator", full_name="Metrics Creator")
    fan = register(new_client(), full_name="Metrics Fan")
    before = scrape(api)
    succeeded = get(before, "tipzed_payments", status="succeeded")
    p = initiate(api, fan, creator["user"]["id"], amount=2500)
    assert p.status == 201, p
    d = sandbox_deliveries(api, p.json["mobile_money_url"])
    assert post_delivery(api, d, "approve").json == {"status": "success"}
    after = wait_for(api, lambda s: get(s, "tipzed_payments", status="succeeded") > succeeded)
    assert get(after, "tipzed_credits_total", provider="sandbox") - \
        get(before, "tipzed_credits_total", provider="sandbox") == 1
    assert get(after, "tipzed_payments", status="succeeded") >= succeeded + 1
    # the gauges are the database's figures (other tests' payments too,
    # which the status polling may move meanwhile: compare with a fresh read)
    total = lambda: int(stack.psql("SELECT coalesce(sum(amount), 0) FROM payments"
                                   " WHERE status = 'succeeded' AND currency = 'ZMW'")[0][0])
    same = lambda s: get(s, "tipzed_payments_amount", status="succeeded", currency="ZMW") == total()
    assert same(wait_for(api, same))
    events = lambda s, o: get(s, "tipzed_provider_events_total", provider="sandbox", outcome=o)
    assert events(after, "credited") - events(before, "credited") == 1
    # the same delivery again is a duplicate: no second credit
    assert post_delivery(api, d, "approve").status == 200
    again = scrape(api)
    assert get(again, "tipzed_credits_total", provider="sandbox") == \
        get(after, "tipzed_credits_total", provider="sandbox")
    assert events(again, "duplicate") - events(after, "duplicate") == 1
    assert events(again, "credited") == events(after, "credited")


def test_without_the_database_figures_the_rest_is_still_served(api, stack):
    """When the database cannot answer the metrics' query (here: the
    runtime role may no longer run it), the scrape still answers 200 with
    every counter, says tipzed_database_up 0, leaves the database's
    figures out rather than serve old ones, and counts the failure."""
    role = stack.app_role
    stack.psql(f"REVOKE EXECUTE ON FUNCTION tz_api_metrics() FROM {role}")
    try:
        before = scrape(api)
        down = wait_for(api, lambda s: get(s, "tipzed_database_up") == 0)
        assert get(down, "tipzed_database_up") == 0
        assert not any(n in ("tipzed_payments", "tipzed_mail_lag_seconds") for (n, _) in down)
        assert ("tipzed_http_requests_total", (("route", "/metrics"), ("method", "GET"),
                                               ("status", "200"))) in down
        # the failed query is counted after that scrape's counters were written
        later = scrape(api)
        assert get(later, "tipzed_db_errors_total") > get(before, "tipzed_db_errors_total")
    finally:
        stack.psql(f"GRANT EXECUTE ON FUNCTION tz_api_metrics() TO {role}")
    up = wait_for(api, lambda s: get(s, "tipzed_database_up") == 1)
    assert get(up, "tipzed_database_up") == 1 and ("tipzed_payments", (("status", "pending"),)) in up


def child_pids(stack):
    with open(stack.env["TZ_PIDFILE"]) as f:
        parent = f.read().strip()
    out = subprocess.run(["pgrep", "-P", parent], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def established_inodes(port):
    """Socket inodes of the server side of connections to port (IPv4)."""
    inodes = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            cols = line.split()
            local_port = int(cols[1].split(":")[1], 16)
            if local_port == port and cols[3] == "01":  # ESTABLISHED
                inodes.add(cols[9])
    return inodes


def children_holding(stack, port):
    """The child processes that hold at least one connection to port."""
    inodes, holders = established_inodes(port), set()
    for pid in child_pids(stack):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in inodes:
                holders.add(pid)
    return holders


def test_every_child_adds_into_the_same_counters(api, stack):
    """More connections than one child has threads (25) are held open in
    the middle of their bodies, so both children must take some; once they
    are answered, one scrape (from whichever child) counts them all."""
    if not os.access(f"/proc/{child_pids(stack)[0]}/fd", os.R_OK):
        pytest.skip("cannot see which child holds a connection (run as root)")
    n, port = 36, int(stack.env["TZ_PORT"])
    before = scrape(api)
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 8\r\n"
                  b"Connection: close\r\n\r\n{")
        socks.append(s)
    deadline, holders = time.time() + 15, set()
    while time.time() < deadline and len(holders) < 2:
        holders = children_holding(stack, port)
        time.sleep(0.2)
    answers = []
    for s in socks:
        s.sendall(b'"x":1,}\n')
    for s in socks:
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        s.close()
        answers.append(int(data.split(b" ", 2)[1]))
    assert len(holders) >= 2, f"only children {holders} took the connections"
    assert answers == [400] * n, answers
    after = wait_for(api, lambda s: requests(s, "/auth/login", "POST", 400) -
                     requests(before, "/auth/login", "POST", 400) >= n)
    assert requests(after, "/auth/login", "POST", 400) - \
        requests(before, "/auth/login", "POST", 400) == n
    # every pooled connection went back: none is held once the requests
    # are answered (the watchdog's, a moment at a time, aside)
    idle = wait_for(api, lambda s: get(s, "tipzed_db_connections_in_use") == 0)
    assert get(idle, "tipzed_db_connections_in_use") == 0


def test_connections_held_by_requests_are_shown(api, stack):
    """Requests waiting on a locked table each hold their pooled
    connection: the gauge counts them, across children, and drops back
    once they are answered."""
    n = 6
    lock = subprocess.Popen([STACK, "psql", stack.dir, "-U", "tipzed", "-d", "tipzed", "-qAt",
                             "-v", "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    answers, threads = [], []
    try:
        lock.stdin.write("BEGIN;\nLOCK TABLE creator_profiles IN ACCESS EXCLUSIVE MODE;\n"
                         "SELECT 'locked';\n")
        lock.stdin.flush()
        assert lock.stdout.readline().strip() == "locked", lock.stderr.read()
        for _ in range(n):
            c = Client(stack.api_url, source_ip=next_source_ip())
            t = threading.Thread(target=lambda c=c: answers.append(
                c.get(f"/creators/{uuid.uuid4()}").status))
            t.start()
            threads.append(t)
        busy = wait_for(api, lambda s: get(s, "tipzed_db_connections_in_use") >= n)
        assert get(busy, "tipzed_db_connections_in_use") >= n
    finally:
        lock.stdin.write("COMMIT;\n")
        lock.stdin.close()
        lock.wait(timeout=30)
        for t in threads:
            t.join(timeout=30)
    assert answers == [404] * n, answers
    idle = wait_for(api, lambda s: get(s, "tipzed_db_connections_in_use") == 0)
    assert get(idle, "tipzed_db_connections_in_use") == 0


@pytest.fixture(scope="module")
def guarded(stack):
    """A second node whose metrics only 127.0.0.1 may read."""
    node = Node(stack, f"metrics-{uuid.uuid4().hex[:6]}", extra="TipzedMetricsAccess 127.0.0.1")
    node.start()
    yield node
    node.stop()


def test_other_addresses_get_403(guarded):
    outsider = guarded.api  # a 127.N.x.y source address of its own
    assert outsider.source_ip != "127.0.0.1"
    r = outsider.get("/metrics")
    p = assert_problem(r, 403, "forbidden")
    assert "tipzed_" not in r.text and "metrics" in p["detail"]
    # the refusal is counted like any answer
    allowed = Client(f"http://127.0.0.1:{guarded.port}/api/v1", source_ip="127.0.0.1")
    s = wait_for(allowed, lambda s: requests(s, "/metrics", "GET", 403) >= 1)
    assert requests(s, "/metrics", "GET", 403) >= 1
    # the rest of the API answers everyone as before
    assert outsider.get("/health").status == 200


def test_counters_survive_a_graceful_restart(guarded):
    allowed = Client(f"http://127.0.0.1:{guarded.port}/api/v1", source_ip="127.0.0.1")
    # 404s: nothing else asks this node for them (its start and the other
    # tests ask for /health, maybe not counted yet)
    start = requests(scrape(allowed), "unmatched", "GET", 404)
    for _ in range(4):
        assert_problem(allowed.get("/no/such/route"), 404)
    before = wait_for(allowed, lambda s: requests(s, "unmatched", "GET", 404) == start + 4)
    assert requests(before, "unmatched", "GET", 404) == start + 4
    seen = len(guarded.log())
    r = subprocess.run(["apache2", "-f", guarded.conf, "-k", "graceful"], env=guarded.env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    deadline = time.time() + 20
    while "resuming normal operations" not in guarded.log()[seen:]:
        assert time.time() < deadline, guarded.log()
        time.sleep(0.2)
    after = scrape(allowed)
    assert get(after, "tipzed_metrics_start_time_seconds") == \
        get(before, "tipzed_metrics_start_time_seconds")
    assert requests(after, "unmatched", "GET", 404) == requests(before, "unmatched", "GET", 404)
    assert requests(after, "/metrics", "GET", 200) >= requests(before, "/metrics", "GET", 200) + 1


def test_bad_access_lists_are_refused_by_configtest(stack, guarded):
    for bad, why in (("10.0.0.1/8", "beyond its prefix"), ("all 10.0.0.0/8", "all"),
                     ("10.0.0.0/33", "prefix length"), ("localhost", "not an IPv4 or IPv6")):
        conf = guarded.conf + ".bad"
        with open(guarded.conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text + f"\nTipzedMetricsAccess {bad}\n")
        r = subprocess.run(["apache2", "-t", "-f", conf], env=guarded.env, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode != 0, bad
        assert "TipzedMetricsAccess" in r.stderr and why in r.stderr, r.stderr
