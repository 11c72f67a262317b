-- test/catalogue.sql: the objects the credits extension installs, their
-- keys, types, signatures, comments, dump registration and privileges
-- for PUBLIC, as of version 1.3 (what CREATE EXTENSION credits installs:
-- sql/credits--1.3.sql, which sql/upgrade.sql proves equal to 1.0 updated
-- step by step).  Everything expected here is taken from the scripts and
-- doc/roles.sql, not from the installed catalogue.
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION credits;

SELECT plan(249);

------------------------------------------------------------------------------
-- Schema and tables
------------------------------------------------------------------------------

SELECT has_schema('credits');

SELECT tables_are('credits', ARRAY[
    'credit_types', 'services', 'packages', 'accounts',
    'batches', 'account_totals', 'operations', 'ledger', 'sales',
    'holds', 'hold_allocations', 'memberships', 'membership_visits', 'cancellations'
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
SELECT has_table('credits', 'holds', 'table credits.holds exists');
SELECT has_table('credits', 'hold_allocations', 'table credits.hold_allocations exists');
SELECT has_table('credits', 'memberships', 'table credits.memberships exists');
SELECT has_table('credits', 'membership_visits', 'table credits.membership_visits exists');
SELECT has_table('credits', 'cancellations', 'table credits.cancellations exists');

-- 1.1 adds none: a hold's and a membership's ids are those of the
-- operations that placed and sold them
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
SELECT col_is_pk('credits', 'holds', ARRAY['account_id', 'hold_id'], 'holds: PK (account_id, hold_id)');
SELECT col_is_pk('credits', 'hold_allocations', ARRAY['account_id', 'hold_id', 'batch_id'],
    'hold_allocations: PK (account_id, hold_id, batch_id)');
SELECT col_is_pk('credits', 'memberships', ARRAY['account_id', 'membership_id'],
    'memberships: PK (account_id, membership_id)');
SELECT col_is_pk('credits', 'membership_visits', ARRAY['account_id', 'operation_id'],
    'membership_visits: PK (account_id, operation_id)');
SELECT col_is_pk('credits', 'cancellations', ARRAY['account_id', 'operation_id'],
    'cancellations: PK (account_id, operation_id)');
-- a booking is cancelled once
SELECT col_is_unique('credits', 'cancellations', ARRAY['account_id', 'booking_id'],
    'cancellations: UNIQUE (account_id, booking_id)');

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
$$, ARRAY['accounts', 'batches', 'account_totals', 'operations', 'ledger', 'sales',
         'holds', 'hold_allocations', 'memberships', 'membership_visits', 'cancellations'],
   'accounts and the eleven per-account tables have account_id');

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
SELECT col_type_is('credits', 'holds', 'account_id', 'bigint', 'holds.account_id is bigint');
SELECT col_type_is('credits', 'holds', 'hold_id', 'bigint', 'holds.hold_id is bigint');
SELECT col_type_is('credits', 'hold_allocations', 'account_id', 'bigint', 'hold_allocations.account_id is bigint');
SELECT col_type_is('credits', 'hold_allocations', 'hold_id', 'bigint', 'hold_allocations.hold_id is bigint');
SELECT col_type_is('credits', 'hold_allocations', 'batch_id', 'bigint', 'hold_allocations.batch_id is bigint');
SELECT col_type_is('credits', 'memberships', 'account_id', 'bigint', 'memberships.account_id is bigint');
SELECT col_type_is('credits', 'memberships', 'membership_id', 'bigint', 'memberships.membership_id is bigint');
SELECT col_type_is('credits', 'membership_visits', 'account_id', 'bigint', 'membership_visits.account_id is bigint');
SELECT col_type_is('credits', 'membership_visits', 'operation_id', 'bigint', 'membership_visits.operation_id is bigint');
SELECT col_type_is('credits', 'cancellations', 'account_id', 'bigint', 'cancellations.account_id is bigint');
SELECT col_type_is('credits', 'cancellations', 'operation_id', 'bigint', 'cancellations.operation_id is bigint');
SELECT col_type_is('credits', 'holds', 'status', 'credits.hold_status', 'holds.status is credits.hold_status');
SELECT col_type_is('credits', 'cancellations', 'rule', 'credits.cancellation_rule',
    'cancellations.rule is credits.cancellation_rule');

------------------------------------------------------------------------------
-- Columns 1.1 adds to the 1.0 tables
------------------------------------------------------------------------------

SELECT col_type_is('credits', 'batches', 'held', 'numeric', 'batches.held is numeric');
SELECT col_not_null('credits', 'batches', 'held', 'batches.held is NOT NULL');
SELECT col_default_is('credits', 'batches', 'held', '0', 'batches.held defaults to 0');
SELECT col_type_is('credits', 'batches', 'voided_at', 'timestamp with time zone', 'batches.voided_at is timestamptz');
SELECT col_is_null('credits', 'batches', 'voided_at', 'batches.voided_at is nullable');
SELECT col_type_is('credits', 'operations', 'refund_of', 'bigint', 'operations.refund_of is bigint');
SELECT col_type_is('credits', 'operations', 'hold_id', 'bigint', 'operations.hold_id is bigint');
SELECT col_type_is('credits', 'operations', 'membership_id', 'bigint', 'operations.membership_id is bigint');
SELECT col_type_is('credits', 'operations', 'balance_after', 'numeric', 'operations.balance_after is numeric');
SELECT col_type_is('credits', 'services', 'cancel_window', 'interval', 'services.cancel_window is interval');
SELECT col_not_null('credits', 'services', 'cancel_window', 'services.cancel_window is NOT NULL');
SELECT col_default_is('credits', 'services', 'cancel_window', '00:00:00'::interval,
    'services.cancel_window defaults to zero');
SELECT col_type_is('credits', 'services', 'late_cancel_share', 'numeric', 'services.late_cancel_share is numeric');
SELECT col_not_null('credits', 'services', 'late_cancel_share', 'services.late_cancel_share is NOT NULL');
SELECT col_default_is('credits', 'services', 'late_cancel_share', '0',
    'services.late_cancel_share defaults to 0');
SELECT col_type_is('credits', 'packages', 'membership_period', 'interval', 'packages.membership_period is interval');
SELECT col_is_null('credits', 'packages', 'membership_period', 'packages.membership_period is nullable');
-- a membership package sells no credits, and its sale makes no batch
SELECT col_is_null('credits', 'packages', 'credits', 'packages.credits is nullable (membership packages)');
SELECT col_type_is('credits', 'sales', 'membership_id', 'bigint', 'sales.membership_id is bigint');
SELECT col_is_null('credits', 'sales', 'batch_id', 'sales.batch_id is nullable (membership sales)');
SELECT col_is_null('credits', 'sales', 'credits', 'sales.credits is nullable (membership sales)');

-- the CHECK constraints 1.1 adds or redefines, by name and definition
SELECT set_eq($$
    SELECT k.conrelid::regclass::text COLLATE "default", k.conname::text COLLATE "default",
           pg_catalog.pg_get_constraintdef(k.oid)
      FROM pg_catalog.pg_constraint AS k
     WHERE k.connamespace = 'credits'::regnamespace AND k.contype = 'c'
       AND k.conname IN ('services_cancel_window_check', 'services_late_cancel_share_check',
                         'packages_membership_period_check', 'packages_credits_or_membership',
                         'packages_membership_has_no_expiry', 'batches_open_while_spendable',
                         'batches_held_within_remaining', 'sales_batch_or_membership',
                         'holds_accounted', 'holds_closed_when_not_open',
                         'memberships_period', 'memberships_ended_within')
$$, $$ VALUES
    ('credits.services', 'services_cancel_window_check',
     'CHECK ((cancel_window >= ''00:00:00''::interval))'),
    ('credits.services', 'services_late_cancel_share_check',
     'CHECK (((late_cancel_share >= (0)::numeric) AND (late_cancel_share <= (1)::numeric)))'),
    ('credits.packages', 'packages_membership_period_check',
     'CHECK ((membership_period > ''00:00:00''::interval))'),
    ('credits.packages', 'packages_credits_or_membership',
     'CHECK (((credits IS NULL) = (membership_period IS NOT NULL)))'),
    ('credits.packages', 'packages_membership_has_no_expiry',
     'CHECK (((membership_period IS NULL) OR ((expires_after IS NULL) AND (NOT permanent))))'),
    ('credits.batches', 'batches_open_while_spendable',
     'CHECK ((is_open = (remaining > held)))'),
    ('credits.batches', 'batches_held_within_remaining',
     'CHECK (((held >= (0)::numeric) AND (held <= remaining)))'),
    ('credits.sales', 'sales_batch_or_membership',
     'CHECK (((batch_id IS NULL) <> (membership_id IS NULL)))'),
    ('credits.holds', 'holds_accounted',
     'CHECK (((captured + released) <= amount))'),
    ('credits.holds', 'holds_closed_when_not_open',
     'CHECK (((status = ''open''::credits.hold_status) = (closed_at IS NULL)))'),
    ('credits.memberships', 'memberships_period',
     'CHECK ((ends_at > starts_at))'),
    ('credits.memberships', 'memberships_ended_within',
     'CHECK (((ended_at IS NULL) OR ((ended_at >= starts_at) AND (ended_at < ends_at))))')
$$, 'the twelve named CHECK constraints of 1.1, with their definitions');

------------------------------------------------------------------------------
-- Types
------------------------------------------------------------------------------

SELECT types_are('credits', ARRAY[
    'entry_kind', 'batch_source', 'operation_kind',
    'allocation', 'redemption', 'ledger_problem',
    'refund', 'hold', 'hold_status', 'cancellation_rule', 'cancellation'
]);

SELECT has_enum('credits', 'entry_kind', 'enum credits.entry_kind exists');
SELECT has_enum('credits', 'batch_source', 'enum credits.batch_source exists');
SELECT has_enum('credits', 'operation_kind', 'enum credits.operation_kind exists');
SELECT has_enum('credits', 'hold_status', 'enum credits.hold_status exists');
SELECT has_enum('credits', 'cancellation_rule', 'enum credits.cancellation_rule exists');
-- labels in order: 1.1 appends its labels after those of 1.0
SELECT enum_has_labels('credits', 'entry_kind', ARRAY['grant', 'redeem', 'expire', 'refund', 'void']);
SELECT enum_has_labels('credits', 'batch_source', ARRAY['purchase', 'subscription', 'manual', 'refund']);
SELECT enum_has_labels('credits', 'operation_kind',
    ARRAY['grant_package', 'grant_credits', 'redeem_credits', 'redeem_service', 'expire_batches',
          'hold_credits', 'hold_service', 'capture_hold', 'release_hold', 'release_expired_holds',
          'refund_redemption', 'refund_as_credits', 'void_batch', 'cancel_booking', 'end_membership']);
SELECT enum_has_labels('credits', 'hold_status', ARRAY['open', 'captured', 'released']);
SELECT enum_has_labels('credits', 'cancellation_rule', ARRAY['full_refund', 'late_cancellation', 'no_show']);

SELECT has_composite('credits', 'allocation', 'composite type credits.allocation exists');
SELECT has_composite('credits', 'redemption', 'composite type credits.redemption exists');
SELECT has_composite('credits', 'ledger_problem', 'composite type credits.ledger_problem exists');
SELECT has_composite('credits', 'refund', 'composite type credits.refund exists');
SELECT has_composite('credits', 'hold', 'composite type credits.hold exists');
SELECT has_composite('credits', 'cancellation', 'composite type credits.cancellation exists');

-- Columns of the composites, in order: the C code builds redemption,
-- refund, hold, cancellation and allocation values by position.
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
              ('balance_after', 'numeric'), ('allocations', 'credits.allocation[]'),
              ('membership_id', 'bigint') $$,
   'credits.redemption has (operation_id bigint, amount numeric, balance_after numeric, allocations credits.allocation[], membership_id bigint)');

