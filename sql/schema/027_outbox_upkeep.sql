-- 027: outbox upkeep (docs/webhooks.md, "Retention").
--
-- Mail is made for every event that has a recipient, whichever node fans
-- the event out, so that a node without TipzedSMTP never drops the mail a
-- node with it would send; a mail no node tried within three days is
-- marked expired rather than sent late.  Finished deliveries, mails and
-- events are removed after TipzedOutboxRetention: the indexes below find
-- them by age.  The attempts' resend flag was never set by anything.

ALTER TABLE webhook_attempts DROP COLUMN IF EXISTS resend;

ALTER TABLE mail_outbox DROP CONSTRAINT IF EXISTS mail_outbox_status_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_status_check
  CHECK (status IN ('pending', 'sent', 'failed', 'expired'));

CREATE INDEX IF NOT EXISTS webhook_deliveries_done_idx ON webhook_deliveries (created_at)
  WHERE status <> 'pending';
CREATE INDEX IF NOT EXISTS mail_outbox_done_idx ON mail_outbox (created_at)
  WHERE status <> 'pending';
CREATE INDEX IF NOT EXISTS mail_outbox_untried_idx ON mail_outbox (created_at)
  WHERE status = 'pending' AND attempts = 0;
CREATE INDEX IF NOT EXISTS outbox_events_done_idx ON outbox_events (created_at)
  WHERE NOT pending;

-- The events a delivery refers to: found by event when events are pruned.
CREATE INDEX IF NOT EXISTS webhook_deliveries_event_idx ON webhook_deliveries (event_id);

DROP FUNCTION IF EXISTS tz_api_outbox_fanout(boolean, int);
