-- demo/demo.sql: a salon sells a "5-Session Wellness Package" and a
-- monthly plan with expiring credits; a customer tops up with permanent
-- credits, books facials, and last month's unused plan credits expire.
\pset footer off
SET timezone = 'Asia/Kuala_Lumpur';
SET datestyle = 'ISO, YMD';
CREATE EXTENSION credits;

\echo
\echo '== The salon''s catalogue: services priced in credits, packages for sale'
INSERT INTO credits.services (service_id, name, credit_cost) VALUES
    (1, 'Premium Facial', 2),
    (2, 'Basic Facial', 1);
INSERT INTO credits.services (service_id, name, credit_cost, accepts_credits) VALUES
    (3, 'Hair colour', 3, false);
INSERT INTO credits.packages (package_id, name, credits, price, currency, country, expires_after, short_info, listing_order) VALUES
    (1, '5-Session Wellness Package', 5, 90, 'MYR', 'MY', '12 months', 'Five facial credits, valid 12 months', 1);
INSERT INTO credits.packages (package_id, name, credits, price, currency, country, permanent, short_info, listing_order) VALUES
    (2, 'Top-up 3', 3, 60, 'MYR', 'MY', true, 'Three credits that never expire', 2);
SELECT service_id, name, accepts_credits, credit_cost FROM credits.services ORDER BY service_id;
SELECT name, credits, price, currency, coalesce(expires_after::text, 'never') AS valid_for
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
