-- 005 created only functions (the JSON readers and writers behind /creators
-- and /wallets).  Their one definition is now in sql/functions/; this step
-- is kept so that databases which recorded version 5 and fresh ones number
-- their steps alike.
SELECT 1;
