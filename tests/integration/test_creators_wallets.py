"""Creators, follows and wallets: shapes, validation, roles, and
isolation between users."""
import threading
import time
import uuid

from tzclient import assert_problem, ensure_verified, register


def credit(stack, creator_id, amount, currency="ZMW", ref=None):
    """Posts a balanced entry crediting a creator's wallet from the
    provider clearing account, through the one posting path."""
    ref = ref or f"test:{uuid.uuid4()}"
    rows = stack.psql(
        "SELECT entry_id, duplicate FROM tz_post_entry("
        f"'{ref}', 'adjustment', NULL, NULL, '{currency}', "
        f"ARRAY[tz_account('provider_clearing', NULL, 'sandbox', '{currency}'),"
        f" tz_account('wallet', '{creator_id}', NULL, '{currency}')], "
        f"ARRAY[-{amount}, {amount}]::bigint[])")
    return rows[0]


def test_public_profile_shape(api, creator):
    r = api.get(f"/creators/{creator['user']['id']}")
    assert r.status == 200, r
    assert set(r.json) == {"id", "name", "bio", "avatar", "earnings", "followers"}
    assert r.json["name"] == "Chanda Mulenga" and r.json["earnings"] == 0
    # the compact form of every other answer, from the database and from the cache
    again = api.get(f"/creators/{creator['user']['id']}")
    for body in (r.body, again.body):
        assert b'" :' not in body and b", " not in body, body
    # upper-case UUIDs name the same creator
    assert api.get(f"/creators/{creator['user']['id'].upper()}").status == 200


def test_unknown_creator_and_fan_are_404(api, fan):
    assert_problem(api.get(f"/creators/{uuid.uuid4()}"), 404)
    assert_problem(api.get(f"/creators/{fan['user']['id']}"), 404)


def test_me_and_update_with_encrypted_bank_account(api, stack, creator):
    tok = creator["access_token"]
    r = api.put("/creators/me", token=tok, json={
        "full_name": "Chanda M.", "bio": "Music from Lusaka", "avatar_url": "https://cdn.example/a.png",
        "bank_account": "ZM12 3456 7890", "account_name": "Chanda Mulenga"})
    assert r.status == 200, r
    assert r.json["name"] == "Chanda M." and r.json["bank_account"] == "ZM12 3456 7890"
    # partial update keeps the other fields
    r = api.put("/creators/me", token=tok, json={"bio": "New bio"})
    assert r.json["bio"] == "New bio" and r.json["avatar"] == "https://cdn.example/a.png"
    assert r.json["bank_account"] == "ZM12 3456 7890"
    assert api.get("/creators/me", token=tok).json == r.json
    # never in the public profile, never plaintext in the database
    pub = api.get(f"/creators/{creator['user']['id']}").json
    assert "bank_account" not in pub and "account_name" not in pub
    stored = stack.psql(f"SELECT bank_account_enc FROM creator_profiles WHERE user_id = '{creator['user']['id']}'")[0][0]
    assert "3456" not in stored and stored.startswith("v2.")
    # each write uses a fresh nonce
    api.put("/creators/me", token=tok, json={"bank_account": "ZM12 3456 7890"})
    again = stack.psql(f"SELECT bank_account_enc FROM creator_profiles WHERE user_id = '{creator['user']['id']}'")[0][0]
    assert again != stored


def test_sealed_bank_accounts_are_bound_to_their_owner(api, stack, new_client):
    """Someone who can write the database swaps two creators' sealed bank
    accounts: neither value opens for the other owner (the owner's id is
    authenticated data), so no payout can be sent to the other account."""
    a = register(new_client(), role="creator")
    b = register(new_client(), role="creator")
    for who, acct in ((a, "ZM11 1111 1111"), (b, "ZM22 2222 2222")):
        assert api.put("/creators/me", token=who["access_token"],
                       json={"bank_account": acct}).status == 200
    ida, idb = a["user"]["id"], b["user"]["id"]
    swap = (f"UPDATE creator_profiles SET bank_account_enc = CASE user_id"
            f" WHEN '{ida}' THEN (SELECT bank_account_enc FROM creator_profiles WHERE user_id = '{idb}')"
            f" ELSE (SELECT bank_account_enc FROM creator_profiles WHERE user_id = '{ida}') END"
            f" WHERE user_id IN ('{ida}', '{idb}')")
    stack.psql(swap)
    r = api.get("/creators/me", token=a["access_token"])
    assert r.status == 500 and b"2222" not in r.body, r
    credit(stack, ida, 5000)
    ensure_verified(api, a)
    r = api.post("/payouts/request", token=a["access_token"], json={"amount": 1000},
                 headers={"X-Idempotency-Key": uuid.uuid4().hex})
    assert r.status == 201 and r.json["bank_account"] is None, r  # not shown as B's
    # logged as the module's own line ("LogLevel tipzed:..." applies to it)
    assert any("[tipzed:error]" in line and "the bank account of creator" in line
               for line in stack.error_log_text().splitlines())
    # put the values back where they belong (tipzedctl reseal checks every one)
    stack.psql(swap)
    stack.psql(f"UPDATE payouts SET bank_account_enc = (SELECT bank_account_enc FROM creator_profiles"
               f" WHERE user_id = '{ida}') WHERE id = '{r.json['id']}'")
    assert api.get("/creators/me", token=a["access_token"]).status == 200


