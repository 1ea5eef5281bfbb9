#!/usr/bin/env python3
"""`make stress`: the bank invariant under concurrency and faults (money is never created or lost, whatever fails).

Many concurrent clients drive every money-moving path of a running stack
(registrations, payment initiations with idempotency keys and retries of the
same key, success and failure webhooks delivered several times and out of
order, payout requests and cancellations, admin approvals, rejections,
completions and failures, refunds through the mobile_money gateway's
stand-in -- full and partial, confirmed, pending, refused or unanswered --
and disputes opened, won and lost) and every path of fans' wallets: top-ups
by amount and by credit package (bonus included) credited by the same
webhooks, tips paid from the wallet (`wallet`, and `wallet_first`, which
falls back to the gateway's checkout), transfers to creators (and refused
ones to fans), bill payments to a stand-in biller run here (which pays,
refuses, answers 4xx or 5xx, leaves payments pending or answers nothing
until the module gives up, so the watchdog's status calls decide), and
admin refunds of wallet tips (back to the fan's wallet) and of top-ups
(taking back the bonus's share; refused when the fan spent it) -- while a
fault thread restarts PostgreSQL with `-m immediate`, restarts Apache
gracefully and SIGKILLs an Apache child.  Every response is recorded;
afterwards the outcome is checked against what the server acknowledged:

  * reconciliation is clean (`tipzedctl reconcile` and
    GET /admin/reconciliation: the ledger sums to zero, cached balances
    equal postings, no wallet or cashback balance is negative, credits,
    refunds, promotions, bills, transfers and adjustments match their
    entries), and `tipzedctl verify-chain` finds the hash chain whole;
  * the outbox agrees with the ledger (each credited payment announced
    once, a wallet.credited event per credit to a wallet, each payout's
    last event its state), and every event reached an admin's webhook
    endpoint on a local receiver at least once;
  * a payment (tip or top-up) whose success webhook got a 2xx is credited
    exactly once, a payment no success was sent for is not credited at
    all, and no payment is credited twice; a top-up carries its package's
    bonus;
  * every acknowledged wallet tip exists once, succeeded, with exactly one
    wallet_payment entry; a request answered 422 made none; the same for
    transfers (201 exists once, 4xx made none) and bill payments;
  * every bill payment is held once and then settled xor released as the
    biller decided (a payment it never saw is released), and none is left
    pending once the biller has answered;
  * each fan's cashback within a month equals min(cap, 1% of its credited
    tips) -- concurrent grants never pass the cap -- and equals its cashback
    entries; no sender's transfers within the window pass the limit;
  * every acknowledged payout request, payout action, refund and dispute
    is reflected, and nothing appears that no request could have made (a
    refund is confirmed only if the gateway confirmed it, refused only if
    the gateway refused it; a wallet tip's refund is confirmed at once);
  * every creator's wallet plus what the creator owes (the receivable), as
    the API and the ledger report them, equals what its payments, refunds,
    disputes, transfers received and payouts add up to; every fan's main
    plus cashback balance plus what it owes equals its adjustments, top-ups
    (with bonus, less refunds and bonus taken back), wallet tips (less
    their refunds), cashback (less reversals), transfers and bills held;
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
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from fakeproviders import StandIn, generic_routes  # noqa: E402
from receiver import Receiver  # noqa: E402
from tzclient import Client, create_admin, login_totp, unique_email  # noqa: E402
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

# What the stand-in biller does with a /pay: pays it, refuses it (a failed
# status or a 4xx), leaves it pending (its /status decides a moment later),
# answers nothing until the module gives up, answers 503 having paid or
# refused it, or answers 503 without having seen it ("lost": its /status
# then knows no such payment, which the module must take as a refusal).
BILL_OUTCOMES = ["succeeded"] * 10 + ["failed"] * 2 + [400] + ["pending"] * 2 + ["hang"] * 2 + \
    [503] + ["lost"]
BILL_FEE = 150
FAN_FUNDS = 100000     # each fan's opening balance: an admin adjustment, approved by another
PACKAGES = [(20000, 1000), (50000, 5000), (100000, 15000)]   # (amount, bonus)


def now():
    return time.monotonic()


# ----------------------------------------------------------------- the stack's settings

def directive(stack, name):
    """The words of the last `name` line of the stack's httpd.conf (None when
    there is none): a later line overrides an earlier one."""
    found = None
    with open(stack.httpd_conf) as f:
        for line in f:
            words = line.split()
            if words and words[0] == name:
                found = words[1:]
    return found


def seconds(text):
    """A directive's duration (a number, optionally s|m|h|d) in seconds."""
    m = re.fullmatch(r"(\d+)([smhd]?)", text)
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


class Settings:
    """What the checks need of the server's configuration."""

    def __init__(self, stack):
        cb = directive(stack, "TipzedCashback")
        if cb and cb[0].lower() != "off":
            self.cashback_bps = round(float(cb[0].rstrip("%")) * 100)
            self.cashback_cap = int(cb[1])
        else:
            self.cashback_bps, self.cashback_cap = 0, 0
        limit = directive(stack, "TipzedTransferLimit") or ["500000", "1d"]
        self.transfer_limit, self.transfer_window = int(limit[0]), seconds(limit[1])
        self.provider_timeout = seconds((directive(stack, "TipzedProviderTimeout") or ["10s"])[0])


# ----------------------------------------------------------------- the biller