SELECT results_eq($$
    SELECT a.attname::text COLLATE "default", pg_catalog.format_type(a.atttypid, a.atttypmod)
      FROM pg_catalog.pg_attribute AS a
     WHERE a.attrelid = 'credits.refund'::regclass AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attnum
$$, $$ VALUES ('operation_id', 'bigint'), ('amount', 'numeric'),
              ('balance_after', 'numeric'), ('allocations', 'credits.allocation[]') $$,
   'credits.refund has (operation_id bigint, amount numeric, balance_after numeric, allocations credits.allocation[])');

SELECT results_eq($$
    SELECT a.attname::text COLLATE "default", pg_catalog.format_type(a.atttypid, a.atttypmod)
      FROM pg_catalog.pg_attribute AS a
     WHERE a.attrelid = 'credits.hold'::regclass AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attnum
$$, $$ VALUES ('hold_id', 'bigint'), ('amount', 'numeric'),
              ('hold_until', 'timestamp with time zone'), ('allocations', 'credits.allocation[]'),
              ('membership_id', 'bigint') $$,
   'credits.hold has (hold_id bigint, amount numeric, hold_until timestamptz, allocations credits.allocation[], membership_id bigint)');

SELECT results_eq($$
    SELECT a.attname::text COLLATE "default", pg_catalog.format_type(a.atttypid, a.atttypmod)
      FROM pg_catalog.pg_attribute AS a
     WHERE a.attrelid = 'credits.cancellation'::regclass AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attnum
$$, $$ VALUES ('operation_id', 'bigint'), ('rule', 'credits.cancellation_rule'),
              ('returned', 'numeric'), ('kept', 'numeric') $$,
   'credits.cancellation has (operation_id bigint, rule credits.cancellation_rule, returned numeric, kept numeric)');

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
    'unschedule_expiry',
    'hold_credits', 'hold_service', 'capture_hold', 'release_hold',
    'release_expired_holds', 'refund_redemption', 'cancel_booking',
    'refund_as_credits', 'void_batch', 'has_access', 'end_membership',
    'account_memberships', 'account_holds'
]);

