"""Local stand-ins of the Flutterwave v3 and Stripe APIs and of the generic
mobile-money gateway (real HTTP, the payload shapes of the providers'
public docs and of docs/providers.md), on the ports the stack's httpd.conf
points TipzedProvider at ($TZ_FLW_PORT, $TZ_STRIPE_PORT, ...).

Refunds: `refund_next` plans the outcome of the next refund calls, one
entry per call ("succeeded", "pending", "failed", or an HTTP status such
as 400 or 503); an empty plan means "succeeded".  `refunds` lists every
refund the stand-in made, parsed.  `status_answers` holds the answers to
status calls (Flutterwave: by tx_ref; generic gateway: by payment_id)."""
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Seconds of signature timestamp skew the generic gateway accepts.
SIGNATURE_TOLERANCE = 300


class StandIn:
    def __init__(self, port, secret, routes):
        self.base_url = f"http://127.0.0.1:{port}"
        self.secret = secret
        self.requests = []
        self.verify = {}          # Flutterwave transaction id -> verify answer
        self._fail = []           # statuses for the next create calls
        self.verify_fail = []     # statuses for the next verify calls
        self._hang = 0
        self.refund_next = []     # outcomes of the next refund calls
        self.refunds = []         # refunds made, parsed
        self.status_answers = {}  # status-call key -> answer
        self.sessions = {}        # Stripe Checkout Session id -> session
        self._answered = {}       # idempotency key / refund_id -> (status, answer)
        self.lock = threading.Lock()  # one refund decision at a time
        self.routes = routes
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                owner.requests.append({"method": self.command, "path": self.path,
                                       "headers": dict(self.headers), "body": body})
                status, payload = owner.routes(owner, self.command, self.path, self.headers, body)
                csv = isinstance(payload, bytes)  # a report export
                data = payload if csv else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/csv" if csv else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def fail_next(self, status):
        self._fail.append(status)

    def hang_next(self):
        self._hang += 1

    def take_failure(self):
        if self._hang:
            self._hang -= 1
            time.sleep(4)  # longer than the stack's TipzedProviderTimeout (2s)
            return 504
        return self._fail.pop(0) if self._fail else None

    def take_refund_outcome(self):
        """The planned outcome of this refund call ("succeeded" when none)."""
        return self.refund_next.pop(0) if self.refund_next else "succeeded"

    def authorized(self, headers):
        return headers.get("Authorization") == f"Bearer {self.secret}"

    # ---- the generic gateway's signature (X-Tipzed-Signature) ----

    def sign(self, body, t=None):
        """t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>, as the gateway
        signs its callbacks."""
        t = int(time.time()) if t is None else int(t)
        body = body if isinstance(body, bytes) else body.encode()
        mac = hmac.new(self.secret.encode(), b"%d." % t + body, hashlib.sha256).hexdigest()
        return f"t={t},v1={mac}"

    def signed(self, headers, body):
        """Whether X-Tipzed-Signature signs body with the shared secret."""
        fields = [kv.strip().split("=", 1) for kv in (headers.get("X-Tipzed-Signature") or "").split(",")]
        t = [v for k, v in (f for f in fields if len(f) == 2) if k == "t"]
        v1 = [v for k, v in (f for f in fields if len(f) == 2) if k == "v1"]
        if len(t) != 1 or not t[0].isdigit() or abs(time.time() - int(t[0])) > SIGNATURE_TOLERANCE:
            return False
        want = self.sign(body, int(t[0])).split("v1=", 1)[1]
        return any(hmac.compare_digest(want, v) for v in v1)

    # ---- Stripe Checkout Sessions ----

    def session_for(self, payment_id):
        """The id of the (latest) Checkout Session created for payment_id, or None."""
        found = [sid for sid, s in self.sessions.items() if s["client_reference_id"] == payment_id]
        return found[-1] if found else None

    def complete_session(self, session_id, payment_intent):
        s = self.sessions[session_id]
        s.update(status="complete", payment_status="paid", payment_intent=payment_intent,
                 completed_at=int(time.time()))
        return s

    def expire_session(self, session_id):
        s = self.sessions[session_id]
        s.update(status="expired")
        return s

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _minor(text):
    """Exact minor units of a decimal major-unit JSON number."""
    return int(Decimal(text) * 100)


