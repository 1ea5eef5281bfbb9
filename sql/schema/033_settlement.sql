-- 033: settlement reconciliation (docs/settlement.md).
--
-- A provider's settlement report is imported with `tipzedctl settlement
-- import`: one settlement_imports row per file (unique per provider and
-- SHA-256 of the file, so the same file imported again changes nothing),
-- one settlement_lines row per line (unique per provider and the
-- provider's line id, so a line in two overlapping exports is stored
-- once).  A line that comes again with other figures is not overwritten:
-- the first version stays, the later one is kept in settlement_conflicts
-- and reported, because an operator decides which is right.

CREATE TABLE settlement_imports (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  provider          text NOT NULL,
  file_name         text NOT NULL,
  file_sha256       text NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
  -- a credited payment without a line is reported once it is this old
  unsettled_days    int NOT NULL CHECK (unsettled_days BETWEEN 0 AND 3650),
  lines_total       int NOT NULL CHECK (lines_total >= 0),
  lines_new         int NOT NULL CHECK (lines_new >= 0),
  lines_conflicting int NOT NULL CHECK (lines_conflicting >= 0),
  imported_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, file_sha256)
);

CREATE TABLE settlement_lines (
  provider     text NOT NULL,
  line_id      text NOT NULL CHECK (length(line_id) BETWEEN 1 AND 255),
  import_id    bigint NOT NULL REFERENCES settlement_imports (id),
  kind         text NOT NULL
               CHECK (kind IN ('payment', 'refund', 'dispute', 'fee', 'payout', 'other')),
  ref          text,          -- the provider's id of the object
  our_id       uuid,          -- our payment (refund lines: refund) id, when the line names it
  amount       bigint NOT NULL,
  fee          bigint NOT NULL,
  currency     char(3) NOT NULL,
  created_at   timestamptz,
  expected_fee bigint,        -- from the fee terms given to the import, payment lines
  digest       text NOT NULL, -- of the figures above: tells a changed line from the same
  PRIMARY KEY (provider, line_id)
);
CREATE INDEX settlement_lines_our_idx ON settlement_lines (our_id) WHERE our_id IS NOT NULL;
CREATE INDEX settlement_lines_ref_idx ON settlement_lines (provider, ref) WHERE ref IS NOT NULL;

CREATE TABLE settlement_conflicts (
  provider    text NOT NULL,
  line_id     text NOT NULL,
  import_id   bigint NOT NULL REFERENCES settlement_imports (id),
  digest      text NOT NULL,
  line        jsonb NOT NULL, -- the later version, as read
  PRIMARY KEY (provider, line_id, digest),
  FOREIGN KEY (provider, line_id) REFERENCES settlement_lines (provider, line_id)
);

-- The settlement check finds a provider's payments by their provider ids.
CREATE INDEX IF NOT EXISTS payments_provider_ref_idx ON payments (provider, provider_ref)
  WHERE provider_ref IS NOT NULL;
CREATE INDEX IF NOT EXISTS refunds_provider_refund_idx ON refunds (provider_refund_id)
  WHERE provider_refund_id IS NOT NULL;