class Biller:
    """A stand-in biller speaking docs/bills.md's protocol on a free loopback
    port: signed /validate, /pay and /status.  Each payment's outcome is
    drawn from BILL_OUTCOMES when its /pay arrives, and its verdict
    (succeeded or failed) is what /status says once decided; a repeated
    /pay gets the first answer.  `verdict(id)` is the truth the checks hold
    the ledger to: a payment it never saw is failed."""

    def __init__(self, secret, hang_seconds):
        self.secret = secret
        self.hang_seconds = hang_seconds
        self.lock = threading.Lock()
        self.payments = {}      # payment id -> {"outcome", "verdict", "decide_at", "answer"}
        self.counts = {}        # "pay <outcome>", "status <answer>", "validate"
        self.bad_signatures = 0
        biller = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not biller.signed(self.headers.get("X-Tipzed-Signature"), raw):
                    with biller.lock:
                        biller.bad_signatures += 1
                    return self.send(401, {"error": "bad signature"})
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self.send(400, {"error": "bad json"})
                code, answer = biller.handle(self.path, body if isinstance(body, dict) else {})
                if code is None:        # no answer until the module has given up
                    time.sleep(biller.hang_seconds)
                    return
                self.send(code, answer)

            def send(self, code, obj):
                data = json.dumps(obj).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/biller"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def signed(self, header, raw):
        parts = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
        if not parts.get("t", "").isdigit() or "v1" not in parts \
                or abs(time.time() - int(parts["t"])) > 300:
            return False
        mac = hmac.new(self.secret, parts["t"].encode() + b"." + raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest(mac, parts["v1"])

    def count(self, what):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1

    @staticmethod
    def answer(status, pid):
        if status == "succeeded":
            return {"status": "succeeded", "reference": "BR-" + pid[:8]}
        if status == "failed":
            return {"status": "failed", "reason": "account closed"}
        return {"status": "pending"}

    def handle(self, path, body):
        op = path.rsplit("/", 1)[-1]
        if op == "validate":
            self.count("validate")
            customer = str(body.get("customer", ""))
            if customer.startswith("9"):
                return 404, {"error": "unknown customer"}
            return 200, {"customer": customer, "name": "Stress Customer"}
        pid = str(body.get("payment_id", ""))
        if op == "pay":
            with self.lock:
                p = self.payments.get(pid)
                if p is not None:           # the same payment_id: the first answer
                    self.counts["pay repeated"] = self.counts.get("pay repeated", 0) + 1
                    return p["answer"]
                outcome = random.choice(BILL_OUTCOMES)
                self.counts[f"pay {outcome}"] = self.counts.get(f"pay {outcome}", 0) + 1
                if outcome == "lost":
                    return 503, {"error": "try again"}
                verdict = {"succeeded": "succeeded", "failed": "failed", 400: "failed"}.get(
                    outcome, "succeeded" if random.random() < 0.75 else "failed")
                if outcome in ("succeeded", "failed"):
                    answer = (200, self.answer(outcome, pid))
                elif outcome == 400:
                    answer = (400, {"error": "invalid_account", "reason": "no such account"})
                elif outcome == "pending":
                    answer = (200, self.answer("pending", pid))
                else:                           # hang, 503: the biller decided, the answer is lost
                    answer = (503, {"error": "try again"})
                self.payments[pid] = {"outcome": outcome, "verdict": verdict, "answer": answer,
                                      "decide_at": time.time() + (random.uniform(1, 4)
                                                                  if outcome == "pending" else 0)}
            if outcome == "hang":
                return None, None
            return answer
        if op == "status":
            with self.lock:
                p = self.payments.get(pid)
            if p is None:
                self.count("status unknown")
                return 404, {"error": "unknown payment"}
            if random.random() < 0.05:          # a flaky moment: asked again later
                self.count("status 503")
                return 503, {"error": "try again"}
            if time.time() < p["decide_at"]:
                self.count("status pending")
                return 200, self.answer("pending", pid)
            self.count("status " + p["verdict"])
            return 200, self.answer(p["verdict"], pid)
        return 404, {"error": "no such operation"}

    def verdict(self, pid):
        with self.lock:
            p = self.payments.get(pid)
        return p["verdict"] if p else "failed"


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
        # fans' wallets
        self.funded = {}          # fan id -> the approved opening adjustment
        self.packages = []        # dicts: id, amount, bonus
        self.biller = None        # the biller made in set-up
        self.refundable_topups = []   # top-up ids whose success was acknowledged
        self.refundable_wallet = []   # wallet tip ids acknowledged
        self.wallet_tips = {}     # request tag (the message) -> dict, see Worker.wallet_tip
        self.wallet_ids = {}      # payment id -> its wallet tip's dict
        self.transfers = {}       # request tag (the note) -> dict, see Worker.transfer
        self.bills = {}           # customer reference (one per request) -> dict, see Worker.bill
        self.pending_bills = []   # (bill id, owner) answered 202, to read back
        self.refusals = {}        # "<tip|topup|wallet_tip> <code>" -> refunds answered 409
        # memberships and schedules
        self.plans = []           # dicts: id, creator, amount
        self.items = {}           # subscription or schedule id -> {"kind", "fan"} acknowledged
        self.item_answers = {}    # "<kind> <status>" -> count
        self.clock_moves = 0      # days the billing clock was moved

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
        self.ops = [(self.initiate, 22), (self.topup, 8), (self.webhook, 30),
                    (self.wallet_tip, 12), (self.transfer, 5), (self.bill, 5), (self.refund, 6),
                    (self.dispute, 2), (self.payout_request, 8), (self.payout_step, 12),
                    (self.register, 1), (self.read, 6), (self.subscribe, 3),
                    (self.schedule, 2), (self.billing_action, 2), (self.tick, 2)]

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
        self.replay("initiate", "/payments/initiate", body, fan, h, pid)
        self.expect_webhook(pid, "tip", fan, creator["user"]["id"], amount)

    def replay(self, label, path, body, user, headers, pid):
        """Sometimes a client retries the same key: the same payment is replayed."""
        if random.random() >= 0.3:
            return
        again, _ = self.api.retrying(label, "POST", path, json=body, token=user["access_token"],
                                     headers=headers)
        if again is not None and (again.status >= 300 or (again.json or {}).get("id") != pid or
                                  again.headers.get("Idempotent-Replayed") != "true"):
            self.log.violate(f"retry of key {headers['X-Idempotency-Key']} ({label}) answered"
                             f" {again.status} {again.body[:200]!r} instead of replaying"
                             f" payment {pid}")

    def expect_webhook(self, pid, kind, fan, recipient, amount, bonus=0):
        """A pending provider payment: its webhook will be delivered (success
        mostly), by the webhook operation."""
        outcome = "success" if random.random() < 0.8 else "failed"
        with self.m.lock:
            self.m.payments[pid] = {"id": pid, "kind": kind, "fan": fan["user"]["id"],
                                    "creator": recipient, "amount": amount, "bonus": bonus,
                                    "outcome": outcome, "sent": False, "acked": False,
                                    "refund": None}
            self.m.undelivered.append(pid)

    # -- fans' wallets -------------------------------------------------------
    def topup(self):
        """A top-up by amount or by credit package; its webhook comes later."""
        fan = random.choice(self.m.fans)
        if random.random() < 0.5:
            k = random.choice(self.m.packages)
            body = {"package_id": k["id"], "provider": "mobile_money"}
            amount, bonus = k["amount"], k["bonus"]
        else:
            amount, bonus = random.randint(1000, 50000), 0
            body = {"amount": amount, "provider": "mobile_money"}
        h = {"X-Idempotency-Key": uuid.uuid4().hex}
        r, _ = self.api.retrying("topup", "POST", "/wallets/me/topup", json=body,
                                 token=fan["access_token"], headers=h)
        if r is None:
            with self.m.lock:
                self.m.initiate_unknown += 1
            return
        p = r.json or {}
        if r.status != 201 or (p.get("purpose"), p.get("status"), p.get("amount"), p.get("bonus"),
                               p.get("creator_id")) != ("topup", "pending", amount, bonus, None):
            self.log.violate(f"top-up {body} answered {r.status}: {r.body[:300]!r}")
            return
        self.replay("topup", "/wallets/me/topup", body, fan, h, p["id"])
        self.expect_webhook(p["id"], "topup", fan, fan["user"]["id"], amount, bonus)

    def wallet_tip(self):
        """A tip from the fan's wallet (or wallet_first, which falls back to the
        gateway's checkout when the wallet cannot cover it).  Each request's
        message is unique: the checks find what it made, or that it made
        nothing."""
        fan, creator = random.choice(self.m.fans), random.choice(self.m.creators)
        amount = random.randint(100, 20000) if random.random() < 0.85 else \
            random.randint(20000, 300000)
        source = "wallet" if random.random() < 0.75 else "wallet_first"
        tag = f"stress {RUN} w{uuid.uuid4().hex[:16]}"
        body = {"creator_id": creator["user"]["id"], "amount": amount, "currency": CURRENCY,
                "source": source, "message": tag}
        if source == "wallet_first":
            body["provider"] = "mobile_money"
        w = {"tag": tag, "fan": fan["user"]["id"], "creator": creator["user"]["id"],
             "amount": amount, "source": source, "answer": None, "id": None}
        with self.m.lock:
            self.m.wallet_tips[tag] = w
        h = {"X-Idempotency-Key": uuid.uuid4().hex}
        r, _ = self.api.retrying("wallet_tip", "POST", "/payments/initiate", json=body,
                                 token=fan["access_token"], headers=h)
        if r is None:
            if source == "wallet_first":   # it may have become a provider payment
                with self.m.lock:
                    self.m.initiate_unknown += 1
            return
        p = r.json or {}
        if r.status == 422 and p.get("code") == "insufficient_funds" and source == "wallet":
            w["answer"] = 422
            return
        if r.status != 201 or p.get("amount") != amount or \
                p.get("creator_id") != creator["user"]["id"]:
            self.log.violate(f"wallet tip ({source}) answered {r.status}: {r.body[:300]!r}")
            return
        w["id"] = p["id"]
        if p.get("source") == "wallet":
            if p.get("status") != "succeeded" or p.get("provider") != "wallet" or \
                    not 0 <= p.get("from_cashback", -1) <= amount:
                self.log.violate(f"wallet tip {p['id']} answered {r.body[:300]!r}")
            w["answer"] = 201
            with self.m.lock:
                self.m.wallet_ids[p["id"]] = w
                self.m.refundable_wallet.append(p["id"])
            self.replay("wallet_tip", "/payments/initiate", body, fan, h, p["id"])
        elif source == "wallet_first" and p.get("source") == "provider" and \
                p.get("status") == "pending":
            w["answer"] = "provider"
            self.replay("wallet_tip", "/payments/initiate", body, fan, h, p["id"])
            self.expect_webhook(p["id"], "tip", fan, creator["user"]["id"], amount)
        else:
            self.log.violate(f"wallet tip ({source}) answered {r.status}: {r.body[:300]!r}")

    # -- memberships and schedules ---------------------------------------------
    def answered(self, kind, r, fan):
        """A subscription or schedule request's answer: 201 (recorded), or a
        refusal the request can meet (422 insufficient funds, 409 already
        subscribed); anything else breaks the contract."""
        p = (r.json or {}) if r is not None else {}
        key = f"{kind} {r.status if r is not None else 'none'}"
        with self.m.lock:
            self.m.item_answers[key] = self.m.item_answers.get(key, 0) + 1
        if r is None:
            return
        if r.status == 201 and p.get("fan_id") == fan["user"]["id"]:
            with self.m.lock:
                self.m.items[p["id"]] = {"kind": kind, "fan": fan}
        elif not (r.status == 422 and p.get("code") == "insufficient_funds") and \
                not (r.status == 409 and p.get("code") == "already_subscribed"):
            self.log.violate(f"{kind} answered {r.status}: {r.body[:300]!r}")

    def subscribe(self):
        fan, plan = random.choice(self.m.fans), random.choice(self.m.plans)
        r, _ = self.api.retrying("subscribe", "POST", "/subscriptions",
                                 json={"plan_id": plan["id"], "source": "wallet"},
                                 token=fan["access_token"],
                                 headers={"X-Idempotency-Key": uuid.uuid4().hex})
        self.answered("subscription", r, fan)

    def schedule(self):
        fan, creator = random.choice(self.m.fans), random.choice(self.m.creators)
        body = {"creator_id": creator["user"]["id"], "amount": random.randint(500, 5000),
                "currency": CURRENCY, "interval": "week", "count": random.randint(2, 4),
                "message": f"stress {RUN} schedule"}
        r, _ = self.api.retrying("schedule", "POST", "/schedules", json=body,
                                 token=fan["access_token"],
                                 headers={"X-Idempotency-Key": uuid.uuid4().hex})
        self.answered("schedule", r, fan)

    def billing_action(self):
        """A fan cancels (now or at the period's end), resumes or pauses one
        of its items: 200, or 409 when its state forbids it."""
        with self.m.lock:
            if not self.m.items:
                return
            iid = random.choice(list(self.m.items))
            item = self.m.items[iid]
        if item["kind"] == "subscription":
            action = random.choice(["cancel", "cancel_now", "resume"])
            path = f"/subscriptions/{iid}/{'cancel' if action != 'resume' else 'resume'}"
            body = {"at_period_end": action == "cancel"}
        else:
            path = f"/schedules/{iid}/{random.choice(['pause', 'resume', 'cancel'])}"
            body = {}
        r = self.api.call("billing_action", "POST", path, json=body,
                          token=item["fan"]["access_token"])
        if r is not None and r.status < 500 and r.status not in (200, 409):
            self.log.violate(f"POST {path} answered {r.status}: {r.body[:200]!r}")

    def tick(self):
        """A day passes on the billing clock, and the engine runs (the
        watchdogs run it too, every 5 seconds)."""
        r = self.api.call("clock", "POST", "/sandbox/clock", json={"advance": "1d"},
                          token=self.admin["access_token"])
        if r is not None and r.status == 200:
            with self.m.lock:
                self.m.clock_moves += 1
        r = self.api.call("billing_run", "POST", "/sandbox/billing/run",
                          token=self.admin["access_token"])
        if r is not None and r.status < 500 and r.status != 200:
            self.log.violate(f"the engine's run answered {r.status}: {r.body[:200]!r}")

    def transfer(self):
        """A transfer from a fan's main wallet to a creator; now and then one
        to a fan, which the default policy refuses."""
        fan = random.choice(self.m.fans)
        to_fan = random.random() < 0.05
        rcpt = random.choice([f for f in self.m.fans if f is not fan] if to_fan
                             else self.m.creators)
        amount = random.randint(100, 20000) if random.random() < 0.85 else \
            random.randint(50000, 150000)
        tag = f"stress {RUN} t{uuid.uuid4().hex[:16]}"
        t = {"tag": tag, "sender": fan["user"]["id"], "recipient": rcpt["user"]["id"],
             "amount": amount, "answer": None, "id": None}
        with self.m.lock:
            self.m.transfers[tag] = t
        r, _ = self.api.retrying("transfer", "POST", "/wallets/me/transfers",
                                 json={"recipient_id": rcpt["user"]["id"], "amount": amount,
                                       "note": tag},
                                 token=fan["access_token"],
                                 headers={"X-Idempotency-Key": uuid.uuid4().hex})
        if r is None:
            return
        p = r.json or {}
        code = p.get("code")
        if to_fan:
            if r.status == 403 and code == "recipient_not_allowed":
                t["answer"] = 403
            else:
                self.log.violate(f"transfer to a fan answered {r.status}: {r.body[:200]!r}")
            return
        if r.status == 201 and (p.get("sender_id"), p.get("recipient_id"), p.get("amount"),
                                p.get("note")) == (t["sender"], t["recipient"], amount, tag):
            t["answer"], t["id"] = 201, p["id"]
        elif r.status == 422 and code == "insufficient_funds":
            t["answer"] = 422
        elif r.status == 422 and code == "limit_exceeded" and 0 <= p.get("remaining", -1) < amount:
            t["answer"] = "limit"
        else:
            self.log.violate(f"transfer of {amount} answered {r.status}: {r.body[:200]!r}")

    def bill(self):
        """A bill payment from a fan's main wallet; the customer reference is
        new each time (the checks find each request's payment by it), and
        sometimes checked at the biller first."""
        fan, b = random.choice(self.m.fans), self.m.biller
        while True:
            customer = f"{random.randint(1, 8)}{random.randrange(10 ** 9):09d}"
            with self.m.lock:
                if customer not in self.m.bills:
                    o = {"customer": customer, "user": fan["user"]["id"], "answer": None,
                         "id": None}
                    self.m.bills[customer] = o
                    break
        if random.random() < 0.2:
            r = self.api.call("bill_validate", "POST", f"/billers/{b['id']}/validate",
                              json={"customer": customer}, token=fan["access_token"])
            if r is not None and r.status < 500 and (r.status != 200 or
                                                      r.json.get("customer") != customer):
                self.log.violate(f"validating {customer} answered {r.status}: {r.body[:200]!r}")
        amount = random.randint(100, 10000) if random.random() < 0.9 else \
            random.randint(50000, 300000)
        o["amount"] = amount
        r, _ = self.api.retrying("bill", "POST", "/bill-payments",
                                 json={"biller_id": b["id"], "customer": customer,
                                       "amount": amount},
                                 token=fan["access_token"],
                                 headers={"X-Idempotency-Key": uuid.uuid4().hex})
        if r is None:
            return
        p = r.json or {}
        bill = p.get("bill_payment") if r.status == 409 else p
        want = {201: "succeeded", 202: "pending", 409: "failed"}.get(r.status)
        if r.status == 422 and p.get("code") == "insufficient_funds":
            o["answer"] = 422
        elif want and (r.status != 409 or p.get("code") == "bill_refused") and \
                isinstance(bill, dict) and bill.get("status") == want and \
                (bill.get("customer"), bill.get("amount"), bill.get("fee")) == (customer, amount,
                                                                                 BILL_FEE):
            o["answer"], o["id"] = r.status, bill["id"]
            if r.status == 202:
                self.m.put("pending_bills", (bill["id"], fan))
        else:
            self.log.violate(f"bill payment {customer} answered {r.status}: {r.body[:300]!r}")

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
            self.m.put("refundable" if p["kind"] == "tip" else "refundable_topups", pid)
        elif not acked and random.random() < 0.5:
            self.m.put("undelivered", pid)  # the provider will try again later

    def refund(self):
        """A full or partial refund of a tip, a top-up (which takes back the
        bonus's share; refused when the fan spent it) or a wallet tip (back
        to the fan's wallet, at once); then, sometimes, the gateway's
        callback confirming a refund it left pending."""
        lists = [n for n, w in (("refundable", 6), ("refundable_topups", 2),
                                ("refundable_wallet", 3)) for _ in range(w)]
        random.shuffle(lists)
        for name in lists:
            pid = self.m.pick(name)
            if pid is not None:
                break
        else:
            return
        p = self.m.payments.get(pid) or self.m.wallet_ids[pid]
        wallet = pid in self.m.wallet_ids
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
                self.m.refunds[rid] = {"payment": pid, "answer": r.status, "wallet": wallet,
                                       "status": r.json["refund"]["status"]}
            if wallet and r.status != 200:
                self.log.violate(f"refund {rid} of wallet tip {pid} answered {r.status}:"
                                 f" {r.body[:200]!r}")
            if r.status == 202 and random.random() < 0.5:
                self.confirm(p, rid, r.json["refund"]["amount"])
            again = r.json["status"] != "refunded"
        elif r.status == 409 and r.json.get("code") in ("refund_refused", "insufficient_funds",
                                                        "refund_pending", "disputed",
                                                        "not_refundable"):
            again = r.json.get("code") != "not_refundable"
            kind = "wallet_tip" if wallet else p["kind"]
            with self.m.lock:
                k = f"{kind} {r.json['code']}"
                self.m.refusals[k] = self.m.refusals.get(k, 0) + 1
        elif r.status == 422 and any(e.get("field") == "amount" for e in r.json.get("errors", [])):
            pass  # more than is left of the payment
        else:
            self.log.violate(f"refund of {pid} answered {r.status}: {r.body[:200]!r}")
        if again:
            self.m.put(name, pid)

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
        if random.random() < 0.5:
            self.read_fan()
            return
        c = random.choice(self.m.creators)
        r = self.api.call("read", "GET", "/wallets/me/transactions?limit=20", token=c["access_token"])
        if r is not None and r.status < 500 and r.status != 200:
            self.log.violate(f"wallet transactions answered {r.status}")
        r = self.api.call("read", "GET", f"/creators/{c['user']['id']}")
        if r is not None and r.status < 500 and r.status != 200:
            self.log.violate(f"creator profile answered {r.status}")


    def read_fan(self):
        """A fan's wallet (never negative), its bills and transfers, a quote,
        and now and then a bill payment left pending, read back."""
        fan = random.choice(self.m.fans)
        tok = fan["access_token"]
        r = self.api.call("read", "GET", "/wallets/me", token=tok)
        if r is not None and r.status < 500 and (r.status != 200 or r.json["balance"] < 0 or
                                                  r.json["cashback_balance"] < 0):
            self.log.violate(f"fan wallet answered {r.status}: {r.body[:200]!r}")
        creator = random.choice(self.m.creators)["user"]["id"]
        path = random.choice(["/bill-payments?limit=5", "/wallets/me/transfers?limit=5",
                              "/wallets/me/transactions?limit=20",
                              f"/payments/quote?amount={random.randint(100, 20000)}"
                              f"&creator_id={creator}&source=wallet_first"])
        r = self.api.call("read", "GET", path, token=tok)
        if r is not None and r.status < 500 and r.status != 200:
            self.log.violate(f"GET {path} answered {r.status}: {r.body[:200]!r}")
        item = self.m.pick("pending_bills")
        if item is not None:
            bid, owner = item
            r = self.api.call("read", "GET", f"/bill-payments/{bid}", token=owner["access_token"])
            if r is not None and r.status < 500 and (r.status != 200 or r.json["id"] != bid):
                self.log.violate(f"bill payment {bid} answered {r.status}: {r.body[:200]!r}")
            elif r is not None and r.status == 200 and r.json["status"] == "pending":
                self.m.put("pending_bills", item)


# ----------------------------------------------------------------- faults

class Faults(threading.Thread):
    KINDS = ("pg_immediate", "apache_graceful", "kill_child")

    def __init__(self, stack, log, deadline, every, calm=0.0):
        super().__init__(daemon=True)
        self.stack, self.log, self.deadline, self.every = stack, log, deadline, every
        # the last `calm` seconds run without faults: memory is measured there
        self.calm_from = deadline - calm

    def children(self):
        return children_of(self.stack.env["TZ_PIDFILE"])[1:]

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


class ClusterFaults(Faults):
    """`make stress NODES=3`: through the front of tests/stack/cluster.py's
    cluster, whole nodes are SIGKILLed (parent and children) and started
    again a moment later, in turn; Redis is restarted; PostgreSQL is
    restarted with -m immediate."""
    KINDS = ("kill_node", "redis_restart", "pg_immediate")

    def __init__(self, stack, log, deadline, every, calm, cluster):
        super().__init__(stack, log, deadline, every, calm)
        self.cluster, self.next_node = cluster, 0

    def inject(self, kind):
        if kind == "kill_node":
            node = self.cluster["nodes"][self.next_node % len(self.cluster["nodes"])]
            self.next_node += 1
            return kill_node(self.stack, self.log, node, down_for=2.0)
        if kind == "redis_restart":
            return restart_redis(self.cluster["redis"])
        return super().inject(kind)


def children_of(pidfile):
    """The Apache parent named in pidfile and its children ([] when none)."""
    try:
        with open(pidfile) as f:
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
    return [parent] + kids


def kill_node(stack, log, node, down_for):
    """SIGKILL to the whole node, down_for seconds without it, then started
    again with its configuration."""
    pids = children_of(node["pidfile"])
    with log.lock:
        log.killed.update(pids)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        os.unlink(node["pidfile"])
    except OSError:
        pass
    time.sleep(down_for)
    env = dict(os.environ)
    for kv in stack.env.get("TZ_APACHE_ENV", "").split():
        k, _, v = kv.partition("=")
        env[k] = v
    r = subprocess.run(["apache2", "-f", node["conf"], "-k", "start"], env=env,
                       capture_output=True, text=True, timeout=60)
    return (f"SIGKILL to {node['name']} ({len(pids)} processes), started again after"
            f" {down_for:.0f}s (exit {r.returncode})")


def restart_redis(redis):
    """SIGTERM to Redis, waits for it to end, starts it again (empty: it
    keeps nothing on disk, like a cache that lost its memory)."""
    try:
        with open(redis["pidfile"]) as f:
            pid = int(f.read().strip())
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.1)
    except (OSError, ValueError):
        pass
    r = subprocess.run(["redis-server", redis["conf"]], capture_output=True, text=True)
    return f"Redis restarted (exit {r.returncode})"


