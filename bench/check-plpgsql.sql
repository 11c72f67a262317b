-- bench/check-plpgsql.sql: shows that the PL/pgSQL baseline (bench/plpgsql.sql)
-- keeps the books exactly as the C functions do.
--
--   psql -X -v ON_ERROR_STOP=1 -d scratch -f bench/check-plpgsql.sql
--
-- In a scratch database (it creates the extension and loads bench/plpgsql.sql
-- if needed), one transaction runs the same sequence of calls through the C
-- functions (schema credits) on account 1 and through bench_plpgsql on
-- account 2, step by step, each call in an exception block: grants of
-- packages with staggered expiries (one service-restricted, one on the
-- default expiry, one permanent, one in the past in Europe/Berlin local
-- time, one not valid yet), retried and conflicting idempotency keys,
-- multi-batch redemptions, an insufficient redemption, holds and partial
-- captures (from a batch that expired while held, and from a voided one),
-- and every argument error the baseline checks.  Accounts 11/12 (credits
-- restricted to another service) and 21/22 (not a member) cover CR007 and
-- CR009.  Calls that are not in the baseline (grant_credits, void_batch)
-- set the scene the same way on both accounts through the C functions.
--
-- It then prints both accounts side by side and compares every row they
-- own, with ids replaced by per-account ordinals and timestamps of the
-- wall clock (created_at, closed_at, sold_at) left out: batches, ledger
-- rows, running totals, operations (request texts included), sales, holds
-- and hold allocations, plus each call's result or error (SQLSTATE,
-- message, detail, hint).  It raises an error on any difference or if
-- credits.verify_ledger() finds a problem, and otherwise ends with the line
-- "plpgsql baseline matches the C functions".  Everything is rolled back.
\set ON_ERROR_STOP on
\set QUIET on
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS credits;
\ir plpgsql.sql
SET client_min_messages = notice;
\pset footer off

BEGIN;
SET LOCAL timezone = 'UTC';
SET LOCAL datestyle = 'ISO, YMD';
SET LOCAL credits.default_expiry = '60 days';

DO $$
BEGIN
    IF EXISTS (SELECT FROM credits.accounts WHERE account_id IN (1, 2, 11, 12, 21, 22, 9999))
       OR EXISTS (SELECT FROM credits.packages WHERE package_id BETWEEN 901 AND 908)
       OR EXISTS (SELECT FROM credits.services WHERE service_id BETWEEN 901 AND 904) THEN
        RAISE EXCEPTION 'check-plpgsql.sql needs a scratch database: accounts 1, 2, 11, 12, 21, 22, 9999, packages 901..908 and services 901..904 must not exist';
    END IF;
END
$$;

------------------------------------------------------------------------------
-- Catalogue
------------------------------------------------------------------------------

INSERT INTO credits.credit_types (credit_type) VALUES ('bonus') ON CONFLICT DO NOTHING;
INSERT INTO credits.services (service_id, name, credit_cost, accepts_credits, credit_type) VALUES
    (901, 'Yoga', 2, true, 'credit'),
    (902, 'Sauna', 1, false, 'credit'),
    (903, 'Bonus class', 1, true, 'bonus'),
    (904, 'Pilates', 1, true, 'credit');
INSERT INTO credits.packages (package_id, name, credits, price, currency, country, expires_after,
                              permanent, service_ids, active) VALUES
    (901, '10 for 30 days', 10, 90, 'EUR', 'DE', '30 days', false, NULL, true),
    (902, '20 for 90 days', 20, 170, 'EUR', NULL, '90 days', false, NULL, true),
    (903, '15, default expiry', 15, 130, 'EUR', NULL, NULL, false, NULL, true),
    (904, '50 forever', 50, 400, 'USD', 'US', NULL, true, NULL, true),
    (905, '10 yoga, 45 days', 10, 80, 'EUR', NULL, '45 days', false, '{901}', true),
    (906, '8 for a month', 8, 60, 'EUR', NULL, '1 month', false, NULL, true),
    (907, 'retired', 5, 40, 'EUR', NULL, '30 days', false, NULL, false),
    (908, '5 for 30 days, empty list', 5, 45, 'EUR', NULL, '30 days', false, '{}', true);

