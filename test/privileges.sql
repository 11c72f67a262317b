-- test/privileges.sql: the documented roles of doc/roles.sql, version 1.3.
--   credits_app     EXECUTE on the grant, redeem and read functions and on
--                   the booking lifecycle (hold_credits, hold_service,
--                   capture_hold, release_hold, refund_redemption,
--                   cancel_booking, refund_as_credits, has_access,
--                   account_memberships, account_holds); SELECT on the
--                   catalogue it lists (credit types, services, packages);
--                   no write on any table.  Not expiry, release of overdue
--                   holds, voids or ending memberships.
--   credits_admin   edits the catalogue and accounts, reads everything,
--                   EXECUTE on every function (release_expired_holds,
--                   void_batch and end_membership included) and run_expiry;
--                   no write on per-account state.
--   credits_reader  SELECT on every table, EXECUTE on the read functions
--                   (has_access, account_memberships and account_holds
--                   included).
-- The roles may exist already (doc/roles.sql creates only missing ones);
-- everything they are granted here is granted on objects created in this
-- transaction, so nothing depends on an earlier run.
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION credits;

\ir ../doc/roles.sql

SELECT plan(319);

------------------------------------------------------------------------------
-- Declared privileges
------------------------------------------------------------------------------

SELECT has_role('credits_app');
SELECT has_role('credits_admin');
SELECT has_role('credits_reader');

SELECT schema_privs_are('credits', 'credits_app', ARRAY['USAGE']);
SELECT schema_privs_are('credits', 'credits_admin', ARRAY['USAGE']);
SELECT schema_privs_are('credits', 'credits_reader', ARRAY['USAGE']);

-- tables: 14 tables x 3 roles
SELECT table_privs_are('credits', v.tab::name, v.role::name, v.privs::name[])
  FROM (VALUES
    ('credit_types',   'credits_app',    '{SELECT}'),
    ('services',       'credits_app',    '{SELECT}'),
    ('packages',       'credits_app',    '{SELECT}'),
    ('accounts',       'credits_app',    '{}'),
    ('batches',        'credits_app',    '{}'),
    ('account_totals', 'credits_app',    '{}'),
    ('operations',     'credits_app',    '{}'),
    ('ledger',         'credits_app',    '{}'),
    ('sales',          'credits_app',    '{}'),
    ('holds',             'credits_app', '{}'),
    ('hold_allocations',  'credits_app', '{}'),
    ('memberships',       'credits_app', '{}'),
    ('membership_visits', 'credits_app', '{}'),
    ('cancellations',     'credits_app', '{}'),
    ('credit_types',   'credits_admin',  '{SELECT,INSERT,UPDATE,DELETE}'),
    ('services',       'credits_admin',  '{SELECT,INSERT,UPDATE,DELETE}'),
    ('packages',       'credits_admin',  '{SELECT,INSERT,UPDATE,DELETE}'),
    ('accounts',       'credits_admin',  '{SELECT,INSERT,UPDATE,DELETE}'),
    ('batches',        'credits_admin',  '{SELECT}'),
    ('account_totals', 'credits_admin',  '{SELECT}'),
    ('operations',     'credits_admin',  '{SELECT}'),
    ('ledger',         'credits_admin',  '{SELECT}'),
    ('sales',          'credits_admin',  '{SELECT}'),
    -- "reads everything": the per-account tables of 1.1 as well
    ('holds',             'credits_admin', '{SELECT}'),
    ('hold_allocations',  'credits_admin', '{SELECT}'),
    ('memberships',       'credits_admin', '{SELECT}'),
    ('membership_visits', 'credits_admin', '{SELECT}'),
    ('cancellations',     'credits_admin', '{SELECT}'),
    ('credit_types',   'credits_reader', '{SELECT}'),
    ('services',       'credits_reader', '{SELECT}'),
    ('packages',       'credits_reader', '{SELECT}'),
    ('accounts',       'credits_reader', '{SELECT}'),
    ('batches',        'credits_reader', '{SELECT}'),
    ('account_totals', 'credits_reader', '{SELECT}'),
    ('operations',     'credits_reader', '{SELECT}'),
    ('ledger',         'credits_reader', '{SELECT}'),
    ('sales',          'credits_reader', '{SELECT}'),
    ('holds',             'credits_reader', '{SELECT}'),
    ('hold_allocations',  'credits_reader', '{SELECT}'),
    ('memberships',       'credits_reader', '{SELECT}'),
    ('membership_visits', 'credits_reader', '{SELECT}'),
    ('cancellations',     'credits_reader', '{SELECT}')
  ) AS v(tab, role, privs);

