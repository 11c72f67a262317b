-- test/sqlstates.sql: every SQLSTATE the credits extension documents, each
-- raised by a call that should trigger it, with its message where the
-- message is fixed by the code (src/*.c, sql/credits--1.0.sql).  Ends with
-- the all-or-nothing rule: a redemption that cannot be covered changes
-- nothing.
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION credits;

SELECT plan(112);

------------------------------------------------------------------------------
-- Fixture, as the superuser
------------------------------------------------------------------------------

INSERT INTO credits.credit_types (credit_type) VALUES ('minutes');
INSERT INTO credits.services (service_id, name, accepts_credits, credit_cost, credit_type) VALUES
    (1, 'Yoga class', true, 2, 'credit'),
    (2, 'Massage', true, 5, 'credit'),
    (3, 'Cafe', false, 1, 'credit'),
    (4, 'Phone call', true, 1, 'minutes'),
    (5, 'Island', true, 1e14, 'credit');
INSERT INTO credits.packages (package_id, name, credits, price, currency, expires_after, active) VALUES
    (10, 'Ten', 10, 50, 'EUR', NULL, true),
    (11, 'Old pack', 10, 40, 'EUR', NULL, false),
    (12, 'Millennia', 10, 50, 'EUR', '300000 years', true);

DO $$
BEGIN
    -- 100: a member with general credits
    PERFORM credits.grant_credits(100, 50);
    -- 102: only credits restricted to service 1
    PERFORM credits.grant_credits(102, 10, services => ARRAY[1]::bigint[]);
    -- 103: has credits, then stops being a member
    PERFORM credits.grant_credits(103, 5);
END
$$;
UPDATE credits.accounts SET is_member = false WHERE account_id = 103;
-- 101: not a member, no batches
INSERT INTO credits.accounts (account_id, is_member) VALUES (101, false);
-- 104: a member that never received credits
INSERT INTO credits.accounts (account_id) VALUES (104);

------------------------------------------------------------------------------
-- 22004: a required argument is NULL
------------------------------------------------------------------------------

SELECT throws_ok($$ SELECT credits.grant_package(NULL, 10) $$, '22004',
    'argument "account_id" of grant_package must not be null', 'grant_package: NULL account_id');
SELECT throws_ok($$ SELECT credits.grant_package(100, NULL) $$, '22004',
    'argument "package_id" of grant_package must not be null', 'grant_package: NULL package_id');
SELECT throws_ok($$ SELECT credits.grant_package(100, 10, granted_at => NULL) $$, '22004',
    'argument "granted_at" of grant_package must not be null', 'grant_package: NULL granted_at');
SELECT throws_ok($$ SELECT credits.grant_credits(NULL, 1) $$, '22004',
    'argument "account_id" of grant_credits must not be null', 'grant_credits: NULL account_id');
SELECT throws_ok($$ SELECT credits.grant_credits(100, NULL) $$, '22004',
    'argument "amount" of grant_credits must not be null', 'grant_credits: NULL amount');
SELECT throws_ok($$ SELECT credits.grant_credits(100, 1, expires_at => NULL) $$, '22004',
    'argument "expires_at" of grant_credits must not be null', 'grant_credits: NULL expires_at');
SELECT throws_ok($$ SELECT credits.grant_credits(100, 1, valid_from => NULL) $$, '22004',
    'argument "valid_from" of grant_credits must not be null', 'grant_credits: NULL valid_from');
SELECT throws_ok($$ SELECT credits.grant_credits(100, 1, credit_type => NULL) $$, '22004',
    'argument "credit_type" of grant_credits must not be null', 'grant_credits: NULL credit_type');
SELECT throws_ok($$ SELECT credits.grant_credits(100, 1, source => NULL) $$, '22004',
    'argument "source" of grant_credits must not be null', 'grant_credits: NULL source');
SELECT throws_ok($$ SELECT credits.grant_credits(100, 1, services => ARRAY[1, NULL]::bigint[]) $$, '22004',
    'services must not contain null', 'grant_credits: NULL in services');
SELECT throws_ok($$ SELECT credits.redeem_credits(NULL, 1) $$, '22004',
    'argument "account_id" of redeem_credits must not be null', 'redeem_credits: NULL account_id');
SELECT throws_ok($$ SELECT credits.redeem_credits(100, NULL) $$, '22004',
    'argument "amount" of redeem_credits must not be null', 'redeem_credits: NULL amount');
SELECT throws_ok($$ SELECT credits.redeem_credits(100, 1, NULL) $$, '22004',
    'argument "credit_type" of redeem_credits must not be null', 'redeem_credits: NULL credit_type');
SELECT throws_ok($$ SELECT credits.redeem_service(NULL, 1) $$, '22004',
    'argument "account_id" of redeem_service must not be null', 'redeem_service: NULL account_id');
SELECT throws_ok($$ SELECT credits.redeem_service(100, NULL) $$, '22004',
    'argument "service_id" of redeem_service must not be null', 'redeem_service: NULL service_id');
SELECT throws_ok($$ SELECT credits.redeem_service(100, 1, NULL) $$, '22004',
    'argument "quantity" of redeem_service must not be null', 'redeem_service: NULL quantity');
SELECT throws_ok($$ SELECT credits.expire_batches(NULL) $$, '22004',
    'argument "max_batches" of expire_batches must not be null', 'expire_batches: NULL max_batches');
SELECT throws_ok($$ SELECT credits.balance(NULL) $$, '22004',
    'argument "account_id" of balance must not be null', 'balance: NULL account_id');
SELECT throws_ok($$ SELECT credits.balance(100, NULL) $$, '22004',
    'argument "credit_type" of balance must not be null', 'balance: NULL credit_type');
SELECT throws_ok($$ SELECT credits.can_redeem(100, NULL) $$, '22004',
    'argument "service_id" of can_redeem must not be null', 'can_redeem: NULL service_id');
SELECT throws_ok($$ SELECT credits.schedule_expiry(NULL) $$, '22004',
    'schedule must not be null', 'schedule_expiry: NULL schedule');

------------------------------------------------------------------------------
-- 22023: a value outside its domain
------------------------------------------------------------------------------

SELECT throws_ok($$ SELECT credits.grant_credits(100, 0) $$, '22023',
    'amount must be greater than zero', 'grant_credits: amount 0');
SELECT throws_ok($$ SELECT credits.grant_credits(100, -5) $$, '22023',
    'amount must be greater than zero', 'grant_credits: negative amount');
SELECT throws_ok($$ SELECT credits.redeem_credits(100, 0) $$, '22023',
    'amount must be greater than zero', 'redeem_credits: amount 0');
SELECT throws_ok($$ SELECT credits.redeem_credits(100, -1) $$, '22023',
    'amount must be greater than zero', 'redeem_credits: negative amount');
SELECT throws_ok($$ SELECT credits.grant_credits(100, 'NaN') $$, '22023',
    'amount must be a number, not NaN', 'grant_credits: NaN amount');
SELECT throws_ok($$ SELECT credits.redeem_credits(100, 'NaN') $$, '22023',
    'amount must be a number, not NaN', 'redeem_credits: NaN amount');
SELECT throws_ok($$ SELECT credits.redeem_service(100, 1, 0) $$, '22023',
    'quantity must be at least 1', 'redeem_service: quantity 0');
SELECT throws_ok($$ SELECT credits.redeem_service(100, 1, -2) $$, '22023',
    'quantity must be at least 1', 'redeem_service: negative quantity');
SELECT throws_ok($$ SELECT credits.can_redeem(100, 1, 0) $$, '22023',
    'quantity must be at least 1', 'can_redeem: quantity 0');
SELECT throws_ok($$ SELECT credits.expire_batches(0) $$, '22023',
    'max_batches must be at least 1', 'expire_batches: max_batches 0');
SELECT throws_ok($$ SELECT credits.grant_credits(100, 5, expires_at => '2030-01-01 00:00+00',
                                                 valid_from => '2030-01-01 00:00+00') $$, '22023',
    'expires_at must be later than valid_from', 'grant_credits: expires_at = valid_from');
SELECT throws_ok($$ SELECT credits.grant_credits(100, 5, expires_at => '2029-12-31 23:59+00',
                                                 valid_from => '2030-01-01 00:00+00') $$, '22023',
    'expires_at must be later than valid_from', 'grant_credits: expires_at before valid_from');
SELECT throws_ok($$ SELECT credits.grant_credits(100, 5, expires_at => '-infinity') $$, '22023',
    'expires_at must be later than valid_from', 'grant_credits: expires_at -infinity');
SELECT throws_ok($$ SELECT credits.grant_credits(100, 5, source => 'gift') $$, '22023',
    '"gift" is not a source of credits', 'grant_credits: unknown source ''gift''');
SELECT throws_ok($$ SELECT credits.grant_package(100, 10, granted_at => 'infinity') $$, '22023',
    'granted_at must be a finite time', 'grant_package: infinite granted_at');
SELECT throws_ok($$ SELECT credits.grant_package(100, 10, granted_at => '-infinity') $$, '22023',
    'granted_at must be a finite time', 'grant_package: -infinite granted_at');
SELECT throws_ok($$ SELECT credits.grant_credits(100, 5, valid_from => '-infinity') $$, '22023',
    'valid_from must be a finite time', 'grant_credits: infinite valid_from');
SELECT throws_ok($$ SELECT credits.grant_credits(100, 5, services => ARRAY[[1], [2]]::bigint[]) $$, '22023',
    'services must be a one-dimensional array', 'grant_credits: two-dimensional services');
SELECT throws_ok($$ SELECT credits.redeem_credits(100, 1, 'credit', 4) $$, '22023',
    'service 4 is paid in credit type "minutes", not "credit"',
    'redeem_credits: a service of another credit type');

------------------------------------------------------------------------------
-- 22003: an amount beyond what the extension stores (10^15)
------------------------------------------------------------------------------

SELECT throws_ok($$ SELECT credits.grant_credits(100, 1e15) $$, '22003',
    'amount is out of range', 'grant_credits: amount 1e15');
SELECT throws_ok($$ SELECT credits.redeem_credits(100, 1e15) $$, '22003',
    'amount is out of range', 'redeem_credits: amount 1e15');
SELECT throws_ok($$ SELECT credits.grant_credits(100, 'Infinity') $$, '22003',
    'amount must be finite', 'grant_credits: amount Infinity');
SELECT throws_ok($$ SELECT credits.redeem_credits(100, '-Infinity') $$, '22003',
    'amount must be finite', 'redeem_credits: amount -Infinity');
SELECT throws_ok($$ SELECT credits.redeem_service(100, 5, 10) $$, '22003',
    'credit_cost times quantity is out of range', 'redeem_service: credit_cost * quantity = 1e15');
SELECT throws_ok($$ SELECT credits.can_redeem(100, 5, 10) $$, '22003',
    'credit_cost times quantity is out of range', 'can_redeem: credit_cost * quantity = 1e15');
-- the limit is exclusive: one below it is an amount like any other
SELECT lives_ok($$ SELECT credits.grant_credits(110, 999999999999999) $$,
    'grant_credits: amount 1e15 - 1 is accepted');
SELECT is((credits.redeem_service(110, 5, 9)).amount, 9e14,
    'redeem_service: credit_cost * quantity = 9e14 is accepted and charged');

------------------------------------------------------------------------------
-- 22008: an expiry beyond the timestamp range
------------------------------------------------------------------------------

SELECT throws_ok($$ SELECT credits.grant_package(100, 12) $$, '22008',
    'timestamp out of range', 'grant_package: expires_after 300000 years overflows');

------------------------------------------------------------------------------
-- 23514: the catalogue's CHECK constraints
------------------------------------------------------------------------------

SELECT throws_ok($$ INSERT INTO credits.packages (name, credits, price, currency)
                   VALUES ('Lower case', 10, 50, 'eur') $$, '23514',
    'new row for relation "packages" violates check constraint "packages_currency_check"',
    'packages: currency ''eur''');
SELECT throws_ok($$ INSERT INTO credits.packages (name, credits, price, currency)
                   VALUES ('Empty', 0, 50, 'EUR') $$, '23514',
    'new row for relation "packages" violates check constraint "packages_credits_check"',
    'packages: credits 0');
SELECT throws_ok($$ INSERT INTO credits.packages (name, credits, price, currency, country)
                   VALUES ('Abroad', 10, 50, 'MYR', 'Malaysia') $$, '23514',
    'new row for relation "packages" violates check constraint "packages_country_check"',
    'packages: country ''Malaysia''');
SELECT throws_ok($$ INSERT INTO credits.services (service_id, name, credit_cost)
                   VALUES (90, 'Free', 0) $$, '23514',
    'new row for relation "services" violates check constraint "services_credit_cost_check"',
    'services: credit_cost 0');
-- the time zone check asks PostgreSQL to use the zone, which refuses an
-- unknown one with its own, clearer, error (22023) before the CHECK can fail
SELECT throws_ok($$ INSERT INTO credits.accounts (account_id, timezone)
                   VALUES (190, 'Mars/Base') $$, '22023',
    'time zone "Mars/Base" not recognized',
    'accounts: timezone ''Mars/Base'' is refused as unknown');
SELECT lives_ok($$ INSERT INTO credits.accounts (account_id, timezone)
                   VALUES (191, 'Asia/Kuala_Lumpur') $$,
    'accounts: a real time zone is accepted');

------------------------------------------------------------------------------
-- CR001: insufficient credits
------------------------------------------------------------------------------

SELECT throws_ok($$ SELECT credits.redeem_credits(100, 51) $$, 'CR001',
    'insufficient credits', 'redeem_credits: one more than the balance');
SELECT throws_ok($$ SELECT credits.redeem_service(100, 2, 11) $$, 'CR001',
    'insufficient credits', 'redeem_service: 11 massages cost 55');
SELECT throws_ok($$ SELECT credits.redeem_credits(104, 1) $$, 'CR001',
    'insufficient credits', 'redeem_credits: a member that never received credits');
-- credits restricted to the service, but not enough of them: CR001, not CR007
SELECT throws_ok($$ SELECT credits.redeem_service(102, 1, 6) $$, 'CR001',
    'insufficient credits', 'redeem_service: restricted credits that do not cover it');

------------------------------------------------------------------------------
-- CR002: unknown account (only grants create accounts)
------------------------------------------------------------------------------

SELECT throws_ok($$ SELECT credits.redeem_credits(999, 1) $$, 'CR002',
    'account 999 does not exist', 'redeem_credits: unknown account');
SELECT throws_ok($$ SELECT credits.redeem_service(999, 1) $$, 'CR002',
    'account 999 does not exist', 'redeem_service: unknown account');
SELECT ok(NOT EXISTS (SELECT 1 FROM credits.accounts WHERE account_id = 999),
    'a failed redemption does not create the account');

------------------------------------------------------------------------------
-- CR003, CR004: packages
------------------------------------------------------------------------------

SELECT throws_ok($$ SELECT credits.grant_package(100, 999) $$, 'CR003',
    'package 999 does not exist', 'grant_package: unknown package');
SELECT throws_ok($$ SELECT credits.grant_package(100, 11) $$, 'CR004',
    'package 11 (Old pack) is not active', 'grant_package: inactive package');

------------------------------------------------------------------------------
-- CR005: unknown service
------------------------------------------------------------------------------

SELECT throws_ok($$ SELECT credits.redeem_service(100, 999) $$, 'CR005',
    'service 999 does not exist', 'redeem_service: unknown service');
SELECT throws_ok($$ SELECT credits.redeem_credits(100, 1, 'credit', 999) $$, 'CR005',
    'service 999 does not exist', 'redeem_credits: unknown service');
SELECT throws_ok($$ SELECT credits.grant_credits(100, 1, services => ARRAY[999]::bigint[]) $$, 'CR005',
    'service 999 does not exist', 'grant_credits: services => ARRAY[999]');
SELECT throws_ok($$ SELECT credits.grant_credits(100, 1, services => ARRAY[1, 2, 998]::bigint[]) $$, 'CR005',
    'service 998 does not exist', 'grant_credits: one unknown service among known ones');
SELECT throws_ok($$ SELECT credits.balance(100, 'credit', 999) $$, 'CR005',
    'service 999 does not exist', 'balance: unknown service');
SELECT throws_ok($$ SELECT credits.can_redeem(100, 999) $$, 'CR005',
    'service 999 does not exist', 'can_redeem: unknown service');

------------------------------------------------------------------------------
-- CR006: service that does not accept credits
------------------------------------------------------------------------------

SELECT throws_ok($$ SELECT credits.redeem_service(100, 3) $$, 'CR006',
    'service 3 (Cafe) does not accept credits', 'redeem_service: accepts_credits = false');
SELECT throws_ok($$ SELECT credits.redeem_credits(100, 1, 'credit', 3) $$, 'CR006',
    'service 3 (Cafe) does not accept credits', 'redeem_credits: accepts_credits = false');
SELECT is(credits.can_redeem(100, 3), false, 'can_redeem: false (no error) for a service refusing credits');

------------------------------------------------------------------------------
-- CR007: credits exist, but only for other services
------------------------------------------------------------------------------

SELECT throws_ok($$ SELECT credits.redeem_service(102, 2) $$, 'CR007',
    'no credits of account 102 can be used for service 2',
    'redeem_service: only credits restricted to service 1, service 2 asked');
SELECT throws_ok($$ SELECT credits.redeem_credits(102, 1, 'credit', 2) $$, 'CR007',
    'no credits of account 102 can be used for service 2',
    'redeem_credits: only credits restricted to service 1, service 2 asked');
SELECT is((credits.redeem_service(102, 1)).amount, 2::numeric,
    'redeem_service: the restricted credits do pay for service 1');

------------------------------------------------------------------------------
-- CR008: unknown credit type
------------------------------------------------------------------------------

SELECT throws_ok($$ SELECT credits.redeem_credits(100, 1, 'gold') $$, 'CR008',
    'credit type "gold" does not exist', 'redeem_credits: unknown credit type');
SELECT throws_ok($$ SELECT credits.grant_credits(100, 1, credit_type => 'gold') $$, 'CR008',
    'credit type "gold" does not exist', 'grant_credits: unknown credit type');
SELECT throws_ok($$ SELECT credits.balance(100, 'gold') $$, 'CR008',
    'credit type "gold" does not exist', 'balance: unknown credit type');

------------------------------------------------------------------------------
-- CR009: not a member
------------------------------------------------------------------------------

SELECT throws_ok($$ SELECT credits.redeem_credits(101, 1) $$, 'CR009',
    'account 101 is not a member', 'redeem_credits: non-member');
SELECT throws_ok($$ SELECT credits.redeem_credits(103, 1) $$, 'CR009',
    'account 103 is not a member', 'redeem_credits: non-member that still has a batch');
SELECT throws_ok($$ SELECT credits.redeem_service(103, 1) $$, 'CR009',
    'account 103 is not a member', 'redeem_service: non-member that still has a batch');
SELECT throws_ok($$ SELECT credits.grant_credits(101, 5) $$, 'CR009',
    'account 101 is not a member', 'grant_credits: non-member');
SELECT throws_ok($$ SELECT credits.grant_package(101, 10) $$, 'CR009',
    'account 101 is not a member', 'grant_package: non-member');
SELECT is((SELECT pg_catalog.sum(remaining) FROM credits.batches WHERE account_id = 103), 5::numeric,
    'the non-member keeps its batch');
SELECT is(credits.balance(103), 0::numeric, 'balance of a non-member is 0');

------------------------------------------------------------------------------
-- CR010: one idempotency key, two different requests
------------------------------------------------------------------------------

SELECT lives_ok($$ SELECT credits.grant_credits(100, 5, reference => 'order 1', idempotency_key => 'k1') $$,
    'grant_credits with key k1');
SELECT is(credits.grant_credits(100, 5, reference => 'order 1', idempotency_key => 'k1'),
          (SELECT b.batch_id FROM credits.batches AS b WHERE b.account_id = 100 AND b.reference = 'order 1'),
          'the same request with k1 again returns the first batch');
SELECT throws_ok($$ SELECT credits.grant_credits(100, 6, reference => 'order 1', idempotency_key => 'k1') $$, 'CR010',
    'idempotency key "k1" was already used for a different request', 'grant_credits: k1 with another amount');
SELECT throws_ok($$ SELECT credits.grant_credits(100, 5, reference => 'order 2', idempotency_key => 'k1') $$, 'CR010',
    'idempotency key "k1" was already used for a different request', 'grant_credits: k1 with another reference');
SELECT throws_ok($$ SELECT credits.grant_package(100, 10, idempotency_key => 'k1') $$, 'CR010',
    'idempotency key "k1" was already used for a different request', 'grant_package: k1 of a grant_credits');
SELECT lives_ok($$ SELECT credits.redeem_credits(100, 1, idempotency_key => 'r1') $$,
    'redeem_credits with key r1');
SELECT throws_ok($$ SELECT credits.redeem_credits(100, 2, idempotency_key => 'r1') $$, 'CR010',
    'idempotency key "r1" was already used for a different request', 'redeem_credits: r1 with another amount');
SELECT throws_ok($$ SELECT credits.redeem_service(100, 1, idempotency_key => 'r1') $$, 'CR010',
    'idempotency key "r1" was already used for a different request', 'redeem_service: r1 of a redeem_credits');
SELECT is((SELECT pg_catalog.count(*)::int FROM credits.operations
            WHERE account_id = 100 AND idempotency_key IN ('k1', 'r1')), 2,
          'one operation per key');

------------------------------------------------------------------------------
-- CR011: pg_cron is not installed in this database
------------------------------------------------------------------------------

SELECT hasnt_extension('pg_cron', 'pg_cron is not created in the test database');
SELECT throws_ok($$ SELECT credits.schedule_expiry() $$, 'CR011',
    'pg_cron is not installed in this database', 'schedule_expiry without pg_cron');
SELECT throws_ok($$ SELECT credits.unschedule_expiry() $$, 'CR011',
    'pg_cron is not installed in this database', 'unschedule_expiry without pg_cron');

------------------------------------------------------------------------------
-- All or nothing: a redemption that cannot be covered changes nothing
------------------------------------------------------------------------------

-- account 200: three batches of different expiry, 3 + 4 + 10 + 6 = 23
DO $$
BEGIN
    PERFORM credits.grant_credits(200, 3, expires_at => pg_catalog.now() + '10 days');
    PERFORM credits.grant_credits(200, 4, expires_at => pg_catalog.now() + '20 days');
    PERFORM credits.grant_package(200, 10);
    PERFORM credits.grant_credits(200, 6);
END
$$;

CREATE TEMP TABLE before_batches AS
    SELECT batch_id, remaining, is_open FROM credits.batches WHERE account_id = 200;
CREATE TEMP TABLE before_ledger AS
    SELECT operation_id, entry_no, batch_id, delta, balance_after FROM credits.ledger WHERE account_id = 200;
CREATE TEMP TABLE before_totals AS
    SELECT credit_type, total FROM credits.account_totals WHERE account_id = 200;
CREATE TEMP TABLE before_operations AS
    SELECT operation_id, kind FROM credits.operations WHERE account_id = 200;

SELECT is(credits.balance(200), 23::numeric, 'account 200 starts with 23 credits');

SELECT throws_ok($$ SELECT credits.redeem_credits(200, 24, idempotency_key => 'too much') $$, 'CR001',
    'insufficient credits', 'redeem_credits: 24 of 23 fails');
SELECT throws_ok($$ SELECT credits.redeem_service(200, 2, 5) $$, 'CR001',
    'insufficient credits', 'redeem_service: 5 massages (25) of 23 fails');

SELECT results_eq(
    $$ SELECT batch_id, remaining, is_open FROM credits.batches WHERE account_id = 200 ORDER BY batch_id $$,
    $$ SELECT batch_id, remaining, is_open FROM before_batches ORDER BY batch_id $$,
    'after the failed redemptions every batch of account 200 is as before');
SELECT results_eq(
    $$ SELECT operation_id, entry_no, batch_id, delta, balance_after FROM credits.ledger
        WHERE account_id = 200 ORDER BY operation_id, entry_no $$,
    $$ SELECT operation_id, entry_no, batch_id, delta, balance_after FROM before_ledger
        ORDER BY operation_id, entry_no $$,
    'after the failed redemptions the ledger of account 200 is as before');
SELECT results_eq(
    $$ SELECT credit_type, total FROM credits.account_totals WHERE account_id = 200 ORDER BY credit_type $$,
    $$ SELECT credit_type, total FROM before_totals ORDER BY credit_type $$,
    'after the failed redemptions the running total of account 200 is as before');
SELECT results_eq(
    $$ SELECT operation_id, kind FROM credits.operations WHERE account_id = 200 ORDER BY operation_id $$,
    $$ SELECT operation_id, kind FROM before_operations ORDER BY operation_id $$,
    'after the failed redemptions the operations of account 200 are as before');
SELECT is(credits.balance(200), 23::numeric, 'account 200 still has 23 credits');
SELECT ok(NOT EXISTS (SELECT 1 FROM credits.operations WHERE idempotency_key = 'too much'),
    'the failed call did not record its idempotency key');

-- the same comparisons do see a change: the whole balance can be spent
SELECT is((credits.redeem_credits(200, 23)).balance_after, 0::numeric,
    'redeem_credits: exactly the balance (23) succeeds');
SELECT isnt_empty(
    $$ SELECT batch_id, remaining, is_open FROM credits.batches WHERE account_id = 200
       EXCEPT SELECT batch_id, remaining, is_open FROM before_batches $$,
    'after the successful redemption the batches differ from before');
SELECT is((SELECT pg_catalog.count(*)::int FROM credits.ledger WHERE account_id = 200)
          - (SELECT pg_catalog.count(*)::int FROM before_ledger), 4,
    'the successful redemption drew from all four batches, one ledger entry each');
SELECT is((SELECT total FROM credits.account_totals WHERE account_id = 200 AND credit_type = 'credit'),
          0::numeric, 'the running total of account 200 is 0');
SELECT is_empty($$ SELECT * FROM credits.verify_ledger() $$,
    'the ledger reconciles at the end');

SELECT * FROM finish();
ROLLBACK;