------------------------------------------------------------------------------
-- Helpers: results with ids replaced by per-account ordinals
------------------------------------------------------------------------------

CREATE TEMP TABLE kept (account_id bigint, name text, id bigint, PRIMARY KEY (account_id, name));
CREATE TEMP TABLE outcomes (step integer, impl text, call text, outcome text, PRIMARY KEY (step, impl));

CREATE FUNCTION pg_temp.batch_no(acct bigint, id bigint) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM credits.batches AS b WHERE b.account_id = acct AND b.batch_id <= id
$$;
CREATE FUNCTION pg_temp.op_no(acct bigint, id bigint) RETURNS bigint LANGUAGE sql AS $$
    SELECT CASE WHEN id IS NOT NULL THEN
        (SELECT count(*) FROM credits.operations AS o WHERE o.account_id = acct AND o.operation_id <= id) END
$$;
CREATE FUNCTION pg_temp.allocs(acct bigint, a credits.allocation[]) RETURNS text LANGUAGE sql AS $$
    SELECT '[' || COALESCE(string_agg(format('batch#%s:%s@%s', pg_temp.batch_no(acct, e.batch_id),
                                             e.amount, e.expires_at), ', ' ORDER BY e.n), '') || ']'
      FROM unnest(a) WITH ORDINALITY AS e(batch_id, amount, expires_at, n)
$$;
CREATE FUNCTION pg_temp.r(acct bigint, x credits.redemption) RETURNS text LANGUAGE sql AS $$
    SELECT format('op#%s amount=%s balance_after=%s membership=%s %s',
                  pg_temp.op_no(acct, x.operation_id), x.amount, x.balance_after,
                  x.membership_id, pg_temp.allocs(acct, x.allocations))
$$;
CREATE FUNCTION pg_temp.h(acct bigint, x credits.hold) RETURNS text LANGUAGE sql AS $$
    SELECT format('hold op#%s amount=%s until=%s membership=%s %s',
                  pg_temp.op_no(acct, x.hold_id), x.amount, x.hold_until,
                  x.membership_id, pg_temp.allocs(acct, x.allocations))
$$;
CREATE FUNCTION pg_temp.b(acct bigint, id bigint) RETURNS text LANGUAGE sql AS $$
    SELECT 'batch#' || pg_temp.batch_no(acct, id)
$$;
-- remembers a hold's id under a name, for later steps
CREATE FUNCTION pg_temp.keep(acct bigint, name text, x credits.hold) RETURNS credits.hold
LANGUAGE sql AS $$
    INSERT INTO kept VALUES (acct, name, x.hold_id)
        ON CONFLICT (account_id, name) DO UPDATE SET id = excluded.id;
    SELECT x;
$$;
CREATE FUNCTION pg_temp.kept(acct bigint, hold_name text) RETURNS bigint LANGUAGE sql AS $$
    SELECT k.id FROM kept AS k WHERE k.account_id = acct AND k.name = hold_name
$$;

-- Runs a step through both implementations: %1$s is the schema, %2$s the
-- account (1 for credits, 2 for bench_plpgsql), %3$s the account offset.
-- An error is caught (its writes undone) and recorded with the ids in its
-- text replaced.
CREATE PROCEDURE pg_temp.run(step integer, template text, once boolean DEFAULT false)
LANGUAGE plpgsql AS $$
DECLARE
    impl text;
    acct bigint;
    call text;
    result text;
    state text;
    message text;
    detail text;
    hint text;
BEGIN
    FOR impl, acct IN VALUES ('credits', 1), ('bench_plpgsql', 2) LOOP
        call := format(template, impl, acct, acct - 1);
        BEGIN
            EXECUTE call INTO result;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                                    detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
            result := regexp_replace(
                format('ERROR %s: %s%s%s', state, message,
                       CASE WHEN detail <> '' THEN ' DETAIL: ' || detail ELSE '' END,
                       CASE WHEN hint <> '' THEN ' HINT: ' || hint ELSE '' END),
                '(account |Account |hold |hold_id=)[0-9]+', '\1#', 'g');
        END;
        INSERT INTO outcomes VALUES (step, impl, call, result);
        EXIT WHEN once;
    END LOOP;
