"""A small HTTP client for the integration tests (Python stdlib only)."""
import http.client
import itertools
import json as jsonlib
import random
import urllib.parse
import uuid

_ips = itertools.count(2)
_net = random.randint(1, 250)  # differs per run, so reruns start with clean counters


def next_source_ip():
    """A fresh loopback source address, so per-IP rate limits of one test
    do not leak into another (all of 127.0.0.0/8 is local)."""
    n = next(_ips)
    return f"127.{_net}.{(n // 250) % 250 + 1}.{n % 250 + 2}"


class Headers(dict):
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

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


class Client:
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
            target = u.path + (f"?{u.query}" if u.query else "")
        else:
            target = self.prefix + path
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout,
                                          source_address=(self.source_ip, 0))
        try:
            conn.request(method, target, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, Headers((k.lower(), v) for k, v in r.getheaders()), data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def unique_email(prefix="user"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


PASSWORD = "correct horse battery"


def register(api, role="fan", email=None, password=PASSWORD, full_name="Test User"):
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
    assert resp.status == status, resp
    assert resp.headers.get("content-type", "").startswith("application/problem+json"), resp.headers
    p = resp.json
    assert p is not None, resp
    assert p["status"] == status and p["title"] and p["code"], p
    assert p["type"] == "https://tipzed.dev/problems/" + p["code"], p
    if code:
        assert p["code"] == code, p
    if field:
        assert field in [e["field"] for e in p.get("errors", [])], p
    return p
