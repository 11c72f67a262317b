-- Composite results outlive the call that made them: each is passed to an
-- SQL function that runs a statement of its own first, which reuses any
-- memory the result wrongly lived in.  (A result built in SPI's memory,
-- freed when the call ends, came back here as garbage or crashed.)
CREATE EXTENSION credits;

CREATE FUNCTION pg_temp.pass_redemption(x credits.redemption) RETURNS credits.redemption
LANGUAGE sql AS $$ SELECT 1; SELECT x $$;
CREATE FUNCTION pg_temp.pass_hold(x credits.hold) RETURNS credits.hold
LANGUAGE sql AS $$ SELECT 1; SELECT x $$;
CREATE FUNCTION pg_temp.pass_refund(x credits.refund) RETURNS credits.refund
LANGUAGE sql AS $$ SELECT 1; SELECT x $$;
CREATE FUNCTION pg_temp.pass_cancellation(x credits.cancellation) RETURNS credits.cancellation
LANGUAGE sql AS $$ SELECT 1; SELECT x $$;

INSERT INTO credits.services (service_id, name, credit_cost) VALUES (1, 'Class', 2);
SELECT credits.grant_credits(1, 100) AS batch_id;
SELECT credits.grant_credits(1, 3, expires_at => now() + interval '1 day') AS batch_id;

-- fast path (one batch), general path (two batches), service, replay
SELECT (r).amount, (r).balance_after, cardinality((r).allocations) AS batches
  FROM pg_temp.pass_redemption(credits.redeem_credits(1, 1)) AS r;
SELECT (r).amount, (r).balance_after, cardinality((r).allocations) AS batches
  FROM pg_temp.pass_redemption(credits.redeem_credits(1, 4, idempotency_key => 'k')) AS r;
SELECT (r).amount, (r).balance_after, cardinality((r).allocations) AS batches
  FROM pg_temp.pass_redemption(credits.redeem_credits(1, 4, idempotency_key => 'k')) AS r;
SELECT (r).amount, (r).balance_after FROM pg_temp.pass_redemption(credits.redeem_service(1, 1)) AS r;
-- holds, captures, refunds, cancellations
SELECT (h).amount, cardinality((h).allocations) AS batches
  FROM pg_temp.pass_hold(credits.hold_credits(1, 5, idempotency_key => 'h')) AS h;
SELECT (h).amount FROM pg_temp.pass_hold(credits.hold_credits(1, 5, idempotency_key => 'h')) AS h;
SELECT (h).amount FROM pg_temp.pass_hold(credits.hold_service(1, 1)) AS h;
SELECT (c).amount, (c).balance_after
  FROM pg_temp.pass_redemption(credits.capture_hold(1, (SELECT min(hold_id) FROM credits.holds))) AS c;
SELECT (f).amount, (f).balance_after
  FROM pg_temp.pass_refund(credits.refund_redemption(1, (SELECT min(operation_id) FROM credits.operations
                                                          WHERE kind = 'redeem_credits'))) AS f;
SELECT (c).rule, (c).returned
  FROM pg_temp.pass_cancellation(credits.cancel_booking(1, (SELECT max(hold_id) FROM credits.holds),
                                                        now() + interval '1 day')) AS c;

SELECT * FROM credits.verify_ledger();
DROP FUNCTION pg_temp.pass_redemption(credits.redemption), pg_temp.pass_hold(credits.hold),
    pg_temp.pass_refund(credits.refund), pg_temp.pass_cancellation(credits.cancellation);
DROP EXTENSION credits;