END
$$;

------------------------------------------------------------------------------
-- The sequence of calls
------------------------------------------------------------------------------

-- grants: the first creates the account (UTC); later ones expire in Berlin time
CALL pg_temp.run(1, $q$SELECT pg_temp.b(%2$s, %1$s.grant_package(%2$s, 901))$q$);
CALL pg_temp.run(2, $q$WITH u AS (UPDATE credits.accounts SET timezone = 'Europe/Berlin'
                                      WHERE account_id = %2$s RETURNING timezone)
                         SELECT timezone FROM u$q$);
CALL pg_temp.run(3, $q$SELECT pg_temp.b(%2$s, %1$s.grant_package(%2$s, 902, 'g2', 'pay-2'))$q$);
CALL pg_temp.run(4, $q$SELECT pg_temp.b(%2$s, %1$s.grant_package(%2$s, 903))$q$);
CALL pg_temp.run(5, $q$SELECT pg_temp.b(%2$s, %1$s.grant_package(%2$s, 904, payment_ref => 'perm'))$q$);
CALL pg_temp.run(6, $q$SELECT pg_temp.b(%2$s, %1$s.grant_package(%2$s, 905))$q$);
-- sold on 1 March 00:30 CET: one month is 1 April 00:30 CEST, long past
CALL pg_temp.run(7, $q$SELECT pg_temp.b(%2$s, %1$s.grant_package(%2$s, 906, 'g7', 'pay-7',
                                            granted_at => '2026-03-01 00:30:00.125+01'))$q$);
-- not valid before 2099
CALL pg_temp.run(8, $q$SELECT pg_temp.b(%2$s, %1$s.grant_package(%2$s, 901, granted_at => '2099-01-01 12:00:00+00'))$q$);
CALL pg_temp.run(9, $q$SELECT pg_temp.b(%2$s, %1$s.grant_package(%2$s, 908))$q$);
-- a retry returns the first batch; the key with other arguments is refused
CALL pg_temp.run(10, $q$SELECT pg_temp.b(%2$s, %1$s.grant_package(%2$s, 902, 'g2', 'pay-2'))$q$);
CALL pg_temp.run(11, $q$SELECT pg_temp.b(%2$s, %1$s.grant_package(%2$s, 902, 'g2', 'pay-other'))$q$);
CALL pg_temp.run(12, $q$SELECT pg_temp.b(%2$s, %1$s.grant_package(%2$s, 906, 'g7', 'pay-7',
                                             granted_at => '2026-03-01 00:30:00.125+01'))$q$);

-- redemptions across batches, for a service, retried, insufficient
CALL pg_temp.run(20, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, 25) AS x$q$);
CALL pg_temp.run(21, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, 4, service_id => 901,
                                             reference => 'class 1', idempotency_key => 'r2') AS x$q$);
CALL pg_temp.run(22, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, 4.00, service_id => 901,
                                             reference => 'class 1', idempotency_key => 'r2') AS x$q$);
CALL pg_temp.run(23, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, 1000) AS x$q$);
CALL pg_temp.run(24, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, 3.50, reference => 'decimal') AS x$q$);

-- a hold, retried; a redemption around it; a partial capture, retried, then closed
CALL pg_temp.run(30, $q$SELECT pg_temp.h(%2$s, pg_temp.keep(%2$s, 'h1', x)) FROM %1$s.hold_credits(%2$s, 12.5, hold_until => '2099-06-01 10:00:00.5+00',
                                               reference => 'booking 1', idempotency_key => 'h1') AS x$q$);
CALL pg_temp.run(31, $q$SELECT pg_temp.h(%2$s, x) FROM %1$s.hold_credits(%2$s, 12.50, hold_until => '2099-06-01 10:00:00.5+00',
                                             reference => 'booking 1', idempotency_key => 'h1') AS x$q$);