def login_burst(urls, email, n=30):
    """n wrong passwords for email at once, spread over urls in turn, each
    from its own address: the answers' statuses."""
    out, go = [None] * n, threading.Barrier(n)

    def attempt(i):
        c = Client(urls[i % len(urls)], source_ip=f"127.78.{i // 250 + 1}.{i % 250 + 2}",
                   timeout=TIMEOUT)
        go.wait()
        try:
            out[i] = c.post("/auth/login", json={"email": email, "password": "wrong!"}).status
        except OSError:
            out[i] = "conn"

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def check_cluster_rate_limit(stack, log, cluster):
    """The login rate limit holds cluster-wide: a burst split over every
    node directly, and one through the front, each pass exactly the limit
    (TipzedLoginRateLimit) for one email."""
    limit = int((directive(stack, "TipzedLoginRateLimit") or ["5"])[0])
    direct = [f"http://127.0.0.1:{n['port']}/api/v1" for n in cluster["nodes"]]
    got = {}
    for name, urls in (("split_over_nodes", direct), ("through_front", [stack.api_url])):
        email = unique_email(f"stress-burst-{name}")
        r = Client(stack.api_url, source_ip="127.78.0.2", timeout=HASH_TIMEOUT).post(
            "/auth/register", json={"email": email, "password": PASSWORD, "full_name": "Burst",
                                    "role": "fan"})
        if r.status != 201:
            log.violate(f"login burst: registration answered {r.status}")
            continue
        statuses = login_burst(urls, email)
        got[name] = statuses.count(401)
        if statuses.count(401) != limit or statuses.count(429) != len(statuses) - limit:
            log.violate(f"login burst {name}: {statuses.count(401)} checked (limit {limit}),"
                        f" answers {sorted(statuses, key=str)}")
    return got


