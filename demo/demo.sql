-- demo/demo.sql: a salon sells a "5-Session Wellness Package" and a
-- monthly plan with expiring credits; a customer tops up with permanent
-- credits, books facials, and last month's unused plan credits expire.
\pset footer off
SET timezone = 'Asia/Kuala_Lumpur';
SET datestyle = 'ISO, YMD';
CREATE EXTENSION credits;

\echo
\echo '== The salon''s catalogue: services priced in credits, packages for sale'
-- facials: cancel 24 hours ahead for all credits back, later for half
INSERT INTO credits.services (service_id, name, credit_cost, cancel_window, late_cancel_share) VALUES
    (1, 'Premium Facial', 2, '24 hours', 0.5),
    (2, 'Basic Facial', 1, '24 hours', 0.5),
    (4, 'Sauna', 1, '0', 0);
INSERT INTO credits.services (service_id, name, credit_cost, accepts_credits) VALUES
    (3, 'Hair colour', 3, false);
INSERT INTO credits.packages (package_id, name, credits, price, currency, country, expires_after, short_info, listing_order) VALUES
    (1, '5-Session Wellness Package', 5, 90, 'MYR', 'MY', '12 months', 'Five facial credits, valid 12 months', 1);
INSERT INTO credits.packages (package_id, name, credits, price, currency, country, permanent, short_info, listing_order) VALUES
    (2, 'Top-up 3', 3, 60, 'MYR', 'MY', true, 'Three credits that never expire', 2);
INSERT INTO credits.packages (package_id, name, price, currency, country, membership_period, service_ids, short_info, listing_order) VALUES
    (3, 'Spa Pass', 80, 'MYR', 'MY', '1 month', '{4}', 'A month of sauna, no credits needed', 3);
SELECT service_id, name, accepts_credits, credit_cost FROM credits.services ORDER BY service_id;
SELECT name, coalesce(credits::text || ' credits', membership_period::text || ' of access') AS sells,
       price, currency, CASE WHEN permanent THEN 'never' ELSE coalesce(expires_after::text, '') END AS credits_expire
  FROM credits.packages ORDER BY listing_order;

\echo
\echo '== Aisha (account 1001, Kuala Lumpur) is on the monthly plan: 4 credits a month'
INSERT INTO credits.accounts (account_id, timezone) VALUES (1001, 'Asia/Kuala_Lumpur');
-- last month's period ended 10 days ago with all 4 credits unused
SELECT credits.grant_credits(1001, 4, source => 'subscription', reference => 'plan, last month',
                             valid_from => date_trunc('day', now()) - interval '40 days',
                             expires_at => date_trunc('day', now()) - interval '10 days') AS last_month_batch;
SELECT credits.balance(1001) AS spendable_now;
\echo 'Expired credits are never spendable; the nightly expiry run (pg_cron) zeroes them in the books:'
SELECT credits.expire_batches() AS batches_expired;
-- this month's period: started 10 days ago, ends in 20 days
SELECT credits.grant_credits(1001, 4, source => 'subscription', reference => 'plan, this month',
                             valid_from => date_trunc('day', now()) - interval '10 days',
                             expires_at => date_trunc('day', now()) + interval '20 days') AS this_month_batch;

\echo
\echo '== She buys the wellness package and a permanent top-up'
SELECT credits.grant_package(1001, 1, payment_ref => 'pay_5001', idempotency_key => 'order-5001') AS wellness_batch;
SELECT credits.grant_package(1001, 2, payment_ref => 'pay_5002', idempotency_key => 'order-5002') AS top_up_batch;
\echo 'The payment webhook fires twice; the same key returns the same batch, nothing is sold twice:'
SELECT credits.grant_package(1001, 1, payment_ref => 'pay_5001', idempotency_key => 'order-5001') AS wellness_batch_again;
SELECT count(*) AS sales_recorded FROM credits.sales WHERE account_id = 1001;

\echo
\echo '== Her credits, in the order they will be spent (customer portal)'
SELECT batch_id, coalesce(package_name, source::text) AS source, remaining,
       CASE WHEN expires_at = 'infinity' THEN 'never' ELSE expires_at::date::text END AS expires
  FROM credits.account_batches(1001);