CALL pg_temp.run(32, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, 10) AS x$q$);
CALL pg_temp.run(33, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.capture_hold(%2$s, pg_temp.kept(%2$s, 'h1'), 7.25, 'c1') AS x$q$);
CALL pg_temp.run(34, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.capture_hold(%2$s, pg_temp.kept(%2$s, 'h1'), 7.250, 'c1') AS x$q$);
CALL pg_temp.run(35, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.capture_hold(%2$s, pg_temp.kept(%2$s, 'h1')) AS x$q$);
CALL pg_temp.run(36, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.capture_hold(%2$s, pg_temp.kept(%2$s, 'h1'), 7, 'c1') AS x$q$);

-- holds on a batch that expires while held and on one that is voided while held
-- (grant_credits and void_batch are not in the baseline: the C sets the scene)
CALL pg_temp.run(40, $q$SELECT pg_temp.b(%2$s, credits.grant_credits(%2$s, 4, expires_at => now() + interval '4 seconds',
                                                                        reference => 'short'))$q$);
CALL pg_temp.run(41, $q$SELECT pg_temp.b(%2$s, credits.grant_credits(%2$s, 5, expires_at => now() + interval '20 days',
                                                                        reference => 'to void'))$q$);
CALL pg_temp.run(42, $q$SELECT pg_temp.h(%2$s, pg_temp.keep(%2$s, 'h2', x)) FROM %1$s.hold_credits(%2$s, 6) AS x$q$);
CALL pg_temp.run(43, $q$SELECT pg_temp.h(%2$s, pg_temp.keep(%2$s, 'h3', x)) FROM %1$s.hold_credits(%2$s, 3, service_id => 901) AS x$q$);
CALL pg_temp.run(44, $q$SELECT credits.void_batch(%2$s, (SELECT max(batch_id) FROM credits.batches
                                                           WHERE account_id = %2$s AND reference = 'to void'),
                                                    'chargeback')::text$q$);
CALL pg_temp.run(45, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.capture_hold(%2$s, pg_temp.kept(%2$s, 'h3'), 1) AS x$q$);
CALL pg_temp.run(46, $q$SELECT pg_sleep(GREATEST(0, extract(epoch FROM now() + interval '4.1 seconds' - clock_timestamp())))::text$q$,
                   once => true);
CALL pg_temp.run(47, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.capture_hold(%2$s, pg_temp.kept(%2$s, 'h2'), 3) AS x$q$);
-- a full capture (amount NULL) and a hold left open
CALL pg_temp.run(48, $q$SELECT pg_temp.h(%2$s, pg_temp.keep(%2$s, 'h4', x)) FROM %1$s.hold_credits(%2$s, 2, reference => 'full') AS x$q$);
CALL pg_temp.run(49, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.capture_hold(%2$s, pg_temp.kept(%2$s, 'h4')) AS x$q$);
CALL pg_temp.run(50, $q$SELECT pg_temp.h(%2$s, pg_temp.keep(%2$s, 'h5', x)) FROM %1$s.hold_credits(%2$s, 1.5, service_id => 901) AS x$q$);

-- argument, catalogue and state errors
CALL pg_temp.run(60, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(NULL, 1) AS x$q$);
CALL pg_temp.run(61, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, NULL) AS x$q$);
CALL pg_temp.run(62, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, 1, NULL) AS x$q$);
CALL pg_temp.run(63, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, 0) AS x$q$);
CALL pg_temp.run(64, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, -1.50) AS x$q$);
CALL pg_temp.run(65, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, 'NaN') AS x$q$);
CALL pg_temp.run(66, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, 'Infinity') AS x$q$);
CALL pg_temp.run(67, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, '-Infinity') AS x$q$);
CALL pg_temp.run(68, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, 1e15) AS x$q$);
CALL pg_temp.run(69, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, 1, 'nope') AS x$q$);
CALL pg_temp.run(70, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, 1, service_id => 999) AS x$q$);
CALL pg_temp.run(71, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, 1, service_id => 902) AS x$q$);
CALL pg_temp.run(72, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, 1, service_id => 903) AS x$q$);
CALL pg_temp.run(73, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(9999, 1) AS x$q$);
CALL pg_temp.run(74, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, 5, service_id => 901,
                                             reference => 'class 1', idempotency_key => 'r2') AS x$q$);