-- sequences: only the administrator, and only the one packages draws from
SELECT sequence_privs_are('credits', v.seq::name, v.role::name, v.privs::name[])
  FROM (VALUES
    ('package_id_seq',   'credits_app',    '{}'),
    ('batch_id_seq',     'credits_app',    '{}'),
    ('operation_id_seq', 'credits_app',    '{}'),
    ('package_id_seq',   'credits_admin',  '{USAGE}'),
    ('batch_id_seq',     'credits_admin',  '{}'),
    ('operation_id_seq', 'credits_admin',  '{}'),
    ('package_id_seq',   'credits_reader', '{}'),
    ('batch_id_seq',     'credits_reader', '{}'),
    ('operation_id_seq', 'credits_reader', '{}')
  ) AS v(seq, role, privs);

-- routines: 26 x 3 roles
SELECT function_privs_are('credits', f.fn::name, f.args::name[], v.role::name, v.privs::name[])
  FROM (VALUES
    ('grant_package',     '{bigint,bigint,text,text,timestamptz}'),
    ('grant_credits',     '{bigint,numeric,timestamptz,timestamptz,text,bigint[],text,text,text}'),
    ('redeem_credits',    '{bigint,numeric,text,bigint,text,text}'),
    ('redeem_service',    '{bigint,bigint,integer,text,text}'),
    ('expire_batches',    '{integer}'),
    ('balance',           '{bigint,text,bigint}'),
    ('can_redeem',        '{bigint,bigint,integer}'),
    ('account_batches',   '{bigint}'),
    ('account_history',   '{bigint,integer,bigint}'),
    ('verify_ledger',     '{bigint}'),
    ('schedule_expiry',   '{text}'),
    ('unschedule_expiry', '{}'),
    ('run_expiry',        '{integer}'),
    ('hold_credits',          '{bigint,numeric,text,bigint,timestamptz,text,text}'),
    ('hold_service',          '{bigint,bigint,integer,timestamptz,text,text}'),
    ('capture_hold',          '{bigint,bigint,numeric,text}'),
    ('release_hold',          '{bigint,bigint}'),
    ('release_expired_holds', '{integer}'),
    ('refund_redemption',     '{bigint,bigint,numeric,text,text}'),
    ('cancel_booking',        '{bigint,bigint,timestamptz,timestamptz}'),
    ('refund_as_credits',     '{bigint,numeric,text,text,text}'),
    ('void_batch',            '{bigint,bigint,text}'),
    ('has_access',            '{bigint,bigint,timestamptz}'),
    ('end_membership',        '{bigint,bigint,timestamptz}'),
    ('account_memberships',   '{bigint}'),
    ('account_holds',         '{bigint}')
  ) AS f(fn, args)
  CROSS JOIN LATERAL (VALUES
    ('credits_app', CASE WHEN f.fn IN ('grant_package', 'grant_credits', 'redeem_credits',
                                       'redeem_service', 'balance', 'can_redeem',
                                       'account_batches', 'account_history',
                                       'hold_credits', 'hold_service', 'capture_hold',
                                       'release_hold', 'refund_redemption', 'cancel_booking',
                                       'refund_as_credits', 'has_access',
                                       'account_memberships', 'account_holds')
                         THEN '{EXECUTE}' ELSE '{}' END),
    ('credits_admin', '{EXECUTE}'),
    ('credits_reader', CASE WHEN f.fn IN ('balance', 'can_redeem', 'account_batches',
                                          'account_history', 'verify_ledger',
                                          'has_access', 'account_memberships', 'account_holds')
                            THEN '{EXECUTE}' ELSE '{}' END)
  ) AS v(role, privs);

-- the types: USAGE for the three roles, the five of 1.1 included
SELECT ok(pg_catalog.has_type_privilege(r.role, t.typ, 'USAGE'),
          pg_catalog.format('%s has USAGE on type %s', r.role, t.typ))
  FROM (VALUES ('credits.entry_kind'), ('credits.batch_source'), ('credits.operation_kind'),
               ('credits.allocation'), ('credits.redemption'), ('credits.ledger_problem'),
               ('credits.refund'), ('credits.hold'), ('credits.hold_status'),
               ('credits.cancellation_rule'), ('credits.cancellation')) AS t(typ)
  CROSS JOIN (VALUES ('credits_app'), ('credits_admin'), ('credits_reader')) AS r(role);

------------------------------------------------------------------------------
-- Catalogue, set up by the superuser
------------------------------------------------------------------------------

INSERT INTO credits.services (service_id, name, credit_cost) VALUES (1, 'Yoga class', 2);
INSERT INTO credits.packages (package_id, name, credits, price, currency)
    VALUES (500, 'Ten classes', 10, 90, 'EUR');
