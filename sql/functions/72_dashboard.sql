-- The operator's overview (GET /admin/overview): one row per UTC day from
-- p_from to p_to, both included, and the totals of the range.  What each
-- number means (docs/dashboard.md):
--   payments             payments made that day (created_at), every
--                        purpose and source, by what became of them:
--                        succeeded (the money was taken: succeeded,
--                        refund_pending, partially_refunded, refunded),
--                        failed, expired, review, pending
--   volume, fees         by currency: the gross amount and the platform fee
--                        of that day's succeeded payments, refunds not
--                        deducted
--   success_rate         succeeded / (succeeded + failed + expired), null
--                        when none was decided; pending and review wait
--   active_subscriptions at the day's end: subscriptions created before it
--                        and not ended by then (ended_at), except those
--                        never paid nor trialing (incomplete ones)
--   open_review_items    at the day's end: payments that had gone to
--                        review (the first webhook event with outcome
--                        review) and were not yet resolved (the audit row
--                        payment.resolve)
-- Totals: the sums of the days, the rate over the range, and the two
-- levels (subscriptions, review items) of the last day.

CREATE OR REPLACE FUNCTION tz_overview_money(p_from timestamptz, p_to timestamptz, p_col text)
RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT coalesce(json_object_agg(currency, total ORDER BY currency), '{}'::json)
      FROM (SELECT currency, sum(CASE p_col WHEN 'fee' THEN fee ELSE amount END)::bigint AS total
              FROM payments
             WHERE created_at >= p_from AND created_at < p_to
               AND status IN ('succeeded', 'refund_pending', 'partially_refunded', 'refunded')
             GROUP BY currency) m);
END $$;

CREATE OR REPLACE FUNCTION tz_overview_counts(p_from timestamptz, p_to timestamptz)
RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT json_build_object(
        'succeeded', count(*) FILTER (WHERE o = 'succeeded'), 'failed', count(*) FILTER (WHERE o = 'failed'),
        'expired', count(*) FILTER (WHERE o = 'expired'), 'review', count(*) FILTER (WHERE o = 'review'),
        'pending', count(*) FILTER (WHERE o = 'pending'), 'total', count(*),
        'success_rate', CASE WHEN count(*) FILTER (WHERE o IN ('succeeded', 'failed', 'expired')) = 0
                             THEN NULL
                             ELSE round(count(*) FILTER (WHERE o = 'succeeded')::numeric
                                        / count(*) FILTER (WHERE o IN ('succeeded', 'failed', 'expired')),
                                        4) END)
      FROM (SELECT CASE WHEN status IN ('succeeded', 'refund_pending', 'partially_refunded', 'refunded')
                        THEN 'succeeded' ELSE status END AS o
              FROM payments WHERE created_at >= p_from AND created_at < p_to) p);
END $$;

-- Payments that went to review: when they did, and when an admin resolved them.
CREATE OR REPLACE FUNCTION tz_overview_reviews()
RETURNS TABLE (opened timestamptz, closed timestamptz) LANGUAGE sql STABLE AS $$
  SELECT coalesce(min(e.received_at), p.updated_at),
         (SELECT min(a.created_at) FROM audit_log a
           WHERE a.action = 'payment.resolve' AND a.target_type = 'payment' AND a.target_id = p.id::text)
    FROM payments p LEFT JOIN webhook_events e ON e.payment_id = p.id AND e.outcome = 'review'
   WHERE p.status = 'review' OR e.payment_id IS NOT NULL
   GROUP BY p.id
$$;

