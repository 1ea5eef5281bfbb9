-- GET /metrics: what the database holds, read at scrape time
-- (docs/metrics.md).  One call, one JSON value; the module keeps the answer
-- a few seconds per child process, so however often Prometheus scrapes,
-- each child runs this at most once in that time.  Every aggregate is
-- bounded by a CHECKed state (and the accepted currencies), never by ids.

-- Counts by state: every state of the table's CHECK (p_known), those with
-- no row as 0 so that a series never vanishes, and any other state found
-- (p_counts: {state: count}).
CREATE OR REPLACE FUNCTION tz_metrics_states(p_known text[], p_counts json) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(json_agg(json_build_object('status', st,
                                             'count', coalesce((p_counts ->> st)::bigint, 0))
                           ORDER BY st), '[]')
    FROM (SELECT unnest(p_known) UNION SELECT json_object_keys(p_counts)) k (st)
$$;

CREATE OR REPLACE FUNCTION tz_api_metrics() RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t timestamptz := now();
BEGIN
  RETURN json_build_object(
    'payments', tz_metrics_states(ARRAY['pending', 'succeeded', 'failed', 'expired', 'review',
                                        'refund_pending', 'partially_refunded', 'refunded'],
                                  (SELECT json_object_agg(status, n)
                                   FROM (SELECT status, count(*) AS n FROM payments GROUP BY status) g)),
    'payment_amounts', (SELECT coalesce(json_agg(json_build_object(
                                 'status', status, 'currency', currency, 'amount', a)
                                 ORDER BY status, currency), '[]')
                          FROM (SELECT status, currency, sum(amount) AS a FROM payments
                                 GROUP BY status, currency) s),
    'payouts', tz_metrics_states(ARRAY['pending', 'approved', 'processing', 'completed',
                                       'rejected', 'failed', 'cancelled'],
                                 (SELECT json_object_agg(status, n)
                                   FROM (SELECT status, count(*) AS n FROM payouts GROUP BY status) g)),
    'payout_amounts', (SELECT coalesce(json_agg(json_build_object(
                                'status', status, 'currency', currency, 'amount', a)
                                ORDER BY status, currency), '[]')
                         FROM (SELECT status, currency, sum(amount) AS a FROM payouts
                                GROUP BY status, currency) s),
    'subscriptions', tz_metrics_states(ARRAY['trialing', 'incomplete', 'active', 'past_due',
                                             'canceled', 'incomplete_expired'],
                                       (SELECT json_object_agg(status, n)
                                   FROM (SELECT status, count(*) AS n FROM subscriptions GROUP BY status) g)),
    'events', (SELECT json_build_object(
                 'pending', count(*),
                 'oldest_pending_age', coalesce(extract(epoch FROM t - min(created_at)), 0))
                 FROM outbox_events WHERE pending),
    'deliveries', (SELECT json_build_object(
                     'pending', count(*) FILTER (WHERE status = 'pending'),
                     'failed', count(*) FILTER (WHERE status = 'failed'),
                     'oldest_pending_age', coalesce(extract(epoch FROM
                        t - min(created_at) FILTER (WHERE status = 'pending')), 0))
                     FROM webhook_deliveries WHERE status IN ('pending', 'failed')),
    'mail', (SELECT json_build_object(
               'pending', count(*) FILTER (WHERE status = 'pending'),
               'failed', count(*) FILTER (WHERE status = 'failed'),
               'oldest_pending_age', coalesce(extract(epoch FROM
                  t - min(created_at) FILTER (WHERE status = 'pending')), 0))
               FROM mail_outbox WHERE status IN ('pending', 'failed')));
END $$;
