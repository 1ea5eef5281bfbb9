-- Reconciliation: one row per mismatch, none on a healthy ledger.
--   entries_balanced     entry id: fewer than two postings, or a currency
--                        whose postings do not sum to zero
--   cached_balances      account id: balance differs from the sum of its
--                        postings, or a posting's balance_after differs from
--                        the running sum of the account's postings by id;
--                        for a system account, each lane's sub-balance
--                        (account_lanes) and the running sum of the
--                        postings of that lane, its accounts.balance 0, and
--                        no posting in a lane it has no row for (a user
--                        account's postings are all of lane 0)
--   no_negative_wallets  wallet or cashback account id with a balance below
--                        zero
--   payments_credited    payment id: a credited payment (succeeded,
--                        refund_pending, partially_refunded, refunded)
--                        without exactly one credit entry, or another with one
--   payment_amounts      payment id: a credit entry other than the payer's
--                        side -G (provider_clearing, or the payer's wallet
--                        and cashback balances, the latter -from_cashback),
--                        promotions -bonus, fees +F and G-F+bonus to the
--                        recipient (wallet, and the receivable when the
--                        recipient owed, and the reserve when one is held; a split tip's recipients are its
--                        creators together); a leg of anyone else's
--   split_entries        payment id: a split tip whose shares do not sum
--                        to 10000 bps, do not include its creator_id, or
--                        whose credited shares do not sum to its net; a
--                        creator of it whose legs in the credit entry are
--                        not the rule's share of the net (tz_split_amounts),
--                        or not its stored amount, or whose legs in the
--                        refund and dispute entries do not leave it the
--                        rule's share of the net not taken back
--   payments_refunded    payment id: refund entries that do not match the
--                        confirmed refunds (count, and the payer's side --
--                        clearing, or the payer's wallet -- summing to
--                        refunded_amount), or a state that does not match
--                        them
--   reserve_holds        account id: a reserve_hold balance other than what
--                        its creator's unreleased holds keep (amount -
--                        drawn); hold:<id>: a released hold whose
--                        reserve_release entry did not move exactly what
--                        was left of it from the reserve; entry id: a
--                        reserve_release entry of no hold (63_reserves.sql)
--   promotions_entries   payment id: cashback granted, cashback reversed or
--                        bonus reversed by entries other than the payment's
--                        figures; entry id: such an entry with a leg of
--                        someone else's; user id: a month's granted
--                        cashback other than its payments' cashback
--   dispute_entries      dispute id: a hold for every dispute that took
--                        something, a release only for won ones, a
--                        settlement only for lost ones; payment id:
--                        disputed_amount other than the sum of its open and
--                        lost disputes; account id: a dispute_hold holding
--                        other than its open disputes, a receivable above 0
--   payout_entries       payout id: a hold for every payout, a settlement
--                        only for completed ones, a release only for
--                        rejected, failed or cancelled ones
--   bill_entries         bill payment id: a hold for every bill payment, a
--                        settlement only for succeeded ones, a release only
--                        for failed ones
--   transfer_entries     transfer id: not exactly one entry 'transfer:<id>'
--                        of kind transfer whose two legs are -amount on
--                        the sender's wallet and +amount on the
--                        recipient's; entry id: a transfer entry of no
--                        transfer
--   adjustment_entries   adjustment id: an entry 'adjustment:<id>' for an
--                        adjustment that is not approved, none for an
--                        approved one, or legs other than the signed amount
--                        on the user's wallet and its opposite on the
--                        adjustments account; entry id: an entry
--                        'adjustment:<x>' of no adjustment
--   referral_entries     entry id: an entry of kind referral_bonus, or with
--                        a reference 'referral:<x>', that is not one
--                        'referral_bonus' entry 'referral:<user id>' of a
--                        user whose referral is settled (referred_by and
--                        referral_rewarded_at set) with exactly two legs:
--                        promotions -X and the referrer's cashback +X
--                        (X > 0); the unique reference makes it one per
--                        referred user
--   billing_periods      subscription or schedule id: charges
--                        (billing_charges) other than exactly one for each
--                        of its periods 1..period, less the current one
--                        while it is unpaid; a schedule whose charges_made
--                        is not that count; payment id: a charge whose
--                        payment is not of that item, period and purpose,
--                        or has no credit entry
--   invoices_issued      payment id: a credited payment without exactly one
--                        invoice, or one whose total, tax and currency are
--                        not the payment's; refund id: a confirmed refund
--                        without exactly one credit note of -amount;
--                        dispute id: a lost dispute, likewise;
--                        invoice id: an invoice of a payment never
--                        credited; (issuer, kind, year): numbers other
--                        than 1..n without a gap
--   analytics_rollups    creator/currency: the days' net of the analytics
--                        rollups other than the creator's earnings;
--                        creator/currency/day: a day's gross other than
--                        its paying fans', or supporters other than their
--                        number (68_analytics.sql)
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
      SELECT account_id, lane, id AS posting_id, balance_after,
             sum(amount) OVER w AS run, lead(id) OVER w IS NULL AS last
        FROM postings WINDOW w AS (PARTITION BY account_id, lane ORDER BY id)) r
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
    FROM accounts a LEFT JOIN running r ON r.account_id = a.id AND r.lane = 0 AND r.last
   WHERE a.owner_id IS NOT NULL AND a.balance <> coalesce(r.run, 0)
  UNION ALL
  SELECT 'cached_balances', l.account_id::text,
         format('lane %s: sub-balance %s, its postings sum to %s', l.lane, l.balance,
                coalesce(r.run, 0))
    FROM account_lanes l
    LEFT JOIN running r ON r.account_id = l.account_id AND r.lane = l.lane AND r.last
   WHERE l.balance <> coalesce(r.run, 0)
  UNION ALL
  SELECT 'cached_balances', a.id::text,
         format('a system account''s balance is its lanes'': accounts.balance is %s, not 0',
                a.balance)
    FROM accounts a WHERE a.owner_id IS NULL AND a.balance <> 0
  UNION ALL
  SELECT 'cached_balances', r.account_id::text,
         format('postings up to %s in lane %s, which the account has no sub-balance for',
                r.posting_id, r.lane)
    FROM running r JOIN accounts a ON a.id = r.account_id
   WHERE r.last AND (a.owner_id IS NOT NULL AND r.lane <> 0
                     OR a.owner_id IS NULL AND NOT EXISTS (
                          SELECT 1 FROM account_lanes l
                           WHERE l.account_id = r.account_id AND l.lane = r.lane))
  UNION ALL
  SELECT 'cached_balances', r.account_id::text,
         format('posting %s: balance_after %s, running sum %s', r.posting_id, r.balance_after, r.run)
    FROM running r WHERE r.balance_after <> r.run
  UNION ALL
  SELECT 'no_negative_wallets', a.id::text, format('balance %s', a.balance)
    FROM accounts a WHERE a.kind IN ('wallet', 'cashback') AND a.balance < 0
