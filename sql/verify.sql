-- credits.verify_ledger finds every kind of inconsistency it looks for, so
-- that its empty answer elsewhere means something.  The damage below is
-- done by the superuser, who alone can write these tables directly.
CREATE EXTENSION credits;

SELECT credits.grant_credits(1, 10) AS batch_id;
SELECT credits.grant_credits(2, 5) AS batch_id;
SELECT (r).amount FROM credits.redeem_credits(1, 4) AS r;
SELECT * FROM credits.verify_ledger();

-- a batch changed behind the ledger's back (and so its running total)
BEGIN;
UPDATE credits.batches SET remaining = 7 WHERE batch_id = 1;
SELECT * FROM credits.verify_ledger() ORDER BY problem;
SELECT * FROM credits.verify_ledger(2);
ROLLBACK;

-- a running total that drifted
BEGIN;
UPDATE credits.account_totals SET total = total + 1 WHERE account_id = 2;
SELECT * FROM credits.verify_ledger();
ROLLBACK;

-- a ledger entry whose balance_after is not the running sum
BEGIN;
UPDATE credits.ledger SET balance_after = 9 WHERE account_id = 1 AND kind = 'grant';
SELECT * FROM credits.verify_ledger();
ROLLBACK;

-- a ledger entry without its operation
BEGIN;
DELETE FROM credits.operations WHERE account_id = 2;
SELECT * FROM credits.verify_ledger();
ROLLBACK;

SELECT * FROM credits.verify_ledger();

DROP EXTENSION credits;
