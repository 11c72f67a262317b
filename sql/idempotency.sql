-- Idempotency keys, scoped to an account: the same key and arguments
-- return the first result and write nothing; the same key with other
-- arguments is refused (CR010).
CREATE EXTENSION credits;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';

INSERT INTO credits.services VALUES (1, 'Premium Facial', true, 2, 'credit');
INSERT INTO credits.packages (name, credits, price, currency, expires_after)
VALUES ('5-Session Wellness Package', 5, 90, 'MYR', '12 months');

CREATE TEMP VIEW writes AS
SELECT (SELECT count(*) FROM credits.operations) AS operations,
       (SELECT count(*) FROM credits.ledger) AS ledger_rows,
       (SELECT count(*) FROM credits.batches) AS batches,
       (SELECT count(*) FROM credits.sales) AS sales;

-- grant_package: a retry (each statement is its own transaction, so the
-- default granted_at, now(), differs) returns the same batch
SELECT credits.grant_package(1, 1, idempotency_key => 'order-1', payment_ref => 'pi_1') AS batch_id;
SELECT * FROM writes;
SELECT credits.grant_package(1, 1, idempotency_key => 'order-1', payment_ref => 'pi_1') AS batch_id;
SELECT * FROM writes;
-- same key, other arguments
SELECT credits.grant_package(1, 1, idempotency_key => 'order-1', payment_ref => 'pi_2');
SELECT credits.grant_package(1, 1, idempotency_key => 'order-1', payment_ref => 'pi_1',
                             granted_at => '2026-01-01 00:00+00');

-- grant_credits: defaults and explicit times
SELECT credits.grant_credits(1, 10, idempotency_key => 'bonus') AS batch_id;
SELECT credits.grant_credits(1, 10.00, idempotency_key => 'bonus') AS same_batch_for_equal_amount;
SELECT credits.grant_credits(1, 11, idempotency_key => 'bonus');
SELECT credits.grant_credits(1, 3, expires_at => '2099-01-01', valid_from => '2026-01-01',
                             idempotency_key => 'period-1') AS batch_id;
SELECT credits.grant_credits(1, 3, expires_at => '2099-01-01', valid_from => '2026-01-01',
                             idempotency_key => 'period-1') AS same_batch;
SELECT credits.grant_credits(1, 3, expires_at => '2099-01-01', valid_from => '2026-02-01',
                             idempotency_key => 'period-1');
SELECT * FROM writes;

-- redemptions: the retry returns the first result, allocations included,
-- even after the balance moved
SELECT (r).operation_id, (r).amount, (r).balance_after, (r).allocations[1].batch_id
  FROM credits.redeem_service(1, 1, idempotency_key => 'booking-7') AS r;
SELECT (r).amount FROM credits.redeem_credits(1, 1) AS r;
SELECT * FROM writes;
SELECT (r).operation_id, (r).amount, (r).balance_after, (r).allocations[1].batch_id
  FROM credits.redeem_service(1, 1, idempotency_key => 'booking-7') AS r;
SELECT * FROM writes;
SELECT credits.redeem_service(1, 1, quantity => 2, idempotency_key => 'booking-7');
SELECT credits.redeem_service(1, 1, reference => 'other', idempotency_key => 'booking-7');
-- a key used by one function is refused by another
SELECT credits.redeem_credits(1, 2, idempotency_key => 'booking-7');
SELECT credits.redeem_credits(1, 2, idempotency_key => 'order-1');

-- a multi-batch redemption replays every allocation
SELECT (r).operation_id, (r).balance_after, a.batch_id, a.amount
  FROM credits.redeem_credits(1, 6, idempotency_key => 'big') AS r, unnest((r).allocations) a;
SELECT (r).operation_id, (r).balance_after, a.batch_id, a.amount
  FROM credits.redeem_credits(1, 6, idempotency_key => 'big') AS r, unnest((r).allocations) a;

-- keys are scoped to their account
SELECT credits.grant_credits(2, 10, idempotency_key => 'bonus') <>
       credits.grant_credits(1, 10, idempotency_key => 'bonus') AS different_batches;

-- a failed call records nothing, so its key stays free
SELECT credits.redeem_credits(2, 50, idempotency_key => 'too-much');
SELECT count(*) FROM credits.operations WHERE idempotency_key = 'too-much';
SELECT (r).amount FROM credits.redeem_credits(2, 5, idempotency_key => 'too-much') AS r;

SELECT idempotency_key, kind, request FROM credits.operations
 WHERE idempotency_key IS NOT NULL ORDER BY account_id, operation_id;
SELECT * FROM credits.verify_ledger();

DROP VIEW writes;
DROP EXTENSION credits;