$$;

CREATE OR REPLACE FUNCTION tz_reconcile_payments() RETURNS TABLE (check_name text, id text, detail text)
LANGUAGE sql STABLE AS $$
  SELECT 'payments_credited', p.id::text,
         format('status %s with %s credit entries', p.status, count(e.id))
    FROM payments p
    LEFT JOIN journal_entries e ON e.payment_id = p.id AND e.kind IN ('payment', 'wallet_payment')
   GROUP BY p.id
  HAVING count(e.id) <> CASE WHEN p.status IN ('succeeded', 'refund_pending',
                                                 'partially_refunded', 'refunded') THEN 1 ELSE 0 END
      OR bool_or(e.kind <> CASE p.source WHEN 'wallet' THEN 'wallet_payment' ELSE 'payment' END)
  UNION ALL
  SELECT 'payment_amounts', p.id::text,
         format('credit legs: payer %s, cashback %s, promotions %s, fees %s, recipient %s, '
                || 'strangers %s', x.payer, x.cashback, x.promotions, x.fees, x.recipient,
                x.strangers)
    FROM payments p JOIN journal_entries e ON e.payment_id = p.id
                                          AND e.kind IN ('payment', 'wallet_payment')
    JOIN LATERAL (SELECT p.creator_id || coalesce(array_agg(s.creator_id), '{}') AS who
                    FROM payment_splits s WHERE s.payment_id = p.id) c ON true
    JOIN LATERAL (
      SELECT coalesce(sum(q.amount) FILTER (WHERE a.kind = 'provider_clearing'
                                               OR p.source = 'wallet' AND a.owner_id = p.fan_id),
                      0) AS payer,
             coalesce(sum(q.amount) FILTER (WHERE a.kind = 'cashback'), 0) AS cashback,
             coalesce(sum(q.amount) FILTER (WHERE a.kind = 'promotions'), 0) AS promotions,
             coalesce(sum(q.amount) FILTER (WHERE a.kind = 'platform_fees'), 0) AS fees,
             coalesce(sum(q.amount) FILTER (WHERE a.kind IN ('wallet', 'creator_receivable',
                                                          'reserve_hold')
                                               AND a.owner_id = ANY (c.who)
                                               AND NOT (p.source = 'wallet'
                                                        AND a.owner_id = p.fan_id)), 0)
               AS recipient,
             count(*) FILTER (WHERE a.owner_id IS NOT NULL
                                AND a.owner_id <> p.fan_id AND a.owner_id <> ALL (c.who)
                                OR a.kind = 'provider_clearing' AND a.provider <> p.provider)
               AS strangers
        FROM postings q JOIN accounts a ON a.id = q.account_id WHERE q.entry_id = e.id) x ON true
   WHERE x.payer <> -p.amount OR x.cashback <> -p.from_cashback OR x.promotions <> -p.bonus
      OR x.fees <> p.fee OR x.recipient <> p.net + p.bonus OR x.strangers > 0
  UNION ALL
  SELECT 'payments_refunded', p.id::text,
         format('status %s, refunded_amount %s: %s refund entries moving %s, %s confirmed refunds',
                p.status, p.refunded_amount, x.n, x.moved, y.n)
    FROM payments p
    JOIN LATERAL (
      SELECT count(DISTINCT e.id) AS n, coalesce(sum(q.amount), 0) AS moved
        FROM journal_entries e
        LEFT JOIN postings q ON q.entry_id = e.id
          AND q.account_id IN (SELECT a.id FROM accounts a
                                WHERE a.kind = 'provider_clearing'
                                   OR p.source = 'wallet' AND a.owner_id = p.fan_id)
       WHERE e.payment_id = p.id AND e.kind = 'refund') x ON true
    JOIN LATERAL (SELECT count(*) AS n, count(*) FILTER (WHERE status = 'pending') AS pending
                    FROM refunds WHERE payment_id = p.id AND status <> 'failed') y ON true
   WHERE x.n <> y.n - y.pending OR x.moved <> p.refunded_amount
      OR (p.status = 'refund_pending') <> (y.pending > 0)
      OR (p.status = 'refunded') <> (p.refunded_amount = p.amount AND y.pending = 0)
