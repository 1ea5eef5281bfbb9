-- Rolling reserves (docs/risk.md, "Reserves").
--
--   credit   a payment created under TipzedReserve percent days
--            (payments.reserve_bps, reserve_days: fixed at creation, as
--            the fee is) holds, of each creator's share S of the credit,
--            R = floor(S * bps / 10000) in the creator's reserve_hold
--            account, in the credit's own entry: the wallet (and the
--            receivable, when the creator owes) gets S - R, never less.
--            One reserve_holds row per payment and creator remembers R
--            and when it is released (tz_reserve_clock() + days).
--   release  tz_api_reserve_release(), the watchdog's job: each matured
--            hold's rest (amount - drawn) moves reserve_hold -> wallet
--            (repaying a receivable first) in one entry of kind
--            reserve_release, 'reserve:<hold id>:release'.  The holds are
--            claimed FOR UPDATE SKIP LOCKED, so several nodes running the
--            job release each hold once.
--   draws    what a refund or a dispute takes from a creator comes from
--            the reserve first, then the wallet, then the receivable: a
--            refund draws only its own payment's hold; a dispute its own
--            payment's hold, then the creator's other unreleased holds in
--            the same currency, the soonest released first.  A hold that
--            the release job holds at that moment is skipped (it is
--            becoming wallet money).  A won dispute gives back to the
--            wallet (dispute_release), not to the holds it drew on.
--
-- Lock order: the holds are only ever locked with SKIP LOCKED, so nothing
-- waits for one; the release job locks its holds, then every account it
-- posts to in one batch before its first entry (30_ledger.sql).

-- The reserve's "now": the sandbox's billing clock (tz_clock), which is
-- the real clock unless a sandbox deployment moved it (POST
-- /sandbox/clock is refused without the sandbox).  So tests move time
-- instead of waiting for it, and hold and release read the same clock.
CREATE OR REPLACE FUNCTION tz_reserve_clock() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT tz_clock(true)
$$;

