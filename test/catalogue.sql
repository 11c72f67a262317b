-- test/catalogue.sql: the objects the credits extension installs, their
-- keys, types, signatures, comments, dump registration and privileges
-- for PUBLIC.  Everything expected here is taken from
-- sql/credits--1.0.sql and doc/roles.sql, not from the installed catalogue.
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION credits;

SELECT plan(122);

------------------------------------------------------------------------------
-- Schema and tables
------------------------------------------------------------------------------

SELECT has_schema('credits');

SELECT tables_are('credits', ARRAY[
    'credit_types', 'services', 'packages', 'accounts',
    'batches', 'account_totals', 'operations', 'ledger', 'sales'
]);

SELECT has_table('credits', 'credit_types', 'table credits.credit_types exists');
SELECT has_table('credits', 'services', 'table credits.services exists');
SELECT has_table('credits', 'packages', 'table credits.packages exists');
SELECT has_table('credits', 'accounts', 'table credits.accounts exists');
SELECT has_table('credits', 'batches', 'table credits.batches exists');
SELECT has_table('credits', 'account_totals', 'table credits.account_totals exists');
SELECT has_table('credits', 'operations', 'table credits.operations exists');
SELECT has_table('credits', 'ledger', 'table credits.ledger exists');
SELECT has_table('credits', 'sales', 'table credits.sales exists');

SELECT sequences_are('credits', ARRAY['package_id_seq', 'batch_id_seq', 'operation_id_seq']);

------------------------------------------------------------------------------
-- Primary keys and the types of their columns
------------------------------------------------------------------------------

SELECT col_is_pk('credits', 'credit_types', ARRAY['credit_type'], 'credit_types: PK (credit_type)');
SELECT col_is_pk('credits', 'services', ARRAY['service_id'], 'services: PK (service_id)');
SELECT col_is_pk('credits', 'packages', ARRAY['package_id'], 'packages: PK (package_id)');
SELECT col_is_pk('credits', 'accounts', ARRAY['account_id'], 'accounts: PK (account_id)');
SELECT col_is_pk('credits', 'batches', ARRAY['account_id', 'batch_id'], 'batches: PK (account_id, batch_id)');
SELECT col_is_pk('credits', 'account_totals', ARRAY['account_id', 'credit_type'], 'account_totals: PK (account_id, credit_type)');
SELECT col_is_pk('credits', 'operations', ARRAY['account_id', 'operation_id'], 'operations: PK (account_id, operation_id)');
SELECT col_is_pk('credits', 'ledger', ARRAY['account_id', 'operation_id', 'entry_no'], 'ledger: PK (account_id, operation_id, entry_no)');
SELECT col_is_pk('credits', 'sales', ARRAY['account_id', 'operation_id'], 'sales: PK (account_id, operation_id)');

-- Every table that holds per-account rows (has an account_id column) is
-- keyed by account_id first, so that one account's rows are contiguous in
-- its primary key; this also catches a future table that forgets it.
SELECT is_empty($$
    SELECT c.relname
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
      JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attname = 'account_id'
      LEFT JOIN pg_catalog.pg_constraint AS k ON k.conrelid = c.oid AND k.contype = 'p'
     WHERE n.nspname = 'credits' AND c.relkind = 'r'
       AND (k.conkey IS NULL OR k.conkey[1] <> a.attnum)
$$, 'every table with an account_id column has a primary key that starts with account_id');

-- the per-account tables all have one (so the check above is not vacuous)
SELECT set_eq($$
    SELECT c.relname::text COLLATE "default"
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
      JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attname = 'account_id'
     WHERE n.nspname = 'credits' AND c.relkind = 'r'
$$, ARRAY['accounts', 'batches', 'account_totals', 'operations', 'ledger', 'sales'],
   'accounts and the per-account tables have account_id');