CALL pg_temp.run(75, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.redeem_credits(%2$s, 1, 'bonus') AS x$q$);
CALL pg_temp.run(76, $q$SELECT pg_temp.b(%2$s, %1$s.grant_package(%2$s, 9999))$q$);
CALL pg_temp.run(77, $q$SELECT pg_temp.b(%2$s, %1$s.grant_package(%2$s, 907))$q$);
CALL pg_temp.run(78, $q$SELECT pg_temp.b(%2$s, %1$s.grant_package(%2$s, NULL))$q$);
CALL pg_temp.run(79, $q$SELECT pg_temp.b(%2$s, %1$s.grant_package(%2$s, 901, granted_at => 'infinity'))$q$);
CALL pg_temp.run(80, $q$SELECT pg_temp.b(%2$s, %1$s.grant_package(%2$s, 901, granted_at => NULL))$q$);
CALL pg_temp.run(81, $q$SELECT pg_temp.h(%2$s, x) FROM %1$s.hold_credits(%2$s, 1, hold_until => 'infinity') AS x$q$);
CALL pg_temp.run(82, $q$SELECT pg_temp.h(%2$s, x) FROM %1$s.hold_credits(%2$s, 10000) AS x$q$);
CALL pg_temp.run(83, $q$SELECT pg_temp.h(%2$s, x) FROM %1$s.hold_credits(%2$s, 12.5, hold_until => '2099-06-01 10:00:00.5+00',
                                             reference => 'booking 2', idempotency_key => 'h1') AS x$q$);
CALL pg_temp.run(84, $q$SELECT pg_temp.h(%2$s, x) FROM %1$s.hold_credits(%2$s, 0) AS x$q$);
CALL pg_temp.run(85, $q$SELECT pg_temp.h(%2$s, x) FROM %1$s.hold_credits(%2$s, 1, service_id => 902) AS x$q$);
CALL pg_temp.run(86, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.capture_hold(%2$s, 999999999) AS x$q$);
CALL pg_temp.run(87, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.capture_hold(%2$s, pg_temp.kept(%2$s, 'h5'), 100) AS x$q$);
CALL pg_temp.run(88, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.capture_hold(%2$s, pg_temp.kept(%2$s, 'h5'), 0) AS x$q$);
CALL pg_temp.run(89, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.capture_hold(%2$s, NULL) AS x$q$);
CALL pg_temp.run(90, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.capture_hold(9999, 1) AS x$q$);
CALL pg_temp.run(91, $q$SELECT pg_temp.r(%2$s, x) FROM %1$s.capture_hold(%2$s, pg_temp.kept(%2$s, 'h2')) AS x$q$);

-- accounts 11/12: credits only for another service (CR007 for a service, CR001 without)
CALL pg_temp.run(100, $q$SELECT pg_temp.b(%2$s + 10, %1$s.grant_package(%2$s + 10, 905))$q$);
CALL pg_temp.run(101, $q$SELECT pg_temp.r(%2$s + 10, x) FROM %1$s.redeem_credits(%2$s + 10, 1, service_id => 904) AS x$q$);
CALL pg_temp.run(102, $q$SELECT pg_temp.r(%2$s + 10, x) FROM %1$s.redeem_credits(%2$s + 10, 1) AS x$q$);
CALL pg_temp.run(103, $q$SELECT pg_temp.h(%2$s + 10, x) FROM %1$s.hold_credits(%2$s + 10, 1, service_id => 904) AS x$q$);
CALL pg_temp.run(104, $q$SELECT pg_temp.r(%2$s + 10, x) FROM %1$s.redeem_credits(%2$s + 10, 11, service_id => 901) AS x$q$);
CALL pg_temp.run(105, $q$SELECT pg_temp.r(%2$s + 10, x) FROM %1$s.redeem_credits(%2$s + 10, 10, service_id => 901) AS x$q$);