-- The reserve's share of p_amount (>= 0): rounded down, exact for every
-- bigint (the same arithmetic as tz_split_amounts; mod_tipzed/tz_reserve.c
-- is the same rule for the module's checks and its unit tests).
CREATE OR REPLACE FUNCTION tz_reserve_share(p_amount bigint, p_bps int) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_amount <= 0 OR p_bps <= 0 THEN 0
              ELSE (p_amount / 10000) * p_bps + (p_amount % 10000) * p_bps / 10000 END
$$;

-- The legs a credit of payment p adds for the reserve, and what is held of
-- each share (p_who, p_share: its creators and their shares of the net).
-- A top-up is the payer's own money: nothing is held.
CREATE OR REPLACE FUNCTION tz_reserve_credit_legs(p payments, p_who uuid[], p_share bigint[],
                                                  OUT acc bigint[], OUT amt bigint[],
                                                  OUT held bigint[])
LANGUAGE plpgsql AS $$
BEGIN
  acc := '{}';
  amt := '{}';
  held := array_fill(0::bigint, ARRAY[cardinality(p_who)]);
  IF p.purpose = 'topup' OR p.reserve_bps = 0 THEN
    RETURN;
  END IF;
  FOR i IN 1 .. cardinality(p_who) LOOP
    held[i] := tz_reserve_share(p_share[i], p.reserve_bps);
    IF held[i] > 0 THEN
      acc := acc || tz_account('reserve_hold', p_who[i], NULL, p.currency);
      amt := amt || held[i];
    END IF;
  END LOOP;
END $$;

-- Records the holds of a credit just posted, and its creators' first
-- credit (TipzedFirstPayoutDelay; a top-up is no creator's credit).  The
-- profile rows are locked after the entry, as creator_stats are.
CREATE OR REPLACE FUNCTION tz_reserve_record(p payments, p_who uuid[], p_held bigint[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF p.purpose <> 'topup' THEN
    UPDATE creator_profiles SET first_credit_at = tz_reserve_clock()
     WHERE user_id = ANY (p_who) AND first_credit_at IS NULL;
  END IF;
  INSERT INTO reserve_holds (payment_id, creator_id, currency, amount, release_at)
  SELECT p.id, u.c, p.currency, u.h, tz_reserve_clock() + make_interval(days => p.reserve_days)
    FROM unnest(p_who, p_held) AS u(c, h) WHERE u.h > 0;
END $$;

-- The reserve accounts of payment p's creators that exist (a dispute
-- event locks them with its other accounts).
CREATE OR REPLACE FUNCTION tz_reserve_accounts(p payments) RETURNS bigint[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT coalesce(array_agg(a.id), '{}') FROM accounts a
     WHERE a.kind = 'reserve_hold' AND a.currency = p.currency
       AND a.owner_id IN (SELECT p.creator_id UNION
                          SELECT creator_id FROM payment_splits WHERE payment_id = p.id));
END $$;

-- Draws on the reserve for a takeback of payment p: p_moved[i] < 0 is
-- what is taken from creator p_who[i].  Returns the reserve's legs and
-- what is still to take from each creator's wallet (and receivable).
-- p_any: a dispute, which may draw on the creator's other holds too.
CREATE OR REPLACE FUNCTION tz_reserve_draw(p payments, p_who uuid[], p_moved bigint[],
                                           p_any boolean, OUT acc bigint[], OUT amt bigint[],
                                           OUT rest bigint[])
LANGUAGE plpgsql AS $$
DECLARE
  h record;
  want bigint;
  took bigint;
  d bigint;
BEGIN
  acc := '{}';
  amt := '{}';
  rest := p_moved;
  FOR i IN 1 .. coalesce(cardinality(p_who), 0) LOOP
    want := -p_moved[i];
    took := 0;
    CONTINUE WHEN want <= 0;
    FOR h IN SELECT * FROM reserve_holds
              WHERE creator_id = p_who[i] AND currency = p.currency AND released_at IS NULL
                AND drawn < amount AND (payment_id = p.id OR p_any)
              ORDER BY payment_id = p.id DESC, release_at, id
                FOR UPDATE SKIP LOCKED LOOP
      EXIT WHEN took = want;
      d := least(h.amount - h.drawn, want - took);
      UPDATE reserve_holds SET drawn = drawn + d WHERE id = h.id;
      took := took + d;
    END LOOP;
    IF took > 0 THEN
      acc := acc || tz_account('reserve_hold', p_who[i], NULL, p.currency);
      amt := amt || -took;
      rest[i] := p_moved[i] + took;
    END IF;
  END LOOP;
END $$;

-- The watchdog's job: releases up to p_limit matured holds, each in its
-- own entry.  {"released": n, "amount": the sum moved}.
CREATE OR REPLACE FUNCTION tz_api_reserve_release(p_limit int)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  ids bigint[];
  h reserve_holds;
  eid bigint;
  n int := 0;
  total bigint := 0;
BEGIN
  SELECT array_agg(id ORDER BY id) INTO ids FROM (
    SELECT id FROM reserve_holds
     WHERE released_at IS NULL AND release_at <= tz_reserve_clock()
     ORDER BY release_at, id LIMIT p_limit FOR UPDATE SKIP LOCKED) due;
  IF ids IS NULL THEN
    RETURN json_build_object('released', 0, 'amount', 0);
  END IF;
  -- every account the entries post to, in one batch before the first
  PERFORM tz_lock_accounts(ARRAY(
    SELECT tz_account(k, x.creator_id, NULL, x.currency)
      FROM (SELECT DISTINCT creator_id, currency FROM reserve_holds WHERE id = ANY (ids)) x,
           unnest(ARRAY['reserve_hold', 'wallet', 'creator_receivable']) k));
  FOR h IN SELECT * FROM reserve_holds WHERE id = ANY (ids) ORDER BY id LOOP
    eid := NULL;
    IF h.amount > h.drawn THEN
      SELECT entry_id INTO eid FROM tz_post_creator_entry(
        'reserve:' || h.id || ':release', 'reserve_release', h.payment_id, h.currency,
        ARRAY[tz_account('reserve_hold', h.creator_id, NULL, h.currency)],
        ARRAY[-(h.amount - h.drawn)], ARRAY[h.creator_id], ARRAY[h.amount - h.drawn], NULL,
        true);
      total := total + h.amount - h.drawn;
    END IF;
    UPDATE reserve_holds SET released_at = now(), release_entry_id = eid
     WHERE id = h.id;
    n := n + 1;
  END LOOP;
  RETURN json_build_object('released', n, 'amount', total);
END $$;

-- GET /wallets/me's reserve: what is held and when it is released (per
-- UTC day, soonest first).
CREATE OR REPLACE FUNCTION tz_reserve_json(p_user uuid, p_currency text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN json_build_object(
    'reserved', coalesce((SELECT balance FROM accounts WHERE kind = 'reserve_hold'
                           AND owner_id = p_user AND currency = p_currency), 0),
    'reserve_schedule', coalesce((
      SELECT json_agg(json_build_object('release_on', d, 'amount', s) ORDER BY d)
        FROM (SELECT to_char(release_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS d,
                     sum(amount - drawn) AS s
                FROM reserve_holds
               WHERE creator_id = p_user AND currency = p_currency AND released_at IS NULL
                 AND amount > drawn
               GROUP BY 1) x), '[]'::json));
END $$;

-- TipzedFirstPayoutDelay: when a creator's first payout may be requested,
-- p_days after the creator's first payment credit (a tip, a split share, a
-- subscription's charge: the money a stolen card brings; transfers and
-- adjustments move money already cleared); NULL when it may be now (no
-- delay, a payout requested before, or no payment credited yet: the
-- balance check then answers).
CREATE OR REPLACE FUNCTION tz_payout_opens_at(p_creator uuid, p_days int) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
  opens timestamptz;
BEGIN
  IF p_days <= 0 OR EXISTS (SELECT 1 FROM payouts WHERE creator_id = p_creator
                                AND status NOT IN ('rejected', 'cancelled', 'failed')) THEN
    RETURN NULL;
  END IF;
  opens := (SELECT first_credit_at FROM creator_profiles WHERE user_id = p_creator)
           + make_interval(days => p_days);
  RETURN CASE WHEN opens > tz_reserve_clock() THEN opens END;
END $$;

-- reserve_holds: each reserve account's balance is what its unreleased
-- holds keep (amount - drawn); each released hold with something left has
-- one reserve_release entry that moved exactly that from the reserve, and
-- every reserve_release entry is a hold's.
CREATE OR REPLACE FUNCTION tz_reconcile_reserves() RETURNS TABLE (check_name text, id text,
                                                                  detail text)
LANGUAGE sql STABLE AS $$
  SELECT 'reserve_holds', a.id::text,
         format('reserve balance %s, unreleased holds keep %s', a.balance, coalesce(x.s, 0))
    FROM accounts a
    LEFT JOIN (SELECT creator_id, currency, sum(amount - drawn) AS s FROM reserve_holds
                WHERE released_at IS NULL GROUP BY 1, 2) x
      ON x.creator_id = a.owner_id AND x.currency = a.currency
   WHERE a.kind = 'reserve_hold' AND a.balance <> coalesce(x.s, 0)
  UNION ALL
  SELECT 'reserve_holds', 'hold:' || h.id,
         format('released with %s left: entry %s moved %s from the reserve', h.amount - h.drawn,
                coalesce(h.release_entry_id::text, 'none'), coalesce(m.moved, 0))
    FROM reserve_holds h
    LEFT JOIN LATERAL (SELECT -sum(q.amount) AS moved FROM postings q
                         JOIN accounts a ON a.id = q.account_id AND a.kind = 'reserve_hold'
                        WHERE q.entry_id = h.release_entry_id) m ON true
   WHERE h.released_at IS NOT NULL
     AND coalesce(m.moved, 0) <> h.amount - h.drawn
  UNION ALL
  SELECT 'reserve_holds', e.id::text, format('reserve_release entry %s names no hold', e.reference)
    FROM journal_entries e
   WHERE e.kind = 'reserve_release'
     AND NOT EXISTS (SELECT 1 FROM reserve_holds h WHERE h.release_entry_id = e.id)
$$;
