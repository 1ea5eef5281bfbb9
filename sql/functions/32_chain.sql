-- The ledger's hash chain, read back (docs/receipts.md): the whole chain
-- verified (tipzedctl verify-chain) and one entry's receipt (GET
-- /receipts/{hash}).  The chain is written by tz_post_entry(), whose file
-- (30_ledger.sql) also holds the canonical text and the hash rule,
-- tz_entry_canonical() and tz_entry_hash(), used here as they are there.
--
-- The ledger has lanes (schema step 039), each with its chain: an entry's
-- lane is journal_entries.lane, and chain order is id order within a
-- lane.  Entry k is whole when its hash is tz_entry_hash(canonical text of
-- what is stored of it, its prev_hash) and its prev_hash is the hash of
-- the entry before it in its lane (none for the lane's first); the ledger
-- is whole when every entry is, and each lane's head (chain_lanes) names
-- the lane's last entry and its hash.

-- Every broken link, in chain order (none: the chain is whole), as
-- (entry id, reference, what differs):
--   its hash does not recompute: the entry's content, or its hash, was
--     changed after it was posted (or a posting added to it);
--   its prev_hash is not the previous entry's hash (in its lane): an
--     entry before it was removed or inserted, moved to another lane, or
--     its prev_hash changed;
--   a lane's head does not name the lane's last entry and its hash:
--     entries were removed from the lane's end, or the head was changed;
--     or an entry's lane has no head.
-- One statement, so one snapshot: entries posted meanwhile are either
-- whole in it or absent (an entry commits with its postings and the head).
-- A whole-ledger scan run by an admin or tipzedctl, not per request: it
-- stays LANGUAGE sql, like reconciliation (JIT off for the same reason).
CREATE OR REPLACE FUNCTION tz_verify_chain()
RETURNS TABLE (entry_id bigint, reference text, problem text)
LANGUAGE sql STABLE SET jit = off AS $$
  WITH p AS (
    SELECT q.entry_id,
           string_agg(DISTINCT q.currency::text, ',' ORDER BY q.currency::text) AS currency,
           array_agg(q.account_id ORDER BY q.id) AS accounts,
           array_agg(q.amount ORDER BY q.id) AS amounts
      FROM postings q GROUP BY q.entry_id
  ), e AS (
    SELECT j.id, j.reference, j.hash, j.prev_hash, j.lane,
           lag(j.id) OVER w AS before_id, lag(j.hash) OVER w AS before_hash,
           lead(j.id) OVER w IS NULL AS last,
           tz_entry_hash(tz_entry_canonical(j.id, j.reference, j.kind, j.payment_id, j.payout_id,
                                            p.currency, j.created_at, p.accounts, p.amounts),
                         j.prev_hash) AS recomputed
      FROM journal_entries j LEFT JOIN p ON p.entry_id = j.id
    WINDOW w AS (PARTITION BY j.lane ORDER BY j.id)
  )
  SELECT x.id, x.reference, x.problem FROM (
    SELECT e.id, e.reference, 1 AS n,
           format('its hash %s is not the hash of its content and prev_hash (%s)',
                  encode(e.hash, 'hex'), encode(e.recomputed, 'hex')) AS problem
      FROM e WHERE e.recomputed IS DISTINCT FROM e.hash
    UNION ALL
    SELECT e.id, e.reference, 2,
           CASE WHEN e.before_id IS NULL
                THEN format('it is the first entry of lane %s, yet its prev_hash is %s',
                            e.lane, encode(e.prev_hash, 'hex'))
                ELSE format('its prev_hash %s is not the hash %s of the entry before it, %s',
                            coalesce(encode(e.prev_hash, 'hex'), '(none)'),
                            encode(e.before_hash, 'hex'), e.before_id) END
      FROM e WHERE e.prev_hash IS DISTINCT FROM e.before_hash
    UNION ALL
    SELECT coalesce(l.id, h.entry_id), l.reference, 3,
           CASE WHEN h.lane IS NULL
                THEN format('its lane %s has no head', l.lane)
                ELSE format('the head of lane %s names entry %s with hash %s, not the last entry %s',
                            h.lane, coalesce(h.entry_id::text, '(none)'),
                            coalesce(encode(h.hash, 'hex'), '(none)'),
                            coalesce(l.id::text, '(none)')) END
      FROM chain_lanes h FULL JOIN (SELECT * FROM e WHERE e.last) l ON l.lane = h.lane
     WHERE h.lane IS NULL OR h.entry_id IS DISTINCT FROM l.id OR h.hash IS DISTINCT FROM l.hash
  ) x
  ORDER BY x.id, x.n
$$;

-- GET /receipts/{hash}: what the entry with this hash (64 lower-case hex
-- digits) proves, or NULL when no entry has it.  It names no payer:
--   entry.kind, entry.time      the entry's kind and when it was posted
--   entry.currency              its postings' currency
--   entry.recipients            [{name, amount}]: each creator the entry
--                               credits, by public name (users.full_name,
--                               as the public profile shows it), with the
--                               sum of the entry's positive legs to its
--                               wallet and receivable (what it was
--                               credited, a debt repaid included); a split
--                               tip's creators in the split's order.  Only
--                               creators are named, never the payer of the
--                               entry's payment, never a fan.
--   entry.amount                the sum of the recipients' amounts: for a
--                               tip's credit, the net credited (gross less
--                               the fee); 0 for an entry that credits no
--                               creator (a refund, a payout's settlement)
--   entry.recipient             the name of the one recipient, or of a
--                               split tip's creator of record; NULL when
--                               there is none
--   previous_hash               the entry's prev_hash (NULL: the first of
--                               its lane)
--   verified                    its hash recomputes from what is stored of
--                               it and its prev_hash, and that is the hash
--                               of the entry before it in its lane
-- The reference, the payment, the accounts and the other legs are left out:
-- they would name the payer or link its payments.
CREATE OR REPLACE FUNCTION tz_api_receipt(p_hash text) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  e journal_entries;
  payer uuid;
  of_record uuid;
  c record;
  who json;
  credited bigint;
  single text;