$$;

-- split_entries (see above): each split tip's stored shares, and each of
-- its creators' legs in its credit, refund and dispute entries, against
-- the rule.
CREATE OR REPLACE FUNCTION tz_reconcile_splits() RETURNS TABLE (check_name text, id text,
                                                                detail text)
LANGUAGE sql STABLE AS $$
  WITH sp AS (
    SELECT p.id, p.net, p.purpose, tz_payment_net_taken(p) AS taken,
           EXISTS (SELECT 1 FROM journal_entries e WHERE e.payment_id = p.id
                      AND e.kind IN ('payment', 'wallet_payment')) AS credited,
           array_agg(s.creator_id ORDER BY s.position) AS who,
           array_agg(s.share_bps ORDER BY s.position) AS bps,
           array_agg(s.amount ORDER BY s.position) AS stored,
           sum(s.share_bps) AS total_bps, sum(s.amount) AS total_stored,
           bool_or(s.creator_id = p.creator_id) AS has_primary
      FROM payments p JOIN payment_splits s ON s.payment_id = p.id
     GROUP BY p.id
  )
  SELECT 'split_entries', sp.id::text,
         format('%s shares summing to %s bps, %s the payment''s creator; %s of net %s credited',
                cardinality(sp.bps), sp.total_bps,
                CASE WHEN sp.has_primary THEN 'with' ELSE 'without' END,
                coalesce(sp.total_stored, 0), sp.net)
    FROM sp
   WHERE sp.total_bps <> 10000 OR NOT sp.has_primary OR sp.purpose = 'topup'
      OR sp.credited AND sp.total_stored IS DISTINCT FROM sp.net
  UNION ALL
  SELECT 'split_entries', sp.id::text,
         format('creator %s: credited %s (stored %s), the rule''s share %s; gave back %s, '
                || 'the rule keeping it %s', u.creator_id, x.got,
                coalesce(u.stored::text, 'none'), u.share, x.gave, u.share_left)
    FROM sp
    -- its share of the net and of the net left (the rule is only asked
    -- about shares it can divide by)
    CROSS JOIN LATERAL unnest(sp.who, sp.stored,
                              CASE WHEN sp.total_bps = 10000
                                   THEN tz_split_amounts(sp.net, sp.bps) END,
                              CASE WHEN sp.total_bps = 10000 AND sp.taken BETWEEN 0 AND sp.net
                                   THEN tz_split_amounts(sp.net - sp.taken, sp.bps) END)
                        AS u(creator_id, stored, share, share_left)
    CROSS JOIN LATERAL (
      SELECT coalesce(sum(q.amount) FILTER (WHERE e.kind IN ('payment', 'wallet_payment')), 0)
               AS got,
             coalesce(-sum(q.amount) FILTER (WHERE e.kind IN ('refund', 'dispute_hold',
                                                              'dispute_release')), 0) AS gave
        FROM journal_entries e JOIN postings q ON q.entry_id = e.id
        JOIN accounts a ON a.id = q.account_id
       WHERE e.payment_id = sp.id AND a.owner_id = u.creator_id
         AND a.kind IN ('wallet', 'creator_receivable', 'reserve_hold')) x
   WHERE sp.total_bps = 10000 AND sp.has_primary
     AND (x.got <> CASE WHEN sp.credited THEN u.share ELSE 0 END
          OR u.stored IS DISTINCT FROM CASE WHEN sp.credited THEN u.share END
          OR x.gave IS DISTINCT FROM u.share - u.share_left)