-- 1.1: a class with a cancellation policy, and a membership for yoga
INSERT INTO credits.services (service_id, name, credit_cost, cancel_window, late_cancel_share)
    VALUES (3, 'Pilates', 3, '24 hours', 0.5);
INSERT INTO credits.packages (package_id, name, price, currency, membership_period, service_ids)
    VALUES (600, 'Monthly yoga', 60, 'EUR', '1 month', ARRAY[1]::bigint[]);

------------------------------------------------------------------------------
-- credits_app
------------------------------------------------------------------------------

SET LOCAL ROLE credits_app;

SELECT lives_ok($$ SELECT credits.grant_package(7001, 500) $$,
    'app: grant_package');
SELECT lives_ok($$ SELECT credits.grant_credits(7001, 20) $$,
    'app: grant_credits');
SELECT lives_ok($$ SELECT credits.redeem_credits(7001, 3) $$,
    'app: redeem_credits');
SELECT lives_ok($$ SELECT credits.redeem_service(7001, 1) $$,
    'app: redeem_service');
SELECT lives_ok($$ SELECT credits.balance(7001) $$, 'app: balance');
SELECT lives_ok($$ SELECT credits.can_redeem(7001, 1) $$, 'app: can_redeem');
SELECT lives_ok($$ SELECT * FROM credits.account_batches(7001) $$, 'app: account_batches');
SELECT lives_ok($$ SELECT * FROM credits.account_history(7001) $$, 'app: account_history');

-- and they did their work: 10 + 20 - 3 - 2 (one Yoga class)
SELECT is(credits.balance(7001), 25::numeric, 'app: balance after the grants and redemptions is 25');
SELECT ok(credits.can_redeem(7001, 1, 12), 'app: can_redeem 12 classes (24 credits)');
SELECT ok(NOT credits.can_redeem(7001, 1, 13), 'app: cannot redeem 13 classes (26 credits)');
SELECT is((SELECT pg_catalog.count(*)::int FROM credits.account_batches(7001)), 2,
    'app: account_batches lists the two open batches');
SELECT is((SELECT pg_catalog.count(*)::int FROM credits.account_history(7001)), 4,
    'app: account_history lists two grants and two redemptions');

-- the catalogue it lists
SELECT lives_ok($$ SELECT pg_catalog.count(*) FROM credits.credit_types $$, 'app: SELECT credits.credit_types');
SELECT lives_ok($$ SELECT pg_catalog.count(*) FROM credits.services $$, 'app: SELECT credits.services');
SELECT lives_ok($$ SELECT pg_catalog.count(*) FROM credits.packages $$, 'app: SELECT credits.packages');

-- and nothing else
SELECT throws_ok($$ SELECT pg_catalog.count(*) FROM credits.batches $$,
    '42501', 'permission denied for table batches', 'app: no SELECT on credits.batches');
SELECT throws_ok($$ UPDATE credits.batches SET remaining = amount $$,
    '42501', 'permission denied for table batches', 'app: no UPDATE on credits.batches');
SELECT throws_ok($$ DELETE FROM credits.batches $$,
    '42501', 'permission denied for table batches', 'app: no DELETE on credits.batches');
SELECT throws_ok($$ INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id,
                                               credit_type, delta, balance_after, created_at)
                    VALUES (7001, 999999, 1, 'grant', 999999, 'credit', 1000, 1025, now()) $$,
    '42501', 'permission denied for table ledger', 'app: no INSERT on credits.ledger');
SELECT throws_ok($$ UPDATE credits.account_totals SET total = total + 1000 $$,
    '42501', 'permission denied for table account_totals', 'app: no UPDATE on credits.account_totals');
SELECT throws_ok($$ INSERT INTO credits.packages (package_id, name, credits, price, currency)
                    VALUES (501, 'Free lunch', 1000, 0, 'EUR') $$,
    '42501', 'permission denied for table packages', 'app: no INSERT on credits.packages');
SELECT throws_ok($$ UPDATE credits.packages SET price = 0 $$,
    '42501', 'permission denied for table packages', 'app: no UPDATE on credits.packages');
SELECT throws_ok($$ INSERT INTO credits.services (service_id, name, credit_cost) VALUES (2, 'Spa', 1) $$,
    '42501', 'permission denied for table services', 'app: no INSERT on credits.services');
SELECT throws_ok($$ UPDATE credits.services SET credit_cost = 0.001 $$,
    '42501', 'permission denied for table services', 'app: no UPDATE on credits.services');
SELECT throws_ok($$ UPDATE credits.accounts SET is_member = true $$,
    '42501', 'permission denied for table accounts', 'app: no UPDATE on credits.accounts');
