-- 013: the ledger's account and entry kinds for fan wallets, bills and
-- admin adjustments (one step, so that the features built on them add
-- tables only).
--
-- Accounts: every user's wallet (fans included) has a main balance (kind
-- wallet) and a cashback balance (kind cashback: spendable on tips and
-- subscriptions only, never transferred or paid out, never negative);
-- promotions funds package bonuses, cashback and referral bonuses;
-- biller_clearing holds bill payments until the biller settles or refuses
-- them, bills_settled is what was paid to billers; adjustments is the
-- counterpart of admin adjustments of wallets.

ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_kind_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check
  CHECK (kind IN ('wallet', 'platform_fees', 'provider_clearing', 'payout_hold',
                  'payouts_settled', 'dispute_hold', 'creator_receivable', 'cashback',
                  'promotions', 'biller_clearing', 'bills_settled', 'adjustments'));
ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_owner_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_owner_check
  CHECK ((kind IN ('wallet', 'creator_receivable', 'cashback')) = (owner_id IS NOT NULL));
ALTER TABLE accounts ADD CONSTRAINT cashback_not_negative
  CHECK (kind <> 'cashback' OR balance >= 0);
CREATE UNIQUE INDEX accounts_cashback_key ON accounts (owner_id, currency) WHERE kind = 'cashback';

ALTER TABLE journal_entries DROP CONSTRAINT IF EXISTS journal_entries_kind_check;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check
  CHECK (kind IN ('payment', 'refund', 'payout_hold', 'payout_settle', 'payout_release',
                  'adjustment', 'dispute_hold', 'dispute_release', 'dispute_settle',
                  'wallet_payment', 'cashback', 'cashback_reversal', 'referral_bonus',
                  'transfer', 'bill_hold', 'bill_settle', 'bill_release'));
