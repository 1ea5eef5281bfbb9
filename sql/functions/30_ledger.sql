-- The double-entry ledger's rules, enforced by PostgreSQL itself so they
-- hold whoever writes: the module, tipzedctl, or an operator with psql.
--
--   rule                                     enforced by
--   ---------------------------------------  ----------------------------------------
--   a user wallet never goes below zero      CHECK wallet_not_negative on accounts
--   (main and cashback balances alike)         and cashback_not_negative
--   a creator receivable never goes above    CHECK receivable_not_positive on accounts
--     zero (it is what the creator owes)
--   a posting is in its account's currency   FOREIGN KEY (account_id, currency)
--   entries and postings are append-only     BEFORE UPDATE/DELETE/TRUNCATE triggers
--     (a correction is a new, reversing        raising TZ002, whatever the client
--     entry)
--   an entry has >= 2 postings summing to    DEFERRABLE INITIALLY DEFERRED constraint
--     zero per currency                        triggers on journal_entries and postings,
--                                              checked at commit (TZ003)
--   a movement is posted at most once        journal_entries.reference UNIQUE
--                                              ('payment:<id>:credit', 'payout:<id>:hold')
--   cached balances move with their          tz_post_entry(), the one posting path
--     postings, in the same transaction
--   cached balances equal their postings,    tz_reconcile_ledger(), which reports each
--     balance_after is the running sum         mismatch by id
--   the runtime role cannot change history   it owns nothing and may only execute
--                                              tz_api_* functions (docs/database.md)
--   history changed anyway shows: each       journal_entries.hash (NOT NULL, UNIQUE),
--     entry's hash covers its content and      prev_hash, lane and the lane's head in
--     every entry before it in its lane        chain_lanes, written by tz_post_entry();
--                                              tz_verify_chain() recomputes them
--                                              (docs/receipts.md)
--
-- Every money movement is ONE call of a SQL function (one round trip, one
-- transaction): tz_post_entry() directly, or a business function built on
-- it (payments, refunds, payouts).  No client holds a transaction open
-- across round trips.
--
-- Lanes (schema step 039, docs/design.md "Lanes"): the ledger has 16
-- lanes, rows of chain_lanes.  A posting transaction takes one lane for all
-- its entries (tz_take_lane()) and locks only that lane's rows: its chain
-- head (chain_lanes) and the lane's sub-balances of system accounts
-- (account_lanes: the accounts without an owner, provider_clearing,
-- platform_fees, promotions...; their balance is the sum of their lanes,
-- tz_balance()).  Before the lanes every credit updated the same two
-- system balance rows and the one chain head, all held to its commit, so
-- credits committed one at a time whatever the concurrency; now up to 16
-- transactions post at once.
--
-- Concurrency (READ COMMITTED): tz_post_entry() locks the user accounts of
-- an entry (wallets, cashback, receivables, reserves) with SELECT ... ORDER
-- BY id FOR UPDATE, so concurrent entries on overlapping accounts queue in
-- one global order and cannot deadlock.  The overdraft check is made on
-- the locked row, so two concurrent debits of one wallet can never both
-- pass.  A system account's row is not locked: the entry moves its lane's
-- sub-balance, which only the holder of the lane's head updates.  Because
-- an account's (or a sub-balance's) postings are inserted while its lock
-- is held, posting ids increase with the order in which the balance moved:
-- balance_after is the running sum of amounts by id, per account and lane
-- (postings.lane; 0 for a user account).
-- Two calls with the same reference: the second waits (on the accounts'
-- and the lane head's locks, or on the unique index) until the first
-- commits, then inserts nothing and reports a duplicate.
--
-- The hash chains: every entry is linked to the one before it in its lane
-- under the lock of the lane's chain_lanes row, taken by tz_post_entry()
-- after all of the entry's user-account locks and held to the end of the
-- transaction.  A lane's entries are therefore chained one transaction at
-- a time, in the order their transactions take that lock; the entry's id
-- is drawn under it, so chain order is id order within a lane (the id
-- sequence keeps its CACHE of 1).  The lane is not part of an entry's
-- canonical text: an entry moved to another lane breaks the links of both
-- lanes, which verification reports.
--
-- Why the heads cannot deadlock: a head is the last contended lock of every
-- posting (a lane's sub-balances are locked after it, and only by its
-- holder), so a transaction waiting for a head waits in its first posting
-- and holds only what it locked before: its user accounts, and rows of its
-- own business (the payment, refund, dispute, payout, item or idempotency
-- key it is for, which no concurrent posting of another business
-- touches).  A transaction takes a head no other holds (SKIP LOCKED) and
-- waits for one only when all are held, and it never takes a second: its
-- later entries reuse its lane.  The holder of a head must never wait for
-- what a head waiter holds, so after its first posting a transaction locks
--   - no account that is not locked already: every user account its later
--     entries post to is locked with its first entry's, in the one id
--     order (tz_lock_accounts, tz_post_creator_entry's p_lock: a payment's
--     cashback and referral bonus, tz_takeback_accounts for a refund,
--     tz_dispute_accounts for a dispute event);
--   - only rows of its own business, or rows that every transaction locks
--     only after its first posting (creator_stats, the analytics rollups
--     creator_daily and creator_fan_daily, cashback_months, the
--     referred user's row, the invoice_counters row that numbers its
--     invoice or credit note).  Those are no longer taken by one head
--     holder at a time but by up to one per lane: holders queue on them
--     like on any row, and no head waiter holds one.  Two holders could
--     only deadlock by taking two of them in opposite orders, so each
--     kind is taken in creator order (tz_split_earnings locks a split
--     tip's creator_stats rows ORDER BY creator_id; the rollups insert
--     ORDER BY creator), and the other rows are the transaction's own
--     user's or issuer's, one per transaction.  Should a cycle still form,
--     PostgreSQL cancels one transaction (40P01) and nothing of it stays:
--     the call fails whole and may be repeated.
-- So no wait-for cycle can pass through a head.

-- Error codes (SQLSTATE) raised here:
--   TZ001  insufficient_funds: the entry would take a wallet below zero
--   TZ002  a ledger row (or another append-only row) was to be changed
--   TZ003  the entry is malformed: fewer than two non-zero legs, legs not
--          summing to zero, unknown account or wrong currency, a reference
--          reused for a different movement, or unbalanced at commit
--   TZ004  the lane has no head row in chain_lanes (or the table no rows): no
--          entry can be linked in it until it is restored
--   TZ021  wallet_frozen: the entry would debit a frozen wallet (accounts.md)
--   22023  tz_fee() outside its domain; tz_account() with an owner for a
--          system account, or without one for a wallet
-- A direct write of accounts.balance that would make a wallet negative fails
-- with 23514 (check_violation, constraint wallet_not_negative).
--
-- Bulk loads that insert entries and postings in separate transactions must
-- disable journal_entries_balanced and postings_balanced for the load and
-- run tz_reconcile_ledger() afterwards.
--
-- Triggers are declared next to their trigger function, as DROP TRIGGER IF
-- EXISTS + CREATE TRIGGER (constraint triggers cannot be replaced in
-- place); the whole file runs in one transaction, so no write ever sees a
-- table without them.

-- Append-only tables refuse UPDATE, DELETE and TRUNCATE.
CREATE OR REPLACE FUNCTION tz_ledger_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are immutable: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'TZ002',
          HINT = 'Post a new, reversing entry instead of changing one.';
END $$;

DROP TRIGGER IF EXISTS journal_entries_immutable ON journal_entries;
CREATE TRIGGER journal_entries_immutable BEFORE UPDATE OR DELETE ON journal_entries
  FOR EACH ROW EXECUTE FUNCTION tz_ledger_immutable();
DROP TRIGGER IF EXISTS journal_entries_no_truncate ON journal_entries;
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
  FOR EACH STATEMENT EXECUTE FUNCTION tz_ledger_immutable();
DROP TRIGGER IF EXISTS postings_immutable ON postings;
CREATE TRIGGER postings_immutable BEFORE UPDATE OR DELETE ON postings
  FOR EACH ROW EXECUTE FUNCTION tz_ledger_immutable();
DROP TRIGGER IF EXISTS postings_no_truncate ON postings;
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
  FOR EACH STATEMENT EXECUTE FUNCTION tz_ledger_immutable();

-- At commit: an entry created or extended in the transaction has at least
-- two postings, and they sum to zero in each currency.  The trigger on
-- journal_entries catches an entry left without postings; the one on
-- postings catches postings added to an entry of an earlier transaction.
-- A deferred trigger fires at COMMIT, after the tz_api_* function that
-- posted has returned, so it runs as the session's role: as its owner's
-- (SECURITY DEFINER) it can read postings when the session is the runtime
-- role, which may not.
CREATE OR REPLACE FUNCTION tz_entry_balanced() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  eid bigint;
  n bigint;
  bad text;
BEGIN
  IF TG_TABLE_NAME = 'postings' THEN
    eid := NEW.entry_id;
  ELSE
    eid := NEW.id;
  END IF;
  SELECT coalesce(sum(c), 0),
         string_agg(format('%s sums to %s', currency, s), ', ' ORDER BY currency)
           FILTER (WHERE s <> 0)
    INTO n, bad
    FROM (SELECT currency, sum(amount) AS s, count(*) AS c
            FROM postings WHERE entry_id = eid GROUP BY currency) per_currency;
  IF n < 2 OR bad IS NOT NULL THEN
    RAISE EXCEPTION 'journal entry % is unbalanced: % posting(s)%', eid, n,
      CASE WHEN bad IS NULL THEN ', at least 2 needed' ELSE ', ' || bad END
      USING ERRCODE = 'TZ003';
  END IF;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS journal_entries_balanced ON journal_entries;
CREATE CONSTRAINT TRIGGER journal_entries_balanced AFTER INSERT ON journal_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tz_entry_balanced();
DROP TRIGGER IF EXISTS postings_balanced ON postings;
CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tz_entry_balanced();

-- The id of an account, created on first use.  Race-safe: two concurrent
-- first uses both end with the one row (INSERT ... ON CONFLICT DO NOTHING
-- waits for the other insert to commit; the next statement's snapshot then
-- sees the winner's row).
CREATE OR REPLACE FUNCTION tz_account(p_kind text, p_owner uuid, p_provider text, p_currency text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  a bigint;
BEGIN
  IF (p_kind IN ('wallet', 'creator_receivable', 'cashback', 'reserve_hold')) IS DISTINCT FROM (p_owner IS NOT NULL) THEN
    RAISE EXCEPTION 'a % account %', p_kind,
      CASE WHEN p_owner IS NULL THEN 'needs an owner' ELSE 'has no owner' END
      USING ERRCODE = '22023';
  END IF;
  FOR attempt IN 1 .. 2 LOOP
    IF p_kind = 'wallet' THEN
      SELECT id INTO a FROM accounts
       WHERE kind = 'wallet' AND owner_id = p_owner AND currency = p_currency::bpchar;
    ELSIF p_kind IN ('creator_receivable', 'cashback', 'reserve_hold') THEN
      SELECT id INTO a FROM accounts
       WHERE kind = p_kind AND owner_id = p_owner AND currency = p_currency::bpchar;
    ELSE
      SELECT id INTO a FROM accounts
       WHERE kind = p_kind AND owner_id IS NULL AND coalesce(provider, '') = coalesce(p_provider, '')
         AND currency = p_currency::bpchar;
    END IF;
    EXIT WHEN a IS NOT NULL OR attempt = 2;
    INSERT INTO accounts (kind, owner_id, provider, currency)
    VALUES (p_kind, p_owner, p_provider, p_currency) ON CONFLICT DO NOTHING RETURNING id INTO a;
    EXIT WHEN a IS NOT NULL;
  END LOOP;
  RETURN a;
END $$;

-- The canonical text of a journal entry, the ONE definition of what an
-- entry's hash covers (docs/receipts.md).  Lines end with a line feed:
--
--   tipzed-entry-v1
--   id <entry id>
--   reference <the reference as a JSON string, PostgreSQL's to_json()>
--   kind <kind>
--   payment <payment id, or ->
--   payout <payout id, or ->
--   currency <the postings' currency (several: sorted, comma-separated), or ->
--   created_at <UTC, microseconds: 2026-05-01T12:34:56.123456Z>
--   posting <account id> <signed amount>      one line per posting, by posting id
--
-- tz_post_entry() gives it the entry it is about to insert (its legs in the
-- order their postings are inserted, which is their id order);
-- tz_verify_chain() and tz_api_receipt() give it what is stored.  Schema
-- step 021 spells the same text out to chain the entries posted before it.
CREATE OR REPLACE FUNCTION tz_entry_canonical(p_id bigint, p_reference text, p_kind text,
                                              p_payment uuid, p_payout uuid, p_currency text,
                                              p_created_at timestamptz, p_accounts bigint[],
                                              p_amounts bigint[])
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
  t text;
BEGIN
  t := format(E'tipzed-entry-v1\nid %s\nreference %s\nkind %s\npayment %s\npayout %s\n'
              || E'currency %s\ncreated_at %s\n',
              p_id, to_json(p_reference)::text, p_kind, coalesce(p_payment::text, '-'),
              coalesce(p_payout::text, '-'), coalesce(p_currency, '-'),
              to_char(p_created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'));
  FOR i IN 1 .. coalesce(cardinality(p_accounts), 0) LOOP
    t := t || format(E'posting %s %s\n', p_accounts[i], p_amounts[i]);
  END LOOP;
  RETURN t;
END $$;

-- An entry's hash: SHA-256 of its canonical text (UTF-8) followed by the
-- previous entry's hash (32 bytes; nothing for the chain's first entry).
CREATE OR REPLACE FUNCTION tz_entry_hash(p_canonical text, p_prev bytea) RETURNS bytea
LANGUAGE sql STABLE AS $$
  SELECT sha256(convert_to(p_canonical, 'UTF8') || coalesce(p_prev, '\x'::bytea))
$$;

-- The lane of the calling transaction, its head locked (the top of this
-- file): the lane it took for its first entry, or, for that first entry,
-- the first lane whose head no other transaction holds, tried from one
-- that depends on the session (pg_backend_pid()) so that sessions spread
-- over the lanes; when every head is held, it waits for that lane's.  The
-- lane is remembered in the transaction-local setting tipzed.lane, so all
-- entries of a transaction are in one lane and it holds one head; a
-- sub-transaction rolled back forgets the lane with the lock.
CREATE OR REPLACE FUNCTION tz_take_lane(p_reference text, OUT lane smallint, OUT hash bytea)
LANGUAGE plpgsql AS $$
DECLARE
  mine smallint := nullif(current_setting('tipzed.lane', true), '')::smallint;
  n int;
BEGIN
  IF mine IS NULL THEN
    n := (SELECT count(*) FROM chain_lanes);
    SELECT l.lane, l.hash INTO lane, hash FROM chain_lanes l
     ORDER BY (l.lane + pg_backend_pid()) % greatest(n, 1), l.lane
     FOR UPDATE SKIP LOCKED LIMIT 1;
    IF NOT FOUND THEN
      SELECT l.lane, l.hash INTO lane, hash FROM chain_lanes l
       ORDER BY (l.lane + pg_backend_pid()) % greatest(n, 1), l.lane LIMIT 1 FOR UPDATE;
    END IF;
    PERFORM set_config('tipzed.lane', lane::text, true);
  ELSE
    SELECT l.lane, l.hash INTO lane, hash FROM chain_lanes l WHERE l.lane = mine FOR UPDATE;
  END IF;
  IF lane IS NULL THEN
    RAISE EXCEPTION 'entry %: lane % has no head (table chain_lanes)', p_reference,
      coalesce(mine::text, 'any') USING ERRCODE = 'TZ004';
  END IF;
END $$;

-- A system account (no owner) gets its sub-balance rows, one per lane, as
-- it is created, whoever creates it.
CREATE OR REPLACE FUNCTION tz_account_lanes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO account_lanes (account_id, lane) SELECT NEW.id, l.lane FROM chain_lanes l;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS accounts_lanes ON accounts;
CREATE TRIGGER accounts_lanes AFTER INSERT ON accounts
  FOR EACH ROW WHEN (NEW.owner_id IS NULL) EXECUTE FUNCTION tz_account_lanes();

-- The balance of any account: a user account's cached balance, or the sum
-- of a system account's sub-balances.
CREATE OR REPLACE FUNCTION tz_balance(p_account bigint) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT a.balance + coalesce((SELECT sum(l.balance) FROM account_lanes l
                                  WHERE l.account_id = a.id), 0)::bigint
      FROM accounts a WHERE a.id = p_account);
END $$;

-- The one posting path.  Leg i moves p_amounts[i] (signed minor units of
-- p_currency) on account p_accounts[i]; zero legs are skipped (a zero fee),
-- and at least two non-zero legs summing to zero must remain.
--
-- Returns the entry id and duplicate = false; or, when p_reference was
-- posted before, that entry's id and duplicate = true, having written
-- nothing (a reference reused for another kind, payment or payout raises).
--
-- The accounts are locked in id order, then the chain's head (the last
-- lock: see the top of this file); the entry is inserted with its id drawn
-- now, its hash (tz_entry_canonical, tz_entry_hash) and the head's hash as
-- prev_hash; then each leg updates its cached balance and inserts its
-- posting with balance_after, and the head moves to the entry.  The hash
-- is computed from the legs about to be posted, not read back from the
-- postings: the entry row comes first (its postings reference it), is
-- never updated (append-only) and has its hash from the start (NOT NULL).
-- The postings store exactly those legs, in that order, and every
-- verification recomputes the hash from what was stored.  A leg that
-- would take a wallet (main or cashback) below zero raises TZ001
-- 'insufficient_funds': the whole call fails and nothing of the entry
-- remains, nor of its link (callers that want an answer instead catch
-- SQLSTATE TZ001 in a sub-block).
CREATE OR REPLACE FUNCTION tz_post_entry(p_reference text, p_kind text, p_payment uuid,
                                         p_payout uuid, p_currency text, p_accounts bigint[],
                                         p_amounts bigint[],
                                         OUT entry_id bigint, OUT duplicate boolean)
LANGUAGE plpgsql AS $$
DECLARE
  n_null bigint;
  n_legs bigint;
  total numeric;
  n_locked bigint;
  prior journal_entries;
  accts bigint[];
  amts bigint[];
  bal bigint;
  acct accounts;
  t timestamptz := now();
  prev bytea;
  h bytea;
  ln smallint;
  leg_lane smallint;
BEGIN
  -- unnest() of two arrays pads the shorter one with NULLs
  SELECT count(*) FILTER (WHERE a IS NULL OR m IS NULL), count(*) FILTER (WHERE m <> 0), sum(m)
    INTO n_null, n_legs, total
    FROM unnest(p_accounts, p_amounts) AS l(a, m);
  IF n_null > 0 OR array_ndims(p_accounts) <> 1 OR array_ndims(p_amounts) <> 1 THEN
    RAISE EXCEPTION 'entry %: accounts and amounts must be one-dimensional arrays of equal length without NULLs',
      p_reference USING ERRCODE = 'TZ003';
  ELSIF n_legs < 2 THEN
    RAISE EXCEPTION 'entry %: at least two non-zero legs are needed', p_reference
      USING ERRCODE = 'TZ003';
  ELSIF total <> 0 THEN
    RAISE EXCEPTION 'entry %: legs sum to %, not zero', p_reference, total USING ERRCODE = 'TZ003';
  END IF;

  -- user accounts locked; system accounts only counted (their lane's
  -- sub-balance rows are the lane's, locked by its head: see the top)
  SELECT count(*) INTO n_locked FROM (
    SELECT id FROM accounts WHERE id = ANY (p_accounts) AND currency = p_currency::bpchar
                              AND owner_id IS NOT NULL
     ORDER BY id FOR UPDATE) locked;
  n_locked := n_locked + (SELECT count(*) FROM accounts WHERE id = ANY (p_accounts)
                             AND currency = p_currency::bpchar AND owner_id IS NULL);
  IF n_locked <> (SELECT count(DISTINCT a) FROM unnest(p_accounts) a) THEN
    RAISE EXCEPTION 'entry %: an account is unknown or not in %', p_reference, p_currency
      USING ERRCODE = 'TZ003';
  END IF;

  SELECT l.lane, l.hash INTO ln, prev FROM tz_take_lane(p_reference) l;
  SELECT array_agg(a ORDER BY i), array_agg(m ORDER BY i) INTO accts, amts
    FROM unnest(p_accounts, p_amounts) WITH ORDINALITY AS l(a, m, i) WHERE m <> 0;
  entry_id := nextval('journal_entries_id_seq');
  h := tz_entry_hash(tz_entry_canonical(entry_id, p_reference, p_kind, p_payment, p_payout,
                                        p_currency::bpchar::text, t, accts, amts), prev);
  INSERT INTO journal_entries (id, reference, kind, payment_id, payout_id, created_at, hash,
                               prev_hash, lane)
  VALUES (entry_id, p_reference, p_kind, p_payment, p_payout, t, h, prev, ln)
  ON CONFLICT (reference) DO NOTHING;
  IF NOT FOUND THEN
    SELECT * INTO prior FROM journal_entries WHERE reference = p_reference;
    IF prior.kind <> p_kind OR prior.payment_id IS DISTINCT FROM p_payment
       OR prior.payout_id IS DISTINCT FROM p_payout THEN
      RAISE EXCEPTION 'reference % already names a different movement (entry %)',
        p_reference, prior.id USING ERRCODE = 'TZ003';
    END IF;
    entry_id := prior.id;
    duplicate := true;
    RETURN;
  END IF;
  duplicate := false;

  FOR i IN 1 .. cardinality(accts) LOOP
    UPDATE account_lanes SET balance = balance + amts[i]
     WHERE account_id = accts[i] AND lane = ln RETURNING balance INTO bal;
    IF FOUND THEN
      -- a system account: its lane's sub-balance moved (no overdraft
      -- rule, no freeze, no event: acct stays empty)
      acct := NULL;
      leg_lane := ln;
    ELSE
      UPDATE accounts SET balance = balance + amts[i]
       WHERE id = accts[i] AND (kind NOT IN ('wallet', 'cashback') OR balance + amts[i] >= 0)
       RETURNING * INTO acct;
      bal := acct.balance;
      leg_lane := 0;
    END IF;
    IF FOUND AND amts[i] < 0 AND acct.kind IN ('wallet', 'cashback')
       AND NOT tz_frozen_debit_allowed(p_kind) AND tz_wallet_frozen(acct.owner_id) THEN
      RAISE EXCEPTION 'wallet_frozen'
        USING ERRCODE = 'TZ021',
              DETAIL = format('entry %s: wallet account %s is frozen', p_reference, accts[i]);
    END IF;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'insufficient_funds'
        USING ERRCODE = 'TZ001',
              DETAIL = format('entry %s: wallet account %s cannot cover %s %s',
                              p_reference, accts[i], -amts[i], p_currency);
    END IF;
    INSERT INTO postings (entry_id, account_id, amount, currency, balance_after, lane)
    VALUES (entry_id, accts[i], amts[i], p_currency, bal, leg_lane);
    IF amts[i] > 0 AND acct.kind IN ('wallet', 'cashback') THEN
      PERFORM tz_emit('wallet.credited', ARRAY[acct.owner_id], json_build_object(
        'user_id', acct.owner_id, 'wallet', acct.kind, 'amount', amts[i], 'currency', p_currency,
        'balance', bal, 'entry_id', entry_id, 'entry_kind', p_kind, 'reference', p_reference,
        'payment_id', p_payment, 'payout_id', p_payout, 'created_at', tz_ts(t)));
    END IF;
  END LOOP;
  UPDATE chain_lanes SET entry_id = tz_post_entry.entry_id, hash = h WHERE lane = ln;
END $$;

-- Locks accounts in id order, the order tz_post_entry() locks them in, so
-- that a caller may read balances under the lock before deciding an
-- entry's legs without risking a deadlock against other entries.
CREATE OR REPLACE FUNCTION tz_lock_accounts(p_accounts bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM accounts WHERE id = ANY (p_accounts) AND owner_id IS NOT NULL
   ORDER BY id FOR UPDATE;
END $$;

-- Money owed to a creator (p_amount > 0) or taken from one (p_amount < 0),
-- split between the creator's wallet and receivable, the accounts being
-- locked already (tz_lock_accounts):
--   owed:  what the creator owes (the receivable's balance, <= 0) is
--          recovered first; the rest goes to the wallet.
--   taken: the wallet gives what it has; the rest becomes owed.
-- Returns the wallet's and the receivable's legs.
CREATE OR REPLACE FUNCTION tz_creator_legs(p_wallet bigint, p_receivable bigint, p_amount bigint,
                                           OUT wallet_leg bigint, OUT receivable_leg bigint)
LANGUAGE plpgsql AS $$
DECLARE
  have bigint;
  owed bigint;
BEGIN
  IF p_amount >= 0 THEN
    owed := coalesce(-(SELECT balance FROM accounts WHERE id = p_receivable), 0);
    receivable_leg := least(p_amount, owed);
  ELSE
    have := (SELECT balance FROM accounts WHERE id = p_wallet);
    receivable_leg := least(0, have + p_amount);
  END IF;
  wallet_leg := p_amount - receivable_leg;
END $$;