SELECT col_type_is('credits', 'credit_types', 'credit_type', 'text', 'credit_types.credit_type is text');
SELECT col_type_is('credits', 'services', 'service_id', 'bigint', 'services.service_id is bigint');
SELECT col_type_is('credits', 'packages', 'package_id', 'bigint', 'packages.package_id is bigint');
SELECT col_type_is('credits', 'accounts', 'account_id', 'bigint', 'accounts.account_id is bigint');
SELECT col_type_is('credits', 'batches', 'account_id', 'bigint', 'batches.account_id is bigint');
SELECT col_type_is('credits', 'batches', 'batch_id', 'bigint', 'batches.batch_id is bigint');
SELECT col_type_is('credits', 'account_totals', 'account_id', 'bigint', 'account_totals.account_id is bigint');
SELECT col_type_is('credits', 'account_totals', 'credit_type', 'text', 'account_totals.credit_type is text');
SELECT col_type_is('credits', 'operations', 'account_id', 'bigint', 'operations.account_id is bigint');
SELECT col_type_is('credits', 'operations', 'operation_id', 'bigint', 'operations.operation_id is bigint');
SELECT col_type_is('credits', 'ledger', 'account_id', 'bigint', 'ledger.account_id is bigint');
SELECT col_type_is('credits', 'ledger', 'operation_id', 'bigint', 'ledger.operation_id is bigint');
SELECT col_type_is('credits', 'ledger', 'entry_no', 'integer', 'ledger.entry_no is integer');
SELECT col_type_is('credits', 'sales', 'account_id', 'bigint', 'sales.account_id is bigint');
SELECT col_type_is('credits', 'sales', 'operation_id', 'bigint', 'sales.operation_id is bigint');

------------------------------------------------------------------------------
-- Types
------------------------------------------------------------------------------

SELECT types_are('credits', ARRAY[
    'entry_kind', 'batch_source', 'operation_kind',
    'allocation', 'redemption', 'ledger_problem'
]);

SELECT has_enum('credits', 'entry_kind', 'enum credits.entry_kind exists');
SELECT has_enum('credits', 'batch_source', 'enum credits.batch_source exists');
SELECT has_enum('credits', 'operation_kind', 'enum credits.operation_kind exists');
SELECT enum_has_labels('credits', 'entry_kind', ARRAY['grant', 'redeem', 'expire']);
SELECT enum_has_labels('credits', 'batch_source', ARRAY['purchase', 'subscription', 'manual']);
SELECT enum_has_labels('credits', 'operation_kind',
    ARRAY['grant_package', 'grant_credits', 'redeem_credits', 'redeem_service', 'expire_batches']);

SELECT has_composite('credits', 'allocation', 'composite type credits.allocation exists');
SELECT has_composite('credits', 'redemption', 'composite type credits.redemption exists');
SELECT has_composite('credits', 'ledger_problem', 'composite type credits.ledger_problem exists');

-- Columns of the composites, in order: the C code builds redemption and
-- allocation values by position.
SELECT results_eq($$
    SELECT a.attname::text COLLATE "default", pg_catalog.format_type(a.atttypid, a.atttypmod)
      FROM pg_catalog.pg_attribute AS a
     WHERE a.attrelid = 'credits.allocation'::regclass AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attnum
$$, $$ VALUES ('batch_id', 'bigint'), ('amount', 'numeric'),
              ('expires_at', 'timestamp with time zone') $$,
   'credits.allocation has (batch_id bigint, amount numeric, expires_at timestamptz)');

SELECT results_eq($$
    SELECT a.attname::text COLLATE "default", pg_catalog.format_type(a.atttypid, a.atttypmod)
      FROM pg_catalog.pg_attribute AS a
     WHERE a.attrelid = 'credits.redemption'::regclass AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attnum
$$, $$ VALUES ('operation_id', 'bigint'), ('amount', 'numeric'),
              ('balance_after', 'numeric'), ('allocations', 'credits.allocation[]') $$,
   'credits.redemption has (operation_id bigint, amount numeric, balance_after numeric, allocations credits.allocation[])');

SELECT results_eq($$
    SELECT a.attname::text COLLATE "default", pg_catalog.format_type(a.atttypid, a.atttypmod)
      FROM pg_catalog.pg_attribute AS a
     WHERE a.attrelid = 'credits.ledger_problem'::regclass AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attnum
$$, $$ VALUES ('account_id', 'bigint'), ('credit_type', 'text'),
              ('batch_id', 'bigint'), ('problem', 'text') $$,
   'credits.ledger_problem has (account_id bigint, credit_type text, batch_id bigint, problem text)');

