-- 031: velocity limits on payments (docs/risk.md, "Velocity limits").
--
-- The limits are counted in each node's shared memory; what reaches the
-- database is the record of breaches, for the operators' list of offenders:
-- one row per kind, key and UTC hour, written once per key and counting
-- window (the first refusal of a window), never once per refused request.
-- The key is kept as its SHA-256 (what makes rows of one key one) and as
-- shown to operators (a payer's MSISDN or card masked to its last four).

CREATE TABLE IF NOT EXISTS velocity_breaches (
  kind       text NOT NULL CHECK (kind IN ('fan', 'ip', 'instrument', 'creator')),
  key_digest text NOT NULL CHECK (key_digest ~ '^[0-9a-f]{64}$'),
  key_shown  text NOT NULL,
  hour       timestamptz NOT NULL CHECK (date_trunc('hour', hour) = hour),
  breaches   integer NOT NULL DEFAULT 1 CHECK (breaches > 0),
  first_at   timestamptz NOT NULL,
  last_at    timestamptz NOT NULL CHECK (last_at >= first_at),
  PRIMARY KEY (kind, key_digest, hour)
);

CREATE INDEX IF NOT EXISTS velocity_breaches_hour_idx ON velocity_breaches (hour);