-- A level at each day's end from events (p_t[i], p_d[i] = +1 or -1): what
-- the events before the range add up to, then a running sum of each day's
-- events: one pass over the events, however many days.  An event at t
-- counts from the day t falls in, so the level at the end E of a day counts
-- what started before E and had not ended before E.
CREATE OR REPLACE FUNCTION tz_overview_levels(p_from date, p_to date, p_t timestamptz[], p_d int[])
RETURNS TABLE (day date, level bigint) LANGUAGE sql STABLE AS $$
  WITH ev AS (SELECT t, delta FROM unnest(p_t, p_d) AS u (t, delta)),
  base AS (SELECT coalesce(sum(delta), 0) AS n FROM ev WHERE t < p_from::timestamp AT TIME ZONE 'UTC'),
  per_day AS (SELECT (t AT TIME ZONE 'UTC')::date AS day, sum(delta) AS n FROM ev
               WHERE t >= p_from::timestamp AT TIME ZONE 'UTC' GROUP BY 1)
  SELECT d::date, ((SELECT n FROM base) + sum(coalesce(p.n, 0)) OVER (ORDER BY d))::bigint
    FROM generate_series(p_from::timestamp, p_to::timestamp, interval '1 day') d
    LEFT JOIN per_day p ON p.day = d::date
$$;

CREATE OR REPLACE FUNCTION tz_api_admin_overview(p_from date, p_to date)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_start timestamptz := p_from::timestamp AT TIME ZONE 'UTC';
  v_end timestamptz := (p_to + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
  RETURN (WITH days AS (
    SELECT d::date AS day, d AT TIME ZONE 'UTC' AS s, (d + interval '1 day') AT TIME ZONE 'UTC' AS e
      FROM generate_series(p_from::timestamp, p_to::timestamp, interval '1 day') d
  ), sub_ev AS (
    SELECT created_at AS t, 1 AS d FROM subscriptions
     WHERE status NOT IN ('incomplete', 'incomplete_expired') AND created_at < v_end
    UNION ALL
    SELECT ended_at, -1 FROM subscriptions
     WHERE status NOT IN ('incomplete', 'incomplete_expired') AND ended_at < v_end
  ), subs AS (
    SELECT l.* FROM (SELECT array_agg(t) AS ts, array_agg(d) AS ds FROM sub_ev) a,
                    tz_overview_levels(p_from, p_to, a.ts, a.ds) l
  ), rev AS (SELECT * FROM tz_overview_reviews()
  ), rev_ev AS (
    SELECT opened AS t, 1 AS d FROM rev WHERE opened < v_end
    UNION ALL
    SELECT closed, -1 FROM rev WHERE closed < v_end
  ), reviews AS (
    SELECT l.* FROM (SELECT array_agg(t) AS ts, array_agg(d) AS ds FROM rev_ev) a,
                    tz_overview_levels(p_from, p_to, a.ts, a.ds) l
  ), rows AS (
    SELECT d.day, tz_overview_counts(d.s, d.e) AS c,
           tz_overview_money(d.s, d.e, 'amount') AS volume, tz_overview_money(d.s, d.e, 'fee') AS fees,
           s.level AS subs, v.level AS open_reviews
      FROM days d JOIN subs s ON s.day = d.day JOIN reviews v ON v.day = d.day
  ), total AS (SELECT tz_overview_counts(v_start, v_end) AS c)
  SELECT json_build_object(
    'from', p_from::text, 'to', p_to::text,
    'days', (SELECT json_agg(json_build_object(
        'date', r.day::text, 'volume', r.volume, 'fees', r.fees,
        'payments', r.c::jsonb - 'success_rate', 'success_rate', r.c->'success_rate',
        'active_subscriptions', r.subs, 'open_review_items', r.open_reviews) ORDER BY r.day)
        FROM rows r),
    'totals', (SELECT json_build_object(
        'volume', tz_overview_money(v_start, v_end, 'amount'),
        'fees', tz_overview_money(v_start, v_end, 'fee'),
        'payments', t.c::jsonb - 'success_rate', 'success_rate', t.c->'success_rate',
        'active_subscriptions', (SELECT subs FROM rows ORDER BY day DESC LIMIT 1),
        'open_review_items', (SELECT open_reviews FROM rows ORDER BY day DESC LIMIT 1))
        FROM total t)));
END $$;
