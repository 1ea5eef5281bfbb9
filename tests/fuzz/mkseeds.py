#!/usr/bin/env python3
"""Writes the seed corpora tests/fuzz/corpus/<target>/ (deterministic; run
from the repository root).  Signatures and tokens use the fixed secrets of
tests/fuzz/fuzz_keys.h."""
import base64, hashlib, hmac, json, os, re

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
keys = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_keys.h")).read()
K = dict(re.findall(r'#define (TZ_FUZZ_\w+) "?([^"\n]*)"?', keys))
SECRET = K["TZ_FUZZ_SECRET"].encode()
NOW = int(K["TZ_FUZZ_NOW"].rstrip("L"))
JWT_KEY = K["TZ_FUZZ_JWT_KEY"].encode()
assert len(JWT_KEY) == 48
PID = "0f8e9a52-3c1d-4b7a-9e21-5d4c3b2a1f00"
CID = "7b1d2c3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"


def write(target, items):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    for i, data in enumerate(items):
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, "seed-%03d" % i), "wb") as fh:
            fh.write(data)


def j(o):
    return json.dumps(o, separators=(",", ":"))


# json: first byte = schema index (tz_schemas order in mod_tipzed/tz_schema.c)
bodies = [
    (0, {"email": "ana@example.com", "password": "correct horse battery", "full_name": "Ana Phiri", "role": "creator"}),
    (0, {"email": "ben@example.com", "password": "short", "full_name": "", "role": "fan", "extra": 1}),
    (0, {"email": "ü@exämple.com", "password": "pässwörd-lång", "full_name": "Zoë 🎵", "role": "fan"}),
    (1, {"email": "ana@example.com", "password": "correct horse battery"}),
    (1, {"email": 5, "password": None}),
    (2, {"refresh_token": "a" * 64}),
    (3, {"bio": "Music from Lusaka", "bank_account": "ZM12 3456 7890", "account_name": "Ana Phiri"}),
    (3, {"full_name": None, "avatar_url": "https://cdn.example.com/a.png"}),
    (4, {"creator_id": CID, "amount": 2500, "currency": "ZMW", "message": "great show", "provider": "sandbox"}),
    (4, {"creator_id": CID, "amount": 10.5, "currency": "ZMW"}),
    (4, {"creator_id": CID, "amount": 9007199254740993, "currency": "ZMW", "phone_number": "+260971234567"}),
    (4, {"creator_id": CID, "amount": -1, "currency": "ZMW"}),
    (5, {"amount": 5000, "currency": "ZMW", "bank_account": "ZM12-3456", "account_name": "Ana"}),
    (5, {"amount": 1e2}),
    (6, {"note": "looks fine"}),
    (6, {}),
    (7, {"reason": "duplicate request"}),
    (7, {"reason": ""}),
    (8, {"provider_reference": "BANK-REF-0001"}),
]
seeds = [bytes([i]) + j(b).encode() for i, b in bodies]
seeds += [b"\x00" + b'{"email":"a","email":"b"}', b"\x04[]", b"\x01{", b"\x02\"str\"",
          b"\x03" + '{"bio":"\\u00e9\\ud83c\\udfb5"}'.encode()]
seeds += [b"\x00" + j({"email": "cleo@example.com", "password": "correct horse battery",
                       "full_name": "Cleo", "role": "fan", "referral_code": "abcd2345"}).encode(),
          b"\x00" + j({"email": "dan@example.com", "password": "correct horse battery",
                       "full_name": "Dan", "role": "fan", "referral_code": None}).encode()]
write("json", seeds)

# sig_tv1: "<header>\n<body>"
def sign(body, t=NOW, secret=SECRET):
    return hmac.new(secret, b"%d." % t + body, hashlib.sha256).hexdigest()

