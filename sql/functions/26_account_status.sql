-- Account status and wallet freezes as every money movement reads them
-- (docs/accounts.md, "Operator controls").  The operator's actions and
-- the privacy requests themselves are in 71_operator.sql.

-- Whether p_user's wallets (main and cashback) are frozen by an operator.
CREATE OR REPLACE FUNCTION tz_wallet_frozen(p_user uuid) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN coalesce((SELECT wallet_frozen_at IS NOT NULL FROM users WHERE id = p_user), false);
END $$;

-- Why a movement paid by p_payer (NULL: a guest, or none) to p_creator
-- (NULL: none) and the creators of p_splits (already checked by
-- tz_splits_check) is refused now, or NULL when nothing stands in its way:
--   account_suspended, account_closed   the payer is suspended or deleted
--   wallet_frozen                       p_debit: the payer's wallets are frozen
--   creator_suspended, creator_closed   a recipient is suspended or deleted
-- The payer comes first: a refused payer learns nothing about the creator.
CREATE OR REPLACE FUNCTION tz_ops_refusal(p_payer uuid, p_creator uuid, p_debit boolean,
                                          p_splits json DEFAULT NULL)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
  u users;
  st text;
BEGIN
  IF p_payer IS NOT NULL THEN
    SELECT * INTO u FROM users WHERE id = p_payer;
    IF u.status = 'suspended' THEN
      RETURN 'account_suspended';
    ELSIF u.status = 'deleted' THEN
      RETURN 'account_closed';
    ELSIF p_debit AND u.wallet_frozen_at IS NOT NULL THEN
      RETURN 'wallet_frozen';
    END IF;
  END IF;
  -- 'suspended' sorts after 'deleted': a suspension is named first
  SELECT status INTO st FROM users
   WHERE status <> 'active'
     AND (id = p_creator OR id IN (
           SELECT (e->>'creator_id')::uuid FROM json_array_elements(
             CASE WHEN json_typeof(p_splits) = 'array' THEN p_splits ELSE '[]'::json END) e))
   ORDER BY status DESC LIMIT 1;
  RETURN CASE st WHEN 'suspended' THEN 'creator_suspended' WHEN 'deleted' THEN 'creator_closed' END;
END $$;

-- The same answer as an API error object, or NULL.
CREATE OR REPLACE FUNCTION tz_ops_refused(p_payer uuid, p_creator uuid, p_debit boolean,
                                          p_splits json DEFAULT NULL)
RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT CASE WHEN r IS NOT NULL THEN json_build_object('error', r) END
      FROM tz_ops_refusal(p_payer, p_creator, p_debit, p_splits) r);
END $$;

-- The entry kinds that may take money out of a frozen wallet: what the
-- platform takes back (refunds and disputes, and the cashback and bonus
-- they reverse).  Everything else that debits a frozen wallet is refused
-- by tz_post_entry() (TZ021), whichever function posts it.
CREATE OR REPLACE FUNCTION tz_frozen_debit_allowed(p_kind text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT p_kind IN ('refund', 'dispute_hold', 'dispute_settle', 'cashback_reversal',
                    'bonus_reversal')
$$;
