-- GET /metrics: what the database holds, read at scrape time
-- (docs/metrics.md).  One call, one JSON value; the module keeps the answer
-- a few seconds per child process, so however often Prometheus scrapes,
-- each child runs this at most once in that time.  Every aggregate is
-- bounded by a CHECKed state (and the accepted currencies), never by ids.

-- The states a column's CHECK (col = ANY (ARRAY[...])) allows, read from
-- the catalog, so that the table's own constraint stays the one list.
CREATE OR REPLACE FUNCTION tz_check_values(p_table regclass, p_column text) RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT array_agg(m[1] ORDER BY m[1])
      FROM pg_constraint c
      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attname = p_column
     CROSS JOIN LATERAL regexp_matches(pg_get_constraintdef(c.oid), '''([^'']+)''::text', 'g') m
     WHERE c.conrelid = p_table AND c.contype = 'c' AND c.conkey = ARRAY[a.attnum]);
END $$;

-- Counts and amounts by state of a table with status, currency and amount,
-- in one scan: {"counts": [{status, count}], "amounts": [{status, currency,
-- amount}]}.  Every state the CHECK allows has a count (0 when no row has
-- it) so that a series never vanishes; a state found but not allowed is
-- shown too.
CREATE OR REPLACE FUNCTION tz_metrics_by_state(p_table regclass) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
  g json;
BEGIN
  EXECUTE format('SELECT coalesce(json_agg(json_build_object(''status'', status,
                                   ''currency'', currency, ''count'', n, ''amount'', a)), ''[]'')
                    FROM (SELECT status, currency, count(*) AS n, sum(amount) AS a
                            FROM %s GROUP BY status, currency) s', p_table) INTO g;
  RETURN json_build_object(
    'counts', (SELECT json_agg(json_build_object('status', st, 'count',
                                 (SELECT coalesce(sum((e ->> 'count')::bigint), 0)
                                    FROM json_array_elements(g) e WHERE e ->> 'status' = st))
                               ORDER BY st)
                 FROM (SELECT unnest(tz_check_values(p_table, 'status'))
                       UNION SELECT e ->> 'status' FROM json_array_elements(g) e) k (st)),
    'amounts', (SELECT coalesce(json_agg(json_build_object('status', e ->> 'status',
                                  'currency', e ->> 'currency', 'amount', (e ->> 'amount')::bigint)
                                  ORDER BY e ->> 'status', e ->> 'currency'), '[]')
                  FROM json_array_elements(g) e));
END $$;

CREATE OR REPLACE FUNCTION tz_api_metrics() RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t timestamptz := now();
  pay json := tz_metrics_by_state('payments');
  pout json := tz_metrics_by_state('payouts');
BEGIN
  RETURN json_build_object(
    'payments', pay -> 'counts',
    'payment_amounts', pay -> 'amounts',
    'payouts', pout -> 'counts',
    'payout_amounts', pout -> 'amounts',
    'subscriptions', tz_metrics_by_state('subscriptions') -> 'counts',
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
