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
--     entry's hash covers its content and      prev_hash and chain_head, written by
--     every entry before it                    tz_post_entry(); tz_verify_chain()
--                                              recomputes them (docs/receipts.md)
--
-- Every money movement is ONE call of a SQL function (one round trip, one
-- transaction): tz_post_entry() directly, or a business function built on
-- it (payments, refunds, payouts).  No client holds a transaction open
-- across round trips.
--
-- Concurrency (READ COMMITTED): tz_post_entry() locks the accounts of an
-- entry with SELECT ... ORDER BY id FOR UPDATE, so concurrent entries on
-- overlapping accounts queue in one global order and cannot deadlock.  The
-- overdraft check is made on the locked row, so two concurrent debits of one
-- wallet can never both pass.  Because an account's postings are inserted
-- while its row lock is held, posting ids increase with the order in which
-- the balance moved: balance_after is the running sum of amounts by id.
-- Two calls with the same reference: the second waits (on the accounts'
-- and the chain head's locks, or on the unique index) until the first
-- commits, then inserts nothing and reports a duplicate.
--
-- The hash chain: every entry is linked to the one before it under the
-- lock of the single chain_head row, taken by tz_post_entry() after all
-- of the entry's account locks and held to the end of the transaction.
-- Entries are therefore chained one transaction at a time, in the order
-- their transactions take that lock; the entry's id is drawn under it, so
-- chain order is id order (the id sequence keeps its CACHE of 1).
--
-- Why the head cannot deadlock: it is the last lock of every posting, so
-- a transaction waiting for it waits in its first posting and holds only
-- what it locked before: its accounts, and rows of its own business (the
-- payment, refund, dispute, payout, item or idempotency key it is for,
-- which no concurrent posting of another business touches).  The holder
-- of the head must never wait for those, so after its first posting a
-- transaction locks
--   - no account that is not locked already: every account its later
--     entries post to is locked with its first entry's, in the one id
--     order (tz_lock_accounts, tz_post_creator_entry's p_lock: a payment's
--     cashback and referral bonus, tz_takeback_accounts for a refund,
--     tz_dispute_accounts for a dispute event);
--   - only rows of its own business, or rows that every transaction locks
--     only after its first posting (creator_stats, the analytics rollups
--     creator_daily and creator_fan_daily, cashback_months, the
--     referred user's row, the invoice_counters row that numbers its
--     invoice or credit note): those are taken by one head holder at a
--     time.
-- So no wait-for cycle can pass through the head.

-- Error codes (SQLSTATE) raised here:
--   TZ001  insufficient_funds: the entry would take a wallet below zero
--   TZ002  a ledger row (or another append-only row) was to be changed
--   TZ003  the entry is malformed: fewer than two non-zero legs, legs not
--          summing to zero, unknown account or wrong currency, a reference
--          reused for a different movement, or unbalanced at commit
--   TZ004  chain_head has no row: no entry can be linked until it is restored
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
  IF (p_kind IN ('wallet', 'creator_receivable', 'cashback')) IS DISTINCT FROM (p_owner IS NOT NULL) THEN
    RAISE EXCEPTION 'a % account %', p_kind,
      CASE WHEN p_owner IS NULL THEN 'needs an owner' ELSE 'has no owner' END
      USING ERRCODE = '22023';
  END IF;
  FOR attempt IN 1 .. 2 LOOP
    IF p_kind = 'wallet' THEN
      SELECT id INTO a FROM accounts
       WHERE kind = 'wallet' AND owner_id = p_owner AND currency = p_currency::bpchar;
    ELSIF p_kind IN ('creator_receivable', 'cashback') THEN
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

  SELECT count(*) INTO n_locked FROM (
    SELECT id FROM accounts WHERE id = ANY (p_accounts) AND currency = p_currency::bpchar
     ORDER BY id FOR UPDATE) locked;
  IF n_locked <> (SELECT count(DISTINCT a) FROM unnest(p_accounts) a) THEN
    RAISE EXCEPTION 'entry %: an account is unknown or not in %', p_reference, p_currency
      USING ERRCODE = 'TZ003';
  END IF;

  SELECT hash INTO prev FROM chain_head FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'entry %: the chain''s head (table chain_head) has lost its row', p_reference
      USING ERRCODE = 'TZ004';
  END IF;
  SELECT array_agg(a ORDER BY i), array_agg(m ORDER BY i) INTO accts, amts
    FROM unnest(p_accounts, p_amounts) WITH ORDINALITY AS l(a, m, i) WHERE m <> 0;
  entry_id := nextval('journal_entries_id_seq');
  h := tz_entry_hash(tz_entry_canonical(entry_id, p_reference, p_kind, p_payment, p_payout,
                                        p_currency::bpchar::text, t, accts, amts), prev);
  INSERT INTO journal_entries (id, reference, kind, payment_id, payout_id, created_at, hash,
                               prev_hash)
  VALUES (entry_id, p_reference, p_kind, p_payment, p_payout, t, h, prev)
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
    UPDATE accounts SET balance = balance + amts[i]
     WHERE id = accts[i] AND (kind NOT IN ('wallet', 'cashback') OR balance + amts[i] >= 0)
     RETURNING * INTO acct;
    bal := acct.balance;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'insufficient_funds'
        USING ERRCODE = 'TZ001',
              DETAIL = format('entry %s: wallet account %s cannot cover %s %s',
                              p_reference, accts[i], -amts[i], p_currency);
    END IF;
    INSERT INTO postings (entry_id, account_id, amount, currency, balance_after)
    VALUES (entry_id, accts[i], amts[i], p_currency, bal);
    IF amts[i] > 0 AND acct.kind IN ('wallet', 'cashback') THEN
      PERFORM tz_emit('wallet.credited', ARRAY[acct.owner_id], json_build_object(
        'user_id', acct.owner_id, 'wallet', acct.kind, 'amount', amts[i], 'currency', p_currency,
        'balance', bal, 'entry_id', entry_id, 'entry_kind', p_kind, 'reference', p_reference,
        'payment_id', p_payment, 'payout_id', p_payout, 'created_at', tz_ts(t)));
    END IF;
  END LOOP;
  UPDATE chain_head SET entry_id = tz_post_entry.entry_id, hash = h;
END $$;

-- Locks accounts in id order, the order tz_post_entry() locks them in, so
-- that a caller may read balances under the lock before deciding an
-- entry's legs without risking a deadlock against other entries.
CREATE OR REPLACE FUNCTION tz_lock_accounts(p_accounts bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM accounts WHERE id = ANY (p_accounts) ORDER BY id FOR UPDATE;
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
