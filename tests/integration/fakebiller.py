"""A local stand-in of a biller speaking the generic biller protocol
(docs/bills.md): real HTTP on 127.0.0.1 in a thread.

Every request must carry a valid X-Tipzed-Signature (HMAC-SHA256 of
"<t>.<body>" with the biller secret); an unsigned or badly signed one gets
401 and is counted in `bad_signatures`.  `customers` maps the references the
biller knows to account names.  `plan(customer, outcome)` decides what /pay
answers for that customer: "succeeded", "failed", "pending", an int (that
HTTP status with an empty JSON body) or "hang" (answers nothing for longer
than the module waits).  `status` maps a customer to what /status answers
about that customer's payments (default: the pay outcome when it was
definite, else "pending").  /pay is idempotent by payment_id: a repeated
payment_id gets the first answer back and is paid once."""
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeBiller:
    def __init__(self, secret, hang_seconds=4, port=0):
        self.secret = secret
        self.hang_seconds = hang_seconds
        self.customers = {}
        self.plans = {}
        self.status = {}
        self.payments = {}      # payment_id -> {"customer", "amount", "currency", "answer"}
        self.calls = []         # (path, body)
        self.bad_signatures = 0
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                if not fake.verify(self.headers.get("X-Tipzed-Signature"), raw):
                    with fake.lock:
                        fake.bad_signatures += 1
                    return self.send(401, {"error": "bad signature"})
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self.send(400, {"error": "bad json"})
                with fake.lock:
                    fake.calls.append((self.path, body))
                code, answer = fake.handle(self.path, body)
                if code is None:
                    time.sleep(fake.hang_seconds)
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

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/biller"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def verify(self, header, raw):
        if not header:
            return False
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        if "t" not in parts or "v1" not in parts:
            return False
        if abs(int(time.time()) - int(parts["t"])) > 300:
            return False
        mac = hmac.new(self.secret, parts["t"].encode() + b"." + raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest(mac, parts["v1"])

    def plan(self, customer, outcome):
        self.plans[customer] = outcome

    def paid(self, payment_id):
        return [b for p, b in self.calls if p.endswith("/pay") and b.get("payment_id") == payment_id]

    def handle(self, path, body):
        if path.endswith("/validate"):
            name = self.customers.get(body.get("customer"))
            if name is None:
                return 404, {"error": "unknown customer"}
            return 200, {"customer": body["customer"], "name": name}
        if path.endswith("/pay"):
            pid = body.get("payment_id")
            with self.lock:
                if pid in self.payments:
                    return 200, self.payments[pid]["answer"]
                customer = body.get("customer")
                outcome = self.plans.get(customer, "succeeded")
                answer = self.answer(outcome, pid)
                self.payments[pid] = {"customer": customer, "amount": body.get("amount"),
                                      "currency": body.get("currency"), "outcome": outcome,
                                      "answer": answer or {"status": "pending"}}
            if outcome == "hang":
                return None, None
            if isinstance(outcome, int):
                return outcome, {"error": "planned"}
            return 200, answer
        if path.endswith("/status"):
            pid = body.get("payment_id")
            p = self.payments.get(pid)
            if p is None:
                return 404, {"error": "unknown payment"}
            outcome = self.status.get(p["customer"])
            if outcome is None:
                return 200, p["answer"]
            if isinstance(outcome, int):
                return outcome, {"error": "planned"}
            return 200, self.answer(outcome, pid)
        return 404, {"error": "no such operation"}

    @staticmethod
    def answer(outcome, pid):
        if outcome == "succeeded":
            return {"status": "succeeded", "reference": f"REF-{pid[:8]}"}
        if outcome == "failed":
            return {"status": "failed", "reason": "account closed"}
        if outcome == "pending":
            return {"status": "pending"}
        return None


def main():
    """The stand-in as a process (make run's demo biller): python3
    fakebiller.py PORT SECRET_FILE.  It knows two customers, pays every
    bill of 04123456 and refuses those of 04999999 (account closed)."""
    import sys
    port, secret_file = int(sys.argv[1]), sys.argv[2]
    with open(secret_file, "rb") as f:
        secret = f.read()
    if secret.endswith(b"\n"):
        secret = secret[:-1]
    b = FakeBiller(secret, port=port)
    b.customers.update({"04123456": "Mwila Banda", "04999999": "Chipo Phiri"})
    b.plan("04999999", "failed")
    print(f"biller stand-in at {b.url}", flush=True)
    b.thread.join()


if __name__ == "__main__":
    main()