-- accounts 21/22: not a member (CR009 to spend, hold and receive; a retry still replays)
CALL pg_temp.run(110, $q$SELECT pg_temp.b(%2$s + 20, %1$s.grant_package(%2$s + 20, 901, 'k21'))$q$);
CALL pg_temp.run(111, $q$WITH u AS (UPDATE credits.accounts SET is_member = false
                                        WHERE account_id = %2$s + 20 RETURNING is_member)
                           SELECT is_member::text FROM u$q$);
CALL pg_temp.run(112, $q$SELECT pg_temp.r(%2$s + 20, x) FROM %1$s.redeem_credits(%2$s + 20, 1) AS x$q$);
CALL pg_temp.run(113, $q$SELECT pg_temp.h(%2$s + 20, x) FROM %1$s.hold_credits(%2$s + 20, 1) AS x$q$);
CALL pg_temp.run(114, $q$SELECT pg_temp.b(%2$s + 20, %1$s.grant_package(%2$s + 20, 902))$q$);
CALL pg_temp.run(115, $q$SELECT pg_temp.b(%2$s + 20, %1$s.grant_package(%2$s + 20, 901, 'k21'))$q$);

------------------------------------------------------------------------------
-- The two accounts' books, ids replaced by ordinals
------------------------------------------------------------------------------

CREATE FUNCTION pg_temp.books(acct bigint)
RETURNS TABLE (part text, n text, line text) LANGUAGE sql AS $$
    SELECT 'account', '', format('member=%s timezone=%s', a.is_member, a.timezone)
      FROM credits.accounts AS a WHERE a.account_id = acct
    UNION ALL
    SELECT 'batch', pg_temp.batch_no(acct, b.batch_id)::text,
           format('%s %s package=%s amount=%s remaining=%s held=%s open=%s valid_from=%s expires_at=%s services=%s reference=%s voided=%s op#%s',
                  b.credit_type, b.source, b.package_id, b.amount, b.remaining, b.held, b.is_open,
                  b.valid_from, b.expires_at, b.service_ids, b.reference, b.voided_at IS NOT NULL,
                  pg_temp.op_no(acct, b.operation_id))
      FROM credits.batches AS b WHERE b.account_id = acct
    UNION ALL
    SELECT 'ledger', pg_temp.op_no(acct, l.operation_id) || '.' || l.entry_no,
           format('%s batch#%s %s delta=%s balance_after=%s service=%s reference=%s',
                  l.kind, pg_temp.batch_no(acct, l.batch_id), l.credit_type, l.delta,
                  l.balance_after, l.service_id, l.reference)
      FROM credits.ledger AS l WHERE l.account_id = acct
    UNION ALL
    SELECT 'total', t.credit_type, format('total=%s', t.total)
      FROM credits.account_totals AS t WHERE t.account_id = acct
    UNION ALL
    SELECT 'operation', pg_temp.op_no(acct, o.operation_id)::text,
           format('%s key=%s request=[%s] amount=%s %s service=%s package=%s reference=%s refund_of=%s hold=op#%s membership=%s balance_after=%s',
                  o.kind, o.idempotency_key, regexp_replace(o.request, '(hold_id|batch_id)=[0-9]+', '\1=#', 'g'),
                  o.amount, o.credit_type, o.service_id, o.package_id, o.reference,
                  pg_temp.op_no(acct, o.refund_of), pg_temp.op_no(acct, o.hold_id),
                  o.membership_id, o.balance_after)
      FROM credits.operations AS o WHERE o.account_id = acct
    UNION ALL
    SELECT 'sale', pg_temp.op_no(acct, s.operation_id)::text,
           format('package=%s batch#%s credits=%s price=%s %s country=%s payment_ref=%s membership=%s',
                  s.package_id, pg_temp.batch_no(acct, s.batch_id), s.credits, s.price, s.currency,
                  s.country, s.payment_ref, s.membership_id)
      FROM credits.sales AS s WHERE s.account_id = acct
    UNION ALL
    SELECT 'hold', pg_temp.op_no(acct, h.hold_id)::text,
           format('%s %s service=%s quantity=%s amount=%s captured=%s released=%s until=%s membership=%s reference=%s closed=%s closed_by=op#%s',
                  h.status, h.credit_type, h.service_id, h.quantity, h.amount, h.captured, h.released,
                  h.hold_until, h.membership_id, h.reference, h.closed_at IS NOT NULL,
                  pg_temp.op_no(acct, h.closed_by))
      FROM credits.holds AS h WHERE h.account_id = acct
    UNION ALL
    SELECT 'hold_allocation', pg_temp.op_no(acct, a.hold_id) || '.' || a.entry_no,
           format('batch#%s amount=%s remaining=%s', pg_temp.batch_no(acct, a.batch_id), a.amount, a.remaining)
      FROM credits.hold_allocations AS a WHERE a.account_id = acct
