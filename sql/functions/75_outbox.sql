-- The transactional outbox (docs/webhooks.md): events written by the
-- transaction that makes their change, webhook endpoints, the
-- dispatcher's claims and reports, and mail.
--
-- Events and what writes them:
--   payment.succeeded|failed|review|refunded   payments_announce (at commit)
--   payout.<state>                             payouts_announce
--   subscription.<state>                       subscriptions_announce
--   schedule.charge_succeeded|charge_failed    schedules_announce
--   invoice.issued (invoices and credit notes) invoices_announce
--   transfer.completed                         transfers_announce
--   wallet.credited                            tz_post_entry (30_ledger.sql)
--   webhook_endpoint.disabled                  tz_api_outbox_report
-- An event is {id, type, created_at, data}; data is the object as the API
-- shows it (a payout without its bank account).

CREATE OR REPLACE FUNCTION tz_emit(p_type text, p_users uuid[], p_data json) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO outbox_events (type, user_ids, data)
  VALUES (p_type, array_remove(p_users, NULL), p_data);
END $$;

CREATE OR REPLACE FUNCTION tz_event_types() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY['payment.succeeded', 'payment.failed', 'payment.review', 'payment.refunded',
               'payout.pending', 'payout.approved', 'payout.processing', 'payout.completed',
               'payout.rejected', 'payout.failed', 'payout.cancelled',
               'subscription.trialing', 'subscription.incomplete', 'subscription.active',
               'subscription.past_due', 'subscription.canceled',
               'subscription.incomplete_expired',
               'schedule.charge_succeeded', 'schedule.charge_failed', 'invoice.issued',
               'transfer.completed', 'wallet.credited', 'webhook_endpoint.disabled']
$$;

-- An endpoint's pattern takes the type: "*", "<kind>.*" or the type itself.
CREATE OR REPLACE FUNCTION tz_event_matches(p_patterns text[], p_type text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT p_type = ANY (p_patterns) OR '*' = ANY (p_patterns)
         OR split_part(p_type, '.', 1) || '.*' = ANY (p_patterns)
$$;

-- ---- what writes events ------------------------------------------------

-- A payment's row changes several times in one transaction (created,
-- credited, its cashback noted), and its splits are inserted after it, so
-- this runs at commit (a deferred constraint trigger) and reads the row as
-- committed; each firing still sees the one change it was queued for.  At
-- commit the tz_api_* function that made the change has returned, so this
-- runs as its owner itself (SECURITY DEFINER), not as the runtime role.
CREATE OR REPLACE FUNCTION tz_payments_announce() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  p payments;
  t text;
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.refunded_amount > OLD.refunded_amount THEN
    t := 'payment.refunded';
  ELSIF NEW.status = 'succeeded'
        AND (TG_OP = 'INSERT' OR OLD.status IN ('pending', 'expired', 'review')) THEN
    t := 'payment.succeeded';
  ELSIF NEW.status IN ('failed', 'review') AND (TG_OP = 'INSERT' OR OLD.status <> NEW.status) THEN
    t := 'payment.' || NEW.status;
  ELSE
    RETURN NULL;
  END IF;
  SELECT * INTO p FROM payments WHERE id = NEW.id;
  PERFORM tz_emit(t, ARRAY[p.fan_id, CASE WHEN p.purpose <> 'topup' THEN p.creator_id END]
                     || ARRAY(SELECT creator_id FROM payment_splits WHERE payment_id = p.id),
                  tz_payment_json(p));
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS payments_announce_insert ON payments;
CREATE CONSTRAINT TRIGGER payments_announce_insert AFTER INSERT ON payments
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (NEW.status IN ('succeeded', 'failed', 'review'))
  EXECUTE FUNCTION tz_payments_announce();
DROP TRIGGER IF EXISTS payments_announce_update ON payments;
CREATE CONSTRAINT TRIGGER payments_announce_update AFTER UPDATE ON payments
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR NEW.refunded_amount > OLD.refunded_amount)
  EXECUTE FUNCTION tz_payments_announce();

