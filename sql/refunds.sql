-- Refunds and voids: refund_redemption returns credits to the batches a
-- redemption drew from (a partial refund to the batch that expires last
-- first), never more than was redeemed; credits whose batch expired or was
-- voided meanwhile leave again at once.  refund_as_credits gives permanent
-- credits instead of money; void_batch zeroes a batch (a chargeback).
CREATE EXTENSION credits;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

INSERT INTO credits.services (service_id, name, credit_cost) VALUES (1, 'Massage', 3);

-- Account 1: batch 1, 2 credits expiring in 5 days; batch 2, 2 expiring in
-- 20 days; batch 3, 10 permanent.  A redemption of 6 draws 2 + 2 + 2.
SELECT credits.grant_credits(1, 2, expires_at => now() + interval '5 days') AS batch_id;
SELECT credits.grant_credits(1, 2, expires_at => now() + interval '20 days') AS batch_id;
SELECT credits.grant_credits(1, 10) AS batch_id;
SELECT (r).operation_id, a.batch_id, a.amount AS drawn
  FROM credits.redeem_service(1, 1, 2, reference => 'booking 5') AS r, unnest((r).allocations) AS a;

-- a partial refund of 3: the permanent batch first (it expires last), then
-- the one expiring in 20 days
SELECT (f).operation_id, (f).amount, (f).balance_after, a.batch_id, a.amount AS returned
  FROM credits.refund_redemption(1, 4, 3, reason => 'late start') AS f, unnest((f).allocations) AS a;
SELECT batch_id, remaining FROM credits.batches WHERE account_id = 1 ORDER BY batch_id;
SELECT operation_id, kind, amount, refund_of, reference FROM credits.operations WHERE operation_id = 5;
-- never more than was redeemed, across refunds
SELECT credits.refund_redemption(1, 4, 4);
-- the rest (3): what batch 2 still lacks (1), then batch 1 (2)
SELECT (f).amount, (f).balance_after, a.batch_id, a.amount AS returned
  FROM credits.refund_redemption(1, 4) AS f, unnest((f).allocations) AS a;
SELECT credits.refund_redemption(1, 4);
SELECT batch_id, remaining, amount FROM credits.batches WHERE account_id = 1 ORDER BY batch_id;
SELECT credits.balance(1);

-- only redemptions can be refunded (a grant's operation cannot)
SELECT credits.refund_redemption(1, 1);
SELECT credits.refund_redemption(1, 999);

-- a refund with a key, retried, is the same refund
SELECT (r).operation_id FROM credits.redeem_credits(1, 2) AS r;
SELECT (f).operation_id, (f).amount FROM credits.refund_redemption(1, 7, 1, idempotency_key => 'rf-7') AS f;
SELECT (f).operation_id, (f).amount FROM credits.refund_redemption(1, 7, 1, idempotency_key => 'rf-7') AS f;
SELECT count(*) AS refunds_of_7 FROM credits.operations WHERE account_id = 1 AND refund_of = 7;

-- credits refunded to a batch that expired meanwhile expire again at once
SELECT credits.grant_credits(2, 4, expires_at => clock_timestamp() + interval '1 second') AS batch_id;
SELECT (r).operation_id FROM credits.redeem_credits(2, 3) AS r;
SELECT pg_sleep(1.1);
SELECT (f).amount, (f).balance_after FROM credits.refund_redemption(2, 10) AS f;
SELECT kind, delta, balance_after FROM credits.ledger WHERE account_id = 2 ORDER BY operation_id, entry_no;
SELECT remaining, credits.balance(2) AS spendable FROM credits.batches WHERE account_id = 2;

-- credits instead of a money refund: permanent, source refund, the reason kept
SELECT credits.refund_as_credits(3, 25, 'refund for cancelled course 7') AS batch_id;
SELECT source, amount, expires_at, reference FROM credits.batches WHERE batch_id = 5;
SELECT kind, amount, reference FROM credits.operations WHERE account_id = 3;
SELECT credits.balance(3);

-- void_batch: zeroes what is left of the batch (held credits stay held)
SELECT credits.grant_credits(4, 10) AS batch_id;
SELECT (r).operation_id FROM credits.redeem_credits(4, 3) AS r;
SELECT (h).hold_id FROM credits.hold_credits(4, 2) AS h;
SELECT credits.void_batch(4, 6, 'chargeback on payment 9') AS voided;
SELECT remaining, held, is_open, voided_at IS NOT NULL AS voided FROM credits.batches WHERE batch_id = 6;
SELECT credits.balance(4);
SELECT credits.void_batch(4, 6, 'again');
SELECT credits.void_batch(4, 99, 'no such batch');
-- a refund into a voided batch is voided at once
SELECT (f).amount, (f).balance_after FROM credits.refund_redemption(4, 14) AS f;
-- the held credits: captured, they are spent; released, voided
SELECT (c).amount, (c).allocations[1].batch_id FROM credits.capture_hold(4, 15, 1) AS c;
SELECT kind, delta, balance_after FROM credits.ledger WHERE account_id = 4 ORDER BY operation_id, entry_no;
SELECT remaining, held FROM credits.batches WHERE batch_id = 6;

SELECT * FROM credits.verify_ledger();
DROP EXTENSION credits;
