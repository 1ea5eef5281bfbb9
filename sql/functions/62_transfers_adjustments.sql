-- Transfers between users' main wallets, and admin adjustments of wallets.
--
-- A transfer moves its amount from the sender's wallet to the recipient's
-- in one entry of kind 'transfer' (reference 'transfer:<id>').  The limit
-- (what one sender may transfer within a sliding window, per currency) and
-- the balance are checked in the transaction that posts the entry, under a
-- transaction-scoped advisory lock keyed by the sender: concurrent transfers
-- of one sender take turns, so together they exceed neither.
--
-- An adjustment is created pending by one admin; another admin approves it
-- (one entry of kind 'adjustment' between the user's wallet and the
-- adjustments account, reference 'adjustment:<id>') or rejects it.

CREATE OR REPLACE FUNCTION tz_transfer_json(t transfers) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', t.id, 'sender_id', t.sender_id, 'recipient_id', t.recipient_id, 'amount', t.amount,
    'currency', t.currency, 'note', t.note, 'created_at', tz_ts(t.created_at))
$$;

-- What one sender transferred in a currency since p_since.
CREATE OR REPLACE FUNCTION tz_transferred_since(p_sender uuid, p_currency text,
                                                p_since timestamptz) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT coalesce(sum(amount), 0)::bigint FROM transfers
           WHERE sender_id = p_sender AND currency = p_currency::bpchar AND created_at > p_since);
END $$;

-- POST /wallets/me/transfers.  p_roles: the recipient roles the server's
-- transfer policy allows.  {"error": "recipient_not_found" | "self_transfer"
-- | "recipient_not_allowed" | "insufficient_funds"}, {"error":
-- "limit_exceeded", "limit", "remaining"}, or the transfer, stored under the
-- sender's idempotency key p_key in the transaction of the entry.
CREATE OR REPLACE FUNCTION tz_api_transfer_create(p_id uuid, p_sender uuid, p_recipient uuid,
                                                  p_amount bigint, p_currency text, p_note text,
                                                  p_roles text[], p_limit bigint,
                                                  p_window bigint, p_key text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  rcpt users;
  t transfers;
  used bigint;
  at timestamptz;
BEGIN
  SELECT * INTO rcpt FROM users WHERE id = p_recipient;
  IF rcpt.id IS NULL THEN
    RETURN json_build_object('error', 'recipient_not_found');
  ELSIF p_recipient = p_sender THEN
    RETURN json_build_object('error', 'self_transfer');
  ELSIF NOT rcpt.role = ANY (coalesce(p_roles, '{}')) THEN
    RETURN json_build_object('error', 'recipient_not_allowed');
  ELSIF tz_ops_refusal(p_sender, NULL, true) IS NOT NULL THEN
    RETURN tz_ops_refused(p_sender, NULL, true);
  ELSIF rcpt.status <> 'active' THEN
    RETURN json_build_object('error', 'recipient_' || CASE rcpt.status
                                                       WHEN 'suspended' THEN 'suspended'
                                                       ELSE 'closed' END);
  END IF;
  -- one transfer of this sender at a time, until this transaction ends
  PERFORM pg_advisory_xact_lock(7351015, hashtext(p_sender::text));
  at := clock_timestamp();
  used := tz_transferred_since(p_sender, p_currency, at - make_interval(secs => p_window));
  IF used + p_amount > p_limit THEN
    RETURN json_build_object('error', 'limit_exceeded', 'limit', p_limit,
                             'remaining', greatest(p_limit - used, 0));
  END IF;
  BEGIN
    INSERT INTO transfers (id, sender_id, recipient_id, amount, currency, note, created_at)
    VALUES (p_id, p_sender, p_recipient, p_amount, p_currency, p_note, at)
    RETURNING * INTO t;
    PERFORM tz_post_entry('transfer:' || t.id, 'transfer', NULL, NULL, t.currency,
                          ARRAY[tz_account('wallet', p_sender, NULL, t.currency),
                                tz_account('wallet', p_recipient, NULL, t.currency)],
                          ARRAY[-t.amount, t.amount]);
  EXCEPTION WHEN SQLSTATE 'TZ001' THEN
    RETURN json_build_object('error', 'insufficient_funds');
  END;
  RETURN tz_idem_store(p_sender, p_key, 201, tz_transfer_json(t));
END $$;

-- GET /wallets/me/transfers: sent and received, newest first (keyset: after p_after).
CREATE OR REPLACE FUNCTION tz_api_transfers_list(p_user uuid, p_limit int, p_offset bigint,
                                                 p_after uuid)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c_at timestamptz := 'infinity'; c_id uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
  v_n bigint := p_limit + 1 + p_offset;
BEGIN
  IF p_after IS NOT NULL THEN
    SELECT created_at, id INTO c_at, c_id FROM transfers
     WHERE id = p_after AND p_user IN (sender_id, recipient_id);
    IF NOT FOUND THEN RETURN json_build_object('error', 'starting_after'); END IF;
  END IF;
  RETURN (WITH page AS (
    SELECT (tz_transfer_json(t)::jsonb || jsonb_build_object(
              'direction', CASE WHEN t.sender_id = p_user THEN 'sent' ELSE 'received' END))::json AS j,
           row_number() OVER () AS n FROM (
      SELECT * FROM transfers
       WHERE id IN (SELECT id FROM (
               (SELECT id, created_at FROM transfers
                 WHERE sender_id = p_user AND (created_at, id) < (c_at, c_id)
                 ORDER BY created_at DESC, id DESC LIMIT v_n)
               UNION
               (SELECT id, created_at FROM transfers
                 WHERE recipient_id = p_user AND (created_at, id) < (c_at, c_id)
                 ORDER BY created_at DESC, id DESC LIMIT v_n)) both_ways
              ORDER BY created_at DESC, id DESC LIMIT p_limit + 1 OFFSET p_offset)
       ORDER BY created_at DESC, id DESC) t
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit));
END $$;

CREATE OR REPLACE FUNCTION tz_adjustment_json(a adjustments) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', a.id, 'user_id', a.user_id, 'amount', a.amount, 'currency', a.currency,
    'reason', a.reason, 'status', a.status, 'created_by', a.created_by,
    'decided_by', a.decided_by, 'decision_reason', a.decision_reason,
    'created_at', tz_ts(a.created_at), 'decided_at', tz_ts(a.decided_at))
