-- Bench data set: 10,000 creators, 1,000 fans, 1,000,000 postings (500,000
-- balanced entries, psql variable entries; bench.py credits loads fewer), one "heavy" creator holding 100,000 of the wallet
-- postings, pending sandbox payments for the webhook scenario, funded fans'
-- wallets for wallet tips and transfers, and pending sandbox top-ups (a
-- third of them of a package with a bonus) for the top-up credit scenario.
-- Cached balances and balance_after are computed so that reconciliation
-- stays clean, and the entries are chained so that the chain verifies.
SET synchronous_commit = off;
INSERT INTO users (id, email, full_name, role, password_hash)
SELECT ('00000000-0000-4000-a000-' || lpad(to_hex(g), 12, '0'))::uuid,
       'creator' || g || '@bench.test', 'Creator ' || g, 'creator', 'x'
  FROM generate_series(1, 10000) g;
INSERT INTO users (id, email, full_name, role, password_hash)
SELECT ('00000000-0000-4000-b000-' || lpad(to_hex(g), 12, '0'))::uuid,
       'fan' || g || '@bench.test', 'Fan ' || g, 'fan', 'x'
  FROM generate_series(1, 1000) g;

SELECT tz_account('provider_clearing', NULL, 'sandbox', 'ZMW');
INSERT INTO accounts (kind, owner_id, currency)
SELECT 'wallet', id, 'ZMW' FROM users WHERE role = 'creator' ON CONFLICT DO NOTHING;

-- entry g credits creator (g % 10000) + 1, or the heavy creator 1 for every 5th entry
CREATE TEMP TABLE load_entries AS
SELECT g, nextval('journal_entries_id_seq') AS id, w.id AS wallet, b.amount
  FROM (SELECT g, CASE WHEN g % 5 = 0 THEN 1 ELSE g % 10000 + 1 END AS creator,
               100 + g % 900 AS amount
          FROM generate_series(1, :entries) g) b
  JOIN accounts w ON w.kind = 'wallet'
   AND w.owner_id = ('00000000-0000-4000-a000-' || lpad(to_hex(b.creator), 12, '0'))::uuid;
SELECT pg_temp.bench_load_entries('bench');

-- the group-commit ceiling's table: one small INSERT per transaction
CREATE TABLE bench_commit (id bigserial PRIMARY KEY, n int NOT NULL);

-- pending sandbox payments for the webhook scenarios (wrk and pgbench)
CREATE TABLE bench_pending (n int PRIMARY KEY, id uuid NOT NULL);
INSERT INTO bench_pending SELECT g, gen_random_uuid() FROM generate_series(1, 400000) g;
INSERT INTO payments (id, fan_id, creator_id, amount, currency, fee_bps, fee, net, provider, expires_at)
SELECT id, ('00000000-0000-4000-b000-' || lpad(to_hex(n % 1000 + 1), 12, '0'))::uuid,
       ('00000000-0000-4000-a000-' || lpad(to_hex(n % 10000 + 1), 12, '0'))::uuid,
       2500, 'ZMW', 1500, 375, 2125, 'sandbox', now() + interval '1 day'
  FROM bench_pending;

-- Wallet tips and transfers: each fan's main balance holds 100,000.00,
-- posted through tz_post_entry as an adjustment from the adjustments
-- account.  The accounts a wallet tip locks exist already, as they do in
-- service (a first use would otherwise create them during the run): the
-- fans' cashback balances, the creators' receivables, promotions, fees.
SELECT count(tz_account(k, NULL, NULL, 'ZMW'))
  FROM unnest(ARRAY['adjustments', 'promotions', 'platform_fees']) k;
INSERT INTO accounts (kind, owner_id, currency)
SELECT 'cashback', id, 'ZMW' FROM users WHERE role = 'fan' ON CONFLICT DO NOTHING;
INSERT INTO accounts (kind, owner_id, currency)
SELECT 'creator_receivable', id, 'ZMW' FROM users WHERE role = 'creator' ON CONFLICT DO NOTHING;
SELECT count(f.entry_id) FROM users u,
       LATERAL tz_post_entry('bench:fund:' || u.id, 'adjustment', NULL, NULL, 'ZMW',
                             ARRAY[tz_account('adjustments', NULL, NULL, 'ZMW'),
                                   tz_account('wallet', u.id, NULL, 'ZMW')],
                             ARRAY[-10000000, 10000000]::bigint[]) f
 WHERE u.role = 'fan';

-- pending sandbox top-ups for the top-up credit scenarios (wrk and
-- pgbench), as POST /wallets/me/topup makes them (no fee by default, the
-- payer's own wallet as recipient, the referral bonus of the moment); every
-- third one buys a package of 100.00 with a bonus of 15.00 from promotions
INSERT INTO packages (id, name, amount, currency, bonus)
VALUES ('00000000-0000-4000-c000-000000000001', 'Bench Gold', 10000, 'ZMW', 1500);
CREATE TABLE bench_topups (n int PRIMARY KEY, id uuid NOT NULL);
INSERT INTO bench_topups SELECT g, gen_random_uuid() FROM generate_series(1, 200000) g;
INSERT INTO payments (id, fan_id, creator_id, amount, currency, fee_bps, fee, net, provider,
                      expires_at, purpose, package_id, bonus, referral_bonus)
SELECT id, fan, fan, amount, 'ZMW', 0, 0, amount, 'sandbox', now() + interval '1 day', 'topup',
       CASE WHEN pkg THEN '00000000-0000-4000-c000-000000000001'::uuid END,
       CASE WHEN pkg THEN 1500 ELSE 0 END, 500
  FROM (SELECT id, ('00000000-0000-4000-b000-' || lpad(to_hex(n % 1000 + 1), 12, '0'))::uuid AS fan,
               n % 3 = 0 AS pkg, CASE WHEN n % 3 = 0 THEN 10000 ELSE 5000 END AS amount
          FROM bench_topups) t;
VACUUM ANALYZE;