SELECT throws_ok($$ SELECT credits.expire_batches() $$,
    '42501', 'permission denied for function expire_batches', 'app: no EXECUTE on credits.expire_batches');
SELECT throws_ok($$ SELECT * FROM credits.verify_ledger() $$,
    '42501', 'permission denied for function verify_ledger', 'app: no EXECUTE on credits.verify_ledger');
SELECT throws_ok($$ SELECT credits.schedule_expiry() $$,
    '42501', 'permission denied for function schedule_expiry', 'app: no EXECUTE on credits.schedule_expiry');
SELECT throws_ok($$ CALL credits.run_expiry() $$,
    '42501', 'permission denied for procedure run_expiry', 'app: no EXECUTE on credits.run_expiry');
SELECT throws_ok($$ SELECT pg_catalog.nextval('credits.batch_id_seq') $$,
    '42501', 'permission denied for sequence batch_id_seq', 'app: no USAGE on credits.batch_id_seq');

-- the booking lifecycle, on account 7101 (20 credits)
SELECT lives_ok($$ SELECT credits.grant_credits(7101, 20) $$, 'app: grant_credits to 7101');
SELECT (credits.hold_credits(7101, 5)).hold_id AS app_hold \gset
SELECT is(credits.balance(7101), 15::numeric, 'app: hold_credits holds 5 of 20');
SELECT is((credits.capture_hold(7101, :app_hold, 3)).amount, 3::numeric,
    'app: capture_hold captures 3 of the 5 held');
SELECT is(credits.balance(7101), 17::numeric, 'app: the 2 not captured are back');
SELECT (credits.hold_service(7101, 3)).hold_id AS app_service_hold \gset
SELECT is(credits.balance(7101), 14::numeric, 'app: hold_service holds a Pilates class (3)');
SELECT is(credits.release_hold(7101, :app_service_hold), 3::numeric, 'app: release_hold gives back 3');
SELECT (credits.redeem_credits(7101, 4)).operation_id AS app_redemption \gset
SELECT is((credits.refund_redemption(7101, :app_redemption, 1)).amount, 1::numeric,
    'app: refund_redemption refunds 1 of 4');
SELECT (credits.redeem_service(7101, 3)).operation_id AS app_booking \gset
SELECT is((credits.cancel_booking(7101, :app_booking, now() + '2 days')).rule::text, 'full_refund',
    'app: cancel_booking two days ahead is a full refund');
SELECT lives_ok($$ SELECT credits.refund_as_credits(7101, 6, 'class cancelled by the studio') $$,
    'app: refund_as_credits');
-- 17 - 4 + 1 + 6
SELECT is(credits.balance(7101), 20::numeric, 'app: balance of 7101 after the lifecycle is 20');
SELECT credits.grant_package(7101, 600) AS app_membership \gset
SELECT ok(credits.has_access(7101, 1), 'app: has_access through the membership sold by grant_package');
SELECT ok(NOT credits.has_access(7101, 3), 'app: has_access is false for a service the membership does not cover');
SELECT is((SELECT pg_catalog.array_agg(membership_id) FROM credits.account_memberships(7101)),
          ARRAY[:app_membership]::bigint[], 'app: account_memberships lists the membership');
SELECT is((SELECT pg_catalog.array_agg(status::text ORDER BY hold_id) FROM credits.account_holds(7101)),
          ARRAY['captured', 'released'], 'app: account_holds lists the captured and the released hold');

-- and not the administrator's functions, nor the tables of 1.1
SELECT throws_ok(format($$ SELECT credits.void_batch(7101, %s, 'chargeback') $$,
                        (SELECT batch_id FROM credits.account_batches(7101) LIMIT 1)),
    '42501', 'permission denied for function void_batch', 'app: no EXECUTE on credits.void_batch');
SELECT throws_ok(format($$ SELECT credits.end_membership(7101, %s) $$, :app_membership),
    '42501', 'permission denied for function end_membership', 'app: no EXECUTE on credits.end_membership');
SELECT throws_ok($$ SELECT credits.release_expired_holds() $$,
    '42501', 'permission denied for function release_expired_holds',
    'app: no EXECUTE on credits.release_expired_holds');
SELECT throws_ok($$ SELECT pg_catalog.count(*) FROM credits.holds $$,
    '42501', 'permission denied for table holds', 'app: no SELECT on credits.holds');
SELECT throws_ok($$ INSERT INTO credits.holds (account_id, hold_id, credit_type, amount, created_at)
                    VALUES (7101, 999999, 'credit', 1000, now()) $$,
    '42501', 'permission denied for table holds', 'app: no INSERT on credits.holds');
SELECT throws_ok($$ UPDATE credits.holds SET status = 'open', closed_at = NULL $$,
    '42501', 'permission denied for table holds', 'app: no UPDATE on credits.holds');