$$;

-- POST /admin/wallets/{user_id}/adjustments: {"error": "user_not_found"} or
-- the pending adjustment, audited and stored under the admin's idempotency
-- key p_key in one transaction.
CREATE OR REPLACE FUNCTION tz_api_adjustment_create(p_id uuid, p_user uuid, p_amount bigint,
                                                    p_currency text, p_reason text, p_admin uuid,
                                                    p_request text, p_key text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  a adjustments;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM users WHERE id = p_user) THEN
    RETURN json_build_object('error', 'user_not_found');
  END IF;
  INSERT INTO adjustments (id, user_id, amount, currency, reason, created_by)
  VALUES (p_id, p_user, p_amount, p_currency, p_reason, p_admin)
  RETURNING * INTO a;
  PERFORM tz_api_audit(p_admin, 'adjustment.create', 'adjustment', a.id::text,
                       format('%s %s for %s: %s', a.amount, a.currency, a.user_id, a.reason),
                       p_request);
  RETURN tz_idem_store(p_admin, p_key, 201, tz_adjustment_json(a));
END $$;

-- POST /admin/adjustments/{id}/approve | reject, by an admin other than the
-- one who created it.  {"error": "not_found" | "same_admin" |
-- "insufficient_funds"} (the adjustment stays pending), {"error":
-- "conflict", "status": <current>}, or the decided adjustment, audited and
-- stored under p_key (approvals) in the transaction of the entry.
CREATE OR REPLACE FUNCTION tz_api_adjustment_decide(p_id uuid, p_action text, p_admin uuid,
                                                    p_reason text, p_request text, p_key text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  a adjustments;
BEGIN
  SELECT * INTO a FROM adjustments WHERE id = p_id FOR UPDATE;
  IF a.id IS NULL OR p_action NOT IN ('approve', 'reject') THEN
    RETURN json_build_object('error', 'not_found');
  ELSIF a.status <> 'pending' THEN
    RETURN json_build_object('error', 'conflict', 'status', a.status);
  ELSIF a.created_by = p_admin THEN
    RETURN json_build_object('error', 'same_admin');
  ELSIF p_action = 'approve' AND a.amount < 0 AND tz_wallet_frozen(a.user_id) THEN
    RETURN json_build_object('error', 'wallet_frozen'); -- stays pending
  END IF;
  IF p_action = 'approve' THEN
    BEGIN
      PERFORM tz_post_entry('adjustment:' || a.id, 'adjustment', NULL, NULL, a.currency,
                            ARRAY[tz_account('wallet', a.user_id, NULL, a.currency),
                                  tz_account('adjustments', NULL, NULL, a.currency)],
                            ARRAY[a.amount, -a.amount]);
    EXCEPTION WHEN SQLSTATE 'TZ001' THEN
      RETURN json_build_object('error', 'insufficient_funds');
    END;
  END IF;
  UPDATE adjustments
     SET status = CASE p_action WHEN 'approve' THEN 'approved' ELSE 'rejected' END,
         decided_by = p_admin, decided_at = now(), decision_reason = p_reason
   WHERE id = p_id RETURNING * INTO a;
  PERFORM tz_api_audit(p_admin, 'adjustment.' || p_action, 'adjustment', a.id::text, p_reason,
                       p_request);
  RETURN tz_idem_store(p_admin, p_key, 200, tz_adjustment_json(a));
END $$;

-- GET /admin/adjustments?status=, newest first (keyset: after p_after).
CREATE OR REPLACE FUNCTION tz_api_adjustments_list(p_status text, p_limit int, p_offset bigint,
                                                   p_after uuid)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c_at timestamptz := 'infinity'; c_id uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
BEGIN
  IF p_after IS NOT NULL THEN
    SELECT created_at, id INTO c_at, c_id FROM adjustments WHERE id = p_after;
    IF NOT FOUND THEN RETURN json_build_object('error', 'starting_after'); END IF;
  END IF;
  RETURN (WITH page AS (
    SELECT tz_adjustment_json(a) AS j, row_number() OVER () AS n FROM (
      SELECT * FROM adjustments WHERE (p_status IS NULL OR status = p_status)
         AND (created_at, id) < (c_at, c_id)
       ORDER BY created_at DESC, id DESC LIMIT p_limit + 1 OFFSET p_offset) a
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit));
END $$;