------------------------------------------------------------------------------
-- Functions and the procedure
------------------------------------------------------------------------------

SELECT functions_are('credits', ARRAY[
    'grant_package', 'grant_credits', 'redeem_credits', 'redeem_service',
    'expire_batches', 'balance', 'can_redeem', 'account_batches',
    'account_history', 'verify_ledger', 'run_expiry', 'schedule_expiry',
    'unschedule_expiry'
]);

-- no overloads: one routine per name
SELECT is_empty($$
    SELECT p.proname FROM pg_catalog.pg_proc AS p
     WHERE p.pronamespace = 'credits'::regnamespace
     GROUP BY p.proname HAVING pg_catalog.count(*) > 1
$$, 'no routine in schema credits is overloaded');

SELECT has_function('credits', 'grant_package',
    ARRAY['bigint', 'bigint', 'text', 'text', 'timestamp with time zone']);
SELECT has_function('credits', 'grant_credits',
    ARRAY['bigint', 'numeric', 'timestamp with time zone', 'timestamp with time zone', 'text', 'bigint[]', 'text', 'text', 'text']);
SELECT has_function('credits', 'redeem_credits',
    ARRAY['bigint', 'numeric', 'text', 'bigint', 'text', 'text']);
SELECT has_function('credits', 'redeem_service',
    ARRAY['bigint', 'bigint', 'integer', 'text', 'text']);
SELECT has_function('credits', 'expire_batches', ARRAY['integer']);
SELECT has_function('credits', 'balance', ARRAY['bigint', 'text', 'bigint']);
SELECT has_function('credits', 'can_redeem', ARRAY['bigint', 'bigint', 'integer']);
SELECT has_function('credits', 'account_batches', ARRAY['bigint']);
SELECT has_function('credits', 'account_history', ARRAY['bigint', 'integer', 'bigint']);
SELECT has_function('credits', 'verify_ledger', ARRAY['bigint']);
SELECT has_function('credits', 'schedule_expiry', ARRAY['text']);
SELECT has_function('credits', 'unschedule_expiry', ARRAY[]::name[]);
SELECT has_function('credits', 'run_expiry', ARRAY['integer']);

SELECT is_procedure('credits', 'run_expiry', ARRAY['integer'], 'credits.run_expiry(integer) is a procedure');
SELECT isnt_procedure('credits', 'expire_batches', ARRAY['integer'], 'credits.expire_batches(integer) is a function');

SELECT function_returns('credits', 'grant_package',
    ARRAY['bigint', 'bigint', 'text', 'text', 'timestamp with time zone'], 'bigint');
SELECT function_returns('credits', 'grant_credits',
    ARRAY['bigint', 'numeric', 'timestamp with time zone', 'timestamp with time zone', 'text', 'bigint[]', 'text', 'text', 'text'], 'bigint');
SELECT function_returns('credits', 'redeem_credits',
    ARRAY['bigint', 'numeric', 'text', 'bigint', 'text', 'text'], 'credits.redemption');
SELECT function_returns('credits', 'redeem_service',
    ARRAY['bigint', 'bigint', 'integer', 'text', 'text'], 'credits.redemption');
SELECT function_returns('credits', 'expire_batches', ARRAY['integer'], 'bigint');
SELECT function_returns('credits', 'balance', ARRAY['bigint', 'text', 'bigint'], 'numeric');
SELECT function_returns('credits', 'can_redeem', ARRAY['bigint', 'bigint', 'integer'], 'boolean');
SELECT function_returns('credits', 'account_batches', ARRAY['bigint'], 'setof record');
SELECT function_returns('credits', 'account_history', ARRAY['bigint', 'integer', 'bigint'], 'setof record');
SELECT function_returns('credits', 'verify_ledger', ARRAY['bigint'], 'setof credits.ledger_problem');
SELECT function_returns('credits', 'schedule_expiry', ARRAY['text'], 'bigint');
SELECT function_returns('credits', 'unschedule_expiry', ARRAY[]::name[], 'boolean');

