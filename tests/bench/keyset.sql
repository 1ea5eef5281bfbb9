-- The keyset scenario's data (tests/bench/keyset.py): one creator whose
-- wallet holds 100,000 lines, each a balanced entry from the sandbox's
-- clearing account, chained as tz_post_entry() chains entries, with
-- balance_after and the cached balances computed, so that reconciliation
-- stays clean and the chain verifies.
SET synchronous_commit = off;
INSERT INTO users (id, email, full_name, role, password_hash)
VALUES ('00000000-0000-4000-c000-000000000001', 'keyset@bench.test', 'Keyset Creator', 'creator', 'x')
ON CONFLICT DO NOTHING;
SELECT tz_account('provider_clearing', NULL, 'sandbox', 'ZMW');
SELECT tz_account('wallet', '00000000-0000-4000-c000-000000000001', NULL, 'ZMW');

CREATE TEMP TABLE keyset_entries AS
SELECT g, nextval('journal_entries_id_seq') AS id,
       tz_account('wallet', '00000000-0000-4000-c000-000000000001', NULL, 'ZMW') AS wallet,
       100 + g % 900 AS amount
  FROM generate_series(1, 100000) g;
ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_balanced;
DO $$
DECLARE
  r record;
  t timestamptz := now();
  clearing bigint := tz_account('provider_clearing', NULL, 'sandbox', 'ZMW');
  prev bytea := (SELECT hash FROM chain_head);
  h bytea;
BEGIN
  FOR r IN SELECT * FROM keyset_entries ORDER BY id LOOP
    h := tz_entry_hash(tz_entry_canonical(r.id, 'keyset:' || r.g, 'adjustment', NULL, NULL, 'ZMW', t,
                                          ARRAY[r.wallet, clearing], ARRAY[r.amount, -r.amount]),
                       prev);
    INSERT INTO journal_entries (id, reference, kind, created_at, hash, prev_hash)
    VALUES (r.id, 'keyset:' || r.g, 'adjustment', t, h, prev);
    prev := h;
  END LOOP;
  UPDATE chain_head SET entry_id = (SELECT max(id) FROM keyset_entries), hash = prev;
END $$;
ALTER TABLE postings DISABLE TRIGGER postings_balanced;
INSERT INTO postings (entry_id, account_id, amount, currency, balance_after)
SELECT id, wallet, amount, 'ZMW', 0 FROM keyset_entries ORDER BY id;
INSERT INTO postings (entry_id, account_id, amount, currency, balance_after)
SELECT k.id, tz_account('provider_clearing', NULL, 'sandbox', 'ZMW'), -k.amount, 'ZMW', 0
  FROM keyset_entries k ORDER BY k.id;
ALTER TABLE postings ENABLE TRIGGER postings_balanced;
ALTER TABLE journal_entries ENABLE TRIGGER journal_entries_balanced;
-- balance_after is a seeded column here only; the API writes it through tz_post_entry
ALTER TABLE postings DISABLE TRIGGER postings_immutable;
UPDATE postings p SET balance_after = s.running
  FROM (SELECT id, sum(amount) OVER (PARTITION BY account_id ORDER BY id) AS running
          FROM postings WHERE account_id IN (SELECT DISTINCT wallet FROM keyset_entries
                                             UNION SELECT tz_account('provider_clearing', NULL,
                                                                     'sandbox', 'ZMW'))) s
 WHERE s.id = p.id AND p.entry_id IN (SELECT id FROM keyset_entries);
ALTER TABLE postings ENABLE TRIGGER postings_immutable;
UPDATE accounts a SET balance = s.total
  FROM (SELECT account_id, sum(amount) AS total FROM postings
         WHERE account_id IN (SELECT p.account_id FROM postings p
                               WHERE p.entry_id = (SELECT min(id) FROM keyset_entries))
         GROUP BY account_id) s
 WHERE s.account_id = a.id;
ANALYZE postings;
ANALYZE journal_entries;
