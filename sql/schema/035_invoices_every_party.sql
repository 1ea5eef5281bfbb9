-- 035: invoices for every party (docs/invoices.md).
--
-- A co-creator of a split payment reads the invoices and credit notes of
-- the payments it shared, and an admin lists every invoice, newest first:
-- GET /invoices takes the caller's role, and two indexes serve those ways
-- in (by payment, whatever the kind; by issue time).

DROP FUNCTION IF EXISTS tz_api_invoices_list(uuid, int, bigint, uuid);
CREATE INDEX IF NOT EXISTS invoices_payment_all_idx ON invoices (payment_id);
CREATE INDEX IF NOT EXISTS invoices_issued_idx ON invoices (issued_at, id);
