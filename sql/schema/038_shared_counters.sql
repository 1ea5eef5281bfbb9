-- 038: the login rate limit and the payment velocity counters shared by
-- every node (TipzedSharedCounters database; docs/risk.md, "Counters
-- shared by several nodes").
--
-- One row per store and key: the end of the key's current fixed window
-- and the attempts counted in it.  The key is kept as its SHA-256 (an
-- address, an email or a card fingerprint is never stored in clear).
-- UNLOGGED: a counter is not a record, it costs no WAL, and after a crash
-- of PostgreSQL (not after a clean restart) the table starts empty, which
-- lets at most one window's attempts through again, as a node's restart
-- does with the counters in its shared memory.

CREATE UNLOGGED TABLE IF NOT EXISTS rate_counters (
  store      text NOT NULL CHECK (store IN ('login', 'velocity')),
  key_digest bytea NOT NULL CHECK (length(key_digest) = 32),
  window_end bigint NOT NULL,
  count      integer NOT NULL CHECK (count >= 0),
  PRIMARY KEY (store, key_digest)
);

CREATE INDEX IF NOT EXISTS rate_counters_end_idx ON rate_counters (window_end);