-- the upgrade script's temporary helper is dropped before it ends
SELECT hasnt_function('credits', 'restore_grants',
    'the upgrade helper credits.restore_grants does not exist after install');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc AS p
     WHERE p.proname = 'restore_grants'
$$, 'no routine named restore_grants exists in any schema');

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
SELECT has_function('credits', 'hold_credits',
    ARRAY['bigint', 'numeric', 'text', 'bigint', 'timestamp with time zone', 'text', 'text']);
SELECT has_function('credits', 'hold_service',
    ARRAY['bigint', 'bigint', 'integer', 'timestamp with time zone', 'text', 'text']);
SELECT has_function('credits', 'capture_hold', ARRAY['bigint', 'bigint', 'numeric', 'text']);
SELECT has_function('credits', 'release_hold', ARRAY['bigint', 'bigint']);
SELECT has_function('credits', 'release_expired_holds', ARRAY['integer']);
SELECT has_function('credits', 'refund_redemption', ARRAY['bigint', 'bigint', 'numeric', 'text', 'text']);
SELECT has_function('credits', 'cancel_booking',
    ARRAY['bigint', 'bigint', 'timestamp with time zone', 'timestamp with time zone']);
SELECT has_function('credits', 'refund_as_credits', ARRAY['bigint', 'numeric', 'text', 'text', 'text']);
SELECT has_function('credits', 'void_batch', ARRAY['bigint', 'bigint', 'text']);
SELECT has_function('credits', 'has_access', ARRAY['bigint', 'bigint', 'timestamp with time zone']);
SELECT has_function('credits', 'end_membership', ARRAY['bigint', 'bigint', 'timestamp with time zone']);
SELECT has_function('credits', 'account_memberships', ARRAY['bigint']);
SELECT has_function('credits', 'account_holds', ARRAY['bigint']);