CREATE OR REPLACE FUNCTION tz_payouts_announce() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM tz_emit('payout.' || NEW.status, ARRAY[NEW.creator_id],
                  (tz_payout_json(NEW)::jsonb - 'bank_account_enc')::json);
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS payouts_announce_insert ON payouts;
CREATE TRIGGER payouts_announce_insert AFTER INSERT ON payouts
  FOR EACH ROW EXECUTE FUNCTION tz_payouts_announce();
DROP TRIGGER IF EXISTS payouts_announce_update ON payouts;
CREATE TRIGGER payouts_announce_update AFTER UPDATE OF status ON payouts
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION tz_payouts_announce();

CREATE OR REPLACE FUNCTION tz_subscriptions_announce() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM tz_emit('subscription.' || NEW.status, ARRAY[NEW.creator_id, NEW.fan_id],
                  tz_subscription_json(NEW));
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS subscriptions_announce_insert ON subscriptions;
CREATE TRIGGER subscriptions_announce_insert AFTER INSERT ON subscriptions
  FOR EACH ROW EXECUTE FUNCTION tz_subscriptions_announce();
DROP TRIGGER IF EXISTS subscriptions_announce_update ON subscriptions;
CREATE TRIGGER subscriptions_announce_update AFTER UPDATE OF status ON subscriptions
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION tz_subscriptions_announce();

-- A charge made (charges_made moves on), or one that failed: the item
-- falls past due, or fails for good when its grace ran out.
CREATE OR REPLACE FUNCTION tz_schedules_announce() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  t text := CASE WHEN NEW.charges_made > OLD.charges_made THEN 'schedule.charge_succeeded'
                 WHEN NEW.status IN ('past_due', 'failed') AND OLD.status <> NEW.status
                   THEN 'schedule.charge_failed' END;
BEGIN
  IF t IS NOT NULL THEN
    PERFORM tz_emit(t, ARRAY[NEW.creator_id, NEW.fan_id]
                       || ARRAY(SELECT (e->>'creator_id')::uuid
                                  FROM json_array_elements(coalesce(NEW.splits, '[]')) e),
                    tz_schedule_json(NEW));
  END IF;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS schedules_announce ON schedules;
CREATE TRIGGER schedules_announce AFTER UPDATE OF status, charges_made ON schedules
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                     OR OLD.charges_made IS DISTINCT FROM NEW.charges_made)
  EXECUTE FUNCTION tz_schedules_announce();

CREATE OR REPLACE FUNCTION tz_invoices_announce() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM tz_emit('invoice.issued', ARRAY[NEW.seller_id, NEW.buyer_id], tz_invoice_json(NEW));
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS invoices_announce ON invoices;
CREATE TRIGGER invoices_announce AFTER INSERT ON invoices
  FOR EACH ROW EXECUTE FUNCTION tz_invoices_announce();

CREATE OR REPLACE FUNCTION tz_transfers_announce() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM tz_emit('transfer.completed', ARRAY[NEW.sender_id, NEW.recipient_id],
                  tz_transfer_json(NEW));
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS transfers_announce ON transfers;
CREATE TRIGGER transfers_announce AFTER INSERT ON transfers
  FOR EACH ROW EXECUTE FUNCTION tz_transfers_announce();

-- ---- endpoints ------------------------------------------------------------

CREATE OR REPLACE FUNCTION tz_endpoint_json(e webhook_endpoints) RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', e.id, 'owner_id', e.owner_id, 'url', e.url, 'description', e.description,
    'events', to_json(e.events), 'enabled', e.enabled, 'disabled_reason', e.disabled_reason,
    'failing_since', tz_ts(e.failing_since), 'created_at', tz_ts(e.created_at),
    'updated_at', tz_ts(e.updated_at))
$$;

