-- Redemption: earliest expiry first, then earliest valid_from, then lowest
-- batch id; all or nothing; services; validity windows; members only.
CREATE EXTENSION credits;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';

INSERT INTO credits.services VALUES (1, 'Premium Facial', true, 2, 'credit'),
                                    (2, 'Basic Facial', true, 1, 'credit'),
                                    (3, 'Yoga class', true, 1, 'credit'),
                                    (4, 'Sauna', false, 1, 'credit');

-- Account 1: a permanent top-up, a monthly plan's credits expiring in 10
-- days, a package expiring in 300 days, and three batches expiring at the
-- same moment: the later valid_from goes last, and of the two with the same
-- valid_from the lower batch id goes first.
SELECT credits.grant_credits(1, 10, reference => 'top-up') AS permanent_batch;
SELECT credits.grant_credits(1, 4, expires_at => date_trunc('day', now()) + interval '10 days',
                             source => 'subscription', reference => 'plan') AS plan_batch;
SELECT credits.grant_credits(1, 5, expires_at => date_trunc('day', now()) + interval '300 days',
                             source => 'purchase') AS package_batch;
SELECT credits.grant_credits(1, 1, expires_at => date_trunc('day', now()) + interval '20 days',
                             valid_from => date_trunc('day', now()) - interval '1 hour') AS tie_later_valid_from;
SELECT credits.grant_credits(1, 1, expires_at => date_trunc('day', now()) + interval '20 days',
                             valid_from => date_trunc('day', now()) - interval '1 day') AS tie_earlier_valid_from;
SELECT credits.grant_credits(1, 1, expires_at => date_trunc('day', now()) + interval '20 days',
                             valid_from => date_trunc('day', now()) - interval '1 day') AS tie_same_valid_from;
SELECT batch_id, remaining,
       CASE WHEN expires_at = 'infinity' THEN 'never'
            ELSE (expires_at - date_trunc('day', now()))::text END AS expires_in
  FROM credits.account_batches(1);
SELECT credits.balance(1);

-- 3 credits: all from the plan batch (it expires first)
SELECT (r).amount, (r).balance_after, a.batch_id, a.amount AS drawn
  FROM credits.redeem_credits(1, 3) AS r, unnest((r).allocations) AS a;
-- 5 credits: the plan's last 1, then the ties in order (5, 6, 4), then 1 from the package
SELECT (r).operation_id, (r).amount, (r).balance_after, a.batch_id, a.amount AS drawn
  FROM credits.redeem_credits(1, 5, reference => 'booking 17') AS r, unnest((r).allocations) AS a;
SELECT batch_id, remaining, is_open FROM credits.batches WHERE account_id = 1 ORDER BY batch_id;
-- the ledger has one entry per batch drawn, with the running total after each
SELECT operation_id, entry_no, kind, batch_id, delta, balance_after, reference
  FROM credits.ledger WHERE account_id = 1 AND kind = 'redeem' ORDER BY operation_id, entry_no;
-- 14 credits: the package's 4, then 10 from the permanent top-up, leaving 0
SELECT (r).amount, (r).balance_after, a.batch_id, a.amount AS drawn
  FROM credits.redeem_credits(1, 14) AS r, unnest((r).allocations) AS a;
SELECT credits.balance(1);

-- All or nothing: an uncovered redemption raises CR001 and writes nothing
SELECT credits.grant_credits(2, 3) AS batch_id;
SELECT count(*) AS ledger_rows, sum(remaining) AS remaining FROM credits.ledger
  JOIN credits.batches USING (account_id, batch_id) WHERE account_id = 2;
SELECT credits.redeem_credits(2, 3.5);
SELECT count(*) AS ledger_rows, sum(remaining) AS remaining FROM credits.ledger
  JOIN credits.batches USING (account_id, batch_id) WHERE account_id = 2;
SELECT count(*) AS operations FROM credits.operations WHERE account_id = 2;

-- Fractions are exact: 3 - 2.75 leaves 0.25
SELECT (r).amount, (r).balance_after FROM credits.redeem_credits(2, 2.75) AS r;
SELECT remaining, is_open FROM credits.batches WHERE account_id = 2;

-- A batch past its expires_at is never spent, even before expire_batches
-- runs; nor is a batch whose valid_from is still ahead
SELECT credits.grant_credits(3, 5, expires_at => now() - interval '1 second',
                             valid_from => now() - interval '1 month') AS expired_batch;
SELECT credits.grant_credits(3, 5, expires_at => now() + interval '2 months',
                             valid_from => now() + interval '1 month') AS next_period_batch;
SELECT credits.balance(3);
SELECT credits.redeem_credits(3, 1);
SELECT total FROM credits.account_totals WHERE account_id = 3;

-- Services: redeem_service charges credit_cost x quantity of the service's
-- type, from batches that cover it; batches restricted to services are not
-- spent by redemptions for anything else
SELECT credits.grant_credits(4, 3, services => ARRAY[1]) AS facial_only;
SELECT credits.grant_credits(4, 2) AS unrestricted;
SELECT credits.balance(4) AS unrestricted_balance, credits.balance(4, service_id => 1) AS for_facials,
       credits.balance(4, service_id => 3) AS for_yoga;
SELECT credits.can_redeem(4, 1, 2) AS two_facials, credits.can_redeem(4, 1, 3) AS three_facials,
       credits.can_redeem(4, 3, 2) AS two_yoga, credits.can_redeem(4, 3, 3) AS three_yoga,
       credits.can_redeem(4, 4) AS sauna;
-- two Premium Facials cost 4: 3 from the facial-only batch (same expiry, earlier
-- valid_from), then 1 unrestricted
SELECT (r).amount, (r).balance_after, a.batch_id, a.amount AS drawn
  FROM credits.redeem_service(4, 1, 2, reference => 'booking 18') AS r, unnest((r).allocations) AS a;
SELECT operation_id, kind, amount, service_id, reference FROM credits.operations
 WHERE account_id = 4 AND kind = 'redeem_service';
SELECT batch_id, service_id, delta FROM credits.ledger WHERE account_id = 4 AND kind = 'redeem';
-- the last unrestricted credit pays for a yoga class
SELECT (r).amount, (r).balance_after FROM credits.redeem_service(4, 3) AS r;
SELECT credits.can_redeem(4, 3) AS another_yoga;
-- redeem_credits for a service checks the service too
SELECT credits.grant_credits(4, 2, services => ARRAY[2]) AS basic_only;
SELECT (r).amount FROM credits.redeem_credits(4, 1, service_id => 2) AS r;
SELECT credits.redeem_credits(4, 1) AS without_service_uses_no_restricted_batch;
-- what is left is for Basic Facials only: a Premium Facial is not covered (CR007)
SELECT credits.redeem_service(4, 1);

-- Non-members keep their batches but neither spend nor receive
SELECT credits.grant_credits(5, 4) AS batch_id;
UPDATE credits.accounts SET is_member = false WHERE account_id = 5;
SELECT credits.balance(5), credits.can_redeem(5, 2);
SELECT credits.redeem_credits(5, 1);
SELECT credits.grant_credits(5, 1);
SELECT remaining FROM credits.batches WHERE account_id = 5;
UPDATE credits.accounts SET is_member = true WHERE account_id = 5;
SELECT (r).balance_after FROM credits.redeem_credits(5, 1) AS r;

SELECT * FROM credits.verify_ledger();

DROP EXTENSION credits;
