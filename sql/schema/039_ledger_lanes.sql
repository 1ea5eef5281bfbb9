-- 039: the ledger's lanes (docs/design.md, "Lanes"; docs/receipts.md).
--
-- Every credit used to update the same two system balance rows
-- (provider_clearing, platform_fees) and the one chain_head row, each
-- locked to the end of its transaction: credits committed one at a time
-- whatever the concurrency.  The ledger now has 16 lanes, fixed here.  A
-- posting transaction takes one lane (tz_post_entry(), 30_ledger.sql) and
-- locks only that lane's rows:
--   chain_lanes      one row per lane: the last entry of the lane's chain
--                    and its hash (what chain_head was for the one chain);
--   account_lanes    one row per lane of each system account (an account
--                    without an owner): its sub-balance.  The balance of a
--                    system account is the sum of its sub-balances; its
--                    accounts.balance stays 0.  User accounts (wallets,
--                    cashback, receivables, reserves) keep their one
--                    balance on accounts, checked against overdraft as
--                    before.
--   journal_entries.lane   the lane whose chain the entry is in: chain
--                    order is id order within a lane;
--   postings.lane    the sub-balance the posting moved (0 for a user
--                    account): balance_after is the running sum of the
--                    postings of its (account, lane).
-- The entries posted before this step are lane 0's history: their chain
-- continues in lane 0, and each system account's balance moves to its lane
-- 0 sub-balance, so that every running sum still holds.

CREATE TABLE chain_lanes (
  lane     smallint PRIMARY KEY CHECK (lane >= 0),
  entry_id bigint,
  hash     bytea,
  CONSTRAINT chain_lanes_whole CHECK ((entry_id IS NULL) = (hash IS NULL))
);
INSERT INTO chain_lanes (lane) SELECT g FROM generate_series(0, 15) g;
UPDATE chain_lanes l SET entry_id = h.entry_id, hash = h.hash FROM chain_head h WHERE l.lane = 0;
DROP TABLE chain_head;

-- No foreign key to chain_lanes: its check would take a KEY SHARE lock on
-- the lane's head, which a posting holds FOR UPDATE, so a transaction
-- creating a system account (its first use) while holding its own lane
-- would wait for the other lanes' holders, and they for its new account:
-- a deadlock.  tz_account_lanes() makes the rows from chain_lanes, and
-- reconciliation reports postings in a lane without its sub-balance.
CREATE TABLE account_lanes (
  account_id bigint NOT NULL REFERENCES accounts (id),
  lane       smallint NOT NULL CHECK (lane >= 0),
  balance    bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, lane)
);
INSERT INTO account_lanes (account_id, lane, balance)
SELECT a.id, l.lane, CASE WHEN l.lane = 0 THEN a.balance ELSE 0 END
  FROM accounts a CROSS JOIN chain_lanes l WHERE a.owner_id IS NULL;
UPDATE accounts SET balance = 0 WHERE owner_id IS NULL AND balance <> 0;

-- constant defaults: no table rewrite, the rows before are lane 0's
ALTER TABLE journal_entries ADD COLUMN lane smallint NOT NULL DEFAULT 0;
ALTER TABLE postings ADD COLUMN lane smallint NOT NULL DEFAULT 0;
