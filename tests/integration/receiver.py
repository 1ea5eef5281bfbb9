"""A webhook receiver for the tests: an HTTP server on 127.0.0.1 that keeps
every request it gets (in arrival order) and answers as told: `fail_first`
answers 500 to that many requests before answering 200, `answer` fixes
the status (and `location` a redirect's target), `delay` makes each answer
take that many seconds."""
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    # each dispatcher round opens its connections anew: with socketserver's
    # backlog of 5, a burst of them loses SYNs and waits a second to retry
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # a sender that closes its kept-alive connection (a child stopping,
        # a timeout) is no error of the receiver's
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class Receiver:
    def __init__(self, fail_first=0, answer=200, location=None, delay=0.0):
        self.requests, self.lock = [], threading.Lock()
        self.fail_first, self.answer, self.location = fail_first, answer, location
        self.delay = delay
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # kept alive, as a real receiver would
            # the headers and the body are written apart: without this, each
            # answer waits ~40 ms for the client's delayed ACK (Nagle)
            disable_nagle_algorithm = True

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                                           "body": body, "at": time.time(), "path": self.path})
                    n = len(outer.requests)
                time.sleep(outer.delay)
                status = 500 if n <= outer.fail_first else outer.answer
                try:
                    self.send_response(status)
                    if outer.location:
                        self.send_header("Location", outer.location)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up (a timeout, a killed child): it will try again

            def log_message(self, *a):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def events(self):
        """The bodies received, parsed, in arrival order."""
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests]

    def wait(self, predicate, seconds=30):
        """Waits until predicate(list of parsed bodies) is true; returns the list."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            got = self.events()
            if predicate(got):
                return got
            time.sleep(0.2)
        return self.events()


def signature_ok(secret, request, tolerance=300):
    """Checks X-Tipzed-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>."""
    parts = dict(p.split("=", 1) for p in request["headers"]["x-tipzed-signature"].split(","))
    t = int(parts["t"])
    want = hmac.new(secret.encode(), f"{t}.".encode() + request["body"], hashlib.sha256).hexdigest()
    return abs(time.time() - t) <= tolerance and hmac.compare_digest(want, parts["v1"])
