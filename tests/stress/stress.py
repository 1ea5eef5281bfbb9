#!/usr/bin/env python3
"""`make stress`: the bank invariant under concurrency and faults (money is never created or lost, whatever fails).

Many concurrent clients drive every money-moving path of a running stack
(registrations, payment initiations with idempotency keys and retries of the
same key, success and failure webhooks delivered several times and out of
order, payout requests and cancellations, admin approvals, rejections,
completions and failures, refunds through the mobile_money gateway's
stand-in -- full and partial, confirmed, pending, refused or unanswered --
and disputes opened, won and lost) while a fault thread restarts PostgreSQL
with `-m immediate`, restarts Apache gracefully and SIGKILLs an Apache
child.  Every response is recorded; afterwards the outcome is checked
against what the server acknowledged:

  * reconciliation is clean (`tipzedctl reconcile`: the ledger sums to zero,
    cached balances equal postings, no wallet is negative);
  * a payment whose success webhook got a 2xx is credited exactly once, a
    payment no success was sent for is not credited at all, and no payment
    is credited twice;
  * every acknowledged payout request, payout action, refund and dispute
    is reflected, and nothing appears that no request could have made (a
    refund is confirmed only if the gateway confirmed it, refused only if
    the gateway refused it);
  * every creator's wallet plus what the creator owes (the receivable), as
    the API and the ledger report them, equals what its payments, refunds,
    disputes and payouts add up to;
  * no Apache child crashed (only the children killed on purpose died of a
    signal), and the server answers a full payment flow normally after the
    last fault;
  * over the last quarter of the run, which has no faults (and no
    registrations, whose password hash maps 32 MiB for a moment), no
    child's resident memory grows by more than GROWTH_BOUND_KB.

A request that got no answer, or a 5xx, is indeterminate: it may or may not
have been applied, and the checks accept both (Jepsen's "info" operations).
Standard library only.  Talks to 127.0.0.1 only; stops by itself.

Usage: stress.py STACK_DIR [--duration S] [--clients N] [--fault-every S]
Exit status: 0 when no invariant is violated, 1 otherwise, 2 on misuse.
"""
import argparse
import hashlib
import hmac
import json
import os
import random
import re
import signal
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from fakeproviders import StandIn, generic_routes  # noqa: E402
from tzclient import Client, login, unique_email  # noqa: E402
from tzstack import Stack  # noqa: E402

# What the gateway's stand-in answers a refund call: confirmed, pending (a
# callback confirms it later, or nothing does), refused, or a 503 (the
# module does not know; the watchdog asks again with the same refund id).
REFUND_OUTCOMES = ["succeeded"] * 11 + ["pending"] * 3 + ["failed"] * 2 + [400] + [503] * 3

PASSWORD = "stress password 123"
CURRENCY = "ZMW"
TIMEOUT = 30          # seconds a client waits for one answer
HASH_TIMEOUT = 90     # ... for a registration: scrypt queues behind
                      # TipzedPasswordHashConcurrency on a saturated machine
RETRIES = 4           # further attempts after an indeterminate answer
GRACE = 3.0           # seconds after recovery still counted as "during a fault"
RUN = uuid.uuid4().hex[:8]   # tags this run's payments (their message) and users


def now():
    return time.monotonic()


# ----------------------------------------------------------------- recording

class Log:
    """Every response, with its time span, and the fault windows."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = []       # (t0, t1, label, status) status: int or "conn"
        self.windows = []     # [start, end] of each fault, end None while open
        self.faults = []      # (kind, detail)
        self.killed = set()   # pids of children killed on purpose
        self.violations = []
        self.t0 = now()

    def call(self, t0, t1, label, status):
        with self.lock:
            self.calls.append((t0, t1, label, status))

    def violate(self, msg):
        with self.lock:
            self.violations.append(msg)
        print(f"stress: VIOLATION: {msg}", flush=True)

    def in_fault(self, t0, t1):
        for s, e in self.windows:
            if t1 >= s and (e is None or t0 <= e + GRACE):
                return True
        return False


class Api:
    """A client bound to its own loopback address; every call is logged."""

    def __init__(self, stack, log, n):
        self.c = Client(stack.api_url, source_ip=f"127.77.{n // 250 + 1}.{n % 250 + 2}",
                        timeout=TIMEOUT)
        self.log = log

    def call(self, label, method, path, **kw):
        t0 = now()
        self.c.timeout = HASH_TIMEOUT if label == "register" else TIMEOUT
        try:
            r = self.c.request(method, path, **kw)
            status = r.status
        except OSError:
            r, status = None, "conn"
        self.log.call(t0, now(), label, status)
        return r

    def retrying(self, label, method, path, **kw):
        """Retries an indeterminate answer (no answer, 5xx, 409 key in use).
        Returns (response or None, indeterminate_seen)."""
        seen = False
        for attempt in range(RETRIES + 1):
            r = self.call(label, method, path, **kw)
            retry = r is None or r.status >= 500 or (
                r.status == 409 and r.json and r.json.get("code") == "idempotency_key_in_use")
            if not retry:
                return r, seen
            seen = True
            time.sleep(0.3 * (attempt + 1) + random.random() * 0.5)
        return None, True


# ----------------------------------------------------------------- the model

class Model:
    """What the clients know: every payment and payout and what happened to
    each request about it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.creators = []        # dicts: user, access_token
        self.fans = []
        self.registered = []      # emails of acknowledged registrations
        self.reg_unknown = []     # emails whose registration is indeterminate
        self.payments = {}        # id -> dict
        self.initiate_unknown = 0  # initiations never acknowledged
        self.payouts = {}         # id -> dict
        self.payout_unknown = 0
        self.undelivered = []     # payment ids waiting for webhooks
        self.refundable = []      # payment ids whose success was acknowledged
        self.refunds = {}         # refund id -> {"payment", "answer": 200|202|409|None}
        self.refund_unknown = 0   # refund requests never answered
        self.confirmed = set()    # refund ids whose "refunded" callback we sent
        self.disputes = {}        # dispute id -> {"payment", "acked": [states], "sent": [states]}
        self.open_payouts = []    # payout ids not in a final state

    def pick(self, name):
        with self.lock:
            lst = getattr(self, name)
            if not lst:
                return None
            return lst.pop(random.randrange(len(lst)))

    def put(self, name, item):
        with self.lock:
            getattr(self, name).append(item)


