-- 002: the double-entry ledger (SPEC §4).  Its rules are enforced by
-- PostgreSQL itself, so they hold whoever writes: the module, tipzedctl,
-- or an operator with psql.
--
--   rule                                     enforced by
--   ---------------------------------------  ----------------------------------------
--   a user wallet never goes below zero      CHECK wallet_not_negative on accounts
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
--
-- Amounts are signed integers of the currency's minor unit (bigint), never
-- floating point.
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
-- Two calls with the same reference: the second waits on the unique index
-- until the first commits, then inserts nothing and reports a duplicate.
--
-- Error codes (SQLSTATE) raised here:
--   TZ001  insufficient_funds: the entry would take a wallet below zero
--   TZ002  a ledger row (or another append-only row) was to be changed
--   TZ003  the entry is malformed: fewer than two non-zero legs, legs not
--          summing to zero, unknown account or wrong currency, a reference
--          reused for a different movement, or unbalanced at commit
--   22023  tz_fee() outside its domain; tz_account() with an owner for a
--          system account, or without one for a wallet
-- A direct write of accounts.balance that would make a wallet negative fails
-- with 23514 (check_violation, constraint wallet_not_negative).
--
-- Bulk loads that insert entries and postings in separate transactions must
-- disable journal_entries_balanced and postings_balanced for the load and
-- run tz_reconcile_ledger() afterwards.

CREATE TABLE accounts (
  id         bigserial PRIMARY KEY,
  kind       text NOT NULL CHECK (kind IN ('wallet', 'platform_fees', 'provider_clearing',
                                           'payout_hold', 'payouts_settled')),
  owner_id   uuid REFERENCES users (id),   -- wallets only: the user
  provider   text,                         -- provider_clearing only: the provider
  currency   char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  balance    bigint NOT NULL DEFAULT 0,    -- cache of sum(postings.amount)
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'wallet') = (owner_id IS NOT NULL)),
  CHECK ((kind = 'provider_clearing') = (provider IS NOT NULL)),
  CONSTRAINT wallet_not_negative CHECK (kind <> 'wallet' OR balance >= 0),
  UNIQUE (id, currency)                    -- target of the postings' currency key
);
-- One account per (kind, owner or provider, currency): a wallet per user
-- and currency, a system account per kind, provider and currency.  The
-- wallet key is on plain columns so that every wallet read by owner is an
-- index lookup.
CREATE UNIQUE INDEX accounts_wallet_key ON accounts (owner_id, currency) WHERE kind = 'wallet';
CREATE UNIQUE INDEX accounts_system_key
  ON accounts (kind, coalesce(provider, ''), currency) WHERE kind <> 'wallet';

