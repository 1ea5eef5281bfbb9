-- The keyset scenario's data (tests/bench/keyset.py): one creator whose
-- wallet holds 100,000 lines, loaded by entries.sql.
SET synchronous_commit = off;
INSERT INTO users (id, email, full_name, role, password_hash)
VALUES ('00000000-0000-4000-c000-000000000001', 'keyset@bench.test', 'Keyset Creator', 'creator', 'x')
ON CONFLICT DO NOTHING;
SELECT tz_account('provider_clearing', NULL, 'sandbox', 'ZMW');
SELECT tz_account('wallet', '00000000-0000-4000-c000-000000000001', NULL, 'ZMW');

CREATE TEMP TABLE load_entries AS
SELECT g, nextval('journal_entries_id_seq') AS id,
       tz_account('wallet', '00000000-0000-4000-c000-000000000001', NULL, 'ZMW') AS wallet,
       100 + g % 900 AS amount
  FROM generate_series(1, 100000) g;
SELECT pg_temp.bench_load_entries('keyset');
ANALYZE postings;
ANALYZE journal_entries;
