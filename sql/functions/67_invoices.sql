-- Invoices and credit notes (docs/invoices.md).
--
-- tz_invoice_issue runs in the transaction that credits a payment
-- (tz_payment_succeeded), tz_invoice_credit in the one that posts a
-- confirmed refund (tz_refund_post).  Each takes its number from
-- invoice_counters: the row of (issuer, kind, year) is created or locked
-- and moved by one, so numbers are gapless (a rolled-back transaction
-- gives its number back with everything else) and sequential (concurrent
-- payments of one issuer queue on the row).  Invoices are numbered
-- TZ-<year>-<six digits>, credit notes CN-<year>-<six digits> (more digits
-- from the millionth on), per issuer:
-- the creator who sold (tips, memberships, schedules) or the platform
-- (top-ups).
--
-- Figures: one line, the price before tax (unit_amount = subtotal); the
-- tax; total = subtotal + tax = what was paid.  A credit note shows the
-- refund as negative figures, the tax taken back being the running share
-- of the invoice's tax (tz_takeback_share: partial refunds add up to the
-- whole tax exactly).

-- The next number of (issuer, kind, year).
CREATE OR REPLACE FUNCTION tz_invoice_next(p_issuer text, p_kind text, p_year int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  n int;
BEGIN
  INSERT INTO invoice_counters (issuer, kind, year, last) VALUES (p_issuer, p_kind, p_year, 1)
  ON CONFLICT (issuer, kind, year) DO UPDATE SET last = invoice_counters.last + 1
  RETURNING last INTO n;
  RETURN n;
END $$;

-- What a payment was for, as its invoice's line says it.
CREATE OR REPLACE FUNCTION tz_invoice_description(p payments) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
  creator text := (SELECT full_name FROM users WHERE id = p.creator_id);
  s subscriptions;
  c schedules;
BEGIN
  IF p.purpose = 'topup' THEN
    RETURN CASE WHEN p.bonus > 0 THEN format('Wallet top-up (with a bonus of %s)', p.bonus)
                ELSE 'Wallet top-up' END;
  ELSIF p.purpose = 'subscription' THEN
    SELECT * INTO s FROM subscriptions WHERE id = p.subscription_id;
    RETURN format('%s membership of %s, period %s (%s to %s)',
                  (SELECT name FROM plans WHERE id = s.plan_id), creator, p.period,
                  to_char(tz_period_start(s.anchor, s.interval, p.period - s.anchor_period)
                          AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                  to_char(tz_period_start(s.anchor, s.interval, p.period + 1 - s.anchor_period)
                          AT TIME ZONE 'UTC', 'YYYY-MM-DD'));
  ELSIF p.purpose = 'schedule' THEN
    SELECT * INTO c FROM schedules WHERE id = p.schedule_id;
    RETURN format('Scheduled payment %s%s to %s%s', p.period,
                  CASE WHEN c.count IS NOT NULL THEN ' of ' || c.count ELSE '' END, creator,
                  CASE WHEN c.message <> '' THEN ': ' || c.message ELSE '' END);
  END IF;
  RETURN 'Tip for ' || creator;
END $$;

-- Issues the invoice of a credited payment (once).
CREATE OR REPLACE FUNCTION tz_invoice_issue(p payments) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  platform boolean := p.purpose = 'topup';
  issuer text := CASE WHEN p.purpose = 'topup' THEN 'platform' ELSE p.creator_id::text END;
  y int := extract(year FROM now() AT TIME ZONE 'UTC')::int;
  n int;
  buyer users;
BEGIN
  IF EXISTS (SELECT 1 FROM invoices WHERE payment_id = p.id AND kind = 'invoice') THEN
    RETURN;
  END IF;
  SELECT * INTO buyer FROM users WHERE id = p.fan_id;
  n := tz_invoice_next(issuer, 'invoice', y);
  INSERT INTO invoices (id, issuer, kind, year, seq, number, status, payment_id, seller_id,
                        seller_name, buyer_id, buyer_name, buyer_email, description, quantity,
                        unit_amount, subtotal, tax_name, tax_rate_bps, tax_inclusive, tax, total,
                        currency, paid_at)
  VALUES (gen_random_uuid(), issuer, 'invoice', y, n, format('TZ-%s-%s', y, lpad(n::text, greatest(6, length(n::text)), '0')),
          'paid', p.id, CASE WHEN platform THEN NULL ELSE p.creator_id END,
          CASE WHEN platform THEN coalesce(p.issuer_name, 'Tipzed')
               ELSE (SELECT full_name FROM users WHERE id = p.creator_id) END,
          buyer.id, buyer.full_name, buyer.email, tz_invoice_description(p), 1,
          p.amount - p.tax, p.amount - p.tax, p.tax_name, p.tax_bps, p.tax_inclusive, p.tax,
          p.amount, p.currency, now());
END $$;

-- Issues the credit note of what a confirmed refund or a lost dispute took
-- back of payment p (p_refund or p_dispute, one of them; p_amount taken),
-- and marks the invoice refunded (by refunds alone) or void (a chargeback
-- took part) once nothing of the payment is left.  Its tax is the share of
-- the invoice's tax that the amounts taken so far carry, less what earlier
-- credit notes took, so that the notes' taxes sum to the invoice's.
CREATE OR REPLACE FUNCTION tz_invoice_credit(p payments, p_refund uuid, p_dispute uuid,
                                             p_amount bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  inv invoices;
  y int := extract(year FROM now() AT TIME ZONE 'UTC')::int;
  n int;
  done_total bigint;
  done_tax bigint;
  t bigint;
BEGIN
  SELECT * INTO inv FROM invoices WHERE payment_id = p.id AND kind = 'invoice' FOR UPDATE;
  IF inv.id IS NULL OR EXISTS (SELECT 1 FROM invoices
                                WHERE refund_id = p_refund OR dispute_id = p_dispute) THEN
    RETURN;
  END IF;
  SELECT coalesce(-sum(total), 0), coalesce(-sum(tax), 0) INTO done_total, done_tax
    FROM invoices WHERE credit_for = inv.id;
  t := tz_takeback_share(inv.tax, done_tax, inv.total, done_total + p_amount);
  n := tz_invoice_next(inv.issuer, 'credit_note', y);
  INSERT INTO invoices (id, issuer, kind, year, seq, number, status, payment_id, refund_id,
                        dispute_id, credit_for, seller_id, seller_name, buyer_id, buyer_name,
                        buyer_email, description, quantity, unit_amount, subtotal, tax_name,
                        tax_rate_bps, tax_inclusive, tax, total, currency, paid_at)
  VALUES (gen_random_uuid(), inv.issuer, 'credit_note', y, n,
          format('CN-%s-%s', y, lpad(n::text, greatest(6, length(n::text)), '0')), 'paid', p.id,
          p_refund, p_dispute, inv.id, inv.seller_id, inv.seller_name, inv.buyer_id,
          inv.buyer_name, inv.buyer_email,
          CASE WHEN p_refund IS NULL THEN 'Chargeback: ' ELSE 'Refund: ' END || inv.description,
          1, -(p_amount - t), -(p_amount - t), inv.tax_name, inv.tax_rate_bps, inv.tax_inclusive,
          -t, -p_amount, inv.currency, now());
  IF done_total + p_amount >= inv.total THEN
    UPDATE invoices
       SET status = CASE WHEN EXISTS (SELECT 1 FROM invoices c
                                       WHERE c.credit_for = inv.id AND c.dispute_id IS NOT NULL)
                         THEN 'void' ELSE 'refunded' END
     WHERE id = inv.id;
  END IF;
END $$;

CREATE OR REPLACE FUNCTION tz_invoice_json(i invoices) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN json_build_object(
    'id', i.id, 'number', i.number, 'kind', i.kind, 'status', i.status,
    'seller', json_build_object('id', i.seller_id, 'name', i.seller_name),
    'buyer', json_build_object('id', i.buyer_id, 'name', i.buyer_name, 'email', i.buyer_email),
    'lines', json_build_array(json_build_object('description', i.description,
                                                'quantity', i.quantity,
                                                'unit_amount', i.unit_amount,
                                                'amount', i.quantity * i.unit_amount)),
    'subtotal', i.subtotal, 'tax_name', i.tax_name, 'tax_rate_bps', i.tax_rate_bps,
    'tax_inclusive', i.tax_inclusive, 'tax', i.tax, 'total', i.total, 'currency', i.currency,
    'issued_at', tz_ts(i.issued_at), 'paid_at', tz_ts(i.paid_at), 'payment_id', i.payment_id,
    'refund_id', i.refund_id, 'dispute_id', i.dispute_id,
    'credit_for', (SELECT json_build_object('id', c.id, 'number', c.number)
                     FROM invoices c WHERE c.id = i.credit_for),
    -- the ledger entry the document stands for, as GET /receipts/{hash} finds it
    'entry_hash', (SELECT encode(e.hash, 'hex') FROM journal_entries e
                    WHERE e.reference = CASE WHEN i.kind = 'invoice'
                                             THEN 'payment:' || i.payment_id || ':credit'
                                             WHEN i.refund_id IS NOT NULL
                                             THEN 'refund:' || i.refund_id
                                             ELSE 'dispute:' || i.dispute_id || ':settle' END));
END $$;

-- Who may read an invoice: its buyer, its seller, a co-creator of a split
-- payment it belongs to (their share was sold by it), the account that
-- claimed the guest it was issued to (the document keeps naming the guest,
-- as issued), and an admin.
CREATE OR REPLACE FUNCTION tz_invoice_party(i invoices, p_user uuid) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN p_user IN (i.buyer_id, i.seller_id)
      OR EXISTS (SELECT 1 FROM payment_splits s
                  WHERE s.creator_id = p_user AND s.payment_id = i.payment_id)
      OR EXISTS (SELECT 1 FROM users g WHERE g.id = i.buyer_id AND g.claimed_by = p_user);
END $$;

-- GET /invoices/{id}: one of the caller's (tz_invoice_party), or any for an
-- admin; NULL otherwise (404: whether it exists is not told).
CREATE OR REPLACE FUNCTION tz_api_invoice_get(p_id uuid, p_user uuid, p_role text) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (SELECT tz_invoice_json(i) FROM invoices i
           WHERE i.id = p_id AND (p_role = 'admin' OR tz_invoice_party(i, p_user)));
END $$;

-- GET /invoices: the caller's (as buyer, as seller, as a co-creator of a
-- split payment, as the claimer of a guest), or every invoice for an admin, newest first (keyset on
-- (issued_at, id): after p_after, one the caller may read).  Each way in
-- is bounded by its own index before the union.
CREATE OR REPLACE FUNCTION tz_api_invoices_list(p_user uuid, p_role text, p_limit int,
                                                p_offset bigint, p_after uuid)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c_at timestamptz := 'infinity'; c_id uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
  v_n bigint := p_limit + 1 + p_offset;
  v_all boolean := p_role = 'admin';
BEGIN
  IF p_after IS NOT NULL THEN
    SELECT issued_at, id INTO c_at, c_id FROM invoices i
     WHERE id = p_after AND (v_all OR tz_invoice_party(i, p_user));
    IF NOT FOUND THEN RETURN json_build_object('error', 'starting_after'); END IF;
  END IF;
  RETURN (WITH page AS (
    SELECT tz_invoice_json(i) AS j, row_number() OVER () AS n FROM (
      SELECT * FROM invoices
       WHERE id IN (SELECT id FROM (
               (SELECT id, issued_at FROM invoices
                 WHERE v_all AND (issued_at, id) < (c_at, c_id)
                 ORDER BY issued_at DESC, id DESC LIMIT v_n)
               UNION
               (SELECT id, issued_at FROM invoices
                 WHERE NOT v_all AND buyer_id = p_user AND (issued_at, id) < (c_at, c_id)
                 ORDER BY issued_at DESC, id DESC LIMIT v_n)
               UNION
               (SELECT id, issued_at FROM invoices
                 WHERE NOT v_all AND seller_id = p_user AND (issued_at, id) < (c_at, c_id)
                 ORDER BY issued_at DESC, id DESC LIMIT v_n)
               UNION
               (SELECT i.id, i.issued_at FROM users g JOIN invoices i ON i.buyer_id = g.id
                 WHERE NOT v_all AND g.claimed_by = p_user AND (i.issued_at, i.id) < (c_at, c_id)
                 ORDER BY i.issued_at DESC, i.id DESC LIMIT v_n)
               UNION
               (SELECT i.id, i.issued_at FROM payment_splits s JOIN invoices i
                    ON i.payment_id = s.payment_id
                 WHERE NOT v_all AND s.creator_id = p_user AND (i.issued_at, i.id) < (c_at, c_id)
                 ORDER BY i.issued_at DESC, i.id DESC LIMIT v_n)) every_way
              ORDER BY issued_at DESC, id DESC LIMIT p_limit + 1 OFFSET p_offset)
       ORDER BY issued_at DESC, id DESC) i
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit));
END $$;
