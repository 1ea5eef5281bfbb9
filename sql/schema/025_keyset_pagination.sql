-- Keyset pagination: every list takes the id of the previous page's last
-- item (starting_after) besides limit and offset, so the list functions
-- gain an argument: their old signatures go (the function files define the
-- new ones).  Each list is read in its order (time, then id) from an index
-- holding both, so a page found by its predecessor is an index seek
-- however deep it is.
DROP FUNCTION IF EXISTS tz_api_payments_list(uuid, int, bigint);
DROP FUNCTION IF EXISTS tz_api_admin_disputes(text, int, bigint);
DROP FUNCTION IF EXISTS tz_api_subscriptions_list(uuid, text, int, bigint);
DROP FUNCTION IF EXISTS tz_api_schedules_list(uuid, int, bigint);
DROP FUNCTION IF EXISTS tz_api_bills_list(uuid, int, bigint);
DROP FUNCTION IF EXISTS tz_api_payouts_list(uuid, text, int, bigint);
DROP FUNCTION IF EXISTS tz_api_transfers_list(uuid, int, bigint);
DROP FUNCTION IF EXISTS tz_api_adjustments_list(text, int, bigint);
DROP FUNCTION IF EXISTS tz_api_wallet_transactions(uuid, text, int, bigint);
DROP FUNCTION IF EXISTS tz_wallet_lines(uuid, text, int, bigint);
DROP FUNCTION IF EXISTS tz_api_invoices_list(uuid, int, bigint);
DROP FUNCTION IF EXISTS tz_api_admin_transactions(text, uuid, uuid, timestamptz, timestamptz,
                                                  int, bigint);
DROP FUNCTION IF EXISTS tz_api_audit_log(int, bigint);
DROP FUNCTION IF EXISTS tz_api_endpoints_list(uuid, text, int, bigint);
DROP FUNCTION IF EXISTS tz_api_endpoint_deliveries(uuid, uuid, text, text, int, bigint);

-- A wallet line's public id (postings.uid) finds its posting: the cursor.
CREATE INDEX postings_uid_idx ON postings (uid);

-- (time, id) in every list's order; each replaces an index on its prefix.
DROP INDEX IF EXISTS payments_fan_idx;
CREATE INDEX payments_fan_idx ON payments (fan_id, created_at, id);
DROP INDEX IF EXISTS payments_creator_idx;
CREATE INDEX payments_creator_idx ON payments (creator_id, created_at, id);
DROP INDEX IF EXISTS payments_status_idx;
CREATE INDEX payments_status_idx ON payments (status, created_at, id);
CREATE INDEX payments_created_idx ON payments (created_at, id);
DROP INDEX IF EXISTS payouts_creator_idx;
CREATE INDEX payouts_creator_idx ON payouts (creator_id, created_at, id);
DROP INDEX IF EXISTS payouts_status_idx;
CREATE INDEX payouts_status_idx ON payouts (status, created_at, id);
CREATE INDEX payouts_created_idx ON payouts (created_at, id);
CREATE INDEX disputes_created_idx ON disputes (created_at, id);
CREATE INDEX adjustments_created_idx ON adjustments (created_at, id);
DROP INDEX IF EXISTS subscriptions_fan_idx;
CREATE INDEX subscriptions_fan_idx ON subscriptions (fan_id, created_at, id);
DROP INDEX IF EXISTS subscriptions_creator_idx;
CREATE INDEX subscriptions_creator_idx ON subscriptions (creator_id, created_at, id);
DROP INDEX IF EXISTS schedules_fan_idx;
CREATE INDEX schedules_fan_idx ON schedules (fan_id, created_at, id);
DROP INDEX IF EXISTS schedules_creator_idx;
CREATE INDEX schedules_creator_idx ON schedules (creator_id, created_at, id);
CREATE INDEX transfers_sender_page_idx ON transfers (sender_id, created_at, id);
DROP INDEX IF EXISTS transfers_recipient_idx;
CREATE INDEX transfers_recipient_idx ON transfers (recipient_id, created_at, id);
DROP INDEX IF EXISTS invoices_buyer_idx;
CREATE INDEX invoices_buyer_idx ON invoices (buyer_id, issued_at, id);
DROP INDEX IF EXISTS invoices_seller_idx;
CREATE INDEX invoices_seller_idx ON invoices (seller_id, issued_at, id);
DROP INDEX IF EXISTS webhook_endpoints_owner_idx;
CREATE INDEX webhook_endpoints_owner_idx ON webhook_endpoints (owner_id, created_at, id);
CREATE INDEX webhook_endpoints_created_idx ON webhook_endpoints (created_at, id);
DROP INDEX IF EXISTS webhook_deliveries_log_idx;
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (endpoint_id, created_at, event_seq, id);
CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at, event_seq, id);
CREATE INDEX accounts_user_idx ON accounts (id) WHERE kind IN ('wallet', 'cashback');