def check_node_crashes(log, cluster, starts):
    """check_crashes for every node's error log (the parents killed on
    purpose log nothing; a child that died otherwise is a violation)."""
    for node in cluster["nodes"]:
        check_crashes(argparse.Namespace(error_log=node["error_log"]), log,
                      starts.get(node["name"], 0))


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

def make_admin(stack, name, source_ip):
    email = unique_email("stress-admin")
    made = create_admin(stack, email, PASSWORD, name=name)
    a = login_totp(Client(stack.api_url, source_ip=source_ip), email, PASSWORD, made["totp_secret"])
    if a.status != 200:
        sys.exit(f"stress: admin login answered {a.status}")
    return dict(a.json, email=email, totp_secret=made["totp_secret"])


def setup(stack, log, n_creators, n_fans, biller):
    m = Model()
    admin = make_admin(stack, "Stress Admin", "127.77.0.3")
    lock = threading.Lock()

    # a few registrations at a time, each waiting as long as a hash may
    # queue: on a busy 2-core machine two dozen at once can take minutes
    at_once = threading.Semaphore(4)

    def make(i, role):
        api = Client(stack.api_url, source_ip=f"127.78.{i // 250 + 1}.{i % 250 + 2}",
                     timeout=HASH_TIMEOUT)
        with at_once:
            r = api.post("/auth/register", json={"email": unique_email(f"stress-{RUN}-{role}"),
                                                 "password": PASSWORD,
                                                 "full_name": f"Stress {role}", "role": role})
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
    # payouts need a verified address; the stress stack may have no mail
    # sink, so the creators' addresses are marked verified directly
    ids = ", ".join(f"'{c['user']['id']}'" for c in m.creators)
    stack.psql(f"UPDATE users SET email_verified_at = now() WHERE id IN ({ids})")
    setup_wallets(stack, m, admin, biller)
    setup_plans(stack, m)
    return m, admin


def setup_plans(stack, m):
    """Each creator's weekly plan; every other one with a day's trial."""
    api = Client(stack.api_url, source_ip="127.77.0.3")
    for i, c in enumerate(m.creators):
        amount = random.randint(500, 3000)
        r = api.post("/creators/me/plans", token=c["access_token"],
                     headers={"X-Idempotency-Key": uuid.uuid4().hex},
                     json={"name": f"Stress {RUN} weekly", "amount": amount, "currency": CURRENCY,
                           "interval": "week", "trial_days": i % 2})
        if r.status != 201:
            sys.exit(f"stress: creating a plan answered {r.status}: {r.body[:200]!r}")
        m.plans.append({"id": r.json["id"], "creator": c["user"]["id"], "amount": amount})


def setup_wallets(stack, m, admin, biller):
    """Fans' opening balances (an adjustment each, proposed by one admin and
    approved by another), the credit packages on sale and the biller."""
    checker = make_admin(stack, "Stress Checker", "127.77.0.6")
    api = Client(stack.api_url, source_ip="127.77.0.3")
    for fan in m.fans:
        uid = fan["user"]["id"]
        r = api.post(f"/admin/wallets/{uid}/adjustments", token=admin["access_token"],
                     headers={"X-Idempotency-Key": uuid.uuid4().hex},
                     json={"amount": FAN_FUNDS, "currency": CURRENCY,
                           "reason": f"stress {RUN}: opening balance"})
        if r.status != 201:
            sys.exit(f"stress: proposing an adjustment answered {r.status}: {r.body[:200]!r}")
        d = api.post(f"/admin/adjustments/{r.json['id']}/approve", token=checker["access_token"],
                     headers={"X-Idempotency-Key": uuid.uuid4().hex})
        if d.status != 200 or d.json["status"] != "approved":
            sys.exit(f"stress: approving an adjustment answered {d.status}: {d.body[:200]!r}")
        m.funded[uid] = FAN_FUNDS
    for i, (amount, bonus) in enumerate(PACKAGES):
        r = api.post("/admin/packages", token=admin["access_token"],
                     headers={"X-Idempotency-Key": uuid.uuid4().hex},
                     json={"name": f"Stress {RUN} pack {i}", "amount": amount,
                           "currency": CURRENCY, "bonus": bonus})
        if r.status != 201:
            sys.exit(f"stress: creating a package answered {r.status}: {r.body[:200]!r}")
        m.packages.append({"id": r.json["id"], "amount": amount, "bonus": bonus})
    r = api.post("/admin/billers", token=admin["access_token"],
                 json={"name": f"Stress biller {RUN}", "category": "electricity",
                       "base_url": biller.url, "fee": BILL_FEE, "currency": CURRENCY,
                       "customer_pattern": "^[0-9]{10}$"})
    if r.status != 201:
        sys.exit(f"stress: creating the biller answered {r.status}: {r.body[:200]!r}")
    m.biller = r.json


# ----------------------------------------------------------------- checks