gen_body = j({"payment_id": PID, "status": "success", "timestamp": NOW, "provider_transaction_id": "mm-1", "amount": 2500, "currency": "ZMW"}).encode()
st_body = j({"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {"id": "cs_1"}}}).encode()
tv1 = [
    b"t=%d,v1=%s\n" % (NOW, sign(gen_body).encode()) + gen_body,
    b"t=%d,v1=%s\n" % (NOW, sign(st_body).encode()) + st_body,
    b"t=%d,v0=%s,v1=%s,v1=%s\n" % (NOW, b"00" * 32, b"ab" * 32, sign(st_body).encode()) + st_body,
    b"t=%d, v1=%s\n" % (NOW - 200, sign(gen_body, NOW - 200).encode()) + gen_body,
    b"t=%d,v1=%s\n" % (NOW - 1000, sign(gen_body, NOW - 1000).encode()) + gen_body,
    b"t=%d,v1=%s\n" % (NOW, b"00" * 32) + gen_body,
    b"t=abc,v1=%s\n" % (b"00" * 32) + gen_body,
    b"t=%d,t=%d,v1=%s\n" % (NOW, NOW, sign(b"").encode()),
    b"v1=%s\n{}" % sign(b"{}").encode(),
    b"t=%d\n{}" % NOW,
    b"t=%d,v1=%s\x00" % (NOW, sign(b"").encode()),
    b"t=%d,v1=%s\n" % (NOW, sign(b"a\x00b").encode()) + b"a\x00b",
    b",,,t=%d,,v1=%s,\n{}" % (NOW, sign(b"{}").encode()),
]
write("sig_tv1", tv1)

write("sig_hash", [SECRET, SECRET + b"x", SECRET[:-1], b"", b"hash-123", SECRET.upper(), SECRET + b"\x00tail"])

# webhook_events: first byte 0 generic, 1 flw event, 2 stripe event, 3 flw verify, 4 flw checkout, 5 stripe checkout,
# 6..11 the refund and status answers (see fuzz_webhook_events.c)
flw_data = {"id": 285959875, "tx_ref": PID, "flw_ref": "FLW-MOCK", "amount": 25.5, "currency": "ZMW", "charged_amount": 25.5, "status": "successful", "customer": {"email": "a@b"}}
ev = [
    (0, gen_body.decode()),
    (0, j({"payment_id": PID.upper(), "status": "failed", "timestamp": NOW})),
    (0, j({"payment_id": PID, "status": "success", "timestamp": NOW, "amount": None, "currency": None, "provider_transaction_id": None})),
    (1, j({"event": "charge.completed", "data": flw_data, "event.type": "CARD_TRANSACTION"})),
    (1, j({"event": "charge.completed", "data": dict(flw_data, amount=2500, status="failed")})),
    (1, j({"event": "transfer.completed", "data": {"id": "x"}})),
    (1, j({"event": "charge.completed", "data": dict(flw_data, amount=0.001)})),
    (2, j({"id": "evt_9", "object": "event", "type": "checkout.session.completed", "livemode": False, "data": {"object": {"id": "cs_1", "object": "checkout.session", "client_reference_id": PID, "amount_total": 2500, "currency": "zmw", "payment_status": "paid", "payment_intent": "pi_1", "metadata": {}}}})),
    (2, j({"id": "evt_10", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1", "amount_received": 2500, "currency": "usd", "metadata": {"payment_id": PID}}}})),
    (2, j({"id": "evt_11", "type": "payment_intent.payment_failed", "data": {"object": {"id": "pi_1", "amount": 2500, "currency": "usd", "metadata": {"payment_id": PID}}}})),
    (2, j({"id": "evt_12", "type": "charge.refunded", "data": {"object": {"id": "ch_1", "amount": 2500, "refunded": True, "currency": "usd", "payment_intent": "pi_1", "metadata": {"payment_id": PID}}}})),
    (2, j({"id": "evt_13", "type": "checkout.session.async_payment_failed", "data": {"object": {"client_reference_id": PID}}})),
    (2, j({"id": "evt_14", "type": "customer.created", "data": {"object": {}}})),
    (3, j({"status": "success", "message": "Transaction fetched successfully", "data": flw_data})),
    (3, j({"status": "error", "message": "No transaction was found for this id", "data": None})),
    (4, j({"status": "success", "message": "Hosted Link", "data": {"link": "https://checkout.flutterwave.com/v3/hosted/pay/abc"}})),
    (5, j({"id": "cs_1", "object": "checkout.session", "url": "https://checkout.stripe.com/c/pay/cs_1"})),
    (5, j({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}})),
]
# refunds and disputes: 0..2 the events, then 6 generic refund answer, 7 generic status answer,
# 8 flw refund answer, 9 flw status answer, 10 stripe refund answer, 11 stripe status answer
RID = "9b2f6c1e-5d4a-4e3b-8c2d-1a0f9e8d7c6b"
flw_refund = {"id": 75923, "account_id": 73362, "tx_id": 285959875, "flw_ref": "URF_1", "amount_refunded": 25.5, "status": "completed", "destination": "payment_source"}
flw_chargeback = {"id": 1273, "amount": 25.5, "currency": "NGN", "status": "lost", "stage": "new", "transaction_id": 285959875, "tx_ref": PID, "flw_ref": "FLW-MOCK"}
st_refund = {"id": "re_1", "object": "refund", "amount": 1250, "currency": "usd", "payment_intent": "pi_1", "status": "succeeded", "failure_reason": None, "metadata": {"refund_id": RID, "payment_id": PID}}
st_dispute = {"id": "dp_1", "object": "dispute", "amount": 2500, "currency": "usd", "charge": "ch_1", "payment_intent": "pi_1", "status": "warning_closed", "reason": "fraudulent"}
st_session = {"id": "cs_1", "object": "checkout.session", "status": "complete", "payment_status": "paid", "amount_total": 2500, "currency": "zmw", "payment_intent": "pi_1", "client_reference_id": PID, "metadata": {"payment_id": PID}}
ev += [
    (0, j({"payment_id": PID, "status": "refunded", "timestamp": NOW, "refund_id": RID, "amount": 1250, "currency": "ZMW"})),
    (0, j({"payment_id": PID, "status": "refund_failed", "timestamp": NOW, "refund_id": RID, "amount": 1250, "reason": "wallet closed"})),
    (0, j({"payment_id": PID, "status": "dispute_opened", "timestamp": NOW, "dispute_id": "DSP-1", "amount": 2500})),
    (0, j({"payment_id": PID, "status": "dispute_lost", "timestamp": NOW, "dispute_id": "", "amount": 2500})),
    (1, j({"event": "refund.completed", "data": flw_refund})),
    (1, j({"event": "chargeback.created", "data": dict(flw_chargeback, status="initiated", currency=None)})),
    (1, j({"event": "chargeback.updated", "data": flw_chargeback})),
    (2, j({"id": "evt_20", "type": "charge.refunded", "data": {"object": {"id": "ch_1", "payment_intent": "pi_1", "amount": 2500, "amount_refunded": 700, "refunded": False, "currency": "usd"}}})),
    (2, j({"id": "evt_21", "type": "refund.failed", "data": {"object": dict(st_refund, status="failed", failure_reason="expired_or_canceled_card")}})),
    (2, j({"id": "evt_22", "type": "charge.refund.updated", "data": {"object": dict(st_refund, payment_intent=None)}})),
    (2, j({"id": "evt_23", "type": "charge.dispute.created", "data": {"object": dict(st_dispute, status="needs_response")}})),
    (2, j({"id": "evt_24", "type": "charge.dispute.closed", "data": {"object": st_dispute}})),
    (6, j({"refund_id": RID, "status": "succeeded", "provider_refund_id": "gw-r-1", "amount": 1250})),
    (6, j({"refund_id": RID.upper(), "status": "failed", "reason": "insufficient float"})),
    (7, j({"payment_id": PID, "status": "success", "provider_transaction_id": "mm-1", "amount": 2500, "currency": "ZMW"})),
    (7, j({"payment_id": PID, "status": "pending"})),
    (8, j({"status": "success", "message": "Transaction refund initiated", "data": flw_refund})),
    (8, j({"status": "error", "message": "Insufficient balance", "data": None})),
    (9, j({"status": "success", "message": "Transaction fetched successfully", "data": flw_data})),
    (9, j({"status": "success", "data": dict(flw_data, status="pending")})),
    (10, j(st_refund)),
    (10, j({"error": {"type": "invalid_request_error", "message": "Charge has already been refunded."}})),
    (11, j(st_session)),
    (11, j(dict(st_session, status="expired", payment_status="unpaid", payment_intent=None))),
]
write("webhook_events", [bytes([i]) + s.encode() for i, s in ev] + [b"\x00not json", b"\x02[]", b"\x01{}"])

# jwt: mode 0 raw token, 1 header\npayload signed, 2 sub\nrole issued
def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")

def token(header, payload, key=JWT_KEY):
    si = b64(header.encode()) + b"." + b64(payload.encode())
    return si + b"." + b64(hmac.new(key, si, hashlib.sha256).digest())

H = j({"alg": "HS256", "typ": "JWT"})
good = j({"sub": CID, "role": "fan", "iss": "tipzed", "aud": "tipzed-api", "jti": "j1", "iat": NOW, "exp": NOW + 900})
payloads = [
    good,
    j({"sub": CID, "role": "creator", "iss": "tipzed", "aud": "tipzed-api", "jti": "j2", "iat": NOW - 1000, "exp": NOW - 100}),
    j({"sub": CID, "role": "admin", "iss": "other", "aud": "tipzed-api", "jti": "j3", "iat": NOW, "exp": NOW + 900}),
    j({"sub": CID, "role": "fan", "iss": "tipzed", "aud": "tipzed-api", "jti": "j4", "iat": NOW, "exp": "9999999999"}),
    j({"sub": CID, "role": "fan", "iss": "tipzed", "aud": ["tipzed-api"], "jti": "j5", "iat": NOW, "exp": NOW + 900.5}),
    j({"role": "fan", "iss": "tipzed", "aud": "tipzed-api", "jti": "j6", "iat": NOW, "exp": NOW + 900}),
]
jw = [b"\x00" + token(H, p) for p in payloads]
jw += [
    b"\x00" + token(j({"alg": "none"}), good),
    b"\x00" + token(j({"alg": "hs256", "typ": "JWT"}), good),
    b"\x00" + token(j({"alg": "HS512"}), good),
    b"\x00" + token(H, good, key=b"x" * 48),
    b"\x00" + b64(H.encode()) + b"." + b64(good.encode()) + b".",
    b"\x00a.b.c", b"\x00..", b"\x00" + token(H, "[]"), b"\x00" + token("{", good),
]
jw += [b"\x01" + H.encode() + b"\n" + p.encode() for p in payloads]
jw += [b"\x01" + j({"alg": "HS256", "kid": "k1", "typ": "JWT", "x": [1, {"y": None}]}).encode() + b"\n" + good.encode(),
       b"\x01" + j({"alg": "none"}).encode() + b"\n" + good.encode(),
       b"\x01" + H.encode() + b"\n" + j({"sub": CID, "sub2": "x", "role": "fan", "iss": "tipzed", "aud": "tipzed-api", "jti": "j", "iat": NOW, "exp": 2**63 - 1}).encode()]
jw += [b"\x02" + CID.encode() + b"\nfan", b"\x02\xc3\xa9\ncreator", b"\x02a\"b\\c\nadmin", b"\x02x\n"]
write("jwt", jw)

routes = ["GET /health", "GET /health/detailed", "HEAD /openapi.json", "POST /auth/register",
          "POST /auth/login", "POST /auth/refresh", "POST /auth/logout", "GET /auth/me/",
          "GET /creators/me", "PUT /creators/me", "GET /creators/" + CID, "POST /creators/" + CID.upper() + "/follow",
          "DELETE /creators/" + CID + "/follow", "GET /wallets/me/transactions", "POST /payments/initiate",
          "POST /payments/webhook", "POST /webhooks/flutterwave", "POST /webhooks/stripe", "GET /payments",
          "GET /payments/" + PID, "POST /payments/" + PID + "/refund", "GET /sandbox/checkout/" + PID,
          "POST /payouts/request", "GET /payouts/me", "POST /payouts/" + PID + "/cancel",
          "GET /admin/transactions", "POST /admin/payouts/" + PID + "/approve", "POST /admin/payouts/" + PID + "/fail",
          "GET /admin/audit-log", "DELETE /payments", "GET /creators/not-a-uuid", "GET //health",
          "GET /health//", "OPTIONS /auth/me", "GET /payments/" + PID + "x", "GET "]
write("router", routes)

STRIPE_HEAD = ("id,Type,Source,Amount,Fee,Net,Currency,Created (UTC),Available On (UTC),Description,"
               "payment_id (metadata),refund_id (metadata)\r\n")
GATEWAY_HEAD = "line_id,type,reference,payment_id,refund_id,amount,fee,currency,created_at\n"
write("settle", [
    b"\x00\xef\xbb\xbf" + (STRIPE_HEAD + "txn_1,charge,ch_1,25.00,1.03,23.97,zmw,2026-12-01 10:00,,\"Tip, Ana\","
                             + PID + ",\r\ntxn_2,refund,re_1,\"-1,000.00\",0,-1000.00,zmw,,,,,\r\n"
                             "txn_3,adjustment,dp_1,-5.00,15.00,-20.00,zmw,2026-12-02,,,,\r\n").encode(),
    b"\x01customer_email,flw_ref,tx_ref,id,charged_amount,app_fee,currency,transaction_date\n"
    b"a@b.c,FLW-1," + PID.encode() + b",984411,101.40,1.90,NGN,2019-12-30\n",
    b"\x02" + (GATEWAY_HEAD + "L1,payment,mm-1," + PID + ",,2500,50,ZMW,2026-12-01T10:00:00Z\n"
                "L2,\"refund\",gw-r-1,," + CID + ",-1000,,zmw,2026-12-01\n").encode(),
    b"\x02" + GATEWAY_HEAD.encode() + b"L1,\"pay\nment\",,,,1,0,ZMW,\n",
    b"\x02" + GATEWAY_HEAD.encode() + b"L1,payment,\"open,1,0,ZMW,\n",
    b"\x03-1,234.50", b"\x0312.34", b"\x030.5", b"\x0390071992547409.92", b"\x031,2345", b"\x031e3",
])

write("query", ["limit=20&offset=0", "limit=100&offset=999999", "limit=0", "limit=101", "offset=-1",
                "limit=01", "limit=20&limit=5", "status=pending&limit=5", "currency=ZMW",
                "creator_id=" + CID + "&from=2024-01-01T00:00:00Z&to=2024-12-31",
                "q=a+b%20c%2B", "q=%c3%a9", "q=%00", "q=%zz", "q=%", "q=%ff", "limit&offset",
                "&&limit=3&&", "limit=%32%30", "offset=9223372036854775808", "q=%f0%9f%8e%b5",
                "limit=5&starting_after=" + CID + "&format=csv", "offset=1&starting_after=12&format=xml",
                "starting_after=&format=json"])

# momo: first byte 0 callback, 1 status answer, 2 token answer, 3 "<phone>\n<description>"
rtp = {"amount": "25", "currency": "ZMW", "financialTransactionId": "363440463", "externalId": PID,
       "payer": {"partyIdType": "MSISDN", "partyId": "260971234567"}, "payerMessage": "Tip for Ana",
       "payeeNote": "Tipzed", "status": "SUCCESSFUL"}
mm = [
    (0, j(dict(rtp, referenceId=PID))),
    (0, j({"referenceId": PID.upper(), "status": "FAILED", "reason": "APPROVAL_REJECTED", "amount": "25.50", "currency": "ZMW"})),
    (0, j({"externalId": "order-1", "status": "PENDING"})),
    (1, j(rtp)),
    (1, j(dict(rtp, status="FAILED", reason={"code": "PAYER_NOT_FOUND", "message": "Payer not found"}))),
    (1, j(dict(rtp, status="PENDING", amount=25, financialTransactionId=""))),
    (1, j(dict(rtp, status="EXPIRED", amount="25.505"))),
    (1, j({"code": "RESOURCE_NOT_FOUND", "message": "Requested resource was not found."})),
    (2, j({"access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSMjU2In0.e30.sig", "token_type": "access_token", "expires_in": 3600})),
    (2, j({"access_token": "", "expires_in": 3600})),
    (2, j({"access_token": "t", "expires_in": -1})),
    (3, "+260971234567\nTip for Ana"),
    (3, "0971234567\nTip"),
    (3, "260971234567\n" + "a" * 159 + "\u00e9 and more"),
]
write("momo", [bytes([i]) + s.encode() for i, s in mm] + [b"\x00not json", b"\x01[]", b"\x03+\n\xff"])
write("metrics", [b"\x00127.0.0.0/8 ::1", b"\x00all", b"\x0010.0.0.0/8 2001:db8::/32 192.168.5.5",
                  b"\x00::ffff:10.0.0.0/104", b"\x0010.0.0.1/8", b"\x000.0.0.0/0", b"\x01plain",
                  b'\x01a"b\\c\nd', b"\x01/payments/{id}"])
print("seeds written under", ROOT)