-- the argument names callers may pass by name, with their defaults
SELECT results_eq($$
    SELECT p.proname::text COLLATE "default", pg_catalog.pg_get_function_arguments(p.oid)
      FROM pg_catalog.pg_proc AS p
     WHERE p.pronamespace = 'credits'::regnamespace
       AND p.proname IN ('hold_credits', 'hold_service', 'capture_hold', 'release_hold',
                         'release_expired_holds', 'refund_redemption', 'cancel_booking',
                         'refund_as_credits', 'void_batch', 'has_access', 'end_membership',
                         'account_memberships', 'account_holds')
     ORDER BY 1
$$, $$ VALUES
    ('account_holds', 'account_id bigint'),
    ('account_memberships', 'account_id bigint'),
    ('cancel_booking', 'account_id bigint, operation_or_hold_id bigint, starts_at timestamp with time zone, '
                       'cancelled_at timestamp with time zone DEFAULT now()'),
    ('capture_hold', 'account_id bigint, hold_id bigint, amount numeric DEFAULT NULL::numeric, '
                     'idempotency_key text DEFAULT NULL::text'),
    ('end_membership', 'account_id bigint, membership_id bigint, ended_at timestamp with time zone DEFAULT now()'),
    ('has_access', 'account_id bigint, service_id bigint, at timestamp with time zone DEFAULT now()'),
    ('hold_credits', 'account_id bigint, amount numeric, credit_type text DEFAULT ''credit''::text, '
                     'service_id bigint DEFAULT NULL::bigint, hold_until timestamp with time zone DEFAULT NULL::timestamp with time zone, '
                     'reference text DEFAULT NULL::text, idempotency_key text DEFAULT NULL::text'),
    ('hold_service', 'account_id bigint, service_id bigint, quantity integer DEFAULT 1, '
                     'hold_until timestamp with time zone DEFAULT NULL::timestamp with time zone, '
                     'reference text DEFAULT NULL::text, idempotency_key text DEFAULT NULL::text'),
    ('refund_as_credits', 'account_id bigint, amount numeric, reason text, credit_type text DEFAULT ''credit''::text, '
                          'idempotency_key text DEFAULT NULL::text'),
    ('refund_redemption', 'account_id bigint, operation_id bigint, amount numeric DEFAULT NULL::numeric, '
                          'reason text DEFAULT NULL::text, idempotency_key text DEFAULT NULL::text'),
    ('release_expired_holds', 'max_holds integer DEFAULT 10000'),
    ('release_hold', 'account_id bigint, hold_id bigint'),
    ('void_batch', 'account_id bigint, batch_id bigint, reason text')
$$, 'the 1.1 functions take their documented arguments, names and defaults');