def q(stack, sql):
    return stack.psql(sql)


CREDITED = {"succeeded", "refund_pending", "partially_refunded", "refunded"}
SQL_CREDITED = "('succeeded', 'refund_pending', 'partially_refunded', 'refunded')"
# this run's fans (all of their payments are the workload's, except the
# final flow's one, whose message says so)
FANS = f"(SELECT id FROM users WHERE email LIKE 'stress-{RUN}-fan-%')"


def check_payments(stack, log, m):
    """Tips and top-ups through the gateway (wallet_first's fallbacks too; the
    payment links the billing engine offers are check_billing's)."""
    rows = q(stack, "SELECT p.id, p.status, count(e.id), p.purpose, p.bonus, p.amount"
                    " FROM payments p LEFT JOIN journal_entries e ON e.payment_id = p.id"
                    " AND e.kind = 'payment'"
                    f" WHERE p.fan_id IN {FANS} AND p.source = 'provider'"
                    " AND p.subscription_id IS NULL AND p.schedule_id IS NULL"
                    " AND p.message <> 'stress-final' GROUP BY p.id")
    db = {r[0]: (r[1], int(r[2])) for r in rows}
    shape = {r[0]: (r[3], int(r[4]), int(r[5])) for r in rows}
    for pid, (status, credits) in db.items():
        if credits != (1 if status in CREDITED else 0):
            log.violate(f"payment {pid} is {status} with {credits} credit entries")
    for pid, p in m.payments.items():
        if pid not in db:
            log.violate(f"acknowledged payment {pid} is missing")
            continue
        status = db[pid][0]
        if shape[pid] != (p["kind"], p["bonus"], p["amount"]):
            log.violate(f"payment {pid} is (purpose, bonus, amount) {shape[pid]}, made as"
                        f" {(p['kind'], p['bonus'], p['amount'])}")
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
    rows = q(stack, "SELECT r.id, r.status, p.source FROM refunds r"
                    " JOIN payments p ON p.id = r.payment_id"
                    f" WHERE p.fan_id IN {FANS} AND p.message <> 'stress-final'")
    said = {}
    with gateway.lock:
        for rid, (code, answer) in gateway._answered.items():
            said[rid] = answer.get("status")
    for rid, status, source in rows:
        if source == "wallet":   # no provider: confirmed in the request
            if status != "succeeded":
                log.violate(f"refund {rid} of a wallet tip is {status}")
            continue
        gw = said.get(rid)
        if status == "succeeded" and gw != "succeeded" and rid not in m.confirmed:
            log.violate(f"refund {rid} is succeeded, but the gateway said {gw}")
        if status == "failed" and gw not in ("failed", None):
            log.violate(f"refund {rid} is failed, but the gateway said {gw}")
    db = {rid: st for rid, st, _ in rows}
    for rid, r in m.refunds.items():
        if r["answer"] == 200 and db.get(rid) != "succeeded":
            log.violate(f"refund {rid} was acknowledged as made but is {db.get(rid)}")
    # a refused refund is recorded as failed; any other one not acknowledged
    # can only come from a request that got no answer
    extra = len([1 for rid, st, _ in rows if rid not in m.refunds and st != "failed"])
    if extra > m.refund_unknown:
        log.violate(f"{extra} refunds exist that no acknowledged request made"
                    f" (only {m.refund_unknown} refund requests were indeterminate)")
    return len(rows)


def check_disputes(stack, log, m):
    rows = dict(q(stack, "SELECT d.provider_dispute_id, d.status FROM disputes d"
                         " JOIN payments p ON p.id = d.payment_id"
                         f" WHERE p.fan_id IN {FANS} AND p.message <> 'stress-final'"))
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
    """The API's wallet balance plus the creator's receivable and reserve
    (and the API's reserved is the reserve) = credited nets
    (tips through the gateway and from fans' wallets) - the net part of
    refunds and of open or lost disputes - payouts held + transfers received.
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
            (bal, owed, held, want, pending), = q(stack, wallet_figures(cid))
            again = api.get("/wallets/me", token=c["access_token"])
            if w.json["balance"] == again.json["balance"] == int(bal) \
                    and w.json["reserved"] == again.json["reserved"] == int(held):
                break
            time.sleep(0.5)   # something moved meanwhile: read again
        else:
            log.violate(f"wallet of {cid} kept moving while checked")
            continue
        if w.status != 200:
            continue
        if (w.json["balance"] + int(owed) + w.json["reserved"], w.json["pending_payouts"]) \
                != (int(want), int(pending)):
            log.violate(f"wallet of {cid}: balance {w.json['balance']} (owing {-int(owed)},"
                        f" reserved {w.json['reserved']}),"
                        f" pending {w.json['pending_payouts']}; payments, refunds, disputes and"
                        f" payouts say {want}, {pending}")


def wallet_figures(cid):
    """(wallet balance, receivable, reserve, what they should add up to, payouts
    pending)."""
    return f"""
      SELECT coalesce((SELECT balance FROM accounts WHERE owner_id = '{cid}' AND kind = 'wallet'
                         AND currency = '{CURRENCY}'), 0),
             coalesce((SELECT balance FROM accounts WHERE owner_id = '{cid}'
                         AND kind = 'creator_receivable' AND currency = '{CURRENCY}'), 0),
             coalesce((SELECT balance FROM accounts WHERE owner_id = '{cid}'
                         AND kind = 'reserve_hold' AND currency = '{CURRENCY}'), 0),
             (SELECT coalesce(sum(net), 0) FROM payments WHERE creator_id = '{cid}' AND status IN
                ('succeeded', 'refund_pending', 'partially_refunded', 'refunded'))
           - (SELECT coalesce(sum(r.amount - r.fee), 0) FROM refunds r
                JOIN payments p ON p.id = r.payment_id
               WHERE p.creator_id = '{cid}' AND r.status = 'succeeded')
           - (SELECT coalesce(sum(d.amount - d.fee), 0) FROM disputes d
                JOIN payments p ON p.id = d.payment_id
               WHERE p.creator_id = '{cid}' AND d.status <> 'won')
           - (SELECT coalesce(sum(amount), 0) FROM payouts WHERE creator_id = '{cid}'
                AND status IN ('pending', 'approved', 'processing', 'completed'))
           + (SELECT coalesce(sum(amount), 0) FROM transfers WHERE recipient_id = '{cid}')
           - (SELECT coalesce(sum(amount), 0) FROM transfers WHERE sender_id = '{cid}'),
             (SELECT coalesce(sum(amount), 0) FROM payouts WHERE creator_id = '{cid}'
                AND status IN ('pending', 'approved', 'processing'))"""


def check_wallet_tips(stack, log, m):
    """Each wallet tip request made at most one payment (found by its unique
    message): an acknowledged one exactly one, succeeded (or refunded since)
    with exactly one wallet_payment entry; one answered 422 none."""
    rows = q(stack, "SELECT p.id, p.message, p.status, p.source, p.amount, p.fan_id, p.creator_id,"
                    " (SELECT count(*) FROM journal_entries e WHERE e.payment_id = p.id"
                    "   AND e.kind = 'wallet_payment')"
                    f" FROM payments p WHERE p.message LIKE 'stress {RUN} w%'")
    by_tag = {}
    for r in rows:
        by_tag.setdefault(r[1], []).append(r)
    wallet_ok = {"succeeded", "partially_refunded", "refunded"}
    for tag, found in by_tag.items():
        w = m.wallet_tips.get(tag)
        if w is None:
            log.violate(f"payments {[r[0] for r in found]} carry a message no request sent")
            continue
        if len(found) > 1:
            log.violate(f"one wallet tip request ({tag}) made {len(found)} payments")
        for pid, _, status, source, amount, fan, creator, entries in found:
            if (int(amount), fan, creator) != (w["amount"], w["fan"], w["creator"]):
                log.violate(f"wallet tip {pid} is {amount} from {fan} to {creator}, asked"
                            f" {w['amount']} from {w['fan']} to {w['creator']}")
            if source == "wallet" and (status not in wallet_ok or int(entries) != 1):
                log.violate(f"wallet tip {pid} is {status} with {entries} wallet_payment entries")
            if source == "provider" and w["source"] != "wallet_first":
                log.violate(f"wallet tip request {tag} became provider payment {pid}")
            if w["answer"] == 201 and (pid != w["id"] or source != "wallet"):
                log.violate(f"wallet tip {w['id']} was acknowledged, but its request made"
                            f" {source} payment {pid}")
            if w["answer"] == "provider" and (pid != w["id"] or source != "provider"):
                log.violate(f"wallet_first request {tag} fell back to {w['id']}, but made"
                            f" {source} payment {pid}")
    for tag, w in m.wallet_tips.items():
        if w["answer"] in (201, "provider") and tag not in by_tag:
            log.violate(f"acknowledged wallet tip {w['id']} ({w['source']}) is missing")
        if w["answer"] == 422 and tag in by_tag:
            log.violate(f"wallet tip request {tag} was answered 422 insufficient_funds, but made"
                        f" payment {[r[0] for r in by_tag[tag]]}")
    return sum(1 for r in rows if r[3] == "wallet")


def check_billing(stack, log, m):
    """Every acknowledged subscription and schedule exists; no period of any
    item was paid twice (one credited charge per item and period, one
    credit entry each); each item's charges are its periods 1..n; a
    schedule never made more charges than its count."""
    # every item, compared here: a long run acknowledges more ids than one
    # command line can carry as a list
    found = {r[0] for r in q(stack, "SELECT id FROM subscriptions UNION ALL SELECT id FROM schedules")}
    for iid, item in m.items.items():
        if iid not in found:
            log.violate(f"acknowledged {item['kind']} {iid} is missing")
    for item, period, n in q(stack, f"""
        SELECT coalesce(subscription_id, schedule_id), period, count(*) FROM payments
         WHERE purpose IN ('subscription', 'schedule') AND status IN {SQL_CREDITED}
         GROUP BY 1, 2 HAVING count(*) > 1"""):
        log.violate(f"period {period} of {item} was paid {n} times")
    for pid, entries in q(stack, """
        SELECT b.payment_id, (SELECT count(*) FROM journal_entries e
                               WHERE e.reference = 'payment:' || b.payment_id || ':credit')
          FROM billing_charges b"""):
        if int(entries) != 1:
            log.violate(f"charge {pid} has {entries} credit entries")
    for item, n, top in q(stack, "SELECT item_id, count(*), max(period) FROM billing_charges"
                                 " GROUP BY item_id HAVING count(*) <> max(period)"):
        log.violate(f"{item}: {n} charges up to period {top}")
    for cid, made, count in q(stack, "SELECT id, charges_made, count FROM schedules"
                                     " WHERE charges_made > count"):
        log.violate(f"schedule {cid} made {made} charges of {count}")
    for pid, purpose, status, credits in q(stack, """
        SELECT p.id, p.purpose, p.status, (SELECT count(*) FROM journal_entries e
                                           WHERE e.payment_id = p.id AND e.kind = 'payment')
          FROM payments p WHERE p.source = 'provider'
           AND (p.subscription_id IS NOT NULL OR p.schedule_id IS NOT NULL)"""):
        if credits != ("1" if status in CREDITED else "0"):
            log.violate(f"offered link {pid} ({purpose}) is {status} with {credits} credits")
    (n,), = q(stack, "SELECT count(*) FROM billing_charges")
    return int(n)


def check_transfers(stack, log, m, cfg):
    """Each transfer request made at most one transfer (found by its unique
    note): an acknowledged one exactly one, with one entry; a refused one
    none.  No sender's transfers within any window pass the limit."""
    rows = q(stack, "SELECT t.id, t.note, t.sender_id, t.recipient_id, t.amount,"
                    " (SELECT count(*) FROM journal_entries e"
                    "   WHERE e.reference = 'transfer:' || t.id AND e.kind = 'transfer')"
                    f" FROM transfers t WHERE t.note LIKE 'stress {RUN} t%'")
    by_tag = {}
    for r in rows:
        by_tag.setdefault(r[1], []).append(r)
    for tag, found in by_tag.items():
        t = m.transfers.get(tag)
        if t is None:
            log.violate(f"transfers {[r[0] for r in found]} carry a note no request sent")
            continue
        if len(found) > 1:
            log.violate(f"one transfer request ({tag}) made {len(found)} transfers")
        for tid, _, sender, rcpt, amount, entries in found:
            if (sender, rcpt, int(amount)) != (t["sender"], t["recipient"], t["amount"]) or \
                    int(entries) != 1:
                log.violate(f"transfer {tid}: {amount} from {sender} to {rcpt} with {entries}"
                            f" entries; asked {t['amount']} from {t['sender']} to {t['recipient']}")
            if t["answer"] not in (201, None):
                log.violate(f"transfer request {tag} was answered {t['answer']}, but made {tid}")
            elif t["answer"] == 201 and tid != t["id"]:
                log.violate(f"transfer {t['id']} was acknowledged, but its request made {tid}")
    for tag, t in m.transfers.items():
        if t["answer"] == 201 and tag not in by_tag:
            log.violate(f"acknowledged transfer {t['id']} is missing")
    # the sliding window, as the posting function counts it: (t - window, t]
    window = f"interval '{cfg.transfer_window} seconds'"
    over = q(stack, f"""
      SELECT t.sender_id, t.id, w.used FROM transfers t
        CROSS JOIN LATERAL (SELECT sum(u.amount) AS used FROM transfers u
                             WHERE u.sender_id = t.sender_id AND u.currency = t.currency
                               AND u.created_at > t.created_at - {window}
                               AND u.created_at <= t.created_at) w
       WHERE t.sender_id IN {FANS} AND w.used > {cfg.transfer_limit}""")
    for sender, tid, used in over:
        log.violate(f"sender {sender}: {used} transferred within the window ending with {tid},"
                    f" above the limit {cfg.transfer_limit}")
    (most,), = q(stack, "SELECT coalesce(max(s), 0) FROM (SELECT sum(amount) AS s FROM transfers"
                        f" WHERE sender_id IN {FANS} GROUP BY sender_id) x")
    return len(rows), int(most)