def _json(body):
    try:
        return json.loads(body or b"null")
    except ValueError:
        return None


# ---------------------------------------------------------------- Flutterwave

FLW_REFUND_STATUS = {"succeeded": "completed", "pending": "pending", "failed": "failed"}


def flw_refund(fw, tx, body):
    """POST /v3/transactions/<tx>/refund: Flutterwave's refund shape, or the
    planned error."""
    raw = json.loads(body or b"{}", parse_float=str, parse_int=str)
    if not tx.isdigit() or "amount" not in raw:
        return 400, {"status": "error", "message": "Invalid transaction id or amount", "data": None}
    outcome = fw.take_refund_outcome()
    if isinstance(outcome, int):
        return outcome, {"status": "error", "message": f"Refund refused ({outcome})", "data": None}
    refund = {"id": 70000 + len(fw.refunds) + 1, "account_id": 73362, "tx_id": int(tx),
              "flw_ref": "URF_" + uuid.uuid4().hex[:12], "wallet_id": 74639,
              "amount_refunded": json.loads(body)["amount"], "status": FLW_REFUND_STATUS[outcome],
              "destination": "payment_source", "meta": {"source": "availablebalance"},
              "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())}
    fw.refunds.append({"tx_id": tx, "amount_minor": _minor(raw["amount"]),
                       "comments": raw.get("comments"), "outcome": outcome, "answer": refund})
    return 200, {"status": "success", "message": "Transaction refund initiated", "data": refund}


def flutterwave_routes(fw, method, path, headers, body):
    if not fw.authorized(headers):
        return 401, {"status": "error", "message": "Invalid authorization key", "data": None}
    url = urllib.parse.urlsplit(path)
    parts = url.path.split("/")
    if method == "POST" and path == "/v3/payments":
        failure = fw.take_failure()
        if failure:
            return failure, {"status": "error", "message": "Service unavailable", "data": None}
        req = json.loads(body)
        return 200, {"status": "success", "message": "Hosted Link",
                     "data": {"link": f"{fw.base_url}/pay/{req['tx_ref']}"}}
    if method == "POST" and len(parts) == 5 and parts[1:3] == ["v3", "transactions"] \
            and parts[4] == "refund":
        with fw.lock:
            return flw_refund(fw, urllib.parse.unquote(parts[3]), body)
    if method == "GET" and url.path == "/v3/transactions/verify_by_reference":
        ref = dict(urllib.parse.parse_qsl(url.query)).get("tx_ref")
        if ref in fw.status_answers:
            return 200, fw.status_answers[ref]
        return 404, {"status": "error", "message": "No transaction was found", "data": None}
    if method == "GET" and path.startswith("/v3/transactions/") and path.endswith("/verify"):
        tx = path.split("/")[3]
        if fw.verify_fail:
            return fw.verify_fail.pop(0), {"status": "error", "message": "Try again", "data": None}
        if tx in fw.verify:
            return 200, fw.verify[tx]
        return 404, {"status": "error", "message": "No transaction was found for this id", "data": None}
    return 404, {"status": "error", "message": "not found"}


# ---------------------------------------------------------------- Stripe

def stripe_error(status, message):
    kind = "invalid_request_error" if 400 <= status < 500 else "api_error"
    return status, {"error": {"type": kind, "message": message}}


def stripe_session(st, body):
    form = dict(urllib.parse.parse_qsl(body.decode()))
    sid = "cs_test_" + uuid.uuid4().hex
    session = {"id": sid, "object": "checkout.session", "url": f"{st.base_url}/c/pay/{sid}",
               "client_reference_id": form.get("client_reference_id"),
               "amount_total": int(form.get("line_items[0][price_data][unit_amount]", "0")),
               "currency": form.get("line_items[0][price_data][currency]"),
               "payment_status": "unpaid", "status": "open", "payment_intent": None,
               "metadata": {"payment_id": form.get("metadata[payment_id]")}}
    st.sessions[sid] = session
    return 200, dict(session, form=form)


def stripe_refund(st, headers, body):
    """POST /v1/refunds: a Refund object with the planned status; a request
    repeated with the same Idempotency-Key gets the first answer again."""
    key = headers.get("Idempotency-Key")
    if key and key in st._answered:
        return st._answered[key]
    form = dict(urllib.parse.parse_qsl(body.decode()))
    if not form.get("payment_intent") or not form.get("amount", "").isdigit():
        return stripe_error(400, "Missing required param: payment_intent or amount.")
    outcome = st.take_refund_outcome()
    if isinstance(outcome, int):
        return stripe_error(outcome, f"Refund refused ({outcome})")
    session = next((s for s in st.sessions.values()
                    if s["payment_intent"] == form["payment_intent"]), None)
    meta = {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[") and k.endswith("]")}
    refund = {"id": "re_" + uuid.uuid4().hex[:24], "object": "refund", "amount": int(form["amount"]),
              "currency": session["currency"] if session else "usd", "charge": None,
              "payment_intent": form["payment_intent"], "status": outcome,
              "failure_reason": "expired_or_canceled_card" if outcome == "failed" else None,
              "reason": None, "metadata": meta, "created": int(time.time())}
    st.refunds.append({"payment_intent": form["payment_intent"], "amount": refund["amount"],
                       "metadata": meta, "idempotency_key": key, "outcome": outcome,
                       "answer": refund})
    if key:
        st._answered[key] = (200, refund)
    return 200, refund


# What the stand-in charges per card payment, as Stripe's standard pricing
# is written: a percentage of the amount plus a fixed part (minor units).
STRIPE_FEE_PERCENT = Decimal("2.9")
STRIPE_FEE_FIXED = 30
STRIPE_BALANCE_COLUMNS = ["id", "Type", "Source", "Amount", "Fee", "Net", "Currency",
                          "Created (UTC)", "Available On (UTC)", "Description",
                          "payment_id (metadata)", "refund_id (metadata)"]


def _major(minor):
    """Minor units as the Dashboard's exports write them: "25.00", "-1,025.00"."""
    return f"{Decimal(minor) / 100:,.2f}"


def _utc(unix):
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(unix))


def stripe_fee(amount):
    """The stand-in's fee on a charge: the percentage rounded half up, plus the fixed part."""
    pct = (Decimal(amount) * STRIPE_FEE_PERCENT / 100).quantize(Decimal(1), rounding="ROUND_HALF_UP")
    return int(pct) + STRIPE_FEE_FIXED


def stripe_balance_history(st, since=0):
    """The stand-in's balance transactions since a Unix time, as the rows of
    the Dashboard's balance export (STRIPE_BALANCE_COLUMNS): a charge per
    paid Checkout Session, a refund per succeeded refund."""
    rows = []
    for sid, s in st.sessions.items():
        if s.get("payment_status") != "paid" or s.get("completed_at", 0) < since:
            continue
        amount, fee = s["amount_total"], stripe_fee(s["amount_total"])
        rows.append({"id": "txn_" + sid[-24:], "Type": "charge", "Source": "ch_" + sid[-24:],
                     "Amount": _major(amount), "Fee": _major(fee), "Net": _major(amount - fee),
                     "Currency": s["currency"], "Created (UTC)": _utc(s["completed_at"]),
                     "Available On (UTC)": _utc(s["completed_at"] + 2 * 86400),
                     "Description": f"Checkout {sid}",
                     "payment_id (metadata)": s["metadata"]["payment_id"], "refund_id (metadata)": ""})
    for r in st.refunds:
        a = r["answer"]
        if r["outcome"] != "succeeded" or a["created"] < since:
            continue
        rows.append({"id": "txn_" + a["id"][3:], "Type": "refund", "Source": a["id"],
                     "Amount": _major(-a["amount"]), "Fee": "0.00", "Net": _major(-a["amount"]),
                     "Currency": a["currency"], "Created (UTC)": _utc(a["created"]),
                     "Available On (UTC)": _utc(a["created"]), "Description": "REFUND FOR CHARGE",
                     "payment_id (metadata)": r["metadata"].get("payment_id", ""),
                     "refund_id (metadata)": r["metadata"].get("refund_id", "")})
    return rows


def csv_text(columns, rows):
    """rows (dicts) as an RFC 4180 file with a header line, CRLF line ends."""
    import csv
    import io
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue().encode()


def stripe_routes(st, method, path, headers, body):
    if not st.authorized(headers):
        return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}
    if method == "POST" and path == "/v1/checkout/sessions":
        failure = st.take_failure()
        if failure:
            return failure, {"error": {"type": "api_error", "message": "Something went wrong"}}
        return stripe_session(st, body)
    if method == "POST" and path == "/v1/refunds":
        with st.lock:
            return stripe_refund(st, headers, body)
    url = urllib.parse.urlsplit(path)
    if method == "GET" and url.path == "/v1/reporting/balance_history.csv":
        # the stand-in's own export (the Dashboard's Balance > Export),
        # from ?created_gte=<unix>
        since = int(dict(urllib.parse.parse_qsl(url.query)).get("created_gte", "0"))
        return 200, csv_text(STRIPE_BALANCE_COLUMNS, stripe_balance_history(st, since))
    if method == "GET" and path.startswith("/v1/checkout/sessions/"):
        sid = urllib.parse.unquote(path[len("/v1/checkout/sessions/"):])
        if sid in st.sessions:
            return 200, st.sessions[sid]
        return stripe_error(404, f"No such checkout.session: '{sid}'")
    return 404, {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}}