$$;

CREATE TEMP TABLE differences AS
SELECT pairs.c_account || '/' || pairs.p_account AS pair, d.part, d.n, d.c_line, d.plpgsql_line
  FROM (VALUES (1, 2), (11, 12), (21, 22)) AS pairs(c_account, p_account)
 CROSS JOIN LATERAL (
        SELECT part, n, c.line AS c_line, p.line AS plpgsql_line
          FROM pg_temp.books(pairs.c_account) AS c
          FULL JOIN pg_temp.books(pairs.p_account) AS p USING (part, n)
         WHERE c.line IS DISTINCT FROM p.line) AS d;

------------------------------------------------------------------------------
-- The comparison
------------------------------------------------------------------------------

\echo
\echo 'Each call, through credits (account 1) and bench_plpgsql (account 2):'
SELECT c.step, regexp_replace(c.call, '\s+', ' ', 'g') AS "call (C)", c.outcome AS "outcome (C)",
       CASE WHEN p.step IS NULL THEN '(run once)'
            ELSE (c.outcome IS NOT DISTINCT FROM p.outcome)::text END AS "plpgsql same"
  FROM outcomes AS c
  LEFT JOIN outcomes AS p ON p.step = c.step AND p.impl = 'bench_plpgsql'
 WHERE c.impl = 'credits'
 ORDER BY c.step;

\echo 'Batches (C account 1 | plpgsql account 2):'
WITH b AS (
    SELECT b.account_id, row_number() OVER (PARTITION BY b.account_id ORDER BY b.batch_id) AS n,
           b.package_id, b.reference, b.expires_at, b.remaining, b.held, b.is_open
      FROM credits.batches AS b WHERE b.account_id IN (1, 2))
SELECT c.n AS "batch#", c.package_id AS package, c.reference, c.expires_at,
       c.remaining AS "C remaining", c.held AS "C held", c.is_open AS "C open",
       p.remaining AS "plpgsql remaining", p.held AS "plpgsql held", p.is_open AS "plpgsql open"
  FROM b AS c FULL JOIN b AS p ON p.n = c.n AND p.account_id = 2
 WHERE c.account_id = 1
 ORDER BY c.n;

\echo 'Ledger rows in order (C account 1 | plpgsql account 2):'
WITH l AS (
    SELECT l.account_id, row_number() OVER (PARTITION BY l.account_id ORDER BY l.operation_id, l.entry_no) AS n,
           l.kind, pg_temp.batch_no(l.account_id, l.batch_id) AS batch_no, l.delta, l.balance_after
      FROM credits.ledger AS l WHERE l.account_id IN (1, 2))
SELECT c.n AS "#", c.kind AS "C kind", c.batch_no AS "C batch#", c.delta AS "C delta",
       c.balance_after AS "C balance_after",
       p.kind AS "plpgsql kind", p.batch_no AS "plpgsql batch#", p.delta AS "plpgsql delta",
       p.balance_after AS "plpgsql balance_after"
  FROM l AS c FULL JOIN l AS p ON p.n = c.n AND p.account_id = 2
 WHERE c.account_id = 1
 ORDER BY c.n;

\echo 'Running totals:'
SELECT t.credit_type,
       max(t.total) FILTER (WHERE t.account_id = 1) AS "C total",
       max(t.total) FILTER (WHERE t.account_id = 2) AS "plpgsql total",
       (SELECT sum(b.remaining) FROM credits.batches AS b WHERE b.account_id = 2 AND b.credit_type = t.credit_type)
           AS "plpgsql batches hold"
  FROM credits.account_totals AS t WHERE t.account_id IN (1, 2)
 GROUP BY t.credit_type;