def test_reseal_moves_every_bank_account_to_the_first_key(api, stack, new_client, tmp_path):
    """tipzedctl reseal seals every bank account again under the key file's
    first key, bound to its owner, in one transaction (key rotation, and
    values from before owners were bound); a value that does not open for
    its owner stops it with nothing changed."""
    c = register(new_client(), role="creator")
    cid = c["user"]["id"]
    assert api.put("/creators/me", token=c["access_token"], json={"bank_account": "ZM33 3333 3333"}).status == 200
    credit(stack, cid, 5000)
    ensure_verified(api, c)
    po = api.post("/payouts/request", token=c["access_token"], json={"amount": 1000},
                  headers={"X-Idempotency-Key": uuid.uuid4().hex}).json

    def stored():
        return stack.psql(f"SELECT (SELECT bank_account_enc FROM creator_profiles WHERE user_id = '{cid}'),"
                          f" (SELECT bank_account_enc FROM payouts WHERE id = '{po['id']}')")[0]

    current = stack.secret("enc.key").decode().strip()
    other = uuid.uuid4().hex + uuid.uuid4().hex
    before = stored()
    rotated = tmp_path / "rotated.key"
    rotated.write_text(f"# new key first\n{other}\n{current}\n")
    r = stack.tipzedctl("reseal", "--key-file", str(rotated))
    assert r.returncode == 0 and "resealed" in r.stdout, r.stdout + r.stderr
    after = stored()
    assert all(a.startswith("v2.") and a[:12] != b[:12] for a, b in zip(after, before)), (before, after)
    assert api.get("/creators/me", token=c["access_token"]).status == 500  # the server lacks the new key
    back = tmp_path / "back.key"
    back.write_text(f"{current}\n{other}\n")
    assert stack.tipzedctl("reseal", "--key-file", str(back)).returncode == 0
    me = api.get("/creators/me", token=c["access_token"])
    assert me.status == 200 and me.json["bank_account"] == "ZM33 3333 3333", me
    assert stored()[0][:12] == before[0][:12]
    # a value moved to another owner stops the reseal, and nothing changes
    stack.psql(f"UPDATE payouts SET bank_account_enc = (SELECT bank_account_enc FROM creator_profiles"
               f" WHERE bank_account_enc IS NOT NULL AND user_id <> '{cid}' LIMIT 1) WHERE id = '{po['id']}'")
    moved = stored()
    r = stack.tipzedctl("reseal", "--key-file", str(rotated))
    assert r.returncode == 1 and "does not open for its owner" in r.stderr, r.stdout + r.stderr
    assert stored() == moved
    stack.psql(f"UPDATE payouts SET bank_account_enc = '{before[1]}' WHERE id = '{po['id']}'")


def test_update_validation_names_field(api, creator):
    tok = creator["access_token"]
    cases = [({"bio": "x" * 1001}, "bio"), ({"avatar_url": "http://insecure.example/a.png"}, "avatar_url"),
             ({"avatar_url": "https://" + "a" * 2050}, "avatar_url"), ({"full_name": ""}, "full_name"),
             ({"bank_account": "12"}, "bank_account"), ({"bank_account": "12;DROP TABLE"}, "bank_account"),
             ({"bio": 5}, "bio"), ({"nickname": "x"}, "nickname")]
    for body, field in cases:
        assert_problem(api.put("/creators/me", token=tok, json=body), 422, field=field)
    assert api.get("/creators/me", token=tok).json["bio"] == ""  # nothing written


