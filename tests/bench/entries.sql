-- Bulk ledger load shared by the bench's data sets (seed.sql, keyset.sql):
-- the entries of the temporary table load_entries (g, id, wallet, amount),
-- each a balanced entry from the sandbox's clearing account to the wallet,
-- chained as tz_post_entry() chains them (in id order from lane 0's
-- head, in lane 0, with the canonical text of their two postings: the wallet's, then
-- the clearing account's), with balance_after and the cached balances of
-- the accounts touched computed, so that reconciliation stays clean and the
-- chain verifies.  References are p_tag || ':' || g.
CREATE FUNCTION pg_temp.bench_load_entries(p_tag text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  t timestamptz := now();
  clearing bigint := tz_account('provider_clearing', NULL, 'sandbox', 'ZMW');
  prev bytea := (SELECT hash FROM chain_lanes WHERE lane = 0);
  h bytea;
BEGIN
  ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_balanced;
  FOR r IN SELECT * FROM load_entries ORDER BY id LOOP
    h := tz_entry_hash(tz_entry_canonical(r.id, p_tag || ':' || r.g, 'adjustment', NULL, NULL, 'ZMW',
                                          t, ARRAY[r.wallet, clearing], ARRAY[r.amount, -r.amount]),
                       prev);
    INSERT INTO journal_entries (id, reference, kind, created_at, hash, prev_hash)
    VALUES (r.id, p_tag || ':' || r.g, 'adjustment', t, h, prev);
    prev := h;
  END LOOP;
  UPDATE chain_lanes SET entry_id = (SELECT max(id) FROM load_entries), hash = prev WHERE lane = 0;
  ALTER TABLE postings DISABLE TRIGGER postings_balanced;
  INSERT INTO postings (entry_id, account_id, amount, currency, balance_after)
  SELECT id, wallet, amount, 'ZMW', 0 FROM load_entries ORDER BY id;
  INSERT INTO postings (entry_id, account_id, amount, currency, balance_after)
  SELECT id, clearing, -amount, 'ZMW', 0 FROM load_entries ORDER BY id;
  ALTER TABLE postings ENABLE TRIGGER postings_balanced;
  ALTER TABLE journal_entries ENABLE TRIGGER journal_entries_balanced;
  -- balance_after is a seeded column here only; the API writes it through tz_post_entry
  CREATE TEMP TABLE load_accounts AS
  SELECT DISTINCT wallet AS id FROM load_entries UNION SELECT clearing;
  ALTER TABLE postings DISABLE TRIGGER postings_immutable;
  UPDATE postings p SET balance_after = s.running
    FROM (SELECT id, sum(amount) OVER (PARTITION BY account_id, lane ORDER BY id) AS running
            FROM postings WHERE account_id IN (SELECT id FROM load_accounts)) s
   WHERE s.id = p.id AND p.entry_id IN (SELECT id FROM load_entries);
  ALTER TABLE postings ENABLE TRIGGER postings_immutable;
  UPDATE accounts a SET balance = s.total
    FROM (SELECT account_id, sum(amount) AS total FROM postings
           WHERE account_id IN (SELECT id FROM load_accounts) GROUP BY account_id) s
   WHERE s.account_id = a.id AND a.owner_id IS NOT NULL;
  -- the clearing account's postings are all of lane 0 (the column's default)
  UPDATE account_lanes a SET balance = s.total
    FROM (SELECT account_id, sum(amount) AS total FROM postings
           WHERE account_id = clearing AND lane = 0 GROUP BY account_id) s
   WHERE s.account_id = a.account_id AND a.lane = 0;
  DROP TABLE load_accounts;
END $$;