SELECT credits.balance(1001) AS spendable_now;

\echo
\echo '== Checkout: may she pay with credits?'
SELECT s.name, s.credit_cost, credits.can_redeem(1001, s.service_id) AS pay_with_credits
  FROM credits.services s ORDER BY s.service_id;

\echo
\echo '== She books three Basic Facials: the plan''s expiring credits go first'
SELECT (r).amount, (r).balance_after, a.batch_id, a.amount AS drawn, a.expires_at::date AS batch_expires
  FROM credits.redeem_service(1001, 2, quantity => 3, reference => 'booking 77') AS r,
       unnest((r).allocations) AS a;

\echo
\echo '== Then two Premium Facials (4 credits): one redemption spanning two batches'
SELECT (r).amount, (r).balance_after, a.batch_id, a.amount AS drawn, a.expires_at::date AS batch_expires
  FROM credits.redeem_service(1001, 1, quantity => 2, reference => 'booking 78', idempotency_key => 'booking-78') AS r,
       unnest((r).allocations) AS a;
\echo 'The booking request is retried after a timeout: same operation, nothing charged twice:'
SELECT (r).operation_id, (r).amount, (r).balance_after
  FROM credits.redeem_service(1001, 1, quantity => 2, reference => 'booking 78', idempotency_key => 'booking-78') AS r;

\echo
\echo '== Six more Premium Facials would need 12 credits: refused, nothing written'
\set VERBOSITY default
\set ON_ERROR_STOP off
SELECT credits.redeem_service(1001, 1, quantity => 6);
\set ON_ERROR_STOP on

\echo
\echo '== She books a Premium Facial for tomorrow 10:00: 2 credits are held, not yet spent'
SELECT (h).hold_id, (h).amount, a.batch_id, a.amount AS held
  FROM credits.hold_service(1001, 1, reference => 'booking 79',
                            hold_until => date_trunc('day', now()) + interval '1 day 11 hours') AS h,
       unnest((h).allocations) AS a \gset facial_
SELECT :facial_hold_id AS hold_id, :facial_amount AS credits_held, credits.balance(1001) AS spendable_now;
\echo 'She cancels this morning, less than 24 hours ahead: a late cancellation, half comes back'
SELECT rule, returned, kept
  FROM credits.cancel_booking(1001, :facial_hold_id,
                              starts_at => date_trunc('day', now()) + interval '1 day 10 hours',
                              cancelled_at => date_trunc('day', now()) + interval '1 day 9 hours');
SELECT credits.balance(1001) AS spendable_now;

\echo
\echo '== She buys a Spa Pass: a month of sauna, paid by the membership instead of credits'
SELECT credits.grant_package(1001, 3, payment_ref => 'pay_5003') AS membership_id;
SELECT credits.has_access(1001, 4) AS sauna_access;
SELECT (r).amount AS credits_spent, (r).membership_id IS NOT NULL AS membership_paid
  FROM credits.redeem_service(1001, 4, reference => 'sauna visit') AS r;
SELECT package_name, starts_at::date, ends_at::date, visits FROM credits.account_memberships(1001);

\echo
\echo '== Her history, newest first'
SELECT created_at::date AS day, kind, delta, balance_after,
       coalesce(package_name, '') AS package, coalesce(reference, '') AS reference
  FROM credits.account_history(1001);

\echo
\echo '== What is left'
SELECT batch_id, coalesce(package_name, source::text) AS source, remaining,
       CASE WHEN expires_at = 'infinity' THEN 'never' ELSE expires_at::date::text END AS expires
  FROM credits.account_batches(1001);
SELECT credits.balance(1001) AS spendable_now;

\echo
\echo '== The books balance: every batch equals its ledger entries (no rows = consistent)'
SELECT * FROM credits.verify_ledger();

\echo
\echo '== Sales for the report'
SELECT p.name, s.price, s.currency, s.country, s.payment_ref
  FROM credits.sales s JOIN credits.packages p USING (package_id) ORDER BY s.operation_id;

\echo
\echo '== Booking records: the cancellation and the rule that applied'
SELECT booked_with, s.name AS service, rule, returned, kept
  FROM credits.cancellations c JOIN credits.services s USING (service_id);
