-- 002: the double-entry ledger, enforced by PostgreSQL itself.
--
--  * journal_entries and postings are append-only: UPDATE, DELETE and
--    TRUNCATE raise (triggers), whatever the client.
--  * every entry's postings sum to zero per currency and number at least
--    two: a deferred constraint trigger checks it at commit.
--  * accounts.balance caches the sum of the account's postings; it changes
--    only inside tz_post_entry(), in the same transaction as the postings.
--  * a user wallet never goes below zero: CHECK constraint.
--  * a money movement is posted once: journal_entries.reference is UNIQUE
--    (e.g. 'payment:<id>:credit'), and tz_post_entry() inserts nothing when
--    the reference exists.

CREATE TABLE accounts (
  id         bigserial PRIMARY KEY,
  kind       text NOT NULL CHECK (kind IN ('wallet', 'platform_fees', 'provider_clearing',
                                           'payout_hold', 'payouts_settled')),
  owner_id   uuid REFERENCES users (id),
  provider   text,
  currency   char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  balance    bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'wallet') = (owner_id IS NOT NULL)),
  CHECK ((kind = 'provider_clearing') = (provider IS NOT NULL)),
  CONSTRAINT wallet_not_negative CHECK (kind <> 'wallet' OR balance >= 0)
);
CREATE UNIQUE INDEX accounts_identity_key
  ON accounts (kind, coalesce(owner_id::text, ''), coalesce(provider, ''), currency);