SELECT throws_ok($$ DELETE FROM credits.holds $$,
    '42501', 'permission denied for table holds', 'app: no DELETE on credits.holds');
SELECT throws_ok($$ INSERT INTO credits.hold_allocations (account_id, hold_id, batch_id, entry_no, amount, remaining)
                    VALUES (7101, 999999, 999999, 1, 1000, 1000) $$,
    '42501', 'permission denied for table hold_allocations', 'app: no INSERT on credits.hold_allocations');
SELECT throws_ok($$ UPDATE credits.hold_allocations SET remaining = 0 $$,
    '42501', 'permission denied for table hold_allocations', 'app: no UPDATE on credits.hold_allocations');
SELECT throws_ok($$ DELETE FROM credits.hold_allocations $$,
    '42501', 'permission denied for table hold_allocations', 'app: no DELETE on credits.hold_allocations');
SELECT throws_ok($$ INSERT INTO credits.memberships (account_id, membership_id, package_id, starts_at, ends_at, created_at)
                    VALUES (7101, 999999, 600, now(), now() + '10 years', now()) $$,
    '42501', 'permission denied for table memberships', 'app: no INSERT on credits.memberships');
SELECT throws_ok($$ UPDATE credits.memberships SET ends_at = ends_at + '10 years' $$,
    '42501', 'permission denied for table memberships', 'app: no UPDATE on credits.memberships');
SELECT throws_ok($$ DELETE FROM credits.memberships $$,
    '42501', 'permission denied for table memberships', 'app: no DELETE on credits.memberships');
SELECT throws_ok($$ DELETE FROM credits.membership_visits $$,
    '42501', 'permission denied for table membership_visits', 'app: no DELETE on credits.membership_visits');
SELECT throws_ok($$ DELETE FROM credits.cancellations $$,
    '42501', 'permission denied for table cancellations', 'app: no DELETE on credits.cancellations');

RESET ROLE;

-- the app's writes went through the functions and nothing else
SELECT is((SELECT pg_catalog.sum(remaining) FROM credits.batches WHERE account_id = 7001), 25::numeric,
    'the batches of account 7001 hold 25 after the app''s calls');
SELECT is_empty($$ SELECT * FROM credits.verify_ledger(7001) $$,
    'the ledger of account 7001 reconciles after the app''s calls');
SELECT is((SELECT pg_catalog.sum(remaining - held) FROM credits.batches WHERE account_id = 7101), 20::numeric,
    'the batches of account 7101 can give 20 after the app''s calls');
SELECT is_empty($$ SELECT * FROM credits.verify_ledger(7101) $$,
    'the ledger of account 7101 reconciles with its batches and holds after the app''s calls');
SELECT is((SELECT pg_catalog.count(*)::int FROM credits.memberships WHERE account_id = 7101), 1,
    'the app''s grant_package of a membership package started one membership');

------------------------------------------------------------------------------
-- credits_reader
------------------------------------------------------------------------------

SET LOCAL ROLE credits_reader;

SELECT lives_ok($$ SELECT pg_catalog.count(*) FROM credits.credit_types $$, 'reader: SELECT credits.credit_types');
SELECT lives_ok($$ SELECT pg_catalog.count(*) FROM credits.services $$, 'reader: SELECT credits.services');
SELECT lives_ok($$ SELECT pg_catalog.count(*) FROM credits.packages $$, 'reader: SELECT credits.packages');
SELECT lives_ok($$ SELECT pg_catalog.count(*) FROM credits.accounts $$, 'reader: SELECT credits.accounts');
SELECT lives_ok($$ SELECT pg_catalog.count(*) FROM credits.account_totals $$, 'reader: SELECT credits.account_totals');
SELECT lives_ok($$ SELECT pg_catalog.count(*) FROM credits.operations $$, 'reader: SELECT credits.operations');
SELECT lives_ok($$ SELECT pg_catalog.count(*) FROM credits.ledger $$, 'reader: SELECT credits.ledger');
SELECT lives_ok($$ SELECT pg_catalog.count(*) FROM credits.sales $$, 'reader: SELECT credits.sales');
SELECT is((SELECT pg_catalog.count(*)::int FROM credits.batches WHERE account_id = 7001), 2,
    'reader: SELECT credits.batches sees the two batches');
SELECT is(credits.balance(7001), 25::numeric, 'reader: balance');
SELECT ok(credits.can_redeem(7001, 1), 'reader: can_redeem');
SELECT lives_ok($$ SELECT * FROM credits.account_batches(7001) $$, 'reader: account_batches');
SELECT lives_ok($$ SELECT * FROM credits.account_history(7001) $$, 'reader: account_history');
SELECT is_empty($$ SELECT * FROM credits.verify_ledger() $$, 'reader: verify_ledger');
SELECT is((SELECT pg_catalog.count(*)::int FROM credits.holds WHERE account_id = 7101), 2,
    'reader: SELECT credits.holds sees the two holds of 7101');
