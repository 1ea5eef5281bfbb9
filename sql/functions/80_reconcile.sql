-- Reconciliation: one row per mismatch, none on a healthy ledger.
--   entries_balanced     entry id: fewer than two postings, or a currency
--                        whose postings do not sum to zero
--   cached_balances      account id: balance differs from the sum of its
--                        postings, or a posting's balance_after differs from
--                        the running sum of the account's postings by id
--   no_negative_wallets  wallet account id with a balance below zero
--   payments_credited    payment id: a succeeded (or refunded) payment
--                        without exactly one credit entry, or another with one
--   payment_amounts      payment id: credit postings other than -G, G-F, F
--   payments_refunded    payment id: a refund entry count that does not
--                        match the status
--   payout_entries       payout id: a hold for every payout, a settlement
--                        only for completed ones, a release only for
--                        rejected, failed or cancelled ones
-- These are whole-ledger scans run by an admin or tipzedctl, not per
-- request, so they stay LANGUAGE sql.

-- Set-based: each check is one ordered pass over a covering index
-- (postings_entry_idx, postings_account_idx), about a second per million
-- postings, without sorting or hashing the postings.
-- JIT is off for it: correlated sub-queries that almost never run inflate
-- the estimated cost, and compiling them would take longer than the checks.
CREATE OR REPLACE FUNCTION tz_reconcile_ledger() RETURNS TABLE (check_name text, id text, detail text)
LANGUAGE sql STABLE SET jit = off AS $$
  WITH per_entry AS (
    SELECT entry_id, count(*) AS n, sum(amount) AS total,
           min(currency) AS c_min, max(currency) AS c_max
      FROM postings GROUP BY entry_id
  ), running AS (
    SELECT * FROM (
      SELECT account_id, id AS posting_id, balance_after,
             sum(amount) OVER w AS run, lead(id) OVER w IS NULL AS last
        FROM postings WINDOW w AS (PARTITION BY account_id ORDER BY id)) r
     WHERE balance_after <> run OR last
  )
  SELECT 'entries_balanced', e.id::text,
         format('%s posting(s); sums: %s', coalesce(p.n, 0),
                coalesce((SELECT string_agg(format('%s %s', currency, s), ', ' ORDER BY currency)
                            FROM (SELECT currency, sum(amount) AS s FROM postings
                                   WHERE entry_id = e.id GROUP BY currency) c), 'none'))
    FROM journal_entries e LEFT JOIN per_entry p ON p.entry_id = e.id
   WHERE coalesce(p.n, 0) < 2 OR p.total <> 0
      OR (p.c_min <> p.c_max
          AND EXISTS (SELECT 1 FROM postings q WHERE q.entry_id = e.id
                       GROUP BY q.currency HAVING sum(q.amount) <> 0))
  UNION ALL
  SELECT 'cached_balances', a.id::text,
         format('cached %s, postings sum to %s', a.balance, coalesce(r.run, 0))
    FROM accounts a LEFT JOIN running r ON r.account_id = a.id AND r.last
   WHERE a.balance <> coalesce(r.run, 0)
  UNION ALL
  SELECT 'cached_balances', r.account_id::text,
         format('posting %s: balance_after %s, running sum %s', r.posting_id, r.balance_after, r.run)
    FROM running r WHERE r.balance_after <> r.run
  UNION ALL
  SELECT 'no_negative_wallets', a.id::text, format('balance %s', a.balance)
    FROM accounts a WHERE a.kind = 'wallet' AND a.balance < 0
$$;

