"""Local stand-ins of the Flutterwave v3 and Stripe APIs (real HTTP, the
payload shapes of the providers' public docs), on the ports the stack's
httpd.conf points TipzedProvider at ($TZ_FLW_PORT, $TZ_STRIPE_PORT)."""
import json
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StandIn:
    def __init__(self, port, secret, routes):
        self.base_url = f"http://127.0.0.1:{port}"
        self.secret = secret
        self.requests = []
        self.verify = {}          # Flutterwave transaction id -> verify answer
        self._fail = []           # statuses for the next create calls
        self.verify_fail = []     # statuses for the next verify calls
        self._hang = 0
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
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
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

    def authorized(self, headers):
        return headers.get("Authorization") == f"Bearer {self.secret}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def flutterwave_routes(fw, method, path, headers, body):
    if not fw.authorized(headers):
        return 401, {"status": "error", "message": "Invalid authorization key", "data": None}
    if method == "POST" and path == "/v3/payments":
        failure = fw.take_failure()
        if failure:
            return failure, {"status": "error", "message": "Service unavailable", "data": None}
        req = json.loads(body)
        return 200, {"status": "success", "message": "Hosted Link",
                     "data": {"link": f"{fw.base_url}/pay/{req['tx_ref']}"}}
    if method == "GET" and path.startswith("/v3/transactions/") and path.endswith("/verify"):
        tx = path.split("/")[3]
        if fw.verify_fail:
            return fw.verify_fail.pop(0), {"status": "error", "message": "Try again", "data": None}
        if tx in fw.verify:
            return 200, fw.verify[tx]
        return 404, {"status": "error", "message": "No transaction was found for this id", "data": None}
    return 404, {"status": "error", "message": "not found"}


def stripe_routes(st, method, path, headers, body):
    if not st.authorized(headers):
        return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}
    if method == "POST" and path == "/v1/checkout/sessions":
        failure = st.take_failure()
        if failure:
            return failure, {"error": {"type": "api_error", "message": "Something went wrong"}}
        form = dict(urllib.parse.parse_qsl(body.decode()))
        sid = "cs_test_" + uuid.uuid4().hex
        return 200, {"id": sid, "object": "checkout.session", "url": f"{st.base_url}/c/pay/{sid}",
                     "client_reference_id": form.get("client_reference_id"),
                     "amount_total": int(form.get("line_items[0][price_data][unit_amount]", "0")),
                     "currency": form.get("line_items[0][price_data][currency]"),
                     "payment_status": "unpaid", "status": "open",
                     "metadata": {"payment_id": form.get("metadata[payment_id]")}, "form": form}
    return 404, {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}}
