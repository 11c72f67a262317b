-- Grants: grant_package and grant_credits create one batch, one ledger
-- entry, one operation and (for packages) one sale; expiry is computed in
-- the account's time zone.
CREATE EXTENSION credits;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';

INSERT INTO credits.services VALUES (1, 'Premium Facial', true, 2, 'credit'),
                                    (2, 'Basic Facial', true, 1, 'credit'),
                                    (3, 'Yoga class', true, 1, 'credit');
INSERT INTO credits.packages (package_id, name, credits, price, currency, country, expires_after, service_ids)
VALUES (1, '5-Session Wellness Package', 5, 90, 'MYR', 'MY', '12 months', '{1,2}'),
       (2, 'Monthly', 4, 40, 'EUR', NULL, '1 month', NULL),
       (3, 'Day pass', 1, 10, 'EUR', NULL, '1 day', NULL),
       (4, 'Default expiry', 3, 30, 'EUR', NULL, NULL, '{}'),
       (5, 'Top-up 10', 10, 95, 'EUR', NULL, NULL, NULL);
UPDATE credits.packages SET permanent = true WHERE package_id = 5;

-- A first grant creates the account: a member, in UTC
SELECT credits.grant_package(100, 1, payment_ref => 'stripe_pi_1', granted_at => '2026-01-31 10:00+00') AS batch_id;
SELECT account_id, is_member, timezone FROM credits.accounts;
SELECT batch_id, credit_type, source, package_id, amount, remaining, is_open, valid_from,
       expires_at, service_ids, reference
  FROM credits.batches;
SELECT operation_id, entry_no, kind, batch_id, credit_type, delta, balance_after, reference
  FROM credits.ledger;
SELECT operation_id, kind, idempotency_key, amount, credit_type, package_id, reference
  FROM credits.operations;
SELECT operation_id, package_id, batch_id, credits, price, currency, country, payment_ref
  FROM credits.sales;
SELECT account_id, credit_type, total FROM credits.account_totals;

-- Editing the package later never changes what was sold
UPDATE credits.packages SET service_ids = '{3}', credits = 50 WHERE package_id = 1;
SELECT amount, remaining, service_ids FROM credits.batches WHERE batch_id = 1;

-- Expiry is granted_at + expires_after as a local date and time.
-- Berlin: 1 March 00:30 CET + 1 month is 1 April 00:30 CEST (22:30 UTC the
-- day before), not 28 March + 1 month in UTC.
INSERT INTO credits.accounts (account_id, timezone) VALUES (200, 'Europe/Berlin'),
                                                          (300, 'America/New_York');
SELECT credits.grant_package(200, 2, granted_at => '2026-03-01 00:30+01') AS batch_id;
-- Berlin: 28 March 12:00 CET + 1 day is 29 March 12:00 CEST: 23 hours later
SELECT credits.grant_package(200, 3, granted_at => '2026-03-28 12:00+01') AS batch_id;
-- Berlin: 12 months from 31 January 00:30 local is 31 January 00:30 local
SELECT credits.grant_package(200, 1, granted_at => '2026-01-31 00:30+01') AS batch_id;
-- New York: 31 October 22:00 EDT + 1 month is 30 November 22:00 EST
SELECT credits.grant_package(300, 2, granted_at => '2026-10-31 22:00-04') AS batch_id;
SELECT b.account_id, p.name, b.valid_from, b.expires_at,
       b.valid_from AT TIME ZONE a.timezone AS local_from,
       b.expires_at AT TIME ZONE a.timezone AS local_expiry,
       b.expires_at - b.valid_from AS elapsed
  FROM credits.batches b
  JOIN credits.accounts a USING (account_id)
  JOIN credits.packages p USING (package_id)
 WHERE b.account_id IN (200, 300)
 ORDER BY b.batch_id;

-- No expires_after: credits.default_expiry (12 months unless set);
-- an empty service list means every service; permanent never expires
SELECT credits.grant_package(400, 4, granted_at => '2026-05-10 08:00+00') AS batch_id;
SET credits.default_expiry = '3 months';
SELECT credits.grant_package(400, 4, granted_at => '2026-05-10 08:00+00') AS batch_id;
RESET credits.default_expiry;
SELECT credits.grant_package(400, 5, granted_at => '2026-05-10 08:00+00') AS batch_id;
SELECT batch_id, valid_from, expires_at, service_ids FROM credits.batches
 WHERE account_id = 400 ORDER BY batch_id;

-- grant_credits: manual by default, permanent by default
SELECT credits.grant_credits(500, 7) AS batch_id;
SELECT source, amount, remaining, expires_at, service_ids, valid_from <= now() AS valid_now
  FROM credits.batches WHERE account_id = 500;
-- subscription credits for next period: granted now, spendable from then
SELECT credits.grant_credits(500, 8, expires_at => now() + interval '2 months',
                             valid_from => now() + interval '1 month',
                             source => 'subscription', reference => 'sub_42 period 2') AS batch_id;
SELECT credits.balance(500) AS spendable_now;
SELECT batch_id, source, remaining, spendable_now FROM credits.account_batches(500);
SELECT total FROM credits.account_totals WHERE account_id = 500;
-- restricted to services, of another credit type
INSERT INTO credits.credit_types VALUES ('minutes', 'Call minutes');
SELECT credits.grant_credits(500, 90, credit_type => 'minutes', services => ARRAY[3, 1]) AS batch_id;
SELECT credit_type, amount, service_ids FROM credits.batches WHERE batch_id = 11;
SELECT credit_type, total FROM credits.account_totals WHERE account_id = 500 ORDER BY 1;
-- fractional credits are kept exactly
SELECT credits.grant_credits(500, 0.25) AS batch_id;
SELECT amount, remaining FROM credits.batches WHERE batch_id = 12;

-- Every grant left the books balanced
SELECT * FROM credits.verify_ledger();

DROP EXTENSION credits;
