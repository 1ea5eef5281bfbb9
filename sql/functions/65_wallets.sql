-- Wallets (every role's): GET /wallets/me and its transactions, read from the ledger.

-- What a posting on a wallet means to its owner: the lines of postings
-- p_ids, each with its posting's id (for order) and its final compact JSON
-- text.  "account" says which balance it moved (and balance_after is):
-- "main" or "cashback".  A referral bonus names no payment: the payment
-- that earned it is the referred user's.  One set-based pass (joins
-- instead of a function call and three look-ups a line), which is what a
-- statement of thousands of lines needs; a `sql` function, so it is
-- inlined into its caller's query and planned with it.
CREATE OR REPLACE FUNCTION tz_wallet_lines_text(p_ids bigint[])
RETURNS TABLE (id bigint, line text) LANGUAGE sql STABLE AS $$
  SELECT p.id,
         '{"id":' || to_json(p.uid) || ',"amount":' || p.amount
         || ',"type":' || to_json(CASE e.kind
              WHEN 'payment' THEN CASE pay.purpose WHEN 'topup' THEN 'topup' ELSE 'payment' END
              WHEN 'wallet_payment' THEN CASE WHEN p.amount >= 0 THEN 'payment'
                                              WHEN pay.purpose = 'subscription'
                                              THEN 'subscription_charge'
                                              WHEN pay.purpose = 'schedule'
                                              THEN 'scheduled_payment'
                                              ELSE 'tip_sent' END
              WHEN 'refund' THEN 'refund'
              WHEN 'payout_hold' THEN 'payout' WHEN 'payout_release' THEN 'payout_reversal'
              WHEN 'bill_hold' THEN 'bill_payment' WHEN 'bill_release' THEN 'bill_payment'
              WHEN 'transfer' THEN CASE WHEN p.amount < 0 THEN 'transfer_out'
                                        ELSE 'transfer_in' END
              ELSE e.kind END)
         || ',"account":' || CASE a.kind WHEN 'cashback' THEN '"cashback"' ELSE '"main"' END
         || ',"status":' || coalesce(to_json(CASE WHEN k.bill IS NOT NULL THEN bp.status
                                                  WHEN e.payout_id IS NOT NULL THEN po.status
                                                  ELSE pay.status END)::text, 'null')
         || ',"payment_id":' || coalesce(to_json(k.pid)::text, 'null')
         || ',"payout_id":' || coalesce(to_json(e.payout_id)::text, 'null')
         || ',"bill_payment_id":' || coalesce(to_json(k.bill)::text, 'null')
         || ',"gross":' || coalesce(pay.amount::text, 'null')
         || ',"fee":' || coalesce(pay.fee::text, 'null')
         || ',"balance_after":' || p.balance_after
         || ',"created_at":"' || tz_ts(p.created_at) || '"}'
    FROM postings p
    JOIN journal_entries e ON e.id = p.entry_id
    JOIN accounts a ON a.id = p.account_id
    CROSS JOIN LATERAL (
      SELECT CASE WHEN e.kind <> 'referral_bonus' THEN e.payment_id END AS pid,
             CASE WHEN e.kind IN ('bill_hold', 'bill_settle', 'bill_release')
                  THEN split_part(e.reference, ':', 2)::uuid END AS bill) k
    LEFT JOIN payments pay ON pay.id = k.pid
    LEFT JOIN payouts po ON po.id = e.payout_id
    LEFT JOIN bill_payments bp ON bp.id = k.bill
   WHERE p.id = ANY (p_ids)
$$;

-- The lines of the user's main and cashback balances, newest first, those
-- posted before posting p_before (NULL: from the newest).  The page is
-- chosen on the (account_id, id) index first, each account giving at most
-- offset + limit postings from p_before down; only the page's rows are
-- turned into JSON.  So a page found by its predecessor costs what the
-- first page costs, however deep; a deep offset still walks its rows.
CREATE OR REPLACE FUNCTION tz_wallet_lines(p_user uuid, p_currency text, p_limit int,
                                           p_offset bigint, p_before bigint)
RETURNS SETOF json LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_before bigint := coalesce(p_before, 9223372036854775807);
BEGIN
  RETURN QUERY
  SELECT l.line::json
    FROM tz_wallet_lines_text(ARRAY(
           SELECT both_accounts.id FROM (
            (SELECT p.id FROM postings p
              WHERE p.account_id = (SELECT id FROM accounts WHERE kind = 'wallet'
                                     AND owner_id = p_user AND currency = p_currency)
                AND p.id < v_before
              ORDER BY p.id DESC LIMIT p_limit + p_offset)
            UNION ALL
            (SELECT p.id FROM postings p
              WHERE p.account_id = (SELECT id FROM accounts WHERE kind = 'cashback'
                                     AND owner_id = p_user AND currency = p_currency)
                AND p.id < v_before
              ORDER BY p.id DESC LIMIT p_limit + p_offset)) both_accounts
           ORDER BY both_accounts.id DESC LIMIT p_limit OFFSET p_offset)) l
   ORDER BY l.id DESC;