$$;

-- promotions_entries: what promotions gave with each payment and took
-- back (cashback, cashback_reversal, bonus_reversal entries; the bonus is
-- a leg of the credit, checked by payment_amounts) matches the payment's
-- figures, each entry's other legs are the payer's (cashback) or the
-- recipient's (bonus), and no month granted more cashback than its
-- payments earned.
CREATE OR REPLACE FUNCTION tz_reconcile_promotions() RETURNS TABLE (check_name text, id text,
                                                                    detail text)
LANGUAGE sql STABLE AS $$
  SELECT 'promotions_entries', p.id::text,
         format('cashback %s reversed %s, bonus reversed %s: entries give %s, take back %s and %s',
                p.cashback, p.cashback_reversed, p.bonus_reversed, x.given, x.cb_back, x.bonus_back)
    FROM payments p
    JOIN LATERAL (
      SELECT coalesce(-sum(q.amount) FILTER (WHERE e.kind = 'cashback'), 0) AS given,
             coalesce(sum(q.amount) FILTER (WHERE e.kind = 'cashback_reversal'), 0) AS cb_back,
             coalesce(sum(q.amount) FILTER (WHERE e.kind = 'bonus_reversal'), 0) AS bonus_back
        FROM journal_entries e JOIN postings q ON q.entry_id = e.id
        JOIN accounts a ON a.id = q.account_id AND a.kind = 'promotions'
       WHERE e.payment_id = p.id
         AND e.kind IN ('cashback', 'cashback_reversal', 'bonus_reversal')) x ON true
   WHERE x.given <> p.cashback OR x.cb_back <> p.cashback_reversed
      OR x.bonus_back <> p.bonus_reversed
  UNION ALL
  SELECT 'promotions_entries', e.id::text, format('%s entry with a leg of %s', e.kind, a.owner_id)
    FROM journal_entries e JOIN payments p ON p.id = e.payment_id
    JOIN postings q ON q.entry_id = e.id JOIN accounts a ON a.id = q.account_id
   WHERE e.kind IN ('cashback', 'cashback_reversal', 'bonus_reversal')
     AND a.kind <> 'promotions'
     AND a.owner_id IS DISTINCT FROM CASE e.kind WHEN 'bonus_reversal' THEN p.creator_id
                                                 ELSE p.fan_id END
  UNION ALL
  SELECT 'promotions_entries', m.user_id::text,
         format('%s %s: %s granted, payments earned %s', m.currency, m.month, m.granted,
                coalesce(x.earned, 0))
    FROM cashback_months m
    LEFT JOIN LATERAL (
      SELECT sum(p.cashback) AS earned FROM payments p
        JOIN journal_entries e ON e.reference = 'payment:' || p.id || ':cashback'
       WHERE p.fan_id = m.user_id AND p.currency = m.currency
         AND date_trunc('month', e.created_at AT TIME ZONE 'UTC')::date = m.month) x ON true
   WHERE m.granted <> coalesce(x.earned, 0)
$$;

CREATE OR REPLACE FUNCTION tz_reconcile_disputes() RETURNS TABLE (check_name text, id text,
                                                                  detail text)
