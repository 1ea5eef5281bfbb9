-- Bench data of the analytics scenario (tests/bench/analytics.py): a year
-- of tips, 120,000 succeeded payments spread evenly over the last 365 days
-- (one every ~263 s), from the 1,000 seeded fans to the heavy creator 1
-- (half of them, paid by 500 of the fans) and to the others; each with
-- its credit entry of three postings (the sandbox's clearing -G, fees +F,
-- the creator's wallet +G-F), 360,000 postings beside the 1,000,000 of
-- seed.sql.
--
-- A bulk load, not the API's path: the entries are chained in id order as
-- tz_post_entry() chains them, balance_after continues each account's
-- running sum, cached balances and creator_stats move by the same sums,
-- and each payment gets its invoice (as tz_invoice_issue writes it), so that
-- reconciliation and the chain stay clean.  The outbox triggers are off
-- during the load: these are not events that happened now.  The rollups
-- are then built by schema step 024's own backfill (the scenario runs it
-- and times it), as for a database migrated with a year of history.
SET synchronous_commit = off;
CREATE TEMP TABLE ab AS
SELECT g, gen_random_uuid() AS pid, nextval('journal_entries_id_seq') AS id,
       ('00000000-0000-4000-b000-' || lpad(to_hex(g % 1000 + 1), 12, '0'))::uuid AS fan,
       ('00000000-0000-4000-a000-' || lpad(to_hex(CASE WHEN g % 2 = 0 THEN 1 ELSE g % 10000 + 1 END),
                                           12, '0'))::uuid AS creator,
       100 + g % 4900 AS amount,
       now() - interval '365 days' + g * interval '262.8 seconds' AS t
  FROM generate_series(1, 120000) g ORDER BY g;
ALTER TABLE ab ADD COLUMN fee bigint, ADD COLUMN wallet bigint;
UPDATE ab SET fee = tz_fee(amount, 1500),
              wallet = (SELECT id FROM accounts WHERE kind = 'wallet' AND owner_id = creator
                           AND currency = 'ZMW');

ALTER TABLE payments DISABLE TRIGGER payments_announce_insert;
INSERT INTO payments (id, fan_id, creator_id, amount, currency, fee_bps, fee, net, status, provider,
                      provider_transaction_id, expires_at, created_at, updated_at)
SELECT pid, fan, creator, amount, 'ZMW', 1500, fee, amount - fee, 'succeeded', 'sandbox',
       'bench-' || g, t + interval '1 day', t, t
  FROM ab;
ALTER TABLE payments ENABLE TRIGGER payments_announce_insert;

ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_balanced;
DO $$
DECLARE
  r record;
  clearing bigint := tz_account('provider_clearing', NULL, 'sandbox', 'ZMW');
  fees bigint := tz_account('platform_fees', NULL, NULL, 'ZMW');
  prev bytea := (SELECT hash FROM chain_lanes WHERE lane = 0 FOR UPDATE);
  h bytea;
BEGIN
  FOR r IN SELECT * FROM ab ORDER BY id LOOP
    h := tz_entry_hash(tz_entry_canonical(r.id, 'payment:' || r.pid || ':credit', 'payment', r.pid,
                                          NULL, 'ZMW', r.t, ARRAY[clearing, fees, r.wallet],
                                          ARRAY[-r.amount, r.fee, r.amount - r.fee]), prev);
    INSERT INTO journal_entries (id, reference, kind, payment_id, created_at, hash, prev_hash)
    VALUES (r.id, 'payment:' || r.pid || ':credit', 'payment', r.pid, r.t, h, prev);
    prev := h;
  END LOOP;
  UPDATE chain_lanes SET entry_id = (SELECT max(id) FROM ab), hash = prev WHERE lane = 0;
END $$;