\echo 'Operations (kinds and amounts):'
WITH o AS (
    SELECT o.account_id, row_number() OVER (PARTITION BY o.account_id ORDER BY o.operation_id) AS n,
           o.kind, o.amount, o.balance_after
      FROM credits.operations AS o WHERE o.account_id IN (1, 2))
SELECT c.n AS "op#", c.kind AS "C kind", c.amount AS "C amount", c.balance_after AS "C balance_after",
       p.kind AS "plpgsql kind", p.amount AS "plpgsql amount", p.balance_after AS "plpgsql balance_after"
  FROM o AS c FULL JOIN o AS p ON p.n = c.n AND p.account_id = 2
 WHERE c.account_id = 1
 ORDER BY c.n;

\echo 'Every row of the books, compared (accounts C/plpgsql):'
SELECT pair AS accounts, part,
       count(*) FILTER (WHERE side = 'C') AS "C rows",
       count(*) FILTER (WHERE side = 'plpgsql') AS "plpgsql rows",
       (SELECT count(*) FROM differences AS d WHERE d.pair = x.pair AND d.part = x.part) AS differing
  FROM (SELECT pairs.c_account || '/' || pairs.p_account AS pair, s.side, bk.part
          FROM (VALUES (1, 2), (11, 12), (21, 22)) AS pairs(c_account, p_account),
               (VALUES ('C'), ('plpgsql')) AS s(side),
               pg_temp.books(CASE s.side WHEN 'C' THEN pairs.c_account ELSE pairs.p_account END) AS bk) AS x
 GROUP BY pair, part
 ORDER BY pair, part;

SELECT count(*) > 0 AS has_differences FROM differences \gset
\if :has_differences
\echo 'Differences:'
SELECT * FROM differences ORDER BY pair, part, n;
\endif

SELECT count(*) AS "verify_ledger() problems" FROM credits.verify_ledger();

DO $$
DECLARE
    problems text[] := '{}';
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM outcomes AS c JOIN outcomes AS p ON p.step = c.step AND p.impl = 'bench_plpgsql'
     WHERE c.impl = 'credits' AND c.outcome IS DISTINCT FROM p.outcome;
    IF n > 0 THEN
        problems := problems || format('%s calls returned something else', n);
    END IF;
    SELECT count(*) INTO n FROM outcomes AS c
     WHERE c.impl = 'credits' AND NOT EXISTS (SELECT FROM outcomes AS p WHERE p.step = c.step AND p.impl = 'bench_plpgsql')
       AND c.call NOT LIKE '%pg_sleep%';
    IF n > 0 THEN
        problems := problems || format('%s calls did not run through bench_plpgsql', n);
    END IF;
    SELECT count(*) INTO n FROM differences;
    IF n > 0 THEN
        problems := problems || format('%s rows of the books differ', n);
    END IF;
    SELECT count(*) INTO n FROM credits.verify_ledger();
    IF n > 0 THEN
        problems := problems || format('verify_ledger() found %s problems', n);
    END IF;
    -- the paths this check means to cover were covered
    IF (SELECT count(DISTINCT l.kind) FROM credits.ledger AS l WHERE l.account_id = 2) <> 4 THEN
        problems := problems || 'account 2 lacks grant, redeem, expire or void ledger rows'::text;
    END IF;
    IF (SELECT count(*) FROM outcomes WHERE impl = 'bench_plpgsql' AND outcome LIKE 'ERROR CR001%') < 3
       OR NOT EXISTS (SELECT FROM outcomes WHERE impl = 'bench_plpgsql' AND outcome LIKE 'ERROR CR010%') THEN
        problems := problems || 'the insufficient or conflicting calls did not fail as planned'::text;
    END IF;
    IF cardinality(problems) > 0 THEN
        RAISE EXCEPTION 'plpgsql baseline differs from the C functions: %', array_to_string(problems, '; ');
    END IF;
END
$$;

ROLLBACK;
\echo plpgsql baseline matches the C functions