LANGUAGE sql STABLE AS $$
  SELECT 'dispute_entries', d.id::text,
         format('status %s with %s hold, %s release, %s settle entries', d.status,
                count(*) FILTER (WHERE e.kind = 'dispute_hold'),
                count(*) FILTER (WHERE e.kind = 'dispute_release'),
                count(*) FILTER (WHERE e.kind = 'dispute_settle'))
    FROM disputes d
    LEFT JOIN journal_entries e ON e.reference LIKE 'dispute:' || d.id || ':%'
   GROUP BY d.id
  HAVING count(*) FILTER (WHERE e.kind = 'dispute_hold') <> (d.amount > 0)::int
      OR count(*) FILTER (WHERE e.kind = 'dispute_release') <> (d.amount > 0 AND d.status = 'won')::int
      OR count(*) FILTER (WHERE e.kind = 'dispute_settle') <> (d.amount > 0 AND d.status = 'lost')::int
  UNION ALL
  SELECT 'dispute_entries', p.id::text,
         format('disputed_amount %s, open and lost disputes %s', p.disputed_amount, x.s)
    FROM payments p
    JOIN LATERAL (SELECT coalesce(sum(amount), 0) AS s FROM disputes
                   WHERE payment_id = p.id AND status <> 'won') x ON true
   WHERE p.disputed_amount <> x.s
  UNION ALL
  SELECT 'dispute_entries', a.id::text,
         format('dispute_hold %s holds %s, open disputes %s', a.currency, tz_balance(a.id),
                coalesce(x.s, 0))
    FROM accounts a
    LEFT JOIN (SELECT p.currency, sum(d.amount) AS s FROM disputes d
                 JOIN payments p ON p.id = d.payment_id
                WHERE d.status = 'open' GROUP BY p.currency) x ON x.currency = a.currency
   WHERE a.kind = 'dispute_hold' AND tz_balance(a.id) <> coalesce(x.s, 0)
  UNION ALL
  SELECT 'dispute_entries', a.id::text, format('receivable of %s is %s (above zero)', a.owner_id, a.balance)
    FROM accounts a WHERE a.kind = 'creator_receivable' AND a.balance > 0
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

CREATE OR REPLACE FUNCTION tz_reconcile_bills() RETURNS TABLE (check_name text, id text, detail text)
LANGUAGE sql STABLE AS $$
  SELECT 'bill_entries', o.id::text,
         format('status %s with %s hold, %s settle, %s release entries', o.status,
                count(*) FILTER (WHERE e.kind = 'bill_hold'),
                count(*) FILTER (WHERE e.kind = 'bill_settle'),
                count(*) FILTER (WHERE e.kind = 'bill_release'))
    FROM bill_payments o
    LEFT JOIN journal_entries e ON e.reference IN ('bill:' || o.id || ':hold', 'bill:' || o.id || ':settle',
                                                   'bill:' || o.id || ':release')
   GROUP BY o.id
  HAVING count(*) FILTER (WHERE e.kind = 'bill_hold') <> 1
      OR count(*) FILTER (WHERE e.kind = 'bill_settle') <> (o.status = 'succeeded')::int
      OR count(*) FILTER (WHERE e.kind = 'bill_release') <> (o.status = 'failed')::int
$$;

CREATE OR REPLACE FUNCTION tz_reconcile_transfers() RETURNS TABLE (check_name text, id text,
                                                                   detail text)
LANGUAGE sql STABLE AS $$
  SELECT 'transfer_entries', t.id::text,
         format('%s entries, %s legs: sender %s, recipient %s (amount %s)', count(DISTINCT e.id),
                count(q.id), coalesce(sum(q.amount) FILTER (WHERE a.owner_id = t.sender_id), 0),
                coalesce(sum(q.amount) FILTER (WHERE a.owner_id = t.recipient_id), 0), t.amount)
    FROM transfers t
    LEFT JOIN journal_entries e ON e.reference = 'transfer:' || t.id
    LEFT JOIN postings q ON q.entry_id = e.id
    LEFT JOIN accounts a ON a.id = q.account_id
   GROUP BY t.id
  HAVING count(DISTINCT e.id) <> 1 OR bool_or(e.kind <> 'transfer') OR count(q.id) <> 2
      OR count(*) FILTER (WHERE a.kind = 'wallet' AND a.currency = t.currency
                             AND a.owner_id = t.sender_id AND q.amount = -t.amount) <> 1
      OR count(*) FILTER (WHERE a.kind = 'wallet' AND a.currency = t.currency
                             AND a.owner_id = t.recipient_id AND q.amount = t.amount) <> 1
  UNION ALL
  SELECT 'transfer_entries', e.id::text, format('entry %s of no transfer', e.reference)
    FROM journal_entries e
   WHERE e.kind = 'transfer'
     AND NOT EXISTS (SELECT 1 FROM transfers t WHERE e.reference = 'transfer:' || t.id)
$$;

CREATE OR REPLACE FUNCTION tz_reconcile_adjustments() RETURNS TABLE (check_name text, id text,
                                                                     detail text)
