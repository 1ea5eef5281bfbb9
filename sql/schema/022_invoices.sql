-- 022: invoices and credit notes (docs/invoices.md).
--
-- Every credited payment has an invoice, issued in the transaction that
-- credits it; every confirmed refund a credit note referring to it.  The
-- seller is the payment's creator (tips, memberships, schedules), or the
-- platform (TipzedInvoiceIssuer) for top-ups.  Numbers are gapless and
-- sequential per issuer, kind and year: invoice_counters' row is locked
-- and moved in the issuing transaction, so a rolled-back payment gives
-- its number back and concurrent ones queue.
--
-- The tax (TipzedTax) is fixed on the payment when it is made, as the fee
-- is: its name, rate, whether the price included it, and the amount of
-- tax within the payment's amount.

ALTER TABLE payments
  ADD COLUMN tax_name      text,
  ADD COLUMN tax_bps       int NOT NULL DEFAULT 0 CHECK (tax_bps BETWEEN 0 AND 10000),
  ADD COLUMN tax_inclusive boolean NOT NULL DEFAULT true,
  ADD COLUMN tax           bigint NOT NULL DEFAULT 0,
  -- the platform's name as seller of a top-up (TipzedInvoiceIssuer)
  ADD COLUMN issuer_name   text,
  ADD CONSTRAINT payments_tax CHECK (tax BETWEEN 0 AND amount
                                     AND (tax_name IS NOT NULL OR (tax = 0 AND tax_bps = 0)));

CREATE TABLE invoice_counters (
  issuer text NOT NULL,      -- a creator's id, or 'platform'
  kind   text NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
  year   int NOT NULL,
  last   int NOT NULL CHECK (last >= 1),
  PRIMARY KEY (issuer, kind, year)
);

CREATE TABLE invoices (
  id            uuid PRIMARY KEY,
  issuer        text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
  year          int NOT NULL,
  seq           int NOT NULL CHECK (seq >= 1),
  number        text NOT NULL,
  status        text NOT NULL CHECK (status IN ('paid', 'refunded', 'void')),
  payment_id    uuid NOT NULL REFERENCES payments (id),
  refund_id     uuid REFERENCES refunds (id),
  credit_for    uuid REFERENCES invoices (id),
  seller_id     uuid REFERENCES users (id),
  seller_name   text NOT NULL,
  buyer_id      uuid NOT NULL REFERENCES users (id),
  buyer_name    text NOT NULL,
  buyer_email   text NOT NULL,
  description   text NOT NULL,
  quantity      int NOT NULL DEFAULT 1 CHECK (quantity >= 1),
  unit_amount   bigint NOT NULL,
  subtotal      bigint NOT NULL,
  tax_name      text,
  tax_rate_bps  int NOT NULL DEFAULT 0,
  tax_inclusive boolean NOT NULL DEFAULT true,
  tax           bigint NOT NULL DEFAULT 0,
  total         bigint NOT NULL,
  currency      char(3) NOT NULL,
  issued_at     timestamptz NOT NULL DEFAULT now(),
  paid_at       timestamptz,
  UNIQUE (issuer, kind, year, seq),
  CONSTRAINT invoices_sums CHECK (subtotal = quantity * unit_amount AND total = subtotal + tax),
  CONSTRAINT invoices_credit_notes CHECK ((kind = 'credit_note') = (credit_for IS NOT NULL)
                                          AND (kind = 'credit_note') = (refund_id IS NOT NULL))
);
-- one invoice per payment, one credit note per refund
CREATE UNIQUE INDEX invoices_payment_idx ON invoices (payment_id) WHERE kind = 'invoice';
CREATE UNIQUE INDEX invoices_refund_idx ON invoices (refund_id) WHERE refund_id IS NOT NULL;
CREATE INDEX invoices_buyer_idx ON invoices (buyer_id, issued_at);
CREATE INDEX invoices_seller_idx ON invoices (seller_id, issued_at);

-- The functions that make payments learn the tax (and top-ups the issuer).
DROP FUNCTION IF EXISTS tz_api_payment_create(uuid, uuid, uuid, bigint, text, text, text, int,
                                              bigint, text, text, text, bigint, int, bigint,
                                              bigint, json);
DROP FUNCTION IF EXISTS tz_api_payment_wallet(uuid, uuid, uuid, bigint, text, text, int, int,
                                              bigint, bigint, text, json);
DROP FUNCTION IF EXISTS tz_api_topup_create(uuid, uuid, uuid, bigint, text, bigint, text, int,
                                            bigint, text, text, text, bigint, bigint);
