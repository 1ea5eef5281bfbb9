-- 034: metrics read each table once (docs/metrics.md).
--
-- GET /metrics now counts and sums payments, payouts and subscriptions by
-- state in one scan each, and takes the list of states from the table's
-- own CHECK constraint; the helper that was given those lists goes.

DROP FUNCTION IF EXISTS tz_metrics_states(text[], json);