def sign(secret, body):
    t = int(time.time())
    mac = hmac.new(secret, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


class Worker(threading.Thread):
    def __init__(self, n, stack, log, model, admin, deadline, calm_from, gateway):
        super().__init__(daemon=True)
        self.calm_from = calm_from
        self.api = Api(stack, log, 100 + n)
        self.stack, self.log, self.m, self.admin = stack, log, model, admin
        self.deadline = deadline
        self.gateway = gateway
        self.secret = stack.secret("webhook_mobile_money")
        self.ops = [(self.initiate, 30), (self.webhook, 30), (self.refund, 5), (self.dispute, 2),
                    (self.payout_request, 10), (self.payout_step, 14), (self.register, 1),
                    (self.read, 6)]

    def run(self):
        weights = [w for _, w in self.ops]
        while now() < self.deadline:
            op = random.choices(self.ops, weights)[0][0]
            try:
                op()
            except Exception as e:  # a bug in the client, not the server
                self.log.violate(f"client error in {op.__name__}: {e!r}")
                time.sleep(0.5)

    # -- payments ------------------------------------------------------------
    def initiate(self):
        fan = random.choice(self.m.fans)
        creator = random.choice(self.m.creators)
        amount = random.randint(100, 50000)
        body = {"creator_id": creator["user"]["id"], "amount": amount, "currency": CURRENCY,
                "provider": "mobile_money", "message": "stress " + RUN}
        key = uuid.uuid4().hex
        h = {"X-Idempotency-Key": key}
        r, _ = self.api.retrying("initiate", "POST", "/payments/initiate", json=body,
                                 token=fan["access_token"], headers=h)
        if r is None:
            with self.m.lock:
                self.m.initiate_unknown += 1
            return
        if r.status != 201 and not (r.status == 200 and r.headers.get("Idempotent-Replayed")):
            self.log.violate(f"initiate answered {r.status}: {r.body[:200]!r}")
            return
        pid = r.json["id"]
        if random.random() < 0.3:  # a client retry of the same key replays the same payment
            again, _ = self.api.retrying("initiate", "POST", "/payments/initiate", json=body,
                                         token=fan["access_token"], headers=h)
            if again is not None and (again.status >= 300 or again.json.get("id") != pid or
                                      again.headers.get("Idempotent-Replayed") != "true"):
                self.log.violate(f"retry of key {key} answered {again.status} {again.body[:200]!r}"
                                 f" instead of replaying payment {pid}")
        outcome = "success" if random.random() < 0.8 else "failed"
        with self.m.lock:
            self.m.payments[pid] = {"id": pid, "creator": creator["user"]["id"], "amount": amount,
                                    "outcome": outcome, "sent": False, "acked": False,
                                    "refund": None}
            self.m.undelivered.append(pid)

    def deliver(self, p, status):
        payload = {"payment_id": p["id"], "status": status, "timestamp": int(time.time()),
                   "amount": p["amount"], "currency": CURRENCY}
        if status == "success":
            payload["provider_transaction_id"] = "mm-" + p["id"]
        body = json.dumps(payload).encode()
        return self.api.retrying("webhook", "POST", "/payments/webhook", body=body, headers={
            "Content-Type": "application/json", "X-Tipzed-Signature": sign(self.secret, body)})[0]

    def webhook(self):
        pid = self.m.pick("undelivered")
        if pid is None:
            return
        p = self.m.payments[pid]
        with self.m.lock:
            p["sent"] = True
        acked = False
        for _ in range(random.choice((1, 1, 2, 3))):  # providers deliver more than once
            r = self.deliver(p, p["outcome"])
            if r is not None and r.status == 200:
                acked = True
            elif r is not None:
                self.log.violate(f"webhook for {pid} answered {r.status}: {r.body[:200]!r}")
        with self.m.lock:
            p["acked"] = p["acked"] or acked
        if p["outcome"] == "success" and acked and random.random() < 0.2:
            # a failure notice arriving after the success must change nothing
            r = self.deliver(p, "failed")
            if r is not None and r.status != 200:
                self.log.violate(f"late failure for {pid} answered {r.status}")
        if p["outcome"] == "success" and acked:
            self.m.put("refundable", pid)
        elif not acked and random.random() < 0.5:
            self.m.put("undelivered", pid)  # the provider will try again later

    def refund(self):
        """A full or partial refund; then, sometimes, the gateway's callback
        confirming a refund it left pending."""
        pid = self.m.pick("refundable")
        if pid is None:
            return
        p = self.m.payments[pid]
        body = {"reason": "stress"}
        if random.random() < 0.5:
            body["amount"] = random.randint(1, p["amount"])
        r, _ = self.api.retrying("refund", "POST", f"/payments/{pid}/refund", json=body,
                                 token=self.admin["access_token"],
                                 headers={"X-Idempotency-Key": uuid.uuid4().hex})
        again = True
        if r is None:
            with self.m.lock:
                self.m.refund_unknown += 1
        elif r.status in (200, 202):
            rid = r.json["refund"]["id"]
            with self.m.lock:
                self.m.refunds[rid] = {"payment": pid, "answer": r.status,
                                       "status": r.json["refund"]["status"]}
            if r.status == 202 and random.random() < 0.5:
                self.confirm(p, rid, r.json["refund"]["amount"])
            again = r.json["status"] != "refunded"
        elif r.status == 409 and r.json.get("code") in ("refund_refused", "insufficient_funds",
                                                        "refund_pending", "disputed",
                                                        "not_refundable"):
            again = r.json.get("code") != "not_refundable"
        elif r.status == 422 and any(e.get("field") == "amount" for e in r.json.get("errors", [])):
            pass  # more than is left of the payment
        else:
            self.log.violate(f"refund of {pid} answered {r.status}: {r.body[:200]!r}")
        if again:
            self.m.put("refundable", pid)

    def confirm(self, p, rid, amount):
        """The gateway confirms a refund it had left pending."""
        with self.gateway.lock:
            answered = self.gateway._answered.get(rid)
            if not answered or answered[1].get("status") != "pending":
                return
            done = dict(answered[1], status="succeeded")
            self.gateway._answered[rid] = (200, done)   # asked again, it says so too
        with self.m.lock:
            self.m.confirmed.add(rid)
        payload = {"payment_id": p["id"], "status": "refunded", "refund_id": rid, "amount": amount,
                   "timestamp": int(time.time()), "currency": CURRENCY}
        body = json.dumps(payload).encode()
        r = self.api.retrying("webhook", "POST", "/payments/webhook", body=body, headers={
            "Content-Type": "application/json", "X-Tipzed-Signature": sign(self.secret, body)})[0]
        if r is not None and r.status != 200:
            self.log.violate(f"refund callback for {rid} answered {r.status}: {r.body[:200]!r}")

    def dispute(self):
        """A dispute opened through the gateway's callback, sometimes decided
        at once (won or lost), each news delivered once or twice."""
        pid = self.m.pick("refundable")
        if pid is None:
            return
        p = self.m.payments[pid]
        did = "dp-" + uuid.uuid4().hex[:12]
        states = ["dispute_opened"] + ([random.choice(["dispute_won", "dispute_lost"])]
                                      if random.random() < 0.7 else [])
        d = {"payment": pid, "acked": [], "sent": []}
        with self.m.lock:
            self.m.disputes[did] = d
        for st in states:
            payload = {"payment_id": pid, "status": st, "dispute_id": did, "amount": p["amount"],
                       "timestamp": int(time.time()), "currency": CURRENCY}
            body = json.dumps(payload).encode()
            d["sent"].append(st)
            for _ in range(random.choice((1, 2))):
                r = self.api.retrying("webhook", "POST", "/payments/webhook", body=body, headers={
                    "Content-Type": "application/json",
                    "X-Tipzed-Signature": sign(self.secret, body)})[0]
                if r is not None and r.status == 200:
                    if st not in d["acked"]:
                        d["acked"].append(st)
                elif r is not None:
                    self.log.violate(f"dispute {did} ({st}) answered {r.status}: {r.body[:200]!r}")
        if states[-1] != "dispute_opened" or not d["acked"]:
            self.m.put("refundable", pid)   # decided (or never opened): refundable again

    # -- payouts -------------------------------------------------------------
    def payout_request(self):
        c = random.choice(self.m.creators)
        amount = random.randint(1000, 20000)   # TipzedMinPayout defaults to 10.00
        key = uuid.uuid4().hex
        r, _ = self.api.retrying("payout", "POST", "/payouts/request", json={"amount": amount},
                                 token=c["access_token"], headers={"X-Idempotency-Key": key})
        if r is None:
            with self.m.lock:
                self.m.payout_unknown += 1
            return
        if r.status == 422 and r.json.get("code") == "insufficient_funds":
            return
        if r.status not in (200, 201):
            self.log.violate(f"payout request answered {r.status}: {r.body[:200]!r}")
            return
        po = r.json
        with self.m.lock:
            self.m.payouts[po["id"]] = {"id": po["id"], "creator": c, "amount": amount,
                                        "known": po["status"], "maybe": set()}
            self.m.open_payouts.append(po["id"])

    NEXT = {"pending": [("approve", 6), ("reject", 1), ("cancel", 2)],
            "approved": [("process", 6), ("reject", 1)],
            "processing": [("complete", 5), ("fail", 1)]}
    TARGET = {"approve": "approved", "reject": "rejected", "cancel": "cancelled",
              "process": "processing", "complete": "completed", "fail": "failed"}

    def payout_step(self):
        pid = self.m.pick("open_payouts")  # one client acts on a payout at a time
        if pid is None:
            return
        po = self.m.payouts[pid]
        choices = self.NEXT.get(po["known"])
        if not choices:
            return
        action = random.choices([a for a, _ in choices], [w for _, w in choices])[0]
        if action == "cancel":
            path, token, body = f"/payouts/{pid}/cancel", po["creator"]["access_token"], None
        else:
            path, token = f"/admin/payouts/{pid}/{action}", self.admin["access_token"]
            body = {"reason": "stress"} if action in ("reject", "fail") else None
        r, _ = self.api.retrying("payout_" + action, "POST", path, json=body, token=token)
        with self.m.lock:
            if r is None:
                po["maybe"].add(self.TARGET[action])
            elif r.status == 200:
                po["known"], po["maybe"] = r.json["status"], set()
            elif r.status == 409 and r.json.get("code") == "invalid_transition":
                # an earlier indeterminate attempt may have moved it: the
                # problem names the payout's current status
                po["known"] = re.search(r"that is (\w+)$", r.json["detail"]).group(1)
                po["maybe"] = set()
            else:
                self.log.violate(f"payout {action} {pid} answered {r.status}: {r.body[:200]!r}")
            if po["known"] in self.NEXT and not po["maybe"]:
                self.m.open_payouts.append(pid)

    # -- the rest ------------------------------------------------------------
    def register(self):
        if now() > self.calm_from:
            return  # each hash maps 32 MiB for a moment: kept out of the memory phase
        email = unique_email("stress")
        r, seen = self.api.retrying("register", "POST", "/auth/register", json={
            "email": email, "password": PASSWORD, "full_name": "Stress Fan", "role": "fan"})
        with self.m.lock:
            if r is not None and r.status == 201:
                self.m.registered.append(email)
            elif r is None or (seen and r.status == 409):
                self.m.reg_unknown.append(email)  # a lost answer, then "email taken"
            else:
                self.log.violate(f"register answered {r.status}: {r.body[:200]!r}")

    def read(self):
        c = random.choice(self.m.creators)
        r = self.api.call("read", "GET", "/wallets/me/transactions?limit=20", token=c["access_token"])
        if r is not None and r.status < 500 and r.status != 200:
            self.log.violate(f"wallet transactions answered {r.status}")
        r = self.api.call("read", "GET", f"/creators/{c['user']['id']}")
        if r is not None and r.status < 500 and r.status != 200:
            self.log.violate(f"creator profile answered {r.status}")


# ----------------------------------------------------------------- faults

class Faults(threading.Thread):
    KINDS = ("pg_immediate", "apache_graceful", "kill_child")

    def __init__(self, stack, log, deadline, every, calm=0.0):
        super().__init__(daemon=True)
        self.stack, self.log, self.deadline, self.every = stack, log, deadline, every
        # the last `calm` seconds run without faults: memory is measured there
        self.calm_from = deadline - calm

    def children(self):
        try:
            with open(self.stack.env["TZ_PIDFILE"]) as f:
                parent = int(f.read().strip())
        except (OSError, ValueError):
            return []
        kids = []
        for entry in os.listdir("/proc"):  # no procps needed
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except (OSError, ValueError):
                continue
            # "pid (comm) state ppid ...": comm may hold spaces, so split after ")"
            if entry.isdigit() and int(stat[stat.rindex(")") + 2:].split()[1]) == parent:
                kids.append(int(entry))
        return kids

    def inject(self, kind):
        if kind == "pg_immediate":
            self.stack.restart_pg("immediate")
            return "PostgreSQL restarted with -m immediate"
        if kind == "apache_graceful":
            r = self.stack.apachectl("-k", "graceful")
            return f"Apache graceful restart (exit {r.returncode})"
        kids = self.children()
        if not kids:
            return "no child to kill"
        pid = random.choice(kids)
        with self.log.lock:
            self.log.killed.add(pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError as e:
            return f"kill {pid}: {e}"
        return f"SIGKILL to child {pid}"

    def pause(self, seconds):
        time.sleep(max(0.0, min(seconds, self.deadline - now())))

    def run(self):
        i = 0
        self.pause(self.every / 2)
        while now() + self.every / 2 < self.calm_from:
            kind = self.KINDS[i % len(self.KINDS)]
            i += 1
            window = [now(), None]
            with self.log.lock:
                self.log.windows.append(window)
            try:
                detail = self.inject(kind)
            except Exception as e:
                detail = f"failed: {e!r}"
                self.log.violate(f"fault {kind} could not be injected: {e!r}")
            recovered = wait_detailed_health(self.stack, 60)
            window[1] = now()
            self.log.faults.append((kind, detail))
            print(f"stress: fault {len(self.log.faults)} at {window[0] - self.log.t0:.1f}s: {detail}; "
                  f"{'recovered' if recovered else 'NOT recovered'} in {window[1] - window[0]:.1f}s",
                  flush=True)
            if not recovered:
                self.log.violate(f"the server did not recover within 60 s after: {detail}")
            self.pause(self.every)


def wait_detailed_health(stack, seconds):
    c = Client(stack.api_url, source_ip="127.77.0.2", timeout=5)
    end = now() + seconds
    while now() < end:
        try:
            if c.get("/health/detailed").status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


# ----------------------------------------------------------------- set-up

def setup(stack, log, n_creators, n_fans):
    m = Model()
    email = unique_email("stress-admin")
    r = stack.tipzedctl("create-admin", "--email", email, "--name", "Stress Admin",
                        input=PASSWORD + "\n")
    if r.returncode != 0:
        sys.exit(f"stress: create-admin failed: {r.stdout}{r.stderr}")
    a = login(Client(stack.api_url, source_ip="127.77.0.3"), email, PASSWORD)
    if a.status != 200:
        sys.exit(f"stress: admin login answered {a.status}")
    admin = a.json
    lock = threading.Lock()

    def make(i, role):
        api = Client(stack.api_url, source_ip=f"127.78.{i // 250 + 1}.{i % 250 + 2}")
        r = api.post("/auth/register", json={"email": unique_email(f"stress-{RUN}-{role}"),
                                             "password": PASSWORD, "full_name": f"Stress {role}",
                                             "role": role})
        if r.status != 201:
            sys.exit(f"stress: registering a {role} answered {r.status}: {r.body[:200]!r}")
        u = r.json
        if role == "creator":
            r = api.put("/creators/me", token=u["access_token"],
                        json={"bank_account": "ZM0012345678", "account_name": "Stress Creator"})
            if r.status != 200:
                sys.exit(f"stress: creator profile answered {r.status}")
        with lock:
            (m.creators if role == "creator" else m.fans).append(u)

    threads = [threading.Thread(target=make, args=(i, "creator" if i < n_creators else "fan"))
               for i in range(n_creators + n_fans)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if len(m.creators) != n_creators or len(m.fans) != n_fans:
        sys.exit("stress: set-up failed")
    return m, admin


# ----------------------------------------------------------------- checks

def q(stack, sql):
    return stack.psql(sql)


CREDITED = {"succeeded", "refund_pending", "partially_refunded", "refunded"}


def check_payments(stack, log, m):
    rows = q(stack, "SELECT p.id, p.status, count(e.id)"
                    " FROM payments p LEFT JOIN journal_entries e ON e.payment_id = p.id"
                    " AND e.kind = 'payment'"
                    f" WHERE p.message = 'stress {RUN}' GROUP BY p.id")
    db = {r[0]: (r[1], int(r[2])) for r in rows}
    for pid, (status, credits) in db.items():
        if credits != (1 if status in CREDITED else 0):
            log.violate(f"payment {pid} is {status} with {credits} credit entries")
    for pid, p in m.payments.items():
        if pid not in db:
            log.violate(f"acknowledged payment {pid} is missing")
            continue
        status = db[pid][0]
        if p["outcome"] == "success" and p["acked"]:
            ok = CREDITED
        elif p["outcome"] == "success" and p["sent"]:
            ok = {"pending"} | CREDITED
        elif p["outcome"] == "failed" and p["acked"]:
            ok = {"failed"}
        elif p["outcome"] == "failed" and p["sent"]:
            ok = {"pending", "failed"}
        else:
            ok = {"pending"}
        if status not in ok:
            log.violate(f"payment {pid} ({p['outcome']}, sent={p['sent']}, acked={p['acked']})"
                        f" is {status}, expected one of {sorted(ok)}")
    extra = len(db) - len(m.payments)
    if extra > m.initiate_unknown:
        log.violate(f"{extra} payments exist that no acknowledged request made"
                    f" (only {m.initiate_unknown} initiations were indeterminate)")
    return len(db)


def check_refunds(stack, log, m, gateway):
    """A refund is confirmed only if the gateway confirmed it (its answer, or
    the callback we sent), refused only if the gateway refused it; an
    acknowledged 200 is a confirmed refund."""
    rows = q(stack, "SELECT r.id, r.status FROM refunds r JOIN payments p ON p.id = r.payment_id"
                    f" WHERE p.message = 'stress {RUN}'")
    said = {}
    with gateway.lock:
        for rid, (code, answer) in gateway._answered.items():
            said[rid] = answer.get("status")
    for rid, status in rows:
        gw = said.get(rid)
        if status == "succeeded" and gw != "succeeded" and rid not in m.confirmed:
            log.violate(f"refund {rid} is succeeded, but the gateway said {gw}")
        if status == "failed" and gw not in ("failed", None):
            log.violate(f"refund {rid} is failed, but the gateway said {gw}")
    db = dict(rows)
    for rid, r in m.refunds.items():
        if r["answer"] == 200 and db.get(rid) != "succeeded":
            log.violate(f"refund {rid} was acknowledged as made but is {db.get(rid)}")
    # a refused refund is recorded as failed; any other one not acknowledged
    # can only come from a request that got no answer
    extra = len([1 for rid, st in rows if rid not in m.refunds and st != "failed"])
    if extra > m.refund_unknown:
        log.violate(f"{extra} refunds exist that no acknowledged request made"
                    f" (only {m.refund_unknown} refund requests were indeterminate)")
    return len(rows)


def check_disputes(stack, log, m):
    rows = dict(q(stack, "SELECT d.provider_dispute_id, d.status FROM disputes d"
                         " JOIN payments p ON p.id = d.payment_id"
                         f" WHERE p.message = 'stress {RUN}'"))
    final = {"dispute_won": "won", "dispute_lost": "lost"}
    for did, d in m.disputes.items():
        status = rows.get(did)
        decided = [final[s] for s in d["acked"] if s in final]
        sent = [final[s] for s in d["sent"] if s in final]
        if decided and status != decided[0]:
            log.violate(f"dispute {did} was acknowledged {decided[0]} but is {status}")
        elif "dispute_opened" in d["acked"] and status is None:
            log.violate(f"dispute {did} was acknowledged but is missing")
        elif status not in (None, "open", *sent):
            log.violate(f"dispute {did} is {status}, but only {d['sent']} were sent")
    return len(rows)


def check_payouts(stack, log, m):
    rows = q(stack, "SELECT o.id, o.status, o.amount FROM payouts o"
                    f" JOIN users u ON u.id = o.creator_id WHERE u.email LIKE 'stress-{RUN}-creator-%'")
    db = {r[0]: (r[1], int(r[2])) for r in rows}
    for pid, po in m.payouts.items():
        if pid not in db:
            log.violate(f"acknowledged payout {pid} is missing")
            continue
        status, amount = db[pid]
        ok = {po["known"]} | po["maybe"]
        if status not in ok or amount != po["amount"]:
            log.violate(f"payout {pid} is {status} ({amount}), expected {sorted(ok)}"
                        f" ({po['amount']})")
    extra = len(db) - len(m.payouts)
    if extra > m.payout_unknown:
        log.violate(f"{extra} payouts exist that no acknowledged request made")
    return len(db)


def check_wallets(stack, log, m):
    """The API's wallet balance plus the creator's receivable = credited nets
    - the net part of refunds and of open or lost disputes - payouts held.
    The watchdog may still settle a refund while this runs, so the figures
    are read in one statement (one snapshot) and the API's balance between
    two readings that agree with it."""
    api = Client(stack.api_url, source_ip="127.77.0.4")
    for c in m.creators:
        cid = c["user"]["id"]
        for _ in range(10):
            w = api.get("/wallets/me", token=c["access_token"])
            if w.status != 200:
                log.violate(f"wallet of {cid} answered {w.status}")
                break
            (bal, owed, want, pending), = q(stack, wallet_figures(cid))
            again = api.get("/wallets/me", token=c["access_token"])
            if w.json["balance"] == again.json["balance"] == int(bal):
                break
            time.sleep(0.5)   # something moved meanwhile: read again
        else:
            log.violate(f"wallet of {cid} kept moving while checked")
            continue
        if w.status != 200:
            continue
        if (w.json["balance"] + int(owed), w.json["pending_payouts"]) != (int(want), int(pending)):
            log.violate(f"wallet of {cid}: balance {w.json['balance']} (owing {-int(owed)}),"
                        f" pending {w.json['pending_payouts']}; payments, refunds, disputes and"
                        f" payouts say {want}, {pending}")


def wallet_figures(cid):
    """(wallet balance, receivable, what they should add up to, payouts pending)."""
    return f"""
      SELECT coalesce((SELECT balance FROM accounts WHERE owner_id = '{cid}' AND kind = 'wallet'
                         AND currency = '{CURRENCY}'), 0),
             coalesce((SELECT balance FROM accounts WHERE owner_id = '{cid}'
                         AND kind = 'creator_receivable' AND currency = '{CURRENCY}'), 0),
             (SELECT coalesce(sum(net), 0) FROM payments WHERE creator_id = '{cid}' AND status IN
                ('succeeded', 'refund_pending', 'partially_refunded', 'refunded'))
           - (SELECT coalesce(sum(r.amount - r.fee), 0) FROM refunds r
                JOIN payments p ON p.id = r.payment_id
               WHERE p.creator_id = '{cid}' AND r.status = 'succeeded')
           - (SELECT coalesce(sum(d.amount - d.fee), 0) FROM disputes d
                JOIN payments p ON p.id = d.payment_id
               WHERE p.creator_id = '{cid}' AND d.status <> 'won')
           - (SELECT coalesce(sum(amount), 0) FROM payouts WHERE creator_id = '{cid}'
                AND status IN ('pending', 'approved', 'processing', 'completed')),
             (SELECT coalesce(sum(amount), 0) FROM payouts WHERE creator_id = '{cid}'
                AND status IN ('pending', 'approved', 'processing'))"""


def check_registrations(stack, log, m):
    if not m.registered:
        return
    emails = ",".join(f"'{e}'" for e in m.registered)
    (n,), = q(stack, f"SELECT count(*) FROM users WHERE email IN ({emails})")
    if int(n) != len(m.registered):
        log.violate(f"{len(m.registered) - int(n)} acknowledged registrations are missing")


def check_crashes(stack, log, log_start):
    with open(stack.error_log, errors="replace") as f:
        f.seek(log_start)
        text = f.read()
    for line in text.splitlines():
        if "Segmentation fault" in line or "AddressSanitizer" in line or "runtime error:" in line:
            log.violate(f"error log: {line.strip()}")
        m = re.search(r"child pid (\d+) exit signal (.*)", line)
        if m and not (int(m.group(1)) in log.killed and m.group(2).startswith("Killed")):
            log.violate(f"a child died: {line.strip()}")


def final_flow(stack, log, m):
    """After the last fault: a payment end to end, answered normally."""
    api = Client(stack.api_url, source_ip="127.77.0.5")
    fan, creator = m.fans[0], m.creators[0]
    owed = f"SELECT coalesce(sum(balance), 0) FROM accounts WHERE owner_id = '{creator['user']['id']}'" \
           " AND kind = 'creator_receivable'"
    before = api.get("/wallets/me", token=creator["access_token"]).json["balance"] + \
        int(q(stack, owed)[0][0])
    r = api.post("/payments/initiate", token=fan["access_token"],
                 headers={"X-Idempotency-Key": uuid.uuid4().hex},
                 json={"creator_id": creator["user"]["id"], "amount": 1000, "currency": CURRENCY,
                       "provider": "mobile_money", "message": "stress-final"})
    if r.status != 201:
        log.violate(f"after the faults, initiate answered {r.status}")
        return
    body = json.dumps({"payment_id": r.json["id"], "status": "success", "timestamp": int(time.time()),
                       "amount": 1000, "currency": CURRENCY}).encode()
    w = api.post("/payments/webhook", body=body, headers={
        "Content-Type": "application/json",
        "X-Tipzed-Signature": sign(stack.secret("webhook_mobile_money"), body)})
    after = api.get("/wallets/me", token=creator["access_token"]).json["balance"] + \
        int(q(stack, owed)[0][0])   # a creator who owes repays from this tip first
    if w.status != 200 or after - before != r.json["net"]:
        log.violate(f"after the faults, the webhook answered {w.status} and the wallet moved"
                    f" by {after - before}, not {r.json['net']}")


def rss_by_child(stack):
    """{pid: resident KiB} of the Apache children."""
    out = {}
    for pid in Faults(stack, None, 0, 0).children():
        try:
            with open(f"/proc/{pid}/status") as f:
                out[pid] = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        except (OSError, AttributeError):
            pass
    return out


def children_rss_kb(stack):
    """The children's mean resident size in KiB, and how many there are."""
    rss = rss_by_child(stack)
    return sum(rss.values()) // max(len(rss), 1), len(rss)


def settled_rss(stack, samples=3):
    """Each child's smallest resident size over a few seconds: a password
    hash in flight holds 32 MiB for a moment, which is not growth."""
    low = rss_by_child(stack)
    for _ in range(samples - 1):
        time.sleep(1)
        for pid, kb in rss_by_child(stack).items():
            if pid in low:
                low[pid] = min(low[pid], kb)
    return low


GROWTH_BOUND_KB = 4096


def calm_growth(log, before, after):
    """The largest growth of one child over the fault-free last phase; more
    than GROWTH_BOUND_KB is a violation (a leak grows with every request)."""
    common = [pid for pid in before if pid in after]
    if not common:
        return None
    growth = max(after[pid] - before[pid] for pid in common)
    # Under AddressSanitizer freed memory sits in its quarantine (up to
    # 256 MiB) before reuse, so resident size grows by design: reported only.
    if growth > GROWTH_BOUND_KB and not os.environ.get("SANITIZE"):
        log.violate(f"an Apache child grew by {growth} KiB over the calm phase")
    return growth


# ----------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("stack_dir")
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--fault-every", type=float, default=None,
                    help="seconds between faults (default: duration / 8, within 5..20)")
    ap.add_argument("--creators", type=int, default=12)
    ap.add_argument("--fans", type=int, default=12)
    ap.add_argument("--gateway-port", type=int, required=True,
                    help="the port of the mobile_money gateway's stand-in (TipzedProvider's URL)")
    a = ap.parse_args()
    stack = Stack(a.stack_dir)
    if not stack.base_url.startswith("http://127.0.0.1:"):
        sys.exit("stress: the stack must listen on 127.0.0.1")
    if not stack.wait_healthy(20):
        sys.exit(f"stress: {stack.api_url} does not answer")
    log = Log()
    log_start = os.path.getsize(stack.error_log)
    every = a.fault_every or min(20.0, max(5.0, a.duration / 8))
    print(f"stress: {a.clients} clients for {a.duration:.0f}s, a fault every {every:.0f}s,"
          f" against {stack.base_url}", flush=True)
    m, admin = setup(stack, log, a.creators, a.fans)
    gateway = StandIn(a.gateway_port, stack.secret("webhook_mobile_money").decode(),
                      generic_routes)
    gateway.take_refund_outcome = lambda: random.choice(REFUND_OUTCOMES)
    rss0 = children_rss_kb(stack)
    deadline = now() + a.duration
    faults = Faults(stack, log, deadline, every, calm=max(15.0, a.duration / 4))
    workers = [Worker(i, stack, log, m, admin, deadline, faults.calm_from, gateway)
               for i in range(a.clients)]
    started = log.t0 = now()
    for t in workers + [faults]:
        t.start()
    peak, calm_rss = rss0[0], None
    while any(t.is_alive() for t in workers):
        time.sleep(1)
        peak = max(peak, children_rss_kb(stack)[0])
        if calm_rss is None and now() > faults.calm_from + 5:
            calm_rss = settled_rss(stack)  # the children that serve the calm phase
    faults.join()
    elapsed = now() - started
    if not wait_detailed_health(stack, 60):
        log.violate("the server is not healthy after the run")
    final_flow(stack, log, m)
    rss1 = children_rss_kb(stack)
    growth = calm_growth(log, calm_rss or {}, settled_rss(stack))

    n_payments = check_payments(stack, log, m)
    n_payouts = check_payouts(stack, log, m)
    n_refunds = check_refunds(stack, log, m, gateway)
    n_disputes = check_disputes(stack, log, m)
    check_wallets(stack, log, m)
    check_registrations(stack, log, m)
    rec = stack.tipzedctl("reconcile")
    if rec.returncode != 0:
        log.violate("reconciliation is not clean:\n" + rec.stdout + rec.stderr)
    check_crashes(stack, log, log_start)

    calls = log.calls
    by = {"2xx": 0, "4xx": 0, "5xx": 0, "conn": 0}
    faulty = {"5xx": 0, "conn": 0}
    outside = {"5xx": 0, "conn": 0}
    kinds = {}
    for t0, t1, label, st in calls:
        k = "conn" if st == "conn" else f"{st // 100}xx"
        by[k] = by.get(k, 0) + 1
        if k != "2xx":
            kinds[f"{label} {st}"] = kinds.get(f"{label} {st}", 0) + 1
        if k in faulty:
            if log.in_fault(t0, t1):
                faulty[k] += 1
            else:
                outside[k] += 1
                print(f"stress: {label} answered {st} outside the fault windows"
                      f" ({t0 - started:.1f}s..{t1 - started:.1f}s)")
    pay = list(m.payments.values())
    figures = {
        "duration_s": round(elapsed, 1), "clients": a.clients, "requests": len(calls),
        "requests_per_s": round(len(calls) / elapsed, 1), **{f"answers_{k}": v for k, v in by.items()},
        "5xx_during_faults": faulty["5xx"], "no_answer_during_faults": faulty["conn"],
        "5xx_outside_faults": outside["5xx"], "no_answer_outside_faults": outside["conn"],
        "faults": len(log.faults),
        **{f"faults_{k}": sum(1 for f, _ in log.faults if f == k) for k in Faults.KINDS},
        "payments": n_payments, "payments_credited_acked": sum(
            1 for p in pay if p["outcome"] == "success" and p["acked"]),
        "payments_indeterminate": sum(1 for p in pay if p["sent"] and not p["acked"]),
        "refunds": n_refunds,
        "refunds_confirmed_at_once": sum(1 for r in m.refunds.values() if r["answer"] == 200),
        "refunds_left_pending": sum(1 for r in m.refunds.values() if r["answer"] == 202),
        "refund_callbacks": len(m.confirmed), "disputes": n_disputes,
        "payouts": n_payouts, "registrations": len(m.registered),
        "child_rss_kb_start": rss0[0], "child_rss_kb_peak": peak, "child_rss_kb_end": rss1[0],
        "child_rss_growth_kb_calm_phase": growth,
        "violations": len(log.violations),
        "answers_other_than_2xx": dict(sorted(kinds.items())),
    }
    # Outside the fault windows the server must answer every request.
    if outside["5xx"] or outside["conn"]:
        log.violate(f"{outside['5xx']} 5xx and {outside['conn']} unanswered requests outside"
                    f" the fault windows")
        figures["violations"] = len(log.violations)
    print("stress: " + json.dumps(figures, indent=1))
    out = os.path.join(HERE, "..", "results")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "stress.json"), "w") as f:
        json.dump({"figures": figures, "faults": log.faults, "violations": log.violations}, f,
                  indent=1)
    if log.violations:
        print(f"stress: FAILED: {len(log.violations)} invariant violations")
        return 1
    print("stress: the bank invariant held: 0 violations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