-- NULL when every pattern names known events, else the first that does not.
CREATE OR REPLACE FUNCTION tz_events_unknown(p_events text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN (SELECT x FROM unnest(p_events) x
     WHERE NOT EXISTS (SELECT 1 FROM unnest(tz_event_types()) t WHERE tz_event_matches(ARRAY[x], t))
     LIMIT 1);
END $$;

-- p_events: a JSON array of strings (the module checked its shape).
-- {"error": "events", "message"} or {"error": "too_many"} (16 per owner).
CREATE OR REPLACE FUNCTION tz_api_endpoint_create(p_id uuid, p_owner uuid, p_role text,
                                                  p_url text, p_description text, p_events json,
                                                  p_secret_enc text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  ev text[] := ARRAY(SELECT DISTINCT json_array_elements_text(p_events) ORDER BY 1);
  bad text := tz_events_unknown(ev);
  e webhook_endpoints;
BEGIN
  IF bad IS NOT NULL THEN
    RETURN json_build_object('error', 'events', 'message', format('unknown event type "%s"', bad));
  END IF;
  IF NOT tz_email_verified(p_owner) THEN  -- docs/accounts.md
    RETURN json_build_object('error', 'email_unverified');
  END IF;
  PERFORM 1 FROM users WHERE id = p_owner FOR UPDATE;
  IF (SELECT count(*) FROM webhook_endpoints WHERE owner_id = p_owner) >= 16 THEN
    RETURN json_build_object('error', 'too_many');
  END IF;
  INSERT INTO webhook_endpoints (id, owner_id, owner_role, url, description, events, secret_enc)
  VALUES (p_id, p_owner, p_role, p_url, coalesce(p_description, ''), ev, p_secret_enc)
  RETURNING * INTO e;
  RETURN tz_endpoint_json(e);
END $$;

CREATE OR REPLACE FUNCTION tz_endpoint_visible(e webhook_endpoints, p_user uuid, p_role text)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT p_role = 'admin' OR e.owner_id = p_user
$$;

-- The caller's endpoints; an admin's list holds every endpoint.  Newest
-- first, keyset after p_after (one the caller sees).
CREATE OR REPLACE FUNCTION tz_api_endpoints_list(p_user uuid, p_role text, p_limit int,
                                                 p_offset bigint, p_after uuid)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c_at timestamptz := 'infinity'; c_id uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
BEGIN
  IF p_after IS NOT NULL THEN
    SELECT created_at, id INTO c_at, c_id FROM webhook_endpoints
     WHERE id = p_after AND (p_role = 'admin' OR owner_id = p_user);
    IF NOT FOUND THEN RETURN json_build_object('error', 'starting_after'); END IF;
  END IF;
  RETURN (WITH page AS (
    SELECT tz_endpoint_json(e) AS j, row_number() OVER () AS n FROM (
      SELECT * FROM webhook_endpoints e
       WHERE (p_role = 'admin' OR owner_id = p_user) AND (created_at, id) < (c_at, c_id)
       ORDER BY created_at DESC, id DESC LIMIT p_limit + 1 OFFSET p_offset) e
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit));
END $$;

CREATE OR REPLACE FUNCTION tz_api_endpoint_get(p_id uuid, p_user uuid, p_role text)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN (SELECT tz_endpoint_json(e) FROM webhook_endpoints e
           WHERE e.id = p_id AND tz_endpoint_visible(e, p_user, p_role));
END $$;

-- NULL arguments keep their field.  Enabling an endpoint forgets its run
-- of failures.  {"error": "not_found"} or {"error": "events", "message"}.
CREATE OR REPLACE FUNCTION tz_api_endpoint_update(p_id uuid, p_user uuid, p_role text,
                                                  p_url text, p_description text, p_events json,
                                                  p_enabled boolean)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  ev text[] := CASE WHEN p_events IS NOT NULL
                    THEN ARRAY(SELECT DISTINCT json_array_elements_text(p_events) ORDER BY 1) END;
  bad text := tz_events_unknown(ev);
  e webhook_endpoints;
BEGIN
  IF bad IS NOT NULL THEN
    RETURN json_build_object('error', 'events', 'message', format('unknown event type "%s"', bad));
  END IF;
  SELECT * INTO e FROM webhook_endpoints WHERE id = p_id FOR UPDATE;
  IF NOT FOUND OR NOT tz_endpoint_visible(e, p_user, p_role) THEN
    RETURN json_build_object('error', 'not_found');
  END IF;
  UPDATE webhook_endpoints
     SET url = coalesce(p_url, url), description = coalesce(p_description, description),
         events = coalesce(ev, events), enabled = coalesce(p_enabled, enabled),
         disabled_reason = CASE WHEN p_enabled THEN NULL
                                WHEN p_enabled = false AND enabled THEN 'disabled by its owner'
                                ELSE disabled_reason END,
         failing_since = CASE WHEN p_enabled AND NOT enabled THEN NULL ELSE failing_since END,
         updated_at = now()
   WHERE id = p_id RETURNING * INTO e;
  RETURN tz_endpoint_json(e);
END $$;

-- The endpoint goes, and its deliveries and their log with it.
CREATE OR REPLACE FUNCTION tz_api_endpoint_delete(p_id uuid, p_user uuid, p_role text)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  DELETE FROM webhook_endpoints e WHERE e.id = p_id AND tz_endpoint_visible(e, p_user, p_role);
  RETURN json_build_object('deleted', FOUND);
END $$;

CREATE OR REPLACE FUNCTION tz_delivery_json(d webhook_deliveries, p_type text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN json_build_object(
    'id', d.id, 'endpoint_id', d.endpoint_id, 'event_id', d.event_id, 'event_type', p_type,
    'status', d.status, 'attempts', d.attempts,
    'next_attempt_at', CASE WHEN d.status = 'pending' THEN tz_ts(d.next_at) END,
    'last_status', d.last_status, 'last_error', d.last_error,
    'created_at', tz_ts(d.created_at), 'delivered_at', tz_ts(d.delivered_at),
    'log', coalesce((SELECT json_agg(json_build_object(
                       'attempt', a.attempt, 'at', tz_ts(a.at), 'status_code', a.status_code,
                       'latency_ms', a.latency_ms, 'error', a.error) ORDER BY a.id)
                       FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]'::json));
END $$;

-- An endpoint's deliveries, newest first (the deliveries of one fan-out
-- share created_at: then in event order), each with its attempts' log;
-- NULL when the endpoint is not the caller's.  Keyset after p_after, one of
-- this endpoint's deliveries.
CREATE OR REPLACE FUNCTION tz_api_endpoint_deliveries(p_id uuid, p_user uuid, p_role text,
                                                      p_status text, p_limit int, p_offset bigint,
                                                      p_after uuid)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c_at timestamptz := 'infinity'; c_id uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
  c_seq bigint := 9223372036854775807;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_endpoints e
                  WHERE e.id = p_id AND tz_endpoint_visible(e, p_user, p_role)) THEN
    RETURN NULL;
  END IF;
  IF p_after IS NOT NULL THEN
    SELECT created_at, event_seq, id INTO c_at, c_seq, c_id FROM webhook_deliveries
     WHERE id = p_after AND endpoint_id = p_id;
    IF NOT FOUND THEN RETURN json_build_object('error', 'starting_after'); END IF;
  END IF;
  RETURN (WITH page AS (
    SELECT tz_delivery_json(d, v.type) AS j,
           row_number() OVER (ORDER BY d.created_at DESC, d.event_seq DESC, d.id DESC) AS n FROM (
      SELECT * FROM webhook_deliveries
       WHERE endpoint_id = p_id AND (p_status IS NULL OR status = p_status)
         AND (created_at, event_seq, id) < (c_at, c_seq, c_id)
       ORDER BY created_at DESC, event_seq DESC, id DESC LIMIT p_limit + 1 OFFSET p_offset) d
      JOIN outbox_events v ON v.id = d.event_id
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit));
END $$;

-- GET /webhook-deliveries: every delivery the caller may see (an admin:
-- all; anyone else: those of its own endpoints), filtered by status, event
-- type and endpoint; the same order and keyset as an endpoint's.
CREATE OR REPLACE FUNCTION tz_api_deliveries_list(p_user uuid, p_role text, p_status text,
                                                  p_event_type text, p_endpoint uuid,
                                                  p_limit int, p_offset bigint, p_after uuid)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c_at timestamptz := 'infinity'; c_id uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
  c_seq bigint := 9223372036854775807;
BEGIN
  IF p_after IS NOT NULL THEN
    SELECT d.created_at, d.event_seq, d.id INTO c_at, c_seq, c_id
      FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
     WHERE d.id = p_after AND tz_endpoint_visible(e, p_user, p_role);
    IF NOT FOUND THEN RETURN json_build_object('error', 'starting_after'); END IF;
  END IF;
  RETURN (WITH page AS (
    SELECT tz_delivery_json(d, v.type) AS j,
           row_number() OVER (ORDER BY d.created_at DESC, d.event_seq DESC, d.id DESC) AS n FROM (
      SELECT d.* FROM webhook_deliveries d
       WHERE (p_role = 'admin' OR d.endpoint_id IN (SELECT id FROM webhook_endpoints
                                                     WHERE owner_id = p_user))
         AND (p_endpoint IS NULL OR d.endpoint_id = p_endpoint)
         AND (p_status IS NULL OR d.status = p_status)
         AND (p_event_type IS NULL
              OR d.event_id IN (SELECT id FROM outbox_events WHERE type = p_event_type))
         AND (d.created_at, d.event_seq, d.id) < (c_at, c_seq, c_id)
       ORDER BY d.created_at DESC, d.event_seq DESC, d.id DESC
       LIMIT p_limit + 1 OFFSET p_offset) d
      JOIN outbox_events v ON v.id = d.event_id
  )
  SELECT json_build_object(
    'data', coalesce((SELECT json_agg(j ORDER BY n) FROM page WHERE n <= p_limit), '[]'::json),
    'limit', p_limit, 'offset', p_offset, 'has_more', (SELECT count(*) FROM page) > p_limit));
END $$;

-- POST /webhook-deliveries/{id}/resend: one more attempt, now, whatever
-- became of the delivery.  {"error": "not_found" | "endpoint_disabled"}.
CREATE OR REPLACE FUNCTION tz_api_delivery_resend(p_id uuid, p_user uuid, p_role text,
                                                  p_sandbox boolean)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  d webhook_deliveries;
  e webhook_endpoints;
BEGIN
  SELECT * INTO d FROM webhook_deliveries WHERE id = p_id FOR UPDATE;
  SELECT * INTO e FROM webhook_endpoints WHERE id = d.endpoint_id;
  IF d.id IS NULL OR NOT tz_endpoint_visible(e, p_user, p_role) THEN
    RETURN json_build_object('error', 'not_found');
  ELSIF NOT e.enabled THEN
    RETURN json_build_object('error', 'endpoint_disabled');
  END IF;
  UPDATE webhook_deliveries SET status = 'pending', next_at = tz_clock(p_sandbox)
   WHERE id = p_id RETURNING * INTO d;
  RETURN tz_delivery_json(d, (SELECT type FROM outbox_events WHERE id = d.event_id));
END $$;

-- ---- the dispatcher ---------------------------------------------------------

-- Who is mailed about an event (TipzedSMTP): the template is the type
-- with "." made "_" (docs/mail.md).
CREATE OR REPLACE FUNCTION tz_mail_recipient(p_type text, p_data json) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN p_type IN ('payment.succeeded', 'subscription.past_due', 'subscription.canceled',
                    'schedule.charge_failed') THEN (p_data->>'fan_id')::uuid
    WHEN p_type IN ('payout.approved', 'payout.completed', 'payout.rejected', 'payout.failed')
      THEN (p_data->>'creator_id')::uuid
    WHEN p_type = 'webhook_endpoint.disabled' THEN (p_data->>'owner_id')::uuid END
$$;

-- Makes the deliveries (one per enabled endpoint that takes the event)
-- and the mail of up to p_limit events not fanned out yet, oldest first.
-- Mail is made whether or not this node sends mail (TipzedSMTP): another
-- node may.  Answers how many events it took.
CREATE OR REPLACE FUNCTION tz_api_outbox_fanout(p_limit int) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  n int;
BEGIN
  WITH ev AS (
    SELECT id, seq, type, user_ids, data FROM outbox_events WHERE pending
     ORDER BY seq LIMIT p_limit FOR UPDATE SKIP LOCKED
  ), d AS (
    INSERT INTO webhook_deliveries (endpoint_id, event_id, event_seq)
    SELECT e.id, ev.id, ev.seq FROM ev JOIN webhook_endpoints e
        ON e.enabled AND (e.owner_role = 'admin' OR e.owner_id = ANY (ev.user_ids))
       AND tz_event_matches(e.events, ev.type)
    ON CONFLICT DO NOTHING
  ), m AS (
    INSERT INTO mail_outbox (event_id, user_id, template)
    SELECT ev.id, r.u, replace(ev.type, '.', '_')
      FROM ev CROSS JOIN LATERAL (SELECT tz_mail_recipient(ev.type, ev.data) AS u) r
     WHERE r.u IS NOT NULL
    ON CONFLICT DO NOTHING
  )
  UPDATE outbox_events o SET pending = false FROM ev WHERE o.id = ev.id;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

-- A retried item's state after an attempt: p_done when it worked, failed
-- at the p_max'th attempt, else pending again; and when it is due next.
-- Deliveries and mail follow the one rule.
CREATE OR REPLACE FUNCTION tz_retry_status(p_ok boolean, p_attempts int, p_max int, p_done text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_ok THEN p_done WHEN p_attempts >= p_max THEN 'failed' ELSE 'pending' END
$$;

CREATE OR REPLACE FUNCTION tz_retry_at(p_ok boolean, p_was timestamptz, p_now timestamptz,
                                       p_delay int)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN p_ok THEN p_was ELSE p_now + make_interval(secs => p_delay) END
$$;

-- Claims up to p_endpoints endpoints with deliveries due, for p_lease
-- seconds under p_token, each with up to p_per of its due deliveries in
-- event order: [{endpoint_id, url, secret_enc, deliveries: [{id, attempts,
-- event_id, type, body}]}].  body is the event as sent, the same text at
-- every attempt.  An endpoint another node holds is skipped; one whose
-- holder died is taken again when the lease runs out.
CREATE OR REPLACE FUNCTION tz_api_outbox_claim(p_token text, p_endpoints int, p_per int,
                                               p_lease int, p_sandbox boolean)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t timestamptz := tz_clock(p_sandbox);
  ids uuid[];
BEGIN
  ids := ARRAY(SELECT w.id FROM webhook_endpoints w
                WHERE w.enabled AND (w.lease_token IS NULL OR w.lease_until < now())
                  AND EXISTS (SELECT 1 FROM webhook_deliveries d
                               WHERE d.endpoint_id = w.id AND d.status = 'pending'
                                 AND d.next_at <= t)
                ORDER BY w.lease_until NULLS FIRST LIMIT p_endpoints
                  FOR UPDATE SKIP LOCKED);
  UPDATE webhook_endpoints SET lease_token = p_token,
                               lease_until = now() + make_interval(secs => p_lease)
   WHERE id = ANY (ids);
  RETURN coalesce((
    SELECT json_agg(json_build_object(
             'endpoint_id', w.id, 'url', w.url, 'secret_enc', w.secret_enc,
             'deliveries', (SELECT json_agg(json_build_object(
                                     'id', d.id, 'attempts', d.attempts, 'event_id', v.id,
                                     'type', v.type,
                                     'body', json_build_object('id', v.id, 'type', v.type,
                                                               'created_at', tz_ts(v.created_at),
                                                               'data', v.data)::text)
                                   ORDER BY d.event_seq)
                              FROM (SELECT * FROM webhook_deliveries
                                     WHERE endpoint_id = w.id AND status = 'pending'
                                       AND next_at <= t
                                     ORDER BY event_seq LIMIT p_per) d
                              JOIN outbox_events v ON v.id = d.event_id)))
      FROM webhook_endpoints w WHERE w.id = ANY (ids)), '[]'::json);
END $$;

-- Three days of failures and nothing else disable an endpoint; its owner
-- hears of it by an event (and mail).
CREATE OR REPLACE FUNCTION tz_endpoint_failed(p_id uuid, p_at timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  e webhook_endpoints;
BEGIN
  UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, p_at)
   WHERE id = p_id RETURNING * INTO e;
  IF e.enabled AND p_at - e.failing_since >= interval '3 days' THEN
    UPDATE webhook_endpoints
       SET enabled = false, updated_at = now(),
           disabled_reason = format('every delivery failed for three days (since %s)',
                                    tz_ts(e.failing_since))
     WHERE id = p_id RETURNING * INTO e;
    PERFORM tz_emit('webhook_endpoint.disabled', ARRAY[e.owner_id], tz_endpoint_json(e));
  END IF;
END $$;

-- The outcomes of the attempts made under p_token, [{id, status,
-- latency_ms, error, delay}], in one statement for all of them: each
-- attempt logged; a 2xx answer delivers; anything else retries after its
-- delay, or gives up at the p_max'th attempt.  An endpoint's run of
-- failures ends with a success and goes on with a failure (its sender
-- stops at an endpoint's first failure, so that comes last).  Then the
-- endpoints it held are released.  Deliveries that were claimed but not
-- sent (after an earlier one of their endpoint failed) are left as they
-- were; an endpoint deleted meanwhile took its deliveries with it.
CREATE OR REPLACE FUNCTION tz_api_outbox_report(p_token text, p_results json, p_max int,
                                                p_sandbox boolean)
RETURNS int LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t timestamptz := tz_clock(p_sandbox);
  n int;
  failed uuid[];
BEGIN
  WITH r AS (
    SELECT * FROM json_to_recordset(p_results)
                    AS r(id uuid, status int, latency_ms int, error text, delay int)
  ), d AS (
    UPDATE webhook_deliveries w
       SET attempts = w.attempts + 1, last_status = nullif(r.status, 0), last_error = r.error,
           status = tz_retry_status(r.status BETWEEN 200 AND 299, w.attempts + 1, p_max,
                                    'succeeded'),
           delivered_at = CASE WHEN r.status BETWEEN 200 AND 299 THEN now() END,
           next_at = tz_retry_at(r.status BETWEEN 200 AND 299, w.next_at, t, r.delay)
      FROM r WHERE w.id = r.id
    RETURNING w.id, w.attempts, w.endpoint_id, r.status, r.latency_ms, r.error
  ), logged AS (
    INSERT INTO webhook_attempts (delivery_id, attempt, status_code, latency_ms, error)
    SELECT id, attempts, nullif(status, 0), latency_ms, error FROM d
  )
  SELECT count(*)::int, array_agg(DISTINCT endpoint_id) FILTER (WHERE NOT status BETWEEN 200 AND 299)
    INTO n, failed FROM d;
  UPDATE webhook_endpoints SET failing_since = NULL
   WHERE failing_since IS NOT NULL AND lease_token = p_token
     AND NOT id = ANY (coalesce(failed, '{}'));
  FOR i IN 1 .. coalesce(cardinality(failed), 0) LOOP
    PERFORM tz_endpoint_failed(failed[i], t);
  END LOOP;
  UPDATE webhook_endpoints SET lease_token = NULL, lease_until = now()
   WHERE lease_token = p_token;
  RETURN n;
END $$;

-- ---- mail -----------------------------------------------------------------

-- Claims up to p_limit mails due, for p_lease seconds: [{id, attempts,
-- template, to, data, secret}], data being the event's data (or the
-- mail's own, for mail of no event, whose token is sealed in secret) with the names a
-- template may use (recipient_name, creator_name, fan_name) and, for a
-- receipt, the invoice as the API shows it.
CREATE OR REPLACE FUNCTION tz_api_mail_claim(p_token text, p_limit int, p_lease int,
                                             p_sandbox boolean)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t timestamptz := tz_clock(p_sandbox);
  ids uuid[];
BEGIN
  ids := ARRAY(SELECT id FROM mail_outbox
                WHERE status = 'pending' AND next_at <= t
                  AND (lease_token IS NULL OR lease_until < now())
                ORDER BY next_at LIMIT p_limit FOR UPDATE SKIP LOCKED);
  UPDATE mail_outbox SET lease_token = p_token, lease_until = now() + make_interval(secs => p_lease)
   WHERE id = ANY (ids);
  RETURN coalesce((
    SELECT json_agg(json_build_object(
             'id', m.id, 'attempts', m.attempts, 'template', m.template, 'to', u.email,
             'event_id', v.id, 'type', v.type, 'secret', m.secret_enc,
             'data', (coalesce(v.data::jsonb, m.data) || jsonb_build_object(
                        'recipient_name', u.full_name,
                        'creator_name', (SELECT full_name FROM users
                                          WHERE id = (v.data->>'creator_id')::uuid),
                        'fan_name', (SELECT full_name FROM users
                                      WHERE id = (v.data->>'fan_id')::uuid),
                        'invoice', (SELECT tz_invoice_json(i) FROM invoices i
                                     WHERE v.type = 'payment.succeeded' AND i.kind = 'invoice'
                                       AND i.payment_id = (v.data->>'id')::uuid)))::json))
      FROM mail_outbox m JOIN users u ON u.id = m.user_id
      LEFT JOIN outbox_events v ON v.id = m.event_id
     WHERE m.id = ANY (ids)), '[]'::json);
END $$;

-- Outcomes [{id, sent, skipped, error, delay}] of the mails claimed under
-- p_token; a skipped one (not tried: its server refused the ones before
-- it) is released as it was.
CREATE OR REPLACE FUNCTION tz_api_mail_report(p_token text, p_results json, p_max int,
                                              p_sandbox boolean)
RETURNS int LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  t timestamptz := tz_clock(p_sandbox);
  n int;
BEGIN
  UPDATE mail_outbox m SET lease_token = NULL, lease_until = NULL
    FROM json_to_recordset(p_results) AS r(id uuid, skipped boolean)
   WHERE m.id = r.id AND m.lease_token = p_token AND r.skipped;
  UPDATE mail_outbox m
     SET attempts = attempts + 1, lease_token = NULL, lease_until = NULL,
         last_error = r.error,
         status = tz_retry_status(r.sent, attempts + 1, p_max, 'sent'),
         sent_at = CASE WHEN r.sent THEN now() END,
         next_at = tz_retry_at(r.sent, next_at, t, r.delay)
    FROM json_to_recordset(p_results) AS r(id uuid, sent boolean, skipped boolean, error text,
                                            delay int)
   WHERE m.id = r.id AND m.lease_token = p_token AND NOT r.skipped;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

-- ---- retention ------------------------------------------------------------

-- Removes up to p_batch of each kind of finished outbox row older than
-- p_keep seconds (TipzedOutboxRetention): deliveries that succeeded or gave
-- up (their attempts with them), mails sent, failed or expired, then the
-- events nothing refers to any more.  Pending deliveries are kept however
-- old (an endpoint disabled for a while resumes them).  Mail no node tried
-- within three days expires: sent weeks late, a receipt or a notice
-- misleads more than it helps.  Runs by batches (SKIP LOCKED: nodes that
-- prune together share the work); answers how many rows went.
CREATE OR REPLACE FUNCTION tz_api_outbox_prune(p_keep int, p_batch int) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  cutoff timestamptz := now() - make_interval(secs => p_keep);
  n int;
  total int := 0;
BEGIN
  UPDATE mail_outbox SET status = 'expired', last_error = 'not tried within three days'
   WHERE id IN (SELECT id FROM mail_outbox
                 WHERE status = 'pending' AND attempts = 0
                   AND created_at < now() - interval '3 days'
                 LIMIT p_batch FOR UPDATE SKIP LOCKED);
  DELETE FROM webhook_deliveries
   WHERE id IN (SELECT id FROM webhook_deliveries
                 WHERE status <> 'pending' AND created_at < cutoff
                 LIMIT p_batch FOR UPDATE SKIP LOCKED);
  GET DIAGNOSTICS n = ROW_COUNT;
  total := total + n;
  DELETE FROM mail_outbox
   WHERE id IN (SELECT id FROM mail_outbox
                 WHERE status <> 'pending' AND created_at < cutoff
                 LIMIT p_batch FOR UPDATE SKIP LOCKED);
  GET DIAGNOSTICS n = ROW_COUNT;
  total := total + n;
  DELETE FROM outbox_events
   WHERE id IN (SELECT o.id FROM outbox_events o
                 WHERE NOT o.pending AND o.created_at < cutoff
                   AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = o.id)
                   AND NOT EXISTS (SELECT 1 FROM mail_outbox m WHERE m.event_id = o.id)
                 LIMIT p_batch FOR UPDATE SKIP LOCKED);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN total + n;
END $$;
