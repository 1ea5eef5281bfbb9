-- 019: split payments.
--
-- A tip may share its net among up to 10 creators, each with a share in
-- basis points (the shares sum to 10000).  The payment's creator_id stays
-- its recipient of record (the primary creator) and is one of its splits.
-- A payment without rows here has one creator, who gets the whole net.
-- position is the creator's place in the request (1 first): the rounding
-- rule breaks ties by it.  amount is what the creator was credited, set
-- when the payment is credited (NULL before).  What the rows must satisfy
-- together (shares summing to 10000, the primary among them) is checked by
-- the creating functions (sql/functions/53_splits.sql) and by
-- reconciliation (split_entries).

CREATE TABLE payment_splits (
  payment_id uuid NOT NULL REFERENCES payments (id),
  creator_id uuid NOT NULL REFERENCES users (id),
  share_bps  int NOT NULL CHECK (share_bps BETWEEN 1 AND 10000),
  position   int NOT NULL CHECK (position BETWEEN 1 AND 10),
  amount     bigint CHECK (amount >= 0),
  PRIMARY KEY (payment_id, creator_id),
  UNIQUE (payment_id, position)
);
-- a creator's payments (GET /payments lists those it has a share of)
CREATE INDEX payment_splits_creator_idx ON payment_splits (creator_id, payment_id);

-- Payment creation takes the splits.
DROP FUNCTION IF EXISTS tz_api_payment_create(uuid, uuid, uuid, bigint, text, text, text, int,
                                              bigint, text, text, text, bigint, int, bigint,
                                              bigint);
DROP FUNCTION IF EXISTS tz_api_payment_wallet(uuid, uuid, uuid, bigint, text, text, int, int,
                                              bigint, bigint, text);