def test_creator_only_endpoints_refuse_fans(api, fan):
    for method, path in [("GET", "/creators/me"), ("PUT", "/creators/me")]:
        r = api.request(method, path, token=fan["access_token"], json={} if method == "PUT" else None)
        assert_problem(r, 403, "forbidden")
        assert_problem(api.request(method, path), 401)


def test_fans_have_wallets(api, stack, fan):
    """Every role has a wallet: a fan sees its balances and their lines."""
    for path in ("/wallets/me", "/wallets/me/transactions"):
        assert_problem(api.get(path), 401)
    w = api.get("/wallets/me", token=fan["access_token"])
    assert w.status == 200, w
    assert (w.json["balance"], w.json["cashback_balance"], w.json["transactions"]) == (0, 0, [])
    credit(stack, fan["user"]["id"], 700)
    w = api.get("/wallets/me", token=fan["access_token"]).json
    assert (w["balance"], w["cashback_balance"], w["pending_payouts"]) == (700, 0, 0)
    lines = api.get("/wallets/me/transactions", token=fan["access_token"]).json["data"]
    assert [(x["amount"], x["balance_after"]) for x in lines] == [(700, 700)]


def test_follow_unfollow(api, new_client, creator):
    cid = creator["user"]["id"]
    fans = [register(new_client()) for _ in range(2)]
    r = api.post(f"/creators/{cid}/follow", token=fans[0]["access_token"])
    assert r.status == 200 and r.json == {"creator_id": cid, "following": True, "followers": 1}
    # following twice counts once
    assert api.post(f"/creators/{cid}/follow", token=fans[0]["access_token"]).json["followers"] == 1
    assert api.post(f"/creators/{cid}/follow", token=fans[1]["access_token"]).json["followers"] == 2
    assert api.get(f"/creators/{cid}").json["followers"] == 2
    r = api.delete(f"/creators/{cid}/follow", token=fans[0]["access_token"])
    assert r.json == {"creator_id": cid, "following": False, "followers": 1}
    assert api.delete(f"/creators/{cid}/follow", token=fans[0]["access_token"]).json["followers"] == 1
    assert_problem(api.post(f"/creators/{uuid.uuid4()}/follow", token=fans[0]["access_token"]), 404)
    assert_problem(api.post(f"/creators/{cid}/follow", token=creator["access_token"]), 403)


def test_wallet_and_transactions(api, stack, creator):
    cid, tok = creator["user"]["id"], creator["access_token"]
    w = api.get("/wallets/me", token=tok).json
    assert w == {"balance": 0, "cashback_balance": 0, "currency": "ZMW", "pending_payouts": 0,
                 "reserved": 0, "reserve_schedule": [], "frozen": False, "transactions": []}
    for amount in (1000, 250, 75):
        credit(stack, cid, amount)
    w = api.get("/wallets/me", token=tok).json
    assert w["balance"] == 1325 and len(w["transactions"]) == 3
    lines = api.get("/wallets/me/transactions", token=tok).json
    assert [x["amount"] for x in lines["data"]] == [75, 250, 1000]  # newest first
    assert [x["balance_after"] for x in lines["data"]] == [1325, 1250, 1000]
    assert lines["limit"] == 20 and lines["offset"] == 0 and lines["has_more"] is False
    page = api.get("/wallets/me/transactions?limit=2&offset=1", token=tok).json
    assert [x["amount"] for x in page["data"]] == [250, 1000] and page["has_more"] is False
    page = api.get("/wallets/me/transactions?limit=1", token=tok).json
    assert len(page["data"]) == 1 and page["has_more"] is True


def test_pagination_edges(api, creator):
    tok = creator["access_token"]
    for q, field in [("limit=0", "limit"), ("limit=101", "limit"), ("limit=abc", "limit"),
                     ("offset=-1", "offset"), ("limit=1.5", "limit"), ("offset=99999999999999999999", "offset")]:
        assert_problem(api.get(f"/wallets/me/transactions?{q}", token=tok), 422, field=field)
    assert api.get("/wallets/me/transactions?limit=100&offset=5000", token=tok).json["data"] == []


