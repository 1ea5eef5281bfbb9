-- 021: a hash chain over the ledger (docs/receipts.md).
--
-- Every journal entry carries hash = SHA-256 of its canonical text (its
-- id, reference, kind, payment, payout, currency, time and postings)
-- followed by prev_hash, the hash of the entry before it in the chain (the
-- first entry has none).  Changing anything an entry says, or removing or
-- inserting an entry, changes hashes that were handed out before: each
-- hash vouches for everything posted up to it.
--
-- The chain's order is the order of entry ids: tz_post_entry() draws an
-- entry's id while it holds the lock on chain_head, the one row naming
-- the chain's last entry and its hash (sql/functions/30_ledger.sql).

ALTER TABLE journal_entries ADD COLUMN hash bytea, ADD COLUMN prev_hash bytea;

-- One row: the last entry of the chain and its hash, both NULL while the
-- ledger is empty.  Every posting locks it, links its entry to it and moves
-- it, in the posting's transaction.
CREATE TABLE chain_head (
  id       boolean PRIMARY KEY DEFAULT true CHECK (id),
  entry_id bigint,
  hash     bytea,
  CONSTRAINT chain_head_whole CHECK ((entry_id IS NULL) = (hash IS NULL))
);
INSERT INTO chain_head DEFAULT VALUES;

-- The entries posted before this step, chained in id order.  The canonical
-- text is spelled out here as tz_entry_canonical() and tz_entry_hash()
-- write it (sql/functions/30_ledger.sql): the function files are applied
-- after the schema steps, so neither exists yet when this step runs.
-- tests/integration/test_migrate_upgrade.py checks that a chain made here
-- verifies with those functions.  The entries are append-only, so their
-- triggers are disabled for the one UPDATE (on a new database there are
-- neither triggers nor entries yet).
CREATE TEMP TABLE chain_fill (id bigint PRIMARY KEY, hash bytea NOT NULL, prev_hash bytea)
  ON COMMIT DROP;
DO $$
DECLARE
  r record;
  canonical text;
  prev bytea;
  h bytea;
  last_id bigint;
BEGIN
  FOR r IN
    SELECT e.id, e.reference, e.kind, e.payment_id, e.payout_id, e.created_at,
           p.currency, p.accounts, p.amounts
      FROM journal_entries e
      LEFT JOIN (SELECT entry_id,
                        string_agg(DISTINCT currency::text, ',' ORDER BY currency::text) AS currency,
                        array_agg(account_id ORDER BY id) AS accounts,
                        array_agg(amount ORDER BY id) AS amounts
                   FROM postings GROUP BY entry_id) p ON p.entry_id = e.id
     ORDER BY e.id
  LOOP
    canonical := format(E'tipzed-entry-v1\nid %s\nreference %s\nkind %s\npayment %s\npayout %s\n'
                        || E'currency %s\ncreated_at %s\n',
                        r.id, to_json(r.reference)::text, r.kind,
                        coalesce(r.payment_id::text, '-'), coalesce(r.payout_id::text, '-'),
                        coalesce(r.currency, '-'),
                        to_char(r.created_at AT TIME ZONE 'UTC',
                                'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'));
    FOR i IN 1 .. coalesce(cardinality(r.accounts), 0) LOOP
      canonical := canonical || format(E'posting %s %s\n', r.accounts[i], r.amounts[i]);
    END LOOP;
    h := sha256(convert_to(canonical, 'UTF8') || coalesce(prev, '\x'::bytea));
    INSERT INTO chain_fill VALUES (r.id, h, prev);
    prev := h;
    last_id := r.id;
  END LOOP;
  UPDATE chain_head SET entry_id = last_id, hash = prev;
END $$;

ALTER TABLE journal_entries DISABLE TRIGGER USER;
UPDATE journal_entries e SET hash = f.hash, prev_hash = f.prev_hash
  FROM chain_fill f WHERE f.id = e.id;
ALTER TABLE journal_entries ENABLE TRIGGER USER;

ALTER TABLE journal_entries ALTER COLUMN hash SET NOT NULL;
-- also the index GET /receipts/{hash} looks an entry up by
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_hash_key UNIQUE (hash);
