-- Referral bonuses.
--
-- A user registered with another's referral code (users.referred_by) earns
-- that referrer a bonus when their FIRST payment succeeds (a tip, a top-up
-- or a subscription): the configured amount (TipzedReferralBonus) moves
-- from the promotions account to the referrer's cashback balance, in one
-- entry of kind 'referral_bonus' with reference 'referral:<referred user>'.
--
-- Once per referred user, under any concurrency: the referral is settled
-- by setting users.referral_rewarded_at in the same statement that checks
-- it is not set yet.  A second call (another payment, a webhook delivered
-- twice, a concurrent success) waits on the user's row until the first
-- commits, then finds it settled and posts nothing.  The first success
-- settles the referral even when the bonus is 0 at that moment (switched
-- off): a bonus switched on later does not reach it.  Self-referral cannot
-- happen (CHECK users_not_self_referred).

-- The accounts tz_referral_reward() would post on for p_user's referral
-- (promotions, then the referrer's cashback), created on first use; empty
-- when there is nothing to reward.  A caller that posts other entries in
-- the same transaction may lock them together with its own accounts first
-- (tz_lock_accounts), so that its entries cannot deadlock with others.
CREATE OR REPLACE FUNCTION tz_referral_accounts(p_user uuid, p_currency text) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
  referrer uuid;
BEGIN
  SELECT referred_by INTO referrer FROM users
   WHERE id = p_user AND referral_rewarded_at IS NULL;
  IF referrer IS NULL THEN
    RETURN '{}';
  END IF;
  RETURN ARRAY[tz_account('promotions', NULL, NULL, p_currency),
               tz_account('cashback', referrer, NULL, p_currency)];
END $$;

-- Called by the payment code in the transaction that credits p_user's
-- successful payment p_payment (or NULL): settles p_user's referral if it
-- is pending and, when p_bonus > 0, credits the referrer's cashback
-- balance with p_bonus minor units of p_currency from promotions.  Returns
-- the bonus posted, 0 when none (no referrer, settled before, or p_bonus 0).
CREATE OR REPLACE FUNCTION tz_referral_reward(p_user uuid, p_currency text, p_bonus bigint,
                                              p_payment uuid) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  referrer uuid;
BEGIN
  UPDATE users SET referral_rewarded_at = now()
   WHERE id = p_user AND referred_by IS NOT NULL AND referral_rewarded_at IS NULL
  RETURNING referred_by INTO referrer;
  IF referrer IS NULL OR coalesce(p_bonus, 0) <= 0 THEN
    RETURN 0;
  END IF;
  PERFORM tz_post_entry('referral:' || p_user, 'referral_bonus', p_payment, NULL, p_currency,
                        ARRAY[tz_account('promotions', NULL, NULL, p_currency),
                              tz_account('cashback', referrer, NULL, p_currency)],
                        ARRAY[-p_bonus, p_bonus]);
  RETURN p_bonus;
END $$;