def settle_bills(stack, m, seconds):
    """Waits until the watchdog has decided every bill payment of the run's
    biller (the biller answers every /status); returns how many are still
    pending."""
    end = now() + seconds
    while True:
        (n,), = q(stack, "SELECT count(*) FROM bill_payments"
                         f" WHERE biller_id = '{m.biller['id']}' AND status = 'pending'")
        if int(n) == 0 or now() > end:
            return int(n)
        time.sleep(1)


def check_bills(stack, log, m, biller):
    """Each bill payment is held once, then settled xor released, as the
    biller decided (a payment it never saw is released); none is pending;
    each request made at most one (found by its unique customer reference):
    an acknowledged one exactly one, one answered 422 none."""
    rows = q(stack, "SELECT o.id, o.customer, o.user_id, o.amount, o.fee, o.status,"
                    " count(e.id) FILTER (WHERE e.kind = 'bill_hold'),"
                    " count(e.id) FILTER (WHERE e.kind = 'bill_settle'),"
                    " count(e.id) FILTER (WHERE e.kind = 'bill_release')"
                    " FROM bill_payments o LEFT JOIN journal_entries e ON e.reference IN"
                    "  ('bill:' || o.id || ':hold', 'bill:' || o.id || ':settle',"
                    "   'bill:' || o.id || ':release')"
                    f" WHERE o.biller_id = '{m.biller['id']}' GROUP BY o.id")
    by_customer = {}
    statuses = {}
    for bid, customer, user, amount, fee, status, hold, settle, release in rows:
        by_customer.setdefault(customer, []).append((bid, status))
        statuses[status] = statuses.get(status, 0) + 1
        o = m.bills.get(customer)
        if o is None:
            log.violate(f"bill payment {bid} is for customer {customer}, whom no request named")
            continue
        if (user, int(amount), int(fee)) != (o["user"], o.get("amount"), BILL_FEE):
            log.violate(f"bill payment {bid}: {amount} + {fee} by {user}, asked {o.get('amount')}"
                        f" + {BILL_FEE} by {o['user']}")
        want = (1, int(status == "succeeded"), int(status == "failed"))
        if (int(hold), int(settle), int(release)) != want:
            log.violate(f"bill payment {bid} is {status} with {hold} hold, {settle} settle and"
                        f" {release} release entries")
        if status == "pending":
            log.violate(f"bill payment {bid} is still pending, but the biller has decided"
                        f" ({biller.verdict(bid)})")
        elif status != biller.verdict(bid):
            log.violate(f"bill payment {bid} is {status}, but the biller says"
                        f" {biller.verdict(bid)}")
        acked = {201: "succeeded", 409: "failed"}.get(o["answer"])
        if acked and status != acked:
            log.violate(f"bill payment {bid} was answered {o['answer']} but is {status}")
        if o["answer"] == 422:
            log.violate(f"bill request {customer} was answered 422, but made payment {bid}")
        elif o["answer"] is not None and bid != o["id"]:
            log.violate(f"bill payment {o['id']} was acknowledged, but its request made {bid}")
    for customer, found in by_customer.items():
        if len(found) > 1:
            log.violate(f"one bill request ({customer}) made payments {found}")
    for customer, o in m.bills.items():
        if o["answer"] in (201, 202, 409) and customer not in by_customer:
            log.violate(f"acknowledged bill payment {o['id']} is missing")
    return len(rows), statuses


