"""A local stand-in of the MTN MoMo Collections sandbox API (real HTTP on
127.0.0.1, the payload shapes of MTN's public docs): OAuth tokens, request
to pay, its status, and the callback MTN sends to X-Callback-Url.

    momo = MoMoStandIn(port, api_user, api_key, subscription_key)
    ... the module asks for a token and POSTs a requesttopay ...
    momo.approve(payment_id)            # the payer confirmed on the phone
    status, body = momo.callback(payment_id)
"""
import base64
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
RTP = "/collection/v1_0/requesttopay"


class MoMoStandIn:
    def __init__(self, port, api_user, api_key, subscription_key, environment="sandbox",
                 token_ttl=3600):
        self.base_url = f"http://127.0.0.1:{port}"
        self.api_user = api_user
        self.api_key = api_key
        self.subscription_key = subscription_key
        self.environment = environment
        self.token_ttl = token_ttl
        self.requests = []        # every request: method, path, headers, body
        self.token_requests = 0   # POST /collection/token/ calls, good or bad
        self._tokens = {}         # access token -> expiry (monotonic seconds)
        self._payments = {}       # X-Reference-Id -> stored object
        self._callbacks = {}      # X-Reference-Id -> X-Callback-Url
        self._fail = []           # HTTP statuses for the next requesttopay calls
        self._status_fail = []    # HTTP statuses for the next status GETs
        self._lock = threading.Lock()
        self._tx = 363440462
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # ---------------------------------------------------------- HTTP

    def _handler(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                with owner._lock:
                    owner.requests.append({"method": self.command, "path": self.path,
                                           "headers": dict(self.headers), "body": body})
                    status, payload = owner._route(self.command, self.path, self.headers, body)
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                if payload is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _handle

        return Handler

    def _route(self, method, path, headers, body):
        if method == "POST" and path == "/collection/token/":
            return self._token(headers)
        if method == "POST" and path == RTP:
            return self._request_to_pay(headers, body)
        if method == "GET" and path.startswith(RTP + "/"):
            return self._status(headers, path[len(RTP) + 1:])
        return 404, {"code": "RESOURCE_NOT_FOUND", "message": "Requested resource was not found."}

    def _token(self, headers):
        self.token_requests += 1
        basic = base64.b64encode(f"{self.api_user}:{self.api_key}".encode()).decode()
        if (headers.get("Authorization") != f"Basic {basic}"
                or headers.get("Ocp-Apim-Subscription-Key") != self.subscription_key):
            return 401, {"error": "login_failed"}
        token = secrets.token_urlsafe(32)
        self._tokens[token] = time.monotonic() + self.token_ttl
        return 200, {"access_token": token, "token_type": "access_token",
                     "expires_in": self.token_ttl}

    def _denied(self, headers):
        """The answer for a call without a valid token, key and environment, or None."""
        if headers.get("Ocp-Apim-Subscription-Key") != self.subscription_key:
            return 401, {"statusCode": 401, "message": "Access denied due to invalid "
                         "subscription key. Make sure to provide a valid key for an active subscription."}
        auth = headers.get("Authorization") or ""
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        expiry = self._tokens.get(token)
        if expiry is None or expiry <= time.monotonic():
            return 401, {"code": "INVALID_CREDENTIALS", "message": "Access token is missing or invalid"}
        if headers.get("X-Target-Environment") != self.environment:
            return 400, {"code": "RESOURCE_NOT_FOUND", "message": "Target environment not found"}
        return None

    def _request_to_pay(self, headers, body):
        denied = self._denied(headers)
        if denied:
            return denied
        ref = headers.get("X-Reference-Id") or ""
        if not UUID_RE.match(ref):
            return 400, {"code": "INVALID_REFERENCE_ID", "message": "Reference id is not a valid UUID"}
        if not headers.get("X-Callback-Url"):
            return 400, {"code": "INVALID_CALLBACK_URL_HOST", "message": "Callback URL is missing"}
        req, problem = self._read_body(body)
        if problem:
            return 400, {"code": "INVALID_INPUT", "message": problem}
        if self._fail:
            return self._fail.pop(0), {"code": "INTERNAL_PROCESSING_ERROR", "message": "Try again"}
        if ref in self._payments:
            return 409, {"code": "RESOURCE_ALREADY_EXIST",
                         "message": "Duplicated reference id. Creation of resource failed."}
        self._payments[ref] = {
            "amount": req["amount"], "currency": req["currency"], "externalId": req["externalId"],
            "payer": {"partyIdType": "MSISDN", "partyId": req["payer"]["partyId"]},
            "payerMessage": req.get("payerMessage", ""), "payeeNote": req.get("payeeNote", ""),
            "status": "PENDING"}
        self._callbacks[ref] = headers["X-Callback-Url"]
        return 202, None

    @staticmethod
    def _read_body(body):
        """(the request object, None) or (None, what is wrong)."""
        try:
            req = json.loads(body)
        except ValueError:
            return None, "body is not JSON"
        if not isinstance(req, dict):
            return None, "body is not an object"
        if not isinstance(req.get("amount"), str) or not re.fullmatch(r"\d+(\.\d{1,2})?", req["amount"]):
            return None, "amount must be a decimal string"
        if not isinstance(req.get("currency"), str) or not re.fullmatch(r"[A-Z]{3}", req["currency"]):
            return None, "currency is invalid"
        if not isinstance(req.get("externalId"), str) or not req["externalId"]:
            return None, "externalId is missing"
        payer = req.get("payer")
        if (not isinstance(payer, dict) or payer.get("partyIdType") != "MSISDN"
                or not isinstance(payer.get("partyId"), str)
                or not re.fullmatch(r"\d+", payer["partyId"])):
            return None, "payer must be an MSISDN"
        return req, None

    def _status(self, headers, ref):
        denied = self._denied(headers)
        if denied:
            return denied
        if self._status_fail:
            return self._status_fail.pop(0), {"code": "INTERNAL_PROCESSING_ERROR",
                                              "message": "An internal error occurred while processing."}
        if ref not in self._payments:
            return 404, {"code": "RESOURCE_NOT_FOUND", "message": "Requested resource was not found."}
        return 200, dict(self._payments[ref])

    # ---------------------------------------------------------- test helpers

    def revoke_tokens(self):
        """Every token issued so far is refused from now on (MTN rotated them)."""
        with self._lock:
            self._tokens.clear()

    def fail_next(self, status):
        """The next requesttopay answers this HTTP status."""
        with self._lock:
            self._fail.append(status)

    def status_fail_next(self, status):
        """The next status GET answers this HTTP status (e.g. 500)."""
        with self._lock:
            self._status_fail.append(status)

    def payment(self, ref):
        """The stored requesttopay object (a copy), or None."""
        with self._lock:
            p = self._payments.get(ref)
            return json.loads(json.dumps(p)) if p else None

    def approve(self, ref):
        """The payer confirmed: SUCCESSFUL, with a financialTransactionId."""
        with self._lock:
            p = self._payments[ref]
            self._tx += 1
            p["status"] = "SUCCESSFUL"
            p["financialTransactionId"] = str(self._tx)
            p.pop("reason", None)

    def decline(self, ref, reason="APPROVAL_REJECTED"):
        with self._lock:
            p = self._payments[ref]
            p["status"] = "FAILED"
            p["reason"] = reason
            p.pop("financialTransactionId", None)

    def set_amount(self, ref, amount_str):
        """The provider reports another amount for this request."""
        with self._lock:
            self._payments[ref]["amount"] = amount_str

    def callback(self, ref, timeout=10):
        """Sends the stored object to the request's X-Callback-Url as MTN does
        (PUT, application/json); returns (HTTP status, body) of the answer."""
        with self._lock:
            url = self._callbacks[ref]
            data = json.dumps(dict(self._payments[ref], referenceId=ref)).encode()
        req = urllib.request.Request(url, data=data, method="PUT",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