SELECT lives_ok($$ SELECT pg_catalog.count(*) FROM credits.hold_allocations $$, 'reader: SELECT credits.hold_allocations');
SELECT is((SELECT pg_catalog.count(*)::int FROM credits.memberships WHERE account_id = 7101), 1,
    'reader: SELECT credits.memberships sees the membership of 7101');
SELECT lives_ok($$ SELECT pg_catalog.count(*) FROM credits.membership_visits $$, 'reader: SELECT credits.membership_visits');
SELECT is((SELECT pg_catalog.count(*)::int FROM credits.cancellations WHERE account_id = 7101), 1,
    'reader: SELECT credits.cancellations sees the cancellation of 7101');
SELECT ok(credits.has_access(7101, 1), 'reader: has_access');
SELECT is((SELECT pg_catalog.count(*)::int FROM credits.account_memberships(7101)), 1, 'reader: account_memberships');
SELECT is((SELECT pg_catalog.count(*)::int FROM credits.account_holds(7101)), 2, 'reader: account_holds');

SELECT throws_ok($$ SELECT credits.grant_package(7001, 500) $$,
    '42501', 'permission denied for function grant_package', 'reader: no EXECUTE on grant_package');
SELECT throws_ok($$ SELECT credits.grant_credits(7001, 5) $$,
    '42501', 'permission denied for function grant_credits', 'reader: no EXECUTE on grant_credits');
SELECT throws_ok($$ SELECT credits.redeem_credits(7001, 1) $$,
    '42501', 'permission denied for function redeem_credits', 'reader: no EXECUTE on redeem_credits');
SELECT throws_ok($$ SELECT credits.redeem_service(7001, 1) $$,
    '42501', 'permission denied for function redeem_service', 'reader: no EXECUTE on redeem_service');
SELECT throws_ok($$ SELECT credits.expire_batches() $$,
    '42501', 'permission denied for function expire_batches', 'reader: no EXECUTE on expire_batches');
SELECT throws_ok($$ SELECT credits.hold_credits(7101, 1) $$,
    '42501', 'permission denied for function hold_credits', 'reader: no EXECUTE on hold_credits');
SELECT throws_ok($$ SELECT credits.hold_service(7101, 3) $$,
    '42501', 'permission denied for function hold_service', 'reader: no EXECUTE on hold_service');
SELECT throws_ok(format($$ SELECT credits.capture_hold(7101, %s) $$, :app_hold),
    '42501', 'permission denied for function capture_hold', 'reader: no EXECUTE on capture_hold');
SELECT throws_ok(format($$ SELECT credits.release_hold(7101, %s) $$, :app_hold),
    '42501', 'permission denied for function release_hold', 'reader: no EXECUTE on release_hold');
SELECT throws_ok(format($$ SELECT credits.refund_redemption(7101, %s) $$, :app_redemption),
    '42501', 'permission denied for function refund_redemption', 'reader: no EXECUTE on refund_redemption');
SELECT throws_ok(format($$ SELECT credits.cancel_booking(7101, %s, now() + '2 days') $$, :app_redemption),
    '42501', 'permission denied for function cancel_booking', 'reader: no EXECUTE on cancel_booking');
SELECT throws_ok($$ SELECT credits.refund_as_credits(7101, 5, 'goodwill') $$,
    '42501', 'permission denied for function refund_as_credits', 'reader: no EXECUTE on refund_as_credits');
SELECT throws_ok(format($$ SELECT credits.end_membership(7101, %s) $$, :app_membership),
    '42501', 'permission denied for function end_membership', 'reader: no EXECUTE on end_membership');
SELECT throws_ok($$ UPDATE credits.holds SET status = 'open', closed_at = NULL $$,
    '42501', 'permission denied for table holds', 'reader: no UPDATE on credits.holds');
SELECT throws_ok($$ UPDATE credits.memberships SET ends_at = ends_at + '10 years' $$,
    '42501', 'permission denied for table memberships', 'reader: no UPDATE on credits.memberships');
SELECT throws_ok($$ UPDATE credits.batches SET remaining = amount $$,
    '42501', 'permission denied for table batches', 'reader: no UPDATE on credits.batches');
SELECT throws_ok($$ DELETE FROM credits.ledger $$,
    '42501', 'permission denied for table ledger', 'reader: no DELETE on credits.ledger');