-- the legs in the order tz_post_entry() inserts them (clearing, fees,
-- wallet) so that posting ids follow the entry's canonical text, all in
-- lane 0; balance_after continues from each account's cached balance (a
-- system account's: its lane 0 sub-balance)
ALTER TABLE postings DISABLE TRIGGER postings_balanced;
CREATE TEMP TABLE legs AS
SELECT ab.id AS entry_id, l.n, l.account_id, l.amount, ab.t
  FROM ab, LATERAL (VALUES (1, (SELECT id FROM accounts WHERE kind = 'provider_clearing'
                                  AND provider = 'sandbox' AND currency = 'ZMW'), -ab.amount),
                           (2, (SELECT id FROM accounts WHERE kind = 'platform_fees'
                                  AND currency = 'ZMW'), ab.fee),
                           (3, ab.wallet, ab.amount - ab.fee)) AS l(n, account_id, amount)
 WHERE l.amount <> 0;
INSERT INTO postings (entry_id, account_id, amount, currency, balance_after, created_at)
SELECT l.entry_id, l.account_id, l.amount, 'ZMW',
       coalesce(s.balance, a.balance)
         + sum(l.amount) OVER (PARTITION BY l.account_id ORDER BY l.entry_id, l.n), l.t
  FROM legs l JOIN accounts a ON a.id = l.account_id
  LEFT JOIN account_lanes s ON s.account_id = a.id AND s.lane = 0
 ORDER BY l.entry_id, l.n;
ALTER TABLE postings ENABLE TRIGGER postings_balanced;
ALTER TABLE journal_entries ENABLE TRIGGER journal_entries_balanced;
UPDATE accounts a SET balance = a.balance + s.total
  FROM (SELECT account_id, sum(amount) AS total FROM legs GROUP BY account_id) s
 WHERE s.account_id = a.id AND a.owner_id IS NOT NULL;
UPDATE account_lanes a SET balance = a.balance + s.total
  FROM (SELECT account_id, sum(amount) AS total FROM legs GROUP BY account_id) s
 WHERE s.account_id = a.account_id AND a.lane = 0;
INSERT INTO creator_stats AS c (creator_id, currency, earnings)
SELECT creator, 'ZMW', sum(amount - fee) FROM ab GROUP BY creator
ON CONFLICT (creator_id, currency) DO UPDATE SET earnings = c.earnings + excluded.earnings;

-- Invoices as tz_invoice_issue() writes them, set-based: one issue per
-- payment would move the heavy creator's invoice_counters row 60,000
-- times in one transaction, each update walking the row's versions so far.
-- Numbers continue each creator's series of this year without a gap.
CREATE TEMP TABLE numbered AS
SELECT p.*, coalesce(c.last, 0) + row_number() OVER (PARTITION BY p.creator_id ORDER BY p.created_at, p.id)
         AS seq,
       extract(year FROM now() AT TIME ZONE 'UTC')::int AS y
  FROM payments p JOIN ab ON ab.pid = p.id
  LEFT JOIN invoice_counters c ON c.issuer = p.creator_id::text AND c.kind = 'invoice'
        AND c.year = extract(year FROM now() AT TIME ZONE 'UTC')::int;
ALTER TABLE invoices DISABLE TRIGGER invoices_announce;
INSERT INTO invoices (id, issuer, kind, year, seq, number, status, payment_id, seller_id,
                      seller_name, buyer_id, buyer_name, buyer_email, description, quantity,
                      unit_amount, subtotal, tax_name, tax_rate_bps, tax_inclusive, tax, total,
                      currency, paid_at)
SELECT gen_random_uuid(), n.creator_id::text, 'invoice', n.y, n.seq,
       format('TZ-%s-%s', n.y, lpad(n.seq::text, greatest(6, length(n.seq::text)), '0')), 'paid',
       n.id, n.creator_id, s.full_name, b.id, b.full_name, b.email, 'Tip for ' || s.full_name, 1,
       n.amount - n.tax, n.amount - n.tax, n.tax_name, n.tax_bps, n.tax_inclusive, n.tax, n.amount,
       n.currency, now()
  FROM numbered n JOIN users s ON s.id = n.creator_id JOIN users b ON b.id = n.fan_id;
ALTER TABLE invoices ENABLE TRIGGER invoices_announce;
INSERT INTO invoice_counters AS c (issuer, kind, year, last)
SELECT creator_id::text, 'invoice', y, max(seq) FROM numbered GROUP BY creator_id, y
ON CONFLICT (issuer, kind, year) DO UPDATE SET last = excluded.last;
VACUUM ANALYZE payments;
VACUUM ANALYZE journal_entries;
VACUUM ANALYZE postings;