CREATE OR REPLACE FUNCTION tz_reconcile_payments() RETURNS TABLE (check_name text, id text, detail text)
LANGUAGE sql STABLE AS $$
  SELECT 'payments_credited', p.id::text,
         format('status %s with %s credit entries', p.status, count(e.id))
    FROM payments p
    LEFT JOIN journal_entries e ON e.payment_id = p.id AND e.kind = 'payment'
   GROUP BY p.id
  HAVING count(e.id) <> CASE WHEN p.status IN ('succeeded', 'refunded') THEN 1 ELSE 0 END
  UNION ALL
  SELECT 'payment_amounts', p.id::text, 'credit postings do not match gross/net/fee'
    FROM payments p JOIN journal_entries e ON e.payment_id = p.id AND e.kind = 'payment'
   WHERE (SELECT array_agg(amount ORDER BY amount) FROM postings WHERE entry_id = e.id)
         IS DISTINCT FROM (SELECT array_agg(x ORDER BY x)
                             FROM unnest(ARRAY[-p.amount, p.net, p.fee]) x WHERE x <> 0)
  UNION ALL
  SELECT 'payments_refunded', p.id::text,
         format('status %s with %s refund entries', p.status, count(e.id))
    FROM payments p
    LEFT JOIN journal_entries e ON e.payment_id = p.id AND e.kind = 'refund'
   GROUP BY p.id
  HAVING count(e.id) <> CASE WHEN p.status = 'refunded' THEN 1 ELSE 0 END
$$;

CREATE OR REPLACE FUNCTION tz_reconcile_payouts() RETURNS TABLE (check_name text, id text, detail text)
LANGUAGE sql STABLE AS $$
  SELECT 'payout_entries', o.id::text,
         format('status %s with %s hold, %s settle, %s release entries', o.status,
                count(*) FILTER (WHERE e.kind = 'payout_hold'),
                count(*) FILTER (WHERE e.kind = 'payout_settle'),
                count(*) FILTER (WHERE e.kind = 'payout_release'))
    FROM payouts o LEFT JOIN journal_entries e ON e.payout_id = o.id
   GROUP BY o.id
  HAVING count(*) FILTER (WHERE e.kind = 'payout_hold') <> 1
      OR count(*) FILTER (WHERE e.kind = 'payout_settle') <> (o.status = 'completed')::int
      OR count(*) FILTER (WHERE e.kind = 'payout_release')
         <> (o.status IN ('rejected', 'failed', 'cancelled'))::int
$$;

-- The full report (tipzedctl reconcile).
CREATE OR REPLACE FUNCTION tz_reconcile() RETURNS TABLE (check_name text, id text, detail text)
LANGUAGE sql STABLE AS $$
  SELECT * FROM tz_reconcile_ledger()
  UNION ALL SELECT * FROM tz_reconcile_payments()
  UNION ALL SELECT * FROM tz_reconcile_payouts()
$$;

-- GET /admin/reconciliation: every check with its mismatches.
-- Open items: what the ledger agrees with but a person must still decide.
-- Every payment in review, oldest first, with its age in seconds; they do
-- not make the report fail (the ledger is consistent), but nothing leaves
-- review by itself: an admin resolves it (POST /admin/payments/{id}/resolve).
CREATE OR REPLACE FUNCTION tz_open_items() RETURNS TABLE (kind text, id text, age_seconds bigint,
                                                          detail text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY
    SELECT 'payment_review'::text, p.id::text,
           floor(extract(epoch FROM now() - p.updated_at))::bigint,
           coalesce(p.review_reason, 'in review')
      FROM payments p WHERE p.status = 'review' ORDER BY p.updated_at, p.id;
END $$;

CREATE OR REPLACE FUNCTION tz_api_reconciliation() RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (WITH checks(name) AS (VALUES ('entries_balanced'), ('cached_balances'),
                                       ('no_negative_wallets'), ('payments_credited'),
                                       ('payment_amounts'), ('payments_refunded'),
                                       ('payout_entries')),
       m AS (SELECT * FROM tz_reconcile())
  SELECT json_build_object(
    'ok', NOT EXISTS (SELECT 1 FROM m), 'checked_at', tz_ts(now()),
    'open_items', coalesce((SELECT json_agg(json_build_object('kind', o.kind, 'id', o.id,
                                                              'age_seconds', o.age_seconds,
                                                              'detail', o.detail))
                              FROM tz_open_items() o), '[]'::json),
    'checks', (SELECT json_agg(json_build_object(
        'name', c.name, 'ok', NOT EXISTS (SELECT 1 FROM m WHERE m.check_name = c.name),
        'mismatches', coalesce((SELECT json_agg(json_build_object('id', m.id, 'detail', m.detail))
                                  FROM m WHERE m.check_name = c.name), '[]'::json)))
        FROM checks c)));
END $$;