SELECT throws_ok($$ UPDATE credits.account_totals SET total = 0 $$,
    '42501', 'permission denied for table account_totals', 'reader: no UPDATE on credits.account_totals');
SELECT throws_ok($$ INSERT INTO credits.packages (package_id, name, credits, price, currency)
                    VALUES (502, 'Reader pack', 5, 0, 'EUR') $$,
    '42501', 'permission denied for table packages', 'reader: no INSERT on credits.packages');
SELECT throws_ok($$ UPDATE credits.services SET credit_cost = 1 $$,
    '42501', 'permission denied for table services', 'reader: no UPDATE on credits.services');
SELECT throws_ok($$ UPDATE credits.accounts SET is_member = false $$,
    '42501', 'permission denied for table accounts', 'reader: no UPDATE on credits.accounts');

RESET ROLE;

------------------------------------------------------------------------------
-- credits_admin
------------------------------------------------------------------------------

SET LOCAL ROLE credits_admin;

-- the catalogue (a new package takes its id from package_id_seq)
SELECT lives_ok($$ INSERT INTO credits.packages (name, credits, price, currency)
                   VALUES ('Admin pack', 5, 40, 'EUR') $$,
    'admin: INSERT a package (with the sequence default)');
SELECT lives_ok($$ UPDATE credits.packages SET active = false WHERE package_id = 500 $$,
    'admin: UPDATE a package');
SELECT lives_ok($$ INSERT INTO credits.credit_types (credit_type) VALUES ('minutes') $$,
    'admin: INSERT a credit type');
SELECT lives_ok($$ INSERT INTO credits.services (service_id, name, credit_cost) VALUES (2, 'Spa', 4) $$,
    'admin: INSERT a service');
SELECT lives_ok($$ UPDATE credits.services SET credit_cost = 3 WHERE service_id = 1 $$,
    'admin: UPDATE a service');
SELECT lives_ok($$ DELETE FROM credits.services WHERE service_id = 2 $$,
    'admin: DELETE a service');
SELECT lives_ok($$ UPDATE credits.accounts SET timezone = 'Europe/Berlin' WHERE account_id = 7001 $$,
    'admin: UPDATE an account');
SELECT lives_ok($$ INSERT INTO credits.accounts (account_id, is_member) VALUES (7002, false) $$,
    'admin: INSERT an account');

-- reads everything, runs expiry and the functions
SELECT is((SELECT pg_catalog.count(*)::int FROM credits.ledger WHERE account_id = 7001), 4,
    'admin: SELECT credits.ledger');
SELECT lives_ok($$ SELECT pg_catalog.count(*) FROM credits.sales $$, 'admin: SELECT credits.sales');
SELECT lives_ok($$ SELECT credits.expire_batches() $$, 'admin: expire_batches');
SELECT lives_ok($$ SELECT credits.grant_credits(7001, 1) $$, 'admin: grant_credits');
SELECT is_empty($$ SELECT * FROM credits.verify_ledger() $$, 'admin: verify_ledger');
-- the functions of 1.1 only the administrator runs
SELECT lives_ok($$ SELECT credits.release_expired_holds() $$, 'admin: release_expired_holds');
SELECT is(credits.void_batch(7101, (SELECT b.batch_id FROM credits.account_batches(7101) AS b
                                     WHERE b.source = 'refund'), 'chargeback'),
          6::numeric, 'admin: void_batch voids the 6 credits given as a refund');
SELECT is(credits.end_membership(7101, :app_membership), now(), 'admin: end_membership ends it now');
SELECT ok(NOT credits.has_access(7101, 1), 'admin: has_access is false once the membership ended');
SELECT lives_ok($$ SELECT credits.hold_credits(7101, 1) $$, 'admin: hold_credits');
-- reads the tables of 1.1
SELECT lives_ok($$ SELECT pg_catalog.count(*) FROM credits.holds $$, 'admin: SELECT credits.holds');
SELECT lives_ok($$ SELECT pg_catalog.count(*) FROM credits.memberships $$, 'admin: SELECT credits.memberships');

-- but not the per-account state
SELECT throws_ok($$ UPDATE credits.batches SET remaining = amount $$,
    '42501', 'permission denied for table batches', 'admin: no UPDATE on credits.batches');
SELECT throws_ok($$ INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id,
                                               credit_type, delta, balance_after, created_at)
                    VALUES (7001, 999999, 1, 'grant', 999999, 'credit', 1000, 1026, now()) $$,
    '42501', 'permission denied for table ledger', 'admin: no INSERT on credits.ledger');
SELECT throws_ok($$ UPDATE credits.account_totals SET total = 0 $$,
    '42501', 'permission denied for table account_totals', 'admin: no UPDATE on credits.account_totals');
