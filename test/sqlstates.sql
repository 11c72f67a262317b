-- test/sqlstates.sql: every SQLSTATE the credits extension documents, each
-- raised by a call that should trigger it, with its message where the
-- message is fixed by the code (src/*.c, sql/credits--1.3.sql).  Version 1.1 adds CR012 to CR022 (holds,
-- refunds, voids, memberships, cancellations); 1.2 the setting
-- credits.expiry_work_share, whose range is checked with 22023, and 1.3
-- credits.expiry_synchronous_commit, whose values are, and
-- credits.account_lock_spin, whose range is.  Ends with the
-- all-or-nothing rule: a redemption that cannot be covered changes nothing.
-- Holds, operations, batches and memberships take their ids from sequences
-- that a rolled-back run does not reset, so the ids the fixture needs are
-- kept in psql variables (\gset) and put into calls with format().
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION credits;

SELECT plan(248);

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

-- 1.1: a service with a cancellation policy (everything back at least a
-- day before, half back later), and a membership package for service 1
INSERT INTO credits.services (service_id, name, credit_cost, cancel_window, late_cancel_share)
    VALUES (6, 'Pilates', 3, '24 hours', 0.5);
INSERT INTO credits.packages (package_id, name, credits, price, currency, membership_period, service_ids)
    VALUES (13, 'Monthly yoga', NULL, 60, 'EUR', '1 month', ARRAY[1]::bigint[]);

-- 300: 20 credits and three holds on them, 5 + 3 + 5
SELECT credits.grant_credits(300, 20) AS b300 \gset
SELECT (credits.hold_credits(300, 5)).hold_id AS h1 \gset
SELECT (credits.hold_credits(300, 3)).hold_id AS h2 \gset
SELECT (credits.hold_credits(300, 5)).hold_id AS h3 \gset
-- 301: another account with an open hold of 4 of its 10 credits
SELECT credits.grant_credits(301, 10) AS b301 \gset
SELECT (credits.hold_credits(301, 4)).hold_id AS h301 \gset
-- 310: 20 credits, a redemption of 4
SELECT credits.grant_credits(310, 20) AS b310 \gset
SELECT operation_id AS g310 FROM credits.batches WHERE account_id = 310 AND batch_id = :b310 \gset
SELECT (credits.redeem_credits(310, 4)).operation_id AS r310 \gset
-- 320: a batch of 10 to void
SELECT credits.grant_credits(320, 10) AS b320 \gset
-- 330: a membership of one month from now, and 5 credits
SELECT credits.grant_package(330, 13) AS m330 \gset
SELECT credits.grant_credits(330, 5) AS b330 \gset
SELECT operation_id AS g330 FROM credits.batches WHERE account_id = 330 AND batch_id = :b330 \gset
-- 340: 20 credits, a Pilates class paid (3) and one held (3)
SELECT credits.grant_credits(340, 20) AS b340 \gset
SELECT operation_id AS g340 FROM credits.batches WHERE account_id = 340 AND batch_id = :b340 \gset
SELECT (credits.redeem_service(340, 6)).operation_id AS r340 \gset
SELECT (credits.hold_service(340, 6)).hold_id AS hc340 \gset

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
-- 1.1: every required argument of every new function
SELECT throws_ok($$ SELECT credits.hold_credits(NULL, 1) $$, '22004',
    'argument "account_id" of hold_credits must not be null', 'hold_credits: NULL account_id');
SELECT throws_ok($$ SELECT credits.hold_credits(100, NULL) $$, '22004',
    'argument "amount" of hold_credits must not be null', 'hold_credits: NULL amount');
SELECT throws_ok($$ SELECT credits.hold_credits(100, 1, NULL) $$, '22004',
    'argument "credit_type" of hold_credits must not be null', 'hold_credits: NULL credit_type');
SELECT throws_ok($$ SELECT credits.hold_service(NULL, 1) $$, '22004',
    'argument "account_id" of hold_service must not be null', 'hold_service: NULL account_id');
SELECT throws_ok($$ SELECT credits.hold_service(100, NULL) $$, '22004',
    'argument "service_id" of hold_service must not be null', 'hold_service: NULL service_id');
SELECT throws_ok($$ SELECT credits.hold_service(100, 1, NULL) $$, '22004',
    'argument "quantity" of hold_service must not be null', 'hold_service: NULL quantity');
SELECT throws_ok($$ SELECT credits.capture_hold(NULL, 1) $$, '22004',
    'argument "account_id" of capture_hold must not be null', 'capture_hold: NULL account_id');
SELECT throws_ok($$ SELECT credits.capture_hold(300, NULL) $$, '22004',
    'argument "hold_id" of capture_hold must not be null', 'capture_hold: NULL hold_id');
SELECT throws_ok($$ SELECT credits.release_hold(NULL, 1) $$, '22004',
    'argument "account_id" of release_hold must not be null', 'release_hold: NULL account_id');
SELECT throws_ok($$ SELECT credits.release_hold(300, NULL) $$, '22004',
    'argument "hold_id" of release_hold must not be null', 'release_hold: NULL hold_id');
SELECT throws_ok($$ SELECT credits.release_expired_holds(NULL) $$, '22004',
    'argument "max_holds" of release_expired_holds must not be null', 'release_expired_holds: NULL max_holds');
SELECT throws_ok($$ SELECT credits.refund_redemption(NULL, 1) $$, '22004',
    'argument "account_id" of refund_redemption must not be null', 'refund_redemption: NULL account_id');
SELECT throws_ok($$ SELECT credits.refund_redemption(310, NULL) $$, '22004',
    'argument "operation_id" of refund_redemption must not be null', 'refund_redemption: NULL operation_id');
SELECT throws_ok($$ SELECT credits.cancel_booking(NULL, 1, now()) $$, '22004',
    'argument "account_id" of cancel_booking must not be null', 'cancel_booking: NULL account_id');
SELECT throws_ok($$ SELECT credits.cancel_booking(340, NULL, now()) $$, '22004',
    'argument "operation_or_hold_id" of cancel_booking must not be null', 'cancel_booking: NULL operation_or_hold_id');
SELECT throws_ok($$ SELECT credits.cancel_booking(340, 1, NULL) $$, '22004',
    'argument "starts_at" of cancel_booking must not be null', 'cancel_booking: NULL starts_at');
SELECT throws_ok($$ SELECT credits.cancel_booking(340, 1, now(), NULL) $$, '22004',
    'argument "cancelled_at" of cancel_booking must not be null', 'cancel_booking: NULL cancelled_at');
SELECT throws_ok($$ SELECT credits.refund_as_credits(NULL, 5, 'late train') $$, '22004',
    'argument "account_id" of refund_as_credits must not be null', 'refund_as_credits: NULL account_id');
SELECT throws_ok($$ SELECT credits.refund_as_credits(100, NULL, 'late train') $$, '22004',
    'argument "amount" of refund_as_credits must not be null', 'refund_as_credits: NULL amount');
SELECT throws_ok($$ SELECT credits.refund_as_credits(100, 5, NULL) $$, '22004',
    'argument "reason" of refund_as_credits must not be null', 'refund_as_credits: NULL reason');
SELECT throws_ok($$ SELECT credits.refund_as_credits(100, 5, 'late train', NULL) $$, '22004',
    'argument "credit_type" of refund_as_credits must not be null', 'refund_as_credits: NULL credit_type');
SELECT throws_ok($$ SELECT credits.void_batch(NULL, 1, 'chargeback') $$, '22004',
    'argument "account_id" of void_batch must not be null', 'void_batch: NULL account_id');
SELECT throws_ok($$ SELECT credits.void_batch(320, NULL, 'chargeback') $$, '22004',
    'argument "batch_id" of void_batch must not be null', 'void_batch: NULL batch_id');
SELECT throws_ok($$ SELECT credits.void_batch(320, 1, NULL) $$, '22004',
    'argument "reason" of void_batch must not be null', 'void_batch: NULL reason');
SELECT throws_ok($$ SELECT credits.has_access(NULL, 1) $$, '22004',
    'argument "account_id" of has_access must not be null', 'has_access: NULL account_id');
SELECT throws_ok($$ SELECT credits.has_access(330, NULL) $$, '22004',
    'argument "service_id" of has_access must not be null', 'has_access: NULL service_id');
SELECT throws_ok($$ SELECT credits.has_access(330, 1, NULL) $$, '22004',
    'argument "at" of has_access must not be null', 'has_access: NULL at');
SELECT throws_ok($$ SELECT credits.end_membership(NULL, 1) $$, '22004',
    'argument "account_id" of end_membership must not be null', 'end_membership: NULL account_id');
SELECT throws_ok($$ SELECT credits.end_membership(330, NULL) $$, '22004',
    'argument "membership_id" of end_membership must not be null', 'end_membership: NULL membership_id');
SELECT throws_ok($$ SELECT credits.end_membership(330, 1, NULL) $$, '22004',
    'argument "ended_at" of end_membership must not be null', 'end_membership: NULL ended_at');

------------------------------------------------------------------------------
-- 22023: a value outside its domain
------------------------------------------------------------------------------

SELECT throws_ok($$ SELECT credits.grant_credits(100, 0) $$, '22023',
    'amount must be greater than zero', 'grant_credits: amount 0');
SELECT throws_ok($$ SET credits.expiry_work_share = 0 $$, '22023',
    '0 is outside the valid range for parameter "credits.expiry_work_share" (0.01 .. 1)',
    'credits.expiry_work_share: 0');
SELECT throws_ok($$ SET credits.expiry_work_share = 2 $$, '22023',
    '2 is outside the valid range for parameter "credits.expiry_work_share" (0.01 .. 1)',
    'credits.expiry_work_share: above 1');
SELECT throws_ok($$ SET credits.expiry_synchronous_commit = 'sometimes' $$, '22023',
    'invalid value for parameter "credits.expiry_synchronous_commit": "sometimes"',
    'credits.expiry_synchronous_commit: not a synchronous_commit value');
SELECT throws_ok($$ SET credits.account_lock_spin = -1 $$, '22023',
    '-1 is outside the valid range for parameter "credits.account_lock_spin" (0 .. 1000000)',
    'credits.account_lock_spin: below 0');
SELECT throws_ok($$ SET credits.account_lock_spin = 1000001 $$, '22023',
    '1000001 is outside the valid range for parameter "credits.account_lock_spin" (0 .. 1000000)',
    'credits.account_lock_spin: above a second');
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
-- 1.1
SELECT throws_ok($$ SELECT credits.hold_credits(100, 0) $$, '22023',
    'amount must be greater than zero', 'hold_credits: amount 0');
SELECT throws_ok($$ SELECT credits.hold_credits(100, 'NaN') $$, '22023',
    'amount must be a number, not NaN', 'hold_credits: NaN amount');
SELECT throws_ok($$ SELECT credits.hold_service(100, 1, 0) $$, '22023',
    'quantity must be at least 1', 'hold_service: quantity 0');
SELECT throws_ok($$ SELECT credits.hold_service(100, 1, -1) $$, '22023',
    'quantity must be at least 1', 'hold_service: negative quantity');
SELECT throws_ok($$ SELECT credits.hold_credits(100, 1, hold_until => 'infinity') $$, '22023',
    'hold_until must be a finite time', 'hold_credits: infinite hold_until');
SELECT throws_ok($$ SELECT credits.hold_service(100, 1, hold_until => '-infinity') $$, '22023',
    'hold_until must be a finite time', 'hold_service: -infinite hold_until');
SELECT throws_ok($$ SELECT credits.hold_credits(100, 1, 'credit', 4) $$, '22023',
    'service 4 is paid in credit type "minutes", not "credit"',
    'hold_credits: a service of another credit type');
SELECT throws_ok(format($$ SELECT credits.capture_hold(300, %s, 0) $$, :h3), '22023',
    'amount must be greater than zero', 'capture_hold: amount 0');
SELECT throws_ok(format($$ SELECT credits.capture_hold(300, %s, -1) $$, :h3), '22023',
    'amount must be greater than zero', 'capture_hold: negative amount');
SELECT throws_ok(format($$ SELECT credits.refund_redemption(310, %s, 0) $$, :r310), '22023',
    'amount must be greater than zero', 'refund_redemption: amount 0');
SELECT throws_ok($$ SELECT credits.refund_as_credits(100, 0, 'late train') $$, '22023',
    'amount must be greater than zero', 'refund_as_credits: amount 0');
SELECT throws_ok($$ SELECT credits.release_expired_holds(0) $$, '22023',
    'max_holds must be at least 1', 'release_expired_holds: max_holds 0');
SELECT throws_ok($$ SELECT credits.cancel_booking(340, 1, 'infinity') $$, '22023',
    'starts_at must be a finite time', 'cancel_booking: infinite starts_at');
SELECT throws_ok($$ SELECT credits.cancel_booking(340, 1, now(), '-infinity') $$, '22023',
    'cancelled_at must be a finite time', 'cancel_booking: -infinite cancelled_at');
SELECT throws_ok(format($$ SELECT credits.end_membership(330, %s, 'infinity') $$, :m330), '22023',
    'ended_at must be a finite time', 'end_membership: infinite ended_at');

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
SELECT throws_ok($$ SELECT credits.hold_credits(100, 1e15) $$, '22003',
    'amount is out of range', 'hold_credits: amount 1e15');
SELECT throws_ok($$ SELECT credits.hold_service(100, 5, 10) $$, '22003',
    'credit_cost times quantity is out of range', 'hold_service: credit_cost * quantity = 1e15');
SELECT throws_ok($$ SELECT credits.refund_as_credits(100, 'Infinity', 'late train') $$, '22003',
    'amount must be finite', 'refund_as_credits: amount Infinity');
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
-- 1.1: the cancellation policy and membership packages
SELECT throws_ok($$ INSERT INTO credits.services (service_id, name, credit_cost, late_cancel_share)
                   VALUES (91, 'Generous', 1, 1.5) $$, '23514',
    'new row for relation "services" violates check constraint "services_late_cancel_share_check"',
    'services: late_cancel_share 1.5');
SELECT throws_ok($$ INSERT INTO credits.services (service_id, name, credit_cost, late_cancel_share)
                   VALUES (91, 'Mean', 1, -0.1) $$, '23514',
    'new row for relation "services" violates check constraint "services_late_cancel_share_check"',
    'services: late_cancel_share -0.1');
SELECT throws_ok($$ INSERT INTO credits.services (service_id, name, credit_cost, cancel_window)
                   VALUES (91, 'Backwards', 1, '-1 hour') $$, '23514',
    'new row for relation "services" violates check constraint "services_cancel_window_check"',
    'services: negative cancel_window');
SELECT lives_ok($$ INSERT INTO credits.services (service_id, name, credit_cost, cancel_window, late_cancel_share)
                  VALUES (92, 'Strict', 1, '2 days', 1) $$,
    'services: cancel_window 2 days and late_cancel_share 1 are accepted');
SELECT throws_ok($$ INSERT INTO credits.packages (name, credits, price, currency, membership_period)
                   VALUES ('Both', 10, 50, 'EUR', '1 month') $$, '23514',
    'new row for relation "packages" violates check constraint "packages_credits_or_membership"',
    'packages: credits and membership_period');
SELECT throws_ok($$ INSERT INTO credits.packages (name, credits, price, currency)
                   VALUES ('Neither', NULL, 50, 'EUR') $$, '23514',
    'new row for relation "packages" violates check constraint "packages_credits_or_membership"',
    'packages: neither credits nor membership_period');
SELECT throws_ok($$ INSERT INTO credits.packages (name, price, currency, membership_period, expires_after)
                   VALUES ('Expiring membership', 50, 'EUR', '1 month', '1 year') $$, '23514',
    'new row for relation "packages" violates check constraint "packages_membership_has_no_expiry"',
    'packages: a membership package with expires_after');
SELECT throws_ok($$ INSERT INTO credits.packages (name, price, currency, membership_period, permanent)
                   VALUES ('Permanent membership', 50, 'EUR', '1 month', true) $$, '23514',
    'new row for relation "packages" violates check constraint "packages_membership_has_no_expiry"',
    'packages: a permanent membership package');
SELECT throws_ok($$ INSERT INTO credits.packages (name, price, currency, membership_period)
                   VALUES ('Empty membership', 50, 'EUR', '0 days') $$, '23514',
    'new row for relation "packages" violates check constraint "packages_membership_period_check"',
    'packages: membership_period 0');
SELECT lives_ok($$ INSERT INTO credits.packages (name, price, currency, membership_period)
                  VALUES ('Yearly', 500, 'EUR', '1 year') $$,
    'packages: a membership package without credits or expiry is accepted');

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
SELECT throws_ok($$ SELECT credits.hold_credits(104, 1) $$, 'CR001',
    'insufficient credits', 'hold_credits: a member that never received credits');
-- 301 has 10 credits, 4 of them held: held credits cannot be spent
SELECT throws_ok($$ SELECT credits.redeem_credits(301, 7) $$, 'CR001',
    'insufficient credits', 'redeem_credits: 7 of 10 credits when 4 are held');
SELECT throws_ok($$ SELECT credits.hold_credits(301, 7) $$, 'CR001',
    'insufficient credits', 'hold_credits: 7 of 10 credits when 4 are held');

------------------------------------------------------------------------------
-- CR002: unknown account (only grants create accounts)
------------------------------------------------------------------------------

SELECT throws_ok($$ SELECT credits.redeem_credits(999, 1) $$, 'CR002',
    'account 999 does not exist', 'redeem_credits: unknown account');
SELECT throws_ok($$ SELECT credits.redeem_service(999, 1) $$, 'CR002',
    'account 999 does not exist', 'redeem_service: unknown account');
SELECT throws_ok($$ SELECT credits.hold_credits(999, 1) $$, 'CR002',
    'account 999 does not exist', 'hold_credits: unknown account');
SELECT throws_ok($$ SELECT credits.capture_hold(999, 1) $$, 'CR002',
    'account 999 does not exist', 'capture_hold: unknown account');
SELECT throws_ok($$ SELECT credits.refund_redemption(999, 1) $$, 'CR002',
    'account 999 does not exist', 'refund_redemption: unknown account');
SELECT throws_ok($$ SELECT credits.cancel_booking(999, 1, now()) $$, 'CR002',
    'account 999 does not exist', 'cancel_booking: unknown account');
SELECT throws_ok($$ SELECT credits.void_batch(999, 1, 'chargeback') $$, 'CR002',
    'account 999 does not exist', 'void_batch: unknown account');
SELECT throws_ok($$ SELECT credits.end_membership(999, 1) $$, 'CR002',
    'account 999 does not exist', 'end_membership: unknown account');
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
SELECT throws_ok($$ SELECT credits.hold_service(100, 999) $$, 'CR005',
    'service 999 does not exist', 'hold_service: unknown service');
SELECT throws_ok($$ SELECT credits.has_access(330, 999) $$, 'CR005',
    'service 999 does not exist', 'has_access: unknown service');

------------------------------------------------------------------------------
-- CR006: service that does not accept credits
------------------------------------------------------------------------------

SELECT throws_ok($$ SELECT credits.redeem_service(100, 3) $$, 'CR006',
    'service 3 (Cafe) does not accept credits', 'redeem_service: accepts_credits = false');
SELECT throws_ok($$ SELECT credits.redeem_credits(100, 1, 'credit', 3) $$, 'CR006',
    'service 3 (Cafe) does not accept credits', 'redeem_credits: accepts_credits = false');
SELECT is(credits.can_redeem(100, 3), false, 'can_redeem: false (no error) for a service refusing credits');
SELECT throws_ok($$ SELECT credits.hold_service(100, 3) $$, 'CR006',
    'service 3 (Cafe) does not accept credits', 'hold_service: accepts_credits = false');

------------------------------------------------------------------------------
-- CR007: credits exist, but only for other services
------------------------------------------------------------------------------

SELECT throws_ok($$ SELECT credits.redeem_service(102, 2) $$, 'CR007',
    'no credits of account 102 can be used for service 2',
    'redeem_service: only credits restricted to service 1, service 2 asked');
SELECT throws_ok($$ SELECT credits.redeem_credits(102, 1, 'credit', 2) $$, 'CR007',
    'no credits of account 102 can be used for service 2',
    'redeem_credits: only credits restricted to service 1, service 2 asked');
SELECT throws_ok($$ SELECT credits.hold_service(102, 2) $$, 'CR007',
    'no credits of account 102 can be used for service 2',
    'hold_service: only credits restricted to service 1, service 2 asked');
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
SELECT throws_ok($$ SELECT credits.hold_credits(103, 1) $$, 'CR009',
    'account 103 is not a member', 'hold_credits: non-member that still has a batch');
SELECT throws_ok($$ SELECT credits.refund_as_credits(101, 5, 'late train') $$, 'CR009',
    'account 101 is not a member', 'refund_as_credits: non-member');
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
-- CR012: a hold the account does not have
------------------------------------------------------------------------------

-- 301's open hold, asked for by account 300
SELECT throws_ok(format($$ SELECT credits.capture_hold(300, %s) $$, :h301), 'CR012',
    format('hold %s does not exist for account 300', :h301),
    'capture_hold: a hold of another account');
SELECT throws_ok(format($$ SELECT credits.release_hold(300, %s) $$, :h301), 'CR012',
    format('hold %s does not exist for account 300', :h301),
    'release_hold: a hold of another account');
-- an operation of the account that placed no hold: its grant
SELECT throws_ok(format($$ SELECT credits.capture_hold(310, %s) $$, :g310), 'CR012',
    format('hold %s does not exist for account 310', :g310),
    'capture_hold: the id of a grant operation');
SELECT throws_ok($$ SELECT credits.release_hold(300, 999999999999) $$, 'CR012',
    'hold 999999999999 does not exist for account 300',
    'release_hold: an id no operation has');
SELECT is((SELECT status::text FROM credits.holds WHERE account_id = 301 AND hold_id = :h301), 'open',
    'the hold of account 301 is still open after the attempts of account 300');
SELECT is(credits.balance(301), 6::numeric, 'account 301 can still spend 10 - 4 held');

------------------------------------------------------------------------------
-- CR014: capturing more than the hold holds
------------------------------------------------------------------------------

SELECT throws_ok(format($$ SELECT credits.capture_hold(300, %s, 6) $$, :h1), 'CR014',
    format('cannot capture 6 credits from hold %s', :h1), 'capture_hold: 6 of a hold of 5');
SELECT throws_ok(format($$ SELECT credits.capture_hold(300, %s, 5.01) $$, :h1), 'CR014',
    format('cannot capture 5.01 credits from hold %s', :h1), 'capture_hold: 5.01 of a hold of 5');
SELECT is((SELECT status::text FROM credits.holds WHERE account_id = 300 AND hold_id = :h1), 'open',
    'the hold is still open after the refused captures');
SELECT is(credits.balance(300), 7::numeric, 'account 300 can spend 20 - 13 held');

------------------------------------------------------------------------------
-- CR013: a hold that was already captured or released
------------------------------------------------------------------------------

SELECT is((credits.capture_hold(300, :h1)).amount, 5::numeric, 'capture_hold: the whole hold of 5');
SELECT throws_ok(format($$ SELECT credits.capture_hold(300, %s) $$, :h1), 'CR013',
    format('hold %s was already captured or released', :h1), 'capture_hold: twice');
SELECT throws_ok(format($$ SELECT credits.release_hold(300, %s) $$, :h1), 'CR013',
    format('hold %s was already captured or released', :h1), 'release_hold: after a capture');
SELECT is(credits.release_hold(300, :h2), 3::numeric, 'release_hold: gives back the 3 it held');
SELECT throws_ok(format($$ SELECT credits.release_hold(300, %s) $$, :h2), 'CR013',
    format('hold %s was already captured or released', :h2), 'release_hold: twice');
SELECT throws_ok(format($$ SELECT credits.capture_hold(300, %s) $$, :h2), 'CR013',
    format('hold %s was already captured or released', :h2), 'capture_hold: after a release');
SELECT throws_ok(format($$ SELECT credits.cancel_booking(300, %s, now() + '2 days') $$, :h1), 'CR013',
    format('hold %s was already captured or released', :h1), 'cancel_booking: a captured hold');
SELECT throws_ok(format($$ SELECT credits.cancel_booking(300, %s, now() + '2 days') $$, :h2), 'CR013',
    format('hold %s was already captured or released', :h2), 'cancel_booking: a released hold');

-- a retried capture with the same idempotency key is not an error: it
-- returns the first capture
SELECT (credits.capture_hold(300, :h3, 2, idempotency_key => 'cap-1')).operation_id AS c3 \gset
SELECT lives_ok(format($$ SELECT credits.capture_hold(300, %s, 2, idempotency_key => 'cap-1') $$, :h3),
    'capture_hold: retried with the same key');
SELECT is((credits.capture_hold(300, :h3, 2, idempotency_key => 'cap-1')).operation_id, :c3::bigint,
    'capture_hold: the retry returns the operation id of the first capture');
SELECT is((credits.capture_hold(300, :h3, 2, idempotency_key => 'cap-1')).amount, 2::numeric,
    'capture_hold: the retry returns the amount of the first capture');
SELECT is((SELECT pg_catalog.count(*)::int FROM credits.operations
            WHERE account_id = 300 AND kind = 'capture_hold' AND hold_id = :h3), 1,
    'the retries recorded no second capture');
SELECT throws_ok(format($$ SELECT credits.capture_hold(300, %s, 3, idempotency_key => 'cap-1') $$, :h3), 'CR010',
    'idempotency key "cap-1" was already used for a different request',
    'capture_hold: the key with another amount');
SELECT throws_ok(format($$ SELECT credits.capture_hold(300, %s, 2, idempotency_key => 'cap-2') $$, :h3), 'CR013',
    format('hold %s was already captured or released', :h3),
    'capture_hold: the captured hold with a new key');
-- 20 - 5 - 2 captured, nothing held
SELECT is(credits.balance(300), 13::numeric, 'account 300 has 13 after its captures and release');

------------------------------------------------------------------------------
-- CR015: not a redemption of the account
------------------------------------------------------------------------------

SELECT throws_ok(format($$ SELECT credits.refund_redemption(310, %s) $$, :g310), 'CR015',
    format('operation %s is not a redemption of account 310', :g310),
    'refund_redemption: a grant''s operation id');
SELECT throws_ok(format($$ SELECT credits.refund_redemption(310, %s) $$, :r340), 'CR015',
    format('operation %s is not a redemption of account 310', :r340),
    'refund_redemption: a redemption of another account');
SELECT throws_ok(format($$ SELECT credits.refund_redemption(300, %s) $$, :h2), 'CR015',
    format('operation %s is not a redemption of account 300', :h2),
    'refund_redemption: the operation that placed a hold');

------------------------------------------------------------------------------
-- CR016: refunding more than is left of a redemption (of 4)
------------------------------------------------------------------------------

SELECT throws_ok(format($$ SELECT credits.refund_redemption(310, %s, 5) $$, :r310), 'CR016',
    format('cannot refund 5 credits of redemption %s', :r310), 'refund_redemption: 5 of 4 redeemed');
SELECT is((credits.refund_redemption(310, :r310, 1)).amount, 1::numeric, 'refund_redemption: 1 of 4');
SELECT throws_ok(format($$ SELECT credits.refund_redemption(310, %s, 4) $$, :r310), 'CR016',
    format('cannot refund 4 credits of redemption %s', :r310), 'refund_redemption: 4 when 3 are left');
SELECT is((credits.refund_redemption(310, :r310)).amount, 3::numeric,
    'refund_redemption: without an amount, the 3 left');
-- nothing is left: the message may say so in its own words, the SQLSTATE is CR016
SELECT throws_ok(format($$ SELECT credits.refund_redemption(310, %s) $$, :r310), 'CR016', NULL,
    'refund_redemption: again after a full refund');
SELECT throws_ok(format($$ SELECT credits.refund_redemption(310, %s, 1) $$, :r310), 'CR016', NULL,
    'refund_redemption: 1 after a full refund');
SELECT is((SELECT pg_catalog.sum(amount) FROM credits.operations
            WHERE account_id = 310 AND refund_of = :r310), 4::numeric,
    'the refunds of the redemption add up to the 4 redeemed');
SELECT is(credits.balance(310), 20::numeric, 'account 310 has its 20 credits back');

------------------------------------------------------------------------------
-- CR017, CR018: voiding a batch
------------------------------------------------------------------------------

SELECT throws_ok($$ SELECT credits.void_batch(320, 999999999999, 'chargeback') $$, 'CR017',
    'batch 999999999999 does not exist for account 320', 'void_batch: unknown batch');
SELECT throws_ok(format($$ SELECT credits.void_batch(320, %s, 'chargeback') $$, :b300), 'CR017',
    format('batch %s does not exist for account 320', :b300), 'void_batch: a batch of another account');
SELECT is(credits.void_batch(320, :b320, 'chargeback'), 10::numeric, 'void_batch: voids the 10 left');
SELECT throws_ok(format($$ SELECT credits.void_batch(320, %s, 'chargeback') $$, :b320), 'CR018',
    format('batch %s was already voided', :b320), 'void_batch: twice');
SELECT is((SELECT pg_catalog.count(*)::int FROM credits.operations
            WHERE account_id = 320 AND kind = 'void_batch'), 1,
    'the second void recorded no operation');

------------------------------------------------------------------------------
-- CR019, CR020: ending a membership
------------------------------------------------------------------------------

SELECT throws_ok($$ SELECT credits.end_membership(330, 999999999999) $$, 'CR019',
    'membership 999999999999 does not exist for account 330', 'end_membership: unknown membership');
SELECT throws_ok(format($$ SELECT credits.end_membership(330, %s) $$, :g330), 'CR019',
    format('membership %s does not exist for account 330', :g330),
    'end_membership: the id of a credits grant');
SELECT throws_ok(format($$ SELECT credits.end_membership(340, %s) $$, :m330), 'CR019',
    format('membership %s does not exist for account 340', :m330),
    'end_membership: a membership of another account');
SELECT ok(credits.has_access(330, 1), 'account 330 has access to service 1 through its membership');
-- the membership lasts one month from now
SELECT throws_ok(format($$ SELECT credits.end_membership(330, %s, now() + '2 months') $$, :m330), 'CR020',
    format('membership %s is already over by then', :m330), 'end_membership: after it ends');
SELECT is(credits.end_membership(330, :m330), now(), 'end_membership: now');
SELECT ok(NOT credits.has_access(330, 1), 'account 330 has no access once its membership ended');
SELECT throws_ok(format($$ SELECT credits.end_membership(330, %s) $$, :m330), 'CR020',
    format('membership %s is already over by then', :m330), 'end_membership: when already over');

------------------------------------------------------------------------------
-- CR021, CR022: cancelling a booking
------------------------------------------------------------------------------

-- two days before: in the window of 24 hours, everything back
SELECT is((credits.cancel_booking(340, :r340, now() + '2 days')).rule::text, 'full_refund',
    'cancel_booking: a redemption two days ahead is a full refund');
SELECT throws_ok(format($$ SELECT credits.cancel_booking(340, %s, now() + '2 days') $$, :r340), 'CR021',
    format('booking %s of account 340 was already cancelled', :r340),
    'cancel_booking: a redemption twice');
SELECT throws_ok(format($$ SELECT credits.cancel_booking(340, %s, now() + '2 hours') $$, :r340), 'CR021',
    format('booking %s of account 340 was already cancelled', :r340),
    'cancel_booking: a redemption twice, with another start');
SELECT is((credits.cancel_booking(340, :hc340, now() + '2 days')).returned, 3::numeric,
    'cancel_booking: a hold two days ahead is released in full');
SELECT throws_ok(format($$ SELECT credits.cancel_booking(340, %s, now() + '2 days') $$, :hc340), 'CR021',
    format('booking %s of account 340 was already cancelled', :hc340),
    'cancel_booking: a hold twice');
SELECT throws_ok(format($$ SELECT credits.cancel_booking(340, %s, now() + '2 days') $$, :g340), 'CR022',
    format('account 340 has no hold or redemption %s', :g340),
    'cancel_booking: the id of a grant operation');
SELECT throws_ok($$ SELECT credits.cancel_booking(340, 999999999999, now() + '2 days') $$, 'CR022',
    'account 340 has no hold or redemption 999999999999',
    'cancel_booking: an id no operation has');
SELECT throws_ok(format($$ SELECT credits.cancel_booking(340, %s, now() + '2 days') $$, :h301), 'CR022',
    format('account 340 has no hold or redemption %s', :h301),
    'cancel_booking: a hold of another account');
SELECT is(credits.balance(340), 20::numeric, 'account 340 has its 20 credits back after the cancellations');

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