def check_cashback(stack, log, m, cfg):
    """Per fan and month: what was granted never passes the cap, equals the
    cashback entries and the payments' cashback, and -- grants being
    min(due, what the cap leaves), whatever the order -- is exactly
    min(cap, the sum of what each credited tip was due)."""
    rows = q(stack, f"""
      SELECT u.id, c.month, c.granted,
             (SELECT coalesce(sum(q.amount), 0) FROM journal_entries e
                JOIN postings q ON q.entry_id = e.id JOIN accounts a ON a.id = q.account_id
               WHERE e.kind = 'cashback' AND a.kind = 'cashback' AND a.owner_id = u.id
                 AND date_trunc('month', e.created_at AT TIME ZONE 'UTC')::date = c.month),
             (SELECT coalesce(sum(p.cashback), 0) FROM payments p WHERE p.fan_id = u.id),
             (SELECT coalesce(sum(p.amount * p.cashback_bps / 10000), 0) FROM payments p
               WHERE p.fan_id = u.id AND p.purpose <> 'topup' AND p.cashback_cap > 0
                 AND p.status IN {SQL_CREDITED}),
             (SELECT count(*) FROM cashback_months x WHERE x.user_id = u.id)
        FROM users u LEFT JOIN cashback_months c ON c.user_id = u.id AND c.currency = '{CURRENCY}'
       WHERE u.id IN {FANS}""")
    at_cap = 0
    for uid, month, granted, entries, paid, due, months in rows:
        granted = int(granted or 0)
        if cfg.cashback_cap and granted > cfg.cashback_cap:
            log.violate(f"fan {uid} was granted {granted} cashback in {month}, above the cap"
                        f" {cfg.cashback_cap}")
        if granted != int(entries):
            log.violate(f"fan {uid}: cashback_months says {granted} granted in {month}, its"
                        f" cashback entries {entries}")
        if int(months) <= 1 and granted != int(paid):
            log.violate(f"fan {uid}: {granted} cashback granted, its payments say {paid}")
        if int(months) <= 1 and cfg.cashback_bps and granted != min(cfg.cashback_cap, int(due)):
            log.violate(f"fan {uid}: {granted} cashback granted, but its credited tips were due"
                        f" {due} within a cap of {cfg.cashback_cap}")
        at_cap += cfg.cashback_cap > 0 and granted == cfg.cashback_cap
    return at_cap


def fan_figures(uid):
    """(main, cashback, receivable, what main + cashback + receivable should
    be, the approved adjustments) of a fan, in one statement."""
    return f"""
      SELECT coalesce((SELECT balance FROM accounts WHERE owner_id = '{uid}' AND kind = 'wallet'
                         AND currency = '{CURRENCY}'), 0),
             coalesce((SELECT balance FROM accounts WHERE owner_id = '{uid}' AND kind = 'cashback'
                         AND currency = '{CURRENCY}'), 0),
             coalesce((SELECT balance FROM accounts WHERE owner_id = '{uid}'
                         AND kind = 'creator_receivable' AND currency = '{CURRENCY}'), 0),
             (SELECT coalesce(sum(amount), 0) FROM adjustments WHERE user_id = '{uid}'
                AND status = 'approved')
             -- top-ups: what was credited with the bonus, less refunds, disputes and the
             -- bonus taken back
           + (SELECT coalesce(sum(net + bonus - bonus_reversed), 0) FROM payments
               WHERE creator_id = '{uid}' AND purpose = 'topup' AND status IN {SQL_CREDITED})
           - (SELECT coalesce(sum(r.amount - r.fee), 0) FROM refunds r
                JOIN payments p ON p.id = r.payment_id
               WHERE p.creator_id = '{uid}' AND p.purpose = 'topup' AND r.status = 'succeeded')
           - (SELECT coalesce(sum(d.amount - d.fee), 0) FROM disputes d
                JOIN payments p ON p.id = d.payment_id
               WHERE p.creator_id = '{uid}' AND p.purpose = 'topup' AND d.status <> 'won')
             -- tips paid from the wallet, and what their refunds gave back
           - (SELECT coalesce(sum(amount), 0) FROM payments WHERE fan_id = '{uid}'
                AND source = 'wallet' AND status IN {SQL_CREDITED})
           + (SELECT coalesce(sum(r.amount), 0) FROM refunds r
                JOIN payments p ON p.id = r.payment_id
               WHERE p.fan_id = '{uid}' AND p.source = 'wallet' AND r.status = 'succeeded')
             -- cashback earned on every tip, less what refunds and lost disputes took back
           + (SELECT coalesce(sum(cashback - cashback_reversed), 0) FROM payments
               WHERE fan_id = '{uid}')
           - (SELECT coalesce(sum(amount), 0) FROM transfers WHERE sender_id = '{uid}')
           + (SELECT coalesce(sum(amount), 0) FROM transfers WHERE recipient_id = '{uid}')
           - (SELECT coalesce(sum(amount + fee), 0) FROM bill_payments WHERE user_id = '{uid}'
                AND status <> 'failed'),
             (SELECT coalesce(sum(amount), 0) FROM adjustments WHERE user_id = '{uid}'
                AND status = 'approved')"""


def check_fan_wallets(stack, log, m):
    """A fan's main and cashback balances, as the API and the ledger report
    them, plus what it owes equal what its adjustments, top-ups, wallet
    tips, cashback, transfers and bills add up to (read in one statement,
    the API's balances between two readings that agree with it)."""
    api = Client(stack.api_url, source_ip="127.77.0.7")
    total = 0
    for f in m.fans:
        uid = f["user"]["id"]
        for _ in range(10):
            w = api.get("/wallets/me", token=f["access_token"])
            if w.status != 200:
                log.violate(f"wallet of fan {uid} answered {w.status}")
                break
            main, cb, owed, want, adjusted = (int(x) for x in q(stack, fan_figures(uid))[0])
            again = api.get("/wallets/me", token=f["access_token"])
            if (w.json["balance"], w.json["cashback_balance"]) == \
                    (again.json["balance"], again.json["cashback_balance"]) == (main, cb):
                break
            time.sleep(0.5)
        else:
            log.violate(f"wallet of fan {uid} kept moving while checked")
            continue
        if w.status != 200:
            continue
        total += main + cb
        if adjusted != m.funded[uid]:
            log.violate(f"fan {uid}: approved adjustments sum to {adjusted}, {m.funded[uid]} made")
        if main < 0 or cb < 0 or owed > 0:
            log.violate(f"fan {uid}: main {main}, cashback {cb}, receivable {owed}")
        if main + cb + owed != want:
            log.violate(f"wallet of fan {uid}: main {main} + cashback {cb} (owing {-owed}) ="
                        f" {main + cb + owed}; adjustments, top-ups, wallet tips, cashback,"
                        f" transfers and bills say {want}")
    return total


def check_events(stack, log):
    """The outbox against the ledger: every credited payment of this run's
    fans announced as succeeded exactly once and no other payment (earlier
    payments on the stack may have had their events removed by
    TipzedOutboxRetention, as test_outbox_retention.py does on purpose); a
    wallet.credited event for each credit leg to a wallet or cashback
    balance and nothing else;
    each payout's last event its state."""
    for pid, status, n in q(stack, f"""
        SELECT p.id, p.status, (SELECT count(*) FROM outbox_events v
                                 WHERE v.type = 'payment.succeeded' AND v.data->>'id' = p.id::text)
          FROM payments p
         WHERE p.fan_id IN {FANS}
           AND (SELECT count(*) FROM outbox_events v WHERE v.type = 'payment.succeeded'
                 AND v.data->>'id' = p.id::text)
               <> (CASE WHEN EXISTS (SELECT 1 FROM journal_entries e
                                      WHERE e.reference = 'payment:' || p.id || ':credit')
                        THEN 1 ELSE 0 END)"""):
        log.violate(f"payment {pid} ({status}) was announced as succeeded {n} times")
        # what the payment went through, for whoever reads the report
        for row in q(stack, f"""
            SELECT 'payment', concat_ws(' ', purpose, provider, 'created', created_at,
                                        'updated', updated_at) FROM payments WHERE id = '{pid}'
            UNION ALL SELECT 'entry', concat_ws(' ', kind, reference, created_at)
                        FROM journal_entries WHERE payment_id = '{pid}'
            UNION ALL SELECT 'provider event', concat_ws(' ', provider, kind, outcome, received_at)
                        FROM webhook_events WHERE payment_id = '{pid}'
            UNION ALL SELECT 'outbox', concat_ws(' ', type, created_at) FROM outbox_events
                       WHERE data->>'id' = '{pid}'"""):
            print(f"stress:   {pid}: {' | '.join(row)}", flush=True)
    (missing, extra), = q(stack, """
        WITH legs AS (SELECT p.entry_id::text, a.owner_id::text, a.kind, p.amount::text
                        FROM postings p JOIN accounts a ON a.id = p.account_id
                       WHERE p.amount > 0 AND a.kind IN ('wallet', 'cashback')),
             ev AS (SELECT data->>'entry_id', data->>'user_id', data->>'wallet', data->>'amount'
                      FROM outbox_events WHERE type = 'wallet.credited')
        SELECT (SELECT count(*) FROM (SELECT * FROM legs EXCEPT ALL SELECT * FROM ev) x),
               (SELECT count(*) FROM (SELECT * FROM ev EXCEPT ALL SELECT * FROM legs) y)""")
    if missing != "0" or extra != "0":
        log.violate(f"wallet.credited: {missing} credits not announced, {extra} events without"
                    " their credit")
    for pid, status, last in q(stack, """
        SELECT o.id, o.status, (SELECT v.type FROM outbox_events v
                                 WHERE v.type LIKE 'payout.%' AND v.data->>'id' = o.id::text
                                 ORDER BY v.seq DESC LIMIT 1)
          FROM payouts o"""):
        if last != f"payout.{status}":
            log.violate(f"payout {pid} is {status} but its last event is {last}")
    (n,), = q(stack, "SELECT count(*) FROM outbox_events")
    return int(n)