SELECT throws_ok($$ DELETE FROM credits.operations $$,
    '42501', 'permission denied for table operations', 'admin: no DELETE on credits.operations');
SELECT throws_ok($$ DELETE FROM credits.sales $$,
    '42501', 'permission denied for table sales', 'admin: no DELETE on credits.sales');
SELECT throws_ok($$ SELECT pg_catalog.nextval('credits.batch_id_seq') $$,
    '42501', 'permission denied for sequence batch_id_seq', 'admin: no USAGE on credits.batch_id_seq');
SELECT throws_ok($$ UPDATE credits.holds SET status = 'open', closed_at = NULL $$,
    '42501', 'permission denied for table holds', 'admin: no UPDATE on credits.holds');
SELECT throws_ok($$ DELETE FROM credits.hold_allocations $$,
    '42501', 'permission denied for table hold_allocations', 'admin: no DELETE on credits.hold_allocations');
SELECT throws_ok($$ UPDATE credits.memberships SET ended_at = NULL $$,
    '42501', 'permission denied for table memberships', 'admin: no UPDATE on credits.memberships');
SELECT throws_ok($$ INSERT INTO credits.membership_visits (account_id, operation_id, membership_id,
                                                          service_id, quantity, created_at)
                    VALUES (7101, 999999, 999999, 1, 1, now()) $$,
    '42501', 'permission denied for table membership_visits', 'admin: no INSERT on credits.membership_visits');
SELECT throws_ok($$ DELETE FROM credits.cancellations $$,
    '42501', 'permission denied for table cancellations', 'admin: no DELETE on credits.cancellations');

RESET ROLE;

SELECT is_empty($$ SELECT * FROM credits.verify_ledger() $$,
    'the ledger reconciles after the calls of all three roles');

------------------------------------------------------------------------------
-- ALTER EXTENSION UPDATE from 1.0: the routines 1.1 drops and creates again
-- (account_batches, verify_ledger, run_expiry) keep the grants made on them,
-- get nothing for PUBLIC, and the helper that restores them is gone
------------------------------------------------------------------------------

DROP EXTENSION credits;
CREATE EXTENSION credits VERSION '1.0';
GRANT EXECUTE ON FUNCTION credits.account_batches(bigint) TO credits_app, credits_reader;
GRANT EXECUTE ON FUNCTION credits.verify_ledger(bigint) TO credits_reader WITH GRANT OPTION;
GRANT EXECUTE ON PROCEDURE credits.run_expiry(integer) TO credits_admin;
ALTER EXTENSION credits UPDATE TO '1.1';

SELECT is((SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'credits'), '1.1',
    'credits was updated from 1.0 to 1.1');
SELECT function_privs_are('credits', 'account_batches', ARRAY['bigint'], 'credits_app', ARRAY['EXECUTE'],
    'upgrade: credits_app keeps EXECUTE on account_batches');
SELECT function_privs_are('credits', 'account_batches', ARRAY['bigint'], 'credits_reader', ARRAY['EXECUTE'],
    'upgrade: credits_reader keeps EXECUTE on account_batches');
SELECT function_privs_are('credits', 'account_batches', ARRAY['bigint'], 'credits_admin', ARRAY[]::text[],
    'upgrade: credits_admin gains nothing on account_batches');
SELECT function_privs_are('credits', 'verify_ledger', ARRAY['bigint'], 'credits_reader', ARRAY['EXECUTE'],
    'upgrade: credits_reader keeps EXECUTE on verify_ledger');
SELECT ok(pg_catalog.has_function_privilege('credits_reader', 'credits.verify_ledger(bigint)', 'EXECUTE WITH GRANT OPTION'),
    'upgrade: credits_reader keeps the grant option on verify_ledger');
SELECT function_privs_are('credits', 'verify_ledger', ARRAY['bigint'], 'credits_app', ARRAY[]::text[],
    'upgrade: credits_app gains nothing on verify_ledger');
SELECT function_privs_are('credits', 'run_expiry', ARRAY['integer'], 'credits_admin', ARRAY['EXECUTE'],
    'upgrade: credits_admin keeps EXECUTE on run_expiry');
SELECT function_privs_are('credits', 'run_expiry', ARRAY['integer'], 'credits_app', ARRAY[]::text[],
    'upgrade: credits_app gains nothing on run_expiry');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text
      FROM pg_catalog.pg_proc AS p
     WHERE p.pronamespace = 'credits'::regnamespace
       AND pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE')
$$, 'upgrade: PUBLIC cannot execute any routine of credits');
SELECT hasnt_function('credits', 'restore_grants',
    'upgrade: the helper credits.restore_grants is dropped by the update');

SELECT * FROM finish();
ROLLBACK;