SELECT is_procedure('credits', 'run_expiry', ARRAY['integer'], 'credits.run_expiry(integer) is a procedure');
SELECT isnt_procedure('credits', 'expire_batches', ARRAY['integer'], 'credits.expire_batches(integer) is a function');
-- run_expiry is the only procedure
SELECT results_eq($$
    SELECT p.proname::text COLLATE "default" FROM pg_catalog.pg_proc AS p
     WHERE p.pronamespace = 'credits'::regnamespace AND p.prokind <> 'f'
$$, $$ VALUES ('run_expiry') $$, 'run_expiry is the only routine of credits that is not a plain function');

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
SELECT function_returns('credits', 'hold_credits',
    ARRAY['bigint', 'numeric', 'text', 'bigint', 'timestamp with time zone', 'text', 'text'], 'credits.hold');
SELECT function_returns('credits', 'hold_service',
    ARRAY['bigint', 'bigint', 'integer', 'timestamp with time zone', 'text', 'text'], 'credits.hold');
SELECT function_returns('credits', 'capture_hold', ARRAY['bigint', 'bigint', 'numeric', 'text'], 'credits.redemption');
SELECT function_returns('credits', 'release_hold', ARRAY['bigint', 'bigint'], 'numeric');
SELECT function_returns('credits', 'release_expired_holds', ARRAY['integer'], 'bigint');
SELECT function_returns('credits', 'refund_redemption',
    ARRAY['bigint', 'bigint', 'numeric', 'text', 'text'], 'credits.refund');
SELECT function_returns('credits', 'cancel_booking',
    ARRAY['bigint', 'bigint', 'timestamp with time zone', 'timestamp with time zone'], 'credits.cancellation');
SELECT function_returns('credits', 'refund_as_credits', ARRAY['bigint', 'numeric', 'text', 'text', 'text'], 'bigint');
SELECT function_returns('credits', 'void_batch', ARRAY['bigint', 'bigint', 'text'], 'numeric');
SELECT function_returns('credits', 'has_access', ARRAY['bigint', 'bigint', 'timestamp with time zone'], 'boolean');
SELECT function_returns('credits', 'end_membership',
    ARRAY['bigint', 'bigint', 'timestamp with time zone'], 'timestamp with time zone');
SELECT function_returns('credits', 'account_memberships', ARRAY['bigint'], 'setof record');
SELECT function_returns('credits', 'account_holds', ARRAY['bigint'], 'setof record');

-- the result columns of the four RETURNS TABLE functions (account_batches
-- gains held in 1.1)
SELECT is(pg_catalog.pg_get_function_result('credits.account_batches(bigint)'::regprocedure),
    'TABLE(batch_id bigint, credit_type text, source credits.batch_source, package_id bigint, '
    'package_name text, amount numeric, remaining numeric, held numeric, valid_from timestamp with time zone, '
    'expires_at timestamp with time zone, service_ids bigint[], spendable_now boolean)',
    'credits.account_batches returns its documented columns, with held');