def test_malformed_query_string_400(api, creator):
    # an encoded NUL would have truncated "ZMW%00x" to "ZMW"; bad escapes and
    # invalid UTF-8 are refused too, wherever they are in the query string
    tok = creator["access_token"]
    for q in ["currency=ZMW%00x", "limit=5%00", "limit=%zz", "limit=2&x=%", "x=%ff&limit=2",
              "x=%c0%af", "%ed%a0%80=1"]:
        r = api.get(f"/wallets/me/transactions?{q}", token=tok)
        assert_problem(r, 400, "invalid_query")
        assert r.json["detail"].startswith("the query string "), r.json
    assert_problem(api.get("/admin/payouts?status=%00"), 401)  # authentication first
    assert api.get("/wallets/me/transactions?limit=%32&x=%c3%a9+a", token=tok).json["limit"] == 2


def test_multi_currency_and_bad_currency(api, creator):
    tok = creator["access_token"]
    assert_problem(api.get("/wallets/me?currency=USD", token=tok), 422, field="currency")
    assert_problem(api.get("/wallets/me/transactions?currency=zmw", token=tok), 422, field="currency")
    assert api.get("/wallets/me?currency=ZMW", token=tok).json["currency"] == "ZMW"


def test_creators_cannot_see_each_other(api, stack, new_client):
    a = register(new_client(), role="creator")
    b = register(new_client(), role="creator")
    credit(stack, a["user"]["id"], 500)
    assert api.get("/wallets/me", token=b["access_token"]).json["balance"] == 0
    assert api.get("/wallets/me/transactions", token=b["access_token"]).json["data"] == []
    assert api.get("/creators/me", token=b["access_token"]).json["id"] == b["user"]["id"]


def test_profile_cache_serves_and_forgets(api, stack, creator, new_client):
    """The shared profile cache (TipzedCreatorCache shmcb 2s in the test
    stack): a change made behind the API's back is not seen while the entry
    lives, every API write that changes the profile drops it at once, and
    the entry expires after its TTL."""
    # The change behind the back must be read again within the 2 s TTL; a
    # loaded machine can take longer, so a fresh creator is tried again.
    for _ in range(5):
        cid = creator["user"]["id"]
        t0 = time.monotonic()
        first = api.get(f"/creators/{cid}")
        assert first.json["name"] == "Chanda Mulenga" and first.headers["X-Tipzed-Cache"] == "miss"
        stack.psql(f"UPDATE users SET full_name = 'Behind The Back' WHERE id = '{cid}'")
        again = api.get(f"/creators/{cid}")
        if time.monotonic() - t0 < 1.5:
            break
        creator = register(new_client(), role="creator", full_name="Chanda Mulenga")
    assert again.json["name"] == "Chanda Mulenga" and again.headers["X-Tipzed-Cache"] == "hit"
    assert again.body == first.body
    fan = register(new_client())
    assert api.post(f"/creators/{cid}/follow", token=fan["access_token"]).status == 200
    fresh = api.get(f"/creators/{cid}").json  # the follow dropped the entry
    assert (fresh["name"], fresh["followers"]) == ("Behind The Back", 1)
    r = api.put("/creators/me", token=creator["access_token"], json={"full_name": "Chanda M."})
    assert r.status == 200
    assert api.get(f"/creators/{cid}").json["name"] == "Chanda M."  # own edit seen at once
    stack.psql(f"UPDATE users SET full_name = 'Later' WHERE id = '{cid}'")
    assert api.get(f"/creators/{cid}").json["name"] == "Chanda M."
    time.sleep(2.5)  # the configured TTL is 2 s
    assert api.get(f"/creators/{cid}").json["name"] == "Later"


def test_profile_write_visible_at_once_under_racing_reads(api, creator, new_client):
    """Readers miss and fill the profile cache while the creator edits the
    profile (the test stack's cache: shmcb, 2 s TTL).  A reader that read
    the row before a write and stores it after the write's invalidation
    must not hide the write: every read made after a write's answer shows
    it, from the cache or not."""
    cid, tok = creator["user"]["id"], creator["access_token"]
    stop, failures = threading.Event(), []

    def reader():
        c = new_client()
        while not stop.is_set():
            r = c.get(f"/creators/{cid}")
            if r.status != 200:
                failures.append(r.status)

    readers = [threading.Thread(target=reader) for _ in range(6)]
    for t in readers:
        t.start()
    try:
        for i in range(20):
            name = f"Racing Name {i}"
            assert api.put("/creators/me", token=tok, json={"full_name": name}).status == 200
            seen = [api.get(f"/creators/{cid}") for _ in range(3)]
            assert [r.json["name"] for r in seen] == [name] * 3, (i, [r.headers.get("X-Tipzed-Cache") for r in seen])
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert failures == []
