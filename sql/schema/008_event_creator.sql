-- 008 made the payment-event function also return the payment's creator_id.
-- That function (now tz_api_apply_event) is written that way in
-- sql/functions/50_payments.sql; this step is kept so that databases which
-- recorded version 8 and fresh ones number their steps alike.
SELECT 1;