SELECT is(pg_catalog.pg_get_function_result('credits.account_history(bigint, integer, bigint)'::regprocedure),
    'TABLE(operation_id bigint, entry_no integer, created_at timestamp with time zone, '
    'kind credits.entry_kind, credit_type text, batch_id bigint, delta numeric, balance_after numeric, '
    'package_id bigint, package_name text, service_id bigint, reference text)',
    'credits.account_history returns its documented columns');
SELECT is(pg_catalog.pg_get_function_result('credits.account_memberships(bigint)'::regprocedure),
    'TABLE(membership_id bigint, package_id bigint, package_name text, '
    'starts_at timestamp with time zone, ends_at timestamp with time zone, ended_at timestamp with time zone, '
    'service_ids bigint[], active_now boolean, visits bigint)',
    'credits.account_memberships returns its documented columns');
SELECT is(pg_catalog.pg_get_function_result('credits.account_holds(bigint)'::regprocedure),
    'TABLE(hold_id bigint, status credits.hold_status, credit_type text, service_id bigint, '
    'amount numeric, captured numeric, released numeric, hold_until timestamp with time zone, '
    'membership_id bigint, reference text, created_at timestamp with time zone, closed_at timestamp with time zone)',
    'credits.account_holds returns its documented columns');

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
SELECT is_definer('credits', 'hold_credits',
    ARRAY['bigint', 'numeric', 'text', 'bigint', 'timestamp with time zone', 'text', 'text']);
SELECT is_definer('credits', 'hold_service',
    ARRAY['bigint', 'bigint', 'integer', 'timestamp with time zone', 'text', 'text']);
SELECT is_definer('credits', 'capture_hold', ARRAY['bigint', 'bigint', 'numeric', 'text']);
SELECT is_definer('credits', 'release_hold', ARRAY['bigint', 'bigint']);
SELECT is_definer('credits', 'release_expired_holds', ARRAY['integer']);
SELECT is_definer('credits', 'refund_redemption', ARRAY['bigint', 'bigint', 'numeric', 'text', 'text']);
SELECT is_definer('credits', 'cancel_booking',
    ARRAY['bigint', 'bigint', 'timestamp with time zone', 'timestamp with time zone']);
SELECT is_definer('credits', 'refund_as_credits', ARRAY['bigint', 'numeric', 'text', 'text', 'text']);
SELECT is_definer('credits', 'void_batch', ARRAY['bigint', 'bigint', 'text']);
SELECT is_definer('credits', 'has_access', ARRAY['bigint', 'bigint', 'timestamp with time zone']);
SELECT is_definer('credits', 'end_membership', ARRAY['bigint', 'bigint', 'timestamp with time zone']);
SELECT is_definer('credits', 'account_memberships', ARRAY['bigint']);
SELECT is_definer('credits', 'account_holds', ARRAY['bigint']);
-- The pg_cron helpers and the procedure run as the caller: schedule_expiry
-- and unschedule_expiry act on the caller's own pg_cron jobs, and run_expiry
-- only calls expire_batches, which is SECURITY DEFINER itself.
SELECT isnt_definer('credits', 'schedule_expiry', ARRAY['text']);
SELECT isnt_definer('credits', 'unschedule_expiry', ARRAY[]::name[]);
SELECT isnt_definer('credits', 'run_expiry', ARRAY['integer']);
SELECT results_eq($$
    SELECT p.proname::text COLLATE "default" FROM pg_catalog.pg_proc AS p
     WHERE p.pronamespace = 'credits'::regnamespace AND NOT p.prosecdef
     ORDER BY 1
$$, $$ VALUES ('run_expiry'), ('schedule_expiry'), ('unschedule_expiry') $$,
   'every routine of credits is SECURITY DEFINER except run_expiry, schedule_expiry and unschedule_expiry');

-- the write paths are VOLATILE, the reads STABLE
SELECT volatility_is('credits', 'grant_package', ARRAY['bigint', 'bigint', 'text', 'text', 'timestamp with time zone'], 'volatile');
SELECT volatility_is('credits', 'redeem_credits', ARRAY['bigint', 'numeric', 'text', 'bigint', 'text', 'text'], 'volatile');
SELECT volatility_is('credits', 'balance', ARRAY['bigint', 'text', 'bigint'], 'stable');
SELECT volatility_is('credits', 'can_redeem', ARRAY['bigint', 'bigint', 'integer'], 'stable');
SELECT volatility_is('credits', 'capture_hold', ARRAY['bigint', 'bigint', 'numeric', 'text'], 'volatile');
SELECT volatility_is('credits', 'has_access', ARRAY['bigint', 'bigint', 'timestamp with time zone'], 'stable');
SELECT results_eq($$
    SELECT p.proname::text COLLATE "default" FROM pg_catalog.pg_proc AS p
     WHERE p.pronamespace = 'credits'::regnamespace AND p.provolatile = 's'
     ORDER BY 1
$$, $$ VALUES ('account_batches'), ('account_history'), ('account_holds'), ('account_memberships'),
              ('balance'), ('can_redeem'), ('has_access'), ('verify_ledger') $$,
   'the eight reads are STABLE');