BEGIN
  IF p_hash IS NULL OR p_hash !~ '^[0-9a-f]{64}$' THEN
    RETURN NULL;
  END IF;
  SELECT * INTO e FROM journal_entries WHERE hash = decode(p_hash, 'hex');
  IF e.id IS NULL THEN
    RETURN NULL;
  END IF;
  SELECT fan_id, creator_id INTO payer, of_record FROM payments WHERE id = e.payment_id;
  SELECT string_agg(DISTINCT q.currency::text, ',' ORDER BY q.currency::text) AS currency,
         array_agg(q.account_id ORDER BY q.id) AS accounts,
         array_agg(q.amount ORDER BY q.id) AS amounts
    INTO c FROM postings q WHERE q.entry_id = e.id;
  WITH credit AS (
    SELECT a.owner_id, sum(q.amount) AS amount
      FROM postings q JOIN accounts a ON a.id = q.account_id
     WHERE q.entry_id = e.id AND q.amount > 0
       AND a.kind IN ('wallet', 'creator_receivable', 'reserve_hold')
       AND a.owner_id IS DISTINCT FROM payer
     GROUP BY a.owner_id
  )
  SELECT json_agg(json_build_object('name', u.full_name, 'amount', k.amount)
                  ORDER BY s.position, k.amount DESC, u.full_name),
         sum(k.amount),
         CASE WHEN count(*) = 1 THEN min(u.full_name)
              ELSE min(u.full_name) FILTER (WHERE u.id = of_record) END
    INTO who, credited, single
    FROM credit k JOIN users u ON u.id = k.owner_id AND u.role = 'creator'
    LEFT JOIN payment_splits s ON s.payment_id = e.payment_id AND s.creator_id = k.owner_id;
  RETURN json_build_object(
    'hash', p_hash,
    'in_chain', true,
    'entry', json_build_object('kind', e.kind, 'amount', coalesce(credited, 0),
                               'currency', c.currency, 'time', tz_ts(e.created_at),
                               'recipient', single, 'recipients', coalesce(who, '[]'::json)),
    'previous_hash', encode(e.prev_hash, 'hex'),
    'verified', tz_entry_hash(tz_entry_canonical(e.id, e.reference, e.kind, e.payment_id,
                                                 e.payout_id, c.currency, e.created_at,
                                                 c.accounts, c.amounts), e.prev_hash) = e.hash
                AND e.prev_hash IS NOT DISTINCT FROM
                    (SELECT j.hash FROM journal_entries j WHERE j.lane = e.lane AND j.id < e.id
                      ORDER BY j.id DESC LIMIT 1));
END $$;
