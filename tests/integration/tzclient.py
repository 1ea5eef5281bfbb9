"""A small HTTP client and helpers for the integration tests (Python
standard library only)."""
import http.client
import itertools
import json as jsonlib
import random
import re
import threading
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


# --- two-factor (TOTP, RFC 6238) -------------------------------------------

_totp_used = {}  # secret -> the last step this process sent for it


def totp_code(secret, step):
    """The 6-digit TOTP code of a base32 secret at a 30-second step."""
    import base64
    import hashlib
    import hmac
    import struct
    s = secret.upper().replace(" ", "")
    key = base64.b32decode(s + "=" * (-len(s) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


# Seconds a code may take from here to the server's check (a browser's
# log-in on a busy machine): a step is only chosen while it stays inside the
# server's window of one step either side for that long.
TOTP_MARGIN = 8


def _totp_steps(secret):
    """The first unused step still good for TOTP_MARGIN seconds, and the
    last step good from now on."""
    import time
    t = time.time()
    low = int(t + TOTP_MARGIN) // 30 - 1
    high = int(t) // 30 + 1
    return max(low, _totp_used.get(secret, -1) + 1), high


def fresh_totp(secret):
    """A code of secret the server has not seen from this process: the
    server accepts one step either side of now and refuses a step used
    before, so each call takes the next unused step that stays in the
    server's window for TOTP_MARGIN seconds, waiting for the clock when
    none is left."""
    import time
    while True:
        step, high = _totp_steps(secret)
        if step <= high:
            _totp_used[secret] = step
            return totp_code(secret, step)
        time.sleep(1)


def totp_ready(secret):
    """Whether fresh_totp(secret) would answer without waiting."""
    step, high = _totp_steps(secret)
    return step <= high


def parse_enrolment(text):
    """The secret, otpauth URI and recovery codes tipzedctl printed."""
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(": ")
        if k in ("totp_secret", "otpauth_uri"):
            out[k] = v
        elif k == "recovery_codes":
            out[k] = v.split()
    return out


def create_admin(stack, email, password, name="Admin"):
    """tipzedctl create-admin with two-factor enrolled: {email, password,
    totp_secret, otpauth_uri, recovery_codes}."""
    import os
    r = stack.tipzedctl("create-admin", "--email", email, "--name", name, "--key-file",
                        os.path.join(stack.secrets, "enc.key"), input=password + "\n")
    assert r.returncode == 0, f"create-admin failed: {r.stdout}{r.stderr}"
    a = parse_enrolment(r.stdout)
    assert a.get("totp_secret"), r.stdout
    a.update(email=email, password=password)
    return a


def login_totp(api, email, password, secret, headers=None):
    """A login through both steps (password, then a fresh TOTP code): the
    second step's response (200 with the usual tokens when all went well),
    or the first step's when it asked for no second step."""
    r = login(api, email, password, headers=headers)
    if r.status != 200 or not (r.json or {}).get("mfa_required"):
        return r
    return api.post("/auth/login/totp", json={"mfa_token": r.json["mfa_token"],
                                              "code": fresh_totp(secret)}, headers=headers)


TOKEN_LINE = re.compile(r"^([A-Za-z0-9_-]{43})\s*$", re.M)


def mail_token(smtp, email, subject, skip=(), timeout=30):
    """The token of the first mail to email whose Subject holds subject
    and whose token is not in skip (a verification or reset mail)."""
    def token(m):
        found = TOKEN_LINE.search(m.text())
        return found.group(1) if found else None
    m = smtp.wait_for(lambda m: m.to == [email] and subject in m.message["Subject"]
                      and token(m) not in skip, timeout)
    return token(m)


# The SMTP sink of the run (conftest's smtp fixture sets it), and a way to
# mark an address verified in the database when no sink runs (no TipzedSMTP).
SMTP = None
VERIFY_BY_SQL = None
_verified = set()
_verifying = threading.Lock()


def ensure_verified(api, session):
    """Payouts and webhook endpoints need a verified address: verifies
    session's once, through the mail when the sink runs."""
    with _verifying:  # tests request payouts from several threads at once
        if session["user"]["role"] == "admin" or session["email"] in _verified:
            return
        if SMTP is not None:
            verify_email(api, session, SMTP)
        else:
            VERIFY_BY_SQL(session["user"]["id"])
        _verified.add(session["email"])


def verify_email(api, session, smtp):
    """Verifies session's address through the real flow: the mail of
    registration read from the SMTP sink, its token posted.  The user."""
    t = mail_token(smtp, session["email"], "Confirm your email")
    r = api.post("/auth/email/verify", json={"token": t})
    assert r.status == 200 and r.json["email_verified"] is True, r
    return r.json
