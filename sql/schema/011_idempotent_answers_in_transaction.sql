-- 011: the answer of a money-moving request is stored under its
-- idempotency key by the SQL function that moves the money, in the same
-- transaction; the functions that did it in a second call afterwards are
-- dropped, and those that take the key now are dropped in their old form
-- (sql/functions/ creates the new ones in this migration).
DROP FUNCTION IF EXISTS tz_api_idem_finish(uuid, text, int, text);
DROP FUNCTION IF EXISTS tz_api_payment_create(uuid, uuid, uuid, bigint, text, text, text, int,
                                              bigint, text);
DROP FUNCTION IF EXISTS tz_api_payment_checkout(uuid, text, boolean);
DROP FUNCTION IF EXISTS tz_api_payment_refund(uuid);
DROP FUNCTION IF EXISTS tz_api_payout_request(uuid, uuid, bigint, text, text, text, bigint);
-- Open items are listed oldest first.
CREATE INDEX IF NOT EXISTS payments_review_idx ON payments (updated_at) WHERE status = 'review';