END $$;

-- reserved and reserve_schedule: the rolling reserve, not payable yet
-- (tz_reserve_json, 63_reserves.sql); balance is what may be paid out.
CREATE OR REPLACE FUNCTION tz_api_wallet(p_user uuid, p_currency text) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  reserve json := tz_reserve_json(p_user, p_currency);
BEGIN
  -- json, not jsonb: the fields keep the order they are written in
  RETURN json_build_object(
    'balance', coalesce((SELECT balance FROM accounts WHERE kind = 'wallet'
                          AND owner_id = p_user AND currency = p_currency), 0),
    'cashback_balance', coalesce((SELECT balance FROM accounts WHERE kind = 'cashback'
                                   AND owner_id = p_user AND currency = p_currency), 0),
    'currency', p_currency,
    'pending_payouts', tz_pending_payouts(p_user, p_currency),
    'reserved', reserve -> 'reserved',
    'reserve_schedule', reserve -> 'reserve_schedule',
    'frozen', tz_wallet_frozen(p_user),
    'transactions', coalesce((SELECT json_agg(l)
                                FROM tz_wallet_lines(p_user, p_currency, 20, 0, NULL) l),
                             '[]'::json));
END $$;

-- GET /wallets/me/transactions: keyset after the line p_after (the uid of
-- one of this wallet's or cashback's postings), in postings.id order.
CREATE OR REPLACE FUNCTION tz_api_wallet_transactions(p_user uuid, p_currency text, p_limit int,
                                                      p_offset bigint, p_after uuid)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_before bigint;
BEGIN
  IF p_after IS NOT NULL THEN
    SELECT p.id INTO v_before FROM postings p JOIN accounts a ON a.id = p.account_id
     WHERE p.uid = p_after AND a.owner_id = p_user AND a.currency = p_currency
       AND a.kind IN ('wallet', 'cashback');
    IF NOT FOUND THEN
      RETURN json_build_object('error', 'starting_after');
    END IF;
  END IF;
  RETURN (WITH page AS (
    SELECT l FROM tz_wallet_lines(p_user, p_currency, p_limit + 1, p_offset, v_before) l
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(l) FROM (SELECT l FROM page LIMIT p_limit) x), '[]'::json),
    'limit', p_limit, 'offset', p_offset,
    'has_more', (SELECT count(*) FROM page) > p_limit));
END $$;

-- GET /admin/wallets: every user's wallet and cashback account (filters:
-- currency, the owner's role, an email prefix), newest account first;
-- keyset after the account p_after.
CREATE OR REPLACE FUNCTION tz_api_admin_wallets(p_currency text, p_role text, p_q text,
                                                p_limit int, p_offset bigint, p_after bigint)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_prefix text := replace(replace(replace(lower(p_q), '\', '\\'), '%', '\%'), '_', '\_') || '%';
BEGIN
  IF p_after IS NOT NULL AND NOT EXISTS (SELECT 1 FROM accounts WHERE id = p_after
                                            AND kind IN ('wallet', 'cashback')) THEN
    RETURN json_build_object('error', 'starting_after');
  END IF;
  RETURN (WITH page AS (
    SELECT json_build_object('id', a.id, 'owner_id', a.owner_id, 'email', u.email,
                             'role', u.role, 'currency', a.currency, 'balance', a.balance,
                             'kind', a.kind, 'created_at', tz_ts(a.created_at),
                             'frozen', u.wallet_frozen_at IS NOT NULL,
                             'frozen_at', tz_ts(u.wallet_frozen_at),
                             'frozen_reason', u.wallet_freeze_reason) AS j,
           row_number() OVER (ORDER BY a.id DESC) AS n
      FROM (SELECT * FROM accounts a
             WHERE a.kind IN ('wallet', 'cashback')
               AND a.id < coalesce(p_after, 9223372036854775807)
               AND (p_currency IS NULL OR a.currency = p_currency)
               AND (p_role IS NULL AND p_q IS NULL
                    OR a.owner_id IN (SELECT id FROM users
                                       WHERE (p_role IS NULL OR role = p_role)
                                         AND (p_q IS NULL OR lower(email) LIKE v_prefix)))
             ORDER BY a.id DESC LIMIT p_limit + 1 OFFSET p_offset) a
      JOIN users u ON u.id = a.owner_id
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit));
END $$;