LANGUAGE sql STABLE AS $$
  SELECT 'adjustment_entries', d.id::text,
         format('status %s, amount %s: %s entries, wallet leg %s, adjustments leg %s',
                d.status, d.amount, count(DISTINCT e.id),
                coalesce(sum(q.amount) FILTER (WHERE a.kind = 'wallet'), 0),
                coalesce(sum(q.amount) FILTER (WHERE a.kind = 'adjustments'), 0))
    FROM adjustments d
    LEFT JOIN journal_entries e ON e.reference = 'adjustment:' || d.id
    LEFT JOIN postings q ON q.entry_id = e.id
    LEFT JOIN accounts a ON a.id = q.account_id
   GROUP BY d.id
  HAVING count(DISTINCT e.id) <> (d.status = 'approved')::int
      OR bool_or(e.kind <> 'adjustment')
      OR (d.status = 'approved' AND (
            count(q.id) <> 2
         OR count(*) FILTER (WHERE a.kind = 'wallet' AND a.owner_id = d.user_id
                                AND a.currency = d.currency AND q.amount = d.amount) <> 1
         OR count(*) FILTER (WHERE a.kind = 'adjustments' AND a.currency = d.currency
                                AND q.amount = -d.amount) <> 1))
  UNION ALL
  SELECT 'adjustment_entries', e.id::text, format('entry %s of no adjustment', e.reference)
    FROM journal_entries e
   WHERE e.reference LIKE 'adjustment:%'
     AND NOT EXISTS (SELECT 1 FROM adjustments d WHERE e.reference = 'adjustment:' || d.id)
$$;

CREATE OR REPLACE FUNCTION tz_reconcile_referrals() RETURNS TABLE (check_name text, id text,
                                                                   detail text)
LANGUAGE sql STABLE AS $$
  SELECT 'referral_entries', e.id::text,
         format('entry %s of kind %s: %s legs, promotions %s, referrer''s cashback %s; %s',
                e.reference, e.kind, count(q.id),
                coalesce(sum(q.amount) FILTER (WHERE a.kind = 'promotions'), 0),
                coalesce(sum(q.amount) FILTER (WHERE a.kind = 'cashback'
                                                  AND a.owner_id = u.referred_by), 0),
                CASE WHEN u.id IS NULL THEN 'no such user'
                     WHEN u.referred_by IS NULL THEN 'the user was referred by no one'
                     WHEN u.referral_rewarded_at IS NULL THEN 'the referral is not settled'
                     ELSE 'referred by ' || u.referred_by END)
    FROM journal_entries e
    LEFT JOIN users u ON u.id::text = substr(e.reference, 10)
    LEFT JOIN postings q ON q.entry_id = e.id
    LEFT JOIN accounts a ON a.id = q.account_id
   WHERE e.kind = 'referral_bonus' OR e.reference LIKE 'referral:%'
   GROUP BY e.id, u.id
  HAVING e.kind <> 'referral_bonus' OR e.reference <> 'referral:' || u.id
      OR u.id IS NULL OR u.referred_by IS NULL OR u.referral_rewarded_at IS NULL
      OR count(q.id) <> 2
      OR count(*) FILTER (WHERE a.kind = 'promotions' AND q.amount < 0) <> 1
      OR count(*) FILTER (WHERE a.kind = 'cashback' AND a.owner_id = u.referred_by
                             AND q.amount > 0) <> 1
      OR sum(q.amount) <> 0
$$;

-- billing_periods (see above).
CREATE OR REPLACE FUNCTION tz_reconcile_billing() RETURNS TABLE (check_name text, id text,
                                                                 detail text)
LANGUAGE sql STABLE AS $$
  WITH items AS (
    SELECT s.id, s.period, s.paid, NULL::int AS made FROM subscriptions s
    UNION ALL SELECT c.id, c.period, c.paid, c.charges_made FROM schedules c
  ), got AS (
    SELECT i.*, i.period - CASE WHEN i.paid THEN 0 ELSE 1 END AS owed,
           (SELECT count(*) FROM billing_charges b WHERE b.item_id = i.id) AS n,
           (SELECT coalesce(max(b.period), 0) FROM billing_charges b WHERE b.item_id = i.id) AS top
      FROM items i
  )
  SELECT 'billing_periods', g.id::text,
         format('periods 1..%s to be paid, %s charge(s) up to period %s%s', g.owed, g.n, g.top,
                CASE WHEN g.made IS NOT NULL THEN format(', charges_made %s', g.made) ELSE '' END)
    FROM got g
   WHERE g.n <> g.owed OR g.top <> g.owed OR g.made IS NOT NULL AND g.made <> g.n
  UNION ALL
  SELECT 'billing_periods', b.payment_id::text,
         format('charge of %s period %s: a payment of purpose %s, item %s, period %s, status %s',
                b.item_id, b.period, p.purpose, coalesce(p.subscription_id, p.schedule_id),
                p.period, p.status)
    FROM billing_charges b JOIN payments p ON p.id = b.payment_id
   WHERE p.purpose <> b.kind OR coalesce(p.subscription_id, p.schedule_id) <> b.item_id
      OR p.period <> b.period
      OR NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.reference = 'payment:' || p.id || ':credit')