DROP FUNCTION IF EXISTS tz_api_payment_quote(uuid, uuid, bigint, text, text, int, int, bigint);
DROP FUNCTION IF EXISTS tz_api_subscription_create(uuid, uuid, uuid, text, text, text, text,
                                                   boolean, int, int, bigint, bigint, text);
DROP FUNCTION IF EXISTS tz_api_schedule_create(uuid, uuid, uuid, bigint, text, text, int,
                                               timestamptz, text, text, text, text, text, json,
                                               boolean, int, int, bigint, bigint, text);
DROP FUNCTION IF EXISTS tz_api_billing_charge(text, uuid, boolean, bigint, int, int, bigint,
                                              bigint);
DROP FUNCTION IF EXISTS tz_api_billing_offer(text, uuid, uuid, text, int, int, bigint, bigint,
                                             bigint, bigint, text);
DROP FUNCTION IF EXISTS tz_billing_terms(int, int, bigint, bigint);

-- The payments credited before this step get their invoices, and their
-- confirmed refunds their credit notes, numbered in the order they were
-- credited (refunded) per issuer and year; they carry no tax.
INSERT INTO invoices (id, issuer, kind, year, seq, number, status, payment_id, seller_id,
                      seller_name, buyer_id, buyer_name, buyer_email, description, quantity,
                      unit_amount, subtotal, tax, total, currency, issued_at, paid_at)
SELECT gen_random_uuid(), x.issuer, 'invoice', x.y, x.n,
       format('TZ-%s-%s', x.y, lpad(x.n::text, greatest(6, length(x.n::text)), '0')),
       CASE WHEN x.status = 'refunded' THEN 'refunded' ELSE 'paid' END, x.id,
       CASE WHEN x.issuer = 'platform' THEN NULL ELSE x.creator_id END,
       CASE WHEN x.issuer = 'platform' THEN 'Tipzed' ELSE s.full_name END,
       b.id, b.full_name, b.email,
       CASE x.purpose WHEN 'topup' THEN 'Wallet top-up' WHEN 'subscription' THEN 'Membership of ' || s.full_name
                      WHEN 'schedule' THEN 'Scheduled payment to ' || s.full_name
                      ELSE 'Tip for ' || s.full_name END,
       1, x.amount, x.amount, 0, x.amount, x.currency, x.at, x.at
  FROM (SELECT p.*, q.at, q.y,
               row_number() OVER (PARTITION BY q.issuer, q.y ORDER BY q.at, p.id)::int AS n,
               q.issuer
          FROM payments p
          CROSS JOIN LATERAL (
            SELECT coalesce((SELECT e.created_at FROM journal_entries e
                              WHERE e.reference = 'payment:' || p.id || ':credit'),
                            p.updated_at) AS at,
                   CASE WHEN p.purpose = 'topup' THEN 'platform' ELSE p.creator_id::text END
                     AS issuer) q0
          CROSS JOIN LATERAL (SELECT q0.at, q0.issuer,
                                     extract(year FROM q0.at AT TIME ZONE 'UTC')::int AS y) q
         WHERE p.status IN ('succeeded', 'refund_pending', 'partially_refunded', 'refunded')) x
  JOIN users b ON b.id = x.fan_id
  JOIN users s ON s.id = x.creator_id;

INSERT INTO invoices (id, issuer, kind, year, seq, number, status, payment_id, refund_id,
                      credit_for, seller_id, seller_name, buyer_id, buyer_name, buyer_email,
                      description, quantity, unit_amount, subtotal, tax, total, currency,
                      issued_at, paid_at)
SELECT gen_random_uuid(), i.issuer, 'credit_note', r.y, r.n,
       format('CN-%s-%s', r.y, lpad(r.n::text, greatest(6, length(r.n::text)), '0')), 'paid', i.payment_id, r.id, i.id,
       i.seller_id, i.seller_name, i.buyer_id, i.buyer_name, i.buyer_email,
       'Refund: ' || i.description, 1, -r.amount, -r.amount, 0, -r.amount, i.currency,
       r.updated_at, r.updated_at
  FROM (SELECT rf.*, extract(year FROM rf.updated_at AT TIME ZONE 'UTC')::int AS y,
               row_number() OVER (PARTITION BY inv.issuer,
                                               extract(year FROM rf.updated_at AT TIME ZONE 'UTC')
                                  ORDER BY rf.updated_at, rf.id)::int AS n
          FROM refunds rf JOIN invoices inv ON inv.payment_id = rf.payment_id
         WHERE rf.status = 'succeeded') r
  JOIN invoices i ON i.payment_id = r.payment_id AND i.kind = 'invoice';

INSERT INTO invoice_counters (issuer, kind, year, last)
SELECT issuer, kind, year, max(seq) FROM invoices GROUP BY issuer, kind, year;