-- the result columns of the two RETURNS TABLE functions
SELECT is(pg_catalog.pg_get_function_result('credits.account_batches(bigint)'::regprocedure),
    'TABLE(batch_id bigint, credit_type text, source credits.batch_source, package_id bigint, '
    'package_name text, amount numeric, remaining numeric, valid_from timestamp with time zone, '
    'expires_at timestamp with time zone, service_ids bigint[], spendable_now boolean)',
    'credits.account_batches returns its documented columns');
SELECT is(pg_catalog.pg_get_function_result('credits.account_history(bigint, integer, bigint)'::regprocedure),
    'TABLE(operation_id bigint, entry_no integer, created_at timestamp with time zone, '
    'kind credits.entry_kind, credit_type text, batch_id bigint, delta numeric, balance_after numeric, '
    'package_id bigint, package_name text, service_id bigint, reference text)',
    'credits.account_history returns its documented columns');

-- SECURITY DEFINER: the roles need EXECUTE only, never a write privilege
SELECT is_definer('credits', 'grant_package', ARRAY['bigint', 'bigint', 'text', 'text', 'timestamp with time zone']);
SELECT is_definer('credits', 'grant_credits',
    ARRAY['bigint', 'numeric', 'timestamp with time zone', 'timestamp with time zone', 'text', 'bigint[]', 'text', 'text', 'text']);
SELECT is_definer('credits', 'redeem_credits', ARRAY['bigint', 'numeric', 'text', 'bigint', 'text', 'text']);
SELECT is_definer('credits', 'redeem_service', ARRAY['bigint', 'bigint', 'integer', 'text', 'text']);
SELECT is_definer('credits', 'expire_batches', ARRAY['integer']);
SELECT is_definer('credits', 'balance', ARRAY['bigint', 'text', 'bigint']);
SELECT is_definer('credits', 'can_redeem', ARRAY['bigint', 'bigint', 'integer']);
SELECT is_definer('credits', 'account_batches', ARRAY['bigint']);
SELECT is_definer('credits', 'account_history', ARRAY['bigint', 'integer', 'bigint']);
SELECT is_definer('credits', 'verify_ledger', ARRAY['bigint']);
-- The pg_cron helpers and the procedure run as the caller: schedule_expiry
-- and unschedule_expiry act on the caller's own pg_cron jobs, and run_expiry
-- only calls expire_batches, which is SECURITY DEFINER itself.
SELECT isnt_definer('credits', 'schedule_expiry', ARRAY['text']);
SELECT isnt_definer('credits', 'unschedule_expiry', ARRAY[]::name[]);
SELECT isnt_definer('credits', 'run_expiry', ARRAY['integer']);

-- the write paths are VOLATILE, the reads STABLE
SELECT volatility_is('credits', 'grant_package', ARRAY['bigint', 'bigint', 'text', 'text', 'timestamp with time zone'], 'volatile');
SELECT volatility_is('credits', 'redeem_credits', ARRAY['bigint', 'numeric', 'text', 'bigint', 'text', 'text'], 'volatile');
SELECT volatility_is('credits', 'balance', ARRAY['bigint', 'text', 'bigint'], 'stable');
SELECT volatility_is('credits', 'can_redeem', ARRAY['bigint', 'bigint', 'integer'], 'stable');

