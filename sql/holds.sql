-- Holds: reserve now, capture or release later.  Held credits are not
-- spendable by anything else; a hold keeps them past its batch's expiry.
CREATE EXTENSION credits;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

INSERT INTO credits.services (service_id, name, credit_cost) VALUES (1, 'Yoga class', 2), (2, 'Sauna', 1);
UPDATE credits.services SET accepts_credits = false WHERE service_id = 2;

-- Account 1: 4 credits expiring in 10 days (batch 1), 6 permanent (batch 2)
SELECT credits.grant_credits(1, 4, expires_at => now() + interval '10 days') AS batch_id;
SELECT credits.grant_credits(1, 6) AS batch_id;

-- hold_service: credit_cost x quantity, earliest expiry first, all or nothing
SELECT (h).hold_id, (h).amount, (h).hold_until IS NULL AS no_deadline, a.batch_id, a.amount AS held
  FROM credits.hold_service(1, 1, 3, reference => 'class 12') AS h, unnest((h).allocations) AS a;
-- what is held is not available: balance 10 - 6
SELECT credits.balance(1) AS available, credits.can_redeem(1, 1, 3) AS three_more_classes;
SELECT batch_id, remaining, held, spendable_now FROM credits.account_batches(1);
-- nothing moved in the books: no ledger entry, the running total is unchanged
SELECT count(*) AS ledger_rows FROM credits.ledger WHERE account_id = 1;
SELECT total FROM credits.account_totals WHERE account_id = 1;
-- a redemption cannot take held credits
SELECT credits.redeem_credits(1, 5);
SELECT (r).amount, (r).allocations[1].batch_id FROM credits.redeem_credits(1, 4) AS r;

-- capture part of the hold: the rest goes back
SELECT (c).operation_id, (c).amount, (c).balance_after, a.batch_id, a.amount AS spent
  FROM credits.capture_hold(1, 3, 4) AS c, unnest((c).allocations) AS a;
SELECT hold_id, status, amount, captured, released, closed_at IS NOT NULL AS closed
  FROM credits.account_holds(1);
SELECT batch_id, remaining, held FROM credits.batches WHERE account_id = 1 ORDER BY batch_id;
SELECT operation_id, kind, batch_id, delta, balance_after FROM credits.ledger
 WHERE account_id = 1 AND operation_id = 5 ORDER BY entry_no;
SELECT credits.balance(1);
-- a closed hold cannot be captured or released again
SELECT credits.capture_hold(1, 3);
SELECT credits.release_hold(1, 3);

-- hold_credits then release: everything comes back
SELECT (h).hold_id, (h).amount FROM credits.hold_credits(1, 2, hold_until => now() + interval '1 day') AS h;
SELECT credits.balance(1);
SELECT credits.release_hold(1, 6) AS released;
SELECT credits.balance(1);
SELECT hold_id, status, captured, released FROM credits.account_holds(1) WHERE hold_id = 6;

-- capture with an idempotency key: a retry returns the same capture
SELECT (h).hold_id FROM credits.hold_credits(1, 1) AS h;
SELECT (c).operation_id, (c).amount FROM credits.capture_hold(1, 8, idempotency_key => 'pay-8') AS c;
SELECT (c).operation_id, (c).amount FROM credits.capture_hold(1, 8, idempotency_key => 'pay-8') AS c;
-- a hold placed with a key, retried, is the same hold
SELECT (h).hold_id FROM credits.hold_credits(1, 1, idempotency_key => 'book-10') AS h;
SELECT (h).hold_id FROM credits.hold_credits(1, 1, idempotency_key => 'book-10') AS h;
SELECT count(*) AS holds FROM credits.holds WHERE account_id = 1;

-- a hold of another account is not this account's
SELECT credits.grant_credits(2, 5) AS batch_id;
SELECT credits.release_hold(2, 10);
SELECT credits.capture_hold(2, 10);

-- a hold keeps its credits past its batch's expiry; released afterwards,
-- they expire at once.  Batch 4 expires one second from now.
SELECT credits.grant_credits(3, 5, expires_at => clock_timestamp() + interval '1 second') AS batch_id;
SELECT (h).hold_id, (h).amount FROM credits.hold_credits(3, 3) AS h;
SELECT pg_sleep(1.1);
SELECT credits.balance(3) AS spendable;
SELECT credits.expire_batches() AS expired;
SELECT batch_id, remaining, held, is_open FROM credits.batches WHERE account_id = 3;
SELECT credits.release_hold(3, 13) AS released;
SELECT batch_id, remaining, held, is_open FROM credits.batches WHERE account_id = 3;
SELECT kind, delta, balance_after FROM credits.ledger WHERE account_id = 3 ORDER BY operation_id, entry_no;

-- overdue holds are released by release_expired_holds (and run_expiry)
SELECT credits.grant_credits(4, 5) AS batch_id;
SELECT (h).hold_id FROM credits.hold_credits(4, 2, hold_until => now() - interval '1 minute') AS h;
SELECT (h).hold_id FROM credits.hold_credits(4, 1, hold_until => now() + interval '1 day') AS h;
SELECT credits.balance(4);
SELECT credits.release_expired_holds() AS released, credits.release_expired_holds() AS again;
SELECT hold_id, status FROM credits.account_holds(4);
SELECT credits.balance(4);

-- a service that refuses credits cannot be held; nor more than there is
SELECT credits.hold_service(1, 2);
SELECT credits.hold_credits(1, 100);

SELECT * FROM credits.verify_ledger();
DROP EXTENSION credits;