CREATE TABLE journal_entries (
  id         bigserial PRIMARY KEY,
  reference  text NOT NULL UNIQUE CHECK (length(reference) BETWEEN 1 AND 200),
  kind       text NOT NULL CHECK (kind IN ('payment', 'refund', 'payout_hold', 'payout_settle',
                                           'payout_release', 'adjustment')),
  payment_id uuid,
  payout_id  uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX journal_entries_payment_idx ON journal_entries (payment_id) WHERE payment_id IS NOT NULL;
CREATE INDEX journal_entries_payout_idx ON journal_entries (payout_id) WHERE payout_id IS NOT NULL;

CREATE TABLE postings (
  id            bigserial PRIMARY KEY,
  uid           uuid NOT NULL DEFAULT gen_random_uuid(),  -- the id the API shows
  entry_id      bigint NOT NULL REFERENCES journal_entries (id),
  account_id    bigint NOT NULL,
  amount        bigint NOT NULL CHECK (amount <> 0),
  currency      char(3) NOT NULL,
  balance_after bigint NOT NULL,     -- the account's balance right after this posting
  created_at    timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (account_id, currency) REFERENCES accounts (id, currency)
);
-- Both indexes cover what the commit-time check and reconciliation read, so
-- those run as index-only scans streamed in order (no sort, no hash of a
-- million rows).  The wallet history reads postings_account_idx backwards
-- (newest first).
CREATE INDEX postings_entry_idx ON postings (entry_id) INCLUDE (currency, amount);
CREATE INDEX postings_account_idx ON postings (account_id, id) INCLUDE (amount, balance_after);

-- Append-only tables refuse UPDATE, DELETE and TRUNCATE.
CREATE FUNCTION tz_ledger_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are immutable: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'TZ002',
          HINT = 'Post a new, reversing entry instead of changing one.';
END $$;

CREATE TRIGGER journal_entries_immutable BEFORE UPDATE OR DELETE ON journal_entries
  FOR EACH ROW EXECUTE FUNCTION tz_ledger_immutable();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
  FOR EACH STATEMENT EXECUTE FUNCTION tz_ledger_immutable();
CREATE TRIGGER postings_immutable BEFORE UPDATE OR DELETE ON postings
  FOR EACH ROW EXECUTE FUNCTION tz_ledger_immutable();
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
  FOR EACH STATEMENT EXECUTE FUNCTION tz_ledger_immutable();

-- At commit: an entry created or extended in the transaction has at least
-- two postings, and they sum to zero in each currency.  The trigger on
-- journal_entries catches an entry left without postings; the one on
-- postings catches postings added to an entry of an earlier transaction.
CREATE FUNCTION tz_entry_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
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

CREATE CONSTRAINT TRIGGER journal_entries_balanced AFTER INSERT ON journal_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tz_entry_balanced();
CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tz_entry_balanced();

-- The id of an account, created on first use.  Race-safe: two concurrent
-- first uses both end with the one row (INSERT ... ON CONFLICT DO NOTHING
-- waits for the other insert to commit; the next statement's snapshot then
-- sees the winner's row).
CREATE FUNCTION tz_account(p_kind text, p_owner uuid, p_provider text, p_currency text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  a bigint;
BEGIN
  IF (p_kind = 'wallet') IS DISTINCT FROM (p_owner IS NOT NULL) THEN
    RAISE EXCEPTION 'a % account %', p_kind,
      CASE WHEN p_kind = 'wallet' THEN 'needs an owner' ELSE 'has no owner' END
      USING ERRCODE = '22023';
  END IF;
  FOR attempt IN 1 .. 2 LOOP
    IF p_kind = 'wallet' THEN
      SELECT id INTO a FROM accounts
       WHERE kind = 'wallet' AND owner_id = p_owner AND currency = p_currency::bpchar;
    ELSE
      SELECT id INTO a FROM accounts
       WHERE kind = p_kind AND kind <> 'wallet' AND coalesce(provider, '') = coalesce(p_provider, '')
         AND currency = p_currency::bpchar;
    END IF;
    EXIT WHEN a IS NOT NULL OR attempt = 2;
    INSERT INTO accounts (kind, owner_id, provider, currency)
    VALUES (p_kind, p_owner, p_provider, p_currency) ON CONFLICT DO NOTHING RETURNING id INTO a;
    EXIT WHEN a IS NOT NULL;
  END LOOP;
  RETURN a;
END $$;

-- The one posting path.  Leg i moves p_amounts[i] (signed minor units of
-- p_currency) on account p_accounts[i]; zero legs are skipped (a zero fee),
-- and at least two non-zero legs summing to zero must remain.
--
-- Returns the entry id and duplicate = false; or, when p_reference was
-- posted before, that entry's id and duplicate = true, having written
-- nothing (a reference reused for another kind, payment or payout raises).
--
-- The accounts are locked in id order, then each leg updates its cached
-- balance and inserts its posting with balance_after.  A leg that would take
-- a wallet below zero raises TZ001 'insufficient_funds': the whole call
-- fails and nothing of the entry remains (callers that want an answer
-- instead catch SQLSTATE TZ001 in a sub-block).
CREATE FUNCTION tz_post_entry(p_reference text, p_kind text, p_payment uuid, p_payout uuid,
                              p_currency text, p_accounts bigint[], p_amounts bigint[],
                              OUT entry_id bigint, OUT duplicate boolean)
LANGUAGE plpgsql AS $$
DECLARE
  n_null bigint;
  n_legs bigint;
  total numeric;
  n_locked bigint;
  prior journal_entries;
  leg record;
  bal bigint;
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

  INSERT INTO journal_entries (reference, kind, payment_id, payout_id)
  VALUES (p_reference, p_kind, p_payment, p_payout)
  ON CONFLICT (reference) DO NOTHING RETURNING id INTO entry_id;
  IF entry_id IS NULL THEN
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

  SELECT count(*) INTO n_locked FROM (
    SELECT id FROM accounts WHERE id = ANY (p_accounts) AND currency = p_currency::bpchar
     ORDER BY id FOR UPDATE) locked;
  IF n_locked <> (SELECT count(DISTINCT a) FROM unnest(p_accounts) a) THEN
    RAISE EXCEPTION 'entry %: an account is unknown or not in %', p_reference, p_currency
      USING ERRCODE = 'TZ003';
  END IF;

  FOR leg IN SELECT a, m FROM unnest(p_accounts, p_amounts) WITH ORDINALITY AS l(a, m, i)
              WHERE m <> 0 ORDER BY i LOOP
    UPDATE accounts SET balance = balance + leg.m
     WHERE id = leg.a AND (kind <> 'wallet' OR balance + leg.m >= 0)
     RETURNING balance INTO bal;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'insufficient_funds'
        USING ERRCODE = 'TZ001',
              DETAIL = format('entry %s: wallet account %s cannot cover %s %s',
                              p_reference, leg.a, -leg.m, p_currency);
    END IF;
    INSERT INTO postings (entry_id, account_id, amount, currency, balance_after)
    VALUES (entry_id, leg.a, leg.m, p_currency, bal);
  END LOOP;
END $$;

-- Platform fee, the same rule as tz_fee_compute() in C (mod_tipzed/tz_fee.c):
-- round half up of gross * bps / 10000 in exact arithmetic, for gross in
-- 1 .. 2^53 (the largest amount the API accepts) and bps in 0 .. 10000.
CREATE FUNCTION tz_fee(p_gross bigint, p_bps int) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
  IF p_gross <= 0 OR p_gross > 9007199254740992 OR p_bps < 0 OR p_bps > 10000 THEN
    RAISE EXCEPTION 'fee of % at % bps is undefined', p_gross, p_bps USING ERRCODE = '22023';
  END IF;
  RETURN div(p_gross::numeric * p_bps + 5000, 10000)::bigint;
END $$;

-- Ledger reconciliation: one row per mismatch, none on a healthy ledger.
--   entries_balanced     entry id: fewer than two postings, or a currency
--                        whose postings do not sum to zero
--   cached_balances      account id: balance differs from the sum of its
--                        postings, or a posting's balance_after differs from
--                        the running sum of the account's postings by id
--   no_negative_wallets  wallet account id with a balance below zero
-- Set-based: each check is one ordered pass over a covering index
-- (postings_entry_idx, postings_account_idx), about a second per million
-- postings, without sorting or hashing the postings.
-- JIT is off for it: correlated sub-queries that almost never run inflate
-- the estimated cost, and compiling them would take longer than the checks.
CREATE FUNCTION tz_reconcile_ledger() RETURNS TABLE (check_name text, id text, detail text)
LANGUAGE sql STABLE SET jit = off AS $$
  WITH per_entry AS (
    SELECT entry_id, count(*) AS n, sum(amount) AS total,
           min(currency) AS c_min, max(currency) AS c_max
      FROM postings GROUP BY entry_id
  ), running AS (
    SELECT * FROM (
      SELECT account_id, id AS posting_id, balance_after,
             sum(amount) OVER w AS run, lead(id) OVER w IS NULL AS last
        FROM postings WINDOW w AS (PARTITION BY account_id ORDER BY id)) r
     WHERE balance_after <> run OR last
  )
  SELECT 'entries_balanced', e.id::text,
         format('%s posting(s); sums: %s', coalesce(p.n, 0),
                coalesce((SELECT string_agg(format('%s %s', currency, s), ', ' ORDER BY currency)
                            FROM (SELECT currency, sum(amount) AS s FROM postings
                                   WHERE entry_id = e.id GROUP BY currency) c), 'none'))
    FROM journal_entries e LEFT JOIN per_entry p ON p.entry_id = e.id
   WHERE coalesce(p.n, 0) < 2 OR p.total <> 0
      OR (p.c_min <> p.c_max
          AND EXISTS (SELECT 1 FROM postings q WHERE q.entry_id = e.id
                       GROUP BY q.currency HAVING sum(q.amount) <> 0))
  UNION ALL
  SELECT 'cached_balances', a.id::text,
         format('cached %s, postings sum to %s', a.balance, coalesce(r.run, 0))
    FROM accounts a LEFT JOIN running r ON r.account_id = a.id AND r.last
   WHERE a.balance <> coalesce(r.run, 0)
  UNION ALL
  SELECT 'cached_balances', r.account_id::text,
         format('posting %s: balance_after %s, running sum %s', r.posting_id, r.balance_after, r.run)
    FROM running r WHERE r.balance_after <> r.run
  UNION ALL
  SELECT 'no_negative_wallets', a.id::text, format('balance %s', a.balance)
    FROM accounts a WHERE a.kind = 'wallet' AND a.balance < 0
$$;

-- The full report; later migrations add payment and payout checks.
CREATE FUNCTION tz_reconcile() RETURNS TABLE (check_name text, id text, detail text)
LANGUAGE sql STABLE AS $$
  SELECT * FROM tz_reconcile_ledger()
$$;
