-- Split payments: a tip's net shared among up to 10 creators
-- (docs/splits.md).
--
-- A tip created with splits [{creator_id, share_bps}, ...] stores them in
-- payment_splits, in the request's order (position 1 first).  Its credit is
-- still one entry, with one wallet leg per creator (and a receivable leg
-- for a creator who owes: tz_creator_legs()).  A payment without splits is
-- read as one split of 10000 bps for its creator_id, so that crediting,
-- refunds and disputes take one path for both.
--
-- The rule (largest remainder), tz_split_amounts(): a total T divided by
-- shares b_1..b_n (basis points summing to 10000) gives creator i
-- floor(T * b_i / 10000), and the ngwee left over (T less the sum of those,
-- fewer than n) go one each to the creators with the largest remainders
-- (T * b_i mod 10000), a tie going to the creator listed first.  The same
-- rule is mod_tipzed/tz_split.c's tz_split_amounts(); the cases of
-- tests/fixtures/split_cases.json hold both to the same answers.
--
-- Taking back (refunds, disputes): what is left of a payment's net,
-- net - N_taken (N_taken: refunded and disputed amounts less their fee
-- shares, tz_payment_net_taken), is divided by the same rule; each
-- movement takes from each creator the difference between its share of
-- what was left before the movement and after it.  So at every moment each
-- creator holds exactly the rule's share of the net left, partial refunds
-- add up per creator to exactly what a full refund takes, and a payment
-- taken back in full takes from each exactly what it was credited (its
-- share of 0 being 0).  A creator never gives back more than it was
-- credited: its share of what is left is never below 0.  (The rule's share
-- of a smaller total is not always smaller for every creator: a movement
-- may then leave one creator a ngwee more while taking one more from
-- another; the totals stay exact.)

-- The rule.  p_bps in the request's order; the answer in the same order.
-- 22023 outside its domain: a negative or NULL total, no shares, a share
-- outside 1..10000 or shares not summing to 10000.  Exact for every
-- bigint total: T * b is computed as (T / 10000) * b + (T % 10000) * b / 10000.
CREATE OR REPLACE FUNCTION tz_split_amounts(p_total bigint, p_bps int[]) RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  answer bigint[];
BEGIN
  IF p_total IS NULL OR p_total < 0 OR p_bps IS NULL OR cardinality(p_bps) = 0
     OR array_ndims(p_bps) <> 1 OR array_position(p_bps, NULL) IS NOT NULL
     OR EXISTS (SELECT 1 FROM unnest(p_bps) b WHERE b NOT BETWEEN 1 AND 10000)
     OR (SELECT sum(b) FROM unnest(p_bps) b) <> 10000 THEN
    RAISE EXCEPTION 'tz_split_amounts: % cannot be split by shares %', p_total, p_bps
      USING ERRCODE = '22023',
            HINT = 'The total is at least 0; the shares are 1..10000 bps and sum to 10000.';
  END IF;
  SELECT array_agg(base + CASE WHEN rk <= left_over THEN 1 ELSE 0 END ORDER BY i) INTO answer
    FROM (SELECT i, base, row_number() OVER (ORDER BY rem DESC, i) AS rk,
                 p_total - sum(base) OVER () AS left_over
            FROM (SELECT i, (p_total / 10000) * b + (p_total % 10000) * b / 10000 AS base,
                         (p_total % 10000) * b % 10000 AS rem
                    FROM unnest(p_bps) WITH ORDINALITY AS u(b, i)) s) r;
  RETURN answer;
END $$;

