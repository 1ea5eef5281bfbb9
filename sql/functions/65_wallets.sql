-- Wallets (every role's): GET /wallets/me and its transactions, read from the ledger.

-- What a posting on a wallet means to its owner.  "account" says which
-- balance it moved (and balance_after is): "main" or "cashback".  A
-- referral bonus names no payment: the payment that earned it is the
-- referred user's.
CREATE OR REPLACE FUNCTION tz_wallet_line(p postings, e journal_entries) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
  pay payments;
  pid uuid := CASE WHEN e.kind <> 'referral_bonus' THEN e.payment_id END;
  st text;
  bill uuid;
BEGIN
  IF pid IS NOT NULL THEN
    SELECT * INTO pay FROM payments WHERE id = pid;
    st := pay.status;
  END IF;
  IF e.payout_id IS NOT NULL THEN
    st := tz_payout_status(e.payout_id);
  END IF;
  IF e.kind IN ('bill_hold', 'bill_settle', 'bill_release') THEN
    bill := split_part(e.reference, ':', 2)::uuid;
    st := (SELECT status FROM bill_payments WHERE id = bill);
  END IF;
  RETURN json_build_object(
    'id', p.uid, 'amount', p.amount,
    'type', CASE e.kind WHEN 'payment' THEN CASE pay.purpose WHEN 'topup' THEN 'topup'
                                                             ELSE 'payment' END
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
                        ELSE e.kind END,
    'account', CASE (SELECT kind FROM accounts WHERE id = p.account_id)
                 WHEN 'cashback' THEN 'cashback' ELSE 'main' END,
    'status', st, 'payment_id', pid, 'payout_id', e.payout_id,
    'bill_payment_id', bill,
    'gross', pay.amount, 'fee', pay.fee, 'balance_after', p.balance_after,
    'created_at', tz_ts(p.created_at));
END $$;

-- The lines of the user's main and cashback balances, newest first.  The
-- page is chosen on the (account_id, id DESC) index first, each account
-- giving at most offset + limit postings; only the page's rows are turned
-- into JSON, so deep offsets stay cheap.
CREATE OR REPLACE FUNCTION tz_wallet_lines(p_user uuid, p_currency text, p_limit int,
                                           p_offset bigint)
RETURNS SETOF json LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY
  SELECT tz_wallet_line(p, e)
    FROM (SELECT both_accounts.id FROM (
            (SELECT p.id FROM postings p
              WHERE p.account_id = (SELECT id FROM accounts WHERE kind = 'wallet'
                                     AND owner_id = p_user AND currency = p_currency)
              ORDER BY p.id DESC LIMIT p_limit + p_offset)
            UNION ALL
            (SELECT p.id FROM postings p
              WHERE p.account_id = (SELECT id FROM accounts WHERE kind = 'cashback'
                                     AND owner_id = p_user AND currency = p_currency)
              ORDER BY p.id DESC LIMIT p_limit + p_offset)) both_accounts
           ORDER BY both_accounts.id DESC LIMIT p_limit OFFSET p_offset) page
    JOIN postings p ON p.id = page.id
    JOIN journal_entries e ON e.id = p.entry_id
   ORDER BY p.id DESC;
END $$;

CREATE OR REPLACE FUNCTION tz_api_wallet(p_user uuid, p_currency text) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (SELECT json_build_object(
    'balance', coalesce((SELECT balance FROM accounts WHERE kind = 'wallet'
                          AND owner_id = p_user AND currency = p_currency), 0),
    'cashback_balance', coalesce((SELECT balance FROM accounts WHERE kind = 'cashback'
                                   AND owner_id = p_user AND currency = p_currency), 0),
    'currency', p_currency,
    'pending_payouts', tz_pending_payouts(p_user, p_currency),
    'transactions', coalesce((SELECT json_agg(l) FROM tz_wallet_lines(p_user, p_currency, 20, 0) l),
                             '[]'::json)));
END $$;

CREATE OR REPLACE FUNCTION tz_api_wallet_transactions(p_user uuid, p_currency text, p_limit int,
                                                      p_offset bigint)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (WITH page AS (
    SELECT l FROM tz_wallet_lines(p_user, p_currency, p_limit + 1, p_offset) l
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(l) FROM (SELECT l FROM page LIMIT p_limit) x), '[]'::json),
    'limit', p_limit, 'offset', p_offset,
    'has_more', (SELECT count(*) FROM page) > p_limit));
END $$;
