-- 036: a lost dispute issues a credit note (docs/invoices.md).
--
-- A chargeback the provider won takes the money back as a refund does, so
-- the books need the same document: a credit note for the disputed amount,
-- issued when the dispute is lost, and the invoice marked void once
-- nothing of the payment is left.  A credit note stands for exactly one
-- refund or one lost dispute.  The disputes already lost get theirs now,
-- in the order they were settled, numbered after what was issued.

DROP FUNCTION IF EXISTS tz_invoice_credit(payments, refunds);
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS dispute_id uuid REFERENCES disputes (id);
CREATE UNIQUE INDEX IF NOT EXISTS invoices_dispute_idx ON invoices (dispute_id)
  WHERE dispute_id IS NOT NULL;
ALTER TABLE invoices DROP CONSTRAINT invoices_credit_notes;
ALTER TABLE invoices ADD CONSTRAINT invoices_credit_notes
  CHECK ((kind = 'credit_note') = (credit_for IS NOT NULL)
         AND (kind = 'credit_note') = ((refund_id IS NOT NULL) <> (dispute_id IS NOT NULL))
         AND (kind = 'credit_note' OR (refund_id IS NULL AND dispute_id IS NULL)));

-- The backfill is written out here, not a call of tz_invoice_credit():
-- a step is fixed once released, while a function may change later, and
-- function files are applied after the steps.  It uses only the stable
-- helpers of the release before (tz_invoice_next, tz_takeback_share).  A
-- fresh database has no dispute, so nothing here runs there.
DO $$
DECLARE
  d record;
  inv invoices;
  y int := extract(year FROM now() AT TIME ZONE 'UTC')::int;
  n int;
  done_total bigint;
  done_tax bigint;
  t bigint;
BEGIN
  FOR d IN SELECT x.* FROM disputes x
            WHERE x.status = 'lost' AND x.amount > 0
              AND NOT EXISTS (SELECT 1 FROM invoices WHERE dispute_id = x.id)
            ORDER BY x.updated_at, x.id LOOP
    SELECT * INTO inv FROM invoices WHERE payment_id = d.payment_id AND kind = 'invoice';
    CONTINUE WHEN inv.id IS NULL;
    SELECT coalesce(-sum(total), 0), coalesce(-sum(tax), 0) INTO done_total, done_tax
      FROM invoices WHERE credit_for = inv.id;
    t := tz_takeback_share(inv.tax, done_tax, inv.total, done_total + d.amount);
    n := tz_invoice_next(inv.issuer, 'credit_note', y);
    INSERT INTO invoices (id, issuer, kind, year, seq, number, status, payment_id, dispute_id,
                          credit_for, seller_id, seller_name, buyer_id, buyer_name, buyer_email,
                          description, quantity, unit_amount, subtotal, tax_name, tax_rate_bps,
                          tax_inclusive, tax, total, currency, paid_at)
    VALUES (gen_random_uuid(), inv.issuer, 'credit_note', y, n,
            format('CN-%s-%s', y, lpad(n::text, greatest(6, length(n::text)), '0')), 'paid',
            inv.payment_id, d.id, inv.id, inv.seller_id, inv.seller_name, inv.buyer_id,
            inv.buyer_name, inv.buyer_email, 'Chargeback: ' || inv.description, 1,
            -(d.amount - t), -(d.amount - t), inv.tax_name, inv.tax_rate_bps, inv.tax_inclusive,
            -t, -d.amount, inv.currency, d.updated_at);
    IF done_total + d.amount >= inv.total THEN
      UPDATE invoices SET status = 'void' WHERE id = inv.id;
    END IF;
  END LOOP;
END $$;