SELECT is_empty($$
    SELECT p.proname FROM pg_catalog.pg_proc AS p
     WHERE p.pronamespace = 'credits'::regnamespace AND p.provolatile = 'i'
$$, 'no routine of credits is IMMUTABLE (the rest are VOLATILE)');

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
          25, 'the twenty-five functions have the fixed search_path');

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

SELECT has_index('credits', 'batches', 'batches_held_idx', ARRAY['account_id']);
SELECT is(pg_catalog.pg_get_expr(i.indpred, i.indrelid), '(held > (0)::numeric)',
          'batches_held_idx is partial: WHERE held > 0')
  FROM pg_catalog.pg_index AS i WHERE i.indexrelid = 'credits.batches_held_idx'::regclass;

SELECT has_index('credits', 'operations', 'operations_refund_of_idx', ARRAY['account_id', 'refund_of']);
SELECT is(pg_catalog.pg_get_expr(i.indpred, i.indrelid), '(refund_of IS NOT NULL)',
          'operations_refund_of_idx is partial: WHERE refund_of IS NOT NULL')
  FROM pg_catalog.pg_index AS i WHERE i.indexrelid = 'credits.operations_refund_of_idx'::regclass;

SELECT has_index('credits', 'holds', 'holds_due_idx', ARRAY['hold_until']);
SELECT is(pg_catalog.pg_get_expr(i.indpred, i.indrelid),
          '((status = ''open''::credits.hold_status) AND (hold_until IS NOT NULL))',
          'holds_due_idx is partial: WHERE status = open AND hold_until IS NOT NULL')
  FROM pg_catalog.pg_index AS i WHERE i.indexrelid = 'credits.holds_due_idx'::regclass;

SELECT has_index('credits', 'memberships', 'memberships_by_package_idx',
    ARRAY['account_id', 'package_id', 'ends_at']);
SELECT is((SELECT i.indpred FROM pg_catalog.pg_index AS i
            WHERE i.indexrelid = 'credits.memberships_by_package_idx'::regclass)::text,
          NULL, 'memberships_by_package_idx is not partial');

SELECT index_is_unique('credits', 'operations', 'operations_idempotency_key_idx');
-- none of the new indexes is unique; cancellations_once is the one new UNIQUE
SELECT is_empty($$
    SELECT c.relname FROM pg_catalog.pg_index AS i
      JOIN pg_catalog.pg_class AS c ON c.oid = i.indexrelid
     WHERE c.relname IN ('batches_held_idx', 'operations_refund_of_idx',
                         'holds_due_idx', 'memberships_by_package_idx')
       AND i.indisunique
$$, 'the four new indexes are not unique');

-- every index of the schema, so that an unplanned one shows up
SELECT set_eq($$
    SELECT c.relname::text COLLATE "default" FROM pg_catalog.pg_class AS c
     WHERE c.relnamespace = 'credits'::regnamespace AND c.relkind = 'i'
$$, ARRAY[
    'credit_types_pkey', 'services_pkey', 'packages_pkey', 'accounts_pkey',
    'batches_pkey', 'account_totals_pkey', 'operations_pkey', 'ledger_pkey', 'sales_pkey',
    'holds_pkey', 'hold_allocations_pkey', 'memberships_pkey', 'membership_visits_pkey',
    'cancellations_pkey', 'cancellations_once',
    'batches_spendable_idx', 'batches_due_idx', 'batches_held_idx',
    'operations_idempotency_key_idx', 'operations_refund_of_idx',
    'holds_due_idx', 'memberships_by_package_idx'
], 'schema credits has exactly its 22 indexes (14 primary keys, 1 unique constraint, 7 others)');

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
    ('operation_id_seq', ''), ('ledger', ''), ('sales', ''),
    ('holds', ''), ('hold_allocations', ''), ('memberships', ''), ('membership_visits', ''),
    ('cancellations', '')
