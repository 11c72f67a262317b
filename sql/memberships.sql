-- Memberships: a package of a period of access to its services, with no
-- consumption tracked.  Renewals stack; redeem_service and hold_service use
-- a covering membership before any credits.
CREATE EXTENSION credits;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

INSERT INTO credits.services (service_id, name, credit_cost) VALUES
    (1, 'Gym floor', 1), (2, 'Yoga class', 2), (3, 'Massage', 5);
INSERT INTO credits.packages (package_id, name, price, currency, membership_period, service_ids)
VALUES (1, 'Gym and yoga, monthly', 49, 'EUR', '1 month', '{1,2}');
INSERT INTO credits.packages (package_id, name, credits, price, currency, expires_after)
VALUES (2, '10 credits', 10, 90, 'EUR', '12 months');
-- a membership package sells a period, not credits
INSERT INTO credits.packages (name, credits, price, currency, membership_period)
VALUES ('both', 5, 10, 'EUR', '1 month');
INSERT INTO credits.packages (name, price, currency, membership_period, expires_after)
VALUES ('expiring membership', 10, 'EUR', '1 month', '1 year');

-- Berlin account: a month from 31 January is the end of February, counted locally;
-- a renewal bought during the first month starts when it ends
INSERT INTO credits.accounts (account_id, timezone) VALUES (1, 'Europe/Berlin');
SELECT credits.grant_package(1, 1, payment_ref => 'pay_1', granted_at => '2026-01-31 10:00+01') AS first;
SELECT credits.grant_package(1, 1, payment_ref => 'pay_2', granted_at => '2026-02-10 10:00+01') AS renewal;
SELECT membership_id, package_name, starts_at, ends_at, ended_at, service_ids
  FROM credits.account_memberships(1);
-- a membership sale is recorded, with no batch and no credits
SELECT package_id, batch_id, membership_id, credits, price, currency, payment_ref
  FROM credits.sales WHERE account_id = 1 ORDER BY operation_id;
SELECT count(*) AS batches FROM credits.batches WHERE account_id = 1;

-- access by service and moment
SELECT credits.has_access(1, 1, '2026-02-15 12:00+01') AS gym_in_february,
       credits.has_access(1, 3, '2026-02-15 12:00+01') AS massage_in_february,
       credits.has_access(1, 2, '2026-03-15 12:00+01') AS yoga_in_march,
       credits.has_access(1, 2, '2026-04-01 12:00+02') AS yoga_in_april,
       credits.has_access(1, 1, '2026-01-30 12:00+01') AS gym_before;
SELECT credits.has_access(99, 1) AS unknown_account;

-- an account with a membership active now, and credits
SELECT credits.grant_package(2, 1) AS membership_id \gset
SELECT credits.grant_package(2, 2) AS batch_id;
-- the membership pays for yoga: no credits drawn, the result says so
SELECT (r).amount, (r).balance_after, (r).allocations, (r).membership_id = :membership_id AS membership_paid
  FROM credits.redeem_service(2, 2, quantity => 2, reference => 'class 7') AS r;
SELECT credits.balance(2);
-- a massage is not covered: credits pay
SELECT (r).amount, (r).membership_id IS NULL AS credits_paid FROM credits.redeem_service(2, 3) AS r;
-- redeem_credits never uses a membership
SELECT (r).amount, (r).membership_id IS NULL AS credits_paid FROM credits.redeem_credits(2, 1, service_id => 2) AS r;
SELECT credits.balance(2);
-- a hold for a class is held by the membership; capturing it records a visit
SELECT (h).amount, (h).allocations, (h).membership_id = :membership_id AS membership_holds
  FROM credits.hold_service(2, 2) AS h \gset hold_
SELECT :'hold_amount' AS held, :'hold_membership_holds' AS by_membership;
SELECT hold_id AS hold FROM credits.holds WHERE account_id = 2 \gset
SELECT (c).amount, (c).membership_id = :membership_id AS membership_paid FROM credits.capture_hold(2, :hold) AS c;
SELECT membership_id = :membership_id AS this_membership, service_id, quantity, reference
  FROM credits.membership_visits WHERE account_id = 2 ORDER BY operation_id;
SELECT visits FROM credits.account_memberships(2);
-- a retried booking with a key returns the same visit
SELECT (r).operation_id AS visit FROM credits.redeem_service(2, 1, idempotency_key => 'v-1') AS r \gset
SELECT (r).operation_id = :visit AS same_visit, (r).membership_id = :membership_id AS membership_paid
  FROM credits.redeem_service(2, 1, idempotency_key => 'v-1') AS r;

-- ending it early: from then on credits pay
SELECT credits.end_membership(2, :membership_id, now() - interval '1 second') <= now() AS ended;
SELECT credits.has_access(2, 2) AS yoga_now;
SELECT (r).amount, (r).membership_id IS NULL AS credits_paid FROM credits.redeem_service(2, 2) AS r;
-- (terse: the detail names the moment it ended, which differs each run)
\set VERBOSITY terse
SELECT credits.end_membership(2, :membership_id);
\set VERBOSITY default
SELECT credits.end_membership(2, 12345);
-- ending one that has not started means it never starts
SELECT credits.end_membership(1, 2, '2026-01-01 00:00+00') AS ended_at;
SELECT membership_id, starts_at, ended_at FROM credits.account_memberships(1) WHERE membership_id = 2;

-- non-members neither receive memberships nor use them
UPDATE credits.accounts SET is_member = false WHERE account_id = 1;
SELECT credits.grant_package(1, 1);
SELECT credits.has_access(1, 1, '2026-02-15 12:00+01') AS member_access;

SELECT * FROM credits.verify_ledger();
DROP EXTENSION credits;
