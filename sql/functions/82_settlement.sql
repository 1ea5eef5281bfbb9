-- Settlement reconciliation (docs/settlement.md): providers' settlement
-- reports, imported by `tipzedctl settlement import`, against our
-- payments, refunds and disputes.  One row per finding, by id:
--   settlement_unknown    line id: a payment, refund or dispute line that
--                         matches none of ours (paid out by the provider,
--                         unknown to us)
--   settlement_state      line id: a payment line whose payment is not
--                         credited here (pending, failed, expired, review)
--   settlement_amount     line id: a line whose amount (its absolute value)
--                         or currency is not its payment's, refund's or
--                         dispute's
--   settlement_fee        line id: a payment line whose fee is not the one
--                         the fee terms given to its import charge
--   settlement_unsettled  payment id: a credited payment of a provider
--                         with imports, made on or after the first UTC day
--                         its reports cover, older than the latest import's
--                         unsettled_days, that no payment line names
--   settlement_conflict   line id: a later import brought the line with
--                         other figures (the first version is kept)

-- A line's time as the provider wrote it: with an offset, or UTC.
CREATE OR REPLACE FUNCTION tz_settlement_ts(p text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN p IS NULL THEN NULL
              WHEN p ~ '(Z|[+-][0-9]{2}(:?[0-9]{2})?)$' THEN p::timestamptz
              ELSE p::timestamp AT TIME ZONE 'UTC' END
$$;

-- Imports one report's lines (tz_settle_json() of the core): the same file
-- again changes nothing; a line already stored is kept, and a different
-- version of it recorded as a conflict.  Returns the import's summary.
CREATE OR REPLACE FUNCTION tz_settlement_import(p_provider text, p_file text, p_sha text,
                                                p_days int, p_lines json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
  v_id bigint; v_new int := 0; v_conflicts int := 0; v_total int := 0; v_digest text;
  l json; v_old text; v_n int;
BEGIN
  SELECT id INTO v_id FROM settlement_imports WHERE provider = p_provider AND file_sha256 = p_sha;
  IF FOUND THEN
    RETURN (SELECT json_build_object('import_id', i.id, 'already_imported', true,
                                     'provider', i.provider, 'lines', i.lines_total,
                                     'new', 0, 'conflicting', 0)
              FROM settlement_imports i WHERE i.id = v_id);
  END IF;
  INSERT INTO settlement_imports (provider, file_name, file_sha256, unsettled_days, lines_total,
                                  lines_new, lines_conflicting)
  VALUES (p_provider, p_file, p_sha, p_days, 0, 0, 0) RETURNING id INTO v_id;
  FOR l IN SELECT * FROM json_array_elements(p_lines) LOOP
    v_total := v_total + 1;
    v_digest := md5(concat_ws('|', l->>'kind', l->>'ref', l->>'our_id', l->>'amount',
                              l->>'fee', l->>'currency', l->>'created'));
    INSERT INTO settlement_lines (provider, line_id, import_id, kind, ref, our_id, amount, fee,
                                  currency, created_at, expected_fee, digest)
    VALUES (p_provider, l->>'line_id', v_id, l->>'kind', l->>'ref', (l->>'our_id')::uuid,
            (l->>'amount')::bigint, (l->>'fee')::bigint, l->>'currency',
            tz_settlement_ts(l->>'created'), (l->>'expected_fee')::bigint, v_digest)
    ON CONFLICT (provider, line_id) DO NOTHING;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n = 1 THEN
      v_new := v_new + 1;
      CONTINUE;
    END IF;
    SELECT digest INTO v_old FROM settlement_lines
     WHERE provider = p_provider AND line_id = l->>'line_id';
    IF v_old <> v_digest THEN
      INSERT INTO settlement_conflicts (provider, line_id, import_id, digest, line)
      VALUES (p_provider, l->>'line_id', v_id, v_digest, l::jsonb) ON CONFLICT DO NOTHING;
      GET DIAGNOSTICS v_n = ROW_COUNT;
      v_conflicts := v_conflicts + v_n;
    END IF;
  END LOOP;
  UPDATE settlement_imports SET lines_total = v_total, lines_new = v_new,
                                lines_conflicting = v_conflicts WHERE id = v_id;
  RETURN json_build_object('import_id', v_id, 'already_imported', false,
                           'provider', p_provider, 'lines', v_total, 'new', v_new,
                           'conflicting', v_conflicts);
END $$;

-- Each line with what it names of ours: a payment (by our id, the
-- provider's transaction id or checkout reference), a refund (our id or
-- the provider's refund id) or a dispute (the provider's dispute id).
CREATE OR REPLACE FUNCTION tz_settlement_matches()
RETURNS TABLE (provider text, line_id text, kind text, amount bigint, fee bigint,
               currency text, expected_fee bigint, obj_id uuid, obj_amount bigint,
               obj_currency text, obj_status text)
LANGUAGE sql STABLE AS $$
  SELECT l.provider, l.line_id, l.kind, l.amount, l.fee, l.currency::text, l.expected_fee,
         coalesce(pm.id, rm.id, dm.id), coalesce(pm.amount, rm.amount, dm.amount),
         coalesce(pm.currency, rm.currency, dm.currency)::text,
         coalesce(pm.status, rm.status, dm.status)
    FROM settlement_lines l
    LEFT JOIN LATERAL (
      SELECT p.id, p.amount, p.currency, p.status FROM payments p
       WHERE l.kind = 'payment' AND p.provider = l.provider
         AND (p.id = l.our_id OR p.provider_transaction_id = l.ref OR p.provider_ref = l.ref)
       ORDER BY p.id = l.our_id DESC NULLS LAST LIMIT 1) pm ON true
    LEFT JOIN LATERAL (
      SELECT r.id, r.amount, p.currency, r.status FROM refunds r JOIN payments p ON p.id = r.payment_id
       WHERE l.kind = 'refund' AND p.provider = l.provider
         AND (r.id = l.our_id OR r.provider_refund_id = l.ref)
       ORDER BY r.id = l.our_id DESC NULLS LAST LIMIT 1) rm ON true
    LEFT JOIN LATERAL (
      SELECT d.id, d.amount, p.currency, d.status FROM disputes d JOIN payments p ON p.id = d.payment_id
       WHERE l.kind = 'dispute' AND d.provider = l.provider AND d.provider_dispute_id = l.ref) dm
      ON true
$$;

-- Credited payments of providers with imports that no payment line names
-- once older than the latest import's unsettled_days.
CREATE OR REPLACE FUNCTION tz_settlement_unsettled() RETURNS TABLE (check_name text, id text,
                                                                   detail text)
LANGUAGE sql STABLE AS $$
  WITH prov AS (
    SELECT i.provider,
           (SELECT j.unsettled_days FROM settlement_imports j WHERE j.provider = i.provider
             ORDER BY j.id DESC LIMIT 1) AS days,
           coalesce((SELECT date_trunc('day', min(l.created_at) AT TIME ZONE 'UTC')
                              AT TIME ZONE 'UTC'
                       FROM settlement_lines l WHERE l.provider = i.provider),
                    min(i.imported_at)) AS since
      FROM settlement_imports i GROUP BY i.provider)
  SELECT 'settlement_unsettled', p.id::text,
         format('%s %s at %s, made %s, in no settlement line after %s day(s)', p.amount,
                p.currency, p.provider, tz_ts(p.created_at), v.days)
    FROM prov v JOIN payments p ON p.provider = v.provider
   WHERE p.status IN ('succeeded', 'refund_pending', 'partially_refunded', 'refunded')
     AND p.created_at >= v.since AND p.created_at <= now() - make_interval(days => v.days)
     AND NOT EXISTS (SELECT 1 FROM settlement_lines l
                      WHERE l.provider = p.provider AND l.kind = 'payment'
                        AND (l.our_id = p.id OR l.ref = p.provider_transaction_id
                             OR l.ref = p.provider_ref))
$$;

CREATE OR REPLACE FUNCTION tz_reconcile_settlement() RETURNS TABLE (check_name text, id text,
                                                                   detail text)
LANGUAGE sql STABLE AS $$
  WITH m AS (SELECT * FROM tz_settlement_matches())
  SELECT 'settlement_unknown', m.line_id,
         format('%s %s line of %s %s: none of our %ss', m.provider, m.kind, m.amount, m.currency,
                m.kind)
    FROM m WHERE m.kind IN ('payment', 'refund', 'dispute') AND m.obj_id IS NULL
  UNION ALL
  SELECT 'settlement_state', m.line_id,
         format('%s paid out payment %s, %s here', m.provider, m.obj_id, m.obj_status)
    FROM m WHERE m.kind = 'payment' AND m.obj_id IS NOT NULL
     AND m.obj_status NOT IN ('succeeded', 'refund_pending', 'partially_refunded', 'refunded')
  UNION ALL
  SELECT 'settlement_amount', m.line_id,
         format('%s %s of %s %s at %s: ours is %s %s', m.kind, m.obj_id, abs(m.amount), m.currency,
                m.provider, m.obj_amount, m.obj_currency)
    FROM m WHERE m.obj_id IS NOT NULL
     AND (abs(m.amount) <> m.obj_amount OR m.currency <> m.obj_currency)
  UNION ALL
  SELECT 'settlement_fee', m.line_id,
         format('payment %s at %s: fee %s, the terms charge %s', coalesce(m.obj_id::text, '?'),
                m.provider, m.fee, m.expected_fee)
    FROM m WHERE m.kind = 'payment' AND m.expected_fee IS NOT NULL AND m.fee <> m.expected_fee
  UNION ALL
  SELECT * FROM tz_settlement_unsettled()
  UNION ALL
  SELECT 'settlement_conflict', c.line_id,
         format('%s line changed in import %s: amount %s fee %s %s, kept amount %s fee %s %s from import %s',
                c.provider, c.import_id, c.line->>'amount', c.line->>'fee', c.line->>'currency',
                l.amount, l.fee, l.currency, l.import_id)
    FROM settlement_conflicts c
    JOIN settlement_lines l ON l.provider = c.provider AND l.line_id = c.line_id
$$;

-- The settlement section of GET /admin/reconciliation: its own ok (a
-- provider's report disagreeing with us is not a ledger inconsistency),
-- the latest imports, and each check with its findings.
CREATE OR REPLACE FUNCTION tz_settlement_section() RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (WITH m AS (SELECT * FROM tz_reconcile_settlement()),
         checks(name) AS (VALUES ('settlement_unknown'), ('settlement_state'),
                                 ('settlement_amount'), ('settlement_fee'),
                                 ('settlement_unsettled'), ('settlement_conflict'))
    SELECT json_build_object(
      'ok', NOT EXISTS (SELECT 1 FROM m),
      'imports', coalesce((SELECT json_agg(json_build_object(
                   'id', i.id, 'provider', i.provider, 'file_name', i.file_name,
                   'sha256', i.file_sha256, 'imported_at', tz_ts(i.imported_at),
                   'lines', i.lines_total, 'new', i.lines_new,
                   'conflicting', i.lines_conflicting, 'unsettled_days', i.unsettled_days)
                   ORDER BY i.id DESC)
                   FROM (SELECT * FROM settlement_imports ORDER BY id DESC LIMIT 20) i), '[]'::json),
      'checks', (SELECT json_agg(json_build_object(
          'name', c.name, 'ok', NOT EXISTS (SELECT 1 FROM m WHERE m.check_name = c.name),
          'mismatches', coalesce((SELECT json_agg(json_build_object('id', m.id, 'detail', m.detail)
                                                  ORDER BY m.id)
                                    FROM m WHERE m.check_name = c.name), '[]'::json)))
          FROM checks c)));
END $$;