def check_deliveries(stack, log, rec, endpoint_id, seconds=120):
    """Every event written after the admin's endpoint was made reaches it at
    least once, whatever the faults did, and the log says so."""
    deadline = now() + seconds
    left = None
    while now() < deadline:
        (left,), = q(stack, "SELECT (SELECT count(*) FROM outbox_events WHERE pending)"
                            " + (SELECT count(*) FROM webhook_deliveries"
                            f" WHERE endpoint_id = '{endpoint_id}' AND status <> 'succeeded')")
        if left == "0":
            break
        time.sleep(1)
    if left != "0":
        log.violate(f"{left} events or deliveries of the admin's endpoint are still undelivered")
    want = {r[0] for r in q(stack, "SELECT v.id FROM outbox_events v, webhook_endpoints e"
                                   f" WHERE e.id = '{endpoint_id}' AND v.created_at >= e.created_at")}
    got = [r["headers"].get("x-tipzed-event-id") for r in rec.requests]
    lost = want - set(got)
    if lost:
        log.violate(f"{len(lost)} events never reached the admin's endpoint, e.g. {sorted(lost)[:3]}")
    return len(want), len(got) - len(set(got))


def check_reconciliation(stack, log, admin):
    """The whole reconciliation, from tipzedctl and from the admin API, and
    the ledger's hash chain (every entry linked, in one line)."""
    rec = stack.tipzedctl("reconcile")
    if rec.returncode != 0:
        log.violate("reconciliation is not clean:\n" + rec.stdout + rec.stderr)
    chain = stack.tipzedctl("verify-chain")
    if chain.returncode != 0:
        log.violate("the hash chain is broken:\n" + chain.stdout + chain.stderr)
    api = Client(stack.api_url, source_ip="127.77.0.8")
    # a fresh token: the run's may have expired
    a = login_totp(api, admin["email"], PASSWORD, admin["totp_secret"])
    r = api.get("/admin/reconciliation", token=a.json["access_token"]) if a.status == 200 else a
    if r.status != 200 or r.json.get("ok") is not True:
        bad = [c for c in (r.json or {}).get("checks", []) if not c.get("ok")]
        log.violate(f"GET /admin/reconciliation answered {r.status}: {bad or r.body[:300]!r}")


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
    def held():    # the balance, the reserve and what the creator owes
        w = api.get("/wallets/me", token=creator["access_token"]).json
        return w["balance"] + w["reserved"] + int(q(stack, owed)[0][0])
    before = held()
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
    after = held()   # a creator who owes repays from this tip first; the reserve holds a share
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
    ap.add_argument("--nodes", type=int, default=1,
                    help="more than 1: STACK_DIR is tests/stack/cluster.py's cluster")
    ap.add_argument("--gateway-port", type=int, required=True,
                    help="the port of the mobile_money gateway's stand-in (TipzedProvider's URL)")
    a = ap.parse_args()
    stack = Stack(a.stack_dir)
    cluster = None
    if a.nodes > 1:  # the load and the health checks go through the front
        with open(os.path.join(stack.dir, "cluster.json")) as f:
            cluster = json.load(f)
        stack.base_url = cluster["front"]["url"]
        stack.api_url = stack.base_url + "/api/v1"
    if not stack.base_url.startswith("http://127.0.0.1:"):
        sys.exit("stress: the stack must listen on 127.0.0.1")
    if not stack.wait_healthy(20):
        sys.exit(f"stress: {stack.api_url} does not answer")
    log = Log()
    log_start = os.path.getsize(stack.error_log)
    node_starts = {n["name"]: os.path.getsize(n["error_log"]) for n in (cluster or {}).get("nodes", [])}
    every = a.fault_every or min(20.0, max(5.0, a.duration / 8))
    print(f"stress: {a.clients} clients for {a.duration:.0f}s, a fault every {every:.0f}s,"
          f" against {stack.base_url}", flush=True)
    cfg = Settings(stack)
    biller = Biller(stack.secret("biller"), hang_seconds=cfg.provider_timeout + 1)
    m, admin = setup(stack, log, a.creators, a.fans, biller)
    sink = None
    if os.environ.get("TZ_SMTP_PORT"):  # make test's stack mails through TipzedSMTP
        from smtpsink import SmtpSink
        sink = SmtpSink(port=int(os.environ["TZ_SMTP_PORT"])).start()
    hooks = Receiver()
    r = Client(stack.api_url, source_ip="127.77.0.3").post(
        "/webhook-endpoints", token=admin["access_token"], json={"url": hooks.url, "events": ["*"]})
    if r.status != 201:
        sys.exit(f"stress: creating the admin's webhook endpoint answered {r.status}: {r.body[:200]!r}")
    hooks_endpoint = r.json["id"]
    gateway = StandIn(a.gateway_port, stack.secret("webhook_mobile_money").decode(),
                      generic_routes)
    gateway.take_refund_outcome = lambda: random.choice(REFUND_OUTCOMES)
    rss0 = children_rss_kb(stack)
    deadline = now() + a.duration
    if cluster:
        faults = ClusterFaults(stack, log, deadline, every, max(15.0, a.duration / 4), cluster)
    else:
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

    # the watchdog decides the bill payments the biller left undecided
    bills_left = settle_bills(stack, m, 90)

    n_payments = check_payments(stack, log, m)
    n_payouts = check_payouts(stack, log, m)
    n_refunds = check_refunds(stack, log, m, gateway)
    n_disputes = check_disputes(stack, log, m)
    n_wallet_tips = check_wallet_tips(stack, log, m)
    n_transfers, most_sent = check_transfers(stack, log, m, cfg)
    n_bills, bill_statuses = check_bills(stack, log, m, biller)
    n_charges = check_billing(stack, log, m)
    fans_at_cap = check_cashback(stack, log, m, cfg)
    check_wallets(stack, log, m)
    fans_hold = check_fan_wallets(stack, log, m)
    check_registrations(stack, log, m)
    check_reconciliation(stack, log, admin)
    n_events = check_events(stack, log)
    n_announced, n_redelivered = check_deliveries(stack, log, hooks, hooks_endpoint)
    hooks.close()
    mails = len(sink.messages) if sink else None
    if sink:
        sink.stop()
    if cluster:
        check_node_crashes(log, cluster, node_starts)
        bursts = check_cluster_rate_limit(stack, log, cluster)
    else:
        check_crashes(stack, log, log_start)
    if biller.bad_signatures:
        log.violate(f"the biller got {biller.bad_signatures} requests without a valid signature")

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
    tips = [p for p in pay if p["kind"] == "tip"]
    tops = [p for p in pay if p["kind"] == "topup"]

    def answers(items):
        out = {}
        for x in items:
            k = str(x["answer"])
            out[k] = out.get(k, 0) + 1
        return dict(sorted(out.items()))
    figures = {
        "duration_s": round(elapsed, 1), "clients": a.clients, "requests": len(calls),
        "requests_per_s": round(len(calls) / elapsed, 1), **{f"answers_{k}": v for k, v in by.items()},
        "5xx_during_faults": faulty["5xx"], "no_answer_during_faults": faulty["conn"],
        "5xx_outside_faults": outside["5xx"], "no_answer_outside_faults": outside["conn"],
        "faults": len(log.faults),
        **{f"faults_{k}": sum(1 for f, _ in log.faults if f == k) for k in type(faults).KINDS},
        "payments": n_payments, "payments_credited_acked": sum(
            1 for p in tips if p["outcome"] == "success" and p["acked"]),
        "payments_indeterminate": sum(1 for p in pay if p["sent"] and not p["acked"]),
        "topups": len(tops), "topups_with_package": sum(1 for p in tops if p["bonus"]),
        "topups_credited_acked": sum(1 for p in tops if p["outcome"] == "success" and p["acked"]),
        "wallet_tips": n_wallet_tips,
        "wallet_tip_answers": answers(m.wallet_tips.values()),
        "transfers": n_transfers, "transfer_answers": answers(m.transfers.values()),
        "transfers_most_by_one_sender": most_sent,
        "bill_payments": n_bills, "bill_answers": answers(m.bills.values()),
        "bill_statuses": bill_statuses, "bills_pending_after_wait": bills_left,
        "biller_calls": dict(sorted(biller.counts.items())),
        "fans_at_cashback_cap": fans_at_cap, "fans_hold": fans_hold,
        "subscriptions_and_schedules": len(m.items),
        "billing_answers": dict(sorted(m.item_answers.items())),
        "billing_clock_days": m.clock_moves, "billing_charges": n_charges,
        "refunds": n_refunds,
        "refunds_confirmed_at_once": sum(1 for r in m.refunds.values() if r["answer"] == 200),
        "refunds_left_pending": sum(1 for r in m.refunds.values() if r["answer"] == 202),
        "refunds_of_wallet_tips": sum(1 for r in m.refunds.values() if r["wallet"]),
        "refunds_of_topups": sum(1 for r in m.refunds.values() if not r["wallet"]
                                 and m.payments[r["payment"]]["kind"] == "topup"),
        "refunds_refused": dict(sorted(m.refusals.items())),
        "refund_callbacks": len(m.confirmed), "disputes": n_disputes,
        "payouts": n_payouts, "registrations": len(m.registered),
        "events": n_events, "events_to_the_admins_endpoint": n_announced,
        "events_delivered_more_than_once": n_redelivered, "mails_received": mails,
        "child_rss_kb_start": rss0[0], "child_rss_kb_peak": peak, "child_rss_kb_end": rss1[0],
        "child_rss_growth_kb_calm_phase": growth,
        **({"nodes": len(cluster["nodes"]), "login_burst_checked": bursts} if cluster else {}),
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
