-- The posting path of a credit, reduced to what decides its throughput,
-- in two layouts (docs/scale.md, "The sharding simulation").  Loaded by
-- tests/scale/shard_sim.sh into a throwaway database of its own: nothing
-- here is part of the product's schema.
--
-- A credit is one transaction: one journal entry, three postings
-- (clearing -amount, creator +net, fees +fee) and the three balances they
-- move.  Creators are 1..:creators; account 0 of a shard is its clearing
-- account, -1 its fees account.
--
--   today    one shard: every credit updates the one clearing row and the
--            one fees row, so credits serialize on two row locks held
--            until commit.
--   sharded  the same tables partitioned by shard (LIST on shard), each
--            partition standing in for one database of a sharded ledger,
--            with its own clearing and fees sub-balances; a creator's
--            shard is creator % :shards, and a credit touches only rows of
--            its creator's shard.
--   ceiling  one small INSERT per transaction: the machine's commit rate.

\set ON_ERROR_STOP 1
DROP SCHEMA IF EXISTS today, sharded, ceiling CASCADE;

CREATE SCHEMA ceiling;
CREATE TABLE ceiling.rows (id bigserial PRIMARY KEY, v int NOT NULL);

CREATE SCHEMA today;
CREATE TABLE today.accounts (id int PRIMARY KEY, balance bigint NOT NULL DEFAULT 0);
CREATE TABLE today.entries (id bigserial PRIMARY KEY, creator int NOT NULL,
                            amount bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE today.postings (entry bigint NOT NULL, account int NOT NULL, amount bigint NOT NULL);
INSERT INTO today.accounts (id) SELECT g FROM generate_series(-1, :creators) g;

CREATE FUNCTION today.credit(p_creator int, p_amount bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  fee bigint := p_amount * 5 / 100;
  e bigint;
BEGIN
  INSERT INTO today.entries (creator, amount) VALUES (p_creator, p_amount) RETURNING id INTO e;
  INSERT INTO today.postings VALUES (e, 0, -p_amount), (e, p_creator, p_amount - fee), (e, -1, fee);
  UPDATE today.accounts SET balance = balance + p_amount - fee WHERE id = p_creator;
  UPDATE today.accounts SET balance = balance - p_amount WHERE id = 0;
  UPDATE today.accounts SET balance = balance + fee WHERE id = -1;
END $$;

CREATE SCHEMA sharded;
CREATE TABLE sharded.accounts (shard int NOT NULL, id int NOT NULL,
                               balance bigint NOT NULL DEFAULT 0, PRIMARY KEY (shard, id))
  PARTITION BY LIST (shard);
CREATE TABLE sharded.entries (shard int NOT NULL, id bigserial, creator int NOT NULL,
                              amount bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
                              PRIMARY KEY (shard, id))
  PARTITION BY LIST (shard);
CREATE TABLE sharded.postings (shard int NOT NULL, entry bigint NOT NULL, account int NOT NULL,
                               amount bigint NOT NULL)
  PARTITION BY LIST (shard);

SELECT format('CREATE TABLE sharded.%s_%s PARTITION OF sharded.%s FOR VALUES IN (%s)', t, s, t, s)
  FROM generate_series(0, :shards - 1) s, unnest(ARRAY['accounts', 'entries', 'postings']) t
\gexec

-- every shard's own clearing (0) and fees (-1) sub-balances, and its creators
INSERT INTO sharded.accounts (shard, id)
SELECT s, a FROM generate_series(0, :shards - 1) s, (VALUES (0), (-1)) v(a);
-- (every creator in every shard, so that a run may use fewer shards)
INSERT INTO sharded.accounts (shard, id)
SELECT s, g FROM generate_series(0, :shards - 1) s, generate_series(1, :creators) g;

-- What a router does before the transaction: the creator's shard.  Here
-- the shard is a partition of one database, so the credit stays one
-- transaction on one PostgreSQL, as it would on the creator's shard.
CREATE FUNCTION sharded.credit(p_creator int, p_amount bigint, p_shards int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  s int := p_creator % p_shards;
  fee bigint := p_amount * 5 / 100;
  e bigint;
BEGIN
  INSERT INTO sharded.entries (shard, creator, amount) VALUES (s, p_creator, p_amount)
  RETURNING id INTO e;
  INSERT INTO sharded.postings VALUES (s, e, 0, -p_amount), (s, e, p_creator, p_amount - fee),
                                      (s, e, -1, fee);
  UPDATE sharded.accounts SET balance = balance + p_amount - fee
   WHERE shard = s AND id = p_creator;
  UPDATE sharded.accounts SET balance = balance - p_amount WHERE shard = s AND id = 0;
  UPDATE sharded.accounts SET balance = balance + fee WHERE shard = s AND id = -1;
END $$;

-- The books balance in both layouts: every credit's postings sum to zero,
-- and each shard's balances are the sums of its postings.
CREATE FUNCTION sharded.check() RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN (SELECT coalesce(sum(amount), 0) FROM sharded.postings) = 0
               AND (SELECT coalesce(sum(balance), 0) FROM sharded.accounts) = 0
               AND NOT EXISTS (SELECT 1 FROM sharded.accounts a
                                 LEFT JOIN (SELECT shard, account, sum(amount) AS total
                                              FROM sharded.postings GROUP BY 1, 2) p
                                   ON p.shard = a.shard AND p.account = a.id
                                WHERE a.balance <> coalesce(p.total, 0))
              THEN 'balanced' ELSE 'UNBALANCED' END
$$;
CREATE FUNCTION today.check() RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN (SELECT coalesce(sum(amount), 0) FROM today.postings) = 0
               AND (SELECT coalesce(sum(balance), 0) FROM today.accounts) = 0
              THEN 'balanced' ELSE 'UNBALANCED' END
$$;
