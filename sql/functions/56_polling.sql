-- Status polling: a pending payment whose webhook has not come is asked
-- about at its provider by the module's watchdog (one runner at a time),
-- first p_poll seconds after it was created (tz_api_payment_create), then
-- with a doubling delay up to 15 minutes, and once more at its expiry time
-- before it may expire (tz_api_payments_expire).  A definite answer is
-- applied as a verified event (tz_api_apply_event); "not yet" marks the
-- payment asked (polled_at); a provider that cannot be reached asks again
-- later without marking it.

-- Claims the payments due (next poll pushed back, so that a second runner
-- skips them) and returns what the provider's status call needs.
CREATE OR REPLACE FUNCTION tz_api_poll_due(p_providers text[], p_base bigint, p_limit int)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  answer json;
BEGIN
  WITH due AS (
    SELECT id FROM payments
     WHERE status = 'pending' AND next_poll_at <= now() AND provider = ANY (p_providers)
     ORDER BY next_poll_at LIMIT p_limit FOR UPDATE SKIP LOCKED
  ), claimed AS (
    UPDATE payments p SET poll_attempts = poll_attempts + 1,
      next_poll_at = CASE
        WHEN now() < expires_at THEN
          least(expires_at, now() + least(interval '15 minutes',
                make_interval(secs => p_base * power(2, least(poll_attempts, 10)))))
        ELSE now() + least(interval '15 minutes',
                           make_interval(secs => p_base * power(2, least(poll_attempts, 10)))) END
      FROM due WHERE p.id = due.id RETURNING p.*
  )
  SELECT coalesce(json_agg(json_build_object(
           'id', c.id, 'provider', c.provider, 'provider_ref', c.provider_ref,
           'provider_transaction_id', c.provider_transaction_id)), '[]'::json)
    INTO answer
    FROM claimed c;
  RETURN answer;
END $$;

-- The provider answered "not yet" about a pending payment.
CREATE OR REPLACE FUNCTION tz_api_poll_answered(p_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE payments SET polled_at = now() WHERE id = p_id AND status = 'pending';
END $$;
