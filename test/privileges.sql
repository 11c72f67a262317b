-- test/privileges.sql: the documented roles of doc/roles.sql.
--   credits_app     EXECUTE on the grant, redeem and read functions; SELECT
--                   on the catalogue it lists (credit types, services,
--                   packages); no write on any table.
--   credits_admin   edits the catalogue and accounts, reads everything,
--                   EXECUTE on every function and run_expiry; no write on
--                   per-account state.
--   credits_reader  SELECT on every table, EXECUTE on the read functions.
-- The roles may exist already (doc/roles.sql creates only missing ones);
-- everything they are granted here is granted on objects created in this
-- transaction, so nothing depends on an earlier run.
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION credits;

\ir ../doc/roles.sql

SELECT plan(158);

------------------------------------------------------------------------------
-- Declared privileges
------------------------------------------------------------------------------

SELECT has_role('credits_app');
SELECT has_role('credits_admin');
SELECT has_role('credits_reader');

SELECT schema_privs_are('credits', 'credits_app', ARRAY['USAGE']);
SELECT schema_privs_are('credits', 'credits_admin', ARRAY['USAGE']);
SELECT schema_privs_are('credits', 'credits_reader', ARRAY['USAGE']);

-- tables: 9 tables x 3 roles
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
    ('credit_types',   'credits_admin',  '{SELECT,INSERT,UPDATE,DELETE}'),
    ('services',       'credits_admin',  '{SELECT,INSERT,UPDATE,DELETE}'),
    ('packages',       'credits_admin',  '{SELECT,INSERT,UPDATE,DELETE}'),
    ('accounts',       'credits_admin',  '{SELECT,INSERT,UPDATE,DELETE}'),
    ('batches',        'credits_admin',  '{SELECT}'),
    ('account_totals', 'credits_admin',  '{SELECT}'),
    ('operations',     'credits_admin',  '{SELECT}'),
    ('ledger',         'credits_admin',  '{SELECT}'),
    ('sales',          'credits_admin',  '{SELECT}'),
    ('credit_types',   'credits_reader', '{SELECT}'),
    ('services',       'credits_reader', '{SELECT}'),
    ('packages',       'credits_reader', '{SELECT}'),
    ('accounts',       'credits_reader', '{SELECT}'),
    ('batches',        'credits_reader', '{SELECT}'),
    ('account_totals', 'credits_reader', '{SELECT}'),
    ('operations',     'credits_reader', '{SELECT}'),
    ('ledger',         'credits_reader', '{SELECT}'),
    ('sales',          'credits_reader', '{SELECT}')
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

-- routines: 13 x 3 roles
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
    ('run_expiry',        '{integer}')
  ) AS f(fn, args)
  CROSS JOIN LATERAL (VALUES
    ('credits_app', CASE WHEN f.fn IN ('grant_package', 'grant_credits', 'redeem_credits',
                                       'redeem_service', 'balance', 'can_redeem',
                                       'account_batches', 'account_history')
                         THEN '{EXECUTE}' ELSE '{}' END),
    ('credits_admin', '{EXECUTE}'),
    ('credits_reader', CASE WHEN f.fn IN ('balance', 'can_redeem', 'account_batches',
                                          'account_history', 'verify_ledger')
                            THEN '{EXECUTE}' ELSE '{}' END)
  ) AS v(role, privs);

------------------------------------------------------------------------------
-- Catalogue, set up by the superuser
------------------------------------------------------------------------------

INSERT INTO credits.services (service_id, name, credit_cost) VALUES (1, 'Yoga class', 2);
INSERT INTO credits.packages (package_id, name, credits, price, currency)
    VALUES (500, 'Ten classes', 10, 90, 'EUR');

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

RESET ROLE;

-- the app's writes went through the functions and nothing else
SELECT is((SELECT pg_catalog.sum(remaining) FROM credits.batches WHERE account_id = 7001), 25::numeric,
    'the batches of account 7001 hold 25 after the app''s calls');
SELECT is_empty($$ SELECT * FROM credits.verify_ledger(7001) $$,
    'the ledger of account 7001 reconciles after the app''s calls');

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

RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