$$;

-- invoices_issued (see above).
CREATE OR REPLACE FUNCTION tz_reconcile_invoices() RETURNS TABLE (check_name text, id text,
                                                                  detail text)
LANGUAGE sql STABLE AS $$
  SELECT 'invoices_issued', p.id::text,
         format('%s payment of %s %s (tax %s) has %s invoice(s)%s', p.status, p.amount,
                p.currency, p.tax, count(i.id),
                coalesce(format(', total %s tax %s %s', min(i.total), min(i.tax), min(i.currency)),
                         ''))
    FROM payments p
    LEFT JOIN invoices i ON i.payment_id = p.id AND i.kind = 'invoice'
   WHERE p.status IN ('succeeded', 'refund_pending', 'partially_refunded', 'refunded')
   GROUP BY p.id
  HAVING count(i.id) <> 1 OR min(i.total) <> p.amount OR min(i.tax) <> p.tax
      OR min(i.currency) <> p.currency
  UNION ALL
  SELECT 'invoices_issued', r.id::text,
         format('refund of %s has %s credit note(s)', r.amount, count(i.id))
    FROM refunds r LEFT JOIN invoices i ON i.refund_id = r.id
   WHERE r.status = 'succeeded'
   GROUP BY r.id HAVING count(i.id) <> 1 OR min(i.total) <> -r.amount
  UNION ALL
  SELECT 'invoices_issued', d.id::text,
         format('lost dispute of %s has %s credit note(s)', d.amount, count(i.id))
    FROM disputes d JOIN invoices v ON v.payment_id = d.payment_id AND v.kind = 'invoice'
    LEFT JOIN invoices i ON i.dispute_id = d.id
   WHERE d.status = 'lost' AND d.amount > 0
   GROUP BY d.id HAVING count(i.id) <> 1 OR min(i.total) <> -d.amount
  UNION ALL
  SELECT 'invoices_issued', i.id::text, format('invoice %s of a payment that is %s', i.number, p.status)
    FROM invoices i JOIN payments p ON p.id = i.payment_id
   WHERE i.kind = 'invoice'
     AND p.status NOT IN ('succeeded', 'refund_pending', 'partially_refunded', 'refunded')
  UNION ALL
  SELECT 'invoices_issued', format('%s/%s/%s', c.issuer, c.kind, c.year),
         format('numbers 1..%s expected, %s issued up to %s', c.last, count(i.id), max(i.seq))
    FROM invoice_counters c
    LEFT JOIN invoices i ON i.issuer = c.issuer AND i.kind = c.kind AND i.year = c.year
   GROUP BY c.issuer, c.kind, c.year, c.last
  HAVING count(i.id) <> c.last OR max(i.seq) <> c.last
$$;

-- The full report (tipzedctl reconcile).
CREATE OR REPLACE FUNCTION tz_reconcile() RETURNS TABLE (check_name text, id text, detail text)
LANGUAGE sql STABLE AS $$
  SELECT * FROM tz_reconcile_ledger()
  UNION ALL SELECT * FROM tz_reconcile_payments()
  UNION ALL SELECT * FROM tz_reconcile_splits()
  UNION ALL SELECT * FROM tz_reconcile_reserves()
  UNION ALL SELECT * FROM tz_reconcile_payouts()
  UNION ALL SELECT * FROM tz_reconcile_disputes()
  UNION ALL SELECT * FROM tz_reconcile_bills()
  UNION ALL SELECT * FROM tz_reconcile_transfers()
  UNION ALL SELECT * FROM tz_reconcile_adjustments()
  UNION ALL SELECT * FROM tz_reconcile_promotions()
  UNION ALL SELECT * FROM tz_reconcile_referrals()
  UNION ALL SELECT * FROM tz_reconcile_billing()
  UNION ALL SELECT * FROM tz_reconcile_invoices()
  UNION ALL SELECT * FROM tz_reconcile_analytics()
$$;

