"""One tip end to end against a running mod_tipzed (make package-test):
a creator and a fan register, the fan logs in and tips K25.00 through the
sandbox provider, the sandbox checkout's Approve is posted as the page
would, and the creator's wallet must hold 2125 (less the 15% fee).
Usage: tip.py BASE_URL (e.g. http://127.0.0.1:PORT/api/v1)."""
import json
import re
import sys
import urllib.request
import uuid


def call(method, url, body=None, token=None, headers=None):
    h = {"Content-Type": "application/json", **(headers or {})}
    if token:
        h["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, bytes) else json.dumps(body).encode() if body else None
    with urllib.request.urlopen(urllib.request.Request(url, data, h, method=method), timeout=30) as r:
        return r.status, r.read().decode()


def main(base):
    n = uuid.uuid4().hex[:12]
    password = "correct horse battery"
    users = {}
    for role in ("creator", "fan"):
        st, out = call("POST", f"{base}/auth/register", {
            "email": f"{role}-{n}@example.com", "password": password,
            "full_name": f"Package {role}", "role": role})
        assert st == 201, (st, out)
        _, out = call("POST", f"{base}/auth/login",
                      {"email": f"{role}-{n}@example.com", "password": password})
        users[role] = {"id": json.loads(out)["user"]["id"],
                       "token": json.loads(out)["access_token"]}
    st, out = call("POST", f"{base}/payments/initiate", {
        "creator_id": users["creator"]["id"], "amount": 2500, "currency": "ZMW",
        "message": "from the package test", "provider": "sandbox"},
        token=users["fan"]["token"], headers={"X-Idempotency-Key": f"pkg-{n}"})
    assert st == 201, (st, out)
    payment = json.loads(out)
    pid = payment.get("payment_id") or payment["id"]
    _, page = call("GET", payment.get("payment_url") or payment["mobile_money_url"])
    d = json.loads(re.search(r'id="tipzed-sandbox">(.*?)</script>', page, re.S).group(1))
    st, out = call("POST", d["webhook"], d["approve"]["body"].encode(),
                   headers={"X-Tipzed-Signature": d["approve"]["signature"]})
    assert st == 200, (st, out)
    _, out = call("GET", f"{base}/payments/{pid}", token=users["fan"]["token"])
    assert json.loads(out)["status"] == "succeeded", out
    _, out = call("GET", f"{base}/wallets/me", token=users["creator"]["token"])
    wallet = json.loads(out)
    assert wallet["balance"] == 2125, out
    print(f"tip: payment {pid} succeeded, creator's wallet {wallet['balance']}")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
