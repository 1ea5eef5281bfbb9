"""A small HTTP client and helpers for the integration tests (Python
standard library only)."""
import http.client
import itertools
import json as jsonlib
import random
import urllib.parse
import uuid

_ips = itertools.count(2)
_net = random.randint(1, 250)  # differs per run, so reruns start with clean counters


def next_source_ip():
    """A fresh loopback source address (all of 127.0.0.0/8 is local), so
    per-IP rate limits of one test do not leak into another."""
    n = next(_ips)
    return f"127.{_net}.{(n // 250) % 250 + 1}.{n % 250 + 2}"


class Headers(dict):
    """Response headers with case-insensitive lookup; repeated headers are
    joined with ", "."""

    def __init__(self, pairs=()):
        super().__init__()
        for k, v in pairs:
            k = k.lower()
            dict.__setitem__(self, k, f"{dict.__getitem__(self, k)}, {v}" if k in self else v)

    def __getitem__(self, k):
        return dict.__getitem__(self, k.lower())

    def get(self, k, d=None):
        return dict.get(self, k.lower(), d)

    def __contains__(self, k):
        return dict.__contains__(self, k.lower())


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = jsonlib.loads(body) if body else None
        except ValueError:
            self.json = None

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


class Client:
    """One fresh connection per request, no redirects followed.  Paths are
    relative to the API base (/api/v1) unless they are absolute URLs."""

    def __init__(self, api_url, source_ip="127.0.0.1", timeout=30):
        u = urllib.parse.urlsplit(api_url)
        self.host, self.port, self.prefix = u.hostname, u.port, u.path.rstrip("/")
        self.source_ip = source_ip
        self.timeout = timeout

    def request(self, method, path, json=None, body=None, token=None, headers=None):
        h = {}
        if json is not None:
            body = jsonlib.dumps(json).encode()
            h["Content-Type"] = "application/json"
        if token:
            h["Authorization"] = f"Bearer {token}"
        h.update(headers or {})
        if path.startswith("http"):
            u = urllib.parse.urlsplit(path)
            host, port = u.hostname, u.port or 80
            target = (u.path or "/") + (f"?{u.query}" if u.query else "")
        else:
            host, port = self.host, self.port
            target = self.prefix + path
        conn = http.client.HTTPConnection(host, port, timeout=self.timeout,
                                          source_address=(self.source_ip, 0))
        try:
            conn.request(method, target, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, Headers(r.getheaders()), data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def unique_email(prefix="user"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


PASSWORD = "correct horse battery"


def register(api, role="fan", email=None, password=PASSWORD, full_name="Test User"):
    """POST /auth/register (asserting 201): the answer plus email and password."""
    email = email or unique_email(role)
    r = api.post("/auth/register", json={"email": email, "password": password,
                                         "full_name": full_name, "role": role})
    assert r.status == 201, r
    s = dict(r.json)
    s.update(email=email, password=password)
    return s


def login(api, email, password, headers=None):
    return api.post("/auth/login", json={"email": email, "password": password}, headers=headers)


def assert_problem(resp, status, code=None, field=None):
    """An RFC 9457 problem response with this status (and code, and an
    errors[] entry naming field); returns the parsed problem."""
    assert resp.status == status, resp
    assert resp.headers.get("content-type", "").startswith("application/problem+json"), resp.headers
    p = resp.json
    assert isinstance(p, dict), resp
    assert p.get("status") == status and p.get("title") and p.get("code"), p
    assert p.get("type") == "https://tipzed.dev/problems/" + p["code"], p
    if code:
        assert p["code"] == code, p
    if field:
        assert field in [e.get("field") for e in p.get("errors", [])], p
    return p
