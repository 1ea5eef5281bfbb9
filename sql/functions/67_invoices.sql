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

-- Issues the credit note of a confirmed refund rf of payment p (p with
-- its totals after the refund), and marks the invoice refunded when
-- nothing of the payment is left.
CREATE OR REPLACE FUNCTION tz_invoice_credit(p payments, rf refunds) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  inv invoices;
  y int := extract(year FROM now() AT TIME ZONE 'UTC')::int;
  n int;
  done bigint;
  t bigint;
BEGIN
  SELECT * INTO inv FROM invoices WHERE payment_id = p.id AND kind = 'invoice' FOR UPDATE;
  IF inv.id IS NULL OR EXISTS (SELECT 1 FROM invoices WHERE refund_id = rf.id) THEN
    RETURN;
  END IF;
  done := coalesce((SELECT -sum(tax) FROM invoices WHERE credit_for = inv.id), 0);
  t := tz_takeback_share(inv.tax, done, inv.total, p.refunded_amount);
  n := tz_invoice_next(inv.issuer, 'credit_note', y);
  INSERT INTO invoices (id, issuer, kind, year, seq, number, status, payment_id, refund_id,
                        credit_for, seller_id, seller_name, buyer_id, buyer_name, buyer_email,
                        description, quantity, unit_amount, subtotal, tax_name, tax_rate_bps,
                        tax_inclusive, tax, total, currency, paid_at)
  VALUES (gen_random_uuid(), inv.issuer, 'credit_note', y, n,
          format('CN-%s-%s', y, lpad(n::text, greatest(6, length(n::text)), '0')), 'paid', p.id, rf.id, inv.id,
          inv.seller_id, inv.seller_name, inv.buyer_id, inv.buyer_name, inv.buyer_email,
          'Refund: ' || inv.description, 1, -(rf.amount - t), -(rf.amount - t), inv.tax_name,
          inv.tax_rate_bps, inv.tax_inclusive, -t, -rf.amount, inv.currency, now());
  IF p.refunded_amount >= p.amount THEN
    UPDATE invoices SET status = 'refunded' WHERE id = inv.id;
  END IF;
END $$;

CREATE OR REPLACE FUNCTION tz_invoice_json(i invoices) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
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
    'refund_id', i.refund_id,
    'credit_for', (SELECT json_build_object('id', c.id, 'number', c.number)
                     FROM invoices c WHERE c.id = i.credit_for),
    -- the ledger entry the document stands for, as GET /receipts/{hash} finds it
    'entry_hash', (SELECT encode(e.hash, 'hex') FROM journal_entries e
                    WHERE e.reference = CASE WHEN i.kind = 'invoice'
                                             THEN 'payment:' || i.payment_id || ':credit'
                                             ELSE 'refund:' || i.refund_id END))
$$;

-- GET /invoices/{id}: the buyer's, the seller's, or any for an admin; NULL
-- for anyone else (the API answers 404: existence does not leak).
CREATE OR REPLACE FUNCTION tz_api_invoice_get(p_id uuid, p_user uuid, p_role text) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (SELECT tz_invoice_json(i) FROM invoices i
           WHERE i.id = p_id AND (p_role = 'admin' OR p_user IN (i.buyer_id, i.seller_id)));
END $$;

-- GET /invoices: the caller's, as buyer and as seller, newest first
-- (keyset on (issued_at, id): after p_after, one of the caller's).
CREATE OR REPLACE FUNCTION tz_api_invoices_list(p_user uuid, p_limit int, p_offset bigint,
                                                p_after uuid)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c_at timestamptz := 'infinity'; c_id uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
  v_n bigint := p_limit + 1 + p_offset;
BEGIN
  IF p_after IS NOT NULL THEN
    SELECT issued_at, id INTO c_at, c_id FROM invoices
     WHERE id = p_after AND p_user IN (buyer_id, seller_id);
    IF NOT FOUND THEN RETURN json_build_object('error', 'starting_after'); END IF;
  END IF;
  RETURN (WITH page AS (
    SELECT tz_invoice_json(i) AS j, row_number() OVER () AS n FROM (
      SELECT * FROM invoices
       WHERE id IN (SELECT id FROM (
               (SELECT id, issued_at FROM invoices
                 WHERE buyer_id = p_user AND (issued_at, id) < (c_at, c_id)
                 ORDER BY issued_at DESC, id DESC LIMIT v_n)
               UNION
               (SELECT id, issued_at FROM invoices
                 WHERE seller_id = p_user AND (issued_at, id) < (c_at, c_id)
                 ORDER BY issued_at DESC, id DESC LIMIT v_n)) both_ways
              ORDER BY issued_at DESC, id DESC LIMIT p_limit + 1 OFFSET p_offset)
       ORDER BY issued_at DESC, id DESC) i
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit));
END $$;
