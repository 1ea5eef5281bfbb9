-- 016: the credit-package catalogue of fan wallets.  Paying a package's
-- amount credits the wallet with the amount plus the package's bonus (the
-- bonus funded by the promotions account).  A package is never deleted:
-- payments refer to it; an admin deactivates it instead.

CREATE TABLE packages (
  id         uuid PRIMARY KEY,
  name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  amount     bigint NOT NULL CHECK (amount > 0),
  currency   char(3) NOT NULL,
  bonus      bigint NOT NULL DEFAULT 0 CHECK (bonus >= 0),
  active     boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- a bonus at most doubles what the fan pays
  CONSTRAINT packages_bonus_within_amount CHECK (bonus <= amount)
);
-- one active package of a name per currency (inactive ones may repeat it)
CREATE UNIQUE INDEX packages_active_name_idx ON packages (currency, name) WHERE active;
-- the public catalogue, in its order
CREATE INDEX packages_catalogue_idx ON packages (currency, amount, id) WHERE active;