CREATE TABLE journal_entries (
  id         bigserial PRIMARY KEY,
  reference  text NOT NULL UNIQUE,
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
  account_id    bigint NOT NULL REFERENCES accounts (id),
  amount        bigint NOT NULL CHECK (amount <> 0),
  currency      char(3) NOT NULL,
  balance_after bigint NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX postings_entry_idx ON postings (entry_id);
-- The wallet history is read newest first per account.
CREATE INDEX postings_account_idx ON postings (account_id, id DESC);

CREATE FUNCTION tz_ledger_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger rows are immutable: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'TZ002';
END $$;

CREATE TRIGGER journal_entries_immutable BEFORE UPDATE OR DELETE ON journal_entries
  FOR EACH ROW EXECUTE FUNCTION tz_ledger_immutable();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
  FOR EACH STATEMENT EXECUTE FUNCTION tz_ledger_immutable();
CREATE TRIGGER postings_immutable BEFORE UPDATE OR DELETE ON postings
  FOR EACH ROW EXECUTE FUNCTION tz_ledger_immutable();
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
  FOR EACH STATEMENT EXECUTE FUNCTION tz_ledger_immutable();

-- At commit: the entry of each new posting balances per currency and has
-- at least two postings.
CREATE FUNCTION tz_entry_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  n int;
  bad text;
BEGIN
  SELECT count(*) INTO n FROM postings WHERE entry_id = NEW.entry_id;
  SELECT currency INTO bad FROM postings WHERE entry_id = NEW.entry_id
   GROUP BY currency HAVING sum(amount) <> 0 LIMIT 1;
  IF n < 2 OR bad IS NOT NULL THEN
    RAISE EXCEPTION 'journal entry % is unbalanced (% postings, currency %)',
      NEW.entry_id, n, coalesce(bad, '-') USING ERRCODE = 'TZ003';
  END IF;
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tz_entry_balanced();

-- The id of an account, created on first use (race-safe).
CREATE FUNCTION tz_account(p_kind text, p_owner uuid, p_provider text, p_currency text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  a bigint;
BEGIN
  SELECT id INTO a FROM accounts
   WHERE kind = p_kind AND coalesce(owner_id::text, '') = coalesce(p_owner::text, '')
     AND coalesce(provider, '') = coalesce(p_provider, '') AND currency = p_currency;
  IF a IS NULL THEN
    INSERT INTO accounts (kind, owner_id, provider, currency)
    VALUES (p_kind, p_owner, p_provider, p_currency) ON CONFLICT DO NOTHING RETURNING id INTO a;
    IF a IS NULL THEN
      SELECT id INTO a FROM accounts
       WHERE kind = p_kind AND coalesce(owner_id::text, '') = coalesce(p_owner::text, '')
         AND coalesce(provider, '') = coalesce(p_provider, '') AND currency = p_currency;
    END IF;
  END IF;
  RETURN a;
END $$;

-- The one posting path.  p_accounts[i] receives p_amounts[i] (signed minor
-- units) in p_currency; zero amounts are skipped.  Accounts are locked in id order so concurrent
-- entries cannot deadlock.  Returns the entry id and whether the reference
-- had been posted before (then nothing is written).  A wallet that would
-- go negative raises SQLSTATE TZ001 (insufficient_funds) and nothing of the
-- entry remains.
CREATE FUNCTION tz_post_entry(p_reference text, p_kind text, p_payment uuid, p_payout uuid,
                              p_currency text, p_accounts bigint[], p_amounts bigint[],
                              OUT entry_id bigint, OUT duplicate boolean)
LANGUAGE plpgsql AS $$
DECLARE
  i int;
  bal bigint;
  k text;
BEGIN
  IF array_length(p_accounts, 1) IS DISTINCT FROM array_length(p_amounts, 1)
     OR array_length(p_accounts, 1) < 2 THEN
    RAISE EXCEPTION 'an entry needs matching accounts and amounts, at least two' USING ERRCODE = 'TZ003';
  END IF;
  INSERT INTO journal_entries (reference, kind, payment_id, payout_id)
  VALUES (p_reference, p_kind, p_payment, p_payout)
  ON CONFLICT (reference) DO NOTHING RETURNING id INTO entry_id;
  IF entry_id IS NULL THEN
    SELECT id INTO entry_id FROM journal_entries WHERE reference = p_reference;
    duplicate := true;
    RETURN;
  END IF;
  duplicate := false;
  PERFORM 1 FROM accounts WHERE id = ANY (p_accounts) ORDER BY id FOR UPDATE;
  FOR i IN 1 .. array_length(p_accounts, 1) LOOP
    CONTINUE WHEN p_amounts[i] = 0;  -- e.g. a zero fee: no posting
    UPDATE accounts SET balance = balance + p_amounts[i]
     WHERE id = p_accounts[i] AND currency = p_currency
       AND (kind <> 'wallet' OR balance + p_amounts[i] >= 0)
     RETURNING balance INTO bal;
    IF bal IS NULL THEN
      SELECT kind INTO k FROM accounts WHERE id = p_accounts[i] AND currency = p_currency;
      IF k = 'wallet' THEN
        RAISE EXCEPTION 'insufficient_funds' USING ERRCODE = 'TZ001';
      END IF;
      RAISE EXCEPTION 'account % is not a % account', p_accounts[i], p_currency USING ERRCODE = 'TZ003';
    END IF;
    INSERT INTO postings (entry_id, account_id, amount, currency, balance_after)
    VALUES (entry_id, p_accounts[i], p_amounts[i], p_currency, bal);
  END LOOP;
END $$;

-- Platform fee, the same rule as tz_fee_compute() in C: round half up of
-- gross * bps / 10000, integers only.
CREATE FUNCTION tz_fee(p_gross bigint, p_bps int) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
  IF p_gross <= 0 OR p_bps < 0 OR p_bps > 10000 THEN
    RAISE EXCEPTION 'fee of % at % bps is undefined', p_gross, p_bps USING ERRCODE = 'TZ003';
  END IF;
  RETURN div(p_gross::numeric * p_bps + 5000, 10000)::bigint;
END $$;

-- Ledger reconciliation: one row per mismatch.
CREATE FUNCTION tz_reconcile_ledger() RETURNS TABLE (check_name text, id text, detail text)
LANGUAGE sql STABLE AS $$
  SELECT 'entries_balanced', e.entry_id::text,
         format('currency %s sums to %s', e.currency, e.total)
    FROM (SELECT entry_id, currency, sum(amount) AS total FROM postings
           GROUP BY entry_id, currency HAVING sum(amount) <> 0) e
  UNION ALL
  SELECT 'cached_balances', a.id::text,
         format('cached %s, postings sum to %s', a.balance, coalesce(s.total, 0))
    FROM accounts a
    LEFT JOIN (SELECT account_id, sum(amount) AS total FROM postings GROUP BY account_id) s
      ON s.account_id = a.id
   WHERE a.balance <> coalesce(s.total, 0)
  UNION ALL
  SELECT 'no_negative_wallets', a.id::text, format('balance %s', a.balance)
    FROM accounts a WHERE a.kind = 'wallet' AND a.balance < 0
$$;

-- The full report; later migrations add payment and payout checks.
CREATE FUNCTION tz_reconcile() RETURNS TABLE (check_name text, id text, detail text)
LANGUAGE sql STABLE AS $$
  SELECT * FROM tz_reconcile_ledger()
$$;