$$, 'extconfig holds exactly the seventeen relations, with the filter on credit_types');

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
SELECT is((SELECT pg_catalog.count(*)::int FROM documented_objects), 14 + 11 + 26,
    'the comment check covered 14 tables, 11 types and 26 routines');
-- the comments 1.1 changed describe 1.1
SELECT matches(pg_catalog.obj_description('credits.entry_kind'::regtype, 'pg_type'), 'refund.*void',
    'the comment on credits.entry_kind describes refund and void');
SELECT matches(pg_catalog.obj_description('credits.redemption'::regtype, 'pg_type'), 'membership',
    'the comment on credits.redemption describes membership_id');
SELECT matches(pg_catalog.obj_description('credits.account_batches(bigint)'::regprocedure, 'pg_proc'), 'held',
    'the comment on credits.account_batches describes held amounts');
SELECT matches(pg_catalog.obj_description('credits.run_expiry(integer)'::regprocedure, 'pg_proc'), 'holds',
    'the comment on credits.run_expiry describes releasing holds');
-- the policy columns are documented too
SELECT is_empty($$
    SELECT a.attrelid::regclass::text, a.attname
      FROM pg_catalog.pg_attribute AS a
     WHERE (a.attrelid, a.attname) IN (('credits.services'::regclass, 'cancel_window'),
                                       ('credits.services'::regclass, 'late_cancel_share'),
                                       ('credits.packages'::regclass, 'membership_period'),
                                       ('credits.batches'::regclass, 'held'),
                                       ('credits.operations'::regclass, 'refund_of'))
       AND COALESCE(pg_catalog.col_description(a.attrelid, a.attnum), '') = ''
$$, 'the columns 1.1 documents (cancel_window, late_cancel_share, membership_period, held, refund_of) have comments');

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
-- the checks above are not vacuous: they cover the 1.1 objects
SELECT is((SELECT pg_catalog.count(*)::int FROM pg_catalog.pg_type AS t
            WHERE t.typnamespace = 'credits'::regnamespace
              AND t.typtype IN ('e', 'c')
              AND (t.typrelid = 0 OR (SELECT c.relkind FROM pg_catalog.pg_class AS c
                                       WHERE c.oid = t.typrelid) = 'c')),
          11, 'the type check covered 11 enums and composites');
SELECT is((SELECT pg_catalog.count(*)::int FROM pg_catalog.pg_proc AS p
            WHERE p.pronamespace = 'credits'::regnamespace),
          26, 'the routine checks covered 26 routines');
SELECT ok(NOT pg_catalog.has_type_privilege('public', 'credits.hold', 'USAGE')
          AND NOT pg_catalog.has_type_privilege('public', 'credits.refund', 'USAGE')
          AND NOT pg_catalog.has_type_privilege('public', 'credits.hold_status', 'USAGE')
          AND NOT pg_catalog.has_type_privilege('public', 'credits.cancellation_rule', 'USAGE')
          AND NOT pg_catalog.has_type_privilege('public', 'credits.cancellation', 'USAGE'),
    'PUBLIC has no USAGE on the five types of 1.1');
SELECT ok(NOT pg_catalog.has_table_privilege('public', 'credits.holds', 'SELECT')
          AND NOT pg_catalog.has_table_privilege('public', 'credits.hold_allocations', 'SELECT')
          AND NOT pg_catalog.has_table_privilege('public', 'credits.memberships', 'SELECT')
          AND NOT pg_catalog.has_table_privilege('public', 'credits.membership_visits', 'SELECT')
          AND NOT pg_catalog.has_table_privilege('public', 'credits.cancellations', 'SELECT'),
    'PUBLIC cannot read the five tables of 1.1');
-- the routines 1.1 drops and creates again start with PUBLIC's default
-- EXECUTE; the upgrade revokes it
SELECT ok(NOT pg_catalog.has_function_privilege('public', 'credits.account_batches(bigint)', 'EXECUTE')
          AND NOT pg_catalog.has_function_privilege('public', 'credits.verify_ledger(bigint)', 'EXECUTE')
          AND NOT pg_catalog.has_function_privilege('public', 'credits.run_expiry(integer)', 'EXECUTE'),
    'PUBLIC cannot execute account_batches, verify_ledger or run_expiry, created again by 1.1');

SELECT * FROM finish();
ROLLBACK;