-- Fixed search_path on every routine.  The one exception is the procedure
-- run_expiry: a procedure with a SET clause cannot COMMIT, so it carries
-- none and qualifies every name instead.
SELECT results_eq($$
    SELECT p.proname::text COLLATE "default"
      FROM pg_catalog.pg_proc AS p
     WHERE p.pronamespace = 'credits'::regnamespace
       AND NOT COALESCE('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)
     ORDER BY 1
$$, $$ VALUES ('run_expiry') $$,
   'every routine in credits has search_path=pg_catalog, pg_temp, except run_expiry');
SELECT is((SELECT p.proconfig FROM pg_catalog.pg_proc AS p
            WHERE p.oid = 'credits.run_expiry(integer)'::regprocedure),
          NULL::text[],
          'run_expiry has no SET clause (it must be able to COMMIT)');
SELECT is((SELECT pg_catalog.count(*)::int FROM pg_catalog.pg_proc AS p
            WHERE p.pronamespace = 'credits'::regnamespace
              AND 'search_path=pg_catalog, pg_temp' = ANY (p.proconfig)),
          12, 'the twelve functions have the fixed search_path');

------------------------------------------------------------------------------
-- Indexes
------------------------------------------------------------------------------

SELECT has_index('credits', 'batches', 'batches_spendable_idx',
    ARRAY['account_id', 'credit_type', 'expires_at', 'valid_from', 'batch_id']);
SELECT is(pg_catalog.pg_get_expr(i.indpred, i.indrelid), 'is_open',
          'batches_spendable_idx is partial: WHERE is_open')
  FROM pg_catalog.pg_index AS i WHERE i.indexrelid = 'credits.batches_spendable_idx'::regclass;

SELECT has_index('credits', 'batches', 'batches_due_idx', ARRAY['expires_at']);
SELECT is(pg_catalog.pg_get_expr(i.indpred, i.indrelid),
          '(is_open AND (expires_at < ''infinity''::timestamp with time zone))',
          'batches_due_idx is partial: WHERE is_open AND expires_at < infinity')
  FROM pg_catalog.pg_index AS i WHERE i.indexrelid = 'credits.batches_due_idx'::regclass;

SELECT has_index('credits', 'operations', 'operations_idempotency_key_idx',
    ARRAY['account_id', 'idempotency_key']);
SELECT index_is_unique('credits', 'operations', 'operations_idempotency_key_idx');
SELECT is(pg_catalog.pg_get_expr(i.indpred, i.indrelid), '(idempotency_key IS NOT NULL)',
          'operations_idempotency_key_idx is partial: WHERE idempotency_key IS NOT NULL')
  FROM pg_catalog.pg_index AS i WHERE i.indexrelid = 'credits.operations_idempotency_key_idx'::regclass;

------------------------------------------------------------------------------
-- pg_dump: every table and sequence is registered with
-- pg_extension_config_dump, and the seeded credit type is left out
------------------------------------------------------------------------------

SELECT is_empty($$
    SELECT c.relname
      FROM pg_catalog.pg_class AS c
     WHERE c.relnamespace = 'credits'::regnamespace
       AND c.relkind IN ('r', 'S')
       AND c.oid <> ALL (SELECT pg_catalog.unnest(e.extconfig)
                           FROM pg_catalog.pg_extension AS e WHERE e.extname = 'credits')
$$, 'every table and sequence of credits is in pg_extension.extconfig');

SELECT set_eq($$
    SELECT c.relname::text COLLATE "default", x.condition
      FROM pg_catalog.pg_extension AS e,
           ROWS FROM (pg_catalog.unnest(e.extconfig), pg_catalog.unnest(e.extcondition)) AS x(reloid, condition)
      JOIN pg_catalog.pg_class AS c ON c.oid = x.reloid
     WHERE e.extname = 'credits'
$$, $$ VALUES
    ('credit_types', 'WHERE credit_type <> ''credit'''),
    ('services', ''), ('packages', ''), ('package_id_seq', ''), ('accounts', ''),
    ('batches', ''), ('batch_id_seq', ''), ('account_totals', ''), ('operations', ''),
    ('operation_id_seq', ''), ('ledger', ''), ('sales', '')
$$, 'extconfig holds exactly the twelve relations, with the filter on credit_types');

------------------------------------------------------------------------------
-- Comments on every table, type and routine
------------------------------------------------------------------------------

CREATE TEMP TABLE documented_objects AS
    SELECT 'table ' || c.oid::regclass::text AS object,
           pg_catalog.obj_description(c.oid, 'pg_class') AS comment
      FROM pg_catalog.pg_class AS c
     WHERE c.relnamespace = 'credits'::regnamespace AND c.relkind = 'r'
    UNION ALL
    SELECT 'type ' || t.oid::regtype::text,
           pg_catalog.obj_description(t.oid, 'pg_type')
      FROM pg_catalog.pg_type AS t
     WHERE t.typnamespace = 'credits'::regnamespace
       AND t.typtype IN ('e', 'c', 'd', 'b')
       AND (t.typrelid = 0 OR (SELECT c.relkind FROM pg_catalog.pg_class AS c WHERE c.oid = t.typrelid) = 'c')
       AND t.typcategory <> 'A'
    UNION ALL
    SELECT 'routine ' || p.oid::regprocedure::text,
           pg_catalog.obj_description(p.oid, 'pg_proc')
      FROM pg_catalog.pg_proc AS p
     WHERE p.pronamespace = 'credits'::regnamespace;

SELECT is_empty($$ SELECT object FROM documented_objects WHERE comment IS NULL OR comment = '' $$,
    'every table, type and routine in schema credits has a COMMENT');
SELECT is((SELECT pg_catalog.count(*)::int FROM documented_objects), 9 + 6 + 13,
    'the comment check covered 9 tables, 6 types and 13 routines');

------------------------------------------------------------------------------
-- Nothing for PUBLIC
------------------------------------------------------------------------------

-- A NULL ACL means the default one, which for a function includes EXECUTE
-- for PUBLIC: compare against acldefault, not just the stored ACL.
SELECT is_empty($$
    SELECT c.oid::regclass::text, x.privilege_type
      FROM pg_catalog.pg_class AS c,
           pg_catalog.aclexplode(COALESCE(c.relacl,
               pg_catalog.acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) AS x
     WHERE c.relnamespace = 'credits'::regnamespace
       AND c.relkind IN ('r', 'S', 'v', 'm', 'p', 'f')
       AND x.grantee = 0
$$, 'no table or sequence of credits grants anything to PUBLIC');

SELECT is_empty($$
    SELECT c.oid::regclass::text, a.attname, x.privilege_type
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid,
           pg_catalog.aclexplode(a.attacl) AS x
     WHERE c.relnamespace = 'credits'::regnamespace AND x.grantee = 0
$$, 'no column of credits grants anything to PUBLIC');

SELECT is_empty($$
    SELECT p.oid::regprocedure::text, x.privilege_type
      FROM pg_catalog.pg_proc AS p,
           pg_catalog.aclexplode(COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))) AS x
     WHERE p.pronamespace = 'credits'::regnamespace
       AND x.grantee = 0
$$, 'no function or procedure of credits grants anything to PUBLIC');