# ---------------------------------------------------------------- generic gateway

def generic_refund(gw, body):
    """POST /refunds: the planned outcome; the same refund_id again gets the
    same answer and refunds nothing more."""
    req = _json(body)
    if not isinstance(req, dict) or not req.get("refund_id") or not isinstance(req.get("amount"), int):
        return 400, {"error": "invalid_request", "message": "refund_id and amount are required"}
    rid = req["refund_id"]
    if rid in gw._answered:
        return gw._answered[rid]
    outcome = gw.take_refund_outcome()
    if isinstance(outcome, int):
        return outcome, {"error": "refund_refused", "message": f"Refund refused ({outcome})"}
    answer = {"refund_id": rid, "status": outcome, "provider_refund_id": "gw-r-" + uuid.uuid4().hex[:12],
              "amount": req["amount"]}
    if outcome == "failed":
        answer["reason"] = "refund declined by the gateway"
    gw.refunds.append(dict(req, outcome=outcome, answer=answer))
    gw._answered[rid] = (200, answer)
    return 200, answer


def generic_routes(gw, method, path, headers, body):
    """The generic mobile-money gateway: signed refund and status calls;
    any other GET is the payer's checkout page."""
    # the calls are made relative to the configured base URL (its path kept)
    url = urllib.parse.urlsplit(path).path
    url = "/" + url.rsplit("/", 1)[-1] if url.endswith(("/refunds", "/status")) else url
    if method == "POST" and url in ("/refunds", "/status"):
        if not gw.signed(headers, body):
            return 401, {"error": "invalid_signature", "message": "X-Tipzed-Signature does not verify"}
        if url == "/refunds":
            with gw.lock:
                return generic_refund(gw, body)
        req = _json(body)
        if not isinstance(req, dict) or not isinstance(req.get("payment_id"), str):
            return 400, {"error": "invalid_request", "message": "payment_id is required"}
        pid = req["payment_id"]
        return 200, gw.status_answers.get(pid, {"payment_id": pid, "status": "pending"})
    if method == "GET":
        return 200, {}
    return 404, {"error": "not_found", "message": "not found"}