-- A payment's creators, in order, with their shares and what the rule
-- gives each of p_total: its payment_splits, or its creator_id alone.
CREATE OR REPLACE FUNCTION tz_payment_shares(p payments, p_total bigint)
RETURNS TABLE (creator_id uuid, share_bps int, pos int, amount bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  who uuid[];
  bps int[];
BEGIN
  SELECT array_agg(s.creator_id ORDER BY s.position), array_agg(s.share_bps ORDER BY s.position)
    INTO who, bps FROM payment_splits s WHERE s.payment_id = p.id;
  IF who IS NULL THEN
    who := ARRAY[p.creator_id];
    bps := ARRAY[10000];
  END IF;
  RETURN QUERY SELECT w, b, i::int, a
                 FROM unnest(who, bps, tz_split_amounts(p_total, bps)) WITH ORDINALITY
                      AS u(w, b, a, i)
                ORDER BY i;
END $$;

-- What refunds and disputes have taken back of a payment's net.
CREATE OR REPLACE FUNCTION tz_payment_net_taken(p payments) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT p.refunded_amount + p.disputed_amount - p.refunded_fee - p.disputed_fee
$$;

-- What taking back p_more more of payment p's net (a refund or a
-- dispute's hold; negative: a won dispute's release) takes from each of its
-- creators, in order: its share of the net left before, less its share of
-- the net left after.  The amounts sum to p_more.  p is the payment before
-- the movement's figures are added to it.
CREATE OR REPLACE FUNCTION tz_split_takeback(p payments, p_more bigint)
RETURNS TABLE (creator_id uuid, amount bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  left_now bigint := p.net - tz_payment_net_taken(p);
BEGIN
  RETURN QUERY SELECT b.creator_id, b.amount - a.amount
                 FROM tz_payment_shares(p, left_now - p_more) a
                 JOIN tz_payment_shares(p, left_now) b ON b.pos = a.pos
                ORDER BY a.pos;
END $$;

-- Every creator of a payment (the module drops each one's cached profile).
CREATE OR REPLACE FUNCTION tz_payment_creator_ids(p_id uuid) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT json_agg(c) FROM (
            SELECT creator_id AS c FROM payments WHERE id = p_id AND purpose <> 'topup'
            UNION SELECT creator_id FROM payment_splits WHERE payment_id = p_id) x);
END $$;

-- Posts one entry: the legs p_acc/p_amt, then, for each creator
-- p_creators[i], +p_amounts[i] (money owed to it: its receivable first if
-- it owes) or -p_amounts[i] (taken from it: its wallet as far as it goes,
-- the rest owed), split by tz_creator_legs().  Every account is locked
-- first, in the one global order, with p_lock (accounts that later steps
-- of the same transaction post to).  A creator's receivable is only looked
-- up (not created) when p_create_receivable is false: a credit needs one
-- only if it exists and is owed.
CREATE OR REPLACE FUNCTION tz_post_creator_entry(p_reference text, p_kind text, p_payment uuid,
                                                 p_currency text, p_acc bigint[],
                                                 p_amt bigint[], p_creators uuid[],
                                                 p_amounts bigint[], p_lock bigint[],
                                                 p_create_receivable boolean,
                                                 OUT entry_id bigint, OUT duplicate boolean)
LANGUAGE plpgsql AS $$
DECLARE
  w bigint[] := '{}';
  rv bigint[] := '{}';
  acc bigint[] := p_acc;
  amt bigint[] := p_amt;
  legs record;
  r record;
BEGIN
  FOR i IN 1 .. cardinality(p_creators) LOOP
    w := w || tz_account('wallet', p_creators[i], NULL, p_currency);
    IF p_create_receivable THEN
      rv := rv || tz_account('creator_receivable', p_creators[i], NULL, p_currency);
    ELSE
      rv := rv || (SELECT id FROM accounts
                    WHERE kind = 'creator_receivable' AND owner_id = p_creators[i]
                      AND currency = p_currency::bpchar AND balance < 0);
    END IF;
  END LOOP;
  PERFORM tz_lock_accounts(acc || w || array_remove(rv, NULL) || coalesce(p_lock, '{}'));
  FOR i IN 1 .. cardinality(p_creators) LOOP
    legs := tz_creator_legs(w[i], rv[i], p_amounts[i]);
    acc := acc || w[i];
    amt := amt || legs.wallet_leg;
    IF rv[i] IS NOT NULL THEN
      acc := acc || rv[i];
      amt := amt || legs.receivable_leg;
    END IF;
  END LOOP;
  SELECT * INTO r FROM tz_post_entry(p_reference, p_kind, p_payment, NULL, p_currency, acc, amt);
  entry_id := r.entry_id;
  duplicate := r.duplicate;
END $$;

-- A tip's creators' earnings move by what each was credited (p_amounts,
-- negative: taken back).  (A row is made first: the CHECK of an INSERT's
-- row holds even when ON CONFLICT turns it into an update.)
CREATE OR REPLACE FUNCTION tz_split_earnings(p payments, p_creators uuid[], p_amounts bigint[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF p.purpose <> 'topup' THEN
    INSERT INTO creator_stats (creator_id, currency)
    SELECT c, p.currency FROM unnest(p_creators) c
    ON CONFLICT (creator_id, currency) DO NOTHING;
    -- locked in creator order, as the analytics rollups are: postings of
    -- several lanes update these rows at once (30_ledger.sql, "Why the
    -- heads cannot deadlock")
    PERFORM 1 FROM creator_stats WHERE creator_id = ANY (p_creators) AND currency = p.currency
     ORDER BY creator_id FOR UPDATE;
    UPDATE creator_stats s SET earnings = s.earnings + u.a
      FROM unnest(p_creators, p_amounts) AS u(c, a)
     WHERE s.creator_id = u.c AND s.currency = p.currency AND u.a <> 0;
  END IF;
END $$;

-- The splits of a new tip (p_splits: [{creator_id, share_bps}, ...] as
-- the module validated them; NULL: none), checked again here: NULL when
-- they are acceptable, else {"error": "invalid_splits", "message": ...}.
-- p_payer is the payer when it pays from its wallet (which cannot pay
-- itself).
CREATE OR REPLACE FUNCTION tz_splits_check(p_creator uuid, p_payer uuid, p_splits json)
RETURNS json LANGUAGE plpgsql STABLE AS $$
DECLARE
  n int;
  bad text;
  why text;
BEGIN
  IF p_splits IS NULL THEN
    RETURN NULL;
  ELSIF json_typeof(p_splits) <> 'array' THEN
    why := 'must be an array';
  ELSE
    n := json_array_length(p_splits);
    IF n NOT BETWEEN 1 AND 10 THEN
      why := 'must name between 1 and 10 creators';
    ELSIF EXISTS (SELECT 1 FROM json_array_elements(p_splits) e
                   WHERE CASE WHEN json_typeof(e) <> 'object' THEN true
                              WHEN coalesce(e->>'creator_id', '')
                                   !~* '^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$' THEN true
                              WHEN coalesce(e->>'share_bps', '') !~ '^[0-9]{1,5}$' THEN true
                              ELSE (e->>'share_bps')::int NOT BETWEEN 1 AND 10000 END) THEN
      why := 'each entry must be {"creator_id": a UUID, "share_bps": 1..10000}';
    ELSIF (SELECT count(DISTINCT (e->>'creator_id')::uuid) FROM json_array_elements(p_splits) e) <> n THEN
      why := 'names a creator more than once';
    ELSIF (SELECT sum((e->>'share_bps')::int) FROM json_array_elements(p_splits) e) <> 10000 THEN
      why := 'shares must sum to 10000 basis points';
    ELSIF NOT EXISTS (SELECT 1 FROM json_array_elements(p_splits) e
                       WHERE (e->>'creator_id')::uuid = p_creator) THEN
      why := 'must include the payment''s creator_id';
    ELSIF p_payer IS NOT NULL AND EXISTS (SELECT 1 FROM json_array_elements(p_splits) e
                                           WHERE (e->>'creator_id')::uuid = p_payer) THEN
      why := 'names the payer: a wallet cannot pay itself';
    ELSE
      SELECT e->>'creator_id' INTO bad FROM json_array_elements(p_splits) e
       WHERE NOT EXISTS (SELECT 1 FROM creator_profiles c
                          WHERE c.user_id = (e->>'creator_id')::uuid)
       LIMIT 1;
      IF bad IS NOT NULL THEN
        why := format('%s is not a creator', bad);
      END IF;
    END IF;
  END IF;
  RETURN CASE WHEN why IS NOT NULL
              THEN json_build_object('error', 'invalid_splits', 'message', why) END;
END $$;

-- Stores a new payment's splits (checked by tz_splits_check()).
CREATE OR REPLACE FUNCTION tz_splits_store(p_payment uuid, p_splits json) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF p_splits IS NOT NULL THEN
    INSERT INTO payment_splits (payment_id, creator_id, share_bps, position)
    SELECT p_payment, (e->>'creator_id')::uuid, (e->>'share_bps')::int, i
      FROM json_array_elements(p_splits) WITH ORDINALITY AS u(e, i);
  END IF;
END $$;