-- GET /admin/reconciliation: every check with its mismatches, and the
-- settlement section (82_settlement.sql).
-- Open items: what the ledger agrees with but a person must still decide
-- or watch.  They do not make the report fail (the ledger is consistent):
--   payment_review   every payment in review, oldest first, with its age:
--                    nothing leaves review by itself; an admin resolves it
--                    (POST /admin/payments/{id}/resolve)
--   refund_pending   refunds the provider has not confirmed for 10 minutes
--                    (those of a provider whose refund call cannot be
--                    repeated safely wait for its webhook or its dashboard)
--   dispute_open     every open dispute: the provider decides it, the
--                    creator may need to send evidence
--   bill_pending     bill payments the biller has not decided for 10
--                    minutes (the watchdog keeps asking its /status)
--   adjustment_pending  every pending adjustment, oldest first: another
--                    admin approves or rejects it
--   billing_past_due every past-due subscription and schedule: its payer's
--                    wallet is tried daily until the grace runs out
CREATE OR REPLACE FUNCTION tz_open_items() RETURNS TABLE (kind text, id text, age_seconds bigint,
                                                          detail text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY
    SELECT 'payment_review'::text, p.id::text,
           floor(extract(epoch FROM now() - p.updated_at))::bigint,
           coalesce(p.review_reason, 'in review')
      FROM payments p WHERE p.status = 'review' ORDER BY p.updated_at, p.id;
  RETURN QUERY
    SELECT 'refund_pending'::text, r.id::text,
           floor(extract(epoch FROM now() - r.created_at))::bigint,
           format('%s of payment %s, %s', r.amount, r.payment_id,
                  CASE WHEN r.next_try_at IS NULL THEN 'waiting for the provider''s webhook'
                       ELSE 'asked again ' || tz_ts(r.next_try_at) END)
      FROM refunds r WHERE r.status = 'pending' AND r.created_at < now() - interval '10 minutes'
     ORDER BY r.created_at, r.id;
  RETURN QUERY
    SELECT 'dispute_open'::text, d.id::text,
           floor(extract(epoch FROM now() - d.created_at))::bigint,
           format('%s of payment %s at %s (%s)', d.amount, d.payment_id, d.provider,
                  coalesce(d.reason, 'no reason given'))
      FROM disputes d WHERE d.status = 'open' ORDER BY d.created_at, d.id;
  RETURN QUERY
    SELECT 'bill_pending'::text, o.id::text,
           floor(extract(epoch FROM now() - o.created_at))::bigint,
           format('%s + fee %s %s to biller %s for %s, asked %s time(s)', o.amount, o.fee, o.currency,
                  o.biller_id, o.customer, o.attempts)
      FROM bill_payments o WHERE o.status = 'pending' AND o.created_at < now() - interval '10 minutes'
     ORDER BY o.created_at, o.id;
  RETURN QUERY
    SELECT 'adjustment_pending'::text, d.id::text,
           floor(extract(epoch FROM now() - d.created_at))::bigint,
           format('%s %s for %s by %s: %s', d.amount, d.currency, d.user_id, d.created_by, d.reason)
      FROM adjustments d WHERE d.status = 'pending' ORDER BY d.created_at, d.id;
  RETURN QUERY
    SELECT 'billing_past_due'::text, x.id::text,
           floor(extract(epoch FROM now() - x.updated_at))::bigint,
           format('%s of %s %s, period %s, past due since %s', x.kind, x.amount, x.currency,
                  x.period, tz_ts(x.past_due_since))
      FROM (SELECT 'subscription' AS kind, s.id, s.amount, s.currency, s.period,
                   s.past_due_since, s.updated_at
              FROM subscriptions s WHERE s.status = 'past_due'
            UNION ALL
            SELECT 'schedule', c.id, c.amount, c.currency, c.period, c.past_due_since,
                   c.updated_at
              FROM schedules c WHERE c.status = 'past_due') x
     ORDER BY x.past_due_since, x.id;
END $$;

CREATE OR REPLACE FUNCTION tz_api_reconciliation() RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (WITH checks(name) AS (VALUES ('entries_balanced'), ('cached_balances'),
                                       ('no_negative_wallets'), ('payments_credited'),
                                       ('payment_amounts'), ('split_entries'),
                                       ('payments_refunded'),
                                       ('payout_entries'), ('dispute_entries'),
                                       ('bill_entries'), ('transfer_entries'),
                                       ('adjustment_entries'), ('promotions_entries'),
                                       ('referral_entries'), ('billing_periods'),
                                       ('invoices_issued'), ('analytics_rollups')),
       m AS (SELECT * FROM tz_reconcile())
  SELECT json_build_object(
    'ok', NOT EXISTS (SELECT 1 FROM m), 'checked_at', tz_ts(now()),
    'settlement', tz_settlement_section(),
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
