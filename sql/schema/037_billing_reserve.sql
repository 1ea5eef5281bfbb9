-- 037: subscription and schedule charges hold the rolling reserve
-- (docs/risk.md, "Reserves").
--
-- A charge's terms (tz_billing_terms) gained the reserve's percentage and
-- days, which the billing engine's payments now carry (payments.reserve_bps,
-- reserve_days) as a tip's do.  The functions that take those terms gain two
-- arguments; their old signatures go, so that no caller reaches a version
-- that holds nothing.  Payments already made keep the terms they were made
-- on (no reserve), as a tip made before TipzedReserve does.

DROP FUNCTION IF EXISTS tz_billing_terms(int, int, bigint, bigint, json);
DROP FUNCTION IF EXISTS tz_api_billing_charge(text, uuid, boolean, bigint, int, int, bigint,
                                              bigint, json);
DROP FUNCTION IF EXISTS tz_api_billing_offer(text, uuid, uuid, text, int, int, bigint, bigint,
                                             bigint, bigint, text, json);
DROP FUNCTION IF EXISTS tz_api_subscription_create(uuid, uuid, uuid, text, text, text, text,
                                                   boolean, int, int, bigint, bigint, text,
                                                   json);
DROP FUNCTION IF EXISTS tz_api_schedule_create(uuid, uuid, uuid, bigint, text, text, int,
                                               timestamptz, text, text, text, text, text, json,
                                               boolean, int, int, bigint, bigint, text, json);