SELECT is_empty($$
    SELECT x.privilege_type
      FROM pg_catalog.pg_namespace AS n,
           pg_catalog.aclexplode(COALESCE(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) AS x
     WHERE n.nspname = 'credits' AND x.grantee = 0
$$, 'schema credits grants nothing to PUBLIC');

-- the same, as the privilege functions see it
SELECT ok(NOT has_schema_privilege('public', 'credits', 'USAGE'),
    'PUBLIC has no USAGE on schema credits');
SELECT is_empty($$
    SELECT c.oid::regclass::text
      FROM pg_catalog.pg_class AS c
     WHERE c.relnamespace = 'credits'::regnamespace
       AND CASE WHEN c.relkind = 'r'
                THEN pg_catalog.has_table_privilege('public', c.oid,
                         'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
           END
$$, 'PUBLIC has no privilege on any table of credits');
SELECT is_empty($$
    SELECT c.oid::regclass::text
      FROM pg_catalog.pg_class AS c
     WHERE c.relnamespace = 'credits'::regnamespace
       AND CASE WHEN c.relkind = 'S'
                THEN pg_catalog.has_sequence_privilege('public', c.oid, 'USAGE, SELECT, UPDATE')
           END
$$, 'PUBLIC has no privilege on any sequence of credits');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text
      FROM pg_catalog.pg_proc AS p
     WHERE p.pronamespace = 'credits'::regnamespace
       AND pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE')
$$, 'PUBLIC cannot execute any routine of credits');
-- types (enums and composites; a table's row type follows its table)
SELECT is_empty($$
    SELECT t.oid::regtype::text
      FROM pg_catalog.pg_type AS t
     WHERE t.typnamespace = 'credits'::regnamespace
       AND t.typtype IN ('e', 'c')
       AND (t.typrelid = 0 OR (SELECT c.relkind FROM pg_catalog.pg_class AS c
                                WHERE c.oid = t.typrelid) = 'c')
       AND pg_catalog.has_type_privilege('public', t.oid, 'USAGE')
$$, 'PUBLIC has no USAGE on any type of credits');

SELECT * FROM finish();
ROLLBACK;
